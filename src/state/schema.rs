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
//!   content, and diffs compare against that. The catalog time of the accepting push is
//!   `runs.catalog_modified_at` of `accepted_run`.
//! - `item_fields`: the accepted field values (JSON object of field -> string) per feed and key.
//!   They live in their own table so that loading all accepted hashes for a diff scans only
//!   the narrow `items` rows.

/// Migration `i` brings the schema from version `i` to `i + 1`. Append only: never edit or
/// reorder a released migration, because stores in the field have already applied it.
pub(crate) const MIGRATIONS: &[&str] = &[r"
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
"];

/// The schema version this build writes.
pub(crate) fn current_version() -> i64 {
    // A handful of migrations always fits in i64.
    MIGRATIONS.len() as i64
}
