//! Table tests of the queue: udevd 252's blocking rules (src/udev/udevd.c
//! `event_is_blocked`, src/shared/udev-util.c `devpath_conflict` and its test cases in
//! src/test/test-udev-util.c), device ids as sd-device forms them, and the worker, timeout,
//! crash, lock-retry, idle and exit paths.

use super::*;

const S: Usec = USEC_PER_SEC;

fn config(children_max: usize) -> Config {
    Config {
        children_max,
        event_timeout: 9 * S,
        timeout_signal: 9,
    }
}

/// An `add` event with the given properties (SUBSYSTEM defaults to "test").
fn ev(seqnum: u64, devpath: &str, props: &[(&str, &str)]) -> Event {
    let mut properties: BTreeMap<String, String> = [
        ("ACTION", "add"),
        ("DEVPATH", devpath),
        ("SUBSYSTEM", "test"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    properties.insert("SEQNUM".into(), seqnum.to_string());
    for (k, v) in props {
        if v.is_empty() {
            properties.remove(*k);
        } else {
            properties.insert(k.to_string(), v.to_string());
        }
    }
    Event {
        seqnum,
        action: "add".into(),
        devpath: devpath.into(),
        properties,
    }
}

fn insert(q: &mut Queue, e: Event, now: Usec) -> Vec<Effect> {
    q.handle(
        Input::Uevent {
            event: e,
            whole_disk: None,
        },
        now,
    )
}

/// The (worker, seqnum) of every Run effect.
fn runs(fx: &[Effect]) -> Vec<(WorkerId, u64)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Run { worker, event } => Some((*worker, event.seqnum)),
            _ => None,
        })
        .collect()
}

fn spawns(fx: &[Effect]) -> Vec<WorkerId> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Spawn(w) => Some(*w),
            _ => None,
        })
        .collect()
}

fn kills(fx: &[Effect]) -> Vec<(WorkerId, i32)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Kill { worker, signal } => Some((*worker, *signal)),
            _ => None,
        })
        .collect()
}

fn logs(fx: &[Effect], level: Level) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Log(l, m) if *l == level => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn failed(fx: &[Effect]) -> Vec<(u64, Failure, bool)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Failed {
                event,
                failure,
                forget,
            } => Some((event.seqnum, *failure, *forget)),
            _ => None,
        })
        .collect()
}

fn reply(q: &mut Queue, worker: WorkerId, seqnum: u64, now: Usec) -> Vec<Effect> {
    q.handle(
        Input::Reply {
            worker,
            seqnum,
            outcome: Outcome::Processed,
        },
        now,
    )
}

#[test]
fn devpath_conflict_as_udev_util_tests_it() {
    let p = "/devices/pci0000:00/0000:00:1c.4";
    let cases: &[(Option<&str>, Option<&str>, bool)] = &[
        (None, None, false),
        (None, Some(p), false),
        (Some(p), None, false),
        (Some(p), Some("/devices/pci0000:00/0000:00:00.0"), false),
        (
            Some("/devices/virtual/net/veth99"),
            Some("/devices/virtual/net/veth999"),
            false,
        ),
        (Some(p), Some(p), true),
        (
            Some(p),
            Some("/devices/pci0000:00/0000:00:1c.4/0000:3c:00.0"),
            true,
        ),
        (
            Some("/devices/pci0000:00/0000:00:1c.4/0000:3c:00.0"),
            Some(p),
            true,
        ),
        (
            Some("/devices/pci0000:00/0000:00:1c.4/0000:3c:00.0/nvme/nvme0/nvme0n1"),
            Some("/devices/pci0000:00/0000:00:1c.4/0000:3c:00.0/nvme/nvme0/nvme0n1/nvme0n1p1"),
            true,
        ),
    ];
    for (a, b, want) in cases {
        assert_eq!(devpath_conflict(*a, *b), *want, "{a:?} {b:?}");
    }
}

