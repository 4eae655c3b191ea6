use proptest::prelude::*;

use super::*;
use crate::builtins::net_id::testfs::FsSystem;
use crate::testsys::FakeSys;

/// Parses `text` as the file `f.link`.
fn parse(text: &str) -> (Option<LinkConfig>, Vec<String>) {
    let mut cfg = LinkConfig::default();
    let mut diags = Vec::new();
    let ok = Parser {
        cfg: &mut cfg,
        diags: &mut diags,
        file: "f.link".into(),
    }
    .parse(text.as_bytes())
    .is_ok();
    (
        ok.then_some(cfg),
        diags.iter().map(|d| d.to_string()).collect(),
    )
}

#[test]
fn parser_reads_every_applied_key() {
    let (cfg, diags) = parse(
        "\u{feff}# comment\n; comment\n[Match]\nOriginalName=eth* !eth9\nMACAddress=52:54:00:12:34:56 \
         0011.2233.4455\nPath=pci-*\nDriver=virtio_net e1000\nType=ether\nKind=!veth\n\
         Property=ID_BUS=pci \"ID_X=a b\"\nHost=!box\nX-Foo=bar\n\n[Link]\nDescription=The NIC\n\
         NamePolicy=keep kernel database onboard slot path\nName=lan0\n\
         AlternativeNamesPolicy=database onboard slot path mac\nAlternativeName=uplink \\\n  wan\n\
         MACAddressPolicy=persistent\nMTUBytes=9K\nAlias=Uplink port\nTransmitQueues=4\n\
         ReceiveQueues=8\nTransmitQueueLength=1000\nGenericSegmentOffloadMaxBytes=64K\n\
         GenericSegmentOffloadMaxSegments=64\n",
    );
    assert_eq!(diags, Vec::<String>::new());
    let cfg = cfg.unwrap();
    assert_eq!(
        cfg.matches,
        Match {
            mac: vec![
                vec![0x52, 0x54, 0, 0x12, 0x34, 0x56],
                vec![0, 0x11, 0x22, 0x33, 0x44, 0x55]
            ],
            permanent_mac: vec![],
            original_name: vec!["eth*".into(), "!eth9".into()],
            path: vec!["pci-*".into()],
            driver: vec!["virtio_net".into(), "e1000".into()],
            iftype: vec!["ether".into()],
            kind: vec!["!veth".into()],
            property: vec!["ID_BUS=pci".into(), "ID_X=a b".into()],
        }
    );
    assert_eq!(
        cfg.conditions,
        vec![Condition {
            kind: ConditionKind::Host,
            value: "box".into(),
            negate: true
        }]
    );
    use NamePolicy::*;
    assert_eq!(
        cfg.name_policy,
        Some(vec![Keep, Kernel, Database, Onboard, Slot, Path])
    );
    assert_eq!(
        cfg.alternative_names_policy,
        vec![Database, Onboard, Slot, Path, Mac]
    );
    assert_eq!(cfg.alternative_names, vec!["uplink", "wan"]);
    assert_eq!(cfg.description.as_deref(), Some("The NIC"));
    assert_eq!(cfg.name.as_deref(), Some("lan0"));
    assert_eq!(cfg.mac_policy, MacPolicy::Persistent);
    assert_eq!(cfg.mtu, Some(9216));
    assert_eq!(cfg.alias.as_deref(), Some("Uplink port"));
    assert_eq!(
        (cfg.txqueues, cfg.rxqueues, cfg.txqueuelen),
        (Some(4), Some(8), Some(1000))
    );
    assert_eq!(
        (cfg.gso_max_bytes, cfg.gso_max_segments),
        (Some(65536), Some(64))
    );
}

