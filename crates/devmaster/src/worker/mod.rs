//! The worker side: one uevent processed as a udevd (systemd 252) worker processes it —
//! the device read from sysfs, the rules applied through a real [`crate::engine::Host`],
//! and the results carried out: node owner/group/mode, symlinks with priorities, network
//! interface renaming, `ATTR{}`/`SYSCTL{}` writes, the database and tags under `/run/udev`,
//! `RUN` programs. Used by the daemon's worker processes and by `test-rule-runner`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use crate::rules::syntax::RulesFile;

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
    let _ = (paths, rules, settings);
    Err(format!(
        "{}: event processing is not available yet",
        event.devpath
    ))
}
