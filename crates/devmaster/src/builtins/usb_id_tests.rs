use std::collections::BTreeMap;

use super::*;
use crate::builtins::fake::{oracle, props, udevadm_fake, TreeSystem};
use crate::testsys::FakeSys;

const PCI: &str = "/devices/pci0000:00/0000:00:14.0";
const DEV: &str = "/devices/pci0000:00/0000:00:14.0/usb1/1-2";
const INTF: &str = "/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0";
const SCSI: &str = "/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/host6/target6:0:0/6:0:0:0";
const SDB: &str =
    "/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/host6/target6:0:0/6:0:0:0/block/sdb";

/// Runs usb_id on `devpath`; where udevadm can run on the fake tree, its answer must be the
/// same.
fn usb_id(s: &FakeSys, devpath: &str) -> Result<BTreeMap<String, String>, String> {
    let dev = s.tree().device(devpath).expect("device exists");
    let ours = run(&dev, &TreeSystem::fake(s), &[]).map(|o| props(&o));
    if let Some(theirs) = udevadm_fake(s, "usb_id", devpath) {
        assert_eq!(
            ours.clone().unwrap_or_default(),
            theirs,
            "udevadm on {devpath}"
        );
    }
    ours
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// USB descriptors: device, configuration, then per interface (class, subclass,
/// protocol) an interface descriptor and an endpoint.
fn descriptors(ifs: &[(u8, u8, u8)]) -> Vec<u8> {
    let mut d = vec![
        18, 1, 0, 2, 0, 0, 0, 64, 0x81, 0x07, 0x67, 0x55, 0, 1, 1, 2, 3, 1,
    ];
    d.extend([9, 2, 32, 0, ifs.len() as u8, 1, 0, 0x80, 50]);
    for (n, (c, s, p)) in ifs.iter().enumerate() {
        d.extend([9, 4, n as u8, 0, 1, *c, *s, *p, 0]);
        d.extend([7, 5, 0x81, 3, 8, 0, 10]);
    }
    d
}

/// A USB device `1-2` with one interface `1-2:1.0` of `class`/`subclass` bound to
/// `driver`, and the device attributes given.
fn usb(attrs: &[(&str, &str)], class: &str, subclass: &str, driver: &str) -> FakeSys {
    let s = FakeSys::new();
    s.add(PCI, Some("pci"), "")
        .add(
            &format!("{PCI}/usb1"),
            Some("usb"),
            "DEVTYPE=usb_device\nMAJOR=189\nMINOR=0\n",
        )
        .add(DEV, Some("usb"), "DEVTYPE=usb_device\nMAJOR=189\nMINOR=1\n")
        .add(INTF, Some("usb"), "DEVTYPE=usb_interface\n")
        .attr(INTF, "bInterfaceNumber", "00\n")
        .attr(INTF, "bInterfaceClass", &format!("{class}\n"))
        .attr(INTF, "bInterfaceSubClass", &format!("{subclass}\n"))
        .attr(INTF, "bInterfaceProtocol", "50\n")
        .driver(INTF, "usb", driver);
    for (k, v) in attrs {
        s.attr(DEV, k, &format!("{v}\n"));
    }
    let c = u8::from_str_radix(class, 16).unwrap_or(0);
    let sc = u8::from_str_radix(subclass, 16).unwrap_or(0);
    std::fs::write(
        s.root()
            .join(DEV.trim_start_matches('/'))
            .join("descriptors"),
        descriptors(&[(c, sc, 0x50), (c, sc, 0x50), (3, 1, 1)]),
    )
    .unwrap();
    s
}

/// A SCSI disk below the interface with the given SCSI attributes.
fn with_disk(s: &FakeSys, scsi: &[(&str, &str)]) {
    let host = format!("{INTF}/host6");
    s.add(&host, Some("scsi"), "DEVTYPE=scsi_host\n")
        .add(
            &format!("{host}/target6:0:0"),
            Some("scsi"),
            "DEVTYPE=scsi_target\n",
        )
        .add(SCSI, Some("scsi"), "DEVTYPE=scsi_device\n")
        .add(SDB, Some("block"), "DEVTYPE=disk\nMAJOR=8\nMINOR=16\n");
    for (k, v) in scsi {
        s.attr(SCSI, k, &format!("{v}\n"));
    }
}

const STICK: &[(&str, &str)] = &[
    ("idVendor", "0781"),
    ("idProduct", "5567"),
    ("manufacturer", " SanDisk"),
    ("product", "Cruzer Blade"),
    ("serial", "4C530001230508117181"),
    ("bcdDevice", "0100"),
];

#[test]
fn usb_stick_takes_the_scsi_identity() {
    let s = usb(STICK, "08", "06", "usb-storage");
    with_disk(
        &s,
        &[
            ("vendor", "SanDisk "),
            ("model", "Cruzer Blade    "),
            ("rev", "1.00"),
            ("type", "0"),
        ],
    );
    let both = |k: &str, v: &str| {
        [
            (format!("ID_{k}"), v.to_string()),
            (format!("ID_USB_{k}"), v.to_string()),
        ]
    };
    let mut want: BTreeMap<String, String> = [
        both("VENDOR", "SanDisk"),
        both("VENDOR_ENC", "SanDisk\\x20"),
        both("VENDOR_ID", "0781"),
        both("MODEL", "Cruzer_Blade"),
        both("MODEL_ENC", "Cruzer\\x20Blade\\x20\\x20\\x20\\x20"),
        both("MODEL_ID", "5567"),
        both("REVISION", "1.00"),
        both("SERIAL", "SanDisk_Cruzer_Blade_4C530001230508117181-0:0"),
        both("SERIAL_SHORT", "4C530001230508117181"),
        both("TYPE", "disk"),
        both("INSTANCE", "0:0"),
    ]
    .into_iter()
    .flatten()
    .collect();
    want.extend(map(&[
        ("ID_BUS", "usb"),
        ("ID_USB_INTERFACES", ":080650:030101:"),
        ("ID_USB_INTERFACE_NUM", "00"),
        ("ID_USB_DRIVER", "usb-storage"),
    ]));
    assert_eq!(usb_id(&s, SDB).unwrap(), want);
    // On the SCSI device itself udev looks for a SCSI device above it, finds none and
    // keeps the USB strings.
    let p = usb_id(&s, SCSI).unwrap();
    assert_eq!(p["ID_SERIAL"], "SanDisk_Cruzer_Blade_4C530001230508117181");
    assert_eq!(p["ID_VENDOR_ENC"], "\\x20SanDisk");
    assert_eq!(p["ID_TYPE"], "scsi");

    // The property order is udev's.
    let dev = s.tree().device(SDB).unwrap();
    let out = run(&dev, &TreeSystem::fake(&s), &[]).unwrap();
    let keys: Vec<&str> = out.properties.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys.get(..4).unwrap(),
        ["ID_BUS", "ID_MODEL", "ID_MODEL_ENC", "ID_MODEL_ID"]
    );
    assert_eq!(
        keys.get(keys.len() - 3..).unwrap(),
        ["ID_USB_INTERFACES", "ID_USB_INTERFACE_NUM", "ID_USB_DRIVER"]
    );
}

