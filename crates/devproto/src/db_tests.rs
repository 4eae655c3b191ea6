use super::*;
use proptest::prelude::*;
use std::os::unix::ffi::OsStrExt;

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn map(items: &[(&str, &str)]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// (subsystem, devnum, ifindex, devpath, id)
type IdCase<'a> = (
    &'a str,
    Option<(u32, u32)>,
    Option<u32>,
    &'a str,
    Option<&'a str>,
);

#[test]
fn device_ids() {
    // Formats of sd-device's device_get_device_id.
    let cases: &[IdCase] = &[
        (
            "block",
            Some((8, 0)),
            None,
            "/devices/x/block/sda",
            Some("b8:0"),
        ),
        (
            "block",
            Some((259, 131072)),
            None,
            "/devices/x/nvme0n1p1",
            Some("b259:131072"),
        ),
        (
            "usb",
            Some((189, 1)),
            None,
            "/devices/pci/usb1/1-1",
            Some("c189:1"),
        ),
        (
            "net",
            None,
            Some(3),
            "/devices/virtual/net/eth0",
            Some("n3"),
        ),
        // A device number wins over an interface index.
        (
            "net",
            Some((10, 200)),
            Some(3),
            "/devices/virtual/net/tun0",
            Some("c10:200"),
        ),
        // Major 0 and ifindex 0 are no number.
        (
            "pci",
            Some((0, 5)),
            Some(0),
            "/devices/pci0000:00/0000:00:1f.2",
            Some("+pci:0000:00:1f.2"),
        ),
        // The sysname is raw: '!' is kept.
        (
            "block",
            None,
            None,
            "/devices/virtual/block/cciss!c0d0",
            Some("+block:cciss!c0d0"),
        ),
        (
            "drivers",
            None,
            None,
            "/bus/pci/drivers/ahci",
            Some("+drivers:pci:ahci"),
        ),
        ("drivers", None, None, "/drivers", None),
        ("", Some((8, 0)), None, "/devices/x", None),
        ("pci", None, None, "/", None),
    ];
    for (subsystem, devnum, ifindex, devpath, want) in cases {
        assert_eq!(
            device_id(subsystem, *devnum, *ifindex, devpath).as_deref(),
            *want,
            "{subsystem} {devpath}"
        );
    }
}

/// What udevd 252 (Debian 12, `udevadm test /sys/class/block/loop0` in a private mount
/// namespace) wrote for the rule
/// `KERNEL=="loop0", SYMLINK+="disk/by-test/foo bar", OPTIONS+="link_priority=-5",
///  ENV{ID_TEST}="1", ENV{.HIDDEN}="x", ENV{A_FIRST}="z y", TAG+="systemd", TAG+="seat"`.
/// udev writes properties in the order rules set them and links and tags in hash order;
/// we write each group sorted, so the E: lines here are in sorted order.
const UDEV_LOOP0: &str = "S:bar\nS:disk/by-test/foo\nL:-5\nI:29155407976\n\
E:A_FIRST=z y\nE:ID_TEST=1\nG:seat\nG:systemd\nQ:seat\nQ:systemd\nV:1\n";

fn loop0_entry() -> Entry {
    Entry {
        devlinks: set(&["/dev/bar", "/dev/disk/by-test/foo"]),
        link_priority: -5,
        usec_initialized: 29155407976,
        properties: map(&[("ID_TEST", "1"), ("A_FIRST", "z y")]),
        tags: set(&["systemd", "seat"]),
        current_tags: set(&["systemd", "seat"]),
        version: 1,
    }
}

#[test]
fn writes_udevs_bytes() {
    let bytes = to_bytes(&loop0_entry(), true, false).unwrap();
    assert_eq!(String::from_utf8(bytes).unwrap(), UDEV_LOOP0);
}

#[test]
fn reads_udevs_bytes() {
    assert_eq!(parse(UDEV_LOOP0.as_bytes()), loop0_entry());
}

