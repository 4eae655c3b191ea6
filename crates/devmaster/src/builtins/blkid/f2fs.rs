//! F2FS, as libblkid finds it: the superblock at 1 KiB. LABEL is UTF-16LE, UUID the volume
//! UUID, VERSION `major.minor`; a version 1.0 superblock is taken on its magic alone, since
//! its layout is not known.

use super::area::{bytes, le16, le32, u8_at, uuid_bytes, Area};
use super::encode::Utf16;
use super::superblocks::{Idinfo, Magic, Usage, Values};

fn probe(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    let Some(sb) = area.get(1024, 0x7c + 1024) else {
        return false;
    };
    let (major, minor) = (le16(&sb, 4), le16(&sb, 6));
    if (major, minor) == (1, 0) {
        return true;
    }
    if u8_at(&sb, 0x7c) != 0 {
        v.set_utf16_label(bytes(&sb, 0x7c, 1024), Utf16::Le);
    }
    v.set_uuid(&uuid_bytes(&sb, 0x6c));
    v.set_version(&format!("{major}.{minor}"));
    let log = le32(&sb, 0x10);
    if log < 32 {
        v.set_block_size(1u64 << log);
    }
    true
}

pub(crate) const F2FS: Idinfo = Idinfo {
    name: "f2fs",
    usage: Usage::Filesystem,
    tolerant: false,
    minsz: 0,
    magics: &[Magic::at(b"\x10\x20\xf5\xf2", 1, 0)],
    probe,
};
