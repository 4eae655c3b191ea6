//! The type-specific sections other than `[Service]`: `[Socket]` (systemd.socket(5)),
//! `[Mount]`, `[Automount]`, `[Swap]`, `[Timer]`, `[Path]`, `[Slice]` and `[Scope]`.

use super::cx::{absolute_path, Cx};
use super::exec::{apply_contexts, secs, CgroupContext, ExecContext, KillContext};
use super::service::{OomPolicy, OOM_POLICIES};
use super::sparse::Sparse;
use super::unit::parse_u32;
use crate::calendar::{self, CalendarSpec};
use crate::diag::ValueError;
use crate::exec::ExecCommand;
use crate::name::{self, UnitName};
use crate::syntax::Assignment;
use crate::value::{self, Usec};
use crate::words::{extract_first_word, ExtractFlags, WHITESPACE};
use std::net::{IpAddr, SocketAddr};

/// Where a socket listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketAddress {
    /// A file-system `AF_UNIX` socket.
    Unix(String),
    /// An abstract-namespace `AF_UNIX` socket (`@name`).
    Abstract(String),
    /// A port on every address (IPv6 and IPv4 unless `BindIPv6Only=`).
    Port(u16),
    /// An address and port.
    Inet(SocketAddr),
    /// `vsock:CID:PORT`.
    Vsock { cid: Option<u32>, port: u32 },
}

/// Parses a `ListenStream=`/`ListenDatagram=`/`ListenSequentialPacket=` address.
pub fn parse_socket_address(s: &str) -> Result<SocketAddress, ValueError> {
    if s.starts_with('/') {
        return Ok(SocketAddress::Unix(absolute_path(s)?));
    }
    if let Some(name) = s.strip_prefix('@') {
        return Ok(SocketAddress::Abstract(name.to_string()));
    }
    if let Some(rest) = s.strip_prefix("vsock:") {
        let (cid, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| ValueError::new("expected vsock:CID:PORT"))?;
        let port = port
            .parse::<u32>()
            .map_err(|_| ValueError::new(format!("invalid vsock port '{port}'")))?;
        let cid = match cid {
            "" => None,
            c => Some(
                c.parse::<u32>()
                    .map_err(|_| ValueError::new(format!("invalid vsock CID '{c}'")))?,
            ),
        };
        return Ok(SocketAddress::Vsock { cid, port });
    }
    if let Ok(port) = s.parse::<u16>() {
        if port == 0 {
            return Err(ValueError::new("port 0 is not allowed"));
        }
        return Ok(SocketAddress::Port(port));
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(SocketAddress::Inet(addr));
    }
    // A bare address without a port is a common mistake: say so.
    if s.parse::<IpAddr>().is_ok() {
        return Err(ValueError::new(format!("'{s}' has no port")));
    }
    Err(ValueError::new(format!(
        "'{s}' is not a path, @abstract name, port, ADDRESS:PORT or vsock:CID:PORT"
    )))
}

/// The netlink families systemd 252 knows by name, with their protocol numbers. Others
/// (`usersock`, `crypto`, `smc` ...) can only be given as numbers.
const NETLINK_FAMILIES: &[(&str, u32)] = &[
    ("route", 0),
    ("firewall", 3),
    ("inet-diag", 4),
    ("nflog", 5),
    ("xfrm", 6),
    ("selinux", 7),
    ("iscsi", 8),
    ("audit", 9),
    ("fib-lookup", 10),
    ("connector", 11),
    ("netfilter", 12),
    ("ip6-fw", 13),
    ("dnrtmsg", 14),
    ("kobject-uevent", 15),
    ("generic", 16),
    ("scsitransport", 18),
    ("ecryptfs", 19),
    ("rdma", 20),
];

