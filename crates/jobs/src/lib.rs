//! `jobs` is the job engine with systemd 252's semantics: a request ("start a.service,
//! mode replace") becomes a *transaction* built from the requirement closure of the unit,
//! whose jobs are merged per unit, checked for conflicts and ordering cycles (a cycle is
//! broken by deleting a job the request does not need, and logged), reconciled with the
//! jobs already queued according to the job mode, and installed. Installed jobs run as soon
//! as their ordering constraints allow — every runnable job may run in parallel — and end
//! with a [`JobResult`]; a failed start fails the start jobs of the units that require it.
//!
//! The engine is pure: it knows units only through the dependency [`units::Graph`] and the
//! [`Units`] trait the manager implements, reads no clock (time is passed in as CLOCK_MONOTONIC
//! microseconds) and performs nothing itself: it returns what the manager must do
//! ([`Begin::Perform`]) and what ended ([`Finished`]).
//!
//! Modules: [`types`] (job types and their merge/collapse rules), `transaction` (building and
//! activating one transaction), [`engine`] (the installed jobs and their life cycle).

pub mod engine;
mod transaction;
pub mod types;

pub use engine::{Action, Begin, Engine, Enqueued, StateChange};
pub use types::{Finished, Job, JobId, JobMode, JobResult, JobState, JobType};

use std::fmt;

use units::{ActiveState, UnitId};

/// A unit's load state as far as the job engine cares (systemd's `LoadState=`): only loaded
/// units can be started; every unit can be stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoadState {
    Loaded,
    NotFound,
    BadSetting,
    Error,
    Masked,
}

/// What the engine needs to know about units, implemented by the manager (and by a fake in
/// tests). The defaults describe an ordinary, loaded unit that can be started and stopped.
pub trait Units {
    fn active_state(&self, u: UnitId) -> ActiveState;
    /// The unit's primary name, for messages.
    fn name(&self, u: UnitId) -> String;
    /// `AllowIsolate=`.
    fn allow_isolate(&self, u: UnitId) -> bool;
    /// `IgnoreOnIsolate=`.
    fn ignore_on_isolate(&self, u: UnitId) -> bool;
    /// `RefuseManualStart=`.
    fn refuse_manual_start(&self, u: UnitId) -> bool;
    /// `RefuseManualStop=`.
    fn refuse_manual_stop(&self, u: UnitId) -> bool;
    /// Whether the unit type and configuration support reloading (e.g. `ExecReload=`).
    fn can_reload(&self, u: UnitId) -> bool;
    /// `JobTimeoutSec=` in µs; `None` is infinity.
    fn job_timeout(&self, u: UnitId) -> Option<u64>;
    /// Every loaded unit (isolate stops those not in the transaction).
    fn all(&self) -> Vec<UnitId>;

    /// `JobRunningTimeoutSec=` in µs; `None` is infinity.
    fn job_running_timeout(&self, _u: UnitId) -> Option<u64> {
        None
    }
    fn load_state(&self, _u: UnitId) -> LoadState {
        LoadState::Loaded
    }
    /// Whether the unit type can be started by the manager at all (device units cannot;
    /// restart jobs need it).
    fn can_start(&self, _u: UnitId) -> bool {
        true
    }
    /// False for perpetual units (`-.mount`, `init.scope`), which no job may stop.
    fn can_stop(&self, _u: UnitId) -> bool {
        true
    }
}

/// Why a transaction was refused. The messages are systemd's, as `systemctl` prints them
/// after "Failed to start foo.service: ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionError {
    /// A mode used with a job type it does not apply to.
    InvalidArgs(&'static str),
    /// `isolate` of a unit without `AllowIsolate=yes`.
    NoIsolation,
    /// A manual request for a unit with `RefuseManualStart=`/`RefuseManualStop=`.
    OnlyByDependency {
        unit: String,
    },
    /// Stop of a unit that is neither loaded nor running.
    NotLoaded {
        unit: String,
    },
    NotFound {
        unit: String,
    },
    Masked {
        unit: String,
    },
    BadSetting {
        unit: String,
    },
    LoadFailed {
        unit: String,
    },
    NotApplicable {
        job_type: JobType,
        unit: String,
    },
    ConflictingJobs {
        a: JobType,
        b: JobType,
        unit: String,
    },
    Destructive {
        anchor_unit: String,
        anchor_type: JobType,
        unit: String,
        queued: JobType,
        included: JobType,
    },
    OrderIsCyclic,
    /// The anchor job was lost while the transaction was reduced: never expected, reported
    /// instead of panicking.
    Internal(&'static str),
}

impl fmt::Display for TransactionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TransactionError::*;
        match self {
            InvalidArgs(m) => f.write_str(m),
            NoIsolation => f.write_str("Operation refused, unit may not be isolated."),
            OnlyByDependency { unit } => write!(
                f,
                "Operation refused, unit {unit} may be requested by dependency only (it is configured to refuse manual start/stop)."
            ),
            NotLoaded { unit } => write!(f, "Unit {unit} not loaded."),
            NotFound { unit } => write!(f, "Unit {unit} not found."),
            Masked { unit } => write!(f, "Unit {unit} is masked."),
            BadSetting { unit } => write!(f, "Unit {unit} has a bad unit file setting."),
            LoadFailed { unit } => write!(
                f,
                "Unit {unit} failed to load properly, please adjust/correct and reload service manager."
            ),
            NotApplicable { job_type, unit } => {
                write!(f, "Job type {job_type} is not applicable for unit {unit}.")
            }
            ConflictingJobs { a, b, unit } => write!(
                f,
                "Transaction contains conflicting jobs '{a}' and '{b}' for {unit}. Probably contradicting requirement dependencies configured."
            ),
            Destructive { anchor_unit, anchor_type, unit, queued, included } => write!(
                f,
                "Transaction for {anchor_unit}/{anchor_type} is destructive ({unit} has '{queued}' job queued, but '{included}' is included in transaction)."
            ),
            OrderIsCyclic => f.write_str("Transaction order is cyclic. See system logs for details."),
            Internal(m) => write!(f, "Internal error: {m}"),
        }
    }
}

impl std::error::Error for TransactionError {}

impl TransactionError {
    /// Errors a dependency may cause that systemd skips quietly when the dependency is only
    /// wanted (masked, not found, not applicable).
    pub(crate) fn is_quiet_for_wants(&self) -> bool {
        matches!(
            self,
            TransactionError::Masked { .. }
                | TransactionError::NotFound { .. }
                | TransactionError::NotApplicable { .. }
        )
    }
}

/// A refused request: the reason, and the lines logged while trying (e.g. the ordering cycle
/// that could not be broken).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnqueueError {
    pub error: TransactionError,
    pub log: Vec<String>,
}

impl fmt::Display for EnqueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for EnqueueError {}
