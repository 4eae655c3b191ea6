//! What the sysfs builtins (path_id, usb_id, input_id, keyboard) ask of a device as
//! sd-device (systemd 252) answers it, written over the rules' [`Device`] trait and the
//! builtins' [`System`]: subsystem and devtype, the nearest parent of a subsystem, another
//! device's attribute by subsystem and name (`sd_device_new_from_subsystem_sysname`), a
//! device read on demand from any sysfs path ([`SysDevice`]), and the number parsing of
//! systemd's `safe_atou*` family.

use std::collections::BTreeMap;

use super::System;
use crate::rules::subst::Device;

/// The device's subsystem (`SUBSYSTEM`, else the `subsystem` link).
pub(crate) fn subsystem(d: &dyn Device) -> Option<String> {
    d.property("SUBSYSTEM").or_else(|| d.sysattr("subsystem"))
}

/// The device's `DEVTYPE`.
pub(crate) fn devtype(d: &dyn Device) -> Option<String> {
    d.property("DEVTYPE")
}

/// `/sys` + devpath.
pub(crate) fn syspath(d: &dyn Device) -> String {
    format!("/sys{}", d.devpath())
}

/// sd-device's `get_parent_with_subsystem_devtype`: the nearest parent (never the device
/// itself) of `subsys`, and of `devtype` when given.
pub(crate) fn parent_with<'a>(
    d: &'a dyn Device,
    subsys: &str,
    devtype_want: Option<&str>,
) -> Option<&'a dyn Device> {
    std::iter::successors(d.parent(), |p| p.parent()).find(|p| {
        subsystem(*p).as_deref() == Some(subsys)
            && devtype_want.is_none_or(|t| devtype(*p).as_deref() == Some(t))
    })
}

/// A sysfs attribute file as sd-device returns it: trailing newlines dropped.
pub(crate) fn read_attr(system: &dyn System, path: &str) -> Option<String> {
    let bytes = system.read(path)?;
    let mut s = String::from_utf8_lossy(&bytes).into_owned();
    while s.ends_with(['\n', '\r']) {
        s.pop();
    }
    Some(s)
}

/// The syspath of the device `subsys`/`sysname` as `sd_device_new_from_subsystem_sysname`
/// finds it (a bus device first, then a class device), without resolving links.
pub(crate) fn find_device(system: &dyn System, subsys: &str, sysname: &str) -> Option<String> {
    let name = sysname.replace('/', "!");
    [
        format!("/sys/bus/{subsys}/devices/{name}"),
        format!("/sys/class/{subsys}/{name}"),
    ]
    .into_iter()
    .find(|p| system.read_dir(p).is_some())
}

/// An attribute of the device `subsys`/`sysname`.
pub(crate) fn other_attr(
    system: &dyn System,
    subsys: &str,
    sysname: &str,
    attr: &str,
) -> Option<String> {
    read_attr(
        system,
        &format!("{}/{attr}", find_device(system, subsys, sysname)?),
    )
}

/// systemd's `safe_atou*_full`: leading whitespace skipped, no `-`, the whole rest one number
/// in `base`; base 0 takes `0x` (hex), `0b`, `0o` and a leading `0` (octal), base 16 an
/// optional `0x`. `None` when it does not parse or overflows.
pub(crate) fn parse_unsigned(s: &str, base: u32) -> Option<u64> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r']);
    let s = s.strip_prefix('+').unwrap_or(s);
    fn hex(s: &str) -> Option<&str> {
        s.strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .filter(|r| r.starts_with(|c: char| c.is_ascii_hexdigit()))
    }
    let (digits, radix) = match base {
        0 => {
            if let Some(r) = hex(s) {
                (r, 16)
            } else if let Some(r) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
                (r, 2)
            } else if let Some(r) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
                (r, 8)
            } else if s.len() > 1 && s.starts_with('0') {
                (s.get(1..).unwrap_or(""), 8)
            } else {
                (s, 10)
            }
        }
        16 => (hex(s).unwrap_or(s), 16),
        b => (s, b),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// A device read on demand from a sysfs path through [`System`], with its parents: for
/// devices found by name rather than through the event device's parent chain.
pub(crate) struct SysDevice<'a> {
    system: &'a dyn System,
    devpath: String,
    subsystem: Option<String>,
    properties: BTreeMap<String, String>,
    parent: Option<Box<SysDevice<'a>>>,
}

impl<'a> SysDevice<'a> {
    /// The device at `path` (a `/sys/...` path, links resolved through
    /// [`System::canonical_path`]). `None` when that cannot resolve it or it is not a device
    /// below `/sys`.
    pub(crate) fn new(system: &'a dyn System, path: &str) -> Option<Self> {
        let real = system.canonical_path(path)?;
        let devpath = real.strip_prefix("/sys")?.to_string();
        if !devpath.starts_with('/') || devpath.len() < 2 {
            return None;
        }
        Some(Self::read(system, devpath))
    }

