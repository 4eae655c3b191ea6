//! GUID partition tables and lone protective MBRs, as libblkid reads them.
//!
//! A GPT needs a protective MBR (an 0xEE entry). The primary header at LBA 1 is used when
//! its signature, header CRC, own LBA, usable range and entry array CRC are right; otherwise
//! the backup header at the last LBA. PTUUID is the disk GUID. Entries with a zero type, or
//! outside the usable range, are skipped but keep their numbers. A protective MBR without
//! any valid header is the type "PMBR".

use super::area::{bytes, le32, le64, u8_at, uuid_bytes, Area};
use super::encode::{rtrim, utf16_to_utf8, Utf16};
use super::partitions::{crc32, format_guid, in_wiped, Context, Found, Partition, Table};

const HEADER_SIZE: u32 = 92;
const ENTRY_SIZE: u32 = 128;

/// Whether sector 0 is a (protective or hybrid) MBR with a GPT entry.
fn has_pmbr(area: &Area<'_>) -> bool {
    area.sector(0).is_some_and(|s| {
        bytes(&s, 510, 2) == b"\x55\xaa" && (0..4).any(|i| u8_at(&s, 0x1be + 16 * i + 4) == 0xee)
    })
}

fn last_lba(area: &Area<'_>) -> Option<u64> {
    (area.size >= area.sector_size).then(|| area.size / area.sector_size - 1)
}

/// A checked header at `lba` and its entry array.
fn header(area: &Area<'_>, lba: u64, last: u64) -> Option<(Vec<u8>, Vec<u8>)> {
    let ssz = area.sector_size;
    let h = area.get(lba.checked_mul(ssz)?, ssz)?;
    if !h.starts_with(b"EFI PART") {
        return None;
    }
    let hsz = le32(&h, 12);
    if u64::from(hsz) > ssz || hsz < HEADER_SIZE {
        return None;
    }
    let mut copy = bytes(&h, 0, hsz as usize).to_vec();
    if let Some(crc) = copy.get_mut(16..20) {
        crc.fill(0);
    }
    if crc32(&copy) != le32(&h, 16) || le64(&h, 24) != lba {
        return None;
    }
    let (first, lastu) = (le64(&h, 40), le64(&h, 48));
    if lastu < first || first > last || lastu > last || (first < lba && lba < lastu) {
        return None;
    }
    let esz = u64::from(le32(&h, 80)) * u64::from(le32(&h, 84));
    if esz == 0 || esz >= u64::from(u32::MAX) || le32(&h, 84) != ENTRY_SIZE {
        return None;
    }
    let entries = area.get(le64(&h, 72).wrapping_mul(ssz), esz)?;
    (crc32(&entries) == le32(&h, 88)).then_some((h, entries))
}

pub(crate) fn probe(area: &Area<'_>, cx: Context, full: bool) -> Option<Found> {
    let last = last_lba(area)?;
    if !has_pmbr(area) {
        return None;
    }
    let (lba, (h, entries)) = match header(area, 1, last) {
        Some(found) => (1, found),
        None if !area.io_error() => (last, header(area, last, last)?),
        None => return None,
    };
    // libblkid passes the device size where the sector size belongs, so this only ever
    // matters on devices smaller than LVM's wiped area.
    let wiped = in_wiped(cx.wiper, lba.wrapping_mul(area.size), 8);
    let guid = uuid_bytes(&h, 56);
    let ptuuid = guid.iter().any(|&b| b != 0).then(|| format_guid(&guid));
    let table = full.then(|| read_table(area, &h, &entries));
    Some(Found {
        pttype: "gpt",
        ptuuid,
        table,
        wiped,
    })
}

fn read_table(area: &Area<'_>, h: &[u8], entries: &[u8]) -> Table {
    let ssf = area.sector_size / 512;
    let (first, last) = (le64(h, 40), le64(h, 48));
    let mut t = Table {
        scheme: "gpt",
        parts: Vec::new(),
    };
    for (partno, e) in (1..).zip(
        entries
            .chunks(ENTRY_SIZE as usize)
            .take(le32(h, 80) as usize),
    ) {
        let kind = uuid_bytes(e, 0);
        let start = le64(e, 32);
        let size = le64(e, 40).wrapping_sub(start).wrapping_add(1);
        if kind == [0; 16] || start < first || start.wrapping_add(size).wrapping_sub(1) > last {
            continue;
        }
        let name = utf16_to_utf8(bytes(e, 56, 72), Utf16::Le, 128);
        t.parts.push(Partition {
            start: start.wrapping_mul(ssf),
            size: size.wrapping_mul(ssf),
            partno,
            type_uuid: Some(format_guid(&kind)),
            uuid: Some(format_guid(&uuid_bytes(e, 16))),
            name: rtrim(&name).to_vec(),
            flags: le64(e, 48),
            ..Partition::default()
        });
    }
    t
}

/// A protective MBR without a usable GPT header: PTTYPE "PMBR", no partitions.
pub(crate) fn probe_pmbr(area: &Area<'_>) -> Option<Found> {
    let last = last_lba(area)?;
    area.get(0, 1024)?;
    if !has_pmbr(area) || header(area, 1, last).is_some() || header(area, last, last).is_some() {
        return None;
    }
    Some(Found {
        pttype: "PMBR",
        ptuuid: None,
        table: None,
        wiped: false,
    })
}
