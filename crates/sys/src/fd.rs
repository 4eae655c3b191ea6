//! Descriptor plumbing for a process that re-executes itself: the close-on-exec flag,
//! anonymous memory files (`memfd_create(2)`) to hand state to the next image, and taking
//! ownership of a descriptor inherited by number.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Sets or clears `FD_CLOEXEC`.
pub fn set_cloexec(fd: BorrowedFd, on: bool) -> io::Result<()> {
    // SAFETY: fcntl F_GETFD/F_SETFD on a descriptor the caller holds; no pointers.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let flags = if on {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A new, empty, close-on-exec memory file.
pub fn memfd(name: &str) -> io::Result<OwnedFd> {
    let name = CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: name is a valid NUL-terminated string.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Takes ownership of a descriptor this process inherited by number (named on its command
/// line or in its environment) and makes it close-on-exec. Fails when `fd` is not open
/// or is one of 0-2.
///
/// Each inherited number must be adopted at most once, before anything else could have
/// opened that number: the function cannot know whether some other owner exists.
pub fn adopt_inherited(fd: RawFd) -> io::Result<OwnedFd> {
    if fd < 3 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: fcntl F_GETFD only checks that the number is open; no pointers.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the number is open and, per this function's contract, owned by nobody else
    // in this process: it was inherited across execve for exactly this caller.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    set_cloexec(std::os::fd::AsFd::as_fd(&owned), true)?;
    Ok(owned)
}

/// Opens a terminal (the console) for reading and writing without making it the
/// controlling terminal; `nonblocking` for a logger that must never hang on a stuck serial
/// line.
pub fn open_terminal(path: &std::path::Path, nonblocking: bool) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let flags = libc::O_NOCTTY | if nonblocking { libc::O_NONBLOCK } else { 0 };
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(flags)
        .open(path)
}

/// Opens a terminal (or a file) to write lines at its end, without making it our
/// controlling terminal: for a write that must not take over the console.
pub fn open_for_lines(path: &std::path::Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_NOCTTY)
        .open(path)
}

/// Raises the limit of open descriptors (soft and hard) to at least `want`; without
/// `CAP_SYS_RESOURCE` the hard limit cannot grow and the soft one goes up to it. Returns
/// the new soft limit.
// rlim_t is u64 on 64-bit targets but not on every 32-bit one.
#[allow(clippy::useless_conversion)]
pub fn raise_nofile_to(want: u64) -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let want = libc::rlim_t::try_from(want).unwrap_or(libc::RLIM_INFINITY);
    let wanted = libc::rlimit {
        rlim_cur: want.max(limit.rlim_cur),
        rlim_max: want.max(limit.rlim_max),
    };
    let fallback = libc::rlimit {
        rlim_cur: limit.rlim_max,
        rlim_max: limit.rlim_max,
    };
    for l in [wanted, fallback] {
        // SAFETY: setrlimit reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &l) } == 0 {
            return Ok(u64::from(l.rlim_cur));
        }
    }
    Err(io::Error::last_os_error())
}

/// Opens a device node read-only (non-blocking, no controlling terminal, close-on-exec)
/// and takes a shared `flock` without waiting, as udevd's workers lock a whole disk while
/// processing its events. `Ok(None)`: another process holds an exclusive lock.
pub fn open_locked_shared(path: &std::path::Path) -> io::Result<Option<OwnedFd>> {
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: a NUL-terminated path and integer flags.
    let fd = unsafe { libc::open(c.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor; nobody else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: flock takes a descriptor we own and integer flags.
    if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Ok(None);
        }
        return Err(e);
    }
    Ok(Some(fd))
}

