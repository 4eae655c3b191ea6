//! LVM2 and LVM1 physical volumes (`LVM2_member`, `LVM1_member`), as libblkid finds them.
//!
//! An LVM2 label (`LABELONE` ... `LVM2 001`) sits in one of the first four sectors; it must
//! name its own sector and carry LVM's CRC over the rest of the sector. The PV UUID is shown
//! in LVM's 6-4-4-4-4-4-6 grouping. pvcreate wipes the first 8 KiB, which the partitions
//! chain uses to drop the PV when a DOS partition table was written there later.

use super::area::{bytes, le16, le32, le64, Area};
use super::superblocks::{Idinfo, Magic, Usage, Values};

/// LVM's own CRC (`calc_crc` of lvm2: a nibble table over the initial value 0xf597a6cf).
fn lvm_crc(data: &[u8]) -> u32 {
    const TAB: [u32; 16] = [
        0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158,
        0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4,
        0xa00ae278, 0xbdbdf21c,
    ];
    let nibble = |crc: u32| (crc >> 4) ^ TAB.get((crc & 0xf) as usize).copied().unwrap_or(0);
    data.iter()
        .fold(0xf597a6cf, |crc, &b| nibble(nibble(crc ^ u32::from(b))))
}

/// 32 UUID characters grouped 6-4-4-4-4-4-6, ending at a NUL as C's `%s` does.
fn format_lvm_uuid(raw: &[u8]) -> Vec<u8> {
    let mut s = Vec::new();
    for (i, &c) in raw.iter().take(32).enumerate() {
        if matches!(i, 6 | 10 | 14 | 18 | 22 | 26) {
            s.push(b'-');
        }
        s.push(c);
    }
    super::area::cstr(&s).to_vec()
}

fn probe_lvm2(area: &Area<'_>, mag: Option<&Magic>, v: &mut Values) -> bool {
    let Some(mag) = mag else {
        return false;
    };
    let base = mag.kboff << 10;
    let Some(buf) = area.get(base, 512 + 64) else {
        return false;
    };
    let (label_at, sector) = if buf.starts_with(b"LABELONE") {
        (0usize, mag.kboff << 1)
    } else if bytes(&buf, 512, 8) == b"LABELONE" {
        (512, (mag.kboff << 1) + 1)
    } else {
        return false;
    };
    let label = bytes(&buf, label_at, 64);
    if le64(label, 8) != sector {
        return false;
    }
    // The CRC covers the label sector from its offset field on.
    let Some(rest) = area.get(base + label_at as u64 + 20, 512 - 20) else {
        return false;
    };
    if lvm_crc(&rest) != le32(label, 16) {
        return false;
    }
    let uuid = bytes(label, 32, 32);
    v.set_uuid_text(uuid, format_lvm_uuid(uuid));
    v.set_version("LVM2 001");
    true
}

fn probe_lvm1(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    let Some(h) = area.get(0, 172) else {
        return false;
    };
    if !matches!(le16(&h, 2), 1 | 2) {
        return false;
    }
    let uuid = bytes(&h, 44, 128);
    v.set_uuid_text(uuid, format_lvm_uuid(uuid));
    true
}

pub(crate) const LVM2: Idinfo = Idinfo {
    name: "LVM2_member",
    usage: Usage::Raid,
    tolerant: false,
    minsz: 0,
    magics: &[
        Magic::at(b"LVM2 001", 0, 0x218),
        Magic::at(b"LVM2 001", 0, 0x018),
        Magic::at(b"LVM2 001", 1, 0x018),
        Magic::at(b"LVM2 001", 1, 0x218),
    ],
    probe: probe_lvm2,
};

pub(crate) const LVM1: Idinfo = Idinfo {
    name: "LVM1_member",
    usage: Usage::Raid,
    tolerant: false,
    minsz: 0,
    magics: &[Magic::at(b"HM", 0, 0)],
    probe: probe_lvm1,
};
