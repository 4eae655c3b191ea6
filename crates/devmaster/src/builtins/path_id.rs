//! The `path_id` builtin of systemd 252: `ID_PATH`, `ID_PATH_TAG` and `ID_PATH_ATA_COMPAT`,
//! a name for where a device sits on the system's buses, composed by walking the device's
//! parents and prepending one element per bus recognised.
//!
//! As udev: pci, usb (host number always `0`), scsi (firewire, fibre channel, SAS, iSCSI,
//! ATA, Hyper-V, and the rebased `scsi-H:B:T:L` otherwise), scsi tapes, cciss, bcma, serio,
//! platform, acpi, xen, virtio (skipped, a transport), s390's scm/ccw/ccwgroup/ap/iucv,
//! nvme (with multipath's `nvme-subsystem` followed to the real controller) and spi. No
//! path without a "supported parent" (pci, platform, acpi, xen, ...); a block device also
//! needs a known transport. The sd-device lookups of transport class devices
//! (`ata_port`, `fc_transport`, `sas_device`, `iscsi_session`, ...) go through [`System`].
//! systemd 252 has no `ID_PATH_WITH_USB_REVISION` (that came later), so neither has this.

use std::cell::OnceCell;

use super::devutil::{
    devtype, find_device, other_attr, parent_with, parse_unsigned, read_attr, subsystem, syspath,
    SysDevice,
};
use super::{Output, System};
use crate::rules::subst::Device;

/// Runs `path_id` on `device`. `Err` where udev's builtin fails: no path found, no supported
/// parent, a block device without a known transport, an nvme multipath namespace whose
/// controller cannot be found.
pub fn run(device: &dyn Device, system: &dyn System, _args: &[String]) -> Result<Output, String> {
    let (path, compat) = compose(device, system)?;
    let mut out = Output::default();
    let t = tag(&path);
    out.set("ID_PATH", path);
    out.set("ID_PATH_TAG", t);
    if let Some(c) = compat {
        out.set("ID_PATH_ATA_COMPAT", c);
    }
    Ok(out)
}

/// The path elements found so far, innermost first (they are prepended).
#[derive(Default)]
struct Walk {
    path: Vec<String>,
    compat: Option<Vec<String>>,
    transport: bool,
    parent_ok: bool,
}

impl Walk {
    /// Prepends to the path, and to the ATA compat path once that exists.
    fn both(&mut self, s: String) {
        if let Some(c) = &mut self.compat {
            c.push(s.clone());
        }
        self.path.push(s);
    }
}

fn join(parts: &[String]) -> String {
    parts
        .iter()
        .rev()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("-")
}

/// udev's `skip_subsystem`: the last of the run of `subsys` devices starting at `d` (`d`
/// itself when it is not of `subsys`).
fn skip<'a>(d: &'a dyn Device, subsys: &str) -> &'a dyn Device {
    let mut last = d;
    let mut cur = Some(d);
    while let Some(c) = cur {
        if subsystem(c).as_deref() != Some(subsys) {
            break;
        }
        last = c;
        cur = c.parent();
    }
    last
}

