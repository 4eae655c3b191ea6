//! Boot console status lines, as systemd prints them when it runs the machine (bootup(7)):
//! `         Starting foo.service - Foo...` when a start or stop job begins to work, and
//! `[  OK  ] Started foo.service - Foo.`, `[FAILED] Failed to start ...`,
//! `[DEPEND] Dependency failed for ...`, `[ TIME ] Timed out ...` when it ends, with the
//! wording of systemd 252 for each unit type (targets are "reached", slices "created",
//! oneshot services "finished", mounts "mounted" ...).
//!
//! The wording and the marks are pure functions of the unit's kind, the job's type and its
//! result (table-tested below); [`Console`] writes the lines to `/dev/console`, and the
//! daemon's two hooks ([`Daemon::status_job_begun`], [`Daemon::status_jobs_done`]) feed it.
//! Only the manager of the machine (under PID 1) has a console; the daemon's log lines
//! are unchanged and go where they went before.
//!
//! Choices, where systemd 252 leaves one or where we differ:
//! - A unit is named as systemd's `StatusUnitFormat=combined` does (Debian's and Fedora's
//!   build default): `name - Description`, or the name alone when it has no description.
//! - The marks are coloured (green OK, bold red FAILED and TIME, bold yellow DEPEND) unless
//!   `$TERM` is unset or `dumb`, or `$SYSTEMD_COLORS` says no, as systemd decides for PID 1.
//!   A serial console is a terminal too (the kernel gives init `TERM=linux`), and terminal
//!   emulators on its other end show colour; `systemd.log_color=0` is not read yet. Yellow
//!   is the 16-colour one (systemd uses a 256-colour khaki) so that the Linux VT shows it.
//! - Lines end in `\n`: the console's line discipline adds the carriage return.
//! - Lines are not shortened to the console's width, and nothing is ephemeral (no "A start
//!   job is running for ..." line).
//! - `systemd.show_status=` (or `sysmaster.show_status=`) on the kernel command line says
//!   whether lines are shown: `no` none, `error` only those that are not OK, anything else
//!   all of them. Without it, `quiet` means `error`, as in systemd 252 (systemd(1)). `auto`
//!   shows everything (systemd shows them once the boot is slow or something failed).
//!   Our VM image uses `loglevel=4` rather than `quiet` to silence the kernel, so that
//!   its console shows the lines.

use crate::daemon::Daemon;
use jobs::{Action, Finished, JobId, JobResult, JobType};
use std::io::Write;
use std::path::PathBuf;
use unitfile::model::service::ServiceType;
use unitfile::name::UnitType;
use units::{ActiveState, UnitId};

/// What decides a unit's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Service { oneshot: bool },
    Target,
    Slice,
    Socket,
    Mount,
    Swap,
    Device,
    Other,
}

impl Kind {
    pub fn of(unit_type: UnitType, oneshot: bool) -> Kind {
        match unit_type {
            UnitType::Service => Kind::Service { oneshot },
            UnitType::Target => Kind::Target,
            UnitType::Slice => Kind::Slice,
            UnitType::Socket => Kind::Socket,
            UnitType::Mount => Kind::Mount,
            UnitType::Swap => Kind::Swap,
            UnitType::Device => Kind::Device,
            _ => Kind::Other,
        }
    }
}

/// The word in brackets before a finished job's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Ok,
    Failed,
    Depend,
    Time,
    Info,
}

impl Mark {
    /// Six columns, so that every line's text starts in the same column.
    pub fn word(self) -> &'static str {
        match self {
            Mark::Ok => "  OK  ",
            Mark::Failed => "FAILED",
            Mark::Depend => "DEPEND",
            Mark::Time => " TIME ",
            Mark::Info => " INFO ",
        }
    }

    fn color(self) -> &'static str {
        match self {
            Mark::Ok => "\x1b[0;32m",
            Mark::Failed | Mark::Time => "\x1b[0;1;31m",
            Mark::Depend => "\x1b[0;1;33m",
            Mark::Info => "\x1b[0;1;39m",
        }
    }
}