#[test]
fn device_ids_as_sd_device_forms_them() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<&'a str>);
    let cases: &[Case] = &[
        (
            "/devices/virtual/block/nvme0n1p1",
            &[
                ("SUBSYSTEM", "block"),
                ("MAJOR", "259"),
                ("MINOR", "131072"),
            ],
            Some("b259:131072"),
        ),
        (
            "/devices/virtual/misc/x",
            &[("SUBSYSTEM", "misc"), ("MAJOR", "254"), ("MINOR", "0")],
            Some("c254:0"),
        ),
        // A zero major is no device number: the name decides.
        (
            "/devices/virtual/misc/y",
            &[("SUBSYSTEM", "misc"), ("MAJOR", "0"), ("MINOR", "0")],
            Some("+misc:y"),
        ),
        (
            "/devices/virtual/net/lo",
            &[("SUBSYSTEM", "net"), ("IFINDEX", "3")],
            Some("n3"),
        ),
        (
            "/devices/pci0000:00/0000:00:1f.2",
            &[("SUBSYSTEM", "pci")],
            Some("+pci:0000:00:1f.2"),
        ),
        (
            "/bus/pci/drivers/ahci",
            &[("SUBSYSTEM", "drivers")],
            Some("+drivers:pci:ahci"),
        ),
        (
            "/module/loop",
            &[("SUBSYSTEM", "module")],
            Some("+module:loop"),
        ),
        ("/devices/x", &[("SUBSYSTEM", "")], None),
    ];
    for (devpath, props, want) in cases {
        let e = ev(1, devpath, props);
        assert_eq!(device_id(&e).as_deref(), *want, "{devpath} {props:?}");
    }
}

#[test]
fn blocking_rules_table() {
    // (earlier event, later event, whether the later one must wait)
    type Ev = (&'static str, &'static [(&'static str, &'static str)]);
    let cases: &[(&str, Ev, Ev, bool)] = &[
        (
            "same devpath",
            ("/devices/a", &[]),
            ("/devices/a", &[]),
            true,
        ),
        (
            "earlier is the parent",
            ("/devices/a", &[]),
            ("/devices/a/b", &[]),
            true,
        ),
        (
            "earlier is a child",
            ("/devices/a/b/c", &[]),
            ("/devices/a", &[]),
            true,
        ),
        (
            "name prefix is not a parent",
            ("/devices/virtual/net/veth99", &[]),
            ("/devices/virtual/net/veth999", &[]),
            false,
        ),
        ("unrelated", ("/devices/a", &[]), ("/devices/b", &[]), false),
        (
            "same device number, other devpath",
            (
                "/devices/a/sda",
                &[("SUBSYSTEM", "block"), ("MAJOR", "8"), ("MINOR", "0")],
            ),
            (
                "/devices/b/sdb",
                &[("SUBSYSTEM", "block"), ("MAJOR", "8"), ("MINOR", "0")],
            ),
            true,
        ),
        (
            "same numbers, block and char differ",
            (
                "/devices/a/x",
                &[("SUBSYSTEM", "block"), ("MAJOR", "8"), ("MINOR", "0")],
            ),
            (
                "/devices/b/y",
                &[("SUBSYSTEM", "misc"), ("MAJOR", "8"), ("MINOR", "0")],
            ),
            false,
        ),
        (
            "same ifindex",
            (
                "/devices/virtual/net/eth0",
                &[("SUBSYSTEM", "net"), ("IFINDEX", "3")],
            ),
            (
                "/devices/virtual/net/lan0",
                &[("SUBSYSTEM", "net"), ("IFINDEX", "3")],
            ),
            true,
        ),
        (
            "later renamed from the earlier devpath",
            (
                "/devices/virtual/net/eth0",
                &[("SUBSYSTEM", "net"), ("IFINDEX", "3")],
            ),
            (
                "/devices/virtual/net/lan0",
                &[
                    ("SUBSYSTEM", "net"),
                    ("IFINDEX", "4"),
                    ("DEVPATH_OLD", "/devices/virtual/net/eth0"),
                ],
            ),
            true,
        ),
        (
            "earlier renamed from the later devpath",
            (
                "/devices/virtual/net/lan0",
                &[
                    ("SUBSYSTEM", "net"),
                    ("IFINDEX", "4"),
                    ("DEVPATH_OLD", "/devices/virtual/net/eth0"),
                ],
            ),
            (
                "/devices/virtual/net/eth0",
                &[("SUBSYSTEM", "net"), ("IFINDEX", "3")],
            ),
            true,
        ),
        (
            "earlier renamed from the later one's parent",
            ("/devices/new", &[("DEVPATH_OLD", "/devices/old")]),
            ("/devices/old/child", &[]),
            true,
        ),
        (
            "both renamed from the same old devpath only",
            ("/devices/x", &[("DEVPATH_OLD", "/devices/old")]),
            ("/devices/y", &[("DEVPATH_OLD", "/devices/old")]),
            false,
        ),
        (
            "same device node",
            ("/devices/a/one", &[("DEVNAME", "sda")]),
            ("/devices/b/two", &[("DEVNAME", "/dev/sda")]),
            true,
        ),
        (
            "different device nodes",
            ("/devices/a/one", &[("DEVNAME", "sda")]),
            ("/devices/b/two", &[("DEVNAME", "sdb")]),
            false,
        ),
        (
            "both without subsystem (udevd: two missing ids are equal)",
            ("/devices/a", &[("SUBSYSTEM", "")]),
            ("/devices/b", &[("SUBSYSTEM", "")]),
            true,
        ),
        (
            "one without subsystem",
            ("/devices/a", &[("SUBSYSTEM", "")]),
            ("/devices/b", &[]),
            false,
        ),
    ];
    for (what, (p1, props1), (p2, props2), want) in cases {
        let mut q = Queue::new(config(10));
        insert(&mut q, ev(1, p1, props1), 0);
        insert(&mut q, ev(2, p2, props2), 0);
        let fx = q.step(0);
        let started: Vec<u64> = runs(&fx).iter().map(|r| r.1).collect();
        let expected: &[u64] = if *want { &[1] } else { &[1, 2] };
        assert_eq!(started, expected, "{what}");
    }
}

