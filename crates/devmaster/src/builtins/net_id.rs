//! The `net_id` builtin: the properties behind predictable network interface names, as
//! systemd 252's `udev-builtin-net_id.c` computes them and systemd.net-naming-scheme(7)
//! documents them.
//!
//! For an Ethernet (`en`), InfiniBand (`ib`), SLIP (`sl`), WLAN (`wl`) or WWAN (`ww`)
//! interface that is not stacked on another (`ifindex == iflink`) it sets
//! `ID_NET_NAMING_SCHEME`, `ID_NET_NAME_MAC` (permanent 6-byte addresses only) with the
//! hwdb's `OUI:` properties when a hwdb is given, and the first of these that fits the
//! device's bus: devicetree aliases (`ID_NET_NAME_ONBOARD=en d<N>`), s390 CCW
//! (`ID_NET_NAME_PATH=enc<busid>`), POWER vio (`ID_NET_NAME_SLOT=env<slot>`), ACPI platform
//! devices (`ID_NET_NAME_PATH=ena<vendor><model>i<instance>`), netdevsim, Xen netfront
//! (`ID_NET_NAME_SLOT=enX<n>`), then PCI: `ID_NET_NAME_ONBOARD` from `acpi_index`/`index`,
//! `ID_NET_LABEL_ONBOARD` from `label`, `ID_NET_NAME_PATH` (`P<domain>p<bus>s<slot>f<fn>`
//! with `n<phys_port_name>` or `d<dev_port>`), `ID_NET_NAME_SLOT` from the hotplug slots of
//! `/sys/bus/pci/slots` (or s390 `function_id`), with SR-IOV virtual functions named after
//! their physical function plus `v<N>`, virtio buses skipped, and USB (`u<port>...c<cfg>i<if>`)
//! or BCMA (`b<core>`) suffixes after the PCI part.
//!
//! Every scheme from v238 to v252 is known; the scheme comes from `net.naming-scheme=` on
//! the kernel command line and `NET_NAMING_SCHEME` in the environment as udevd takes them
//! (a leading `:` in the variable lets the command line win), v252 otherwise. Left out:
//! EFI `SystemdOptions` as a command line source and the build-time extra scheme map.

use super::hwdb::Hwdb;
use super::{Output, System};
use crate::rules::subst::Device;

/// Naming scheme feature flags (systemd 252's `NamingSchemeFlags`).
pub mod flags {
    /// `v` suffix for SR-IOV virtual functions.
    pub const SR_IOV_V: u32 = 1 << 0;
    /// Functions of ARI devices numbered with the slot bits.
    pub const NPAR_ARI: u32 = 1 << 1;
    /// `ib` prefix for InfiniBand.
    pub const INFINIBAND: u32 = 1 << 2;
    /// An `acpi_index` of 0 is valid.
    pub const ZERO_ACPI_INDEX: u32 = 1 << 3;
    /// Interfaces already renamed may be renamed again.
    pub const ALLOW_RERENAMES: u32 = 1 << 4;
    /// Persistent MACs of virtual devices hashed from the interface name.
    pub const STABLE_VIRTUAL_MACS: u32 = 1 << 5;
    /// Names for netdevsim devices.
    pub const NETDEVSIM: u32 = 1 << 6;
    /// `ID_NET_LABEL_ONBOARD` without the type prefix.
    pub const LABEL_NOPREFIX: u32 = 1 << 7;
    /// nspawn host-side names with a hash (not used by udev).
    pub const NSPAWN_LONG_HASH: u32 = 1 << 8;
    /// No slot name from a hotplug slot that belongs to a PCI bridge.
    pub const BRIDGE_NO_SLOT: u32 = 1 << 9;
    /// s390 `function_id` identifies the hotplug slot.
    pub const SLOT_FUNCTION_ID: u32 = 1 << 10;
    /// Onboard indexes up to 65535.
    pub const INDEX_16BIT: u32 = 1 << 11;
    /// `NAME=` replaces invalid characters strictly.
    pub const REPLACE_STRICTLY: u32 = 1 << 12;
    /// Names for Xen netfront interfaces.
    pub const XEN_VIF: u32 = 1 << 13;
    /// A bridge's hotplug slot is used for multi-function devices behind it.
    pub const BRIDGE_MULTIFUNCTION_SLOT: u32 = 1 << 14;
    /// Names from devicetree `ethernet` aliases.
    pub const DEVICETREE_ALIASES: u32 = 1 << 15;
}

