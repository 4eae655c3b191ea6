//! The service unit type (systemd.service(5), systemd.kill(5), sd_notify(3)) as a pure state
//! machine: the manager feeds [`Event`]s in with the current `CLOCK_MONOTONIC` time and
//! carries out the [`Effect`]s that come back (spawn, kill, arm a timer, read a PID file).
//! The behaviour follows systemd 252's `src/core/service.c`.
//!
//! # States
//!
//! ```text
//!  dead/failed ──Start──▶ condition ─▶ start-pre ─▶ start ─▶ start-post ─▶ running ◀─▶ reload
//!       ▲                   (each step is skipped when it has no command)  │  │
//!       │                                                 exited ◀─────────┘  │ Stop, main exit
//!       │                                                   │ Stop            ▼
//!       │  ◀── final-sigkill ◀── final-sigterm ◀── stop-post ◀── stop-sigkill ◀── stop-sigterm ◀── stop
//!       │        (final-watchdog)                           (stop-watchdog)
//!  auto-restart ──RestartSec──▶ dead ──▶ condition ...
//! ```
//!
//! - `condition`, `start-pre`, `start-post`, `reload`, `stop`, `stop-post` run the control
//!   commands of `ExecCondition=`, `ExecStartPre=`, ... one after the other; a failure
//!   (unless the command has the `-` prefix) stops the sequence.
//! - `start` waits for what the type says is "started": nothing for `simple`/`idle`/`dbus`
//!   (they go on right after the spawn), `execve()` for `exec`, the exit of the start command
//!   (and the PID file) for `forking`, the exit of every `ExecStart=` for `oneshot`, and
//!   `READY=1` for `notify`.
//! - `running` ends with the main process (the restart policy then decides), with
//!   `RuntimeMaxSec=`, a watchdog timeout, `STOPPING=1`, or a stop request. A service with
//!   no main process left either becomes `exited` (`RemainAfterExit=yes`) or stops.
//! - Stopping runs `ExecStop=`, then signals the processes (stop-sigterm, then
//!   stop-sigkill unless `SendSIGKILL=no`), runs `ExecStopPost=`, then signals whatever
//!   remains (final-sigterm, final-sigkill). A step with nothing to wait for is skipped at
//!   once. The `*-watchdog` states send `WatchdogSignal=` (SIGABRT) instead of SIGTERM, on a
//!   watchdog timeout or with `TimeoutStartFailureMode=abort`.
//! - The end state is `dead` on success or a failed `ExecCondition=` and `failed` otherwise;
//!   when `Restart=` asks for it, `auto-restart` follows and the service starts again after
//!   `RestartSec=` (the start limit applies to these starts too).
//!
//! # Processes and timers
//!
//! The machine tracks at most one main and one control process. A `Spawn` effect is
//! answered with [`Event::Spawned`] (or [`Event::SpawnFailed`]); until then the process is
//! known to exist but not its pid. Exits arrive as [`Event::Exited`]. The unit's cgroup is
//! taken to be populated from the first spawn until [`Event::CgroupEmpty`]: the caller
//! reports that as soon as the cgroup is empty (after the last process is reaped).
//!
//! One state timer runs at a time (the timeout of the current step, `RuntimeMaxSec=`, or
//! `RestartSec=`), plus the watchdog. `ArmTimer` replaces an earlier arming of the same kind;
//! a timer event that does not match the armed kind and deadline is stale and ignored.

mod config;
mod notify;
#[cfg(test)]
mod tests;

pub use config::ServiceConfig;

use crate::exit::{ExitClean, ExitStatus, SIGHUP, SIGKILL};
use crate::ActiveState;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use unitfile::exec::ExecCommand;
use unitfile::model::exec::KillMode;
use unitfile::model::service::{NotifyAccess, Restart, ServiceType, TimeoutMode};
use unitfile::model::UnitSection;
use unitfile::value::{Usec, USEC_INFINITY};

/// The states of a service (`SubState=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ServiceState {
    Dead,
    Condition,
    StartPre,
    Start,
    StartPost,
    Running,
    Exited,
    Reload,
    Stop,
    StopWatchdog,
    StopSigterm,
    StopSigkill,
    StopPost,
    FinalWatchdog,
    FinalSigterm,
    FinalSigkill,
    Failed,
    AutoRestart,
}

impl ServiceState {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Dead => "dead",
            ServiceState::Condition => "condition",
            ServiceState::StartPre => "start-pre",
            ServiceState::Start => "start",
            ServiceState::StartPost => "start-post",
            ServiceState::Running => "running",
            ServiceState::Exited => "exited",
            ServiceState::Reload => "reload",
            ServiceState::Stop => "stop",
            ServiceState::StopWatchdog => "stop-watchdog",
            ServiceState::StopSigterm => "stop-sigterm",
            ServiceState::StopSigkill => "stop-sigkill",
            ServiceState::StopPost => "stop-post",
            ServiceState::FinalWatchdog => "final-watchdog",
            ServiceState::FinalSigterm => "final-sigterm",
            ServiceState::FinalSigkill => "final-sigkill",
            ServiceState::Failed => "failed",
            ServiceState::AutoRestart => "auto-restart",
        }
    }

    /// The `ActiveState=` of this state. `Type=idle` services count as active as soon as
    /// they start working, so that they never delay other jobs.
    pub fn active_state(self, idle: bool) -> ActiveState {
        use ServiceState::*;
        match self {
            Dead => ActiveState::Inactive,
            Condition | StartPre | Start | StartPost if idle => ActiveState::Active,
            Condition | StartPre | Start | StartPost | AutoRestart => ActiveState::Activating,
            Running | Exited => ActiveState::Active,
            Reload => ActiveState::Reloading,
            Stop | StopWatchdog | StopSigterm | StopSigkill | StopPost | FinalWatchdog
            | FinalSigterm | FinalSigkill => ActiveState::Deactivating,
            Failed => ActiveState::Failed,
        }
    }

    /// The states from which signals are sent to the unit's processes.
    fn is_signal_state(self) -> bool {
        use ServiceState::*;
        matches!(
            self,
            StopWatchdog | StopSigterm | StopSigkill | FinalWatchdog | FinalSigterm | FinalSigkill
        )
    }
}

