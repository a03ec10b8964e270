//! The stored form of an item's accepted field values: compact, because a store holds one
//! per item, a million for a large catalog, and JSON text took about 900 bytes each.
//!
//! A blob is [`VERSION`] followed, per field in name order, by `varint(name id)` and
//! `varint(length << 2 | kind)`:
//! - [`INLINE`]: `length` bytes of text follow;
//! - [`THE_KEY`]: the value is the item's key (the id field of most channels);
//! - [`SHARED`]: `length` is the id of a value in `field_values`;
//! - [`SHORTENED`]: a long value as [`crate::diff::stored_value`] keeps it, without its text tail:
//!   `length` bytes of prefix, `varint(chars)` and the 8-byte xxh3-64 (little-endian).
//!
//! Field names live once in `field_names`. Values that recur across items (brand, product
//! type, category, availability…) live once in `field_values`: a value becomes shared when
//! it is seen [`SHARE_AFTER`] times among the recently seen ones, so values unique to an item
//! or a handful of variants stay inline, where they cost least. Sharing works without knowing
//! any channel's fields.
//!
//! Deflate was measured and left out: its per-item state (over 100 KB that every reset
//! clears) cost more than compressing a million small items.

use rusqlite::{Connection, Statement, params};
use xxhash_rust::xxh3::xxh3_64;

use super::Fields;
use crate::diff::STORED_VALUE_CHARS;
use crate::load::keys::KeyMap;

const VERSION: u8 = 1;
const INLINE: u64 = 0;
const THE_KEY: u64 = 1;
const SHARED: u64 = 2;
const SHORTENED: u64 = 3;

/// Sightings among the recent values after which a value is stored once and referred to.
const SHARE_AFTER: u32 = 8;
/// Recent values counted towards sharing; the count starts over when it is full, which
/// keeps memory flat whatever the catalog's size.
const RECENT_VALUES: usize = 1 << 16;
/// Shorter values cost no more inline than as a reference.
const MIN_SHARED_BYTES: usize = 4;
/// Values this long are rarely shared (descriptions are shortened below it anyway).
const MAX_SHARED_BYTES: usize = 256;

/// An id <-> text table of the store (`field_names`, `field_values`), held in memory.
/// Looked up twenty times per item: keyed by the text's xxh3-64 (the map's own hasher then
/// has a plain integer to spread), the text compared on a hit.
#[derive(Default)]
struct Dictionary {
    ids: KeyMap<u64, u64>,
    texts: Vec<Option<String>>,
}

impl Dictionary {
    fn load(conn: &Connection, table: &str) -> rusqlite::Result<Dictionary> {
        let mut dictionary = Dictionary::default();
        // `table` is one of this module's constants, never user input.
        let mut stmt = conn.prepare(&format!("SELECT id, text FROM {table}"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            dictionary.remember(u64::try_from(id).unwrap_or(u64::MAX), row.get(1)?);
        }
        Ok(dictionary)
    }

    fn remember(&mut self, id: u64, text: String) {
        let Ok(slot) = usize::try_from(id) else {
            return;
        };
        if self.texts.len() <= slot {
            self.texts.resize(slot + 1, None);
        }
        // Two texts with one hash (odds about 2^-64 per pair): the first keeps the slot; the
        // second is never found, so it is stored again each time it is met. Both decode.
        self.ids.entry(xxh3_64(text.as_bytes())).or_insert(id);
        self.texts[slot] = Some(text);
    }

    fn id(&self, text: &str) -> Option<u64> {
        self.id_hashed(text, xxh3_64(text.as_bytes()))
    }

    /// [`Dictionary::id`] for a caller that already has the text's xxh3-64.
    fn id_hashed(&self, text: &str, hash: u64) -> Option<u64> {
        let &id = self.ids.get(&hash)?;
        (self.text(id) == Some(text)).then_some(id)
    }

    /// Gives `text` a new id and queues its row for `table` in `new_entries`: the encoder
    /// needs no connection, so it can run beside the thread that writes the rows.
    fn add(&mut self, table: &'static str, text: &str, new_entries: &mut Vec<NewEntry>) -> u64 {
        let id = self.texts.len() as u64;
        new_entries.push(NewEntry {
            table,
            id,
            text: text.to_owned(),
        });
        self.remember(id, text.to_owned());
        id
    }

    fn text(&self, id: u64) -> Option<&str> {
        self.texts.get(usize::try_from(id).ok()?)?.as_deref()
    }
}

const NAMES: &str = "field_names";
const VALUES: &str = "field_values";

/// A dictionary row the encoder made up and the store must write, in the same transaction
/// as the blobs that refer to it.
pub(super) struct NewEntry {
    table: &'static str,
    id: u64,
    text: String,
}

/// Writes the dictionary rows queued by [`FieldCodec::encode`] (in the caller's
/// transaction). A first push of a big catalog shares tens of thousands of values, so
/// both statements are prepared once per transaction, not once per row.
pub(super) struct EntryWriter<'conn> {
    names: Statement<'conn>,
    values: Statement<'conn>,
}