const V239: u32 = flags::SR_IOV_V | flags::NPAR_ARI;
const V240: u32 = V239 | flags::INFINIBAND | flags::ZERO_ACPI_INDEX | flags::ALLOW_RERENAMES;
const V241: u32 = V240 | flags::STABLE_VIRTUAL_MACS;
const V243: u32 = V241 | flags::NETDEVSIM | flags::LABEL_NOPREFIX;
const V245: u32 = V243 | flags::NSPAWN_LONG_HASH;
const V247: u32 = V245 | flags::BRIDGE_NO_SLOT;
const V249: u32 = V247 | flags::SLOT_FUNCTION_ID | flags::INDEX_16BIT | flags::REPLACE_STRICTLY;
const V250: u32 = V249 | flags::XEN_VIF;
const V251: u32 = V250 | flags::BRIDGE_MULTIFUNCTION_SLOT;
const V252: u32 = V251 | flags::DEVICETREE_ALIASES;

const SCHEMES: [(&str, u32); 11] = [
    ("v238", 0),
    ("v239", V239),
    ("v240", V240),
    ("v241", V241),
    ("v243", V243),
    ("v245", V245),
    ("v247", V247),
    ("v249", V249),
    ("v250", V250),
    ("v251", V251),
    ("v252", V252),
];

/// A naming scheme: its name and feature flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    /// `v252`, ...
    pub name: &'static str,
    /// The [`flags`] it implements.
    pub flags: u32,
}

impl Default for Scheme {
    /// v252, the default of systemd 252.
    fn default() -> Self {
        Scheme {
            name: "v252",
            flags: V252,
        }
    }
}

impl Scheme {
    /// The scheme called `name`; `latest` is the newest.
    pub fn by_name(name: &str) -> Option<Scheme> {
        let name = if name == "latest" { "v252" } else { name };
        SCHEMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(name, flags)| Scheme { name, flags })
    }

    /// Whether every flag of `f` is in the scheme.
    pub fn has(&self, f: u32) -> bool {
        self.flags & f == f
    }

    /// The scheme udevd would use, from the kernel command line's `net.naming-scheme=` and
    /// the `NET_NAMING_SCHEME` environment variable (which wins unless it starts with `:`).
    /// An unknown name gives the default and a warning.
    pub fn select(cmdline: Option<&str>, env: Option<&str>) -> (Scheme, Option<String>) {
        let from_cmdline = cmdline.and_then(|c| cmdline_get(c, "net.naming-scheme").flatten());
        let wanted = match env {
            Some(e) => match e.strip_prefix(':') {
                Some(rest) => from_cmdline.or_else(|| Some(rest.to_string())),
                None => Some(e.to_string()),
            },
            None => from_cmdline,
        };
        match wanted {
            Some(w) => match Scheme::by_name(&w) {
                Some(s) => (s, None),
                None => (
                    Scheme::default(),
                    Some(format!(
                        "Unknown interface naming scheme '{w}' requested, ignoring."
                    )),
                ),
            },
            None => (Scheme::default(), None),
        }
    }

    /// The scheme from `/proc/cmdline` (read through `system`) and this process's
    /// `NET_NAMING_SCHEME`.
    pub fn from_system(system: &dyn System) -> (Scheme, Option<String>) {
        let cmdline = system
            .read("/proc/cmdline")
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let env = std::env::var("NET_NAMING_SCHEME").ok();
        Scheme::select(cmdline.as_deref(), env.as_deref())
    }
}

/// The value of `key` on a kernel command line, the last occurrence winning: `Some(None)`
/// for a bare `key`, `Some(Some(value))` for `key=value`. `-` and `_` in key names are
/// equivalent, as systemd compares them; words may be quoted.
pub fn cmdline_get(cmdline: &str, key: &str) -> Option<Option<String>> {
    let norm = |s: &str| s.replace('_', "-");
    let key = norm(key);
    let mut found = None;
    for word in cmdline_words(cmdline) {
        let (k, v) = match word.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (word.as_str(), None),
        };
        if norm(k) == key {
            found = Some(v);
        }
    }
    found
}

/// The words of a kernel command line, unquoted.
pub(crate) fn cmdline_get_all(cmdline: &str) -> Vec<String> {
    cmdline_words(cmdline)
}

/// Splits a kernel command line into words: whitespace separates, quotes group and are
/// removed.
fn cmdline_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// `ARPHRD_*` numbers the builtin cares about.
const ARPHRD_ETHER: u32 = 1;
const ARPHRD_INFINIBAND: u32 = 32;
const ARPHRD_SLIP: u32 = 256;
/// Interface names (with their alternative names) must fit in this, NUL included.
const ALTIFNAMSIZ: usize = 128;

/// Parses an unsigned number as `strtoul(s, NULL, 0)` in systemd's `safe_ato*` does:
/// leading blanks, `0x` hex, leading-zero octal, decimal; no sign.
pub(crate) fn parse_auto(s: &str) -> Option<u64> {
    let s = s.trim_start();
    if s.starts_with(['-', '+']) {
        return None;
    }
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (s.get(1..)?, 8)
    } else {
        (s, 10)
    };
    u64::from_str_radix(digits, radix).ok()
}

