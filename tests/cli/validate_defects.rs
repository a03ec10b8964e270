//! Issue #2: every defect the generator plants is found, row for row, and nothing else.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::TestEnv;

/// Which rule (and field, where one rule covers several) finds each generator defect.
const KINDS: &[(&str, &str, Option<&str>, &str)] = &[
    ("bad_gtin", "invalid-gtin", None, "products.csv"),
    (
        "missing_title",
        "missing-required",
        Some("title"),
        "products.csv",
    ),
    ("negative_stock", "negative-stock", None, "inventory.csv"),
    ("bad_url", "invalid-url", None, "products.csv"),
    (
        "sale_above_price",
        "sale-not-below-price",
        None,
        "products.csv",
    ),
    ("bad_currency", "unknown-currency", None, "products.csv"),
    ("duplicate_sku", "duplicate-sku", None, "products.csv"),
    ("bad_date", "invalid-sale-window", None, "products.csv"),
];

fn rows_flagged(report: &serde_json::Value) -> BTreeMap<&'static str, BTreeSet<u64>> {
    let mut flagged: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    for diagnostic in report["diagnostics"].as_array().expect("diagnostics array") {
        for &(kind, rule, field, file) in KINDS {
            let matches = diagnostic["rule"] == rule
                && field.is_none_or(|f| diagnostic["field"] == f)
                && diagnostic["file"]
                    .as_str()
                    .is_some_and(|p| p.ends_with(file));
            if matches {
                let line = diagnostic["line"].as_u64().expect("finding has a line");
                flagged.entry(kind).or_default().insert(line);
            }
        }
    }
    flagged
}

#[test]
fn each_defect_kind_is_flagged_on_exactly_as_many_rows_as_planted() {
    let env = TestEnv::new();
    for seed in ["1", "2", "3"] {
        let dir = format!("dirty-{seed}");
        let planted = env.generate(
            &dir,
            &["--variants", "100000", "--dirty", "0.02", "--seed", seed],
        );
        let run = env.run(&["validate", "--catalog", &dir, "--format", "json"]);
        run.expect_code(1);
        let flagged = rows_flagged(&run.json());
        for &(kind, rule, _, _) in KINDS {
            let expected = planted["defects"][kind].as_u64().expect("defect count");
            let found = flagged.get(kind).map_or(0, |rows| rows.len() as u64);
            assert!(expected > 0, "seed {seed}: generator planted no {kind}");
            assert_eq!(
                found, expected,
                "seed {seed}: rows flagged {rule} vs planted {kind}"
            );
        }
    }
}

#[test]
fn a_clean_catalog_has_no_findings_and_exits_zero() {
    let env = TestEnv::new();
    env.generate(
        "clean",
        &["--variants", "100000", "--dirty", "0", "--seed", "11"],
    );
    let run = env.run(&["validate", "--catalog", "clean", "--format", "json"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(report["summary"]["warnings"], 0);
    assert_eq!(report["summary"]["variants"], 100000);
    assert_eq!(report["diagnostics"].as_array().map(Vec::len), Some(0));
}
