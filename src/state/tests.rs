use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::schema::MIGRATIONS;
use super::*;
use crate::diff::{DiffBuilder, Ranking, content_hash};

mod kill;
mod migrate;
mod read_only;

pub(super) fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).expect("valid time")
}

pub(super) fn fields(price: &str, availability: &str) -> Fields {
    [
        ("availability".to_owned(), availability.to_owned()),
        ("price".to_owned(), price.to_owned()),
        ("title".to_owned(), "Shirt".to_owned()),
    ]
    .into_iter()
    .collect()
}

pub(super) fn accepted(key: String, fields: Fields) -> Result<PushedItem, std::io::Error> {
    Ok(PushedItem {
        key,
        hash: content_hash(&fields),
        fields: Some(fields),
        verdict: Verdict::Accepted,
    })
}

pub(super) fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("nested/dir/state.db")).expect("open");
    (dir, store)
}

fn price_of(i: usize) -> String {
    format!("{}.99 EUR", 10 + i % 50)
}

/// Records `n` items `SKU-0000..` in one run and returns the run.
fn seed(store: &mut SqliteStore, n: usize) -> RunId {
    let run = store
        .begin_run("push", &["google"], Some(t(0)), t(1))
        .expect("begin");
    let items = (0..n).map(|i| accepted(format!("SKU-{i:04}"), fields(&price_of(i), "in_stock")));
    let summary = store
        .record_push("google", run, items, &[], t(2))
        .expect("record");
    assert_eq!(summary.accepted, n as u64);
    run
}

#[test]
fn migrations_are_idempotent_and_versioned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a/b/state.db");
    let mut first = SqliteStore::open(&path).expect("first open creates parents");
    assert_eq!(
        first.schema_version().expect("version"),
        MIGRATIONS.len() as i64
    );
    seed(&mut first, 3);
    drop(first);
    let second = SqliteStore::open(&path).expect("second open");
    assert_eq!(
        second.schema_version().expect("version"),
        MIGRATIONS.len() as i64
    );
    assert_eq!(second.accepted_hashes("google").expect("hashes").len(), 3);
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    drop(SqliteStore::open(&path).expect("open"));
    let conn = rusqlite::Connection::open(&path).expect("raw open");
    conn.pragma_update(None, "user_version", MIGRATIONS.len() as i64 + 1)
        .expect("bump");
    drop(conn);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StateError::TooNew { .. })
    ));
}