/// Decimal only (`safe_atolu_full(s, 10, ...)`).
fn parse_dec(s: &str) -> Option<u64> {
    let s = s.trim_start();
    if s.starts_with(['-', '+']) {
        return None;
    }
    s.parse().ok()
}

/// Parses a hardware address as sysfs prints it (`xx:xx:...`); `None` when malformed.
pub(crate) fn parse_sysfs_hwaddr(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() {
        return Some(Vec::new());
    }
    s.split(':')
        .map(|b| {
            if b.is_empty() || b.len() > 2 {
                None
            } else {
                u8::from_str_radix(b, 16).ok()
            }
        })
        .collect()
}

/// The subsystem of a device as the builtins see it.
pub(crate) fn subsystem(d: &dyn Device) -> Option<String> {
    d.property("SUBSYSTEM").or_else(|| d.sysattr("subsystem"))
}

/// The nearest parent (not the device itself) in `subsystem`, with `devtype` if given.
pub(crate) fn parent_with<'a>(
    d: &'a dyn Device,
    subsys: &str,
    devtype: Option<&str>,
) -> Option<&'a dyn Device> {
    let mut p = d.parent();
    while let Some(dev) = p {
        if subsystem(dev).as_deref() == Some(subsys)
            && devtype.is_none_or(|t| dev.property("DEVTYPE").as_deref() == Some(t))
        {
            return Some(dev);
        }
        p = dev.parent();
    }
    None
}

fn syspath(d: &dyn Device) -> String {
    format!("/sys{}", d.devpath())
}

