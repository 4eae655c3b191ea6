use super::*;
use MountState::*;

const T0: u64 = 1_000_000;

fn config() -> MountConfig {
    MountConfig {
        what: "tmpfs".into(),
        where_: "/mnt/x".into(),
        fs_type: Some("tmpfs".into()),
        options: Some("mode=1777,nosuid,nofail".into()),
        sloppy_options: false,
        read_write_only: false,
        lazy_unmount: false,
        force_unmount: false,
        directory_mode: 0o755,
        timeout_usec: Some(DEFAULT_TIMEOUT_USEC),
        kill_signal: SIGTERM,
        send_sigkill: true,
    }
}

fn changed(from: MountState, to: MountState, result: MountResult) -> Effect {
    Effect::StateChanged { from, to, result }
}

fn exited(pid: u32, code: i32) -> Event {
    Event::Exited {
        pid,
        status: ExitStatus::Exited(code),
    }
}

/// A mount driven through `events` (each at T0), the state and result at the end.
fn after(m: &mut Mount, events: &[Event]) -> (MountState, MountResult) {
    for e in events {
        m.handle(T0, e.clone());
    }
    (m.state(), m.result())
}

#[test]
fn a_start_runs_mount_and_waits_for_the_table_and_the_exit() {
    let mut m = Mount::new(config());
    let fx = m.handle(T0, Event::Start);
    assert_eq!(
        fx,
        [
            Effect::CreateDirectory {
                path: "/mnt/x".into(),
                mode: 0o755
            },
            Effect::Spawn {
                command: Command::Mount,
                argv: [
                    "mount",
                    "tmpfs",
                    "/mnt/x",
                    "-t",
                    "tmpfs",
                    "-o",
                    "mode=1777,nosuid"
                ]
                .map(String::from)
                .to_vec()
            },
            Effect::ArmTimer {
                at: T0 + DEFAULT_TIMEOUT_USEC
            },
            changed(Dead, Mounting, MountResult::Success),
        ]
    );
    assert_eq!(m.active_state(), ActiveState::Activating);
    assert!(m.control_pending());
    assert!(m.handle(T0, Event::Spawned { pid: 10 }).is_empty());
    assert_eq!(m.control_pid(), Some(10));
    assert_eq!(
        m.handle(T0, Event::Mountinfo(true)),
        [changed(Mounting, MountingDone, MountResult::Success)]
    );
    assert_eq!(m.active_state(), ActiveState::Activating);
    assert_eq!(
        m.handle(T0, exited(10, 0)),
        [
            Effect::DisarmTimer,
            changed(MountingDone, Mounted, MountResult::Success)
        ]
    );
    assert_eq!(m.active_state(), ActiveState::Active);
    assert_eq!(m.control_pid(), None);
}

#[test]
fn a_stop_runs_umount_until_the_mount_point_is_gone() {
    let mut m = Mount::new(config());
    after(
        &mut m,
        &[
            Event::Start,
            Event::Spawned { pid: 10 },
            Event::Mountinfo(true),
            exited(10, 0),
        ],
    );
    let fx = m.handle(T0, Event::Stop);
    assert_eq!(
        fx,
        [
            Effect::Spawn {
                command: Command::Unmount,
                argv: vec!["umount".into(), "/mnt/x".into()]
            },
            Effect::ArmTimer {
                at: T0 + DEFAULT_TIMEOUT_USEC
            },
            changed(Mounted, Unmounting, MountResult::Success),
        ]
    );
    assert_eq!(m.active_state(), ActiveState::Deactivating);
    // Stacked mounts: umount succeeded, yet the point is still mounted: again.
    m.handle(T0, Event::Spawned { pid: 11 });
    let fx = m.handle(T0, exited(11, 0));
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::Spawn {
                command: Command::Unmount,
                ..
            }
        )),
        "{fx:?}"
    );
    m.handle(T0, Event::Spawned { pid: 12 });
    assert!(
        m.handle(T0, Event::Mountinfo(false)).is_empty(),
        "the exit decides"
    );
    let fx = m.handle(T0, exited(12, 0));
    assert_eq!(
        fx.last(),
        Some(&changed(Unmounting, Dead, MountResult::Success))
    );
}

