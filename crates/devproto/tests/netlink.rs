//! Our uevent and libudev formats on real `NETLINK_KOBJECT_UEVENT` sockets, each test in a
//! fresh network namespace of its own (the test binary re-runs itself for that one test under
//! `unshare --net`): udev-group messages must never be sent in the host's namespace, where a
//! real udevd or its listeners would act on them.
//!
//! The oracle is Debian's `udevadm monitor --udev --property` (package `udev`, systemd 252):
//! libudev must accept what `monitor::encode` writes and print its properties, and with
//! `--subsystem-match`/`--tag-match` the socket filter it installs in the kernel must let the
//! event through, which checks our header's hashes and tag bloom bit for bit. Needs root,
//! `unshare` (util-linux), `ip` (iproute2) and `udevadm` (udev).

// Test helpers fail the test by panicking; the no-panic rule is for shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use devproto::monitor::{decode, encode};
use devproto::uevent::parse;
use sys::event::{poll, PollFd, READABLE};
use sys::netlink::{ifindex_of, Group, Sender, UeventSocket, KERNEL_RCVBUF};

const INNER: &str = "DEVPROTO_NETLINK_TEST_OUTER_NETNS";
const TIMEOUT: Duration = Duration::from_secs(10);

fn netns_id() -> String {
    std::fs::read_link("/proc/self/ns/net")
        .unwrap()
        .display()
        .to_string()
}

/// Runs `body` in a fresh network namespace: the outer call re-executes this test binary for
/// `name` alone under `unshare --net` and checks it passed there; the inner call (marked by
/// an environment variable holding the outer namespace) refuses to run in that namespace.
fn in_fresh_netns(name: &str, body: impl FnOnce()) {
    if let Ok(outer) = std::env::var(INNER) {
        assert_ne!(netns_id(), outer, "not in a fresh network namespace");
        body();
        return;
    }
    let mut child = Command::new("unshare")
        .arg("--net")
        .arg(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(INNER, netns_id())
        .stdout(Stdio::piped())
        .spawn()
        .expect("unshare (util-linux) must be installed");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{name} did not finish in its network namespace within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(
        out.status.success(),
        "{name} failed in its network namespace"
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name} did not run in its network namespace"
    );
}

