//! Netlink sockets: kernel uevents (group 1), the udev multicast group (2), rtnetlink link
//! changes. To be written (the signatures below are the interface).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// A `NETLINK_KOBJECT_UEVENT` multicast group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Bound to no group: for sending only.
    None,
    /// The kernel's uevents (group 1).
    Kernel,
    /// udev's re-broadcasts (group 2).
    Udev,
}

/// Who sent a received datagram (from `SCM_CREDENTIALS` and the source address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender {
    /// Netlink port id of the sender (0 = the kernel).
    pub portid: u32,
    /// Destination groups bitmask of the datagram.
    pub groups: u32,
    /// Credentials' uid.
    pub uid: u32,
}

/// A non-blocking, close-on-exec uevent socket.
#[derive(Debug)]
pub struct UeventSocket {
    fd: OwnedFd,
}

impl UeventSocket {
    /// Opens a socket bound to `group`, with `SO_PASSCRED`.
    pub fn open(group: Group) -> io::Result<UeventSocket> {
        let _ = group;
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }

    /// Receives one datagram into `buf` (resized to it); `Ok(None)` when none is waiting.
    pub fn recv(&self, buf: &mut Vec<u8>) -> io::Result<Option<Sender>> {
        let _ = buf;
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }

    /// Sends `bytes` to the udev group (2).
    pub fn send_udev(&self, bytes: &[u8]) -> io::Result<()> {
        let _ = bytes;
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

impl AsRawFd for UeventSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Renames the network interface `ifindex` to `name` (rtnetlink `RTM_SETLINK`).
pub fn rename_link(ifindex: u32, name: &str) -> io::Result<()> {
    let _ = (ifindex, name);
    Err(io::Error::from(io::ErrorKind::Unsupported))
}
