//! Unit names as the user types them: completing a missing type suffix the way systemctl
//! does (`sshd` → `sshd.service`, `rescue` → `rescue.target` for `isolate`), and the
//! shell-style glob patterns systemctl accepts in place of names.

/// The unit type suffixes systemd knows.
const SUFFIXES: &[&str] = &[
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
];

/// Whether the text contains a glob metacharacter.
pub fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Completes `name` with `.suffix` unless it already ends in a unit type, is a glob, or is
/// a path (the argument of `enable /path/to/x.service`).
pub fn mangle(name: &str, suffix: &str) -> String {
    let has_type = name
        .rsplit_once('.')
        .is_some_and(|(stem, t)| !stem.is_empty() && SUFFIXES.contains(&t));
    if has_type || is_glob(name) || name.contains('/') {
        name.to_string()
    } else {
        format!("{name}.{suffix}")
    }
}

/// fnmatch(3) with `FNM_NOESCAPE`, as systemctl matches unit patterns: `*` any run, `?`
/// any one character, `[...]` a class with ranges and `!`/`^` negation; a backslash is an
/// ordinary character, so escaped names like `dev-disk-by\x2duuid-….device` match
/// themselves.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches_from(&p, &n)
}

fn matches_from(p: &[char], n: &[char]) -> bool {
    // Iterative with one backtrack point for the last `*`, which is enough for fnmatch
    // semantics and keeps the cost linear-ish on hostile patterns.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(&c) = p.get(pi) {
            if c == '*' {
                star = Some((pi, ni));
                pi += 1;
                continue;
            }
            if let Some(&x) = n.get(ni) {
                if let Some((matched, len)) = single(p.get(pi..).unwrap_or_default(), x) {
                    if matched {
                        pi += len;
                        ni += 1;
                        continue;
                    }
                }
            }
        } else if ni == n.len() {
            return true;
        }
        match star {
            Some((sp, sn)) if sn < n.len() => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => return false,
        }
    }
}

/// Matches one pattern element (not `*`) against `x`: (matched, pattern chars used).
fn single(p: &[char], x: char) -> Option<(bool, usize)> {
    match p.first()? {
        '?' => Some((true, 1)),
        '[' => Some(class(p, x).unwrap_or((x == '[', 1))),
        &c => Some((c == x, 1)),
    }
}

/// A bracket expression starting at `p[0] == '['`; `None` when it is not closed, in
/// which case `[` is an ordinary character.
fn class(p: &[char], x: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    loop {
        let c = *p.get(i)?;
        if c == ']' && !first {
            return Some((found != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            let end = *p.get(i + 2)?;
            found |= c <= x && x <= end;
            i += 3;
        } else {
            found |= c == x;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangle_adds_the_suffix_only_when_missing() {
        let cases = [
            ("sshd", "service", "sshd.service"),
            ("sshd.service", "service", "sshd.service"),
            ("rescue", "target", "rescue.target"),
            ("foo.bar", "service", "foo.bar.service"),
            ("getty@tty1", "service", "getty@tty1.service"),
            ("ssh*", "service", "ssh*"),
            ("/etc/x/a.service", "service", "/etc/x/a.service"),
            ("dev-sda.device", "service", "dev-sda.device"),
        ];
        for (name, suffix, want) in cases {
            assert_eq!(mangle(name, suffix), want, "{name}");
        }
    }

    #[test]
    fn glob_match_follows_fnmatch() {
        let cases = [
            ("*", "a.service", true),
            ("*.service", "a.service", true),
            ("*.service", "a.socket", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("[ab]x", "bx", true),
            ("[!ab]x", "bx", false),
            ("[a-c]*", "carrot", true),
            ("[]]", "]", true),
            ("[", "[", true),
            ("a\\x2db.*", "a\\x2db.device", true),
            ("a\\x2db.*", "ax2db.device", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("", "", true),
            ("", "a", false),
        ];
        for (p, n, want) in cases {
            assert_eq!(glob_match(p, n), want, "{p} {n}");
        }
    }
}
