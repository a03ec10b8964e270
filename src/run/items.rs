//! Item-level delivery: a feed whose destination takes single items
//! ([`ItemTransport`]) is sent the diff itself instead of files: upserts for the added,
//! changed and refresh-due records the staging pass spilled, deletes for the removed keys.
//! Each batch is recorded as soon as the channel has answered it, in its own transaction,
//! from each item's verdict:
//! - accepted: the new content becomes the accepted state (a delete: the item is gone);
//! - rejected: the old accepted content stays, with the channel's reason and how many runs
//!   in a row refused this same content for this same reason;
//! - not sent: nothing is recorded, so the next push sends it again.
//!
//! An item refused [`ItemTransport::hold_back_after`] runs in a row for the same content and
//! reason is held back (reported, not sent) until its content changes. A push killed
//! mid-way loses at most the batch in flight: the next one re-sends it (an insert
//! replaces, a delete of a deleted item succeeds), so the channel converges.

use std::collections::HashMap;

use jiff::Timestamp;

use super::plan::FeedPlan;
use super::push::Rejection;
use super::spill::{Spill, Spilled};
use crate::feed::Feed;
use crate::push::{ItemOperation, ItemSession, ItemTransport, ItemVerdict, Operation};
use crate::report::progress::Progress;
use crate::state::{PushSummary, PushedItem, RunId, SourceError, SqliteStore, StateStore, Verdict};

/// What item-level delivery did for one feed.
#[derive(Debug, Default)]
pub(super) struct ItemsDelivered {
    /// What the state recorded, over every batch.
    pub recorded: PushSummary,
    /// Operations the channel answered (accepted or rejected).
    pub answered: u64,
    pub rejected: Vec<Rejection>,
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
pub(super) fn deliver_items(
    store: &mut SqliteStore,
    transport: &dyn ItemTransport,
    spill: Spill,
    delivery: &ItemDelivery<'_>,
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
    loop {
        let mut batch: Vec<Spilled> = Vec::with_capacity(batch_size);
        for record in records.by_ref() {
            let record =
                record.map_err(|err| anyhow::anyhow!("cannot read the spill file: {err}"))?;
            if !held_back(&record.key, record.hash, &mut out) {
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
                let verdict = tally(&mut out, &record.key, verdict)?;
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
        record(store, &feed.id, run, items, &[], now, &mut out)?;
    }

    let removed: Vec<(&str, u128)> = plan
        .diff
        .removed
        .iter()
        .filter_map(|item| {
            let hash = plan.accepted.get(&item.key)?.hash;
            Some((item.key.as_str(), hash))
        })
        .filter(|(key, hash)| !held_back(key, *hash, &mut out))
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
            match tally(&mut out, key, verdict) {
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
        record(store, &feed.id, run, refused, &gone, now, &mut out)?;
    }
    Ok(out)
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

/// Records one answered batch in its own transaction.
fn record(
    store: &mut SqliteStore,
    feed: &str,
    run: RunId,
    items: Vec<PushedItem>,
    removed: &[&str],
    now: Timestamp,
    out: &mut ItemsDelivered,
) -> anyhow::Result<()> {
    if items.is_empty() && removed.is_empty() {
        return Ok(());
    }
    let summary = store.record_push(
        feed,
        run,
        items.into_iter().map(Ok::<_, SourceError>),
        removed,
        now,
    )?;
    out.recorded.accepted += summary.accepted;
    out.recorded.rejected += summary.rejected;
    out.recorded.removed += summary.removed;
    Ok(())
}
