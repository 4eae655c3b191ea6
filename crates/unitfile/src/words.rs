//! Word splitting and C unescaping as systemd 252 does them: [`extract_first_word`] with its
//! flags (quotes, backslash escapes, separators), the retrying [`extract_first_word_and_warn`]
//! that unit-file settings such as `ExecStart=` use, and [`cunescape`] for the `\n`, `\x41`,
//! `\u00e9` escapes of systemd.syntax(7).
//!
//! systemd works on C strings, so a NUL character ends the input here too. Escapes such as
//! `\xff` produce single bytes; a word whose bytes are not valid UTF-8 cannot become a Rust
//! string and is refused with an error (systemd would pass the raw bytes on).

use crate::diag::ValueError;
use std::ops::BitOr;

/// The separators systemd uses when a caller passes none: space, tab, newline and carriage
/// return.
pub const WHITESPACE: &str = " \t\n\r";

/// How [`extract_first_word`] treats quotes, backslashes and separators. Set fields by name
/// (`ExtractFlags { unquote: true, ..Default::default() }`) or combine the constants named
/// after systemd's flags with `|` (`ExtractFlags::UNQUOTE | ExtractFlags::CUNESCAPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExtractFlags {
    /// Accept an unterminated quote or a trailing backslash instead of failing.
    pub relax: bool,
    /// Decode the C escapes of [`cunescape`] after a backslash.
    pub cunescape: bool,
    /// Keep a backslash and the character after it verbatim when the escape is not known,
    /// and a trailing backslash outside quotes (systemd's `UNESCAPE_RELAX`, formerly
    /// `CUNESCAPE_RELAX`).
    pub unescape_relax: bool,
    /// A backslash before a separator or another backslash gives that character.
    pub unescape_separators: bool,
    /// Remove quotes: `a"b c"d` is the one word `ab cd`.
    pub unquote: bool,
    /// Honour quotes for splitting but keep them in the word. Ignored when `unquote` is set.
    pub keep_quote: bool,
    /// Every separator ends a word, so `a::b` split on `:` gives `a`, an empty word and `b`.
    pub dont_coalesce_separators: bool,
    /// A backslash is an ordinary character.
    pub retain_escape: bool,
    /// Leave the separator that ended a word at the start of the rest.
    pub retain_separators: bool,
}

impl ExtractFlags {
    /// Plain splitting: a backslash makes the next character literal, quotes are ordinary.
    pub const NONE: Self = Self::from_bits(0);
    pub const RELAX: Self = Self::from_bits(1);
    pub const CUNESCAPE: Self = Self::from_bits(1 << 1);
    pub const UNESCAPE_RELAX: Self = Self::from_bits(1 << 2);
    /// The older name of [`Self::UNESCAPE_RELAX`].
    pub const CUNESCAPE_RELAX: Self = Self::UNESCAPE_RELAX;
    pub const UNESCAPE_SEPARATORS: Self = Self::from_bits(1 << 3);
    pub const UNQUOTE: Self = Self::from_bits(1 << 4);
    pub const KEEP_QUOTE: Self = Self::from_bits(1 << 5);
    pub const DONT_COALESCE_SEPARATORS: Self = Self::from_bits(1 << 6);
    pub const RETAIN_ESCAPE: Self = Self::from_bits(1 << 7);
    pub const RETAIN_SEPARATORS: Self = Self::from_bits(1 << 8);

    const fn from_bits(b: u16) -> Self {
        Self {
            relax: b & 1 != 0,
            cunescape: b & (1 << 1) != 0,
            unescape_relax: b & (1 << 2) != 0,
            unescape_separators: b & (1 << 3) != 0,
            unquote: b & (1 << 4) != 0,
            keep_quote: b & (1 << 5) != 0,
            dont_coalesce_separators: b & (1 << 6) != 0,
            retain_escape: b & (1 << 7) != 0,
            retain_separators: b & (1 << 8) != 0,
        }
    }

    const fn bits(self) -> u16 {
        (self.relax as u16)
            | (self.cunescape as u16) << 1
            | (self.unescape_relax as u16) << 2
            | (self.unescape_separators as u16) << 3
            | (self.unquote as u16) << 4
            | (self.keep_quote as u16) << 5
            | (self.dont_coalesce_separators as u16) << 6
            | (self.retain_escape as u16) << 7
            | (self.retain_separators as u16) << 8
    }

