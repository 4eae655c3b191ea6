//! The captured output of a unit: what its processes write to their standard output and
//! error (`StandardOutput=journal`, the default) arrives through one pipe per unit and is
//! kept as the last [`LOG_LINES`] lines, for `sctl status` and `sctl logs`. This stands in
//! for the journal until a log store exists; nothing is written to disk.

use std::collections::VecDeque;

/// How many lines of each unit's output are kept.
pub const LOG_LINES: usize = 1000;
/// A longer line is cut here (systemd's journal stream cuts at `LineMax=`, 48K; a smaller
/// cap keeps the manager's memory bounded per unit).
pub const LINE_MAX: usize = 4096;

/// A bounded ring of lines plus the incomplete line being assembled.
///
/// Every unit has one, and most hold a few short lines ("Started ..."), so the lines are
/// packed into one byte ring, each as a 2-byte little-endian length and its UTF-8 bytes,
/// rather than kept as one allocation per line. A line is at most [`LINE_MAX`] bytes, so
/// its length always fits. Most loaded units never run, so the ring is allocated with the
/// first output: until then the buffer is one null pointer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogBuffer(Option<Box<Ring>>);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ring {
    ring: VecDeque<u8>,
    /// How many lines `ring` holds.
    lines: usize,
    partial: Vec<u8>,
}

impl LogBuffer {
    pub fn new() -> LogBuffer {
        LogBuffer::default()
    }

    /// Appends raw bytes read from the pipe; every complete line is stored, an
    /// over-long one in pieces of [`LINE_MAX`] bytes.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.ring().push_bytes(bytes);
        }
    }

    /// Flushes an incomplete last line (the writer closed the pipe).
    pub fn flush(&mut self) {
        if let Some(r) = &mut self.0 {
            r.flush();
        }
    }

    /// Stores one line, dropping the oldest when full.
    pub fn push_line(&mut self, line: &str) {
        self.ring().push_line(line);
    }

    /// The last `n` lines (all when `n` is `None`), oldest first.
    pub fn last(&self, n: Option<usize>) -> Vec<String> {
        self.0.as_ref().map_or_else(Vec::new, |r| r.last(n))
    }

    fn ring(&mut self) -> &mut Ring {
        self.0.get_or_insert_with(Box::default)
    }
}

impl Ring {
    fn push_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                let line = std::mem::take(&mut self.partial);
                self.push_line(&String::from_utf8_lossy(&line));
            } else {
                self.partial.push(b);
                if self.partial.len() >= LINE_MAX {
                    let line = std::mem::take(&mut self.partial);
                    self.push_line(&String::from_utf8_lossy(&line));
                }
            }
        }
    }

    fn flush(&mut self) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.push_line(&String::from_utf8_lossy(&line));
        }
    }

    fn push_line(&mut self, line: &str) {
        if self.lines >= LOG_LINES {
            self.pop_oldest();
        }
        let mut cut = line.len().min(LINE_MAX);
        while !line.is_char_boundary(cut) {
            cut = cut.saturating_sub(1);
        }
        let bytes = line.as_bytes().get(..cut).unwrap_or_default();
        let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        self.ring.extend(len.to_le_bytes());
        self.ring
            .extend(bytes.iter().take(usize::from(len)).copied());
        self.lines += 1;
    }

    /// The length of the line starting at `at` in the ring.
    fn len_at(&self, at: usize) -> usize {
        let lo = self.ring.get(at).copied().unwrap_or(0);
        let hi = self.ring.get(at + 1).copied().unwrap_or(0);
        usize::from(u16::from_le_bytes([lo, hi]))
    }

    fn pop_oldest(&mut self) {
        let end = (2 + self.len_at(0)).min(self.ring.len());
        self.ring.drain(..end);
        self.lines = self.lines.saturating_sub(1);
    }

    fn last(&self, n: Option<usize>) -> Vec<String> {
        let n = n.unwrap_or(self.lines).min(self.lines);
        let mut skip = self.lines.saturating_sub(n);
        let mut out = Vec::with_capacity(n);
        let mut at = 0;
        while at < self.ring.len() {
            let len = self.len_at(at);
            let start = at + 2;
            if skip > 0 {
                skip -= 1;
            } else {
                let bytes: Vec<u8> = self.ring.range(start..).take(len).copied().collect();
                out.push(String::from_utf8_lossy(&bytes).into_owned());
            }
            at = start + len;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_assembled_across_reads() {
        let mut b = LogBuffer::new();
        b.push_bytes(b"hel");
        b.push_bytes(b"lo\nwor");
        assert_eq!(b.last(None), vec!["hello"]);
        b.push_bytes(b"ld\n\n");
        assert_eq!(b.last(None), vec!["hello", "world", ""]);
        b.push_bytes(b"tail");
        b.flush();
        assert_eq!(b.last(Some(2)), vec!["", "tail"]);
    }

    #[test]
    fn the_ring_keeps_the_newest_lines() {
        let mut b = LogBuffer::new();
        for i in 0..LOG_LINES + 5 {
            b.push_line(&i.to_string());
        }
        let all = b.last(None);
        assert_eq!(all.len(), LOG_LINES);
        assert_eq!(all.first().map(String::as_str), Some("5"));
        assert_eq!(b.last(Some(1)), vec![(LOG_LINES + 4).to_string()]);
    }

    #[test]
    fn lines_keep_newlines_and_multibyte_text() {
        let mut b = LogBuffer::new();
        b.push_line("two\nparts");
        b.push_line("");
        b.push_line("héllo ✓");
        assert_eq!(b.last(None), vec!["two\nparts", "", "héllo ✓"]);
        assert_eq!(b.last(Some(0)), Vec::<String>::new());
        assert_eq!(b.last(Some(10)).len(), 3);
    }

    #[test]
    fn a_long_line_is_cut_at_a_character_boundary() {
        let mut b = LogBuffer::new();
        let line = format!("{}é", "x".repeat(LINE_MAX - 1));
        b.push_line(&line);
        assert_eq!(b.last(None), vec!["x".repeat(LINE_MAX - 1)]);
    }

    #[test]
    fn a_buffer_allocates_nothing_until_the_first_output() {
        let mut b = LogBuffer::new();
        assert_eq!(std::mem::size_of::<LogBuffer>(), 8);
        b.push_bytes(b"");
        b.flush();
        assert_eq!(b, LogBuffer::default());
        assert_eq!(b.last(None), Vec::<String>::new());
        b.push_bytes(b"x");
        assert_ne!(b, LogBuffer::default());
        b.flush();
        assert_eq!(b.last(None), vec!["x"]);
    }

    #[test]
    fn long_lines_are_cut() {
        let mut b = LogBuffer::new();
        b.push_bytes(&vec![b'x'; LINE_MAX + 10]);
        b.push_bytes(b"\n");
        let lines = b.last(None);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), LINE_MAX);
        assert_eq!(lines[1], "x".repeat(10));
    }
}
