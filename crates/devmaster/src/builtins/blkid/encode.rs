//! String conversions of libblkid that udev's blkid builtin relies on.
//!
//! - [`encode_string`] is `blkid_encode_string`: every byte that is not an ASCII letter or
//!   digit, not one of `#+-.:=@_` and not part of a valid UTF-8 sequence becomes `\xNN`
//!   (lower-case hex); udev uses it for the `_ENC` properties and the by-label/by-uuid links.
//!   It is the same rule as udev's own `encode_devnode_name`.
//! - [`safe_string`] is `blkid_safe_string`: whitespace runs collapse, leading and trailing
//!   whitespace goes, remaining whitespace and invalid UTF-8 bytes become `_`.
//! - [`utf16_to_utf8`] is util-linux's `ul_encode_to_utf8` for UTF-16 labels (GPT names,
//!   Joliet volume ids); like it, it stops at a NUL and does not reject lone surrogates.
//!
//! Both string functions work on udev's 256-byte buffers: longer results are cut where udev
//! cuts them.

/// Size of udev's value buffer (`char s[256]`).
const UDEV_BUF: usize = 256;

/// C's `isspace` in the C locale.
pub(crate) fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// The length of the valid UTF-8 sequence at the start of `s`, by libblkid's rules: 1 for
/// ASCII, 2..4 for a well-formed, shortest-form sequence of a code point up to U+10FFFF that
/// is not a surrogate, not U+FDD0..U+FDEF and not U+xFFFF; `None` otherwise.
fn utf8_valid_len(s: &[u8]) -> Option<usize> {
    let c = *s.first()?;
    let len = match c {
        0x00..=0x7f => return Some(1),
        _ if c & 0xe0 == 0xc0 => 2,
        _ if c & 0xf0 == 0xe0 => 3,
        _ if c & 0xf8 == 0xf0 => 4,
        _ => return None, // a continuation byte, or a 5/6-byte lead that is always too large
    };
    let seq = s.get(..len)?;
    let mut cp = u32::from(c) & (0x7f >> len);
    for &b in seq.iter().skip(1) {
        if b & 0xc0 != 0x80 {
            return None;
        }
        cp = (cp << 6) | u32::from(b & 0x3f);
    }
    let shortest = match cp {
        0..=0x7f => 1,
        0x80..=0x7ff => 2,
        0x800..=0xffff => 3,
        _ => 4,
    };
    let valid = cp <= 0x10ffff
        && cp & 0xffff_f800 != 0xd800
        && !(0xfdd0..=0xfdef).contains(&cp)
        && cp & 0xffff != 0xffff;
    (shortest == len && valid).then_some(len)
}

fn is_whitelisted(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"#+-.:=@_".contains(&c)
}

/// `blkid_encode_string` into udev's 256-byte buffer. `s` ends at its first NUL.
pub fn encode_string(s: &[u8]) -> String {
    let s = super::area::cstr(s);
    let mut out = String::new();
    let mut i = 0;
    while let Some(rest) = s.get(i..).filter(|r| !r.is_empty()) {
        let c = rest.first().copied().unwrap_or(0);
        let seq = utf8_valid_len(rest).unwrap_or(0);
        let piece = if seq > 1 {
            String::from_utf8_lossy(rest.get(..seq).unwrap_or(&[])).into_owned()
        } else if c == b'\\' || !is_whitelisted(c) {
            format!("\\x{c:02x}")
        } else {
            char::from(c).to_string()
        };
        // udev's buffer: the encoder gives up once fewer than 4 bytes are left.
        if out.len() + piece.len() > UDEV_BUF - 1 {
            break;
        }
        out.push_str(&piece);
        i += seq.max(1);
        if out.len() + 3 >= UDEV_BUF {
            break;
        }
    }
    out
}

