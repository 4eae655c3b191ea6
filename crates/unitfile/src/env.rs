//! Environment variables as systemd 252 reads them: the `Environment=` setting (words of
//! `NAME=VALUE`, quoted and C-escaped like other unit-file words) and the files of
//! `EnvironmentFile=` (a shell-like `NAME=VALUE` per line, read by systemd's
//! `load_env_file`).
//!
//! In both, a later assignment of a name replaces the value of the earlier one but keeps its
//! position, and invalid assignments are dropped with a warning rather than failing.

use crate::diag::ValueError;
use crate::words::{extract_bytes, ExtractFlags, WHITESPACE};

/// systemd bounds names and values by `sysconf(_SC_ARG_MAX)`; this is its value with the
/// usual 8 MiB stack limit (a quarter of the stack).
const ARG_MAX: usize = 2 * 1024 * 1024;

/// Whether `name` may name an environment variable: ASCII letters, digits and `_`, not
/// starting with a digit, not empty.
pub fn is_valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= ARG_MAX - 2
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `NAME=VALUE` is an assignment systemd accepts (valid name, size limits).
fn is_valid_assignment(name: &str, value: &str) -> bool {
    is_valid_env_name(name) && value.len() <= ARG_MAX - 3 && name.len() + value.len() < ARG_MAX - 1
}

/// Sets `name` in `env`: replaces the value where the name first appears, or appends.
pub fn env_assign(env: &mut Vec<(String, String)>, name: String, value: String) {
    match env.iter_mut().find(|(n, _)| *n == name) {
        Some(slot) => slot.1 = value,
        None => env.push((name, value)),
    }
}

/// `NAME`/`VALUE` pairs in order.
pub type Assignments = Vec<(String, String)>;

/// What systemd makes of one `Environment=` value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvironmentLine {
    /// The valid assignments in order, later ones of a name having replaced earlier ones.
    pub assignments: Vec<(String, String)>,
    /// Words that are no valid assignment (no `=`, bad name, not UTF-8 after unescaping),
    /// as written after unquoting; systemd warns about each and goes on.
    pub rejected: Vec<String>,
    /// A syntax error (unbalanced quotes, unknown escape, `\x00`) that made systemd drop the
    /// rest of the value; the assignments before it are kept.
    pub error: Option<ValueError>,
}

/// Parses an `Environment=` value such as `"A=1 2" B=3` the strict way: the valid
/// assignments and the rejected words (to warn about), or the syntax error. An empty value
/// gives nothing; the caller treats it as a reset of the list. On a syntax error systemd
/// keeps the assignments before it; [`parse_environment_line`] gives those.
pub fn parse_environment(s: &str) -> Result<(Assignments, Vec<String>), ValueError> {
    let line = parse_environment_line(s);
    match line.error {
        Some(e) => Err(e),
        None => Ok((line.assignments, line.rejected)),
    }
}

/// Parses an `Environment=` value exactly as systemd 252 does, see [`EnvironmentLine`].
pub fn parse_environment_line(s: &str) -> EnvironmentLine {
    let mut out = EnvironmentLine::default();
    let mut cursor = Some(s);
    let flags = ExtractFlags::UNQUOTE | ExtractFlags::CUNESCAPE;
    loop {
        let (word, rest) = match extract_bytes(cursor, WHITESPACE, flags) {
            Ok(step) => step,
            Err(e) => {
                out.error = Some(ValueError::new(format!("invalid syntax, ignoring: {e}")));
                return out;
            }
        };
        let Some(word) = word else {
            return out;
        };
        cursor = rest;
        let word = match String::from_utf8(word) {
            Ok(w) => w,
            Err(e) => {
                out.rejected
                    .push(String::from_utf8_lossy(e.as_bytes()).into_owned());
                continue;
            }
        };
        match word.split_once('=') {
            Some((name, value)) if is_valid_assignment(name, value) => {
                env_assign(&mut out.assignments, name.to_string(), value.to_string());
            }
            _ => out.rejected.push(word),
        }
    }
}

/// A problem in an environment file: its 1-based line and what is wrong.
pub type LineProblem = (usize, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    PreKey,
    Key,
    PreValue,
    Value,
    ValueEscape,
    SingleQuote,
    DoubleQuote,
    DoubleQuoteEscape,
    Comment,
    CommentEscape,
}