const NORMAL: &str = "\x1b[0m";
/// Where a line without a mark starts: under the text of the marked lines.
const INDENT: &str = "         ";

/// How a unit is named in status lines: `name - Description`, or the name alone.
pub fn ident(name: &str, description: Option<&str>) -> String {
    match description {
        Some(d) if !d.is_empty() && d != name => format!("{name} - {d}"),
        _ => name.to_string(),
    }
}

/// The line shown when a job begins to work on its unit, if any (reloads are not shown on
/// the console).
pub fn begin_text(kind: Kind, job: JobType, ident: &str) -> Option<String> {
    let stop = match job {
        JobType::Start => false,
        JobType::Stop | JobType::Restart => true,
        _ => return None,
    };
    Some(match (kind, stop) {
        (Kind::Mount, false) => format!("Mounting {ident}..."),
        (Kind::Mount, true) => format!("Unmounting {ident}..."),
        (Kind::Swap, false) => format!("Activating swap {ident}..."),
        (Kind::Swap, true) => format!("Deactivating swap {ident}..."),
        (Kind::Device, false) => format!("Expecting device {ident}..."),
        (_, false) => format!("Starting {ident}..."),
        (_, true) => format!("Stopping {ident}..."),
    })
}

/// The mark and the line shown when a job ends, if any.
pub fn done_text(
    kind: Kind,
    job: JobType,
    result: JobResult,
    ident: &str,
) -> Option<(Mark, String)> {
    use JobResult as R;
    let mark = match result {
        R::Done => Mark::Ok,
        R::Failed => Mark::Failed,
        R::Dependency => Mark::Depend,
        R::Timeout => Mark::Time,
        R::Skipped => Mark::Info,
        R::Canceled | R::Invalid => return None,
    };
    let text = match (job, result, kind) {
        (JobType::Start, R::Done, Kind::Service { oneshot: true }) => format!("Finished {ident}."),
        (JobType::Start, R::Done, Kind::Target) => format!("Reached target {ident}."),
        (JobType::Start, R::Done, Kind::Slice) => format!("Created slice {ident}."),
        (JobType::Start, R::Done, Kind::Socket) => format!("Listening on {ident}."),
        (JobType::Start, R::Done, Kind::Mount) => format!("Mounted {ident}."),
        (JobType::Start, R::Done, Kind::Swap) => format!("Activated swap {ident}."),
        (JobType::Start, R::Done, Kind::Device) => format!("Found device {ident}."),
        (JobType::Start, R::Done, _) => format!("Started {ident}."),
        (JobType::Start, R::Failed, Kind::Socket) => format!("Failed to listen on {ident}."),
        (JobType::Start, R::Failed, Kind::Mount) => format!("Failed to mount {ident}."),
        (JobType::Start, R::Failed, Kind::Swap) => format!("Failed to activate swap {ident}."),
        (JobType::Start, R::Failed, _) => format!("Failed to start {ident}."),
        (JobType::Start, R::Dependency, _) => format!("Dependency failed for {ident}."),
        (JobType::Start, R::Timeout, Kind::Mount) => format!("Timed out mounting {ident}."),
        (JobType::Start, R::Timeout, Kind::Swap) => {
            format!("Timed out activating swap {ident}.")
        }
        (JobType::Start, R::Timeout, Kind::Device) => {
            format!("Timed out waiting for device {ident}.")
        }
        (JobType::Start, R::Timeout, _) => format!("Timed out starting {ident}."),
        (JobType::Stop | JobType::Restart, R::Done, Kind::Target) => {
            format!("Stopped target {ident}.")
        }
        (JobType::Stop | JobType::Restart, R::Done, Kind::Slice) => {
            format!("Removed slice {ident}.")
        }
        (JobType::Stop | JobType::Restart, R::Done, Kind::Socket) => format!("Closed {ident}."),
        (JobType::Stop | JobType::Restart, R::Done, Kind::Mount) => format!("Unmounted {ident}."),
        (JobType::Stop | JobType::Restart, R::Done, Kind::Swap) => {
            format!("Deactivated swap {ident}.")
        }
        (JobType::Stop | JobType::Restart, R::Done, _) => format!("Stopped {ident}."),
        (JobType::Stop | JobType::Restart, R::Failed, Kind::Service { .. }) => {
            format!("Stopped (with error) {ident}.")
        }
        (JobType::Stop | JobType::Restart, R::Failed, Kind::Socket) => {
            format!("Failed stopping {ident}.")
        }
        (JobType::Stop | JobType::Restart, R::Failed, Kind::Mount) => {
            format!("Failed unmounting {ident}.")
        }
        (JobType::Stop | JobType::Restart, R::Failed, Kind::Swap) => {
            format!("Failed deactivating swap {ident}.")
        }
        (JobType::Stop | JobType::Restart, R::Failed, _) => format!("Stopped {ident} with error."),
        (JobType::Stop | JobType::Restart, R::Timeout, Kind::Mount) => {
            format!("Timed out unmounting {ident}.")
        }
        (JobType::Stop | JobType::Restart, R::Timeout, Kind::Swap) => {
            format!("Timed out deactivating swap {ident}.")
        }
        (JobType::Stop | JobType::Restart, R::Timeout, _) => {
            format!("Timed out stopping {ident}.")
        }
        (JobType::VerifyActive, R::Skipped, _) => format!("{ident} is inactive."),
        // Reloads are not shown on the console; nothing else has a line.
        _ => return None,
    };
    Some((mark, text))
}