#[test]
fn scsi_identity_stops_where_an_attribute_is_missing() {
    // No `rev`: vendor, model and type from SCSI, revision from USB, no instance.
    let s = usb(STICK, "08", "06", "usb-storage");
    with_disk(&s, &[("vendor", "ACME"), ("model", "Disk"), ("type", "5")]);
    let p = usb_id(&s, SDB).unwrap();
    assert_eq!(p["ID_VENDOR"], "ACME");
    assert_eq!(p["ID_MODEL"], "Disk");
    assert_eq!(p["ID_TYPE"], "cd");
    assert_eq!(p["ID_REVISION"], "0100");
    assert_eq!(p["ID_SERIAL"], "ACME_Disk_4C530001230508117181");
    assert!(!p.contains_key("ID_INSTANCE"));
    // A blank SCSI vendor falls back to the USB manufacturer.
    let s = usb(STICK, "08", "02", "usb-storage");
    with_disk(
        &s,
        &[
            ("vendor", "        "),
            ("model", "CD"),
            ("type", "5"),
            ("rev", "2"),
        ],
    );
    let p = usb_id(&s, SDB).unwrap();
    assert_eq!(p["ID_VENDOR"], "SanDisk");
    assert_eq!(p["ID_VENDOR_ENC"], "\\x20SanDisk");
    assert_eq!(p["ID_TYPE"], "cd");
    assert_eq!(p["ID_SERIAL"], "SanDisk_CD_4C530001230508117181-0:0");
    // Other mass storage subclasses keep the USB strings.
    let s = usb(STICK, "08", "04", "usb-storage");
    with_disk(
        &s,
        &[("vendor", "X"), ("model", "Y"), ("type", "0"), ("rev", "1")],
    );
    let p = usb_id(&s, SDB).unwrap();
    assert_eq!(p["ID_TYPE"], "floppy");
    assert_eq!(p["ID_MODEL"], "Cruzer_Blade");
}

