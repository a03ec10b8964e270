//! Reads one input table (CSV, TSV or JSON Lines) into batches of raw rows. Rows stay bytes
//! here; turning them into typed values is the next stage's job, done in parallel.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use csv::ByteRecord;

use super::line_counter::{LineCounter, LineEnding};
use crate::config::RawTable;
use crate::diag::Finding;
use crate::rules;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "cannot open catalog file `{path}`\n  hint: check [catalog] dir and the table's `file` in omnifeed.toml, or --catalog DIR"
    )]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read `{path}` near line {line}: {message}")]
    Read {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("`{path}`: {message}\n  hint: {hint}")]
    Layout {
        path: PathBuf,
        message: String,
        hint: String,
    },
}

impl LoadError {
    /// A catalog file that cannot be read as configured: fixed in the config or the file's
    /// layout, before any row is judged.
    pub fn class(&self) -> crate::exit::ErrorClass {
        crate::exit::ErrorClass::Config
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Delimited { delimiter: u8, quote: u8 },
    JsonLines,
}

impl TableFormat {
    pub fn from_config(table: &RawTable, path: &Path) -> Result<TableFormat, LoadError> {
        let layout = |message: String, hint: &str| LoadError::Layout {
            path: path.to_owned(),
            message,
            hint: hint.to_owned(),
        };
        let one_byte = |value: &Option<String>, default: u8, what: &str| match value {
            None => Ok(default),
            Some(text) if text == "\\t" => Ok(b'\t'),
            Some(text) if text.len() == 1 => Ok(text.as_bytes()[0]),
            Some(text) => Err(layout(
                format!("{what} `{text}` must be one ASCII character"),
                "write e.g. delimiter = \";\" or delimiter = \"\\t\"",
            )),
        };
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let format = table.format.clone().unwrap_or(match extension.as_str() {
            "tsv" | "tab" | "txt" => "tsv".into(),
            "jsonl" | "ndjson" => "jsonl".into(),
            _ => "csv".into(),
        });
        match format.as_str() {
            "csv" => Ok(TableFormat::Delimited {
                delimiter: one_byte(&table.delimiter, b',', "delimiter")?,
                quote: one_byte(&table.quote, b'"', "quote")?,
            }),
            "tsv" => Ok(TableFormat::Delimited {
                delimiter: b'\t',
                quote: one_byte(&table.quote, b'"', "quote")?,
            }),
            "jsonl" => Ok(TableFormat::JsonLines),
            other => Err(layout(
                format!("unknown format `{other}`"),
                "use format = \"csv\", \"tsv\" or \"jsonl\"",
            )),
        }
    }
}

/// Column names as the file spells them. JSON Lines tables grow it as new keys show up.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub names: Vec<Arc<str>>,
    /// Name -> position, first of its name: rows of JSON Lines look every key up, and
    /// a scan per key was quadratic in the keys of a row.
    positions: HashMap<Arc<str>, usize>,
}

impl Header {
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.positions.get(name).copied()
    }

    /// Adds a column; returns false when one of that name is there already.
    fn push(&mut self, name: Arc<str>) -> bool {
        let fresh = match self.positions.entry(Arc::clone(&name)) {
            Entry::Occupied(_) => false,
            Entry::Vacant(slot) => {
                slot.insert(self.names.len());
                true
            }
        };
        self.names.push(name);
        fresh
    }

    /// The column names as a hint lists them: `a`, `b`, `c`.
    pub fn list(&self) -> String {
        self.names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Where one row is in its [`Batch`]; [`Batch::cells`] gives its cells.
#[derive(Debug, Clone, Copy)]
pub struct RawRow {
    /// 1-based line where the row starts.
    pub line: u64,
    /// Byte offset of the row's start in the file.
    pub byte: u64,
    /// Where its first cell starts in the batch's bytes.
    start: usize,
    /// Where its cell ends start in the batch's ends, and how many cells it has.
    first: usize,
    width: usize,
}

/// A run of consecutive rows read under one header. The rows' cells are kept back to back
/// in one buffer per batch: a heap record per row, refilled on the reader's core after a
/// worker on the other core last touched it, cost a cache miss or three per row.
#[derive(Debug)]
pub struct Batch {
    pub header: Arc<Header>,
    pub rows: Vec<RawRow>,
    /// Rows the reader could not hand on (ragged, not JSON), already reported.
    pub findings: Vec<Finding>,
    bytes: Vec<u8>,
    /// Where each cell ends in `bytes`, row after row.
    ends: Vec<usize>,
}

impl Batch {
    pub fn cells(&self, row: &RawRow) -> RowCells<'_> {
        RowCells {
            bytes: &self.bytes,
            ends: &self.ends[row.first..row.first + row.width],
            start: row.start,
        }
    }

    fn into_spare(self) -> Spare {
        Spare {
            rows: self.rows,
            bytes: self.bytes,
            ends: self.ends,
        }
    }
}

