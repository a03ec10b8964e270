//! Item-level delivery: a feed whose destination takes single items
//! ([`ItemTransport`]) is sent the diff itself instead of files: upserts for the added,
//! changed and refresh-due records the staging pass spilled, deletes for the removed keys.
//! Each batch is recorded once the channel has answered it, in its own transaction (on a
//! thread of its own, while the next batch is sent), from each item's verdict:
//! - accepted: the new content becomes the accepted state (a delete: the item is gone);
//! - rejected: the old accepted content stays, with the channel's reason and how many runs
//!   in a row refused this same content for this same reason;
//! - not sent: nothing is recorded, so the next push sends it again.
//!
//! An item refused [`ItemTransport::hold_back_after`] runs in a row for the same content and
//! reason is held back (reported, not sent) until its content changes. A push killed
//! mid-way loses at most the batches in flight and waiting to be recorded: the next one
//! re-sends them (an insert replaces, a delete of a deleted item succeeds), so the channel
//! converges.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use jiff::Timestamp;

use super::plan::FeedPlan;
use super::push::Rejection;
use crate::feed::Feed;
use crate::push::{ItemOperation, ItemSession, ItemTransport, ItemVerdict, Operation};
use crate::report::progress::Progress;
use crate::spill::{Spill, Spilled};
use crate::state::{PushSummary, PushedItem, RunId, SourceError, SqliteStore, StateStore, Verdict};

/// What item-level delivery did for one feed.
#[derive(Debug, Default)]
pub(super) struct ItemsDelivered {
    /// What the state recorded, over every batch.
    pub recorded: PushSummary,
    /// Operations the channel answered (accepted or rejected).
    pub answered: u64,
    pub rejected: Vec<Rejection>,
    /// Items the channel accepted with warnings, and its messages.
    pub warned: Vec<Rejection>,
    /// Items not sent again: refused too often for the same content and reason.
    pub held_back: Vec<Rejection>,
    /// Operations without an answer, and the first reason.
    pub not_sent: u64,
    pub first_not_sent: Option<String>,
    /// Nothing could be sent (the transport could not start).
    pub error: Option<String>,
    /// The transport could not start because its settings are wrong (a secret not set).
    pub misconfigured: bool,
}

/// The inputs of one feed's item delivery.
pub(super) struct ItemDelivery<'a> {
    pub feed: &'a Feed,
    pub run: RunId,
    pub plan: &'a FeedPlan,
    pub now: Timestamp,
    pub progress: &'a Progress,
}

