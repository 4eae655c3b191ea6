//! A device as the rules of one event see it, with what the database says (sd-device reads
//! a device's database entry when asked for its properties): the parents carry their
//! entries' properties (with `DEVLINKS`, `TAGS`, `CURRENT_TAGS`, `USEC_INITIALIZED` as
//! sd-device adds them) and current tags (for `IMPORT{parent}` and `TAGS`); the event
//! device carries its entry only on "remove" — for other actions udevd's rules see the
//! uevent alone, and the old entry is reached through `IMPORT{db}`.

use std::collections::BTreeMap;
use std::path::Path;

use devproto::db::{self, Entry};

use super::host::synthesized;
use crate::device;
use crate::rules::subst;

/// The database id of a device read from sysfs.
pub fn id_of(dev: &device::Device) -> Option<String> {
    use subst::Device as _;
    let ifindex = dev.property("IFINDEX").and_then(|i| i.parse().ok());
    db::device_id(
        dev.subsystem().unwrap_or_default(),
        dev.devnum(),
        ifindex,
        &dev.devpath(),
    )
}

/// A device with its database entry folded in.
pub struct DbDevice {
    base: device::Device,
    props: BTreeMap<String, String>,
    links: Vec<String>,
    tags: Vec<String>,
    run: std::path::PathBuf,
    /// Read (from sysfs and the database) when first asked for, as sd-device does.
    parent: std::cell::OnceCell<Option<Box<DbDevice>>>,
}

impl DbDevice {
    /// The event device `base` (the uevent's view) with `entry` folded in when given, and
    /// its parents with theirs, read from `run`.
    pub fn new(base: device::Device, entry: Option<&Entry>, run: &Path) -> Self {
        let mut d = DbDevice {
            props: base.properties().clone(),
            base,
            links: Vec::new(),
            tags: Vec::new(),
            run: run.to_path_buf(),
            parent: std::cell::OnceCell::new(),
        };
        if let Some(e) = entry {
            d.fold(e);
        }
        d
    }

    fn with_own_entry(base: device::Device, run: &Path) -> Self {
        let entry = id_of(&base).and_then(|id| db::read(run, &id).ok().flatten());
        DbDevice::new(base, entry.as_ref(), run)
    }

    fn fold(&mut self, e: &Entry) {
        for (k, v) in &e.properties {
            self.props.insert(k.clone(), v.clone());
        }
        if e.usec_initialized > 0 {
            self.props
                .insert("USEC_INITIALIZED".into(), e.usec_initialized.to_string());
        }
        self.links = e.devlinks.iter().cloned().collect();
        self.tags = e.current_tags.iter().cloned().collect();
        // sd-device lists these among the properties of a device read with its entry.
        self.props
            .extend(synthesized(&e.devlinks, &e.tags, &e.current_tags));
    }

    /// Replaces what the rules see of the device (for builtins run after the rules).
    pub fn set_state(
        &mut self,
        props: BTreeMap<String, String>,
        links: Vec<String>,
        tags: Vec<String>,
    ) {
        self.props = props;
        self.links = links;
        self.tags = tags;
    }

    /// The device as sysfs and the uevent have it.
    pub fn base(&self) -> &device::Device {
        &self.base
    }
}

impl subst::Device for DbDevice {
    fn sysname(&self) -> String {
        self.base.sysname()
    }
    fn sysnum(&self) -> Option<String> {
        self.base.sysnum()
    }
    fn devpath(&self) -> String {
        self.base.devpath()
    }
    fn driver(&self) -> Option<String> {
        self.base.driver()
    }
    fn devnode(&self) -> Option<String> {
        self.base.devnode()
    }
    fn devnum(&self) -> Option<(u32, u32)> {
        self.base.devnum()
    }
    fn property(&self, key: &str) -> Option<String> {
        self.props.get(key).cloned()
    }
    fn sysattr(&self, attr: &str) -> Option<String> {
        self.base.sysattr(attr)
    }
    fn parent(&self) -> Option<&dyn subst::Device> {
        self.parent
            .get_or_init(|| {
                // The base's parent is read once; its own ancestors are then read through
                // this chain, so each level is read from sysfs once.
                let p = self.base.parent_device()?;
                Some(Box::new(DbDevice::with_own_entry(
                    p.without_parent(),
                    &self.run,
                )))
            })
            .as_deref()
            .map(|p| p as &dyn subst::Device)
    }
    fn devlinks(&self) -> Vec<String> {
        self.links.clone()
    }
    fn properties(&self) -> BTreeMap<String, String> {
        self.props.clone()
    }
    fn tags(&self) -> Vec<String> {
        self.tags.clone()
    }
}
