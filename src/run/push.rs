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
use super::items::{ItemDelivery, ItemsDelivered, deliver_items};
use super::lock::ProjectLock;
use super::plan::{self, FeedPlan, PlanOptions};
use super::record::{finish_run, outcome_of, record_feed};
use super::stage::{StagedFeed, remove_stale_staging, staging_folder};
use crate::config::Config;
use crate::diff::DiffTotals;
use crate::exit::Exit;
use crate::feed::Feed;
use crate::guards::{GuardTrip, Overrides};
use crate::report::progress::Progress;
use crate::state::{Outcome, PushSummary, RunId, SqliteStore, StateError, StateStore};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedOutcome {
    Ok,
    /// Delivered, but the channel rejected some items; they stay pending.
    Partial,
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
    /// The items the channel rejected, `(key, its message)`; they stay pending.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channel_rejections: Vec<Rejection>,
    /// Item-level destinations: items the channel accepted with warnings, `(key, its
    /// messages)`; recorded as accepted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channel_warnings: Vec<Rejection>,
    /// Item-level destinations: items not sent because the channel refused the same content
    /// for the same reason too many runs in a row; sent again once their content changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held_back: Vec<Rejection>,
    /// Item-level destinations: items that got no answer (timeouts, 5xx after the retries,
    /// the deadline); nothing was recorded for them, so the next push sends them again.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_sent: u64,
    /// Whether the files went to the transport (delivered, or maybe partly before an error).
    #[serde(skip)]
    pub sending: bool,
    /// The feed failed because its destination's settings are wrong (a secret not set, a
    /// key file that does not open), not because the delivery did: the run exits 2. Only
    /// `--force` gets this far: without it, asking the destination for its files fails
    /// the same way before anything is staged.
    #[serde(skip)]
    pub misconfigured: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// An item the channel refused, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub key: String,
    pub message: String,
}

/// How to push.
pub struct PushOptions {
    pub now: Timestamp,
    pub overrides: Overrides,
    /// The command the run history names (`push`, `sync`).
    pub command: &'static str,
}

/// A finished push run.
pub struct PushRun {
    pub run: RunId,
    pub outcome: Outcome,
    pub feeds: Vec<FeedResult>,
    /// Recording the run's end failed: what was delivered and recorded per feed stands, but
    /// the run stays `running` in the history until the next run marks it `interrupted`.
    pub finish_error: Option<StateError>,
    /// What the planning pass found about items (the same as `export` reports).
    pub findings: crate::diag::Findings,
    /// What reading the catalog found (rows with an error are left out of every feed) and
    /// how many rows it read, as `validate` reports them.
    pub catalog: crate::load::LoadOutcome,
}

