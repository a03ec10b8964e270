//! The one content hash that decides "changed or not", for the diff and for the state.
//!
//! It is a hash of exactly what the state keeps of a record ([`stored_value`] of each
//! field), so an item's accepted hash can always be recomputed from its stored fields (the
//! schema migrations do), and a diff flags a change only where it can show one.

use std::borrow::Cow;
use std::io::Write as _;

use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

use super::Fields;

/// Values longer than this many characters are kept in the state as a prefix and a hash of
/// the whole: a diff still shows that a description changed, and the state stays a fraction
/// of the feed's size. Part of the hash's input: changing it makes every long value look
/// changed once.
pub const STORED_VALUE_CHARS: usize = 120;

/// Repeated values (several image links) are stored, shown and hashed joined with this.
pub const LIST_SEPARATOR: &str = ", ";

/// xxh3-128 of the field values in a stable encoding: for each field in name order, the
/// name's and the value's byte lengths (u64 little-endian) each followed by the bytes. The
/// length prefixes keep `("ab", "c")` and `("a", "bc")` apart. The values are taken as
/// stored ([`stored_value`] was applied by whoever made `fields`). Changing this encoding
/// makes every item look changed once, so treat it as part of the state format.
pub fn content_hash(fields: &Fields) -> u128 {
    let mut input = HashInput::default();
    for (name, value) in fields {
        input.push_stored(name, value);
    }
    input.finish()
}

/// What the state keeps of a value: the value itself, or past [`STORED_VALUE_CHARS`]
/// characters its prefix, its length and its xxh3-64.
pub fn stored_value(value: &str) -> Cow<'_, str> {
    let mut out = Vec::new();
    match write_stored(&mut out, value) {
        // Built from a `&str` cut at a char boundary and ASCII text: always UTF-8.
        true => Cow::Owned(String::from_utf8(out).unwrap_or_default()),
        false => Cow::Borrowed(value),
    }
}

/// Appends the shortened form of `value` to `out` if it is too long to keep whole; false
/// (and nothing appended) when it is kept as it is.
fn write_stored(out: &mut Vec<u8>, value: &str) -> bool {
    let Some((cut, _)) = value.char_indices().nth(STORED_VALUE_CHARS) else {
        return false;
    };
    let chars = STORED_VALUE_CHARS + value[cut..].chars().count();
    out.extend_from_slice(&value.as_bytes()[..cut]);
    // Writing into a `Vec` cannot fail.
    let _ = write!(
        out,
        "… ({chars} chars, xxh3 {:016x})",
        xxh3_64(value.as_bytes())
    );
    true
}

/// The input of [`content_hash`], built pair by pair. The engine hashes every record of a
/// run (millions) through one reused `HashInput` per thread: no map, no allocation per
/// record once the buffers have grown. Pairs must be pushed in name order (byte order, as
/// [`Fields`] iterates).
#[derive(Default)]
pub struct HashInput {
    bytes: Vec<u8>,
    /// A repeated value joined, before it is shortened.
    joined: String,
}

impl HashInput {
    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    /// A pair whose value is already in its stored form.
    pub fn push_stored(&mut self, name: &str, value: &str) {
        self.push_part(name);
        self.push_part(value);
    }

    /// A pair with its whole value: hashed as [`stored_value`] would keep it.
    pub fn push_value(&mut self, name: &str, value: &str) {
        self.push_part(name);
        let length_at = self.bytes.len();
        self.bytes.extend_from_slice(&0u64.to_le_bytes());
        if write_stored(&mut self.bytes, value) {
            let length = (self.bytes.len() - length_at - 8) as u64;
            self.bytes[length_at..length_at + 8].copy_from_slice(&length.to_le_bytes());
        } else {
            self.bytes.truncate(length_at);
            self.push_part(value);
        }
    }

    /// A repeated value, joined with [`LIST_SEPARATOR`] as the state stores it.
    pub fn push_list<'v>(&mut self, name: &str, values: impl IntoIterator<Item = &'v str>) {
        let mut joined = std::mem::take(&mut self.joined);
        joined.clear();
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                joined.push_str(LIST_SEPARATOR);
            }
            joined.push_str(value);
        }
        self.push_value(name, &joined);
        self.joined = joined;
    }

    pub fn finish(&self) -> u128 {
        xxh3_128(&self.bytes)
    }

    fn push_part(&mut self, part: &str) {
        self.bytes
            .extend_from_slice(&(part.len() as u64).to_le_bytes());
        self.bytes.extend_from_slice(part.as_bytes());
    }
}
