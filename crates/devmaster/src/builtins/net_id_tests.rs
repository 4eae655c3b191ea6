use proptest::prelude::*;

use super::testfs::FsSystem;
use super::*;
use crate::testsys::FakeSys;

/// The properties `net_id` sets for the device at `devpath` of `sys`.
fn props(sys: &FakeSys, devpath: &str, scheme: &str) -> Vec<(String, String)> {
    let dev = sys.tree().device(devpath).expect("device");
    let system = FsSystem::new(sys.root().parent().unwrap());
    let out = run_with(&dev, &system, &[], Scheme::by_name(scheme).unwrap(), None).unwrap();
    out.properties
        .into_iter()
        .map(|(k, v)| (k, v.unwrap()))
        .collect()
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A network interface `name` below `parent` with ifindex 2 and the given attributes.
fn netdev(sys: &FakeSys, parent: &str, name: &str, attrs: &[(&str, &str)]) -> String {
    let path = format!("{parent}/net/{name}");
    sys.add(
        &path,
        Some("net"),
        &format!("INTERFACE={name}\nIFINDEX=2\n"),
    );
    let defaults = [
        ("iflink", "2"),
        ("type", "1"),
        ("address", "52:54:00:12:34:56"),
        ("addr_assign_type", "0"),
        ("dev_port", "0"),
    ];
    for (k, v) in defaults {
        if !attrs.iter().any(|(a, _)| *a == k) {
            sys.attr(&path, k, &format!("{v}\n"));
        }
    }
    for (k, v) in attrs {
        sys.attr(&path, k, &format!("{v}\n"));
    }
    path
}

/// A PCI device with a single-function config space (header type byte 0x0e).
fn pci(sys: &FakeSys, path: &str, multifunction: bool) {
    sys.add(path, Some("pci"), "DRIVER=x\n");
    let mut config = vec![0u8; 64];
    config[0x0e] = if multifunction { 0x80 } else { 0 };
    std::fs::write(
        sys.root().join(path.trim_start_matches('/')).join("config"),
        config,
    )
    .unwrap();
}

const PCI3: &str = "/devices/pci0000:00/0000:00:03.0";

#[test]
fn virtio_net_on_pci_gets_path_and_mac_names() {
    // The common VM case: virtio-net behind the virtio bus of PCI device 00:03.0
    // (Debian's udevadm test-builtin net_id gives exactly these on such a VM).
    let sys = FakeSys::new();
    pci(&sys, PCI3, false);
    sys.add(
        &format!("{PCI3}/virtio0"),
        Some("virtio"),
        "DRIVER=virtio_net\n",
    );
    let eth = netdev(&sys, &format!("{PCI3}/virtio0"), "eth0", &[]);
    assert_eq!(
        props(&sys, &eth, "v252"),
        kv(&[
            ("ID_NET_NAMING_SCHEME", "v252"),
            ("ID_NET_NAME_MAC", "enx525400123456"),
            ("ID_NET_NAME_PATH", "enp0s3"),
        ])
    );
    // With a hotplug slot for 0000:00:03 (QEMU's PCIe root ports, ACPI _SUN): ens3.
    sys.attr("/bus/pci/slots/3", "address", "0000:00:03\n");
    sys.attr("/bus/pci/slots/7", "address", "0000:00:07\n");
    assert_eq!(
        props(&sys, &eth, "v252"),
        kv(&[
            ("ID_NET_NAMING_SCHEME", "v252"),
            ("ID_NET_NAME_MAC", "enx525400123456"),
            ("ID_NET_NAME_PATH", "enp0s3"),
            ("ID_NET_NAME_SLOT", "ens3"),
        ])
    );
}

#[test]
fn pci_names_follow_domain_function_ports_and_firmware_index() {
    struct Case {
        pci: &'static str,
        multifunction: bool,
        pci_attrs: &'static [(&'static str, &'static str)],
        net_attrs: &'static [(&'static str, &'static str)],
        expect: &'static [(&'static str, &'static str)],
    }
    // Expected values follow systemd.net-naming-scheme(7)'s examples and rules.
    let cases = [
        Case {
            pci: "/devices/pci0001:05/0001:05:00.1",
            multifunction: true,
            pci_attrs: &[],
            net_attrs: &[("addr_assign_type", "3")],
            expect: &[("ID_NET_NAME_PATH", "enP1p5s0f1")],
        },
        Case {
            // Function 0 of a multi-function device still gets "f0".
            pci: "/devices/pci0000:00/0000:00:1c.0",
            multifunction: true,
            pci_attrs: &[],
            net_attrs: &[("addr_assign_type", "3"), ("dev_port", "1")],
            expect: &[("ID_NET_NAME_PATH", "enp0s28f0d1")],
        },
        Case {
            // phys_port_name wins over dev_port; acpi_index over index; label unprefixed.
            pci: "/devices/pci0000:00/0000:00:19.0",
            multifunction: false,
            pci_attrs: &[
                ("acpi_index", "2"),
                ("index", "9"),
                ("label", "Onboard LAN"),
            ],
            net_attrs: &[
                ("addr_assign_type", "1"),
                ("phys_port_name", "p1"),
                ("dev_port", "3"),
            ],
            expect: &[
                ("ID_NET_NAME_ONBOARD", "eno2np1"),
                ("ID_NET_LABEL_ONBOARD", "Onboard LAN"),
                ("ID_NET_NAME_PATH", "enp0s25np1"),
            ],
        },
        Case {
            // An index beyond 65535 is firmware garbage.
            pci: "/devices/pci0000:00/0000:00:19.0",
            multifunction: false,
            pci_attrs: &[("index", "16777215")],
            net_attrs: &[("addr_assign_type", "1")],
            expect: &[("ID_NET_NAME_PATH", "enp0s25")],
        },
        Case {
            // ARI: function number includes the slot bits.
            pci: "/devices/pci0000:00/0000:3b:01.2",
            multifunction: true,
            pci_attrs: &[("ari_enabled", "1")],
            net_attrs: &[("addr_assign_type", "1")],
            expect: &[("ID_NET_NAME_PATH", "enp59s1f10")],
        },
    ];
    for c in cases {
        let sys = FakeSys::new();
        pci(&sys, c.pci, c.multifunction);
        for (k, v) in c.pci_attrs {
            sys.attr(c.pci, k, &format!("{v}\n"));
        }
        let eth = netdev(&sys, c.pci, "eth0", c.net_attrs);
        let mut expect = kv(&[("ID_NET_NAMING_SCHEME", "v252")]);
        expect.extend(kv(c.expect));
        assert_eq!(props(&sys, &eth, "v252"), expect, "{}", c.pci);
    }
}

#[test]
fn older_schemes_change_label_prefix_and_index_limits() {
    let sys = FakeSys::new();
    let p = "/devices/pci0000:00/0000:00:19.0";
    pci(&sys, p, false);
    sys.attr(p, "acpi_index", "0\n").attr(p, "label", "LAN\n");
    let eth = netdev(&sys, p, "eth0", &[("addr_assign_type", "1")]);
    // v238: index 0 refused (no onboard name, no label), no LABEL_NOPREFIX.
    assert_eq!(
        props(&sys, &eth, "v238"),
        kv(&[
            ("ID_NET_NAMING_SCHEME", "v238"),
            ("ID_NET_NAME_PATH", "enp0s25")
        ])
    );
    // v240: index 0 allowed, label prefixed.
    assert_eq!(
        props(&sys, &eth, "v240"),
        kv(&[
            ("ID_NET_NAMING_SCHEME", "v240"),
            ("ID_NET_NAME_ONBOARD", "eno0"),
            ("ID_NET_LABEL_ONBOARD", "enLAN"),
            ("ID_NET_NAME_PATH", "enp0s25"),
        ])
    );
}

#[test]
fn prefixes_and_skipped_devices() {
    let sys = FakeSys::new();
    pci(&sys, PCI3, false);
    let wl = netdev(&sys, PCI3, "wlan0", &[("addr_assign_type", "1")]);
    std::fs::write(
        sys.root().join(wl.trim_start_matches('/')).join("uevent"),
        "INTERFACE=wlan0\nIFINDEX=2\nDEVTYPE=wlan\n",
    )
    .unwrap();
    assert_eq!(
        props(&sys, &wl, "v252"),
        kv(&[
            ("ID_NET_NAMING_SCHEME", "v252"),
            ("ID_NET_NAME_PATH", "wlp0s3")
        ])
    );
    // A VLAN (iflink != ifindex) and a loopback-type device get nothing.
    let vlan = netdev(&sys, PCI3, "vlan5", &[("iflink", "7")]);
    assert_eq!(props(&sys, &vlan, "v252"), vec![]);
    let lo = netdev(&sys, PCI3, "lo", &[("type", "772")]);
    assert_eq!(props(&sys, &lo, "v252"), vec![]);
    // InfiniBand: "ib" from v240 on, never a MAC name; none at all before.
    let ib = netdev(
        &sys,
        PCI3,
        "ib0",
        &[
            ("type", "32"),
            (
                "address",
                "80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:0b:0c",
            ),
        ],
    );
    assert_eq!(
        props(&sys, &ib, "v252"),
        kv(&[
            ("ID_NET_NAMING_SCHEME", "v252"),
            ("ID_NET_NAME_PATH", "ibp0s3")
        ])
    );
    assert_eq!(props(&sys, &ib, "v239"), vec![]);
    // No IFINDEX: the builtin fails, as udev's does.
    let dev = sys.tree().device(PCI3).unwrap();
    let system = FsSystem::new(sys.root().parent().unwrap());
    assert!(run_with(&dev, &system, &[], Scheme::default(), None).is_err());
}

#[test]
fn usb_and_bcma_suffixes_follow_the_pci_part() {
    let sys = FakeSys::new();
    let hc = "/devices/pci0000:00/0000:00:14.0";
    pci(&sys, hc, false);
    let usbdev = format!("{hc}/usb2/2-1/2-1.4");
    sys.add(&format!("{hc}/usb2"), Some("usb"), "DEVTYPE=usb_device\n")
        .add(
            &format!("{hc}/usb2/2-1"),
            Some("usb"),
            "DEVTYPE=usb_device\n",
        )
        .add(&usbdev, Some("usb"), "DEVTYPE=usb_device\n");
    let intf = format!("{usbdev}/2-1.4:2.1");
    sys.add(&intf, Some("usb"), "DEVTYPE=usb_interface\n");
    let eth = netdev(&sys, &intf, "eth0", &[]);
    assert_eq!(
        props(&sys, &eth, "v252"),
        kv(&[
            ("ID_NET_NAMING_SCHEME", "v252"),
            ("ID_NET_NAME_MAC", "enx525400123456"),
            ("ID_NET_NAME_PATH", "enp0s20u1u4c2i1"),
        ])
    );
    let intf0 = format!("{usbdev}/2-1.4:1.0");
    sys.add(&intf0, Some("usb"), "DEVTYPE=usb_interface\n");
    let eth1 = netdev(&sys, &intf0, "eth1", &[("addr_assign_type", "1")]);
    assert_eq!(
        props(&sys, &eth1, "v252")[1],
        ("ID_NET_NAME_PATH".to_string(), "enp0s20u1u4".to_string())
    );

    let b = "/devices/pci0000:00/0000:00:01.0";
    pci(&sys, b, false);
    sys.add(&format!("{b}/bcma0:1"), Some("bcma"), "");
    let wl = netdev(
        &sys,
        &format!("{b}/bcma0:1"),
        "eth2",
        &[("addr_assign_type", "1")],
    );
    assert_eq!(
        props(&sys, &wl, "v252")[1],
        ("ID_NET_NAME_PATH".to_string(), "enp0s1b1".to_string())
    );
}

#[test]
fn sr_iov_virtual_function_is_named_after_its_physical_function() {
    let sys = FakeSys::new();
    let pf = "/devices/pci0000:00/0000:00:02.0/0000:03:00.0";
    let vf = "/devices/pci0000:00/0000:00:02.0/0000:03:10.2";
    pci(&sys, "/devices/pci0000:00/0000:00:02.0", false);
    pci(&sys, pf, true);
    pci(&sys, vf, false);
    sys.attr(pf, "acpi_index", "1\n")
        .attr(pf, "label", "PF label\n");
    sys.link(vf, "physfn", pf)
        .link(
            pf,
            "virtfn0",
            "/devices/pci0000:00/0000:00:02.0/0000:03:10.0",
        )
        .link(pf, "virtfn5", vf);
    let eth = netdev(&sys, vf, "eth0", &[("addr_assign_type", "1")]);
    // The slot search starts at the physical function and walks its PCI parents.
    sys.attr("/bus/pci/slots/6", "address", "0000:00:02\n");
    assert_eq!(
        props(&sys, &eth, "v252"),
        kv(&[
            ("ID_NET_NAMING_SCHEME", "v252"),
            ("ID_NET_NAME_ONBOARD", "eno1v5"),
            ("ID_NET_NAME_PATH", "enp3s0f0v5"),
            ("ID_NET_NAME_SLOT", "ens6f0v5"),
        ])
    );
    // v238 has no SR-IOV naming: the VF is named as itself, its slot search starting at
    // the VF.
    assert_eq!(
        props(&sys, &eth, "v238"),
        kv(&[
            ("ID_NET_NAMING_SCHEME", "v238"),
            ("ID_NET_NAME_PATH", "enp3s16f2"),
            ("ID_NET_NAME_SLOT", "ens6f2"),
        ])
    );
}

#[test]
fn hotplug_slot_of_a_bridge_is_used_only_for_multifunction_devices() {
    let sys = FakeSys::new();
    let bridge = "/devices/pci0000:00/0000:00:1c.0";
    let nic = format!("{bridge}/0000:02:00.0");
    pci(&sys, bridge, false);
    sys.attr(
        bridge,
        "modalias",
        "pci:v00008086d00001234sv0sd0bc06sc04i00\n",
    );
    pci(&sys, &nic, false);
    sys.attr("/bus/pci/slots/4", "address", "0000:00:1c\n");
    let eth = netdev(&sys, &nic, "eth0", &[("addr_assign_type", "1")]);
    let expect_path = ("ID_NET_NAME_PATH".to_string(), "enp2s0".to_string());
    assert_eq!(
        props(&sys, &eth, "v252"),
        vec![
            ("ID_NET_NAMING_SCHEME".into(), "v252".into()),
            expect_path.clone()
        ]
    );
    // v245 has no bridge rule: the bridge's slot is taken.
    assert_eq!(
        props(&sys, &eth, "v245"),
        vec![
            ("ID_NET_NAMING_SCHEME".into(), "v245".into()),
            expect_path,
            ("ID_NET_NAME_SLOT".into(), "ens4".into())
        ]
    );
}

#[test]
fn other_buses() {
    let sys = FakeSys::new();
    // s390 CCW group device 0.0.0600 → c600.
    sys.add("/devices/qeth/0.0.0600", Some("ccwgroup"), "");
    let ccw = netdev(
        &sys,
        "/devices/qeth/0.0.0600",
        "eth0",
        &[("addr_assign_type", "1")],
    );
    assert_eq!(props(&sys, &ccw, "v252")[1].1, "enc600");
    // POWER vio slot 2.
    sys.add("/devices/vio/30000002", Some("vio"), "");
    let vio = netdev(
        &sys,
        "/devices/vio/30000002",
        "eth1",
        &[("addr_assign_type", "1")],
    );
    assert_eq!(
        props(&sys, &vio, "v252")[1],
        ("ID_NET_NAME_SLOT".to_string(), "env2".to_string())
    );
    // ACPI platform device HISI00C2:01 → ahisic2i1; a 3-letter PNP vendor too.
    sys.add("/devices/platform/HISI00C2:01", Some("platform"), "");
    let plat = netdev(
        &sys,
        "/devices/platform/HISI00C2:01",
        "eth0",
        &[("addr_assign_type", "1")],
    );
    assert_eq!(props(&sys, &plat, "v252")[1].1, "enahisic2i1");
    sys.add("/devices/platform/ABC0C09:02", Some("platform"), "");
    let plat3 = netdev(
        &sys,
        "/devices/platform/ABC0C09:02",
        "eth3",
        &[("addr_assign_type", "1")],
    );
    assert_eq!(props(&sys, &plat3, "v252")[1].1, "enaabcc09i2");
    // Xen netfront vif-3 → X3 (v250 on).
    sys.add("/devices/vif-3", Some("xen"), "");
    let xen = netdev(&sys, "/devices/vif-3", "eth0", &[("addr_assign_type", "1")]);
    assert_eq!(
        props(&sys, &xen, "v252")[1],
        ("ID_NET_NAME_SLOT".to_string(), "enX3".to_string())
    );
    assert_eq!(props(&sys, &xen, "v249").len(), 1);
    // netdevsim: i<address>n<port name>.
    sys.add("/devices/netdevsim4", Some("netdevsim"), "");
    let sim = netdev(
        &sys,
        "/devices/netdevsim4",
        "eth0",
        &[("addr_assign_type", "1"), ("phys_port_name", "p0")],
    );
    assert_eq!(props(&sys, &sim, "v252")[1].1, "eni4np0");
}

#[test]
fn scheme_selection_follows_cmdline_and_environment() {
    let cases: [(Option<&str>, Option<&str>, &str, bool); 7] = [
        (None, None, "v252", false),
        (Some("quiet net.naming-scheme=v247"), None, "v247", false),
        (
            Some("net.naming_scheme=v240 net.naming-scheme=v241"),
            None,
            "v241",
            false,
        ),
        (Some("net.naming-scheme=v247"), Some("v250"), "v250", false),
        (Some("net.naming-scheme=v247"), Some(":v250"), "v247", false),
        (None, Some(":latest"), "v252", false),
        (Some("net.naming-scheme=v999"), None, "v252", true),
    ];
    for (cmdline, env, name, warned) in cases {
        let (s, w) = Scheme::select(cmdline, env);
        assert_eq!((s.name, w.is_some()), (name, warned), "{cmdline:?} {env:?}");
    }
    assert_eq!(
        cmdline_get("a=1 \"b=x y\" c", "b"),
        Some(Some("x y".to_string()))
    );
    assert_eq!(cmdline_get("a=1 c", "c"), Some(None));
    assert_eq!(cmdline_get("a=1", "b"), None);
}

/// The properties `udevadm test-builtin net_id` prints for `iface`: the `KEY=VALUE` lines
/// on its standard output.
fn udevadm_net_id(iface: &str) -> Vec<(String, String)> {
    let out = std::process::Command::new("udevadm")
        .args(["test-builtin", "net_id", &format!("/sys/class/net/{iface}")])
        .env_remove("NET_NAMING_SCHEME")
        .output()
        .expect("udevadm is the oracle of this test: apt-get install udev");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.starts_with("ID_"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn every_interface_of_this_machine_is_named_as_debians_udevadm_names_it() {
    // Oracle: Debian's systemd 252 `udevadm test-builtin net_id` on the real /sys.
    let tree = crate::device::SysfsTree::new("/sys");
    let system = FsSystem::new("/");
    let mut ifaces: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    ifaces.sort();
    assert!(!ifaces.is_empty());
    let (hwdb, _) = crate::builtins::hwdb::load(&system);
    for iface in ifaces {
        let dev = tree.device(&format!("/class/net/{iface}")).unwrap();
        let (scheme, _) = Scheme::from_system(&system);
        let mut ours: Vec<(String, String)> = run_with(&dev, &system, &[], scheme, hwdb.as_ref())
            .unwrap()
            .properties
            .into_iter()
            .map(|(k, v)| (k, v.unwrap()))
            .collect();
        let mut theirs = udevadm_net_id(&iface);
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{iface}");
    }
}

proptest! {
    #[test]
    fn arbitrary_attributes_never_panic(
        bdf in "[0-9a-f:.]{0,16}",
        address in "[0-9a-fA-F:x ]{0,24}",
        port in "[0-9a-z ]{0,6}",
        index in "[0-9xa-f ]{0,8}",
        ppn in "[a-z0-9]{0,4}",
        cmdline in "[a-z.=\"' -]{0,40}",
    ) {
        let sys = FakeSys::new();
        let p = format!("/devices/pci0000:00/{bdf}");
        if bdf.is_empty() || bdf.starts_with('.') {
            return Ok(());
        }
        pci(&sys, &p, false);
        sys.attr(&p, "acpi_index", &index).attr(&p, "ari_enabled", "1");
        sys.attr("/bus/pci/slots/1", "address", &bdf);
        let eth = netdev(&sys, &p, "eth0", &[
            ("address", &address), ("dev_port", &port), ("phys_port_name", &ppn),
        ]);
        let _ = props(&sys, &eth, "v252");
        let _ = Scheme::select(Some(&cmdline), None);
        let _ = cmdline_get(&cmdline, "a");
    }
}
