//! The control server: clients of `<runtime-dir>/control` speak `proto` (NUL-terminated
//! JSON). Every socket is non-blocking and has its own decoder and output buffer, so a slow
//! or hostile client never stalls the loop: a malformed message gets an error reply, an
//! oversized one closes the connection, and a client whose unread replies pile up is
//! dropped. Calls that change state need uid 0 (`SO_PEERCRED`). `WaitJobs` keeps its
//! client pending until the jobs have finished; meanwhile further requests of that client
//! wait in its decoder, so replies always come in request order.
//!
//! `show` answers with systemctl's property names and order (a service's own properties
//! first; without `-p`, empty values are left out). The unit-file calls (`list-unit-files`,
//! `enable`/`disable`/`mask`/`unmask`, `set-default`/`get-default`) are `unitfiles`' work on
//! the search path; they write to the first `--unit-path` directory, or to
//! `/etc/systemd/system` on the default path, and a call that changed something reloads the
//! units as `daemon-reload` does (systemctl reloads after these verbs too).

use crate::daemon::Daemon;
use crate::registry::{Runtime, Unit};
use crate::unitfiles;
use jobs::{JobId, JobMode, JobType};
use proto::frame::{self, Decoder, FrameError};
use proto::{
    Answer, Call, ErrorKind, JobInfo, JobVerb, KillWhom, Reply, Request, UnitFileChange,
    UnitFileInfo, UnitInfo, UnitStatus,
};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use unitfile::model::service::{NotifyAccess, Restart, ServiceType};
use unitfile::specifier::HostFacts;
use unitfile::value::format_timespan;
use units::exit::ExitStatus;
use units::service::KillTarget;
use units::{Dependency, UnitId};

/// At most this many clients at once; more are refused.
const MAX_CLIENTS: usize = 512;
/// A client that does not read its replies is dropped once this much is queued.
const MAX_OUTPUT: usize = 8 << 20;
/// How many lines of output `Status` includes.
const STATUS_LOG_LINES: usize = 10;

#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    decoder: Decoder,
    out: Vec<u8>,
    uid: u32,
    /// Job ids of a pending `WaitJobs`.
    waiting: Option<Vec<u32>>,
    /// The peer closed its side (or broke the protocol): finish writing, then drop.
    eof: bool,
    /// Drop now.
    dead: bool,
}

impl Client {
    pub fn raw_fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    pub fn wants_read(&self) -> bool {
        !self.eof && !self.dead && self.waiting.is_none()
    }

    pub fn wants_write(&self) -> bool {
        !self.out.is_empty() && !self.dead
    }

    pub fn is_done(&self) -> bool {
        self.dead || (self.eof && self.out.is_empty() && self.waiting.is_none())
    }

    fn send(&mut self, reply: &Reply) {
        let bytes = match frame::encode(reply) {
            Ok(b) => b,
            Err(e) => match frame::encode(&Reply::error(ErrorKind::Failed, e.to_string())) {
                Ok(b) => b,
                Err(_) => {
                    self.dead = true;
                    return;
                }
            },
        };
        self.out.extend_from_slice(&bytes);
        if self.out.len() > MAX_OUTPUT {
            self.dead = true;
        }
        self.flush();
    }

