//! libblkid's superblocks chain: the table of file system, RAID and crypto probers in
//! libblkid's order, magic matching, and `blkid_do_safeprobe`'s rules for one answer.
//!
//! Safe probing runs every prober. The first match is the answer, except: a RAID or crypto
//! match ends the search; on a tiny device (a floppy) the first match wins outright; two
//! matches of which one is not "tolerant" (iso9660 is) are ambivalent, an error. Only the
//! probers listed in [`IDINFOS`] exist here; libblkid has about seventy more, so a device
//! carrying one of those plus one of ours is found as ours instead of being ambivalent.

use super::area::{cstr, Area};
use super::encode::{ltrim, rtrim, utf16_to_utf8, Utf16};
use super::{btrfs, exfat, ext, f2fs, iso9660, luks, lvm, ntfs, raid, squashfs, swap, vfat, xfs};

/// What a signature is used for (`ID_FS_USAGE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Usage {
    Filesystem,
    Raid,
    Crypto,
    Other,
}

impl Usage {
    fn name(self) -> &'static str {
        match self {
            Usage::Filesystem => "filesystem",
            Usage::Raid => "raid",
            Usage::Crypto => "crypto",
            Usage::Other => "other",
        }
    }
}

/// A magic string at `kboff` KiB + `sboff` bytes, moved by the hint `hint` when given.
pub(crate) struct Magic {
    pub magic: &'static [u8],
    pub kboff: u64,
    pub sboff: u64,
    pub hint: Option<&'static str>,
}

impl Magic {
    pub const fn at(magic: &'static [u8], kboff: u64, sboff: u64) -> Magic {
        Magic {
            magic,
            kboff,
            sboff,
            hint: None,
        }
    }
}

