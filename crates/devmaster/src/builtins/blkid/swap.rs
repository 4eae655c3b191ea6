//! Linux swap areas and hibernation images in swap, as libblkid finds them.
//!
//! The magic sits in the last 10 bytes of the first page, for page sizes 4 KiB to 64 KiB.
//! `SWAPSPACE2` is version 1 with its header at 1 KiB (version, last page, UUID, label),
//! checked for a version of 1 in either byte order and a last page; `SWAP-SPACE` is the old
//! version 0 without label or UUID. Hibernation signatures (`S1SUSPEND`, ...) are the
//! `swsuspend` type. The label and UUID are only trusted when two padding words are zero.

use super::area::{bytes, le32, uuid_bytes, Area};
use super::superblocks::{Idinfo, Magic, Usage, Values};

const TOI_MAGIC: &[u8] = b"\xed\xc3\x02\xe9\x98\x56\xe5\x0c";

/// The version 1 header: label, UUID and VERSION (`swap_set_info`).
fn set_info(area: &Area<'_>, version: &str, v: &mut Values) -> bool {
    let Some(h) = area.get(1024, 516) else {
        return false;
    };
    if version == "1" {
        let ver = le32(&h, 0);
        if ver != 1 && ver.swap_bytes() != 1 {
            return false;
        }
        if le32(&h, 4) == 0 {
            return false;
        }
    }
    // An arbitrary sanity check of libblkid: garbage in the padding means no label or UUID.
    if le32(&h, 44 + 32 * 4) == 0 && le32(&h, 44 + 33 * 4) == 0 {
        let label = bytes(&h, 28, 16);
        if label.first().is_some_and(|&c| c != 0) {
            v.set_label(label);
        }
        v.set_uuid(&uuid_bytes(&h, 12));
    }
    v.set_version(version);
    true
}

fn probe_swap(area: &Area<'_>, mag: Option<&Magic>, v: &mut Values) -> bool {
    let Some(mag) = mag else {
        return false;
    };
    match area.get(0, TOI_MAGIC.len() as u64) {
        Some(b) if b == TOI_MAGIC => return false, // TuxOnIce keeps a swap header too
        Some(_) => {}
        None => return false,
    }
    match mag.magic {
        b"SWAP-SPACE" => {
            v.set_version("0");
            true
        }
        b"SWAPSPACE2" => set_info(area, "1", v),
        _ => false,
    }
}

fn probe_swsuspend(area: &Area<'_>, mag: Option<&Magic>, v: &mut Values) -> bool {
    let version = match mag.map(|m| m.magic) {
        Some(b"S1SUSPEND") => "s1suspend",
        Some(b"S2SUSPEND") => "s2suspend",
        Some(b"ULSUSPEND") => "ulsuspend",
        Some(TOI_MAGIC) => "tuxonice",
        Some(b"LINHIB0001") => "linhib0001",
        _ => return false,
    };
    set_info(area, version, v)
}

macro_rules! at_page_ends {
    ($(@first $first:expr;)? $($m:expr),*) => {
        &[
            $($first,)?
            $(Magic::at($m, 0, 0xff6),)*
            $(Magic::at($m, 0, 0x1ff6),)*
            $(Magic::at($m, 0, 0x3ff6),)*
            $(Magic::at($m, 0, 0x7ff6),)*
            $(Magic::at($m, 0, 0xfff6),)*
        ]
    };
}

pub(crate) const SWAP: Idinfo = Idinfo {
    name: "swap",
    usage: Usage::Other,
    tolerant: false,
    minsz: 10 * 4096,
    magics: at_page_ends!(b"SWAP-SPACE", b"SWAPSPACE2"),
    probe: probe_swap,
};

pub(crate) const SWSUSPEND: Idinfo = Idinfo {
    name: "swsuspend",
    usage: Usage::Other,
    tolerant: false,
    minsz: 10 * 4096,
    // TuxOnIce's magic is at the very start, first in libblkid's list.
    magics: at_page_ends!(@first Magic::at(TOI_MAGIC, 0, 0); b"S1SUSPEND", b"S2SUSPEND", b"ULSUSPEND", b"LINHIB0001"),
    probe: probe_swsuspend,
};
