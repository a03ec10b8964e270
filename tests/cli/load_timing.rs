//! Reading the inventory before the products (export, diff, push) or alongside them
//! (validate) keeps different tables for the checks across rows; both must find the same
//! problems, and the stock handed on must be what the inventory says.

use std::collections::BTreeMap;

use omnifeed::config::Config;
use omnifeed::load::StockTiming;
use omnifeed::report::progress::Progress;
use proptest::prelude::*;

/// Findings as (rule, line, sku, message), counts, and per SKU the stock handed on.
type Loaded = (
    Vec<(String, Option<u64>, Option<String>, String)>,
    String,
    BTreeMap<String, Vec<(u16, u32)>>,
);

fn load(dir: &std::path::Path, timing: StockTiming) -> Loaded {
    let mut config = Config::load(&dir.join("absent.toml"), false, Some(dir)).expect("config");
    // Compare every finding, not only the first of each rule.
    config.findings.max_per_rule = usize::MAX;
    let mut stock = BTreeMap::new();
    let outcome = omnifeed::load::load(&config, &Progress::hidden(), timing, &mut |batch, _| {
        for item in batch {
            let levels = item
                .stock
                .iter()
                .map(|level| (level.location, level.quantity))
                .collect();
            stock.entry(item.variant.sku.to_owned()).or_insert(levels);
        }
        Ok(())
    })
    .expect("loads");
    let findings = outcome
        .findings
        .kept()
        .iter()
        .map(|f| (f.rule.to_owned(), f.line, f.sku.clone(), f.message.clone()))
        .collect();
    (findings, format!("{:?}", outcome.counts), stock)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn both_timings_find_the_same_problems(
        products in proptest::collection::vec((0u8..6, any::<bool>()), 0..12),
        inventory in proptest::collection::vec((0u8..9, 0u8..3, 0u32..50), 0..30),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut csv = String::from("sku,group_id,title,price,currency,link,image_link,color\n");
        for (sku, usd) in &products {
            let currency = if *usd { "USD" } else { "EUR" };
            csv.push_str(&format!(
                "S{sku},G{},Shirt,9.99,{currency},https://s.example.com/{sku},https://s.example.com/{sku}.jpg,c{sku}\n",
                sku % 2
            ));
        }
        std::fs::write(dir.path().join("products.csv"), csv).expect("write");
        let mut rows = String::from("sku,location_id,quantity\n");
        // SKUs 6..9 have no product row; a SKU's rows need not be together.
        for (sku, location, quantity) in &inventory {
            rows.push_str(&format!("S{sku},L{location},{quantity}\n"));
        }
        std::fs::write(dir.path().join("inventory.csv"), rows).expect("write");
        std::fs::write(
            dir.path().join("locations.csv"),
            "location_id,kind,name,store_code\nL0,warehouse,A,\nL1,store,B,b\nL2,store,C,c\n",
        )
        .expect("write");

        let (before, counts_before, stock) = load(dir.path(), StockTiming::BeforeProducts);
        let (alongside, counts_alongside, _) = load(dir.path(), StockTiming::Concurrent);
        prop_assert_eq!(&before, &alongside);
        prop_assert_eq!(counts_before, counts_alongside);

        // The first row of a SKU at a location counts; later ones are duplicates.
        let mut expected: BTreeMap<String, Vec<(u16, u32)>> = BTreeMap::new();
        for (sku, location, quantity) in &inventory {
            let levels = expected.entry(format!("S{sku}")).or_default();
            if !levels.iter().any(|(l, _)| *l == u16::from(*location)) {
                levels.push((u16::from(*location), *quantity));
            }
        }
        for (sku, levels) in &stock {
            let want = expected.get(sku).cloned().unwrap_or_default();
            prop_assert_eq!(levels, &want, "stock of {}", sku);
        }
        let unknown = before.iter().filter(|f| f.0 == "unknown-inventory-sku").count();
        let stocked_without_product = expected
            .keys()
            .filter(|sku| !products.iter().any(|(p, _)| format!("S{p}") == **sku))
            .count();
        prop_assert_eq!(unknown, stocked_without_product);
    }
}
