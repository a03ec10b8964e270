//! A Google feed from a dirty generated catalog: over-long titles are cut at a word boundary
//! with a warning, and no item that breaks Google's required fields or limits, or that the
//! catalog check rejected, reaches the feed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::export_support::{feed_files, feed_report, records};
use crate::support::TestEnv;

const G_NS: &str = "http://base.google.com/ns/1.0";
const TITLE_MAX: usize = 150;
const DESCRIPTION_MAX: usize = 5000;

/// A project with the generated dirty catalog in `cat/` and the example Google feed.
fn dirty_env() -> (TestEnv, serde_json::Value) {
    let env = TestEnv::new();
    let defects = env.generate(
        "cat",
        &["--variants", "20000", "--dirty", "0.02", "--seed", "4"],
    );
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write(
        "feeds/google-shopping.toml",
        std::fs::read(crate::support::repo_root().join("feeds/google-shopping.toml"))
            .expect("example feed"),
    );
    (env, defects)
}

/// Products rows: line number (1 = header) -> (sku, title), read with the csv crate.
fn product_rows(env: &TestEnv) -> BTreeMap<u64, (String, String)> {
    let mut reader = csv::Reader::from_path(env.path("cat/products.csv")).expect("products");
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (sku, title) = (col("sku"), col("title"));
    // The line a record starts on: the header is line 1, and a record spans one line plus
    // the line breaks inside its quoted cells.
    let mut next = 2;
    reader
        .records()
        .map(|row| {
            let row = row.expect("row");
            let line = next;
            next += 1 + row
                .iter()
                .map(|cell| cell.matches('\n').count() as u64)
                .sum::<u64>();
            (line, (row[sku].to_owned(), row[title].to_owned()))
        })
        .collect()
}

/// Lines of products.csv that `omnifeed validate` reports an error on.
fn error_lines(env: &TestEnv) -> BTreeSet<u64> {
    let report = env
        .run(&["validate", "--format", "json"])
        .expect_code(1)
        .json();
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["severity"] == "error")
        .filter(|d| {
            d["file"]
                .as_str()
                .is_some_and(|f| f.ends_with("products.csv"))
        })
        .map(|d| d["line"].as_u64().expect("line"))
        .collect()
}

fn export(env: &TestEnv) -> serde_json::Value {
    // The catalog has errors, so the run exits 1; the valid items are still written.
    env.run(&[
        "export",
        "google-shopping",
        "--format",
        "json",
        "--no-progress",
        "--out",
        "out",
    ])
    .expect_code(1)
    .json()
}

/// Every item of the feed: element name -> text.
fn items(env: &TestEnv, entry: &serde_json::Value) -> Vec<HashMap<String, String>> {
    let mut items = Vec::new();
    for file in feed_files(env, entry) {
        let text = std::fs::read_to_string(&file).expect("read xml");
        let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
        for item in doc.descendants().filter(|n| n.has_tag_name("item")) {
            let mut fields = HashMap::new();
            for child in item.children().filter(roxmltree::Node::is_element) {
                assert_eq!(child.tag_name().namespace(), Some(G_NS));
                fields.insert(
                    child.tag_name().name().to_owned(),
                    child.text().unwrap_or_default().to_owned(),
                );
            }
            items.push(fields);
        }
    }
    assert_eq!(items.len(), records(entry), "items = records");
    items
}

