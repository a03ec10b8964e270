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
