//! What the guards read from a diff, through the spec's field roles: exact price moves,
//! items that ran out of stock and the feed's currency, all in canonical values (see
//! [`crate::spec::roles`]). Nothing here knows a channel's field names.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::diff::{FeedDiff, ItemChange};
use crate::model::Availability;
use crate::spec::{RoleField, Roles};

/// `field`'s before and after text in `item`, when the item changed it.
fn sides<'d>(
    item: &'d ItemChange,
    field: Option<&RoleField>,
) -> Option<(Option<&'d str>, Option<&'d str>)> {
    let change = item.field(&field?.name)?;
    Some((change.before.as_deref(), change.after.as_deref()))
}

/// Kept items whose price moved by more than `threshold` of the previous price, in exact
/// decimals. Prices that appear, vanish or are not numbers are left to validation; an item
/// whose currency changed is the currency guard's.
pub(super) fn price_moves(diff: &FeedDiff, roles: &Roles, threshold: Decimal) -> u64 {
    let Some(field) = roles.price.as_ref() else {
        return 0;
    };
    let moved = diff.changed.iter().filter(|item| {
        let Some((Some(before), Some(after))) = sides(item, Some(field)) else {
            return false;
        };
        let (Some(before), Some(after)) = (field.amount(before), field.amount(after)) else {
            return false;
        };
        let (currency_before, currency_after) = currencies(item, roles);
        if currency_before.is_some()
            && currency_after.is_some()
            && currency_before != currency_after
        {
            return false;
        }
        let (before, after) = (before.value, after.value);
        (after - before).abs() > threshold * before.abs()
    });
    moved.count() as u64
}

/// Kept items that went from available to out of stock: the availability role when the spec
/// has one, otherwise the quantity role reaching 0.
pub(super) fn newly_out_of_stock(diff: &FeedDiff, roles: &Roles) -> u64 {
    let went_out = |item: &&ItemChange| {
        if let Some(field) = roles.availability.as_ref() {
            let is_out = |text: Option<&str>| {
                text.and_then(|t| field.availability(t)) == Some(Availability::OutOfStock)
            };
            return sides(item, Some(field))
                .is_some_and(|(before, after)| !is_out(before) && is_out(after));
        }
        let field = roles.quantity.as_ref();
        let none_left =
            |text: Option<&str>| text.and_then(|t| field.and_then(|f| f.quantity(t))) == Some(0);
        sides(item, field).is_some_and(|(before, after)| !none_left(before) && none_left(after))
    };
    diff.changed.iter().filter(went_out).count() as u64
}

/// An item's currency before and after, from the currency role or the price text.
fn currencies<'d>(item: &'d ItemChange, roles: &Roles) -> (Option<&'d str>, Option<&'d str>) {
    if let Some(field) = roles.currency.as_ref()
        && let Some((before, after)) = sides(item, Some(field))
    {
        return (
            before.and_then(|t| field.currency(t)),
            after.and_then(|t| field.currency(t)),
        );
    }
    if !roles.price_carries_currency {
        return (None, None);
    }
    let Some(field) = roles.price.as_ref() else {
        return (None, None);
    };
    let currency = |text: Option<&'d str>| text.and_then(|t| field.amount(t)?.currency);
    sides(item, Some(field)).map_or((None, None), |(before, after)| {
        (currency(before), currency(after))
    })
}

/// The most common currency before and after, over the changed items. A currency switch
/// changes every price (or the currency field of every item), so it always shows up here;
/// the state keeps no separate feed currency.
pub(super) fn dominant_currencies(
    diff: &FeedDiff,
    roles: &Roles,
) -> (Option<String>, Option<String>) {
    let mut before: HashMap<&str, u64> = HashMap::new();
    let mut after: HashMap<&str, u64> = HashMap::new();
    for item in &diff.changed {
        let (was, is) = currencies(item, roles);
        if let Some(code) = was {
            *before.entry(code).or_default() += 1;
        }
        if let Some(code) = is {
            *after.entry(code).or_default() += 1;
        }
    }
    let top = |counts: HashMap<&str, u64>| {
        counts
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(code, _)| code.to_owned())
    };
    (top(before), top(after))
}
