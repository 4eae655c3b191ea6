//! udev's builtins (`IMPORT{builtin}="..."`, `RUN{builtin}="..."`), systemd 252.
//!
//! Each builtin is a function of the event device (the [`Device`] trait of the rules, which
//! gives sysfs attributes, parents and current properties) and of what it reads through a
//! [`System`] (files, directories, a block device's bytes). It returns the properties it
//! sets and, as data, what it wants done to the system ([`Action`]); the worker carries the
//! actions out. So every builtin is testable against fakes.

use crate::engine::PropertyChanges;
use crate::rules::subst::Device;

pub mod blkid;
pub(crate) mod devutil;
pub mod hwdb;
pub mod input_id;
pub mod keyboard;
pub mod kmod;
pub mod link;
pub mod net_id;
pub mod path_id;
pub mod usb_id;

#[cfg(test)]
pub(crate) mod fake;

/// What builtins may read of the system. Paths are in the real namespace (`/sys/...`,
/// `/dev/...`, `/etc/...`); a fake maps them into a test tree.
pub trait System {
    /// The `EVIOCGABS(axis)` ioctl on an evdev node: `[value, minimum, maximum, fuzz, flat,
    /// resolution]` as the kernel's `struct input_absinfo`, `None` when the node cannot be
    /// opened or the ioctl fails. input_id needs it for `ID_INPUT_WIDTH_MM`/`HEIGHT_MM`;
    /// without it those are not set.
    fn evdev_absinfo(&self, devnode: &str, axis: u16) -> Option<[i32; 6]> {
        let _ = (devnode, axis);
        None
    }
    /// A whole file, `None` when it cannot be read.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// The entry names of a directory, `None` when it cannot be read.
    fn read_dir(&self, path: &str) -> Option<Vec<String>>;
    /// `len` bytes at `offset` of a file or block device (fewer at its end), `None` when it
    /// cannot be read.
    fn read_at(&self, path: &str, offset: u64, len: usize) -> Option<Vec<u8>>;
    /// The path with every symlink resolved (`realpath`), `None` when it does not exist or
    /// cannot be resolved. net_id needs it for SR-IOV (`physfn`, `virtfn*`) and devicetree
    /// (`of_node`) links; without it those names are not generated.
    fn canonical_path(&self, path: &str) -> Option<String> {
        let _ = path;
        None
    }
}

/// Something a builtin wants done to the system, carried out by the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Load kernel modules by alias or name (`kmod load ...`).
    LoadModules(Vec<String>),
    /// Map a scan code to a key code on an evdev node (`EVIOCSKEYCODE`; keyboard).
    SetKeycode {
        /// The evdev node (`/dev/input/event3`).
        devnode: String,
        /// The scan code.
        scancode: u32,
        /// The key code (`KEY_*`/`BTN_*` value).
        keycode: u32,
    },
    /// Override an absolute axis of an evdev node: read it (`EVIOCGABS`), replace the fields
    /// given, write it back (`EVIOCSABS`) (keyboard, `EVDEV_ABS_<axis>`).
    OverrideAbs {
        /// The evdev node.
        devnode: String,
        /// The `ABS_*` axis.
        axis: u32,
        /// minimum, maximum, resolution, fuzz, flat; `None` keeps the current value.
        values: [Option<i32>; 5],
    },
    /// Write a sysfs attribute (keyboard: a serio device's `force_release`, `sensitivity`).
    WriteSysattr {
        /// The device's path in `/sys`.
        syspath: String,
        /// The attribute (file name below the device).
        attr: String,
        /// The value written.
        value: String,
    },
}

/// What a builtin returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// Properties set (`Some`) or removed (`None`), in order.
    pub properties: PropertyChanges,
    /// Effects for the worker.
    pub actions: Vec<Action>,
}

impl Output {
    /// Adds a property.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.properties.push((key.into(), Some(value.into())));
    }
}

/// A builtin's command line split into words (udev splits on spaces, honouring quotes).
pub fn words(command: &str) -> Vec<String> {
    command.split_whitespace().map(str::to_string).collect()
}

/// Runs `builtin` with the command line `command` (its first word is the builtin's name).
/// Wired to each builtin's own function as they land.
pub fn run(
    builtin: crate::rules::syntax::Builtin,
    command: &str,
    device: &dyn Device,
    system: &dyn System,
) -> Result<Output, String> {
    let _ = (command, device, system);
    Err(format!("builtin {} is not available yet", builtin.name()))
}
