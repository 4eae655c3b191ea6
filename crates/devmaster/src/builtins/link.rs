//! `.link` files and the `net_setup_link` builtin, as systemd 252 has them (systemd.link(5),
//! `src/udev/net/link-config.c`, `udev-builtin-net_setup_link.c`).
//!
//! [`load`] reads the `.link` files of [`DIRS`] (a file name in an earlier directory hides
//! it in later ones; an empty file or a `/dev/null` link masks it) in lexical order of
//! their names, each with its `<name>.d/*.conf` drop-ins, in systemd's ini syntax
//! (sections, `#`/`;` comments, trailing-backslash continuations, `X-` keys and sections
//! ignored). Every key of systemd 252 is known: the `[Match]` keys (`MACAddress`,
//! `PermanentMACAddress`, `OriginalName`, `Path`, `Driver`, `Type`, `Kind`, `Property`
//! and the conditions `Host`, `Virtualization`, `KernelCommandLine`, `KernelVersion`,
//! `Architecture`, `Credential`, `Firmware`, evaluated once at load as udevd does) and the
//! `[Link]` keys devmaster applies (`Description`, `Name`, `NamePolicy`, `AlternativeName`,
//! `AlternativeNamesPolicy`, `MACAddressPolicy`, `MACAddress`, `MTUBytes`, `Alias`,
//! `TransmitQueues`, `ReceiveQueues`, `TransmitQueueLength`,
//! `GenericSegmentOffloadMaxBytes`, `GenericSegmentOffloadMaxSegments`). The ethtool
//! settings (speed, duplex, WakeOnLan, offloads, channels, rings, coalescing, ...) and
//! `[SR-IOV]` are recognised but not applied: each gets a `file:line` diagnostic. Unknown
//! keys and bad values get `file:line` diagnostics and the rest of the file applies; a bad
//! section header or invalid UTF-8 drops the file, as systemd's parser does.
//!
//! [`run`] is the builtin: the first configuration whose `[Match]` fits the interface wins
//! (loopback never matches); it sets `ID_NET_DRIVER`, `ID_NET_LINK_FILE` and `ID_NET_NAME`
//! (from `NamePolicy=` over the `ID_NET_NAME_*` properties `net_id` and the hwdb set
//! earlier, then `Name=`), and on "add", "bind" and "move" returns the link settings as an
//! [`Action::LinkConfig`] (MAC from `MACAddressPolicy=` — the persistent one hashed from
//! the machine id and the interface's stable name exactly as systemd does — MTU, alias,
//! queues, alternative names). What rtnetlink and ethtool would tell (kind, ethtool driver,
//! permanent address, current alternative names) comes in [`Netlink`]; without it the
//! driver is the parent device's and the permanent address is the current one when the
//! kernel says it is permanent. systemd 252 sets no `ID_NET_LINK_FILE_DROPINS` (newer
//! versions do); neither does this.

use std::collections::BTreeMap;

use super::hwdb::Diagnostic;
use super::net_id::{cmdline_get, parse_auto, parse_sysfs_hwaddr, Scheme};
use super::{Action, Output, System};
use crate::rules::pattern::glob;
use crate::rules::subst::Device;

/// The `.link` directories, highest priority first.
pub const DIRS: [&str; 5] = [
    "/etc/systemd/network",
    "/run/systemd/network",
    "/usr/local/lib/systemd/network",
    "/usr/lib/systemd/network",
    "/lib/systemd/network",
];

/// A source of an interface name (`NamePolicy=`, `AlternativeNamesPolicy=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamePolicy {
    /// Keep a name the kernel marked predictable.
    Kernel,
    /// Keep a name user space already gave.
    Keep,
    /// `ID_NET_NAME_FROM_DATABASE`.
    Database,
    /// `ID_NET_NAME_ONBOARD`.
    Onboard,
    /// `ID_NET_NAME_SLOT`.
    Slot,
    /// `ID_NET_NAME_PATH`.
    Path,
    /// `ID_NET_NAME_MAC`.
    Mac,
}

impl NamePolicy {
    fn parse(s: &str, alternative: bool) -> Option<NamePolicy> {
        Some(match s {
            "kernel" if !alternative => NamePolicy::Kernel,
            "keep" if !alternative => NamePolicy::Keep,
            "database" => NamePolicy::Database,
            "onboard" => NamePolicy::Onboard,
            "slot" => NamePolicy::Slot,
            "path" => NamePolicy::Path,
            "mac" => NamePolicy::Mac,
            _ => return None,
        })
    }

    /// The property holding the name, for the name-giving policies.
    fn property(self) -> Option<&'static str> {
        match self {
            NamePolicy::Kernel | NamePolicy::Keep => None,
            NamePolicy::Database => Some("ID_NET_NAME_FROM_DATABASE"),
            NamePolicy::Onboard => Some("ID_NET_NAME_ONBOARD"),
            NamePolicy::Slot => Some("ID_NET_NAME_SLOT"),
            NamePolicy::Path => Some("ID_NET_NAME_PATH"),
            NamePolicy::Mac => Some("ID_NET_NAME_MAC"),
        }
    }
}

/// `MACAddressPolicy=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MacPolicy {
    /// Derived from the machine id and the interface's stable name.
    Persistent,
    /// Random on every add.
    Random,
    /// `MACAddress=` if given, else unchanged.
    #[default]
    None,
}

/// The `[Match]` lists; an entry starting with `!` negates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    /// `MACAddress=`.
    pub mac: Vec<Vec<u8>>,
    /// `PermanentMACAddress=`.
    pub permanent_mac: Vec<Vec<u8>>,
    /// `OriginalName=` globs.
    pub original_name: Vec<String>,
    /// `Path=` globs against `ID_PATH`.
    pub path: Vec<String>,
    /// `Driver=` globs.
    pub driver: Vec<String>,
    /// `Type=` globs (`DEVTYPE`, else the ARPHRD name).
    pub iftype: Vec<String>,
    /// `Kind=` globs (the rtnetlink kind).
    pub kind: Vec<String>,
    /// `Property=` `KEY=GLOB` entries.
    pub property: Vec<String>,
}

impl Match {
    fn is_empty(&self) -> bool {
        *self == Match::default()
    }
}

/// A `[Match]` condition on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionKind {
    /// `Host=`: hostname glob or machine id.
    Host,
    /// `Virtualization=`.
    Virtualization,
    /// `KernelCommandLine=`.
    KernelCommandLine,
    /// `KernelVersion=`.
    KernelVersion,
    /// `Credential=`.
    Credential,
    /// `Architecture=`.
    Architecture,
    /// `Firmware=`.
    Firmware,
}

