//! `devctl test`, `devctl verify` and `devctl hwdb --update`, with configuration in a
//! temporary root (`Env::root`) and the machine's real, read-only `/sys`.
//!
//! `test` is a dry run: programs run, nothing is written (no `RUN`, no attribute write, no
//! database). `verify` checks good and bad rules files and summarises as `udevadm verify`
//! (systemd 254) does. `hwdb --update` compiles sources that `systemd-hwdb` (Debian's,
//! systemd 252) also compiles; both databases must answer lookups alike.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::Command;

use devmaster::devctl::{run, Env, Io};

fn env(root: &Path) -> Env {
    Env {
        sys: "/sys".into(),
        dev: "/dev".into(),
        run: root.join("run/udev"),
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

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn test_is_a_dry_run_that_shows_each_rule() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let marker = root.join("ran");
    let rules = root.join("etc/udev/rules.d/50-t.rules");
    write(
        &rules,
        &format!(
            "KERNEL==\"zero\", PROGRAM=\"/bin/echo hello world\", RESULT==\"hello world\", ENV{{GREETING}}=\"$result\"\n\
             KERNEL==\"zero\", ENV{{ADDED}}=\"1\", SYMLINK+=\"zero-link\", TAG+=\"tested\", RUN+=\"/bin/touch {}\"\n\
             KERNEL==\"zero\", ATTR{{power/control}}=\"on\"\n\
             KERNEL==\"zero\", GOTO=\"end\"\n\
             KERNEL==\"zero\", ENV{{SKIPPED}}=\"1\"\n\
             LABEL=\"end\"\n\
             SUBSYSTEM==\"nope\", ENV{{NEVER}}=\"1\"\n",
            marker.display()
        ),
    );
    let attr_before = std::fs::read_to_string("/sys/class/mem/zero/power/control").ok();
    let (out, err, code) = devctl(&env(root), &["test", "/sys/class/mem/zero"]);
    assert_eq!(code, 0, "{err}");
    let out: Vec<String> = out
        .lines()
        .map(|l| {
            if l.starts_with("USEC_INITIALIZED=") {
                "USEC_INITIALIZED=…".into()
            } else {
                l.to_string()
            }
        })
        .collect();
    let want = format!(
        "This program is for debugging only, it does not run any program\n\
         specified by a RUN key. It may show incorrect results, because\n\
         some values may be different, or not available at a simulation run.\n\
         \n\
         DEVPATH=/devices/virtual/mem/zero\nDEVNAME=/dev/zero\nDEVMODE=0666\nMAJOR=1\nMINOR=5\n\
         ACTION=add\nSUBSYSTEM=mem\nUSEC_INITIALIZED=…\nADDED=1\nGREETING=hello world\n\
         DEVLINKS=/dev/zero-link\nTAGS=:tested:\nCURRENT_TAGS=:tested:\n\
         run: '/bin/touch {}'",
        marker.display()
    );
    assert_eq!(out.join("\n"), want);
    let f = rules.display().to_string();
    for line in [
        format!("Reading rules file: {f}"),
        format!("zero: {f}:1 PROGRAM '/bin/echo hello world' -> \"hello world\""),
        format!("zero: {f}:1 ENV{{GREETING}}=\"hello world\""),
        format!("zero: {f}:4 GOTO=\"end\""),
    ] {
        assert!(
            err.lines().any(|l| l == line),
            "missing {line:?} in:\n{err}"
        );
    }
    assert!(
        !err.contains(":5 "),
        "line 5 is skipped by the GOTO:\n{err}"
    );
    assert!(!err.contains(":7 "), "line 7 does not match:\n{err}");
    // Nothing happened to the system.
    assert!(!marker.exists(), "RUN was executed");
    assert_eq!(
        std::fs::read_to_string("/sys/class/mem/zero/power/control").ok(),
        attr_before
    );
    assert!(!root.join("run/udev/data").exists());
}

#[test]
fn test_argument_errors() {
    let t = tempfile::tempdir().unwrap();
    let e = env(t.path());
    assert_eq!(
        devctl(&e, &["test"]),
        (String::new(), "syspath parameter missing.\n".into(), 1)
    );
    let (out, err, code) = devctl(&e, &["test", "/sys/nonexistent"]);
    assert!(out.starts_with("This program is for debugging only"));
    assert_eq!(
        (err.as_str(), code),
        (
            "Failed to open device '/sys/nonexistent': No such device\n",
            1
        )
    );
}

#[test]
fn verify_reports_each_problem_and_summarises() {
    let t = tempfile::tempdir().unwrap();
    let good = t.path().join("good.rules");
    let bad = t.path().join("bad.rules");
    let empty = t.path().join("empty.rules");
    write(
        &good,
        "# fine\nKERNEL==\"sda\", SYMLINK+=\"disk0\"\n\nACTION==\"add\", \\\n  ENV{X}=\"1\"\n",
    );
    write(
        &bad,
        "KERNEL==\"sda\", SYMLINK+=\"disk0\"\nNOSUCHKEY==\"x\"\nKERNEL=\"assign-to-match\"\n",
    );
    write(&empty, "");
    let e = env(t.path());
    let g = good.display().to_string();
    assert_eq!(
        devctl(&e, &["verify", &g]),
        (
            "\n1 udev rules files have been checked.\n  Success: 1\n  Fail:    0\n".into(),
            String::new(),
            0
        )
    );
    let b = bad.display().to_string();
    let (out, err, code) = devctl(&e, &["verify", &g, &b, &empty.display().to_string()]);
    assert_eq!(
        out,
        "\n3 udev rules files have been checked.\n  Success: 2\n  Fail:    1\n"
    );
    assert_eq!(code, 1);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{b}:2: error: "))),
        "{err}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&format!("{b}:3: "))),
        "{err}"
    );
    assert_eq!(
        lines.last(),
        Some(&format!("{b}: udev rules check failed.").as_str())
    );
    assert!(!err.contains(&format!("{g}:")), "{err}");
    // A directory stands for its *.rules files; --no-summary prints nothing.
    let dir = t.path().display().to_string();
    let (out, _, code) = devctl(&e, &["verify", "--no-summary", &dir]);
    assert_eq!((out.as_str(), code), ("", 1));
    assert_eq!(
        devctl(&e, &["verify", "--root", &dir, &g]),
        (
            String::new(),
            "Combination of --root= and FILEs is not supported.\n".into(),
            1
        )
    );
    assert_eq!(
        devctl(&e, &["verify", "--root", &dir]),
        (
            String::new(),
            format!("No rules files found in {dir}.\n"),
            1
        )
    );
    let missing = t.path().join("missing.rules").display().to_string();
    let (_, err, code) = devctl(&e, &["verify", "--no-summary", &missing]);
    assert_eq!(
        (err, code),
        (
            format!("Failed to parse rules file {missing}: No such file or directory\n"),
            1
        )
    );
}