/// Pushes `feeds`, delivering each through the transport `transports` picks for it. The
/// caller holds the project lock (taken before opening `store`, so that no other run can be
/// going).
pub fn push(
    config: &Config,
    feeds: Vec<Feed>,
    store: &mut SqliteStore,
    lock: &ProjectLock,
    options: &PushOptions,
    transports: Transports<'_>,
    progress: &Progress,
) -> anyhow::Result<PushRun> {
    let started = std::time::Instant::now();
    let now = options.now;
    store.interrupt_running()?;
    remove_stale_staging(config, lock)?;
    // A destination that cannot be asked (unreachable, credentials refused) fails its feed
    // only; the other feeds go on.
    let mut lost_history = Vec::new();
    for feed in &feeds {
        lost_history.push(match options.overrides.force {
            true => Ok(false),
            false => match history_lost(store, feed, transports) {
                // A secret that is not set is the config's fault: nothing goes anywhere.
                Err(err) if is_config_error(&err) => return Err(err),
                asked => asked,
            },
        });
    }
    let plan_options = PlanOptions {
        listing: crate::diff::Listing::KeysOnly,
        now,
        next_run: None,
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
    let run = store.begin_run(options.command, &ids, plan.catalog_time, now)?;

    let mut results: Vec<FeedResult> = Vec::with_capacity(feeds.len());
    let mut passing: Vec<Passing> = Vec::new();
    for ((((feed, feed_plan), summary), staged), lost) in feeds
        .into_iter()
        .zip(plan.feeds)
        .zip(&plan.engine.summaries)
        .zip(staged)
        .zip(lost_history)
    {
        let blocking = options.overrides.blocking(feed_plan.trips.clone());
        let (lost, unreachable) = match lost {
            Ok(lost) => (lost, None),
            Err(err) => (false, Some(format!("{err:#}"))),
        };
        let outcome = if unreachable.is_some() {
            FeedOutcome::Failed
        } else if blocking.is_empty() && !lost {
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
            channel_rejections: Vec::new(),
            channel_warnings: Vec::new(),
            held_back: Vec::new(),
            not_sent: 0,
            sending: false,
            misconfigured: false,
            error: unreachable.or_else(|| {
                lost.then(|| {
                    format!(
                        "the state has no record of this feed, but {} already holds its files: the \
                     state was lost or replaced, so what the channel holds is unknown. Push with \
                     --force to send the whole feed and start the state afresh",
                        transports(&feed).target()
                    )
                })
            }),
        });
        if outcome == FeedOutcome::Ok {
            passing.push(Passing {
                result: results.len() - 1,
                feed,
                plan: feed_plan,
                staged,
            });
        }
    }

    if !passing.is_empty() {
        let delivered =
            deliver_and_record(passing, store, run, now, transports, progress, &mut results);
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
    let finish_error = finish_run(store, run, outcome, &results, ended).err();
    Ok(PushRun {
        run,
        outcome,
        feeds: results,
        finish_error,
        findings: plan.engine.findings,
        catalog: plan.engine.catalog,
    })
}

impl PushRun {
    /// The exit code of the run: a delivery that failed (or a run end that could not be
    /// recorded) is 3 and wins, since someone must act on it; a feed whose destination is
    /// misconfigured (and none failed otherwise) is configuration (2); a feed stopped by a
    /// guard, items the channel rejected and items left out of a feed for an error are
    /// data (1).
    pub fn exit(&self) -> Exit {
        let failed = |r: &&FeedResult| r.outcome == FeedOutcome::Failed;
        match self.outcome {
            _ if self.finish_error.is_some() => Exit::PushFailed,
            Outcome::Failed if self.feeds.iter().filter(failed).all(|r| r.misconfigured) => {
                Exit::Usage
            }
            Outcome::Failed => Exit::PushFailed,
            Outcome::GuardTripped | Outcome::Partial => Exit::Invalid,
            _ if self.findings.has_errors() => Exit::Invalid,
            _ => Exit::Ok,
        }
    }
}

/// A feed that passed its guards, with the index of its [`FeedResult`].
struct Passing {
    result: usize,
    feed: Feed,
    plan: FeedPlan,
    staged: StagedFeed,
}

/// Delivers and records each staged feed that passed its guards.
fn deliver_and_record(
    passing: Vec<Passing>,
    store: &mut SqliteStore,
    run: RunId,
    now: Timestamp,
    transports: Transports<'_>,
    progress: &Progress,
    results: &mut [FeedResult],
) -> anyhow::Result<()> {
    for Passing {
        result,
        feed,
        plan: feed_plan,
        staged,
    } in passing
    {
        let result = &mut results[result];
        let transport = transports(&feed);
        if let Some(items) = transport.items() {
            let totals = feed_plan.diff.totals;
            let planned = totals.added + totals.changed + feed_plan.refreshed + totals.removed;
            store.mark_sending(run, &feed.id, planned)?;
            result.sending = true;
            let delivery = ItemDelivery {
                feed: &feed,
                run,
                plan: &feed_plan,
                now,
                progress,
            };
            let delivered = deliver_items(store, items, staged.spill, &delivery)?;
            apply_items(result, delivered, &items.target());
            continue;
        }
        store.mark_sending(run, &feed.id, result.sent)?;
        result.sending = true;
        let delivery = match deliver(transport.as_ref(), &feed, &staged) {
            Ok(delivery) => delivery,
            Err(err) => {
                result.outcome = FeedOutcome::Failed;
                result.misconfigured = err.class() == crate::exit::ErrorClass::Config;
                // Settings are read before connecting: nothing went out.
                result.sending &= !result.misconfigured;
                result.error = Some(format!("{:#}", anyhow::Error::from(err)));
                continue;
            }
        };
        result.bytes = delivery.bytes;
        match record_feed(
            store,
            &feed.id,
            run,
            staged.spill,
            &feed_plan,
            &delivery,
            now,
        ) {
            Ok(summary) => {
                result.recorded = Some(summary);
                if summary.rejected > 0 {
                    result.outcome = FeedOutcome::Partial;
                    result.channel_rejections = delivery
                        .rejected
                        .into_iter()
                        .map(|(key, message)| Rejection { key, message })
                        .collect();
                }
            }
            Err(err) => {
                result.outcome = FeedOutcome::Failed;
                result.error = Some(format!(
                    "the files landed in {}, but recording them in the state failed: {err:#}",
                    transport.target()
                ));
            }
        }
        result.files = delivery.files;
    }
    Ok(())
}

/// The outcome of an item-level delivery: failed when any item went unanswered (the next
/// push sends it), partial when the channel refused some, else ok.
fn apply_items(result: &mut FeedResult, delivered: ItemsDelivered, target: &str) {
    result.sent = delivered.answered;
    result.recorded = Some(delivered.recorded);
    result.not_sent = delivered.not_sent;
    result.misconfigured = delivered.misconfigured;
    result.outcome = if let Some(error) = delivered.error {
        result.recorded = None;
        result.error = Some(error);
        FeedOutcome::Failed
    } else if delivered.not_sent > 0 {
        result.error = Some(format!(
            "{} of the items got no answer from {target} ({}); nothing was recorded for them, \
             so the next push sends them again",
            delivered.not_sent,
            delivered.first_not_sent.unwrap_or_default()
        ));
        FeedOutcome::Failed
    } else if !delivered.rejected.is_empty() || !delivered.held_back.is_empty() {
        FeedOutcome::Partial
    } else {
        FeedOutcome::Ok
    };
    result.channel_rejections = delivered.rejected;
    result.channel_warnings = delivered.warned;
    result.held_back = delivered.held_back;
}

/// Whether the state has no history of `feed` while its destination holds its files.
fn history_lost(
    store: &SqliteStore,
    feed: &Feed,
    transports: Transports<'_>,
) -> anyhow::Result<bool> {
    if store.has_history(&feed.id)? {
        return Ok(false);
    }
    Ok(transports(feed).holds_feed(feed)?)
}

/// Whether `err` is a configuration mistake (exit 2) rather than a failed delivery.
pub(super) fn is_config_error(err: &anyhow::Error) -> bool {
    err.downcast_ref::<crate::push::PushError>()
        .is_some_and(|err| err.class() == crate::exit::ErrorClass::Config)
}
