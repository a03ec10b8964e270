//! Regressions found in review: each test fails on the behaviour before its fix.

use crate::support::{TestEnv, dir_feed};

const PRODUCTS: &str =
    "sku,title,price,currency,link,image_link,product_type,description,brand,condition\n";

fn product(sku: &str, price: &str, currency: &str) -> String {
    described(sku, price, currency, "Soft cotton shirt")
}

fn described(sku: &str, price: &str, currency: &str, description: &str) -> String {
    format!(
        "{sku},Shirt {sku},{price},{currency},https://s.example.com/{sku},https://c.example.com/{sku}.jpg,Apparel & Accessories,{description},Contoso,new\n"
    )
}

fn project(products: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write("cat/products.csv", format!("{PRODUCTS}{products}"));
    env
}

#[test]
fn a_row_without_sku_is_reported_even_when_sku_is_not_required() {
    let env = project(&product("", "5.00", "EUR"));
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\nrequired = [\"title\", \"price\"]\n",
    );
    let run = env.run(&["validate", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["diagnostics"][0]["rule"], "missing-required");
    assert_eq!(report["diagnostics"][0]["field"], "sku");
}

#[test]
fn a_feed_without_currency_takes_one_row_per_sku() {
    let env = project(&format!(
        "{}{}",
        product("A1", "10.00", "EUR"),
        product("A1", "11.00", "CHF")
    ));
    env.write("feeds/tiktok.toml", dir_feed("tiktok", "csv", ""));
    env.write(
        "feeds/chf.toml",
        dir_feed("tiktok", "csv", "currency = \"CHF\""),
    );
    env.run(&["export"]).expect_code(0);
    let any = std::fs::read_to_string(env.dir.path().join("out/tiktok.csv")).expect("feed");
    assert_eq!(any.lines().count(), 2, "header and one row: {any}");
    assert!(any.contains("10.00 EUR"), "{any}");
    let chf = std::fs::read_to_string(env.dir.path().join("out/chf.csv")).expect("feed");
    assert!(
        chf.contains("11.00 CHF") && chf.lines().count() == 2,
        "{chf}"
    );
    env.run(&["diff", "--exit-code"]).expect_code(1);
}

#[test]
fn a_currency_placeholder_needs_a_feed_currency() {
    let env = project(&product("A1", "10.00", "EUR"));
    env.write(
        "feeds/amazon.toml",
        "channel = \"amazon-listings\"\n[params]\nseller_id = \"S\"\nmarketplace_id = \"M\"\nissue_locale = \"de_DE\"\nlanguage_tag = \"de_DE\"\n[fields]\nproductType = \"SHIRT\"\n[destination]\nkind = \"dir\"\npath = \"out\"\n",
    );
    let run = env.run(&["export"]);
    run.expect_code(2);
    assert!(run.stderr().contains("currency"), "{}", run.stderr());
}

#[test]
fn an_item_over_the_line_limit_is_rejected() {
    let env = project(&format!(
        "{}{}",
        product("SHORT", "10.00", "EUR"),
        described("LONG", "10.00", "EUR", &"lorem ".repeat(70))
    ));
    let spec = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("channel-specs/pinterest.toml"),
    )
    .expect("shipped spec");
    let spec = spec
        .replace("id = \"pinterest\"", "id = \"narrow\"")
        .replace("[formats.csv]\n", "[formats.csv]\nmax_line_bytes = 300\n");
    env.write("channel-specs/narrow.toml", spec);
    env.write("feeds/narrow.toml", dir_feed("narrow", "csv", ""));
    let run = env.run(&["export", "--format", "json"]);
    let report = run.json();
    assert_eq!(
        report["feeds"][0]["rejected"]["feed.item-too-large"], 1,
        "{report}"
    );
    let feed = std::fs::read_to_string(env.dir.path().join("out/narrow.csv")).expect("feed");
    assert!(feed.contains("SHORT") && !feed.contains("LONG"), "{feed}");
}

