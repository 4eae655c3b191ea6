//! The settings of `sysmaster-init` and where they come from: built-in defaults, then
//! `/etc/sysmaster/init.conf` (`KEY=VALUE` lines, `#` comments), then the kernel command
//! line (`sysmaster.KEY=VALUE`), then our own command line (`--KEY VALUE`,
//! `--KEY=VALUE`, `-` for `_`), each overriding the one before. A bad setting is reported
//! with where it came from and ignored: PID 1 never refuses to start over a typo.
//!
//! Keys: `manager`, `shell`, `heartbeat_sec`, `heartbeat_timeout_sec`, `kill_grace_sec`,
//! `final_timeout_sec`, `emergency_shell`, `container`, `max_buffered_exits`. Only the
//! command line has `--config FILE`, `-- MANAGER-ARGS...` and the internal
//! `--deserialize FD` of a re-executing PID 1.

use std::path::PathBuf;

pub const DEFAULT_MANAGER: &str = "/usr/lib/sysmaster/sysmaster";
pub const DEFAULT_CONFIG: &str = "/etc/sysmaster/init.conf";

/// Every setting, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub manager: PathBuf,
    /// Arguments for the manager (only from our command line, after `--`).
    pub manager_args: Vec<String>,
    /// A `Ping` goes out this often.
    pub heartbeat_usec: u64,
    /// A manager that sent no `Pong` for this long gets SIGABRT ...
    pub heartbeat_timeout_usec: u64,
    /// ... and this much later SIGKILL.
    pub kill_grace_usec: u64,
    /// The final step waits this long for processes to exit after SIGTERM (and again
    /// after SIGKILL).
    pub final_timeout_usec: u64,
    /// Start `shell` after repeated manager failures (else keep restarting the manager).
    pub emergency_shell: bool,
    pub shell: PathBuf,
    /// `None`: detect whether we are PID 1 of a container.
    pub container: Option<bool>,
    /// Exit records kept while unacknowledged; beyond that the oldest are dropped.
    pub max_exits: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            manager: PathBuf::from(DEFAULT_MANAGER),
            manager_args: Vec::new(),
            heartbeat_usec: 10_000_000,
            heartbeat_timeout_usec: 30_000_000,
            kill_grace_usec: 5_000_000,
            final_timeout_usec: 10_000_000,
            emergency_shell: true,
            shell: PathBuf::from("/bin/sh"),
            container: None,
            max_exits: 65_536,
        }
    }
}

/// One `KEY=VALUE` and where it was written, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub origin: String,
}

fn setting(key: &str, value: &str, origin: String) -> Setting {
    Setting {
        key: key.trim().replace('-', "_"),
        value: value.trim().to_string(),
        origin,
    }
}

impl Config {
    /// Applies the layers in order (later ones win) and returns the messages for the
    /// settings that were ignored.
    pub fn build(layers: &[&[Setting]], manager_args: &[String]) -> (Config, Vec<String>) {
        let mut config = Config {
            manager_args: manager_args.to_vec(),
            ..Config::default()
        };
        let mut warnings = Vec::new();
        for s in layers.iter().flat_map(|l| l.iter()) {
            if let Err(e) = config.set(&s.key, &s.value) {
                warnings.push(format!("{}: {e}; ignored", s.origin));
            }
        }
        (config, warnings)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "manager" => self.manager = absolute(value)?,
            "shell" => self.shell = absolute(value)?,
            "heartbeat_sec" => self.heartbeat_usec = seconds(value, true)?,
            "heartbeat_timeout_sec" => self.heartbeat_timeout_usec = seconds(value, true)?,
            "kill_grace_sec" => self.kill_grace_usec = seconds(value, false)?,
            "final_timeout_sec" => self.final_timeout_usec = seconds(value, false)?,
            "emergency_shell" => self.emergency_shell = boolean(value)?,
            "container" => self.container = Some(boolean(value)?),
            "max_buffered_exits" => {
                self.max_exits = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=1 << 24).contains(n))
                    .ok_or_else(|| format!("'{value}' is not a count from 1 to 16777216"))?
            }
            _ => return Err(format!("unknown setting '{key}'")),
        }
        Ok(())
    }
}

fn absolute(value: &str) -> Result<PathBuf, String> {
    if value.starts_with('/') {
        Ok(PathBuf::from(value))
    } else {
        Err(format!("'{value}' is not an absolute path"))
    }
}