#[test]
fn how_control_processes_end_decides_state_and_result() {
    let start = || vec![Event::Start, Event::Spawned { pid: 10 }];
    let mounted = || {
        vec![
            Event::Start,
            Event::Spawned { pid: 10 },
            Event::Mountinfo(true),
            exited(10, 0),
            Event::Stop,
            Event::Spawned { pid: 11 },
        ]
    };
    let killed = Event::Exited {
        pid: 10,
        status: ExitStatus::Killed {
            signal: 9,
            core_dumped: false,
        },
    };
    let cases: Vec<(&str, Vec<Event>, (MountState, MountResult))> = vec![
        (
            "mount succeeded but nothing appeared",
            [start(), vec![exited(10, 0)]].concat(),
            (Failed, MountResult::Protocol),
        ),
        (
            "mount failed",
            [start(), vec![exited(10, 32)]].concat(),
            (Failed, MountResult::ExitCode),
        ),
        (
            "mount killed",
            [start(), vec![killed]].concat(),
            (Failed, MountResult::Signal),
        ),
        (
            "mount failed after the mount appeared: mounted, result kept",
            [start(), vec![Event::Mountinfo(true), exited(10, 1)]].concat(),
            (Mounted, MountResult::ExitCode),
        ),
        (
            "the mount appeared and vanished again before a failing exit",
            [
                start(),
                vec![
                    Event::Mountinfo(true),
                    Event::Mountinfo(false),
                    exited(10, 1),
                ],
            ]
            .concat(),
            (Failed, MountResult::ExitCode),
        ),
        (
            "mount could not be executed",
            vec![Event::Start, Event::SpawnFailed { exit_code: 203 }],
            (Failed, MountResult::ExitCode),
        ),
        (
            "mount could not be prepared",
            vec![Event::Start, Event::SpawnResources],
            (Failed, MountResult::Resources),
        ),
        (
            "umount failed: still mounted",
            [mounted(), vec![exited(11, 1)]].concat(),
            (Mounted, MountResult::ExitCode),
        ),
        (
            "umount failed but the mount is gone anyway",
            [mounted(), vec![Event::Mountinfo(false), exited(11, 1)]].concat(),
            (Failed, MountResult::ExitCode),
        ),
        (
            "an exit of an unknown pid changes nothing",
            [start(), vec![exited(99, 0)]].concat(),
            (Mounting, MountResult::Success),
        ),
        (
            "a second start while mounting changes nothing",
            [start(), vec![Event::Start]].concat(),
            (Mounting, MountResult::Success),
        ),
        (
            "a stop of a dead unit changes nothing",
            vec![Event::Stop],
            (Dead, MountResult::Success),
        ),
        (
            "reset-failed forgets the failure",
            [start(), vec![exited(10, 32), Event::ResetFailed]].concat(),
            (Dead, MountResult::Success),
        ),
        (
            "a new start after a failure",
            [start(), vec![exited(10, 32), Event::Start]].concat(),
            (Mounting, MountResult::Success),
        ),
    ];
    for (what, events, want) in cases {
        let mut m = Mount::new(config());
        assert_eq!(after(&mut m, &events), want, "{what}");
    }
}

#[test]
fn timeouts_escalate_from_the_kill_signal_to_sigkill() {
    let mut m = Mount::new(config());
    after(&mut m, &[Event::Start, Event::Spawned { pid: 10 }]);
    let fx = m.handle(T0 + DEFAULT_TIMEOUT_USEC, Event::Timer);
    assert!(fx.contains(&Effect::Kill { signal: SIGTERM }), "{fx:?}");
    assert!(fx.contains(&Effect::ArmTimer {
        at: T0 + 2 * DEFAULT_TIMEOUT_USEC
    }));
    assert_eq!(m.state(), UnmountingSigterm);
    let fx = m.handle(T0 + 2 * DEFAULT_TIMEOUT_USEC, Event::Timer);
    assert!(fx.contains(&Effect::Kill { signal: SIGKILL }), "{fx:?}");
    assert_eq!(m.state(), UnmountingSigkill);
    let fx = m.handle(T0 + 3 * DEFAULT_TIMEOUT_USEC, Event::Timer);
    assert_eq!(
        fx.last(),
        Some(&changed(UnmountingSigkill, Failed, MountResult::Timeout))
    );
    // A timer that is not armed any more is stale.
    assert!(m.handle(T0, Event::Timer).is_empty());

    // The killed process's exit ends the escalation; without SendSIGKILL= the timeout
    // gives up after SIGTERM.
    let mut m = Mount::new(MountConfig {
        send_sigkill: false,
        ..config()
    });
    after(
        &mut m,
        &[Event::Start, Event::Spawned { pid: 10 }, Event::Timer],
    );
    assert_eq!(m.state(), UnmountingSigterm);
    assert_eq!(
        after(&mut m, &[exited(10, 15)]),
        (Failed, MountResult::Timeout),
        "the first failure stays the result"
    );
    let mut m = Mount::new(MountConfig {
        send_sigkill: false,
        ..config()
    });
    assert_eq!(
        after(
            &mut m,
            &[
                Event::Start,
                Event::Spawned { pid: 10 },
                Event::Timer,
                Event::Timer
            ]
        ),
        (Failed, MountResult::Timeout)
    );

    // TimeoutSec=infinity arms nothing.
    let mut m = Mount::new(MountConfig {
        timeout_usec: None,
        ..config()
    });
    let fx = m.handle(T0, Event::Start);
    assert!(!fx.iter().any(|e| matches!(e, Effect::ArmTimer { .. })));
}

