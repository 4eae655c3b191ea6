//! libudev's netlink message format: what systemd 252's udevd sends to the "udev"
//! multicast group (2) after processing an event, and what `udevadm monitor --udev`, libudev
//! and sd-device listeners read.
//!
//! A message is a fixed 40-byte header followed by the device's properties as NUL-terminated
//! `KEY=VALUE` entries, the first always `UDEV_DATABASE_VERSION=1` (as Debian's systemd 252
//! writes it; its listeners read it as the database format, not as a property). The header is `"libudev\0"`, the magic `0xfeedcafe`, then the header
//! size, the properties' offset and length (these three in the host's byte order, as sd-device
//! writes them), then MurmurHash2 (seed 0) of `SUBSYSTEM` and of `DEVTYPE` (0 without one) and
//! a 64-bit bloom filter of the device's tags split in a high and a low word. The magic, the
//! hashes and the bloom words are big-endian because listeners test them in a kernel socket
//! filter (classic BPF loads words in network order); [`Filter::prefilter`] is that filter's
//! logic and [`Filter::matches`] the exact check sd-device makes after it.
//!
//! [`decode`] accepts kernel datagrams too, as libudev does, and checks the properties as
//! [`crate::uevent`] does. Left out: sd-device's sysattr and parent filters (they need sysfs),
//! and the trusted unicast sender (libudev's unicast path between udevd and its workers).

use std::collections::{BTreeMap, BTreeSet};

use crate::uevent::{self, Uevent, DATABASE_VERSION_KEY};

/// The prefix that tells a libudev message from a kernel datagram.
pub const PREFIX: &[u8; 8] = b"libudev\0";
/// The header's magic, `UDEV_MONITOR_MAGIC`.
pub const MAGIC: u32 = 0xfeed_cafe;
/// The size of the header systemd writes (and the offset of its properties).
pub const HEADER_SIZE: usize = 40;

/// MurmurHash2 of `data` (Austin Appleby's 32-bit version), reading 4-byte blocks in the host's
/// byte order as systemd's copy does; udev uses seed 0.
pub fn murmur_hash2(data: &[u8], seed: u32) -> u32 {
    const M: u32 = 0x5bd1_e995;
    // The length enters as a C int: only its low 32 bits count.
    let mut h = seed ^ (data.len() as u32);
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_ne_bytes(block.try_into().unwrap_or([0; 4]));
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u32::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^ (h >> 15)
}

/// The hash udev puts in the header for a subsystem or devtype string.
pub fn string_hash(s: &str) -> u32 {
    murmur_hash2(s.as_bytes(), 0)
}

/// The four bloom bits of one tag: bits 0-5, 6-11, 12-17 and 18-23 of its hash, each taken as
/// a bit number in a 64-bit word.
pub fn tag_bloom(tag: &str) -> u64 {
    let h = string_hash(tag);
    [0, 6, 12, 18]
        .iter()
        .fold(0u64, |bits, shift| bits | 1u64 << ((h >> shift) & 63))
}

/// The header fields of a libudev message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Header size the sender knew (40 for every udev since 2009).
    pub header_size: u32,
    /// Where the properties start.
    pub properties_off: u32,
    /// How many bytes of properties follow.
    pub properties_len: u32,
    /// [`string_hash`] of `SUBSYSTEM`.
    pub subsystem_hash: u32,
    /// [`string_hash`] of `DEVTYPE`, or 0.
    pub devtype_hash: u32,
    /// The OR of [`tag_bloom`] over the device's tags.
    pub tag_bloom: u64,
}

fn word(bytes: &[u8], off: usize) -> Option<[u8; 4]> {
    bytes.get(off..off + 4)?.try_into().ok()
}

