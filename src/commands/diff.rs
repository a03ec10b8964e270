//! `omnifeed diff`: what a push would change, per feed, against what each channel last
//! accepted. A dry run: no feed files are written and the state is only read.
//!
//! # JSON schema (`--format json`)
//!
//! One object on stdout:
//!
//! ```json
//! {
//!   "has_changes": true,
//!   "feeds": [
//!     {
//!       "feed": "google",              // feed file stem
//!       "channel": "google-merchant",  // channel spec id
//!       "totals": { "previous": 2000, "current": 1995, "added": 5, "changed": 12,
//!                   "removed": 10, "unchanged": 1978 },
//!       "refreshed": 0,                // unchanged items a push re-sends before they expire
//!       "rejected": { "feed.duplicate-key": 2 },  // items left out for an error, by rule
//!       "added":   [ { "key": "SKU-1", "fields": [ { "field": "price", "before": null, "after": "9.99 EUR" } ] } ],
//!       "changed": [ { "key": "SKU-2", "fields": [ { "field": "price", "before": "19.99 EUR", "after": "17.99 EUR" } ] } ],
//!       "removed": [ { "key": "SKU-3", "fields": [ { "field": "price", "before": "5.00 EUR", "after": null } ] } ],
//!       "guards": [ { "code": "guard.removed-share", "message": "…", "override_flag": "--allow-removals",
//!                     "count": 1000, "total": 2000 } ],
//!       "channel_rejected": [ { "key": "SKU-4", "reason": "INVALID_ARGUMENT: …", "rejections": 2 } ],
//!       "next_run": "2026-11-30T00:00:00Z",   // with --next-run or [sync] every; else absent
//!       "future_changes": [ { "sku": "SKU-5", "change": "sale_ends", "at": "2026-11-29T23:00:00Z",
//!                             "before": "15.00 EUR", "after": "20.00 EUR" } ]
//!     }
//!   ]
//! }
//! ```
//!
//! `totals` and `refreshed` always describe the whole feed; `--sku`, `--field` and `--limit`
//! shorten only the three lists. `changed` is sorted largest change first (stock flips, then
//! relative price change, read through the spec's field roles), `added` and `removed` by key; see [`crate::diff`]. `guards`
//! lists every tripped guard (`count`/`total` only for share guards); a diff never enforces
//! them. Keys of per-store channels are `STORE/ID`. `channel_rejected` lists the items whose
//! last sent content the channel refused, with its reason and how many runs in a row
//! refused it (they stay pending; an item-level push holds one back once that reaches its
//! destination's `hold_back_after`). `future_changes` lists the sales that start
//! (`sale_starts`) or end (`sale_ends`) after `--now` and by `next_run`, by time: the
//! channel's price changes before the next run, whatever this run sends (a channel that
//! schedules sales by their dates changes it itself; any other gets it at the next run).
//! They are not changes of this run: `has_changes` and `--exit-code` leave them out.

use std::io::Write;

use serde::Serialize;

use crate::cli::{DiffArgs, GlobalArgs};
use crate::diff::{FeedDiff, ItemChange, Listing, Shown};
use crate::exit::Exit;
use crate::guards::GuardTrip;
use crate::report::OutputFormat;
use crate::report::progress::Progress;
use crate::run::{self, PlanOptions};
use crate::state::{PendingRejection, StateStore};
use crate::transform::sale::{SaleChange, SaleChangeKind};

/// Items listed per section in human output when `--limit` is not given.
const HUMAN_LIMIT: usize = 20;

#[derive(Serialize)]
struct DiffReport<'a> {
    has_changes: bool,
    feeds: Vec<FeedReport<'a>>,
}

#[derive(Serialize)]
struct FeedReport<'a> {
    feed: &'a str,
    channel: &'a str,
    #[serde(flatten)]
    diff: FeedDiff,
    refreshed: u64,
    /// Items left out of the feed for an error, by rule (named on stderr).
    rejected: &'a std::collections::BTreeMap<&'static str, u64>,
    guards: Vec<GuardTrip>,
    /// Items whose last sent content the channel refused, with its reason.
    channel_rejected: Vec<PendingRejection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_run: Option<jiff::Timestamp>,
    /// Sales starting or ending before the next run.
    #[serde(skip_serializing_if = "Option::is_none")]
    future_changes: Option<&'a [SaleChange]>,
    #[serde(skip)]
    time_zone: &'a jiff::tz::TimeZone,
}

