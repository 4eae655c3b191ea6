//! `devmaster test-rule-runner` in a scratch directory laid out as systemd's rule-engine
//! suite lays it out (`tmpfs/sys`, `tmpfs/dev`, `run/udev/rules.d`). Needs what the runner
//! needs (root: mount namespaces, mknod); elsewhere the test says so and returns.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt};
use std::path::Path;
use std::process::{Command, Output};

fn runner(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_devmaster"))
        .arg("test-rule-runner")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

const SDA: &str = "/devices/virtual/block/sda";

fn scratch() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let sda = d.join("tmpfs/sys").join(SDA.trim_start_matches('/'));
    fs::create_dir_all(&sda).unwrap();
    fs::create_dir_all(d.join("tmpfs/sys/class/block")).unwrap();
    fs::write(
        sda.join("uevent"),
        "MAJOR=8\nMINOR=0\nDEVNAME=sda\nDEVTYPE=disk\n",
    )
    .unwrap();
    fs::write(sda.join("size"), "2048\n").unwrap();
    symlink("../../../../class/block", sda.join("subsystem")).unwrap();
    symlink(
        "../../devices/virtual/block/sda",
        d.join("tmpfs/sys/class/block/sda"),
    )
    .unwrap();
    fs::create_dir_all(d.join("tmpfs/dev")).unwrap();
    fs::create_dir_all(d.join("run/udev/rules.d")).unwrap();
    fs::write(
        d.join("run/udev/rules.d/50-test.rules"),
        "KERNEL==\"sda\", ATTR{size}==\"2048\", SYMLINK+=\"disk/by-test/x\", MODE=\"0640\", \
         TAG+=\"t\", ENV{ID_T}=\"%k\"\n",
    )
    .unwrap();
    t
}

#[test]
fn add_and_remove_in_the_suites_layout() {
    let t = scratch();
    let d = t.path();
    let check = runner(d, &["check"]);
    if !check.status.success() {
        eprintln!(
            "skipped: the runner cannot set up here: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        return;
    }
    let dev = d.join("tmpfs/dev");
    let out = runner(d, &["add", SDA]);
    assert!(out.status.success(), "{out:?}");
    let node = fs::symlink_metadata(dev.join("sda")).unwrap();
    assert!(node.file_type().is_block_device());
    assert_eq!(node.rdev(), 0x800);
    assert_eq!(node.mode() & 0o7777, 0o640);
    assert_eq!(
        fs::read_link(dev.join("disk/by-test/x")).unwrap(),
        Path::new("../../sda")
    );
    let db = fs::read_to_string(d.join("run/udev/data/b8:0")).unwrap();
    assert!(db.starts_with("S:disk/by-test/x\nI:"), "{db}");
    assert!(db.ends_with("\nE:ID_T=sda\nG:t\nQ:t\nV:1\n"), "{db}");
    assert!(d.join("run/udev/tags/t/b8:0").exists());
    // The mounts were the runner's own: nothing reached this namespace's /dev.
    assert!(!Path::new("/dev/disk/by-test").exists());

    let out = runner(d, &["remove", SDA]);
    assert!(out.status.success(), "{out:?}");
    assert!(!dev.join("sda").exists());
    assert!(!dev.join("disk").exists());
    assert!(!d.join("run/udev/data/b8:0").exists());
    assert!(!d.join("run/udev/tags/t/b8:0").exists());

    // With a delay; a second add of an existing node is devtmpfs's failure.
    assert!(runner(d, &["add", SDA, "1000"]).status.success());
    assert!(!runner(d, &["add", SDA]).status.success());
    assert!(!runner(d, &["add", SDA, "soon"]).status.success());
    assert!(!runner(d, &["add", "/devices/none"]).status.success());
    assert!(!runner(d, &["bogus"]).status.success());
}

#[test]
fn missing_directories_fail_the_set_up() {
    let t = tempfile::tempdir().unwrap();
    assert!(!runner(t.path(), &["check"]).status.success());
    assert!(!runner(t.path(), &[]).status.success());
}
