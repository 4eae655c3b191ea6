//! The daemon's crash, timeout and ordering guarantees through real rules: a `PROGRAM`
//! that kills its worker, programs that together outlast the event timeout, programs that
//! record when they run. These need `worker::process` to run rules (PROGRAM, `$env{}`),
//! unlike `daemon.rs`, which makes workers misbehave with `--test-faults`. Needs root and
//! util-linux (`unshare`, `nsenter`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod daemon_support;

use daemon_support::{line_of, usable, Daemon, Setup};

const RULES: &str = r#"SUBSYSTEM!="test", GOTO="end"
ENV{CRASH}=="1", PROGRAM="/bin/sh -c 'kill -SEGV $$PPID; sleep 5'"
ENV{SLOW}=="1", PROGRAM="/bin/sleep 1.5"
ENV{SLOW}=="1", PROGRAM="/bin/sleep 1.5"
ENV{ORDER}=="1", PROGRAM="/bin/sh -c 'echo start $env{SEQNUM} >>@DIR@/order; sleep 0.5; echo end $env{SEQNUM} >>@DIR@/order'"
LABEL="end"
"#;

fn start(args: &[&str]) -> Daemon {
    let d = Daemon::start(Setup {
        args: args.iter().map(|s| s.to_string()).collect(),
        rules: vec![("50-test.rules".into(), RULES.into())],
        ..Setup::default()
    });
    for p in ["/devices/a", "/devices/a/b", "/devices/c"] {
        d.add_device(p, "test", "");
    }
    d
}

fn processed(log: &str, n: u64) -> Option<usize> {
    line_of(log, &[&format!("SEQNUM={n} processed by")])
}

#[test]
fn a_program_that_kills_its_worker_costs_only_that_event() {
    if !usable() {
        return;
    }
    let d = start(&[]);
    d.send(1, "/devices/a", &[("CRASH", "1")]);
    d.send(2, "/devices/a", &[]);
    d.wait_for(
        || processed(&d.log_text(), 2).is_some(),
        "SEQNUM=2 processed",
    );
    let log = d.log_text();
    let death = line_of(&log, &["Worker [", "terminated by signal 11 (SEGV)."]).expect(&log);
    assert!(processed(&log, 2).unwrap() > death, "{log}");
}

#[test]
fn programs_outlasting_the_event_timeout_get_the_worker_killed() {
    if !usable() {
        return;
    }
    let d = start(&["--event-timeout=2"]);
    d.send(1, "/devices/a", &[("SLOW", "1")]);
    d.send(2, "/devices/a", &[]);
    d.wait_for(
        || processed(&d.log_text(), 2).is_some(),
        "SEQNUM=2 processed",
    );
    let log = d.log_text();
    let warn = line_of(&log, &["processing SEQNUM=1 is taking a long time"]).expect(&log);
    let kill = line_of(&log, &["processing SEQNUM=1 killed"]).expect(&log);
    let death = line_of(&log, &["terminated by signal 9 (KILL)."]).expect(&log);
    assert!(
        warn < kill && kill < death && death < processed(&log, 2).unwrap(),
        "{log}"
    );
}

#[test]
fn programs_for_one_device_run_one_event_after_the_other() {
    if !usable() {
        return;
    }
    let d = start(&["--children-max=4"]);
    d.send(1, "/devices/a", &[("ORDER", "1")]);
    d.send(2, "/devices/a/b", &[("ORDER", "1")]);
    d.send(3, "/devices/c", &[("ORDER", "1")]);
    let order = d.dir.path().join("order");
    d.wait_for(
        || {
            std::fs::read_to_string(&order)
                .unwrap_or_default()
                .lines()
                .count()
                == 6
        },
        "six lines in the order file",
    );
    let text = std::fs::read_to_string(&order).unwrap();
    let at = |l: &str| text.lines().position(|x| x == l).expect(&text);
    assert!(
        at("end 1") < at("start 2"),
        "the child waited for its parent:\n{text}"
    );
    assert!(
        at("start 3") < at("end 1"),
        "another device ran meanwhile:\n{text}"
    );
}

/// `OPTIONS+="static_node=..."` at start, as udevd: the node gets its line's group and
/// mode whatever the line's matches, and each tag a link under `static_node-tags`.
#[test]
fn static_nodes_get_their_permissions_at_start() {
    if !usable() {
        return;
    }
    let d = Daemon::start(Setup {
        rules: vec![(
            "50-static.rules".into(),
            "KERNEL==\"nothing-matches-this\", GROUP=\"4\", MODE=\"0664\", TAG+=\"uaccess\", \
             OPTIONS+=\"static_node=snd/seq\"\n"
                .into(),
        )],
        char_nodes: vec![("snd/seq".into(), 0o600)],
        ..Setup::default()
    });
    let node = d.dev.join("snd/seq");
    let link = d.run.join("static_node-tags/uaccess/snd\\x2fseq");
    use std::os::unix::fs::MetadataExt;
    // The links are made before the permissions are set.
    d.wait_for(
        || std::fs::metadata(&node).unwrap().gid() == 4,
        "the static node's group",
    );
    let m = std::fs::metadata(&node).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o664, 0, 4));
    assert_eq!(std::fs::read_link(&link).unwrap(), node);
}