#[test]
fn a_later_event_never_blocks_an_earlier_one() {
    let mut q = Queue::new(config(10));
    insert(&mut q, ev(1, "/devices/a", &[]), 0);
    q.handle(Input::StopExecQueue, 0);
    insert(&mut q, ev(2, "/devices/a", &[]), 0);
    q.handle(Input::StartExecQueue, 0);
    assert_eq!(runs(&q.step(0)), [(WorkerId(1), 1)]);
}

#[test]
fn a_chain_of_events_for_one_device_runs_in_seqnum_order() {
    let mut q = Queue::new(config(10));
    for (s, p) in [
        (1, "/devices/a"),
        (2, "/devices/a/b"),
        (3, "/devices/a/b/c"),
    ] {
        insert(&mut q, ev(s, p, &[]), 0);
    }
    insert(&mut q, ev(4, "/devices/z", &[]), 0);
    // 3's first blocker is 1; once 1 is gone the scan must resume and find 2.
    let fx = q.step(0);
    assert_eq!(runs(&fx), [(WorkerId(1), 1), (WorkerId(2), 4)]);
    reply(&mut q, WorkerId(1), 1, 1);
    assert_eq!(runs(&q.step(1)), [(WorkerId(1), 2)]);
    assert!(runs(&q.step(2)).is_empty(), "3 still waits for 2");
    reply(&mut q, WorkerId(1), 2, 3);
    assert_eq!(runs(&q.step(3)), [(WorkerId(1), 3)]);
}

#[test]
fn an_out_of_order_event_invalidates_later_blocker_caches() {
    let mut q = Queue::new(config(1));
    insert(&mut q, ev(1, "/devices/x", &[]), 0);
    insert(&mut q, ev(10, "/devices/a", &[]), 0);
    // 10 is found unblocked, but there is no free worker.
    assert_eq!(runs(&q.step(0)), [(WorkerId(1), 1)]);
    insert(&mut q, ev(5, "/devices/a", &[]), 0);
    q.handle(Input::SetChildrenMax(3), 0);
    let fx = q.step(0);
    assert_eq!(runs(&fx), [(WorkerId(2), 5)], "10 must now wait for 5");
}

#[test]
fn workers_are_reused_and_limited_by_children_max() {
    let mut q = Queue::new(config(2));
    for s in 1..=3 {
        insert(&mut q, ev(s, &format!("/devices/d{s}"), &[]), 0);
    }
    let fx = q.step(0);
    assert_eq!(spawns(&fx), [WorkerId(1), WorkerId(2)]);
    assert_eq!(runs(&fx), [(WorkerId(1), 1), (WorkerId(2), 2)]);
    assert!(runs(&q.step(1)).is_empty(), "no third worker");
    reply(&mut q, WorkerId(2), 2, 2);
    let fx = q.step(2);
    assert!(spawns(&fx).is_empty());
    assert_eq!(runs(&fx), [(WorkerId(2), 3)]);
}

