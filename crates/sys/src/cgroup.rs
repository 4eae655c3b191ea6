//! cgroup v2 through cgroupfs: each unit's processes live in a group of their own, which
//! tells the manager when the last of them is gone (`cgroup.events`) and lets it kill them
//! all at once (`cgroup.kill`), forks and daemons included.

use std::fs;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// Where a cgroup2 hierarchy is mounted, from `/proc/self/mountinfo` (the unified
/// hierarchy at `/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on hybrid hosts).
pub fn find_cgroup2() -> Option<PathBuf> {
    let text = fs::read_to_string("/proc/self/mountinfo").ok()?;
    parse_cgroup2_mount(&text)
}

/// The mount point of the first cgroup2 line. A mountinfo line is
/// `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER`.
fn parse_cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split_ascii_whitespace().next()? != "cgroup2" {
            return None;
        }
        let mount_point = left.split_ascii_whitespace().nth(4)?;
        Some(PathBuf::from(unescape_octal(mount_point)))
    })
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some((before, after)) = rest.split_once('\\') {
        out.push_str(before);
        let code = after.get(..3).and_then(|d| u8::from_str_radix(d, 8).ok());
        match code {
            Some(c) => {
                out.push(char::from(c));
                rest = after.get(3..).unwrap_or("");
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One control group, by its directory in cgroupfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    path: PathBuf,
}

impl Cgroup {
    /// Creates the group (and missing parents) below `root`, e.g. `system.slice/a.service`.
    pub fn create(root: &Path, relative: &str) -> io::Result<Cgroup> {
        if relative.split('/').any(|c| c == ".." || c == ".") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bad cgroup path",
            ));
        }
        let path = root.join(relative.trim_start_matches('/'));
        fs::create_dir_all(&path)?;
        Ok(Cgroup { path })
    }

    /// A group that already exists (after a manager restart).
    pub fn open(path: PathBuf) -> Cgroup {
        Cgroup { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `cgroup.procs` opened for writing: a child writes `0` to it to join the group
    /// before exec (see `spawn::Plan::cgroup_procs`).
    pub fn procs_for_writing(&self) -> io::Result<OwnedFd> {
        let f = fs::OpenOptions::new()
            .write(true)
            .open(self.path.join("cgroup.procs"))?;
        Ok(f.into())
    }

    /// Moves a running process into the group.
    pub fn attach(&self, pid: u32) -> io::Result<()> {
        fs::OpenOptions::new()
            .write(true)
            .open(self.path.join("cgroup.procs"))?
            .write_all(pid.to_string().as_bytes())
    }

    /// The processes directly in the group.
    pub fn pids(&self) -> io::Result<Vec<u32>> {
        let text = fs::read_to_string(self.path.join("cgroup.procs"))?;
        Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
    }

    /// Whether any process is left in the group or below it (`populated` of
    /// `cgroup.events`, which the kernel also signals through poll/inotify).
    pub fn is_populated(&self) -> io::Result<bool> {
        let text = fs::read_to_string(self.path.join("cgroup.events"))?;
        Ok(text
            .lines()
            .filter_map(|l| l.split_once(' '))
            .any(|(k, v)| k == "populated" && v.trim() == "1"))
    }

    /// SIGKILLs every process of the group and its children. Uses `cgroup.kill` (Linux
    /// 5.14+); on older kernels kills the listed processes one by one, which a process
    /// forking at that instant can escape — the caller repeats until the group is empty.
    pub fn kill_all(&self) -> io::Result<()> {
        let kill = self.path.join("cgroup.kill");
        if kill.exists() {
            return fs::OpenOptions::new()
                .write(true)
                .open(kill)?
                .write_all(b"1");
        }
        self.signal_all(libc::SIGKILL)
    }

    /// Sends a signal to every process of the group (not its children groups).
    pub fn signal_all(&self, signal: i32) -> io::Result<()> {
        for pid in self.pids()? {
            // A process may be gone by now; that is what we want anyway.
            let _ = crate::process::kill(pid, signal);
        }
        Ok(())
    }

    /// Removes the group and its (empty) children groups.
    pub fn remove(&self) -> io::Result<()> {
        remove_tree(&self.path)
    }
}

fn remove_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            remove_tree(&entry.path())?;
        }
    }
    // cgroupfs directories hold only kernel files, which rmdir takes away with them.
    fs::remove_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cgroup2_mount() {
        let hybrid = "25 24 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
                      26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid shared:5 - cgroup2 cgroup2 rw\n";
        assert_eq!(
            parse_cgroup2_mount(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let escaped = "30 1 0:40 / /mnt/my\\040cg rw - cgroup2 none rw\n";
        assert_eq!(
            parse_cgroup2_mount(escaped),
            Some(PathBuf::from("/mnt/my cg"))
        );
        assert_eq!(
            parse_cgroup2_mount("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"),
            None
        );
    }
}
