//! Spawning a service process from a fully resolved [`Plan`].
//!
//! Everything that allocates or can fail in complicated ways (resolving users, reading
//! environment files, opening log files, building argv) happens in the parent before
//! `fork(2)`. The child then performs only raw syscalls, in systemd's order: reset signals,
//! new session, join the cgroup, arrange file descriptors and close every other one, apply
//! limits and priorities, switch group and user, change directory, `execve(2)`.
//!
//! When a step fails, the child writes the step and `errno` to a close-on-exec pipe and
//! exits with systemd's exit code for that step (200 CHDIR, 203 EXEC, 216 GROUP, 217 USER
//! ...). The parent learns from the same pipe that `execve` succeeded: it is closed by the
//! exec without anything written (which is also what `Type=exec` waits for).

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// A step of the child's set-up, with systemd's exit code for its failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Chdir,
    Nice,
    Fds,
    Exec,
    Limits,
    OomAdjust,
    SignalMask,
    Stdin,
    Ioprio,
    SetScheduler,
    Group,
    User,
    Cgroup,
    Setsid,
    NoNewPrivileges,
}

const STEPS: [Step; 15] = [
    Step::Chdir,
    Step::Nice,
    Step::Fds,
    Step::Exec,
    Step::Limits,
    Step::OomAdjust,
    Step::SignalMask,
    Step::Stdin,
    Step::Ioprio,
    Step::SetScheduler,
    Step::Group,
    Step::User,
    Step::Cgroup,
    Step::Setsid,
    Step::NoNewPrivileges,
];

impl Step {
    /// The exit status the child ends with (systemd.exec(5), "PROCESS EXIT CODES").
    pub fn exit_code(self) -> i32 {
        match self {
            Step::Chdir => 200,
            Step::Nice => 201,
            Step::Fds => 202,
            Step::Exec => 203,
            Step::Limits => 205,
            Step::OomAdjust => 206,
            Step::SignalMask => 207,
            Step::Stdin => 208,
            Step::Ioprio => 211,
            Step::SetScheduler => 214,
            Step::Group => 216,
            Step::User => 217,
            Step::Cgroup => 219,
            Step::Setsid => 220,
            Step::NoNewPrivileges => 227,
        }
    }

    /// systemd's name for the exit code, as `systemctl status` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Step::Chdir => "CHDIR",
            Step::Nice => "NICE",
            Step::Fds => "FDS",
            Step::Exec => "EXEC",
            Step::Limits => "LIMITS",
            Step::OomAdjust => "OOM_ADJUST",
            Step::SignalMask => "SIGNAL_MASK",
            Step::Stdin => "STDIN",
            Step::Ioprio => "IOPRIO",
            Step::SetScheduler => "SETSCHEDULER",
            Step::Group => "GROUP",
            Step::User => "USER",
            Step::Cgroup => "CGROUP",
            Step::Setsid => "SETSID",
            Step::NoNewPrivileges => "NO_NEW_PRIVILEGES",
        }
    }

    fn from_code(code: u8) -> Option<Step> {
        STEPS.into_iter().find(|s| s.exit_code() == i32::from(code))
    }
}