/// One row's cells, borrowed from its batch.
#[derive(Debug, Clone, Copy)]
pub struct RowCells<'b> {
    bytes: &'b [u8],
    ends: &'b [usize],
    start: usize,
}

impl<'b> RowCells<'b> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&'b [u8]> {
        let end = *self.ends.get(index)?;
        let start = match index {
            0 => self.start,
            _ => self.ends[index - 1],
        };
        self.bytes.get(start..end)
    }

    /// Every cell's bytes, back to back.
    pub fn as_slice(&self) -> &'b [u8] {
        let end = self.ends.last().copied().unwrap_or(self.start);
        &self.bytes[self.start..end]
    }

    pub fn iter(&self) -> impl Iterator<Item = &'b [u8]> + use<'b> {
        let cells = *self;
        (0..cells.len()).filter_map(move |index| cells.get(index))
    }
}

/// The buffers of a consumed batch, for the reader to refill.
#[derive(Debug, Default)]
pub struct Spare {
    rows: Vec<RawRow>,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Spare {
    /// Appends a row made of `cells`.
    fn push<'c>(&mut self, line: u64, byte: u64, cells: impl IntoIterator<Item = &'c [u8]>) {
        let (start, first) = (self.bytes.len(), self.ends.len());
        for cell in cells {
            self.bytes.extend_from_slice(cell);
            self.ends.push(self.bytes.len());
        }
        self.rows.push(RawRow {
            line,
            byte,
            start,
            first,
            width: self.ends.len() - first,
        });
    }
}

pub struct TableReader {
    pub path: PathBuf,
    pub label: Arc<str>,
    header: Arc<Header>,
    source: Source,
    /// The record every delimited row is parsed into before it joins its batch.
    scratch: ByteRecord,
}

enum Source {
    /// Rows a preset makes from a shop export as it reads it (boxed: its readers are
    /// large, and every table reader would otherwise be as large).
    Prepared(Box<super::preset::PresetRows>),
    Delimited(csv::Reader<LineCounter<Box<dyn Read + Send>>>),
    JsonLines {
        input: BufReader<Box<dyn Read + Send>>,
        line: u64,
        byte: u64,
        buf: Vec<u8>,
    },
}

impl TableReader {
    pub fn open(
        path: &Path,
        format: TableFormat,
        label: Arc<str>,
    ) -> Result<TableReader, LoadError> {
        let file = File::open(path).map_err(|source| LoadError::Open {
            path: path.to_owned(),
            source,
        })?;
        let input: Box<dyn Read + Send> = Box::new(file);
        Self::from_reader(input, path, format, label)
    }

