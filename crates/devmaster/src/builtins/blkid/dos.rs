//! DOS (MBR) partition tables, as libblkid reads them.
//!
//! The 0x55AA signature alone is not enough: boot flags must be 0 or 0x80, a GPT protective
//! entry (0xEE) leaves the disk to GPT, a FAT or NTFS boot sector is a file system and not a
//! table, and an empty MBR on an LVM PV is ignored. The disk signature is PTUUID
//! (`%08x`); each partition's UUID is `<signature>-<number as %02x>`. Primary partitions are
//! 1-4 (empty slots keep their numbers); logical partitions, followed through the chain of
//! extended boot records, are numbered from 5.

use super::area::{bytes, le32, u8_at, Area};
use super::partitions::{in_wiped, Context, Found, Partition, Table};
use super::{ntfs, vfat};

const PT_OFFSET: usize = 0x1be;

/// DOS, Windows and Linux extended partition types.
pub(crate) fn is_extended_type(t: u8) -> bool {
    matches!(t, 0x05 | 0x0f | 0x85)
}

/// A partition table entry (start and size in the table's sectors).
#[derive(Clone, Copy)]
struct Entry {
    boot: u8,
    kind: u8,
    start: u32,
    size: u32,
}

/// Entry `i` of the table in `sector`.
fn entry(sector: &[u8], i: usize) -> Entry {
    let e = bytes(sector, PT_OFFSET + 16 * i, 16);
    Entry {
        boot: u8_at(e, 0),
        kind: u8_at(e, 4),
        start: le32(e, 8),
        size: le32(e, 12),
    }
}

fn has_signature(sector: &[u8]) -> bool {
    bytes(sector, 510, 2) == b"\x55\xaa"
}

pub(crate) fn probe(area: &Area<'_>, cx: Context, full: bool) -> Option<Found> {
    let mbr = area.sector(0)?;
    // libblkid's magic check reads the first KiB.
    area.get(0, 1024)?;
    if !has_signature(&mbr) || mbr.starts_with(b"\xc9\xc2\xd4\xc1") {
        return None; // no signature, or an AIX disk
    }
    let entries: Vec<Entry> = (0..4).map(|i| entry(&mbr, i)).collect();
    if entries
        .iter()
        .any(|e| (e.boot != 0 && e.boot != 0x80) || e.kind == 0xee)
    {
        return None;
    }
    if vfat::is_vfat(area) || ntfs::is_ntfs(area) {
        return None;
    }
    if cx.lvm && entries.iter().all(|e| e.size == 0) {
        return None;
    }
    let wiped = in_wiped(cx.wiper, PT_OFFSET as u64, 512 - PT_OFFSET as u64);
    let id = le32(&mbr, 440);
    let id = (id != 0).then(|| format!("{id:08x}"));
    let table = full.then(|| read_table(area, &entries, id.as_deref()));
    Some(Found {
        pttype: "dos",
        ptuuid: id,
        table,
        wiped,
    })
}

/// Adds partition `partno` at `start` with `size` 512-byte sectors.
fn push(t: &mut Table, id: Option<&str>, partno: u32, e: Entry, start: u32, size: u32) {
    t.parts.push(Partition {
        start: u64::from(start),
        size: u64::from(size),
        partno,
        kind: e.kind,
        uuid: id.map(|id| format!("{id:.33}-{partno:02x}")),
        flags: u64::from(e.boot),
        ..Partition::default()
    });
}

/// The partitions: primaries, then the logical partitions of every extended partition.
fn read_table(area: &Area<'_>, entries: &[Entry], id: Option<&str>) -> Table {
    let ssf = (area.sector_size / 512) as u32;
    let mut t = Table {
        scheme: "dos",
        parts: Vec::new(),
    };
    for (n, &e) in (1..).zip(entries) {
        if e.size != 0 {
            push(
                &mut t,
                id,
                n,
                e,
                e.start.wrapping_mul(ssf),
                e.size.wrapping_mul(ssf),
            );
        }
    }
    let mut next = 5;
    for e in entries {
        if e.size != 0 && is_extended_type(e.kind) {
            let (start, size) = (e.start.wrapping_mul(ssf), e.size.wrapping_mul(ssf));
            logical(area, &mut t, id, &mut next, (start, size), ssf);
        }
    }
    t
}

/// Follows the chain of extended boot records of the extended partition `ex` (start, size).
fn logical(
    area: &Area<'_>,
    t: &mut Table,
    id: Option<&str>,
    next: &mut u32,
    ex: (u32, u32),
    ssf: u32,
) {
    let (ex_start, ex_size) = ex;
    if ex_start == 0 {
        return;
    }
    let (mut cur_start, mut cur_size) = (ex_start, ex_size);
    // Counts records without a data partition, to stop loops of links.
    let mut no_data = 0;
    loop {
        no_data += 1;
        if no_data > 100 {
            return;
        }
        let Some(ebr) = area.sector(u64::from(cur_start)) else {
            return;
        };
        if !has_signature(&ebr) {
            return;
        }
        let entries: Vec<Entry> = (0..4).map(|i| entry(&ebr, i)).collect();
        for (i, &e) in entries.iter().enumerate() {
            let (start, size) = (e.start.wrapping_mul(ssf), e.size.wrapping_mul(ssf));
            let abs = cur_start.wrapping_add(start);
            if size == 0 || is_extended_type(e.kind) {
                continue;
            }
            // The third and fourth entries only count when they lie inside the extended
            // partition.
            if i >= 2
                && (start.wrapping_add(size) > cur_size
                    || abs < ex_start
                    || abs.wrapping_add(size) > ex_start.wrapping_add(ex_size))
            {
                continue;
            }
            if t.parts.iter().any(|p| p.start == u64::from(abs)) {
                continue;
            }
            push(t, id, *next, e, abs, size);
            *next += 1;
            no_data = 0;
        }
        // The first extended entry with a non-zero start links to the next record.
        let link = entries.iter().find_map(|e| {
            let (start, size) = (e.start.wrapping_mul(ssf), e.size.wrapping_mul(ssf));
            (size != 0 && is_extended_type(e.kind) && start != 0).then_some((start, size))
        });
        let Some((start, size)) = link else {
            return;
        };
        cur_start = ex_start.wrapping_add(start);
        cur_size = size;
    }
}
