//! Recording: what the channel accepted goes into the state, one transaction per feed, and
//! the run's end with its per-feed counts.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;

use super::plan::FeedPlan;
use super::push::{FeedOutcome, FeedResult};
use crate::push::Delivery;
use crate::spill::Spill;
use crate::state::{
    FeedCounts, Outcome, PushSummary, PushedItem, RunId, SqliteStore, StateError, StateStore,
    Verdict,
};

/// Streams one feed's spilled records into one `record_push` transaction. Reading the
/// spill back (a million records for a first push) runs on its own thread, overlapping
/// the state's writes on this one.
///
/// Each item gets the channel's verdict from `delivery`: a rejected item keeps its last
/// accepted content in the state and stays pending, with the channel's reason. A rejection
/// of an item the spill does not hold (unchanged, so not re-recorded) is recorded against
/// its accepted hash; one of a key the feed does not have is ignored.
pub(super) fn record_feed(
    store: &mut SqliteStore,
    feed: &str,
    run: RunId,
    spill: Spill,
    plan: &FeedPlan,
    delivery: &Delivery,
    now: Timestamp,
) -> anyhow::Result<PushSummary> {
    let rejected: HashMap<&str, &str> = delivery
        .rejected
        .iter()
        .map(|(key, message)| (key.as_str(), message.as_str()))
        .collect();
    let rejected = &rejected;
    let verdict = move |key: &str| match rejected.get(key) {
        Some(message) => Verdict::Rejected((*message).to_owned()),
        None => Verdict::Accepted,
    };
    let removed: Vec<&str> = plan.diff.removed.iter().map(|i| i.key.as_str()).collect();
    let removed = &removed;
    /// Records handed over at a time: few channel operations, little memory in flight.
    const BATCH: usize = 1024;
    let records = spill.read()?;
    let (batches, received) = std::sync::mpsc::sync_channel::<Vec<_>>(4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            // Rejected keys met in the spill; the others are unchanged items, added last.
            let mut met: HashSet<&str> = HashSet::new();
            for record in records {
                let stop = record.is_err();
                batch.push(record.map(|spilled| {
                    let verdict = verdict(&spilled.key);
                    if let Some((key, _)) = rejected.get_key_value(spilled.key.as_str()) {
                        met.insert(key);
                    }
                    PushedItem {
                        key: spilled.key,
                        hash: spilled.hash,
                        fields: spilled.fields,
                        verdict,
                    }
                }));
                if (batch.len() == BATCH || stop)
                    && batches
                        .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                        .is_err()
                {
                    // The store stopped taking records (it failed): nothing more to read.
                    return;
                }
                if stop {
                    return;
                }
            }
            let mut left: Vec<(&str, &str)> = rejected
                .iter()
                .filter(|(key, _)| !met.contains(*key))
                .map(|(key, message)| (*key, *message))
                .collect();
            left.sort_unstable();
            batch.extend(left.into_iter().filter_map(|(key, message)| {
                let found = plan.accepted.get(key)?;
                Some(Ok(PushedItem {
                    key: key.to_owned(),
                    hash: found.hash,
                    fields: None,
                    verdict: Verdict::Rejected(message.to_owned()),
                }))
            }));
            let _ = batches.send(batch);
        });
        let items = received.into_iter().flatten();
        Ok(store.record_push(feed, run, items, removed, now)?)
    })
}

/// The run's outcome from its feeds': a failure outweighs a guard, which outweighs
/// rejected items.
pub(super) fn outcome_of(results: &[FeedResult]) -> Outcome {
    let any = |outcome| results.iter().any(|r| r.outcome == outcome);
    if any(FeedOutcome::Failed) {
        Outcome::Failed
    } else if any(FeedOutcome::GuardTripped) {
        Outcome::GuardTripped
    } else if any(FeedOutcome::Partial) {
        Outcome::Partial
    } else {
        Outcome::Ok
    }
}

/// Ends the run in the state with each feed's counts.
pub(super) fn finish_run(
    store: &mut SqliteStore,
    run: RunId,
    outcome: Outcome,
    results: &[FeedResult],
    ended: Timestamp,
) -> Result<(), StateError> {
    let counts: Vec<(&str, FeedCounts)> = results
        .iter()
        .map(|r| {
            let rejected = r.recorded.map_or(0, |recorded| recorded.rejected);
            let accepted = if r.recorded.is_some() {
                r.sent.saturating_sub(rejected)
            } else {
                0
            };
            let counts = FeedCounts {
                added: r.totals.added,
                changed: r.totals.changed,
                removed: r.totals.removed,
                unchanged: r.totals.unchanged,
                // Kept even when recording failed: the destination may hold them.
                sent: if r.sending { r.sent } else { 0 },
                accepted,
                rejected,
            };
            (r.feed.as_str(), counts)
        })
        .collect();
    store.finish_run(run, outcome, &counts, ended)
}
