//! The control server: clients of `<runtime-dir>/control` speak `proto` (NUL-terminated
//! JSON). Every socket is non-blocking and has its own decoder and output buffer, so a slow
//! or hostile client never stalls the loop: a malformed message gets an error reply naming
//! what is wrong, an oversized one closes the connection, and a client whose unread replies
//! pile up is dropped. When every client slot is taken, the client idle longest makes room
//! for the new one, so connections left open cannot lock others out; users other than root
//! share only part of the slots, so they cannot lock root out even with clients waiting for
//! jobs. The client with the largest half-sent message is dropped when all of them together
//! hold too much memory.
//! Calls that change state need uid 0 (`SO_PEERCRED`). `WaitJobs` keeps its client pending
//! until the jobs have finished; meanwhile further requests of that client wait in its
//! decoder, so replies always come in request order.
//!
//! Requests are checked before they are carried out: lists are bounded, unit names must be
//! valid names (not templates), glob patterns are bounded and matched in linear time.
//!
//! `show` answers with systemctl 252's property names, order and value formats
//! (`bus_print_property` and `systemctl show`'s `print_property`): a unit's type-specific
//! properties (service, then its cgroup, exec and kill contexts) before those of every
//! unit; booleans as `yes`/`no`; time spans as `1min 30s`; timestamps as
//! `Thu 2024-01-04 10:00:00 UTC` with a `...Monotonic` twin in µs; lists space-separated
//! with each word shell-quoted when needed; `Exec*=` as `{ path=... ; argv[]=... ; ... }`,
//! one line per command. Without `-p` and `--all`, empty values are left out; named ones
//! (`-p`) and `--all` show them empty.
//!
//! The unit-file calls (`list-unit-files`, `enable`/`disable`/`mask`/`unmask`,
//! `set-default`/`get-default`) are `unitfiles`' work on the search path; they write to the
//! first `--unit-path` directory, or to `/etc/systemd/system` on the default path, and a
//! call that changed something reloads the units as `daemon-reload` does (systemctl reloads
//! after these verbs too).

use crate::daemon::Daemon;
use crate::registry::{Runtime, Unit};
use crate::unitfiles;
use jobs::{JobId, JobMode, JobType};
use proto::frame::{self, Decoder, FrameError};
use proto::{
    Answer, Call, CgroupNode, ErrorKind, JobInfo, JobVerb, KillWhom, Reply, SystemStatus,
    UnitFileChange, UnitFileInfo, UnitInfo, UnitStatus,
};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Instant;
use unitfile::exec::ExecCommand;
use unitfile::model::exec::{Input, KillMode, StdInput, StdOutput};
use unitfile::model::service::{
    ExitType, NotifyAccess, OomPolicy, Restart, ServiceType, TimeoutMode,
};
use unitfile::model::unit::{CollectMode, EmergencyAction};
use unitfile::model::Kind;
use unitfile::name::UnitName;
use unitfile::specifier::HostFacts;
use unitfile::value::{format_timespan, ExitStatusSpec, USEC_INFINITY};
use units::exit::ExitStatus;
use units::service::{ExecKind, KillTarget};
use units::{ActiveState, Dependency, UnitId};

/// At most this many clients at once; beyond, the client idle longest is dropped.
const MAX_CLIENTS: usize = 512;
/// At most this many of them may belong to users other than root, so that root always
/// finds a slot.
const MAX_UNPRIVILEGED_CLIENTS: usize = 384;
/// A client that does not read its replies is dropped once this much is queued.
const MAX_OUTPUT: usize = 8 << 20;
/// Incomplete messages of all clients together may hold this much; beyond, the largest
/// one of an idle client is dropped.
const MAX_PENDING_TOTAL: usize = 64 << 20;
/// How many lines of output `Status` includes.
const STATUS_LOG_LINES: usize = 10;
/// The most entries a list in a request may have (unit names, patterns, job ids ...).
const MAX_LIST: usize = 4096;
/// The longest glob pattern, state, type or property name accepted. Unit names are
/// bounded by their own syntax (256 bytes); a longer pattern cannot match more.
const MAX_WORD: usize = 1024;
/// The longest path `enable` & co. accept (Linux's `PATH_MAX`).
const MAX_PATH: usize = 4096;
/// Bounds of the process tree `status` without a unit reports, so that its reply stays far
/// below `proto::MAX_MESSAGE` on any system.
const TREE_MAX_GROUPS: usize = 1000;
const TREE_MAX_PROCESSES: usize = 2000;
const TREE_MAX_DEPTH: usize = 32;
const TREE_MAX_COMMAND: usize = 256;

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
    /// When the client last sent or was sent something, for choosing whom to drop when
    /// every slot is taken.
    last_active: Instant,
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

    /// Whether the client may be dropped to make room: it is not waiting for jobs.
    fn evictable(&self) -> bool {
        self.waiting.is_none()
    }

    fn send(&mut self, reply: &Reply) {
        self.last_active = Instant::now();
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

/// `fnmatch(3)`-style matching with `*`, `?` and `[...]` (ranges, `!`/`^` negation), as
/// systemctl's patterns. Iterative, going back only to the last `*`: the cost is at most
/// pattern length × text length, so a hostile pattern cannot stall the manager, and there
/// is no recursion to overflow the stack.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Where the last `*` was, and how much of the text it swallows so far.
    let mut star: Option<(usize, usize)> = None;
    loop {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some(_) => {
                let element = p.get(pi..).unwrap_or_default();
                if let Some((true, len)) = t.get(ti).and_then(|&c| glob_element(element, c)) {
                    pi += len;
                    ti += 1;
                    continue;
                }
            }
            None if ti == t.len() => return true,
            None => {}
        }
        match star {
            Some((sp, st)) if st < t.len() => {
                star = Some((sp, st + 1));
                pi = sp + 1;
                ti = st + 1;
            }
            _ => return false,
        }
    }
}

/// Whether the pattern element at the start of `p` (not `*`) matches `c`, and how many
/// pattern characters it spans. An unterminated `[` is an ordinary character; a `]` right
/// after `[` or `[!` belongs to the set, as in fnmatch.
fn glob_element(p: &[char], c: char) -> Option<(bool, usize)> {
    match p.first()? {
        '?' => Some((true, 1)),
        '[' => {
            let body = p.get(1..).unwrap_or_default();
            let (negate, first) = match body.first() {
                Some('!' | '^') => (true, 1),
                _ => (false, 0),
            };
            let Some(close) = body
                .iter()
                .enumerate()
                .skip(first + 1)
                .find(|(_, &ch)| ch == ']')
                .map(|(i, _)| i)
            else {
                return Some((c == '[', 1));
            };
            let set = body.get(first..close).unwrap_or_default();
            let mut hit = false;
            let mut i = 0;
            while let Some(&lo) = set.get(i) {
                match (set.get(i + 1), set.get(i + 2)) {
                    (Some('-'), Some(&hi)) => {
                        hit |= lo <= c && c <= hi;
                        i += 3;
                    }
                    _ => {
                        hit |= lo == c;
                        i += 1;
                    }
                }
            }
            Some((hit != negate, close + 2))
        }
        &x => Some((x == c, 1)),
    }
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
    let Some(usec) = usec.filter(|&u| u != 0 && u != USEC_INFINITY) else {
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

/// A point in time on both clocks, as systemd's dual timestamps: `realtime` µs since the
/// epoch (what `...Timestamp=` prints), `monotonic` µs of `CLOCK_MONOTONIC`
/// (`...TimestampMonotonic=`); zero is unset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DualTimestamp {
    pub realtime: u64,
    pub monotonic: u64,
}

impl DualTimestamp {
    /// The monotonic twin of a wall-clock time, through the current offset of the two
    /// clocks (systemd's `dual_timestamp_from_realtime`).
    fn from_realtime(realtime: u64, now: DualTimestamp) -> DualTimestamp {
        let age = now.realtime.saturating_sub(realtime);
        DualTimestamp {
            realtime,
            monotonic: now.monotonic.saturating_sub(age),
        }
    }
}

/// The times of a unit's state changes that `show` reports, kept as systemd's
/// `unit_notify` keeps them: every change sets `state_change`; leaving inactive/failed sets
/// `inactive_exit`, entering it `inactive_enter`; entering active/reloading sets
/// `active_enter`, leaving it `active_exit`. Each keeps its value until the next such change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Timestamps {
    pub state_change: DualTimestamp,
    pub inactive_exit: DualTimestamp,
    pub active_enter: DualTimestamp,
    pub active_exit: DualTimestamp,
    pub inactive_enter: DualTimestamp,
}

impl Timestamps {
    /// Records a change of the active state from `old` to `new` at `at`.
    pub fn record(&mut self, old: ActiveState, new: ActiveState, at: DualTimestamp) {
        self.state_change = at;
        match (old.is_inactive_or_failed(), new.is_inactive_or_failed()) {
            (true, false) => self.inactive_exit = at,
            (false, true) => self.inactive_enter = at,
            _ => {}
        }
        match (old.is_active_or_reloading(), new.is_active_or_reloading()) {
            (false, true) => self.active_enter = at,
            (true, false) => self.active_exit = at,
            _ => {}
        }
    }