impl<'conn> EntryWriter<'conn> {
    pub(super) fn new(conn: &'conn Connection) -> rusqlite::Result<EntryWriter<'conn>> {
        Ok(EntryWriter {
            names: conn.prepare(&format!("INSERT INTO {NAMES} (id, text) VALUES (?1, ?2)"))?,
            values: conn.prepare(&format!("INSERT INTO {VALUES} (id, text) VALUES (?1, ?2)"))?,
        })
    }

    pub(super) fn write(&mut self, entries: &[NewEntry]) -> rusqlite::Result<()> {
        for entry in entries {
            let statement = if entry.table == NAMES {
                &mut self.names
            } else {
                &mut self.values
            };
            statement.execute(params![
                i64::try_from(entry.id).unwrap_or(i64::MAX),
                entry.text
            ])?;
        }
        Ok(())
    }
}

/// Encodes and decodes stored field values, with the store's dictionaries in memory.
pub(super) struct FieldCodec {
    names: Dictionary,
    values: Dictionary,
    /// xxh3-64 of a value -> sightings, for values not (yet) shared. A hash collision only
    /// shares a value a little early.
    recent: KeyMap<u64, u32>,
    /// The previous item's field names with their ids, by position: items of one feed
    /// mostly share their names, so a string comparison replaces a hash lookup.
    last_names: Vec<(String, u64)>,
    out: Vec<u8>,
}

impl FieldCodec {
    pub(super) fn load(conn: &Connection) -> rusqlite::Result<FieldCodec> {
        Ok(FieldCodec {
            names: Dictionary::load(conn, NAMES)?,
            values: Dictionary::load(conn, VALUES)?,
            recent: KeyMap::default(),
            last_names: Vec::new(),
            out: Vec::new(),
        })
    }

    /// The stored bytes of item `key`'s `fields`. New field names and newly shared values
    /// are queued in `new_entries`: the caller writes them with [`write_entries`] in the
    /// transaction that stores the bytes.
    pub(super) fn encode(
        &mut self,
        key: &str,
        fields: &Fields,
        new_entries: &mut Vec<NewEntry>,
    ) -> &[u8] {
        self.out.clear();
        self.out.push(VERSION);
        for (position, (name, value)) in fields.iter().enumerate() {
            let name_id = self.name_id(position, name, new_entries);
            push_varint(&mut self.out, name_id);
            if value == key {
                push_varint(&mut self.out, THE_KEY);
            } else if let Some(id) = self.shared_id(value, new_entries) {
                push_varint(&mut self.out, id << 2 | SHARED);
            } else if let Some((prefix, chars, hash)) = split_shortened(value) {
                push_varint(&mut self.out, (prefix.len() as u64) << 2 | SHORTENED);
                self.out.extend_from_slice(prefix.as_bytes());
                push_varint(&mut self.out, chars);
                self.out.extend_from_slice(&hash.to_le_bytes());
            } else {
                push_varint(&mut self.out, (value.len() as u64) << 2 | INLINE);
                self.out.extend_from_slice(value.as_bytes());
            }
        }
        &self.out
    }

    /// The id of field `name`, the `position`th of its item, adding it if it is new.
    fn name_id(&mut self, position: usize, name: &str, new_entries: &mut Vec<NewEntry>) -> u64 {
        if let Some((last, id)) = self.last_names.get(position)
            && last == name
        {
            return *id;
        }
        let id = match self.names.id(name) {
            Some(id) => id,
            None => self.names.add(NAMES, name, new_entries),
        };
        match self.last_names.get_mut(position) {
            Some(slot) => *slot = (name.to_owned(), id),
            None => self.last_names.push((name.to_owned(), id)),
        }
        id
    }

