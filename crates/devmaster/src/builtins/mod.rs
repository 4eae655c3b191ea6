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
pub mod btrfs;
pub(crate) mod devutil;
pub mod hwdb;
pub mod input_id;
pub mod keyboard;
pub mod kmod;
pub mod link;
pub mod net_id;
pub mod path_id;
pub mod real;
pub mod uaccess;
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
    /// `BTRFS_IOC_DEVICES_READY` for the device node `devnode` through
    /// `/dev/btrfs-control`: whether its btrfs file system has all its devices. The error
    /// of opening the control device is passed on as it is (the btrfs builtin treats a
    /// missing driver as "not ready").
    fn btrfs_ready(&self, devnode: &str) -> std::io::Result<bool> {
        let _ = devnode;
        Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
    }
    /// A whole file, `None` when it cannot be read.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// A whole large file held for long (`hwdb.bin`): mapped from the page cache where
    /// the system can, so forked workers share its pages instead of each reading a copy.
    fn map(&self, path: &str) -> Option<Bytes> {
        self.read(path).map(Bytes::Owned)
    }
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

/// A file's bytes, read into memory or mapped ([`System::map`]).
pub enum Bytes {
    /// Read into memory.
    Owned(Vec<u8>),
    /// Mapped read-only from the page cache.
    Mapped(sys::fd::Mapped),
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m.as_ref(),
        }
    }
}

/// Something a builtin wants done to the system, carried out by the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Load kernel modules by alias or name (`kmod load ...`).
    LoadModules(Vec<String>),
    /// Apply `.link` settings to a network interface (`net_setup_link`): rtnetlink
    /// `RTM_SETLINK` for MAC, MTU, alias and queues, then the alternative names.
    LinkConfig(link::LinkChanges),
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

/// A builtin's command line split into words as udev 252 splits it: on whitespace, with
/// single and double quotes grouping (and removed; an unterminated quote runs to the end)
/// and backslashes kept as ordinary characters.
pub fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// Data some builtins need, loaded once per process (a worker is restarted when the
/// configuration changes): the hardware database and the `.link` files.
struct Loaded {
    hwdb: Option<hwdb::Hwdb>,
    links: link::LinkConfigs,
}

fn loaded(system: &dyn System) -> &'static Loaded {
    static LOADED: std::sync::OnceLock<Loaded> = std::sync::OnceLock::new();
    LOADED.get_or_init(|| {
        let (hwdb, diagnostics) = hwdb::load(system);
        for d in diagnostics {
            eprintln!("devmaster: {d}");
        }
        let (links, diagnostics) = link::load(system);
        for d in diagnostics {
            eprintln!("devmaster: {d}");
        }
        Loaded { hwdb, links }
    })
}

/// Runs `builtin` with the command line `command` (its first word is the builtin's name).
pub fn run(
    builtin: crate::rules::syntax::Builtin,
    command: &str,
    device: &dyn Device,
    system: &dyn System,
) -> Result<Output, String> {
    use crate::rules::syntax::Builtin as B;
    let args: Vec<String> = words(command).into_iter().skip(1).collect();
    match builtin {
        B::NetId => {
            let data = loaded(system);
            let scheme = net_id::Scheme::from_system(system).0;
            net_id::run_with(device, system, &args, scheme, data.hwdb.as_ref())
        }
        B::Hwdb => match &loaded(system).hwdb {
            Some(db) => hwdb::run(device, system, &args, db),
            None => Err("no hardware database (hwdb.bin or hwdb.d sources) found".into()),
        },
        B::NetSetupLink => {
            let nl = link::Netlink::default();
            link::run(device, system, &args, &loaded(system).links, &nl)
        }
        B::PathId => path_id::run(device, system, &args),
        B::InputId => input_id::run(device, system, &args),
        B::UsbId => usb_id::run(device, system, &args),
        B::Keyboard => keyboard::run(device, system, &args),
        B::Kmod => kmod::run(device, system, &args),
        B::Blkid => blkid::run(device, system, &args),
        B::Btrfs => btrfs::run(device, system, &args),
        B::Uaccess => uaccess::run(device, system, &args),
    }
}

#[cfg(test)]
mod words_tests {
    use super::words;

    #[test]
    fn udev_splitting() {
        let cases: &[(&str, &[&str])] = &[
            ("path_id", &["path_id"]),
            (
                "  kmod   load  $env{MODALIAS} ",
                &["kmod", "load", "$env{MODALIAS}"],
            ),
            (
                "hwdb 'evdev:name:AT Translated Set 2 keyboard:dmi:*' --subsystem=input",
                &[
                    "hwdb",
                    "evdev:name:AT Translated Set 2 keyboard:dmi:*",
                    "--subsystem=input",
                ],
            ),
            (r#"a\ b "c d"e"#, &[r"a\", "b", "c de"]),
            ("x 'unterminated quote", &["x", "unterminated quote"]),
            ("x ''", &["x", ""]),
            ("", &[]),
        ];
        for (input, expected) in cases {
            assert_eq!(&words(input), expected, "{input:?}");
        }
    }
}
