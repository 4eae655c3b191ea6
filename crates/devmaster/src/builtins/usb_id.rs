//! The `usb_id` builtin of systemd 252: vendor, model, revision, serial and type of the USB
//! device above the event device (`ID_VENDOR`, `ID_VENDOR_ENC`, `ID_VENDOR_ID`, `ID_MODEL`,
//! `ID_MODEL_ENC`, `ID_MODEL_ID`, `ID_REVISION`, `ID_SERIAL`, `ID_SERIAL_SHORT`, `ID_TYPE`,
//! `ID_INSTANCE`, `ID_BUS=usb`, each also as `ID_USB_*`, and `ID_USB_INTERFACES`,
//! `ID_USB_INTERFACE_NUM`, `ID_USB_DRIVER`). For SCSI and ATAPI mass storage the SCSI
//! device's vendor, model, type and revision win over the USB strings, as in udev. When
//! `ID_BUS` is already set only the `ID_USB_*` names are set.
//!
//! Also here: udev's string clean-ups in their exact byte-level form ([`replace_whitespace`],
//! [`replace_chars`], [`encode_devnode_name`]) with udev's fixed buffer sizes. Where udev
//! overflows a buffer the result here is truncated (udev's own output is then undefined);
//! `ID_SERIAL` is cut to udev's 255 bytes at a character boundary.

use super::devutil::{devtype, parent_with, parse_unsigned, syspath};
use super::{Output, System};
use crate::rules::subst::Device;

/// udev's `UDEV_NAME_SIZE`.
const NAME_SIZE: usize = 512;

/// C's `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// udev's `udev_replace_whitespace`: reads at most `len` bytes of `s`, drops leading
/// (space, tab, newline, return) and trailing whitespace, turns each inner run into one `_`,
/// and writes at most `len` bytes.
pub fn replace_whitespace(s: &str, len: usize) -> String {
    String::from_utf8_lossy(&replace_whitespace_bytes(s, len)).into_owned()
}

/// [`replace_whitespace`] as bytes: the cut at `len` may split a character, which
/// [`replace_chars_bytes`] then turns into `_` as udev does.
fn replace_whitespace_bytes(s: &str, len: usize) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(len.min(b.len()));
    let mut i = b
        .iter()
        .take_while(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        .count();
    let mut space = false;
    while out.len() < len && i < len {
        let Some(&c) = b.get(i) else {
            break;
        };
        i += 1;
        if is_c_space(c) {
            space = true;
            continue;
        }
        if space {
            if out.len() + 1 >= len {
                break;
            }
            out.push(b'_');
            space = false;
        }
        out.push(c);
    }
    out
}

/// The length of the character at the start of `s` if udev (`utf8_encoded_valid_unichar`)
/// takes it as valid: 1 for ASCII, 2..4 for a well-formed sequence of a valid code point
/// (not a surrogate, not U+FDD0..U+FDEF, not U+xFFFE/U+xFFFF).
fn utf8_valid_len(s: &[u8]) -> Option<usize> {
    let c = *s.first()?;
    let (len, init) = match c {
        0..=0x7f => return Some(1),
        _ if c & 0xe0 == 0xc0 => (2, u32::from(c & 0x1f)),
        _ if c & 0xf0 == 0xe0 => (3, u32::from(c & 0x0f)),
        _ if c & 0xf8 == 0xf0 => (4, u32::from(c & 0x07)),
        _ if c & 0xfc == 0xf8 => (5, u32::from(c & 0x03)),
        _ if c & 0xfe == 0xfc => (6, u32::from(c & 0x01)),
        _ => return None,
    };
    let mut u = init;
    for i in 1..len {
        let b = *s.get(i)?;
        if b & 0xc0 != 0x80 {
            return None;
        }
        u = (u << 6) | u32::from(b & 0x3f);
    }
    let encoded = match u {
        0..=0x7f => 1,
        0x80..=0x7ff => 2,
        0x800..=0xffff => 3,
        0x1_0000..=0x1f_ffff => 4,
        0x20_0000..=0x3ff_ffff => 5,
        _ => 6,
    };
    let valid = u < 0x11_0000
        && u & 0xffff_f800 != 0xd800
        && !(0xfdd0..=0xfdef).contains(&u)
        && u & 0xfffe != 0xfffe;
    (encoded == len && valid).then_some(len)
}

