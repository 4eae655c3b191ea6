//! `OPTIONS+="watch"`: device nodes the daemon watches with inotify. When a watched node
//! is closed after writing (a partitioning or mkfs tool finished), its content may have
//! changed, so the daemon makes the kernel send a "change" uevent by writing `change` to
//! the device's `uevent` file — for a whole disk, also to each partition's.
//!
//! The watches are kept as udevd 252 keeps them in `/run/udev/watch`: a symlink named
//! after the watch descriptor pointing to the device id, and one named after the device
//! id pointing to the descriptor; a restarted daemon moves that directory aside and
//! watches the devices again. Left out: udevd first asks the kernel to re-read a whole
//! disk's partition table (`BLKRRPART`), which makes the kernel send the events itself;
//! we always synthesise "change" for the disk and its partitions.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use sys::inotify::{Inotify, IN_CLOSE_WRITE};

use super::child::parse_uevent_file;

/// One watched device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub id: String,
    pub devpath: String,
    /// The whole disk's node, for retrying its locked events.
    pub whole_disk: Option<String>,
}

/// The watches of the daemon.
#[derive(Debug)]
pub struct Watches {
    dir: PathBuf,
    by_wd: BTreeMap<i32, Watched>,
    by_id: BTreeMap<String, i32>,
}

impl Watches {
    /// `run_dir/watch` holds the persisted watches.
    pub fn new(run_dir: &Path) -> Watches {
        Watches {
            dir: run_dir.join("watch"),
            by_wd: BTreeMap::new(),
            by_id: BTreeMap::new(),
        }
    }

    pub fn get(&self, wd: i32) -> Option<&Watched> {
        self.by_wd.get(&wd)
    }

    pub fn len(&self) -> usize {
        self.by_wd.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_wd.is_empty()
    }

    /// Watches `devnode` for the device `watched` (again, if it was watched already).
    pub fn begin(&mut self, ino: &Inotify, devnode: &Path, watched: Watched) -> io::Result<()> {
        self.end(ino, &watched.id);
        let wd = ino.add_watch(devnode, IN_CLOSE_WRITE)?;
        std::fs::create_dir_all(&self.dir)?;
        let by_wd = self.dir.join(wd.to_string());
        let by_id = self.dir.join(&watched.id);
        let _ = std::fs::remove_file(&by_wd);
        let _ = std::fs::remove_file(&by_id);
        std::os::unix::fs::symlink(&watched.id, &by_wd)?;
        std::os::unix::fs::symlink(wd.to_string(), &by_id)?;
        self.by_id.insert(watched.id.clone(), wd);
        self.by_wd.insert(wd, watched);
        Ok(())
    }

    /// Stops watching the device `id`, if it was.
    pub fn end(&mut self, ino: &Inotify, id: &str) {
        if let Some(wd) = self.by_id.get(id).copied() {
            let _ = ino.remove_watch(wd);
            self.forget(wd);
        }
    }

    /// The kernel dropped watch `wd` (`IN_IGNORED`: the node is gone).
    pub fn forget(&mut self, wd: i32) {
        if let Some(w) = self.by_wd.remove(&wd) {
            self.by_id.remove(&w.id);
            let _ = std::fs::remove_file(self.dir.join(&w.id));
        }
        let _ = std::fs::remove_file(self.dir.join(wd.to_string()));
    }

    /// Takes over the watches a previous daemon left in `run_dir/watch`, finding each
    /// device from its id (`b8:0` → `sys/dev/block/8:0`); returns how many were restored.
    pub fn restore(&mut self, ino: &Inotify, sys: &Path, dev: &Path) -> usize {
        let old = self.dir.with_file_name("watch.old");
        let _ = std::fs::remove_dir_all(&old);
        if std::fs::rename(&self.dir, &old).is_err() {
            return 0;
        }
        let mut ids = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&old) {
            for entry in rd.flatten() {
                let name = entry.file_name();
                if name.to_str().is_some_and(|n| n.parse::<i32>().is_ok()) {
                    if let Ok(target) = std::fs::read_link(entry.path()) {
                        ids.extend(target.to_str().map(String::from));
                    }
                }
            }
        }
        let _ = std::fs::remove_dir_all(&old);
        let mut restored = 0;
        for id in ids {
            let Some((devpath, props)) = device_of_id(sys, &id) else {
                continue;
            };
            let Some(devname) = props.get("DEVNAME") else {
                continue;
            };
            let event = crate::worker::Event {
                seqnum: 0,
                action: "change".into(),
                devpath: devpath.clone(),
                properties: props.clone(),
            };
            let watched = Watched {
                id,
                whole_disk: super::child::whole_disk(sys, &event),
                devpath,
            };
            let node = dev.join(devname.trim_start_matches("/dev/"));
            if self.begin(ino, &node, watched).is_ok() {
                restored += 1;
            }
        }
        restored
    }
}

