//! Issue #9 point 10: findings are counted in full but only the first N per rule are kept
//! and shown; `--format json` still lists every one.

use std::collections::BTreeMap;

use crate::support::TestEnv;

/// A catalog with many defects of each kind (3,000 variants, 30 % of rows dirty).
fn dirty_env() -> TestEnv {
    let env = TestEnv::new();
    env.generate(
        "catalog",
        &[
            "--variants",
            "3000",
            "--stores",
            "2",
            "--dirty",
            "0.3",
            "--seed",
            "5",
        ],
    );
    env
}

fn json_counts(env: &TestEnv, args: &[&str]) -> (BTreeMap<String, u64>, serde_json::Value) {
    let run = env.run(args);
    let report = run.json();
    let mut listed: BTreeMap<String, u64> = BTreeMap::new();
    for diagnostic in report["diagnostics"].as_array().expect("diagnostics") {
        *listed
            .entry(diagnostic["rule"].as_str().expect("rule").to_owned())
            .or_default() += 1;
    }
    (listed, report)
}

/// [`json_counts`], after checking that the report's summary counts per rule what it lists.
fn summarized_counts(env: &TestEnv, args: &[&str]) -> (BTreeMap<String, u64>, serde_json::Value) {
    let (listed, report) = json_counts(env, args);
    let by_rule: BTreeMap<String, u64> =
        serde_json::from_value(report["summary"]["by_rule"].clone()).expect("by_rule");
    assert_eq!(listed, by_rule);
    (listed, report)
}

#[test]
fn json_lists_every_finding_and_the_summary_counts_them() {
    let env = dirty_env();
    let (listed, report) = summarized_counts(
        &env,
        &[
            "validate",
            "--catalog",
            "catalog",
            "--format",
            "json",
            "--max-per-rule",
            "1",
        ],
    );
    assert!(
        listed.values().any(|&n| n > 50),
        "the catalog is dirty enough: {listed:?}"
    );
    let total = report["summary"]["errors"].as_u64().unwrap()
        + report["summary"]["warnings"].as_u64().unwrap();
    assert_eq!(total, listed.values().sum::<u64>());
}

#[test]
fn human_output_shows_the_first_n_per_rule_and_counts_the_rest() {
    let env = dirty_env();
    let (listed, _) = json_counts(
        &env,
        &["validate", "--catalog", "catalog", "--format", "json"],
    );
    let run = env.run(&["validate", "--catalog", "catalog", "--max-per-rule", "2"]);
    run.expect_code(1);
    let stdout = run.stdout();
    for (rule, count) in &listed {
        let header = format!("[{rule}]: ");
        let section = stdout
            .split("\n\n")
            .find(|section| section.contains(&header))
            .unwrap_or_else(|| panic!("no section for {rule}:\n{stdout}"));
        let noun = if *count == 1 { "finding" } else { "findings" };
        assert!(section.contains(&format!("({count} {noun})")), "{section}");
        assert_eq!(
            section.matches("  --> ").count() as u64,
            (*count).min(2),
            "{section}"
        );
        if *count > 2 {
            assert!(
                section.contains(&format!("… and {} more", count - 2)),
                "{section}"
            );
        }
    }
}

#[test]
fn github_output_annotates_the_first_n_per_rule_and_says_how_many_more() {
    let env = dirty_env();
    let (listed, _) = json_counts(
        &env,
        &["validate", "--catalog", "catalog", "--format", "json"],
    );
    let run = env.run(&[
        "validate",
        "--catalog",
        "catalog",
        "--format",
        "github",
        "--max-per-rule",
        "3",
    ]);
    let stdout = run.stdout();
    for (rule, count) in &listed {
        let title = format!(",title={rule}::");
        let annotations = stdout
            .lines()
            .filter(|line| !line.starts_with("::notice") && line.contains(&title))
            .count() as u64;
        assert_eq!(annotations, (*count).min(3), "{rule}");
        if *count > 3 {
            let notice = format!("::notice title={rule}::{} more {rule} findings", count - 3);
            assert!(stdout.contains(&notice), "{notice}\n{stdout}");
        }
    }
}

#[test]
fn the_config_sets_how_many_findings_per_rule_are_kept() {
    let env = dirty_env();
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"catalog\"\n\n[report]\nmax_per_rule = 1\n",
    );
    let run = env.run(&["validate"]);
    run.expect_code(1);
    let stdout = run.stdout();
    for section in stdout.split("\n\n").filter(|s| s.contains("]: ")) {
        assert_eq!(section.matches("  --> ").count(), 1, "{section}");
    }
    // The flag wins over the config.
    let run = env.run(&["validate", "--max-per-rule", "4"]);
    assert!(
        run.stdout()
            .split("\n\n")
            .any(|section| section.matches("  --> ").count() == 4),
        "{}",
        run.stdout()
    );
}

#[test]
fn export_json_lists_every_feed_finding() {
    let env = TestEnv::with_example();
    // Brand is recommended by Google: blank it on every row.
    let products = env.read("examples/catalog/products.csv");
    let mut reader = csv::Reader::from_reader(products.as_bytes());
    let header = reader.headers().expect("header").clone();
    let brand = header
        .iter()
        .position(|h| h == "brand")
        .expect("brand column");
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).expect("header");
    let mut rows = 0u64;
    for record in reader.records() {
        let mut record: Vec<String> = record.expect("row").iter().map(str::to_owned).collect();
        record[brand].clear();
        writer.write_record(&record).expect("row");
        rows += 1;
    }
    env.write(
        "examples/catalog/products.csv",
        writer.into_inner().expect("csv"),
    );
    let (listed, _) = summarized_counts(
        &env,
        &[
            "export",
            "--out",
            "out",
            "--format",
            "json",
            "--max-per-rule",
            "1",
        ],
    );
    assert!(
        listed.values().any(|&n| n >= rows / 2),
        "blank brands make a finding per item: {listed:?}"
    );
}
