//! udev's device database under `/run/udev` as systemd 252 (sd-device, udev-node) keeps it:
//! device ids, the data files, the tag index and the symlink claim index, as pure code plus a
//! few small file-system helpers (each says what it touches, relative to a run directory
//! that is `/run/udev` on a real system).
//!
//! - Device id ([`device_id`]): `b8:0` / `c189:1` for a device with a number (major > 0),
//!   `n3` for a network interface, `+subsystem:sysname` otherwise (`+drivers:bus:name` for the
//!   `drivers` pseudo-subsystem), the sysname taken raw from the devpath (`!` kept).
//! - Data file `data/<id>` ([`Entry`], [`parse`], [`to_bytes`]): lines `S:` (a symlink relative
//!   to `/dev`), `L:` (link priority), `I:` (µs of CLOCK_MONOTONIC when first initialised),
//!   `E:KEY=VALUE`, `G:` (every tag the device had), `Q:` (a current tag), `V:` (version, 1).
//!   Written in that order, `S:`/`L:` only for a device with a number, with an empty file
//!   for a device with a number or an interface index and nothing else to say, and no file
//!   for a device with neither; mode 0644 (01644 for `db_persist`), through a temporary file
//!   renamed over the old one. Read as sd-device reads it: byte by byte, unknown keys and
//!   lines without `:` after the key ignored, bad values skipped, `W:` (the watch handle of
//!   old versions) ignored, a last line without newline dropped. Never panics on any bytes.
//! - Tag index `tags/<tag>/<id>`: empty files, mode 0444.
//! - Claim index `links/<escaped link>/<id>` ([`link_dir_name`], [`claim_target`]): one
//!   symlink per device claiming a `/dev` symlink, whose target is `PRIORITY:DEVNODE`; the
//!   link name below `/dev` has `/` and `\` escaped as `\x2f` / `\x5c`, and a name too long
//!   for a file name is cut and ends in 11 characters of a keyed SipHash-2-4 of it, as udev
//!   does. [`pick_owner`] is udev's choice of the device a link points to. The regular files
//!   of udev before version 250 in this index are not read (their owners are ignored).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::io::{self, Write as _};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The database version udev 252 writes (`V:1`).
pub const VERSION: u32 = 1;

/// `NAME_MAX`: the longest file name.
const NAME_MAX: usize = 255;

fn filename_is_valid(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains('/') && s.len() <= NAME_MAX
}

/// The database id of a device, `None` when it has none (no subsystem, a devpath without a
/// last element, or an id that is not a valid file name).
///
/// `devnum` with major 0 and `ifindex` 0 count as absent, as in sd-device.
pub fn device_id(
    subsystem: &str,
    devnum: Option<(u32, u32)>,
    ifindex: Option<u32>,
    devpath: &str,
) -> Option<String> {
    if subsystem.is_empty() {
        return None;
    }
    let id = match (devnum.filter(|d| d.0 > 0), ifindex.filter(|i| *i > 0)) {
        (Some((major, minor)), _) => {
            let kind = if subsystem == "block" { 'b' } else { 'c' };
            format!("{kind}{major}:{minor}")
        }
        (None, Some(i)) => format!("n{i}"),
        (None, None) => {
            let sysname = devpath.trim_end_matches('/').rsplit('/').next()?;
            if sysname.is_empty() {
                return None;
            }
            if subsystem == "drivers" {
                // The driver's own bus: `/bus/<bus>/drivers/<driver>`.
                let parts: Vec<&str> = devpath.split('/').filter(|p| !p.is_empty()).collect();
                let bus = parts
                    .iter()
                    .rposition(|p| *p == "drivers")
                    .and_then(|i| i.checked_sub(1))
                    .and_then(|i| parts.get(i))?;
                format!("+drivers:{bus}:{sysname}")
            } else {
                format!("+{subsystem}:{sysname}")
            }
        }
    };
    filename_is_valid(&id).then_some(id)
}

/// One device's data file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// Symlinks, absolute (`/dev/disk/by-id/...`); stored relative to `/dev`.
    pub devlinks: BTreeSet<String>,
    /// `OPTIONS+="link_priority=N"`.
    pub link_priority: i32,
    /// When the device was first initialised (µs of CLOCK_MONOTONIC), 0 for never.
    pub usec_initialized: u64,
    /// Properties set by rules (not the kernel's), without those starting with `.`.
    pub properties: BTreeMap<String, String>,
    /// Every tag the device had since it appeared.
    pub tags: BTreeSet<String>,
    /// The tags the last event set.
    pub current_tags: BTreeSet<String>,
    /// `V:`; 0 when the file had none (written as [`VERSION`] always).
    pub version: u32,
}

