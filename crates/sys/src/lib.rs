//! `sys` is the only crate of sysmaster that may contain `unsafe` code or issue raw
//! syscalls: spawning, pidfds, signalfd, mounts, cgroupfs, fd passing and `reboot(2)`.
//! Every other crate asks it for these effects. It knows nothing about units, jobs or the
//! control protocol: callers hand it fully resolved plans (paths, numeric ids, open fds).
//!
//! Every `unsafe` block carries a `SAFETY:` comment saying why it is sound.
#![allow(unsafe_code)]

pub mod alloc;
pub mod btrfs;
pub mod cgroup;
pub mod event;
pub mod exec;
pub mod fd;
pub mod inotify;
pub mod mount;
pub mod namespace;
pub mod netlink;
pub mod notify;
pub mod power;
pub mod process;
pub mod reap;
pub mod seqpacket;
pub mod signal;
pub mod spawn;
