//! `devctl control` and `devctl settle`, as udevadm 252 has them.
//!
//! `control` sends its requests over the control socket in udevadm's order (exit alone;
//! else log level, stop or start of the exec queue, reload, each `--property`, children max,
//! ping) and waits for the daemon (`--timeout`, 60 s by default). `settle` pings the daemon
//! (as root; a daemon that is not running is not an error) so that every uevent it has
//! received is queued, then waits until `/run/udev/queue` is gone or `--exit-if-exists`
//! exists, at most `--timeout` (120 s). udevadm watches `/run/udev` with inotify; here the
//! check runs every 50 ms and whenever a udev event arrives, which ends the wait at the same
//! moments to within that period. The chroot check and the deprecation notice of
//! `systemd-udev-settle.service` are left out.

use super::ctrl::{Client, Message};
use super::getopt::{long, Arg, Item, Long};
use super::util::{parse_log_level, parse_sec, strerror};
use super::wait::{sleep_or_event, Deadline};
use super::{Env, Io};

const ARG_PING: u32 = 0x100;

const LONGS: [Long; 14] = [
    long("exit", Arg::No, 'e' as u32),
    long("log-level", Arg::Required, 'l' as u32),
    long("log-priority", Arg::Required, 'l' as u32),
    long("stop-exec-queue", Arg::No, 's' as u32),
    long("start-exec-queue", Arg::No, 'S' as u32),
    long("reload", Arg::No, 'R' as u32),
    long("reload-rules", Arg::No, 'R' as u32),
    long("property", Arg::Required, 'p' as u32),
    long("env", Arg::Required, 'p' as u32),
    long("children-max", Arg::Required, 'm' as u32),
    long("ping", Arg::No, ARG_PING),
    long("timeout", Arg::Required, 't' as u32),
    long("version", Arg::No, 'V' as u32),
    long("help", Arg::No, 'h' as u32),
];

const HELP: &str = "devctl control OPTION

Control the udev daemon.

  -h --help                Show this help
  -V --version             Show package version
  -e --exit                Instruct the daemon to cleanup and exit
  -l --log-level=LEVEL     Set the udev log level for the daemon
  -s --stop-exec-queue     Do not execute events, queue only
  -S --start-exec-queue    Execute events, flush queue
  -R --reload              Reload rules and databases
  -p --property=KEY=VALUE  Set a global property for all events
  -m --children-max=N      Maximum number of children
     --ping                Wait for udev to respond to a ping message
  -t --timeout=SECONDS     Maximum time to block for a reply
";

fn os_err(e: &std::io::Error) -> String {
    strerror(e.raw_os_error().unwrap_or(5))
}

/// What `devctl control` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `--exit`.
    pub exit: bool,
    /// `--log-level`.
    pub log_level: Option<i32>,
    /// `--stop-exec-queue` (`Some(false)`) / `--start-exec-queue` (`Some(true)`), last wins.
    pub start_exec_queue: Option<bool>,
    /// `--reload`.
    pub reload: bool,
    /// `--property` entries.
    pub env: Vec<String>,
    /// `--children-max`.
    pub children_max: Option<i32>,
    /// `--ping`.
    pub ping: bool,
    /// `--timeout` in µs.
    pub timeout: u64,
}

impl Request {
    /// The messages in udevadm's order.
    pub fn messages(&self) -> Vec<(Message, &'static str)> {
        if self.exit {
            return vec![(Message::Exit, "Failed to send exit request")];
        }
        let mut m = Vec::new();
        if let Some(l) = self.log_level {
            m.push((
                Message::SetLogLevel(l),
                "Failed to send request to set log level",
            ));
        }
        match self.start_exec_queue {
            Some(false) => m.push((
                Message::StopExecQueue,
                "Failed to send request to stop exec queue",
            )),
            Some(true) => m.push((
                Message::StartExecQueue,
                "Failed to send request to start exec queue",
            )),
            None => {}
        }
        if self.reload {
            m.push((Message::Reload, "Failed to send reload request"));
        }
        for e in &self.env {
            m.push((
                Message::SetEnv(e.clone()),
                "Failed to send request to update environment",
            ));
        }
        if let Some(n) = self.children_max {
            m.push((
                Message::SetChildrenMax(n),
                "Failed to send request to set number of children",
            ));
        }
        if self.ping {
            m.push((Message::Ping, "Failed to send a ping message"));
        }
        m
    }
}

