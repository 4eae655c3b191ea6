//! The devmaster daemon (systemd-udevd's role). To be written.

pub mod config;
pub mod ctrl;
pub mod frame;
pub mod queue;

/// The daemon's entry point; returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let _ = args;
    eprintln!("devmaster: the daemon is not available yet");
    1
}

/// A worker process's entry point (`devmaster worker`, started by the daemon).
pub fn worker_main(args: &[String]) -> i32 {
    let _ = args;
    eprintln!("devmaster worker: not available yet");
    1
}
