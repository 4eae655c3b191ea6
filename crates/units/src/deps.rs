//! The dependencies a unit has besides the graph the job engine builds from them: what its
//! `[Unit]` lists say (explicit), what its type and settings imply (implicit, e.g. a socket
//! triggers its service, a service runs in a slice), and what systemd adds unless
//! `DefaultDependencies=no` (default, e.g. every service `Requires=`/`After=`
//! `sysinit.target`). Everything follows the "Implicit Dependencies" and "Default
//! Dependencies" sections of systemd.unit(5), systemd.exec(5), systemd.service(5),
//! systemd.socket(5), systemd.target(5), systemd.timer(5), systemd.path(5),
//! systemd.mount(5), systemd.automount(5), systemd.swap(5), systemd.slice(5),
//! systemd.scope(5) and systemd.special(7), as systemd 252 implements them.
//!
//! Three kinds of edge depend on *other* units and so cannot be computed from one unit's
//! configuration; each has its own function, for the registry to call once the units
//! involved are loaded:
//! - [`mount_dependencies`]: `RequiresMountsFor=` (and the paths a unit implies, see
//!   [`mount_paths`]) only links to mount units that exist, and only `Requires=` those with
//!   a unit file. Requiring a mount unit nobody configured would make every start fail.
//! - [`target_ordering`]: a target is ordered `After=` the units it pulls in, unless such a
//!   unit has `DefaultDependencies=no` or the ordering would make a loop.
//! - the mount side of `RequiresMountsFor=`: when a mount unit appears later (a new fstab
//!   entry, a mount seen in `/proc/self/mountinfo`), the units whose paths lie below it gain
//!   edges to it. The registry finds them by indexing [`mount_paths`] with
//!   [`mount_units_for_path`] and calls [`mount_dependencies`] again.
//!
//! The results are lists of `(kind, other unit name)` edges, deterministic and without
//! duplicates or edges to the unit itself; [`crate::Graph::add`] stores each with its inverse.

use crate::Dependency;
use std::collections::BTreeSet;
use unitfile::model::exec::{Input, StdInput, StdOutput, WorkingDirectory};
use unitfile::model::service::ServiceType;
use unitfile::model::types::{Listen, SocketAddress};
use unitfile::model::{
    Automount, ExecContext, Kind, Mount, PathUnit, Socket, Swap, Timer, UnitConfig, UnitDep,
};
use unitfile::name::{self, UnitName, UnitType};

const ROOT_SLICE: &str = "-.slice";
const SYSTEM_SLICE: &str = "system.slice";
const ROOT_MOUNT: &str = "-.mount";
const INIT_SCOPE: &str = "init.scope";
const SYSINIT_TARGET: &str = "sysinit.target";
const BASIC_TARGET: &str = "basic.target";
const SHUTDOWN_TARGET: &str = "shutdown.target";
const SOCKETS_TARGET: &str = "sockets.target";
const TIMERS_TARGET: &str = "timers.target";
const PATHS_TARGET: &str = "paths.target";
const TIME_SYNC_TARGET: &str = "time-sync.target";
const TIME_SET_TARGET: &str = "time-set.target";
const LOCAL_FS_TARGET: &str = "local-fs.target";
const LOCAL_FS_PRE_TARGET: &str = "local-fs-pre.target";
const REMOTE_FS_TARGET: &str = "remote-fs.target";
const REMOTE_FS_PRE_TARGET: &str = "remote-fs-pre.target";
const INITRD_ROOT_FS_TARGET: &str = "initrd-root-fs.target";
const INITRD_FS_TARGET: &str = "initrd-fs.target";
const INITRD_USR_FS_TARGET: &str = "initrd-usr-fs.target";
const NETWORK_TARGET: &str = "network.target";
const NETWORK_ONLINE_TARGET: &str = "network-online.target";
const SWAP_TARGET: &str = "swap.target";
const UMOUNT_TARGET: &str = "umount.target";
const DBUS_SOCKET: &str = "dbus.socket";
const JOURNALD_SOCKET: &str = "systemd-journald.socket";
const REMOUNT_FS_SERVICE: &str = "systemd-remount-fs.service";
const TMPFILES_SETUP_SERVICE: &str = "systemd-tmpfiles-setup.service";
const TMP_MOUNT: &str = "tmp.mount";
const QUOTACHECK_SERVICE: &str = "systemd-quotacheck.service";
const QUOTAON_SERVICE: &str = "quotaon.service";
/// Where `Persistent=yes` timers keep their stamp files.
const TIMER_STAMP_DIR: &str = "/var/lib/systemd/timers";
/// `PrivateTmp=` also needs the persistent temporary directory.
const VAR_TMP: &str = "/var/tmp";

/// The network file systems of systemd 252's `@network` set plus the ones it checks by
/// name (`fstype_is_network`); a `fuse.` prefix is ignored.
const NETWORK_FS: &[&str] = &[
    "afs",
    "ceph",
    "cifs",
    "gfs",
    "gfs2",
    "ncp",
    "ncpfs",
    "nfs",
    "nfs4",
    "ocfs2",
    "orangefs",
    "pvfs2",
    "smb3",
    "smbfs",
    "davfs",
    "glusterfs",
    "lustre",
    "sshfs",
];

/// File systems whose quota systemd sets up with `systemd-quotacheck.service` and
/// `quotaon.service` (`fstype_needs_quota`).
const QUOTA_FS: &[&str] = &["ext2", "ext3", "ext4", "reiserfs", "jfs", "f2fs"];

/// The mount options that ask for quota.
const QUOTA_OPTIONS: &[&str] = &["usrquota", "grpquota", "quota", "usrjquota", "grpjquota"];

/// What the manager knows of the machine it runs on, where systemd's dependencies depend
/// on it. The default is an ordinary system manager on a booted host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// Device units exist (systemd drops every edge to a `.device` unit and to
    /// `blockdev@.target` when they are not supported).
    pub device_units: bool,
    /// Running in a container: swap units get no default dependencies.
    pub container: bool,
    /// Running in the initrd: mounts below `/sysroot` and `/sysusr/usr` order against
    /// the initrd targets, and `x-initrd.mount` mounts are managed.
    pub in_initrd: bool,
}

impl Default for Host {
    fn default() -> Host {
        Host {
            device_units: true,
            container: false,
            in_initrd: false,
        }
    }
}

/// What [`target_ordering`] needs to know of a unit a target pulls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The unit's effective `DefaultDependencies=` (see [`has_default_dependencies`]).
    pub default_dependencies: bool,
    /// The graph already orders the unit after the target (the unit has `After=` the
    /// target, from whatever origin); ordering the target after it would make a loop.
    pub after_target: bool,
}

/// What [`mount_dependencies`] needs to know of a mount unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountUnit {
    /// Not loaded (no unit file, not mounted, or failed to load): no edge at all.
    Absent,
    /// Loaded; `fragment` says whether it comes from a unit file (or fstab generator)
    /// rather than only from `/proc/self/mountinfo`.
    Loaded { fragment: bool },
}

/// Every dependency of one unit as (kind, other unit name), explicit ones first, then
/// implicit, then default ones (when `DefaultDependencies=` is not `no`); deduplicated,
/// deterministic order. Assumes the default [`Host`]. Edges that depend on other units
/// are left to [`mount_dependencies`] and [`target_ordering`].
pub fn dependencies(name: &UnitName, config: &UnitConfig) -> Vec<(Dependency, String)> {
    dependencies_on(name, config, &Host::default())
}

/// [`dependencies`] on a given [`Host`].
pub fn dependencies_on(
    name: &UnitName,
    config: &UnitConfig,
    host: &Host,
) -> Vec<(Dependency, String)> {
    let mut e = Edges::new(name.to_string());
    explicit(&mut e, config);
    implicit(&mut e, name, config, host);
    if has_default_dependencies(name, config) {
        default(&mut e, name, config, host);
    }
    e.list
}

/// The effective `DefaultDependencies=`: the setting, `yes` when unset, and always `no` for
/// the units systemd synthesizes itself (`-.slice`, `system.slice`, `init.scope`, `-.mount`).
pub fn has_default_dependencies(name: &UnitName, config: &UnitConfig) -> bool {
    !is_perpetual(name) && config.unit.default_dependencies != Some(false)
}