#[test]
fn parser_diagnoses_bad_lines_and_keeps_the_rest() {
    let (cfg, diags) = parse(
        "Name=early\n[Match]\nOriginalName=*\nFoo=1\n[Link]\nName=way-too-long-interface-name\n\
         MTUBytes=12\nMTUBytes=x\nMACAddress=zz:zz\nNamePolicy=path bogus path\n\
         MACAddressPolicy=sometimes\nSpeed=1\nWakeOnLan=magic\nnot an assignment\n=v\n\
         Alias=ünïcode\nTransmitQueues=0\n[Other]\nKey=ignored\n[X-Vendor]\nK=v\n\
         [SR-IOV]\nVirtualFunction=0\n[Link]\nMTUBytes=1500\n",
    );
    let cfg = cfg.unwrap();
    assert_eq!(cfg.mtu, Some(1500));
    assert_eq!(cfg.name, None);
    assert_eq!(cfg.name_policy, Some(vec![NamePolicy::Path]));
    assert_eq!(cfg.matches.original_name, vec!["*"]);
    assert_eq!(
        diags,
        vec![
            "f.link:1: Assignment outside of section. Ignoring.",
            "f.link:4: Unknown key 'Foo' in section [Match], ignoring.",
            "f.link:6: Interface name is not valid or too long, ignoring assignment: way-too-long-interface-name",
            "f.link:7: Maximum transfer unit (MTU) value out of range. Permitted range is 68…4294967295, ignoring: 12",
            "f.link:8: Failed to parse MTU value 'x', ignoring",
            "f.link:9: Not a valid hardware address, ignoring assignment: zz:zz",
            "f.link:10: Failed to parse interface name policy, ignoring: bogus",
            "f.link:10: Duplicate entry, ignoring: path",
            "f.link:11: Failed to parse MAC address policy, ignoring: sometimes",
            "f.link:12: Unknown key 'Speed' in section [Link], ignoring.",
            "f.link:13: WakeOnLan= is not supported by devmaster, ignoring.",
            "f.link:14: Missing '=', ignoring line.",
            "f.link:15: Missing key name before '=', ignoring line.",
            "f.link:16: Interface alias is not ASCII clean, ignoring assignment: ünïcode",
            "f.link:17: Failed to parse TransmitQueues=, ignoring assignment: 0",
            "f.link:18: Unknown section 'Other'. Ignoring.",
            "f.link:23: [SR-IOV] VirtualFunction= is not supported by devmaster, ignoring.",
        ]
    );
    // A broken section header makes systemd drop the whole file.
    let (cfg, diags) = parse("[Match]\nOriginalName=*\n[Link\nName=x\n");
    assert!(cfg.is_none());
    assert_eq!(diags, vec!["f.link:3: Invalid section header '[Link'"]);
    // Empty assignments reset lists.
    let (cfg, _) = parse("[Match]\nDriver=a\nDriver=\nDriver=b\n");
    assert_eq!(cfg.unwrap().matches.driver, vec!["b"]);
}

/// A directory tree with `.link` files at the given paths.
fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, FsSystem) {
    let dir = tempfile::tempdir().unwrap();
    for (p, t) in files {
        let path = dir.path().join(p.trim_start_matches('/'));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, t).unwrap();
    }
    let sys = FsSystem::new(dir.path());
    (dir, sys)
}

fn host() -> Host {
    Host {
        cmdline: "root=/dev/vda quiet".into(),
        machine_id: parse_id128("3d1219c7c4c5404aaa1f6d2a48adfda4"),
        hostname: "Builder-7".into(),
        kernel_release: "6.1.0-18-amd64".into(),
        architecture: "x86-64".into(),
        virtualization: Some("kvm".into()),
        container: false,
        ..Host::default()
    }
}

