//! systemd's `strverscmp_improved`, which udev's blkid builtin uses to pick the newest root
//! partition by its GPT label.
//!
//! Versions are split into numeric and alphabetic segments; other characters separate
//! segments. A segment may be prefixed by `~` (pre-release, oldest), `-` (release
//! separator), `^` (patched release) or `.` (point release), and no prefix is newest.
//! Numbers compare by value (leading zeros ignored), a numeric segment is newer than an
//! alphabetic one, and a string with more segments is newer unless the extra segment is a
//! `~` one.

use std::cmp::Ordering;

fn is_version_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'~' | b'-' | b'^' | b'.')
}

/// Compares two version strings as systemd 252 does (`None` sorts as the empty string).
pub(crate) fn strverscmp_improved(a: Option<&[u8]>, b: Option<&[u8]>) -> Ordering {
    let (mut a, mut b) = (a.unwrap_or_default(), b.unwrap_or_default());
    let first = |s: &[u8]| s.first().copied().unwrap_or(0);
    loop {
        while a.first().is_some_and(|&c| !is_version_char(c)) {
            a = skip(a, 1);
        }
        while b.first().is_some_and(|&c| !is_version_char(c)) {
            b = skip(b, 1);
        }
        // A `~` segment is older than anything, even the end of the other string.
        if first(a) == b'~' || first(b) == b'~' {
            let r = (first(a) != b'~').cmp(&(first(b) != b'~'));
            if r.is_ne() {
                return r;
            }
            (a, b) = (skip(a, 1), skip(b, 1));
        }
        if a.is_empty() || b.is_empty() {
            return first(a).cmp(&first(b));
        }
        for prefix in [b'-', b'^', b'.'] {
            if first(a) == prefix || first(b) == prefix {
                let r = (first(a) != prefix).cmp(&(first(b) != prefix));
                if r.is_ne() {
                    return r;
                }
                (a, b) = (skip(a, 1), skip(b, 1));
            }
        }
        let run = |s: &[u8], f: fn(&u8) -> bool| s.iter().take_while(|c| f(c)).count();
        let (na, nb);
        if first(a).is_ascii_digit() || first(b).is_ascii_digit() {
            (na, nb) = (run(a, u8::is_ascii_digit), run(b, u8::is_ascii_digit));
            // A number is newer than no number.
            let r = (na != 0).cmp(&(nb != 0));
            if r.is_ne() {
                return r;
            }
            let (da, db) = (
                a.get(..na).unwrap_or_default(),
                b.get(..nb).unwrap_or_default(),
            );
            let (da, db) = (trim_zeros(da), trim_zeros(db));
            let r = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
            if r.is_ne() {
                return r;
            }
        } else {
            (na, nb) = (
                run(a, u8::is_ascii_alphabetic),
                run(b, u8::is_ascii_alphabetic),
            );
            let (sa, sb) = (
                a.get(..na).unwrap_or_default(),
                b.get(..nb).unwrap_or_default(),
            );
            let common = na.min(nb);
            let r = sa.get(..common).cmp(&sb.get(..common)).then(na.cmp(&nb));
            if r.is_ne() {
                return r;
            }
        }
        (a, b) = (skip(a, na), skip(b, nb));
    }
}

fn skip(s: &[u8], n: usize) -> &[u8] {
    s.get(n..).unwrap_or_default()
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b'0').count();
    s.get(n..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_systemd_analyze_compare_versions() {
        // Each pair is "older < newer" (or equal) as `systemd-analyze compare-versions` of
        // systemd 252 answers it.
        let older_newer = [
            ("1.2", "1.10"),
            ("122.1", "123~rc1-1"),
            ("123~rc1-1", "123"),
            ("123", "123-a"),
            ("123-a", "123-a.1"),
            ("123-a.1", "123-1"),
            ("123-1", "123-1.1"),
            ("123-1.1", "123^post1"),
            ("123^post1", "123.a-1"),
            ("123.a-1", "123.1-1"),
            ("123.1-1", "123a-1"),
            ("123a-1", "124-1"),
            ("abc", "abcde"),
            ("root-2", "root-10"),
            ("a_b", "ab"),
            ("~1", ""),
            ("1.2", "1_2"),
            ("x", "1"),
            ("fedora-38", "fedora-38.1"),
            ("A", "a"),
            ("root-1.2~rc1", "root-1.2"),
        ];
        for (old, new) in older_newer {
            let (o, n) = (Some(old.as_bytes()), Some(new.as_bytes()));
            assert_eq!(strverscmp_improved(o, n), Ordering::Less, "{old} < {new}");
            assert_eq!(
                strverscmp_improved(n, o),
                Ordering::Greater,
                "{new} > {old}"
            );
            assert_eq!(strverscmp_improved(n, n), Ordering::Equal, "{new}");
        }
        assert_eq!(
            strverscmp_improved(Some(b"00123"), Some(b"123")),
            Ordering::Equal
        );
        assert_eq!(strverscmp_improved(None, Some(b"a")), Ordering::Less);
        assert_eq!(strverscmp_improved(None, None), Ordering::Equal);
    }
}
