//! Netlink sockets for devmaster: `NETLINK_KOBJECT_UEVENT` sockets for the kernel's uevents
//! (group 1) and udev's re-broadcasts (group 2), and the few rtnetlink link changes udev's
//! `net_setup_link` makes (rename, MTU, MAC address).
//!
//! A uevent socket is opened as udevd opens its own: non-blocking, close-on-exec, with
//! `SO_PASSCRED` so every datagram carries its sender's credentials, and for the kernel group
//! a 128 MiB receive buffer forced past `rmem_max` where we may (a coldplug burst must not
//! overflow it), quietly keeping the default where we may not. [`UeventSocket::recv`] reports
//! who sent each datagram so callers can do what sd-device does: on the kernel group keep only
//! datagrams from port 0 (the kernel), on the udev group only those from uid 0. Sending to
//! the udev group with no listener is not an error (sd-device ignores the `ECONNREFUSED`).
//!
//! The rtnetlink helpers send one `RTM_SETLINK` request each and wait, at most
//! [`RTNL_TIMEOUT_MS`], for the kernel's acknowledgement; the kernel's refusal comes back as
//! the `io::Error` of its errno.

use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::event::{poll, PollFd, READABLE};

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

impl Group {
    /// The group's bit in `nl_groups`.
    pub fn mask(self) -> u32 {
        match self {
            Group::None => 0,
            Group::Kernel => 1,
            Group::Udev => 2,
        }
    }
}

/// Who sent a received datagram (from `SCM_CREDENTIALS` and the source address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender {
    /// Netlink port id of the sender (0 = the kernel).
    pub portid: u32,
    /// Destination groups bitmask of the datagram.
    pub groups: u32,
    /// Credentials' uid (`u32::MAX` if the datagram carried none, so it never passes as root).
    pub uid: u32,
}

/// The receive buffer udevd asks for on its kernel socket.
pub const KERNEL_RCVBUF: usize = 128 * 1024 * 1024;
/// Receive room for one datagram: the kernel's uevent buffer is 2 KiB of properties plus the
/// header, libudev reads 8 KiB; a larger datagram is reported as truncated.
const DATAGRAM_MAX: usize = 16 * 1024;

