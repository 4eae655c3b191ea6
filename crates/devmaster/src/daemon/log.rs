//! The daemon's and workers' log: one line per message on standard error (the service
//! manager's journal or log file takes it from there), filtered by a syslog level that
//! `--debug`, `udev.log_level=` and `udevadm control --log-level` change.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use super::queue::Level;

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static PREFIX: OnceLock<String> = OnceLock::new();

/// Sets the prefix of every line (`devmaster` or `devmaster-worker[PID]`); first call wins.
pub fn set_prefix(prefix: String) {
    let _ = PREFIX.set(prefix);
}

/// Sets the most verbose level printed (syslog number, 0-7).
pub fn set_level(level: u8) {
    LEVEL.store(level.min(7), Ordering::Relaxed);
}

pub fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

/// Whether messages of `level` are printed.
pub fn enabled(level: Level) -> bool {
    level as u8 <= self::level()
}

/// Prints `message` if its level is enabled.
pub fn log(level: Level, message: &str) {
    if enabled(level) {
        let prefix = PREFIX.get().map(String::as_str).unwrap_or("devmaster");
        eprintln!("{prefix}: {message}");
    }
}