#[test]
fn record_then_diff_round_trip() {
    let (_dir, mut store) = store();
    seed(&mut store, 1000);
    let (k, m, n, j) = (7, 5, 11, 3);
    // Current feed: prices of 0..k changed, availability of k..k+j flipped, the last m
    // removed, n new ones added.
    let mut current = Vec::new();
    for i in 0..1000 - m {
        let price = if i < k {
            format!("{}.49 EUR", 100 + i)
        } else {
            price_of(i)
        };
        let avail = if (k..k + j).contains(&i) {
            "out_of_stock"
        } else {
            "in_stock"
        };
        current.push((format!("SKU-{i:04}"), fields(&price, avail)));
    }
    for i in 0..n {
        current.push((format!("NEW-{i:02}"), fields("1.00 EUR", "in_stock")));
    }
    let mut builder = DiffBuilder::new(store.accepted_hashes("google").expect("hashes"));
    let mut fields_built = 0;
    for (key, f) in &current {
        builder
            .push_with(key, content_hash(f), || {
                fields_built += 1;
                f.clone()
            })
            .expect("push");
    }
    assert_eq!(
        fields_built,
        k + j + n,
        "field maps are built only for new or changed items"
    );
    let needed = builder.keys_needing_before();
    assert_eq!(needed.len(), k + j + m);
    let before = store.accepted_fields("google", &needed).expect("fields");
    // The test items' price and availability fields carry those roles.
    let roles = crate::spec::Roles {
        price: Some(crate::spec::RoleField::new("price", &[])),
        availability: Some(crate::spec::RoleField::new("availability", &[])),
        ..crate::spec::Roles::default()
    };
    let diff = builder
        .finish(
            &mut crate::diff::tests::lookup(&before),
            &Ranking::new(&roles),
        )
        .expect("diff");

    assert_eq!(diff.totals.changed, (k + j) as u64);
    assert_eq!(diff.totals.removed, m as u64);
    assert_eq!(diff.totals.added, n as u64);
    assert_eq!(diff.totals.unchanged, (1000 - m - k - j) as u64);
    assert_eq!(diff.totals.previous, 1000);
    for item in &diff.changed {
        let i: usize = item.key["SKU-".len()..].parse().expect("numeric key");
        assert_eq!(item.fields.len(), 1, "{item:?}");
        let change = &item.fields[0];
        if i < k {
            assert_eq!(change.field, "price");
            assert_eq!(change.before.as_deref(), Some(price_of(i).as_str()));
            assert_eq!(change.after, Some(format!("{}.49 EUR", 100 + i)));
        } else {
            assert!((k..k + j).contains(&i));
            assert_eq!(change.field, "availability");
            assert_eq!(change.before.as_deref(), Some("in_stock"));
            assert_eq!(change.after.as_deref(), Some("out_of_stock"));
        }
    }
    // Availability flips rank first.
    assert!(
        diff.changed[..j]
            .iter()
            .all(|c| c.fields[0].field == "availability")
    );
    let removed: Vec<&str> = diff.removed.iter().map(|r| r.key.as_str()).collect();
    let expected: Vec<String> = (1000 - m..1000).map(|i| format!("SKU-{i:04}")).collect();
    assert_eq!(
        removed,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(diff.removed.iter().all(|r| {
        r.fields
            .iter()
            .all(|f| f.after.is_none() && f.before.is_some())
    }));
    assert!(
        diff.added
            .iter()
            .all(|a| a.key.starts_with("NEW-") && a.fields.len() == 3)
    );
}

#[test]
fn failing_item_source_leaves_previous_state() {
    let (_dir, mut store) = store();
    seed(&mut store, 100);
    let before = store.accepted_hashes("google").expect("hashes");
    let run = store
        .begin_run("push", &["google"], Some(t(10)), t(11))
        .expect("begin");
    let items = (0..100).map(|i| {
        if i == 60 {
            Err(std::io::Error::other("feed file vanished"))
        } else {
            accepted(format!("SKU-{i:04}"), fields("999.00 EUR", "in_stock"))
        }
    });
    let err = store
        .record_push("google", run, items, &["SKU-0099"], t(12))
        .expect_err("source error must fail the push");
    assert!(matches!(err, StateError::ItemSource { .. }), "{err}");
    assert_eq!(store.accepted_hashes("google").expect("hashes"), before);
    let detail = store.run(run).expect("run").expect("exists");
    assert_eq!(detail.feeds[0].recorded_at, None);
}

#[test]
fn panicking_item_source_leaves_previous_state() {
    let (_dir, mut store) = store();
    seed(&mut store, 50);
    let before = store.accepted_hashes("google").expect("hashes");
    let run = store
        .begin_run("push", &["google"], None, t(11))
        .expect("begin");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let items = (0..50).map(|i| {
            assert!(i != 30, "serializer bug");
            accepted(format!("SKU-{i:04}"), fields("1.00 EUR", "in_stock"))
        });
        store.record_push("google", run, items, &[], t(12))
    }));
    assert!(result.is_err());
    assert_eq!(store.accepted_hashes("google").expect("hashes"), before);
}