/// The user and groups the process runs as, already resolved to numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// Everything the child needs, resolved.
#[derive(Debug, Default)]
pub struct Plan {
    /// The executable, already looked up in `PATH` if it was a bare name.
    pub path: CString,
    pub argv: Vec<CString>,
    /// `NAME=value` strings: the whole environment of the process.
    pub env: Vec<CString>,
    /// Standard input, output and error; `None` keeps the manager's.
    pub stdio: [Option<OwnedFd>; 3],
    /// File descriptors passed on as 3, 4, ... (socket activation).
    pub fds: Vec<OwnedFd>,
    /// Working directory, and whether a missing one is fine (`WorkingDirectory=-...`).
    pub cwd: Option<(CString, bool)>,
    pub umask: Option<u32>,
    /// `(resource, soft, hard)` for setrlimit(2); `u64::MAX` is infinity.
    pub rlimits: Vec<(i32, u64, u64)>,
    pub nice: Option<i32>,
    pub oom_score_adjust: Option<i32>,
    /// `(class, priority)` for ioprio_set(2).
    pub ioprio: Option<(u8, u8)>,
    /// `(policy, priority, reset on fork)` for sched_setscheduler(2).
    pub sched: Option<(i32, i32, bool)>,
    pub credentials: Option<Credentials>,
    /// Start a new session, detached from the manager's terminal.
    pub setsid: bool,
    /// Make standard input (a terminal) the controlling terminal of the new session, as
    /// `StandardInput=tty` does; `Some(true)` steals it from another session
    /// (`tty-force`). Needs `setsid`.
    pub controlling_tty: Option<bool>,
    /// Reset the terminal on standard input to sane settings first (`TTYReset=yes`).
    pub tty_reset: bool,
    pub ignore_sigpipe: bool,
    pub no_new_privileges: bool,
    /// The `cgroup.procs` file of the unit's group, opened for writing.
    pub cgroup_procs: Option<OwnedFd>,
    /// `Type=idle`: the read end of a pipe the child waits on before anything else, until
    /// the manager closes the write end (no jobs left) or [`IDLE_WAIT_MSEC`] pass.
    pub idle_wait: Option<OwnedFd>,
    /// The manager's write end of that pipe (a raw number): the child closes its inherited
    /// copy first, or it would keep its own pipe open and wait the full timeout.
    pub idle_close: Option<RawFd>,
    /// The child does nothing until [`Child::release`]: the parent records it durably
    /// first. If the parent dies before that, the child exits with [`GATE_EXIT`] without
    /// running anything, so a successor that never learnt of it may start it again.
    pub gate: bool,
}

/// The exit status of a gated child whose parent died before releasing it.
pub const GATE_EXIT: i32 = 254;

/// systemd.service(5): an idle service waits for the other jobs at most 5 seconds.
pub const IDLE_WAIT_MSEC: i32 = 5000;

/// Why the child never ran its program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpawnFailure {
    pub step: Step,
    pub errno: i32,
}

impl std::fmt::Display for SpawnFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "failed at step {} ({}): {}",
            self.step.name(),
            self.step.exit_code(),
            io::Error::from_raw_os_error(self.errno)
        )
    }
}

/// A forked child whose `execve` may not have happened yet.
#[derive(Debug)]
pub struct Child {
    pub pid: u32,
    report: OwnedFd,
    /// The write end of the gate of a gated child not yet released.
    gate: Option<OwnedFd>,
}

impl Child {
    /// Lets a gated child go on (a no-op for an ungated or released one).
    pub fn release(&mut self) {
        if let Some(gate) = self.gate.take() {
            // SAFETY: writing one byte from a valid buffer to an fd we own. A failed
            // write (the child is gone) needs no handling: dropping the end closes it.
            unsafe { libc::write(gate.as_raw_fd(), b"g".as_ptr().cast(), 1) };
        }
    }

    /// The pipe that becomes readable (EOF or a report) once the child has exec'd or
    /// failed; an event loop can watch it instead of blocking in [`Child::wait_exec`].
    pub fn report_fd(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.report.as_fd()
    }

    /// Blocks until the child has exec'd (`Ok`) or reported the step that failed. The
    /// child has then exited with that step's code and must still be reaped.
    pub fn wait_exec(self) -> Result<u32, SpawnFailure> {
        let mut buf = [0u8; 5];
        let mut got = 0;
        while got < buf.len() {
            let Some(rest) = buf.get_mut(got..) else {
                break;
            };
            // SAFETY: reading into a valid, writable buffer of the given length.
            let n = unsafe {
                libc::read(
                    self.report.as_raw_fd(),
                    rest.as_mut_ptr().cast(),
                    rest.len(),
                )
            };
            if n < 0 {
                if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                break;
            }
            if n == 0 {
                break;
            }
            got += n.unsigned_abs();
        }
        if got == 0 {
            return Ok(self.pid);
        }
        let [code, e0, e1, e2, e3] = buf;
        Err(SpawnFailure {
            step: Step::from_code(code).unwrap_or(Step::Exec),
            errno: i32::from_ne_bytes([e0, e1, e2, e3]),
        })
    }
}

/// Pointers into the plan, built before forking so the child does not allocate.
struct Prepared {
    argv: Vec<*const libc::c_char>,
    env: Vec<*const libc::c_char>,
    /// With passed fds: the buffer of the `LISTEN_PID=` entry of `env`, which only the
    /// child can fill in (sd_listen_fds(3) checks it against its own pid).
    listen_pid: *mut u8,
    groups: Vec<libc::gid_t>,
    oom: Vec<u8>,
}