    /// Both sets of flags; the `const` form of `|`.
    pub const fn union(self, other: Self) -> Self {
        Self::from_bits(self.bits() | other.bits())
    }

    /// Whether every flag of `other` is set in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.bits() & other.bits() == other.bits()
    }

    const fn any(self, other: Self) -> bool {
        self.bits() & other.bits() != 0
    }
}

impl BitOr for ExtractFlags {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

/// One step of the extractor, faithful to systemd including the difference between an input
/// that is used up (`None`) and an empty rest (`Some("")`), which matters for
/// `DONT_COALESCE_SEPARATORS`: `"a:"` split on `:` ends with an empty word. Returns the word
/// as bytes (escapes may produce any byte) and the rest.
pub(crate) fn extract_bytes<'a>(
    cursor: Option<&'a str>,
    separators: &str,
    flags: ExtractFlags,
) -> Result<(Option<Vec<u8>>, Option<&'a str>), ValueError> {
    let Some(input) = cursor else {
        return Ok((None, None));
    };
    // A C string ends at its first NUL.
    let s = input.split('\0').next().unwrap_or_default();
    let dont_coalesce = flags.contains(ExtractFlags::DONT_COALESCE_SEPARATORS);
    let retain_separators = flags.contains(ExtractFlags::RETAIN_SEPARATORS);
    let unquote = flags.contains(ExtractFlags::UNQUOTE);
    let honour_quotes = unquote || flags.contains(ExtractFlags::KEEP_QUOTE);
    let escapes = !flags.contains(ExtractFlags::RETAIN_ESCAPE);
    let relax = flags.contains(ExtractFlags::RELAX);
    let unescape_relax = flags.contains(ExtractFlags::UNESCAPE_RELAX);
    let is_sep = |c: char| separators.contains(c);
    let at = |pos: usize| s.get(pos..).and_then(|r| r.chars().next());
    let rest = |pos: usize| Some(s.get(pos..).unwrap_or_default());

    // With DONT_COALESCE_SEPARATORS even an empty field is a word.
    let word: Option<Vec<u8>> = dont_coalesce.then(Vec::new);
    let mut pos = 0;
    loop {
        match at(pos) {
            None => return Ok((word, None)),
            Some(c) if is_sep(c) => {
                if dont_coalesce {
                    if !retain_separators {
                        pos += c.len_utf8();
                    }
                    return Ok((word, rest(pos)));
                }
                pos += c.len_utf8();
            }
            Some(_) => break,
        }
    }

    let mut out = word.unwrap_or_default();
    let mut quote: Option<char> = None;
    let mut backslash = false;
    let push = |out: &mut Vec<u8>, c: char| {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    loop {
        let c = at(pos);
        if backslash {
            backslash = false;
            let Some(c) = c else {
                if unescape_relax && (quote.is_none() || relax) {
                    out.push(b'\\');
                    return Ok((Some(out), None));
                }
                if relax {
                    return Ok((Some(out), None));
                }
                return Err(ValueError::new(format!(
                    "trailing backslash at the end of '{s}'"
                )));
            };
            if flags.any(ExtractFlags::CUNESCAPE | ExtractFlags::UNESCAPE_SEPARATORS) {
                let decoded = if flags.contains(ExtractFlags::CUNESCAPE) {
                    unescape_one(s.get(pos..).unwrap_or_default())
                } else {
                    None
                };
                if let Some((bytes, used)) = decoded {
                    out.extend_from_slice(&bytes);
                    pos += used;
                    continue;
                }
                if flags.contains(ExtractFlags::UNESCAPE_SEPARATORS) && (is_sep(c) || c == '\\') {
                    push(&mut out, c);
                } else if unescape_relax {
                    out.push(b'\\');
                    push(&mut out, c);
                } else {
                    return Err(ValueError::new(format!(
                        "unknown escape sequence '\\{c}' in '{s}'"
                    )));
                }
            } else {
                push(&mut out, c);
            }
            pos += c.len_utf8();
        } else if let Some(q) = quote {
            match c {
                None if relax => return Ok((Some(out), None)),
                None => {
                    return Err(ValueError::new(format!("unbalanced quoting in '{s}'")));
                }
                Some('\\') if escapes => backslash = true,
                Some(c) => {
                    if c == q {
                        quote = None;
                    }
                    if c != q || !unquote {
                        push(&mut out, c);
                    }
                }
            }
            pos += c.map_or(0, char::len_utf8);
        } else {
            let Some(c) = c else {
                return Ok((Some(out), None));
            };
            if (c == '\'' || c == '"') && honour_quotes {
                quote = Some(c);
                if !unquote {
                    push(&mut out, c);
                }
            } else if c == '\\' && escapes {
                backslash = true;
            } else if is_sep(c) {
                if dont_coalesce {
                    if !retain_separators {
                        pos += c.len_utf8();
                    }
                    return Ok((Some(out), rest(pos)));
                }
                if !retain_separators {
                    let tail = s.get(pos..).unwrap_or_default();
                    let skipped = tail.trim_start_matches(is_sep);
                    if skipped.is_empty() {
                        return Ok((Some(out), None));
                    }
                    return Ok((Some(out), Some(skipped)));
                }
                return Ok((Some(out), rest(pos)));
            } else {
                push(&mut out, c);
            }
            pos += c.len_utf8();
        }
    }
}

fn into_string(bytes: Vec<u8>) -> Result<String, ValueError> {
    String::from_utf8(bytes).map_err(|e| {
        ValueError::new(format!(
            "escapes produce a word that is not valid UTF-8: '{}'",
            String::from_utf8_lossy(e.as_bytes())
        ))
    })
}

/// Splits the first word off `input`: `Ok(Some((word, rest)))`, or `Ok(None)` when only
/// separators are left. The rest is empty once the input is used up, and an empty input has
/// no word; with `DONT_COALESCE_SEPARATORS` systemd would give one more empty word after a
/// trailing separator, which [`split_words`] does.
pub fn extract_first_word<'a>(
    input: &'a str,
    separators: &str,
    flags: ExtractFlags,
) -> Result<Option<(String, &'a str)>, ValueError> {
    if input.is_empty() {
        return Ok(None);
    }
    match extract_bytes(Some(input), separators, flags)? {
        (Some(bytes), rest) => {
            let word = into_string(bytes)?;
            Ok(Some((word, rest.unwrap_or_default())))
        }
        (None, _) => Ok(None),
    }
}

