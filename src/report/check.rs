//! `omnifeed check`'s text and GitHub printers: one block (or one annotation per
//! mismatch) per SKU and country, saying what differs and in which feeds.

use std::io::Write;

use crate::check::report::{Mismatch, PriceParity};
use crate::check::{SkuReport, Tally};

use super::findings::{escape_data, escape_property};

/// The SKU blocks, then the counts.
pub fn print_human(
    out: &mut impl Write,
    reports: &[SkuReport],
    tally: &Tally,
    feeds: usize,
) -> std::io::Result<()> {
    for report in reports {
        let country = report
            .country
            .as_deref()
            .map_or(String::new(), |c| format!(", country {c}"));
        writeln!(out, "{} (line {}{country})", report.sku, report.line)?;
        for mismatch in &report.mismatches {
            writeln!(out, "  {}", describe(mismatch))?;
        }
    }
    let shown = reports.len() as u64;
    if tally.skus_with_mismatches > shown {
        writeln!(
            out,
            "… and {} more SKUs (--limit N shows more; --format json lists all)",
            tally.skus_with_mismatches - shown
        )?;
    }
    let allowed = match tally.filtered_allowed {
        0 => String::new(),
        n => format!(" ({n} left out by a feed's [filters], not compared: --allow-filtered)"),
    };
    if tally.skus_with_mismatches == 0 {
        writeln!(
            out,
            "check: {} SKUs agree across {feeds} feeds{allowed}",
            tally.checked
        )?;
        return Ok(());
    }
    let kinds: Vec<String> = tally
        .mismatches
        .iter()
        .map(|(kind, count)| format!("{kind} {count}"))
        .collect();
    writeln!(
        out,
        "check: {} SKUs differ across {feeds} feeds, of {} checked ({}){allowed}",
        tally.skus_with_mismatches,
        tally.checked,
        kinds.join(", ")
    )?;
    writeln!(
        out,
        "  hint: a price a channel is meant to differ by is declared in its feed (`price_adjust = \"+5%\"`); \
         fix the others in the catalog or the feed's [fields] and [filters]{}",
        if tally.filtered_allowed == 0 && tally.mismatches.contains_key("missing") {
            "; if a feed's [filters] leave SKUs out on purpose, --allow-filtered accepts that"
        } else {
            ""
        }
    )
}

/// One `::error` annotation per mismatch on the products file's line of the SKU.
pub fn print_github(
    out: &mut impl Write,
    reports: &[SkuReport],
    tally: &Tally,
    products_file: &str,
) -> std::io::Result<()> {
    for report in reports {
        for mismatch in &report.mismatches {
            let country = report
                .country
                .as_deref()
                .map_or(String::new(), |c| format!(" in {c}"));
            writeln!(
                out,
                "::error file={},line={},title={}::{}",
                escape_property(products_file),
                report.line,
                escape_property(rule_of(mismatch).code),
                escape_data(&format!(
                    "SKU {}{country}: {}",
                    report.sku,
                    describe(mismatch)
                ))
            )?;
        }
    }
    let shown = reports.len() as u64;
    if tally.skus_with_mismatches > shown {
        writeln!(
            out,
            "::notice title=check::{}",
            escape_data(&format!(
                "{} more SKUs differ; `omnifeed check --format json` lists them all",
                tally.skus_with_mismatches - shown
            ))
        )?;
    }
    Ok(())
}

/// A mismatch in one line: what differs and where.
pub fn describe(mismatch: &Mismatch) -> String {
    match mismatch {
        Mismatch::Missing { present, missing } => {
            let reasons: Vec<String> = missing
                .iter()
                .map(|m| format!("{} ({})", m.feed, m.reason))
                .collect();
            format!(
                "missing from {}; sent by {}",
                reasons.join(", "),
                present.join(", ")
            )
        }
        Mismatch::Currency { values } => {
            let values: Vec<String> = values
                .iter()
                .map(|v| format!("{} {}", v.feed, v.value))
                .collect();
            format!("currency differs: {}", values.join(", "))
        }
        Mismatch::Price(parity) => parity_text("price", parity),
        Mismatch::SalePrice(parity) => parity_text("sale price", parity),
        Mismatch::Sale {
            on_sale,
            not_on_sale,
        } => {
            let on: Vec<String> = on_sale
                .iter()
                .map(|v| format!("{} {}", v.feed, v.value))
                .collect();
            format!(
                "sale differs: on sale in {}; not on sale in {}",
                on.join(", "),
                not_on_sale.join(", ")
            )
        }
        Mismatch::Availability {
            feed,
            sent,
            expected,
            allocated_quantity,
        } => {
            let stock = allocated_quantity.map_or("no stock data".to_owned(), |q| {
                format!("allocated stock {q}")
            });
            format!("availability in {feed}: sends `{sent}`, its {stock} gives `{expected}`")
        }
    }
}

fn parity_text(what: &str, parity: &PriceParity) -> String {
    let values: Vec<String> = parity
        .values
        .iter()
        .map(|v| {
            let rule = v
                .rule
                .as_deref()
                .map_or(String::new(), |r| format!(" (price_adjust {r})"));
            let differs = parity.differs.contains(&v.feed);
            match (&v.expected, differs) {
                (Some(expected), true) => {
                    format!("{} {}{rule}, expected {expected}", v.feed, v.sent)
                }
                _ => format!("{} {}{rule}", v.feed, v.sent),
            }
        })
        .collect();
    format!(
        "{what} differs in {}: {}",
        parity.differs.join(", "),
        values.join("; ")
    )
}

/// The mismatches of `reports` as findings (rule `check.KIND`, on the products file's line
/// of the SKU), for `--format sarif` and `--format junit`, whose printers take findings.
pub fn as_findings(
    reports: &[SkuReport],
    products_file: &str,
) -> std::io::Result<crate::diag::Findings> {
    let mut findings = crate::diag::Findings::new(&crate::diag::FindingsPolicy {
        // `--limit` already chose which SKUs are listed: keep every mismatch of those.
        max_per_rule: usize::MAX,
        ..crate::diag::FindingsPolicy::default()
    })?;
    let file: std::sync::Arc<str> = std::sync::Arc::from(products_file);
    for report in reports {
        let country = report
            .country
            .as_deref()
            .map_or(String::new(), |c| format!(" in {c}"));
        for mismatch in &report.mismatches {
            let mut finding = crate::diag::Finding::new(
                rule_of(mismatch),
                &file,
                format!("SKU {}{country}: {}", report.sku, describe(mismatch)),
            );
            finding.line = Some(report.line);
            finding.sku = Some(report.sku.clone());
            findings.push(finding);
        }
    }
    Ok(findings)
}

fn rule_of(mismatch: &Mismatch) -> &'static crate::rules::Rule {
    use crate::rules;
    match mismatch {
        Mismatch::Missing { .. } => &rules::CHECK_MISSING,
        Mismatch::Currency { .. } => &rules::CHECK_CURRENCY,
        Mismatch::Price(_) => &rules::CHECK_PRICE,
        Mismatch::SalePrice(_) => &rules::CHECK_SALE_PRICE,
        Mismatch::Sale { .. } => &rules::CHECK_SALE,
        Mismatch::Availability { .. } => &rules::CHECK_AVAILABILITY,
    }
}