    fn flush(&mut self) {
        while !self.out.is_empty() {
            match self.stream.write(&self.out) {
                Ok(0) => {
                    self.dead = true;
                    return;
                }
                Ok(n) => {
                    self.out.drain(..n.min(self.out.len()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.dead = true;
                    return;
                }
            }
        }
    }
}

fn unit_info(d: &Daemon, unit: &Unit) -> UnitInfo {
    UnitInfo {
        name: unit.name.clone(),
        load_state: unit.loaded.load_state.to_string(),
        active_state: unit.active_state().to_string(),
        sub_state: unit.sub_state(),
        description: unit.description(),
        job: d.engine.job_of(unit.id).map(|j| j.id.0),
    }
}

/// `fnmatch(3)`-style matching with `*`, `?` and `[...]`, as systemctl's patterns.
fn glob(pattern: &str, text: &str) -> bool {
    fn m(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| t.get(i..).is_some_and(|s| m(rest, s))),
            Some(('?', rest)) => t.split_first().is_some_and(|(_, ts)| m(rest, ts)),
            Some(('[', rest)) => {
                let Some(close) = rest.iter().position(|&c| c == ']') else {
                    return t.first() == Some(&'[') && m(rest, t.get(1..).unwrap_or_default());
                };
                let (set, after) = rest.split_at(close);
                let after = after.get(1..).unwrap_or_default();
                let Some((c, ts)) = t.split_first() else {
                    return false;
                };
                let (negate, set) = match set.split_first() {
                    Some(('!' | '^', s)) => (true, s),
                    _ => (false, set),
                };
                let mut hit = false;
                let mut i = 0;
                while i < set.len() {
                    let lo = set.get(i).copied().unwrap_or_default();
                    if set.get(i + 1) == Some(&'-') && i + 2 < set.len() {
                        let hi = set.get(i + 2).copied().unwrap_or_default();
                        hit |= lo <= *c && *c <= hi;
                        i += 3;
                    } else {
                        hit |= lo == *c;
                        i += 1;
                    }
                }
                hit != negate && m(after, ts)
            }
            Some((c, rest)) => t
                .split_first()
                .is_some_and(|(tc, ts)| tc == c && m(rest, ts)),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    m(&p, &t)
}

fn job_type_of(verb: JobVerb, can_reload: bool) -> JobType {
    match verb {
        JobVerb::Start | JobVerb::Isolate => JobType::Start,
        JobVerb::Stop => JobType::Stop,
        JobVerb::Reload => JobType::Reload,
        JobVerb::Restart => JobType::Restart,
        JobVerb::TryRestart => JobType::TryRestart,
        JobVerb::ReloadOrRestart => JobType::Restart.reload_if_possible(can_reload),
        JobVerb::TryReloadOrRestart => JobType::TryRestart.reload_if_possible(can_reload),
        JobVerb::VerifyActive => JobType::VerifyActive,
    }
}

fn job_mode_of(verb: JobVerb, mode: proto::JobMode) -> JobMode {
    if verb == JobVerb::Isolate {
        return JobMode::Isolate;
    }
    match mode {
        proto::JobMode::Replace => JobMode::Replace,
        proto::JobMode::Fail => JobMode::Fail,
        proto::JobMode::ReplaceIrreversibly => JobMode::ReplaceIrreversibly,
        proto::JobMode::Isolate => JobMode::Isolate,
        proto::JobMode::Flush => JobMode::Flush,
        proto::JobMode::IgnoreDependencies => JobMode::IgnoreDependencies,
        proto::JobMode::IgnoreRequirements => JobMode::IgnoreRequirements,
        proto::JobMode::Triggering => JobMode::Triggering,
    }
}

/// The unit-file state `status` and `show` report: what `is-enabled` says of the unit's
/// name, empty for a unit without a file (systemd's `UnitFileState=` of such units).
fn unit_file_state(unit: &Unit, paths: &unitfiles::Paths, host: &HostFacts) -> String {
    if unit.loaded.fragment.is_none() {
        return String::new();
    }
    unitfiles::state(paths, &unit.name, host)
        .map(|s| s.as_str().to_string())
        .unwrap_or_default()
}

/// A wall-clock time in µs since the epoch as `systemctl show` prints it (in UTC):
/// `Sun 2026-11-22 01:52:52 UTC`; empty when unset.
fn show_timestamp(usec: Option<u64>) -> String {
    let Some(usec) = usec.filter(|&u| u != 0) else {
        return String::new();
    };
    let secs = usec / 1_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil: count from 0000-03-01 so that February comes last.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    // 1970-01-01 was a Thursday.
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        .get((days % 7) as usize)
        .copied()
        .unwrap_or_default();
    format!(
        "{weekday} {year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn service_type_name(t: ServiceType) -> &'static str {
    match t {
        ServiceType::Simple => "simple",
        ServiceType::Exec => "exec",
        ServiceType::Forking => "forking",
        ServiceType::Oneshot => "oneshot",
        ServiceType::Dbus => "dbus",
        ServiceType::Notify => "notify",
        ServiceType::Idle => "idle",
    }
}

fn restart_name(r: Restart) -> &'static str {
    match r {
        Restart::No => "no",
        Restart::OnSuccess => "on-success",
        Restart::OnFailure => "on-failure",
        Restart::OnAbnormal => "on-abnormal",
        Restart::OnWatchdog => "on-watchdog",
        Restart::OnAbort => "on-abort",
        Restart::Always => "always",
    }
}

fn notify_access_name(n: NotifyAccess) -> &'static str {
    match n {
        NotifyAccess::None => "none",
        NotifyAccess::Main => "main",
        NotifyAccess::Exec => "exec",
        NotifyAccess::All => "all",
    }
}

/// `ExecMainCode=` (the `CLD_*` code: 1 exited, 2 killed, 3 dumped; 0 before any exit)
/// and `ExecMainStatus=` (the exit status or the signal).
fn exec_main_code_status(exit: Option<ExitStatus>) -> (u8, i32) {
    match exit {
        None => (0, 0),
        Some(ExitStatus::Exited(code)) => (1, code),
        Some(ExitStatus::Killed {
            signal,
            core_dumped,
        }) => (if core_dumped { 3 } else { 2 }, signal),
    }
}

/// The dependency properties of `show`, in systemd's order.
const DEPENDENCY_PROPERTIES: &[(&str, Dependency)] = &[
    ("Requires", Dependency::Requires),
    ("Requisite", Dependency::Requisite),
    ("Wants", Dependency::Wants),
    ("BindsTo", Dependency::BindsTo),
    ("PartOf", Dependency::PartOf),
    ("Upholds", Dependency::Upholds),
    ("RequiredBy", Dependency::RequiredBy),
    ("RequisiteOf", Dependency::RequisiteOf),
    ("WantedBy", Dependency::WantedBy),
    ("BoundBy", Dependency::BoundBy),
    ("UpheldBy", Dependency::UpheldBy),
    ("ConsistsOf", Dependency::ConsistsOf),
    ("Conflicts", Dependency::Conflicts),
    ("ConflictedBy", Dependency::ConflictedBy),
    ("Before", Dependency::Before),
    ("After", Dependency::After),
    ("OnSuccess", Dependency::OnSuccess),
    ("OnSuccessOf", Dependency::OnSuccessOf),
    ("OnFailure", Dependency::OnFailure),
    ("OnFailureOf", Dependency::OnFailureOf),
    ("Triggers", Dependency::Triggers),
    ("TriggeredBy", Dependency::TriggeredBy),
    ("PropagatesReloadTo", Dependency::PropagatesReloadTo),
    ("ReloadPropagatedFrom", Dependency::ReloadPropagatedFrom),
    ("PropagatesStopTo", Dependency::PropagatesStopTo),
    ("StopPropagatedFrom", Dependency::StopPropagatedFrom),
    ("JoinsNamespaceOf", Dependency::JoinsNamespaceOf),
];

/// `show`'s selection: the named properties (empty or not) in systemd's order, or every
/// property that has a value, as `systemctl show` without `--all`.
fn select_properties(all: Vec<(String, String)>, wanted: &[String]) -> Vec<(String, String)> {
    all.into_iter()
        .filter(|(k, v)| {
            if wanted.is_empty() {
                !v.is_empty()
            } else {
                wanted.iter().any(|w| w == k)
            }
        })
        .collect()
}

fn process_command_line(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let words: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    words.join(" ")
}

impl Daemon {
    pub(crate) fn accept_clients(&mut self) {
        loop {
            let stream = match self.listener_accept() {
                Some(s) => s,
                None => return,
            };
            if self.clients.len() >= MAX_CLIENTS {
                continue;
            }
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let Ok(cred) = sys::event::peer_credentials(stream.as_fd()) else {
                continue;
            };
            self.clients.push(Client {
                stream,
                decoder: Decoder::new(),
                out: Vec::new(),
                uid: cred.uid,
                waiting: None,
                eof: false,
                dead: false,
            });
        }
    }