/// Like [`extract_first_word`], but as unit-file settings do it: when an escape is not known
/// the word is taken again with the backslash kept verbatim, and a warning naming the word is
/// added to `warnings`. What still fails is unbalanced quoting.
pub fn extract_first_word_and_warn<'a>(
    input: &'a str,
    separators: &str,
    flags: ExtractFlags,
    warnings: &mut Vec<ValueError>,
) -> Result<Option<(String, &'a str)>, ValueError> {
    if input.is_empty() {
        return Ok(None);
    }
    let (word, rest, retried) = match extract_bytes(Some(input), separators, flags) {
        Ok((word, rest)) => (word, rest, false),
        Err(e) if flags.contains(ExtractFlags::UNESCAPE_RELAX) => return Err(e),
        Err(_) => {
            let relaxed = flags | ExtractFlags::UNESCAPE_RELAX;
            match extract_bytes(Some(input), separators, relaxed) {
                Ok((word, rest)) => (word, rest, true),
                // Only quoting can still be wrong once unknown escapes are accepted.
                Err(_) => {
                    return Err(ValueError::new(format!("unbalanced quoting in '{input}'")));
                }
            }
        }
    };
    let Some(word) = word else {
        return Ok(None);
    };
    let word = into_string(word)?;
    if retried {
        warnings.push(ValueError::new(format!(
            "ignoring unknown escape sequences: \"{word}\""
        )));
    }
    Ok(Some((word, rest.unwrap_or_default())))
}

/// Splits all of `input` into words, exactly as systemd's `strv_split_full()`.
/// `RETAIN_SEPARATORS` is ignored: it only shapes the rest, which this does not return, and
/// together with `DONT_COALESCE_SEPARATORS` it would never get past a separator.
pub fn split_words(
    input: &str,
    separators: &str,
    flags: ExtractFlags,
) -> Result<Vec<String>, ValueError> {
    let flags = ExtractFlags {
        retain_separators: false,
        ..flags
    };
    let mut words = Vec::new();
    let mut cursor = Some(input);
    loop {
        let (word, rest) = extract_bytes(cursor, separators, flags)?;
        let Some(word) = word else {
            return Ok(words);
        };
        words.push(into_string(word)?);
        cursor = rest;
    }
}

