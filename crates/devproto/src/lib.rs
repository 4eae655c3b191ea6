//! `devproto` holds the formats udev (systemd 252) shares with the rest of the system, as
//! pure code: the device database under `/run/udev` ([`db`]), the kernel's uevent datagrams
//! ([`uevent`]) and libudev's netlink messages ([`monitor`]). devmaster writes them, `devctl`
//! and the manager read them; unmodified libudev programs (`udevadm`, `lsblk`, ...) read what
//! devmaster writes. No syscalls; file access only where a function says so.

pub mod db;
pub mod enumerate;
pub mod monitor;
pub mod uevent;
