//! The worker's [`Host`]: what the rules of one event reach of the system, as udevd 252
//! gives it. Paths the rules name in udev's namespace (`/sys/...`, `/dev/...`,
//! `/run/udev/...`) are mapped into the worker's [`Paths`]; everything else (`/proc`,
//! `/etc`, program files) is read where it is.
//!
//! - programs: [`spawn`] with the settings' timeout and udev's 16 KiB output limit; the
//!   environment is the device's properties at that point plus `DEVLINKS`, `TAGS`,
//!   `CURRENT_TAGS` as sd-device adds them;
//! - `IMPORT{db}`: the device's previous database entry (none on "remove", as in udevd);
//! - users and groups: numbers as they are, names from `/etc/passwd` and `/etc/group` (no
//!   NSS modules);
//! - `CONST{virt}`: [`virt`]; `CONST{arch}`: systemd's architecture names;
//! - builtins: [`crate::builtins::run`] reading through [`HostSystem`]; the kernel modules a
//!   builtin asks for are loaded at once with `modprobe -b -q -a`, as udev's kmod builtin
//!   loads them during the rules.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::OnceLock;

use devproto::db::Entry;

use super::{spawn, virt, Paths, Settings};
use crate::builtins::{self, Action, System};
use crate::device::SysfsTree;
use crate::engine::{Host, PropertyChanges};
use crate::rules::subst::{self, Device};
use crate::rules::syntax::{Builtin, ConstKey};

/// A path of udev's namespace mapped into `paths`.
pub fn map_path(paths: &Paths, path: &str) -> PathBuf {
    let under = |root: &str| {
        path.strip_prefix(root)
            .filter(|r| r.is_empty() || r.starts_with('/'))
            .map(|r| r.trim_start_matches('/'))
    };
    if let Some(r) = under("/run/udev") {
        return paths.run.join(r);
    }
    if let Some(r) = under("/sys") {
        return paths.sys.join(r);
    }
    if let Some(r) = under("/dev") {
        return paths.dev.join(r);
    }
    PathBuf::from(path)
}

/// What builtins read, mapped into [`Paths`].
pub struct HostSystem<'a> {
    /// Where the worker reads.
    pub paths: &'a Paths,
}

impl System for HostSystem<'_> {
    fn btrfs_ready(&self, devnode: &str) -> std::io::Result<bool> {
        let node = map_path(self.paths, devnode);
        sys::btrfs::devices_ready(
            &map_path(self.paths, "/dev/btrfs-control"),
            &node.to_string_lossy(),
        )
    }
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        fs::read(map_path(self.paths, path)).ok()
    }
    fn map(&self, path: &str) -> Option<crate::builtins::Bytes> {
        sys::fd::Mapped::open(&map_path(self.paths, path))
            .ok()
            .map(crate::builtins::Bytes::Mapped)
    }
    fn read_dir(&self, path: &str) -> Option<Vec<String>> {
        read_dir_names(&map_path(self.paths, path))
    }
    fn read_at(&self, path: &str, offset: u64, len: usize) -> Option<Vec<u8>> {
        let mut f = fs::File::open(map_path(self.paths, path)).ok()?;
        f.seek(SeekFrom::Start(offset)).ok()?;
        let mut buf = Vec::with_capacity(len.min(1 << 20));
        f.take(len as u64).read_to_end(&mut buf).ok()?;
        Some(buf)
    }
}

fn read_dir_names(path: &std::path::Path) -> Option<Vec<String>> {
    Some(
        fs::read_dir(path)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
    )
}

/// The name-to-id lines of `/etc/passwd` or `/etc/group` (`name:x:id:...`).
pub fn parse_id_file(text: &str) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let mut f = line.split(':');
        let (Some(name), Some(_), Some(id)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        if let Ok(id) = id.trim().parse() {
            out.entry(name.to_string()).or_insert(id);
        }
    }
    out
}

