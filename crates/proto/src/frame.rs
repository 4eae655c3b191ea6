//! Framing: each message is one JSON document followed by a NUL byte. JSON never contains
//! a raw NUL (serde_json escapes control characters), so the NUL is an unambiguous end.
//!
//! The decoder is written for an untrusted peer: it never buffers more than
//! [`MAX_MESSAGE`] bytes of one message, and every way a frame can be wrong (too long, not
//! UTF-8, not JSON, not a known message, another version) is an error value, never a panic.
//! A message of the wrong shape is reported with the path of the field at fault
//! (`params.units[0]: invalid type: integer `1`, expected a string`), so that the peer can
//! tell what to fix.

use crate::{Call, Request, MAX_MESSAGE, VERSION};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// No NUL within [`MAX_MESSAGE`] bytes; the connection should be closed.
    TooLong,
    /// The frame is not a JSON object of the expected shape.
    Malformed(String),
    /// The peer speaks another protocol version.
    Version(u32),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLong => write!(f, "message longer than {MAX_MESSAGE} bytes"),
            FrameError::Malformed(m) => write!(f, "malformed message: {m}"),
            FrameError::Version(v) => {
                write!(
                    f,
                    "protocol version {v} is not supported (this side speaks {VERSION})"
                )
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// Serialises a message and appends the NUL terminator.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, FrameError> {
    let mut bytes =
        serde_json::to_vec(message).map_err(|e| FrameError::Malformed(e.to_string()))?;
    bytes.push(0);
    if bytes.len() > MAX_MESSAGE {
        return Err(FrameError::TooLong);
    }
    Ok(bytes)
}

/// Parses one frame (without its NUL), checking the version before the shape, so that a
/// message from a newer peer is reported as a version problem rather than as garbage.
pub fn decode<T: DeserializeOwned>(frame: &[u8]) -> Result<T, FrameError> {
    #[derive(Deserialize)]
    struct Versioned {
        version: u32,
    }
    let head: Versioned = serde_json::from_slice(frame).map_err(|e| malformed(frame, &e))?;
    if head.version != VERSION {
        return Err(FrameError::Version(head.version));
    }
    serde_json::from_slice(frame).map_err(|e| malformed(frame, &e))
}

/// [`decode`] for the requests a server reads, with the path of a field of the wrong shape
/// in the error. A request's call is flattened into it, and serde reports errors inside a
/// flattened part without a position; so the call is parsed again on its own, where the
/// position, and with it the field, is known.
pub fn decode_request(frame: &[u8]) -> Result<Request, FrameError> {
    let err = match decode::<Request>(frame) {
        Ok(request) => return Ok(request),
        Err(FrameError::Malformed(m)) => m,
        Err(other) => return Err(other),
    };
    let Ok(serde_json::Value::Object(doc)) = serde_json::from_slice::<serde_json::Value>(frame)
    else {
        return Err(FrameError::Malformed(err));
    };
    let mut call = serde_json::Map::new();
    for key in ["method", "params"] {
        if let Some(v) = doc.get(key) {
            call.insert(key.to_string(), v.clone());
        }
    }
    let Ok(text) = serde_json::to_vec(&serde_json::Value::Object(call)) else {
        return Err(FrameError::Malformed(err));
    };
    match serde_json::from_slice::<Call>(&text) {
        Err(e) if matches!(e.classify(), serde_json::error::Category::Data) => {
            Err(malformed(&text, &e))
        }
        _ => Err(FrameError::Malformed(err)),
    }
}

/// A parse error as [`FrameError::Malformed`]: for a document of the wrong shape, prefixed
/// with the path of the field the parser was at, and without serde's position suffix.
fn malformed(frame: &[u8], e: &serde_json::Error) -> FrameError {
    let text = e.to_string();
    let message = match text.rsplit_once(" at line ") {
        Some((head, _)) if e.line() > 0 => head.to_string(),
        _ => text,
    };
    if !matches!(e.classify(), serde_json::error::Category::Data) {
        return FrameError::Malformed(message);
    }
    // The byte offset of the error's line and column (both counted from 1).
    let line_start = frame
        .split_inclusive(|&b| b == b'\n')
        .take(e.line().saturating_sub(1))
        .map(<[u8]>::len)
        .sum::<usize>();
    let at = line_start + e.column();
    match json_path(frame, at) {
        path if path.is_empty() => FrameError::Malformed(message),
        path => FrameError::Malformed(format!("{path}: {message}")),
    }
}

