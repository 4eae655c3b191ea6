use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::builtins::fake::TreeSystem;
use crate::testsys::FakeSys;

const SERIO: &str = "/devices/platform/i8042/serio0";
const EVENT: &str = "/devices/platform/i8042/serio0/input/input3/event3";

/// An AT keyboard `event3` with `props` in its uevent and the input device's `ev` bitmap.
fn keyboard(ev: &str, props: &str) -> FakeSys {
    let s = FakeSys::new();
    s.add("/devices/platform/i8042", Some("platform"), "")
        .add(SERIO, Some("serio"), "")
        .attr(SERIO, "force_release", "369-370\n")
        .add(&format!("{SERIO}/input/input3"), Some("input"), "")
        .attr(&format!("{SERIO}/input/input3"), "capabilities/ev", ev)
        .add(
            EVENT,
            Some("input"),
            &format!("MAJOR=13\nMINOR=67\nDEVNAME=input/event3\n{props}"),
        );
    s
}

fn actions(s: &FakeSys) -> Result<Vec<Action>, String> {
    let dev = s.tree().device(EVENT).unwrap();
    run(&dev, &TreeSystem::fake(s), &[]).map(|o| {
        assert!(o.properties.is_empty());
        o.actions
    })
}

fn key(scancode: u32, keycode: u32) -> Action {
    Action::SetKeycode {
        devnode: "/dev/input/event3".into(),
        scancode,
        keycode,
    }
}

fn serio_attr(attr: &str, value: &str) -> Action {
    Action::WriteSysattr {
        syspath: format!("/sys{SERIO}"),
        attr: attr.into(),
        value: value.into(),
    }
}

#[test]
fn key_names_as_hwdb_writes_them() {
    for (name, want) in [
        ("volumeup", Some(115)),
        ("key_volumeup", Some(115)),
        ("btn_left", Some(0x110)),
        ("left", Some(105)),
        ("reserved", Some(0)),
        ("hanguel", Some(122)), // an alias (KEY_HANGUEL = KEY_HANGEUL)
        ("btn_trigger_happy1", Some(0x2c0)),
        ("do_not_disturb", Some(0x24f)),
        ("prog1", Some(148)),
        ("0x1e", Some(30)),
        ("30", Some(30)),
        ("KEY_A", None), // names are lower case
        ("Volumeup", None),
        ("max", None), // left out of systemd's list
        ("btn_misc", None),
        ("btn_trigger_happy", None),
        ("link_phone", None),
        ("key_btn_left", None),
        ("nosuchkey", None),
        ("", None),
    ] {
        assert_eq!(keycode(name), want, "{name:?}");
    }
}

#[test]
fn key_table_matches_the_kernel_header() {
    // Values: this machine's <linux/input-event-codes.h> (package linux-libc-dev).
    let text = std::fs::read_to_string("/usr/include/linux/input-event-codes.h")
        .expect("input-event-codes.h (package linux-libc-dev; `cargo xtask test` installs it)");
    let defs: BTreeMap<&str, &str> = text
        .lines()
        .filter_map(|l| {
            let mut w = l.strip_prefix("#define")?.split_whitespace();
            Some((w.next()?, w.next()?))
        })
        .collect();
    fn value(defs: &BTreeMap<&str, &str>, name: &str, depth: u32) -> Option<u32> {
        let v = *defs.get(name)?;
        match crate::builtins::devutil::parse_unsigned(v, 0) {
            Some(n) => u32::try_from(n).ok(),
            None if depth < 4 => value(defs, v, depth + 1),
            None => None,
        }
    }
    let excluded = [
        "KEY_MAX",
        "KEY_MIN_INTERESTING",
        "BTN_MISC",
        "BTN_MOUSE",
        "BTN_JOYSTICK",
        "BTN_GAMEPAD",
        "BTN_DIGI",
        "BTN_WHEEL",
        "BTN_TRIGGER_HAPPY",
        "KEY_LINK_PHONE",
    ];
    let ours: BTreeMap<&str, u16> = KEY_NAMES.iter().copied().collect();
    assert_eq!(ours.len(), KEY_NAMES.len(), "no duplicate names");
    for (name, code) in &ours {
        if let Some(v) = value(&defs, name, 0) {
            assert_eq!(u32::from(*code), v, "{name}");
        }
    }
    for (name, v) in &defs {
        let kind = name.starts_with("KEY_") || name.starts_with("BTN_");
        let simple = v.starts_with(|c: char| c.is_ascii_digit() || c == 'K' || c == 'B');
        if kind && simple && !excluded.contains(name) {
            assert!(ours.contains_key(name), "{name} missing");
        }
    }
}

