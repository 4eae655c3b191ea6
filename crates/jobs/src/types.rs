//! The vocabulary of the job engine: job types, modes, results and states, and the pure
//! rules systemd applies to job types — the merge table, collapsing a state-dependent type
//! by the unit's state, redundancy, conflict and "superset" tests, and the order in which
//! two jobs of ordered units run (systemd's `job_compare`).
//!
//! Only `Start`, `VerifyActive`, `Stop`, `Reload`, `Restart` and `Nop` ever live in a
//! transaction or in the installed set; `TryRestart`, `TryReload` and `ReloadOrStart` are
//! request types that collapse into one of those before a job is created.

use serde::{Deserialize, Serialize};
use std::fmt;

use units::ActiveState;

/// A job's number; unique for the lifetime of an [`crate::Engine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobId(pub u32);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a job does to its unit (systemctl's verbs map onto these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum JobType {
    Start,
    /// Succeeds if the unit is active, is skipped otherwise (pulled in by `Requisite=`).
    VerifyActive,
    Stop,
    Reload,
    /// Stops the unit, then turns into a `Start` job.
    Restart,
    /// `Restart` if the unit is active or activating, otherwise `Nop`.
    TryRestart,
    /// `Reload` if the unit is active or reloading, otherwise `Nop`.
    TryReload,
    /// `Reload` if the unit is active or reloading, otherwise `Start`.
    ReloadOrStart,
    /// Does nothing; finishes as soon as it runs.
    Nop,
}

impl JobType {
    /// systemd's name of the type, as `systemctl list-jobs` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Start => "start",
            JobType::VerifyActive => "verify-active",
            JobType::Stop => "stop",
            JobType::Reload => "reload",
            JobType::Restart => "restart",
            JobType::TryRestart => "try-restart",
            JobType::TryReload => "try-reload",
            JobType::ReloadOrStart => "reload-or-start",
            JobType::Nop => "nop",
        }
    }

    /// The request behind `systemctl reload-or-restart` and `try-reload-or-restart`: systemd
    /// turns `Restart` into `ReloadOrStart` and `TryRestart` into `TryReload` when the unit
    /// can reload, and leaves every other type (and units that cannot reload) alone.
    pub fn reload_if_possible(self, can_reload: bool) -> JobType {
        match (self, can_reload) {
            (JobType::Restart, true) => JobType::ReloadOrStart,
            (JobType::TryRestart, true) => JobType::TryReload,
            (t, _) => t,
        }
    }

    /// Stop jobs, and restart jobs before they turn into start jobs, run in the reverse of
    /// the configured ordering.
    pub(crate) fn is_stop_like(self) -> bool {
        matches!(self, JobType::Stop | JobType::Restart)
    }
}