/// systemd's name for the architecture this was built for (`CONST{arch}`).
pub fn arch() -> &'static str {
    crate::builtins::link::architecture()
}

/// `DEVLINKS`, `TAGS` and `CURRENT_TAGS` as sd-device adds them to a device's properties
/// (only when not empty): links separated by spaces, tags as `:a:b:`.
pub fn synthesized(
    links: &BTreeSet<String>,
    tags: &BTreeSet<String>,
    current: &BTreeSet<String>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !links.is_empty() {
        let l: Vec<&str> = links.iter().map(String::as_str).collect();
        out.push(("DEVLINKS".to_string(), l.join(" ")));
    }
    let wrap = |s: &BTreeSet<String>| {
        let t: Vec<&str> = s.iter().map(String::as_str).collect();
        format!(":{}:", t.join(":"))
    };
    if !tags.is_empty() {
        out.push(("TAGS".to_string(), wrap(tags)));
    }
    if !current.is_empty() {
        out.push(("CURRENT_TAGS".to_string(), wrap(current)));
    }
    out
}

/// The environment of a program started for `device` (whose tags are the current ones),
/// with the tags of `old` counted among all tags.
pub fn environment(device: &dyn Device, old: Option<&Entry>) -> BTreeMap<String, String> {
    let mut env = device.properties();
    let links: BTreeSet<String> = device.devlinks().into_iter().collect();
    let current: BTreeSet<String> = device.tags().into_iter().collect();
    let mut all = current.clone();
    if let Some(o) = old {
        all.extend(o.tags.iter().cloned());
    }
    env.extend(synthesized(&links, &all, &current));
    env
}

/// The modprobe to load modules with, when this kernel has a module index
/// (`/lib/modules/<release>/modules.alias`) and modprobe exists; looked up once.
fn modprobe() -> Option<&'static str> {
    static FOUND: std::sync::OnceLock<Option<&'static str>> = std::sync::OnceLock::new();
    *FOUND.get_or_init(|| {
        let release = fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
        let index = format!("/lib/modules/{}/modules.alias", release.trim());
        if !std::path::Path::new(&index).exists() {
            return None;
        }
        [
            "/sbin/modprobe",
            "/usr/sbin/modprobe",
            "/bin/modprobe",
            "/usr/bin/modprobe",
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    })
}

/// The worker's host for one event.
pub struct WorkerHost<'a> {
    pub(super) paths: &'a Paths,
    pub(super) settings: &'a Settings,
    pub(super) tree: SysfsTree,
    /// The previous database entry (`IMPORT{db}`), none on "remove".
    pub(super) old: Option<&'a Entry>,
    virt: OnceCell<String>,
}

impl<'a> WorkerHost<'a> {
    /// A host reading under `paths`.
    pub fn new(paths: &'a Paths, settings: &'a Settings, old: Option<&'a Entry>) -> Self {
        WorkerHost {
            paths,
            settings,
            tree: SysfsTree::new(&paths.sys),
            old,
            virt: OnceCell::new(),
        }
    }

