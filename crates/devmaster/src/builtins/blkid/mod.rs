//! The `blkid` builtin: file system, RAID, crypto and partition table probing in pure Rust,
//! following systemd 252's `udev-builtin-blkid.c` on top of util-linux 2.38's libblkid (the
//! pair Debian 12 ships), without linking libblkid.
//!
//! [`probe_with`] is libblkid's "safe probe" as udev configures it: the superblocks chain
//! (one answer; two incompatible signatures are an error), then the partitions chain
//! (PTTYPE/PTUUID of the device itself and, for a partition, its entry in the parent disk's
//! table), then udev's rule that a whole disk of at most 1440 KiB is first checked for a
//! partition table only. [`Probe::properties`] turns libblkid's names into udev's
//! (`ID_FS_*`, `ID_PART_TABLE_*`, `ID_PART_ENTRY_*`) with udev's `_ENC` and safe-string
//! rules. [`run`] is the builtin: it reads the device node through [`System::read_at`], the
//! size, sector size and partition geometry from sysfs attributes, and accepts udev's
//! `--offset=`, `--noraid` and `--hint=` options.
//!
//! Recognised: ext2/3/4 (and ext4dev, jbd), xfs (and its external log), btrfs, f2fs, vfat,
//! exfat, ntfs, squashfs, swap (and hibernation signatures), iso9660 (Joliet, High Sierra),
//! LUKS1/2, LVM1/2 PVs, md RAID members (metadata 0.90 and 1.x); DOS, GPT and lone
//! protective MBR tables. Everything else libblkid knows (firmware RAIDs, bcache, udf,
//! zfs, BitLocker, ... and the rarer partition tables) is not recognised; so a DVD image with
//! a UDF bridge shows as iso9660 where udev says udf. Left out of udev's behaviour: CD-ROM
//! multisession offsets and size corrections (ioctls; a CD is known by `ID_CDROM=1`), zoned
//! btrfs, and the loop device backing file properties (systemd 253 and later). A device
//! node that cannot be read is an error here, where udev ignores a device that is gone.

mod area;
mod btrfs;
mod dos;
mod encode;
mod exfat;
mod ext;
mod f2fs;
mod gpt;
mod iso9660;
mod luks;
mod lvm;
mod ntfs;
mod partitions;
mod raid;
mod squashfs;
mod superblocks;
mod swap;
mod vercmp;
mod vfat;
mod xfs;

#[cfg(test)]
mod tests;

pub use encode::{encode_string, safe_string};

use super::{Output, System};
use crate::rules::subst::Device;
use area::Area;
use superblocks::{Usage, Values};

/// libblkid's results: `NAME=value` pairs in the order libblkid sets them. Values are raw
/// bytes; like C strings they end at the first NUL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probe {
    /// The pairs (`TYPE`, `LABEL`, `PTTYPE`, `PART_ENTRY_UUID`, ...).
    pub values: Vec<(&'static str, Vec<u8>)>,
}

impl Probe {
    /// The raw value of `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| area::cstr(v))
    }

    /// The value of `name` as text (invalid UTF-8 replaced).
    pub fn value(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// The properties udev's builtin sets from these values, in order (systemd 252's
    /// `print_property`): names libblkid reports that udev does not export (`SEC_TYPE`,
    /// `BLOCK_SIZE`, `LABEL_FATBOOT`, `EXT_JOURNAL`, `SUBSYSTEM`, ...) are left out.
    pub fn properties(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, raw) in &self.values {
            let raw = area::cstr(raw);
            let text = || String::from_utf8_lossy(raw).into_owned();
            let mut both = |key: &str| {
                out.push((key.to_string(), safe_string(raw)));
                out.push((format!("{key}_ENC"), encode_string(raw)));
            };
            match *name {
                "UUID" => both("ID_FS_UUID"),
                "UUID_SUB" => both("ID_FS_UUID_SUB"),
                "LABEL" => both("ID_FS_LABEL"),
                "TYPE" => out.push(("ID_FS_TYPE".into(), text())),
                "USAGE" => out.push(("ID_FS_USAGE".into(), text())),
                "VERSION" => out.push(("ID_FS_VERSION".into(), text())),
                "PTTYPE" => out.push(("ID_PART_TABLE_TYPE".into(), text())),
                "PTUUID" => out.push(("ID_PART_TABLE_UUID".into(), text())),
                "PART_ENTRY_NAME" | "PART_ENTRY_TYPE" => {
                    out.push((format!("ID_{name}"), encode_string(raw)));
                }
                _ if name.starts_with("PART_ENTRY_") => out.push((format!("ID_{name}"), text())),
                "SYSTEM_ID" | "PUBLISHER_ID" | "APPLICATION_ID" | "BOOT_SYSTEM_ID"
                | "VOLUME_ID" | "LOGICAL_VOLUME_ID" | "VOLUME_SET_ID" | "DATA_PREPARER_ID" => {
                    out.push((format!("ID_FS_{name}"), encode_string(raw)));
                }
                _ => {}
            }
        }
        out
    }
}

