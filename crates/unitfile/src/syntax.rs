//! The line syntax of systemd.syntax(7): sections, assignments, comments and continuation
//! lines. The result is a flat, ordered list of `Section`/`Key`/`Value` assignments, each
//! with the file and line it came from; what a value means is decided later, per directive.
//!
//! Rules, as systemd 252 reads a file (checked against `systemd-analyze verify`):
//! - A UTF-8 byte-order mark at the start is skipped.
//! - A line whose first non-blank character is `#` or `;` is a comment, also in the middle of
//!   a continued line (it is skipped and the continuation goes on).
//! - A line ending in an unescaped `\` continues on the next line; the backslash becomes a
//!   space and the next line is appended as it is.
//! - Leading and trailing blanks are trimmed from lines, keys and values. Quotes mean nothing
//!   at this level: each directive decides how to split and unquote its value.
//! - `[Name]` opens a section. A section the unit type does not know is ignored with a
//!   warning, except `X-` sections, which are kept for their readers and never warned about.
//!   A line starting with `[` but not ending in `]` makes the whole file invalid.
//! - An assignment outside any section, a line without `=` and a line starting with `=` are
//!   ignored with a warning.
//! - A line (other than a comment) that is not valid UTF-8, and a line longer than 1 MiB,
//!   make the whole file invalid; the lines before it have been read and reported already.

use crate::diag::Diagnostic;
use std::path::Path;
use std::sync::Arc;

/// systemd's limit for one logical line (LONG_LINE_MAX).
pub const MAX_LINE: usize = 1024 * 1024;

/// One `Key=Value` line, after continuation and trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub section: String,
    pub key: String,
    pub value: String,
    pub file: Arc<Path>,
    /// The physical line that completes the assignment (1-based), as systemd counts.
    pub line: usize,
}

/// What [`parse`] understood of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub assignments: Vec<Assignment>,
    pub diagnostics: Vec<Diagnostic>,
    /// The file is invalid as a whole; systemd refuses to load such a unit ("bad message").
    pub invalid: bool,
}

/// Parses the bytes of one unit file or drop-in. `known_sections` lists the sections the
/// unit's type accepts (e.g. `["Unit", "Service", "Install"]`).
pub fn parse(bytes: &[u8], file: &Path, known_sections: &[&str]) -> Parsed {
    let file: Arc<Path> = Arc::from(file);
    let mut out = Parsed::default();
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);

    let mut state = SectionState::None;
    // A logical line being assembled from continued lines.
    let mut pending: Option<String> = None;
    let mut number = 0;

    for raw in bytes.split(|&b| b == b'\n') {
        number += 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        // Comments are skipped before anything else, so bytes in them do not matter.
        let first = raw.iter().find(|&&b| !matches!(b, b' ' | b'\t' | b'\r'));
        if matches!(first, Some(b'#' | b';')) {
            continue;
        }
        let Ok(raw) = std::str::from_utf8(raw) else {
            out.diagnostics.push(Diagnostic::error(
                &file,
                number,
                "line is not valid UTF-8; the file is ignored",
            ));
            out.invalid = true;
            return out;
        };
        let mut logical = match pending.take() {
            Some(mut text) => {
                text.push_str(raw);
                text
            }
            None => raw.to_string(),
        };
        if logical.len() > MAX_LINE {
            out.diagnostics.push(Diagnostic::error(
                &file,
                number,
                format!("line longer than {MAX_LINE} bytes; the file is ignored"),
            ));
            out.invalid = true;
            return out;
        }
        if ends_in_unescaped_backslash(&logical) {
            logical.pop();
            logical.push(' ');
            pending = Some(logical);
            continue;
        }
        // Like systemd, a continued line is numbered by the line that completes it.
        if !parse_line(
            &logical,
            &file,
            number,
            known_sections,
            &mut state,
            &mut out,
        ) {
            out.invalid = true;
            return out;
        }
    }
    // A continuation still open at the end of the file is a complete line, as in systemd.
    if let Some(logical) = pending {
        if !parse_line(
            &logical,
            &file,
            number + 1,
            known_sections,
            &mut state,
            &mut out,
        ) {
            out.invalid = true;
        }
    }
    out
}

enum SectionState {
    /// Before the first section header.
    None,
    /// Inside a known (or `X-`) section.
    In(String),
    /// Inside an unknown section, already warned about.
    Ignored,
}