/// The next datagram on `sock`, waiting at most [`TIMEOUT`].
fn recv(sock: &UeventSocket) -> (Sender, Vec<u8>) {
    use std::os::fd::AsRawFd;
    let deadline = Instant::now() + TIMEOUT;
    let mut buf = Vec::new();
    loop {
        if let Some(sender) = sock.recv(&mut buf).unwrap() {
            return (sender, buf);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no datagram within {TIMEOUT:?}");
        let mut p = [PollFd::new(sock.as_raw_fd(), READABLE)];
        poll(&mut p, Some(left.as_millis() as u32)).unwrap();
    }
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A processed block device as udevd would broadcast it, every value in the form sd-device
/// prints it back (tags as `:a:b:`, one devlink).
fn disk_event(seqnum: u32) -> BTreeMap<String, String> {
    props(&[
        ("ACTION", "add"),
        ("DEVPATH", "/devices/virtual/block/wire0"),
        ("SUBSYSTEM", "block"),
        ("DEVTYPE", "disk"),
        ("DEVNAME", "/dev/wire0"),
        ("MAJOR", "7"),
        ("MINOR", "99"),
        ("SEQNUM", &seqnum.to_string()),
        ("USEC_INITIALIZED", "123456789"),
        ("ID_WIRE_TEST", "yes please"),
        ("DEVLINKS", "/dev/disk/by-id/wire-test"),
        ("TAGS", ":systemd:wiretest:"),
        ("CURRENT_TAGS", ":systemd:wiretest:"),
    ])
}

#[test]
fn udev_group_message_reaches_a_udev_listener_with_its_sender() {
    in_fresh_netns(
        "udev_group_message_reaches_a_udev_listener_with_its_sender",
        || {
            let rx = UeventSocket::open(Group::Udev).unwrap();
            let kernel_rx = UeventSocket::open(Group::Kernel).unwrap();
            let tx = UeventSocket::open(Group::None).unwrap();
            let event = disk_event(1);
            tx.send_udev(&encode(&event)).unwrap();
            let (sender, bytes) = recv(&rx);
            assert_eq!(
                sender,
                Sender {
                    portid: tx.portid().unwrap(),
                    groups: 2,
                    uid: 0
                }
            );
            assert_ne!(sender.portid, 0);
            assert_eq!(bytes, encode(&event));
            let ev = decode(&bytes).unwrap();
            assert_eq!(ev.action, "add");
            assert_eq!(ev.devpath, "/devices/virtual/block/wire0");
            assert_eq!(ev.properties, event);
            // The kernel group's socket did not get it.
            assert_eq!(kernel_rx.recv(&mut Vec::new()).unwrap(), None);
        },
    );
}

#[test]
fn send_udev_without_listener_is_not_an_error() {
    in_fresh_netns("send_udev_without_listener_is_not_an_error", || {
        let tx = UeventSocket::open(Group::None).unwrap();
        tx.send_udev(&encode(&disk_event(1))).unwrap();
    });
}

#[test]
fn kernel_uevents_arrive_from_port_0_and_parse() {
    in_fresh_netns("kernel_uevents_arrive_from_port_0_and_parse", || {
        let rx = UeventSocket::open(Group::Kernel).unwrap();
        // Root may force the buffer past rmem_max; the kernel reports double the request.
        assert_eq!(rx.receive_buffer().unwrap(), 2 * KERNEL_RCVBUF);
        // Network devices' uevents go to the namespace they live in.
        let ip = |args: &[&str]| {
            let s = Command::new("ip")
                .args(args)
                .status()
                .expect("ip (iproute2)");
            assert!(s.success(), "ip {args:?}");
        };
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        let ifindex = ifindex_of("v0").unwrap().to_string();
        ip(&["link", "set", "v0", "name", "w0"]);
        let mut seen = Vec::new();
        while !seen
            .iter()
            .any(|(a, p): &(String, String)| a == "move" && p.ends_with("/w0"))
        {
            let (sender, bytes) = recv(&rx);
            assert_eq!(
                sender,
                Sender {
                    portid: 0,
                    groups: 1,
                    uid: 0
                }
            );
            let ev = parse(&bytes)
                .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&bytes)));
            assert_eq!(decode(&bytes).unwrap(), ev);
            if ev.devpath == "/devices/virtual/net/v0" {
                assert_eq!(ev.action, "add");
                assert_eq!(ev.property("SUBSYSTEM"), Some("net"));
                assert_eq!(ev.property("INTERFACE"), Some("v0"));
                assert_eq!(ev.property("IFINDEX"), Some(ifindex.as_str()));
            }
            if ev.action == "move" {
                assert_eq!(ev.devpath, "/devices/virtual/net/w0");
                assert_eq!(ev.property("DEVPATH_OLD"), Some("/devices/virtual/net/v0"));
                assert_eq!(ev.property("INTERFACE"), Some("w0"));
            }
            seen.push((ev.action, ev.devpath));
        }
        assert!(seen.contains(&("add".into(), "/devices/virtual/net/v0".into())));
        assert!(seen.contains(&("add".into(), "/devices/virtual/net/v1".into())));
    });
}

/// `udevadm monitor --udev --property [args]`, its output lines arriving on a channel, once
/// it has bound its socket (it prints the "UDEV - ..." line after `bind`).
struct Monitor {
    child: Child,
    lines: Receiver<String>,
}

