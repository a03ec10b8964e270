//! A shop export read whole: its header, and every row with the line it starts on.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::Preset;
use crate::diag::Finding;
use crate::load::line_counter::LineCounter;
use crate::load::table::LoadError;
use crate::rules;

pub(super) struct ShopFile {
    pub(super) label: Arc<str>,
    pub(super) header: Vec<String>,
    index: HashMap<String, usize>,
    pub(super) records: Vec<ShopRecord>,
    /// Rows that could not be read (ragged, not UTF-8), already reported.
    pub(super) findings: Vec<Finding>,
}

pub(super) struct ShopRecord {
    /// 1-based line the row starts on: a multi-line cell makes the next row start later.
    pub(super) line: u64,
    pub(super) byte: u64,
    cells: Vec<String>,
}

impl ShopFile {
    pub(super) fn read(
        path: &Path,
        label: &Arc<str>,
        preset: Preset,
        delimiter: u8,
    ) -> Result<ShopFile, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Open {
            path: path.to_owned(),
            source,
        })?;
        let layout = |message: String, hint: String| LoadError::Layout {
            path: path.to_owned(),
            message,
            hint,
        };
        if let Some(encoding) = crate::load::table::wide_encoding(&bytes[..bytes.len().min(64)]) {
            return Err(layout(
                format!("the file is {encoding}, not UTF-8"),
                "export it again from the shop (its exports are UTF-8), or convert it with iconv -f UTF-16 -t UTF-8".into(),
            ));
        }
        // The shops write commas and double quotes (a spreadsheet that saved the file again
        // may have used `;`: `delimiter`); the csv crate drops a UTF-8 byte order mark.
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(LineCounter::new(bytes.as_slice()));
        let header: Vec<String> = reader
            .byte_headers()
            .map_err(|err| LoadError::Read {
                path: path.to_owned(),
                line: 1,
                message: err.to_string(),
            })?
            .iter()
            .map(|cell| String::from_utf8_lossy(cell).trim().to_owned())
            .collect();
        let mut index = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            index.entry(name.clone()).or_insert(i);
        }
        let missing: Vec<&str> = preset
            .signature()
            .iter()
            .copied()
            .filter(|name| !index.contains_key(*name))
            .collect();
        if !missing.is_empty() {
            return Err(layout(
                format!(
                    "preset `{}` reads a {}, but the header lacks {}",
                    preset.name(),
                    preset.title(),
                    missing
                        .iter()
                        .map(|name| format!("`{name}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!(
                    "give the file as the shop exported it (a spreadsheet may have renamed columns), or pick the right preset; `omnifeed init FILE` detects it. The header has: {}",
                    header
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let mut file = ShopFile {
            label: Arc::clone(label),
            header,
            index,
            records: Vec::new(),
            findings: Vec::new(),
        };
        let mut record = csv::ByteRecord::new();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(err) => {
                    return Err(LoadError::Read {
                        path: path.to_owned(),
                        line: err.position().map_or(0, csv::Position::line),
                        message: err.to_string(),
                    });
                }
            }
            // The csv crate's own line count skips line breaks inside quoted cells.
            let byte = record.position().map_or(0, csv::Position::byte);
            let line = reader.get_mut().line_at(byte);
            if record.iter().all(|cell| cell.trim_ascii().is_empty()) {
                // Spreadsheets leave rows of empty cells after the data.
                continue;
            }
            if record.len() != file.header.len() {
                file.findings.push(
                    Finding::new(
                        &rules::RAGGED_ROW,
                        label,
                        format!(
                            "row has {} cells, the header has {}: a quote in a cell was probably not doubled, so cells ran together",
                            record.len(),
                            file.header.len()
                        ),
                    )
                    .line(line),
                );
                continue;
            }
            let mut cells = Vec::with_capacity(record.len());
            let mut bad = None;
            for (i, cell) in record.iter().enumerate() {
                match std::str::from_utf8(cell) {
                    Ok(text) => cells.push(text.trim().to_owned()),
                    Err(_) => {
                        bad = Some(i);
                        break;
                    }
                }
            }
            if let Some(i) = bad {
                file.findings.push(
                    Finding::new(
                        &rules::INVALID_UTF8,
                        label,
                        format!("column `{}` is not UTF-8", file.header[i]),
                    )
                    .line(line),
                );
                continue;
            }
            file.records.push(ShopRecord { line, byte, cells });
        }
        Ok(file)
    }

    /// The cell of `column` in `record`; empty when the export has no such column.
    pub(super) fn get<'r>(&self, record: &'r ShopRecord, column: &str) -> &'r str {
        self.index
            .get(column)
            .map_or("", |&i| record.cells[i].as_str())
    }

    pub(super) fn has(&self, column: &str) -> bool {
        self.index.contains_key(column)
    }

    /// Every column with its cell, in header order.
    pub(super) fn cells<'r>(
        &'r self,
        record: &'r ShopRecord,
    ) -> impl Iterator<Item = (&'r str, &'r str)> + 'r {
        self.header
            .iter()
            .zip(&record.cells)
            .map(|(name, cell)| (name.as_str(), cell.as_str()))
    }
}