#[test]
fn children_max_changes_at_runtime() {
    let mut q = Queue::new(config(1));
    assert_eq!(
        q.handle(Input::SetChildrenMax(0), 0)
            .iter()
            .filter(|e| matches!(e, Effect::Notify(_)))
            .count(),
        0
    );
    assert_eq!(q.config().children_max, 1);
    let fx = q.handle(Input::SetChildrenMax(5), 0);
    assert_eq!(
        fx,
        [Effect::Notify(
            "READY=1\nSTATUS=Processing with 5 children at max".into()
        )]
    );
    for s in 1..=5 {
        insert(&mut q, ev(s, &format!("/devices/d{s}"), &[]), 0);
    }
    assert_eq!(spawns(&q.step(0)).len(), 5);
}

#[test]
fn timeout_warns_at_a_third_then_kills_and_the_death_fails_the_event() {
    let mut q = Queue::new(config(4));
    insert(&mut q, ev(7, "/devices/a/sda", &[]), 10 * S);
    insert(&mut q, ev(8, "/devices/a/sda", &[]), 10 * S);
    let fx = q.step(10 * S);
    assert_eq!(runs(&fx), [(WorkerId(1), 7)]);
    q.set_pid(WorkerId(1), 4242);
    assert_eq!(q.next_wakeup(), Some(13 * S), "warning at 9s / 3");
    assert!(q.step(13 * S - 1).is_empty());
    let fx = q.step(13 * S);
    assert_eq!(
        logs(&fx, Level::Warning),
        ["sda: Worker [4242] processing SEQNUM=7 is taking a long time"]
    );
    assert_eq!(q.next_wakeup(), Some(19 * S));
    assert!(q.step(19 * S - 1).is_empty());
    let fx = q.step(19 * S);
    assert!(fx.contains(&Effect::Abort {
        worker: WorkerId(1),
        signal: 9
    }));
    assert_eq!(
        logs(&fx, Level::Error),
        ["sda: Worker [4242] processing SEQNUM=7 killed"]
    );
    assert!(runs(&fx).is_empty(), "8 waits until 7 has ended");
    assert_eq!(q.next_wakeup(), None);
    let fx = q.handle(
        Input::Exited {
            worker: WorkerId(1),
            exit: Exit::Killed {
                signal: 9,
                core_dumped: false,
            },
        },
        20 * S,
    );
    assert_eq!(failed(&fx), [(7, Failure::Signal(9), true)]);
    assert_eq!(
        logs(&fx, Level::Warning),
        ["sda: Worker [4242] terminated by signal 9 (KILL)."]
    );
    let fx = q.step(20 * S);
    assert_eq!(spawns(&fx), [WorkerId(2)]);
    assert_eq!(runs(&fx), [(WorkerId(2), 8)]);
}

#[test]
fn a_reply_after_the_timeout_kill_ends_the_event_but_the_worker_is_not_reused() {
    let mut q = Queue::new(config(4));
    insert(&mut q, ev(1, "/devices/a", &[]), 0);
    q.step(0);
    q.step(9 * S);
    let fx = reply(&mut q, WorkerId(1), 1, 9 * S + 1);
    assert!(failed(&fx).is_empty());
    assert!(kills(&fx).is_empty());
    insert(&mut q, ev(2, "/devices/a", &[]), 10 * S);
    let fx = q.step(10 * S);
    assert_eq!(spawns(&fx), [WorkerId(2)]);
    let fx = q.handle(
        Input::Exited {
            worker: WorkerId(1),
            exit: Exit::Killed {
                signal: 9,
                core_dumped: false,
            },
        },
        11 * S,
    );
    assert!(failed(&fx).is_empty(), "its event had already ended");
}

