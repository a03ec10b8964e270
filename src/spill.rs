//! Spill files: records kept on disk between two stages so memory stays flat for a million
//! items. A push spills the records it must record in the state during the engine pass and
//! reads them back once the channel has answered; a diff spills its changed items' current
//! fields until it reads their accepted values (see [`crate::diff`]).
//!
//! A record is length-prefixed binary (every length a u32, little-endian): its key, its
//! 16-byte hash, then the number of fields (`u32::MAX` for none: an unchanged item being
//! refreshed) and each field's name and value, then for an item-level destination the
//! full values it sends (`u32::MAX` for none; else per field its name, the number of values
//! and each value). JSON lines cost a third of a push's recording time to write and parse
//! back.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

use crate::diff::Fields;
use crate::push::ItemValues;
use crate::state::SourceError;

/// One record the state must learn. `fields` is `None` for an unchanged item being
/// refreshed (the store keeps its values).
#[derive(Debug)]
pub(crate) struct Spilled {
    pub key: String,
    /// The engine's record hash.
    pub hash: u128,
    pub fields: Option<Fields>,
    /// The full values an item-level channel is sent (`None` for file destinations).
    pub values: Option<ItemValues>,
}

const NO_FIELDS: u32 = u32::MAX;

impl Spilled {
    /// The record's bytes, as [`Spill::push`] takes them.
    pub(crate) fn encode(
        key: &str,
        hash: u128,
        fields: Option<&Fields>,
        values: Option<&ItemValues>,
    ) -> Vec<u8> {
        let size = fields.map_or(0, |fields| {
            fields
                .iter()
                .map(|(name, value)| 8 + name.len() + value.len())
                .sum()
        });
        let mut out = Vec::with_capacity(4 + 4 + key.len() + 16 + 4 + size);
        out.extend_from_slice(&[0; 4]);
        push_text(&mut out, key);
        out.extend_from_slice(&hash.to_be_bytes());
        match fields {
            None => out.extend_from_slice(&NO_FIELDS.to_le_bytes()),
            Some(fields) => {
                out.extend_from_slice(&length(fields.len()).to_le_bytes());
                for (name, value) in fields {
                    push_text(&mut out, name);
                    push_text(&mut out, value);
                }
            }
        }
        match values {
            None => out.extend_from_slice(&NO_FIELDS.to_le_bytes()),
            Some(values) => {
                out.extend_from_slice(&length(values.len()).to_le_bytes());
                for (name, list) in values {
                    push_text(&mut out, name);
                    out.extend_from_slice(&length(list.len()).to_le_bytes());
                    for value in list {
                        push_text(&mut out, value);
                    }
                }
            }
        }
        let total = length(out.len() - 4);
        out[..4].copy_from_slice(&total.to_le_bytes());
        out
    }

    fn decode(mut bytes: &[u8]) -> Result<Spilled, SourceError> {
        let key = take_text(&mut bytes)?;
        let hash = u128::from_be_bytes(take(&mut bytes, 16)?.try_into()?);
        let count = take_u32(&mut bytes)?;
        let fields = if count == NO_FIELDS {
            None
        } else {
            let mut fields = Fields::new();
            for _ in 0..count {
                let name = take_text(&mut bytes)?;
                fields.insert(name, take_text(&mut bytes)?);
            }
            Some(fields)
        };
        let count = take_u32(&mut bytes)?;
        let values = if count == NO_FIELDS {
            None
        } else {
            let mut values = ItemValues::new();
            for _ in 0..count {
                let name = take_text(&mut bytes)?;
                let n = take_u32(&mut bytes)?;
                let list = (0..n)
                    .map(|_| take_text(&mut bytes))
                    .collect::<Result<_, _>>()?;
                values.insert(name, list);
            }
            Some(values)
        };
        Ok(Spilled {
            key,
            hash,
            fields,
            values,
        })
    }
}

/// Lengths past 4 GiB cannot come from one record; saturating keeps this total.
fn length(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX - 1)
}

fn push_text(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&length(text.len()).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

fn take<'b>(bytes: &mut &'b [u8], n: usize) -> Result<&'b [u8], SourceError> {
    if bytes.len() < n {
        return Err("a spilled record is cut off".into());
    }
    let (taken, rest) = bytes.split_at(n);
    *bytes = rest;
    Ok(taken)
}

fn take_u32(bytes: &mut &[u8]) -> Result<u32, SourceError> {
    Ok(u32::from_le_bytes(take(bytes, 4)?.try_into()?))
}

fn take_text(bytes: &mut &[u8]) -> Result<String, SourceError> {
    let n = take_u32(bytes)? as usize;
    Ok(String::from_utf8(take(bytes, n)?.to_vec())?)
}

/// One feed's spill file: an anonymous temp file, gone when dropped.
pub(crate) struct Spill {
    writer: BufWriter<File>,
}

impl Spill {
    pub(crate) fn new_in(dir: &Path) -> io::Result<Spill> {
        Ok(Spill::over(tempfile::tempfile_in(dir)?))
    }

    /// A spill in `dir`, or without one in the system's temp folder.
    pub(crate) fn new_in_or_temp(dir: Option<&Path>) -> io::Result<Spill> {
        match dir {
            Some(dir) => Spill::new_in(dir),
            None => Ok(Spill::over(tempfile::tempfile()?)),
        }
    }

    fn over(file: File) -> Spill {
        Spill {
            writer: BufWriter::with_capacity(1 << 20, file),
        }
    }

    /// Appends one record made by [`Spilled::encode`].
    pub(crate) fn push(&mut self, record: &[u8]) -> io::Result<()> {
        self.writer.write_all(record)
    }

    /// The spilled records from the start, in the order they were written.
    pub(crate) fn read(self) -> io::Result<impl Iterator<Item = Result<Spilled, SourceError>>> {
        let mut file = self.writer.into_inner().map_err(|err| err.into_error())?;
        file.rewind()?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut record = Vec::new();
        Ok(std::iter::from_fn(move || {
            let mut size = [0u8; 4];
            match reader.read_exact(&mut size) {
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return None,
                Err(err) => return Some(Err(err.into())),
                Ok(()) => {}
            }
            record.resize(u32::from_le_bytes(size) as usize, 0);
            if let Err(err) = reader.read_exact(&mut record) {
                return Some(Err(err.into()));
            }
            Some(Spilled::decode(&record))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_as_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut spill = Spill::new_in(dir.path()).expect("spill");
        let fields: Fields = [("price", "9.99 EUR"), ("title", "Größe ✓")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        spill
            .push(&Spilled::encode(
                "SKU-1",
                u128::MAX - 7,
                Some(&fields),
                None,
            ))
            .expect("push");
        let values: ItemValues = [("image_link".to_owned(), vec!["a, b".into(), "c".into()])]
            .into_iter()
            .collect();
        spill
            .push(&Spilled::encode("", 0, None, Some(&values)))
            .expect("push");
        let read: Vec<Spilled> = spill
            .read()
            .expect("read")
            .collect::<Result<_, _>>()
            .expect("records");
        assert_eq!(read.len(), 2);
        assert_eq!(
            (read[0].key.as_str(), read[0].hash),
            ("SKU-1", u128::MAX - 7)
        );
        assert_eq!(read[0].fields.as_ref(), Some(&fields));
        assert_eq!(
            (read[1].key.as_str(), read[1].hash, &read[1].fields),
            ("", 0, &None)
        );
        assert_eq!(read[0].values, None);
        assert_eq!(read[1].values.as_ref(), Some(&values));
    }
}
