//! JUnit XML (`--format junit`), the test report format CI systems (GitLab, Jenkins, Azure,
//! CircleCI) show per job.
//!
//! One `<testsuite>` per file that was checked or has findings (its name and each case's
//! `classname` are the file as the user named it). Each kept finding is one `<testcase>`
//! named `RULE line N (SKU …)`: an error fails it (`<failure type="RULE">` with the message,
//! location and hint); a warning passes with the text in `<system-out>`, or fails under
//! `--deny warnings`. A file without findings gets one passing case, `no findings`, so a
//! clean catalog shows as passed tests rather than as no tests. Like human output, at most
//! `--max-per-rule` findings per rule are listed; each rule with more gets one more case in
//! the suite `omnifeed: findings not listed`, failing when the rule is an error, that says
//! how many.

use std::collections::BTreeMap;
use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::findings::not_shown;
use crate::diag::{Finding, Findings};
use crate::rules::{self, Severity};

/// One test case before it is written.
struct Case {
    classname: String,
    name: String,
    /// `(type, message, body)` of a failure.
    failure: Option<(String, String, String)>,
    output: Option<String>,
}

/// Prints the findings as JUnit XML. `checked` names the files the run read, so that a
/// clean file shows as a passing case; `deny_warnings` makes warnings fail.
pub fn print_junit(
    out: &mut impl Write,
    findings: &Findings,
    checked: &[String],
    deny_warnings: bool,
) -> std::io::Result<()> {
    let mut suites: BTreeMap<String, Vec<Case>> = checked
        .iter()
        .map(|file| (file.clone(), Vec::new()))
        .collect();
    for finding in findings.kept() {
        suites
            .entry(finding.file.to_string())
            .or_default()
            .push(case(finding, deny_warnings));
    }
    for (file, cases) in &mut suites {
        if cases.is_empty() {
            cases.push(Case {
                classname: file.clone(),
                name: "no findings".to_owned(),
                failure: None,
                output: None,
            });
        }
    }
    let not_listed: Vec<Case> = not_shown(findings)
        .into_iter()
        .map(|(rule, more)| {
            let severity = rules::find(rule).map_or(Severity::Error, |r| r.severity);
            let text = format!(
                "{more} more {rule} findings not listed; raise --max-per-rule or run \
                 `omnifeed validate --format json` to list them all"
            );
            let fails = severity == Severity::Error || deny_warnings;
            Case {
                classname: "omnifeed".to_owned(),
                name: format!("{rule}: {more} more"),
                failure: fails.then(|| (rule.to_owned(), text.clone(), text.clone())),
                output: (!fails).then_some(text),
            }
        })
        .collect();
    if !not_listed.is_empty() {
        suites.insert("omnifeed: findings not listed".to_owned(), not_listed);
    }
    write_xml(out, &suites)
}

fn case(finding: &Finding, deny_warnings: bool) -> Case {
    let mut name = finding.rule.to_owned();
    if let Some(line) = finding.line {
        name.push_str(&format!(" line {line}"));
    }
    if let Some(sku) = &finding.sku {
        name.push_str(&format!(" (SKU {sku})"));
    }
    let mut location = finding.file.to_string();
    if let Some(line) = finding.line {
        location.push_str(&format!(":{line}"));
    }
    let mut context = Vec::new();
    if let Some(field) = &finding.field {
        match &finding.column {
            Some(column) => context.push(format!("field {field} (column {column})")),
            None => context.push(format!("field {field}")),
        }
    }
    if let Some(feed) = &finding.feed {
        context.push(format!("feed {feed}"));
    }
    let body = format!(
        "{}: {location}{}\n{}\nhint: {}\n",
        finding.severity.as_str(),
        if context.is_empty() {
            String::new()
        } else {
            format!(" ({})", context.join(", "))
        },
        finding.message,
        finding.hint
    );
    let fails = finding.severity == Severity::Error || deny_warnings;
    Case {
        classname: finding.file.to_string(),
        name,
        failure: fails.then(|| {
            (
                finding.rule.to_owned(),
                finding.message.clone(),
                body.clone(),
            )
        }),
        output: (!fails).then_some(body),
    }
}

fn write_xml(out: &mut impl Write, suites: &BTreeMap<String, Vec<Case>>) -> std::io::Result<()> {
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let count = |cases: &[Case]| {
        let failures = cases.iter().filter(|c| c.failure.is_some()).count();
        (cases.len().to_string(), failures.to_string())
    };
    let all: Vec<&Case> = suites.values().flatten().collect();
    let total_failures = all.iter().filter(|c| c.failure.is_some()).count();
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", "omnifeed"));
    root.push_attribute(("tests", all.len().to_string().as_str()));
    root.push_attribute(("failures", total_failures.to_string().as_str()));
    root.push_attribute(("errors", "0"));
    writer.write_event(Event::Start(root))?;
    for (name, cases) in suites {
        let (tests, failures) = count(cases);
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", name.as_str()));
        suite.push_attribute(("tests", tests.as_str()));
        suite.push_attribute(("failures", failures.as_str()));
        suite.push_attribute(("errors", "0"));
        suite.push_attribute(("skipped", "0"));
        writer.write_event(Event::Start(suite))?;
        for case in cases {
            let mut start = BytesStart::new("testcase");
            start.push_attribute(("classname", case.classname.as_str()));
            start.push_attribute(("name", case.name.as_str()));
            start.push_attribute(("time", "0"));
            if case.failure.is_none() && case.output.is_none() {
                writer.write_event(Event::Empty(start))?;
                continue;
            }
            writer.write_event(Event::Start(start))?;
            if let Some((kind, message, body)) = &case.failure {
                let mut failure = BytesStart::new("failure");
                failure.push_attribute(("type", kind.as_str()));
                failure.push_attribute(("message", message.as_str()));
                writer.write_event(Event::Start(failure))?;
                writer.write_event(Event::Text(BytesText::new(body)))?;
                writer.write_event(Event::End(BytesEnd::new("failure")))?;
            }
            if let Some(output) = &case.output {
                writer
                    .create_element("system-out")
                    .write_text_content(BytesText::new(output))?;
            }
            writer.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        writer.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    writer.write_event(Event::End(BytesEnd::new("testsuites")))?;
    writer.get_mut().write_all(b"\n")
}
