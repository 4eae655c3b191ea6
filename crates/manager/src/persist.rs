//! The manager's persisted runtime state (DESIGN.md §2): what is written to
//! `<runtime-dir>/state` while the manager runs, and how it is read back after a crash or
//! a re-exec.
//!
//! The snapshot holds everything ([`Snapshot`]); the journal holds [`Change`]s, each an
//! *upsert* of one whole record (a unit, a job, the manager's counters) or a job's removal,
//! so folding the journal over the snapshot in order gives the latest state of every
//! record, and a journal cut anywhere still gives a consistent state per record.
//!
//! Units are named, not numbered: unit ids depend on loading order, which differs in the
//! next manager. Processes are `(pid, start time)` so that a recycled pid is never taken
//! for a service's process. Times are `CLOCK_MONOTONIC` µs (same boot: the boot id is in
//! the state, and state of another boot is ignored).

use crate::shutdown::Objective;
use jobs::{JobState, JobType};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use units::service::ServiceSnapshot;
use units::ActiveState;

/// Version of the payloads below; a manager refuses (and starts afresh from) another one.
pub const STATE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerRecord {
    pub version: u32,
    /// `/proc/sys/kernel/random/boot_id`: state of another boot is never used.
    pub boot_id: String,
    /// The next job id to hand out, so that ids are never reused within a boot.
    pub next_job: u32,
    /// The highest init-link exit sequence number whose effects are in this state.
    pub exit_seq: u64,
    pub objective: Option<ObjectiveRecord>,
    pub shutting_down: bool,
}

/// [`Objective`] as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectiveRecord {
    Halt,
    Poweroff,
    Reboot,
    Kexec,
    Exit(u8),
}

impl From<Objective> for ObjectiveRecord {
    fn from(o: Objective) -> ObjectiveRecord {
        match o {
            Objective::Halt => ObjectiveRecord::Halt,
            Objective::Poweroff => ObjectiveRecord::Poweroff,
            Objective::Reboot => ObjectiveRecord::Reboot,
            Objective::Kexec => ObjectiveRecord::Kexec,
            Objective::Exit(s) => ObjectiveRecord::Exit(s),
        }
    }
}

impl From<ObjectiveRecord> for Objective {
    fn from(o: ObjectiveRecord) -> Objective {
        match o {
            ObjectiveRecord::Halt => Objective::Halt,
            ObjectiveRecord::Poweroff => Objective::Poweroff,
            ObjectiveRecord::Reboot => Objective::Reboot,
            ObjectiveRecord::Kexec => Objective::Kexec,
            ObjectiveRecord::Exit(s) => Objective::Exit(s),
        }
    }
}

/// The live part of one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRecord {
    pub name: String,
    pub active: ActiveState,
    pub state_change_usec: Option<u64>,
    pub invocation_id: String,
    pub populated: bool,
    pub runtime: RuntimeRecord,
    /// The unit's tracked processes, `(pid, start time in clock ticks since boot)`.
    pub procs: Vec<(u32, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuntimeRecord {
    Service(Box<ServiceSnapshot>),
    Simple(ActiveState),
    Socket(units::socket::SocketState),
    Mount(Box<units::mount::MountSnapshot>),
    Device {
        state: units::device::DeviceState,
        sysfs: String,
    },
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: u32,
    pub unit: String,
    pub job_type: JobType,
    pub state: JobState,
    pub irreversible: bool,
    pub ignore_order: bool,
    pub deadline: Option<u64>,
}

/// The whole state, as the snapshot file holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub manager: ManagerRecord,
    pub units: Vec<UnitRecord>,
    pub jobs: Vec<JobRecord>,
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    Manager(ManagerRecord),
    Unit(UnitRecord),
    Job(JobRecord),
    JobGone { id: u32 },
}

/// Folds the journal over the snapshot: the latest record of every unit and job.
pub fn fold(snapshot: Snapshot, journal: Vec<Change>) -> Snapshot {
    let mut manager = snapshot.manager;
    let mut units: BTreeMap<String, UnitRecord> = snapshot
        .units
        .into_iter()
        .map(|u| (u.name.clone(), u))
        .collect();
    let mut jobs: BTreeMap<u32, JobRecord> = snapshot.jobs.into_iter().map(|j| (j.id, j)).collect();
    for change in journal {
        match change {
            Change::Manager(m) => manager = m,
            Change::Unit(u) => {
                units.insert(u.name.clone(), u);
            }
            Change::Job(j) => {
                jobs.insert(j.id, j);
            }
            Change::JobGone { id } => {
                jobs.remove(&id);
            }
        }
    }
    Snapshot {
        manager,
        units: units.into_values().collect(),
        jobs: jobs.into_values().collect(),
    }
}

/// This boot's id, or an empty string where the kernel does not say.
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager(next_job: u32) -> ManagerRecord {
        ManagerRecord {
            version: STATE_VERSION,
            boot_id: "b".into(),
            next_job,
            exit_seq: 0,
            objective: None,
            shutting_down: false,
        }
    }

    fn unit(name: &str, active: ActiveState) -> UnitRecord {
        UnitRecord {
            name: name.into(),
            active,
            state_change_usec: None,
            invocation_id: String::new(),
            populated: false,
            runtime: RuntimeRecord::Simple(active),
            procs: vec![],
        }
    }

    fn job(id: u32, unit: &str) -> JobRecord {
        JobRecord {
            id,
            unit: unit.into(),
            job_type: JobType::Start,
            state: JobState::Waiting,
            irreversible: false,
            ignore_order: false,
            deadline: None,
        }
    }

    #[test]
    fn the_journal_folds_over_the_snapshot_in_order() {
        let snap = Snapshot {
            manager: manager(1),
            units: vec![unit("a.target", ActiveState::Inactive)],
            jobs: vec![job(1, "a.target")],
        };
        let journal = vec![
            Change::Job(job(2, "b.target")),
            Change::Unit(unit("a.target", ActiveState::Active)),
            Change::JobGone { id: 1 },
            Change::Unit(unit("b.target", ActiveState::Activating)),
            Change::Manager(manager(3)),
        ];
        let folded = fold(snap, journal);
        assert_eq!(folded.manager.next_job, 3);
        assert_eq!(
            folded.units,
            vec![
                unit("a.target", ActiveState::Active),
                unit("b.target", ActiveState::Activating)
            ]
        );
        assert_eq!(folded.jobs, vec![job(2, "b.target")]);
    }

    #[test]
    fn changes_round_trip_through_json() {
        let c = Change::Manager(ManagerRecord {
            objective: Some(ObjectiveRecord::Exit(3)),
            ..manager(7)
        });
        let json = serde_json::to_string(&c).unwrap_or_default();
        assert!(json.starts_with(r#"{"change":"manager""#), "{json}");
        let back: Change = serde_json::from_str(&json).unwrap_or(Change::JobGone { id: 0 });
        assert_eq!(back, c);
    }
}
