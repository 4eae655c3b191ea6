//! LUKS1 and LUKS2 (`crypto_LUKS`), as libblkid finds them: the primary header at 0 with
//! `LUKS\xba\xbe`, else a LUKS2 secondary header (`SKUL\xba\xbe`) at one of its known
//! offsets. VERSION is the header version; UUID is stored as text; LUKS2 adds LABEL and
//! SUBSYSTEM (udev exports the label, not the subsystem).

use super::area::{be16, bytes, Area};
use super::superblocks::{Idinfo, Magic, Usage, Values};

const HDR_SIZE: u64 = 512;
const SECONDARY: [u64; 9] = [
    0x04000, 0x008000, 0x010000, 0x020000, 0x40000, 0x080000, 0x100000, 0x200000, 0x400000,
];

fn attributes(h: &[u8], v: &mut Values) -> bool {
    let version = be16(h, 6);
    v.set_version(&version.to_string());
    match version {
        1 => v.set_uuid_string(bytes(h, 168, 40)),
        2 => {
            v.set_uuid_string(bytes(h, 168, 40));
            v.set_label(bytes(h, 24, 48));
            v.set_id_label("SUBSYSTEM", bytes(h, 208, 48));
        }
        _ => {}
    }
    true
}

fn probe(area: &Area<'_>, _: Option<&Magic>, v: &mut Values) -> bool {
    let Some(h) = area.get(0, HDR_SIZE) else {
        return false;
    };
    if h.starts_with(b"LUKS\xba\xbe") {
        return attributes(&h, v);
    }
    for off in SECONDARY {
        // libblkid stops at the first offset past the end of the device.
        let Some(h) = area.get(off, HDR_SIZE) else {
            return false;
        };
        if h.starts_with(b"SKUL\xba\xbe") {
            return attributes(&h, v);
        }
    }
    false
}

pub(crate) const LUKS: Idinfo = Idinfo {
    name: "crypto_LUKS",
    usage: Usage::Crypto,
    tolerant: false,
    minsz: 0,
    magics: &[],
    probe,
};
