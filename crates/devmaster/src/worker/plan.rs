//! The pure part of carrying out an event: from the device's facts, its previous database
//! entry and the rules' [`Outcome`] to the list of file-system operations, in udevd 252's
//! order (`udev_event_execute_rules`), plus the device's properties and tags afterwards.
//!
//! "remove": before the rules, the tag files and the database entry go ([`remove_start`]);
//! after them the links are given up and `/dev/{block,char}/M:m` removed.
//!
//! Other actions (`ATTR{}`/`SYSCTL{}` writes are not planned: the host makes them as the
//! rules run, as udevd does): the network interface rename (only on "add", only to a valid
//! interface name different from the current one; the old entry is first stored with
//! `ID_RENAMING=1`, then the event's `DEVPATH`/`INTERFACE` change and `INTERFACE_OLD` is
//! set); the node's owner, group and mode (the rules', else the uevent's `DEVUID`,
//! `DEVGID`, `DEVMODE`; a group without a mode gives 0660); links the device no longer has
//! given up, every current link claimed, `/dev/{block,char}/M:m`; the initialisation time
//! kept from the old entry; the tag files of all tags; the database entry. `RUN` follows
//! the plan.
//!
//! The database keeps the properties the rules set or changed (those not starting with
//! `.`); a rule setting a property to the value the uevent already had is not told apart
//! from not setting it.

use std::collections::{BTreeMap, BTreeSet};

use devproto::db::{Claim, Entry};

use super::host::synthesized;
use crate::engine::Outcome;

/// What is known of the device and event besides the rules' outcome.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// `ACTION`.
    pub action: &'a str,
    /// Database id, `None` when the device has none (no subsystem).
    pub id: Option<&'a str>,
    /// Subsystem.
    pub subsystem: Option<&'a str>,
    /// `DEVTYPE`.
    pub devtype: Option<&'a str>,
    /// Kernel name.
    pub sysname: &'a str,
    /// Trailing number of the kernel name.
    pub sysnum: Option<&'a str>,
    /// Device number (major > 0).
    pub devnum: Option<(u32, u32)>,
    /// Interface index (> 0).
    pub ifindex: Option<u32>,
    /// Device node (`/dev/sda`).
    pub devnode: Option<&'a str>,
    /// The properties the rules started from.
    pub initial: &'a BTreeMap<String, String>,
    /// The previous database entry.
    pub old: Option<&'a Entry>,
    /// CLOCK_MONOTONIC now, in µs (the initialisation time of a new device).
    pub now_usec: u64,
}

static NO_PROPERTIES: BTreeMap<String, String> = BTreeMap::new();

impl Default for Facts<'_> {
    fn default() -> Self {
        Facts {
            action: "",
            id: None,
            subsystem: None,
            devtype: None,
            sysname: "",
            sysnum: None,
            devnum: None,
            ifindex: None,
            devnode: None,
            initial: &NO_PROPERTIES,
            old: None,
            now_usec: 0,
        }
    }
}

/// One file-system operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Writes `value` to an attribute (`/sys/...`, no newline added) or sysctl (what the
    /// worker's host does for `ATTR{}=`/`SYSCTL{}=` as the rules run)
    /// (`/proc/sys/...`, a newline added).
    Write {
        /// Path in udev's namespace.
        path: String,
        /// Value.
        value: String,
    },
    /// Stores a database entry.
    SaveDb {
        /// Device id.
        id: String,
        /// Entry.
        entry: Entry,
        /// Whether the device has a number (`S:`/`L:` lines).
        has_devnum: bool,
        /// Whether it has an interface index.
        has_ifindex: bool,
        /// `db_persist`.
        persist: bool,
    },
    /// Removes a database entry.
    DeleteDb {
        /// Device id.
        id: String,
    },
    /// Renames a network interface; failing it fails the event.
    Rename {
        /// Interface index.
        ifindex: u32,
        /// Current name.
        from: String,
        /// New name.
        to: String,
    },
    /// Sets the node's owner, group and mode where they differ.
    Permissions {
        /// `/dev/...`.
        devnode: String,
        /// The number the node must have (else it is another device's and left alone).
        devnum: (u32, u32),
        /// Block (else character) device.
        block: bool,
        /// Owner.
        uid: Option<u32>,
        /// Group.
        gid: Option<u32>,
        /// Mode.
        mode: Option<u32>,
    },
    /// Claims (`claim`) or gives up a link in the claim index, then points the link at the
    /// claim with the highest priority, or removes it when none is left.
    Link {
        /// `/dev/...`.
        link: String,
        /// The device's id.
        id: String,
        /// The device's claim, `None` to give the link up.
        claim: Option<Claim>,
    },
    /// Points a link straight at a node, outside the claim index.
    NodeLink {
        /// `/dev/...`.
        link: String,
        /// `/dev/...`.
        devnode: String,
    },
    /// Removes a link made by [`Op::NodeLink`].
    RemoveNodeLink {
        /// `/dev/...`.
        link: String,
    },
    /// Adds or removes a tag file.
    Tag {
        /// Tag.
        tag: String,
        /// Device id.
        id: String,
        /// Add (else remove).
        add: bool,
    },
}

