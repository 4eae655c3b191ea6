//! The worker side: one uevent processed as a udevd (systemd 252) worker processes it —
//! the device read from sysfs, the rules applied through a real [`crate::engine::Host`],
//! and the results carried out: node owner/group/mode, symlinks with priorities, network
//! interface renaming, `ATTR{}`/`SYSCTL{}` writes, the database and tags under `/run/udev`,
//! `RUN` programs. Used by the daemon's worker processes and by `test-rule-runner`.
//!
//! | module | role |
//! |---|---|
//! | [`dbdev`] | the device as rules see it: parents with their database entries, the event device with its own on "remove" |
//! | [`host`] | the [`crate::engine::Host`]: programs, files, `IMPORT{db}`, builtins, sysctl, users/groups, `CONST` |
//! | [`spawn`] | udev's program start: argument splitting, lookup, environment, bounded output, timeout |
//! | [`virt`] | `CONST{virt}` as systemd-detect-virt |
//! | [`plan`] | pure: old entry + outcome → file-system operations in udevd's order |
//! | [`apply`] | those operations on the file system: claim index under a lock, links, permissions, db, tags |
//!
//! A failing operation is reported on stderr and the event goes on, as in udevd, except a
//! failed interface rename (other than "interface is up"), which ends the event (no node,
//! database or `RUN`) with an error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use crate::rules::subst::Device as _;
use crate::rules::syntax::{RulesFile, RunKind};

pub mod apply;
pub mod dbdev;
pub mod host;
pub mod plan;
pub mod spawn;
pub mod virt;

/// Where a worker reads and writes; the real system is [`Paths::default`], tests and the
/// rule runner point elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// sysfs (`/sys`).
    pub sys: PathBuf,
    /// Device nodes (`/dev`).
    pub dev: PathBuf,
    /// udev's runtime directory (`/run/udev`): `data/`, `tags/`, `links/`, `watch/`.
    pub run: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            sys: PathBuf::from("/sys"),
            dev: PathBuf::from("/dev"),
            run: PathBuf::from("/run/udev"),
        }
    }
}

/// Settings of the daemon that matter to one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Limit of a `PROGRAM`/`IMPORT{program}`/`RUN` program (udev: `--exec-timeout`, the
    /// event timeout by default).
    pub exec_timeout: Duration,
    /// Whether `RUN` programs are run (`--resolve-names` and dry runs aside).
    pub run_programs: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            exec_timeout: Duration::from_secs(180),
            run_programs: true,
        }
    }
}

/// A uevent as the kernel sent it (or as `trigger` synthesised it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// `SEQNUM`, 0 when none.
    pub seqnum: u64,
    /// `add`, `change`, `remove`, `move`, `bind`, `unbind`, `online`, `offline`.
    pub action: String,
    /// `/devices/...`.
    pub devpath: String,
    /// Every `KEY=VALUE` of the uevent, `ACTION`/`DEVPATH`/`SEQNUM` included.
    pub properties: BTreeMap<String, String>,
}

/// What processing left, for the netlink re-broadcast and the daemon.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Processed {
    /// The device's properties after the rules (udev's broadcast carries these, plus
    /// `DEVLINKS`, `TAGS` and `CURRENT_TAGS`).
    pub properties: BTreeMap<String, String>,
    /// Tags of the device (all it ever had this boot).
    pub tags: BTreeSet<String>,
    /// Tags set by this event.
    pub current_tags: BTreeSet<String>,
    /// Device nodes to watch with inotify (`OPTIONS+="watch"`), `None` = leave as is.
    pub watch: Option<bool>,
}