/// One condition; the value has its `!` removed into `negate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Which.
    pub kind: ConditionKind,
    /// Its value.
    pub value: String,
    /// `!value`.
    pub negate: bool,
}

/// One `.link` file with its drop-ins applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkConfig {
    /// Its path.
    pub file: String,
    /// Drop-ins applied, in order.
    pub dropins: Vec<String>,
    /// `[Match]`.
    pub matches: Match,
    /// Host conditions of `[Match]` (the last of each kind).
    pub conditions: Vec<Condition>,
    /// `Description=`.
    pub description: Option<String>,
    /// `MACAddressPolicy=`.
    pub mac_policy: MacPolicy,
    /// `MACAddress=`.
    pub mac: Option<Vec<u8>>,
    /// `NamePolicy=` (`Some(empty)` when set to nothing).
    pub name_policy: Option<Vec<NamePolicy>>,
    /// `Name=`.
    pub name: Option<String>,
    /// `AlternativeName=`.
    pub alternative_names: Vec<String>,
    /// `AlternativeNamesPolicy=`.
    pub alternative_names_policy: Vec<NamePolicy>,
    /// `Alias=`.
    pub alias: Option<String>,
    /// `MTUBytes=`.
    pub mtu: Option<u32>,
    /// `TransmitQueues=`.
    pub txqueues: Option<u32>,
    /// `ReceiveQueues=`.
    pub rxqueues: Option<u32>,
    /// `TransmitQueueLength=`.
    pub txqueuelen: Option<u32>,
    /// `GenericSegmentOffloadMaxBytes=`.
    pub gso_max_bytes: Option<u32>,
    /// `GenericSegmentOffloadMaxSegments=`.
    pub gso_max_segments: Option<u32>,
}

/// What the host is, for the conditions and the persistent MAC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Host {
    /// The kernel command line.
    pub cmdline: String,
    /// `/etc/machine-id`, parsed.
    pub machine_id: Option<[u8; 16]>,
    /// The hostname.
    pub hostname: String,
    /// The kernel release (`uname -r`).
    pub kernel_release: String,
    /// systemd's architecture name (`x86-64`, `arm64`, ...).
    pub architecture: String,
    /// The detected virtualization id (`kvm`, `docker`, ...), `None` on bare metal.
    pub virtualization: Option<String>,
    /// Whether that is a container.
    pub container: bool,
    /// Credentials present (`/run/credentials/@system`).
    pub credentials: Vec<String>,
    /// Booted with UEFI.
    pub uefi: bool,
    /// Has a devicetree.
    pub device_tree: bool,
}

fn read_string(system: &dyn System, path: &str) -> Option<String> {
    system
        .read(path)
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
}

impl Host {
    /// Reads the facts through `system`: `/proc/cmdline`, `/etc/machine-id`,
    /// `/proc/sys/kernel/{hostname,osrelease}`, container marks (`/run/systemd/container`,
    /// `/.dockerenv`, `/run/.containerenv`) and DMI vendor strings.
    pub fn read(system: &dyn System) -> Host {
        let machine_id = read_string(system, "/etc/machine-id").and_then(|s| parse_id128(&s));
        let (virtualization, container) = detect_virtualization(system);
        Host {
            cmdline: read_string(system, "/proc/cmdline").unwrap_or_default(),
            machine_id,
            hostname: read_string(system, "/proc/sys/kernel/hostname").unwrap_or_default(),
            kernel_release: read_string(system, "/proc/sys/kernel/osrelease").unwrap_or_default(),
            architecture: architecture().to_string(),
            virtualization,
            container,
            credentials: system
                .read_dir("/run/credentials/@system")
                .unwrap_or_default(),
            uefi: system.read_dir("/sys/firmware/efi").is_some(),
            device_tree: system.read_dir("/sys/firmware/devicetree/base").is_some(),
        }
    }
}

/// systemd's name for the architecture this was built for (also `CONST{arch}`).
pub(crate) fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86-64",
        "x86" => "x86",
        "aarch64" => "arm64",
        "arm" => "arm",
        "riscv64" => "riscv64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64-le",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        "loongarch64" => "loongarch64",
        "mips64" => "mips64",
        other => other,
    }
}

/// A subset of systemd's detect-virt: container marks, then DMI vendors.
fn detect_virtualization(system: &dyn System) -> (Option<String>, bool) {
    if let Some(c) = read_string(system, "/run/systemd/container").filter(|c| !c.is_empty()) {
        return (Some(c), true);
    }
    if system.read("/run/.containerenv").is_some() {
        return (Some("podman".into()), true);
    }
    if system.read("/.dockerenv").is_some() {
        return (Some("docker".into()), true);
    }
    const VENDORS: [(&str, &str); 9] = [
        ("KVM", "kvm"),
        ("OpenStack", "kvm"),
        ("QEMU", "qemu"),
        ("VMware", "vmware"),
        ("VMW", "vmware"),
        ("innotek GmbH", "oracle"),
        ("Xen", "xen"),
        ("Bochs", "bochs"),
        ("Amazon EC2", "amazon"),
    ];
    for f in ["product_name", "sys_vendor", "board_vendor", "bios_vendor"] {
        if let Some(v) = read_string(system, &format!("/sys/class/dmi/id/{f}")) {
            if let Some((_, id)) = VENDORS.iter().find(|(p, _)| v.starts_with(p)) {
                return (Some(id.to_string()), false);
            }
        }
    }
    (None, false)
}

/// A 128-bit id as 32 hex digits (dashes allowed).
fn parse_id128(s: &str) -> Option<[u8; 16]> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(id)
}

/// systemd's version comparison (`strverscmp_improved`), enough for kernel releases:
/// runs of digits compare numerically, other characters one by one, `~` sorts first.
fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (Some(b'~'), Some(b'~')) => {}
            (Some(b'~'), _) => return Ordering::Less,
            (_, Some(b'~')) => return Ordering::Greater,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (
                    a.get(..na).unwrap_or_default(),
                    b.get(..nb).unwrap_or_default(),
                );
                let trim = |d: &[u8]| -> usize { d.iter().take_while(|c| **c == b'0').count() };
                let (da, db) = (
                    da.get(trim(da)..).unwrap_or_default(),
                    db.get(trim(db)..).unwrap_or_default(),
                );
                let o = da.len().cmp(&db.len()).then(da.cmp(db));
                if o != Ordering::Equal {
                    return o;
                }
                a = a.get(na..).unwrap_or_default();
                b = b.get(nb..).unwrap_or_default();
                continue;
            }
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
        a = a.get(1..).unwrap_or_default();
        b = b.get(1..).unwrap_or_default();
    }
}

