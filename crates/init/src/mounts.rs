//! PID 1's file systems: the API file systems mounted at boot where missing, and at the
//! end every file system unmounted (innermost first) or, when busy, remounted read-only.

use crate::say;
use std::path::{Path, PathBuf};
use sys::mount::{self, MountInfo, NODEV, NOEXEC, NOSUID};

/// Mounts `fstype` on `path` unless something is mounted there already.
pub fn mount_missing(fstype: &str, path: &str, flags: u64, data: &str) {
    let path = Path::new(path);
    if !path.exists() {
        if let Err(e) = std::fs::create_dir(path) {
            return say!("cannot create {}: {e}", path.display());
        }
    }
    match mount::is_mount_point(path) {
        Ok(false) => match mount::mount(fstype, path, fstype, flags, data) {
            Ok(()) => say!("mounted {fstype} on {}", path.display()),
            Err(e) => say!("cannot mount {fstype} on {}: {e}", path.display()),
        },
        Ok(true) => {}
        Err(e) => say!("cannot check {}: {e}", path.display()),
    }
}

/// `/proc` comes first and on its own: the settings and the container check need it.
pub fn mount_proc() {
    mount_missing("proc", "/proc", NOSUID | NODEV | NOEXEC, "");
}

/// The rest of the API file systems of a machine boot.
pub fn early_mounts() {
    mount_missing("sysfs", "/sys", NOSUID | NODEV | NOEXEC, "");
    mount_missing("devtmpfs", "/dev", NOSUID, "mode=755");
    mount_missing("tmpfs", "/run", NOSUID | NODEV, "mode=755");
    // sysfs provides the directory when the kernel has cgroups; without it there is
    // nothing to mount.
    if Path::new("/sys/fs/cgroup").is_dir() {
        mount_missing("cgroup2", "/sys/fs/cgroup", NOSUID | NODEV | NOEXEC, "");
    }
}

/// The kernel's file systems stay: unmounting them would only make the rest harder.
fn is_api(p: &Path) -> bool {
    ["/proc", "/sys", "/dev"].iter().any(|a| p.starts_with(a)) || p == Path::new("/run")
}

/// What to try to unmount, innermost (latest mounted) first: all but `/` and the API file
/// systems.
pub fn unmount_order(mounts: &[MountInfo]) -> Vec<PathBuf> {
    let root = Path::new("/");
    mounts
        .iter()
        .rev()
        .map(|m| m.mount_point.clone())
        .filter(|p| p != root && !is_api(p))
        .collect()
}

/// Unmounts what it can (a few passes: an outer mount is busy until its inner ones are
/// gone) and remounts the rest read-only, `/` included.
pub fn finish_file_systems() {
    for _ in 0..4 {
        let Ok(table) = mount::mounts() else { break };
        let done = unmount_order(&table)
            .iter()
            .filter(|p| mount::unmount(p).is_ok())
            .count();
        if done == 0 {
            break;
        }
        say!("unmounted {done} file systems");
    }
    let table = mount::mounts().unwrap_or_default();
    let (mut ok, mut failed) = (0, 0);
    for m in table
        .iter()
        .rev()
        .filter(|m| !m.read_only && !is_api(&m.mount_point))
    {
        match mount::remount_read_only(&m.mount_point) {
            Ok(()) => ok += 1,
            Err(e) => {
                failed += 1;
                say!("cannot remount {} read-only: {e}", m.mount_point.display());
            }
        }
    }
    say!("remounted {ok} file systems read-only, {failed} failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn innermost_first_without_root_and_api_file_systems() {
        let m = |p: &str| MountInfo {
            mount_point: PathBuf::from(p),
            fs_type: "x".into(),
            read_only: false,
        };
        let table = [
            m("/"),
            m("/proc"),
            m("/sys"),
            m("/sys/fs/cgroup"),
            m("/dev"),
            m("/dev/pts"),
            m("/run"),
            m("/run/user/0"),
            m("/home"),
            m("/home/a"),
            m("/procfs-not-api"),
        ];
        let order: Vec<_> = unmount_order(&table);
        let want: Vec<PathBuf> = ["/procfs-not-api", "/home/a", "/home", "/run/user/0"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(order, want);
    }
}
