//! `push --dry-run`: everything a push does up to delivery (plan, stage, guards), then per
//! feed the files it would send and where, and the transport's [`check`] of the destination
//! (connect, credentials, host keys, the target folder) without writing anything there.
//!
//! For a destination that takes single items, it lists the item operations instead of
//! files: counts per kind, then the first few with their requests (`dry_run_items`).
//!
//! A dry run records nothing: no run in `omnifeed runs`, no item in the state. It reads the
//! state as one read-only snapshot and does not take the project lock (a push going on
//! meanwhile is not disturbed), and stages into a temporary folder of the system's, not next
//! to the state where a push would clear it away.
//!
//! [`check`]: crate::push::Transport::check

use std::collections::BTreeMap;

use serde::Serialize;

use super::deliver::Transports;
use super::dry_run_items::{PlannedItems, plan_items};
use super::plan::{self, PlanOptions};
use super::push::{PushOptions, is_config_error};
use crate::config::Config;
use crate::diff::DiffTotals;
use crate::feed::Feed;
use crate::guards::GuardTrip;
use crate::report::progress::Progress;
use crate::state::SqliteStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DryRunOutcome {
    /// A push would deliver this feed.
    WouldPush,
    /// A guard (or a lost state) would stop it.
    GuardTripped,
    /// The destination's check failed: a push would fail too.
    CheckFailed,
}

/// A file a push would deliver.
#[derive(Debug, Serialize)]
pub struct PlannedFile {
    /// Its name at the destination.
    pub name: String,
    pub bytes: u64,
}

/// What a push would do with one feed.
#[derive(Debug, Serialize)]
pub struct DryRunFeed {
    pub feed: String,
    pub outcome: DryRunOutcome,
    pub totals: DiffTotals,
    pub refreshed: u64,
    /// Items left out of the feed for an error, by rule.
    pub rejected: BTreeMap<&'static str, u64>,
    pub guards: Vec<GuardTrip>,
    /// The guards that would stop this feed.
    pub blocking: Vec<GuardTrip>,
    /// Where the files would go.
    pub target: String,
    pub files: Vec<PlannedFile>,
    pub bytes: u64,
    /// Records the feed would carry.
    pub records: u64,
    /// For a destination that takes single items (no files then): the operations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<PlannedItems>,
    /// What the destination check verified, one line each.
    pub checks: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub struct DryRun {
    pub feeds: Vec<DryRunFeed>,
    pub findings: crate::diag::Findings,
}

/// Plans and stages `feeds` against `store` (none: no history yet) and checks each
/// destination through the transport `transports` picks, sending and recording nothing.
/// An item-level feed lists its first `shown_items` operations with their requests.
pub fn dry_run(
    config: &Config,
    feeds: &[Feed],
    store: Option<&SqliteStore>,
    options: &PushOptions,
    transports: Transports<'_>,
    progress: &Progress,
    shown_items: usize,
) -> anyhow::Result<DryRun> {
    let staging = tempfile::Builder::new()
        .prefix("omnifeed-dry-run-")
        .tempdir()
        .map_err(|err| anyhow::anyhow!("cannot create a temporary staging folder: {err}"))?;
    let plan_options = PlanOptions {
        listing: crate::diff::Listing::KeysOnly,
        now: options.now,
        next_run: None,
    };
    let (plan, staged) = plan::analyze_and_stage(
        config,
        feeds,
        store,
        progress,
        &plan_options,
        staging.path(),
    )?;
    let mut results = Vec::with_capacity(feeds.len());
    for (((feed, feed_plan), summary), staged) in feeds
        .iter()
        .zip(plan.feeds)
        .zip(&plan.engine.summaries)
        .zip(staged)
    {
        let transport = transports(feed);
        let items = match transport.items() {
            Some(items) => {
                match plan_items(items, feed, &feed_plan, staged.spill, store, shown_items) {
                    Ok(planned) => Ok(Some(planned)),
                    Err(err) if is_config_error(&err) => return Err(err),
                    Err(err) => Err(format!("{err:#}")),
                }
            }
            None => Ok(None),
        };
        let blocking = options.overrides.blocking(feed_plan.trips.clone());
        let mut result = DryRunFeed {
            feed: feed.id.clone(),
            outcome: DryRunOutcome::WouldPush,
            totals: feed_plan.diff.totals,
            refreshed: feed_plan.refreshed,
            rejected: summary.rejected.clone(),
            guards: feed_plan.trips,
            blocking,
            target: transport.target(),
            files: Vec::new(),
            bytes: 0,
            records: summary.records,
            items: None,
            checks: Vec::new(),
            error: None,
        };
        // An item-level destination is sent items, not the staged files.
        let files = match items {
            Ok(None) => staged.files.as_slice(),
            Ok(Some(planned)) => {
                result.items = Some(planned);
                &[]
            }
            Err(error) => {
                result.outcome = DryRunOutcome::CheckFailed;
                result.error = Some(error);
                &[]
            }
        };
        let names = transport.remote_names(feed, files);
        for (path, name) in files.iter().zip(names) {
            let bytes = std::fs::metadata(path)
                .map_err(|err| anyhow::anyhow!("cannot read `{}`: {err}", path.display()))?
                .len();
            result.bytes += bytes;
            result.files.push(PlannedFile { name, bytes });
        }
        // The destination is checked even for a feed a guard stops: the dry run is where a
        // wrong password should show up, before the guard is overridden.
        let checked = || -> anyhow::Result<(Vec<String>, bool)> {
            let checks = transport.check(feed)?;
            let without_history = match store {
                Some(store) => !store.has_history(&feed.id)?,
                None => true,
            };
            let lost = !options.overrides.force && without_history && transport.holds_feed(feed)?;
            Ok((checks, lost))
        };
        match checked() {
            Err(err) if is_config_error(&err) => return Err(err),
            // The items could not be planned: that error stands.
            _ if result.outcome == DryRunOutcome::CheckFailed => {}
            Ok((checks, lost)) => {
                result.checks = checks;
                if lost {
                    result.error = Some(format!(
                        "the state has no record of this feed, but {} already holds its files: \
                         a push would stop (see --force)",
                        result.target
                    ));
                }
                if lost || !result.blocking.is_empty() {
                    result.outcome = DryRunOutcome::GuardTripped;
                }
            }
            Err(err) => {
                result.outcome = DryRunOutcome::CheckFailed;
                result.error = Some(format!("{err:#}"));
            }
        }
        results.push(result);
    }
    Ok(DryRun {
        feeds: results,
        findings: plan.engine.findings,
    })
}
