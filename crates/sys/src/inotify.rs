//! inotify(7): the daemon watches udev's rules directories (to reload rules) and device
//! nodes marked `OPTIONS+="watch"` (a close after writing means the content may have
//! changed, so a "change" uevent is synthesised). The descriptor is non-blocking and
//! close-on-exec; [`parse`] turns the kernel's buffer into events without trusting it.

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

pub const IN_MODIFY: u32 = libc::IN_MODIFY;
pub const IN_ATTRIB: u32 = libc::IN_ATTRIB;
pub const IN_CLOSE_WRITE: u32 = libc::IN_CLOSE_WRITE;
pub const IN_MOVED_FROM: u32 = libc::IN_MOVED_FROM;
pub const IN_MOVED_TO: u32 = libc::IN_MOVED_TO;
pub const IN_CREATE: u32 = libc::IN_CREATE;
pub const IN_DELETE: u32 = libc::IN_DELETE;
pub const IN_DELETE_SELF: u32 = libc::IN_DELETE_SELF;
pub const IN_MOVE_SELF: u32 = libc::IN_MOVE_SELF;
/// The watch is gone (its file was deleted or [`Inotify::remove_watch`] was called).
pub const IN_IGNORED: u32 = libc::IN_IGNORED;
/// Events were lost because the queue was full.
pub const IN_Q_OVERFLOW: u32 = libc::IN_Q_OVERFLOW;
pub const IN_ONLYDIR: u32 = libc::IN_ONLYDIR;

/// One inotify event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The watch descriptor (-1 for a queue overflow).
    pub wd: i32,
    pub mask: u32,
    pub cookie: u32,
    /// The name inside a watched directory, if any.
    pub name: Option<OsString>,
}

/// An inotify instance.
#[derive(Debug)]
pub struct Inotify {
    fd: OwnedFd,
}

impl Inotify {
    /// A new, non-blocking, close-on-exec instance.
    pub fn new() -> io::Result<Inotify> {
        // SAFETY: inotify_init1 takes flags and returns a new descriptor or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this descriptor; nobody else owns it.
        Ok(Inotify {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Watches `path` for the events in `mask`; returns the watch descriptor (the same
    /// one again for a path already watched: the masks are then replaced).
    pub fn add_watch(&self, path: &Path, mask: u32) -> io::Result<i32> {
        let c = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: a valid descriptor and a NUL-terminated path.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), mask) };
        if wd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(wd)
    }

    /// Stops a watch (an `IN_IGNORED` event follows).
    pub fn remove_watch(&self, wd: i32) -> io::Result<()> {
        // SAFETY: inotify_rm_watch takes two integers.
        if unsafe { libc::inotify_rm_watch(self.fd.as_raw_fd(), wd) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads the pending events; empty when none are waiting.
    pub fn read_events(&self) -> io::Result<Vec<Event>> {
        let mut events = Vec::new();
        // On the stack: callers poll this often, mostly finding nothing (a heap buffer
        // per call showed in devmaster's profile). Any event (at most 16 + NAME_MAX + 1
        // bytes) fits.
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: reading at most `buf.len()` bytes into a valid buffer.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.kind() {
                    io::ErrorKind::WouldBlock => Ok(events),
                    io::ErrorKind::Interrupted => continue,
                    _ if events.is_empty() => Err(e),
                    _ => Ok(events),
                };
            }
            if n == 0 {
                return Ok(events);
            }
            events.extend(parse(buf.get(..n.unsigned_abs()).unwrap_or_default()));
        }
    }
}

impl AsRawFd for Inotify {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Splits a buffer read from an inotify descriptor into events (`struct inotify_event`:
/// `int wd; u32 mask, cookie, len; char name[len]` NUL-padded). A truncated tail is
/// dropped.
pub fn parse(buf: &[u8]) -> Vec<Event> {
    let word = |at: usize| -> Option<[u8; 4]> {
        match buf.get(at..at.checked_add(4)?)? {
            &[a, b, c, d] => Some([a, b, c, d]),
            _ => None,
        }
    };
    let mut events = Vec::new();
    let mut at = 0usize;
    while let (Some(wd), Some(mask), Some(cookie), Some(len)) =
        (word(at), word(at + 4), word(at + 8), word(at + 12))
    {
        let len = u32::from_ne_bytes(len) as usize;
        let Some(raw) = at
            .checked_add(16)
            .and_then(|start| buf.get(start..start.checked_add(len)?))
        else {
            break;
        };
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        let name = raw
            .get(..end)
            .filter(|n| !n.is_empty())
            .map(|n| OsString::from_vec(n.to_vec()));
        events.push(Event {
            wd: i32::from_ne_bytes(wd),
            mask: u32::from_ne_bytes(mask),
            cookie: u32::from_ne_bytes(cookie),
            name,
        });
        at += 16 + len;
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn raw(wd: i32, mask: u32, name: &[u8], pad: usize) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&wd.to_ne_bytes());
        v.extend_from_slice(&mask.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(&((name.len() + pad) as u32).to_ne_bytes());
        v.extend_from_slice(name);
        v.extend(std::iter::repeat_n(0, pad));
        v
    }

    #[test]
    fn parse_events_with_and_without_names() {
        let mut buf = raw(1, IN_CLOSE_WRITE, b"", 0);
        buf.extend(raw(2, IN_CREATE, b"10-x.rules", 6));
        buf.extend(&raw(3, IN_DELETE, b"y", 3)[..10]);
        assert_eq!(
            parse(&buf),
            [
                Event {
                    wd: 1,
                    mask: IN_CLOSE_WRITE,
                    cookie: 0,
                    name: None
                },
                Event {
                    wd: 2,
                    mask: IN_CREATE,
                    cookie: 0,
                    name: Some("10-x.rules".into())
                },
            ]
        );
    }

    #[test]
    fn watches_a_directory_and_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path().join("node");
        std::fs::write(&node, "").unwrap();
        let ino = Inotify::new().unwrap();
        assert!(ino.read_events().unwrap().is_empty());
        let dwd = ino
            .add_watch(dir.path(), IN_CREATE | IN_DELETE | IN_ONLYDIR)
            .unwrap();
        let fwd = ino.add_watch(&node, IN_CLOSE_WRITE).unwrap();
        std::fs::write(dir.path().join("a.rules"), "x").unwrap();
        std::fs::write(&node, "data").unwrap();
        // Opened for reading only: no IN_CLOSE_WRITE.
        drop(std::fs::File::open(&node).unwrap());
        let events = ino.read_events().unwrap();
        assert_eq!(
            events,
            [
                Event {
                    wd: dwd,
                    mask: IN_CREATE,
                    cookie: 0,
                    name: Some("a.rules".into())
                },
                Event {
                    wd: fwd,
                    mask: IN_CLOSE_WRITE,
                    cookie: 0,
                    name: None
                },
            ]
        );
        ino.remove_watch(fwd).unwrap();
        let events = ino.read_events().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].wd, events[0].mask), (fwd, IN_IGNORED));
        assert!(ino
            .add_watch(&dir.path().join("missing"), IN_CLOSE_WRITE)
            .is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_buffers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&bytes);
        }
    }
}
