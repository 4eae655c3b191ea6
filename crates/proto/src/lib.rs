//! `proto` holds the control API's request and reply types and their framing: JSON
//! messages terminated by a NUL byte over the Unix stream socket `<runtime-dir>/control`,
//! the way varlink frames them. It carries data only: no logic, no I/O policy, no
//! knowledge of how the manager answers.
//!
//! Every message carries the protocol version. A peer that receives a message of a version
//! it does not know answers with [`ErrorKind::Version`] instead of guessing; fields added
//! later are optional (`#[serde(default)]`) so that an `sctl` and a manager of neighbouring
//! versions still understand each other across a hot upgrade.

pub mod frame;
pub mod init;

use serde::{Deserialize, Serialize};

/// The version of the messages below.
pub const VERSION: u32 = 1;

/// The largest message either side accepts, NUL included. A longer one is a protocol error
/// and the connection is closed: a hostile client cannot make the manager buffer more.
pub const MAX_MESSAGE: usize = 1 << 20;

/// What a client asks for, with the version it speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub version: u32,
    #[serde(flatten)]
    pub call: Call,
}

/// The operations of the control API, named after the `sctl` verbs they serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", content = "params", rename_all = "kebab-case")]
pub enum Call {
    /// Is the manager there, and which version is it?
    Ping,
    /// Queue a job for each unit (`start`, `stop`, `restart`, ...).
    Job {
        verb: JobVerb,
        units: Vec<String>,
        #[serde(default)]
        mode: JobMode,
    },
    /// Wait until the given jobs have finished and return their results.
    WaitJobs {
        jobs: Vec<u32>,
    },
    /// Send a signal to processes of units (`sctl kill`).
    Kill {
        units: Vec<String>,
        #[serde(default)]
        whom: KillWhom,
        signal: i32,
    },
    ResetFailed {
        units: Vec<String>,
    },
    /// Units and their states (`list-units`); empty patterns mean all loaded units.
    ListUnits {
        #[serde(default)]
        patterns: Vec<String>,
        #[serde(default)]
        all: bool,
        #[serde(default)]
        states: Vec<String>,
        #[serde(default)]
        types: Vec<String>,
    },
    ListUnitFiles {
        #[serde(default)]
        patterns: Vec<String>,
    },
    ListJobs,
    CancelJobs {
        jobs: Vec<u32>,
    },
    /// Everything `sctl status` shows about units.
    Status {
        units: Vec<String>,
    },
    /// `key=value` properties as `sctl show` prints them: the named ones (shown even when
    /// empty), else every property that has a value, or every property with `all`
    /// (`--all`). No unit means the manager's own properties.
    Show {
        units: Vec<String>,
        #[serde(default)]
        properties: Vec<String>,
        #[serde(default)]
        all: bool,
    },
    /// The overview `sctl status` prints without a unit: host, system state, counts and
    /// the manager's control group.
    SystemStatus,
    /// The fragment and drop-in paths of units, for `sctl cat`.
    Files {
        units: Vec<String>,
    },
    /// Recent captured output of a unit.
    Logs {
        unit: String,
        #[serde(default)]
        lines: Option<u32>,
    },
    UnitFileChange {
        change: UnitFileChange,
        units: Vec<String>,
    },
    SetDefault {
        unit: String,
    },
    GetDefault,
    DaemonReload,
    DaemonReexec,
    /// Re-execute PID 1 (`sctl daemon-reexec --init`), keeping every process.
    ReexecInit,
    Shutdown {
        kind: ShutdownKind,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobVerb {
    Start,
    Stop,
    Reload,
    Restart,
    TryRestart,
    ReloadOrRestart,
    TryReloadOrRestart,
    Isolate,
    VerifyActive,
}

/// systemctl's `--job-mode=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobMode {
    #[default]
    Replace,
    Fail,
    ReplaceIrreversibly,
    Isolate,
    Flush,
    IgnoreDependencies,
    IgnoreRequirements,
    Triggering,
}

/// systemctl's `--kill-whom=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KillWhom {
    Main,
    Control,
    #[default]
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitFileChange {
    Enable,
    Disable,
    Mask,
    Unmask,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShutdownKind {
    Poweroff,
    Reboot,
    Halt,
    Kexec,
}

/// The manager's answer, with the version it speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub version: u32,
    #[serde(flatten)]
    pub result: ReplyResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplyResult {
    Ok(Answer),
    Error(Error),
}

/// The successful answers, one shape per kind of call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "kebab-case")]
pub enum Answer {
    Pong {
        manager_version: String,
    },
    /// The call was carried out and has nothing to report.
    Done,
    Jobs(Vec<JobInfo>),
    Units(Vec<UnitInfo>),
    UnitFiles(Vec<UnitFileInfo>),
    Status(Vec<UnitStatus>),
    SystemStatus(Box<SystemStatus>),
    Properties(Vec<Vec<(String, String)>>),
    Files(Vec<Vec<String>>),
    Logs(Vec<String>),
    Default(String),
    /// Changes `enable`/`disable`/`mask`/`unmask` made: (`created`|`removed`, path, target).
    Changes(Vec<(String, String, String)>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInfo {
    pub id: u32,
    pub unit: String,
    pub job_type: String,
    /// `waiting` or `running`, or the result once finished (`done`, `failed`, ...).
    pub state: String,
}

/// One line of `list-units`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitInfo {
    pub name: String,
    pub load_state: String,
    pub active_state: String,
    pub sub_state: String,
    pub description: String,
    #[serde(default)]
    pub job: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitFileInfo {
    pub name: String,
    /// `enabled`, `disabled`, `static`, `masked`, `alias`, `indirect`, `generated` ...
    pub state: String,
}

/// What `sctl status` shows of one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitStatus {
    pub unit: UnitInfo,
    pub fragment: Option<String>,
    #[serde(default)]
    pub dropins: Vec<String>,
    pub unit_file_state: String,
    /// When the unit entered its current active state, in µs since the epoch.
    pub state_change_usec: Option<u64>,
    pub main_pid: Option<u32>,
    /// `STATUS=` text from sd_notify.
    pub status_text: Option<String>,
    /// The unit's result (`success`, `exit-code`, `timeout` ...), for the kinds of unit
    /// that have one.
    #[serde(default)]
    pub result: Option<String>,
    /// (pid, command line) of every process of the unit, main first.
    #[serde(default)]
    pub processes: Vec<(u32, String)>,
    #[serde(default)]
    pub log: Vec<String>,
}

/// What `sctl status` without a unit shows (systemctl's `show_system_status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemStatus {
    /// The host name.
    pub host: String,
    /// `SystemState=`: `starting`, `running`, `degraded` or `stopping`.
    pub state: String,
    /// Loaded units, each alias counted (`NNames=`).
    pub names: u32,
    pub jobs: u32,
    pub failed_units: u32,
    /// When the manager started, µs since the epoch.
    pub since_usec: Option<u64>,
    pub version: String,
    /// The control group holding the manager's units, relative to the cgroup2 mount, and
    /// its tree of groups and processes; `None` without cgroups.
    #[serde(default)]
    pub cgroup: Option<CgroupNode>,
}

/// One control group of a process tree: its path (the root) or name (below the root),
/// the processes in it (pid, command line) sorted by pid, and its non-empty children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupNode {
    pub name: String,
    #[serde(default)]
    pub processes: Vec<(u32, String)>,
    #[serde(default)]
    pub children: Vec<CgroupNode>,
}

/// Why a call failed, in a form `sctl` maps to systemctl's messages and exit codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// The D-Bus error systemd answers the same refusal with
    /// (`org.freedesktop.systemd1.NoIsolation`, `...JobTypeNotApplicable`, ...), when it
    /// matters to the client: systemctl picks some exit statuses and hints by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The message could not be parsed or is not a known call.
    BadRequest,
    /// The peer speaks another protocol version.
    Version,
    /// Changing state needs uid 0.
    PermissionDenied,
    NoSuchUnit,
    NoSuchJob,
    /// The job engine refused the transaction (conflicts, cycles, refused manual start...).
    JobFailed,
    /// The manager cannot do this (yet).
    Unsupported,
    /// Anything else; the message says what.
    Failed,
}