/// `blkid_safe_string` into udev's 256-byte buffer. `s` ends at its first NUL.
pub fn safe_string(s: &[u8]) -> String {
    let s = super::area::cstr(s);
    let s = s.get(..s.len().min(UDEV_BUF)).unwrap_or(s);
    // Whitespace normalisation: no leading, no trailing, runs become their first character.
    let mut norm: Vec<u8> = Vec::with_capacity(s.len());
    let (mut spaces, mut in_text) = (0, false);
    for &c in s {
        if norm.len() >= UDEV_BUF - 1 {
            break;
        }
        if is_c_space(c) {
            spaces += 1;
        } else {
            spaces = 0;
            in_text = true;
        }
        if spaces > 1 || (spaces > 0 && !in_text) {
            continue;
        }
        norm.push(c);
    }
    if spaces > 0 && !norm.is_empty() {
        norm.pop();
    }
    let mut out = Vec::with_capacity(norm.len());
    let mut i = 0;
    while let Some(rest) = norm.get(i..).filter(|r| !r.is_empty()) {
        let c = rest.first().copied().unwrap_or(0);
        if (0x21..=0x7e).contains(&c) {
            out.push(c);
            i += 1;
        } else if is_c_space(c) {
            out.push(b'_');
            i += 1;
        } else if let Some(n) = utf8_valid_len(rest) {
            out.extend_from_slice(rest.get(..n).unwrap_or(&[]));
            i += n;
        } else {
            out.push(b'_');
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// UTF-16 byte order.
#[derive(Clone, Copy)]
pub(crate) enum Utf16 {
    Le,
    Be,
}

/// `ul_encode_to_utf8` for UTF-16 `src` into at most `cap - 1` bytes: stops at a NUL code
/// unit, joins surrogate pairs, and encodes anything else (a lone surrogate too) as is.
pub(crate) fn utf16_to_utf8(src: &[u8], order: Utf16, cap: usize) -> Vec<u8> {
    let unit = |i: usize| -> u32 {
        let (a, b) = (super::area::u8_at(src, i), super::area::u8_at(src, i + 1));
        match order {
            Utf16::Le => u32::from(b) << 8 | u32::from(a),
            Utf16::Be => u32::from(a) << 8 | u32::from(b),
        }
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 <= src.len() {
        let mut c = unit(i);
        i += 2;
        if (0xd800..=0xdbff).contains(&c) && i + 1 < src.len() {
            let c2 = unit(i);
            if (0xdc00..=0xdfff).contains(&c2) {
                c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
                i += 2;
            }
        }
        if c == 0 {
            break;
        }
        let n = match c {
            0..=0x7f => 1,
            0x80..=0x7ff => 2,
            0x800..=0xffff => 3,
            _ => 4,
        };
        if out.len() + n >= cap {
            break;
        }
        // The bytes of a (possibly lone-surrogate) code point, built by hand since `char`
        // refuses surrogates.
        match n {
            1 => out.push(c as u8),
            2 => out.extend([0xc0 | (c >> 6) as u8, 0x80 | (c & 0x3f) as u8]),
            3 => out.extend([
                0xe0 | (c >> 12) as u8,
                0x80 | ((c >> 6) & 0x3f) as u8,
                0x80 | (c & 0x3f) as u8,
            ]),
            _ => out.extend([
                0xf0 | (c >> 18) as u8,
                0x80 | ((c >> 12) & 0x3f) as u8,
                0x80 | ((c >> 6) & 0x3f) as u8,
                0x80 | (c & 0x3f) as u8,
            ]),
        }
    }
    out
}

/// Removes trailing C whitespace.
pub(crate) fn rtrim(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&c| !is_c_space(c)).map_or(0, |p| p + 1);
    s.get(..end).unwrap_or(&[])
}

/// Removes leading C whitespace.
pub(crate) fn ltrim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| !is_c_space(c)).unwrap_or(s.len());
    s.get(start..).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_like_blkid() {
        // Expected values from `blkid -p -o udev` on labelled images (see the oracle test).
        let cases: &[(&[u8], &str)] = &[
            (b"my label \xc3\xa9", "my\\x20label\\x20\u{e9}"),
            (b"a/b\\c", "a\\x2fb\\x5cc"),
            (b"ok#+-.:=@_", "ok#+-.:=@_"),
            (b"\xff\xc3", "\\xff\\xc3"),
            (b"\xed\xa0\x80", "\\xed\\xa0\\x80"), // a surrogate
            (b"\xef\xbf\xbf", "\\xef\\xbf\\xbf"), // U+FFFF
            (b"\xf0\x9f\x98\x80", "\u{1f600}"),
            (b"\xc0\x80", "\\xc0\\x80"), // overlong NUL
            (b"ab\0cd", "ab"),
        ];
        for (input, want) in cases {
            assert_eq!(encode_string(input), *want, "{input:?}");
        }
    }

    #[test]
    fn safe_like_blkid() {
        let cases: &[(&[u8], &str)] = &[
            (b"my label \xc3\xa9", "my_label_\u{e9}"),
            (b"  lead  and   trail  ", "lead_and_trail"),
            (b"tab\there", "tab_here"),
            (b"bad\xffbyte", "bad_byte"),
            (b"ctl\x01", "ctl\x01"),
            (b"   ", ""),
        ];
        for (input, want) in cases {
            assert_eq!(safe_string(input), *want, "{input:?}");
        }
    }

    #[test]
    fn udev_buffer_limits() {
        let long = vec![b' '; 300];
        let enc = encode_string(&[b"x".as_slice(), &long].concat());
        assert!(enc.len() <= 255, "{}", enc.len());
        assert_eq!(enc.len(), 1 + 63 * 4);
        assert_eq!(safe_string(&[b'a'; 300]).len(), 255);
    }

    #[test]
    fn utf16() {
        let le: Vec<u8> = "Ab\u{e9}\u{1f600}"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(
            utf16_to_utf8(&[le.as_slice(), &[0, 0, b'x', 0]].concat(), Utf16::Le, 128),
            "Ab\u{e9}\u{1f600}".as_bytes()
        );
        assert_eq!(
            utf16_to_utf8(&[0, b'A', 0xd8, 0], Utf16::Be, 16),
            b"A\xed\xa0\x80"
        );
        assert_eq!(utf16_to_utf8(&[0, b'A', 0, b'B'], Utf16::Be, 2), b"A");
    }
}