/// A prober: reads the area, adds values, says whether it found its signature.
pub(crate) type ProbeFn = fn(&Area<'_>, Option<&Magic>, &mut Values) -> bool;

/// One entry of libblkid's superblocks table.
pub(crate) struct Idinfo {
    pub name: &'static str,
    pub usage: Usage,
    /// Can share a device with another signature without being ambivalent.
    pub tolerant: bool,
    /// The smallest device the signature can be on.
    pub minsz: u64,
    /// The signature's magics; empty for probers that look by themselves.
    pub magics: &'static [Magic],
    pub probe: ProbeFn,
}

/// The probers, in libblkid 2.38's order (RAIDs first, then the rest).
pub(crate) static IDINFOS: &[Idinfo] = &[
    raid::LINUX_RAID,
    lvm::LVM2,
    lvm::LVM1,
    luks::LUKS,
    vfat::VFAT,
    swap::SWSUSPEND,
    swap::SWAP,
    xfs::XFS,
    xfs::XFS_LOG,
    ext::EXT4DEV,
    ext::EXT4,
    ext::EXT3,
    ext::EXT2,
    ext::JBD,
    iso9660::ISO9660,
    ntfs::NTFS,
    squashfs::SQUASHFS,
    squashfs::SQUASHFS3,
    btrfs::BTRFS,
    exfat::EXFAT,
    f2fs::F2FS,
];

/// libblkid's `NAME=value` results, in the order they were set.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Values(pub Vec<(&'static str, Vec<u8>)>);

impl Values {
    pub fn set(&mut self, name: &'static str, value: impl Into<Vec<u8>>) {
        self.0.push((name, value.into()));
    }

    /// `blkid_probe_set_label`: up to the first NUL, trailing whitespace removed, not set when
    /// empty.
    pub fn set_label(&mut self, raw: &[u8]) {
        self.set_nonempty("LABEL", rtrim(cstr(raw)));
    }

    /// `blkid_probe_set_id_label`: like a label, but also leading whitespace removed.
    pub fn set_id_label(&mut self, name: &'static str, raw: &[u8]) {
        self.set_nonempty(name, ltrim(rtrim(cstr(raw))));
    }

    /// `blkid_probe_set_utf8label` from UTF-16.
    pub fn set_utf16_label(&mut self, raw: &[u8], order: Utf16) {
        let s = utf16_to_utf8(raw, order, raw.len() * 3 + 1);
        self.set_nonempty("LABEL", rtrim(&s));
    }

    /// `blkid_probe_set_utf8_id_label` from UTF-16.
    pub fn set_utf16_id_label(&mut self, name: &'static str, raw: &[u8], order: Utf16) {
        let s = utf16_to_utf8(raw, order, raw.len() * 3 + 1);
        self.set_nonempty(name, ltrim(rtrim(&s)));
    }

    fn set_nonempty(&mut self, name: &'static str, v: &[u8]) {
        if !v.is_empty() {
            self.set(name, v);
        }
    }

    /// `blkid_probe_set_uuid_as`: a DCE UUID, not set when all zero.
    pub fn set_uuid_as(&mut self, name: &'static str, uuid: &[u8; 16]) {
        if uuid.iter().any(|&b| b != 0) {
            self.set(name, format_uuid(uuid));
        }
    }

    /// `blkid_probe_set_uuid`.
    pub fn set_uuid(&mut self, uuid: &[u8; 16]) {
        self.set_uuid_as("UUID", uuid);
    }

    /// `blkid_probe_sprintf_uuid`: `text` as the UUID unless the raw bytes are all zero.
    pub fn set_uuid_text(&mut self, raw: &[u8], text: impl Into<Vec<u8>>) {
        let text = text.into();
        if raw.iter().any(|&b| b != 0) && !text.is_empty() {
            self.set("UUID", text);
        }
    }

    /// `blkid_probe_strncpy_uuid`: a UUID stored as a string.
    pub fn set_uuid_string(&mut self, raw: &[u8]) {
        let s = rtrim(cstr(raw));
        self.set_nonempty("UUID", s);
    }

    pub fn set_version(&mut self, v: &str) {
        self.set("VERSION", v);
    }

    pub fn set_block_size(&mut self, n: u64) {
        self.set("BLOCK_SIZE", n.to_string());
    }
}

/// A UUID in its usual lower-case 8-4-4-4-12 form, bytes in stored order.
pub(crate) fn format_uuid(u: &[u8; 16]) -> String {
    let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
    let part = |a: usize, b: usize| hex.get(a..b).unwrap_or("");
    format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

/// `blkid_probe_get_idmag`: the first magic of `id` found in the area, `Some(None)` for a
/// prober without magics, `None` when none matches.
pub(crate) fn find_magic<'m>(area: &Area<'_>, magics: &'m [Magic]) -> Option<Option<&'m Magic>> {
    if magics.is_empty() {
        return Some(None);
    }
    for m in magics {
        let hint = m.hint.and_then(|h| area.hint(h)).unwrap_or(0);
        let Some(off) = (m.kboff + (m.sboff >> 10))
            .checked_mul(1024)
            .and_then(|o| o.checked_add(hint))
        else {
            continue;
        };
        let Some(buf) = area.get(off, 1024) else {
            continue;
        };
        let at = (m.sboff & 0x3ff) as usize;
        if super::area::bytes(&buf, at, m.magic.len()) == m.magic {
            return Some(Some(m));
        }
    }
    None
}

/// Outcome of the superblocks chain.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub values: Values,
    /// The prober that gave the values.
    pub name: &'static str,
    pub usage: Option<Usage>,
}

/// Two signatures that cannot both be right.
#[derive(Debug)]
pub(crate) struct Ambivalent(pub Vec<&'static str>);

/// `blkid_do_safeprobe` on the superblocks chain.
pub(crate) fn safeprobe(area: &Area<'_>, noraid: bool) -> Result<Option<Found>, Ambivalent> {
    // libblkid ignores very small devices (and extended partitions).
    if area.size <= 1024 {
        return Ok(None);
    }
    let mut first: Option<Found> = None;
    let mut last_raid: Option<Found> = None;
    let (mut count, mut intolerant) = (0, 0);
    let mut names = Vec::new();
    for id in IDINFOS {
        if (noraid && id.usage == Usage::Raid)
            || id.minsz > area.size
            || (matches!(id.usage, Usage::Raid | Usage::Other) && area.cdrom)
            || (id.usage == Usage::Raid && area.tiny)
        {
            continue;
        }
        let Some(mag) = find_magic(area, id.magics) else {
            continue;
        };
        let mut values = Values::default();
        if !(id.probe)(area, mag, &mut values) {
            continue;
        }
        values.set("TYPE", id.name);
        values.set("USAGE", id.usage.name());
        let found = Found {
            values,
            name: id.name,
            usage: Some(id.usage),
        };
        if area.tiny && count == 0 {
            return Ok(Some(found));
        }
        count += 1;
        names.push(id.name);
        if matches!(id.usage, Usage::Raid | Usage::Crypto) {
            // The search ends here; this result stands unless an earlier one was kept.
            last_raid = Some(found);
            break;
        }
        if !id.tolerant {
            intolerant += 1;
        }
        if count == 1 {
            first = Some(found);
        }
    }
    if count > 1 && intolerant > 0 {
        return Err(Ambivalent(names));
    }
    Ok(first.or(last_raid))
}