#[test]
fn hid_keyboard_strings_and_serial_rules() {
    let kbd = [
        ("idVendor", "046d"),
        ("idProduct", "c52b"),
        ("manufacturer", "Logitech"),
        ("product", "USB Receiver"),
        ("bcdDevice", "1211"),
    ];
    let s = usb(&kbd, "03", "01", "usbhid");
    let input = format!("{INTF}/0003:046D:C52B.0001/input/input7");
    s.add(&format!("{INTF}/0003:046D:C52B.0001"), Some("hid"), "")
        .add(&input, Some("input"), "")
        .add(
            &format!("{input}/event7"),
            Some("input"),
            "DEVNAME=input/event7\n",
        );
    let p = usb_id(&s, &format!("{input}/event7")).unwrap();
    assert_eq!(p["ID_SERIAL"], "Logitech_USB_Receiver");
    assert_eq!(p["ID_TYPE"], "hid");
    assert_eq!(p["ID_USB_DRIVER"], "usbhid");
    assert_eq!(p["ID_USB_INTERFACES"], ":030150:030101:");
    assert!(!p.contains_key("ID_SERIAL_SHORT"));

    // Serials with a comma or a control character are ignored; spaces become `_`.
    for (serial, short) in [("AB,12", None), ("AB\x0112", None), (" A  B ", Some("A_B"))] {
        let mut a = kbd.to_vec();
        a.push(("serial", serial));
        let s = usb(&a, "03", "01", "usbhid");
        s.add(&format!("{INTF}/input/input9"), Some("input"), "");
        let p = usb_id(&s, &format!("{INTF}/input/input9")).unwrap();
        assert_eq!(
            p.get("ID_SERIAL_SHORT").map(String::as_str),
            short,
            "{serial:?}"
        );
    }
}

#[test]
fn missing_strings_use_the_ids_and_usb_device_itself() {
    let s = usb(
        &[("idVendor", "1d6b"), ("idProduct", "0002")],
        "09",
        "00",
        "hub",
    );
    s.add(&format!("{INTF}/port1"), None, "");
    s.add(&format!("{INTF}/tty/ttyUSB0"), Some("tty"), "");
    let p = usb_id(&s, &format!("{INTF}/tty/ttyUSB0")).unwrap();
    assert_eq!(p["ID_VENDOR"], "1d6b");
    assert_eq!(p["ID_MODEL"], "0002");
    assert_eq!(p["ID_SERIAL"], "1d6b_0002");
    assert_eq!(p["ID_REVISION"], "");
    assert_eq!(p["ID_TYPE"], "hub");
    // Called on the usb_device: no interface, no type.
    let p = usb_id(&s, DEV).unwrap();
    assert_eq!(p["ID_SERIAL"], "1d6b_0002");
    assert!(!p.contains_key("ID_TYPE"));
    assert!(!p.contains_key("ID_USB_INTERFACE_NUM"));
    assert_eq!(p["ID_USB_INTERFACES"], ":090050:030101:");
    // Called on the interface itself: udev looks for an interface above it and fails.
    assert!(usb_id(&s, INTF).is_err());
}