/// A non-blocking, close-on-exec uevent socket.
#[derive(Debug)]
pub struct UeventSocket {
    fd: OwnedFd,
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: we pass a pointer to a live c_int and its exact size.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

fn netlink_socket(kind: libc::c_int, protocol: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket has no memory arguments.
    let fd = cvt(unsafe { libc::socket(libc::AF_NETLINK, kind | libc::SOCK_CLOEXEC, protocol) })?;
    // SAFETY: fd was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn sockaddr_nl(portid: u32, groups: u32) -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain old data (it has a private padding field); zero is valid.
    let mut a: libc::sockaddr_nl = unsafe { zeroed() };
    a.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    a.nl_pid = portid;
    a.nl_groups = groups;
    a
}

const SOCKADDR_NL_LEN: libc::socklen_t = size_of::<libc::sockaddr_nl>() as libc::socklen_t;

impl UeventSocket {
    /// Opens a socket bound to `group`, with `SO_PASSCRED`.
    pub fn open(group: Group) -> io::Result<UeventSocket> {
        let fd = netlink_socket(
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK,
            libc::NETLINK_KOBJECT_UEVENT,
        )?;
        let raw = fd.as_raw_fd();
        setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_PASSCRED, 1)?;
        if group == Group::Kernel {
            // Forcing needs CAP_NET_ADMIN; without it the plain request is capped at
            // rmem_max, which is still better than the default. Either failing is harmless.
            let size = KERNEL_RCVBUF as libc::c_int;
            if setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, size).is_err() {
                let _ = setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_RCVBUF, size);
            }
        }
        let addr = sockaddr_nl(0, group.mask());
        // SAFETY: addr is a live sockaddr_nl and we pass its size.
        cvt(unsafe {
            libc::bind(
                raw,
                (&addr as *const libc::sockaddr_nl).cast(),
                SOCKADDR_NL_LEN,
            )
        })?;
        Ok(UeventSocket { fd })
    }

    /// The port id the kernel assigned this socket (what receivers see as [`Sender::portid`]).
    pub fn portid(&self) -> io::Result<u32> {
        let mut addr = sockaddr_nl(0, 0);
        let mut len = SOCKADDR_NL_LEN;
        // SAFETY: getsockname writes at most `len` bytes into addr.
        cvt(unsafe {
            libc::getsockname(
                self.fd.as_raw_fd(),
                (&mut addr as *mut libc::sockaddr_nl).cast(),
                &mut len,
            )
        })?;
        Ok(addr.nl_pid)
    }

    /// The receive buffer size the kernel granted (`SO_RCVBUF`; the kernel reports twice the
    /// size asked for, the other half being its bookkeeping).
    pub fn receive_buffer(&self) -> io::Result<usize> {
        let mut value: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into value.
        cvt(unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        })?;
        Ok(usize::try_from(value).unwrap_or(0))
    }

    /// Receives one datagram into `buf` (resized to it); `Ok(None)` when none is waiting.
    /// A datagram larger than 16 KiB is dropped as an `InvalidData` error; an overflowed
    /// receive buffer is `ENOBUFS` (events were lost; the socket stays usable).
    pub fn recv(&self, buf: &mut Vec<u8>) -> io::Result<Option<Sender>> {
        buf.clear();
        buf.resize(DATAGRAM_MAX, 0);
        let mut addr = sockaddr_nl(0, 0);
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // Room for one ucred control message, with u64 alignment.
        let mut control = [0u64; 8];
        // SAFETY: msghdr is plain old data; zeroed is valid and we fill the used fields.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_name = (&mut addr as *mut libc::sockaddr_nl).cast();
        msg.msg_namelen = SOCKADDR_NL_LEN;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of::<[u64; 8]>() as _;
        let n = loop {
            // SAFETY: msg points at the live address, iovec (over buf) and control buffer.
            let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
            if n >= 0 {
                break n.unsigned_abs();
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    buf.clear();
                    return Ok(None);
                }
                _ => {
                    buf.clear();
                    return Err(e);
                }
            }
        };
        if msg.msg_flags & libc::MSG_TRUNC != 0 {
            buf.clear();
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("uevent datagram larger than {DATAGRAM_MAX} bytes dropped"),
            ));
        }
        buf.truncate(n);
        let mut uid = u32::MAX;
        // SAFETY: msg's control fields describe `control`, filled by recvmsg; CMSG_FIRSTHDR
        // and CMSG_NXTHDR stay inside msg_controllen, and we read a ucred only from a
        // header long enough to hold one.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET
                    && (*c).cmsg_type == libc::SCM_CREDENTIALS
                    && (*c).cmsg_len as usize
                        >= libc::CMSG_LEN(size_of::<libc::ucred>() as u32) as usize
                {
                    let cred: libc::ucred = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    uid = cred.uid;
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        Ok(Some(Sender {
            portid: addr.nl_pid,
            groups: addr.nl_groups,
            uid,
        }))
    }

    /// Sends `bytes` to the udev group (2). No listener is not an error.
    pub fn send_udev(&self, bytes: &[u8]) -> io::Result<()> {
        let addr = sockaddr_nl(0, Group::Udev.mask());
        // SAFETY: bytes and addr are live for the call and we pass their sizes.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_DONTWAIT,
                (&addr as *const libc::sockaddr_nl).cast(),
                SOCKADDR_NL_LEN,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::ECONNREFUSED) {
                return Err(e);
            }
        }
        Ok(())
    }
}

impl AsRawFd for UeventSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// How long an rtnetlink request waits for the kernel's answer.
pub const RTNL_TIMEOUT_MS: u32 = 5000;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_TXQLEN: u16 = 13;
const IFLA_IFALIAS: u16 = 20;
const IFLA_NUM_TX_QUEUES: u16 = 31;
const IFLA_NUM_RX_QUEUES: u16 = 32;
const IFLA_GSO_MAX_SEGS: u16 = 40;
const IFLA_GSO_MAX_SIZE: u16 = 41;
const IFLA_PROP_LIST: u16 = 52;
const IFLA_ALT_IFNAME: u16 = 53;
const NLA_F_NESTED: u16 = 0x8000;
const RTM_NEWLINKPROP: u16 = 108;

/// Sends `RTM_SETLINK` for `ifindex` with one attribute and waits for the kernel's ACK.
fn set_link(ifindex: u32, attr_type: u16, data: &[u8]) -> io::Result<()> {
    link_request(libc::RTM_SETLINK, ifindex, &attr(attr_type, data))
}