fn last_component(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A sysfs attribute read through `system` as sd-device reads it (trailing newlines off).
fn attr(system: &dyn System, dir: &str, name: &str) -> Option<String> {
    let bytes = system.read(&format!("{dir}/{name}"))?;
    let mut s = String::from_utf8_lossy(&bytes).into_owned();
    while s.ends_with('\n') {
        s.pop();
    }
    Some(s)
}

/// What the builtin reads of the interface itself.
struct LinkInfo {
    iftype: u32,
    devtype: Option<String>,
    phys_port_name: Option<String>,
    hw_addr: Vec<u8>,
}

impl LinkInfo {
    /// `n<phys_port_name>` or `d<dev_port>` (only a non-zero port), the suffix of the PCI
    /// names.
    fn port_suffix(&self, dev_port: u64) -> String {
        match self.phys_port_name.as_deref() {
            Some(p) if !p.is_empty() => format!("n{p}"),
            _ if dev_port > 0 => format!("d{dev_port}"),
            _ => String::new(),
        }
    }
}

/// Runs `net_id` with the scheme udevd would pick ([`Scheme::from_system`]) and no hwdb.
pub fn run(device: &dyn Device, system: &dyn System, args: &[String]) -> Result<Output, String> {
    run_with(device, system, args, Scheme::from_system(system).0, None)
}

/// Runs `net_id` with a given scheme; with a hwdb, `ID_NET_NAME_MAC` is followed by the
/// hwdb's properties for `OUI:<address>` (`ID_OUI_FROM_DATABASE`). Arguments are ignored,
/// as udev ignores them.
pub fn run_with(
    device: &dyn Device,
    system: &dyn System,
    _args: &[String],
    scheme: Scheme,
    hwdb: Option<&Hwdb>,
) -> Result<Output, String> {
    let mut out = Output::default();
    let ifindex = device
        .property("IFINDEX")
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or("no valid IFINDEX")?;
    let int_attr = |name: &str| -> Result<i64, String> {
        device
            .sysattr(name)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .ok_or_else(|| format!("cannot read attribute '{name}'"))
    };
    let iflink = int_attr("iflink")?;
    let iftype = u32::try_from(int_attr("type")?).map_err(|_| "bad 'type' attribute")?;
    let info = LinkInfo {
        iftype,
        devtype: device.property("DEVTYPE"),
        phys_port_name: device.sysattr("phys_port_name"),
        hw_addr: device
            .sysattr("address")
            .and_then(|a| parse_sysfs_hwaddr(&a))
            .unwrap_or_default(),
    };

    // Stacked devices (VLANs, ...) are named after their lower device, not here.
    if ifindex != iflink {
        return Ok(out);
    }
    let mut prefix = match info.iftype {
        ARPHRD_ETHER => "en",
        ARPHRD_INFINIBAND if scheme.has(flags::INFINIBAND) => "ib",
        ARPHRD_SLIP => "sl",
        _ => return Ok(out),
    };
    match info.devtype.as_deref() {
        Some("wlan") => prefix = "wl",
        Some("wwan") => prefix = "ww",
        _ => {}
    }
    out.set("ID_NET_NAMING_SCHEME", scheme.name);

    // Only a name under ALTIFNAMSIZ is set, as udev's snprintf_ok() checks.
    let set = |out: &mut Output, key: &str, value: String| {
        if value.len() < ALTIFNAMSIZ {
            out.set(key, value);
        }
    };

    if mac_is_permanent(device, &info) {
        let hex: String = info.hw_addr.iter().map(|b| format!("{b:02x}")).collect();
        set(&mut out, "ID_NET_NAME_MAC", format!("{prefix}x{hex}"));
        if let (Some(db), [a, b, c, ..]) = (hwdb, info.hw_addr.as_slice()) {
            // The Xerox prefix 00:00:00 is commonly misused; udev skips it.
            if [*a, *b, *c] != [0, 0, 0] {
                let upper: String = info.hw_addr.iter().map(|b| format!("{b:02X}")).collect();
                for (k, v) in db.lookup(&format!("OUI:{upper}")) {
                    out.set(k, v);
                }
            }
        }
    }

    if prefix == "en" && scheme.has(flags::DEVICETREE_ALIASES) {
        if let Some(n) = devicetree_onboard(device, system) {
            set(&mut out, "ID_NET_NAME_ONBOARD", format!("{prefix}{n}"));
        }
    }
    if let Some(n) = names_ccw(device) {
        set(&mut out, "ID_NET_NAME_PATH", format!("{prefix}{n}"));
        return Ok(out);
    }
    if let Some(n) = names_vio(device) {
        set(&mut out, "ID_NET_NAME_SLOT", format!("{prefix}{n}"));
        return Ok(out);
    }
    if let Some(n) = names_platform(device) {
        set(&mut out, "ID_NET_NAME_PATH", format!("{prefix}{n}"));
        return Ok(out);
    }
    if scheme.has(flags::NETDEVSIM) {
        if let Some(n) = names_netdevsim(device, &info) {
            set(&mut out, "ID_NET_NAME_PATH", format!("{prefix}{n}"));
            return Ok(out);
        }
    }
    if scheme.has(flags::XEN_VIF) {
        if let Some(n) = names_xen(device) {
            set(&mut out, "ID_NET_NAME_SLOT", format!("{prefix}{n}"));
            return Ok(out);
        }
    }

    let Some(pci) = names_pci(device, system, &info, scheme) else {
        return Ok(out);
    };
    if pci.direct {
        if let Some(o) = &pci.onboard {
            set(&mut out, "ID_NET_NAME_ONBOARD", format!("{prefix}{o}"));
        }
        if let Some(l) = &pci.label {
            let p = if scheme.has(flags::LABEL_NOPREFIX) {
                ""
            } else {
                prefix
            };
            set(&mut out, "ID_NET_LABEL_ONBOARD", format!("{p}{l}"));
        }
        if let Some(p) = &pci.path {
            set(&mut out, "ID_NET_NAME_PATH", format!("{prefix}{p}"));
        }
        if let Some(s) = &pci.slot {
            set(&mut out, "ID_NET_NAME_SLOT", format!("{prefix}{s}"));
        }
        return Ok(out);
    }
    // A bus between the interface and the PCI device: USB, else BCMA.
    let suffix = names_usb(device).or_else(|| names_bcma(device));
    if let Some(suffix) = suffix {
        if let Some(p) = &pci.path {
            set(&mut out, "ID_NET_NAME_PATH", format!("{prefix}{p}{suffix}"));
        }
        if let Some(s) = &pci.slot {
            set(&mut out, "ID_NET_NAME_SLOT", format!("{prefix}{s}{suffix}"));
        }
    }
    Ok(out)
}

/// A MAC name needs a 6-byte address the hardware gave (`addr_assign_type` 0), never for
/// InfiniBand.
fn mac_is_permanent(device: &dyn Device, info: &LinkInfo) -> bool {
    info.iftype != ARPHRD_INFINIBAND
        && info.hw_addr.len() == 6
        && device
            .sysattr("addr_assign_type")
            .and_then(|v| parse_auto(&v))
            == Some(0)
}

/// Skips `virtio` bus devices: one virtio bus sits between a virtio NIC and its transport.
fn skip_virtio(mut d: Option<&dyn Device>) -> Option<&dyn Device> {
    while let Some(dev) = d {
        match subsystem(dev) {
            Some(s) if s == "virtio" => d = dev.parent(),
            _ => return Some(dev),
        }
    }
    None
}

/// `ethernet*` aliases of the devicetree pointing at the parent's `of_node`.
fn devicetree_onboard(device: &dyn Device, system: &dyn System) -> Option<String> {
    let parent = device.parent()?;
    let ofnode = system.canonical_path(&format!("{}/of_node", syspath(parent)))?;
    let base = system.canonical_path("/proc/device-tree")?;
    let rel = ofnode.strip_prefix(&base)?;
    if !rel.starts_with('/') {
        return None;
    }
    let norm = |p: &str| -> String {
        p.split('/')
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>()
            .join("/")
    };
    let aliases = format!("{base}/aliases");
    let mut names = system.read_dir(&aliases)?;
    names.sort();
    for alias in names {
        let Some(index) = alias.strip_prefix("ethernet") else {
            continue;
        };
        let Some(target) = attr(system, &aliases, &alias) else {
            continue;
        };
        let target = target.trim_end_matches('\0');
        if norm(target) != norm(rel) {
            continue;
        }
        let (i, conflict) = if index.is_empty() {
            (0, "ethernet0")
        } else {
            (parse_auto(index)?, "ethernet")
        };
        // "ethernet" and "ethernet0" would both claim index 0.
        if i == 0 && system.read(&format!("{aliases}/{conflict}")).is_some() {
            return None;
        }
        return Some(format!("d{i}"));
    }
    None
}

/// s390 channel devices: `c<bus id without leading zeros and dots>`.
fn names_ccw(device: &dyn Device) -> Option<String> {
    let cdev = skip_virtio(device.parent())?;
    let sub = subsystem(cdev)?;
    if sub != "ccwgroup" && sub != "ccw" {
        return None;
    }
    let bus_id = cdev.sysname();
    if !(8..=9).contains(&bus_id.len()) {
        return None;
    }
    let skip = bus_id
        .bytes()
        .take_while(|b| matches!(b, b'.' | b'0'))
        .count();
    let start = skip.min(bus_id.len() - 1);
    Some(format!("c{}", bus_id.get(start..)?))
}

/// Reads at most `max` hex digits at the start of `s` (`%<max>x`).
fn scan_hex(s: &str, max: usize) -> Option<(u32, &str)> {
    let n = s
        .bytes()
        .take(max)
        .take_while(u8::is_ascii_hexdigit)
        .count();
    let (digits, rest) = (s.get(..n)?, s.get(n..)?);
    Some((u32::from_str_radix(digits, 16).ok()?, rest))
}

/// Reads a decimal number at the start of `s` (`%u`).
fn scan_dec(s: &str) -> Option<(u64, &str)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    Some((s.get(..n)?.parse().ok()?, s.get(n..)?))
}

