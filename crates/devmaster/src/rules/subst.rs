//! udev's string substitutions (`%k`/`$kernel` and friends) and the character clean-ups
//! applied to substituted values.
//!
//! A template is checked once when a rule is parsed ([`check`], udev's strict check: an
//! unknown `%x` or `$name`, a `{` without `}`, a missing `%s{}`/`%E{}` argument or a `%c{N}`
//! that is not a number is an error for that value) and expanded for each event ([`apply`],
//! the lenient form: an unknown `%x`/`$name` is copied literally, an error stops the
//! expansion where it occurred, as udevd does).

use std::fmt;

/// One substitution, named as in udev(7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subst {
    /// `$devnode`, `$tempnode`, `%N`.
    Devnode,
    /// `$attr{file}`, `$sysfs{file}`, `%s{file}`.
    Attr,
    /// `$env{key}`, `%E{key}`.
    Env,
    /// `$kernel`, `%k`.
    Kernel,
    /// `$number`, `%n`.
    Number,
    /// `$driver`, `%d`.
    Driver,
    /// `$devpath`, `%p`.
    Devpath,
    /// `$id`, `%b`.
    Id,
    /// `$major`, `%M`.
    Major,
    /// `$minor`, `%m`.
    Minor,
    /// `$result`, `%c`.
    Result,
    /// `$parent`, `%P`.
    Parent,
    /// `$name`, `%D`.
    Name,
    /// `$links`, `%L`.
    Links,
    /// `$root`, `%r`.
    Root,
    /// `$sys`, `%S`.
    Sys,
}

/// Long names and one-letter forms, in udev's lookup order (a `$` name is the first entry
/// the text starts with, so `$sysfs` wins over `$sys`).
const TABLE: &[(&str, u8, Subst)] = &[
    ("devnode", b'N', Subst::Devnode),
    ("tempnode", b'N', Subst::Devnode),
    ("attr", b's', Subst::Attr),
    ("sysfs", b's', Subst::Attr),
    ("env", b'E', Subst::Env),
    ("kernel", b'k', Subst::Kernel),
    ("number", b'n', Subst::Number),
    ("driver", b'd', Subst::Driver),
    ("devpath", b'p', Subst::Devpath),
    ("id", b'b', Subst::Id),
    ("major", b'M', Subst::Major),
    ("minor", b'm', Subst::Minor),
    ("result", b'c', Subst::Result),
    ("parent", b'P', Subst::Parent),
    ("name", b'D', Subst::Name),
    ("links", b'L', Subst::Links),
    ("root", b'r', Subst::Root),
    ("sys", b'S', Subst::Sys),
];

impl Subst {
    /// The long name (`kernel` for `$kernel`).
    pub fn name(self) -> &'static str {
        TABLE.iter().find(|e| e.2 == self).map_or("", |e| e.0)
    }
}

/// The largest `{...}` argument udev accepts (its path buffer).
const ATTR_MAX: usize = 1024;

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Literal text (including the `%` or `$` of `%%` / `$$`).
    Text(&'a str),
    /// A substitution with its `{...}` argument.
    Subst(Subst, Option<&'a str>),
}

/// What went wrong in a template: the byte offset (0-based) and udev's hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// Offset of the offending `%`/`$` (or of the end of the substitution).
    pub offset: usize,
    /// udev's wording: "invalid substitution type", "attribute value missing", ...
    pub hint: &'static str,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "char {}: {}", self.offset + 1, self.hint)
    }
}

enum Next<'a> {
    /// Copy this many bytes literally.
    Literal(usize),
    /// `%%` or `$$`: skip the first byte, the second is literal.
    Escape,
    /// A substitution; the template continues at the offset.
    Subst(Subst, Option<&'a str>, usize),
}