/// The hint after a failed start: how to see why.
pub fn see_details(name: &str) -> String {
    format!(
        "See 'sctl status {}' for details.",
        crate::control::shell_maybe_quote(name)
    )
}

/// One console line: the mark in brackets (coloured if asked) or the indent, the text,
/// the newline. `None` with `indent` false is a line that starts at the left edge.
pub fn render(mark: Option<Mark>, indent: bool, text: &str, color: bool) -> String {
    match mark {
        Some(m) if color => format!("[{}{}{NORMAL}] {text}\n", m.color(), m.word()),
        Some(m) => format!("[{}] {text}\n", m.word()),
        None if indent => format!("{INDENT}{text}\n"),
        None => format!("{text}\n"),
    }
}

/// Which status lines are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    All,
    /// Only lines whose mark is not OK (and their hints).
    Errors,
    None,
}

/// `systemd.show_status=` / `sysmaster.show_status=` on the kernel command line (the last
/// one wins); all lines when none is given.
pub fn show_status(cmdline: &str) -> Show {
    let mut show = None;
    let mut quiet = false;
    for word in cmdline.split_ascii_whitespace() {
        if word == "quiet" {
            quiet = true;
            continue;
        }
        let value = match word.split_once('=') {
            Some(("systemd.show_status" | "sysmaster.show_status", v)) => v,
            None if word == "systemd.show_status" || word == "sysmaster.show_status" => "yes",
            _ => continue,
        };
        show = Some(match value {
            "0" | "no" | "false" | "off" => Show::None,
            "error" => Show::Errors,
            _ => Show::All,
        });
    }
    match show {
        Some(s) => s,
        None if quiet => Show::Errors,
        None => Show::All,
    }
}

/// Whether marks are coloured: `$SYSTEMD_COLORS` when it is a boolean, else unless
/// `$TERM` is unset or `dumb`.
pub fn colors(term: Option<&str>, systemd_colors: Option<&str>) -> bool {
    match systemd_colors {
        Some("0" | "no" | "false" | "off") => return false,
        Some("1" | "yes" | "true" | "on" | "16" | "256") => return true,
        _ => {}
    }
    term.is_some_and(|t| !t.is_empty() && t != "dumb")
}

