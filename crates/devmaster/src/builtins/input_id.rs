//! The `input_id` builtin of systemd 252: what kind of input device this is, from the
//! capability bitmaps the kernel exports in sysfs (`capabilities/ev`, `key`, `rel`, `abs`
//! and `properties` of the `inputN` device, found from its `eventN`/`mouseN` children by
//! walking up) with udev's heuristics: `ID_INPUT`, `ID_INPUT_KEY`, `ID_INPUT_KEYBOARD`,
//! `ID_INPUT_MOUSE`, `_TOUCHPAD`, `_TOUCHSCREEN`, `_TABLET`, `_TABLET_PAD`, `_JOYSTICK`,
//! `_ACCELEROMETER`, `_POINTINGSTICK`, `_SWITCH`.
//!
//! `ID_INPUT_WIDTH_MM`/`HEIGHT_MM` of an `event*` node need the `EVIOCGABS` ioctl; they are
//! read through [`System::evdev_absinfo`] and left out when that answers nothing. Bitmap
//! words are the kernel's `unsigned long`, so their width is this machine's word size.

use super::devutil::{parent_with, parse_unsigned};
use super::{Output, System};
use crate::rules::subst::Device;

const EV_KEY: u32 = 0x01;
const EV_REL: u32 = 0x02;
const EV_SW: u32 = 0x05;
const EV_MAX: u32 = 0x1f;

const ABS_X: u32 = 0x00;
const ABS_Y: u32 = 0x01;
const ABS_Z: u32 = 0x02;
const ABS_RX: u32 = 0x03;
const ABS_PRESSURE: u32 = 0x18;
const ABS_MT_SLOT: u32 = 0x2f;
const ABS_MT_POSITION_X: u32 = 0x35;
const ABS_MT_POSITION_Y: u32 = 0x36;
const ABS_MAX: u32 = 0x3f;

const REL_X: u32 = 0x00;
const REL_Y: u32 = 0x01;
const REL_HWHEEL: u32 = 0x06;
const REL_WHEEL: u32 = 0x08;
const REL_MAX: u32 = 0x0f;

const INPUT_PROP_DIRECT: u32 = 0x01;
const INPUT_PROP_POINTING_STICK: u32 = 0x05;
const INPUT_PROP_ACCELEROMETER: u32 = 0x06;
const INPUT_PROP_MAX: u32 = 0x1f;

const BTN_MISC: u32 = 0x100;
const BTN_0: u32 = 0x100;
const BTN_MOUSE: u32 = 0x110;
const BTN_JOYSTICK: u32 = 0x120;
const BTN_DIGI: u32 = 0x140;
const BTN_TOOL_PEN: u32 = 0x140;
const BTN_TOOL_FINGER: u32 = 0x145;
const BTN_TOUCH: u32 = 0x14a;
const BTN_STYLUS: u32 = 0x14b;
const KEY_OK: u32 = 0x160;
const BTN_DPAD_UP: u32 = 0x220;
const BTN_DPAD_RIGHT: u32 = 0x223;
const KEY_ALS_TOGGLE: u32 = 0x230;
const BTN_TRIGGER_HAPPY1: u32 = 0x2c0;
const BTN_TRIGGER_HAPPY40: u32 = 0x2e7;
const KEY_MAX: u32 = 0x2ff;

const BUS_I2C: u16 = 0x18;

/// Keys of which a keyboard has several and a joystick hardly any (KEY_LEFTCTRL,
/// KEY_CAPSLOCK, KEY_NUMLOCK, KEY_INSERT, KEY_MUTE, KEY_CALC, KEY_FILE, KEY_MAIL,
/// KEY_PLAYPAUSE, KEY_BRIGHTNESSDOWN).
const WELL_KNOWN_KEYBOARD_KEYS: [u32; 10] = [29, 58, 69, 110, 113, 140, 144, 155, 164, 224];

/// Bits of the kernel's `unsigned long`.
const WORD: u32 = usize::BITS;