/// udev's `get_subst_type`: what starts at `pos`.
fn next_at(t: &str, pos: usize, strict: bool) -> Result<Next<'_>, FormatError> {
    let b = t.as_bytes();
    let err = |hint| FormatError { offset: pos, hint };
    let rest = t.get(pos + 1..).unwrap_or("");
    let found = match b.get(pos) {
        Some(b'$') => {
            if rest.starts_with('$') {
                return Ok(Next::Escape);
            }
            TABLE
                .iter()
                .find(|e| rest.starts_with(e.0))
                .map(|e| (e.2, pos + 1 + e.0.len()))
        }
        Some(b'%') => {
            if rest.starts_with('%') {
                return Ok(Next::Escape);
            }
            let c = rest.as_bytes().first().copied();
            TABLE
                .iter()
                .find(|e| Some(e.1) == c)
                .map(|e| (e.2, pos + 2))
        }
        _ => {
            return Ok(Next::Literal(
                t.get(pos..)
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8),
            ))
        }
    };
    let Some((kind, after)) = found else {
        return if strict {
            Err(err("invalid substitution type"))
        } else {
            Ok(Next::Literal(1))
        };
    };
    if b.get(after) == Some(&b'{') {
        let start = after + 1;
        let Some(len) = t.get(start..).and_then(|s| s.find('}')) else {
            return Err(err("invalid substitution type"));
        };
        if len == 0 || len >= ATTR_MAX {
            return Err(err("invalid substitution type"));
        }
        let arg = t.get(start..start + len).unwrap_or("");
        Ok(Next::Subst(kind, Some(arg), start + len + 1))
    } else {
        Ok(Next::Subst(kind, None, after))
    }
}

/// Splits a template into pieces, leniently (as at run time): unknown forms are text, and an
/// error ends the list (with the error).
pub fn pieces(t: &str) -> (Vec<Piece<'_>>, Option<FormatError>) {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < t.len() {
        match next_at(t, pos, false) {
            Err(e) => return (out, Some(e)),
            Ok(Next::Literal(n)) => {
                out.push(Piece::Text(t.get(pos..pos + n).unwrap_or("")));
                pos += n;
            }
            Ok(Next::Escape) => {
                out.push(Piece::Text(t.get(pos + 1..pos + 2).unwrap_or("")));
                pos += 2;
            }
            Ok(Next::Subst(k, a, next)) => {
                out.push(Piece::Subst(k, a));
                pos = next;
            }
        }
    }
    (out, None)
}

/// Parses `N` or `N+` (udev's `safe_atou_optional_plus`): the number and whether `+` follows.
fn parse_part(arg: &str) -> Option<(usize, bool)> {
    let (num, plus) = match arg.strip_suffix('+') {
        Some(n) => (n, true),
        None => (arg, false),
    };
    let num = num.trim_start_matches([' ', '\t', '\n', '\r']);
    let num = num.strip_prefix('+').unwrap_or(num);
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = num.parse().ok()?;
    Some((n as usize, plus))
}

/// udev's strict check of a template at parse time.
pub fn check(t: &str) -> Result<(), FormatError> {
    let mut pos = 0;
    while pos < t.len() {
        match next_at(t, pos, true)? {
            Next::Literal(n) => pos += n,
            Next::Escape => pos += 2,
            Next::Subst(kind, arg, next) => {
                let missing = FormatError {
                    offset: next,
                    hint: "attribute value missing",
                };
                match kind {
                    Subst::Attr | Subst::Env if arg.is_none() => return Err(missing),
                    Subst::Result => {
                        if let Some(a) = arg {
                            if parse_part(a).is_none() {
                                return Err(FormatError {
                                    offset: next,
                                    hint: "attribute value not a valid number",
                                });
                            }
                        }
                    }
                    _ => {}
                }
                pos = next;
            }
        }
    }
    Ok(())
}

