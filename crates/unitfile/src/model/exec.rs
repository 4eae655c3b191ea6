//! The contexts shared by several unit types: how processes are executed (systemd.exec(5)),
//! killed (systemd.kill(5)) and resource-controlled (systemd.resource-control(5)).
//! Sandboxing directives are in [`super::sandbox`].

use super::cx::Cx;
use super::sandbox::{bool_or, Sandbox};
use super::sparse::{shared_default, Sparse};
use crate::diag::ValueError;
use crate::syntax::Assignment;
use crate::value::{self, CpuWeight, RLimit, SizeLimit, TasksMax, Usec};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdInput {
    Null,
    Tty,
    TtyForce,
    TtyFail,
    Data,
    Socket,
}

/// `StandardOutput=`/`StandardError=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdOutput {
    Inherit,
    Null,
    Tty,
    Journal,
    Kmsg,
    JournalConsole,
    KmsgConsole,
    Syslog,
    SyslogConsole,
    Socket,
    File(String),
    Append(String),
    Truncate(String),
    /// `fd:NAME`, a socket unit's named file descriptor.
    Fd(String),
}

/// `StandardInput=`, which can also be `file:PATH` or `fd:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Kind(StdInput),
    File(String),
    Fd(String),
}

fn parse_input(s: &str) -> Result<Input, ValueError> {
    if let Some(p) = s.strip_prefix("file:") {
        return Ok(Input::File(super::cx::absolute_path(p)?));
    }
    if let Some(n) = s.strip_prefix("fd:") {
        return Ok(Input::Fd(n.to_string()));
    }
    super::cx::lookup_choice(
        s,
        &[
            ("null", StdInput::Null),
            ("tty", StdInput::Tty),
            ("tty-force", StdInput::TtyForce),
            ("tty-fail", StdInput::TtyFail),
            ("data", StdInput::Data),
            ("socket", StdInput::Socket),
        ],
    )
    .map(Input::Kind)
}

fn parse_output(s: &str) -> Result<StdOutput, ValueError> {
    for (prefix, make) in [
        ("file:", StdOutput::File as fn(String) -> StdOutput),
        ("append:", StdOutput::Append),
        ("truncate:", StdOutput::Truncate),
    ] {
        if let Some(p) = s.strip_prefix(prefix) {
            return Ok(make(super::cx::absolute_path(p)?));
        }
    }
    if let Some(n) = s.strip_prefix("fd:") {
        return Ok(StdOutput::Fd(n.to_string()));
    }
    Ok(match s {
        "inherit" => StdOutput::Inherit,
        "null" => StdOutput::Null,
        "tty" => StdOutput::Tty,
        "journal" => StdOutput::Journal,
        "kmsg" => StdOutput::Kmsg,
        "journal+console" => StdOutput::JournalConsole,
        "kmsg+console" => StdOutput::KmsgConsole,
        "syslog" => StdOutput::Syslog,
        "syslog+console" => StdOutput::SyslogConsole,
        "socket" => StdOutput::Socket,
        _ => {
            return Err(ValueError::new(
                "expected inherit, null, tty, journal, kmsg, journal+console, kmsg+console, \
                 socket, file:PATH, append:PATH, truncate:PATH or fd:NAME",
            ))
        }
    })
}

/// `WorkingDirectory=`: a path, `~` for the user's home; `-` makes a missing one harmless.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingDirectory {
    pub path: String,
    pub home: bool,
    pub missing_ok: bool,
}

fn parse_working_directory(s: &str) -> Result<WorkingDirectory, ValueError> {
    let (missing_ok, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if rest == "~" {
        return Ok(WorkingDirectory {
            path: String::new(),
            home: true,
            missing_ok,
        });
    }
    Ok(WorkingDirectory {
        path: super::cx::absolute_path(rest)?,
        home: false,
        missing_ok,
    })
}

/// `EnvironmentFile=`: a path, optional when prefixed with `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentFile {
    pub path: String,
    pub optional: bool,
}

