//! The daemon's event queue and worker pool as a pure state machine: inputs in (a uevent
//! arrived, a worker replied or died, a control request, the time), effects out as data
//! (spawn a worker, send it an event, kill it, log, create or remove `/run/udev/queue`,
//! broadcast a failed event, sd_notify, exit). The I/O loop in `daemon/mod.rs` carries the
//! effects out and feeds back what happened; nothing here touches the system.
//!
//! It follows systemd-udevd 252:
//! - Events are kept in SEQNUM order. An event waits while an earlier event (queued or
//!   running) has the same device id (`b8:0`, `n3`, `+pci:0000:00:1f.2`, or both have
//!   none), a devpath equal to, a parent of or a child of its own, a devpath that is the
//!   `DEVPATH_OLD` of one side's rename, or the same device node. As udevd does, the first
//!   blocker found is remembered, so re-checking a blocked event costs one lookup while
//!   that blocker lives and the scan resumes after it once it is gone.
//! - A ready event goes to an idle worker, else to a new one while fewer than
//!   `children_max` workers exist (killed ones still count until they are reaped), else it
//!   waits; the pass stops at the first event that finds no worker.
//! - A running event gets a warning after a third of the event timeout and its worker is
//!   killed (timeout signal, then SIGCONT, to the worker's process group) at the timeout;
//!   the event ends when the worker is reaped. A worker that dies while running an event
//!   ends that event as failed: the daemon forgets the device's database entry and
//!   broadcasts the kernel's event with `UDEV_WORKER_FAILED=1` and the exit status or
//!   signal. A worker that exits 0 without replying ends its event quietly, as in udevd.
//! - A worker that finds the whole disk locked (`flock` by another program) hands the
//!   event back; it is retried every 200 ms, and failed with `ETIMEDOUT` after 3 minutes.
//!   A new event for, or a close-after-write of, the same disk retries at once.
//! - With no events left, `/run/udev/queue` is removed and idle workers are stopped after
//!   3 seconds. Reload, log level changes retire the workers (idle ones now, busy ones
//!   after their event) so that new workers read the new rules and settings.
//! - Exit (SIGTERM, `udevadm control --exit`): queued events are dropped, every worker is
//!   sent SIGTERM (a busy worker finishes its event first), and the daemon exits once no
//!   event and no worker remains.
//!
//! Left out: udevd's per-event `exec_delay` and the cgroup clean-up of left-over
//! processes (workers run in their own process group instead, which a timeout kills).

use std::collections::{BTreeMap, BTreeSet};

use sys::process::Exit;

use crate::worker::Event;

/// Microseconds of `CLOCK_MONOTONIC`.
pub type Usec = u64;
pub const USEC_PER_SEC: Usec = 1_000_000;
/// udevd's `EVENT_RETRY_INTERVAL_USEC`: how soon a locked disk's event is retried.
pub const RETRY_INTERVAL: Usec = 200_000;
/// udevd's `EVENT_RETRY_TIMEOUT_USEC`: how long a locked disk may hold an event back.
pub const RETRY_TIMEOUT: Usec = 180 * USEC_PER_SEC;
/// Idle workers are stopped this long after the queue became empty (udevd: 3 s).
pub const IDLE_WORKER_TIMEOUT: Usec = 3 * USEC_PER_SEC;
/// After a failed spawn, the event waits this long before another try, so that a broken
/// binary does not turn the loop into a fork storm.
pub const SPAWN_RETRY: Usec = USEC_PER_SEC;
/// udevd's `WORKER_NUM_MAX`.
pub const WORKER_NUM_MAX: usize = 2048;
/// `ETIMEDOUT`, reported when a locked disk held an event back for too long.
pub const ETIMEDOUT: i32 = 110;

/// The settings the queue decides with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Maximum number of workers (at least 1).
    pub children_max: usize,
    /// Per-event timeout; the warning comes at a third of it (rounded up).
    pub event_timeout: Usec,
    /// Signal that kills a timed-out worker (udevd: `--timeout-signal`, SIGKILL).
    pub timeout_signal: i32,
}

/// A worker as the queue knows it: a number it hands out, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkerId(pub u64);

