//! Issue #14 point 5: `omnifeed check` compares what each feed would export for the same
//! SKU and country. A price a feed overrides without a declared rule is reported for that
//! SKU and those feeds; with the rule (`price_adjust`) declared, the feed is exported by the
//! rule and nothing is reported. Missing items name the filter, rule or missing mapping.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::TestEnv;

const HEADER: &str =
    "sku,title,description,brand,condition,gtin,price,currency,sale_price,stock,link,image_link\n";

/// A catalog row: a stoneware mug of `brand` with the given GTIN, price, sale and stock.
fn row(sku: &str, brand: &str, gtin: &str, price: &str, sale: &str, stock: &str) -> String {
    let (amount, currency) = price.split_once(' ').expect("`10.00 EUR`");
    format!(
        "{sku},Mug {sku},Stoneware mug,{brand},new,{gtin},{amount},{currency},{sale},{stock},https://s.example.com/{sku},https://c.example.com/{sku}.jpg\n"
    )
}

/// A project for Germany with the given rows and no inventory table.
fn project(rows: &[String]) -> TestEnv {
    let env = TestEnv::new();
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n[catalog.inventory]\nrequired = false\n[defaults]\ncountry = \"DE\"\n",
    );
    env.write("cat/products.csv", format!("{HEADER}{}", rows.concat()));
    env
}

/// Writes `feeds/ID.toml` for `channel` with `extra` settings, exporting into `out/`.
fn feed(env: &TestEnv, id: &str, channel: &str, format: &str, extra: &str) {
    env.write(
        &format!("feeds/{id}.toml"),
        format!(
            "channel = \"{channel}\"\nformat = \"{format}\"\n{extra}\n[destination]\nkind = \"dir\"\npath = \"out\"\n"
        ),
    );
}

/// Google, Meta and Pinterest feeds; Meta gets `meta_extra`.
fn three_feeds(env: &TestEnv, meta_extra: &str) {
    feed(env, "google", "google-merchant", "tsv", "");
    feed(env, "meta", "meta-catalog", "csv", meta_extra);
    feed(env, "pinterest", "pinterest", "tsv", "");
}

/// The mugs of the price tests: two plain, one on sale.
fn priced_mugs() -> Vec<String> {
    vec![
        row("MUG-1", "Contoso", "", "10.00 EUR", "", "5"),
        row("MUG-2", "Contoso", "", "19.99 EUR", "", "5"),
        row("MUG-3", "Contoso", "", "10.00 EUR", "8.00", "5"),
    ]
}

/// sku -> the kinds of mismatch reported for it.
fn kinds(report: &Value) -> BTreeMap<String, BTreeSet<String>> {
    report["skus"]
        .as_array()
        .expect("skus")
        .iter()
        .map(|sku| {
            let kinds = sku["mismatches"]
                .as_array()
                .expect("mismatches")
                .iter()
                .map(|m| m["kind"].as_str().expect("kind").to_owned())
                .collect();
            (sku["sku"].as_str().expect("sku").to_owned(), kinds)
        })
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("string").to_owned())
        .collect()
}

/// (id -> column -> value) of a delimited feed file.
fn feed_rows(
    env: &TestEnv,
    file: &str,
    delimiter: u8,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_path(env.dir.path().join(file))
        .expect("feed file");
    let header = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|record| {
            let record = record.expect("record");
            let row: BTreeMap<String, String> = header
                .iter()
                .zip(record.iter())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            (row["id"].clone(), row)
        })
        .collect()
}

const OVERRIDE_MUG_2: &str =
    "[fields]\nprice = \"{% if sku == 'MUG-2' %}21.00 EUR{% else %}{{ price }}{% endif %}\"\n";

