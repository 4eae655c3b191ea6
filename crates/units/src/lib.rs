//! `units` implements each unit type (service, socket, target, slice, mount, timer, ...)
//! as a pure state machine: events in, effects out (spawn, kill, arm a timer). It also
//! holds what the job engine needs to know of units: the dependency [`graph`] and the
//! [`ActiveState`] of each unit. It never performs a syscall itself, and one unit type
//! never imports another.

pub mod deps;
pub mod device;
pub mod exit;
pub mod graph;
pub mod mount;
pub mod service;
pub mod socket;

pub use graph::{Dependency, Graph, UnitId};

use serde::{Deserialize, Serialize};
use std::fmt;

/// The high-level state every unit type maps its own states to (systemd.unit(5),
/// `ActiveState=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ActiveState {
    Inactive,
    Activating,
    Active,
    Reloading,
    Deactivating,
    Failed,
}

impl ActiveState {
    /// Active or on its way to being active and usable (systemd's
    /// `UNIT_IS_ACTIVE_OR_RELOADING`).
    pub fn is_active_or_reloading(self) -> bool {
        matches!(self, ActiveState::Active | ActiveState::Reloading)
    }

    /// Inactive or failed: nothing of the unit runs.
    pub fn is_inactive_or_failed(self) -> bool {
        matches!(self, ActiveState::Inactive | ActiveState::Failed)
    }
}

impl fmt::Display for ActiveState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ActiveState::Inactive => "inactive",
            ActiveState::Activating => "activating",
            ActiveState::Active => "active",
            ActiveState::Reloading => "reloading",
            ActiveState::Deactivating => "deactivating",
            ActiveState::Failed => "failed",
        })
    }
}
