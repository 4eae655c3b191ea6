//! What each signal to PID 1 means (systemd(1), "SIGNALS"; busybox init for
//! SIGUSR1/SIGUSR2). All of them are blocked and read from a signalfd, which is also how
//! a PID 1 receives signals at all: the kernel drops signals to an init that neither
//! blocks nor handles them.

use proto::init::{FinalAction, InitRequest};
use sys::signal::*;

/// What to do about a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Tell the manager (or keep it for the next one).
    Request(InitRequest),
    /// systemd's "immediate" signals: the final step at once, without the manager.
    Immediate(FinalAction),
    /// Reap children.
    Children,
    Ignore,
}

/// Every signal we block and read.
#[rustfmt::skip]
pub const HANDLED: [i32; 17] = [
    SIGCHLD, SIGINT, SIGWINCH, SIGPWR, SIGUSR1, SIGUSR2, SIGTERM, SIGHUP, SIGPIPE,
    RT + 3, RT + 4, RT + 5, RT + 6, RT + 13, RT + 14, RT + 15, RT + 16,
];
const RT: i32 = SIGRTMIN;

/// The meaning of `signal`; SIGTERM asks a container to power off (as `docker stop`
/// means it) and the manager of a machine to re-execute (as systemd does).
pub fn action(signal: i32, container: bool) -> Action {
    use InitRequest::*;
    let request = match signal {
        SIGCHLD => return Action::Children,
        SIGINT => CtrlAltDel,
        SIGWINCH => KbRequest,
        SIGPWR => PowerFailure,
        SIGUSR1 => Halt,
        SIGUSR2 => Poweroff,
        SIGTERM if container => Poweroff,
        SIGTERM => Reexec,
        s if s == SIGRTMIN + 3 => Halt,
        s if s == SIGRTMIN + 4 => Poweroff,
        s if s == SIGRTMIN + 5 => Reboot,
        s if s == SIGRTMIN + 6 => Kexec,
        s => {
            return match s - SIGRTMIN {
                13 => Action::Immediate(FinalAction::Halt),
                14 => Action::Immediate(FinalAction::Poweroff),
                15 => Action::Immediate(FinalAction::Reboot),
                16 => Action::Immediate(FinalAction::Kexec),
                _ => Action::Ignore,
            }
        }
    };
    Action::Request(request)
}

/// The final action a shutdown request ends in, for when no manager is left to do it.
pub fn shutdown_action(request: InitRequest) -> Option<FinalAction> {
    match request {
        InitRequest::Halt => Some(FinalAction::Halt),
        InitRequest::Poweroff => Some(FinalAction::Poweroff),
        InitRequest::Reboot => Some(FinalAction::Reboot),
        InitRequest::Kexec => Some(FinalAction::Kexec),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InitRequest::*;

    #[test]
    fn signal_table() {
        let table = [
            (2, false, Action::Request(CtrlAltDel)),
            (28, false, Action::Request(KbRequest)),
            (30, false, Action::Request(PowerFailure)),
            (10, false, Action::Request(Halt)),
            (12, false, Action::Request(Poweroff)),
            (15, true, Action::Request(Poweroff)),
            (15, false, Action::Request(Reexec)),
            (37, false, Action::Request(Halt)),
            (38, true, Action::Request(Poweroff)),
            (39, false, Action::Request(Reboot)),
            (40, false, Action::Request(Kexec)),
            (47, false, Action::Immediate(FinalAction::Halt)),
            (48, false, Action::Immediate(FinalAction::Poweroff)),
            (49, false, Action::Immediate(FinalAction::Reboot)),
            (50, false, Action::Immediate(FinalAction::Kexec)),
            (17, false, Action::Children),
            (1, false, Action::Ignore),
            (13, false, Action::Ignore),
            (41, false, Action::Ignore),
        ];
        for (signal, container, expected) in table {
            assert_eq!(action(signal, container), expected, "signal {signal}");
        }
        for s in HANDLED {
            assert!((1..65).contains(&s));
        }
        assert_eq!(shutdown_action(Reboot), Some(FinalAction::Reboot));
        assert_eq!(shutdown_action(Reexec), None);
    }
}