/// What the plan leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Operations in order.
    pub ops: Vec<Op>,
    /// The device's properties afterwards, with `DEVLINKS`, `TAGS`, `CURRENT_TAGS` and
    /// `USEC_INITIALIZED` (for `RUN` and the broadcast).
    pub properties: BTreeMap<String, String>,
    /// Every tag.
    pub tags: BTreeSet<String>,
    /// Tags of this event.
    pub current_tags: BTreeSet<String>,
}

/// systemd's `ifname_valid`: 1–15 printable ASCII characters other than `:`, `/`, `%`,
/// not all digits, not `.`, `..`, `all`, `default`.
pub fn ifname_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && !matches!(name, "." | ".." | "all" | "default")
        && name
            .bytes()
            .all(|b| b > 32 && b < 127 && !matches!(b, b':' | b'/' | b'%'))
        && !name.bytes().all(|b| b.is_ascii_digit())
}

/// How udev treats a link of a block device below `/dev/disk/by-diskseq/`: `true` when it
/// is made (or removed) straight, without the claim index — its name is the disk sequence
/// number (`-part<N>` for partition N) and, when adding, equals `DISKSEQ`.
fn diskseq_direct(link: &str, f: &Facts, props: &BTreeMap<String, String>, add: bool) -> bool {
    if f.subsystem != Some("block") {
        return false;
    }
    let Some(mut name) = link.strip_prefix("/dev/disk/by-diskseq/") else {
        return false;
    };
    if name.is_empty() {
        return false;
    }
    if f.devtype == Some("partition") {
        let Some(n) = f.sysnum else { return false };
        match name.strip_suffix(&format!("-part{n}")) {
            Some(s) => name = s,
            None => return false,
        }
    }
    if !name.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    !add || props.get("DISKSEQ").map(String::as_str) == Some(name)
}

fn node_link(f: &Facts) -> Option<String> {
    let (major, minor) = f.devnum?;
    let kind = if f.subsystem == Some("block") {
        "block"
    } else {
        "char"
    };
    Some(format!("/dev/{kind}/{major}:{minor}"))
}

fn release(f: &Facts, props: &BTreeMap<String, String>, link: &str, id: &str) -> Op {
    if diskseq_direct(link, f, props, false) {
        Op::RemoveNodeLink { link: link.into() }
    } else {
        Op::Link {
            link: link.into(),
            id: id.into(),
            claim: None,
        }
    }
}

/// What happens on "remove" before the rules: every tag file and the database entry go.
pub fn remove_start(f: &Facts) -> Vec<Op> {
    let Some(id) = f.id else { return Vec::new() };
    let mut ops: Vec<Op> = f
        .old
        .map(|o| &o.tags)
        .into_iter()
        .flatten()
        .map(|t| Op::Tag {
            tag: t.clone(),
            id: id.into(),
            add: false,
        })
        .collect();
    ops.push(Op::DeleteDb { id: id.into() });
    ops
}

/// The rest of the event once the rules gave `out`.
pub fn finish(f: &Facts, out: &Outcome) -> Plan {
    if f.action == "remove" {
        finish_remove(f, out)
    } else {
        finish_update(f, out)
    }
}

fn finish_remove(f: &Facts, out: &Outcome) -> Plan {
    // ATTR{}/SYSCTL{} writes are not here: the host did them as the rules ran.
    let mut ops: Vec<Op> = Vec::new();
    let mut props = out.properties.clone();
    if let (Some(id), Some(_), Some(_)) = (f.id, f.devnum, f.devnode) {
        for l in &out.devlinks {
            ops.push(release(f, &props, l, id));
        }
        if let Some(link) = node_link(f) {
            ops.push(Op::RemoveNodeLink { link });
        }
    }
    let tags: BTreeSet<String> = f.old.map(|o| o.tags.clone()).unwrap_or_default();
    props.extend(synthesized(&out.devlinks, &tags, &out.tags));
    Plan {
        ops,
        properties: props,
        tags,
        current_tags: out.tags.clone(),
    }
}

