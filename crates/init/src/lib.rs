//! `init` is `sysmaster-init`, PID 1: early mounts, supervising the manager, reaping every
//! child, the fd store and the final step of shutdown. It has no async runtime and no
//! knowledge of unit files. (Skeleton: filled in by the PID 1 issue.)
