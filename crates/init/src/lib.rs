//! `init` is `sysmaster-init`, PID 1: early mounts, supervising the manager, reaping every
//! child, the fd store and the final step of shutdown. It has no async runtime and no
//! knowledge of unit files. It speaks the init link of `proto::init` and never panics:
//! every malformed input is logged on the console and skipped.
//!
//! The pure parts (settings, exit buffer, backoff, signal table, saved state, the link's
//! send queue) are modules of their own with unit tests; `pid1` is the event loop that
//! ties them to the kernel through `sys`.

pub mod backoff;
pub mod config;
pub mod exits;
pub mod link;
pub mod log;
pub mod mounts;
pub mod pid1;
pub mod serial;
pub mod signals;