/// IBM POWER virtual I/O: `v<slot>` from `/sys/devices/vio/<bus:4><slot:4>/net/eth<N>`.
fn names_vio(device: &dyn Device) -> Option<String> {
    if subsystem(device.parent()?)?.as_str() != "vio" {
        return None;
    }
    let path = syspath(device);
    let rest = path.strip_prefix("/sys/devices/vio/")?;
    let (_, rest) = scan_hex(rest, 4)?;
    let (slot, rest) = scan_hex(rest, 4)?;
    scan_dec(rest.strip_prefix("/net/eth")?)?;
    Some(format!("v{slot}"))
}

/// ACPI platform devices: `a<vendor><model>i<instance>` from
/// `/sys/devices/platform/<VENDOR><model>:<instance>/net/eth<N>`.
fn names_platform(device: &dyn Device) -> Option<String> {
    if subsystem(device.parent()?)?.as_str() != "platform" {
        return None;
    }
    let path = syspath(device);
    const TEST_LEN: usize = "/sys/devices/platform/vvvvPPPP".len();
    if path.len() < TEST_LEN + 1 {
        return None;
    }
    // A four-character ACPI vendor id has a ':' right after the model.
    let (vlen, digits_ok) = if path.as_bytes().get(TEST_LEN) == Some(&b':') {
        (4, true)
    } else {
        (3, false)
    };
    let rest = path.strip_prefix("/sys/devices/platform/")?;
    let vendor: String = rest
        .chars()
        .take(vlen)
        .take_while(|c| !c.is_whitespace())
        .collect();
    let rest = rest.get(vendor.len()..)?;
    let (model, rest) = scan_hex(rest, 4)?;
    let (instance, rest) = scan_hex(rest.strip_prefix(':')?, 2)?;
    scan_dec(rest.strip_prefix("/net/eth")?)?;
    if !vendor
        .chars()
        .all(|c| c.is_ascii_uppercase() || (digits_ok && c.is_ascii_digit()))
    {
        return None;
    }
    Some(format!(
        "a{}{model:x}i{instance}",
        vendor.to_ascii_lowercase()
    ))
}

