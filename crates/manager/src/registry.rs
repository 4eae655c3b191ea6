//! The unit registry: every unit the manager knows, by number ([`UnitId`]) and by each of
//! its names (aliases included), its loaded configuration, its runtime state machine, and
//! the dependency [`Graph`] between units.
//!
//! Units are loaded on demand, as systemd does: asking for a name loads its files, and
//! every unit its dependencies name is loaded too (transitively), so that the job engine
//! always sees the whole requirement closure. A name without a unit file still becomes a
//! unit, with the load state `not-found`. Edges come from `units::deps::dependencies`, plus
//! `target_ordering` for targets once the units they pull in are loaded.
//!
//! The registry implements [`jobs::Units`], the view of units the job engine needs.

use crate::logbuf::LogBuffer;
use jobs::LoadState;
use std::collections::{HashMap, VecDeque};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use unitfile::load::{self, LoadedUnit};
use unitfile::lookup::Lookup;
use unitfile::model::Kind;
use unitfile::name::{UnitName, UnitType};
use unitfile::specifier::HostFacts;
use unitfile::value::USEC_INFINITY;
use units::deps::{self, Peer};
use units::service::Service;
use units::{ActiveState, Dependency, Graph, UnitId};

/// The live part of a unit, by type.
#[derive(Debug)]
pub enum Runtime {
    Service(Box<Service>),
    /// Targets and slices: active as soon as their start job runs, inactive on stop.
    Simple(ActiveState),
    /// Socket units (`Accept=no`): the machine and the listening sockets.
    Socket(Box<crate::sockets::SocketRuntime>),
    /// Mount units: the machine; the daemon runs mount(8)/umount(8) and reports the table.
    Mount(Box<units::mount::Mount>),
    /// Device units: plugged while udev reports the device (see `daemon::devices`).
    Device(Box<DeviceRuntime>),
    /// Types the manager does not drive yet: loaded and listed, never started.
    Unsupported,
}

/// A device unit's live part.
#[derive(Debug, Default)]
pub struct DeviceRuntime {
    pub state: units::device::DeviceState,
    /// `SysFSPath=` of the device it stands for (empty while dead and never seen).
    pub sysfs: String,
    /// The description udev's properties give (model, label).
    pub description: Option<String>,
}

/// One unit.
#[derive(Debug)]
pub struct Unit {
    pub id: UnitId,
    /// The primary name.
    pub name: String,
    pub loaded: LoadedUnit,
    pub runtime: Runtime,
    /// The active state last reported to the job engine.
    pub active: ActiveState,
    /// When `active` last changed, µs since the epoch.
    pub state_change_usec: Option<u64>,
    /// `$INVOCATION_ID` of the current (or last) activation.
    pub invocation_id: String,
    /// The unit's cgroup, when the manager has a writable cgroup2 hierarchy.
    pub cgroup: Option<sys::cgroup::Cgroup>,
    /// Processes of the unit may exist (from the first spawn until the cgroup or the
    /// tracked pids are found empty).
    pub populated: bool,
    pub log: LogBuffer,
    /// The output pipe (read end, write end), made at the first spawn and kept.
    pub log_pipe: Option<(OwnedFd, OwnedFd)>,
    /// `WatchPidFile`: the PID file the service may still write.
    pub watch_pid_file: Option<String>,
}

impl Unit {
    pub fn unit_type(&self) -> UnitType {
        self.loaded.id.unit_type()
    }

    pub fn service(&self) -> Option<&Service> {
        match &self.runtime {
            Runtime::Service(s) => Some(s),
            _ => None,
        }
    }

    pub fn service_mut(&mut self) -> Option<&mut Service> {
        match &mut self.runtime {
            Runtime::Service(s) => Some(s),
            _ => None,
        }
    }

    /// The `[Service]` section, for spawning.
    pub fn service_section(&self) -> Option<&unitfile::model::Service> {
        match &self.loaded.config.kind {
            Kind::Service(s) => Some(s),
            _ => None,
        }
    }

