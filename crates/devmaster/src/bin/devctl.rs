//! `devctl`: devmaster's `udevadm` (see `devmaster::devctl`). A thin entry point.

/// The static (musl) builds allocate with `sys::alloc` instead of musl's allocator.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: sys::alloc::Allocator = sys::alloc::Allocator::new();

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(devmaster::devctl::main(&args));
}
