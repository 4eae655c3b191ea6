//! The daemon as a process: crash, timeout, ordering, exit, the control socket with
//! Debian's `udevadm`, inotify on rules and watched nodes, sd_notify. The workers are made
//! to misbehave with `--test-faults` (`DEVMASTER_TEST_FAULT` in an event), so these tests
//! exercise the daemon's own paths whatever the rules engine does; `daemon_rules.rs` does
//! the same through real rules. Every event ends in the log as "SEQNUM=N processed",
//! "failed" (processing failed: both are a finished event here) or a worker's death.
//! Needs root, util-linux (`unshare`, `nsenter`) and, for the control tests, Debian's
//! `udev` package (`udevadm`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod daemon_support;

use daemon_support::{line_of, process_exists, usable, Daemon, Setup};

fn faults(extra: &[&str]) -> Setup {
    let mut args = vec!["--test-faults".to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    Setup {
        args,
        ..Setup::default()
    }
}

/// The log line index where SEQNUM=`n` ended with a reply.
fn finished(log: &str, n: u64) -> Option<usize> {
    let tag = format!("SEQNUM={n} ");
    log.lines().position(|l| {
        l.contains(&tag) && (l.contains(" processed by ") || l.contains(" failed by "))
    })
}

fn started(log: &str, n: u64) -> Option<usize> {
    line_of(log, &[&format!("SEQNUM={n} ("), "running on worker"])
}

fn wait_finished(d: &Daemon, n: u64) -> String {
    d.wait_for(
        || finished(&d.log_text(), n).is_some(),
        &format!("SEQNUM={n} to finish"),
    );
    d.log_text()
}

#[test]
fn a_crashing_worker_costs_only_its_event() {
    if !usable() {
        return;
    }
    let d = Daemon::start(faults(&["--children-max=2"]));
    d.send(1, "/devices/a", &[("DEVMASTER_TEST_FAULT", "crash")]);
    d.send(2, "/devices/a", &[]);
    d.send(3, "/devices/b", &[]);
    let log = wait_finished(&d, 2);
    let log = if finished(&log, 3).is_none() {
        wait_finished(&d, 3)
    } else {
        log
    };
    let death = line_of(&log, &["a: Worker [", "terminated by signal 11 (SEGV)."]).expect(&log);
    assert!(started(&log, 2).unwrap() > death, "{log}");
    assert!(finished(&log, 1).is_none(), "1 never replied");
    d.wait_for(|| !d.run.join("queue").exists(), "the queue file to go");
}

#[test]
fn a_crash_is_broadcast_to_libudev_listeners_as_udevd_does() {
    if !usable() {
        return;
    }
    if std::process::Command::new("udevadm")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no udevadm (Debian's udev package)");
        return;
    }
    let d = Daemon::start(faults(&[]));
    // Debian's libudev parses our broadcast: the oracle for the wire format and for
    // udevd's UDEV_WORKER_* properties of a failed event.
    let m = d.monitor(&["--udev", "--property"]);
    d.send(
        1,
        "/devices/a",
        &[("DEVMASTER_TEST_FAULT", "crash"), ("FOO", "bar")],
    );
    let block = m.wait_block(|b| b.iter().any(|(k, v)| k == "SEQNUM" && v == "1"));
    let get = |k: &str| {
        block
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("ACTION"), Some("add"), "{block:?}");
    assert_eq!(get("DEVPATH"), Some("/devices/a"));
    assert_eq!(get("SUBSYSTEM"), Some("test"));
    assert_eq!(get("FOO"), Some("bar"));
    assert_eq!(get("UDEV_WORKER_FAILED"), Some("1"));
    assert_eq!(get("UDEV_WORKER_SIGNAL"), Some("11"));
    assert_eq!(get("UDEV_WORKER_SIGNAL_NAME"), Some("SEGV"));
    // The worker broadcasts the events it finished itself.
    d.send(2, "/devices/a", &[]);
    let block = m.wait_block(|b| b.iter().any(|(k, v)| k == "SEQNUM" && v == "2"));
    assert!(
        block.iter().all(|(k, _)| k != "UDEV_WORKER_SIGNAL"),
        "{block:?}"
    );
}

#[test]
fn a_worker_exiting_early_costs_only_its_event() {
    if !usable() {
        return;
    }
    let d = Daemon::start(faults(&[]));
    d.send(1, "/devices/a", &[("DEVMASTER_TEST_FAULT", "exit=3")]);
    d.send(2, "/devices/a", &[]);
    let log = wait_finished(&d, 2);
    let death = line_of(&log, &["a: Worker [", "exited with return code 3."]).expect(&log);
    assert!(started(&log, 2).unwrap() > death, "{log}");
}

#[test]
fn a_hanging_worker_is_warned_about_then_killed_at_the_event_timeout() {
    if !usable() {
        return;
    }
    let d = Daemon::start(faults(&["--event-timeout=2"]));
    d.send(1, "/devices/a", &[("DEVMASTER_TEST_FAULT", "hang")]);
    d.send(2, "/devices/a/child", &[]);
    let log = wait_finished(&d, 2);
    let warn = line_of(
        &log,
        &["a: Worker [", "processing SEQNUM=1 is taking a long time"],
    );
    let kill = line_of(&log, &["a: Worker [", "processing SEQNUM=1 killed"]);
    let death = line_of(&log, &["a: Worker [", "terminated by signal 9 (KILL)."]);
    let (Some(warn), Some(kill), Some(death)) = (warn, kill, death) else {
        panic!("{log}");
    };
    assert!(warn < kill && kill < death, "{log}");
    assert!(
        started(&log, 2).unwrap() > death,
        "2 waited for 1 to end: {log}"
    );
}

#[test]
fn events_of_one_device_run_in_order_others_in_parallel() {
    if !usable() {
        return;
    }
    let d = Daemon::start(faults(&["--children-max=4"]));
    d.send(1, "/devices/a", &[("DEVMASTER_TEST_FAULT", "sleep=1000")]);
    d.send(2, "/devices/a/b", &[]);
    d.send(3, "/devices/c", &[]);
    d.send(4, "/devices/a", &[]);
    let log = wait_finished(&d, 4);
    let log = if finished(&log, 3).is_none() {
        wait_finished(&d, 3)
    } else {
        log
    };
    let one_done = finished(&log, 1).expect(&log);
    assert!(
        finished(&log, 3).unwrap() < one_done,
        "3 ran meanwhile: {log}"
    );
    assert!(
        started(&log, 2).unwrap() > one_done,
        "2 waited for its parent: {log}"
    );
    assert!(
        started(&log, 4).unwrap() > finished(&log, 2).unwrap(),
        "{log}"
    );
}

#[test]
fn sigterm_finishes_the_running_event_drops_the_queue_and_exits() {
    if !usable() {
        return;
    }
    let mut d = Daemon::start(faults(&[]));
    d.send(1, "/devices/a", &[("DEVMASTER_TEST_FAULT", "sleep=1500")]);
    d.wait_for(|| started(&d.log_text(), 1).is_some(), "SEQNUM=1 to start");
    d.send(2, "/devices/a", &[]);
    d.wait_log("SEQNUM=2 queued");
    assert!(d.run.join("queue").exists());
    d.signal("TERM");
    let status = d.wait_exit();
    assert!(status.success(), "{status:?}");
    let log = d.log_text();
    assert!(
        finished(&log, 1).is_some(),
        "the running event finished: {log}"
    );
    assert!(
        started(&log, 2).is_none(),
        "the queued one was dropped: {log}"
    );
    assert!(!d.run.join("queue").exists());
    for pid in d.worker_pids() {
        assert!(!process_exists(pid), "worker {pid} is gone");
    }
}

#[test]
fn udevadm_control_and_settle_speak_to_us() {
    if !usable() {
        return;
    }
    if std::process::Command::new("udevadm")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no udevadm (Debian's udev package)");
        return;
    }
    let mut d = Daemon::start(Setup {
        udev_run: true,
        ..faults(&[])
    });
    let ok = |args: &[&str]| {
        let out = d.udevadm(args);
        assert!(
            out.status.success(),
            "udevadm {args:?}: {}\n--- log ---\n{}",
            String::from_utf8_lossy(&out.stderr),
            d.log_text()
        );
    };
    ok(&["control", "--ping"]);
    d.wait_log("Received udev control message (PING)");
    ok(&[
        "control",
        "--children-max=3",
        "--property=FOO=bar",
        "--reload",
    ]);
    d.wait_log("setting children_max=3");
    d.wait_log("setting 'FOO=bar'");
    d.wait_log("Reloading rules");
    ok(&["control", "--stop-exec-queue"]);
    d.send(1, "/devices/a", &[]);
    // settle pings first, so the event is queued when it looks at /run/udev/queue.
    let out = d.udevadm(&["settle", "--timeout=1"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the queue is stopped: {}",
        d.log_text()
    );
    assert!(started(&d.log_text(), 1).is_none());
    ok(&["control", "--start-exec-queue"]);
    ok(&["settle", "--timeout=20"]);
    assert!(
        finished(&d.log_text(), 1).is_some(),
        "settle returned after the event"
    );
    ok(&["control", "--log-level=info"]);
    d.wait_log("setting log_level=6");
    ok(&["control", "--exit"]);
    let status = d.wait_exit();
    assert!(status.success(), "{status:?}");
}

#[test]
fn settle_waits_for_events_queued_before_its_ping() {
    if !usable() {
        return;
    }
    if std::process::Command::new("udevadm")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no udevadm (Debian's udev package)");
        return;
    }
    let d = Daemon::start(Setup {
        udev_run: true,
        ..faults(&[])
    });
    d.send(1, "/devices/a", &[("DEVMASTER_TEST_FAULT", "sleep=800")]);
    let out = d.udevadm(&["settle", "--timeout=20"]);
    assert!(out.status.success());
    assert!(finished(&d.log_text(), 1).is_some(), "{}", d.log_text());
}

#[test]
fn a_changed_rules_directory_reloads_and_reports_bad_lines() {
    if !usable() {
        return;
    }
    let d = Daemon::start(faults(&[]));
    d.send(1, "/devices/a", &[]);
    wait_finished(&d, 1);
    assert!(!d.log_text().contains("Reloading rules"));
    std::fs::write(d.rules.join("50-new.rules"), "KERNEL==\"x\", BOGUS=\"1\"\n").unwrap();
    d.wait_log("Reloading rules");
    d.wait_log("50-new.rules:1: error:");
    // The old worker is retired: the next event gets a new one.
    d.send(2, "/devices/a", &[]);
    let log = wait_finished(&d, 2);
    assert_eq!(d.worker_pids().len(), 2, "{log}");
}

#[test]
fn a_watched_node_closed_after_writing_gets_a_change_event() {
    if !usable() {
        return;
    }
    let d = Daemon::start(faults(&[]));
    let devpath = "/devices/virtual/test/w";
    d.add_device(devpath, "test", "MAJOR=240\nMINOR=1\nDEVNAME=wnode\n");
    std::fs::write(d.dev.join("wnode"), "").unwrap();
    d.send(
        1,
        devpath,
        &[
            ("MAJOR", "240"),
            ("MINOR", "1"),
            ("DEVNAME", "wnode"),
            ("DEVMASTER_TEST_FAULT", "watch"),
        ],
    );
    d.wait_log("for changes");
    // udevd 252's layout: id -> wd and wd -> id symlinks.
    let wd = std::fs::read_link(d.run.join("watch/c240:1")).unwrap();
    assert_eq!(
        std::fs::read_link(d.run.join("watch").join(&wd)).unwrap(),
        std::path::PathBuf::from("c240:1")
    );
    let uevent = d.sys.join(devpath.trim_start_matches('/')).join("uevent");
    std::fs::write(d.dev.join("wnode"), "new content").unwrap();
    d.wait_for(
        || std::fs::read_to_string(&uevent).unwrap_or_default() == "change",
        "\"change\" written to the device's uevent file",
    );
    // A removal ends the watch.
    d.send(
        2,
        devpath,
        &[
            ("ACTION", "remove"),
            ("MAJOR", "240"),
            ("MINOR", "1"),
            ("DEVNAME", "wnode"),
        ],
    );
    d.wait_for(|| !d.run.join("watch/c240:1").exists(), "the watch to end");
}

#[test]
fn ready_is_notified_with_the_worker_limit() {
    if !usable() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    let sock = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(daemon_support::DEADLINE))
        .unwrap();
    let _d = Daemon::start(Setup {
        env: vec![("NOTIFY_SOCKET".into(), path.display().to_string())],
        ..faults(&["--children-max=3"])
    });
    let mut buf = [0u8; 256];
    let n = sock.recv(&mut buf).unwrap();
    assert_eq!(
        std::str::from_utf8(&buf[..n]).unwrap(),
        "READY=1\nSTATUS=Processing with 3 children at max"
    );
}

#[test]
fn bad_options_are_refused_and_help_works() {
    let bin = env!("CARGO_BIN_EXE_devmaster");
    let out = std::process::Command::new(bin)
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized option '--bogus'"));
    let out = std::process::Command::new(bin)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--children-max=INT"));
}

/// Workers are forks of the daemon: they must not keep its descriptors (the control
/// socket, the uevent source, inotify, other workers' channels), or a worker would hold
/// `/run/udev/control` open after the daemon died, or see events meant for the daemon.
#[test]
fn a_worker_holds_none_of_the_daemons_descriptors() {
    if !usable() {
        return;
    }
    let d = Daemon::start(faults(&["--children-max=2"]));
    d.send(1, "/devices/a", &[("DEVMASTER_TEST_FAULT", "sleep=3000")]);
    d.send(2, "/devices/b", &[("DEVMASTER_TEST_FAULT", "sleep=3000")]);
    d.wait_for(|| d.worker_pids().len() == 2, "two workers");
    for pid in d.worker_pids() {
        let mut fds: Vec<(u32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .filter_map(|e| {
                let e = e.ok()?;
                let n = e.file_name().to_str()?.parse().ok()?;
                Some((n, std::fs::read_link(e.path()).ok()?.display().to_string()))
            })
            .collect();
        fds.sort();
        let kinds: Vec<&str> = fds
            .iter()
            .filter(|(n, _)| *n > 2)
            .map(|(_, t)| match t.as_str() {
                t if t.starts_with("socket:") => "socket",
                t if t.contains("signalfd") => "signalfd",
                t => t,
            })
            .collect();
        // Descriptor 3 is the channel to the daemon; then its own SIGTERM signalfd and
        // the netlink socket it broadcasts on.
        assert_eq!(
            kinds,
            ["socket", "signalfd", "socket"],
            "worker {pid}: {fds:?}"
        );
    }
}

/// A worker's messages name it, not the daemon it was forked from.
#[test]
fn worker_messages_carry_the_workers_name() {
    if !usable() {
        return;
    }
    let d = Daemon::start(faults(&[]));
    d.send(1, "/devices/a", &[]);
    let log = wait_finished(&d, 1);
    let pid = d.worker_pids()[0];
    assert!(
        log.lines()
            .any(|l| l.starts_with(&format!("devmaster-worker[{pid}]: "))),
        "{log}"
    );
}