/// Parses `ListenNetlink=FAMILY [GROUP]`: a family name systemd knows (`route`, `audit` ...,
/// exact case) or a number up to `i32::MAX`, then an optional unsigned group number. Both
/// numbers are read like C integers (`0x10`, `+3`), and a backslash makes the next character
/// literal, as in systemd 252.
pub fn parse_netlink(s: &str) -> Result<Listen, ValueError> {
    let (word, rest) = extract_first_word(s, WHITESPACE, ExtractFlags::NONE)?
        .ok_or_else(|| ValueError::new("expected a netlink family"))?;
    let family = match NETLINK_FAMILIES.iter().find(|(name, _)| *name == word) {
        Some((_, n)) => *n,
        None => value::parse_unsigned(&word)
            .ok()
            .filter(|n| i32::try_from(*n).is_ok())
            .ok_or_else(|| {
                let names: Vec<&str> = NETLINK_FAMILIES.iter().map(|(n, _)| *n).collect();
                ValueError::new(format!(
                    "unknown netlink family '{word}', expected a number or one of: {}",
                    names.join(", ")
                ))
            })?,
    };
    let group = match rest {
        "" => 0,
        g => value::parse_unsigned(g)
            .map_err(|_| ValueError::new(format!("invalid netlink group '{g}'")))?,
    };
    Ok(Listen::Netlink { family, group })
}

