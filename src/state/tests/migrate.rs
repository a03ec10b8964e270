//! Upgrading a version-1 store: the field values move to the compact encoding and the
//! accepted hashes become the one content hash of those values, so nothing is re-sent.

use rusqlite::{Connection, params};

use super::fields;
use crate::diff::content_hash;
use crate::state::schema::MIGRATIONS;
use crate::state::*;

/// A store as version 1 left it: old-style hashes (here: arbitrary bytes) and JSON values.
fn version_1_store(path: &std::path::Path, items: &[(String, Fields)]) {
    let mut conn = Connection::open(path).expect("open");
    let tx = conn.transaction().expect("tx");
    MIGRATIONS[0].apply(&tx).expect("version 1");
    tx.pragma_update(None, "user_version", 1).expect("version");
    tx.execute(
        "INSERT INTO runs (id, started_at, command, outcome) VALUES (1, 0, 'push', 'ok')",
        [],
    )
    .expect("run");
    for (i, (key, fields)) in items.iter().enumerate() {
        let old_hash = (i as u128 + 1).to_be_bytes();
        let json = serde_json::to_string(fields).expect("json");
        tx.execute(
            "INSERT INTO items (feed, key, sent_hash, sent_at, sent_run, verdict,
                                accepted_hash, accepted_at, accepted_run)
             VALUES ('google', ?1, ?2, 5, 1, 'accepted', ?2, 5, 1)",
            params![key, old_hash],
        )
        .expect("item");
        tx.execute(
            "INSERT INTO item_fields (feed, key, fields) VALUES ('google', ?1, ?2)",
            params![key, json],
        )
        .expect("fields");
    }
    tx.commit().expect("commit");
}

#[test]
fn upgrade_recomputes_accepted_hashes_from_the_stored_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    let mut items: Vec<(String, Fields)> = (0..50)
        .map(|i| {
            (
                format!("SKU-{i:03}"),
                fields(&format!("{i}.99 EUR"), "in_stock"),
            )
        })
        .collect();
    // A long, non-ASCII value, and a field only one item has.
    items[7]
        .1
        .insert("description".into(), "Größe ".repeat(100));
    items[8].1.insert("gtin".into(), "4006381333931".into());
    version_1_store(&path, &items);

    let store = SqliteStore::open(&path).expect("migrates");
    assert_eq!(
        store.schema_version().expect("version"),
        MIGRATIONS.len() as i64
    );
    let hashes = store.accepted_hashes("google").expect("hashes");
    assert_eq!(hashes.len(), items.len());
    for (key, fields) in &items {
        // The hash a push computes for the same content today: unchanged, not re-sent.
        assert_eq!(hashes[key], content_hash(fields), "{key}");
    }
    let keys: Vec<&str> = items.iter().map(|(key, _)| key.as_str()).collect();
    let stored = store.accepted_fields("google", &keys).expect("fields");
    for (key, fields) in &items {
        assert_eq!(&stored[key], fields, "{key}");
    }
}

#[test]
fn compact_values_take_a_fraction_of_json() {
    let (_dir, mut store) = super::store();
    let run = store
        .begin_run("push", &["google"], None, super::t(0))
        .expect("begin");
    let long = "Recycled classic lightweight soft versatile cotton handmade waterproof. ".repeat(3);
    let items = (0..200).map(|i| {
        let mut f = fields(&format!("{i}.99 EUR"), "in_stock");
        f.insert(
            "description".into(),
            crate::diff::stored_value(&long).into_owned(),
        );
        f.insert(
            "link".into(),
            format!("https://shop.example.com/p/g{i:07}?variant=g{i:07}-whi-m"),
        );
        super::accepted(format!("SKU-{i:03}"), f)
    });
    store
        .record_push("google", run, items, &[], super::t(1))
        .expect("record");
    let conn = Connection::open(store.path()).expect("open");
    let stored: i64 = conn
        .query_row("SELECT SUM(LENGTH(fields)) FROM item_values", [], |row| {
            row.get(0)
        })
        .expect("sizes");
    let keys: Vec<String> = (0..200).map(|i| format!("SKU-{i:03}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let json: i64 = store
        .accepted_fields("google", &keys)
        .expect("fields")
        .values()
        .map(|f| serde_json::to_string(f).expect("json").len() as i64)
        .sum();
    assert!(
        stored * 3 < json * 2,
        "{stored} bytes stored for {json} bytes of JSON"
    );
}