fn parse_environment_file(s: &str) -> Result<EnvironmentFile, ValueError> {
    let (optional, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    Ok(EnvironmentFile {
        path: super::cx::absolute_path(rest)?,
        optional,
    })
}

/// `RuntimeDirectory=` and friends: relative paths below the base directory, each with an
/// optional `:SYMLINK` second path.
fn parse_relative_dir(s: &str) -> Result<String, ValueError> {
    let first = s.split(':').next().unwrap_or(s);
    if first.starts_with('/') || first.split('/').any(|p| p == "..") || first.is_empty() {
        return Err(ValueError::new(format!(
            "'{s}' must be a relative path without '..'"
        )));
    }
    Ok(s.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preserve {
    No,
    Yes,
    Restart,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecContext {
    pub user: Option<String>,
    pub group: Option<String>,
    pub supplementary_groups: Vec<String>,
    pub working_directory: Option<WorkingDirectory>,
    pub root_directory: Option<String>,
    pub umask: Option<u32>,
    pub environment: Vec<(String, String)>,
    pub environment_files: Vec<EnvironmentFile>,
    pub pass_environment: Vec<String>,
    pub unset_environment: Vec<String>,
    /// `Limit*=` by resource name (`NOFILE`, `CORE`, ...).
    pub limits: BTreeMap<String, RLimit>,
    pub nice: Option<i32>,
    pub oom_score_adjust: Option<i32>,
    pub io_scheduling_class: Option<u8>,
    pub io_scheduling_priority: Option<u8>,
    pub cpu_scheduling_policy: Option<i32>,
    pub cpu_scheduling_priority: Option<i32>,
    pub cpu_scheduling_reset_on_fork: Option<bool>,
    pub runtime_directory: Vec<String>,
    pub state_directory: Vec<String>,
    pub cache_directory: Vec<String>,
    pub logs_directory: Vec<String>,
    pub configuration_directory: Vec<String>,
    pub runtime_directory_mode: Option<u32>,
    pub state_directory_mode: Option<u32>,
    pub cache_directory_mode: Option<u32>,
    pub logs_directory_mode: Option<u32>,
    pub configuration_directory_mode: Option<u32>,
    pub runtime_directory_preserve: Option<Preserve>,
    pub standard_input: Option<Input>,
    pub standard_output: Option<StdOutput>,
    pub standard_error: Option<StdOutput>,
    pub tty_path: Option<String>,
    pub tty_reset: Option<bool>,
    pub tty_vhangup: Option<bool>,
    pub tty_vt_disallocate: Option<bool>,
    pub syslog_identifier: Option<String>,
    pub ignore_sigpipe: Option<bool>,
    pub utmp_identifier: Option<String>,
    pub pam_name: Option<String>,
    /// Allocated only for units that set a sandboxing directive.
    pub sandbox: Sparse<Sandbox>,
}

shared_default!(ExecContext, CgroupContext, Sandbox);

impl ExecContext {
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        if self.sandbox.update(|s| s.apply(a, cx)) {
            return true;
        }
        match a.key.as_str() {
            "User" => cx.string(&mut self.user, a),
            "Group" => cx.string(&mut self.group, a),
            "SupplementaryGroups" => cx.words(&mut self.supplementary_groups, a),
            // systemd refuses the unit for a path it cannot use, unless `-` says a missing
            // directory is fine (oracle: "WorkingDirectory= path is not absolute: var/lib",
            // "Unit configuration has fatal error").
            "WorkingDirectory" => cx.scalar_expanded_fatal(
                &mut self.working_directory,
                a,
                !a.value.starts_with('-'),
                parse_working_directory,
            ),
            "RootDirectory" => cx.scalar_expanded_fatal(
                &mut self.root_directory,
                a,
                true,
                super::cx::absolute_path,
            ),
            "UMask" => cx.scalar(&mut self.umask, a, value::parse_mode),
            "Environment" => cx.environment(&mut self.environment, a),
            "EnvironmentFile" => {
                cx.push_expanded(&mut self.environment_files, a, parse_environment_file)
            }
            "PassEnvironment" => cx.words_checked(&mut self.pass_environment, a, env_name),
            "UnsetEnvironment" => {
                cx.words_checked(&mut self.unset_environment, a, env_name_or_assignment)
            }
            "Nice" => cx.resettable(&mut self.nice, a, value::parse_nice),
            "OOMScoreAdjust" => {
                cx.resettable(&mut self.oom_score_adjust, a, value::parse_oom_score_adjust)
            }
            "IOSchedulingClass" => {
                cx.resettable(&mut self.io_scheduling_class, a, value::parse_ioprio_class)
            }
            "IOSchedulingPriority" => cx.resettable(
                &mut self.io_scheduling_priority,
                a,
                value::parse_ioprio_priority,
            ),
            "CPUSchedulingPolicy" => cx.resettable(
                &mut self.cpu_scheduling_policy,
                a,
                value::parse_cpu_sched_policy,
            ),
            "CPUSchedulingPriority" => cx.scalar(
                &mut self.cpu_scheduling_priority,
                a,
                value::parse_cpu_sched_priority,
            ),
            "CPUSchedulingResetOnFork" => cx.bool(&mut self.cpu_scheduling_reset_on_fork, a),
            "RuntimeDirectory" => {
                cx.words_checked(&mut self.runtime_directory, a, parse_relative_dir)
            }
            "StateDirectory" => cx.words_checked(&mut self.state_directory, a, parse_relative_dir),
            "CacheDirectory" => cx.words_checked(&mut self.cache_directory, a, parse_relative_dir),
            "LogsDirectory" => cx.words_checked(&mut self.logs_directory, a, parse_relative_dir),
            "ConfigurationDirectory" => {
                cx.words_checked(&mut self.configuration_directory, a, parse_relative_dir)
            }
            "RuntimeDirectoryMode" => {
                cx.scalar(&mut self.runtime_directory_mode, a, value::parse_mode)
            }
            "StateDirectoryMode" => cx.scalar(&mut self.state_directory_mode, a, value::parse_mode),
            "CacheDirectoryMode" => cx.scalar(&mut self.cache_directory_mode, a, value::parse_mode),
            "LogsDirectoryMode" => cx.scalar(&mut self.logs_directory_mode, a, value::parse_mode),
            "ConfigurationDirectoryMode" => {
                cx.scalar(&mut self.configuration_directory_mode, a, value::parse_mode)
            }
            "RuntimeDirectoryPreserve" => cx.scalar(&mut self.runtime_directory_preserve, a, |s| {
                bool_or(
                    s,
                    Preserve::Yes,
                    Preserve::No,
                    &[("restart", Preserve::Restart)],
                )
            }),
            "StandardInput" => cx.scalar_expanded(&mut self.standard_input, a, parse_input),
            "StandardOutput" => cx.scalar_expanded(&mut self.standard_output, a, parse_output),
            "StandardError" => cx.scalar_expanded(&mut self.standard_error, a, parse_output),
            "TTYPath" => cx.path(&mut self.tty_path, a),
            "TTYReset" => cx.bool(&mut self.tty_reset, a),
            "TTYVHangup" => cx.bool(&mut self.tty_vhangup, a),
            "TTYVTDisallocate" => cx.bool(&mut self.tty_vt_disallocate, a),
            "SyslogIdentifier" => cx.string(&mut self.syslog_identifier, a),
            "IgnoreSIGPIPE" => cx.bool(&mut self.ignore_sigpipe, a),
            "UtmpIdentifier" => cx.string(&mut self.utmp_identifier, a),
            "PAMName" => cx.string(&mut self.pam_name, a),
            key => {
                let Some(resource) = key.strip_prefix("Limit") else {
                    return false;
                };
                if !super::known::is_known("Service", key) {
                    return false;
                }
                if a.value.is_empty() {
                    // systemd 252 reads an empty Limit*= as an invalid value, not a reset.
                    cx.error(a, format!("empty value for {key}=; ignoring"));
                    return true;
                }
                match value::parse_rlimit(key, &a.value) {
                    Ok(l) => {
                        self.limits.insert(resource.to_string(), l);
                    }
                    Err(e) => cx.error(a, format!("invalid {key}={}: {e}; ignoring", a.value)),
                }
            }
        }
        true
    }
}

fn env_name(s: &str) -> Result<String, ValueError> {
    if crate::env::is_valid_env_name(s) {
        Ok(s.to_string())
    } else {
        Err(ValueError::new("not a valid environment variable name"))
    }
}

/// `UnsetEnvironment=` takes names or whole `NAME=VALUE` assignments.
fn env_name_or_assignment(s: &str) -> Result<String, ValueError> {
    let name = s.split_once('=').map_or(s, |(n, _)| n);
    env_name(name).map(|_| s.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillMode {
    ControlGroup,
    Mixed,
    Process,
    None,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KillContext {
    pub kill_mode: Option<KillMode>,
    pub kill_signal: Option<i32>,
    pub restart_kill_signal: Option<i32>,
    pub final_kill_signal: Option<i32>,
    pub watchdog_signal: Option<i32>,
    pub send_sigkill: Option<bool>,
    pub send_sighup: Option<bool>,
}

impl KillContext {
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        match a.key.as_str() {
            // An empty KillMode= returns to the default, unlike most enums.
            "KillMode" if a.value.is_empty() => self.kill_mode = None,
            "KillMode" => {
                // systemd 252 warns that KillMode=none is unsafe and deprecated.
                if a.value == "none" {
                    cx.warn(
                        a,
                        "KillMode=none is unsafe and deprecated, use KillMode=mixed or \
                         KillMode=control-group instead"
                            .to_string(),
                    );
                }
                cx.choice(
                    &mut self.kill_mode,
                    a,
                    &[
                        ("control-group", KillMode::ControlGroup),
                        ("mixed", KillMode::Mixed),
                        ("process", KillMode::Process),
                        ("none", KillMode::None),
                    ],
                )
            }
            "KillSignal" => cx.scalar(&mut self.kill_signal, a, value::parse_signal),
            "RestartKillSignal" => cx.scalar(&mut self.restart_kill_signal, a, value::parse_signal),
            "FinalKillSignal" => cx.scalar(&mut self.final_kill_signal, a, value::parse_signal),
            "WatchdogSignal" => cx.scalar(&mut self.watchdog_signal, a, value::parse_signal),
            "SendSIGKILL" => cx.bool(&mut self.send_sigkill, a),
            "SendSIGHUP" => cx.bool(&mut self.send_sighup, a),
            _ => return false,
        }
        true
    }
}

/// `Delegate=`: a boolean or a list of controllers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delegate {
    No,
    Yes,
    Controllers(Vec<String>),
}

const CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "io",
    "blkio",
    "memory",
    "devices",
    "pids",
    "bpf-firewall",
    "bpf-devices",
    "bpf-foreign",
    "bpf-socket-bind",
    "bpf-restrict-network-interfaces",
];

fn parse_delegate(s: &str) -> Result<Delegate, ValueError> {
    if let Ok(b) = value::parse_bool(s) {
        return Ok(if b { Delegate::Yes } else { Delegate::No });
    }
    let list: Vec<String> = s.split_ascii_whitespace().map(str::to_string).collect();
    match list.iter().find(|c| !CONTROLLERS.contains(&c.as_str())) {
        Some(bad) => Err(ValueError::new(format!(
            "unknown cgroup controller '{bad}'"
        ))),
        None => Ok(Delegate::Controllers(list)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevicePolicy {
    Auto,
    Closed,
    Strict,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupContext {
    pub slice: Option<String>,
    pub delegate: Option<Delegate>,
    pub cpu_accounting: Option<bool>,
    pub cpu_weight: Option<CpuWeight>,
    pub startup_cpu_weight: Option<CpuWeight>,
    /// `CPUQuota=` in percent of one CPU.
    pub cpu_quota_percent: Option<u32>,
    pub memory_accounting: Option<bool>,
    pub memory_min: Option<SizeLimit>,
    pub memory_low: Option<SizeLimit>,
    pub memory_high: Option<SizeLimit>,
    pub memory_max: Option<SizeLimit>,
    pub memory_swap_max: Option<SizeLimit>,
    pub tasks_accounting: Option<bool>,
    pub tasks_max: Option<TasksMax>,
    pub io_accounting: Option<bool>,
    pub io_weight: Option<u64>,
    pub device_policy: Option<DevicePolicy>,
    pub device_allow: Vec<String>,
}

fn parse_cpu_quota(s: &str) -> Result<u32, ValueError> {
    s.strip_suffix('%')
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| ValueError::new("expected a positive percentage such as 20%"))
}

fn parse_io_weight(s: &str) -> Result<u64, ValueError> {
    s.parse::<u64>()
        .ok()
        .filter(|n| (1..=10000).contains(n))
        .ok_or_else(|| ValueError::new("expected a weight in 1..10000"))
}

impl CgroupContext {
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        match a.key.as_str() {
            "Slice" => cx.scalar_expanded(&mut self.slice, a, |s| {
                let n = crate::name::UnitName::parse(s)?;
                if n.unit_type() != crate::name::UnitType::Slice {
                    return Err(ValueError::new(format!("'{s}' is not a slice unit")));
                }
                Ok(s.to_string())
            }),
            "Delegate" => cx.resettable(&mut self.delegate, a, parse_delegate),
            "CPUAccounting" => cx.bool(&mut self.cpu_accounting, a),
            "CPUWeight" => cx.resettable(&mut self.cpu_weight, a, value::parse_cpu_weight),
            "StartupCPUWeight" => {
                cx.resettable(&mut self.startup_cpu_weight, a, value::parse_cpu_weight)
            }
            "CPUQuota" => cx.resettable(&mut self.cpu_quota_percent, a, parse_cpu_quota),
            "MemoryAccounting" => cx.bool(&mut self.memory_accounting, a),
            "MemoryMin" => cx.resettable(&mut self.memory_min, a, value::parse_size_limit),
            "MemoryLow" => cx.resettable(&mut self.memory_low, a, value::parse_size_limit),
            "MemoryHigh" => cx.resettable(&mut self.memory_high, a, value::parse_size_limit),
            "MemoryMax" => cx.resettable(&mut self.memory_max, a, value::parse_size_limit),
            "MemoryLimit" => {
                cx.deprecated(a, "MemoryMax");
                cx.resettable(&mut self.memory_max, a, value::parse_size_limit)
            }
            "MemorySwapMax" => cx.resettable(&mut self.memory_swap_max, a, value::parse_size_limit),
            "TasksAccounting" => cx.bool(&mut self.tasks_accounting, a),
            "TasksMax" => cx.resettable(&mut self.tasks_max, a, value::parse_tasks_max),
            "IOAccounting" => cx.bool(&mut self.io_accounting, a),
            "IOWeight" => cx.resettable(&mut self.io_weight, a, parse_io_weight),
            "DevicePolicy" => cx.choice(
                &mut self.device_policy,
                a,
                &[
                    ("auto", DevicePolicy::Auto),
                    ("closed", DevicePolicy::Closed),
                    ("strict", DevicePolicy::Strict),
                ],
            ),
            "DeviceAllow" => {
                if a.value.is_empty() {
                    self.device_allow.clear();
                } else if let Some(v) = cx.expand(a) {
                    self.device_allow.push(v);
                }
            }
            _ => return false,
        }
        true
    }
}

/// Applies an assignment to whichever of the shared contexts knows it.
pub(crate) fn apply_contexts(
    a: &Assignment,
    cx: &mut Cx,
    exec: Option<&mut Sparse<ExecContext>>,
    kill: Option<&mut KillContext>,
    cgroup: Option<&mut Sparse<CgroupContext>>,
) -> bool {
    exec.is_some_and(|e| e.update(|e| e.apply(a, cx)))
        || kill.is_some_and(|k| k.apply(a, cx))
        || cgroup.is_some_and(|c| c.update(|c| c.apply(a, cx)))
}

/// A time span whose bare numbers are seconds; re-exported for the type sections.
pub(crate) fn secs(s: &str) -> Result<Usec, ValueError> {
    value::parse_timespan(s, value::TimeUnit::Sec)
}
