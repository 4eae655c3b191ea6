//! [`System`] over the real file system (or a tree rooted elsewhere, for tests and the
//! rule runner): the paths builtins ask for are read below `root`.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use super::System;

/// Reads below a root directory (`/` for the real system).
#[derive(Debug, Clone)]
pub struct RealSystem {
    root: PathBuf,
}

impl Default for RealSystem {
    fn default() -> Self {
        RealSystem::new("/")
    }
}

impl RealSystem {
    /// Reads paths below `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RealSystem { root: root.into() }
    }

    fn host(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }
}

/// The most a builtin reads of one file at once (the largest is hwdb.bin, ~13 MiB).
const READ_LIMIT: u64 = 64 << 20;

impl System for RealSystem {
    fn btrfs_ready(&self, devnode: &str) -> std::io::Result<bool> {
        let node = self.host(devnode);
        sys::btrfs::devices_ready(&self.host("/dev/btrfs-control"), &node.to_string_lossy())
    }

    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let mut bytes = Vec::new();
        std::fs::File::open(self.host(path))
            .ok()?
            .take(READ_LIMIT)
            .read_to_end(&mut bytes)
            .ok()?;
        Some(bytes)
    }

    fn map(&self, path: &str) -> Option<super::Bytes> {
        sys::fd::Mapped::open(&self.host(path))
            .ok()
            .map(super::Bytes::Mapped)
    }

    fn read_dir(&self, path: &str) -> Option<Vec<String>> {
        let mut names: Vec<String> = std::fs::read_dir(self.host(path))
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Some(names)
    }

    fn read_at(&self, path: &str, offset: u64, len: usize) -> Option<Vec<u8>> {
        let mut f = std::fs::File::open(self.host(path)).ok()?;
        f.seek(SeekFrom::Start(offset)).ok()?;
        let mut bytes = Vec::new();
        f.take(u64::try_from(len).ok()?)
            .read_to_end(&mut bytes)
            .ok()?;
        Some(bytes)
    }

    fn canonical_path(&self, path: &str) -> Option<String> {
        let real = std::fs::canonicalize(self.host(path)).ok()?;
        let root = std::fs::canonicalize(&self.root).ok()?;
        let rel = real.strip_prefix(&root).ok()?;
        Some(format!("/{}", rel.to_string_lossy()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_below_the_root() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("sys/a")).unwrap();
        std::fs::write(t.path().join("sys/a/attr"), b"0123456789").unwrap();
        std::os::unix::fs::symlink("a", t.path().join("sys/link")).unwrap();
        let s = RealSystem::new(t.path());
        assert_eq!(s.read("/sys/a/attr").unwrap(), b"0123456789");
        assert_eq!(s.read_at("/sys/a/attr", 3, 4).unwrap(), b"3456");
        assert_eq!(s.read_at("/sys/a/attr", 8, 10).unwrap(), b"89");
        assert_eq!(s.read_dir("/sys").unwrap(), vec!["a", "link"]);
        assert_eq!(s.canonical_path("/sys/link/attr").unwrap(), "/sys/a/attr");
        assert!(s.read("/sys/missing").is_none());
    }
}
