//! udev's match patterns: shell globs as `fnmatch(3)` without flags sees them (`*`, `?`,
//! `[...]` with ranges, `!`/`^` negation and POSIX `[:class:]`es, `\` quoting the next
//! character), `|`-separated alternatives where an empty alternative matches the empty
//! string, and the `i"..."` case-insensitive form (ASCII case folding).
//!
//! Matching works on bytes, as `fnmatch` does in the C locale udevd runs in. The matcher is
//! iterative: it remembers only the last `*` it passed, so a match costs at most
//! O(len(pattern) × len(string)) steps whatever the pattern (no exponential backtracking).

/// How a match value is compared, decided once at parse time like udev does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `""`: matches only the empty (or absent) value.
    Empty,
    /// No glob characters: byte equality with one of the alternatives.
    Plain,
    /// Glob characters somewhere in the value: every alternative is a glob.
    Glob,
    /// `SUBSYSTEM=="subsystem"` (or `"bus"`, `"class"`): matches any of the three words.
    Subsystem,
}

/// A compiled match value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The value as written (after unquoting), for messages and `devctl test`.
    pub source: String,
    /// How the alternatives are compared.
    pub kind: Kind,
    /// The non-empty alternatives.
    pub alternatives: Vec<String>,
    /// An empty alternative (`"|foo"`, `"foo|"`, `"a||b"`): the empty string matches too.
    pub matches_empty: bool,
    /// `i"..."`: ASCII letters compare case-insensitively.
    pub case_insensitive: bool,
}

/// `true` when `s` holds one of the characters that make udev treat a value as a glob.
pub fn is_glob(s: &str) -> bool {
    s.bytes().any(|b| matches!(b, b'*' | b'?' | b'['))
}

impl Pattern {
    /// Compiles a match value. `alternatives` is false for keys whose value is not split at
    /// `|`; `subsystem_key` is true for `SUBSYSTEM`, whose values "subsystem", "bus" and
    /// "class" are synonyms.
    pub fn new(
        value: &str,
        alternatives: bool,
        subsystem_key: bool,
        case_insensitive: bool,
    ) -> Self {
        let kind = if subsystem_key && matches!(value, "subsystem" | "bus" | "class") {
            Kind::Subsystem
        } else if value.is_empty() {
            Kind::Empty
        } else if is_glob(value) {
            Kind::Glob
        } else {
            Kind::Plain
        };
        let (alts, matches_empty) =
            if alternatives && kind != Kind::Subsystem && kind != Kind::Empty {
                let parts: Vec<&str> = value.split('|').collect();
                let empty = parts.iter().any(|p| p.is_empty());
                (
                    parts
                        .into_iter()
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .collect(),
                    empty,
                )
            } else {
                (vec![value.to_string()], kind == Kind::Empty)
            };
        Pattern {
            source: value.to_string(),
            kind,
            alternatives: if kind == Kind::Empty {
                Vec::new()
            } else {
                alts
            },
            matches_empty,
            case_insensitive,
        }
    }

    /// Whether `s` (an absent value counts as "") matches. The operator (`==`/`!=`) is the
    /// caller's business.
    pub fn matches(&self, s: &str) -> bool {
        match self.kind {
            Kind::Empty => s.is_empty(),
            Kind::Subsystem => matches!(s, "subsystem" | "bus" | "class"),
            Kind::Plain => {
                (self.matches_empty && s.is_empty())
                    || self.alternatives.iter().any(|a| {
                        if self.case_insensitive {
                            a.eq_ignore_ascii_case(s)
                        } else {
                            a == s
                        }
                    })
            }
            Kind::Glob => {
                (self.matches_empty && s.is_empty())
                    || self
                        .alternatives
                        .iter()
                        .any(|a| glob(a, s, self.case_insensitive))
            }
        }
    }
}

/// `fnmatch(pattern, s, 0)` (or with `FNM_CASEFOLD` when `fold`).
pub fn glob(pattern: &str, s: &str, fold: bool) -> bool {
    let mut steps = 0u64;
    glob_counted(pattern.as_bytes(), s.as_bytes(), fold, &mut steps)
}

fn fold_byte(b: u8, fold: bool) -> u8 {
    if fold {
        b.to_ascii_lowercase()
    } else {
        b
    }
}

