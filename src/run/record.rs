//! Recording: what the channel accepted goes into the state, one transaction per feed, and
//! the run's end with its per-feed counts.

use jiff::Timestamp;

use super::push::{FeedOutcome, FeedResult};
use super::spill::Spill;
use crate::state::{
    FeedCounts, Outcome, PushSummary, PushedItem, RunId, SqliteStore, StateError, StateStore,
    Verdict,
};

/// Streams one feed's spilled records into one `record_push` transaction. Reading the
/// spill back (a million records for a first push) runs on its own thread, overlapping
/// the state's writes on this one.
pub(super) fn record_feed(
    store: &mut SqliteStore,
    feed: &str,
    run: RunId,
    spill: Spill,
    removed: &[&str],
    now: Timestamp,
) -> anyhow::Result<PushSummary> {
    /// Records handed over at a time: few channel operations, little memory in flight.
    const BATCH: usize = 1024;
    let records = spill.read()?;
    let (batches, received) = std::sync::mpsc::sync_channel::<Vec<_>>(4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            for record in records {
                let stop = record.is_err();
                batch.push(record.map(|spilled| PushedItem {
                    key: spilled.key,
                    hash: spilled.hash,
                    fields: spilled.fields,
                    verdict: Verdict::Accepted,
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
            let _ = batches.send(batch);
        });
        let items = received.into_iter().flatten();
        Ok(store.record_push(feed, run, items, removed, now)?)
    })
}

/// The run's outcome from its feeds': a failure outweighs a guard.
pub(super) fn outcome_of(results: &[FeedResult]) -> Outcome {
    if results.iter().any(|r| r.outcome == FeedOutcome::Failed) {
        Outcome::Failed
    } else if results
        .iter()
        .any(|r| r.outcome == FeedOutcome::GuardTripped)
    {
        Outcome::GuardTripped
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
            let delivered = if r.recorded.is_some() { r.sent } else { 0 };
            let counts = FeedCounts {
                added: r.totals.added,
                changed: r.totals.changed,
                removed: r.totals.removed,
                unchanged: r.totals.unchanged,
                sent: delivered,
                accepted: delivered,
                rejected: 0,
            };
            (r.feed.as_str(), counts)
        })
        .collect();
    store.finish_run(run, outcome, &counts, ended)
}