#[test]
fn loading_overrides_masks_orders_and_applies_dropins() {
    let (_d, sys) = tree(&[
        ("/usr/lib/systemd/network/99-default.link", "[Match]\nOriginalName=*\n[Link]\nNamePolicy=path\n"),
        ("/usr/lib/systemd/network/50-masked.link", "[Match]\nDriver=x\n"),
        ("/etc/systemd/network/50-masked.link", ""),
        ("/usr/lib/systemd/network/60-over.link", "[Match]\nDriver=lib\n"),
        ("/run/systemd/network/60-over.link", "[Match]\nDriver=run\n"),
        ("/etc/systemd/network/10-empty-match.link", "[Link]\nName=x\n"),
        ("/etc/systemd/network/20-notthishost.link", "[Match]\nHost=other\nOriginalName=*\n"),
        ("/etc/systemd/network/21-thishost.link", "[Match]\nHost=builder-*\nKernelCommandLine=quiet\nKernelVersion=>=5.10 <7\nArchitecture=x86-64\nVirtualization=vm\n"),
        ("/etc/systemd/network/22-firmware.link", "[Match]\nFirmware=smbios-field(x=y)\n"),
        ("/usr/lib/systemd/network/99-default.link.d/20-mtu.conf", "[Link]\nMTUBytes=1400\n"),
        ("/usr/lib/systemd/network/99-default.link.d/10-x.conf", "[Link]\nMTUBytes=1300\nName=dflt\n"),
        ("/etc/systemd/network/99-default.link.d/20-mtu.conf", "[Link]\nMTUBytes=9000\n"),
        ("/etc/systemd/network/notalink.network", "[Match]\n"),
    ]);
    let (configs, diags) = load_from(&sys, &DIRS, &host());
    let files: Vec<&str> = configs.configs.iter().map(|c| c.file.as_str()).collect();
    assert_eq!(
        files,
        vec![
            "/etc/systemd/network/21-thishost.link",
            "/run/systemd/network/60-over.link",
            "/usr/lib/systemd/network/99-default.link",
        ]
    );
    let dflt = &configs.configs[2];
    assert_eq!(
        dflt.dropins,
        vec![
            "/usr/lib/systemd/network/99-default.link.d/10-x.conf",
            "/etc/systemd/network/99-default.link.d/20-mtu.conf"
        ]
    );
    assert_eq!((dflt.mtu, dflt.name.as_deref()), (Some(9000), Some("dflt")));
    let msgs: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        msgs,
        vec![
            "/etc/systemd/network/10-empty-match.link: No valid settings found in the [Match] section, ignoring file. To match all interfaces, add OriginalName=* in the [Match] section.",
            "/etc/systemd/network/22-firmware.link: Firmware=smbios-field(x=y) is not supported by devmaster, ignoring file.",
        ]
    );
    assert!(configs.name_policy_enabled);
    assert_eq!(configs.scheme.name, "v252");
}

#[test]
fn conditions_follow_systemd() {
    let h = host();
    let t = |kind, v: &str| {
        let (negate, value) = match v.strip_prefix('!') {
            Some(r) => (true, r.to_string()),
            None => (false, v.to_string()),
        };
        test_condition(
            &Condition {
                kind,
                value,
                negate,
            },
            &h,
        )
        .unwrap()
    };
    use ConditionKind::*;
    assert!(t(Host, "BUILDER-7"));
    assert!(t(Host, "3d1219c7c4c5404aaa1f6d2a48adfda4"));
    assert!(!t(Host, "00000000000000000000000000000001"));
    assert!(
        t(Virtualization, "yes") && t(Virtualization, "kvm") && !t(Virtualization, "container")
    );
    assert!(t(KernelCommandLine, "root") && t(KernelCommandLine, "root=/dev/vda"));
    assert!(!t(KernelCommandLine, "roo") && !t(KernelCommandLine, "root=/dev/vdb"));
    assert!(
        t(KernelVersion, ">=6.1")
            && t(KernelVersion, "<6.1.1")
            && !t(KernelVersion, ">6.1.0-18-amd64")
    );
    assert!(t(KernelVersion, "6.1.*") && t(KernelVersion, "!5.*"));
    assert!(t(Architecture, "x86-64") && !t(Architecture, "arm64"));
}