    pub fn active_state(&self) -> ActiveState {
        match &self.runtime {
            Runtime::Service(s) => s.active_state(),
            Runtime::Simple(a) => *a,
            Runtime::Socket(s) => s.machine.active_state(),
            Runtime::Mount(m) => m.active_state(),
            Runtime::Device(d) => d.state.active_state(),
            Runtime::Unsupported => ActiveState::Inactive,
        }
    }

    /// `SubState=`.
    pub fn sub_state(&self) -> String {
        match &self.runtime {
            Runtime::Service(s) => s.state().as_str().to_string(),
            Runtime::Simple(ActiveState::Active) => "active".into(),
            Runtime::Socket(s) => s.machine.state().as_str().to_string(),
            Runtime::Mount(m) => m.state().as_str().to_string(),
            Runtime::Device(d) => d.state.as_str().to_string(),
            Runtime::Simple(_) | Runtime::Unsupported => "dead".into(),
        }
    }

    pub fn load_state(&self) -> LoadState {
        match self.loaded.load_state {
            load::LoadState::Loaded => LoadState::Loaded,
            load::LoadState::NotFound => LoadState::NotFound,
            load::LoadState::BadSetting => LoadState::BadSetting,
            load::LoadState::Error => LoadState::Error,
            load::LoadState::Masked => LoadState::Masked,
        }
    }

    /// `Description=`, else (as systemd) a mount's `Where=` or a device's model, else the
    /// name.
    pub fn description(&self) -> String {
        self.loaded
            .config
            .unit
            .description
            .clone()
            .or_else(|| Some(self.mount()?.config().where_.clone()))
            .or_else(|| match &self.runtime {
                Runtime::Device(d) => d.description.clone(),
                _ => None,
            })
            .unwrap_or_else(|| self.name.clone())
    }

    pub fn mount(&self) -> Option<&units::mount::Mount> {
        match &self.runtime {
            Runtime::Mount(m) => Some(m),
            _ => None,
        }
    }

    /// The processes the manager tracks for the unit: a service's main and control
    /// process, a mount's control process.
    pub fn tracked_pids(&self) -> [Option<u32>; 2] {
        match &self.runtime {
            Runtime::Service(s) => [s.main_pid(), s.control_pid()],
            Runtime::Mount(m) => [None, m.control_pid()],
            _ => [None, None],
        }
    }

    /// Whether the manager can run this unit type.
    pub fn supported(&self) -> bool {
        !matches!(self.runtime, Runtime::Unsupported)
    }
}

fn runtime_for(loaded: &LoadedUnit) -> Runtime {
    match &loaded.config.kind {
        Kind::Service(s) => Runtime::Service(Box::new(Service::new(s, &loaded.config.unit))),
        Kind::Target | Kind::Slice(_) => Runtime::Simple(ActiveState::Inactive),
        Kind::Socket(_) => Runtime::Socket(Box::default()),
        Kind::Device => Runtime::Device(Box::default()),
        Kind::Mount(m) => Runtime::Mount(Box::new(units::mount::Mount::new(
            units::mount::MountConfig::new(&loaded.id, m),
        ))),
        _ => Runtime::Unsupported,
    }
}

/// Every unit, its names and the graph.
#[derive(Debug)]
pub struct Registry {
    units: Vec<Unit>,
    /// Every name and alias (boxed: no spare capacity in thousands of keys).
    names: HashMap<Box<str>, UnitId>,
    pub graph: Graph,
    lookup: Lookup,
    dirs: Vec<PathBuf>,
    host: HostFacts,
    /// The machine as unit dependencies see it (in a container: no device units, as in
    /// systemd, so nothing waits 90 s for a `.device` that never comes).
    machine: deps::Host,
}

impl Registry {
    pub fn new(dirs: Vec<PathBuf>) -> Registry {
        let lookup = Lookup::new(dirs.clone());
        for w in lookup.warnings() {
            eprintln!("sysmaster: {}: {}", w.path.display(), w.message);
        }
        Registry {
            units: Vec::new(),
            names: HashMap::new(),
            graph: Graph::new(),
            lookup,
            dirs,
            host: HostFacts::from_system(),
            machine: deps::Host::default(),
        }
    }

