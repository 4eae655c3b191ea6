//! `devmaster`: the udev-compatible device manager. With no subcommand (or options only)
//! it is the daemon, as `systemd-udevd` is; `test-rule-runner` runs one event for systemd's
//! rule-engine tests.

/// The static (musl) builds allocate with `sys::alloc` instead of musl's allocator.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: sys::alloc::Allocator = sys::alloc::Allocator::new();

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("test-rule-runner") => devmaster::runner::main(args.get(1..).unwrap_or_default()),
        _ => devmaster::daemon::main(&args),
    };
    std::process::exit(code);
}