impl fmt::Display for ServiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a service ended the way it did (`Result=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ServiceResult {
    Success,
    /// The manager could not do something (spawn, arm a timer ...).
    Resources,
    /// The service broke the protocol of its type (no PID file, exited before `READY=1`).
    Protocol,
    Timeout,
    ExitCode,
    Signal,
    CoreDump,
    Watchdog,
    StartLimitHit,
    /// `ExecCondition=` exited 1..254: the start was skipped, which is not a failure.
    ExecCondition,
}

impl ServiceResult {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceResult::Success => "success",
            ServiceResult::Resources => "resources",
            ServiceResult::Protocol => "protocol",
            ServiceResult::Timeout => "timeout",
            ServiceResult::ExitCode => "exit-code",
            ServiceResult::Signal => "signal",
            ServiceResult::CoreDump => "core-dump",
            ServiceResult::Watchdog => "watchdog",
            ServiceResult::StartLimitHit => "start-limit-hit",
            ServiceResult::ExecCondition => "exec-condition",
        }
    }

    /// The result of a process exit that is not clean.
    fn of_exit(status: ExitStatus) -> ServiceResult {
        match status {
            ExitStatus::Exited(_) => ServiceResult::ExitCode,
            ExitStatus::Killed {
                core_dumped: false, ..
            } => ServiceResult::Signal,
            ExitStatus::Killed {
                core_dumped: true, ..
            } => ServiceResult::CoreDump,
        }
    }
}

impl fmt::Display for ServiceResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which `Exec*=` list a control process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExecKind {
    Condition,
    StartPre,
    /// `ExecStart=` of a `Type=forking` service: its process is a control process, the
    /// daemon it forks becomes the main process.
    Start,
    StartPost,
    Reload,
    Stop,
    StopPost,
}

/// The part a spawned process plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Main,
    Control(ExecKind),
}

/// The timers a service arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimerKind {
    /// `TimeoutStartSec=`, for each start step and for reloads.
    Start,
    /// `TimeoutStopSec=`, for each stop step.
    Stop,
    /// `TimeoutAbortSec=`, after the watchdog signal.
    Abort,
    /// `WatchdogSec=`.
    Watchdog,
    /// `RuntimeMaxSec=`.
    RuntimeMax,
    /// `RestartSec=`.
    Restart,
}

/// Which processes a signal goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KillTarget {
    Main,
    Control,
    /// Every process of the unit's cgroup, main and control included.
    Cgroup,
    MainAndControl,
}

/// What happens to a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A start job runs. Ignored while the service is already starting or active; while it
    /// is stopping or waiting to restart, systemd answers "try again later", and so the
    /// caller keeps the job waiting until the state changes.
    Start,
    Stop,
    Reload,
    /// The process of a `Spawn` effect exists.
    Spawned {
        role: Role,
        pid: u32,
    },
    /// The process of a `Spawn` effect failed before it ran the command; `exit_code` is
    /// systemd's setup code (203/EXEC, 217/USER, 200/CHDIR ...). Handled as an exit with it.
    SpawnFailed {
        role: Role,
        exit_code: i32,
    },
    /// The manager could not even prepare the process (an `EnvironmentFile=` missing, a
    /// directory it could not create): systemd's result `resources`, which the `-` prefix
    /// does not excuse.
    SpawnResources {
        role: Role,
    },
    Exited {
        pid: u32,
        status: ExitStatus,
    },
    /// An armed timer elapsed.
    Timer(TimerKind),
    /// An sd_notify datagram from `pid`, e.g. `"READY=1\nSTATUS=ok"`.
    Notify {
        pid: u32,
        message: String,
    },
    /// The unit's cgroup has no process left.
    CgroupEmpty,
    /// The answer to `ReadPidFile`/`WatchPidFile`: the pid read, or `None` when the file is
    /// missing or does not hold a pid.
    PidFile(Option<u32>),
    /// The answer to `GuessMainPid`: the only process of the cgroup that is neither the
    /// control process nor one of its descendants, if there is exactly one.
    MainPidGuess(Option<u32>),
    /// `Type=exec`: the main process called `execve()` successfully.
    MainExecuted,
    /// `systemctl reset-failed`: forget the failure, the restart counter and the start
    /// limit.
    ResetFailed,
    /// The restart job asked for by `ScheduleRestart` could not be queued: the service
    /// fails with result `resources`, as systemd's does.
    RestartRefused,
}

/// What the manager must do for a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Start `command` as the process of `role`, with `extra_env` added to its environment
    /// (`MAINPID`, `PIDFILE`, and for `ExecStop=`/`ExecStopPost=` `SERVICE_RESULT`,
    /// `EXIT_CODE`, `EXIT_STATUS`). The caller also sets `NOTIFY_SOCKET` where
    /// [`Service::needs_notify_socket`] says so, and `WATCHDOG_USEC`/`WATCHDOG_PID` for the
    /// main process when [`Service::watchdog_usec`] is set.
    Spawn {
        role: Role,
        command: ExecCommand,
        extra_env: Vec<(String, String)>,
    },
    /// Send `signal` to `target`, followed by SIGCONT (so that stopped processes see it),
    /// as systemd's `kill_and_sigcont` does.
    Kill {
        target: KillTarget,
        signal: i32,
    },
    /// Report `Event::Timer(kind)` at `at` (µs, `CLOCK_MONOTONIC`); replaces an earlier
    /// arming of the same kind.
    ArmTimer {
        kind: TimerKind,
        at: u64,
    },
    DisarmTimer(TimerKind),
    /// Read the PID file now and answer with `Event::PidFile`.
    ReadPidFile(String),
    /// The PID file is missing but the service may still write it: watch it and send
    /// `Event::PidFile(Some(pid))` when it holds a pid.
    WatchPidFile(String),
    /// Look for the main process among the cgroup's processes and answer with
    /// `Event::MainPidGuess`.
    GuessMainPid,
    /// `RestartSec=` elapsed in `auto-restart`: queue a restart job for the unit (mode
    /// `replace`), whose stop and start the service then receives as `Stop` and `Start`;
    /// answer `RestartRefused` if the job cannot be queued. Going through a job lets the
    /// restart reach the units bound to this one (`BindsTo=`, `PartOf=`), as in systemd.
    ScheduleRestart,
    StateChanged {
        from: ServiceState,
        to: ServiceState,
        result: ServiceResult,
    },
    Log(String),
}

/// A tracked process: spawned but its pid not reported yet, or running with a pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Proc {
    Pending,
    Running(u32),
}

impl Proc {
    fn pid(self) -> Option<u32> {
        match self {
            Proc::Pending => None,
            Proc::Running(pid) => Some(pid),
        }
    }
}

/// The control process and which command of which list it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Control {
    proc: Proc,
    kind: ExecKind,
    index: usize,
}

/// What the service expects the manager to answer before it can go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Lookup {
    /// `ReadPidFile` after the forking start command exited.
    PidFileAfterStart,
    /// `WatchPidFile` after the forking start command exited and no `ExecStartPost=` may
    /// write the file.
    WatchPidFileAfterStart,
    /// `ReadPidFile`/`WatchPidFile` after `ExecStartPost=` finished.
    PidFileAfterStartPost,
    /// `GuessMainPid` after the forking start command exited.
    GuessAfterStart,
    /// `GuessMainPid` after `ExecStartPost=` finished.
    GuessAfterStartPost,
}

/// What the last `READY=`/`RELOADING=`/`STOPPING=` said; acted on when the state allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum NotifyState {
    Unknown,
    Ready,
    Reloading,
    Stopping,
}

/// `StartLimitIntervalSec=`/`StartLimitBurst=`, systemd's `RateLimit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct StartLimit {
    begin: Option<u64>,
    count: u32,
}

/// A service unit.
#[derive(Debug, Clone)]
pub struct Service {
    config: ServiceConfig,
    /// Everything that changes at runtime, kept as one value so that the manager can
    /// persist it as it is ([`Service::snapshot`]).
    rt: ServiceSnapshot,
    /// The exit being handled stands for a resources failure (see `Event::SpawnResources`).
    resources_failed: bool,
    now: u64,
    effects: Vec<Effect>,
}

/// The runtime part of a service, which the manager persists in its state journal and
/// gives back after its own crash or re-exec ([`Service::snapshot`], [`Service::restore`]).
/// The configuration is not part of it: it is loaded again from the unit files. Times are
/// `CLOCK_MONOTONIC` µs, valid for the rest of the boot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSnapshot {
    state: ServiceState,
    result: ServiceResult,
    reload_result: ServiceResult,
    /// The last (state, result) reported through `StateChanged`.
    reported: (ServiceState, ServiceResult),
    main: Option<Proc>,
    /// Whether `main` is known: false for a forking service until its PID file is read,
    /// true once a main process was spawned (even after it exited).
    main_pid_known: bool,
    /// The `ExecStart=` index of the main process (`Type=oneshot` runs them in turn).
    main_index: usize,
    /// How the last main process ended, for `RestartPreventExitStatus=` and `$EXIT_CODE`.
    main_exit: Option<ExitStatus>,
    control: Option<Control>,
    cgroup_populated: bool,
    lookup: Option<Lookup>,
    timer: Option<(TimerKind, u64)>,
    watchdog_at: Option<u64>,
    watchdog_override: Option<Usec>,
    active_enter: u64,
    notify_state: NotifyState,
    status_text: Option<String>,
    status_errno: Option<i32>,
    forbid_restart: bool,
    restart_count: u32,
    flush_restart_count: bool,
    start_limit: StartLimit,
}

