//! Order of changed items: the change a reviewer must see first comes first.
//!
//! Items are ranked by, in order:
//! 1. a stock flip: the canonical availability changed, or the quantity went to or from 0 —
//!    stock problems sell nothing, so they lead;
//! 2. the largest relative change of the price or sale price, `|after - before| / |before|`,
//!    read as a decimal amount (`"19.99 EUR"` and `19.99` alike). A price that appears,
//!    disappears or stops being a number counts as 100 %; a change from 0 counts as infinite;
//! 3. the number of changed fields;
//! 4. the key, ascending, so equal ranks always come out in the same order.
//!
//! Which fields hold the price and the stock is the spec's `role` (see [`Roles`]): nothing
//! here knows a channel's field names. The amounts are turned into `f64` for ranking only:
//! they are never shown or stored, and a rounding error can at worst swap two nearly equal
//! changes. Guards, which must be exact at their thresholds, compare exact decimals.

use std::cmp::Ordering;

use rust_decimal::prelude::ToPrimitive;

use super::{FieldChange, ItemChange};
use crate::spec::{RoleField, Roles};

/// The role fields ranking reads; the default (no roles) ranks by field count and key.
#[derive(Debug, Clone, Default)]
pub struct Ranking {
    roles: Roles,
}

impl Ranking {
    pub fn new(roles: &Roles) -> Ranking {
        Ranking {
            roles: roles.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Score {
    stock: bool,
    price: f64,
    fields: usize,
}

fn score(item: &ItemChange, ranking: &Ranking) -> Score {
    let roles = &ranking.roles;
    fn change<'r>(
        item: &'r ItemChange,
        field: Option<&'r RoleField>,
    ) -> Option<(&'r RoleField, &'r FieldChange)> {
        let field = field?;
        Some((field, item.field(&field.name)?))
    }
    let availability_flip =
        change(item, roles.availability.as_ref()).is_some_and(|(field, change)| {
            let read = |side: &Option<String>| side.as_deref().and_then(|t| field.availability(t));
            read(&change.before) != read(&change.after)
        });
    let quantity_flip = change(item, roles.quantity.as_ref()).is_some_and(|(field, change)| {
        let none_left =
            |side: &Option<String>| side.as_deref().and_then(|t| field.quantity(t)) == Some(0);
        none_left(&change.before) != none_left(&change.after)
    });
    let price = [
        change(item, roles.price.as_ref()),
        change(item, roles.sale_price.as_ref()),
    ]
    .into_iter()
    .flatten()
    .map(|(field, change)| relative_change(field, change))
    .fold(0.0, f64::max);
    Score {
        stock: availability_flip || quantity_flip,
        price,
        fields: item.fields.len(),
    }
}

/// Relative change of an amount, for ranking only (see the module docs).
pub fn relative_change(field: &RoleField, change: &FieldChange) -> f64 {
    if change.before == change.after {
        return 0.0;
    }
    let amount = |side: &Option<String>| {
        side.as_deref()
            .and_then(|text| field.amount(text))
            .and_then(|amount| amount.value.to_f64())
    };
    match (amount(&change.before), amount(&change.after)) {
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
    b.stock
        .cmp(&a.stock)
        .then_with(|| b.price.total_cmp(&a.price))
        .then_with(|| b.fields.cmp(&a.fields))
}