/// The units that exist from the manager's start to its end.
fn is_perpetual(name: &UnitName) -> bool {
    let n = name.to_string();
    [ROOT_SLICE, SYSTEM_SLICE, INIT_SCOPE, ROOT_MOUNT].contains(&n.as_str())
}

/// An ordered edge list that drops duplicates and edges to the unit itself (systemd ignores
/// a unit depending on itself).
struct Edges {
    me: String,
    list: Vec<(Dependency, String)>,
    seen: BTreeSet<(Dependency, String)>,
}

impl Edges {
    fn new(me: String) -> Edges {
        Edges {
            me,
            list: Vec::new(),
            seen: BTreeSet::new(),
        }
    }

    fn add(&mut self, kind: Dependency, other: &str) {
        if other == self.me {
            return;
        }
        let edge = (kind, other.to_string());
        if self.seen.insert(edge.clone()) {
            self.list.push(edge);
        }
    }

    /// Two kinds to the same unit, in systemd's order (`unit_add_two_dependencies`).
    fn add_two(&mut self, first: Dependency, second: Dependency, other: &str) {
        self.add(first, other);
        self.add(second, other);
    }
}

/// The `[Unit]` lists, including what `.wants/`, `.requires/` and `.upholds/`
/// directories added to them. `RequiresMountsFor=` is in [`mount_paths`].
fn explicit(e: &mut Edges, config: &UnitConfig) {
    for (kind, other) in config.unit.deps.iter() {
        e.add(dependency_of(kind), other);
    }
}

/// The edge a `[Unit]` dependency directive stands for.
fn dependency_of(kind: UnitDep) -> Dependency {
    use Dependency::*;
    match kind {
        UnitDep::Requires => Requires,
        UnitDep::Requisite => Requisite,
        UnitDep::Wants => Wants,
        UnitDep::BindsTo => BindsTo,
        UnitDep::PartOf => PartOf,
        UnitDep::Upholds => Upholds,
        UnitDep::Conflicts => Conflicts,
        UnitDep::Before => Before,
        UnitDep::After => After,
        UnitDep::OnFailure => OnFailure,
        UnitDep::OnSuccess => OnSuccess,
        UnitDep::PropagatesReloadTo => PropagatesReloadTo,
        UnitDep::ReloadPropagatedFrom => ReloadPropagatedFrom,
        UnitDep::PropagatesStopTo => PropagatesStopTo,
        UnitDep::StopPropagatedFrom => StopPropagatedFrom,
        UnitDep::JoinsNamespaceOf => JoinsNamespaceOf,
    }
}

/// What a unit's type and settings imply, whatever `DefaultDependencies=` says.
fn implicit(e: &mut Edges, name: &UnitName, config: &UnitConfig, host: &Host) {
    use Dependency::*;
    match &config.kind {
        Kind::Service(s) => {
            // systemd.service(5): the sockets of `Sockets=` are pulled in and ordered before.
            for sock in s.rare.sockets.iter().filter(|s| s.ends_with(".socket")) {
                e.add_two(Wants, After, sock);
                e.add(TriggeredBy, sock);
            }
            exec_dependencies(e, &s.exec, journal_logging_service(&s.exec));
            slice_membership(e, name, s.cgroup.slice.as_deref(), None);
            // A D-Bus service needs the bus (systemd.service(5), `Type=dbus`).
            if s.effective_type() == ServiceType::Dbus && s.rare.bus_name.is_some() {
                e.add(Requires, DBUS_SOCKET);
                e.add(After, DBUS_SOCKET);
            }
        }
        Kind::Socket(s) => {
            if let Some(service) = socket_service(name, s) {
                e.add_two(Before, Triggers, &service);
            }
            if let Some(dev) = s.bind_to_device.as_deref().filter(|d| *d != "lo") {
                node_dependency(
                    e,
                    &format!("/sys/subsystem/net/devices/{dev}"),
                    BindsTo,
                    host,
                );
            }
            // The exec context matters only when the socket runs commands of its own.
            let runs_commands = !(s.exec_start_pre.is_empty()
                && s.exec_start_post.is_empty()
                && s.exec_stop_pre.is_empty()
                && s.exec_stop_post.is_empty());
            if runs_commands {
                exec_dependencies(e, &s.exec, journal_logging(&s.exec, StdOutput::Journal));
            }
            slice_membership(e, name, s.cgroup.slice.as_deref(), None);
        }
        Kind::Timer(t) => {
            let unit = trigger_target(name, t.unit.as_deref(), UnitType::Service);
            if let Some(unit) = unit {
                e.add_two(Before, Triggers, &unit);
            }
        }
        Kind::Path(p) => {
            let unit = trigger_target(name, p.unit.as_deref(), UnitType::Service);
            if let Some(unit) = unit {
                e.add_two(Before, Triggers, &unit);
            }
        }
        Kind::Automount(_) => {
            if let Some(mount) = renamed(name, UnitType::Mount) {
                e.add_two(Before, Triggers, &mount);
            }
        }
        Kind::Mount(m) => {
            // The root mount logs nowhere: the logging socket lives on it.
            let journal =
                name.to_string() != ROOT_MOUNT && journal_logging(&m.exec, StdOutput::Journal);
            exec_dependencies(e, &m.exec, journal);
            let where_ = mount_where(name, m);
            let extrinsic = where_
                .as_deref()
                .is_some_and(|w| mount_is_extrinsic(w, m.options.as_deref(), host));
            slice_membership(e, name, m.cgroup.slice.as_deref(), Some(extrinsic));
            mount_device_dependencies(e, m, where_.as_deref(), host);
            mount_quota_dependencies(e, m);
        }
        Kind::Swap(s) => {
            let what = swap_what(name, s);
            match what.as_deref() {
                Some(w) if is_device_path(w) => {
                    node_dependency(e, w, Requires, host);
                    blockdev_dependency(e, w, host);
                }
                // A swap file may need a writable file system.
                Some(_) => e.add(After, REMOUNT_FS_SERVICE),
                None => {}
            }
            exec_dependencies(e, &s.exec, journal_logging(&s.exec, StdOutput::Journal));
            slice_membership(e, name, s.cgroup.slice.as_deref(), None);
        }
        Kind::Slice(_) => {
            // A slice's parent follows from its name (systemd.slice(5)).
            if let Some(parent) = parent_slice(&name.to_string()) {
                e.add(InSlice, &parent);
                e.add_two(After, Requires, &parent);
            }
        }
        Kind::Scope(s) => slice_membership(e, name, s.cgroup.slice.as_deref(), None),
        Kind::Target | Kind::Device => {}
    }
}

/// The dependencies systemd adds unless `DefaultDependencies=no`.
fn default(e: &mut Edges, name: &UnitName, config: &UnitConfig, host: &Host) {
    use Dependency::*;
    match &config.kind {
        Kind::Service(_) => {
            e.add_two(After, Requires, SYSINIT_TARGET);
            e.add(After, BASIC_TARGET);
            e.add_two(Before, Conflicts, SHUTDOWN_TARGET);
        }
        Kind::Socket(_) => {
            e.add(Before, SOCKETS_TARGET);
            e.add_two(After, Requires, SYSINIT_TARGET);
            e.add_two(Before, Conflicts, SHUTDOWN_TARGET);
        }
        Kind::Target => {
            if name.to_string() != SHUTDOWN_TARGET {
                e.add_two(Before, Conflicts, SHUTDOWN_TARGET);
            }
        }
        Kind::Timer(t) => {
            e.add(Before, TIMERS_TARGET);
            e.add_two(After, Requires, SYSINIT_TARGET);
            // Calendar events mean nothing before the clock is right.
            if !t.calendar.is_empty() {
                e.add(After, TIME_SYNC_TARGET);
                e.add(After, TIME_SET_TARGET);
            }
            e.add_two(Before, Conflicts, SHUTDOWN_TARGET);
        }
        Kind::Path(_) => {
            e.add(Before, PATHS_TARGET);
            e.add_two(After, Requires, SYSINIT_TARGET);
            e.add_two(Before, Conflicts, SHUTDOWN_TARGET);
        }
        Kind::Mount(m) => mount_default_dependencies(e, name, m, host),
        Kind::Automount(_) => {
            e.add(Before, LOCAL_FS_TARGET);
            e.add(After, LOCAL_FS_PRE_TARGET);
            e.add_two(Before, Conflicts, UMOUNT_TARGET);
        }
        Kind::Swap(_) => {
            if !host.container {
                e.add(Before, SWAP_TARGET);
                e.add_two(Before, Conflicts, UMOUNT_TARGET);
            }
        }
        Kind::Slice(_) | Kind::Scope(_) => e.add_two(Before, Conflicts, SHUTDOWN_TARGET),
        Kind::Device => {}
    }
}

