//! Writing a feed's files: split at the spec's limits, optional gzip, and atomic: every part
//! goes to a temporary file in the target folder, is fsynced, and only renamed into place
//! when the whole feed is done ([`FeedFiles::publish`]). A failed run leaves the previous
//! files as they were.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::Renderer;
use super::direct::DirectWriter;
use super::file_set::FeedFiles;
use crate::spec::OnLimit;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write feed `{feed}` into `{dir}`")]
    Io {
        feed: String,
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "feed `{feed}` would exceed the channel's limit of {limit}; the spec says not to split it\n  hint: filter the feed down, or split it into several feeds"
    )]
    Limit { feed: String, limit: String },
    #[error(
        "feed `{feed}`: one record takes {record} bytes, more than the channel's limit of {limit} bytes per file, so no split can hold it; the record starts `{start}`\n  hint: shorten that item's long fields (description, image links) or filter it out"
    )]
    RecordTooLarge {
        feed: String,
        record: u64,
        limit: u64,
        start: String,
    },
}

impl OutputError {
    /// A write that failed is an output failure; a feed past a limit the spec forbids
    /// splitting is the data's size, like a guard.
    pub fn class(&self) -> crate::exit::ErrorClass {
        match self {
            OutputError::Io { .. } => crate::exit::ErrorClass::Output,
            OutputError::Limit { .. } | OutputError::RecordTooLarge { .. } => {
                crate::exit::ErrorClass::Data
            }
        }
    }
}

enum Sink {
    Plain(DirectWriter),
    Gzip(GzEncoder<DirectWriter>),
}

impl Sink {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(bytes),
            Sink::Gzip(w) => w.write_all(bytes),
        }
    }

    fn finish(self) -> std::io::Result<()> {
        let file = match self {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w.finish()?,
        };
        file.finish().map(drop)
    }
}

struct Part {
    temp: tempfile::TempPath,
    sink: Sink,
    items: u64,
    bytes: u64,
}

/// A part with its footer written and its data synced, waiting to be renamed. It holds no
/// open file or buffer: a feed split into hundreds of parts must not run out of handles.
/// Dropping it deletes the temp file.
struct Closed {
    temp: tempfile::TempPath,
    bytes: u64,
}

/// Summary of what a finished feed output wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    pub records: u64,
}

pub struct FeedOutput {
    feed: String,
    files: FeedFiles,
    header: Vec<u8>,
    footer: Vec<u8>,
    separator: Vec<u8>,
    max_items: Option<u64>,
    max_bytes: Option<u64>,
    on_limit: OnLimit,
    done: Vec<Closed>,
    current: Option<Part>,
    written: Written,
}