    /// What can be told from the one time the registry keeps today, the last change of
    /// the active state (`Unit::state_change_usec`): that change is taken to have come
    /// from the neighbouring state (an active unit from inactive, an inactive one from
    /// active), which is exact for start and stop and leaves out the earlier changes.
    /// Once `Unit` keeps a `Timestamps` fed by `Daemon::set_active` through `record`, this
    /// gives way to it.
    fn guessed(state: ActiveState, changed: Option<u64>, now: DualTimestamp) -> Timestamps {
        let mut t = Timestamps::default();
        let Some(at) = changed.filter(|&u| u != 0) else {
            return t;
        };
        let previous = match state {
            ActiveState::Active | ActiveState::Activating => ActiveState::Inactive,
            ActiveState::Reloading => ActiveState::Active,
            _ => ActiveState::Active,
        };
        t.record(previous, state, DualTimestamp::from_realtime(at, now));
        t
    }
}

fn realtime_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn now_dual() -> DualTimestamp {
    DualTimestamp {
        realtime: realtime_now(),
        monotonic: Daemon::now(),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
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

fn timeout_mode_name(m: TimeoutMode) -> &'static str {
    match m {
        TimeoutMode::Terminate => "terminate",
        TimeoutMode::Abort => "abort",
        TimeoutMode::Kill => "kill",
    }
}

fn kill_mode_name(m: KillMode) -> &'static str {
    match m {
        KillMode::ControlGroup => "control-group",
        KillMode::Mixed => "mixed",
        KillMode::Process => "process",
        KillMode::None => "none",
    }
}

fn oom_policy_name(p: OomPolicy) -> &'static str {
    match p {
        OomPolicy::Continue => "continue",
        OomPolicy::Stop => "stop",
        OomPolicy::Kill => "kill",
    }
}

fn emergency_action_name(a: EmergencyAction) -> &'static str {
    match a {
        EmergencyAction::None => "none",
        EmergencyAction::Reboot => "reboot",
        EmergencyAction::RebootForce => "reboot-force",
        EmergencyAction::RebootImmediate => "reboot-immediate",
        EmergencyAction::Poweroff => "poweroff",
        EmergencyAction::PoweroffForce => "poweroff-force",
        EmergencyAction::PoweroffImmediate => "poweroff-immediate",
        EmergencyAction::Exit => "exit",
        EmergencyAction::ExitForce => "exit-force",
        EmergencyAction::SoftReboot => "soft-reboot",
        EmergencyAction::SoftRebootForce => "soft-reboot-force",
        EmergencyAction::Kexec => "kexec",
        EmergencyAction::KexecForce => "kexec-force",
        EmergencyAction::Halt => "halt",
        EmergencyAction::HaltForce => "halt-force",
        EmergencyAction::HaltImmediate => "halt-immediate",
    }
}

fn unit_job_mode_name(m: unitfile::model::unit::JobMode) -> &'static str {
    use unitfile::model::unit::JobMode as M;
    match m {
        M::Fail => "fail",
        M::Replace => "replace",
        M::ReplaceIrreversibly => "replace-irreversibly",
        M::Isolate => "isolate",
        M::Flush => "flush",
        M::IgnoreDependencies => "ignore-dependencies",
        M::IgnoreRequirements => "ignore-requirements",
    }
}

/// `StandardInput=` as the property names it (the kind; a file's path is elsewhere).
fn input_name(i: &Input) -> &'static str {
    match i {
        Input::Kind(StdInput::Null) => "null",
        Input::Kind(StdInput::Tty) => "tty",
        Input::Kind(StdInput::TtyForce) => "tty-force",
        Input::Kind(StdInput::TtyFail) => "tty-fail",
        Input::Kind(StdInput::Data) => "data",
        Input::Kind(StdInput::Socket) => "socket",
        Input::File(_) => "file",
        Input::Fd(_) => "fd",
    }
}

/// `StandardOutput=`/`StandardError=` as the property names them; systemd 252 reads the
/// `syslog` kinds as their `journal` counterparts.
fn output_name(o: &StdOutput) -> &'static str {
    match o {
        StdOutput::Inherit => "inherit",
        StdOutput::Null => "null",
        StdOutput::Tty => "tty",
        StdOutput::Journal | StdOutput::Syslog => "journal",
        StdOutput::Kmsg => "kmsg",
        StdOutput::JournalConsole | StdOutput::SyslogConsole => "journal+console",
        StdOutput::KmsgConsole => "kmsg+console",
        StdOutput::Socket => "socket",
        StdOutput::File(_) => "file",
        StdOutput::Append(_) => "append",
        StdOutput::Truncate(_) => "truncate",
        StdOutput::Fd(_) => "fd",
    }
}