/// The parent disk of a partition, for its PART_ENTRY_* values.
pub struct Disk<'a> {
    /// Reads the disk's bytes (absolute offsets).
    pub read_at: &'a dyn Fn(u64, usize) -> Option<Vec<u8>>,
    /// The disk's size in bytes.
    pub size: u64,
    /// The disk's major and minor number (PART_ENTRY_DISK).
    pub devnum: (u32, u32),
    /// The partition's start on the disk in 512-byte sectors (sysfs `start`).
    pub start: u64,
    /// The partition's size in 512-byte sectors (sysfs `size`).
    pub sectors: u64,
}

/// How to probe.
pub struct Options<'a> {
    /// Probe from this byte offset of the device (`--offset=`).
    pub offset: u64,
    /// Do not look for RAID signatures (`--noraid`).
    pub noraid: bool,
    /// libblkid probing hints (`--hint=name=value`), such as `session_offset`.
    pub hints: Vec<(String, u64)>,
    /// Logical sector size of the device.
    pub sector_size: u64,
    /// The device is a whole disk (not a partition): small ones are checked for a
    /// partition table before file systems.
    pub whole_disk: bool,
    /// The device is a CD/DVD: no RAID, swap or journal signatures there.
    pub cdrom: bool,
    /// For a partition: its disk, to find its partition table entry.
    pub disk: Option<Disk<'a>>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            offset: 0,
            noraid: false,
            hints: Vec::new(),
            sector_size: 512,
            whole_disk: false,
            cdrom: false,
            disk: None,
        }
    }
}

/// Probes a device of `size` bytes read by `read_at` (offset, length → bytes, `None` on an
/// I/O error) with default options.
pub fn probe(read_at: impl Fn(u64, usize) -> Option<Vec<u8>>, size: u64) -> Result<Probe, String> {
    probe_with(&read_at, size, &Options::default())
}

/// Probes a device of `size` bytes read by `read_at` as udev's builtin does. An error is
/// what makes udev's builtin fail: an offset past the end, an I/O error, or an ambivalent
/// result (two file systems).
pub fn probe_with(
    read_at: &dyn Fn(u64, usize) -> Option<Vec<u8>>,
    size: u64,
    opts: &Options<'_>,
) -> Result<Probe, String> {
    let Some(area_size) = size.checked_sub(opts.offset) else {
        return Err(format!(
            "offset {} is past the end of the device",
            opts.offset
        ));
    };
    let mut area = Area::new(read_at, opts.offset, area_size, opts.sector_size);
    area.cdrom = opts.cdrom;
    area.whole = opts.whole_disk || opts.disk.is_none();
    area.hints = opts.hints.clone();
    let done = |values: Values| -> Result<Probe, String> {
        if area.io_error() {
            return Err("cannot read the device".into());
        }
        Ok(Probe { values: values.0 })
    };
    // udev: a small whole disk with a partition table is not probed for file systems.
    if opts.whole_disk && area.size <= 1440 * 1024 {
        if let Some(pt) = partitions::probe(&area, partitions::Context::default(), false) {
            let mut v = Values::default();
            pt_values(&pt, &mut v);
            return done(v);
        }
    }
    let sb = superblocks::safeprobe(&area, opts.noraid).map_err(|a| {
        format!(
            "ambivalent result ({}): more than one signature on the device",
            a.0.join(", ")
        )
    })?;
    let raid = sb.as_ref().is_some_and(|f| f.usage == Some(Usage::Raid));
    let lvm = sb.as_ref().is_some_and(|f| f.name == "LVM2_member");
    let cx = partitions::Context {
        lvm,
        wiper: lvm.then_some((0, 8 * 1024)),
    };
    let mut sb_values = sb.map(|f| f.values).unwrap_or_default();
    let mut pt_vals = Values::default();
    // A partition table under a RAID member belongs to the array, unless the RAID's tool
    // wiped that area (then a table written later wins).
    if !(raid && cx.wiper.is_none()) {
        if let Some(pt) = partitions::probe(&area, cx, false) {
            if pt.wiped {
                sb_values = Values::default();
            }
            pt_values(&pt, &mut pt_vals);
        }
    }
    if let Some(d) = &opts.disk {
        if let Some(entry) = partition_entry(d, opts.sector_size) {
            pt_vals.0.extend(entry.0);
        }
    }
    sb_values.0.extend(pt_vals.0);
    done(sb_values)
}

