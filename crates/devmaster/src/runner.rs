//! `devmaster test-rule-runner`: one event processed the way systemd's rule-engine test
//! suite expects of its `test-udev` / `test-udev-rule-runner` program (systemd 252/253).
//!
//! `check` or `ACTION DEVPATH [DELAY_USEC]`, run in the suite's scratch directory. It first
//! moves into a private mount namespace (`/` made private recursively) and bind-mounts
//! `tmpfs/sys` on `/sys`, `tmpfs/dev` on `/dev` and `run` on `/run` (a failure ends it with
//! status 1), then `run` over the rules directories below `/etc`, `/usr/lib`, `/lib` and
//! `/usr/local/lib` so that only the suite's rules (in `run/udev/rules.d`) apply (failures
//! ignored). `check` stops there with status 0. Otherwise it sleeps DELAY_USEC, loads the
//! rules, reads the device at `/sys` + DEVPATH with its `uevent` file, does devtmpfs's job
//! (for a device with `DEVNAME`: `mknod` with mode 0600 — a block node for subsystem
//! "block", else a character node — with its parents on add/change, `unlink` and empty
//! parents removed on remove; a failure ends it with status 1), and hands the event to
//! [`crate::worker::process`] with udev's 3 s program timeout. Status 0 once the event was
//! processed, whatever the rules did.

use std::path::Path;
use std::time::Duration;

use crate::device::SysfsTree;
use crate::rules::load::{self, RULES_DIRS};
use crate::rules::subst::Device as _;
use crate::worker::{self, Event, Paths, Settings};

const USAGE: &str =
    "usage: devmaster test-rule-runner check | add|change|remove|... DEVPATH [DELAY_USEC]";

/// The bind mounts: source (relative to the working directory), target, whether a
/// failure ends the run.
const MOUNTS: [(&str, &str, bool); 7] = [
    ("tmpfs/sys", "/sys", true),
    ("tmpfs/dev", "/dev", true),
    ("run", "/run", true),
    ("run", "/etc/udev/rules.d", false),
    ("run", "/usr/lib/udev/rules.d", false),
    ("run", "/lib/udev/rules.d", false),
    ("run", "/usr/local/lib/udev/rules.d", false),
];

fn fake_filesystems() -> Result<(), String> {
    sys::namespace::detach_mount_namespace()
        .map_err(|e| format!("Failed to detach mount namespace: {e}"))?;
    let cwd = std::env::current_dir().map_err(|e| format!("working directory: {e}"))?;
    for (source, target, required) in MOUNTS {
        if let Err(e) = sys::namespace::bind_mount(&cwd.join(source), Path::new(target)) {
            if required {
                return Err(format!("Failed to mount {source} on {target}: {e}"));
            }
        }
    }
    Ok(())
}

/// Removes empty directories above `path` up to `/dev`.
fn remove_empty_parents(path: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == Path::new("/dev") || !d.starts_with("/dev") || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// devtmpfs's part: the node of the device appears on add and goes on remove.
fn devtmpfs(dev: &crate::device::Device, action: &str) -> Result<(), String> {
    let Some(devname) = dev.devnode() else {
        return Ok(());
    };
    let path = Path::new(&devname);
    if action == "remove" {
        std::fs::remove_file(path).map_err(|e| format!("unlink('{devname}') failed: {e}"))?;
        remove_empty_parents(path);
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        let _ = devproto::db::mkdir_parents(dir);
    }
    let kind = if dev.subsystem() == Some("block") {
        sys::namespace::NodeKind::Block
    } else {
        sys::namespace::NodeKind::Char
    };
    let (major, minor) = dev.devnum().unwrap_or((0, 0));
    sys::namespace::mknod(path, kind, 0o600, major, minor)
        .map_err(|e| format!("mknod() failed for '{devname}': {e}"))
}

fn run(args: &[String]) -> Result<(), String> {
    if !(1..=3).contains(&args.len()) {
        return Err(USAGE.into());
    }
    fake_filesystems()?;
    let (action, devpath, delay) = match args {
        [check] if check == "check" => return Ok(()),
        [one] => return Err(format!("Unknown argument: {one}")),
        [action, devpath] => (action, devpath, None),
        [action, devpath, delay] => (action, devpath, Some(delay)),
        _ => return Err(USAGE.into()),
    };
    if let Some(d) = delay {
        let usec: u64 = d.parse().map_err(|_| format!("Invalid delay '{d}'"))?;
        std::thread::sleep(Duration::from_micros(usec));
    }
    let rules = load::read(&RULES_DIRS);
    for d in rules.all_diagnostics() {
        eprintln!("{d}");
    }
    let tree = SysfsTree::new("/sys");
    let dev = tree
        .device(devpath)
        .ok_or_else(|| format!("Failed to open device '{devpath}'"))?;
    devtmpfs(&dev, action)?;
    let event = Event {
        seqnum: 0,
        action: action.clone(),
        devpath: dev.devpath(),
        properties: [("ACTION".to_string(), action.clone())].into(),
    };
    let settings = Settings {
        exec_timeout: Duration::from_secs(3),
        run_programs: true,
    };
    if let Err(e) = worker::process(&Paths::default(), &rules.files, &event, &settings) {
        eprintln!("{e}");
    }
    Ok(())
}

/// Entry point; returns the exit status.
pub fn main(args: &[String]) -> i32 {
    match run(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("devmaster test-rule-runner: {e}");
            1
        }
    }
}
