//! `sysmaster-init [--manager PATH] [--KEY VALUE]... [-- MANAGER-ARGS...]`: PID 1.
//! Settings: see `init::config`.

fn main() {
    init::pid1::main()
}
