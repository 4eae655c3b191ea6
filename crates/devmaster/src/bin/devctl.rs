//! `devctl`: devmaster's `udevadm` (see `devmaster::devctl`). A thin entry point.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(devmaster::devctl::main(&args));
}