    /// A registry for a manager running in a container (or not).
    pub fn for_machine(dirs: Vec<PathBuf>, container: bool) -> Registry {
        let mut r = Registry::new(dirs);
        r.machine = deps::Host {
            device_units: !container,
            container,
            ..deps::Host::default()
        };
        r
    }

    /// The search path, highest priority first.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    pub fn unit(&self, u: UnitId) -> Option<&Unit> {
        self.units.get(u.0 as usize)
    }

    pub fn unit_mut(&mut self, u: UnitId) -> Option<&mut Unit> {
        self.units.get_mut(u.0 as usize)
    }

    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.iter()
    }

    pub fn ids(&self) -> Vec<UnitId> {
        self.units.iter().map(|u| u.id).collect()
    }

    pub fn name_of(&self, u: UnitId) -> String {
        self.unit(u)
            .map_or_else(|| u.to_string(), |unit| unit.name.clone())
    }

    /// The unit known by `name`, without loading anything.
    pub fn find(&self, name: &str) -> Option<UnitId> {
        self.names.get(name).copied()
    }

    /// The unit named `name`, loaded with its dependency closure if it was not known yet.
    pub fn load(&mut self, name: &str) -> Result<UnitId, String> {
        if let Some(u) = self.find(name) {
            return Ok(u);
        }
        let parsed = UnitName::parse(name).map_err(|e| format!("Invalid unit name {name}: {e}"))?;
        if parsed.is_template() {
            return Err(format!(
                "Unit name {name} is a template; an instance name is needed."
            ));
        }
        let mut fresh = Vec::new();
        let u = self.load_one(&parsed, &mut fresh);
        self.load_closure(fresh);
        Ok(u)
    }

    /// Registers one unit (no edges yet); `fresh` collects the units created.
    fn load_one(&mut self, name: &UnitName, fresh: &mut Vec<UnitId>) -> UnitId {
        let key = name.to_string();
        if let Some(u) = self.find(&key) {
            return u;
        }
        let mut loaded = load::load(&self.lookup, name, &self.host);
        print_diagnostics(&mut loaded);
        if let unitfile::model::Kind::Service(s) = &loaded.config.kind {
            if s.effective_type() == unitfile::model::service::ServiceType::Dbus {
                // Until sysmaster has a D-Bus endpoint it cannot watch the bus name.
                eprintln!(
                    "sysmaster: {}: Type=dbus is run as Type=simple: the service counts as \
                     started without waiting for its bus name",
                    loaded.id
                );
            }
        }
        // The name may be an alias of a unit already known by its id.
        let primary = loaded.id.to_string();
        if let Some(u) = self.find(&primary) {
            self.names.insert(key.into_boxed_str(), u);
            return u;
        }
        let id = UnitId(u32::try_from(self.units.len()).unwrap_or(u32::MAX));
        for n in loaded.names.iter().chain(std::iter::once(&key)) {
            self.names.entry(n.as_str().into()).or_insert(id);
        }
        self.names.insert(primary.as_str().into(), id);
        let runtime = runtime_for(&loaded);
        self.units.push(Unit {
            id,
            name: primary,
            loaded,
            runtime,
            active: ActiveState::Inactive,
            state_change_usec: None,
            invocation_id: String::new(),
            cgroup: None,
            populated: false,
            log: LogBuffer::new(),
            log_pipe: None,
            watch_pid_file: None,
        });
        fresh.push(id);
        id
    }

    /// Adds the edges of the units in `queue`, loading what they name, until nothing new
    /// appears; then orders the new targets after what they pull in.
    fn load_closure(&mut self, mut queue: Vec<UnitId>) {
        let mut all_new = Vec::new();
        let mut pending: VecDeque<UnitId> = queue.drain(..).collect();
        while let Some(u) = pending.pop_front() {
            all_new.push(u);
            let mut fresh = Vec::new();
            self.add_edges(u, &mut fresh);
            pending.extend(fresh);
        }
        let new_mount = all_new.iter().any(|&u| self.is_loaded_mount(u));
        for &u in &all_new {
            self.add_target_ordering(u);
        }
        // `RequiresMountsFor=` and the implied mount paths link to the mount units that
        // exist: the new units' paths, and every unit's once a new mount unit appeared.
        let mount_edges_for = if new_mount { self.ids() } else { all_new };
        self.add_mount_edges(&mount_edges_for);
        // Loading happens in bursts (the boot, `daemon-reload`): give back the slots the
        // vector grew by in advance. The next load grows it again.
        self.units.shrink_to_fit();
    }

    /// The unit's own edges, loading the units they name.
    fn add_edges(&mut self, u: UnitId, fresh: &mut Vec<UnitId>) {
        let Some(unit) = self.unit(u) else {
            return;
        };
        if unit.loaded.load_state != load::LoadState::Loaded {
            return;
        }
        let edges = deps::dependencies_on(&unit.loaded.id, &unit.loaded.config, &self.machine);
        let me = unit.name.clone();
        for (dep, other) in edges {
            let Ok(name) = UnitName::parse(&other) else {
                eprintln!("sysmaster: {me}: ignoring dependency on invalid name {other}");
                continue;
            };
            if name.is_template() {
                eprintln!("sysmaster: {me}: ignoring dependency on template {other}");
                continue;
            }
            let o = self.load_one(&name, fresh);
            self.graph.add(u, dep, o);
        }
    }

    /// `target_ordering` for a target whose peers are loaded.
    fn add_target_ordering(&mut self, u: UnitId) {
        let Some(unit) = self.unit(u) else {
            return;
        };
        if unit.unit_type() != UnitType::Target || unit.loaded.load_state != load::LoadState::Loaded
        {
            return;
        }
        let peer = |name: &str| -> Option<Peer> {
            let p = self.find(name)?;
            let pu = self.unit(p)?;
            if pu.loaded.load_state != load::LoadState::Loaded {
                return None;
            }
            Some(Peer {
                default_dependencies: deps::has_default_dependencies(
                    &pu.loaded.id,
                    &pu.loaded.config,
                ),
                after_target: self.graph.has(p, Dependency::After, u),
            })
        };
        let edges = deps::target_ordering(&unit.loaded.id, &unit.loaded.config, peer);
        for (dep, other) in edges {
            if let Some(o) = self.find(&other) {
                self.graph.add(u, dep, o);
            }
        }
    }

    /// `daemon-reload`: scans the search path again and reloads the configuration of every
    /// unit for which `may_reload` says yes (units with a job keep theirs). A dead service
    /// gets a fresh state machine; a running one keeps its processes and state and takes
    /// the new settings (`Service::set_config`). The graph is rebuilt from every unit's
    /// configuration.
    pub fn reload(&mut self, may_reload: impl Fn(UnitId) -> bool) {
        self.lookup = Lookup::new(self.dirs.clone());
        for i in 0..self.units.len() {
            let u = UnitId(u32::try_from(i).unwrap_or(u32::MAX));
            if !may_reload(u) {
                continue;
            }
            let Some(unit) = self.unit(u) else {
                continue;
            };
            let mut loaded = load::load(&self.lookup, &unit.loaded.id, &self.host);
            print_diagnostics(&mut loaded);
            let new_names = loaded.names.clone();
            if let Some(unit) = self.unit_mut(u) {
                unit.loaded = loaded;
                let replace = match &mut unit.runtime {
                    Runtime::Service(s) if s.state() != units::service::ServiceState::Dead => {
                        // A running service keeps its processes and state; only its
                        // settings change.
                        if let Kind::Service(section) = &unit.loaded.config.kind {
                            s.set_config(units::service::ServiceConfig::new(
                                section,
                                &unit.loaded.config.unit,
                            ));
                        }
                        false
                    }
                    Runtime::Service(_) => true,
                    Runtime::Simple(a) => *a == ActiveState::Inactive,
                    // A socket keeps its listeners until it is stopped.
                    Runtime::Socket(s) => s.machine.state() == units::socket::SocketState::Dead,
                    // A mount keeps its state (the table says what is mounted) and takes
                    // the new settings.
                    Runtime::Mount(m) => {
                        if let Kind::Mount(section) = &unit.loaded.config.kind {
                            m.set_config(units::mount::MountConfig::new(&unit.loaded.id, section));
                        }
                        false
                    }
                    // A device stays plugged: udev, not the unit file, says whether it exists.
                    Runtime::Device(_) => false,
                    Runtime::Unsupported => true,
                };
                if replace {
                    unit.runtime = runtime_for(&unit.loaded);
                }
            }
            for n in new_names {
                self.names.entry(n.into_boxed_str()).or_insert(u);
            }
        }
        self.graph = Graph::new();
        let all = self.ids();
        let mut fresh = Vec::new();
        for &u in &all {
            self.add_edges(u, &mut fresh);
        }
        // Units first named by the new configuration.
        let mut queue: VecDeque<UnitId> = fresh.into_iter().collect();
        let mut added = Vec::new();
        while let Some(u) = queue.pop_front() {
            added.push(u);
            let mut more = Vec::new();
            self.add_edges(u, &mut more);
            queue.extend(more);
        }
        for u in all.into_iter().chain(added) {
            self.add_target_ordering(u);
        }
        let all = self.ids();
        self.add_mount_edges(&all);
    }

    fn is_loaded_mount(&self, u: UnitId) -> bool {
        self.unit(u).is_some_and(|x| {
            x.loaded.load_state == load::LoadState::Loaded && x.unit_type() == UnitType::Mount
        })
    }

    /// `deps::mount_dependencies` for `units`: `After=` (and `Requires=`, for mount units
    /// with a unit file) on the loaded mount units of the paths each unit needs, such as
    /// a mount's parent directory (systemd.mount(5), "Automatic Dependencies").
    fn add_mount_edges(&mut self, units: &[UnitId]) {
        let mut edges = Vec::new();
        for &u in units {
            let Some(unit) = self.unit(u) else {
                continue;
            };
            if unit.loaded.load_state != load::LoadState::Loaded {
                continue;
            }
            let paths = deps::mount_paths(&unit.loaded.id, &unit.loaded.config);
            if paths.is_empty() {
                continue;
            }
            let mount = |name: &str| match self.find(name) {
                Some(m) if self.is_loaded_mount(m) => deps::MountUnit::Loaded {
                    fragment: self.unit(m).is_some_and(|x| x.loaded.fragment.is_some()),
                },
                _ => deps::MountUnit::Absent,
            };
            for (dep, other) in deps::mount_dependencies(&unit.name, &paths, mount) {
                if let Some(o) = self.find(&other) {
                    edges.push((u, dep, o));
                }
            }
        }
        for (u, dep, o) in edges {
            if !self.graph.has(u, dep, o) {
                self.graph.add(u, dep, o);
            }
        }
    }

    /// A service that stopped after a `daemon-reload` picks up the configuration loaded
    /// then: its machine is rebuilt, keeping nothing but the configuration.
    pub fn refresh_idle_service(&mut self, u: UnitId) {
        let Some(unit) = self.unit_mut(u) else {
            return;
        };
        let Runtime::Service(s) = &unit.runtime else {
            return;
        };
        if s.state() != units::service::ServiceState::Dead {
            return;
        }
        if let Kind::Service(section) = &unit.loaded.config.kind {
            let fresh = units::service::ServiceConfig::new(section, &unit.loaded.config.unit);
            if &fresh != s.config() {
                unit.runtime = Runtime::Service(Box::new(Service::with_config(fresh)));
            }
        }
    }
}

