//! The kernel's uevent datagrams as they arrive on `NETLINK_KOBJECT_UEVENT` group 1:
//! a header `ACTION@DEVPATH`, then `KEY=VALUE` entries, every one NUL-terminated
//! (`add@/devices/virtual/net/lo\0ACTION=add\0DEVPATH=/devices/virtual/net/lo\0...`).
//! Writing `add` or `change` to a device's `uevent` file (`udevadm trigger`, `devctl trigger`)
//! makes the kernel send the same kind of datagram, with `SYNTH_UUID` and `SYNTH_ARG_*` keys
//! when a UUID was written.
//!
//! [`parse`] checks what sd-device checks when it builds a device from a datagram (systemd
//! 252, `device_new_from_nulstr`): every entry is `KEY=VALUE`, `ACTION` is one of udev's eight
//! actions, `DEVPATH` and `SUBSYSTEM` are present, `SEQNUM` is a non-zero number, and
//! `MAJOR`/`MINOR`/`IFINDEX`/`DISKSEQ` are numbers where present; a value is cut at its first
//! newline as sd-device does, and `UDEV_DATABASE_VERSION` is taken out of the properties as
//! sd-device takes it. It also demands that the header agree with `ACTION` and
//! `DEVPATH`, which the kernel always ensures and libudev leaves unchecked. Non-UTF-8 bytes in
//! a value (device-supplied strings can carry them) are replaced rather than the whole event
//! dropped. [`Uevent::to_datagram`] writes the kernel's format back, for tests and for
//! synthesised events.

use std::collections::BTreeMap;

/// The actions sd-device knows (`sd_device_action_t`); any other makes the event invalid.
pub const ACTIONS: [&str; 8] = [
    "add", "remove", "change", "move", "online", "offline", "bind", "unbind",
];

/// The entry udevd 252 writes first in every message it broadcasts (`=1`: the database
/// format with current tags); sd-device consumes it, so it never becomes a property.
pub const DATABASE_VERSION_KEY: &str = "UDEV_DATABASE_VERSION";

/// One uevent: the kernel's, libudev's re-broadcast or a synthesised one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uevent {
    /// `ACTION`.
    pub action: String,
    /// `DEVPATH` (`/devices/...`).
    pub devpath: String,
    /// Every `KEY=VALUE`, `ACTION`, `DEVPATH`, `SUBSYSTEM` and `SEQNUM` included.
    pub properties: BTreeMap<String, String>,
}

impl Uevent {
    /// `SEQNUM`, when present and a number.
    pub fn seqnum(&self) -> Option<u64> {
        self.properties.get("SEQNUM")?.parse().ok()
    }

    /// The value of property `key`.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(String::as_str)
    }

    /// `SUBSYSTEM` (always present in a parsed event).
    pub fn subsystem(&self) -> Option<&str> {
        self.property("SUBSYSTEM")
    }

    /// `DEVTYPE`, when the device has one.
    pub fn devtype(&self) -> Option<&str> {
        self.property("DEVTYPE")
    }

    /// The device's tags: the union of the `:`-separated `TAGS` and `CURRENT_TAGS`, as
    /// sd-device reads them (empty words skipped).
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        let all = self.property("TAGS").unwrap_or("").split(':');
        let current = self.property("CURRENT_TAGS").unwrap_or("").split(':');
        all.chain(current).filter(|t| !t.is_empty())
    }

    /// The kernel's datagram for this event: `action@devpath`, then `ACTION`, `DEVPATH`,
    /// `SUBSYSTEM`, the other properties in key order and `SEQNUM` last, as the kernel orders
    /// them. `ACTION` and `DEVPATH` come from the fields, not from `properties`.
    pub fn to_datagram(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut entry = |k: &str, v: &str| {
            out.extend_from_slice(k.as_bytes());
            out.push(b'=');
            out.extend_from_slice(v.as_bytes());
            out.push(0);
        };
        entry("ACTION", &self.action);
        entry("DEVPATH", &self.devpath);
        let first = ["ACTION", "DEVPATH", "SUBSYSTEM", "SEQNUM"];
        if let Some(s) = self.properties.get("SUBSYSTEM") {
            entry("SUBSYSTEM", s);
        }
        for (k, v) in self
            .properties
            .iter()
            .filter(|(k, _)| !first.contains(&k.as_str()))
        {
            entry(k, v);
        }
        if let Some(s) = self.properties.get("SEQNUM") {
            entry("SEQNUM", s);
        }
        let mut datagram = format!("{}@{}\0", self.action, self.devpath).into_bytes();
        datagram.extend_from_slice(&out);
        datagram
    }
}

