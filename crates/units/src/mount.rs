//! The mount unit (systemd.mount(5)) as a pure state machine, following systemd 252's
//! `src/core/mount.c` where it matters: the manager runs `mount(8)` and `umount(8)` as the
//! control process, and the mount table (`/proc/self/mountinfo`, parsed by [`mountinfo`])
//! has the last word on whether the file system is mounted.
//!
//! ```text
//!   dead/failed ──Start──▶ mounting ──(seen in the table)──▶ mounting-done
//!        ▲                    │ mount exits                      │ mount exits
//!        │                    ▼ (not in the table: failed)       ▼
//!        │ ◀──────────────────┘                               mounted ◀── seen in the table
//!        │                                                       │ Stop     (mounted by others)
//!        │   (gone from the table: dead)                         ▼
//!        └──── unmounting-sigkill ◀── unmounting-sigterm ◀── unmounting
//!                                     (timeout, or Stop while mounting)
//! ```
//!
//! - Start creates `Where=` (`DirectoryMode=`) and runs `mount WHAT WHERE [-s] [-w]
//!   [-t TYPE] [-o OPTIONS]` with `TimeoutSec=`. The unit is mounted once the mount
//!   process succeeded *and* the mount point is in the table; a success without the mount
//!   is the result `protocol`, as in systemd.
//! - Stop runs `umount WHERE [-l] [-f]`; a success with the mount point still present
//!   (stacked mounts) runs it again, up to 32 times.
//! - A timeout sends `KillSignal=` to the control process (and the unit's cgroup), then
//!   `SIGKILL` unless `SendSIGKILL=no`; the end is `dead` or `mounted`, whatever the table
//!   says then.
//! - The table rules outside our own actions: a mount appearing for a dead or failed unit
//!   makes it `mounted` (someone ran mount(8)), a mount disappearing from a mounted unit
//!   makes it `dead`.
//!
//! The caller reports the table as [`Event::Mountinfo`] whenever it changes, when the
//! unit is loaded, and right before the exit of a control process (so that the exit is
//! judged against a fresh table, as systemd rescans mountinfo before handling SIGCHLD).
//! Not modelled: remounting (`reload`), `x-systemd.automount`, device units.

pub mod mountinfo;

use crate::exit::{ExitStatus, SIGKILL, SIGTERM};
use crate::ActiveState;
use serde::{Deserialize, Serialize};
use std::fmt;
use unitfile::name::{self, UnitName};
use unitfile::value::USEC_INFINITY;

/// `DefaultTimeoutStartSec=`, which `TimeoutSec=` defaults to.
pub const DEFAULT_TIMEOUT_USEC: u64 = 90_000_000;
/// How often `umount` is run again while the mount point stays mounted.
const RETRY_UMOUNT_MAX: u32 = 32;

/// The states of a mount (`SubState=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MountState {
    Dead,
    Mounting,
    MountingDone,
    Mounted,
    Unmounting,
    UnmountingSigterm,
    UnmountingSigkill,
    Failed,
}

impl MountState {
    pub fn as_str(self) -> &'static str {
        match self {
            MountState::Dead => "dead",
            MountState::Mounting => "mounting",
            MountState::MountingDone => "mounting-done",
            MountState::Mounted => "mounted",
            MountState::Unmounting => "unmounting",
            MountState::UnmountingSigterm => "unmounting-sigterm",
            MountState::UnmountingSigkill => "unmounting-sigkill",
            MountState::Failed => "failed",
        }
    }

    pub fn active_state(self) -> ActiveState {
        match self {
            MountState::Dead => ActiveState::Inactive,
            MountState::Mounting | MountState::MountingDone => ActiveState::Activating,
            MountState::Mounted => ActiveState::Active,
            MountState::Unmounting
            | MountState::UnmountingSigterm
            | MountState::UnmountingSigkill => ActiveState::Deactivating,
            MountState::Failed => ActiveState::Failed,
        }
    }
}

/// How the last activation ended (`Result=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MountResult {
    Success,
    Resources,
    Timeout,
    ExitCode,
    Signal,
    CoreDump,
    /// The mount process succeeded but no mount appeared.
    Protocol,
}

