//! The daemon's settings, from the same places as systemd-udevd 252 takes them, in the
//! same order (later wins): `/etc/udev/udev.conf` (`udev_log`, `children_max`,
//! `exec_delay`, `event_timeout`, `resolve_names`, `timeout_signal`), the command line
//! (`-D/--debug`, `-c/--children-max`, `-e/--exec-delay`, `-t/--event-timeout`,
//! `-N/--resolve-names`, `--timeout-signal`; `-d/--daemon` is accepted and ignored, we
//! always stay in the foreground), then the kernel command line (`udev.log_level`
//! (alias `udev.log_priority`), `udev.children_max`, `udev.event_timeout`,
//! `udev.exec_delay`, `udev.timeout_signal`, with `rd.` variants honoured only in the
//! initrd; `-` and `_` are the same in key names). `--debug` wins over every log level.
//! A value that does not parse is a warning and ignored, as udevd does.
//!
//! Our own options, for tests and unusual layouts: `--run-dir` (`/run/udev`), `--sys-dir`
//! (`/sys`), `--dev-dir` (`/dev`), `--rules-dir DIR` (repeatable, replaces udev's five
//! rules directories), `--events-from PATH` (take uevents from datagrams on a Unix socket
//! at PATH instead of the kernel's netlink socket; see `daemon/mod.rs`) and
//! `--test-faults` (let events ask their worker to crash, hang or sleep; see
//! `daemon/child.rs`). Pure: the caller reads the files.
//!
//! Accepted and ignored: `--exec-delay` / `exec_delay` (a debugging aid of udevd's that
//! delays every RUN program), `--resolve-names` (user and group names are resolved when
//! an event needs them), `udev.blockdev_read_only`.

use crate::engine::cmdline_words;
use std::path::PathBuf;

use super::queue::{Usec, SIGNALS, USEC_PER_SEC, WORKER_NUM_MAX};

/// `--resolve-names=` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolveNames {
    Early,
    Late,
    Never,
}

/// Settings that every source may give; `None` = not given here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tunables {
    /// syslog level 0-7.
    pub log_level: Option<u8>,
    /// 0 = computed from CPUs and memory.
    pub children_max: Option<usize>,
    pub exec_delay: Option<Usec>,
    pub event_timeout: Option<Usec>,
    pub timeout_signal: Option<i32>,
    pub resolve_names: Option<ResolveNames>,
}

impl Tunables {
    /// Overlays `later` on `self`.
    pub fn merge(&mut self, later: &Tunables) {
        macro_rules! take {
            ($($f:ident),*) => { $( if later.$f.is_some() { self.$f = later.$f; } )* };
        }
        take!(
            log_level,
            children_max,
            exec_delay,
            event_timeout,
            timeout_signal,
            resolve_names
        );
    }
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub tunables: Tunables,
    pub debug: bool,
    pub help: bool,
    pub version: bool,
    pub run_dir: PathBuf,
    pub sys_dir: PathBuf,
    pub dev_dir: PathBuf,
    /// Empty: udev's rules directories.
    pub rules_dirs: Vec<PathBuf>,
    pub events_from: Option<PathBuf>,
    pub test_faults: bool,
    /// Values that did not parse and were ignored, and ignored options.
    pub warnings: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tunables: Tunables::default(),
            debug: false,
            help: false,
            version: false,
            run_dir: PathBuf::from("/run/udev"),
            sys_dir: PathBuf::from("/sys"),
            dev_dir: PathBuf::from("/dev"),
            rules_dirs: Vec::new(),
            events_from: None,
            test_faults: false,
            warnings: Vec::new(),
        }
    }
}

/// The settings in force after every source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub log_level: u8,
    pub children_max: usize,
    pub event_timeout: Usec,
    pub timeout_signal: i32,
}