#[test]
fn id_bus_already_set_keeps_the_plain_names() {
    let s = usb(STICK, "08", "06", "usb-storage");
    with_disk(
        &s,
        &[
            ("vendor", "ATA"),
            ("model", "X"),
            ("type", "0"),
            ("rev", "1"),
        ],
    );
    s.add(
        &format!("{SDB}/sdb1"),
        Some("block"),
        "DEVTYPE=partition\nID_BUS=ata\n",
    );
    let p = usb_id(&s, &format!("{SDB}/sdb1")).unwrap();
    assert!(p.keys().all(|k| k.starts_with("ID_USB_")), "{p:?}");
    assert_eq!(p["ID_USB_SERIAL"], "ATA_X_4C530001230508117181-0:0");
}

#[test]
fn long_and_unicode_strings() {
    let long = "Very Long Manufacturer Name Incorporated International Holdings Limited";
    let a = [
        ("idVendor", "abcd"),
        ("idProduct", "0001"),
        ("manufacturer", long),
        ("product", "Ünïcødé\u{fdd0} Mouse"),
        ("serial", &"S".repeat(300)),
    ];
    let s = usb(&a, "03", "01", "usbhid");
    s.add(&format!("{INTF}/input/input9"), Some("input"), "");
    let p = usb_id(&s, &format!("{INTF}/input/input9")).unwrap();
    // 63 bytes read, whitespace replaced.
    assert_eq!(p["ID_VENDOR"], long.get(..63).unwrap().replace(' ', "_"));
    assert_eq!(
        p["ID_MODEL_ENC"], "Ünïcødé\\xef\\xb7\\x90\\x20Mouse",
        "a non-character is escaped byte by byte"
    );
    assert_eq!(p["ID_MODEL"], "Ünïcødé____Mouse");
    assert_eq!(p["ID_SERIAL"].len(), 255);
}

#[test]
fn not_usb_and_broken_interfaces() {
    let s = FakeSys::disk();
    assert!(usb_id(&s, FakeSys::SDA).is_err());
    // A class that does not parse.
    let s = usb(STICK, "0g", "06", "x");
    s.add(&format!("{INTF}/input/input9"), Some("input"), "");
    assert!(usb_id(&s, &format!("{INTF}/input/input9")).is_err());
    // No idVendor.
    let s = usb(&[("idProduct", "0001")], "03", "01", "usbhid");
    s.add(&format!("{INTF}/input/input9"), Some("input"), "");
    assert!(usb_id(&s, &format!("{INTF}/input/input9")).is_err());
}

