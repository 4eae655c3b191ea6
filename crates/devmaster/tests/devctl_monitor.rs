//! `devctl monitor` against Debian's `udevadm monitor` (systemd 252) on the same events,
//! in a fresh network namespace (the test binary re-runs itself for the one test under
//! `unshare --net`): udev-group messages must never be sent in the host's namespace, where a
//! real udevd or its listeners would act on them.
//!
//! Both monitors run side by side; the test sends libudev messages to the udev group (with
//! properties in a deliberate order, a relative `DEVNAME`, `MAJOR`/`MINOR` early, several
//! links and tags) and creates a veth pair so the kernel sends real uevents. Each output is split into events and compared per group,
//! the timestamps masked; with `--subsystem-match`/`--tag-match` too. Needs root, `unshare`
//! (util-linux), `ip` (iproute2) and `udevadm` (udev).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use sys::netlink::{Group, UeventSocket};

const INNER: &str = "DEVCTL_MONITOR_TEST_OUTER_NETNS";
const TIMEOUT: Duration = Duration::from_secs(20);

fn netns_id() -> String {
    std::fs::read_link("/proc/self/ns/net")
        .unwrap()
        .display()
        .to_string()
}

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
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{name} did not finish in its network namespace within 90 s");
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

/// A running monitor and its output lines.
struct Mon {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Mon {
    fn start(program: &str, args: &[&str]) -> Mon {
        let mut child = Command::new(program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        let out = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let mut m = Mon {
            child,
            lines: rx,
            seen: Vec::new(),
        };
        // The header ends with a blank line once the sockets are bound.
        m.until(|seen| seen.len() > 1 && seen.last().is_some_and(|l| l.is_empty()));
        m.seen.clear();
        m
    }

    fn until(&mut self, done: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        while !done(&self.seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "monitor output so far: {:#?}", self.seen);
            if let Ok(l) = self.lines.recv_timeout(left) {
                self.seen.push(l);
            }
        }
    }

    /// Events as (group, text with the timestamp masked).
    fn events(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut cur: Option<(String, String)> = None;
        for l in &self.seen {
            if l.starts_with("UDEV") || l.starts_with("KERNEL") {
                out.extend(cur.take());
                let group = l.split(['[', ' ']).next().unwrap().to_string();
                let masked = match (l.find('['), l.find(']')) {
                    (Some(a), Some(b)) => format!("{}[T]{}", &l[..a], &l[b + 1..]),
                    _ => l.clone(),
                };
                cur = Some((group, masked + "\n"));
            } else if let Some((_, t)) = cur.as_mut() {
                t.push_str(&unhash(l));
                t.push('\n');
            }
        }
        out.extend(cur);
        out
    }