impl fmt::Display for JobType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a new transaction treats the jobs already queued (`systemctl --job-mode=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobMode {
    /// Refuse if the transaction would replace a queued job of a conflicting type, and
    /// drop non-essential jobs that would stop running units or change queued jobs.
    Fail,
    /// Replace queued jobs of conflicting types (unless they are irreversible).
    Replace,
    /// Like `Replace`, and the new jobs cannot be replaced later.
    ReplaceIrreversibly,
    /// Start the unit and stop every other unit (except `IgnoreOnIsolate=` ones).
    Isolate,
    /// Cancel every queued job not part of the new transaction.
    Flush,
    /// Neither requirement nor ordering dependencies are honoured for the anchor job.
    IgnoreDependencies,
    /// Requirement dependencies are not followed; ordering still is.
    IgnoreRequirements,
    /// Stop jobs only: also stop the units that trigger this one (sockets, paths, timers).
    Triggering,
}

impl JobMode {
    pub fn as_str(self) -> &'static str {
        match self {
            JobMode::Fail => "fail",
            JobMode::Replace => "replace",
            JobMode::ReplaceIrreversibly => "replace-irreversibly",
            JobMode::Isolate => "isolate",
            JobMode::Flush => "flush",
            JobMode::IgnoreDependencies => "ignore-dependencies",
            JobMode::IgnoreRequirements => "ignore-requirements",
            JobMode::Triggering => "triggering",
        }
    }
}

impl fmt::Display for JobMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobResult {
    /// Completed (also: start skipped because of an unmet condition).
    Done,
    /// Replaced by a conflicting job, flushed, isolated away or canceled by request.
    Canceled,
    /// `JobTimeoutSec=` / `JobRunningTimeoutSec=` elapsed.
    Timeout,
    Failed,
    /// A job this one required did not finish with `Done`.
    Dependency,
    /// A `VerifyActive` job found its unit inactive.
    Skipped,
    /// A reload job found its unit not active.
    Invalid,
}

impl JobResult {
    pub fn as_str(self) -> &'static str {
        match self {
            JobResult::Done => "done",
            JobResult::Canceled => "canceled",
            JobResult::Timeout => "timeout",
            JobResult::Failed => "failed",
            JobResult::Dependency => "dependency",
            JobResult::Skipped => "skipped",
            JobResult::Invalid => "invalid",
        }
    }
}

impl fmt::Display for JobResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job is waiting until its ordering constraints are met, then running until the unit
/// reports a result. `Waiting -> Running` by [`crate::Engine::set_running`] or
/// [`crate::Engine::begin`]; `Running -> Waiting` when a restart job's stop half is done
/// (it becomes a start job) or a merged-in job needs the unit to act again; either state
/// ends by [`crate::Engine::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum JobState {
    Waiting,
    Running,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Waiting => "waiting",
            JobState::Running => "running",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An installed job. Plain data, so the manager can persist it as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub unit: UnitId,
    /// Always one of `Start`, `VerifyActive`, `Stop`, `Reload`, `Restart`, `Nop`.
    pub job_type: JobType,
    pub state: JobState,
    /// Installed by `replace-irreversibly`: later transactions may not replace it.
    pub irreversible: bool,
    /// Installed by `ignore-dependencies`: runs regardless of ordering.
    pub ignore_order: bool,
    /// When the job times out (`JobTimeoutSec=` from installation, tightened by
    /// `JobRunningTimeoutSec=` when it starts running), in CLOCK_MONOTONIC µs.
    pub deadline: Option<u64>,
}

use units::UnitId;

/// One job that ended, as reported to the manager (which prints "Started …", sends D-Bus
/// signals, and runs `OnFailure=` for `Timeout`/`Dependency` and `JobTimeoutAction=` for
/// `Timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    pub id: JobId,
    pub unit: UnitId,
    pub job_type: JobType,
    pub result: JobResult,
}

/// systemd's merge table, made symmetric: the one job that does the work of both, or
/// `None` when the two cannot be merged. `ReloadOrStart` is the merge of `Reload` and
/// `Start`; it must be collapsed right away. `Nop` merges with nothing but itself in
/// systemd (it never meets another type there); here it yields the other type so that the
/// function is total.
pub fn merge(a: JobType, b: JobType) -> Option<JobType> {
    use JobType::*;
    if a == b {
        return Some(a);
    }
    match (a, b) {
        (Nop, other) | (other, Nop) => Some(other),
        (Start, VerifyActive) | (VerifyActive, Start) => Some(Start),
        (Stop, _) | (_, Stop) => None,
        (Reload, Start) | (Start, Reload) => Some(ReloadOrStart),
        (Reload, VerifyActive) | (VerifyActive, Reload) => Some(Reload),
        (Restart, Start | VerifyActive | Reload) | (Start | VerifyActive | Reload, Restart) => {
            Some(Restart)
        }
        // The request-only types never reach the table.
        _ => None,
    }
}