/// Parses the contents of an `EnvironmentFile=` file as systemd 252's `load_env_file`:
///
/// - Lines starting with `#` or `;` (after blanks) are comments; a comment ending in `\`
///   goes on over the next line.
/// - `NAME=VALUE`, with blanks around the name and before the value ignored. There is no
///   `export` keyword: `export A=1` has the name `export A`, which is invalid.
/// - An unquoted value ends at the line end, trailing blanks removed; `\` makes the next
///   character literal and `\` at the line end joins the next line.
/// - `'...'` is literal, newlines included. In `"..."`, `\` before `"` `\` `` ` `` `$` gives
///   that character, `\` before a newline joins lines, any other `\` is kept. Quoted and
///   unquoted parts glue together; blanks between a closing quote and more text are dropped.
/// - An unterminated quote runs to the end of the file.
///
/// Returns the assignments (a later one of a name replaces the value of an earlier one in its
/// place) and the problems with their 1-based lines: invalid names (systemd warns and drops
/// them when it spawns the command) and lines without `=` (systemd drops them silently).
/// A NUL character ends the content, as in systemd.
pub fn parse_env_file(content: &str) -> (Vec<(String, String)>, Vec<LineProblem>) {
    let content = content.split('\0').next().unwrap_or_default();
    let is_newline = |c: char| c == '\n' || c == '\r';
    let is_blank = |c: char| WHITESPACE.contains(c);

    let mut found: Vec<(usize, String, String)> = Vec::new();
    let mut problems = Vec::new();
    let mut state = State::PreKey;
    let mut key = String::new();
    let mut value = String::new();
    // Where trailing blanks of the key / unquoted value start, if they do.
    let mut key_blank: Option<usize> = None;
    let mut value_blank: Option<usize> = None;
    let mut line = 1;
    let mut key_line = 1;

    let mut finish = |key: &mut String,
                      value: &mut String,
                      key_blank: Option<usize>,
                      value_blank: Option<usize>,
                      key_line: usize| {
        if let Some(i) = key_blank {
            key.truncate(i);
        }
        if let Some(i) = value_blank {
            value.truncate(i);
        }
        found.push((key_line, std::mem::take(key), std::mem::take(value)));
    };
    let no_equals = |key: &str, key_line: usize| {
        (
            key_line,
            format!("ignoring line without '=': '{}'", key.trim_end()),
        )
    };

    for c in content.chars() {
        match state {
            State::PreKey => {
                if c == '#' || c == ';' {
                    state = State::Comment;
                } else if !is_blank(c) {
                    state = State::Key;
                    key_blank = None;
                    key.clear();
                    key.push(c);
                    key_line = line;
                }
            }
            State::Key => {
                if is_newline(c) {
                    problems.push(no_equals(&key, key_line));
                    state = State::PreKey;
                } else if c == '=' {
                    state = State::PreValue;
                    value.clear();
                    value_blank = None;
                } else {
                    if !is_blank(c) {
                        key_blank = None;
                    } else if key_blank.is_none() {
                        key_blank = Some(key.len());
                    }
                    key.push(c);
                }
            }
            State::PreValue => {
                if is_newline(c) {
                    finish(&mut key, &mut value, key_blank, None, key_line);
                    state = State::PreKey;
                } else if c == '\'' {
                    state = State::SingleQuote;
                } else if c == '"' {
                    state = State::DoubleQuote;
                } else if c == '\\' {
                    state = State::ValueEscape;
                } else if !is_blank(c) {
                    state = State::Value;
                    value.push(c);
                }
            }
            State::Value => {
                if is_newline(c) {
                    finish(&mut key, &mut value, key_blank, value_blank, key_line);
                    state = State::PreKey;
                } else if c == '\\' {
                    state = State::ValueEscape;
                    value_blank = None;
                } else {
                    if !is_blank(c) {
                        value_blank = None;
                    } else if value_blank.is_none() {
                        value_blank = Some(value.len());
                    }
                    value.push(c);
                }
            }
            State::ValueEscape => {
                state = State::Value;
                if !is_newline(c) {
                    value.push(c);
                }
            }
            State::SingleQuote => {
                if c == '\'' {
                    state = State::PreValue;
                } else {
                    value.push(c);
                }
            }
            State::DoubleQuote => {
                if c == '"' {
                    state = State::PreValue;
                } else if c == '\\' {
                    state = State::DoubleQuoteEscape;
                } else {
                    value.push(c);
                }
            }
            State::DoubleQuoteEscape => {
                state = State::DoubleQuote;
                if "\"\\`$".contains(c) {
                    value.push(c);
                } else if c != '\n' {
                    // Like the shell, other characters keep their backslash.
                    value.push('\\');
                    value.push(c);
                }
            }
            State::Comment => {
                if c == '\\' {
                    state = State::CommentEscape;
                } else if is_newline(c) {
                    state = State::PreKey;
                }
            }
            // systemd 252 swallows the character after a backslash in a comment, newline
            // included, so the next line belongs to the comment (changed in systemd 254).
            State::CommentEscape => state = State::Comment,
        }
        if c == '\n' {
            line += 1;
        }
    }
    match state {
        State::Value => finish(&mut key, &mut value, key_blank, value_blank, key_line),
        State::PreValue
        | State::ValueEscape
        | State::SingleQuote
        | State::DoubleQuote
        | State::DoubleQuoteEscape => finish(&mut key, &mut value, key_blank, None, key_line),
        State::Key => problems.push(no_equals(&key, key_line)),
        State::PreKey | State::Comment | State::CommentEscape => {}
    }

    // Later assignments replace earlier ones in place; invalid ones are dropped afterwards,
    // as systemd does when it cleans the loaded list.
    let mut merged: Vec<(usize, String, String)> = Vec::new();
    for (at, name, val) in found {
        match merged.iter_mut().find(|(_, n, _)| *n == name) {
            Some(slot) => *slot = (at, name, val),
            None => merged.push((at, name, val)),
        }
    }
    let mut env = Vec::with_capacity(merged.len());
    for (at, name, val) in merged {
        if is_valid_assignment(&name, &val) {
            env.push((name, val));
        } else {
            problems.push((
                at,
                format!("ignoring invalid environment assignment '{name}={val}'"),
            ));
        }
    }
    problems.sort_by_key(|(at, _)| *at);
    (env, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// An `Environment=` value: expected assignments, rejected words, and whether a syntax
    /// error stopped it.
    fn environment(input: &str, assignments: &[(&str, &str)], rejected: &[&str], error: bool) {
        let got = parse_environment_line(input);
        assert_eq!(
            parse_environment(input).is_err(),
            error,
            "strict form of {input:?}"
        );
        assert_eq!(got.assignments, pairs(assignments), "input {input:?}");
        assert_eq!(got.rejected, rejected, "input {input:?}");
        assert_eq!(
            got.error.is_some(),
            error,
            "input {input:?}: {:?}",
            got.error
        );
    }

    /// An environment file: expected assignments and the lines that have problems.
    /// The values of the `file()` cases in `env_file_*` tests below were checked against
    /// systemd 252 itself, by loading the content as `/etc/os-release` (the same loader)
    /// and asking `systemd-analyze condition 'ConditionOSRelease=NAME=VALUE'`.
    fn file(content: &str, expected: &[(&str, &str)], problem_lines: &[usize]) {
        let (env, problems) = parse_env_file(content);
        assert_eq!(env, pairs(expected), "content {content:?}");
        let lines: Vec<usize> = problems.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, problem_lines, "content {content:?}: {problems:?}");
    }

    #[test]
    fn env_names() {
        for good in ["A", "_", "a_b", "PATH", "x9", "_1"] {
            assert!(is_valid_env_name(good), "{good}");
        }
        for bad in ["", "1A", "A-B", "A B", "A=", "\u{e9}", "a.b", "$A"] {
            assert!(!is_valid_env_name(bad), "{bad}");
        }
    }

    #[test]
    fn environment_setting() {
        // All oracles: the unit dump of `systemd --test` with that Environment= line.
        environment("", &[], &[], false);
        environment(
            "\"A=a b\" 'B=c d' C=\"e f\"g D=\\x41\\u00e9\\n",
            &[
                ("A", "a b"),
                ("B", "c d"),
                ("C", "e fg"),
                ("D", "A\u{e9}\n"),
            ],
            &[],
            false,
        );
        environment(
            "A B=2 1C=3 =4 _D=5 E-F=6 G= H==x",
            &[("B", "2"), ("_D", "5"), ("G", ""), ("H", "=x")],
            &["A", "1C=3", "=4", "E-F=6"],
            false,
        );
        environment("A=1 A=2 B=3 A=4", &[("A", "4"), ("B", "3")], &[], false);
        // Dollar signs stay (expansion happens at spawn time only for Exec*= arguments).
        environment("A=$B ${C}", &[("A", "$B")], &["${C}"], false);
        environment("A=\\x01\\x7f", &[("A", "\x01\x7f")], &[], false);
        // An invalid byte sequence is no valid value.
        environment("A=\\xff B=2", &[("B", "2")], &["A=\u{fffd}"], false);
    }

    #[test]
    fn environment_syntax_errors_keep_earlier_words() {
        environment("X=1 A=\\z B=1", &[("X", "1")], &[], true);
        environment("A=a\\ b C=c", &[], &[], true);
        environment("A=1 \"B=2", &[("A", "1")], &[], true);
        environment("A=1 E=\\x00 F=2", &[("A", "1")], &[], true);
        environment("A=1 B=2\\", &[("A", "1")], &[], true);
    }

    #[test]
    fn env_assign_keeps_position() {
        let mut env = pairs(&[("A", "1"), ("B", "2")]);
        env_assign(&mut env, "A".into(), "3".into());
        env_assign(&mut env, "C".into(), "4".into());
        assert_eq!(env, pairs(&[("A", "3"), ("B", "2"), ("C", "4")]));
    }

    #[test]
    fn env_file_basics() {
        file("", &[], &[]);
        file("A=1\nB=2\n", &[("A", "1"), ("B", "2")], &[]);
        file("A=1\r\nB=2", &[("A", "1"), ("B", "2")], &[]);
        file("  A  =  x y  \n", &[("A", "x y")], &[]);
        file("A=\nB=", &[("A", ""), ("B", "")], &[]);
        file("A=   \n", &[("A", "")], &[]);
        file("A=1\nB=2\nA=3\n", &[("A", "3"), ("B", "2")], &[]);
        file("A=x=y", &[("A", "x=y")], &[]);
        file("\n\n\t\nA=1", &[("A", "1")], &[]);
    }

    #[test]
    fn env_file_comments() {
        file(
            "# c\n; d\n  # e\nA=1 # not a comment\n",
            &[("A", "1 # not a comment")],
            &[],
        );
        // In 252 a comment ending in a backslash swallows the next line.
        file("# c \\\nA=1\nB=2\n", &[("B", "2")], &[]);
        file("# c \\\\\nA=1\n", &[("A", "1")], &[]);
        file("#A=1", &[], &[]);
    }

    #[test]
    fn env_file_unquoted_escapes() {
        file("A=a\\\nb\n", &[("A", "ab")], &[]);
        file("A=a\\\nb\\\nc\nD=d", &[("A", "abc"), ("D", "d")], &[]);
        // An escaped blank is kept even at the end; blanks after it are trimmed.
        file("A=a\\ \n", &[("A", "a ")], &[]);
        file("A=a\\  \t\n", &[("A", "a ")], &[]);
        file("A=\\ \\n \\t \\x \\y \\' \n", &[("A", " n t x y '")], &[]);
        file("A=a\\", &[("A", "a")], &[]);
        file("A=a\\\n", &[("A", "a")], &[]);
        // Quotes in the middle of an unquoted value are ordinary characters.
        file("A=a \"b\" 'c'\n", &[("A", "a \"b\" 'c'")], &[]);
    }

    #[test]
    fn env_file_quotes() {
        file("A=\"a b\"\n", &[("A", "a b")], &[]);
        file("A='a \\n \" $x'\n", &[("A", "a \\n \" $x")], &[]);
        file(
            "A=\"\\\" \\\\ \\` \\$ \\n \\a\"",
            &[("A", "\" \\ ` $ \\n \\a")],
            &[],
        );
        // Quoted values span lines; an escaped newline inside double quotes joins them.
        file("A='x\ny'\nB=1", &[("A", "x\ny"), ("B", "1")], &[]);
        file("A=\"x\\\ny\"", &[("A", "xy")], &[]);
        file("A=\"x\ny\"", &[("A", "x\ny")], &[]);
        // Parts glue; blanks after a closing quote are dropped, blanks inside kept.
        file("A=\"a\"'b'c\n", &[("A", "abc")], &[]);
        file("A=\"a\"  b  \n", &[("A", "ab")], &[]);
        file("A=  ' x '  \n", &[("A", " x ")], &[]);
        // Unterminated quotes run to the end of the file.
        file("A=\"abc\nB=1", &[("A", "abc\nB=1")], &[]);
        file("A='", &[("A", "")], &[]);
    }

    #[test]
    fn env_file_problems() {
        file("FOO\nA=1\n", &[("A", "1")], &[1]);
        file("A=1\nexport B=2\n", &[("A", "1")], &[2]);
        file("1A=x\nA-B=y\nC=z\n", &[("C", "z")], &[1, 2]);
        file("A=1\n=2\nB", &[("A", "1")], &[2, 3]);
        file("A B=1", &[], &[1]);
        // The problem is reported once, at the last assignment of the name.
        file("1A=x\n1A=y\n", &[], &[2]);
        file("A=1\0B=2", &[("A", "1")], &[]);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(input in "\\PC*") {
            let _ = parse_environment_line(&input);
            let _ = parse_env_file(&input);
        }

        #[test]
        fn env_file_soup(input in "[A=\\\\\"'#; \n\rx$`]{0,40}") {
            let (env, _) = parse_env_file(&input);
            for (name, _) in &env {
                prop_assert!(is_valid_env_name(name));
            }
            let parsed = parse_environment_line(&input);
            for (name, _) in &parsed.assignments {
                prop_assert!(is_valid_env_name(name));
            }
        }
    }
}
