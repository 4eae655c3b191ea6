//! What PID 1 needs to reap children it did not start: a look at the next exited child
//! that leaves it a zombie (`waitid(WNOWAIT)`), so its start time can still be read from
//! `/proc/PID/stat`, then the reaping of exactly that pid; and signalling every process at
//! once (`kill(-1)`) for the final step of shutdown.

use crate::process::Exit;
use std::io;

/// What [`peek`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waitable {
    /// This child has exited and is still a zombie until [`reap`] is called for it.
    Exited { pid: u32, exit: Exit },
    /// Children exist, none has exited.
    Running,
    /// No children at all.
    NoChildren,
}

/// Looks at one exited child without reaping it and without blocking.
pub fn peek() -> io::Result<Waitable> {
    // SAFETY: siginfo_t is plain old data; zeroed is a valid value and waitid fills it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // SAFETY: waitid with a valid pointer to a siginfo_t.
    if unsafe { libc::waitid(libc::P_ALL, 0, &mut info, flags) } < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ECHILD) => Ok(Waitable::NoChildren),
            Some(libc::EINTR) => Ok(Waitable::Running),
            _ => Err(e),
        };
    }
    // SAFETY: after a successful waitid the pid and status fields are initialised; a zero
    // pid means no child was waitable (WNOHANG).
    let (pid, status, code) = unsafe { (info.si_pid(), info.si_status(), info.si_code) };
    if pid <= 0 {
        return Ok(Waitable::Running);
    }
    let exit = match code {
        libc::CLD_EXITED => Exit::Exited(status),
        _ => Exit::Killed {
            signal: status,
            core_dumped: code == libc::CLD_DUMPED,
        },
    };
    Ok(Waitable::Exited {
        pid: pid.unsigned_abs(),
        exit,
    })
}

/// Reaps the exited child `pid` (found by [`peek`]) without blocking.
pub fn reap(pid: u32) -> io::Result<()> {
    // SAFETY: siginfo_t is plain old data; zeroed is a valid value and waitid fills it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG;
    // SAFETY: waitid with a valid pointer to a siginfo_t.
    if unsafe { libc::waitid(libc::P_PID, libc::id_t::from(pid), &mut info, flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `signal` to every process this process may signal, except itself (`kill(-1)`);
/// `ESRCH` (nobody left) is success.
pub fn kill_all(signal: i32) -> io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(-1, signal) } < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ESRCH) {
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // Reaped by `reap` below, not by `Child::wait`.
    #[allow(clippy::zombie_processes)]
    fn peek_leaves_a_zombie_that_reap_removes() {
        let child = std::process::Command::new("sh")
            .args(["-c", "exit 7"])
            .spawn()
            .unwrap();
        let pid = child.id();
        let start = std::time::Instant::now();
        let found = loop {
            assert!(
                start.elapsed().as_secs() < 20,
                "the child never became waitable"
            );
            // Other tests of this binary may have children too: look only for ours.
            match peek().unwrap() {
                Waitable::Exited { pid: p, exit } if p == pid => break exit,
                _ => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        };
        assert_eq!(found, Exit::Exited(7));
        // Still a zombie: its start time is readable.
        assert!(crate::process::start_time(pid).is_ok());
        reap(pid).unwrap();
        assert!(std::fs::metadata(format!("/proc/{pid}")).is_err());
        assert!(reap(pid).is_err());
    }
}