    pub fn from_reader(
        input: Box<dyn Read + Send>,
        path: &Path,
        format: TableFormat,
        label: Arc<str>,
    ) -> Result<TableReader, LoadError> {
        // Peeked at, not reopened: the input may be a pipe.
        let mut head = Vec::with_capacity(UTF16_PROBE);
        let mut input = input;
        (&mut input)
            .take(UTF16_PROBE as u64)
            .read_to_end(&mut head)
            .map_err(|err| LoadError::Read {
                path: path.to_owned(),
                line: 1,
                message: err.to_string(),
            })?;
        if let Some(encoding) = wide_encoding(&head) {
            return Err(LoadError::Layout {
                path: path.to_owned(),
                message: format!("the file is {encoding}, not UTF-8"),
                hint: "save it as UTF-8 (in Excel: Save As, \"CSV UTF-8\"; or iconv -f UTF-16 -t UTF-8)"
                    .into(),
            });
        }
        let input: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(head).chain(input));
        match format {
            TableFormat::Delimited { delimiter, quote } => {
                let mut reader = csv::ReaderBuilder::new()
                    .delimiter(delimiter)
                    .quote(quote)
                    // Ragged rows become findings, not a fatal error for the whole file.
                    .flexible(true)
                    .buffer_capacity(1 << 20)
                    .from_reader(LineCounter::new(input));
                let header = reader
                    .byte_headers()
                    .map_err(|err| read_error(path, &err))?;
                let layout = |message: String, hint: &str| LoadError::Layout {
                    path: path.to_owned(),
                    message,
                    hint: hint.to_owned(),
                };
                let mut names: Vec<&str> = Vec::with_capacity(header.len());
                for (i, raw) in header.iter().enumerate() {
                    let name = std::str::from_utf8(raw).map_err(|_| {
                        layout(
                            format!("header cell {} is not valid UTF-8", i + 1),
                            "save the file as UTF-8",
                        )
                    })?;
                    names.push(name.trim());
                }
                if names.iter().all(|n| n.is_empty()) {
                    return Err(layout(
                        "the file is empty or has no header row".into(),
                        "the first row must name the columns, e.g. sku,title,price,currency",
                    ));
                }
                let mut columns = Header::default();
                for (i, name) in names.iter().enumerate() {
                    if name.is_empty() {
                        // Its values would have no field to go to, and vanish unseen.
                        let after = names[..i].iter().rev().find(|n| !n.is_empty());
                        let place = after.map_or("first".into(), |n| format!("after `{n}`"));
                        return Err(layout(
                            format!("header cell {} ({place}) has no column name", i + 1),
                            "name the column, or delete it with its values (a delimiter at the end of the header row makes such a cell too)",
                        ));
                    }
                    if !columns.push(Arc::from(*name)) {
                        // Which of the two holds the value would be a silent guess.
                        return Err(layout(
                            format!("column `{name}` appears twice in the header"),
                            "rename or remove one of them",
                        ));
                    }
                }
                Ok(TableReader {
                    path: path.to_owned(),
                    label,
                    header: Arc::new(columns),
                    source: Source::Delimited(reader),
                    scratch: ByteRecord::new(),
                })
            }
            TableFormat::JsonLines => Ok(TableReader {
                path: path.to_owned(),
                label,
                header: Arc::new(Header::default()),
                source: Source::JsonLines {
                    input: BufReader::with_capacity(1 << 20, input),
                    line: 0,
                    byte: 0,
                    buf: Vec::new(),
                },
                scratch: ByteRecord::new(),
            }),
        }
    }

    /// A reader over the rows a preset makes of a shop export, under `header`.
    pub fn prepared(
        path: &Path,
        label: Arc<str>,
        header: &[String],
        rows: super::preset::PresetRows,
    ) -> TableReader {
        let mut names = Header::default();
        for name in header {
            names.push(Arc::from(name.as_str()));
        }
        TableReader {
            path: path.to_owned(),
            label,
            header: Arc::new(names),
            source: Source::Prepared(Box::new(rows)),
            scratch: ByteRecord::new(),
        }
    }

    pub fn header(&self) -> &Arc<Header> {
        &self.header
    }

    /// Returns `None` at the end of the file.
    /// Reads up to `max` rows into the buffers of an earlier batch.
    pub fn next_batch(&mut self, max: usize, spare: Spare) -> Result<Option<Batch>, LoadError> {
        let mut out = spare;
        out.rows.clear();
        out.bytes.clear();
        out.ends.clear();
        out.rows.reserve(max);
        let mut findings = Vec::new();
        let ended = match &mut self.source {
            Source::Prepared(rows) => rows.fill(
                max,
                &mut |line, byte, cells| out.push(line, byte, cells.iter().map(|c| c.as_bytes())),
                &mut findings,
            )?,
            Source::Delimited(reader) => {
                let width = self.header.names.len();
                let record = &mut self.scratch;
                let mut ended = false;
                while out.rows.len() < max {
                    match reader.read_byte_record(record) {
                        Ok(false) => {
                            ended = true;
                            break;
                        }
                        Ok(true) => {}
                        Err(err) => return Err(read_error(&self.path, &err)),
                    }
                    let byte = record.position().map_or(0, csv::Position::byte);
                    let line = reader.get_mut().line_at(byte);
                    if record.len() != width {
                        let mut message =
                            format!("row has {} cells, the header has {width}", record.len());
                        let ending = reader.get_ref().ending();
                        message.push_str(&open_quote(record, line, ending, &self.header));
                        findings.push(
                            Finding::new(&rules::RAGGED_ROW, &self.label, message)
                                .line(line)
                                .sku(
                                    std::str::from_utf8(record.get(0).unwrap_or_default())
                                        .unwrap_or(""),
                                ),
                        );
                        continue;
                    }
                    out.push(line, byte, record.iter());
                }
                ended
            }
            Source::JsonLines {
                input,
                line,
                byte,
                buf,
            } => {
                let mut header = None::<Header>;
                let mut ended = false;
                while out.rows.len() < max {
                    buf.clear();
                    let read = input
                        .read_until(b'\n', buf)
                        .map_err(|err| LoadError::Read {
                            path: self.path.clone(),
                            line: *line + 1,
                            message: err.to_string(),
                        })?;
                    if read == 0 {
                        ended = true;
                        break;
                    }
                    *line += 1;
                    let row_byte = *byte;
                    *byte += read as u64;
                    let text = buf.trim_ascii();
                    if text.is_empty() {
                        continue;
                    }
                    let object = match serde_json::from_slice::<Members>(text) {
                        Ok(Members(object)) => object,
                        Err(err) => {
                            let rule = if std::str::from_utf8(text).is_err() {
                                &rules::INVALID_UTF8
                            } else {
                                &rules::INVALID_JSON
                            };
                            findings.push(
                                Finding::new(
                                    rule,
                                    &self.label,
                                    format!("not a JSON object: {err}"),
                                )
                                .line(*line),
                            );
                            continue;
                        }
                    };
                    let header = header.get_or_insert_with(|| (*self.header).clone());
                    let mut cells = vec![String::new(); header.names.len()];
                    for (key, value) in object {
                        let index = match header.index_of(&key) {
                            Some(index) => index,
                            None => {
                                header.push(Arc::from(key.as_str()));
                                cells.push(String::new());
                                header.names.len() - 1
                            }
                        };
                        cells[index] = json_cell(value);
                    }
                    out.push(*line, row_byte, cells.iter().map(|cell| cell.as_bytes()));
                }
                if let Some(header) = header {
                    self.header = Arc::new(header);
                }
                ended
            }
        };
        if ended && out.rows.is_empty() && findings.is_empty() {
            return Ok(None);
        }
        Ok(Some(Batch {
            header: Arc::clone(&self.header),
            rows: out.rows,
            findings,
            bytes: out.bytes,
            ends: out.ends,
        }))
    }
}