/// The facts about a device that substitutions (and later the rule engine) read.
pub trait Device {
    /// Kernel name (`sda1`).
    fn sysname(&self) -> String;
    /// Trailing number of the kernel name (`1` for `sda1`), if any.
    fn sysnum(&self) -> Option<String>;
    /// Path below `/sys` (`/devices/.../block/sda/sda1`).
    fn devpath(&self) -> String;
    /// Subsystem (the `subsystem` link's last element; what `SUBSYSTEMS` matches).
    fn subsystem(&self) -> Option<String> {
        self.property("SUBSYSTEM")
    }
    /// Bound driver.
    fn driver(&self) -> Option<String>;
    /// Device node (`/dev/sda1`).
    fn devnode(&self) -> Option<String>;
    /// Major and minor number.
    fn devnum(&self) -> Option<(u32, u32)>;
    /// A property (uevent or set by rules).
    fn property(&self, key: &str) -> Option<String>;
    /// A sysfs attribute value (a symlink attribute reads as the last element of its target).
    fn sysattr(&self, attr: &str) -> Option<String>;
    /// The parent device in sysfs.
    fn parent(&self) -> Option<&dyn Device>;
    /// The current symlinks (`/dev/disk/by-id/...`).
    fn devlinks(&self) -> Vec<String>;
    /// Every property (for `IMPORT{parent}` and the rule engine's starting state).
    fn properties(&self) -> std::collections::BTreeMap<String, String> {
        std::collections::BTreeMap::new()
    }
    /// The device's tags (for `TAGS` on parents; the event device's own come from the rules).
    fn tags(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Other devices, for `[subsystem/sysname]attribute`.
pub trait Sysfs {
    /// The attribute of the device `subsystem`/`sysname`.
    fn subsystem_sysattr(&self, subsystem: &str, sysname: &str, attr: &str) -> Option<String>;
}

/// No other devices.
pub struct NoSysfs;

impl Sysfs for NoSysfs {
    fn subsystem_sysattr(&self, _: &str, _: &str, _: &str) -> Option<String> {
        None
    }
}

/// What an expansion sees of the event being processed.
pub struct Event<'a> {
    /// The event device.
    pub device: &'a dyn Device,
    /// The parent that `KERNELS`/`SUBSYSTEMS`/`DRIVERS`/`ATTRS` selected (`%b`, `$driver`,
    /// attribute fallback).
    pub matched_parent: Option<&'a dyn Device>,
    /// A `NAME=` assigned by an earlier rule.
    pub name: Option<&'a str>,
    /// The output of the last `PROGRAM`.
    pub program_result: Option<&'a str>,
    /// Lookup of other devices.
    pub sysfs: &'a dyn Sysfs,
}

const WS: [char; 4] = [' ', '\t', '\n', '\r'];

/// Splits `[subsystem/sysname]attr` (udev's `udev_resolve_subsys_kernel` form); `attr` may be
/// empty.
pub fn split_subsys_attr(s: &str) -> Option<(&str, &str, &str)> {
    let rest = s.strip_prefix('[')?;
    let (subsys, rest) = rest.split_once('/')?;
    let (sysname, attr) = rest.split_once(']')?;
    let attr = attr.strip_prefix('/').unwrap_or(attr);
    Some((subsys, sysname, attr))
}

fn strip_dev(s: &str) -> &str {
    s.strip_prefix("/dev/").unwrap_or(s)
}

/// The value of one substitution, or `Err` where udev fails the expansion.
fn value(ev: &Event<'_>, kind: Subst, arg: Option<&str>) -> Result<String, ()> {
    let dev = ev.device;
    Ok(match kind {
        Subst::Devpath => dev.devpath(),
        Subst::Kernel => dev.sysname(),
        Subst::Number => dev.sysnum().unwrap_or_default(),
        Subst::Id => ev.matched_parent.map(|p| p.sysname()).unwrap_or_default(),
        Subst::Driver => ev
            .matched_parent
            .and_then(|p| p.driver())
            .unwrap_or_default(),
        Subst::Major => dev.devnum().map_or(0, |d| d.0).to_string(),
        Subst::Minor => dev.devnum().map_or(0, |d| d.1).to_string(),
        Subst::Result => {
            let Some(result) = ev.program_result else {
                return Ok(String::new());
            };
            let (index, plus) = match arg {
                Some(a) => parse_part(a).ok_or(())?,
                None => (0, false),
            };
            if index == 0 {
                result.to_string()
            } else {
                // Skip index-1 whitespace-separated words.
                let mut rest = result.trim_start_matches(WS);
                for _ in 1..index {
                    let end = rest.find(WS).unwrap_or(rest.len());
                    rest = rest.get(end..).unwrap_or("").trim_start_matches(WS);
                    if rest.is_empty() {
                        return Ok(String::new());
                    }
                }
                if plus {
                    rest.to_string()
                } else {
                    let end = rest.find(WS).unwrap_or(rest.len());
                    rest.get(..end).unwrap_or("").to_string()
                }
            }
        }
        Subst::Attr => {
            let attr = arg.ok_or(())?;
            let mut val = split_subsys_attr(attr)
                .filter(|(_, _, a)| !a.is_empty())
                .and_then(|(s, n, a)| ev.sysfs.subsystem_sysattr(s, n, a));
            if val.is_none() {
                val = dev.sysattr(attr);
            }
            if val.is_none() {
                val = ev.matched_parent.and_then(|p| p.sysattr(attr));
            }
            let Some(v) = val else {
                return Ok(String::new());
            };
            replace_chars(v.trim_end_matches(is_c_space), ALLOWED_CHARS_INPUT).0
        }
        Subst::Parent => dev
            .parent()
            .and_then(|p| p.devnode())
            .map(|n| strip_dev(&n).to_string())
            .unwrap_or_default(),
        Subst::Devnode => dev.devnode().unwrap_or_default(),
        Subst::Name => match ev.name {
            Some(n) => n.to_string(),
            None => match dev.devnode() {
                Some(n) => strip_dev(&n).to_string(),
                None => dev.sysname(),
            },
        },
        Subst::Links => dev
            .devlinks()
            .iter()
            .map(|l| strip_dev(l))
            .collect::<Vec<_>>()
            .join(" "),
        Subst::Root => "/dev".to_string(),
        Subst::Sys => "/sys".to_string(),
        Subst::Env => dev.property(arg.ok_or(())?).unwrap_or_default(),
    })
}

/// Result of an expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// The expanded text (up to the error, if any).
    pub value: String,
    /// Set when the template was invalid or a substitution failed; udevd logs a warning and
    /// uses the text expanded so far.
    pub error: Option<String>,
}

