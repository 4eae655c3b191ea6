use super::*;
use crate::engine::Write;

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn map(v: &[(&str, &str)]) -> BTreeMap<String, String> {
    v.iter()
        .map(|(k, x)| (k.to_string(), x.to_string()))
        .collect()
}

fn sda_uevent() -> BTreeMap<String, String> {
    map(&[
        ("ACTION", "add"),
        ("DEVPATH", "/devices/x/block/sda"),
        ("SUBSYSTEM", "block"),
        ("DEVNAME", "/dev/sda"),
        ("DEVTYPE", "disk"),
        ("MAJOR", "8"),
        ("MINOR", "0"),
    ])
}

fn sda<'a>(initial: &'a BTreeMap<String, String>, old: Option<&'a Entry>) -> Facts<'a> {
    Facts {
        action: "add",
        id: Some("b8:0"),
        subsystem: Some("block"),
        devtype: Some("disk"),
        sysname: "sda",
        sysnum: None,
        devnum: Some((8, 0)),
        ifindex: None,
        devnode: Some("/dev/sda"),
        initial,
        old,
        now_usec: 1000,
    }
}

fn link(l: &str, prio: i32) -> Op {
    Op::Link {
        link: l.into(),
        id: "b8:0".into(),
        claim: Some(Claim {
            priority: prio,
            devnode: "/dev/sda".into(),
        }),
    }
}

fn tag(t: &str, add: bool) -> Op {
    Op::Tag {
        tag: t.into(),
        id: "b8:0".into(),
        add,
    }
}

#[test]
fn add_of_a_block_device() {
    let initial = sda_uevent();
    let mut props = initial.clone();
    props.insert("ID_SERIAL".into(), "X1".into());
    props.insert(".HIDDEN".into(), "1".into());
    let out = Outcome {
        properties: props,
        tags: set(&["systemd"]),
        devlinks: set(&["/dev/disk/by-id/ata-X1", "/dev/disk/by-path/p"]),
        link_priority: -5,
        group: Some(6),
        attr_writes: vec![Write {
            path: "/sys/devices/x/block/sda/queue/scheduler".into(),
            value: "none".into(),
        }],
        sysctl_writes: vec![Write {
            path: "/proc/sys/vm/x".into(),
            value: "1".into(),
        }],
        ..Outcome::default()
    };
    let plan = finish(&sda(&initial, None), &out);
    let entry = Entry {
        devlinks: out.devlinks.clone(),
        link_priority: -5,
        usec_initialized: 1000,
        properties: map(&[("ID_SERIAL", "X1")]),
        tags: set(&["systemd"]),
        current_tags: set(&["systemd"]),
        version: 1,
    };
    assert_eq!(
        plan.ops,
        vec![
            // No Op::Write for the outcome's ATTR/SYSCTL: the host wrote them already.
            // A group without a mode gives 0660.
            Op::Permissions {
                devnode: "/dev/sda".into(),
                devnum: (8, 0),
                block: true,
                uid: None,
                gid: Some(6),
                mode: Some(0o660)
            },
            link("/dev/disk/by-id/ata-X1", -5),
            link("/dev/disk/by-path/p", -5),
            Op::NodeLink {
                link: "/dev/block/8:0".into(),
                devnode: "/dev/sda".into()
            },
            tag("systemd", true),
            Op::SaveDb {
                id: "b8:0".into(),
                entry,
                has_devnum: true,
                has_ifindex: false,
                persist: false
            },
        ]
    );
    assert_eq!(plan.properties.get("USEC_INITIALIZED").unwrap(), "1000");
    assert_eq!(
        plan.properties.get("DEVLINKS").unwrap(),
        "/dev/disk/by-id/ata-X1 /dev/disk/by-path/p"
    );
    assert_eq!(plan.properties.get("TAGS").unwrap(), ":systemd:");
    assert_eq!(plan.properties.get("CURRENT_TAGS").unwrap(), ":systemd:");
    assert_eq!(plan.properties.get(".HIDDEN").unwrap(), "1");
}