/// For a ragged row with a cell over several lines, most likely a quote that was never
/// closed: where it opened and how far it reached (the rows in between were read as that
/// one cell). Empty otherwise.
fn open_quote(record: &ByteRecord, line: u64, ending: LineEnding, header: &Header) -> String {
    // A quote open at the end of the file holds its last line break too, after the last line.
    let breaks: Vec<u64> = record
        .iter()
        .map(|cell| ending.count_in(cell.trim_ascii_end()))
        .collect();
    let Some((widest, &spanned)) = breaks
        .iter()
        .enumerate()
        .max_by_key(|&(index, &count)| (count, std::cmp::Reverse(index)))
        .filter(|&(_, &count)| count > 0)
    else {
        return String::new();
    };
    let opened = line + breaks[..widest].iter().sum::<u64>();
    let column = header
        .names
        .get(widest)
        .map_or(String::new(), |name| format!(" (`{name}`)"));
    format!(
        ": a quote opened in cell {}{column} on line {opened} runs to line {}, so those lines were read as one cell; close the quote, or double a quote that is part of the text (\"\")",
        widest + 1,
        opened + spanned
    )
}

/// Bytes read to tell a UTF-16 or UTF-32 file from UTF-8.
const UTF16_PROBE: usize = 64;

/// The encoding of a file starting with `head`, when it is one of the wide ones that spreadsheet
/// tools save as "Unicode text": by its byte order mark, or, without one, by the zero byte
/// that every ASCII character of a header then carries.
pub fn wide_encoding(head: &[u8]) -> Option<&'static str> {
    let marked = [
        (&[0xFF, 0xFE, 0, 0][..], "UTF-32 (little-endian)"),
        (&[0, 0, 0xFE, 0xFF][..], "UTF-32 (big-endian)"),
        (&[0xFF, 0xFE][..], "UTF-16 (little-endian)"),
        (&[0xFE, 0xFF][..], "UTF-16 (big-endian)"),
    ];
    if let Some((_, name)) = marked.iter().find(|(bom, _)| head.starts_with(bom)) {
        return Some(name);
    }
    let pairs = &head[..head.len() / 2 * 2];
    if pairs.len() < 4 {
        return None;
    }
    let every = |zero: usize| {
        pairs
            .chunks_exact(2)
            .all(|pair| pair[zero] == 0 && pair[1 - zero] != 0)
    };
    if every(1) {
        Some("UTF-16 (little-endian, no byte order mark)")
    } else if every(0) {
        Some("UTF-16 (big-endian, no byte order mark)")
    } else {
        None
    }
}