/// Reads a libudev message's header: `Ok(None)` when `bytes` is not a libudev message (no
/// `libudev\0` prefix), an error for a bad magic, a short header or properties that lie
/// outside the message.
pub fn header(bytes: &[u8]) -> Result<Option<Header>, String> {
    if !bytes.starts_with(PREFIX) {
        return Ok(None);
    }
    let be = |off| word(bytes, off).map(u32::from_be_bytes);
    let ne = |off| word(bytes, off).map(u32::from_ne_bytes);
    let short = || {
        format!(
            "libudev message of {} bytes is shorter than its 40-byte header",
            bytes.len()
        )
    };
    let magic = be(8).ok_or_else(short)?;
    if magic != MAGIC {
        return Err(format!(
            "libudev message has magic {magic:#010x}, not {MAGIC:#010x}"
        ));
    }
    let (Some(header_size), Some(properties_off), Some(properties_len)) = (ne(12), ne(16), ne(20))
    else {
        return Err(short());
    };
    let (Some(subsystem_hash), Some(devtype_hash), Some(hi), Some(lo)) =
        (be(24), be(28), be(32), be(36))
    else {
        return Err(short());
    };
    let (off, len) = (properties_off as usize, properties_len as usize);
    if off < HEADER_SIZE {
        return Err(format!(
            "libudev properties offset {off} points into the 40-byte header"
        ));
    }
    if off.checked_add(len).is_none_or(|end| end > bytes.len()) {
        return Err(format!(
            "libudev properties at {off}+{len} run past the message's {} bytes",
            bytes.len()
        ));
    }
    Ok(Some(Header {
        header_size,
        properties_off,
        properties_len,
        subsystem_hash,
        devtype_hash,
        tag_bloom: u64::from(hi) << 32 | u64::from(lo),
    }))
}

