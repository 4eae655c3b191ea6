//! `devctl` against Debian's `udevadm` (systemd 252) on this machine, for everything that
//! only reads: the argument parser's answers (help aside), `trigger --dry-run --verbose`
//! over the real `/sys` with every kind of match (same devices, same order),
//! `info --attribute-walk`, `info --export-db`, `test-builtin` and `hwdb --test`. Nothing
//! here may change the system: no trigger without `--dry-run`, no `udevadm test` (Debian's
//! renames interfaces and writes the database), no `hwdb --update`. Needs `udevadm`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Output, error output and status; a command still running after 30 s is killed and
/// fails the test.
fn run(program: &str, args: &[&str]) -> (String, String, i32) {
    use std::io::Read;
    let mut child = Command::new(program)
        .args(args)
        .current_dir("/")
        .env("SYSTEMD_COLORS", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).unwrap();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        err.read_to_end(&mut s).unwrap();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} {args:?} still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (
        String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
        status.code().unwrap_or(-1),
    )
}

fn same(args: &[&str]) {
    let mut a = run("udevadm", args);
    // Messages that name the program name ours.
    a.1 = a.1.replace("udevadm:", "devctl:");
    let b = run(env!("CARGO_BIN_EXE_devctl"), args);
    assert_eq!(b, a, "devctl {args:?} differs from udevadm {args:?}");
}

/// Output, status and the error: udevadm's debug log (test-builtin raises the level)
/// surrounds its error line, which must be ours.
fn same_error(args: &[&str]) {
    let (ao, ae, ac) = run("udevadm", args);
    let (bo, be, bc) = run(env!("CARGO_BIN_EXE_devctl"), args);
    assert_eq!((&bo, bc), (&ao, ac), "devctl {args:?}");
    let ours = be.trim_end();
    assert!(
        ae.lines().any(|l| l == ours),
        "devctl {args:?} said {ours:?}; udevadm:\n{ae}"
    );
}

#[test]
fn argument_errors_are_udevadms() {
    let cases: &[&[&str]] = &[
        &[],
        &["foo"],
        &["--bogus"],
        &["-x"],
        &["--version"],
        &["version"],
        &["info"],
        &["info", "--bogus=1"],
        &["info", "-q"],
        &["info", "--query"],
        &["info", "--qu=nonsense", "/dev/null"],
        &["info", "--e"],
        &["info", "--export=1"],
        &["info", "-Z"],
        &["info", "-a", "/dev/null", "/dev/zero"],
        &["info", "-x", "--value", "/dev/null"],
        &["info", "-d", "/etc/passwd", "/dev/null"],
        &["info", "-wbogus", "/dev/null"],
        &["info", "--wait-for-initialization=bogus", "/dev/null"],
        &["info", "foo"],
        &["info", "foo.device"],
        &["info", "foo.service"],
        &["info", "/etc/passwd"],
        &["info", "--", "-x"],
        &["trigger", "-t", "bogus"],
        &["trigger", "--type=bogus"],
        &["trigger", "-c", "bogus"],
        &["trigger", "--action=help"],
        &["trigger", "-n", "-b", "/sys/nonexistent"],
        &["trigger", "-n", "--name-match=/dev/nonexistent"],
        &["trigger", "-n", "/sys/nonexistent"],
        &["trigger", "--s", "net"],
        &["settle", "-s", "1"],
        &["settle", "--seq-end=1"],
        &["settle", "-q"],
        &["settle", "-t", "bogus"],
        &["settle", "-t"],
        &["control"],
        &["control", "-l", "bogus"],
        &["control", "--log-level=9"],
        &["control", "-m", "x"],
        &["control", "-m", "-1"],
        &["control", "-p", "novalue"],
        &["control", "--ping", "extra"],
        &["control", "-t", "bogus", "--ping"],
        &["control", "--r"],
        &["control", "--re"],
        &["monitor", "--bogus"],
        &["monitor", "-s"],
        &["hwdb"],
        &["hwdb", "-t"],
        &["hwdb", "--root"],
        &["test"],
        &["test", "-a", "bogus", "/sys/class/net/lo"],
        &["test", "-N", "sometimes", "/sys/class/net/lo"],
        &["test", "--action=help"],
        &["test-builtin"],
        &["test-builtin", "net_id"],
        &["test-builtin", "-a", "bogus", "net_id", "/sys/class/net/lo"],
        &["wait"],
        &["wait", "-t", "bogus", "/dev/null"],
        &["wait", "--initialized=maybe", "/dev/null"],
        &["wait", "--initialized"],
        &["wait", "/sys/../etc"],
        &["wait", "/etc/passwd"],
    ];
    for c in cases {
        same(c);
    }
    for c in [
        &["test-builtin", "nosuchbuiltin", "/sys/class/net/lo"][..],
        &["test-builtin", "net_id", "/sys/nonexistent"],
    ] {
        same_error(c);
    }
}

