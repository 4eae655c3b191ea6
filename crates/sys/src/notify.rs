//! The server side of sd_notify(3): a datagram socket that receives messages together
//! with the sender's credentials (`SCM_CREDENTIALS`, so NotifyAccess= can check the pid)
//! and any file descriptors it passes (`SCM_RIGHTS`, for `FDSTORE=1`).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixDatagram;
use std::path::Path;

/// The largest notification accepted; longer ones are truncated by the kernel and
/// dropped by us (sd_notify messages are short `KEY=VALUE` lines).
pub const MAX_NOTIFY: usize = 4096;
/// At most this many descriptors are taken from one message; the rest are closed.
pub const MAX_FDS: usize = 64;

/// One received notification.
#[derive(Debug)]
pub struct Notification {
    pub pid: u32,
    pub uid: u32,
    pub text: String,
    pub fds: Vec<OwnedFd>,
}

/// A bound notify socket, non-blocking.
#[derive(Debug)]
pub struct NotifySocket {
    socket: UnixDatagram,
}

impl NotifySocket {
    /// Binds at `path` (replacing a stale socket file) and turns on `SO_PASSCRED`.
    pub fn bind(path: &Path) -> io::Result<NotifySocket> {
        let _ = std::fs::remove_file(path);
        let socket = UnixDatagram::bind(path)?;
        socket.set_nonblocking(true)?;
        let on: libc::c_int = 1;
        // SAFETY: setsockopt reads an int of the given size from a valid pointer.
        let r = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_PASSCRED,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(NotifySocket { socket })
    }

