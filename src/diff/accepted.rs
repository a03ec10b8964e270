//! What a channel last accepted, in a form compact enough for a million items.
//!
//! A `HashMap<String, u128>` costs about 120 bytes per item (the map's slack, a `String`
//! header and its heap block). [`Accepted`] keeps only the 128-bit hash of each key
//! ([`sku_key`]) and the accepted content hash, in a [`SortedKeys`] table: 32 bytes per
//! item. Key texts are not kept: the few
//! items a diff has to name (removed ones, a duplicate) are looked up in the state again.

use std::collections::HashMap;

use crate::load::keys::{PackedKey, SortedKeys, sku_key};

/// The accepted items of one feed: key hash -> accepted content hash.
#[derive(Default)]
pub struct Accepted {
    items: SortedKeys<u128>,
}

/// An accepted item found by its key hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Its position in the [`Accepted`] set, `0..len()`.
    pub index: usize,
    pub hash: u128,
}

/// How one current record compares with what the channel accepted: the one place that
/// decides added, changed or unchanged, for the diff and for the push alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compared {
    /// No accepted item has this key.
    Added,
    /// Accepted with other content.
    Changed(Found),
    /// Accepted with the same content hash.
    Unchanged(Found),
}

/// Collects accepted items in any order; [`AcceptedBuilder::finish`] sorts them once.
#[derive(Default)]
pub struct AcceptedBuilder {
    entries: Vec<(PackedKey, u128)>,
}

impl AcceptedBuilder {
    pub fn push(&mut self, key: &str, hash: u128) {
        self.entries.push((sku_key(key).into(), hash));
    }

    pub fn finish(self) -> Accepted {
        Accepted {
            items: SortedKeys::new(self.entries),
        }
    }
}

impl Accepted {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The accepted item whose key has this [`sku_key`].
    pub fn find(&self, key_hash: u128) -> Option<Found> {
        self.items
            .find(key_hash.into())
            .map(|(index, &hash)| Found { index, hash })
    }

    /// Compares a current record (its key's [`sku_key`] and its content hash) with the
    /// accepted one.
    pub fn compare(&self, key_hash: u128, hash: u128) -> Compared {
        match self.find(key_hash) {
            None => Compared::Added,
            Some(found) if found.hash == hash => Compared::Unchanged(found),
            Some(found) => Compared::Changed(found),
        }
    }

    /// The accepted item with this key.
    pub fn get(&self, key: &str) -> Option<Found> {
        self.find(sku_key(key))
    }

    /// The [`sku_key`] of the item at `index` (see [`Found::index`]).
    pub fn key_hash(&self, index: usize) -> Option<u128> {
        self.items.at(index).map(|&(key, _)| key.into())
    }
}

impl FromIterator<(String, u128)> for Accepted {
    fn from_iter<I: IntoIterator<Item = (String, u128)>>(items: I) -> Accepted {
        let mut builder = AcceptedBuilder::default();
        for (key, hash) in items {
            builder.push(&key, hash);
        }
        builder.finish()
    }
}

impl From<HashMap<String, u128>> for Accepted {
    fn from(map: HashMap<String, u128>) -> Accepted {
        map.into_iter().collect()
    }
}

/// One bit per accepted item, by [`Found::index`].
#[derive(Debug, Clone, Default)]
pub struct IndexSet {
    words: Vec<u64>,
    len: usize,
}

impl IndexSet {
    pub fn new(accepted: &Accepted) -> IndexSet {
        IndexSet {
            words: vec![0; accepted.len().div_ceil(64)],
            len: 0,
        }
    }

    /// Adds `index`; false if it was there already.
    pub fn insert(&mut self, index: usize) -> bool {
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        let Some(word) = self.words.get_mut(word) else {
            return false;
        };
        let new = *word & bit == 0;
        *word |= bit;
        self.len += usize::from(new);
        new
    }

    pub fn contains(&self, index: usize) -> bool {
        self.words
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_key() {
        for n in [0usize, 1, 2, 3, 100, 5000] {
            let accepted: Accepted = (0..n)
                .map(|i| (format!("SKU-{i}"), i as u128 * 7))
                .collect();
            assert_eq!(accepted.len(), n);
            for i in 0..n {
                let key = format!("SKU-{i}");
                let found = accepted.get(&key).expect("accepted");
                assert_eq!(found.hash, i as u128 * 7);
                assert_eq!(accepted.key_hash(found.index), Some(sku_key(&key)));
            }
            assert_eq!(accepted.get("SKU-missing"), None);
            assert_eq!(accepted.get(""), None);
        }
    }

    #[test]
    fn index_set_counts_new_indices_once() {
        let accepted: Accepted = (0..130).map(|i| (format!("K{i}"), 0)).collect();
        let mut set = IndexSet::new(&accepted);
        assert!(set.insert(0));
        assert!(set.insert(129));
        assert!(!set.insert(129));
        assert!(set.contains(129) && !set.contains(64));
        assert_eq!(set.len(), 2);
        assert!(!set.insert(1000), "out of range is refused, not a panic");
    }
}
