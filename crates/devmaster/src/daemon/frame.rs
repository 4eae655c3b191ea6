//! The wire format between the daemon and its worker processes, over a stream socket:
//! each message is a little-endian `u32` length followed by that many bytes of payload.
//! A payload starts with a tag byte:
//!
//! - `1` event (daemon → worker): `u64` SEQNUM, ACTION, DEVPATH, a `u32` count and that
//!   many KEY, VALUE pairs (the event's properties);
//! - `2` reply (worker → daemon): `u64` SEQNUM, an outcome byte (0 processed, 1 failed,
//!   2 the disk is locked), a watch byte (0 leave as is, 1 stop watching, 2 watch the
//!   device node).
//!
//! Strings are a `u32` length and UTF-8 bytes. The decoder takes bytes as they arrive and
//! never panics; any malformed frame is an error after which the stream is not trusted
//! (the daemon then kills that worker). This is our own format: udevd hands devices to its
//! forked workers over netlink, which an exec'd worker cannot share.

use std::collections::BTreeMap;

use super::queue::Outcome;
use crate::worker::Event;

/// Largest payload accepted. A uevent is at most a few KiB (the kernel's buffer is 2 KiB
/// of environment); properties added by `udevadm control --property` stay far below this.
pub const MAX_FRAME: usize = 1 << 20;

const TAG_EVENT: u8 = 1;
const TAG_REPLY: u8 = 2;

/// A worker's answer about one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub seqnum: u64,
    pub outcome: Outcome,
    /// `OPTIONS+="watch"` result: `Some(true)` watch the node, `Some(false)` stop, `None`
    /// leave as it is.
    pub watch: Option<bool>,
}

/// One message in either direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Event(Event),
    Reply(Reply),
}

/// Why a stream is no longer trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    TooLong(usize),
    Malformed(&'static str),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLong(n) => write!(f, "frame of {n} bytes exceeds {MAX_FRAME}"),
            FrameError::Malformed(what) => write!(f, "malformed frame: {what}"),
        }
    }
}

/// The bytes of one message, length prefix included.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut p = Vec::new();
    match message {
        Message::Event(e) => {
            p.push(TAG_EVENT);
            p.extend_from_slice(&e.seqnum.to_le_bytes());
            put_str(&mut p, &e.action);
            put_str(&mut p, &e.devpath);
            put_len(&mut p, e.properties.len());
            for (k, v) in &e.properties {
                put_str(&mut p, k);
                put_str(&mut p, v);
            }
        }
        Message::Reply(r) => {
            p.push(TAG_REPLY);
            p.extend_from_slice(&r.seqnum.to_le_bytes());
            p.push(match r.outcome {
                Outcome::Processed => 0,
                Outcome::Failed => 1,
                Outcome::Locked => 2,
            });
            p.push(match r.watch {
                None => 0,
                Some(false) => 1,
                Some(true) => 2,
            });
        }
    }
    let mut out = Vec::with_capacity(p.len() + 4);
    put_len(&mut out, p.len());
    out.extend_from_slice(&p);
    out
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// Reassembles messages from a byte stream.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Whether part of a message is waiting for more bytes.
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty()
    }

    /// The next complete message, `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, FrameError> {
        let Some(&[a, b, c, d]) = self.buf.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_le_bytes([a, b, c, d]) as usize;
        if len > MAX_FRAME {
            return Err(FrameError::TooLong(len));
        }
        let Some(payload) = self.buf.get(4..4 + len) else {
            return Ok(None);
        };
        let message = parse(payload)?;
        self.buf.drain(..4 + len);
        Ok(Some(message))
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FrameError> {
        let Some((head, rest)) = self.bytes.split_at_checked(n) else {
            return Err(FrameError::Malformed("truncated"));
        };
        self.bytes = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, FrameError> {
        Ok(self.take(1)?.first().copied().unwrap_or(0))
    }

    fn u32(&mut self) -> Result<u32, FrameError> {
        let b = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_le_bytes(a))
    }

    fn u64(&mut self) -> Result<u64, FrameError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn string(&mut self) -> Result<String, FrameError> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| FrameError::Malformed("string is not UTF-8"))
    }
}