/// Combines the sources in udevd's order; `cpus` and `memory` (bytes) size an automatic
/// `children_max`.
pub fn settle(
    conf: &Tunables,
    args: &Options,
    cmdline: &Tunables,
    cpus: usize,
    memory: u64,
) -> Settings {
    let mut t = conf.clone();
    t.merge(&args.tunables);
    t.merge(cmdline);
    let children_max = match t.children_max {
        Some(n) if n > 0 => n,
        _ => auto_children_max(cpus, memory),
    };
    Settings {
        log_level: if args.debug {
            7
        } else {
            t.log_level.unwrap_or(6)
        },
        children_max,
        event_timeout: t.event_timeout.unwrap_or(180 * USEC_PER_SEC),
        timeout_signal: t.timeout_signal.unwrap_or(9),
    }
}

/// udevd's default worker count: `2 × CPUs + 16`, but no more than one per 128 MiB of
/// memory (at least 10), and never above 2048.
pub fn auto_children_max(cpus: usize, memory: u64) -> usize {
    let cpu_limit = cpus.max(1) * 2 + 16;
    let mem_limit = usize::try_from(memory / (128 * 1024 * 1024))
        .unwrap_or(usize::MAX)
        .max(10);
    cpu_limit.min(mem_limit).min(WORKER_NUM_MAX)
}

const USAGE: &str = "devmaster [OPTIONS...]

Rule-based manager for device events and files (a systemd-udevd replacement).

  -h --help                   Print this message
  -V --version                Print version of the program
  -d --daemon                 Accepted for compatibility; always runs in the foreground
  -D --debug                  Enable debug output
  -c --children-max=INT       Set maximum number of workers
  -e --exec-delay=SECONDS     Accepted for compatibility and ignored
  -t --event-timeout=SECONDS  Seconds to wait before terminating an event
  -N --resolve-names=early|late|never
                              Accepted for compatibility
     --timeout-signal=SIGNAL  Signal that kills a timed-out worker
     --run-dir=DIR            udev's runtime directory (/run/udev)
     --sys-dir=DIR            sysfs (/sys)
     --dev-dir=DIR            device nodes (/dev)
     --rules-dir=DIR          Read rules from DIR instead of udev's directories (repeatable)
     --events-from=PATH       Testing: take uevents from datagrams on a Unix socket at PATH
                              instead of the kernel
     --test-faults            Testing: honour DEVMASTER_TEST_FAULT in events
";

/// The `--help` text.
pub fn usage() -> &'static str {
    USAGE
}

/// Parses the daemon's command line (without the program name), getopt_long style:
/// `--opt=value`, `--opt value`, `-c4`, `-c 4`, grouped flags (`-dD`), `--` ends options.
pub fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline): (String, Option<String>) = if let Some(long) = arg.strip_prefix("--") {
            if long.is_empty() {
                if let Some(extra) = it.next() {
                    return Err(format!("Extraneous argument: {extra}"));
                }
                break;
            }
            match long.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (long.to_string(), None),
            }
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut chars = short.chars();
            let c = chars.next().unwrap_or('-');
            let rest: String = chars.collect();
            let long = match c {
                'h' => "help",
                'V' => "version",
                'd' => "daemon",
                'D' => "debug",
                'c' => "children-max",
                'e' => "exec-delay",
                't' => "event-timeout",
                'N' => "resolve-names",
                _ => return Err(format!("invalid option -- '{c}'")),
            };
            let takes_value = matches!(c, 'c' | 'e' | 't' | 'N');
            if takes_value {
                (long.to_string(), (!rest.is_empty()).then_some(rest))
            } else {
                // Grouped flags: handle the first, put the others back in front.
                if !rest.is_empty() {
                    let mut again: Vec<String> = vec![format!("-{rest}")];
                    again.extend(it.cloned());
                    let mut tail = parse_args(&again)?;
                    apply_flag(&mut tail, long);
                    return Ok(merge_options(o, tail));
                }
                (long.to_string(), None)
            }
        } else {
            return Err(format!("Extraneous argument: {arg}"));
        };
        let flag = matches!(
            name.as_str(),
            "help" | "version" | "daemon" | "debug" | "test-faults"
        );
        if flag {
            if inline.is_some() {
                return Err(format!("option '--{name}' doesn't allow an argument"));
            }
            apply_flag(&mut o, &name);
            continue;
        }
        let known = [
            "children-max",
            "exec-delay",
            "event-timeout",
            "resolve-names",
            "timeout-signal",
            "run-dir",
            "sys-dir",
            "dev-dir",
            "rules-dir",
            "events-from",
        ];
        if !known.contains(&name.as_str()) {
            return Err(format!("unrecognized option '--{name}'"));
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| format!("option '--{name}' requires an argument"))?,
        };
        let mut bad = |what: &str| {
            o.warnings.push(format!(
                "Failed to parse --{what}= value '{value}', ignoring."
            ))
        };
        match name.as_str() {
            "children-max" => match value.parse::<usize>() {
                Ok(n) => o.tunables.children_max = Some(n),
                Err(_) => bad("children-max"),
            },
            "exec-delay" => match parse_sec(&value) {
                Some(d) => o.tunables.exec_delay = Some(d),
                None => bad("exec-delay"),
            },
            "event-timeout" => match parse_sec(&value) {
                Some(d) if d > 0 => o.tunables.event_timeout = Some(d),
                _ => bad("event-timeout"),
            },
            "timeout-signal" => match parse_signal(&value) {
                Some(s) => o.tunables.timeout_signal = Some(s),
                None => bad("timeout-signal"),
            },
            "resolve-names" => match parse_resolve_names(&value) {
                Some(r) => o.tunables.resolve_names = Some(r),
                None => bad("resolve-names"),
            },
            "run-dir" => o.run_dir = PathBuf::from(value),
            "sys-dir" => o.sys_dir = PathBuf::from(value),
            "dev-dir" => o.dev_dir = PathBuf::from(value),
            "rules-dir" => o.rules_dirs.push(PathBuf::from(value)),
            _ => o.events_from = Some(PathBuf::from(value)),
        }
    }
    Ok(o)
}