/// Sends the feed's spilled records and removals through `transport`, recording each
/// batch as it is answered.
pub(super) fn deliver_items<'p>(
    store: &mut SqliteStore,
    transport: &dyn ItemTransport,
    spill: Spill,
    delivery: &ItemDelivery<'p>,
) -> anyhow::Result<ItemsDelivered> {
    let ItemDelivery {
        feed,
        run,
        plan,
        now,
        progress,
    } = *delivery;
    let limit = transport.hold_back_after();
    // Operations handed to the transport, and recorded, at a time: enough to keep every
    // connection busy (or fill a document), few enough that a killed push re-sends little.
    let batch_size = transport.batch_size().max(1);
    let held: HashMap<String, (u128, String)> = store
        .pending_rejections(&feed.id)?
        .into_iter()
        .filter(|pending| pending.rejections >= limit)
        .map(|pending| (pending.key, (pending.sent_hash, pending.reason)))
        .collect();
    let totals = plan.diff.totals;
    let total = totals.added + totals.changed + plan.refreshed + totals.removed;
    let mut out = ItemsDelivered::default();
    let mut session = match transport.open(feed, total, progress) {
        Ok(session) => session,
        Err(err) => {
            out.misconfigured = err.class() == crate::exit::ErrorClass::Config;
            out.error = Some(format!("{:#}", anyhow::Error::from(err)));
            return Ok(out);
        }
    };
    let held_back = |key: &str, hash: u128, out: &mut ItemsDelivered| match held.get(key) {
        Some((sent_hash, reason)) if *sent_hash == hash => {
            out.held_back.push(Rejection {
                key: key.to_owned(),
                message: format!("held back after {limit} rejections: {reason}"),
            });
            true
        }
        _ => false,
    };

    let mut records = spill.read()?;
    let mut send_all =
        |out: &mut ItemsDelivered, answered: SyncSender<Answered<'p>>| -> anyhow::Result<()> {
            loop {
                let mut batch: Vec<Spilled> = Vec::with_capacity(batch_size);
                for record in records.by_ref() {
                    let record = record
                        .map_err(|err| anyhow::anyhow!("cannot read the spill file: {err}"))?;
                    if !held_back(&record.key, record.hash, out) {
                        batch.push(record);
                    }
                    if batch.len() == batch_size {
                        break;
                    }
                }
                if batch.is_empty() {
                    break;
                }
                let operations: Vec<ItemOperation> = batch
                    .iter_mut()
                    .map(|record| {
                        let values = record.values.take().ok_or_else(|| {
                            anyhow::anyhow!(
                                "item `{}` was staged without its values (a bug; please report it)",
                                record.key
                            )
                        })?;
                        Ok(ItemOperation {
                            key: record.key.clone(),
                            operation: Operation::Upsert(values),
                        })
                    })
                    .collect::<anyhow::Result<_>>()?;
                let verdicts = send(session.as_mut(), &operations)?;
                drop(operations);
                let items: Vec<PushedItem> = batch
                    .into_iter()
                    .zip(verdicts)
                    .filter_map(|(record, verdict)| {
                        let verdict = tally(out, &record.key, verdict)?;
                        Some(PushedItem {
                            key: record.key,
                            hash: record.hash,
                            fields: match verdict {
                                Verdict::Accepted => record.fields,
                                // The state keeps the accepted content; the hash says what was sent.
                                Verdict::Rejected(_) => None,
                            },
                            verdict,
                        })
                    })
                    .collect();
                if answered.send((items, Vec::new())).is_err() {
                    // The recorder stopped on an error, which it returns: send no more.
                    return Ok(());
                }
            }

            let removed: Vec<(&str, u128)> = plan
                .diff
                .removed
                .iter()
                .filter_map(|item| {
                    let hash = plan.accepted.get(&item.key)?.hash;
                    Some((item.key.as_str(), hash))
                })
                .filter(|(key, hash)| !held_back(key, *hash, out))
                .collect();
            for chunk in removed.chunks(batch_size) {
                let operations: Vec<ItemOperation> = chunk
                    .iter()
                    .map(|(key, _)| ItemOperation {
                        key: (*key).to_owned(),
                        operation: Operation::Delete,
                    })
                    .collect();
                let verdicts = send(session.as_mut(), &operations)?;
                let mut gone = Vec::new();
                let mut refused = Vec::new();
                for ((key, hash), verdict) in chunk.iter().zip(verdicts) {
                    match tally(out, key, verdict) {
                        Some(Verdict::Accepted) => gone.push(*key),
                        // Still at the channel: recorded against its accepted content, so the
                        // streak that holds a refused delete back can count.
                        Some(Verdict::Rejected(reason)) => refused.push(PushedItem {
                            key: (*key).to_owned(),
                            hash: *hash,
                            fields: None,
                            verdict: Verdict::Rejected(reason),
                        }),
                        None => {}
                    }
                }
                if answered.send((refused, gone)).is_err() {
                    return Ok(());
                }
            }
            Ok(())
        };
    // The state records one answered batch while the next one is on the wire: recording
    // is SQLite work on one core, sending waits on the network, and in turns each waited
    // for the other. At most RECORD_QUEUE answered batches wait, so a killed push re-sends
    // little more than before.
    let recorded = std::thread::scope(|scope| {
        let (answered, to_record) = sync_channel::<Answered<'p>>(RECORD_QUEUE);
        let feed_id = feed.id.as_str();
        let recorder = scope.spawn(move || record_all(store, feed_id, run, now, to_record));
        let sent = send_all(&mut out, answered);
        // The sender is gone (dropped by `send_all`): the recorder records what was
        // answered, then ends. Its error comes first: it may be why sending stopped.
        let recorded = match recorder.join() {
            Ok(recorded) => recorded?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        sent.map(|()| recorded)
    })?;
    out.recorded = recorded;
    Ok(out)
}

/// Answered items to record (accepted or rejected), and keys the channel deleted.
type Answered<'a> = (Vec<PushedItem>, Vec<&'a str>);

/// Answered batches waiting for the recorder beside the one it records.
const RECORD_QUEUE: usize = 1;

/// Records each answered batch in its own transaction, until the sender hangs up.
fn record_all(
    store: &mut SqliteStore,
    feed: &str,
    run: RunId,
    now: Timestamp,
    answered: Receiver<Answered<'_>>,
) -> anyhow::Result<PushSummary> {
    let mut total = PushSummary::default();
    for (items, removed) in answered {
        if items.is_empty() && removed.is_empty() {
            continue;
        }
        let summary = store.record_push(
            feed,
            run,
            items.into_iter().map(Ok::<_, SourceError>),
            &removed,
            now,
        )?;
        total.accepted += summary.accepted;
        total.rejected += summary.rejected;
        total.removed += summary.removed;
    }
    Ok(total)
}

fn send(
    session: &mut dyn ItemSession,
    operations: &[ItemOperation],
) -> anyhow::Result<Vec<ItemVerdict>> {
    let verdicts = session.send(operations)?;
    anyhow::ensure!(
        verdicts.len() == operations.len(),
        "the transport answered {} of {} items (a bug; please report it)",
        verdicts.len(),
        operations.len()
    );
    Ok(verdicts)
}

/// Counts `verdict`; the state's verdict, or `None` when nothing is to be recorded.
fn tally(out: &mut ItemsDelivered, key: &str, verdict: ItemVerdict) -> Option<Verdict> {
    match verdict {
        ItemVerdict::Accepted => {
            out.answered += 1;
            Some(Verdict::Accepted)
        }
        ItemVerdict::AcceptedWithWarnings(message) => {
            out.answered += 1;
            out.warned.push(Rejection {
                key: key.to_owned(),
                message,
            });
            Some(Verdict::Accepted)
        }
        ItemVerdict::Rejected(reason) => {
            out.answered += 1;
            out.rejected.push(Rejection {
                key: key.to_owned(),
                message: reason.clone(),
            });
            Some(Verdict::Rejected(reason))
        }
        ItemVerdict::NotSent(reason) => {
            out.not_sent += 1;
            out.first_not_sent.get_or_insert(reason);
            None
        }
    }
}