/// The implicit dependencies of an exec context (systemd.exec(5)), except the mount
/// paths, which [`mount_paths`] lists.
fn exec_dependencies(e: &mut Edges, exec: &ExecContext, logs_to_journal: bool) {
    use Dependency::*;
    // These directories must be writable, and /var may be on the root file system.
    if !(exec.state_directory.is_empty()
        && exec.cache_directory.is_empty()
        && exec.logs_directory.is_empty())
    {
        e.add(After, REMOUNT_FS_SERVICE);
    }
    if private_tmp(exec) {
        e.add_two(After, Wants, TMP_MOUNT);
        e.add(After, TMPFILES_SETUP_SERVICE);
    }
    if logs_to_journal {
        e.add(After, JOURNALD_SOCKET);
    }
}

/// `PrivateTmp=`, which `DynamicUser=yes` implies.
fn private_tmp(exec: &ExecContext) -> bool {
    exec.sandbox.private_tmp == Some(true) || exec.sandbox.dynamic_user == Some(true)
}

/// Whether a service's output goes to the journal or the kernel log. An unset output is
/// inherited from standard input when that is a terminal or socket, and is the manager's
/// `DefaultStandardOutput=journal` otherwise; an unset error output follows the output.
fn journal_logging_service(exec: &ExecContext) -> bool {
    let bidirectional_input = matches!(
        exec.standard_input,
        Some(Input::Kind(
            StdInput::Tty | StdInput::TtyForce | StdInput::TtyFail | StdInput::Socket
        )) | Some(Input::Fd(_))
    );
    let unset = if bidirectional_input {
        StdOutput::Inherit
    } else {
        StdOutput::Journal
    };
    journal_logging(exec, unset)
}

/// Whether either output stream reaches journald, `unset_output` standing for an unset
/// `StandardOutput=` (an unset `StandardError=` inherits, which needs nothing).
fn journal_logging(exec: &ExecContext, unset_output: StdOutput) -> bool {
    let to_journal = |o: &StdOutput| {
        matches!(
            o,
            StdOutput::Journal
                | StdOutput::JournalConsole
                | StdOutput::Kmsg
                | StdOutput::KmsgConsole
                | StdOutput::Syslog
                | StdOutput::SyslogConsole
        )
    };
    to_journal(exec.standard_output.as_ref().unwrap_or(&unset_output))
        || exec.standard_error.as_ref().is_some_and(to_journal)
}

/// Puts a unit with a control group into its slice: `InSlice=` plus `After=` and
/// `Requires=` on it. Without `Slice=`, instances of a template go to
/// `system-PREFIX.slice`, units outside systemd's control (`extrinsic`: the perpetual units
/// and mounts of the OS itself) to `-.slice`, everything else to `system.slice`.
fn slice_membership(
    e: &mut Edges,
    name: &UnitName,
    configured: Option<&str>,
    extrinsic: Option<bool>,
) {
    use Dependency::*;
    let slice = match configured {
        Some(s) => s.to_string(),
        None if name.is_instance() => {
            // The prefix may contain '-', which means nesting in a slice name.
            format!("system-{}.slice", name::escape(name.prefix()))
        }
        None if is_perpetual(name) || extrinsic == Some(true) => ROOT_SLICE.to_string(),
        None => SYSTEM_SLICE.to_string(),
    };
    e.add(InSlice, &slice);
    e.add_two(After, Requires, &slice);
}

/// The parent of a slice, from the dashes of its name: `a-b.slice` is in `a.slice`,
/// `a.slice` in `-.slice`, and `-.slice` in nothing.
pub fn parent_slice(slice: &str) -> Option<String> {
    if slice == ROOT_SLICE {
        return None;
    }
    let stem = slice.strip_suffix(".slice")?;
    Some(match stem.rsplit_once('-') {
        Some((parent, _)) => format!("{parent}.slice"),
        None => ROOT_SLICE.to_string(),
    })
}

/// The same unit name with another type (`foo@a.socket` → `foo@a.service`).
fn renamed(name: &UnitName, t: UnitType) -> Option<String> {
    let new = match name.instance() {
        Some(i) => format!("{}@{i}.{t}", name.prefix()),
        None => format!("{}.{t}", name.prefix()),
    };
    UnitName::is_valid(&new).then_some(new)
}

/// The unit a timer or path triggers: `Unit=`, else the service of the same name.
fn trigger_target(name: &UnitName, configured: Option<&str>, t: UnitType) -> Option<String> {
    match configured {
        Some(u) => Some(u.to_string()),
        None => renamed(name, t),
    }
}

/// The service a socket triggers: `Service=`, else the same-named service. `Accept=yes`
/// sockets trigger nothing: each connection starts an instance of `NAME@.service`, made
/// when the connection comes.
fn socket_service(name: &UnitName, s: &Socket) -> Option<String> {
    if !has_non_accept_listener(s) {
        return None;
    }
    match &s.service {
        Some(svc) => Some(svc.clone()),
        None => renamed(name, UnitType::Service),
    }
}

/// Whether some listener hands the socket itself to a service, which is every listener
/// unless `Accept=yes`, and then only the ones that cannot accept connections.
fn has_non_accept_listener(s: &Socket) -> bool {
    if s.accept != Some(true) {
        return true;
    }
    s.listen
        .iter()
        .any(|l| !matches!(l, Listen::Stream(_) | Listen::SequentialPacket(_)))
}

/// Whether a path lies in `/dev` or `/sys`, where device units come from (systemd's
/// `is_device_path`).
fn is_device_path(p: &str) -> bool {
    simplify_path(p).is_some_and(|p| path_starts_with(&p, "/dev") || path_starts_with(&p, "/sys"))
}

/// Component-wise prefix test (`/dev` is a prefix of `/dev/sda` but not of `/device`).
fn path_starts_with(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// `After=` plus `kind` on the device unit of a device path, when devices are supported.
fn node_dependency(e: &mut Edges, path: &str, kind: Dependency, host: &Host) {
    if !host.device_units || !is_device_path(path) {
        return;
    }
    if let Ok(device) = name::path_to_unit_name(path, UnitType::Device) {
        e.add_two(Dependency::After, kind, &device);
    }
}

/// `After=blockdev@DEV.target`, the point where a block device's users are set up.
fn blockdev_dependency(e: &mut Edges, path: &str, host: &Host) {
    let in_dev = simplify_path(path).is_some_and(|p| path_starts_with(&p, "/dev"));
    if !host.device_units || !in_dev {
        return;
    }
    let Ok(escaped) = name::escape_path(path) else {
        return;
    };
    let target = format!("blockdev@{escaped}.target");
    if UnitName::is_valid(&target) {
        e.add(Dependency::After, &target);
    }
}

/// A mount's `Where=`, or the path its name stands for.
fn mount_where(name: &UnitName, m: &Mount) -> Option<String> {
    match &m.where_ {
        Some(w) => Some(w.clone()),
        None => name::unit_name_to_path(name).ok(),
    }
}

/// An automount's `Where=`, or the path its name stands for.
fn automount_where(name: &UnitName, a: &Automount) -> Option<String> {
    match &a.where_ {
        Some(w) => Some(w.clone()),
        None => name::unit_name_to_path(name).ok(),
    }
}

/// A swap's `What=`, or the path its name stands for.
fn swap_what(name: &UnitName, s: &Swap) -> Option<String> {
    match &s.what {
        Some(w) => Some(w.clone()),
        None => name::unit_name_to_path(name).ok(),
    }
}

/// Whether a comma-separated mount option list has one of `names`, alone or as
/// `NAME=VALUE` (systemd's `fstab_test_option`). A backslash escapes the next character.
fn has_option(options: Option<&str>, names: &[&str]) -> bool {
    last_option(options, names).is_some()
}

/// The last option of `names` present in the list.
fn last_option<'a>(options: Option<&str>, names: &[&'a str]) -> Option<&'a str> {
    let mut found = None;
    for word in split_options(options?) {
        let key = word.split('=').next().unwrap_or(&word);
        if let Some(n) = names.iter().find(|n| **n == key) {
            found = Some(*n);
        }
    }
    found
}