/// Expands `template` for `ev`. With `replace_whitespace` (udev does this for `SYMLINK`
/// unless `string_escape=none`), each substituted value except `%c` has leading and trailing
/// whitespace removed and inner runs of whitespace turned into one `_`.
pub fn apply(template: &str, ev: &Event<'_>, replace_whitespace: bool) -> Expanded {
    let (pieces, err) = pieces(template);
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Subst(kind, arg) => {
                match value(ev, kind, arg) {
                    Ok(v) => {
                        if replace_whitespace && kind != Subst::Result {
                            out.push_str(&replace_whitespace_runs(&v));
                        } else {
                            out.push_str(&v);
                        }
                    }
                    Err(()) => {
                        return Expanded {
                            value: out,
                            error: Some(format!(
                            "Failed to substitute variable '${}' or apply format '%{}', ignoring",
                            kind.name(),
                            TABLE.iter().find(|e| e.2 == kind).map_or('?', |e| e.1 as char)
                        )),
                        }
                    }
                }
            }
        }
    }
    Expanded {
        value: out,
        error: err.map(|_| format!("Invalid format string, ignoring: {template}")),
    }
}

fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Characters allowed in attribute values substituted by `%s{}` (udev's
/// `UDEV_ALLOWED_CHARS_INPUT`) and in `PROGRAM` results.
pub const ALLOWED_CHARS_INPUT: &str = "/ $%?,";

/// udev's `udev_replace_whitespace`: leading and trailing whitespace dropped, each inner run
/// replaced by one `_`.
pub fn replace_whitespace_runs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = false;
    for c in s.trim_start_matches(is_c_space).chars() {
        if is_c_space(c) {
            pending = true;
            continue;
        }
        if pending {
            out.push('_');
            pending = false;
        }
        out.push(c);
    }
    out
}

/// udev's `udev_replace_chars`: keeps `0-9A-Za-z#+-.:=@_`, the characters in `allow`, `\x`
/// hex escapes and (valid UTF-8, which a `&str` always is) non-ASCII characters; whitespace
/// becomes a space when `allow` contains a space; anything else becomes `_`. Returns the new
/// string and how many characters were replaced.
pub fn replace_chars(s: &str, allow: &str) -> (String, usize) {
    let mut out = String::with_capacity(s.len());
    let mut replaced = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || "#+-.:=@_".contains(c) || allow.contains(c) {
            out.push(c);
        } else if c == '\\' && chars.peek() == Some(&'x') {
            out.push('\\');
            out.push('x');
            chars.next();
        } else if !c.is_ascii() {
            out.push(c);
        } else if is_c_space(c) && allow.contains(' ') {
            out.push(' ');
            replaced += 1;
        } else {
            out.push('_');
            replaced += 1;
        }
    }
    (out, replaced)
}

