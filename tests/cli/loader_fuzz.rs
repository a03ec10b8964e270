//! No input makes the loader panic: random bytes and mangled CSV give findings or an error,
//! and every row read is either handed on or counted as left out.

use omnifeed::config::Config;
use omnifeed::report::progress::Progress;
use proptest::prelude::*;

fn load_products(bytes: &[u8], inventory: Option<&[u8]>) -> Result<usize, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::write(dir.path().join("products.csv"), bytes).map_err(|e| e.to_string())?;
    if let Some(inventory) = inventory {
        std::fs::write(dir.path().join("inventory.csv"), inventory).map_err(|e| e.to_string())?;
        std::fs::write(
            dir.path().join("locations.csv"),
            "location_id,kind,name,store_code\nWH-MAIN,warehouse,Main,\n",
        )
        .map_err(|e| e.to_string())?;
    }
    let config = Config::load(&dir.path().join("absent.toml"), false, Some(dir.path()))
        .map_err(|e| e.to_string())?;
    let mut items = 0;
    let outcome = omnifeed::load::load(
        &config,
        &Progress::hidden(),
        omnifeed::load::StockTiming::BeforeProducts,
        &mut |batch, _| {
            items += batch.len();
            Ok(())
        },
    )
    .map_err(|e| e.to_string())?;
    // Nothing is dropped silently: every product row read went to the feeds or was counted
    // as left out.
    let counts = &outcome.counts;
    if items as u64 + counts.rejected_rows != counts.product_rows {
        return Err(format!(
            "accounting broke: {items} items + {} left out != {} rows",
            counts.rejected_rows, counts.product_rows
        ));
    }
    let tally = outcome.findings.tally();
    Ok(items + (tally.errors + tally.warnings) as usize)
}

/// Whether a loader error is an ordinary one (bad input) rather than broken accounting.
fn accounted(result: &Result<usize, String>) -> bool {
    !matches!(result, Err(message) if message.starts_with("accounting broke"))
}

const VALID: &str = "sku,group_id,title,price,currency,gtin,link,sale_price,sale_start,sale_end\n\
A1,G1,Shirt,19.99,EUR,4006381333931,https://s.example.com/a,9.99,2026-11-20T00:00:00+01:00,2026-12-01T23:59:59+01:00\n\
A2,,\"Shirt, \"\"big\"\"\",5,JPY,,https://s.example.com/b,,,\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let result = load_products(&bytes, Some(&bytes));
        prop_assert!(accounted(&result), "{result:?}");
    }

    #[test]
    fn mangled_csv_never_panics(
        cut in 0usize..VALID.len(),
        flips in proptest::collection::vec((0usize..VALID.len(), any::<u8>()), 0..8),
    ) {
        let mut bytes = VALID.as_bytes()[..cut].to_vec();
        for (at, byte) in flips {
            if at < bytes.len() {
                bytes[at] = byte;
            }
        }
        let result = load_products(&bytes, Some(b"sku,location_id,quantity\nA1,WH-MAIN,x\n"));
        prop_assert!(accounted(&result), "{result:?}");
    }
}

#[test]
fn the_unmangled_sample_loads_cleanly() {
    // Guards the properties above: they must exercise a loader that actually reads rows.
    assert_eq!(load_products(VALID.as_bytes(), None), Ok(2), "{VALID}");
}

#[test]
fn an_empty_products_file_is_an_error_not_a_panic() {
    let err = load_products(b"", None).expect_err("empty file");
    assert!(err.contains("no header"), "{err}");
}