impl Entry {
    /// sd-device's `device_has_info`: whether there is anything to write.
    pub fn has_info(&self) -> bool {
        !self.devlinks.is_empty()
            || self.link_priority != 0
            || !self.properties.is_empty()
            || !self.tags.is_empty()
            || !self.current_tags.is_empty()
    }
}

/// systemd's `safe_atoi`/`safe_atou` (a C `strtol` with base 0 plus `0b`/`0o` prefixes):
/// leading whitespace, a sign, `0x`/`0o`/`0b`/leading-`0` bases, the whole rest must be
/// digits.
fn parse_c_int(s: &str) -> Option<i128> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r']);
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower.get(1..)?)
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn is_valid_tag(tag: &str) -> bool {
    !tag.contains(':') && !tag.contains(' ')
}

fn handle_line(e: &mut Entry, key: u8, value: &str) {
    match key {
        b'G' | b'Q' if is_valid_tag(value) => {
            e.tags.insert(value.to_string());
            if key == b'Q' {
                e.current_tags.insert(value.to_string());
            }
        }
        b'S' => {
            e.devlinks.insert(format!("/dev/{value}"));
        }
        b'E' => {
            if let Some((k, v)) = value.split_once('=') {
                if v.is_empty() {
                    e.properties.remove(k);
                } else if !k.is_empty() {
                    e.properties.insert(k.to_string(), v.to_string());
                }
            }
        }
        b'I' => {
            // safe_atou64 takes "-0" but no other negative number.
            if let Some(v) = parse_c_int(value).and_then(|v| u64::try_from(v).ok()) {
                e.usec_initialized = v;
            }
        }
        b'L' => {
            if let Some(v) = parse_c_int(value).and_then(|v| i32::try_from(v).ok()) {
                e.link_priority = v;
            }
        }
        b'V' => {
            if let Some(v) = parse_c_int(value).and_then(|v| u32::try_from(v).ok()) {
                e.version = v;
            }
        }
        _ => {}
    }
}

/// Reads a data file as sd-device does. A line is a key byte, `:`, and a value running to
/// the next `\n` or `\r` — the value's first byte is taken whatever it is, so an empty
/// value swallows the next line, as in sd-device. A line whose second byte is not `:` is
/// skipped.
pub fn parse(bytes: &[u8]) -> Entry {
    enum St {
        PreKey,
        Key(u8),
        PreValue(u8),
        Value(u8, usize),
        Invalid,
    }
    let newline = |b: u8| b == b'\n' || b == b'\r';
    let mut e = Entry::default();
    let mut st = St::PreKey;
    for (i, &b) in bytes.iter().enumerate() {
        st = match st {
            St::PreKey if newline(b) => St::PreKey,
            St::PreKey => St::Key(b),
            St::Key(k) if b == b':' => St::PreValue(k),
            St::Key(_) => St::Invalid,
            St::PreValue(k) => St::Value(k, i),
            St::Invalid if newline(b) => St::PreKey,
            St::Invalid => St::Invalid,
            St::Value(k, start) if newline(b) => {
                let v = bytes.get(start..i).unwrap_or_default();
                // sd-device works on C strings: a NUL ends the value.
                let v = v.split(|c| *c == 0).next().unwrap_or_default();
                handle_line(&mut e, k, &String::from_utf8_lossy(v));
                St::PreKey
            }
            v @ St::Value(..) => v,
        };
    }
    e
}

