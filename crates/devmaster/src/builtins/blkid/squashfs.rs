//! SquashFS, as libblkid finds it: `hsqs` (little-endian) with major version 4 and later is
//! `squashfs`; versions up to 3, in either byte order (`sqsh` is big-endian), are
//! `squashfs3`. Only VERSION; squashfs has no label or UUID.

use super::area::{be16, le16, Area};
use super::superblocks::{Idinfo, Magic, Usage, Values};

fn version(area: &Area<'_>, big: bool) -> Option<(u16, u16)> {
    let sb = area.get(0, 32)?;
    Some(if big {
        (be16(&sb, 28), be16(&sb, 30))
    } else {
        (le16(&sb, 28), le16(&sb, 30))
    })
}

fn probe4(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    match version(area, false) {
        Some((major, minor)) if major >= 4 => {
            v.set_version(&format!("{major}.{minor}"));
            true
        }
        _ => false,
    }
}

fn probe3(area: &Area<'_>, mag: Option<&Magic>, v: &mut Values) -> bool {
    let big = mag.is_some_and(|m| m.magic == b"sqsh");
    match version(area, big) {
        Some((major, minor)) if major <= 3 => {
            v.set_version(&format!("{major}.{minor}"));
            v.set_block_size(1024);
            true
        }
        _ => false,
    }
}

pub(crate) const SQUASHFS: Idinfo = Idinfo {
    name: "squashfs",
    usage: Usage::Filesystem,
    tolerant: false,
    minsz: 0,
    magics: &[Magic::at(b"hsqs", 0, 0)],
    probe: probe4,
};

pub(crate) const SQUASHFS3: Idinfo = Idinfo {
    name: "squashfs3",
    usage: Usage::Filesystem,
    tolerant: false,
    minsz: 0,
    magics: &[Magic::at(b"sqsh", 0, 0), Magic::at(b"hsqs", 0, 0)],
    probe: probe3,
};
