//! `process` on a fake sysfs with temporary /dev and /run/udev.

use super::*;
use crate::rules::syntax::parse;
use crate::testsys::FakeSys;
use devproto::db;
use std::fs;
use std::path::Path;

struct World {
    sys: FakeSys,
    dir: tempfile::TempDir,
    paths: Paths,
}

impl World {
    fn new(sys: FakeSys) -> World {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            sys: sys.root().to_path_buf(),
            dev: dir.path().join("dev"),
            run: dir.path().join("run"),
        };
        fs::create_dir_all(&paths.dev).unwrap();
        World { sys, dir, paths }
    }

    /// A stand-in for the node devtmpfs would have made (a regular file: permissions are
    /// then refused, links work).
    fn node(&self, name: &str) {
        fs::write(self.paths.dev.join(name), "").unwrap();
    }

    fn run(&self, rules: &str, action: &str, devpath: &str, settings: &Settings) -> Processed {
        self.try_run(rules, action, devpath, settings).unwrap()
    }

    fn try_run(
        &self,
        rules: &str,
        action: &str,
        devpath: &str,
        settings: &Settings,
    ) -> Result<Processed, String> {
        let file = parse("test.rules", rules.as_bytes());
        assert!(file.diagnostics.is_empty(), "{:?}", file.diagnostics);
        let event = Event {
            seqnum: 1,
            action: action.into(),
            devpath: devpath.into(),
            properties: [("ACTION".to_string(), action.to_string())].into(),
        };
        process(&self.paths, &[file], &event, settings)
    }

    fn link(&self, link: &str) -> Option<String> {
        fs::read_link(self.paths.dev.join(link))
            .ok()
            .map(|t| t.to_string_lossy().into_owned())
    }

    fn entry(&self, id: &str) -> Option<db::Entry> {
        db::read(&self.paths.run, id).unwrap()
    }
}

fn quick() -> Settings {
    Settings {
        exec_timeout: Duration::from_secs(30),
        run_programs: true,
    }
}

#[test]
fn block_device_gets_database_tags_and_links() {
    let w = World::new(FakeSys::disk());
    w.node("sda");
    let p = w.run(
        "KERNEL==\"sda\", SUBSYSTEMS==\"scsi\", SYMLINK+=\"disk/by-id/ata-%s{model}\", TAG+=\"systemd\", \
         ENV{ID_X}=\"1\", ENV{.TMP}=\"x\"\n",
        "add",
        FakeSys::SDA,
        &quick(),
    );
    // The model attribute is "Fast Disk  ": trailing spaces go, the inner one becomes '_'.
    assert_eq!(
        w.link("disk/by-id/ata-Fast_Disk").as_deref(),
        Some("../../sda")
    );
    assert_eq!(w.link("block/8:0").as_deref(), Some("../sda"));
    let e = w.entry("b8:0").unwrap();
    assert_eq!(
        e.devlinks,
        ["/dev/disk/by-id/ata-Fast_Disk".to_string()].into()
    );
    assert_eq!(e.properties, [("ID_X".to_string(), "1".to_string())].into());
    assert_eq!(e.tags, ["systemd".to_string()].into());
    assert_eq!(e.current_tags, e.tags);
    assert!(e.usec_initialized > 0);
    assert!(db::tag_path(&w.paths.run, "systemd", "b8:0").exists());
    // The claim in the index: PRIORITY:DEVNODE.
    let claim = w
        .paths
        .run
        .join("links/disk\\x2fby-id\\x2fata-Fast_Disk/b8:0");
    assert_eq!(fs::read_link(claim).unwrap(), Path::new("0:/dev/sda"));
    // What the broadcast carries.
    let props = &p.properties;
    assert_eq!(props["DEVLINKS"], "/dev/disk/by-id/ata-Fast_Disk");
    assert_eq!(props["TAGS"], ":systemd:");
    assert_eq!(props["CURRENT_TAGS"], ":systemd:");
    assert_eq!(props["USEC_INITIALIZED"], e.usec_initialized.to_string());
    assert_eq!(props["DEVNAME"], "/dev/sda");
    assert_eq!(props["SEQNUM"], "1");
    assert_eq!(props[".TMP"], "x");

    // A change event keeps the initialisation time; IMPORT{db} sees the old entry.
    let p2 = w.run(
        "KERNEL==\"sda\", IMPORT{db}=\"ID_X\", ENV{ID_Y}=\"%E{ID_X}2\"\n",
        "change",
        FakeSys::SDA,
        &quick(),
    );
    let e2 = w.entry("b8:0").unwrap();
    assert_eq!(e2.usec_initialized, e.usec_initialized);
    assert_eq!(
        e2.properties,
        [
            ("ID_X".to_string(), "1".to_string()),
            ("ID_Y".to_string(), "12".to_string())
        ]
        .into()
    );
    // The link this event no longer sets is gone; all tags stay, none is current.
    assert_eq!(w.link("disk/by-id/ata-Fast_Disk"), None);
    assert!(!w.paths.dev.join("disk").exists());
    assert_eq!(e2.tags, ["systemd".to_string()].into());
    assert!(e2.current_tags.is_empty());
    assert_eq!(p2.properties["TAGS"], ":systemd:");
    assert!(!p2.properties.contains_key("CURRENT_TAGS"));

    // Remove: the rules see the entry; db, tags, links go.
    let p3 = w.run(
        "ACTION==\"remove\", ENV{SEEN}=\"%E{ID_Y}\"\n",
        "remove",
        FakeSys::SDA,
        &quick(),
    );
    assert_eq!(p3.properties["SEEN"], "12");
    assert_eq!(w.entry("b8:0"), None);
    assert!(!db::tag_path(&w.paths.run, "systemd", "b8:0").exists());
    assert_eq!(w.link("block/8:0"), None);
}

