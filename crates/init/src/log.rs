//! One line per event, prefixed `sysmaster-init: `: to `/dev/console` once PID 1 of the
//! machine has opened it (non-blocking, so that a stuck serial line cannot hang PID 1:
//! a line is lost instead), else to standard error.

use std::io::Write;
use std::sync::OnceLock;

static CONSOLE: OnceLock<std::fs::File> = OnceLock::new();

/// Sends the following lines to the console; false when it cannot be opened.
pub fn use_console() -> bool {
    match sys::fd::open_terminal(std::path::Path::new("/dev/console"), true) {
        Ok(f) => CONSOLE.set(f).is_ok(),
        Err(_) => false,
    }
}

/// Writes one line (in one `write`, so lines of concurrent writers do not mix).
pub fn line(args: std::fmt::Arguments) {
    let text = format!("sysmaster-init: {args}\n");
    let _ = match CONSOLE.get() {
        Some(mut console) => console.write_all(text.as_bytes()),
        None => std::io::stderr().write_all(text.as_bytes()),
    };
}

#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::log::line(format_args!($($arg)*)) };
}
