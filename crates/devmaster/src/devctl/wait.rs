//! `devctl wait` (udevadm 252's `wait`): wait until every named device (`/sys/...` or a
//! node or symlink under `/dev/`) is initialized by udev (it has a database entry), added
//! (it exists: `--initialized=no`) or removed (`--removed`), with `--settle` also until the
//! event queue is empty, at most `--timeout`. The check runs at the start, whenever a udev
//! (and, for "added", kernel) event arrives, and every 250 ms as udevadm's periodic timer
//! does; udevadm's inotify watch on `/run/udev` for `--settle` is that same periodic check
//! here.
//!
//! Also the small timing helpers the other waiting verbs share.

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::control::queue_is_empty;
use super::getopt::{long, Arg, Item, Long};
use super::sdev::{Dev, ENODEV};
use super::util::{parse_boolean, parse_sec, strerror, USEC_INFINITY};
use super::{Env, Io};

/// A point in time to stop waiting, or never.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// `usec` from now ([`USEC_INFINITY`]: never).
    pub fn after(usec: u64) -> Deadline {
        if usec == USEC_INFINITY {
            return Deadline(None);
        }
        Deadline(Instant::now().checked_add(Duration::from_micros(usec)))
    }

    /// Never passes.
    pub fn infinite(&self) -> bool {
        self.0.is_none()
    }

    /// Whether it has passed.
    pub fn passed(&self) -> bool {
        self.0.is_some_and(|d| Instant::now() >= d)
    }

    /// Milliseconds left, at most `cap`.
    pub fn ms_left(&self, cap: u32) -> u32 {
        match self.0 {
            None => cap,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now()).as_millis();
                u32::try_from(left).unwrap_or(u32::MAX).min(cap)
            }
        }
    }
}

/// Waits up to `ms` for a datagram on `sock` (draining what arrived), or just sleeps.
pub fn sleep_or_event(sock: Option<&sys::netlink::UeventSocket>, ms: u32) {
    let Some(s) = sock else {
        std::thread::sleep(Duration::from_millis(u64::from(ms)));
        return;
    };
    let mut fds = [sys::event::PollFd::new(s.as_raw_fd(), sys::event::READABLE)];
    if sys::event::poll(&mut fds, Some(ms)).is_err() {
        std::thread::sleep(Duration::from_millis(u64::from(ms)));
        return;
    }
    let mut buf = Vec::new();
    while let Ok(Some(_)) = s.recv(&mut buf) {}
}

const ARG_INITIALIZED: u32 = 0x100;
const ARG_REMOVED: u32 = 0x101;
const ARG_SETTLE: u32 = 0x102;

const LONGS: [Long; 6] = [
    long("timeout", Arg::Required, 't' as u32),
    long("initialized", Arg::Required, ARG_INITIALIZED),
    long("removed", Arg::No, ARG_REMOVED),
    long("settle", Arg::No, ARG_SETTLE),
    long("help", Arg::No, 'h' as u32),
    long("version", Arg::No, 'V' as u32),
];

const HELP: &str = "devctl wait [OPTIONS] DEVICE [DEVICE…]

Wait for devices or device symlinks being created.

  -h --help             Print this message
  -V --version          Print version of the program
  -t --timeout=SEC      Maximum time to wait for the device
     --initialized=BOOL Wait for devices being initialized by systemd-udevd
     --removed          Wait for devices being removed
     --settle           Also wait for all queued events being processed
";

/// What to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// A database entry.
    Initialized,
    /// Existence.
    Added,
    /// Absence.
    Removed,
}

impl Until {
    fn word(self) -> &'static str {
        match self {
            Until::Initialized => "initialized",
            Until::Added => "added",
            Until::Removed => "removed",
        }
    }
}

