//! The text `sctl` prints, shaped like systemctl 252's output without colours (what
//! systemctl prints when stdout is not a terminal): the `list-units` table with its `●`
//! marker and legend, `list-unit-files`, `list-jobs`, `status`, `show` and the job failure
//! messages. Everything here is a pure function from answers to strings, so the exact
//! texts are pinned by the unit tests below.

use proto::{CgroupNode, JobInfo, SystemStatus, UnitFileInfo, UnitInfo, UnitStatus};
use std::fmt::Write as _;

/// Lays out a table the way systemd's table printer does without a terminal: columns are
/// as wide as their widest cell, separated by one space, left-aligned, and the last
/// column carries no trailing spaces. Hidden columns are dropped by the caller.
pub fn table(header: Option<&[&str]>, rows: &[Vec<String>]) -> String {
    let columns = header
        .map(<[&str]>::len)
        .into_iter()
        .chain(rows.iter().map(Vec::len))
        .max()
        .unwrap_or(0);
    let mut width = vec![0usize; columns];
    let all_rows = header
        .map(|h| h.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .into_iter()
        .chain(rows.iter().cloned())
        .collect::<Vec<_>>();
    for row in &all_rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &all_rows {
        let mut line = String::new();
        for (i, (w, cell)) in width.iter().zip(row).enumerate() {
            if i > 0 {
                line.push(' ');
            }
            line.push_str(cell);
            let pad = w.saturating_sub(cell.chars().count());
            line.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Which summary line `list-units` ends with; systemctl picks it from `--all`/`--state=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// `--all`, or `--state=` includes `inactive`.
    All,
    /// Neither `--all` nor `--state=`: the hint about `--all` is added.
    Default,
    /// Filtered by `--state=`.
    States,
}

/// The black circle systemctl puts before failed units and units that did not load.
pub const FAILED_MARK: &str = "●";

/// Orders units as systemctl does: by type suffix, then by name, both case-insensitively.
pub fn unit_sort_key(name: &str) -> (String, String) {
    let suffix = name.rsplit_once('.').map(|(_, s)| s).unwrap_or("");
    (suffix.to_lowercase(), name.to_lowercase())
}

/// `list-units`: `UNIT LOAD ACTIVE SUB [JOB] DESCRIPTION` with the marker column, then the
/// legend and the count unless `legend` is off. `units` are printed in the given order.
pub fn units_list(units: &[UnitInfo], legend: bool, listing: Listing) -> String {
    let with_jobs = units.iter().any(|u| u.job.is_some());
    let rows: Vec<Vec<String>> = units
        .iter()
        .map(|u| {
            let marked = matches!(
                u.load_state.as_str(),
                "error" | "not-found" | "bad-setting" | "masked"
            ) || u.active_state == "failed";
            let mut row = vec![
                if marked { FAILED_MARK } else { " " }.to_string(),
                u.name.clone(),
                u.load_state.clone(),
                u.active_state.clone(),
                u.sub_state.clone(),
            ];
            if with_jobs {
                row.push(u.job.map(|j| j.to_string()).unwrap_or_default());
            }
            row.push(u.description.clone());
            row
        })
        .collect();
    // The marker column is one character wide even when no unit fills it.
    let header: &[&str] = if with_jobs {
        &[" ", "UNIT", "LOAD", "ACTIVE", "SUB", "JOB", "DESCRIPTION"]
    } else {
        &[" ", "UNIT", "LOAD", "ACTIVE", "SUB", "DESCRIPTION"]
    };
    let mut out = table(legend.then_some(header), &rows);
    if !legend {
        return out;
    }
    let n = units.len();
    if n > 0 {
        out.push_str(
            "\nLOAD   = Reflects whether the unit definition was properly loaded.\n\
             ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n\
             SUB    = The low-level unit activation state, values depend on unit type.\n",
        );
        if with_jobs {
            out.push_str("JOB    = Pending job for the unit.\n\n");
        }
    }
    let hint = "To show all installed unit files use 'sctl list-unit-files'.\n";
    match listing {
        Listing::All => {
            let _ = write!(out, "{n} loaded units listed.\n{hint}");
        }
        Listing::Default => {
            let _ = write!(
                out,
                "{n} loaded units listed. Pass --all to see loaded but inactive units, too.\n{hint}"
            );
        }
        Listing::States => {
            let _ = writeln!(out, "{n} loaded units listed.");
        }
    }
    out
}

/// `list-unit-files`: `UNIT FILE STATE`, then `N unit files listed.`
pub fn unit_files_list(files: &[UnitFileInfo], legend: bool) -> String {
    let rows: Vec<Vec<String>> = files
        .iter()
        .map(|f| vec![f.name.clone(), f.state.clone()])
        .collect();
    let mut out = table(legend.then_some(&["UNIT FILE", "STATE"][..]), &rows);
    if legend {
        let _ = write!(out, "\n{} unit files listed.\n", files.len());
    }
    out
}

/// `list-jobs`: `JOB UNIT TYPE STATE` and `N jobs listed.`, or `No jobs running.`
pub fn jobs_list(jobs: &[JobInfo], legend: bool) -> String {
    if jobs.is_empty() {
        return if legend {
            "No jobs running.\n".to_string()
        } else {
            String::new()
        };
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            vec![
                j.id.to_string(),
                j.unit.clone(),
                j.job_type.clone(),
                j.state.clone(),
            ]
        })
        .collect();
    let mut out = table(
        legend.then_some(&["JOB", "UNIT", "TYPE", "STATE"][..]),
        &rows,
    );
    if legend {
        let _ = write!(out, "\n{} jobs listed.\n", jobs.len());
    }
    out
}

/// The glyph `status` starts with: ● active or changing, ↻ reloading, ○ inactive,
/// × failed (systemd's `unit_active_state_to_glyph`).
pub fn state_glyph(active_state: &str) -> &'static str {
    match active_state {
        "reloading" => "↻",
        "inactive" | "maintenance" => "○",
        "failed" => "×",
        _ => "●",
    }
}

/// The reason systemctl gives on the `Loaded:` line of a unit that did not load.
fn load_reason(load_state: &str, name: &str) -> Option<String> {
    Some(match load_state {
        "not-found" => format!("Unit {name} not found."),
        "bad-setting" => format!("Unit {name} has a bad unit file setting."),
        "error" => format!("Unit {name} failed to load properly."),
        "masked" => format!("Unit {name} is masked."),
        _ => return None,
    })
}

/// The short name `Main PID:` shows in parentheses: the basename of the first word of
/// the main process's command line (systemctl reads `/proc/PID/comm`; the manager's answer
/// already carries the command line, and using it keeps `status` a pure function).
fn process_name(st: &UnitStatus, pid: u32) -> Option<String> {
    let (_, cmdline) = st.processes.iter().find(|(p, _)| *p == pid)?;
    let first = cmdline.split_whitespace().next()?;
    let base = first.rsplit('/').next().unwrap_or(first);
    Some(base.to_string())
}

/// The drop-in block of `status`: each directory once, its files after `└─`,
/// comma-separated, as systemctl groups them.
fn dropins_block(dropins: &[String], out: &mut String) {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for path in dropins {
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        let dir = if dir.is_empty() { "/" } else { dir };
        match groups.last_mut() {
            Some((d, files)) if d == dir => files.push(file.to_string()),
            _ => groups.push((dir.to_string(), vec![file.to_string()])),
        }
    }
    for (i, (dir, files)) in groups.iter().enumerate() {
        let label = if i == 0 {
            "    Drop-In: "
        } else {
            "             "
        };
        let _ = writeln!(out, "{label}{dir}");
        let _ = writeln!(out, "             └─{}", files.join(", "));
    }
}

/// `status` of one unit. `now_usec` is the wall clock in µs since the epoch, for the
/// "5min ago" part; timestamps are printed in UTC.
pub fn status(st: &UnitStatus, now_usec: u64) -> String {
    let u = &st.unit;
    let mut out = String::new();
    let _ = write!(out, "{} {}", state_glyph(&u.active_state), u.name);
    if !u.description.is_empty() && u.description != u.name {
        let _ = write!(out, " - {}", u.description);
    }
    out.push('\n');

    match (load_reason(&u.load_state, &u.name), &st.fragment) {
        (Some(reason), _) => {
            let _ = writeln!(out, "     Loaded: {} (Reason: {reason})", u.load_state);
        }
        (None, Some(path)) if !st.unit_file_state.is_empty() => {
            let _ = writeln!(
                out,
                "     Loaded: {} ({path}; {})",
                u.load_state, st.unit_file_state
            );
        }
        (None, Some(path)) => {
            let _ = writeln!(out, "     Loaded: {} ({path})", u.load_state);
        }
        (None, None) => {
            let _ = writeln!(out, "     Loaded: {}", u.load_state);
        }
    }
    dropins_block(&st.dropins, &mut out);

    let _ = write!(out, "     Active: {}", u.active_state);
    if u.sub_state != u.active_state && !u.sub_state.is_empty() {
        let _ = write!(out, " ({})", u.sub_state);
    }
    // systemctl names a result other than success right after the state.
    if let Some(result) = st.result.as_deref().filter(|r| *r != "success") {
        let _ = write!(out, " (Result: {result})");
    }
    match st.state_change_usec {
        Some(t) if t > 0 => {
            let _ = writeln!(out, " since {}; {}", timestamp(t), relative(t, now_usec));
        }
        _ => out.push('\n'),
    }

    if let Some(pid) = st.main_pid.filter(|p| *p > 0) {
        let _ = write!(out, "   Main PID: {pid}");
        if let Some(name) = process_name(st, pid) {
            let _ = write!(out, " ({name})");
        }
        out.push('\n');
    }
    if let Some(text) = &st.status_text {
        let _ = writeln!(out, "     Status: \"{text}\"");
    }
    if !st.processes.is_empty() {
        let _ = writeln!(out, "  Processes: {}", st.processes.len());
        let last = st.processes.len() - 1;
        for (i, (pid, cmdline)) in st.processes.iter().enumerate() {
            let branch = if i == last { "└─" } else { "├─" };
            let _ = writeln!(out, "             {branch}{pid} {cmdline}");
        }
    }
    if !st.log.is_empty() {
        out.push('\n');
        for line in &st.log {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// `status` without a unit: systemctl's overview of the manager (`show_system_status`),
/// with the manager's version on the line where systemctl names systemd's, and the
/// process tree of the group holding the units.
pub fn system_status(st: &SystemStatus, now_usec: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "● {}", st.host);
    let _ = writeln!(out, "    State: {}", st.state);
    let _ = writeln!(out, "    Units: {} loaded (incl. loaded aliases)", st.names);
    let _ = writeln!(out, "     Jobs: {} queued", st.jobs);
    let _ = writeln!(out, "   Failed: {} units", st.failed_units);
    match st.since_usec.filter(|&t| t > 0) {
        Some(t) => {
            let _ = writeln!(
                out,
                "    Since: {}; {}",
                timestamp(t),
                relative(t, now_usec)
            );
        }
        None => out.push_str("    Since: n/a\n"),
    }
    let _ = writeln!(out, "sysmaster: {}", st.version);
    if let Some(root) = &st.cgroup {
        let _ = writeln!(out, "   CGroup: {}", root.name);
        cgroup_tree(root, "           ", &mut out);
    }
    out
}

/// The processes and subgroups of `node` below a group line, the way systemd's
/// `show_cgroup_by_path` draws them: the group's own processes first (pids right-aligned
/// to the widest), then each subgroup with `├─`/`└─` and its contents indented under it.
pub fn cgroup_tree(node: &CgroupNode, prefix: &str, out: &mut String) {
    let width = node
        .processes
        .iter()
        .map(|(pid, _)| pid.to_string().len())
        .max()
        .unwrap_or(0);
    let more = !node.children.is_empty();
    for (i, (pid, cmdline)) in node.processes.iter().enumerate() {
        let last = !more && i + 1 == node.processes.len();
        let glyph = if last { "└─" } else { "├─" };
        let _ = writeln!(out, "{prefix}{glyph}{pid:>width$} {cmdline}");
    }
    for (i, child) in node.children.iter().enumerate() {
        let last = i + 1 == node.children.len();
        let (glyph, indent) = if last {
            ("└─", "  ")
        } else {
            ("├─", "│ ")
        };
        let _ = writeln!(out, "{prefix}{glyph}{}", child.name);
        cgroup_tree(child, &format!("{prefix}{indent}"), out);
    }
}

/// `show`: `Key=value` lines per unit, units separated by a blank line; with `--value`
/// only the values.
pub fn properties(blocks: &[Vec<(String, String)>], value_only: bool) -> String {
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for (key, value) in block {
            if value_only {
                let _ = writeln!(out, "{value}");
            } else {
                let _ = writeln!(out, "{key}={value}");
            }
        }
    }
    out
}

/// The lines `enable`/`disable`/`mask`/`unmask`/`set-default` print about the symlinks
/// they changed, as systemctl words them.
pub fn changes(changes: &[(String, String, String)]) -> String {
    let mut out = String::new();
    for (kind, path, target) in changes {
        let _ = match kind.as_str() {
            "created" | "symlink" => writeln!(out, "Created symlink {path} → {target}."),
            "removed" | "unlink" => writeln!(out, "Removed \"{path}\"."),
            "masked" => writeln!(out, "Unit {path} is masked, ignoring."),
            _ if target.is_empty() => writeln!(out, "{kind} {path}."),
            _ => writeln!(out, "{kind} {path} → {target}."),
        };
    }
    out
}

/// Quotes a unit name for the "See ..." hints when the shell would need it, so the
/// printed command can be pasted.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        return s.to_string();
    }
    let mut q = String::from("\"");
    for c in s.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// What systemctl explains for a failed service's `Result=`.
fn service_result_explanation(result: &str) -> Option<&'static str> {
    Some(match result {
        "resources" => "of unavailable resources or another system error",
        "protocol" => "the service did not take the steps required by its unit configuration",
        "timeout" => "a timeout was exceeded",
        "exit-code" => "the control process exited with error code",
        "signal" => "a fatal signal was delivered to the control process",
        "core-dump" => "a fatal signal was delivered causing the control process to dump core",
        "watchdog" => "the service failed to send watchdog ping",
        "start-limit" => "start of the service was attempted too often",
        _ => return None,
    })
}

/// Whether a finished job's result counts as success (`done`, `skipped`).
pub fn job_succeeded(result: &str) -> bool {
    matches!(result, "done" | "skipped")
}

/// The message for a job that finished with `result` (systemd's job result names), or
/// `None` when it succeeded. `service_result` is the unit's `Result=` property, which
/// systemctl reads to say why a service job failed. The hints name `sctl status` and
/// `sctl logs` where systemctl names `journalctl`.
pub fn job_failure(unit: &str, result: &str, service_result: Option<&str>) -> Option<String> {
    let q = shell_quote(unit);
    Some(match result {
        _ if job_succeeded(result) => return None,
        "canceled" => format!("Job for {unit} canceled."),
        "timeout" => format!("Job for {unit} timed out."),
        "dependency" => format!(
            "A dependency job for {unit} failed. See 'sctl list-units --failed' for details."
        ),
        "invalid" => format!("{unit} is not active, cannot reload."),
        "assert" => format!("Assertion failed on job for {unit}."),
        "unsupported" => {
            format!("Operation on or unit type of {unit} not supported on this system.")
        }
        "collected" => format!("Queued job for {unit} was garbage collected."),
        "once" => format!("Unit {unit} was started already once and can't be started again."),
        // systemctl reads a result only for services; other units just failed.
        _ if !unit.ends_with(".service") => {
            format!("Job failed. See \"sctl status {q}\" and \"sctl logs {q}\" for details.")
        }
        _ => {
            let see = format!("See \"sctl status {q}\" and \"sctl logs {q}\" for details.");
            let mut text = match service_result.and_then(service_result_explanation) {
                Some(why) => format!("Job for {unit} failed because {why}.\n{see}"),
                None => format!("Job for {unit} failed.\n{see}"),
            };
            if service_result == Some("start-limit") {
                let _ = write!(
                    text,
                    "\nTo force a start use \"sctl reset-failed {q}\"\nfollowed by \"sctl start {q}\" again."
                );
            }
            text
        }
    })
}

/// A wall-clock time in µs since the epoch as systemd prints it, in UTC:
/// `Thu 2024-01-04 10:00:00 UTC`.
pub fn timestamp(usec: u64) -> String {
    let secs = usec / 1_000_000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let weekday = WEEKDAYS.get((days % 7) as usize).copied().unwrap_or("");
    format!(
        "{weekday} {y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The Gregorian date of a day count since 1970-01-01 (the days-from-civil inverse:
/// shift to an era starting on March 1st so leap days fall at the end of a year).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// How long ago (or until) `then` is from `now`, with systemd's granularity steps:
/// `5min ago`, `1h 3min ago`, `2 days ago`, `3 weeks 1 day ago`.
pub fn relative(then: u64, now: u64) -> String {
    const SEC: u64 = 1_000_000;
    const MIN: u64 = 60 * SEC;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    const WEEK: u64 = 7 * DAY;
    const MONTH: u64 = 2_629_800 * SEC;
    const YEAR: u64 = 31_557_600 * SEC;
    let (d, s) = if now > then {
        (now - then, "ago")
    } else {
        (then - now, "left")
    };
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    if d >= YEAR {
        format!(
            "{} {} {s}",
            plural(d / YEAR, "year", "years"),
            plural(d % YEAR / MONTH, "month", "months")
        )
    } else if d >= MONTH {
        format!(
            "{} {} {s}",
            plural(d / MONTH, "month", "months"),
            plural(d % MONTH / DAY, "day", "days")
        )
    } else if d >= WEEK {
        format!(
            "{} {} {s}",
            plural(d / WEEK, "week", "weeks"),
            plural(d % WEEK / DAY, "day", "days")
        )
    } else if d >= 2 * DAY {
        format!("{} days {s}", d / DAY)
    } else if d >= 25 * HOUR {
        format!("1 day {}h {s}", (d - DAY) / HOUR)
    } else if d >= 6 * HOUR {
        format!("{}h {s}", d / HOUR)
    } else if d >= HOUR {
        format!("{}h {}min {s}", d / HOUR, d % HOUR / MIN)
    } else if d >= 5 * MIN {
        format!("{}min {s}", d / MIN)
    } else if d >= MIN {
        format!("{}min {}s {s}", d / MIN, d % MIN / SEC)
    } else if d >= SEC {
        format!("{}s {s}", d / SEC)
    } else if d >= 1000 {
        format!("{}ms {s}", d / 1000)
    } else if d > 0 {
        format!("{d}us {s}")
    } else {
        "now".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, load: &str, active: &str, sub: &str, desc: &str) -> UnitInfo {
        UnitInfo {
            name: name.into(),
            load_state: load.into(),
            active_state: active.into(),
            sub_state: sub.into(),
            description: desc.into(),
            job: None,
        }
    }

    #[test]
    fn table_pads_columns_and_trims_the_last() {
        let rows = vec![
            vec!["a".to_string(), "long cell".to_string(), "x".to_string()],
            vec!["bbb".to_string(), "c".to_string(), "".to_string()],
        ];
        assert_eq!(
            table(Some(&["H", "MID", "LAST"]), &rows),
            "H   MID       LAST\na   long cell x\nbbb c\n"
        );
        assert_eq!(table(None, &rows), "a   long cell x\nbbb c\n");
    }

    #[test]
    fn units_list_marks_failed_and_unloaded_units_and_ends_with_the_legend() {
        let units = [
            unit("a.service", "loaded", "active", "running", "Alpha"),
            unit("bb.service", "loaded", "failed", "failed", "Beta"),
            unit("c.service", "not-found", "inactive", "dead", "c.service"),
        ];
        assert_eq!(
            units_list(&units, true, Listing::Default),
            "  UNIT       LOAD      ACTIVE   SUB     DESCRIPTION\n\
             \x20 a.service  loaded    active   running Alpha\n\
             ● bb.service loaded    failed   failed  Beta\n\
             ● c.service  not-found inactive dead    c.service\n\
             \n\
             LOAD   = Reflects whether the unit definition was properly loaded.\n\
             ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n\
             SUB    = The low-level unit activation state, values depend on unit type.\n\
             3 loaded units listed. Pass --all to see loaded but inactive units, too.\n\
             To show all installed unit files use 'sctl list-unit-files'.\n"
        );
    }

    #[test]
    fn units_list_summary_depends_on_the_listing() {
        let units = [unit("a.service", "loaded", "active", "running", "A")];
        let body =
            "  UNIT      LOAD   ACTIVE SUB     DESCRIPTION\n  a.service loaded active running A\n";
        let legend = "\nLOAD   = Reflects whether the unit definition was properly loaded.\n\
             ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n\
             SUB    = The low-level unit activation state, values depend on unit type.\n";
        assert_eq!(
            units_list(&units, true, Listing::All),
            format!("{body}{legend}1 loaded units listed.\nTo show all installed unit files use 'sctl list-unit-files'.\n")
        );
        assert_eq!(
            units_list(&units, true, Listing::States),
            format!("{body}{legend}1 loaded units listed.\n")
        );
        assert_eq!(
            units_list(&units, false, Listing::Default),
            "  a.service loaded active running A\n"
        );
    }

    #[test]
    fn units_list_without_units_prints_header_and_count_only() {
        assert_eq!(
            units_list(&[], true, Listing::States),
            "  UNIT LOAD ACTIVE SUB DESCRIPTION\n0 loaded units listed.\n"
        );
    }

    #[test]
    fn units_list_shows_the_job_column_only_when_a_unit_has_a_job() {
        let mut a = unit("a.service", "loaded", "inactive", "dead", "A");
        a.job = Some(7);
        let b = unit("b.service", "loaded", "active", "running", "B");
        assert_eq!(
            units_list(&[a, b], true, Listing::States),
            "  UNIT      LOAD   ACTIVE   SUB     JOB DESCRIPTION\n\
             \x20 a.service loaded inactive dead    7   A\n\
             \x20 b.service loaded active   running     B\n\
             \n\
             LOAD   = Reflects whether the unit definition was properly loaded.\n\
             ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n\
             SUB    = The low-level unit activation state, values depend on unit type.\n\
             JOB    = Pending job for the unit.\n\
             \n\
             2 loaded units listed.\n"
        );
    }

    #[test]
    fn unit_files_and_jobs_lists() {
        let files = [
            UnitFileInfo {
                name: "a.service".into(),
                state: "enabled".into(),
            },
            UnitFileInfo {
                name: "basic.target".into(),
                state: "static".into(),
            },
        ];
        assert_eq!(
            unit_files_list(&files, true),
            "UNIT FILE    STATE\na.service    enabled\nbasic.target static\n\n2 unit files listed.\n"
        );
        assert_eq!(
            unit_files_list(&files, false),
            "a.service    enabled\nbasic.target static\n"
        );
        let jobs = [JobInfo {
            id: 12,
            unit: "a.service".into(),
            job_type: "start".into(),
            state: "running".into(),
        }];
        assert_eq!(
            jobs_list(&jobs, true),
            "JOB UNIT      TYPE  STATE\n12  a.service start running\n\n1 jobs listed.\n"
        );
        assert_eq!(jobs_list(&[], true), "No jobs running.\n");
        assert_eq!(jobs_list(&[], false), "");
    }

    const T0: u64 = 1_704_362_400_000_000; // Thu 2024-01-04 10:00:00 UTC

    fn status_of(active: &str, sub: &str) -> UnitStatus {
        UnitStatus {
            unit: unit("a.service", "loaded", active, sub, "Alpha daemon"),
            fragment: Some("/etc/sysmaster/system/a.service".into()),
            dropins: vec![
                "/etc/sysmaster/system/a.service.d/10-x.conf".into(),
                "/etc/sysmaster/system/a.service.d/20-y.conf".into(),
                "/run/sysmaster/system/a.service.d/z.conf".into(),
            ],
            unit_file_state: "enabled".into(),
            state_change_usec: Some(T0),
            main_pid: Some(123),
            status_text: Some("Ready.".into()),
            result: Some("success".into()),
            processes: vec![
                (123, "/usr/bin/alphad --foreground".into()),
                (124, "alpha-worker".into()),
            ],
            log: vec!["started".into(), "listening".into()],
        }
    }

    #[test]
    fn status_of_a_running_service() {
        let st = status_of("active", "running");
        assert_eq!(
            status(&st, T0 + 5 * 60 * 1_000_000 + 3_000_000),
            "● a.service - Alpha daemon\n\
             \x20    Loaded: loaded (/etc/sysmaster/system/a.service; enabled)\n\
             \x20   Drop-In: /etc/sysmaster/system/a.service.d\n\
             \x20            └─10-x.conf, 20-y.conf\n\
             \x20            /run/sysmaster/system/a.service.d\n\
             \x20            └─z.conf\n\
             \x20    Active: active (running) since Thu 2024-01-04 10:00:00 UTC; 5min ago\n\
             \x20  Main PID: 123 (alphad)\n\
             \x20    Status: \"Ready.\"\n\
             \x20 Processes: 2\n\
             \x20            ├─123 /usr/bin/alphad --foreground\n\
             \x20            └─124 alpha-worker\n\
             \n\
             started\n\
             listening\n"
        );
    }

    #[test]
    fn status_of_a_unit_that_did_not_load() {
        let st = UnitStatus {
            unit: unit("b.service", "not-found", "failed", "failed", "b.service"),
            fragment: None,
            dropins: vec![],
            unit_file_state: String::new(),
            state_change_usec: None,
            main_pid: None,
            status_text: None,
            result: None,
            processes: vec![],
            log: vec![],
        };
        assert_eq!(
            status(&st, T0),
            "× b.service\n\
             \x20    Loaded: not-found (Reason: Unit b.service not found.)\n\
             \x20    Active: failed\n"
        );
    }

    #[test]
    fn status_glyph_follows_the_active_state() {
        let cases = [
            ("active", "●"),
            ("activating", "●"),
            ("deactivating", "●"),
            ("reloading", "↻"),
            ("inactive", "○"),
            ("failed", "×"),
        ];
        for (state, glyph) in cases {
            assert_eq!(state_glyph(state), glyph, "{state}");
        }
    }

    #[test]
    fn timestamps_are_utc_with_weekday() {
        let cases = [
            (0, "Thu 1970-01-01 00:00:00 UTC"),
            (T0, "Thu 2024-01-04 10:00:00 UTC"),
            (951_782_400_000_000, "Tue 2000-02-29 00:00:00 UTC"),
            (1_735_689_599_999_999, "Tue 2024-12-31 23:59:59 UTC"),
        ];
        for (usec, want) in cases {
            assert_eq!(timestamp(usec), want, "{usec}");
        }
    }

    #[test]
    fn relative_times_use_systemds_steps() {
        const S: u64 = 1_000_000;
        let cases = [
            (0, "now"),
            (500, "500us ago"),
            (2_500, "2ms ago"),
            (42 * S, "42s ago"),
            (63 * S, "1min 3s ago"),
            (5 * 60 * S + 7 * S, "5min ago"),
            (3_600 * S + 120 * S, "1h 2min ago"),
            (7 * 3_600 * S, "7h ago"),
            (26 * 3_600 * S, "1 day 2h ago"),
            (3 * 86_400 * S, "3 days ago"),
            (8 * 86_400 * S, "1 week 1 day ago"),
            (15 * 86_400 * S, "2 weeks 1 day ago"),
            (2_629_800 * S + 86_400 * S, "1 month 1 day ago"),
            (31_557_600 * S, "1 year 0 months ago"),
        ];
        for (d, want) in cases {
            assert_eq!(relative(T0, T0 + d), want, "{d}");
        }
        assert_eq!(relative(T0 + 42 * S, T0), "42s left");
    }

    #[test]
    fn system_status_is_systemctls_overview_with_the_process_tree() {
        let st = SystemStatus {
            host: "box".into(),
            state: "degraded".into(),
            names: 12,
            jobs: 0,
            failed_units: 1,
            since_usec: Some(T0),
            version: "0.1.0".into(),
            cgroup: Some(CgroupNode {
                name: "/sysmaster".into(),
                processes: vec![],
                children: vec![CgroupNode {
                    name: "system.slice".into(),
                    processes: vec![],
                    children: vec![
                        CgroupNode {
                            name: "a.service".into(),
                            processes: vec![(7, "/bin/a".into()), (1234, "a-worker".into())],
                            children: vec![],
                        },
                        CgroupNode {
                            name: "b.service".into(),
                            processes: vec![(99, "/bin/b -x".into())],
                            children: vec![CgroupNode {
                                name: "inner".into(),
                                processes: vec![(100, "child".into())],
                                children: vec![],
                            }],
                        },
                    ],
                }],
            }),
        };
        assert_eq!(
            system_status(&st, T0 + 3 * 3_600 * 1_000_000),
            "● box\n\
             \x20   State: degraded\n\
             \x20   Units: 12 loaded (incl. loaded aliases)\n\
             \x20    Jobs: 0 queued\n\
             \x20  Failed: 1 units\n\
             \x20   Since: Thu 2024-01-04 10:00:00 UTC; 3h 0min ago\n\
             sysmaster: 0.1.0\n\
             \x20  CGroup: /sysmaster\n\
             \x20          └─system.slice\n\
             \x20            ├─a.service\n\
             \x20            │ ├─   7 /bin/a\n\
             \x20            │ └─1234 a-worker\n\
             \x20            └─b.service\n\
             \x20              ├─99 /bin/b -x\n\
             \x20              └─inner\n\
             \x20                └─100 child\n"
        );
        let bare = SystemStatus {
            since_usec: None,
            cgroup: None,
            ..st
        };
        assert!(system_status(&bare, T0).ends_with("    Since: n/a\nsysmaster: 0.1.0\n"));
    }

    #[test]
    fn show_prints_keys_or_values() {
        let blocks = vec![
            vec![
                ("Id".to_string(), "a.service".to_string()),
                ("ActiveState".to_string(), "active".to_string()),
            ],
            vec![("Id".to_string(), "b.service".to_string())],
        ];
        assert_eq!(
            properties(&blocks, false),
            "Id=a.service\nActiveState=active\n\nId=b.service\n"
        );
        assert_eq!(
            properties(&blocks, true),
            "a.service\nactive\n\nb.service\n"
        );
    }

    #[test]
    fn changes_are_worded_like_systemctl() {
        let ch = vec![
            (
                "created".to_string(),
                "/etc/sysmaster/system/multi-user.target.wants/a.service".to_string(),
                "/usr/lib/sysmaster/system/a.service".to_string(),
            ),
            (
                "removed".to_string(),
                "/etc/sysmaster/system/b.service".to_string(),
                String::new(),
            ),
        ];
        assert_eq!(
            changes(&ch),
            "Created symlink /etc/sysmaster/system/multi-user.target.wants/a.service → /usr/lib/sysmaster/system/a.service.\n\
             Removed \"/etc/sysmaster/system/b.service\".\n"
        );
    }

    #[test]
    fn job_failure_messages() {
        let cases: [(&str, &str, Option<&str>, Option<&str>); 10] = [
            ("a.service", "done", None, None),
            ("a.service", "skipped", None, None),
            (
                "a.service",
                "failed",
                Some("exit-code"),
                Some("Job for a.service failed because the control process exited with error code.\nSee \"sctl status a.service\" and \"sctl logs a.service\" for details."),
            ),
            (
                "a.service",
                "failed",
                None,
                Some("Job for a.service failed.\nSee \"sctl status a.service\" and \"sctl logs a.service\" for details."),
            ),
            (
                "a.service",
                "failed",
                Some("start-limit"),
                Some("Job for a.service failed because start of the service was attempted too often.\nSee \"sctl status a.service\" and \"sctl logs a.service\" for details.\nTo force a start use \"sctl reset-failed a.service\"\nfollowed by \"sctl start a.service\" again."),
            ),
            ("a.service", "canceled", None, Some("Job for a.service canceled.")),
            ("a.service", "timeout", None, Some("Job for a.service timed out.")),
            (
                "b.target",
                "dependency",
                None,
                Some("A dependency job for b.target failed. See 'sctl list-units --failed' for details."),
            ),
            (
                "b.target",
                "failed",
                None,
                Some("Job failed. See \"sctl status b.target\" and \"sctl logs b.target\" for details."),
            ),
            (
                "x\\x2dy.service",
                "failed",
                Some("bogus"),
                Some("Job for x\\x2dy.service failed.\nSee \"sctl status \"x\\\\x2dy.service\"\" and \"sctl logs \"x\\\\x2dy.service\"\" for details."),
            ),
        ];
        for (unit, result, service_result, want) in cases {
            assert_eq!(
                job_failure(unit, result, service_result).as_deref(),
                want,
                "{unit} {result}"
            );
        }
    }
}
