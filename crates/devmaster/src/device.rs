//! A device as sd-device (systemd 252) reads it from sysfs: the I/O edge of rule processing.
//!
//! The sysfs tree is rooted at a configurable directory ([`SysfsTree::new`]; `/sys` on a real
//! system, a temporary directory in tests). Paths the rules see stay in udev's namespace
//! (`/sys/devices/...`); [`SysfsTree::host_path`] maps them into the tree.
//!
//! What is read, as sd-device does:
//! - devpath: the canonical path below the root (a `/sys/class/...` symlink is resolved);
//! - sysname: the last devpath element with `!` turned into `/`; sysnum: its trailing digits
//!   (never the whole name);
//! - subsystem and driver: the last element of the `subsystem` / `driver` symlink targets;
//! - the `uevent` file's `KEY=VALUE` lines as properties (`DEVNAME` made absolute under
//!   `/dev`), `MAJOR`/`MINOR` as the device number, plus `DEVPATH`, `SUBSYSTEM`, `DRIVER`;
//! - the parent: the nearest ancestor directory below the root holding a `uevent` file (or,
//!   outside `/devices`, a `subsystem` link), found when first asked for; of an ancestor,
//!   the subsystem, driver and `uevent` file are each read when first asked for, so a walk
//!   over `ATTRS` or `SUBSYSTEMS` reads no more than it looks at;
//! - attributes: a regular readable file with trailing newlines removed; the symlinks
//!   `driver`, `subsystem` and `module` read as the last element of their target; any other
//!   symlink or a directory is no value.
//!
//! The event's own properties (`ACTION`, `SEQNUM`, ...) are given by the caller and win over
//! the `uevent` file.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::rules::subst;

/// A sysfs tree rooted at a directory.
#[derive(Debug, Clone)]
pub struct SysfsTree {
    root: PathBuf,
    /// `root` resolved, once.
    real_root: std::cell::OnceCell<Option<PathBuf>>,
}

/// A directory's canonical path: one `open` and one `readlink` where `/proc` is mounted,
/// a `readlink` per component otherwise. Every event reads its device this way, so the
/// number of syscalls counts (under QEMU a coldplug is mostly syscalls).
fn real_dir(path: &Path) -> Option<PathBuf> {
    match sys::fd::real_dir_path(path) {
        Ok(p) => Some(p),
        Err(e) if e.raw_os_error() == Some(20) => None, // ENOTDIR
        Err(_) => fs::canonicalize(path).ok().filter(|p| p.is_dir()),
    }
}

