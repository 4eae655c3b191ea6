//! The verbs that ask the running manager: each maps the command line onto one or more
//! [`proto::Call`]s, prints the answers through [`crate::format`] and returns the exit
//! status systemctl would return.
//!
//! Exit statuses follow systemctl 252: a refused call maps by systemd's D-Bus error name
//! when the manager gives one, as `translate_bus_error_to_exit_status` (refused isolation,
//! manual start or destructive transaction → 4, no such unit → 5, job type not applicable
//! → 3, load failed → 6), else by its error kind (no such unit → 5, permission denied → 4,
//! unsupported → 3, anything else → 1); `status` gives 0 for an active unit, 3 for one
//! that is not, 4 when the unit is unknown, and 0 for the overview without a unit; `is-active`
//! gives 0 when some unit is active else 3; `is-failed` 0 when some unit failed else 1;
//! `is-enabled` 0 when some unit is enabled (or static, alias, indirect, generated) else 1.
//! A manager that cannot be reached makes every verb fail with 1 and a message naming the
//! socket.

use crate::client::{Client, ClientError, Deadline};
use crate::format::{self, Listing};
use crate::names::{glob_match, is_glob, mangle};
use proto::{Answer, Call, ErrorKind, JobMode, JobVerb, KillWhom, ShutdownKind, UnitFileChange};
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const EXIT_FAILURE: u8 = 1;
/// systemctl's `EXIT_PROGRAM_NOT_RUNNING` and `EXIT_NOTIMPLEMENTED` share the value 3.
pub const EXIT_NOT_RUNNING: u8 = 3;
pub const EXIT_NOT_IMPLEMENTED: u8 = 3;
/// `EXIT_PROGRAM_OR_SERVICES_STATUS_UNKNOWN` and `EXIT_NOPERMISSION` share the value 4.
pub const EXIT_UNKNOWN: u8 = 4;
pub const EXIT_NO_PERMISSION: u8 = 4;
pub const EXIT_NOT_INSTALLED: u8 = 5;

/// How many lines `logs -f` asks for at each poll; new lines are found by overlapping
/// consecutive windows, since the protocol has no cursor.
const FOLLOW_WINDOW: u32 = 1000;
const FOLLOW_INTERVAL: Duration = Duration::from_millis(300);

/// The options shared by the verbs, parsed and validated by `main`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub quiet: bool,
    pub no_block: bool,
    pub job_mode: JobMode,
    pub legend: bool,
    pub all: bool,
    pub states: Vec<String>,
    pub types: Vec<String>,
    pub properties: Vec<String>,
    pub value: bool,
    pub whom: KillWhom,
    pub signal: i32,
    pub lines: Option<u32>,
    pub follow: bool,
    pub now: bool,
}

/// Why a verb ended early: the manager could not be talked to, or the verb decided the
/// exit status (after printing why).
#[derive(Debug)]
pub enum Stop {
    Client(ClientError),
    Exit(u8),
}

impl From<ClientError> for Stop {
    fn from(e: ClientError) -> Stop {
        Stop::Client(e)
    }
}

pub type Res<T> = Result<T, Stop>;

/// The exit status systemctl gives a refused call (its `translate_bus_error_to_exit_status`).
pub fn exit_for(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::PermissionDenied => EXIT_NO_PERMISSION,
        ErrorKind::NoSuchUnit => EXIT_NOT_INSTALLED,
        ErrorKind::Unsupported => EXIT_NOT_IMPLEMENTED,
        _ => EXIT_FAILURE,
    }
}

/// `EXIT_NOTCONFIGURED`, for units that failed to load.
pub const EXIT_NOT_CONFIGURED: u8 = 6;

/// The exit status of a refusal, by systemd's D-Bus error name when the manager gives one
/// (as `translate_bus_error_to_exit_status` does), else by its kind.
pub fn exit_for_error(e: &proto::Error) -> u8 {
    const BUS: &str = "org.freedesktop.systemd1.";
    match e.bus_error.as_deref().and_then(|n| n.strip_prefix(BUS)) {
        Some("OnlyByDependency" | "NoIsolation" | "TransactionIsDestructive") => EXIT_NO_PERMISSION,
        Some("NoSuchUnit") => EXIT_NOT_INSTALLED,
        Some("JobTypeNotApplicable") => EXIT_NOT_IMPLEMENTED,
        Some("LoadFailed") => EXIT_NOT_CONFIGURED,
        _ => exit_for(e.kind),
    }
}

