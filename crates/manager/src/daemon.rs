//! The daemon: one thread, one `poll(2)` loop. Each turn it fires due timers, expires job
//! deadlines, begins every runnable job, answers clients waiting for jobs, then sleeps until
//! a descriptor is ready or the next deadline:
//!
//! - the signalfd: SIGCHLD reaps every exited child (`waitid` until none is left) and
//!   routes each exit to the unit owning the pid (a process nobody owns is just reaped);
//!   SIGTERM/SIGINT stop every unit, then the loop ends;
//! - the sd_notify socket: a message goes to the unit that owns the sender (by pid, by
//!   cgroup, or by its nearest known ancestor);
//! - the control socket and its clients (see `control`);
//! - each unit's output pipe, read into its [`crate::logbuf::LogBuffer`];
//! - the report pipe of each freshly spawned process, which says when `execve` happened
//!   (`Type=exec`) or which set-up step failed;
//! - `/proc/self/mountinfo`, whose `POLLPRI` says the mount table changed: mount units
//!   learn whether their `Where=` is mounted (see `daemon/mounts.rs`).
//!
//! Unit state machines and the job engine are pure: the daemon feeds them events with the
//! current `CLOCK_MONOTONIC` time and carries out the effects they return, through `sys`.
//! Events are queued and drained in order, so that an effect that answers at once (a PID
//! file read, a spawn) never re-enters a state machine while it is handling another event.

use crate::control::Client;
use crate::exec;
use crate::initlink::{InitLink, RelayedExit};
use crate::persist::{Change, JobRecord, ManagerRecord, RuntimeRecord, Snapshot, UnitRecord};
use crate::registry::{Registry, Runtime, Unit};
use crate::shutdown::{Objective, Procedure};
use crate::timers::Timers;
use jobs::{Action, Begin, Engine, Finished, JobId, JobMode, JobResult, JobType};
use proto::init::{ToInit, ToManager};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use sys::event::{PollFd, SignalFd, READABLE, WRITABLE};
use sys::notify::NotifySocket;
use unitfile::model::service::ServiceType;
use unitfile::name::UnitType;
use units::exit::ExitStatus;
use units::service::{Effect, Event, KillTarget, Role, ServiceResult, ServiceState};
use units::{ActiveState, Dependency, UnitId};

mod devices;
mod mounts;

const SIGCHLD: i32 = 17;
const SIGTERM: i32 = 15;
const SIGINT: i32 = 2;
const SIGKILL: i32 = 9;
const SIGCONT: i32 = 18;

/// How many finished jobs' results are remembered for `WaitJobs` calls that arrive late.
const JOB_HISTORY: usize = 4096;
/// How often a PID file being waited for is looked at again.
const PID_FILE_POLL_USEC: u64 = 200_000;
/// After a stop request, the manager exits at the latest after this long even if some
/// unit does not stop (each unit's own stop timeouts normally end it much earlier).
const SHUTDOWN_LIMIT_USEC: u64 = 300_000_000;
/// The journal is folded into a new snapshot once it grows beyond this.
const JOURNAL_LIMIT: usize = 4 << 20;
/// How many jobs one loop turn begins at most (see `dispatch_jobs`).
const JOBS_PER_TURN: usize = 64;

/// The command line of the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub unit_dirs: Vec<PathBuf>,
    pub runtime_dir: PathBuf,
    pub start: Vec<String>,
    /// The fstab the generator reads; `None`: `/etc/fstab` on the default search path,
    /// no generator with `--unit-path`.
    pub fstab: Option<PathBuf>,
    /// udev's runtime directory for device units; `None`: `/run/udev` (and udev's netlink
    /// events) on the default search path outside containers, no devices with
    /// `--unit-path`.
    pub udev_dir: Option<PathBuf>,
}

/// A spawned process whose `execve` has not been confirmed yet.
#[derive(Debug)]
struct PendingExec {
    unit: UnitId,
    role: Role,
    child: sys::spawn::Child,
}

/// What a ready descriptor belongs to.
#[derive(Debug, Clone, Copy)]
enum Source {
    Signal,
    Notify,
    Listener,
    Client(usize),
    LogPipe(UnitId),
    Exec(usize),
    Adopted(u32),
    Link,
    Socket(UnitId),
    Mountinfo,
    UdevMonitor,
}

pub struct Daemon {
    pub(crate) reg: Registry,
    pub(crate) engine: Engine,
    timers: Timers,
    /// Live processes the manager spawned, by pid.
    pids: HashMap<u32, UnitId>,
    execs: Vec<PendingExec>,
    events: VecDeque<(UnitId, Event)>,
    /// Results of finished jobs, newest last.
    pub(crate) history: VecDeque<(JobId, String, JobType, JobResult)>,
    pub(crate) clients: Vec<Client>,
    listener: UnixListener,
    notify: NotifySocket,
    signals: SignalFd,
    /// Where units' cgroups are created (`<this group>/system.slice/a.service`).
    cgroup_base: Option<PathBuf>,
    cgroup_mount: Option<PathBuf>,
    pub(crate) runtime_dir: PathBuf,
    notify_path: PathBuf,
    manager_env: Vec<(String, String)>,
    paths: exec::Paths,
    /// When the stop of every unit began (the last phase of going down).
    pub(crate) shutting_down: Option<u64>,
    /// Where going down ends, once asked; the first request wins, as in systemd.
    pub(crate) objective: Option<Objective>,
    /// A `*-force` action was asked for: the manager leaves for the final step as soon as
    /// no unit has a process left, whatever state units and jobs are in (systemd leaves its
    /// loop at once then: Debian's `systemd-poweroff.service` ends every orderly shutdown
    /// with `SuccessAction=poweroff-force` while `poweroff.target`'s start job, which
    /// waited for it, has just made that target active).
    forced: bool,
    /// The target an orderly shutdown started; its job ending begins the stop of the rest.
    shutdown_target: Option<UnitId>,
    /// `<runtime-dir>/state`, where the runtime state is kept for the next manager; `None`
    /// when it cannot be written (logged once).
    state_dir: Option<state::StateDir>,
    /// Units whose record (and job) must be written at the next [`Daemon::persist`].
    dirty: BTreeSet<UnitId>,
    /// The job record last written for each unit.
    written_jobs: HashMap<UnitId, JobRecord>,
    journal_bytes: usize,
    /// `Engine::next_id` at the last persist: a change means a transaction ran.
    persisted_next_job: u32,
    /// Start times of tracked processes (clock ticks since boot), read at spawn/adoption.
    start_times: HashMap<u32, u64>,
    /// The highest init-link exit sequence number applied.
    exit_seq: u64,
    boot_id: String,
    /// What the boot starts under PID 1 when no `--start` is given: `default.target`, or
    /// what the kernel command line names (not read in a container, as systemd does).
    boot_target: String,
    /// Tracked processes of the previous manager that had ended when this one started.
    lost: Vec<(UnitId, u32)>,
    /// Processes taken over from a previous manager: not our children, so their end is
    /// seen through a pidfd (their exit status only PID 1 can tell).
    adopted: HashMap<u32, OwnedFd>,
    /// The init link to PID 1, when the manager runs under `sysmaster-init`.
    link: Option<InitLink>,
    /// Descriptors PID 1 handed back that recovery has not claimed yet.
    stored: HashMap<String, OwnedFd>,
    /// Exits PID 1 replayed at start-up, applied once the state is recovered.
    replayed: Vec<RelayedExit>,
    /// Pings and requests that came with the replay.
    early: Vec<ToManager>,
    /// `exit_seq` in the last written manager record.
    persisted_exit_seq: u64,
    /// Where boot status lines go (`[  OK  ] Started ...`): the machine's console, when
    /// the manager runs under PID 1 and they are not turned off.
    pub(crate) console: Option<crate::console::Console>,
    /// A job that ended without its unit doing anything: no status line for it.
    quiet_job: Option<JobId>,
    /// `daemon-reexec` was asked for: leave the loop without stopping anything.
    reexec: bool,
    /// Facts `Condition*=` checks compare against, read once at start.
    host: crate::conditions::Host,
    /// `Type=idle` services wait before exec until this pipe's write end is closed, which
    /// happens once no job is left (systemd's idle pipe). Created on demand.
    idle_pipe: Option<(OwnedFd, OwnedFd)>,
    /// `/proc/self/mountinfo`, polled for `POLLPRI` (the mount table changed).
    mountinfo: Option<std::fs::File>,
    /// How many units had been told the mount table (units are only ever added).
    units_synced: usize,
    /// The fstab generator's input and output directory, when it runs.
    generator: Option<(PathBuf, PathBuf)>,
    /// udev's re-broadcasts (netlink "udev" group), for device units.
    udev_monitor: Option<sys::netlink::UeventSocket>,
    /// udev's runtime directory (database, tags), when device units are followed.
    udev_dir: Option<PathBuf>,
    /// The device units each plugged device (by sysfs path) stands for.
    devices: HashMap<String, Vec<UnitId>>,
    /// Device states are being read from the database: no retroactive jobs.
    coldplugging: bool,
    /// Units that changed state without a job, with their state before.
    retro_queue: Vec<(UnitId, ActiveState)>,
    /// Units that went down: what `BindsTo=` them may have to stop.
    bound_queue: Vec<UnitId>,
    /// After a recovery under PID 1: heartbeats still to come before recorded processes
    /// without an exit count as lost.
    lost_after_pings: u8,
    /// The last turn left runnable jobs for the next one (see `dispatch_jobs`).
    more_jobs: bool,
}

/// `CLOCK_REALTIME` in µs, for the timestamps `sctl status` shows.
fn realtime_usec() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// A fresh `$INVOCATION_ID`: 128 random bits in hex, as systemd's `sd_id128_randomize`.
fn invocation_id() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // No randomness: still unique enough per manager run.
        let t = realtime_usec().to_le_bytes();
        for (b, s) in bytes.iter_mut().zip(t.iter().chain(t.iter())) {
            *b = *s;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn exit_status(e: sys::process::Exit) -> ExitStatus {
    match e {
        sys::process::Exit::Exited(c) => ExitStatus::Exited(c),
        sys::process::Exit::Killed {
            signal,
            core_dumped,
        } => ExitStatus::Killed {
            signal,
            core_dumped,
        },
    }
}

/// The cgroup path of a unit below the manager's group: slices nest by their dashes
/// (`a-b.slice` lives in `a.slice`), `-.slice` is the group itself.
fn cgroup_relative(slice: Option<&str>, unit: &str) -> String {
    let mut path = String::new();
    if let Some(slice) = slice.filter(|s| *s != "-.slice") {
        let prefix = slice.strip_suffix(".slice").unwrap_or(slice);
        let mut acc = String::new();
        for part in prefix.split('-') {
            if !acc.is_empty() {
                acc.push('-');
            }
            acc.push_str(part);
            path.push_str(&acc);
            path.push_str(".slice/");
        }
    }
    path.push_str(unit);
    path
}

/// The cgroup of this process (`0::/path` of `/proc/self/cgroup`).
fn own_cgroup() -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_string)
}

fn cgroup_of_pid(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_string)
}

fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_ascii_whitespace().nth(1)?.parse().ok()
}

fn read_pid_file(path: &str) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    text.trim().parse::<u32>().ok().filter(|&p| p > 0)
}

/// Picks the group for this manager's units, and checks that it is writable: the
/// manager's own cgroup when it is the root (a real system manager with the default
/// runtime directory), otherwise a group of its own below it named after the runtime
/// directory, so that several managers (tests) never share groups.
/// The cgroup under which a manager with this runtime directory puts its units: the
/// manager's own group when it is the system's manager (`/run/sysmaster`, in the root
/// group), else a group named after the runtime directory below its own, so that test and
/// benchmark instances never mix. Returns the group and the cgroup2 mount point.
pub fn instance_cgroup(runtime_dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let mount = sys::cgroup::find_cgroup2()?;
    let own = own_cgroup().unwrap_or_else(|| "/".into());
    let own_path = mount.join(own.trim_start_matches('/'));
    let default_dir = runtime_dir == Path::new("/run/sysmaster");
    let base = if own == "/" && default_dir {
        own_path
    } else {
        let tag: String = runtime_dir
            .display()
            .to_string()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        own_path.join(format!("sysmaster{tag}"))
    };
    Some((base, mount))
}

