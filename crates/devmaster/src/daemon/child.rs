//! The worker process: a fork of the daemon (as udevd's workers are), so it starts with
//! the rules the daemon parsed and needs no `exec`. It processes the events the daemon
//! sends over descriptor 3 one at a time with
//! [`crate::worker::process`], broadcasts each processed event to libudev listeners (the
//! netlink "udev" group, libudev's format) and replies to the daemon.
//!
//! Like a udevd worker it holds a shared `flock` on the whole disk while processing a
//! block device's event, and hands the event back when another program holds the disk
//! exclusively (systemd's BLOCK_DEVICE_LOCKING); it blocks SIGTERM and takes it between
//! events, so a stopping daemon never cuts an event in half; and it dies with SIGTERM when
//! the daemon goes away. It leads its own process group (a new session) so that a timeout
//! kills the programs it started too. New rules or settings
//! mean a new worker: the daemon retires the old ones, as udevd does.
//!
//! With `--test-faults` (only then), an event carrying `DEVMASTER_TEST_FAULT` makes the
//! worker misbehave, so that the daemon's crash, timeout and ordering paths can be tested
//! without depending on rules: `crash` (SIGSEGV), `exit=N`, `hang` (never reply),
//! `sleep=MS` (then process normally), `watch` / `unwatch` (reply "processed" with that
//! watch request, without processing).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use sys::event::{PollFd, SignalFd, READABLE};
use sys::netlink::{Group, UeventSocket};

use super::frame::{self, Decoder, Message, Reply};
use super::log::{self, log};
use super::queue::{sysname, Level, Outcome};
use crate::rules::syntax::RulesFile;
use crate::worker::{self, Event, Paths, Settings};

/// What a worker inherits from the daemon that forked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerArgs {
    /// The daemon's pid: the worker exits at once if its parent is already someone else.
    pub parent: u32,
    pub paths: Paths,
    pub settings: Settings,
    pub test_faults: bool,
}

/// The device node (as `/dev/NAME`) of the whole disk a block event belongs to, which
/// udevd locks and whose unlocking retries events: the device itself for a disk, its
/// parent for a partition. `None` for other devices, for removals and, as in udevd, for
/// device-mapper, md and drbd devices. Reads the parent's `uevent` under `sys`.
pub fn whole_disk(sys: &Path, event: &Event) -> Option<String> {
    let p = &event.properties;
    if event.action == "remove" || p.get("SUBSYSTEM").map(String::as_str) != Some("block") {
        return None;
    }
    let name = sysname(&event.devpath);
    if ["dm-", "md", "drbd"].iter().any(|x| name.starts_with(x)) {
        return None;
    }
    let devname = match p.get("DEVTYPE").map(String::as_str) {
        Some("disk") => p.get("DEVNAME")?.clone(),
        Some("partition") => {
            let (parent, _) = event.devpath.rsplit_once('/')?;
            let text =
                std::fs::read_to_string(sys.join(parent.trim_start_matches('/')).join("uevent"))
                    .ok()?;
            let props = parse_uevent_file(&text);
            if props.get("DEVTYPE").map(String::as_str) != Some("disk") {
                return None;
            }
            props.get("DEVNAME")?.clone()
        }
        _ => return None,
    };
    Some(super::queue::devnode(&devname))
}