/// The console, for status lines.
#[derive(Debug)]
pub struct Console {
    show: Show,
    color: bool,
    /// `/dev/console` on a machine; `None` in a container, whose console is our standard
    /// error (the host's `/dev/console` is none of ours there).
    path: Option<PathBuf>,
}

impl Console {
    /// The console of the system we run: on a machine, `/dev/console` with what the
    /// kernel command line says about status lines (`None` when they are turned off); in
    /// a container, standard error. Colours as our environment asks.
    pub fn open(container: bool) -> Option<Console> {
        let (show, path) = if container {
            (Show::All, None)
        } else {
            let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
            (show_status(&cmdline), Some(PathBuf::from("/dev/console")))
        };
        if show == Show::None {
            return None;
        }
        let term = std::env::var("TERM").ok();
        let sc = std::env::var("SYSTEMD_COLORS").ok();
        Some(Console {
            show,
            color: colors(term.as_deref(), sc.as_deref()),
            path,
        })
    }

    /// Writes one line. The console is opened for each line, as systemd does, so that a
    /// hang-up on it never leaves us with a dead descriptor; when it cannot be opened the
    /// line goes to standard error. A write error loses the line: status lines are
    /// advisory.
    fn write(&self, line: &str) {
        let written = match &self.path {
            Some(path) => {
                sys::fd::open_for_lines(path).and_then(|mut f| f.write_all(line.as_bytes()))
            }
            None => Err(std::io::ErrorKind::NotFound.into()),
        };
        if written.is_err() {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }

    pub fn begun(&self, kind: Kind, job: JobType, ident: &str) {
        if self.show != Show::All {
            return;
        }
        if let Some(text) = begin_text(kind, job, ident) {
            self.write(&render(None, true, &text, self.color));
        }
    }

    pub fn done(&self, kind: Kind, job: JobType, result: JobResult, name: &str, ident: &str) {
        let Some((mark, text)) = done_text(kind, job, result, ident) else {
            return;
        };
        if self.show == Show::Errors && mark == Mark::Ok {
            return;
        }
        let mut line = render(Some(mark), true, &text, self.color);
        if job == JobType::Start && result == JobResult::Failed {
            line.push_str(&render(None, false, &see_details(name), self.color));
        }
        self.write(&line);
    }
}

impl Daemon {
    fn status_kind(&self, u: UnitId) -> Kind {
        let Some(unit) = self.reg.unit(u) else {
            return Kind::Other;
        };
        let oneshot = unit
            .service()
            .is_some_and(|s| s.config().service_type == ServiceType::Oneshot);
        Kind::of(unit.unit_type(), oneshot)
    }

    fn status_ident(&self, u: UnitId) -> (String, String) {
        let name = self.reg.name_of(u);
        let description = self
            .reg
            .unit(u)
            .and_then(|x| x.loaded.config.unit.description.clone());
        let ident = ident(&name, description.as_deref());
        (name, ident)
    }

    /// After a job was asked to `action` its unit: a "Starting"/"Stopping" line when the
    /// unit is now on its way (the job still runs and the unit is activating or
    /// deactivating), as systemd shows only when the unit did something that takes time:
    /// not for a target, nor for the stop half of an automatic restart.
    pub(crate) fn status_job_begun(&self, u: UnitId, id: JobId, action: Action) {
        let Some(console) = &self.console else {
            return;
        };
        let state = self.reg.unit(u).map(|x| x.active_state());
        let job = match (action, state) {
            (Action::Start, Some(ActiveState::Activating)) => JobType::Start,
            (Action::Stop, Some(ActiveState::Deactivating)) => JobType::Stop,
            _ => return,
        };
        if self.engine.job(id).is_none() {
            return;
        }
        let (_, ident) = self.status_ident(u);
        console.begun(self.status_kind(u), job, &ident);
    }