/// One `struct rtattr` with its payload, padded to 4 bytes.
fn attr(attr_type: u16, data: &[u8]) -> Vec<u8> {
    let len = 4 + data.len();
    let mut a = Vec::with_capacity((len + 3) & !3);
    a.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_ne_bytes());
    a.extend_from_slice(&attr_type.to_ne_bytes());
    a.extend_from_slice(data);
    a.resize((len + 3) & !3, 0);
    a
}

/// Sends a link message (`RTM_SETLINK`, `RTM_NEWLINKPROP`) for `ifindex` with the
/// already encoded attributes `attrs` and waits for the kernel's ACK.
fn link_request(msg_type: u16, ifindex: u32, attrs: &[u8]) -> io::Result<()> {
    let index = i32::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "ifindex out of range"))?;
    let total = 16 + 16 + attrs.len();
    let Ok(total32) = u32::try_from(total) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "attributes too long",
        ));
    };
    let seq: u32 = 1;
    let mut msg = Vec::with_capacity(total);
    // struct nlmsghdr
    msg.extend_from_slice(&total32.to_ne_bytes());
    msg.extend_from_slice(&msg_type.to_ne_bytes());
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
    msg.extend_from_slice(&flags.to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    // struct ifinfomsg: family, pad, type, index, flags, change
    msg.extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
    msg.extend_from_slice(&index.to_ne_bytes());
    msg.extend_from_slice(&[0; 8]);
    msg.extend_from_slice(attrs);

    let fd = netlink_socket(libc::SOCK_RAW, libc::NETLINK_ROUTE)?;
    let kernel = sockaddr_nl(0, 0);
    // SAFETY: msg and kernel are live for the call and we pass their sizes.
    let n = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            SOCKADDR_NL_LEN,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    wait_ack(&fd, seq)
}

/// What [`set_link_properties`] may change (`None`: left as it is), as systemd.link's
/// `Alias=`, `TransmitQueues=`, `ReceiveQueues=`, `TransmitQueueLength=`,
/// `GenericSegmentOffloadMaxBytes=`, `GenericSegmentOffloadMaxSegments=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkProperties {
    pub alias: Option<String>,
    pub txqueues: Option<u32>,
    pub rxqueues: Option<u32>,
    pub txqueuelen: Option<u32>,
    pub gso_max_bytes: Option<u32>,
    pub gso_max_segments: Option<u32>,
}

/// Sets the properties given in one `RTM_SETLINK`, as udevd does (the kernel takes all
/// or none of them). Nothing given: nothing sent.
pub fn set_link_properties(ifindex: u32, p: &LinkProperties) -> io::Result<()> {
    let mut attrs = Vec::new();
    if let Some(a) = &p.alias {
        let a = CString::new(a.as_str())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "alias contains NUL"))?;
        attrs.extend(attr(IFLA_IFALIAS, a.as_bytes_with_nul()));
    }
    for (t, v) in [
        (IFLA_NUM_TX_QUEUES, p.txqueues),
        (IFLA_NUM_RX_QUEUES, p.rxqueues),
        (IFLA_TXQLEN, p.txqueuelen),
        (IFLA_GSO_MAX_SIZE, p.gso_max_bytes),
        (IFLA_GSO_MAX_SEGS, p.gso_max_segments),
    ] {
        if let Some(v) = v {
            attrs.extend(attr(t, &v.to_ne_bytes()));
        }
    }
    if attrs.is_empty() {
        return Ok(());
    }
    link_request(libc::RTM_SETLINK, ifindex, &attrs)
}

/// Adds alternative names to interface `ifindex` (`RTM_NEWLINKPROP`, a nested
/// `IFLA_PROP_LIST` of `IFLA_ALT_IFNAME`s), as udevd does for `AlternativeNames=` and
/// `AlternativeNamesPolicy=`. The kernel refuses the whole list if one name is taken
/// (`EEXIST`) or invalid.
pub fn add_alternative_names(ifindex: u32, names: &[String]) -> io::Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let mut list = Vec::new();
    for n in names {
        let n = CString::new(n.as_str())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name contains NUL"))?;
        list.extend(attr(IFLA_ALT_IFNAME, n.as_bytes_with_nul()));
    }
    link_request(
        RTM_NEWLINKPROP,
        ifindex,
        &attr(IFLA_PROP_LIST | NLA_F_NESTED, &list),
    )
}

