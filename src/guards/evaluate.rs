//! Checking one feed's diff against the guards.

use jiff::Timestamp;
use rust_decimal::Decimal;

use super::read::{dominant_currencies, newly_out_of_stock, price_moves};
use super::{GuardCode, GuardConfig, GuardTrip, format};
use crate::diff::FeedDiff;
use crate::spec::Roles;

/// What the guards need besides the diff. Where prices, stock and the currency are comes
/// from the feed's channel spec (its field roles); nothing here knows a channel.
#[derive(Debug, Clone, Copy)]
pub struct GuardContext<'a> {
    pub roles: &'a Roles,
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
    let threshold = Decimal::new(
        (config.price_change_threshold * 1e6).round().max(0.0) as i64,
        6,
    );
    let price_moves = price_moves(diff, ctx.roles, threshold);
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
    let out_of_stock = newly_out_of_stock(diff, ctx.roles);
    share_trip(
        &mut trips,
        GuardCode::OutOfStockShare,
        out_of_stock,
        kept,
        Some(config.max_newly_out_of_stock_share),
        "would go out of stock",
    );
    if let (Some(before), Some(after)) = dominant_currencies(diff, ctx.roles)
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
