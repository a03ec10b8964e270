//! Stock allocation (issue #14): `[stock]` buffer, share, cap and thresholds, the
//! `[allocation]` partition across feeds, `backorder_allowed`, and `preview`'s account of
//! each step. Expected quantities are worked out by hand in the comments.

use crate::support::{TestEnv, dir_feed};

const PRODUCTS_HEADER: &str = "sku,title,price,currency,link,image_link,brand,gtin,condition,description,backorder_allowed,availability_date";

fn product(sku: &str, extra: &str) -> String {
    format!(
        "{sku},Shirt {sku},10.00,EUR,https://s.example.com/{sku},https://c.example.com/{sku}.jpg,Acme,,new,A shirt,{extra}\n"
    )
}

/// A column of a CSV or TSV feed, by header name, row by row.
fn column(feed: &str, delimiter: char, name: &str) -> Vec<String> {
    let mut lines = feed.lines();
    let header: Vec<&str> = lines.next().expect("header").split(delimiter).collect();
    let at = header
        .iter()
        .position(|h| h.trim_matches('"') == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    lines
        .map(|line| {
            line.split(delimiter)
                .nth(at)
                .unwrap_or("")
                .trim_matches('"')
                .to_owned()
        })
        .collect()
}

fn partition_env(allocation: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write(
        "omnifeed.toml",
        format!("[catalog]\ndir = \"cat\"\n\n{allocation}"),
    );
    let mut products = format!("{PRODUCTS_HEADER}\n");
    for (sku, extra) in [("S1", ","), ("S2", ","), ("S3", ","), ("S4", ",")] {
        products.push_str(&product(sku, extra));
    }
    env.write("cat/products.csv", products);
    env.write(
        "cat/locations.csv",
        "location_id,kind,name,store_code\nWH1,warehouse,Main,\nWH2,warehouse,Overflow,\nST,store,Shop,st-1\n",
    );
    // S1: 10 in WH1. S2: none anywhere (0). S3: 7 in WH1, no row in WH2 (counts 0), 50
    // in the store (not in the pool). S4: 2 in WH1 and 1 in WH2.
    env.write(
        "cat/inventory.csv",
        "sku,location_id,quantity\nS1,WH1,10\nS2,WH1,0\nS3,WH1,7\nS3,ST,50\nS4,WH1,2\nS4,WH2,1\n",
    );
    for name in ["a", "b", "c"] {
        env.write(
            &format!("feeds/{name}.toml"),
            dir_feed("meta-catalog", "csv", ""),
        );
    }
    env
}

fn quantities(env: &TestEnv, feed: &str) -> Vec<String> {
    column(
        &env.read(&format!("out/{feed}.csv")),
        ',',
        "quantity_to_sell_on_facebook",
    )
}

#[test]
fn a_partition_by_equal_weights_splits_ten_units_four_three_three() {
    let env = partition_env(
        "[allocation]\nmode = \"partition\"\nlocations = [\"WH1\", \"WH2\"]\n\
         [[allocation.feeds]]\nfeed = \"a\"\nweight = 1\n\
         [[allocation.feeds]]\nfeed = \"b\"\nweight = 1\n\
         [[allocation.feeds]]\nfeed = \"c\"\nweight = 1\n",
    );
    env.run(&["export"]).expect_code(0);
    // S1 10 -> 4/3/3 (the leftover unit to the first listed); S2 0 -> 0/0/0;
    // S3 7 (WH2 has no row, the store is not in the pool) -> 3/2/2; S4 3 -> 1/1/1.
    assert_eq!(quantities(&env, "a"), ["4", "0", "3", "1"]);
    assert_eq!(quantities(&env, "b"), ["3", "0", "2", "1"]);
    assert_eq!(quantities(&env, "c"), ["3", "0", "2", "1"]);
    let availability = column(&env.read("out/a.csv"), ',', "availability");
    assert_eq!(
        availability,
        ["in stock", "out of stock", "in stock", "in stock"]
    );
}

#[test]
fn a_marketplace_capped_at_thirty_percent_leaves_the_rest_to_the_shop() {
    let env = partition_env(
        "[allocation]\nmode = \"partition\"\n\
         [[allocation.feeds]]\nfeed = \"a\"\npercent = 30\n\
         [[allocation.feeds]]\nfeed = \"b\"\nweight = 1\n",
    );
    env.run(&["export"]).expect_code(0);
    // Default pool: every warehouse. S1 10 -> 3 + 7; S3 7 -> 2 + 5; S4 3 -> 0 + 3.
    assert_eq!(quantities(&env, "a"), ["3", "0", "2", "0"]);
    assert_eq!(quantities(&env, "b"), ["7", "0", "5", "3"]);
    // Feed c is not in the partition: it sees the whole stock (shared).
    assert_eq!(quantities(&env, "c"), ["10", "0", "7", "3"]);
}

#[test]
fn buffer_share_cap_and_thresholds_apply_in_order() {
    let env = partition_env("");
    env.write(
        "feeds/a.toml",
        dir_feed(
            "meta-catalog",
            "csv",
            "[stock]\nbuffer = 1\nshare = 50\ncap = 4\n[stock.thresholds]\nin_stock = 2\n",
        ),
    );
    env.run(&["export", "a"]).expect_code(0);
    // S1: 10 - 1 = 9, 50 % = 4 (rounded down), cap 4: 4.
    // S2: 0. S3: 7 - 1 = 6, 50 % = 3. S4: 3 - 1 = 2, 50 % = 1, below in_stock = 2: 0.
    assert_eq!(quantities(&env, "a"), ["4", "0", "3", "0"]);
    let availability = column(&env.read("out/a.csv"), ',', "availability");
    assert_eq!(
        availability,
        ["in stock", "out of stock", "in stock", "out of stock"]
    );
}

#[test]
fn limited_availability_only_where_the_spec_has_it() {
    let env = partition_env("");
    let thresholds = "[stock.thresholds]\nin_stock = 5\nlimited_availability = 2\n";
    env.write(
        "feeds/local.toml",
        dir_feed(
            "google-local-inventory",
            "tsv",
            &format!("[stock]\nlocations = [\"ST\"]\n{thresholds}"),
        ),
    );
    env.write(
        "cat/inventory.csv",
        "sku,location_id,quantity\nS1,ST,6\nS2,ST,3\nS3,ST,1\nS4,ST,0\nS1,WH1,3\n",
    );
    env.write(
        "feeds/google.toml",
        dir_feed("google-merchant", "tsv", &format!("[stock]\n{thresholds}")),
    );
    env.run(&["export", "local", "google"]).expect_code(0);
    let local = env.read("out/local.tsv");
    assert_eq!(column(&local, '\t', "quantity"), ["6", "3", "0", "0"]);
    assert_eq!(
        column(&local, '\t', "availability"),
        [
            "in_stock",
            "limited_availability",
            "out_of_stock",
            "out_of_stock"
        ]
    );
    // Google's product feed has no limited_availability: S1's 3 units are in stock; the
    // others have no warehouse stock.
    let google = env.read("out/google.tsv");
    assert_eq!(
        column(&google, '\t', "availability"),
        ["in_stock", "out_of_stock", "out_of_stock", "out_of_stock"]
    );
}

#[test]
fn backorder_allowed_turns_no_stock_into_a_backorder() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    let mut products = format!("{PRODUCTS_HEADER}\n");
    products.push_str(&product("S1", "true,2026-12-20T00:00:00Z"));
    products.push_str(&product("S2", "no,"));
    products.push_str(&product("S3", "yes,2026-12-20T00:00:00Z"));
    // Allowed, but with no date to promise: a backorder without one is refused.
    products.push_str(&product("S4", "true,"));
    env.write("cat/products.csv", products);
    env.write(
        "cat/locations.csv",
        "location_id,kind,name,store_code\nWH1,warehouse,Main,\n",
    );
    env.write(
        "cat/inventory.csv",
        "sku,location_id,quantity\nS1,WH1,0\nS2,WH1,0\nS3,WH1,4\nS4,WH1,0\n",
    );
    env.write("feeds/meta.toml", dir_feed("meta-catalog", "csv", ""));
    env.run(&["export"]).expect_code(0);
    let feed = env.read("out/meta.csv");
    // Meta spells backorder `available for order` (its spec's map).
    assert_eq!(
        column(&feed, ',', "availability"),
        [
            "available for order",
            "out of stock",
            "in stock",
            "out of stock"
        ]
    );
}

