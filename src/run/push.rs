//! One push run: plan and stage every feed, stop the feeds that trip a guard, deliver the
//! others through their [`Transport`](crate::push::Transport), and only then record in the
//! state what the channel accepted (one transaction per feed).
//!
//! One engine pass yields the diffs the guards need and, meanwhile, writes every feed's files
//! into a staging folder and spills the records the state must learn (memory stays flat for
//! a million items). Only feeds that pass their guards are delivered; the others' staged
//! files go with the staging folder.

use std::path::PathBuf;

use jiff::Timestamp;
use serde::Serialize;

use super::deliver::{Transports, deliver};
use super::plan::{self, FeedPlan, PlanOptions};
use super::record::{finish_run, outcome_of, record_feed};
use super::stage::{StagedFeed, staging_folder};
use crate::config::Config;
use crate::diff::DiffTotals;
use crate::feed::Feed;
use crate::guards::{GuardTrip, Overrides};
use crate::report::progress::Progress;
use crate::state::{Outcome, PushSummary, RunId, SqliteStore, StateStore};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedOutcome {
    Ok,
    GuardTripped,
    Failed,
}

/// What happened to one feed in a push.
#[derive(Debug, Serialize)]
pub struct FeedResult {
    pub feed: String,
    pub outcome: FeedOutcome,
    pub totals: DiffTotals,
    pub refreshed: u64,
    /// Items left out of the feed for an error, by rule.
    pub rejected: std::collections::BTreeMap<&'static str, u64>,
    /// Every tripped guard, including overridden ones.
    pub guards: Vec<GuardTrip>,
    /// The guards that stopped this feed.
    pub blocking: Vec<GuardTrip>,
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    /// Records delivered (every record of the feed: a file drop re-sends all of them).
    pub sent: u64,
    /// What the state recorded: new and changed items, refreshed ones and removals.
    pub recorded: Option<PushSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How to push.
pub struct PushOptions {
    pub now: Timestamp,
    pub overrides: Overrides,
}

/// A finished push run.
pub struct PushRun {
    pub run: RunId,
    pub outcome: Outcome,
    pub feeds: Vec<FeedResult>,
    /// What the planning pass found about items (the same as `export` reports).
    pub findings: crate::diag::Findings,
}

/// Pushes `feeds`, delivering each through the transport `transports` picks for it.
pub fn push(
    config: &Config,
    feeds: Vec<Feed>,
    store: &mut SqliteStore,
    options: &PushOptions,
    transports: Transports<'_>,
    progress: &Progress,
) -> anyhow::Result<PushRun> {
    let started = std::time::Instant::now();
    let now = options.now;
    let plan_options = PlanOptions {
        added_fields: false,
        now,
    };
    let staging = staging_folder(config)?;
    let (plan, staged) = plan::analyze_and_stage(
        config,
        &feeds,
        Some(&*store),
        progress,
        &plan_options,
        staging.path(),
    )?;
    let ids: Vec<&str> = feeds.iter().map(|f| f.id.as_str()).collect();
    let run = store.begin_run("push", &ids, plan.catalog_time, now)?;

    let mut results: Vec<FeedResult> = Vec::with_capacity(feeds.len());
    let mut passing: Vec<Feed> = Vec::new();
    let mut passing_plans: Vec<FeedPlan> = Vec::new();
    let mut passing_staged: Vec<StagedFeed> = Vec::new();
    for (((feed, feed_plan), summary), staged) in feeds
        .into_iter()
        .zip(plan.feeds)
        .zip(&plan.engine.summaries)
        .zip(staged)
    {
        let blocking = options.overrides.blocking(feed_plan.trips.clone());
        let outcome = if blocking.is_empty() {
            FeedOutcome::Ok
        } else {
            FeedOutcome::GuardTripped
        };
        results.push(FeedResult {
            feed: feed.id.clone(),
            outcome,
            totals: feed_plan.diff.totals,
            refreshed: feed_plan.refreshed,
            rejected: summary.rejected.clone(),
            guards: feed_plan.trips.clone(),
            blocking,
            files: Vec::new(),
            bytes: 0,
            sent: summary.records,
            recorded: None,
            error: None,
        });
        if outcome == FeedOutcome::Ok {
            passing.push(feed);
            passing_plans.push(feed_plan);
            passing_staged.push(staged);
        }
    }

    if !passing.is_empty() {
        let delivered = deliver_and_record(
            &passing,
            &passing_plans,
            passing_staged,
            store,
            run,
            now,
            transports,
            &mut results,
        );
        if let Err(err) = delivered {
            // A failure outside any one feed (the catalog became unreadable, the staging
            // folder could not be made): every feed not yet recorded failed.
            for result in &mut results {
                if result.outcome == FeedOutcome::Ok && result.recorded.is_none() {
                    result.outcome = FeedOutcome::Failed;
                    result.error = Some(format!("{err:#}"));
                }
            }
        }
    }

    let outcome = outcome_of(&results);
    // `--now` shifts the whole run, so its end stays after its start.
    let ended = now
        .checked_add(jiff::SignedDuration::try_from(started.elapsed()).unwrap_or_default())
        .unwrap_or(now);
    finish_run(store, run, outcome, &results, ended)?;
    Ok(PushRun {
        run,
        outcome,
        feeds: results,
        findings: plan.engine.findings,
    })
}

/// Delivers and records each staged feed that passed its guards.
#[allow(clippy::too_many_arguments)]
fn deliver_and_record(
    feeds: &[Feed],
    plans: &[FeedPlan],
    staged: Vec<StagedFeed>,
    store: &mut SqliteStore,
    run: RunId,
    now: Timestamp,
    transports: Transports<'_>,
    results: &mut [FeedResult],
) -> anyhow::Result<()> {
    for ((feed, feed_plan), staged) in feeds.iter().zip(plans).zip(staged) {
        let Some(result) = results.iter_mut().find(|r| r.feed == feed.id) else {
            continue;
        };
        let transport = transports(feed);
        let delivery = match deliver(transport.as_ref(), feed, &staged) {
            Ok(delivery) => delivery,
            Err(err) => {
                result.outcome = FeedOutcome::Failed;
                result.error = Some(format!("{:#}", anyhow::Error::from(err)));
                continue;
            }
        };
        result.files = delivery.files;
        result.bytes = delivery.bytes;
        result.sent = staged.records;
        let removed: Vec<&str> = feed_plan
            .diff
            .removed
            .iter()
            .map(|i| i.key.as_str())
            .collect();
        match record_feed(store, &feed.id, run, staged.spill, &removed, now) {
            Ok(summary) => result.recorded = Some(summary),
            Err(err) => {
                result.outcome = FeedOutcome::Failed;
                result.error = Some(format!(
                    "the files landed in {}, but recording them in the state failed: {err:#}",
                    transport.target()
                ));
            }
        }
    }
    Ok(())
}
