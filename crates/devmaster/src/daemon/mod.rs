//! The devmaster daemon, systemd-udevd's role: kernel uevents in, each processed by a
//! worker process, results broadcast to libudev listeners. The decisions live in
//! [`queue`] (pure); this module is the thin single-threaded poll loop that feeds it and
//! carries out its effects:
//!
//! - the kernel's uevent netlink socket (datagrams not sent by the kernel are dropped) —
//!   or, with `--events-from PATH` (tests), a Unix datagram socket at PATH taking the
//!   kernel's datagram format instead, so that a test never sees the host's events;
//! - worker processes: forks of the daemon that inherit its parsed rules, as udevd's do
//!   (see [`child`]; a fresh `exec` that parses all rules again made a coldplug twice as
//!   slow under QEMU), each in its own process group, talking [`frame`]s over a socket
//!   pair passed as descriptor 3; a worker that crashes, hangs or exits costs only its
//!   event;
//! - `/run/udev/queue` while events are pending, `/run/udev/control` speaking udevd's
//!   [`ctrl`] protocol for `udevadm control` and `udevadm settle`;
//! - sd_notify `READY=1`/`STATUS=`/`RELOADING=1`/`STOPPING=1` when `$NOTIFY_SOCKET` is
//!   set (a path or an abstract `@name`);
//! - inotify on the rules directories (changes are coalesced per loop turn; the workers
//!   are retired so new ones are forked with the new rules) and on watched device nodes ([`watch`]);
//! - SIGTERM/SIGINT: stop taking events, let running ones finish, exit; SIGHUP: reload.
//!
//! Control messages are handled after every other source of a loop turn, as udevd gives
//! its control socket the lowest priority: the connection of `udevadm settle`'s ping is
//! closed (its answer) only once every uevent received before it is queued and
//! `/run/udev/queue` exists for it.
//!
//! Left out: socket activation of the control and netlink sockets, udevd's static node
//! permissions (`OPTIONS+="static_node"` at start-up), `umask(022)` (the service sets it),
//! and noticing rules directories that appear after start-up until the next reload.

pub mod child;
pub mod config;
pub mod ctrl;
pub mod frame;
pub mod log;
pub mod queue;
pub mod static_node;
pub mod watch;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sys::event::{PollFd, SignalFd, READABLE};
use sys::inotify::{self, Inotify};
use sys::netlink::{Group, UeventSocket};
use sys::signal;

use self::config::{Options, Settings};
use self::frame::{Decoder, Message};
use self::log::log;
use self::queue::{Effect, Input, Level, Queue, Usec, WorkerId};
use self::watch::{Watched, Watches};
use crate::rules::syntax::RulesFile;
use crate::worker::{Event, Paths};

/// The daemon's entry point; returns the exit status.
pub fn main(args: &[String]) -> i32 {
    log::set_prefix("devmaster".into());
    let opts = match config::parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            log(Level::Error, &e);
            return 1;
        }
    };
    if opts.help {
        print!("{}", config::usage());
        return 0;
    }
    if opts.version {
        println!("devmaster {}", env!("CARGO_PKG_VERSION"));
        return 0;
    }
    let (conf, mut warnings) = match std::fs::read_to_string("/etc/udev/udev.conf") {
        Ok(text) => config::parse_udev_conf(&text),
        Err(_) => Default::default(),
    };
    let in_initrd = Path::new("/etc/initrd-release").exists();
    let (cmdline, w) = std::fs::read_to_string("/proc/cmdline")
        .map(|t| config::parse_cmdline(&t, in_initrd))
        .unwrap_or_default();
    warnings.extend(w);
    warnings.extend(opts.warnings.iter().cloned());
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let settings = config::settle(&conf, &opts, &cmdline, cpus, memory_bytes());
    log::set_level(settings.log_level);
    for w in &warnings {
        log(Level::Warning, w);
    }
    if opts.tunables.exec_delay.is_some() {
        log(Level::Notice, "--exec-delay is not supported, ignoring.");
    }
    log(
        Level::Debug,
        &format!("Set children_max to {}", settings.children_max),
    );
    match Daemon::new(opts, settings) {
        Ok(mut d) => d.run(),
        Err(e) => {
            log(Level::Error, &e);
            1
        }
    }
}