/// A small sysfs file's text (see [`sys::fd::read_small`]).
fn read_text(path: &Path, follow: bool) -> Option<String> {
    let bytes = sys::fd::read_small(path, follow).ok()?;
    Some(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// The last devpath element with `!` turned into `/`.
fn sysname_of(devpath: &str) -> String {
    devpath
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .replace('!', "/")
}

fn link_last(path: &Path) -> Option<String> {
    let target = fs::read_link(path).ok()?;
    target.file_name().map(|n| n.to_string_lossy().into_owned())
}

impl SysfsTree {
    /// The tree under `root` (`/sys` on a real system).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SysfsTree {
            root: root.into(),
            real_root: std::cell::OnceCell::new(),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Maps a path in udev's namespace (`/sys/...`) into the tree; other paths unchanged.
    pub fn host_path(&self, path: &str) -> PathBuf {
        match path.strip_prefix("/sys") {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                self.root.join(rest.trim_start_matches('/'))
            }
            _ => PathBuf::from(path),
        }
    }

    /// Reads the device at `devpath` (`/devices/...` or a symlink such as `/class/net/lo`)
    /// with its parents. `None` when it is not a directory below the root.
    pub fn device(&self, devpath: &str) -> Option<Device> {
        let root = self.real_root()?;
        let dir = real_dir(&self.root.join(devpath.trim_start_matches('/')))?;
        let rel = dir.strip_prefix(&root).ok()?;
        let devpath = format!("/{}", rel.to_string_lossy());
        if devpath == "/" {
            return None;
        }
        Some(SysfsTree::read_at(&root, &devpath))
    }

    fn real_root(&self) -> Option<PathBuf> {
        self.real_root
            .get_or_init(|| {
                // A worker makes a tree per event, always over the same root: resolve it
                // once per process.
                static LAST: std::sync::Mutex<Option<(PathBuf, PathBuf)>> =
                    std::sync::Mutex::new(None);
                let mut last = LAST.lock().ok()?;
                if let Some((root, real)) = last.as_ref() {
                    if *root == self.root {
                        return Some(real.clone());
                    }
                }
                let real = real_dir(&self.root)?;
                *last = Some((self.root.clone(), real.clone()));
                Some(real)
            })
            .clone()
    }

    /// The device of a kernel event: `devpath` and the uevent's properties (`ACTION`,
    /// `SUBSYSTEM`, `DEVNAME`, ...), with what sysfs still has. Works when the directory is
    /// gone (a "remove" event): then only the properties and the ancestors that still exist
    /// are known. `None` for a devpath that is not absolute or leaves the tree.
    pub fn event_device<K: Into<String>, V: Into<String>>(
        &self,
        devpath: &str,
        props: impl IntoIterator<Item = (K, V)>,
    ) -> Option<Device> {
        if !devpath.starts_with('/') || devpath.split('/').any(|c| c == "..") || devpath == "/" {
            return None;
        }
        let props: Vec<(String, String)> = props
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        // A kernel uevent carries what the device's `uevent` file and `subsystem` link say
        // (the kernel writes both from the same variables), so, as sd-device does for a
        // device made from a uevent, sysfs is not read for them. An unbound device's
        // `driver` link is read only when asked for (the device may have been bound
        // since); the engine then adds `DRIVER` to the properties, as sd-device does.
        // The devpath of a kernel event is canonical.
        if devpath.starts_with("/devices/") && props.iter().any(|(k, _)| k == "SUBSYSTEM") {
            let root = self.real_root()?;
            let devpath = devpath.trim_end_matches('/');
            let dir = root.join(devpath.trim_start_matches('/'));
            let mut properties = BTreeMap::new();
            properties.insert("DEVPATH".to_string(), devpath.to_string());
            let dev = Device {
                dir,
                devpath: devpath.to_string(),
                sysname: sysname_of(devpath),
                subsystem: OnceCell::from(None),
                driver: OnceCell::new(),
                properties: OnceCell::from(properties),
                root: std::sync::Arc::from(root.as_path()),
                parent: OnceCell::new(),
            };
            return Some(dev.with_event_properties(props));
        }
        let dev = match self.device(devpath) {
            Some(d) => d,
            None => {
                let root = self.real_root()?;
                SysfsTree::read_at(&root, devpath.trim_end_matches('/'))
            }
        };
        Some(dev.with_event_properties(props))
    }

    /// The device `subsystem`/`sysname` (udev's `[subsystem/sysname]` form): looked up under
    /// `class/`, `bus/*/devices/`, and for `module` under `module/`.
    pub fn find(&self, subsystem: &str, sysname: &str) -> Option<Device> {
        if sysname.contains('/') || subsystem.contains('/') {
            return None;
        }
        let name = sysname.replace('/', "!");
        let candidates = [
            format!("/class/{subsystem}/{name}"),
            format!("/bus/{subsystem}/devices/{name}"),
            format!("/{subsystem}/{name}"),
        ];
        candidates.iter().find_map(|c| self.device(c))
    }

    /// The device at `devpath`, read now (its parent when first asked for).
    fn read_at(root: &Path, devpath: &str) -> Device {
        let d = SysfsTree::lazy_at(std::sync::Arc::from(root), devpath);
        d.properties();
        d
    }

    /// The device at `devpath`, nothing of it read yet.
    fn lazy_at(root: std::sync::Arc<Path>, devpath: &str) -> Device {
        Device {
            dir: root.join(devpath.trim_start_matches('/')),
            devpath: devpath.to_string(),
            sysname: sysname_of(devpath),
            subsystem: OnceCell::new(),
            driver: OnceCell::new(),
            properties: OnceCell::new(),
            root,
            parent: OnceCell::new(),
        }
    }
}

/// The parent of the device at `devpath`: the nearest ancestor that is a device (has a
/// `uevent` file or a `subsystem` link), found when first asked for, as sd-device does.
fn read_parent(root: &std::sync::Arc<Path>, devpath: &str) -> Option<Box<Device>> {
    let mut up = devpath;
    while let Some((head, _)) = up.rsplit_once('/') {
        if head.is_empty() {
            return None;
        }
        // As sd-device: below /sys/devices only a directory with a `uevent` file is a
        // device (/sys/devices itself never is); elsewhere (/sys/module, ...) one with a
        // `subsystem` link also is. Whether the file is there is all that is asked here:
        // reading it makes the kernel build the device's whole environment.
        if head == "/devices" {
            return None;
        }
        let d = root.join(head.trim_start_matches('/'));
        if fs::symlink_metadata(d.join("uevent")).is_ok()
            || (!head.starts_with("/devices/") && d.join("subsystem").exists())
        {
            return Some(Box::new(SysfsTree::lazy_at(root.clone(), head)));
        }
        up = head;
    }
    None
}

/// One device read from sysfs.
#[derive(Debug, Clone)]
pub struct Device {
    dir: PathBuf,
    devpath: String,
    sysname: String,
    /// Each read when first asked for (set at once for a device made from a uevent).
    subsystem: OnceCell<Option<String>>,
    driver: OnceCell<Option<String>>,
    properties: OnceCell<BTreeMap<String, String>>,
    /// The tree's resolved root, to read the parent from.
    root: std::sync::Arc<Path>,
    /// Read when first asked for: most events' rules never look at most ancestors.
    parent: OnceCell<Option<Box<Device>>>,
}

impl Device {
    /// Adds the event's properties (`ACTION`, `SEQNUM`, ...); they win over the `uevent`
    /// file's (`SUBSYSTEM` and `DRIVER` also set the subsystem and driver, as sd-device does
    /// for a device made from a uevent). A relative `DEVNAME` (as the kernel sends it) is
    /// made absolute under `/dev`.
    pub fn with_event_properties<K: Into<String>, V: Into<String>>(
        mut self,
        props: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.properties();
        let mut properties = self.properties.take().unwrap_or_default();
        for (k, v) in props {
            let (k, mut v) = (k.into(), v.into());
            match k.as_str() {
                "DEVNAME" if !v.starts_with('/') => v = format!("/dev/{v}"),
                "SUBSYSTEM" => self.subsystem = OnceCell::from(Some(v.clone())),
                "DRIVER" => self.driver = OnceCell::from(Some(v.clone())),
                _ => {}
            }
            properties.insert(k, v);
        }
        self.properties = OnceCell::from(properties);
        self
    }

    /// Subsystem (last element of the `subsystem` link).
    pub fn subsystem(&self) -> Option<&str> {
        self.subsystem
            .get_or_init(|| link_last(&self.dir.join("subsystem")))
            .as_deref()
    }

    fn driver_name(&self) -> Option<&str> {
        self.driver
            .get_or_init(|| link_last(&self.dir.join("driver")))
            .as_deref()
    }

    /// `DEVTYPE` of the uevent.
    pub fn devtype(&self) -> Option<&str> {
        self.properties().get("DEVTYPE").map(String::as_str)
    }

    /// `/sys` + devpath, in udev's namespace.
    pub fn syspath(&self) -> String {
        format!("/sys{}", self.devpath)
    }

    /// All properties: the `uevent` file's (`DEVNAME` absolute), `DEVPATH`, and
    /// `SUBSYSTEM` and `DRIVER` where there are such links.
    pub fn properties(&self) -> &BTreeMap<String, String> {
        self.properties.get_or_init(|| {
            let mut uevent = BTreeMap::new();
            if let Some(text) = read_text(&self.dir.join("uevent"), true) {
                for line in text.lines() {
                    if let Some((k, v)) = line.split_once('=') {
                        if !k.is_empty() {
                            uevent.insert(k.to_string(), v.to_string());
                        }
                    }
                }
            }
            if let Some(name) = uevent.get_mut("DEVNAME") {
                if !name.starts_with('/') {
                    *name = format!("/dev/{name}");
                }
            }
            uevent.insert("DEVPATH".to_string(), self.devpath.clone());
            if let Some(s) = self.subsystem() {
                uevent.insert("SUBSYSTEM".to_string(), s.to_string());
            }
            // The kernel writes DRIVER into the uevent file of a bound device as it reads
            // it: the file says whether there is a driver, no link to read for that.
            match uevent.get("DRIVER") {
                Some(d) => {
                    let _ = self.driver.set(Some(d.clone()));
                }
                None => {
                    if let Some(d) = self.driver.get().cloned().flatten() {
                        uevent.insert("DRIVER".to_string(), d);
                    } else {
                        let _ = self.driver.set(None);
                    }
                }
            }
            uevent
        })
    }

    /// The parent device.
    pub fn parent_device(&self) -> Option<&Device> {
        self.parent
            .get_or_init(|| read_parent(&self.root, &self.devpath))
            .as_deref()
    }

    /// This device without what was read of its ancestors (they are read again when
    /// asked for): for a holder that keeps its own chain of parents.
    pub fn without_parent(&self) -> Device {
        Device {
            dir: self.dir.clone(),
            devpath: self.devpath.clone(),
            sysname: self.sysname.clone(),
            subsystem: self.subsystem.clone(),
            driver: self.driver.clone(),
            properties: self.properties.clone(),
            root: self.root.clone(),
            parent: OnceCell::new(),
        }
    }
}

impl subst::Device for Device {
    fn sysname(&self) -> String {
        self.sysname.clone()
    }
    fn sysnum(&self) -> Option<String> {
        let digits = self
            .sysname
            .bytes()
            .rev()
            .take_while(u8::is_ascii_digit)
            .count();
        // sd-device never takes the first character as the number.
        let digits = digits.min(self.sysname.len().saturating_sub(1));
        (digits > 0).then(|| {
            self.sysname
                .get(self.sysname.len() - digits..)
                .unwrap_or_default()
                .to_string()
        })
    }
    fn devpath(&self) -> String {
        self.devpath.clone()
    }
    fn subsystem(&self) -> Option<String> {
        Device::subsystem(self).map(str::to_string)
    }
    fn driver(&self) -> Option<String> {
        self.driver_name().map(str::to_string)
    }
    fn devnode(&self) -> Option<String> {
        self.properties().get("DEVNAME").cloned()
    }
    fn devnum(&self) -> Option<(u32, u32)> {
        let major = self.properties().get("MAJOR")?.parse().ok()?;
        let minor = self.properties().get("MINOR")?.parse().ok()?;
        Some((major, minor))
    }
    fn property(&self, key: &str) -> Option<String> {
        self.properties().get(key).cloned()
    }
    fn sysattr(&self, attr: &str) -> Option<String> {
        if attr.is_empty() || attr.split('/').any(|c| c == "..") {
            return None;
        }
        let path = self.dir.join(attr);
        // A link is no value, except these three (their target's last element); a
        // directory neither (reading it fails). Two syscalls fewer than lstat + read.
        if attr == "subsystem" {
            // Kept with the device (the parent walk of SUBSYSTEMS asks for it a lot).
            return self.subsystem().map(str::to_string);
        }
        if matches!(attr, "driver" | "module") {
            if let Some(last) = link_last(&path) {
                return Some(last);
            }
        }
        let mut s = read_text(&path, false)?;
        while s.ends_with(['\n', '\r']) {
            s.pop();
        }
        Some(s)
    }
    fn parent(&self) -> Option<&dyn subst::Device> {
        self.parent_device().map(|p| p as &dyn subst::Device)
    }
    fn devlinks(&self) -> Vec<String> {
        Vec::new()
    }
    fn properties(&self) -> BTreeMap<String, String> {
        Device::properties(self).clone()
    }
}

impl subst::Sysfs for SysfsTree {
    fn subsystem_sysattr(&self, subsystem: &str, sysname: &str, attr: &str) -> Option<String> {
        subst::Device::sysattr(&self.find(subsystem, sysname)?, attr)
    }
}

#[cfg(test)]
#[path = "device_tests.rs"]
mod tests;