/// Makes `file` our standard error (dup2 onto descriptor 2).
pub fn replace_stderr(file: &std::fs::File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: dup2 takes two descriptor numbers; `file` is open for the call's duration.
    if unsafe { libc::dup2(file.as_raw_fd(), 2) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether descriptor number `fd` is open (used to find closed standard descriptors).
pub fn is_open(fd: RawFd) -> bool {
    // SAFETY: fcntl F_GETFD only checks the number; no pointers.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Reads a small file (a sysfs attribute or `uevent`) in as few syscalls as possible:
/// `open`, one `read` per 4 KiB, `close` (no `fstat` for a size hint, which sysfs does not
/// give anyway). With `follow` false a symbolic link is refused (`ELOOP`), as udev refuses
/// to read an attribute that is a link. A directory fails with `EISDIR`.
pub fn read_small(path: &std::path::Path, follow: bool) -> io::Result<Vec<u8>> {
    const CHUNK: usize = 4096;
    let flags = if follow { 0 } else { libc::O_NOFOLLOW };
    let f = open_cloexec(path, libc::O_RDONLY | flags)?;
    let mut out: Vec<u8> = Vec::with_capacity(CHUNK);
    loop {
        out.reserve(CHUNK);
        let spare = out.spare_capacity_mut();
        // SAFETY: read(2) writes at most `spare.len()` bytes into the vector's spare
        // capacity (no zeroing first: this runs for every attribute of every event); only
        // the bytes it reports written are then counted as initialised.
        let n = unsafe { libc::read(f.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let n = n.unsigned_abs();
        let asked = out.capacity() - out.len();
        // SAFETY: the kernel initialised `n` bytes right after the current length.
        unsafe { out.set_len(out.len() + n) };
        // sysfs hands out a whole attribute (at most a page) in the first read; a
        // shorter read than asked for ends it without one more syscall for EOF.
        if n < asked {
            return Ok(out);
        }
    }
}

/// The canonical path of a directory, resolved with one `open(O_PATH)` and one
/// `readlink` of its `/proc/self/fd` entry instead of a `readlink` per path component.
/// Fails with `ENOTDIR` when `path` is not (a link to) a directory.
pub fn real_dir_path(path: &std::path::Path) -> io::Result<std::path::PathBuf> {
    let f = open_cloexec(path, libc::O_PATH | libc::O_DIRECTORY)?;
    std::fs::read_link(format!("/proc/self/fd/{}", f.as_raw_fd()))
}

/// `openat(AT_FDCWD, path, flags | O_CLOEXEC)` in one syscall. (musl's `open`, which the
/// standard library calls, follows an `O_CLOEXEC` open with an `fcntl(F_SETFD)` for
/// kernels older than 2.6.23: one syscall more for every sysfs file a worker reads.)
pub fn open_cloexec(path: &std::path::Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    loop {
        // SAFETY: a NUL-terminated path that lives across the call; no other pointers.
        let fd = unsafe { libc::openat(libc::AT_FDCWD, c.as_ptr(), flags | libc::O_CLOEXEC) };
        if fd >= 0 {
            // SAFETY: a descriptor just returned by openat, owned by nobody else.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// A whole file mapped read-only and private, for large files read often and shared by
/// several processes (udev's `hwdb.bin`, ~12 MiB): the pages come from the page cache, so
/// a process pays for the ones it touches, not for a copy of the file.
///
/// As with udevd's mapping of the same file, the file must be replaced by renaming a new
/// one over it (what `systemd-hwdb update` and `devctl hwdb --update` do), never
/// truncated in place: a mapped page past a new end would fault with `SIGBUS`.
pub struct Mapped {
    ptr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is read-only and private, and owned by this value alone; reading it
// from several threads is reading immutable memory.
unsafe impl Send for Mapped {}
// SAFETY: as for Send: nothing writes through the pointer.
unsafe impl Sync for Mapped {}

impl Mapped {
    /// Maps the file at `path`; an empty file gives an empty mapping.
    pub fn open(path: &std::path::Path) -> io::Result<Mapped> {
        let f = std::fs::File::open(path)?;
        let len = usize::try_from(f.metadata()?.len())
            .map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
        if len == 0 {
            return Ok(Mapped {
                ptr: std::ptr::null_mut(),
                len: 0,
            });
        }
        // SAFETY: a new read-only private mapping of `len` bytes of an open file; the
        // kernel chooses the address. The descriptor may be closed afterwards.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                f.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapped { ptr, len })
    }
}

impl AsRef<[u8]> for Mapped {
    fn as_ref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` is a live mapping of `len` readable bytes until `drop`.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: unmaps exactly the mapping made in `open`, once.
            unsafe { libc::munmap(self.ptr, self.len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, Write};
    use std::os::fd::AsFd;

    #[test]
    fn shared_locks_coexist_and_an_exclusive_one_refuses_them() {
        let path = std::env::temp_dir().join(format!("lock-{}", std::process::id()));
        std::fs::write(&path, "").unwrap();
        let a = open_locked_shared(&path).unwrap();
        assert!(a.is_some());
        assert!(open_locked_shared(&path).unwrap().is_some());
        drop(a);
        let f = std::fs::File::open(&path).unwrap();
        assert_eq!(
            unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
            0
        );
        assert!(open_locked_shared(&path).unwrap().is_none());
        drop(f);
        assert!(open_locked_shared(&path).unwrap().is_some());
        std::fs::remove_file(&path).unwrap();
        assert!(open_locked_shared(&path).is_err());
    }

    #[test]
    fn open_cloexec_sets_close_on_exec_and_passes_errors_on() {
        let fd = open_cloexec(std::path::Path::new("/proc/self/status"), libc::O_RDONLY).unwrap();
        let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        let e = open_cloexec(std::path::Path::new("/nonexistent/x"), libc::O_RDONLY).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        let e = open_cloexec(std::path::Path::new("a\0b"), libc::O_RDONLY).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    }

    #[test]
    fn a_mapped_file_reads_as_its_bytes() {
        let dir = std::env::temp_dir().join(format!("mapped-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data");
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let m = Mapped::open(&path).unwrap();
        assert_eq!(m.as_ref(), bytes.as_slice());
        // Replaced by a rename, as hwdb updates are: the mapping keeps the old contents.
        std::fs::write(dir.join("new"), b"other").unwrap();
        std::fs::rename(dir.join("new"), &path).unwrap();
        assert_eq!(m.as_ref(), bytes.as_slice());
        assert_eq!(Mapped::open(&path).unwrap().as_ref(), b"other");
        std::fs::write(&path, b"").unwrap();
        assert!(Mapped::open(&path).unwrap().as_ref().is_empty());
        assert!(Mapped::open(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn cloexec_toggles_and_memfd_holds_data() {
        let fd = memfd("test").unwrap();
        let raw = fd.as_raw_fd();
        let get = || unsafe { libc::fcntl(raw, libc::F_GETFD) } & libc::FD_CLOEXEC;
        assert_eq!(get(), libc::FD_CLOEXEC);
        set_cloexec(fd.as_fd(), false).unwrap();
        assert_eq!(get(), 0);
        set_cloexec(fd.as_fd(), true).unwrap();
        assert_eq!(get(), libc::FD_CLOEXEC);
        let mut f = std::fs::File::from(fd);
        f.write_all(b"state").unwrap();
        f.rewind().unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "state");
        assert!(!is_open(-1));
        let (soft, _) = crate::process::nofile_limit().unwrap();
        assert!(raise_nofile_to(soft).unwrap() >= soft);
        assert!(adopt_inherited(1).is_err());
        assert!(adopt_inherited(1_000_000).is_err());
    }

    #[test]
    fn small_reads_and_real_directory_paths() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let big: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(p.join("big"), &big).unwrap();
        std::fs::write(p.join("small"), b"0x3F8\n").unwrap();
        std::os::unix::fs::symlink("small", p.join("link")).unwrap();
        std::fs::create_dir(p.join("d")).unwrap();
        std::os::unix::fs::symlink("d", p.join("dlink")).unwrap();
        assert_eq!(read_small(&p.join("big"), false).unwrap(), big);
        assert_eq!(read_small(&p.join("small"), false).unwrap(), b"0x3F8\n");
        assert_eq!(read_small(&p.join("link"), true).unwrap(), b"0x3F8\n");
        let e = read_small(&p.join("link"), false).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
        let e = read_small(&p.join("d"), false).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EISDIR));
        let real = std::fs::canonicalize(p).unwrap();
        assert_eq!(real_dir_path(&p.join("dlink")).unwrap(), real.join("d"));
        assert_eq!(
            real_dir_path(&p.join("d/../dlink")).unwrap(),
            real.join("d")
        );
        let e = real_dir_path(&p.join("small")).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTDIR));
    }
}