/// Whether systemctl follows a refused job with "See system logs and 'systemctl status
/// UNIT' for details.": not for a unit that does not exist, is masked, or cannot take
/// that kind of job.
fn job_refusal_has_hint(e: &proto::Error) -> bool {
    let named = matches!(
        e.bus_error.as_deref(),
        Some(
            "org.freedesktop.systemd1.NoSuchUnit"
                | "org.freedesktop.systemd1.UnitMasked"
                | "org.freedesktop.systemd1.JobTypeNotApplicable"
        )
    );
    !named && !matches!(e.kind, ErrorKind::NoSuchUnit | ErrorKind::Unsupported)
}

/// `-s/--signal`: a number, or a name with or without `SIG` (`TERM`, `SIGKILL`,
/// `RTMIN+3`), as systemd's `signal_from_string`.
pub fn parse_signal(s: &str) -> Option<i32> {
    const NAMES: &[(&str, i32)] = &[
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("ILL", 4),
        ("TRAP", 5),
        ("ABRT", 6),
        ("IOT", 6),
        ("BUS", 7),
        ("FPE", 8),
        ("KILL", 9),
        ("USR1", 10),
        ("SEGV", 11),
        ("USR2", 12),
        ("PIPE", 13),
        ("ALRM", 14),
        ("TERM", 15),
        ("STKFLT", 16),
        ("CHLD", 17),
        ("CONT", 18),
        ("STOP", 19),
        ("TSTP", 20),
        ("TTIN", 21),
        ("TTOU", 22),
        ("URG", 23),
        ("XCPU", 24),
        ("XFSZ", 25),
        ("VTALRM", 26),
        ("PROF", 27),
        ("WINCH", 28),
        ("IO", 29),
        ("POLL", 29),
        ("PWR", 30),
        ("SYS", 31),
    ];
    const RTMIN: i32 = 34;
    const RTMAX: i32 = 64;
    if let Ok(n) = s.parse::<i32>() {
        return (1..=RTMAX).contains(&n).then_some(n);
    }
    let name = s.strip_prefix("SIG").unwrap_or(s);
    if let Some(&(_, n)) = NAMES.iter().find(|(k, _)| *k == name) {
        return Some(n);
    }
    let rt = |base: i32, rest: &str, sign: i32| -> Option<i32> {
        let off = if rest.is_empty() {
            0
        } else {
            rest.parse::<i32>().ok()?
        };
        let n = base + sign * off;
        (RTMIN..=RTMAX).contains(&n).then_some(n)
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return rt(RTMIN, rest.strip_prefix('+').unwrap_or(rest), 1);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return rt(RTMAX, rest.strip_prefix('-').unwrap_or(rest), -1);
    }
    None
}

/// `--job-mode=`.
pub fn parse_job_mode(s: &str) -> Option<JobMode> {
    Some(match s {
        "replace" => JobMode::Replace,
        "fail" => JobMode::Fail,
        "replace-irreversibly" => JobMode::ReplaceIrreversibly,
        "isolate" => JobMode::Isolate,
        "flush" => JobMode::Flush,
        "ignore-dependencies" => JobMode::IgnoreDependencies,
        "ignore-requirements" => JobMode::IgnoreRequirements,
        "triggering" => JobMode::Triggering,
        _ => return None,
    })
}

/// `--kill-whom=`.
pub fn parse_kill_whom(s: &str) -> Option<KillWhom> {
    Some(match s {
        "main" => KillWhom::Main,
        "control" => KillWhom::Control,
        "all" => KillWhom::All,
        _ => return None,
    })
}

/// The word systemctl uses in "Failed to WORD UNIT: ..." for a job verb.
fn job_word(verb: JobVerb) -> &'static str {
    match verb {
        JobVerb::Start | JobVerb::Isolate => "start",
        JobVerb::Stop => "stop",
        JobVerb::Reload => "reload",
        JobVerb::Restart => "restart",
        JobVerb::TryRestart => "try-restart",
        JobVerb::ReloadOrRestart => "reload-or-restart",
        JobVerb::TryReloadOrRestart => "try-reload-or-restart",
        JobVerb::VerifyActive => "verify-active",
    }
}

/// The lines of `cur` that follow what `prev` already showed: the longest suffix of `prev`
/// that is a prefix of `cur` is skipped. Both are tail windows of the same growing log.
pub fn new_lines<'a>(prev: &[String], cur: &'a [String]) -> &'a [String] {
    let max = prev.len().min(cur.len());
    for k in (1..=max).rev() {
        let tail = prev.get(prev.len() - k..).unwrap_or_default();
        let head = cur.get(..k).unwrap_or_default();
        if tail == head {
            return cur.get(k..).unwrap_or_default();
        }
    }
    cur
}