impl MountResult {
    pub fn as_str(self) -> &'static str {
        match self {
            MountResult::Success => "success",
            MountResult::Resources => "resources",
            MountResult::Timeout => "timeout",
            MountResult::ExitCode => "exit-code",
            MountResult::Signal => "signal",
            MountResult::CoreDump => "core-dump",
            MountResult::Protocol => "protocol",
        }
    }

    fn of_exit(status: ExitStatus) -> MountResult {
        match status {
            ExitStatus::Exited(0) => MountResult::Success,
            ExitStatus::Exited(_) => MountResult::ExitCode,
            ExitStatus::Killed {
                core_dumped: true, ..
            } => MountResult::CoreDump,
            ExitStatus::Killed { .. } => MountResult::Signal,
        }
    }
}

impl fmt::Display for MountResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The settings the machine uses, from `[Mount]` and the kill context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountConfig {
    pub what: String,
    /// `Where=`, or the path the unit name stands for.
    pub where_: String,
    pub fs_type: Option<String>,
    pub options: Option<String>,
    pub sloppy_options: bool,
    pub read_write_only: bool,
    pub lazy_unmount: bool,
    pub force_unmount: bool,
    pub directory_mode: u32,
    /// `TimeoutSec=`; `None` for infinity.
    pub timeout_usec: Option<u64>,
    pub kill_signal: i32,
    pub send_sigkill: bool,
}

impl MountConfig {
    pub fn new(name: &UnitName, m: &unitfile::model::Mount) -> MountConfig {
        let where_ = m
            .where_
            .clone()
            .or_else(|| name::unit_name_to_path(name).ok())
            .unwrap_or_default();
        let timeout = m.timeout_sec.unwrap_or(DEFAULT_TIMEOUT_USEC);
        MountConfig {
            what: m.what.clone().unwrap_or_default(),
            where_,
            fs_type: m.fs_type.clone().filter(|t| !t.is_empty()),
            options: m.options.clone().filter(|o| !o.is_empty()),
            sloppy_options: m.sloppy_options.unwrap_or(false),
            read_write_only: m.read_write_only.unwrap_or(false),
            lazy_unmount: m.lazy_unmount.unwrap_or(false),
            force_unmount: m.force_unmount.unwrap_or(false),
            directory_mode: m.directory_mode.unwrap_or(0o755),
            timeout_usec: (timeout != 0 && timeout != USEC_INFINITY).then_some(timeout),
            kill_signal: m.kill.kill_signal.unwrap_or(SIGTERM),
            send_sigkill: m.kill.send_sigkill.unwrap_or(true),
        }
    }

    /// The `mount(8)` command line, `argv[0]` being the bare program name.
    pub fn mount_argv(&self) -> Vec<String> {
        let mut argv = vec!["mount".to_string(), self.what.clone(), self.where_.clone()];
        if self.sloppy_options {
            argv.push("-s".into());
        }
        if self.read_write_only {
            argv.push("-w".into());
        }
        if let Some(t) = &self.fs_type {
            argv.push("-t".into());
            argv.push(t.clone());
        }
        let options = self
            .options
            .as_deref()
            .map(mount_options)
            .unwrap_or_default();
        if !options.is_empty() {
            argv.push("-o".into());
            argv.push(options);
        }
        argv
    }

    /// The `umount(8)` command line.
    pub fn umount_argv(&self) -> Vec<String> {
        let mut argv = vec!["umount".to_string(), self.where_.clone()];
        if self.lazy_unmount {
            argv.push("-l".into());
        }
        if self.force_unmount {
            argv.push("-f".into());
        }
        argv
    }
}

