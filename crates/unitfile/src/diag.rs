//! Diagnostics: what a parser found wrong, and where.
//!
//! Parsers in this crate never fail on bad input; they return a value plus a list of
//! diagnostics. Severity follows what happens to the input: an `Error` means a line or a
//! whole file was dropped (the unit loads without that setting, or not at all); a `Warning`
//! means the input was understood but is ignored, deprecated or not supported yet.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file the problem is in; empty when it concerns no file (e.g. a unit name).
    pub file: PathBuf,
    /// 1-based line number; 0 when the problem concerns the whole file or unit.
    pub line: usize,
    pub message: String,
}

impl Diagnostic {
    pub fn error(file: &Path, line: usize, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            file: file.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    pub fn warning(file: &Path, line: usize, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            file: file.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `file:line: message` (or `file: message` when no line applies), the form compilers and
/// `systemd-analyze verify` use, so editors can jump to it.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        match (self.file.as_os_str().is_empty(), self.line) {
            (true, _) => write!(f, "{level}: {}", self.message),
            (false, 0) => write!(f, "{}: {level}: {}", self.file.display(), self.message),
            (false, n) => write!(f, "{}:{n}: {level}: {}", self.file.display(), self.message),
        }
    }
}

/// The error type of the value parsers: a message saying what was expected. The caller
/// that knows the file and line turns it into a [`Diagnostic`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(pub String);

impl ValueError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValueError {}
