//! `omnifeed runs` and `omnifeed runs show ID`: the run history in the state store.
//!
//! JSON: `runs` prints `{ "runs": [RunSummary…] }`, newest first; `runs show ID` prints one
//! `RunDetail` `{ "summary": RunSummary, "feeds": [ { "feed", "counts": { "added", "changed",
//! "removed", "unchanged", "sent", "accepted", "rejected" }, "recorded_at", "rejected_items":
//! [ { "key", "reason" } ] } ] }` (`rejected_items`: the items the channel refused in that
//! run with its reason; left out when none). A
//! `RunSummary` is `{ "id", "started_at", "ended_at", "command", "feeds", "outcome",
//! "catalog_modified_at" }`; times are RFC 3339, `ended_at` is null for a run still going or
//! killed, and `outcome` is one of `running`, `ok`, `partial` (the channel rejected some
//! items), `guard_tripped`, `failed`, `dry_run`, `interrupted` (the process died; marked by
//! the next run that took the project lock).

use std::io::Write;

use serde::Serialize;

use crate::cli::{GlobalArgs, RunsArgs, RunsCommand};
use crate::exit::Exit;
use crate::report::OutputFormat;
use crate::state::{RunDetail, RunId, RunSummary, SqliteStore, StateStore};

#[derive(Serialize)]
struct RunsReport<'a> {
    runs: &'a [RunSummary],
}

pub fn run(global: &GlobalArgs, args: &RunsArgs) -> anyhow::Result<Exit> {
    let config = super::load_config(global)?;
    // Read-only, one snapshot: never creates or migrates the store, never waits for a push.
    let store = SqliteStore::open_read_only(&config.state_path)?;
    let mut out = crate::report::stdout::stdout();
    match &args.show {
        None => {
            let runs = match &store {
                Some(store) => store.runs(args.limit)?,
                None => Vec::new(),
            };
            match global.format {
                OutputFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &RunsReport { runs: &runs })?;
                    writeln!(out)?;
                }
                _ => print_runs(&mut out, &runs)?,
            }
        }
        Some(RunsCommand::Show { id }) => {
            let detail = match &store {
                Some(store) => store.run(RunId(*id))?,
                None => None,
            };
            let Some(detail) = detail else {
                anyhow::bail!("no run {id} in `{}`", config.state_path.display());
            };
            match global.format {
                OutputFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &detail)?;
                    writeln!(out)?;
                }
                _ => print_detail(&mut out, &detail)?,
            }
        }
    }
    out.flush()?;
    Ok(Exit::Ok)
}

fn print_runs(out: &mut impl Write, runs: &[RunSummary]) -> std::io::Result<()> {
    if runs.is_empty() {
        return writeln!(out, "no runs yet");
    }
    writeln!(
        out,
        "{:>5}  {:<25}  {:<8}  {:<14}  feeds",
        "id", "started", "command", "outcome"
    )?;
    for run in runs {
        writeln!(
            out,
            "{:>5}  {:<25}  {:<8}  {:<14}  {}",
            run.id.0,
            run.started_at.to_string(),
            run.command,
            run.outcome.as_str(),
            run.feeds.join(", ")
        )?;
    }
    Ok(())
}

fn print_detail(out: &mut impl Write, detail: &RunDetail) -> std::io::Result<()> {
    let s = &detail.summary;
    writeln!(out, "run {}: {} {}", s.id.0, s.command, s.outcome.as_str())?;
    writeln!(out, "started  {}", s.started_at)?;
    match s.ended_at {
        Some(ended) => writeln!(out, "ended    {ended}")?,
        None => writeln!(out, "ended    (not finished)")?,
    }
    if let Some(catalog) = s.catalog_modified_at {
        writeln!(out, "catalog  {catalog}")?;
    }
    for feed in &detail.feeds {
        let c = &feed.counts;
        writeln!(
            out,
            "  {}: {} added, {} changed, {} removed, {} unchanged; {} sent, {} accepted, {} rejected{}",
            feed.feed,
            c.added,
            c.changed,
            c.removed,
            c.unchanged,
            c.sent,
            c.accepted,
            c.rejected,
            if feed.recorded_at.is_some() {
                ""
            } else {
                " (nothing recorded)"
            }
        )?;
        for item in &feed.rejected_items {
            writeln!(out, "    rejected {}: {}", item.key, item.reason)?;
        }
    }
    Ok(())
}
