//! `[Unit]` and `[Install]` (systemd.unit(5)).

use super::cx::{absolute_path, Cx};
use super::known;
use super::sparse::shared_default;
use crate::diag::ValueError;
use crate::syntax::Assignment;
use crate::value::Usec;

/// What to do when a unit fails, succeeds or times out (`FailureAction=` and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmergencyAction {
    None,
    Reboot,
    RebootForce,
    RebootImmediate,
    Poweroff,
    PoweroffForce,
    PoweroffImmediate,
    Exit,
    ExitForce,
    SoftReboot,
    SoftRebootForce,
    Kexec,
    KexecForce,
    Halt,
    HaltForce,
    HaltImmediate,
}

pub(crate) const EMERGENCY_ACTIONS: &[(&str, EmergencyAction)] = &[
    ("none", EmergencyAction::None),
    ("reboot", EmergencyAction::Reboot),
    ("reboot-force", EmergencyAction::RebootForce),
    ("reboot-immediate", EmergencyAction::RebootImmediate),
    ("poweroff", EmergencyAction::Poweroff),
    ("poweroff-force", EmergencyAction::PoweroffForce),
    ("poweroff-immediate", EmergencyAction::PoweroffImmediate),
    ("exit", EmergencyAction::Exit),
    ("exit-force", EmergencyAction::ExitForce),
    ("soft-reboot", EmergencyAction::SoftReboot),
    ("soft-reboot-force", EmergencyAction::SoftRebootForce),
    ("kexec", EmergencyAction::Kexec),
    ("kexec-force", EmergencyAction::KexecForce),
    ("halt", EmergencyAction::Halt),
    ("halt-force", EmergencyAction::HaltForce),
    ("halt-immediate", EmergencyAction::HaltImmediate),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobMode {
    Fail,
    Replace,
    ReplaceIrreversibly,
    Isolate,
    Flush,
    IgnoreDependencies,
    IgnoreRequirements,
}

const JOB_MODES: &[(&str, JobMode)] = &[
    ("fail", JobMode::Fail),
    ("replace", JobMode::Replace),
    ("replace-irreversibly", JobMode::ReplaceIrreversibly),
    ("isolate", JobMode::Isolate),
    ("flush", JobMode::Flush),
    ("ignore-dependencies", JobMode::IgnoreDependencies),
    ("ignore-requirements", JobMode::IgnoreRequirements),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectMode {
    Inactive,
    InactiveOrFailed,
}

/// One `Condition*=` or `Assert*=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The name without the `Condition`/`Assert` prefix, e.g. `PathExists`.
    pub kind: String,
    /// `|`: the unit starts if any triggering condition holds.
    pub trigger: bool,
    /// `!`: the result is inverted.
    pub negate: bool,
    /// The parameter, specifiers expanded.
    pub value: String,
}

/// Conditions whose parameter is an absolute path (or, for `PathExistsGlob`, a pattern).
const PATH_CONDITIONS: &[&str] = &[
    "PathExists",
    "PathExistsGlob",
    "PathIsDirectory",
    "PathIsSymbolicLink",
    "PathIsMountPoint",
    "PathIsReadWrite",
    "PathIsEncrypted",
    "DirectoryNotEmpty",
    "FileNotEmpty",
    "FileIsExecutable",
];

/// `Condition*=`/`Assert*=` value: `[|][!]parameter`.
fn parse_condition(kind: &str, s: &str) -> Result<Condition, ValueError> {
    let (trigger, rest) = match s.strip_prefix('|') {
        Some(r) => (true, r.trim_start()),
        None => (false, s),
    };
    let (negate, rest) = match rest.strip_prefix('!') {
        Some(r) => (true, r.trim_start()),
        None => (false, rest),
    };
    if rest.is_empty() {
        return Err(ValueError::new("missing parameter"));
    }
    let value = if PATH_CONDITIONS.contains(&kind) {
        absolute_path(rest)?
    } else {
        // Other parameters (including the booleans of ACPower= and FirstBoot=) are only
        // interpreted when the unit starts, as in systemd.
        rest.to_string()
    };
    Ok(Condition {
        kind: kind.to_string(),
        trigger,
        negate,
        value,
    })
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitSection {
    pub description: Option<String>,
    pub documentation: Vec<String>,
    pub requires: Vec<String>,
    pub requisite: Vec<String>,
    pub wants: Vec<String>,
    pub binds_to: Vec<String>,
    pub part_of: Vec<String>,
    pub upholds: Vec<String>,
    pub conflicts: Vec<String>,
    pub before: Vec<String>,
    pub after: Vec<String>,
    pub on_failure: Vec<String>,
    pub on_success: Vec<String>,
    pub propagates_reload_to: Vec<String>,
    pub reload_propagated_from: Vec<String>,
    pub propagates_stop_to: Vec<String>,
    pub stop_propagated_from: Vec<String>,
    pub joins_namespace_of: Vec<String>,
    pub requires_mounts_for: Vec<String>,
    pub on_failure_job_mode: Option<JobMode>,
    pub on_success_job_mode: Option<JobMode>,
    pub ignore_on_isolate: Option<bool>,
    pub stop_when_unneeded: Option<bool>,
    pub refuse_manual_start: Option<bool>,
    pub refuse_manual_stop: Option<bool>,
    pub allow_isolate: Option<bool>,
    pub default_dependencies: Option<bool>,
    pub collect_mode: Option<CollectMode>,
    pub failure_action: Option<EmergencyAction>,
    pub success_action: Option<EmergencyAction>,
    pub failure_action_exit_status: Option<u8>,
    pub success_action_exit_status: Option<u8>,
    pub job_timeout_sec: Option<Usec>,
    pub job_running_timeout_sec: Option<Usec>,
    pub job_timeout_action: Option<EmergencyAction>,
    pub job_timeout_reboot_argument: Option<String>,
    pub start_limit_interval_sec: Option<Usec>,
    pub start_limit_burst: Option<u32>,
    pub start_limit_action: Option<EmergencyAction>,
    pub reboot_argument: Option<String>,
    pub source_path: Option<String>,
    pub conditions: Vec<Condition>,
    pub asserts: Vec<Condition>,
}

impl UnitSection {
    /// Applies one `[Unit]` assignment; false when the key is not handled here.
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        match a.key.as_str() {
            "Description" => cx.string(&mut self.description, a),
            "Documentation" => cx.words_checked(&mut self.documentation, a, documentation_url),
            // Dependencies only grow: an empty assignment adds nothing and resets nothing.
            "Requires" => cx.dependencies(&mut self.requires, a),
            "Requisite" => cx.dependencies(&mut self.requisite, a),
            // systemd 252 maps the `*Overridable=` dependencies of old versions to the plain
            // ones and says so.
            "RequiresOverridable" => {
                cx.deprecated(a, "Requires");
                cx.dependencies(&mut self.requires, a)
            }
            "RequisiteOverridable" => {
                cx.deprecated(a, "Requisite");
                cx.dependencies(&mut self.requisite, a)
            }
            "Wants" => cx.dependencies(&mut self.wants, a),
            // The old spelling `BindTo=` is accepted silently by systemd 252.
            "BindsTo" | "BindTo" => cx.dependencies(&mut self.binds_to, a),
            "PartOf" => cx.dependencies(&mut self.part_of, a),
            "Upholds" => cx.dependencies(&mut self.upholds, a),
            "Conflicts" => cx.dependencies(&mut self.conflicts, a),
            "Before" => cx.dependencies(&mut self.before, a),
            "After" => cx.dependencies(&mut self.after, a),
            "OnFailure" => cx.dependencies(&mut self.on_failure, a),
            "OnSuccess" => cx.dependencies(&mut self.on_success, a),
            "PropagatesReloadTo" | "PropagateReloadTo" => {
                cx.dependencies(&mut self.propagates_reload_to, a)
            }
            "ReloadPropagatedFrom" | "PropagateReloadFrom" => {
                cx.dependencies(&mut self.reload_propagated_from, a)
            }
            "PropagatesStopTo" => cx.dependencies(&mut self.propagates_stop_to, a),
            "StopPropagatedFrom" => cx.dependencies(&mut self.stop_propagated_from, a),
            "JoinsNamespaceOf" => cx.dependencies(&mut self.joins_namespace_of, a),
            // Adds mount dependencies, so like them it cannot be reset.
            "RequiresMountsFor" => {
                if !a.value.is_empty() {
                    cx.paths(&mut self.requires_mounts_for, a)
                }
            }
            "OnFailureJobMode" => cx.choice(&mut self.on_failure_job_mode, a, JOB_MODES),
            "OnSuccessJobMode" => cx.choice(&mut self.on_success_job_mode, a, JOB_MODES),
            "OnFailureIsolate" => {
                cx.deprecated(a, "OnFailureJobMode");
                let mut isolate = None;
                cx.bool(&mut isolate, a);
                if let Some(i) = isolate {
                    self.on_failure_job_mode = Some(if i {
                        JobMode::Isolate
                    } else {
                        JobMode::Replace
                    });
                }
            }
            "IgnoreOnIsolate" => cx.bool(&mut self.ignore_on_isolate, a),
            "StopWhenUnneeded" => cx.bool(&mut self.stop_when_unneeded, a),
            "RefuseManualStart" => cx.bool(&mut self.refuse_manual_start, a),
            "RefuseManualStop" => cx.bool(&mut self.refuse_manual_stop, a),
            "AllowIsolate" => cx.bool(&mut self.allow_isolate, a),
            "DefaultDependencies" => cx.bool(&mut self.default_dependencies, a),
            "CollectMode" => cx.choice(
                &mut self.collect_mode,
                a,
                &[
                    ("inactive", CollectMode::Inactive),
                    ("inactive-or-failed", CollectMode::InactiveOrFailed),
                ],
            ),
            "FailureAction" => cx.choice(&mut self.failure_action, a, EMERGENCY_ACTIONS),
            "SuccessAction" => cx.choice(&mut self.success_action, a, EMERGENCY_ACTIONS),
            "FailureActionExitStatus" => {
                cx.scalar(&mut self.failure_action_exit_status, a, parse_exit_code)
            }
            "SuccessActionExitStatus" => {
                cx.scalar(&mut self.success_action_exit_status, a, parse_exit_code)
            }
            "JobTimeoutSec" => cx.secs(&mut self.job_timeout_sec, a),
            "JobRunningTimeoutSec" => cx.secs(&mut self.job_running_timeout_sec, a),
            "JobTimeoutAction" => cx.choice(&mut self.job_timeout_action, a, EMERGENCY_ACTIONS),
            "JobTimeoutRebootArgument" => cx.string(&mut self.job_timeout_reboot_argument, a),
            "StartLimitIntervalSec" => cx.secs(&mut self.start_limit_interval_sec, a),
            // The old spelling, accepted silently by systemd 252.
            "StartLimitInterval" => cx.secs(&mut self.start_limit_interval_sec, a),
            "StartLimitBurst" => cx.scalar(&mut self.start_limit_burst, a, parse_u32),
            "StartLimitAction" => cx.choice(&mut self.start_limit_action, a, EMERGENCY_ACTIONS),
            "RebootArgument" => cx.string(&mut self.reboot_argument, a),
            "SourcePath" => cx.path(&mut self.source_path, a),
            key => return self.apply_condition(key, a, cx),
        }
        true
    }

    fn apply_condition(&mut self, key: &str, a: &Assignment, cx: &mut Cx) -> bool {
        let (list, kind) = if let Some(kind) = key.strip_prefix("Condition") {
            (&mut self.conditions, kind)
        } else if let Some(kind) = key.strip_prefix("Assert") {
            (&mut self.asserts, kind)
        } else {
            return false;
        };
        if !known::is_known("Unit", key) {
            return false;
        }
        // systemd.unit(5): an empty assignment resets the whole list of conditions (or
        // asserts), of every kind.
        cx.push_expanded(list, a, |v| parse_condition(kind, v));
        true
    }
}

/// systemd.unit(5): `Documentation=` takes URIs of the types `http://`, `https://`,
/// `file:`, `info:` and `man:`.
fn documentation_url(s: &str) -> Result<String, ValueError> {
    const SCHEMES: &[&str] = &["http://", "https://", "file:", "info:", "man:"];
    if SCHEMES.iter().any(|p| s.starts_with(p)) {
        Ok(s.to_string())
    } else {
        Err(ValueError::new(
            "not a URL of the types http://, https://, file:, info: or man:",
        ))
    }
}

pub(crate) fn parse_u32(s: &str) -> Result<u32, ValueError> {
    s.parse::<u32>()
        .map_err(|_| ValueError::new(format!("'{s}' is not an unsigned number")))
}

fn parse_exit_code(s: &str) -> Result<u8, ValueError> {
    s.parse::<u8>()
        .map_err(|_| ValueError::new(format!("'{s}' is not an exit status in 0..255")))
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Install {
    pub wanted_by: Vec<String>,
    pub required_by: Vec<String>,
    pub alias: Vec<String>,
    pub also: Vec<String>,
    pub default_instance: Option<String>,
}

shared_default!(Install);

impl Install {
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        match a.key.as_str() {
            // The manager never acts on [Install]; only `enable` does. A bad name is worth a
            // warning, not an error, which matches systemd saying nothing at load time.
            "WantedBy" => cx.install_units(&mut self.wanted_by, a),
            "RequiredBy" => cx.install_units(&mut self.required_by, a),
            "Alias" => cx.install_units(&mut self.alias, a),
            "Also" => cx.install_units(&mut self.also, a),
            "DefaultInstance" => cx.string(&mut self.default_instance, a),
            _ => return false,
        }
        true
    }
}
