//! The read-only store of `diff` and `runs`: one snapshot, no writes, no history is `None`.

use super::{accepted, fields, t};
use crate::state::*;

fn push_one(store: &mut SqliteStore, price: &str) -> RunId {
    let run = store
        .begin_run("push", &["feed"], None, t(0))
        .expect("begin");
    let items = std::iter::once(accepted("K".to_owned(), fields(price, "in_stock")));
    store
        .record_push("feed", run, items, &[], t(1))
        .expect("record");
    store
        .finish_run(run, Outcome::Ok, &[], t(2))
        .expect("finish");
    run
}

#[test]
fn a_reader_sees_one_snapshot_while_a_push_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    let mut writer = SqliteStore::open(&path).expect("open");
    let first = push_one(&mut writer, "1.00 EUR");
    let reader = SqliteStore::open_read_only(&path)
        .expect("open read-only")
        .expect("has history");
    let before = reader.accepted_hashes("feed").expect("hashes");
    let second = push_one(&mut writer, "2.00 EUR");
    assert_ne!(first, second);
    assert_eq!(reader.accepted_hashes("feed").expect("hashes"), before);
    let runs = reader.runs(10).expect("runs");
    assert_eq!(
        runs.len(),
        1,
        "the second run is not in the reader's snapshot"
    );
    assert_eq!(runs[0].id, first);
    drop(reader);
    let fresh = SqliteStore::open_read_only(&path)
        .expect("open read-only")
        .expect("has history");
    assert_eq!(fresh.runs(10).expect("runs")[0].id, second);
}

#[test]
fn no_file_an_empty_file_or_an_unwritten_store_has_no_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.db");
    assert!(
        SqliteStore::open_read_only(&missing)
            .expect("open")
            .is_none()
    );
    assert!(!missing.exists(), "a reader creates nothing");
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("write");
    assert!(SqliteStore::open_read_only(&empty).expect("open").is_none());
    let unrelated = dir.path().join("other.db");
    rusqlite::Connection::open(&unrelated)
        .and_then(|conn| conn.execute_batch("CREATE TABLE t (x)"))
        .expect("create");
    assert!(
        SqliteStore::open_read_only(&unrelated)
            .expect("open")
            .is_none()
    );
}

#[test]
fn a_reader_cannot_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    push_one(&mut SqliteStore::open(&path).expect("open"), "1.00 EUR");
    let mut reader = SqliteStore::open_read_only(&path)
        .expect("open read-only")
        .expect("has history");
    assert!(reader.begin_run("push", &["feed"], None, t(3)).is_err());
}