/// Decimal seconds ("10", "0.5") as microseconds, at most a million seconds.
fn seconds(value: &str, positive: bool) -> Result<u64, String> {
    let s = value.strip_suffix('s').unwrap_or(value);
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1e6).contains(&v) && (v > 0.0 || !positive) => Ok((v * 1e6).round() as u64),
        _ if positive => Err(format!("'{value}' is not a positive number of seconds")),
        _ => Err(format!("'{value}' is not a number of seconds")),
    }
}

fn boolean(value: &str) -> Result<bool, String> {
    match value {
        "1" | "yes" | "y" | "true" | "t" | "on" => Ok(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Ok(false),
        _ => Err(format!("'{value}' is not a boolean")),
    }
}

/// `init.conf`: `KEY=VALUE` lines; blank lines and `#` comments are skipped.
pub fn parse_conf(text: &str, file: &str) -> (Vec<Setting>, Vec<String>) {
    let (mut settings, mut warnings) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) => settings.push(setting(k, v, format!("{file}:{}", n + 1))),
            None => warnings.push(format!("{file}:{}: expected KEY=VALUE; ignored", n + 1)),
        }
    }
    (settings, warnings)
}

/// The `sysmaster.*` words of the kernel command line (double quotes group words; a word
/// without `=` is a boolean set to yes). Words after `--` belong to init's argv.
pub fn parse_kernel_cmdline(text: &str) -> Vec<Setting> {
    let (mut words, mut word, mut quoted) = (Vec::new(), String::new(), false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    words.push(word);
    words
        .iter()
        .take_while(|w| *w != "--")
        .filter_map(|w| w.strip_prefix("sysmaster."))
        .map(|w| {
            let (k, v) = w.split_once('=').unwrap_or((w, "yes"));
            setting(k, v, "kernel command line".to_string())
        })
        .collect()
}

/// Our command line, split.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub settings: Vec<Setting>,
    pub config_file: Option<PathBuf>,
    /// Set by a re-executing PID 1: the descriptor with its saved state.
    pub deserialize: Option<i32>,
    pub manager_args: Vec<String>,
    pub warnings: Vec<String>,
}

/// Parses `args` (without argv\[0\]). The kernel hands PID 1 the words of its command line
/// it does not know ("single", "splash"): anything unknown is reported and skipped.
pub fn parse_args(args: &[String]) -> Args {
    let mut out = Args::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--" {
            out.manager_args = it.by_ref().cloned().collect();
            break;
        }
        let Some(option) = arg.strip_prefix("--") else {
            out.warnings
                .push(format!("unknown argument '{arg}' ignored"));
            continue;
        };
        let (name, inline) = match option.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (option, None),
        };
        let flag = matches!(name, "container" | "emergency-shell");
        let value = match inline {
            Some(v) => Some(v),
            None if flag => Some("yes".to_string()),
            None => it.next().cloned(),
        };
        let Some(value) = value else {
            out.warnings.push(format!("option '{arg}' needs a value"));
            continue;
        };
        match name {
            "config" => out.config_file = Some(PathBuf::from(value)),
            "deserialize" => match value.parse() {
                Ok(fd) => out.deserialize = Some(fd),
                Err(_) => out.warnings.push(format!("bad --deserialize '{value}'")),
            },
            _ => out
                .settings
                .push(setting(name, &value, format!("option --{name}"))),
        }
    }
    out
}

