//! The PID 1 event loop. One `poll(2)` over the signalfd and the init link, with one
//! timeout computed from the state (next heartbeat, heartbeat deadline, kill grace,
//! restart backoff): PID 1 wakes only for a signal, a deadline or the manager.
//!
//! The manager's life: started with a fresh socketpair and `Hello` + stored fds + the
//! buffered exits + `HelloDone` queued; pinged every heartbeat; without a `Pong` for the
//! heartbeat timeout it gets SIGABRT, and SIGKILL after the grace; when it exits it is
//! started again at once after `Restarting`, else after the crash-loop backoff (or the
//! emergency shell runs first, or the final step when a shutdown was asked for). Before
//! its exit is handled, everything it sent is read, so "send `Restarting`/`Final`, then
//! exit" is safe.
//!
//! Decisions: we are in a container when we are not PID 1 at all, `container=` is in our
//! environment, or `/proc/self/ns/pid` is not the initial PID namespace (its inode is the
//! kernel's fixed `PROC_PID_INIT_INO`); `container=` in the settings overrides all that.
//! A container gets no mounts (but `/proc` where missing), no `/dev/console`, no
//! unmounting at the end, and its final step exits: `Exit{status}` with the status,
//! halt/poweroff with 0, reboot/kexec by `reboot(2)` (the kernel ends a namespace's init
//! as killed by SIGHUP) or, if that is refused, with status 133 (systemd-nspawn's
//! "reboot" status).

use crate::backoff::CrashLoop;
use crate::config::{self, Config, DEFAULT_CONFIG};
use crate::exits::ExitBuffer;
use crate::link::Link;
use crate::serial::{self, Saved};
use crate::signals::{self, Action};
use crate::{mounts, say};
use proto::init::{decode, ExitKind, FinalAction, InitRequest, PacketError, ToInit, ToManager};
use proto::init::{INIT_FD_ENV, INIT_LINK_VERSION, MAX_PACKET};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use sys::event::{monotonic_usec, poll, PollFd, SignalFd, READABLE, WRITABLE};
use sys::power::Command;
use sys::process::Exit;
use sys::reap::{self, Waitable};
use sys::signal::{SIGABRT, SIGCONT, SIGKILL, SIGTERM};

/// The fd store refuses new names beyond this many descriptors.
pub const MAX_STORED_FDS: usize = 4096;
/// Packets read from the link per wake-up: a flooding manager cannot starve signals.
const PACKETS_PER_WAKE: usize = 64;
/// Protocol errors logged per manager; a flood of them is not.
const MAX_BAD_PACKETS_LOGGED: u32 = 10;
/// The exit status of a container's init asked to reboot when `reboot(2)` is refused:
/// systemd-nspawn's "reboot requested" status.
const CONTAINER_REBOOT_STATUS: i32 = 133;
/// The inode of the initial PID namespace (the kernel's fixed `PROC_PID_INIT_INO`).
const INIT_PID_NS_INO: u64 = 0xEFFF_FFFC;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hung {
    No,
    Aborted { kill_at: u64 },
    Killed,
}

/// Crashes of a ready manager within a minute beyond which its restart waits a second.
const READY_CRASH_STORM: usize = 32;

struct Manager {
    pid: u32,
    /// `None` once the manager closed it or it broke: the heartbeat then runs out.
    link: Option<Link>,
    alive_at: u64,
    next_ping: u64,
    hung: Hung,
    restarting: bool,
    /// It said `Ready`: its crash is healed at once, not backed off.
    ready: bool,
    bad_packets: u32,
}

pub struct Init {
    cfg: Config,
    container: bool,
    /// PID 1 of the machine: the console, `reboot(2)`, the file systems are ours.
    machine: bool,
    stdio_missing: bool,
    signals: SignalFd,
    exits: ExitBuffer,
    store: BTreeMap<String, OwnedFd>,
    starts: u64,
    ping_seq: u64,
    crash: CrashLoop,
    /// Crashes of managers that had been ready, for a gentler limit of their own.
    ready_crashes: CrashLoop,
    manager: Option<Manager>,
    shell: Option<u32>,
    restart_at: Option<u64>,
    planned: bool,
    /// The latest request that found no manager.
    pending: Option<InitRequest>,
    /// The latest shutdown request, finished by PID 1 if the manager cannot be.
    shutdown: Option<InitRequest>,
    argv: Vec<String>,
    buf: Vec<u8>,
}

