//! Oracle: Debian's `udevadm info` (libudev of systemd 252) reads a database entry we wrote.
//! The entry is written for /dev/null (c1:3, present on every Linux system) into a scratch
//! run directory that is bind-mounted on /run in a private mount namespace. Needs root,
//! `unshare` and `udevadm`; elsewhere the test says so and returns.

#![allow(clippy::unwrap_used)]

use devproto::db::{self, Entry};
use std::process::Command;

#[test]
fn udevadm_info_reads_our_entry() {
    let have = |p: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {p} >/dev/null")])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !have("udevadm") || !have("unshare") {
        eprintln!("skipped: no udevadm or unshare");
        return;
    }
    let run = tempfile::tempdir().unwrap();
    let udev = run.path().join("udev");
    let entry = Entry {
        devlinks: ["/dev/by-test/null".to_string()].into(),
        link_priority: 7,
        usec_initialized: 123456,
        properties: [("ID_ORACLE".to_string(), "a b".to_string())].into(),
        tags: ["seat".to_string(), "systemd".to_string()].into(),
        current_tags: ["systemd".to_string()].into(),
        version: db::VERSION,
    };
    let id = db::device_id("mem", Some((1, 3)), None, "/devices/virtual/mem/null").unwrap();
    assert_eq!(id, "c1:3");
    db::write(&udev, &id, &entry, true, false, false).unwrap();
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount --bind '{}' /run && udevadm info /sys/devices/virtual/mem/null",
            run.path().display()
        ))
        .output()
        .unwrap();
    if !out.status.success() {
        eprintln!(
            "skipped: cannot run udevadm in a namespace here: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "S: by-test/null",
        "L: 7",
        "E: USEC_INITIALIZED=123456",
        "E: ID_ORACLE=a b",
        "E: DEVLINKS=/dev/by-test/null",
        "E: CURRENT_TAGS=:systemd:",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    // libudev lists tags in its hash order.
    let tags = text
        .lines()
        .find_map(|l| l.strip_prefix("E: TAGS="))
        .unwrap_or_default();
    let mut tags: Vec<&str> = tags.split(':').filter(|t| !t.is_empty()).collect();
    tags.sort();
    assert_eq!(tags, ["seat", "systemd"], "{text}");
}
