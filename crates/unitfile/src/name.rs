//! Unit names: validation, type by suffix, templates and instances, and the escaping of
//! systemd-escape(1) (`--path`, `--unescape`), including path <-> mount-unit names.
//!
//! A unit name is `PREFIX[@INSTANCE].TYPE`. A *template* has an `@` and an empty instance
//! (`getty@.service`); an *instance* has a non-empty one (`getty@tty1.service`).

use crate::diag::ValueError;
use std::fmt;

/// Every unit type systemd knows, with its file-name suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnitType {
    Service,
    Socket,
    Target,
    Device,
    Mount,
    Automount,
    Swap,
    Timer,
    Path,
    Slice,
    Scope,
}

impl UnitType {
    pub const ALL: [UnitType; 11] = [
        UnitType::Service,
        UnitType::Socket,
        UnitType::Target,
        UnitType::Device,
        UnitType::Mount,
        UnitType::Automount,
        UnitType::Swap,
        UnitType::Timer,
        UnitType::Path,
        UnitType::Slice,
        UnitType::Scope,
    ];

    /// The suffix without the dot, e.g. `"service"`.
    pub fn suffix(self) -> &'static str {
        match self {
            UnitType::Service => "service",
            UnitType::Socket => "socket",
            UnitType::Target => "target",
            UnitType::Device => "device",
            UnitType::Mount => "mount",
            UnitType::Automount => "automount",
            UnitType::Swap => "swap",
            UnitType::Timer => "timer",
            UnitType::Path => "path",
            UnitType::Slice => "slice",
            UnitType::Scope => "scope",
        }
    }

    /// Parses a suffix without the dot.
    pub fn from_suffix(s: &str) -> Option<UnitType> {
        UnitType::ALL.into_iter().find(|t| t.suffix() == s)
    }
}

impl fmt::Display for UnitType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.suffix())
    }
}

/// A validated unit name, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitName {
    /// The part before `@` (or before the suffix when there is no `@`).
    prefix: String,
    /// `None`: a plain name; `Some("")`: a template; `Some(i)`: an instance.
    instance: Option<String>,
    unit_type: UnitType,
}

impl UnitName {
    /// Parses and validates a full unit name such as `getty@tty1.service`.
    pub fn parse(name: &str) -> Result<UnitName, ValueError> {
        let (stem, suffix) = name
            .rsplit_once('.')
            .ok_or_else(|| ValueError::new(format!("unit name '{name}' has no type suffix")))?;
        let unit_type = UnitType::from_suffix(suffix).ok_or_else(|| {
            ValueError::new(format!("unit name '{name}' has an unknown type '.{suffix}'"))
        })?;
        let (prefix, instance) = match stem.split_once('@') {
            Some((p, i)) => (p.to_string(), Some(i.to_string())),
            None => (stem.to_string(), None),
        };
        if prefix.is_empty() {
            return Err(ValueError::new(format!("unit name '{name}' has an empty prefix")));
        }
        Ok(UnitName {
            prefix,
            instance,
            unit_type,
        })
    }

    pub fn unit_type(&self) -> UnitType {
        self.unit_type
    }

    /// The (escaped) prefix: `getty` for `getty@tty1.service`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The instance: `Some("tty1")` for `getty@tty1.service`, `Some("")` for a template.
    pub fn instance(&self) -> Option<&str> {
        self.instance.as_deref()
    }

    pub fn is_template(&self) -> bool {
        self.instance.as_deref() == Some("")
    }

    pub fn is_instance(&self) -> bool {
        matches!(self.instance.as_deref(), Some(i) if !i.is_empty())
    }

    /// The template an instance is made from (`getty@.service` for `getty@tty1.service`).
    pub fn template(&self) -> Option<UnitName> {
        self.instance.as_ref().map(|_| UnitName {
            prefix: self.prefix.clone(),
            instance: Some(String::new()),
            unit_type: self.unit_type,
        })
    }

    /// The same template with another instance.
    pub fn with_instance(&self, instance: &str) -> Result<UnitName, ValueError> {
        UnitName::parse(&format!("{}@{instance}.{}", self.prefix, self.unit_type))
    }
}

impl fmt::Display for UnitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.instance {
            Some(i) => write!(f, "{}@{i}.{}", self.prefix, self.unit_type),
            None => write!(f, "{}.{}", self.prefix, self.unit_type),
        }
    }
}
