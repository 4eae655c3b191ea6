//! `[Unit]` and `[Install]` (systemd.unit(5)).

use super::cx::{absolute_path, Cx};
use super::known;
use super::sparse::{shared_default, Sparse};
use crate::diag::ValueError;
use crate::syntax::Assignment;
use crate::value::Usec;
use std::fmt;

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

/// A dependency directive of `[Unit]` that names other units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UnitDep {
    Requires,
    Requisite,
    Wants,
    BindsTo,
    PartOf,
    Upholds,
    Conflicts,
    Before,
    After,
    OnFailure,
    OnSuccess,
    PropagatesReloadTo,
    ReloadPropagatedFrom,
    PropagatesStopTo,
    StopPropagatedFrom,
    JoinsNamespaceOf,
}

impl UnitDep {
    /// Every directive, in the order of systemd.unit(5).
    pub const ALL: [UnitDep; 16] = [
        UnitDep::Requires,
        UnitDep::Requisite,
        UnitDep::Wants,
        UnitDep::BindsTo,
        UnitDep::PartOf,
        UnitDep::Upholds,
        UnitDep::Conflicts,
        UnitDep::Before,
        UnitDep::After,
        UnitDep::OnFailure,
        UnitDep::OnSuccess,
        UnitDep::PropagatesReloadTo,
        UnitDep::ReloadPropagatedFrom,
        UnitDep::PropagatesStopTo,
        UnitDep::StopPropagatedFrom,
        UnitDep::JoinsNamespaceOf,
    ];

    /// The directive's name, e.g. `BindsTo`.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitDep::Requires => "Requires",
            UnitDep::Requisite => "Requisite",
            UnitDep::Wants => "Wants",
            UnitDep::BindsTo => "BindsTo",
            UnitDep::PartOf => "PartOf",
            UnitDep::Upholds => "Upholds",
            UnitDep::Conflicts => "Conflicts",
            UnitDep::Before => "Before",
            UnitDep::After => "After",
            UnitDep::OnFailure => "OnFailure",
            UnitDep::OnSuccess => "OnSuccess",
            UnitDep::PropagatesReloadTo => "PropagatesReloadTo",
            UnitDep::ReloadPropagatedFrom => "ReloadPropagatedFrom",
            UnitDep::PropagatesStopTo => "PropagatesStopTo",
            UnitDep::StopPropagatedFrom => "StopPropagatedFrom",
            UnitDep::JoinsNamespaceOf => "JoinsNamespaceOf",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// The units a unit's dependency directives name.
///
/// Each name is stored once, with the set of directives that name it: a unit usually
/// names another in two of them (`Wants=` and `After=`), and the manager keeps the lists
/// of every loaded unit, so one entry per name instead of one list per directive (16
/// mostly empty vectors) is what keeps `[Unit]` small. Entries are sorted by name, so
/// adding one is a binary search even for a target that names thousands of units, and
/// [`UnitDeps::get`] yields a directive's names in that order. (systemd keeps them in hash
/// maps, so no order is part of its behaviour.)
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UnitDeps(Vec<(u16, Box<str>)>);

impl UnitDeps {
    /// Adds `name` to the directive `kind`; naming a unit twice changes nothing.
    pub fn add(&mut self, kind: UnitDep, name: &str) {
        match self.0.binary_search_by(|(_, n)| (**n).cmp(name)) {
            Ok(i) => {
                if let Some((kinds, _)) = self.0.get_mut(i) {
                    *kinds |= kind.bit();
                }
            }
            Err(i) => self.0.insert(i, (kind.bit(), name.into())),
        }
    }

    /// Gives back the room the list grew by in advance: the manager keeps every loaded
    /// unit's list.
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }

    /// The units `kind` names.
    pub fn get(&self, kind: UnitDep) -> impl Iterator<Item = &str> + '_ {
        self.0
            .iter()
            .filter(move |(kinds, _)| kinds & kind.bit() != 0)
            .map(|(_, n)| &**n)
    }

    /// [`UnitDeps::get`], collected.
    pub fn list(&self, kind: UnitDep) -> Vec<String> {
        self.get(kind).map(str::to_string).collect()
    }

    /// Whether `kind` names `name`.
    pub fn contains(&self, kind: UnitDep, name: &str) -> bool {
        self.get(kind).any(|n| n == name)
    }

    /// Every (directive, unit) pair, directive by directive in the order of
    /// [`UnitDep::ALL`].
    pub fn iter(&self) -> impl Iterator<Item = (UnitDep, &str)> + '_ {
        UnitDep::ALL
            .into_iter()
            .flat_map(move |kind| self.get(kind).map(move |n| (kind, n)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Prints the names directive by directive, as separate lists would.
impl fmt::Debug for UnitDeps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for kind in UnitDep::ALL {
            if self.get(kind).next().is_some() {
                map.entry(&kind, &self.get(kind).collect::<Vec<_>>());
            }
        }
        map.finish()
    }
}

/// The `[Unit]` settings few units set ([`Sparse`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitRare {
    pub documentation: Vec<String>,
    pub requires_mounts_for: Vec<String>,
    pub job_timeout_sec: Option<Usec>,
    pub job_running_timeout_sec: Option<Usec>,
    pub job_timeout_reboot_argument: Option<String>,
    pub start_limit_interval_sec: Option<Usec>,
    pub start_limit_burst: Option<u32>,
    pub reboot_argument: Option<String>,
    pub source_path: Option<String>,
}