fn compose(device: &dyn Device, system: &dyn System) -> Result<(String, Option<String>), String> {
    let other: OnceCell<SysDevice<'_>> = OnceCell::new();
    let mut w = Walk::default();
    let mut cur: Option<&dyn Device> = Some(device);
    while let Some(p) = cur {
        let Some(subsys) = subsystem(p) else {
            cur = p.parent();
            continue;
        };
        let name = p.sysname();
        let next: Option<&dyn Device> = match subsys.as_str() {
            "scsi_tape" => {
                scsi_tape(p, &mut w);
                Some(p)
            }
            "scsi" => {
                w.transport = true;
                scsi(p, system, &mut w)
            }
            "cciss" => {
                w.transport = true;
                cciss(p, &mut w)
            }
            "usb" => {
                w.transport = true;
                usb(p, &mut w)
            }
            "bcma" => {
                w.transport = true;
                bcma(p, &mut w)
            }
            "serio" | "spi" => match p.sysnum() {
                Some(n) => {
                    let what = if subsys == "serio" { "serio" } else { "cs" };
                    w.path.push(format!("{what}-{n}"));
                    Some(skip(p, &subsys))
                }
                None => Some(p),
            },
            "pci" | "acpi" | "xen" => {
                w.both(format!("{subsys}-{name}"));
                w.parent_ok = true;
                Some(skip(p, &subsys))
            }
            "platform" | "scm" | "ccw" | "ccwgroup" | "iucv" => {
                w.both(format!("{subsys}-{name}"));
                w.parent_ok = true;
                w.transport = true;
                Some(skip(p, &subsys))
            }
            "virtio" => {
                w.transport = true;
                Some(skip(p, "virtio"))
            }
            "ap" => {
                w.parent_ok = true;
                w.transport = true;
                match (p.sysattr("type"), p.sysattr("ap_functions")) {
                    (Some(t), Some(f)) => w.path.push(format!("ap-{t}-{f}")),
                    _ => w.path.push(format!("ap-{name}")),
                }
                Some(skip(p, "ap"))
            }
            "nvme" | "nvme-subsystem" => match device.sysattr("nsid") {
                // udev reads the namespace id of the event device, whatever `p` is.
                Some(nsid) => {
                    w.both(format!("nvme-{nsid}"));
                    let base: &dyn Device = if subsys == "nvme-subsystem" {
                        if other.get().is_none() {
                            let _ = other.set(real_nvme_parent(device, system)?);
                        }
                        match other.get() {
                            Some(o) => o,
                            None => p,
                        }
                    } else {
                        p
                    };
                    w.parent_ok = true;
                    w.transport = true;
                    Some(skip(base, "nvme"))
                }
                None => Some(p),
            },
            _ => Some(p),
        };
        cur = next.and_then(|d| d.parent());
    }
    if w.path.is_empty() {
        return Err("no persistent path found".to_string());
    }
    if !w.parent_ok {
        return Err("the device's parents are of no supported bus".to_string());
    }
    if subsystem(device).as_deref() == Some("block") && !w.transport {
        return Err("block device without a known transport".to_string());
    }
    Ok((join(&w.path), w.compat.as_deref().map(join)))
}

/// `ID_PATH_TAG`: letters, digits and `-` kept, every other run of bytes one `_`, none
/// leading or trailing.
fn tag(path: &str) -> String {
    let mut t = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            t.push(char::from(b));
        } else if !t.is_empty() && !t.ends_with('_') {
            t.push('_');
        }
    }
    while t.ends_with('_') {
        t.pop();
    }
    t
}

/// `lun-N`, or for LUNs of 256 and more the 64-bit SCSI LUN form; `(null)` where udev's
/// parse fails and glibc prints a null string.
fn lun(d: &dyn Device) -> String {
    match d.sysnum().and_then(|n| parse_unsigned(&n, 10)) {
        Some(l) if l < 256 => format!("lun-{l}"),
        Some(l) => format!("lun-0x{:04x}{:04x}00000000", l & 0xffff, (l >> 16) & 0xffff),
        None => "(null)".to_string(),
    }
}

/// `sscanf(s, "%d:%d:%d:%d")`: four colon-separated integers at the start of `s`.
fn hctl(s: &str) -> Option<[i64; 4]> {
    let mut out = [0i64; 4];
    let mut rest = s;
    for (i, slot) in out.iter_mut().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(':')?;
        }
        let (n, r) = leading_int(rest)?;
        *slot = n;
        rest = r;
    }
    Some(out)
}

/// A C `%d`/`%u` conversion: whitespace, a sign, at least one digit.
fn leading_int(s: &str) -> Option<(i64, &str)> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let digits = s.get(..end).filter(|d| !d.is_empty())?;
    let n = digits.parse::<i64>().unwrap_or(i64::MAX);
    Some((if neg { -n } else { n }, s.get(end..).unwrap_or("")))
}

fn scsi<'a>(p: &'a dyn Device, system: &dyn System, w: &mut Walk) -> Option<&'a dyn Device> {
    if devtype(p).as_deref() != Some("scsi_device") {
        return Some(p);
    }
    if let Some(id) = p.sysattr("ieee1394_id") {
        w.path.push(format!("ieee1394-0x{id}"));
        w.parent_ok = true;
        return Some(skip(p, "scsi"));
    }
    // The transport is no subsystem of its own in sysfs: the path tells it.
    let sp = syspath(p);
    if sp.contains("/rport-") {
        w.parent_ok = true;
        return scsi_fibre_channel(p, system, w);
    }
    if sp.contains("/end_device-") {
        w.parent_ok = true;
        return scsi_sas(p, system, w);
    }
    if sp.contains("/session") {
        w.parent_ok = true;
        return scsi_iscsi(p, system, w);
    }
    if sp.contains("/ata") {
        return scsi_ata(p, system, w);
    }
    if sp.contains("/vmbus_") {
        return scsi_hyperv(p, w, 37);
    }
    if sp.contains("/VMBUS") {
        return scsi_hyperv(p, w, 38);
    }
    scsi_default(p, system, w)
}

