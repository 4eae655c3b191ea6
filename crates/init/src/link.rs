//! PID 1's end of one init link: the messages waiting to go out and how far the exit
//! records have been sent. The socket never blocks PID 1: what does not fit now waits for
//! the socket to become writable. Exit records are not copied into the queue; they are
//! read from the exit buffer, and each queued message is a barrier that later exits wait
//! behind, so the manager sees everything in the order it happened.

use crate::exits::ExitBuffer;
use proto::init::{encode, InitRequest, ToManager};
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Queued messages beyond this are dropped (a manager that does not read is hung and
/// will be restarted; its successor gets a fresh `Hello`).
pub const MAX_QUEUE: usize = 8192;

#[derive(Debug)]
pub struct Link {
    pub fd: OwnedFd,
    /// (barrier, message): sent once every exit with `seq <= barrier` is out.
    queue: VecDeque<(u64, ToManager)>,
    /// The highest exit `seq` sent on this link.
    pub sent_upto: u64,
    /// The last send found the socket full: wait for it to become writable.
    pub blocked: bool,
}

impl Link {
    pub fn new(fd: OwnedFd, sent_upto: u64, queue: Vec<(u64, ToManager)>) -> Link {
        Link {
            fd,
            queue: queue.into(),
            sent_upto,
            blocked: false,
        }
    }

    /// Queues `message` behind every exit recorded so far; false when the queue is full.
    pub fn queue(&mut self, exits: &ExitBuffer, message: ToManager) -> bool {
        if self.queue.len() >= MAX_QUEUE {
            return false;
        }
        self.queue.push_back((exits.last_seq(), message));
        true
    }

    /// Queues a message that goes before any exit not yet sent (the `Hello` sequence).
    pub fn queue_first(&mut self, message: ToManager) {
        self.queue.push_back((self.sent_upto, message));
    }

    /// The latest request still waiting to go out: it is carried over to the next
    /// manager when this link is lost.
    pub fn unsent_request(&self) -> Option<InitRequest> {
        self.queue.iter().rev().find_map(|(_, m)| match m {
            ToManager::Request { request } => Some(*request),
            _ => None,
        })
    }

    pub fn queued(&self) -> impl Iterator<Item = &(u64, ToManager)> {
        self.queue.iter()
    }

    /// Sends what can go now. An error means the link is broken (the manager is gone or
    /// closed its end).
    pub fn flush(
        &mut self,
        exits: &ExitBuffer,
        store: &BTreeMap<String, OwnedFd>,
    ) -> io::Result<()> {
        self.blocked = false;
        loop {
            let barrier = self.queue.front().map(|(after, _)| *after);
            let next = exits.next_after(self.sent_upto);
            if let Some(r) = next.filter(|r| barrier.is_none_or(|b| r.seq <= b)) {
                if !send(self.fd.as_fd(), &r.message(), None)? {
                    break;
                }
                self.sent_upto = r.seq;
                continue;
            }
            let Some((_, message)) = self.queue.front() else {
                break;
            };
            let fd = match message {
                // Removed from the store since it was queued: nothing to hand over.
                ToManager::StoredFd { name } => match store.get(name) {
                    Some(fd) => Some(fd.as_fd()),
                    None => {
                        self.queue.pop_front();
                        continue;
                    }
                },
                _ => None,
            };
            if !send(self.fd.as_fd(), message, fd)? {
                break;
            }
            self.queue.pop_front();
        }
        self.blocked = !self.queue.is_empty() || exits.next_after(self.sent_upto).is_some();
        Ok(())
    }
}

/// False when the socket is full.
fn send(socket: BorrowedFd, message: &ToManager, fd: Option<BorrowedFd>) -> io::Result<bool> {
    // A message too large to encode cannot be sent at all: skip it.
    let Some(bytes) = encode(message) else {
        return Ok(true);
    };
    match sys::seqpacket::send(socket, &bytes, fd) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::init::{decode, ExitKind};

    fn drain(fd: BorrowedFd) -> Vec<(String, bool)> {
        let mut buf = vec![0u8; 70_000];
        let mut out = Vec::new();
        while let Some(p) = sys::seqpacket::recv(fd, &mut buf).unwrap() {
            let m: ToManager = decode(&buf[..p.len]).unwrap();
            let tag = match m {
                ToManager::Exit { seq, .. } => format!("exit {seq}"),
                ToManager::StoredFd { name } => format!("fd {name}"),
                other => format!("{other:?}"),
            };
            out.push((tag, p.fd.is_some()));
        }
        out
    }

    #[test]
    fn hello_sequence_exits_and_barriers_keep_their_order() {
        let (ours, theirs) = sys::seqpacket::pair().unwrap();
        let mut exits = ExitBuffer::new(10);
        exits.push(5, 1, ExitKind::Exited, 0);
        exits.push(6, 1, ExitKind::Exited, 0);
        let mut store = BTreeMap::new();
        store.insert(
            "a".to_string(),
            std::fs::File::open("/dev/null").unwrap().into(),
        );
        let mut link = Link::new(ours, 0, vec![]);
        link.queue_first(ToManager::Ping { seq: 0 });
        link.queue_first(ToManager::StoredFd { name: "a".into() });
        link.queue_first(ToManager::StoredFd {
            name: "gone".into(),
        });
        link.queue(&exits, ToManager::HelloDone);
        link.flush(&exits, &store).unwrap();
        let got = drain(theirs.as_fd());
        let want = [
            ("Ping { seq: 0 }", false),
            ("fd a", true),
            ("exit 1", false),
            ("exit 2", false),
            ("HelloDone", false),
        ];
        let want: Vec<_> = want.iter().map(|(t, f)| (t.to_string(), *f)).collect();
        assert_eq!(got, want);
        exits.push(7, 1, ExitKind::Exited, 0);
        link.queue(&exits, ToManager::Ping { seq: 1 });
        exits.push(8, 1, ExitKind::Exited, 0);
        link.flush(&exits, &store).unwrap();
        let got: Vec<String> = drain(theirs.as_fd()).into_iter().map(|g| g.0).collect();
        assert_eq!(got, ["exit 3", "Ping { seq: 1 }", "exit 4"]);
        assert!(!link.blocked);
        drop(theirs);
        exits.push(9, 1, ExitKind::Exited, 0);
        assert!(link.flush(&exits, &store).is_err());
    }

    #[test]
    fn a_full_socket_blocks_until_read() {
        let (ours, theirs) = sys::seqpacket::pair().unwrap();
        let mut exits = ExitBuffer::new(100_000);
        for i in 0..20_000 {
            exits.push(i, 1, ExitKind::Exited, 0);
        }
        let mut link = Link::new(ours, 0, vec![]);
        link.flush(&exits, &BTreeMap::new()).unwrap();
        assert!(link.blocked && link.sent_upto < 20_000);
        let mut total = 0;
        while link.blocked {
            total += drain(theirs.as_fd()).len();
            link.flush(&exits, &BTreeMap::new()).unwrap();
        }
        total += drain(theirs.as_fd()).len();
        assert_eq!((total, link.sent_upto), (20_000, 20_000));
    }
}