/// A capability bitmap of `max + 1` bits (rounded up to whole words, as udev sizes it).
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    /// Parses the kernel's format: hex words separated by single spaces, the last one
    /// holding bits 0.. . A word that does not parse is skipped (its place still counts),
    /// words past the bitmap's size are ignored.
    pub(crate) fn parse(text: &str, max: u32) -> Self {
        let words = usize::try_from((max - 1) / WORD + 1).unwrap_or(1);
        let mut v = vec![0u64; words];
        for (slot, word) in v.iter_mut().zip(text.rsplit(' ')) {
            if let Some(n) = parse_unsigned(word, 16).filter(|&n| n <= usize::MAX as u64) {
                *slot = n;
            }
        }
        Bits(v)
    }

    /// Whether bit `b` is set.
    pub(crate) fn test(&self, b: u32) -> bool {
        let word = usize::try_from(b / WORD).unwrap_or(usize::MAX);
        self.0.get(word).is_some_and(|w| (w >> (b % WORD)) & 1 == 1)
    }

    fn any(&self, range: std::ops::Range<u32>) -> bool {
        range.into_iter().any(|b| self.test(b))
    }

    fn count(&self, range: std::ops::RangeInclusive<u32>) -> usize {
        range.filter(|&b| self.test(b)).count()
    }

    fn word0(&self) -> u64 {
        self.0.first().copied().unwrap_or(0)
    }
}

/// The input device whose capabilities describe `device`: itself when it has
/// `capabilities/ev`, else the nearest `input` parent that has.
pub(crate) fn capability_device(device: &dyn Device) -> Option<&dyn Device> {
    let mut d = device;
    loop {
        if d.sysattr("capabilities/ev").is_some() {
            return Some(d);
        }
        d = parent_with(d, "input", None)?;
    }
}

struct Caps {
    ev: Bits,
    abs: Bits,
    rel: Bits,
    key: Bits,
    props: Bits,
    bustype: u16,
}

/// Runs `input_id` on `device`. Never fails, as udev's.
pub fn run(device: &dyn Device, system: &dyn System, _args: &[String]) -> Result<Output, String> {
    let mut out = Output::default();
    if let Some(p) = capability_device(device) {
        let bits = |attr: &str, max| Bits::parse(&p.sysattr(attr).unwrap_or_default(), max);
        let caps = Caps {
            ev: bits("capabilities/ev", EV_MAX),
            abs: bits("capabilities/abs", ABS_MAX),
            rel: bits("capabilities/rel", REL_MAX),
            key: bits("capabilities/key", KEY_MAX),
            props: bits("properties", INPUT_PROP_MAX),
            bustype: p
                .sysattr("id/bustype")
                .and_then(|v| parse_unsigned(&v, 16))
                .and_then(|v| u16::try_from(v).ok())
                .unwrap_or(0),
        };
        out.set("ID_INPUT", "1");
        let pointer = pointers(&caps, &mut out);
        let key = keys(&caps, &mut out);
        // Some evdev nodes have nothing but a scroll wheel.
        if !pointer
            && !key
            && caps.ev.test(EV_REL)
            && (caps.rel.test(REL_WHEEL) || caps.rel.test(REL_HWHEEL))
        {
            out.set("ID_INPUT_KEY", "1");
        }
        if caps.ev.test(EV_SW) {
            out.set("ID_INPUT_SWITCH", "1");
        }
    }
    if device.sysname().starts_with("event") {
        size_mm(device, system, &mut out);
    }
    Ok(out)
}

/// `ID_INPUT_WIDTH_MM`/`HEIGHT_MM` from the X and Y axes' range and resolution (units/mm).
fn size_mm(device: &dyn Device, system: &dyn System, out: &mut Output) {
    let Some(node) = device.devnode() else {
        return;
    };
    let (Some(x), Some(y)) = (
        system.evdev_absinfo(&node, 0),
        system.evdev_absinfo(&node, 1),
    ) else {
        return;
    };
    // [value, minimum, maximum, fuzz, flat, resolution]
    let mm = |a: [i32; 6]| (i64::from(a[2]) - i64::from(a[1])) / i64::from(a[5]);
    if x[5] <= 0 || y[5] <= 0 {
        return;
    }
    out.set("ID_INPUT_WIDTH_MM", mm(x).to_string());
    out.set("ID_INPUT_HEIGHT_MM", mm(y).to_string());
}