/// The GPT type UUIDs systemd's gpt-auto logic looks for.
const ESP: &str = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
const XBOOTLDR: &str = "bc13c2ff-59e6-4262-a352-b275fd6f7172";
/// `SD_GPT_ROOT_NATIVE`: the root partition type of the architecture we run on.
#[cfg(target_arch = "x86_64")]
const ROOT_NATIVE: Option<&str> = Some("4f68bce3-e8cd-4db1-96e7-fbcaf984b709");
#[cfg(target_arch = "x86")]
const ROOT_NATIVE: Option<&str> = Some("44479540-f297-41b2-9af7-d131d5f0458a");
#[cfg(target_arch = "aarch64")]
const ROOT_NATIVE: Option<&str> = Some("b921b045-1df0-41c3-af44-4c6f280d3fae");
#[cfg(target_arch = "arm")]
const ROOT_NATIVE: Option<&str> = Some("69dad710-2ce4-4e3c-b16c-21a1d49abed3");
#[cfg(target_arch = "riscv64")]
const ROOT_NATIVE: Option<&str> = Some("72ec70a6-cf74-40e6-bd49-4bda08e8f224");
#[cfg(target_arch = "loongarch64")]
const ROOT_NATIVE: Option<&str> = Some("77055800-792c-4f94-b39a-98c91b762bb6");
#[cfg(all(target_arch = "powerpc64", target_endian = "little"))]
const ROOT_NATIVE: Option<&str> = Some("c31c45e6-3f39-412e-80fb-4809c4980599");
#[cfg(target_arch = "s390x")]
const ROOT_NATIVE: Option<&str> = Some("5eead9a9-fe09-4a1e-a1d7-520d00531306");
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64",
    target_arch = "loongarch64",
    all(target_arch = "powerpc64", target_endian = "little"),
    target_arch = "s390x"
)))]
const ROOT_NATIVE: Option<&str> = None;
/// GPT attribute bit 63: not for automatic discovery.
const GPT_FLAG_NO_AUTO: u64 = 1 << 63;
/// systemd-boot's EFI variable with the UUID of the partition it was loaded from.
const LOADER_DEVICE_PART_UUID: &str =
    "/sys/firmware/efi/efivars/LoaderDevicePartUUID-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";

/// udev's `find_gpt_root` for a GPT disk: when the ESP or XBOOTLDR partition the boot loader
/// came from (`loader_part`, the UUID of `LoaderDevicePartUUID`) is on this disk, the UUID of
/// its root partition for this architecture (the one with the newest label by systemd's
/// version comparison, skipping those marked "no auto"), for `ID_PART_GPT_AUTO_ROOT_UUID`.
pub fn gpt_auto_root(
    read_at: &dyn Fn(u64, usize) -> Option<Vec<u8>>,
    size: u64,
    opts: &Options<'_>,
    loader_part: Option<&str>,
) -> Option<String> {
    let root_type = ROOT_NATIVE?;
    let area_size = size.checked_sub(opts.offset)?;
    let area = Area::new(read_at, opts.offset, area_size, opts.sector_size);
    let table = partitions::probe(&area, partitions::Context::default(), true)?.table?;
    let mut found_loader = false;
    let mut root: Option<(&str, Option<&[u8]>)> = None;
    for p in &table.parts {
        let (Some(uuid), Some(kind)) = (p.uuid.as_deref(), p.type_uuid.as_deref()) else {
            continue;
        };
        let label = (!p.name.is_empty()).then_some(p.name.as_slice());
        if kind == ESP || kind == XBOOTLDR {
            found_loader |= loader_part.is_some_and(|l| l.eq_ignore_ascii_case(uuid));
        } else if kind == root_type && p.flags & GPT_FLAG_NO_AUTO == 0 {
            let newer = root.is_none_or(|(_, old)| vercmp::strverscmp_improved(label, old).is_gt());
            if newer {
                root = Some((uuid, label));
            }
        }
    }
    root.filter(|_| found_loader)
        .map(|(uuid, _)| uuid.to_string())
}