/// Where the first `at` bytes of a JSON document end, as a path of object keys and array
/// indexes (`params.units[2]`); empty at the top level. The document is valid JSON (only
/// shape errors are located), so a light scan of its structure is enough.
fn json_path(text: &[u8], at: usize) -> String {
    enum Level {
        /// Inside an object: the key of the member being read, if past its `:`.
        Object(Option<String>, bool),
        Array(usize),
    }
    let mut stack: Vec<Level> = Vec::new();
    let end = at.min(text.len());
    let mut i = 0;
    while i < end {
        let Some(&b) = text.get(i) else {
            break;
        };
        match b {
            b'{' => stack.push(Level::Object(None, true)),
            b'[' => stack.push(Level::Array(0)),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Level::Object(key, expecting_key)) => {
                    *key = None;
                    *expecting_key = true;
                }
                Some(Level::Array(n)) => *n += 1,
                None => {}
            },
            b':' => {
                if let Some(Level::Object(_, expecting_key)) = stack.last_mut() {
                    *expecting_key = false;
                }
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while let Some(&c) = text.get(j) {
                    match c {
                        b'\\' => j += 2,
                        b'"' => break,
                        _ => j += 1,
                    }
                }
                if let Some(Level::Object(key, true)) = stack.last_mut() {
                    let raw = text.get(start..j.min(text.len())).unwrap_or_default();
                    *key = Some(String::from_utf8_lossy(raw).into_owned());
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for level in &stack {
        match level {
            Level::Object(Some(key), _) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Level::Object(None, _) => {}
            Level::Array(n) => path.push_str(&format!("[{n}]")),
        }
    }
    path
}

/// Splits a byte stream into frames.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no NUL, so a peer sending one byte at a time
    /// does not make every read rescan the whole buffer.
    scanned: usize,
    /// Set after [`FrameError::TooLong`]: the stream cannot be resynchronised.
    broken: bool,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Appends bytes read from the peer.
    pub fn push(&mut self, bytes: &[u8]) {
        if !self.broken {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// The next complete frame, if one has arrived: `Some(Ok(bytes))` without the NUL, or
    /// `Some(Err(TooLong))` (then forever) when a message exceeds the limit.
    pub fn next_frame(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        if self.broken {
            return Some(Err(FrameError::TooLong));
        }
        let nul = self
            .buf
            .iter()
            .skip(self.scanned)
            .position(|&b| b == 0)
            .map(|i| i + self.scanned);
        self.scanned = self.buf.len();
        match nul {
            Some(end) if end < MAX_MESSAGE => {
                let mut frame: Vec<u8> = self.buf.drain(..=end).collect();
                frame.pop();
                self.scanned = 0;
                Some(Ok(frame))
            }
            Some(_) => self.overflow(),
            None if self.buf.len() >= MAX_MESSAGE => self.overflow(),
            None => None,
        }
    }

    /// The next complete message, parsed as `T`.
    pub fn next_message<T: DeserializeOwned>(&mut self) -> Option<Result<T, FrameError>> {
        self.next_frame()
            .map(|f| f.and_then(|bytes| decode(&bytes)))
    }

    /// Bytes buffered of an incomplete message.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    fn overflow(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        self.broken = true;
        self.buf = Vec::new();
        self.scanned = 0;
        Some(Err(FrameError::TooLong))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JobMode, JobVerb};
    use proptest::prelude::*;

    fn request() -> Request {
        Request::new(Call::Job {
            verb: JobVerb::Start,
            units: vec!["a.service".into(), "b\0c.service".into()],
            mode: JobMode::Replace,
        })
    }

    #[test]
    fn round_trip_in_pieces() {
        let bytes = encode(&request()).unwrap();
        assert_eq!(
            bytes.iter().filter(|&&b| b == 0).count(),
            1,
            "NUL only at the end"
        );
        let mut d = Decoder::new();
        let (a, b) = bytes.split_at(7);
        d.push(a);
        assert!(d.next_message::<Request>().is_none());
        d.push(b);
        d.push(&encode(&Request::new(Call::Ping)).unwrap());
        assert_eq!(d.next_message::<Request>(), Some(Ok(request())));
        assert_eq!(
            d.next_message::<Request>(),
            Some(Ok(Request::new(Call::Ping)))
        );
        assert_eq!(d.next_message::<Request>(), None);
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn byte_at_a_time() {
        let mut bytes = encode(&request()).unwrap();
        bytes.extend(encode(&Request::new(Call::Ping)).unwrap());
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for b in bytes {
            d.push(&[b]);
            while let Some(m) = d.next_message::<Request>() {
                got.push(m.unwrap());
            }
        }
        assert_eq!(got, vec![request(), Request::new(Call::Ping)]);
    }

    #[test]
    fn bad_frames_are_errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"not json\0", "malformed"),
            (b"\xff\xfe\0", "malformed"),
            (b"{}\0", "malformed"),
            (b"{\"version\":1,\"method\":\"frobnicate\"}\0", "malformed"),
            (
                b"{\"version\":1,\"method\":\"job\",\"params\":{}}\0",
                "malformed",
            ),
            (b"{\"version\":2,\"method\":\"ping\"}\0", "version 2"),
            (b"[1,2,3]\0", "malformed"),
        ];
        for (bytes, want) in cases {
            let mut d = Decoder::new();
            d.push(bytes);
            let err = d.next_message::<Request>().unwrap().unwrap_err();
            assert!(err.to_string().contains(want), "{bytes:?}: {err}");
            // One bad message does not break the stream.
            d.push(&encode(&Request::new(Call::Ping)).unwrap());
            assert_eq!(
                d.next_message::<Request>(),
                Some(Ok(Request::new(Call::Ping)))
            );
        }
    }

    #[test]
    fn shape_errors_name_the_field() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"version":1,"method":"job","params":{"verb":"start","units":"x"}}"#,
                "malformed message: params.units: invalid type: string \"x\", expected a sequence",
            ),
            (
                r#"{"version":1,"method":"job","params":{"verb":"start","units":["a",1]}}"#,
                "malformed message: params.units[1]: invalid type: integer `1`, expected a string",
            ),
            (
                r#"{"version":1,"method":"job","params":{"verb":"begin","units":[]}}"#,
                "malformed message: params.verb: unknown variant `begin`, expected one of",
            ),
            (
                r#"{"version":1,"method":"job","params":{"verb":"start"}}"#,
                "malformed message: params: missing field `units`",
            ),
            (
                r#"{"version":1,"method":"kill","params":{"units":[],"signal":99999999999}}"#,
                "malformed message: params.signal: invalid value: integer `99999999999`, expected i32",
            ),
            (
                r#"{"version":1,"method":"status"}"#,
                "malformed message: missing field `params`",
            ),
            (
                r#"{"version":"1","method":"ping"}"#,
                "malformed message: version: invalid type: string \"1\", expected u32",
            ),
            (
                "{\"version\":1,\n\"method\":\"show\",\n\"params\":{\"units\":[],\"all\":\"yes\"}}",
                "malformed message: params.all: invalid type: string \"yes\", expected a boolean",
            ),
            ("{\"version\":1", "malformed message: EOF while parsing an object"),
        ];
        for (text, want) in cases {
            let err = decode_request(text.as_bytes()).unwrap_err().to_string();
            assert!(err.starts_with(want), "{text}\n  got: {err}\n want: {want}");
        }
    }

    #[test]
    fn oversized_messages_break_the_stream() {
        let mut d = Decoder::new();
        d.push(&vec![b' '; MAX_MESSAGE]);
        assert_eq!(d.next_frame(), Some(Err(FrameError::TooLong)));
        assert_eq!(d.pending(), 0, "the buffer is released");
        d.push(b"{\"version\":1,\"method\":\"ping\"}\0");
        assert_eq!(d.next_frame(), Some(Err(FrameError::TooLong)));
        // A terminated message that is too long is refused too.
        let mut d = Decoder::new();
        let mut big = vec![b' '; MAX_MESSAGE];
        big.push(0);
        d.push(&big);
        assert_eq!(d.next_frame(), Some(Err(FrameError::TooLong)));
    }

    #[test]
    fn encoding_refuses_oversized_messages() {
        let huge = Request::new(Call::Status {
            units: vec!["x".repeat(MAX_MESSAGE)],
        });
        assert_eq!(encode(&huge), Err(FrameError::TooLong));
    }

    proptest! {
        /// The control protocol's fuzz target: any byte stream, in any chunking, gives
        /// frames or errors and never panics.
        #[test]
        fn decoder_never_panics(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..32)
        ) {
            let mut d = Decoder::new();
            for c in &chunks {
                d.push(c);
                while let Some(r) = d.next_message::<Request>() {
                    if r == Err(FrameError::TooLong) {
                        break;
                    }
                }
            }
        }

        /// JSON-shaped garbage gets past the JSON parser and exercises the shape checks.
        #[test]
        fn json_like_input_never_panics(text in r#"\{"version":[0-9]{1,3},"method":"[a-z-]{0,12}","params":\{[a-z:",\[\]0-9 ]{0,40}\}\}"#) {
            let _ = decode::<Request>(text.as_bytes());
        }

        /// The field locator copes with any position in any text.
        #[test]
        fn json_path_never_panics(text in any::<Vec<u8>>(), at in 0usize..300) {
            let _ = json_path(&text, at);
        }
    }
}