/// udev's `test_pointers`: sets the pointer-like properties, true when one was set.
fn pointers(c: &Caps, out: &mut Output) -> bool {
    let has_keys = c.ev.test(EV_KEY);
    let has_abs = c.abs.test(ABS_X) && c.abs.test(ABS_Y);
    let has_3d = has_abs && c.abs.test(ABS_Z);
    // Three absolute axes and no keys: an accelerometer even without the property.
    if c.props.test(INPUT_PROP_ACCELEROMETER) || (!has_keys && has_3d) {
        out.set("ID_INPUT_ACCELEROMETER", "1");
        return true;
    }
    let mut is_pointing_stick = c.props.test(INPUT_PROP_POINTING_STICK);
    let has_stylus = c.key.test(BTN_STYLUS);
    let has_pen = c.key.test(BTN_TOOL_PEN);
    let finger_but_no_pen = c.key.test(BTN_TOOL_FINGER) && !has_pen;
    let has_mouse_button = c.key.any(BTN_MOUSE..BTN_JOYSTICK);
    let has_rel = c.ev.test(EV_REL) && c.rel.test(REL_X) && c.rel.test(REL_Y);
    // A device that claims every absolute axis has no real multitouch.
    let has_mt = c.abs.test(ABS_MT_POSITION_X)
        && c.abs.test(ABS_MT_POSITION_Y)
        && !(c.abs.test(ABS_MT_SLOT) && c.abs.test(ABS_MT_SLOT - 1));
    let is_direct = c.props.test(INPUT_PROP_DIRECT);
    let has_touch = c.key.test(BTN_TOUCH);
    let has_pad_buttons = c.key.test(BTN_0) && has_stylus && !has_pen;

    // A mouse with more than 16 buttons runs into the joystick range: not counted then.
    let buttons = if c.key.test(BTN_JOYSTICK - 1) {
        0
    } else {
        c.key.count(BTN_JOYSTICK..=BTN_DIGI - 1)
            + c.key.count(BTN_TRIGGER_HAPPY1..=BTN_TRIGGER_HAPPY40)
            + c.key.count(BTN_DPAD_UP..=BTN_DPAD_RIGHT)
    };
    let axes = c.abs.count(ABS_RX..=ABS_PRESSURE - 1);

    let (mut tablet, mut touchpad, mut touchscreen, mut joystick, mut abs_mouse) =
        (false, false, false, false, false);
    if has_abs {
        if has_stylus || has_pen {
            tablet = true;
        } else if finger_but_no_pen && !is_direct {
            touchpad = true;
        } else if has_mouse_button {
            // VMware's USB mouse: absolute axes, no touch.
            abs_mouse = true;
        } else if has_touch || is_direct {
            touchscreen = true;
        } else if buttons > 0 || axes > 0 {
            joystick = true;
        }
    } else if buttons > 0 || axes > 0 {
        joystick = true;
    }
    if has_mt {
        if has_stylus || has_pen {
            tablet = true;
        } else if finger_but_no_pen && !is_direct {
            touchpad = true;
        } else if has_touch || is_direct {
            touchscreen = true;
        }
    }
    let tablet_pad = tablet && has_pad_buttons;
    let mouse = !tablet && !touchpad && !joystick && has_mouse_button && (has_rel || !has_abs);
    // There is no such thing as an i2c mouse.
    if mouse && c.bustype == BUS_I2C {
        is_pointing_stick = true;
    }
    // Keyboards with a few joystick buttons are keyboards; so is a "joystick" of one
    // button or axis.
    if joystick {
        let known = if has_keys {
            WELL_KNOWN_KEYBOARD_KEYS
                .iter()
                .filter(|&&k| c.key.test(k))
                .count()
        } else {
            0
        };
        if known >= 4 || buttons + axes < 2 {
            joystick = false;
        }
    }
    for (set, key) in [
        (is_pointing_stick, "ID_INPUT_POINTINGSTICK"),
        (mouse || abs_mouse, "ID_INPUT_MOUSE"),
        (touchpad, "ID_INPUT_TOUCHPAD"),
        (touchscreen, "ID_INPUT_TOUCHSCREEN"),
        (joystick, "ID_INPUT_JOYSTICK"),
        (tablet, "ID_INPUT_TABLET"),
        (tablet_pad, "ID_INPUT_TABLET_PAD"),
    ] {
        if set {
            out.set(key, "1");
        }
    }
    tablet || mouse || abs_mouse || touchpad || touchscreen || joystick || is_pointing_stick
}

/// udev's `test_key`: `ID_INPUT_KEY` for any key below `BTN_MISC` or in the high key
/// blocks, `ID_INPUT_KEYBOARD` for all of ESC, the digits and Q..D (bits 1..31).
fn keys(c: &Caps, out: &mut Output) -> bool {
    if !c.ev.test(EV_KEY) {
        return false;
    }
    let found = c.key.any(0..BTN_MISC)
        || c.key.any(KEY_OK..BTN_DPAD_UP)
        || c.key.any(KEY_ALS_TOGGLE..BTN_TRIGGER_HAPPY1);
    if found {
        out.set("ID_INPUT_KEY", "1");
    }
    if c.key.word0() & 0xFFFF_FFFE == 0xFFFF_FFFE {
        out.set("ID_INPUT_KEYBOARD", "1");
        return true;
    }
    found
}

#[cfg(test)]
#[path = "input_id_tests.rs"]
mod tests;
