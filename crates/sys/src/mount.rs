//! Mounting for PID 1: `mount(2)`, `umount2(2)`, read-only remounts, whether a directory is
//! a mount point, and the mount table of `/proc/self/mountinfo` (proc(5)), parsed with its
//! octal escapes.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub const NOSUID: u64 = libc::MS_NOSUID;
pub const NODEV: u64 = libc::MS_NODEV;
pub const NOEXEC: u64 = libc::MS_NOEXEC;

fn cstring(s: &[u8]) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `mount(source, target, fstype, flags, data)`.
pub fn mount(source: &str, target: &Path, fstype: &str, flags: u64, data: &str) -> io::Result<()> {
    let (source, fstype, data) = (
        cstring(source.as_bytes())?,
        cstring(fstype.as_bytes())?,
        cstring(data.as_bytes())?,
    );
    let target = cstring(target.as_os_str().as_bytes())?;
    // SAFETY: every pointer is a valid NUL-terminated string that outlives the call.
    let r = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags as libc::c_ulong,
            data.as_ptr().cast(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Unmounts `target` (no flags: a busy file system stays mounted and says `EBUSY`).
pub fn unmount(target: &Path) -> io::Result<()> {
    let target = cstring(target.as_os_str().as_bytes())?;
    // SAFETY: target is a valid NUL-terminated string.
    if unsafe { libc::umount2(target.as_ptr(), 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Remounts the file system at `target` read-only (its superblock, so every bind mount of
/// it becomes read-only too).
pub fn remount_read_only(target: &Path) -> io::Result<()> {
    let target = cstring(target.as_os_str().as_bytes())?;
    let flags = libc::MS_REMOUNT | libc::MS_RDONLY;
    // SAFETY: target is a valid NUL-terminated string; null source, type and data are
    // allowed for a remount.
    let r = unsafe {
        libc::mount(
            std::ptr::null(),
            target.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether something is mounted on `path`: its device differs from its parent's (or it is
/// `/`). Works before `/proc` exists; a bind mount of the parent's own file system is not
/// seen, which does not matter for the API file systems this is asked about.
pub fn is_mount_point(path: &Path) -> io::Result<bool> {
    let Some(parent) = path.parent() else {
        return Ok(true);
    };
    Ok(std::fs::metadata(path)?.dev() != std::fs::metadata(parent)?.dev())
}

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    pub mount_point: PathBuf,
    pub fs_type: String,
    pub read_only: bool,
}

/// The mount table of this process's mount namespace, in mount order.
pub fn mounts() -> io::Result<Vec<MountInfo>> {
    Ok(parse_mountinfo(&std::fs::read_to_string(
        "/proc/self/mountinfo",
    )?))
}

/// Parses mountinfo text; malformed lines are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mut fields = left.split(' ');
            let mount_point = unescape(fields.nth(4)?);
            let options = fields.next()?;
            let fs_type = unescape(right.split(' ').next()?);
            Some(MountInfo {
                mount_point: PathBuf::from(std::ffi::OsStr::from_bytes(&mount_point)),
                fs_type: String::from_utf8_lossy(&fs_type).into_owned(),
                read_only: options.split(',').any(|o| o == "ro"),
            })
        })
        .collect()
}

/// The kernel writes space, tab, newline and backslash in paths as `\ooo` octal escapes.
fn unescape(field: &str) -> Vec<u8> {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            let s = std::str::from_utf8(d).ok()?;
            u8::from_str_radix(s, 8).ok()
        });
        match (b, octal) {
            (b'\\', Some(value)) => {
                out.push(value);
                i += 4;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines_with_escapes_and_optional_fields() {
        let text = "\
22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
23 22 0:5 / /proc rw,nosuid,nodev,noexec,relatime shared:12 master:1 - proc proc rw
24 22 0:30 / /mnt/a\\040b ro,relatime - tmpfs tmpfs ro
garbage line
";
        let m = parse_mountinfo(text);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].mount_point, PathBuf::from("/"));
        assert_eq!(m[1].fs_type, "proc");
        assert_eq!(m[2].mount_point, PathBuf::from("/mnt/a b"));
        assert!(m[2].read_only && !m[1].read_only);
        assert_eq!(unescape("a\\134b\\1"), b"a\\b\\1");
    }

    #[test]
    fn this_process_sees_its_own_root_and_proc() {
        let m = mounts().unwrap();
        assert!(m.iter().any(|m| m.mount_point == Path::new("/")));
        assert!(is_mount_point(Path::new("/proc")).unwrap());
        assert!(is_mount_point(Path::new("/")).unwrap());
        assert!(!is_mount_point(Path::new("/etc")).unwrap());
    }
}