/// netdevsim ports: `i<address>n<phys_port_name>`.
fn names_netdevsim(device: &dyn Device, info: &LinkInfo) -> Option<String> {
    let port = info.phys_port_name.as_deref().filter(|p| !p.is_empty())?;
    let dev = parent_with(device, "netdevsim", None)?;
    let name = dev.sysname();
    let (addr, _) = scan_dec(name.strip_prefix("netdevsim")?)?;
    Some(format!("i{addr}n{port}"))
}

/// Xen netfront: `X<n>` from `/sys/devices/vif-<n>/...`.
fn names_xen(device: &dyn Device) -> Option<String> {
    if subsystem(device.parent()?)?.as_str() != "xen" {
        return None;
    }
    let path = syspath(device);
    let rest = path.strip_prefix("/sys/devices/vif-")?;
    let (id, _) = rest.split_once('/')?;
    if id.is_empty()
        || !id.bytes().all(|b| b.is_ascii_digit())
        || (id.len() > 1 && id.starts_with('0'))
    {
        return None;
    }
    Some(format!("X{}", id.parse::<u32>().ok()?))
}

/// USB: `u<port>[u<port>...][c<config>][i<interface>]` from the interface's sysname
/// (`1-1.2:1.0`), config 1 and interface 0 left out.
fn names_usb(device: &dyn Device) -> Option<String> {
    let usb = parent_with(device, "usb", Some("usb_interface"))?;
    let name = usb.sysname();
    let (_, after) = name.split_once('-')?;
    let (ports, cfg_if) = after.split_once(':')?;
    let (config, interface) = cfg_if.split_once('.')?;
    let mut s = format!("u{}", ports.replace('.', "u"));
    if config != "1" {
        s.push('c');
        s.push_str(config);
    }
    if interface != "0" {
        s.push('i');
        s.push_str(interface);
    }
    (s.len() < ALTIFNAMSIZ).then_some(s)
}

/// Broadcom BCMA bus: `b<core>` (core 0 left out) from the sysname `bcma<bus>:<core>`.
fn names_bcma(device: &dyn Device) -> Option<String> {
    let dev = parent_with(device, "bcma", None)?;
    let name = dev.sysname();
    let (bus, rest) = scan_dec(name.strip_prefix("bcma")?)?;
    let _ = bus;
    let (core, _) = scan_dec(rest.strip_prefix(':')?)?;
    Some(if core > 0 {
        format!("b{core}")
    } else {
        String::new()
    })
}

/// The PCI parts of the names.
#[derive(Debug, Default)]
struct PciNames {
    /// The PCI device is the interface's parent (past virtio): the names are the
    /// interface's own; otherwise they prefix a USB or BCMA part.
    direct: bool,
    onboard: Option<String>,
    label: Option<String>,
    path: Option<String>,
    slot: Option<String>,
}

/// A PCI device as the naming code sees it: its syspath and the syspaths of its PCI
/// ancestors (for the hotplug slot search).
struct PciDev {
    syspath: String,
    ancestors: Vec<String>,
}

impl PciDev {
    fn sysname(&self) -> &str {
        last_component(&self.syspath)
    }
}

fn names_pci(
    device: &dyn Device,
    system: &dyn System,
    info: &LinkInfo,
    scheme: Scheme,
) -> Option<PciNames> {
    let parent = skip_virtio(device.parent())?;
    let mut names = PciNames::default();
    let pcidev: &dyn Device = if subsystem(parent).as_deref() == Some("pci") {
        names.direct = true;
        parent
    } else {
        parent_with(device, "pci", None)?
    };
    let mut ancestors = Vec::new();
    let mut p = pcidev.parent();
    while let Some(d) = p {
        if subsystem(d).as_deref() == Some("pci") {
            ancestors.push(syspath(d));
        }
        p = d.parent();
    }
    let pci = PciDev {
        syspath: syspath(pcidev),
        ancestors,
    };

    let virtfn = if scheme.has(flags::SR_IOV_V) {
        virtfn_info(system, &pci.syspath)
    } else {
        None
    };
    match virtfn {
        Some((pf, suffix)) => {
            // A virtual function is named after its physical function plus "v<N>".
            let with = |n: Option<String>| {
                n.map(|n| format!("{n}{suffix}"))
                    .filter(|n| n.len() < ALTIFNAMSIZ)
            };
            names.onboard = with(pci_onboard(device, system, info, &pf, scheme).and_then(|o| o.0));
            let (path, slot) = pci_slot(device, system, info, &pf, scheme);
            names.path = with(path);
            names.slot = with(slot);
        }
        None => {
            if let Some((onboard, label)) = pci_onboard(device, system, info, &pci, scheme) {
                names.onboard = onboard;
                names.label = label;
            }
            let (path, slot) = pci_slot(device, system, info, &pci, scheme);
            names.path = path;
            names.slot = slot;
        }
    }
    Some(names)
}