/// `MemTotal` of /proc/meminfo in bytes (0 when unknown).
fn memory_bytes() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb.saturating_mul(1024))
}

fn now() -> Usec {
    sys::event::monotonic_usec()
}

/// Sends one sd_notify message when `$NOTIFY_SOCKET` names a socket.
fn sd_notify(message: &str) {
    let Some(addr) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    let bytes = addr.as_bytes();
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|a| sock.send_to_addr(message.as_bytes(), &a))
    } else {
        sock.send_to(message.as_bytes(), Path::new(&addr))
    };
    if let Err(e) = sent {
        log(
            Level::Warning,
            &format!("Failed to send notification, ignoring: {e}"),
        );
    }
}

/// One `udevadm control` connection.
struct Conn {
    fd: OwnedFd,
    /// "End of messages" came, or the peer left: close after this loop turn.
    done: bool,
}

struct WorkerIo {
    pid: u32,
    /// `None` once the worker closed its end (its exit is then awaited).
    stream: Option<UnixStream>,
    decoder: Decoder,
}

struct Daemon {
    opts: Options,
    settings: Settings,
    queue: Queue,
    signals: SignalFd,
    kernel: Option<UeventSocket>,
    injector: Option<UnixDatagram>,
    broadcaster: Option<UeventSocket>,
    inotify: Option<Inotify>,
    rules_dirs: Vec<PathBuf>,
    /// The rules as last read; workers are forked with them.
    rules: Vec<RulesFile>,
    rules_wds: BTreeMap<i32, PathBuf>,
    rules_dirty: bool,
    watches: Watches,
    ctrl: Option<OwnedFd>,
    conns: Vec<Conn>,
    workers: BTreeMap<WorkerId, WorkerIo>,
    pids: BTreeMap<u32, WorkerId>,
    /// Inputs produced while carrying out effects (a failed spawn or send), handled in
    /// the next loop turn.
    pending: Vec<Input>,
    /// The descriptors the last poll found readable: only these are read in a turn (a
    /// read of every source and idle worker per turn cost ten syscalls per event).
    ready: Vec<RawFd>,
    exit: bool,
}

impl Daemon {
    fn new(opts: Options, settings: Settings) -> Result<Daemon, String> {
        let signals = SignalFd::new(&[
            signal::SIGTERM,
            signal::SIGINT,
            signal::SIGHUP,
            signal::SIGCHLD,
        ])
        .map_err(|e| format!("Failed to block signals: {e}"))?;
        std::fs::create_dir_all(&opts.run_dir)
            .map_err(|e| format!("Failed to create {}: {e}", opts.run_dir.display()))?;
        let ctrl_path = opts.run_dir.join("control");
        let ctrl = sys::seqpacket::listen(&ctrl_path)
            .map_err(|e| format!("Failed to bind udev control socket: {e}"))?;
        let (kernel, injector) = match &opts.events_from {
            Some(path) => {
                let _ = std::fs::remove_file(path);
                let s = UnixDatagram::bind(path)
                    .and_then(|s| s.set_nonblocking(true).map(|_| s))
                    .map_err(|e| format!("Failed to bind {}: {e}", path.display()))?;
                (None, Some(s))
            }
            None => {
                let s = UeventSocket::open(Group::Kernel)
                    .map_err(|e| format!("Failed to bind netlink socket: {e}"))?;
                (Some(s), None)
            }
        };
        let broadcaster = match UeventSocket::open(Group::None) {
            Ok(s) => Some(s),
            Err(e) => {
                log(
                    Level::Warning,
                    &format!("Failed to open the broadcast socket, ignoring: {e}"),
                );
                None
            }
        };
        let inotify = match Inotify::new() {
            Ok(i) => Some(i),
            Err(e) => {
                log(
                    Level::Warning,
                    &format!("Failed to create inotify descriptor, rules will not be reloaded on change: {e}"),
                );
                None
            }
        };
        let rules_dirs = if opts.rules_dirs.is_empty() {
            crate::rules::load::RULES_DIRS
                .iter()
                .map(PathBuf::from)
                .collect()
        } else {
            opts.rules_dirs.clone()
        };
        let mut queue = Queue::new(queue::Config {
            children_max: settings.children_max,
            event_timeout: settings.event_timeout,
            timeout_signal: settings.timeout_signal,
        });
        queue.set_debug(log::enabled(Level::Debug));
        let watches = Watches::new(&opts.run_dir);
        let mut d = Daemon {
            opts,
            settings,
            queue,
            signals,
            kernel,
            injector,
            broadcaster,
            inotify,
            rules_dirs,
            rules: Vec::new(),
            rules_wds: BTreeMap::new(),
            rules_dirty: false,
            watches,
            ctrl: Some(ctrl),
            conns: Vec::new(),
            workers: BTreeMap::new(),
            pids: BTreeMap::new(),
            pending: Vec::new(),
            ready: Vec::new(),
            exit: false,
        };
        if let Some(ino) = &d.inotify {
            let n = d.watches.restore(ino, &d.opts.sys_dir, &d.opts.dev_dir);
            if n > 0 {
                log(Level::Debug, &format!("Restored {n} watch(es)."));
            }
        }
        d.load_rules();
        d.apply_static_nodes();
        Ok(d)
    }

