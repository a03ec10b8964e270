//! Where an item's stock comes from: the inventory table, the products' `stock` column, or
//! neither, and the one range both share (issue #9, points 3 and 9).

use std::collections::BTreeMap;

use crate::support::{TestEnv, dir_feed};

const PRODUCTS_HEADER: &str =
    "sku,title,description,brand,condition,price,currency,link,image_link,stock";

fn product(sku: &str, stock: &str) -> String {
    format!(
        "{sku},Shirt {sku},A soft shirt,Contoso,new,10.00,EUR,https://s.example.com/{sku},https://c.example.com/{sku}.jpg,{stock}\n"
    )
}

/// A project with a Meta CSV feed (it carries both quantity and availability) over `rows`.
fn project(config: &str, rows: &[(&str, &str)]) -> TestEnv {
    let env = TestEnv::new();
    env.write(
        "omnifeed.toml",
        format!("[catalog]\ndir = \"cat\"\n{config}"),
    );
    let mut products = format!("{PRODUCTS_HEADER}\n");
    for (sku, stock) in rows {
        products.push_str(&product(sku, stock));
    }
    env.write("cat/products.csv", products);
    env.write(
        "cat/locations.csv",
        "location_id,kind,name,store_code\nWH,warehouse,Main,\n",
    );
    env.write("feeds/meta.toml", dir_feed("meta-catalog", "csv", ""));
    env
}

/// SKU -> (quantity, availability) as the exported Meta feed says.
fn exported(env: &TestEnv) -> BTreeMap<String, (String, String)> {
    env.run(&["export", "meta"]).expect_code(0);
    let mut reader = csv::Reader::from_path(env.path("out/meta.csv")).expect("feed written");
    let header = reader.headers().expect("header").clone();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {header:?}"))
    };
    let (id, quantity, availability) = (
        at("id"),
        at("quantity_to_sell_on_facebook"),
        at("availability"),
    );
    reader
        .records()
        .map(|record| {
            let record = record.expect("record");
            (
                record[id].to_owned(),
                (record[quantity].to_owned(), record[availability].to_owned()),
            )
        })
        .collect()
}

fn entry(quantity: &str, availability: &str) -> (String, String) {
    (quantity.to_owned(), availability.to_owned())
}

/// Issue #9.3: the column was added to the inventory's quantities, so a warehouse at 0 with
/// a column of 5 went out as 5 in stock. The table's rows are the SKU's stock; the column
/// counts only for SKUs the table has no row for.
#[test]
fn r9_3_stock_column_is_the_fallback_for_skus_without_inventory_rows() {
    let env = project("", &[("A", "5"), ("B", "7"), ("C", ""), ("D", "2")]);
    env.write(
        "cat/inventory.csv",
        "sku,location_id,quantity\nA,WH,0\nD,WH,3\n",
    );
    let feed = exported(&env);
    assert_eq!(feed["A"], entry("0", "out of stock"), "{feed:?}");
    assert_eq!(feed["B"], entry("7", "in stock"), "{feed:?}");
    // In an inventory table without a row for it: none.
    assert_eq!(feed["C"], entry("0", "out of stock"), "{feed:?}");
    assert_eq!(feed["D"], entry("3", "in stock"), "{feed:?}");
}

/// Issue #9.9: with locations but no inventory file, every item went out with stock 0 and
/// `validate` said nothing.
#[test]
fn r9_9_missing_inventory_with_locations_is_an_error_unless_the_config_says_none() {
    let env = project("", &[("A", "5"), ("B", "")]);
    for command in [&["validate"][..], &["export", "meta"]] {
        let run = env.run(command);
        run.expect_code(2);
        let stderr = run.stderr();
        assert!(stderr.contains("inventory.csv"), "{stderr}");
        assert!(stderr.contains("locations.csv"), "{stderr}");
        assert!(stderr.contains("required = false"), "{stderr}");
    }
    assert!(!env.path("out/meta.csv").exists());

    // Said in the config: no inventory table, so the column rules and a SKU without one
    // sells what the catalog lists.
    let env = project(
        "[catalog.inventory]\nrequired = false\n",
        &[("A", "5"), ("B", ""), ("C", "0")],
    );
    env.run(&["validate"]).expect_code(0);
    let feed = exported(&env);
    assert_eq!(feed["A"], entry("5", "in stock"), "{feed:?}");
    assert_eq!(feed["B"].1, "in stock", "{feed:?}");
    assert_eq!(feed["C"], entry("0", "out of stock"), "{feed:?}");
}

/// Issue #9.9: a column of 9223372036854775807 passed `validate`; the column and the
/// inventory's quantities now share one range, whichever holds the number.
#[test]
fn r9_9_stock_column_and_inventory_quantities_share_one_range() {
    let env = project(
        "",
        &[
            ("A", "9223372036854775807"),
            ("B", "4294967296"),
            ("C", "4294967295"),
            ("D", ""),
            ("E", ""),
        ],
    );
    env.write(
        "cat/inventory.csv",
        "sku,location_id,quantity\nD,WH,9223372036854775807\nE,WH,4294967295\n",
    );
    let run = env.run(&["validate", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    let found: Vec<(String, String, String)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or_default().to_owned(),
                d["sku"].as_str().unwrap_or_default().to_owned(),
                d["field"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("invalid-number", "A", "stock"),
        ("invalid-number", "B", "stock"),
        ("invalid-number", "D", "quantity"),
    ]
    .map(|(rule, sku, field)| (rule.to_owned(), sku.to_owned(), field.to_owned()));
    assert_eq!(found, expected, "{report}");
    assert!(
        report["diagnostics"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 4294967295")),
        "{report}"
    );
}
