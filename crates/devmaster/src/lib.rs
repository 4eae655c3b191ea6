//! `devmaster` is the udev-compatible device manager and `devctl`. It never links the
//! manager: it runs as an ordinary service.
//!
//! Contract of what is here so far: [`rules`] is udev's rules language (systemd 252's
//! udev(7)) as pure code — parsing with udev's diagnostics (a bad line is reported as
//! `file:line: error: ...` and skipped, the rest of the file applies, no input panics),
//! the rules directories and their override order, glob patterns and string substitutions.
//! No syscalls and no I/O except [`rules::load::read`], which reads the directories it is
//! given. The daemon, the rule engine, builtins and `devctl` are to come.

pub mod rules;