fn parse(payload: &[u8]) -> Result<Message, FrameError> {
    let mut r = Reader { bytes: payload };
    let message = match r.u8()? {
        TAG_EVENT => {
            let seqnum = r.u64()?;
            let action = r.string()?;
            let devpath = r.string()?;
            let count = r.u32()?;
            let mut properties = BTreeMap::new();
            for _ in 0..count {
                let k = r.string()?;
                let v = r.string()?;
                properties.insert(k, v);
            }
            Message::Event(Event {
                seqnum,
                action,
                devpath,
                properties,
            })
        }
        TAG_REPLY => {
            let seqnum = r.u64()?;
            let outcome = match r.u8()? {
                0 => Outcome::Processed,
                1 => Outcome::Failed,
                2 => Outcome::Locked,
                _ => return Err(FrameError::Malformed("unknown outcome")),
            };
            let watch = match r.u8()? {
                0 => None,
                1 => Some(false),
                2 => Some(true),
                _ => return Err(FrameError::Malformed("unknown watch value")),
            };
            Message::Reply(Reply {
                seqnum,
                outcome,
                watch,
            })
        }
        _ => return Err(FrameError::Malformed("unknown message tag")),
    };
    if !r.bytes.is_empty() {
        return Err(FrameError::Malformed("trailing bytes"));
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event() -> Event {
        Event {
            seqnum: 4711,
            action: "add".into(),
            devpath: "/devices/virtual/block/loop0".into(),
            properties: [("ACTION", "add"), ("DEVNAME", "loop0"), ("EMPTY", "")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn layout_of_a_reply() {
        let r = Message::Reply(Reply {
            seqnum: 0x0102,
            outcome: Outcome::Locked,
            watch: Some(true),
        });
        assert_eq!(
            encode(&r),
            [11, 0, 0, 0, 2, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 2, 2]
        );
    }

    #[test]
    fn messages_come_out_whole_and_in_order_from_a_trickle() {
        let msgs = [
            Message::Event(event()),
            Message::Reply(Reply {
                seqnum: 1,
                outcome: Outcome::Processed,
                watch: None,
            }),
        ];
        let bytes: Vec<u8> = msgs.iter().flat_map(encode).collect();
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for b in bytes {
            d.push(&[b]);
            while let Some(m) = d.next_message().unwrap() {
                out.push(m);
            }
        }
        assert_eq!(out, msgs);
        assert!(!d.has_partial());
    }

    #[test]
    fn bad_frames_are_errors() {
        let cases: &[(&[u8], FrameError)] = &[
            (&[0xff, 0xff, 0xff, 0x7f], FrameError::TooLong(0x7fff_ffff)),
            (
                &[1, 0, 0, 0, 9],
                FrameError::Malformed("unknown message tag"),
            ),
            (&[0, 0, 0, 0], FrameError::Malformed("truncated")),
            (&[2, 0, 0, 0, 2, 0], FrameError::Malformed("truncated")),
            (
                &[11, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0],
                FrameError::Malformed("unknown outcome"),
            ),
            (
                &[11, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3],
                FrameError::Malformed("unknown watch value"),
            ),
            (
                &[12, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                FrameError::Malformed("trailing bytes"),
            ),
        ];
        for (bytes, want) in cases {
            let mut d = Decoder::new();
            d.push(bytes);
            assert_eq!(d.next_message(), Err(want.clone()), "{bytes:?}");
        }
        // A string that is not UTF-8.
        let mut bad = encode(&Message::Event(Event {
            action: "ab".into(),
            ..Event::default()
        }));
        let at = bad.len() - 9;
        bad[at] = 0xff;
        let mut d = Decoder::new();
        d.push(&bad);
        assert_eq!(
            d.next_message(),
            Err(FrameError::Malformed("string is not UTF-8"))
        );
    }

    fn arb_message() -> impl Strategy<Value = Message> {
        let event = (
            any::<u64>(),
            ".*",
            ".*",
            proptest::collection::btree_map(".*", ".*", 0..8),
        )
            .prop_map(|(seqnum, action, devpath, properties)| {
                Message::Event(Event {
                    seqnum,
                    action,
                    devpath,
                    properties,
                })
            });
        let reply = (any::<u64>(), 0u8..3, proptest::option::of(any::<bool>())).prop_map(
            |(seqnum, o, watch)| {
                Message::Reply(Reply {
                    seqnum,
                    outcome: [Outcome::Processed, Outcome::Failed, Outcome::Locked][o as usize],
                    watch,
                })
            },
        );
        prop_oneof![event, reply]
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..512),
            cut in any::<usize>(),
        ) {
            let cut = cut % (bytes.len() + 1);
            let mut d = Decoder::new();
            d.push(&bytes[..cut]);
            while let Ok(Some(_)) = d.next_message() {}
            d.push(&bytes[cut..]);
            while let Ok(Some(_)) = d.next_message() {}
        }

        #[test]
        fn round_trip_split_anywhere(
            msgs in proptest::collection::vec(arb_message(), 1..4),
            cut in any::<usize>(),
        ) {
            let bytes: Vec<u8> = msgs.iter().flat_map(encode).collect();
            let cut = cut % (bytes.len() + 1);
            let mut d = Decoder::new();
            let mut out = Vec::new();
            for part in [&bytes[..cut], &bytes[cut..]] {
                d.push(part);
                while let Some(m) = d.next_message().unwrap() {
                    out.push(m);
                }
            }
            prop_assert_eq!(out, msgs);
        }
    }
}