/// Evaluates one condition; `Err` for a form devmaster does not know.
fn test_condition(c: &Condition, host: &Host) -> Result<bool, String> {
    let v = c.value.as_str();
    let r = match c.kind {
        ConditionKind::Host => match parse_id128(v) {
            Some(id) => host.machine_id == Some(id),
            None => glob(
                &v.to_ascii_lowercase(),
                &host.hostname.to_ascii_lowercase(),
                false,
            ),
        },
        ConditionKind::Virtualization => match parse_bool(v) {
            Some(b) => host.virtualization.is_some() == b,
            None => match v {
                "vm" => host.virtualization.is_some() && !host.container,
                "container" => host.container,
                _ => host.virtualization.as_deref() == Some(v),
            },
        },
        ConditionKind::KernelCommandLine => {
            let words = super::net_id::cmdline_get_all(&host.cmdline);
            if v.contains('=') {
                words.iter().any(|w| w == v)
            } else {
                words
                    .iter()
                    .any(|w| w == v || w.strip_prefix(v).is_some_and(|r| r.starts_with('=')))
            }
        }
        ConditionKind::KernelVersion => {
            let mut all = true;
            for expr in v.split_whitespace() {
                let ops = [">=", "<=", "!=", "=", "<", ">"];
                let hit = match ops
                    .iter()
                    .find_map(|o| expr.strip_prefix(o).map(|r| (*o, r)))
                {
                    Some((op, rhs)) => {
                        let o = version_cmp(&host.kernel_release, rhs.trim());
                        match op {
                            ">=" => o.is_ge(),
                            "<=" => o.is_le(),
                            "!=" => o.is_ne(),
                            "=" => o.is_eq(),
                            "<" => o.is_lt(),
                            _ => o.is_gt(),
                        }
                    }
                    None => glob(expr, &host.kernel_release, false),
                };
                all &= hit;
            }
            all
        }
        ConditionKind::Credential => host.credentials.iter().any(|c| c == v),
        ConditionKind::Architecture => {
            v == host.architecture || (v == "native" && host.architecture == architecture())
        }
        ConditionKind::Firmware => match v {
            "uefi" => host.uefi,
            "device-tree" => host.device_tree,
            _ => return Err(format!("Firmware={v} is not supported by devmaster")),
        },
    };
    Ok(r != c.negate)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

/// Splits a value into words as systemd's `extract_first_word` with unquoting: blanks
/// separate, `"..."`/`'...'` group, a backslash escapes the next character.
fn value_words(s: &str) -> Result<Vec<String>, ()> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let (mut quote, mut in_word) = (None, false);
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                cur.push(chars.next().ok_or(())?);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(());
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Whether `name` is a valid interface name (systemd's `ifname_valid_full`):
/// printable ASCII without ' ', ':', '/', '%'; not `.`, `..`, `all`, `default` or a number;
/// shorter than 16 (128 for an alternative name).
pub fn ifname_valid(name: &str, alternative: bool) -> bool {
    let max = if alternative { 128 } else { 16 };
    !name.is_empty()
        && name.len() < max
        && !matches!(name, "." | ".." | "all" | "default")
        && !name.bytes().all(|b| b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b > 32 && b < 127 && !matches!(b, b':' | b'/' | b'%'))
}

/// Parses a hardware address as systemd's `parse_hw_addr_full` for link files:
/// `xx:xx:..`, `xx-xx-..` (1-2 hex digits a byte) or `xxxx.xxxx.xxxx`; 6 (Ethernet) or 20
/// (InfiniBand) bytes.
pub fn parse_hwaddr(s: &str) -> Option<Vec<u8>> {
    let sep = s.chars().find(|c| !c.is_ascii_hexdigit())?;
    let width = match sep {
        '.' => 2,
        ':' | '-' => 1,
        _ => return None,
    };
    let mut out = Vec::new();
    for field in s.split(sep) {
        if field.is_empty() || field.len() > width * 2 {
            return None;
        }
        let v = u16::from_str_radix(field, 16).ok()?;
        if width == 2 {
            out.extend_from_slice(&v.to_be_bytes());
        } else {
            out.push(u8::try_from(v).ok()?);
        }
    }
    matches!(out.len(), 6 | 20).then_some(out)
}

/// `parse_size(s, 1024)`: a number with an optional K/M/G/T/P/E (1024-based) suffix.
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = (s.get(..split)?, s.get(split..)?.trim());
    let mult: u64 = match unit {
        "" | "B" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        "P" => 1 << 50,
        "E" => 1 << 60,
        _ => return None,
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut v = int.checked_mul(mult)?;
    if !frac.is_empty() {
        let f: f64 = format!("0.{frac}").parse().ok()?;
        v = v.checked_add((f * mult as f64) as u64)?;
    }
    Some(v)
}

/// Link settings that 252 knows but devmaster does not apply (ethtool, SR-IOV).
const NOT_APPLIED: [&str; 59] = [
    "BitsPerSecond",
    "Duplex",
    "AutoNegotiation",
    "WakeOnLan",
    "WakeOnLanPassword",
    "Port",
    "ReceiveChecksumOffload",
    "TransmitChecksumOffload",
    "GenericSegmentationOffload",
    "TCPSegmentationOffload",
    "TCP6SegmentationOffload",
    "UDPSegmentationOffload",
    "GenericReceiveOffload",
    "GenericReceiveOffloadHardware",
    "LargeReceiveOffload",
    "ReceiveVLANCTAGHardwareAcceleration",
    "TransmitVLANCTAGHardwareAcceleration",
    "ReceiveVLANCTAGFilter",
    "TransmitVLANSTAGHardwareAcceleration",
    "NTupleFilter",
    "RxChannels",
    "TxChannels",
    "OtherChannels",
    "CombinedChannels",
    "Advertise",
    "RxBufferSize",
    "RxMiniBufferSize",
    "RxJumboBufferSize",
    "TxBufferSize",
    "RxFlowControl",
    "TxFlowControl",
    "AutoNegotiationFlowControl",
    "RxCoalesceSec",
    "RxMaxCoalescedFrames",
    "RxCoalesceIrqSec",
    "RxMaxCoalescedIrqFrames",
    "TxCoalesceSec",
    "TxMaxCoalescedFrames",
    "TxCoalesceIrqSec",
    "TxMaxCoalescedIrqFrames",
    "StatisticsBlockCoalesceSec",
    "UseAdaptiveRxCoalesce",
    "UseAdaptiveTxCoalesce",
    "CoalescePacketRateLow",
    "RxCoalesceLowSec",
    "RxMaxCoalescedLowFrames",
    "TxCoalesceLowSec",
    "TxMaxCoalescedLowFrames",
    "CoalescePacketRateHigh",
    "RxCoalesceHighSec",
    "RxMaxCoalescedHighFrames",
    "TxCoalesceHighSec",
    "TxMaxCoalescedHighFrames",
    "CoalescePacketRateSampleIntervalSec",
    "MDI",
    "SR-IOVVirtualFunctions",
    "ReceivePacketSteeringCPUMask",
    "ReceiveQueueMask",
    "TransmitQueueMask",
];

/// Parser state across one file and its drop-ins.
struct Parser<'a> {
    cfg: &'a mut LinkConfig,
    diags: &'a mut Vec<Diagnostic>,
    file: String,
}

impl Parser<'_> {
    fn warn(&mut self, line: usize, message: String) {
        self.diags.push(Diagnostic {
            file: self.file.clone(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            message,
        });
    }

    /// Parses one file into the configuration; `Err` when systemd's parser gives up on the
    /// file (it is then not used).
    fn parse(&mut self, text: &[u8]) -> Result<(), ()> {
        let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        let mut section: Option<String> = None;
        let mut continuation: Option<String> = None;
        let mut lineno = 0;
        for raw in text.split(|&b| b == b'\n') {
            lineno += 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let Ok(line) = std::str::from_utf8(raw) else {
                self.warn(lineno, "Invalid UTF-8, ignoring file.".into());
                return Err(());
            };
            let t = line.trim_start();
            if t.starts_with(['#', ';']) {
                continue;
            }
            let mut full = match continuation.take() {
                Some(mut c) => {
                    c.push_str(line);
                    c
                }
                None => line.to_string(),
            };
            // An odd run of backslashes at the end continues the line.
            let trailing = full.bytes().rev().take_while(|&b| b == b'\\').count();
            if trailing % 2 == 1 {
                full.pop();
                full.push(' ');
                continuation = Some(full);
                continue;
            }
            self.line(lineno, full.trim(), &mut section)?;
        }
        if let Some(c) = continuation {
            self.line(lineno, c.trim(), &mut section)?;
        }
        Ok(())
    }

    fn line(&mut self, n: usize, l: &str, section: &mut Option<String>) -> Result<(), ()> {
        if l.is_empty() {
            return Ok(());
        }
        if let Some(head) = l.strip_prefix('[') {
            let Some(name) = head.strip_suffix(']') else {
                self.warn(n, format!("Invalid section header '{l}'"));
                return Err(());
            };
            if name
                .chars()
                .any(|c| c.is_control() || matches!(c, '"' | '\'' | '\\'))
            {
                self.warn(n, format!("Bad characters in section header '{l}'"));
                return Err(());
            }
            if matches!(name, "Match" | "Link" | "SR-IOV") {
                *section = Some(name.to_string());
            } else {
                if !name.starts_with("X-") {
                    self.warn(n, format!("Unknown section '{name}'. Ignoring."));
                }
                *section = Some(String::new());
            }
            return Ok(());
        }
        let Some(sec) = section.clone() else {
            self.warn(n, "Assignment outside of section. Ignoring.".into());
            return Ok(());
        };
        let Some((k, v)) = l.split_once('=') else {
            self.warn(n, "Missing '=', ignoring line.".into());
            return Ok(());
        };
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() {
            self.warn(n, "Missing key name before '=', ignoring line.".into());
            return Ok(());
        }
        if sec.is_empty() || k.starts_with("X-") {
            return Ok(());
        }
        self.assign(n, &sec, k, v);
        Ok(())
    }

    fn assign(&mut self, n: usize, sec: &str, k: &str, v: &str) {
        let cond = |kind| Some(kind);
        let condition = match (sec, k) {
            ("Match", "Host") => cond(ConditionKind::Host),
            ("Match", "Virtualization") => cond(ConditionKind::Virtualization),
            ("Match", "KernelCommandLine") => cond(ConditionKind::KernelCommandLine),
            ("Match", "KernelVersion") => cond(ConditionKind::KernelVersion),
            ("Match", "Credential") => cond(ConditionKind::Credential),
            ("Match", "Architecture") => cond(ConditionKind::Architecture),
            ("Match", "Firmware") => cond(ConditionKind::Firmware),
            _ => None,
        };
        if let Some(kind) = condition {
            // A new assignment replaces an earlier one of the same kind.
            self.cfg.conditions.retain(|c| c.kind != kind);
            if !v.is_empty() {
                let (negate, value) = match v.strip_prefix('!') {
                    Some(r) => (true, r),
                    None => (false, v),
                };
                self.cfg.conditions.push(Condition {
                    kind,
                    value: value.to_string(),
                    negate,
                });
            }
            return;
        }
        match (sec, k) {
            ("Match", "MACAddress" | "PermanentMACAddress") => {
                let list = if k == "MACAddress" {
                    &mut self.cfg.matches.mac
                } else {
                    &mut self.cfg.matches.permanent_mac
                };
                if v.is_empty() {
                    list.clear();
                    return;
                }
                let mut bad = Vec::new();
                for w in v.split_whitespace() {
                    match parse_hwaddr(w) {
                        Some(a) => list.push(a),
                        None => bad.push(w.to_string()),
                    }
                }
                for w in bad {
                    self.warn(n, format!("Not a valid hardware address, ignoring: {w}"));
                }
            }
            ("Match", "OriginalName" | "Path" | "Driver" | "Type" | "Kind" | "Property") => {
                self.match_list(n, k, v)
            }
            ("Link", "Description") => {
                self.cfg.description = Some(v.to_string()).filter(|v| !v.is_empty())
            }
            ("Link", "MACAddressPolicy") => match v {
                "" | "none" => self.cfg.mac_policy = MacPolicy::None,
                "persistent" => self.cfg.mac_policy = MacPolicy::Persistent,
                "random" => self.cfg.mac_policy = MacPolicy::Random,
                _ => self.warn(
                    n,
                    format!("Failed to parse MAC address policy, ignoring: {v}"),
                ),
            },
            ("Link", "MACAddress") => {
                if v.is_empty() {
                    self.cfg.mac = None;
                } else if let Some(a) = parse_hwaddr(v) {
                    self.cfg.mac = Some(a);
                } else {
                    self.warn(
                        n,
                        format!("Not a valid hardware address, ignoring assignment: {v}"),
                    );
                }
            }
            ("Link", "NamePolicy" | "AlternativeNamesPolicy") => {
                let alt = k == "AlternativeNamesPolicy";
                let mut list = Vec::new();
                let words = value_words(v).unwrap_or_default();
                for w in words {
                    match NamePolicy::parse(&w, alt) {
                        None => self.warn(
                            n,
                            format!(
                                "Failed to parse {}, ignoring: {w}",
                                if alt {
                                    "alternative names policy"
                                } else {
                                    "interface name policy"
                                }
                            ),
                        ),
                        Some(p) if list.contains(&p) => {
                            self.warn(n, format!("Duplicate entry, ignoring: {w}"))
                        }
                        Some(p) => list.push(p),
                    }
                }
                if alt {
                    self.cfg.alternative_names_policy = list;
                } else {
                    self.cfg.name_policy = Some(list);
                }
            }
            ("Link", "Name") => {
                if v.is_empty() {
                    self.cfg.name = None;
                } else if ifname_valid(v, false) {
                    self.cfg.name = Some(v.to_string());
                } else {
                    self.warn(
                        n,
                        format!(
                            "Interface name is not valid or too long, ignoring assignment: {v}"
                        ),
                    );
                }
            }
            ("Link", "AlternativeName") => {
                if v.is_empty() {
                    self.cfg.alternative_names.clear();
                    return;
                }
                for w in value_words(v).unwrap_or_default() {
                    if ifname_valid(&w, true) {
                        self.cfg.alternative_names.push(w);
                    } else {
                        self.warn(
                            n,
                            format!(
                                "Interface name is not valid or too long, ignoring assignment: {w}"
                            ),
                        );
                    }
                }
            }
            ("Link", "Alias") => {
                if v.is_empty() {
                    self.cfg.alias = None;
                } else if !v.is_ascii() {
                    self.warn(
                        n,
                        format!("Interface alias is not ASCII clean, ignoring assignment: {v}"),
                    );
                } else if v.len() >= 256 {
                    self.warn(
                        n,
                        format!("Interface alias is too long, ignoring assignment: {v}"),
                    );
                } else {
                    self.cfg.alias = Some(v.to_string());
                }
            }
            ("Link", "MTUBytes") => {
                if v.is_empty() {
                    self.cfg.mtu = None;
                    return;
                }
                match parse_size(v) {
                    Some(m) if (68..=u64::from(u32::MAX)).contains(&m) => self.cfg.mtu = u32::try_from(m).ok(),
                    Some(_) => self.warn(n, format!("Maximum transfer unit (MTU) value out of range. Permitted range is 68…4294967295, ignoring: {v}")),
                    None => self.warn(n, format!("Failed to parse MTU value '{v}', ignoring")),
                }
            }
            ("Link", "TransmitQueues" | "ReceiveQueues") => {
                let slot = if k == "TransmitQueues" {
                    &mut self.cfg.txqueues
                } else {
                    &mut self.cfg.rxqueues
                };
                match v.parse::<u32>() {
                    _ if v.is_empty() => *slot = None,
                    Ok(q) if (1..=4096).contains(&q) => *slot = Some(q),
                    _ => self.warn(n, format!("Failed to parse {k}=, ignoring assignment: {v}")),
                }
            }
            ("Link", "TransmitQueueLength") => match v.parse::<u32>() {
                _ if v.is_empty() => self.cfg.txqueuelen = None,
                Ok(q) if q != u32::MAX => self.cfg.txqueuelen = Some(q),
                _ => self.warn(n, format!("Failed to parse {k}=, ignoring assignment: {v}")),
            },
            ("Link", "GenericSegmentOffloadMaxBytes") => match parse_size(v) {
                _ if v.is_empty() => self.cfg.gso_max_bytes = None,
                Some(b) if b <= 65536 => self.cfg.gso_max_bytes = u32::try_from(b).ok(),
                _ => self.warn(n, format!("Failed to parse {k}=, ignoring assignment: {v}")),
            },
            ("Link", "GenericSegmentOffloadMaxSegments") => match v.parse::<u32>() {
                _ if v.is_empty() => self.cfg.gso_max_segments = None,
                Ok(s) if s <= 65535 => self.cfg.gso_max_segments = Some(s),
                _ => self.warn(n, format!("Failed to parse {k}=, ignoring assignment: {v}")),
            },
            ("Link", k) if NOT_APPLIED.contains(&k) => {
                self.warn(n, format!("{k}= is not supported by devmaster, ignoring."))
            }
            ("SR-IOV", _) => self.warn(
                n,
                format!("[SR-IOV] {k}= is not supported by devmaster, ignoring."),
            ),
            _ => self.warn(
                n,
                format!("Unknown key '{k}' in section [{sec}], ignoring."),
            ),
        }
    }

    /// A `[Match]` glob list; a leading `!` negates every entry of the line.
    fn match_list(&mut self, n: usize, k: &str, v: &str) {
        let m = &mut self.cfg.matches;
        let list = match k {
            "OriginalName" => &mut m.original_name,
            "Path" => &mut m.path,
            "Driver" => &mut m.driver,
            "Type" => &mut m.iftype,
            "Kind" => &mut m.kind,
            _ => &mut m.property,
        };
        if v.is_empty() {
            list.clear();
            return;
        }
        let (invert, rest) = match v.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, v),
        };
        let Ok(words) = value_words(rest) else {
            self.warn(n, format!("Invalid syntax, ignoring: {v}"));
            return;
        };
        let mut bad = Vec::new();
        for w in words {
            let ok = match k {
                "OriginalName" => ifname_valid(&w, false),
                "Property" => w.split_once('=').is_some_and(|(key, _)| {
                    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                }),
                _ => true,
            };
            if !ok {
                bad.push(w);
                continue;
            }
            list.push(if invert { format!("!{w}") } else { w });
        }
        for w in bad {
            let what = if k == "Property" {
                "Invalid property or value"
            } else {
                "Interface name is not valid or too long"
            };
            self.warn(n, format!("{what}, ignoring assignment: {w}"));
        }
    }
}