/// Encodes a processed device's properties (`ACTION`, `DEVPATH`, `SUBSYSTEM`, `SEQNUM`,
/// `DEVTYPE`, `TAGS`, ... included) as libudev sends them to the udev group. The header's
/// hashes come from `SUBSYSTEM` (hash 0 without one; listeners reject such a message) and
/// `DEVTYPE`, the bloom from the tags in `TAGS` and `CURRENT_TAGS`. The properties start, as
/// udevd 252's do, with `UDEV_DATABASE_VERSION=1` (the map's own such key is ignored), then
/// go out in key order; an entry that cannot be written (an empty key, or a key with `=` or NUL) is
/// skipped and a value is cut at a NUL, since neither survives the `KEY=VALUE\0` format.
pub fn encode(properties: &BTreeMap<String, String>) -> Vec<u8> {
    let mut body = format!("{DATABASE_VERSION_KEY}=1\0").into_bytes();
    for (key, value) in properties {
        if key.is_empty() || key.contains(['=', '\0']) || key == DATABASE_VERSION_KEY {
            continue;
        }
        let value = value.split('\0').next().unwrap_or_default();
        body.extend_from_slice(key.as_bytes());
        body.push(b'=');
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    }
    let get = |k: &str| properties.get(k).map(String::as_str);
    let tags = [get("TAGS"), get("CURRENT_TAGS")];
    let bloom = tags
        .iter()
        .flat_map(|t| t.unwrap_or("").split(':'))
        .filter(|t| !t.is_empty())
        .fold(0u64, |bits, tag| bits | tag_bloom(tag));
    let mut out = Vec::with_capacity(HEADER_SIZE + body.len());
    out.extend_from_slice(PREFIX);
    out.extend_from_slice(&MAGIC.to_be_bytes());
    out.extend_from_slice(&(HEADER_SIZE as u32).to_ne_bytes());
    out.extend_from_slice(&(HEADER_SIZE as u32).to_ne_bytes());
    out.extend_from_slice(&(body.len() as u32).to_ne_bytes());
    out.extend_from_slice(&string_hash(get("SUBSYSTEM").unwrap_or("")).to_be_bytes());
    out.extend_from_slice(&get("DEVTYPE").map_or(0, string_hash).to_be_bytes());
    out.extend_from_slice(&((bloom >> 32) as u32).to_be_bytes());
    out.extend_from_slice(&(bloom as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

/// Decodes a libudev message (or, as libudev also accepts, a kernel datagram).
pub fn decode(bytes: &[u8]) -> Result<Uevent, String> {
    match header(bytes)? {
        None => uevent::parse(bytes),
        Some(h) => {
            let (off, len) = (h.properties_off as usize, h.properties_len as usize);
            let props = bytes.get(off..off + len).unwrap_or_default();
            uevent::from_nulstr(props)
        }
    }
}

/// What a listener subscribes to, with sd-device monitor's semantics: an event passes when
/// it has at least one of the tags (or no tag match is set) and its subsystem, and devtype
/// where one is given, equals one of the subsystem matches (or none is set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    subsystems: BTreeMap<String, Option<String>>,
    tags: BTreeSet<String>,
}

impl Filter {
    /// A filter that passes everything.
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Adds a `SUBSYSTEM[/DEVTYPE]` match. Like sd-device, one subsystem holds one devtype:
    /// adding it again with a different devtype is refused (`false`, filter unchanged).
    pub fn match_subsystem(&mut self, subsystem: &str, devtype: Option<&str>) -> bool {
        match self.subsystems.get(subsystem) {
            Some(d) => d.as_deref() == devtype,
            None => {
                self.subsystems
                    .insert(subsystem.to_string(), devtype.map(str::to_string));
                true
            }
        }
    }

    /// Parses `devctl monitor --subsystem-match` / `udevadm monitor -s` syntax:
    /// `SUBSYSTEM` or `SUBSYSTEM/DEVTYPE` (split at the first `/`).
    pub fn match_subsystem_arg(&mut self, arg: &str) -> bool {
        match arg.split_once('/') {
            Some((s, d)) => self.match_subsystem(s, Some(d)),
            None => self.match_subsystem(arg, None),
        }
    }

    /// Adds a tag match.
    pub fn match_tag(&mut self, tag: &str) {
        self.tags.insert(tag.to_string());
    }

    /// True when no match is set (everything passes).
    pub fn is_empty(&self) -> bool {
        self.subsystems.is_empty() && self.tags.is_empty()
    }

    /// The cheap test sd-device runs in the kernel on the raw message: messages without the
    /// libudev magic pass (the exact check decides), tags are tested against the bloom
    /// filter, subsystem and devtype against their hashes. False positives are possible,
    /// false negatives are not. A message too short for a word the filter loads is dropped,
    /// as the kernel drops it.
    pub fn prefilter(&self, bytes: &[u8]) -> bool {
        if self.is_empty() {
            return true;
        }
        let be = |off| word(bytes, off).map(u32::from_be_bytes);
        match be(8) {
            None => return false,
            Some(m) if m != MAGIC => return true,
            Some(_) => {}
        }
        if !self.tags.is_empty() {
            let (Some(hi), Some(lo)) = (be(32), be(36)) else {
                return false;
            };
            let bloom = u64::from(hi) << 32 | u64::from(lo);
            if !self
                .tags
                .iter()
                .any(|t| bloom & tag_bloom(t) == tag_bloom(t))
            {
                return false;
            }
        }
        if !self.subsystems.is_empty() {
            let (Some(sub), dev) = (be(24), be(28)) else {
                return false;
            };
            return self.subsystems.iter().any(|(s, d)| {
                sub == string_hash(s) && d.as_deref().is_none_or(|d| dev == Some(string_hash(d)))
            });
        }
        true
    }

    /// The exact check on a decoded event.
    pub fn matches(&self, ev: &Uevent) -> bool {
        let subsystem_ok = self.subsystems.is_empty()
            || ev.subsystem().is_some_and(|sub| {
                self.subsystems
                    .get(sub)
                    .is_some_and(|d| d.as_deref().is_none_or(|d| ev.devtype() == Some(d)))
            });
        let tags_ok = self.tags.is_empty() || ev.tags().any(|t| self.tags.contains(t));
        subsystem_ok && tags_ok
    }

    /// Prefilter, decode and exact check in one: `Ok(None)` for an event the filter drops.
    pub fn accept(&self, bytes: &[u8]) -> Result<Option<Uevent>, String> {
        if !self.prefilter(bytes) {
            return Ok(None);
        }
        let ev = decode(bytes)?;
        Ok(self.matches(&ev).then_some(ev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// MurmurHash2 (seed 0) values computed with a separate, throw-away Python transcription
    /// of Appleby's published algorithm (little-endian blocks). "net", "block"/"disk" and the
    /// tag "systemd" are also checked end to end by the kernel socket filter that
    /// `udevadm monitor --subsystem-match/--tag-match` installs (tests/netlink.rs).
    const HASHES: &[(&str, u32, u64)] = &[
        ("", 0x0000_0000, 0x0000_0000_0000_0001),
        ("a", 0x9268_5f5e, 0x2000_0000_4400_0020),
        ("net", 0xa74d_3cc8, 0x0008_0000_0008_0100),
        ("block", 0xf003_1db7, 0x00c2_0000_0000_0001),
        ("disk", 0x7bcb_c5ee, 0x1004_4000_0080_0000),
        ("partition", 0xcb23_4489, 0x0010_0000_0004_0300),
        ("usb_device", 0x27f8_f50c, 0x4000_0000_0010_9000),
        ("systemd", 0xa75f_972a, 0x0200_0400_1080_0000),
        ("uaccess", 0xe88e_d0cc, 0x0000_2008_0000_1008),
        ("seat", 0x435b_3e40, 0x0208_0000_0040_0001),
    ];

    #[test]
    fn murmur_hash2_and_tag_bloom_match_reference_values() {
        for &(s, hash, bloom) in HASHES {
            assert_eq!(string_hash(s), hash, "hash of {s:?}");
            assert_eq!(tag_bloom(s), bloom, "bloom of {s:?}");
        }
    }

    fn disk_event() -> BTreeMap<String, String> {
        props(&[
            ("ACTION", "add"),
            ("DEVPATH", "/devices/virtual/block/loop0"),
            ("SUBSYSTEM", "block"),
            ("DEVTYPE", "disk"),
            ("SEQNUM", "7"),
            ("TAGS", ":systemd:"),
        ])
    }

    #[test]
    fn encode_writes_udevs_header_then_the_properties() {
        let msg = encode(&disk_event());
        let body: &[u8] = b"UDEV_DATABASE_VERSION=1\0ACTION=add\0DEVPATH=/devices/virtual/block/loop0\0DEVTYPE=disk\0\
            SEQNUM=7\0SUBSYSTEM=block\0TAGS=:systemd:\0";
        let mut want = b"libudev\0".to_vec();
        want.extend_from_slice(&[0xfe, 0xed, 0xca, 0xfe]);
        // header_size, properties_off, properties_len in host order (x86-64: little-endian).
        want.extend_from_slice(&40u32.to_ne_bytes());
        want.extend_from_slice(&40u32.to_ne_bytes());
        want.extend_from_slice(&(body.len() as u32).to_ne_bytes());
        want.extend_from_slice(&[0xf0, 0x03, 0x1d, 0xb7]); // "block"
        want.extend_from_slice(&[0x7b, 0xcb, 0xc5, 0xee]); // "disk"
        want.extend_from_slice(&[0x02, 0x00, 0x04, 0x00]); // bloom("systemd") >> 32
        want.extend_from_slice(&[0x10, 0x80, 0x00, 0x00]); // bloom("systemd") & 0xffffffff
        want.extend_from_slice(body);
        assert_eq!(msg, want);
        let h = header(&msg).unwrap().unwrap();
        assert_eq!((h.header_size, h.properties_off), (40, 40));
        assert_eq!(h.properties_len as usize, body.len());
        assert_eq!(h.tag_bloom, tag_bloom("systemd"));
    }

    #[test]
    fn encode_without_devtype_or_tags_leaves_their_words_zero() {
        let msg = encode(&props(&[
            ("ACTION", "add"),
            ("DEVPATH", "/devices/virtual/net/v0"),
            ("SUBSYSTEM", "net"),
            ("SEQNUM", "1"),
        ]));
        assert_eq!(&msg[24..28], &[0xa7, 0x4d, 0x3c, 0xc8]);
        assert_eq!(&msg[28..40], &[0; 12]);
    }

    #[test]
    fn decode_round_trips_a_libudev_message() {
        let ev = decode(&encode(&disk_event())).unwrap();
        assert_eq!(ev.action, "add");
        assert_eq!(ev.devpath, "/devices/virtual/block/loop0");
        assert_eq!(ev.properties, disk_event());
    }

    #[test]
    fn decode_accepts_kernel_datagrams() {
        let d = b"add@/devices/virtual/net/v0\0ACTION=add\0DEVPATH=/devices/virtual/net/v0\0\
            SUBSYSTEM=net\0INTERFACE=v0\0IFINDEX=3\0SEQNUM=899\0";
        assert_eq!(decode(d).unwrap(), uevent::parse(d).unwrap());
    }

    #[test]
    fn bad_messages_are_rejected_with_the_reason() {
        let good = encode(&disk_event());
        let with = |at: usize, bytes: &[u8]| {
            let mut m = good.clone();
            m[at..at + bytes.len()].copy_from_slice(bytes);
            m
        };
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"libudev\0".to_vec(), "shorter than its 40-byte header"),
            (good[..39].to_vec(), "shorter than its 40-byte header"),
            (with(8, &[0xca, 0xfe, 0xfe, 0xed]), "magic 0xcafefeed"),
            (
                with(16, &39u32.to_ne_bytes()),
                "points into the 40-byte header",
            ),
            (with(16, &4096u32.to_ne_bytes()), "run past"),
            (with(20, &u32::MAX.to_ne_bytes()), "run past"),
            (with(20, &0u32.to_ne_bytes()), "no ACTION"),
            (good[..good.len() - 1].to_vec(), "run past"),
        ];
        for (bytes, want) in cases {
            let err = decode(&bytes).unwrap_err();
            assert!(err.contains(want), "error {err:?} lacks {want:?}");
        }
    }

    #[test]
    fn filter_has_sd_device_monitor_semantics() {
        let disk = encode(&disk_event());
        let mut part = disk_event();
        part.insert("DEVTYPE".into(), "partition".into());
        part.remove("TAGS");
        let part = encode(&part);
        let kernel = uevent::Uevent {
            action: "add".into(),
            devpath: "/devices/virtual/block/loop0".into(),
            properties: props(&[("SUBSYSTEM", "block"), ("DEVTYPE", "disk"), ("SEQNUM", "1")]),
        }
        .to_datagram();

        let f = |subs: &[&str], tags: &[&str]| {
            let mut f = Filter::new();
            for s in subs {
                assert!(f.match_subsystem_arg(s));
            }
            for t in tags {
                f.match_tag(t);
            }
            f
        };
        let pass = |f: &Filter, m: &[u8]| f.accept(m).unwrap().is_some();
        // (filter, disk passes, partition passes, kernel datagram passes)
        let table = [
            (f(&[], &[]), true, true, true),
            (f(&["block"], &[]), true, true, true),
            (f(&["block/disk"], &[]), true, false, true),
            (f(&["block/partition"], &[]), false, true, false),
            (f(&["net"], &[]), false, false, false),
            (f(&["net", "block/disk"], &[]), true, false, true),
            (f(&[], &["systemd"]), true, false, false),
            (f(&[], &["seat", "systemd"]), true, false, false),
            (f(&[], &["seat"]), false, false, false),
            (f(&["block/disk"], &["systemd"]), true, false, false),
            (f(&["net"], &["systemd"]), false, false, false),
        ];
        for (i, (filter, d, p, k)) in table.iter().enumerate() {
            assert_eq!(pass(filter, &disk), *d, "row {i}: disk");
            assert_eq!(pass(filter, &part), *p, "row {i}: partition");
            assert_eq!(pass(filter, &kernel), *k, "row {i}: kernel");
        }
        // The prefilter lets kernel datagrams through; the exact check drops them.
        assert!(f(&["net"], &[]).prefilter(&kernel));
        assert!(!f(&["net"], &[]).prefilter(&disk));
    }

    #[test]
    fn a_subsystem_holds_one_devtype() {
        let mut f = Filter::new();
        assert!(f.match_subsystem("block", Some("disk")));
        assert!(f.match_subsystem("block", Some("disk")));
        assert!(!f.match_subsystem("block", None));
        assert!(!f.match_subsystem_arg("block/partition"));
    }

    #[test]
    fn prefilter_drops_what_the_kernel_filter_cannot_load() {
        let mut f = Filter::new();
        f.match_tag("systemd");
        assert!(!f.prefilter(b"libudev\0"));
        assert!(Filter::new().prefilter(b""));
    }

    fn arb_properties() -> impl Strategy<Value = BTreeMap<String, String>> {
        (
            proptest::sample::select(uevent::ACTIONS.to_vec()),
            "(/[a-z0-9:.]{1,8}){1,4}",
            "[a-z_]{1,8}",
            proptest::option::of("[a-z_]{1,8}"),
            proptest::collection::vec("[a-z]{1,6}", 0..4),
            1u64..u64::MAX,
            proptest::collection::btree_map("[A-Z_.][A-Z0-9_]{0,10}", "[^\0\n]{0,16}", 0..8),
        )
            .prop_map(
                |(action, devpath, subsystem, devtype, tags, seqnum, extra)| {
                    let mut p: BTreeMap<String, String> = extra
                        .into_iter()
                        .filter(|(k, _)| {
                            !["MAJOR", "MINOR", "IFINDEX", "DISKSEQ"].contains(&k.as_str())
                        })
                        .collect();
                    p.insert("ACTION".into(), action.into());
                    p.insert("DEVPATH".into(), devpath);
                    p.insert("SUBSYSTEM".into(), subsystem);
                    p.insert("SEQNUM".into(), seqnum.to_string());
                    if let Some(d) = devtype {
                        p.insert("DEVTYPE".into(), d);
                    }
                    if !tags.is_empty() {
                        p.insert("TAGS".into(), format!(":{}:", tags.join(":")));
                    } else {
                        p.remove("TAGS");
                    }
                    p.remove("CURRENT_TAGS");
                    p
                },
            )
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
            // Behind a valid prefix and magic, so that the header's fields are random.
            let mut msg = PREFIX.to_vec();
            msg.extend_from_slice(&MAGIC.to_be_bytes());
            msg.extend_from_slice(&bytes);
            let _ = decode(&msg);
            let mut f = Filter::new();
            f.match_tag("systemd");
            f.match_subsystem("block", Some("disk"));
            let _ = f.accept(&bytes);
            let _ = f.accept(&msg);
        }

        #[test]
        fn decode_never_panics_on_mangled_messages(
            p in arb_properties(), at in 0usize..600, byte in any::<u8>()
        ) {
            let mut m = encode(&p);
            let at = at % m.len();
            m[at] = byte;
            let _ = decode(&m);
            m.truncate(at);
            let _ = decode(&m);
        }

        #[test]
        fn encode_decode_round_trips(p in arb_properties()) {
            let ev = decode(&encode(&p)).unwrap();
            prop_assert_eq!(&ev.action, &p["ACTION"]);
            prop_assert_eq!(&ev.devpath, &p["DEVPATH"]);
            prop_assert_eq!(ev.properties, p);
        }

        #[test]
        fn prefilter_never_rejects_what_matches(p in arb_properties(), tag in "[a-z]{1,6}", sub in "[a-z_]{1,8}") {
            let msg = encode(&p);
            let ev = decode(&msg).unwrap();
            let mut f = Filter::new();
            f.match_tag(&tag);
            f.match_subsystem(&sub, None);
            if f.matches(&ev) {
                prop_assert!(f.prefilter(&msg));
            }
            let mut f = Filter::new();
            f.match_subsystem(ev.subsystem().unwrap(), ev.devtype());
            prop_assert!(f.prefilter(&msg) && f.matches(&ev));
        }
    }
}
