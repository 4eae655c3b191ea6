//! Test helpers for the builtins: a [`System`] over a sysfs tree (a [`FakeSys`] tree or the
//! real `/sys`) with extra files and evdev answers held in memory, and two oracles with
//! Debian's `udevadm test-builtin` (package `udev`): [`oracle`] runs a builtin and udevadm
//! over every device of this machine's `/sys`; [`udevadm_fake`] runs udevadm on a device of
//! a [`FakeSys`] tree, mounted over `/sys` in a private mount namespace (`unshare -m`, with
//! sd-device's `SYSTEMD_DEVICE_VERIFY_SYSFS=0`), so table tests can check their expected
//! values against udev itself.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use super::{Output, System};
use crate::device::SysfsTree;
use crate::testsys::FakeSys;

/// A [`System`] whose `/sys` is a sysfs tree; other paths come from memory, or from the host
/// when `host` is set.
pub(crate) struct TreeSystem {
    tree: SysfsTree,
    host: bool,
    files: BTreeMap<String, Vec<u8>>,
    absinfo: BTreeMap<(String, u16), [i32; 6]>,
}

impl TreeSystem {
    /// Over a fake tree; nothing outside `/sys` unless added.
    pub(crate) fn fake(sys: &FakeSys) -> Self {
        TreeSystem {
            tree: sys.tree(),
            host: false,
            files: BTreeMap::new(),
            absinfo: BTreeMap::new(),
        }
    }

    /// Over this machine's `/sys` and files.
    pub(crate) fn real() -> Self {
        TreeSystem {
            tree: SysfsTree::new("/sys"),
            host: true,
            files: BTreeMap::new(),
            absinfo: BTreeMap::new(),
        }
    }

    /// Answers `EVIOCGABS(axis)` on `devnode` with `info`.
    pub(crate) fn with_absinfo(mut self, devnode: &str, axis: u16, info: [i32; 6]) -> Self {
        self.absinfo.insert((devnode.to_string(), axis), info);
        self
    }

    fn host_path(&self, path: &str) -> Option<std::path::PathBuf> {
        (path == "/sys" || path.starts_with("/sys/") || self.host)
            .then(|| self.tree.host_path(path))
    }
}

impl System for TreeSystem {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        if let Some(b) = self.files.get(path) {
            return Some(b.clone());
        }
        fs::read(self.host_path(path)?).ok()
    }
    fn read_dir(&self, path: &str) -> Option<Vec<String>> {
        let mut names: Vec<String> = fs::read_dir(self.host_path(path)?)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Some(names)
    }
    fn read_at(&self, path: &str, offset: u64, len: usize) -> Option<Vec<u8>> {
        let all = self.read(path)?;
        let start = usize::try_from(offset).ok()?.min(all.len());
        Some(all.iter().skip(start).take(len).copied().collect())
    }
    fn canonical_path(&self, path: &str) -> Option<String> {
        let real = fs::canonicalize(self.host_path(path)?).ok()?;
        let root = fs::canonicalize(self.tree.root()).ok()?;
        match real.strip_prefix(&root) {
            Ok(rest) if rest.as_os_str().is_empty() => Some("/sys".to_string()),
            Ok(rest) => Some(format!("/sys/{}", rest.to_string_lossy())),
            Err(_) => Some(real.to_string_lossy().into_owned()),
        }
    }
    fn evdev_absinfo(&self, devnode: &str, axis: u16) -> Option<[i32; 6]> {
        self.absinfo.get(&(devnode.to_string(), axis)).copied()
    }
}

/// The properties an output sets, the last value of each key.
pub(crate) fn props(out: &Output) -> BTreeMap<String, String> {
    out.properties
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
        .collect()
}

/// The devpaths of every device under `/sys/devices` (directories with a `uevent` file;
/// links are not followed).
fn real_devices() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        if dir.join("uevent").is_file() {
            if let Ok(rel) = dir.strip_prefix("/sys") {
                out.push(format!("/{}", rel.to_string_lossy()));
            }
        }
        for e in entries.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                walk(&e.path(), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new("/sys/devices"), &mut out);
    out.sort();
    out
}

