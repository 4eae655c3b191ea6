//! libblkid's partitions chain: which partition table a device carries (PTTYPE, PTUUID) and,
//! for a partition, its entry in the parent disk's table (PART_ENTRY_*).
//!
//! Only DOS (MBR with extended/logical partitions), GPT and a lone protective MBR ("PMBR")
//! are read; libblkid also knows AIX, SGI, Sun, Mac, BSD, Solaris, UnixWare, Minix, Atari and
//! Ultrix labels and nested BSD-style tables inside DOS partitions.

use super::area::Area;
use super::superblocks::Values;
use super::{dos, gpt};

/// One partition of a table, in libblkid's terms (sizes in 512-byte sectors).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Partition {
    pub start: u64,
    pub size: u64,
    pub partno: u32,
    /// DOS type byte.
    pub kind: u8,
    /// GPT type UUID.
    pub type_uuid: Option<String>,
    pub uuid: Option<String>,
    /// GPT name, UTF-8.
    pub name: Vec<u8>,
    pub flags: u64,
}

/// A parsed partition table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Table {
    /// "dos" or "gpt".
    pub scheme: &'static str,
    pub parts: Vec<Partition>,
}

impl Table {
    /// A DOS extended partition (libblkid: primary number with an extended type).
    fn is_extended(&self, p: &Partition) -> bool {
        self.scheme == "dos" && p.partno <= 4 && dos::is_extended_type(p.kind)
    }

    /// The entry for a partition device at `start` with `size` sectors (from sysfs), as
    /// `blkid_partlist_devno_to_partition` matches it; the kernel gives an extended
    /// partition a size of one or two sectors.
    pub fn find(&self, start: u64, size: u64) -> Option<&Partition> {
        self.parts
            .iter()
            .find(|p| p.start == start && (p.size == size || (self.is_extended(p) && size <= 1024)))
    }

    /// PART_ENTRY_* values of `p`, on the disk `devnum`.
    pub fn entry_values(&self, p: &Partition, devnum: (u32, u32)) -> Values {
        let mut v = Values::default();
        v.set("PART_ENTRY_SCHEME", self.scheme);
        if !p.name.is_empty() {
            v.set("PART_ENTRY_NAME", p.name.clone());
        }
        if let Some(u) = &p.uuid {
            v.set("PART_ENTRY_UUID", u.as_str());
        }
        match &p.type_uuid {
            Some(t) => v.set("PART_ENTRY_TYPE", t.as_str()),
            None => v.set("PART_ENTRY_TYPE", format!("0x{:x}", p.kind)),
        }
        if p.flags != 0 {
            v.set("PART_ENTRY_FLAGS", format!("0x{:x}", p.flags));
        }
        v.set("PART_ENTRY_NUMBER", p.partno.to_string());
        v.set("PART_ENTRY_OFFSET", p.start.to_string());
        v.set("PART_ENTRY_SIZE", p.size.to_string());
        v.set("PART_ENTRY_DISK", format!("{}:{}", devnum.0, devnum.1));
        v
    }
}

/// What a partition table prober found.
pub(crate) struct Found {
    pub pttype: &'static str,
    pub ptuuid: Option<String>,
    /// The partitions (only read when asked for).
    pub table: Option<Table>,
    /// The table lies where the superblock's tool wiped the device (`use_wiper`): it was
    /// written later, and the superblock is stale.
    pub wiped: bool,
}

/// What the superblocks chain left for the partitions chain to consider.
#[derive(Default, Clone, Copy)]
pub(crate) struct Context {
    /// The superblock is an LVM2 PV (an empty MBR on it is ignored).
    pub lvm: bool,
    /// An area the superblock's tool wiped when it was created (LVM: the first 8 KiB).
    pub wiper: Option<(u64, u64)>,
}

/// Runs the partition table probers in libblkid's order; `full` also reads the partitions.
pub(crate) fn probe(area: &Area<'_>, cx: Context, full: bool) -> Option<Found> {
    if let Some(f) = dos::probe(area, cx, full) {
        return Some(f);
    }
    if let Some(f) = gpt::probe(area, cx, full) {
        return Some(f);
    }
    gpt::probe_pmbr(area)
}

/// Whether a prober's use of `off .. off + size` falls inside the wiped area.
pub(crate) fn in_wiped(wiper: Option<(u64, u64)>, off: u64, size: u64) -> bool {
    wiper.is_some_and(|(w_off, w_size)| {
        size != 0 && w_off <= off && off.saturating_add(size) <= w_off.saturating_add(w_size)
    })
}

/// A GUID as stored on disk (first three fields little-endian) in text form.
pub(crate) fn format_guid(g: &[u8; 16]) -> String {
    let mut u = *g;
    u[0..4].reverse();
    u[4..6].reverse();
    u[6..8].reverse();
    super::superblocks::format_uuid(&u)
}

/// libblkid's CRC-32 (IEEE, reflected) as GPT uses it; bitwise, since GPT headers and
/// entry arrays are a few KiB.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |mut crc, &b| {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                0xedb8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
        crc
    })
}