impl Manager {
    fn new(pid: u32, link: Option<Link>, now: u64, heartbeat: u64) -> Manager {
        Manager {
            pid,
            link,
            alive_at: now,
            next_ping: now.saturating_add(heartbeat),
            hung: Hung::No,
            restarting: false,
            ready: false,
            bad_packets: 0,
        }
    }
}

/// What a re-executed PID 1 takes over from its previous image.
struct Inherited {
    saved: Saved,
    store: BTreeMap<String, OwnedFd>,
    link: Option<OwnedFd>,
}

fn ms(usec: u64) -> u32 {
    u32::try_from(usec.div_ceil(1000)).unwrap_or(u32::MAX)
}

fn secs(usec: u64) -> f64 {
    usec as f64 / 1e6
}

fn describe(exit: Exit) -> String {
    match exit {
        Exit::Exited(code) => format!("exited with status {code}"),
        Exit::Killed {
            signal,
            core_dumped,
        } => format!(
            "was killed by signal {signal}{}",
            if core_dumped { " (core dumped)" } else { "" }
        ),
    }
}

fn cstring(bytes: &[u8]) -> CString {
    CString::new(bytes).unwrap_or_default()
}

/// Our environment for a child, with `extra` (the init-link fd) replacing its variable.
fn environment(extra: Option<&str>) -> Vec<CString> {
    std::env::vars_os()
        .filter(|(k, _)| k != INIT_FD_ENV)
        .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
        .chain(extra.map(|e| format!("{INIT_FD_ENV}={e}").into_bytes()))
        .map(|b| cstring(&b))
        .collect()
}

/// Are we PID 1 of a container? Not PID 1 at all, `container=` set by the container
/// manager (systemd's convention), or a PID namespace other than the first.
fn detect_container(pid1: bool) -> bool {
    !pid1
        || std::env::var_os("container").is_some()
        || std::fs::metadata("/proc/self/ns/pid").is_ok_and(|m| m.ino() != INIT_PID_NS_INO)
}

/// A PID 1 may start without standard descriptors (an initramfs without
/// `/dev/console`): placeholders then take 0-2, so that none of our descriptors gets
/// those numbers and log lines to stderr go nowhere; our children get the console (or
/// /dev/null) instead. True when that happened.
fn reserve_stdio() -> bool {
    let mut missing = false;
    for _ in 0..3 {
        if (0..3).all(sys::fd::is_open) {
            break;
        }
        missing = true;
        match std::fs::File::open("/") {
            Ok(dir) if dir.as_raw_fd() < 3 => drop(dir.into_raw_fd()),
            _ => break,
        }
    }
    missing
}

/// Takes over the state and descriptors a previous image left; before anything else is
/// opened, so no number can be taken twice.
fn inherit(fd: i32) -> Option<Inherited> {
    let file = sys::fd::adopt_inherited(fd)
        .map_err(|e| say!("cannot take the saved state (fd {fd}): {e}"))
        .ok()?;
    let mut text = String::new();
    if let Err(e) = std::fs::File::from(file).read_to_string(&mut text) {
        say!("cannot read the saved state: {e}");
    }
    let (saved, warnings) = serial::decode_state(&text);
    warnings.iter().for_each(|w| say!("{w}"));
    let saved = saved?;
    let mut store = BTreeMap::new();
    for (fd, name) in &saved.fds {
        match sys::fd::adopt_inherited(*fd) {
            Ok(owned) => drop(store.insert(name.clone(), owned)),
            Err(e) => say!("stored fd {name:?} (fd {fd}) is lost: {e}"),
        }
    }
    let link = saved.link.and_then(|fd| {
        sys::fd::adopt_inherited(fd)
            .map_err(|e| say!("the init link (fd {fd}) is lost: {e}"))
            .ok()
    });
    Some(Inherited { saved, store, link })
}