/// One `Listen*=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Stream(SocketAddress),
    Datagram(SocketAddress),
    SequentialPacket(SocketAddress),
    Fifo(String),
    Special(String),
    /// `ListenNetlink=FAMILY [GROUP]`: the netlink protocol number and multicast group.
    Netlink {
        family: u32,
        group: u32,
    },
    MessageQueue(String),
    UsbFunction(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Socket {
    pub listen: Vec<Listen>,
    pub accept: Option<bool>,
    pub service: Option<String>,
    pub max_connections: Option<u32>,
    pub max_connections_per_source: Option<u32>,
    pub backlog: Option<u32>,
    pub bind_ipv6_only: Option<String>,
    pub bind_to_device: Option<String>,
    pub socket_user: Option<String>,
    pub socket_group: Option<String>,
    pub socket_mode: Option<u32>,
    pub directory_mode: Option<u32>,
    pub remove_on_stop: Option<bool>,
    pub symlinks: Vec<String>,
    pub file_descriptor_name: Option<String>,
    pub pass_credentials: Option<bool>,
    pub pass_security: Option<bool>,
    pub keep_alive: Option<bool>,
    pub no_delay: Option<bool>,
    pub reuse_port: Option<bool>,
    pub free_bind: Option<bool>,
    pub writable: Option<bool>,
    pub receive_buffer: Option<u64>,
    pub send_buffer: Option<u64>,
    pub trigger_limit_interval_sec: Option<Usec>,
    pub trigger_limit_burst: Option<u32>,
    pub timeout_sec: Option<Usec>,
    pub exec_start_pre: Vec<ExecCommand>,
    pub exec_start_post: Vec<ExecCommand>,
    pub exec_stop_pre: Vec<ExecCommand>,
    pub exec_stop_post: Vec<ExecCommand>,
    /// Allocated only when an exec setting is given ([`Sparse`]).
    pub exec: Sparse<ExecContext>,
    pub kill: KillContext,
    /// Allocated only when a resource-control setting is given ([`Sparse`]).
    pub cgroup: Sparse<CgroupContext>,
}

fn fd_name(s: &str) -> Result<String, ValueError> {
    // sd_listen_fds_with_names(3): printable ASCII without ':' and at most 255 bytes.
    if s.len() > 255 || s.bytes().any(|b| !(0x21..0x7f).contains(&b) || b == b':') {
        return Err(ValueError::new(
            "a file descriptor name is up to 255 printable characters without ':'",
        ));
    }
    Ok(s.to_string())
}

impl Socket {
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        let l = &mut self.listen;
        match a.key.as_str() {
            // An empty Listen*= line resets all listeners, of every kind.
            "ListenStream" => {
                cx.push_expanded(l, a, |s| parse_socket_address(s).map(Listen::Stream))
            }
            "ListenDatagram" => {
                cx.push_expanded(l, a, |s| parse_socket_address(s).map(Listen::Datagram))
            }
            "ListenSequentialPacket" => cx.push_expanded(l, a, |s| {
                parse_socket_address(s).map(Listen::SequentialPacket)
            }),
            "ListenFIFO" => cx.push_expanded(l, a, |s| absolute_path(s).map(Listen::Fifo)),
            "ListenSpecial" => cx.push_expanded(l, a, |s| absolute_path(s).map(Listen::Special)),
            "ListenNetlink" => cx.push_expanded(l, a, parse_netlink),
            "ListenMessageQueue" => {
                cx.push_expanded(l, a, |s| Ok(Listen::MessageQueue(s.to_string())))
            }
            "ListenUSBFunction" => {
                cx.push_expanded(l, a, |s| absolute_path(s).map(Listen::UsbFunction))
            }
            "Accept" => cx.bool(&mut self.accept, a),
            "Service" => cx.scalar_expanded(&mut self.service, a, |s| {
                let n = UnitName::parse(s)?;
                if n.unit_type() != name::UnitType::Service || n.is_template() {
                    return Err(ValueError::new("expected a non-template service unit name"));
                }
                Ok(s.to_string())
            }),
            "MaxConnections" => cx.scalar(&mut self.max_connections, a, parse_u32),
            "MaxConnectionsPerSource" => {
                cx.scalar(&mut self.max_connections_per_source, a, parse_u32)
            }
            "Backlog" => cx.scalar(&mut self.backlog, a, parse_u32),
            "BindIPv6Only" => cx.scalar(&mut self.bind_ipv6_only, a, |s| {
                super::cx::lookup_choice(s, &[("default", ()), ("both", ()), ("ipv6-only", ())])
                    .map(|()| s.to_string())
            }),
            "BindToDevice" => cx.string(&mut self.bind_to_device, a),
            "SocketUser" => cx.string(&mut self.socket_user, a),
            "SocketGroup" => cx.string(&mut self.socket_group, a),
            "SocketMode" => cx.scalar(&mut self.socket_mode, a, value::parse_mode),
            "DirectoryMode" => cx.scalar(&mut self.directory_mode, a, value::parse_mode),
            "RemoveOnStop" => cx.bool(&mut self.remove_on_stop, a),
            "Symlinks" => cx.paths(&mut self.symlinks, a),
            "FileDescriptorName" => {
                cx.resettable_expanded(&mut self.file_descriptor_name, a, fd_name)
            }
            "PassCredentials" => cx.bool(&mut self.pass_credentials, a),
            "PassSecurity" => cx.bool(&mut self.pass_security, a),
            "KeepAlive" => cx.bool(&mut self.keep_alive, a),
            "NoDelay" => cx.bool(&mut self.no_delay, a),
            "ReusePort" => cx.bool(&mut self.reuse_port, a),
            "FreeBind" => cx.bool(&mut self.free_bind, a),
            "Writable" => cx.bool(&mut self.writable, a),
            "ReceiveBuffer" => {
                cx.scalar(&mut self.receive_buffer, a, |s| value::parse_size(s, 1024))
            }
            "SendBuffer" => cx.scalar(&mut self.send_buffer, a, |s| value::parse_size(s, 1024)),
            "TriggerLimitIntervalSec" => cx.secs(&mut self.trigger_limit_interval_sec, a),
            "TriggerLimitBurst" => cx.scalar(&mut self.trigger_limit_burst, a, parse_u32),
            "TimeoutSec" => cx.secs(&mut self.timeout_sec, a),
            "ExecStartPre" => cx.exec(&mut self.exec_start_pre, a),
            "ExecStartPost" => cx.exec(&mut self.exec_start_post, a),
            "ExecStopPre" => cx.exec(&mut self.exec_stop_pre, a),
            "ExecStopPost" => cx.exec(&mut self.exec_stop_post, a),
            _ => {
                return apply_contexts(
                    a,
                    cx,
                    Some(&mut self.exec),
                    Some(&mut self.kill),
                    Some(&mut self.cgroup),
                )
            }
        }
        true
    }

    pub(crate) fn verify(&self) -> Option<String> {
        if self.listen.is_empty() {
            return Some("socket unit has no Listen*= setting".to_string());
        }
        if self.accept == Some(true) {
            if self.service.is_some() {
                return Some("Service= is not supported for Accept=yes sockets".to_string());
            }
            let accepting = self
                .listen
                .iter()
                .all(|l| matches!(l, Listen::Stream(_) | Listen::SequentialPacket(_)));
            if !accepting {
                return Some(
                    "Accept=yes needs stream or sequential-packet listeners only".to_string(),
                );
            }
        }
        None
    }
}