#[test]
fn key_table_matches_debians_udevadm() {
    // The gperf table of Debian's systemd 252 build holds every name as a string; compare
    // the `key_*`/`btn_*` strings of the binary with our names.
    let Some(bin) = ["/usr/bin/udevadm", "/bin/udevadm"]
        .iter()
        .find_map(|p| std::fs::read(p).ok())
    else {
        panic!("udevadm is not installed (package udev; `cargo xtask test` installs it)");
    };
    let theirs: BTreeSet<String> = bin
        .split(|&b| b == 0)
        .filter_map(|s| std::str::from_utf8(s).ok())
        .filter(|s| {
            (s.starts_with("key_") || s.starts_with("btn_"))
                && s.len() > 4
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
        .map(str::to_string)
        .collect();
    let ours: BTreeSet<String> = KEY_NAMES.iter().map(|e| e.0.to_ascii_lowercase()).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn keycodes_force_release_and_sensitivity() {
    let s = keyboard(
        "120013\n",
        "KEYBOARD_KEY_a0=!mute\nKEYBOARD_KEY_ae=!volumedown\nKEYBOARD_KEY_b0=!\n\
         KEYBOARD_KEY_zz=mute\nKEYBOARD_KEY_10=nosuchkey\nKEYBOARD_KEY_11=0x1e\n\
         KEYBOARD_KEY_e016=btn_left\nEVDEV_ABS_00=1:2:3\nPOINTINGSTICK_SENSITIVITY=200\n",
    );
    assert_eq!(
        actions(&s).unwrap(),
        [
            // EVDEV_ABS_00 first in key order, but the keyboard has no EV_ABS.
            key(0x11, 30),
            key(0xa0, 113),
            key(0xae, 114),
            key(0xe016, 0x110),
            serio_attr("sensitivity", "200"),
            serio_attr("force_release", "369-370,160,174,176"),
        ]
    );
}

#[test]
fn sensitivity_out_of_range_and_no_serio() {
    for (v, ok) in [
        ("255", true),
        ("0x10", true),
        ("256", false),
        ("-1", false),
        ("x", false),
    ] {
        let s = keyboard("3\n", &format!("POINTINGSTICK_SENSITIVITY={v}\n"));
        assert_eq!(actions(&s).unwrap().len(), usize::from(ok), "{v}");
    }
    // Without a serio parent nothing is written; key maps still happen.
    let s = FakeSys::new();
    s.add("/devices/virtual/input/input9", Some("input"), "")
        .add(
            "/devices/virtual/input/input9/event9",
            Some("input"),
            "DEVNAME=input/event9\nKEYBOARD_KEY_1=!a\nPOINTINGSTICK_SENSITIVITY=1\n",
        );
    let dev = s
        .tree()
        .device("/devices/virtual/input/input9/event9")
        .unwrap();
    assert_eq!(
        run(&dev, &TreeSystem::fake(&s), &[]).unwrap().actions,
        [Action::SetKeycode {
            devnode: "/dev/input/event9".into(),
            scancode: 1,
            keycode: 30
        }]
    );
}

#[test]
fn abs_overrides() {
    let s = keyboard(
        "b\n",
        "EVDEV_ABS_00=1:2:3\nEVDEV_ABS_01=::100\nEVDEV_ABS_35=a:1\nEVDEV_ABS_zz=1\n",
    );
    let abs = |axis, values| Action::OverrideAbs {
        devnode: "/dev/input/event3".into(),
        axis,
        values,
    };
    assert_eq!(
        actions(&s).unwrap(),
        [
            abs(0, [Some(1), Some(2), Some(3), None, None]),
            abs(1, [None, None, Some(100), None, None]),
        ]
    );
}

#[test]
fn abs_override_fields_as_strtol() {
    for (v, want) in [
        ("1:2:3", Some([Some(1), Some(2), Some(3), None, None])),
        (
            "0x10:010:-5:+4:9",
            Some([Some(16), Some(8), Some(-5), Some(4), Some(9)]),
        ),
        (
            "1:2:3:4:5:6",
            Some([Some(1), Some(2), Some(3), Some(4), Some(5)]),
        ),
        ("", Some([None; 5])),
        (" 7", Some([Some(7), None, None, None, None])),
        ("4294967296", Some([Some(0), None, None, None, None])),
        (
            "99999999999999999999",
            Some([Some(-1), None, None, None, None]),
        ),
        ("7 ", None),
        ("a", None),
        ("08", None),
        (" :1", None),
    ] {
        assert_eq!(parse_abs_override(v), want, "{v:?}");
    }
}

#[test]
fn release_list_limits() {
    // 1030 `!` entries: udev keeps 1023, the last slot taking the last one seen, and its
    // buffer holds 4095 bytes.
    let mut props = String::new();
    for i in 0..1030u32 {
        props.push_str(&format!("KEYBOARD_KEY_{i:x}=!\n"));
    }
    let s = keyboard("3\n", &props);
    let mut codes: Vec<(String, u32)> = (0..1030u32).map(|i| (format!("{i:x}"), i)).collect();
    codes.sort();
    let mut kept: Vec<u32> = codes.iter().take(1022).map(|c| c.1).collect();
    kept.push(codes.last().unwrap().1);
    let mut want = "369-370".to_string();
    for c in kept {
        want.push_str(&format!(",{c}"));
    }
    want.truncate(4095);
    assert_eq!(actions(&s).unwrap(), [serio_attr("force_release", &want)]);
}

#[test]
fn needs_a_device_node() {
    let s = FakeSys::new();
    s.add(
        "/devices/virtual/input/input9",
        Some("input"),
        "KEYBOARD_KEY_1=a\n",
    );
    let dev = s.tree().device("/devices/virtual/input/input9").unwrap();
    assert!(run(&dev, &TreeSystem::fake(&s), &[]).is_err());
}

proptest::proptest! {
    #[test]
    fn parsers_never_panic(s in ".*") {
        let _ = keycode(&s);
        let _ = parse_abs_override(&s);
        let _ = safe_atoi(&s);
        let _ = strtol0(&s);
    }
}
