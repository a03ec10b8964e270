//! Printing findings.
//!
//! JSON schema (`--format json`, stable; fields are only ever added):
//! ```json
//! {
//!   "diagnostics": [
//!     {"rule": "invalid-gtin", "severity": "error", "file": "catalog/products.csv",
//!      "line": 12, "field": "gtin", "sku": "G1-RED-M", "column": "EAN",
//!      "message": "...", "hint": "..."}
//!   ],
//!   "summary": {"errors": 3, "warnings": 1, "by_rule": {"invalid-gtin": 3}, ...counts}
//! }
//! ```
//! `line` is the 1-based line where the row starts; `field` is the canonical field name;
//! `column` appears only when the user's column name differs from it.
//!
//! `diagnostics` lists every finding, however many: they are read back one at a time from
//! a temporary file the run appended them to, so memory stays flat on a dirty catalog. The
//! order: products (by line), inventory (rows by line, then SKUs without a product row),
//! locations, then feed items (by line, feeds in order). `summary` counts every finding. Human and GitHub output show the first
//! `--max-per-rule` findings of each rule with the count of the rest.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use serde::Serialize;

use super::source_lines;
use crate::diag::{Finding, Findings};
use crate::rules::{self, Severity};

pub use crate::diag::Tally;

#[derive(Serialize)]
struct JsonReport<'a, S: Serialize> {
    diagnostics: crate::diag::AllFindings<'a>,
    summary: JsonSummary<'a, S>,
}

#[derive(Serialize)]
struct JsonSummary<'a, S: Serialize> {
    #[serde(flatten)]
    tally: &'a Tally,
    #[serde(flatten)]
    extra: &'a S,
}

pub fn print_json(
    out: &mut impl Write,
    findings: &mut Findings,
    extra: &impl Serialize,
) -> std::io::Result<()> {
    let tally = findings.tally().clone();
    let report = JsonReport {
        diagnostics: findings.all()?,
        summary: JsonSummary {
            tally: &tally,
            extra,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

/// GitHub workflow commands, one per kept finding, so findings show on the changed file;
/// then one notice per rule with more findings than were kept.
pub fn print_github(out: &mut impl Write, findings: &Findings) -> std::io::Result<()> {
    for finding in findings.kept() {
        let mut properties = format!("file={}", escape_property(&finding.file));
        if let Some(line) = finding.line {
            properties.push_str(&format!(",line={line}"));
        }
        properties.push_str(&format!(",title={}", escape_property(finding.rule)));
        let mut message = finding.message.clone();
        if let Some(sku) = &finding.sku {
            message.push_str(&format!(" (SKU {sku})"));
        }
        message.push_str(&format!(". Hint: {}", finding.hint));
        writeln!(
            out,
            "::{} {properties}::{}",
            finding.severity.as_str(),
            escape_data(&message)
        )?;
    }
    for (rule, more) in not_shown(findings) {
        writeln!(
            out,
            "::notice title={}::{}",
            escape_property(rule),
            escape_data(&format!(
                "{more} more {rule} findings not shown; `omnifeed validate --format json` lists them all"
            ))
        )?;
    }
    Ok(())
}

/// Per rule, how many findings were counted but not kept.
pub fn not_shown(findings: &Findings) -> Vec<(&'static str, u64)> {
    let mut kept: BTreeMap<&str, u64> = BTreeMap::new();
    for finding in findings.kept() {
        *kept.entry(finding.rule).or_default() += 1;
    }
    findings
        .tally()
        .by_rule
        .iter()
        .map(|(rule, count)| (*rule, count - kept.get(rule).copied().unwrap_or(0)))
        .filter(|(_, more)| *more > 0)
        .collect()
}

pub(crate) fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub(crate) fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Findings grouped by rule, errors first, each group with its count, the first `max_per_rule`
/// occurrences with their source line, and how many more there are.
pub fn print_human(
    out: &mut impl Write,
    findings: &Findings,
    max_per_rule: usize,
) -> std::io::Result<()> {
    let mut groups: BTreeMap<(std::cmp::Reverse<Severity>, &str), Vec<&Finding>> = BTreeMap::new();
    for finding in findings.kept() {
        groups
            .entry((std::cmp::Reverse(finding.severity), finding.rule))
            .or_default()
            .push(finding);
    }
    let mut wanted: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    for group in groups.values() {
        for finding in group.iter().take(max_per_rule) {
            if let Some(line) = finding.line {
                wanted.entry(&finding.file).or_default().insert(line);
            }
        }
    }
    let sources: BTreeMap<&str, _> = wanted
        .iter()
        .map(|(file, lines)| (*file, source_lines::fetch(file, lines, 100)))
        .collect();
    for ((severity, rule), group) in &groups {
        let summary = rules::find(rule).map_or("", |r| r.summary);
        // Every finding counts, also those not kept.
        let count = findings
            .tally()
            .by_rule
            .get(rule)
            .map_or(group.len(), |&n| usize::try_from(n).unwrap_or(usize::MAX));
        writeln!(
            out,
            "{}[{rule}]: {summary} ({count} {})",
            severity.0.as_str(),
            if count == 1 { "finding" } else { "findings" }
        )?;
        for finding in group.iter().take(max_per_rule) {
            let mut location = finding.file.to_string();
            if let Some(line) = finding.line {
                location.push_str(&format!(":{line}"));
            }
            let mut context = Vec::new();
            if let Some(sku) = &finding.sku {
                context.push(format!("SKU {sku}"));
            }
            if let Some(field) = &finding.field {
                match &finding.column {
                    Some(column) => context.push(format!("field {field} (column {column})")),
                    None => context.push(format!("field {field}")),
                }
            }
            if let Some(feed) = &finding.feed {
                context.push(format!("feed {feed}"));
            }
            let context = if context.is_empty() {
                String::new()
            } else {
                format!(" ({})", context.join(", "))
            };
            writeln!(out, "  --> {location}{context}")?;
            if let Some(line) = finding.line
                && let Some(text) = sources.get(&*finding.file).and_then(|s| s.get(&line))
            {
                let gutter = line.to_string().len();
                writeln!(out, "{:gutter$} |", "")?;
                writeln!(out, "{line} | {text}")?;
                writeln!(out, "{:gutter$} |", "")?;
            }
            writeln!(out, "   = {}", finding.message)?;
        }
        if count > max_per_rule {
            writeln!(out, "  … and {} more", count - max_per_rule)?;
        }
        if let Some(first) = group.first() {
            writeln!(out, "  hint: {}", first.hint)?;
        }
        writeln!(out)?;
    }
    Ok(())
}