/// The loaded `.link` configuration: files in match order, plus what the builtin needs
/// of the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkConfigs {
    /// Configurations in the order they are tried.
    pub configs: Vec<LinkConfig>,
    /// The naming scheme (re-renaming, stable virtual MACs).
    pub scheme: Scheme,
    /// `net.ifnames=0` on the kernel command line turns `NamePolicy=` off.
    pub name_policy_enabled: bool,
    /// The machine id for persistent MAC addresses.
    pub machine_id: Option<[u8; 16]>,
}

/// The files with `suffix` in `dirs`, one per name (the earliest directory wins), sorted by
/// name.
fn list_files(system: &dyn System, dirs: &[&str], suffix: &str) -> Vec<String> {
    let mut by_name = BTreeMap::new();
    for dir in dirs {
        for name in system.read_dir(dir).unwrap_or_default() {
            if name.ends_with(suffix) {
                by_name
                    .entry(name.clone())
                    .or_insert(format!("{dir}/{name}"));
            }
        }
    }
    by_name.into_values().collect()
}

/// Parses one `.link` file with its drop-ins from `dirs`; `None` when it is masked, cannot
/// be parsed, has an empty `[Match]` or its conditions fail.
pub fn load_one(
    system: &dyn System,
    dirs: &[&str],
    path: &str,
    host: &Host,
    diags: &mut Vec<Diagnostic>,
) -> Option<LinkConfig> {
    let text = system.read(path)?;
    // An empty file or a link to /dev/null masks the name.
    if text.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let mut cfg = LinkConfig {
        file: path.to_string(),
        ..LinkConfig::default()
    };
    let name = path.rsplit('/').next().unwrap_or(path);
    let dropin_dirs: Vec<String> = dirs.iter().map(|d| format!("{d}/{name}.d")).collect();
    let dropin_refs: Vec<&str> = dropin_dirs.iter().map(String::as_str).collect();
    let dropins = list_files(system, &dropin_refs, ".conf");
    let mut p = Parser {
        cfg: &mut cfg,
        diags,
        file: path.to_string(),
    };
    p.parse(&text).ok()?;
    for d in &dropins {
        let Some(t) = system.read(d) else { continue };
        p.file = d.clone();
        p.parse(&t).ok()?;
    }
    cfg.dropins = dropins;
    let warn = |diags: &mut Vec<Diagnostic>, message: String| {
        diags.push(Diagnostic {
            file: path.to_string(),
            line: 0,
            message,
        })
    };
    if cfg.matches.is_empty() && cfg.conditions.is_empty() {
        warn(diags, "No valid settings found in the [Match] section, ignoring file. To match all interfaces, add OriginalName=* in the [Match] section.".into());
        return None;
    }
    for c in &cfg.conditions {
        match test_condition(c, host) {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                warn(diags, format!("{e}, ignoring file."));
                return None;
            }
        }
    }
    if cfg.mac_policy != MacPolicy::None && cfg.mac.is_some() {
        warn(diags, "MACAddress= in [Link] section will be ignored when MACAddressPolicy= is set to \"persistent\" or \"random\".".into());
    }
    Some(cfg)
}