#[test]
fn worker_deaths_fail_their_event_with_udevs_properties() {
    let cases = [
        (
            Exit::Killed {
                signal: 11,
                core_dumped: true,
            },
            Some(Failure::Signal(11)),
            vec![
                ("UDEV_WORKER_FAILED", "1"),
                ("UDEV_WORKER_SIGNAL", "11"),
                ("UDEV_WORKER_SIGNAL_NAME", "SEGV"),
            ],
        ),
        (
            Exit::Exited(3),
            Some(Failure::ExitStatus(3)),
            vec![
                ("UDEV_WORKER_FAILED", "1"),
                ("UDEV_WORKER_EXIT_STATUS", "3"),
            ],
        ),
        // udevd: an exit status of 0 is success, nothing is broadcast.
        (Exit::Exited(0), None, vec![]),
    ];
    for (exit, want, props) in cases {
        let mut q = Queue::new(config(4));
        insert(&mut q, ev(1, "/devices/a", &[]), 0);
        insert(&mut q, ev(2, "/devices/a", &[]), 0);
        q.step(0);
        let fx = q.handle(
            Input::Exited {
                worker: WorkerId(1),
                exit,
            },
            1,
        );
        let got = failed(&fx);
        match want {
            Some(f) => {
                assert_eq!(got, [(1, f, true)], "{exit:?}");
                let p = f.properties();
                let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
                assert_eq!(p, props);
            }
            None => assert!(got.is_empty(), "{exit:?}"),
        }
        assert_eq!(q.workers(), 0);
        let fx = q.step(2);
        assert_eq!(runs(&fx), [(WorkerId(2), 2)], "the next event still runs");
    }
}

#[test]
fn a_locked_disk_is_retried_every_200ms_and_given_up_after_3_minutes() {
    let mut q = Queue::new(config(4));
    q.handle(
        Input::Uevent {
            event: ev(1, "/devices/a/sda/sda1", &[]),
            whole_disk: Some("/dev/sda".into()),
        },
        0,
    );
    q.step(0);
    let locked = |q: &mut Queue, now| {
        q.handle(
            Input::Reply {
                worker: WorkerId(1),
                seqnum: 1,
                outcome: Outcome::Locked,
            },
            now,
        )
    };
    assert!(failed(&locked(&mut q, 0)).is_empty());
    assert_eq!(q.next_wakeup(), Some(RETRY_INTERVAL));
    assert!(runs(&q.step(RETRY_INTERVAL - 1)).is_empty());
    assert_eq!(runs(&q.step(RETRY_INTERVAL)), [(WorkerId(1), 1)]);
    // A close-after-write of the disk retries at once.
    locked(&mut q, S);
    q.handle(
        Input::Unlocked {
            whole_disk: "/dev/sdb".into(),
        },
        S,
    );
    assert!(runs(&q.step(S)).is_empty(), "another disk");
    q.handle(
        Input::Unlocked {
            whole_disk: "/dev/sda".into(),
        },
        S,
    );
    assert_eq!(runs(&q.step(S)), [(WorkerId(1), 1)]);
    // So does a new event of the same disk.
    locked(&mut q, 2 * S);
    q.handle(
        Input::Uevent {
            event: ev(2, "/devices/a/sda", &[]),
            whole_disk: Some("/dev/sda".into()),
        },
        2 * S,
    );
    assert_eq!(runs(&q.step(2 * S)), [(WorkerId(1), 1)]);
    let fx = locked(&mut q, RETRY_TIMEOUT);
    assert_eq!(failed(&fx), [(1, Failure::Errno(ETIMEDOUT), false)]);
    assert_eq!(
        Failure::Errno(ETIMEDOUT).properties(),
        [
            ("UDEV_WORKER_FAILED", "1".to_string()),
            ("UDEV_WORKER_ERRNO", "110".to_string()),
            ("UDEV_WORKER_ERRNO_NAME", "ETIMEDOUT".to_string()),
        ]
    );
    assert_eq!(runs(&q.step(RETRY_TIMEOUT)), [(WorkerId(1), 2)]);
}

#[test]
fn spawn_and_send_failures_put_the_event_back() {
    let mut q = Queue::new(config(4));
    insert(&mut q, ev(1, "/devices/a", &[]), 0);
    q.step(0);
    let fx = q.handle(
        Input::SpawnFailed {
            worker: WorkerId(1),
            error: "no fork".into(),
        },
        0,
    );
    assert_eq!(logs(&fx, Level::Error), ["Failed to start worker: no fork"]);
    assert_eq!(q.workers(), 0);
    assert!(runs(&q.step(SPAWN_RETRY - 1)).is_empty(), "back-off");
    let fx = q.step(SPAWN_RETRY);
    assert_eq!(runs(&fx), [(WorkerId(2), 1)]);
    q.set_pid(WorkerId(2), 77);
    let fx = q.handle(
        Input::SendFailed {
            worker: WorkerId(2),
            error: "EPIPE".into(),
        },
        SPAWN_RETRY,
    );
    assert_eq!(kills(&fx), [(WorkerId(2), 9)]);
    assert_eq!(
        logs(&fx, Level::Error),
        ["Worker [77] did not accept message, killing the worker: EPIPE"]
    );
    assert_eq!(runs(&q.step(SPAWN_RETRY)), [(WorkerId(3), 1)]);
}

