//! `devctl trigger` writing to `uevent` files, on a fake sysfs tree (where a write is just
//! a file's new content): the action, `--uuid`, write errors as udevadm reports them, and
//! `--settle`, which runs in a fresh network namespace (the test binary re-runs itself
//! under `unshare --net`) with a stand-in udevd that answers each write on the udev netlink
//! group, once with a wrong UUID first. Needs root and `unshare` for the settle test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use devmaster::devctl::{run, Env, Io};

fn fake(root: &Path) -> Env {
    let sys = root.join("sys");
    for (dev, class) in [
        ("virtual/net/d0", "net"),
        ("virtual/net/d1", "net"),
        ("virtual/mem/m0", "mem"),
    ] {
        let dir = sys.join("devices").join(dev);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("uevent"), "").unwrap();
        std::fs::create_dir_all(sys.join("class").join(class)).unwrap();
        let name = dev.rsplit('/').next().unwrap();
        symlink(
            format!("../../devices/{dev}"),
            sys.join("class").join(class).join(name),
        )
        .unwrap();
        symlink(format!("../../../../class/{class}"), dir.join("subsystem")).unwrap();
    }
    // A bus has no uevent file of its own to write to.
    std::fs::create_dir_all(sys.join("bus/fake/devices")).unwrap();
    Env {
        sys,
        dev: root.join("dev"),
        run: root.join("run"),
        root: root.to_path_buf(),
        colors: false,
        utf8: true,
    }
}

fn devctl(env: &Env, args: &[&str]) -> (String, String, i32) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(
        env,
        &args,
        &mut Io {
            out: &mut out,
            err: &mut err,
        },
    );
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
        code,
    )
}

fn uevent(env: &Env, dev: &str) -> String {
    std::fs::read_to_string(env.sys.join("devices").join(dev).join("uevent")).unwrap()
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        && &s[14..15] == "4"
}

#[test]
fn writes_the_action_to_each_device() {
    let t = tempfile::tempdir().unwrap();
    let env = fake(t.path());
    let r = devctl(&env, &["trigger", "-v", "-c", "add", "-s", "net"]);
    assert_eq!(
        r,
        (
            "/sys/devices/virtual/net/d0\n/sys/devices/virtual/net/d1\n".into(),
            String::new(),
            0
        )
    );
    assert_eq!(uevent(&env, "virtual/net/d0"), "add");
    assert_eq!(uevent(&env, "virtual/mem/m0"), "");
    // The default action, and the UUID written after it and printed.
    let (out, err, code) = devctl(&env, &["trigger", "--uuid", "-y", "m0"]);
    assert_eq!((err.as_str(), code), ("", 0));
    let written = uevent(&env, "virtual/mem/m0");
    let (action, uuid) = written.split_once(' ').unwrap();
    assert_eq!(action, "change");
    assert!(is_uuid(uuid), "{uuid}");
    assert_eq!(out, format!("{uuid}\n"));
    // --dry-run writes nothing.
    std::fs::write(env.sys.join("devices/virtual/net/d1/uevent"), "").unwrap();
    assert_eq!(devctl(&env, &["trigger", "-n", "-s", "net"]).2, 0);
    assert_eq!(uevent(&env, "virtual/net/d1"), "");
}

#[test]
fn write_errors_as_udevadm_reports_them() {
    let t = tempfile::tempdir().unwrap();
    let env = fake(t.path());
    // A missing uevent file is ignored quietly (the bus of --type=subsystems).
    assert_eq!(
        devctl(&env, &["trigger", "-t", "subsystems", "-s", "subsystem"]),
        (String::new(), String::new(), 0)
    );
    // Other errors are reported with the device's name and fail the run, which goes on.
    let d0 = env.sys.join("devices/virtual/net/d0/uevent");
    std::fs::remove_file(&d0).unwrap();
    std::fs::create_dir(&d0).unwrap();
    let r = devctl(&env, &["trigger", "-s", "net"]);
    assert_eq!(
        r,
        (
            String::new(),
            "d0: Failed to write 'change' to '/sys/devices/virtual/net/d0/uevent': Is a directory\n".into(),
            1
        )
    );
    assert_eq!(uevent(&env, "virtual/net/d1"), "change");
    // --quiet keeps the status, not the message.
    assert_eq!(
        devctl(&env, &["trigger", "-q", "-s", "net"]),
        (String::new(), String::new(), 1)
    );
}

const INNER: &str = "DEVCTL_TRIGGER_TEST_OUTER_NETNS";

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
    let out = Command::new("unshare")
        .arg("--net")
        .arg(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(INNER, netns_id())
        .stdout(Stdio::piped())
        .output()
        .expect("unshare (util-linux) must be installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "{name} failed in its network namespace"
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name} did not run in its network namespace"
    );
}

/// What udevd broadcasts for a processed device.
fn broadcast(devpath: &str, uuid: &str) -> Vec<u8> {
    let mut m = BTreeMap::new();
    for (k, v) in [
        ("ACTION", "change"),
        ("DEVPATH", devpath),
        ("SUBSYSTEM", "net"),
        ("SEQNUM", "7"),
        ("SYNTH_UUID", uuid),
    ] {
        m.insert(k.to_string(), v.to_string());
    }
    devproto::monitor::encode(&m)
}

#[test]
fn settle_waits_for_udevd_to_send_each_device_back_with_its_uuid() {
    in_fresh_netns(
        "settle_waits_for_udevd_to_send_each_device_back_with_its_uuid",
        || {
            let t = tempfile::tempdir().unwrap();
            let env = fake(t.path());
            let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let stand_in = {
                let env = env.clone();
                let finished = finished.clone();
                std::thread::spawn(move || {
                    let tx = sys::netlink::UeventSocket::open(sys::netlink::Group::None).unwrap();
                    let deadline = Instant::now() + Duration::from_secs(20);
                    let uuid_of = |d: &str| loop {
                        assert!(
                            Instant::now() < deadline,
                            "trigger never wrote {d}'s uevent file"
                        );
                        let written = uevent(&env, &format!("virtual/net/{d}"));
                        if let Some((_, u)) = written.split_once(' ') {
                            return u.to_string();
                        }
                        std::thread::sleep(Duration::from_millis(10));
                    };
                    let (u0, u1) = (uuid_of("d0"), uuid_of("d1"));
                    tx.send_udev(&broadcast("/devices/virtual/net/d0", &u0))
                        .unwrap();
                    // d1 comes back from an earlier trigger (another UUID): not settled yet.
                    tx.send_udev(&broadcast(
                        "/devices/virtual/net/d1",
                        "00000000-0000-4000-8000-000000000000",
                    ))
                    .unwrap();
                    std::thread::sleep(Duration::from_millis(300));
                    let early = finished.load(std::sync::atomic::Ordering::SeqCst);
                    tx.send_udev(&broadcast("/devices/virtual/net/d1", &u1))
                        .unwrap();
                    early
                })
            };
            let (out, err, code) = devctl(&env, &["trigger", "--settle", "-v", "-s", "net"]);
            finished.store(true, std::sync::atomic::Ordering::SeqCst);
            assert!(
                !stand_in.join().unwrap(),
                "trigger settled on an event with another UUID"
            );
            assert_eq!((err.as_str(), code), ("", 0));
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(
                &lines[..2],
                ["/sys/devices/virtual/net/d0", "/sys/devices/virtual/net/d1"]
            );
            let mut settled = lines[2..].to_vec();
            settled.sort();
            assert_eq!(
                settled,
                [
                    "settle /sys/devices/virtual/net/d0",
                    "settle /sys/devices/virtual/net/d1"
                ]
            );
        },
    );
}