fn scsi_fibre_channel<'a>(
    p: &'a dyn Device,
    system: &dyn System,
    w: &mut Walk,
) -> Option<&'a dyn Device> {
    let target = parent_with(p, "scsi", Some("scsi_target"))?;
    let port = other_attr(system, "fc_transport", &target.sysname(), "port_name")?;
    w.path.push(format!("fc-{port}-{}", lun(p)));
    Some(p)
}

fn scsi_sas_wide_port<'a>(
    p: &'a dyn Device,
    system: &dyn System,
    w: &mut Walk,
) -> Option<&'a dyn Device> {
    let target = parent_with(p, "scsi", Some("scsi_target"))?;
    let end_device = target.parent()?;
    let address = other_attr(system, "sas_device", &end_device.sysname(), "sas_address")?;
    w.path.push(format!("sas-{address}-{}", lun(p)));
    Some(p)
}

fn scsi_sas<'a>(p: &'a dyn Device, system: &dyn System, w: &mut Walk) -> Option<&'a dyn Device> {
    let target = parent_with(p, "scsi", Some("scsi_target"))?;
    let end_device = target.parent()?;
    let target_sas = find_device(system, "sas_device", &end_device.sysname())?;
    let port = end_device.parent()?;
    let port_sas = find_device(system, "sas_port", &port.sysname())?;
    let phys = read_attr(system, &format!("{port_sas}/num_phys"))?;
    if phys != "1" {
        return scsi_sas_wide_port(p, system, w);
    }
    let phy = read_attr(system, &format!("{target_sas}/phy_identifier"))?;
    // The port hangs off the HBA or off an expander, which has an address of its own.
    let expander = port.parent()?;
    let address = match find_device(system, "sas_device", &expander.sysname()) {
        Some(e) => Some(read_attr(system, &format!("{e}/sas_address"))?),
        None => None,
    };
    w.path.push(match address {
        Some(a) => format!("sas-exp{a}-phy{phy}-{}", lun(p)),
        None => format!("sas-phy{phy}-{}", lun(p)),
    });
    Some(p)
}

fn scsi_iscsi<'a>(p: &'a dyn Device, system: &dyn System, w: &mut Walk) -> Option<&'a dyn Device> {
    let session = std::iter::successors(p.parent(), |d| d.parent())
        .find(|d| d.sysname().starts_with("session"))?;
    let name = session.sysname();
    let target = other_attr(system, "iscsi_session", &name, "targetname")?;
    let conn = format!("connection{}:0", session.sysnum()?);
    let addr = other_attr(system, "iscsi_connection", &conn, "persistent_address")?;
    let port = other_attr(system, "iscsi_connection", &conn, "persistent_port")?;
    w.path
        .push(format!("ip-{addr}:{port}-iscsi-{target}-{}", lun(p)));
    Some(p)
}

fn scsi_ata<'a>(p: &'a dyn Device, system: &dyn System, w: &mut Walk) -> Option<&'a dyn Device> {
    let [_, bus, target, _] = hctl(&p.sysname())?;
    let host = parent_with(p, "scsi", Some("scsi_host"))?;
    let port = host.parent()?;
    let port_no = other_attr(system, "ata_port", &port.sysname(), "port_no")?;
    // `%u` in udev: negative numbers print as their 32-bit two's complement.
    let (bus, target) = (bus as u32, target as u32);
    w.path.push(if bus != 0 {
        // Behind a port multiplier.
        format!("ata-{port_no}.{bus}.0")
    } else {
        format!("ata-{port_no}.{target}")
    });
    w.compat
        .get_or_insert_with(Vec::new)
        .push(format!("ata-{port_no}"));
    Some(p)
}

/// `scsi-H:B:T:L` with the host number rebased to the lowest `hostN` of the same parent, as
/// udev does (and itself calls unreliable).
fn scsi_default<'a>(
    p: &'a dyn Device,
    system: &dyn System,
    w: &mut Walk,
) -> Option<&'a dyn Device> {
    let host = parent_with(p, "scsi", Some("scsi_host"))?;
    let [h, bus, target, l] = hctl(&p.sysname())?;
    let hp = syspath(host);
    let (dir, _) = hp.rsplit_once('/')?;
    let base = system
        .read_dir(dir)?
        .iter()
        .filter(|n| !n.starts_with('.'))
        .filter_map(|n| n.strip_prefix("host"))
        .filter_map(|n| parse_unsigned(n, 10).filter(|&v| v <= u64::from(u32::MAX)))
        .min();
    let Some(base) = base else {
        return Some(host);
    };
    let (h, bus, target, l) = (h as i32, bus as i32, target as i32, l as i32);
    let h = h.wrapping_sub(base as i32);
    w.path.push(format!("scsi-{h}:{bus}:{target}:{l}"));
    Some(host)
}