pub fn run(global: &GlobalArgs, args: &DiffArgs) -> anyhow::Result<Exit> {
    let config = super::load_config(global)?;
    let now = super::parse_now(global.now.as_deref())?;
    super::set_jobs(args.selection.jobs);
    let feeds = super::load_feeds(&config, &args.selection.feeds)?;
    let store = run::open_existing_store(&config)?;
    let progress = Progress::new(!global.no_progress);
    let next_run = match &args.next_run {
        Some(text) => Some(text.parse::<jiff::Timestamp>().map_err(|err| {
            crate::exit::ClassedError::new(
                crate::exit::ErrorClass::Config,
                format!("--next-run `{text}` is not an RFC 3339 time: {err}"),
            )
        })?),
        None => config
            .sync
            .every
            .and_then(|every| now.checked_add(every).ok()),
    };
    let limit = match (args.limit, global.format) {
        (Some(n), _) => Some(n),
        (None, OutputFormat::Json) => None,
        (None, _) => Some(HUMAN_LIMIT),
    };
    // Only the added and removed items shown get their fields built and read.
    let shown = Shown {
        skus: args.skus.clone(),
        limit,
    };
    let options = PlanOptions {
        listing: Listing::Shown(shown.clone()),
        now,
        next_run,
    };
    let plan = run::analyze(&config, &feeds, store.as_ref(), &progress, &options)?;
    super::report_rejected_items(&plan.engine.findings)?;
    let has_changes = plan.feeds.iter().any(|p| !p.diff.is_empty());
    let summaries = &plan.engine.summaries;
    let mut reports: Vec<FeedReport<'_>> = Vec::with_capacity(feeds.len());
    for ((feed, p), summary) in feeds.iter().zip(plan.feeds).zip(summaries) {
        let channel_rejected = match &store {
            Some(store) => store.pending_rejections(&feed.id)?,
            None => Vec::new(),
        };
        reports.push(FeedReport {
            feed: &feed.id,
            channel: &feed.spec.id,
            diff: narrow(p.diff, &shown, &args.fields),
            refreshed: p.refreshed,
            rejected: &summary.rejected,
            guards: p.trips,
            channel_rejected,
            next_run,
            future_changes: next_run.map(|_| summary.sale_changes.as_slice()),
            time_zone: &feed.time_zone,
        });
    }
    let mut out = crate::report::stdout::stdout();
    match global.format {
        OutputFormat::Json => {
            let report = DiffReport {
                has_changes,
                feeds: reports,
            };
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        // SARIF and JUnit carry findings only: `crate::run` refuses them for this command.
        _ => {
            for report in &reports {
                print_human(&mut out, report)?;
            }
        }
    }
    out.flush()?;
    Ok(if args.exit_code && has_changes {
        Exit::Invalid
    } else {
        Exit::Ok
    })
}

/// Applies `--sku`, `--field` and the limit. A SKU also matches per-store keys `STORE/SKU`.
fn narrow(mut diff: FeedDiff, shown: &Shown, fields: &[String]) -> FeedDiff {
    if !shown.skus.is_empty() {
        let keys: Vec<String> = [&diff.added, &diff.changed, &diff.removed]
            .into_iter()
            .flatten()
            .filter(|item| shown.matches(&item.key))
            .map(|item| item.key.clone())
            .collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        diff = diff.retain_keys(&keys);
    }
    if !fields.is_empty() {
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        diff = diff.retain_fields(&fields);
    }
    match shown.limit {
        Some(n) => diff.limit(n),
        None => diff,
    }
}

fn print_human(out: &mut impl Write, report: &FeedReport<'_>) -> std::io::Result<()> {
    let t = &report.diff.totals;
    writeln!(
        out,
        "{} ({}): {} added, {} changed, {} removed, {} unchanged, {} refreshed",
        report.feed, report.channel, t.added, t.changed, t.removed, t.unchanged, report.refreshed
    )?;
    section(out, "changed", &report.diff.changed, t.changed, true)?;
    section(out, "added", &report.diff.added, t.added, false)?;
    section(out, "removed", &report.diff.removed, t.removed, false)?;
    for (rule, count) in report.rejected {
        writeln!(out, "  left out by {rule}: {count}")?;
    }
    if !report.channel_rejected.is_empty() {
        writeln!(
            out,
            "  rejected by the channel ({}; still pending, fix and push again):",
            report.channel_rejected.len()
        )?;
        for item in &report.channel_rejected {
            writeln!(
                out,
                "    {}: {} ({} run{} in a row)",
                item.key,
                item.reason,
                item.rejections,
                if item.rejections == 1 { "" } else { "s" }
            )?;
        }
    }
    if let (Some(next_run), Some(changes)) = (report.next_run, report.future_changes) {
        print_future_changes(out, report, next_run, changes)?;
    }
    for trip in &report.guards {
        writeln!(
            out,
            "  guard {}: {} (a push would stop; override with {} or --force)",
            trip.code.code(),
            trip.message,
            trip.override_flag
        )?;
    }
    Ok(())
}

/// Sales that start or end before the next run, at the feed's local time.
fn print_future_changes(
    out: &mut impl Write,
    report: &FeedReport<'_>,
    next_run: jiff::Timestamp,
    changes: &[SaleChange],
) -> std::io::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let local = |at: jiff::Timestamp| {
        at.to_zoned(report.time_zone.clone())
            .strftime("%Y-%m-%d %H:%M %:z")
            .to_string()
    };
    writeln!(
        out,
        "  before the next run ({}): {} sale change{}",
        local(next_run),
        changes.len(),
        if changes.len() == 1 { "" } else { "s" }
    )?;
    for change in changes.iter().take(HUMAN_LIMIT) {
        let what = match change.change {
            SaleChangeKind::SaleStarts => "sale starts",
            SaleChangeKind::SaleEnds => "sale ends",
        };
        writeln!(
            out,
            "    {}: {what} {}: {} → {}",
            change.sku,
            local(change.at),
            change.before,
            change.after
        )?;
    }
    if changes.len() > HUMAN_LIMIT {
        writeln!(
            out,
            "    … and {} more (--format json lists all)",
            changes.len() - HUMAN_LIMIT
        )?;
    }
    Ok(())
}

fn section(
    out: &mut impl Write,
    name: &str,
    items: &[ItemChange],
    total: u64,
    with_fields: bool,
) -> std::io::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out, "  {name}:")?;
    for item in items {
        writeln!(out, "    {}", item.key)?;
        if with_fields {
            for change in &item.fields {
                writeln!(
                    out,
                    "      {}: {} → {}",
                    change.field,
                    change.before.as_deref().unwrap_or("(none)"),
                    change.after.as_deref().unwrap_or("(none)")
                )?;
            }
        }
    }
    let shown = items.len() as u64;
    if shown < total {
        writeln!(
            out,
            "    … and {} more (--limit N shows more)",
            total - shown
        )?;
    }
    Ok(())
}