/// Decodes one C escape; `s` starts right after the backslash. Returns the bytes it stands
/// for and how many bytes of `s` it used, or `None` when it is not a valid escape. NUL is
/// refused in every form, as systemd does for unit files.
fn unescape_one(s: &str) -> Option<(Vec<u8>, usize)> {
    let b = s.as_bytes();
    let simple = |byte: u8| Some((vec![byte], 1));
    let hex = |from: usize, n: usize| -> Option<u32> {
        let digits = b.get(from..from + n)?;
        digits.iter().try_fold(0u32, |acc, &d| {
            let v = (d as char).to_digit(16)?;
            Some(acc << 4 | v)
        })
    };
    match *b.first()? {
        b'a' => simple(0x07),
        b'b' => simple(0x08),
        b'f' => simple(0x0c),
        b'n' => simple(b'\n'),
        b'r' => simple(b'\r'),
        b't' => simple(b'\t'),
        b'v' => simple(0x0b),
        b'\\' => simple(b'\\'),
        b'"' => simple(b'"'),
        b'\'' => simple(b'\''),
        b's' => simple(b' '),
        b'x' => {
            let v = hex(1, 2)?;
            // `\xNN` gives the byte itself, not the code point.
            (v != 0).then(|| (vec![v as u8], 3))
        }
        b'u' => {
            let v = hex(1, 4)?;
            (v != 0).then(|| (utf8_bytes(v), 5))
        }
        b'U' => {
            let v = hex(1, 8)?;
            (v != 0 && unichar_is_valid(v)).then(|| (utf8_bytes(v), 9))
        }
        b'0'..=b'7' => {
            let digits = b.get(0..3)?;
            let v = digits.iter().try_fold(0u32, |acc, &d| {
                let v = (d as char).to_digit(8)?;
                Some(acc << 3 | v)
            })?;
            (v != 0 && v <= 255).then(|| (vec![v as u8], 3))
        }
        _ => None,
    }
}

/// systemd's notion of a code point `\U` may name: inside Unicode, no UTF-16 surrogate, none
/// of the non-characters U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF.
fn unichar_is_valid(c: u32) -> bool {
    c < 0x11_0000
        && (c & 0xFFFF_F800) != 0xD800
        && !(0xFDD0..=0xFDEF).contains(&c)
        && (c & 0xFFFE) != 0xFFFE
}

/// UTF-8 encoding of any value below 0x110000. `\u` does not check for surrogates, so this
/// may produce the (invalid) encoding of one, which is then refused as non-UTF-8.
fn utf8_bytes(c: u32) -> Vec<u8> {
    if let Some(ch) = char::from_u32(c) {
        let mut buf = [0u8; 4];
        return ch.encode_utf8(&mut buf).as_bytes().to_vec();
    }
    vec![
        0xE0 | ((c >> 12) as u8 & 0x0F),
        0x80 | ((c >> 6) as u8 & 0x3F),
        0x80 | (c as u8 & 0x3F),
    ]
}

