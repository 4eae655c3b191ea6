//! `[Service]` (systemd.service(5)).

use super::cx::Cx;
use super::exec::{apply_contexts, CgroupContext, ExecContext, KillContext, KillMode};
use super::sparse::{shared_default, Sparse};
use super::unit::{UnitSection, EMERGENCY_ACTIONS};
use crate::diag::ValueError;
use crate::exec::ExecCommand;
use crate::syntax::Assignment;
use crate::value::{self, ExitStatusSpec, Usec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceType {
    Simple,
    Exec,
    Forking,
    Oneshot,
    Dbus,
    Notify,
    Idle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    No,
    OnSuccess,
    OnFailure,
    OnAbnormal,
    OnWatchdog,
    OnAbort,
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyAccess {
    None,
    Main,
    Exec,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitType {
    Main,
    Cgroup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OomPolicy {
    Continue,
    Stop,
    Kill,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutMode {
    Terminate,
    Abort,
    Kill,
}

const SERVICE_TYPES: &[(&str, ServiceType)] = &[
    ("simple", ServiceType::Simple),
    ("exec", ServiceType::Exec),
    ("forking", ServiceType::Forking),
    ("oneshot", ServiceType::Oneshot),
    ("dbus", ServiceType::Dbus),
    ("notify", ServiceType::Notify),
    ("idle", ServiceType::Idle),
];

pub(crate) const OOM_POLICIES: &[(&str, OomPolicy)] = &[
    ("continue", OomPolicy::Continue),
    ("stop", OomPolicy::Stop),
    ("kill", OomPolicy::Kill),
];

const TIMEOUT_MODES: &[(&str, TimeoutMode)] = &[
    ("terminate", TimeoutMode::Terminate),
    ("abort", TimeoutMode::Abort),
    ("kill", TimeoutMode::Kill),
];

/// `[Service]`. The manager keeps one per loaded service, so what most services leave
/// unset (every command list but `ExecStart=`, the timeouts, exit statuses, PID file ...)
/// is in [`ServiceRare`], allocated only when one of its settings is given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Service {
    pub service_type: Option<ServiceType>,
    pub exit_type: Option<ExitType>,
    pub restart: Option<Restart>,
    pub timeout_start_failure_mode: Option<TimeoutMode>,
    pub timeout_stop_failure_mode: Option<TimeoutMode>,
    pub notify_access: Option<NotifyAccess>,
    pub oom_policy: Option<OomPolicy>,
    pub remain_after_exit: Option<bool>,
    pub guess_main_pid: Option<bool>,
    pub permissions_start_only: Option<bool>,
    pub root_directory_start_only: Option<bool>,
    pub non_blocking: Option<bool>,
    pub exec_start: Vec<ExecCommand>,
    /// Allocated only when one of its settings is given ([`Sparse`]).
    pub rare: Sparse<ServiceRare>,
    /// Allocated only when an exec setting is given ([`Sparse`]).
    pub exec: Sparse<ExecContext>,
    pub kill: KillContext,
    /// Allocated only when a resource-control setting is given ([`Sparse`]).
    pub cgroup: Sparse<CgroupContext>,
}

/// The `[Service]` settings few services set ([`Sparse`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceRare {
    pub exec_condition: Vec<ExecCommand>,
    pub exec_start_pre: Vec<ExecCommand>,
    pub exec_start_post: Vec<ExecCommand>,
    pub exec_reload: Vec<ExecCommand>,
    pub exec_stop: Vec<ExecCommand>,
    pub exec_stop_post: Vec<ExecCommand>,
    pub pid_file: Option<String>,
    pub bus_name: Option<String>,
    pub restart_sec: Option<Usec>,
    pub timeout_start_sec: Option<Usec>,
    pub timeout_stop_sec: Option<Usec>,
    pub timeout_abort_sec: Option<Usec>,
    pub runtime_max_sec: Option<Usec>,
    pub watchdog_sec: Option<Usec>,
    pub restart_prevent_exit_status: Vec<ExitStatusSpec>,
    pub restart_force_exit_status: Vec<ExitStatusSpec>,
    pub success_exit_status: Vec<ExitStatusSpec>,
    pub sockets: Vec<String>,
    pub file_descriptor_store_max: Option<u32>,
}

shared_default!(ServiceRare);

fn exit_statuses(slot: &mut Vec<ExitStatusSpec>, a: &Assignment, cx: &mut Cx) {
    if a.value.is_empty() {
        slot.clear();
        return;
    }
    // systemd skips each bad word with a warning and keeps the others.
    let (list, bad) = value::parse_exit_status_list(&a.value);
    for spec in list {
        if !slot.contains(&spec) {
            slot.push(spec);
        }
    }
    for e in bad {
        cx.error(a, format!("invalid word in {}=: {e}; ignoring it", a.key));
    }
}

impl Service {
    /// Applies one `[Service]` assignment. Some `[Unit]` settings are still accepted here
    /// under their old names (`StartLimitInterval=` ...), so the unit section comes along.
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx, unit: &mut UnitSection) -> bool {
        match a.key.as_str() {
            "Type" => cx.choice(&mut self.service_type, a, SERVICE_TYPES),
            "ExitType" => cx.choice(
                &mut self.exit_type,
                a,
                &[("main", ExitType::Main), ("cgroup", ExitType::Cgroup)],
            ),
            "Restart" => cx.choice(
                &mut self.restart,
                a,
                &[
                    ("no", Restart::No),
                    ("on-success", Restart::OnSuccess),
                    ("on-failure", Restart::OnFailure),
                    ("on-abnormal", Restart::OnAbnormal),
                    ("on-watchdog", Restart::OnWatchdog),
                    ("on-abort", Restart::OnAbort),
                    ("always", Restart::Always),
                ],
            ),
            "ExecStart" => cx.exec(&mut self.exec_start, a),
            "TimeoutStartFailureMode" => {
                cx.choice(&mut self.timeout_start_failure_mode, a, TIMEOUT_MODES)
            }
            "TimeoutStopFailureMode" => {
                cx.choice(&mut self.timeout_stop_failure_mode, a, TIMEOUT_MODES)
            }
            "RemainAfterExit" => cx.bool(&mut self.remain_after_exit, a),
            "GuessMainPID" => cx.bool(&mut self.guess_main_pid, a),
            // Deprecated in systemd.service(5), but systemd 252 does not warn about it.
            "PermissionsStartOnly" => cx.bool(&mut self.permissions_start_only, a),
            "RootDirectoryStartOnly" => cx.bool(&mut self.root_directory_start_only, a),
            "NonBlocking" => cx.bool(&mut self.non_blocking, a),
            "NotifyAccess" => cx.choice(
                &mut self.notify_access,
                a,
                &[
                    ("none", NotifyAccess::None),
                    ("main", NotifyAccess::Main),
                    ("exec", NotifyAccess::Exec),
                    ("all", NotifyAccess::All),
                ],
            ),
            "OOMPolicy" => cx.choice(&mut self.oom_policy, a, OOM_POLICIES),
            // Old homes of [Unit] settings, still accepted by systemd in [Service].
            "StartLimitInterval" => unit
                .rare
                .update(|r| cx.secs(&mut r.start_limit_interval_sec, a)),
            "StartLimitBurst" => unit
                .rare
                .update(|r| cx.scalar(&mut r.start_limit_burst, a, super::unit::parse_u32)),
            "StartLimitAction" => cx.choice(&mut unit.start_limit_action, a, EMERGENCY_ACTIONS),
            "FailureAction" => cx.choice(&mut unit.failure_action, a, EMERGENCY_ACTIONS),
            "RebootArgument" => unit.rare.update(|r| cx.string(&mut r.reboot_argument, a)),
            _ => {
                return self.rare.update(|r| r.apply(a, cx))
                    || apply_contexts(
                        a,
                        cx,
                        Some(&mut self.exec),
                        Some(&mut self.kill),
                        Some(&mut self.cgroup),
                    )
            }
        }
        true
    }

    /// The type systemd uses when `Type=` is not set: `dbus` with a `BusName=`, else
    /// `simple`, or `oneshot` when there is no `ExecStart=`.
    pub fn effective_type(&self) -> ServiceType {
        match self.service_type {
            Some(t) => t,
            None if self.rare.bus_name.is_some() => ServiceType::Dbus,
            None if self.exec_start.is_empty() => ServiceType::Oneshot,
            None => ServiceType::Simple,
        }
    }

    /// The checks systemd makes when a service has been loaded; each is fatal.
    /// Like systemd, only the first problem found is reported.
    pub(crate) fn verify(&self, unit: &UnitSection) -> Option<String> {
        let t = self.effective_type();
        let no_start = self.exec_start.is_empty();
        let success_action = unit
            .success_action
            .is_some_and(|a| a != super::unit::EmergencyAction::None);
        let problem = if no_start && self.rare.exec_stop.is_empty() && !success_action {
            "service has no ExecStart=, ExecStop= or SuccessAction= setting"
        } else if t != ServiceType::Oneshot && no_start {
            "service has no ExecStart= setting, which is only allowed for Type=oneshot services"
        } else if no_start && !success_action && self.remain_after_exit != Some(true) {
            "service has no ExecStart= and no SuccessAction= setting and is not \
             RemainAfterExit=yes"
        } else if t != ServiceType::Oneshot && self.exec_start.len() > 1 {
            "service has more than one ExecStart= setting, which is only allowed for \
             Type=oneshot services"
        } else if t == ServiceType::Oneshot
            && matches!(self.restart, Some(Restart::Always | Restart::OnSuccess))
        {
            "Restart=always and Restart=on-success are not allowed for Type=oneshot services"
        } else if t == ServiceType::Oneshot && self.exit_type == Some(ExitType::Cgroup) {
            "ExitType=cgroup is not allowed for Type=oneshot services"
        } else if t == ServiceType::Dbus && self.rare.bus_name.is_none() {
            "service is of Type=dbus but has no BusName="
        } else if self.exec.pam_name.is_some()
            && !matches!(
                self.kill.kill_mode,
                None | Some(KillMode::ControlGroup | KillMode::Mixed)
            )
        {
            "service has PAMName= set, which needs KillMode=control-group or KillMode=mixed"
        } else {
            return None;
        };
        Some(problem.to_string())
    }
}

impl ServiceRare {
    /// Applies one of the rarely given `[Service]` assignments; false when the key is not
    /// one of them.
    fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        match a.key.as_str() {
            // systemd.service(5): a relative PIDFile= is below /run.
            "PIDFile" => cx.resettable_expanded(&mut self.pid_file, a, |s| {
                if s.starts_with('/') {
                    super::cx::absolute_path(s)
                } else {
                    super::cx::absolute_path(&format!("/run/{s}"))
                }
            }),
            "BusName" => cx.scalar_expanded(&mut self.bus_name, a, bus_name),
            "ExecCondition" => cx.exec(&mut self.exec_condition, a),
            "ExecStartPre" => cx.exec(&mut self.exec_start_pre, a),
            "ExecStartPost" => cx.exec(&mut self.exec_start_post, a),
            "ExecReload" => cx.exec(&mut self.exec_reload, a),
            "ExecStop" => cx.exec(&mut self.exec_stop, a),
            "ExecStopPost" => cx.exec(&mut self.exec_stop_post, a),
            "RestartSec" => cx.secs(&mut self.restart_sec, a),
            // TimeoutSec= sets both the start and the stop timeout.
            "TimeoutSec" => {
                // Parsed once, so a bad value is reported once and changes neither.
                let mut both = None;
                cx.secs(&mut both, a);
                if both.is_some() || a.value.is_empty() {
                    self.timeout_start_sec = both;
                    self.timeout_stop_sec = both;
                }
            }
            "TimeoutStartSec" => cx.secs(&mut self.timeout_start_sec, a),
            "TimeoutStopSec" => cx.secs(&mut self.timeout_stop_sec, a),
            "TimeoutAbortSec" => cx.secs(&mut self.timeout_abort_sec, a),
            "RuntimeMaxSec" => cx.secs(&mut self.runtime_max_sec, a),
            "WatchdogSec" => cx.secs(&mut self.watchdog_sec, a),
            "RestartPreventExitStatus" => {
                exit_statuses(&mut self.restart_prevent_exit_status, a, cx)
            }
            "RestartForceExitStatus" => exit_statuses(&mut self.restart_force_exit_status, a, cx),
            "SuccessExitStatus" => exit_statuses(&mut self.success_exit_status, a, cx),
            "Sockets" => cx.dependencies(&mut self.sockets, a),
            "FileDescriptorStoreMax" => cx.scalar(
                &mut self.file_descriptor_store_max,
                a,
                super::unit::parse_u32,
            ),
            _ => return false,
        }
        true
    }
}

/// A D-Bus well-known name (D-Bus specification, "Bus names"): at most 255 characters, two
/// or more dot-separated elements of `[A-Za-z0-9_-]`, none empty or starting with a digit.
fn bus_name(s: &str) -> Result<String, ValueError> {
    let valid_element = |e: &str| {
        !e.is_empty()
            && !e.starts_with(|c: char| c.is_ascii_digit())
            && e.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if s.len() <= 255 && s.contains('.') && s.split('.').all(valid_element) {
        Ok(s.to_string())
    } else {
        Err(ValueError::new(format!("'{s}' is not a valid D-Bus name")))
    }
}