const SHARED: &str = "SUBSYSTEM==\"block\", SYMLINK+=\"disk/shared\"\n\
                      KERNEL==\"sda1\", OPTIONS+=\"link_priority=10\"\n";

#[test]
fn highest_priority_owns_a_shared_link_whatever_the_order() {
    for order in [[FakeSys::SDA, FakeSys::SDA1], [FakeSys::SDA1, FakeSys::SDA]] {
        let w = World::new(FakeSys::disk());
        w.node("sda");
        w.node("sda1");
        for d in order {
            w.run(SHARED, "add", d, &quick());
        }
        assert_eq!(
            w.link("disk/shared").as_deref(),
            Some("../sda1"),
            "{order:?}"
        );
        // Removing the owner hands the link to the other claimant.
        w.run(SHARED, "remove", FakeSys::SDA1, &quick());
        assert_eq!(w.link("disk/shared").as_deref(), Some("../sda"));
        // Removing the last claimant removes the link and its emptied directory.
        w.run(SHARED, "remove", FakeSys::SDA, &quick());
        assert_eq!(w.link("disk/shared"), None);
        assert!(!w.paths.dev.join("disk").exists());
    }
}

#[test]
fn a_claim_whose_node_is_gone_is_skipped() {
    let w = World::new(FakeSys::disk());
    w.node("sda");
    w.node("sda1");
    w.run(SHARED, "add", FakeSys::SDA1, &quick());
    fs::remove_file(w.paths.dev.join("sda1")).unwrap();
    w.run(SHARED, "add", FakeSys::SDA, &quick());
    assert_eq!(w.link("disk/shared").as_deref(), Some("../sda"));
}

#[test]
fn a_file_in_a_links_place_is_left_alone() {
    let w = World::new(FakeSys::disk());
    w.node("sda");
    fs::write(w.paths.dev.join("mine"), "keep").unwrap();
    w.run(
        "KERNEL==\"sda\", SYMLINK+=\"mine\"\n",
        "add",
        FakeSys::SDA,
        &quick(),
    );
    assert_eq!(
        fs::read_to_string(w.paths.dev.join("mine")).unwrap(),
        "keep"
    );
}

#[test]
fn a_link_pointing_elsewhere_is_replaced_and_missing_directories_made() {
    let w = World::new(FakeSys::disk());
    w.node("sda");
    fs::create_dir_all(w.paths.dev.join("disk")).unwrap();
    std::os::unix::fs::symlink("../elsewhere", w.paths.dev.join("disk/mine")).unwrap();
    w.run(
        "KERNEL==\"sda\", SYMLINK+=\"disk/mine deep/er/link\"\n",
        "add",
        FakeSys::SDA,
        &quick(),
    );
    assert_eq!(w.link("disk/mine").as_deref(), Some("../sda"));
    assert_eq!(w.link("deep/er/link").as_deref(), Some("../../sda"));
    assert_eq!(w.link("block/8:0").as_deref(), Some("../sda"));
    // The database and tag directories made on the way are there too.
    assert!(w.entry("b8:0").is_some());
}

