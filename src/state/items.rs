//! Item rows: the hot paths (loading all accepted hashes, recording a whole push).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use jiff::Timestamp;
use rusqlite::{Connection, TransactionBehavior, params};

use super::codec::{EntryWriter, FieldCodec, NewEntry};
use super::error::{SourceError, StateError, sql};
use super::sqlite::to_micros;
use super::{Fields, PushSummary, PushedItem, RunId, Verdict};

pub(super) fn hash_bytes(hash: u128) -> [u8; 16] {
    hash.to_be_bytes()
}

pub(super) fn hash_from_bytes(feed: &str, key: &str, bytes: &[u8]) -> Result<u128, StateError> {
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

/// Items handed to the encoder at a time: few channel operations, little memory in flight.
const BATCH: usize = 1024;

/// A batch of items with their stored field values encoded, ready for the SQL statements.
struct EncodedBatch {
    /// Each item (its `fields` dropped once encoded) and the range of its encoded values
    /// in `bytes` (`None` when it carried no fields).
    items: Vec<(PushedItem, Option<Range<usize>>)>,
    bytes: Vec<u8>,
    /// Dictionary rows the blobs of this batch refer to.
    new_entries: Vec<NewEntry>,
}

/// The encoder thread: turns batches of items into [`EncodedBatch`]es, in order, until the
/// input closes or the writer stops listening.
fn encode_batches(
    codec: &mut FieldCodec,
    batches: Receiver<Vec<PushedItem>>,
    encoded: SyncSender<EncodedBatch>,
) {
    for batch in batches {
        let mut out = EncodedBatch {
            items: Vec::with_capacity(batch.len()),
            bytes: Vec::new(),
            new_entries: Vec::new(),
        };
        for mut item in batch {
            let stored = item.fields.take().map(|fields| {
                let start = out.bytes.len();
                let blob = codec.encode(&item.key, &fields, &mut out.new_entries);
                out.bytes.extend_from_slice(blob);
                start..out.bytes.len()
            });
            out.items.push((item, stored));
        }
        if encoded.send(out).is_err() {
            return;
        }
    }
}

/// Records one push in one IMMEDIATE transaction. Every statement is prepared once and
/// reused for all rows; an early return drops the transaction, which rolls it back. A panic
/// in the item source unwinds through the same drop, so it rolls back too.
///
/// Encoding the field values (a fifth of recording a first push) runs on its own thread, a
/// batch ahead of the SQL statements on this one; new dictionary rows travel with the batch
/// that needs them, so everything still lands in the one transaction.
///
/// `cached` is the dictionary of the previous committed call (`None`: loaded here); it
/// holds this call's dictionary only once the transaction has committed.
pub(super) fn record_push<I, E>(
    conn: &mut Connection,
    cached: &mut Option<FieldCodec>,
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
    let mut codec = match cached.take() {
        Some(codec) => codec,
        None => FieldCodec::load(&tx).map_err(sql(ACTION))?,
    };
    {
        let mut accept = tx
            .prepare(
                "INSERT INTO items (feed, key, accepted_hash, accepted_at, accepted_run)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (feed, key) DO UPDATE SET
                     sent_hash = NULL, sent_at = NULL, sent_run = NULL, verdict = NULL,
                     rejections = NULL, accepted_hash = excluded.accepted_hash,
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
                                  rejections = NULL, accepted_at = ?4, accepted_run = ?5
                 WHERE feed = ?1 AND key = ?2 AND accepted_hash = ?3",
            )
            .map_err(sql(ACTION))?;
        // A rejection leaves the accepted columns alone: diffs keep comparing against what
        // the channel really holds.
        // The same content refused for the same reason again extends the streak that holds
        // an item back; anything else starts a new one.
        let mut reject = tx
            .prepare(
                "INSERT INTO items (feed, key, sent_hash, sent_at, sent_run, verdict, rejections)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)
                 ON CONFLICT (feed, key) DO UPDATE SET
                     rejections = CASE
                         WHEN items.sent_hash = excluded.sent_hash
                              AND items.verdict = excluded.verdict
                         THEN coalesce(items.rejections, 0) + 1 ELSE 1 END,
                     sent_hash = excluded.sent_hash, sent_at = excluded.sent_at,
                     sent_run = excluded.sent_run, verdict = excluded.verdict",
            )
            .map_err(sql(ACTION))?;
        let mut note_rejection = tx
            .prepare(
                "INSERT INTO rejections (run_id, feed, key, reason) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (run_id, feed, key) DO UPDATE SET reason = excluded.reason",
            )
            .map_err(sql(ACTION))?;
        let mut entries = EntryWriter::new(&tx).map_err(sql(ACTION))?;
        let mut write = |batch: EncodedBatch| -> Result<(), StateError> {
            entries.write(&batch.new_entries).map_err(sql(ACTION))?;
            for (item, stored) in batch.items {
                let hash = hash_bytes(item.hash);
                match (&item.verdict, stored) {
                    (Verdict::Accepted, Some(stored)) => {
                        accept
                            .execute(params![feed, item.key, hash, now, run.0])
                            .map_err(sql(ACTION))?;
                        set_fields
                            .execute(params![feed, item.key, &batch.bytes[stored]])
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
                        note_rejection
                            .execute(params![run.0, feed, item.key, message])
                            .map_err(sql(ACTION))?;
                        summary.rejected += 1;
                    }
                }
            }
            Ok(())
        };
        std::thread::scope(|scope| -> Result<(), StateError> {
            // Both channels hold two batches and at most two are in flight, so neither
            // side ever waits on a full channel while the other waits on it.
            let (to_encoder, encoder_input) = sync_channel::<Vec<PushedItem>>(2);
            let (encoder_output, from_encoder) = sync_channel::<EncodedBatch>(2);
            let codec = &mut codec;
            scope.spawn(move || encode_batches(codec, encoder_input, encoder_output));
            // Returning early drops both channel ends, which stops the encoder.
            let encoder_died = || StateError::ItemSource {
                feed: feed.to_owned(),
                source: "the field value encoder stopped".into(),
            };
            let mut items = items.into_iter();
            let mut in_flight = 0usize;
            loop {
                let mut batch = Vec::with_capacity(BATCH);
                for item in items.by_ref().take(BATCH) {
                    batch.push(item.map_err(|source| StateError::ItemSource {
                        feed: feed.to_owned(),
                        source: source.into(),
                    })?);
                }
                let last = batch.len() < BATCH;
                if !batch.is_empty() {
                    to_encoder.send(batch).map_err(|_| encoder_died())?;
                    in_flight += 1;
                }
                while in_flight > usize::from(!last) {
                    write(from_encoder.recv().map_err(|_| encoder_died())?)?;
                    in_flight -= 1;
                }
                if last {
                    return Ok(());
                }
            }
        })?;
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
    *cached = Some(codec);
    Ok(summary)
}
