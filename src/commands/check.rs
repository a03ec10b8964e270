//! `omnifeed check [FEED…]`: whether the feeds agree on every SKU, per country (see
//! [`crate::check`]). Reads the catalog and the feed definitions only: no state, no lock,
//! no credentials, no network, no files written.
//!
//! # JSON schema (`--format json`)
//!
//! One object on stdout:
//!
//! ```json
//! {
//!   "clean": false,
//!   "feeds": [ { "feed": "google-shopping", "channel": "google-merchant", "country": "DE",
//!                "price_adjust": null, "items_in": 300, "written": 296 } ],
//!   "checked": 300,                 // catalog items at least one feed sends
//!   "skus_with_mismatches": 2,      // SKU and country pairs below
//!   "mismatches": { "missing": 1, "price": 1 },   // by kind
//!   "filtered_allowed": 0,          // with --allow-filtered: feeds that left a SKU another sends
//!                                   // out by their [filters], not compared (0 without the flag)
//!   "skus": [
//!     { "sku": "SKU-1", "line": 12, "country": "DE", "mismatches": [
//!       { "kind": "price", "agreed": "10.00 EUR", "differs": ["meta-catalog"],
//!         "values": [ { "feed": "google-shopping", "sent": "10.00 EUR", "rule": null, "expected": "10.00 EUR" },
//!                     { "feed": "meta-catalog", "sent": "12.00 EUR", "rule": null, "expected": "10.00 EUR" } ] },
//!       { "kind": "sale_price", … same shape as price … },
//!       { "kind": "sale", "on_sale": [ { "feed": "…", "value": "8.00 EUR" } ], "not_on_sale": ["…"] },
//!       { "kind": "currency", "values": [ { "feed": "…", "value": "EUR" } ] },
//!       { "kind": "availability", "feed": "tiktok", "sent": "in stock", "expected": "out of stock",
//!         "allocated_quantity": 0 },
//!       { "kind": "missing", "present": ["google-shopping"], "missing": [
//!         { "feed": "tiktok", "reason": { "kind": "filtered", "filter": "brands" } },
//!         { "feed": "openai", "reason": { "kind": "rejected", "rule": "feed.missing-required",
//!                                        "field": "brand", "message": "…" } },
//!         { "feed": "local", "reason": { "kind": "not_mapped", "why": "…" } } ] }
//!     ] }
//!   ]
//! }
//! ```
//!
//! `skus` lists every SKU that differs, in catalog order, however many. Prices are compared
//! per currency; `expected` is the agreed price with the feed's `price_adjust` applied.

use std::io::Write;

use crate::check;
use crate::cli::{CheckArgs, GlobalArgs};
use crate::exit::Exit;
use crate::report::OutputFormat;
use crate::report::progress::Progress;

/// SKUs shown in human and GitHub output when `--limit` is not given.
const HUMAN_LIMIT: usize = 20;

#[derive(serde::Serialize)]
struct FeedLine<'a> {
    feed: &'a str,
    channel: &'a str,
    country: Option<&'a str>,
    price_adjust: Option<String>,
    items_in: u64,
    written: u64,
}

pub fn run(global: &GlobalArgs, args: &CheckArgs) -> anyhow::Result<Exit> {
    let config = super::load_config(global)?;
    let now = super::parse_now(global.now.as_deref())?;
    super::set_jobs(args.selection.jobs);
    let feeds = super::load_feeds(&config, &args.selection.feeds)?;
    let progress = Progress::new(!global.no_progress);
    let keep = match global.format {
        OutputFormat::Json => 0,
        _ => args.limit.unwrap_or(HUMAN_LIMIT),
    };
    let list_all = global.format == OutputFormat::Json;
    let options = check::CheckOptions {
        keep,
        list_all,
        allow_filtered: args.allow_filtered,
    };
    let mut result = check::run(&config, &feeds, now, options, &progress)?;
    progress.finish();
    report_catalog_rows(&result.engine.catalog.counts)?;
    let mut out = crate::report::stdout::stdout();
    let tally = &result.tally;
    match global.format {
        OutputFormat::Json => {
            let lines: Vec<FeedLine<'_>> = feeds
                .iter()
                .zip(&result.engine.summaries)
                .map(|(feed, summary)| FeedLine {
                    feed: &feed.id,
                    channel: &feed.spec.id,
                    country: feed.country.as_deref(),
                    price_adjust: feed.price_adjust.map(|rule| rule.to_string()),
                    items_in: summary.items_in,
                    written: summary.items_written,
                })
                .collect();
            let head = format!(
                "{{\n  \"clean\": {},\n  \"feeds\": {},\n  \"checked\": {},\n  \"skus_with_mismatches\": {},\n  \"mismatches\": {},\n  \"filtered_allowed\": {},\n  \"skus\": [\n",
                tally.skus_with_mismatches == 0,
                serde_json::to_string(&lines)?,
                tally.checked,
                tally.skus_with_mismatches,
                serde_json::to_string(&tally.mismatches)?,
                tally.filtered_allowed,
            );
            out.write_all(head.as_bytes())?;
            let tally_clean = tally.skus_with_mismatches == 0;
            result.write_all(&mut out, ",\n")?;
            out.write_all(if tally_clean {
                b"  ]\n}\n"
            } else {
                b"\n  ]\n}\n"
            })?;
        }
        OutputFormat::Github => crate::report::check::print_github(
            &mut out,
            &result.first,
            tally,
            &config.products_path().display().to_string(),
        )?,
        OutputFormat::Sarif | OutputFormat::Junit => {
            let products_file = config.products_path().display().to_string();
            let findings = crate::report::check::as_findings(&result.first, &products_file)?;
            if global.format == OutputFormat::Sarif {
                crate::report::sarif::print_sarif(&mut out, &findings, true)?;
            } else {
                crate::report::junit::print_junit(&mut out, &findings, &[products_file], false)?;
            }
        }
        OutputFormat::Human => {
            crate::report::check::print_human(&mut out, &result.first, tally, feeds.len())?
        }
    }
    out.flush()?;
    Ok(if result.tally.skus_with_mismatches > 0 {
        Exit::Invalid
    } else {
        Exit::Ok
    })
}

/// Rows the catalog left out for errors reach no feed, so `check` cannot compare them: it
/// says how many, on stderr.
fn report_catalog_rows(counts: &crate::load::LoadCounts) -> std::io::Result<()> {
    if counts.rejected_rows > 0 {
        writeln!(
            std::io::stderr(),
            "note: {} catalog rows have errors and reach no feed, so they are not compared; \
             `omnifeed validate` lists them",
            counts.rejected_rows
        )?;
    }
    Ok(())
}