/// Parses `devctl control`'s arguments: the request, or the exit status to return now.
pub fn parse(args: &[String], io: &mut Io) -> Result<Request, i32> {
    if args.is_empty() {
        return Err(io.fail("This command expects one or more options."));
    }
    let p = super::getopt::parse("control", args, "el:sSRp:m:t:Vh", &LONGS, false);
    let mut r = Request {
        exit: false,
        log_level: None,
        start_exec_queue: None,
        reload: false,
        env: Vec::new(),
        children_max: None,
        ping: false,
        timeout: 60_000_000,
    };
    for item in p.items {
        let (c, a) = match item {
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
            Item::Error(e) => return Err(io.fail(e)),
        };
        if c == ARG_PING {
            r.ping = true;
            continue;
        }
        match char::from_u32(c).unwrap_or('?') {
            'e' => r.exit = true,
            'l' => match parse_log_level(&a) {
                Some(l) => r.log_level = Some(l),
                None => {
                    return Err(
                        io.fail(format!("Failed to parse log level '{a}': {}", strerror(22)))
                    )
                }
            },
            's' => r.start_exec_queue = Some(false),
            'S' => r.start_exec_queue = Some(true),
            'R' => r.reload = true,
            'p' => {
                if !a.contains('=') {
                    return Err(io.fail(format!("expect <KEY>=<value> instead of '{a}'")));
                }
                r.env.push(a);
            }
            'm' => match a.parse::<u32>().ok().and_then(|n| i32::try_from(n).ok()) {
                Some(n) => r.children_max = Some(n),
                None => {
                    let e = if a.trim_start().starts_with('-') || a.parse::<u64>().is_ok() {
                        34
                    } else {
                        22
                    };
                    return Err(io.fail(format!(
                        "Failed to parse maximum number of children '{a}': {}",
                        strerror(e)
                    )));
                }
            },
            't' => match parse_sec(&a) {
                Some(t) => r.timeout = t,
                None => {
                    return Err(io.fail(format!(
                        "Failed to parse timeout value '{a}': {}",
                        strerror(22)
                    )))
                }
            },
            'V' => {
                let _ = writeln!(io.out, "{}", super::VERSION);
                return Err(0);
            }
            _ => {
                let _ = io.out.write_all(HELP.as_bytes());
                return Err(0);
            }
        }
    }
    if let Some(extra) = p.args.first() {
        return Err(io.fail(format!("Extraneous argument: {extra}")));
    }
    Ok(r)
}

/// Entry point of `devctl control`.
pub fn main(env: &Env, args: &[String], io: &mut Io) -> i32 {
    let r = match parse(args, io) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut c = Client::new(&env.control());
    for (m, what) in r.messages() {
        if let Err(e) = c.send(&m) {
            return io.fail(format!("{what}: {}", os_err(&e)));
        }
        if m == Message::Exit {
            return 0;
        }
    }
    if let Err(e) = c.wait(r.timeout) {
        return io.fail(format!(
            "Failed to wait for daemon to reply: {}",
            os_err(&e)
        ));
    }
    0
}

const SETTLE_LONGS: [Long; 7] = [
    long("timeout", Arg::Required, 't' as u32),
    long("exit-if-exists", Arg::Required, 'E' as u32),
    long("version", Arg::No, 'V' as u32),
    long("help", Arg::No, 'h' as u32),
    long("seq-start", Arg::Required, 's' as u32),
    long("seq-end", Arg::Required, 'e' as u32),
    long("quiet", Arg::No, 'q' as u32),
];

const SETTLE_HELP: &str = "devctl settle [OPTIONS]

Wait for pending udev events.

  -h --help                 Show this help
  -V --version              Show package version
  -t --timeout=SEC          Maximum time to wait for events
  -E --exit-if-exists=FILE  Stop waiting if file exists
";

/// Whether the event queue is empty (`/run/udev/queue` does not exist).
pub fn queue_is_empty(env: &Env) -> bool {
    std::fs::symlink_metadata(env.run.join("queue")).is_err()
}