#[test]
fn change_keeps_initialisation_and_tags_and_drops_stale_links() {
    let mut initial = sda_uevent();
    initial.insert("ACTION".into(), "change".into());
    let old = Entry {
        devlinks: set(&["/dev/old", "/dev/kept"]),
        usec_initialized: 77,
        properties: map(&[("ID_OLD", "1")]),
        tags: set(&["seat", "systemd"]),
        current_tags: set(&["seat"]),
        version: 1,
        ..Entry::default()
    };
    let out = Outcome {
        properties: initial.clone(),
        tags: set(&["systemd"]),
        devlinks: set(&["/dev/kept"]),
        db_persist: true,
        ..Outcome::default()
    };
    let mut f = sda(&initial, Some(&old));
    f.action = "change";
    let plan = finish(&f, &out);
    assert_eq!(
        plan.ops,
        vec![
            // No owner, group or mode anywhere: no permission operation.
            Op::Link {
                link: "/dev/old".into(),
                id: "b8:0".into(),
                claim: None
            },
            link("/dev/kept", 0),
            Op::NodeLink {
                link: "/dev/block/8:0".into(),
                devnode: "/dev/sda".into()
            },
            tag("seat", true),
            tag("systemd", true),
            Op::SaveDb {
                id: "b8:0".into(),
                // The old entry's properties are not carried over: only this event's.
                entry: Entry {
                    devlinks: set(&["/dev/kept"]),
                    usec_initialized: 77,
                    tags: set(&["seat", "systemd"]),
                    current_tags: set(&["systemd"]),
                    version: 1,
                    ..Entry::default()
                },
                has_devnum: true,
                has_ifindex: false,
                persist: true
            },
        ]
    );
    assert_eq!(plan.properties.get("USEC_INITIALIZED").unwrap(), "77");
    assert_eq!(plan.properties.get("TAGS").unwrap(), ":seat:systemd:");
    assert_eq!(plan.properties.get("CURRENT_TAGS").unwrap(), ":systemd:");
}

#[test]
fn remove() {
    let mut initial = sda_uevent();
    initial.insert("ACTION".into(), "remove".into());
    let old = Entry {
        devlinks: set(&["/dev/disk/by-id/x", "/dev/disk/by-diskseq/9"]),
        tags: set(&["a", "b"]),
        current_tags: set(&["b"]),
        ..Entry::default()
    };
    let mut f = sda(&initial, Some(&old));
    f.action = "remove";
    assert_eq!(
        remove_start(&f),
        vec![
            tag("a", false),
            tag("b", false),
            Op::DeleteDb { id: "b8:0".into() }
        ]
    );
    let out = Outcome {
        properties: initial.clone(),
        devlinks: old.devlinks.clone(),
        tags: set(&["b"]),
        ..Outcome::default()
    };
    let plan = finish(&f, &out);
    assert_eq!(
        plan.ops,
        vec![
            // by-diskseq links are removed straight, without the claim index.
            Op::RemoveNodeLink {
                link: "/dev/disk/by-diskseq/9".into()
            },
            Op::Link {
                link: "/dev/disk/by-id/x".into(),
                id: "b8:0".into(),
                claim: None
            },
            Op::RemoveNodeLink {
                link: "/dev/block/8:0".into()
            },
        ]
    );
    assert_eq!(plan.properties.get("TAGS").unwrap(), ":a:b:");
    assert_eq!(plan.properties.get("CURRENT_TAGS").unwrap(), ":b:");
}

fn eth0() -> BTreeMap<String, String> {
    map(&[
        ("ACTION", "add"),
        ("DEVPATH", "/devices/pci/net/eth0"),
        ("SUBSYSTEM", "net"),
        ("INTERFACE", "eth0"),
        ("IFINDEX", "2"),
    ])
}

fn eth0_facts(initial: &BTreeMap<String, String>) -> Facts<'_> {
    Facts {
        action: "add",
        id: Some("n2"),
        subsystem: Some("net"),
        sysname: "eth0",
        sysnum: Some("0"),
        ifindex: Some(2),
        initial,
        now_usec: 5,
        ..Facts::default()
    }
}