#[test]
fn trigger_dry_run_lists_udevadms_devices_in_its_order() {
    let cases: &[&[&str]] = &[
        &[],
        &["--type=subsystems"],
        &["--type=all"],
        &["-t", "all", "-s", "module"],
        &["-t", "subsystems", "-s", "drivers"],
        &["-s", "net"],
        &["-s", "p*", "-S", "pci_bus"],
        &["-S", "net", "-S", "block"],
        &["-a", "ifindex"],
        &["-A", "ifindex"],
        &["-a", "ifindex=1"],
        &["-a", "dev=1:*", "-a", "dev=7:*"],
        &["-p", "INTERFACE=*"],
        &["-p", "DEVNAME"],
        &["-p", "DEV*=*null"],
        &["-y", "lo", "-y", "null"],
        &["-y", "*0"],
        &["--name-match=/dev/null"],
        &["-b", "/sys/devices/virtual/mem"],
        &["-b", "devices/virtual/mem/null"],
        &["/sys/class/net/lo"],
        &["--prioritized-subsystem=net,block"],
        &["--prioritized-subsystem=mem"],
        &["--initialized-nomatch", "-s", "mem"],
        &["-c", "add", "-s", "mem"],
    ];
    for c in cases {
        let mut args = vec!["trigger", "--dry-run", "--verbose"];
        args.extend_from_slice(c);
        same(&args);
    }
}

#[test]
fn info_reads_sysfs_as_udevadm() {
    // Devices whose attributes do not change while the test runs.
    for dev in [
        "/dev/null",
        "/sys/class/mem/zero",
        "/sys/devices/platform",
        "/dev/loop0",
    ] {
        same(&["info", dev]);
        same(&["info", "-a", dev]);
        same(&["info", "-x", "-q", "property", dev]);
    }
    same(&[
        "info",
        "-q",
        "path",
        "/sys/class/net/lo",
        "/sys/nope",
        "/dev/null",
    ]);
    same(&["info", "sys-devices-virtual-mem-null.device"]);
    same(&["info", "-t", "/sys/devices/virtual/mem"]);
    same(&["info", "-d", "/"]);
    same(&["info", "-P", "X_", "-d", "/"]);
}

#[test]
fn builtins_and_hwdb_answer_as_udevadms() {
    let nics: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for nic in &nics {
        let path = format!("/sys/class/net/{nic}");
        for b in ["net_id", "hwdb", "hwdb --subsystem=pci"] {
            let (ao, _, ac) = run("udevadm", &["test-builtin", b, &path]);
            let (bo, _, bc) = run(env!("CARGO_BIN_EXE_devctl"), &["test-builtin", b, &path]);
            assert_eq!((bo, bc), (ao, ac), "test-builtin {b} {path}");
        }
    }
    for m in [
        "pci:v00001AF4d00001041sv00001AF4sd00001041bc02sc00i00",
        "pci:v00008086d00001533*",
        "usb:v046DpC52B",
        "usb:v1D6Bp0002d0515dc09dsc00dp03ic09isc00ip00in00",
        "input:b0003v046DpC52Be0111-e0,1,2,4,k71,72,73,74,ram4,lsfw",
        "nothing-matches-this",
    ] {
        same(&["hwdb", "--test", m]);
    }
}