/// For harnesses that run managers of their own (tests, benchmarks): after the manager is
/// gone, kills what is left in the instance's group (a SIGKILLed manager cannot clean up)
/// and removes the group tree. Never touches the caller's own group.
pub fn discard_instance_cgroup(runtime_dir: &Path) {
    let Some((base, mount)) = instance_cgroup(runtime_dir) else {
        return;
    };
    let own = own_cgroup().map(|o| mount.join(o.trim_start_matches('/')));
    if own.as_ref() == Some(&base) || !base.is_dir() {
        return;
    }
    let group = sys::cgroup::Cgroup::open(base);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while group.is_populated().unwrap_or(false) && std::time::Instant::now() < deadline {
        let _ = group.kill_all();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = group.remove();
}

fn setup_cgroups(runtime_dir: &Path) -> (Option<PathBuf>, Option<PathBuf>) {
    let Some((base, mount)) = instance_cgroup(runtime_dir) else {
        eprintln!("sysmaster: no cgroup2 hierarchy found; tracking processes by pid");
        return (None, None);
    };
    match sys::cgroup::Cgroup::create(&base, "system.slice") {
        Ok(_) => (Some(base), Some(mount)),
        Err(e) => {
            eprintln!(
                "sysmaster: cgroup2 at {} is not writable ({e}); tracking processes by pid",
                base.display()
            );
            (None, None)
        }
    }
}

impl Daemon {
    /// Sets up the sockets, signals and cgroups; nothing is started yet.
    pub fn new(options: &Options) -> Result<Daemon, String> {
        let dir = &options.runtime_dir;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let signals = SignalFd::new(&[SIGCHLD, SIGTERM, SIGINT])
            .map_err(|e| format!("cannot set up signalfd: {e}"))?;
        if let Err(e) = sys::process::set_child_subreaper() {
            eprintln!("sysmaster: cannot become child subreaper: {e}");
        }
        if let Err(e) = sys::process::raise_nofile_limit() {
            eprintln!("sysmaster: cannot raise the open-file limit: {e}");
        }
        let mut link = InitLink::from_env();
        let hello = match link.as_mut().map(InitLink::hello) {
            Some(Ok(h)) => {
                eprintln!(
                    "sysmaster: connected to PID 1 (manager start {}{}, {} stored fds, {} exits to replay)",
                    h.manager_starts,
                    if h.planned { ", planned" } else { "" },
                    h.fds.len(),
                    h.exits.len()
                );
                if h.dropped_exits > 0 {
                    eprintln!("sysmaster: PID 1 dropped {} exit records while no manager listened; those exits are lost", h.dropped_exits);
                }
                h
            }
            Some(Err(e)) => {
                eprintln!("sysmaster: {e}; running without PID 1");
                link = None;
                crate::initlink::Hello::default()
            }
            None => crate::initlink::Hello::default(),
        };
        // The kernel command line is the machine's, not a container's.
        let cmdline = if hello.container {
            String::new()
        } else {
            std::fs::read_to_string("/proc/cmdline").unwrap_or_default()
        };
        let boot_target = boot_target(&cmdline).unwrap_or_else(|| "default.target".to_string());
        if link.is_some() && cmdline.split_ascii_whitespace().any(|w| w == "quiet") {
            log_to_file(dir);
        }
        let crate::initlink::Hello {
            fds: mut stored,
            exits: replayed,
            other: early,
            ..
        } = hello;
        let control = dir.join("control");
        let listener = match stored.remove("control") {
            // The listening socket PID 1 kept: connections queued meanwhile are served.
            Some(fd) => UnixListener::from(fd),
            None => {
                let _ = std::fs::remove_file(&control);
                UnixListener::bind(&control)
                    .map_err(|e| format!("cannot bind {}: {e}", control.display()))?
            }
        };
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot make the control socket non-blocking: {e}"))?;
        {
            use std::os::unix::fs::PermissionsExt;
            // Anyone may connect and read; changes are checked per call (SO_PEERCRED).
            std::fs::set_permissions(&control, std::fs::Permissions::from_mode(0o666))
                .map_err(|e| format!("cannot chmod {}: {e}", control.display()))?;
        }
        let notify_path = dir.join("notify");
        let notify = match stored.remove("notify") {
            // Notifications sent while no manager ran are still queued in it.
            Some(fd) => {
                NotifySocket::from_fd(fd).map_err(|e| format!("stored notify socket: {e}"))?
            }
            None => NotifySocket::bind(&notify_path)
                .map_err(|e| format!("cannot bind {}: {e}", notify_path.display()))?,
        };
        if let Some(l) = &link {
            for (name, fd) in [("control", listener.as_fd()), ("notify", notify.as_fd())] {
                if let Err(e) = l.send(&ToInit::StoreFd { name: name.into() }, Some(fd)) {
                    eprintln!("sysmaster: cannot store the {name} socket with PID 1: {e}");
                }
            }
        }
        let (cgroup_base, cgroup_mount) = setup_cgroups(dir);
        let state_dir = match state::StateDir::new(&dir.join("state")) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!(
                    "sysmaster: cannot use {}/state: {e}; a restarted manager will not recover",
                    dir.display()
                );
                None
            }
        };
        let mut dirs: Vec<PathBuf> = if options.unit_dirs.is_empty() {
            unitfile::lookup::SYSTEM_UNIT_PATH
                .iter()
                .map(PathBuf::from)
                .collect()
        } else {
            options.unit_dirs.clone()
        };
        let generator = generator_setup(options, &mut dirs);
        // Device units from the system's udev only on the default search path outside
        // containers (as systemd, which has none in containers); tests name a directory.
        let system_udev =
            options.udev_dir.is_none() && options.unit_dirs.is_empty() && !hello.container;
        let udev_dir = match &options.udev_dir {
            Some(d) => Some(d.clone()),
            None if system_udev => Some(PathBuf::from("/run/udev")),
            None => None,
        };
        if let Some((fstab, out)) = &generator {
            run_generator(fstab, out);
        }
        Ok(Daemon {
            boot_target,
            reg: Registry::for_machine(dirs, hello.container),
            engine: Engine::new(),
            timers: Timers::new(),
            pids: HashMap::new(),
            execs: Vec::new(),
            events: VecDeque::new(),
            history: VecDeque::new(),
            clients: Vec::new(),
            listener,
            notify,
            signals,
            cgroup_base,
            cgroup_mount,
            runtime_dir: dir.clone(),
            notify_path,
            manager_env: std::env::vars().collect(),
            paths: exec::Paths::default(),
            shutting_down: None,
            objective: None,
            forced: false,
            shutdown_target: None,
            state_dir,
            dirty: BTreeSet::new(),
            written_jobs: HashMap::new(),
            journal_bytes: 0,
            persisted_next_job: 0,
            start_times: HashMap::new(),
            exit_seq: 0,
            boot_id: crate::persist::boot_id(),
            lost: Vec::new(),
            adopted: HashMap::new(),
            console: link
                .as_ref()
                .and_then(|_| crate::console::Console::open(hello.container)),
            quiet_job: None,
            link,
            stored,
            replayed,
            early,
            persisted_exit_seq: 0,
            reexec: false,
            host: crate::conditions::Host::detect(),
            idle_pipe: None,
            mountinfo: Daemon::open_mountinfo(),
            units_synced: 0,
            generator,
            udev_monitor: if system_udev {
                Daemon::open_udev_monitor()
            } else {
                None
            },
            udev_dir,
            devices: HashMap::new(),
            coldplugging: false,
            retro_queue: Vec::new(),
            bound_queue: Vec::new(),
            lost_after_pings: 0,
            more_jobs: false,
        })
    }

    pub(crate) fn now() -> u64 {
        sys::event::monotonic_usec()
    }

    pub(crate) fn listener_ref(&self) -> &UnixListener {
        &self.listener
    }

    pub(crate) fn unit_dirs(&self) -> &[PathBuf] {
        self.reg.dirs()
    }

    /// Feeds one event to a unit and carries out what follows.
    pub(crate) fn push_event(&mut self, u: UnitId, event: Event) {
        self.events.push_back((u, event));
        self.drain_events();
    }

    pub(crate) fn log_unit(&mut self, u: UnitId, message: &str) {
        let name = self.reg.name_of(u);
        eprintln!("sysmaster: {name}: {message}");
        if let Some(unit) = self.reg.unit_mut(u) {
            unit.log.push_line(&format!("sysmaster: {message}"));
        }
    }

    /// Runs until a stop request has been carried out. Returns the exit status.
    pub fn run(&mut self, start: &[String]) -> i32 {
        let recovered = self.recover();
        self.release_unclaimed_fds();
        if recovered {
            if self.link.is_some() {
                for exit in std::mem::take(&mut self.replayed) {
                    self.relayed_exit(exit);
                }
                // A recorded process that ended just before or after PID 1's replay was
                // sent has its exit relayed in the link's stream, ahead of PID 1's next
                // heartbeats: only after two of them is a process without an exit lost.
                self.lost_after_pings = 2;
            } else {
                self.watch_adopted();
                self.resolve_lost();
            }
            self.mounts_after_recovery();
        }
        self.coldplug_devices();
        for m in std::mem::take(&mut self.early) {
            self.link_message(m, None);
        }
        self.persist();
        self.ack_exits();
        if let Some(l) = &self.link {
            if let Err(e) = l.send(&ToInit::Ready, None) {
                eprintln!("sysmaster: cannot tell PID 1 that the manager is up: {e}");
            }
        }
        // Under PID 1 with nothing named, the boot goes to default.target (or what the
        // kernel command line names), as in systemd.
        let default = [self.boot_target.clone()];
        let start = if recovered {
            &[][..]
        } else if start.is_empty() && self.link.is_some() {
            &default[..]
        } else {
            start
        };
        for name in start {
            match self.enqueue(name, JobType::Start, JobMode::Replace, true) {
                Ok(_) => {}
                Err((_, message)) => eprintln!("sysmaster: cannot start {name}: {message}"),
            }
        }
        loop {
            let now = Daemon::now();
            self.fire_timers(now);
            self.expire_jobs(now);
            self.poll_pid_files();
            self.check_empty();
            self.sync_new_mount_units();
            self.dispatch_state_queues();
            self.dispatch_jobs();
            if self.engine.is_empty() {
                // Every job is done: Type=idle services waiting before exec may run now.
                self.idle_pipe = None;
            }
            // What clients are told is durable first.
            self.persist();
            self.answer_waiters();
            self.flush_clients();
            if self.reexec {
                break;
            }
            if let Some(t) = self.shutdown_target {
                if self.shutting_down.is_none() && self.engine.job_of(t).is_none() {
                    // The target is reached (or its job failed): what the target did not
                    // stop is stopped now, in reverse dependency order; another turn at
                    // once, as the stop jobs are runnable now.
                    self.begin_shutdown();
                    continue;
                }
            }
            if let Some(since) = self.shutting_down {
                if self.forced && self.reg.units().all(|u| !u.populated) {
                    eprintln!(
                        "sysmaster: no unit has a process left, {}",
                        self.objective.unwrap_or(Objective::Exit(0)).doing()
                    );
                    break;
                }
                if self.all_stopped() {
                    let objective = self.objective.unwrap_or(Objective::Exit(0));
                    if self.link.is_some() {
                        eprintln!("sysmaster: all units stopped, {}", objective.doing());
                    } else {
                        eprintln!(
                            "sysmaster: all units stopped, {}: without PID 1 the manager just exits",
                            objective.doing()
                        );
                    }
                    break;
                }
                if now.saturating_sub(since) > SHUTDOWN_LIMIT_USEC {
                    eprintln!("sysmaster: units did not stop in time, exiting anyway");
                    break;
                }
            }
            let timeout = if self.more_jobs {
                Some(0)
            } else {
                self.poll_timeout(Daemon::now())
            };
            self.wait(timeout);
        }
        self.persist();
        if self.reexec {
            return self.finish_reexec();
        }
        self.cleanup();
        // Every unit is stopped: a later manager must start afresh, not take this over.
        self.discard_state();
        let objective = self.objective.unwrap_or(Objective::Exit(0));
        if let Some(l) = &self.link {
            let action = objective.final_action();
            match l.send(&ToInit::Final { action }, None) {
                Ok(()) => eprintln!("sysmaster: handing over to PID 1 for the final step"),
                Err(e) => eprintln!("sysmaster: cannot ask PID 1 for the final step: {e}"),
            }
        }
        objective.exit_status()
    }

    fn all_stopped(&self) -> bool {
        self.engine.is_empty()
            && self.reg.units().all(|u| {
                // Targets, slices and devices hold nothing: one reached after the stop (the
                // objective's `poweroff.target`, `umount.target` once the mounts are
                // gone, a target whose start job was pending when a force action fired)
                // must not keep the machine up.
                (u.active_state().is_inactive_or_failed()
                    || !jobs::Units::can_stop(&self.reg, u.id)
                    || matches!(u.runtime, Runtime::Simple(_) | Runtime::Device(_)))
                    && !u.populated
            })
    }

    fn poll_timeout(&mut self, now: u64) -> Option<u32> {
        let mut next = self.timers.next_deadline();
        if let Some(d) = self.engine.next_deadline() {
            next = Some(next.map_or(d, |n| n.min(d)));
        }
        if self.reg.units().any(|u| u.watch_pid_file.is_some()) {
            let d = now.saturating_add(PID_FILE_POLL_USEC);
            next = Some(next.map_or(d, |n| n.min(d)));
        }
        if let Some(since) = self.shutting_down {
            let d = since.saturating_add(SHUTDOWN_LIMIT_USEC);
            next = Some(next.map_or(d, |n| n.min(d)));
        }
        next.map(|at| {
            let usec = at.saturating_sub(now);
            // Round up so that the timer has elapsed when poll returns.
            u32::try_from(usec.div_ceil(1000)).unwrap_or(u32::MAX)
        })
    }

    /// One `poll(2)` and the handling of every ready descriptor.
    fn wait(&mut self, timeout: Option<u32>) {
        let mut fds = vec![
            PollFd::new(self.signals.as_raw_fd(), READABLE),
            PollFd::new(self.notify.as_raw_fd(), READABLE),
            PollFd::new(self.listener.as_raw_fd(), READABLE),
        ];
        let mut sources = vec![Source::Signal, Source::Notify, Source::Listener];
        for (i, c) in self.clients.iter().enumerate() {
            let mut events = 0;
            if c.wants_read() {
                events |= READABLE;
            }
            if c.wants_write() {
                events |= WRITABLE;
            }
            if events != 0 {
                fds.push(PollFd::new(c.raw_fd(), events));
                sources.push(Source::Client(i));
            }
        }
        for unit in self.reg.units() {
            if let Some((r, _)) = &unit.log_pipe {
                fds.push(PollFd::new(r.as_raw_fd(), READABLE));
                sources.push(Source::LogPipe(unit.id));
            }
        }
        for (i, e) in self.execs.iter().enumerate() {
            fds.push(PollFd::new(e.child.report_fd().as_raw_fd(), READABLE));
            sources.push(Source::Exec(i));
        }
        for (&pid, fd) in &self.adopted {
            fds.push(PollFd::new(fd.as_raw_fd(), READABLE));
            sources.push(Source::Adopted(pid));
        }
        if let Some(l) = &self.link {
            fds.push(PollFd::new(l.raw_fd(), READABLE));
            sources.push(Source::Link);
        }
        for unit in self.reg.units() {
            if let Runtime::Socket(rt) = &unit.runtime {
                if rt.watching {
                    for fd in &rt.fds {
                        fds.push(PollFd::new(fd.as_raw_fd(), READABLE));
                        sources.push(Source::Socket(unit.id));
                    }
                }
            }
        }
        if let Some(f) = &self.mountinfo {
            fds.push(PollFd::new(f.as_raw_fd(), sys::event::PRIORITY));
            sources.push(Source::Mountinfo);
        }
        if let Some(m) = &self.udev_monitor {
            fds.push(PollFd::new(m.as_raw_fd(), READABLE));
            sources.push(Source::UdevMonitor);
        }
        if let Err(e) = sys::event::poll(&mut fds, timeout) {
            eprintln!("sysmaster: poll failed: {e}");
            std::thread::sleep(std::time::Duration::from_millis(100));
            return;
        }
        let mut signal = false;
        let mut notify = false;
        let mut accept = false;
        let mut clients = Vec::new();
        let mut pipes = Vec::new();
        let mut execs = Vec::new();
        let mut ended = Vec::new();
        let mut link = false;
        let mut incoming = BTreeSet::new();
        let mut mount_table = false;
        let mut udev = false;
        for (p, s) in fds.iter().zip(sources) {
            if matches!(s, Source::Mountinfo) {
                mount_table = p.priority();
                continue;
            }
            if !(p.readable() || p.writable()) {
                continue;
            }
            match s {
                Source::Signal => signal = true,
                Source::Notify => notify = true,
                Source::Listener => accept = true,
                Source::Client(i) => clients.push(i),
                Source::LogPipe(u) => pipes.push(u),
                Source::Exec(i) => execs.push(i),
                Source::Adopted(pid) => ended.push(pid),
                Source::Link => link = true,
                Source::Socket(u) => {
                    incoming.insert(u);
                }
                Source::UdevMonitor => udev = true,
                Source::Mountinfo => {}
            }
        }
        // Output first, so that a process's last lines are stored before its exit is seen.
        for u in pipes {
            self.read_log_pipe(u);
        }
        // Exec reports before exits: a set-up failure is logged before the exit code.
        self.exec_reports(execs);
        // The table before exits, so that a mount command's exit is judged against it.
        if mount_table {
            self.sync_mounts(None);
        }
        if udev {
            self.read_udev_monitor();
        }
        if signal {
            self.handle_signals();
        }
        for pid in ended {
            self.adopted_ended(pid);
        }
        if link {
            self.read_link();
        }
        for u in incoming {
            self.socket_event(u, units::socket::Event::Incoming);
        }
        if notify {
            self.read_notifications();
        }
        if accept {
            self.accept_clients();
        }
        for i in clients.into_iter().rev() {
            self.service_client(i);
        }
        self.clients.retain(|c| !c.is_done());
    }

    // ---- signals and processes ----

    fn handle_signals(&mut self) {
        let mut reap = false;
        loop {
            match self.signals.read() {
                Ok(Some(SIGCHLD)) => reap = true,
                Ok(Some(SIGTERM | SIGINT)) => {
                    // Without PID 1 the manager itself is what is being stopped: no target,
                    // every unit is stopped, then it exits (a second signal kills them).
                    self.objective.get_or_insert(Objective::Exit(0));
                    self.begin_shutdown();
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    eprintln!("sysmaster: reading signals failed: {e}");
                    break;
                }
            }
        }
        if reap {
            self.reap();
        }
    }

    /// Handles every exited child. Each exit is judged and its consequences written to the
    /// state journal *before* the child is reaped: if the manager dies in between, the
    /// zombie passes to PID 1, which relays its exit to the next manager — an exit is never
    /// lost, and never applied twice (the state then no longer tracks the pid).
    fn reap(&mut self) {
        loop {
            let (pid, exit) = match sys::reap::peek() {
                Ok(sys::reap::Waitable::Exited { pid, exit }) => (pid, exit),
                Ok(_) => break,
                Err(e) => {
                    eprintln!("sysmaster: waitid failed: {e}");
                    break;
                }
            };
            if let Some(u) = self.pids.remove(&pid) {
                // Pending output of the process goes in before its exit is judged.
                if self.reg.unit(u).is_some_and(|x| x.log_pipe.is_some()) {
                    self.read_log_pipe(u);
                }
                self.events.push_back((
                    u,
                    Event::Exited {
                        pid,
                        status: exit_status(exit),
                    },
                ));
                self.drain_events();
                self.persist();
            }
            self.start_times.remove(&pid);
            if let Err(e) = sys::reap::reap(pid) {
                eprintln!("sysmaster: reaping {pid} failed: {e}");
                break;
            }
        }
        self.check_empty();
    }

    /// Reports `CgroupEmpty` for every unit whose processes are all gone: its cgroup is
    /// not populated (or, without cgroups, no tracked pid of it is left). Units with a
    /// process that has not exec'd yet are skipped: it may not have joined its cgroup.
    fn check_empty(&mut self) {
        let candidates: Vec<UnitId> = self
            .reg
            .units()
            .filter(|u| u.populated)
            .map(|u| u.id)
            .collect();
        // Units that still own a tracked process or a pending exec, gathered once, so the
        // check costs processes + units rather than their product.
        let busy: std::collections::HashSet<UnitId> = self
            .execs
            .iter()
            .map(|e| e.unit)
            .chain(self.pids.values().copied())
            .collect();
        for u in candidates {
            if busy.contains(&u) {
                continue;
            }
            let populated = self
                .reg
                .unit(u)
                .and_then(|x| x.cgroup.as_ref())
                .is_some_and(|cg| cg.is_populated().unwrap_or(false));
            if populated {
                continue;
            }
            if let Some(unit) = self.reg.unit_mut(u) {
                unit.populated = false;
            }
            self.events.push_back((u, Event::CgroupEmpty));
        }
        self.drain_events();
    }

    fn exec_reports(&mut self, mut ready: Vec<usize>) {
        ready.sort_unstable();
        for i in ready.into_iter().rev() {
            if i >= self.execs.len() {
                continue;
            }
            let pending = self.execs.remove(i);
            let (u, role, pid) = (pending.unit, pending.role, pending.child.pid);
            match pending.child.wait_exec() {
                Ok(_) => {
                    if role == Role::Main {
                        self.events.push_back((u, Event::MainExecuted));
                    }
                }
                Err(failure) => {
                    // The child exits with the step's code; its reaping reports that.
                    self.log_unit(u, &format!("Failed to execute process {pid}: {failure}"));
                }
            }
        }
        self.drain_events();
    }

    fn read_log_pipe(&mut self, u: UnitId) {
        let mut buf = [0u8; 16384];
        for _ in 0..64 {
            let Some(unit) = self.reg.unit_mut(u) else {
                return;
            };
            let Some((r, _)) = &unit.log_pipe else {
                return;
            };
            match sys::event::read(r.as_fd(), &mut buf) {
                Ok(0) => return,
                Ok(n) => unit.log.push_bytes(buf.get(..n).unwrap_or_default()),
                Err(_) => return,
            }
        }
    }

    fn read_notifications(&mut self) {
        for _ in 0..256 {
            // Each message is recorded before it leaves the socket: READY=1 read by a
            // manager that dies before writing the state would otherwise be lost for good.
            match self.notify.peek() {
                Ok(Some(n)) => {
                    // File descriptors (FDSTORE=1) are not kept yet: they close here.
                    match self.unit_of_sender(n.pid) {
                        Some(u) => {
                            self.events.push_back((
                                u,
                                Event::Notify {
                                    pid: n.pid,
                                    message: n.text,
                                },
                            ));
                            self.drain_events();
                            self.persist();
                        }
                        None => eprintln!(
                            "sysmaster: notification from PID {} which belongs to no unit, ignoring",
                            n.pid
                        ),
                    }
                    if let Err(e) = self.notify.discard() {
                        eprintln!("sysmaster: notify socket: {e}");
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    eprintln!("sysmaster: notify socket: {e}");
                    break;
                }
            }
        }
    }

    /// The unit a notification comes from: the owner of the pid, else the unit whose
    /// cgroup holds it, else the owner of its nearest known ancestor.
    fn unit_of_sender(&self, pid: u32) -> Option<UnitId> {
        if let Some(&u) = self.pids.get(&pid) {
            return Some(u);
        }
        if let (Some(mount), Some(path)) = (&self.cgroup_mount, cgroup_of_pid(pid)) {
            let full = mount.join(path.trim_start_matches('/'));
            let found = self
                .reg
                .units()
                .find(|u| u.cgroup.as_ref().is_some_and(|cg| cg.path() == full));
            if let Some(unit) = found {
                return Some(unit.id);
            }
        }
        let mut p = pid;
        for _ in 0..16 {
            p = parent_pid(p)?;
            if p <= 1 {
                return None;
            }
            if let Some(&u) = self.pids.get(&p) {
                return Some(u);
            }
        }
        None
    }

    fn poll_pid_files(&mut self) {
        let watching: Vec<(UnitId, String)> = self
            .reg
            .units()
            .filter_map(|u| u.watch_pid_file.clone().map(|p| (u.id, p)))
            .collect();
        for (u, path) in watching {
            if let Some(pid) = read_pid_file(&path) {
                if let Some(unit) = self.reg.unit_mut(u) {
                    unit.watch_pid_file = None;
                }
                self.events.push_back((u, Event::PidFile(Some(pid))));
            }
        }
        self.drain_events();
    }

    fn fire_timers(&mut self, now: u64) {
        for (u, kind) in self.timers.expired(now) {
            self.events.push_back((u, Event::Timer(kind)));
        }
        self.drain_events();
    }

    // ---- unit events and effects ----

    /// Feeds queued events to their units, carrying out the effects, until none is left.
    pub(crate) fn drain_events(&mut self) {
        while let Some((u, event)) = self.events.pop_front() {
            self.dirty.insert(u);
            let now = Daemon::now();
            let effects = match self.reg.unit_mut(u).and_then(|x| x.service_mut()) {
                Some(s) => s.handle(now, event),
                None => {
                    self.mount_service_event(u, event);
                    continue;
                }
            };
            for effect in effects {
                self.apply(u, effect);
            }
            self.track_adopted(u);
        }
    }

    /// A main process learned from a PID file, `MAINPID=` or a guess is not a child the
    /// manager forked; it is tracked from now on so that its exit (reaped by the manager as
    /// subreaper) reaches the unit.
    fn track_adopted(&mut self, u: UnitId) {
        let Some(service) = self.reg.unit(u).and_then(|x| x.service()) else {
            return;
        };
        for pid in [service.main_pid(), service.control_pid()]
            .into_iter()
            .flatten()
        {
            if let std::collections::hash_map::Entry::Vacant(e) = self.pids.entry(pid) {
                e.insert(u);
                if let Ok(t) = sys::process::start_time(pid) {
                    self.start_times.insert(pid, t);
                }
                if let Some(unit) = self.reg.unit_mut(u) {
                    unit.populated = true;
                }
            }
        }
    }

    fn apply(&mut self, u: UnitId, effect: Effect) {
        match effect {
            Effect::Spawn {
                role,
                command,
                extra_env,
            } => self.spawn(u, role, &command, extra_env),
            Effect::Kill { target, signal } => self.kill(u, target, signal),
            Effect::ArmTimer { kind, at } => self.timers.arm(u, kind, at),
            Effect::DisarmTimer(kind) => self.timers.disarm(u, kind),
            Effect::ReadPidFile(path) => {
                let pid = read_pid_file(&path);
                self.events.push_back((u, Event::PidFile(pid)));
            }
            Effect::WatchPidFile(path) => {
                if let Some(unit) = self.reg.unit_mut(u) {
                    unit.watch_pid_file = Some(path);
                }
            }
            Effect::GuessMainPid => {
                let guess = self.guess_main_pid(u);
                self.events.push_back((u, Event::MainPidGuess(guess)));
            }
            Effect::StateChanged { from, to, result } => {
                self.service_state_changed(u, from, to, result)
            }
            Effect::Log(message) => self.log_unit(u, &message),
            Effect::ScheduleRestart => self.schedule_restart(u),
        }
    }

    /// `Restart=`: a restart job in mode `replace`, unless the unit is being stopped anyway
    /// (then the stop job ends the `auto-restart` state), as systemd 252 does.
    fn schedule_restart(&mut self, u: UnitId) {
        if self
            .engine
            .job_of(u)
            .is_some_and(|j| j.job_type == JobType::Stop)
        {
            self.log_unit(u, "Stop job pending for unit, skipping automatic restart.");
            return;
        }
        let now = Daemon::now();
        match self.engine.enqueue(
            &self.reg.graph,
            &self.reg,
            u,
            JobType::Restart,
            JobMode::Replace,
            false,
            now,
        ) {
            Ok(e) => self.jobs_finished(e.finished),
            Err(e) => {
                self.log_unit(u, &format!("Failed to schedule restart job: {e}"));
                self.events.push_back((u, Event::RestartRefused));
            }
        }
    }

    fn guess_main_pid(&self, u: UnitId) -> Option<u32> {
        let unit = self.reg.unit(u)?;
        let control = unit.service().and_then(|s| s.control_pid());
        let pids = unit.cgroup.as_ref()?.pids().ok()?;
        let candidates: Vec<u32> = pids.into_iter().filter(|&p| Some(p) != control).collect();
        match candidates.as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    }

    /// Finds the cgroup a previous manager made for the unit, if it still exists.
    fn prepare_cgroup_only(&mut self, u: UnitId) {
        let Some(base) = self.cgroup_base.clone() else {
            return;
        };
        let slice = self
            .reg
            .graph
            .get(u, Dependency::InSlice)
            .next()
            .map(|s| self.reg.name_of(s));
        let Some(unit) = self.reg.unit_mut(u) else {
            return;
        };
        let path = base.join(cgroup_relative(slice.as_deref(), &unit.name));
        if unit.cgroup.is_none() && path.is_dir() {
            unit.cgroup = Some(sys::cgroup::Cgroup::open(path));
        }
    }

    /// Creates the unit's output pipe and cgroup if it has none yet.
    fn prepare_unit(&mut self, u: UnitId) {
        let base = self.cgroup_base.clone();
        let slice = self
            .reg
            .graph
            .get(u, Dependency::InSlice)
            .next()
            .map(|s| self.reg.name_of(s));
        let Some(unit) = self.reg.unit_mut(u) else {
            return;
        };
        if unit.log_pipe.is_none() {
            match sys::event::pipe_nonblocking_read() {
                Ok(p) => {
                    // PID 1 keeps both ends, so that output written while no manager runs
                    // waits in the pipe and a writer never gets EPIPE.
                    if let Some(l) = &self.link {
                        for (end, fd) in [("r", p.0.as_fd()), ("w", p.1.as_fd())] {
                            let name = format!("log-{end}:{}", unit.name);
                            if let Err(e) = l.send(&ToInit::StoreFd { name }, Some(fd)) {
                                eprintln!(
                                    "sysmaster: {}: cannot store the output pipe with PID 1: {e}",
                                    unit.name
                                );
                            }
                        }
                    }
                    unit.log_pipe = Some(p);
                }
                Err(e) => eprintln!("sysmaster: {}: cannot create output pipe: {e}", unit.name),
            }
        }
        if unit.cgroup.is_none() {
            if let Some(base) = base {
                let rel = cgroup_relative(slice.as_deref(), &unit.name);
                match sys::cgroup::Cgroup::create(&base, &rel) {
                    Ok(cg) => unit.cgroup = Some(cg),
                    Err(e) => {
                        eprintln!("sysmaster: {}: cannot create cgroup {rel}: {e}", unit.name)
                    }
                }
            }
        }
    }

    fn spawn(
        &mut self,
        u: UnitId,
        role: Role,
        command: &unitfile::exec::ExecCommand,
        extra_env: Vec<(String, String)>,
    ) {
        self.prepare_unit(u);
        let idle = role == Role::Main
            && self
                .reg
                .unit(u)
                .and_then(|x| x.service())
                .is_some_and(|s| s.config().service_type == ServiceType::Idle);
        let idle_wait = if idle { self.idle_wait_end() } else { None };
        let Some(unit) = self.reg.unit(u) else {
            return;
        };
        let (Some(service), Some(section)) = (unit.service(), unit.service_section()) else {
            return;
        };
        let mut env = vec![("INVOCATION_ID".to_string(), unit.invocation_id.clone())];
        if service.needs_notify_socket(role) {
            env.push((
                "NOTIFY_SOCKET".to_string(),
                self.notify_path.display().to_string(),
            ));
        }
        if role == Role::Main {
            if let Some(usec) = service.watchdog_usec() {
                env.push(("WATCHDOG_USEC".to_string(), usec.to_string()));
            }
        }
        env.extend(extra_env);
        let mut fds = Vec::new();
        if role == Role::Main {
            let mut names = Vec::new();
            for s in self.reg.graph.get(u, Dependency::TriggeredBy) {
                let Some(sock) = self.reg.unit(s) else {
                    continue;
                };
                let (Runtime::Socket(rt), unitfile::model::Kind::Socket(section)) =
                    (&sock.runtime, &sock.loaded.config.kind)
                else {
                    continue;
                };
                let name = crate::sockets::fd_name(section, &sock.name);
                for fd in &rt.fds {
                    match fd.try_clone() {
                        Ok(copy) => {
                            fds.push(copy);
                            names.push(name.clone());
                        }
                        Err(e) => eprintln!("sysmaster: {}: cannot pass a socket: {e}", sock.name),
                    }
                }
            }
            if !fds.is_empty() {
                env.push(("LISTEN_FDS".to_string(), fds.len().to_string()));
                env.push(("LISTEN_FDNAMES".to_string(), names.join(":")));
            }
        }
        let cgroup_procs = unit
            .cgroup
            .as_ref()
            .and_then(|cg| cg.procs_for_writing().ok());
        let request = exec::Request {
            command,
            context: &section.exec,
            manager_set: &env,
            manager_env: &self.manager_env,
            log: unit.log_pipe.as_ref().map(|(_, w)| w.as_fd()),
            cgroup_procs,
            fds,
            idle_wait,
        };
        let planned = exec::plan(request, &self.paths);
        let mut plan = match planned {
            Ok(plan) => plan,
            Err(e) => {
                self.log_unit(u, &format!("Failed to set up {}: {e}", command.path));
                let event = match &e {
                    exec::PlanError::Step { step, .. } => Event::SpawnFailed {
                        role,
                        exit_code: step.exit_code(),
                    },
                    exec::PlanError::Resources(_) => Event::SpawnResources { role },
                };
                self.events.push_back((u, event));
                // No process was made: if none ran before either, the unit's group is
                // empty, and the state machine must hear it or it waits for it forever.
                if self.reg.unit(u).is_some_and(|x| !x.populated) {
                    self.events.push_back((u, Event::CgroupEmpty));
                }
                return;
            }
        };
        // Released once the state journal records the process (`Daemon::persist`).
        plan.gate = true;
        match sys::spawn::spawn(&plan) {
            Ok(child) => {
                let pid = self.track_spawned(u, role, child);
                self.events.push_back((u, Event::Spawned { role, pid }));
            }
            Err(e) => {
                self.log_unit(u, &format!("Failed to fork {}: {e}", command.path));
                self.events.push_back((
                    u,
                    Event::SpawnFailed {
                        role,
                        exit_code: sys::spawn::Step::Exec.exit_code(),
                    },
                ));
            }
        }
    }

    /// Records a process just spawned for unit `u`: its pid and start time, the unit as
    /// populated, and the exec report to wait for. Returns the pid.
    pub(crate) fn track_spawned(&mut self, u: UnitId, role: Role, child: sys::spawn::Child) -> u32 {
        let pid = child.pid;
        self.pids.insert(pid, u);
        self.note_start_time(pid);
        if let Some(unit) = self.reg.unit_mut(u) {
            unit.populated = true;
        }
        self.execs.push(PendingExec {
            unit: u,
            role,
            child,
        });
        pid
    }

    /// Sends `signal` to the processes of `target`, then SIGCONT so that stopped
    /// processes see it.
    pub(crate) fn kill(&mut self, u: UnitId, target: KillTarget, signal: i32) {
        let Some(unit) = self.reg.unit(u) else {
            return;
        };
        let main = unit.service().and_then(|s| s.main_pid());
        let control = unit.service().and_then(|s| s.control_pid());
        let send = |pid: Option<u32>, signal: i32| {
            if let Some(pid) = pid {
                let _ = sys::process::kill(pid, signal);
                if signal != SIGKILL && signal != SIGCONT {
                    let _ = sys::process::kill(pid, SIGCONT);
                }
            }
        };
        match target {
            KillTarget::Main => send(main, signal),
            KillTarget::Control => send(control, signal),
            KillTarget::MainAndControl => {
                send(main, signal);
                send(control, signal);
            }
            KillTarget::Cgroup => match &unit.cgroup {
                Some(cg) => {
                    // The known processes first, by pid, as systemd does: a process that
                    // was just forked may not have joined the cgroup yet.
                    send(main, signal);
                    send(control, signal);
                    let r = if signal == SIGKILL {
                        cg.kill_all()
                    } else {
                        cg.signal_all(signal).and_then(|()| cg.signal_all(SIGCONT))
                    };
                    if let Err(e) = r {
                        eprintln!("sysmaster: {}: cannot signal cgroup: {e}", unit.name);
                    }
                }
                None => {
                    // Without a cgroup only the processes the manager knows get the signal.
                    send(main, signal);
                    send(control, signal);
                }
            },
        }
    }

    fn service_state_changed(
        &mut self,
        u: UnitId,
        from: ServiceState,
        to: ServiceState,
        result: ServiceResult,
    ) {
        let Some(unit) = self.reg.unit(u) else {
            return;
        };
        let Some(service) = unit.service() else {
            return;
        };
        let idle = service.config().service_type == ServiceType::Idle;
        let current = service.state();
        let reload_failed = service.reload_result() != ServiceResult::Success;
        let new_active = to.active_state(idle);
        let old_active = from.active_state(idle);
        if to == ServiceState::Failed {
            self.log_unit(u, &format!("Failed with result '{result}'."));
        }
        self.set_active(u, new_active, reload_failed);
        let triggered_by: Vec<UnitId> = self.reg.graph.get(u, Dependency::TriggeredBy).collect();
        for s in triggered_by {
            if new_active == ActiveState::Active {
                self.socket_event(s, units::socket::Event::ServiceActive);
            } else if to == ServiceState::Failed && result == ServiceResult::StartLimitHit {
                // As systemd: the socket gives up too, instead of accepting clients that
                // nobody will serve.
                self.socket_event(
                    s,
                    units::socket::Event::ServiceRefused("its service hit the start limit".into()),
                );
            } else if to == current && matches!(to, ServiceState::Dead | ServiceState::Failed) {
                self.socket_event(s, units::socket::Event::ServiceInactive);
            }
        }
        // systemd 252 goes from a failure straight to auto-restart: only a failure that
        // stays one triggers OnFailure=, and only an end that stays dead OnSuccess=.
        if to == ServiceState::Failed && current == ServiceState::Failed {
            self.trigger(u, Dependency::OnFailure);
            let section = unit_section(&self.reg, u);
            let limit_action = section.and_then(|s| s.start_limit_action);
            let (action, status) = section.map_or((None, None), |s| {
                (s.failure_action, s.failure_action_exit_status)
            });
            if result == ServiceResult::StartLimitHit {
                self.emergency_action(u, limit_action, None, "start limit hit");
            }
            self.emergency_action(u, action, status, "unit failed");
        }
        if to == ServiceState::Dead
            && current == ServiceState::Dead
            && !old_active.is_inactive_or_failed()
            && result == ServiceResult::Success
        {
            self.trigger(u, Dependency::OnSuccess);
            let (action, status) = unit_section(&self.reg, u).map_or((None, None), |s| {
                (s.success_action, s.success_action_exit_status)
            });
            self.emergency_action(u, action, status, "unit succeeded");
        }
        if matches!(to, ServiceState::Dead | ServiceState::Failed) && to == current {
            self.timers.disarm_all(u);
            self.remove_cgroup_if_empty(u);
            self.reg.refresh_idle_service(u);
        }
    }

    fn remove_cgroup_if_empty(&mut self, u: UnitId) {
        let Some(unit) = self.reg.unit_mut(u) else {
            return;
        };
        if let Some(cg) = &unit.cgroup {
            if cg.is_populated().ok() == Some(false) && cg.remove().is_ok() {
                unit.cgroup = None;
            }
        }
    }

    /// Records a new active state and lets the unit's job react to it.
    pub(crate) fn set_active(&mut self, u: UnitId, new: ActiveState, reload_failed: bool) {
        let Some(unit) = self.reg.unit_mut(u) else {
            return;
        };
        if unit.active == new && !reload_failed {
            return;
        }
        self.dirty.insert(u);
        let old = unit.active;
        if unit.active != new {
            unit.active = new;
            unit.state_change_usec = Some(realtime_usec());
        }
        let had_job = self.engine.job_of(u).is_some();
        let change =
            self.engine
                .unit_state_changed(&self.reg.graph, &self.reg, u, new, reload_failed);
        self.jobs_finished(change.finished);
        // Looked at once the current events are handled (systemd's queues): a service
        // that failed and is about to restart is activating again by then.
        if (!had_job || change.unexpected) && !self.coldplugging {
            self.retro_queue.push((u, old));
        }
        if new.is_inactive_or_failed() {
            self.bound_queue.push(u);
        }
    }

    /// Carries out what state changes without jobs imply (see [`Daemon::retroactive`] and
    /// [`Daemon::stop_bound_units`]), judged by the units' states now.
    fn dispatch_state_queues(&mut self) {
        for (u, old) in std::mem::take(&mut self.retro_queue) {
            let now = self.reg.unit(u).map(Unit::active_state);
            if let Some(new) = now {
                self.retroactive(u, old, new);
            }
        }
        for u in std::mem::take(&mut self.bound_queue) {
            if self
                .reg
                .unit(u)
                .is_some_and(|x| x.active_state().is_inactive_or_failed())
            {
                self.stop_bound_units(u);
            }
        }
    }

    /// systemd's `unit_check_binds_to`: a unit that is up without a job of its own while a
    /// unit it `BindsTo=` is down (and has no job either) is stopped too.
    fn stop_bound_units(&mut self, u: UnitId) {
        if self.engine.job_of(u).is_some() {
            return;
        }
        let bound: Vec<UnitId> = self
            .reg
            .graph
            .get(u, Dependency::BoundBy)
            .filter(|&o| {
                self.engine.job_of(o).is_none()
                    && self.reg.unit(o).is_some_and(|x| {
                        let a = x.active_state();
                        !a.is_inactive_or_failed() && a != ActiveState::Deactivating
                    })
            })
            .collect();
        for o in bound {
            let (name, other) = (self.reg.name_of(o), self.reg.name_of(u));
            self.log_unit(
                o,
                &format!("Unit {name} is bound to inactive unit {other}. Stopping, too."),
            );
            let now = Daemon::now();
            match self.engine.enqueue(
                &self.reg.graph,
                &self.reg,
                o,
                JobType::Stop,
                JobMode::Fail,
                false,
                now,
            ) {
                Ok(e) => self.jobs_finished(e.finished),
                Err(e) => self.log_unit(o, &format!("cannot queue its stop job: {e}")),
            }
        }
    }

    /// A unit changed state without a job asking for it (a device plugged or unplugged, a
    /// service that died, a mount made by someone else): as systemd does, what it pulls in
    /// is started, what conflicts with it stopped, and what is bound to it stopped.
    fn retroactive(&mut self, u: UnitId, old: ActiveState, new: ActiveState) {
        let activated = old.is_inactive_or_failed()
            && matches!(new, ActiveState::Active | ActiveState::Activating);
        // systemd reacts already when the unit starts deactivating, unless it will be
        // restarted automatically; waiting until it is down gives the same result
        // without knowing that (a restarting service goes from deactivating to
        // activating, never down).
        let deactivated = !old.is_inactive_or_failed() && new.is_inactive_or_failed();
        let mut jobs: Vec<(UnitId, JobType, JobMode)> = Vec::new();
        let state = |reg: &Registry, o: UnitId| reg.unit(o).map(Unit::active_state);
        if activated {
            for (dep, mode) in [
                (Dependency::Requires, JobMode::Replace),
                (Dependency::BindsTo, JobMode::Replace),
                (Dependency::Wants, JobMode::Fail),
            ] {
                for o in self.reg.graph.get(u, dep) {
                    let after = self.reg.graph.has(u, Dependency::After, o);
                    let up = state(&self.reg, o).is_some_and(|a| {
                        matches!(a, ActiveState::Active | ActiveState::Activating)
                            || a == ActiveState::Reloading
                    });
                    if !after && !up {
                        jobs.push((o, JobType::Start, mode));
                    }
                }
            }
            for o in self.reg.graph.get(u, Dependency::Conflicts) {
                if state(&self.reg, o).is_some_and(|a| !a.is_inactive_or_failed()) {
                    jobs.push((o, JobType::Stop, JobMode::Replace));
                }
            }
        } else if deactivated {
            for o in self.reg.graph.get(u, Dependency::BoundBy) {
                if state(&self.reg, o)
                    .is_some_and(|a| !a.is_inactive_or_failed() && a != ActiveState::Deactivating)
                {
                    jobs.push((o, JobType::Stop, JobMode::Replace));
                }
            }
        }
        for (o, t, mode) in jobs {
            let now = Daemon::now();
            match self
                .engine
                .enqueue(&self.reg.graph, &self.reg, o, t, mode, false, now)
            {
                Ok(e) => self.jobs_finished(e.finished),
                Err(e) => {
                    let name = self.reg.name_of(o);
                    self.log_unit(u, &format!("cannot queue a job for {name}: {e}"));
                }
            }
        }
    }

    /// Starts the units of `OnFailure=`/`OnSuccess=`.
    fn trigger(&mut self, u: UnitId, dep: Dependency) {
        let mode = self.reg.unit(u).and_then(|x| {
            let unit = &x.loaded.config.unit;
            match dep {
                Dependency::OnFailure => unit.on_failure_job_mode,
                _ => unit.on_success_job_mode,
            }
        });
        let mode = mode.map_or(JobMode::Replace, map_unit_job_mode);
        let targets: Vec<UnitId> = self.reg.graph.get(u, dep).collect();
        let what = if dep == Dependency::OnFailure {
            "OnFailure="
        } else {
            "OnSuccess="
        };
        for t in targets {
            let name = self.reg.name_of(t);
            let now = Daemon::now();
            match self.engine.enqueue(
                &self.reg.graph,
                &self.reg,
                t,
                JobType::Start,
                mode,
                false,
                now,
            ) {
                Ok(e) => {
                    self.log_unit(u, &format!("Triggering {what} dependency {name}."));
                    self.jobs_finished(e.finished);
                }
                Err(e) => self.log_unit(u, &format!("Failed to enqueue {what} job, ignoring: {e}")),
            }
        }
    }

    // ---- jobs ----

    /// Queues a job for a unit by name; `Ok` is the anchor job.
    pub(crate) fn enqueue(
        &mut self,
        name: &str,
        t: JobType,
        mode: JobMode,
        manual: bool,
    ) -> Result<JobId, (proto::ErrorKind, String)> {
        let u = self
            .reg
            .load(name)
            .map_err(|m| (proto::ErrorKind::NoSuchUnit, m))?;
        let unit = self.reg.unit(u).ok_or((
            proto::ErrorKind::NoSuchUnit,
            format!("Unit {name} not found."),
        ))?;
        let starts = matches!(
            t,
            JobType::Start | JobType::Restart | JobType::ReloadOrStart | JobType::VerifyActive
        );
        if unit.loaded.load_state == unitfile::load::LoadState::NotFound
            && unit.active_state().is_inactive_or_failed()
        {
            return Err((
                proto::ErrorKind::NoSuchUnit,
                format!("Unit {name} not found."),
            ));
        }
        if starts && !unit.supported() {
            return Err((
                proto::ErrorKind::JobFailed,
                format!(
                    "unit type {} is not supported yet",
                    unit.unit_type().suffix()
                ),
            ));
        }
        let now = Daemon::now();
        match self
            .engine
            .enqueue(&self.reg.graph, &self.reg, u, t, mode, manual, now)
        {
            Ok(e) => {
                for line in &e.log {
                    eprintln!("sysmaster: {line}");
                }
                self.jobs_finished(e.finished);
                // The job is durable before anyone is told its id.
                self.persist();
                Ok(e.anchor)
            }
            Err(e) => {
                for line in &e.log {
                    eprintln!("sysmaster: {line}");
                }
                let kind = match e.error {
                    jobs::TransactionError::NotFound { .. } => proto::ErrorKind::NoSuchUnit,
                    _ => proto::ErrorKind::JobFailed,
                };
                Err((kind, e.to_string()))
            }
        }
    }

    /// Begins every runnable job, until a round changes nothing.
    fn dispatch_jobs(&mut self) {
        // A turn begins at most this many jobs: the rest wait for the next turn, after the
        // state is written (which lets the spawned processes run) and PID 1's heartbeat
        // and the exits are answered. A boot of hundreds of units in one turn could outlast
        // the heartbeat timeout, and its successor would try the same turn again.
        let mut budget = JOBS_PER_TURN;
        self.more_jobs = false;
        for _ in 0..1000 {
            let mut progressed = false;
            for id in self.engine.runnable(&self.reg.graph) {
                let Some(job) = self.engine.job(id) else {
                    continue;
                };
                let (u, t) = (job.unit, job.job_type);
                // A service cannot start while it is still stopping or waiting to restart:
                // the job waits until the unit's state changes.
                let busy = self.reg.unit(u).is_some_and(|x| {
                    x.active_state() == ActiveState::Deactivating
                        || x.service()
                            .is_some_and(|s| s.state() == ServiceState::AutoRestart)
                });
                if t == JobType::Start && busy {
                    continue;
                }
                let now = Daemon::now();
                if budget == 0 {
                    self.more_jobs = true;
                    return;
                }
                match self.engine.begin(&self.reg.graph, &self.reg, id, now) {
                    Begin::Perform(action) => {
                        progressed = true;
                        budget -= 1;
                        self.perform(u, id, action);
                        self.status_job_begun(u, id, action);
                    }
                    Begin::Wait => {}
                    Begin::Finished(list) => {
                        progressed = true;
                        self.quiet_job = Some(id);
                        self.jobs_finished(list);
                    }
                }
            }
            if !progressed {
                break;
            }
        }
    }

    /// The read end of the idle pipe for one more `Type=idle` child (and the raw number
    /// of the write end, which the child closes), creating the pipe if needed.
    fn idle_wait_end(&mut self) -> Option<(OwnedFd, i32)> {
        if self.idle_pipe.is_none() {
            match std::io::pipe() {
                Ok((r, w)) => self.idle_pipe = Some((r.into(), w.into())),
                Err(e) => {
                    eprintln!("sysmaster: cannot create the idle pipe: {e}");
                    return None;
                }
            }
        }
        let (r, w) = self.idle_pipe.as_ref()?;
        Some((r.try_clone().ok()?, w.as_raw_fd()))
    }

    /// `Condition*=`/`Assert*=` before a start: a failed condition ends the job `done`
    /// with the unit left inactive, a failed assert fails it (systemd.unit(5)). Returns
    /// whether the start may go on.
    fn start_checks_pass(&mut self, u: UnitId, id: JobId) -> bool {
        let Some(unit) = self.reg.unit(u) else {
            return false;
        };
        let section = &unit.loaded.config.unit;
        let verdict = crate::conditions::check(&section.conditions, &section.asserts, &self.host);
        for check in &verdict.unsupported {
            self.log_unit(
                u,
                &format!("{check} cannot be checked yet, treated as holding."),
            );
        }
        let (result, line) = if let Some(a) = verdict.assert_failed {
            (JobResult::Failed, format!("Assertion failed: {a}."))
        } else if let Some(c) = verdict.condition_failed {
            (
                JobResult::Done,
                format!("Condition check resulted in the start being skipped: {c} was not met."),
            )
        } else {
            return true;
        };
        self.log_unit(u, &line);
        let list = self.engine.finish(&self.reg.graph, &self.reg, id, result);
        if result == JobResult::Done {
            self.quiet_job = Some(id);
        }
        self.jobs_finished(list);
        false
    }

    /// Asks a unit to carry out a running job.
    fn perform(&mut self, u: UnitId, id: JobId, action: Action) {
        self.dirty.insert(u);
        let supported = self.reg.unit(u).is_some_and(|x| x.supported());
        if action == Action::Start && supported && !self.start_checks_pass(u, id) {
            return;
        }
        let Some(unit) = self.reg.unit_mut(u) else {
            return;
        };
        match &mut unit.runtime {
            Runtime::Service(_) => {
                let event = match action {
                    Action::Start => {
                        unit.invocation_id = invocation_id();
                        Event::Start
                    }
                    Action::Stop => Event::Stop,
                    Action::Reload => Event::Reload,
                };
                self.events.push_back((u, event));
                self.drain_events();
            }
            Runtime::Simple(state) => {
                let new = match action {
                    Action::Start | Action::Reload => ActiveState::Active,
                    Action::Stop => ActiveState::Inactive,
                };
                *state = new;
                let line = match (action, unit.unit_type()) {
                    (Action::Start, UnitType::Slice) => Some("Created slice"),
                    (Action::Start, _) => Some("Reached target"),
                    (Action::Stop, UnitType::Slice) => Some("Removed slice"),
                    (Action::Stop, _) => Some("Stopped target"),
                    (Action::Reload, _) => None,
                };
                let description = unit.description();
                if let Some(line) = line {
                    self.log_unit(u, &format!("{line} {description}."));
                }
                self.set_active(u, new, false);
                if action == Action::Reload {
                    // Nothing to reload: the job is done at once.
                    let list = self
                        .engine
                        .finish(&self.reg.graph, &self.reg, id, JobResult::Done);
                    self.jobs_finished(list);
                }
            }
            Runtime::Socket(_) => match action {
                Action::Start => {
                    unit.invocation_id = invocation_id();
                    self.socket_event(u, units::socket::Event::Start);
                    // Listeners are opened at once: a socket that had failed and fails
                    // again changes no state, so no state change ends its job; it fails here.
                    let failed_again = self.reg.unit(u).is_some_and(|x| {
                        matches!(&x.runtime, Runtime::Socket(rt)
                            if rt.machine.state() == units::socket::SocketState::Failed)
                    });
                    if failed_again && self.engine.job_of(u).is_some_and(|j| j.id == id) {
                        let list =
                            self.engine
                                .finish(&self.reg.graph, &self.reg, id, JobResult::Failed);
                        self.jobs_finished(list);
                    }
                }
                Action::Stop => self.socket_event(u, units::socket::Event::Stop),
                Action::Reload => {
                    let list = self
                        .engine
                        .finish(&self.reg.graph, &self.reg, id, JobResult::Done);
                    self.jobs_finished(list);
                }
            },
            Runtime::Mount(_) => self.perform_mount(u, id, action),
            Runtime::Device(d) => {
                // A start job waits for the device to be plugged (until its running
                // timeout: "Timed out waiting for device"); stopping a device unit does
                // nothing to the device, so its job is done at once (systemd's waits for
                // the device to go away).
                let plugged = d.state == units::device::DeviceState::Plugged;
                if action != Action::Start || plugged {
                    let list = self
                        .engine
                        .finish(&self.reg.graph, &self.reg, id, JobResult::Done);
                    self.jobs_finished(list);
                }
            }
            Runtime::Unsupported => {
                let t = unit.unit_type().suffix();
                self.log_unit(u, &format!("unit type {t} is not supported yet"));
                let result = if action == Action::Stop {
                    JobResult::Done
                } else {
                    JobResult::Failed
                };
                let list = self.engine.finish(&self.reg.graph, &self.reg, id, result);
                self.jobs_finished(list);
            }
        }
    }

    fn expire_jobs(&mut self, now: u64) {
        if self.engine.expired(now).is_empty() {
            return;
        }
        let list = self.engine.expire(&self.reg.graph, &self.reg, now);
        self.jobs_finished(list);
    }

    /// Logs and remembers finished jobs.
    pub(crate) fn jobs_finished(&mut self, list: Vec<Finished>) {
        let quiet = self.quiet_job.take();
        self.status_jobs_done(&list, quiet);
        for f in list {
            self.dirty.insert(f.unit);
            let name = self.reg.name_of(f.unit);
            let description = self
                .reg
                .unit(f.unit)
                .map_or_else(|| name.clone(), |x| x.description());
            let is_service = self.reg.unit(f.unit).is_some_and(|x| x.service().is_some());
            let line = match (f.job_type, f.result) {
                // Targets and slices say so when they change state.
                (JobType::Start | JobType::Stop, JobResult::Done) if !is_service => None,
                (JobType::Start, JobResult::Done) => {
                    let active = self
                        .reg
                        .unit(f.unit)
                        .is_some_and(|x| x.active_state().is_active_or_reloading());
                    // A oneshot that ran to its end is "finished", as systemd says.
                    if active {
                        Some(format!("Started {description}."))
                    } else {
                        Some(format!("Finished {description}."))
                    }
                }
                (JobType::Start, JobResult::Failed) => {
                    Some(format!("Failed to start {description}."))
                }
                (JobType::Start, JobResult::Dependency) => {
                    Some(format!("Dependency failed for {description}."))
                }
                (JobType::Stop, JobResult::Done) => Some(format!("Stopped {description}.")),
                (JobType::Reload, JobResult::Done) => Some(format!("Reloaded {description}.")),
                (JobType::Reload, JobResult::Failed) => {
                    Some(format!("Reload failed for {description}."))
                }
                (_, JobResult::Timeout) => {
                    Some(format!("Job {name}/{} timed out.", f.job_type.as_str()))
                }
                _ => None,
            };
            if let Some(line) = line {
                self.log_unit(f.unit, &line);
            }
            if f.result == JobResult::Timeout {
                let action = unit_section(&self.reg, f.unit).and_then(|s| s.job_timeout_action);
                self.emergency_action(f.unit, action, None, "job timed out");
            }
            if self.history.len() >= JOB_HISTORY {
                self.history.pop_front();
            }
            self.history.push_back((f.id, name, f.job_type, f.result));
        }
    }

    // ---- persisted state ----

    fn note_start_time(&mut self, pid: u32) {
        match sys::process::start_time(pid) {
            Ok(t) => {
                self.start_times.insert(pid, t);
            }
            Err(e) => eprintln!("sysmaster: cannot read the start time of {pid}: {e}"),
        }
    }

    fn manager_record(&self) -> ManagerRecord {
        ManagerRecord {
            version: crate::persist::STATE_VERSION,
            boot_id: self.boot_id.clone(),
            next_job: self.engine.next_id(),
            exit_seq: self.exit_seq,
            objective: self.objective.map(Into::into),
            shutting_down: self.shutting_down.is_some(),
        }
    }

    fn unit_record(&self, u: UnitId) -> Option<UnitRecord> {
        let unit = self.reg.unit(u)?;
        let runtime = match &unit.runtime {
            Runtime::Service(s) => RuntimeRecord::Service(Box::new(s.snapshot())),
            Runtime::Simple(a) => RuntimeRecord::Simple(*a),
            Runtime::Socket(s) => RuntimeRecord::Socket(s.machine.state()),
            Runtime::Mount(m) => RuntimeRecord::Mount(Box::new(m.snapshot())),
            Runtime::Device(d) => RuntimeRecord::Device {
                state: d.state,
                sysfs: d.sysfs.clone(),
            },
            Runtime::Unsupported => RuntimeRecord::None,
        };
        let procs = unit
            .tracked_pids()
            .into_iter()
            .flatten()
            .filter_map(|pid| Some((pid, *self.start_times.get(&pid)?)))
            .collect();
        Some(UnitRecord {
            name: unit.name.clone(),
            active: unit.active,
            state_change_usec: unit.state_change_usec,
            invocation_id: unit.invocation_id.clone(),
            populated: unit.populated,
            runtime,
            procs,
        })
    }

    fn job_record(&self, job: &jobs::Job) -> JobRecord {
        JobRecord {
            id: job.id.0,
            unit: self.reg.name_of(job.unit),
            job_type: job.job_type,
            state: job.state,
            irreversible: job.irreversible,
            ignore_order: job.ignore_order,
            deadline: job.deadline,
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            manager: self.manager_record(),
            units: self
                .reg
                .ids()
                .into_iter()
                .filter_map(|u| self.unit_record(u))
                .collect(),
            jobs: self.engine.jobs().map(|j| self.job_record(j)).collect(),
        }
    }

    /// Writes what changed since the last call to the state journal (or a new snapshot
    /// when the journal has grown large). Called after each batch of events, after each
    /// exit and once per loop turn.
    /// Writes what changed to the state journal, then lets the processes spawned since the
    /// last write go on: a process runs only once its unit's record says it exists, so a
    /// successor manager never starts a unit's process a second time (a oneshot that ran
    /// must not run again after a crash).
    pub(crate) fn persist(&mut self) {
        self.write_changes();
        for e in &mut self.execs {
            e.child.release();
        }
    }

    fn write_changes(&mut self) {
        if self.state_dir.is_none() {
            self.dirty.clear();
            return;
        }
        let next_job = self.engine.next_id();
        if next_job != self.persisted_next_job {
            // A transaction ran: any unit may have a new or changed job.
            let units: Vec<UnitId> = self.engine.jobs().map(|j| j.unit).collect();
            self.dirty.extend(units);
        }
        let manager_changed =
            next_job != self.persisted_next_job || self.exit_seq != self.persisted_exit_seq;
        if self.dirty.is_empty() && !manager_changed {
            return;
        }
        let mut changes = Vec::new();
        if manager_changed {
            changes.push(Change::Manager(self.manager_record()));
            self.persisted_next_job = next_job;
            self.persisted_exit_seq = self.exit_seq;
        }
        for u in std::mem::take(&mut self.dirty) {
            if let Some(record) = self.unit_record(u) {
                changes.push(Change::Unit(record));
            }
            let job = self.engine.job_of(u).map(|j| self.job_record(j));
            match (job, self.written_jobs.get(&u)) {
                (Some(j), Some(w)) if &j == w => {}
                (Some(j), _) => {
                    changes.push(Change::Job(j.clone()));
                    self.written_jobs.insert(u, j);
                }
                (None, Some(w)) => {
                    changes.push(Change::JobGone { id: w.id });
                    self.written_jobs.remove(&u);
                }
                (None, None) => {}
            }
        }
        if changes.is_empty() {
            return;
        }
        let result = if self.journal_bytes > JOURNAL_LIMIT {
            let snapshot = self.snapshot();
            self.journal_bytes = 0;
            self.state_dir.as_mut().map(|d| d.write_snapshot(&snapshot))
        } else {
            self.state_dir.as_mut().map(|d| {
                d.append_all(&changes).map(|n| {
                    self.journal_bytes = self.journal_bytes.saturating_add(n);
                })
            })
        };
        if let Some(Err(e)) = result {
            eprintln!(
                "sysmaster: writing the state journal failed: {e}; the state is not kept any more"
            );
            self.state_dir = None;
        }
    }

    /// Writes a whole new snapshot (at start, and after recovery).
    fn write_snapshot(&mut self) {
        let snapshot = self.snapshot();
        self.written_jobs = self
            .engine
            .jobs()
            .map(|j| (j.unit, self.job_record(j)))
            .collect();
        self.persisted_next_job = self.engine.next_id();
        self.persisted_exit_seq = self.exit_seq;
        self.journal_bytes = 0;
        self.dirty.clear();
        if let Some(Err(e)) = self.state_dir.as_mut().map(|d| d.write_snapshot(&snapshot)) {
            eprintln!("sysmaster: writing the state snapshot failed: {e}; the state is not kept");
            self.state_dir = None;
        }
    }

    /// Takes over the state a previous manager of this boot left: units' states, tracked
    /// processes that still exist (same pid *and* start time), jobs, timers, counters.
    /// Returns whether there was such a state (then the boot transaction is not run again).
    fn recover(&mut self) -> bool {
        let loaded = match self
            .state_dir
            .as_mut()
            .map(|d| d.load::<Snapshot, Change>())
        {
            Some(Ok(l)) => Some(l),
            Some(Err(e)) => {
                eprintln!("sysmaster: the saved state cannot be read ({e}); starting afresh");
                None
            }
            None => None,
        };
        let Some(snapshot) = loaded.as_ref().and_then(|l| l.snapshot.clone()) else {
            self.write_snapshot();
            return false;
        };
        let (journal, dropped, stale) = loaded
            .map(|l| (l.journal, l.dropped, l.stale_journal))
            .unwrap_or_default();
        if dropped > 0 {
            eprintln!("sysmaster: dropped a torn tail of {dropped} bytes from the state journal");
        }
        let state = crate::persist::fold(snapshot, journal);
        if state.manager.version != crate::persist::STATE_VERSION
            || state.manager.boot_id != self.boot_id
        {
            eprintln!("sysmaster: the saved state is of another boot or version; starting afresh");
            self.write_snapshot();
            return false;
        }
        let mut adopted = 0usize;
        let mut lost: Vec<(UnitId, u32)> = Vec::new();
        let mut effects: Vec<(UnitId, Effect)> = Vec::new();
        let mut reopen: Vec<UnitId> = Vec::new();
        for record in &state.units {
            let u = match self.reg.load(&record.name) {
                Ok(u) => u,
                Err(e) => {
                    eprintln!("sysmaster: saved unit {}: {e}", record.name);
                    continue;
                }
            };
            self.prepare_cgroup_only(u);
            let Some(unit) = self.reg.unit_mut(u) else {
                continue;
            };
            let r = self.stored.remove(&format!("log-r:{}", record.name));
            let w = self.stored.remove(&format!("log-w:{}", record.name));
            if let (Some(r), Some(w)) = (r, w) {
                unit.log_pipe = Some((r, w));
            }
            unit.active = record.active;
            unit.state_change_usec = record.state_change_usec;
            unit.invocation_id = record.invocation_id.clone();
            unit.populated = record.populated;
            match (&record.runtime, &mut unit.runtime) {
                (RuntimeRecord::Service(snap), Runtime::Service(s)) => {
                    let (restored, fx) =
                        units::service::Service::restore(s.config().clone(), snap.as_ref().clone());
                    **s = restored;
                    effects.extend(fx.into_iter().map(|e| (u, e)));
                }
                (RuntimeRecord::Simple(a), Runtime::Simple(s)) => *s = *a,
                (RuntimeRecord::Device { state, sysfs }, Runtime::Device(d)) => {
                    d.state = *state;
                    d.sysfs.clone_from(sysfs);
                }
                (RuntimeRecord::Mount(snap), Runtime::Mount(m)) => {
                    let (restored, fx) =
                        units::mount::Mount::restore(m.config().clone(), snap.as_ref().clone());
                    **m = restored;
                    for e in fx {
                        if let units::mount::Effect::ArmTimer { at } = e {
                            self.timers.arm(u, units::service::TimerKind::Start, at);
                        }
                    }
                }
                (RuntimeRecord::Socket(state), Runtime::Socket(rt)) => {
                    let mut fds = Vec::new();
                    while let Some(fd) =
                        self.stored
                            .remove(&format!("sock:{}:{}", record.name, fds.len()))
                    {
                        fds.push(fd);
                    }
                    if *state == units::socket::SocketState::Dead {
                        // Nothing to take over.
                    } else if fds.is_empty() {
                        // Without PID 1 the listeners died with the old manager: listen anew.
                        reopen.push(u);
                    } else {
                        let (machine, fx) = units::socket::Socket::restore(*state);
                        rt.machine = machine;
                        rt.fds = fds;
                        rt.watching = fx.contains(&units::socket::Effect::Watch(true));
                    }
                }
                _ => {}
            }
            for &(pid, start) in &record.procs {
                // Tracked either way: a process already gone may have its exit relayed by
                // PID 1, which names it by the same pid and start time.
                self.pids.insert(pid, u);
                self.start_times.insert(pid, start);
                if sys::process::start_time(pid).ok() == Some(start) {
                    adopted += 1;
                } else {
                    lost.push((u, pid));
                }
            }
        }
        let jobs: Vec<jobs::Job> = state
            .jobs
            .iter()
            .filter_map(|j| {
                Some(jobs::Job {
                    id: JobId(j.id),
                    unit: self.reg.find(&j.unit)?,
                    job_type: j.job_type,
                    state: j.state,
                    irreversible: j.irreversible,
                    ignore_order: j.ignore_order,
                    deadline: j.deadline,
                })
            })
            .collect();
        let njobs = jobs.len();
        self.engine = Engine::restore(jobs);
        self.engine.continue_ids_from(state.manager.next_job);
        self.exit_seq = state.manager.exit_seq;
        self.objective = state.manager.objective.map(Into::into);
        if state.manager.shutting_down {
            self.shutting_down = Some(Daemon::now());
        }
        for (u, effect) in effects {
            self.apply(u, effect);
        }
        self.adopt_pending_spawns();
        for u in reopen {
            self.socket_event(u, units::socket::Event::Start);
        }
        eprintln!(
            "sysmaster: recovered the state of the previous manager: {} units, {njobs} jobs, {adopted} processes",
            state.units.len()
        );
        self.lost = lost;
        // A whole journal is simply continued (a new snapshot costs milliseconds per few
        // hundred units, which recovery should not pay); a torn or stale one is replaced.
        let resumed = if dropped == 0 && !stale {
            self.state_dir.as_mut().map(|d| d.resume_journal())
        } else {
            None
        };
        match resumed {
            Some(Ok(size)) => {
                self.written_jobs = self
                    .engine
                    .jobs()
                    .map(|j| (j.unit, self.job_record(j)))
                    .collect();
                self.persisted_next_job = self.engine.next_id();
                self.persisted_exit_seq = self.exit_seq;
                self.journal_bytes = usize::try_from(size).unwrap_or(usize::MAX);
            }
            _ => self.write_snapshot(),
        }
        true
    }

    /// A process taken over from the previous manager has ended. Not being its parent,
    /// the manager cannot learn how: without PID 1 relaying it, the end is reported as a
    /// kill (a failure, so that restart policies apply), with a log line saying so.
    fn adopted_ended(&mut self, pid: u32) {
        let Some(&u) = self.pids.get(&pid) else {
            self.adopted.remove(&pid);
            return;
        };
        self.unknown_end(
            u,
            pid,
            "(started by the previous manager) ended; its exit status is unknown",
        );
        self.drain_events();
        self.check_empty();
    }

    /// After recovery: processes that ended while no manager ran. Their exit status is
    /// lost (no PID 1 relayed it); they are reported as killed, with a log line.
    fn resolve_lost(&mut self) {
        for (u, pid) in std::mem::take(&mut self.lost) {
            if self.pids.get(&pid) != Some(&u) {
                continue;
            }
            self.unknown_end(
                u,
                pid,
                "ended while no manager was running; its exit status is lost",
            );
        }
        self.drain_events();
    }

    /// Forgets a tracked process whose exit status nobody can tell and queues its end as
    /// a kill (a failure, so that restart policies apply), saying so in the unit's log.
    fn unknown_end(&mut self, u: UnitId, pid: u32, what: &str) {
        self.pids.remove(&pid);
        self.start_times.remove(&pid);
        self.adopted.remove(&pid);
        self.log_unit(u, &format!("Process {pid} {what}."));
        self.events.push_back((
            u,
            Event::Exited {
                pid,
                status: ExitStatus::Killed {
                    signal: SIGKILL,
                    core_dumped: false,
                },
            },
        ));
    }

    /// After recovery: watch every adopted process through a pidfd (they are children of
    /// PID 1 or of whoever adopted them now, not ours).
    fn watch_adopted(&mut self) {
        let pids: Vec<u32> = self
            .pids
            .keys()
            .copied()
            .filter(|p| !self.lost.iter().any(|(_, l)| l == p))
            .collect();
        for pid in pids {
            match sys::process::pidfd_open(pid) {
                Ok(fd) => {
                    self.adopted.insert(pid, fd);
                }
                Err(_) => self.lost.extend(self.pids.get(&pid).map(|&u| (u, pid))),
            }
        }
    }

    /// After recovery: a process the previous manager spawned but had not recorded yet is
    /// looked for in the unit's cgroup (the earliest unknown process there); if there is
    /// none, the spawn is reported failed with result `resources` — never run twice.
    fn adopt_pending_spawns(&mut self) {
        let ids = self.reg.ids();
        for u in ids {
            let Some(unit) = self.reg.unit(u) else {
                continue;
            };
            let Some(service) = unit.service() else {
                continue;
            };
            let roles = service.pending_roles();
            if roles.is_empty() {
                continue;
            }
            let mut unknown: Vec<u32> = unit
                .cgroup
                .as_ref()
                .and_then(|c| c.pids().ok())
                .unwrap_or_default()
                .into_iter()
                .filter(|p| !self.pids.contains_key(p))
                .collect();
            unknown.sort_unstable();
            unknown.reverse();
            for role in roles {
                match unknown.pop() {
                    Some(pid) => {
                        self.pids.insert(pid, u);
                        self.note_start_time(pid);
                        self.log_unit(
                            u,
                            &format!("Adopted process {pid} spawned by the previous manager."),
                        );
                        self.events.push_back((u, Event::Spawned { role, pid }));
                    }
                    None => {
                        self.log_unit(
                            u,
                            "A process being spawned was lost with the previous manager.",
                        );
                        self.events.push_back((u, Event::SpawnResources { role }));
                    }
                }
            }
        }
        self.drain_events();
    }

    // ---- socket units ----

    /// Feeds an event to a socket unit and carries out its effects.
    pub(crate) fn socket_event(&mut self, u: UnitId, event: units::socket::Event) {
        use units::socket::{Effect as E, Event as V, SocketState};
        let mut queue = VecDeque::from([event]);
        while let Some(event) = queue.pop_front() {
            let effects = match self.reg.unit_mut(u).map(|x| &mut x.runtime) {
                Some(Runtime::Socket(rt)) => rt.machine.handle(event),
                _ => return,
            };
            self.dirty.insert(u);
            for effect in effects {
                match effect {
                    E::OpenListeners => queue.push_back(V::Opened(self.open_socket(u))),
                    E::CloseListeners => self.close_socket(u),
                    E::Watch(on) => {
                        if let Some(Runtime::Socket(rt)) =
                            self.reg.unit_mut(u).map(|x| &mut x.runtime)
                        {
                            rt.watching = on;
                        }
                    }
                    E::StartService => {
                        let targets: Vec<UnitId> =
                            self.reg.graph.get(u, Dependency::Triggers).collect();
                        for t in targets {
                            let name = self.reg.name_of(t);
                            if let Err((_, e)) =
                                self.enqueue(&name, JobType::Start, JobMode::Replace, false)
                            {
                                queue.push_back(V::ServiceRefused(format!("{name}: {e}")));
                            }
                        }
                    }
                    E::StateChanged { from, to } => {
                        let description = self
                            .reg
                            .unit(u)
                            .map(|x| x.description())
                            .unwrap_or_default();
                        match (from, to) {
                            (_, SocketState::Listening) if from != SocketState::Running => {
                                self.log_unit(u, &format!("Listening on {description}."))
                            }
                            (_, SocketState::Dead) => {
                                self.log_unit(u, &format!("Closed {description}."))
                            }
                            (_, SocketState::Failed) => {
                                self.log_unit(u, &format!("Failed to listen on {description}."))
                            }
                            _ => {}
                        }
                        self.set_active(u, to.active_state(), false);
                    }
                    E::Log(m) => self.log_unit(u, &m),
                }
            }
        }
    }

    fn open_socket(&mut self, u: UnitId) -> Result<(), String> {
        let Some(unit) = self.reg.unit_mut(u) else {
            return Err("unit gone".into());
        };
        let unitfile::model::Kind::Socket(section) = &unit.loaded.config.kind else {
            return Err("not a socket unit".into());
        };
        let fds = crate::sockets::open_listeners(section)?;
        if let Some(l) = &self.link {
            // PID 1 keeps them: the listener survives a crash or re-exec of the manager.
            for (i, fd) in fds.iter().enumerate() {
                let name = format!("sock:{}:{i}", unit.name);
                if let Err(e) = l.send(&ToInit::StoreFd { name }, Some(fd.as_fd())) {
                    eprintln!(
                        "sysmaster: {}: cannot store a listening socket with PID 1: {e}",
                        unit.name
                    );
                }
            }
        }
        if let Runtime::Socket(rt) = &mut unit.runtime {
            rt.fds = fds;
        }
        Ok(())
    }

    fn close_socket(&mut self, u: UnitId) {
        let Some(unit) = self.reg.unit_mut(u) else {
            return;
        };
        let Runtime::Socket(rt) = &mut unit.runtime else {
            return;
        };
        let count = std::mem::take(&mut rt.fds).len();
        if let unitfile::model::Kind::Socket(section) = &unit.loaded.config.kind {
            crate::sockets::remove_files(section);
        }
        if let Some(l) = &self.link {
            for i in 0..count {
                let _ = l.send(
                    &ToInit::RemoveFd {
                        name: format!("sock:{}:{i}", unit.name),
                    },
                    None,
                );
            }
        }
    }

    // ---- PID 1 ----

    /// Descriptors PID 1 kept that no recovered unit claimed are dropped here and there.
    fn release_unclaimed_fds(&mut self) {
        for (name, _) in std::mem::take(&mut self.stored) {
            if let Some(l) = &self.link {
                let _ = l.send(&ToInit::RemoveFd { name }, None);
            }
        }
    }

    fn read_link(&mut self) {
        loop {
            let Some(link) = self.link.as_mut() else {
                return;
            };
            match link.recv() {
                Ok(Some((m, fd))) => self.link_message(m, fd),
                Ok(None) => break,
                Err(e) => {
                    eprintln!("sysmaster: the init link is gone ({e}); running without PID 1");
                    self.link = None;
                    return;
                }
            }
        }
        self.persist();
        self.ack_exits();
    }

    fn link_message(&mut self, m: ToManager, _fd: Option<OwnedFd>) {
        match m {
            ToManager::Ping { seq } => {
                if let Some(l) = &self.link {
                    if let Err(e) = l.send(&ToInit::Pong { seq }, None) {
                        eprintln!("sysmaster: cannot answer PID 1's heartbeat: {e}");
                    }
                }
                if self.lost_after_pings > 0 {
                    self.lost_after_pings -= 1;
                    if self.lost_after_pings == 0 {
                        self.resolve_lost();
                    }
                }
            }
            ToManager::Exit { .. } => {
                if let Some(exit) = RelayedExit::from_message(&m) {
                    self.relayed_exit(exit);
                }
            }
            ToManager::Request { request } => self.init_request(request),
            ToManager::Hello { .. } | ToManager::StoredFd { .. } | ToManager::HelloDone => {
                eprintln!("sysmaster: unexpected start-up message from PID 1 ignored");
            }
        }
    }

    /// An exit PID 1 reaped: applied if it is the tracked process (pid *and* start time),
    /// once (by sequence number).
    fn relayed_exit(&mut self, exit: RelayedExit) {
        if exit.seq <= self.exit_seq {
            return;
        }
        self.exit_seq = exit.seq;
        if self.start_times.get(&exit.pid) != Some(&exit.start_time) {
            return;
        }
        let Some(u) = self.pids.remove(&exit.pid) else {
            return;
        };
        self.start_times.remove(&exit.pid);
        self.adopted.remove(&exit.pid);
        self.lost.retain(|&(_, p)| p != exit.pid);
        if self.reg.unit(u).is_some_and(|x| x.log_pipe.is_some()) {
            self.read_log_pipe(u);
        }
        self.events.push_back((
            u,
            Event::Exited {
                pid: exit.pid,
                status: exit.status,
            },
        ));
        self.drain_events();
        self.check_empty();
    }

    /// Tells PID 1 which relayed exits are durable (call after `persist`).
    fn ack_exits(&mut self) {
        if self.exit_seq == 0 || self.persisted_exit_seq != self.exit_seq {
            return;
        }
        if let Some(l) = &self.link {
            let _ = l.send(
                &ToInit::AckExits {
                    upto: self.exit_seq,
                },
                None,
            );
        }
    }

    /// A signal PID 1 received, as systemd turns it into a job.
    fn init_request(&mut self, request: proto::init::InitRequest) {
        use proto::init::InitRequest as R;
        let (target, mode) = match request {
            R::CtrlAltDel => ("ctrl-alt-del.target", JobMode::ReplaceIrreversibly),
            R::KbRequest => ("kbrequest.target", JobMode::Replace),
            R::PowerFailure => ("sigpwr.target", JobMode::Replace),
            R::Halt => {
                return self.request_shutdown(Objective::Halt, Procedure::Orderly, "halt requested")
            }
            R::Poweroff => {
                return self.request_shutdown(
                    Objective::Poweroff,
                    Procedure::Orderly,
                    "power-off requested",
                )
            }
            R::Reboot => {
                return self.request_shutdown(
                    Objective::Reboot,
                    Procedure::Orderly,
                    "reboot requested",
                )
            }
            R::Kexec => {
                return self.request_shutdown(
                    Objective::Kexec,
                    Procedure::Orderly,
                    "kexec requested",
                )
            }
            R::Reexec => {
                self.daemon_reexec();
                return;
            }
        };
        match self.enqueue(target, JobType::Start, mode, false) {
            Ok(_) => eprintln!("sysmaster: starting {target}"),
            // Ctrl-Alt-Del without the target still reboots, as systemd does.
            Err(_) if request == R::CtrlAltDel => {
                self.request_shutdown(Objective::Reboot, Procedure::Orderly, "Ctrl-Alt-Del")
            }
            Err((_, e)) => eprintln!("sysmaster: cannot start {target}: {e}"),
        }
    }

    /// `daemon-reexec --init`: PID 1 re-executes itself; nothing changes for the manager.
    pub(crate) fn reexec_init(&mut self) -> Result<(), String> {
        let Some(l) = &self.link else {
            return Err("the manager does not run under sysmaster-init".into());
        };
        l.send(&ToInit::ReexecInit, None)
            .map_err(|e| format!("cannot ask PID 1: {e}"))?;
        eprintln!("sysmaster: asked PID 1 to re-execute itself");
        Ok(())
    }

    /// `daemon-reexec`: leave the loop at the end of this turn, keeping every unit.
    pub(crate) fn daemon_reexec(&mut self) {
        eprintln!("sysmaster: re-executing the manager");
        self.reexec = true;
    }

    /// The manager exits for PID 1 to start the binary on disk now; without PID 1 it
    /// re-executes itself in place (its children stay its children). Either way the next
    /// manager recovers from the state written here.
    fn finish_reexec(&mut self) -> i32 {
        self.write_snapshot();
        if let Some(l) = &self.link {
            if let Err(e) = l.send(&ToInit::Restarting, None) {
                eprintln!("sysmaster: cannot tell PID 1 about the re-exec: {e}");
            }
            return 0;
        }
        let _ = std::fs::remove_file(self.runtime_dir.join("control"));
        let _ = std::fs::remove_file(&self.notify_path);
        let args: Vec<std::ffi::CString> = std::env::args_os()
            .filter_map(|a| std::ffi::CString::new(a.into_encoded_bytes()).ok())
            .collect();
        let env: Vec<std::ffi::CString> = std::env::vars_os()
            .filter_map(|(k, v)| {
                let mut b = k.into_encoded_bytes();
                b.push(b'=');
                b.extend(v.into_encoded_bytes());
                std::ffi::CString::new(b).ok()
            })
            .collect();
        let exe = std::ffi::CString::new("/proc/self/exe").unwrap_or_default();
        let e = sys::exec::execve(&exe, &args, &env);
        eprintln!("sysmaster: re-exec failed ({e}); exiting so that the state is taken over by the next start");
        1
    }

    /// After a clean stop nothing of this manager's state may be taken over by a later one.
    fn discard_state(&mut self) {
        self.state_dir = None;
        let dir = self.runtime_dir.join("state");
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                eprintln!("sysmaster: cannot remove {}: {e}", dir.display());
            }
        }
    }

    // ---- stopping ----

    /// Carries out a unit's `FailureAction=`-style setting. `exit` propagates `status`, else
    /// the exit code of the unit's main process (systemd.unit(5)).
    fn emergency_action(
        &mut self,
        u: UnitId,
        action: Option<unitfile::model::unit::EmergencyAction>,
        status: Option<u8>,
        reason: &str,
    ) {
        let Some(action) = action else {
            return;
        };
        let main_code = self
            .reg
            .unit(u)
            .and_then(|x| x.service())
            .and_then(|s| s.main_exit())
            .and_then(|e| match e {
                ExitStatus::Exited(code) => u8::try_from(code).ok(),
                ExitStatus::Killed { .. } => None,
            });
        let status = status.or(main_code).unwrap_or(0);
        let Some((objective, procedure, note)) = crate::shutdown::emergency(action, status) else {
            return;
        };
        if let Some(note) = note {
            self.log_unit(u, note);
        }
        let why = format!("{} {reason}", self.reg.name_of(u));
        self.request_shutdown(objective, procedure, &why);
    }

    /// Goes down to `objective`: see [`crate::shutdown`]. The first request decides the
    /// objective; a later forced one only hurries it.
    pub(crate) fn request_shutdown(
        &mut self,
        objective: Objective,
        procedure: Procedure,
        why: &str,
    ) {
        let first = self.objective.is_none();
        let objective = *self.objective.get_or_insert(objective);
        if first {
            eprintln!("sysmaster: {why}, {}.", objective.doing());
        } else {
            eprintln!(
                "sysmaster: {why}: already {}, {}",
                objective.doing(),
                if procedure == Procedure::Force {
                    "killing every unit now"
                } else {
                    "ignored"
                }
            );
        }
        if procedure == Procedure::Force {
            self.forced = true;
            if self.shutting_down.is_none() {
                self.begin_shutdown();
            }
            // The second call kills every unit's processes.
            self.begin_shutdown();
            return;
        }
        if !first {
            return;
        }
        let target = objective.target();
        let loaded = self.reg.load(target).ok().filter(|&t| {
            self.reg
                .unit(t)
                .is_some_and(|x| x.loaded.load_state == unitfile::load::LoadState::Loaded)
        });
        let Some(t) = loaded else {
            eprintln!("sysmaster: {target} has no unit file, stopping every unit");
            self.begin_shutdown();
            return;
        };
        let now = Daemon::now();
        match self.engine.enqueue(
            &self.reg.graph,
            &self.reg,
            t,
            JobType::Start,
            JobMode::ReplaceIrreversibly,
            false,
            now,
        ) {
            Ok(e) => {
                self.jobs_finished(e.finished);
                self.shutdown_target = Some(t);
            }
            Err(e) => {
                eprintln!("sysmaster: cannot start {target}: {e}; stopping every unit");
                self.begin_shutdown();
            }
        }
    }

    /// SIGTERM/SIGINT: stop every unit, then exit. A second request kills what is left.
    fn begin_shutdown(&mut self) {
        if self.shutting_down.is_some() {
            eprintln!("sysmaster: second stop request, killing all units");
            let ids = self.reg.ids();
            for u in ids {
                self.kill(u, KillTarget::Cgroup, SIGKILL);
            }
            return;
        }
        eprintln!("sysmaster: stopping all units");
        self.shutting_down = Some(Daemon::now());
        let active: Vec<UnitId> = self
            .reg
            .units()
            .filter(|u| !u.active_state().is_inactive_or_failed() || u.populated)
            .filter(|u| jobs::Units::can_stop(&self.reg, u.id))
            // Devices stay until they go (systemd does not stop device units either).
            .filter(|u| !matches!(u.runtime, Runtime::Device(_)))
            .map(|u| u.id)
            .collect();
        for u in active {
            let now = Daemon::now();
            match self.engine.enqueue(
                &self.reg.graph,
                &self.reg,
                u,
                JobType::Stop,
                JobMode::Replace,
                false,
                now,
            ) {
                Ok(e) => self.jobs_finished(e.finished),
                Err(e) => self.log_unit(u, &format!("cannot stop: {e}")),
            }
        }
    }

    fn cleanup(&mut self) {
        let _ = std::fs::remove_file(self.runtime_dir.join("control"));
        let _ = std::fs::remove_file(&self.notify_path);
        let ids = self.reg.ids();
        for u in ids {
            self.remove_cgroup_if_empty(u);
        }
        if let Some(base) = &self.cgroup_base {
            let own_root = own_cgroup()
                .zip(self.cgroup_mount.as_ref())
                .map(|(own, m)| m.join(own.trim_start_matches('/')));
            // Only the group made for this instance goes away, never the manager's own.
            if own_root.as_ref() != Some(base) {
                let g = sys::cgroup::Cgroup::open(base.clone());
                if g.is_populated().ok() == Some(false) {
                    let _ = g.remove();
                }
            }
        }
    }
}