/// The command line of the next image when PID 1 re-executes: ours, with the state
/// descriptor replacing any earlier `--deserialize`.
pub fn reexec_args(args: &[String], fd: i32) -> Vec<String> {
    let mut out = vec!["--deserialize".to_string(), fd.to_string()];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            out.push(a.clone());
            out.extend(it.by_ref().cloned());
        } else if a == "--deserialize" {
            it.next();
        } else if !a.starts_with("--deserialize=") {
            out.push(a.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_value(key: &str, value: &str, expected: Result<Config, &str>) {
        let s = [setting(key, value, "test".into())];
        let (config, warnings) = Config::build(&[&s], &[]);
        match expected {
            Ok(c) => assert_eq!((config, warnings), (c, vec![]), "{key}={value}"),
            Err(w) => assert_eq!(
                warnings,
                vec![format!("test: {w}; ignored")],
                "{key}={value}"
            ),
        }
    }

    #[test]
    fn values_and_their_errors() {
        let d = Config::default;
        let with = |f: fn(&mut Config)| {
            let mut c = Config::default();
            f(&mut c);
            Ok(c)
        };
        check_value("heartbeat_sec", "0.2", with(|c| c.heartbeat_usec = 200_000));
        check_value(
            "heartbeat_sec",
            "3s",
            with(|c| c.heartbeat_usec = 3_000_000),
        );
        check_value(
            "heartbeat_sec",
            "0",
            Err("'0' is not a positive number of seconds"),
        );
        check_value("final_timeout_sec", "0", with(|c| c.final_timeout_usec = 0));
        check_value(
            "kill_grace_sec",
            "-1",
            Err("'-1' is not a number of seconds"),
        );
        check_value(
            "kill_grace_sec",
            "nan",
            Err("'nan' is not a number of seconds"),
        );
        check_value(
            "emergency_shell",
            "off",
            with(|c| c.emergency_shell = false),
        );
        check_value("emergency_shell", "maybe", Err("'maybe' is not a boolean"));
        check_value("container", "1", with(|c| c.container = Some(true)));
        check_value("manager", "/m", with(|c| c.manager = PathBuf::from("/m")));
        check_value("manager", "m", Err("'m' is not an absolute path"));
        check_value("max_buffered_exits", "3", with(|c| c.max_exits = 3));
        check_value(
            "max_buffered_exits",
            "0",
            Err("'0' is not a count from 1 to 16777216"),
        );
        check_value("colour", "red", Err("unknown setting 'colour'"));
        assert_eq!(d().heartbeat_timeout_usec, 30_000_000);
    }

    #[test]
    fn conf_file_lines() {
        let (s, w) = parse_conf(
            "# comment\n\nheartbeat_sec = 2\nnonsense\n  emergency_shell=no # not a comment\n",
            "/etc/i.conf",
        );
        assert_eq!(w, vec!["/etc/i.conf:4: expected KEY=VALUE; ignored"]);
        let kv: Vec<_> = s.iter().map(|s| (&*s.key, &*s.value, &*s.origin)).collect();
        assert_eq!(
            kv,
            [
                ("heartbeat_sec", "2", "/etc/i.conf:3"),
                ("emergency_shell", "no # not a comment", "/etc/i.conf:5")
            ]
        );
    }

    #[test]
    fn kernel_command_line_words() {
        let s = parse_kernel_cmdline(
            "quiet sysmaster.manager=\"/opt/a b\" root=/dev/vda sysmaster.container \
             sysmaster.heartbeat-sec=5 -- sysmaster.shell=/x\n",
        );
        let kv: Vec<_> = s.iter().map(|s| (&*s.key, &*s.value)).collect();
        assert_eq!(
            kv,
            [
                ("manager", "/opt/a b"),
                ("container", "yes"),
                ("heartbeat_sec", "5")
            ]
        );
    }

    #[test]
    fn arguments_and_precedence() {
        let args: Vec<String> = [
            "single",
            "--manager",
            "/arg/m",
            "--container",
            "--heartbeat-sec=1",
            "--deserialize",
            "9",
            "--config",
            "/c",
            "--shell",
            "sh",
            "--",
            "-x",
            "--y",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let a = parse_args(&args);
        assert_eq!(a.deserialize, Some(9));
        assert_eq!(a.config_file, Some(PathBuf::from("/c")));
        assert_eq!(a.manager_args, ["-x", "--y"]);
        assert_eq!(a.warnings, ["unknown argument 'single' ignored"]);
        let conf = parse_conf("manager=/conf/m\nheartbeat_sec=7\nkill_grace_sec=2\n", "f").0;
        let cmdline = parse_kernel_cmdline("sysmaster.manager=/k/m sysmaster.heartbeat_sec=3");
        let (c, w) = Config::build(&[&conf, &cmdline, &a.settings], &a.manager_args);
        assert_eq!(w, ["option --shell: 'sh' is not an absolute path; ignored"]);
        assert_eq!(c.manager, PathBuf::from("/arg/m"));
        assert_eq!(c.heartbeat_usec, 1_000_000);
        assert_eq!(c.kill_grace_usec, 2_000_000);
        assert_eq!(c.container, Some(true));
        assert_eq!(c.manager_args, ["-x", "--y"]);
        let (c, _) = Config::build(&[&conf, &cmdline], &[]);
        assert_eq!((c.manager, c.heartbeat_usec), ("/k/m".into(), 3_000_000));
        assert_eq!(
            parse_args(&["--final-timeout-sec".into()]).warnings.len(),
            1
        );
    }

    #[test]
    fn reexec_replaces_the_state_descriptor() {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let args = v(&[
            "--deserialize",
            "4",
            "--container",
            "--deserialize=5",
            "--",
            "--deserialize",
            "6",
        ]);
        assert_eq!(
            reexec_args(&args, 9),
            v(&[
                "--deserialize",
                "9",
                "--container",
                "--",
                "--deserialize",
                "6"
            ])
        );
    }
}
