use std::io::Write;

use crate::cli::{Deny, GlobalArgs, ValidateArgs};
use crate::exit::Exit;
use crate::load;
use crate::report::OutputFormat;
use crate::report::findings::{print_github, print_human, print_json};
use crate::report::junit::print_junit;
use crate::report::progress::Progress;
use crate::report::sarif::print_sarif;

pub fn run(global: &GlobalArgs, args: &ValidateArgs) -> anyhow::Result<Exit> {
    let mut config = super::load_config(global)?;
    super::set_findings_policy(&mut config, args.max_per_rule, global.format);
    let progress = Progress::new(!global.no_progress);
    let mut outcome = load::load(
        &config,
        &progress,
        load::StockTiming::Concurrent,
        &mut |_, _| Ok(()),
    )?;
    let tally = outcome.findings.tally().clone();
    let deny_warnings = args.deny == Some(Deny::Warnings);
    let mut out = crate::report::stdout::stdout();
    match global.format {
        OutputFormat::Json => print_json(&mut out, &mut outcome.findings, &outcome.counts)?,
        OutputFormat::Github => print_github(&mut out, &outcome.findings)?,
        OutputFormat::Sarif => print_sarif(&mut out, &outcome.findings, true)?,
        OutputFormat::Junit => print_junit(
            &mut out,
            &outcome.findings,
            &super::catalog_files(&config),
            deny_warnings,
        )?,
        OutputFormat::Human => {
            print_human(&mut out, &outcome.findings, config.findings.max_per_rule)?;
            let counts = &outcome.counts;
            writeln!(
                out,
                "{} product rows ({} SKUs, {} left out), {} inventory rows, {} locations: {} errors, {} warnings",
                counts.product_rows,
                counts.variants,
                counts.rejected_rows,
                counts.inventory_rows,
                counts.locations,
                tally.errors,
                tally.warnings
            )?;
            if let Some(skipped) = counts.skipped_summary() {
                // Shop exports hold drafts, grouped products and the like: counted, not lost.
                writeln!(out, "{skipped} export rows skipped as not for sale")?;
            }
        }
    }
    out.flush()?;
    let failing = tally.errors > 0 || (deny_warnings && tally.warnings > 0);
    Ok(if failing { Exit::Invalid } else { Exit::Ok })
}
