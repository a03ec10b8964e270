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

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use serde::Serialize;

use super::source_lines;
use crate::diag::Finding;
use crate::rules::{self, Severity};

#[derive(Debug, Default, Serialize)]
pub struct Tally {
    pub errors: u64,
    pub warnings: u64,
    pub by_rule: BTreeMap<&'static str, u64>,
}

impl Tally {
    pub fn of(findings: &[Finding]) -> Tally {
        let mut tally = Tally::default();
        for finding in findings {
            match finding.severity {
                Severity::Error => tally.errors += 1,
                Severity::Warning => tally.warnings += 1,
            }
            *tally.by_rule.entry(finding.rule).or_default() += 1;
        }
        tally
    }
}

#[derive(Serialize)]
struct JsonReport<'a, S: Serialize> {
    diagnostics: &'a [Finding],
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
    findings: &[Finding],
    extra: &impl Serialize,
) -> std::io::Result<()> {
    let tally = Tally::of(findings);
    let report = JsonReport {
        diagnostics: findings,
        summary: JsonSummary {
            tally: &tally,
            extra,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

/// GitHub workflow commands, one per finding, so findings show on the changed file.
pub fn print_github(out: &mut impl Write, findings: &[Finding]) -> std::io::Result<()> {
    for finding in findings {
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
    Ok(())
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Findings grouped by rule, errors first, each group with its count, the first `max_per_rule`
/// occurrences with their source line, and how many more there are.
pub fn print_human(
    out: &mut impl Write,
    findings: &[Finding],
    max_per_rule: usize,
) -> std::io::Result<()> {
    let mut groups: BTreeMap<(std::cmp::Reverse<Severity>, &str), Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
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
        let count = group.len();
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