    /// Reads what client `i` sent and answers every complete request.
    pub(crate) fn service_client(&mut self, i: usize) {
        let Some(c) = self.clients.get_mut(i) else {
            return;
        };
        c.flush();
        if c.wants_read() {
            let mut buf = [0u8; 65536];
            loop {
                match c.stream.read(&mut buf) {
                    Ok(0) => {
                        c.eof = true;
                        break;
                    }
                    Ok(n) => {
                        c.decoder.push(buf.get(..n).unwrap_or_default());
                        if c.decoder.pending() >= proto::MAX_MESSAGE {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        c.dead = true;
                        return;
                    }
                }
            }
        }
        self.process_requests(i);
    }

    /// Answers the complete requests of client `i`, stopping at a pending `WaitJobs`.
    fn process_requests(&mut self, i: usize) {
        loop {
            let Some(c) = self.clients.get_mut(i) else {
                return;
            };
            if c.waiting.is_some() || c.dead {
                return;
            }
            let frame = match c.decoder.next_frame() {
                None => return,
                Some(Ok(f)) => f,
                Some(Err(_)) => {
                    // Too long: the stream cannot be resynchronised.
                    c.send(&Reply::error(
                        ErrorKind::BadRequest,
                        format!("message longer than {} bytes", proto::MAX_MESSAGE),
                    ));
                    c.eof = true;
                    return;
                }
            };
            let uid = c.uid;
            let reply = match frame::decode::<Request>(&frame) {
                Ok(req) => self.call(i, uid, req.call),
                Err(FrameError::Version(v)) => Some(Reply::error(
                    ErrorKind::Version,
                    FrameError::Version(v).to_string(),
                )),
                Err(e) => Some(Reply::error(ErrorKind::BadRequest, e.to_string())),
            };
            if let (Some(reply), Some(c)) = (reply, self.clients.get_mut(i)) {
                c.send(&reply);
            }
        }
    }

    fn listener_accept(&self) -> Option<UnixStream> {
        loop {
            match self.listener_ref().accept() {
                Ok((s, _)) => return Some(s),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
    }

    /// Writes pending output of every client.
    pub(crate) fn flush_clients(&mut self) {
        for c in &mut self.clients {
            c.flush();
        }
        self.clients.retain(|c| !c.is_done());
    }

    /// Answers `WaitJobs` calls whose jobs have all finished, and lets those clients go on.
    pub(crate) fn answer_waiters(&mut self) {
        for i in 0..self.clients.len() {
            let Some(ids) = self.clients.get(i).and_then(|c| c.waiting.clone()) else {
                continue;
            };
            if ids.iter().any(|&id| self.engine.job(JobId(id)).is_some()) {
                continue;
            }
            let infos = ids.iter().map(|&id| self.finished_job_info(id)).collect();
            if let Some(c) = self.clients.get_mut(i) {
                c.waiting = None;
                c.send(&Reply::ok(Answer::Jobs(infos)));
            }
            self.process_requests(i);
        }
    }

    fn finished_job_info(&self, id: u32) -> JobInfo {
        match self.history.iter().rev().find(|(j, ..)| j.0 == id) {
            Some((_, unit, t, result)) => JobInfo {
                id,
                unit: unit.clone(),
                job_type: t.as_str().into(),
                state: result.as_str().into(),
            },
            None => JobInfo {
                id,
                unit: String::new(),
                job_type: String::new(),
                state: "unknown".into(),
            },
        }
    }

    fn job_info(&self, id: JobId) -> Option<JobInfo> {
        let j = self.engine.job(id)?;
        Some(JobInfo {
            id: id.0,
            unit: self.reg.name_of(j.unit),
            job_type: j.job_type.as_str().into(),
            state: j.state.as_str().into(),
        })
    }

    /// Units named in a request, loading them; the first unknown one is an error.
    fn lookup_units(&mut self, names: &[String]) -> Result<Vec<UnitId>, Reply> {
        names
            .iter()
            .map(|n| {
                self.reg
                    .load(n)
                    .map_err(|m| Reply::error(ErrorKind::NoSuchUnit, m))
            })
            .collect()
    }

    /// One call; `None` when the reply comes later (`WaitJobs`).
    fn call(&mut self, client: usize, uid: u32, call: Call) -> Option<Reply> {
        if call.changes_state() && uid != 0 {
            return Some(Reply::error(
                ErrorKind::PermissionDenied,
                "Access denied: changing the manager's state needs root.",
            ));
        }
        let reply = match call {
            Call::Ping => Reply::ok(Answer::Pong {
                manager_version: env!("CARGO_PKG_VERSION").to_string(),
            }),
            Call::Job { verb, units, mode } => self.call_job(verb, &units, mode),
            Call::WaitJobs { jobs } => {
                let unknown = jobs.iter().find(|&&id| {
                    self.engine.job(JobId(id)).is_none()
                        && !self.history.iter().any(|(j, ..)| j.0 == id)
                });
                if let Some(id) = unknown {
                    return Some(Reply::error(
                        ErrorKind::NoSuchJob,
                        format!("Job {id} does not exist."),
                    ));
                }
                if let Some(c) = self.clients.get_mut(client) {
                    c.waiting = Some(jobs);
                }
                return None;
            }
            Call::ListUnits {
                patterns,
                all,
                states,
                types,
            } => {
                let list = self
                    .reg
                    .units()
                    .filter(|u| {
                        let info_states = [
                            u.loaded.load_state.to_string(),
                            u.active_state().to_string(),
                            u.sub_state(),
                        ];
                        let shown = all
                            || !patterns.is_empty()
                            || !u.active_state().is_inactive_or_failed()
                            || u.active_state() == units::ActiveState::Failed
                            || self.engine.job_of(u.id).is_some();
                        shown
                            && (patterns.is_empty() || patterns.iter().any(|p| glob(p, &u.name)))
                            && (states.is_empty() || states.iter().any(|s| info_states.contains(s)))
                            && (types.is_empty()
                                || types.iter().any(|t| t == u.unit_type().suffix()))
                    })
                    .map(|u| unit_info(self, u))
                    .collect::<Vec<_>>();
                let mut list = list;
                list.sort_by(|a, b| a.name.cmp(&b.name));
                Reply::ok(Answer::Units(list))
            }
            Call::ListJobs => {
                let list = self
                    .engine
                    .jobs()
                    .filter_map(|j| self.job_info(j.id))
                    .collect();
                Reply::ok(Answer::Jobs(list))
            }
            Call::CancelJobs { jobs } => {
                for &id in &jobs {
                    if self.engine.job(JobId(id)).is_none() {
                        return Some(Reply::error(
                            ErrorKind::NoSuchJob,
                            format!("Job {id} does not exist."),
                        ));
                    }
                }
                for id in jobs {
                    let list = self.engine.cancel(&self.reg.graph, &self.reg, JobId(id));
                    self.jobs_finished(list);
                }
                Reply::ok(Answer::Done)
            }
            Call::Status { units } => match self.lookup_units(&units) {
                Ok(ids) => {
                    let list = ids.into_iter().filter_map(|u| self.status(u)).collect();
                    Reply::ok(Answer::Status(list))
                }
                Err(r) => r,
            },
            Call::Files { units } => match self.lookup_units(&units) {
                Ok(ids) => {
                    let list = ids
                        .into_iter()
                        .filter_map(|u| self.reg.unit(u))
                        .map(|u| {
                            u.loaded
                                .fragment
                                .iter()
                                .chain(u.loaded.dropins.iter())
                                .map(|p| p.display().to_string())
                                .collect()
                        })
                        .collect();
                    Reply::ok(Answer::Files(list))
                }
                Err(r) => r,
            },
            Call::Logs { unit, lines } => match self.lookup_units(&[unit]) {
                Ok(ids) => {
                    let lines = ids
                        .first()
                        .and_then(|&u| self.reg.unit(u))
                        .map(|u| u.log.last(lines.map(|n| n as usize)))
                        .unwrap_or_default();
                    Reply::ok(Answer::Logs(lines))
                }
                Err(r) => r,
            },
            Call::Kill {
                units,
                whom,
                signal,
            } => self.call_kill(&units, whom, signal),
            Call::ResetFailed { units } => {
                let ids = if units.is_empty() {
                    Ok(self.reg.ids())
                } else {
                    self.lookup_units(&units)
                };
                match ids {
                    Ok(ids) => {
                        for u in ids {
                            self.reset_failed(u);
                        }
                        Reply::ok(Answer::Done)
                    }
                    Err(r) => r,
                }
            }
            Call::DaemonReload => {
                self.reload_unit_files();
                Reply::ok(Answer::Done)
            }
            Call::Show { units, properties } => self.call_show(&units, &properties),
            Call::ListUnitFiles { patterns } => {
                let paths = self.unit_file_paths();
                let list = unitfiles::list(&paths, &HostFacts::from_system(), |n| {
                    patterns.is_empty() || patterns.iter().any(|p| glob(p, n))
                })
                .into_iter()
                .map(|(name, state)| UnitFileInfo {
                    name,
                    state: state.as_str().to_string(),
                })
                .collect();
                Reply::ok(Answer::UnitFiles(list))
            }
            Call::UnitFileChange { change, units } => self.call_unit_file_change(change, &units),
            Call::SetDefault { unit } => {
                let paths = self.unit_file_paths();
                let result = unitfiles::set_default(&paths, &unit, &HostFacts::from_system());
                self.unit_files_changed(result)
            }
            Call::GetDefault => {
                let paths = self.unit_file_paths();
                match unitfiles::get_default(&paths, &HostFacts::from_system()) {
                    Ok(name) => Reply::ok(Answer::Default(name)),
                    Err(e) => Reply::error(ErrorKind::Failed, e.0),
                }
            }
            Call::Shutdown { .. } => Reply::error(
                ErrorKind::Unsupported,
                "shutdown needs sysmaster-init as PID 1, which is not there yet",
            ),
            other => Reply::error(
                ErrorKind::Unsupported,
                format!("{} is not supported yet", call_name(&other)),
            ),
        };
        Some(reply)
    }

    fn call_job(&mut self, verb: JobVerb, units: &[String], mode: proto::JobMode) -> Reply {
        if self.shutting_down.is_some() {
            return Reply::error(ErrorKind::Failed, "The manager is shutting down.");
        }
        let mut infos = Vec::new();
        for name in units {
            let can_reload = match self.reg.load(name) {
                Ok(u) => jobs::Units::can_reload(&self.reg, u),
                Err(m) => return Reply::error(ErrorKind::NoSuchUnit, m),
            };
            let t = job_type_of(verb, can_reload);
            let mode = job_mode_of(verb, mode);
            match self.enqueue(name, t, mode, true) {
                Ok(id) => {
                    let info = self
                        .job_info(id)
                        .unwrap_or_else(|| self.finished_job_info(id.0));
                    infos.push(info);
                }
                Err((kind, message)) => return Reply::error(kind, message),
            }
        }
        Reply::ok(Answer::Jobs(infos))
    }

    fn call_kill(&mut self, units: &[String], whom: KillWhom, signal: i32) -> Reply {
        if !(1..=64).contains(&signal) {
            return Reply::error(ErrorKind::BadRequest, format!("invalid signal {signal}"));
        }
        let ids = match self.lookup_units(units) {
            Ok(ids) => ids,
            Err(r) => return r,
        };
        for u in ids {
            let Some(unit) = self.reg.unit(u) else {
                continue;
            };
            let (main, control) = unit
                .service()
                .map_or((None, None), |s| (s.main_pid(), s.control_pid()));
            let target = match whom {
                KillWhom::Main if main.is_some() => KillTarget::Main,
                KillWhom::Control if control.is_some() => KillTarget::Control,
                KillWhom::All if unit.populated || main.is_some() || control.is_some() => {
                    KillTarget::Cgroup
                }
                _ => {
                    return Reply::error(
                        ErrorKind::Failed,
                        format!("No process of {} to kill.", unit.name),
                    )
                }
            };
            self.kill(u, target, signal);
        }
        Reply::ok(Answer::Done)
    }

    fn reset_failed(&mut self, u: UnitId) {
        let is_service = matches!(
            self.reg.unit(u).map(|x| &x.runtime),
            Some(Runtime::Service(_))
        );
        if is_service {
            self.push_event(u, units::service::Event::ResetFailed);
        }
    }

    /// `daemon-reload`: the search path is scanned again and every unit without a job is
    /// loaded again.
    fn reload_unit_files(&mut self) {
        let with_job: Vec<UnitId> = self.engine.jobs().map(|j| j.unit).collect();
        self.reg.reload(|u| !with_job.contains(&u));
        eprintln!("sysmaster: reloaded unit files");
    }

    /// Where unit-file changes go: the first `--unit-path` directory, or
    /// `/etc/systemd/system` on the default search path (see `unitfiles`).
    fn unit_file_paths(&self) -> unitfiles::Paths {
        unitfiles::Paths::for_search_path(self.unit_dirs())
    }

    /// The reply to a unit-file change; a change that did something is followed by a
    /// reload, as systemctl follows `enable` & co. with `daemon-reload`.
    fn unit_files_changed(
        &mut self,
        result: Result<Vec<unitfiles::Change>, unitfiles::InstallError>,
    ) -> Reply {
        match result {
            Ok(changes) => {
                let modified = changes
                    .iter()
                    .any(|c| !matches!(c, unitfiles::Change::Masked { .. }));
                if modified {
                    self.reload_unit_files();
                }
                Reply::ok(Answer::Changes(
                    changes.iter().map(|c| c.to_wire()).collect(),
                ))
            }
            Err(e) => Reply::error(ErrorKind::Failed, e.0),
        }
    }

    fn call_unit_file_change(&mut self, change: UnitFileChange, units: &[String]) -> Reply {
        let paths = self.unit_file_paths();
        let host = HostFacts::from_system();
        let result = match change {
            UnitFileChange::Enable => unitfiles::enable(&paths, units, &host),
            UnitFileChange::Disable => unitfiles::disable(&paths, units, &host),
            UnitFileChange::Mask => unitfiles::mask(&paths, units),
            UnitFileChange::Unmask => unitfiles::unmask(&paths, units),
        };
        self.unit_files_changed(result)
    }

    /// `show`: the properties of each unit, or of the manager when none is named.
    fn call_show(&mut self, units: &[String], wanted: &[String]) -> Reply {
        if units.is_empty() {
            return Reply::ok(Answer::Properties(vec![select_properties(
                self.manager_properties(),
                wanted,
            )]));
        }
        let ids = match self.lookup_units(units) {
            Ok(ids) => ids,
            Err(r) => return r,
        };
        let paths = self.unit_file_paths();
        let host = HostFacts::from_system();
        let blocks = ids
            .into_iter()
            .map(|u| select_properties(self.unit_properties(u, &paths, &host), wanted))
            .collect();
        Reply::ok(Answer::Properties(blocks))
    }

    /// The manager's own properties (`sctl show` without a unit).
    fn manager_properties(&self) -> Vec<(String, String)> {
        let failed = self
            .reg
            .units()
            .filter(|u| u.active_state() == units::ActiveState::Failed)
            .count();
        let jobs = self.engine.jobs().count();
        let state = if self.shutting_down.is_some() {
            "stopping"
        } else if jobs > 0 {
            "starting"
        } else if failed > 0 {
            "degraded"
        } else {
            "running"
        };
        let dirs: Vec<String> = self
            .unit_dirs()
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        let p = |k: &str, v: String| (k.to_string(), v);
        vec![
            p("Version", env!("CARGO_PKG_VERSION").to_string()),
            p(
                "NNames",
                self.reg
                    .units()
                    .map(|u| u.loaded.names.len())
                    .sum::<usize>()
                    .to_string(),
            ),
            p("NFailedUnits", failed.to_string()),
            p("NJobs", jobs.to_string()),
            p("UnitPath", dirs.join(" ")),
            p("SystemState", state.to_string()),
        ]
    }

    /// Every property `show` knows of one unit, in `systemctl show`'s order: a service's
    /// own properties first, then those of every unit.
    fn unit_properties(
        &self,
        u: UnitId,
        paths: &unitfiles::Paths,
        host: &HostFacts,
    ) -> Vec<(String, String)> {
        let Some(unit) = self.reg.unit(u) else {
            return Vec::new();
        };
        let mut out: Vec<(String, String)> = Vec::new();
        let mut p = |k: &str, v: String| out.push((k.to_string(), v));
        if let Some(s) = unit.service() {
            let c = s.config();
            let (code, status) = exec_main_code_status(s.main_exit());
            p("Type", service_type_name(c.service_type).into());
            p("Restart", restart_name(c.restart).into());
            p("PIDFile", c.pid_file.clone().unwrap_or_default());
            p("NotifyAccess", notify_access_name(c.notify_access).into());
            p("RestartUSec", format_timespan(c.restart_usec));
            p("TimeoutStartUSec", format_timespan(c.timeout_start));
            p("TimeoutStopUSec", format_timespan(c.timeout_stop));
            p("TimeoutAbortUSec", format_timespan(c.timeout_abort));
            p("RuntimeMaxUSec", format_timespan(c.runtime_max));
            p(
                "WatchdogUSec",
                format_timespan(s.watchdog_usec().unwrap_or(0)),
            );
            p("RemainAfterExit", yes_no(c.remain_after_exit));
            p("GuessMainPID", yes_no(c.guess_main_pid));
            p("MainPID", s.main_pid().unwrap_or(0).to_string());
            p("ControlPID", s.control_pid().unwrap_or(0).to_string());
            p(
                "StatusText",
                s.status_text().unwrap_or_default().to_string(),
            );
            p("StatusErrno", s.status_errno().unwrap_or(0).to_string());
            p("Result", s.result().as_str().into());
            p("ReloadResult", s.reload_result().as_str().into());
            p("NRestarts", s.restart_count().to_string());
            p("ExecMainCode", code.to_string());
            p("ExecMainStatus", status.to_string());
        }
        let names_of = |dep: Dependency| -> String {
            let mut names: Vec<String> = self
                .reg
                .graph
                .get(u, dep)
                .map(|o| self.reg.name_of(o))
                .collect();
            names.sort();
            names.join(" ")
        };
        p("Id", unit.name.clone());
        p("Names", unit.loaded.names.join(" "));
        for (key, dep) in DEPENDENCY_PROPERTIES {
            p(key, names_of(*dep));
        }
        let config = &unit.loaded.config.unit;
        p("Documentation", config.documentation.join(" "));
        p("Description", unit.description());
        p("LoadState", unit.loaded.load_state.to_string());
        let active = unit.active_state();
        p("ActiveState", active.to_string());
        p("SubState", unit.sub_state());
        p(
            "FragmentPath",
            unit.loaded
                .fragment
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_default(),
        );
        let dropins: Vec<String> = unit
            .loaded
            .dropins
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        p("DropInPaths", dropins.join(" "));
        p("UnitFileState", unit_file_state(unit, paths, host));
        // Only the time of the last change of the active state is kept: it is the time the
        // unit entered the state it is in now.
        let since = |states: &[units::ActiveState]| {
            show_timestamp(unit.state_change_usec.filter(|_| states.contains(&active)))
        };
        use units::ActiveState as A;
        p(
            "StateChangeTimestamp",
            show_timestamp(unit.state_change_usec),
        );
        p("ActiveEnterTimestamp", since(&[A::Active, A::Reloading]));
        p("InactiveEnterTimestamp", since(&[A::Inactive, A::Failed]));
        let loaded = unit.loaded.load_state == unitfile::load::LoadState::Loaded;
        p(
            "CanStart",
            yes_no(loaded && unit.supported() && !config.refuse_manual_start.unwrap_or(false)),
        );
        p(
            "CanStop",
            yes_no(
                loaded
                    && !config.refuse_manual_stop.unwrap_or(false)
                    && jobs::Units::can_stop(&self.reg, u),
            ),
        );
        p("CanReload", yes_no(jobs::Units::can_reload(&self.reg, u)));
        p(
            "CanIsolate",
            yes_no(loaded && config.allow_isolate.unwrap_or(false)),
        );
        p(
            "Job",
            self.engine
                .job_of(u)
                .map(|j| j.id.0.to_string())
                .unwrap_or_default(),
        );
        p(
            "RefuseManualStart",
            yes_no(config.refuse_manual_start.unwrap_or(false)),
        );
        p(
            "RefuseManualStop",
            yes_no(config.refuse_manual_stop.unwrap_or(false)),
        );
        p(
            "AllowIsolate",
            yes_no(config.allow_isolate.unwrap_or(false)),
        );
        p(
            "DefaultDependencies",
            yes_no(config.default_dependencies.unwrap_or(true)),
        );
        p(
            "IgnoreOnIsolate",
            yes_no(config.ignore_on_isolate.unwrap_or(false)),
        );
        p("InvocationID", unit.invocation_id.clone());
        out
    }

    fn status(&self, u: UnitId) -> Option<UnitStatus> {
        let unit = self.reg.unit(u)?;
        let service = unit.service();
        let main_pid = service.and_then(|s| s.main_pid());
        let mut pids: Vec<u32> = main_pid.into_iter().collect();
        if let Some(cg) = &unit.cgroup {
            for p in cg.pids().unwrap_or_default() {
                if !pids.contains(&p) {
                    pids.push(p);
                }
            }
        } else if let Some(c) = service.and_then(|s| s.control_pid()) {
            pids.push(c);
        }
        Some(UnitStatus {
            unit: unit_info(self, unit),
            fragment: unit
                .loaded
                .fragment
                .as_ref()
                .map(|p| p.display().to_string()),
            dropins: unit
                .loaded
                .dropins
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            unit_file_state: unit_file_state(
                unit,
                &self.unit_file_paths(),
                &HostFacts::from_system(),
            ),
            state_change_usec: unit.state_change_usec,
            main_pid,
            status_text: service.and_then(|s| s.status_text()).map(str::to_string),
            result: service.map(|s| s.result().to_string()),
            processes: pids
                .into_iter()
                .map(|p| (p, process_command_line(p)))
                .collect(),
            log: unit.log.last(Some(STATUS_LOG_LINES)),
        })
    }
}

fn call_name(call: &Call) -> &'static str {
    match call {
        Call::Ping => "ping",
        Call::Job { .. } => "job",
        Call::WaitJobs { .. } => "wait-jobs",
        Call::Kill { .. } => "kill",
        Call::ResetFailed { .. } => "reset-failed",
        Call::ListUnits { .. } => "list-units",
        Call::ListUnitFiles { .. } => "list-unit-files",
        Call::ListJobs => "list-jobs",
        Call::CancelJobs { .. } => "cancel-jobs",
        Call::Status { .. } => "status",
        Call::Show { .. } => "show",
        Call::Files { .. } => "files",
        Call::Logs { .. } => "logs",
        Call::UnitFileChange { .. } => "unit-file-change",
        Call::SetDefault { .. } => "set-default",
        Call::GetDefault => "get-default",
        Call::DaemonReload => "daemon-reload",
        Call::DaemonReexec => "daemon-reexec",
        Call::Shutdown { .. } => "shutdown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_fnmatch() {
        let cases = [
            ("*.service", "a.service", true),
            ("*.service", "a.target", false),
            ("a?.service", "ab.service", true),
            ("a?.service", "a.service", false),
            ("[ab].service", "b.service", true),
            ("[!ab].service", "b.service", false),
            ("[a-c]x", "bx", true),
            ("exact", "exact", true),
            ("*", "", true),
            ("[", "[", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(glob(p, t), want, "{p} {t}");
        }
    }

    #[test]
    fn verbs_map_to_job_types() {
        let cases = [
            (JobVerb::Start, false, JobType::Start),
            (JobVerb::Isolate, false, JobType::Start),
            (JobVerb::ReloadOrRestart, true, JobType::ReloadOrStart),
            (JobVerb::ReloadOrRestart, false, JobType::Restart),
            (JobVerb::TryReloadOrRestart, true, JobType::TryReload),
            (JobVerb::VerifyActive, false, JobType::VerifyActive),
        ];
        for (verb, can_reload, want) in cases {
            assert_eq!(job_type_of(verb, can_reload), want, "{verb:?}");
        }
        assert_eq!(
            job_mode_of(JobVerb::Isolate, proto::JobMode::Replace),
            JobMode::Isolate
        );
        assert_eq!(
            job_mode_of(JobVerb::Start, proto::JobMode::Fail),
            JobMode::Fail
        );
    }
}
