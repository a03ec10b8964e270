//! Local inventory per store (issue #14): pickup settings from the locations table, a store's
//! own prices from the store prices table, and `[stock]` steps applied to each store.

use crate::support::{TestEnv, dir_feed};

fn rows(feed: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = feed.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split('\t')
        .map(str::to_owned)
        .collect();
    lines
        .map(|line| {
            header
                .iter()
                .cloned()
                .zip(line.split('\t').map(str::to_owned))
                .collect()
        })
        .collect()
}

fn local_env() -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write(
        "cat/products.csv",
        "sku,title,price,sale_price,currency,link,image_link\n\
         S1,Shirt,20.00,,EUR,https://s.example.com/1,https://c.example.com/1.jpg\n\
         S2,Socks,5.00,4.00,EUR,https://s.example.com/2,https://c.example.com/2.jpg\n",
    );
    env.write(
        "cat/locations.csv",
        "location_id,kind,name,store_code,pickup_method,pickup_sla\n\
         A,store,Store A,store-a,buy,same day\n\
         B,store,Store B,store-b,reserve,2-day\n\
         C,store,Store C,store-c,,\n",
    );
    env.write(
        "cat/inventory.csv",
        "sku,location_id,quantity\nS1,A,3\nS1,B,8\nS1,C,1\nS2,A,9\nS2,B,0\n",
    );
    env.write(
        "feeds/local.toml",
        dir_feed("google-local-inventory", "tsv", ""),
    );
    env
}

/// Per row: store code, id and the two named columns.
fn per_store<'r>(
    rows: &'r [std::collections::BTreeMap<String, String>],
    first: &str,
    second: &str,
) -> Vec<(&'r str, &'r str, &'r str, &'r str)> {
    rows.iter()
        .map(|r| {
            (
                r["store_code"].as_str(),
                r["id"].as_str(),
                r[first].as_str(),
                r[second].as_str(),
            )
        })
        .collect()
}

#[test]
fn pickup_settings_come_from_each_stores_row() {
    let env = local_env();
    env.run(&["export", "local"]).expect_code(0);
    let rows = rows(&env.read("out/local.tsv"));
    let pickup = per_store(&rows, "pickup_method", "pickup_sla");
    assert_eq!(
        pickup,
        [
            ("store-a", "S1", "buy", "same day"),
            ("store-b", "S1", "reserve", "2-day"),
            ("store-c", "S1", "", ""),
            ("store-a", "S2", "buy", "same day"),
            ("store-b", "S2", "reserve", "2-day"),
        ]
    );
}

#[test]
fn a_pickup_method_without_its_sla_is_an_error_naming_the_field() {
    let env = local_env();
    env.write(
        "cat/locations.csv",
        "location_id,kind,name,store_code,pickup_method,pickup_sla\n\
         A,store,Store A,store-a,buy,\n",
    );
    env.write("cat/inventory.csv", "sku,location_id,quantity\nS1,A,3\n");
    let run = env.run(&["export", "local", "--format", "json"]);
    run.expect_code(1);
    assert!(
        run.stdout().contains("pickup_sla") && run.stdout().contains("S1"),
        "{}",
        run.stdout()
    );
}

#[test]
fn a_store_price_replaces_the_online_price_in_that_store_only() {
    let env = local_env();
    env.write(
        "cat/store_prices.csv",
        "sku,location_id,currency,price,sale_price\nS1,B,EUR,18.50,\nS2,A,EUR,5.50,4.50\n",
    );
    env.run(&["export", "local"]).expect_code(0);
    let online = rows(&env.read("out/local.tsv"));
    let prices = per_store(&online, "price", "sale_price");
    assert_eq!(
        prices,
        [
            ("store-a", "S1", "20.00 EUR", ""),
            ("store-b", "S1", "18.50 EUR", ""),
            ("store-c", "S1", "20.00 EUR", ""),
            ("store-a", "S2", "5.50 EUR", "4.50 EUR"),
            // No row for B: the online price and sale.
            ("store-b", "S2", "5.00 EUR", "4.00 EUR"),
        ]
    );
    // The feed's price rule applies to a store's own prices as to the online ones.
    env.write(
        "feeds/local.toml",
        dir_feed("google-local-inventory", "tsv", "price_adjust = \"+10%\""),
    );
    env.run(&["export", "local"]).expect_code(0);
    let adjusted = rows(&env.read("out/local.tsv"));
    let prices = per_store(&adjusted, "price", "sale_price");
    assert_eq!(
        prices,
        [
            ("store-a", "S1", "22.00 EUR", ""),
            ("store-b", "S1", "20.35 EUR", ""),
            ("store-c", "S1", "22.00 EUR", ""),
            ("store-a", "S2", "6.05 EUR", "4.95 EUR"),
            ("store-b", "S2", "5.50 EUR", "4.40 EUR"),
        ]
    );
}

#[test]
fn bad_store_price_rows_are_reported_with_file_line_and_sku() {
    let env = local_env();
    env.write(
        "cat/store_prices.csv",
        "sku,location_id,currency,price,sale_price\nS1,B,EUR,18.5x,\nS1,Z,EUR,3.00,\nS2,A,EUR,5.00,6.00\n",
    );
    let run = env.run(&["validate", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    let findings = report["diagnostics"].as_array().expect("diagnostics");
    let at = |line: u64| {
        findings
            .iter()
            .find(|f| {
                f["line"] == line
                    && f["file"]
                        .as_str()
                        .is_some_and(|p| p.ends_with("store_prices.csv"))
            })
            .unwrap_or_else(|| panic!("no finding on line {line}: {report}"))
    };
    assert_eq!(at(2)["rule"], "invalid-price");
    assert_eq!(at(2)["sku"], "S1");
    assert_eq!(at(3)["rule"], "unknown-location");
    assert!(
        at(4)["message"]
            .as_str()
            .is_some_and(|m| m.contains("below the price"))
    );
}

#[test]
fn each_store_goes_through_the_feeds_stock_steps() {
    let env = local_env();
    env.write(
        "feeds/local.toml",
        dir_feed(
            "google-local-inventory",
            "tsv",
            "[stock]\nbuffer = 1\ncap = 5\n[stock.thresholds]\nin_stock = 4\nlimited_availability = 2\n",
        ),
    );
    env.run(&["export", "local"]).expect_code(0);
    let rows = rows(&env.read("out/local.tsv"));
    let stock: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_str(),
                r["quantity"].as_str(),
                r["availability"].as_str(),
            )
        })
        .collect();
    // S1: A 3-1 = 2 limited; B 8-1 = 7, cap 5, in stock; C 1-1 = 0.
    // S2: A 9-1 = 8, cap 5; B 0.
    assert_eq!(
        stock,
        [
            ("S1", "2", "limited_availability"),
            ("S1", "5", "in_stock"),
            ("S1", "0", "out_of_stock"),
            ("S2", "5", "in_stock"),
            ("S2", "0", "out_of_stock"),
        ]
    );
    let preview = env.run(&["preview", "local", "--sku", "S1"]);
    preview.expect_code(0);
    assert!(
        preview
            .stdout()
            .contains("store B: 8, buffer 1: 7, cap 5: 5 -> quantity 5, in_stock"),
        "{}",
        preview.stdout()
    );
}
