//! `devctl info`, `trigger`, `wait` and `info --cleanup-db` against Debian's `udevadm`
//! (systemd 252) with a udev database: each test re-runs itself under `unshare --mount`
//! with a fresh tmpfs on `/run`, writes database entries and tag files for real devices of
//! this machine (`lo`, `/dev/null`, `loop0`, the first network interface with a PCI parent
//! if any) and compares both programs' output byte for byte, links and tags sorted (sd-device
//! prints its hash sets in an order that changes from run to run). Nothing is written
//! outside the namespace's own `/run`. Needs root, `unshare` and `udevadm`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::{Command, Stdio};

const INNER: &str = "DEVCTL_INFO_TEST_INNER";

fn in_private_run(name: &str, body: impl FnOnce()) {
    if std::env::var_os(INNER).is_some() {
        body();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg("mount -t tmpfs devctl-test /run && exec \"$0\" \"$@\"")
        .arg(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(INNER, "1")
        .stdout(Stdio::piped())
        .output()
        .expect("unshare (util-linux) must be installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{name} failed in its mount namespace");
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name} did not run in its mount namespace"
    );
}

/// Output, error output and status of a command.
fn run(program: &str, args: &[&str]) -> (String, String, i32) {
    let o = Command::new(program).args(args).output().unwrap();
    (
        normalize(&String::from_utf8_lossy(&o.stdout)),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.status.code().unwrap_or(-1),
    )
}

/// Sorts what sd-device keeps in hash sets: runs of `S:` lines, and the values of
/// `DEVLINKS`, `TAGS`, `CURRENT_TAGS` (quoted or not).
fn normalize(text: &str) -> String {
    fn sort_set(line: &str) -> String {
        let (key, sep) = if line.contains("DEVLINKS=") {
            ("DEVLINKS=", ' ')
        } else if line.contains("TAGS=") {
            ("TAGS=", ':')
        } else {
            return line.to_string();
        };
        let (head, v) = line.split_at(line.find(key).unwrap() + key.len());
        let (q, v) = match v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            Some(inner) => ("'", inner),
            None => ("", v),
        };
        let mut items: Vec<&str> = v.split(sep).filter(|s| !s.is_empty()).collect();
        items.sort();
        let body = if sep == ':' {
            format!(":{}:", items.join(":"))
        } else {
            items.join(" ")
        };
        format!("{head}{q}{body}{q}")
    }
    let mut out: Vec<String> = Vec::new();
    let mut links: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("S: ") {
            links.push(line.to_string());
            continue;
        }
        links.sort();
        out.append(&mut links);
        out.push(sort_set(line));
    }
    links.sort();
    out.append(&mut links);
    let mut s = out.join("\n");
    if text.ends_with('\n') {
        s.push('\n');
    }
    s
}

fn same(args: &[&str]) {
    let devctl = env!("CARGO_BIN_EXE_devctl");
    let (mut a, mut b) = (run("udevadm", args), run(devctl, args));
    if args.contains(&"symlink") {
        // `-q symlink` prints the link set on one line, in hash order for udevadm.
        for out in [&mut a.0, &mut b.0] {
            let mut words: Vec<&str> = out.split_whitespace().collect();
            words.sort();
            *out = words.join(" ") + "\n";
        }
    }
    assert_eq!(b, a, "devctl {args:?} differs from udevadm");
}