    fn read(system: &'a dyn System, devpath: String) -> Self {
        let sys = format!("/sys{devpath}");
        let subsystem = system
            .canonical_path(&format!("{sys}/subsystem"))
            .and_then(|t| t.rsplit('/').next().map(str::to_string));
        let mut properties = BTreeMap::new();
        if let Some(text) = system.read(&format!("{sys}/uevent")) {
            for line in String::from_utf8_lossy(&text).lines() {
                if let Some((k, v)) = line.split_once('=') {
                    properties.insert(k.to_string(), v.to_string());
                }
            }
        }
        properties.insert("DEVPATH".to_string(), devpath.clone());
        if let Some(s) = &subsystem {
            properties.insert("SUBSYSTEM".to_string(), s.clone());
        }
        let mut parent = None;
        let mut up = devpath.as_str();
        while let Some((head, _)) = up.rsplit_once('/') {
            if head.is_empty() {
                break;
            }
            if system.read(&format!("/sys{head}/uevent")).is_some() {
                parent = Some(Box::new(Self::read(system, head.to_string())));
                break;
            }
            up = head;
        }
        SysDevice {
            system,
            devpath,
            subsystem,
            properties,
            parent,
        }
    }
}

impl Device for SysDevice<'_> {
    fn sysname(&self) -> String {
        self.devpath
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .replace('!', "/")
    }
    fn sysnum(&self) -> Option<String> {
        let name = self.sysname();
        let digits = name.bytes().rev().take_while(u8::is_ascii_digit).count();
        let digits = digits.min(name.len().saturating_sub(1));
        (digits > 0).then(|| {
            name.get(name.len() - digits..)
                .unwrap_or_default()
                .to_string()
        })
    }
    fn devpath(&self) -> String {
        self.devpath.clone()
    }
    fn driver(&self) -> Option<String> {
        self.system
            .canonical_path(&format!("/sys{}/driver", self.devpath))
            .and_then(|t| t.rsplit('/').next().map(str::to_string))
    }
    fn devnode(&self) -> Option<String> {
        self.properties.get("DEVNAME").map(|n| {
            if n.starts_with('/') {
                n.clone()
            } else {
                format!("/dev/{n}")
            }
        })
    }
    fn devnum(&self) -> Option<(u32, u32)> {
        let major = self.properties.get("MAJOR")?.parse().ok()?;
        let minor = self.properties.get("MINOR")?.parse().ok()?;
        Some((major, minor))
    }
    fn property(&self, key: &str) -> Option<String> {
        self.properties.get(key).cloned()
    }
    fn sysattr(&self, attr: &str) -> Option<String> {
        if attr.is_empty() || attr.split('/').any(|c| c == "..") {
            return None;
        }
        if attr == "subsystem" {
            return self.subsystem.clone();
        }
        if attr == "driver" {
            return self.driver();
        }
        read_attr(self.system, &format!("/sys{}/{attr}", self.devpath))
    }
    fn parent(&self) -> Option<&dyn Device> {
        self.parent.as_deref().map(|p| p as &dyn Device)
    }
    fn devlinks(&self) -> Vec<String> {
        Vec::new()
    }
    fn properties(&self) -> BTreeMap<String, String> {
        self.properties.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_unsigned_as_safe_atou() {
        // Expected values: C's strtoul with systemd's checks on top.
        let cases: &[(&str, u32, Option<u64>)] = &[
            ("10", 0, Some(10)),
            ("010", 0, Some(8)),
            ("0x1f", 0, Some(31)),
            ("0b101", 0, Some(5)),
            ("0o17", 0, Some(15)),
            ("0", 0, Some(0)),
            ("  7", 0, Some(7)),
            ("+7", 0, Some(7)),
            ("-7", 0, None),
            ("7 ", 0, None),
            ("", 0, None),
            ("1f", 16, Some(31)),
            ("0x1F", 16, Some(31)),
            ("0x", 16, None),
            ("g", 16, None),
            ("09", 10, Some(9)),
            ("99999999999999999999999", 10, None),
        ];
        for (s, base, want) in cases {
            assert_eq!(parse_unsigned(s, *base), *want, "{s:?} base {base}");
        }
    }

    proptest! {
        #[test]
        fn parse_unsigned_never_panics(s in ".*", base in prop::sample::select(vec![0u32, 10, 16])) {
            let _ = parse_unsigned(&s, base);
        }
    }
}