#[test]
fn run_program_writes_a_file_with_the_final_properties() {
    let w = World::new(FakeSys::disk());
    w.node("sda");
    let script = w.dir.path().join("run.sh");
    let out = w.dir.path().join("out");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$1|$DEVNAME|$ID_X|$DEVLINKS|$TAGS|$UDEV_DATABASE_VERSION|${{USEC_INITIALIZED:+set}}\" > {}\n",
            out.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let rules = format!(
        "KERNEL==\"sda\", RUN+=\"{} %k\", ENV{{ID_X}}=\"x\", SYMLINK+=\"l\", TAG+=\"t\"\n",
        script.display()
    );
    w.run(&rules, "add", FakeSys::SDA, &quick());
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        "sda|/dev/sda|x|/dev/l|:t:|1|set\n"
    );
    // Not with run_programs off.
    fs::remove_file(&out).unwrap();
    let settings = Settings {
        run_programs: false,
        ..quick()
    };
    w.run(&rules, "change", FakeSys::SDA, &settings);
    assert!(!out.exists());
}

#[test]
fn a_hanging_program_is_killed_and_the_event_finishes() {
    let w = World::new(FakeSys::disk());
    w.node("sda");
    let settings = Settings {
        exec_timeout: Duration::from_millis(300),
        run_programs: true,
    };
    let p = w.run(
        "KERNEL==\"sda\", PROGRAM==\"/bin/sleep 1000\", SYMLINK+=\"never\"\n\
         KERNEL==\"sda\", IMPORT{program}=\"/bin/sleep 1000\", SYMLINK+=\"never2\"\n\
         KERNEL==\"sda\", PROGRAM!=\"/bin/sleep 1000\", SYMLINK+=\"after\"\n",
        "add",
        FakeSys::SDA,
        &settings,
    );
    assert_eq!(w.link("never"), None);
    assert_eq!(w.link("never2"), None);
    assert_eq!(w.link("after").as_deref(), Some("sda"));
    assert_eq!(p.properties["DEVLINKS"], "/dev/after");
}

#[test]
fn programs_see_the_properties_set_so_far() {
    let w = World::new(FakeSys::disk());
    w.node("sda");
    let p = w.run(
        "KERNEL==\"sda\", ENV{ID_A}=\"a1\"\n\
         KERNEL==\"sda\", IMPORT{program}=\"/bin/sh -c 'echo ID_B=b-$$ID_A-$$DEVTYPE'\"\n",
        "add",
        FakeSys::SDA,
        &quick(),
    );
    assert_eq!(p.properties["ID_B"], "b-a1-disk");
}

#[test]
fn parents_carry_their_database_entries() {
    let w = World::new(FakeSys::disk());
    w.node("sda");
    w.node("sda1");
    let rules = "KERNEL==\"sda\", ENV{PARENT_KEY}=\"right\", TAG+=\"ptag\"\n\
                 KERNEL==\"sda1\", IMPORT{parent}=\"PARENT*\"\n\
                 KERNEL==\"sda1\", TAGS==\"ptag\", ENV{PARENT_TAGGED}=\"1\"\n";
    w.run(rules, "add", FakeSys::SDA, &quick());
    let p = w.run(rules, "add", FakeSys::SDA1, &quick());
    assert_eq!(p.properties["PARENT_KEY"], "right");
    assert_eq!(p.properties["PARENT_TAGGED"], "1");
    let e = w.entry("b8:1").unwrap();
    assert_eq!(e.properties["PARENT_KEY"], "right");
}

#[test]
fn attribute_writes() {
    let w = World::new(FakeSys::disk());
    w.node("sda");
    w.run(
        "KERNEL==\"sda\", ATTR{queue/rotational}=\"0\"\n\
         KERNEL==\"sda\", ATTR{nonexistent}=\"1\"\n",
        "add",
        FakeSys::SDA,
        &quick(),
    );
    let dir = w.sys.root().join(FakeSys::SDA.trim_start_matches('/'));
    // Written without truncation or newline, as udev writes attributes (sysfs takes each
    // write whole; on this plain file the old "1\n" keeps its newline).
    assert_eq!(
        fs::read_to_string(dir.join("queue/rotational")).unwrap(),
        "0\n"
    );
    // Attributes are never created.
    assert!(!dir.join("nonexistent").exists());
}

