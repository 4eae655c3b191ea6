//! exFAT, as libblkid finds it: the boot sector with `EXFAT   ` at 3. LABEL is the
//! volume-label entry of the root directory (UTF-16LE, found by following the cluster
//! chain), UUID the volume serial as `XXXX-XXXX`, VERSION the file system revision. Shifts
//! by corrupt sizes wrap as they do in libblkid's C on x86.

use super::area::{bytes, le32, u8_at, Area};
use super::encode::Utf16;
use super::superblocks::{Idinfo, Magic, Usage, Values};

/// The boot sector fields the prober needs.
struct Geometry {
    block_bits: u32,
    bpc_bits: u32,
    fat_block_start: u32,
    cluster_block_start: u32,
}

impl Geometry {
    fn cluster_size(&self) -> u32 {
        1u32.wrapping_shl(self.block_bits)
            .wrapping_shl(self.bpc_bits)
    }

    fn block_offset(&self, block: u64) -> u64 {
        block.wrapping_shl(self.block_bits)
    }

    fn cluster_offset(&self, cluster: u32) -> u64 {
        let block = u64::from(self.cluster_block_start)
            .wrapping_add(u64::from(cluster.wrapping_sub(2)).wrapping_shl(self.bpc_bits));
        self.block_offset(block)
    }

    fn next_cluster(&self, area: &Area<'_>, cluster: u32) -> u32 {
        let at = self
            .block_offset(u64::from(self.fat_block_start))
            .wrapping_add(u64::from(cluster) * 4);
        area.get(at, 4).map_or(0, |b| le32(&b, 0))
    }
}

/// The volume label entry of the root directory.
fn find_label(area: &Area<'_>, g: &Geometry, root: u32) -> Option<Vec<u8>> {
    let mut cluster = root;
    let mut off = g.cluster_offset(cluster);
    for _ in 0..10000 {
        let entry = area.get(off, 32)?;
        match u8_at(&entry, 0) {
            0x00 => return None,
            0x83 => return Some(entry),
            _ => {}
        }
        off = off.wrapping_add(32);
        if off.is_multiple_of(u64::from(g.cluster_size())) {
            cluster = g.next_cluster(area, cluster);
            if !(2..=0x0fff_fff6).contains(&cluster) {
                return None;
            }
            off = g.cluster_offset(cluster);
        }
    }
    None
}

fn probe(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    let Some(sb) = area.get(0, 113) else {
        return false;
    };
    let g = Geometry {
        block_bits: u32::from(u8_at(&sb, 108)),
        bpc_bits: u32::from(u8_at(&sb, 109)),
        fat_block_start: le32(&sb, 80),
        cluster_block_start: le32(&sb, 88),
    };
    if g.cluster_size() == 0 {
        return false;
    }
    if let Some(label) = find_label(area, &g, le32(&sb, 96)) {
        let len = (usize::from(u8_at(&label, 1)) * 2).min(22);
        v.set_utf16_label(bytes(&label, 2, len), Utf16::Le);
    }
    let serial = bytes(&sb, 100, 4);
    let s = |i: usize| u8_at(serial, i);
    v.set_uuid_text(
        serial,
        format!("{:02X}{:02X}-{:02X}{:02X}", s(3), s(2), s(1), s(0)),
    );
    v.set_version(&format!("{}.{}", u8_at(&sb, 105), u8_at(&sb, 104)));
    v.set_block_size(u64::from(1u32.wrapping_shl(g.block_bits)));
    true
}

pub(crate) const EXFAT: Idinfo = Idinfo {
    name: "exfat",
    usage: Usage::Filesystem,
    tolerant: false,
    minsz: 0,
    magics: &[Magic::at(b"EXFAT   ", 0, 3)],
    probe,
};