    /// Carries out what a builtin asked for.
    pub fn builtin_actions(&self, actions: &[Action], device: &dyn Device) {
        for a in actions {
            match a {
                Action::LoadModules(names) if !names.is_empty() => {
                    // As libkmod fails at once where no module index exists, so do we,
                    // instead of forking a modprobe that can load nothing.
                    let Some(modprobe) = modprobe() else {
                        continue;
                    };
                    let cmd = format!("{modprobe} -b -q -a -- {}", names.join(" "));
                    if let Err(e) = spawn::run(
                        &cmd,
                        &environment(device, self.old),
                        self.settings.exec_timeout,
                        0,
                    ) {
                        eprintln!("{}: {e}", device.devpath());
                    }
                }
                Action::LoadModules(_) => {}
                Action::LinkConfig(ch) => {
                    let at = format!("{} ({})", device.devpath(), ch.ifname);
                    if let Some(mac) = &ch.mac {
                        if let Err(e) = sys::netlink::set_link_address(ch.ifindex, mac) {
                            eprintln!("{at}: cannot set the MAC address: {e}");
                        }
                    }
                    if let Some(mtu) = ch.mtu {
                        if let Err(e) = sys::netlink::set_link_mtu(ch.ifindex, mtu) {
                            eprintln!("{at}: cannot set the MTU to {mtu}: {e}");
                        }
                    }
                    let props = sys::netlink::LinkProperties {
                        alias: ch.alias.clone(),
                        txqueues: ch.txqueues,
                        rxqueues: ch.rxqueues,
                        txqueuelen: ch.txqueuelen,
                        gso_max_bytes: ch.gso_max_bytes,
                        gso_max_segments: ch.gso_max_segments,
                    };
                    if let Err(e) = sys::netlink::set_link_properties(ch.ifindex, &props) {
                        eprintln!("{at}: could not set link properties: {e}");
                    }
                    match sys::netlink::add_alternative_names(ch.ifindex, &ch.alternative_names) {
                        // As udevd: a kernel without alternative names is no warning.
                        Err(e) if e.raw_os_error() == Some(95) => {}
                        Err(e) => eprintln!("{at}: could not set alternative names: {e}"),
                        Ok(()) => {}
                    }
                }
                Action::WriteSysattr {
                    syspath,
                    attr,
                    value,
                } => {
                    let path = map_path(self.paths, &format!("{syspath}/{attr}"));
                    if let Err(e) = fs::write(&path, value) {
                        eprintln!("{}: cannot write {attr}: {e}", device.devpath());
                    }
                }
                Action::SetKeycode { devnode, .. } | Action::OverrideAbs { devnode, .. } => {
                    eprintln!("{devnode}: evdev key code and axis overrides are not applied yet");
                }
            }
        }
    }
}

