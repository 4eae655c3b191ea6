//! The client side of udevd 252's control protocol (`src/udev/udev-ctrl.c`), which
//! devmaster's daemon serves on the `SOCK_SEQPACKET` socket `/run/udev/control`.
//!
//! A message is one 280-byte packet, a C struct in the host's byte order: `version`, 16
//! bytes (`"udev-252"`, NUL-padded; nobody checks it), `magic` (`0xdead1dea`), `type` (an
//! `int`: 0 end of messages, 1 set log level, 2 stop exec queue, 3 start exec queue,
//! 4 reload, 5 set env, 6 set children max, 7 ping, 8 exit), then a 256-byte union of an
//! `int` (log level, children max) and a NUL-terminated string (`KEY=VALUE` of set env, cut
//! to 255 bytes). The client connects on its first message, sends its requests, and to wait
//! for the daemon sends "end of messages" and waits until the daemon closes the connection
//! (after an exit request it only waits). The daemon checks that the peer is root.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

// The packets are the daemon's (one definition of the wire format for both ends).
pub use crate::daemon::ctrl::{decode, encode, Request as Message, MAGIC, SIZE};

/// A connection to the daemon, opened by the first message.
#[derive(Debug)]
pub struct Client {
    path: PathBuf,
    sock: Option<OwnedFd>,
    maybe_disconnected: bool,
}

impl Client {
    /// A client of the socket at `path` (not connected yet).
    pub fn new(path: &Path) -> Client {
        Client {
            path: path.to_path_buf(),
            sock: None,
            maybe_disconnected: false,
        }
    }

    /// Sends one message, connecting first if needed. After [`Message::Exit`] nothing more
    /// can be sent (`ENOANO`, as udevadm).
    pub fn send(&mut self, m: &Message) -> io::Result<()> {
        if self.maybe_disconnected {
            return Err(io::Error::from_raw_os_error(55));
        }
        if self.sock.is_none() {
            self.sock = Some(sys::seqpacket::connect(&self.path)?);
        }
        if let Some(s) = &self.sock {
            sys::seqpacket::send(s.as_fd(), &encode(m), None)?;
        }
        if *m == Message::Exit {
            self.maybe_disconnected = true;
        }
        Ok(())
    }

    /// udevadm's `udev_ctrl_wait`: unless the daemon was told to exit, sends "end of
    /// messages"; then waits at most `timeout_usec` (`u64::MAX`: forever, 0: not at all)
    /// for the daemon to close the connection. Not connected: nothing to wait for.
    pub fn wait(&mut self, timeout_usec: u64) -> io::Result<()> {
        if self.sock.is_none() {
            return Ok(());
        }
        if !self.maybe_disconnected {
            self.send(&Message::EndMessages)?;
        }
        if timeout_usec == 0 {
            return Ok(());
        }
        let Some(s) = &self.sock else { return Ok(()) };
        let deadline = super::wait::Deadline::after(timeout_usec);
        loop {
            let mut fds = [sys::event::PollFd::new(s.as_raw_fd(), sys::event::READABLE)];
            let ms = if deadline.infinite() {
                None
            } else {
                Some(deadline.ms_left(u32::MAX))
            };
            sys::event::poll(&mut fds, ms)?;
            if fds.iter().any(|f| f.readable()) {
                return Ok(());
            }
            if deadline.passed() {
                return Err(io::Error::from_raw_os_error(110));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_udev_ctrl_wire() {
        // Offsets of systemd 252's UdevCtrlMessageWire on Linux: version[16], magic at 16,
        // type at 20, value union at 24, 280 bytes in all.
        let p = encode(&Message::SetChildrenMax(7));
        assert_eq!(&p[..9], b"udev-252\0");
        assert_eq!(
            u32::from_ne_bytes(p[16..20].try_into().unwrap()),
            0xdead1dea
        );
        assert_eq!(i32::from_ne_bytes(p[20..24].try_into().unwrap()), 6);
        assert_eq!(i32::from_ne_bytes(p[24..28].try_into().unwrap()), 7);
        let e = encode(&Message::SetEnv("A=b".into()));
        assert_eq!(&e[24..28], b"A=b\0");
        let long = "K=".to_string() + &"v".repeat(300);
        let e = encode(&Message::SetEnv(long));
        assert_eq!(e[24 + 254], b'v');
        assert_eq!(e[24 + 255], 0);
        for m in [
            Message::EndMessages,
            Message::SetLogLevel(3),
            Message::StopExecQueue,
            Message::StartExecQueue,
            Message::Reload,
            Message::SetEnv("FOO=bar".into()),
            Message::SetChildrenMax(4),
            Message::Ping,
            Message::Exit,
        ] {
            assert_eq!(decode(&encode(&m)).ok(), Some(m));
        }
        assert!(decode(&[0u8; 10]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = decode(&bytes);
        }
    }
}
