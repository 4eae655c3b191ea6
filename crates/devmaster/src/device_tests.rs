use crate::rules::subst::{Device as _, Sysfs as _};
use crate::testsys::FakeSys;

#[test]
fn reads_a_partition_and_its_parents() {
    let s = FakeSys::disk();
    let d = s
        .tree()
        .device(FakeSys::SDA1)
        .unwrap()
        .with_event_properties([("ACTION", "add"), ("SEQNUM", "42"), ("DEVNAME", "sdz1")]);
    assert_eq!(d.devpath(), FakeSys::SDA1);
    assert_eq!(d.sysname(), "sda1");
    assert_eq!(d.sysnum().as_deref(), Some("1"));
    assert_eq!(d.subsystem(), Some("block"));
    assert_eq!(d.devtype(), Some("partition"));
    assert_eq!(d.devnum(), Some((8, 1)));
    assert_eq!(d.devnode().as_deref(), Some("/dev/sdz1"));
    assert_eq!(d.driver(), None);
    assert_eq!(d.syspath(), format!("/sys{}", FakeSys::SDA1));
    let p = d.properties();
    assert_eq!(p.get("ACTION").map(String::as_str), Some("add"));
    assert_eq!(p.get("SEQNUM").map(String::as_str), Some("42"));
    assert_eq!(p.get("SUBSYSTEM").map(String::as_str), Some("block"));
    assert_eq!(p.get("DEVNAME").map(String::as_str), Some("/dev/sdz1"));
    assert_eq!(p.get("DEVPATH").map(String::as_str), Some(FakeSys::SDA1));
    assert_eq!(p.get("PARTN").map(String::as_str), Some("1"));

    // Parent chain: sda, 0:0:0:0 (driver sd), target, host0, ata1 (no subsystem), pci.
    let chain: Vec<(String, Option<String>, Option<String>)> =
        std::iter::successors(d.parent(), |p| p.parent())
            .map(|p| (p.sysname(), p.property("SUBSYSTEM"), p.driver()))
            .collect();
    let names: Vec<&str> = chain.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "sda",
            "0:0:0:0",
            "target0:0:0",
            "host0",
            "ata1",
            "0000:00:1f.2"
        ]
    );
    assert_eq!(chain[1].2.as_deref(), Some("sd"));
    assert_eq!(chain[4].1, None);
    assert_eq!(chain[5].1.as_deref(), Some("pci"));
    assert_eq!(chain[5].2.as_deref(), Some("ahci"));
}

#[test]
fn attributes_as_sd_device_reads_them() {
    let s = FakeSys::disk();
    s.attr(FakeSys::SDA, "twolines", "a\nb\n\r\n");
    s.link(FakeSys::SDA, "holder", "/devices/virtual/block/dm-0");
    let d = s.tree().device(FakeSys::SDA).unwrap();
    // Trailing newlines go, other trailing whitespace stays.
    assert_eq!(d.sysattr("size").as_deref(), Some("2048"));
    assert_eq!(d.sysattr("twolines").as_deref(), Some("a\nb"));
    let scsi = d.parent().unwrap();
    assert_eq!(scsi.sysattr("model").as_deref(), Some("Fast Disk  "));
    // Attributes in subdirectories; directories themselves are no value.
    assert_eq!(d.sysattr("queue/rotational").as_deref(), Some("1"));
    assert_eq!(d.sysattr("queue"), None);
    // driver/subsystem links read as their last element, other links are no value.
    assert_eq!(d.sysattr("subsystem").as_deref(), Some("block"));
    assert_eq!(scsi.sysattr("driver").as_deref(), Some("sd"));
    assert_eq!(d.sysattr("holder"), None);
    assert_eq!(d.sysattr("missing"), None);
    assert_eq!(d.sysattr("../sda/size"), None);
}

#[test]
fn class_links_resolve_and_subsystem_lookup() {
    let s = FakeSys::net();
    let t = s.tree();
    let d = t.device("/class/net/eth0").unwrap();
    assert_eq!(d.devpath(), FakeSys::ETH0);
    assert_eq!(d.sysnum().as_deref(), Some("0"));
    assert_eq!(d.devnum(), None);
    assert_eq!(d.property("IFINDEX").as_deref(), Some("2"));
    assert_eq!(
        t.subsystem_sysattr("net", "eth0", "address").as_deref(),
        Some("52:54:00:12:34:56")
    );
    assert_eq!(
        t.find("pci", "0000:00:03.0").map(|d| d.driver()),
        Some(Some("e1000".to_string()))
    );
    assert!(t.find("net", "nope").is_none());
    assert!(t.device("/nonexistent").is_none());
    assert_eq!(t.host_path("/sys/devices/x"), s.root().join("devices/x"));
    assert_eq!(t.host_path("/proc/x"), std::path::PathBuf::from("/proc/x"));
}

#[test]
fn sysname_with_bang_and_all_digit_names() {
    let s = FakeSys::new();
    s.add("/devices/virtual/block/cciss!c0d0", Some("block"), "")
        .add("/devices/virtual/misc/123", None, "");
    let t = s.tree();
    let d = t.device("/devices/virtual/block/cciss!c0d0").unwrap();
    assert_eq!(d.sysname(), "cciss/c0d0");
    assert_eq!(d.sysnum().as_deref(), Some("0"));
    let d = t.device("/devices/virtual/misc/123").unwrap();
    assert_eq!(d.sysnum().as_deref(), Some("23"));
    assert!(d.parent().is_none());
}