/// udev's `udev_replace_ifname` (naming scheme with "replace strictly", the default of
/// systemd 252): every byte that cannot be in an interface name (control characters, space,
/// non-ASCII, `:`, `/`, `%`) becomes `_`.
pub fn replace_ifname(s: &str) -> (String, usize) {
    let mut out = String::with_capacity(s.len());
    let mut replaced = 0;
    for b in s.bytes() {
        if b <= 32 || b >= 127 || matches!(b, b':' | b'/' | b'%') {
            out.push('_');
            replaced += 1;
        } else {
            out.push(b as char);
        }
    }
    (out, replaced)
}

/// The `OPTIONS+="string_escape=..."` state of an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StringEscape {
    /// No `string_escape=` seen: NAME and SYMLINK are cleaned, ENV is not.
    #[default]
    Unset,
    /// `string_escape=none`: nothing is cleaned.
    None,
    /// `string_escape=replace`: NAME, SYMLINK and ENV are cleaned.
    Replace,
}

/// A `NAME=` value as udevd computes it: expanded, then (unless `string_escape=none`) every
/// character that cannot be in an interface name replaced by `_`.
pub fn expand_name(template: &str, ev: &Event<'_>, esc: StringEscape) -> Expanded {
    let mut e = apply(template, ev, false);
    if esc != StringEscape::None {
        e.value = replace_ifname(&e.value).0;
    }
    e
}

/// A `SYMLINK=` value as udevd computes it (still space-separated): expanded with
/// whitespace in substituted values turned into `_` (unless `string_escape=none`), then
/// characters outside udev's allowed set replaced by `_` — keeping spaces between links when
/// `string_escape` is unset, turning them into `_` with `string_escape=replace`.
pub fn expand_symlink(template: &str, ev: &Event<'_>, esc: StringEscape) -> Expanded {
    let mut e = apply(template, ev, esc != StringEscape::None);
    match esc {
        StringEscape::Unset => e.value = replace_chars(&e.value, "/ ").0,
        StringEscape::Replace => e.value = replace_chars(&e.value, "/").0,
        StringEscape::None => {}
    }
    e
}

