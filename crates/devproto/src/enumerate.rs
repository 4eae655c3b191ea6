//! Devices with a tag, as sd-device's enumerator finds them: the names in
//! `/run/udev/tags/<tag>/` are device ids, resolved to sysfs paths through `/sys`, and each
//! device's kernel properties (its `uevent` file) and database entry are read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A device found by [`tagged`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// `/sys/devices/...`.
    pub syspath: String,
    /// The kernel's properties (its `uevent` file: `DEVNAME` made absolute, `MAJOR`, ...)
    /// and, over them, the database's.
    pub properties: BTreeMap<String, String>,
    /// The database entry.
    pub entry: crate::db::Entry,
}

/// The `KEY=VALUE` lines of a sysfs `uevent` file, `DEVNAME` made absolute.
fn uevent_file(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = if k == "DEVNAME" && !v.starts_with('/') {
                format!("/dev/{v}")
            } else {
                v.to_string()
            };
            (k.to_string(), v)
        })
        .collect()
}

/// The sysfs path of a device id (`b8:0`, `c1:3`, `n2`, `+pci:0000:00:01.0`) below `sys`,
/// in udev's namespace (`/sys/devices/...`), when the device exists.
pub fn syspath_of(sys: &Path, id: &str) -> Option<String> {
    let dir: PathBuf = if let Some(rest) = id.strip_prefix('b') {
        sys.join("dev/block").join(rest)
    } else if let Some(rest) = id.strip_prefix('c') {
        sys.join("dev/char").join(rest)
    } else if let Some(ifindex) = id.strip_prefix('n') {
        let net = sys.join("class/net");
        std::fs::read_dir(&net).ok()?.flatten().find_map(|e| {
            let p = e.path();
            let index = std::fs::read_to_string(p.join("ifindex")).ok()?;
            (index.trim() == ifindex).then_some(p)
        })?
    } else if let Some(rest) = id.strip_prefix('+') {
        let (subsystem, sysname) = rest.split_once(':')?;
        let sysname = sysname.replace('/', "!");
        [
            sys.join("bus")
                .join(subsystem)
                .join("devices")
                .join(&sysname),
            sys.join("class").join(subsystem).join(&sysname),
        ]
        .into_iter()
        .find(|p| p.exists())?
    } else {
        return None;
    };
    let real = std::fs::canonicalize(dir).ok()?;
    let root = std::fs::canonicalize(sys).ok()?;
    let rel = real.strip_prefix(&root).ok()?;
    Some(format!("/sys/{}", rel.to_string_lossy()))
}

/// Every existing device tagged `tag` in udev's runtime directory `run` (`/run/udev`),
/// with its database entry, resolved against `/sys`.
pub fn tagged(run: &Path, tag: &str) -> Vec<Found> {
    tagged_in(run, Path::new("/sys"), tag)
}

/// [`tagged`] against a sysfs tree rooted at `sys`.
pub fn tagged_in(run: &Path, sys: &Path, tag: &str) -> Vec<Found> {
    let Ok(dir) = std::fs::read_dir(run.join("tags").join(tag)) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = dir
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    ids.into_iter()
        .filter_map(|id| {
            let syspath = syspath_of(sys, &id)?;
            let dir = sys.join(syspath.trim_start_matches("/sys/"));
            let mut properties =
                uevent_file(&std::fs::read_to_string(dir.join("uevent")).unwrap_or_default());
            let entry = crate::db::read(run, &id).ok().flatten().unwrap_or_default();
            properties.extend(entry.properties.clone());
            Some(Found {
                syspath,
                properties,
                entry,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn tagged_devices_resolve_through_sysfs() {
        let t = tempfile::tempdir().unwrap();
        let sys = t.path().join("sys");
        let run = t.path().join("run");
        let disk = sys.join("devices/pci0000:00/0000:00:04.0/virtio1/block/vda");
        let net = sys.join("devices/virtual/net/d0");
        std::fs::create_dir_all(&disk).unwrap();
        std::fs::create_dir_all(&net).unwrap();
        std::fs::write(
            disk.join("uevent"),
            "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n",
        )
        .unwrap();
        std::fs::write(net.join("ifindex"), "7\n").unwrap();
        std::fs::create_dir_all(sys.join("dev/block")).unwrap();
        std::fs::create_dir_all(sys.join("class/net")).unwrap();
        symlink(
            "../../devices/pci0000:00/0000:00:04.0/virtio1/block/vda",
            sys.join("dev/block/254:0"),
        )
        .unwrap();
        symlink("../../devices/virtual/net/d0", sys.join("class/net/d0")).unwrap();
        std::fs::create_dir_all(run.join("tags/systemd")).unwrap();
        std::fs::create_dir_all(run.join("data")).unwrap();
        for id in ["b254:0", "n7", "b8:0"] {
            std::fs::write(run.join("tags/systemd").join(id), "").unwrap();
        }
        std::fs::write(
            run.join("data/b254:0"),
            "S:disk/by-uuid/abc\nI:123\nE:ID_FS_UUID=abc\nG:systemd\nQ:systemd\nV:1\n",
        )
        .unwrap();
        let found = tagged_in(&run, &sys, "systemd");
        let paths: Vec<&str> = found.iter().map(|f| f.syspath.as_str()).collect();
        // b8:0 has no device: left out.
        assert_eq!(
            paths,
            vec![
                "/sys/devices/pci0000:00/0000:00:04.0/virtio1/block/vda",
                "/sys/devices/virtual/net/d0"
            ]
        );
        let vda = &found[0];
        assert_eq!(
            vda.entry.devlinks.iter().collect::<Vec<_>>(),
            vec!["/dev/disk/by-uuid/abc"]
        );
        let prop = |k: &str| vda.properties.get(k).map(String::as_str);
        assert_eq!(prop("ID_FS_UUID"), Some("abc"));
        // The kernel's properties come from the uevent file.
        assert_eq!(prop("DEVNAME"), Some("/dev/vda"));
        assert!(vda.entry.current_tags.contains("systemd"));
    }
}
