//! Item rows: the hot paths (loading all accepted hashes, recording a whole push).

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::{Connection, TransactionBehavior, params};

use super::codec::FieldCodec;
use super::error::{SourceError, StateError, sql};
use super::sqlite::to_micros;
use super::{Fields, PushSummary, PushedItem, RunId, Verdict};

pub(super) fn hash_bytes(hash: u128) -> [u8; 16] {
    hash.to_be_bytes()
}

fn hash_from_bytes(feed: &str, key: &str, bytes: &[u8]) -> Result<u128, StateError> {
    let bytes: [u8; 16] = bytes.try_into().map_err(|_| StateError::Corrupt {
        what: format!("accepted_hash of `{key}` in feed `{feed}`"),
        reason: format!("{} bytes instead of 16", bytes.len()),
    })?;
    Ok(u128::from_be_bytes(bytes))
}

pub(super) fn for_each_accepted(
    conn: &Connection,
    feed: &str,
    each: &mut dyn FnMut(&str, u128),
) -> Result<(), StateError> {
    const ACTION: &str = "loading accepted hashes";
    let mut stmt = conn
        .prepare(
            "SELECT key, accepted_hash FROM items WHERE feed = ?1 AND accepted_hash IS NOT NULL",
        )
        .map_err(sql(ACTION))?;
    let mut rows = stmt.query(params![feed]).map_err(sql(ACTION))?;
    while let Some(row) = rows.next().map_err(sql(ACTION))? {
        // Borrowed, not a `String` per row: the caller copies what it keeps.
        let key = row
            .get_ref(0)
            .map_err(sql(ACTION))?
            .as_str()
            .map_err(|err| StateError::Corrupt {
                what: format!("an item key in feed `{feed}`"),
                reason: err.to_string(),
            })?;
        let bytes = row.get_ref(1).map_err(sql(ACTION))?;
        let bytes = bytes.as_blob().map_err(|err| StateError::Corrupt {
            what: format!("accepted_hash of `{key}` in feed `{feed}`"),
            reason: err.to_string(),
        })?;
        each(key, hash_from_bytes(feed, key, bytes)?);
    }
    Ok(())
}

pub(super) fn accepted_fields(
    conn: &Connection,
    feed: &str,
    keys: &[&str],
) -> Result<HashMap<String, Fields>, StateError> {
    const ACTION: &str = "loading accepted field values";
    let codec = FieldCodec::load(conn).map_err(sql(ACTION))?;
    let mut stmt = conn
        .prepare("SELECT fields FROM item_values WHERE feed = ?1 AND key = ?2")
        .map_err(sql(ACTION))?;
    let mut out = HashMap::with_capacity(keys.len());
    for key in keys {
        let mut rows = stmt.query(params![feed, key]).map_err(sql(ACTION))?;
        let Some(row) = rows.next().map_err(sql(ACTION))? else {
            continue;
        };
        let corrupt = |reason: String| StateError::Corrupt {
            what: format!("field values of `{key}` in feed `{feed}`"),
            reason,
        };
        let bytes = row
            .get_ref(0)
            .map_err(sql(ACTION))?
            .as_blob()
            .map_err(|err| corrupt(err.to_string()))?;
        let fields = codec.decode(key, bytes).map_err(corrupt)?;
        out.insert((*key).to_owned(), fields);
    }
    Ok(out)
}