/// Where the verbs print. Write errors (a closed pipe) are remembered rather than fatal,
/// so `logs -f | head` ends quietly.
pub struct Term {
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    pub broken: bool,
}

impl Term {
    pub fn new(out: Box<dyn Write>, err: Box<dyn Write>) -> Term {
        Term {
            out,
            err,
            broken: false,
        }
    }

    pub fn out(&mut self, text: &str) {
        if self.out.write_all(text.as_bytes()).is_err() || self.out.flush().is_err() {
            self.broken = true;
        }
    }

    pub fn err(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
        let _ = self.err.flush();
    }

    fn errln(&mut self, text: &str) {
        self.err(&format!("{text}\n"));
    }
}

pub struct Ctl {
    pub client: Client,
    pub opts: Options,
    pub term: Term,
}

fn unexpected(what: &str, answer: &Answer) -> Stop {
    let kind = serde_json::to_value(answer)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
        .unwrap_or_default();
    eprintln_stop(&format!(
        "Unexpected answer from the manager to {what}: {kind}"
    ))
}

fn eprintln_stop(text: &str) -> Stop {
    let _ = writeln!(std::io::stderr(), "{text}");
    Stop::Exit(EXIT_FAILURE)
}

impl Ctl {
    fn first_error(code: &mut u8, new: u8) {
        if *code == 0 {
            *code = new;
        }
    }