/// Undoes C escaping in all of `s` (`\a \b \f \n \r \t \v \\ \" \' \s \xNN \NNN \uNNNN
/// \UNNNNNNNN`). Unknown escapes and a trailing backslash are errors, or kept verbatim when
/// `relax` is set. NUL is always refused.
pub fn cunescape(s: &str, relax: bool) -> Result<String, ValueError> {
    let s = s.split('\0').next().unwrap_or_default();
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    while let Some((before, after)) = rest.split_once('\\') {
        out.extend_from_slice(before.as_bytes());
        if after.is_empty() {
            if relax {
                out.push(b'\\');
                rest = after;
                break;
            }
            return Err(ValueError::new(format!(
                "trailing backslash at the end of '{s}'"
            )));
        }
        match unescape_one(after) {
            Some((bytes, used)) => {
                out.extend_from_slice(&bytes);
                rest = after.get(used..).unwrap_or_default();
            }
            // The character after the backslash is then read as ordinary text.
            None if relax => {
                out.push(b'\\');
                rest = after;
            }
            None => {
                let shown: String = after.chars().take(1).collect();
                return Err(ValueError::new(format!(
                    "invalid escape sequence '\\{shown}' in '{s}'"
                )));
            }
        }
    }
    out.extend_from_slice(rest.as_bytes());
    into_string(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const UQ: ExtractFlags = ExtractFlags::UNQUOTE;
    const CU: ExtractFlags = ExtractFlags::CUNESCAPE;
    const RELAX: ExtractFlags = ExtractFlags::RELAX;
    const UR: ExtractFlags = ExtractFlags::UNESCAPE_RELAX;
    const US: ExtractFlags = ExtractFlags::UNESCAPE_SEPARATORS;
    const DC: ExtractFlags = ExtractFlags::DONT_COALESCE_SEPARATORS;
    const KQ: ExtractFlags = ExtractFlags::KEEP_QUOTE;
    const RE: ExtractFlags = ExtractFlags::RETAIN_ESCAPE;
    const RS: ExtractFlags = ExtractFlags::RETAIN_SEPARATORS;
    const NONE: ExtractFlags = ExtractFlags::NONE;

    /// One extraction: expected `Some((word, rest))`, `None` for "no word", or `Err` (`""`
    /// as the word marks an expected error in the `Result` form below).
    fn first(input: &str, seps: &str, flags: ExtractFlags, expected: Option<(&str, &str)>) {
        let got = extract_first_word(input, seps, flags);
        let got = got.unwrap_or_else(|e| panic!("{input:?}: unexpected error {e}"));
        let got = got.as_ref().map(|(w, r)| (w.as_str(), *r));
        assert_eq!(got, expected, "input {input:?} flags {flags:?}");
    }

    fn first_err(input: &str, seps: &str, flags: ExtractFlags) {
        let got = extract_first_word(input, seps, flags);
        assert!(
            got.is_err(),
            "{input:?} {flags:?}: expected an error, got {got:?}"
        );
    }

    fn split(input: &str, seps: &str, flags: ExtractFlags, expected: &[&str]) {
        let got = split_words(input, seps, flags)
            .unwrap_or_else(|e| panic!("{input:?}: unexpected error {e}"));
        assert_eq!(got, expected, "input {input:?} flags {flags:?}");
    }

    #[test]
    fn flag_styles_agree() {
        let by_name = ExtractFlags {
            unquote: true,
            cunescape: true,
            ..Default::default()
        };
        assert_eq!(by_name, UQ | CU);
        assert_eq!(ExtractFlags::CUNESCAPE_RELAX, UR);
        assert!((UQ | CU).contains(CU) && !(UQ | CU).contains(UQ | RELAX));
    }

    #[test]
    fn plain_words_and_rest() {
        first("alpha beta", WHITESPACE, NONE, Some(("alpha", "beta")));
        first(
            "  alpha \t beta  ",
            WHITESPACE,
            NONE,
            Some(("alpha", "beta  ")),
        );
        first("alpha   ", WHITESPACE, NONE, Some(("alpha", "")));
        first("", WHITESPACE, NONE, None);
        first("   ", WHITESPACE, NONE, None);
        first("x", "", NONE, Some(("x", "")));
        first("one two", "", NONE, Some(("one two", "")));
    }

    #[test]
    fn quotes() {
        // Without UNQUOTE quotes are ordinary characters.
        first("\"a b\" c", WHITESPACE, NONE, Some(("\"a", "b\" c")));
        first("\"a b\" c", WHITESPACE, UQ, Some(("a b", "c")));
        first("'a b' c", WHITESPACE, UQ, Some(("a b", "c")));
        // Quotes may open and close anywhere inside a word.
        first("x\"y z\"w 'q'", WHITESPACE, UQ, Some(("xy zw", "'q'")));
        first("'it\"s'", WHITESPACE, UQ, Some(("it\"s", "")));
        first("\"\" next", WHITESPACE, UQ, Some(("", "next")));
        first("''", WHITESPACE, UQ, Some(("", "")));
        // KEEP_QUOTE groups like UNQUOTE but leaves the quotes in.
        first("\"a b\"c d", WHITESPACE, KQ, Some(("\"a b\"c", "d")));
        first("'x y'", WHITESPACE, KQ, Some(("'x y'", "")));
    }

    #[test]
    fn unbalanced_quotes() {
        first_err("\"open", WHITESPACE, UQ);
        first_err("ok 'open", ":", UQ);
        first_err("a\"b", WHITESPACE, KQ);
        first("\"open", WHITESPACE, UQ | RELAX, Some(("open", "")));
        first(
            "'open word",
            WHITESPACE,
            UQ | RELAX,
            Some(("open word", "")),
        );
        first("\"", WHITESPACE, UQ | RELAX, Some(("", "")));
        // A quote that is never reached does not matter.
        first("fine \"open", WHITESPACE, UQ, Some(("fine", "\"open")));
    }

    #[test]
    fn backslashes_without_unescaping() {
        // Without CUNESCAPE a backslash just makes the next character literal.
        first("a\\ b c", WHITESPACE, NONE, Some(("a b", "c")));
        first("\\\"x\\\"", WHITESPACE, UQ, Some(("\"x\"", "")));
        first("n\\n", WHITESPACE, NONE, Some(("nn", "")));
        first("\"in\\\"side\"", WHITESPACE, UQ, Some(("in\"side", "")));
        // A trailing backslash.
        first_err("end\\", WHITESPACE, NONE);
        first("end\\", WHITESPACE, RELAX, Some(("end", "")));
        first("end\\", WHITESPACE, CU | UR, Some(("end\\", "")));
        // Inside quotes UNESCAPE_RELAX alone does not excuse it: the quote is open too.
        first_err("\"end\\", WHITESPACE, UQ | CU | UR);
        first(
            "\"end\\",
            WHITESPACE,
            UQ | CU | UR | RELAX,
            Some(("end\\", "")),
        );
        first("\"end\\", WHITESPACE, UQ | RELAX, Some(("end", "")));
    }

    #[test]
    fn c_escapes_in_words() {
        first("a\\tb", WHITESPACE, CU, Some(("a\tb", "")));
        first(
            "\\x41\\102\\u00e9\\U0001F600",
            WHITESPACE,
            CU,
            Some(("AB\u{e9}\u{1F600}", "")),
        );
        first("\"\\s\\n\"", WHITESPACE, CU | UQ, Some((" \n", "")));
        // Byte escapes may together form one UTF-8 character.
        first("\\xc3\\xa9", WHITESPACE, CU, Some(("\u{e9}", "")));
        first_err("\\xff", WHITESPACE, CU);
        first_err("\\ud800", WHITESPACE, CU);
        // Unknown or incomplete escapes, and NUL in any spelling.
        first_err("a\\zb", WHITESPACE, CU);
        first_err("\\x4", WHITESPACE, CU);
        first_err("\\x00", WHITESPACE, CU);
        first_err("\\000", WHITESPACE, CU);
        first_err("\\u0000", WHITESPACE, CU);
        first_err("\\U0000FFFE", WHITESPACE, CU);
        first_err("\\400", WHITESPACE, CU);
        first("a\\zb", WHITESPACE, CU | UR, Some(("a\\zb", "")));
        first("\\x4", WHITESPACE, CU | UR, Some(("\\x4", "")));
        // A backslash before a separator is no C escape.
        first_err("a\\ b", WHITESPACE, CU);
        first("a\\ b", WHITESPACE, CU | UR, Some(("a\\ b", "")));
    }

    #[test]
    fn unescape_separators() {
        first("a\\:b:c", ":", US, Some(("a:b", "c")));
        first("a\\\\b", ":", US, Some(("a\\b", "")));
        first_err("a\\nb", ":", US);
        first("a\\nb", ":", US | CU, Some(("a\nb", "")));
        first("a\\ b c", WHITESPACE, US | CU, Some(("a b", "c")));
    }

    #[test]
    fn separators_and_coalescing() {
        split("a::b", ":", NONE, &["a", "b"]);
        split("a::b", ":", DC, &["a", "", "b"]);
        split(":a:", ":", DC, &["", "a", ""]);
        split("a:", ":", DC, &["a", ""]);
        split("", ":", DC, &[""]);
        split("", ":", NONE, &[]);
        split("a", ":", DC, &["a"]);
        first("a::b", ":", DC, Some(("a", ":b")));
        first("a:b", ":", RS, Some(("a", ":b")));
        first("a:b", ":", DC | RS, Some(("a", ":b")));
    }

    #[test]
    fn retain_escape() {
        split("a\\:b::c", ":", DC | RE, &["a\\", "b", "", "c"]);
        first("\"x\\\"", WHITESPACE, UQ | RE, Some(("x\\", "")));
    }

    #[test]
    fn split_examples() {
        split(
            "  one \"two three\"  'four' ",
            WHITESPACE,
            UQ,
            &["one", "two three", "four"],
        );
        split("a\\x20b c", WHITESPACE, UQ | CU, &["a b", "c"]);
        // The same input as systemd's ExecStart= tests: unquoting and escapes together.
        split("a\"b c\"d 'x\"y'", WHITESPACE, UQ | CU, &["ab cd", "x\"y"]);
        assert!(split_words("a 'b", WHITESPACE, UQ).is_err());
    }

    #[test]
    fn nul_ends_the_input() {
        first("ab\0cd ef", WHITESPACE, NONE, Some(("ab", "")));
        split("x y\0z", WHITESPACE, NONE, &["x", "y"]);
    }

    #[test]
    fn and_warn_retries_unknown_escapes() {
        let check = |input: &str, expected: Result<Option<(&str, &str)>, ()>, warns: usize| {
            let mut w = Vec::new();
            let got = extract_first_word_and_warn(input, WHITESPACE, UQ | CU, &mut w);
            let got = got
                .as_ref()
                .map(|o| o.as_ref().map(|(a, b)| (a.as_str(), *b)));
            assert_eq!(got.map_err(|_| ()), expected, "input {input:?}");
            assert_eq!(w.len(), warns, "warnings for {input:?}: {w:?}");
        };
        check("plain rest", Ok(Some(("plain", "rest"))), 0);
        check("a\\;b rest", Ok(Some(("a\\;b", "rest"))), 1);
        check("\"\\;\"", Ok(Some(("\\;", ""))), 1);
        check("\\x00z", Ok(Some(("\\x00z", ""))), 1);
        check("tail\\", Ok(Some(("tail\\", ""))), 1);
        check("'open", Err(()), 0);
        check("\"open\\", Err(()), 0);
        check("", Ok(None), 0);
    }

    #[test]
    fn cunescape_table() {
        let ok = |input: &str, relax: bool, expected: &str| {
            assert_eq!(
                cunescape(input, relax).as_deref(),
                Ok(expected),
                "{input:?}"
            );
        };
        let err = |input: &str, relax: bool| {
            assert!(cunescape(input, relax).is_err(), "{input:?} should fail");
        };
        ok("", false, "");
        ok("plain", false, "plain");
        ok("\\a\\b\\f\\n\\r\\t\\v", false, "\x07\x08\x0c\n\r\t\x0b");
        ok("\\\\ \\\" \\' \\s", false, "\\ \" '  ");
        ok("\\x41\\x6a", false, "Aj");
        ok("\\101\\040\\177", false, "A \x7f");
        ok("\\u00e9\\u20AC", false, "\u{e9}\u{20ac}");
        ok("\\U0001F600", false, "\u{1F600}");
        ok("\\xe2\\x82\\xac", false, "\u{20ac}");
        err("\\x00", false);
        err("\\000", false);
        err("\\u0000", false);
        err("\\U00000000", false);
        ok("\\x00", true, "\\x00");
        err("\\q", false);
        err("tail\\", false);
        err("\\8", false);
        err("\\777", false);
        err("\\U00110000", false);
        err("\\UFFFFFFFF", false);
        err("\\U0000D800", false);
        err("\\U0000FDD0", false);
        err("\\xff", false);
        ok("\\q", true, "\\q");
        ok("tail\\", true, "tail\\");
        ok("\\x4g", true, "\\x4g");
        // After an unknown escape, the next character is read normally.
        ok("\\\\q\\z\\n", true, "\\q\\z\n");
    }

    proptest! {
        #[test]
        fn never_panics(input in "\\PC*", seps in "[ :,\\\\\"']{0,3}", bits in 0u16..512) {
            let flags = ExtractFlags::from_bits(bits);
            let _ = extract_first_word(&input, &seps, flags);
            let _ = split_words(&input, &seps, flags);
            let _ = extract_first_word_and_warn(&input, &seps, flags, &mut Vec::new());
            let _ = cunescape(&input, bits % 2 == 0);
        }

        #[test]
        fn never_panics_on_escape_heavy_input(input in "[a-f0-9xuU\\\\\"' :;]{0,40}", bits in 0u16..512) {
            let flags = ExtractFlags::from_bits(bits);
            let _ = split_words(&input, WHITESPACE, flags);
            let _ = cunescape(&input, bits % 2 == 0);
        }

        #[test]
        fn split_words_terminates_and_rest_shrinks(input in "[a-c \"'\\\\]{0,30}") {
            let mut cursor = input.as_str();
            let mut steps = 0;
            while let Ok(Some((_, rest))) = extract_first_word(cursor, WHITESPACE, UQ | RELAX) {
                prop_assert!(rest.len() < cursor.len());
                cursor = rest;
                steps += 1;
                prop_assert!(steps <= 31);
            }
        }
    }
}
