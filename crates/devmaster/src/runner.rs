//! `devmaster test-rule-runner`: runs systemd's rule-engine test suite against our worker.
//! To be written.

/// Entry point; returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let _ = args;
    eprintln!("devmaster test-rule-runner: not available yet");
    1
}
