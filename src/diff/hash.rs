//! The content hash that decides "changed or not".

use xxhash_rust::xxh3::Xxh3;

use super::Fields;

/// xxh3-128 of the field values in a stable encoding: for each field in name order, the
/// name's and the value's byte lengths (u64 little-endian) each followed by the bytes. The
/// length prefixes keep `("ab", "c")` and `("a", "bc")` apart. Changing this encoding makes
/// every item look changed once, so treat it as part of the state format.
pub fn content_hash(fields: &Fields) -> u128 {
    let mut hasher = Xxh3::new();
    for (name, value) in fields {
        for part in [name, value] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    hasher.digest128()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use xxhash_rust::xxh3::{Xxh3, xxh3_128};

    proptest! {
        /// `export::record_hash` hashes one buffer where it used to feed a streaming hasher
        /// piece by piece; stored hashes stay valid only if both agree on every input.
        #[test]
        fn one_shot_hash_equals_streaming_hash(
            parts in proptest::collection::vec(".{0,300}", 0..60),
        ) {
            let mut streaming = Xxh3::new();
            let mut buffer = Vec::new();
            for part in &parts {
                streaming.update(&(part.len() as u64).to_le_bytes());
                streaming.update(part.as_bytes());
                buffer.extend_from_slice(&(part.len() as u64).to_le_bytes());
                buffer.extend_from_slice(part.as_bytes());
            }
            prop_assert_eq!(streaming.digest128(), xxh3_128(&buffer));
        }
    }
}
