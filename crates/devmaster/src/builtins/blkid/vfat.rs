//! FAT12/16/32 (`vfat`), as libblkid finds it, and the checks the DOS partition table
//! prober uses to tell a FAT boot sector from an MBR.
//!
//! The boot sector must describe a sane geometry (FAT count, reserved sectors, media byte,
//! power-of-two cluster and sector sizes, a cluster count within its FAT type's range) and
//! must not be BitLocker's. LABEL is the volume-label entry of the root directory (followed
//! through the FAT cluster chain for FAT32); the boot sector's label is only LABEL_FATBOOT,
//! which udev does not export. UUID is the volume serial as `XXXX-XXXX`; VERSION is FAT12,
//! FAT16 (by cluster count) or FAT32.

use super::area::{bytes, le16, le32, le64, u8_at, Area};
use super::superblocks::{find_magic, Idinfo, Magic, Usage, Values};

const FAT12_MAX: u32 = 0xff4;
const FAT16_MAX: u32 = 0xfff4;
const FAT32_MAX: u32 = 0x0fff_fff6;

const MAGICS: &[Magic] = &[
    Magic::at(b"MSWIN", 0, 0x52),
    Magic::at(b"FAT32   ", 0, 0x52),
    Magic::at(b"MSDOS", 0, 0x36),
    Magic::at(b"FAT16   ", 0, 0x36),
    Magic::at(b"FAT12   ", 0, 0x36),
    Magic::at(b"FAT     ", 0, 0x36),
    Magic::at(b"\xeb", 0, 0),
    Magic::at(b"\xe9", 0, 0),
    Magic::at(b"\x55\xaa", 0, 0x1fe),
];

/// The geometry of a boot sector that passed the checks.
struct Geometry {
    cluster_count: u32,
    fat_size: u32,
}

/// A BitLocker volume, which also starts like a FAT boot sector.
fn is_bitlocker(area: &Area<'_>) -> bool {
    let Some(h) = area.get(0, 512) else {
        return false;
    };
    let off = match bytes(&h, 0, 11) {
        b"\xeb\x52\x90-FVE-FS-" => return true,
        b"\xeb\x58\x90-FVE-FS-" => le64(&h, 176),
        b"\xeb\x58\x90MSWIN4.1" => le64(&h, 440),
        _ => return false,
    };
    off != 0
        && area
            .get(off, 12)
            .is_some_and(|m| m.starts_with(b"-FVE-FS-"))
}

/// libblkid's `fat_valid_superblock`, in its C integer arithmetic.
fn valid(area: &Area<'_>, mag: &Magic, bs: &[u8]) -> Option<Geometry> {
    if mag.magic.len() <= 2 {
        // Without a magic string: an old floppy needs the MBR signature, and OS/2 puts a
        // FAT-like pseudo boot sector on JFS and HPFS.
        if bytes(bs, 0x1fe, 2) != b"\x55\xaa" {
            return None;
        }
        let m = bytes(bs, 0x36, 8);
        if m == b"JFS     " || m == b"HPFS    " {
            return None;
        }
    }
    let fats = u8_at(bs, 0x10);
    let reserved = le16(bs, 0x0e);
    let media = u8_at(bs, 0x15);
    let cluster_size = u8_at(bs, 0x0d);
    let sector_size = le16(bs, 0x0b);
    if fats == 0
        || reserved == 0
        || !(media >= 0xf8 || media == 0xf0)
        || !cluster_size.is_power_of_two()
        || !sector_size.is_power_of_two()
        || !(512..=4096).contains(&sector_size)
    {
        return None;
    }
    let dir_entries = u32::from(le16(bs, 0x11));
    let mut sect_count = u32::from(le16(bs, 0x13));
    if sect_count == 0 {
        sect_count = le32(bs, 0x20);
    }
    let fat16_length = le16(bs, 0x16);
    let fat32_length = le32(bs, 0x24);
    let fat_length = if fat16_length == 0 {
        fat32_length
    } else {
        u32::from(fat16_length)
    };
    let fat_size = fat_length.wrapping_mul(u32::from(fats));
    let dir_size = (dir_entries * 32).div_ceil(u32::from(sector_size));
    let cluster_count = sect_count.wrapping_sub(
        u32::from(reserved)
            .wrapping_add(fat_size)
            .wrapping_add(dir_size),
    ) / u32::from(cluster_size);
    let max = if fat16_length == 0 && fat32_length != 0 {
        FAT32_MAX
    } else if cluster_count > FAT12_MAX {
        FAT16_MAX
    } else {
        FAT12_MAX
    };
    if cluster_count > max || is_bitlocker(area) {
        return None;
    }
    Some(Geometry {
        cluster_count,
        fat_size,
    })
}

/// Whether the area starts with a FAT boot sector (for the DOS partition table prober).
pub(crate) fn is_vfat(area: &Area<'_>) -> bool {
    let Some(Some(mag)) = find_magic(area, MAGICS) else {
        return false;
    };
    area.get(0, 512)
        .is_some_and(|bs| valid(area, mag, &bs).is_some())
}