/// A signal as systemd's `signal_to_string` names it: `TERM`, `RTMIN+3`, else the number.
fn signal_word(signal: i32) -> String {
    unitfile::value::signal_name(signal)
        .map(|n| n.strip_prefix("SIG").map(str::to_string).unwrap_or(n))
        .unwrap_or_else(|| signal.to_string())
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

/// `SuccessExitStatus=` & co. as `print_property` prints an exit status set: the codes in
/// ascending order, then the signals by name.
fn exit_status_set(specs: &[ExitStatusSpec]) -> String {
    let mut codes: Vec<u8> = Vec::new();
    let mut signals: Vec<i32> = Vec::new();
    for spec in specs {
        match *spec {
            ExitStatusSpec::Code(c) => codes.push(c),
            ExitStatusSpec::Signal(s) => signals.push(s),
        }
    }
    codes.sort_unstable();
    codes.dedup();
    signals.sort_unstable();
    signals.dedup();
    codes
        .iter()
        .map(u8::to_string)
        .chain(signals.into_iter().map(signal_word))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What is known of one run of an `Exec*=` command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct CommandRun {
    pid: u32,
    exit: Option<ExitStatus>,
}

/// One `Exec*=` command as `systemctl show` prints it: `{ path=... ; argv[]=... ;
/// ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ;
/// status=0/0 }`; the `...Ex=` form has `flags=` (systemd's flag names) instead of
/// `ignore_errors=`. `code=(null)` is what systemctl prints before the command exited.
fn exec_command_line(cmd: &ExecCommand, run: CommandRun, ex: bool) -> String {
    let middle = if ex {
        let f = &cmd.flags;
        let flags: Vec<&str> = [
            (f.ignore_failure, "ignore-failure"),
            (f.privileged, "privileged"),
            (f.no_setuid, "no-setuid"),
            (f.ambient_fallback, "ambient"),
            (f.no_env_expand, "no-env-expand"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| name)
        .collect();
        format!("flags={}", flags.join(" "))
    } else {
        format!("ignore_errors={}", yes_no(cmd.flags.ignore_failure))
    };
    let (code, status) = match run.exit {
        None => ("(null)".to_string(), "0/0".to_string()),
        Some(ExitStatus::Exited(c)) => ("exited".to_string(), c.to_string()),
        Some(ExitStatus::Killed {
            signal,
            core_dumped,
        }) => (
            if core_dumped { "dumped" } else { "killed" }.to_string(),
            format!("{signal}/{}", signal_word(signal)),
        ),
    };
    format!(
        "{{ path={} ; argv[]={} ; {middle} ; start_time=[n/a] ; stop_time=[n/a] ; pid={} ; code={code} ; status={status} }}",
        cmd.path,
        cmd.argv.join(" "),
        run.pid
    )
}

/// systemd's `shell_maybe_quote`: a word with whitespace, a control character or one of
/// `"\`$*?['()<>|&;!` is put in double quotes, with `"\`$` escaped by a backslash;
/// anything else is printed as it is.
pub(crate) fn shell_maybe_quote(s: &str) -> String {
    let needs = s
        .chars()
        .any(|c| c < ' ' || c == '\u{7f}' || " \t\n\r\"\\`$*?['()<>|&;!".contains(c));
    if !needs {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '`' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// How `systemctl show` prints a property, which decides when it is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    /// A string: left out when empty, unless named or `--all`; one with a newline is
    /// `[unprintable]`, as it would break the `Key=value` lines.
    Str(String),
    /// A number, boolean, time span or enum: always printed.
    Fixed(String),
    /// A list of strings: each word shell-quoted when needed, space-separated; left out
    /// when empty, unless named or `--all`.
    List(Vec<String>),
    /// One `Key=value` line per entry (`Exec*=`, `EnvironmentFiles=`): nothing when empty,
    /// even when named.
    Lines(Vec<String>),
    /// Unset: left out, unless named or `--all`, then printed as this text (`[not set]`).
    Unset(&'static str),
}

/// The properties of one object in `systemctl show`'s order.
#[derive(Debug, Default)]
struct Props(Vec<(String, Value)>);

impl Props {
    fn str(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_string(), Value::Str(value.into())));
    }

    fn fixed(&mut self, name: &str, value: impl ToString) {
        self.0
            .push((name.to_string(), Value::Fixed(value.to_string())));
    }

    fn yes_no(&mut self, name: &str, value: bool) {
        self.fixed(name, yes_no(value));
    }

    fn span(&mut self, name: &str, usec: u64) {
        self.fixed(name, format_timespan(usec));
    }

    fn list(&mut self, name: &str, words: Vec<String>) {
        self.0.push((name.to_string(), Value::List(words)));
    }

    fn lines(&mut self, name: &str, lines: Vec<String>) {
        self.0.push((name.to_string(), Value::Lines(lines)));
    }

    /// `NAME=` (wall clock) and `NAMEMonotonic=`, as each of systemd's dual timestamps.
    fn timestamp(&mut self, name: &str, t: DualTimestamp) {
        self.str(name, show_timestamp(Some(t.realtime)));
        self.fixed(&format!("{name}Monotonic"), t.monotonic);
    }

    /// A counter read from the unit's cgroup: `[not set]` when it cannot be read.
    fn counter(&mut self, name: &str, value: Option<u64>) {
        match value {
            Some(v) => self.fixed(name, v),
            None => self
                .0
                .push((name.to_string(), Value::Fixed("[not set]".into()))),
        }
    }

    /// The lines `show` prints: the `wanted` properties (empty or not) or, without any,
    /// every property with a value, or every property with `all`.
    fn render(self, wanted: &[String], all: bool) -> Vec<(String, String)> {
        let show_empty = all || !wanted.is_empty();
        let mut out = Vec::new();
        for (name, value) in self.0 {
            if !wanted.is_empty() && !wanted.contains(&name) {
                continue;
            }
            match value {
                Value::Fixed(v) => out.push((name, v)),
                Value::Str(v) if v.is_empty() && !show_empty => {}
                Value::Str(v) if v.contains('\n') => out.push((name, "[unprintable]".into())),
                Value::Str(v) => out.push((name, v)),
                Value::List(v) if v.is_empty() && !show_empty => {}
                Value::List(v) => {
                    let words: Vec<String> = v.iter().map(|w| shell_maybe_quote(w)).collect();
                    out.push((name, words.join(" ")));
                }
                Value::Lines(v) => out.extend(v.into_iter().map(|l| (name.clone(), l))),
                Value::Unset(_) if !show_empty => {}
                Value::Unset(text) => out.push((name, text.to_string())),
            }
        }
        out
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
    ("SliceOf", Dependency::SliceOf),
];

/// The command line of a process as systemd shows it in process trees: its arguments
/// joined by spaces, or `[comm]` for a process without one (a kernel thread, a zombie);
/// cut to `max` characters.
fn process_command_line(pid: u32, max: usize) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let words: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let line = if words.is_empty() {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        format!("[{}]", comm.trim_end())
    } else {
        words.join(" ")
    };
    if line.chars().count() > max {
        let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        line
    }
}

/// The cgroup2 mount and the manager's own group (`0::` of `/proc/self/cgroup`).
fn own_cgroup() -> Option<(PathBuf, String)> {
    let mount = sys::cgroup::find_cgroup2()?;
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let own = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))?
        .to_string();
    Some((mount, own))
}

/// Where the manager makes its units' groups, by the rule `daemon::setup_cgroups`
/// follows: its own group when that is the root and the runtime directory is the default
/// one (the system manager), else `sysmaster<runtime dir, non-alphanumerics as dashes>`
/// below its own group. `None` when that directory does not exist (no cgroups).
fn units_cgroup(runtime_dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let (mount, own) = own_cgroup()?;
    let own_path = mount.join(own.trim_start_matches('/'));
    let base = if own == "/" && runtime_dir == Path::new("/run/sysmaster") {
        own_path
    } else {
        let tag: String = runtime_dir
            .display()
            .to_string()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        own_path.join(format!("sysmaster{tag}"))
    };
    base.is_dir().then_some((mount, base))
}

/// The directory of a slice's group below the units' group, nested by the dashes of its
/// name as `daemon::cgroup_relative` nests them (`a-b.slice` in `a.slice`; `-.slice` is the
/// units' group itself). `None` for a unit that is not a slice.
fn slice_cgroup(base: &Path, name: &str) -> Option<PathBuf> {
    let stem = name.strip_suffix(".slice")?;
    if stem == "-" {
        return Some(base.to_path_buf());
    }
    let mut dir = base.to_path_buf();
    let mut prefix = String::new();
    for part in stem.split('-') {
        if !prefix.is_empty() {
            prefix.push('-');
        }
        prefix.push_str(part);
        dir.push(format!("{prefix}.slice"));
    }
    Some(dir)
}

/// A group's path as systemd names it: relative to the cgroup2 mount, with a leading `/`.
fn cgroup_name(mount: &Path, path: &Path) -> String {
    match path.strip_prefix(mount) {
        Ok(rel) if rel.as_os_str().is_empty() => "/".to_string(),
        Ok(rel) => format!("/{}", rel.display()),
        Err(_) => path.display().to_string(),
    }
}

/// The pids in a group's `cgroup.procs`, sorted.
fn cgroup_pids(dir: &Path) -> Vec<u32> {
    let text = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    let mut pids: Vec<u32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Whether a group or one below it holds a process (`populated 1` in `cgroup.events`).
fn cgroup_populated(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("cgroup.events"))
        .map(|t| t.lines().any(|l| l == "populated 1"))
        .unwrap_or(false)
}

/// Counts what a tree walk may still add, so that the tree stays bounded.
struct TreeBudget {
    groups: usize,
    processes: usize,
}

/// The process tree below `dir` as systemctl draws it: the group's processes, then its
/// populated subgroups in name order, recursively (bounded by [`TREE_MAX_DEPTH`] and the
/// budget).
fn cgroup_tree(dir: &Path, name: String, depth: usize, budget: &mut TreeBudget) -> CgroupNode {
    let mut node = CgroupNode {
        name,
        processes: Vec::new(),
        children: Vec::new(),
    };
    for pid in cgroup_pids(dir) {
        if budget.processes == 0 {
            break;
        }
        budget.processes -= 1;
        node.processes
            .push((pid, process_command_line(pid, TREE_MAX_COMMAND)));
    }
    if depth >= TREE_MAX_DEPTH {
        return node;
    }
    let mut subgroups: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect()
        })
        .unwrap_or_default();
    subgroups.sort();
    for (child_name, path) in subgroups {
        if budget.groups == 0 {
            break;
        }
        if !cgroup_populated(&path) {
            continue;
        }
        budget.groups -= 1;
        node.children
            .push(cgroup_tree(&path, child_name, depth + 1, budget));
    }
    node
}

/// A number from a cgroup attribute file: the whole file (`memory.current`,
/// `pids.current`) or the value of one key (`usage_usec` of `cpu.stat`).
fn cgroup_number(dir: &Path, file: &str, key: Option<&str>) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join(file)).ok()?;
    match key {
        None => text.trim().parse().ok(),
        Some(k) => text.lines().find_map(|l| {
            let (name, value) = l.split_once(' ')?;
            (name == k).then(|| value.trim().parse().ok()).flatten()
        }),
    }
}

/// When this process started, µs since the epoch: its start in clock ticks after boot
/// (`/proc/self/stat`) plus the boot time (`btime` of `/proc/stat`). Linux reports both in
/// `USER_HZ`, which is 100 on every architecture it exports to user space.
fn process_start_usec() -> Option<u64> {
    const USER_HZ: u64 = 100;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let (_, after_comm) = stat.rsplit_once(')')?;
    // Field 22 of stat; after the command name the fields start at 3 (the state).
    let ticks: u64 = after_comm.split_ascii_whitespace().nth(19)?.parse().ok()?;
    let boot: u64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(boot * 1_000_000 + ticks * (1_000_000 / USER_HZ))
}

/// This process's nice level (field 19 of `/proc/self/stat`), which a service without
/// `Nice=` inherits.
fn own_nice() -> i32 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let (_, after) = s.rsplit_once(')')?;
            after.split_ascii_whitespace().nth(16)?.parse().ok()
        })
        .unwrap_or(0)
}

