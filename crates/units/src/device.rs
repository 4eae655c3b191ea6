//! Device units (systemd.device(5)), pure: which units a udev device stands for and what
//! they want.
//!
//! A device tagged `systemd` by the udev rules appears as one unit per name it has: its
//! sysfs path (`sys-devices-...device`, the main unit), its node (`dev-sda.device`), each
//! of its symlinks (`dev-disk-by\x2duuid-....device`) and each `SYSTEMD_ALIAS=` path. All
//! are `plugged` while the device exists and `SYSTEMD_READY=` is not false, `dead`
//! otherwise. `SYSTEMD_WANTS=` adds `Wants=` to the main unit only (as systemd 252 does);
//! a template in it is instantiated with the escaped sysfs path.
//!
//! Left out: the `tentative` state (a device seen only in `/proc/self/mountinfo` or
//! `/proc/swaps` before udev reports it) and `SYSTEMD_USER_WANTS=` (no user manager).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use unitfile::name::{self, UnitType};

use crate::ActiveState;

/// `SubState=` of a device unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DeviceState {
    #[default]
    Dead,
    Plugged,
}

impl DeviceState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceState::Dead => "dead",
            DeviceState::Plugged => "plugged",
        }
    }

    pub fn active_state(self) -> ActiveState {
        match self {
            DeviceState::Dead => ActiveState::Inactive,
            DeviceState::Plugged => ActiveState::Active,
        }
    }
}

/// What udev says of one device (its netlink event or its database entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `/sys/devices/...`.
    pub syspath: String,
    /// Every property (`DEVNAME`, `DEVLINKS`, `SYSTEMD_*`, `ID_*`, ...).
    pub properties: BTreeMap<String, String>,
}

impl DeviceInfo {
    fn get(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(String::as_str)
    }

    /// Whether the device counts as present: `SYSTEMD_READY=` unset or true.
    pub fn ready(&self) -> bool {
        self.get("SYSTEMD_READY")
            .is_none_or(|v| unitfile::value::parse_bool(v).unwrap_or(true))
    }

