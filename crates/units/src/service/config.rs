//! The configuration a service runs with: the typed `[Service]` and `[Unit]` settings with
//! every default systemd 252 applies filled in (`service_init`, `service_add_extras`,
//! `kill_context_init`, the `config_parse_service_timeout` rule that 0 means infinity).
//!
//! The manager keeps a state machine for every loaded service next to the unit's loaded
//! configuration, so the settings are not copied into it: [`ServiceConfig`] shares the
//! `[Service]` section (an `Arc`, the same allocation as the unit's `Kind::Service`) and
//! each setting is a method that applies its default when read. Only what comes from
//! `[Unit]` and the effective `Type=` are stored.

use crate::exit::{SIGABRT, SIGKILL, SIGTERM};
use std::sync::Arc;
use unitfile::exec::ExecCommand;
use unitfile::model::exec::KillMode;
use unitfile::model::service::{NotifyAccess, Restart, ServiceType, TimeoutMode};
use unitfile::model::{Service as ServiceSection, UnitSection};
use unitfile::value::{ExitStatusSpec, Usec, USEC_INFINITY};

const USEC_PER_MSEC: Usec = 1_000;
const USEC_PER_SEC: Usec = 1_000_000;

/// `DefaultTimeoutStartSec=`/`DefaultTimeoutStopSec=` of systemd's manager.
pub const DEFAULT_TIMEOUT: Usec = 90 * USEC_PER_SEC;
/// `DefaultRestartSec=`.
pub const DEFAULT_RESTART: Usec = 100 * USEC_PER_MSEC;
/// `DefaultStartLimitIntervalSec=`.
pub const DEFAULT_START_LIMIT_INTERVAL: Usec = 10 * USEC_PER_SEC;
/// `DefaultStartLimitBurst=`.
pub const DEFAULT_START_LIMIT_BURST: u32 = 5;

/// A service's settings, resolved as they are read.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    /// The `[Service]` section, shared with the unit's loaded configuration.
    section: Arc<ServiceSection>,
    /// The effective `Type=` ([`ServiceSection::effective_type`]).
    pub service_type: ServiceType,
    /// `StartLimitIntervalSec=` of `[Unit]`.
    pub start_limit_interval: Usec,
    /// `StartLimitBurst=` of `[Unit]`.
    pub start_limit_burst: u32,
}

/// systemd reads 0 as "no timeout" for `TimeoutStartSec=`/`TimeoutStopSec=`/`TimeoutSec=`.
fn fix_0(usec: Usec) -> Usec {
    if usec == 0 {
        USEC_INFINITY
    } else {
        usec
    }
}

impl ServiceConfig {
    pub fn new(service: &Arc<ServiceSection>, unit: &UnitSection) -> ServiceConfig {
        ServiceConfig {
            section: Arc::clone(service),
            service_type: service.effective_type(),
            start_limit_interval: unit
                .rare
                .start_limit_interval_sec
                .unwrap_or(DEFAULT_START_LIMIT_INTERVAL),
            start_limit_burst: unit
                .rare
                .start_limit_burst
                .unwrap_or(DEFAULT_START_LIMIT_BURST),
        }
    }

    /// The `[Service]` section as written.
    pub fn section(&self) -> &ServiceSection {
        &self.section
    }

    /// The commands of one step.
    pub fn commands(&self, kind: super::ExecKind) -> &[ExecCommand] {
        use super::ExecKind;
        let s = &*self.section;
        match kind {
            ExecKind::Condition => &s.rare.exec_condition,
            ExecKind::StartPre => &s.rare.exec_start_pre,
            ExecKind::Start => &s.exec_start,
            ExecKind::StartPost => &s.rare.exec_start_post,
            ExecKind::Reload => &s.rare.exec_reload,
            ExecKind::Stop => &s.rare.exec_stop,
            ExecKind::StopPost => &s.rare.exec_stop_post,
        }
    }

    /// `PIDFile=`.
    pub fn pid_file(&self) -> Option<&str> {
        self.section.rare.pid_file.as_deref()
    }

    /// `RemainAfterExit=`, off by default.
    pub fn remain_after_exit(&self) -> bool {
        self.section.remain_after_exit.unwrap_or(false)
    }

    /// `GuessMainPID=`, on by default.
    pub fn guess_main_pid(&self) -> bool {
        self.section.guess_main_pid.unwrap_or(true)
    }

    /// `Restart=`, `no` by default.
    pub fn restart(&self) -> Restart {
        self.section.restart.unwrap_or(Restart::No)
    }

