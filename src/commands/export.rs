use std::io::Write;

use crate::cli::{ExportArgs, GlobalArgs};
use crate::exit::Exit;
use crate::export::{self, EngineOptions, FeedSummary, IncompleteExport, NoRecords};
use crate::report::OutputFormat;
use crate::report::findings::{Tally, print_github, print_human};
use crate::report::junit::print_junit;
use crate::report::progress::Progress;
use crate::report::sarif::print_sarif;

#[derive(serde::Serialize)]
struct ExportReport<'a> {
    feeds: &'a [FeedSummary],
    catalog: &'a crate::load::LoadCounts,
    diagnostics: crate::diag::AllFindings<'a>,
    summary: Tally,
}

pub fn run(global: &GlobalArgs, args: &ExportArgs) -> anyhow::Result<Exit> {
    let mut config = super::load_config(global)?;
    super::set_findings_policy(&mut config, args.max_per_rule, global.format);
    // Date rules (`max_days_ahead`) count from it.
    let now = super::parse_now(global.now.as_deref())?;
    super::set_jobs(args.selection.jobs);
    let feeds = super::load_feeds(&config, &args.selection.feeds)?;
    // Writes feeds: never beside a push (or another export) of the same project.
    let _lock = match crate::run::ProjectLock::acquire(&config.state_path, "export") {
        Ok(lock) => lock,
        Err(err) => return super::lock_refused(err),
    };
    let progress = Progress::new(!global.no_progress);
    let options = EngineOptions {
        write: true,
        out_dir: args.out.as_deref(),
        folder_per_feed: false,
        now,
        next_run: None,
    };
    // When some feeds could not be put in place, the report still says which were.
    let (result, incomplete) =
        match export::run(&config, &feeds, &options, &progress, &mut NoRecords) {
            Ok(result) => (result, None),
            Err(err) => match err.downcast::<IncompleteExport>() {
                Ok(mut incomplete) => match incomplete.result.take() {
                    Some(result) => (*result, Some(incomplete)),
                    None => return Err(incomplete.into()),
                },
                Err(err) => return Err(err),
            },
        };
    let mut findings = result.catalog.findings;
    findings.absorb(result.findings)?;
    let tally = findings.tally().clone();
    let mut out = crate::report::stdout::stdout();
    match global.format {
        OutputFormat::Json => {
            let report = ExportReport {
                feeds: &result.summaries,
                catalog: &result.catalog.counts,
                diagnostics: findings.all()?,
                summary: tally,
            };
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
            out.flush()?;
            return finish(exit_for(&report.summary), incomplete);
        }
        OutputFormat::Github => print_github(&mut out, &findings)?,
        OutputFormat::Sarif => print_sarif(&mut out, &findings, incomplete.is_none())?,
        OutputFormat::Junit => {
            print_junit(&mut out, &findings, &super::catalog_files(&config), false)?;
        }
        OutputFormat::Human => {
            print_human(&mut out, &findings, config.findings.max_per_rule)?;
            print_summaries(&mut out, &result.summaries)?;
            writeln!(out, "{} errors, {} warnings", tally.errors, tally.warnings)?;
        }
    }
    out.flush()?;
    finish(exit_for(&tally), incomplete)
}

/// The run's exit code, or the failure of the feeds that could not be written, which the
/// report has listed beside the ones that were.
fn finish(exit: Exit, incomplete: Option<IncompleteExport>) -> anyhow::Result<Exit> {
    match incomplete {
        None => Ok(exit),
        Some(incomplete) => Err(incomplete.into()),
    }
}

fn exit_for(tally: &Tally) -> Exit {
    if tally.errors > 0 {
        Exit::Invalid
    } else {
        Exit::Ok
    }
}

fn print_summaries(out: &mut impl Write, summaries: &[FeedSummary]) -> std::io::Result<()> {
    for summary in summaries {
        writeln!(
            out,
            "{} ({} {}): {} items in, {} written ({} records), {} filtered, {} rejected, {} warnings, {} bytes",
            summary.feed,
            summary.channel,
            summary.format,
            summary.items_in,
            summary.items_written,
            summary.records,
            summary.filtered.values().sum::<u64>(),
            summary.rejected.values().sum::<u64>(),
            summary.warnings,
            summary.bytes,
        )?;
        for (filter, count) in &summary.filtered {
            writeln!(out, "    filtered by {filter}: {count}")?;
        }
        for (rule, count) in &summary.rejected {
            writeln!(out, "    rejected by {rule}: {count}")?;
        }
        for file in &summary.files {
            writeln!(out, "    wrote {}", file.display())?;
        }
        if let Some(failed) = &summary.failed {
            writeln!(
                out,
                "    NOT WRITTEN (old files left as they were): {failed}"
            )?;
        }
    }
    Ok(())
}