#[test]
fn verify_takes_the_rules_udev_would_load() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    // /etc hides the bad file of the same name in /usr/lib; a mask passes.
    write(&r.join("usr/lib/udev/rules.d/60-x.rules"), "BOGUS\n");
    write(
        &r.join("etc/udev/rules.d/60-x.rules"),
        "KERNEL==\"x\", ENV{A}=\"1\"\n",
    );
    write(
        &r.join("usr/lib/udev/rules.d/70-y.rules"),
        "KERNEL==\"y\", ENV{B}=\"1\"\n",
    );
    std::os::unix::fs::symlink("/dev/null", r.join("etc/udev/rules.d/80-masked.rules")).unwrap();
    write(&r.join("usr/lib/udev/rules.d/80-masked.rules"), "BOGUS\n");
    let root = r.display().to_string();
    assert_eq!(
        devctl(
            &env(Path::new("/nonexistent")),
            &["verify", "--root", &root]
        ),
        (
            "\n3 udev rules files have been checked.\n  Success: 3\n  Fail:    0\n".into(),
            String::new(),
            0
        )
    );
    // The installed rules of this machine pass too.
    let (out, err, code) = devctl(&env(Path::new("/")), &["verify"]);
    assert_eq!(code, 0, "{out}{err}");
}

fn systemd_hwdb_query(root: &Path, modalias: &str) -> String {
    let o = Command::new("systemd-hwdb")
        .args(["query", "--root"])
        .arg(root)
        .arg(modalias)
        .output()
        .expect("systemd-hwdb (systemd) must be installed");
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn hwdb_update_compiles_what_systemd_hwdb_compiles() {
    let ours = tempfile::tempdir().unwrap();
    let theirs = tempfile::tempdir().unwrap();
    // Debian's systemd-hwdb (split /usr) reads /etc/udev/hwdb.d and /lib/udev/hwdb.d.
    let sources = [
        (
            "lib/udev/hwdb.d/20-test.hwdb",
            "# comment\nusb:v1234p*\n ID_VENDOR_FROM_DATABASE=Test Vendor\n ID_X=low\n\nusb:v1234p5678*\n ID_MODEL_FROM_DATABASE=Widget\n",
        ),
        (
            "etc/udev/hwdb.d/90-local.hwdb",
            "usb:v1234p5678*\nusb:vABCDp*\n ID_X=high\n\nevdev:name:Foo*:dmi:*\n KEYBOARD_KEY_10=up\n",
        ),
    ];
    for (p, text) in sources {
        write(&ours.path().join(p), text);
        write(&theirs.path().join(p), text);
    }
    let st = Command::new("systemd-hwdb")
        .args(["update", "--root"])
        .arg(theirs.path())
        .status()
        .expect("systemd-hwdb (systemd) must be installed");
    assert!(st.success());
    // systemd-hwdb writes /etc/udev/hwdb.bin below --root, as `udevadm hwdb --update`.
    let r = ours.path().display().to_string();
    assert_eq!(
        devctl(&env(ours.path()), &["hwdb", "--update", "--root", &r]),
        (String::new(), String::new(), 0)
    );
    assert!(ours.path().join("etc/udev/hwdb.bin").exists());
    for m in [
        "usb:v1234p5678d0001",
        "usb:v1234p0000",
        "usb:vABCDp0001",
        "evdev:name:Foo Bar:dmi:bvn",
        "none",
    ] {
        let want = systemd_hwdb_query(theirs.path(), m);
        assert_eq!(
            devmaster::devctl::hwdb::query(ours.path(), m).unwrap(),
            want,
            "{m}"
        );
        // And systemd's reader takes our file.
        assert_eq!(
            systemd_hwdb_query(ours.path(), m),
            want,
            "{m} through sd-hwdb"
        );
    }
    // --usr writes below /usr/lib/udev; no sources removes the compiled file.
    assert_eq!(
        devctl(&env(ours.path()), &["hwdb", "-u", "--usr", "-r", &r]).2,
        0
    );
    assert!(ours.path().join("usr/lib/udev/hwdb.bin").exists());
    std::fs::remove_dir_all(ours.path().join("etc/udev/hwdb.d")).unwrap();
    std::fs::remove_dir_all(ours.path().join("lib/udev/hwdb.d")).unwrap();
    let bin = ours.path().join("etc/udev/hwdb.bin").display().to_string();
    assert_eq!(
        devctl(&env(ours.path()), &["hwdb", "-u", "-r", &r]),
        (
            String::new(),
            format!("No hwdb files found, compiled hwdb database {bin} removed.\n"),
            0
        )
    );
    assert_eq!(
        devctl(&env(ours.path()), &["hwdb", "-u", "-r", &r]),
        (String::new(), "No hwdb files found, skipping.\n".into(), 0)
    );
    // --strict fails on a source problem (a property line before any match).
    write(
        &ours.path().join("etc/udev/hwdb.d/10-bad.hwdb"),
        " ID_ORPHAN=1\n",
    );
    let (_, err, code) = devctl(&env(ours.path()), &["hwdb", "-u", "-s", "-r", &r]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("10-bad.hwdb:1"), "{err}");
}