/// Turns a state-dependent request type into the type to run (systemd's
/// `job_type_collapse`). Restart is kept for activating units so that they pick up a
/// restarted dependency.
pub fn collapse(t: JobType, state: ActiveState) -> JobType {
    match t {
        JobType::TryRestart => {
            if is_active_or_activating(state) {
                JobType::Restart
            } else {
                JobType::Nop
            }
        }
        JobType::TryReload => {
            if state.is_active_or_reloading() {
                JobType::Reload
            } else {
                JobType::Nop
            }
        }
        JobType::ReloadOrStart => {
            if state.is_active_or_reloading() {
                JobType::Reload
            } else {
                JobType::Start
            }
        }
        other => other,
    }
}

/// Merges, then collapses by the unit's state.
pub fn merge_and_collapse(a: JobType, b: JobType, state: ActiveState) -> Option<JobType> {
    merge(a, b).map(|t| collapse(t, state))
}

/// Whether the job would change nothing about a unit in `state`.
pub fn is_redundant(t: JobType, state: ActiveState) -> bool {
    match t {
        JobType::Start | JobType::VerifyActive => state.is_active_or_reloading(),
        JobType::Stop => state.is_inactive_or_failed(),
        JobType::Reload => state == ActiveState::Reloading,
        // A restart always has an effect, even on an activating unit.
        JobType::Restart => false,
        JobType::Nop => true,
        JobType::TryRestart | JobType::TryReload | JobType::ReloadOrStart => false,
    }
}

/// Two jobs conflict when neither is a `Nop` and they cannot be merged.
pub fn is_conflicting(a: JobType, b: JobType) -> bool {
    a != JobType::Nop && b != JobType::Nop && merge(a, b).is_none()
}

/// Whether doing `a` also does everything `b` asks for.
pub fn is_superset(a: JobType, b: JobType) -> bool {
    if b == JobType::Nop {
        return true;
    }
    if a == JobType::Nop {
        return false;
    }
    merge(a, b) == Some(a)
}

/// `UNIT_IS_ACTIVE_OR_ACTIVATING`.
pub(crate) fn is_active_or_activating(s: ActiveState) -> bool {
    matches!(
        s,
        ActiveState::Active | ActiveState::Activating | ActiveState::Reloading
    )
}

