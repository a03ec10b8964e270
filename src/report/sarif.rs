//! SARIF 2.1.0 (OASIS), the format GitHub code scanning and other CI dashboards read
//! (`--format sarif`).
//!
//! One run, tool `omnifeed`, with every rule of the registry under `tool.driver.rules`
//! (code, summary, hint as help, severity as default level). Each result is one kept
//! finding: `ruleId`, `level`, the message with SKU, the file as an artifact location
//! relative to the working folder (as the user named it), the row's first line as
//! `region.startLine`, the SKU, field, column and feed under `properties`, and a
//! `partialFingerprints` entry (rule, file, SKU, field, feed) that stays the same when the
//! row moves, so code scanning keeps tracking an alert across commits.
//!
//! Like human output, at most `--max-per-rule` findings per rule are listed (code scanning
//! shows 5,000 results per run and refuses more than 25,000); how many more each rule had
//! is told in `invocations[0].toolExecutionNotifications`, and the run's totals are in
//! `properties.errors` / `properties.warnings`.

use std::io::Write;

use serde_json::{Value, json};

use super::findings::not_shown;
use crate::diag::{Finding, Findings};
use crate::rules::{self, Severity};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Prints the findings as one SARIF log. `succeeded` is whether the run itself completed
/// (findings or not), for `invocations[0].executionSuccessful`.
pub fn print_sarif(
    out: &mut impl Write,
    findings: &Findings,
    succeeded: bool,
) -> std::io::Result<()> {
    let rule_index = |code: &str| rules::ALL.iter().position(|rule| rule.code == code);
    let results: Vec<Value> = findings
        .kept()
        .iter()
        .map(|finding| result(finding, rule_index(finding.rule)))
        .collect();
    let notifications: Vec<Value> = not_shown(findings)
        .into_iter()
        .map(|(rule, more)| {
            json!({
                "level": "note",
                "message": { "text": format!(
                    "{more} more {rule} findings not listed; raise --max-per-rule or run \
                     `omnifeed validate --format json` to list them all"
                ) },
                "associatedRule": { "id": rule },
            })
        })
        .collect();
    let tally = findings.tally();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "omnifeed",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules::ALL.iter().map(|rule| describe(rule)).collect::<Vec<_>>(),
            } },
            "invocations": [{
                "executionSuccessful": succeeded,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": { "errors": tally.errors, "warnings": tally.warnings },
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn describe(rule: &rules::Rule) -> Value {
    json!({
        "id": rule.code,
        "shortDescription": { "text": rule.summary },
        "fullDescription": { "text": rule.explain },
        "help": { "text": format!("{}\n\nMore: `omnifeed explain {}`", rule.hint, rule.code) },
        "defaultConfiguration": { "level": level(rule.severity) },
    })
}

fn result(finding: &Finding, rule_index: Option<usize>) -> Value {
    let mut message = finding.message.clone();
    if let Some(sku) = &finding.sku {
        message.push_str(&format!(" (SKU {sku})"));
    }
    let mut physical = json!({ "artifactLocation": { "uri": file_uri(&finding.file) } });
    if let Some(line) = finding.line.filter(|&line| line > 0) {
        physical["region"] = json!({ "startLine": line });
    }
    let mut properties = serde_json::Map::new();
    for (name, value) in [
        ("sku", finding.sku.as_deref()),
        ("field", finding.field.as_deref()),
        ("column", finding.column.as_deref()),
        ("feed", finding.feed.as_deref()),
    ] {
        if let Some(value) = value {
            properties.insert(name.to_owned(), Value::from(value));
        }
    }
    let identity = [
        finding.rule,
        &finding.file,
        finding.sku.as_deref().unwrap_or(""),
        finding.field.as_deref().unwrap_or(""),
        finding.feed.as_deref().unwrap_or(""),
    ]
    .join("\u{1f}");
    let mut result = json!({
        "ruleId": finding.rule,
        "level": level(finding.severity),
        "message": { "text": message },
        "locations": [{ "physicalLocation": physical }],
        "partialFingerprints": {
            "omnifeedFinding/v1": format!("{:016x}", xxhash_rust::xxh3::xxh3_64(identity.as_bytes())),
        },
        "properties": properties,
    });
    if let Some(index) = rule_index {
        result["ruleIndex"] = json!(index);
    }
    result
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A finding's file as a URI reference: relative paths stay relative (code scanning
/// resolves them against the repository root), absolute ones become `file://` URIs; both
/// percent-encoded where RFC 3986 requires it.
fn file_uri(file: &str) -> String {
    let path = file.replace('\\', "/");
    let mut uri = String::with_capacity(path.len());
    if path.starts_with('/') {
        uri.push_str("file://");
    }
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(char::from(byte));
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::file_uri;

    #[test]
    fn file_uris_are_relative_or_file_scheme_and_encoded() {
        assert_eq!(file_uri("catalog/products.csv"), "catalog/products.csv");
        assert_eq!(
            file_uri("my catalog/prix€.csv"),
            "my%20catalog/prix%E2%82%AC.csv"
        );
        assert_eq!(
            file_uri("/srv/shop/products.csv"),
            "file:///srv/shop/products.csv"
        );
        assert_eq!(file_uri("a:b.csv"), "a%3Ab.csv");
    }
}
