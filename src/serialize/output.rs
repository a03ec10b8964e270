//! Writing a feed's files: split at the spec's limits, optional gzip, and atomic: every part
//! goes to a temporary file in the target folder, is fsynced, and only renamed into place
//! when the whole feed is done. A failed run leaves the previous files as they were.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use tempfile::NamedTempFile;

use super::Renderer;
use super::direct::DirectWriter;
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
    temp: NamedTempFile,
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
    dir: PathBuf,
    stem: String,
    extension: String,
    gzip: bool,
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
        std::fs::create_dir_all(dir).map_err(|source| OutputError::Io {
            feed: feed.id.clone(),
            dir: dir.to_owned(),
            source,
        })?;
        Ok(FeedOutput {
            feed: feed.id.clone(),
            dir: dir.to_owned(),
            stem: feed.file_stem.clone(),
            extension: feed.format.extension.clone(),
            gzip: feed.gzip,
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
            dir: self.dir.clone(),
            source,
        }
    }

    fn open_part(&self) -> Result<Part, OutputError> {
        let mut builder = tempfile::Builder::new();
        let prefix = format!(".{}.", self.stem);
        builder.prefix(&prefix).suffix(".partial");
        // A temp file is owner-only (0600); the feed it becomes must be readable like any
        // file the user creates (0666 less the umask), e.g. by a web server or an uploader.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder.tempfile_in(&self.dir).map_err(|e| self.io(e))?;
        let file = DirectWriter::open(temp.path()).map_err(|e| self.io(e))?;
        let mut sink = if self.gzip {
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
            temp: part.temp.into_temp_path(),
            bytes: part.bytes,
        })
    }

    /// Closes every part and renames them into place: `STEM.EXT` when there is one part,
    /// `STEM-0001.EXT`, … when the feed was split. Stale parts of an earlier run go.
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
        let count = parts.len();
        let suffix = if self.gzip { ".gz" } else { "" };
        let mut finals = Vec::new();
        for (index, part) in parts.into_iter().enumerate() {
            let name = if count == 1 {
                format!("{}.{}{suffix}", self.stem, self.extension)
            } else {
                format!("{}-{:04}.{}{suffix}", self.stem, index + 1, self.extension)
            };
            let target = self.dir.join(name);
            part.temp.persist(&target).map_err(|e| self.io(e.error))?;
            self.written.bytes += std::fs::metadata(&target).map_or(part.bytes, |m| m.len());
            finals.push(target);
        }
        remove_stale_parts(&self.dir, &self.stem, &self.extension, &finals)
            .map_err(|e| self.io(e))?;
        // The renames are durable only once the folder itself is synced.
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| self.io(e))?;
        self.written.files = finals;
        Ok(self.written)
    }
}

/// Removes `STEM.EXT` and `STEM-NNNN.EXT` files (and their `.gz`) in `dir` that are not in
/// `keep`: the parts of an earlier, longer run of the same feed.
pub fn remove_stale_parts(
    dir: &Path,
    stem: &str,
    extension: &str,
    keep: &[PathBuf],
) -> std::io::Result<()> {
    let single = format!("{stem}.{extension}");
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let bare = name.strip_suffix(".gz").unwrap_or(&name);
        let numbered = bare
            .strip_prefix(&format!("{stem}-"))
            .and_then(|rest| rest.strip_suffix(&format!(".{extension}")))
            .is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()));
        let ours = numbered || bare == single;
        if ours && !keep.contains(&entry.path()) {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