impl Request {
    pub fn new(call: Call) -> Request {
        Request {
            version: VERSION,
            call,
        }
    }
}

impl Reply {
    pub fn ok(answer: Answer) -> Reply {
        Reply {
            version: VERSION,
            result: ReplyResult::Ok(answer),
        }
    }

    pub fn error(kind: ErrorKind, message: impl Into<String>) -> Reply {
        Reply {
            version: VERSION,
            result: ReplyResult::Error(Error {
                kind,
                message: message.into(),
                bus_error: None,
            }),
        }
    }

    /// A refusal that also names systemd's D-Bus error for it.
    pub fn error_named(kind: ErrorKind, bus_error: &str, message: impl Into<String>) -> Reply {
        Reply {
            version: VERSION,
            result: ReplyResult::Error(Error {
                kind,
                message: message.into(),
                bus_error: Some(bus_error.to_string()),
            }),
        }
    }
}

impl Call {
    /// Whether the call changes state and so needs uid 0 (DESIGN.md §4: anyone may read).
    pub fn changes_state(&self) -> bool {
        !matches!(
            self,
            Call::Ping
                | Call::WaitJobs { .. }
                | Call::ListUnits { .. }
                | Call::ListUnitFiles { .. }
                | Call::ListJobs
                | Call::Status { .. }
                | Call::Show { .. }
                | Call::SystemStatus
                | Call::Files { .. }
                | Call::Logs { .. }
                | Call::GetDefault
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire form is part of the contract between `sctl` and the manager across
    /// upgrades: these exact texts must keep parsing.
    #[test]
    fn wire_form_of_requests() {
        let cases = [
            (Call::Ping, r#"{"version":1,"method":"ping"}"#),
            (
                Call::Job {
                    verb: JobVerb::TryRestart,
                    units: vec!["a.service".into()],
                    mode: JobMode::Fail,
                },
                r#"{"version":1,"method":"job","params":{"verb":"try-restart","units":["a.service"],"mode":"fail"}}"#,
            ),
            (
                Call::Shutdown {
                    kind: ShutdownKind::Poweroff,
                },
                r#"{"version":1,"method":"shutdown","params":{"kind":"poweroff"}}"#,
            ),
        ];
        for (call, text) in cases {
            let req = Request::new(call);
            assert_eq!(serde_json::to_string(&req).unwrap(), text);
            assert_eq!(serde_json::from_str::<Request>(text).unwrap(), req);
        }
    }

    #[test]
    fn optional_fields_may_be_left_out() {
        let req: Request = serde_json::from_str(
            r#"{"version":1,"method":"job","params":{"verb":"start","units":["a.service"]}}"#,
        )
        .unwrap();
        assert_eq!(
            req.call,
            Call::Job {
                verb: JobVerb::Start,
                units: vec!["a.service".into()],
                mode: JobMode::Replace
            }
        );
        let req: Request =
            serde_json::from_str(r#"{"version":1,"method":"list-units","params":{}}"#).unwrap();
        assert_eq!(
            req.call,
            Call::ListUnits {
                patterns: vec![],
                all: false,
                states: vec![],
                types: vec![]
            }
        );
    }

    #[test]
    fn wire_form_of_replies() {
        let ok = Reply::ok(Answer::Default("multi-user.target".into()));
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"version":1,"ok":{"kind":"default","data":"multi-user.target"}}"#
        );
        let err = Reply::error(ErrorKind::NoSuchUnit, "Unit nope.service not found.");
        let text = serde_json::to_string(&err).unwrap();
        assert_eq!(
            text,
            r#"{"version":1,"error":{"kind":"no-such-unit","message":"Unit nope.service not found."}}"#
        );
        assert_eq!(serde_json::from_str::<Reply>(&text).unwrap(), err);
        let named = Reply::error_named(
            ErrorKind::JobFailed,
            "org.freedesktop.systemd1.NoIsolation",
            "Operation refused, unit may not be isolated.",
        );
        let text = serde_json::to_string(&named).unwrap();
        assert_eq!(
            text,
            r#"{"version":1,"error":{"kind":"job-failed","message":"Operation refused, unit may not be isolated.","bus_error":"org.freedesktop.systemd1.NoIsolation"}}"#
        );
        assert_eq!(serde_json::from_str::<Reply>(&text).unwrap(), named);
    }

    #[test]
    fn wire_form_of_the_status_overview_and_show() {
        let cases = [
            (
                Call::SystemStatus,
                r#"{"version":1,"method":"system-status"}"#,
            ),
            (
                Call::Show {
                    units: vec!["a.service".into()],
                    properties: vec![],
                    all: true,
                },
                r#"{"version":1,"method":"show","params":{"units":["a.service"],"properties":[],"all":true}}"#,
            ),
        ];
        for (call, text) in cases {
            let req = Request::new(call);
            assert_eq!(serde_json::to_string(&req).unwrap(), text);
            assert_eq!(serde_json::from_str::<Request>(text).unwrap(), req);
        }
        // An older sctl leaves `all` out.
        let req: Request = serde_json::from_str(
            r#"{"version":1,"method":"show","params":{"units":[],"properties":["Id"]}}"#,
        )
        .unwrap();
        assert_eq!(
            req.call,
            Call::Show {
                units: vec![],
                properties: vec!["Id".into()],
                all: false
            }
        );
        assert!(!Call::SystemStatus.changes_state());
    }

    #[test]
    fn reads_are_open_and_changes_need_root() {
        assert!(!Call::Ping.changes_state());
        assert!(!Call::Status { units: vec![] }.changes_state());
        assert!(Call::DaemonReload.changes_state());
        assert!(Call::Kill {
            units: vec![],
            whom: KillWhom::All,
            signal: 15
        }
        .changes_state());
    }
}