#[test]
fn a_bad_backorder_flag_is_reported_with_its_line_and_sku() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write(
        "cat/products.csv",
        format!("{PRODUCTS_HEADER}\n{}", product("S1", "maybe,")),
    );
    let run = env.run(&["validate", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    let found = report["diagnostics"].as_array().is_some_and(|all| {
        all.iter().any(|f| {
            f["sku"] == "S1"
                && f["line"] == 2
                && f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("backorder_allowed `maybe`"))
        })
    });
    assert!(found, "{report}");
}

#[test]
fn preview_shows_every_step_from_locations_to_availability() {
    let env = partition_env(
        "[allocation]\nmode = \"partition\"\nlocations = [\"WH1\", \"WH2\"]\n\
         [[allocation.feeds]]\nfeed = \"a\"\nweight = 1\n\
         [[allocation.feeds]]\nfeed = \"b\"\nweight = 1\n\
         [[allocation.feeds]]\nfeed = \"c\"\nweight = 1\n",
    );
    env.write(
        "feeds/a.toml",
        dir_feed(
            "meta-catalog",
            "csv",
            "[stock]\nbuffer = 1\nshare = 50\ncap = 1\n",
        ),
    );
    let run = env.run(&["preview", "a", "--sku", "S3"]);
    run.expect_code(0);
    let out = run.stdout();
    for expected in [
        "WH1 (warehouse): 7, counted",
        "WH2 (warehouse): no inventory row: 0, counted",
        "ST (store): 50, not counted",
        "counted stock: 7",
        "partition: a 3, b 2, c 2 -> this feed 3",
        "buffer 1: 2",
        "share 50 % (rounded down): 1",
        "cap 1: 1",
        "thresholds: in_stock from 1",
        "quantity 1, availability in_stock",
        "quantity_to_sell_on_facebook",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
}

#[test]
fn allocation_mistakes_are_configuration_errors_naming_the_feed() {
    let env = partition_env(
        "[allocation]\nmode = \"partition\"\n\
         [[allocation.feeds]]\nfeed = \"amazon\"\nweight = 1\n\
         [[allocation.feeds]]\nfeed = \"b\"\nweight = 1\n",
    );
    let run = env.run(&["export"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("[allocation] names feed `amazon`"),
        "{}",
        run.stderr()
    );
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n[allocation]\nmode = \"partition\"\n\
         [[allocation.feeds]]\nfeed = \"a\"\npercent = 80\n\
         [[allocation.feeds]]\nfeed = \"b\"\npercent = 30\n",
    );
    let run = env.run(&["export"]);
    run.expect_code(2);
    assert!(run.stderr().contains("110 %"), "{}", run.stderr());
    // A partitioned feed takes its locations from [allocation].
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n[allocation]\nmode = \"partition\"\n\
         [[allocation.feeds]]\nfeed = \"a\"\nweight = 1\n\
         [[allocation.feeds]]\nfeed = \"b\"\nweight = 1\n",
    );
    env.write(
        "feeds/a.toml",
        dir_feed("meta-catalog", "csv", "[stock]\nlocations = [\"WH1\"]\n"),
    );
    let run = env.run(&["export"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("a.toml") && run.stderr().contains("[stock] locations"),
        "{}",
        run.stderr()
    );
    // A feed fanned out to markets would publish its whole part once per market.
    env.write(
        "feeds/a.toml",
        format!(
            "markets = [\"DE\", \"AT\"]\n{}",
            dir_feed("meta-catalog", "csv", "")
        ),
    );
    let run = env.run(&["export"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("a.toml")
            && run.stderr().contains("`markets`")
            && run.stderr().contains("[allocation] partition"),
        "{}",
        run.stderr()
    );
}