/// systemd's `STATUS_TEXT_MAX`.
const STATUS_TEXT_MAX: usize = 3 * 1024;

impl Service {
    pub fn new(config: &Arc<unitfile::model::Service>, unit: &UnitSection) -> Service {
        Service::with_config(ServiceConfig::new(config, unit))
    }

    pub fn with_config(config: ServiceConfig) -> Service {
        Service {
            config,
            rt: ServiceSnapshot {
                state: ServiceState::Dead,
                result: ServiceResult::Success,
                reload_result: ServiceResult::Success,
                reported: (ServiceState::Dead, ServiceResult::Success),
                main: None,
                main_pid_known: false,
                main_index: 0,
                main_exit: None,
                control: None,
                cgroup_populated: false,
                lookup: None,
                timer: None,
                watchdog_at: None,
                watchdog_override: None,
                active_enter: 0,
                notify_state: NotifyState::Unknown,
                status_text: None,
                status_errno: None,
                forbid_restart: false,
                restart_count: 0,
                flush_restart_count: false,
                start_limit: StartLimit {
                    begin: None,
                    count: 0,
                },
            },
            resources_failed: false,
            now: 0,
            effects: Vec::new(),
        }
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// `daemon-reload` of a service that is not dead: the new settings apply from now on
    /// (the next command run, restart decision, stop), while the processes, the state,
    /// the armed timers and the restart and start-limit history stay, as in systemd.
    pub fn set_config(&mut self, config: ServiceConfig) {
        self.config = config;
    }

    pub fn snapshot(&self) -> ServiceSnapshot {
        self.rt.clone()
    }

    /// A service as it was when `snapshot` was taken, with (possibly changed) `config`,
    /// and the effects that pick up where it was: its timers armed again and an
    /// unanswered PID file or main-pid lookup asked again (its answer may have been lost
    /// with the old manager). A process still `Pending` (spawned, pid never recorded) is
    /// the caller's to resolve: it finds it in the unit's cgroup and reports `Spawned`, or
    /// reports it gone with `SpawnFailed`.
    pub fn restore(config: ServiceConfig, snap: ServiceSnapshot) -> (Service, Vec<Effect>) {
        let mut s = Service::with_config(config);
        s.rt = snap;
        let mut effects = Vec::new();
        if let Some((kind, at)) = s.rt.timer {
            effects.push(Effect::ArmTimer { kind, at });
        }
        if let Some(at) = s.rt.watchdog_at {
            effects.push(Effect::ArmTimer {
                kind: TimerKind::Watchdog,
                at,
            });
        }
        let pid_file = s.config.pid_file().map(str::to_string);
        match (s.rt.lookup, pid_file) {
            (Some(Lookup::PidFileAfterStart | Lookup::PidFileAfterStartPost), Some(path)) => {
                effects.push(Effect::ReadPidFile(path))
            }
            (Some(Lookup::WatchPidFileAfterStart), Some(path)) => {
                effects.push(Effect::WatchPidFile(path))
            }
            (Some(Lookup::GuessAfterStart | Lookup::GuessAfterStartPost), _) => {
                effects.push(Effect::GuessMainPid)
            }
            _ => {}
        }
        (s, effects)
    }

    /// The roles whose process was spawned but whose pid was never reported.
    pub fn pending_roles(&self) -> Vec<Role> {
        let mut roles = Vec::new();
        if self.rt.main == Some(Proc::Pending) {
            roles.push(Role::Main);
        }
        if let Some(c) = self.rt.control.filter(|c| c.proc == Proc::Pending) {
            roles.push(Role::Control(c.kind));
        }
        roles
    }

    pub fn state(&self) -> ServiceState {
        self.rt.state
    }

    pub fn active_state(&self) -> ActiveState {
        self.rt
            .state
            .active_state(self.config.service_type == ServiceType::Idle)
    }

    pub fn result(&self) -> ServiceResult {
        self.rt.result
    }

    /// The result of the last reload (`ReloadResult=`).
    pub fn reload_result(&self) -> ServiceResult {
        self.rt.reload_result
    }

    pub fn main_pid(&self) -> Option<u32> {
        self.rt.main.and_then(Proc::pid)
    }

    pub fn control_pid(&self) -> Option<u32> {
        self.rt.control.and_then(|c| c.proc.pid())
    }

    /// `STATUS=` of the last notification.
    pub fn status_text(&self) -> Option<&str> {
        self.rt.status_text.as_deref()
    }

    /// `ERRNO=` of the last notification.
    pub fn status_errno(&self) -> Option<i32> {
        self.rt.status_errno
    }

    /// `NRestarts=`: automatic restarts since the last start that was not one.
    pub fn restart_count(&self) -> u32 {
        self.rt.restart_count
    }

    /// How the last main process ended.
    pub fn main_exit(&self) -> Option<ExitStatus> {
        self.rt.main_exit
    }

    /// The watchdog period the main process is told about (`$WATCHDOG_USEC`), if any.
    pub fn watchdog_usec(&self) -> Option<Usec> {
        let usec = self.rt.watchdog_override.unwrap_or(self.config.watchdog());
        (usec != 0 && usec != USEC_INFINITY).then_some(usec)
    }

    /// Whether a process of `role` gets `$NOTIFY_SOCKET`: main processes unless
    /// `NotifyAccess=none`, control processes with `exec` or `all`.
    pub fn needs_notify_socket(&self, role: Role) -> bool {
        match role {
            Role::Main => self.config.notify_access() != NotifyAccess::None,
            Role::Control(_) => {
                matches!(
                    self.config.notify_access(),
                    NotifyAccess::Exec | NotifyAccess::All
                )
            }
        }
    }

    /// Feeds one event in; returns what the manager must do, in order.
    pub fn handle(&mut self, now: u64, event: Event) -> Vec<Effect> {
        self.now = now;
        match event {
            Event::Start => self.start(),
            Event::Stop => self.stop(),
            Event::Reload => self.reload(),
            Event::Spawned { role, pid } => self.spawned(role, pid),
            Event::SpawnFailed { role, exit_code } => {
                self.spawn_failed(role, ExitStatus::Exited(exit_code))
            }
            Event::SpawnResources { role } => {
                self.resources_failed = true;
                self.spawn_failed(role, ExitStatus::Exited(1));
                self.resources_failed = false;
            }
            Event::Exited { pid, status } => self.exited(pid, status),
            Event::Timer(kind) => self.timer_elapsed(kind),
            Event::Notify { pid, message } => self.notify(pid, &message),
            Event::CgroupEmpty => self.cgroup_empty(),
            Event::PidFile(pid) => self.pid_file(pid),
            Event::MainPidGuess(pid) => self.main_pid_guess(pid),
            Event::MainExecuted => {
                if self.config.service_type == ServiceType::Exec
                    && self.rt.state == ServiceState::Start
                {
                    self.enter_start_post();
                }
            }
            Event::ResetFailed => self.reset_failed(),
            Event::RestartRefused => {
                if self.rt.state == ServiceState::AutoRestart {
                    self.enter_dead(ServiceResult::Resources, false);
                }
            }
        }
        std::mem::take(&mut self.effects)
    }

    // ---- effects ----

    fn log(&mut self, message: String) {
        self.effects.push(Effect::Log(message));
    }

    fn set_state(&mut self, to: ServiceState) {
        use ServiceState::*;
        let from = self.rt.state;
        self.rt.state = to;
        let idle = self.config.service_type == ServiceType::Idle;
        // A pending PID file or main pid lookup belongs to the state that asked for it.
        if from != to {
            self.rt.lookup = None;
        }
        if matches!(to, Dead | Failed | Exited) {
            self.disarm_timer();
        }
        let keeps_main = matches!(
            to,
            Start
                | StartPost
                | Running
                | Reload
                | Stop
                | StopWatchdog
                | StopSigterm
                | StopSigkill
                | StopPost
                | FinalWatchdog
                | FinalSigterm
                | FinalSigkill
        );
        if !keeps_main {
            self.rt.main = None;
            self.rt.main_index = 0;
        }
        if matches!(to, Running | Exited | Dead | Failed | AutoRestart) {
            self.rt.control = None;
        }
        if !matches!(to, StartPost | Running | Reload) {
            self.stop_watchdog();
        }
        let (old_active, new_active) = (from.active_state(idle), to.active_state(idle));
        if new_active == ActiveState::Active && !old_active.is_active_or_reloading() {
            self.rt.active_enter = self.now;
        }
        if self.rt.reported != (to, self.rt.result) {
            self.effects.push(Effect::StateChanged {
                from: self.rt.reported.0,
                to,
                result: self.rt.result,
            });
            self.rt.reported = (to, self.rt.result);
        }
    }

    /// Arms the state timer; a deadline of infinity disarms it.
    fn arm_timer(&mut self, kind: TimerKind, at: u64) {
        if at == USEC_INFINITY {
            self.disarm_timer();
            return;
        }
        if let Some((old, _)) = self.rt.timer {
            if old != kind {
                self.effects.push(Effect::DisarmTimer(old));
            }
        }
        self.rt.timer = Some((kind, at));
        self.effects.push(Effect::ArmTimer { kind, at });
    }

    fn arm_timer_in(&mut self, kind: TimerKind, usec: Usec) {
        let at = self.now.saturating_add(usec);
        self.arm_timer(kind, at);
    }

    fn disarm_timer(&mut self) {
        if let Some((kind, _)) = self.rt.timer.take() {
            self.effects.push(Effect::DisarmTimer(kind));
        }
    }

    fn reset_watchdog(&mut self) {
        match self.watchdog_usec() {
            Some(usec) => {
                let at = self.now.saturating_add(usec);
                self.rt.watchdog_at = Some(at);
                self.effects.push(Effect::ArmTimer {
                    kind: TimerKind::Watchdog,
                    at,
                });
            }
            None => self.stop_watchdog(),
        }
    }

    fn stop_watchdog(&mut self) {
        if self.rt.watchdog_at.take().is_some() {
            self.effects.push(Effect::DisarmTimer(TimerKind::Watchdog));
        }
    }

    /// Spawns the command `index` of `kind` as `role`, and arms the step's timeout.
    fn spawn(&mut self, role: Role, kind: ExecKind, index: usize, timeout: Usec) -> bool {
        let Some(command) = self.config.commands(kind).get(index).cloned() else {
            return false;
        };
        let mut extra_env = Vec::new();
        if let Some(pid) = self.main_pid() {
            extra_env.push(("MAINPID".to_string(), pid.to_string()));
        }
        if let Some(path) = self.config.pid_file() {
            extra_env.push(("PIDFILE".to_string(), path.to_string()));
        }
        if matches!(kind, ExecKind::Stop | ExecKind::StopPost) {
            extra_env.push((
                "SERVICE_RESULT".to_string(),
                self.rt.result.as_str().to_string(),
            ));
            if let Some(status) = self.rt.main_exit {
                extra_env.push(("EXIT_CODE".to_string(), status.code_name().to_string()));
                extra_env.push(("EXIT_STATUS".to_string(), status.status_string()));
            }
        }
        self.effects.push(Effect::Spawn {
            role,
            command,
            extra_env,
        });
        match role {
            Role::Main => {
                self.rt.main = Some(Proc::Pending);
                self.rt.main_pid_known = true;
                self.rt.main_index = index;
            }
            Role::Control(kind) => {
                self.rt.control = Some(Control {
                    proc: Proc::Pending,
                    kind,
                    index,
                });
            }
        }
        self.rt.cgroup_populated = true;
        let timer = match kind {
            ExecKind::Stop | ExecKind::StopPost => TimerKind::Stop,
            _ => TimerKind::Start,
        };
        self.arm_timer_in(timer, timeout);
        true
    }

    // ---- process bookkeeping ----

    /// Alive (`Some(true)`), known to be gone (`Some(false)`), or unknown (`None`), as
    /// systemd's `main_pid_good`.
    fn main_pid_good(&self) -> Option<bool> {
        if self.rt.main.is_some() {
            Some(true)
        } else if self.rt.main_pid_known {
            Some(false)
        } else {
            None
        }
    }

    fn main_alive(&self) -> bool {
        self.main_pid_good() == Some(true)
    }

    fn control_alive(&self) -> bool {
        self.rt.control.is_some()
    }

    /// Whether the service still does something (systemd's `service_good`); without a
    /// known main process the cgroup decides. `Type=dbus` is handled as `simple`: the bus
    /// name is not watched.
    fn service_good(&self) -> bool {
        self.main_pid_good().unwrap_or(self.rt.cgroup_populated)
    }

    fn spawned(&mut self, role: Role, pid: u32) {
        match role {
            Role::Main if self.rt.main == Some(Proc::Pending) => {
                self.rt.main = Some(Proc::Running(pid));
            }
            Role::Control(kind) => match &mut self.rt.control {
                Some(c) if c.kind == kind && c.proc == Proc::Pending => {
                    c.proc = Proc::Running(pid);
                }
                _ => self.log(format!("ignoring unexpected control process {pid}")),
            },
            Role::Main => self.log(format!("ignoring unexpected main process {pid}")),
        }
    }

    // ---- requests ----

    fn start(&mut self) {
        use ServiceState::*;
        match self.rt.state {
            Dead | Failed => {}
            Stop | StopWatchdog | StopSigterm | StopSigkill | StopPost | FinalWatchdog
            | FinalSigterm | FinalSigkill | AutoRestart => {
                self.log("cannot start while stopping or restarting; try again later".into());
                return;
            }
            Condition | StartPre | Start | StartPost | Running | Exited | Reload => return,
        }
        if !self.start_limit_below() {
            self.log("Start request repeated too quickly.".into());
            self.enter_dead(ServiceResult::StartLimitHit, false);
            return;
        }
        self.rt.result = ServiceResult::Success;
        self.rt.reload_result = ServiceResult::Success;
        self.rt.main_pid_known = false;
        self.rt.main_exit = None;
        self.rt.forbid_restart = false;
        self.rt.status_text = None;
        self.rt.status_errno = None;
        self.rt.notify_state = NotifyState::Unknown;
        self.rt.watchdog_override = None;
        if self.rt.flush_restart_count {
            self.rt.restart_count = 0;
            self.rt.flush_restart_count = false;
        }
        self.enter_condition();
    }

    /// systemd's `ratelimit_below` on the unit's start rate limit.
    fn start_limit_below(&mut self) -> bool {
        let (interval, burst) = (
            self.config.start_limit_interval,
            self.config.start_limit_burst,
        );
        if interval == 0 || burst == 0 {
            return true;
        }
        let now = self.now;
        let limit = &mut self.rt.start_limit;
        match limit.begin {
            Some(begin) if now.saturating_sub(begin) <= interval => {
                let below = limit.count < burst;
                limit.count = limit.count.saturating_add(1);
                below
            }
            _ => {
                limit.begin = Some(now);
                limit.count = 1;
                true
            }
        }
    }

    fn stop(&mut self) {
        use ServiceState::*;
        // A stop request never leads to an automatic restart.
        self.rt.forbid_restart = true;
        match self.rt.state {
            Stop | StopSigterm | StopSigkill | StopPost | FinalWatchdog | FinalSigterm
            | FinalSigkill | Dead | Failed => {}
            AutoRestart => self.set_state(Dead),
            Condition | StartPre | Start | StartPost | Reload | StopWatchdog => {
                self.enter_signal(StopSigterm, ServiceResult::Success)
            }
            Running | Exited => self.enter_stop(ServiceResult::Success),
        }
    }

    fn reload(&mut self) {
        if !matches!(self.rt.state, ServiceState::Running | ServiceState::Exited) {
            self.log(format!("cannot reload in state {}", self.rt.state));
            return;
        }
        self.rt.control = None;
        self.rt.reload_result = ServiceResult::Success;
        let timeout = self.config.timeout_start();
        if self.spawn(
            Role::Control(ExecKind::Reload),
            ExecKind::Reload,
            0,
            timeout,
        ) {
            self.set_state(ServiceState::Reload);
        } else {
            self.enter_running(ServiceResult::Success);
        }
    }

    fn reset_failed(&mut self) {
        self.rt.result = ServiceResult::Success;
        self.rt.reload_result = ServiceResult::Success;
        self.rt.restart_count = 0;
        self.rt.flush_restart_count = false;
        self.rt.start_limit = StartLimit {
            begin: None,
            count: 0,
        };
        if self.rt.state == ServiceState::Failed {
            self.set_state(ServiceState::Dead);
        }
    }

    // ---- the steps ----

    fn enter_condition(&mut self) {
        self.rt.control = None;
        let timeout = self.config.timeout_start();
        let role = Role::Control(ExecKind::Condition);
        if self.spawn(role, ExecKind::Condition, 0, timeout) {
            self.set_state(ServiceState::Condition);
        } else {
            self.enter_start_pre();
        }
    }

    fn enter_start_pre(&mut self) {
        self.rt.control = None;
        let timeout = self.config.timeout_start();
        let role = Role::Control(ExecKind::StartPre);
        if self.spawn(role, ExecKind::StartPre, 0, timeout) {
            self.set_state(ServiceState::StartPre);
        } else {
            self.enter_start();
        }
    }

    fn enter_start(&mut self) {
        self.rt.control = None;
        self.rt.main = None;
        let service_type = self.config.service_type;
        if self.config.commands(ExecKind::Start).is_empty() {
            if service_type != ServiceType::Oneshot {
                self.log("there is no ExecStart= to run".into());
                self.enter_signal(ServiceState::StopSigterm, ServiceResult::Resources);
                return;
            }
            // A oneshot service without ExecStart= still passes through "start", so that
            // it is seen activating and active before it is dead again.
            self.set_state(ServiceState::Start);
            self.enter_start_post();
            return;
        }
        let simple = matches!(
            service_type,
            ServiceType::Simple | ServiceType::Idle | ServiceType::Dbus
        );
        // A simple main process has no start timeout: RuntimeMaxSec= takes over once it runs.
        let timeout = if simple {
            USEC_INFINITY
        } else {
            self.config.timeout_start()
        };
        let role = if service_type == ServiceType::Forking {
            Role::Control(ExecKind::Start)
        } else {
            Role::Main
        };
        self.spawn(role, ExecKind::Start, 0, timeout);
        if simple {
            self.enter_start_post();
        } else {
            self.set_state(ServiceState::Start);
        }
    }

    fn enter_start_post(&mut self) {
        self.rt.control = None;
        self.reset_watchdog();
        let timeout = self.config.timeout_start();
        let role = Role::Control(ExecKind::StartPost);
        if self.spawn(role, ExecKind::StartPost, 0, timeout) {
            self.set_state(ServiceState::StartPost);
        } else {
            self.enter_running(ServiceResult::Success);
        }
    }

    fn enter_running(&mut self, f: ServiceResult) {
        if self.rt.result == ServiceResult::Success {
            self.rt.result = f;
        }
        self.rt.control = None;
        if self.rt.result != ServiceResult::Success {
            self.enter_signal(ServiceState::StopSigterm, f);
        } else if self.service_good() {
            match self.rt.notify_state {
                NotifyState::Reloading => self.enter_reload_by_notify(),
                NotifyState::Stopping => self.enter_stop_by_notify(),
                NotifyState::Unknown | NotifyState::Ready => {
                    self.set_state(ServiceState::Running);
                    let at = self
                        .rt
                        .active_enter
                        .saturating_add(self.config.runtime_max());
                    self.arm_timer(TimerKind::RuntimeMax, at);
                }
            }
        } else if self.config.remain_after_exit() {
            self.set_state(ServiceState::Exited);
        } else {
            self.enter_stop(ServiceResult::Success);
        }
    }

    fn enter_reload_by_notify(&mut self) {
        let timeout = self.config.timeout_start();
        self.arm_timer_in(TimerKind::Start, timeout);
        self.set_state(ServiceState::Reload);
    }

    fn enter_stop_by_notify(&mut self) {
        // The service said it is stopping: as if it had been sent SIGTERM.
        let timeout = self.config.timeout_stop();
        self.arm_timer_in(TimerKind::Stop, timeout);
        self.set_state(ServiceState::StopSigterm);
    }

    fn enter_stop(&mut self, f: ServiceResult) {
        if self.rt.result == ServiceResult::Success {
            self.rt.result = f;
        }
        self.rt.control = None;
        let timeout = self.config.timeout_stop();
        if self.spawn(Role::Control(ExecKind::Stop), ExecKind::Stop, 0, timeout) {
            self.set_state(ServiceState::Stop);
        } else {
            self.enter_signal(ServiceState::StopSigterm, ServiceResult::Success);
        }
    }

    fn enter_stop_post(&mut self, f: ServiceResult) {
        if self.rt.result == ServiceResult::Success {
            self.rt.result = f;
        }
        self.rt.control = None;
        let timeout = self.config.timeout_stop();
        let role = Role::Control(ExecKind::StopPost);
        if self.spawn(role, ExecKind::StopPost, 0, timeout) {
            self.set_state(ServiceState::StopPost);
        } else {
            self.enter_signal(ServiceState::FinalSigterm, ServiceResult::Success);
        }
    }

    /// Signals the unit's processes for `state`; a state with nothing to wait for is
    /// passed through at once.
    fn enter_signal(&mut self, state: ServiceState, f: ServiceResult) {
        use ServiceState::*;
        if self.rt.result == ServiceResult::Success {
            self.rt.result = f;
        }
        if !state.is_signal_state() {
            return;
        }
        let watchdog = matches!(state, StopWatchdog | FinalWatchdog);
        if self.kill_for(state) {
            let (kind, timeout) = if watchdog {
                (TimerKind::Abort, self.config.timeout_abort())
            } else {
                (TimerKind::Stop, self.config.timeout_stop())
            };
            self.arm_timer_in(kind, timeout);
            self.set_state(state);
        } else if matches!(state, StopWatchdog | StopSigterm) && self.config.send_sigkill() {
            self.enter_signal(StopSigkill, ServiceResult::Success);
        } else if matches!(state, StopWatchdog | StopSigterm | StopSigkill) {
            self.enter_stop_post(ServiceResult::Success);
        } else if matches!(state, FinalWatchdog | FinalSigterm) && self.config.send_sigkill() {
            self.enter_signal(FinalSigkill, ServiceResult::Success);
        } else {
            self.enter_dead(ServiceResult::Success, true);
        }
    }

    /// Sends the signal of `state` as `KillMode=` says (systemd's `unit_kill_context`);
    /// returns whether some process may still have to exit.
    fn kill_for(&mut self, state: ServiceState) -> bool {
        use ServiceState::*;
        let config = &self.config;
        let (signal, terminate) = match state {
            StopWatchdog | FinalWatchdog => (config.watchdog_signal(), false),
            StopSigkill | FinalSigkill => (config.final_kill_signal(), false),
            _ => (config.kill_signal(), true),
        };
        let is_kill = matches!(state, StopSigkill | FinalSigkill);
        let whole_cgroup = match config.kill_mode() {
            KillMode::None => return false,
            KillMode::ControlGroup => true,
            KillMode::Mixed => is_kill,
            KillMode::Process => false,
        };
        let send_sighup = config.send_sighup() && terminate && signal != SIGHUP;
        let (main, control) = (self.rt.main.is_some(), self.rt.control.is_some());
        let target = if whole_cgroup && (main || control || self.rt.cgroup_populated) {
            Some(KillTarget::Cgroup)
        } else {
            match (main, control) {
                (true, true) => Some(KillTarget::MainAndControl),
                (true, false) => Some(KillTarget::Main),
                (false, true) => Some(KillTarget::Control),
                (false, false) => None,
            }
        };
        let Some(target) = target else {
            return false;
        };
        self.effects.push(Effect::Kill { target, signal });
        if send_sighup {
            self.effects.push(Effect::Kill {
                target,
                signal: SIGHUP,
            });
        }
        true
    }

    fn enter_dead(&mut self, f: ServiceResult, allow_restart: bool) {
        if self.rt.result == ServiceResult::Success {
            self.rt.result = f;
        }
        let end = match self.rt.result {
            ServiceResult::Success | ServiceResult::ExecCondition => ServiceState::Dead,
            _ => ServiceState::Failed,
        };
        let restart = allow_restart && self.shall_restart();
        self.set_state(end);
        if restart {
            let usec = self.config.restart_usec();
            self.arm_timer_in(TimerKind::Restart, usec);
            self.set_state(ServiceState::AutoRestart);
        } else {
            // Kept until the next start so that it can still be looked at.
            self.rt.flush_restart_count = true;
        }
        self.rt.forbid_restart = false;
    }

    /// The decision of `Restart=` and the exit status lists (systemd.service(5)'s table).
    fn shall_restart(&self) -> bool {
        if self.rt.forbid_restart {
            return false;
        }
        if let Some(status) = self.rt.main_exit {
            if status.is_listed(self.config.restart_prevent()) {
                return false;
            }
            if status.is_listed(self.config.restart_force()) {
                return true;
            }
        }
        use ServiceResult as R;
        let result = self.rt.result;
        match self.config.restart() {
            Restart::No => false,
            Restart::Always => result != R::ExecCondition,
            Restart::OnSuccess => result == R::Success,
            Restart::OnFailure => !matches!(result, R::Success | R::ExecCondition),
            Restart::OnAbnormal => !matches!(result, R::Success | R::ExitCode | R::ExecCondition),
            Restart::OnWatchdog => result == R::Watchdog,
            Restart::OnAbort => matches!(result, R::Signal | R::CoreDump),
        }
    }

    /// `RestartSec=` elapsed: ask for a restart job; the service stays in `auto-restart`
    /// until the job's stop part moves it to `dead` (keeping the restart counter).
    fn enter_restart(&mut self) {
        self.rt.restart_count = self.rt.restart_count.saturating_add(1);
        self.rt.flush_restart_count = false;
        self.log(format!(
            "Scheduled restart job, restart counter is at {}.",
            self.rt.restart_count
        ));
        self.effects.push(Effect::ScheduleRestart);
    }

    fn run_next_control(&mut self, control: Control) {
        use ServiceState::*;
        let timeout = if matches!(
            self.rt.state,
            Condition | StartPre | Start | StartPost | Running | Reload
        ) {
            self.config.timeout_start()
        } else {
            self.config.timeout_stop()
        };
        let index = control.index.saturating_add(1);
        self.spawn(Role::Control(control.kind), control.kind, index, timeout);
    }

    // ---- process exits ----

    fn exited(&mut self, pid: u32, status: ExitStatus) {
        if self.rt.main == Some(Proc::Running(pid)) {
            self.main_exited(status);
        } else if let Some(control) = self.rt.control {
            if control.proc == Proc::Running(pid) {
                self.control_exited(control, status);
            }
        }
    }

    /// The process of `role` never ran its command: an exit with the setup code.
    fn spawn_failed(&mut self, role: Role, status: ExitStatus) {
        match role {
            Role::Main if self.rt.main.is_some() => self.main_exited(status),
            Role::Control(kind) => {
                if let Some(control) = self.rt.control.filter(|c| c.kind == kind) {
                    self.control_exited(control, status);
                }
            }
            Role::Main => {}
        }
    }

    fn main_exited(&mut self, status: ExitStatus) {
        use ServiceState::*;
        let service_type = self.config.service_type;
        let clean = if service_type == ServiceType::Oneshot {
            ExitClean::Command
        } else {
            ExitClean::Daemon
        };
        let mut f = if status.is_clean(clean, self.config.success_status()) {
            ServiceResult::Success
        } else {
            ServiceResult::of_exit(status)
        };
        self.rt.main = None;
        self.rt.main_exit = Some(status);
        // With `-`, a failure of ExecStart= (for forking: of the start command) is ignored.
        let index = if service_type == ServiceType::Forking {
            0
        } else {
            self.rt.main_index
        };
        if self
            .config
            .commands(ExecKind::Start)
            .get(index)
            .is_some_and(|c| c.flags.ignore_failure)
        {
            f = ServiceResult::Success;
        }
        if self.resources_failed {
            f = ServiceResult::Resources;
        }
        self.log(format!(
            "Main process exited, code={}, status={}",
            status.code_name(),
            status.status_string()
        ));
        if self.rt.result == ServiceResult::Success {
            self.rt.result = f;
        }
        let next = self.rt.main_index.saturating_add(1);
        if service_type == ServiceType::Oneshot
            && f == ServiceResult::Success
            && next < self.config.commands(ExecKind::Start).len()
            && self.rt.state == Start
        {
            let timeout = self.config.timeout_start();
            self.spawn(Role::Main, ExecKind::Start, next, timeout);
            return;
        }
        match self.rt.state {
            StartPost | Reload => {
                // Nothing can end this step cleanly any more without a control process.
                if !self.control_alive() {
                    self.enter_stop(f);
                }
            }
            Start if service_type == ServiceType::Oneshot => {
                if f == ServiceResult::Success {
                    self.enter_start_post();
                } else {
                    self.enter_signal(StopSigterm, f);
                }
            }
            Start if service_type == ServiceType::Notify => {
                // Only READY=1 makes a notify service running.
                if f != ServiceResult::Success {
                    self.enter_signal(StopSigterm, f);
                } else if !self.config.remain_after_exit()
                    || self.config.notify_access() == NotifyAccess::Main
                {
                    self.enter_signal(StopSigterm, ServiceResult::Protocol);
                }
            }
            Start | Running => self.enter_running(f),
            StopWatchdog | StopSigterm | StopSigkill => {
                if !self.control_alive() {
                    self.enter_stop_post(f);
                }
            }
            StopPost => {
                if !self.control_alive() {
                    self.enter_signal(FinalSigterm, f);
                }
            }
            FinalWatchdog | FinalSigterm | FinalSigkill => {
                if !self.control_alive() {
                    self.enter_dead(f, true);
                }
            }
            Stop | Dead | Condition | StartPre | Exited | Failed | AutoRestart => {}
        }
    }

    fn control_exited(&mut self, control: Control, status: ExitStatus) {
        use ServiceState::*;
        self.rt.control = None;
        let mut f = if status.is_clean(ExitClean::Command, self.config.success_status()) {
            ServiceResult::Success
        } else {
            ServiceResult::of_exit(status)
        };
        let command = self.config.commands(control.kind).get(control.index);
        if command.is_some_and(|c| c.flags.ignore_failure) {
            f = ServiceResult::Success;
        }
        // ExecCondition= exiting 1..254 skips the start; 255 or a signal is a failure.
        if self.rt.state == Condition {
            if let ExitStatus::Exited(code) = status {
                if f == ServiceResult::ExitCode && code < 255 {
                    f = ServiceResult::ExecCondition;
                }
            }
        }
        if self.resources_failed {
            f = ServiceResult::Resources;
        }
        self.log(format!(
            "Control process exited, code={}, status={}",
            status.code_name(),
            status.status_string()
        ));
        if self.rt.state != Reload && self.rt.result == ServiceResult::Success {
            self.rt.result = f;
        }
        let has_next = control.index.saturating_add(1) < self.config.commands(control.kind).len();
        if has_next && f == ServiceResult::Success {
            self.run_next_control(control);
            return;
        }
        match self.rt.state {
            Condition => {
                if f == ServiceResult::Success {
                    self.enter_start_pre();
                } else {
                    self.enter_signal(StopSigterm, f);
                }
            }
            StartPre => {
                if f == ServiceResult::Success {
                    self.enter_start();
                } else {
                    self.enter_signal(StopSigterm, f);
                }
            }
            Start => {
                if self.config.service_type != ServiceType::Forking {
                    return;
                }
                if f != ServiceResult::Success {
                    self.enter_signal(StopSigterm, f);
                } else if let Some(path) = self.config.pid_file().map(str::to_string) {
                    self.rt.lookup = Some(Lookup::PidFileAfterStart);
                    self.effects.push(Effect::ReadPidFile(path));
                } else if !self.rt.main_pid_known && self.config.guess_main_pid() {
                    self.rt.lookup = Some(Lookup::GuessAfterStart);
                    self.effects.push(Effect::GuessMainPid);
                } else {
                    self.enter_start_post();
                }
            }
            StartPost => {
                if f != ServiceResult::Success {
                    self.enter_signal(StopSigterm, f);
                } else if let Some(path) = self.config.pid_file().map(str::to_string) {
                    self.rt.lookup = Some(Lookup::PidFileAfterStartPost);
                    self.effects.push(Effect::ReadPidFile(path));
                } else if !self.rt.main_pid_known && self.config.guess_main_pid() {
                    self.rt.lookup = Some(Lookup::GuessAfterStartPost);
                    self.effects.push(Effect::GuessMainPid);
                } else {
                    self.enter_running(ServiceResult::Success);
                }
            }
            Reload => {
                self.rt.reload_result = f;
                self.enter_running(ServiceResult::Success);
            }
            Stop => self.enter_signal(StopSigterm, f),
            StopWatchdog | StopSigterm | StopSigkill => {
                if !self.main_alive() {
                    self.enter_stop_post(f);
                }
            }
            StopPost => {
                if !self.main_alive() {
                    self.enter_signal(FinalSigterm, f);
                }
            }
            FinalWatchdog | FinalSigterm | FinalSigkill => {
                if !self.main_alive() {
                    self.enter_dead(f, true);
                }
            }
            Dead | Running | Exited | Failed | AutoRestart => {}
        }
    }

    // ---- answers to lookups ----

    /// Adopts `pid` as the main process, unless it cannot be one.
    fn adopt_main_pid(&mut self, pid: u32) -> bool {
        if pid <= 1 || self.control_pid() == Some(pid) {
            self.log(format!("refusing {pid} as main process"));
            return false;
        }
        self.rt.main = Some(Proc::Running(pid));
        self.rt.main_pid_known = true;
        true
    }

    fn pid_file(&mut self, pid: Option<u32>) {
        let Some(lookup) = self.rt.lookup else {
            return;
        };
        let adopted = match pid {
            Some(pid) => self.adopt_main_pid(pid),
            None => false,
        };
        match lookup {
            Lookup::PidFileAfterStart | Lookup::WatchPidFileAfterStart => {
                let has_start_post = !self.config.commands(ExecKind::StartPost).is_empty();
                if adopted || has_start_post {
                    // ExecStartPost= may be the one that writes the PID file.
                    self.rt.lookup = None;
                    self.enter_start_post();
                } else {
                    self.demand_pid_file(Lookup::WatchPidFileAfterStart);
                }
            }
            Lookup::PidFileAfterStartPost => {
                if adopted {
                    self.rt.lookup = None;
                    self.enter_running(ServiceResult::Success);
                } else {
                    self.demand_pid_file(Lookup::PidFileAfterStartPost);
                }
            }
            Lookup::GuessAfterStart | Lookup::GuessAfterStartPost => {}
        }
    }

    /// The PID file is not there yet: wait for it, unless nothing is left that could write
    /// it.
    fn demand_pid_file(&mut self, lookup: Lookup) {
        if !self.rt.cgroup_populated {
            self.log("Daemon never wrote its PID file. Failing.".into());
            self.pid_file_failed();
            return;
        }
        self.rt.lookup = Some(lookup);
        if let Some(path) = self.config.pid_file().map(str::to_string) {
            self.effects.push(Effect::WatchPidFile(path));
        }
    }

    fn pid_file_failed(&mut self) {
        self.rt.lookup = None;
        if self.rt.state == ServiceState::Start {
            self.enter_signal(ServiceState::StopSigterm, ServiceResult::Protocol);
        } else {
            self.enter_stop(ServiceResult::Protocol);
        }
    }

    fn main_pid_guess(&mut self, pid: Option<u32>) {
        let Some(lookup) = self.rt.lookup else {
            return;
        };
        if !matches!(
            lookup,
            Lookup::GuessAfterStart | Lookup::GuessAfterStartPost
        ) {
            return;
        }
        self.rt.lookup = None;
        if let Some(pid) = pid {
            self.adopt_main_pid(pid);
        }
        if lookup == Lookup::GuessAfterStart {
            self.enter_start_post();
        } else {
            self.enter_running(ServiceResult::Success);
        }
    }

    fn cgroup_empty(&mut self) {
        use ServiceState::*;
        self.rt.cgroup_populated = false;
        match self.rt.state {
            Start | StartPost => {
                if self.rt.state == Start
                    && self.config.service_type == ServiceType::Notify
                    && self.main_pid_good() == Some(false)
                    && !self.control_alive()
                {
                    // No READY=1 can come any more.
                    self.enter_stop_post(ServiceResult::Protocol);
                } else if self.config.pid_file().is_some()
                    && matches!(
                        self.rt.lookup,
                        Some(Lookup::WatchPidFileAfterStart | Lookup::PidFileAfterStartPost)
                    )
                    && !self.main_alive()
                    && !self.control_alive()
                {
                    self.log("Daemon never wrote its PID file. Failing.".into());
                    if self.rt.state == Start {
                        self.rt.lookup = None;
                        self.enter_stop_post(ServiceResult::Protocol);
                    } else {
                        self.pid_file_failed();
                    }
                }
            }
            Running => self.enter_running(ServiceResult::Success),
            StopWatchdog | StopSigterm | StopSigkill => {
                if !self.main_alive() && !self.control_alive() {
                    self.enter_stop_post(ServiceResult::Success);
                }
            }
            StopPost | FinalWatchdog | FinalSigterm | FinalSigkill => {
                if !self.main_alive() && !self.control_alive() {
                    self.enter_dead(ServiceResult::Success, true);
                }
            }
            Dead | Condition | StartPre | Exited | Reload | Stop | Failed | AutoRestart => {}
        }
    }

    // ---- timers ----

    fn timer_elapsed(&mut self, kind: TimerKind) {
        if kind == TimerKind::Watchdog {
            match self.rt.watchdog_at {
                Some(at) if self.now >= at => {
                    self.rt.watchdog_at = None;
                    self.log("Watchdog timeout!".into());
                    self.enter_signal(ServiceState::StopWatchdog, ServiceResult::Watchdog);
                }
                _ => {}
            }
            return;
        }
        match self.rt.timer {
            Some((armed, at)) if armed == kind && self.now >= at => self.rt.timer = None,
            _ => return,
        }
        self.state_timeout();
    }

    /// The state timer elapsed (systemd's `service_dispatch_timer`).
    fn state_timeout(&mut self) {
        use ServiceState::*;
        use TimeoutMode as M;
        let timeout = ServiceResult::Timeout;
        let sigkill = self.config.send_sigkill();
        self.log(format!("{} timed out", self.rt.state));
        match self.rt.state {
            Condition | StartPre | Start | StartPost => {
                match self.config.timeout_start_failure_mode() {
                    M::Terminate => self.enter_signal(StopSigterm, timeout),
                    M::Abort => self.enter_signal(StopWatchdog, timeout),
                    M::Kill if sigkill => self.enter_signal(StopSigkill, timeout),
                    M::Kill => self.enter_stop_post(timeout),
                }
            }
            Running => self.enter_stop(timeout),
            Reload => {
                // The reload failed, the service did not.
                if self.rt.control.is_some() {
                    self.effects.push(Effect::Kill {
                        target: KillTarget::Control,
                        signal: SIGKILL,
                    });
                }
                self.rt.reload_result = timeout;
                self.enter_running(ServiceResult::Success);
            }
            Stop => match self.config.timeout_stop_failure_mode() {
                M::Terminate => self.enter_signal(StopSigterm, timeout),
                M::Abort => self.enter_signal(StopWatchdog, timeout),
                M::Kill if sigkill => self.enter_signal(StopSigkill, timeout),
                M::Kill => self.enter_stop_post(timeout),
            },
            StopWatchdog if sigkill => self.enter_signal(StopSigkill, timeout),
            StopWatchdog => self.enter_stop_post(timeout),
            StopSigterm => {
                if self.config.timeout_stop_failure_mode() == M::Abort {
                    self.enter_signal(StopWatchdog, timeout);
                } else if sigkill {
                    self.enter_signal(StopSigkill, timeout);
                } else {
                    self.enter_stop_post(timeout);
                }
            }
            // Something survived SIGKILL; nothing more can be done about it.
            StopSigkill => self.enter_stop_post(timeout),
            StopPost => match self.config.timeout_stop_failure_mode() {
                M::Terminate => self.enter_signal(FinalSigterm, timeout),
                M::Abort => self.enter_signal(FinalWatchdog, timeout),
                M::Kill if sigkill => self.enter_signal(FinalSigkill, timeout),
                M::Kill => self.enter_dead(timeout, false),
            },
            FinalWatchdog if sigkill => self.enter_signal(FinalSigkill, timeout),
            FinalWatchdog => self.enter_dead(timeout, false),
            FinalSigterm => {
                if self.config.timeout_stop_failure_mode() == M::Abort {
                    self.enter_signal(FinalWatchdog, timeout);
                } else if sigkill {
                    self.enter_signal(FinalSigkill, timeout);
                } else {
                    self.enter_dead(timeout, false);
                }
            }
            FinalSigkill => self.enter_dead(timeout, true),
            AutoRestart => self.enter_restart(),
            Dead | Exited | Failed => {}
        }
    }
}