#[test]
fn a_stop_while_mounting_kills_the_mount_command() {
    let mut m = Mount::new(config());
    after(&mut m, &[Event::Start, Event::Spawned { pid: 10 }]);
    let fx = m.handle(T0, Event::Stop);
    assert!(fx.contains(&Effect::Kill { signal: SIGTERM }));
    assert_eq!(m.state(), UnmountingSigterm);
    // It was killed before mounting anything.
    assert_eq!(
        after(
            &mut m,
            &[Event::Exited {
                pid: 10,
                status: ExitStatus::Killed {
                    signal: 15,
                    core_dumped: false
                }
            }]
        ),
        (Failed, MountResult::Signal)
    );
}

#[test]
fn mounts_made_and_removed_by_others_are_followed() {
    let mut m = Mount::new(config());
    let fx = m.handle(T0, Event::Mountinfo(true));
    assert_eq!(
        fx,
        [
            Effect::NewInvocation,
            changed(Dead, Mounted, MountResult::Success)
        ]
    );
    assert!(m.handle(T0, Event::Mountinfo(true)).is_empty(), "no change");
    // A start of a mounted unit runs nothing.
    assert!(m.handle(T0, Event::Start).is_empty());
    assert_eq!(
        m.handle(T0, Event::Mountinfo(false)),
        [changed(Mounted, Dead, MountResult::Success)]
    );
    // A failed unit mounted by hand is mounted, its failure forgotten.
    let mut m = Mount::new(config());
    after(
        &mut m,
        &[Event::Start, Event::Spawned { pid: 10 }, exited(10, 32)],
    );
    assert_eq!(
        after(&mut m, &[Event::Mountinfo(true)]),
        (Mounted, MountResult::Success)
    );
}

#[test]
fn snapshot_and_restore_resume_the_timer_and_the_control_process() {
    let mut m = Mount::new(config());
    after(
        &mut m,
        &[
            Event::Start,
            Event::Spawned { pid: 10 },
            Event::Mountinfo(true),
        ],
    );
    let snap = m.snapshot();
    let json = serde_json::to_string(&snap).unwrap();
    let back: MountSnapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snap);
    let (mut r, fx) = Mount::restore(config(), back);
    assert_eq!(
        fx,
        [Effect::ArmTimer {
            at: T0 + DEFAULT_TIMEOUT_USEC
        }]
    );
    assert_eq!((r.state(), r.control_pid()), (MountingDone, Some(10)));
    assert_eq!(
        after(&mut r, &[exited(10, 0)]),
        (Mounted, MountResult::Success)
    );
    let (r, fx) = Mount::restore(config(), Mount::new(config()).snapshot());
    assert!(fx.is_empty());
    assert_eq!(r.state(), Dead);
}

#[test]
fn command_lines() {
    let cases: Vec<(MountConfig, Vec<&str>, Vec<&str>)> = vec![
        (
            MountConfig {
                fs_type: None,
                options: None,
                ..config()
            },
            vec!["mount", "tmpfs", "/mnt/x"],
            vec!["umount", "/mnt/x"],
        ),
        (
            MountConfig {
                options: Some("noauto,x-systemd.requires=a.service,ro,auto".into()),
                sloppy_options: true,
                read_write_only: true,
                lazy_unmount: true,
                force_unmount: true,
                ..config()
            },
            vec![
                "mount", "tmpfs", "/mnt/x", "-s", "-w", "-t", "tmpfs", "-o", "ro",
            ],
            vec!["umount", "/mnt/x", "-l", "-f"],
        ),
        (
            MountConfig {
                options: Some("nofail".into()),
                ..config()
            },
            vec!["mount", "tmpfs", "/mnt/x", "-t", "tmpfs"],
            vec!["umount", "/mnt/x"],
        ),
    ];
    for (c, mount, umount) in cases {
        assert_eq!(c.mount_argv(), mount);
        assert_eq!(c.umount_argv(), umount);
    }
}

#[test]
fn the_configuration_comes_from_the_mount_section_and_the_name() {
    let name = UnitName::parse("var-tmp.mount").unwrap();
    let section = unitfile::model::Mount {
        what: Some("/dev/vdb".into()),
        timeout_sec: Some(USEC_INFINITY),
        ..Default::default()
    };
    let c = MountConfig::new(&name, &section);
    assert_eq!(c.where_, "/var/tmp");
    assert_eq!(c.what, "/dev/vdb");
    assert_eq!(c.timeout_usec, None);
    assert_eq!(c.directory_mode, 0o755);
    assert!(c.send_sigkill);
    let c = MountConfig::new(&name, &unitfile::model::Mount::default());
    assert_eq!(c.timeout_usec, Some(DEFAULT_TIMEOUT_USEC));
}
