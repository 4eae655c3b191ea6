//! The configuration a service runs with: the typed `[Service]` and `[Unit]` settings with
//! every default systemd 252 applies filled in (`service_init`, `service_add_extras`,
//! `kill_context_init`, the `config_parse_service_timeout` rule that 0 means infinity).

use crate::exit::{SIGABRT, SIGKILL, SIGTERM};
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

/// A service's settings, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    pub service_type: ServiceType,
    pub exec_condition: Vec<ExecCommand>,
    pub exec_start_pre: Vec<ExecCommand>,
    pub exec_start: Vec<ExecCommand>,
    pub exec_start_post: Vec<ExecCommand>,
    pub exec_reload: Vec<ExecCommand>,
    pub exec_stop: Vec<ExecCommand>,
    pub exec_stop_post: Vec<ExecCommand>,
    pub pid_file: Option<String>,
    pub remain_after_exit: bool,
    pub guess_main_pid: bool,
    pub restart: Restart,
    pub restart_usec: Usec,
    pub restart_prevent: Vec<ExitStatusSpec>,
    pub restart_force: Vec<ExitStatusSpec>,
    pub success_status: Vec<ExitStatusSpec>,
    /// `TimeoutStartSec=`; infinity by default for `Type=oneshot`.
    pub timeout_start: Usec,
    pub timeout_stop: Usec,
    /// `TimeoutAbortSec=`; `TimeoutStopSec=` when unset.
    pub timeout_abort: Usec,
    pub timeout_start_failure_mode: TimeoutMode,
    pub timeout_stop_failure_mode: TimeoutMode,
    pub runtime_max: Usec,
    /// `WatchdogSec=`; 0 is off.
    pub watchdog: Usec,
    pub notify_access: NotifyAccess,
    pub kill_mode: KillMode,
    pub kill_signal: i32,
    pub final_kill_signal: i32,
    pub watchdog_signal: i32,
    pub send_sigkill: bool,
    pub send_sighup: bool,
    pub start_limit_interval: Usec,
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
    pub fn new(service: &ServiceSection, unit: &UnitSection) -> ServiceConfig {
        let service_type = service.effective_type();
        let timeout_start = match service.timeout_start_sec {
            Some(t) => fix_0(t),
            None if service_type == ServiceType::Oneshot => USEC_INFINITY,
            None => DEFAULT_TIMEOUT,
        };
        let timeout_stop = service.timeout_stop_sec.map_or(DEFAULT_TIMEOUT, fix_0);
        let watchdog = service.watchdog_sec.unwrap_or(0);
        // The notify socket is needed for Type=notify, the watchdog and the fd store, so
        // systemd turns reception on for the main process when it is off ("none" included).
        let notify_access = match service.notify_access.unwrap_or(NotifyAccess::None) {
            NotifyAccess::None
                if service_type == ServiceType::Notify
                    || watchdog > 0
                    || service.file_descriptor_store_max.unwrap_or(0) > 0 =>
            {
                NotifyAccess::Main
            }
            access => access,
        };
        let kill = &service.kill;
        ServiceConfig {
            service_type,
            exec_condition: service.exec_condition.clone(),
            exec_start_pre: service.exec_start_pre.clone(),
            exec_start: service.exec_start.clone(),
            exec_start_post: service.exec_start_post.clone(),
            exec_reload: service.exec_reload.clone(),
            exec_stop: service.exec_stop.clone(),
            exec_stop_post: service.exec_stop_post.clone(),
            pid_file: service.pid_file.clone(),
            remain_after_exit: service.remain_after_exit.unwrap_or(false),
            guess_main_pid: service.guess_main_pid.unwrap_or(true),
            restart: service.restart.unwrap_or(Restart::No),
            restart_usec: service.restart_sec.unwrap_or(DEFAULT_RESTART),
            restart_prevent: service.restart_prevent_exit_status.clone(),
            restart_force: service.restart_force_exit_status.clone(),
            success_status: service.success_exit_status.clone(),
            timeout_start,
            timeout_stop,
            timeout_abort: service.timeout_abort_sec.unwrap_or(timeout_stop),
            timeout_start_failure_mode: service
                .timeout_start_failure_mode
                .unwrap_or(TimeoutMode::Terminate),
            timeout_stop_failure_mode: service
                .timeout_stop_failure_mode
                .unwrap_or(TimeoutMode::Terminate),
            runtime_max: service.runtime_max_sec.unwrap_or(USEC_INFINITY),
            watchdog,
            notify_access,
            kill_mode: kill.kill_mode.unwrap_or(KillMode::ControlGroup),
            kill_signal: kill.kill_signal.unwrap_or(SIGTERM),
            final_kill_signal: kill.final_kill_signal.unwrap_or(SIGKILL),
            watchdog_signal: kill.watchdog_signal.unwrap_or(SIGABRT),
            send_sigkill: kill.send_sigkill.unwrap_or(true),
            send_sighup: kill.send_sighup.unwrap_or(false),
            start_limit_interval: unit
                .start_limit_interval_sec
                .unwrap_or(DEFAULT_START_LIMIT_INTERVAL),
            start_limit_burst: unit.start_limit_burst.unwrap_or(DEFAULT_START_LIMIT_BURST),
        }
    }

    /// The commands of one step.
    pub fn commands(&self, kind: super::ExecKind) -> &[ExecCommand] {
        use super::ExecKind;
        match kind {
            ExecKind::Condition => &self.exec_condition,
            ExecKind::StartPre => &self.exec_start_pre,
            ExecKind::Start => &self.exec_start,
            ExecKind::StartPost => &self.exec_start_post,
            ExecKind::Reload => &self.exec_reload,
            ExecKind::Stop => &self.exec_stop,
            ExecKind::StopPost => &self.exec_stop_post,
        }
    }
}