/// Loads every `.link` file of [`DIRS`] as udevd's `net_setup_link` does at start, with
/// the host read through `system`.
pub fn load(system: &dyn System) -> (LinkConfigs, Vec<Diagnostic>) {
    load_from(system, &DIRS, &Host::read(system))
}

/// [`load`] with explicit directories and host facts.
pub fn load_from(
    system: &dyn System,
    dirs: &[&str],
    host: &Host,
) -> (LinkConfigs, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let configs = list_files(system, dirs, ".link")
        .iter()
        .filter_map(|f| load_one(system, dirs, f, host, &mut diags))
        .collect();
    let env = std::env::var("NET_NAMING_SCHEME").ok();
    let (scheme, warning) = Scheme::select(Some(&host.cmdline), env.as_deref());
    if let Some(w) = warning {
        diags.push(Diagnostic {
            file: "/proc/cmdline".into(),
            line: 0,
            message: w,
        });
    }
    let name_policy_enabled = match cmdline_get(&host.cmdline, "net.ifnames") {
        Some(None) | None => true,
        Some(Some(v)) => parse_bool(&v).unwrap_or(true),
    };
    (
        LinkConfigs {
            configs,
            scheme,
            name_policy_enabled,
            machine_id: host.machine_id,
        },
        diags,
    )
}