/// An interface `name` (ifindex 3) under `parent` (none: a virtual device).
fn iface(
    sys: &FakeSys,
    parent: Option<&str>,
    name: &str,
    uevent: &str,
    attrs: &[(&str, &str)],
) -> String {
    let path = format!("{}/net/{name}", parent.unwrap_or("/devices/virtual"));
    sys.add(
        &path,
        Some("net"),
        &format!("INTERFACE={name}\nIFINDEX=3\n{uevent}"),
    );
    let defaults = [
        ("type", "1"),
        ("flags", "0x1002"),
        ("address", "52:54:00:12:34:56"),
        ("addr_assign_type", "0"),
        ("name_assign_type", "1"),
    ];
    for (k, v) in defaults
        .iter()
        .filter(|(k, _)| !attrs.iter().any(|(a, _)| a == k))
        .chain(attrs.iter())
    {
        sys.attr(&path, k, &format!("{v}\n"));
    }
    path
}

fn configs(texts: &[&str], cmdline: &str) -> LinkConfigs {
    let files: Vec<(String, String)> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                format!("/etc/systemd/network/{:02}-t.link", i + 10),
                t.to_string(),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (_d, sys) = tree(&refs);
    let mut h = host();
    h.cmdline = cmdline.into();
    let (c, diags) = load_from(&sys, &DIRS, &h);
    assert_eq!(diags, vec![]);
    c
}

fn setup_link(sys: &FakeSys, path: &str, action: &str, c: &LinkConfigs, nl: &Netlink) -> Output {
    let dev = sys
        .tree()
        .device(path)
        .unwrap()
        .with_event_properties([("ACTION", action)]);
    run(&dev, &FsSystem::new("/nonexistent"), &[], c, nl).unwrap()
}

fn props(o: &Output) -> Vec<(String, String)> {
    o.properties
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().unwrap()))
        .collect()
}

const DEFAULT: &str = "[Match]\nOriginalName=*\n[Link]\nNamePolicy=keep kernel database onboard slot path\nAlternativeNamesPolicy=database onboard slot path\nMACAddressPolicy=persistent\n";

#[test]
fn name_policy_picks_the_first_valid_name() {
    let sys = FakeSys::new();
    let pci = "/devices/pci0000:00/0000:00:03.0";
    sys.add(pci, Some("pci"), "")
        .driver(pci, "pci", "virtio-pci");
    let eth = iface(&sys, Some(pci), "eth0", "ID_NET_NAME_MAC=enx525400123456\nID_NET_NAME_PATH=enp0s3\nID_NET_NAME_SLOT=ens3\nID_PATH=pci-0000:00:03.0\n", &[]);
    let c = configs(&[DEFAULT], "quiet");
    let out = setup_link(&sys, &eth, "add", &c, &Netlink::default());
    assert_eq!(
        props(&out),
        vec![
            ("ID_NET_DRIVER".to_string(), "virtio-pci".to_string()),
            (
                "ID_NET_LINK_FILE".into(),
                "/etc/systemd/network/10-t.link".into()
            ),
            ("ID_NET_NAME".into(), "ens3".into()),
        ]
    );
    // Alternative names: sorted, without the current name nor the new one (ens3, as
    // udevd 252's link_apply_alternative_names); the MAC is permanent already.
    assert_eq!(
        out.actions,
        vec![Action::LinkConfig(LinkChanges {
            ifindex: 3,
            ifname: "eth0".into(),
            alternative_names: vec!["enp0s3".into()],
            ..LinkChanges::default()
        })]
    );
    // "change" events keep the name and change nothing.
    let out = setup_link(&sys, &eth, "change", &c, &Netlink::default());
    assert_eq!(props(&out)[2].1, "eth0");
    assert!(out.actions.is_empty());
    // net.ifnames=0 turns the policy off; Name= is then used.
    let c = configs(
        &["[Match]\nOriginalName=*\n[Link]\nNamePolicy=slot\nName=lan0\n"],
        "net.ifnames=0",
    );
    assert_eq!(
        props(&setup_link(&sys, &eth, "add", &c, &Netlink::default()))[2].1,
        "lan0"
    );
    // The kernel's predictable name and a user-given name are kept by kernel/keep.
    for (assign, expected) in [("2", "eth0"), ("3", "eth0"), ("4", "eth0"), ("1", "ens3")] {
        let sys2 = FakeSys::new();
        let e = iface(
            &sys2,
            None,
            "eth0",
            "ID_NET_NAME_SLOT=ens3\n",
            &[("name_assign_type", assign)],
        );
        let c = configs(&[DEFAULT], "");
        assert_eq!(
            props(&setup_link(&sys2, &e, "add", &c, &Netlink::default()))[1].1,
            expected,
            "{assign}"
        );
    }
    // "move" events never rename.
    assert_eq!(
        props(&setup_link(
            &sys,
            &eth,
            "move",
            &configs(&[DEFAULT], ""),
            &Netlink::default()
        ))[2]
            .1,
        "eth0"
    );
}