/// The matcher, counting its steps in `steps` (for the bound test).
pub(crate) fn glob_counted(pat: &[u8], s: &[u8], fold: bool, steps: &mut u64) -> bool {
    let mut p = 0usize;
    let mut i = 0usize;
    // Where to resume after the last `*`: the pattern position after it and the next string
    // position it will swallow.
    let mut star: Option<(usize, usize)> = None;
    loop {
        *steps += 1;
        let Some(&c) = s.get(i) else { break };
        let mut advanced = false;
        match pat.get(p) {
            Some(b'*') => {
                while pat.get(p) == Some(&b'*') {
                    p += 1;
                }
                star = Some((p, i));
                continue;
            }
            Some(b'?') => {
                p += 1;
                i += 1;
                advanced = true;
            }
            Some(b'[') => match bracket(pat, p, c, fold) {
                Bracket::Matched(next) => {
                    p = next;
                    i += 1;
                    advanced = true;
                }
                Bracket::NotMatched => {}
                Bracket::Malformed => {
                    if fold_byte(c, fold) == b'[' {
                        p += 1;
                        i += 1;
                        advanced = true;
                    }
                }
            },
            Some(b'\\') => match pat.get(p + 1) {
                // A trailing backslash matches nothing.
                None => return false,
                Some(&q) if fold_byte(q, fold) == fold_byte(c, fold) => {
                    p += 2;
                    i += 1;
                    advanced = true;
                }
                Some(_) => {}
            },
            Some(&q) if fold_byte(q, fold) == fold_byte(c, fold) => {
                p += 1;
                i += 1;
                advanced = true;
            }
            Some(_) | None => {}
        }
        if !advanced {
            match star {
                Some((sp, si)) => {
                    p = sp;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            }
        }
    }
    while pat.get(p) == Some(&b'*') {
        p += 1;
    }
    p == pat.len()
}

enum Bracket {
    /// The class matched; the pattern continues at this index.
    Matched(usize),
    NotMatched,
    /// No closing `]`: the `[` is an ordinary character.
    Malformed,
}

fn class_matches(name: &[u8], c: u8) -> Option<bool> {
    Some(match name {
        b"alpha" => c.is_ascii_alphabetic(),
        b"digit" => c.is_ascii_digit(),
        b"alnum" => c.is_ascii_alphanumeric(),
        b"upper" => c.is_ascii_uppercase(),
        b"lower" => c.is_ascii_lowercase(),
        b"space" => matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b"blank" => matches!(c, b' ' | b'\t'),
        b"xdigit" => c.is_ascii_hexdigit(),
        b"punct" => c.is_ascii_punctuation(),
        b"print" => (0x20..0x7f).contains(&c),
        b"graph" => c.is_ascii_graphic(),
        b"cntrl" => c.is_ascii_control(),
        _ => return None,
    })
}

/// Evaluates the bracket expression starting at `pat[start] == '['` against `c`.
fn bracket(pat: &[u8], start: usize, c: u8, fold: bool) -> Bracket {
    let mut q = start + 1;
    let negate = matches!(pat.get(q), Some(b'!' | b'^'));
    if negate {
        q += 1;
    }
    let lc = fold_byte(c, fold);
    let uc = if fold { c.to_ascii_uppercase() } else { c };
    let mut hit = false;
    let mut first = true;
    loop {
        let Some(&b) = pat.get(q) else {
            return Bracket::Malformed;
        };
        if b == b']' && !first {
            q += 1;
            break;
        }
        first = false;
        if b == b'[' && pat.get(q + 1) == Some(&b':') {
            // `[:name:]`
            let name_start = q + 2;
            let mut e = name_start;
            while let Some(&x) = pat.get(e) {
                if x == b':' || x == b']' {
                    break;
                }
                e += 1;
            }
            if pat.get(e) == Some(&b':') && pat.get(e + 1) == Some(&b']') {
                let name = pat.get(name_start..e).unwrap_or_default();
                match class_matches(name, c) {
                    Some(m) => {
                        // Case folding makes [:upper:] and [:lower:] match either case.
                        let m = m
                            || (fold
                                && (class_matches(name, lc) == Some(true)
                                    || class_matches(name, uc) == Some(true)));
                        hit |= m;
                        q = e + 2;
                        continue;
                    }
                    None => return Bracket::NotMatched,
                }
            }
        }
        let (lo, after_lo) = if b == b'\\' {
            match pat.get(q + 1) {
                Some(&x) => (x, q + 2),
                None => return Bracket::Malformed,
            }
        } else {
            (b, q + 1)
        };
        // A range `lo-hi` unless the `-` is followed by the closing `]`.
        if pat.get(after_lo) == Some(&b'-')
            && matches!(pat.get(after_lo + 1), Some(&x) if x != b']')
        {
            let (hi, after_hi) = match pat.get(after_lo + 1) {
                Some(b'\\') => match pat.get(after_lo + 2) {
                    Some(&x) => (x, after_lo + 3),
                    None => return Bracket::Malformed,
                },
                Some(&x) => (x, after_lo + 2),
                None => return Bracket::Malformed,
            };
            let in_range = |x: u8| lo <= x && x <= hi;
            hit |= in_range(c) || (fold && (in_range(lc) || in_range(uc)));
            q = after_hi;
        } else {
            hit |= lo == c || (fold && fold_byte(lo, true) == lc);
            q = after_lo;
        }
    }
    if hit != negate {
        Bracket::Matched(q)
    } else {
        Bracket::NotMatched
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn globs() {
        let cases: &[(&str, &str, bool)] = &[
            ("sda", "sda", true),
            ("sd*", "sda1", true),
            ("sd*", "hda", false),
            ("*", "", true),
            ("*", "a/b", true), // no FNM_PATHNAME: `*` crosses slashes
            ("?", "", false),
            ("s?a", "sda", true),
            ("s?a", "sa", false),
            ("tty[SR]", "ttyS", true),
            ("tty[SR]", "ttyR", true),
            ("tty[SR]", "ttyA", false),
            ("tty[SR]*", "ttyS0", true),
            ("sd[a-c]", "sdb", true),
            ("sd[a-c]", "sdd", false),
            ("sd[!a-c]", "sdd", true),
            ("sd[!a-c]", "sda", false),
            ("sd[^a-c]", "sdz", true),
            ("[]]", "]", true),
            ("[!]]", "a", true),
            ("[a-]", "-", true),
            ("[[:digit:]]*", "7up", true),
            ("[[:digit:]]*", "up", false),
            ("[[:nope:]]", "a", false),
            ("[abc", "[abc", true), // no closing bracket: literal
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("a\\", "a\\", false), // trailing backslash matches nothing
            ("*.rules", "60-x.rules", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("*a", "bbba", true),
            ("**", "x", true),
        ];
        for (p, s, want) in cases {
            assert_eq!(glob(p, s, false), *want, "glob({p:?}, {s:?})");
        }
    }

    #[test]
    fn case_folding() {
        assert!(glob("SD*", "sda", true));
        assert!(!glob("SD*", "sda", false));
        assert!(glob("[A-C]x", "bX", true));
        assert!(glob("[[:upper:]]", "a", true));
        let p = Pattern::new("Foo|BAR", true, false, true);
        assert!(p.matches("foo") && p.matches("bar") && !p.matches("baz"));
        let p = Pattern::new("Foo", true, false, false);
        assert!(!p.matches("foo"));
    }

    #[test]
    fn pattern_kinds_and_alternatives() {
        let p = Pattern::new("abc|x*", true, false, false);
        assert_eq!(p.kind, Kind::Glob);
        assert!(p.matches("abc") && p.matches("xyz") && !p.matches("ab") && !p.matches(""));
        let p = Pattern::new("abc|def", true, false, false);
        assert_eq!(p.kind, Kind::Plain);
        assert!(p.matches("def") && !p.matches("abcd"));
        // An empty alternative matches the empty string.
        for v in ["|foo", "foo|", "a||foo"] {
            let p = Pattern::new(v, true, false, false);
            assert!(
                p.matches("") && p.matches("foo") && !p.matches("bar"),
                "{v}"
            );
        }
        let p = Pattern::new("|x*", true, false, false);
        assert!(p.matches("") && p.matches("xy") && !p.matches("y"));
        let p = Pattern::new("", true, false, false);
        assert_eq!(p.kind, Kind::Empty);
        assert!(p.matches("") && !p.matches("a"));
        // Without splitting, `|` is an ordinary character.
        let p = Pattern::new("a|b", false, false, false);
        assert!(p.matches("a|b") && !p.matches("a"));
        // SUBSYSTEM=="subsystem" matches the three synonyms.
        let p = Pattern::new("bus", true, true, false);
        assert_eq!(p.kind, Kind::Subsystem);
        assert!(p.matches("class") && p.matches("subsystem") && !p.matches("block"));
        let p = Pattern::new("bus", true, false, false);
        assert!(!p.matches("class"));
    }

    fn steps(p: &str, s: &str) -> (bool, u64) {
        let mut n = 0;
        let m = glob_counted(p.as_bytes(), s.as_bytes(), false, &mut n);
        (m, n)
    }

    #[test]
    fn pathological_pattern_is_polynomial() {
        // A backtracking matcher takes exponential time on this; ours is bounded by
        // (|p|+1)·(|s|+1) steps.
        let p = "a*".repeat(30) + "b";
        let s = "a".repeat(200);
        let (m, n) = steps(&p, &s);
        assert!(!m);
        assert!(n <= ((p.len() + 1) * (s.len() + 1)) as u64, "{n} steps");
    }

    proptest! {
        #[test]
        fn never_panics_and_bounded(p in "[a-c*?\\[\\]!^:\\\\-]{0,24}", s in "[a-c\\[\\]-]{0,40}", fold: bool) {
            let mut n = 0;
            let _ = glob_counted(p.as_bytes(), s.as_bytes(), fold, &mut n);
            prop_assert!(n <= ((p.len() + 1) * (s.len() + 2)) as u64);
        }

        #[test]
        fn arbitrary_bytes_never_panic(p in proptest::collection::vec(any::<u8>(), 0..32), s in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut n = 0;
            let _ = glob_counted(&p, &s, true, &mut n);
            prop_assert!(n <= ((p.len() + 1) * (s.len() + 2)) as u64);
        }

        #[test]
        fn star_free_literal_patterns_are_equality(s in "[a-z0-9]{0,12}", t in "[a-z0-9]{0,12}") {
            prop_assert_eq!(glob(&s, &t, false), s == t);
        }
    }
}
