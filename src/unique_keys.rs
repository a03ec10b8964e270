//! One item per key in a feed. A channel knows an item by its key (Google's `id`); a feed
//! whose key template repeats (`id = "{{ group_id }}"`) would send several items under one
//! key, and the channel would keep whichever came last. The engine keeps the first item
//! with a key, in catalog order, and rejects each later one with a finding naming both,
//! so every command (export, diff, push) treats the repeat the same way and other feeds
//! go on.
//!
//! Feeds keyed by the SKU itself skip the check: the loader already refuses a repeated SKU
//! (`duplicate-sku`), so their keys are unique by construction, and the common case pays
//! nothing.

use std::collections::HashMap;
use std::ops::Range;

use crate::diag::Finding;
use crate::feed::Feed;
use crate::model::Field;
use crate::spec::ValueSource;

/// A written item of a checked feed, as the engine's merge step sees it.
pub(crate) struct KeyedItem {
    hash: u128,
    key: String,
    /// The finding to report if the key is a repeat; its message is filled in then.
    finding: Finding,
    /// The item's records (indexes into the chunk's record ends) and sink items.
    pub(crate) records: Range<usize>,
    pub(crate) seen: Range<usize>,
}

impl KeyedItem {
    pub(crate) fn new(
        key: &str,
        finding: Finding,
        records: Range<usize>,
        seen: Range<usize>,
    ) -> KeyedItem {
        KeyedItem {
            hash: crate::load::keys::sku_key(key),
            key: key.to_owned(),
            finding,
            records,
            seen,
        }
    }
}

/// Where a key was first used.
struct FirstUse {
    line: Option<u64>,
    sku: Option<String>,
}

/// The keys seen so far, per feed; `None` for feeds that need no check.
pub(crate) struct UniqueKeys {
    seen: Vec<Option<HashMap<u128, FirstUse>>>,
}

impl UniqueKeys {
    pub(crate) fn new(feeds: &[Feed]) -> UniqueKeys {
        UniqueKeys {
            seen: feeds
                .iter()
                .map(|feed| needs_check(feed).then(HashMap::new))
                .collect(),
        }
    }

    /// Whether `feed`'s written items must be handed to [`UniqueKeys::repeats`].
    pub(crate) fn checks(feed: &Feed) -> bool {
        needs_check(feed)
    }

    /// Claims the keys of `items` (in catalog order) for `feed`; returns the items whose
    /// key an earlier item holds, each with its finding.
    pub(crate) fn repeats(&mut self, feed: usize, items: Vec<KeyedItem>) -> Vec<Repeat> {
        let Some(seen) = self.seen[feed].as_mut() else {
            return Vec::new();
        };
        let mut repeats = Vec::new();
        for item in items {
            let KeyedItem {
                hash,
                key,
                mut finding,
                records,
                seen: sink_items,
            } = item;
            let Some(first) = seen.get(&hash) else {
                seen.insert(
                    hash,
                    FirstUse {
                        line: finding.line,
                        sku: finding.sku.clone(),
                    },
                );
                continue;
            };
            let field = finding.field.as_deref().unwrap_or("key");
            let line = first
                .line
                .map_or(String::new(), |line| format!(" (line {line})"));
            let sku = first.sku.as_deref().unwrap_or("?");
            finding.message = format!(
                "`{field}` `{key}` is already the key of SKU {sku}{line}; only that first item is sent"
            );
            repeats.push(Repeat {
                finding,
                records,
                seen: sink_items,
            });
        }
        repeats
    }
}

/// An item left out for a repeated key.
pub(crate) struct Repeat {
    pub(crate) finding: Finding,
    pub(crate) records: Range<usize>,
    pub(crate) seen: Range<usize>,
}

/// Keys made by a template or from anything but the SKU can repeat.
fn needs_check(feed: &Feed) -> bool {
    let key = feed.spec.item_key;
    feed.overrides[key].is_some() || feed.spec.fields[key].source != ValueSource::Field(Field::Sku)
}
