//! `diff`, `push` and `runs` end to end: a generated catalog is pushed, mutated in known
//! ways, and the diff, the guards, the delivered files and the state are checked against
//! exactly those mutations.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::TestEnv;

const CONFIG: &str = "[catalog]\ndir = \"cat\"\n";
const FEED: &str = "channel = \"google-merchant\"\nformat = \"xml\"\n\n[destination]\nkind = \"dir\"\npath = \"out\"\n";

/// A project with one Google feed and a 2,000-variant catalog in `cat/`.
fn project(variants: u32) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    env.write("feeds/google.toml", FEED);
    env.generate(
        "cat",
        &[
            "--variants",
            &variants.to_string(),
            "--stores",
            "3",
            "--seed",
            "5",
        ],
    );
    env
}

struct Table {
    header: csv::StringRecord,
    rows: Vec<csv::StringRecord>,
}

impl Table {
    fn read(path: &Path) -> Table {
        let mut reader = csv::Reader::from_path(path).expect("read csv");
        let header = reader.headers().expect("header").clone();
        let rows = reader.records().map(|r| r.expect("row")).collect();
        Table { header, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    fn write(&self, path: &Path) {
        let mut writer = csv::Writer::from_path(path).expect("write csv");
        writer.write_record(&self.header).expect("header");
        for row in &self.rows {
            writer.write_record(row).expect("row");
        }
        writer.flush().expect("flush");
    }

    fn set(row: &csv::StringRecord, index: usize, value: &str) -> csv::StringRecord {
        row.iter()
            .enumerate()
            .map(|(i, v)| if i == index { value } else { v })
            .collect()
    }
}

fn diff_json(env: &TestEnv, extra: &[&str]) -> Value {
    let mut args = vec!["diff", "--format", "json", "--no-progress"];
    args.extend_from_slice(extra);
    let run = env.run(&args);
    run.expect_code(0);
    run.json()
}

fn feed0(report: &Value) -> &Value {
    &report["feeds"][0]
}

fn keys(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .expect("list")
        .iter()
        .map(|item| item["key"].as_str().expect("key").to_owned())
        .collect()
}

/// `key -> field -> (before, after)` of the changed items.
fn changes(feed: &Value) -> BTreeMap<String, BTreeMap<String, (Value, Value)>> {
    feed["changed"]
        .as_array()
        .expect("changed")
        .iter()
        .map(|item| {
            let fields = item["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .map(|f| {
                    (
                        f["field"].as_str().expect("field").to_owned(),
                        (f["before"].clone(), f["after"].clone()),
                    )
                })
                .collect();
            (item["key"].as_str().expect("key").to_owned(), fields)
        })
        .collect()
}

fn push(env: &TestEnv, extra: &[&str]) -> crate::support::Run {
    let mut args = vec!["push", "--no-progress"];
    args.extend_from_slice(extra);
    env.run(&args)
}

/// Pushes the fresh catalog and returns `sku -> (price, availability)` as the feed has them.
fn first_push(env: &TestEnv) -> BTreeMap<String, (String, String)> {
    let before = feed0(&diff_json(env, &[])).clone();
    assert_eq!(before["totals"]["added"], 2000, "{}", before["totals"]);
    let items = before["added"]
        .as_array()
        .expect("added")
        .iter()
        .map(|item| {
            let field = |name: &str| {
                item["fields"]
                    .as_array()
                    .expect("fields")
                    .iter()
                    .find(|f| f["field"] == name)
                    .and_then(|f| f["after"].as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            (
                item["key"].as_str().expect("key").to_owned(),
                (field("price"), field("availability")),
            )
        })
        .collect();
    push(env, &[]).expect_code(0);
    items
}

#[test]
fn diff_reports_exactly_the_catalog_mutations_then_push_clears_them() {
    let env = project(2000);
    let feed = first_push(&env);
    let in_stock: Vec<&String> = feed
        .iter()
        .filter(|(_, (_, a))| a == "in_stock")
        .map(|(k, _)| k)
        .collect();
    let others: Vec<&String> = feed.keys().filter(|k| !in_stock.contains(k)).collect();
    // Disjoint sets: j in-stock SKUs go out of stock; k SKUs change price; m SKUs vanish.
    let (j, k, m, n) = (12, 15, 10, 7);
    let out_of_stock: BTreeSet<&str> = in_stock.iter().take(j).map(|s| s.as_str()).collect();
    let repriced: BTreeSet<&str> = in_stock
        .iter()
        .skip(j)
        .take(k - 5)
        .chain(others.iter().take(5))
        .map(|s| s.as_str())
        .collect();
    let removed: BTreeSet<&str> = in_stock
        .iter()
        .skip(j + k)
        .take(m)
        .map(|s| s.as_str())
        .collect();
    assert_eq!(
        (out_of_stock.len(), repriced.len(), removed.len()),
        (j, k, m)
    );

    let products_path = env.dir.path().join("cat/products.csv");
    let mut products = Table::read(&products_path);
    let (sku, price, gtin, mpn, group) = (
        products.col("sku"),
        products.col("price"),
        products.col("gtin"),
        products.col("mpn"),
        products.col("group_id"),
    );
    let mut expected_prices = BTreeMap::new();
    // Raising a price keeps any sale price below it, so no item turns invalid.
    products.rows = products
        .rows
        .iter()
        .filter(|row| !removed.contains(&row[sku]))
        .map(|row| {
            if !repriced.contains(&row[sku]) {
                return row.clone();
            }
            let old: f64 = row[price].parse().expect("price");
            let new = format!("{:.2}", old + 1.0);
            let (old_feed, _) = &feed[&row[sku]];
            let currency = old_feed.rsplit(' ').next().expect("currency");
            expected_prices.insert(
                row[sku].to_owned(),
                (old_feed.clone(), format!("{new} {currency}")),
            );
            Table::set(row, price, &new)
        })
        .collect();
    let template = products.rows[0].clone();
    let added: BTreeSet<String> = (0..n).map(|i| format!("NEW-{i:04}")).collect();
    // Appended last key first: `--limit` must still list the first ones by key.
    for new_sku in added.iter().rev() {
        let row = Table::set(&template, sku, new_sku);
        let row = Table::set(&row, gtin, "");
        let row = Table::set(&row, group, "");
        let row = Table::set(&row, mpn, &format!("MPN-{new_sku}"));
        products.rows.push(row);
    }
    products.write(&products_path);
    let inventory_path = env.dir.path().join("cat/inventory.csv");
    let mut inventory = Table::read(&inventory_path);
    let (isku, qty) = (inventory.col("sku"), inventory.col("quantity"));
    inventory.rows = inventory
        .rows
        .iter()
        .map(|row| {
            if out_of_stock.contains(&row[isku]) {
                Table::set(row, qty, "0")
            } else {
                row.clone()
            }
        })
        .collect();
    inventory.write(&inventory_path);

    let report = diff_json(&env, &[]);
    assert_eq!(report["has_changes"], true);
    let diff = feed0(&report);
    let totals = &diff["totals"];
    assert_eq!(totals["added"], n as u64, "{totals}");
    assert_eq!(totals["removed"], m as u64, "{totals}");
    assert_eq!(totals["changed"], (j + k) as u64, "{totals}");
    assert_eq!(totals["previous"], 2000);
    assert_eq!(totals["current"], (2000 - m + n) as u64);
    assert_eq!(keys(&diff["added"]), added);
    assert_eq!(
        keys(&diff["removed"]),
        removed.iter().map(|s| s.to_string()).collect()
    );
    let changed = changes(diff);
    for (sku, (before, after)) in &expected_prices {
        let fields = &changed[sku];
        assert_eq!(
            fields.get("price"),
            Some(&(Value::from(before.as_str()), Value::from(after.as_str()))),
            "{sku}: {fields:?}"
        );
        assert!(!fields.contains_key("availability"), "{sku}: {fields:?}");
    }
    for sku in &out_of_stock {
        let fields = &changed[*sku];
        assert_eq!(
            fields.get("availability"),
            Some(&(Value::from("in_stock"), Value::from("out_of_stock"))),
            "{sku}: {fields:?}"
        );
        assert!(!fields.contains_key("price"), "{sku}: {fields:?}");
    }
    // Availability flips rank first.
    let first_key = diff["changed"][0]["key"].as_str().expect("key");
    assert!(out_of_stock.contains(first_key), "{first_key}");
    assert_eq!(diff["guards"], Value::Array(Vec::new()));

    // Filters narrow the lists, never the totals.
    let some = expected_prices.keys().next().expect("a repriced sku");
    let narrowed = diff_json(&env, &["--sku", some, "--field", "price", "--limit", "5"]);
    let narrowed = feed0(&narrowed);
    assert_eq!(keys(&narrowed["changed"]), BTreeSet::from([some.clone()]));
    assert_eq!(narrowed["totals"]["changed"], (j + k) as u64);
    let limited = diff_json(&env, &["--limit", "3"]);
    assert_eq!(
        feed0(&limited)["changed"].as_array().expect("list").len(),
        3
    );
    // Added and removed items: the first three by key, each with its fields (the only
    // ones whose fields were built or read).
    for (list, expected) in [
        (
            "added",
            added.iter().map(String::as_str).collect::<Vec<_>>(),
        ),
        ("removed", removed.iter().copied().collect()),
    ] {
        let items = feed0(&limited)[list].as_array().expect("list").clone();
        let listed: Vec<&str> = items
            .iter()
            .map(|item| item["key"].as_str().expect("key"))
            .collect();
        assert_eq!(listed, expected[..3], "{list}");
        assert!(
            items
                .iter()
                .all(|item| item["fields"].as_array().is_some_and(|f| !f.is_empty())),
            "{list}: {items:?}"
        );
    }

    // The same change in text: "field: before → after".
    let text = env.run(&["diff", "--no-progress", "--sku", some]);
    text.expect_code(0);
    let (before, after) = &expected_prices[some];
    let line = format!("price: {before} → {after}");
    assert!(text.stdout().contains(&line), "{}", text.stdout());
    assert!(
        text.stdout()
            .contains(&format!("{n} added, {} changed, {m} removed", j + k)),
        "{}",
        text.stdout()
    );
    env.run(&["diff", "--exit-code", "--no-progress"])
        .expect_code(1);

    // Pushing records the new catalog: nothing left to diff.
    push(&env, &[]).expect_code(0);
    let after = diff_json(&env, &[]);
    assert_eq!(after["has_changes"], false);
    assert_eq!(feed0(&after)["totals"]["unchanged"], (2000 - m + n) as u64);
    env.run(&["diff", "--exit-code", "--no-progress"])
        .expect_code(0);
}

#[test]
fn diff_exit_code_and_dry_run_leave_no_state() {
    let env = project(2000);
    // No state yet: everything is added, and a dry run must not create the store or files.
    env.run(&["diff", "--exit-code", "--no-progress"])
        .expect_code(1);
    env.run(&["diff", "--no-progress"]).expect_code(0);
    assert!(!env.dir.path().join(".omnifeed/state.db").exists());
    assert!(!env.dir.path().join("out").exists());
    push(&env, &[]).expect_code(0);
    env.run(&["diff", "--exit-code", "--no-progress"])
        .expect_code(0);
}

fn feed_file(env: &TestEnv) -> Vec<u8> {
    std::fs::read(env.dir.path().join("out/google.xml")).expect("feed file")
}

#[test]
fn guards_stop_a_push_and_leave_files_and_state_alone_until_forced() {
    let env = project(2000);
    first_push(&env);
    let pushed = feed_file(&env);
    let products_path = env.dir.path().join("cat/products.csv");
    let original = std::fs::read(&products_path).expect("products");

    // Half the catalog gone: removal guard.
    let mut products = Table::read(&products_path);
    products.rows.truncate(1000);
    products.write(&products_path);
    let run = push(&env, &[]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("guard.removed-share"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("--allow-removals"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("1,000 of 2,000"), "{}", run.stderr());
    assert_eq!(feed_file(&env), pushed, "files must not be replaced");
    let diff = diff_json(&env, &[]);
    assert_eq!(feed0(&diff)["totals"]["removed"], 1000, "state unchanged");
    assert_eq!(feed0(&diff)["guards"][0]["code"], "guard.removed-share");

    // Every item out of stock: out-of-stock guard.
    std::fs::write(&products_path, &original).expect("restore");
    let inventory_path = env.dir.path().join("cat/inventory.csv");
    let mut inventory = Table::read(&inventory_path);
    let qty = inventory.col("quantity");
    inventory.rows = inventory
        .rows
        .iter()
        .map(|row| Table::set(row, qty, "0"))
        .collect();
    let stocked = std::fs::read(&inventory_path).expect("inventory");
    inventory.write(&inventory_path);
    let run = push(&env, &[]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("guard.out-of-stock-share"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("--allow-out-of-stock"),
        "{}",
        run.stderr()
    );
    assert_eq!(feed_file(&env), pushed);
    std::fs::write(&inventory_path, &stocked).expect("restore");

    // Header only: an empty feed is refused, even with the per-guard flags.
    let header = original.split(|&b| b == b'\n').next().expect("header line");
    std::fs::write(&products_path, [header, b"\n"].concat()).expect("empty");
    let run = push(&env, &["--allow-removals"]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("guard.empty-feed"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("--force"), "{}", run.stderr());
    assert_eq!(feed_file(&env), pushed);

    // --force pushes the half catalog; the state then reflects it.
    products.write(&products_path);
    let run = push(&env, &["--force", "--format", "json"]);
    run.expect_code(0);
    assert_eq!(run.json()["feeds"][0]["recorded"]["removed"], 1000);
    assert_ne!(feed_file(&env), pushed);
    let diff = diff_json(&env, &[]);
    assert_eq!(diff["has_changes"], false);
    assert_eq!(feed0(&diff)["totals"]["unchanged"], 1000);
    env.run(&["diff", "--exit-code", "--no-progress"])
        .expect_code(0);

    // Every stopped run is in the history with its outcome.
    let runs = env.run(&["runs", "--format", "json"]);
    runs.expect_code(0);
    let runs = runs.json();
    let outcomes: Vec<&str> = runs["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["outcome"].as_str().expect("outcome"))
        .collect();
    assert_eq!(
        outcomes,
        [
            "ok",
            "guard_tripped",
            "guard_tripped",
            "guard_tripped",
            "ok"
        ],
        "newest first"
    );
}

#[test]
fn refresh_resends_items_close_to_expiry() {
    let env = project(2000);
    push(&env, &["--now", "2026-01-01T00:00:00Z"]).expect_code(0);
    // Google expires items after 30 days; 3 days of margin makes 27.
    let early = diff_json(&env, &["--now", "2026-01-27T00:00:00Z"]);
    assert_eq!(feed0(&early)["refreshed"], 0);
    let late = diff_json(&env, &["--now", "2026-01-29T00:00:00Z"]);
    assert_eq!(feed0(&late)["refreshed"], 2000);
    assert_eq!(late["has_changes"], false);
    let run = push(&env, &["--now", "2026-01-29T00:00:00Z", "--format", "json"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["feeds"][0]["refreshed"], 2000);
    assert_eq!(report["feeds"][0]["recorded"]["accepted"], 2000);
    let after = diff_json(&env, &["--now", "2026-01-30T00:00:00Z"]);
    assert_eq!(feed0(&after)["refreshed"], 0, "the refresh was recorded");
}

#[test]
fn runs_lists_and_shows_pushes() {
    let env = project(2000);
    let empty = env.run(&["runs"]);
    empty.expect_code(0);
    assert!(empty.stdout().contains("no runs yet"), "{}", empty.stdout());
    push(&env, &["--now", "2026-03-01T10:00:00Z"]).expect_code(0);
    push(&env, &["--now", "2026-03-02T10:00:00Z"]).expect_code(0);

    let list = env.run(&["runs", "--format", "json"]);
    list.expect_code(0);
    let list = list.json();
    let runs = list["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["id"], 2, "newest first");
    assert_eq!(runs[0]["command"], "push");
    assert_eq!(runs[0]["outcome"], "ok");
    assert_eq!(runs[0]["feeds"], serde_json::json!(["google"]));
    assert_eq!(runs[1]["started_at"], "2026-03-01T10:00:00Z");

    let text = env.run(&["runs"]);
    text.expect_code(0);
    assert!(
        text.stdout().contains("2026-03-02T10:00:00Z"),
        "{}",
        text.stdout()
    );
    assert!(text.stdout().contains("push"), "{}", text.stdout());

    let show = env.run(&["runs", "show", "1", "--format", "json"]);
    show.expect_code(0);
    let show = show.json();
    assert_eq!(show["summary"]["id"], 1);
    let counts = &show["feeds"][0]["counts"];
    assert_eq!(show["feeds"][0]["feed"], "google");
    assert_eq!(counts["added"], 2000);
    assert_eq!(counts["sent"], 2000);
    assert_eq!(counts["accepted"], 2000);
    let second = env.run(&["runs", "show", "2", "--format", "json"]).json();
    assert_eq!(second["feeds"][0]["counts"]["unchanged"], 2000);
    assert_eq!(second["feeds"][0]["counts"]["added"], 0);

    let text = env.run(&["runs", "show", "1"]);
    text.expect_code(0);
    assert!(
        text.stdout().contains("google: 2000 added, 0 changed"),
        "{}",
        text.stdout()
    );
    env.run(&["runs", "show", "99"]).expect_code(2);
}

#[test]
fn push_to_an_unwritable_destination_fails_with_exit_3_and_records_nothing() {
    let env = project(2000);
    // A file where the destination folder should be.
    env.write("out", "not a folder");
    let run = push(&env, &[]);
    run.expect_code(3);
    assert!(run.stderr().contains("push failed"), "{}", run.stderr());
    let diff = diff_json(&env, &[]);
    assert_eq!(feed0(&diff)["totals"]["added"], 2000, "nothing recorded");
    let runs = env.run(&["runs", "--format", "json"]).json();
    assert_eq!(runs["runs"][0]["outcome"], "failed");
}

/// Kills `push` at random points; the state must always be the previous push or the new one.
#[test]
fn killed_push_leaves_previous_or_new_state() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    env.write("feeds/google.toml", FEED);
    let args = ["--variants", "12000", "--stores", "3", "--seed", "9"];
    env.generate("old", &args);
    env.generate("new", &args);
    // The new catalog: 5 % of prices up by a cent, under every guard.
    let path = env.dir.path().join("new/products.csv");
    let mut products = Table::read(&path);
    let price = products.col("price");
    products.rows = products
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            if i % 20 == 0 {
                let old: f64 = row[price].parse().expect("price");
                Table::set(row, price, &format!("{:.2}", old + 0.01))
            } else {
                row.clone()
            }
        })
        .collect();
    products.write(&path);
    let started = Instant::now();
    env.run(&["push", "--no-progress", "--catalog", "old"])
        .expect_code(0);
    let full = started.elapsed();

    let binary = env!("CARGO_BIN_EXE_omnifeed");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seed = u64::from(std::process::id()) ^ 0x9e37_79b9_7f4a_7c15;
    let mut rounds = 0;
    while rounds < 3 || (Instant::now() < deadline && rounds < 8) {
        rounds += 1;
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let fraction = (seed >> 33) as f64 / (1u64 << 31) as f64;
        let delay = full.mul_f64(fraction.clamp(0.02, 1.0));
        let mut child = std::process::Command::new(binary)
            .current_dir(env.dir.path())
            .args(["push", "--no-progress", "--catalog", "new"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn push");
        std::thread::sleep(delay);
        child.kill().ok();
        child.wait().expect("wait");

        let runs = env.run(&["runs", "--format", "json"]);
        runs.expect_code(0);
        assert!(runs.json()["runs"].is_array());
        let new = env.run(&[
            "diff",
            "--format",
            "json",
            "--no-progress",
            "--catalog",
            "new",
        ]);
        new.expect_code(0);
        if new.json()["has_changes"] == false {
            continue;
        }
        let old = env.run(&[
            "diff",
            "--format",
            "json",
            "--no-progress",
            "--catalog",
            "old",
        ]);
        old.expect_code(0);
        assert_eq!(
            old.json()["has_changes"],
            false,
            "round {rounds} (killed after {delay:?}): state is neither the old nor the new catalog"
        );
    }
}