/// `KEY=VALUE` lines of a sysfs `uevent` file.
pub fn parse_uevent_file(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The worker's life after the fork (descriptor 3 is `channel`, everything else of the
/// daemon's is closed); returns the exit status.
pub fn run(args: WorkerArgs, channel: OwnedFd, rules: Vec<RulesFile>) -> i32 {
    log::set_prefix(format!("devmaster-worker[{}]", std::process::id()));
    match sys::process::set_parent_death_signal(sys::signal::SIGTERM, args.parent) {
        Ok(true) => {}
        Ok(false) => return 0,
        Err(e) => log(
            Level::Warning,
            &format!("Failed to set parent death signal: {e}"),
        ),
    }
    let channel = UnixStream::from(channel);
    let signals = match SignalFd::new(&[sys::signal::SIGTERM]) {
        Ok(s) => s,
        Err(e) => {
            log(Level::Error, &format!("Failed to block SIGTERM: {e}"));
            return 1;
        }
    };
    let broadcaster = match UeventSocket::open(Group::None) {
        Ok(s) => Some(s),
        Err(e) => {
            log(
                Level::Debug,
                &format!("Failed to open the netlink socket: {e}"),
            );
            None
        }
    };
    let w = Worker {
        args,
        rules,
        broadcaster,
    };
    w.serve(channel, &signals)
}

struct Worker {
    args: WorkerArgs,
    rules: Vec<RulesFile>,
    broadcaster: Option<UeventSocket>,
}

impl Worker {
    fn serve(&self, mut channel: UnixStream, signals: &SignalFd) -> i32 {
        let mut decoder = Decoder::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let mut fds = [
                PollFd::new(channel.as_raw_fd(), READABLE),
                PollFd::new(signals.as_raw_fd(), READABLE),
            ];
            if let Err(e) = sys::event::poll(&mut fds, None) {
                log(Level::Error, &format!("poll: {e}"));
                return 1;
            }
            if fds[1].readable() && matches!(signals.read(), Ok(Some(_))) {
                return 0;
            }
            if !fds[0].readable() {
                continue;
            }
            let n = match channel.read(&mut buf) {
                Ok(0) => return 0,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log(
                        Level::Error,
                        &format!("Failed to read from the daemon: {e}"),
                    );
                    return 1;
                }
            };
            decoder.push(buf.get(..n).unwrap_or_default());
            loop {
                match decoder.next_message() {
                    Ok(None) => break,
                    Ok(Some(Message::Event(event))) => {
                        let reply = self.handle(&event);
                        let bytes = frame::encode(&Message::Reply(reply));
                        if let Err(e) = channel.write_all(&bytes) {
                            log(Level::Error, &format!("Failed to reply to the daemon: {e}"));
                            return 1;
                        }
                    }
                    Ok(Some(Message::Reply(_))) => {
                        log(Level::Error, "Unexpected reply from the daemon");
                        return 1;
                    }
                    Err(e) => {
                        log(Level::Error, &format!("From the daemon: {e}"));
                        return 1;
                    }
                }
            }
        }
    }

    fn handle(&self, event: &Event) -> Reply {
        let name = sysname(&event.devpath);
        let reply = |outcome, watch| Reply {
            seqnum: event.seqnum,
            outcome,
            watch,
        };
        log(
            Level::Debug,
            &format!(
                "{name}: Processing device (SEQNUM={}, ACTION={})",
                event.seqnum, event.action
            ),
        );
        if self.args.test_faults {
            if let Some(fault) = event.properties.get("DEVMASTER_TEST_FAULT") {
                if let Some(r) = self.fault(fault, event) {
                    return r;
                }
            }
        }
        let _lock = match whole_disk(&self.args.paths.sys, event) {
            Some(node) => {
                let path = self.args.paths.dev.join(node.trim_start_matches("/dev/"));
                match sys::fd::open_locked_shared(&path) {
                    Ok(Some(fd)) => Some(fd),
                    Ok(None) => return reply(Outcome::Locked, None),
                    Err(e) if absent(&e) => None,
                    Err(e) => {
                        log(
                            Level::Warning,
                            &format!("{name}: Failed to lock {}: {e}", path.display()),
                        );
                        self.broadcast_failure(event);
                        return reply(Outcome::Failed, None);
                    }
                }
            }
            None => None,
        };
        match worker::process(&self.args.paths, &self.rules, event, &self.args.settings) {
            Ok(done) => {
                let mut props = done.properties;
                for key in ["ACTION", "DEVPATH", "SUBSYSTEM", "SEQNUM"] {
                    if let Some(v) = event.properties.get(key) {
                        props.entry(key.to_string()).or_insert_with(|| v.clone());
                    }
                }
                for (key, tags) in [("TAGS", &done.tags), ("CURRENT_TAGS", &done.current_tags)] {
                    if !tags.is_empty() && !props.contains_key(key) {
                        let joined: String = tags.iter().map(|t| format!(":{t}")).collect();
                        props.insert(key.to_string(), format!("{joined}:"));
                    }
                }
                self.broadcast(&props);
                if log::enabled(Level::Debug) {
                    log(
                        Level::Debug,
                        &format!("{name}: Device processed (SEQNUM={})", event.seqnum),
                    );
                }
                reply(Outcome::Processed, done.watch)
            }
            Err(e) => {
                log(
                    Level::Warning,
                    &format!("{name}: Failed to process device, ignoring: {e}"),
                );
                self.broadcast_failure(event);
                reply(Outcome::Failed, None)
            }
        }
    }

    /// Test-only misbehaviour; `Some` replies instead of processing.
    fn fault(&self, fault: &str, event: &Event) -> Option<Reply> {
        let reply = |watch| Reply {
            seqnum: event.seqnum,
            outcome: Outcome::Processed,
            watch: Some(watch),
        };
        match fault.split_once('=').unwrap_or((fault, "")) {
            ("crash", _) => {
                let _ = sys::process::kill(std::process::id(), sys::signal::SIGSEGV);
                std::process::abort();
            }
            ("exit", code) => std::process::exit(code.parse().unwrap_or(1)),
            ("hang", _) => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            ("sleep", ms) => {
                std::thread::sleep(Duration::from_millis(ms.parse().unwrap_or(0)));
                None
            }
            ("watch", _) => Some(reply(true)),
            ("unwatch", _) => Some(reply(false)),
            _ => None,
        }
    }

    fn broadcast_failure(&self, event: &Event) {
        let mut props = event.properties.clone();
        props.insert("UDEV_WORKER_FAILED".into(), "1".into());
        self.broadcast(&props);
    }

    fn broadcast(&self, props: &BTreeMap<String, String>) {
        let Some(sock) = &self.broadcaster else {
            return;
        };
        if let Err(e) = sock.send_udev(&devproto::monitor::encode(props)) {
            log(
                Level::Debug,
                &format!("Failed to broadcast event to libudev listeners, ignoring: {e}"),
            );
        }
    }
}