/// Hyper-V: the VMBus device's GUID without braces and dashes (`len` is the length of the
/// braced GUID the kernel prints, 37 or 38 by kernel version).
fn scsi_hyperv<'a>(p: &'a dyn Device, w: &mut Walk, len: usize) -> Option<&'a dyn Device> {
    let host = parent_with(p, "scsi", Some("scsi_host"))?;
    let vmbus = host.parent()?;
    let id = vmbus.sysattr("device_id")?;
    let b = id.as_bytes();
    if b.len() < len || b.first() != Some(&b'{') || b.get(len - 1) != Some(&b'}') {
        return None;
    }
    let guid: String = b
        .get(1..len - 1)?
        .iter()
        .filter(|&&c| c != b'-')
        .map(|&c| char::from(c))
        .collect();
    w.path.push(format!("vmbus-{guid}-{}", lun(p)));
    Some(p)
}

fn cciss<'a>(p: &'a dyn Device, w: &mut Walk) -> Option<&'a dyn Device> {
    // sysname `c<controller>d<disk>...`
    let name = p.sysname();
    let (_, rest) = leading_int(name.strip_prefix('c')?)?;
    let (disk, _) = leading_int(rest.strip_prefix('d')?)?;
    w.path.push(format!("cciss-disk{}", disk as u32));
    Some(skip(p, "cciss"))
}

/// Tapes: `st<mode>`/`nst<mode>` for the auto-rewind and no-rewind nodes, only as the
/// first (innermost) element. udev's test also accepts the bare names (the terminating NUL
/// is in its set of mode letters), which then add `st`/`nst`.
fn scsi_tape(p: &dyn Device, w: &mut Walk) {
    if !w.path.is_empty() {
        return;
    }
    let name = p.sysname();
    let mode = |rest: &str| match rest.chars().next() {
        None => Some(String::new()),
        Some(c @ ('l' | 'm' | 'a')) => Some(c.to_string()),
        Some(_) => None,
    };
    if let Some(m) = name.strip_prefix("nst").and_then(mode) {
        w.path.push(format!("nst{m}"));
    } else if let Some(m) = name.strip_prefix("st").and_then(mode) {
        w.path.push(format!("st{m}"));
    }
}

fn usb<'a>(p: &'a dyn Device, w: &mut Walk) -> Option<&'a dyn Device> {
    if !matches!(devtype(p).as_deref(), Some("usb_interface" | "usb_device")) {
        return Some(p);
    }
    let name = p.sysname();
    let Some((_, port)) = name.split_once('-') else {
        return Some(p);
    };
    // The host number changes across boots; the topology after it does not.
    w.path.push(format!("usb-0:{port}"));
    Some(skip(p, "usb"))
}

fn bcma<'a>(p: &'a dyn Device, w: &mut Walk) -> Option<&'a dyn Device> {
    // sysname `bcma<bus>:<core>`
    let name = p.sysname();
    let (_, rest) = leading_int(name.strip_prefix("bcma")?)?;
    let (core, _) = leading_int(rest.strip_prefix(':')?)?;
    w.path.push(format!("bcma-{}", core as u32));
    Some(p)
}

/// For a namespace of an nvme multipath subsystem (`/devices/virtual/nvme-subsystem/...`)
/// the controller device `nvmeN` of the same number, which sits on the real bus.
fn real_nvme_parent<'a>(
    device: &dyn Device,
    system: &'a dyn System,
) -> Result<SysDevice<'a>, String> {
    let name = device.sysname();
    let rest = name
        .strip_prefix("nvme")
        .ok_or_else(|| format!("{name} is not an nvme device"))?;
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let ctrl = format!("nvme{}", rest.get(..digits).unwrap_or(""));
    let found = find_device(system, "nvme", &ctrl)
        .and_then(|p| SysDevice::new(system, &p))
        .ok_or_else(|| format!("nvme controller {ctrl} not found"))?;
    if found.devpath().starts_with("/devices/virtual/") {
        // nvme over fabrics: no bus path.
        return Err(format!("nvme controller {ctrl} is virtual"));
    }
    Ok(found)
}

#[cfg(test)]
#[path = "path_id_tests.rs"]
mod tests;