/// The UUID in systemd-boot's `LoaderDevicePartUUID` variable (attributes, then UTF-16LE).
fn loader_device_part_uuid(system: &dyn System) -> Option<String> {
    let raw = system.read(LOADER_DEVICE_PART_UUID)?;
    let text = encode::utf16_to_utf8(raw.get(4..)?, encode::Utf16::Le, raw.len() * 2);
    let text = String::from_utf8(text).ok()?;
    let hex: String = text.trim().chars().filter(|&c| c != '-').collect();
    (text.trim().len() == 36 && hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| text.trim().to_ascii_lowercase())
}

fn pt_values(pt: &partitions::Found, v: &mut Values) {
    if let Some(u) = &pt.ptuuid {
        v.set("PTUUID", u.as_str());
    }
    v.set("PTTYPE", pt.pttype);
}

/// The PART_ENTRY_* values of the partition described by `d`, from its disk's table.
fn partition_entry(d: &Disk<'_>, sector_size: u64) -> Option<Values> {
    let disk = Area::new(d.read_at, 0, d.size, sector_size);
    let table = partitions::probe(&disk, partitions::Context::default(), true)?.table?;
    let p = table.find(d.start, d.sectors)?;
    Some(table.entry_values(p, d.devnum))
}

/// udev's options of the builtin.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Args {
    /// `--offset=` / `-o`.
    pub offset: u64,
    /// `--noraid` / `-R`.
    pub noraid: bool,
    /// `--hint=` / `-H`, as name and value.
    pub hints: Vec<(String, u64)>,
}

/// Parses the builtin's words as udev's `getopt_long("o:H:R")` does: long options with
/// `=value` or a separate value (unique prefixes allowed), bundled short options, `--` ends
/// the options; unknown options and other words are ignored, as udev ignores them. A bad
/// offset or hint is an error, as in udev. A leading `blkid` (the builtin's name) is skipped.
pub fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut out = Args::default();
    let mut words = args.iter().map(String::as_str).peekable();
    if words.peek() == Some(&"blkid") {
        words.next();
    }
    while let Some(w) = words.next() {
        if w == "--" {
            break;
        }
        if let Some(long) = w.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let opt = ["offset", "hint", "noraid"]
                .into_iter()
                .find(|o| !name.is_empty() && o.starts_with(name));
            match opt {
                Some("noraid") if inline.is_none() => out.noraid = true,
                Some(o @ ("offset" | "hint")) => {
                    let Some(value) = inline.or_else(|| words.next()) else {
                        continue;
                    };
                    apply(&mut out, if o == "offset" { 'o' } else { 'H' }, value)?;
                }
                _ => {}
            }
        } else if let Some(shorts) = w.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (i, c) in shorts.char_indices() {
                match c {
                    'R' => out.noraid = true,
                    'o' | 'H' => {
                        let rest = shorts.get(i + 1..).unwrap_or("");
                        let value = if rest.is_empty() {
                            words.next()
                        } else {
                            Some(rest)
                        };
                        if let Some(value) = value {
                            apply(&mut out, c, value)?;
                        }
                        break;
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(out)
}

fn apply(out: &mut Args, opt: char, value: &str) -> Result<(), String> {
    if opt == 'o' {
        let n = parse_c_integer(value)
            .ok_or_else(|| format!("Failed to parse '{value}' as an integer"))?;
        out.offset = u64::try_from(n).map_err(|_| format!("Invalid offset {n}."))?;
        return Ok(());
    }
    // libblkid's hint syntax: NAME or NAME=value (a decimal number, maybe quoted).
    let (name, value) = match value.split_once('=') {
        Some((n, v)) => {
            let v = v.trim_matches(|c| c == '"' || c == '\'');
            let n2 = parse_strtoumax(v)
                .ok_or_else(|| format!("Failed to use '{value}' probing hint"))?;
            (n, n2)
        }
        None => (value, 0),
    };
    if name.is_empty() {
        return Err(format!("Failed to use '{value}' probing hint"));
    }
    match out.hints.iter_mut().find(|(n, _)| n == name) {
        Some(h) => h.1 = value,
        None => out.hints.push((name.to_string(), value)),
    }
    Ok(())
}

/// C's `strtoll(s, .., 0)` over the whole string, as systemd's `safe_atoi64`: leading
/// whitespace, a sign, then decimal, `0x` hex or `0` octal digits, nothing after.
fn parse_c_integer(s: &str) -> Option<i64> {
    let s = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, h)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, s.get(1..)?)
    } else {
        (10, s)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i128::from_str_radix(digits, radix).ok()?;
    i64::try_from(if neg { -n } else { n }).ok()
}