/// `sysmaster-init`: never returns.
pub fn main() -> ! {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let args = config::parse_args(argv.get(1..).unwrap_or_default());
    let stdio_missing = reserve_stdio();
    let inherited = args.deserialize.and_then(inherit);
    // Signals next: from here on, none can be lost (they stay pending until read).
    let signals = loop {
        match SignalFd::new(&signals::HANDLED) {
            Ok(s) => break s,
            Err(e) => say!("cannot set up signal handling: {e}; retrying"),
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    };
    let pid1 = std::process::id() == 1;
    if !pid1 {
        // Run as an ordinary process (debugging): orphans of the manager still come to us.
        if let Err(e) = sys::process::set_child_subreaper() {
            say!("cannot become a subreaper: {e}");
        }
    }
    if pid1 && inherited.is_none() {
        mounts::mount_proc();
    }
    let conf_path = args.config_file.clone().unwrap_or(DEFAULT_CONFIG.into());
    let (conf, mut warnings) = match std::fs::read_to_string(&conf_path) {
        Ok(text) => config::parse_conf(&text, &conf_path.display().to_string()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (vec![], vec![]),
        Err(e) => (
            vec![],
            vec![format!("cannot read {}: {e}", conf_path.display())],
        ),
    };
    let detected = match &inherited {
        Some(i) => i.saved.container,
        None => detect_container(pid1),
    };
    // The kernel command line is the host's in a container: read it on a machine only.
    let (early, _) = Config::build(&[&conf, &args.settings], &[]);
    let cmdline = match early.container.unwrap_or(detected) {
        true => vec![],
        false => std::fs::read_to_string("/proc/cmdline")
            .map(|t| config::parse_kernel_cmdline(&t))
            .unwrap_or_default(),
    };
    let (cfg, more) = Config::build(&[&conf, &cmdline, &args.settings], &args.manager_args);
    warnings.extend(more);
    let container = match &inherited {
        Some(i) => i.saved.container,
        None => cfg.container.unwrap_or(detected),
    };
    let machine = pid1 && !container;
    if machine {
        if inherited.is_none() {
            mounts::early_mounts();
        }
        log_to_console();
        if let Err(e) = sys::power::reboot(Command::DisableCtrlAltDel) {
            say!("cannot turn off the kernel's Ctrl-Alt-Del reboot: {e}");
        }
    }
    // The fd store must not run into the open-file limit a kernel gives init (1024).
    if let Err(e) = sys::fd::raise_nofile_to(2 * MAX_STORED_FDS as u64) {
        say!("cannot raise the open-file limit: {e}");
    }
    warnings.iter().for_each(|w| say!("{w}"));
    let mut init = Init {
        exits: ExitBuffer::new(cfg.max_exits),
        cfg,
        container,
        machine,
        stdio_missing,
        signals,
        store: BTreeMap::new(),
        starts: 0,
        ping_seq: 0,
        crash: CrashLoop::default(),
        ready_crashes: CrashLoop::default(),
        manager: None,
        shell: None,
        restart_at: None,
        planned: false,
        pending: None,
        shutdown: None,
        argv,
        buf: vec![0; MAX_PACKET],
    };
    let now = monotonic_usec();
    match inherited {
        Some(i) => init.restore(i, now),
        None => {
            let place = if container {
                "a container"
            } else {
                "the machine"
            };
            say!("starting as PID {} of {place}", std::process::id());
            init.start_manager(now);
        }
    }
    init.reap();
    init.run()
}

fn log_to_console() {
    if !crate::log::use_console() {
        say!("cannot open /dev/console: logging to standard error");
    }
}

impl Init {
    fn run(mut self) -> ! {
        loop {
            let now = monotonic_usec();
            self.timers(now);
            self.flush();
            let timeout = self.next_deadline().map(|d| ms(d.saturating_sub(now)));
            let mut fds = vec![PollFd::new(self.signals.as_raw_fd(), READABLE)];
            if let Some(link) = self.manager.as_ref().and_then(|m| m.link.as_ref()) {
                let events = if link.blocked {
                    READABLE | WRITABLE
                } else {
                    READABLE
                };
                fds.push(PollFd::new(link.fd.as_raw_fd(), events));
            }
            if let Err(e) = poll(&mut fds, timeout) {
                say!("poll failed: {e}");
                std::thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
            if fds.first().is_some_and(|p| p.readable()) {
                self.on_signals();
            }
            if let Some(p) = fds.get(1).filter(|p| p.readable()) {
                self.on_link(p.revents & sys::seqpacket::HANGUP != 0, PACKETS_PER_WAKE);
            }
        }
    }

    fn next_deadline(&self) -> Option<u64> {
        let manager = self.manager.as_ref().and_then(|m| match m.hung {
            Hung::No => Some(
                m.next_ping
                    .min(m.alive_at.saturating_add(self.cfg.heartbeat_timeout_usec)),
            ),
            Hung::Aborted { kill_at } => Some(kill_at),
            Hung::Killed => None,
        });
        let idle = self.manager.is_none() && self.shell.is_none();
        match (self.restart_at.filter(|_| idle), manager) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn timers(&mut self, now: u64) {
        let idle = self.manager.is_none() && self.shell.is_none();
        if idle && self.restart_at.is_some_and(|t| now >= t) {
            self.restart_at = None;
            self.start_manager(now);
        }
        let Some(m) = self.manager.as_mut() else {
            return;
        };
        match m.hung {
            Hung::No if now >= m.alive_at.saturating_add(self.cfg.heartbeat_timeout_usec) => {
                say!(
                    "the manager (pid {}) did not answer for {} s: sending SIGABRT",
                    m.pid,
                    secs(now.saturating_sub(m.alive_at))
                );
                let _ = sys::process::kill(m.pid, SIGABRT);
                m.hung = Hung::Aborted {
                    kill_at: now.saturating_add(self.cfg.kill_grace_usec),
                };
            }
            Hung::No if now >= m.next_ping => {
                m.next_ping = now.saturating_add(self.cfg.heartbeat_usec);
                // A manager that does not read its socket gets no more pings to pile up.
                if let Some(link) = m.link.as_mut().filter(|l| !l.blocked) {
                    self.ping_seq += 1;
                    link.queue(&self.exits, ToManager::Ping { seq: self.ping_seq });
                }
            }
            Hung::Aborted { kill_at } if now >= kill_at => {
                say!(
                    "the manager (pid {}) is still there: sending SIGKILL",
                    m.pid
                );
                let _ = sys::process::kill(m.pid, SIGKILL);
                m.hung = Hung::Killed;
            }
            _ => {}
        }
    }

    fn flush(&mut self) {
        let Some(m) = self.manager.as_mut() else {
            return;
        };
        if let Some(Err(e)) = m.link.as_mut().map(|l| l.flush(&self.exits, &self.store)) {
            // EPIPE is the manager exiting; its SIGCHLD says the rest.
            if e.kind() != io::ErrorKind::BrokenPipe {
                say!("the init link to the manager (pid {}) broke: {e}", m.pid);
            }
            self.drop_link();
        }
    }

    /// Forgets the link (the manager closed it or it broke: the heartbeat runs out, unless
    /// the manager's exit comes first); a request it had not sent yet waits for the next.
    fn drop_link(&mut self) {
        let link = self.manager.as_mut().and_then(|m| m.link.take());
        if let Some(r) = link.and_then(|l| l.unsent_request()) {
            self.pending = Some(r);
        }
    }

    fn on_signals(&mut self) {
        loop {
            let signal = match self.signals.read() {
                Ok(Some(s)) => s,
                Ok(None) => return,
                Err(e) => return say!("cannot read signals: {e}"),
            };
            match signals::action(signal, self.container) {
                Action::Children => self.reap(),
                Action::Request(r) => self.request(signal, r),
                Action::Immediate(a) => {
                    say!("signal {signal}: {a:?} at once, without the manager");
                    self.final_step(a)
                }
                Action::Ignore => {}
            }
        }
    }

    fn request(&mut self, signal: i32, request: InitRequest) {
        if signals::shutdown_action(request).is_some() {
            self.shutdown = Some(request);
        }
        match self.manager.as_mut().and_then(|m| m.link.as_mut()) {
            Some(link) => {
                say!("signal {signal}: asking the manager for {request:?}");
                if !link.queue(&self.exits, ToManager::Request { request }) {
                    say!("the init link queue is full: {request:?} dropped");
                }
            }
            None => {
                say!("signal {signal}: {request:?} kept for the next manager");
                self.pending = Some(request);
            }
        }
    }

    fn reap(&mut self) {
        loop {
            let (pid, exit) = match reap::peek() {
                Ok(Waitable::Exited { pid, exit }) => (pid, exit),
                Ok(_) => return,
                Err(e) => return say!("waitid failed: {e}"),
            };
            let manager = self.manager.as_ref().is_some_and(|m| m.pid == pid);
            // Read while it is a zombie: after reaping, the pid may be someone else's.
            let start_time = match manager || self.shell == Some(pid) {
                true => 0,
                false => sys::process::start_time(pid).unwrap_or(0),
            };
            if manager {
                // What it sent before exiting (Restarting, Final, AckExits) counts: read
                // it all while it is a zombie (a re-exec then still finds it).
                self.on_link(true, usize::MAX);
            }
            if let Err(e) = reap::reap(pid) {
                return say!("cannot reap pid {pid}: {e}");
            }
            let now = monotonic_usec();
            if manager {
                self.manager_exited(exit, now);
            } else if self.shell == Some(pid) {
                say!(
                    "the emergency shell {}: starting the manager again",
                    describe(exit)
                );
                self.shell = None;
                self.crash.reset();
                self.restart_at = Some(now);
            } else {
                let (kind, status) = match exit {
                    Exit::Exited(code) => (ExitKind::Exited, code),
                    Exit::Killed {
                        signal,
                        core_dumped: true,
                    } => (ExitKind::Dumped, signal),
                    Exit::Killed { signal, .. } => (ExitKind::Killed, signal),
                };
                if self.exits.push(pid, start_time, kind, status)
                    && self.exits.dropped().is_power_of_two()
                {
                    let n = self.exits.dropped();
                    say!("the exit buffer is full: {n} records dropped so far");
                }
            }
        }
    }

    fn manager_exited(&mut self, exit: Exit, now: u64) {
        let Some(m) = self.manager.take() else {
            return;
        };
        say!("the manager (pid {}) {}", m.pid, describe(exit));
        if let Some(r) = m.link.as_ref().and_then(Link::unsent_request) {
            self.pending = Some(r);
        }
        if m.restarting && m.hung == Hung::No {
            say!("starting the manager again at once, as it asked");
            self.planned = true;
            self.restart_at = Some(now);
            return;
        }
        if m.ready && m.hung == Hung::No {
            // A manager that was up died: its successor recovers from the state at once.
            // Only a storm of such crashes (more than half the remembered ones within
            // a minute) is slowed down, to a second.
            let storm = self.ready_crashes.failed(now).failures > READY_CRASH_STORM;
            let delay = if storm { 1_000_000 } else { 0 };
            say!(
                "the manager had been up: starting it again in {} ms",
                delay / 1000
            );
            self.restart_at = Some(now.saturating_add(delay));
            return;
        }
        let v = self.crash.failed(now);
        if v.crash_loop {
            if let Some(action) = self.shutdown.and_then(signals::shutdown_action) {
                say!("the manager keeps failing while a shutdown was asked for: finishing it");
                self.final_step(action);
            }
            if self.cfg.emergency_shell {
                return self.start_shell(now);
            }
        }
        say!(
            "the manager failed {} times within a minute: starting it again in {} ms",
            v.failures,
            v.delay_usec / 1000
        );
        self.restart_at = Some(now.saturating_add(v.delay_usec));
    }

    fn start_manager(&mut self, now: u64) {
        self.starts += 1;
        let (ours, theirs) = match sys::seqpacket::pair() {
            Ok(pair) => pair,
            Err(e) => return self.start_failed(now, format!("cannot create the init link: {e}")),
        };
        let path = self.cfg.manager.as_os_str().as_bytes();
        let argv = std::iter::once(path)
            .chain(self.cfg.manager_args.iter().map(|a| a.as_bytes()))
            .map(cstring)
            .collect();
        let plan = sys::spawn::Plan {
            path: cstring(path),
            argv,
            env: environment(Some("3")),
            stdio: self.stdio(false),
            fds: vec![theirs],
            ..Default::default()
        };
        let spawned = sys::spawn::spawn(&plan);
        // Our copy of the manager's end must go, or its exit would not close the link.
        drop(plan);
        let child = match spawned {
            Ok(child) => child,
            Err(e) => return self.start_failed(now, format!("cannot start the manager: {e}")),
        };
        let pid = child.pid;
        match child.wait_exec() {
            Ok(_) => say!(
                "started the manager {} (pid {pid}, start {})",
                self.cfg.manager.display(),
                self.starts
            ),
            // It has exited with the step's status: its SIGCHLD counts the failure.
            Err(f) => say!("cannot execute {}: {f}", self.cfg.manager.display()),
        }
        let mut link = Link::new(ours, 0, vec![]);
        link.queue_first(ToManager::Hello {
            version: INIT_LINK_VERSION,
            manager_starts: self.starts,
            planned: self.planned,
            dropped_exits: self.exits.dropped(),
            container: self.container,
        });
        for name in self.store.keys() {
            link.queue_first(ToManager::StoredFd { name: name.clone() });
        }
        link.queue(&self.exits, ToManager::HelloDone);
        if let Some(request) = self.pending.take() {
            link.queue(&self.exits, ToManager::Request { request });
        }
        self.planned = false;
        self.manager = Some(Manager::new(pid, Some(link), now, self.cfg.heartbeat_usec));
    }

    fn start_failed(&mut self, now: u64, why: String) {
        let delay = self.crash.failed(now).delay_usec;
        say!("{why}; trying again in {} ms", delay / 1000);
        self.restart_at = Some(now.saturating_add(delay));
    }

    /// Standard descriptors for a child: ours (`None`), unless we have none or `console`
    /// is asked for: then the console on a machine, /dev/null in a container.
    fn stdio(&self, console: bool) -> [Option<OwnedFd>; 3] {
        if !console && !self.stdio_missing {
            return [None, None, None];
        }
        let open = || match self.machine {
            true => sys::fd::open_terminal(std::path::Path::new("/dev/console"), false),
            false => std::fs::File::options()
                .read(true)
                .write(true)
                .open("/dev/null"),
        };
        [(); 3].map(|_| open().ok().map(OwnedFd::from))
    }

    fn start_shell(&mut self, now: u64) {
        let shell = self.cfg.shell.as_os_str().as_bytes();
        // In a container the console is what the container manager gave us as stdio.
        let stdio = self.stdio(self.machine);
        let plan = sys::spawn::Plan {
            path: cstring(shell),
            argv: vec![cstring(shell)],
            env: environment(None),
            stdio,
            setsid: true,
            controlling_tty: self.machine.then_some(false),
            ..Default::default()
        };
        match sys::spawn::spawn(&plan) {
            Ok(child) => {
                say!(
                    "the manager keeps failing: emergency shell {} started (pid {}); \
                     the manager starts again when it exits",
                    self.cfg.shell.display(),
                    child.pid
                );
                self.shell = Some(child.pid);
            }
            Err(e) => {
                let delay = crate::backoff::MAX_DELAY_USEC;
                say!("cannot start the emergency shell: {e}; the manager starts again in 10 s");
                self.restart_at = Some(now.saturating_add(delay));
            }
        }
    }

    /// Reads at most `max` packets; `hangup`: the manager closed its end (or is dead).
    fn on_link(&mut self, hangup: bool, max: usize) {
        let now = monotonic_usec();
        for _ in 0..max {
            let Some(link) = self.manager.as_ref().and_then(|m| m.link.as_ref()) else {
                return;
            };
            match sys::seqpacket::recv(link.fd.as_fd(), &mut self.buf) {
                Ok(None) => return,
                // The end of the stream: the manager closed its end, usually by exiting.
                Ok(Some(p)) if p.len == 0 && p.fd.is_none() && hangup => {
                    return self.drop_link();
                }
                Ok(Some(p)) => {
                    let message = decode::<ToInit>(self.buf.get(..p.len).unwrap_or_default());
                    self.message(message, p.fd, now);
                }
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    self.bad_packet(format_args!("bad init-link packet ignored: {e}"));
                }
                Err(e) => {
                    // A manager killed with unread data resets the connection.
                    if e.kind() != io::ErrorKind::ConnectionReset {
                        say!("cannot read the init link: {e}");
                    }
                    return self.drop_link();
                }
            }
        }
    }

    fn message(&mut self, message: Result<ToInit, PacketError>, fd: Option<OwnedFd>, now: u64) {
        let message = match message {
            Ok(m) => m,
            Err(e) => return self.bad_packet(format_args!("{e}; ignored")),
        };
        if fd.is_some() && !matches!(message, ToInit::StoreFd { .. }) {
            say!("a descriptor came with {message:?}: closed");
        }
        match message {
            ToInit::Pong { seq } => {
                if let Some(m) = self.manager.as_mut() {
                    if seq <= self.ping_seq && m.hung == Hung::No {
                        m.alive_at = now;
                    }
                }
            }
            ToInit::AckExits { upto } => self.exits.ack(upto),
            ToInit::Ready => {
                if let Some(m) = self.manager.as_mut() {
                    m.ready = true;
                }
                // It started fine: earlier start-up failures are forgiven.
                self.crash.reset();
            }
            ToInit::StoreFd { name } => match fd {
                None => say!("StoreFd {name:?} came without a descriptor: ignored"),
                Some(_)
                    if !self.store.contains_key(&name) && self.store.len() >= MAX_STORED_FDS =>
                {
                    say!("the fd store is full ({MAX_STORED_FDS}): {name:?} refused");
                }
                Some(fd) => drop(self.store.insert(name, fd)),
            },
            ToInit::RemoveFd { name } => {
                if self.store.remove(&name).is_none() {
                    say!("RemoveFd: no stored descriptor named {name:?}");
                }
            }
            ToInit::Restarting => {
                if let Some(m) = self.manager.as_mut() {
                    say!("the manager (pid {}) is going to restart", m.pid);
                    m.restarting = true;
                }
            }
            ToInit::Final { action } => self.final_step(action),
            ToInit::ReexecInit => self.reexec(),
        }
    }

    /// Logs a manager's protocol error, but not a flood of them.
    fn bad_packet(&mut self, text: std::fmt::Arguments) {
        let Some(m) = self.manager.as_mut() else {
            return;
        };
        m.bad_packets = m.bad_packets.saturating_add(1);
        match m.bad_packets {
            ..=MAX_BAD_PACKETS_LOGGED => say!("{text}"),
            n if n == MAX_BAD_PACKETS_LOGGED + 1 => {
                say!(
                    "more bad packets from the manager (pid {}) are not logged",
                    m.pid
                )
            }
            _ => {}
        }
    }

    /// The end: every process killed, file systems done, then `reboot(2)` or (in a
    /// container) exit.
    fn final_step(&mut self, action: FinalAction) -> ! {
        say!("final step: {action:?}");
        self.manager = None;
        self.store.clear();
        say!("sending SIGTERM to all processes");
        let _ = reap::kill_all(SIGTERM);
        let _ = reap::kill_all(SIGCONT);
        let timeout = self.cfg.final_timeout_usec;
        if self.wait_for_all(timeout) {
            say!("all processes have exited");
        } else {
            say!("processes left after {} s: sending SIGKILL", secs(timeout));
            let _ = reap::kill_all(SIGKILL);
            match self.wait_for_all(timeout) {
                true => say!("all processes have exited"),
                false => say!("processes are still left: going on"),
            }
        }
        say!("syncing file systems");
        sys::power::sync();
        if self.machine {
            mounts::finish_file_systems();
            sys::power::sync();
        }
        self.finish(action)
    }

    /// Reaps until no child is left (true) or `timeout` passed.
    fn wait_for_all(&mut self, timeout: u64) -> bool {
        let deadline = monotonic_usec().saturating_add(timeout);
        loop {
            match reap::peek() {
                Ok(Waitable::Exited { pid, .. }) => {
                    let _ = reap::reap(pid);
                    continue;
                }
                Ok(Waitable::NoChildren) => return true,
                Ok(Waitable::Running) => {}
                Err(_) => return false,
            }
            let now = monotonic_usec();
            if now >= deadline {
                return false;
            }
            let mut fds = [PollFd::new(self.signals.as_raw_fd(), READABLE)];
            let _ = poll(&mut fds, Some(ms(deadline - now)));
            while let Ok(Some(_)) = self.signals.read() {}
        }
    }

    fn finish(&mut self, action: FinalAction) -> ! {
        if !self.machine {
            let status = match action {
                FinalAction::Exit { status } => i32::from(status),
                FinalAction::Halt | FinalAction::Poweroff => 0,
                FinalAction::Reboot | FinalAction::Kexec => {
                    // In a PID namespace the kernel turns this into our death "by SIGHUP",
                    // which tells the container manager to start us again.
                    if std::process::id() == 1 {
                        if let Err(e) = sys::power::reboot(Command::Restart) {
                            say!("reboot(2) refused: {e}");
                        }
                    }
                    CONTAINER_REBOOT_STATUS
                }
            };
            say!("exiting with status {status}");
            std::process::exit(status)
        }
        let commands: &[Command] = match action {
            FinalAction::Halt => &[Command::Halt],
            FinalAction::Poweroff => &[Command::PowerOff],
            FinalAction::Exit { status } => {
                say!("exit status {status} means nothing to a machine: powering off");
                &[Command::PowerOff]
            }
            FinalAction::Reboot => &[Command::Restart],
            // Without a loaded kernel kexec fails; systemd reboots then.
            FinalAction::Kexec => &[Command::Kexec, Command::Restart],
        };
        for &c in commands {
            say!("reboot(2): {c:?}");
            if let Err(e) = sys::power::reboot(c) {
                say!("reboot(2) failed: {e}");
            }
        }
        // A PID 1 that exits panics the kernel: stay, and keep reaping.
        say!("the machine could not be stopped: idling");
        loop {
            let mut fds = [PollFd::new(self.signals.as_raw_fd(), READABLE)];
            let _ = poll(&mut fds, None);
            while let Ok(Some(_)) = self.signals.read() {}
            while let Ok(Waitable::Exited { pid, .. }) = reap::peek() {
                let _ = reap::reap(pid);
            }
        }
    }

    fn kept_fds(&self) -> impl Iterator<Item = BorrowedFd<'_>> {
        let link = self.manager.as_ref().and_then(|m| m.link.as_ref());
        self.store
            .values()
            .map(|fd| fd.as_fd())
            .chain(link.map(|l| l.fd.as_fd()))
    }

    fn reexec(&mut self) {
        let e = self.try_reexec();
        say!("re-executing failed: {e}; the running image goes on");
        for fd in self.kept_fds() {
            let _ = sys::fd::set_cloexec(fd, true);
        }
    }

    fn try_reexec(&mut self) -> io::Error {
        let text = serial::encode_state(&self.save());
        let mut file = match sys::fd::memfd("sysmaster-init-state") {
            Ok(fd) => std::fs::File::from(fd),
            Err(e) => return e,
        };
        if let Err(e) = file.write_all(text.as_bytes()).and_then(|_| file.rewind()) {
            return e;
        }
        for fd in self.kept_fds().chain(std::iter::once(file.as_fd())) {
            if let Err(e) = sys::fd::set_cloexec(fd, false) {
                return e;
            }
        }
        // The path we were started as: an upgrade installs the new image there.
        let exe = match self.argv.first().filter(|p| p.starts_with('/')) {
            Some(p) => p.clone(),
            None => "/proc/self/exe".to_string(),
        };
        let rest = self.argv.get(1..).unwrap_or_default();
        let argv: Vec<CString> = std::iter::once(exe.clone())
            .chain(config::reexec_args(rest, file.as_raw_fd()))
            .map(|a| cstring(a.as_bytes()))
            .collect();
        say!("re-executing {exe}");
        sys::exec::execve(&cstring(exe.as_bytes()), &argv, &environment(None))
    }

    fn save(&self) -> Saved {
        let link = self.manager.as_ref().and_then(|m| m.link.as_ref());
        Saved {
            container: self.container,
            starts: self.starts,
            ping_seq: self.ping_seq,
            last_seq: self.exits.last_seq(),
            dropped: self.exits.dropped(),
            exits: self.exits.records().copied().collect(),
            fds: (self.store.iter())
                .map(|(name, fd)| (fd.as_raw_fd(), name.clone()))
                .collect(),
            pending: self.pending,
            shutdown: self.shutdown,
            manager: self.manager.as_ref().map(|m| m.pid),
            restarting: self.manager.as_ref().is_some_and(|m| m.restarting),
            link: link.map(|l| l.fd.as_raw_fd()),
            sent_upto: link.map_or(0, |l| l.sent_upto),
            queue: link
                .map(|l| l.queued().cloned().collect())
                .unwrap_or_default(),
        }
    }

    fn restore(&mut self, i: Inherited, now: u64) {
        let s = i.saved;
        self.starts = s.starts;
        self.ping_seq = s.ping_seq;
        self.exits = ExitBuffer::restore(self.cfg.max_exits, s.last_seq, s.dropped, s.exits);
        self.pending = s.pending;
        self.shutdown = s.shutdown;
        self.store = i.store;
        let Some(pid) = s.manager else {
            say!("re-executed without a manager: starting one");
            return self.restart_at = Some(now);
        };
        say!(
            "re-executed: the manager (pid {pid}) goes on; {} stored descriptors, {} \
             unacknowledged exits",
            self.store.len(),
            self.exits.records().count()
        );
        let link = i.link.map(|fd| Link::new(fd, s.sent_upto, s.queue));
        let mut m = Manager::new(pid, link, now, self.cfg.heartbeat_usec);
        m.restarting = s.restarting;
        self.manager = Some(m);
    }
}
