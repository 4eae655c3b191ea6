//! udevd's control protocol (systemd 252, src/udev/udev-ctrl.c), spoken on the
//! `SOCK_SEQPACKET` socket `/run/udev/control` by `udevadm control` and `udevadm settle`.
//!
//! Every packet is one C struct in host byte order: `char version[16]` (`"udev-252"`,
//! never checked), `unsigned magic` (`0xdead1dea`), an `int` message type and a 256-byte
//! union of an `int` and a NUL-terminated string — 280 bytes. Types: 0 end of messages,
//! 1 set log level, 2 stop exec queue, 3 start exec queue, 4 reload, 5 set env
//! (`KEY=VALUE`), 6 set children max, 7 ping, 8 exit. A client sends its requests, then
//! "end of messages", and waits for the daemon to close the connection: that close is the
//! only reply (for a ping it means every earlier uevent has been queued). Only root may
//! connect (checked by the daemon with `SO_PEERCRED`).

/// Size of one message.
pub const SIZE: usize = 280;
/// `UDEV_CTRL_MAGIC`.
pub const MAGIC: u32 = 0xdead_1dea;
const VALUE_AT: usize = 24;
const VALUE_SIZE: usize = 256;

/// One control request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// The client has sent everything; close the connection when done.
    EndMessages,
    SetLogLevel(i32),
    StopExecQueue,
    StartExecQueue,
    Reload,
    /// `KEY=VALUE`; an empty value removes the property.
    SetEnv(String),
    SetChildrenMax(i32),
    Ping,
    Exit,
    /// A type this version does not know (ignored, as udevd does).
    Unknown(i32),
}

/// Why a packet was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CtrlError {
    /// Shorter than the header.
    Short(usize),
    /// Wrong magic number.
    Magic(u32),
}

impl std::fmt::Display for CtrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CtrlError::Short(n) => write!(f, "message of {n} bytes is too short"),
            CtrlError::Magic(m) => write!(f, "Message magic 0x{m:08x} doesn't match"),
        }
    }
}

fn word(packet: &[u8], at: usize) -> Option<[u8; 4]> {
    match packet.get(at..at + 4)? {
        &[a, b, c, d] => Some([a, b, c, d]),
        _ => None,
    }
}

/// Decodes one packet. A packet shorter than 280 bytes but holding the header is read as
/// if zero-padded.
pub fn decode(packet: &[u8]) -> Result<Request, CtrlError> {
    let (Some(magic), Some(kind)) = (word(packet, 16), word(packet, 20)) else {
        return Err(CtrlError::Short(packet.len()));
    };
    let magic = u32::from_ne_bytes(magic);
    if magic != MAGIC {
        return Err(CtrlError::Magic(magic));
    }
    let int = word(packet, VALUE_AT).map(i32::from_ne_bytes).unwrap_or(0);
    Ok(match i32::from_ne_bytes(kind) {
        0 => Request::EndMessages,
        1 => Request::SetLogLevel(int),
        2 => Request::StopExecQueue,
        3 => Request::StartExecQueue,
        4 => Request::Reload,
        5 => {
            let value = packet.get(VALUE_AT..).unwrap_or_default();
            let value = value.get(..VALUE_SIZE).unwrap_or(value);
            let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
            let text = value.get(..end).unwrap_or_default();
            Request::SetEnv(String::from_utf8_lossy(text).into_owned())
        }
        6 => Request::SetChildrenMax(int),
        7 => Request::Ping,
        8 => Request::Exit,
        other => Request::Unknown(other),
    })
}