/// Splits mount options at the commas that are not escaped with a backslash.
fn split_options(options: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = options.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                word.push(c);
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            ',' => words.push(std::mem::take(&mut word)),
            _ => word.push(c),
        }
    }
    words.push(word);
    words
}

/// Whether `fs_type` is a network file system (systemd's `fstype_is_network`).
pub fn is_network_fs(fs_type: &str) -> bool {
    let t = fs_type.strip_prefix("fuse.").unwrap_or(fs_type);
    NETWORK_FS.contains(&t)
}

/// A network mount: `_netdev`, or a network file system type.
fn mount_is_network(m: &Mount) -> bool {
    has_option(m.options.as_deref(), &["_netdev"])
        || m.fs_type.as_deref().is_some_and(is_network_fs)
}

fn mount_is_bind(m: &Mount) -> bool {
    has_option(m.options.as_deref(), &["bind", "rbind"])
        || matches!(m.fs_type.as_deref(), Some("bind" | "rbind"))
}

fn mount_is_loop(m: &Mount) -> bool {
    has_option(m.options.as_deref(), &["loop"])
}

/// Mounts of the OS itself and of API file systems, which systemd leaves out of the boot
/// and shutdown ordering (`fstab_is_extrinsic`).
fn mount_is_extrinsic(where_: &str, options: Option<&str>, host: &Host) -> bool {
    if ["/", "/usr", "/etc"].contains(&where_) {
        return true;
    }
    if ["/run/initramfs", "/proc", "/sys", "/dev"]
        .iter()
        .any(|p| path_starts_with(where_, p))
    {
        return true;
    }
    has_option(options, &["x-initrd.mount"]) && !host.in_initrd
}

/// A mount's backing device: `Requires=` (or `BindsTo=` with `x-systemd.device-bound`)
/// and `After=` on it, stop propagated from it, and `After=blockdev@.target`.
fn mount_device_dependencies(e: &mut Edges, m: &Mount, where_: Option<&str>, host: &Host) {
    use Dependency::*;
    let Some(what) = m.what.as_deref() else {
        return;
    };
    if mount_is_bind(m)
        || !is_device_path(what)
        || ["/dev/root", "/dev/nfs"].contains(&what)
        || where_ == Some("/")
    {
        return;
    }
    let bound = has_option(m.options.as_deref(), &["x-systemd.device-bound"]);
    node_dependency(e, what, if bound { BindsTo } else { Requires }, host);
    // A configured mount stops with its device; `BindsTo=` already does that.
    if !bound {
        node_dependency(e, what, StopPropagatedFrom, host);
    }
    blockdev_dependency(e, what, host);
}

/// Quota checking and enabling for file systems mounted with quota options.
fn mount_quota_dependencies(e: &mut Edges, m: &Mount) {
    use Dependency::*;
    let fs_ok = m.fs_type.as_deref().is_none_or(|t| QUOTA_FS.contains(&t));
    if fs_ok && !mount_is_bind(m) && has_option(m.options.as_deref(), QUOTA_OPTIONS) {
        e.add_two(Before, Wants, QUOTACHECK_SERVICE);
        e.add_two(Before, Wants, QUOTAON_SERVICE);
    }
}

/// systemd.mount(5) default dependencies: ordered between `local-fs-pre.target` and
/// `local-fs.target` (network mounts: the `remote-fs` pair, plus `network.target` and
/// `network-online.target`), unmounted by `umount.target`, tmpfs after swap is off.
fn mount_default_dependencies(e: &mut Edges, name: &UnitName, m: &Mount, host: &Host) {
    use Dependency::*;
    let Some(where_) = mount_where(name, m) else {
        return;
    };
    if mount_is_extrinsic(&where_, m.options.as_deref(), host) {
        return;
    }
    let network = mount_is_network(m);
    let sysroot = where_
        .strip_prefix("/sysroot")
        .filter(|rest| rest.is_empty() || rest.starts_with('/'));
    let (after, before) = match sysroot {
        Some(rest) if host.in_initrd => (
            LOCAL_FS_PRE_TARGET,
            if rest.is_empty() {
                INITRD_ROOT_FS_TARGET
            } else {
                INITRD_FS_TARGET
            },
        ),
        _ if host.in_initrd && path_starts_with(&where_, "/sysusr/usr") => {
            (LOCAL_FS_PRE_TARGET, INITRD_USR_FS_TARGET)
        }
        _ if network => (REMOTE_FS_PRE_TARGET, REMOTE_FS_TARGET),
        _ => (LOCAL_FS_PRE_TARGET, LOCAL_FS_TARGET),
    };
    // `nofail` mounts do not hold up the target; the last of nofail/fail wins.
    if last_option(m.options.as_deref(), &["nofail", "fail"]) != Some("nofail") {
        e.add(Before, before);
    }
    e.add(After, after);
    e.add_two(Before, Conflicts, UMOUNT_TARGET);
    if network {
        e.add(After, NETWORK_TARGET);
        e.add_two(Wants, After, NETWORK_ONLINE_TARGET);
    }
    if m.fs_type.as_deref() == Some("tmpfs") {
        e.add(After, SWAP_TARGET);
    }
}

