//! A private mount namespace and the few file-system calls std lacks that devmaster's
//! worker and its rule runner need: `unshare(CLONE_NEWNS)` with `/` made private
//! recursively (so nothing mounted afterwards propagates back), bind mounts, `mknod(2)`
//! (devtmpfs's job in the rule runner) and `flock(2)` (udev's lock on a link's claim
//! directory, shared with concurrent workers).

use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn cpath(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn check(r: libc::c_int) -> io::Result<()> {
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Moves this process into a new mount namespace and makes every mount in it private, so
/// that later mounts are seen by nobody else (systemd's `detach_mount_namespace`).
pub fn detach_mount_namespace() -> io::Result<()> {
    // SAFETY: unshare takes flags only.
    check(unsafe { libc::unshare(libc::CLONE_NEWNS) })?;
    let root = cpath(Path::new("/"))?;
    // SAFETY: root is a valid NUL-terminated string; null source, type and data are allowed
    // for a propagation change.
    check(unsafe {
        libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    })
}

/// Bind-mounts `source` on `target`.
pub fn bind_mount(source: &Path, target: &Path) -> io::Result<()> {
    let (s, t) = (cpath(source)?, cpath(target)?);
    // SAFETY: both are valid NUL-terminated strings; a bind mount ignores type and data.
    check(unsafe {
        libc::mount(
            s.as_ptr(),
            t.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND,
            std::ptr::null(),
        )
    })
}

/// The kind of node [`mknod`] creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// `S_IFBLK`.
    Block,
    /// `S_IFCHR`.
    Char,
}

/// Creates a device node with permission bits `mode` (the umask applies).
pub fn mknod(path: &Path, kind: NodeKind, mode: u32, major: u32, minor: u32) -> io::Result<()> {
    let p = cpath(path)?;
    let ty = match kind {
        NodeKind::Block => libc::S_IFBLK,
        NodeKind::Char => libc::S_IFCHR,
    };
    let dev = libc::makedev(major, minor);
    // SAFETY: p is a valid NUL-terminated string; mode and dev are plain integers.
    check(unsafe { libc::mknod(p.as_ptr(), ty | (mode & 0o7777), dev) })
}

/// Takes an exclusive `flock(2)` lock on an open file, waiting for it; it is released when
/// the file is closed.
pub fn lock_exclusive(file: &std::fs::File) -> io::Result<()> {
    loop {
        // SAFETY: flock on a descriptor the borrowed File keeps open.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        match check(r) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("sys-ns-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn lock_is_exclusive_between_open_files() {
        let dir = scratch("lock");
        let p = dir.join(".lock");
        let a = std::fs::File::create(&p).unwrap();
        lock_exclusive(&a).unwrap();
        let b = std::fs::File::open(&p).unwrap();
        // SAFETY: test-only probe with LOCK_NB on a descriptor b keeps open.
        let r = unsafe { libc::flock(b.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_eq!(r, -1);
        drop(a);
        lock_exclusive(&b).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn mknod_makes_nodes_or_says_why() {
        let dir = scratch("mknod");
        let p = dir.join("null");
        match mknod(&p, NodeKind::Char, 0o600, 1, 3) {
            Ok(()) => {
                use std::os::unix::fs::{FileTypeExt, MetadataExt};
                let m = std::fs::symlink_metadata(&p).unwrap();
                assert!(m.file_type().is_char_device());
                assert_eq!(m.rdev(), libc::makedev(1, 3));
            }
            // Without CAP_MKNOD (unprivileged test runs) the kernel refuses.
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EPERM)),
        }
        assert!(mknod(&p, NodeKind::Char, 0o600, 1, 3).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