/// Parses a kernel uevent datagram; the error says what is wrong with it.
pub fn parse(datagram: &[u8]) -> Result<Uevent, String> {
    let Some(nul) = datagram.iter().position(|&b| b == 0) else {
        return Err("uevent has no NUL-terminated ACTION@DEVPATH header".into());
    };
    let (header, rest) = datagram.split_at(nul);
    let header =
        std::str::from_utf8(header).map_err(|_| "uevent header is not UTF-8".to_string())?;
    let Some((action, devpath)) = header.split_once('@') else {
        return Err(format!("uevent header {header:?} is not ACTION@DEVPATH"));
    };
    if !devpath.starts_with('/') {
        return Err(format!(
            "uevent header {header:?}: DEVPATH does not start with '/'"
        ));
    }
    let ev = from_nulstr(rest.get(1..).unwrap_or_default())?;
    if ev.action != action {
        return Err(format!(
            "uevent header says action {action:?} but ACTION={:?}",
            ev.action
        ));
    }
    if ev.devpath != devpath {
        return Err(format!(
            "uevent header says devpath {devpath:?} but DEVPATH={:?}",
            ev.devpath
        ));
    }
    Ok(ev)
}

/// Builds an event from NUL-terminated `KEY=VALUE` entries (a kernel datagram after its
/// header, or a libudev message's property buffer) and checks it as sd-device does.
pub(crate) fn from_nulstr(bytes: &[u8]) -> Result<Uevent, String> {
    let mut properties = BTreeMap::new();
    // The kernel ends every entry with NUL; anything after the last NUL was cut off.
    let body = match bytes.iter().rposition(|&b| b == 0) {
        Some(last) if last + 1 == bytes.len() => bytes.get(..last).unwrap_or_default(),
        _ if bytes.is_empty() => bytes,
        _ => return Err("uevent's last property is not NUL-terminated".into()),
    };
    // Trailing NULs are padding (some senders round the buffer up); an empty entry
    // anywhere else is not a KEY=VALUE pair.
    let body = match body.iter().rposition(|&b| b != 0) {
        Some(end) => body.get(..=end).unwrap_or_default(),
        None => &[],
    };
    if !body.is_empty() {
        for entry in body.split(|&b| b == 0) {
            let entry = String::from_utf8_lossy(entry);
            let Some((key, value)) = entry.split_once('=') else {
                return Err(format!("uevent entry {entry:?} is not KEY=VALUE"));
            };
            if key.is_empty() {
                return Err(format!("uevent entry {entry:?} has an empty key"));
            }
            // sd-device drops a newline some drivers leave at the end of a value, and
            // whatever follows it.
            let value = value.split('\n').next().unwrap_or_default();
            // sd-device takes this one (which udevd 252 puts first in every broadcast) as
            // the database format version, not as a property.
            if key == DATABASE_VERSION_KEY {
                if value.parse::<u32>().is_err() {
                    return Err(format!("uevent {key}={value:?} is not a number"));
                }
                continue;
            }
            properties.insert(key.to_string(), value.to_string());
        }
    }
    let get = |k: &str| properties.get(k).map(String::as_str);
    let action = get("ACTION").ok_or("uevent has no ACTION")?.to_string();
    if !ACTIONS.contains(&action.as_str()) {
        return Err(format!("uevent has unknown ACTION={action:?}"));
    }
    let devpath = get("DEVPATH").ok_or("uevent has no DEVPATH")?.to_string();
    if !devpath.starts_with('/') {
        return Err(format!(
            "uevent DEVPATH={devpath:?} does not start with '/'"
        ));
    }
    match get("SUBSYSTEM") {
        None | Some("") => return Err("uevent has no SUBSYSTEM".into()),
        Some(_) => {}
    }
    match get("SEQNUM").map(str::parse::<u64>) {
        None => return Err("uevent has no SEQNUM".into()),
        Some(Ok(n)) if n > 0 => {}
        Some(_) => {
            return Err(format!(
                "uevent SEQNUM={:?} is not a positive number",
                get("SEQNUM").unwrap_or_default()
            ))
        }
    }
    for key in ["MAJOR", "MINOR", "IFINDEX", "DISKSEQ"] {
        if let Some(v) = get(key) {
            if v.parse::<u64>().is_err() {
                return Err(format!("uevent {key}={v:?} is not a number"));
            }
        }
    }
    Ok(Uevent {
        action,
        devpath,
        properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The kernel's datagram for `ip link add v0 type veth peer name v1` in a fresh network
    /// namespace, entries in the order `udevadm monitor --kernel --property` (systemd 252)
    /// printed them on this machine's 6.18 kernel; SEQNUM from that capture.
    const VETH_ADD: &[u8] = b"add@/devices/virtual/net/v0\0ACTION=add\0\
        DEVPATH=/devices/virtual/net/v0\0SUBSYSTEM=net\0INTERFACE=v0\0IFINDEX=3\0SEQNUM=899\0";

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn kernel_datagram_parses_into_its_properties() {
        let ev = parse(VETH_ADD).unwrap();
        assert_eq!(ev.action, "add");
        assert_eq!(ev.devpath, "/devices/virtual/net/v0");
        assert_eq!(ev.seqnum(), Some(899));
        assert_eq!(ev.subsystem(), Some("net"));
        assert_eq!(
            ev.properties,
            props(&[
                ("ACTION", "add"),
                ("DEVPATH", "/devices/virtual/net/v0"),
                ("SUBSYSTEM", "net"),
                ("INTERFACE", "v0"),
                ("IFINDEX", "3"),
                ("SEQNUM", "899"),
            ])
        );
    }

    #[test]
    fn to_datagram_writes_the_kernel_layout_and_parses_back() {
        let ev = parse(VETH_ADD).unwrap();
        // Kernel order: ACTION, DEVPATH, SUBSYSTEM, the rest, SEQNUM; ours sorts "the rest".
        let expected: &[u8] = b"add@/devices/virtual/net/v0\0ACTION=add\0\
            DEVPATH=/devices/virtual/net/v0\0SUBSYSTEM=net\0IFINDEX=3\0INTERFACE=v0\0SEQNUM=899\0";
        assert_eq!(ev.to_datagram(), expected);
        assert_eq!(parse(&ev.to_datagram()).unwrap(), ev);
    }

    #[test]
    fn trigger_datagram_with_synth_uuid_is_accepted() {
        // What the kernel sends for `echo "change 1a2b... A=1" > .../uevent`
        // (Documentation/ABI/testing/sysfs-uevent): SYNTH_UUID and SYNTH_ARG_ keys.
        let d = b"change@/devices/virtual/block/loop0\0ACTION=change\0\
            DEVPATH=/devices/virtual/block/loop0\0SUBSYSTEM=block\0\
            SYNTH_UUID=fc4d2ab4-5a4b-4b7a-9a3f-0d7ae5e2b5a8\0SYNTH_ARG_A=1\0MAJOR=7\0MINOR=0\0\
            DEVNAME=loop0\0DEVTYPE=disk\0DISKSEQ=9\0SEQNUM=5000\0";
        let ev = parse(d).unwrap();
        assert_eq!(ev.action, "change");
        assert_eq!(ev.property("SYNTH_ARG_A"), Some("1"));
        assert_eq!(ev.devtype(), Some("disk"));
    }

    #[test]
    fn move_datagram_keeps_devpath_old() {
        // Captured as above after `ip link set v0 name w0`.
        let d = b"move@/devices/virtual/net/w0\0ACTION=move\0DEVPATH=/devices/virtual/net/w0\0\
            SUBSYSTEM=net\0DEVPATH_OLD=/devices/virtual/net/v0\0INTERFACE=w0\0IFINDEX=3\0SEQNUM=908\0";
        let ev = parse(d).unwrap();
        assert_eq!(ev.action, "move");
        assert_eq!(ev.property("DEVPATH_OLD"), Some("/devices/virtual/net/v0"));
    }

    #[test]
    fn value_is_cut_at_its_first_newline() {
        let d = b"add@/d\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=s\0NAME=eth0\nrubbish\0SEQNUM=1\0";
        assert_eq!(parse(d).unwrap().property("NAME"), Some("eth0"));
    }

    #[test]
    fn tags_are_the_union_of_tags_and_current_tags() {
        let ev = Uevent {
            properties: props(&[("TAGS", ":seat:uaccess:"), ("CURRENT_TAGS", ":systemd:")]),
            ..Uevent::default()
        };
        assert_eq!(
            ev.tags().collect::<Vec<_>>(),
            ["seat", "uaccess", "systemd"]
        );
    }

    #[test]
    fn malformed_datagrams_are_rejected_with_the_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "no NUL-terminated"),
            (b"add@/d", "no NUL-terminated"),
            (b"libudev\0", "not ACTION@DEVPATH"),
            (b"add@d\0", "does not start with '/'"),
            (
                b"add@/d\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=1",
                "not NUL-terminated",
            ),
            (
                b"add@/d\0ACTION=add\0\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=1\0",
                "not KEY=VALUE",
            ),
            (
                b"add@/d\0ACTION=add\0=x\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=1\0",
                "empty key",
            ),
            (b"add@/d\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=1\0", "no ACTION"),
            (
                b"add@/d\0ACTION=frob\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=1\0",
                "unknown ACTION",
            ),
            (b"add@/d\0ACTION=add\0SUBSYSTEM=s\0SEQNUM=1\0", "no DEVPATH"),
            (
                b"add@/d\0ACTION=add\0DEVPATH=/d\0SEQNUM=1\0",
                "no SUBSYSTEM",
            ),
            (
                b"add@/d\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=\0SEQNUM=1\0",
                "no SUBSYSTEM",
            ),
            (
                b"add@/d\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=s\0",
                "no SEQNUM",
            ),
            (
                b"add@/d\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=x1\0",
                "not a positive",
            ),
            (
                b"add@/d\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=0\0",
                "not a positive",
            ),
            (
                b"add@/d\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=1\0MAJOR=8a\0",
                "MAJOR",
            ),
            (
                b"add@/d\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=1\0IFINDEX=-1\0",
                "IFINDEX",
            ),
            (
                b"remove@/d\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=1\0",
                "header says action",
            ),
            (
                b"add@/e\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=1\0",
                "header says devpath",
            ),
        ];
        for (bytes, want) in cases {
            let err = parse(bytes).unwrap_err();
            assert!(
                err.contains(want),
                "{:?}: error {err:?} lacks {want:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn database_version_is_consumed_not_kept() {
        let d = b"add@/d\0UDEV_DATABASE_VERSION=1\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=1\0";
        let ev = parse(d).unwrap();
        assert_eq!(ev.property(DATABASE_VERSION_KEY), None);
        assert_eq!(ev.properties.len(), 4);
        let d = b"add@/d\0UDEV_DATABASE_VERSION=x\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=1\0";
        assert!(parse(d).unwrap_err().contains("UDEV_DATABASE_VERSION"));
    }

    #[test]
    fn trailing_nul_padding_is_accepted() {
        let d = b"add@/d\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=s\0SEQNUM=1\0\0\0";
        assert_eq!(parse(d).unwrap().seqnum(), Some(1));
    }

    fn arb_uevent() -> impl Strategy<Value = Uevent> {
        let value = "[^\0\n]{0,12}";
        (
            proptest::sample::select(ACTIONS.to_vec()),
            "(/[a-z0-9:.]{1,8}){1,4}",
            "[a-z]{1,6}",
            1u64..u64::MAX,
            proptest::collection::btree_map("[A-Z_][A-Z0-9_.]{0,10}", value, 0..8),
        )
            .prop_map(|(action, devpath, subsystem, seqnum, extra)| {
                let mut properties: BTreeMap<String, String> = extra
                    .into_iter()
                    .filter(|(k, _)| {
                        !["MAJOR", "MINOR", "IFINDEX", "DISKSEQ"].contains(&k.as_str())
                    })
                    .collect();
                properties.insert("ACTION".into(), action.into());
                properties.insert("DEVPATH".into(), devpath.clone());
                properties.insert("SUBSYSTEM".into(), subsystem);
                properties.insert("SEQNUM".into(), seqnum.to_string());
                Uevent {
                    action: action.into(),
                    devpath,
                    properties,
                }
            })
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn parse_never_panics_on_near_valid_datagrams(
            ev in arb_uevent(), cut in 0usize..400, byte in any::<u8>()
        ) {
            let mut d = ev.to_datagram();
            let at = cut % d.len();
            d[at] = byte;
            let _ = parse(&d);
            d.truncate(at);
            let _ = parse(&d);
        }

        #[test]
        fn datagram_round_trips(ev in arb_uevent()) {
            prop_assert_eq!(parse(&ev.to_datagram()), Ok(ev));
        }
    }
}