impl Monitor {
    fn start(args: &[&str]) -> Monitor {
        // sd-device listens on the udev group only where udevd could run: /run/udev/control
        // exists or /dev is a devtmpfs. Otherwise it silently subscribes to nothing.
        let devtmpfs = std::fs::read_to_string("/proc/self/mounts")
            .unwrap()
            .lines()
            .any(|l| l.starts_with("devtmpfs /dev "));
        assert!(
            devtmpfs || std::path::Path::new("/run/udev/control").exists(),
            "libudev listens only with /dev on devtmpfs or /run/udev/control present"
        );
        let mut child = Command::new("udevadm")
            .args(["monitor", "--udev", "--property"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("udevadm (Debian package udev) must be installed");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let m = Monitor { child, lines };
        m.wait_for(|l| l.starts_with("UDEV - the event which udev sends out"));
        m
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(TIMEOUT)
            .expect("udevadm monitor printed nothing within the timeout")
    }

    fn wait_for(&self, f: impl Fn(&str) -> bool) -> String {
        loop {
            let l = self.line();
            if f(&l) {
                return l;
            }
        }
    }

    /// The next event: its title line and its properties.
    fn event(&self) -> (String, BTreeMap<String, String>) {
        let title = self.wait_for(|l| l.starts_with("UDEV  ["));
        let mut props = BTreeMap::new();
        loop {
            let l = self.line();
            if l.is_empty() {
                return (title, props);
            }
            let (k, v) = l.split_once('=').unwrap();
            props.insert(k.to_string(), v.to_string());
            // sd-device keeps tags in a hash set: print them in our (sorted) order.
            if k == "TAGS" || k == "CURRENT_TAGS" {
                let mut tags: Vec<&str> = v.split(':').filter(|t| !t.is_empty()).collect();
                tags.sort_unstable();
                props.insert(k.to_string(), format!(":{}:", tags.join(":")));
            }
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn udevadm_monitor_prints_what_we_send() {
    in_fresh_netns("udevadm_monitor_prints_what_we_send", || {
        let monitor = Monitor::start(&[]);
        let tx = UeventSocket::open(Group::None).unwrap();
        let event = disk_event(4711);
        tx.send_udev(&encode(&event)).unwrap();
        let (title, printed) = monitor.event();
        assert!(
            title.ends_with("] add      /devices/virtual/block/wire0 (block)"),
            "{title}"
        );
        assert_eq!(printed, event);

        // A kernel datagram on the udev group is a kernel-format message, which libudev
        // also accepts; a message with a wrong magic it drops.
        let mut bad = encode(&disk_event(4712));
        bad[8] = 0xfd;
        tx.send_udev(&bad).unwrap();
        let net = props(&[
            ("ACTION", "change"),
            ("DEVPATH", "/devices/virtual/net/w0"),
            ("SUBSYSTEM", "net"),
            ("INTERFACE", "w0"),
            ("IFINDEX", "5"),
            ("SEQNUM", "4713"),
        ]);
        let datagram = devproto::uevent::Uevent {
            action: "change".into(),
            devpath: "/devices/virtual/net/w0".into(),
            properties: net.clone(),
        }
        .to_datagram();
        tx.send_udev(&datagram).unwrap();
        let (title, printed) = monitor.event();
        assert!(
            title.contains("change   /devices/virtual/net/w0 (net)"),
            "{title}"
        );
        assert_eq!(printed, net);
    });
}

#[test]
fn udevadm_monitor_filters_pass_our_hashes_and_bloom() {
    in_fresh_netns("udevadm_monitor_filters_pass_our_hashes_and_bloom", || {
        // Each monitor gets one event that its kernel socket filter must drop and one it
        // must pass; a wrong hash or bloom bit would drop the second and time out.
        let by_subsystem = Monitor::start(&["--subsystem-match=block/disk"]);
        let by_tag = Monitor::start(&["--tag-match=wiretest"]);
        let by_net = Monitor::start(&["--subsystem-match=net"]);
        let tx = UeventSocket::open(Group::None).unwrap();

        let mut partition = disk_event(1);
        partition.insert("DEVTYPE".into(), "partition".into());
        partition.insert("TAGS".into(), ":systemd:".into());
        partition.insert("CURRENT_TAGS".into(), ":systemd:".into());
        tx.send_udev(&encode(&partition)).unwrap();
        let net = props(&[
            ("ACTION", "add"),
            ("DEVPATH", "/devices/virtual/net/w0"),
            ("SUBSYSTEM", "net"),
            ("SEQNUM", "2"),
        ]);
        tx.send_udev(&encode(&net)).unwrap();
        let disk = disk_event(3);
        tx.send_udev(&encode(&disk)).unwrap();

        assert_eq!(by_subsystem.event().1, disk);
        assert_eq!(by_tag.event().1, disk);
        assert_eq!(by_net.event().1, net);
    });
}