/// This process's `oom_score_adj`, which a service without `OOMScoreAdjust=` inherits.
fn own_oom_score_adjust() -> i32 {
    std::fs::read_to_string("/proc/self/oom_score_adj")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// A string from a request, shortened and escaped for an error message.
fn quoted(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() > MAX {
        let head: String = s.chars().take(MAX).collect();
        format!("{:?}…", head)
    } else {
        format!("{s:?}")
    }
}

/// Checks a request's fields before it is carried out: bounded lists and words, valid
/// unit names. The error names the field and what is wrong with it.
fn validate(call: &Call) -> Result<(), String> {
    fn list<T>(field: &str, v: &[T]) -> Result<(), String> {
        if v.len() > MAX_LIST {
            return Err(format!(
                "too many entries in {field}: {} (at most {MAX_LIST})",
                v.len()
            ));
        }
        Ok(())
    }
    fn words(field: &str, v: &[String], max: usize) -> Result<(), String> {
        list(field, v)?;
        for w in v {
            if w.is_empty() || w.len() > max || w.contains('\0') {
                return Err(format!(
                    "invalid entry in {field}: {} (empty, longer than {max} bytes, or with a NUL)",
                    quoted(w)
                ));
            }
        }
        Ok(())
    }
    fn names(field: &str, v: &[String]) -> Result<(), String> {
        list(field, v)?;
        for n in v {
            match UnitName::parse(n) {
                Ok(name) if name.is_template() => {
                    return Err(format!(
                    "invalid unit name in {field}: {} is a template; an instance name is needed",
                    quoted(n)
                ))
                }
                Ok(_) => {}
                Err(e) => return Err(format!("invalid unit name in {field}: {}: {e}", quoted(n))),
            }
        }
        Ok(())
    }
    match call {
        Call::Kill { units, signal, .. } => {
            if !(1..=64).contains(signal) {
                return Err(format!(
                    "invalid signal in signal: {signal} (a signal number from 1 to 64)"
                ));
            }
            names("units", units)
        }
        Call::Job { units, .. }
        | Call::ResetFailed { units }
        | Call::Status { units }
        | Call::Files { units } => names("units", units),
        Call::Show {
            units, properties, ..
        } => {
            names("units", units)?;
            words("properties", properties, MAX_WORD)
        }
        Call::Logs { unit, .. } => names("unit", std::slice::from_ref(unit)),
        Call::WaitJobs { jobs } | Call::CancelJobs { jobs } => list("jobs", jobs),
        Call::ListUnits {
            patterns,
            states,
            types,
            ..
        } => {
            words("patterns", patterns, MAX_WORD)?;
            words("states", states, MAX_WORD)?;
            words("types", types, MAX_WORD)
        }
        Call::ListUnitFiles { patterns } => words("patterns", patterns, MAX_WORD),
        // Names or paths (`enable /path/to/a.service`); `unitfiles` checks them further.
        Call::UnitFileChange { units, .. } => words("units", units, MAX_PATH),
        Call::SetDefault { unit } => words("unit", std::slice::from_ref(unit), MAX_PATH),
        Call::Ping
        | Call::ListJobs
        | Call::SystemStatus
        | Call::GetDefault
        | Call::DaemonReload
        | Call::DaemonReexec
        | Call::ReexecInit
        | Call::Shutdown { .. } => Ok(()),
    }
}

/// systemd's D-Bus error for a refusal, where systemctl's exit status or hint depends on
/// it. The job engine words its refusals exactly as systemd does, so the text tells which
/// one it is.
fn bus_error_of(kind: ErrorKind, message: &str) -> Option<&'static str> {
    Some(match kind {
        ErrorKind::NoSuchUnit => "org.freedesktop.systemd1.NoSuchUnit",
        ErrorKind::PermissionDenied => "org.freedesktop.DBus.Error.AccessDenied",
        _ if message == "Operation refused, unit may not be isolated." => {
            "org.freedesktop.systemd1.NoIsolation"
        }
        _ if message.contains(" may be requested by dependency only ") => {
            "org.freedesktop.systemd1.OnlyByDependency"
        }
        _ if message.starts_with("Job type ")
            && message.contains(" is not applicable for unit ") =>
        {
            "org.freedesktop.systemd1.JobTypeNotApplicable"
        }
        _ if message.starts_with("Transaction for ") && message.contains(" is destructive ") => {
            "org.freedesktop.systemd1.TransactionIsDestructive"
        }
        _ if message.starts_with("Transaction contains conflicting jobs ") => {
            "org.freedesktop.systemd1.TransactionJobsConflicting"
        }
        _ if message.starts_with("Transaction order is cyclic.") => {
            "org.freedesktop.systemd1.TransactionOrderIsCyclic"
        }
        _ if message.starts_with("Unit ") && message.ends_with(" is masked.") => {
            "org.freedesktop.systemd1.UnitMasked"
        }
        _ if message.starts_with("Unit ") && message.ends_with(" has a bad unit file setting.") => {
            "org.freedesktop.systemd1.BadUnitSetting"
        }
        _ => return None,
    })
}

/// A refusal, with systemd's D-Bus error name when there is one.
fn refusal(kind: ErrorKind, message: impl Into<String>) -> Reply {
    let message = message.into();
    match bus_error_of(kind, &message) {
        Some(name) => Reply::error_named(kind, name, message),
        None => Reply::error(kind, message),
    }
}

/// systemd's `DefaultStartLimitIntervalSec=` and `DefaultStartLimitBurst=`.
const DEFAULT_START_LIMIT_INTERVAL: u64 = 10_000_000;
const DEFAULT_START_LIMIT_BURST: u32 = 5;

/// The times `show` reports for a unit (see [`Timestamps::guessed`]).
fn timestamps_of(unit: &Unit, now: DualTimestamp) -> Timestamps {
    Timestamps::guessed(unit.active_state(), unit.state_change_usec, now)
}

/// `LoadError=` of a unit that did not load: the D-Bus error systemd would answer a call
/// on it with, and its message.
fn load_error(unit: &Unit) -> String {
    use unitfile::load::LoadState;
    let id = &unit.name;
    match unit.loaded.load_state {
        LoadState::Loaded => String::new(),
        LoadState::NotFound => {
            format!("org.freedesktop.systemd1.NoSuchUnit \"Unit {id} not found.\"")
        }
        LoadState::BadSetting => format!(
            "org.freedesktop.systemd1.BadUnitSetting \"Unit {id} has a bad unit file setting.\""
        ),
        LoadState::Error => format!(
            "org.freedesktop.DBus.Error.InvalidArgs \"Unit {id} failed to load properly, please adjust/correct and reload service manager: Invalid argument\""
        ),
        LoadState::Masked => {
            format!("org.freedesktop.systemd1.UnitMasked \"Unit {id} is masked.\"")
        }
    }
}

/// The exec context properties `show` reports, in systemd's order
/// (`org.freedesktop.systemd1.Service`'s exec part).
fn exec_context_properties(section: &unitfile::model::Service, p: &mut Props) {
    let exec = &section.exec;
    p.list(
        "Environment",
        exec.environment
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
    );
    p.lines(
        "EnvironmentFiles",
        exec.environment_files
            .iter()
            .map(|f| format!("{} (ignore_errors={})", f.path, yes_no(f.optional)))
            .collect(),
    );
    p.list("PassEnvironment", exec.pass_environment.clone());
    p.list("UnsetEnvironment", exec.unset_environment.clone());
    p.fixed("UMask", format!("{:04o}", exec.umask.unwrap_or(0o022)));
    let working_directory = exec
        .working_directory
        .as_ref()
        .map(|w| {
            let path = if w.home { "~" } else { w.path.as_str() };
            if w.missing_ok {
                format!("!{path}")
            } else {
                path.to_string()
            }
        })
        .unwrap_or_default();
    p.str("WorkingDirectory", working_directory);
    p.str(
        "RootDirectory",
        exec.root_directory.clone().unwrap_or_default(),
    );
    p.fixed(
        "OOMScoreAdjust",
        exec.oom_score_adjust.unwrap_or_else(own_oom_score_adjust),
    );
    p.fixed("Nice", exec.nice.unwrap_or_else(own_nice));
    p.str(
        "StandardInput",
        exec.standard_input.as_ref().map_or("null", input_name),
    );
    // systemd's defaults: output to the journal (here: the manager's capture), errors
    // where the output goes.
    p.str(
        "StandardOutput",
        exec.standard_output.as_ref().map_or("journal", output_name),
    );
    p.str(
        "StandardError",
        exec.standard_error.as_ref().map_or("inherit", output_name),
    );
    p.str("TTYPath", exec.tty_path.clone().unwrap_or_default());
    p.str(
        "SyslogIdentifier",
        exec.syslog_identifier.clone().unwrap_or_default(),
    );
    p.str("User", exec.user.clone().unwrap_or_default());
    p.str("Group", exec.group.clone().unwrap_or_default());
    p.list("SupplementaryGroups", exec.supplementary_groups.clone());
    p.str("PAMName", exec.pam_name.clone().unwrap_or_default());
    p.yes_no("IgnoreSIGPIPE", exec.ignore_sigpipe.unwrap_or(true));
}

/// The kill context properties, in systemd's order.
fn kill_context_properties(
    s: &units::service::Service,
    section: &unitfile::model::Service,
    p: &mut Props,
) {
    let c = s.config();
    p.str("KillMode", kill_mode_name(c.kill_mode()));
    p.fixed("KillSignal", c.kill_signal());
    p.fixed(
        "RestartKillSignal",
        section.kill.restart_kill_signal.unwrap_or(c.kill_signal()),
    );
    p.fixed("FinalKillSignal", c.final_kill_signal());
    p.yes_no("SendSIGKILL", c.send_sigkill());
    p.yes_no("SendSIGHUP", c.send_sighup());
    p.fixed("WatchdogSignal", c.watchdog_signal());
}