#[test]
fn interface_rename() {
    let initial = eth0();
    let mut props = initial.clone();
    props.insert("ID_NET_NAME".into(), "lan0".into());
    let out = Outcome {
        properties: props,
        name: Some("lan0".into()),
        ..Outcome::default()
    };
    let plan = finish(&eth0_facts(&initial), &out);
    assert_eq!(
        plan.ops,
        vec![
            // udev stores the old entry with ID_RENAMING before asking the kernel.
            Op::SaveDb {
                id: "n2".into(),
                entry: Entry {
                    properties: map(&[("ID_RENAMING", "1")]),
                    ..Entry::default()
                },
                has_devnum: false,
                has_ifindex: true,
                persist: false
            },
            Op::Rename {
                ifindex: 2,
                from: "eth0".into(),
                to: "lan0".into()
            },
            Op::SaveDb {
                id: "n2".into(),
                entry: Entry {
                    usec_initialized: 5,
                    properties: map(&[("ID_NET_NAME", "lan0"), ("ID_RENAMING", "1")]),
                    version: 1,
                    ..Entry::default()
                },
                has_devnum: false,
                has_ifindex: true,
                persist: false
            },
        ]
    );
    let p = &plan.properties;
    assert_eq!(p.get("DEVPATH").unwrap(), "/devices/pci/net/lan0");
    assert_eq!(p.get("INTERFACE").unwrap(), "lan0");
    assert_eq!(p.get("INTERFACE_OLD").unwrap(), "eth0");
    assert_eq!(p.get("ID_RENAMING").unwrap(), "1");
}

#[test]
fn no_rename() {
    let initial = eth0();
    // (action, requested name): not on change, not to the same name, not to invalid names.
    let cases = [
        ("change", "lan0"),
        ("add", "eth0"),
        ("add", "this-name-is-too-long"),
        ("add", "a:b"),
        ("add", "123"),
        ("add", "all"),
    ];
    for (action, name) in cases {
        let mut f = eth0_facts(&initial);
        f.action = action;
        let out = Outcome {
            properties: initial.clone(),
            name: Some(name.into()),
            ..Outcome::default()
        };
        let plan = finish(&f, &out);
        assert!(
            !plan.ops.iter().any(|o| matches!(o, Op::Rename { .. })),
            "{action} {name}"
        );
        assert_eq!(plan.ops.len(), 1, "{action} {name}: only the db entry");
        assert_eq!(plan.properties.get("INTERFACE").unwrap(), "eth0");
    }
}

#[test]
fn node_permissions_defaults() {
    // (uevent DEVUID/DEVGID/DEVMODE, rules owner/group/mode, expected uid/gid/mode)
    type Case = (
        &'static [(&'static str, &'static str)],
        (Option<u32>, Option<u32>, Option<u32>),
        (Option<u32>, Option<u32>, Option<u32>),
    );
    let cases: &[Case] = &[
        (&[], (Some(1), None, None), (Some(1), None, None)),
        (&[], (None, Some(1), None), (None, Some(1), Some(0o660))),
        // Group 0 does not upgrade the mode.
        (&[], (None, Some(0), None), (None, Some(0), None)),
        (
            &[],
            (None, Some(5), Some(0o600)),
            (None, Some(5), Some(0o600)),
        ),
        (
            &[("DEVMODE", "0666"), ("DEVUID", "3"), ("DEVGID", "4")],
            (None, None, None),
            (Some(3), Some(4), Some(0o666)),
        ),
        (
            &[("DEVMODE", "0666"), ("DEVGID", "4")],
            (Some(1), Some(2), Some(0o640)),
            (Some(1), Some(2), Some(0o640)),
        ),
        (
            &[("DEVGID", "4")],
            (None, None, None),
            (None, Some(4), Some(0o660)),
        ),
    ];
    for (uevent, (o, g, m), want) in cases {
        let mut initial = sda_uevent();
        initial.extend(map(uevent));
        let out = Outcome {
            properties: initial.clone(),
            owner: *o,
            group: *g,
            mode: *m,
            ..Outcome::default()
        };
        let plan = finish(&sda(&initial, None), &out);
        let got = plan.ops.iter().find_map(|op| match op {
            Op::Permissions { uid, gid, mode, .. } => Some((*uid, *gid, *mode)),
            _ => None,
        });
        assert_eq!(got, Some(*want), "{uevent:?} {o:?} {g:?} {m:?}");
    }
    let initial = sda_uevent();
    let out = Outcome {
        properties: initial.clone(),
        ..Outcome::default()
    };
    let plan = finish(&sda(&initial, None), &out);
    // Nothing set anywhere: no permission operation.
    assert!(!plan.ops.iter().any(|o| matches!(o, Op::Permissions { .. })));
}