    /// Lines for finished jobs; `quiet` is a job that ended without its unit doing
    /// anything (already in the wanted state, or skipped by a condition): systemd shows
    /// no line when such a job is done (but "is inactive" when a verify-active one is
    /// skipped).
    pub(crate) fn status_jobs_done(&self, list: &[Finished], quiet: Option<JobId>) {
        let Some(console) = &self.console else {
            return;
        };
        let shown = |f: &&Finished| Some(f.id) != quiet || f.result != JobResult::Done;
        for f in list.iter().filter(shown) {
            let (name, ident) = self.status_ident(f.unit);
            console.done(
                self.status_kind(f.unit),
                f.job_type,
                f.result,
                &name,
                &ident,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVC: Kind = Kind::Service { oneshot: false };
    const ONESHOT: Kind = Kind::Service { oneshot: true };

    #[test]
    fn finished_jobs_read_as_in_systemd() {
        use JobResult as R;
        use JobType as J;
        let id = "foo.x - Foo";
        type Row = (Kind, J, R, Option<(Mark, &'static str)>);
        let table: &[Row] = &[
            (
                SVC,
                J::Start,
                R::Done,
                Some((Mark::Ok, "Started foo.x - Foo.")),
            ),
            (
                ONESHOT,
                J::Start,
                R::Done,
                Some((Mark::Ok, "Finished foo.x - Foo.")),
            ),
            (
                Kind::Target,
                J::Start,
                R::Done,
                Some((Mark::Ok, "Reached target foo.x - Foo.")),
            ),
            (
                Kind::Slice,
                J::Start,
                R::Done,
                Some((Mark::Ok, "Created slice foo.x - Foo.")),
            ),
            (
                Kind::Socket,
                J::Start,
                R::Done,
                Some((Mark::Ok, "Listening on foo.x - Foo.")),
            ),
            (
                Kind::Mount,
                J::Start,
                R::Done,
                Some((Mark::Ok, "Mounted foo.x - Foo.")),
            ),
            (
                Kind::Swap,
                J::Start,
                R::Done,
                Some((Mark::Ok, "Activated swap foo.x - Foo.")),
            ),
            (
                Kind::Device,
                J::Start,
                R::Done,
                Some((Mark::Ok, "Found device foo.x - Foo.")),
            ),
            (
                Kind::Other,
                J::Start,
                R::Done,
                Some((Mark::Ok, "Started foo.x - Foo.")),
            ),
            (
                SVC,
                J::Start,
                R::Failed,
                Some((Mark::Failed, "Failed to start foo.x - Foo.")),
            ),
            (
                ONESHOT,
                J::Start,
                R::Failed,
                Some((Mark::Failed, "Failed to start foo.x - Foo.")),
            ),
            (
                Kind::Mount,
                J::Start,
                R::Failed,
                Some((Mark::Failed, "Failed to mount foo.x - Foo.")),
            ),
            (
                Kind::Socket,
                J::Start,
                R::Failed,
                Some((Mark::Failed, "Failed to listen on foo.x - Foo.")),
            ),
            (
                Kind::Target,
                J::Start,
                R::Dependency,
                Some((Mark::Depend, "Dependency failed for foo.x - Foo.")),
            ),
            (
                SVC,
                J::Start,
                R::Dependency,
                Some((Mark::Depend, "Dependency failed for foo.x - Foo.")),
            ),
            (
                SVC,
                J::Start,
                R::Timeout,
                Some((Mark::Time, "Timed out starting foo.x - Foo.")),
            ),
            (
                Kind::Mount,
                J::Start,
                R::Timeout,
                Some((Mark::Time, "Timed out mounting foo.x - Foo.")),
            ),
            (
                Kind::Device,
                J::Start,
                R::Timeout,
                Some((Mark::Time, "Timed out waiting for device foo.x - Foo.")),
            ),
            (
                SVC,
                J::Stop,
                R::Done,
                Some((Mark::Ok, "Stopped foo.x - Foo.")),
            ),
            (
                ONESHOT,
                J::Stop,
                R::Done,
                Some((Mark::Ok, "Stopped foo.x - Foo.")),
            ),
            (
                Kind::Target,
                J::Stop,
                R::Done,
                Some((Mark::Ok, "Stopped target foo.x - Foo.")),
            ),
            (
                Kind::Slice,
                J::Stop,
                R::Done,
                Some((Mark::Ok, "Removed slice foo.x - Foo.")),
            ),
            (
                Kind::Socket,
                J::Stop,
                R::Done,
                Some((Mark::Ok, "Closed foo.x - Foo.")),
            ),
            (
                Kind::Mount,
                J::Stop,
                R::Done,
                Some((Mark::Ok, "Unmounted foo.x - Foo.")),
            ),
            (
                SVC,
                J::Stop,
                R::Failed,
                Some((Mark::Failed, "Stopped (with error) foo.x - Foo.")),
            ),
            (
                Kind::Target,
                J::Stop,
                R::Failed,
                Some((Mark::Failed, "Stopped foo.x - Foo with error.")),
            ),
            (
                SVC,
                J::Stop,
                R::Timeout,
                Some((Mark::Time, "Timed out stopping foo.x - Foo.")),
            ),
            (
                Kind::Mount,
                J::Stop,
                R::Timeout,
                Some((Mark::Time, "Timed out unmounting foo.x - Foo.")),
            ),
            (
                SVC,
                J::Restart,
                R::Done,
                Some((Mark::Ok, "Stopped foo.x - Foo.")),
            ),
            (
                SVC,
                J::VerifyActive,
                R::Skipped,
                Some((Mark::Info, "foo.x - Foo is inactive.")),
            ),
            // Not on the console: canceled jobs, reloads, invalid reloads.
            (SVC, J::Start, R::Canceled, None),
            (SVC, J::Reload, R::Done, None),
            (SVC, J::Reload, R::Failed, None),
            (SVC, J::Reload, R::Invalid, None),
            (SVC, J::Nop, R::Done, None),
            (SVC, J::VerifyActive, R::Done, None),
        ];
        for (kind, job, result, want) in table {
            let got = done_text(*kind, *job, *result, id);
            let want = want.map(|(m, t)| (m, t.to_string()));
            assert_eq!(got, want, "{kind:?} {job:?} {result:?}");
        }
    }

    #[test]
    fn beginning_jobs_read_as_in_systemd() {
        let id = "a - A";
        let table: &[(Kind, JobType, Option<&str>)] = &[
            (SVC, JobType::Start, Some("Starting a - A...")),
            (ONESHOT, JobType::Start, Some("Starting a - A...")),
            (SVC, JobType::Stop, Some("Stopping a - A...")),
            (SVC, JobType::Restart, Some("Stopping a - A...")),
            (Kind::Mount, JobType::Start, Some("Mounting a - A...")),
            (Kind::Mount, JobType::Stop, Some("Unmounting a - A...")),
            (Kind::Swap, JobType::Start, Some("Activating swap a - A...")),
            (
                Kind::Swap,
                JobType::Stop,
                Some("Deactivating swap a - A..."),
            ),
            (
                Kind::Device,
                JobType::Start,
                Some("Expecting device a - A..."),
            ),
            (Kind::Socket, JobType::Start, Some("Starting a - A...")),
            (SVC, JobType::Reload, None),
            (SVC, JobType::VerifyActive, None),
        ];
        for (kind, job, want) in table {
            assert_eq!(
                begin_text(*kind, *job, id).as_deref(),
                *want,
                "{kind:?} {job:?}"
            );
        }
    }

    #[test]
    fn units_are_named_with_their_description() {
        assert_eq!(ident("a.service", Some("Alpha")), "a.service - Alpha");
        assert_eq!(ident("a.service", None), "a.service");
        assert_eq!(ident("a.service", Some("")), "a.service");
        assert_eq!(ident("-.slice", Some("-.slice")), "-.slice");
    }

    #[test]
    fn lines_have_marks_indents_and_colours() {
        assert_eq!(
            render(Some(Mark::Ok), true, "Started a.", false),
            "[  OK  ] Started a.\n"
        );
        assert_eq!(
            render(Some(Mark::Failed), true, "Failed to start a.", false),
            "[FAILED] Failed to start a.\n"
        );
        assert_eq!(
            render(Some(Mark::Ok), true, "Started a.", true),
            "[\x1b[0;32m  OK  \x1b[0m] Started a.\n"
        );
        assert_eq!(
            render(Some(Mark::Failed), true, "x", true),
            "[\x1b[0;1;31mFAILED\x1b[0m] x\n"
        );
        assert_eq!(
            render(Some(Mark::Depend), true, "x", true),
            "[\x1b[0;1;33mDEPEND\x1b[0m] x\n"
        );
        assert_eq!(
            render(None, true, "Starting a...", true),
            "         Starting a...\n"
        );
        assert_eq!(render(None, false, "See.", true), "See.\n");
        // Every mark is as wide as the indent, so that texts line up.
        for m in [Mark::Ok, Mark::Failed, Mark::Depend, Mark::Time, Mark::Info] {
            assert_eq!(m.word().len() + 3, INDENT.len(), "{m:?}");
        }
    }

    #[test]
    fn the_hint_quotes_names_the_shell_would_split() {
        assert_eq!(
            see_details("foo.service"),
            "See 'sctl status foo.service' for details."
        );
        assert_eq!(
            see_details("dev-disk-by\\x2duuid.swap"),
            "See 'sctl status \"dev-disk-by\\\\x2duuid.swap\"' for details."
        );
        assert_eq!(
            see_details("getty@tty1.service"),
            "See 'sctl status getty@tty1.service' for details."
        );
    }

    #[test]
    fn kernel_command_line_turns_status_lines_on_and_off() {
        assert_eq!(show_status("console=ttyS0 loglevel=4"), Show::All);
        assert_eq!(show_status("console=ttyS0 quiet"), Show::Errors);
        assert_eq!(show_status("quiet systemd.show_status=1"), Show::All);
        assert_eq!(show_status("systemd.show_status=yes quiet"), Show::All);
        assert_eq!(show_status("quietly"), Show::All);
        assert_eq!(show_status("systemd.show_status=0"), Show::None);
        assert_eq!(show_status("systemd.show_status=false"), Show::None);
        assert_eq!(show_status("sysmaster.show_status=no"), Show::None);
        assert_eq!(show_status("systemd.show_status=error"), Show::Errors);
        assert_eq!(
            show_status("systemd.show_status=no systemd.show_status"),
            Show::All
        );
        assert_eq!(show_status("systemd.show_status=auto"), Show::All);
        assert_eq!(show_status("xsystemd.show_status=0"), Show::All);
    }

    #[test]
    fn colours_follow_term_and_systemd_colors() {
        assert!(colors(Some("linux"), None));
        assert!(colors(Some("vt220"), None));
        assert!(!colors(Some("dumb"), None));
        assert!(!colors(None, None));
        assert!(!colors(Some(""), None));
        assert!(!colors(Some("linux"), Some("0")));
        assert!(!colors(Some("linux"), Some("false")));
        assert!(colors(None, Some("1")));
        assert!(colors(Some("dumb"), Some("yes")));
        // A value we do not know leaves the decision to $TERM.
        assert!(colors(Some("linux"), Some("maybe")));
    }

    #[test]
    fn a_failed_start_gets_the_hint_and_errors_only_hides_ok() {
        // The writer itself, on a file standing in for the console.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console");
        std::fs::write(&path, "").unwrap();
        let console = Console {
            show: Show::Errors,
            color: false,
            path: Some(path.clone()),
        };
        console.begun(SVC, JobType::Start, "a.service - A");
        console.done(
            SVC,
            JobType::Start,
            JobResult::Done,
            "a.service",
            "a.service - A",
        );
        console.done(
            SVC,
            JobType::Start,
            JobResult::Failed,
            "b.service",
            "b.service - B",
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[FAILED] Failed to start b.service - B.\nSee 'sctl status b.service' for details.\n"
        );
    }
}