#[test]
fn what_is_stored_for_devices_with_nothing_to_say() {
    let empty = Entry {
        usec_initialized: 5,
        ..Entry::default()
    };
    // udevd 252 leaves an empty file for lo (`udevadm test /sys/class/net/lo`): I: is not
    // written without other information.
    assert_eq!(to_bytes(&empty, false, true), Some(Vec::new()));
    assert_eq!(to_bytes(&empty, true, false), Some(Vec::new()));
    assert_eq!(to_bytes(&empty, false, false), None);
    // Links and priority only for devices with a number; the priority alone is information.
    let e = Entry {
        devlinks: set(&["/dev/x"]),
        link_priority: 3,
        ..Entry::default()
    };
    assert_eq!(to_bytes(&e, false, false), Some(b"V:1\n".to_vec()));
    assert_eq!(to_bytes(&e, true, false), Some(b"S:x\nL:3\nV:1\n".to_vec()));
}

#[test]
fn reader_quirks_as_sd_device() {
    let cases: &[(&[u8], Entry)] = &[
        // Unknown keys, W: (old watch handle) and lines without ':' after the key are skipped.
        (
            b"X:1\nW:7\nEE:A=1\nE:B=2\n",
            Entry {
                properties: map(&[("B", "2")]),
                ..Entry::default()
            },
        ),
        // The last line needs its newline; \r ends a line too; blank lines are fine.
        (
            b"\n\nE:A=1\rE:B=2",
            Entry {
                properties: map(&[("A", "1")]),
                ..Entry::default()
            },
        ),
        // An empty value takes the newline as its first byte and runs into the next line.
        (
            b"G:\nfoo\nG:bar\n",
            Entry {
                tags: set(&["\nfoo", "bar"]),
                ..Entry::default()
            },
        ),
        // An empty property value removes the property; no '=' or no key is skipped.
        (
            b"E:A=1\nE:A=\nE:B\nE:=x\nE:C=a=b\n",
            Entry {
                properties: map(&[("C", "a=b")]),
                ..Entry::default()
            },
        ),
        // Tags with ':' or ' ' are invalid; Q: is also an "any" tag.
        (
            b"G:a:b\nG:a b\nQ:q\nG:g\n",
            Entry {
                tags: set(&["q", "g"]),
                current_tags: set(&["q"]),
                ..Entry::default()
            },
        ),
        // Numbers as safe_atoi / safe_atou64 take them: bases, whitespace, signs, garbage.
        (
            b"L:0x10\nI: 010\nV:2\n",
            Entry {
                link_priority: 16,
                usec_initialized: 8,
                version: 2,
                ..Entry::default()
            },
        ),
        (
            b"L:-0b11\nI:-1\nV:x\n",
            Entry {
                link_priority: -3,
                ..Entry::default()
            },
        ),
        (b"L:99999999999\nL:12a\nI:-0\n", Entry::default()),
        // A NUL ends the value (C strings); invalid UTF-8 is replaced.
        (
            b"S:a\0b\nE:K=\xff\n",
            Entry {
                devlinks: set(&["/dev/a"]),
                properties: map(&[("K", "\u{fffd}")]),
                ..Entry::default()
            },
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(&parse(bytes), want, "{:?}", String::from_utf8_lossy(bytes));
    }
}

fn arb_entry() -> impl Strategy<Value = Entry> {
    let text = "[a-zA-Z0-9_./ -]{1,12}";
    let key = "[A-Z_][A-Z0-9_]{0,8}";
    let tag = "[a-z0-9_-]{1,8}";
    (
        proptest::collection::btree_set("[a-z0-9_-]{1,6}(/[a-z0-9_-]{1,6}){0,2}", 0..4),
        any::<i32>(),
        any::<u64>(),
        proptest::collection::btree_map(key, text, 0..5),
        proptest::collection::btree_set(tag, 0..4),
        proptest::collection::btree_set(tag, 0..3),
    )
        .prop_map(|(links, prio, usec, props, tags, current)| {
            let mut tags = tags;
            tags.extend(current.iter().cloned());
            Entry {
                devlinks: links.into_iter().map(|l| format!("/dev/{l}")).collect(),
                link_priority: prio,
                usec_initialized: usec,
                properties: props,
                tags,
                current_tags: current,
                version: VERSION,
            }
        })
}

proptest! {
    #[test]
    fn reader_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn reader_takes_line_shaped_noise(lines in proptest::collection::vec("[SLIWEGQVX]:[^\n]{0,10}\n?", 0..20)) {
        let _ = parse(lines.concat().as_bytes());
    }

    #[test]
    fn write_then_read_round_trips(e in arb_entry()) {
        let bytes = to_bytes(&e, true, false).unwrap();
        let mut want = e.clone();
        if !e.has_info() {
            want = Entry::default();
        }
        prop_assert_eq!(parse(&bytes), want);
    }

    #[test]
    fn link_dir_names_are_file_names(name in "[a-z/\\\\]{1,400}") {
        let link = format!("/dev/{name}");
        if let Some(n) = link_dir_name(&link) {
            prop_assert!(n.len() <= NAME_MAX);
            prop_assert!(!n.as_bytes().contains(&b'/'));
        }
    }
}

#[test]
fn siphash24_matches_the_reference() {
    // The test vector of the SipHash paper (key 00..0f, message 00..0e).
    let key: [u8; 16] = std::array::from_fn(|i| i as u8);
    let msg: Vec<u8> = (0..15).collect();
    assert_eq!(siphash24(&msg, &key), 0xa129ca6149be45e5);
    // And std's (deprecated) SipHash-2-4 for other lengths.
    for len in [0usize, 1, 7, 8, 9, 16, 63] {
        let msg: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(31)).collect();
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new_with_keys(
            u64::from_le_bytes(key[..8].try_into().unwrap()),
            u64::from_le_bytes(key[8..].try_into().unwrap()),
        );
        std::hash::Hasher::write(&mut h, &msg);
        assert_eq!(
            siphash24(&msg, &key),
            std::hash::Hasher::finish(&h),
            "len {len}"
        );
    }
}