/// Prints a unit's load diagnostics and lets go of them: the manager keeps every loaded
/// unit, and nothing reads them again.
fn print_diagnostics(loaded: &mut LoadedUnit) {
    for d in std::mem::take(&mut loaded.diagnostics) {
        eprintln!("sysmaster: {d}");
    }
}

/// How long a start job of a device unit waits for the device (DefaultTimeoutStartSec=).
const DEVICE_TIMEOUT_USEC: u64 = 90_000_000;

fn usec_option(v: Option<u64>) -> Option<u64> {
    v.filter(|&t| t != 0 && t != USEC_INFINITY)
}

impl jobs::Units for Registry {
    fn active_state(&self, u: UnitId) -> ActiveState {
        self.unit(u)
            .map_or(ActiveState::Inactive, Unit::active_state)
    }

    fn name(&self, u: UnitId) -> String {
        self.name_of(u)
    }

    fn allow_isolate(&self, u: UnitId) -> bool {
        self.unit(u)
            .and_then(|x| x.loaded.config.unit.allow_isolate)
            .unwrap_or(false)
    }

    fn ignore_on_isolate(&self, u: UnitId) -> bool {
        self.unit(u)
            .and_then(|x| x.loaded.config.unit.ignore_on_isolate)
            .unwrap_or(false)
    }