    /// Wraps a socket taken back from PID 1's fd store after a restart.
    pub fn from_fd(fd: OwnedFd) -> io::Result<NotifySocket> {
        let socket = UnixDatagram::from(fd);
        socket.set_nonblocking(true)?;
        Ok(NotifySocket { socket })
    }

    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.socket)
    }

    pub fn as_raw_fd(&self) -> i32 {
        self.socket.as_raw_fd()
    }

    /// The next message, or `Ok(None)` when none is waiting. Messages without credentials,
    /// truncated ones and ones that are not UTF-8 are dropped (their fds closed), as
    /// systemd drops them.
    pub fn recv(&self) -> io::Result<Option<Notification>> {
        loop {
            match self.recv_one(0)? {
                Received::Nothing => return Ok(None),
                Received::Dropped => continue,
                Received::Message(n) => return Ok(Some(n)),
            }
        }
    }

    /// The next message like [`NotifySocket::recv`], but left in the socket until
    /// [`NotifySocket::discard`]: a reader that dies before it has recorded what the message
    /// changed leaves it to its successor. (Passed fds arrive as copies each time.)
    pub fn peek(&self) -> io::Result<Option<Notification>> {
        loop {
            match self.recv_one(libc::MSG_PEEK)? {
                Received::Nothing => return Ok(None),
                // A message recv would drop is consumed here, or it would be peeked forever.
                Received::Dropped => self.discard()?,
                Received::Message(n) => return Ok(Some(n)),
            }
        }
    }

    /// Removes the message at the head of the socket (the one [`NotifySocket::peek`] gave).
    pub fn discard(&self) -> io::Result<()> {
        self.recv_one(0).map(|_| ())
    }

    fn recv_one(&self, flags: libc::c_int) -> io::Result<Received> {
        let mut buf = [0u8; MAX_NOTIFY];
        // Room for one SCM_CREDENTIALS and one SCM_RIGHTS with MAX_FDS descriptors.
        let mut control = [0u64; 64];
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
        // SAFETY: recvmsg writes into the buffers msg points at, all alive and sized.
        let n = unsafe {
            libc::recvmsg(
                self.socket.as_raw_fd(),
                &mut msg,
                libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC | libc::MSG_TRUNC | flags,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(Received::Nothing),
                io::ErrorKind::Interrupted => Ok(Received::Dropped),
                _ => Err(e),
            };
        }
        let (mut creds, mut fds) = (None, Vec::new());
        // SAFETY: the CMSG_* helpers walk the control buffer recvmsg filled, within
        // msg_controllen; each payload is read unaligned as the kernel wrote it.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                let header = &*cmsg;
                let data = libc::CMSG_DATA(cmsg);
                let payload =
                    (header.cmsg_len as usize).saturating_sub(data as usize - cmsg as usize);
                if header.cmsg_level == libc::SOL_SOCKET {
                    if header.cmsg_type == libc::SCM_CREDENTIALS
                        && payload >= std::mem::size_of::<libc::ucred>()
                    {
                        creds = Some(std::ptr::read_unaligned(data.cast::<libc::ucred>()));
                    } else if header.cmsg_type == libc::SCM_RIGHTS {
                        let count = payload / std::mem::size_of::<libc::c_int>();
                        for i in 0..count {
                            let fd = std::ptr::read_unaligned(data.cast::<libc::c_int>().add(i));
                            // The kernel installed it in our table: we own it now.
                            fds.push(OwnedFd::from_raw_fd(fd));
                        }
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        let truncated = n.unsigned_abs() > buf.len() || msg.msg_flags & libc::MSG_CTRUNC != 0;
        let (Some(creds), false) = (creds, truncated) else {
            return Ok(Received::Dropped);
        };
        let len = n.unsigned_abs().min(buf.len());
        let Ok(text) = std::str::from_utf8(buf.get(..len).unwrap_or_default()) else {
            return Ok(Received::Dropped);
        };
        fds.truncate(MAX_FDS);
        Ok(Received::Message(Notification {
            pid: creds.pid.unsigned_abs(),
            uid: creds.uid,
            text: text.to_string(),
            fds,
        }))
    }
}

enum Received {
    Nothing,
    Dropped,
    Message(Notification),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A peeked message stays until discarded; the next one follows.
    #[test]
    fn peeked_messages_stay_until_discarded() {
        let dir = std::env::temp_dir().join(format!("sys-notify-peek-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let server = NotifySocket::bind(&path).unwrap();
        assert!(server.peek().unwrap().is_none());
        let client = UnixDatagram::unbound().unwrap();
        client.send_to(b"READY=1", &path).unwrap();
        client.send_to(b"STATUS=second", &path).unwrap();
        assert_eq!(server.peek().unwrap().unwrap().text, "READY=1");
        assert_eq!(server.peek().unwrap().unwrap().text, "READY=1");
        server.discard().unwrap();
        assert_eq!(server.peek().unwrap().unwrap().text, "STATUS=second");
        server.discard().unwrap();
        assert!(server.peek().unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn receives_text_credentials_and_fds() {
        let dir = std::env::temp_dir().join(format!("sys-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let server = NotifySocket::bind(&path).unwrap();
        assert!(server.recv().unwrap().is_none());

        let client = UnixDatagram::unbound().unwrap();
        client.send_to(b"READY=1\nSTATUS=up", &path).unwrap();
        let n = server.recv().unwrap().unwrap();
        assert_eq!(n.text, "READY=1\nSTATUS=up");
        assert_eq!(n.pid, std::process::id());
        assert_eq!(n.uid, unsafe { libc::getuid() });
        assert!(n.fds.is_empty());

        // FDSTORE=1 with a descriptor attached.
        let file = std::fs::File::open("/etc/hostname").unwrap();
        let fd = file.as_raw_fd();
        let mut control = [0u64; 8];
        let text = b"FDSTORE=1";
        let mut iov = libc::iovec {
            iov_base: text.as_ptr() as *mut _,
            iov_len: text.len(),
        };
        let addr = {
            let mut a: libc::sockaddr_un = unsafe { std::mem::zeroed() };
            a.sun_family = libc::AF_UNIX as _;
            for (d, s) in a.sun_path.iter_mut().zip(path.to_str().unwrap().bytes()) {
                *d = s as _;
            }
            a
        };
        unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_name = &addr as *const _ as *mut _;
            msg.msg_namelen = std::mem::size_of::<libc::sockaddr_un>() as _;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = libc::CMSG_SPACE(4) as _;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(4) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>(), fd);
            assert!(libc::sendmsg(client.as_raw_fd(), &msg, 0) > 0);
        }
        let n = server.recv().unwrap().unwrap();
        assert_eq!(n.text, "FDSTORE=1");
        assert_eq!(n.fds.len(), 1);
        let received = std::fs::File::from(n.fds.into_iter().next().unwrap());
        assert_eq!(
            received.metadata().unwrap().ino(),
            file.metadata().unwrap().ino()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    use std::os::unix::fs::MetadataExt;
}
