use std::sync::Arc;

use super::{Findings, FindingsPolicy};
use crate::diag::Finding;
use crate::rules;

fn finding(rule: &'static rules::Rule, line: u64) -> Finding {
    Finding::new(rule, &Arc::from("products.csv"), format!("line {line}"))
        .line(line)
        .sku(&format!("S{line}"))
}

fn policy(max_per_rule: usize, list_all: bool) -> FindingsPolicy {
    FindingsPolicy {
        max_per_rule,
        list_all,
        sku: None,
    }
}

fn listed(findings: &mut Findings) -> Vec<u64> {
    let json = serde_json::to_value(findings.all().expect("flush")).expect("serializes");
    json.as_array()
        .expect("array")
        .iter()
        .map(|f| f["line"].as_u64().expect("line"))
        .collect()
}

#[test]
fn only_the_first_of_each_rule_are_kept_but_all_are_counted() {
    let mut findings = Findings::new(&policy(2, false)).expect("collector");
    for line in 1..=1000 {
        findings.push(finding(&rules::INVALID_GTIN, line));
    }
    findings.push(finding(&rules::INVALID_URL, 7));
    let kept: Vec<_> = findings.kept().iter().map(|f| f.line).collect();
    assert_eq!(kept, [Some(1), Some(2), Some(7)]);
    assert_eq!(findings.tally().errors, 1001);
    assert_eq!(findings.tally().by_rule[rules::INVALID_GTIN.code], 1000);
}

#[test]
fn the_full_list_has_every_finding_in_order_across_absorbed_stages() {
    let mut products = Findings::new(&policy(1, true)).expect("collector");
    let mut inventory = Findings::new(&policy(1, true)).expect("collector");
    for line in 1..=300 {
        products.push(finding(&rules::INVALID_GTIN, line));
        inventory.push(finding(&rules::NEGATIVE_STOCK, line));
    }
    products.absorb(inventory).expect("absorb");
    let lines = listed(&mut products);
    let expected: Vec<u64> = (1..=300).chain(1..=300).collect();
    assert_eq!(lines, expected);
    assert_eq!(products.kept().len(), 2, "one per rule");
    assert_eq!(products.tally().errors, 600);
}

#[test]
fn a_sku_policy_keeps_that_skus_findings_only() {
    let mut findings = Findings::new(&FindingsPolicy {
        sku: Some("S42".into()),
        ..FindingsPolicy::default()
    })
    .expect("collector");
    for line in 1..=100 {
        findings.push(finding(&rules::INVALID_GTIN, line));
    }
    let kept: Vec<_> = findings.kept().iter().map(|f| f.line).collect();
    assert_eq!(kept, [Some(42)]);
    assert_eq!(findings.tally().errors, 100, "all are still counted");
}
