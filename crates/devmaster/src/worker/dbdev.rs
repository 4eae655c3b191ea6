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

/// What the rules see of a device besides sysfs: its properties, links and current tags.
#[derive(Debug, Clone, Default)]
struct State {
    props: BTreeMap<String, String>,
    links: Vec<String>,
    tags: Vec<String>,
}

impl State {
    /// `base`'s properties with `entry` folded in.
    fn of(base: &device::Device, entry: Option<&Entry>) -> State {
        let mut st = State {
            props: base.properties().clone(),
            ..State::default()
        };
        if let Some(e) = entry {
            for (k, v) in &e.properties {
                st.props.insert(k.clone(), v.clone());
            }
            if e.usec_initialized > 0 {
                st.props
                    .insert("USEC_INITIALIZED".into(), e.usec_initialized.to_string());
            }
            st.links = e.devlinks.iter().cloned().collect();
            st.tags = e.current_tags.iter().cloned().collect();
            // sd-device lists these among the properties of a device read with its entry.
            st.props
                .extend(synthesized(&e.devlinks, &e.tags, &e.current_tags));
        }
        st
    }
}

/// A device with its database entry folded in.
pub struct DbDevice {
    base: device::Device,
    /// Set at once for the event device; for an ancestor read (its `uevent` file and
    /// database entry) when first asked for, as sd-device does: a walk over `KERNELS`,
    /// `SUBSYSTEMS` or `ATTRS` reads neither.
    state: std::cell::OnceCell<State>,
    run: std::path::PathBuf,
    /// Read (from sysfs and the database) when first asked for, as sd-device does.
    parent: std::cell::OnceCell<Option<Box<DbDevice>>>,
}

impl DbDevice {
    /// The event device `base` (the uevent's view) with `entry` folded in when given, and
    /// its parents with theirs, read from `run`.
    pub fn new(base: device::Device, entry: Option<&Entry>, run: &Path) -> Self {
        DbDevice {
            state: std::cell::OnceCell::from(State::of(&base, entry)),
            base,
            run: run.to_path_buf(),
            parent: std::cell::OnceCell::new(),
        }
    }

    /// An ancestor, whose entry is read when first needed.
    fn ancestor(base: device::Device, run: &Path) -> Self {
        DbDevice {
            state: std::cell::OnceCell::new(),
            base,
            run: run.to_path_buf(),
            parent: std::cell::OnceCell::new(),
        }
    }

    fn state(&self) -> &State {
        self.state.get_or_init(|| {
            let entry = id_of(&self.base).and_then(|id| db::read(&self.run, &id).ok().flatten());
            State::of(&self.base, entry.as_ref())
        })
    }

    /// Replaces what the rules see of the device (for builtins run after the rules).
    pub fn set_state(
        &mut self,
        props: BTreeMap<String, String>,
        links: Vec<String>,
        tags: Vec<String>,
    ) {
        self.state = std::cell::OnceCell::from(State { props, links, tags });
    }

    /// The properties the rules start from (no copy, unlike `subst::Device::properties`).
    pub fn props(&self) -> &BTreeMap<String, String> {
        &self.state().props
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
    fn subsystem(&self) -> Option<String> {
        self.base.subsystem().map(str::to_string)
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
        self.state().props.get(key).cloned()
    }
    fn sysattr(&self, attr: &str) -> Option<String> {
        self.base.sysattr(attr)
    }
    fn parent(&self) -> Option<&dyn subst::Device> {
        self.parent
            .get_or_init(|| {
                // The base's parent is found once; its own ancestors are then found
                // through this chain, so each level is read from sysfs once.
                let p = self.base.parent_device()?;
                Some(Box::new(DbDevice::ancestor(p.without_parent(), &self.run)))
            })
            .as_deref()
            .map(|p| p as &dyn subst::Device)
    }
    fn devlinks(&self) -> Vec<String> {
        self.state().links.clone()
    }
    fn properties(&self) -> BTreeMap<String, String> {
        self.state().props.clone()
    }
    fn tags(&self) -> Vec<String> {
        self.state().tags.clone()
    }
}
