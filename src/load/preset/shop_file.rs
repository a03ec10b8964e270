//! A shop export read as a stream of records, as often as a preset needs to pass over it:
//! its header once, then each pass from the start, and single records again by where they
//! start (a variation's parent, read when the variation needs it).
//!
//! Nothing here holds more than one record per reader: memory stays flat however large
//! the export is.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Preset;
use super::rows::Sink;
use crate::diag::Finding;
use crate::load::line_counter::LineCounter;
use crate::load::table::LoadError;
use crate::rules;

pub(super) struct ShopFile {
    pub(super) label: Arc<str>,
    /// The file as configured, named in errors.
    path: PathBuf,
    /// Where the bytes are read from: `path`, or a copy of it when `path` is a pipe, which
    /// can be read only once.
    source: PathBuf,
    delimiter: u8,
    pub(super) header: Vec<String>,
    index: HashMap<String, usize>,
    /// Holds the copy of a pipe for as long as the file is read.
    _spool: Option<tempfile::TempPath>,
}

/// One row of the export: its cells, trimmed, back to back in one buffer that the next
/// record reuses.
#[derive(Default, Clone)]
pub(super) struct ShopRecord {
    /// 1-based line the row starts on: a multi-line cell makes the next row start later.
    pub(super) line: u64,
    /// Byte offset the row starts at, where [`ShopFile::record_at`] finds it again.
    pub(super) byte: u64,
    text: String,
    ends: Vec<usize>,
}

impl ShopRecord {
    fn cell(&self, index: usize) -> &str {
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1],
        };
        &self.text[start..self.ends[index]]
    }

    /// Fills the record from `raw`; the index of the first cell that is not UTF-8 when one
    /// is not.
    fn fill(&mut self, raw: &csv::ByteRecord, line: u64, byte: u64) -> Result<(), usize> {
        self.line = line;
        self.byte = byte;
        self.text.clear();
        self.ends.clear();
        for (i, cell) in raw.iter().enumerate() {
            let text = std::str::from_utf8(cell).map_err(|_| i)?;
            self.text.push_str(text.trim());
            self.ends.push(self.text.len());
        }
        Ok(())
    }
}

impl ShopFile {
    /// Reads the header and checks that the export is the one `preset` reads.
    pub(super) fn open(
        path: &Path,
        label: &Arc<str>,
        preset: Preset,
        delimiter: u8,
    ) -> Result<ShopFile, LoadError> {
        let open_error = |source| LoadError::Open {
            path: path.to_owned(),
            source,
        };
        let (source, spool) = if std::fs::metadata(path).map_err(open_error)?.is_file() {
            (path.to_owned(), None)
        } else {
            // A preset reads the export more than once; a pipe gives its bytes once.
            let mut input = File::open(path).map_err(open_error)?;
            let mut copy = tempfile::NamedTempFile::new().map_err(open_error)?;
            std::io::copy(&mut input, &mut copy).map_err(|err| LoadError::Read {
                path: path.to_owned(),
                line: 0,
                message: format!("copying the piped export to a temporary file: {err}"),
            })?;
            let copy = copy.into_temp_path();
            (copy.to_path_buf(), Some(copy))
        };
        let mut head = Vec::with_capacity(64);
        File::open(&source)
            .map_err(open_error)?
            .take(64)
            .read_to_end(&mut head)
            .map_err(open_error)?;
        let layout = |message: String, hint: String| LoadError::Layout {
            path: path.to_owned(),
            message,
            hint,
        };
        if let Some(encoding) = crate::load::table::wide_encoding(&head) {
            return Err(layout(
                format!("the file is {encoding}, not UTF-8"),
                "export it again from the shop (its exports are UTF-8), or convert it with iconv -f UTF-16 -t UTF-8".into(),
            ));
        }
        let mut file = ShopFile {
            label: Arc::clone(label),
            path: path.to_owned(),
            source,
            delimiter,
            header: Vec::new(),
            index: HashMap::new(),
            _spool: spool,
        };
        let mut reader = file.reader_from_start()?;
        file.header = reader
            .byte_headers()
            .map_err(|err| file.read_error(&err))?
            .iter()
            .map(|cell| String::from_utf8_lossy(cell).trim().to_owned())
            .collect();
        for (i, name) in file.header.iter().enumerate() {
            file.index.entry(name.clone()).or_insert(i);
        }
        let missing: Vec<&str> = preset
            .signature()
            .iter()
            .copied()
            .filter(|name| !file.index.contains_key(*name))
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
                    file.header
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(file)
    }

    fn open_source(&self) -> Result<File, LoadError> {
        File::open(&self.source).map_err(|source| LoadError::Open {
            path: self.path.clone(),
            source,
        })
    }

    fn builder(&self) -> csv::ReaderBuilder {
        let mut builder = csv::ReaderBuilder::new();
        // The shops write commas and double quotes (a spreadsheet that saved the file again
        // may have used `;`: `delimiter`); the csv crate drops a UTF-8 byte order mark.
        builder.delimiter(self.delimiter).flexible(true);
        builder
    }

    fn reader_from_start(&self) -> Result<csv::Reader<LineCounter<BufReader<File>>>, LoadError> {
        let input = BufReader::with_capacity(1 << 20, self.open_source()?);
        Ok(self.builder().from_reader(LineCounter::new(input)))
    }

