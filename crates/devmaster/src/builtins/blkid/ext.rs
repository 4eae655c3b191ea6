//! ext2, ext3, ext4, ext4dev and external ext journals (jbd), as libblkid tells them apart.
//!
//! All share one superblock at 1 KiB with the magic 0xEF53. The type follows from feature
//! bits: a journal (`has_journal`) makes ext3 unless a feature ext3 does not know is on, which
//! makes ext4; without a journal, only ext2's own features keep it ext2, anything more is ext4;
//! `journal_dev` is an external journal; the `test_fs` flag makes ext4dev. VERSION is
//! `rev.minor`; no checksum is verified (libblkid 2.38 verifies none either).

use super::area::{bytes, le16, le32, uuid_bytes, Area};
use super::superblocks::{Idinfo, Magic, Usage, Values};

const MAGICS: &[Magic] = &[Magic::at(b"\x53\xef", 1, 0x38)];

const COMPAT_HAS_JOURNAL: u32 = 0x0004;
const INCOMPAT_FILETYPE: u32 = 0x0002;
const INCOMPAT_RECOVER: u32 = 0x0004;
const INCOMPAT_JOURNAL_DEV: u32 = 0x0008;
const INCOMPAT_META_BG: u32 = 0x0010;
const RO_COMPAT_SPARSE_SUPER: u32 = 0x0001;
const RO_COMPAT_LARGE_FILE: u32 = 0x0002;
const RO_COMPAT_BTREE_DIR: u32 = 0x0004;
const FLAGS_TEST_FILESYS: u32 = 0x0004;

const EXT2_RO_COMPAT_SUPP: u32 =
    RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_BTREE_DIR;
const EXT2_INCOMPAT_SUPP: u32 = INCOMPAT_FILETYPE | INCOMPAT_META_BG;
const EXT3_RO_COMPAT_SUPP: u32 = EXT2_RO_COMPAT_SUPP;
const EXT3_INCOMPAT_SUPP: u32 = INCOMPAT_FILETYPE | INCOMPAT_RECOVER | INCOMPAT_META_BG;

/// The superblock fields the probers need.
struct Super {
    sb: Vec<u8>,
    compat: u32,
    incompat: u32,
    ro_compat: u32,
    flags: u32,
}

fn read_super(area: &Area<'_>) -> Option<Super> {
    let sb = area.get(1024, 512)?;
    Some(Super {
        compat: le32(&sb, 0x5c),
        incompat: le32(&sb, 0x60),
        ro_compat: le32(&sb, 0x64),
        flags: le32(&sb, 0x160),
        sb,
    })
}

/// The values every ext flavour reports (`ext_get_info`).
fn info(s: &Super, ver: u32, v: &mut Values) {
    let sb = &s.sb;
    let label = bytes(sb, 0x78, 16);
    if label.first().is_some_and(|&c| c != 0) {
        v.set_label(label);
    }
    v.set_uuid(&uuid_bytes(sb, 0x68));
    if s.compat & COMPAT_HAS_JOURNAL != 0 {
        v.set_uuid_as("EXT_JOURNAL", &uuid_bytes(sb, 0xd0));
    }
    if ver != 2 && s.incompat & !EXT2_INCOMPAT_SUPP == 0 {
        v.set("SEC_TYPE", "ext2");
    }
    v.set_version(&format!("{}.{}", le32(sb, 0x4c), le16(sb, 0x3e)));
    let log = le32(sb, 0x18);
    if log < 32 {
        v.set_block_size(1024u64 << log);
    }
}

fn probe_jbd(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    let Some(s) = read_super(area) else {
        return false;
    };
    if s.incompat & INCOMPAT_JOURNAL_DEV == 0 {
        return false;
    }
    info(&s, 2, v);
    v.set_uuid_as("LOGUUID", &uuid_bytes(&s.sb, 0x68));
    true
}

fn probe_ext2(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    let Some(s) = read_super(area) else {
        return false;
    };
    if s.compat & COMPAT_HAS_JOURNAL != 0
        || s.ro_compat & !EXT2_RO_COMPAT_SUPP != 0
        || s.incompat & !EXT2_INCOMPAT_SUPP != 0
    {
        return false;
    }
    info(&s, 2, v);
    true
}

fn probe_ext3(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    let Some(s) = read_super(area) else {
        return false;
    };
    if s.compat & COMPAT_HAS_JOURNAL == 0
        || s.ro_compat & !EXT3_RO_COMPAT_SUPP != 0
        || s.incompat & !EXT3_INCOMPAT_SUPP != 0
    {
        return false;
    }
    info(&s, 3, v);
    true
}

fn probe_ext4dev(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    let Some(s) = read_super(area) else {
        return false;
    };
    if s.incompat & INCOMPAT_JOURNAL_DEV != 0 || s.flags & FLAGS_TEST_FILESYS == 0 {
        return false;
    }
    info(&s, 4, v);
    true
}

fn probe_ext4(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    let Some(s) = read_super(area) else {
        return false;
    };
    if s.incompat & INCOMPAT_JOURNAL_DEV != 0
        // ext4 has at least one feature ext3 does not understand.
        || (s.ro_compat & !EXT3_RO_COMPAT_SUPP == 0 && s.incompat & !EXT3_INCOMPAT_SUPP == 0)
        || s.flags & FLAGS_TEST_FILESYS != 0
    {
        return false;
    }
    info(&s, 4, v);
    true
}

const fn ext(name: &'static str, usage: Usage, probe: super::superblocks::ProbeFn) -> Idinfo {
    Idinfo {
        name,
        usage,
        tolerant: false,
        minsz: 0,
        magics: MAGICS,
        probe,
    }
}

pub(crate) const JBD: Idinfo = ext("jbd", Usage::Other, probe_jbd);
pub(crate) const EXT2: Idinfo = ext("ext2", Usage::Filesystem, probe_ext2);
pub(crate) const EXT3: Idinfo = ext("ext3", Usage::Filesystem, probe_ext3);
pub(crate) const EXT4: Idinfo = ext("ext4", Usage::Filesystem, probe_ext4);
pub(crate) const EXT4DEV: Idinfo = ext("ext4dev", Usage::Filesystem, probe_ext4dev);
