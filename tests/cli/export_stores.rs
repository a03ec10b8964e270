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