#[test]
fn the_queue_file_exists_while_events_are_pending() {
    let mut q = Queue::new(config(4));
    assert_eq!(q.step(0), [Effect::RemoveQueueFile], "a stale one goes");
    assert!(q.step(0).is_empty());
    let fx = insert(&mut q, ev(1, "/devices/a", &[]), 0);
    assert!(fx.contains(&Effect::CreateQueueFile));
    let fx = insert(&mut q, ev(2, "/devices/b", &[]), 0);
    assert!(!fx.contains(&Effect::CreateQueueFile));
    q.step(0);
    reply(&mut q, WorkerId(1), 1, 1);
    assert!(!q.step(1).contains(&Effect::RemoveQueueFile));
    reply(&mut q, WorkerId(2), 2, 2);
    assert!(q.step(2).contains(&Effect::RemoveQueueFile));
    assert!(!q.step(3).contains(&Effect::RemoveQueueFile));
}

#[test]
fn idle_workers_are_stopped_3s_after_the_queue_emptied() {
    let mut q = Queue::new(config(4));
    insert(&mut q, ev(1, "/devices/a", &[]), 0);
    q.step(0);
    reply(&mut q, WorkerId(1), 1, S);
    q.step(S);
    assert_eq!(q.next_wakeup(), Some(S + IDLE_WORKER_TIMEOUT));
    assert!(kills(&q.step(S + IDLE_WORKER_TIMEOUT - 1)).is_empty());
    let fx = q.step(S + IDLE_WORKER_TIMEOUT);
    assert_eq!(kills(&fx), [(WorkerId(1), 15)]);
    assert_eq!(q.next_wakeup(), None);
    assert!(kills(&q.step(10 * S)).is_empty(), "killed once");
    q.handle(
        Input::Exited {
            worker: WorkerId(1),
            exit: Exit::Exited(0),
        },
        10 * S,
    );
    assert_eq!(q.workers(), 0);
    // A new event within the idle period keeps the worker.
    insert(&mut q, ev(2, "/devices/a", &[]), 20 * S);
    q.step(20 * S);
    reply(&mut q, WorkerId(2), 2, 21 * S);
    q.step(21 * S);
    insert(&mut q, ev(3, "/devices/a", &[]), 23 * S);
    let fx = q.step(24 * S);
    assert!(kills(&fx).is_empty());
    assert_eq!(runs(&fx), [(WorkerId(2), 3)]);
}

#[test]
fn retiring_stops_idle_workers_now_and_busy_ones_after_their_event() {
    let mut q = Queue::new(config(4));
    insert(&mut q, ev(1, "/devices/a", &[]), 0);
    insert(&mut q, ev(2, "/devices/b", &[]), 0);
    q.step(0);
    reply(&mut q, WorkerId(1), 1, 1);
    let fx = q.handle(Input::RetireWorkers, 1);
    assert_eq!(kills(&fx), [(WorkerId(1), 15)]);
    let fx = reply(&mut q, WorkerId(2), 2, 2);
    assert_eq!(kills(&fx), [(WorkerId(2), 15)]);
    insert(&mut q, ev(3, "/devices/c", &[]), 3);
    let fx = q.step(3);
    assert_eq!(spawns(&fx), [WorkerId(3)], "old workers are not reused");
}

#[test]
fn stop_and_start_exec_queue() {
    let mut q = Queue::new(config(4));
    q.handle(Input::StopExecQueue, 0);
    insert(&mut q, ev(1, "/devices/a", &[]), 0);
    assert!(runs(&q.step(0)).is_empty());
    q.handle(Input::StartExecQueue, 0);
    assert_eq!(runs(&q.step(0)), [(WorkerId(1), 1)]);
}

