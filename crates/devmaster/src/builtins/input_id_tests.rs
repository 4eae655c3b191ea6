use super::*;
use crate::builtins::fake::{oracle, props, udevadm_fake, TreeSystem};
use crate::testsys::FakeSys;

/// A bitmap in the kernel's sysfs format: `unsigned long` words in hex, the highest
/// non-zero word first, separated by spaces.
fn caps(bits: &[u32]) -> String {
    let w = usize::BITS;
    let n = bits.iter().map(|b| b / w + 1).max().unwrap_or(1) as usize;
    let mut words = vec![0u64; n];
    for b in bits {
        words[(b / w) as usize] |= 1 << (b % w);
    }
    let words: Vec<String> = words.iter().rev().map(|x| format!("{x:x}")).collect();
    words.join(" ")
}

const INPUT: &str = "/devices/platform/i8042/serio1/input/input5";

/// An input device with the given capability attributes (name, value) and an event node.
fn input(attrs: &[(&str, &str)]) -> FakeSys {
    let s = FakeSys::new();
    s.add("/devices/platform/i8042", Some("platform"), "")
        .add("/devices/platform/i8042/serio1", Some("serio"), "")
        .add(INPUT, Some("input"), "")
        .add(
            &format!("{INPUT}/event5"),
            Some("input"),
            "MAJOR=13\nMINOR=69\nDEVNAME=input/event5\n",
        );
    for (k, v) in attrs {
        s.attr(INPUT, k, &format!("{v}\n"));
    }
    s
}

fn input_id_with(s: &FakeSys, sys: &TreeSystem, node: &str) -> Vec<(String, String)> {
    let dev = s.tree().device(&format!("{INPUT}/{node}")).unwrap();
    props(&run(&dev, sys, &[]).unwrap()).into_iter().collect()
}

/// input_id on the event node of an input device with `attrs`; where udevadm can run on
/// the fake tree, its answer must be the same.
fn input_id(attrs: &[(&str, &str)]) -> Vec<(String, String)> {
    let s = input(attrs);
    let ours = input_id_with(&s, &TreeSystem::fake(&s), "event5");
    if let Some(theirs) = udevadm_fake(&s, "input_id", &format!("{INPUT}/event5")) {
        assert_eq!(
            ours,
            theirs.into_iter().collect::<Vec<_>>(),
            "udevadm on {attrs:?}"
        );
    }
    ours
}

fn set(keys: &[&str]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = keys
        .iter()
        .map(|k| (k.to_string(), "1".to_string()))
        .collect();
    v.sort();
    v
}

const EV_SYN: u32 = 0;
const EV_MSC: u32 = 4;
const EV_LED: u32 = 0x11;
const EV_REP: u32 = 0x14;
const EV_ABS: u32 = 3;
const BTN_LEFT: u32 = 0x110;
const BTN_RIGHT: u32 = 0x111;
const BTN_MIDDLE: u32 = 0x112;
const BTN_TOOL_DOUBLETAP: u32 = 0x14d;
const KEY_POWER: u32 = 116;
const SW_LID: u32 = 0;

#[test]
fn bitmap_parse_matches_the_kernel_format() {
    // An AT keyboard's key bitmap as the kernel prints it on 64-bit machines.
    if usize::BITS == 64 {
        let b = Bits::parse(
            "402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe",
            KEY_MAX,
        );
        assert!(!b.test(0));
        assert!(b.test(1) && b.test(63) && b.test(64));
        assert!(!b.test(64 + 20)); // KEY_KPDOT's neighbour gap in word 1
        assert!(b.test(128) && b.test(128 + 12));
        assert!(b.test(192 + 25) && b.test(192 + 34));
        assert!(!b.test(KEY_MAX + 1));
    }
    // Words that fail to parse keep their place; words past the size are ignored.
    let b = Bits::parse("1 zz 3", EV_MAX);
    assert!(b.test(0) && b.test(1));
    let b = Bits::parse(&caps(&[3, 70]), ABS_MAX);
    assert!(b.test(3));
    assert!(!b.test(70));
    assert!(!Bits::parse("", KEY_MAX).test(0));
}