/// Reads answers until the `NLMSG_ERROR` for `seq` arrives (error 0 is the ACK) or
/// [`RTNL_TIMEOUT_MS`] passed.
fn wait_ack(fd: &OwnedFd, seq: u32) -> io::Result<()> {
    let start = std::time::Instant::now();
    let mut buf = vec![0u8; 8192];
    loop {
        let left = u128::from(RTNL_TIMEOUT_MS).saturating_sub(start.elapsed().as_millis());
        if left == 0 {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no rtnetlink acknowledgement from the kernel",
            ));
        }
        let mut pfd = [PollFd::new(fd.as_raw_fd(), READABLE)];
        if poll(
            &mut pfd,
            Some(u32::try_from(left).unwrap_or(RTNL_TIMEOUT_MS)),
        )? == 0
        {
            continue;
        }
        // SAFETY: buf is live and we pass its length.
        let n = unsafe {
            libc::recv(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) {
                continue;
            }
            return Err(e);
        }
        if let Some(errno) = find_ack(buf.get(..n.unsigned_abs()).unwrap_or_default(), seq) {
            return match errno {
                0 => Ok(()),
                e => Err(io::Error::from_raw_os_error(e.saturating_neg())),
            };
        }
    }
}

/// The error field of the `NLMSG_ERROR` for `seq` among the messages in `bytes`.
fn find_ack(mut bytes: &[u8], seq: u32) -> Option<i32> {
    let u32_at = |b: &[u8], off: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
    };
    while bytes.len() >= 16 {
        let len = u32_at(bytes, 0)? as usize;
        let kind = u16::from_ne_bytes(bytes.get(4..6)?.try_into().ok()?);
        if len < 16 || len > bytes.len() {
            return None;
        }
        if kind == libc::NLMSG_ERROR as u16 && u32_at(bytes, 8)? == seq {
            return u32_at(bytes, 16).map(|e| e as i32);
        }
        bytes = bytes.get((len + 3) & !3..).unwrap_or_default();
    }
    None
}

/// Renames the network interface `ifindex` to `name` (rtnetlink `RTM_SETLINK`). The kernel's
/// refusal comes back as it is: `EBUSY` for an interface that is up (older kernels; 6.18
/// renames it), `EEXIST` for a taken name, `ERANGE` for one over 15 bytes, `EINVAL` for
/// one `dev_valid_name()` rejects, `ENODEV` for no such index.
pub fn rename_link(ifindex: u32, name: &str) -> io::Result<()> {
    let name = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name contains NUL"))?;
    set_link(ifindex, IFLA_IFNAME, name.as_bytes_with_nul())
}

/// Sets the MTU of interface `ifindex`.
pub fn set_link_mtu(ifindex: u32, mtu: u32) -> io::Result<()> {
    set_link(ifindex, IFLA_MTU, &mtu.to_ne_bytes())
}

/// Sets the hardware (MAC) address of interface `ifindex`.
pub fn set_link_address(ifindex: u32, address: &[u8]) -> io::Result<()> {
    set_link(ifindex, IFLA_ADDRESS, address)
}

/// The index of the interface called `name` in this network namespace (`ENODEV` if none).
pub fn ifindex_of(name: &str) -> io::Result<u32> {
    let name = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name contains NUL"))?;
    // SAFETY: name is a live NUL-terminated string.
    match unsafe { libc::if_nametoindex(name.as_ptr()) } {
        0 => Err(io::Error::last_os_error()),
        i => Ok(i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_ack_reads_the_error_of_the_matching_sequence() {
        // Two NLMSG_ERROR messages as the kernel lays them out (nlmsghdr, then the error
        // and the original request's header): seq 7 with -EBUSY, then seq 1 with 0 (ACK).
        let mut b = Vec::new();
        for (seq, err) in [(7u32, -libc::EBUSY), (1, 0)] {
            b.extend_from_slice(&36u32.to_ne_bytes());
            b.extend_from_slice(&(libc::NLMSG_ERROR as u16).to_ne_bytes());
            b.extend_from_slice(&0u16.to_ne_bytes());
            b.extend_from_slice(&seq.to_ne_bytes());
            b.extend_from_slice(&0u32.to_ne_bytes());
            b.extend_from_slice(&err.to_ne_bytes());
            b.extend_from_slice(&[0; 16]);
        }
        assert_eq!(find_ack(&b, 7), Some(-libc::EBUSY));
        assert_eq!(find_ack(&b, 1), Some(0));
        assert_eq!(find_ack(&b, 2), None);
        assert_eq!(find_ack(&b[..20], 7), None);
        assert_eq!(find_ack(&[], 7), None);
    }
}
