//! Signal numbers, for callers that do not link libc themselves.

pub const SIGHUP: i32 = libc::SIGHUP;
pub const SIGINT: i32 = libc::SIGINT;
pub const SIGABRT: i32 = libc::SIGABRT;
pub const SIGKILL: i32 = libc::SIGKILL;
pub const SIGSEGV: i32 = libc::SIGSEGV;
pub const SIGBUS: i32 = libc::SIGBUS;
pub const SIGUSR1: i32 = libc::SIGUSR1;
pub const SIGUSR2: i32 = libc::SIGUSR2;
pub const SIGPIPE: i32 = libc::SIGPIPE;
pub const SIGTERM: i32 = libc::SIGTERM;
pub const SIGCHLD: i32 = libc::SIGCHLD;
pub const SIGCONT: i32 = libc::SIGCONT;
pub const SIGWINCH: i32 = libc::SIGWINCH;
pub const SIGPWR: i32 = libc::SIGPWR;

/// `SIGRTMIN` as glibc defines it (the kernel's 32 plus the two glibc keeps for itself),
/// which is what systemd's documented `SIGRTMIN+n` numbers and every glibc `kill(1)` use.
/// musl reserves one more, so its own `SIGRTMIN()` is 35: a constant keeps a static musl
/// PID 1 answering the same numbers.
pub const SIGRTMIN: i32 = 34;

/// Restores the default action of `signal`. The Rust runtime catches SIGSEGV and SIGBUS to
/// report stack overflows; a SIGSEGV *sent* to the process (not a fault) is then swallowed
/// once. A daemon whose crash must be seen by its supervisor resets them.
pub fn reset_to_default(signal: i32) -> std::io::Result<()> {
    // SAFETY: sigaction is plain old data; zeroed with SIG_DFL (0) as the handler is valid.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = libc::SIG_DFL;
    // SAFETY: a valid sigaction pointer; the old action is not asked for.
    if unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