/// The `[Unit]` section of a loaded unit.
fn unit_section(reg: &Registry, u: UnitId) -> Option<&unitfile::model::UnitSection> {
    reg.unit(u).map(|x| &x.loaded.config.unit)
}

fn map_unit_job_mode(m: unitfile::model::unit::JobMode) -> JobMode {
    use unitfile::model::unit::JobMode as U;
    match m {
        U::Fail => JobMode::Fail,
        U::Replace => JobMode::Replace,
        U::ReplaceIrreversibly => JobMode::ReplaceIrreversibly,
        U::Isolate => JobMode::Isolate,
        U::Flush => JobMode::Flush,
        U::IgnoreDependencies => JobMode::IgnoreDependencies,
        U::IgnoreRequirements => JobMode::IgnoreRequirements,
    }
}

/// Where the fstab generator reads and writes, if it runs: `/etc/fstab` on the default
/// search path (or the `--fstab` file), its output `<runtime-dir>/generator` placed in
/// the search path below `/etc/systemd/system` and `/run/systemd/system` (systemd's
/// `/run/systemd/generator`), or last with `--unit-path`.
fn generator_setup(options: &Options, dirs: &mut Vec<PathBuf>) -> Option<(PathBuf, PathBuf)> {
    let fstab = match (&options.fstab, options.unit_dirs.is_empty()) {
        (Some(f), _) => f.clone(),
        (None, true) => PathBuf::from("/etc/fstab"),
        (None, false) => return None,
    };
    let out = options.runtime_dir.join("generator");
    let at = dirs
        .iter()
        .position(|d| d == Path::new("/run/systemd/system"))
        .map_or(dirs.len(), |i| i + 1);
    dirs.insert(at, out.clone());
    Some((fstab, out))
}