/// Applies `Where=`-style paths and checks they match the unit name later.
fn where_matches(name: &UnitName, where_: &Option<String>) -> Option<String> {
    let Some(w) = where_ else {
        return None;
    };
    match name::unit_name_to_path(name) {
        Ok(p) if p == *w => None,
        _ => Some(format!("Where={w} does not match the unit name {name}")),
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mount {
    pub what: Option<String>,
    pub where_: Option<String>,
    pub fs_type: Option<String>,
    pub options: Option<String>,
    pub sloppy_options: Option<bool>,
    pub lazy_unmount: Option<bool>,
    pub read_write_only: Option<bool>,
    pub force_unmount: Option<bool>,
    pub directory_mode: Option<u32>,
    pub timeout_sec: Option<Usec>,
    /// Allocated only when an exec setting is given ([`Sparse`]).
    pub exec: Sparse<ExecContext>,
    pub kill: KillContext,
    /// Allocated only when a resource-control setting is given ([`Sparse`]).
    pub cgroup: Sparse<CgroupContext>,
}

impl Mount {
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        match a.key.as_str() {
            "What" => cx.string(&mut self.what, a),
            "Where" => cx.path(&mut self.where_, a),
            "Type" => cx.string(&mut self.fs_type, a),
            "Options" => cx.string(&mut self.options, a),
            "SloppyOptions" => cx.bool(&mut self.sloppy_options, a),
            "LazyUnmount" => cx.bool(&mut self.lazy_unmount, a),
            "ReadWriteOnly" => cx.bool(&mut self.read_write_only, a),
            "ForceUnmount" => cx.bool(&mut self.force_unmount, a),
            "DirectoryMode" => cx.scalar(&mut self.directory_mode, a, value::parse_mode),
            "TimeoutSec" => cx.secs(&mut self.timeout_sec, a),
            _ => {
                return apply_contexts(
                    a,
                    cx,
                    Some(&mut self.exec),
                    Some(&mut self.kill),
                    Some(&mut self.cgroup),
                )
            }
        }
        true
    }

    pub(crate) fn verify(&self, name: &UnitName) -> Option<String> {
        if let Some(problem) = where_matches(name, &self.where_) {
            return Some(problem);
        }
        if self.what.is_none() {
            return Some("mount unit has no What= setting".to_string());
        }
        None
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Automount {
    pub where_: Option<String>,
    pub extra_options: Option<String>,
    pub directory_mode: Option<u32>,
    pub timeout_idle_sec: Option<Usec>,
}

impl Automount {
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        match a.key.as_str() {
            "Where" => cx.path(&mut self.where_, a),
            "ExtraOptions" => cx.string(&mut self.extra_options, a),
            "DirectoryMode" => cx.scalar(&mut self.directory_mode, a, value::parse_mode),
            "TimeoutIdleSec" => cx.secs(&mut self.timeout_idle_sec, a),
            _ => return false,
        }
        true
    }

    pub(crate) fn verify(&self, name: &UnitName) -> Option<String> {
        where_matches(name, &self.where_)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Swap {
    pub what: Option<String>,
    pub priority: Option<i32>,
    pub options: Option<String>,
    pub timeout_sec: Option<Usec>,
    /// Allocated only when an exec setting is given ([`Sparse`]).
    pub exec: Sparse<ExecContext>,
    pub kill: KillContext,
    /// Allocated only when a resource-control setting is given ([`Sparse`]).
    pub cgroup: Sparse<CgroupContext>,
}

impl Swap {
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        match a.key.as_str() {
            "What" => cx.path(&mut self.what, a),
            "Priority" => cx.scalar(&mut self.priority, a, |s| {
                s.parse::<i32>()
                    .ok()
                    .filter(|p| (-1..=32767).contains(p))
                    .ok_or_else(|| ValueError::new("expected a priority in -1..32767"))
            }),
            "Options" => cx.string(&mut self.options, a),
            "TimeoutSec" => cx.secs(&mut self.timeout_sec, a),
            _ => {
                return apply_contexts(
                    a,
                    cx,
                    Some(&mut self.exec),
                    Some(&mut self.kill),
                    Some(&mut self.cgroup),
                )
            }
        }
        true
    }

    pub(crate) fn verify(&self) -> Option<String> {
        self.what
            .is_none()
            .then(|| "swap unit has no What= setting".to_string())
    }
}

/// One monotonic timer trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerBase {
    Active,
    Boot,
    Startup,
    UnitActive,
    UnitInactive,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timer {
    pub monotonic: Vec<(TimerBase, Usec)>,
    pub calendar: Vec<CalendarSpec>,
    pub accuracy_sec: Option<Usec>,
    pub randomized_delay_sec: Option<Usec>,
    pub fixed_random_delay: Option<bool>,
    pub persistent: Option<bool>,
    pub wake_system: Option<bool>,
    pub remain_after_elapse: Option<bool>,
    pub on_clock_change: Option<bool>,
    pub on_timezone_change: Option<bool>,
    pub unit: Option<String>,
}

impl Timer {
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        let base = match a.key.as_str() {
            "OnActiveSec" => Some(TimerBase::Active),
            "OnBootSec" => Some(TimerBase::Boot),
            "OnStartupSec" => Some(TimerBase::Startup),
            "OnUnitActiveSec" => Some(TimerBase::UnitActive),
            "OnUnitInactiveSec" => Some(TimerBase::UnitInactive),
            _ => None,
        };
        // systemd.timer(5): an empty On*= assignment resets the list of all triggers.
        let reset = a.value.is_empty();
        if let Some(base) = base {
            if reset {
                self.reset_triggers();
            } else {
                match secs(&a.value) {
                    Ok(v) => self.monotonic.push((base, v)),
                    Err(e) => cx.error(a, format!("invalid {}={}: {e}; ignoring", a.key, a.value)),
                }
            }
            return true;
        }
        match a.key.as_str() {
            "OnCalendar" if reset => self.reset_triggers(),
            "OnCalendar" => cx.push_expanded(&mut self.calendar, a, calendar::parse_calendar),
            "AccuracySec" => cx.secs(&mut self.accuracy_sec, a),
            "RandomizedDelaySec" => cx.secs(&mut self.randomized_delay_sec, a),
            "FixedRandomDelay" => cx.bool(&mut self.fixed_random_delay, a),
            "Persistent" => cx.bool(&mut self.persistent, a),
            "WakeSystem" => cx.bool(&mut self.wake_system, a),
            "RemainAfterElapse" => cx.bool(&mut self.remain_after_elapse, a),
            "OnClockChange" => cx.bool(&mut self.on_clock_change, a),
            "OnTimezoneChange" => cx.bool(&mut self.on_timezone_change, a),
            "Unit" => cx.scalar_expanded(&mut self.unit, a, triggered_unit),
            _ => return false,
        }
        true
    }

    fn reset_triggers(&mut self) {
        self.monotonic.clear();
        self.calendar.clear();
    }

    pub(crate) fn verify(&self) -> Option<String> {
        let no_trigger = self.monotonic.is_empty()
            && self.calendar.is_empty()
            && self.on_clock_change != Some(true)
            && self.on_timezone_change != Some(true);
        no_trigger.then(|| "timer unit has no trigger (On*= setting)".to_string())
    }
}

/// `Unit=` of timers and paths: a unit that is not a timer or path itself.
fn triggered_unit(s: &str) -> Result<String, ValueError> {
    // systemd 252 accepts a template here at load time; starting it fails later.
    UnitName::parse(s).map(|_| s.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Exists,
    ExistsGlob,
    Changed,
    Modified,
    DirectoryNotEmpty,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathUnit {
    pub paths: Vec<(PathKind, String)>,
    pub unit: Option<String>,
    pub make_directory: Option<bool>,
    pub directory_mode: Option<u32>,
    pub trigger_limit_interval_sec: Option<Usec>,
    pub trigger_limit_burst: Option<u32>,
}

impl PathUnit {
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        let kind = match a.key.as_str() {
            "PathExists" => Some(PathKind::Exists),
            "PathExistsGlob" => Some(PathKind::ExistsGlob),
            "PathChanged" => Some(PathKind::Changed),
            "PathModified" => Some(PathKind::Modified),
            "DirectoryNotEmpty" => Some(PathKind::DirectoryNotEmpty),
            _ => None,
        };
        if let Some(kind) = kind {
            // An empty assignment resets the list of all watched paths.
            cx.push_expanded(&mut self.paths, a, |s| absolute_path(s).map(|p| (kind, p)));
            return true;
        }
        match a.key.as_str() {
            "Unit" => cx.scalar_expanded(&mut self.unit, a, triggered_unit),
            "MakeDirectory" => cx.bool(&mut self.make_directory, a),
            "DirectoryMode" => cx.scalar(&mut self.directory_mode, a, value::parse_mode),
            "TriggerLimitIntervalSec" => cx.secs(&mut self.trigger_limit_interval_sec, a),
            "TriggerLimitBurst" => cx.scalar(&mut self.trigger_limit_burst, a, parse_u32),
            _ => return false,
        }
        true
    }

    pub(crate) fn verify(&self) -> Option<String> {
        self.paths
            .is_empty()
            .then(|| "path unit has no Path*= or DirectoryNotEmpty= setting".to_string())
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slice {
    /// Allocated only when a resource-control setting is given ([`Sparse`]).
    pub cgroup: Sparse<CgroupContext>,
}

impl Slice {
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        // A slice cannot itself be placed in a slice: its parent follows from its name.
        a.key != "Slice" && apply_contexts(a, cx, None, None, Some(&mut self.cgroup))
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    pub runtime_max_sec: Option<Usec>,
    pub timeout_stop_sec: Option<Usec>,
    pub oom_policy: Option<OomPolicy>,
    pub kill: KillContext,
    /// Allocated only when a resource-control setting is given ([`Sparse`]).
    pub cgroup: Sparse<CgroupContext>,
}

impl Scope {
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        match a.key.as_str() {
            "RuntimeMaxSec" => cx.secs(&mut self.runtime_max_sec, a),
            "TimeoutStopSec" => cx.secs(&mut self.timeout_stop_sec, a),
            "OOMPolicy" => cx.choice(&mut self.oom_policy, a, OOM_POLICIES),
            _ => return apply_contexts(a, cx, None, Some(&mut self.kill), Some(&mut self.cgroup)),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_addresses() {
        use SocketAddress::*;
        let ok = [
            (
                "/run/dbus/system_bus_socket",
                Unix("/run/dbus/system_bus_socket".into()),
            ),
            ("@/org/kernel/x", Abstract("/org/kernel/x".into())),
            ("22", Port(22)),
            ("127.0.0.1:631", Inet("127.0.0.1:631".parse().unwrap())),
            ("[::1]:631", Inet("[::1]:631".parse().unwrap())),
            (
                "vsock:2:1234",
                Vsock {
                    cid: Some(2),
                    port: 1234,
                },
            ),
            (
                "vsock::1234",
                Vsock {
                    cid: None,
                    port: 1234,
                },
            ),
        ];
        for (input, want) in ok {
            assert_eq!(parse_socket_address(input), Ok(want), "{input}");
        }
        for bad in ["0", "127.0.0.1", "foo", "70000", "run/x", "vsock:x:1"] {
            assert!(parse_socket_address(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn netlink() {
        // Accepted silently by `systemd-analyze verify` (in a socket with ListenStream=).
        for (input, family, group) in [
            ("route", 0, 0),
            ("route 1", 0, 1),
            ("kobject-uevent 1", 15, 1),
            ("audit  5", 9, 5),
            ("rdma 0x10", 20, 16),
            ("route +1", 0, 1),
            ("route -0", 0, 0),
            ("route 0b11", 0, 3),
            ("route 4294967295", 0, u32::MAX),
            ("0", 0, 0),
            ("16 3", 16, 3),
            ("010 1", 8, 1),
            ("-0 1", 0, 1),
            ("2147483647", i32::MAX as u32, 0),
            ("rou\\te 5", 0, 5),
        ] {
            assert_eq!(
                parse_netlink(input),
                Ok(Listen::Netlink { family, group }),
                "{input}"
            );
        }
        // "Failed to parse address value in 'bogus 1', ignoring".
        for bad in [
            "bogus 1",
            "ROUTE",
            "crypto 1",
            "usersock",
            "sock_diag 1",
            "\"route\" 1",
            "2147483648 1",
            "-1 1",
            "route -1",
            "route x",
            "route 1 2",
            "route 08",
            "route 4294967296",
            "route\\t5",
            "route 5\\x",
            "",
        ] {
            assert!(parse_netlink(bad).is_err(), "{bad} must be refused");
        }
    }
}
