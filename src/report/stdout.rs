//! Command output on stdout that outlives its reader. When the reader goes away (`| head`,
//! `| true`), printing stops quietly and the command still finishes its work and exits with
//! its own outcome; any other write error is reported.

use std::io::{self, BufWriter, StdoutLock, Write};

/// Buffered stdout that turns a closed pipe into "stop printing". Every printing command
/// writes through one of these, never through `println!` (which panics on a closed pipe).
pub struct Stdout {
    inner: QuietPipe<BufWriter<StdoutLock<'static>>>,
}

/// Locks stdout for the command's report.
pub fn stdout() -> Stdout {
    Stdout {
        inner: QuietPipe::new(BufWriter::new(io::stdout().lock())),
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A writer that swallows everything after its first `BrokenPipe`.
pub struct QuietPipe<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> QuietPipe<W> {
    pub fn new(inner: W) -> QuietPipe<W> {
        QuietPipe {
            inner,
            closed: false,
        }
    }

    fn absorb<T>(&mut self, result: io::Result<T>, done: T) -> io::Result<T> {
        match result {
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(done)
            }
            other => other,
        }
    }
}

impl<W: Write> Write for QuietPipe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.absorb(result, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush();
        self.absorb(result, ())
    }
}