    fn refuse_manual_start(&self, u: UnitId) -> bool {
        self.unit(u)
            .and_then(|x| x.loaded.config.unit.refuse_manual_start)
            .unwrap_or(false)
    }

    fn refuse_manual_stop(&self, u: UnitId) -> bool {
        self.unit(u)
            .and_then(|x| x.loaded.config.unit.refuse_manual_stop)
            .unwrap_or(false)
    }

    fn can_reload(&self, u: UnitId) -> bool {
        self.unit(u).and_then(Unit::service).is_some_and(|s| {
            !s.config()
                .commands(units::service::ExecKind::Reload)
                .is_empty()
        })
    }

    fn job_timeout(&self, u: UnitId) -> Option<u64> {
        usec_option(
            self.unit(u)
                .and_then(|x| x.loaded.config.unit.rare.job_timeout_sec),
        )
    }

    fn job_running_timeout(&self, u: UnitId) -> Option<u64> {
        let unit = self.unit(u)?;
        match unit.loaded.config.unit.rare.job_running_timeout_sec {
            Some(t) => usec_option(Some(t)),
            // systemd gives device units DefaultTimeoutStartSec= (90 s): how long a start
            // waits for the device to show up.
            None if unit.unit_type() == UnitType::Device => Some(DEVICE_TIMEOUT_USEC),
            None => None,
        }
    }

