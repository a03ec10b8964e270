//! The on-disk schema and its migrations.
//!
//! Times are unix microseconds (`INTEGER`), hashes are 16-byte big-endian `BLOB`s of xxh3-128.
//!
//! - `runs`: one row per command run: `id`, `started_at`, `ended_at` (NULL while running or
//!   after a crash), `command`, `outcome` (see [`super::Outcome`]), `catalog_modified_at`.
//! - `run_feeds`: one row per run and feed, with the diff counts (`added`, `changed`,
//!   `removed`, `unchanged`) and the push counts (`sent`, `accepted`, `rejected`).
//!   `recorded_at` is set by the same transaction that records the feed's items, so a run
//!   whose items are in the store always says so, even if the process died before
//!   `finish_run`.
//! - `items`: one row per feed and item key. What was last *sent* (`sent_hash`, `sent_at`,
//!   `sent_run`, `verdict`) is kept apart from what the channel last *accepted*
//!   (`accepted_hash`, `accepted_at`, `accepted_run`): a rejected item keeps its last accepted
//!   content, and diffs compare against that. Since version 2 the sent columns are NULL when
//!   the last sent content was accepted (most rows: 40 bytes less each). The catalog time of
//!   the accepting push is `runs.catalog_modified_at` of `accepted_run`. Version 2 dropped
//!   the index on `accepted_at`: the refresh check scans the narrow rows once per run, and
//!   every push no longer rewrites an index entry per item.
//! - `item_values` (since version 2): the accepted field values per feed and key, in the
//!   compact encoding of [`super::codec`], with field names in `field_names` and recurring
//!   values in `field_values`. They live
//!   in their own table so that loading all accepted hashes for a diff scans only the narrow
//!   `items` rows. Version 1 kept them as JSON text in `item_fields`, about four times the
//!   size.
//!
//! - Since version 3, `items.rejections` counts the consecutive rejections of the same sent
//!   content with the same reason (NULL once accepted), and `rejections` keeps each run's
//!   rejected items with the channel's reason.
//!
//! `accepted_hash` is [`crate::diff::content_hash`] of the item's stored field values, so it
//! can be recomputed from them (version 2 did: version 1 stored another hash).

use rusqlite::{Transaction, params};

use super::Fields;
use super::codec::{EntryWriter, FieldCodec};

/// One step of the schema: SQL, or code where rows must be rewritten.
pub(crate) enum Migration {
    Sql(&'static str),
    Code(fn(&Transaction<'_>) -> rusqlite::Result<()>),
}

impl Migration {
    /// Runs in the caller's transaction, which also bumps the version.
    pub(crate) fn apply(&self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        match self {
            Migration::Sql(sql) => tx.execute_batch(sql),
            Migration::Code(step) => step(tx),
        }
    }
}

/// Migration `i` brings the schema from version `i` to `i + 1`. Append only: never edit or
/// reorder a released migration, because stores in the field have already applied it.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration::Sql(VERSION_1),
    Migration::Code(version_2),
    Migration::Sql(VERSION_3),
];

const VERSION_1: &str = r"
CREATE TABLE runs (
    id                  INTEGER PRIMARY KEY,
    started_at          INTEGER NOT NULL,
    ended_at            INTEGER,
    command             TEXT    NOT NULL,
    outcome             TEXT    NOT NULL,
    catalog_modified_at INTEGER
) STRICT;

CREATE TABLE run_feeds (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    feed        TEXT    NOT NULL,
    added       INTEGER NOT NULL DEFAULT 0,
    changed     INTEGER NOT NULL DEFAULT 0,
    removed     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    sent        INTEGER NOT NULL DEFAULT 0,
    accepted    INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    recorded_at INTEGER,
    PRIMARY KEY (run_id, feed)
) STRICT, WITHOUT ROWID;

CREATE INDEX run_feeds_feed ON run_feeds(feed, recorded_at);

CREATE TABLE items (
    feed          TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    sent_hash     BLOB,
    sent_at       INTEGER,
    sent_run      INTEGER,
    verdict       TEXT,
    accepted_hash BLOB,
    accepted_at   INTEGER,
    accepted_run  INTEGER,
    PRIMARY KEY (feed, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX items_accepted_at ON items(feed, accepted_at);

CREATE TABLE item_fields (
    feed   TEXT NOT NULL,
    key    TEXT NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (feed, key)
) STRICT, WITHOUT ROWID;
";

/// Field values move from JSON text to the compact encoding, and every accepted hash is
/// recomputed from them: version 1 stored the engine's old hash (spec field order, whole
/// values), which the one content hash replaced. Recomputing keeps an upgrade from
/// re-sending every item. Where the last sent content was the accepted one, `sent_hash`
/// follows; a rejected item's `sent_hash` stays as it was (its content is not stored).
fn version_2(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE field_names (
             id   INTEGER PRIMARY KEY,
             text TEXT    NOT NULL UNIQUE
         ) STRICT;
         CREATE TABLE field_values (
             id   INTEGER PRIMARY KEY,
             text TEXT    NOT NULL UNIQUE
         ) STRICT;
         CREATE TABLE item_values (
             feed   TEXT NOT NULL,
             key    TEXT NOT NULL,
             fields BLOB NOT NULL,
             PRIMARY KEY (feed, key)
         ) STRICT, WITHOUT ROWID;
         DROP INDEX items_accepted_at;",
    )?;
    let mut codec = FieldCodec::load(tx)?;
    let mut read = tx.prepare("SELECT feed, key, fields FROM item_fields")?;
    let mut insert =
        tx.prepare("INSERT INTO item_values (feed, key, fields) VALUES (?1, ?2, ?3)")?;
    let mut rehash = tx.prepare(
        "UPDATE items SET accepted_hash = ?3
         WHERE feed = ?1 AND key = ?2 AND accepted_hash IS NOT NULL",
    )?;
    let mut entries = EntryWriter::new(tx)?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let feed = row.get_ref(0)?.as_str()?;
        let key = row.get_ref(1)?.as_str()?;
        let json = row.get_ref(2)?.as_str()?;
        let fields: Fields = serde_json::from_str(json).map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("field values of `{key}` in feed `{feed}`: {err}").into(),
            )
        })?;
        let hash = crate::diff::content_hash(&fields).to_be_bytes();
        let mut new_entries = Vec::new();
        insert.execute(params![
            feed,
            key,
            codec.encode(key, &fields, &mut new_entries)
        ])?;
        entries.write(&new_entries)?;
        rehash.execute(params![feed, key, hash])?;
    }
    tx.execute_batch(
        "UPDATE items SET sent_hash = NULL, sent_at = NULL, sent_run = NULL, verdict = NULL
         WHERE verdict = 'accepted';
         DROP TABLE item_fields;",
    )
}

/// Version 3: item-level channels answer per item, so the store keeps how often in a row an
/// item was rejected for the same content and reason (`items.rejections`; a push holds an
/// item back once that reaches its limit, until its content changes), and every rejection
/// with its run (`rejections`), for `runs show`. Rejections recorded before count once.
const VERSION_3: &str = r"
ALTER TABLE items ADD COLUMN rejections INTEGER;
UPDATE items SET rejections = 1 WHERE verdict IS NOT NULL;

CREATE TABLE rejections (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    feed   TEXT    NOT NULL,
    key    TEXT    NOT NULL,
    reason TEXT    NOT NULL,
    PRIMARY KEY (run_id, feed, key)
) STRICT, WITHOUT ROWID;
";

/// The schema version this build writes.
pub(crate) fn current_version() -> i64 {
    // A handful of migrations always fits in i64.
    MIGRATIONS.len() as i64
}
