//! The end of the machine: `sync(2)` and `reboot(2)`, plus turning off the kernel's own
//! reboot on Ctrl-Alt-Del so that the key combination reaches PID 1 as `SIGINT`.

use std::io;

/// What `reboot(2)` is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Halt,
    PowerOff,
    Restart,
    /// Boot the kernel loaded earlier with `kexec_load(2)`; `EINVAL` when none is loaded.
    Kexec,
    /// Ctrl-Alt-Del sends `SIGINT` to PID 1 instead of rebooting at once.
    DisableCtrlAltDel,
}

/// Flushes every file system's dirty data to disk.
pub fn sync() {
    // SAFETY: sync has no preconditions.
    unsafe { libc::sync() }
}

/// Calls `reboot(2)`. On success it does not return, except for
/// [`Command::DisableCtrlAltDel`]; in a PID namespace other than the first, `Restart` and
/// `PowerOff`/`Halt` end the namespace's init as if killed by `SIGHUP`/`SIGINT`.
pub fn reboot(command: Command) -> io::Result<()> {
    let cmd = match command {
        Command::Halt => libc::RB_HALT_SYSTEM,
        Command::PowerOff => libc::RB_POWER_OFF,
        Command::Restart => libc::RB_AUTOBOOT,
        Command::Kexec => libc::RB_KEXEC,
        Command::DisableCtrlAltDel => libc::RB_DISABLE_CAD,
    };
    // SAFETY: reboot takes a command number and no pointers.
    if unsafe { libc::reboot(cmd) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
