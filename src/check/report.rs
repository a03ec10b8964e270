//! What `check` found, as its JSON report has it (see [`crate::commands::check`] for the
//! whole shape) and its text and GitHub printers read it.

use serde::Serialize;

/// One SKU (one catalog line) in one country, and everything its feeds disagree on.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct SkuReport {
    pub sku: String,
    /// The products table line the item comes from.
    pub line: u64,
    /// The feeds' target country; null for feeds without one.
    pub country: Option<String>,
    pub mismatches: Vec<Mismatch>,
}

/// One disagreement between feeds, or between a feed and its own stock allocation.
#[derive(Debug, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mismatch {
    /// Sent by some feeds, left out by others.
    Missing {
        present: Vec<String>,
        missing: Vec<MissingFrom>,
    },
    /// The feeds send different currencies (prices are then compared per currency).
    Currency { values: Vec<FeedValue> },
    /// The regular price differs beyond the feeds' declared `price_adjust` rules.
    Price(PriceParity),
    /// The sale price differs beyond the feeds' rules.
    SalePrice(PriceParity),
    /// On sale in some feeds, not in others.
    Sale {
        on_sale: Vec<FeedValue>,
        not_on_sale: Vec<String>,
    },
    /// A feed sends an availability (or quantity) its own allocated stock does not give.
    Availability {
        feed: String,
        sent: String,
        expected: String,
        allocated_quantity: Option<u64>,
    },
}

impl Mismatch {
    pub fn kind(&self) -> &'static str {
        match self {
            Mismatch::Missing { .. } => "missing",
            Mismatch::Currency { .. } => "currency",
            Mismatch::Price(_) => "price",
            Mismatch::SalePrice(_) => "sale_price",
            Mismatch::Sale { .. } => "sale",
            Mismatch::Availability { .. } => "availability",
        }
    }
}

#[derive(Debug, Serialize, serde::Deserialize)]
pub struct MissingFrom {
    pub feed: String,
    pub reason: Reason,
}

/// Why a feed left an item out.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A filter of the feed's `[filters]` (`brands`, `in_stock_only`, …).
    Filtered { filter: String },
    /// An error the channel's rules found (`feed.missing-required`, …).
    Rejected {
        rule: String,
        field: Option<String>,
        message: String,
    },
    /// The item cannot be made into a record of this feed: no price in the feed's
    /// currency, no stock row at any of a local feed's stores.
    NotMapped { why: String },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Filtered { filter } => write!(f, "filtered by `[filters] {filter}`"),
            Reason::Rejected { rule, message, .. } => write!(f, "rejected by {rule}: {message}"),
            Reason::NotMapped { why } => write!(f, "not mapped: {why}"),
        }
    }
}

#[derive(Debug, Serialize, serde::Deserialize)]
pub struct FeedValue {
    pub feed: String,
    pub value: String,
}

/// A price as each feed sends it, and what the agreed price with each feed's rule gives.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct PriceParity {
    /// The price most feeds agree on before their rules (the first feed's on a tie); null
    /// when no feed's price can come from any catalog price under its rule.
    pub agreed: Option<String>,
    pub values: Vec<PriceValue>,
    /// The feeds whose price is not the agreed one under their rule.
    pub differs: Vec<String>,
}

#[derive(Debug, Serialize, serde::Deserialize)]
pub struct PriceValue {
    pub feed: String,
    pub sent: String,
    /// The feed's `price_adjust`, if any.
    pub rule: Option<String>,
    /// The agreed price with the feed's rule applied.
    pub expected: Option<String>,
}