/// Entry point of `devctl settle`.
pub fn settle_main(env: &Env, args: &[String], io: &mut Io) -> i32 {
    let p = super::getopt::parse("settle", args, "t:E:Vhs:e:q", &SETTLE_LONGS, false);
    let mut timeout = 120_000_000u64;
    let mut exists: Option<String> = None;
    for item in p.items {
        let (c, a) = match item {
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
            Item::Error(e) => return io.fail(e),
        };
        match char::from_u32(c).unwrap_or('?') {
            't' => match parse_sec(&a) {
                Some(t) => timeout = t,
                None => {
                    return io.fail(format!(
                        "Failed to parse timeout value '{a}': {}",
                        strerror(22)
                    ))
                }
            },
            'E' => {
                if a.is_empty() || a.len() >= 4096 {
                    return io.fail(format!("Invalid path: {a}"));
                }
                exists = Some(a);
            }
            'V' => {
                let _ = writeln!(io.out, "{}", super::VERSION);
                return 0;
            }
            'h' => {
                let _ = io.out.write_all(SETTLE_HELP.as_bytes());
                return 0;
            }
            c => return io.fail(format!("Option -{c} no longer supported.")),
        }
    }
    if sys_is_root() {
        let mut c = Client::new(&env.control());
        if c.send(&Message::Ping).is_err() {
            // No daemon: nothing is pending.
            return 0;
        }
        if let Err(e) = c.wait(timeout.max(5_000_000)) {
            return io.fail(format!(
                "Failed to wait for daemon to reply: {}",
                os_err(&e)
            ));
        }
    } else if let Err(e) = std::fs::symlink_metadata(env.control()) {
        if e.kind() == std::io::ErrorKind::NotFound {
            return io.fail("systemd-udevd is not running.");
        }
        return io.fail(format!(
            "Failed to check if /run/udev/control exists: {}",
            os_err(&e)
        ));
    }
    let check = || {
        exists
            .as_ref()
            .is_some_and(|f| std::fs::symlink_metadata(f).is_ok())
            || queue_is_empty(env)
    };
    let deadline = Deadline::after(timeout);
    // As udevadm: woken by the queue file going (inotify on the run directory); without
    // inotify, by the processed-event broadcasts and a short poll.
    let queue_gone = sys::inotify::Inotify::new().ok().filter(|i| {
        let run = env.control();
        let dir = run.parent().unwrap_or(std::path::Path::new("/run/udev"));
        let mask = sys::inotify::IN_DELETE | sys::inotify::IN_MOVED_FROM;
        i.add_watch(dir, mask).is_ok()
    });
    let monitor = queue_gone
        .is_none()
        .then(|| sys::netlink::UeventSocket::open(sys::netlink::Group::Udev).ok())
        .flatten();
    loop {
        if check() {
            return 0;
        }
        if deadline.passed() {
            return io.fail("Timed out for waiting the udev queue being empty.");
        }
        match &queue_gone {
            Some(ino) => {
                use std::os::fd::AsRawFd;
                let mut fds = [sys::event::PollFd::new(
                    ino.as_raw_fd(),
                    sys::event::READABLE,
                )];
                let _ = sys::event::poll(&mut fds, Some(deadline.ms_left(500)));
                let _ = ino.read_events();
            }
            None => sleep_or_event(monitor.as_ref(), deadline.ms_left(50)),
        }
    }
}

fn sys_is_root() -> bool {
    // The effective uid owns the files this process creates: /proc/self is owned by it.
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> (Result<Request, i32>, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let r = parse(
            &args,
            &mut Io {
                out: &mut out,
                err: &mut err,
            },
        );
        (r, String::from_utf8(err).unwrap())
    }

    #[test]
    fn control_argument_table() {
        // (arguments, messages in sending order, timeout) — udevadm 252's order.
        let ok: &[(&[&str], &[Message], u64)] = &[
            (&["--ping"], &[Message::Ping], 60_000_000),
            (&["-R", "-t", "5"], &[Message::Reload], 5_000_000),
            (
                &["--reload-rules", "--log-priority=err"],
                &[Message::SetLogLevel(3), Message::Reload],
                60_000_000,
            ),
            (&["-S", "-s"], &[Message::StopExecQueue], 60_000_000),
            (
                &["-m0", "--env", "A=1"],
                &[Message::SetEnv("A=1".into()), Message::SetChildrenMax(0)],
                60_000_000,
            ),
            (&["--ping", "-e", "-R"], &[Message::Exit], 60_000_000),
            (&["--timeout=1min"], &[], 60_000_000),
        ];
        for (args, msgs, timeout) in ok {
            let (r, err) = parsed(args);
            let r = r.unwrap_or_else(|c| panic!("{args:?}: {c} {err}"));
            let got: Vec<Message> = r.messages().into_iter().map(|(m, _)| m).collect();
            assert_eq!(&got, msgs, "{args:?}");
            assert_eq!(r.timeout, *timeout, "{args:?}");
        }
        let bad: &[(&[&str], &str)] = &[
            (&[], "This command expects one or more options.\n"),
            (
                &["-l", "loud"],
                "Failed to parse log level 'loud': Invalid argument\n",
            ),
            (&["-p", "A"], "expect <KEY>=<value> instead of 'A'\n"),
            (&["--ping", "x"], "Extraneous argument: x\n"),
            (
                &["-t", "soon"],
                "Failed to parse timeout value 'soon': Invalid argument\n",
            ),
            (&["--pong"], "control: unrecognized option '--pong'\n"),
        ];
        for (args, msg) in bad {
            let (r, err) = parsed(args);
            assert_eq!((r.err(), err.as_str()), (Some(1), *msg), "{args:?}");
        }
    }
}
