//! How a process ended, as the manager learns it from `waitid(2)`, and the questions unit
//! types ask about it: is it a clean exit (systemd's `is_clean_exit`), is it listed in an
//! `ExitStatusSpec` set (`SuccessExitStatus=`, `RestartPreventExitStatus=` ...), and how it
//! is spelled in `$EXIT_CODE`/`$EXIT_STATUS` (systemd.exec(5), "Environment variables set
//! or propagated by the service manager").

use serde::{Deserialize, Serialize};
use unitfile::value::{self, ExitStatusSpec};

/// Signal numbers the service state machine needs (Linux, all architectures we target).
pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGABRT: i32 = 6;
pub const SIGKILL: i32 = 9;
pub const SIGPIPE: i32 = 13;
pub const SIGTERM: i32 = 15;

/// The end of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExitStatus {
    /// `exit(code)`; `CLD_EXITED`.
    Exited(i32),
    /// Killed by `signal`; `CLD_KILLED`, or `CLD_DUMPED` when a core was dumped.
    Killed { signal: i32, core_dumped: bool },
}

/// Whose exit is judged: systemd forgives a daemon that dies of SIGHUP, SIGINT, SIGTERM or
/// SIGPIPE (it simply has no handler for them), but never a command run to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClean {
    /// A long-running main process (`EXIT_CLEAN_DAEMON`).
    Daemon,
    /// A control command or a `Type=oneshot` main process (`EXIT_CLEAN_COMMAND`).
    Command,
}

impl ExitStatus {
    /// Whether this exit counts as success: exit code 0, a clean signal for a daemon, or an
    /// entry of `success` (`SuccessExitStatus=`).
    pub fn is_clean(self, clean: ExitClean, success: &[ExitStatusSpec]) -> bool {
        match self {
            ExitStatus::Exited(0) => true,
            ExitStatus::Killed { signal, .. }
                if clean == ExitClean::Daemon
                    && matches!(signal, SIGHUP | SIGINT | SIGTERM | SIGPIPE) =>
            {
                true
            }
            _ => self.is_listed(success),
        }
    }

    /// Whether an entry of `set` names this exit code or signal (a core dump matches its
    /// signal, as in systemd's `exit_status_set_test`).
    pub fn is_listed(self, set: &[ExitStatusSpec]) -> bool {
        set.iter().any(|spec| match (spec, self) {
            (ExitStatusSpec::Code(c), ExitStatus::Exited(code)) => i32::from(*c) == code,
            (ExitStatusSpec::Signal(s), ExitStatus::Killed { signal, .. }) => *s == signal,
            _ => false,
        })
    }

    /// `$EXIT_CODE`: `exited`, `killed` or `dumped`.
    pub fn code_name(self) -> &'static str {
        match self {
            ExitStatus::Exited(_) => "exited",
            ExitStatus::Killed {
                core_dumped: false, ..
            } => "killed",
            ExitStatus::Killed {
                core_dumped: true, ..
            } => "dumped",
        }
    }

    /// `$EXIT_STATUS`: the number for an exit, the signal name without `SIG` for a kill
    /// (`TERM`, `RTMIN+3`), as systemd's `signal_to_string` spells it.
    pub fn status_string(self) -> String {
        match self {
            ExitStatus::Exited(code) => code.to_string(),
            ExitStatus::Killed { signal, .. } => match value::signal_name(signal) {
                Some(name) => name.strip_prefix("SIG").unwrap_or(&name).to_string(),
                None => signal.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn killed(signal: i32) -> ExitStatus {
        ExitStatus::Killed {
            signal,
            core_dumped: false,
        }
    }

    #[test]
    fn clean_exits_follow_is_clean_exit() {
        let success = [ExitStatusSpec::Code(42), ExitStatusSpec::Signal(10)];
        let cases = [
            (ExitStatus::Exited(0), ExitClean::Command, &[][..], true),
            (ExitStatus::Exited(1), ExitClean::Daemon, &[][..], false),
            (
                ExitStatus::Exited(42),
                ExitClean::Command,
                &success[..],
                true,
            ),
            (
                ExitStatus::Exited(43),
                ExitClean::Command,
                &success[..],
                false,
            ),
            (killed(SIGTERM), ExitClean::Daemon, &[][..], true),
            (killed(SIGHUP), ExitClean::Daemon, &[][..], true),
            (killed(SIGINT), ExitClean::Daemon, &[][..], true),
            (killed(SIGPIPE), ExitClean::Daemon, &[][..], true),
            (killed(SIGTERM), ExitClean::Command, &[][..], false),
            (killed(SIGKILL), ExitClean::Daemon, &[][..], false),
            (killed(10), ExitClean::Command, &success[..], true),
            (
                ExitStatus::Killed {
                    signal: SIGTERM,
                    core_dumped: true,
                },
                ExitClean::Daemon,
                &[][..],
                true,
            ),
        ];
        for (status, clean, set, expected) in cases {
            assert_eq!(
                status.is_clean(clean, set),
                expected,
                "{status:?} {clean:?}"
            );
        }
    }

    #[test]
    fn environment_spelling_matches_systemd() {
        assert_eq!(ExitStatus::Exited(3).code_name(), "exited");
        assert_eq!(ExitStatus::Exited(3).status_string(), "3");
        assert_eq!(killed(SIGTERM).code_name(), "killed");
        assert_eq!(killed(SIGTERM).status_string(), "TERM");
        let dumped = ExitStatus::Killed {
            signal: 11,
            core_dumped: true,
        };
        assert_eq!(dumped.code_name(), "dumped");
        assert_eq!(dumped.status_string(), "SEGV");
        assert_eq!(killed(99).status_string(), "99");
    }
}