#[test]
fn properties_set_by_control_go_into_later_events() {
    let mut q = Queue::new(config(4));
    q.handle(
        Input::SetProperty {
            key: "FOO".into(),
            value: Some("bar".into()),
        },
        0,
    );
    q.handle(
        Input::SetProperty {
            key: "SUBSYSTEM".into(),
            value: None,
        },
        0,
    );
    insert(&mut q, ev(1, "/devices/a", &[]), 0);
    let fx = q.step(0);
    let Some(Effect::Run { event, .. }) = fx.iter().find(|e| matches!(e, Effect::Run { .. }))
    else {
        panic!("no run: {fx:?}");
    };
    assert_eq!(event.properties.get("FOO").map(String::as_str), Some("bar"));
    assert_eq!(event.properties.get("SUBSYSTEM"), None);
}

#[test]
fn exit_drops_queued_events_finishes_running_ones_then_exits() {
    let mut q = Queue::new(config(4));
    insert(&mut q, ev(1, "/devices/a", &[]), 0);
    insert(&mut q, ev(2, "/devices/a", &[]), 0);
    insert(&mut q, ev(3, "/devices/b", &[]), 0);
    q.step(0);
    reply(&mut q, WorkerId(2), 3, 1);
    let fx = q.handle(Input::Exit, 1);
    assert_eq!(
        fx.first(),
        Some(&Effect::Notify(
            "STOPPING=1\nSTATUS=Starting shutdown...".into()
        ))
    );
    assert_eq!(kills(&fx), [(WorkerId(1), 15), (WorkerId(2), 15)]);
    assert_eq!(q.len(), 1, "2 was dropped, 1 still runs");
    assert!(q.handle(Input::Exit, 1).is_empty(), "once");
    assert!(runs(&insert(&mut q, ev(4, "/devices/c", &[]), 1)).is_empty());
    assert_eq!(q.len(), 1, "no new events while exiting");
    assert!(!q.step(2).contains(&Effect::Exit));
    let fx = reply(&mut q, WorkerId(1), 1, 3);
    assert!(kills(&fx).is_empty(), "already signalled");
    let fx = q.step(3);
    assert!(fx.contains(&Effect::RemoveQueueFile));
    assert!(!fx.contains(&Effect::Exit), "workers still around");
    for w in [1, 2] {
        q.handle(
            Input::Exited {
                worker: WorkerId(w),
                exit: Exit::Exited(0),
            },
            4,
        );
    }
    assert_eq!(q.step(4), [Effect::Exit]);
    assert!(q.step(5).is_empty());
}

#[test]
fn the_timeout_still_applies_while_exiting() {
    let mut q = Queue::new(config(4));
    insert(&mut q, ev(1, "/devices/a", &[]), 0);
    q.step(0);
    q.handle(Input::Exit, 0);
    let fx = q.step(9 * S);
    assert!(fx.contains(&Effect::Abort {
        worker: WorkerId(1),
        signal: 9
    }));
}

#[test]
fn bad_and_duplicate_seqnums_are_refused() {
    let mut q = Queue::new(config(4));
    let fx = insert(&mut q, ev(0, "/devices/a", &[]), 0);
    assert_eq!(
        logs(&fx, Level::Warning),
        ["a: event without SEQNUM, ignoring"]
    );
    assert!(q.is_empty());
    insert(&mut q, ev(5, "/devices/a", &[]), 0);
    let fx = insert(&mut q, ev(5, "/devices/b", &[]), 0);
    assert_eq!(
        logs(&fx, Level::Warning),
        ["b: SEQNUM=5 is already queued, ignoring the duplicate"]
    );
    assert_eq!(q.len(), 1);
}

#[test]
fn stray_replies_are_ignored() {
    let mut q = Queue::new(config(4));
    insert(&mut q, ev(1, "/devices/a", &[]), 0);
    q.step(0);
    let fx = reply(&mut q, WorkerId(1), 2, 1);
    assert_eq!(logs(&fx, Level::Warning).len(), 1);
    assert_eq!(q.len(), 1);
    let fx = reply(&mut q, WorkerId(9), 1, 1);
    assert_eq!(logs(&fx, Level::Debug).len(), 1);
    assert_eq!(q.running_event(WorkerId(1)).map(|e| e.seqnum), Some(1));
}

#[test]
fn sysnames_for_log_messages() {
    assert_eq!(sysname("/devices/virtual/block/loop0"), "loop0");
    assert_eq!(sysname("/devices/x/cciss!c0d0"), "cciss/c0d0");
    assert_eq!(warn_after(180 * S), 60 * S);
    assert_eq!(warn_after(2 * S), 666_667);
}