/// What rtnetlink and ethtool know of the interface and sysfs does not show; each `None`
/// (or empty) falls back to what sysfs gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Netlink {
    /// `IFLA_INFO_KIND` (`veth`, `bridge`, ...).
    pub kind: Option<String>,
    /// The ethtool driver name.
    pub driver: Option<String>,
    /// `IFLA_PERM_ADDRESS` or ethtool's permanent address.
    pub permanent_mac: Option<Vec<u8>>,
    /// The interface's current alternative names.
    pub alternative_names: Vec<String>,
    /// Bytes for a random MAC (`None`: read `/dev/urandom`).
    pub random: Option<[u8; 8]>,
}

/// What the worker does to the interface (rtnetlink `RTM_SETLINK` and alternative names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkChanges {
    /// The interface.
    pub ifindex: u32,
    /// Its current name.
    pub ifname: String,
    /// `IFLA_IFALIAS`.
    pub alias: Option<String>,
    /// New hardware address.
    pub mac: Option<Vec<u8>>,
    /// `IFLA_MTU`.
    pub mtu: Option<u32>,
    /// `IFLA_NUM_TX_QUEUES`.
    pub txqueues: Option<u32>,
    /// `IFLA_NUM_RX_QUEUES`.
    pub rxqueues: Option<u32>,
    /// `IFLA_TXQLEN`.
    pub txqueuelen: Option<u32>,
    /// `IFLA_GSO_MAX_SIZE`.
    pub gso_max_bytes: Option<u32>,
    /// `IFLA_GSO_MAX_SEGS`.
    pub gso_max_segments: Option<u32>,
    /// Alternative names to add (sorted, without the current name and current ones).
    pub alternative_names: Vec<String>,
}

