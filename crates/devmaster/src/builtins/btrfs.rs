//! The `btrfs` builtin of udev 252: `btrfs ready DEVNODE` sets `ID_BTRFS_READY` to `1` when
//! every device of the btrfs file system on DEVNODE has appeared, `0` otherwise (Debian's
//! `64-btrfs.rules` then keeps the device unit inactive with `SYSTEMD_READY=0`). Without
//! the btrfs driver (`/dev/btrfs-control` absent) the device counts as not ready, as in
//! udev, so that it can be re-triggered once the driver is there.

use super::{Output, System};
use crate::rules::subst::Device;

/// Runs `btrfs ready DEVNODE`.
pub fn run(_device: &dyn Device, system: &dyn System, args: &[String]) -> Result<Output, String> {
    let [verb, devnode] = args else {
        return Err("btrfs: expected: ready DEVNODE".into());
    };
    if verb != "ready" {
        return Err("btrfs: expected: ready DEVNODE".into());
    }
    let ready = match system.btrfs_ready(devnode) {
        Ok(r) => r,
        Err(e) if is_absent(&e) => false,
        Err(e) => return Err(format!("btrfs: {devnode}: {e}")),
    };
    let mut out = Output::default();
    out.set("ID_BTRFS_READY", if ready { "1" } else { "0" });
    Ok(out)
}

/// udev's ERRNO_IS_DEVICE_ABSENT: ENOENT, ENXIO, ENODEV.
fn is_absent(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(2 | 6 | 19))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testsys::FakeSys;
    use std::io;

    struct Btrfs(fn() -> io::Result<bool>);
    impl System for Btrfs {
        fn read(&self, _: &str) -> Option<Vec<u8>> {
            None
        }
        fn read_dir(&self, _: &str) -> Option<Vec<String>> {
            None
        }
        fn read_at(&self, _: &str, _: u64, _: usize) -> Option<Vec<u8>> {
            None
        }
        fn btrfs_ready(&self, devnode: &str) -> io::Result<bool> {
            assert_eq!(devnode, "/dev/sda1");
            (self.0)()
        }
    }

    fn run_with(f: fn() -> io::Result<bool>, args: &[&str]) -> Result<Output, String> {
        let s = FakeSys::new();
        s.add(
            "/devices/virtual/block/sda1",
            Some("block"),
            "DEVNAME=sda1\n",
        );
        let dev = s.tree().device("/devices/virtual/block/sda1").unwrap();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        run(&dev, &Btrfs(f), &args)
    }

    #[test]
    fn readiness_and_errors_as_udev() {
        let prop = |r: Result<Output, String>| r.map(|o| o.properties);
        let ready = vec![("ID_BTRFS_READY".to_string(), Some("1".to_string()))];
        let waiting = vec![("ID_BTRFS_READY".to_string(), Some("0".to_string()))];
        assert_eq!(
            prop(run_with(|| Ok(true), &["ready", "/dev/sda1"])),
            Ok(ready)
        );
        assert_eq!(
            prop(run_with(|| Ok(false), &["ready", "/dev/sda1"])),
            Ok(waiting.clone())
        );
        // No btrfs driver: not ready (udev's initrd case), not an error.
        let absent = || Err(io::Error::from_raw_os_error(19));
        assert_eq!(prop(run_with(absent, &["ready", "/dev/sda1"])), Ok(waiting));
        // Not a btrfs member (the ioctl fails): the builtin fails, nothing is set.
        let bad = || Err(io::Error::from_raw_os_error(22));
        assert!(run_with(bad, &["ready", "/dev/sda1"]).is_err());
        for args in [&["ready"][..], &["probe", "/dev/sda1"], &[]] {
            assert!(run_with(|| Ok(true), args).is_err(), "{args:?}");
        }
    }
}