impl Daemon {
    pub(crate) fn accept_clients(&mut self) {
        loop {
            let stream = match self.listener_accept() {
                Some(s) => s,
                None => return,
            };
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let Ok(cred) = sys::event::peer_credentials(stream.as_fd()) else {
                continue;
            };
            if !self.make_room(cred.uid) {
                continue;
            }
            self.clients.push(Client {
                stream,
                decoder: Decoder::new(),
                out: Vec::new(),
                uid: cred.uid,
                waiting: None,
                eof: false,
                dead: false,
                last_active: Instant::now(),
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
                        c.last_active = Instant::now();
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
        self.limit_pending();
        self.process_requests(i);
    }

    /// Makes room for a new client of `uid`, dropping the client idle longest where the
    /// limits are reached; false when the newcomer has to be turned away. Users other than
    /// root share fewer slots than there are, and a client waiting for jobs is dropped only
    /// to make room for root, so that no other user can lock root out, even by waiting.
    /// Clients are only marked here, never removed, so that the indices the loop polls with
    /// stay valid; `flush_clients` removes the dead at the end of the turn.
    fn make_room(&mut self, uid: u32) -> bool {
        let live = |c: &&mut Client| !c.dead;
        let unprivileged = self
            .clients
            .iter()
            .filter(|c| !c.dead && c.uid != 0)
            .count();
        if uid != 0 && unprivileged >= MAX_UNPRIVILEGED_CLIENTS {
            let victim = self
                .clients
                .iter_mut()
                .filter(live)
                .filter(|c| c.uid != 0 && c.evictable())
                .min_by_key(|c| c.last_active);
            match victim {
                Some(v) => v.dead = true,
                None => return false,
            }
        }
        if self.clients.iter().filter(|c| !c.dead).count() < MAX_CLIENTS {
            return true;
        }
        let victim = self
            .clients
            .iter_mut()
            .filter(live)
            .filter(|c| c.evictable())
            .min_by_key(|c| c.last_active);
        if let Some(v) = victim {
            v.dead = true;
            return true;
        }
        if uid != 0 {
            return false;
        }
        let waiting = self
            .clients
            .iter_mut()
            .filter(live)
            .filter(|c| c.uid != 0)
            .min_by_key(|c| c.last_active);
        match waiting {
            Some(v) => {
                v.dead = true;
                true
            }
            None => false,
        }
    }

    /// Drops the clients with the largest incomplete messages while all of them together
    /// hold more than [`MAX_PENDING_TOTAL`].
    fn limit_pending(&mut self) {
        loop {
            let total: usize = self
                .clients
                .iter()
                .filter(|c| !c.dead)
                .map(|c| c.decoder.pending())
                .sum();
            if total <= MAX_PENDING_TOTAL {
                return;
            }
            let victim = self
                .clients
                .iter_mut()
                .filter(|c| !c.dead && c.evictable())
                .max_by_key(|c| c.decoder.pending());
            match victim {
                Some(v) => v.dead = true,
                None => return,
            }
        }
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
            let reply = match frame::decode_request(&frame) {
                Ok(req) => self.call(i, uid, req.call),
                Err(FrameError::Version(v)) => Some(Reply::error(
                    ErrorKind::Version,
                    FrameError::Version(v).to_string(),
                )),
                Err(e) => Some(Reply::error(ErrorKind::BadRequest, e.to_string())),
            };
            // What a client is told is durable first (a job id, a reset, a shutdown).
            if reply.is_some() {
                self.persist();
            }
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
                    .map_err(|m| refusal(ErrorKind::NoSuchUnit, m))
            })
            .collect()
    }

    /// One call; `None` when the reply comes later (`WaitJobs`).
    fn call(&mut self, client: usize, uid: u32, call: Call) -> Option<Reply> {
        if let Err(problem) = validate(&call) {
            return Some(Reply::error(ErrorKind::BadRequest, problem));
        }
        if call.changes_state() && uid != 0 {
            return Some(refusal(
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
                        // systemctl's `output_show_unit`: without --all and --state, inactive
                        // units without a job are left out (failed ones are shown).
                        let shown = all
                            || !states.is_empty()
                            || u.active_state() != ActiveState::Inactive
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
                // No job named: every job, as `systemctl cancel` without arguments.
                let jobs = if jobs.is_empty() {
                    self.engine.jobs().map(|j| j.id.0).collect()
                } else {
                    jobs
                };
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
            Call::Show {
                units,
                properties,
                all,
            } => self.call_show(&units, &properties, all),
            Call::SystemStatus => Reply::ok(Answer::SystemStatus(Box::new(self.system_status()))),
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
            Call::Shutdown { kind } => {
                let objective = crate::shutdown::Objective::from_request(kind);
                self.request_shutdown(
                    objective,
                    crate::shutdown::Procedure::Orderly,
                    &format!("{} requested by uid {uid}", objective.target()),
                );
                Reply::ok(Answer::Done)
            }
            Call::DaemonReexec => {
                self.daemon_reexec();
                Reply::ok(Answer::Done)
            }
            Call::ReexecInit => match self.reexec_init() {
                Ok(()) => Reply::ok(Answer::Done),
                Err(e) => Reply::error(ErrorKind::Failed, e),
            },
        };
        Some(reply)
    }

    fn call_job(&mut self, verb: JobVerb, units: &[String], mode: proto::JobMode) -> Reply {
        if self.shutting_down.is_some() {
            return Reply::error(ErrorKind::Failed, "The manager is shutting down.");
        }
        let mut infos = Vec::new();
        for name in units {
            let u = match self.reg.load(name) {
                Ok(u) => u,
                Err(m) => return refusal(ErrorKind::NoSuchUnit, m),
            };
            let can_reload = jobs::Units::can_reload(&self.reg, u);
            let t = job_type_of(verb, can_reload);
            // systemd refuses to stop a unit that is neither loaded nor running with these
            // words (`bus_unit_queue_job`), before any transaction.
            if t == JobType::Stop {
                if let Some(unit) = self.reg.unit(u) {
                    let unloaded = matches!(
                        unit.loaded.load_state,
                        unitfile::load::LoadState::NotFound
                            | unitfile::load::LoadState::Error
                            | unitfile::load::LoadState::BadSetting
                    );
                    if unloaded && unit.active_state() == ActiveState::Inactive {
                        return refusal(
                            ErrorKind::NoSuchUnit,
                            format!("Unit {} not loaded.", unit.name),
                        );
                    }
                }
            }
            let mode = job_mode_of(verb, mode);
            match self.enqueue(name, t, mode, true) {
                Ok(id) => {
                    let info = self
                        .job_info(id)
                        .unwrap_or_else(|| self.finished_job_info(id.0));
                    infos.push(info);
                }
                Err((kind, message)) => return refusal(kind, message),
            }
        }
        Reply::ok(Answer::Jobs(infos))
    }

    fn call_kill(&mut self, units: &[String], whom: KillWhom, signal: i32) -> Reply {
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
        if matches!(
            self.reg.unit(u).map(|x| &x.runtime),
            Some(Runtime::Mount(_))
        ) {
            self.mount_reset_failed(u);
        }
    }

    /// `daemon-reload`: the search path is scanned again and every unit without a job is
    /// loaded again.
    fn reload_unit_files(&mut self) {
        // Every unit takes its new configuration, also one with a pending job: a job keeps
        // its unit id, and a unit's runtime keeps its state (see `Registry::reload`).
        self.rerun_generators();
        self.reg.reload(|_| true);
        // Edges from SYSTEMD_WANTS= live in no unit file: read them again.
        self.coldplug_devices();
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
    fn call_show(&mut self, units: &[String], wanted: &[String], all: bool) -> Reply {
        if units.is_empty() {
            return Reply::ok(Answer::Properties(vec![self
                .manager_properties()
                .render(wanted, all)]));
        }
        let ids = match self.lookup_units(units) {
            Ok(ids) => ids,
            Err(r) => return r,
        };
        let paths = self.unit_file_paths();
        let host = HostFacts::from_system();
        let now = now_dual();
        let blocks = ids
            .into_iter()
            .map(|u| {
                self.unit_properties(u, &paths, &host, now)
                    .render(wanted, all)
            })
            .collect();
        Reply::ok(Answer::Properties(blocks))
    }

    /// `SystemState=`: `stopping` once going down, `starting` while jobs are queued,
    /// `degraded` with a failed unit, else `running`.
    fn system_state(&self) -> &'static str {
        if self.shutting_down.is_some() {
            "stopping"
        } else if self.engine.jobs().next().is_some() {
            "starting"
        } else if self.failed_units() > 0 {
            "degraded"
        } else {
            "running"
        }
    }

    fn failed_units(&self) -> usize {
        self.reg
            .units()
            .filter(|u| u.active_state() == ActiveState::Failed)
            .count()
    }

    /// `NNames=`: the loaded units, each of their names counted.
    fn name_count(&self) -> usize {
        self.reg.units().map(|u| u.loaded.names.len().max(1)).sum()
    }

    /// The manager's own properties (`sctl show` without a unit), in the order of
    /// systemd's `org.freedesktop.systemd1.Manager`.
    fn manager_properties(&self) -> Props {
        let mut p = Props::default();
        p.str("Version", env!("CARGO_PKG_VERSION"));
        let started = process_start_usec().unwrap_or(0);
        p.timestamp(
            "UserspaceTimestamp",
            DualTimestamp::from_realtime(started, now_dual()),
        );
        p.fixed("NNames", self.name_count());
        p.fixed("NFailedUnits", self.failed_units());
        p.fixed("NJobs", self.engine.jobs().count());
        let dirs: Vec<String> = self
            .unit_dirs()
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        p.list("UnitPath", dirs);
        p.str("SystemState", self.system_state());
        p
    }

    /// `sctl status` without a unit.
    fn system_status(&self) -> SystemStatus {
        let host = HostFacts::from_system()
            .hostname
            .unwrap_or_else(|| "localhost".to_string());
        let cgroup = units_cgroup(&self.runtime_dir).map(|(mount, base)| {
            let mut budget = TreeBudget {
                groups: TREE_MAX_GROUPS,
                processes: TREE_MAX_PROCESSES,
            };
            cgroup_tree(&base, cgroup_name(&mount, &base), 0, &mut budget)
        });
        SystemStatus {
            host,
            state: self.system_state().to_string(),
            names: u32::try_from(self.name_count()).unwrap_or(u32::MAX),
            jobs: u32::try_from(self.engine.jobs().count()).unwrap_or(u32::MAX),
            failed_units: u32::try_from(self.failed_units()).unwrap_or(u32::MAX),
            since_usec: process_start_usec(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            cgroup,
        }
    }

    /// Every property `show` knows of one unit, in `systemctl show`'s order: the type's
    /// own (a service's, then its cgroup's, exec and kill contexts; a slice's cgroup),
    /// then those of every unit.
    fn unit_properties(
        &self,
        u: UnitId,
        paths: &unitfiles::Paths,
        host: &HostFacts,
        now: DualTimestamp,
    ) -> Props {
        let mut p = Props::default();
        let Some(unit) = self.reg.unit(u) else {
            return p;
        };
        if let (Some(s), Some(section)) = (unit.service(), unit.service_section()) {
            self.service_properties(unit, s, section, &mut p);
            self.cgroup_properties(u, unit, &mut p);
            exec_context_properties(section, &mut p);
            kill_context_properties(s, section, &mut p);
        } else if let Some(m) = unit.mount() {
            mount_properties(m, &mut p);
            self.cgroup_properties(u, unit, &mut p);
        } else if matches!(unit.loaded.config.kind, Kind::Slice(_)) {
            self.cgroup_properties(u, unit, &mut p);
        }
        self.common_properties(u, unit, paths, host, now, &mut p);
        p
    }

    fn service_properties(
        &self,
        unit: &Unit,
        s: &units::service::Service,
        section: &unitfile::model::Service,
        p: &mut Props,
    ) {
        let c = s.config();
        p.str("Type", service_type_name(c.service_type));
        p.str(
            "ExitType",
            match section.exit_type.unwrap_or(ExitType::Main) {
                ExitType::Main => "main",
                ExitType::Cgroup => "cgroup",
            },
        );
        p.str("Restart", restart_name(c.restart()));
        p.str("PIDFile", c.pid_file().unwrap_or_default().to_string());
        p.str("NotifyAccess", notify_access_name(c.notify_access()));
        p.span("RestartUSec", c.restart_usec());
        p.span("TimeoutStartUSec", c.timeout_start());
        p.span("TimeoutStopUSec", c.timeout_stop());
        p.span("TimeoutAbortUSec", c.timeout_abort());
        p.str(
            "TimeoutStartFailureMode",
            timeout_mode_name(c.timeout_start_failure_mode()),
        );
        p.str(
            "TimeoutStopFailureMode",
            timeout_mode_name(c.timeout_stop_failure_mode()),
        );
        p.span("RuntimeMaxUSec", c.runtime_max());
        p.span("WatchdogUSec", s.watchdog_usec().unwrap_or(0));
        p.yes_no(
            "RootDirectoryStartOnly",
            section.root_directory_start_only.unwrap_or(false),
        );
        p.yes_no("RemainAfterExit", c.remain_after_exit());
        p.yes_no("GuessMainPID", c.guess_main_pid());
        p.str(
            "RestartPreventExitStatus",
            exit_status_set(c.restart_prevent()),
        );
        p.str("RestartForceExitStatus", exit_status_set(c.restart_force()));
        p.str("SuccessExitStatus", exit_status_set(c.success_status()));
        p.fixed("MainPID", s.main_pid().unwrap_or(0));
        p.fixed("ControlPID", s.control_pid().unwrap_or(0));
        p.str("BusName", section.rare.bus_name.clone().unwrap_or_default());
        p.fixed(
            "FileDescriptorStoreMax",
            section.rare.file_descriptor_store_max.unwrap_or(0),
        );
        // The manager keeps no file descriptors for services yet.
        p.fixed("NFileDescriptorStore", 0);
        p.str("StatusText", s.status_text().unwrap_or_default());
        p.fixed("StatusErrno", s.status_errno().unwrap_or(0));
        p.str("Result", s.result().as_str());
        p.str("ReloadResult", s.reload_result().as_str());
        p.str("CleanResult", "success");
        let (uid, gid) = self.service_credentials(unit, s, section);
        match uid {
            Some(uid) => p.fixed("UID", uid),
            None => p.fixed("UID", "[not set]"),
        }
        match gid {
            Some(gid) => p.fixed("GID", gid),
            None => p.fixed("GID", "[not set]"),
        }
        p.fixed("NRestarts", s.restart_count());
        p.str(
            "OOMPolicy",
            oom_policy_name(section.oom_policy.unwrap_or(OomPolicy::Stop)),
        );
        // Start and exit times of the main process are not kept yet.
        p.timestamp("ExecMainStartTimestamp", DualTimestamp::default());
        p.timestamp("ExecMainExitTimestamp", DualTimestamp::default());
        let main_pid = s.main_pid();
        let exit = if main_pid.is_some() {
            None
        } else {
            s.main_exit()
        };
        let (code, status) = exec_main_code_status(exit);
        p.fixed("ExecMainPID", main_pid.unwrap_or(0));
        p.fixed("ExecMainCode", code);
        p.fixed("ExecMainStatus", status);
        // The main process runs the first `ExecStart=` (a oneshot's later ones run in turn;
        // which one runs now is not known here, so only the first carries the process).
        let main_run = CommandRun {
            pid: main_pid.unwrap_or(0),
            exit,
        };
        let lists: [(&str, &[ExecCommand]); 7] = [
            ("ExecCondition", c.commands(ExecKind::Condition)),
            ("ExecStartPre", c.commands(ExecKind::StartPre)),
            ("ExecStart", c.commands(ExecKind::Start)),
            ("ExecStartPost", c.commands(ExecKind::StartPost)),
            ("ExecReload", c.commands(ExecKind::Reload)),
            ("ExecStop", c.commands(ExecKind::Stop)),
            ("ExecStopPost", c.commands(ExecKind::StopPost)),
        ];
        for (name, commands) in lists {
            for ex in [false, true] {
                let lines = commands
                    .iter()
                    .enumerate()
                    .map(|(i, cmd)| {
                        let run = if name == "ExecStart" && i == 0 {
                            main_run
                        } else {
                            CommandRun::default()
                        };
                        exec_command_line(cmd, run, ex)
                    })
                    .collect();
                let key = if ex {
                    format!("{name}Ex")
                } else {
                    name.to_string()
                };
                p.lines(&key, lines);
            }
        }
    }

    /// `UID=`/`GID=`: the credentials a running service's processes have from `User=`
    /// and `Group=`; unset for a service that runs as the manager or is not running.
    fn service_credentials(
        &self,
        unit: &Unit,
        s: &units::service::Service,
        section: &unitfile::model::Service,
    ) -> (Option<u32>, Option<u32>) {
        let exec = &section.exec;
        if s.state() == units::service::ServiceState::Dead
            || (exec.user.is_none() && exec.group.is_none())
            || !unit.populated
        {
            return (None, None);
        }
        let db = crate::users::Db::load(Path::new("/"));
        let user = exec.user.as_deref().and_then(|u| db.user(u));
        let gid = match exec.group.as_deref() {
            Some(g) => db.group(g),
            None => user.as_ref().map(|u| u.gid),
        };
        (user.map(|u| u.uid), gid)
    }

    /// `Slice=`, `ControlGroup=` and what the unit's group counts (`[not set]` when the
    /// group has no such file, as systemd prints a counter its controller does not keep).
    fn cgroup_properties(&self, u: UnitId, unit: &Unit, p: &mut Props) {
        let slice = self
            .reg
            .graph
            .get(u, Dependency::InSlice)
            .next()
            .map(|s| self.reg.name_of(s))
            .unwrap_or_default();
        p.str("Slice", slice);
        let mount = sys::cgroup::find_cgroup2();
        // A slice has no group object of its own in the registry; its directory is where
        // the manager nests the groups of the units in it.
        let dir = unit
            .cgroup
            .as_ref()
            .map(|cg| cg.path().to_path_buf())
            .or_else(|| {
                let (_, base) = units_cgroup(&self.runtime_dir)?;
                let dir = slice_cgroup(&base, &unit.name)?;
                dir.is_dir().then_some(dir)
            });
        let name = match (&mount, &dir) {
            (Some(m), Some(d)) => cgroup_name(m, d),
            _ => String::new(),
        };
        p.str("ControlGroup", name);
        let id = dir.as_ref().and_then(|d| {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(d).ok().map(|m| m.ino())
        });
        p.fixed("ControlGroupId", id.unwrap_or(0));
        let read =
            |file: &str, key: Option<&str>| dir.as_ref().and_then(|d| cgroup_number(d, file, key));
        p.counter("MemoryCurrent", read("memory.current", None));
        p.counter(
            "CPUUsageNSec",
            read("cpu.stat", Some("usage_usec")).map(|us| us.saturating_mul(1000)),
        );
        p.counter("TasksCurrent", read("pids.current", None));
    }

    /// The properties of every unit, in the order of systemd's `org.freedesktop.systemd1.Unit`.
    fn common_properties(
        &self,
        u: UnitId,
        unit: &Unit,
        paths: &unitfiles::Paths,
        host: &HostFacts,
        now: DualTimestamp,
        p: &mut Props,
    ) {
        let names_of = |dep: Dependency| -> Vec<String> {
            let mut names: Vec<String> = self
                .reg
                .graph
                .get(u, dep)
                .map(|o| self.reg.name_of(o))
                .collect();
            names.sort();
            names.dedup();
            names
        };
        let config = &unit.loaded.config.unit;
        p.str("Id", unit.name.clone());
        p.list("Names", unit.loaded.names.clone());
        p.str("Following", "");
        for (key, dep) in DEPENDENCY_PROPERTIES {
            p.list(key, names_of(*dep));
        }
        p.list("RequiresMountsFor", config.rare.requires_mounts_for.clone());
        p.list("Documentation", config.rare.documentation.clone());
        p.str("Description", unit.description());
        p.str("LoadState", unit.loaded.load_state.to_string());
        let active = unit.active_state();
        p.str("ActiveState", active.to_string());
        p.str("FreezerState", "running");
        p.str("SubState", unit.sub_state());
        p.str(
            "FragmentPath",
            unit.loaded
                .fragment
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_default(),
        );
        p.str(
            "SourcePath",
            config.rare.source_path.clone().unwrap_or_default(),
        );
        p.list(
            "DropInPaths",
            unit.loaded
                .dropins
                .iter()
                .map(|d| d.display().to_string())
                .collect(),
        );
        p.str("UnitFileState", unit_file_state(unit, paths, host));
        let t = timestamps_of(unit, now);
        p.timestamp("StateChangeTimestamp", t.state_change);
        p.timestamp("InactiveExitTimestamp", t.inactive_exit);
        p.timestamp("ActiveEnterTimestamp", t.active_enter);
        p.timestamp("ActiveExitTimestamp", t.active_exit);
        p.timestamp("InactiveEnterTimestamp", t.inactive_enter);
        let loaded = unit.loaded.load_state == unitfile::load::LoadState::Loaded;
        let refuse_start = config.refuse_manual_start.unwrap_or(false);
        let refuse_stop = config.refuse_manual_stop.unwrap_or(false);
        let allow_isolate = config.allow_isolate.unwrap_or(false);
        let can_stop = jobs::Units::can_stop(&self.reg, u);
        p.yes_no("CanStart", loaded && unit.supported() && !refuse_start);
        // systemd asks only whether the type can stop, loaded or not.
        p.yes_no("CanStop", unit.supported() && can_stop && !refuse_stop);
        p.yes_no("CanReload", jobs::Units::can_reload(&self.reg, u));
        p.yes_no(
            "CanIsolate",
            loaded && unit.supported() && allow_isolate && !refuse_start,
        );
        p.list("CanClean", Vec::new());
        p.yes_no("CanFreeze", false);
        p.str(
            "Job",
            self.engine
                .job_of(u)
                .map(|j| j.id.0.to_string())
                .unwrap_or_default(),
        );
        p.yes_no(
            "StopWhenUnneeded",
            config.stop_when_unneeded.unwrap_or(false),
        );
        p.yes_no("RefuseManualStart", refuse_start);
        p.yes_no("RefuseManualStop", refuse_stop);
        p.yes_no("AllowIsolate", allow_isolate);
        p.yes_no(
            "DefaultDependencies",
            config.default_dependencies.unwrap_or(true),
        );
        p.str(
            "OnSuccessJobMode",
            config
                .on_success_job_mode
                .map_or("fail", unit_job_mode_name),
        );
        p.str(
            "OnFailureJobMode",
            config
                .on_failure_job_mode
                .map_or("replace", unit_job_mode_name),
        );
        p.yes_no("IgnoreOnIsolate", config.ignore_on_isolate.unwrap_or(false));
        p.span(
            "JobTimeoutUSec",
            config.rare.job_timeout_sec.unwrap_or(USEC_INFINITY),
        );
        p.span(
            "JobRunningTimeoutUSec",
            config.rare.job_running_timeout_sec.unwrap_or(USEC_INFINITY),
        );
        let action =
            |a: Option<EmergencyAction>| emergency_action_name(a.unwrap_or(EmergencyAction::None));
        p.str("JobTimeoutAction", action(config.job_timeout_action));
        p.str(
            "JobTimeoutRebootArgument",
            config
                .rare
                .job_timeout_reboot_argument
                .clone()
                .unwrap_or_default(),
        );
        p.str("LoadError", load_error(unit));
        p.yes_no("Transient", false);
        p.yes_no("Perpetual", !can_stop);
        let (interval, burst) = match unit.service() {
            Some(s) => (
                s.config().start_limit_interval,
                s.config().start_limit_burst,
            ),
            None => (
                config
                    .rare
                    .start_limit_interval_sec
                    .unwrap_or(DEFAULT_START_LIMIT_INTERVAL),
                config
                    .rare
                    .start_limit_burst
                    .unwrap_or(DEFAULT_START_LIMIT_BURST),
            ),
        };
        p.span("StartLimitIntervalUSec", interval);
        p.fixed("StartLimitBurst", burst);
        p.str("StartLimitAction", action(config.start_limit_action));
        p.str("FailureAction", action(config.failure_action));
        match config.failure_action_exit_status {
            Some(s) => p.fixed("FailureActionExitStatus", s),
            None => {
                p.0.push(("FailureActionExitStatus".into(), Value::Unset("[not set]")))
            }
        }
        p.str("SuccessAction", action(config.success_action));
        match config.success_action_exit_status {
            Some(s) => p.fixed("SuccessActionExitStatus", s),
            None => {
                p.0.push(("SuccessActionExitStatus".into(), Value::Unset("[not set]")))
            }
        }
        p.str(
            "RebootArgument",
            config.rare.reboot_argument.clone().unwrap_or_default(),
        );
        p.str("InvocationID", unit.invocation_id.clone());
        p.str(
            "CollectMode",
            match config.collect_mode.unwrap_or(CollectMode::Inactive) {
                CollectMode::Inactive => "inactive",
                CollectMode::InactiveOrFailed => "inactive-or-failed",
            },
        );
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
                .map(|p| (p, process_command_line(p, 4096)))
                .collect(),
            log: unit.log.last(Some(STATUS_LOG_LINES)),
        })
    }
}

/// A mount unit's own properties (systemd.mount(5) names).
fn mount_properties(m: &units::mount::Mount, p: &mut Props) {
    let c = m.config();
    p.str("Where", c.where_.clone());
    p.str("What", c.what.clone());
    p.str("Options", c.options.clone().unwrap_or_default());
    p.str("Type", c.fs_type.clone().unwrap_or_default());
    p.span("TimeoutUSec", c.timeout_usec.unwrap_or(u64::MAX));
    p.fixed("ControlPID", m.control_pid().unwrap_or(0));
    p.fixed("DirectoryMode", format!("{:04o}", c.directory_mode));
    p.yes_no("SloppyOptions", c.sloppy_options);
    p.yes_no("LazyUnmount", c.lazy_unmount);
    p.yes_no("ReadWriteOnly", c.read_write_only);
    p.yes_no("ForceUnmount", c.force_unmount);
    p.str("Result", m.result().as_str());
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
            ("a[", "a[", true),
            ("[]a]", "]", true),
            ("[!]a]", "]", false),
            ("[^a]", "b", true),
            ("*a*b", "xaxxb", true),
            ("*a*b", "xaxxbc", false),
            ("a*", "a", true),
            ("?*?", "ab", true),
            ("?*?", "a", false),
            ("sys*.s?rvice", "sysinit.service", true),
            ("", "", true),
            ("", "a", false),
        ];
        for (p, t, want) in cases {
            assert_eq!(glob(p, t), want, "{p} {t}");
        }
    }