/// `ARPHRD_*` names as systemd's `arphrd_to_name` gives them, lowercased for `Type=`.
fn arphrd_name(t: u32) -> Option<&'static str> {
    Some(match t {
        0 => "netrom",
        1 => "ether",
        2 => "eether",
        3 => "ax25",
        4 => "pronet",
        5 => "chaos",
        6 => "ieee802",
        7 => "arcnet",
        8 => "appletlk",
        15 => "dlci",
        19 => "atm",
        23 => "metricom",
        24 => "ieee1394",
        27 => "eui64",
        32 => "infiniband",
        256 => "slip",
        257 => "cslip",
        258 => "slip6",
        259 => "cslip6",
        260 => "rsrvd",
        264 => "adapt",
        270 => "rose",
        271 => "x25",
        272 => "hwx25",
        280 => "can",
        281 => "mctp",
        512 => "ppp",
        513 => "cisco",
        516 => "lapb",
        517 => "ddcmp",
        518 => "rawhdlc",
        519 => "rawip",
        768 => "tunnel",
        769 => "tunnel6",
        770 => "frad",
        771 => "skip",
        772 => "loopback",
        773 => "localtlk",
        774 => "fddi",
        775 => "bif",
        776 => "sit",
        777 => "ipddp",
        778 => "ipgre",
        779 => "pimreg",
        780 => "hippi",
        781 => "ash",
        782 => "econet",
        783 => "irda",
        784 => "fcpp",
        785 => "fcal",
        786 => "fcpl",
        787 => "fcfabric",
        800 => "ieee802_tr",
        801 => "ieee80211",
        802 => "ieee80211_prism",
        803 => "ieee80211_radiotap",
        804 => "ieee802154",
        805 => "ieee802154_monitor",
        820 => "phonet",
        821 => "phonet_pipe",
        822 => "caif",
        823 => "ip6gre",
        824 => "netlink",
        825 => "6lowpan",
        826 => "vsockmon",
        0xfffe => "none",
        0xffff => "void",
        _ => return None,
    })
}

/// systemd's list match: empty matches; otherwise no negative entry may match and, when
/// there is a positive entry, one must.
fn match_list(patterns: &[String], s: Option<&str>) -> bool {
    if patterns.is_empty() {
        return true;
    }
    let (mut hit, mut positive) = (false, false);
    for p in patterns {
        let (invert, p) = match p.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, p.as_str()),
        };
        positive |= !invert;
        if s.is_some_and(|s| glob(p, s, false)) {
            if invert {
                return false;
            }
            hit = true;
        }
    }
    !positive || hit
}

/// The interface as the matching sees it.
struct Link<'a> {
    device: &'a dyn Device,
    ifname: String,
    iftype: u32,
    mac: Vec<u8>,
    permanent_mac: Option<Vec<u8>>,
    driver: Option<String>,
    kind: Option<String>,
}

impl Match {
    fn fits(&self, l: &Link) -> bool {
        let type_name = l
            .device
            .property("DEVTYPE")
            .filter(|t| !t.is_empty())
            .or_else(|| arphrd_name(l.iftype).map(str::to_string));
        let path = l.device.property("ID_PATH");
        (self.mac.is_empty() || self.mac.contains(&l.mac))
            && (self.permanent_mac.is_empty()
                || l.permanent_mac
                    .as_ref()
                    .is_some_and(|p| self.permanent_mac.contains(p)))
            && match_list(&self.path, path.as_deref())
            && match_list(&self.driver, l.driver.as_deref())
            && match_list(&self.iftype, type_name.as_deref())
            && match_list(&self.kind, l.kind.as_deref())
            && match_list(&self.original_name, Some(&l.ifname))
            && self.property.iter().all(|p| {
                let (invert, p) = match p.strip_prefix('!') {
                    Some(r) => (true, r),
                    None => (false, p.as_str()),
                };
                let Some((k, pat)) = p.split_once('=') else {
                    return false;
                };
                let v = l.device.property(k).is_some_and(|v| glob(pat, &v, false));
                v != invert
            })
    }
}

/// `name_assign_type` values.
const NET_NAME_PREDICTABLE: u64 = 2;
const NET_NAME_USER: u64 = 3;
const NET_NAME_RENAMED: u64 = 4;
/// `addr_assign_type` values.
const NET_ADDR_PERM: u64 = 0;
const NET_ADDR_RANDOM: u64 = 1;

/// systemd's fixed key for hashing persistent MAC addresses.
const HASH_KEY: [u8; 16] = [
    0xd3, 0x1e, 0x48, 0xfa, 0x90, 0xfe, 0x4b, 0x4c, 0x9d, 0xaf, 0xd5, 0xd7, 0xa1, 0xb1, 0x2e, 0x8a,
];