#[test]
fn matching_uses_every_key_and_the_first_file_wins() {
    let sys = FakeSys::new();
    let pci = "/devices/pci0000:00/0000:00:19.0";
    sys.add(pci, Some("pci"), "").driver(pci, "pci", "e1000e");
    let eth = iface(
        &sys,
        Some(pci),
        "eth0",
        "ID_PATH=pci-0000:00:19.0\nID_BUS=pci\n",
        &[],
    );
    let lo = iface(&sys, None, "lo", "", &[("type", "772"), ("flags", "0x9")]);
    let first = |texts: &[&str], dev: &str, nl: &Netlink| -> Option<String> {
        let c = configs(texts, "");
        let out = setup_link(&sys, dev, "add", &c, nl);
        props(&out)
            .into_iter()
            .find(|(k, _)| k == "ID_NET_LINK_FILE")
            .map(|(_, v)| v)
    };
    let nl = Netlink::default();
    let f10 = Some("/etc/systemd/network/10-t.link".to_string());
    let f11 = Some("/etc/systemd/network/11-t.link".to_string());
    let any = "[Match]\nOriginalName=*\n";
    for (m, hit) in [
        ("Driver=e1000*", true),
        ("Driver=!e1000e", false),
        ("Path=pci-0000:00:19.0", true),
        ("Type=ether", true),
        ("Type=wlan", false),
        ("Kind=veth", false),
        ("Property=ID_BUS=pci", true),
        ("Property=!ID_BUS=pci", false),
        ("Property=ID_MISSING=*", false),
        ("MACAddress=52:54:00:12:34:56", true),
        ("PermanentMACAddress=52:54:00:12:34:56", true),
        ("MACAddress=52:54:00:12:34:57", false),
        ("OriginalName=!eth0", false),
        ("OriginalName=wl* !eth1", false),
    ] {
        let text = format!("[Match]\n{m}\n");
        let expect = if hit { f10.clone() } else { f11.clone() };
        assert_eq!(first(&[&text, any], &eth, &nl), expect, "{m}");
    }
    assert_eq!(
        first(
            &["[Match]\nKind=veth\n", any],
            &eth,
            &Netlink {
                kind: Some("veth".into()),
                ..nl.clone()
            }
        ),
        f10
    );
    // Loopback is never configured.
    assert_eq!(first(&[any], &lo, &nl), None);
}

