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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogBuffer {
    lines: VecDeque<String>,
    partial: Vec<u8>,
}

impl LogBuffer {
    pub fn new() -> LogBuffer {
        LogBuffer::default()
    }

    /// Appends raw bytes read from the pipe; every complete line is stored, an
    /// over-long one in pieces of [`LINE_MAX`] bytes.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
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

    /// Flushes an incomplete last line (the writer closed the pipe).
    pub fn flush(&mut self) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.push_line(&String::from_utf8_lossy(&line));
        }
    }

    /// Stores one line, dropping the oldest when full.
    pub fn push_line(&mut self, line: &str) {
        if self.lines.len() >= LOG_LINES {
            self.lines.pop_front();
        }
        let mut line = line.to_string();
        if line.len() > LINE_MAX {
            let mut cut = LINE_MAX;
            while !line.is_char_boundary(cut) {
                cut = cut.saturating_sub(1);
            }
            line.truncate(cut);
        }
        self.lines.push_back(line);
    }

    /// The last `n` lines (all when `n` is `None`), oldest first.
    pub fn last(&self, n: Option<usize>) -> Vec<String> {
        let n = n.unwrap_or(self.lines.len()).min(self.lines.len());
        let skip = self.lines.len().saturating_sub(n);
        self.lines.iter().skip(skip).cloned().collect()
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