    /// Many stars against a text that almost matches used to take exponential time in
    /// the recursive matcher; long patterns used to recurse once per character.
    #[test]
    fn glob_is_fast_and_flat_on_hostile_patterns() {
        let start = std::time::Instant::now();
        let stars = "*a".repeat(400) + "*b";
        assert!(!glob(&stars, &"a".repeat(300)));
        assert!(!glob(&"[".repeat(200_000), "x"));
        assert!(glob(&"*".repeat(100_000), "anything.service"));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    fn at(realtime: u64, monotonic: u64) -> DualTimestamp {
        DualTimestamp {
            realtime,
            monotonic,
        }
    }

    /// systemd's `unit_notify` rules, change by change.
    #[test]
    fn timestamps_follow_the_active_state() {
        use ActiveState::*;
        let mut t = Timestamps::default();
        let steps = [
            (Inactive, Activating, at(10, 1)),
            (Activating, Active, at(20, 2)),
            (Active, Reloading, at(30, 3)),
            (Reloading, Active, at(40, 4)),
            (Active, Deactivating, at(50, 5)),
            (Deactivating, Failed, at(60, 6)),
        ];
        for (old, new, when) in steps {
            t.record(old, new, when);
        }
        assert_eq!(
            t,
            Timestamps {
                state_change: at(60, 6),
                inactive_exit: at(10, 1),
                active_enter: at(20, 2),
                active_exit: at(50, 5),
                inactive_enter: at(60, 6),
            }
        );
        // Straight from inactive to active sets both at once.
        let mut t = Timestamps::default();
        t.record(Inactive, Active, at(7, 7));
        assert_eq!((t.inactive_exit, t.active_enter), (at(7, 7), at(7, 7)));
        assert_eq!(t.active_exit, DualTimestamp::default());
    }

    #[test]
    fn guessed_timestamps_come_from_the_last_change() {
        let now = at(1_000_000_000, 5_000_000);
        let active = Timestamps::guessed(ActiveState::Active, Some(999_000_000), now);
        assert_eq!(active.active_enter, at(999_000_000, 4_000_000));
        assert_eq!(active.inactive_exit, active.active_enter);
        assert_eq!(active.inactive_enter, DualTimestamp::default());
        let failed = Timestamps::guessed(ActiveState::Failed, Some(999_000_000), now);
        assert_eq!(failed.inactive_enter, at(999_000_000, 4_000_000));
        assert_eq!(failed.active_exit, failed.inactive_enter);
        assert_eq!(failed.active_enter, DualTimestamp::default());
        assert_eq!(
            Timestamps::guessed(ActiveState::Active, None, now),
            Timestamps::default()
        );
    }

    #[test]
    fn timestamps_print_in_utc_and_unset_ones_empty() {
        let cases = [
            (Some(1_704_362_400_000_000), "Thu 2024-01-04 10:00:00 UTC"),
            (Some(951_782_400_000_000), "Tue 2000-02-29 00:00:00 UTC"),
            (Some(0), ""),
            (Some(USEC_INFINITY), ""),
            (None, ""),
        ];
        for (usec, want) in cases {
            assert_eq!(show_timestamp(usec), want, "{usec:?}");
        }
    }

    #[test]
    fn list_words_are_quoted_like_shell_maybe_quote() {
        let cases = [
            ("plain.service", "plain.service"),
            ("man:sshd(8)", "\"man:sshd(8)\""),
            ("B=two words", "\"B=two words\""),
            ("a\"b$c", "\"a\\\"b\\$c\""),
            ("back\\slash", "\"back\\\\slash\""),
            ("tab\there", "\"tab\there\""),
            ("glob*", "\"glob*\""),
            ("", ""),
            ("ünïcode", "ünïcode"),
        ];
        for (word, want) in cases {
            assert_eq!(shell_maybe_quote(word), want, "{word:?}");
        }
    }

    #[test]
    fn slices_nest_their_groups_by_dashes() {
        let base = Path::new("/cg/base");
        let cases = [
            ("-.slice", Some("/cg/base")),
            ("system.slice", Some("/cg/base/system.slice")),
            (
                "system-getty.slice",
                Some("/cg/base/system.slice/system-getty.slice"),
            ),
            ("a.service", None),
        ];
        for (name, want) in cases {
            assert_eq!(slice_cgroup(base, name), want.map(PathBuf::from), "{name}");
        }
    }

    #[test]
    fn exit_status_sets_list_codes_then_signals() {
        let specs = [
            ExitStatusSpec::Signal(15),
            ExitStatusSpec::Code(3),
            ExitStatusSpec::Code(1),
            ExitStatusSpec::Signal(1),
            ExitStatusSpec::Code(3),
            ExitStatusSpec::Signal(36),
        ];
        assert_eq!(exit_status_set(&specs), "1 3 HUP TERM RTMIN+2");
        assert_eq!(exit_status_set(&[]), "");
    }

    #[test]
    fn exec_commands_print_as_systemctl_show() {
        let cmd = ExecCommand {
            path: "/bin/sleep".into(),
            argv: unitfile::exec::Argv::new(["/bin/sleep", "1000"]),
            flags: unitfile::exec::ExecFlags {
                ignore_failure: true,
                no_env_expand: true,
                ..Default::default()
            },
        };
        let cases = [
            (
                CommandRun::default(),
                false,
                "{ path=/bin/sleep ; argv[]=/bin/sleep 1000 ; ignore_errors=yes ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }",
            ),
            (
                CommandRun {
                    pid: 42,
                    exit: Some(ExitStatus::Exited(3)),
                },
                false,
                "{ path=/bin/sleep ; argv[]=/bin/sleep 1000 ; ignore_errors=yes ; start_time=[n/a] ; stop_time=[n/a] ; pid=42 ; code=exited ; status=3 }",
            ),
            (
                CommandRun {
                    pid: 42,
                    exit: Some(ExitStatus::Killed {
                        signal: 9,
                        core_dumped: false,
                    }),
                },
                true,
                "{ path=/bin/sleep ; argv[]=/bin/sleep 1000 ; flags=ignore-failure no-env-expand ; start_time=[n/a] ; stop_time=[n/a] ; pid=42 ; code=killed ; status=9/KILL }",
            ),
            (
                CommandRun {
                    pid: 7,
                    exit: Some(ExitStatus::Killed {
                        signal: 6,
                        core_dumped: true,
                    }),
                },
                false,
                "{ path=/bin/sleep ; argv[]=/bin/sleep 1000 ; ignore_errors=yes ; start_time=[n/a] ; stop_time=[n/a] ; pid=7 ; code=dumped ; status=6/ABRT }",
            ),
        ];
        for (run, ex, want) in cases {
            assert_eq!(exec_command_line(&cmd, run, ex), want);
        }
    }

    fn sample_props() -> Props {
        let mut p = Props::default();
        p.str("Id", "a.service");
        p.str("StatusText", "");
        p.str("Bad", "two\nlines");
        p.fixed("MainPID", 0);
        p.list("Wants", vec![]);
        p.list("Documentation", vec!["man:a(8)".into(), "https://x".into()]);
        p.lines("ExecStart", vec!["{ one }".into(), "{ two }".into()]);
        p.lines("ExecStop", vec![]);
        p.timestamp("ActiveExitTimestamp", DualTimestamp::default());
        p.0.push(("FailureActionExitStatus".into(), Value::Unset("[not set]")));
        p
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// `show` without options, with `--all`, and with `-p`.
    #[test]
    fn properties_render_like_systemctl_show() {
        assert_eq!(
            sample_props().render(&[], false),
            pairs(&[
                ("Id", "a.service"),
                ("Bad", "[unprintable]"),
                ("MainPID", "0"),
                ("Documentation", "\"man:a(8)\" https://x"),
                ("ExecStart", "{ one }"),
                ("ExecStart", "{ two }"),
                ("ActiveExitTimestampMonotonic", "0"),
            ])
        );
        assert_eq!(
            sample_props().render(&[], true),
            pairs(&[
                ("Id", "a.service"),
                ("StatusText", ""),
                ("Bad", "[unprintable]"),
                ("MainPID", "0"),
                ("Wants", ""),
                ("Documentation", "\"man:a(8)\" https://x"),
                ("ExecStart", "{ one }"),
                ("ExecStart", "{ two }"),
                ("ActiveExitTimestamp", ""),
                ("ActiveExitTimestampMonotonic", "0"),
                ("FailureActionExitStatus", "[not set]"),
            ])
        );
        let wanted: Vec<String> = ["Wants", "Id", "ExecStop", "Nope", "StatusText"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            sample_props().render(&wanted, false),
            pairs(&[("Id", "a.service"), ("StatusText", ""), ("Wants", "")])
        );
    }

    #[test]
    fn requests_are_checked_before_they_run() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let show = |units: Vec<String>| Call::Show {
            units,
            properties: vec![],
            all: false,
        };
        let cases: Vec<(Call, Option<&str>)> = vec![
            (
                Call::Status {
                    units: names(&["a.service"]),
                },
                None,
            ),
            (
                Call::Status {
                    units: names(&["a@.service"]),
                },
                Some("invalid unit name in units: \"a@.service\" is a template"),
            ),
            (
                Call::Status {
                    units: names(&["../x"]),
                },
                Some("invalid unit name in units: \"../x\": "),
            ),
            (
                show((0..5000).map(|i| format!("u{i}.service")).collect()),
                Some("too many entries in units: 5000 (at most 4096)"),
            ),
            (
                Call::Kill {
                    units: names(&["a.service"]),
                    whom: KillWhom::All,
                    signal: 0,
                },
                Some("invalid signal in signal: 0"),
            ),
            (
                Call::ListUnits {
                    patterns: vec!["*".repeat(2000)],
                    all: false,
                    states: vec![],
                    types: vec![],
                },
                Some("invalid entry in patterns: "),
            ),
            (
                Call::Logs {
                    unit: String::new(),
                    lines: None,
                },
                Some("invalid unit name in unit: \"\": "),
            ),
            (
                Call::UnitFileChange {
                    change: UnitFileChange::Enable,
                    units: names(&["/etc/systemd/system/a.service"]),
                },
                None,
            ),
            (
                Call::SetDefault {
                    unit: "nul\0.target".into(),
                },
                Some("invalid entry in unit: "),
            ),
            (Call::CancelJobs { jobs: vec![] }, None),
        ];
        for (call, want) in cases {
            match (validate(&call), want) {
                (Ok(()), None) => {}
                (Err(e), Some(w)) => assert!(e.starts_with(w), "{call:.80?}: {e}"),
                (got, want) => panic!("{call:.80?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn refusals_carry_systemds_bus_error_names() {
        let cases = [
            (ErrorKind::NoSuchUnit, "Unit a.service not found.", Some("org.freedesktop.systemd1.NoSuchUnit")),
            (ErrorKind::JobFailed, "Operation refused, unit may not be isolated.", Some("org.freedesktop.systemd1.NoIsolation")),
            (
                ErrorKind::JobFailed,
                "Operation refused, unit a.service may be requested by dependency only (it is configured to refuse manual start/stop).",
                Some("org.freedesktop.systemd1.OnlyByDependency"),
            ),
            (
                ErrorKind::JobFailed,
                "Job type reload is not applicable for unit a.service.",
                Some("org.freedesktop.systemd1.JobTypeNotApplicable"),
            ),
            (ErrorKind::JobFailed, "Unit a.service is masked.", Some("org.freedesktop.systemd1.UnitMasked")),
            (
                ErrorKind::JobFailed,
                "Transaction for a.service/start is destructive (b.service has 'stop' job queued, but 'start' is included in transaction).",
                Some("org.freedesktop.systemd1.TransactionIsDestructive"),
            ),
            (ErrorKind::Failed, "The manager is shutting down.", None),
        ];
        for (kind, message, want) in cases {
            assert_eq!(bus_error_of(kind, message), want, "{message}");
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
