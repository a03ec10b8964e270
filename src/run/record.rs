//! Recording: what the channel accepted goes into the state, one transaction per feed, and
//! the run's end with its per-feed counts.

use jiff::Timestamp;

use super::push::{FeedOutcome, FeedResult};
use super::spill::Spill;
use crate::state::{
    FeedCounts, Outcome, PushSummary, PushedItem, RunId, SqliteStore, StateError, StateStore,
    Verdict,
};

/// Streams one feed's spilled records into one `record_push` transaction.
pub(super) fn record_feed(
    store: &mut SqliteStore,
    feed: &str,
    run: RunId,
    spill: Spill,
    removed: &[&str],
    now: Timestamp,
) -> anyhow::Result<PushSummary> {
    let items = spill.read()?.map(|spilled| {
        spilled.map(|spilled| PushedItem {
            key: spilled.key,
            hash: spilled.hash,
            fields: spilled.fields,
            verdict: Verdict::Accepted,
        })
    });
    Ok(store.record_push(feed, run, items, removed, now)?)
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
            let accepted = if r.recorded.is_some() { r.sent } else { 0 };
            let counts = FeedCounts {
                added: r.totals.added,
                changed: r.totals.changed,
                removed: r.totals.removed,
                unchanged: r.totals.unchanged,
                // Kept even when recording failed: the destination may hold them.
                sent: if r.sending { r.sent } else { 0 },
                accepted,
                rejected: 0,
            };
            (r.feed.as_str(), counts)
        })
        .collect();
    store.finish_run(run, outcome, &counts, ended)
}