/// The bytes of a data file for a device, `None` when udev stores no file for it (nothing
/// to say and neither a device number nor an interface index). `has_devnum` gates the
/// `S:` and `L:` lines as in udev.
pub fn to_bytes(entry: &Entry, has_devnum: bool, has_ifindex: bool) -> Option<Vec<u8>> {
    // A value that is empty or holds a line break cannot be written as one line: the
    // reader takes the byte after `:` whatever it is, so it would swallow the next line.
    // Such values only come from a damaged file read as the old entry; the entry is
    // written as if they were not there.
    let one_line = |v: &str| !v.is_empty() && !v.contains(['\n', '\r']);
    let link = |l: &String| l.strip_prefix("/dev/").unwrap_or(l).to_string();
    let property =
        |(k, v): (&String, &String)| !k.contains(['\n', '\r']) && !v.contains(['\n', '\r']);
    let damaged = entry.devlinks.iter().any(|l| !one_line(&link(l)))
        || !entry.properties.iter().all(property)
        || !entry
            .tags
            .iter()
            .chain(&entry.current_tags)
            .all(|t| one_line(t));
    if damaged {
        let mut clean = entry.clone();
        clean.devlinks.retain(|l| one_line(&link(l)));
        clean.properties.retain(|k, v| property((k, v)));
        clean.tags.retain(|t| one_line(t));
        clean.current_tags.retain(|t| one_line(t));
        return to_bytes(&clean, has_devnum, has_ifindex);
    }
    if !entry.has_info() {
        return (has_devnum || has_ifindex).then(Vec::new);
    }
    let mut out = String::new();
    if has_devnum {
        for l in &entry.devlinks {
            out.push_str("S:");
            out.push_str(l.strip_prefix("/dev/").unwrap_or(l));
            out.push('\n');
        }
        if entry.link_priority != 0 {
            out.push_str(&format!("L:{}\n", entry.link_priority));
        }
    }
    if entry.usec_initialized > 0 {
        out.push_str(&format!("I:{}\n", entry.usec_initialized));
    }
    for (k, v) in &entry.properties {
        out.push_str(&format!("E:{k}={v}\n"));
    }
    for t in &entry.tags {
        out.push_str(&format!("G:{t}\n"));
    }
    for t in &entry.current_tags {
        out.push_str(&format!("Q:{t}\n"));
    }
    out.push_str(&format!("V:{VERSION}\n"));
    Some(out.into_bytes())
}

/// `data/<id>` under `run`.
pub fn data_path(run: &Path, id: &str) -> PathBuf {
    run.join("data").join(id)
}

/// `tags/<tag>/<id>` under `run`.
pub fn tag_path(run: &Path, tag: &str, id: &str) -> PathBuf {
    run.join("tags").join(tag).join(id)
}

