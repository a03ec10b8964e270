//! Keyed diff of one feed's current items against what the channel last accepted.
//!
//! Two steps keep memory flat for a million items: [`DiffBuilder::push`] sees every current
//! item's key and hash but asks for its field values only when the item is new or its hash
//! differs, and spills a changed item's fields to a file; [`DiffBuilder::finish`] then
//! takes the last accepted values of just the changed and removed keys
//! ([`DiffBuilder::keys_needing_before`]), a chunk at a time.
//!
//! # JSON schema
//!
//! A [`FeedDiff`] serializes as:
//!
//! ```json
//! {
//!   "totals": { "previous": 10000, "current": 10010, "added": 20, "changed": 3,
//!               "removed": 10, "unchanged": 9987 },
//!   "added":   [ { "key": "SKU-1", "fields": [ { "field": "price", "before": null, "after": "9.99 EUR" } ] } ],
//!   "changed": [ { "key": "SKU-2", "fields": [ { "field": "price", "before": "10.00 EUR", "after": "12.00 EUR" } ] } ],
//!   "removed": [ { "key": "SKU-3", "fields": [ { "field": "price", "before": "5.00 EUR", "after": null } ] } ]
//! }
//! ```
//!
//! `totals` always describe the whole feed; the lists may be shortened by the filters (and
//! the builder lists only what a [`Listing`] asks for).
//! `added` and `removed` are sorted by key, `changed` largest change first (see [`rank`]).
//! Within an item, `fields` are sorted by field name. `before`/`after` are `null` where the
//! field is absent on that side.

mod accepted;
mod build;
mod filter;
mod hash;
mod listing;
pub mod rank;

#[cfg(test)]
pub(crate) mod tests;

use serde::Serialize;

pub use accepted::{Accepted, AcceptedBuilder, Compared, Found, IndexSet};
pub use build::{BEFORE_CHUNK, BeforeLookup, CurrentItem, DiffBuilder, DiffError, Duplicate, Seen};
pub use hash::{HashInput, LIST_SEPARATOR, STORED_VALUE_CHARS, content_hash, stored_value};
pub use listing::{Listing, Shown};
pub use rank::Ranking;

/// Field name -> value.
pub type Fields = std::collections::BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemChange {
    pub key: String,
    pub fields: Vec<FieldChange>,
}

impl ItemChange {
    pub fn field(&self, name: &str) -> Option<&FieldChange> {
        self.fields.iter().find(|f| f.field == name)
    }
}

/// Counts for the whole feed, before any filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DiffTotals {
    /// Items the channel had accepted before this run.
    pub previous: u64,
    /// Items in the current feed.
    pub current: u64,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedDiff {
    pub totals: DiffTotals,
    pub added: Vec<ItemChange>,
    pub changed: Vec<ItemChange>,
    pub removed: Vec<ItemChange>,
}

impl FeedDiff {
    pub fn is_empty(&self) -> bool {
        self.totals.added == 0 && self.totals.changed == 0 && self.totals.removed == 0
    }
}