    fn all(&self) -> Vec<UnitId> {
        self.units
            .iter()
            .filter(|u| u.loaded.load_state == load::LoadState::Loaded)
            .map(|u| u.id)
            .collect()
    }

    fn load_state(&self, u: UnitId) -> LoadState {
        self.unit(u).map_or(LoadState::NotFound, Unit::load_state)
    }

    fn can_stop(&self, u: UnitId) -> bool {
        // The slices every unit lives in exist as long as the manager does.
        !matches!(self.name_of(u).as_str(), "-.slice" | "system.slice")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jobs::Units;

    fn write(dir: &std::path::Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }

    #[test]
    fn loading_a_unit_loads_its_dependency_closure() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            &[
                ("t.target", "[Unit]\nWants=a.service\n"),
                (
                    "a.service",
                    "[Unit]\nDefaultDependencies=no\nRequires=b.service\n[Service]\nExecStart=/bin/true\n",
                ),
            ],
        );
        let mut r = Registry::new(vec![d.path().to_path_buf()]);
        let t = r.load("t.target").unwrap();
        let a = r.find("a.service").unwrap();
        let b = r.find("b.service").unwrap();
        assert!(r.graph.has(t, Dependency::Wants, a));
        assert!(r.graph.has(a, Dependency::Requires, b));
        // The target is ordered after what it wants only when that has default deps.
        assert!(!r.graph.has(t, Dependency::After, a));
        assert_eq!(r.load_state(b), LoadState::NotFound);
        assert_eq!(r.load_state(a), LoadState::Loaded);
        assert!(r.find("system.slice").is_some(), "implicit slice loaded");
        assert_eq!(
            r.load_state(r.find("system.slice").unwrap()),
            LoadState::Loaded
        );
        assert_eq!(r.load("t.target").unwrap(), t, "loading twice is a lookup");
        assert!(r.load("x@.service").is_err());
        assert!(r.load("not a name").is_err());
    }

    /// A mount of a device node needs the device's unit, except in a container, where
    /// there are no device units (systemd drops those edges there).
    #[test]
    fn device_edges_only_outside_containers() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            &[("srv.mount", "[Mount]\nWhat=/dev/vdb\nWhere=/srv\n")],
        );
        for (container, edge) in [(false, true), (true, false)] {
            let mut r = Registry::for_machine(vec![d.path().to_path_buf()], container);
            let m = r.load("srv.mount").unwrap();
            let dev = r.find("dev-vdb.device");
            assert_eq!(dev.is_some(), edge, "container {container}");
            if let Some(dev) = dev {
                assert!(
                    r.graph.has(m, Dependency::BindsTo, dev)
                        || r.graph.has(m, Dependency::Requires, dev)
                );
                assert!(r.graph.has(m, Dependency::After, dev));
            }
        }
    }

    #[test]
    fn unit_types_get_their_runtime() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            &[
                ("s.service", "[Service]\nExecStart=/bin/true\n"),
                ("t.target", ""),
                ("k.socket", "[Socket]\nListenStream=/tmp/x\n"),
                ("p.path", "[Path]\nPathExists=/tmp\n"),
            ],
        );
        let mut r = Registry::new(vec![d.path().to_path_buf()]);
        for (name, service, supported) in [
            ("s.service", true, true),
            ("t.target", false, true),
            ("system.slice", false, true),
            ("k.socket", false, true),
            ("p.path", false, false),
        ] {
            let u = r.load(name).unwrap();
            let unit = r.unit(u).unwrap();
            assert_eq!(unit.service().is_some(), service, "{name}");
            assert_eq!(unit.supported(), supported, "{name}");
            assert_eq!(unit.active_state(), ActiveState::Inactive);
        }
    }

    /// systemd.mount(5): a mount needs the mount unit of its parent directory when that
    /// one is loaded, whichever is loaded first; units with `RequiresMountsFor=` too.
    #[test]
    fn mounts_and_mount_paths_link_to_loaded_parent_mounts() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            &[
                (
                    "var-tmp.mount",
                    "[Mount]\nWhat=tmpfs\nWhere=/var/tmp\nType=tmpfs\n",
                ),
                ("var.mount", "[Mount]\nWhat=/dev/vdb\nWhere=/var\n"),
                (
                    "s.service",
                    "[Unit]\nRequiresMountsFor=/var/tmp/x\n[Service]\nExecStart=/bin/true\n",
                ),
            ],
        );
        let mut r = Registry::new(vec![d.path().to_path_buf()]);
        let tmp = r.load("var-tmp.mount").unwrap();
        assert!(r.find("var.mount").is_none(), "not loaded by the child");
        let var = r.load("var.mount").unwrap();
        assert!(r.graph.has(tmp, Dependency::Requires, var));
        assert!(r.graph.has(tmp, Dependency::After, var));
        let s = r.load("s.service").unwrap();
        for m in [tmp, var] {
            assert!(r.graph.has(s, Dependency::Requires, m));
            assert!(r.graph.has(s, Dependency::After, m));
        }
        let unit = r.unit(tmp).unwrap();
        assert!(unit.supported());
        assert_eq!(unit.sub_state(), "dead");
        assert_eq!(unit.mount().unwrap().config().where_, "/var/tmp");
        assert_eq!(
            unit.description(),
            "/var/tmp",
            "a mount is described by its path"
        );
        // The default dependencies of a local mount.
        assert!(r
            .graph
            .has(tmp, Dependency::Conflicts, r.find("umount.target").unwrap()));
        assert!(r.graph.has(
            tmp,
            Dependency::After,
            r.find("local-fs-pre.target").unwrap()
        ));
        // A reload keeps the edges.
        r.reload(|_| true);
        assert!(r.graph.has(tmp, Dependency::Requires, var));
    }

    /// What the registry keeps per unit: the service's state machine reads the loaded
    /// `[Service]` section instead of a copy, the load diagnostics are gone once printed,
    /// and no slot is kept spare after a load.
    #[test]
    fn a_loaded_unit_keeps_one_copy_of_its_configuration() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            &[("s.service", "[Service]\nExecStart=/bin/true\nNoSuchKey=1\n")],
        );
        let mut r = Registry::new(vec![d.path().to_path_buf()]);
        let u = r.load("s.service").unwrap();
        let unit = r.unit(u).unwrap();
        let machine = unit.service().unwrap().config().section();
        assert!(std::ptr::eq(machine, unit.service_section().unwrap()));
        assert!(unit.loaded.diagnostics.is_empty(), "printed and dropped");
        assert_eq!(r.units.capacity(), r.units.len());
    }
}
