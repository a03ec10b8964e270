//! Safety guards: refuse a push that looks like a broken catalog rather than a real change.
//!
//! | code                      | trips when                                            | override                  |
//! |---------------------------|-------------------------------------------------------|---------------------------|
//! | `guard.empty-feed`        | the feed has no items                                 | `--force` only            |
//! | `guard.removed-share`     | removed / previous > `max_removed_share`              | `--allow-removals`        |
//! | `guard.added-share`       | added / previous > `max_added_share` (off by default) | `--allow-additions`       |
//! | `guard.price-change-share`| items with price moves > threshold / kept items > max | `--allow-price-changes`   |
//! | `guard.out-of-stock-share`| newly out of stock / kept items > max                 | `--allow-out-of-stock`    |
//! | `guard.currency-change`   | feed currency differs from the last pushed one        | `--allow-currency-change` |
//! | `guard.older-catalog`     | catalog older than the last pushed one                | `--allow-older-catalog`   |
//!
//! "previous" is the number of items the channel last accepted; "kept items" are those in
//! both the previous and the current feed. A share exactly at its limit passes. Removal and
//! addition guards are skipped on a first push (no previous items). `--force` overrides all.
//!
//! Prices, stock and the currency are read through the spec's field roles
//! ([`crate::spec::Roles`]) as canonical values; a feed whose guards need a role its spec
//! lacks is refused when it is read ([`GuardConfig::missing_roles`]).

mod config;
mod evaluate;
mod format;
mod read;

#[cfg(test)]
mod tests;

use serde::Serialize;

pub use config::{GuardConfig, GuardConfigError};
pub use evaluate::{GuardContext, evaluate};

/// Stable guard codes; never rename one, scripts match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuardCode {
    EmptyFeed,
    RemovedShare,
    AddedShare,
    PriceChangeShare,
    OutOfStockShare,
    CurrencyChange,
    OlderCatalog,
}

impl GuardCode {
    pub fn code(self) -> &'static str {
        match self {
            GuardCode::EmptyFeed => "guard.empty-feed",
            GuardCode::RemovedShare => "guard.removed-share",
            GuardCode::AddedShare => "guard.added-share",
            GuardCode::PriceChangeShare => "guard.price-change-share",
            GuardCode::OutOfStockShare => "guard.out-of-stock-share",
            GuardCode::CurrencyChange => "guard.currency-change",
            GuardCode::OlderCatalog => "guard.older-catalog",
        }
    }

    /// The CLI flag that lets a push through this guard.
    pub fn override_flag(self) -> &'static str {
        match self {
            GuardCode::EmptyFeed => "--force",
            GuardCode::RemovedShare => "--allow-removals",
            GuardCode::AddedShare => "--allow-additions",
            GuardCode::PriceChangeShare => "--allow-price-changes",
            GuardCode::OutOfStockShare => "--allow-out-of-stock",
            GuardCode::CurrencyChange => "--allow-currency-change",
            GuardCode::OlderCatalog => "--allow-older-catalog",
        }
    }
}

impl Serialize for GuardCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// One tripped guard, with the numbers that tripped it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardTrip {
    pub code: GuardCode,
    /// E.g. "6,000 of 10,000 items (60.0 %) would be removed; limit 20 %".
    pub message: String,
    /// The flag that overrides this guard (`--force` always does too).
    pub override_flag: &'static str,
    /// The counted items and what they are counted against, when the guard is a share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// The override flags given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub force: bool,
    pub allowed: Vec<GuardCode>,
}

impl Overrides {
    /// The trips that still block the push. The empty-feed guard yields only to `--force`.
    pub fn blocking(&self, trips: Vec<GuardTrip>) -> Vec<GuardTrip> {
        if self.force {
            return Vec::new();
        }
        trips
            .into_iter()
            .filter(|t| t.code == GuardCode::EmptyFeed || !self.allowed.contains(&t.code))
            .collect()
    }
}
