//! Physical line numbers for byte offsets. The csv crate's own line count drifts when a
//! CRLF file has line breaks inside quoted cells, and it has none for files whose lines
//! end in a lone `\r`, so lines are counted from the bytes.

use std::collections::VecDeque;
use std::io::Read;

/// How a file ends its lines, decided by its first line break. The snippets of findings
/// split the file the same way (`report::source_lines`), so a line number and the text
/// shown for it always agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `\n`, with any `\r` right before it: `\r\n`, and `\r\r\n` as Python's csv module
    /// writes on Windows, are one line break each.
    Newline,
    /// A lone `\r` (classic Mac OS, some exports from old tools).
    CarriageReturn,
}

impl LineEnding {
    /// The ending of a file that starts with `head`: its first line break decides.
    pub fn detect(head: &[u8]) -> LineEnding {
        match memchr::memchr2(b'\r', b'\n', head) {
            Some(at) if head[at] == b'\r' => match head[at..].iter().find(|&&byte| byte != b'\r') {
                Some(b'\n') | None => LineEnding::Newline,
                Some(_) => LineEnding::CarriageReturn,
            },
            _ => LineEnding::Newline,
        }
    }

    /// The byte that ends a line.
    pub fn terminator(self) -> u8 {
        match self {
            LineEnding::Newline => b'\n',
            LineEnding::CarriageReturn => b'\r',
        }
    }

    /// Line breaks inside `bytes` (a cell's text, say).
    pub fn count_in(self, bytes: &[u8]) -> u64 {
        memchr::memchr_iter(self.terminator(), bytes).count() as u64
    }
}

/// Wraps the input and notes where every line break is, so the reader can ask which line a
/// record starting at a byte offset is on. Offsets are asked in increasing order, and only
/// breaks not yet passed are kept (about one read-ahead buffer's worth).
pub struct LineCounter<R> {
    inner: R,
    offset: u64,
    /// Where each line break not yet passed starts: a `\r\n` at its `\r`, since the csv
    /// crate may report either byte as the next record's first.
    pending: VecDeque<u64>,
    passed: u64,
    /// Decided at the first line break.
    ending: Option<LineEnding>,
    /// A run of `\r` not yet known to end in `\n` (at the end of a read): where it starts,
    /// and how long it is.
    carriage_returns: Option<(u64, u64)>,
    /// Where the last `\r` or `\n` was, and which, to tell a run of them from one broken
    /// by text.
    last_break_byte: Option<(u64, u8)>,
}

impl<R: Read> LineCounter<R> {
    pub fn new(inner: R) -> LineCounter<R> {
        LineCounter {
            inner,
            offset: 0,
            pending: VecDeque::new(),
            passed: 0,
            ending: None,
            carriage_returns: None,
            last_break_byte: None,
        }
    }

    /// The 1-based line of a record the csv crate says starts at `offset`; offsets must not
    /// decrease between calls.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        while self.pending.front().is_some_and(|&at| at <= offset) {
            self.pending.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }

    /// How the file ends its lines (`Newline` until a line break was read).
    pub fn ending(&self) -> LineEnding {
        self.ending.unwrap_or(LineEnding::Newline)
    }

    /// A run of `\r` was followed by text, not `\n`.
    fn lone_carriage_returns(&mut self, start: u64, count: u64) {
        let ending = *self.ending.get_or_insert(LineEnding::CarriageReturn);
        if ending == LineEnding::CarriageReturn {
            self.pending.extend(start..start + count);
        }
    }

    fn note(&mut self, at: u64, byte: u8) {
        let previous = self.last_break_byte.replace((at, byte));
        let follows = previous.is_some_and(|(last, _)| last + 1 == at);
        if let Some((start, count)) = self.carriage_returns.take() {
            if !follows {
                self.lone_carriage_returns(start, count);
            } else if byte == b'\r' {
                self.carriage_returns = Some((start, count + 1));
                return;
            } else {
                // `\r\n`, `\r\r\n`: one line break. (Runs are kept only before the
                // ending is known or in a newline file.)
                self.ending.get_or_insert(LineEnding::Newline);
                self.pending.push_back(start);
                return;
            }
        }
        match (byte, self.ending) {
            (b'\r', Some(LineEnding::CarriageReturn)) => self.pending.push_back(at),
            (b'\r', _) => self.carriage_returns = Some((at, 1)),
            // `\r\n` in a file of lone `\r`s: the `\r` was the break.
            (_, Some(LineEnding::CarriageReturn))
                if follows && previous.is_some_and(|(_, b)| b == b'\r') => {}
            _ => {
                self.ending.get_or_insert(LineEnding::Newline);
                self.pending.push_back(at);
            }
        }
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        let start = self.offset;
        for at in memchr::memchr2_iter(b'\r', b'\n', &buf[..read]) {
            self.note(start + at as u64, buf[at]);
        }
        self.offset += read as u64;
        // A run of `\r` with a byte after it in what was read: every `\r` or `\n` was noted
        // above, so that byte is text.
        if let Some((run, count)) = self.carriage_returns
            && run + count < self.offset
        {
            self.carriage_returns = None;
            self.lone_carriage_returns(run, count);
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(bytes: &[u8], chunk: usize) -> LineCounter<&[u8]> {
        let mut counter = LineCounter::new(bytes);
        let mut buf = vec![0; chunk];
        while counter.read(&mut buf).expect("read") > 0 {}
        counter
    }

    #[test]
    fn counts_lines_before_offsets() {
        let mut counter = counted(b"a\r\nb\n\nc", 64);
        assert_eq!(counter.line_at(0), 1);
        assert_eq!(
            counter.line_at(2),
            2,
            "CRLF: the csv crate points at the \\n"
        );
        assert_eq!(counter.line_at(3), 2);
        assert_eq!(counter.line_at(6), 4);
    }

    #[test]
    fn carriage_return_endings_in_any_read_size() {
        for chunk in [1, 2, 3, 64] {
            // CR only: lines 1, 2, 3 start at 0, 2, 4.
            let mut counter = counted(b"a\rb\rc", chunk);
            assert_eq!(counter.ending(), LineEnding::CarriageReturn);
            assert_eq!((counter.line_at(2), counter.line_at(4)), (2, 3));
            // `\r\r\n` is one break: lines start at 0, 4, 8.
            let mut counter = counted(b"a\r\r\nb\r\r\nc", chunk);
            assert_eq!(counter.ending(), LineEnding::Newline);
            assert_eq!(counter.line_at(2), 2, "csv may point at the second \\r");
            assert_eq!(counter.line_at(8), 3);
            // A lone `\r` inside a newline file is text, not a break.
            let mut counter = counted(b"a\nb\rc\nd", chunk);
            assert_eq!(counter.line_at(6), 3);
        }
    }

    #[test]
    fn detect_matches_the_counter() {
        for (bytes, ending) in [
            (&b"a\rb"[..], LineEnding::CarriageReturn),
            (b"a\r\r\nb", LineEnding::Newline),
            (b"a\r\nb", LineEnding::Newline),
            (b"a\nb\rc", LineEnding::Newline),
            (b"abc", LineEnding::Newline),
        ] {
            assert_eq!(LineEnding::detect(bytes), ending);
            assert_eq!(counted(bytes, 1).ending(), ending);
        }
    }
}
