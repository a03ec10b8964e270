//! Local inventory: one record per item and store, only for stores that have a code.

use crate::support::{TestEnv, dir_feed};

#[test]
fn stores_without_a_code_are_reported_and_left_out_of_local_feeds() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write(
        "cat/products.csv",
        "sku,title,price,currency,link,image_link\nS1,Shirt,10.00,EUR,https://s.example.com/1,https://c.example.com/1.jpg\n",
    );
    env.write(
        "cat/locations.csv",
        "location_id,kind,name,store_code\nWH,warehouse,Main,\nA,store,Store A,store-a\nB,store,Store B,\n",
    );
    env.write(
        "cat/inventory.csv",
        "sku,location_id,quantity\nS1,WH,5\nS1,A,2\nS1,B,7\n",
    );
    env.write(
        "feeds/local.toml",
        dir_feed("google-local-inventory", "tsv", ""),
    );
    let validate = env.run(&["validate", "--format", "json"]);
    validate.expect_code(1);
    let report = validate.json();
    assert!(
        report["diagnostics"]
            .as_array()
            .is_some_and(|d| d.iter().any(|f| f["rule"] == "invalid-location"
                && f["message"].as_str().is_some_and(|m| m.contains("`B`")))),
        "{report}"
    );
    env.run(&["export", "local"]);
    let feed = std::fs::read_to_string(env.dir.path().join("out/local.tsv")).expect("feed written");
    let rows: Vec<&str> = feed.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "only store A gets a record: {feed}");
    assert!(rows[0].starts_with("store-a\tS1\t2\t"), "{feed}");
}

#[test]
fn two_feeds_writing_one_file_are_refused() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write(
        "cat/products.csv",
        "sku,title,price,currency,link,image_link\nS1,Shirt,10.00,EUR,https://s.example.com/1,https://c.example.com/1.jpg\n",
    );
    for name in ["a", "b"] {
        env.write(
            &format!("feeds/{name}.toml"),
            dir_feed("meta-catalog", "csv", "file = \"shared\""),
        );
    }
    let run = env.run(&["export"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("would both write"),
        "{}",
        run.stderr()
    );
    assert!(!env.dir.path().join("out/shared.csv").exists());
}

/// Store values are checked once per run when they pass as they are; a code that needs
/// cleaning and a count past the precomputed table still take the full path.
#[test]
fn store_values_that_need_work_are_still_finished() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write(
        "cat/products.csv",
        "sku,title,price,currency,link,image_link\nS1,Shirt,10.00,EUR,https://s.example.com/1,https://c.example.com/1.jpg\nS2,Shirt,12.00,EUR,https://s.example.com/2,https://c.example.com/2.jpg\n",
    );
    env.write(
        "cat/locations.csv",
        "location_id,kind,name,store_code\nA,store,Store A,store-a\nB,store,Store B,\"store\tb\"\n",
    );
    env.write(
        "cat/inventory.csv",
        "sku,location_id,quantity\nS1,A,2\nS1,B,5000\nS2,A,0\nS2,B,3\n",
    );
    env.write(
        "feeds/local.toml",
        dir_feed("google-local-inventory", "tsv", ""),
    );
    env.run(&["export", "local"]);
    let feed = std::fs::read_to_string(env.dir.path().join("out/local.tsv")).expect("feed written");
    let rows: Vec<Vec<&str>> = feed
        .lines()
        .skip(1)
        .map(|row| row.split('\t').collect())
        .collect();
    let cells = |row: &Vec<&str>| (row[0].to_owned(), row[1].to_owned(), row[2].to_owned());
    let found: Vec<_> = rows.iter().map(cells).collect();
    let expected = [
        ("store-a", "S1", "2"),
        ("store b", "S1", "5000"),
        ("store-a", "S2", "0"),
        ("store b", "S2", "3"),
    ]
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
    assert_eq!(found, expected, "{feed}");
    let availability = feed
        .lines()
        .next()
        .and_then(|header| header.split('\t').position(|name| name == "availability"));
    let availability = availability.expect("availability column");
    assert_eq!(rows[2][availability], "out_of_stock", "{feed}");
    assert_eq!(rows[3][availability], "in_stock", "{feed}");
}

/// A feed that overrides a store field still has it checked with the store's values, after
/// the fields all stores share: an item with errors in both is rejected for the shared one,
/// as the summary's per-rule counts always said.
#[test]
fn an_overridden_store_field_is_checked_after_the_shared_fields() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    let long_sku = "S".repeat(60);
    env.write(
        "cat/products.csv",
        format!(
            "sku,title,price,currency,link,image_link\n{long_sku},Shirt,10.00,EUR,https://s.example.com/1,https://c.example.com/1.jpg\n"
        ),
    );
    env.write(
        "cat/locations.csv",
        "location_id,kind,name,store_code\nA,store,Store A,store-a\n",
    );
    env.write(
        "cat/inventory.csv",
        format!("sku,location_id,quantity\n{long_sku},A,2\n"),
    );
    env.write(
        "feeds/local.toml",
        dir_feed(
            "google-local-inventory",
            "tsv",
            "[fields]\nstore_code = \"{{ title | replace('Shirt', '') }}\"\n",
        ),
    );
    let export = env.run(&["export", "local", "--format", "json"]);
    export.expect_code(1);
    let report = export.json();
    let rules: Vec<&str> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|f| f["feed"] == "local")
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(
        rules,
        ["feed.too-long", "feed.missing-required"],
        "{report}"
    );
    let summary = &report["feeds"][0];
    assert_eq!(summary["rejected"]["feed.too-long"], 1, "{report}");
    assert!(
        summary["rejected"].get("feed.missing-required").is_none(),
        "{report}"
    );
}
