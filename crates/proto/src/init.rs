//! The init link: the messages between `sysmaster-init` (PID 1) and the manager.
//!
//! Transport: one `AF_UNIX`/`SOCK_SEQPACKET` socketpair per manager start, created by PID 1.
//! The manager finds its end in the environment variable [`INIT_FD_ENV`] (a decimal fd
//! number, inherited without `FD_CLOEXEC`). Each packet is exactly one JSON document of
//! [`ToManager`] or [`ToInit`] (no terminator: the packet boundary is the frame) of at most
//! [`MAX_PACKET`] bytes. File descriptors travel as `SCM_RIGHTS` ancillary data, only on
//! [`ToManager::StoredFd`] and [`ToInit::StoreFd`], exactly one fd per such packet.
//!
//! The conversation:
//! 1. PID 1 starts the manager and sends [`ToManager::Hello`], then one
//!    [`ToManager::StoredFd`] per fd in its store, then every buffered
//!    [`ToManager::Exit`] (oldest first), then [`ToManager::HelloDone`].
//! 2. From then on PID 1 relays each reaped non-manager process as an `Exit` record, sends a
//!    [`ToManager::Ping`] every heartbeat period, and turns signals into
//!    [`ToManager::Request`]s. The manager answers each `Ping` with a [`ToInit::Pong`] of the
//!    same sequence number; a manager that does not answer within the heartbeat timeout
//!    gets SIGABRT, then SIGKILL, and is restarted.
//! 3. PID 1 keeps every relayed `Exit` until the manager acknowledges it with
//!    [`ToInit::AckExits`] (sent once the manager has made the exit durable in its state
//!    journal). A manager that crashes before acknowledging gets the records again from the
//!    next `Hello`: an exit status is never lost, at worst delivered twice, and the manager
//!    tells duplicates apart by `seq`.
//! 4. The manager deposits fds with [`ToInit::StoreFd`] (same name replaces) and drops them
//!    with [`ToInit::RemoveFd`]; before a planned exit (`daemon-reexec`) it sends
//!    [`ToInit::Restarting`] so PID 1 restarts it at once without counting a crash; at the
//!    end of shutdown it sends [`ToInit::Final`] and PID 1 performs the final step.
//!    [`ToInit::ReexecInit`] asks PID 1 to re-execute itself, keeping the manager, the exit
//!    buffer and the fd store.
//!
//! Processes are named by `(pid, start_time)`: `start_time` is field 22 of
//! `/proc/PID/stat` (clock ticks since boot), read by PID 1 while the exited child is still
//! a zombie (`waitid(WNOWAIT)`), so that a recycled pid is never mistaken for a service.

use serde::{Deserialize, Serialize};

/// Version of the messages below; `Hello` carries it and a manager that does not know it
/// logs the mismatch and speaks its own version (fields added later are optional).
pub const INIT_LINK_VERSION: u32 = 1;

/// The environment variable holding the manager's end of the link.
pub const INIT_FD_ENV: &str = "SYSMASTER_INIT_FD";

/// The largest packet either side sends or accepts.
pub const MAX_PACKET: usize = 64 * 1024;

/// How a process ended, as `waitid(2)` reports it (`si_code`, `si_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitKind {
    /// `CLD_EXITED`: `status` is the exit code.
    Exited,
    /// `CLD_KILLED`: `status` is the signal.
    Killed,
    /// `CLD_DUMPED`: `status` is the signal; a core was dumped.
    Dumped,
}

/// What a signal to PID 1 (or the console) asks the manager to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitRequest {
    /// SIGINT (Ctrl-Alt-Del): start `ctrl-alt-del.target`.
    CtrlAltDel,
    /// SIGWINCH (keyboard request): start `kbrequest.target`.
    KbRequest,
    /// SIGPWR: start `sigpwr.target`.
    PowerFailure,
    /// SIGRTMIN+3, SIGUSR1 (busybox halt).
    Halt,
    /// SIGRTMIN+4, SIGUSR2 (busybox poweroff); SIGTERM to PID 1 of a container.
    Poweroff,
    /// SIGRTMIN+5, SIGTERM busybox-style reboot.
    Reboot,
    /// SIGRTMIN+6.
    Kexec,
    /// SIGTERM to PID 1 on a real machine: the manager re-executes, as systemd does.
    Reexec,
}

