//! `devmaster` is the udev-compatible device manager and `devctl`. It never links the
//! manager: it runs as an ordinary service. (Skeleton: filled in by the devmaster issue.)
