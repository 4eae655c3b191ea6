//! The daemon's and workers' log: one line per message on standard error (the service
//! manager's journal or log file takes it from there), filtered by a syslog level that
//! `--debug`, `udev.log_level=` and `udevadm control --log-level` change.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use super::queue::Level;

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static PREFIX: Mutex<String> = Mutex::new(String::new());

/// Sets the prefix of every line (`devmaster`, or `devmaster-worker[PID]` in a worker,
/// which is forked from the daemon and so starts with the daemon's).
pub fn set_prefix(prefix: String) {
    if let Ok(mut p) = PREFIX.lock() {
        *p = prefix;
    }
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
        match PREFIX.lock() {
            Ok(p) if !p.is_empty() => eprintln!("{}: {message}", p.as_str()),
            _ => eprintln!("devmaster: {message}"),
        }
    }
}