/// C's `strtoumax(s, .., 10)` over the whole string (a `-` wraps around, as in C).
fn parse_strtoumax(s: &str) -> Option<u64> {
    let s = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let n: u64 = s
        .parse()
        .ok()
        .filter(|_| s.chars().all(|c| c.is_ascii_digit()))?;
    Some(if neg { n.wrapping_neg() } else { n })
}

/// A number from a sysfs attribute.
fn attr_u64(device: &dyn Device, attr: &str) -> Option<u64> {
    device.sysattr(attr)?.trim().parse().ok()
}

/// Whether `device` is a private device-mapper device libblkid does not scan (an LVM
/// internal volume or a private Stratis device).
fn is_dm_private(device: &dyn Device) -> bool {
    let Some(uuid) = device.sysattr("dm/uuid") else {
        return false;
    };
    let uuid = uuid.trim();
    match uuid.strip_prefix("LVM-") {
        Some(rest) => rest
            .rsplit_once('-')
            .is_some_and(|(_, name)| !name.is_empty()),
        None => uuid.starts_with("stratis-1-private"),
    }
}

/// The `blkid` builtin. `args` are the words of the builtin's command (its name first, or
/// only the options).
pub fn run(device: &dyn Device, system: &dyn System, args: &[String]) -> Result<Output, String> {
    let args = parse_args(args)?;
    let devnode = device
        .devnode()
        .ok_or_else(|| "the device has no device node".to_string())?;
    let mut out = Output::default();
    if is_dm_private(device) {
        return Ok(out);
    }
    let size = attr_u64(device, "size")
        .and_then(|s| s.checked_mul(512))
        .ok_or_else(|| format!("cannot read the size of {devnode}"))?;
    let is_partition = device.sysattr("partition").is_some();
    let disk_dev = if is_partition { device.parent() } else { None };
    let sector_size = attr_u64(device, "queue/logical_block_size")
        .or_else(|| disk_dev.and_then(|d| attr_u64(d, "queue/logical_block_size")))
        .filter(|&s| s >= 512)
        .unwrap_or(512);
    let read = |off: u64, len: usize| system.read_at(&devnode, off, len);
    let disk_node = disk_dev.and_then(|d| d.devnode());
    let read_disk = |off: u64, len: usize| {
        disk_node
            .as_deref()
            .and_then(|n| system.read_at(n, off, len))
    };
    let disk = match (disk_dev, &disk_node) {
        (Some(d), Some(_)) => (|| {
            Some(Disk {
                read_at: &read_disk,
                size: attr_u64(d, "size")?.checked_mul(512)?,
                devnum: d.devnum()?,
                start: attr_u64(device, "start")?,
                sectors: attr_u64(device, "size")?,
            })
        })(),
        _ => None,
    };
    let opts = Options {
        offset: args.offset,
        noraid: args.noraid,
        hints: args.hints,
        sector_size,
        whole_disk: !is_partition,
        cdrom: device.property("ID_CDROM").as_deref() == Some("1"),
        disk,
    };
    let probe = probe_with(&read, size, &opts)?;
    // A partition whose parent found the root partition of a GPT-auto boot.
    let root = device.property("ID_PART_GPT_AUTO_ROOT_UUID");
    for (key, value) in probe.properties() {
        let is_root = key == "ID_PART_ENTRY_UUID" && root.as_deref() == Some(value.as_str());
        out.set(key, value);
        if is_root {
            out.set("ID_PART_GPT_AUTO_ROOT", "1");
        }
    }
    if probe.get("PTTYPE") == Some(b"gpt") {
        let loader = loader_device_part_uuid(system);
        if let Some(uuid) = gpt_auto_root(&read, size, &opts, loader.as_deref()) {
            out.set("ID_PART_GPT_AUTO_ROOT_UUID", uuid);
        }
    }
    Ok(out)
}
