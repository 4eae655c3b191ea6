//! Small pieces several `devctl` verbs share, each as systemd 252's udevadm has it: time
//! spans (`parse_sec`), booleans, device actions, log levels, errno texts, colours and tree
//! glyphs, `path_compare`'s components, and finding the device a command-line argument names.

use std::io::IsTerminal;

use super::sdev::{path_below, Dev, EINVAL, ENODEV};
use super::{Env, Errno};

/// The actions sd-device knows, in its table order (`--action=help` lists them so).
pub const ACTIONS: [&str; 8] = [
    "add", "remove", "change", "move", "online", "offline", "bind", "unbind",
];

/// "Infinity" of [`parse_sec`].
pub const USEC_INFINITY: u64 = u64::MAX;

/// glibc's text for an errno (`%m`).
pub fn strerror(errno: Errno) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s.get(..i).unwrap_or_default().to_string(),
        None => s,
    }
}

/// systemd's `parse_sec`: a time span in µs (`5`, `1.5s`, `2min 3s`, `100ms`, `infinity`);
/// a bare number is seconds. `None` when it is not one.
pub fn parse_sec(s: &str) -> Option<u64> {
    const UNITS: [(&str, u64); 27] = [
        ("seconds", 1_000_000),
        ("second", 1_000_000),
        ("minutes", 60_000_000),
        ("minute", 60_000_000),
        ("months", 2_629_800_000_000),
        ("month", 2_629_800_000_000),
        ("hours", 3_600_000_000),
        ("hour", 3_600_000_000),
        ("weeks", 604_800_000_000),
        ("week", 604_800_000_000),
        ("years", 31_557_600_000_000),
        ("year", 31_557_600_000_000),
        ("days", 86_400_000_000),
        ("day", 86_400_000_000),
        ("msec", 1_000),
        ("usec", 1),
        ("min", 60_000_000),
        ("sec", 1_000_000),
        ("hr", 3_600_000_000),
        ("ms", 1_000),
        ("us", 1),
        ("µs", 1),
        ("M", 2_629_800_000_000),
        ("m", 60_000_000),
        ("h", 3_600_000_000),
        ("d", 86_400_000_000),
        ("w", 604_800_000_000),
    ];
    let t = s.trim();
    if t == "infinity" {
        return Some(USEC_INFINITY);
    }
    let mut rest = t;
    let mut total: u64 = 0;
    let mut any = false;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int, after) = rest.split_at(digits);
        let (frac, after) = match after.strip_prefix('.') {
            Some(a) => {
                let n = a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len());
                a.split_at(n)
            }
            None => ("", after),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let after = after.trim_start();
        let (mult, after) = UNITS
            .iter()
            .chain([("s", 1_000_000u64), ("y", 31_557_600_000_000)].iter())
            .find_map(|(u, m)| {
                after
                    .strip_prefix(u)
                    .filter(|r| !r.starts_with(|c: char| c.is_ascii_alphabetic()))
                    .map(|r| (*m, r))
            })
            .unwrap_or((1_000_000, after));
        if after.len() == rest.len() {
            return None;
        }
        let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut part = whole.checked_mul(mult)?;
        let mut scale = mult;
        for d in frac.bytes().take(18) {
            scale /= 10;
            part = part.checked_add(u64::from(d - b'0') * scale)?;
        }
        total = total.checked_add(part)?;
        any = true;
        let next = after.trim_start();
        if next.len() == after.len()
            && !next.is_empty()
            && !next.starts_with(|c: char| c.is_ascii_digit())
        {
            return None;
        }
        rest = next;
    }
    any.then_some(total)
}