shared_default!(UnitRare);

/// `[Unit]`. The manager keeps one per loaded unit, so the dependency lists are one
/// [`UnitDeps`], and what few units set is in [`UnitRare`], allocated only when set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitSection {
    pub description: Option<String>,
    /// `Requires=`, `Wants=`, `After=` ... and what `.wants/`, `.requires/` and `.upholds/`
    /// directories add. `RequiresMountsFor=` names paths, not units: it is in `rare`.
    pub deps: UnitDeps,
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
    pub job_timeout_action: Option<EmergencyAction>,
    pub start_limit_action: Option<EmergencyAction>,
    /// Allocated only for units with conditions ([`Sparse`]).
    pub conditions: Sparse<Vec<Condition>>,
    pub asserts: Sparse<Vec<Condition>>,
    /// Allocated only when one of its settings is given ([`Sparse`]).
    pub rare: Sparse<UnitRare>,
}

impl UnitSection {
    /// Applies one `[Unit]` assignment; false when the key is not handled here.
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        match a.key.as_str() {
            "Description" => cx.string(&mut self.description, a),
            "Documentation" => self
                .rare
                .update(|r| cx.words_checked(&mut r.documentation, a, documentation_url)),
            // Dependencies only grow: an empty assignment adds nothing and resets nothing.
            "Requires" => self.dependency(UnitDep::Requires, a, cx),
            "Requisite" => self.dependency(UnitDep::Requisite, a, cx),
            // systemd 252 maps the `*Overridable=` dependencies of old versions to the plain
            // ones and says so.
            "RequiresOverridable" => {
                cx.deprecated(a, "Requires");
                self.dependency(UnitDep::Requires, a, cx)
            }
            "RequisiteOverridable" => {
                cx.deprecated(a, "Requisite");
                self.dependency(UnitDep::Requisite, a, cx)
            }
            "Wants" => self.dependency(UnitDep::Wants, a, cx),
            // The old spelling `BindTo=` is accepted silently by systemd 252.
            "BindsTo" | "BindTo" => self.dependency(UnitDep::BindsTo, a, cx),
            "PartOf" => self.dependency(UnitDep::PartOf, a, cx),
            "Upholds" => self.dependency(UnitDep::Upholds, a, cx),
            "Conflicts" => self.dependency(UnitDep::Conflicts, a, cx),
            "Before" => self.dependency(UnitDep::Before, a, cx),
            "After" => self.dependency(UnitDep::After, a, cx),
            "OnFailure" => self.dependency(UnitDep::OnFailure, a, cx),
            "OnSuccess" => self.dependency(UnitDep::OnSuccess, a, cx),
            "PropagatesReloadTo" | "PropagateReloadTo" => {
                self.dependency(UnitDep::PropagatesReloadTo, a, cx)
            }
            "ReloadPropagatedFrom" | "PropagateReloadFrom" => {
                self.dependency(UnitDep::ReloadPropagatedFrom, a, cx)
            }
            "PropagatesStopTo" => self.dependency(UnitDep::PropagatesStopTo, a, cx),
            "StopPropagatedFrom" => self.dependency(UnitDep::StopPropagatedFrom, a, cx),
            "JoinsNamespaceOf" => self.dependency(UnitDep::JoinsNamespaceOf, a, cx),
            // Adds mount dependencies, so like them it cannot be reset.
            "RequiresMountsFor" => {
                if !a.value.is_empty() {
                    self.rare
                        .update(|r| cx.paths(&mut r.requires_mounts_for, a))
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
            "JobTimeoutSec" => self.rare.update(|r| cx.secs(&mut r.job_timeout_sec, a)),
            "JobRunningTimeoutSec" => self
                .rare
                .update(|r| cx.secs(&mut r.job_running_timeout_sec, a)),
            "JobTimeoutAction" => cx.choice(&mut self.job_timeout_action, a, EMERGENCY_ACTIONS),
            "JobTimeoutRebootArgument" => self
                .rare
                .update(|r| cx.string(&mut r.job_timeout_reboot_argument, a)),
            "StartLimitIntervalSec" => self
                .rare
                .update(|r| cx.secs(&mut r.start_limit_interval_sec, a)),
            // The old spelling, accepted silently by systemd 252.
            "StartLimitInterval" => self
                .rare
                .update(|r| cx.secs(&mut r.start_limit_interval_sec, a)),
            "StartLimitBurst" => self
                .rare
                .update(|r| cx.scalar(&mut r.start_limit_burst, a, parse_u32)),
            "StartLimitAction" => cx.choice(&mut self.start_limit_action, a, EMERGENCY_ACTIONS),
            "RebootArgument" => self.rare.update(|r| cx.string(&mut r.reboot_argument, a)),
            "SourcePath" => self.rare.update(|r| cx.path(&mut r.source_path, a)),
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
        list.update(|list| cx.push_expanded(list, a, |v| parse_condition(kind, v)));
        true
    }

    /// A dependency directive: the names it lists are added to `deps`.
    fn dependency(&mut self, kind: UnitDep, a: &Assignment, cx: &mut Cx) {
        let mut names = Vec::new();
        cx.dependencies(&mut names, a);
        for name in names {
            self.deps.add(kind, &name);
        }
        self.deps.shrink_to_fit();
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