/// The options passed to mount(8): what systemd filters out (`nofail`, `noauto`,
/// `auto`) and the userspace-only `x-` options (mount(8) ignores those; busybox's would
/// hand them to the kernel, which refuses them) are dropped.
pub fn mount_options(options: &str) -> String {
    options
        .split(',')
        .filter(|o| !o.is_empty())
        .filter(|o| !matches!(*o, "nofail" | "noauto" | "auto") && !o.starts_with("x-"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Which command the control process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Mount,
    Unmount,
}

impl Command {
    fn name(self) -> &'static str {
        match self {
            Command::Mount => "Mount",
            Command::Unmount => "Unmount",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Start,
    Stop,
    /// Whether `Where=` is a mount point in the table now.
    Mountinfo(bool),
    /// The process of a `Spawn` effect exists.
    Spawned {
        pid: u32,
    },
    /// It failed before running the command, with systemd's set-up exit code.
    SpawnFailed {
        exit_code: i32,
    },
    /// The manager could not even prepare it (result `resources`).
    SpawnResources,
    Exited {
        pid: u32,
        status: ExitStatus,
    },
    /// The armed timer elapsed.
    Timer,
    ResetFailed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// `mkdir -p` with this mode (an error is only logged, as systemd does).
    CreateDirectory {
        path: String,
        mode: u32,
    },
    /// Run `argv` (its first word a bare program name: `mount` or `umount`) as the control
    /// process; answer `Spawned`, `SpawnFailed` or `SpawnResources`.
    Spawn {
        command: Command,
        argv: Vec<String>,
    },
    /// Signal the control process and the unit's cgroup (then SIGCONT).
    Kill {
        signal: i32,
    },
    /// Report `Event::Timer` at `at` (µs, `CLOCK_MONOTONIC`), replacing an earlier arming.
    ArmTimer {
        at: u64,
    },
    DisarmTimer,
    /// The unit became mounted without a start job of ours: a new invocation.
    NewInvocation,
    StateChanged {
        from: MountState,
        to: MountState,
        result: MountResult,
    },
    Log(String),
}

/// The control process: spawned but its pid not reported yet, or running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Control {
    Pending(Command),
    Running(Command, u32),
}

/// The runtime part of a mount, which the manager persists ([`Mount::snapshot`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSnapshot {
    pub state: MountState,
    pub result: MountResult,
    /// The mount point was in the table when last reported.
    pub mounted: bool,
    pub control: Option<Control>,
    pub timer: Option<u64>,
    pub umount_retries: u32,
}

/// A mount unit.
#[derive(Debug, Clone)]
pub struct Mount {
    config: MountConfig,
    rt: MountSnapshot,
    now: u64,
    effects: Vec<Effect>,
}

impl Mount {
    pub fn new(config: MountConfig) -> Mount {
        Mount {
            config,
            rt: MountSnapshot {
                state: MountState::Dead,
                result: MountResult::Success,
                mounted: false,
                control: None,
                timer: None,
                umount_retries: 0,
            },
            now: 0,
            effects: Vec::new(),
        }
    }

    pub fn snapshot(&self) -> MountSnapshot {
        self.rt.clone()
    }

    /// A mount as a previous manager left it, and the effects that resume it (its timer).
    /// A control process still `Pending` is the caller's to resolve (`Spawned` or
    /// `SpawnResources`).
    pub fn restore(config: MountConfig, snap: MountSnapshot) -> (Mount, Vec<Effect>) {
        let mut m = Mount::new(config);
        m.rt = snap;
        let effects =
            m.rt.timer
                .map(|at| vec![Effect::ArmTimer { at }])
                .unwrap_or_default();
        (m, effects)
    }

    pub fn config(&self) -> &MountConfig {
        &self.config
    }

    pub fn set_config(&mut self, config: MountConfig) {
        self.config = config;
    }

    pub fn state(&self) -> MountState {
        self.rt.state
    }

    pub fn result(&self) -> MountResult {
        self.rt.result
    }

    pub fn active_state(&self) -> ActiveState {
        self.rt.state.active_state()
    }

    pub fn control_pid(&self) -> Option<u32> {
        match self.rt.control {
            Some(Control::Running(_, pid)) => Some(pid),
            _ => None,
        }
    }

    /// A control process was spawned but its pid never reported.
    pub fn control_pending(&self) -> bool {
        matches!(self.rt.control, Some(Control::Pending(_)))
    }

    pub fn handle(&mut self, now: u64, event: Event) -> Vec<Effect> {
        use MountState::*;
        self.now = now;
        match event {
            Event::Start => match self.rt.state {
                Dead | Failed if self.rt.mounted => {
                    // Already mounted (the table said so): nothing to run.
                    self.rt.result = MountResult::Success;
                    self.enter_mounted(MountResult::Success);
                }
                Dead | Failed => self.enter_mounting(),
                _ => {}
            },
            Event::Stop => match self.rt.state {
                Mounting | MountingDone => {
                    // The mount command is still running: kill it.
                    self.enter_signal(UnmountingSigterm, MountResult::Success)
                }
                Mounted => {
                    self.rt.umount_retries = 0;
                    self.enter_unmounting();
                }
                _ => {}
            },
            Event::Mountinfo(now_mounted) => self.mountinfo(now_mounted),
            Event::Spawned { pid } => {
                if let Some(Control::Pending(c)) = self.rt.control {
                    self.rt.control = Some(Control::Running(c, pid));
                }
            }
            Event::SpawnFailed { exit_code } => {
                if let Some(Control::Pending(_)) = self.rt.control {
                    self.control_exited(ExitStatus::Exited(exit_code));
                }
            }
            Event::SpawnResources => {
                if let Some(Control::Pending(c)) = self.rt.control {
                    self.rt.control = None;
                    self.disarm();
                    self.effects.push(Effect::Log(format!(
                        "Failed to run '{}' task.",
                        c.name().to_lowercase()
                    )));
                    self.enter_dead_or_mounted(MountResult::Resources);
                }
            }
            Event::Exited { pid, status } => {
                if matches!(self.rt.control, Some(Control::Running(_, p)) if p == pid) {
                    self.control_exited(status);
                }
            }
            Event::Timer => {
                if self.rt.timer.is_some() {
                    self.rt.timer = None;
                    self.timeout();
                }
            }
            Event::ResetFailed => {
                if self.rt.state == Failed {
                    self.rt.result = MountResult::Success;
                    self.set(Dead);
                } else {
                    self.rt.result = MountResult::Success;
                }
            }
        }
        std::mem::take(&mut self.effects)
    }

    fn set(&mut self, to: MountState) {
        let from = self.rt.state;
        self.rt.state = to;
        if !matches!(
            to,
            MountState::Mounting
                | MountState::MountingDone
                | MountState::Unmounting
                | MountState::UnmountingSigterm
                | MountState::UnmountingSigkill
        ) {
            self.disarm();
        }
        self.effects.push(Effect::StateChanged {
            from,
            to,
            result: self.rt.result,
        });
    }

    fn arm(&mut self) {
        match self.config.timeout_usec {
            Some(t) => {
                let at = self.now.saturating_add(t);
                self.rt.timer = Some(at);
                self.effects.push(Effect::ArmTimer { at });
            }
            None => self.disarm(),
        }
    }

    fn disarm(&mut self) {
        if self.rt.timer.take().is_some() {
            self.effects.push(Effect::DisarmTimer);
        }
    }

    fn keep_first_failure(&mut self, f: MountResult) {
        if self.rt.result == MountResult::Success {
            self.rt.result = f;
        }
    }

    fn spawn(&mut self, command: Command) {
        let argv = match command {
            Command::Mount => self.config.mount_argv(),
            Command::Unmount => self.config.umount_argv(),
        };
        self.rt.control = Some(Control::Pending(command));
        self.effects.push(Effect::Spawn { command, argv });
        self.arm();
    }

    fn enter_mounting(&mut self) {
        self.rt.result = MountResult::Success;
        self.rt.umount_retries = 0;
        self.effects.push(Effect::CreateDirectory {
            path: self.config.where_.clone(),
            mode: self.config.directory_mode,
        });
        self.spawn(Command::Mount);
        self.set(MountState::Mounting);
    }

    fn enter_unmounting(&mut self) {
        self.spawn(Command::Unmount);
        self.set(MountState::Unmounting);
    }

    fn enter_mounted(&mut self, f: MountResult) {
        self.keep_first_failure(f);
        self.set(MountState::Mounted);
    }

    fn enter_dead(&mut self, f: MountResult) {
        self.keep_first_failure(f);
        let to = if self.rt.result == MountResult::Success {
            MountState::Dead
        } else {
            MountState::Failed
        };
        self.set(to);
    }

    fn enter_dead_or_mounted(&mut self, f: MountResult) {
        if self.rt.mounted {
            self.enter_mounted(f);
        } else {
            self.enter_dead(f);
        }
    }

    fn enter_signal(&mut self, state: MountState, f: MountResult) {
        self.keep_first_failure(f);
        if self.rt.control.is_some() {
            let signal = if state == MountState::UnmountingSigkill {
                SIGKILL
            } else {
                self.config.kill_signal
            };
            self.effects.push(Effect::Kill { signal });
            self.arm();
            self.set(state);
        } else if state == MountState::UnmountingSigterm && self.config.send_sigkill {
            self.enter_signal(MountState::UnmountingSigkill, MountResult::Success);
        } else {
            self.enter_dead_or_mounted(MountResult::Success);
        }
    }

    fn control_exited(&mut self, status: ExitStatus) {
        let command = match self.rt.control.take() {
            Some(Control::Pending(c) | Control::Running(c, _)) => c,
            None => return,
        };
        self.disarm();
        let mut f = MountResult::of_exit(status);
        if f != MountResult::Success {
            self.effects.push(Effect::Log(format!(
                "{} process exited, code={}, status={}",
                command.name(),
                status.code_name(),
                status.status_string()
            )));
        }
        use MountState::*;
        match self.rt.state {
            Mounting => {
                if f == MountResult::Success {
                    self.effects.push(Effect::Log(
                        "Mount process finished, but there is no mount.".into(),
                    ));
                    f = MountResult::Protocol;
                }
                self.enter_dead(f);
            }
            MountingDone => self.enter_mounted(f),
            Unmounting if f == MountResult::Success && self.rt.mounted => {
                // Stacked mounts: unmount the next one.
                if self.rt.umount_retries < RETRY_UMOUNT_MAX {
                    self.rt.umount_retries += 1;
                    self.enter_unmounting();
                } else {
                    self.effects.push(Effect::Log(format!(
                        "Mount still present after {RETRY_UMOUNT_MAX} attempts to unmount, giving up."
                    )));
                    self.enter_mounted(f);
                }
            }
            Unmounting | UnmountingSigterm | UnmountingSigkill => self.enter_dead_or_mounted(f),
            Dead | Mounted | Failed => {}
        }
    }

    fn timeout(&mut self) {
        use MountState::*;
        match self.rt.state {
            Mounting | MountingDone => {
                self.effects
                    .push(Effect::Log("Mounting timed out. Terminating.".into()));
                self.enter_signal(UnmountingSigterm, MountResult::Timeout);
            }
            Unmounting => {
                self.effects
                    .push(Effect::Log("Unmounting timed out. Terminating.".into()));
                self.enter_signal(UnmountingSigterm, MountResult::Timeout);
            }
            UnmountingSigterm => {
                if self.config.send_sigkill {
                    self.effects
                        .push(Effect::Log("Mount process timed out. Killing.".into()));
                    self.enter_signal(UnmountingSigkill, MountResult::Timeout);
                } else {
                    self.effects.push(Effect::Log(
                        "Mount process timed out. Skipping SIGKILL. Ignoring.".into(),
                    ));
                    self.enter_dead_or_mounted(MountResult::Timeout);
                }
            }
            UnmountingSigkill => {
                self.effects.push(Effect::Log(
                    "Mount process still around after SIGKILL. Ignoring.".into(),
                ));
                self.enter_dead_or_mounted(MountResult::Timeout);
            }
            Dead | Mounted | Failed => {}
        }
    }

    fn mountinfo(&mut self, now_mounted: bool) {
        use MountState::*;
        let was = std::mem::replace(&mut self.rt.mounted, now_mounted);
        match (was, now_mounted, self.rt.state) {
            // Unmounted by someone else.
            (true, false, Mounted) => self.enter_dead(MountResult::Success),
            // The mount command added the mount and took it away again (a failing FUSE
            // helper does): its exit decides.
            (true, false, MountingDone) => self.set(Mounting),
            // Mounted by someone else.
            (false, true, Dead | Failed) => {
                self.rt.result = MountResult::Success;
                self.effects.push(Effect::NewInvocation);
                self.enter_mounted(MountResult::Success);
            }
            (false, true, Mounting) => self.set(MountingDone),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
