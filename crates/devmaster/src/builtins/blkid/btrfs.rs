//! btrfs, as libblkid finds it: the superblock at 64 KiB with the magic `_BHRfS_M`. LABEL,
//! UUID (the file system's), UUID_SUB (this device's). Zoned devices, whose superblock moves
//! with the write pointer, are not handled (the zone layout is not visible through reads).

use super::area::{bytes, le32, uuid_bytes, Area};
use super::superblocks::{Idinfo, Magic, Usage, Values};

/// Size of the superblock part libblkid reads.
const SB_SIZE: u64 = 555;

fn probe(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    let Some(sb) = area.get(64 * 1024, SB_SIZE) else {
        return false;
    };
    let label = bytes(&sb, 299, 256);
    if label.first().is_some_and(|&c| c != 0) {
        v.set_label(label);
    }
    v.set_uuid(&uuid_bytes(&sb, 32));
    v.set_uuid_as("UUID_SUB", &uuid_bytes(&sb, 267));
    v.set_block_size(u64::from(le32(&sb, 144)));
    true
}

pub(crate) const BTRFS: Idinfo = Idinfo {
    name: "btrfs",
    usage: Usage::Filesystem,
    tolerant: false,
    minsz: 1024 * 1024,
    magics: &[Magic::at(b"_BHRfS_M", 64, 0x40)],
    probe,
};
