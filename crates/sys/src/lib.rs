//! `sys` is the only crate of sysmaster that may contain `unsafe` code or issue raw
//! syscalls: spawning, pidfds, signalfd, mounts, cgroupfs, fd passing and `reboot(2)`.
//! Every other crate asks it for these effects. It knows nothing about units, jobs or the
//! control protocol. (Skeleton: the syscall wrappers arrive with the manager and PID 1.)