/// udev's `allow_listed_char_for_devnode`.
fn allowed(c: u8, allow: &str) -> bool {
    c.is_ascii_alphanumeric() || b"#+-.:=@_".contains(&c) || allow.as_bytes().contains(&c)
}

/// udev's `udev_replace_chars`: keeps ASCII letters and digits, `#+-.:=@_`, the bytes of
/// `allow`, `\x` escapes and valid UTF-8 characters; whitespace becomes a space when
/// `allow` has one; every other byte becomes `_`.
pub fn replace_chars(s: &str, allow: &str) -> String {
    replace_chars_bytes(s.as_bytes(), allow)
}

/// [`replace_chars`] of bytes (invalid UTF-8 becomes `_` byte by byte).
fn replace_chars_bytes(b: &[u8], allow: &str) -> String {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if allowed(c, allow) {
            out.push(c);
            i += 1;
        } else if c == b'\\' && b.get(i + 1) == Some(&b'x') {
            out.extend_from_slice(b"\\x");
            i += 2;
        } else if let Some(n) = utf8_valid_len(b.get(i..).unwrap_or_default()).filter(|&n| n > 1) {
            out.extend_from_slice(b.get(i..i + n).unwrap_or_default());
            i += n;
        } else {
            out.push(if is_c_space(c) && allow.contains(' ') {
                b' '
            } else {
                b'_'
            });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// udev's `encode_devnode_name` into a buffer of `len` bytes: valid multi-byte UTF-8 and
/// allowed ASCII (see [`replace_chars`]) kept, `\` and every other byte as `\xNN`. Stops
/// where the buffer (with its terminating NUL) would overflow.
pub fn encode_devnode_name(s: &str, len: usize) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let n = utf8_valid_len(b.get(i..).unwrap_or_default()).unwrap_or(0);
        let piece = if n > 1 {
            String::from_utf8_lossy(b.get(i..i + n).unwrap_or_default()).into_owned()
        } else if c == b'\\' || !allowed(c, "") {
            format!("\\x{c:02x}")
        } else {
            char::from(c).to_string()
        };
        if out.len() + piece.len() >= len {
            break;
        }
        out.push_str(&piece);
        i += n.max(1);
    }
    out
}

/// A USB string cleaned as udev does for its 64-byte fields.
fn clean(s: &str) -> String {
    replace_chars_bytes(&replace_whitespace_bytes(s, 63), "")
}

/// `ID_TYPE` of an interface class.
fn iftype(class: u64) -> &'static str {
    match class {
        1 => "audio",
        3 => "hid",
        6 => "media",
        7 => "printer",
        8 => "storage",
        9 => "hub",
        0x0e => "video",
        _ => "generic",
    }
}

/// `ID_TYPE` of a mass storage subclass, and the subclass number (0 when it does not parse
/// as udev's `safe_atoi`, base 0).
fn storage_subtype(subclass: &str) -> (&'static str, i64) {
    let t = subclass.trim_start_matches([' ', '\t', '\n', '\r']);
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n = if digits.starts_with(|c: char| c.is_ascii_digit()) {
        parse_unsigned(digits, 0)
            .and_then(|v| i64::try_from(v).ok())
            .map(|v| if neg { -v } else { v })
            .filter(|v| i32::try_from(*v).is_ok())
            .unwrap_or(0)
    } else {
        0
    };
    let t = match n {
        1 => "rbc",
        2 => "atapi",
        3 => "tape",
        4 => "floppy",
        6 => "scsi",
        _ => "generic",
    };
    (t, n)
}

/// `ID_TYPE` of a SCSI peripheral type.
fn scsi_type(t: &str) -> &'static str {
    match parse_unsigned(t, 0).and_then(|v| u32::try_from(v).ok()) {
        Some(0 | 0xe) => "disk",
        Some(1) => "tape",
        Some(4 | 7 | 0xf) => "optical",
        Some(5) => "cd",
        _ => "generic",
    }
}