/// SipHash-2-4 of `data` with a 128-bit key.
pub fn siphash24(data: &[u8], key: &[u8; 16]) -> u64 {
    let word = |b: &[u8]| b.iter().rev().fold(0u64, |a, &x| (a << 8) | u64::from(x));
    let (k0, k1) = (
        word(key.get(..8).unwrap_or_default()),
        word(key.get(8..).unwrap_or_default()),
    );
    let mut v = [
        k0 ^ 0x736f6d6570736575,
        k1 ^ 0x646f72616e646f6d,
        k0 ^ 0x6c7967656e657261,
        k1 ^ 0x7465646279746573,
    ];
    fn round(v: &mut [u64; 4]) {
        let [mut a, mut b, mut c, mut d] = *v;
        a = a.wrapping_add(b);
        b = b.rotate_left(13) ^ a;
        a = a.rotate_left(32);
        c = c.wrapping_add(d);
        d = d.rotate_left(16) ^ c;
        a = a.wrapping_add(d);
        d = d.rotate_left(21) ^ a;
        c = c.wrapping_add(b);
        b = b.rotate_left(17) ^ c;
        c = c.rotate_left(32);
        *v = [a, b, c, d];
    }
    let chunks = data.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        let m = word(c);
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    let last = ((data.len() as u64 & 0xff) << 56) | word(tail);
    v[3] ^= last;
    round(&mut v);
    round(&mut v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// The new hardware address `MACAddressPolicy=`/`MACAddress=` ask for, `None` to leave it.
fn new_mac(
    l: &Link,
    cfg: &LinkConfig,
    configs: &LinkConfigs,
    addr_assign: Option<u64>,
    system: &dyn System,
    nl: &Netlink,
) -> Option<Vec<u8>> {
    if l.mac.is_empty() {
        return None;
    }
    let (mut mac, is_static) = if cfg.mac_policy == MacPolicy::None {
        (cfg.mac.clone()?, true)
    } else {
        if l.iftype != 1 && l.iftype != 32 {
            return None;
        }
        let assign = addr_assign?;
        if assign != NET_ADDR_PERM && assign != NET_ADDR_RANDOM {
            return None;
        }
        // The address already is of the kind asked for.
        if (cfg.mac_policy == MacPolicy::Random) == (assign == NET_ADDR_RANDOM) {
            return None;
        }
        let bytes = if cfg.mac_policy == MacPolicy::Random {
            match nl.random {
                Some(r) => r.to_vec(),
                None => system.read_at("/dev/urandom", 0, 8)?,
            }
        } else {
            // Hash the machine id with the most stable name the interface has.
            let name = [
                "ID_NET_NAME_ONBOARD",
                "ID_NET_NAME_SLOT",
                "ID_NET_NAME_PATH",
                "ID_NET_NAME_MAC",
            ]
            .iter()
            .find_map(|k| l.device.property(k))
            .or_else(|| {
                configs
                    .scheme
                    .has(super::net_id::flags::STABLE_VIRTUAL_MACS)
                    .then(|| l.ifname.clone())
            })?;
            let mut data = configs.machine_id?.to_vec();
            data.extend_from_slice(name.as_bytes());
            siphash24(&data, &HASH_KEY).to_le_bytes().to_vec()
        };
        let mut mac = if l.iftype == 1 {
            vec![0; 6]
        } else {
            l.mac.clone()
        };
        let start = mac.len().checked_sub(if l.iftype == 1 { 6 } else { 8 })?;
        for (d, s) in mac.iter_mut().skip(start).zip(bytes) {
            *d = s;
        }
        (mac, false)
    };
    // net_verify_hardware_address().
    let expected = match l.iftype {
        1 => 6,
        32 => 20,
        _ => return None,
    };
    if mac.len() != expected {
        return None;
    }
    if l.iftype == 1 {
        if mac.iter().all(|&b| b == 0) || mac.iter().all(|&b| b == 0xff) {
            return None;
        }
        let first = mac.first_mut()?;
        *first &= 0xfe;
        if !is_static {
            *first |= 0x02;
        }
    } else {
        if mac.iter().skip(12).all(|&b| b == 0) {
            return None;
        }
        for (d, s) in mac.iter_mut().zip(l.mac.iter()).take(12) {
            *d = *s;
        }
    }
    (mac != l.mac).then_some(mac)
}

/// The `net_setup_link` builtin. `configs` is what [`load`] gave; `nl` what rtnetlink and
/// ethtool know ([`Netlink::default`] when nothing).
pub fn run(
    device: &dyn Device,
    system: &dyn System,
    args: &[String],
    configs: &LinkConfigs,
    nl: &Netlink,
) -> Result<Output, String> {
    if !args.is_empty() {
        return Err("This program takes no arguments.".into());
    }
    let ifname = device.sysname();
    let ifindex: u32 = device
        .property("IFINDEX")
        .and_then(|v| v.parse().ok())
        .ok_or("no valid IFINDEX")?;
    let action = device.property("ACTION").unwrap_or_default();
    let num = |a: &str| device.sysattr(a).and_then(|v| parse_auto(&v));
    let name_assign = num("name_assign_type");
    let addr_assign = num("addr_assign_type");
    let iftype = u32::try_from(num("type").ok_or("cannot read attribute 'type'")?)
        .map_err(|_| "bad 'type' attribute")?;
    let flags = num("flags").unwrap_or(0);
    let mac = device
        .sysattr("address")
        .and_then(|a| parse_sysfs_hwaddr(&a))
        .unwrap_or_default();
    let permanent_mac = nl
        .permanent_mac
        .clone()
        .or_else(|| (addr_assign == Some(NET_ADDR_PERM) && !mac.is_empty()).then(|| mac.clone()));
    let driver = nl
        .driver
        .clone()
        .or_else(|| device.parent().and_then(|p| p.driver()));
    let link = Link {
        device,
        ifname: ifname.clone(),
        iftype,
        mac,
        permanent_mac,
        driver,
        kind: nl.kind.clone(),
    };
    let mut out = Output::default();
    if let Some(d) = &link.driver {
        out.set("ID_NET_DRIVER", d.clone());
    }
    // IFF_LOOPBACK: .link files never configure loopback.
    if flags & 0x8 != 0 {
        return Ok(out);
    }
    let Some(cfg) = configs.configs.iter().find(|c| c.matches.fits(&link)) else {
        return Ok(out);
    };
    let mut new_name = ifname.clone();
    if matches!(action.as_str(), "add" | "bind" | "move") {
        let mut changes = LinkChanges {
            ifindex,
            ifname: ifname.clone(),
            alias: cfg.alias.clone(),
            mac: new_mac(&link, cfg, configs, addr_assign, system, nl),
            mtu: cfg.mtu,
            txqueues: cfg.txqueues,
            rxqueues: cfg.rxqueues,
            txqueuelen: cfg.txqueuelen,
            gso_max_bytes: cfg.gso_max_bytes,
            gso_max_segments: cfg.gso_max_segments,
            alternative_names: Vec::new(),
        };
        if let Some(n) = choose_name(&link, cfg, configs, &action, name_assign) {
            new_name = n;
        }
        let mut alt = cfg.alternative_names.clone();
        alt.extend(
            cfg.alternative_names_policy
                .iter()
                .filter_map(|p| device.property(p.property()?))
                .filter(|n| !n.is_empty()),
        );
        // Neither the current name nor the one the interface is about to get.
        alt.retain(|n| *n != ifname && *n != new_name && !nl.alternative_names.contains(n));
        alt.sort();
        alt.dedup();
        changes.alternative_names = alt;
        if changes
            != (LinkChanges {
                ifindex,
                ifname: ifname.clone(),
                ..LinkChanges::default()
            })
        {
            out.actions.push(Action::LinkConfig(changes));
        }
    }
    out.set("ID_NET_LINK_FILE", cfg.file.clone());
    out.set("ID_NET_NAME", new_name);
    Ok(out)
}

/// The name `NamePolicy=` then `Name=` give; `None` to keep the current one.
fn choose_name(
    l: &Link,
    cfg: &LinkConfig,
    configs: &LinkConfigs,
    action: &str,
    name_assign: Option<u64>,
) -> Option<String> {
    if action == "move" {
        return None;
    }
    let user_named = matches!(name_assign, Some(NET_NAME_USER | NET_NAME_RENAMED));
    if user_named && !configs.scheme.has(super::net_id::flags::ALLOW_RERENAMES) {
        return None;
    }
    if configs.name_policy_enabled {
        for p in cfg.name_policy.iter().flatten() {
            match p {
                NamePolicy::Kernel if name_assign == Some(NET_NAME_PREDICTABLE) => return None,
                NamePolicy::Keep if user_named => return None,
                NamePolicy::Kernel | NamePolicy::Keep => {}
                _ => {
                    let n = p.property().and_then(|k| l.device.property(k));
                    if let Some(n) = n.filter(|n| ifname_valid(n, false)) {
                        return Some(n);
                    }
                }
            }
        }
    }
    cfg.name.clone()
}

#[cfg(test)]
#[path = "link_tests.rs"]
mod tests;