/// Runs the fstab generator, logging what it says.
fn run_generator(fstab: &Path, out: &Path) {
    for line in crate::fstab::run(fstab, out) {
        eprintln!("sysmaster: fstab generator: {line}");
    }
}

impl Daemon {
    /// Runs the generators again (`daemon-reload`).
    pub(crate) fn rerun_generators(&mut self) {
        if let Some((fstab, out)) = &self.generator {
            run_generator(fstab, out);
        }
    }
}

/// With `quiet` on a machine's kernel command line the console stays quiet, as systemd
/// keeps it (its log goes to the journal): our log lines go to `<runtime-dir>/log`
/// instead of the console, until the log store exists. A log past 4 MiB at start-up is
/// moved to `log.old`. When the file cannot be opened the log stays on the console.
fn log_to_file(runtime_dir: &Path) {
    let path = runtime_dir.join("log");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > 4 << 20) {
        let _ = std::fs::rename(&path, runtime_dir.join("log.old"));
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path);
    match file.and_then(|f| sys::fd::replace_stderr(&f)) {
        Ok(()) => {}
        Err(e) => eprintln!(
            "sysmaster: cannot log to {} ({e}); logging to the console",
            path.display()
        ),
    }
}

/// The unit a machine boots into when the kernel command line names one
/// (kernel-command-line(7)): `systemd.unit=NAME` (or our `sysmaster.unit=NAME`), or a SysV
/// runlevel word — `emergency`/`-b`, `rescue`/`single`/`s`/`S`/`1`, `2`–`5`. The last one
/// given wins, as in systemd. Quoting is not needed for unit names and not handled.
pub fn boot_target(cmdline: &str) -> Option<String> {
    let mut target = None;
    for word in cmdline.split_ascii_whitespace() {
        let named = match word.split_once('=') {
            Some(("systemd.unit" | "sysmaster.unit", v)) if !v.is_empty() => Some(v),
            Some(_) => None,
            None => match word {
                "emergency" | "-b" => Some("emergency.target"),
                "rescue" | "single" | "s" | "S" | "1" => Some("rescue.target"),
                "2" => Some("runlevel2.target"),
                "3" => Some("runlevel3.target"),
                "4" => Some("runlevel4.target"),
                "5" => Some("runlevel5.target"),
                _ => None,
            },
        };
        if let Some(t) = named {
            target = Some(t.to_string());
        }
    }
    target
}

