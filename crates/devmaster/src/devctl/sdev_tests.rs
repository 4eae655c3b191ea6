use super::*;
use std::os::unix::fs::symlink;

/// A fake system: `sys/`, `dev/`, `run/` in a temporary directory.
fn fake() -> (tempfile::TempDir, Env) {
    let t = tempfile::tempdir().unwrap();
    let env = Env {
        sys: t.path().join("sys"),
        dev: t.path().join("dev"),
        run: t.path().join("run"),
        root: t.path().to_path_buf(),
        colors: false,
        utf8: true,
    };
    for d in [
        "sys/devices/virtual/net/d0",
        "sys/class/net",
        "sys/class/block",
        "sys/dev/block",
        "sys/bus/pci/drivers/e1000",
        "sys/module/loop",
        "dev",
        "run/data",
    ] {
        std::fs::create_dir_all(t.path().join(d)).unwrap();
    }
    let vda = t
        .path()
        .join("sys/devices/pci0000:00/0000:00:04.0/virtio1/block/vda");
    std::fs::create_dir_all(&vda).unwrap();
    std::fs::write(
        t.path().join("sys/devices/pci0000:00/0000:00:04.0/uevent"),
        "PCI_ID=1AF4:1001\n",
    )
    .unwrap();
    std::fs::write(
        vda.join("uevent"),
        "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\nDISKSEQ=9\n",
    )
    .unwrap();
    symlink("../../../../../../class/block", vda.join("subsystem")).unwrap();
    symlink(
        "../../devices/pci0000:00/0000:00:04.0/virtio1/block/vda",
        t.path().join("sys/dev/block/254:0"),
    )
    .unwrap();
    symlink(
        "../../devices/pci0000:00/0000:00:04.0/virtio1/block/vda",
        t.path().join("sys/class/block/vda"),
    )
    .unwrap();
    let d0 = t.path().join("sys/devices/virtual/net/d0");
    std::fs::write(d0.join("uevent"), "INTERFACE=d0\nIFINDEX=7\n").unwrap();
    std::fs::write(d0.join("ifindex"), "7\n").unwrap();
    std::fs::write(d0.join("mtu"), "1500\n").unwrap();
    symlink("../../../../class/net", d0.join("subsystem")).unwrap();
    symlink(
        "../../devices/virtual/net/d0",
        t.path().join("sys/class/net/d0"),
    )
    .unwrap();
    (t, env)
}

#[test]
fn properties_follow_sd_devices_read_order() {
    let (_t, env) = fake();
    std::fs::write(
        env.run.join("data/b254:0"),
        "S:disk/by-id/virtio-x\nS:disk/by-path/p\nL:-10\nI:123\nE:ID_FS_TYPE=ext4\nE:ID_EMPTY=\nG:systemd\nQ:systemd\nV:1\n",
    )
    .unwrap();
    let mut d = Dev::from_path(&env, "/sys/class/block/vda").unwrap();
    assert_eq!(
        d.devpath,
        "/devices/pci0000:00/0000:00:04.0/virtio1/block/vda"
    );
    // DEVPATH, then the uevent file (MAJOR/MINOR last), SUBSYSTEM when the id needs it,
    // the database, the links and tags: what `udevadm info -q property` prints.
    let keys: Vec<String> = d.properties().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            "DEVPATH",
            "DEVNAME",
            "DEVTYPE",
            "DISKSEQ",
            "MAJOR",
            "MINOR",
            "SUBSYSTEM",
            "USEC_INITIALIZED",
            "ID_FS_TYPE",
            "DEVLINKS",
            "TAGS",
            "CURRENT_TAGS"
        ]
    );
    assert_eq!(
        d.property("DEVLINKS").as_deref(),
        Some("/dev/disk/by-id/virtio-x /dev/disk/by-path/p")
    );
    assert_eq!(d.property("TAGS").as_deref(), Some(":systemd:"));
    assert_eq!(d.link_priority(), -10);
    assert!(d.is_initialized());
    assert_eq!(d.device_id().unwrap(), "b254:0");
    assert_eq!(d.sysnum(), None);
    let p = d.parent(&env).unwrap();
    // virtio1 has no uevent file: it is no device, its parent is.
    assert_eq!(p.devpath, "/devices/pci0000:00/0000:00:04.0");
    assert!(p.parent(&env).is_none());
}

