//! rtnetlink link changes on the real kernel, each test in a fresh network namespace of its
//! own: the test binary re-runs itself for that one test under `unshare --net` (util-linux),
//! so no interface of the host is ever touched. Needs root, `unshare` and `ip` (iproute2).
//! The links are `dummy` interfaces where the kernel has the module, else a veth pair (this
//! machine's kernel has no `dummy`).

// Test helpers fail the test by panicking; the no-panic rule is for shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::{Duration, Instant};

use sys::netlink::{ifindex_of, rename_link, set_link_address, set_link_mtu};

const INNER: &str = "SYS_NETLINK_TEST_OUTER_NETNS";

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
        .stdout(std::process::Stdio::piped())
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

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(args)
        .output()
        .expect("ip (iproute2)");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Adds a link called `name`: a dummy, or one end of a veth pair where `dummy` is missing.
fn add_link(name: &str) -> u32 {
    let dummy = Command::new("ip")
        .args(["link", "add", name, "type", "dummy"])
        .output()
        .unwrap();
    if !dummy.status.success() {
        ip(&["link", "add", name, "type", "veth", "peer", "name", "peer0"]);
    }
    ifindex_of(name).unwrap()
}

fn show(name: &str) -> String {
    ip(&["-o", "link", "show", "dev", name])
}

#[test]
fn ifindex_of_names_the_interfaces_index() {
    in_fresh_netns("ifindex_of_names_the_interfaces_index", || {
        // A fresh namespace has only lo, always index 1.
        assert_eq!(ifindex_of("lo").unwrap(), 1);
        let e = ifindex_of("nosuch0").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENODEV));
        let idx = add_link("d0");
        assert!(show("d0").starts_with(&format!("{idx}: d0")));
    });
}

#[test]
fn rename_link_renames_and_returns_the_kernels_refusals() {
    in_fresh_netns(
        "rename_link_renames_and_returns_the_kernels_refusals",
        || {
            let idx = add_link("d0");
            rename_link(idx, "wire0").unwrap();
            assert_eq!(ifindex_of("wire0").unwrap(), idx);
            assert!(ifindex_of("d0").is_err());

            // Older kernels refuse to rename an interface that is up (EBUSY, which udevd
            // logs as "already up, cannot rename"); 6.18, this machine's, allows it. Either way the
            // kernel's answer comes back unchanged and the name follows it.
            ip(&["link", "set", "wire0", "up"]);
            match rename_link(idx, "wire1") {
                Ok(()) => {
                    assert_eq!(ifindex_of("wire1").unwrap(), idx);
                    rename_link(idx, "wire0").unwrap();
                }
                Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EBUSY), "{e}"),
            }
            assert_eq!(ifindex_of("wire0").unwrap(), idx);
            ip(&["link", "set", "wire0", "down"]);

            // The kernel's errors, unchanged: a taken name, a name over 15 bytes, a name
            // dev_valid_name() refuses, an index that does not exist.
            let errno = |r: std::io::Result<()>| r.unwrap_err().raw_os_error();
            assert_eq!(errno(rename_link(idx, "lo")), Some(libc::EEXIST));
            assert_eq!(
                errno(rename_link(idx, "sixteen-chars-xx")),
                Some(libc::ERANGE)
            );
            assert_eq!(errno(rename_link(idx, "a/b")), Some(libc::EINVAL));
            assert_eq!(errno(rename_link(9999, "wire2")), Some(libc::ENODEV));
            let e = rename_link(idx, "a\0b").unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
            assert_eq!(ifindex_of("wire0").unwrap(), idx);
        },
    );
}

#[test]
fn set_link_mtu_and_address_change_the_link() {
    in_fresh_netns("set_link_mtu_and_address_change_the_link", || {
        let idx = add_link("d0");
        set_link_mtu(idx, 1280).unwrap();
        assert!(show("d0").contains(" mtu 1280 "), "{}", show("d0"));
        set_link_address(idx, &[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]).unwrap();
        assert!(
            show("d0").contains("link/ether 02:11:22:33:44:55 "),
            "{}",
            show("d0")
        );
        // Ethernet's minimum MTU is 68; a multicast MAC is not a valid station address.
        let errno = |r: std::io::Result<()>| r.unwrap_err().raw_os_error();
        assert_eq!(errno(set_link_mtu(idx, 10)), Some(libc::EINVAL));
        assert_eq!(
            errno(set_link_address(idx, &[1, 0, 0, 0, 0, 1])),
            Some(libc::EADDRNOTAVAIL)
        );
        assert!(show("d0").contains(" mtu 1280 "));
    });
}

#[test]
fn link_properties_and_alternative_names_change_the_link() {
    in_fresh_netns(
        "link_properties_and_alternative_names_change_the_link",
        || {
            let idx = add_link("d0");
            let p = sys::netlink::LinkProperties {
                alias: Some("uplink to the rack".into()),
                txqueuelen: Some(4242),
                gso_max_bytes: Some(32768),
                gso_max_segments: Some(100),
                ..Default::default()
            };
            sys::netlink::set_link_properties(idx, &p).unwrap();
            let details = ip(&["-d", "link", "show", "dev", "d0"]);
            assert!(details.contains("alias uplink to the rack"), "{details}");
            assert!(details.contains(" qlen 4242"), "{details}");
            assert!(details.contains("gso_max_size 32768"), "{details}");
            assert!(details.contains("gso_max_segs 100"), "{details}");
            // Nothing given: nothing sent, nothing changed.
            sys::netlink::set_link_properties(idx, &Default::default()).unwrap();
            let names = ["enp0s3".to_string(), "wired-main".to_string()];
            sys::netlink::add_alternative_names(idx, &names).unwrap();
            let details = ip(&["-d", "link", "show", "dev", "d0"]);
            assert!(details.contains("altname enp0s3"), "{details}");
            assert!(details.contains("altname wired-main"), "{details}");
            // The names are the link's: it is found by them.
            assert_eq!(ip(&["-o", "link", "show", "dev", "wired-main"]), show("d0"));
            // Taken names (here: already its own) are refused whole, as the kernel does.
            let e = sys::netlink::add_alternative_names(idx, &names).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EEXIST), "{e}");
            assert!(sys::netlink::add_alternative_names(idx, &[]).is_ok());
        },
    );
}