#[test]
fn an_attribute_is_written_as_its_rule_runs() {
    // udevd writes ATTR{} at once: a later rule of the same event matches the new value
    // and a later program reads it.
    let w = World::new(FakeSys::disk());
    w.node("sda");
    let dir = w.sys.root().join(FakeSys::SDA.trim_start_matches('/'));
    let done = w.run(
        &format!(
            "KERNEL==\"sda\", ATTR{{queue/rotational}}=\"7\"\n\
             KERNEL==\"sda\", ATTR{{queue/rotational}}==\"7*\", ENV{{SEEN}}=\"yes\"\n\
             KERNEL==\"sda\", PROGRAM=\"/bin/cat {}\", ENV{{READ}}=\"$result\"\n",
            dir.join("queue/rotational").display()
        ),
        "add",
        FakeSys::SDA,
        &quick(),
    );
    assert_eq!(done.properties.get("SEEN").map(String::as_str), Some("yes"));
    assert_eq!(done.properties.get("READ").map(String::as_str), Some("7"));
}

#[test]
fn devices_without_number_or_subsystem() {
    let w = World::new(FakeSys::disk());
    // The PCI device: an id +pci:..., properties stored, no node operations.
    let pci = "/devices/pci0000:00/0000:00:1f.2";
    w.run(
        "SUBSYSTEM==\"pci\", ENV{ID_P}=\"1\"\n",
        "add",
        pci,
        &quick(),
    );
    let e = w.entry("+pci:0000:00:1f.2").unwrap();
    assert_eq!(e.properties["ID_P"], "1");
    // Nothing to store: no file.
    w.run("", "change", pci, &quick());
    assert_eq!(w.entry("+pci:0000:00:1f.2"), None);
    // ata1 has no subsystem: no id, nothing stored, the event is still processed.
    let p = w.run(
        "ENV{X}=\"1\"\n",
        "add",
        "/devices/pci0000:00/0000:00:1f.2/ata1",
        &quick(),
    );
    assert_eq!(p.properties["X"], "1");
    assert!(fs::read_dir(w.paths.run.join("data"))
        .unwrap()
        .next()
        .is_none());
}

#[test]
fn network_interface_entry() {
    let w = World::new(FakeSys::net());
    let p = w.run(
        "SUBSYSTEM==\"net\", ENV{ID_NET_X}=\"%k\"\n",
        "add",
        FakeSys::ETH0,
        &quick(),
    );
    assert_eq!(p.properties["ID_NET_X"], "eth0");
    assert_eq!(w.entry("n2").unwrap().properties["ID_NET_X"], "eth0");
}

#[test]
fn not_a_device() {
    let w = World::new(FakeSys::disk());
    assert!(w.try_run("", "add", "relative/path", &quick()).is_err());
}

#[test]
fn node_permissions_where_nodes_can_be_made() {
    let w = World::new(FakeSys::disk());
    let node = w.paths.dev.join("sda");
    if sys::namespace::mknod(&node, sys::namespace::NodeKind::Block, 0o600, 8, 0).is_err() {
        return; // no CAP_MKNOD here
    }
    use std::os::unix::fs::MetadataExt;
    w.run(
        "KERNEL==\"sda\", OWNER=\"1\", GROUP=\"2\", MODE=\"0640\"\n",
        "add",
        FakeSys::SDA,
        &quick(),
    );
    let m = fs::metadata(&node).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1, 2, 0o640));
    // A group alone upgrades devtmpfs's 0600 to 0660 (udev-node's default).
    fs::remove_file(&node).unwrap();
    sys::namespace::mknod(&node, sys::namespace::NodeKind::Block, 0o600, 8, 0).unwrap();
    w.run(
        "KERNEL==\"sda\", GROUP=\"3\"\n",
        "change",
        FakeSys::SDA,
        &quick(),
    );
    let m = fs::metadata(&node).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (0, 3, 0o660));
    // A node of another device is left alone.
    fs::remove_file(&node).unwrap();
    sys::namespace::mknod(&node, sys::namespace::NodeKind::Block, 0o600, 8, 9).unwrap();
    w.run(
        "KERNEL==\"sda\", MODE=\"0666\"\n",
        "change",
        FakeSys::SDA,
        &quick(),
    );
    assert_eq!(fs::metadata(&node).unwrap().mode() & 0o7777, 0o600);
    // A set-id mode survives the change of owner that clears such bits.
    fs::remove_file(&node).unwrap();
    sys::namespace::mknod(&node, sys::namespace::NodeKind::Block, 0o600, 8, 0).unwrap();
    w.run(
        "KERNEL==\"sda\", OWNER=\"4\", MODE=\"02660\"\n",
        "change",
        FakeSys::SDA,
        &quick(),
    );
    let m = fs::metadata(&node).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o7777), (4, 0o2660));
}

