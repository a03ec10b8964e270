//! `omnifeed push`: diff every feed, stop the feeds that trip a guard, export the others into
//! a staging folder, deliver them through their [`Transport`], and only then record in the
//! state what the channel accepted (one transaction per feed).
//!
//! Two engine passes keep this simple and safe: the first (no files) yields the diffs the
//! guards need; the second writes the files of the feeds that passed and spills the records
//! the state must learn to a temp file, so memory stays flat for a million items. If the
//! second pass sees different counts than the first (the catalog changed in between), the
//! feed is not delivered.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::plan::{self, FeedPlan, PlanOptions};
use crate::cli::{GlobalArgs, GuardOverrides, PushArgs};
use crate::diff::{Accepted, DiffTotals, Fields, IndexSet};
use crate::exit::Exit;
use crate::export::{self, EngineOptions, RecordSink, RecordView};
use crate::feed::Feed;
use crate::guards::{GuardCode, GuardTrip, Overrides};
use crate::push::transport_for;
use crate::report::OutputFormat;
use crate::report::progress::Progress;
use crate::state::{
    FeedCounts, Outcome, PushSummary, PushedItem, RunId, SqliteStore, StateStore, Verdict,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum FeedOutcome {
    Ok,
    GuardTripped,
    Failed,
}

/// One feed in the push report (`--format json` prints `{ "run": ID, "outcome": …,
/// "feeds": [FeedResult…] }`).
#[derive(Serialize)]
struct FeedResult {
    feed: String,
    outcome: FeedOutcome,
    totals: DiffTotals,
    refreshed: u64,
    /// Every tripped guard, including overridden ones.
    guards: Vec<GuardTrip>,
    /// The guards that stopped this feed.
    blocking: Vec<GuardTrip>,
    files: Vec<PathBuf>,
    bytes: u64,
    /// Records delivered (every record of the feed: a file drop re-sends all of them).
    sent: u64,
    /// What the state recorded: new and changed items, refreshed ones and removals.
    recorded: Option<PushSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct PushReport<'a> {
    run: RunId,
    outcome: Outcome,
    feeds: &'a [FeedResult],
}

pub fn run(global: &GlobalArgs, args: &PushArgs) -> anyhow::Result<Exit> {
    let config = super::load_config(global)?;
    let now = super::parse_now(args.now.as_deref())?;
    super::set_jobs(args.selection.jobs);
    let feeds = super::load_feeds(&config, &args.selection.feeds)?;
    let started = std::time::Instant::now();
    let mut store = SqliteStore::open(&config.state_path)?;
    let progress = Progress::new(!global.no_progress);
    let options = PlanOptions {
        added_fields: false,
        now,
    };
    let plan = plan::analyze(&config, &feeds, Some(&store), &progress, &options)?;
    let ids: Vec<&str> = feeds.iter().map(|f| f.id.as_str()).collect();
    let run = store.begin_run("push", &ids, plan.catalog_time, now)?;
    let overrides = overrides(&args.overrides);

    let mut results: Vec<FeedResult> = Vec::with_capacity(feeds.len());
    let mut passing: Vec<Feed> = Vec::new();
    let mut passing_plans: Vec<FeedPlan> = Vec::new();
    for ((feed, feed_plan), summary) in feeds
        .into_iter()
        .zip(plan.feeds)
        .zip(&plan.engine.summaries)
    {
        let blocking = overrides.blocking(feed_plan.trips.clone());
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
        }
    }

    if !passing.is_empty()
        && let Err(err) = deliver_and_record(
            &config,
            &passing,
            &passing_plans,
            &mut store,
            run,
            now,
            &progress,
            &mut results,
        )
    {
        // A failure outside any one feed (the catalog became unreadable, the staging folder
        // could not be made): every feed not yet recorded failed.
        for result in &mut results {
            if result.outcome == FeedOutcome::Ok && result.recorded.is_none() {
                result.outcome = FeedOutcome::Failed;
                result.error = Some(format!("{err:#}"));
            }
        }
    }

    let outcome = if results.iter().any(|r| r.outcome == FeedOutcome::Failed) {
        Outcome::Failed
    } else if results
        .iter()
        .any(|r| r.outcome == FeedOutcome::GuardTripped)
    {
        Outcome::GuardTripped
    } else {
        Outcome::Ok
    };
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
    // `--now` shifts the whole run, so its end stays after its start.
    let ended = now
        .checked_add(jiff::SignedDuration::try_from(started.elapsed()).unwrap_or_default())
        .unwrap_or(now);
    store.finish_run(run, outcome, &counts, ended)?;

    print_report(global.format, run, outcome, &results)?;
    Ok(match outcome {
        Outcome::Failed => Exit::PushFailed,
        Outcome::GuardTripped => Exit::Invalid,
        _ => Exit::Ok,
    })
}