    fn read_error(&self, err: &csv::Error) -> LoadError {
        LoadError::Read {
            path: self.path.clone(),
            line: err.position().map_or(0, csv::Position::line),
            message: err.to_string(),
        }
    }

    /// A pass over every row, from the first after the header.
    pub(super) fn records(self: &Arc<Self>) -> Result<Records, LoadError> {
        let mut reader = self.reader_from_start()?;
        reader.byte_headers().map_err(|err| self.read_error(&err))?;
        Ok(Records {
            file: Arc::clone(self),
            reader,
            raw: csv::ByteRecord::new(),
        })
    }

    /// The row that starts at `byte` (a [`ShopRecord::byte`] of an earlier pass) on `line`.
    pub(super) fn record_at(
        &self,
        byte: u64,
        line: u64,
        record: &mut ShopRecord,
    ) -> Result<(), LoadError> {
        let changed = || self.changed(line);
        let mut input = self.open_source()?;
        input
            .seek(SeekFrom::Start(byte))
            .map_err(|err| LoadError::Read {
                path: self.path.clone(),
                line,
                message: err.to_string(),
            })?;
        let mut reader = self
            .builder()
            .has_headers(false)
            .from_reader(BufReader::with_capacity(64 << 10, input));
        let mut raw = csv::ByteRecord::new();
        match reader.read_byte_record(&mut raw) {
            Ok(true) if raw.len() == self.header.len() => {
                record.fill(&raw, line, byte).map_err(|_| changed())
            }
            Ok(_) => Err(changed()),
            Err(err) => Err(self.read_error(&err)),
        }
    }

    /// The export gave other rows in a later pass than in an earlier one.
    pub(super) fn changed(&self, line: u64) -> LoadError {
        LoadError::Read {
            path: self.path.clone(),
            line,
            message: "the export changed while it was read; run again once the shop has finished writing it".into(),
        }
    }

    /// An export whose rows cannot be read as the shop writes them.
    pub(super) fn layout(&self, message: String, hint: String) -> LoadError {
        LoadError::Layout {
            path: self.path.clone(),
            message,
            hint,
        }
    }

    /// The cell of `column` in `record`; empty when the export has no such column.
    pub(super) fn get<'r>(&self, record: &'r ShopRecord, column: &str) -> &'r str {
        self.index.get(column).map_or("", |&i| record.cell(i))
    }

    pub(super) fn has(&self, column: &str) -> bool {
        self.index.contains_key(column)
    }

    /// The positions of the columns `read` says no, in header order: the ones whose cells
    /// become custom attributes. Worked out once, not per row.
    pub(super) fn unread_columns(&self, read: impl Fn(&str) -> bool) -> Vec<usize> {
        (0..self.header.len())
            .filter(|&i| !read(&self.header[i]))
            .collect()
    }

    /// The columns at `positions` with their cells in `record`.
    pub(super) fn cells_at<'r>(
        &'r self,
        record: &'r ShopRecord,
        positions: &'r [usize],
    ) -> impl Iterator<Item = (&'r str, &'r str)> + 'r {
        positions
            .iter()
            .map(|&i| (self.header[i].as_str(), record.cell(i)))
    }
}

/// One pass over the export's rows.
pub(super) struct Records {
    file: Arc<ShopFile>,
    reader: csv::Reader<LineCounter<BufReader<File>>>,
    raw: csv::ByteRecord,
}

impl Records {
    /// Reads the next row that can be read into `record`; false at the end. Rows that
    /// cannot (ragged, not UTF-8) become findings for `sink` and are passed over; rows of
    /// nothing but empty cells, which spreadsheets leave after the data, are passed over
    /// silently.
    pub(super) fn next(
        &mut self,
        record: &mut ShopRecord,
        sink: &mut dyn Sink,
    ) -> Result<bool, LoadError> {
        let file = &*self.file;
        loop {
            match self.reader.read_byte_record(&mut self.raw) {
                Ok(false) => return Ok(false),
                Ok(true) => {}
                Err(err) => return Err(file.read_error(&err)),
            }
            let raw = &self.raw;
            // The csv crate's own line count skips line breaks inside quoted cells.
            let byte = raw.position().map_or(0, csv::Position::byte);
            let line = self.reader.get_mut().line_at(byte);
            if raw.iter().all(|cell| cell.trim_ascii().is_empty()) {
                continue;
            }
            if raw.len() != file.header.len() {
                sink.finding(
                    Finding::new(
                        &rules::RAGGED_ROW,
                        &file.label,
                        format!(
                            "row has {} cells, the header has {}: a quote in a cell was probably not doubled, so cells ran together",
                            raw.len(),
                            file.header.len()
                        ),
                    )
                    .line(line),
                );
                continue;
            }
            match record.fill(raw, line, byte) {
                Ok(()) => return Ok(true),
                Err(i) => sink.finding(
                    Finding::new(
                        &rules::INVALID_UTF8,
                        &file.label,
                        format!("column `{}` is not UTF-8", file.header[i]),
                    )
                    .line(line),
                ),
            }
        }
    }
}
