//! cgroup v2 on the real kernel: a spawned process lands in its group, the group reports
//! populated/empty, and killing the group takes forked children too. Needs root and a
//! writable cgroup2 mount (as the test command runs; inside our VM it is /sys/fs/cgroup).

// Test helpers fail the test by panicking; the no-panic rule is for shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::CString;
use std::time::{Duration, Instant};
use sys::cgroup::{find_cgroup2, Cgroup};
use sys::process::{wait_for, Exit};
use sys::spawn::{spawn, Plan};

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn spawned_processes_live_in_their_group_and_die_with_it() {
    let root = find_cgroup2().expect("no cgroup2 mount: the tests need one (see README)");
    let name = format!("sysmaster-test-{}/a.service", std::process::id());
    let group = Cgroup::create(&root, &name).unwrap();
    assert!(!group.is_populated().unwrap());

    // A service that forks a grandchild and waits: two processes in the group.
    let plan = Plan {
        path: c("/bin/sh"),
        argv: vec![c("sh"), c("-c"), c("sleep 300 & wait")],
        env: vec![c("PATH=/usr/bin:/bin")],
        cgroup_procs: Some(group.procs_for_writing().unwrap()),
        ..Plan::default()
    };
    let child = spawn(&plan).unwrap();
    let pid = child.pid;
    child.wait_exec().unwrap();
    wait_until("both processes in the group", || {
        group.pids().unwrap().len() == 2
    });
    assert!(group.pids().unwrap().contains(&pid));
    assert!(group.is_populated().unwrap());

    group.kill_all().unwrap();
    assert_eq!(
        wait_for(pid).unwrap(),
        Exit::Killed {
            signal: libc::SIGKILL,
            core_dumped: false
        }
    );
    // The grandchild is not our child: it is gone when the group is empty.
    wait_until("the group to empty", || !group.is_populated().unwrap());
    Cgroup::open(root.join(format!("sysmaster-test-{}", std::process::id())))
        .remove()
        .unwrap();
}

#[test]
fn group_paths_cannot_escape_the_root() {
    let root = std::env::temp_dir();
    assert!(Cgroup::create(&root, "../etc").is_err());
    assert!(Cgroup::create(&root, "a/./b").is_err());
}
