use jiff::Timestamp;

use std::sync::LazyLock;

use super::evaluate::exceeds;
use super::*;
use crate::diff::{DiffTotals, FeedDiff, FieldChange, ItemChange};
use crate::spec::{RoleField, Roles};

/// Google-style roles: `19.99 EUR` prices and an `availability` enum.
static GOOGLE: LazyLock<Roles> = LazyLock::new(|| Roles {
    price: Some(RoleField::new("price", &[])),
    availability: Some(RoleField::new("availability", &[])),
    price_carries_currency: true,
    ..Roles::default()
});

/// Amazon-style roles: a bare number for the price, its currency and stock in fields of
/// their own.
static AMAZON: LazyLock<Roles> = LazyLock::new(|| Roles {
    price: Some(RoleField::new("purchasable_offer", &[])),
    quantity: Some(RoleField::new("fulfillment_availability", &[])),
    currency: Some(RoleField::new("purchasable_offer_currency", &[])),
    ..Roles::default()
});

fn ctx() -> GuardContext<'static> {
    GuardContext {
        roles: &GOOGLE,
        catalog_modified_at: None,
        last_pushed_catalog_at: None,
    }
}

fn change(key: usize, field: &str, before: &str, after: &str) -> ItemChange {
    ItemChange {
        key: format!("K{key}"),
        fields: vec![FieldChange {
            field: field.into(),
            before: Some(before.into()),
            after: Some(after.into()),
        }],
    }
}

/// A diff of `previous` items with `removed` gone, `added` new and the given changes.
fn diff(previous: u64, removed: u64, added: u64, changed: Vec<ItemChange>) -> FeedDiff {
    let n = changed.len() as u64;
    FeedDiff {
        totals: DiffTotals {
            previous,
            current: previous - removed + added,
            added,
            changed: n,
            removed,
            unchanged: previous - removed - n,
        },
        added: Vec::new(),
        changed,
        removed: Vec::new(),
    }
}

fn codes(trips: &[GuardTrip]) -> Vec<&'static str> {
    trips.iter().map(|t| t.code.code()).collect()
}

#[test]
fn defaults_parse_from_empty_table_and_unknown_fields_fail() {
    let config: GuardConfig = toml::from_str("").expect("empty table");
    assert_eq!(config, GuardConfig::default());
    assert!(toml::from_str::<GuardConfig>("max_removed = 0.1").is_err());
    let bad: GuardConfig =
        toml::from_str("max_removed_share = 1.5\nprice_change_threshold = -1").expect("parses");
    assert_eq!(bad.validate().len(), 2);
}

#[test]
fn removed_share_trips_above_the_limit_only() {
    let config = GuardConfig::default();
    let at_limit = evaluate(&diff(10_000, 2_000, 0, vec![]), &config, &ctx());
    assert!(at_limit.is_empty(), "{at_limit:?}");
    let above = evaluate(&diff(10_000, 2_001, 0, vec![]), &config, &ctx());
    assert_eq!(codes(&above), ["guard.removed-share"]);
    let big = evaluate(&diff(10_000, 6_000, 0, vec![]), &config, &ctx());
    assert_eq!(
        big[0].message,
        "6,000 of 10,000 items (60.0 %) would be removed; limit 20 %"
    );
    assert_eq!(big[0].override_flag, "--allow-removals");
}

#[test]
fn added_share_is_off_by_default_and_skipped_on_first_push() {
    assert!(
        evaluate(
            &diff(100, 0, 1_000, vec![]),
            &GuardConfig::default(),
            &ctx()
        )
        .is_empty()
    );
    let config = GuardConfig {
        max_added_share: Some(0.5),
        ..GuardConfig::default()
    };
    assert_eq!(
        codes(&evaluate(&diff(100, 0, 51, vec![]), &config, &ctx())),
        ["guard.added-share"]
    );
    assert!(evaluate(&diff(100, 0, 50, vec![]), &config, &ctx()).is_empty());
    assert!(evaluate(&diff(0, 0, 1_000, vec![]), &config, &ctx()).is_empty());
}

#[test]
fn empty_feed_always_trips_and_yields_only_to_force() {
    let trips = evaluate(&diff(0, 0, 0, vec![]), &GuardConfig::default(), &ctx());
    assert_eq!(codes(&trips), ["guard.empty-feed"]);
    let all = Overrides {
        force: false,
        allowed: vec![GuardCode::EmptyFeed],
    };
    assert_eq!(all.blocking(trips.clone()).len(), 1);
    assert!(
        Overrides {
            force: true,
            allowed: vec![]
        }
        .blocking(trips)
        .is_empty()
    );
    let emptied = evaluate(&diff(10, 10, 0, vec![]), &GuardConfig::default(), &ctx());
    assert_eq!(codes(&emptied), ["guard.empty-feed", "guard.removed-share"]);
}

#[test]
fn price_change_share_counts_moves_beyond_threshold_exactly() {
    // 100 kept items; a move of exactly 30 % does not count, 30.01 % does.
    let mut changed: Vec<ItemChange> = (0..10)
        .map(|i| change(i, "price", "100.00 EUR", "130.01 EUR"))
        .collect();
    changed.push(change(10, "price", "100.00 EUR", "70.00 EUR"));
    let config = GuardConfig::default();
    assert!(evaluate(&diff(100, 0, 0, changed.clone()), &config, &ctx()).is_empty());
    changed.push(change(11, "price", "19.99 EUR", "9.99 EUR"));
    let trips = evaluate(&diff(100, 0, 0, changed), &config, &ctx());
    assert_eq!(codes(&trips), ["guard.price-change-share"]);
    assert_eq!((trips[0].count, trips[0].total), (Some(11), Some(100)));
}