    /// Completes names and replaces glob patterns with the loaded units they match
    /// (systemctl's `expand_unit_names`).
    fn expand(&mut self, args: &[String], suffix: &str) -> Res<Vec<String>> {
        let mut names = Vec::new();
        let globs: Vec<String> = args.iter().filter(|a| is_glob(a)).cloned().collect();
        names.extend(
            args.iter()
                .filter(|a| !is_glob(a))
                .map(|a| mangle(a, suffix)),
        );
        if !globs.is_empty() {
            let call = Call::ListUnits {
                patterns: globs.clone(),
                all: true,
                states: vec![],
                types: vec![],
            };
            match self.client.call(call)? {
                Ok(Answer::Units(units)) => names.extend(
                    units
                        .into_iter()
                        .filter(|u| globs.iter().any(|g| glob_match(g, &u.name)))
                        .map(|u| u.name),
                ),
                Ok(other) => return Err(unexpected("list-units", &other)),
                Err(e) => {
                    self.term
                        .errln(&format!("Failed to expand names: {}", e.message));
                    return Err(Stop::Exit(exit_for(e.kind)));
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        names.retain(|n| seen.insert(n.clone()));
        Ok(names)
    }

    /// start, stop, restart, ...: one `Job` call per unit, then one `WaitJobs` for the
    /// jobs of the named units unless `--no-block`.
    pub fn job(&mut self, verb: JobVerb, units: &[String]) -> Res<u8> {
        let suffix = if verb == JobVerb::Isolate {
            "target"
        } else {
            "service"
        };
        let names = self.expand(units, suffix)?;
        let mode = if verb == JobVerb::Isolate {
            JobMode::Isolate
        } else {
            self.opts.job_mode
        };
        let mut code = 0;
        let mut waiting: Vec<(u32, String)> = Vec::new();
        for name in names {
            let call = Call::Job {
                verb,
                units: vec![name.clone()],
                mode,
            };
            match self.client.call(call)? {
                Ok(Answer::Jobs(jobs)) => {
                    let anchors: Vec<_> = jobs.iter().filter(|j| j.unit == name).collect();
                    let chosen = if anchors.is_empty() {
                        jobs.iter().collect()
                    } else {
                        anchors
                    };
                    waiting.extend(chosen.into_iter().map(|j| (j.id, j.unit.clone())));
                }
                Ok(Answer::Done) => {}
                Ok(other) => return Err(unexpected("job", &other)),
                Err(e) => {
                    self.term.errln(&format!(
                        "Failed to {} {name}: {}",
                        job_word(verb),
                        e.message
                    ));
                    if job_refusal_has_hint(&e) {
                        self.term.errln(&format!(
                            "See system logs and 'sctl status {}' for details.",
                            format::shell_quote(&name)
                        ));
                    }
                    Self::first_error(&mut code, exit_for_error(&e));
                }
            }
        }
        if self.opts.no_block || waiting.is_empty() {
            return Ok(code);
        }
        let ok = self.wait(&waiting)?;
        if !ok {
            Self::first_error(&mut code, EXIT_FAILURE);
        }
        Ok(code)
    }

    /// Waits for the jobs and explains each failure; true when all succeeded.
    fn wait(&mut self, waiting: &[(u32, String)]) -> Res<bool> {
        let call = Call::WaitJobs {
            jobs: waiting.iter().map(|(id, _)| *id).collect(),
        };
        let results = match self.client.call_with(call, Deadline::Unbounded)? {
            Ok(Answer::Jobs(results)) => results,
            Ok(Answer::Done) => Vec::new(),
            Ok(other) => return Err(unexpected("wait-jobs", &other)),
            Err(e) => {
                self.term
                    .errln(&format!("Failed to wait for jobs: {}", e.message));
                return Ok(false);
            }
        };
        let mut all_ok = true;
        for (id, unit) in waiting {
            // A job the answer leaves out finished before the manager could report it;
            // systemctl likewise treats a vanished job without a result as done.
            let result = results
                .iter()
                .find(|j| j.id == *id)
                .map(|j| j.state.as_str())
                .unwrap_or("done");
            if format::job_succeeded(result) {
                continue;
            }
            all_ok = false;
            if self.opts.quiet {
                continue;
            }
            let service_result = if unit.ends_with(".service") && result == "failed" {
                self.service_result(unit)
            } else {
                None
            };
            if let Some(text) = format::job_failure(unit, result, service_result.as_deref()) {
                self.term.errln(&text);
            }
        }
        Ok(all_ok)
    }

    /// The `Result` property of a service, which says why its job failed; `None` when the
    /// manager does not tell.
    fn service_result(&mut self, unit: &str) -> Option<String> {
        let call = Call::Show {
            units: vec![unit.to_string()],
            properties: vec!["Result".to_string()],
            all: false,
        };
        match self.client.call(call) {
            Ok(Ok(Answer::Properties(blocks))) => blocks
                .into_iter()
                .flatten()
                .find(|(k, _)| k == "Result")
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn kill(&mut self, units: &[String]) -> Res<u8> {
        let names = self.expand(units, "service")?;
        let mut code = 0;
        for name in names {
            let call = Call::Kill {
                units: vec![name.clone()],
                whom: self.opts.whom,
                signal: self.opts.signal,
            };
            match self.client.call(call)? {
                Ok(_) => {}
                Err(e) => {
                    self.term
                        .errln(&format!("Failed to kill unit {name}: {}", e.message));
                    Self::first_error(&mut code, exit_for(e.kind));
                }
            }
        }
        Ok(code)
    }

    pub fn reset_failed(&mut self, units: &[String]) -> Res<u8> {
        if units.is_empty() {
            return match self.client.call(Call::ResetFailed { units: vec![] })? {
                Ok(_) => Ok(0),
                Err(e) => {
                    self.term
                        .errln(&format!("Failed to reset failed state: {}", e.message));
                    Ok(exit_for(e.kind))
                }
            };
        }
        let names = self.expand(units, "service")?;
        let mut code = 0;
        for name in names {
            match self.client.call(Call::ResetFailed {
                units: vec![name.clone()],
            })? {
                Ok(_) => {}
                Err(e) => {
                    self.term.errln(&format!(
                        "Failed to reset failed state of unit {name}: {}",
                        e.message
                    ));
                    Self::first_error(&mut code, exit_for(e.kind));
                }
            }
        }
        Ok(code)
    }

    /// status: each unit's state, or without a unit the manager's overview (exit 0, as
    /// systemctl).
    pub fn status(&mut self, units: &[String]) -> Res<u8> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        if units.is_empty() {
            return match self.client.call(Call::SystemStatus)? {
                Ok(Answer::SystemStatus(st)) => {
                    self.term.out(&format::system_status(&st, now));
                    Ok(0)
                }
                Ok(other) => Err(unexpected("system-status", &other)),
                Err(e) => {
                    self.term
                        .errln(&format!("Failed to read server status: {}", e.message));
                    Ok(exit_for(e.kind))
                }
            };
        }
        let names = self.expand(units, "service")?;
        let mut code = 0;
        let mut first = true;
        for name in names {
            let answer = self.client.call(Call::Status {
                units: vec![name.clone()],
            })?;
            let list = match answer {
                Ok(Answer::Status(list)) => list,
                Ok(other) => return Err(unexpected("status", &other)),
                Err(e) if e.kind == ErrorKind::NoSuchUnit => Vec::new(),
                Err(e) => {
                    self.term
                        .errln(&format!("Failed to get status of {name}: {}", e.message));
                    Self::first_error(&mut code, exit_for(e.kind));
                    continue;
                }
            };
            let known: Vec<_> = list
                .iter()
                .filter(|st| {
                    !(st.unit.load_state == "not-found" && st.unit.active_state == "inactive")
                })
                .collect();
            if known.is_empty() {
                self.term.errln(&format!("Unit {name} could not be found."));
                Self::first_error(&mut code, EXIT_UNKNOWN);
                continue;
            }
            for st in known {
                if !first {
                    self.term.out("\n");
                }
                first = false;
                self.term.out(&format::status(st, now));
                let running = matches!(st.unit.active_state.as_str(), "active" | "reloading");
                Self::first_error(&mut code, if running { 0 } else { EXIT_NOT_RUNNING });
            }
        }
        Ok(code)
    }

    pub fn show(&mut self, units: &[String]) -> Res<u8> {
        let names = self.expand(units, "service")?;
        let call = Call::Show {
            units: names,
            properties: self.opts.properties.clone(),
            all: self.opts.all,
        };
        match self.client.call(call)? {
            Ok(Answer::Properties(blocks)) => {
                self.term.out(&format::properties(&blocks, self.opts.value));
                Ok(0)
            }
            Ok(other) => Err(unexpected("show", &other)),
            Err(e) => {
                self.term
                    .errln(&format!("Failed to get properties: {}", e.message));
                Ok(exit_for(e.kind))
            }
        }
    }

    /// is-active and is-failed: the active state of each unit from one `ListUnits --all`
    /// (a unit the manager does not have loaded is `inactive`, as in systemctl).
    pub fn check_state(&mut self, units: &[String], good: &[&str], bad_code: u8) -> Res<u8> {
        let names = self.expand(units, "service")?;
        let call = Call::ListUnits {
            patterns: vec![],
            all: true,
            states: vec![],
            types: vec![],
        };
        let loaded = match self.client.call(call)? {
            Ok(Answer::Units(u)) => u,
            Ok(other) => return Err(unexpected("list-units", &other)),
            Err(e) => {
                self.term
                    .errln(&format!("Failed to get unit states: {}", e.message));
                return Ok(exit_for(e.kind).max(EXIT_FAILURE));
            }
        };
        let mut found = false;
        for name in names {
            let state = loaded
                .iter()
                .find(|u| u.name == name)
                .map(|u| u.active_state.as_str())
                .unwrap_or("inactive");
            if !self.opts.quiet {
                self.term.out(&format!("{state}\n"));
            }
            found |= good.contains(&state);
        }
        Ok(if found { 0 } else { bad_code })
    }

    /// is-enabled: the unit-file state of each name from `ListUnitFiles`; an instance
    /// without its own entry reports its template's state.
    pub fn is_enabled(&mut self, units: &[String]) -> Res<u8> {
        let files = match self.client.call(Call::ListUnitFiles { patterns: vec![] })? {
            Ok(Answer::UnitFiles(f)) => f,
            Ok(other) => return Err(unexpected("list-unit-files", &other)),
            Err(e) => {
                self.term
                    .errln(&format!("Failed to get unit file states: {}", e.message));
                return Ok(exit_for(e.kind).max(EXIT_FAILURE));
            }
        };
        let mut enabled = false;
        for unit in units {
            let name = mangle(unit, "service");
            let template = name.split_once('@').and_then(|(prefix, rest)| {
                let (_, suffix) = rest.rsplit_once('.')?;
                Some(format!("{prefix}@.{suffix}"))
            });
            let entry = files
                .iter()
                .find(|f| f.name == name)
                .or_else(|| template.and_then(|t| files.iter().find(|f| f.name == t)));
            let Some(entry) = entry else {
                self.term.errln(&format!(
                    "Failed to get unit file state for {name}: No such file or directory"
                ));
                return Ok(EXIT_FAILURE);
            };
            enabled |= matches!(
                entry.state.as_str(),
                "enabled" | "enabled-runtime" | "static" | "alias" | "indirect" | "generated"
            );
            if !self.opts.quiet {
                self.term.out(&format!("{}\n", entry.state));
            }
        }
        Ok(if enabled { 0 } else { EXIT_FAILURE })
    }

    pub fn list_units(&mut self, patterns: &[String]) -> Res<u8> {
        let states = self.opts.states.clone();
        let types = self.opts.types.clone();
        let all = self.opts.all;
        let call = Call::ListUnits {
            patterns: patterns.to_vec(),
            all,
            states: states.clone(),
            types: types.clone(),
        };
        let mut units = match self.client.call(call)? {
            Ok(Answer::Units(u)) => u,
            Ok(other) => return Err(unexpected("list-units", &other)),
            Err(e) => {
                self.term
                    .errln(&format!("Failed to list units: {}", e.message));
                return Ok(exit_for(e.kind));
            }
        };
        // The manager filters already; filtering again keeps the output right against a
        // manager that ignores a filter, and is a no-op otherwise.
        units.retain(|u| {
            (patterns.is_empty() || patterns.iter().any(|p| glob_match(p, &u.name)))
                && (types.is_empty()
                    || types
                        .iter()
                        .any(|t| u.name.rsplit_once('.').is_some_and(|(_, s)| s == t)))
                && (states.is_empty()
                    || states
                        .iter()
                        .any(|s| *s == u.active_state || *s == u.sub_state || *s == u.load_state))
                && (all || !states.is_empty() || u.active_state != "inactive" || u.job.is_some())
        });
        units.sort_by_cached_key(|u| format::unit_sort_key(&u.name));
        let listing = if all || states.iter().any(|s| s == "inactive") {
            Listing::All
        } else if states.is_empty() {
            Listing::Default
        } else {
            Listing::States
        };
        self.term
            .out(&format::units_list(&units, self.opts.legend, listing));
        Ok(0)
    }

    pub fn list_unit_files(&mut self, patterns: &[String]) -> Res<u8> {
        let call = Call::ListUnitFiles {
            patterns: patterns.to_vec(),
        };
        let mut files = match self.client.call(call)? {
            Ok(Answer::UnitFiles(f)) => f,
            Ok(other) => return Err(unexpected("list-unit-files", &other)),
            Err(e) => {
                self.term
                    .errln(&format!("Failed to list unit files: {}", e.message));
                return Ok(exit_for(e.kind));
            }
        };
        let (states, types) = (&self.opts.states, &self.opts.types);
        files.retain(|f| {
            (patterns.is_empty() || patterns.iter().any(|p| glob_match(p, &f.name)))
                && (states.is_empty() || states.contains(&f.state))
                && (types.is_empty()
                    || types
                        .iter()
                        .any(|t| f.name.rsplit_once('.').is_some_and(|(_, s)| s == t)))
        });
        files.sort_by_cached_key(|f| format::unit_sort_key(&f.name));
        self.term
            .out(&format::unit_files_list(&files, self.opts.legend));
        Ok(0)
    }

    pub fn list_jobs(&mut self, patterns: &[String]) -> Res<u8> {
        let mut jobs = match self.client.call(Call::ListJobs)? {
            Ok(Answer::Jobs(j)) => j,
            Ok(other) => return Err(unexpected("list-jobs", &other)),
            Err(e) => {
                self.term
                    .errln(&format!("Failed to list jobs: {}", e.message));
                return Ok(exit_for(e.kind));
            }
        };
        jobs.retain(|j| patterns.is_empty() || patterns.iter().any(|p| glob_match(p, &j.unit)));
        jobs.sort_by_key(|j| j.id);
        self.term.out(&format::jobs_list(&jobs, self.opts.legend));
        Ok(0)
    }

    /// cancel: the named jobs, or every job when none is named (as systemctl).
    pub fn cancel(&mut self, ids: &[String]) -> Res<u8> {
        let mut jobs = Vec::new();
        for id in ids {
            match id.parse::<u32>() {
                Ok(n) => jobs.push(n),
                Err(_) => {
                    self.term.errln(&format!(
                        "Failed to parse job id \"{id}\": Invalid argument"
                    ));
                    return Ok(EXIT_FAILURE);
                }
            }
        }
        match self.client.call(Call::CancelJobs { jobs })? {
            Ok(_) => Ok(0),
            Err(e) => {
                self.term
                    .errln(&format!("Failed to cancel job: {}", e.message));
                Ok(exit_for(e.kind))
            }
        }
    }

    /// enable, disable, mask, unmask; with `--now` the units are then started (enable)
    /// or stopped (disable, mask).
    pub fn unit_file_change(&mut self, change: UnitFileChange, units: &[String]) -> Res<u8> {
        let names: Vec<String> = units.iter().map(|u| mangle(u, "service")).collect();
        let call = Call::UnitFileChange {
            change,
            units: names.clone(),
        };
        let verb = match change {
            UnitFileChange::Enable => "enable",
            UnitFileChange::Disable => "disable",
            UnitFileChange::Mask => "mask",
            UnitFileChange::Unmask => "unmask",
        };
        match self.client.call(call)? {
            Ok(answer) => self.print_changes(&answer),
            Err(e) => {
                self.term
                    .errln(&format!("Failed to {verb} unit: {}", e.message));
                return Ok(exit_for(e.kind));
            }
        }
        if !self.opts.now {
            return Ok(0);
        }
        let job = match change {
            UnitFileChange::Enable => JobVerb::Start,
            UnitFileChange::Disable | UnitFileChange::Mask => JobVerb::Stop,
            UnitFileChange::Unmask => return Ok(0),
        };
        // Paths name files, not units: the job is for the file's unit name.
        let units: Vec<String> = names
            .iter()
            .map(|n| n.rsplit('/').next().unwrap_or(n).to_string())
            .collect();
        self.job(job, &units)
    }

    fn print_changes(&mut self, answer: &Answer) {
        if let Answer::Changes(changes) = answer {
            if !self.opts.quiet {
                self.term.err(&format::changes(changes));
            }
        }
    }

    pub fn set_default(&mut self, unit: &str) -> Res<u8> {
        let unit = mangle(unit, "target");
        match self.client.call(Call::SetDefault { unit })? {
            Ok(answer) => {
                self.print_changes(&answer);
                Ok(0)
            }
            Err(e) => {
                self.term
                    .errln(&format!("Failed to set default target: {}", e.message));
                Ok(exit_for(e.kind))
            }
        }
    }

    pub fn get_default(&mut self) -> Res<u8> {
        match self.client.call(Call::GetDefault)? {
            Ok(Answer::Default(name)) => {
                self.term.out(&format!("{name}\n"));
                Ok(0)
            }
            Ok(other) => Err(unexpected("get-default", &other)),
            Err(e) => {
                self.term
                    .errln(&format!("Failed to get default target: {}", e.message));
                Ok(exit_for(e.kind))
            }
        }
    }

    /// daemon-reload, daemon-reexec, poweroff, reboot, halt, kexec: calls without a
    /// deadline whose connection may legitimately die with the manager (re-exec,
    /// shutdown), which counts as success, as in systemctl.
    pub fn manager_call(&mut self, call: Call) -> Res<u8> {
        let (what, gone_is_ok) = match &call {
            Call::DaemonReload => ("reload daemon", false),
            Call::DaemonReexec => ("reexecute daemon", true),
            Call::ReexecInit => ("reexecute PID 1", false),
            Call::Shutdown { kind } => (
                match kind {
                    ShutdownKind::Poweroff => "power off system",
                    ShutdownKind::Reboot => "reboot system",
                    ShutdownKind::Halt => "halt system",
                    ShutdownKind::Kexec => "kexec system",
                },
                true,
            ),
            _ => ("call the manager", false),
        };
        match self.client.call_with(call, Deadline::Unbounded) {
            Ok(Ok(_)) => Ok(0),
            Ok(Err(e)) => {
                self.term.errln(&format!("Failed to {what}: {}", e.message));
                Ok(exit_for(e.kind))
            }
            Err(ClientError::Closed { .. }) if gone_is_ok => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// logs UNIT: the unit's captured output; `-n N` the last N lines; `-f` keeps polling
    /// and prints lines as they arrive, until interrupted or stdout closes.
    pub fn logs(&mut self, unit: &str) -> Res<u8> {
        let unit = mangle(unit, "service");
        let lines = if self.opts.follow {
            Some(FOLLOW_WINDOW)
        } else {
            self.opts.lines
        };
        let mut window = match self.fetch_logs(&unit, lines)? {
            Ok(w) => w,
            Err(code) => return Ok(code),
        };
        let show = match (self.opts.follow, self.opts.lines) {
            (true, n) => n.unwrap_or(10) as usize,
            (false, _) => window.len(),
        };
        let skip = window.len().saturating_sub(show);
        for line in window.iter().skip(skip) {
            self.term.out(&format!("{line}\n"));
        }
        while self.opts.follow && !self.term.broken {
            std::thread::sleep(FOLLOW_INTERVAL);
            let cur = match self.fetch_logs(&unit, Some(FOLLOW_WINDOW)) {
                Ok(Ok(cur)) => cur,
                Ok(Err(code)) => return Ok(code),
                // The manager restarts: keep following once it is back.
                Err(Stop::Client(ClientError::Connect { .. } | ClientError::Closed { .. })) => {
                    continue
                }
                Err(e) => return Err(e),
            };
            for line in new_lines(&window, &cur) {
                self.term.out(&format!("{line}\n"));
            }
            window = cur;
        }
        Ok(0)
    }

    fn fetch_logs(&mut self, unit: &str, lines: Option<u32>) -> Res<Result<Vec<String>, u8>> {
        let call = Call::Logs {
            unit: unit.to_string(),
            lines,
        };
        match self.client.call(call)? {
            Ok(Answer::Logs(l)) => Ok(Ok(l)),
            Ok(other) => Err(unexpected("logs", &other)),
            Err(e) => {
                self.term
                    .errln(&format!("Failed to get logs of {unit}: {}", e.message));
                Ok(Err(exit_for(e.kind)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_number_and_name() {
        let cases = [
            ("9", Some(9)),
            ("0", None),
            ("65", None),
            ("TERM", Some(15)),
            ("SIGTERM", Some(15)),
            ("SIGHUP", Some(1)),
            ("KILL", Some(9)),
            ("RTMIN", Some(34)),
            ("SIGRTMIN+3", Some(37)),
            ("RTMAX-1", Some(63)),
            ("RTMIN+40", None),
            ("term", None),
            ("BOGUS", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_signal(s), want, "{s}");
        }
    }

    #[test]
    fn job_modes_and_kill_whom() {
        assert_eq!(parse_job_mode("fail"), Some(JobMode::Fail));
        assert_eq!(
            parse_job_mode("ignore-dependencies"),
            Some(JobMode::IgnoreDependencies)
        );
        assert_eq!(parse_job_mode("bogus"), None);
        assert_eq!(parse_kill_whom("main"), Some(KillWhom::Main));
        assert_eq!(parse_kill_whom("who"), None);
    }

    #[test]
    fn refusals_map_to_systemctl_exit_codes() {
        let cases = [
            (ErrorKind::NoSuchUnit, 5),
            (ErrorKind::PermissionDenied, 4),
            (ErrorKind::Unsupported, 3),
            (ErrorKind::JobFailed, 1),
            (ErrorKind::Failed, 1),
            (ErrorKind::BadRequest, 1),
            (ErrorKind::Version, 1),
        ];
        for (kind, code) in cases {
            assert_eq!(exit_for(kind), code, "{kind:?}");
        }
    }

    /// systemctl's `translate_bus_error_to_exit_status` and the refusals it gives no
    /// "See system logs" hint.
    #[test]
    fn named_refusals_pick_exit_status_and_hint() {
        let e = |kind, name: Option<&str>| proto::Error {
            kind,
            message: String::new(),
            bus_error: name.map(|n| format!("org.freedesktop.systemd1.{n}")),
        };
        let cases = [
            (e(ErrorKind::JobFailed, Some("NoIsolation")), 4, true),
            (e(ErrorKind::JobFailed, Some("OnlyByDependency")), 4, true),
            (
                e(ErrorKind::JobFailed, Some("TransactionIsDestructive")),
                4,
                true,
            ),
            (
                e(ErrorKind::JobFailed, Some("JobTypeNotApplicable")),
                3,
                false,
            ),
            (e(ErrorKind::JobFailed, Some("UnitMasked")), 1, false),
            (e(ErrorKind::JobFailed, Some("LoadFailed")), 6, true),
            (e(ErrorKind::NoSuchUnit, Some("NoSuchUnit")), 5, false),
            (e(ErrorKind::NoSuchUnit, None), 5, false),
            (e(ErrorKind::JobFailed, None), 1, true),
            (e(ErrorKind::Failed, Some("SomethingNew")), 1, true),
        ];
        for (err, code, hint) in cases {
            assert_eq!(exit_for_error(&err), code, "{err:?}");
            assert_eq!(job_refusal_has_hint(&err), hint, "{err:?}");
        }
    }

    fn v(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn new_lines_skips_the_overlap_of_two_windows() {
        let cases: [(&[&str], &[&str], &[&str]); 5] = [
            (&["a", "b", "c"], &["a", "b", "c"], &[]),
            (&["a", "b", "c"], &["b", "c", "d"], &["d"]),
            (&["a", "b"], &["a", "b", "c", "d"], &["c", "d"]),
            (&[], &["x"], &["x"]),
            (&["a", "b"], &["x", "y"], &["x", "y"]),
        ];
        for (prev, cur, want) in cases {
            assert_eq!(
                new_lines(&v(prev), &v(cur)),
                v(want).as_slice(),
                "{prev:?} {cur:?}"
            );
        }
    }
}