    /// `OPTIONS+="static_node=..."`, once at start as udevd does.
    fn apply_static_nodes(&self) {
        use crate::worker::host::parse_id_file;
        let ids = |file: &str| parse_id_file(&std::fs::read_to_string(file).unwrap_or_default());
        let (users, groups) = (ids("/etc/passwd"), ids("/etc/group"));
        let nodes = static_node::collect(
            &self.rules,
            |n| users.get(n).copied(),
            |n| groups.get(n).copied(),
        );
        for n in &nodes {
            if let Err(e) = static_node::apply(&self.opts.dev_dir, &self.opts.run_dir, n) {
                log(
                    Level::Warning,
                    &format!("Failed to apply permissions on static device node: {e}"),
                );
            }
        }
    }

    /// Reads the rules (workers are forked with them), reports their problems and
    /// watches the rules directories that exist.
    fn load_rules(&mut self) {
        let rules = crate::rules::load::read(&self.rules_dirs);
        for d in rules.all_diagnostics() {
            let level = match d.level {
                crate::rules::syntax::Level::Error => Level::Error,
                crate::rules::syntax::Level::Warning => Level::Warning,
            };
            log(level, &d.to_string());
        }
        self.rules = rules.files;
        let Some(ino) = &self.inotify else {
            return;
        };
        let mask = inotify::IN_CREATE
            | inotify::IN_DELETE
            | inotify::IN_MOVED_FROM
            | inotify::IN_MOVED_TO
            | inotify::IN_CLOSE_WRITE
            | inotify::IN_ATTRIB
            | inotify::IN_DELETE_SELF
            | inotify::IN_MOVE_SELF
            | inotify::IN_ONLYDIR;
        for dir in &self.rules_dirs {
            if self.rules_wds.values().any(|d| d == dir) {
                continue;
            }
            if let Ok(wd) = ino.add_watch(dir, mask) {
                self.rules_wds.insert(wd, dir.clone());
            }
        }
    }

    fn reload(&mut self) {
        log(Level::Debug, "Reloading rules");
        sd_notify("RELOADING=1\nSTATUS=Flushing configuration...");
        self.load_rules();
        let fx = self.queue.handle(Input::RetireWorkers, now());
        self.execute(fx);
        sd_notify(&self.queue.ready_message());
    }