fn finish_update(f: &Facts, out: &Outcome) -> Plan {
    let mut ops: Vec<Op> = Vec::new();
    let mut props = out.properties.clone();
    let old = f.old.cloned().unwrap_or_default();
    let has_devnum = f.devnum.is_some();
    let has_ifindex = f.ifindex.is_some();
    // The interface rename.
    if let (Some(name), Some(ifindex), "add") = (&out.name, f.ifindex, f.action) {
        if name != f.sysname && ifname_valid(name) {
            if let Some(id) = f.id {
                let mut clone = old.clone();
                clone.properties.insert("ID_RENAMING".into(), "1".into());
                ops.push(Op::SaveDb {
                    id: id.into(),
                    entry: clone,
                    has_devnum,
                    has_ifindex,
                    persist: false,
                });
            }
            ops.push(Op::Rename {
                ifindex,
                from: f.sysname.into(),
                to: name.clone(),
            });
            props.insert("ID_RENAMING".into(), "1".into());
            if let Some(devpath) = props.get("DEVPATH").cloned() {
                let parent = devpath.rsplit_once('/').map_or("", |(p, _)| p);
                props.insert("DEVPATH".into(), format!("{parent}/{name}"));
            }
            if let Some(old_name) = props.get("INTERFACE").cloned() {
                props.insert("INTERFACE_OLD".into(), old_name);
                props.insert("INTERFACE".into(), name.clone());
            }
        }
    }
    // The node and its links.
    if let (Some(devnum), Some(devnode)) = (f.devnum, f.devnode) {
        let prop = |k: &str| f.initial.get(k).and_then(|v| v.trim().parse::<u32>().ok());
        let uid = out.owner.or_else(|| prop("DEVUID"));
        let gid = out.group.or_else(|| prop("DEVGID"));
        let mut mode = out.mode.or_else(|| {
            f.initial
                .get("DEVMODE")
                .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
        });
        if mode.is_none() && gid.is_some_and(|g| g > 0) {
            mode = Some(0o660);
        }
        // Nothing to set: udev would only relabel and touch the node, which we leave.
        if uid.is_some() || gid.is_some() || mode.is_some() {
            ops.push(Op::Permissions {
                devnode: devnode.into(),
                devnum,
                block: f.subsystem == Some("block"),
                uid,
                gid,
                mode,
            });
        }
        if let Some(id) = f.id {
            for l in old.devlinks.difference(&out.devlinks) {
                ops.push(release(f, &props, l, id));
            }
            for l in &out.devlinks {
                ops.push(if diskseq_direct(l, f, &props, true) {
                    Op::NodeLink {
                        link: l.clone(),
                        devnode: devnode.into(),
                    }
                } else {
                    Op::Link {
                        link: l.clone(),
                        id: id.into(),
                        claim: Some(Claim {
                            priority: out.link_priority,
                            devnode: devnode.into(),
                        }),
                    }
                });
            }
        }
        if let Some(link) = node_link(f) {
            ops.push(Op::NodeLink {
                link,
                devnode: devnode.into(),
            });
        }
    }
    // Initialisation time, tags, database.
    let usec = if old.usec_initialized > 0 {
        old.usec_initialized
    } else {
        f.now_usec
    };
    props.insert("USEC_INITIALIZED".into(), usec.to_string());
    let mut tags = if out.tags_reset {
        BTreeSet::new()
    } else {
        old.tags.clone()
    };
    tags.extend(out.tags.iter().cloned());
    // The rename's DEVPATH, INTERFACE and INTERFACE_OLD stay out of the database.
    let mut db_props: BTreeMap<String, String> = out
        .properties
        .iter()
        .filter(|(k, v)| !k.starts_with('.') && f.initial.get(k.as_str()) != Some(v))
        .filter(|(k, v)| !(k.as_str() == "DRIVER" && out.driver_read.as_ref() == Some(v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(v) = props.get("ID_RENAMING") {
        db_props.insert("ID_RENAMING".into(), v.clone());
    }
    if let Some(id) = f.id {
        // As udevd's tag index update: the old entry's tags the device no longer has (only
        // after a `TAG=` reset) lose their files, then every tag gets one.
        for t in old.tags.difference(&tags) {
            ops.push(Op::Tag {
                tag: t.clone(),
                id: id.into(),
                add: false,
            });
        }
        for t in &tags {
            ops.push(Op::Tag {
                tag: t.clone(),
                id: id.into(),
                add: true,
            });
        }
        let entry = Entry {
            devlinks: if has_devnum {
                out.devlinks.clone()
            } else {
                BTreeSet::new()
            },
            link_priority: out.link_priority,
            usec_initialized: usec,
            properties: db_props,
            tags: tags.clone(),
            current_tags: out.tags.clone(),
            version: devproto::db::VERSION,
        };
        // Storing nothing removes the old file; with no old file (and no interim entry
        // written for a rename) there is nothing to remove.
        let wrote_interim = ops.iter().any(|o| matches!(o, Op::SaveDb { .. }));
        let nothing_to_store = devproto::db::to_bytes(&entry, has_devnum, has_ifindex).is_none();
        if !(nothing_to_store && f.old.is_none() && !wrote_interim) {
            ops.push(Op::SaveDb {
                id: id.into(),
                entry,
                has_devnum,
                has_ifindex,
                persist: out.db_persist,
            });
        }
    }
    let links = if has_devnum {
        out.devlinks.clone()
    } else {
        BTreeSet::new()
    };
    props.extend(synthesized(&links, &tags, &out.tags));
    Plan {
        ops,
        properties: props,
        tags,
        current_tags: out.tags.clone(),
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