/// Handles one logical line; returns false when the whole file must be refused.
fn parse_line(
    line: &str,
    file: &Arc<Path>,
    number: usize,
    known_sections: &[&str],
    state: &mut SectionState,
    out: &mut Parsed,
) -> bool {
    let line = line.trim_matches(is_blank);
    if line.is_empty() {
        return true;
    }
    if let Some(header) = line.strip_prefix('[') {
        let Some(name) = header.strip_suffix(']') else {
            out.diagnostics.push(Diagnostic::error(
                file,
                number,
                format!("invalid section header '{line}'; the file is ignored"),
            ));
            return false;
        };
        *state = if known_sections.contains(&name) || name.starts_with("X-") {
            SectionState::In(name.to_string())
        } else {
            out.diagnostics.push(Diagnostic::warning(
                file,
                number,
                format!("unknown section '{name}', ignoring"),
            ));
            SectionState::Ignored
        };
        return true;
    }
    let section = match state {
        SectionState::In(name) => name.clone(),
        SectionState::Ignored => return true,
        SectionState::None => {
            out.diagnostics.push(Diagnostic::warning(
                file,
                number,
                "assignment outside of any section, ignoring",
            ));
            return true;
        }
    };
    let Some((key, value)) = line.split_once('=') else {
        out.diagnostics.push(Diagnostic::warning(
            file,
            number,
            format!("missing '=' in '{line}', ignoring line"),
        ));
        return true;
    };
    let key = key.trim_matches(is_blank);
    if key.is_empty() {
        out.diagnostics.push(Diagnostic::warning(
            file,
            number,
            "missing key name before '=', ignoring line",
        ));
        return true;
    }
    out.assignments.push(Assignment {
        section,
        key: key.to_string(),
        value: value.trim_matches(is_blank).to_string(),
        file: file.clone(),
        line: number,
    });
    true
}

