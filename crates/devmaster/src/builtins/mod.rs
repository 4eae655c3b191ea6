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
pub mod hwdb;
pub mod input_id;
pub mod keyboard;
pub mod link;
pub mod net_id;
pub mod path_id;
pub mod usb_id;

/// What builtins may read of the system. Paths are in the real namespace (`/sys/...`,
/// `/dev/...`, `/etc/...`); a fake maps them into a test tree.
pub trait System {
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
    /// Apply `.link` settings to a network interface (`net_setup_link`): rtnetlink
    /// `RTM_SETLINK` for MAC, MTU, alias and queues, then the alternative names.
    LinkConfig(link::LinkChanges),
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
