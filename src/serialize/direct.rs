//! A file writer that sends whole aligned blocks past the page cache (`O_DIRECT` on Linux).
//!
//! A million-item export writes gigabytes. Through the page cache every byte is copied
//! once more by the kernel, and the dirty pages are written back by kernel threads on the
//! same cores before the final fsync: on the 2-core benchmark machine that was about a
//! sixth of all CPU time. Direct writes hand the buffer to the disk instead. Only full
//! blocks go direct; the tail of the file, and any file system that refuses direct I/O
//! (`EINVAL`), take the ordinary path, so the result is the same file either way. Every
//! other error is reported, never retried on the other path.
//!
//! The writer switches `O_DIRECT` on and off on the descriptor it is given (the one the
//! temporary file was created with), so it writes exactly the file that will be renamed.
//! `OMNIFEED_DIRECT_IO=off` in the environment forces the ordinary path, for benchmarks
//! and for comparing the two.

use std::fs::File;
use std::io::{self, Write};

/// Direct I/O wants buffer addresses, lengths and file offsets aligned to the device's
/// logical block size; 4 KiB covers every common device.
const ALIGN: usize = 4096;
/// Bytes gathered before one write: large enough that the disk streams, small enough to
/// stay out of the peak memory.
const CHUNK: usize = 4 << 20;

/// The environment variable that turns direct writes off when set to `off`.
pub(crate) const DIRECT_IO_VAR: &str = "OMNIFEED_DIRECT_IO";

/// How the bytes of one file went out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DirectStats {
    /// Bytes written with `O_DIRECT`.
    pub(crate) direct: u64,
    /// Bytes written through the page cache.
    pub(crate) cached: u64,
}

pub(crate) struct DirectWriter {
    file: File,
    /// Whether `O_DIRECT` is on for `file`: off from the start when refused or forced off,
    /// and for good once a direct write is refused.
    direct: bool,
    /// `CHUNK + ALIGN` bytes; the chunk starts at `start`, the first aligned address.
    buffer: Vec<u8>,
    start: usize,
    filled: usize,
    /// Bytes already handed to the file.
    offset: u64,
    stats: DirectStats,
}

impl DirectWriter {
    /// Writes into `file` (open for writing, empty) from its start, directly unless
    /// [`DIRECT_IO_VAR`] is `off`.
    pub(crate) fn new(file: File) -> io::Result<DirectWriter> {
        let wanted = std::env::var(DIRECT_IO_VAR).map_or(true, |value| value != "off");
        DirectWriter::with_direct(file, wanted)
    }

    /// Like [`DirectWriter::new`], trying direct writes only when `wanted`.
    pub(crate) fn with_direct(file: File, wanted: bool) -> io::Result<DirectWriter> {
        let direct = wanted && accepted_unless_einval(set_direct(&file, true))?;
        let buffer = vec![0u8; CHUNK + ALIGN];
        let start = buffer.as_ptr().align_offset(ALIGN).min(ALIGN);
        Ok(DirectWriter {
            file,
            direct,
            buffer,
            start,
            filled: 0,
            offset: 0,
            stats: DirectStats::default(),
        })
    }

    /// Writes the gathered bytes: whole blocks directly when possible, the rest only when
    /// `all` (at the end), since a partial block cannot go direct.
    fn drain(&mut self, all: bool) -> io::Result<()> {
        let aligned = self.filled - self.filled % ALIGN;
        let mut written = 0;
        if aligned > 0 && self.direct {
            let chunk = &self.buffer[self.start..self.start + aligned];
            if accepted_unless_einval(write_at(&self.file, self.offset, chunk))? {
                written = aligned;
                self.stats.direct += aligned as u64;
            } else {
                // This file system or device wants another alignment: the ordinary path
                // writes the same bytes at the same offset, over anything partly written.
                self.plain()?;
            }
        }
        let end = if all || !self.direct {
            self.filled
        } else {
            written
        };
        if end > written {
            // The tail is not a whole block, which `O_DIRECT` refuses.
            self.plain()?;
            let rest = &self.buffer[self.start + written..self.start + end];
            write_at(&self.file, self.offset + written as u64, rest)?;
            self.stats.cached += (end - written) as u64;
            written = end;
        }
        self.buffer
            .copy_within(self.start + written..self.start + self.filled, self.start);
        self.filled -= written;
        self.offset += written as u64;
        Ok(())
    }

    /// Turns `O_DIRECT` off for the rest of the file.
    fn plain(&mut self) -> io::Result<()> {
        if self.direct {
            set_direct(&self.file, false)?;
            self.direct = false;
        }
        Ok(())
    }

    /// Writes what is left and makes the file durable; the file closes here.
    pub(crate) fn finish(mut self) -> io::Result<DirectStats> {
        self.drain(true)?;
        self.file.sync_all()?;
        Ok(self.stats)
    }
}

impl Write for DirectWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.filled;
        let taken = bytes.len().min(room);
        let at = self.start + self.filled;
        self.buffer[at..at + taken].copy_from_slice(&bytes[..taken]);
        self.filled += taken;
        if self.filled == CHUNK {
            self.drain(false)?;
        }
        Ok(taken)
    }

    /// Bytes short of a whole block stay gathered: writing them now would force the rest
    /// of the file off the direct path. [`DirectWriter::finish`] writes them.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
fn write_at(file: &File, offset: u64, bytes: &[u8]) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

#[cfg(not(unix))]
fn write_at(mut file: &File, offset: u64, bytes: &[u8]) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(bytes)
}

/// `Ok(true)` when a direct step (switching `O_DIRECT` on, a direct write) went through,
/// `Ok(false)` when the file system refused it (`EINVAL`); any other error stands.
fn accepted_unless_einval(result: io::Result<()>) -> io::Result<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(err) if err.raw_os_error() == Some(libc::EINVAL) => Ok(false),
        Err(err) => Err(err),
    }
}

/// Switches `O_DIRECT` on or off for the open file (its other status flags are kept).
#[cfg(target_os = "linux")]
fn set_direct(file: &File, on: bool) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: F_GETFL and F_SETFL on a descriptor this function borrows for the call; they
    // touch only the open file's status flags, no memory.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let flags = if on {
        flags | libc::O_DIRECT
    } else {
        flags & !libc::O_DIRECT
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Elsewhere there is no `O_DIRECT`: report it as refused, so the ordinary path runs.
#[cfg(not(target_os = "linux"))]
fn set_direct(_: &File, on: bool) -> io::Result<()> {
    if on {
        Err(io::Error::from_raw_os_error(libc::EINVAL))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