/// For an SR-IOV virtual function: its physical function and the `v<N>` suffix, found by
/// the `virtfn<N>` link of the physical function that points back at the device.
fn virtfn_info(system: &dyn System, vf: &str) -> Option<(PciDev, String)> {
    let pf = system.canonical_path(&format!("{vf}/physfn"))?;
    let mut entries = system.read_dir(&pf)?;
    entries.sort();
    let n = entries.iter().find_map(|e| {
        let n = e.strip_prefix("virtfn")?;
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        (system.canonical_path(&format!("{pf}/{e}"))?.as_str() == vf).then(|| n.to_string())
    })?;
    // The physical function's PCI ancestors: directories above it whose subsystem is pci.
    let mut ancestors = Vec::new();
    let mut up = pf.as_str();
    while let Some((head, _)) = up.rsplit_once('/') {
        if head.len() <= "/sys/devices".len() {
            break;
        }
        if system
            .canonical_path(&format!("{head}/subsystem"))
            .is_some_and(|s| last_component(&s) == "pci")
        {
            ancestors.push(head.to_string());
        }
        up = head;
    }
    Some((
        PciDev {
            syspath: pf,
            ancestors,
        },
        format!("v{n}"),
    ))
}

/// `dev_port` of the interface, 0 when absent or not decimal.
fn dev_port(device: &dyn Device, info: &LinkInfo) -> u64 {
    let Some(v) = device.sysattr("dev_port") else {
        return 0;
    };
    let port = parse_dec(&v).unwrap_or(0);
    // Older kernels put an IPoIB port in dev_id instead.
    if port == 0 && info.iftype == ARPHRD_INFINIBAND {
        if let Some(id) = device.sysattr("dev_id") {
            return parse_dec(&id).unwrap_or(0);
        }
    }
    port
}

/// The firmware's onboard index (`o<index>` + port; `None` when too long) and label;
/// `None` without a valid index.
fn pci_onboard(
    device: &dyn Device,
    system: &dyn System,
    info: &LinkInfo,
    pci: &PciDev,
    scheme: Scheme,
) -> Option<(Option<String>, Option<String>)> {
    let raw =
        attr(system, &pci.syspath, "acpi_index").or_else(|| attr(system, &pci.syspath, "index"))?;
    let idx = parse_auto(&raw)?;
    if idx == 0 && !scheme.has(flags::ZERO_ACPI_INDEX) {
        return None;
    }
    // Firmware reports absurd indexes (VMware: 2^24-1); cut off beyond any real count.
    let max = if scheme.has(flags::INDEX_16BIT) {
        (1 << 16) - 1
    } else {
        (1 << 14) - 1
    };
    if idx > max {
        return None;
    }
    let port = device
        .sysattr("dev_port")
        .and_then(|v| parse_dec(&v))
        .unwrap_or(0);
    let name = format!("o{idx}{}", info.port_suffix(port));
    let label = attr(system, &pci.syspath, "label");
    Some(((name.len() < ALTIFNAMSIZ).then_some(name), label))
}

/// Bit 7 of the PCI header type (config space byte 0x0e): a multi-function device.
fn is_multifunction(system: &dyn System, pci: &str) -> bool {
    system
        .read_at(&format!("{pci}/config"), 0, 15)
        .and_then(|c| c.get(0x0e).copied())
        .is_some_and(|t| t & 0x80 != 0)
}

/// A PCI bridge: class 06, subclass 04 in the modalias (`...sc04...`).
fn is_bridge(system: &dyn System, pci: &str) -> bool {
    let Some(m) = attr(system, pci, "modalias") else {
        return false;
    };
    if !m.starts_with("pci:") {
        return false;
    }
    m.rfind('s')
        .and_then(|i| m.get(i + 1..))
        .is_some_and(|r| r.starts_with('c') && r.get(1..3) == Some("04"))
}