/// What `udevadm test-builtin <builtin> <syspath>` prints as properties (`KEY=VALUE` lines
/// of its standard output).
fn udevadm(builtin: &str, syspath: &str) -> BTreeMap<String, String> {
    let out = Command::new("udevadm")
        .args(["test-builtin", builtin, syspath])
        .output()
        .expect("udevadm runs");
    parse_properties(&out.stdout)
}

/// The `KEY=VALUE` lines of udevadm's standard output.
fn parse_properties(stdout: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| {
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The oracle: for every device of this machine, `run`'s properties against
/// `udevadm test-builtin`'s. Returns how many devices were compared, how many got
/// properties from udevadm, and one line per difference; `None` when `udevadm` is missing
/// (the `udev` package).
pub(crate) fn oracle(
    builtin: &str,
    run: impl Fn(&crate::device::Device, &dyn System) -> Result<Output, String>,
) -> Option<(usize, usize, Vec<String>)> {
    assert!(
        Command::new("udevadm").arg("--version").output().is_ok(),
        "udevadm is not installed (package udev; `cargo xtask test` installs it): the {builtin} oracle cannot run"
    );
    let tree = SysfsTree::new("/sys");
    let system = TreeSystem::real();
    let (mut compared, mut with_props, mut diffs) = (0, 0, Vec::new());
    for devpath in real_devices() {
        let Some(dev) = tree.device(&devpath) else {
            continue;
        };
        let theirs = udevadm(builtin, &format!("/sys{devpath}"));
        let ours = run(&dev, &system).map(|o| props(&o)).unwrap_or_default();
        compared += 1;
        with_props += usize::from(!theirs.is_empty());
        if ours != theirs {
            diffs.push(format!("{devpath}: ours {ours:?}, udevadm {theirs:?}"));
        }
    }
    Some((compared, with_props, diffs))
}

/// Copies the tree under `from` to `to`, turning links into the tree into absolute
/// `/sys/...` links, so the copy works when mounted at `/sys`.
fn copy_as_sys(from: &Path, to: &Path, root: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let t = e.file_type().unwrap();
        if t.is_symlink() {
            let target = fs::read_link(&src).unwrap();
            let target = match target.strip_prefix(root) {
                Ok(rest) => Path::new("/sys").join(rest),
                Err(_) => target,
            };
            std::os::unix::fs::symlink(target, dst).unwrap();
        } else if t.is_dir() {
            copy_as_sys(&src, &dst, root);
        } else {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Whether `udevadm` can be run on a fake `/sys` here (a mount namespace is needed).
fn fake_oracle_available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        let ok = Command::new("unshare")
            .args([
                "-m",
                "sh",
                "-c",
                "mount -t tmpfs none /mnt && udevadm --version",
            ])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            ok,
            "udevadm or a private mount namespace is not available: the fake-tree oracle cannot run"
        );
        ok
    })
}

/// What `udevadm test-builtin <builtin>` sets for the device `devpath` of the fake tree
/// `sys` (empty when it fails), `None` when that cannot be run here.
pub(crate) fn udevadm_fake(
    sys: &FakeSys,
    builtin: &str,
    devpath: &str,
) -> Option<BTreeMap<String, String>> {
    if !fake_oracle_available() {
        return None;
    }
    let copy = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(sys.root()).unwrap();
    copy_as_sys(&root, copy.path(), &root);
    let out = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "mount --bind \"$1\" /sys || exit 99; \
             SYSTEMD_DEVICE_VERIFY_SYSFS=0 exec udevadm test-builtin \"$2\" \"$3\"",
            "sh",
        ])
        .arg(copy.path())
        .args([builtin, &format!("/sys{devpath}")])
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(99),
        "mounting the fake tree over /sys failed"
    );
    Some(parse_properties(&out.stdout))
}