/// `ID_USB_INTERFACES`: `:ccsspp:` for each distinct interface class/subclass/protocol in
/// the USB device's `descriptors`. Corrupt data ends the list without its closing `:`, as
/// in udev.
pub(crate) fn packed_interfaces(desc: &[u8]) -> String {
    const IF_DESC: usize = 9;
    let size = desc.len().min(18 + 65535);
    let mut out = String::new();
    if size < 18 {
        return out;
    }
    let mut pos = 0;
    while pos + IF_DESC < size && out.len() + 7 < NAME_SIZE - 2 {
        let Some(d) = desc
            .get(pos..pos + IF_DESC)
            .and_then(|d| <&[u8; IF_DESC]>::try_from(d).ok())
        else {
            break;
        };
        let (len, kind) = (usize::from(d[0]), d[1]);
        if len < 3 {
            break;
        }
        if len > size - IF_DESC {
            return out;
        }
        pos += len;
        if kind != 4 {
            continue;
        }
        let entry = format!(":{:02x}{:02x}{:02x}", d[5], d[6], d[7]);
        if !out.contains(&entry) {
            out.push_str(&entry);
        }
    }
    if !out.is_empty() {
        out.push(':');
    }
    out
}

#[derive(Default)]
struct Ids {
    vendor: String,
    vendor_enc: String,
    model: String,
    model_enc: String,
    revision: String,
    serial: String,
    kind: String,
    instance: String,
}

/// Runs `usb_id` on `device`. `Err` where udev's builtin fails: no USB interface or device
/// above it, an interface without a parsable `bInterfaceClass`, a device without
/// `idVendor`/`idProduct`.
pub fn run(device: &dyn Device, system: &dyn System, _args: &[String]) -> Result<Output, String> {
    let mut ids = Ids::default();
    let (mut ifnum, mut driver) = (None, None);
    let usb_dev: &dyn Device;
    if devtype(device).as_deref() == Some("usb_device") {
        usb_dev = device;
    } else {
        let intf = parent_with(device, "usb", Some("usb_interface"))
            .ok_or("no usb_interface above the device")?;
        ifnum = intf.sysattr("bInterfaceNumber");
        driver = intf.sysattr("driver");
        let class = intf
            .sysattr("bInterfaceClass")
            .ok_or("the interface has no bInterfaceClass")?;
        let class = parse_unsigned(&class, 16)
            .filter(|&c| c <= u64::from(u32::MAX))
            .ok_or("bInterfaceClass does not parse")?;
        let mut protocol = 0;
        if class == 8 {
            if let Some(sub) = intf.sysattr("bInterfaceSubClass") {
                let (t, p) = storage_subtype(&sub);
                ids.kind = t.to_string();
                protocol = p;
            }
        } else {
            ids.kind = iftype(class).to_string();
        }
        usb_dev = parent_with(intf, "usb", Some("usb_device")).ok_or("no usb_device above")?;
        // SCSI or ATAPI mass storage: the SCSI device's identity.
        if protocol == 6 || protocol == 2 {
            scsi_ids(device, &mut ids);
        }
    }
    let interfaces = system
        .read(&format!("{}/descriptors", syspath(usb_dev)))
        .map(|d| packed_interfaces(&d))
        .unwrap_or_default();
    let vendor_id = usb_dev.sysattr("idVendor").ok_or("no idVendor")?;
    let product_id = usb_dev.sysattr("idProduct").ok_or("no idProduct")?;
    if ids.vendor.is_empty() {
        let v = usb_dev
            .sysattr("manufacturer")
            .unwrap_or_else(|| vendor_id.clone());
        ids.vendor_enc = encode_devnode_name(&v, 256);
        ids.vendor = clean(&v);
    }
    if ids.model.is_empty() {
        let m = usb_dev
            .sysattr("product")
            .unwrap_or_else(|| product_id.clone());
        ids.model_enc = encode_devnode_name(&m, 256);
        ids.model = clean(&m);
    }
    if ids.revision.is_empty() {
        if let Some(r) = usb_dev.sysattr("bcdDevice") {
            ids.revision = clean(&r);
        }
    }
    if ids.serial.is_empty() {
        // Serial numbers with control characters, non-ASCII or commas are not used.
        if let Some(s) = usb_dev
            .sysattr("serial")
            .filter(|s| s.bytes().all(|b| (0x20..=0x7f).contains(&b) && b != b','))
        {
            ids.serial = replace_chars_bytes(&replace_whitespace_bytes(&s, NAME_SIZE - 1), "");
        }
    }
    let mut serial = format!("{}_{}", ids.vendor, ids.model);
    if !ids.serial.is_empty() {
        serial = format!("{serial}_{}", ids.serial);
    }
    if !ids.instance.is_empty() {
        serial = format!("{serial}-{}", ids.instance);
    }
    let mut cut = serial.len().min(255);
    while !serial.is_char_boundary(cut) {
        cut -= 1;
    }
    serial.truncate(cut);

    let mut out = Output::default();
    let plain = device.property("ID_BUS").is_none();
    for prefix in ["ID_", "ID_USB_"] {
        if prefix == "ID_" && !plain {
            continue;
        }
        let p = |k: &str| format!("{prefix}{k}");
        if prefix == "ID_" {
            out.set("ID_BUS", "usb");
        }
        out.set(p("MODEL"), ids.model.as_str());
        out.set(p("MODEL_ENC"), ids.model_enc.as_str());
        out.set(p("MODEL_ID"), product_id.as_str());
        out.set(p("SERIAL"), serial.as_str());
        if !ids.serial.is_empty() {
            out.set(p("SERIAL_SHORT"), ids.serial.as_str());
        }
        out.set(p("VENDOR"), ids.vendor.as_str());
        out.set(p("VENDOR_ENC"), ids.vendor_enc.as_str());
        out.set(p("VENDOR_ID"), vendor_id.as_str());
        out.set(p("REVISION"), ids.revision.as_str());
        if !ids.kind.is_empty() {
            out.set(p("TYPE"), ids.kind.as_str());
        }
        if !ids.instance.is_empty() {
            out.set(p("INSTANCE"), ids.instance.as_str());
        }
    }
    if !interfaces.is_empty() {
        out.set("ID_USB_INTERFACES", interfaces);
    }
    if let Some(n) = ifnum {
        out.set("ID_USB_INTERFACE_NUM", n);
    }
    if let Some(d) = driver {
        out.set("ID_USB_DRIVER", d);
    }
    Ok(out)
}

