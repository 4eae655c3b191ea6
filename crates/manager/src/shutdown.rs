//! What the manager does when it is asked to go down: by `sctl poweroff|reboot|halt|kexec`,
//! by a signal relayed from PID 1, or by a unit's emergency action (`FailureAction=`,
//! `SuccessAction=`, `StartLimitAction=`, `JobTimeoutAction=`, systemd.unit(5)).
//!
//! An [`Objective`] names the end state; a [`Procedure`] says how to get there:
//! - `Orderly`: start the objective's target (`poweroff.target`, ...) in
//!   `replace-irreversibly` mode, so that units conflicting with `shutdown.target` are stopped
//!   in dependency order; then stop whatever still runs; then the final step. When the
//!   target has no unit file (a test instance, a minimal image) every unit is stopped in
//!   reverse dependency order instead.
//! - `Force` (`*-force`): no target and no orderly stop: every unit's processes are killed
//!   and the final step follows at once.
//!
//! `*-immediate` actions are treated as `*-force` (the manager cannot skip killing without
//! PID 1 doing `reboot(2)` itself; PID 1 does not kill once the manager has done it), and
//! `soft-reboot` (systemd 254) as `reboot`: both are logged as such.

use proto::init::FinalAction;
use unitfile::model::unit::EmergencyAction;

/// The end state of the manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    Halt,
    Poweroff,
    Reboot,
    Kexec,
    /// Exit the manager with this status (containers; `exit.target`).
    Exit(u8),
}

/// How to reach the objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Procedure {
    Orderly,
    Force,
}

impl Objective {
    /// The target unit started for an orderly procedure.
    pub fn target(self) -> &'static str {
        match self {
            Objective::Halt => "halt.target",
            Objective::Poweroff => "poweroff.target",
            Objective::Reboot => "reboot.target",
            Objective::Kexec => "kexec.target",
            Objective::Exit(_) => "exit.target",
        }
    }

    /// The present participle systemd logs ("Powering off.").
    pub fn doing(self) -> &'static str {
        match self {
            Objective::Halt => "halting",
            Objective::Poweroff => "powering off",
            Objective::Reboot => "rebooting",
            Objective::Kexec => "rebooting via kexec",
            Objective::Exit(_) => "exiting",
        }
    }

    /// What PID 1 is asked to do at the end.
    pub fn final_action(self) -> FinalAction {
        match self {
            Objective::Halt => FinalAction::Halt,
            Objective::Poweroff => FinalAction::Poweroff,
            Objective::Reboot => FinalAction::Reboot,
            Objective::Kexec => FinalAction::Kexec,
            Objective::Exit(status) => FinalAction::Exit { status },
        }
    }

    /// The manager's own exit status when it runs without PID 1.
    pub fn exit_status(self) -> i32 {
        match self {
            Objective::Exit(status) => i32::from(status),
            _ => 0,
        }
    }

    /// A `sctl poweroff|reboot|halt|kexec` request.
    pub fn from_request(kind: proto::ShutdownKind) -> Objective {
        match kind {
            proto::ShutdownKind::Poweroff => Objective::Poweroff,
            proto::ShutdownKind::Reboot => Objective::Reboot,
            proto::ShutdownKind::Halt => Objective::Halt,
            proto::ShutdownKind::Kexec => Objective::Kexec,
        }
    }
}

/// An emergency action of a unit, with the exit status `exit`/`exit-force` propagate
/// (`*ActionExitStatus=`, else the main process's exit code). `None` for `none`.
/// The second value is a note to log when the action is approximated.
pub fn emergency(
    action: EmergencyAction,
    exit_status: u8,
) -> Option<(Objective, Procedure, Option<&'static str>)> {
    use EmergencyAction as A;
    use Objective as O;
    use Procedure::{Force, Orderly};
    const IMMEDIATE: &str = "the -immediate variant is carried out as -force";
    const SOFT: &str = "soft-reboot is not supported, rebooting instead";
    Some(match action {
        A::None => return None,
        A::Reboot => (O::Reboot, Orderly, None),
        A::RebootForce => (O::Reboot, Force, None),
        A::RebootImmediate => (O::Reboot, Force, Some(IMMEDIATE)),
        A::Poweroff => (O::Poweroff, Orderly, None),
        A::PoweroffForce => (O::Poweroff, Force, None),
        A::PoweroffImmediate => (O::Poweroff, Force, Some(IMMEDIATE)),
        A::Exit => (O::Exit(exit_status), Orderly, None),
        A::ExitForce => (O::Exit(exit_status), Force, None),
        A::SoftReboot => (O::Reboot, Orderly, Some(SOFT)),
        A::SoftRebootForce => (O::Reboot, Force, Some(SOFT)),
        A::Kexec => (O::Kexec, Orderly, None),
        A::KexecForce => (O::Kexec, Force, None),
        A::Halt => (O::Halt, Orderly, None),
        A::HaltForce => (O::Halt, Force, None),
        A::HaltImmediate => (O::Halt, Force, Some(IMMEDIATE)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emergency_actions_map_to_objectives_and_procedures() {
        use EmergencyAction as A;
        use Objective as O;
        use Procedure::{Force, Orderly};
        let cases = [
            (A::Reboot, Some((O::Reboot, Orderly, false))),
            (A::RebootForce, Some((O::Reboot, Force, false))),
            (A::RebootImmediate, Some((O::Reboot, Force, true))),
            (A::PoweroffForce, Some((O::Poweroff, Force, false))),
            (A::Exit, Some((O::Exit(3), Orderly, false))),
            (A::ExitForce, Some((O::Exit(3), Force, false))),
            (A::SoftReboot, Some((O::Reboot, Orderly, true))),
            (A::Kexec, Some((O::Kexec, Orderly, false))),
            (A::HaltImmediate, Some((O::Halt, Force, true))),
        ];
        for (action, expected) in cases {
            let got = emergency(action, 3).map(|(o, p, note)| (o, p, note.is_some()));
            assert_eq!(got, expected, "{action:?}");
        }
        assert_eq!(emergency(A::None, 3), None);
    }

    #[test]
    fn objectives_name_their_target_and_final_step() {
        assert_eq!(Objective::Poweroff.target(), "poweroff.target");
        assert_eq!(Objective::Exit(4).target(), "exit.target");
        assert_eq!(Objective::Exit(4).exit_status(), 4);
        assert_eq!(Objective::Reboot.exit_status(), 0);
        assert_eq!(
            Objective::Exit(4).final_action(),
            FinalAction::Exit { status: 4 }
        );
        assert_eq!(
            Objective::from_request(proto::ShutdownKind::Kexec),
            Objective::Kexec
        );
    }
}