#[cfg(test)]
mod boot_target_tests {
    use super::boot_target;

    #[test]
    fn kernel_command_line_names_the_boot_target() {
        let cases: &[(&str, Option<&str>)] = &[
            ("console=ttyS0 quiet", None),
            ("quiet systemd.unit=bench.target", Some("bench.target")),
            ("sysmaster.unit=rescue.target ro", Some("rescue.target")),
            ("single", Some("rescue.target")),
            ("S", Some("rescue.target")),
            ("3", Some("runlevel3.target")),
            ("-b", Some("emergency.target")),
            ("emergency systemd.unit=a.target", Some("a.target")),
            ("systemd.unit=a.target rescue", Some("rescue.target")),
            ("systemd.unit= quiet", None),
            ("rd.systemd.unit=initrd.target", None),
            ("systemd.unit.x=1", None),
        ];
        for (line, want) in cases {
            assert_eq!(boot_target(line).as_deref(), *want, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_paths_nest_slices() {
        let cases = [
            (Some("system.slice"), "a.service", "system.slice/a.service"),
            (
                Some("system-getty.slice"),
                "getty@tty1.service",
                "system.slice/system-getty.slice/getty@tty1.service",
            ),
            (Some("-.slice"), "x.service", "x.service"),
            (None, "x.service", "x.service"),
        ];
        for (slice, unit, want) in cases {
            assert_eq!(cgroup_relative(slice, unit), want);
        }
    }

    #[test]
    fn pid_files_hold_a_positive_pid() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("pid");
        for (text, want) in [
            ("42\n", Some(42)),
            ("0", None),
            ("x", None),
            (" 7 ", Some(7)),
        ] {
            std::fs::write(&p, text).unwrap();
            assert_eq!(read_pid_file(p.to_str().unwrap()), want, "{text:?}");
        }
        assert_eq!(read_pid_file("/nonexistent/pid"), None);
    }

    #[test]
    fn invocation_ids_are_128_bit_hex() {
        let a = invocation_id();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, invocation_id());
    }
}