    fn count(&self, group: &str, needle: &str) -> usize {
        self.events()
            .iter()
            .filter(|(g, t)| g == group && t.contains(needle))
            .count()
    }
}

impl Drop for Mon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// sd-device keeps links and tags in hash sets, so udevadm prints them in an order that
/// changes from run to run: compare them sorted.
fn unhash(line: &str) -> String {
    for (key, sep) in [("DEVLINKS=", " "), ("TAGS=", ":"), ("CURRENT_TAGS=", ":")] {
        if let Some(v) = line.strip_prefix(key) {
            let mut items: Vec<&str> = v.split(sep).filter(|s| !s.is_empty()).collect();
            items.sort();
            return if sep == ":" {
                format!("{key}:{}:", items.join(":"))
            } else {
                format!("{key}{}", items.join(" "))
            };
        }
    }
    line.to_string()
}

/// A libudev message whose properties go out in the order given (udevd sends them in the
/// order rules set them); header fields from `devproto::monitor::encode`.
fn message(props: &[(&str, &str)]) -> Vec<u8> {
    let map = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut bytes = devproto::monitor::encode(&map);
    bytes.truncate(40);
    let mut body = b"UDEV_DATABASE_VERSION=1\0".to_vec();
    for (k, v) in props {
        body.extend_from_slice(format!("{k}={v}\0").as_bytes());
    }
    bytes[20..24].copy_from_slice(&(body.len() as u32).to_ne_bytes());
    bytes.extend(body);
    bytes
}

fn udev_messages() -> Vec<Vec<u8>> {
    vec![
        message(&[
            ("ACTION", "add"),
            ("DEVPATH", "/devices/virtual/block/wire0"),
            ("SUBSYSTEM", "block"),
            ("MAJOR", "7"),
            ("MINOR", "99"),
            ("DEVNAME", "wire0"),
            ("DEVTYPE", "disk"),
            ("SEQNUM", "11"),
            ("USEC_INITIALIZED", "123456789"),
            ("ID_Z_FIRST", "set before ID_A"),
            ("ID_A", "x y"),
            ("DEVLINKS", "/dev/disk/by-id/b /dev/disk/by-id/a"),
            ("TAGS", ":wiretest:"),
            ("CURRENT_TAGS", ":wiretest:"),
        ]),
        message(&[
            ("ACTION", "change"),
            ("DEVPATH", "/devices/virtual/net/wired"),
            ("SUBSYSTEM", "net"),
            ("INTERFACE", "wired"),
            ("IFINDEX", "42"),
            ("SEQNUM", "12"),
            ("ID_NET_NAME", "wired"),
        ]),
        message(&[
            ("ACTION", "remove"),
            ("DEVPATH", "/devices/virtual/block/wire0"),
            ("SUBSYSTEM", "block"),
            ("DEVTYPE", "partition"),
            ("SEQNUM", "13"),
            ("DRIVER", "none"),
        ]),
    ]
}

fn sentinel() -> Vec<u8> {
    message(&[
        ("ACTION", "add"),
        ("DEVPATH", "/devices/virtual/block/sentinel"),
        ("SUBSYSTEM", "block"),
        ("DEVTYPE", "disk"),
        ("SEQNUM", "99"),
        ("TAGS", ":wiretest:"),
    ])
}

#[test]
fn monitor_prints_what_udevadm_monitor_prints() {
    in_fresh_netns("monitor_prints_what_udevadm_monitor_prints", || {
        let devctl = env!("CARGO_BIN_EXE_devctl");
        let both = ["monitor", "--udev", "--kernel", "--property"];
        let filtered = ["monitor", "-u", "-p", "-s", "block/disk", "-t", "wiretest"];
        let mut a = Mon::start("udevadm", &both);
        let mut b = Mon::start(devctl, &both);
        let mut fa = Mon::start("udevadm", &filtered);
        let mut fb = Mon::start(devctl, &filtered);
        let kernel = UeventSocket::open(Group::Kernel).unwrap();
        let tx = UeventSocket::open(Group::None).unwrap();
        for m in udev_messages() {
            tx.send_udev(&m).unwrap();
        }
        let st = Command::new("ip")
            .args([
                "link", "add", "wire1", "type", "veth", "peer", "name", "wire2",
            ])
            .status()
            .unwrap();
        assert!(st.success(), "ip link add failed");
        // How many kernel uevents creating the interfaces made.
        let mut n_kernel = 0;
        let mut buf = Vec::new();
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            match kernel.recv(&mut buf).unwrap() {
                Some(s) if s.portid == 0 => n_kernel += 1,
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        assert!(n_kernel >= 1, "no kernel uevent for the veth pair");
        tx.send_udev(&sentinel()).unwrap();
        let done = |m: &Mon| {
            m.count("UDEV", "sentinel") == 1
                && m.count("KERNEL", "") == n_kernel
                && m.seen.last().is_some_and(|l| l.is_empty())
        };
        for m in [&mut a, &mut b] {
            let deadline = Instant::now() + TIMEOUT;
            while !done(m) {
                assert!(Instant::now() < deadline, "output so far: {:#?}", m.seen);
                if let Ok(l) = m.lines.recv_timeout(Duration::from_millis(100)) {
                    m.seen.push(l);
                }
            }
        }
        for m in [&mut fa, &mut fb] {
            m.until(|seen| seen.iter().any(|l| l.contains("sentinel")));
            // The property lines and the blank line after the sentinel's line.
            m.until(|seen| {
                seen.last().is_some_and(|l| l.is_empty())
                    && seen.iter().any(|l| l.contains("sentinel"))
            });
        }
        for g in ["UDEV", "KERNEL"] {
            let pick = |m: &Mon| -> Vec<String> {
                m.events()
                    .into_iter()
                    .filter(|(grp, _)| grp == g)
                    .map(|(_, t)| t)
                    .collect()
            };
            assert_eq!(pick(&b), pick(&a), "{g} events differ");
        }
        assert_eq!(fb.events(), fa.events(), "filtered events differ");
        // The filter let through exactly the disks tagged wiretest.
        assert_eq!(fa.events().len(), 2);
        print!("{}", a.seen.join("\n"));
    });
}
