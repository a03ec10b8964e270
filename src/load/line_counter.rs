//! Physical line numbers for byte offsets. The csv crate's own line count drifts when a
//! CRLF file has line breaks inside quoted cells, so lines are counted from the bytes.

use std::collections::VecDeque;
use std::io::Read;

/// Wraps the input and notes where every `\n` is, so the reader can ask which line a
/// record starting at a byte offset is on. Offsets are asked in increasing order, and only
/// newlines not yet passed are kept (about one read-ahead buffer's worth).
pub struct LineCounter<R> {
    inner: R,
    offset: u64,
    pending: VecDeque<u64>,
    passed: u64,
}

impl<R: Read> LineCounter<R> {
    pub fn new(inner: R) -> LineCounter<R> {
        LineCounter {
            inner,
            offset: 0,
            pending: VecDeque::new(),
            passed: 0,
        }
    }

    /// The 1-based line of a record the csv crate says starts at `offset`; offsets must not
    /// decrease between calls. After a CRLF the csv crate reports the `\n` as the record's
    /// first byte, so a newline at `offset` itself belongs to the line before.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        while self.pending.front().is_some_and(|&at| at <= offset) {
            self.pending.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        let start = self.offset;
        self.pending
            .extend(memchr::memchr_iter(b'\n', &buf[..read]).map(|i| start + i as u64));
        self.offset += read as u64;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_before_offsets() {
        let mut counter = LineCounter::new(&b"a\r\nb\n\nc"[..]);
        let mut sink = Vec::new();
        counter.read_to_end(&mut sink).unwrap();
        assert_eq!(counter.line_at(0), 1);
        assert_eq!(
            counter.line_at(2),
            2,
            "CRLF: the csv crate points at the \\n"
        );
        assert_eq!(counter.line_at(3), 2);
        assert_eq!(counter.line_at(6), 4);
    }
}