/// The volume label entry among `entries` directory entries at `off`.
fn search_label(area: &Area<'_>, off: u64, entries: u32) -> Option<[u8; 11]> {
    // On a large device the whole directory is read at once, on a floppy entry by entry.
    let dir = if area.tiny {
        None
    } else {
        Some(area.get(off, u64::from(entries) * 32)?)
    };
    for i in 0..u64::from(entries) {
        let ent = match &dir {
            Some(d) => bytes(d, (i * 32) as usize, 32).to_vec(),
            None => area.get(off + i * 32, 32)?,
        };
        let first = u8_at(&ent, 0);
        if first == 0 {
            break;
        }
        let attr = u8_at(&ent, 11);
        if first == 0xe5 || le16(&ent, 20) != 0 || le16(&ent, 26) != 0 || attr & 0x3f == 0x0f {
            continue;
        }
        if attr & 0x18 == 0x08 {
            let mut name: [u8; 11] = bytes(&ent, 0, 11).try_into().unwrap_or([0; 11]);
            if first == 0x05 {
                name[0] = 0xe5;
            }
            return Some(name);
        }
    }
    None
}

fn probe(area: &Area<'_>, mag: Option<&Magic>, v: &mut Values) -> bool {
    let Some(mag) = mag else {
        return false;
    };
    let Some(bs) = area.get(0, 512) else {
        return false;
    };
    let Some(geo) = valid(area, mag, &bs) else {
        return false;
    };
    let sector_size = u32::from(le16(&bs, 0x0b));
    let reserved = u32::from(le16(&bs, 0x0e));
    let cluster_size = u32::from(u8_at(&bs, 0x0d));
    let fat32_length = le32(&bs, 0x24);
    let (mut vol_label, mut boot_label, mut serial, mut version) = (None, None, None, None);
    if le16(&bs, 0x16) != 0 {
        let root_start = reserved
            .wrapping_add(geo.fat_size)
            .wrapping_mul(sector_size);
        vol_label = search_label(area, u64::from(root_start), u32::from(le16(&bs, 0x11)));
        let sign = u8_at(&bs, 0x26);
        if sign == 0x29 {
            boot_label = Some(bytes(&bs, 0x2b, 11));
        }
        if sign == 0x28 || sign == 0x29 {
            serial = Some(bytes(&bs, 0x27, 4));
        }
        v.set("SEC_TYPE", "msdos");
        if geo.cluster_count < FAT12_MAX {
            version = Some("FAT12");
        } else if geo.cluster_count < FAT16_MAX {
            version = Some("FAT16");
        }
    } else if fat32_length != 0 {
        let buf_size = cluster_size * sector_size;
        let start_data_sect = reserved.wrapping_add(geo.fat_size);
        let entries = ((u64::from(fat32_length) * u64::from(sector_size)) / 4) as u32;
        let mut next = le32(&bs, 0x2c);
        let mut maxloop = 100;
        while next != 0 && next < entries {
            maxloop -= 1;
            if maxloop == 0 {
                break;
            }
            let sect_off = next.wrapping_sub(2).wrapping_mul(cluster_size);
            let off = u64::from(start_data_sect.wrapping_add(sect_off)) * u64::from(sector_size);
            vol_label = search_label(area, off, buf_size / 32);
            if vol_label.is_some() {
                break;
            }
            let fat_entry = u64::from(reserved) * u64::from(sector_size) + u64::from(next) * 4;
            let Some(b) = area.get(fat_entry, u64::from(buf_size)) else {
                break;
            };
            next = le32(&b, 0) & 0x0fff_ffff;
        }
        version = Some("FAT32");
        if u8_at(&bs, 0x42) == 0x29 {
            boot_label = Some(bytes(&bs, 0x47, 11));
        }
        serial = Some(bytes(&bs, 0x43, 4));
        // The FSInfo sector must carry its signatures, or be all zeros there.
        let fsinfo = le16(&bs, 0x30);
        if fsinfo != 0 {
            let Some(fi) = area.get(u64::from(fsinfo) * u64::from(sector_size), 512) else {
                return false;
            };
            let (s1, s2) = (bytes(&fi, 0, 4), bytes(&fi, 484, 4));
            if !matches!(s1, b"RRaA" | b"RRdA" | b"\0\0\0\0")
                || !matches!(s2, b"rrAa" | b"\0\0\0\0")
            {
                return false;
            }
        }
    }
    if let Some(l) = boot_label.filter(|l| *l != b"NO NAME    ") {
        v.set_id_label("LABEL_FATBOOT", l);
    }
    if let Some(l) = vol_label {
        v.set_label(&l);
    }
    if let Some(s) = serial {
        let b = |i: usize| u8_at(s, i);
        v.set_uuid_text(
            s,
            format!("{:02X}{:02X}-{:02X}{:02X}", b(3), b(2), b(1), b(0)),
        );
    }
    if let Some(version) = version {
        v.set_version(version);
    }
    v.set_block_size(u64::from(sector_size));
    true
}

pub(crate) const VFAT: Idinfo = Idinfo {
    name: "vfat",
    usage: Usage::Filesystem,
    tolerant: false,
    minsz: 0,
    magics: MAGICS,
    probe,
};
