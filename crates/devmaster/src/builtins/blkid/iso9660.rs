//! ISO 9660 (with Joliet) and the older High Sierra format, as libblkid finds them.
//!
//! Volume descriptors start at 32 KiB (plus the `session_offset` hint): the first primary,
//! Joliet supplementary (by its UCS-2 escape sequence) and boot record descriptors count.
//! Joliet's UTF-16 names are at most 16 characters while the primary descriptor's are ASCII
//! with `_` for what it cannot represent; like libblkid, when the Joliet name is a prefix of
//! the ASCII one (modulo case and `_`), the two are merged into the full name. UUID is the
//! modification date (else the creation date) as `YYYY-MM-DD-HH-MM-SS-hh`. The type is
//! "tolerant": it may share a device with another signature.

use super::area::{bytes, cstr, u8_at, Area};
use super::encode::{is_c_space, Utf16};
use super::superblocks::{Idinfo, Magic, Usage, Values};

const SECTOR: u64 = 2048;
/// Bytes of a volume descriptor libblkid reads (the primary descriptor up to its dates).
const DESC: u64 = 847;

/// High Sierra: a label and a fixed version.
fn probe_hsfs(area: &Area<'_>, v: &mut Values) -> bool {
    let Some(d) = area.get(32 * 1024, 80) else {
        return false;
    };
    v.set_block_size(SECTOR);
    v.set_version("High Sierra");
    v.set_label(bytes(&d, 48, 32));
    true
}

/// UUID from a descriptor date; false when the date is unset (all `0`, zero offset).
fn set_uuid_from_date(d: &[u8], v: &mut Values) -> bool {
    let digits = bytes(d, 0, 16);
    if digits.iter().all(|&c| c == b'0') && u8_at(d, 16) == 0 {
        return false;
    }
    let mut text = Vec::with_capacity(22);
    for (i, &c) in digits.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10 | 12 | 14) {
            text.push(b'-');
        }
        text.push(c);
    }
    v.set_uuid_text(digits, text);
    true
}

fn is_str_empty(s: &[u8]) -> bool {
    s.first().is_none_or(|&c| c == 0) || s.iter().all(|&c| is_c_space(c))
}

fn is_utf16be_str_empty(s: &[u8]) -> bool {
    s.chunks(2)
        .all(|p| u8_at(p, 0) == 0 && is_c_space(u8_at(p, 1)))
}

/// When the UTF-16BE `utf16` is a prefix of `ascii` (ignoring `_` for characters ASCII
/// cannot hold, and case), the full name in UTF-16BE: the Joliet characters, then the rest of
/// the ASCII name. `None` otherwise.
fn merge_utf16be_ascii(utf16: &[u8], ascii: &[u8]) -> Option<Vec<u8>> {
    let len = ascii.len();
    let at = |i: usize| u8_at(utf16, i);
    let mut out = Vec::with_capacity(2 * len + 4);
    let (mut a, mut u) = (0, 0);
    while u + 1 < len && a < len {
        // A surrogate pair stands for one ASCII character.
        if (0xd8..=0xdb).contains(&at(u)) && u + 3 < len && (0xdc..=0xdf).contains(&at(u + 2)) {
            out.extend([at(u), at(u + 1)]);
            u += 2;
        }
        let c = u8_at(ascii, a);
        if c == b'_' {
            out.extend([at(u), at(u + 1)]);
        } else if at(u) == 0 && at(u + 1) == b'_' {
            out.extend([0, c]);
        } else if at(u) == 0 && c.eq_ignore_ascii_case(&at(u + 1)) {
            out.extend([0, if c.is_ascii_uppercase() { at(u + 1) } else { c }]);
        } else {
            return None;
        }
        a += 1;
        u += 2;
    }
    for &c in ascii.iter().skip(a) {
        out.extend([0, c]);
    }
    (!out.is_empty()).then_some(out)
}

/// An identifier that Joliet may widen (system and volume set ids): always set.
fn set_id(v: &mut Values, name: &'static str, pvd: &[u8], joliet: Option<&[u8]>) {
    match joliet {
        Some(j) => match merge_utf16be_ascii(j, pvd) {
            Some(m) => v.set_utf16_id_label(name, &m, Utf16::Be),
            None => v.set_utf16_id_label(name, j, Utf16::Be),
        },
        None => v.set_id_label(name, pvd),
    }
}