/// The final step of shutdown PID 1 performs once the manager stopped all units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum FinalAction {
    Halt,
    Poweroff,
    Reboot,
    Kexec,
    /// In a container (PID 1 of a PID namespace): exit with this status.
    Exit {
        status: u8,
    },
}

/// Messages from PID 1 to the manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ToManager {
    Hello {
        version: u32,
        /// How many times PID 1 has started a manager since boot (1 = the first).
        manager_starts: u64,
        /// True when this start follows a [`ToInit::Restarting`] (a requested re-exec).
        planned: bool,
        /// Exit records dropped since boot because the buffer was full (no manager
        /// listening, or one not acknowledging).
        dropped_exits: u64,
        /// PID 1 runs as PID 1 of a PID namespace rather than of the machine.
        container: bool,
    },
    /// One stored fd (attached as `SCM_RIGHTS`) and its name.
    StoredFd {
        name: String,
    },
    /// A process that is not the manager has exited and was reaped by PID 1.
    Exit {
        /// Increasing per boot, never reused, also across PID 1 re-execs.
        seq: u64,
        pid: u32,
        start_time: u64,
        kind: ExitKind,
        status: i32,
    },
    /// End of the replay that follows `Hello`.
    HelloDone,
    Ping {
        seq: u64,
    },
    Request {
        request: InitRequest,
    },
}

/// Messages from the manager to PID 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ToInit {
    Pong {
        seq: u64,
    },
    /// Every `Exit` with `seq <= upto` is durable in the manager's state: forget it.
    AckExits {
        upto: u64,
    },
    /// Keep the attached fd under this name (replacing one of the same name).
    StoreFd {
        name: String,
    },
    RemoveFd {
        name: String,
    },
    /// The manager is about to exit on purpose; start it again at once.
    Restarting,
    /// The manager is up: state recovered, requests served. A later crash is not a
    /// start-up failure; PID 1 restarts it at once instead of backing off.
    Ready,
    /// All units are stopped: perform the final step.
    Final {
        action: FinalAction,
    },
    /// Re-execute PID 1 (upgrade), keeping the manager, the exit buffer and the fd store.
    ReexecInit,
}

/// Why a packet could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketError(pub String);

impl std::fmt::Display for PacketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad init-link packet: {}", self.0)
    }
}

impl std::error::Error for PacketError {}

/// Encodes one message as a packet; `None` when it would exceed [`MAX_PACKET`] (a stored
/// fd name that long is refused by the sender).
pub fn encode<T: Serialize>(message: &T) -> Option<Vec<u8>> {
    let bytes = serde_json::to_vec(message).ok()?;
    (bytes.len() <= MAX_PACKET).then_some(bytes)
}

/// Decodes one packet.
pub fn decode<T: for<'de> Deserialize<'de>>(packet: &[u8]) -> Result<T, PacketError> {
    if packet.len() > MAX_PACKET {
        return Err(PacketError(format!("{} bytes", packet.len())));
    }
    serde_json::from_slice(packet).map_err(|e| PacketError(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn messages_round_trip_with_stable_tags() {
        let m = ToManager::Exit {
            seq: 7,
            pid: 42,
            start_time: 1234,
            kind: ExitKind::Killed,
            status: 9,
        };
        let bytes = encode(&m).unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"type":"exit","seq":7,"pid":42,"start_time":1234,"kind":"killed","status":9}"#
        );
        assert_eq!(decode::<ToManager>(&bytes).unwrap(), m);
        let f = ToInit::Final {
            action: FinalAction::Exit { status: 3 },
        };
        let bytes = encode(&f).unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"type":"final","action":{"action":"exit","status":3}}"#
        );
        assert_eq!(decode::<ToInit>(&bytes).unwrap(), f);
    }

    #[test]
    fn garbage_and_oversized_packets_are_errors() {
        assert!(decode::<ToInit>(b"").is_err());
        assert!(decode::<ToInit>(b"{\"type\":\"nope\"}").is_err());
        assert!(decode::<ToManager>(&vec![b' '; MAX_PACKET + 1]).is_err());
        let long = ToInit::StoreFd {
            name: "x".repeat(MAX_PACKET),
        };
        assert_eq!(encode(&long), None);
    }
}