#[test]
fn packed_interface_list() {
    let d = descriptors(&[(8, 6, 0x50), (3, 1, 2), (8, 6, 0x50)]);
    assert_eq!(packed_interfaces(&d), ":080650:030102:");
    // Too short: nothing.
    assert_eq!(packed_interfaces(d.get(..17).unwrap()), "");
    // A descriptor longer than what is left: the list so far, without the closing colon.
    let mut bad = descriptors(&[(8, 6, 0x50)]);
    bad.extend([250, 4, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
    assert_eq!(packed_interfaces(&bad), ":080650");
    // A zero length ends the walk.
    let mut z = descriptors(&[(8, 6, 0x50)]);
    z.extend([0, 4, 0, 0, 0, 1, 1, 1, 0, 0]);
    assert_eq!(packed_interfaces(&z), ":080650:");
}

#[test]
fn string_helpers_as_udev() {
    // udev_replace_whitespace
    for (s, len, want) in [
        ("  a  b c ", 63, "a_b_c"),
        ("a\tb\nc", 63, "a_b_c"),
        ("\x0ba", 63, "_a"),
        ("abcdef", 3, "abc"),
        ("ab cd", 3, "ab"),
        ("", 63, ""),
    ] {
        assert_eq!(replace_whitespace(s, len), want, "{s:?}");
    }
    // udev_replace_chars
    for (s, allow, want) in [
        ("a/b c", "", "a_b_c"),
        ("a/b c", "/ ", "a/b c"),
        ("a\tb", " ", "a b"),
        ("x\\x2fy", "", "x\\x2fy"),
        ("é€😀", "", "é€😀"),
        ("\u{fffe}", "", "___"),
    ] {
        assert_eq!(replace_chars(s, allow), want, "{s:?}");
    }
    // encode_devnode_name
    for (s, want) in [
        ("a b/c\\d", "a\\x20b\\x2fc\\x5cd"),
        ("é", "é"),
        ("#+-.:=@_", "#+-.:=@_"),
    ] {
        assert_eq!(encode_devnode_name(s, 256), want, "{s:?}");
    }
    assert_eq!(encode_devnode_name("a b", 5), "a");
}

#[test]
fn udevadm_oracle_on_this_machine() {
    let Some((compared, with_props, diffs)) = oracle("usb_id", |d, s| run(d, s, &[])) else {
        return;
    };
    eprintln!("usb_id oracle: {compared} devices, {with_props} USB devices");
    assert!(compared > 0);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

proptest::proptest! {
    #[test]
    fn string_helpers_never_panic(s in ".*", bytes in proptest::collection::vec(0u8.., 0..600)) {
        let _ = replace_whitespace(&s, 63);
        let _ = replace_chars(&s, " /");
        let _ = encode_devnode_name(&s, 256);
        let _ = packed_interfaces(&bytes);
        let _ = hctl(&s);
        let _ = storage_subtype(&s);
    }
}

proptest::proptest! {
    // Few cases: each runs udevadm.
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Random USB strings: our cleaned and encoded values are udev's.
    #[test]
    fn random_strings_agree_with_udevadm(
        manufacturer in "[ a-zA-Z0-9/\\\\,.é\t-]{0,70}",
        product in "[ a-z\u{e9}\u{fffe}_#]{0,20}",
        serial in "[ A-Z0-9,]{0,12}",
    ) {
        let mut a = vec![("idVendor", "abcd"), ("idProduct", "0001")];
        if !manufacturer.is_empty() { a.push(("manufacturer", manufacturer.as_str())); }
        if !product.is_empty() { a.push(("product", product.as_str())); }
        if !serial.is_empty() { a.push(("serial", serial.as_str())); }
        let s = usb(&a, "03", "01", "usbhid");
        s.add(&format!("{INTF}/input/input9"), Some("input"), "");
        let _ = usb_id(&s, &format!("{INTF}/input/input9"));
    }
}

#[test]
fn corrupt_descriptors_end_to_end() {
    // udev keeps the interfaces read before the corrupt descriptor, without the closing
    // colon; checked against udevadm on the same tree.
    let s = usb(STICK, "03", "01", "usbhid");
    let mut bad = descriptors(&[(3, 1, 1)]);
    bad.extend([250, 4, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
    std::fs::write(
        s.root()
            .join(DEV.trim_start_matches('/'))
            .join("descriptors"),
        bad,
    )
    .unwrap();
    s.add(&format!("{INTF}/input/input9"), Some("input"), "");
    let p = usb_id(&s, &format!("{INTF}/input/input9")).unwrap();
    assert_eq!(p["ID_USB_INTERFACES"], ":030101");
}

/// udev cuts vendor strings at 63 bytes, which can split a character; the half left over
/// becomes `_` (udev's replace_chars on invalid UTF-8), not U+FFFD. Found by the udevadm
/// comparison above with a random vendor string.
#[test]
fn a_character_cut_at_the_length_limit_becomes_an_underscore() {
    let vendor = "a".repeat(62) + "é";
    let cut = replace_chars_bytes(&replace_whitespace_bytes(&vendor, 63), "");
    assert_eq!(cut, "a".repeat(62) + "_");
    let whole = "a".repeat(61) + "é";
    assert_eq!(
        replace_chars_bytes(&replace_whitespace_bytes(&whole, 63), ""),
        whole
    );
}
