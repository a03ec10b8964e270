//! The `[guards]` table of a feed file.

use serde::{Deserialize, Serialize};

use crate::spec::Roles;

/// Safety guards checked before a push. A push that trips one is refused, and the message
/// names the flag that overrides it. Shares are fractions: `0.2` means 20 %.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardConfig {
    /// Refuse a push that would remove more than this share of the items the channel
    /// accepted last time. Default `0.2`. Not checked on the first push of a feed.
    /// Override: `--allow-removals`.
    pub max_removed_share: f64,
    /// Refuse a push that would add more than this share of new items, relative to the items
    /// the channel accepted last time. Default: off, because a growing catalog is normal and
    /// a wrongly added item is visible and easy to remove, unlike a wrongly removed one.
    /// Not checked on the first push. Override: `--allow-additions`.
    pub max_added_share: Option<f64>,
    /// Refuse a push in which more than this share of the items already in the channel
    /// change price by more than `price_change_threshold`. Default `0.1`.
    /// Override: `--allow-price-changes`.
    pub max_price_change_share: f64,
    /// The relative price change that counts for `max_price_change_share`: `0.3` means a
    /// change of more than 30 % of the previous price. Default `0.3`.
    pub price_change_threshold: f64,
    /// Refuse a push in which more than this share of the items already in the channel go
    /// from available to out of stock. Default `0.2`. Override: `--allow-out-of-stock`.
    pub max_newly_out_of_stock_share: f64,
    /// Allow the feed's currency to differ from the last pushed one. Default `false`: a
    /// currency change usually means a wrong catalog or column mapping.
    /// Override: `--allow-currency-change`.
    pub allow_currency_change: bool,
    /// Allow pushing a catalog older than the one pushed last. Default `false`: it usually
    /// means a stale export or a restored backup. Override: `--allow-older-catalog`.
    pub allow_older_catalog: bool,
}

impl Default for GuardConfig {
    fn default() -> GuardConfig {
        GuardConfig {
            max_removed_share: 0.2,
            max_added_share: None,
            max_price_change_share: 0.1,
            price_change_threshold: 0.3,
            max_newly_out_of_stock_share: 0.2,
            allow_currency_change: false,
            allow_older_catalog: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GuardConfigError {
    #[error("guard `{field}` is {value}, but must be a share between 0 and 1 (0.2 means 20 %)")]
    Share { field: &'static str, value: f64 },
    #[error("guard `price_change_threshold` is {0}, but must be 0 or more (0.3 means 30 %)")]
    Threshold(f64),
    #[error(
        "the {guard} guard reads {what}, but channel spec `{spec}` gives no field role = {roles}; \
         add the role to the spec's field, or turn the guard off with `{off}`"
    )]
    MissingRole {
        guard: &'static str,
        what: &'static str,
        spec: String,
        roles: &'static str,
        off: &'static str,
    },
}

impl GuardConfig {
    /// Checks the ranges serde cannot; collects every problem, not just the first.
    pub fn validate(&self) -> Vec<GuardConfigError> {
        let shares = [
            ("max_removed_share", Some(self.max_removed_share)),
            ("max_added_share", self.max_added_share),
            ("max_price_change_share", Some(self.max_price_change_share)),
            (
                "max_newly_out_of_stock_share",
                Some(self.max_newly_out_of_stock_share),
            ),
        ];
        let mut errors: Vec<GuardConfigError> = shares
            .into_iter()
            .filter_map(|(field, value)| Some((field, value?)))
            .filter(|(_, value)| !(0.0..=1.0).contains(value))
            .map(|(field, value)| GuardConfigError::Share { field, value })
            .collect();
        if !(self.price_change_threshold.is_finite() && self.price_change_threshold >= 0.0) {
            errors.push(GuardConfigError::Threshold(self.price_change_threshold));
        }
        errors
    }

    /// The guards that are on but cannot see what they check in a spec with these roles.
    /// A share limit of 1 can never be exceeded, so it turns a share guard off.
    pub fn missing_roles(&self, spec: &str, roles: &Roles) -> Vec<GuardConfigError> {
        let missing = |guard, what, roles, off| GuardConfigError::MissingRole {
            guard,
            what,
            spec: spec.to_owned(),
            roles,
            off,
        };
        let mut errors = Vec::new();
        if self.max_price_change_share < 1.0 && roles.price.is_none() {
            errors.push(missing(
                "price-change",
                "the price",
                "\"price\"",
                "max_price_change_share = 1",
            ));
        }
        if self.max_newly_out_of_stock_share < 1.0 && !roles.has_stock() {
            errors.push(missing(
                "out-of-stock",
                "the stock",
                "\"availability\" or \"quantity\"",
                "max_newly_out_of_stock_share = 1",
            ));
        }
        if !self.allow_currency_change && !roles.has_currency() {
            errors.push(missing(
                "currency-change",
                "the currency",
                "\"currency\" (or \"price\" with price_format = \"amount_currency\")",
                "allow_currency_change = true",
            ));
        }
        errors
    }
}
