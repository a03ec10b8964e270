//! `omnifeed push`: flags in, [`crate::run::push()`] does the run, the report out.

use std::io::Write;

use serde::Serialize;

use crate::cli::{GlobalArgs, GuardOverrides, PushArgs};
use crate::exit::Exit;
use crate::feed::Feed;
use crate::guards::{GuardCode, Overrides};
use crate::push::{NetRuntime, Transport, transport_for};
use crate::report::OutputFormat;
use crate::report::progress::Progress;
use crate::run::{FeedOutcome, FeedResult, ProjectLock, PushOptions, Rejection};
use crate::state::{Outcome, RunId, SqliteStore};

/// Rejected items listed on stderr per feed; the JSON report has them all.
const SHOWN_REJECTIONS: usize = 20;

/// `--format json` prints `{ "run": ID, "outcome": …, "feeds": [FeedResult…] }`.
#[derive(Serialize)]
struct PushReport<'a> {
    run: RunId,
    outcome: Outcome,
    feeds: &'a [FeedResult],
}

pub fn run(global: &GlobalArgs, args: &PushArgs, net: &NetRuntime) -> anyhow::Result<Exit> {
    let config = super::load_config(global)?;
    let now = super::parse_now(global.now.as_deref())?;
    super::set_jobs(args.selection.jobs);
    let feeds = super::load_feeds(&config, &args.selection.feeds)?;
    let options = PushOptions {
        now,
        overrides: overrides(&args.overrides),
        command: "push",
    };
    if args.dry_run {
        return super::dry_run::run(global, &config, &feeds, &options, net, args.show_items);
    }
    // Before the store is opened: migrating it is a write too.
    let lock = match ProjectLock::acquire(&config.state_path, "push") {
        Ok(lock) => lock,
        Err(err) => return super::lock_refused(err),
    };
    let mut store = SqliteStore::open(&config.state_path)?;
    let progress = Progress::new(!global.no_progress);
    if global.no_progress {
        net.hide_progress();
    }
    let pushed = crate::run::push(
        &config,
        feeds,
        &mut store,
        &lock,
        &options,
        &|feed: &Feed| -> Box<dyn Transport> { transport_for(feed, net) },
        &progress,
    )?;
    let printed = super::report_rejected_items(&pushed.findings)
        .map_err(anyhow::Error::from)
        .and_then(|()| print_report(global.format, pushed.run, pushed.outcome, &pushed.feeds));
    let exit = pushed.exit();
    if let Some(err) = pushed.finish_error {
        eprintln!(
            "error: {:#}\n  the feeds above were delivered and recorded as reported; only the \
             run's end is missing from `omnifeed runs`",
            anyhow::Error::from(err)
        );
    }
    printed?;
    Ok(exit)
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

fn print_report(
    format: OutputFormat,
    run: RunId,
    outcome: Outcome,
    results: &[FeedResult],
) -> anyhow::Result<()> {
    // Stopped and failed feeds are reported on stderr too, so a cron mail shows them even
    // when stdout goes to a file.
    let mut stderr = std::io::stderr().lock();
    for result in results {
        for trip in &result.blocking {
            // stderr may be closed too; the exit code still tells.
            let _ = writeln!(
                stderr,
                "error: feed `{}` not pushed: {} {}; override with {} (or --force)",
                result.feed,
                trip.code.code(),
                trip.message,
                trip.override_flag
            );
        }
        if let Some(error) = &result.error {
            let what = match result.outcome {
                FeedOutcome::GuardTripped => "not pushed",
                _ => "push failed",
            };
            let _ = writeln!(stderr, "error: feed `{}` {what}: {error}", result.feed);
        }
        let rejected = format!(
            "error: feed `{}`: the channel rejected {} items; they stay pending (fix them and \
             push again):",
            result.feed,
            result.channel_rejections.len()
        );
        print_items(&mut stderr, &rejected, &result.channel_rejections);
    }
    for result in results {
        let warned = format!(
            "warning: feed `{}`: the channel accepted {} items with warnings:",
            result.feed,
            result.channel_warnings.len()
        );
        print_items(&mut stderr, &warned, &result.channel_warnings);
        let held = format!(
            "error: feed `{}`: {} items held back, refused again and again for the same \
             content; they are sent once their content changes:",
            result.feed,
            result.held_back.len()
        );
        print_items(&mut stderr, &held, &result.held_back);
    }
    let mut out = crate::report::stdout::stdout();
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
        // SARIF and JUnit carry findings only: `crate::run` refuses them for this command.
        _ => {
            for r in results {
                let t = &r.totals;
                writeln!(
                    out,
                    "{}: {} — {} added, {} changed, {} removed, {} unchanged, {} refreshed; {} sent{}",
                    r.feed,
                    match r.outcome {
                        FeedOutcome::Ok => "pushed",
                        FeedOutcome::Partial => "pushed, some items rejected",
                        FeedOutcome::GuardTripped if r.blocking.is_empty() => "stopped",
                        FeedOutcome::GuardTripped => "stopped by a guard",
                        FeedOutcome::Failed => "failed",
                    },
                    t.added,
                    t.changed,
                    t.removed,
                    t.unchanged,
                    r.refreshed,
                    if r.recorded.is_some() { r.sent } else { 0 },
                    match r.recorded {
                        Some(recorded) if recorded.rejected > 0 => {
                            format!(", {} rejected", recorded.rejected)
                        }
                        _ => String::new(),
                    },
                )?;
                for file in &r.files {
                    writeln!(out, "    wrote {}", file.display())?;
                }
                for (rule, count) in &r.rejected {
                    writeln!(out, "    left out by {rule}: {count}")?;
                }
            }
            writeln!(out, "run {}: {}", run.0, outcome.as_str())?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `heading`, then the first [`SHOWN_REJECTIONS`] items with their channel's message and how
/// many more; nothing for no items. stderr may be closed: the exit code still tells.
fn print_items(stderr: &mut impl Write, heading: &str, items: &[Rejection]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(stderr, "{heading}");
    for item in items.iter().take(SHOWN_REJECTIONS) {
        let _ = writeln!(stderr, "    {}: {}", item.key, item.message);
    }
    if items.len() > SHOWN_REJECTIONS {
        let _ = writeln!(
            stderr,
            "    … and {} more (--format json lists them all)",
            items.len() - SHOWN_REJECTIONS
        );
    }
}