fn apply_flag(o: &mut Options, name: &str) {
    match name {
        "help" => o.help = true,
        "version" => o.version = true,
        "debug" => o.debug = true,
        "test-faults" => o.test_faults = true,
        _ => o
            .warnings
            .push("--daemon is ignored: devmaster always runs in the foreground.".into()),
    }
}

/// `first` holds what was parsed before a group of short flags, `rest` what came after;
/// values given later win, as with getopt.
fn merge_options(first: Options, mut rest: Options) -> Options {
    let mut t = first.tunables.clone();
    t.merge(&rest.tunables);
    rest.tunables = t;
    rest.debug |= first.debug;
    rest.help |= first.help;
    rest.version |= first.version;
    rest.test_faults |= first.test_faults;
    let default = Options::default();
    if rest.run_dir == default.run_dir {
        rest.run_dir = first.run_dir;
    }
    if rest.sys_dir == default.sys_dir {
        rest.sys_dir = first.sys_dir;
    }
    if rest.dev_dir == default.dev_dir {
        rest.dev_dir = first.dev_dir;
    }
    let mut dirs = first.rules_dirs;
    dirs.append(&mut rest.rules_dirs);
    rest.rules_dirs = dirs;
    if rest.events_from.is_none() {
        rest.events_from = first.events_from;
    }
    let mut warnings = first.warnings;
    warnings.append(&mut rest.warnings);
    rest.warnings = warnings;
    rest
}

/// systemd's `parse_sec`: a time span with seconds as the default unit (`180`, `2.5s`,
/// `1min 30s`, `500ms`, `infinity`), in microseconds.
pub fn parse_sec(text: &str) -> Option<Usec> {
    let text = text.trim();
    if text == "infinity" {
        return Some(Usec::MAX);
    }
    if text.is_empty() {
        return None;
    }
    let mut total: Usec = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        if num.is_empty() {
            return None;
        }
        let after = after.trim_start();
        let unit_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale: Usec = match unit {
            "" | "s" | "sec" | "second" | "seconds" => USEC_PER_SEC,
            "us" | "usec" | "µs" => 1,
            "ms" | "msec" => 1_000,
            "m" | "min" | "minute" | "minutes" => 60 * USEC_PER_SEC,
            "h" | "hr" | "hour" | "hours" => 3600 * USEC_PER_SEC,
            "d" | "day" | "days" => 86_400 * USEC_PER_SEC,
            "w" | "week" | "weeks" => 7 * 86_400 * USEC_PER_SEC,
            _ => return None,
        };
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if frac.contains('.') || (int.is_empty() && frac.is_empty()) {
            return None;
        }
        let whole: Usec = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut part = whole.checked_mul(scale)?;
        let mut div = 1u64;
        for d in frac.chars().take(9) {
            div *= 10;
            let digit = u64::from(d.to_digit(10)?);
            part = part.checked_add(digit.checked_mul(scale)? / div)?;
        }
        total = total.checked_add(part)?;
        rest = after.trim_start();
    }
    Some(total)
}