/// An `ENV{key}=` value as udevd computes it: expanded, and cleaned only with
/// `string_escape=replace`.
pub fn expand_env(template: &str, ev: &Event<'_>, esc: StringEscape) -> Expanded {
    let mut e = apply(template, ev, false);
    if esc == StringEscape::Replace {
        e.value = replace_chars(&e.value, "").0;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct Fake {
        sysname: String,
        devpath: String,
        driver: Option<String>,
        devnode: Option<String>,
        devnum: Option<(u32, u32)>,
        props: BTreeMap<String, String>,
        attrs: BTreeMap<String, String>,
        parent: Option<Box<Fake>>,
        links: Vec<String>,
    }

    impl Device for Fake {
        fn sysname(&self) -> String {
            self.sysname.clone()
        }
        fn sysnum(&self) -> Option<String> {
            let n: String = self
                .sysname
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            (!n.is_empty()).then(|| n.chars().rev().collect())
        }
        fn devpath(&self) -> String {
            self.devpath.clone()
        }
        fn driver(&self) -> Option<String> {
            self.driver.clone()
        }
        fn devnode(&self) -> Option<String> {
            self.devnode.clone()
        }
        fn devnum(&self) -> Option<(u32, u32)> {
            self.devnum
        }
        fn property(&self, key: &str) -> Option<String> {
            self.props.get(key).cloned()
        }
        fn sysattr(&self, attr: &str) -> Option<String> {
            self.attrs.get(attr).cloned()
        }
        fn parent(&self) -> Option<&dyn Device> {
            self.parent.as_deref().map(|p| p as &dyn Device)
        }
        fn devlinks(&self) -> Vec<String> {
            self.links.clone()
        }
    }

    struct World;
    impl Sysfs for World {
        fn subsystem_sysattr(&self, subsystem: &str, sysname: &str, attr: &str) -> Option<String> {
            (subsystem == "dmi" && sysname == "id" && attr == "product_name")
                .then(|| "Super Box \n".to_string())
        }
    }

    fn disk() -> Fake {
        let parent = Fake {
            sysname: "sda".into(),
            devpath: "/devices/pci0000:00/host0/block/sda".into(),
            devnode: Some("/dev/sda".into()),
            driver: Some("sd".into()),
            attrs: [("model".to_string(), "Fast  Disk  \n".to_string())].into(),
            ..Fake::default()
        };
        Fake {
            sysname: "sda1".into(),
            devpath: "/devices/pci0000:00/host0/block/sda/sda1".into(),
            devnode: Some("/dev/sda1".into()),
            devnum: Some((8, 1)),
            props: [("ID_FS_UUID".to_string(), "1234-ABCD".to_string())].into(),
            attrs: [
                ("size".to_string(), "2048\n".to_string()),
                ("weird".to_string(), "a*b\"c".to_string()),
            ]
            .into(),
            links: vec![
                "/dev/disk/by-uuid/1234-ABCD".into(),
                "/dev/disk/by-label/x".into(),
            ],
            parent: Some(Box::new(parent)),
            ..Fake::default()
        }
    }

    #[test]
    fn every_substitution() {
        let dev = disk();
        let parent = dev.parent.as_deref().map(|p| p as &dyn Device);
        let ev = Event {
            device: &dev,
            matched_parent: parent,
            name: None,
            program_result: Some("  one two   three "),
            sysfs: &World,
        };
        let cases: &[(&str, &str)] = &[
            ("%k $kernel", "sda1 sda1"),
            ("%n $number", "1 1"),
            ("%p", "/devices/pci0000:00/host0/block/sda/sda1"),
            ("$devpath", "/devices/pci0000:00/host0/block/sda/sda1"),
            ("%b $id", "sda sda"),
            ("%d $driver", "sd sd"),
            ("%M:%m $major:$minor", "8:1 8:1"),
            ("%N $devnode $tempnode", "/dev/sda1 /dev/sda1 /dev/sda1"),
            ("%P $parent", "sda sda"),
            ("$name %D", "sda1 sda1"),
            ("$links", "disk/by-uuid/1234-ABCD disk/by-label/x"),
            ("%L", "disk/by-uuid/1234-ABCD disk/by-label/x"),
            ("$root %r $sys %S", "/dev /dev /sys /sys"),
            ("%E{ID_FS_UUID} $env{ID_FS_UUID}", "1234-ABCD 1234-ABCD"),
            ("[%E{NOPE}]", "[]"),
            ("%s{size} $attr{size} $sysfs{size}", "2048 2048 2048"),
            // Falls back to the parent the match selected; whitespace trimmed at the end only.
            ("%s{model}", "Fast  Disk"),
            ("%s{weird}", "a_b_c"),
            ("%s{[dmi/id]product_name}", "Super Box"),
            ("%s{missing}x", "x"),
            ("%c", "  one two   three "),
            ("$result", "  one two   three "),
            ("%c{1}", "one"),
            ("%c{2}", "two"),
            ("%c{3}", "three"),
            ("%c{4}", ""),
            ("%c{2+}", "two   three "),
            ("$result{3+}", "three "),
            ("%c{0}", "  one two   three "),
            ("100%% $$HOME", "100% $HOME"),
            ("%x $nope", "%x $nope"),
            ("$system", "/system"),
        ];
        for (t, want) in cases {
            let got = apply(t, &ev, false);
            assert_eq!(got.value, *want, "{t}");
            assert_eq!(got.error, None, "{t}");
        }
    }

    #[test]
    fn name_and_missing_facts() {
        let dev = Fake {
            sysname: "eth0".into(),
            devpath: "/devices/virtual/net/eth0".into(),
            ..Fake::default()
        };
        let ev = Event {
            device: &dev,
            matched_parent: None,
            name: None,
            program_result: None,
            sysfs: &NoSysfs,
        };
        for (t, want) in [
            ("$name", "eth0"),
            ("%n", "0"),
            ("%b%d%c%P%N$links", ""),
            ("%M:%m", "0:0"),
        ] {
            assert_eq!(apply(t, &ev, false).value, want, "{t}");
        }
        let ev = Event {
            name: Some("lan0"),
            ..ev
        };
        assert_eq!(apply("$name", &ev, false).value, "lan0");
    }

    #[test]
    fn replace_whitespace_for_symlinks() {
        let mut dev = disk();
        dev.props.insert("SERIAL".into(), "  my  serial x ".into());
        let ev = Event {
            device: &dev,
            matched_parent: None,
            name: None,
            program_result: Some("a b"),
            sysfs: &NoSysfs,
        };
        assert_eq!(
            apply("disk/by-id/%E{SERIAL} %c", &ev, true).value,
            "disk/by-id/my_serial_x a b"
        );
        assert_eq!(
            apply("disk/by-id/%E{SERIAL}", &ev, false).value,
            "disk/by-id/  my  serial x "
        );
    }

    #[test]
    fn runtime_errors_stop_the_expansion() {
        let dev = disk();
        let ev = Event {
            device: &dev,
            matched_parent: None,
            name: None,
            program_result: Some("x"),
            sysfs: &NoSysfs,
        };
        let got = apply("a%c{x}b", &ev, false);
        assert_eq!(got.value, "a");
        assert!(got.error.is_some());
        let got = apply("a%E{unterminated", &ev, false);
        assert_eq!(got.value, "a");
        assert_eq!(
            got.error.as_deref(),
            Some("Invalid format string, ignoring: a%E{unterminated")
        );
    }

    #[test]
    fn strict_check() {
        let ok = [
            "",
            "plain",
            "%k",
            "$kernel{ignored}",
            "%%",
            "$$",
            "%c{3+}",
            "%s{[dmi/id]x}",
            "%E{A}",
            "%%k",
            "$$x",
        ];
        for t in ok {
            assert_eq!(check(t), Ok(()), "{t}");
        }
        let bad: &[(&str, usize, &str)] = &[
            ("%x", 0, "invalid substitution type"),
            ("ab$nope", 2, "invalid substitution type"),
            ("%E", 2, "attribute value missing"),
            ("x$env", 5, "attribute value missing"),
            ("%s{}", 0, "invalid substitution type"),
            ("%s{abc", 0, "invalid substitution type"),
            ("%c{x}", 5, "attribute value not a valid number"),
            ("%c{-1}", 6, "attribute value not a valid number"),
            ("100%", 3, "invalid substitution type"),
        ];
        for (t, off, hint) in bad {
            assert_eq!(check(t), Err(FormatError { offset: *off, hint }), "{t}");
        }
    }

    #[test]
    fn character_replacement() {
        assert_eq!(
            replace_chars("disk/by-id/a b", "/"),
            ("disk/by-id/a_b".into(), 1)
        );
        assert_eq!(replace_chars("a b\tc", "/ "), ("a b c".into(), 1));
        assert_eq!(replace_chars("x\\x20y", "").0, "x\\x20y");
        assert_eq!(replace_chars("a*b?c\"d", "").0, "a_b_c_d");
        assert_eq!(
            replace_chars("a$b%c?d,e", ALLOWED_CHARS_INPUT).0,
            "a$b%c?d,e"
        );
        assert_eq!(
            replace_chars("#+-.:=@_Az09", ""),
            ("#+-.:=@_Az09".into(), 0)
        );
        assert_eq!(replace_chars("grüße", ""), ("grüße".into(), 0));
        assert_eq!(replace_ifname("lan 0:1/x%d"), ("lan_0_1_x_d".into(), 4));
        assert_eq!(replace_ifname("ü").0, "__");
        assert_eq!(replace_whitespace_runs("  a \t b  c  "), "a_b_c");
    }

    #[test]
    fn string_escape_per_key() {
        let mut dev = disk();
        dev.props.insert("M".into(), "Big Disk*2".into());
        let ev = Event {
            device: &dev,
            matched_parent: None,
            name: None,
            program_result: None,
            sysfs: &NoSysfs,
        };
        let t = "disk/by-model/$env{M} disk/x:y";
        assert_eq!(
            expand_symlink(t, &ev, StringEscape::Unset).value,
            "disk/by-model/Big_Disk_2 disk/x:y"
        );
        assert_eq!(
            expand_symlink(t, &ev, StringEscape::Replace).value,
            "disk/by-model/Big_Disk_2_disk/x:y"
        );
        assert_eq!(
            expand_symlink(t, &ev, StringEscape::None).value,
            "disk/by-model/Big Disk*2 disk/x:y"
        );
        assert_eq!(
            expand_name("net $env{M}", &ev, StringEscape::Unset).value,
            "net_Big_Disk*2"
        );
        assert_eq!(
            expand_name("a/b:c%", &ev, StringEscape::Replace).value,
            "a_b_c_"
        );
        assert_eq!(expand_name("a/b", &ev, StringEscape::None).value, "a/b");
        assert_eq!(
            expand_env("$env{M}/x", &ev, StringEscape::Unset).value,
            "Big Disk*2/x"
        );
        assert_eq!(
            expand_env("$env{M}/x", &ev, StringEscape::Replace).value,
            "Big_Disk_2_x"
        );
    }
}