#[test]
fn rejection_keeps_accepted_content_and_missing_fields_is_refused() {
    let (_dir, mut store) = store();
    seed(&mut store, 2);
    let run = store
        .begin_run("push", &["google"], None, t(20))
        .expect("begin");
    let new = fields("5.00 EUR", "in_stock");
    let items = vec![Ok::<_, std::io::Error>(PushedItem {
        key: "SKU-0000".into(),
        hash: content_hash(&new),
        fields: Some(new),
        verdict: Verdict::Rejected("price mismatch".into()),
    })];
    let summary = store
        .record_push("google", run, items, &[], t(21))
        .expect("record");
    assert_eq!(summary.rejected, 1);
    let kept = store
        .accepted_fields("google", &["SKU-0000"])
        .expect("fields");
    assert_eq!(kept["SKU-0000"], fields(&price_of(0), "in_stock"));

    let unchanged = PushedItem {
        key: "SKU-0001".into(),
        hash: 42,
        fields: None,
        verdict: Verdict::Accepted,
    };
    let err = store
        .record_push(
            "google",
            run,
            vec![Ok::<_, std::io::Error>(unchanged)],
            &[],
            t(22),
        )
        .expect_err("None fields with a new hash");
    assert!(matches!(err, StateError::MissingFields { .. }));
}

#[test]
fn stale_items_catalog_time_and_run_history() {
    let (_dir, mut store) = store();
    let first = seed(&mut store, 3);
    // Refresh one item 40 days later without sending its fields again.
    let later = t(2) + SignedDuration::from_hours(24 * 40);
    let run = store
        .begin_run("push", &["google"], Some(t(500)), later)
        .expect("begin");
    let f = fields(&price_of(1), "in_stock");
    let touch = PushedItem {
        key: "SKU-0001".into(),
        hash: content_hash(&f),
        fields: None,
        verdict: Verdict::Accepted,
    };
    store
        .record_push(
            "google",
            run,
            vec![Ok::<_, std::io::Error>(touch)],
            &["SKU-0002"],
            later,
        )
        .expect("record");
    let counts = FeedCounts {
        unchanged: 1,
        removed: 1,
        sent: 1,
        accepted: 1,
        ..FeedCounts::default()
    };
    store
        .finish_run(run, Outcome::Ok, &[("google", counts)], later)
        .expect("finish");
    let dry = store
        .begin_run("diff", &["google"], Some(t(900)), later)
        .expect("begin");
    store
        .finish_run(dry, Outcome::DryRun, &[], later)
        .expect("finish");

    let cutoff = later - SignedDuration::from_hours(24 * 30);
    assert_eq!(
        store.stale_items("google", cutoff).expect("stale"),
        vec!["SKU-0000"]
    );
    // The dry run recorded nothing, so its newer catalog time does not count.
    assert_eq!(
        store.last_catalog_time("google").expect("time"),
        Some(t(500))
    );
    assert_eq!(store.last_catalog_time("amazon").expect("time"), None);

    let runs = store.runs(10).expect("runs");
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![dry, run, first]
    );
    assert_eq!(runs[0].outcome, Outcome::DryRun);
    assert_eq!(runs[2].outcome, Outcome::Running);
    let detail = store.run(run).expect("run").expect("exists");
    assert_eq!(detail.summary.feeds, vec!["google"]);
    assert_eq!(detail.feeds[0].counts, counts);
    assert_eq!(detail.feeds[0].recorded_at, Some(later));
    assert_eq!(store.run(RunId(999)).expect("run"), None);
    let hashes: HashMap<String, u128> = store.accepted_hashes("google").expect("hashes");
    assert_eq!(hashes.len(), 2);
}

/// Items `SKU-0000..` whose brand recurs (so it becomes a shared dictionary value several
/// batches into the push) and whose last item brings a field name no other item has.
fn batch_crossing_items(n: usize) -> Vec<(String, Fields)> {
    (0..n)
        .map(|i| {
            let mut fields = fields(&price_of(i), "in_stock");
            fields.insert("brand".into(), format!("Brand {}", i / 300));
            if i + 1 == n {
                fields.insert("energy_label".into(), "A+".into());
            }
            (format!("SKU-{i:04}"), fields)
        })
        .collect()
}

fn dictionary_rows(store: &SqliteStore) -> i64 {
    let conn = rusqlite::Connection::open(store.path()).expect("open read-only view");
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM field_names) + (SELECT COUNT(*) FROM field_values)",
        [],
        |row| row.get(0),
    )
    .expect("count dictionary rows")
}

