//! Issue #9.1: the guards work for every channel, from the field roles its spec declares.
//! Amazon's price sits in `purchasable_offer` (a bare number) and its stock in
//! `fulfillment_availability` (a quantity): an 80 % price rise and a catalog whose stock
//! reads 0 must both be stopped there, as they are for Google.

use std::path::Path;

use crate::support::{TestEnv, repo_root};

/// A generated catalog and the bundled Amazon feed (new EUR items), delivered into `out/`.
fn amazon_project() -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    let feed = std::fs::read_to_string(repo_root().join("feeds/amazon-listings.toml"))
        .expect("bundled Amazon feed")
        .replace("path = \"out/amazon\"", "path = \"out\"");
    env.write("feeds/amazon.toml", feed);
    env.generate(
        "cat",
        &["--variants", "400", "--stores", "2", "--seed", "9"],
    );
    env
}

/// Rewrites one column of a CSV file through `f`, leaving empty cells alone.
fn rewrite_column(path: &Path, column: &str, f: impl Fn(&str) -> String) {
    let mut reader = csv::Reader::from_path(path).expect("read csv");
    let header = reader.headers().expect("header").clone();
    let index = header
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let mut writer = csv::Writer::from_path(path).expect("write csv");
    writer.write_record(&header).expect("header");
    for row in rows {
        let row: csv::StringRecord = row
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if i == index && !v.is_empty() {
                    f(v)
                } else {
                    v.to_owned()
                }
            })
            .collect();
        writer.write_record(&row).expect("row");
    }
    writer.flush().expect("flush");
}

#[test]
fn an_amazon_push_with_every_price_raised_80_percent_is_stopped_by_the_price_guard() {
    let env = amazon_project();
    env.run(&["push", "--no-progress"]).expect_code(0);
    let pushed = env.files("out");
    assert!(!pushed.is_empty());
    let products = env.path("cat/products.csv");
    let original = std::fs::read(&products).expect("products");

    rewrite_column(&products, "price", |price| {
        let price: f64 = price.parse().expect("price");
        format!("{:.2}", price * 1.8)
    });
    let run = env.run(&["push", "--no-progress"]);
    run.expect_code(1);
    let stderr = run.stderr();
    assert!(stderr.contains("guard.price-change-share"), "{stderr}");
    assert!(stderr.contains("--allow-price-changes"), "{stderr}");
    assert_eq!(env.files("out"), pushed, "nothing delivered");
    // The diff ranks the moves by the role's amounts and shows the guard too.
    let diff = env.run(&["diff", "--format", "json", "--no-progress"]);
    diff.expect_code(0);
    let diff = diff.json();
    assert_eq!(
        diff["feeds"][0]["guards"][0]["code"],
        "guard.price-change-share"
    );
    std::fs::write(&products, &original).expect("restore");

    // A catalog whose stock reads 0 everywhere: Amazon's quantity is the stock role.
    rewrite_column(&env.path("cat/inventory.csv"), "quantity", |_| {
        "0".to_owned()
    });
    let run = env.run(&["push", "--no-progress"]);
    run.expect_code(1);
    let stderr = run.stderr();
    assert!(stderr.contains("guard.out-of-stock-share"), "{stderr}");
    assert_eq!(env.files("out"), pushed, "nothing delivered");
    env.run(&["push", "--no-progress", "--allow-out-of-stock"])
        .expect_code(0);
    assert_ne!(env.files("out"), pushed);
}

const BARE_SPEC: &str = r#"
[channel]
id = "bare"
name = "A channel without roles"
item_key = "id"
[formats.csv]
kind = "delimited"
[[fields]]
name = "id"
source = "sku"
type = "text"
[[fields]]
name = "cost"
source = "price"
type = "price"
price_format = "amount"
"#;

#[test]
fn a_spec_without_the_roles_its_guards_read_is_refused() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write(
        "cat/products.csv",
        "sku,title,price,currency\nA1,Mug,10.00,EUR\n",
    );
    env.write("channel-specs/bare.toml", BARE_SPEC);
    env.write(
        "feeds/bare.toml",
        "channel = \"bare\"\n[destination]\nkind = \"dir\"\npath = \"out\"\n",
    );
    let run = env.run(&["diff"]);
    run.expect_code(2);
    let stderr = run.stderr();
    for needle in [
        "feeds/bare.toml",
        "the price-change guard reads the price, but channel spec `bare` gives no field role = \"price\"",
        "max_price_change_share = 1",
        "the out-of-stock guard reads the stock",
        "the currency-change guard reads the currency",
    ] {
        assert!(stderr.contains(needle), "{needle} in {stderr}");
    }
    env.write(
        "feeds/bare.toml",
        "channel = \"bare\"\n[destination]\nkind = \"dir\"\npath = \"out\"\n\
         [guards]\nmax_price_change_share = 1\nmax_newly_out_of_stock_share = 1\n\
         allow_currency_change = true\n",
    );
    env.run(&["push", "--no-progress"]).expect_code(0);
}