#[test]
fn remove_event_of_a_vanished_device() {
    let s = FakeSys::disk();
    let gone = format!("{}/sda2", FakeSys::SDA);
    let t = s.tree();
    assert!(t.device(&gone).is_none());
    let d = t
        .event_device(
            &gone,
            [
                ("ACTION", "remove"),
                ("SUBSYSTEM", "block"),
                ("DEVNAME", "sda2"),
                ("MAJOR", "8"),
                ("MINOR", "2"),
                ("DRIVER", "x"),
            ],
        )
        .unwrap();
    assert_eq!(d.sysname(), "sda2");
    assert_eq!(d.sysnum().as_deref(), Some("2"));
    assert_eq!(d.subsystem(), Some("block"));
    assert_eq!(d.driver().as_deref(), Some("x"));
    assert_eq!(d.devnum(), Some((8, 2)));
    assert_eq!(d.devnode().as_deref(), Some("/dev/sda2"));
    assert_eq!(d.sysattr("size"), None);
    assert_eq!(d.parent().map(|p| p.sysname()).as_deref(), Some("sda"));
    // An existing device: sysfs facts plus the event's.
    let d = t
        .event_device(FakeSys::SDA, [("ACTION", "change")])
        .unwrap();
    assert_eq!(d.sysattr("size").as_deref(), Some("2048"));
    assert_eq!(d.property("ACTION").as_deref(), Some("change"));
    assert!(t.event_device("relative", [("A", "b")]).is_none());
    assert!(t.event_device("/devices/../x", [("A", "b")]).is_none());
}

#[test]
fn a_kernel_event_device_is_made_from_the_uevent_as_sd_device_does() {
    let s = FakeSys::new();
    s.add("/devices/pci0/card", Some("pci"), "");
    s.add(
        "/devices/pci0/card/sound/c0",
        Some("sound"),
        "FROM_FILE=1\nDEVNAME=snd/c0\n",
    );
    s.link(
        "/devices/pci0/card/sound/c0",
        "driver",
        "../../../../bus/pci/drivers/snd",
    );
    let t = s.tree();
    // With SUBSYSTEM (every kernel uevent has it), the uevent file is not read: the
    // kernel wrote the event from the same variables. An unbound event (no DRIVER) gets
    // the driver link's name when asked for (the engine then adds the property), as
    // sd-device reads it; until then DRIVER is no property.
    let d = t
        .event_device(
            "/devices/pci0/card/sound/c0",
            [
                ("ACTION", "add"),
                ("SUBSYSTEM", "sound"),
                ("DEVNAME", "snd/c0"),
            ],
        )
        .unwrap();
    assert_eq!(d.property("FROM_FILE"), None);
    assert_eq!(d.devnode().as_deref(), Some("/dev/snd/c0"));
    assert_eq!(d.subsystem(), Some("sound"));
    assert_eq!(d.property("DRIVER"), None);
    assert_eq!(d.driver().as_deref(), Some("snd"));
    assert_eq!(d.parent().map(|p| p.sysname()).as_deref(), Some("card"));
    // The event's DRIVER wins; without SUBSYSTEM (test tools) sysfs is read as before.
    let d = t
        .event_device(
            "/devices/pci0/card/sound/c0",
            [("SUBSYSTEM", "sound"), ("DRIVER", "other")],
        )
        .unwrap();
    assert_eq!(d.driver().as_deref(), Some("other"));
    let d = t
        .event_device("/devices/pci0/card/sound/c0", [("ACTION", "add")])
        .unwrap();
    assert_eq!(d.property("FROM_FILE").as_deref(), Some("1"));
}

#[test]
fn below_sys_devices_only_a_directory_with_a_uevent_file_is_a_parent() {
    let s = FakeSys::new();
    s.add("/devices/platform/host", Some("platform"), "");
    s.add("/devices/platform/host/glue/child", Some("misc"), "");
    // A glue directory with a subsystem link but no uevent file is no device there, as
    // sd-device has it; the walk goes on to the real parent.
    s.link("/devices/platform/host", "glue/subsystem", "/class/misc");
    let d = s
        .tree()
        .device("/devices/platform/host/glue/child")
        .unwrap();
    let chain: Vec<String> = std::iter::successors(d.parent(), |p| p.parent())
        .map(|p| p.devpath())
        .collect();
    assert_eq!(chain, ["/devices/platform/host"]);
}

#[test]
fn an_ancestor_is_read_only_as_far_as_it_is_asked_for() {
    let s = FakeSys::new();
    s.add(
        "/devices/platform/host",
        Some("platform"),
        "DEVTYPE=early\n",
    );
    s.add("/devices/platform/host/child", Some("misc"), "");
    let d = s.tree().device("/devices/platform/host/child").unwrap();
    let p = d.parent_device().unwrap();
    assert_eq!(p.devpath(), "/devices/platform/host");
    // Finding the parent did not read its uevent file (sd-device only checks that it is
    // there): what the file says when first asked for is what counts.
    s.attr("/devices/platform/host", "uevent", "DEVTYPE=late\n");
    s.driver("/devices/platform/host", "platform", "hostdrv");
    assert_eq!(p.devtype(), Some("late"));
    assert_eq!(p.driver().as_deref(), Some("hostdrv"));
    assert_eq!(p.subsystem(), Some("platform"));
    assert_eq!(
        p.properties().get("DRIVER").map(String::as_str),
        Some("hostdrv")
    );
}