/// What a worker replied about its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Processed (and broadcast by the worker).
    Processed,
    /// Processing failed; the worker has logged it and broadcast the failure.
    Failed,
    /// The whole disk is locked by another program: retry later.
    Locked,
}

/// Why the daemon finished an event as failed, as udevd reports it to libudev listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The worker exited with this non-zero status.
    ExitStatus(i32),
    /// The worker was killed by this signal.
    Signal(i32),
    /// An error number (only `ETIMEDOUT` today).
    Errno(i32),
}

impl Failure {
    /// The properties udevd adds to the broadcast of a failed event.
    pub fn properties(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![("UDEV_WORKER_FAILED", "1".to_string())];
        match *self {
            Failure::ExitStatus(n) => p.push(("UDEV_WORKER_EXIT_STATUS", n.to_string())),
            Failure::Signal(s) => {
                p.push(("UDEV_WORKER_SIGNAL", s.to_string()));
                if let Some(name) = signal_name(s) {
                    p.push(("UDEV_WORKER_SIGNAL_NAME", name.to_string()));
                }
            }
            Failure::Errno(e) => {
                p.push(("UDEV_WORKER_ERRNO", e.to_string()));
                if e == ETIMEDOUT {
                    p.push(("UDEV_WORKER_ERRNO_NAME", "ETIMEDOUT".to_string()));
                }
            }
        }
        p
    }
}

/// Log priority, as syslog numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A uevent arrived. `whole_disk` names the device node of the disk it belongs to
    /// (block devices, for the lock retry), when known.
    Uevent {
        event: Event,
        whole_disk: Option<String>,
    },
    /// A worker replied about the event it was given.
    Reply {
        worker: WorkerId,
        seqnum: u64,
        outcome: Outcome,
    },
    /// A worker process was reaped.
    Exited { worker: WorkerId, exit: Exit },
    /// [`Effect::Spawn`] could not start the process.
    SpawnFailed { worker: WorkerId, error: String },
    /// [`Effect::Run`] could not hand the event over.
    SendFailed { worker: WorkerId, error: String },
    /// The disk with this device node may be unlocked now (a close after write).
    Unlocked { whole_disk: String },
    /// `udevadm control --stop-exec-queue`.
    StopExecQueue,
    /// `udevadm control --start-exec-queue`.
    StartExecQueue,
    /// `udevadm control --children-max=N`; 0 is ignored, as udevd does.
    SetChildrenMax(usize),
    /// `udevadm control --property=KEY=VALUE`: added to (or, with `None`, removed from)
    /// every later event.
    SetProperty { key: String, value: Option<String> },
    /// Rules or settings changed: workers must be replaced.
    RetireWorkers,
    /// SIGTERM, SIGINT or `udevadm control --exit`.
    Exit,
}

/// What the I/O loop must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Start a worker process for this id (report [`Input::SpawnFailed`] if impossible,
    /// else tell the queue its pid with [`Queue::set_pid`]).
    Spawn(WorkerId),
    /// Send the event to the worker (report [`Input::SendFailed`] if impossible).
    Run {
        worker: WorkerId,
        event: Event,
    },
    /// Send `signal` to the worker process alone.
    Kill {
        worker: WorkerId,
        signal: i32,
    },
    /// The event timed out: send `signal` and then SIGCONT to the worker's process group.
    Abort {
        worker: WorkerId,
        signal: i32,
    },
    Log(Level, String),
    /// Create `/run/udev/queue` (events are pending).
    CreateQueueFile,
    /// Remove `/run/udev/queue` (no event is pending).
    RemoveQueueFile,
    /// The event ended without a successful worker: broadcast it with
    /// [`Failure::properties`]; with `forget`, delete the device's database entry and tag
    /// index entries first (the worker died half-way).
    Failed {
        event: Event,
        failure: Failure,
        forget: bool,
    },
    /// Send this sd_notify message.
    Notify(String),
    /// Nothing is left to do after an exit request: leave the loop.
    Exit,
}

/// What identifies an event for the blocking rules.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    id: Option<String>,
    devpath: String,
    devpath_old: Option<String>,
    devnode: Option<String>,
}

