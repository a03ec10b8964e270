//! Order of changed items: the change a reviewer must see first comes first.
//!
//! Items are ranked by, in order:
//! 1. an availability flip (any change of an availability field) — stock problems sell
//!    nothing, so they lead;
//! 2. the largest relative change of a price field, `|after - before| / |before|`, read from
//!    the leading decimal of the value (`"19.99 EUR"` -> 19.99). A price that appears,
//!    disappears or stops being a number counts as 100 %; a change from 0 counts as infinite;
//! 3. the number of changed fields;
//! 4. the key, ascending, so equal ranks always come out in the same order.
//!
//! The numbers are parsed as `f64` for ranking only: they are never shown or stored, and a
//! rounding error can at worst swap two nearly equal changes. Guards, which must be exact at
//! their thresholds, use exact decimals instead.

use std::cmp::Ordering;

use super::ItemChange;

/// Which fields ranking treats as prices and as availability. The caller passes the names;
/// the default uses omnifeed's canonical field names.
#[derive(Debug, Clone)]
pub struct Ranking {
    pub price_fields: Vec<String>,
    pub availability_fields: Vec<String>,
}

impl Default for Ranking {
    fn default() -> Ranking {
        Ranking {
            price_fields: vec!["price".into(), "sale_price".into()],
            availability_fields: vec!["availability".into()],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Score {
    availability: bool,
    price: f64,
    fields: usize,
}

fn score(item: &ItemChange, ranking: &Ranking) -> Score {
    let availability = item
        .fields
        .iter()
        .any(|f| ranking.availability_fields.contains(&f.field));
    let price = item
        .fields
        .iter()
        .filter(|f| ranking.price_fields.contains(&f.field))
        .map(|f| relative_change(f.before.as_deref(), f.after.as_deref()))
        .fold(0.0, f64::max);
    Score {
        availability,
        price,
        fields: item.fields.len(),
    }
}

/// Relative change of a price-like value, for ranking only (see the module docs).
pub fn relative_change(before: Option<&str>, after: Option<&str>) -> f64 {
    if before == after {
        return 0.0;
    }
    match (
        before.and_then(leading_number),
        after.and_then(leading_number),
    ) {
        (Some(0.0), Some(a)) => {
            if a == 0.0 {
                0.0
            } else {
                f64::INFINITY
            }
        }
        (Some(b), Some(a)) => ((a - b) / b).abs(),
        _ => 1.0,
    }
}

/// The decimal number a value starts with: `"19.99 EUR"` -> 19.99, `"EUR 5"` -> `None`.
pub fn leading_number(text: &str) -> Option<f64> {
    let text = text.trim_start();
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
        .map_or(text.len(), |(i, _)| i);
    text[..end].parse().ok()
}

pub(super) fn sort_changed(items: &mut Vec<ItemChange>, ranking: &Ranking) {
    let mut scored: Vec<(Score, ItemChange)> = items
        .drain(..)
        .map(|item| (score(&item, ranking), item))
        .collect();
    scored.sort_unstable_by(|(sa, a), (sb, b)| by_score(sa, sb).then_with(|| a.key.cmp(&b.key)));
    items.extend(scored.into_iter().map(|(_, item)| item));
}

/// Exposed for callers that rank other lists the same way.
pub fn compare(a: &ItemChange, b: &ItemChange, ranking: &Ranking) -> Ordering {
    by_score(&score(a, ranking), &score(b, ranking)).then_with(|| a.key.cmp(&b.key))
}

/// Larger scores first.
fn by_score(a: &Score, b: &Score) -> Ordering {
    b.availability
        .cmp(&a.availability)
        .then_with(|| b.price.total_cmp(&a.price))
        .then_with(|| b.fields.cmp(&a.fields))
}