/// The SCSI device's vendor, model, type, revision and `target:lun`, as far as they are
/// there: udev stops at the first missing one and keeps what it had.
fn scsi_ids(device: &dyn Device, ids: &mut Ids) {
    let Some(scsi) = parent_with(device, "scsi", Some("scsi_device")) else {
        return;
    };
    let Some([_, _, target, lun]) = hctl(&scsi.sysname()) else {
        return;
    };
    let Some(v) = scsi.sysattr("vendor") else {
        return;
    };
    ids.vendor_enc = encode_devnode_name(&v, 256);
    ids.vendor = clean(&v);
    let Some(m) = scsi.sysattr("model") else {
        return;
    };
    ids.model_enc = encode_devnode_name(&m, 256);
    ids.model = clean(&m);
    let Some(t) = scsi.sysattr("type") else {
        return;
    };
    ids.kind = scsi_type(&t).to_string();
    let Some(r) = scsi.sysattr("rev") else {
        return;
    };
    ids.revision = clean(&r);
    // Some devices give every LUN the same identity: the instance tells them apart.
    ids.instance = format!("{target}:{lun}");
}

/// `sscanf("%d:%d:%d:%d")` of a SCSI device name.
fn hctl(s: &str) -> Option<[i32; 4]> {
    let mut out = [0i32; 4];
    let mut rest = s;
    for (i, slot) in out.iter_mut().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(':')?;
        }
        let t = rest.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
        let sign = usize::from(t.starts_with(['-', '+']));
        let end = t
            .get(sign..)?
            .find(|c: char| !c.is_ascii_digit())
            .map_or(t.len(), |e| e + sign);
        *slot = t.get(..end)?.parse::<i64>().ok()? as i32;
        rest = t.get(end..)?;
    }
    Some(out)
}

#[cfg(test)]
#[path = "usb_id_tests.rs"]
mod tests;