#[test]
fn link_dir_names() {
    let cases: &[(&str, Option<&str>)] = &[
        // Seen in /run/udev/links of udevd 252 (see UDEV_LOOP0).
        ("/dev/disk/by-test/foo", Some("disk\\x2fby-test\\x2ffoo")),
        ("/dev/bar", Some("bar")),
        ("/dev/a\\b", Some("a\\x5cb")),
        ("/dev//disk//x/", Some("disk\\x2fx")),
        ("/dev", None),
        ("/dev/", None),
        ("/dev/../etc/x", None),
        ("/dev/./x", None),
        ("/sys/x", None),
        ("dev/x", None),
    ];
    for (link, want) in cases {
        assert_eq!(
            link_dir_name(link)
                .map(|s| s.to_string_lossy().into_owned())
                .as_deref(),
            *want,
            "{link}"
        );
    }
    // Too long: 244 bytes of the escaped name, then 11 characters of the hash.
    let long = "x".repeat(300);
    let n = link_dir_name(&format!("/dev/{long}")).unwrap();
    let n = n.to_str().unwrap();
    assert_eq!(n.len(), 255);
    assert_eq!(&n[..244], &long[..244]);
    let h = siphash24(long.as_bytes(), &LINK_HASH_KEY);
    let tail: String = (0..11)
        .rev()
        .map(|k| URLSAFE_BASE64[((h >> (k * 6)) & 63) as usize] as char)
        .collect();
    assert_eq!(&n[244..], tail);
    // 244 plain bytes fit; 245 do not.
    assert_eq!(
        link_dir_name(&format!("/dev/{}", "y".repeat(244)))
            .unwrap()
            .len(),
        244
    );
    assert_eq!(
        link_dir_name(&format!("/dev/{}", "y".repeat(245)))
            .unwrap()
            .len(),
        255
    );
}

#[test]
fn claims() {
    assert_eq!(
        parse_claim("-5:/dev/loop0"),
        Some(Claim {
            priority: -5,
            devnode: "/dev/loop0".into()
        })
    );
    assert_eq!(claim_target(-5, "/dev/loop0"), "-5:/dev/loop0");
    assert_eq!(parse_claim(":/dev/x"), None);
    assert_eq!(parse_claim("x:/dev/x"), None);
    assert_eq!(parse_claim("/dev/x"), None);
}