#[test]
fn diskseq_links() {
    let mut initial = sda_uevent();
    initial.insert("DISKSEQ".into(), "12".into());
    let mut part = initial.clone();
    part.insert("DEVTYPE".into(), "partition".into());
    // (partition?, link, made straight when adding)
    let cases = [
        (false, "/dev/disk/by-diskseq/12", true),
        (false, "/dev/disk/by-diskseq/13", false),
        (false, "/dev/disk/by-diskseq/x", false),
        (false, "/dev/disk/by-diskseq", false),
        (false, "/dev/disk/by-id/12", false),
        (true, "/dev/disk/by-diskseq/12-part1", true),
        (true, "/dev/disk/by-diskseq/12-part2", false),
        (true, "/dev/disk/by-diskseq/12", false),
    ];
    for (is_part, l, direct) in cases {
        let mut f = sda(&initial, None);
        if is_part {
            f.devtype = Some("partition");
            f.sysname = "sda1";
            f.sysnum = Some("1");
        }
        let out = Outcome {
            properties: if is_part {
                part.clone()
            } else {
                initial.clone()
            },
            devlinks: set(&[l]),
            ..Outcome::default()
        };
        let plan = finish(&f, &out);
        let straight = plan
            .ops
            .iter()
            .any(|o| matches!(o, Op::NodeLink { link, .. } if link == l));
        assert_eq!(straight, direct, "{l}");
    }
}

#[test]
fn devices_without_id_or_number() {
    let initial = map(&[("ACTION", "add"), ("DEVPATH", "/devices/virtual/x")]);
    let f = Facts {
        action: "add",
        sysname: "x",
        initial: &initial,
        ..Facts::default()
    };
    let out = Outcome {
        properties: initial.clone(),
        tags: set(&["t"]),
        ..Outcome::default()
    };
    let plan = finish(&f, &out);
    assert_eq!(plan.ops, vec![]);
    assert_eq!(plan.properties.get("TAGS").unwrap(), ":t:");
    // A device with an id but no number: no node operations, no links in the entry.
    let f = Facts {
        id: Some("+pci:x"),
        subsystem: Some("pci"),
        ..f
    };
    let out = Outcome {
        devlinks: set(&["/dev/ignored"]),
        ..out
    };
    let plan = finish(&f, &out);
    assert!(
        matches!(plan.ops.as_slice(), [Op::Tag { .. }, Op::SaveDb { entry, .. }] if entry.devlinks.is_empty())
    );
    assert_eq!(plan.properties.get("DEVLINKS"), None);
    // With nothing to store, an old entry is removed (SaveDb of an empty entry), and
    // without one there is nothing to do.
    let bare = Outcome {
        properties: initial.clone(),
        ..Outcome::default()
    };
    assert_eq!(finish(&f, &bare).ops, vec![]);
    let old = Entry {
        properties: map(&[("ID_OLD", "1")]),
        ..Entry::default()
    };
    let with_old = Facts {
        old: Some(&old),
        ..f
    };
    assert!(matches!(
        finish(&with_old, &bare).ops.as_slice(),
        [Op::SaveDb { entry, .. }] if entry.properties.is_empty()
    ));
}

#[test]
fn interface_names() {
    for (name, ok) in [
        ("eth0", true),
        ("enp0s3", true),
        ("a", true),
        ("", false),
        (".", false),
        ("..", false),
        ("default", false),
        ("42", false),
        ("a b", false),
        ("a%d", false),
        ("a/b", false),
        ("\u{e9}th0", false),
        ("fifteen-chars-x", true),
        ("sixteen-chars-xx", false),
    ] {
        assert_eq!(ifname_valid(name), ok, "{name}");
    }
}
