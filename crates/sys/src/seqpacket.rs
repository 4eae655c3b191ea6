//! `AF_UNIX`/`SOCK_SEQPACKET` socket pairs that carry whole packets, each with at most one
//! file descriptor attached (`SCM_RIGHTS`): the transport of PID 1's init link. Both calls
//! never block; received descriptors are close-on-exec (`MSG_CMSG_CLOEXEC`), and a packet
//! that did not fit (`MSG_TRUNC`/`MSG_CTRUNC`) or carried more than one descriptor is an
//! `InvalidData` error with every received descriptor already closed.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// The `poll(2)` event that, with a zero-length [`recv`], means the peer closed its end.
pub const HANGUP: i16 = libc::POLLHUP;

/// A connected pair of close-on-exec seqpacket sockets.
pub fn pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: socketpair writes two descriptors into the array we pass.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let [a, b] = fds;
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(a), OwnedFd::from_raw_fd(b)) })
}

/// Room for the control message of one descriptor, with slack so that a sender passing a
/// few more is detected (and its descriptors closed) rather than silently truncated.
const CONTROL_WORDS: usize = 8;

/// Sends one packet, with `fd` attached when given. A full socket is `WouldBlock`; a peer
/// that is gone is `EPIPE` (never a `SIGPIPE`).
pub fn send(socket: BorrowedFd, packet: &[u8], fd: Option<BorrowedFd>) -> io::Result<()> {
    let mut control = [0u64; CONTROL_WORDS];
    let mut iov = libc::iovec {
        iov_base: packet.as_ptr() as *mut libc::c_void,
        iov_len: packet.len(),
    };
    // SAFETY: msghdr is plain old data; zeroed is valid and we fill the used fields.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if let Some(fd) = fd {
        let raw: libc::c_int = fd.as_raw_fd();
        msg.msg_control = control.as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE is a pure size computation.
        msg.msg_controllen = unsafe { libc::CMSG_SPACE(4) } as _;
        // SAFETY: the control buffer is large enough for one header and one int (checked
        // by CMSG_FIRSTHDR against msg_controllen); the writes stay inside it.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            if c.is_null() {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(4) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>(), raw);
        }
    }
    // SAFETY: msg points at the live iovec, packet and control buffer above.
    let n = unsafe {
        libc::sendmsg(
            socket.as_raw_fd(),
            &msg,
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One received packet: its length in the caller's buffer and the attached descriptor.
#[derive(Debug)]
pub struct Packet {
    pub len: usize,
    pub fd: Option<OwnedFd>,
}

/// Receives one packet into `buf` without blocking; `Ok(None)` when none is waiting. A
/// length of 0 is an empty packet or, once the peer closed, the end of the stream: the
/// caller tells them apart by `POLLHUP`.
pub fn recv(socket: BorrowedFd, buf: &mut [u8]) -> io::Result<Option<Packet>> {
    let mut control = [0u64; CONTROL_WORDS];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain old data; zeroed is valid and we fill the used fields.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    let flags = libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC;
    // SAFETY: recvmsg writes into the buffers msg points at, all alive and sized.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, flags) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
            _ => Err(e),
        };
    }
    let mut fds = Vec::new();
    // SAFETY: the CMSG_* helpers walk the control buffer recvmsg filled, within
    // msg_controllen; each descriptor is read unaligned as the kernel wrote it.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let header = &*cmsg;
            let data = libc::CMSG_DATA(cmsg);
            let payload = (header.cmsg_len as usize).saturating_sub(data as usize - cmsg as usize);
            if header.cmsg_level == libc::SOL_SOCKET && header.cmsg_type == libc::SCM_RIGHTS {
                for i in 0..payload / std::mem::size_of::<libc::c_int>() {
                    let fd = std::ptr::read_unaligned(data.cast::<libc::c_int>().add(i));
                    // The kernel installed it in our table: we own it now.
                    fds.push(OwnedFd::from_raw_fd(fd));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    if msg.msg_flags & (libc::MSG_TRUNC | libc::MSG_CTRUNC) != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "truncated packet",
        ));
    }
    if fds.len() > 1 {
        let text = format!("{} descriptors in one packet", fds.len());
        return Err(io::Error::new(io::ErrorKind::InvalidData, text));
    }
    Ok(Some(Packet {
        len: n.unsigned_abs(),
        fd: fds.pop(),
    }))
}

/// A `sockaddr_un` for a file system path; fails for a path too long for `sun_path`.
fn unix_address(path: &std::path::Path) -> io::Result<(libc::sockaddr_un, libc::socklen_t)> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: sockaddr_un is plain old data; zeroed is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_os_str().as_bytes();
    if bytes.is_empty() || bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    for (dst, src) in addr.sun_path.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1;
    Ok((addr, len as libc::socklen_t))
}