#[test]
fn keyboard() {
    // AT Translated Set 2 keyboard on a 64-bit kernel.
    let key = if usize::BITS == 64 {
        "402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe".to_string()
    } else {
        caps(&(1..32).collect::<Vec<_>>())
    };
    assert_eq!(
        input_id(&[
            ("capabilities/ev", "120013"),
            ("capabilities/key", &key),
            ("capabilities/msc", "10"),
            ("capabilities/led", "7"),
            ("id/bustype", "0011"),
        ]),
        set(&["ID_INPUT", "ID_INPUT_KEY", "ID_INPUT_KEYBOARD"])
    );
    let _ = (EV_MSC, EV_LED, EV_REP);
}

#[test]
fn power_button_lid_switch_and_scroll_wheel() {
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_KEY])),
            ("capabilities/key", &caps(&[KEY_POWER])),
        ]),
        set(&["ID_INPUT", "ID_INPUT_KEY"])
    );
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_SW])),
            ("capabilities/sw", &caps(&[SW_LID])),
        ]),
        set(&["ID_INPUT", "ID_INPUT_SWITCH"])
    );
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_REL])),
            ("capabilities/rel", &caps(&[REL_WHEEL])),
        ]),
        set(&["ID_INPUT", "ID_INPUT_KEY"])
    );
}

#[test]
fn mice() {
    let rel_mouse = [
        ("capabilities/ev", caps(&[EV_SYN, EV_KEY, EV_REL])),
        ("capabilities/key", caps(&[BTN_LEFT, BTN_RIGHT, BTN_MIDDLE])),
        ("capabilities/rel", caps(&[REL_X, REL_Y, REL_WHEEL])),
    ];
    let attrs: Vec<(&str, &str)> = rel_mouse.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(input_id(&attrs), set(&["ID_INPUT", "ID_INPUT_MOUSE"]));
    // The same on I2C: a pointing stick.
    let mut i2c = attrs.clone();
    i2c.push(("id/bustype", "0018"));
    assert_eq!(
        input_id(&i2c),
        set(&["ID_INPUT", "ID_INPUT_MOUSE", "ID_INPUT_POINTINGSTICK"])
    );
    // VMware's absolute mouse.
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_KEY, EV_ABS])),
            ("capabilities/key", &caps(&[BTN_LEFT, BTN_RIGHT])),
            ("capabilities/abs", &caps(&[ABS_X, ABS_Y])),
        ]),
        set(&["ID_INPUT", "ID_INPUT_MOUSE"])
    );
}

#[test]
fn touchpad_with_size_from_absinfo() {
    let attrs = [
        ("capabilities/ev", caps(&[EV_SYN, EV_KEY, EV_ABS])),
        (
            "capabilities/key",
            caps(&[BTN_LEFT, BTN_TOOL_FINGER, BTN_TOUCH, BTN_TOOL_DOUBLETAP]),
        ),
        (
            "capabilities/abs",
            caps(&[
                ABS_X,
                ABS_Y,
                ABS_PRESSURE,
                ABS_MT_SLOT,
                ABS_MT_POSITION_X,
                ABS_MT_POSITION_Y,
            ]),
        ),
        ("properties", caps(&[0, 2])),
    ];
    let attrs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let s = input(&attrs);
    let sys = TreeSystem::fake(&s)
        .with_absinfo("/dev/input/event5", 0, [0, 1266, 5676, 0, 0, 42])
        .with_absinfo("/dev/input/event5", 1, [0, 1096, 4758, 0, 0, 42]);
    let mut want = set(&["ID_INPUT", "ID_INPUT_TOUCHPAD"]);
    // (5676 - 1266) / 42 and (4758 - 1096) / 42, truncated.
    want.push(("ID_INPUT_HEIGHT_MM".into(), "87".into()));
    want.push(("ID_INPUT_WIDTH_MM".into(), "105".into()));
    want.sort();
    assert_eq!(input_id_with(&s, &sys, "event5"), want);
    // The inputN device itself: same kind, no size (not an event node).
    assert_eq!(
        input_id_with(&s, &sys, "")
            .into_iter()
            .filter(|(k, _)| k.ends_with("_MM"))
            .count(),
        0
    );
    // Without resolution, no size.
    let sys = TreeSystem::fake(&s)
        .with_absinfo("/dev/input/event5", 0, [0, 0, 100, 0, 0, 0])
        .with_absinfo("/dev/input/event5", 1, [0, 0, 100, 0, 0, 10]);
    assert_eq!(
        input_id_with(&s, &sys, "event5"),
        set(&["ID_INPUT", "ID_INPUT_TOUCHPAD"])
    );
}

