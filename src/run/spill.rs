//! The spill file: the records a push must record in the state, one JSON line each, written
//! during the staging pass and read back once the channel has answered, so memory stays flat
//! for a million items.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diff::Fields;
use crate::state::SourceError;

/// One record the state must learn. `fields` is `None` for an unchanged item being
/// refreshed (the store keeps its values).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Spilled {
    pub key: String,
    /// The engine's record hash, 32 hex digits.
    #[serde(with = "hex_hash")]
    pub hash: u128,
    pub fields: Option<Fields>,
}

impl Spilled {
    /// The record as one line, without the newline.
    pub(super) fn line(key: &str, hash: u128, fields: Option<Fields>) -> String {
        let spilled = Spilled {
            key: key.to_owned(),
            hash,
            fields,
        };
        // A map of strings always serializes.
        serde_json::to_string(&spilled).unwrap_or_default()
    }
}

/// One feed's spill file: an anonymous temp file, gone when dropped.
pub(super) struct Spill {
    writer: BufWriter<File>,
}

impl Spill {
    pub(super) fn new_in(dir: &Path) -> io::Result<Spill> {
        Ok(Spill {
            writer: BufWriter::new(tempfile::tempfile_in(dir)?),
        })
    }

    pub(super) fn push_line(&mut self, line: &str) -> io::Result<()> {
        self.writer.write_all(line.as_bytes())?;
        self.writer.write_all(b"\n")
    }

    /// The spilled records from the start, in the order they were written.
    pub(super) fn read(self) -> io::Result<impl Iterator<Item = Result<Spilled, SourceError>>> {
        let mut file = self.writer.into_inner().map_err(|err| err.into_error())?;
        file.rewind()?;
        Ok(BufReader::new(file).lines().map(|line| {
            let line = line?;
            Ok(serde_json::from_str::<Spilled>(&line)?)
        }))
    }
}

/// The hash as 32 hex digits: JSON numbers cannot carry 128 bits.
mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(hash: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{hash:032x}"))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<u128, D::Error> {
        let text = <&str>::deserialize(deserializer)?;
        u128::from_str_radix(text, 16).map_err(serde::de::Error::custom)
    }
}