/// Forks a child that carries out `plan` and execs. `Err` only when the parent could not
/// fork or make the report pipe; everything the child fails at is a [`SpawnFailure`] from
/// [`Child::wait_exec`].
pub fn spawn(plan: &Plan) -> io::Result<Child> {
    // "LISTEN_PID=" + up to 20 digits + NUL; filled in by the child.
    let mut listen_pid = [0u8; 40];
    let listen_pid_ptr = listen_pid.as_mut_ptr();
    let prepared = Prepared {
        listen_pid: if plan.fds.is_empty() {
            std::ptr::null_mut()
        } else {
            listen_pid_ptr
        },
        argv: plan
            .argv
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect(),
        env: plan
            .env
            .iter()
            .map(|a| a.as_ptr())
            .chain((!plan.fds.is_empty()).then_some(listen_pid_ptr.cast_const().cast()))
            .chain(std::iter::once(std::ptr::null()))
            .collect(),
        groups: plan
            .credentials
            .as_ref()
            .map(|c| c.groups.clone())
            .unwrap_or_default(),
        oom: plan
            .oom_score_adjust
            .map(|v| format!("{v}\n").into_bytes())
            .unwrap_or_default(),
    };
    let mut pipe = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two fds into the array we pass.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let [read_end, write_end] = pipe;
    // SAFETY: both fds were just created and are owned by nobody else.
    let (read_end, write_end) = unsafe {
        (
            OwnedFd::from_raw_fd(read_end),
            OwnedFd::from_raw_fd(write_end),
        )
    };
    let gate = if plan.gate {
        let mut pipe = [0 as RawFd; 2];
        // SAFETY: pipe2 writes two fds into the array we pass.
        if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let [r, w] = pipe;
        // SAFETY: both fds were just created and are owned by nobody else.
        Some(unsafe { (OwnedFd::from_raw_fd(r), OwnedFd::from_raw_fd(w)) })
    } else {
        None
    };
    let gate_fds = gate.as_ref().map(|(r, w)| (r.as_raw_fd(), w.as_raw_fd()));

    // SAFETY: fork has no memory-safety preconditions; the child below only performs raw
    // syscalls on memory prepared before the fork (no allocation, no locks), which is what
    // POSIX allows after fork in a multi-threaded process.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: we are the child; `child` never returns.
        unsafe { child(plan, &prepared, write_end.as_raw_fd(), gate_fds) }
    }
    drop(write_end);
    Ok(Child {
        pid: pid.unsigned_abs(),
        report: read_end,
        gate: gate.map(|(_, w)| w),
    })
}

/// Reports a failed step and exits. Async-signal-safe.
///
/// # Safety
/// Only to be called in the forked child, with `report` the write end of the report pipe.
unsafe fn fail(report: RawFd, step: Step) -> ! {
    let errno = *libc::__errno_location();
    let code = step.exit_code();
    let e = errno.to_ne_bytes();
    let buf = [code as u8, e[0], e[1], e[2], e[3]];
    libc::write(report, buf.as_ptr().cast(), buf.len());
    libc::_exit(code)
}

