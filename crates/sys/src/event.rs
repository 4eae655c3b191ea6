//! What a single-threaded event loop needs from the kernel: `poll(2)` over a set of
//! descriptors, signals delivered as readable data (`signalfd(2)`, the signals blocked so
//! that they are never delivered asynchronously), the `CLOCK_MONOTONIC` time in
//! microseconds, pipes whose read end does not block, and the credentials of the peer of a
//! Unix stream socket (`SO_PEERCRED`).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Readable (or hung up / in error: a read will tell which).
pub const READABLE: i16 = libc::POLLIN;
pub const WRITABLE: i16 = libc::POLLOUT;
/// Exceptional condition: for `/proc/self/mountinfo`, the mount table changed (proc(5)).
pub const PRIORITY: i16 = libc::POLLPRI;

/// One descriptor to watch and, after [`poll`], what happened to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollFd {
    pub fd: RawFd,
    /// [`READABLE`] and/or [`WRITABLE`].
    pub events: i16,
    /// Filled by [`poll`]; `POLLHUP`/`POLLERR`/`POLLNVAL` count as readable.
    pub revents: i16,
}

impl PollFd {
    pub fn new(fd: RawFd, events: i16) -> PollFd {
        PollFd {
            fd,
            events,
            revents: 0,
        }
    }

    pub fn readable(&self) -> bool {
        self.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
    }

    /// `POLLPRI` (or `POLLERR`, which the kernel sets with it for a changed mount table).
    pub fn priority(&self) -> bool {
        self.revents & (libc::POLLPRI | libc::POLLERR) != 0
    }

    pub fn writable(&self) -> bool {
        self.revents & (libc::POLLOUT | libc::POLLERR | libc::POLLHUP) != 0
    }
}

/// Waits until one of `fds` is ready or `timeout_ms` passed (`None`: forever). Returns how
/// many are ready; an interrupted wait returns 0.
pub fn poll(fds: &mut [PollFd], timeout_ms: Option<u32>) -> io::Result<usize> {
    let mut raw: Vec<libc::pollfd> = fds
        .iter()
        .map(|p| libc::pollfd {
            fd: p.fd,
            events: p.events,
            revents: 0,
        })
        .collect();
    let timeout = match timeout_ms {
        Some(ms) => libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX),
        None => -1,
    };
    // SAFETY: `raw` is a valid array of `raw.len()` pollfd structures poll may write to.
    let n = unsafe { libc::poll(raw.as_mut_ptr(), raw.len() as libc::nfds_t, timeout) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(e);
    }
    for (p, r) in fds.iter_mut().zip(raw.iter()) {
        p.revents = r.revents;
    }
    Ok(n.unsigned_abs() as usize)
}

/// `CLOCK_MONOTONIC` in microseconds, the time base of every timer of the unit types.
pub fn monotonic_usec() -> u64 {
    // SAFETY: timespec is plain old data; zeroed is a valid value.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: clock_gettime writes one timespec to a valid pointer.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if r < 0 {
        return 0;
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000).saturating_add(nanos / 1_000)
}

/// A signalfd for a set of signals, which are blocked for the whole process while it
/// exists (children get an empty mask from `spawn`).
#[derive(Debug)]
pub struct SignalFd {
    fd: OwnedFd,
}

impl SignalFd {
    /// Blocks `signals` and opens a non-blocking, close-on-exec signalfd for them.
    pub fn new(signals: &[i32]) -> io::Result<SignalFd> {
        // SAFETY: sigset_t is plain old data; sigemptyset initialises it.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: sigemptyset/sigaddset write to a valid sigset_t.
        unsafe {
            libc::sigemptyset(&mut set);
            for &s in signals {
                libc::sigaddset(&mut set, s);
            }
        }
        // SAFETY: sigprocmask reads a valid sigset_t; the old mask is not wanted.
        let r = unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: signalfd(-1, ...) creates a new descriptor from a valid sigset_t.
        let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this descriptor; nobody else owns it.
        Ok(SignalFd {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    pub fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The next pending signal number, or `None` when none is pending. Several deliveries
    /// of one standard signal collapse into one, so a SIGCHLD means "reap until nothing is
    /// left", never "one child exited".
    pub fn read(&self) -> io::Result<Option<i32>> {
        // SAFETY: signalfd_siginfo is plain old data; zeroed is a valid value.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: reading at most `size` bytes into a valid signalfd_siginfo.
        let n = unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                size,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        if n.unsigned_abs() != size {
            return Ok(None);
        }
        Ok(i32::try_from(info.ssi_signo).ok())
    }
}

/// A close-on-exec pipe whose read end is non-blocking (for the event loop) and whose
/// write end blocks (for the processes writing to it). Returns (read, write).
pub fn pipe_nonblocking_read() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two descriptors into the array we pass.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let [r, w] = fds;
    // SAFETY: both descriptors were just created and are owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(r), OwnedFd::from_raw_fd(w)) };
    set_nonblocking(read.as_raw_fd())?;
    Ok((read, write))
}

/// Sets `O_NONBLOCK` on a descriptor's open file description.
fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl F_GETFL/F_SETFL on a descriptor we own; no pointers involved.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads what is available without blocking: `Ok(0)` is end of file, `WouldBlock` means
/// nothing is there now.
pub fn read(fd: BorrowedFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: reading at most `buf.len()` bytes into a valid, writable buffer.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n.unsigned_abs())
}

/// The peer of a connected Unix socket, as the kernel recorded it at `connect(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCredentials {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
}

/// `SO_PEERCRED` of a connected Unix socket.
pub fn peer_credentials(fd: BorrowedFd) -> io::Result<PeerCredentials> {
    // SAFETY: ucred is plain old data; zeroed is a valid value.
    let mut cred: libc::ucred = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes to a valid ucred and updates `len`.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(PeerCredentials {
        pid: cred.pid.unsigned_abs(),
        uid: cred.uid,
        gid: cred.gid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn monotonic_time_advances() {
        let a = monotonic_usec();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = monotonic_usec();
        assert!(a > 0 && b >= a + 1_000, "{a} {b}");
    }

    #[test]
    fn pipe_read_end_does_not_block_and_poll_sees_data() {
        let (r, w) = pipe_nonblocking_read().unwrap();
        let mut buf = [0u8; 8];
        let err = read(r.as_fd(), &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        let mut fds = [PollFd::new(r.as_raw_fd(), READABLE)];
        assert_eq!(poll(&mut fds, Some(0)).unwrap(), 0);
        std::fs::File::from(w.try_clone().unwrap())
            .write_all(b"hi")
            .unwrap();
        assert_eq!(poll(&mut fds, Some(1000)).unwrap(), 1);
        assert!(fds[0].readable());
        assert_eq!(read(r.as_fd(), &mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"hi");
        drop(w);
        assert_eq!(
            read(r.as_fd(), &mut buf).unwrap(),
            0,
            "EOF once writers are gone"
        );
    }

    #[test]
    fn peer_credentials_name_this_process() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let c = peer_credentials(a.as_fd()).unwrap();
        assert_eq!(c.pid, std::process::id());
        assert_eq!(c.uid, unsafe { libc::getuid() });
    }

    use std::io::Write;
}