#[test]
fn mac_address_policies() {
    let mac_of =
        |attrs: &[(&str, &str)], uevent: &str, text: &str, nl: &Netlink| -> Option<Vec<u8>> {
            let sys = FakeSys::new();
            let e = iface(&sys, None, "eth0", uevent, attrs);
            let out = setup_link(&sys, &e, "add", &configs(&[text], ""), nl);
            out.actions.iter().find_map(|a| match a {
                Action::LinkConfig(c) => c.mac.clone(),
                _ => None,
            })
        };
    let nl = Netlink::default();
    let random = "[Match]\nOriginalName=*\n[Link]\nMACAddressPolicy=random\n";
    let persistent = "[Match]\nOriginalName=*\n[Link]\nMACAddressPolicy=persistent\n";
    // Random: the bytes given, multicast bit cleared, local bit set.
    let nl_r = Netlink {
        random: Some([0xff, 1, 2, 3, 4, 5, 6, 7]),
        ..nl.clone()
    };
    assert_eq!(
        mac_of(&[], "", random, &nl_r),
        Some(vec![0xfe, 1, 2, 3, 4, 5])
    );
    // Already random: left alone; set by user space (3): left alone.
    assert_eq!(
        mac_of(&[("addr_assign_type", "1")], "", random, &nl_r),
        None
    );
    assert_eq!(
        mac_of(&[("addr_assign_type", "3")], "", persistent, &nl),
        None
    );
    // Persistent for a random address: SipHash of machine id + the stable name. Expected
    // value from Debian's udevadm test-builtin net_setup_link on a veth named v0 with
    // this machine id ("Applying persistent MAC address: 2a:61:d6:59:e6:10").
    let sys = FakeSys::new();
    let v0 = iface(
        &sys,
        None,
        "v0",
        "",
        &[("addr_assign_type", "1"), ("name_assign_type", "3")],
    );
    let out = setup_link(&sys, &v0, "add", &configs(&[persistent], ""), &nl);
    assert_eq!(
        out.actions,
        vec![Action::LinkConfig(LinkChanges {
            ifindex: 3,
            ifname: "v0".into(),
            mac: Some(vec![0x2a, 0x61, 0xd6, 0x59, 0xe6, 0x10]),
            ..LinkChanges::default()
        })]
    );
    // No ID_NET_NAME_*: v241+ hash the interface name itself.
    assert_eq!(
        mac_of(&[("addr_assign_type", "1")], "", persistent, &nl),
        Some(mac_for("eth0"))
    );
    // MACAddress= with policy none is static: multicast bit cleared, local bit untouched.
    let fixed = "[Match]\nOriginalName=*\n[Link]\nMACAddress=01:11:22:33:44:55\nMTUBytes=1280\n";
    assert_eq!(
        mac_of(&[], "", fixed, &nl),
        Some(vec![0x00, 0x11, 0x22, 0x33, 0x44, 0x55])
    );
}

/// The persistent address for `name` with the test machine id, computed independently of
/// `new_mac`: first six bytes of the little-endian SipHash, local bit set, multicast off.
fn mac_for(name: &str) -> Vec<u8> {
    let mut data = parse_id128("3d1219c7c4c5404aaa1f6d2a48adfda4")
        .unwrap()
        .to_vec();
    data.extend_from_slice(name.as_bytes());
    let mut m = siphash24(&data, &HASH_KEY).to_le_bytes()[..6].to_vec();
    m[0] = (m[0] & 0xfe) | 0x02;
    m
}

#[test]
fn siphash24_matches_the_reference_vectors() {
    // From the SipHash paper (Aumasson, Bernstein), appendix A: key 00..0f, message 00..0e.
    let key: [u8; 16] = std::array::from_fn(|i| i as u8);
    let msg: Vec<u8> = (0..15).collect();
    assert_eq!(siphash24(&msg, &key), 0xa129ca6149be45e5);
    assert_eq!(siphash24(&[], &key), 0x726fdb47dd0e0e31);
}

