//! XFS and XFS external logs, as libblkid finds them.
//!
//! The XFS superblock (big-endian, magic `XFSB` at 0) is accepted only when its geometry is
//! self-consistent (sector, block and inode sizes with their logs, realtime extent size,
//! allocation groups against the data block count); the v5 CRC is not checked, as in
//! libblkid. An external log has no magic of its own: a valid log record header in one of
//! the first 512 sectors, on a device of at least 10 MiB.

use super::area::{be16, be32, be64, bytes, u8_at, uuid_bytes, Area};
use super::superblocks::{Idinfo, Magic, Usage, Values};

/// libblkid's `xfs_verify_sb`, in its C integer arithmetic.
fn verify(sb: &[u8]) -> bool {
    let blocksize = be32(sb, 4);
    let dblocks = be64(sb, 8);
    let rextsize = be32(sb, 80);
    let agblocks = be32(sb, 84);
    let agcount = be32(sb, 88);
    let sectsize = u32::from(be16(sb, 102));
    let inodesize = u32::from(be16(sb, 104));
    let blocklog = u32::from(u8_at(sb, 120));
    let sectlog = u32::from(u8_at(sb, 121));
    let inodelog = u32::from(u8_at(sb, 122));
    let inopblog = i64::from(u8_at(sb, 123));
    let imax_pct = u8_at(sb, 127);
    let rext_bytes = rextsize.wrapping_mul(blocksize);
    let max_dblocks = u64::from(agcount) * u64::from(agblocks);
    let min_dblocks = u64::from(agcount.wrapping_sub(1)) * u64::from(agblocks) + 64;
    !(agcount == 0
        || !(512..=32768).contains(&sectsize)
        || !(9..=15).contains(&sectlog)
        || sectsize != 1 << sectlog
        || !(512..=65536).contains(&blocksize)
        || !(9..=16).contains(&blocklog)
        || blocksize != 1 << blocklog
        || !(256..=2048).contains(&inodesize)
        || !(8..=11).contains(&inodelog)
        || inodesize != 1 << inodelog
        || i64::from(blocklog) - i64::from(inodelog) != inopblog
        || !(4 * 1024..=1024 * 1024 * 1024).contains(&rext_bytes)
        || imax_pct > 100
        || dblocks == 0
        || dblocks > max_dblocks
        || dblocks < min_dblocks)
}

fn probe_xfs(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    let Some(sb) = area.get(0, 160) else {
        return false;
    };
    if !verify(&sb) {
        return false;
    }
    let fname = bytes(&sb, 108, 12);
    if fname.first().is_some_and(|&c| c != 0) {
        v.set_label(fname);
    }
    v.set_uuid(&uuid_bytes(&sb, 32));
    v.set_block_size(u64::from(be16(&sb, 102)));
    true
}

/// A valid XFS log record header (`xlog_valid_rec_header`).
fn valid_log_record(h: &[u8]) -> bool {
    let version = be32(h, 8);
    let len = be32(h, 12);
    let fmt = be32(h, 4 * 4 + 71 * 4);
    be32(h, 0) == 0xfeed_babe
        && version != 0
        && version & !3 == 0
        && len != 0
        && len <= i32::MAX as u32
        && (1..=3).contains(&fmt)
}

fn probe_xfs_log(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    let Some(buf) = area.get(0, 256 * 1024) else {
        return false;
    };
    for i in 0..512 {
        let sector = bytes(&buf, i * 512, 512);
        if sector.starts_with(b"XFSB") {
            return false;
        }
        if valid_log_record(sector) {
            v.set_uuid_as("LOGUUID", &uuid_bytes(sector, 4 * 4 + 72 * 4));
            return true;
        }
    }
    false
}

pub(crate) const XFS: Idinfo = Idinfo {
    name: "xfs",
    usage: Usage::Filesystem,
    tolerant: false,
    minsz: 0,
    magics: &[Magic::at(b"XFSB", 0, 0)],
    probe: probe_xfs,
};

pub(crate) const XFS_LOG: Idinfo = Idinfo {
    name: "xfs_external_log",
    usage: Usage::Other,
    tolerant: false,
    minsz: 10 * 1024 * 1024,
    magics: &[],
    probe: probe_xfs_log,
};
