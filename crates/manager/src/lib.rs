//! `manager` is the sysmaster daemon: the event loop, the unit registry, the control server
//! and crash recovery. It runs the effects that unit types and the job engine return through
//! `sys`, and is the only crate that ties the others together.

pub mod conditions;
pub mod exec;
pub mod users;