/// A JSON object's members in the line's order. serde_json's own map sorts them into a
/// tree, which took most of the time of a line with thousands of keys.
struct Members(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Members, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0));
                // A key given twice keeps its last value, as with serde_json's map.
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

/// JSON values become cell text: strings as they are, arrays of scalars joined with `|`
/// (the default list separator), anything else as JSON text.
fn json_cell(value: serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => String::new(),
        Value::String(text) => text,
        Value::Array(items) if items.iter().all(|v| !v.is_array() && !v.is_object()) => items
            .into_iter()
            .map(json_cell)
            .collect::<Vec<_>>()
            .join("|"),
        other => other.to_string(),
    }
}

fn read_error(path: &Path, err: &csv::Error) -> LoadError {
    LoadError::Read {
        path: path.to_owned(),
        line: err.position().map_or(0, |p| p.line()),
        message: err.to_string(),
    }
}

/// Runs `reader` on its own thread, handing batches to `consume` in file order, so parsing
/// the next batch overlaps with processing this one. Consumed batches go back to the reader
/// to be refilled: reallocating millions of rows costs more than parsing them.
pub fn stream<F>(
    mut reader: TableReader,
    batch_rows: usize,
    mut consume: F,
) -> Result<(), anyhow::Error>
where
    F: FnMut(&Batch) -> Result<(), anyhow::Error>,
{
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Result<Batch, LoadError>>(2);
        let (recycle, recycled) = std::sync::mpsc::sync_channel::<Spare>(4);
        let producer = scope.spawn(move || {
            loop {
                let spare = recycled.try_recv().unwrap_or_default();
                match reader.next_batch(batch_rows, spare) {
                    Ok(Some(batch)) => {
                        if sender.send(Ok(batch)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(err) => {
                        let _ = sender.send(Err(err));
                        return;
                    }
                }
            }
        });
        let mut outcome = Ok(());
        for batch in receiver.iter() {
            match batch {
                Ok(batch) => {
                    if let Err(err) = consume(&batch) {
                        outcome = Err(err);
                        break;
                    }
                    // A full recycle queue just means the reader has spares enough.
                    let _ = recycle.try_send(batch.into_spare());
                }
                Err(err) => {
                    outcome = Err(err.into());
                    break;
                }
            }
        }
        // Dropping the receiver ends the producer at its next send.
        drop(receiver);
        // A reader that died must not pass for the end of the file.
        if producer.join().is_err() && outcome.is_ok() {
            outcome = Err(anyhow::anyhow!("the catalog reader thread panicked"));
        }
        outcome
    })
}