fn overrides(flags: &GuardOverrides) -> Overrides {
    let allowed = [
        (flags.allow_removals, GuardCode::RemovedShare),
        (flags.allow_additions, GuardCode::AddedShare),
        (flags.allow_price_changes, GuardCode::PriceChangeShare),
        (flags.allow_out_of_stock, GuardCode::OutOfStockShare),
        (flags.allow_currency_change, GuardCode::CurrencyChange),
        (flags.allow_older_catalog, GuardCode::OlderCatalog),
    ]
    .into_iter()
    .filter_map(|(set, code)| set.then_some(code))
    .collect();
    Overrides {
        force: flags.force,
        allowed,
    }
}

/// Second pass: stage the passing feeds' files, deliver each, record each.
#[allow(clippy::too_many_arguments)]
fn deliver_and_record(
    config: &crate::config::Config,
    feeds: &[Feed],
    plans: &[FeedPlan],
    store: &mut SqliteStore,
    run: RunId,
    now: Timestamp,
    progress: &Progress,
    results: &mut [FeedResult],
) -> anyhow::Result<()> {
    // Staged next to the state store, which is usually on the destination's filesystem, so
    // delivery is a rename; `DirTransport` copies when it is not.
    let staging_parent = config
        .state_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&staging_parent)
        .with_context(|| format!("cannot create `{}`", staging_parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix("push-staging-")
        .tempdir_in(&staging_parent)
        .with_context(|| {
            format!(
                "cannot create a staging folder in `{}`",
                staging_parent.display()
            )
        })?;
    let mut sink = PushSink {
        feeds,
        accepted: plans.iter().map(|p| Arc::clone(&p.accepted)).collect(),
        stale: plans.iter().map(|p| &p.stale).collect(),
        spills: Vec::with_capacity(feeds.len()),
        counts: vec![SeenCounts::default(); feeds.len()],
        error: None,
    };
    for _ in feeds {
        let file = tempfile::tempfile_in(staging.path()).context("cannot create a spill file")?;
        sink.spills.push(BufWriter::new(file));
    }
    let options = EngineOptions {
        write: true,
        out_dir: Some(staging.path()),
    };
    let engine = export::run(config, feeds, &options, progress, &mut sink)?;
    if let Some(err) = sink.error.take() {
        return Err(err).context("cannot write the spill file");
    }
    let spills = std::mem::take(&mut sink.spills);
    for (((feed, feed_plan), (summary, seen)), spill) in feeds
        .iter()
        .zip(plans)
        .zip(engine.summaries.iter().zip(&sink.counts))
        .zip(spills)
    {
        let Some(result) = results.iter_mut().find(|r| r.feed == feed.id) else {
            continue;
        };
        let t = &feed_plan.diff.totals;
        if (seen.added, seen.changed, seen.unchanged) != (t.added, t.changed, t.unchanged) {
            result.outcome = FeedOutcome::Failed;
            result.error = Some(format!(
                "the catalog changed while pushing (diff saw {} added, {} changed, now {} added, \
                 {} changed); nothing was delivered, run the push again",
                t.added, t.changed, seen.added, seen.changed
            ));
            continue;
        }
        let transport = transport_for(feed);
        let delivery = match transport.deliver(feed, &summary.files) {
            Ok(delivery) => delivery,
            Err(err) => {
                result.outcome = FeedOutcome::Failed;
                result.error = Some(format!("{:#}", anyhow::Error::from(err)));
                continue;
            }
        };
        result.files = delivery.files;
        result.bytes = delivery.bytes;
        result.sent = summary.records;
        let removed: Vec<&str> = feed_plan
            .diff
            .removed
            .iter()
            .map(|i| i.key.as_str())
            .collect();
        match record(store, feed, run, spill, &removed, now) {
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

/// Streams the spilled records into one `record_push` transaction.
fn record(
    store: &mut SqliteStore,
    feed: &Feed,
    run: RunId,
    spill: BufWriter<File>,
    removed: &[&str],
    now: Timestamp,
) -> anyhow::Result<PushSummary> {
    let mut file = spill.into_inner().map_err(|err| err.into_error())?;
    file.rewind()?;
    let lines = BufReader::new(file).lines().map(|line| {
        let line = line?;
        let spilled: Spilled = serde_json::from_str(&line)?;
        let hash = u128::from_str_radix(&spilled.hash, 16)?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(PushedItem {
            key: spilled.key,
            hash,
            fields: spilled.fields,
            verdict: Verdict::Accepted,
        })
    });
    Ok(store.record_push(&feed.id, run, lines, removed, now)?)
}

/// One record the state must learn, as a JSON line in the spill file. `fields` is `None` for
/// an unchanged item being refreshed (the store keeps its values).
#[derive(Serialize, Deserialize)]
struct Spilled {
    key: String,
    /// The engine's record hash, 32 hex digits.
    hash: String,
    fields: Option<Fields>,
}

#[derive(Debug, Clone, Copy, Default)]
struct SeenCounts {
    added: u64,
    changed: u64,
    unchanged: u64,
}

enum Seen {
    Added(String),
    Changed(String),
    Refreshed(String),
    Unchanged,
}

struct PushSink<'f> {
    feeds: &'f [Feed],
    accepted: Vec<Arc<Accepted>>,
    /// Per feed, the stale items by their index in `accepted`.
    stale: Vec<&'f IndexSet>,
    spills: Vec<BufWriter<File>>,
    counts: Vec<SeenCounts>,
    error: Option<std::io::Error>,
}

impl RecordSink for PushSink<'_> {
    type Item = Seen;

    fn record(&self, feed: usize, view: &RecordView<'_, '_>) -> Seen {
        let spill = |fields: Option<Fields>| {
            let line = Spilled {
                key: view.key.clone(),
                hash: format!("{:032x}", view.hash),
                fields,
            };
            // A map of strings always serializes.
            serde_json::to_string(&line).unwrap_or_default()
        };
        let fields = || Some(export::record_fields(&self.feeds[feed].spec, view.record));
        match self.accepted[feed].get(&view.key) {
            None => Seen::Added(spill(fields())),
            Some(found) if found.hash != view.hash => Seen::Changed(spill(fields())),
            Some(found) if self.stale[feed].contains(found.index) => Seen::Refreshed(spill(None)),
            Some(_) => Seen::Unchanged,
        }
    }

    fn collect(&mut self, feed: usize, seen: Seen) {
        let counts = &mut self.counts[feed];
        let line = match seen {
            Seen::Added(line) => {
                counts.added += 1;
                line
            }
            Seen::Changed(line) => {
                counts.changed += 1;
                line
            }
            Seen::Refreshed(line) => {
                counts.unchanged += 1;
                line
            }
            Seen::Unchanged => {
                counts.unchanged += 1;
                return;
            }
        };
        if self.error.is_some() {
            return;
        }
        let spill = &mut self.spills[feed];
        if let Err(err) = spill
            .write_all(line.as_bytes())
            .and_then(|()| spill.write_all(b"\n"))
        {
            self.error = Some(err);
        }
    }
}

fn print_report(
    format: OutputFormat,
    run: RunId,
    outcome: Outcome,
    results: &[FeedResult],
) -> anyhow::Result<()> {
    // Stopped and failed feeds are reported on stderr too, so a cron mail shows them even
    // when stdout goes to a file.
    for result in results {
        for trip in &result.blocking {
            eprintln!(
                "error: feed `{}` not pushed: {} {}; override with {} (or --force)",
                result.feed,
                trip.code.code(),
                trip.message,
                trip.override_flag
            );
        }
        if let Some(error) = &result.error {
            eprintln!("error: feed `{}` push failed: {error}", result.feed);
        }
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match format {
        OutputFormat::Json => {
            let report = PushReport {
                run,
                outcome,
                feeds: results,
            };
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        OutputFormat::Human | OutputFormat::Github => {
            for r in results {
                let t = &r.totals;
                writeln!(
                    out,
                    "{}: {} — {} added, {} changed, {} removed, {} unchanged, {} refreshed; {} sent",
                    r.feed,
                    match r.outcome {
                        FeedOutcome::Ok => "pushed",
                        FeedOutcome::GuardTripped => "stopped by a guard",
                        FeedOutcome::Failed => "failed",
                    },
                    t.added,
                    t.changed,
                    t.removed,
                    t.unchanged,
                    r.refreshed,
                    if r.recorded.is_some() { r.sent } else { 0 },
                )?;
                for file in &r.files {
                    writeln!(out, "    wrote {}", file.display())?;
                }
            }
            writeln!(out, "run {}: {}", run.0, outcome.as_str())?;
        }
    }
    out.flush()?;
    Ok(())
}
