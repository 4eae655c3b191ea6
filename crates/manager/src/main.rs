//! `sysmaster`, the service manager daemon:
//!
//! ```text
//! sysmaster [--unit-path DIR]... [--runtime-dir DIR] [--start UNIT]... [--fstab FILE] [--udev-dir DIR]
//! ```
//!
//! `--fstab` names the file the fstab generator reads (default: `/etc/fstab` on the
//! default search path; none with `--unit-path`). `--udev-dir` names udev's runtime
//! directory whose database gives the device units (default: `/run/udev`, together with
//! udev's netlink events, on the default search path outside containers; none with
//! `--unit-path`).
//!
//! `--unit-path` replaces the default search path (repeatable), `--runtime-dir` is where
//! the `control` and `notify` sockets live (default `/run/sysmaster`), `--start` queues a
//! start job once the manager is up (under `sysmaster-init` without `--start`:
//! `default.target`, or the unit the kernel command line names with `systemd.unit=`,
//! `sysmaster.unit=` or a runlevel word, outside containers). SIGTERM or SIGINT stop every unit, then the manager
//! exits.

use manager::daemon::{Daemon, Options};
use std::path::PathBuf;

const USAGE: &str =
    "usage: sysmaster [--unit-path DIR]... [--runtime-dir DIR] [--start UNIT]... [--fstab FILE] [--udev-dir DIR]";

fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        unit_dirs: Vec::new(),
        runtime_dir: PathBuf::from("/run/sysmaster"),
        start: Vec::new(),
        fstab: None,
        udev_dir: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--unit-path" => options.unit_dirs.push(PathBuf::from(value()?)),
            "--runtime-dir" => options.runtime_dir = PathBuf::from(value()?),
            "--start" => options.start.push(value()?),
            "--fstab" => options.fstab = Some(PathBuf::from(value()?)),
            "--udev-dir" => options.udev_dir = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(options)
}

fn main() {
    // A crash must end the manager at once, so that PID 1 replaces it: the runtime's
    // stack-overflow handler would swallow a SIGSEGV sent by kill(2).
    for signal in [sys::signal::SIGSEGV, sys::signal::SIGBUS] {
        if let Err(e) = sys::signal::reset_to_default(signal) {
            eprintln!("sysmaster: cannot reset the action of signal {signal}: {e}");
        }
    }
    let options = match parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let mut daemon = match Daemon::new(&options) {
        Ok(d) => d,
        Err(message) => {
            eprintln!("sysmaster: {message}");
            std::process::exit(1);
        }
    };
    eprintln!(
        "sysmaster: manager up, control socket {}",
        options.runtime_dir.join("control").display()
    );
    let code = daemon.run(&options.start);
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_line() {
        let o = parse(args(&[
            "--unit-path",
            "/a",
            "--unit-path=/b",
            "--runtime-dir",
            "/r",
            "--start=x.target",
        ]))
        .unwrap();
        assert_eq!(o.unit_dirs, vec![PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(o.runtime_dir, PathBuf::from("/r"));
        assert_eq!(o.start, vec!["x.target".to_string()]);
        let d = parse(args(&[])).unwrap();
        assert!(d.unit_dirs.is_empty());
        assert_eq!(d.runtime_dir, PathBuf::from("/run/sysmaster"));
        assert!(parse(args(&["--bogus"])).is_err());
        assert!(parse(args(&["--runtime-dir"])).is_err());
    }
}
