//! `omnifeed push --dry-run`: [`crate::run::dry_run()`] does the work, the report out.

use std::io::Write;

use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::exit::Exit;
use crate::feed::Feed;
use crate::push::{NetRuntime, Transport, transport_for};
use crate::report::OutputFormat;
use crate::report::progress::Progress;
use crate::run::{DryRunFeed, DryRunOutcome, PlannedItems, PushOptions};

/// `--format json` prints `{ "dry_run": true, "outcome": …, "feeds": [DryRunFeed…] }`;
/// `outcome` is `ok`, `guard_tripped` or `failed`, as the push would end. A feed whose
/// destination takes single items has `items`: the counts `insert`, `update`, `refresh`,
/// `delete`, `held_back`, and `operations`, the first `--show-items` of them in sending
/// order, each `{ "key", "operation", "request": { "method", "url", "body" }, "reason" }`
/// (`body` only for inserts, `reason` instead of `request` for an item not sent).
#[derive(Serialize)]
struct DryRunReport<'a> {
    dry_run: bool,
    outcome: &'static str,
    feeds: &'a [DryRunFeed],
}

pub(super) fn run(
    global: &GlobalArgs,
    config: &Config,
    feeds: &[Feed],
    options: &PushOptions,
    net: &NetRuntime,
    shown_items: usize,
) -> anyhow::Result<Exit> {
    let store = crate::run::open_existing_store(config)?;
    let progress = Progress::new(!global.no_progress);
    let dry = crate::run::dry_run(
        config,
        feeds,
        store.as_ref(),
        options,
        &|feed: &Feed| -> Box<dyn Transport> { transport_for(feed, net) },
        &progress,
        shown_items,
    )?;
    super::report_rejected_items(&dry.findings)?;
    let outcome = |wanted: DryRunOutcome| dry.feeds.iter().any(|f| f.outcome == wanted);
    let (exit, outcome) = if outcome(DryRunOutcome::CheckFailed) {
        (Exit::PushFailed, "failed")
    } else if outcome(DryRunOutcome::GuardTripped) {
        (Exit::Invalid, "guard_tripped")
    } else if dry.findings.has_errors() {
        // Items left out for an error are data errors, as for a push.
        (Exit::Invalid, "ok")
    } else {
        (Exit::Ok, "ok")
    };
    print_report(global.format, outcome, &dry.feeds)?;
    Ok(exit)
}

/// The counts, then one line per listed operation; `--format json` has the bodies.
fn print_items(out: &mut impl Write, items: &PlannedItems) -> std::io::Result<()> {
    writeln!(
        out,
        "    items: {} insert, {} update, {} refresh, {} delete, {} held back",
        items.insert, items.update, items.refresh, items.delete, items.held_back
    )?;
    for operation in &items.operations {
        match (&operation.request, &operation.reason) {
            (Some(request), _) => writeln!(
                out,
                "    {:<9} {}: {} {}",
                operation.operation.as_str(),
                operation.key,
                request.method,
                request.url
            )?,
            (None, reason) => writeln!(
                out,
                "    {:<9} {}: {}",
                operation.operation.as_str(),
                operation.key,
                reason.as_deref().unwrap_or("not sent")
            )?,
        }
    }
    let listed = items.operations.len() as u64;
    let total = items.insert + items.update + items.refresh + items.delete + items.held_back;
    if total > listed {
        writeln!(
            out,
            "    and {} more (--show-items N; --format json shows the bodies)",
            total - listed
        )?;
    }
    Ok(())
}

fn print_report(
    format: OutputFormat,
    outcome: &'static str,
    feeds: &[DryRunFeed],
) -> anyhow::Result<()> {
    let mut stderr = std::io::stderr().lock();
    for feed in feeds {
        for trip in &feed.blocking {
            let _ = writeln!(
                stderr,
                "error: feed `{}` would not be pushed: {} {}; override with {} (or --force)",
                feed.feed,
                trip.code.code(),
                trip.message,
                trip.override_flag
            );
        }
        if let Some(error) = &feed.error {
            let _ = writeln!(stderr, "error: feed `{}`: {error}", feed.feed);
        }
    }
    let mut out = crate::report::stdout::stdout();
    match format {
        OutputFormat::Json => {
            let report = DryRunReport {
                dry_run: true,
                outcome,
                feeds,
            };
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        // SARIF and JUnit carry findings only: `crate::run` refuses them for `push`.
        _ => {
            for feed in feeds {
                let t = &feed.totals;
                writeln!(
                    out,
                    "{}: {} — {} added, {} changed, {} removed, {} unchanged, {} refreshed; {} records",
                    feed.feed,
                    match feed.outcome {
                        DryRunOutcome::WouldPush => "would push",
                        DryRunOutcome::GuardTripped => "would stop",
                        DryRunOutcome::CheckFailed => "check failed",
                    },
                    t.added,
                    t.changed,
                    t.removed,
                    t.unchanged,
                    feed.refreshed,
                    feed.records,
                )?;
                writeln!(out, "    to {}", feed.target)?;
                for file in &feed.files {
                    writeln!(out, "    {} ({} bytes)", file.name, file.bytes)?;
                }
                if let Some(items) = &feed.items {
                    print_items(&mut out, items)?;
                }
                for check in &feed.checks {
                    writeln!(out, "    ok: {check}")?;
                }
                for (rule, count) in &feed.rejected {
                    writeln!(out, "    left out by {rule}: {count}")?;
                }
            }
            writeln!(out, "dry run: nothing sent, nothing recorded ({outcome})")?;
        }
    }
    out.flush()?;
    Ok(())
}