    fn run(&mut self) -> i32 {
        sd_notify(&self.queue.ready_message());
        let mut buf = vec![0u8; 128 * 1024];
        while !self.exit {
            let timeout = if self.pending.is_empty() {
                self.queue.next_wakeup().map(|t| {
                    let wait = t.saturating_sub(now());
                    u32::try_from(wait.div_ceil(1000)).unwrap_or(u32::MAX)
                })
            } else {
                Some(0)
            };
            let mut fds = vec![PollFd::new(self.signals.as_raw_fd(), READABLE)];
            let sources: [Option<i32>; 4] = [
                self.kernel.as_ref().map(|s| s.as_raw_fd()),
                self.injector.as_ref().map(|s| s.as_raw_fd()),
                self.inotify.as_ref().map(|s| s.as_raw_fd()),
                self.ctrl.as_ref().map(|s| s.as_raw_fd()),
            ];
            fds.extend(
                sources
                    .iter()
                    .flatten()
                    .map(|&fd| PollFd::new(fd, READABLE)),
            );
            fds.extend(
                self.conns
                    .iter()
                    .map(|c| PollFd::new(c.fd.as_raw_fd(), READABLE)),
            );
            fds.extend(
                self.workers
                    .values()
                    .filter_map(|w| w.stream.as_ref())
                    .map(|s| PollFd::new(s.as_raw_fd(), READABLE)),
            );
            self.ready.clear();
            match sys::event::poll(&mut fds, timeout) {
                Ok(_) => self
                    .ready
                    .extend(fds.iter().filter(|f| f.readable()).map(|f| f.fd)),
                Err(e) => {
                    log(Level::Error, &format!("poll: {e}"));
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            self.turn(&mut buf);
        }
        sd_notify("STOPPING=1\nSTATUS=Shutting down...");
        0
    }

    /// One loop turn: every source is read without blocking, in udevd's priority order.
    fn turn(&mut self, buf: &mut [u8]) {
        let mut inputs = std::mem::take(&mut self.pending);
        self.read_workers(buf, &mut inputs);
        self.read_signals(buf, &mut inputs);
        self.read_uevents(buf, &mut inputs);
        self.read_inotify(&mut inputs);
        self.feed(inputs);
        if self.rules_dirty {
            self.rules_dirty = false;
            self.reload();
        }
        self.read_control(buf);
        let fx = self.queue.step(now());
        self.execute(fx);
        self.conns.retain(|c| !c.done);
        if self.queue.is_exiting() {
            // udevd closes its sources of new events at once.
            self.ctrl = None;
            self.conns.clear();
            self.kernel = None;
            self.injector = None;
            self.inotify = None;
        }
    }

    fn feed(&mut self, inputs: Vec<Input>) {
        for input in inputs {
            let fx = self.queue.handle(input, now());
            self.execute(fx);
        }
    }

    fn is_ready(&self, fd: Option<RawFd>) -> bool {
        fd.is_some_and(|fd| self.ready.contains(&fd))
    }

    fn read_signals(&mut self, buf: &mut [u8], inputs: &mut Vec<Input>) {
        if !self.is_ready(Some(self.signals.as_raw_fd())) {
            return;
        }
        while let Ok(Some(sig)) = self.signals.read() {
            match sig {
                signal::SIGCHLD => self.reap(buf, inputs),
                signal::SIGHUP => self.rules_dirty = true,
                _ => inputs.push(Input::Exit),
            }
        }
    }

    fn reap(&mut self, buf: &mut [u8], inputs: &mut Vec<Input>) {
        while let Ok(Some((pid, exit))) = sys::process::reap_any() {
            let Some(worker) = self.pids.remove(&pid) else {
                continue;
            };
            // A reply it wrote just before exiting still counts, and comes first.
            self.read_worker(worker, buf, inputs);
            self.workers.remove(&worker);
            inputs.push(Input::Exited { worker, exit });
        }
    }

    fn read_workers(&mut self, buf: &mut [u8], inputs: &mut Vec<Input>) {
        let ids: Vec<WorkerId> = self
            .workers
            .iter()
            .filter(|(_, w)| self.is_ready(w.stream.as_ref().map(|s| s.as_raw_fd())))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.read_worker(id, buf, inputs);
        }
    }

    /// Reads what a worker sent; its replies become inputs.
    fn read_worker(&mut self, id: WorkerId, buf: &mut [u8], inputs: &mut Vec<Input>) {
        let Some(w) = self.workers.get_mut(&id) else {
            return;
        };
        let Some(stream) = w.stream.as_mut() else {
            return;
        };
        let mut broken: Option<String> = None;
        loop {
            match stream.read(buf) {
                Ok(0) => {
                    w.stream = None;
                    break;
                }
                Ok(n) => w.decoder.push(buf.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    broken = Some(e.to_string());
                    break;
                }
            }
        }
        let mut replies = Vec::new();
        loop {
            match w.decoder.next_message() {
                Ok(Some(Message::Reply(r))) => replies.push(r),
                Ok(Some(Message::Event(_))) => {
                    broken = Some("a worker sent an event".into());
                    break;
                }
                Ok(None) => break,
                Err(e) => {
                    broken = Some(e.to_string());
                    break;
                }
            }
        }
        let pid = w.pid;
        if let Some(why) = broken {
            // A worker that talks nonsense is not trusted with more events.
            log(
                Level::Error,
                &format!("Worker [{pid}] sent a bad message, killing it: {why}"),
            );
            w.stream = None;
            let _ = sys::process::kill(pid, signal::SIGKILL);
        }
        for r in replies {
            if r.outcome == queue::Outcome::Processed {
                self.apply_watch(id, r.watch);
            }
            inputs.push(Input::Reply {
                worker: id,
                seqnum: r.seqnum,
                outcome: r.outcome,
            });
        }
    }

    /// Begins or ends the inotify watch of the device whose event `worker` finished, as
    /// udevd does after an event: a removal ends it, otherwise the rules' `watch` /
    /// `nowatch` decide.
    fn apply_watch(&mut self, worker: WorkerId, watch: Option<bool>) {
        let (Some(ino), Some(event)) = (&self.inotify, self.queue.running_event(worker)) else {
            return;
        };
        let Some(id) = queue::device_id(event) else {
            return;
        };
        let watch = if event.action == "remove" {
            Some(false)
        } else {
            watch
        };
        match watch {
            Some(true) => {
                let Some(devname) = event.properties.get("DEVNAME") else {
                    return;
                };
                let node = self.opts.dev_dir.join(devname.trim_start_matches("/dev/"));
                let watched = Watched {
                    id,
                    devpath: event.devpath.clone(),
                    whole_disk: child::whole_disk(&self.opts.sys_dir, event),
                };
                if let Err(e) = self.watches.begin(ino, &node, watched) {
                    log(
                        Level::Warning,
                        &format!("Failed to add inotify watch on {}: {e}", node.display()),
                    );
                } else {
                    log(
                        Level::Debug,
                        &format!("Watching {} for changes", node.display()),
                    );
                }
            }
            Some(false) => self.watches.end(ino, &id),
            None => {}
        }
    }

    fn read_uevents(&mut self, buf: &mut [u8], inputs: &mut Vec<Input>) {
        let mut datagrams: Vec<Vec<u8>> = Vec::new();
        let kernel_ready = self.is_ready(self.kernel.as_ref().map(|k| k.as_raw_fd()));
        let injector_ready = self.is_ready(self.injector.as_ref().map(|i| i.as_raw_fd()));
        if let Some(k) = self.kernel.as_ref().filter(|_| kernel_ready) {
            let mut data = Vec::with_capacity(8192);
            loop {
                match k.recv(&mut data) {
                    Ok(Some(sender)) if sender.portid == 0 => datagrams.push(data.clone()),
                    Ok(Some(sender)) => log(
                        Level::Debug,
                        &format!(
                            "Ignoring uevent from port {} (not the kernel)",
                            sender.portid
                        ),
                    ),
                    Ok(None) => break,
                    Err(e) => {
                        // ENOBUFS: the kernel dropped events; nothing to do but go on.
                        log(Level::Warning, &format!("Failed to receive uevent: {e}"));
                        break;
                    }
                }
            }
        }
        if let Some(s) = self.injector.as_ref().filter(|_| injector_ready) {
            while let Ok(n) = s.recv(buf) {
                datagrams.push(buf.get(..n).unwrap_or_default().to_vec());
            }
        }
        for d in datagrams {
            match devproto::uevent::parse(&d) {
                Ok(u) => {
                    let Some(seqnum) = u.seqnum() else {
                        log(
                            Level::Warning,
                            &format!("{}: uevent without SEQNUM, ignoring", u.devpath),
                        );
                        continue;
                    };
                    let event = Event {
                        seqnum,
                        action: u.action,
                        devpath: u.devpath,
                        properties: u.properties,
                    };
                    let whole_disk = child::whole_disk(&self.opts.sys_dir, &event);
                    inputs.push(Input::Uevent { event, whole_disk });
                }
                Err(e) => log(Level::Warning, &format!("Invalid uevent, ignoring: {e}")),
            }
        }
    }

    fn read_inotify(&mut self, inputs: &mut Vec<Input>) {
        if !self.is_ready(self.inotify.as_ref().map(|i| i.as_raw_fd())) {
            return;
        }
        let Some(ino) = &self.inotify else {
            return;
        };
        let events = match ino.read_events() {
            Ok(e) => e,
            Err(e) => {
                log(Level::Warning, &format!("Failed to read inotify: {e}"));
                return;
            }
        };
        for e in events {
            if e.mask & inotify::IN_Q_OVERFLOW != 0 {
                self.rules_dirty = true;
                continue;
            }
            if let Some(dir) = self.rules_wds.get(&e.wd) {
                let rules_file = e
                    .name
                    .as_ref()
                    .is_none_or(|n| n.as_bytes().ends_with(b".rules"));
                if e.mask & (inotify::IN_IGNORED | inotify::IN_DELETE_SELF | inotify::IN_MOVE_SELF)
                    != 0
                {
                    log(
                        Level::Debug,
                        &format!("Rules directory {} went away", dir.display()),
                    );
                    self.rules_wds.remove(&e.wd);
                    self.rules_dirty = true;
                } else if rules_file {
                    self.rules_dirty = true;
                }
                continue;
            }
            if e.mask & inotify::IN_IGNORED != 0 {
                self.watches.forget(e.wd);
                continue;
            }
            if e.mask & inotify::IN_CLOSE_WRITE == 0 {
                continue;
            }
            let Some(w) = self.watches.get(e.wd) else {
                continue;
            };
            log(
                Level::Debug,
                &format!(
                    "{}: device is closed, synthesising 'change'",
                    queue::sysname(&w.devpath)
                ),
            );
            if let Some(disk) = &w.whole_disk {
                inputs.push(Input::Unlocked {
                    whole_disk: disk.clone(),
                });
            }
            watch::synthesize_change(&self.opts.sys_dir, &w.devpath);
        }
    }

    fn read_control(&mut self, buf: &mut [u8]) {
        let ctrl_ready = self.is_ready(self.ctrl.as_ref().map(|c| c.as_raw_fd()));
        if let Some(listener) = self.ctrl.as_ref().filter(|_| ctrl_ready) {
            loop {
                match sys::seqpacket::accept(listener.as_fd()) {
                    Ok(Some(fd)) => match sys::event::peer_credentials(fd.as_fd()) {
                        Ok(c) if c.uid == 0 => self.conns.push(Conn { fd, done: false }),
                        Ok(c) => log(
                            Level::Error,
                            &format!("Invalid sender uid {}, closing connection", c.uid),
                        ),
                        Err(e) => log(
                            Level::Error,
                            &format!("Failed to receive credentials of ctrl connection: {e}"),
                        ),
                    },
                    Ok(None) => break,
                    Err(e) => {
                        log(
                            Level::Error,
                            &format!("Failed to accept ctrl connection: {e}"),
                        );
                        break;
                    }
                }
            }
        }
        let mut requests = Vec::new();
        let ready = &self.ready;
        for c in self
            .conns
            .iter_mut()
            .filter(|c| !c.done && ready.contains(&c.fd.as_raw_fd()))
        {
            loop {
                match sys::seqpacket::recv(c.fd.as_fd(), buf) {
                    Ok(None) => break,
                    Ok(Some(p)) if p.len == 0 => {
                        c.done = true;
                        break;
                    }
                    Ok(Some(p)) => match ctrl::decode(buf.get(..p.len).unwrap_or_default()) {
                        Ok(ctrl::Request::EndMessages) => {
                            c.done = true;
                            break;
                        }
                        Ok(r) => requests.push(r),
                        Err(e) => log(Level::Error, &format!("{e}, ignoring message")),
                    },
                    Err(e) => {
                        log(
                            Level::Error,
                            &format!("Failed to receive ctrl message: {e}"),
                        );
                        c.done = true;
                        break;
                    }
                }
            }
        }
        for r in requests {
            self.control(r);
        }
    }

    fn control(&mut self, request: ctrl::Request) {
        use ctrl::Request as R;
        let input = match request {
            R::SetLogLevel(l) => {
                if !(0..=7).contains(&l) {
                    log(
                        Level::Debug,
                        &format!(
                            "Received invalid udev control message (SET_LOG_LEVEL, {l}), ignoring."
                        ),
                    );
                    return;
                }
                log(
                    Level::Debug,
                    &format!(
                        "Received udev control message (SET_LOG_LEVEL), setting log_level={l}"
                    ),
                );
                let l = u8::try_from(l).unwrap_or(6);
                if l == log::level() {
                    return;
                }
                log::set_level(l);
                self.queue.set_debug(log::enabled(Level::Debug));
                self.settings.log_level = l;
                Input::RetireWorkers
            }
            R::StopExecQueue => {
                log(
                    Level::Debug,
                    "Received udev control message (STOP_EXEC_QUEUE)",
                );
                Input::StopExecQueue
            }
            R::StartExecQueue => {
                log(
                    Level::Debug,
                    "Received udev control message (START_EXEC_QUEUE)",
                );
                Input::StartExecQueue
            }
            R::Reload => {
                log(Level::Debug, "Received udev control message (RELOAD)");
                self.reload();
                return;
            }
            R::SetEnv(kv) => {
                let Some((key, value)) = kv.split_once('=') else {
                    log(Level::Error, &format!("Invalid key format '{kv}'"));
                    return;
                };
                log(
                    Level::Debug,
                    &format!("Received udev control message (ENV), setting '{kv}'"),
                );
                Input::SetProperty {
                    key: key.to_string(),
                    value: (!value.is_empty()).then(|| value.to_string()),
                }
            }
            R::SetChildrenMax(n) => {
                let Some(n) = usize::try_from(n).ok().filter(|n| *n > 0) else {
                    log(
                        Level::Debug,
                        &format!("Received invalid udev control message (SET_MAX_CHILDREN, {n}), ignoring."),
                    );
                    return;
                };
                log(
                    Level::Debug,
                    &format!("Received udev control message (SET_MAX_CHILDREN), setting children_max={n}"),
                );
                Input::SetChildrenMax(n)
            }
            R::Ping => {
                log(Level::Debug, "Received udev control message (PING)");
                return;
            }
            R::Exit => {
                log(Level::Debug, "Received udev control message (EXIT)");
                Input::Exit
            }
            R::EndMessages | R::Unknown(_) => {
                log(
                    Level::Debug,
                    "Received unknown udev control message, ignoring",
                );
                return;
            }
        };
        let fx = self.queue.handle(input, now());
        self.execute(fx);
    }

    fn execute(&mut self, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::Spawn(worker) => match self.spawn_worker() {
                    Ok((pid, stream)) => {
                        log(Level::Debug, &format!("Worker [{pid}] started"));
                        self.queue.set_pid(worker, pid);
                        self.pids.insert(pid, worker);
                        self.workers.insert(
                            worker,
                            WorkerIo {
                                pid,
                                stream: Some(stream),
                                decoder: Decoder::new(),
                            },
                        );
                    }
                    Err(error) => self.pending.push(Input::SpawnFailed { worker, error }),
                },
                Effect::Run { worker, event } => {
                    let sent = match self.workers.get_mut(&worker) {
                        Some(WorkerIo {
                            pid,
                            stream: Some(s),
                            ..
                        }) => {
                            let bytes = frame::encode(&Message::Event(event.clone()));
                            s.write_all(&bytes).map(|_| *pid).map_err(|e| e.to_string())
                        }
                        _ => Err("the worker is gone".to_string()),
                    };
                    match sent {
                        Ok(_) if !log::enabled(Level::Debug) => {}
                        Ok(pid) => log(
                            Level::Debug,
                            &format!(
                                "{}: SEQNUM={} ({} {}) running on worker [{pid}]",
                                queue::sysname(&event.devpath),
                                event.seqnum,
                                event.action,
                                event.devpath
                            ),
                        ),
                        Err(error) => self.pending.push(Input::SendFailed { worker, error }),
                    }
                }
                Effect::Kill { worker, signal } => {
                    if let Some(w) = self.workers.get(&worker) {
                        let _ = sys::process::kill(w.pid, signal);
                    }
                }
                Effect::Abort { worker, signal } => {
                    if let Some(w) = self.workers.get(&worker) {
                        if sys::process::kill_group(w.pid, signal).is_err() {
                            let _ = sys::process::kill(w.pid, signal);
                        }
                        let _ = sys::process::kill_group(w.pid, signal::SIGCONT);
                    }
                }
                Effect::Log(level, message) => log(level, &message),
                Effect::CreateQueueFile => {
                    let path = self.opts.run_dir.join("queue");
                    if let Err(e) = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                    {
                        log(
                            Level::Warning,
                            &format!("Failed to touch {}, ignoring: {e}", path.display()),
                        );
                    }
                }
                Effect::RemoveQueueFile => {
                    let path = self.opts.run_dir.join("queue");
                    match std::fs::remove_file(&path) {
                        Ok(()) => log(
                            Level::Debug,
                            "No events are queued, removing /run/udev/queue.",
                        ),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => log(
                            Level::Warning,
                            &format!("Failed to unlink {}, ignoring: {e}", path.display()),
                        ),
                    }
                }
                Effect::Failed {
                    event,
                    failure,
                    forget,
                } => {
                    if forget {
                        self.forget_device(&event);
                    }
                    let mut props = event.properties;
                    for (k, v) in failure.properties() {
                        props.insert(k.to_string(), v);
                    }
                    if let Some(b) = &self.broadcaster {
                        if let Err(e) = b.send_udev(&devproto::monitor::encode(&props)) {
                            log(
                                Level::Debug,
                                &format!(
                                    "Failed to broadcast event to libudev listeners, ignoring: {e}"
                                ),
                            );
                        }
                    }
                }
                Effect::Notify(message) => sd_notify(&message),
                Effect::Exit => self.exit = true,
            }
        }
    }

    /// Forks a worker (see [`child`]) with one end of a socket pair as descriptor 3; it
    /// inherits the parsed rules.
    fn spawn_worker(&mut self) -> Result<(u32, UnixStream), String> {
        let (ours, theirs) = UnixStream::pair().map_err(|e| e.to_string())?;
        ours.set_nonblocking(true).map_err(|e| e.to_string())?;
        let parent = std::process::id();
        match sys::process::fork_worker(OwnedFd::from(theirs)).map_err(|e| e.to_string())? {
            sys::process::Forked::Parent(pid) => Ok((pid, ours)),
            sys::process::Forked::Child(channel) => {
                let args = child::WorkerArgs {
                    parent,
                    paths: Paths {
                        sys: self.opts.sys_dir.clone(),
                        dev: self.opts.dev_dir.clone(),
                        run: self.opts.run_dir.clone(),
                    },
                    settings: crate::worker::Settings {
                        exec_timeout: Duration::from_micros(self.settings.event_timeout),
                        run_programs: true,
                    },
                    test_faults: self.opts.test_faults,
                };
                let rules = std::mem::take(&mut self.rules);
                sys::process::exit_now(child::run(args, channel, rules))
            }
        }
    }

    /// udevd's clean-up after a worker died half-way through an event: the device's
    /// database entry and its tag index entries go, so nobody reads a half-written state.
    fn forget_device(&self, event: &Event) {
        let Some(id) = queue::device_id(event) else {
            return;
        };
        let run = &self.opts.run_dir;
        if let Ok(Some(entry)) = devproto::db::read(run, &id) {
            for tag in entry.tags.iter().chain(&entry.current_tags) {
                let _ = devproto::db::set_tag(run, tag, &id, false);
            }
        }
        let _ = devproto::db::delete(run, &id);
    }
}