/// Records one push in one IMMEDIATE transaction. Every statement is prepared once and
/// reused for all rows; an early return drops the transaction, which rolls it back. A panic
/// in the item source unwinds through the same drop, so it rolls back too.
pub(super) fn record_push<I, E>(
    conn: &mut Connection,
    feed: &str,
    run: RunId,
    items: I,
    removed: &[&str],
    now: Timestamp,
) -> Result<PushSummary, StateError>
where
    I: IntoIterator<Item = Result<PushedItem, E>>,
    E: Into<SourceError>,
{
    const ACTION: &str = "recording a push";
    let now = to_micros(now);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(ACTION))?;
    let mut summary = PushSummary::default();
    let mut codec = FieldCodec::load(&tx).map_err(sql(ACTION))?;
    {
        let mut accept = tx
            .prepare(
                "INSERT INTO items (feed, key, accepted_hash, accepted_at, accepted_run)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (feed, key) DO UPDATE SET
                     sent_hash = NULL, sent_at = NULL, sent_run = NULL, verdict = NULL,
                     accepted_hash = excluded.accepted_hash,
                     accepted_at = excluded.accepted_at, accepted_run = excluded.accepted_run",
            )
            .map_err(sql(ACTION))?;
        let mut set_fields = tx
            .prepare(
                "INSERT INTO item_values (feed, key, fields) VALUES (?1, ?2, ?3)
                 ON CONFLICT (feed, key) DO UPDATE SET fields = excluded.fields",
            )
            .map_err(sql(ACTION))?;
        // Same content as last accepted: refresh the times only. The hash condition makes a
        // caller bug (no fields for changed content) an error instead of stale values.
        let mut touch = tx
            .prepare(
                "UPDATE items SET sent_hash = NULL, sent_at = NULL, sent_run = NULL, verdict = NULL,
                                  accepted_at = ?4, accepted_run = ?5
                 WHERE feed = ?1 AND key = ?2 AND accepted_hash = ?3",
            )
            .map_err(sql(ACTION))?;
        // A rejection leaves the accepted columns alone: diffs keep comparing against what
        // the channel really holds.
        let mut reject = tx
            .prepare(
                "INSERT INTO items (feed, key, sent_hash, sent_at, sent_run, verdict)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (feed, key) DO UPDATE SET
                     sent_hash = excluded.sent_hash, sent_at = excluded.sent_at,
                     sent_run = excluded.sent_run, verdict = excluded.verdict",
            )
            .map_err(sql(ACTION))?;
        for item in items {
            let item = item.map_err(|source| StateError::ItemSource {
                feed: feed.to_owned(),
                source: source.into(),
            })?;
            let hash = hash_bytes(item.hash);
            match (&item.verdict, &item.fields) {
                (Verdict::Accepted, Some(fields)) => {
                    accept
                        .execute(params![feed, item.key, hash, now, run.0])
                        .map_err(sql(ACTION))?;
                    let stored = codec.encode(&tx, &item.key, fields).map_err(sql(ACTION))?;
                    set_fields
                        .execute(params![feed, item.key, stored])
                        .map_err(sql(ACTION))?;
                    summary.accepted += 1;
                }
                (Verdict::Accepted, None) => {
                    let n = touch
                        .execute(params![feed, item.key, hash, now, run.0])
                        .map_err(sql(ACTION))?;
                    if n == 0 {
                        return Err(StateError::MissingFields {
                            feed: feed.to_owned(),
                            key: item.key,
                        });
                    }
                    summary.accepted += 1;
                }
                (Verdict::Rejected(message), _) => {
                    reject
                        .execute(params![feed, item.key, hash, now, run.0, message])
                        .map_err(sql(ACTION))?;
                    summary.rejected += 1;
                }
            }
        }
        let mut delete_item = tx
            .prepare("DELETE FROM items WHERE feed = ?1 AND key = ?2")
            .map_err(sql(ACTION))?;
        let mut delete_fields = tx
            .prepare("DELETE FROM item_values WHERE feed = ?1 AND key = ?2")
            .map_err(sql(ACTION))?;
        for key in removed {
            summary.removed += delete_item
                .execute(params![feed, key])
                .map_err(sql(ACTION))? as u64;
            delete_fields
                .execute(params![feed, key])
                .map_err(sql(ACTION))?;
        }
        // Marks the run as having recorded this feed, inside the same transaction, so
        // `run_feeds` never disagrees with `items` after a crash.
        tx.execute(
            "INSERT INTO run_feeds (run_id, feed, sent, accepted, rejected, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (run_id, feed) DO UPDATE SET
                 sent = excluded.sent, accepted = excluded.accepted,
                 rejected = excluded.rejected, recorded_at = excluded.recorded_at",
            params![
                run.0,
                feed,
                i64::try_from(summary.accepted + summary.rejected).unwrap_or(i64::MAX),
                i64::try_from(summary.accepted).unwrap_or(i64::MAX),
                i64::try_from(summary.rejected).unwrap_or(i64::MAX),
                now
            ],
        )
        .map_err(sql(ACTION))?;
    }
    tx.commit().map_err(sql(ACTION))?;
    Ok(summary)
}