impl FeedOutput {
    pub fn new(renderer: &Renderer<'_>, dir: &Path) -> Result<FeedOutput, OutputError> {
        let feed = renderer.feed;
        let files = FeedFiles::new(dir, &feed.file_stem, &feed.format.extension, feed.gzip);
        let io = |source| OutputError::Io {
            feed: feed.id.clone(),
            dir: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        // A killed run's temporary files would otherwise stay for good.
        files.remove_leftover_temps().map_err(io)?;
        Ok(FeedOutput {
            feed: feed.id.clone(),
            files,
            header: renderer.header(),
            footer: renderer.footer(),
            separator: renderer.separator().to_vec(),
            max_items: feed.format.max_items,
            max_bytes: feed.format.max_bytes,
            on_limit: feed.format.on_limit,
            done: Vec::new(),
            current: None,
            written: Written::default(),
        })
    }

    fn io(&self, source: std::io::Error) -> OutputError {
        OutputError::Io {
            feed: self.feed.clone(),
            dir: self.files.dir().to_owned(),
            source,
        }
    }

    fn open_part(&self) -> Result<Part, OutputError> {
        let (file, temp) = self.files.temp_file().map_err(|e| self.io(e))?.into_parts();
        // Written through the descriptor the temp file was created with: reopening it by
        // name could follow a link someone put in its place.
        let file = DirectWriter::new(file).map_err(|e| self.io(e))?;
        let mut sink = if self.files.gzip() {
            Sink::Gzip(GzEncoder::new(file, Compression::default()))
        } else {
            Sink::Plain(file)
        };
        sink.write_all(&self.header).map_err(|e| self.io(e))?;
        Ok(Part {
            temp,
            sink,
            items: 0,
            bytes: self.header.len() as u64,
        })
    }

    /// Whether `len` more bytes as one more record would break a limit of the current part.
    fn would_overflow(&self, part: &Part, len: u64) -> bool {
        let items = self.max_items.is_some_and(|max| part.items + 1 > max);
        let bytes = self.max_bytes.is_some_and(|max| {
            part.bytes + self.separator.len() as u64 + len + self.footer.len() as u64 > max
        });
        part.items > 0 && (items || bytes)
    }

    /// Whether the current part (opened first if there is none) takes one more record of
    /// `len` bytes within its limits.
    fn room_for(&mut self, len: usize) -> Result<bool, OutputError> {
        if self.current.is_none() {
            self.current = Some(self.open_part()?);
        }
        Ok(!self
            .current
            .as_ref()
            .is_some_and(|part| self.would_overflow(part, len as u64)))
    }

    /// Appends one record. `number` gives json_document records their running number
    /// within the file.
    pub fn write(&mut self, renderer: &Renderer<'_>, record: &[u8]) -> Result<(), OutputError> {
        let overflow = !self.room_for(record.len())?;
        // A record that alone breaks the byte limit fits no file at all.
        if self.alone_too_big(record.len()) {
            let start = String::from_utf8_lossy(&record[..record.len().min(80)]);
            return Err(OutputError::RecordTooLarge {
                feed: self.feed.clone(),
                record: record.len() as u64,
                limit: self.max_bytes.unwrap_or_default(),
                start: start.trim().chars().filter(|c| !c.is_control()).collect(),
            });
        }
        if overflow {
            if self.on_limit == OnLimit::Fail {
                let limit = match (self.max_items, self.max_bytes) {
                    (Some(items), _)
                        if self.current.as_ref().is_some_and(|p| p.items + 1 > items) =>
                    {
                        format!("{items} items per file")
                    }
                    (_, Some(bytes)) => format!("{bytes} bytes per file"),
                    _ => "its file limits".into(),
                };
                return Err(OutputError::Limit {
                    feed: self.feed.clone(),
                    limit,
                });
            }
            if let Some(full) = self.current.take() {
                let closed = self.close(full)?;
                self.done.push(closed);
            }
            self.current = Some(self.open_part()?);
        }
        let separator = self.separator.clone();
        let Some(part) = self.current.as_mut() else {
            return Ok(());
        };
        let numbered = renderer.numbered(record, part.items + 1);
        let result = (|| {
            if part.items > 0 {
                part.sink.write_all(&separator)?;
                part.bytes += separator.len() as u64;
            }
            part.sink.write_all(&numbered)
        })();
        part.bytes += numbered.len() as u64;
        part.items += 1;
        self.written.records += 1;
        result.map_err(|e| self.io(e))
    }

    /// Appends the records of `bytes`, record `i` ending at `ends[i]`. Same files as one
    /// [`FeedOutput::write`] per record, but records that land in the same part are written
    /// with one call: a local inventory feed has tens of millions of short records.
    pub fn write_records(
        &mut self,
        renderer: &Renderer<'_>,
        bytes: &[u8],
        ends: &[usize],
    ) -> Result<(), OutputError> {
        if !self.separator.is_empty() || renderer.numbers_records() {
            let mut start = 0;
            for &end in ends {
                self.write(renderer, &bytes[start..end])?;
                start = end;
            }
            return Ok(());
        }
        // Records from `run` on are counted in the current part but not yet written.
        let mut run = 0;
        let mut start = 0;
        for &end in ends {
            let record = &bytes[start..end];
            if !self.room_for(record.len())? || self.alone_too_big(record.len()) {
                self.write_run(&bytes[run..start])?;
                // One record on the slow path: it rotates the part or reports the limit.
                self.write(renderer, record)?;
                run = end;
            } else if let Some(part) = self.current.as_mut() {
                part.bytes += record.len() as u64;
                part.items += 1;
                self.written.records += 1;
            }
            start = end;
        }
        self.write_run(&bytes[run..start])
    }

    /// Writes records already counted in the current part.
    fn write_run(&mut self, run: &[u8]) -> Result<(), OutputError> {
        let result = match self.current.as_mut() {
            Some(part) if !run.is_empty() => part.sink.write_all(run),
            _ => Ok(()),
        };
        result.map_err(|e| self.io(e))
    }

    fn alone_too_big(&self, len: usize) -> bool {
        self.max_bytes
            .is_some_and(|max| (self.header.len() + len + self.footer.len()) as u64 > max)
    }

    /// Ends a part: footer, remaining bytes, fsync; its write handles and buffer go.
    fn close(&self, mut part: Part) -> Result<Closed, OutputError> {
        part.sink.write_all(&self.footer).map_err(|e| self.io(e))?;
        part.bytes += self.footer.len() as u64;
        part.sink.finish().map_err(|e| self.io(e))?;
        Ok(Closed {
            temp: part.temp,
            bytes: part.bytes,
        })
    }

    /// Closes every part and renames them into place: `STEM.EXT` when there is one part,
    /// `STEM-NNNN.EXT` when the feed was split. Stale parts of this feed's earlier run go.
    pub fn commit(mut self) -> Result<Written, OutputError> {
        if self.current.is_none() && self.done.is_empty() {
            // An empty feed still gets its (empty) file, so readers see zero items.
            self.current = Some(self.open_part()?);
        }
        if let Some(last) = self.current.take() {
            let closed = self.close(last)?;
            self.done.push(closed);
        }
        let parts = std::mem::take(&mut self.done);
        let bytes: u64 = parts.iter().map(|part| part.bytes).sum();
        let temps = parts.into_iter().map(|part| part.temp).collect();
        let finals = self.files.publish(temps).map_err(|e| self.io(e))?;
        self.written.bytes = finals
            .iter()
            .map(|path| std::fs::metadata(path).map(|m| m.len()))
            .sum::<std::io::Result<u64>>()
            .unwrap_or(bytes);
        self.written.files = finals;
        Ok(self.written)
    }
}