mod random {
    //! Random interleavings of arrivals, replies and crashes against an oracle: when an
    //! event starts, no earlier unfinished event may conflict with it (checked with a full
    //! scan, without the blocker cache), no two events share a worker, no more than
    //! `children_max` workers exist, and once inputs stop every event ends.
    use super::*;
    use proptest::prelude::*;

    const PATHS: [&str; 5] = [
        "/devices/a",
        "/devices/a/b",
        "/devices/a/b/c",
        "/devices/d",
        "/devices/e",
    ];

    #[derive(Debug, Clone)]
    enum Step {
        Arrive { path: usize, node: Option<u8> },
        Finish { pick: usize },
        Crash { pick: usize },
        Tick,
    }

    fn step_strategy() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..PATHS.len(), proptest::option::of(0u8..2))
                .prop_map(|(path, node)| Step::Arrive { path, node }),
            any::<usize>().prop_map(|pick| Step::Finish { pick }),
            any::<usize>().prop_map(|pick| Step::Crash { pick }),
            Just(Step::Tick),
        ]
    }

    proptest! {
        #[test]
        fn events_start_only_when_nothing_earlier_conflicts(
            children_max in 1usize..4,
            steps in proptest::collection::vec(step_strategy(), 1..80),
        ) {
            let mut q = Queue::new(config(children_max));
            let mut unfinished: BTreeMap<u64, Event> = BTreeMap::new();
            let mut running: BTreeMap<WorkerId, u64> = BTreeMap::new();
            let mut seqnum = 0;
            let mut now = 0;
            let apply = |q: &mut Queue,
                             fx: Vec<Effect>,
                             unfinished: &mut BTreeMap<u64, Event>,
                             running: &mut BTreeMap<WorkerId, u64>| {
                for e in fx {
                    match e {
                        Effect::Run { worker, event } => {
                            let key = Key::of(&event);
                            for (s, earlier) in unfinished.range(..event.seqnum) {
                                prop_assert!(
                                    !key.waits_for(&Key::of(earlier)),
                                    "{} started while {} is unfinished", event.seqnum, s
                                );
                            }
                            prop_assert!(running.insert(worker, event.seqnum).is_none());
                        }
                        Effect::Failed { event, .. } => {
                            unfinished.remove(&event.seqnum);
                        }
                        _ => {}
                    }
                }
                prop_assert!(q.workers() <= q.config().children_max);
                Ok(())
            };
            for step in steps {
                now += 1;
                match step {
                    Step::Arrive { path, node } => {
                        seqnum += 1;
                        let dev = node.map(|n| format!("sd{n}")).unwrap_or_default();
                        let e = ev(seqnum, PATHS[path], &[("DEVNAME", dev.as_str()), ("SUBSYSTEM", "x")]);
                        unfinished.insert(seqnum, e.clone());
                        let fx = insert(&mut q, e, now);
                        apply(&mut q, fx, &mut unfinished, &mut running)?;
                    }
                    Step::Finish { pick } | Step::Crash { pick } if !running.is_empty() => {
                        let (&w, &s) = running.iter().nth(pick % running.len()).unwrap();
                        running.remove(&w);
                        let fx = if matches!(step, Step::Finish { .. }) {
                            unfinished.remove(&s);
                            reply(&mut q, w, s, now)
                        } else {
                            q.handle(Input::Exited { worker: w, exit: Exit::Exited(1) }, now)
                        };
                        apply(&mut q, fx, &mut unfinished, &mut running)?;
                    }
                    _ => {}
                }
                let fx = q.step(now);
                apply(&mut q, fx, &mut unfinished, &mut running)?;
            }
            // Drain: every running event finishes; everything must end.
            for _ in 0..200 {
                let Some((&w, &s)) = running.iter().next() else { break };
                running.remove(&w);
                unfinished.remove(&s);
                now += 1;
                let fx = reply(&mut q, w, s, now);
                apply(&mut q, fx, &mut unfinished, &mut running)?;
                let fx = q.step(now);
                apply(&mut q, fx, &mut unfinished, &mut running)?;
            }
            prop_assert!(unfinished.is_empty(), "left: {:?}", unfinished.keys().collect::<Vec<_>>());
            prop_assert!(q.is_empty());
        }
    }
}