#[test]
fn touchscreen_tablet_pad_and_accelerometer() {
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_KEY, EV_ABS])),
            ("capabilities/key", &caps(&[BTN_TOUCH])),
            (
                "capabilities/abs",
                &caps(&[
                    ABS_X,
                    ABS_Y,
                    ABS_MT_SLOT,
                    ABS_MT_POSITION_X,
                    ABS_MT_POSITION_Y
                ])
            ),
            ("properties", &caps(&[INPUT_PROP_DIRECT])),
        ]),
        set(&["ID_INPUT", "ID_INPUT_TOUCHSCREEN"])
    );
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_KEY, EV_ABS])),
            (
                "capabilities/key",
                &caps(&[BTN_TOOL_PEN, BTN_TOUCH, BTN_STYLUS])
            ),
            ("capabilities/abs", &caps(&[ABS_X, ABS_Y, ABS_PRESSURE])),
        ]),
        set(&["ID_INPUT", "ID_INPUT_TABLET"])
    );
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_KEY, EV_ABS])),
            ("capabilities/key", &caps(&[BTN_0, BTN_STYLUS])),
            ("capabilities/abs", &caps(&[ABS_X, ABS_Y])),
        ]),
        set(&["ID_INPUT", "ID_INPUT_TABLET", "ID_INPUT_TABLET_PAD"])
    );
    // Three axes and no keys.
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_ABS])),
            ("capabilities/abs", &caps(&[ABS_X, ABS_Y, ABS_Z])),
        ]),
        set(&["ID_INPUT", "ID_INPUT_ACCELEROMETER"])
    );
    // The property alone.
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_ABS])),
            ("properties", &caps(&[INPUT_PROP_ACCELEROMETER])),
        ]),
        set(&["ID_INPUT", "ID_INPUT_ACCELEROMETER"])
    );
}

#[test]
fn joysticks_and_keyboards_with_joystick_buttons() {
    // A gamepad: south/east/... buttons, two sticks, a hat.
    let pad_keys: Vec<u32> = (0x130..0x13e).collect();
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_KEY, EV_ABS])),
            ("capabilities/key", &caps(&pad_keys)),
            ("capabilities/abs", &caps(&[0, 1, 2, 3, 4, 5, 0x10, 0x11])),
        ]),
        set(&["ID_INPUT", "ID_INPUT_JOYSTICK"])
    );
    // A rudder: axes only.
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_ABS])),
            ("capabilities/abs", &caps(&[ABS_RX, ABS_RX + 1])),
        ]),
        set(&["ID_INPUT", "ID_INPUT_JOYSTICK"])
    );
    // One joystick button is no joystick.
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_KEY])),
            ("capabilities/key", &caps(&[BTN_JOYSTICK])),
        ]),
        set(&["ID_INPUT"])
    );
    // A keyboard with stray joystick buttons stays a keyboard.
    let mut k: Vec<u32> = (1..32).collect();
    k.extend([29, 58, 69, 110, BTN_JOYSTICK, BTN_JOYSTICK + 1]);
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_KEY])),
            ("capabilities/key", &caps(&k)),
        ]),
        set(&["ID_INPUT", "ID_INPUT_KEY", "ID_INPUT_KEYBOARD"])
    );
    // A mouse whose buttons run into the joystick range (BTN_JOYSTICK - 1 set).
    let many: Vec<u32> = (BTN_MOUSE..BTN_JOYSTICK + 4).collect();
    assert_eq!(
        input_id(&[
            ("capabilities/ev", &caps(&[EV_SYN, EV_KEY, EV_REL])),
            ("capabilities/key", &caps(&many)),
            ("capabilities/rel", &caps(&[REL_X, REL_Y])),
        ]),
        set(&["ID_INPUT", "ID_INPUT_MOUSE"])
    );
}