#[test]
fn local_feeds_count_items_no_store_carries_and_trust_a_stores_own_stock() {
    let env = project(&format!(
        "{}{}",
        product("IN", "10.00", "EUR"),
        product("NONE", "10.00", "EUR")
    ));
    env.write(
        "cat/products.csv",
        format!(
            "{},availability\n{}",
            PRODUCTS.trim_end(),
            [
                product("IN", "10.00", "EUR").trim_end().to_owned() + ",out_of_stock\n",
                product("NONE", "10.00", "EUR").trim_end().to_owned() + ",\n",
            ]
            .concat()
        ),
    );
    env.write(
        "cat/locations.csv",
        "location_id,kind,name,store_code\nWH,warehouse,Main,\nA,store,Store A,store-a\n",
    );
    env.write(
        "cat/inventory.csv",
        "sku,location_id,quantity\nIN,A,5\nNONE,WH,3\n",
    );
    env.write(
        "feeds/local.toml",
        dir_feed("google-local-inventory", "tsv", ""),
    );
    let run = env.run(&["export", "--format", "json"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(
        report["feeds"][0]["filtered"]["no_store_stock"], 1,
        "{report}"
    );
    assert_eq!(report["feeds"][0]["items_written"], 1);
    let feed = std::fs::read_to_string(env.dir.path().join("out/local.tsv")).expect("feed");
    // The web shop says out of stock; store A has five on the shelf (issue #15).
    assert!(
        feed.contains("store-a\tIN\t5\t")
            && feed.contains("in_stock")
            && !feed.contains("out_of_stock"),
        "{feed}"
    );
}

#[test]
fn push_removes_parts_left_from_a_longer_feed() {
    let rows: String = (1..=5)
        .map(|i| product(&format!("S{i}"), "10.00", "EUR"))
        .collect();
    let env = project(&rows);
    let spec = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("channel-specs/tiktok.toml"),
    )
    .expect("shipped spec");
    let spec = spec.replace("id = \"tiktok\"", "id = \"tiny\"").replacen(
        "kind = \"delimited\"\n",
        "kind = \"delimited\"\nmax_items = 2\non_limit = \"split\"\n",
        1,
    );
    env.write("channel-specs/tiny.toml", spec);
    env.write(
        "feeds/f.toml",
        "channel = \"tiny\"\nformat = \"csv\"\n[destination]\nkind = \"dir\"\npath = \"dest\"\n",
    );
    env.run(&["push"]).expect_code(0);
    let names = |env: &TestEnv| {
        let mut names: Vec<String> = std::fs::read_dir(env.dir.path().join("dest"))
            .expect("dest")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|name| !crate::support::is_parts_list(name))
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&env), ["f-0001.csv", "f-0002.csv", "f-0003.csv"]);
    env.write(
        "cat/products.csv",
        format!("{PRODUCTS}{}", product("S1", "10.00", "EUR")),
    );
    env.run(&["push", "--force"]).expect_code(0);
    assert_eq!(names(&env), ["f.csv"]);
}

#[test]
fn inventory_and_locations_read_from_json_lines() {
    let env = project(&product("J1", "10.00", "EUR"));
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n[catalog.inventory]\nfile = \"stock.jsonl\"\n[catalog.locations]\nfile = \"places.jsonl\"\n",
    );
    env.write(
        "cat/places.jsonl",
        "{\"location_id\":\"WH\",\"kind\":\"warehouse\"}\n{\"location_id\":\"A\",\"kind\":\"store\",\"store_code\":\"a\"}\n",
    );
    env.write(
        "cat/stock.jsonl",
        "{\"sku\":\"J1\",\"location_id\":\"WH\",\"quantity\":4}\n{\"sku\":\"J1\",\"location_id\":\"A\",\"quantity\":-1}\n",
    );
    let run = env.run(&["validate", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["summary"]["inventory_rows"], 2, "{report}");
    assert_eq!(report["summary"]["locations"], 2);
    assert_eq!(
        report["diagnostics"][0]["rule"], "negative-stock",
        "{report}"
    );
}

#[test]
fn a_column_named_twice_is_a_layout_error() {
    let env = TestEnv::new();
    env.write(
        "cat/products.csv",
        "sku,title,price,currency,price\nA,T,1.00,EUR,2.00\n",
    );
    let run = env.run(&["validate", "--catalog", "cat"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("`price` appears twice"),
        "{}",
        run.stderr()
    );
}
