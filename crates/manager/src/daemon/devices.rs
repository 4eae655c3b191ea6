//! Device units in the daemon (systemd.device(5)): udev's view of the devices tagged
//! `systemd`, turned into `plugged`/`dead` device units.
//!
//! Two sources, as in systemd: the udev database at start-up, after a recovery and after
//! `daemon-reload` (coldplug: states are set without starting or stopping anything), and
//! the libudev re-broadcasts on the netlink "udev" group while running (only messages sent
//! by root count). A device counts while it carries the current tag `systemd` and
//! `SYSTEMD_READY=` is not false; a `remove` event or a lost tag unplugs it. What a device
//! stands for ([`units::device::DeviceInfo`]) is pure; this module only feeds it.
//!
//! Without a udev daemon (no `/run/udev`, or a container) nothing is ever plugged: a start
//! job of a device unit then waits its 90 s and fails, as systemd's does.

use super::Daemon;
use crate::registry::Runtime;
use std::collections::BTreeMap;
use units::device::{DeviceInfo, DeviceState};
use units::{ActiveState, Dependency, UnitId};

/// Whether `TAGS`/`CURRENT_TAGS`-style `:a:b:` lists hold `tag`.
fn has_tag(list: Option<&String>, tag: &str) -> bool {
    list.is_some_and(|l| l.split(':').any(|t| t == tag))
}

impl Daemon {
    /// Subscribes to udev's re-broadcasts.
    pub(super) fn open_udev_monitor() -> Option<sys::netlink::UeventSocket> {
        match sys::netlink::UeventSocket::open(sys::netlink::Group::Udev) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("sysmaster: cannot listen to udev's device events: {e}; device units follow the udev database only at start and reload");
                None
            }
        }
    }

    /// Reads every waiting udev message and applies it.
    pub(super) fn read_udev_monitor(&mut self) {
        let mut buf = Vec::new();
        for _ in 0..256 {
            let Some(socket) = &self.udev_monitor else {
                return;
            };
            let sender = match socket.recv(&mut buf) {
                Ok(Some(s)) => s,
                Ok(None) => return,
                Err(e) => {
                    eprintln!("sysmaster: reading udev's device events failed: {e}");
                    return;
                }
            };
            if sender.uid != 0 {
                continue;
            }
            match devproto::monitor::decode(&buf) {
                Ok(event) => {
                    let present = event.action != "remove"
                        && has_tag(event.properties.get("CURRENT_TAGS"), "systemd");
                    let info = DeviceInfo {
                        syspath: format!("/sys{}", event.devpath),
                        properties: event.properties,
                    };
                    self.device_seen(&info, present);
                }
                Err(e) => eprintln!("sysmaster: ignoring a malformed udev message: {e}"),
            }
        }
    }

    /// Sets every device unit from the udev database, without starting or stopping
    /// anything (start-up, recovery, reload).
    pub(crate) fn coldplug_devices(&mut self) {
        let Some(dir) = self.udev_dir.clone() else {
            return;
        };
        let devices = devproto::enumerate::tagged(&dir, "systemd");
        let mut seen: Vec<String> = Vec::new();
        self.coldplugging = true;
        for found in devices {
            if !found.entry.current_tags.contains("systemd") {
                continue;
            }
            let mut properties = found.properties;
            if !found.entry.devlinks.is_empty() {
                let links: Vec<&str> = found.entry.devlinks.iter().map(String::as_str).collect();
                properties.insert("DEVLINKS".into(), links.join(" "));
            }
            let info = DeviceInfo {
                syspath: found.syspath.clone(),
                properties,
            };
            self.device_seen(&info, true);
            seen.push(found.syspath);
        }
        // Devices of a previous manager or reload that are gone now.
        let gone: Vec<String> = self
            .devices
            .keys()
            .filter(|s| !seen.contains(s))
            .cloned()
            .collect();
        for syspath in gone {
            let info = DeviceInfo {
                syspath,
                properties: BTreeMap::new(),
            };
            self.device_seen(&info, false);
        }
        self.coldplugging = false;
    }

    /// Applies what udev says of one device: its units plugged (and its `SYSTEMD_WANTS=`
    /// wanted by the main one), or dead when it is gone or not ready.
    pub(crate) fn device_seen(&mut self, info: &DeviceInfo, present: bool) {
        let names = if present && info.ready() {
            info.unit_names()
        } else {
            Vec::new()
        };
        let mut ids: Vec<UnitId> = Vec::new();
        for name in &names {
            match self.reg.load(name) {
                Ok(u) => ids.push(u),
                Err(e) => eprintln!("sysmaster: device unit {name}: {e}"),
            }
        }
        if let Some(&main) = ids.first() {
            let (wants, bad) = info.wants();
            for word in bad {
                eprintln!(
                    "sysmaster: {}: SYSTEMD_WANTS= names no unit: {word}, ignoring",
                    info.syspath
                );
            }
            for w in wants {
                match self.reg.load(&w) {
                    Ok(o) if o != main => self.reg.graph.add(main, Dependency::Wants, o),
                    Ok(_) => {}
                    Err(e) => eprintln!("sysmaster: {}: SYSTEMD_WANTS={w}: {e}", info.syspath),
                }
            }
        }
        let old = self.devices.remove(&info.syspath).unwrap_or_default();
        let description = info.description();
        let mut changed: Vec<(UnitId, ActiveState)> = Vec::new();
        for &u in &ids {
            if let Some(Runtime::Device(d)) = self.reg.unit_mut(u).map(|x| &mut x.runtime) {
                d.state = DeviceState::Plugged;
                d.sysfs.clone_from(&info.syspath);
                d.description = Some(description.clone());
                changed.push((u, ActiveState::Active));
            }
        }
        for u in old.into_iter().filter(|u| !ids.contains(u)) {
            if let Some(Runtime::Device(d)) = self.reg.unit_mut(u).map(|x| &mut x.runtime) {
                // Another device may have taken the name (a symlink moved) meanwhile.
                if d.sysfs == info.syspath {
                    d.state = DeviceState::Dead;
                    changed.push((u, ActiveState::Inactive));
                }
            }
        }
        if !ids.is_empty() {
            self.devices.insert(info.syspath.clone(), ids);
        }
        for (u, state) in changed {
            self.dirty.insert(u);
            self.set_active(u, state, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::has_tag;

    #[test]
    fn tags() {
        let l = ":uaccess:systemd:seat:".to_string();
        assert!(has_tag(Some(&l), "systemd"));
        assert!(!has_tag(Some(&l), "system"));
        assert!(!has_tag(None, "systemd"));
    }
}