#[test]
fn not_an_input_device() {
    let s = FakeSys::new();
    s.add("/devices/platform/serial8250", Some("platform"), "");
    let dev = s.tree().device("/devices/platform/serial8250").unwrap();
    assert_eq!(
        run(&dev, &TreeSystem::fake(&s), &[]).unwrap(),
        Output::default()
    );
}

#[test]
fn udevadm_oracle_on_this_machine() {
    let Some((compared, with_props, diffs)) = oracle("input_id", |d, s| run(d, s, &[])) else {
        return;
    };
    eprintln!("input_id oracle: {compared} devices, {with_props} input devices");
    assert!(compared > 0);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

proptest::proptest! {
    #[test]
    fn bitmap_parse_never_panics(s in ".*") {
        let b = Bits::parse(&s, KEY_MAX);
        let _ = b.test(KEY_MAX);
        let _ = b.test(u32::MAX);
    }
}

/// Bits udev's heuristics look at, with some neighbours.
const EV_POOL: &[u32] = &[EV_SYN, EV_KEY, EV_REL, EV_ABS, EV_MSC, EV_SW];
const KEY_POOL: &[u32] = &[
    1,
    2,
    16,
    29,
    30,
    31,
    58,
    69,
    110,
    113,
    116,
    140,
    144,
    155,
    164,
    224,
    0xff,
    BTN_0,
    BTN_MOUSE,
    BTN_LEFT,
    BTN_RIGHT,
    0x11f,
    BTN_JOYSTICK,
    0x130,
    0x13f,
    BTN_TOOL_PEN,
    BTN_TOOL_FINGER,
    BTN_TOUCH,
    BTN_STYLUS,
    KEY_OK,
    0x21f,
    BTN_DPAD_UP,
    BTN_DPAD_RIGHT,
    KEY_ALS_TOGGLE,
    0x2bf,
    BTN_TRIGGER_HAPPY1,
    BTN_TRIGGER_HAPPY40,
];
const ABS_POOL: &[u32] = &[
    ABS_X,
    ABS_Y,
    ABS_Z,
    ABS_RX,
    0x10,
    0x17,
    ABS_PRESSURE,
    0x2e,
    ABS_MT_SLOT,
    ABS_MT_POSITION_X,
    ABS_MT_POSITION_Y,
];
const REL_POOL: &[u32] = &[REL_X, REL_Y, REL_HWHEEL, REL_WHEEL];
const PROP_POOL: &[u32] = &[
    0,
    INPUT_PROP_DIRECT,
    INPUT_PROP_POINTING_STICK,
    INPUT_PROP_ACCELEROMETER,
];

fn pick(pool: &'static [u32]) -> impl proptest::strategy::Strategy<Value = Vec<u32>> {
    proptest::sample::subsequence(pool, 0..=pool.len())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]
    /// Random capabilities: ours and udevadm's classification agree.
    #[test]
    fn random_capabilities_agree_with_udevadm(
        ev in pick(EV_POOL), key in pick(KEY_POOL), abs in pick(ABS_POOL),
        rel in pick(REL_POOL), prop in pick(PROP_POOL), i2c in proptest::bool::ANY,
    ) {
        let (ev, key, abs, rel, prop) = (caps(&ev), caps(&key), caps(&abs), caps(&rel), caps(&prop));
        let bus = if i2c { "0018" } else { "0011" };
        let _ = input_id(&[
            ("capabilities/ev", &ev), ("capabilities/key", &key), ("capabilities/abs", &abs),
            ("capabilities/rel", &rel), ("properties", &prop), ("id/bustype", bus),
        ]);
    }
}