fn write(path: &str, text: &str) {
    let p = Path::new(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A network interface whose device has a parent bus device (a real NIC), if any.
fn real_nic() -> Option<(String, String)> {
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.into_iter().find_map(|n| {
        let real = std::fs::canonicalize(format!("/sys/class/net/{n}")).ok()?;
        if real.starts_with("/sys/devices/virtual") {
            return None;
        }
        let index = std::fs::read_to_string(format!("/sys/class/net/{n}/ifindex")).ok()?;
        Some((n, index.trim().to_string()))
    })
}

/// Database entries as udevd 252 writes them (order S, L, I, E, G, Q, V).
fn populate() {
    write(
        "/run/udev/data/n1",
        "I:1000\nE:ID_NET_NAMING_SCHEME=v252\nE:ID_Z=last set first\nE:ID_A=second\nG:systemd\nG:old\nQ:systemd\nV:1\n",
    );
    write(
        "/run/udev/data/c1:3",
        "S:nullity\nS:by-test/a\nS:by-test/b\nL:-5\nI:2000\nE:ID_TEST=1\nE:INTERFACE_ONLY_IN_DB=x\nG:uaccess\nQ:uaccess\nV:1\n",
    );
    write("/run/udev/data/b7:0", "I:3000\nE:ID_FS_TYPE=\nW:12\nV:1\n");
    for (tag, id) in [("systemd", "n1"), ("old", "n1"), ("uaccess", "c1:3")] {
        write(&format!("/run/udev/tags/{tag}/{id}"), "");
    }
    if let Some((_, index)) = real_nic() {
        write(
            &format!("/run/udev/data/n{index}"),
            "I:29872611313\nE:ID_NET_NAMING_SCHEME=v252\nE:ID_NET_NAME_MAC=enx02fc00000001\nE:ID_BUS=pci\nE:ID_NET_DRIVER=virtio_net\nE:ID_NET_LINK_FILE=/usr/lib/systemd/network/99-default.link\nG:systemd\nQ:systemd\nV:1\n",
        );
        write(&format!("/run/udev/tags/systemd/n{index}"), "");
    }
}

#[test]
fn info_with_a_database_matches_udevadm() {
    in_private_run("info_with_a_database_matches_udevadm", || {
        populate();
        let mut cases: Vec<Vec<String>> = Vec::new();
        let mut add = |v: &[&str]| cases.push(v.iter().map(|s| s.to_string()).collect());
        for dev in [
            "/sys/class/net/lo",
            "/dev/null",
            "/dev/loop0",
            "/sys/class/mem/zero",
        ] {
            add(&["info", dev]);
            add(&["info", "-q", "property", dev]);
            add(&["info", "-q", "symlink", dev]);
            add(&["info", "-r", "-q", "symlink", dev]);
            add(&["info", "-q", "name", dev]);
            add(&["info", "-x", "-q", "property", dev]);
            add(&["info", "-P", "P_", "-q", "env", dev]);
            add(&["info", "-w0.3", dev]);
        }
        if let Some((nic, _)) = real_nic() {
            add(&["info", &format!("/sys/class/net/{nic}")]);
            add(&["info", "-a", &format!("/sys/class/net/{nic}"), "-q", "path"]);
        }
        add(&[
            "info",
            "--property=ID_A,ID_Z",
            "-q",
            "property",
            "/sys/class/net/lo",
        ]);
        add(&["info", "--property=", "-q", "property", "/sys/class/net/lo"]);
        add(&["info", "-q", "symlink", "-n", "null"]);
        add(&["info", "-q", "path", "-n", "nullity"]);
        add(&["info", "-e"]);
        add(&["trigger", "-nv", "-g", "systemd"]);
        add(&["trigger", "-nv", "-g", "systemd", "-g", "uaccess"]);
        add(&["trigger", "-nv", "--initialized-match"]);
        add(&["trigger", "-nv", "--initialized-nomatch", "-s", "mem"]);
        add(&["trigger", "-nv", "-p", "ID_*=*"]);
        add(&["trigger", "-nv", "-p", "ID_TEST=1", "-p", "ID_A=second"]);
        add(&["wait", "/sys/class/net/lo", "/dev/null"]);
        add(&["wait", "--initialized=no", "/sys/class/mem/zero"]);
        add(&["wait", "--removed", "/sys/class/net/nothing-here"]);
        add(&["wait", "-t", "0.3", "/sys/class/mem/zero"]);
        add(&["wait", "relative/path"]);
        for c in &cases {
            let args: Vec<&str> = c.iter().map(String::as_str).collect();
            same(&args);
        }
    });
}

/// Every path below `dir`, with a mark for directories.
fn tree(dir: &str) -> Vec<String> {
    fn walk(p: &Path, base: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(p) else { return };
        for e in rd.flatten() {
            let rel = e.path().strip_prefix(base).unwrap().display().to_string();
            if e.file_type().unwrap().is_dir() {
                out.push(format!("{rel}/"));
                walk(&e.path(), base, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new(dir), Path::new(dir), &mut out);
    out.sort();
    out
}

#[test]
fn cleanup_db_removes_what_udevadm_removes() {
    in_private_run("cleanup_db_removes_what_udevadm_removes", || {
        use std::os::unix::fs::PermissionsExt;
        let setup = || {
            let _ = std::fs::remove_dir_all("/run/udev");
            populate();
            write("/run/udev/data/+net:kept", "E:A=1\n");
            std::fs::set_permissions(
                "/run/udev/data/+net:kept",
                std::fs::Permissions::from_mode(0o1644),
            )
            .unwrap();
            write("/run/udev/tags/systemd/+net:kept", "");
            write("/run/udev/links/disk\\x2fby-id\\x2fx/b7:0", "");
            write("/run/udev/links/disk\\x2fby-id\\x2fy/+net:kept", "");
            write("/run/udev/static_node-tags/uaccess/snd\\x2fseq", "");
            write("/run/udev/watch/3", "");
            write("/run/udev/queue", "");
        };
        setup();
        let a = run("udevadm", &["info", "--cleanup-db"]);
        let after_udevadm = tree("/run/udev");
        setup();
        let b = run(env!("CARGO_BIN_EXE_devctl"), &["info", "-c"]);
        assert_eq!(b, a);
        assert_eq!(tree("/run/udev"), after_udevadm);
        assert!(
            after_udevadm.contains(&"data/+net:kept".to_string()),
            "{after_udevadm:?}"
        );
    });
}
