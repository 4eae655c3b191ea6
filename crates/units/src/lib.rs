//! `units` implements each unit type (service, socket, target, slice, mount, timer, ...)
//! as a pure state machine: events in, effects out (spawn, kill, arm a timer, start a job).
//! It never performs a syscall itself, and one unit type never imports another.
//! (Skeleton: filled in with the manager.)
