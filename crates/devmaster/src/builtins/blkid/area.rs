//! The probed byte range of a device and bounds-checked field readers.
//!
//! [`Area`] is libblkid's view of "the probing area": an offset and a size inside the device,
//! read through the caller's `read_at`. A request that does not fit inside the area gives
//! `None`, as libblkid's buffer reader does; so a prober never reads past the end. A failed read
//! inside the area is remembered as an I/O error (libblkid's `errno`), which fails the probe.
//! Buffers are cached, since most probers look at the same first kilobytes.

use std::cell::{Cell, RefCell};

/// The largest single read a prober may ask for. libblkid has no such limit, but a corrupt
/// header (GPT entry counts, FAT root directory sizes) must not make us allocate gigabytes.
const MAX_READ: u64 = 64 << 20;

/// The caller's reader: `len` bytes at an absolute device offset, `None` on an I/O error,
/// fewer bytes at the end of the device.
pub(crate) type ReadAt<'a> = &'a dyn Fn(u64, usize) -> Option<Vec<u8>>;

/// A probing area of a device.
pub(crate) struct Area<'a> {
    read: ReadAt<'a>,
    /// Start of the area on the device, in bytes.
    off: u64,
    /// Size of the area in bytes.
    pub size: u64,
    /// Logical sector size of the device (BLKSSZGET), at least 512.
    pub sector_size: u64,
    /// libblkid's "tiny device" (a floppy): at most 1440 KiB.
    pub tiny: bool,
    /// A CD/DVD: libblkid does not look for RAID, swap or journals there.
    pub cdrom: bool,
    /// A whole disk or an image file, not a partition: a RAID superblock inside one of its
    /// partitions belongs to that partition.
    pub whole: bool,
    /// Probing hints (`name=value`), such as `session_offset` for iso9660.
    pub hints: Vec<(String, u64)>,
    cache: RefCell<Vec<(u64, Vec<u8>)>>,
    io_error: Cell<bool>,
}

impl<'a> Area<'a> {
    /// The area `off .. off + size` of a device read by `read`.
    pub fn new(read: ReadAt<'a>, off: u64, size: u64, sector_size: u64) -> Area<'a> {
        Area {
            read,
            off,
            size,
            sector_size: sector_size.max(512),
            tiny: size <= 1440 * 1024,
            cdrom: false,
            whole: true,
            hints: Vec::new(),
            cache: RefCell::new(Vec::new()),
            io_error: Cell::new(false),
        }
    }

    /// `len` bytes at `off` inside the area, or `None` when they are not all inside it (or
    /// the device could not be read, which is also remembered).
    pub fn get(&self, off: u64, len: u64) -> Option<Vec<u8>> {
        let end = off.checked_add(len)?;
        if len == 0 || end > self.size || len > MAX_READ {
            return None;
        }
        let abs = self.off.checked_add(off)?;
        let want = usize::try_from(len).ok()?;
        for (at, data) in self.cache.borrow().iter() {
            let from = abs.checked_sub(*at).and_then(|d| usize::try_from(d).ok());
            let hit = from.and_then(|f| data.get(f..f.checked_add(want)?));
            if let Some(hit) = hit {
                return Some(hit.to_vec());
            }
        }
        let data = match (self.read)(abs, want) {
            Some(data) => data,
            None => {
                self.io_error.set(true);
                return None;
            }
        };
        if data.len() < want {
            // A short read at the end of a device: not there, as for libblkid.
            return None;
        }
        let data = data.get(..want)?.to_vec();
        self.cache.borrow_mut().push((abs, data.clone()));
        Some(data)
    }

    /// One 512-byte sector.
    pub fn sector(&self, n: u64) -> Option<Vec<u8>> {
        self.get(n.checked_mul(512)?, 512)
    }

    /// The value of a probing hint.
    pub fn hint(&self, name: &str) -> Option<u64> {
        self.hints.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// Whether a read inside the area failed.
    pub fn io_error(&self) -> bool {
        self.io_error.get()
    }
}

/// Byte `o` of `b` (0 past its end).
pub(crate) fn u8_at(b: &[u8], o: usize) -> u8 {
    b.get(o).copied().unwrap_or(0)
}

/// `n` bytes of `b` from `o` (empty when they are not all there).
pub(crate) fn bytes(b: &[u8], o: usize, n: usize) -> &[u8] {
    o.checked_add(n)
        .and_then(|end| b.get(o..end))
        .unwrap_or(&[])
}

fn array<const N: usize>(b: &[u8], o: usize) -> [u8; N] {
    bytes(b, o, N).try_into().unwrap_or([0; N])
}

/// Little-endian u16 at `o`.
pub(crate) fn le16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes(array(b, o))
}

/// Little-endian u32 at `o`.
pub(crate) fn le32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(array(b, o))
}

/// Little-endian u64 at `o`.
pub(crate) fn le64(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(array(b, o))
}

/// Big-endian u16 at `o`.
pub(crate) fn be16(b: &[u8], o: usize) -> u16 {
    u16::from_be_bytes(array(b, o))
}

/// Big-endian u32 at `o`.
pub(crate) fn be32(b: &[u8], o: usize) -> u32 {
    u32::from_be_bytes(array(b, o))
}

/// Big-endian u64 at `o`.
pub(crate) fn be64(b: &[u8], o: usize) -> u64 {
    u64::from_be_bytes(array(b, o))
}

/// 16 bytes at `o` (zeros when not there).
pub(crate) fn uuid_bytes(b: &[u8], o: usize) -> [u8; 16] {
    array(b, o)
}

/// `b` up to its first NUL, as C string functions see it.
pub(crate) fn cstr(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => b.get(..n).unwrap_or(b),
        None => b,
    }
}