#[test]
fn a_failed_rename_fails_the_event_after_marking_the_entry() {
    // An interface index no system has: whatever rtnetlink does, the rename fails, and no
    // real interface is touched.
    let s = FakeSys::new();
    let eth = "/devices/virtual/net/eth9";
    s.add(eth, Some("net"), "INTERFACE=eth9\nIFINDEX=999999\n");
    let w = World::new(s);
    let e = w
        .try_run(
            "SUBSYSTEM==\"net\", NAME=\"lan9\", ENV{ID_X}=\"1\"\n",
            "add",
            eth,
            &quick(),
        )
        .unwrap_err();
    assert!(
        e.contains("failed to rename network interface 'eth9' to 'lan9'"),
        "{e}"
    );
    // udevd stores the old entry with ID_RENAMING=1 before asking the kernel, and nothing
    // after the failure.
    let entry = w.entry("n999999").unwrap();
    assert_eq!(
        entry.properties,
        [("ID_RENAMING".to_string(), "1".to_string())].into()
    );
    assert_eq!(entry.usec_initialized, 0);
}

#[test]
fn tag_assignment_drops_the_tags_of_earlier_events() {
    // udevd 252: TAG+= keeps the device's earlier tags in TAGS (only CURRENT_TAGS is
    // this event's); TAG= drops them too, with their tag files.
    let w = World::new(FakeSys::disk());
    w.node("sda");
    w.run(
        "KERNEL==\"sda\", TAG+=\"a\"\n",
        "add",
        FakeSys::SDA,
        &quick(),
    );
    let p = w.run(
        "KERNEL==\"sda\", TAG+=\"b\"\n",
        "change",
        FakeSys::SDA,
        &quick(),
    );
    let e = w.entry("b8:0").unwrap();
    assert_eq!(e.tags, ["a".to_string(), "b".to_string()].into());
    assert_eq!(e.current_tags, ["b".to_string()].into());
    assert_eq!(p.tags, e.tags);
    let p = w.run(
        "KERNEL==\"sda\", TAG=\"c\"\n",
        "change",
        FakeSys::SDA,
        &quick(),
    );
    let e = w.entry("b8:0").unwrap();
    assert_eq!(e.tags, ["c".to_string()].into());
    assert_eq!(e.current_tags, e.tags);
    assert_eq!(p.tags, e.tags);
    for (tag, there) in [("a", false), ("b", false), ("c", true)] {
        assert_eq!(
            db::tag_path(&w.paths.run, tag, "b8:0").exists(),
            there,
            "{tag}"
        );
    }
}

#[test]
fn an_unbound_events_driver_is_read_when_a_rule_asks_and_kept_out_of_the_database() {
    let s = FakeSys::new();
    s.add("/devices/platform/foo", Some("platform"), "");
    s.driver("/devices/platform/foo", "platform", "foodrv");
    let w = World::new(s);
    let run = |rules: &str| {
        let file = parse("test.rules", rules.as_bytes());
        // A kernel event (it names the subsystem) of a device bound since: no DRIVER.
        let event = Event {
            seqnum: 1,
            action: "add".into(),
            devpath: "/devices/platform/foo".into(),
            properties: [
                ("ACTION".to_string(), "add".to_string()),
                ("SUBSYSTEM".to_string(), "platform".to_string()),
            ]
            .into(),
        };
        process(&w.paths, &[file], &event, &quick()).unwrap()
    };
    let p = run("ENV{SEEN}=\"1\"\n");
    assert_eq!(p.properties.get("DRIVER"), None);
    let p = run("DRIVER==\"foodrv\", ENV{SEEN}=\"2\"\n");
    assert_eq!(
        p.properties.get("DRIVER").map(String::as_str),
        Some("foodrv")
    );
    assert_eq!(p.properties.get("SEEN").map(String::as_str), Some("2"));
    let e = w.entry("+platform:foo").unwrap();
    assert_eq!(e.properties.get("SEEN").map(String::as_str), Some("2"));
    assert_eq!(e.properties.get("DRIVER"), None);
}
