//! `devmaster` is the udev-compatible device manager and `devctl`. It never links the
//! manager: it runs as an ordinary service.
//!
//! Contract of what is here so far: [`rules`] is udev's rules language (systemd 252's
//! udev(7)) as pure code — parsing with udev's diagnostics (a bad line is reported as
//! `file:line: error: ...` and skipped, the rest of the file applies, no input panics),
//! the rules directories and their override order, glob patterns and string substitutions.
//! [`engine`] applies parsed rules to one event as udevd does and returns every effect as
//! data ([`engine::Outcome`]: properties, tags, name, links, owner/group/mode, attribute and
//! sysctl writes, RUN list, options, a per-line trace); it reaches programs, files, the
//! database, builtins and the rest of the world only through the caller's [`engine::Host`],
//! and no rules text makes it panic. [`device`] is the I/O edge that reads a device and its
//! parents from a sysfs tree rooted anywhere. No syscalls; file reads only in [`device`] and
//! [`rules::load::read`]. The daemon, builtins and `devctl` are to come.

pub mod builtins;
pub mod daemon;
pub mod devctl;
pub mod device;
pub mod engine;
pub mod rules;
pub mod runner;
pub mod worker;

#[cfg(test)]
pub(crate) mod testsys;