/// A signal by number or name (`9`, `KILL`, `SIGKILL`, `SIGRTMIN+1`).
pub fn parse_signal(text: &str) -> Option<i32> {
    if let Ok(n) = text.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let name = text.strip_prefix("SIG").unwrap_or(text);
    if let Some((n, _)) = SIGNALS.iter().find(|(_, s)| *s == name) {
        return Some(*n);
    }
    let rt = name.strip_prefix("RTMIN")?;
    let offset: i32 = if rt.is_empty() {
        0
    } else {
        rt.strip_prefix('+')?.parse().ok()?
    };
    let n = sys::signal::SIGRTMIN + offset;
    (offset >= 0 && n <= 64).then_some(n)
}

/// A syslog level by name or number.
pub fn parse_log_level(text: &str) -> Option<u8> {
    const NAMES: [&str; 8] = [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];
    if let Ok(n) = text.parse::<u8>() {
        return (n <= 7).then_some(n);
    }
    NAMES
        .iter()
        .position(|n| *n == text)
        .and_then(|p| u8::try_from(p).ok())
}

fn parse_resolve_names(text: &str) -> Option<ResolveNames> {
    match text {
        "early" => Some(ResolveNames::Early),
        "late" => Some(ResolveNames::Late),
        "never" => Some(ResolveNames::Never),
        _ => None,
    }
}

/// Strips one level of matching quotes.
fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// Reads `/etc/udev/udev.conf` text: `KEY=VALUE` lines, `#` and `;` comments, values
/// optionally quoted. Returns the tunables and the warnings for bad values.
pub fn parse_udev_conf(text: &str) -> (Tunables, Vec<String>) {
    let mut t = Tunables::default();
    let mut warnings = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), unquote(value.trim()));
        let ok = match key {
            "udev_log" => parse_log_level(value).map(|v| t.log_level = Some(v)),
            "children_max" => value.parse().ok().map(|v| t.children_max = Some(v)),
            "exec_delay" => parse_sec(value).map(|v| t.exec_delay = Some(v)),
            "event_timeout" => parse_sec(value)
                .filter(|v| *v > 0)
                .map(|v| t.event_timeout = Some(v)),
            "resolve_names" => parse_resolve_names(value).map(|v| t.resolve_names = Some(v)),
            "timeout_signal" => parse_signal(value).map(|v| t.timeout_signal = Some(v)),
            _ => Some(()),
        };
        if ok.is_none() {
            warnings.push(format!(
                "/etc/udev/udev.conf:{}: failed to parse {key}={value}, ignoring.",
                n + 1
            ));
        }
    }
    (t, warnings)
}