/// The devpath and `uevent` properties (with SUBSYSTEM) of a device given by a `b`/`c`
/// device id.
fn device_of_id(sys: &Path, id: &str) -> Option<(String, BTreeMap<String, String>)> {
    let kind = match id.get(..1)? {
        "b" => "block",
        "c" => "char",
        _ => return None,
    };
    let link = sys.join("dev").join(kind).join(id.get(1..)?);
    let real = std::fs::canonicalize(link).ok()?;
    let sys_real = std::fs::canonicalize(sys).ok()?;
    let devpath = format!("/{}", real.strip_prefix(&sys_real).ok()?.display());
    let mut props = parse_uevent_file(&std::fs::read_to_string(real.join("uevent")).ok()?);
    if let Ok(s) = std::fs::read_link(real.join("subsystem")) {
        if let Some(name) = s.file_name().and_then(|n| n.to_str()) {
            props.insert("SUBSYSTEM".into(), name.to_string());
        }
    }
    Some((devpath, props))
}

/// Makes the kernel send "change" for the device at `devpath` and, for a whole disk
/// (not device-mapper), for each of its partitions. Returns the devpaths written to.
pub fn synthesize_change(sys: &Path, devpath: &str) -> Vec<String> {
    let dir = sys.join(devpath.trim_start_matches('/'));
    let mut done = Vec::new();
    let trigger = |d: &Path| {
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(d.join("uevent"))
            .and_then(|mut f| io::Write::write_all(&mut f, b"change"))
    };
    let props = std::fs::read_to_string(dir.join("uevent"))
        .map(|t| parse_uevent_file(&t))
        .unwrap_or_default();
    if trigger(&dir).is_ok() {
        done.push(devpath.to_string());
    }
    let name = super::queue::sysname(devpath);
    if props.get("DEVTYPE").map(String::as_str) != Some("disk") || name.starts_with("dm-") {
        return done;
    }
    let mut parts: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().join("partition").exists())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    for p in parts {
        if trigger(&dir.join(&p)).is_ok() {
            done.push(format!("{devpath}/{p}"));
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake sysfs with disk sda (8:0) and its partition sda1, and a /dev with sda.
    fn tree() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let sys = t.path().join("sys");
        let dev = t.path().join("dev");
        let run = t.path().join("run");
        let disk = sys.join("devices/pci/block/sda");
        std::fs::create_dir_all(disk.join("sda1")).unwrap();
        std::fs::create_dir_all(sys.join("class/block")).unwrap();
        std::fs::create_dir_all(sys.join("dev/block")).unwrap();
        std::fs::create_dir_all(&dev).unwrap();
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(
            disk.join("uevent"),
            "MAJOR=8\nMINOR=0\nDEVNAME=sda\nDEVTYPE=disk\n",
        )
        .unwrap();
        std::fs::write(
            disk.join("sda1/uevent"),
            "MAJOR=8\nMINOR=1\nDEVNAME=sda1\nDEVTYPE=partition\n",
        )
        .unwrap();
        std::fs::write(disk.join("sda1/partition"), "1\n").unwrap();
        std::os::unix::fs::symlink("../../class/block", disk.join("subsystem")).unwrap();
        std::os::unix::fs::symlink("../../devices/pci/block/sda", sys.join("dev/block/8:0"))
            .unwrap();
        std::fs::write(dev.join("sda"), "").unwrap();
        (t, sys, dev, run)
    }

    #[test]
    fn change_goes_to_the_disk_and_its_partitions() {
        let (_t, sys, _dev, _run) = tree();
        let done = synthesize_change(&sys, "/devices/pci/block/sda");
        assert_eq!(
            done,
            ["/devices/pci/block/sda", "/devices/pci/block/sda/sda1"]
        );
        let text = std::fs::read_to_string(sys.join("devices/pci/block/sda/uevent")).unwrap();
        assert_eq!(text, "change");
        // A partition alone gets its own change only.
        let done = synthesize_change(&sys, "/devices/pci/block/sda/sda1");
        assert_eq!(done, ["/devices/pci/block/sda/sda1"]);
        assert!(synthesize_change(&sys, "/devices/none").is_empty());
    }

    #[test]
    fn watches_are_persisted_like_udevd_and_restored() {
        let (_t, sys, dev, run) = tree();
        let ino = Inotify::new().unwrap();
        let mut w = Watches::new(&run);
        let watched = Watched {
            id: "b8:0".into(),
            devpath: "/devices/pci/block/sda".into(),
            whole_disk: Some("/dev/sda".into()),
        };
        w.begin(&ino, &dev.join("sda"), watched.clone()).unwrap();
        let wd = *w.by_id.get("b8:0").unwrap();
        assert_eq!(
            std::fs::read_link(run.join("watch").join(wd.to_string())).unwrap(),
            PathBuf::from("b8:0")
        );
        assert_eq!(
            std::fs::read_link(run.join("watch/b8:0")).unwrap(),
            PathBuf::from(wd.to_string())
        );
        std::fs::write(dev.join("sda"), "x").unwrap();
        let events = ino.read_events().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(w.get(events[0].wd), Some(&watched));

        // A new daemon (new inotify instance) takes the watches over.
        let ino2 = Inotify::new().unwrap();
        let mut w2 = Watches::new(&run);
        assert_eq!(w2.restore(&ino2, &sys, &dev), 1);
        assert_eq!(w2.len(), 1);
        std::fs::write(dev.join("sda"), "y").unwrap();
        let events = ino2.read_events().unwrap();
        assert_eq!(w2.get(events[0].wd), Some(&watched));
        assert!(!run.join("watch.old").exists());

        w2.end(&ino2, "b8:0");
        assert!(w2.is_empty());
        assert_eq!(std::fs::read_dir(run.join("watch")).unwrap().count(), 0);
    }
}