/// Reads `data/<id>` under `run`; `Ok(None)` when there is none.
pub fn read(run: &Path, id: &str) -> io::Result<Option<Entry>> {
    match fs::read(data_path(run, id)) {
        Ok(b) => Ok(Some(parse(&b))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates `dir` and its missing parents with mode 0755 (umask permitting), as udev's
/// `mkdir_parents`.
pub fn mkdir_parents(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
}

/// Runs `op`, which creates something in `dir`; when it fails because `dir` (or one of
/// its parents) is missing, creates them ([`mkdir_parents`]) and runs it once more. The
/// directories exist for all but the first of a worker's thousands of writes, so this
/// saves the `mkdir` + `stat` that creating them first would cost every time.
pub fn in_dir<T>(dir: &Path, mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    match op() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            mkdir_parents(dir)?;
            op()
        }
        other => other,
    }
}

/// Writes `path` atomically: a temporary file in the same directory (created with its
/// parents, 0755), `mode`, then renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".#{}{:x}",
        name.unwrap_or_default(),
        std::process::id() as u64 ^ nanos()
    ));
    let result = (|| {
        let mut f = in_dir(dir, || {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
        })?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.flush()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}

/// Stores `entry` as `data/<id>` under `run` (udev's `device_update_db`): the file
/// [`to_bytes`] gives, or the old file removed when there is nothing to store.
pub fn write(
    run: &Path,
    id: &str,
    entry: &Entry,
    has_devnum: bool,
    has_ifindex: bool,
    persist: bool,
) -> io::Result<()> {
    let path = data_path(run, id);
    match to_bytes(entry, has_devnum, has_ifindex) {
        Some(bytes) => write_atomic(&path, &bytes, if persist { 0o1644 } else { 0o644 }),
        None => delete(run, id),
    }
}

/// Removes `data/<id>` under `run` (absent is fine).
pub fn delete(run: &Path, id: &str) -> io::Result<()> {
    remove_if_exists(&data_path(run, id))
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Adds (`add`) or removes the tag file `tags/<tag>/<id>` under `run`.
pub fn set_tag(run: &Path, tag: &str, id: &str, add: bool) -> io::Result<()> {
    if !filename_is_valid(tag) {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let path = tag_path(run, tag, id);
    if !add {
        return remove_if_exists(&path);
    }
    let f = in_dir(path.parent().unwrap_or(Path::new(".")), || {
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o444)
            .open(&path)
    })?;
    f.set_permissions(fs::Permissions::from_mode(0o444))
}

/// The key of udev's hash of link names that are too long (`UDEV_NODE_HASH_KEY`).
const LINK_HASH_KEY: [u8; 16] = [
    0xb9, 0x6a, 0xf1, 0xce, 0x40, 0x31, 0x44, 0x1a, 0x9e, 0x19, 0xec, 0x8b, 0xae, 0xf3, 0xe3, 0x2f,
];

/// SipHash-2-4 of `data` under `key` (little-endian key words, as systemd's `siphash24`).
pub fn siphash24(data: &[u8], key: &[u8; 16]) -> u64 {
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        for (d, s) in w.iter_mut().zip(b) {
            *d = *s;
        }
        u64::from_le_bytes(w)
    };
    let (k0, k1) = (word(&key[..8]), word(&key[8..]));
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let m = word(c);
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    let mut last = [0u8; 8];
    for (d, s) in last.iter_mut().zip(chunks.remainder()) {
        *d = *s;
    }
    last[7] = data.len() as u8;
    let m = u64::from_le_bytes(last);
    v[3] ^= m;
    round(&mut v);
    round(&mut v);
    v[0] ^= m;
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

const URLSAFE_BASE64: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The name of a link's directory under `links/` (udev's `udev_node_escape_path` of the
/// link below `/dev`). `None` for a link that is not a normalised path below `/dev`
/// (`..` or `.` elements, `/dev` itself, outside `/dev`).
pub fn link_dir_name(link: &str) -> Option<OsString> {
    let parts: Vec<&str> = link.split('/').filter(|p| !p.is_empty()).collect();
    if !link.starts_with('/')
        || parts.first() != Some(&"dev")
        || parts.len() < 2
        || parts.iter().any(|p| *p == "." || *p == "..")
    {
        return None;
    }
    let name = parts.get(1..).unwrap_or_default().join("/");
    // udev encodes into NAME_MAX+1 bytes and keeps 11 of them for the hash and 1 for NUL.
    let limit = NAME_MAX + 1 - 12;
    let mut out: Vec<u8> = Vec::with_capacity(NAME_MAX);
    let mut too_long = false;
    for &b in name.as_bytes() {
        let piece: &[u8] = match b {
            b'/' => b"\\x2f",
            b'\\' => b"\\x5c",
            _ => std::slice::from_ref(&b),
        };
        if out.len() + piece.len() > limit {
            too_long = true;
            break;
        }
        out.extend_from_slice(piece);
    }
    if too_long {
        // Bytes between the cut and the hash are left undefined by udev; we pad with '_'.
        out.resize(NAME_MAX - 11, b'_');
        let h = siphash24(name.as_bytes(), &LINK_HASH_KEY);
        let mut tail = [0u8; 11];
        for (k, slot) in tail.iter_mut().rev().enumerate() {
            *slot = URLSAFE_BASE64
                .get(((h >> (k * 6)) & 63) as usize)
                .copied()
                .unwrap_or(b'_');
        }
        out.extend_from_slice(&tail);
    }
    // Bytes, not a str: the cut may split a character, as in udev.
    Some(OsString::from_vec(out))
}

/// `links/<escaped link>` under `run`.
pub fn link_dir(run: &Path, link: &str) -> Option<PathBuf> {
    Some(run.join("links").join(link_dir_name(link)?))
}

/// The target of a device's claim symlink in a link's directory: `PRIORITY:DEVNODE`.
pub fn claim_target(priority: i32, devnode: &str) -> String {
    format!("{priority}:{devnode}")
}

/// A claim on a link: the claiming device's node and its link priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Link priority.
    pub priority: i32,
    /// The device node the link would point to (`/dev/sda1`).
    pub devnode: String,
}

/// Parses a claim symlink's target (`-10:/dev/sda1`); `None` when it is not one.
pub fn parse_claim(target: &str) -> Option<Claim> {
    let (prio, devnode) = target.split_once(':')?;
    if prio.is_empty() {
        return None;
    }
    let priority = i32::try_from(parse_c_int(prio)?).ok()?;
    Some(Claim {
        priority,
        devnode: devnode.to_string(),
    })
}

/// Which device node a link points to (udev 252's `stack_directory_find_prioritized_devnode`):
/// `own` is the claim of the device being added (none when it is being removed or gives the
/// link up), `others` the remaining claims in directory order. The highest priority wins; on
/// a tie the claim seen first stays, so the device being added wins against equal
/// priorities. `None`: nobody claims the link, it is to be removed.
pub fn pick_owner<'a>(
    own: Option<&'a Claim>,
    others: impl IntoIterator<Item = &'a Claim>,
) -> Option<&'a Claim> {
    let mut best = own;
    for c in others {
        match best {
            Some(b) if c.priority <= b.priority => {}
            _ => best = Some(c),
        }
    }
    best
}

#[cfg(test)]
#[path = "db_tests.rs"]
mod tests;