impl Key {
    fn of(event: &Event) -> Key {
        let p = &event.properties;
        Key {
            id: device_id(event),
            devpath: event.devpath.clone(),
            devpath_old: p.get("DEVPATH_OLD").cloned(),
            devnode: p.get("DEVNAME").map(|n| devnode(n)),
        }
    }

    /// Whether `self` (a later event) must wait for `earlier`, as udevd decides it.
    fn waits_for(&self, earlier: &Key) -> bool {
        // udevd compares possibly-missing ids with streq_ptr, for which two missing ids
        // are equal: events of devices without a subsystem serialise among themselves.
        self.id == earlier.id
            || devpath_conflict(Some(&self.devpath), Some(&earlier.devpath))
            || devpath_conflict(Some(&self.devpath), earlier.devpath_old.as_deref())
            || devpath_conflict(self.devpath_old.as_deref(), Some(&earlier.devpath))
            || (self.devnode.is_some() && self.devnode == earlier.devnode)
    }
}

/// Whether two devpaths are the same or one lies below the other (`/devices/a` and
/// `/devices/a/b` do, `/devices/a` and `/devices/ab` do not). A missing path conflicts
/// with nothing.
pub fn devpath_conflict(a: Option<&str>, b: Option<&str>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return false;
    };
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.strip_prefix(short) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// A device node path from a `DEVNAME` property (the kernel sends it relative to /dev).
pub fn devnode(devname: &str) -> String {
    if devname.starts_with('/') {
        devname.to_string()
    } else {
        format!("/dev/{devname}")
    }
}

/// The last component of the devpath with `!` turned into `/`, as sd-device names a
/// device (`sda`, `cciss/c0d0`); used to prefix log messages.
pub fn sysname(devpath: &str) -> String {
    devpath
        .rsplit('/')
        .next()
        .unwrap_or(devpath)
        .replace('!', "/")
}

/// The device id udev uses for its database and for blocking (sd-device's
/// `device_get_device_id`): `b`/`c` + `MAJOR:MINOR` for a device node, `n` + ifindex for
/// a network interface, else `+SUBSYSTEM:SYSNAME` (`+drivers:BUS:NAME` for drivers).
/// `None` without a subsystem.
pub fn device_id(event: &Event) -> Option<String> {
    let p = &event.properties;
    let number = |key: &str| p.get(key).and_then(|v| v.parse::<u32>().ok());
    let devnum = number("MAJOR").zip(number("MINOR"));
    devproto::db::device_id(
        p.get("SUBSYSTEM")?,
        devnum,
        number("IFINDEX"),
        &event.devpath,
    )
}

/// Linux's signal names (the generic numbering of x86, arm and most architectures),
/// without `SIG`, as systemd's `signal_to_string` prints them.
pub const SIGNALS: [(i32, &str); 31] = [
    (1, "HUP"),
    (2, "INT"),
    (3, "QUIT"),
    (4, "ILL"),
    (5, "TRAP"),
    (6, "ABRT"),
    (7, "BUS"),
    (8, "FPE"),
    (9, "KILL"),
    (10, "USR1"),
    (11, "SEGV"),
    (12, "USR2"),
    (13, "PIPE"),
    (14, "ALRM"),
    (15, "TERM"),
    (16, "STKFLT"),
    (17, "CHLD"),
    (18, "CONT"),
    (19, "STOP"),
    (20, "TSTP"),
    (21, "TTIN"),
    (22, "TTOU"),
    (23, "URG"),
    (24, "XCPU"),
    (25, "XFSZ"),
    (26, "VTALRM"),
    (27, "PROF"),
    (28, "WINCH"),
    (29, "IO"),
    (30, "PWR"),
    (31, "SYS"),
];

/// The name of a signal number (`KILL`), if it has one.
pub fn signal_name(signal: i32) -> Option<&'static str> {
    SIGNALS.iter().find(|(n, _)| *n == signal).map(|(_, s)| *s)
}

const SIGTERM: i32 = 15;
const SIGKILL: i32 = 9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Queued,
    Running {
        worker: WorkerId,
        started: Usec,
        warned: bool,
        aborted: bool,
    },
}

