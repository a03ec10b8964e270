//! Checking one feed's diff against the guards.

use jiff::Timestamp;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::format;
use super::{GuardCode, GuardConfig, GuardTrip};
use crate::diff::FeedDiff;

/// What the guards need besides the diff. Field names and stock values come from the
/// caller's channel spec; nothing here knows a channel.
#[derive(Debug, Clone, Copy)]
pub struct GuardContext<'a> {
    /// The field holding the price, e.g. `price`; its value starts with a decimal number.
    pub price_field: &'a str,
    pub availability_field: &'a str,
    /// Availability values meaning "out of stock", e.g. `["out_of_stock"]`.
    pub out_of_stock_values: &'a [&'a str],
    /// The feed's currency at the last push and now, when the feed has one.
    pub currency_before: Option<&'a str>,
    pub currency_after: Option<&'a str>,
    pub catalog_modified_at: Option<Timestamp>,
    /// [`crate::state::StateStore::last_catalog_time`] of the feed.
    pub last_pushed_catalog_at: Option<Timestamp>,
}

/// Every guard the diff trips, in the order of the table in the module docs. Overrides are
/// applied afterwards with [`super::Overrides::blocking`], so reports can still show them.
pub fn evaluate(diff: &FeedDiff, config: &GuardConfig, ctx: &GuardContext<'_>) -> Vec<GuardTrip> {
    let t = &diff.totals;
    let mut trips = Vec::new();
    if t.current == 0 {
        trips.push(trip(
            GuardCode::EmptyFeed,
            format!(
                "the feed has no items; pushing it would remove all {} accepted items",
                format::count(t.previous)
            ),
            None,
        ));
    }
    if t.previous > 0 {
        share_trip(
            &mut trips,
            GuardCode::RemovedShare,
            t.removed,
            t.previous,
            Some(config.max_removed_share),
            "would be removed",
        );
        share_trip(
            &mut trips,
            GuardCode::AddedShare,
            t.added,
            t.previous,
            config.max_added_share,
            "would be added",
        );
    }
    let kept = t.changed + t.unchanged;
    let price_moves = price_moves(diff, ctx.price_field, config.price_change_threshold);
    share_trip(
        &mut trips,
        GuardCode::PriceChangeShare,
        price_moves,
        kept,
        Some(config.max_price_change_share),
        &format!(
            "would change price by more than {}",
            format::limit(config.price_change_threshold)
        ),
    );
    let out_of_stock = newly_out_of_stock(diff, ctx);
    share_trip(
        &mut trips,
        GuardCode::OutOfStockShare,
        out_of_stock,
        kept,
        Some(config.max_newly_out_of_stock_share),
        "would go out of stock",
    );
    if let (Some(before), Some(after)) = (ctx.currency_before, ctx.currency_after)
        && before != after
        && !config.allow_currency_change
    {
        trips.push(trip(
            GuardCode::CurrencyChange,
            format!("the feed currency would change from {before} to {after}"),
            None,
        ));
    }
    if let (Some(now), Some(last)) = (ctx.catalog_modified_at, ctx.last_pushed_catalog_at)
        && now < last
        && !config.allow_older_catalog
    {
        trips.push(trip(
            GuardCode::OlderCatalog,
            format!("the catalog (modified {now}) is older than the one pushed last ({last})"),
            None,
        ));
    }
    trips
}

fn trip(code: GuardCode, message: String, counts: Option<(u64, u64)>) -> GuardTrip {
    GuardTrip {
        code,
        message,
        override_flag: code.override_flag(),
        count: counts.map(|c| c.0),
        total: counts.map(|c| c.1),
    }
}

fn share_trip(
    trips: &mut Vec<GuardTrip>,
    code: GuardCode,
    count: u64,
    total: u64,
    limit: Option<f64>,
    what: &str,
) {
    let Some(limit) = limit else { return };
    if total == 0 || !exceeds(count, total, limit) {
        return;
    }
    let message = format!(
        "{} of {} items ({}) {what}; limit {}",
        format::count(count),
        format::count(total),
        format::share(count, total),
        format::limit(limit),
    );
    trips.push(trip(code, message, Some((count, total))));
}

/// `count / total > share`, decided in integers so a share exactly at the limit never trips
/// through float rounding. The limit is taken to a millionth, finer than any sane config.
pub(super) fn exceeds(count: u64, total: u64, share: f64) -> bool {
    let ppm = (share * 1e6).round().max(0.0) as u128;
    u128::from(count) * 1_000_000 > ppm * u128::from(total)
}

/// Kept items whose price moved by more than `threshold` of the previous price, in exact
/// decimals. Prices that appear, vanish or are not numbers are left to validation.
fn price_moves(diff: &FeedDiff, field: &str, threshold: f64) -> u64 {
    let threshold = Decimal::new((threshold * 1e6).round().max(0.0) as i64, 6);
    let moved = diff.changed.iter().filter(|item| {
        let Some(change) = item.field(field) else {
            return false;
        };
        let (Some(before), Some(after)) = (
            change.before.as_deref().and_then(leading_decimal),
            change.after.as_deref().and_then(leading_decimal),
        ) else {
            return false;
        };
        moved_past(before, after, threshold)
    });
    moved.count() as u64
}

/// `|after - before| > threshold * |before|`. Prices near `Decimal`'s range overflow it
/// (and `*` or `-` would panic); those few are compared in floating point, which is exact
/// enough at that size to tell a move past the threshold.
pub(super) fn moved_past(before: Decimal, after: Decimal, threshold: Decimal) -> bool {
    match (
        after.checked_sub(before),
        threshold.checked_mul(before.abs()),
    ) {
        (Some(delta), Some(allowed)) => delta.abs() > allowed,
        _ => {
            let float = |d: Decimal| d.to_f64().unwrap_or(f64::MAX);
            (float(after) - float(before)).abs() > float(threshold) * float(before).abs()
        }
    }
}

fn newly_out_of_stock(diff: &FeedDiff, ctx: &GuardContext<'_>) -> u64 {
    let is_out = |value: Option<&str>| value.is_some_and(|v| ctx.out_of_stock_values.contains(&v));
    let flipped = diff.changed.iter().filter(|item| {
        item.field(ctx.availability_field)
            .is_some_and(|c| !is_out(c.before.as_deref()) && is_out(c.after.as_deref()))
    });
    flipped.count() as u64
}

/// The exact decimal a value starts with: `"19.99 EUR"` -> 19.99.
pub(super) fn leading_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim_start();
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
        .map_or(text.len(), |(i, _)| i);
    Decimal::from_str_exact(&text[..end]).ok()
}