/// Encodes a request as udevadm does (for our own clients and tests).
pub fn encode(request: &Request) -> Vec<u8> {
    let mut p = vec![0u8; SIZE];
    let version = b"udev-252";
    if let Some(v) = p.get_mut(..version.len()) {
        v.copy_from_slice(version);
    }
    let (kind, int, text): (i32, i32, &str) = match request {
        Request::EndMessages => (0, 0, ""),
        Request::SetLogLevel(l) => (1, *l, ""),
        Request::StopExecQueue => (2, 0, ""),
        Request::StartExecQueue => (3, 0, ""),
        Request::Reload => (4, 0, ""),
        Request::SetEnv(s) => (5, 0, s.as_str()),
        Request::SetChildrenMax(n) => (6, *n, ""),
        Request::Ping => (7, 0, ""),
        Request::Exit => (8, 0, ""),
        Request::Unknown(k) => (*k, 0, ""),
    };
    let mut put = |at: usize, bytes: &[u8]| {
        if let Some(dst) = p.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    };
    put(16, &MAGIC.to_ne_bytes());
    put(20, &kind.to_ne_bytes());
    if text.is_empty() {
        put(VALUE_AT, &int.to_ne_bytes());
    } else {
        // Truncated to leave room for the NUL, as udevadm's strscpy does.
        let bytes = text.as_bytes();
        put(VALUE_AT, bytes.get(..VALUE_SIZE - 1).unwrap_or(bytes));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A packet laid out by hand from udev-ctrl.c's `UdevCtrlMessageWire`.
    fn wire(kind: i32, value: &[u8]) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(b"udev-252\0\0\0\0\0\0\0\0");
        p.extend_from_slice(&0xdead1deau32.to_ne_bytes());
        p.extend_from_slice(&kind.to_ne_bytes());
        let mut v = value.to_vec();
        v.resize(256, 0);
        p.extend_from_slice(&v);
        p
    }

    #[test]
    fn requests_from_the_c_layout() {
        let cases: Vec<(Vec<u8>, Request)> = vec![
            (wire(0, &[]), Request::EndMessages),
            (wire(1, &7i32.to_ne_bytes()), Request::SetLogLevel(7)),
            (wire(2, &[]), Request::StopExecQueue),
            (wire(3, &[]), Request::StartExecQueue),
            (wire(4, &[]), Request::Reload),
            (wire(5, b"FOO=bar"), Request::SetEnv("FOO=bar".into())),
            (wire(6, &4i32.to_ne_bytes()), Request::SetChildrenMax(4)),
            (wire(7, &[]), Request::Ping),
            (wire(8, &[]), Request::Exit),
            (wire(42, &[]), Request::Unknown(42)),
        ];
        for (packet, want) in cases {
            assert_eq!(packet.len(), SIZE);
            assert_eq!(decode(&packet), Ok(want.clone()));
            assert_eq!(encode(&want), packet, "{want:?}");
        }
    }

    #[test]
    fn bad_packets() {
        // What follows the NUL of a string is not part of it.
        assert_eq!(
            decode(&wire(5, b"A=b\0junk")),
            Ok(Request::SetEnv("A=b".into()))
        );
        assert_eq!(decode(&[0; 23]), Err(CtrlError::Short(23)));
        let mut p = wire(7, &[]);
        p[16] ^= 1;
        assert!(matches!(decode(&p), Err(CtrlError::Magic(_))));
        // Header only: the value reads as zero.
        assert_eq!(decode(&wire(6, &[])[..24]), Ok(Request::SetChildrenMax(0)));
        // A value without NUL takes the whole buffer.
        assert_eq!(
            decode(&wire(5, &[b'x'; 256])),
            Ok(Request::SetEnv("x".repeat(256)))
        );
        assert_eq!(
            decode(&encode(&Request::SetEnv("y".repeat(300)))),
            Ok(Request::SetEnv("y".repeat(255)))
        );
    }

    proptest! {
        #[test]
        fn arbitrary_packets_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn magic_packets_decode(kind in 0i32..10, value in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut p = wire(kind, &[]);
            p.truncate(24);
            p.extend_from_slice(&value);
            prop_assert!(decode(&p).is_ok());
        }
    }
}
