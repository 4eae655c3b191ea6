//! NTFS, as libblkid finds it, also used by the DOS partition table prober to tell an NTFS
//! boot sector from an MBR.
//!
//! The boot sector (`NTFS    ` at 3) must have a sane BIOS parameter block, and the MFT and
//! its `$Volume` record must start with `FILE`. LABEL is the `$VOLUME_NAME` attribute
//! (UTF-16LE); UUID is the 64-bit volume serial in upper-case hex.

use super::area::{le16, le32, le64, u8_at, Area};
use super::encode::Utf16;
use super::superblocks::{find_magic, Idinfo, Magic, Usage, Values};

const MAGICS: &[Magic] = &[Magic::at(b"NTFS    ", 0, 3)];
const MAX_CLUSTER_SIZE: u32 = 2 * 1024 * 1024;

/// libblkid's `__probe_ntfs`; values are only added when `v` is given.
fn check(area: &Area<'_>, v: Option<&mut Values>) -> bool {
    let Some(bs) = area.get(0, 84) else {
        return false;
    };
    let sector_size = le16(&bs, 11);
    if !(256..=4096).contains(&sector_size) {
        return false;
    }
    let spc_raw = u8_at(&bs, 13);
    let spc: u32 = match spc_raw {
        1 | 2 | 4 | 8 | 16 | 32 | 64 | 128 => u32::from(spc_raw),
        240..=249 => 1 << (256 - u32::from(spc_raw)),
        _ => return false,
    };
    if u32::from(sector_size) * spc > MAX_CLUSTER_SIZE {
        return false;
    }
    // Fields FAT has and NTFS leaves zero.
    if le16(&bs, 14) != 0
        || le16(&bs, 17) != 0
        || le16(&bs, 19) != 0
        || le16(&bs, 22) != 0
        || le32(&bs, 32) != 0
        || u8_at(&bs, 16) != 0
    {
        return false;
    }
    let cpmr = u8_at(&bs, 64);
    if !(0xe1..=0xf7).contains(&cpmr) && !matches!(cpmr, 1 | 2 | 4 | 8 | 16 | 32 | 64) {
        return false;
    }
    let cpmr = cpmr as i8;
    let record_size: u64 = if cpmr > 0 {
        u64::from(cpmr as u8) * u64::from(spc) * u64::from(sector_size)
    } else {
        1u64 << (-i32::from(cpmr))
    };
    let nr_clusters = le64(&bs, 40) / u64::from(spc);
    let (mft, mirror) = (le64(&bs, 48), le64(&bs, 56));
    if mft > nr_clusters || mirror > nr_clusters {
        return false;
    }
    let off = mft
        .wrapping_mul(u64::from(sector_size))
        .wrapping_mul(u64::from(spc));
    if record_size < 4 {
        return false;
    }
    if !area
        .get(off, record_size)
        .is_some_and(|r| r.starts_with(b"FILE"))
    {
        return false;
    }
    let Some(rec) = area
        .get(off.wrapping_add(3 * record_size), record_size)
        .filter(|r| r.starts_with(b"FILE"))
    else {
        return false;
    };
    let Some(v) = v else {
        return true;
    };
    let mut at = u64::from(le16(&rec, 20));
    let allocated = u64::from(le32(&rec, 28));
    while at + 22 <= record_size && at <= allocated {
        let a = at as usize;
        let len = le32(&rec, a + 4);
        let kind = le32(&rec, a);
        if len == 0 || kind == 0xffff_ffff {
            break;
        }
        if kind == 0x60 {
            let val_off = u64::from(le16(&rec, a + 20));
            let val_len = u64::from(le32(&rec, a + 16));
            if at + val_off + val_len <= record_size {
                let s = (at + val_off) as usize;
                if let Some(name) = rec.get(s..s + val_len as usize) {
                    v.set_utf16_label(name, Utf16::Le);
                }
            }
            break;
        }
        at += u64::from(len);
    }
    v.set_block_size(u64::from(sector_size));
    let serial = super::area::bytes(&bs, 72, 8);
    v.set_uuid_text(serial, format!("{:016X}", le64(&bs, 72)));
    true
}

/// Whether the area starts with an NTFS boot sector (for the DOS partition table prober).
pub(crate) fn is_ntfs(area: &Area<'_>) -> bool {
    matches!(find_magic(area, MAGICS), Some(Some(_))) && check(area, None)
}

fn probe(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    check(area, Some(v))
}

pub(crate) const NTFS: Idinfo = Idinfo {
    name: "ntfs",
    usage: Usage::Filesystem,
    tolerant: false,
    minsz: 0,
    magics: MAGICS,
    probe,
};