#[test]
fn finding_devices_as_sd_device_does() {
    let (_t, env) = fake();
    std::fs::create_dir_all(env.dev.join("block")).unwrap();
    assert_eq!(
        Dev::from_path(&env, "/dev/block/254:0")
            .unwrap()
            .devpath
            .rsplit('/')
            .next(),
        Some("vda")
    );
    assert_eq!(
        Dev::from_path(&env, "/dev/block/254:1").unwrap_err(),
        ENODEV
    );
    assert_eq!(Dev::from_path(&env, "/dev").unwrap_err(), EINVAL);
    assert_eq!(Dev::from_path(&env, "/sys").unwrap_err(), ENODEV);
    // Below /devices a device needs a uevent file; elsewhere a directory is enough.
    assert_eq!(
        Dev::from_path(&env, "/sys/devices/pci0000:00/0000:00:04.0/virtio1").unwrap_err(),
        ENODEV
    );
    let mut m = Dev::from_path(&env, "/sys/module/loop").unwrap();
    assert_eq!(m.subsystem().as_deref(), Some("module"));
    let mut drv = Dev::from_path(&env, "/sys/bus/pci/drivers/e1000").unwrap();
    assert_eq!(drv.subsystem().as_deref(), Some("drivers"));
    assert_eq!(drv.device_id().unwrap(), "+drivers:pci:e1000");
    let mut bus = Dev::from_path(&env, "/sys/bus/pci").unwrap();
    assert_eq!(bus.subsystem().as_deref(), Some("subsystem"));
    let mut n = Dev::from_device_id(&env, "n7").unwrap();
    assert_eq!(n.ifindex(), Some(7));
    assert_eq!(n.device_id().unwrap(), "n7");
    assert_eq!(
        Dev::from_device_id(&env, "+net:d0").unwrap().devpath,
        "/devices/virtual/net/d0"
    );
    assert_eq!(Dev::from_device_id(&env, "x").unwrap_err(), EINVAL);
    // No database entry: not initialized, no error.
    assert!(!n.is_initialized());
}

#[test]
fn attributes_as_sd_device_reads_them() {
    let (t, env) = fake();
    let d0 = t.path().join("sys/devices/virtual/net/d0");
    std::fs::create_dir_all(d0.join("queues/rx-0")).unwrap();
    std::fs::write(d0.join("queues/rx-0/rps_cpus"), "0\n").unwrap();
    std::fs::create_dir_all(d0.join("child")).unwrap();
    std::fs::write(d0.join("child/uevent"), "").unwrap();
    std::fs::write(d0.join("secret"), "x").unwrap();
    std::fs::set_permissions(
        d0.join("secret"),
        std::os::unix::fs::PermissionsExt::from_mode(0o200),
    )
    .unwrap();
    let d = Dev::from_path(&env, "/sys/class/net/d0").unwrap();
    assert_eq!(
        d.sysattr_names(),
        [
            "ifindex",
            "mtu",
            "queues/rx-0/rps_cpus",
            "secret",
            "subsystem",
            "uevent"
        ]
    );
    assert_eq!(d.sysattr("mtu").unwrap(), b"1500");
    assert_eq!(d.sysattr("subsystem").unwrap(), b"net");
    assert_eq!(d.sysattr("queues").unwrap_err(), EISDIR);
    assert_eq!(d.sysattr("secret").unwrap_err(), EPERM);
    assert_eq!(d.sysattr("nope").unwrap_err(), ENOENT);
}

#[test]
fn event_devices_keep_message_order() {
    let (_t, env) = fake();
    let props: Vec<(String, String)> = [
        ("UDEV_DATABASE_VERSION", "1"),
        ("ACTION", "add"),
        ("DEVPATH", "/devices/x/sda"),
        ("SUBSYSTEM", "block"),
        ("MAJOR", "8"),
        ("MINOR", "0"),
        ("DEVNAME", "sda"),
        ("DEVLINKS", "/dev/b /dev/a"),
        ("TAGS", ":systemd:"),
        ("CURRENT_TAGS", ":systemd:"),
        ("SEQNUM", "3"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let mut d = Dev::from_event(&env, &props);
    let keys: Vec<(String, String)> = d.properties();
    let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "ACTION",
            "DEVPATH",
            "SUBSYSTEM",
            "DEVNAME",
            "SEQNUM",
            "MAJOR",
            "MINOR",
            "DEVLINKS",
            "TAGS",
            "CURRENT_TAGS"
        ]
    );
    assert_eq!(keys[3].1, "/dev/sda");
    assert_eq!(keys[7].1, "/dev/b /dev/a");
}

#[test]
fn db_parser_quirks() {
    // Each case: bytes, then what sd-device makes of them.
    let e = parse_db(b"S:a\nS:a\nE:K=V\nX\nE:L=1\nG:bad tag\nG:ok\nW:5\nI:notanumber\nE:LAST=1");
    assert_eq!(e.devlinks, ["/dev/a"]);
    // A key without ':' makes sd-device skip to the end of the *next* line (the newline
    // after the bad key is taken as its non-':' character), so E:L=1 is lost too.
    assert_eq!(e.properties, [("K".to_string(), Some("V".to_string()))]);
    assert_eq!(e.tags, ["ok"]);
    assert_eq!(e.usec_initialized, None);
    let e = parse_db(b"E:A=\nV:1\nQ:t\n");
    assert_eq!(e.properties, [("A".to_string(), None)]);
    assert_eq!(
        (e.version, e.current_tags.clone(), e.tags),
        (1, vec!["t".to_string()], vec!["t".to_string()])
    );
}

proptest::proptest! {
    #[test]
    fn db_parser_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = parse_db(&bytes);
    }
}
