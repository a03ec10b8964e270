//! Issue #9.4: own-brand and handmade goods have neither GTIN nor MPN. Google takes them with
//! `identifier_exists = no`; the spec's fallback sends that value, counted under a warning,
//! and `mpn` is required only when GTIN is empty and identifier_exists is not `no`.

use std::collections::HashMap;

use crate::support::{TestEnv, dir_feed};

const HEADER: &str = "sku,title,price,currency,link,image_link,description,brand,gtin,mpn,condition,identifier_exists\n";

fn row(sku: &str, gtin: &str, mpn: &str, identifier_exists: &str) -> String {
    format!(
        "{sku},Mug {sku},10.00,EUR,https://s.example.com/{sku},https://c.example.com/{sku}.jpg,Stoneware mug,Own,{gtin},{mpn},new,{identifier_exists}\n"
    )
}

/// Handmade (nothing), MPN only, GTIN, and one whose catalog says it has identifiers.
fn project() -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write(
        "cat/products.csv",
        format!(
            "{HEADER}{}{}{}{}",
            row("HANDMADE", "", "", ""),
            row("MPN", "", "MUG-7", ""),
            row("GTIN", "4006381333931", "", ""),
            row("CLAIMS", "", "", "yes"),
        ),
    );
    env
}

/// (id -> column -> value) of a TSV feed, read with the csv crate.
fn tsv(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|record| {
            let record = record.expect("record");
            let row: HashMap<String, String> = header
                .iter()
                .zip(record.iter())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            (row["id"].clone(), row)
        })
        .collect()
}

fn diagnostics<'r>(report: &'r serde_json::Value, rule: &str) -> Vec<(&'r str, &'r str, &'r str)> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == rule)
        .map(|d| {
            (
                d["sku"].as_str().expect("sku"),
                d["field"].as_str().expect("field"),
                d["severity"].as_str().expect("severity"),
            )
        })
        .collect()
}

#[test]
fn items_without_gtin_and_mpn_reach_google_with_identifier_exists_no() {
    let env = project();
    env.write("feeds/google.toml", dir_feed("google-merchant", "tsv", ""));
    env.write("feeds/bing.toml", dir_feed("microsoft-merchant", "tsv", ""));
    // CLAIMS says it has identifiers but gives none: still an error, so exit 1.
    let run = env.run(&["export", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();

    let google = tsv(&env.read("out/google.tsv"));
    assert_eq!(google["HANDMADE"]["identifier_exists"], "no");
    assert_eq!(google["MPN"]["identifier_exists"], "");
    assert_eq!(google["GTIN"]["identifier_exists"], "");
    assert!(!google.contains_key("CLAIMS"), "{google:?}");
    assert_eq!(
        diagnostics(&report, "feed.fallback"),
        [("HANDMADE", "identifier_exists", "warning")]
    );
    assert_eq!(
        diagnostics(&report, "feed.missing-required"),
        [("CLAIMS", "mpn", "error")]
    );
    let entry = report["feeds"]
        .as_array()
        .expect("feeds")
        .iter()
        .find(|f| f["feed"] == "google")
        .expect("google feed");
    assert_eq!(entry["items_written"], 3, "{entry:#}");

    // Microsoft requires neither GTIN nor MPN: every item goes out as it is.
    let bing = tsv(&env.read("out/bing.tsv"));
    assert_eq!(bing.len(), 4, "{bing:?}");
}

#[test]
fn a_feed_can_turn_the_fallback_off() {
    let env = project();
    env.write(
        "feeds/google.toml",
        dir_feed(
            "google-merchant",
            "tsv",
            "no_fallback = [\"identifier_exists\"]",
        ),
    );
    let run = env.run(&["export", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    assert!(diagnostics(&report, "feed.fallback").is_empty());
    assert_eq!(
        diagnostics(&report, "feed.missing-required"),
        [("HANDMADE", "mpn", "error"), ("CLAIMS", "mpn", "error")]
    );
    let google = tsv(&env.read("out/google.tsv"));
    assert!(!google.contains_key("HANDMADE"), "{google:?}");

    env.write(
        "feeds/google.toml",
        dir_feed("google-merchant", "tsv", "no_fallback = [\"gtin\"]"),
    );
    let run = env.run(&["export"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("`gtin` has no fallback"),
        "{}",
        run.stderr()
    );
}
