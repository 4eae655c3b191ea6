//! Processes: reaping children without blocking, pidfds, signals, and the start time that
//! tells a pid from a recycled one.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// How a child ended, as `waitid(2)` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Exited(i32),
    Killed { signal: i32, core_dumped: bool },
}

/// Reaps one exited child without blocking; `Ok(None)` when none has exited.
pub fn reap_any() -> io::Result<Option<(u32, Exit)>> {
    waitid(libc::P_ALL, 0, libc::WNOHANG)
}

/// Waits for one particular child to exit and reaps it.
pub fn wait_for(pid: u32) -> io::Result<Exit> {
    let id = libc::id_t::from(pid);
    loop {
        match waitid(libc::P_PID, id, 0) {
            Ok(Some((_, exit))) => return Ok(exit),
            Ok(None) => continue,
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

fn waitid(
    idtype: libc::idtype_t,
    id: libc::id_t,
    flags: libc::c_int,
) -> io::Result<Option<(u32, Exit)>> {
    // SAFETY: siginfo_t is plain old data; zeroed is a valid value and waitid fills it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid with a valid pointer to a siginfo_t.
    let r = unsafe { libc::waitid(idtype, id, &mut info, libc::WEXITED | flags) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::ECHILD) {
            Ok(None)
        } else {
            Err(e)
        };
    }
    // SAFETY: after a successful waitid the pid and status fields are initialised; a zero
    // pid means no child was waitable (WNOHANG).
    let (pid, status, code) = unsafe { (info.si_pid(), info.si_status(), info.si_code) };
    if pid <= 0 {
        return Ok(None);
    }
    let exit = match code {
        libc::CLD_EXITED => Exit::Exited(status),
        libc::CLD_DUMPED => Exit::Killed {
            signal: status,
            core_dumped: true,
        },
        _ => Exit::Killed {
            signal: status,
            core_dumped: false,
        },
    };
    Ok(Some((pid.unsigned_abs(), exit)))
}

/// Opens a pidfd for `pid` (Linux 5.3+): a handle that cannot be confused with a later
/// process that reuses the number.
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    // SAFETY: the raw pidfd_open syscall takes a pid and flags and returns a new fd.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends a signal to a process.
pub fn kill(pid: u32, signal: i32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    if pid <= 0 {
        // kill(0 or negative) would signal process groups, never what a caller means here.
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(pid, signal) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Asks the kernel to send `signal` to this process when its parent exits (a worker
/// must not outlive its daemon). Returns whether the parent is still `parent`: if it
/// already exited before the call, no signal will ever come.
pub fn set_parent_death_signal(signal: i32, parent: u32) -> io::Result<bool> {
    let signal =
        libc::c_ulong::try_from(signal).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: prctl(PR_SET_PDEATHSIG, sig) has no memory-safety preconditions.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, signal, 0, 0, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(std::os::unix::process::parent_id() == parent)
}

/// Sends a signal to every process of the process group `pgid` (a worker that leads its
/// own group, with the programs it started).
pub fn kill_group(pgid: u32, signal: i32) -> io::Result<()> {
    let pgid =
        libc::pid_t::try_from(pgid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    if pgid <= 1 {
        // 0 is our own group and 1 would be init's: never what a caller means.
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    // SAFETY: killpg has no memory-safety preconditions.
    if unsafe { libc::killpg(pgid, signal) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The start time of a process in clock ticks since boot (field 22 of `/proc/PID/stat`).
/// With the pid, it identifies a process across pid reuse.
pub fn start_time(pid: u32) -> io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_start_time(&stat).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad stat"))
}

/// The command name may contain spaces and parentheses, so fields are counted after the
/// last `)`; the start time is the 20th field after it.
fn parse_start_time(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

/// Makes this process the reaper of its orphaned descendants (what the manager is when it
/// runs without our PID 1).
pub fn set_child_subreaper() -> io::Result<()> {
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER, 1) has no memory-safety preconditions.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The soft and hard `RLIMIT_NOFILE` of this process.
// rlim_t is u64 on 64-bit targets but not on every 32-bit one.
#[allow(clippy::useless_conversion)]
pub fn nofile_limit() -> io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((u64::from(limit.rlim_cur), u64::from(limit.rlim_max)))
}

/// Raises the soft `RLIMIT_NOFILE` to the hard one: the manager holds a few descriptors
/// per unit (log pipes, pidfds) and must not run out at a thousand units. Services get
/// their own limit back (`LimitNOFILE=`, default 1024 like systemd's).
#[allow(clippy::useless_conversion)]
pub fn raise_nofile_limit() -> io::Result<u64> {
    let (_, hard) = nofile_limit()?;
    let hard = libc::rlim_t::try_from(hard).unwrap_or(libc::RLIM_INFINITY);
    let limit = libc::rlimit {
        rlim_cur: hard,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct we pass.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(u64::from(hard))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_field_after_the_command_name() {
        let stat = "42 (a) b (c)) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 1 1";
        assert_eq!(parse_start_time(stat), Some(123456));
        assert_eq!(parse_start_time("garbage"), None);
        assert!(start_time(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn kill_refuses_process_groups() {
        assert!(kill(0, 0).is_err());
    }
}

/// Which side of [`fork_worker`] a caller is on.
#[derive(Debug)]
pub enum Forked {
    /// The parent: the child's pid.
    Parent(u32),
    /// The child: the descriptor it was given, now descriptor 3.
    Child(OwnedFd),
}

/// Forks this process without `exec`, for a worker that shares the caller's parsed
/// state (udevd forks its workers the same way, so they need not read the rules again).
/// The child leads a new session, has no signal blocked and every disposition default
/// (but SIGPIPE ignored, as Rust's runtime starts a program),
/// and keeps only stdio and `keep` (moved to descriptor 3); the caller's other
/// descriptors are closed in it, so a child must never drop the objects that owned them:
/// it ends with [`exit_now`]. Refused (`EBUSY`) when the process has more than one
/// thread, where a forked child could inherit a lock held by another thread.
pub fn fork_worker(keep: OwnedFd) -> io::Result<Forked> {
    use std::os::fd::IntoRawFd;
    if thread_count()? != 1 {
        return Err(io::Error::from_raw_os_error(libc::EBUSY));
    }
    // SAFETY: the process is single-threaded (checked above), so the child's copy of
    // the address space has no lock held by a thread that does not exist in it.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid > 0 {
        drop(keep);
        return Ok(Forked::Parent(pid.unsigned_abs()));
    }
    let fd = keep.into_raw_fd();
    // SAFETY: plain syscalls on descriptors and signal state of this (new, single-
    // threaded) process; the sigset is initialised by sigemptyset before use; descriptor
    // 3 is ours alone after the dup2 (or already was `keep`).
    unsafe {
        if fd != 3 && libc::dup2(fd, 3) < 0 {
            libc::_exit(1);
        }
        // The programs the child starts must not inherit it (dup2 clears the flag).
        libc::fcntl(3, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::syscall(
            libc::SYS_close_range,
            4 as libc::c_uint,
            libc::c_uint::MAX,
            0,
        );
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        for sig in 1..32 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        // As Rust's runtime leaves it at start: a write to a closed pipe is an error.
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::setsid();
        Ok(Forked::Child(OwnedFd::from_raw_fd(3)))
    }
}

/// Ends this process at once with `code`, running no destructors or exit handlers (what
/// a [`fork_worker`] child must do).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no memory-safety preconditions.
    unsafe { libc::_exit(code) }
}

/// The number of threads of this process (`Threads:` of /proc/self/status).
pub fn thread_count() -> io::Result<usize> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Threads: line"))
}

#[cfg(test)]
mod fork_tests {
    use super::*;

    #[test]
    fn fork_is_refused_with_more_than_one_thread() {
        // The test harness runs this test on a thread of its own besides main; hold one
        // more so that the count is above one whatever the harness does.
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || rx.recv());
        assert!(thread_count().unwrap() >= 2);
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let e = fork_worker(OwnedFd::from(a)).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBUSY));
        drop(tx);
        let _ = t.join();
    }
}
