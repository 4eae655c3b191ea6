//! Linux software RAID members (`linux_raid_member`), as libblkid finds them.
//!
//! Metadata 0.90 sits in the last 64 KiB-aligned 64 KiB of the device (either byte order);
//! on a whole disk it is ignored when that area lies inside a partition of the disk's table,
//! since then it belongs to the last partition. Metadata 1.0 is 8 KiB before the end, 1.1 at
//! the start and 1.2 at 4 KiB; each must name its own sector. VERSION is `0.90.0` (from the
//! superblock) or the 1.x placement; 1.x adds the array name as LABEL and the member's UUID
//! as UUID_SUB. Checksums are not verified, as in libblkid 2.38.

use super::area::{bytes, le32, le64, uuid_bytes, Area};
use super::partitions;
use super::superblocks::{Idinfo, Magic, Usage, Values};

const RESERVED: u64 = 0x10000;
const MAGIC: u32 = 0xa92b_4efc;

/// Whether the whole-disk area `off .. off + size` lies inside a partition of the area's
/// own table (`blkid_probe_is_covered_by_pt`).
fn covered_by_pt(area: &Area<'_>, off: u64, size: u64) -> bool {
    let Some(table) =
        partitions::probe(area, partitions::Context::default(), true).and_then(|f| f.table)
    else {
        return false;
    };
    let sectors = area.size >> 9;
    if table.parts.is_empty()
        || table
            .parts
            .iter()
            .any(|p| p.start.saturating_add(p.size) > sectors)
    {
        return false;
    }
    let (start, end) = (off >> 9, off.saturating_add(size) >> 9);
    table
        .parts
        .iter()
        .any(|p| start >= p.start && end <= p.start.saturating_add(p.size))
}

/// Metadata 0.90 at `off`.
fn probe_v0(area: &Area<'_>, off: u64, v: &mut Values) -> bool {
    if area.size < RESERVED {
        return false;
    }
    let Some(sb) = area.get(off, 64) else {
        return false;
    };
    let word = |o: usize, big: bool| {
        let raw: [u8; 4] = bytes(&sb, o, 4).try_into().unwrap_or([0; 4]);
        if big {
            u32::from_be_bytes(raw)
        } else {
            u32::from_le_bytes(raw)
        }
    };
    let big = if word(0, false) == MAGIC {
        false
    } else if word(0, true) == MAGIC {
        true
    } else {
        return false;
    };
    // The set UUID is four 32-bit words; libblkid prints each as a big-endian number.
    let mut uuid = [0u8; 16];
    let minor = word(8, big);
    for (i, at) in [20usize, 52, 56, 60].into_iter().enumerate() {
        if i == 0 || minor >= 90 {
            if let Some(d) = uuid.get_mut(i * 4..i * 4 + 4) {
                d.copy_from_slice(&word(at, big).to_be_bytes());
            }
        }
    }
    let size = u64::from(word(32, big)) << 10;
    if area.size < size + RESERVED || off < size {
        return false;
    }
    // A superblock at the end of the last partition is also at the end of the disk.
    if area.whole && covered_by_pt(area, off - size, size + RESERVED) {
        return false;
    }
    v.set_version(&format!("{}.{}.{}", word(4, big), minor, word(12, big)));
    v.set_uuid(&uuid);
    true
}

/// Metadata 1.x at `off`.
fn probe_v1(area: &Area<'_>, off: u64, v: &mut Values) -> bool {
    let Some(sb) = area.get(off, 256) else {
        return false;
    };
    if le32(&sb, 0) != MAGIC || le32(&sb, 4) != 1 || le64(&sb, 144) != off >> 9 {
        return false;
    }
    v.set_uuid(&uuid_bytes(&sb, 16));
    v.set_uuid_as("UUID_SUB", &uuid_bytes(&sb, 168));
    v.set_label(bytes(&sb, 32, 32));
    true
}

fn probe(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    if area.size > RESERVED {
        if probe_v0(area, (area.size & !(RESERVED - 1)) - RESERVED, v) {
            return true;
        }
        if let Some(off) = (area.size & !0xfff).checked_sub(0x2000) {
            if probe_v1(area, off, v) {
                v.set_version("1.0");
                return true;
            }
        }
    }
    for (off, version) in [(0, "1.1"), (0x1000, "1.2")] {
        if probe_v1(area, off, v) {
            v.set_version(version);
            return true;
        }
    }
    false
}

pub(crate) const LINUX_RAID: Idinfo = Idinfo {
    name: "linux_raid_member",
    usage: Usage::Raid,
    tolerant: false,
    minsz: 0,
    magics: &[],
    probe,
};