    /// The unit names, the main (sysfs) unit first, without duplicates. Paths that make
    /// no valid unit name are skipped.
    pub fn unit_names(&self) -> Vec<String> {
        let mut paths: Vec<String> = vec![self.syspath.clone()];
        if let Some(node) = self.get("DEVNAME") {
            paths.push(absolute_dev(node));
        }
        for link in self.get("DEVLINKS").unwrap_or("").split_whitespace() {
            // The kernel's own `/dev/block/M:m` and `/dev/char/M:m` links are not units.
            if !(link.starts_with("/dev/block/") || link.starts_with("/dev/char/")) {
                paths.push(link.to_string());
            }
        }
        for alias in self.get("SYSTEMD_ALIAS").unwrap_or("").split_whitespace() {
            if alias.starts_with('/') {
                paths.push(alias.to_string());
            }
        }
        let mut names: Vec<String> = Vec::new();
        for p in paths {
            if let Ok(n) = name::path_to_unit_name(&p, UnitType::Device) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        names
    }

    /// `SYSTEMD_WANTS=`: unit names, templates instantiated with the escaped sysfs path.
    /// Words that are no valid unit name are returned in the error list.
    pub fn wants(&self) -> (Vec<String>, Vec<String>) {
        let mut wants = Vec::new();
        let mut bad = Vec::new();
        let words = unitfile::words::split_words(
            self.get("SYSTEMD_WANTS").unwrap_or(""),
            unitfile::words::WHITESPACE,
            unitfile::words::ExtractFlags::UNQUOTE,
        );
        for word in words.unwrap_or_default() {
            let Ok(unit) = name::UnitName::parse(&word) else {
                bad.push(word);
                continue;
            };
            let full = if unit.is_template() {
                match name::escape_path(&self.syspath) {
                    Ok(instance) => unit.with_instance(&instance).ok().map(|u| u.to_string()),
                    Err(_) => None,
                }
            } else {
                Some(unit.to_string())
            };
            match full {
                Some(n) if !wants.contains(&n) => wants.push(n),
                Some(_) => {}
                None => bad.push(word),
            }
        }
        (wants, bad)
    }

    /// `Description=` as systemd forms it: the model (from the hwdb, else udev's), with
    /// the file system label, partition name or number appended; else the sysfs path.
    pub fn description(&self) -> String {
        let model = self
            .get("ID_MODEL_FROM_DATABASE")
            .or_else(|| self.get("ID_MODEL"))
            .filter(|m| !m.is_empty());
        let Some(model) = model else {
            return self.syspath.clone();
        };
        let label = self
            .get("ID_FS_LABEL")
            .or_else(|| self.get("ID_PART_ENTRY_NAME"))
            .or_else(|| self.get("ID_PART_ENTRY_NUMBER"))
            .filter(|l| !l.is_empty());
        match label {
            Some(l) => format!("{model} {l}"),
            None => model.to_string(),
        }
    }
}

fn absolute_dev(node: &str) -> String {
    if node.starts_with('/') {
        node.to_string()
    } else {
        format!("/dev/{node}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(syspath: &str, props: &[(&str, &str)]) -> DeviceInfo {
        DeviceInfo {
            syspath: syspath.into(),
            properties: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn names_of_a_partition() {
        // systemd-escape --path gives the same names.
        let d = info(
            "/sys/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1",
            &[
                ("DEVNAME", "/dev/vda1"),
                (
                    "DEVLINKS",
                    "/dev/disk/by-uuid/1234-ABCD /dev/block/254:1 /dev/disk/by-path/virtio-pci-0000:00:04.0-part1",
                ),
                ("SYSTEMD_ALIAS", "/dev/root relative"),
            ],
        );
        assert_eq!(
            d.unit_names(),
            vec![
                "sys-devices-pci0000:00-0000:00:04.0-virtio1-block-vda-vda1.device",
                "dev-vda1.device",
                "dev-disk-by\\x2duuid-1234\\x2dABCD.device",
                "dev-disk-by\\x2dpath-virtio\\x2dpci\\x2d0000:00:04.0\\x2dpart1.device",
                "dev-root.device",
            ]
        );
    }

    #[test]
    fn a_network_interface_has_only_its_sysfs_unit() {
        let d = info(
            "/sys/devices/virtual/net/dummy0",
            &[("INTERFACE", "dummy0")],
        );
        assert_eq!(
            d.unit_names(),
            vec!["sys-devices-virtual-net-dummy0.device"]
        );
    }

    #[test]
    fn ready() {
        assert!(info("/sys/devices/x", &[]).ready());
        assert!(info("/sys/devices/x", &[("SYSTEMD_READY", "1")]).ready());
        assert!(!info("/sys/devices/x", &[("SYSTEMD_READY", "0")]).ready());
        assert!(!info("/sys/devices/x", &[("SYSTEMD_READY", "no")]).ready());
    }

    #[test]
    fn wants_instantiate_templates_with_the_sysfs_path() {
        let d = info(
            "/sys/devices/virtual/net/d0",
            &[(
                "SYSTEMD_WANTS",
                "a.service ifup@.service a.service 'b c.service' not/a/unit",
            )],
        );
        let (wants, bad) = d.wants();
        assert_eq!(
            wants,
            vec!["a.service", "ifup@sys-devices-virtual-net-d0.service",]
        );
        assert_eq!(bad, vec!["b c.service", "not/a/unit"]);
    }

    #[test]
    fn descriptions() {
        let base = "/sys/devices/pci0000:00/0000:00:04.0/virtio1/block/vda";
        assert_eq!(info(base, &[]).description(), base);
        assert_eq!(
            info(base, &[("ID_MODEL", "QEMU_HARDDISK")]).description(),
            "QEMU_HARDDISK"
        );
        assert_eq!(
            info(
                base,
                &[
                    ("ID_MODEL", "QEMU_HARDDISK"),
                    ("ID_MODEL_FROM_DATABASE", "Virtio block device"),
                    ("ID_FS_LABEL", "root"),
                ]
            )
            .description(),
            "Virtio block device root"
        );
        assert_eq!(
            info(base, &[("ID_MODEL", "X"), ("ID_PART_ENTRY_NUMBER", "2")]).description(),
            "X 2"
        );
    }
}