/// systemd's WHITESPACE set: space, tab, newline, carriage return.
pub fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// True when the text ends in a backslash that is not itself escaped by one before it.
fn ends_in_unescaped_backslash(s: &str) -> bool {
    s.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Severity;

    const SERVICE: &[&str] = &["Unit", "Service", "Install"];

    /// Parses `text` as a service file and returns (section, key, value, line) tuples, the
    /// diagnostics as `line:severity:message-fragment` and whether the file was refused.
    type Flat = (
        Vec<(String, String, String, usize)>,
        Vec<(usize, Severity)>,
        bool,
    );

    fn run(text: &str) -> Flat {
        let p = parse(text.as_bytes(), Path::new("/x/a.service"), SERVICE);
        (
            p.assignments
                .iter()
                .map(|a| (a.section.clone(), a.key.clone(), a.value.clone(), a.line))
                .collect(),
            p.diagnostics.iter().map(|d| (d.line, d.severity)).collect(),
            p.invalid,
        )
    }

    fn check(text: &str, expected: &[(&str, &str, &str, usize)], diags: &[(usize, Severity)]) {
        let (got, got_diags, invalid) = run(text);
        let want: Vec<_> = expected
            .iter()
            .map(|(s, k, v, l)| (s.to_string(), k.to_string(), v.to_string(), *l))
            .collect();
        assert_eq!(got, want, "assignments of {text:?}");
        assert_eq!(got_diags, diags, "diagnostics of {text:?}");
        assert!(!invalid, "{text:?} must not be refused");
    }

    fn check_refused(text: &str, line: usize) {
        let (_, diags, invalid) = run(text);
        assert!(invalid, "{text:?} must be refused");
        assert_eq!(diags, vec![(line, Severity::Error)]);
    }

    use Severity::{Error, Warning};

    #[test]
    fn sections_and_assignments() {
        check(
            "[Unit]\nDescription=Hello world\n[Service]\nExecStart=/bin/true\n",
            &[
                ("Unit", "Description", "Hello world", 2),
                ("Service", "ExecStart", "/bin/true", 4),
            ],
            &[],
        );
    }

    #[test]
    fn trimming_of_lines_keys_and_values() {
        check(
            "  [Unit]  \n\t Description \t=  a  b \t\r\n",
            &[("Unit", "Description", "a  b", 2)],
            &[],
        );
        // Only the first '=' separates; the rest belongs to the value.
        check(
            "[Service]\nEnvironment=A=1 B=2\n",
            &[("Service", "Environment", "A=1 B=2", 2)],
            &[],
        );
        check(
            "[Unit]\nDescription=\n",
            &[("Unit", "Description", "", 2)],
            &[],
        );
    }

    #[test]
    fn comments_only_at_line_start() {
        check(
            "# c\n; c\n[Unit]\n   # indented\nDescription=a # not a comment\n",
            &[("Unit", "Description", "a # not a comment", 5)],
            &[],
        );
    }

    #[test]
    fn continuation_lines() {
        // The backslash becomes a space; the next line is appended untrimmed.
        check(
            "[Unit]\nDescription=a \\\n  b\\\nc\n",
            &[("Unit", "Description", "a    b c", 4)],
            &[],
        );
        // Comment lines inside a continuation are skipped (systemd.syntax(7) example).
        check(
            "[Unit]\nDescription=one \\\n# comment\n; too\ntwo\nAfter=x\n",
            &[
                ("Unit", "Description", "one  two", 5),
                ("Unit", "After", "x", 6),
            ],
            &[],
        );
        // An escaped backslash at the end is not a continuation.
        check(
            "[Service]\nExecStart=/bin/echo \\\\\nType=oneshot\n",
            &[
                ("Service", "ExecStart", "/bin/echo \\\\", 2),
                ("Service", "Type", "oneshot", 3),
            ],
            &[],
        );
        // An empty line ends a continuation.
        check(
            "[Unit]\nDescription=a \\\n\nAfter=b\n",
            &[("Unit", "Description", "a", 3), ("Unit", "After", "b", 4)],
            &[],
        );
        // A continuation open at the end of the file still counts, numbered one past the
        // last line as systemd does.
        check(
            "[Unit]\nDescription=a \\",
            &[("Unit", "Description", "a", 3)],
            &[],
        );
        check(
            "[Unit]\nDescription=a \\\n",
            &[("Unit", "Description", "a", 3)],
            &[],
        );
    }

    #[test]
    fn unknown_and_extension_sections() {
        check(
            "[Weird]\nA=1\n[X-Mine]\nB=2\n[Unit]\nX-Key=3\n",
            &[("X-Mine", "B", "2", 4), ("Unit", "X-Key", "3", 6)],
            &[(1, Warning)],
        );
    }

    #[test]
    fn bad_lines_are_skipped_with_a_warning() {
        // Same three cases and lines as `systemd-analyze verify` reports them.
        check(
            "Description=x\n[Unit]\nFoo\n=bar\nAfter=a\n",
            &[("Unit", "After", "a", 5)],
            &[(1, Warning), (3, Warning), (4, Warning)],
        );
    }

    #[test]
    fn refused_files() {
        check_refused("[Unit]\n[Service\nExecStart=/bin/true\n", 2);
        let long = format!("[Unit]\nDescription={}\n", "x".repeat(MAX_LINE + 1));
        check_refused(&long, 2);
    }

    #[test]
    fn invalid_utf8_only_matters_outside_comments() {
        let p = parse(
            b"[Unit]\n# caf\xe9\nDescription=a \\\n; \xff\nb\n",
            Path::new("/x/a.service"),
            SERVICE,
        );
        assert!(!p.invalid);
        assert_eq!(p.assignments.len(), 1);
        assert_eq!(p.assignments[0].value, "a  b");
        // Lines before the bad one are read and reported; the file is refused at it.
        let p = parse(
            b"[Unit]\nFoo\nDescription=\xff\nAfter=x\n",
            Path::new("/x/a.service"),
            SERVICE,
        );
        assert!(p.invalid);
        let lines: Vec<_> = p.diagnostics.iter().map(|d| (d.line, d.severity)).collect();
        assert_eq!(lines, vec![(2, Warning), (3, Error)]);
    }

    #[test]
    fn refused_invalid_utf8_bytes() {
        let p = parse(
            b"[Unit]\nDescription=a\xff\n",
            Path::new("/x/a.service"),
            SERVICE,
        );
        assert!(p.invalid);
        assert_eq!(p.diagnostics.len(), 1);
        assert_eq!(p.diagnostics[0].line, 2);
        assert_eq!(p.diagnostics[0].severity, Error);
    }

    #[test]
    fn byte_order_mark_and_crlf() {
        let p = parse(
            b"\xef\xbb\xbf[Unit]\r\nDescription=x\r\n",
            Path::new("/x/a.service"),
            SERVICE,
        );
        assert!(!p.invalid);
        assert_eq!(p.assignments.len(), 1);
        assert_eq!(p.assignments[0].value, "x");
    }

    #[test]
    fn diagnostics_name_file_and_line() {
        let p = parse(b"[Unit]\nFoo\n", Path::new("/etc/x.service"), SERVICE);
        assert_eq!(
            p.diagnostics[0].to_string(),
            "/etc/x.service:2: warning: missing '=' in 'Foo', ignoring line"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = parse(&bytes, Path::new("/f"), SERVICE);
        }

        #[test]
        fn never_panics_on_unit_like_text(text in "([\\[\\]=#;\\\\ \ta-zA-Z\n]){0,300}") {
            let p = parse(text.as_bytes(), Path::new("/f"), SERVICE);
            for a in &p.assignments {
                proptest::prop_assert!(!a.key.is_empty());
                proptest::prop_assert!(a.line >= 1);
            }
        }
    }
}
