//! The one btrfs ioctl udev uses: `BTRFS_IOC_DEVICES_READY` on `/dev/btrfs-control`,
//! which asks whether every device of the multi-device file system a block device belongs
//! to has been seen (udev's `btrfs ready` builtin).

use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// `struct btrfs_ioctl_vol_args`: a 64-bit fd and a 4088-byte path (4096 bytes in all).
#[repr(C)]
struct VolArgs {
    fd: i64,
    name: [u8; 4088],
}

/// `_IOR(0x94, 39, struct btrfs_ioctl_vol_args)`.
const DEVICES_READY: u64 = (2 << 30) | (4096 << 16) | (0x94 << 8) | 39;

/// Opens `control` (`/dev/btrfs-control`) and asks whether the file system on `device`
/// (a device node path) has all its devices. The open's error is returned as it is, so a
/// caller can tell a missing btrfs driver (`ENOENT`/`ENODEV`/`ENXIO`) from other failures;
/// a device that is no btrfs member fails the ioctl.
pub fn devices_ready(control: &Path, device: &str) -> io::Result<bool> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(control)?;
    let mut args = VolArgs {
        fd: 0,
        name: [0; 4088],
    };
    let bytes = device.as_bytes();
    if bytes.len() >= args.name.len() || bytes.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    for (d, s) in args.name.iter_mut().zip(bytes) {
        *d = *s;
    }
    // SAFETY: the ioctl reads and writes the `VolArgs` we own, whose layout is the
    // kernel's struct; the descriptor is open for the call's duration.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), DEVICES_READY as _, &mut args as *mut VolArgs) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_number_is_the_kernels() {
        // From linux/btrfs.h as compiled: BTRFS_IOC_DEVICES_READY == 0x90009427.
        assert_eq!(DEVICES_READY, 0x9000_9427);
        assert_eq!(std::mem::size_of::<VolArgs>(), 4096);
    }

    #[test]
    fn a_missing_control_device_is_reported_as_such() {
        let e = devices_ready(Path::new("/nonexistent/btrfs-control"), "/dev/x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_device_that_is_no_btrfs_member_fails() {
        let control = Path::new("/dev/btrfs-control");
        if !control.exists() {
            eprintln!("skipped: no /dev/btrfs-control (btrfs driver not loaded)");
            return;
        }
        assert!(devices_ready(control, "/dev/null").is_err());
    }
}