/// systemd's `parse_boolean`.
pub fn parse_boolean(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

/// syslog level names (`log_level_from_string`), or a number 0–7.
pub fn parse_log_level(s: &str) -> Option<i32> {
    const NAMES: [&str; 8] = [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];
    if let Some(i) = NAMES.iter().position(|n| *n == s) {
        return i32::try_from(i).ok();
    }
    s.parse::<i32>().ok().filter(|n| (0..=7).contains(n))
}

/// An action sd-device does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownAction;

/// What `--action=` says: `Ok(None)` for `help` (the list was written to `out`).
pub fn parse_action(
    s: &str,
    out: &mut dyn std::io::Write,
) -> Result<Option<&'static str>, UnknownAction> {
    if s == "help" {
        for a in ACTIONS {
            let _ = writeln!(out, "{a}");
        }
        return Ok(None);
    }
    ACTIONS
        .iter()
        .find(|a| **a == s)
        .map(|a| Some(*a))
        .ok_or(UnknownAction)
}

/// The components systemd's `path_compare` compares (empty ones and `.` skipped): two
/// absolute paths are in its order when their components are compared as sequences
/// (component by component, a prefix before its extensions).
pub fn path_components(p: &str) -> impl Iterator<Item = &str> {
    p.split('/').filter(|c| !c.is_empty() && *c != ".")
}

/// Terminal styling as systemd decides it: colours when `SYSTEMD_COLORS` says so, else
/// when standard output is a terminal, `TERM` is not `dumb` and `NO_COLOR` is unset.
pub fn colors_enabled() -> bool {
    if let Ok(v) = std::env::var("SYSTEMD_COLORS") {
        if let Some(b) = parse_boolean(&v) {
            return b;
        }
        return !v.is_empty();
    }
    if std::env::var_os("NO_COLOR").is_some() {
        return false;
    }
    std::io::stdout().is_terminal() && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(false)
}

/// Whether the locale is UTF-8 as systemd 252's `is_locale_utf8` judges it: the first set
/// of `LC_ALL`, `LC_CTYPE`, `LANG` names a UTF-8 locale, or a locale that is not installed
/// (setlocale fails: systemd assumes UTF-8), or none is set; `C`/`POSIX` set explicitly
/// and installed non-UTF-8 locales are not.
pub fn locale_utf8() -> bool {
    let set = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()));
    let Some(name) = set else { return true };
    let lower = name.to_ascii_lowercase();
    if lower.contains("utf-8") || lower.contains("utf8") {
        return true;
    }
    if name == "C" || name == "POSIX" {
        return false;
    }
    !std::path::Path::new("/usr/lib/locale").join(&name).exists()
}

/// systemd's `running_in_chroot`: `/` is not PID 1's root (unknown counts as no;
/// `SYSTEMD_IGNORE_CHROOT` set says no).
pub fn running_in_chroot() -> bool {
    use std::os::unix::fs::MetadataExt;
    if std::env::var_os("SYSTEMD_IGNORE_CHROOT").is_some() {
        return false;
    }
    match (std::fs::metadata("/"), std::fs::metadata("/proc/1/root")) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) != (b.dev(), b.ino()),
        _ => false,
    }
}

/// Unescapes a unit name's path part (`-` is `/`, `\xNN` a byte), systemd's
/// `unit_name_to_path` for a plain name; `None` when it is not a valid unit name.
fn unit_to_path(unit: &str, suffix: &str) -> Option<String> {
    let prefix = unit.strip_suffix(suffix)?;
    let ok = |c: char| c.is_ascii_alphanumeric() || ":-_.\\".contains(c);
    if prefix.is_empty() || !prefix.chars().all(ok) || unit.len() > 255 {
        return None;
    }
    let mut bytes = Vec::new();
    let mut it = prefix.bytes();
    while let Some(b) = it.next() {
        match b {
            b'-' => bytes.push(b'/'),
            b'\\' => {
                if it.next()? != b'x' {
                    return None;
                }
                let h = [it.next()?, it.next()?];
                bytes.push(u8::from_str_radix(std::str::from_utf8(&h).ok()?, 16).ok()?);
            }
            b => bytes.push(b),
        }
    }
    let s = String::from_utf8(bytes).ok()?;
    Some(if s.starts_with('/') {
        s
    } else {
        format!("/{s}")
    })
}