#[test]
fn pushes_spanning_many_encoder_batches_store_every_item_exactly() {
    // One past two full batches, and exactly one batch: the encoder's last batch is partial
    // or empty.
    for n in [2049, 1024] {
        let (_dir, mut store) = store();
        let items = batch_crossing_items(n);
        let run = store
            .begin_run("push", &["google"], None, t(1))
            .expect("begin");
        let pushed = items
            .iter()
            .map(|(key, fields)| accepted(key.clone(), fields.clone()));
        let summary = store
            .record_push("google", run, pushed, &[], t(2))
            .expect("record");
        assert_eq!(summary.accepted, n as u64);
        let hashes = store.accepted_hashes("google").expect("hashes");
        assert_eq!(hashes.len(), n);
        let keys: Vec<&str> = items.iter().map(|(key, _)| key.as_str()).collect();
        let stored = store.accepted_fields("google", &keys).expect("fields");
        for (key, fields) in &items {
            assert_eq!(stored.get(key), Some(fields), "{key}");
            assert_eq!(hashes[key], content_hash(fields), "{key}");
        }
    }
}

#[test]
fn failing_source_after_some_batches_leaves_no_dictionary_rows() {
    let (_dir, mut store) = store();
    let run = store
        .begin_run("push", &["google"], None, t(1))
        .expect("begin");
    let items = batch_crossing_items(3000)
        .into_iter()
        .enumerate()
        .map(|(i, (key, fields))| {
            if i == 2500 {
                Err(std::io::Error::other("spill file cut off"))
            } else {
                accepted(key, fields)
            }
        });
    let err = store
        .record_push("google", run, items, &[], t(2))
        .expect_err("source error must fail the push");
    assert!(matches!(err, StateError::ItemSource { .. }), "{err}");
    assert!(store.accepted_hashes("google").expect("hashes").is_empty());
    // The names and shared values the encoder queued for the first batches went with them.
    assert_eq!(dictionary_rows(&store), 0);
    // And the next push, which needs them again, stores and reads back every value.
    let items = batch_crossing_items(1500);
    let pushed = items
        .iter()
        .map(|(key, fields)| accepted(key.clone(), fields.clone()));
    store
        .record_push("google", run, pushed, &[], t(3))
        .expect("record");
    let keys: Vec<&str> = items.iter().map(|(key, _)| key.as_str()).collect();
    let stored = store.accepted_fields("google", &keys).expect("fields");
    assert_eq!(stored.len(), 1500);
    for (key, fields) in &items {
        assert_eq!(stored.get(key), Some(fields), "{key}");
    }
}

/// The store keeps its field dictionary between pushes (an item-level push records a
/// transaction per batch); a push that rolls back must not leave the ids it made up in it,
/// or the next push would refer to rows that were never stored.
#[test]
fn the_dictionary_kept_between_pushes_forgets_a_rolled_back_push() {
    let (_dir, mut store) = store();
    let run = seed(&mut store, 20);
    let seeded_rows = dictionary_rows(&store);
    let items = batch_crossing_items(3000)
        .into_iter()
        .enumerate()
        .map(|(i, (key, fields))| {
            if i == 2500 {
                Err(std::io::Error::other("spill file cut off"))
            } else {
                accepted(format!("NEW-{key}"), fields)
            }
        });
    store
        .record_push("google", run, items, &[], t(3))
        .expect_err("source error must fail the push");
    assert_eq!(dictionary_rows(&store), seeded_rows);
    let items = batch_crossing_items(1500);
    let pushed = items
        .iter()
        .map(|(key, fields)| accepted(format!("NEW-{key}"), fields.clone()));
    store
        .record_push("google", run, pushed, &[], t(4))
        .expect("record");
    // Read back through a fresh connection: it knows only what was committed.
    let reopened = SqliteStore::open(store.path()).expect("reopen");
    let keys: Vec<String> = items.iter().map(|(key, _)| format!("NEW-{key}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let stored = reopened.accepted_fields("google", &keys).expect("fields");
    assert_eq!(stored.len(), 1500);
    for (key, fields) in &items {
        assert_eq!(stored.get(&format!("NEW-{key}")), Some(fields), "{key}");
    }
}