/// Every path whose mount units the unit needs (systemd's `RequiresMountsFor=` set):
/// the setting itself, then what the type implies — a socket's file-system listeners, a
/// path unit's watched paths, a persistent timer's stamp directory, a mount's parent
/// directory and source, an automount's parent, a swap's file or device — and what the
/// exec context implies: `WorkingDirectory=` (unless `-` or `~`), `RootDirectory=`, the
/// `*Directory=` settings below `/run`, `/var/lib`, `/var/cache`, `/var/log` and `/etc`,
/// and `/var/tmp` for `PrivateTmp=`. Paths are simplified (`//` and `.` removed);
/// duplicates and paths with `..` are dropped.
pub fn mount_paths(name: &UnitName, config: &UnitConfig) -> Vec<String> {
    let mut paths: Vec<String> = config.unit.rare.requires_mounts_for.clone();
    match &config.kind {
        Kind::Service(s) => exec_mount_paths(&mut paths, &s.exec),
        Kind::Socket(s) => {
            paths.extend(s.listen.iter().filter_map(listener_path));
            let runs_commands = !(s.exec_start_pre.is_empty()
                && s.exec_start_post.is_empty()
                && s.exec_stop_pre.is_empty()
                && s.exec_stop_post.is_empty());
            if runs_commands {
                exec_mount_paths(&mut paths, &s.exec);
            }
        }
        Kind::Timer(t) => timer_mount_paths(&mut paths, t),
        Kind::Path(p) => path_unit_mount_paths(&mut paths, p),
        Kind::Mount(m) => {
            exec_mount_paths(&mut paths, &m.exec);
            if let Some(w) = mount_where(name, m) {
                paths.extend(parent_dir(&w));
            }
            // The source of a bind or loop mount, or of a local one, must be reachable.
            if let Some(what) = m.what.as_deref().filter(|w| w.starts_with('/')) {
                if mount_is_bind(m) || mount_is_loop(m) || !mount_is_network(m) {
                    paths.push(what.to_string());
                }
            }
        }
        Kind::Automount(a) => {
            if let Some(w) = automount_where(name, a) {
                paths.extend(parent_dir(&w));
            }
        }
        Kind::Swap(s) => {
            paths.extend(swap_what(name, s));
            exec_mount_paths(&mut paths, &s.exec);
        }
        Kind::Target | Kind::Device | Kind::Slice(_) | Kind::Scope(_) => {}
    }
    let mut seen = BTreeSet::new();
    paths
        .iter()
        .filter_map(|p| simplify_path(p))
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

fn timer_mount_paths(paths: &mut Vec<String>, t: &Timer) {
    if t.persistent == Some(true) {
        paths.push(TIMER_STAMP_DIR.to_string());
    }
}

fn path_unit_mount_paths(paths: &mut Vec<String>, p: &PathUnit) {
    paths.extend(p.paths.iter().map(|(_, path)| path.clone()));
}

/// The file-system path a listener lives at, if any.
fn listener_path(l: &Listen) -> Option<String> {
    match l {
        Listen::Stream(SocketAddress::Unix(p))
        | Listen::Datagram(SocketAddress::Unix(p))
        | Listen::SequentialPacket(SocketAddress::Unix(p))
        | Listen::Fifo(p)
        | Listen::Special(p)
        | Listen::UsbFunction(p) => Some(p.clone()),
        _ => None,
    }
}

fn exec_mount_paths(paths: &mut Vec<String>, exec: &ExecContext) {
    if let Some(WorkingDirectory {
        path,
        home: false,
        missing_ok: false,
    }) = &exec.working_directory
    {
        paths.push(path.clone());
    }
    paths.extend(exec.root_directory.clone());
    let dirs: [(&str, &Vec<String>); 5] = [
        ("/run", &exec.runtime_directory),
        ("/var/lib", &exec.state_directory),
        ("/var/cache", &exec.cache_directory),
        ("/var/log", &exec.logs_directory),
        ("/etc", &exec.configuration_directory),
    ];
    for (base, list) in dirs {
        for d in list {
            // `DIR:SYMLINK` names a symlink to create as well; only DIR is mounted on.
            let dir = d.split(':').next().unwrap_or(d);
            paths.push(format!("{base}/{dir}"));
        }
    }
    if private_tmp(exec) {
        paths.push(VAR_TMP.to_string());
    }
}

/// The directory a path is in (`/a/b` → `/a`, `/a` → `/`), none for `/`.
fn parent_dir(path: &str) -> Option<String> {
    let p = simplify_path(path)?;
    if p == "/" {
        return None;
    }
    match p.rsplit_once('/') {
        Some(("", _)) => Some("/".to_string()),
        Some((parent, _)) => Some(parent.to_string()),
        None => None,
    }
}

/// An absolute path without repeated `/`, `.` components or a trailing `/`; `None` for a
/// relative path or one with `..` (systemd refuses those here).
fn simplify_path(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.contains(&"..") {
        return None;
    }
    Some(format!("/{}", parts.join("/")))
}

/// The mount units that may hold `path`, from the path itself up to `-.mount`
/// (`/a/b` → `a-b.mount`, `a.mount`, `-.mount`). Prefixes that make no valid unit name
/// are skipped, as systemd cannot manage them anyway.
pub fn mount_units_for_path(path: &str) -> Vec<String> {
    let Some(p) = simplify_path(path) else {
        return Vec::new();
    };
    let mut prefixes = vec![p.clone()];
    let mut cur = p;
    while let Some(parent) = parent_dir(&cur) {
        prefixes.push(parent.clone());
        cur = parent;
    }
    prefixes
        .iter()
        .filter_map(|p| name::path_to_unit_name(p, UnitType::Mount).ok())
        .collect()
}

/// The edges `RequiresMountsFor=` makes once the mount units are known: for each path of
/// [`mount_paths`] and each of its mount units ([`mount_units_for_path`]), `After=` a
/// loaded one and also `Requires=` it when it comes from a unit file. `unit` is the unit's
/// own name, which never depends on itself.
pub fn mount_dependencies(
    unit: &str,
    paths: &[String],
    mount: impl Fn(&str) -> MountUnit,
) -> Vec<(Dependency, String)> {
    let mut e = Edges::new(unit.to_string());
    for path in paths {
        for m in mount_units_for_path(path) {
            if let MountUnit::Loaded { fragment } = mount(&m) {
                e.add(Dependency::After, &m);
                if fragment {
                    e.add(Dependency::Requires, &m);
                }
            }
        }
    }
    e.list
}

/// The `After=` edges a target gains on the units it pulls in (systemd.target(5)): for
/// each unit of its `Requires=`, `Requisite=`, `Wants=`, `BindsTo=` and `Upholds=` (as
/// [`dependencies`] lists them, `.wants/` directories included), when both the target and
/// that unit have default dependencies and are loaded (`peer` returns `None` for a unit
/// that is not), and the target is not already ordered before it (by its own `Before=` or
/// the unit's `After=`). `PartOf=` gives no ordering: systemd 252 only reaches it when the
/// other unit happens to be loaded first. The registry calls this once the target and the
/// units it names are loaded, and again when one of them is reloaded; `peer` must see the
/// edges earlier calls added, so that two targets wanting each other get one ordering.
pub fn target_ordering(
    name: &UnitName,
    config: &UnitConfig,
    peer: impl Fn(&str) -> Option<Peer>,
) -> Vec<(Dependency, String)> {
    use Dependency::*;
    if name.unit_type() != UnitType::Target || !has_default_dependencies(name, config) {
        return Vec::new();
    }
    let deps = dependencies(name, config);
    let before: BTreeSet<&str> = deps
        .iter()
        .filter(|(k, _)| *k == Before)
        .map(|(_, n)| n.as_str())
        .collect();
    let mut e = Edges::new(name.to_string());
    for (kind, other) in &deps {
        if !matches!(kind, Requires | Requisite | Wants | BindsTo | Upholds) {
            continue;
        }
        if before.contains(other.as_str()) {
            continue;
        }
        match peer(other) {
            Some(p) if p.default_dependencies && !p.after_target => e.add(After, other),
            _ => {}
        }
    }
    e.list
}

#[cfg(test)]
mod tests {
    //! The expected edge lists were confirmed against systemd 252.38 (Debian 12) running as
    //! `SYSTEMD_UNIT_PATH=DIR: setpriv --reuid=65534 --regid=65534 --clear-groups
    //! /usr/lib/systemd/systemd --test --system --unit=top.target` on the same unit files,
    //! which dumps every unit's dependency lists with their origin (`origin-file`,
    //! `origin-implicit`, `origin-default`, ...). That oracle ran in a container, so the
    //! swap default dependencies (dropped in containers) follow the source instead.
    use super::*;
    use std::path::Path;
    use unitfile::model::sections;
    use unitfile::specifier::{HostFacts, SpecifierContext};
    use Dependency::*;

    fn load(name: &str, text: &str) -> (UnitName, UnitConfig) {
        let unit = UnitName::parse(name).unwrap();
        let t = unit.unit_type();
        let file = format!("/test/{name}");
        let parsed = unitfile::syntax::parse(text.as_bytes(), Path::new(&file), &sections(t));
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let host = HostFacts::default();
        let spec = SpecifierContext {
            unit: &unit,
            fragment_path: None,
            host: &host,
        };
        let mut config = UnitConfig::new(t);
        let (diags, _) = config.apply(&parsed.assignments, &spec);
        assert!(
            diags
                .iter()
                .all(|d| d.severity != unitfile::diag::Severity::Error),
            "{diags:?}"
        );
        (unit, config)
    }

    fn edges(list: &[(Dependency, &str)]) -> Vec<(Dependency, String)> {
        list.iter().map(|(k, n)| (*k, n.to_string())).collect()
    }

    /// Slice membership of an ordinary system unit.
    const IN_SYSTEM_SLICE: [(Dependency, &str); 3] = [
        (InSlice, "system.slice"),
        (After, "system.slice"),
        (Requires, "system.slice"),
    ];

    const SERVICE_DEFAULTS: [(Dependency, &str); 5] = [
        (After, "sysinit.target"),
        (Requires, "sysinit.target"),
        (After, "basic.target"),
        (Before, "shutdown.target"),
        (Conflicts, "shutdown.target"),
    ];

    struct Case {
        what: &'static str,
        name: &'static str,
        text: &'static str,
        host: Host,
        expected: Vec<(Dependency, &'static str)>,
        mount_paths: &'static [&'static str],
    }

    fn case(
        what: &'static str,
        name: &'static str,
        text: &'static str,
        expected: Vec<(Dependency, &'static str)>,
        mount_paths: &'static [&'static str],
    ) -> Case {
        Case {
            what,
            name,
            text,
            host: Host::default(),
            expected,
            mount_paths,
        }
    }

    fn cat(parts: &[&[(Dependency, &'static str)]]) -> Vec<(Dependency, &'static str)> {
        parts.concat()
    }

    fn cases() -> Vec<Case> {
        let container = Host {
            container: true,
            ..Host::default()
        };
        vec![
            // Oracle a.service: journald socket, system.slice, the service defaults.
            case(
                "plain service",
                "a.service",
                "[Service]\nExecStart=/bin/true\n",
                cat(&[
                    &[(After, "systemd-journald.socket")],
                    &IN_SYSTEM_SLICE,
                    &SERVICE_DEFAULTS,
                ]),
                &[],
            ),
            // Oracle tty.service: output inherited from the terminal, so no journald.
            case(
                "service without default dependencies",
                "tty.service",
                "[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/true\n\
                 StandardInput=tty\n",
                IN_SYSTEM_SLICE.to_vec(),
                &[],
            ),
            case(
                "every [Unit] list, explicit edges first, directive by directive, each \
                 sorted by name",
                "e.service",
                "[Unit]\nDefaultDependencies=no\nRequires=r.service\nRequisite=q.service\n\
                 Wants=w.service\nBindsTo=b.service\nPartOf=p.service\nUpholds=u.service\n\
                 Conflicts=c.service\nBefore=bf.service\nAfter=af.service r.service\n\
                 OnFailure=f.service\nOnSuccess=s.service\nPropagatesReloadTo=pr.service\n\
                 ReloadPropagatedFrom=rp.service\nPropagatesStopTo=ps.service\n\
                 StopPropagatedFrom=sp.service\nJoinsNamespaceOf=j.service\n\
                 Wants=w.service e.service\n\
                 [Service]\nExecStart=/bin/true\nStandardOutput=null\n",
                cat(&[
                    &[
                        (Requires, "r.service"),
                        (Requisite, "q.service"),
                        (Wants, "w.service"),
                        (BindsTo, "b.service"),
                        (PartOf, "p.service"),
                        (Upholds, "u.service"),
                        (Conflicts, "c.service"),
                        (Before, "bf.service"),
                        (After, "af.service"),
                        (After, "r.service"),
                        (OnFailure, "f.service"),
                        (OnSuccess, "s.service"),
                        (PropagatesReloadTo, "pr.service"),
                        (ReloadPropagatedFrom, "rp.service"),
                        (PropagatesStopTo, "ps.service"),
                        (StopPropagatedFrom, "sp.service"),
                        (JoinsNamespaceOf, "j.service"),
                    ],
                    &IN_SYSTEM_SLICE,
                ]),
                &[],
            ),
            // Oracle db.service.
            case(
                "D-Bus service with sockets, private /tmp, state directory and a slice",
                "db.service",
                "[Unit]\nRequiresMountsFor=/home/q\n[Service]\nType=dbus\nBusName=org.x\n\
                 ExecStart=/bin/true\nPrivateTmp=yes\nWorkingDirectory=/srv/w\n\
                 StateDirectory=st\nSockets=d.socket\nSlice=a-b.slice\n",
                cat(&[
                    &[
                        (Wants, "d.socket"),
                        (After, "d.socket"),
                        (TriggeredBy, "d.socket"),
                        (After, "systemd-remount-fs.service"),
                        (After, "tmp.mount"),
                        (Wants, "tmp.mount"),
                        (After, "systemd-tmpfiles-setup.service"),
                        (After, "systemd-journald.socket"),
                        (InSlice, "a-b.slice"),
                        (After, "a-b.slice"),
                        (Requires, "a-b.slice"),
                        (Requires, "dbus.socket"),
                        (After, "dbus.socket"),
                    ],
                    &SERVICE_DEFAULTS,
                ]),
                &["/home/q", "/srv/w", "/var/lib/st", "/var/tmp"],
            ),
            // Oracle i@x.service and system-i.slice.
            case(
                "template instance in its per-template slice",
                "i@x.service",
                "[Service]\nExecStart=/bin/true\n",
                cat(&[
                    &[
                        (After, "systemd-journald.socket"),
                        (InSlice, "system-i.slice"),
                        (After, "system-i.slice"),
                        (Requires, "system-i.slice"),
                    ],
                    &SERVICE_DEFAULTS,
                ]),
                &[],
            ),
            case(
                "a dash in the template prefix is escaped in the slice name",
                "foo-bar@x.service",
                "[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/true\n\
                 StandardOutput=tty\nWorkingDirectory=-/missing\n",
                vec![
                    (InSlice, "system-foo\\x2dbar.slice"),
                    (After, "system-foo\\x2dbar.slice"),
                    (Requires, "system-foo\\x2dbar.slice"),
                ],
                &[],
            ),
            case(
                "DynamicUser= implies a private /tmp; RuntimeDirectory= needs /run",
                "dyn.service",
                "[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/true\n\
                 DynamicUser=yes\nRuntimeDirectory=dyn:link\nStandardError=kmsg\n\
                 StandardOutput=null\n",
                cat(&[
                    &[
                        (After, "tmp.mount"),
                        (Wants, "tmp.mount"),
                        (After, "systemd-tmpfiles-setup.service"),
                        (After, "systemd-journald.socket"),
                    ],
                    &IN_SYSTEM_SLICE,
                ]),
                &["/run/dyn", "/var/tmp"],
            ),
            // Oracle b.socket: Accept=yes triggers no unit.
            case(
                "accepting socket",
                "b.socket",
                "[Socket]\nListenStream=/run/foo/b.sock\nAccept=yes\n",
                cat(&[
                    &IN_SYSTEM_SLICE,
                    &[
                        (Before, "sockets.target"),
                        (After, "sysinit.target"),
                        (Requires, "sysinit.target"),
                        (Before, "shutdown.target"),
                        (Conflicts, "shutdown.target"),
                    ],
                ]),
                &["/run/foo/b.sock"],
            ),
            // Oracle d.socket.
            case(
                "socket with Service=, BindToDevice= and commands",
                "d.socket",
                "[Socket]\nListenDatagram=/run/d.sock\nListenStream=127.0.0.1:99\n\
                 Service=other.service\nBindToDevice=eth0\nExecStartPre=/bin/true\n\
                 StandardOutput=null\n",
                cat(&[
                    &[
                        (Before, "other.service"),
                        (Triggers, "other.service"),
                        (After, "sys-subsystem-net-devices-eth0.device"),
                        (BindsTo, "sys-subsystem-net-devices-eth0.device"),
                    ],
                    &IN_SYSTEM_SLICE,
                    &[
                        (Before, "sockets.target"),
                        (After, "sysinit.target"),
                        (Requires, "sysinit.target"),
                        (Before, "shutdown.target"),
                        (Conflicts, "shutdown.target"),
                    ],
                ]),
                &["/run/d.sock"],
            ),
            case(
                "socket without default dependencies triggers its namesake",
                "s@i.socket",
                "[Unit]\nDefaultDependencies=no\n[Socket]\nListenStream=@abstract\n\
                 BindToDevice=lo\n",
                vec![
                    (Before, "s@i.service"),
                    (Triggers, "s@i.service"),
                    (InSlice, "system-s.slice"),
                    (After, "system-s.slice"),
                    (Requires, "system-s.slice"),
                ],
                &[],
            ),
            // Oracle x.target.
            case(
                "target",
                "x.target",
                "[Unit]\nWants=a.service\n",
                vec![
                    (Wants, "a.service"),
                    (Before, "shutdown.target"),
                    (Conflicts, "shutdown.target"),
                ],
                &[],
            ),
            case(
                "target without default dependencies",
                "y.target",
                "[Unit]\nDefaultDependencies=no\nRequires=a.service\n",
                vec![(Requires, "a.service")],
                &[],
            ),
            case(
                "shutdown.target does not conflict with itself",
                "shutdown.target",
                "[Unit]\nDescription=x\n",
                vec![],
                &[],
            ),
            // Oracle tm.timer.
            case(
                "calendar timer",
                "tm.timer",
                "[Timer]\nOnCalendar=daily\nPersistent=yes\n",
                vec![
                    (Before, "tm.service"),
                    (Triggers, "tm.service"),
                    (Before, "timers.target"),
                    (After, "sysinit.target"),
                    (Requires, "sysinit.target"),
                    (After, "time-sync.target"),
                    (After, "time-set.target"),
                    (Before, "shutdown.target"),
                    (Conflicts, "shutdown.target"),
                ],
                &["/var/lib/systemd/timers"],
            ),
            // Oracle tm2.timer.
            case(
                "monotonic timer without default dependencies",
                "tm2.timer",
                "[Unit]\nDefaultDependencies=no\n[Timer]\nOnBootSec=5\nUnit=foo.service\n",
                vec![(Before, "foo.service"), (Triggers, "foo.service")],
                &[],
            ),
            case(
                "monotonic timer: no clock targets",
                "mono.timer",
                "[Timer]\nOnActiveSec=5\n",
                vec![
                    (Before, "mono.service"),
                    (Triggers, "mono.service"),
                    (Before, "timers.target"),
                    (After, "sysinit.target"),
                    (Requires, "sysinit.target"),
                    (Before, "shutdown.target"),
                    (Conflicts, "shutdown.target"),
                ],
                &[],
            ),
            // Oracle pa.path.
            case(
                "path unit",
                "pa.path",
                "[Path]\nPathExists=/var/lib/x/y\n",
                vec![
                    (Before, "pa.service"),
                    (Triggers, "pa.service"),
                    (Before, "paths.target"),
                    (After, "sysinit.target"),
                    (Requires, "sysinit.target"),
                    (Before, "shutdown.target"),
                    (Conflicts, "shutdown.target"),
                ],
                &["/var/lib/x/y"],
            ),
            case(
                "path unit without default dependencies",
                "pb.path",
                "[Unit]\nDefaultDependencies=no\n[Path]\nPathChanged=/etc/x\nUnit=x.target\n",
                vec![(Before, "x.target"), (Triggers, "x.target")],
                &["/etc/x"],
            ),
            // Oracle srv-nfs.mount.
            case(
                "network mount",
                "srv-nfs.mount",
                "[Mount]\nWhat=server:/export\nWhere=/srv/nfs\nType=nfs\n",
                cat(&[
                    &[(After, "systemd-journald.socket")],
                    &IN_SYSTEM_SLICE,
                    &[
                        (Before, "remote-fs.target"),
                        (After, "remote-fs-pre.target"),
                        (Before, "umount.target"),
                        (Conflicts, "umount.target"),
                        (After, "network.target"),
                        (Wants, "network-online.target"),
                        (After, "network-online.target"),
                    ],
                ]),
                &["/srv"],
            ),
            // Oracle srv-loc.mount: nofail drops Before=local-fs.target.
            case(
                "local device mount with nofail and quota",
                "srv-loc.mount",
                "[Mount]\nWhat=/dev/sdb1\nWhere=/srv/loc\nOptions=nofail,usrquota\nType=ext4\n",
                cat(&[
                    &[(After, "systemd-journald.socket")],
                    &IN_SYSTEM_SLICE,
                    &[
                        (After, "dev-sdb1.device"),
                        (Requires, "dev-sdb1.device"),
                        (StopPropagatedFrom, "dev-sdb1.device"),
                        (After, "blockdev@dev-sdb1.target"),
                        (Before, "systemd-quotacheck.service"),
                        (Wants, "systemd-quotacheck.service"),
                        (Before, "quotaon.service"),
                        (Wants, "quotaon.service"),
                        (After, "local-fs-pre.target"),
                        (Before, "umount.target"),
                        (Conflicts, "umount.target"),
                    ],
                ]),
                &["/srv", "/dev/sdb1"],
            ),
            case(
                "device-bound mount, devices unsupported: no device edges",
                "srv-b.mount",
                "[Mount]\nWhat=/dev/sdb2\nWhere=/srv/b\nOptions=x-systemd.device-bound\n",
                cat(&[
                    &[(After, "systemd-journald.socket")],
                    &IN_SYSTEM_SLICE,
                    &[
                        (Before, "local-fs.target"),
                        (After, "local-fs-pre.target"),
                        (Before, "umount.target"),
                        (Conflicts, "umount.target"),
                    ],
                ]),
                &["/srv", "/dev/sdb2"],
            )
            .on(Host {
                device_units: false,
                ..Host::default()
            }),
            case(
                "device-bound mount binds to its device",
                "srv-c.mount",
                "[Unit]\nDefaultDependencies=no\n[Mount]\nWhat=/dev/sdb3\nWhere=/srv/c\n\
                 Options=ro,x-systemd.device-bound\nStandardOutput=null\n",
                cat(&[
                    &IN_SYSTEM_SLICE,
                    &[
                        (After, "dev-sdb3.device"),
                        (BindsTo, "dev-sdb3.device"),
                        (After, "blockdev@dev-sdb3.target"),
                    ],
                ]),
                &["/srv", "/dev/sdb3"],
            ),
            // Oracle srv-tmp.mount.
            case(
                "tmpfs mount",
                "srv-tmp.mount",
                "[Mount]\nWhat=tmpfs\nWhere=/srv/tmp\nType=tmpfs\n",
                cat(&[
                    &[(After, "systemd-journald.socket")],
                    &IN_SYSTEM_SLICE,
                    &[
                        (Before, "local-fs.target"),
                        (After, "local-fs-pre.target"),
                        (Before, "umount.target"),
                        (Conflicts, "umount.target"),
                        (After, "swap.target"),
                    ],
                ]),
                &["/srv"],
            ),
            case(
                "bind mount: the source path, no device",
                "srv-bind.mount",
                "[Unit]\nDefaultDependencies=no\n[Mount]\nWhat=/dev/shm\nWhere=/srv/bind\n\
                 Options=bind\n",
                cat(&[&[(After, "systemd-journald.socket")], &IN_SYSTEM_SLICE]),
                &["/srv", "/dev/shm"],
            ),
            case(
                "mount of the OS itself is extrinsic: root slice, no defaults",
                "usr.mount",
                "[Mount]\nWhat=/dev/vda2\nWhere=/usr\n",
                vec![
                    (After, "systemd-journald.socket"),
                    (InSlice, "-.slice"),
                    (After, "-.slice"),
                    (Requires, "-.slice"),
                    (After, "dev-vda2.device"),
                    (Requires, "dev-vda2.device"),
                    (StopPropagatedFrom, "dev-vda2.device"),
                    (After, "blockdev@dev-vda2.target"),
                ],
                &["/", "/dev/vda2"],
            ),
            case(
                "root mount: perpetual, no logging, no device, no defaults",
                "-.mount",
                "[Mount]\nWhat=/dev/vda1\nWhere=/\n",
                vec![
                    (InSlice, "-.slice"),
                    (After, "-.slice"),
                    (Requires, "-.slice"),
                ],
                &["/dev/vda1"],
            ),
            case(
                "sysroot mount in the initrd",
                "sysroot.mount",
                "[Mount]\nWhat=/dev/vda1\nWhere=/sysroot\nStandardOutput=null\n",
                cat(&[
                    &IN_SYSTEM_SLICE,
                    &[
                        (After, "dev-vda1.device"),
                        (Requires, "dev-vda1.device"),
                        (StopPropagatedFrom, "dev-vda1.device"),
                        (After, "blockdev@dev-vda1.target"),
                        (Before, "initrd-root-fs.target"),
                        (After, "local-fs-pre.target"),
                        (Before, "umount.target"),
                        (Conflicts, "umount.target"),
                    ],
                ]),
                &["/", "/dev/vda1"],
            )
            .on(Host {
                in_initrd: true,
                ..Host::default()
            }),
            // Oracle srv-loc.automount.
            case(
                "automount",
                "srv-loc.automount",
                "[Automount]\nWhere=/srv/loc\n",
                vec![
                    (Before, "srv-loc.mount"),
                    (Triggers, "srv-loc.mount"),
                    (Before, "local-fs.target"),
                    (After, "local-fs-pre.target"),
                    (Before, "umount.target"),
                    (Conflicts, "umount.target"),
                ],
                &["/srv"],
            ),
            case(
                "automount without default dependencies",
                "srv-x.automount",
                "[Unit]\nDefaultDependencies=no\n[Automount]\n",
                vec![(Before, "srv-x.mount"), (Triggers, "srv-x.mount")],
                &["/srv"],
            ),
            // Oracle dev-sdc1.swap (in a container, hence the second case).
            case(
                "swap partition",
                "dev-sdc1.swap",
                "[Swap]\nWhat=/dev/sdc1\n",
                cat(&[
                    &[
                        (After, "dev-sdc1.device"),
                        (Requires, "dev-sdc1.device"),
                        (After, "blockdev@dev-sdc1.target"),
                        (After, "systemd-journald.socket"),
                    ],
                    &IN_SYSTEM_SLICE,
                    &[
                        (Before, "swap.target"),
                        (Before, "umount.target"),
                        (Conflicts, "umount.target"),
                    ],
                ]),
                &["/dev/sdc1"],
            ),
            Case {
                host: container,
                ..case(
                    "swap partition in a container: no default dependencies",
                    "dev-sdc1.swap",
                    "[Swap]\nWhat=/dev/sdc1\n",
                    cat(&[
                        &[
                            (After, "dev-sdc1.device"),
                            (Requires, "dev-sdc1.device"),
                            (After, "blockdev@dev-sdc1.target"),
                            (After, "systemd-journald.socket"),
                        ],
                        &IN_SYSTEM_SLICE,
                    ]),
                    &["/dev/sdc1"],
                )
            },
            case(
                "swap file without default dependencies",
                "swapfile.swap",
                "[Unit]\nDefaultDependencies=no\n[Swap]\nWhat=/swapfile\n",
                cat(&[
                    &[
                        (After, "systemd-remount-fs.service"),
                        (After, "systemd-journald.socket"),
                    ],
                    &IN_SYSTEM_SLICE,
                ]),
                &["/swapfile"],
            ),
            // Oracle a-b.slice, a.slice, system-i.slice, system.slice.
            case(
                "nested slice",
                "a-b.slice",
                "[Unit]\nDescription=ab\n",
                vec![
                    (InSlice, "a.slice"),
                    (After, "a.slice"),
                    (Requires, "a.slice"),
                    (Before, "shutdown.target"),
                    (Conflicts, "shutdown.target"),
                ],
                &[],
            ),
            case(
                "top-level slice without default dependencies",
                "a.slice",
                "[Unit]\nDefaultDependencies=no\n",
                vec![
                    (InSlice, "-.slice"),
                    (After, "-.slice"),
                    (Requires, "-.slice"),
                ],
                &[],
            ),
            case("root slice", "-.slice", "", vec![], &[]),
            case(
                "system slice: perpetual, no default dependencies",
                "system.slice",
                "",
                vec![
                    (InSlice, "-.slice"),
                    (After, "-.slice"),
                    (Requires, "-.slice"),
                ],
                &[],
            ),
            case(
                "scope",
                "session-1.scope",
                "[Scope]\nSlice=user-1000.slice\n",
                vec![
                    (InSlice, "user-1000.slice"),
                    (After, "user-1000.slice"),
                    (Requires, "user-1000.slice"),
                    (Before, "shutdown.target"),
                    (Conflicts, "shutdown.target"),
                ],
                &[],
            ),
            case(
                "scope without default dependencies",
                "x.scope",
                "[Unit]\nDefaultDependencies=no\n",
                IN_SYSTEM_SLICE.to_vec(),
                &[],
            ),
            // Oracle init.scope.
            case(
                "init.scope lives in the root slice",
                "init.scope",
                "",
                vec![
                    (InSlice, "-.slice"),
                    (After, "-.slice"),
                    (Requires, "-.slice"),
                ],
                &[],
            ),
            case(
                "device: only what its file says",
                "dev-sda.device",
                "[Unit]\nWants=x.service\n",
                vec![(Wants, "x.service")],
                &[],
            ),
        ]
    }

    impl Case {
        fn on(self, host: Host) -> Case {
            Case { host, ..self }
        }
    }

    #[test]
    fn dependencies_of_each_unit_type() {
        for c in cases() {
            let (name, config) = load(c.name, c.text);
            assert_eq!(
                dependencies_on(&name, &config, &c.host),
                edges(&c.expected),
                "{}",
                c.what
            );
            assert_eq!(mount_paths(&name, &config), c.mount_paths, "{}", c.what);
        }
    }

    #[test]
    fn dependencies_assumes_an_ordinary_host() {
        let (name, config) = load("dev-sdc1.swap", "[Swap]\nWhat=/dev/sdc1\n");
        assert_eq!(
            dependencies(&name, &config),
            dependencies_on(&name, &config, &Host::default())
        );
    }

    #[test]
    fn parent_slice_follows_the_dashes() {
        let table = [
            ("-.slice", None),
            ("a.slice", Some("-.slice")),
            ("a-b.slice", Some("a.slice")),
            ("a-b-c.slice", Some("a-b.slice")),
            ("system-getty.slice", Some("system.slice")),
            ("a.service", None),
        ];
        for (slice, parent) in table {
            assert_eq!(parent_slice(slice).as_deref(), parent, "{slice}");
        }
    }

    #[test]
    fn mount_units_for_path_walk_up_to_the_root() {
        let table: [(&str, &[&str]); 5] = [
            ("/", &["-.mount"]),
            ("/a", &["a.mount", "-.mount"]),
            ("//a/./b/", &["a-b.mount", "a.mount", "-.mount"]),
            (
                "/var/lib/x-y",
                &[
                    "var-lib-x\\x2dy.mount",
                    "var-lib.mount",
                    "var.mount",
                    "-.mount",
                ],
            ),
            ("relative/path", &[]),
        ];
        for (path, units) in table {
            assert_eq!(mount_units_for_path(path), units, "{path}");
        }
    }

    /// Oracle rm.service (`RequiresMountsFor=/srv/loc/x`): `After=` and `Requires=` on
    /// srv-loc.mount, which has a unit file; only `After=` on `-.mount`, which came from
    /// /proc/self/mountinfo; nothing on the absent srv-loc-x.mount and srv.mount.
    #[test]
    fn requires_mounts_for_links_only_to_existing_mount_units() {
        let paths = vec!["/srv/loc/x".to_string(), "/srv/loc".to_string()];
        let mounts = |m: &str| match m {
            "srv-loc.mount" => MountUnit::Loaded { fragment: true },
            "-.mount" => MountUnit::Loaded { fragment: false },
            _ => MountUnit::Absent,
        };
        assert_eq!(
            mount_dependencies("rm.service", &paths, mounts),
            edges(&[
                (After, "srv-loc.mount"),
                (Requires, "srv-loc.mount"),
                (After, "-.mount"),
            ])
        );
        // A mount unit never depends on itself.
        assert_eq!(
            mount_dependencies("srv-loc.mount", &paths, mounts),
            edges(&[(After, "-.mount")])
        );
    }

    /// Oracle t.target: After= on what it wants, requires, requisites and upholds, but not
    /// on nd.service (DefaultDependencies=no), bt.service (the target is Before= it) or
    /// p.service (PartOf=).
    #[test]
    fn target_is_ordered_after_what_it_pulls_in() {
        let (name, config) = load(
            "t.target",
            "[Unit]\nWants=a.service nd.service x.target\nRequires=b.socket\n\
             PartOf=p.service\nBindsTo=bt.service\nRequisite=rq.service\n\
             Upholds=up.service\nBefore=bt.service\nWants=tm.timer gone.service \
             loop.service\n",
        );
        let peer = |n: &str| match n {
            "gone.service" => None,
            "nd.service" => Some(Peer {
                default_dependencies: false,
                after_target: false,
            }),
            "loop.service" => Some(Peer {
                default_dependencies: true,
                after_target: true,
            }),
            _ => Some(Peer {
                default_dependencies: true,
                after_target: false,
            }),
        };
        assert_eq!(
            target_ordering(&name, &config, peer),
            edges(&[
                (After, "b.socket"),
                (After, "rq.service"),
                (After, "a.service"),
                (After, "tm.timer"),
                (After, "x.target"),
                (After, "up.service"),
            ])
        );
    }

    #[test]
    fn target_ordering_needs_default_dependencies_on_the_target() {
        let every = |_: &str| {
            Some(Peer {
                default_dependencies: true,
                after_target: false,
            })
        };
        let (name, config) = load(
            "n.target",
            "[Unit]\nDefaultDependencies=no\nWants=a.service\n",
        );
        assert_eq!(target_ordering(&name, &config, every), vec![]);
        // Only targets get this ordering.
        let (name, config) = load(
            "s.service",
            "[Unit]\nWants=a.service\n[Service]\nExecStart=/x\n",
        );
        assert_eq!(target_ordering(&name, &config, every), vec![]);
    }

    #[test]
    fn mount_options_are_matched_whole_and_escapes_respected() {
        let table: [(&str, &[&str], bool); 7] = [
            ("ro,_netdev", &["_netdev"], true),
            ("ro,_netdevx", &["_netdev"], false),
            (
                "x-systemd.device-bound=yes",
                &["x-systemd.device-bound"],
                true,
            ),
            ("a\\,_netdev", &["_netdev"], false),
            ("", &["bind"], false),
            ("rbind", &["bind", "rbind"], true),
            ("nofail,fail", &["nofail"], true),
        ];
        for (options, names, expected) in table {
            assert_eq!(has_option(Some(options), names), expected, "{options}");
        }
        assert_eq!(
            last_option(Some("nofail,fail"), &["nofail", "fail"]),
            Some("fail")
        );
        assert_eq!(
            last_option(Some("fail,nofail"), &["nofail", "fail"]),
            Some("nofail")
        );
    }
}