/// udevd's `ERRNO_IS_DEVICE_ABSENT`: the node is gone, so there is nothing to lock.
fn absent(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(2 | 6 | 19)) // ENOENT, ENXIO, ENODEV
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_disks_as_udevd_finds_them() {
        let sys = tempfile::tempdir().unwrap();
        let disk = sys.path().join("devices/pci/block/sda");
        std::fs::create_dir_all(disk.join("sda1")).unwrap();
        std::fs::write(
            disk.join("uevent"),
            "MAJOR=8\nMINOR=0\nDEVNAME=sda\nDEVTYPE=disk\n",
        )
        .unwrap();
        let ev = |devpath: &str, action: &str, props: &[(&str, &str)]| Event {
            seqnum: 1,
            action: action.into(),
            devpath: devpath.into(),
            properties: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        fn block(t: &'static str, n: &'static str) -> Vec<(&'static str, &'static str)> {
            vec![("SUBSYSTEM", "block"), ("DEVTYPE", t), ("DEVNAME", n)]
        }
        let cases = [
            (
                ev("/devices/pci/block/sda", "add", &block("disk", "sda")),
                Some("/dev/sda"),
            ),
            (
                ev(
                    "/devices/pci/block/sda/sda1",
                    "change",
                    &block("partition", "sda1"),
                ),
                Some("/dev/sda"),
            ),
            (
                ev("/devices/pci/block/sda", "remove", &block("disk", "sda")),
                None,
            ),
            (
                ev("/devices/virtual/block/dm-0", "add", &block("disk", "dm-0")),
                None,
            ),
            (
                ev("/devices/virtual/block/md0", "add", &block("disk", "md0")),
                None,
            ),
            (
                ev(
                    "/devices/x/ttyS0",
                    "add",
                    &[("SUBSYSTEM", "tty"), ("DEVNAME", "ttyS0")],
                ),
                None,
            ),
            // A partition whose parent cannot be read.
            (
                ev("/devices/gone/sdz/sdz1", "add", &block("partition", "sdz1")),
                None,
            ),
        ];
        for (event, want) in cases {
            assert_eq!(
                whole_disk(sys.path(), &event).as_deref(),
                want,
                "{}",
                event.devpath
            );
        }
    }
}