#[test]
fn newly_out_of_stock_share() {
    let flips = |n: usize| -> Vec<ItemChange> {
        (0..n)
            .map(|i| change(i, "availability", "in_stock", "out_of_stock"))
            .collect()
    };
    let config = GuardConfig::default();
    assert!(evaluate(&diff(50, 0, 0, flips(10)), &config, &ctx()).is_empty());
    let mut changed = flips(10);
    // Already out of stock before: not newly out of stock.
    changed.push(change(99, "availability", "out_of_stock", "out_of_stock "));
    assert!(evaluate(&diff(50, 0, 0, changed), &config, &ctx()).is_empty());
    assert_eq!(
        codes(&evaluate(&diff(50, 0, 0, flips(11)), &config, &ctx())),
        ["guard.out-of-stock-share"]
    );
}

#[test]
fn currency_and_older_catalog() {
    let t = |s| Timestamp::from_second(s).expect("time");
    let to_usd = diff(
        10,
        0,
        0,
        vec![
            change(1, "price", "10.00 EUR", "10.00 USD"),
            change(2, "price", "12.00 EUR", "12.00 USD"),
        ],
    );
    let c = GuardContext {
        catalog_modified_at: Some(t(100)),
        last_pushed_catalog_at: Some(t(200)),
        ..ctx()
    };
    let trips = evaluate(&to_usd, &GuardConfig::default(), &c);
    assert_eq!(
        codes(&trips),
        ["guard.currency-change", "guard.older-catalog"]
    );
    assert_eq!(
        trips[0].message,
        "the feed currency would change from EUR to USD"
    );
    let allowed = Overrides {
        force: false,
        allowed: vec![GuardCode::CurrencyChange],
    };
    assert_eq!(codes(&allowed.blocking(trips)), ["guard.older-catalog"]);
    let config = GuardConfig {
        allow_currency_change: true,
        allow_older_catalog: true,
        ..GuardConfig::default()
    };
    assert!(evaluate(&to_usd, &config, &c).is_empty());
    let same_time = GuardContext {
        catalog_modified_at: Some(t(200)),
        ..c
    };
    let repriced = diff(10, 0, 0, vec![change(1, "price", "10.00 EUR", "11.00 EUR")]);
    assert!(evaluate(&repriced, &GuardConfig::default(), &same_time).is_empty());
}

#[test]
fn exact_share_helper() {
    assert!(!exceeds(1, 10, 0.1));
    assert!(exceeds(1_000_001, 10_000_000, 0.1));
    assert!(!exceeds(3, 10, 0.3));
}

/// Issue #9.1: the guards read Amazon's price, stock and currency through the spec's roles,
/// as canonical values: a bare number is a price, a quantity of 0 is out of stock.
#[test]
fn guards_see_a_spec_whose_fields_have_other_names() {
    let amazon = GuardContext {
        roles: &AMAZON,
        ..ctx()
    };
    let config = GuardConfig::default();
    let raised: Vec<ItemChange> = (0..10)
        .map(|i| change(i, "purchasable_offer", "10.00", "18.00"))
        .collect();
    let trips = evaluate(&diff(10, 0, 0, raised.clone()), &config, &amazon);
    assert_eq!(codes(&trips), ["guard.price-change-share"]);
    assert_eq!((trips[0].count, trips[0].total), (Some(10), Some(10)));
    // Google's field names mean nothing to this spec.
    assert!(evaluate(&diff(10, 0, 0, raised), &config, &ctx()).is_empty());

    let emptied: Vec<ItemChange> = (0..10)
        .map(|i| change(i, "fulfillment_availability", "5", "0"))
        .collect();
    let trips = evaluate(&diff(10, 0, 0, emptied), &config, &amazon);
    assert_eq!(codes(&trips), ["guard.out-of-stock-share"]);
    let restocked: Vec<ItemChange> = (0..10)
        .map(|i| change(i, "fulfillment_availability", "0", "3"))
        .collect();
    assert!(evaluate(&diff(10, 0, 0, restocked), &config, &amazon).is_empty());

    let switched: Vec<ItemChange> = (0..10)
        .map(|i| change(i, "purchasable_offer_currency", "EUR", "GBP"))
        .collect();
    let trips = evaluate(&diff(10, 0, 0, switched), &config, &amazon);
    assert_eq!(codes(&trips), ["guard.currency-change"]);
}

/// A channel that spells availability its own way is read through the field's `map`.
#[test]
fn out_of_stock_in_a_channel_spelling() {
    let map = [("out_of_stock".to_owned(), "out of stock".to_owned())];
    let meta = Roles {
        availability: Some(RoleField::new("availability", &map)),
        ..GOOGLE.clone()
    };
    let flips: Vec<ItemChange> = (0..5)
        .map(|i| change(i, "availability", "in stock", "out of stock"))
        .collect();
    let context = GuardContext {
        roles: &meta,
        ..ctx()
    };
    let trips = evaluate(&diff(10, 0, 0, flips), &GuardConfig::default(), &context);
    assert_eq!(codes(&trips), ["guard.out-of-stock-share"]);
}

#[test]
fn a_guard_that_is_on_needs_its_role() {
    let config = GuardConfig::default();
    assert!(config.missing_roles("google", &GOOGLE).is_empty());
    assert!(config.missing_roles("amazon", &AMAZON).is_empty());
    let errors = config.missing_roles("bare", &Roles::default());
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(
        messages[0].contains("channel spec `bare` gives no field role = \"price\"")
            && messages[0].contains("`max_price_change_share = 1`"),
        "{messages:?}"
    );
    let off = GuardConfig {
        max_price_change_share: 1.0,
        max_newly_out_of_stock_share: 1.0,
        allow_currency_change: true,
        ..config
    };
    assert!(off.missing_roles("bare", &Roles::default()).is_empty());
}