#[test]
fn long_titles_are_truncated_at_a_word_boundary_with_one_warning_each() {
    let (env, defects) = dirty_env();
    let rows = product_rows(&env);
    let long: BTreeMap<u64, &(String, String)> = rows
        .iter()
        .filter(|(_, (_, title))| title.chars().count() > TITLE_MAX)
        .map(|(line, row)| (*line, row))
        .collect();
    assert_eq!(
        long.len() as u64,
        defects["defects"]["long_title"].as_u64().expect("count"),
        "the generator's long_title rows are the titles over 150 characters"
    );
    let errors = error_lines(&env);
    let expected: BTreeSet<&str> = long
        .iter()
        .filter(|(line, _)| !errors.contains(line))
        .map(|(_, (sku, _))| sku.as_str())
        .collect();
    assert!(!expected.is_empty());

    let report = export(&env);
    let truncated: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "feed.truncated" && d["field"] == "title")
        .collect();
    for warning in &truncated {
        assert_eq!(warning["severity"], "warning");
        assert_eq!(warning["feed"], "google-shopping");
    }
    let warned: BTreeSet<&str> = truncated
        .iter()
        .map(|d| d["sku"].as_str().expect("sku"))
        .collect();
    assert_eq!(
        truncated.len(),
        expected.len(),
        "one warning per long title"
    );
    assert_eq!(warned, expected, "exactly the valid long-title SKUs");

    let originals: HashMap<&str, &str> = rows
        .values()
        .map(|(sku, title)| (sku.as_str(), title.as_str()))
        .rev()
        .collect();
    let entry = feed_report(&report, "google-shopping");
    let mut cut = BTreeSet::new();
    for item in items(&env, entry) {
        let (id, title) = (item["id"].as_str(), item["title"].as_str());
        let length = title.chars().count();
        assert!(length <= TITLE_MAX, "{id}: title of {length} characters");
        let original = originals[id];
        if original.chars().count() > TITLE_MAX {
            assert!(original.starts_with(title), "{id}: a prefix of the title");
            let next = original[title.len()..].chars().next();
            assert!(
                next.is_some_and(|c| c.is_whitespace() || ",;:-".contains(c)),
                "{id}: cut at a word boundary, not inside a word: `{title}`"
            );
            assert!(
                length > TITLE_MAX - 30,
                "{id}: cut near the limit: {length}"
            );
            cut.insert(id.to_owned());
        } else {
            assert_eq!(title, original, "{id}: short titles are unchanged");
        }
    }
    let expected: BTreeSet<String> = expected.into_iter().map(str::to_owned).collect();
    assert_eq!(cut, expected, "the cut titles are the warned ones");
}

#[test]
fn google_feed_from_a_dirty_catalog_holds_only_items_within_the_spec() {
    let (env, _) = dirty_env();
    let rows = product_rows(&env);
    let errors = error_lines(&env);
    let mut rows_per_sku: HashMap<&str, usize> = HashMap::new();
    for (sku, _) in rows.values() {
        *rows_per_sku.entry(sku).or_default() += 1;
    }
    // SKUs whose only row has a catalog error must stay out; SKUs of clean rows go in.
    let mut banned = BTreeSet::new();
    let mut clean = BTreeSet::new();
    for (line, (sku, _)) in &rows {
        if rows_per_sku[sku.as_str()] > 1 {
            continue;
        }
        if errors.contains(line) {
            banned.insert(sku.as_str());
        } else {
            clean.insert(sku.as_str());
        }
    }
    assert!(banned.len() > 100, "the dirty catalog has rejected rows");

    let report = export(&env);
    let entry = feed_report(&report, "google-shopping");
    assert!(
        entry["rejected"].as_object().is_some_and(|r| r.is_empty()),
        "catalog-valid items all meet Google's spec: {entry:#}"
    );
    let mut ids = BTreeSet::new();
    for item in items(&env, entry) {
        for field in [
            "id",
            "title",
            "description",
            "link",
            "image_link",
            "availability",
            "price",
        ] {
            assert!(
                item.get(field).is_some_and(|v| !v.trim().is_empty()),
                "item {:?} has a {field}",
                item.get("id")
            );
        }
        let id = item["id"].clone();
        assert!(item["title"].chars().count() <= TITLE_MAX, "{id}: title");
        assert!(
            item["description"].chars().count() <= DESCRIPTION_MAX,
            "{id}: description"
        );
        assert!(
            ["in_stock", "out_of_stock", "preorder", "backorder"]
                .contains(&item["availability"].as_str()),
            "{id}: availability"
        );
        assert!(
            item["link"].starts_with("https://") || item["link"].starts_with("http://"),
            "{id}: link is an absolute URL: {}",
            item["link"]
        );
        assert!(
            !banned.contains(id.as_str()),
            "{id} has a catalog error but is in the feed"
        );
        assert!(ids.insert(id.clone()), "{id} appears once");
    }
    let missing: Vec<&&str> = clean.iter().filter(|s| !ids.contains(**s)).collect();
    assert!(
        missing.is_empty(),
        "clean SKUs missing from the feed: {missing:?}"
    );
}
