//! The manager's end of the init link (`proto::init`): finding it in the environment,
//! sending and receiving packets, and the start-up replay (`Hello`, stored fds, buffered
//! exits, `HelloDone`) read before anything else happens.

use proto::init::{self, ToInit, ToManager, INIT_FD_ENV, MAX_PACKET};
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

/// How long the manager waits for PID 1's start-up replay.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

pub struct InitLink {
    fd: OwnedFd,
    buf: Vec<u8>,
}

/// What PID 1 said when this manager started.
#[derive(Debug, Default)]
pub struct Hello {
    pub manager_starts: u64,
    pub planned: bool,
    pub dropped_exits: u64,
    pub container: bool,
    pub fds: HashMap<String, OwnedFd>,
    /// Exits PID 1 still holds, oldest first: `(seq, pid, start time, status)`.
    pub exits: Vec<RelayedExit>,
    /// Requests and pings that arrived during the replay.
    pub other: Vec<ToManager>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayedExit {
    pub seq: u64,
    pub pid: u32,
    pub start_time: u64,
    pub status: units::exit::ExitStatus,
}

impl RelayedExit {
    pub fn from_message(m: &ToManager) -> Option<RelayedExit> {
        let ToManager::Exit {
            seq,
            pid,
            start_time,
            kind,
            status,
        } = *m
        else {
            return None;
        };
        let status = match kind {
            init::ExitKind::Exited => units::exit::ExitStatus::Exited(status),
            init::ExitKind::Killed => units::exit::ExitStatus::Killed {
                signal: status,
                core_dumped: false,
            },
            init::ExitKind::Dumped => units::exit::ExitStatus::Killed {
                signal: status,
                core_dumped: true,
            },
        };
        Some(RelayedExit {
            seq,
            pid,
            start_time,
            status,
        })
    }
}

impl InitLink {
    /// The link PID 1 passed in `SYSMASTER_INIT_FD`, if any. The variable is removed so
    /// that services never see it, and the fd is made close-on-exec.
    pub fn from_env() -> Option<InitLink> {
        let value = std::env::var(INIT_FD_ENV).ok()?;
        std::env::remove_var(INIT_FD_ENV);
        let fd = match value.parse::<i32>() {
            Ok(n) => sys::fd::adopt_inherited(n),
            Err(_) => Err(io::Error::from_raw_os_error(9)),
        };
        match fd {
            Ok(fd) => Some(InitLink {
                fd,
                buf: vec![0; MAX_PACKET],
            }),
            Err(e) => {
                eprintln!("sysmaster: {INIT_FD_ENV}={value} is not a usable init link ({e}); running without PID 1");
                None
            }
        }
    }

    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    pub fn send(&self, message: &ToInit, fd: Option<BorrowedFd>) -> io::Result<()> {
        let bytes = init::encode(message).ok_or_else(|| io::Error::from_raw_os_error(90))?;
        sys::seqpacket::send(self.fd.as_fd(), &bytes, fd)
    }

    /// One packet, without blocking. `Err` with `UnexpectedEof` once PID 1 closed its end.
    pub fn recv(&mut self) -> io::Result<Option<(ToManager, Option<OwnedFd>)>> {
        loop {
            let Some(packet) = sys::seqpacket::recv(self.fd.as_fd(), &mut self.buf)? else {
                return Ok(None);
            };
            if packet.len == 0 && packet.fd.is_none() {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
            }
            match init::decode::<ToManager>(self.buf.get(..packet.len).unwrap_or_default()) {
                Ok(m) => return Ok(Some((m, packet.fd))),
                Err(e) => eprintln!("sysmaster: init link: {e}; ignored"),
            }
        }
    }

    /// Reads the start-up replay up to `HelloDone`.
    pub fn hello(&mut self) -> Result<Hello, String> {
        let mut hello = Hello::default();
        let deadline = Instant::now() + HELLO_TIMEOUT;
        loop {
            match self.recv() {
                Ok(Some((m, fd))) => match m {
                    ToManager::Hello {
                        version,
                        manager_starts,
                        planned,
                        dropped_exits,
                        container,
                    } => {
                        if version != init::INIT_LINK_VERSION {
                            eprintln!("sysmaster: PID 1 speaks init link version {version}, this manager {}", init::INIT_LINK_VERSION);
                        }
                        hello.manager_starts = manager_starts;
                        hello.planned = planned;
                        hello.dropped_exits = dropped_exits;
                        hello.container = container;
                    }
                    ToManager::StoredFd { name } => {
                        if let Some(fd) = fd {
                            hello.fds.insert(name, fd);
                        }
                    }
                    ToManager::Exit { .. } => {
                        hello.exits.extend(RelayedExit::from_message(&m));
                    }
                    ToManager::HelloDone => return Ok(hello),
                    other => hello.other.push(other),
                },
                Ok(None) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err("PID 1 did not finish its hello in time".into());
                    }
                    let mut fds = [sys::event::PollFd::new(self.raw_fd(), sys::event::READABLE)];
                    let ms = u32::try_from(left.as_millis()).unwrap_or(u32::MAX);
                    if let Err(e) = sys::event::poll(&mut fds, Some(ms)) {
                        return Err(format!("waiting for PID 1: {e}"));
                    }
                }
                Err(e) => return Err(format!("init link: {e}")),
            }
        }
    }
}