    /// `RestartSec=`, [`DEFAULT_RESTART`] by default.
    pub fn restart_usec(&self) -> Usec {
        self.section.rare.restart_sec.unwrap_or(DEFAULT_RESTART)
    }

    /// `RestartPreventExitStatus=`.
    pub fn restart_prevent(&self) -> &[ExitStatusSpec] {
        &self.section.rare.restart_prevent_exit_status
    }

    /// `RestartForceExitStatus=`.
    pub fn restart_force(&self) -> &[ExitStatusSpec] {
        &self.section.rare.restart_force_exit_status
    }

    /// `SuccessExitStatus=`.
    pub fn success_status(&self) -> &[ExitStatusSpec] {
        &self.section.rare.success_exit_status
    }

    /// `TimeoutStartSec=`; infinity by default for `Type=oneshot`, else
    /// [`DEFAULT_TIMEOUT`].
    pub fn timeout_start(&self) -> Usec {
        match self.section.rare.timeout_start_sec {
            Some(t) => fix_0(t),
            None if self.service_type == ServiceType::Oneshot => USEC_INFINITY,
            None => DEFAULT_TIMEOUT,
        }
    }

    /// `TimeoutStopSec=`, [`DEFAULT_TIMEOUT`] by default.
    pub fn timeout_stop(&self) -> Usec {
        self.section
            .rare
            .timeout_stop_sec
            .map_or(DEFAULT_TIMEOUT, fix_0)
    }

    /// `TimeoutAbortSec=`; `TimeoutStopSec=` when unset.
    pub fn timeout_abort(&self) -> Usec {
        self.section
            .rare
            .timeout_abort_sec
            .unwrap_or_else(|| self.timeout_stop())
    }

    /// `TimeoutStartFailureMode=`, `terminate` by default.
    pub fn timeout_start_failure_mode(&self) -> TimeoutMode {
        self.section
            .timeout_start_failure_mode
            .unwrap_or(TimeoutMode::Terminate)
    }

    /// `TimeoutStopFailureMode=`, `terminate` by default.
    pub fn timeout_stop_failure_mode(&self) -> TimeoutMode {
        self.section
            .timeout_stop_failure_mode
            .unwrap_or(TimeoutMode::Terminate)
    }

    /// `RuntimeMaxSec=`, infinity by default.
    pub fn runtime_max(&self) -> Usec {
        self.section.rare.runtime_max_sec.unwrap_or(USEC_INFINITY)
    }

    /// `WatchdogSec=`; 0 is off.
    pub fn watchdog(&self) -> Usec {
        self.section.rare.watchdog_sec.unwrap_or(0)
    }

    /// `NotifyAccess=`. The notify socket is needed for Type=notify, the watchdog and the
    /// fd store, so systemd turns reception on for the main process when it is off
    /// ("none" included).
    pub fn notify_access(&self) -> NotifyAccess {
        let s = &self.section;
        match s.notify_access.unwrap_or(NotifyAccess::None) {
            NotifyAccess::None
                if self.service_type == ServiceType::Notify
                    || self.watchdog() > 0
                    || s.rare.file_descriptor_store_max.unwrap_or(0) > 0 =>
            {
                NotifyAccess::Main
            }
            access => access,
        }
    }

    /// `KillMode=`, `control-group` by default.
    pub fn kill_mode(&self) -> KillMode {
        self.section
            .kill
            .kill_mode
            .unwrap_or(KillMode::ControlGroup)
    }

    /// `KillSignal=`, SIGTERM by default.
    pub fn kill_signal(&self) -> i32 {
        self.section.kill.kill_signal.unwrap_or(SIGTERM)
    }

    /// `FinalKillSignal=`, SIGKILL by default.
    pub fn final_kill_signal(&self) -> i32 {
        self.section.kill.final_kill_signal.unwrap_or(SIGKILL)
    }

    /// `WatchdogSignal=`, SIGABRT by default.
    pub fn watchdog_signal(&self) -> i32 {
        self.section.kill.watchdog_signal.unwrap_or(SIGABRT)
    }

    /// `SendSIGKILL=`, on by default.
    pub fn send_sigkill(&self) -> bool {
        self.section.kill.send_sigkill.unwrap_or(true)
    }

    /// `SendSIGHUP=`, off by default.
    pub fn send_sighup(&self) -> bool {
        self.section.kill.send_sighup.unwrap_or(false)
    }
}