impl Host for WorkerHost<'_> {
    fn sysfs(&self) -> &dyn subst::Sysfs {
        &self.tree
    }
    fn syspath_of(&self, subsystem: &str, sysname: &str) -> Option<String> {
        self.tree.find(subsystem, sysname).map(|d| d.syspath())
    }
    fn run_program(&self, command: &str) -> Result<String, String> {
        spawn::run(
            command,
            &BTreeMap::new(),
            self.settings.exec_timeout,
            spawn::RESULT_MAX - 1,
        )
    }
    fn run_program_for(&self, command: &str, device: &dyn Device) -> Result<String, String> {
        spawn::run(
            command,
            &environment(device, self.old),
            self.settings.exec_timeout,
            spawn::RESULT_MAX - 1,
        )
    }
    fn read_file(&self, path: &str) -> Option<String> {
        let bytes = fs::read(map_path(self.paths, path)).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }
    fn db_property(&self, key: &str) -> Option<String> {
        self.old?.properties.get(key).cloned()
    }
    fn cmdline(&self) -> Option<String> {
        // The kernel command line never changes: read once per worker.
        static CMDLINE: OnceLock<Option<String>> = OnceLock::new();
        CMDLINE
            .get_or_init(|| fs::read_to_string("/proc/cmdline").ok())
            .clone()
    }
    fn builtin(
        &self,
        builtin: Builtin,
        command: &str,
        device: &dyn Device,
    ) -> Result<PropertyChanges, String> {
        let out = builtins::run(builtin, command, device, &HostSystem { paths: self.paths })?;
        self.builtin_actions(&out.actions, device);
        Ok(out.properties)
    }
    fn sysctl(&self, name: &str) -> Option<String> {
        let bytes = fs::read(PathBuf::from("/proc/sys").join(name)).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }
    fn file_mode(&self, path: &str) -> Option<u32> {
        fs::metadata(map_path(self.paths, path))
            .ok()
            .map(|m| m.mode())
    }
    fn read_dir(&self, path: &str) -> Option<Vec<String>> {
        read_dir_names(&map_path(self.paths, path))
    }
    fn const_value(&self, key: ConstKey) -> String {
        match key {
            ConstKey::Arch => arch().to_string(),
            ConstKey::Virt => self.virt.get_or_init(|| virt::detect(self.paths)).clone(),
        }
    }
    fn write(&self, path: &str, value: &str) {
        let op = super::plan::Op::Write {
            path: path.to_string(),
            value: value.to_string(),
        };
        if let Err(e) = super::apply::apply(self.paths, &op) {
            eprintln!("{path}: Failed to write \"{value}\": {e}");
        }
    }
    // Users and groups are read once per worker process: udevd resolves the names when
    // it loads the rules, and a worker lives no longer than the rules it was forked with.
    fn user(&self, name: &str) -> Option<u32> {
        // As systemd's get_user_creds: a number is a uid, listed or not.
        if let Ok(uid) = name.parse() {
            return Some(uid);
        }
        static USERS: OnceLock<BTreeMap<String, u32>> = OnceLock::new();
        USERS
            .get_or_init(|| parse_id_file(&fs::read_to_string("/etc/passwd").unwrap_or_default()))
            .get(name)
            .copied()
    }
    fn group(&self, name: &str) -> Option<u32> {
        if let Ok(gid) = name.parse() {
            return Some(gid);
        }
        static GROUPS: OnceLock<BTreeMap<String, u32>> = OnceLock::new();
        GROUPS
            .get_or_init(|| parse_id_file(&fs::read_to_string("/etc/group").unwrap_or_default()))
            .get(name)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_mapping() {
        let p = Paths {
            sys: "/t/sys".into(),
            dev: "/t/dev".into(),
            run: "/t/run".into(),
        };
        let cases = [
            ("/sys/devices/x", "/t/sys/devices/x"),
            ("/sys", "/t/sys/"),
            ("/sysfoo", "/sysfoo"),
            ("/dev/sda", "/t/dev/sda"),
            ("/run/udev/data/b8:0", "/t/run/data/b8:0"),
            ("/run/other", "/run/other"),
            ("/proc/cmdline", "/proc/cmdline"),
            ("relative", "relative"),
        ];
        for (from, to) in cases {
            assert_eq!(map_path(&p, from), PathBuf::from(to), "{from}");
        }
    }

    #[test]
    fn passwd_and_group_lines() {
        let text = "root:x:0:0:root:/root:/bin/bash\n\
                    # comment:x:5:\n\
                    daemon:x:1:1::/:/bin/false\n\
                    broken\n\
                    bad:x:notanumber:\n\
                    :x:7:\n\
                    root:x:9:9::/:/bin/sh\n";
        let m = parse_id_file(text);
        let want: BTreeMap<String, u32> =
            [("root".to_string(), 0), ("daemon".to_string(), 1)].into();
        assert_eq!(m, want);
    }

    #[test]
    fn users_and_groups() {
        let paths = Paths::default();
        let settings = Settings::default();
        let h = WorkerHost::new(&paths, &settings, None);
        // Numbers need no entry (udev-test.pl "TEST PROGRAM feeds OWNER, GROUP, MODE").
        assert_eq!(h.user("1"), Some(1));
        assert_eq!(h.group("4711"), Some(4711));
        assert_eq!(h.user("root"), Some(0));
        assert_eq!(h.group("root"), Some(0));
        assert_eq!(h.user("no-such-user-here"), None);
        assert_eq!(h.user("-1"), None);
    }

    #[test]
    fn synthesized_properties() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(synthesized(&s(&[]), &s(&[]), &s(&[])), vec![]);
        assert_eq!(
            synthesized(&s(&["/dev/b", "/dev/a"]), &s(&["x", "y"]), &s(&["y"])),
            vec![
                ("DEVLINKS".to_string(), "/dev/a /dev/b".to_string()),
                ("TAGS".to_string(), ":x:y:".to_string()),
                ("CURRENT_TAGS".to_string(), ":y:".to_string()),
            ]
        );
    }
}