/// The child side. Only raw syscalls from here on.
///
/// # Safety
/// Only to be called in the forked child: it replaces the process image or exits, and
/// touches only memory prepared before the fork.
unsafe fn child(plan: &Plan, p: &Prepared, mut report: RawFd, gate: Option<(RawFd, RawFd)>) -> ! {
    if let Some((read, write)) = gate {
        // Our copy of the write end would keep the pipe open after the parent's death.
        libc::close(write);
        let mut byte = 0u8;
        loop {
            let n = libc::read(read, (&mut byte as *mut u8).cast(), 1);
            if n == 1 {
                break;
            }
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            libc::_exit(GATE_EXIT);
        }
        libc::close(read);
    }
    // Signals: nothing blocked, every disposition back to default.
    let mut empty: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut empty);
    if libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) < 0 {
        fail(report, Step::SignalMask);
    }
    // The raw syscall, because libc refuses to touch the signals it reserves for itself
    // (32 and 33), which an ignoring parent would otherwise pass on. A zeroed kernel
    // sigaction is SIG_DFL with no flags and an empty mask on every architecture.
    let default_action = [0u64; 4];
    for sig in 1..=64 {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                default_action.as_ptr(),
                std::ptr::null_mut::<u64>(),
                8usize,
            );
        }
    }
    if plan.ignore_sigpipe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    if let Some(fd) = plan.idle_close {
        libc::close(fd);
    }
    if let Some(fd) = &plan.idle_wait {
        // Nothing is ever written: the manager closing its end (HUP) is the signal.
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        while libc::poll(&mut pfd, 1, IDLE_WAIT_MSEC) < 0
            && *libc::__errno_location() == libc::EINTR
        {}
    }
    if plan.setsid && libc::setsid() < 0 {
        fail(report, Step::Setsid);
    }
    if let Some(procs) = &plan.cgroup_procs {
        // Writing "0" moves the writing process itself.
        if libc::write(procs.as_raw_fd(), b"0".as_ptr().cast(), 1) < 0 {
            fail(report, Step::Cgroup);
        }
    }

    // File descriptors: stdio to 0-2, passed fds to 3.., everything else closed. Sources
    // are first copied above every target so no dup2 overwrites a source still needed.
    let first_free = 3 + plan.fds.len() as RawFd;
    if report < first_free {
        report = libc::fcntl(report, libc::F_DUPFD_CLOEXEC, first_free);
        if report < 0 {
            libc::_exit(Step::Fds.exit_code());
        }
    }
    let targets = plan
        .stdio
        .iter()
        .enumerate()
        .filter_map(|(i, fd)| fd.as_ref().map(|fd| (fd.as_raw_fd(), i as RawFd)))
        .chain(
            plan.fds
                .iter()
                .enumerate()
                .map(|(i, fd)| (fd.as_raw_fd(), 3 + i as RawFd)),
        );
    let mut moved: [(RawFd, RawFd); 256] = [(-1, -1); 256];
    let mut count = 0;
    for (source, target) in targets {
        let copy = libc::fcntl(source, libc::F_DUPFD_CLOEXEC, first_free.max(report + 1));
        if copy < 0 || count >= moved.len() {
            fail(report, Step::Fds);
        }
        if let Some(slot) = moved.get_mut(count) {
            *slot = (copy, target);
        }
        count += 1;
    }
    for &(copy, target) in moved.iter().take(count) {
        if libc::dup2(copy, target) < 0 {
            fail(report, Step::Fds);
        }
    }
    // Close everything from the first free fd up, except the report pipe (close-on-exec).
    if report > first_free {
        libc::syscall(
            libc::SYS_close_range,
            first_free as libc::c_uint,
            (report - 1) as libc::c_uint,
            0,
        );
    }
    libc::syscall(
        libc::SYS_close_range,
        (report + 1) as libc::c_uint,
        libc::c_uint::MAX,
        0,
    );

    if plan.tty_reset {
        reset_terminal();
    }
    if let Some(force) = plan.controlling_tty {
        if libc::ioctl(0, libc::TIOCSCTTY, libc::c_int::from(force)) < 0 {
            fail(report, Step::Stdin);
        }
    }
    if let Some(mask) = plan.umask {
        libc::umask(mask as libc::mode_t);
    }
    for &(resource, soft, hard) in &plan.rlimits {
        let limit = libc::rlimit {
            rlim_cur: soft as libc::rlim_t,
            rlim_max: hard as libc::rlim_t,
        };
        if libc::setrlimit(resource as _, &limit) < 0 {
            fail(report, Step::Limits);
        }
    }
    if let Some(nice) = plan.nice {
        if libc::setpriority(libc::PRIO_PROCESS, 0, nice) < 0 {
            fail(report, Step::Nice);
        }
    }
    if !p.oom.is_empty() {
        let fd = libc::open(
            c"/proc/self/oom_score_adj".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        );
        if fd < 0 || libc::write(fd, p.oom.as_ptr().cast(), p.oom.len()) < 0 {
            fail(report, Step::OomAdjust);
        }
        libc::close(fd);
    }
    if let Some((class, prio)) = plan.ioprio {
        const IOPRIO_WHO_PROCESS: libc::c_int = 1;
        let value = (libc::c_int::from(class) << 13) | libc::c_int::from(prio);
        if libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) < 0 {
            fail(report, Step::Ioprio);
        }
    }
    if let Some((policy, prio, reset_on_fork)) = plan.sched {
        // musl's sched_param has more (reserved) fields than glibc's: start from zero.
        let mut param: libc::sched_param = std::mem::zeroed();
        param.sched_priority = prio;
        let policy = if reset_on_fork {
            policy | libc::SCHED_RESET_ON_FORK
        } else {
            policy
        };
        // The raw call: musl's wrapper only answers ENOSYS.
        if libc::syscall(libc::SYS_sched_setscheduler, 0, policy, &param) < 0 {
            fail(report, Step::SetScheduler);
        }
    }
    if let Some(c) = &plan.credentials {
        if libc::setgroups(p.groups.len(), p.groups.as_ptr()) < 0
            || libc::setresgid(c.gid, c.gid, c.gid) < 0
        {
            fail(report, Step::Group);
        }
        if libc::setresuid(c.uid, c.uid, c.uid) < 0 {
            fail(report, Step::User);
        }
    }
    // After the user switch, so the directory is checked with the service's permissions.
    if let Some((dir, missing_ok)) = &plan.cwd {
        if libc::chdir(dir.as_ptr()) < 0 {
            let errno = *libc::__errno_location();
            if !(*missing_ok && (errno == libc::ENOENT || errno == libc::ENOTDIR)) {
                fail(report, Step::Chdir);
            }
            // A missing optional directory leaves the process at the root, where systemd's
            // services start, not in whatever directory the manager happens to be.
            libc::chdir(c"/".as_ptr());
        }
    }
    if plan.no_new_privileges && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 {
        fail(report, Step::NoNewPrivileges);
    }
    if !p.listen_pid.is_null() {
        write_listen_pid(p.listen_pid, libc::getpid().unsigned_abs());
    }
    libc::execve(plan.path.as_ptr(), p.argv.as_ptr(), p.env.as_ptr());
    fail(report, Step::Exec)
}

