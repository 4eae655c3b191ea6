//! The typed model of a unit: what each directive of `[Unit]`, `[Install]` and the
//! type-specific section means, after the fragment and its drop-ins are applied in order.
//!
//! Every assignment ends in exactly one place:
//! - a typed field, when sysmaster understands the directive (an invalid value is an error
//!   diagnostic naming `file:line`, and the field keeps its previous value, as in systemd);
//! - `unsupported`, when systemd 252 knows the directive but sysmaster does not implement it
//!   yet (a warning);
//! - `unknown`, when neither knows it (a warning, like systemd's "Unknown key");
//! - `extensions`, for `X-` keys and sections (kept for their readers, no diagnostic).
//!
//! Empty assignments reset: a list becomes empty, a scalar returns to its default. The
//! exception are dependencies (`Wants=`, `After=`, `RequiresMountsFor=`, `Sockets=` ...),
//! which systemd only ever adds to: an empty one changes nothing.

mod cx;
pub mod exec;
pub mod known;
pub mod sandbox;
pub mod service;
pub mod sparse;
pub mod syscalls;
pub mod types;
pub mod unit;

pub use exec::{CgroupContext, ExecContext, KillContext};
pub use sandbox::Sandbox;
pub use service::{Service, ServiceRare};
pub use sparse::Sparse;
pub use types::{Automount, Mount, PathUnit, Scope, Slice, Socket, Swap, Timer};
pub use unit::{Condition, Install, UnitDep, UnitDeps, UnitRare, UnitSection};

use crate::diag::Diagnostic;
use crate::name::{UnitName, UnitType};
use crate::specifier::SpecifierContext;
use crate::syntax::Assignment;
use cx::Cx;
use std::sync::Arc;

/// The type-specific part of a unit.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Shared (`Arc`) with the manager's state machine of the service, which reads its
    /// settings from here instead of keeping a copy.
    Service(Arc<Service>),
    Socket(Box<Socket>),
    Target,
    Device,
    Mount(Box<Mount>),
    Automount(Box<Automount>),
    Swap(Box<Swap>),
    Timer(Box<Timer>),
    Path(Box<PathUnit>),
    Slice(Box<Slice>),
    Scope(Box<Scope>),
}

impl Kind {
    pub fn new(t: UnitType) -> Kind {
        match t {
            UnitType::Service => Kind::Service(Arc::default()),
            UnitType::Socket => Kind::Socket(Box::default()),
            UnitType::Target => Kind::Target,
            UnitType::Device => Kind::Device,
            UnitType::Mount => Kind::Mount(Box::default()),
            UnitType::Automount => Kind::Automount(Box::default()),
            UnitType::Swap => Kind::Swap(Box::default()),
            UnitType::Timer => Kind::Timer(Box::default()),
            UnitType::Path => Kind::Path(Box::default()),
            UnitType::Slice => Kind::Slice(Box::default()),
            UnitType::Scope => Kind::Scope(Box::default()),
        }
    }
}

/// The section a unit type has besides `[Unit]` and `[Install]`, if any.
pub fn type_section(t: UnitType) -> Option<&'static str> {
    match t {
        UnitType::Service => Some("Service"),
        UnitType::Socket => Some("Socket"),
        UnitType::Mount => Some("Mount"),
        UnitType::Automount => Some("Automount"),
        UnitType::Swap => Some("Swap"),
        UnitType::Timer => Some("Timer"),
        UnitType::Path => Some("Path"),
        UnitType::Slice => Some("Slice"),
        UnitType::Scope => Some("Scope"),
        UnitType::Target | UnitType::Device => None,
    }
}

/// The sections a unit file of this type may contain.
pub fn sections(t: UnitType) -> Vec<&'static str> {
    let mut s = vec!["Unit"];
    s.extend(type_section(t));
    s.push("Install");
    s
}

/// A unit's configuration: the typed sections plus what was kept aside.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitConfig {
    pub unit: UnitSection,
    /// Allocated only for units with `[Install]` settings ([`Sparse`]).
    pub install: Sparse<Install>,
    pub kind: Kind,
    /// Directives systemd knows and sysmaster does not implement yet. This and the next
    /// two lists are usually empty, so each costs a pointer until used ([`Sparse`]).
    pub unsupported: Sparse<Vec<Assignment>>,
    /// Directives nobody knows (typos, newer systemd versions).
    pub unknown: Sparse<Vec<Assignment>>,
    /// `X-` keys and `X-` sections.
    pub extensions: Sparse<Vec<Assignment>>,
}

impl UnitConfig {
    pub fn new(t: UnitType) -> UnitConfig {
        UnitConfig {
            unit: UnitSection::default(),
            install: Sparse::default(),
            kind: Kind::new(t),
            unsupported: Sparse::default(),
            unknown: Sparse::default(),
            extensions: Sparse::default(),
        }
    }

    /// Applies assignments in order (fragment first, then drop-ins) and returns the
    /// diagnostics, and whether one of the values is bad enough that systemd would refuse
    /// the unit (e.g. an `ExecStart=` with a relative path). Specifiers are expanded with
    /// `spec`.
    pub fn apply(
        &mut self,
        assignments: &[Assignment],
        spec: &SpecifierContext,
    ) -> (Vec<Diagnostic>, bool) {
        let mut cx = Cx::new(spec);
        for a in assignments {
            self.apply_one(a, &mut cx);
        }
        cx.finish()
    }

    fn apply_one(&mut self, a: &Assignment, cx: &mut Cx) {
        if a.section.starts_with("X-") || a.key.starts_with("X-") {
            self.extensions.push(a.clone());
            return;
        }
        let handled = match a.section.as_str() {
            "Unit" => self.unit.apply(a, cx),
            "Install" => self.install.update(|i| i.apply(a, cx)),
            _ => match &mut self.kind {
                // Unique while the unit is being loaded, so this never copies.
                Kind::Service(s) => Arc::make_mut(s).apply(a, cx, &mut self.unit),
                Kind::Socket(s) => s.apply(a, cx),
                Kind::Mount(s) => s.apply(a, cx),
                Kind::Automount(s) => s.apply(a, cx),
                Kind::Swap(s) => s.apply(a, cx),
                Kind::Timer(s) => s.apply(a, cx),
                Kind::Path(s) => s.apply(a, cx),
                Kind::Slice(s) => s.apply(a, cx),
                Kind::Scope(s) => s.apply(a, cx),
                Kind::Target | Kind::Device => false,
            },
        };
        if handled {
            return;
        }
        if known::is_known(&a.section, &a.key) {
            cx.warn(
                a,
                format!(
                    "{}= is known to systemd but not supported by sysmaster yet, ignoring",
                    a.key
                ),
            );
            self.unsupported.push(a.clone());
        } else {
            cx.warn(
                a,
                format!(
                    "unknown key '{}' in section [{}], ignoring",
                    a.key, a.section
                ),
            );
            self.unknown.push(a.clone());
        }
    }

    /// Checks the whole configuration as systemd does once loading is complete (e.g. a
    /// service without any command). The first problem found is a fatal setting error.
    pub fn verify(&self, name: &UnitName) -> Option<String> {
        match &self.kind {
            Kind::Service(s) => s.verify(&self.unit),
            Kind::Socket(s) => s.verify(),
            Kind::Timer(s) => s.verify(),
            Kind::Path(s) => s.verify(),
            Kind::Mount(s) => s.verify(name),
            Kind::Automount(s) => s.verify(name),
            Kind::Swap(s) => s.verify(),
            _ => None,
        }
    }
}
