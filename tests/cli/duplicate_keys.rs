//! Issue #9.5: a feed whose key template repeats (`id = "{{ group_id }}"`) sends the first
//! item with a key and rejects each later one, naming it, in export, diff and push alike;
//! the other feeds go on.

use std::collections::BTreeMap;

use crate::support::{TestEnv, dir_feed};

const HEADER: &str = "sku,group_id,title,price,currency,link,image_link,description,brand,gtin,condition,color,size\n";

fn row(sku: &str, group: &str, size: &str, gtin: &str) -> String {
    format!(
        "{sku},{group},Shirt {sku},10.00,EUR,https://s.example.com/{sku},https://c.example.com/{sku}.jpg,Soft shirt,Contoso,{gtin},new,Red,{size}\n"
    )
}

/// Two groups of two variants and a single; a Google feed keyed by the group, a Meta feed
/// keyed by the SKU.
fn project() -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write(
        "cat/products.csv",
        format!(
            "{HEADER}{}{}{}{}{}",
            row("A-S", "A", "S", "4006381333931"),
            row("A-M", "A", "M", "0012345678905"),
            row("B-S", "B", "S", "9780306406157"),
            row("B-M", "B", "M", "4000417025005"),
            row("C-S", "C", "S", "5901234123457"),
        ),
    );
    env.write(
        "feeds/grouped.toml",
        dir_feed(
            "google-merchant",
            "tsv",
            "[fields]\nid = \"{{ group_id }}\"",
        ),
    );
    env.write("feeds/meta.toml", dir_feed("meta-catalog", "csv", ""));
    env
}

/// (sku, message) of every feed.duplicate-key finding, and the feed each names.
fn duplicates(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "feed.duplicate-key")
        .map(|d| {
            assert_eq!(d["severity"], "error", "{d}");
            assert_eq!(d["field"], "id", "{d}");
            (
                d["sku"].as_str().expect("sku").to_owned(),
                d["feed"].as_str().expect("feed").to_owned(),
                d["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect()
}

fn ids(tsv: &str) -> Vec<String> {
    tsv.lines()
        .skip(1)
        .map(|line| line.split('\t').next().unwrap_or_default().to_owned())
        .collect()
}

fn counts(report: &serde_json::Value, feed: &str) -> BTreeMap<String, serde_json::Value> {
    let entry = report["feeds"]
        .as_array()
        .expect("feeds")
        .iter()
        .find(|f| f["feed"] == feed)
        .unwrap_or_else(|| panic!("feed {feed} in {report:#}"));
    ["items_written", "records", "rejected"]
        .into_iter()
        .map(|k| (k.to_owned(), entry[k].clone()))
        .collect()
}

#[test]
fn a_repeated_key_rejects_the_later_items_in_every_command() {
    let env = project();
    let expected = vec![
        (
            "A-M".to_owned(),
            "grouped".to_owned(),
            "`id` `A` is already the key of SKU A-S (line 2); only that first item is sent"
                .to_owned(),
        ),
        (
            "B-M".to_owned(),
            "grouped".to_owned(),
            "`id` `B` is already the key of SKU B-S (line 4); only that first item is sent"
                .to_owned(),
        ),
    ];

    let export = env.run(&["export", "--format", "json", "--jobs", "2"]);
    export.expect_code(1);
    let report = export.json();
    assert_eq!(duplicates(&report), expected);
    assert_eq!(ids(&env.read("out/grouped.tsv")), ["A", "B", "C"]);
    let grouped = counts(&report, "grouped");
    assert_eq!(grouped["items_written"], 3);
    assert_eq!(grouped["records"], 3);
    assert_eq!(grouped["rejected"]["feed.duplicate-key"], 2);
    assert_eq!(counts(&report, "meta")["items_written"], 5);

    // diff: a finding per item, not an abort; totals count the items that would be sent.
    let diff = env.run(&["diff", "--format", "json", "--no-progress"]);
    diff.expect_code(0);
    names_the_repeats(&diff.stderr());
    let diff = diff.json();
    let feed = |name: &str| {
        diff["feeds"]
            .as_array()
            .expect("feeds")
            .iter()
            .find(|f| f["feed"] == name)
            .unwrap_or_else(|| panic!("{name} in {diff:#}"))
            .clone()
    };
    assert_eq!(feed("grouped")["totals"]["added"], 3, "{diff:#}");
    assert_eq!(
        feed("grouped")["rejected"]["feed.duplicate-key"],
        2,
        "{diff:#}"
    );
    assert_eq!(feed("meta")["totals"]["added"], 5, "{diff:#}");

    // push: both feeds delivered and recorded; the repeats are reported, not sent.
    // `--force`: the export above wrote these destinations, and a state without a record of
    // a feed does not push over its files unasked (README "One run at a time, and the state").
    let push = env.run(&["push", "--no-progress", "--force"]);
    // Items left out for an error make the push exit 1 (data), as export does; the run does
    // not abort (exit 2) and both feeds are delivered.
    push.expect_code(1);
    names_the_repeats(&push.stderr());
    assert!(
        push.stdout().contains("left out by feed.duplicate-key: 2"),
        "{}",
        push.stdout()
    );
    assert_eq!(ids(&env.read("out/meta.csv")).len(), 5);
    assert_eq!(ids(&env.read("out/grouped.tsv")), ["A", "B", "C"]);
    let again = env.run(&["diff", "--format", "json", "--no-progress"]);
    again.expect_code(0);
    let again = again.json();
    for f in again["feeds"].as_array().expect("feeds") {
        assert_eq!(f["totals"]["added"], 0, "{again:#}");
        assert_eq!(f["totals"]["changed"], 0, "{again:#}");
    }
}

/// diff and push name each left-out item on stderr, as export does.
fn names_the_repeats(stderr: &str) {
    for needle in [
        "error[feed.duplicate-key]",
        "(SKU A-M, field id, feed grouped)",
        "`id` `B` is already the key of SKU B-S (line 4)",
    ] {
        assert!(stderr.contains(needle), "{needle} in {stderr}");
    }
}