fn socket() -> io::Result<OwnedFd> {
    // SAFETY: socket takes integers and returns a new descriptor or -1.
    let fd = unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A non-blocking, close-on-exec seqpacket socket listening at `path` (a stale socket
/// file there is replaced), as udevd's `/run/udev/control`.
pub fn listen(path: &std::path::Path) -> io::Result<OwnedFd> {
    let (addr, len) = unix_address(path)?;
    let fd = socket()?;
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    // SAFETY: addr is a valid sockaddr_un of `len` bytes.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: listen takes integers.
    if unsafe { libc::listen(fd.as_raw_fd(), libc::SOMAXCONN) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Accepts one connection (non-blocking, close-on-exec); `Ok(None)` when none waits.
pub fn accept(listener: BorrowedFd) -> io::Result<Option<OwnedFd>> {
    // SAFETY: accept4 with null address pointers returns a new descriptor or -1.
    let fd = unsafe {
        libc::accept4(
            listener.as_raw_fd(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
        )
    };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::EINTR) | Some(libc::ECONNABORTED) => Ok(None),
            _ => Err(e),
        };
    }
    // SAFETY: the kernel just returned this descriptor; nobody else owns it.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Connects a non-blocking, close-on-exec seqpacket socket to `path`.
pub fn connect(path: &std::path::Path) -> io::Result<OwnedFd> {
    let (addr, len) = unix_address(path)?;
    let fd = socket()?;
    // SAFETY: addr is a valid sockaddr_un of `len` bytes.
    let r = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

#[cfg(test)]
mod tests {
    #[test]
    fn listen_accept_connect_on_a_path() {
        let dir = std::env::temp_dir().join(format!("seqpacket-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("control");
        std::fs::write(&path, "stale").unwrap();
        let l = listen(&path).unwrap();
        assert!(accept(l.as_fd()).unwrap().is_none());
        let c = connect(&path).unwrap();
        let s = accept(l.as_fd()).unwrap().unwrap();
        send(c.as_fd(), &[1u8; 280], None).unwrap();
        let mut buf = [0u8; 512];
        let p = recv(s.as_fd(), &mut buf).unwrap().unwrap();
        assert_eq!(p.len, 280);
        drop(s);
        assert_eq!(recv(c.as_fd(), &mut buf).unwrap().unwrap().len, 0);
        assert!(listen(&dir.join("x".repeat(200))).is_err());
        drop(l);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(connect(&path).is_err());
    }

    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsFd;

    #[test]
    fn packets_keep_their_boundaries_and_carry_one_fd() {
        let (a, b) = pair().unwrap();
        let mut buf = [0u8; 64];
        assert!(recv(b.as_fd(), &mut buf).unwrap().is_none());
        send(a.as_fd(), b"one", None).unwrap();
        let (r, w) = std::io::pipe().unwrap();
        send(a.as_fd(), b"two", Some(r.as_fd())).unwrap();
        drop(r);
        let p = recv(b.as_fd(), &mut buf).unwrap().unwrap();
        assert_eq!((&buf[..p.len], p.fd.is_none()), (&b"one"[..], true));
        let p = recv(b.as_fd(), &mut buf).unwrap().unwrap();
        assert_eq!(&buf[..p.len], b"two");
        let fd = p.fd.unwrap();
        let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        (&w).write_all(b"through").unwrap();
        drop(w);
        let mut text = String::new();
        std::fs::File::from(fd).read_to_string(&mut text).unwrap();
        assert_eq!(text, "through");
    }

    #[test]
    fn truncated_packets_are_errors_and_eof_reads_zero() {
        let (a, b) = pair().unwrap();
        send(a.as_fd(), &[7u8; 100], None).unwrap();
        let mut small = [0u8; 10];
        let e = recv(b.as_fd(), &mut small).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        drop(a);
        let p = recv(b.as_fd(), &mut small).unwrap().unwrap();
        assert_eq!(p.len, 0);
        let (c, d) = pair().unwrap();
        drop(d);
        let e = send(c.as_fd(), b"x", None).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
    }

    #[test]
    fn two_fds_in_one_packet_are_refused() {
        let (a, b) = pair().unwrap();
        let file = std::fs::File::open("/dev/null").unwrap();
        let fds = [file.as_raw_fd(), file.as_raw_fd()];
        let mut control = [0u64; 8];
        let mut iov = libc::iovec {
            iov_base: b"x".as_ptr() as *mut _,
            iov_len: 1,
        };
        unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = libc::CMSG_SPACE(8) as _;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(8) as _;
            std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(c).cast(), 2);
            assert!(libc::sendmsg(a.as_raw_fd(), &msg, 0) > 0);
        }
        let mut buf = [0u8; 8];
        let e = recv(b.as_fd(), &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}