/// Reads the `udev.*` (and, in the initrd, `rd.udev.*`) settings of a kernel command line.
pub fn parse_cmdline(text: &str, in_initrd: bool) -> (Tunables, Vec<String>) {
    let mut t = Tunables::default();
    let mut warnings = Vec::new();
    for word in cmdline_words(text) {
        let (key, value) = match word.split_once('=') {
            Some((k, v)) => (k.replace('-', "_"), Some(v.to_string())),
            None => (word.replace('-', "_"), None),
        };
        let key = match key.strip_prefix("rd.") {
            Some(k) if in_initrd => k.to_string(),
            Some(_) => continue,
            None => key,
        };
        let Some(name) = key.strip_prefix("udev.") else {
            continue;
        };
        if name == "blockdev_read_only" {
            warnings.push("udev.blockdev_read_only is not supported, ignoring.".into());
            continue;
        }
        let known = [
            "log_level",
            "log_priority",
            "children_max",
            "event_timeout",
            "exec_delay",
            "timeout_signal",
        ];
        if !known.contains(&name) {
            warnings.push(format!(
                "Unknown udev kernel command line option \"{key}\", ignoring."
            ));
            continue;
        }
        let Some(value) = value else {
            warnings.push(format!(
                "Missing argument for {key}= kernel command line switch, ignoring."
            ));
            continue;
        };
        let ok = match name {
            "log_level" | "log_priority" => parse_log_level(&value).map(|v| t.log_level = Some(v)),
            "children_max" => value.parse().ok().map(|v| t.children_max = Some(v)),
            "event_timeout" => parse_sec(&value)
                .filter(|v| *v > 0)
                .map(|v| t.event_timeout = Some(v)),
            "exec_delay" => parse_sec(&value).map(|v| t.exec_delay = Some(v)),
            _ => parse_signal(&value).map(|v| t.timeout_signal = Some(v)),
        };
        if ok.is_none() {
            warnings.push(format!("Failed to parse \"{key}={value}\", ignoring."));
        }
    }
    (t, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn args(a: &[&str]) -> Result<Options, String> {
        parse_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    const S: Usec = USEC_PER_SEC;

    #[test]
    fn time_spans_as_systemd_parses_them() {
        let cases: &[(&str, Option<Usec>)] = &[
            ("180", Some(180 * S)),
            ("2", Some(2 * S)),
            ("2s", Some(2 * S)),
            ("500ms", Some(500_000)),
            ("1min 30s", Some(90 * S)),
            ("1min30s", Some(90 * S)),
            ("1.5", Some(1_500_000)),
            ("3h", Some(3 * 3600 * S)),
            ("infinity", Some(Usec::MAX)),
            ("", None),
            ("abc", None),
            ("5 parsecs", None),
            ("1.2.3", None),
            ("-1", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_sec(text), *want, "{text}");
        }
    }

    #[test]
    fn signals_and_levels() {
        let cases: &[(&str, Option<i32>)] = &[
            ("9", Some(9)),
            ("SIGKILL", Some(9)),
            ("KILL", Some(9)),
            ("SIGTERM", Some(15)),
            ("SIGRTMIN+2", Some(36)),
            ("RTMIN", Some(34)),
            ("0", None),
            ("65", None),
            ("SIGFOO", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_signal(text), *want, "{text}");
        }
        assert_eq!(parse_log_level("debug"), Some(7));
        assert_eq!(parse_log_level("err"), Some(3));
        assert_eq!(parse_log_level("5"), Some(5));
        assert_eq!(parse_log_level("8"), None);
        assert_eq!(parse_log_level("loud"), None);
    }

    #[test]
    fn command_line_like_udevd() {
        let o = args(&[
            "-D",
            "--children-max=4",
            "-t",
            "2",
            "--timeout-signal",
            "SIGABRT",
            "-N",
            "never",
            "--rules-dir=/a",
            "--rules-dir",
            "/b",
            "--run-dir=/tmp/run",
            "--events-from=/tmp/ev",
            "--test-faults",
        ])
        .unwrap();
        assert!(o.debug && o.test_faults);
        assert_eq!(o.tunables.children_max, Some(4));
        assert_eq!(o.tunables.event_timeout, Some(2 * S));
        assert_eq!(o.tunables.timeout_signal, Some(6));
        assert_eq!(o.tunables.resolve_names, Some(ResolveNames::Never));
        assert_eq!(o.rules_dirs, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(o.run_dir, PathBuf::from("/tmp/run"));
        assert_eq!(o.events_from, Some(PathBuf::from("/tmp/ev")));

        let o = args(&["-c3", "-dD", "-e", "5"]).unwrap();
        assert_eq!(o.tunables.children_max, Some(3));
        assert!(o.debug);
        assert_eq!(o.tunables.exec_delay, Some(5 * S));
        assert_eq!(o.warnings.len(), 1, "{:?}", o.warnings);

        let o = args(&["--children-max=lots", "--event-timeout=0"]).unwrap();
        assert_eq!(o.tunables, Tunables::default());
        assert_eq!(o.warnings.len(), 2);

        assert!(args(&["--bogus"]).is_err());
        assert!(args(&["-x"]).is_err());
        assert!(args(&["--children-max"]).is_err());
        assert!(args(&["--debug=yes"]).is_err());
        assert!(args(&["stray"]).is_err());
        assert!(args(&["--help"]).unwrap().help);
        assert!(args(&["-V"]).unwrap().version);
    }

    #[test]
    fn udev_conf() {
        let text = "# see udev.conf(5)\nudev_log=\"debug\"\nchildren_max = 7\n;event_timeout=1\nevent_timeout='30'\ntimeout_signal=SIGTERM\nresolve_names=late\nexec_delay=zz\n";
        let (t, w) = parse_udev_conf(text);
        assert_eq!(
            t,
            Tunables {
                log_level: Some(7),
                children_max: Some(7),
                exec_delay: None,
                event_timeout: Some(30 * S),
                timeout_signal: Some(15),
                resolve_names: Some(ResolveNames::Late),
            }
        );
        assert_eq!(
            w,
            ["/etc/udev/udev.conf:8: failed to parse exec_delay=zz, ignoring."]
        );
    }

    #[test]
    fn kernel_command_line() {
        let line = "BOOT_IMAGE=/vmlinuz root=/dev/vda udev.children-max=5 rd.udev.event_timeout=10 udev.log_priority=info udev.timeout_signal=SIGTERM \"udev.exec_delay=1\" udev.bogus=1 udev.event_timeout=x quiet\n";
        let (t, w) = parse_cmdline(line, false);
        assert_eq!(t.children_max, Some(5));
        assert_eq!(
            t.event_timeout, None,
            "rd. only in the initrd; x does not parse"
        );
        assert_eq!(t.log_level, Some(6));
        assert_eq!(t.timeout_signal, Some(15));
        assert_eq!(t.exec_delay, Some(S));
        assert_eq!(
            w,
            [
                "Unknown udev kernel command line option \"udev.bogus\", ignoring.",
                "Failed to parse \"udev.event_timeout=x\", ignoring."
            ]
        );
        let (t, _) = parse_cmdline(line, true);
        assert_eq!(t.event_timeout, Some(10 * S));
    }

    #[test]
    fn sources_combine_in_udevds_order() {
        let conf = Tunables {
            children_max: Some(2),
            event_timeout: Some(5 * S),
            log_level: Some(3),
            ..Tunables::default()
        };
        let mut a = Options::default();
        a.tunables.children_max = Some(3);
        let cmdline = Tunables {
            children_max: Some(4),
            ..Tunables::default()
        };
        let s = settle(&conf, &a, &cmdline, 2, 1 << 40);
        assert_eq!(
            s,
            Settings {
                log_level: 3,
                children_max: 4,
                event_timeout: 5 * S,
                timeout_signal: 9,
            }
        );
        a.debug = true;
        let s = settle(&conf, &a, &Tunables::default(), 2, 1 << 40);
        assert_eq!((s.log_level, s.children_max), (7, 3));
        // children_max=0 means automatic.
        let zero = Tunables {
            children_max: Some(0),
            ..Tunables::default()
        };
        let s = settle(&zero, &Options::default(), &Tunables::default(), 2, 1 << 40);
        assert_eq!(s.children_max, 20);
        assert_eq!(s.event_timeout, 180 * S);
    }

    #[test]
    fn automatic_children_max() {
        const MIB: u64 = 1024 * 1024;
        // (cpus, memory, udevd's result)
        let cases = [
            (2, 24 * 1024 * MIB, 20),
            (2, 512 * MIB, 10),
            (64, 64 * 1024 * MIB, 144),
            (8, 1536 * MIB, 12),
            (2000, 1 << 50, 2048),
        ];
        for (cpus, mem, want) in cases {
            assert_eq!(auto_children_max(cpus, mem), want, "{cpus} {mem}");
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic(text in ".*") {
            let _ = parse_sec(&text);
            let _ = parse_signal(&text);
            let _ = parse_udev_conf(&text);
            let _ = parse_cmdline(&text, true);
            let _ = parse_args(&text.split(' ').map(String::from).collect::<Vec<_>>());
        }
    }
}