/// Which of two jobs on units with an ordering edge goes first. `a_before_b` says the edge
/// is `a.unit Before= b.unit` (false: `After=`). Returns `Less` when `a` must finish before
/// `b` may run, `Greater` when `b` must finish first, `Equal` when the edge does not
/// order them. Stop jobs go first and run in the reverse of the configured order:
///
/// | a Before b | a start | a stop |
/// |---|---|---|
/// | **b start** | a first | a first |
/// | **b stop**  | b first | b first |
pub(crate) fn order(
    a: (JobType, bool),
    b: (JobType, bool),
    a_before_b: bool,
) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let ((at, a_ignore), (bt, b_ignore)) = (a, b);
    if at == JobType::Nop || bt == JobType::Nop || a_ignore || b_ignore {
        return Ordering::Equal;
    }
    if !a_before_b {
        return order(b, a, true).reverse();
    }
    if bt.is_stop_like() {
        Ordering::Greater
    } else {
        Ordering::Less
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use JobType::*;

    const MERGING: [JobType; 5] = [Start, VerifyActive, Stop, Reload, Restart];

    #[test]
    fn merge_table_is_systemds() {
        let table: &[(JobType, JobType, Option<JobType>)] = &[
            (Start, Start, Some(Start)),
            (Start, VerifyActive, Some(Start)),
            (Start, Stop, None),
            (Start, Reload, Some(ReloadOrStart)),
            (Start, Restart, Some(Restart)),
            (VerifyActive, VerifyActive, Some(VerifyActive)),
            (VerifyActive, Stop, None),
            (VerifyActive, Reload, Some(Reload)),
            (VerifyActive, Restart, Some(Restart)),
            (Stop, Stop, Some(Stop)),
            (Stop, Reload, None),
            (Stop, Restart, None),
            (Reload, Reload, Some(Reload)),
            (Reload, Restart, Some(Restart)),
            (Restart, Restart, Some(Restart)),
        ];
        for &(a, b, want) in table {
            assert_eq!(merge(a, b), want, "{a} + {b}");
            assert_eq!(merge(b, a), want, "{b} + {a}");
        }
    }

    #[test]
    fn merging_then_collapsing_is_associative() {
        for s in [
            ActiveState::Inactive,
            ActiveState::Active,
            ActiveState::Reloading,
        ] {
            for a in MERGING {
                for b in MERGING {
                    for c in MERGING {
                        let left =
                            merge_and_collapse(a, b, s).and_then(|ab| merge_and_collapse(ab, c, s));
                        let right =
                            merge_and_collapse(b, c, s).and_then(|bc| merge_and_collapse(a, bc, s));
                        if left.is_some() && right.is_some() {
                            assert_eq!(left, right, "{a} {b} {c} {s}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn collapse_follows_the_units_state() {
        use ActiveState::*;
        let table: &[(JobType, ActiveState, JobType)] = &[
            (TryRestart, Active, Restart),
            (TryRestart, Activating, Restart),
            (TryRestart, Reloading, Restart),
            (TryRestart, Inactive, Nop),
            (TryRestart, Failed, Nop),
            (TryRestart, Deactivating, Nop),
            (TryReload, Active, Reload),
            (TryReload, Reloading, Reload),
            (TryReload, Activating, Nop),
            (TryReload, Inactive, Nop),
            (ReloadOrStart, Active, Reload),
            (ReloadOrStart, Inactive, Start),
            (ReloadOrStart, Activating, Start),
            (Start, Inactive, Start),
            (Stop, Active, Stop),
        ];
        for &(t, s, want) in table {
            assert_eq!(collapse(t, s), want, "{t} on {s}");
        }
    }

    #[test]
    fn redundancy_follows_the_units_state() {
        use ActiveState::*;
        let table: &[(JobType, ActiveState, bool)] = &[
            (Start, Active, true),
            (Start, Reloading, true),
            (Start, Activating, false),
            (Start, Inactive, false),
            (VerifyActive, Active, true),
            (Stop, Inactive, true),
            (Stop, Failed, true),
            (Stop, Deactivating, false),
            (Stop, Active, false),
            (Reload, Reloading, true),
            (Reload, Active, false),
            (Restart, Active, false),
            (Restart, Inactive, false),
            (Nop, Active, true),
        ];
        for &(t, s, want) in table {
            assert_eq!(is_redundant(t, s), want, "{t} on {s}");
        }
    }

    #[test]
    fn superset_and_conflict() {
        assert!(is_superset(Restart, Start));
        assert!(is_superset(Start, VerifyActive));
        assert!(!is_superset(Start, Reload));
        assert!(is_superset(Stop, Nop));
        assert!(!is_superset(Nop, Stop));
        assert!(is_conflicting(Start, Stop));
        assert!(is_conflicting(Restart, Stop));
        assert!(!is_conflicting(Stop, Nop));
        assert!(!is_conflicting(Start, Reload));
    }

    #[test]
    fn order_runs_starts_forwards_and_stops_backwards() {
        use std::cmp::Ordering::*;
        let no = false;
        // a Before b.
        assert_eq!(order((Start, no), (Start, no), true), Less);
        assert_eq!(order((Stop, no), (Start, no), true), Less);
        assert_eq!(order((Start, no), (Stop, no), true), Greater);
        assert_eq!(order((Stop, no), (Stop, no), true), Greater);
        assert_eq!(order((Restart, no), (Restart, no), true), Greater);
        // a After b is the mirror image.
        assert_eq!(order((Start, no), (Start, no), false), Greater);
        assert_eq!(order((Stop, no), (Stop, no), false), Less);
        assert_eq!(order((Start, no), (Stop, no), false), Greater);
        assert_eq!(order((Stop, no), (Start, no), false), Less);
        // Nop and ignore-order jobs are not ordered.
        assert_eq!(order((Nop, no), (Start, no), true), Equal);
        assert_eq!(order((Start, true), (Start, no), true), Equal);
    }
}