proptest! {
    #[test]
    fn parser_never_panics(text in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut cfg = LinkConfig::default();
        let mut diags = Vec::new();
        let _ = Parser { cfg: &mut cfg, diags: &mut diags, file: "f".into() }.parse(&text);
    }

    #[test]
    fn parser_never_panics_on_link_like_text(
        lines in prop::collection::vec(
            ("(\\[Match\\]|\\[Link\\]|OriginalName|Name|MTUBytes|MACAddress|NamePolicy|Property|KernelVersion|Alias)",
             "[=! a-z0-9:*\\\\\"]{0,12}"),
            0..12,
        )
    ) {
        let text: String = lines.iter().map(|(k, v)| format!("{k}{v}\n")).collect();
        let _ = parse(&text);
    }

    #[test]
    fn written_values_read_back(
        name in "[a-z][a-z0-9]{0,13}",
        mtu in 68u32..100_000,
        mac in prop::array::uniform6(any::<u8>()),
        names in prop::collection::vec("[a-z][a-z0-9_*]{0,8}", 1..4),
    ) {
        let mac_s: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
        let text = format!(
            "[Match]\nOriginalName={}\n[Link]\nName={name}\nMTUBytes={mtu}\nMACAddress={}\n",
            names.join(" "),
            mac_s.join(":"),
        );
        let (cfg, diags) = parse(&text);
        let cfg = cfg.unwrap();
        prop_assert!(diags.is_empty(), "{:?}", diags);
        prop_assert_eq!(cfg.matches.original_name, names);
        prop_assert_eq!(cfg.name, Some(name));
        prop_assert_eq!(cfg.mtu, Some(mtu));
        prop_assert_eq!(cfg.mac, Some(mac.to_vec()));
    }
}

#[test]
fn a_veth_is_configured_as_debians_udevadm_configures_it() {
    // Oracle: Debian's `udevadm test-builtin net_setup_link` on a veth made in a private
    // network and mount namespace (sysfs remounted there), with this machine's .link files
    // and machine id. Its debug log names the MAC it applies.
    let script = "mount -t sysfs sysfs /sys && ip link add v0 type veth peer name v1 && \
                  for a in address addr_assign_type name_assign_type type flags ifindex; do \
                  echo \"$a=$(cat /sys/class/net/v0/$a)\"; done && \
                  SYSTEMD_LOG_LEVEL=debug udevadm test-builtin net_setup_link /sys/class/net/v0 2>&1";
    let out = std::process::Command::new("unshare")
        .args(["--net", "--mount", "sh", "-c", script])
        .output()
        .expect("unshare (util-linux), ip (iproute2) and udevadm (udev) are this test's tools");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let attr = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap()
            .to_string()
    };
    let applied = text
        .lines()
        .find_map(|l| l.split_once("Applying persistent MAC address: "))
        .map(|(_, m)| parse_hwaddr(m.trim()).unwrap());
    assert!(
        applied.is_some(),
        "a veth's random address gets a persistent one: {text}"
    );
    let theirs_props: Vec<(String, String)> = text
        .lines()
        .filter(|l| l.starts_with("ID_NET_"))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();

    let sys = FakeSys::new();
    let v0 = "/devices/virtual/net/v0";
    sys.add(
        v0,
        Some("net"),
        &format!("INTERFACE=v0\nIFINDEX={}\n", attr("ifindex")),
    );
    for a in [
        "address",
        "addr_assign_type",
        "name_assign_type",
        "type",
        "flags",
    ] {
        sys.attr(v0, a, &format!("{}\n", attr(a)));
    }
    let (configs, _) = load(&FsSystem::new("/"));
    // ethtool's driver name for a veth, which sysfs does not show.
    let nl = Netlink {
        driver: Some("veth".into()),
        ..Netlink::default()
    };
    let out = setup_link(&sys, v0, "add", &configs, &nl);
    let ours_mac = out.actions.iter().find_map(|a| match a {
        Action::LinkConfig(c) => c.mac.clone(),
        _ => None,
    });
    assert_eq!(ours_mac, applied);
    assert_eq!(props(&out), theirs_props);
}