/// Processes one event: reads the device under `paths.sys`, applies `rules`, carries out
/// the outcome.
pub fn process(
    paths: &Paths,
    rules: &[RulesFile],
    event: &Event,
    settings: &Settings,
) -> Result<Processed, String> {
    let mut uevent = event.properties.clone();
    uevent
        .entry("ACTION".into())
        .or_insert_with(|| event.action.clone());
    if event.seqnum > 0 {
        uevent
            .entry("SEQNUM".into())
            .or_insert_with(|| event.seqnum.to_string());
    }
    let tree = crate::device::SysfsTree::new(&paths.sys);
    let base = tree
        .event_device(&event.devpath, uevent)
        .ok_or_else(|| format!("{}: not a device path", event.devpath))?;
    let devpath = base.devpath();
    let id = dbdev::id_of(&base);
    let remove = event.action == "remove";
    let old = id
        .as_deref()
        .and_then(|id| devproto::db::read(&paths.run, id).ok().flatten());
    let mut dev = dbdev::DbDevice::new(base, old.as_ref().filter(|_| remove), &paths.run);
    let initial = dev.props();
    let (sysname, sysnum) = (dev.sysname(), dev.sysnum());
    let facts = plan::Facts {
        action: &event.action,
        id: id.as_deref(),
        subsystem: dev.base().subsystem(),
        devtype: dev.base().devtype(),
        sysname: &sysname,
        sysnum: sysnum.as_deref(),
        devnum: dev.devnum().filter(|d| d.0 > 0),
        ifindex: initial
            .get("IFINDEX")
            .and_then(|i| i.parse().ok())
            .filter(|i| *i > 0),
        devnode: initial.get("DEVNAME").map(String::as_str),
        initial,
        old: old.as_ref(),
        now_usec: sys::event::monotonic_usec(),
    };
    let warn = |what: &dyn std::fmt::Display| eprintln!("{devpath}: {what}");
    if remove {
        for op in plan::remove_start(&facts) {
            if let Err(e) = apply::apply(paths, &op) {
                warn(&format_args!("{op:?}: {e}"));
            }
        }
    }
    let host = host::WorkerHost::new(paths, settings, old.as_ref().filter(|_| !remove));
    let outcome = crate::engine::apply(rules, &dev, &host);
    for (module, label) in &outcome.seclabels {
        warn(&format_args!(
            "SECLABEL{{{module}}}=\"{label}\" ignored: no security modules"
        ));
    }
    let plan = plan::finish(&facts, &outcome);
    for op in &plan.ops {
        if let Err(e) = apply::apply(paths, op) {
            match op {
                // udevd goes on when the interface is up (EBUSY), with the new name already
                // in the event's properties, and fails the event otherwise.
                plan::Op::Rename { from, to, .. }
                    if e.kind() == std::io::ErrorKind::ResourceBusy =>
                {
                    warn(&format_args!(
                        "network interface '{from}' is already up, cannot rename to '{to}'"
                    ))
                }
                plan::Op::Rename { from, to, .. } => {
                    return Err(format!(
                        "{devpath}: failed to rename network interface '{from}' to '{to}': {e}"
                    ))
                }
                _ => warn(&format_args!("{op:?}: {e}")),
            }
        }
    }
    let mut properties = plan.properties;
    if settings.run_programs {
        let links: Vec<String> = properties
            .get("DEVLINKS")
            .map(|l| l.split(' ').map(str::to_string).collect())
            .unwrap_or_default();
        for run in &outcome.run {
            match run.kind {
                RunKind::Program => {
                    if let Err(e) = spawn::run(&run.command, &properties, settings.exec_timeout, 0)
                    {
                        warn(&e);
                    }
                }
                RunKind::Builtin(b) => {
                    dev.set_state(
                        properties.clone(),
                        links.clone(),
                        plan.current_tags.iter().cloned().collect(),
                    );
                    let system = host::HostSystem { paths };
                    match crate::builtins::run(b, &run.command, &dev, &system) {
                        Ok(out) => {
                            host.builtin_actions(&out.actions, &dev);
                            for (k, v) in out.properties {
                                match v {
                                    Some(v) => properties.insert(k, v),
                                    None => properties.remove(&k),
                                };
                            }
                        }
                        Err(e) => warn(&format_args!("RUN{{builtin}} '{}': {e}", run.command)),
                    }
                }
            }
        }
    }
    Ok(Processed {
        properties,
        tags: plan.tags,
        current_tags: plan.current_tags,
        watch: outcome.watch,
    })
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
