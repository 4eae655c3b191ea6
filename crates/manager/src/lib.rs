//! `manager` is the sysmaster daemon: the event loop, the unit registry, the control server
//! and crash recovery. It runs the effects that unit types and the job engine return through
//! `sys`, and is the only crate that ties the others together.
//!
//! Modules: [`daemon`] (the poll loop, effects, jobs, signals), `control` (the control
//! socket's clients and calls), [`registry`] (units, names, loading, the graph),
//! [`timers`], [`logbuf`] (captured output), [`console`] (boot status lines),
//! [`conditions`], [`exec`] (exec context → spawn plan), [`unitfiles`] (enable, disable,
//! mask and unit-file states) and [`users`].

pub mod conditions;
pub mod console;
mod control;
pub mod daemon;
pub mod exec;
pub mod fstab;
pub mod initlink;
pub mod logbuf;
pub mod persist;
pub mod registry;
pub mod shutdown;
pub mod sockets;
pub mod timers;
pub mod unitfiles;
pub mod users;