/// An identifier that may be empty in either descriptor (publisher, preparer, application).
fn set_optional_id(v: &mut Values, name: &'static str, pvd: &[u8], joliet: Option<&[u8]>) {
    let ascii_empty = is_str_empty(pvd) || pvd.first() == Some(&b'_');
    let unicode =
        joliet.filter(|j| !(is_utf16be_str_empty(j) || (u8_at(j, 0) == 0 && u8_at(j, 1) == b'_')));
    if let Some(j) = unicode {
        let merged = if ascii_empty {
            None
        } else {
            merge_utf16be_ascii(j, pvd)
        };
        match merged {
            Some(m) => v.set_utf16_id_label(name, &m, Utf16::Be),
            None => v.set_utf16_id_label(name, j, Utf16::Be),
        }
    } else if !ascii_empty {
        v.set_id_label(name, pvd);
    }
}

fn probe(area: &Area<'_>, mag: Option<&Magic>, v: &mut Values) -> bool {
    let mut off = area.hint("session_offset").unwrap_or(0);
    if !off.is_multiple_of(SECTOR) {
        return false;
    }
    if mag.is_some_and(|m| m.magic == b"CDROM") {
        return probe_hsfs(area, v);
    }
    let (mut boot, mut pvd, mut joliet) = (None, None, None);
    off += 32 * 1024;
    for _ in 0..16 {
        if boot.is_some() && pvd.is_some() && joliet.is_some() {
            break;
        }
        let Some(d) = area.get(off, DESC) else {
            break;
        };
        match u8_at(&d, 0) {
            0xff => break,
            0 if boot.is_none() => boot = Some(d),
            1 if pvd.is_none() => pvd = Some(d),
            2 if joliet.is_none() => {
                if matches!(bytes(&d, 88, 3), b"%/@" | b"%/C" | b"%/E") {
                    joliet = Some(d);
                }
            }
            _ => {}
        }
        off += SECTOR;
    }
    let Some(pvd) = pvd else {
        return false;
    };
    let j = joliet.as_deref();
    v.set_block_size(SECTOR);
    set_id(
        v,
        "SYSTEM_ID",
        bytes(&pvd, 8, 32),
        j.map(|j| bytes(j, 8, 32)),
    );
    set_id(
        v,
        "VOLUME_SET_ID",
        bytes(&pvd, 190, 128),
        j.map(|j| bytes(j, 190, 128)),
    );
    for (name, at) in [
        ("PUBLISHER_ID", 318),
        ("DATA_PREPARER_ID", 446),
        ("APPLICATION_ID", 574),
    ] {
        set_optional_id(v, name, bytes(&pvd, at, 128), j.map(|j| bytes(j, at, 128)));
    }
    if !set_uuid_from_date(bytes(&pvd, 830, 17), v) {
        set_uuid_from_date(bytes(&pvd, 813, 17), v);
    }
    if let Some(b) = &boot {
        v.set_id_label("BOOT_SYSTEM_ID", bytes(b, 7, 32));
    }
    if let Some(j) = j {
        v.set_version("Joliet Extension");
        let (jl, pl) = (bytes(j, 40, 32), bytes(&pvd, 40, 32));
        match merge_utf16be_ascii(jl, pl) {
            Some(m) => v.set_utf16_label(&m, Utf16::Be),
            None => v.set_utf16_label(jl, Utf16::Be),
        }
    } else {
        v.set_label(cstr(bytes(&pvd, 40, 32)));
    }
    true
}

pub(crate) const ISO9660: Idinfo = Idinfo {
    name: "iso9660",
    usage: Usage::Filesystem,
    tolerant: true,
    minsz: 0,
    magics: &[
        Magic {
            magic: b"CD001",
            kboff: 32,
            sboff: 1,
            hint: Some("session_offset"),
        },
        Magic {
            magic: b"CDROM",
            kboff: 32,
            sboff: 9,
            hint: Some("session_offset"),
        },
    ],
    probe,
};