/// systemd's `path_simplify`: no repeated slashes, no `.` elements, no trailing slash.
fn simplify(p: &str) -> String {
    let parts: Vec<&str> = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let joined = parts.join("/");
    if p.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Whether `path` is what `until` waits for; `Err` with a warning's reason.
fn check_device(env: &Env, path: &str, until: Until) -> Result<bool, String> {
    if until == Until::Removed {
        let host = match path.strip_prefix("/sys/") {
            Some(r) => env.sys.join(r),
            None => env.dev.join(path.strip_prefix("/dev/").unwrap_or(path)),
        };
        return match std::fs::symlink_metadata(host) {
            Ok(_) => Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
            Err(e) => Err(strerror(e.raw_os_error().unwrap_or(5))),
        };
    }
    match Dev::from_path(env, path) {
        Ok(mut d) => Ok(until == Until::Added || d.is_initialized()),
        Err(ENODEV) => Ok(false),
        Err(e) => Err(strerror(e)),
    }
}

fn check(env: &Env, devices: &[String], until: Until, settle: bool, io: &mut Io) -> bool {
    if settle && !queue_is_empty(env) {
        return false;
    }
    for p in devices {
        match check_device(env, p, until) {
            Ok(true) => {}
            Ok(false) => return false,
            Err(e) => {
                let w = until.word();
                io.log(format!(
                    "Failed to check if device \"{p}\" is {w}, assuming not {w}: {e}"
                ));
                return false;
            }
        }
    }
    true
}

/// Entry point of `devctl wait`.
pub fn main(env: &Env, args: &[String], io: &mut Io) -> i32 {
    let p = super::getopt::parse("wait", args, "t:hV", &LONGS, false);
    let (mut until, mut timeout, mut settle) = (Until::Initialized, USEC_INFINITY, false);
    for item in p.items {
        let (c, a) = match item {
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
            Item::Error(e) => return io.fail(e),
        };
        match c {
            ARG_INITIALIZED => match parse_boolean(&a) {
                Some(b) => until = if b { Until::Initialized } else { Until::Added },
                None => return io.fail(format!("Failed to parse --initialized= parameter: {a}")),
            },
            ARG_REMOVED => until = Until::Removed,
            ARG_SETTLE => settle = true,
            c if c == 't' as u32 => match parse_sec(&a) {
                Some(t) => timeout = t,
                None => return io.fail(format!("Failed to parse -t/--timeout= parameter: {a}")),
            },
            c if c == 'V' as u32 => {
                let _ = writeln!(io.out, "{}", super::VERSION);
                return 0;
            }
            _ => {
                let _ = io.out.write_all(HELP.as_bytes());
                return 0;
            }
        }
    }
    if p.args.is_empty() {
        return io.fail("Too few arguments, expected at least one device path or device symlink.");
    }
    let mut devices = Vec::new();
    for a in &p.args {
        let s = simplify(a);
        if s.split('/').any(|c| c == "..") {
            return io.fail("Device path cannot contain \"..\".");
        }
        if !(s.starts_with("/dev/") || s.starts_with("/sys/")) {
            return io.fail(format!(
                "Specified path \"{s}\" does not start with \"/dev/\" or \"/sys/\"."
            ));
        }
        devices.push(s);
    }
    if check(env, &devices, until, settle, io) {
        return 0;
    }
    let deadline = Deadline::after(timeout);
    let udev = sys::netlink::UeventSocket::open(sys::netlink::Group::Udev).ok();
    let kernel = if until == Until::Added {
        sys::netlink::UeventSocket::open(sys::netlink::Group::Kernel).ok()
    } else {
        None
    };
    loop {
        let ms = deadline.ms_left(250);
        match (&udev, &kernel) {
            (Some(u), Some(k)) => {
                let mut fds = [
                    sys::event::PollFd::new(u.as_raw_fd(), sys::event::READABLE),
                    sys::event::PollFd::new(k.as_raw_fd(), sys::event::READABLE),
                ];
                let _ = sys::event::poll(&mut fds, Some(ms));
                let mut buf = Vec::new();
                while let Ok(Some(_)) = u.recv(&mut buf) {}
                while let Ok(Some(_)) = k.recv(&mut buf) {}
            }
            (u, _) => sleep_or_event(u.as_ref(), ms),
        }
        if check(env, &devices, until, settle, io) {
            return 0;
        }
        if deadline.passed() {
            return io.fail(format!(
                "Timed out for waiting devices being {}.",
                until.word()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_simplified() {
        assert_eq!(simplify("/sys//class/./net/lo/"), "/sys/class/net/lo");
        assert_eq!(simplify("dev/x"), "dev/x");
    }
}