    /// The id of `value` in `field_values` if it is shared, sharing it if it now recurs
    /// often enough.
    fn shared_id(&mut self, value: &str, new_entries: &mut Vec<NewEntry>) -> Option<u64> {
        if !(MIN_SHARED_BYTES..=MAX_SHARED_BYTES).contains(&value.len()) {
            return None;
        }
        let hash = xxh3_64(value.as_bytes());
        if let Some(id) = self.values.id_hashed(value, hash) {
            return Some(id);
        }
        if self.recent.len() >= RECENT_VALUES && !self.recent.contains_key(&hash) {
            self.recent.clear();
        }
        let seen = self.recent.entry(hash).or_default();
        *seen += 1;
        if *seen < SHARE_AFTER {
            return None;
        }
        self.recent.remove(&hash);
        Some(self.values.add(VALUES, value, new_entries))
    }

    /// The field values of item `key` stored as `bytes`; `Err` says what is wrong with them.
    pub(super) fn decode(&self, key: &str, bytes: &[u8]) -> Result<Fields, String> {
        let (&version, mut rest) = bytes.split_first().ok_or("no bytes")?;
        if version != VERSION {
            return Err(format!("unknown encoding version {version}"));
        }
        let mut fields = Fields::new();
        while !rest.is_empty() {
            let name_id = take_varint(&mut rest).ok_or("a field id is cut off")?;
            let name = self
                .names
                .text(name_id)
                .ok_or_else(|| format!("unknown field id {name_id}"))?;
            let tag = take_varint(&mut rest).ok_or("a value tag is cut off")?;
            let value = match tag & 3 {
                THE_KEY => key.to_owned(),
                SHARED => self
                    .values
                    .text(tag >> 2)
                    .ok_or_else(|| format!("unknown value id {}", tag >> 2))?
                    .to_owned(),
                kind => {
                    let text = take_text(&mut rest, tag >> 2)?;
                    if kind == SHORTENED {
                        let chars = take_varint(&mut rest).ok_or("a length is cut off")?;
                        let hash = take_bytes(&mut rest, 8)?;
                        let hash = u64::from_le_bytes(hash.try_into().map_err(|_| "short hash")?);
                        shortened(text, chars, hash)
                    } else {
                        text.to_owned()
                    }
                }
            };
            fields.insert(name.to_owned(), value);
        }
        Ok(fields)
    }
}

/// `(prefix, chars, hash)` if `value` is exactly what [`crate::diff::stored_value`] makes of a long value.
fn split_shortened(value: &str) -> Option<(&str, u64, u64)> {
    // Fewer bytes than the limit's characters: certainly not shortened.
    if value.len() <= STORED_VALUE_CHARS {
        return None;
    }
    let (cut, _) = value.char_indices().nth(STORED_VALUE_CHARS)?;
    let (prefix, tail) = value.split_at(cut);
    let tail = tail.strip_prefix("… (")?.strip_suffix(')')?;
    let (chars, hash) = tail.split_once(" chars, xxh3 ")?;
    let chars: u64 = chars.parse().ok()?;
    let hash = u64::from_str_radix(hash, 16).ok()?;
    // Only what renders back to the same text: anything else is kept inline.
    (shortened(prefix, chars, hash) == value).then_some((prefix, chars, hash))
}

/// The text [`crate::diff::stored_value`] makes of a long value, from its parts.
fn shortened(prefix: &str, chars: u64, hash: u64) -> String {
    format!("{prefix}… ({chars} chars, xxh3 {hash:016x})")
}

fn take_bytes<'b>(input: &mut &'b [u8], length: usize) -> Result<&'b [u8], String> {
    if input.len() < length {
        return Err("a value is cut off".into());
    }
    let (taken, rest) = input.split_at(length);
    *input = rest;
    Ok(taken)
}

fn take_text<'b>(input: &mut &'b [u8], length: u64) -> Result<&'b str, String> {
    let length = usize::try_from(length).map_err(|_| "a value length is implausible")?;
    std::str::from_utf8(take_bytes(input, length)?).map_err(|err| err.to_string())
}

/// LEB128: 7 bits per byte, low bits first, the high bit set on all but the last byte.
fn push_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn take_varint(input: &mut &[u8]) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        n |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::stored_value;

    #[test]
    fn shortened_values_round_trip_only_when_exact() {
        let long = "x".repeat(300);
        let stored = stored_value(&long).into_owned();
        let (prefix, chars, _) = split_shortened(&stored).expect("recognized");
        assert_eq!((prefix.len(), chars), (STORED_VALUE_CHARS, 300));
        // Looks alike but is not what stored_value makes: kept inline.
        let lookalike = stored.replace("300 chars", "0300 chars");
        assert_eq!(split_shortened(&lookalike), None);
        assert_eq!(
            split_shortened("short… (3 chars, xxh3 0000000000000000)"),
            None
        );
    }
}