#[derive(Debug, Clone)]
struct Entry {
    event: Event,
    key: Key,
    whole_disk: Option<String>,
    run: Run,
    /// udevd's `blocker_seqnum`: 0 = not checked yet, the event's own seqnum = nothing
    /// earlier blocks it, else the earlier event found blocking it.
    blocker: u64,
    /// Not before this time (lock retry, spawn back-off).
    retry_at: Option<Usec>,
    /// A locked disk's event fails when it is still locked at this time.
    retry_deadline: Option<Usec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WorkerState {
    Idle,
    Running,
    /// Running; to be stopped once it replies (udevd's `WORKER_KILLING`).
    Retiring,
    /// A signal was sent; waiting to reap it.
    Killed,
}

#[derive(Debug, Clone)]
struct Worker {
    state: WorkerState,
    event: Option<u64>,
    pid: Option<u32>,
}

/// The queue and the worker pool.
#[derive(Debug, Clone)]
pub struct Queue {
    config: Config,
    /// Whether debug messages are wanted: a flood of events should not format two
    /// messages per event that nobody reads.
    debug: bool,
    events: BTreeMap<u64, Entry>,
    workers: BTreeMap<WorkerId, Worker>,
    /// The events requeued with a retry time (a locked disk, a failed spawn): with the
    /// running ones (found through their workers) the only ones with a time of their
    /// own, so that a timer does not mean a look through the whole queue. May name events
    /// since started or gone; those are skipped.
    retries: BTreeSet<u64>,
    next_worker: u64,
    properties: BTreeMap<String, Option<String>>,
    stopped: bool,
    exiting: bool,
    exit_sent: bool,
    /// Whether `/run/udev/queue` exists as far as we know (`None`: unknown, at start-up,
    /// where a crashed predecessor may have left it).
    queue_file: Option<bool>,
    /// When the queue last became empty while workers were around.
    idle_since: Option<Usec>,
}

impl Queue {
    pub fn new(config: Config) -> Queue {
        Queue {
            config,
            debug: true,
            events: BTreeMap::new(),
            workers: BTreeMap::new(),
            retries: BTreeSet::new(),
            next_worker: 1,
            properties: BTreeMap::new(),
            stopped: false,
            exiting: false,
            exit_sent: false,
            queue_file: None,
            idle_since: None,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether [`Effect::Log`]s at debug level are produced (they are by default).
    pub fn set_debug(&mut self, on: bool) {
        self.debug = on;
    }

    /// Records the process id of a spawned worker (for log messages).
    pub fn set_pid(&mut self, worker: WorkerId, pid: u32) {
        if let Some(w) = self.workers.get_mut(&worker) {
            w.pid = Some(pid);
        }
    }

    /// The event a worker is running.
    pub fn running_event(&self, worker: WorkerId) -> Option<&Event> {
        let seqnum = self.workers.get(&worker)?.event?;
        Some(&self.events.get(&seqnum)?.event)
    }

    /// Number of events queued or running.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Number of worker processes (including killed ones not reaped yet).
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    pub fn is_exiting(&self) -> bool {
        self.exiting
    }

    /// The sd_notify message udevd sends when ready (and when `children_max` changes).
    pub fn ready_message(&self) -> String {
        format!(
            "READY=1\nSTATUS=Processing with {} children at max",
            self.config.children_max
        )
    }

    /// Handles one input.
    pub fn handle(&mut self, input: Input, now: Usec) -> Vec<Effect> {
        let mut fx = Vec::new();
        match input {
            Input::Uevent { event, whole_disk } => self.insert(event, whole_disk, &mut fx),
            Input::Reply {
                worker,
                seqnum,
                outcome,
            } => self.reply(worker, seqnum, outcome, now, &mut fx),
            Input::Exited { worker, exit } => self.exited(worker, exit, &mut fx),
            Input::SpawnFailed { worker, error } => {
                let pid = self.pid_text(worker);
                if let Some(w) = self.workers.remove(&worker) {
                    if let Some(seqnum) = w.event {
                        self.requeue(seqnum, Some(now + SPAWN_RETRY));
                    }
                }
                fx.push(Effect::Log(
                    Level::Error,
                    format!("Failed to start worker{pid}: {error}"),
                ));
            }
            Input::SendFailed { worker, error } => {
                let pid = self.pid_text(worker);
                if let Some(w) = self.workers.get_mut(&worker) {
                    w.state = WorkerState::Killed;
                    if let Some(seqnum) = w.event.take() {
                        self.requeue(seqnum, None);
                    }
                    fx.push(Effect::Log(
                        Level::Error,
                        format!("Worker{pid} did not accept message, killing the worker: {error}"),
                    ));
                    fx.push(Effect::Kill {
                        worker,
                        signal: SIGKILL,
                    });
                }
            }
            Input::Unlocked { whole_disk } => self.unlock(&whole_disk),
            Input::StopExecQueue => self.stopped = true,
            Input::StartExecQueue => self.stopped = false,
            Input::SetChildrenMax(n) => {
                if n == 0 {
                    fx.push(Effect::Log(
                        Level::Debug,
                        "Ignoring children_max=0.".to_string(),
                    ));
                } else {
                    self.config.children_max = n;
                    fx.push(Effect::Notify(self.ready_message()));
                }
            }
            Input::SetProperty { key, value } => {
                self.properties.insert(key, value);
            }
            Input::RetireWorkers => self.retire_workers(false, &mut fx),
            Input::Exit => {
                if !self.exiting {
                    self.exiting = true;
                    fx.push(Effect::Notify(
                        "STOPPING=1\nSTATUS=Starting shutdown...".to_string(),
                    ));
                    let before = self.events.len();
                    self.events.retain(|_, e| e.run != Run::Queued);
                    let dropped = before - self.events.len();
                    if dropped > 0 {
                        fx.push(Effect::Log(
                            Level::Debug,
                            format!("Exiting: dropped {dropped} queued event(s)."),
                        ));
                    }
                    self.retire_workers(true, &mut fx);
                }
            }
        }
        fx
    }

    /// Runs the timers and starts what can start: call once per loop turn, after the
    /// inputs.
    pub fn step(&mut self, now: Usec) -> Vec<Effect> {
        let mut fx = Vec::new();
        self.timeouts(now, &mut fx);
        if !self.events.is_empty() {
            self.idle_since = None;
            if !self.exiting && !self.stopped {
                self.start_ready(now, &mut fx);
            }
            return fx;
        }
        if self.queue_file != Some(false) {
            self.queue_file = Some(false);
            fx.push(Effect::RemoveQueueFile);
        }
        if self.workers.is_empty() {
            self.idle_since = None;
            if self.exiting && !self.exit_sent {
                self.exit_sent = true;
                fx.push(Effect::Exit);
            }
            return fx;
        }
        match self.idle_since {
            None => self.idle_since = Some(now),
            Some(since) if now >= since.saturating_add(IDLE_WORKER_TIMEOUT) => {
                if self.has_live_idle_worker() {
                    fx.push(Effect::Log(
                        Level::Debug,
                        "Cleanup idle workers".to_string(),
                    ));
                    self.retire_workers(false, &mut fx);
                }
            }
            Some(_) => {}
        }
        fx
    }

    /// When [`Queue::step`] next has something to do by itself (a timeout, a retry,
    /// stopping idle workers); `None` when only an input can change anything.
    pub fn next_wakeup(&self) -> Option<Usec> {
        let warn = warn_after(self.config.event_timeout);
        let mut next: Option<Usec> = None;
        let mut at = |t: Usec| next = Some(next.map_or(t, |n| n.min(t)));
        let timed = self
            .running()
            .into_iter()
            .chain(self.retries.iter().copied());
        for e in timed.filter_map(|s| self.events.get(&s)) {
            match e.run {
                Run::Running {
                    started,
                    warned,
                    aborted,
                    ..
                } => {
                    if !warned {
                        at(started.saturating_add(warn));
                    }
                    if !aborted {
                        at(started.saturating_add(self.config.event_timeout));
                    }
                }
                Run::Queued => {
                    if let Some(t) = e.retry_at {
                        if !self.exiting && !self.stopped {
                            at(t);
                        }
                    }
                }
            }
        }
        if self.events.is_empty() && self.has_live_idle_worker() {
            match self.idle_since {
                Some(since) => at(since.saturating_add(IDLE_WORKER_TIMEOUT)),
                // step() has not seen the queue empty yet: it must run to start the clock.
                None => at(0),
            }
        }
        next
    }

    /// The running events (each is its worker's), in queue order.
    fn running(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.workers.values().filter_map(|w| w.event).collect();
        v.sort_unstable();
        v
    }

    fn has_live_idle_worker(&self) -> bool {
        self.workers.values().any(|w| w.state == WorkerState::Idle)
    }

    fn pid_text(&self, worker: WorkerId) -> String {
        match self.workers.get(&worker).and_then(|w| w.pid) {
            Some(pid) => format!(" [{pid}]"),
            None => String::new(),
        }
    }

    fn insert(&mut self, event: Event, whole_disk: Option<String>, fx: &mut Vec<Effect>) {
        let name = sysname(&event.devpath);
        if self.exiting {
            fx.push(Effect::Log(
                Level::Debug,
                format!("{name}: exiting, ignoring SEQNUM={}", event.seqnum),
            ));
            return;
        }
        if event.seqnum == 0 {
            fx.push(Effect::Log(
                Level::Warning,
                format!("{name}: event without SEQNUM, ignoring"),
            ));
            return;
        }
        let seqnum = event.seqnum;
        if self.events.contains_key(&seqnum) {
            fx.push(Effect::Log(
                Level::Warning,
                format!("{name}: SEQNUM={seqnum} is already queued, ignoring the duplicate"),
            ));
            return;
        }
        if self.events.is_empty() && self.queue_file != Some(true) {
            self.queue_file = Some(true);
            fx.push(Effect::CreateQueueFile);
        }
        // Blocker caches assume no earlier event appears later; one arriving out of order
        // invalidates the caches of the events after it.
        for (_, later) in self.events.range_mut(seqnum + 1..) {
            later.blocker = 0;
        }
        if let Some(disk) = &whole_disk {
            self.unlock(disk);
        }
        let key = Key::of(&event);
        if self.debug {
            fx.push(Effect::Log(
                Level::Debug,
                format!(
                    "{name}: SEQNUM={seqnum} queued, {} {}",
                    event.action, event.devpath
                ),
            ));
        }
        self.events.insert(
            seqnum,
            Entry {
                event,
                key,
                whole_disk,
                run: Run::Queued,
                blocker: 0,
                retry_at: None,
                retry_deadline: None,
            },
        );
        self.idle_since = None;
    }

    /// udevd's `event_is_blocked`, with its cache of the blocker found last time.
    fn blocked(&mut self, seqnum: u64, now: Usec) -> bool {
        let Some(entry) = self.events.get(&seqnum) else {
            return true;
        };
        if entry.retry_at.is_some_and(|t| t > now) {
            return true;
        }
        if entry.blocker == seqnum {
            return false;
        }
        if entry.blocker != 0 && self.events.contains_key(&entry.blocker) {
            return true;
        }
        // Everything up to the old blocker was checked before and found harmless.
        let from = if entry.blocker == 0 {
            0
        } else {
            entry.blocker + 1
        };
        let found = self
            .events
            .range(from..seqnum)
            .find(|(_, earlier)| entry.key.waits_for(&earlier.key))
            .map(|(s, _)| *s);
        let blocker = found.unwrap_or(seqnum);
        if let Some(entry) = self.events.get_mut(&seqnum) {
            entry.blocker = blocker;
        }
        found.is_some()
    }

    fn start_ready(&mut self, now: Usec, fx: &mut Vec<Effect>) {
        // During a flood every worker is busy at most steps: then nothing can start, and
        // looking through the whole queue for it made a coldplug quadratic.
        if self.workers.len() >= self.config.children_max && !self.has_live_idle_worker() {
            return;
        }
        let events = &self.events;
        self.retries
            .retain(|s| events.get(s).is_some_and(|e| e.retry_at.is_some()));
        // Through the queue only as far as events can start (as udevd's loop, which ends
        // when no worker is left to run one).
        let mut from = 0;
        while let Some(seqnum) = self
            .events
            .range(from..)
            .find(|(_, e)| e.run == Run::Queued)
            .map(|(s, _)| *s)
        {
            from = seqnum + 1;
            if self.blocked(seqnum, now) {
                continue;
            }
            let idle = self
                .workers
                .iter()
                .find(|(_, w)| w.state == WorkerState::Idle)
                .map(|(id, _)| *id);
            let worker = match idle {
                Some(id) => id,
                None if self.workers.len() < self.config.children_max => {
                    let id = WorkerId(self.next_worker);
                    self.next_worker += 1;
                    self.workers.insert(
                        id,
                        Worker {
                            state: WorkerState::Idle,
                            event: None,
                            pid: None,
                        },
                    );
                    fx.push(Effect::Spawn(id));
                    id
                }
                None => break,
            };
            let Some(entry) = self.events.get_mut(&seqnum) else {
                continue;
            };
            entry.run = Run::Running {
                worker,
                started: now,
                warned: false,
                aborted: false,
            };
            entry.retry_at = None;
            if let Some(w) = self.workers.get_mut(&worker) {
                w.state = WorkerState::Running;
                w.event = Some(seqnum);
            }
            let mut event = entry.event.clone();
            for (key, value) in &self.properties {
                match value {
                    Some(v) => event.properties.insert(key.clone(), v.clone()),
                    None => event.properties.remove(key),
                };
            }
            fx.push(Effect::Run { worker, event });
        }
    }

    fn timeouts(&mut self, now: Usec, fx: &mut Vec<Effect>) {
        let warn = warn_after(self.config.event_timeout);
        let timeout = self.config.event_timeout;
        let signal = self.config.timeout_signal;
        let mut aborted = Vec::new();
        for seqnum in self.running() {
            let Some(e) = self.events.get_mut(&seqnum) else {
                continue;
            };
            let Run::Running {
                worker,
                started,
                warned,
                aborted: was_aborted,
            } = &mut e.run
            else {
                continue;
            };
            let pid = match self.workers.get(worker).and_then(|w| w.pid) {
                Some(pid) => format!(" [{pid}]"),
                None => String::new(),
            };
            let name = sysname(&e.event.devpath);
            if !*warned && now >= started.saturating_add(warn) {
                *warned = true;
                fx.push(Effect::Log(
                    Level::Warning,
                    format!("{name}: Worker{pid} processing SEQNUM={seqnum} is taking a long time"),
                ));
            }
            if !*was_aborted && now >= started.saturating_add(timeout) {
                *was_aborted = true;
                aborted.push(*worker);
                fx.push(Effect::Abort {
                    worker: *worker,
                    signal,
                });
                fx.push(Effect::Log(
                    Level::Error,
                    format!("{name}: Worker{pid} processing SEQNUM={seqnum} killed"),
                ));
            }
        }
        for worker in aborted {
            if let Some(w) = self.workers.get_mut(&worker) {
                w.state = WorkerState::Killed;
            }
        }
    }

    fn reply(
        &mut self,
        worker: WorkerId,
        seqnum: u64,
        outcome: Outcome,
        now: Usec,
        fx: &mut Vec<Effect>,
    ) {
        let pid = self.pid_text(worker);
        let Some(w) = self.workers.get_mut(&worker) else {
            fx.push(Effect::Log(
                Level::Debug,
                format!("Worker{pid} returned, but is no longer tracked"),
            ));
            return;
        };
        if w.event != Some(seqnum) {
            fx.push(Effect::Log(
                Level::Warning,
                format!("Worker{pid} replied about SEQNUM={seqnum}, which it was not given"),
            ));
            return;
        }
        w.event = None;
        match w.state {
            WorkerState::Retiring => {
                w.state = WorkerState::Killed;
                fx.push(Effect::Kill {
                    worker,
                    signal: SIGTERM,
                });
            }
            WorkerState::Killed => {}
            WorkerState::Idle | WorkerState::Running => w.state = WorkerState::Idle,
        }
        match outcome {
            Outcome::Processed | Outcome::Failed => {
                if let Some(e) = self.events.remove(&seqnum).filter(|_| self.debug) {
                    let what = if outcome == Outcome::Processed {
                        "processed"
                    } else {
                        "failed"
                    };
                    fx.push(Effect::Log(
                        Level::Debug,
                        format!(
                            "{}: SEQNUM={seqnum} {what} by worker{pid}",
                            sysname(&e.event.devpath)
                        ),
                    ));
                }
            }
            Outcome::Locked => {
                let Some(e) = self.events.get_mut(&seqnum) else {
                    return;
                };
                let name = sysname(&e.event.devpath);
                if e.retry_deadline.is_some_and(|d| d <= now) {
                    if let Some(e) = self.events.remove(&seqnum) {
                        fx.push(Effect::Log(
                            Level::Warning,
                            format!(
                                "{name}: The underlying block device is locked by a process more than 3min, skipping event (SEQNUM={seqnum}, ACTION={}).",
                                e.event.action
                            ),
                        ));
                        fx.push(Effect::Failed {
                            event: e.event,
                            failure: Failure::Errno(ETIMEDOUT),
                            forget: false,
                        });
                    }
                    return;
                }
                e.retry_deadline
                    .get_or_insert(now.saturating_add(RETRY_TIMEOUT));
                fx.push(Effect::Log(
                    Level::Debug,
                    format!(
                        "{name}: Block device is currently locked, requeueing SEQNUM={seqnum}."
                    ),
                ));
                self.requeue(seqnum, Some(now.saturating_add(RETRY_INTERVAL)));
            }
        }
    }

    fn requeue(&mut self, seqnum: u64, retry_at: Option<Usec>) {
        if let Some(e) = self.events.get_mut(&seqnum) {
            e.run = Run::Queued;
            e.retry_at = retry_at;
            if retry_at.is_some() {
                self.retries.insert(seqnum);
            }
        }
    }

    fn unlock(&mut self, whole_disk: &str) {
        for e in self.events.values_mut() {
            if e.run == Run::Queued
                && e.retry_deadline.is_some()
                && e.whole_disk.as_deref() == Some(whole_disk)
            {
                e.retry_at = None;
            }
        }
    }

    fn exited(&mut self, worker: WorkerId, exit: Exit, fx: &mut Vec<Effect>) {
        let pid = self.pid_text(worker);
        let Some(w) = self.workers.remove(&worker) else {
            return;
        };
        let entry = w.event.and_then(|s| self.events.remove(&s));
        let name = entry
            .as_ref()
            .map(|e| format!("{}: ", sysname(&e.event.devpath)))
            .unwrap_or_default();
        let failure = match exit {
            Exit::Exited(0) => {
                fx.push(Effect::Log(
                    Level::Debug,
                    format!("{name}Worker{pid} exited."),
                ));
                None
            }
            Exit::Exited(code) => {
                fx.push(Effect::Log(
                    Level::Warning,
                    format!("{name}Worker{pid} exited with return code {code}."),
                ));
                Some(Failure::ExitStatus(code))
            }
            Exit::Killed { signal, .. } => {
                let signame = signal_name(signal).unwrap_or("unknown");
                fx.push(Effect::Log(
                    Level::Warning,
                    format!("{name}Worker{pid} terminated by signal {signal} ({signame})."),
                ));
                Some(Failure::Signal(signal))
            }
        };
        if let (Some(e), Some(failure)) = (entry, failure) {
            fx.push(Effect::Failed {
                event: e.event,
                failure,
                forget: true,
            });
        }
    }

    /// Stops idle workers now and busy ones after their event; with `force`, busy ones
    /// are signalled at once too (they finish the event they are in, then exit).
    fn retire_workers(&mut self, force: bool, fx: &mut Vec<Effect>) {
        for (id, w) in self.workers.iter_mut() {
            match w.state {
                WorkerState::Killed => {}
                WorkerState::Running | WorkerState::Retiring if !force => {
                    w.state = WorkerState::Retiring;
                }
                _ => {
                    w.state = WorkerState::Killed;
                    fx.push(Effect::Kill {
                        worker: *id,
                        signal: SIGTERM,
                    });
                }
            }
        }
    }
}

/// udevd's `udev_warn_timeout`: a third of the timeout, rounded up.
pub fn warn_after(timeout: Usec) -> Usec {
    timeout.div_ceil(3)
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