#[test]
fn link_owner() {
    let c = |p: i32, n: &str| Claim {
        priority: p,
        devnode: n.into(),
    };
    // (own claim, others in directory order, winner)
    let cases: Vec<(Option<Claim>, Vec<Claim>, Option<&str>)> = vec![
        (None, vec![], None),
        (Some(c(0, "/dev/a")), vec![], Some("/dev/a")),
        // Highest priority wins.
        (Some(c(0, "/dev/a")), vec![c(10, "/dev/b")], Some("/dev/b")),
        (Some(c(10, "/dev/a")), vec![c(0, "/dev/b")], Some("/dev/a")),
        // Negative priorities: the first other is taken even below 0 when there is no own.
        (
            None,
            vec![c(-10, "/dev/b"), c(-20, "/dev/c")],
            Some("/dev/b"),
        ),
        (
            None,
            vec![c(-20, "/dev/c"), c(-10, "/dev/b")],
            Some("/dev/b"),
        ),
        // Ties: the device being added keeps it, else the first in directory order.
        (Some(c(5, "/dev/a")), vec![c(5, "/dev/b")], Some("/dev/a")),
        (None, vec![c(5, "/dev/b"), c(5, "/dev/c")], Some("/dev/b")),
    ];
    for (own, others, want) in cases {
        assert_eq!(
            pick_owner(own.as_ref(), &others).map(|c| c.devnode.as_str()),
            want,
            "{own:?} {others:?}"
        );
    }
}

#[test]
fn files_under_run() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;

    assert_eq!(read(run, "b7:0").unwrap(), None);
    write(run, "b7:0", &loop0_entry(), true, false, false).unwrap();
    assert_eq!(read(run, "b7:0").unwrap(), Some(loop0_entry()));
    assert_eq!(mode(&data_path(run, "b7:0")), 0o644);
    assert_eq!(
        fs::read_to_string(data_path(run, "b7:0")).unwrap(),
        UDEV_LOOP0
    );
    // db_persist sets the sticky bit.
    write(run, "b7:0", &loop0_entry(), true, false, true).unwrap();
    assert_eq!(mode(&data_path(run, "b7:0")), 0o1644);
    // No temporary files are left behind.
    assert_eq!(fs::read_dir(run.join("data")).unwrap().count(), 1);
    // Nothing to store for a device without number: the old file goes.
    write(run, "b7:0", &Entry::default(), false, false, false).unwrap();
    assert!(!data_path(run, "b7:0").exists());
    write(run, "n1", &Entry::default(), false, true, false).unwrap();
    assert_eq!(fs::read(data_path(run, "n1")).unwrap(), b"");
    delete(run, "n1").unwrap();
    delete(run, "n1").unwrap();
    assert!(!data_path(run, "n1").exists());

    set_tag(run, "systemd", "b7:0", true).unwrap();
    set_tag(run, "systemd", "b7:0", true).unwrap();
    assert_eq!(mode(&tag_path(run, "systemd", "b7:0")), 0o444);
    assert_eq!(fs::read(tag_path(run, "systemd", "b7:0")).unwrap(), b"");
    set_tag(run, "systemd", "b7:0", false).unwrap();
    set_tag(run, "systemd", "b7:0", false).unwrap();
    assert!(!tag_path(run, "systemd", "b7:0").exists());
    assert!(set_tag(run, "../x", "b7:0", true).is_err());
}

#[test]
fn values_that_cannot_be_one_line_are_not_written() {
    // A damaged file read as the old entry: "S:" with a NUL gives an empty link, and an
    // empty value swallows the next line ("S:\n..." reads as the link "\n...").
    let e = parse(b"S:\0\nE:A=1\nS:\nG:t\nG:ok\n");
    let bytes = to_bytes(&e, true, false).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.lines().all(|l| l.len() > 2),
        "no line with an empty value: {text:?}"
    );
    // What is written reads back to what is written again.
    assert_eq!(to_bytes(&parse(&bytes), true, false), Some(bytes));
    assert!(
        text.contains("E:A=1\n") && text.contains("G:ok\n"),
        "{text:?}"
    );
}