/// The path name and, with a matching hotplug slot, the slot name.
fn pci_slot(
    device: &dyn Device,
    system: &dyn System,
    info: &LinkInfo,
    pci: &PciDev,
    scheme: Scheme,
) -> (Option<String>, Option<String>) {
    let Some((mut domain, bus, slot, mut func)) = parse_pci_address(pci.sysname()) else {
        return (None, None);
    };
    if scheme.has(flags::NPAR_ARI)
        && attr(system, &pci.syspath, "ari_enabled").as_deref() == Some("1")
    {
        // ARI: up to 256 functions; the slot bits are the function's upper bits.
        func = func.wrapping_add(slot.wrapping_mul(8));
    }
    let port = info.port_suffix(dev_port(device, info));
    let multi = || func > 0 || is_multifunction(system, &pci.syspath);
    let mut path = String::new();
    if domain > 0 {
        path.push_str(&format!("P{domain}"));
    }
    path.push_str(&format!("p{bus}s{slot}"));
    if multi() {
        path.push_str(&format!("f{func}"));
    }
    path.push_str(&port);
    let path = (path.len() < ALTIFNAMSIZ).then_some(path);

    let Some(slots) = system.read_dir("/sys/bus/pci/slots") else {
        return (path, None);
    };
    let mut hotplug = 0u64;
    for dev in std::iter::once(&pci.syspath).chain(pci.ancestors.iter()) {
        if scheme.has(flags::SLOT_FUNCTION_ID) {
            if let Some(f) = attr(system, dev, "function_id") {
                // s390: the slot directory is named after the function id, 8 hex digits.
                match parse_auto(&f) {
                    Some(id) if id > 0 && id <= u64::from(u32::MAX) => {
                        if system
                            .read_dir(&format!("/sys/bus/pci/slots/{id:08x}"))
                            .is_none()
                        {
                            return (path, None);
                        }
                        hotplug = id;
                        domain = 0;
                        break;
                    }
                    _ => return (path, None),
                }
            }
        }
        let sysname = last_component(dev);
        for entry in &slots {
            let Some(i) = parse_auto(entry).filter(|&i| i > 0 && i <= u64::from(u32::MAX)) else {
                continue;
            };
            let Some(address) = attr(system, &format!("/sys/bus/pci/slots/{entry}"), "address")
            else {
                continue;
            };
            if !sysname.starts_with(&address) {
                continue;
            }
            hotplug = i;
            // A bridge's slot would be claimed by every device behind it.
            if scheme.has(flags::BRIDGE_NO_SLOT)
                && is_bridge(system, dev)
                && (!scheme.has(flags::BRIDGE_MULTIFUNCTION_SLOT)
                    || !is_multifunction(system, &pci.syspath))
            {
                return (path, None);
            }
            break;
        }
        if hotplug > 0 {
            break;
        }
    }
    if hotplug == 0 {
        return (path, None);
    }
    let mut s = String::new();
    if domain > 0 {
        s.push_str(&format!("P{domain}"));
    }
    s.push_str(&format!("s{hotplug}"));
    if multi() {
        s.push_str(&format!("f{func}"));
    }
    s.push_str(&port);
    (path, (s.len() < ALTIFNAMSIZ).then_some(s))
}

/// `domain:bus:slot.function` (hex, hex, hex, decimal).
fn parse_pci_address(s: &str) -> Option<(u32, u32, u32, u32)> {
    let (domain, rest) = s.split_once(':')?;
    let (bus, rest) = rest.split_once(':')?;
    let (slot, func) = rest.split_once('.')?;
    let hex = |v: &str| u32::from_str_radix(v, 16).ok();
    Some((hex(domain)?, hex(bus)?, hex(slot)?, func.parse().ok()?))
}

#[cfg(test)]
pub(crate) mod testfs {
    //! A [`System`] over a directory: every path is looked up under `base` (`/` for the real
    //! system).
    use std::path::{Path, PathBuf};

    use crate::builtins::System;

    pub struct FsSystem {
        pub base: PathBuf,
    }

    impl FsSystem {
        pub fn new(base: impl Into<PathBuf>) -> Self {
            FsSystem { base: base.into() }
        }
        fn map(&self, path: &str) -> PathBuf {
            self.base.join(path.trim_start_matches('/'))
        }
    }

    impl System for FsSystem {
        fn read(&self, path: &str) -> Option<Vec<u8>> {
            std::fs::read(self.map(path)).ok()
        }
        fn read_dir(&self, path: &str) -> Option<Vec<String>> {
            let rd = std::fs::read_dir(self.map(path)).ok()?;
            Some(
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect(),
            )
        }
        fn read_at(&self, path: &str, offset: u64, len: usize) -> Option<Vec<u8>> {
            use std::os::unix::fs::FileExt;
            let f = std::fs::File::open(self.map(path)).ok()?;
            let mut buf = vec![0; len];
            let n = f.read_at(&mut buf, offset).ok()?;
            buf.truncate(n);
            Some(buf)
        }
        fn canonical_path(&self, path: &str) -> Option<String> {
            let real = std::fs::canonicalize(self.map(path)).ok()?;
            let base = std::fs::canonicalize(&self.base).ok()?;
            let rel = real.strip_prefix(&base).ok()?;
            Some(Path::new("/").join(rel).to_string_lossy().into_owned())
        }
    }
}

#[cfg(test)]
#[path = "net_id_tests.rs"]
mod tests;
