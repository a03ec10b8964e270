//! Hashes for the checks across rows. SKUs are keyed by a 128-bit hash instead of their
//! text, so a million-SKU table holds no string per entry; at 128 bits an accidental
//! collision among even 10^9 SKUs has a probability below 10^-20.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use xxhash_rust::xxh3::{Xxh3Default, xxh3_128};

pub fn sku_key(sku: &str) -> u128 {
    xxh3_128(sku.as_bytes())
}

/// A stable 64-bit hash of any hashable value (same input, same hash, every run).
pub fn hash64(value: impl Hash) -> u64 {
    let mut hasher = Xxh3Default::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// A stable 128-bit hash of any hashable value, for keys whose collisions must not happen
/// in practice (see [`sku_key`]).
pub fn hash128(value: impl Hash) -> u128 {
    let mut hasher = Xxh3Default::new();
    value.hash(&mut hasher);
    hasher.digest128()
}

/// For keys that already are uniformly distributed hashes: hashing them again is waste.
#[derive(Default)]
pub struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for key types other than u64/u128; fold them in rather than misbehave.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64;
    }
}

pub type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<Prehashed>>;

/// A [`sku_key`] as two halves. A `u128` aligns to 16 bytes, so a map entry of one and an
/// 8-aligned value of 24 bytes takes 48 bytes instead of 40; across the million entries of
/// each SKU table that padding alone is tens of megabytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PackedKey([u64; 2]);

impl From<u128> for PackedKey {
    fn from(key: u128) -> PackedKey {
        // High half first, so the derived order is the order of the `u128`.
        PackedKey([(key >> 64) as u64, key as u64])
    }
}

impl Hash for PackedKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a uniform hash: one half is as good a hash as the whole (see `Prehashed`).
        state.write_u64(self.0[1]);
    }
}

impl From<PackedKey> for u128 {
    fn from(key: PackedKey) -> u128 {
        (u128::from(key.0[0]) << 64) | u128::from(key.0[1])
    }
}

impl PackedKey {
    fn high(self) -> u64 {
        self.0[0]
    }
}

/// A read-only map of [`PackedKey`]s, for tables built once and then only looked up: one
/// sorted vector, found through a table of where each value of the key's top bits starts.
/// Half the size of a `HashMap` of the same entries (which keeps up to half its slots empty),
/// and a lookup reads two or three cache lines.
pub struct SortedKeys<V> {
    entries: Vec<(PackedKey, V)>,
    /// `starts[b]..starts[b + 1]` are the entries whose key has `b` in its top bits.
    starts: Vec<usize>,
    shift: u32,
}

impl<V> Default for SortedKeys<V> {
    fn default() -> Self {
        SortedKeys::new(Vec::new())
    }
}

impl<V> SortedKeys<V> {
    /// Sorts `entries`; with repeated keys, [`SortedKeys::get`] finds one of them.
    pub fn new(mut entries: Vec<(PackedKey, V)>) -> SortedKeys<V> {
        entries.sort_unstable_by_key(|(key, _)| *key);
        entries.shrink_to_fit();
        // About two entries per bucket keeps the table small.
        let bits = (entries.len() / 2).max(1).ilog2().max(1);
        let shift = 64 - bits;
        let mut starts = vec![0; (1 << bits) + 1];
        for (key, _) in &entries {
            starts[(key.high() >> shift) as usize + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        SortedKeys {
            entries,
            starts,
            shift,
        }
    }

    pub fn get(&self, key: PackedKey) -> Option<&V> {
        self.find(key).map(|(_, value)| value)
    }

    /// The entry with this key and its position, `0..len()`, in the order of [`Self::iter`].
    pub fn find(&self, key: PackedKey) -> Option<(usize, &V)> {
        let bucket = (key.high() >> self.shift) as usize;
        let (&start, &end) = (self.starts.get(bucket)?, self.starts.get(bucket + 1)?);
        self.entries[start..end]
            .iter()
            .position(|(other, _)| *other == key)
            .map(|offset| (start + offset, &self.entries[start + offset].1))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(PackedKey, V)> {
        self.entries.iter()
    }

    /// The entry at `index` in the order of [`Self::iter`].
    pub fn at(&self, index: usize) -> Option<&(PackedKey, V)> {
        self.entries.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_keys_find_every_key_and_only_those() {
        for n in [0u32, 1, 2, 3, 1000] {
            let keys: Vec<u128> = (0..n).map(|i| sku_key(&format!("SKU-{i}"))).collect();
            let map = SortedKeys::new(keys.iter().map(|&k| (PackedKey::from(k), k)).collect());
            assert_eq!(map.len(), n as usize);
            for &key in &keys {
                assert_eq!(map.get(key.into()), Some(&key));
                let (at, _) = map.find(key.into()).expect("found");
                assert_eq!(map.iter().nth(at).map(|(_, v)| *v), Some(key));
            }
            assert_eq!(map.get(sku_key("missing").into()), None);
        }
    }

    #[test]
    fn packed_keys_order_like_u128() {
        let (a, b) = (1u128 << 64, (1u128 << 64) - 1);
        assert!(PackedKey::from(a) > PackedKey::from(b));
        assert_eq!(u128::from(PackedKey::from(a)), a);
        assert_eq!(u128::from(PackedKey::from(b)), b);
    }
}