#[test]
fn a_price_one_feed_overrides_without_a_rule_is_reported_for_that_sku_and_those_feeds() {
    let env = project(&priced_mugs());
    three_feeds(&env, OVERRIDE_MUG_2);
    let run = env.run(&["check", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["clean"], false);
    assert_eq!(
        kinds(&report),
        BTreeMap::from([("MUG-2".to_owned(), BTreeSet::from(["price".to_owned()]))])
    );
    let price = &report["skus"][0]["mismatches"][0];
    assert_eq!(report["skus"][0]["line"], 3);
    assert_eq!(report["skus"][0]["country"], "DE");
    assert_eq!(strings(&price["differs"]), ["meta"]);
    assert_eq!(price["agreed"], "19.99 EUR");
    let sent: BTreeMap<String, (String, String)> = price["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| {
            (
                v["feed"].as_str().unwrap().to_owned(),
                (
                    v["sent"].as_str().unwrap().to_owned(),
                    v["expected"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();
    let pair = |sent: &str, expected: &str| (sent.to_owned(), expected.to_owned());
    assert_eq!(
        sent,
        BTreeMap::from([
            ("google".to_owned(), pair("19.99 EUR", "19.99 EUR")),
            ("meta".to_owned(), pair("21.00 EUR", "19.99 EUR")),
            ("pinterest".to_owned(), pair("19.99 EUR", "19.99 EUR")),
        ])
    );
    // The text says the same, grouped by the SKU.
    let text = env.run(&["check"]);
    text.expect_code(1);
    let stdout = text.stdout();
    assert!(
        stdout.starts_with("MUG-2 (line 3, country DE)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "price differs in meta: google 19.99 EUR; meta 21.00 EUR, expected 19.99 EUR; pinterest 19.99 EUR"
        ),
        "{stdout}"
    );
    assert!(
        !stdout.contains("MUG-1") && !stdout.contains("MUG-3"),
        "{stdout}"
    );
}

#[test]
fn with_the_rule_declared_the_feed_is_exported_by_it_and_check_reports_nothing() {
    let env = project(&priced_mugs());
    three_feeds(&env, "price_adjust = \"+5%\"\n");
    let run = env.run(&["check", "--format", "json"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["clean"], true);
    assert_eq!(report["checked"], 3);
    assert_eq!(report["skus"], serde_json::json!([]));
    let meta = report["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["feed"] == "meta")
        .expect("meta");
    assert_eq!(meta["price_adjust"], "+5%");
    let human = env.run(&["check"]);
    human.expect_code(0);
    assert_eq!(human.stdout(), "check: 3 SKUs agree across 3 feeds\n");

    // The export sends what the rule says: 19.99 * 1.05 = 20.9895 -> 20.99, the sale too.
    env.run(&["export"]).expect_code(0);
    let meta = feed_rows(&env, "out/meta.csv", b',');
    assert_eq!(meta["MUG-1"]["price"], "10.50 EUR");
    assert_eq!(meta["MUG-2"]["price"], "20.99 EUR");
    assert_eq!(meta["MUG-3"]["price"], "10.50 EUR");
    assert_eq!(meta["MUG-3"]["sale_price"], "8.40 EUR");
    let google = feed_rows(&env, "out/google.tsv", b'\t');
    assert_eq!(google["MUG-2"]["price"], "19.99 EUR");
    assert_eq!(google["MUG-3"]["sale_price"], "8.00 EUR");

    // `preview` shows the rule's step.
    let preview = env.run(&["preview", "meta", "--sku", "MUG-3"]);
    preview.expect_code(0);
    assert!(
        preview
            .stdout()
            .contains("price_adjust +5%: 10.00 EUR -> 10.50 EUR, sale 8.00 EUR -> 8.40 EUR"),
        "{}",
        preview.stdout()
    );

    // The rule is the truth, not an exemption: an override on top of it is still reported,
    // against the price the rule gives.
    three_feeds(&env, &format!("price_adjust = \"+5%\"\n{OVERRIDE_MUG_2}"));
    let run = env.run(&["check", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(kinds(&report).keys().collect::<Vec<_>>(), ["MUG-2"]);
    let meta_value = report["skus"][0]["mismatches"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["feed"] == "meta")
        .cloned()
        .expect("meta");
    assert_eq!(meta_value["rule"], "+5%");
    assert_eq!(meta_value["expected"], "20.99 EUR");
}

#[test]
fn a_fixed_amount_rule_and_a_rule_that_leaves_no_price() {
    let env = project(&[
        row("MUG-1", "Contoso", "", "19.99 EUR", "", "5"),
        row("MUG-2", "Contoso", "", "1.50 EUR", "", "5"),
    ]);
    three_feeds(&env, "price_adjust = \"-2.00\"\n");
    env.run(&["export"]).expect_code(1);
    let meta = feed_rows(&env, "out/meta.csv", b',');
    assert_eq!(meta["MUG-1"]["price"], "17.99 EUR");
    assert!(!meta.contains_key("MUG-2"), "{meta:?}");
    let run = env.run(&["check", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(kinds(&report).keys().collect::<Vec<_>>(), ["MUG-2"]);
    let missing = &report["skus"][0]["mismatches"][0];
    assert_eq!(missing["kind"], "missing");
    assert_eq!(missing["missing"][0]["feed"], "meta");
    assert_eq!(missing["missing"][0]["reason"]["rule"], "feed.price-adjust");
}

#[test]
fn a_sku_missing_from_a_feed_names_the_filter_the_rule_or_the_missing_mapping() {
    let env = project(&[
        row("MUG-1", "Contoso", "", "10.00 EUR", "", "5"),
        // Meta keeps Contoso only.
        row("MUG-2", "Fabrikam", "", "10.00 EUR", "", "5"),
        // A coupon-range GTIN: Google refuses it, the others take it.
        row("MUG-3", "Contoso", "0500000000005", "10.00 EUR", "", "5"),
        // Priced in GBP only: the EUR Pinterest feed has no price for it.
        row("MUG-4", "Contoso", "", "10.00 GBP", "", "5"),
    ]);
    feed(&env, "google", "google-merchant", "tsv", "");
    feed(
        &env,
        "meta",
        "meta-catalog",
        "csv",
        "[filters]\nbrands = [\"Contoso\"]\n",
    );
    feed(
        &env,
        "pinterest",
        "pinterest",
        "tsv",
        "currency = \"EUR\"\n",
    );
    let run = env.run(&["check", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    let reasons: BTreeMap<String, (Vec<String>, String, Value)> = report["skus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sku| {
            let mismatches = sku["mismatches"].as_array().unwrap();
            assert_eq!(mismatches.len(), 1, "{sku}");
            let missing = &mismatches[0];
            assert_eq!(missing["kind"], "missing");
            let gone = missing["missing"].as_array().unwrap();
            assert_eq!(gone.len(), 1, "{sku}");
            (
                sku["sku"].as_str().unwrap().to_owned(),
                (
                    strings(&missing["present"]),
                    gone[0]["feed"].as_str().unwrap().to_owned(),
                    gone[0]["reason"].clone(),
                ),
            )
        })
        .collect();
    assert_eq!(
        reasons.keys().collect::<Vec<_>>(),
        ["MUG-2", "MUG-3", "MUG-4"]
    );
    let (present, feed, reason) = &reasons["MUG-2"];
    assert_eq!(
        (present.as_slice(), feed.as_str()),
        (&["google".to_owned(), "pinterest".to_owned()][..], "meta")
    );
    assert_eq!(
        reason,
        &serde_json::json!({"kind": "filtered", "filter": "brands"})
    );
    let (present, feed, reason) = &reasons["MUG-3"];
    assert_eq!(
        (present.as_slice(), feed.as_str()),
        (&["meta".to_owned(), "pinterest".to_owned()][..], "google")
    );
    assert_eq!(reason["kind"], "rejected");
    assert_eq!(reason["rule"], "feed.invalid-value");
    assert_eq!(reason["field"], "gtin");
    assert!(
        reason["message"]
            .as_str()
            .unwrap()
            .contains("0500000000005"),
        "{reason}"
    );
    let (present, feed, reason) = &reasons["MUG-4"];
    assert_eq!(
        (present.as_slice(), feed.as_str()),
        (&["google".to_owned(), "meta".to_owned()][..], "pinterest")
    );
    assert_eq!(
        reason,
        &serde_json::json!({"kind": "not_mapped", "why": "the catalog has no EUR price for it"})
    );

    // GitHub annotations on the products file's line of each SKU.
    let github = env.run(&["check", "--format", "github"]);
    github.expect_code(1);
    let lines: Vec<String> = github.stdout().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].starts_with("::error file=cat/products.csv,line=3,title=check.missing::SKU MUG-2 in DE: missing from meta (filtered by `[filters] brands`)"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("line=4,") && lines[1].contains("feed.invalid-value"),
        "{lines:?}"
    );
    assert!(
        lines[2].contains("line=5,") && lines[2].contains("no EUR price"),
        "{lines:?}"
    );

    // --allow-filtered: Meta declared it keeps Contoso only, so MUG-2 is not a mismatch;
    // the rejected GTIN and the missing EUR price still are.
    let allowed = env.run(&["check", "--allow-filtered", "--format", "json"]);
    allowed.expect_code(1);
    let report = allowed.json();
    let skus: Vec<&str> = report["skus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sku| sku["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["MUG-3", "MUG-4"], "{report}");
    assert_eq!(report["filtered_allowed"], 1, "{report}");
    let text = env.run(&["check", "--allow-filtered"]).stdout();
    assert!(
        text.contains("check: 2 SKUs differ across 3 feeds, of 4 checked (missing 2) (1 left out by a feed's [filters], not compared: --allow-filtered)"),
        "{text}"
    );
}

#[test]
fn sale_state_and_availability_are_compared_through_the_spec_roles() {
    let env = project(&[
        row("MUG-1", "Contoso", "", "10.00 EUR", "8.00", "5"),
        row("MUG-2", "Contoso", "", "10.00 EUR", "", "0"),
        row("MUG-3", "Contoso", "", "10.00 EUR", "", "3"),
    ]);
    // Meta drops MUG-1's sale and says every item is in stock.
    three_feeds(
        &env,
        "[fields]\nsale_price = \"{% if sku != 'MUG-1' %}{{ sale_price }}{% endif %}\"\navailability = \"in stock\"\n",
    );
    let run = env.run(&["check", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(
        kinds(&report),
        BTreeMap::from([
            ("MUG-1".to_owned(), BTreeSet::from(["sale".to_owned()])),
            (
                "MUG-2".to_owned(),
                BTreeSet::from(["availability".to_owned()])
            ),
        ])
    );
    let sale = &report["skus"][0]["mismatches"][0];
    assert_eq!(sale["not_on_sale"], serde_json::json!(["meta"]));
    assert_eq!(
        sale["on_sale"],
        serde_json::json!([{"feed": "google", "value": "8.00 EUR"}, {"feed": "pinterest", "value": "8.00 EUR"}])
    );
    assert_eq!(
        report["skus"][1]["mismatches"][0],
        serde_json::json!({"kind": "availability", "feed": "meta", "sent": "in stock",
                           "expected": "out of stock", "allocated_quantity": 0})
    );
    assert_eq!(
        report["mismatches"],
        serde_json::json!({"availability": 1, "sale": 1})
    );
    assert_eq!(report["skus_with_mismatches"], 2);
}

#[test]
fn check_needs_no_state_and_refuses_bad_feeds_and_rules_with_exit_2() {
    let env = project(&priced_mugs());
    three_feeds(&env, "");
    let run = env.run(&["check"]);
    run.expect_code(0);
    assert!(
        !env.dir.path().join(".omnifeed").exists() && !env.dir.path().join("out").exists(),
        "check writes nothing"
    );
    let run = env.run(&["check", "tiktok"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("no feed `tiktok`"),
        "{}",
        run.stderr()
    );
    three_feeds(&env, "price_adjust = \"5%\"\n");
    let run = env.run(&["check"]);
    run.expect_code(2);
    let stderr = run.stderr();
    assert!(
        stderr.contains("feeds/meta.toml")
            && stderr.contains("price_adjust `5%` is not a price rule"),
        "{stderr}"
    );
    let run = env.run(&["check", "--format", "sarif"]);
    run.expect_code(2);
}

#[test]
fn a_closed_stdout_keeps_check_s_exit_code() {
    let env = project(&priced_mugs());
    three_feeds(&env, OVERRIDE_MUG_2);
    for args in [&["check"][..], &["check", "--format", "json"]] {
        let run = env.run_closed_stdout(args);
        assert_eq!(run.code(), 1, "{args:?}: {}", run.stderr());
    }
    three_feeds(&env, "");
    assert_eq!(
        env.run_closed_stdout(&["check", "--format", "json"]).code(),
        0
    );
}

/// An item dropped for repeating an earlier item's key is missing for that reason.
#[test]
fn an_item_whose_key_repeats_in_one_feed_is_missing_with_the_duplicate_key_rule() {
    let env = project(&[
        row("MUG-1", "Contoso", "", "10.00 EUR", "", "5"),
        row("MUG-2", "Contoso", "", "10.00 EUR", "", "5"),
    ]);
    // Meta keys its items by brand: MUG-2 repeats MUG-1's key.
    three_feeds(&env, "[fields]\nid = \"{{ brand }}\"\n");
    let run = env.run(&["check", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(kinds(&report).keys().collect::<Vec<_>>(), ["MUG-2"]);
    let missing = &report["skus"][0]["mismatches"][0];
    assert_eq!(missing["kind"], "missing");
    assert_eq!(missing["missing"][0]["feed"], "meta");
    assert_eq!(missing["missing"][0]["reason"]["kind"], "rejected");
    assert_eq!(
        missing["missing"][0]["reason"]["rule"],
        "feed.duplicate-key"
    );
    assert_eq!(strings(&missing["present"]), ["google", "pinterest"]);
}

/// `--format sarif` and `--format junit` carry the same mismatches as findings: the SARIF
/// log validates against the SARIF 2.1.0 schema, the JUnit report reads with junitparser,
/// and both name the one SKU whose price a feed overrides without a rule.
#[test]
fn sarif_and_junit_carry_the_mismatches_as_findings() {
    let env = project(&priced_mugs());
    three_feeds(&env, OVERRIDE_MUG_2);
    let sarif = env.run(&["check", "--format", "sarif", "--no-progress"]);
    sarif.expect_code(1);
    let path = env.write("check.sarif", sarif.stdout());
    crate::support::python(crate::ci_formats::VALIDATE_SARIF, &[&path]);
    let log = sarif.json();
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["ruleId"], "check.price");
    assert_eq!(results[0]["properties"]["sku"], "MUG-2");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    assert!(
        results[0]["message"]["text"]
            .as_str()
            .is_some_and(|text| text.contains("meta 21.00 EUR, expected 19.99 EUR")),
        "{results:?}"
    );

    let junit = env.run(&["check", "--format", "junit", "--no-progress"]);
    junit.expect_code(1);
    let path = env.write("check.xml", junit.stdout());
    let suites: Vec<Value> = serde_json::from_str(&crate::support::python(
        crate::ci_formats::READ_JUNIT,
        &[&path],
    ))
    .expect("reader output");
    let failed: Vec<&Value> = suites
        .iter()
        .flat_map(|suite| suite["cases"].as_array().expect("cases"))
        .filter(|case| case["failed"] == true)
        .collect();
    assert_eq!(failed.len(), 1, "{suites:?}");
    assert_eq!(failed[0]["type"], "check.price");
    assert!(
        failed[0]["name"]
            .as_str()
            .is_some_and(|name| name.contains("MUG-2")),
        "{failed:?}"
    );

    // Feeds that agree: a clean SARIF log and one passing JUnit case.
    let clean = project(&priced_mugs());
    three_feeds(&clean, "");
    let sarif = clean.run(&["check", "--format", "sarif", "--no-progress"]);
    sarif.expect_code(0);
    assert_eq!(sarif.json()["runs"][0]["results"], serde_json::json!([]));
    let junit = clean.run(&["check", "--format", "junit", "--no-progress"]);
    junit.expect_code(0);
    assert!(
        junit.stdout().contains("name=\"no findings\""),
        "{}",
        junit.stdout()
    );
}