/// Writes `LISTEN_PID=<pid>` and a NUL into the 40-byte buffer at `buf`, without
/// allocating (async-signal-safe).
///
/// # Safety
/// `buf` must point at 40 writable bytes nobody else uses.
unsafe fn write_listen_pid(buf: *mut u8, pid: u32) {
    const PREFIX: &[u8] = b"LISTEN_PID=";
    let mut digits = [0u8; 10];
    let mut n = pid;
    let mut len = 0;
    loop {
        if let Some(d) = digits.get_mut(len) {
            *d = b'0' + (n % 10) as u8;
        }
        len += 1;
        n /= 10;
        if n == 0 || len >= digits.len() {
            break;
        }
    }
    let mut at = 0;
    for &b in PREFIX.iter().chain(digits.iter().take(len).rev()) {
        // SAFETY: at most 11 + 10 bytes, inside the caller's 40-byte buffer.
        buf.add(at).write(b);
        at += 1;
    }
    // SAFETY: as above; terminates the string.
    buf.add(at).write(0);
}

/// Puts the terminal on fd 0 into a sane cooked mode, as `TTYReset=yes` asks: line
/// editing, echo, signals from the keyboard, CR/NL translation. Failures are ignored
/// (stdin may not be a terminal), as systemd ignores them.
///
/// # Safety
/// Only to be called in the forked child; uses raw syscalls on fd 0 only.
unsafe fn reset_terminal() {
    let mut t: libc::termios = std::mem::zeroed();
    if libc::tcgetattr(0, &mut t) < 0 {
        return;
    }
    t.c_iflag &=
        !(libc::IGNBRK | libc::BRKINT | libc::ISTRIP | libc::INLCR | libc::IGNCR | libc::IXON);
    t.c_iflag |= libc::ICRNL | libc::IMAXBEL | libc::IUTF8;
    t.c_oflag |= libc::ONLCR | libc::OPOST;
    t.c_cflag |= libc::CREAD;
    t.c_lflag |= libc::ISIG
        | libc::ICANON
        | libc::IEXTEN
        | libc::ECHO
        | libc::ECHOE
        | libc::ECHOK
        | libc::ECHOCTL
        | libc::ECHOKE;
    libc::tcsetattr(0, libc::TCSANOW, &t);
}