/// udevadm's `find_device`: `id` as a path (with `prefix` put in front when it is not
/// already below it), else as a `.device` unit name. There is no D-Bus here, so a unit
/// name is turned into its path as udevadm does when systemd cannot be asked.
pub fn find_device(env: &Env, id: &str, prefix: Option<&str>) -> Result<Dev, Errno> {
    if let Ok(d) = Dev::from_path(env, id) {
        return Ok(d);
    }
    if let Some(prefix) = prefix {
        if path_below(id, prefix).is_none() {
            let joined = format!("{prefix}/{}", id.trim_start_matches('/'));
            if let Ok(d) = Dev::from_path(env, &joined) {
                return Ok(d);
            }
        }
    }
    if id.contains('/') {
        return Err(ENODEV);
    }
    let valid_unit = id
        .rsplit_once('.')
        .is_some_and(|(n, t)| !n.is_empty() && !t.is_empty() && !n.contains('@'));
    if !valid_unit {
        return Err(EINVAL);
    }
    let path = unit_to_path(id, ".device").ok_or(EINVAL)?;
    Dev::from_path(env, &path).map_err(|_| ENODEV)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_spans() {
        // Values as systemd-analyze timespan reads them.
        let cases: &[(&str, Option<u64>)] = &[
            ("5", Some(5_000_000)),
            ("0", Some(0)),
            ("1.5s", Some(1_500_000)),
            ("2min 3s", Some(123_000_000)),
            ("2min3s", Some(123_000_000)),
            ("100ms", Some(100_000)),
            ("1h", Some(3_600_000_000)),
            (" 7 sec ", Some(7_000_000)),
            ("infinity", Some(USEC_INFINITY)),
            ("", None),
            ("abc", None),
            ("5 parsecs", None),
            ("-1", None),
            ("1.", Some(1_000_000)),
        ];
        for (s, want) in cases {
            assert_eq!(parse_sec(s), *want, "{s:?}");
        }
    }

    #[test]
    fn booleans_levels_actions() {
        assert_eq!(parse_boolean("Yes"), Some(true));
        assert_eq!(parse_boolean("off"), Some(false));
        assert_eq!(parse_boolean("maybe"), None);
        assert_eq!(parse_log_level("debug"), Some(7));
        assert_eq!(parse_log_level("3"), Some(3));
        assert_eq!(parse_log_level("8"), None);
        assert_eq!(parse_log_level("foo"), None);
        let mut out = Vec::new();
        assert_eq!(parse_action("help", &mut out), Ok(None));
        // `udevadm trigger --action=help` prints the table one per line.
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "add\nremove\nchange\nmove\nonline\noffline\nbind\nunbind\n"
        );
        assert_eq!(parse_action("bind", &mut Vec::new()), Ok(Some("bind")));
        assert_eq!(parse_action("foo", &mut Vec::new()), Err(UnknownAction));
    }

    #[test]
    fn path_order_is_by_component() {
        use std::cmp::Ordering::*;
        let cmp = |a, b| path_components(a).cmp(path_components(b));
        assert_eq!(cmp("/a/b", "/a/b/c"), Less);
        assert_eq!(cmp("/a/b/d", "/a/b-c"), Less);
        assert_eq!(cmp("/a//b/", "/a/b"), Equal);
        assert_eq!(cmp("/a/./b", "/a/b"), Equal);
        assert_eq!(cmp("/a/aaa", "/a/b"), Less);
    }

    #[test]
    fn errno_text_is_glibcs() {
        assert_eq!(strerror(19), "No such device");
        assert_eq!(strerror(22), "Invalid argument");
    }

    #[test]
    fn unit_names_to_paths() {
        assert_eq!(
            unit_to_path("sys-devices-virtual-net-lo.device", ".device").as_deref(),
            Some("/sys/devices/virtual/net/lo")
        );
        assert_eq!(
            unit_to_path("dev-disk-by\\x2dlabel-x.device", ".device").as_deref(),
            Some("/dev/disk/by-label/x")
        );
        assert_eq!(unit_to_path("foo.service", ".device"), None);
    }

    proptest::proptest! {
        #[test]
        fn parse_sec_never_panics(s in ".{0,24}") {
            let _ = parse_sec(&s);
        }
    }
}
