//! `unitfile` reads systemd unit files exactly as systemd 252 does: the syntax of
//! systemd.syntax(7), unit names and escaping, the search path with aliases, masking and
//! drop-ins of systemd.unit(5), specifiers, typed values and a typed model of every section
//! sysmaster understands. It is pure: its only I/O is reading files — the unit files and
//! directories it is pointed at, and host facts (`/etc/machine-id`, os-release, zoneinfo)
//! for specifiers and calendar specs. It never knows about processes, jobs or the control
//! protocol.
//!
//! Nothing here fails on bad input. Every parser returns what it could understand plus
//! [`Diagnostic`]s naming `file:line`, so one broken line never stops a unit from loading,
//! just as in systemd.

pub mod calendar;
pub mod diag;
pub mod env;
pub mod exec;
pub mod load;
pub mod lookup;
pub mod model;
pub mod name;
pub mod specifier;
pub mod syntax;
pub mod value;
pub mod words;

pub use diag::{Diagnostic, Severity, ValueError};

/// Helpers shared by the unit tests of several modules.
#[cfg(test)]
pub(crate) mod testutil {
    use std::fs;
    use std::path::Path;

    /// Writes `(relative path, contents)` pairs below `root`, creating directories.
    pub fn write_tree(root: &Path, files: &[(&str, &str)]) {
        for (rel, text) in files {
            let p = root.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
    }
}
