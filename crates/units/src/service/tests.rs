//! Scenario tests of the service state machine with a fake clock and fake pids. Effects
//! are compared in a compact text form (`show`), `Log` effects left out.

use super::*;
use crate::exit::{SIGABRT, SIGTERM};
use proptest::prelude::*;
use std::path::Path;
use unitfile::model::{Kind, UnitConfig};
use unitfile::name::{UnitName, UnitType};
use unitfile::specifier::{HostFacts, SpecifierContext};

const SEC: u64 = 1_000_000;

/// A service from the body of its `[Service]` section (plus `[Unit]` lines after a
/// `[Unit]` header inside `body`, if any).
fn service(body: &str) -> Service {
    let text = format!("[Service]\n{body}");
    let parsed = unitfile::syntax::parse(
        text.as_bytes(),
        Path::new("/test.service"),
        &["Unit", "Service", "Install"],
    );
    let name = UnitName::parse("test.service").unwrap();
    let host = HostFacts::default();
    let spec = SpecifierContext {
        unit: &name,
        fragment_path: None,
        host: &host,
    };
    let mut config = UnitConfig::new(UnitType::Service);
    let (diagnostics, fatal) = config.apply(&parsed.assignments, &spec);
    let errors: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.severity != unitfile::diag::Severity::Warning)
        .collect();
    assert!(errors.is_empty() && !fatal, "{errors:?}");
    let Kind::Service(s) = &config.kind else {
        unreachable!()
    };
    Service::new(s, &config.unit)
}

fn signal(sig: i32) -> String {
    unitfile::value::signal_name(sig).unwrap()
}

fn timer(kind: TimerKind) -> &'static str {
    match kind {
        TimerKind::Start => "start",
        TimerKind::Stop => "stop",
        TimerKind::Abort => "abort",
        TimerKind::Watchdog => "watchdog",
        TimerKind::RuntimeMax => "runtime-max",
        TimerKind::Restart => "restart",
    }
}

fn role(role: Role) -> &'static str {
    match role {
        Role::Main => "main",
        Role::Control(ExecKind::Condition) => "condition",
        Role::Control(ExecKind::StartPre) => "start-pre",
        Role::Control(ExecKind::Start) => "start",
        Role::Control(ExecKind::StartPost) => "start-post",
        Role::Control(ExecKind::Reload) => "reload",
        Role::Control(ExecKind::Stop) => "stop",
        Role::Control(ExecKind::StopPost) => "stop-post",
    }
}

/// One effect as a line: `spawn main /bin/d`, `kill cgroup SIGTERM`, `arm stop @91`
/// (seconds), `dead -> running (success)` ...
fn show(effect: &Effect) -> Option<String> {
    Some(match effect {
        Effect::Spawn {
            role: r,
            command,
            extra_env,
        } => {
            let mut s = format!("spawn {} {}", role(*r), command.path);
            for (k, v) in extra_env {
                s.push_str(&format!(" {k}={v}"));
            }
            s
        }
        Effect::Kill {
            target,
            signal: sig,
        } => {
            let target = match target {
                KillTarget::Main => "main",
                KillTarget::Control => "control",
                KillTarget::Cgroup => "cgroup",
                KillTarget::MainAndControl => "main+control",
            };
            format!("kill {target} {}", signal(*sig))
        }
        Effect::ArmTimer { kind, at } if at % SEC == 0 => {
            format!("arm {} @{}", timer(*kind), at / SEC)
        }
        Effect::ArmTimer { kind, at } => format!("arm {} @{}us", timer(*kind), at),
        Effect::DisarmTimer(kind) => format!("disarm {}", timer(*kind)),
        Effect::ReadPidFile(path) => format!("read-pid-file {path}"),
        Effect::WatchPidFile(path) => format!("watch-pid-file {path}"),
        Effect::GuessMainPid => "guess-main-pid".to_string(),
        Effect::ScheduleRestart => "schedule-restart".to_string(),
        Effect::StateChanged { from, to, result } => format!("{from} -> {to} ({result})"),
        Effect::Log(_) => return None,
    })
}

fn exited(code: i32) -> ExitStatus {
    ExitStatus::Exited(code)
}

fn killed(signal: i32) -> ExitStatus {
    ExitStatus::Killed {
        signal,
        core_dumped: false,
    }
}

fn exit(pid: u32, status: ExitStatus) -> Event {
    Event::Exited { pid, status }
}

fn spawned(role: Role, pid: u32) -> Event {
    Event::Spawned { role, pid }
}

fn notify(pid: u32, message: &str) -> Event {
    Event::Notify {
        pid,
        message: message.to_string(),
    }
}

const MAIN: Role = Role::Main;

fn control(kind: ExecKind) -> Role {
    Role::Control(kind)
}

/// Feeds `(seconds, event, expected effects)` steps in order and checks every step.
fn run(s: &mut Service, steps: &[(u64, Event, &[&str])]) {
    for (i, (secs, event, expected)) in steps.iter().enumerate() {
        let effects: Vec<String> = s
            .handle(secs * SEC, event.clone())
            .iter()
            .filter_map(show)
            .collect();
        assert_eq!(effects, *expected, "step {i}: {event:?}");
    }
}

/// Fires the armed state timer until the service settles in dead, failed or
/// auto-restart; the cgroup is taken to be empty once nothing is tracked.
fn settle(s: &mut Service) {
    for _ in 0..20 {
        if matches!(
            s.state(),
            ServiceState::Dead | ServiceState::Failed | ServiceState::AutoRestart
        ) {
            return;
        }
        if s.rt.main.is_none() && s.rt.control.is_none() && s.rt.cgroup_populated {
            s.handle(s.now, Event::CgroupEmpty);
            continue;
        }
        let Some((kind, at)) = s.rt.timer else {
            panic!("stuck in {} without a timer", s.state());
        };
        s.handle(at, Event::Timer(kind));
    }
    panic!("did not settle: {}", s.state());
}

// ---- configuration ----

/// The state machine reads its settings from the unit's own `[Service]` section: the
/// configuration shares it and copies no command.
#[test]
fn the_config_shares_the_service_section() {
    let mut section = unitfile::model::Service {
        exec_start: unitfile::exec::parse_exec_line("/bin/d a").commands,
        ..Default::default()
    };
    section.rare.exec_stop = unitfile::exec::parse_exec_line("/bin/s").commands;
    let section = Arc::new(section);
    let unit = UnitSection::default();
    let s = Service::new(&section, &unit);
    assert!(std::ptr::eq(s.config().section(), &*section));
    assert_eq!(Arc::strong_count(&section), 2);
    let start = s.config().commands(ExecKind::Start);
    assert!(std::ptr::eq(start, &*section.exec_start));
    assert_eq!(
        s.config().commands(ExecKind::Stop),
        &*section.rare.exec_stop
    );
    assert!(s.config().commands(ExecKind::Reload).is_empty());
    drop(s);
    assert_eq!(Arc::strong_count(&section), 1);
}

#[test]
fn defaults_follow_systemd() {
    let s = service("ExecStart=/bin/d");
    let c = s.config();
    assert_eq!(c.service_type, ServiceType::Simple);
    assert_eq!(c.timeout_start(), 90 * SEC);
    assert_eq!(c.timeout_stop(), 90 * SEC);
    assert_eq!(c.timeout_abort(), 90 * SEC);
    assert_eq!(c.restart_usec(), 100_000);
    assert_eq!(c.start_limit_interval, 10 * SEC);
    assert_eq!(c.start_limit_burst, 5);
    assert_eq!(c.kill_signal(), SIGTERM);
    assert_eq!(c.final_kill_signal(), SIGKILL);
    assert_eq!(c.watchdog_signal(), SIGABRT);
    assert!(c.send_sigkill() && !c.send_sighup() && c.guess_main_pid() && !c.remain_after_exit());
    assert_eq!(c.kill_mode(), KillMode::ControlGroup);
    assert_eq!(c.notify_access(), NotifyAccess::None);
    assert_eq!(c.runtime_max(), USEC_INFINITY);

    let cases = [
        // A oneshot service has no start timeout unless one is set.
        (
            "Type=oneshot\nExecStart=/bin/t",
            USEC_INFINITY,
            NotifyAccess::None,
        ),
        (
            "Type=oneshot\nExecStart=/bin/t\nTimeoutStartSec=5",
            5 * SEC,
            NotifyAccess::None,
        ),
        // 0 means no timeout.
        (
            "ExecStart=/bin/d\nTimeoutSec=0",
            USEC_INFINITY,
            NotifyAccess::None,
        ),
        // Type=notify and the watchdog need the notify socket.
        (
            "Type=notify\nExecStart=/bin/d",
            90 * SEC,
            NotifyAccess::Main,
        ),
        (
            "Type=notify\nNotifyAccess=none\nExecStart=/bin/d",
            90 * SEC,
            NotifyAccess::Main,
        ),
        (
            "WatchdogSec=5\nExecStart=/bin/d",
            90 * SEC,
            NotifyAccess::Main,
        ),
        (
            "Type=notify\nNotifyAccess=all\nExecStart=/bin/d",
            90 * SEC,
            NotifyAccess::All,
        ),
    ];
    for (body, start, access) in cases {
        let s = service(body);
        assert_eq!(s.config().timeout_start(), start, "{body}");
        assert_eq!(s.config().notify_access(), access, "{body}");
    }
    let s = service("ExecStart=/bin/d\nTimeoutSec=0");
    assert_eq!(s.config().timeout_stop(), USEC_INFINITY);
    let s = service("ExecStart=/bin/d\nTimeoutStopSec=7\nTimeoutAbortSec=3");
    assert_eq!(s.config().timeout_abort(), 3 * SEC);
}

// ---- each type: start, running, stop ----

#[test]
fn simple_runs_right_after_the_spawn_and_stops_with_sigterm() {
    let mut s = service("ExecStart=/bin/d");
    run(
        &mut s,
        &[
            (
                1,
                Event::Start,
                &["spawn main /bin/d", "dead -> running (success)"],
            ),
            (1, spawned(MAIN, 100), &[]),
            (
                5,
                Event::Stop,
                &[
                    "kill cgroup SIGTERM",
                    "arm stop @95",
                    "running -> stop-sigterm (success)",
                ],
            ),
            (6, Event::CgroupEmpty, &[]),
            // SIGTERM is a clean end for a daemon.
            (
                6,
                exit(100, killed(SIGTERM)),
                &["disarm stop", "stop-sigterm -> dead (success)"],
            ),
        ],
    );
    assert_eq!(s.main_pid(), None);
    assert_eq!(s.active_state(), ActiveState::Inactive);
}

#[test]
fn exit_waits_for_execve() {
    let mut s = service("Type=exec\nExecStart=/bin/d");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn main /bin/d",
                    "arm start @90",
                    "dead -> start (success)",
                ],
            ),
            (0, spawned(MAIN, 7), &[]),
            (
                1,
                Event::MainExecuted,
                &["start -> running (success)", "disarm start"],
            ),
        ],
    );
    assert_eq!(s.main_pid(), Some(7));
    assert_eq!(s.active_state(), ActiveState::Active);
}

#[test]
fn exec_that_fails_to_exec_fails_with_its_setup_code() {
    let mut s = service("Type=exec\nExecStart=/bin/nope");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn main /bin/nope",
                    "arm start @90",
                    "dead -> start (success)",
                ],
            ),
            (0, Event::CgroupEmpty, &[]),
            (
                0,
                Event::SpawnFailed {
                    role: MAIN,
                    exit_code: 203,
                },
                &["disarm start", "start -> failed (exit-code)"],
            ),
        ],
    );
    assert_eq!(s.main_exit(), Some(exited(203)));
}

#[test]
fn forking_reads_the_pid_file_after_the_start_command() {
    let mut s = service("Type=forking\nPIDFile=/run/d.pid\nExecStart=/bin/d");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn start /bin/d PIDFILE=/run/d.pid",
                    "arm start @90",
                    "dead -> start (success)",
                ],
            ),
            (0, spawned(control(ExecKind::Start), 10), &[]),
            (2, exit(10, exited(0)), &["read-pid-file /run/d.pid"]),
            (
                2,
                Event::PidFile(Some(11)),
                &["start -> running (success)", "disarm start"],
            ),
            (
                3,
                Event::Stop,
                &[
                    "kill cgroup SIGTERM",
                    "arm stop @93",
                    "running -> stop-sigterm (success)",
                ],
            ),
            (
                3,
                exit(11, exited(0)),
                &[
                    "kill cgroup SIGTERM",
                    "arm stop @93",
                    "stop-sigterm -> final-sigterm (success)",
                ],
            ),
            (
                4,
                Event::CgroupEmpty,
                &["disarm stop", "final-sigterm -> dead (success)"],
            ),
        ],
    );
}

#[test]
fn forking_without_pid_file_guesses_the_main_pid() {
    let mut s = service("Type=forking\nExecStart=/bin/d");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn start /bin/d",
                    "arm start @90",
                    "dead -> start (success)",
                ],
            ),
            (0, spawned(control(ExecKind::Start), 10), &[]),
            (1, exit(10, exited(0)), &["guess-main-pid"]),
            (
                1,
                Event::MainPidGuess(Some(12)),
                &["start -> running (success)", "disarm start"],
            ),
        ],
    );
    assert_eq!(s.main_pid(), Some(12));

    // Without a guess the cgroup tells whether the daemon still runs.
    let mut s = service("Type=forking\nGuessMainPID=no\nExecStart=/bin/d");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn start /bin/d",
                    "arm start @90",
                    "dead -> start (success)",
                ],
            ),
            (0, spawned(control(ExecKind::Start), 10), &[]),
            (
                1,
                exit(10, exited(0)),
                &["start -> running (success)", "disarm start"],
            ),
            (5, Event::CgroupEmpty, &["running -> dead (success)"]),
        ],
    );
}

#[test]
fn forking_fails_when_the_pid_file_never_appears() {
    let mut s = service("Type=forking\nPIDFile=/run/d.pid\nExecStart=/bin/d");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn start /bin/d PIDFILE=/run/d.pid",
                    "arm start @90",
                    "dead -> start (success)",
                ],
            ),
            (0, spawned(control(ExecKind::Start), 10), &[]),
            (1, exit(10, exited(0)), &["read-pid-file /run/d.pid"]),
            (1, Event::PidFile(None), &["watch-pid-file /run/d.pid"]),
            (
                2,
                Event::CgroupEmpty,
                &["disarm start", "start -> failed (protocol)"],
            ),
        ],
    );
    // The file appearing later is as good as it being there at once.
    let mut s = service("Type=forking\nPIDFile=/run/d.pid\nExecStart=/bin/d");
    s.handle(0, Event::Start);
    s.handle(0, spawned(control(ExecKind::Start), 10));
    s.handle(0, exit(10, exited(0)));
    s.handle(0, Event::PidFile(None));
    s.handle(1, Event::PidFile(Some(33)));
    assert_eq!((s.state(), s.main_pid()), (ServiceState::Running, Some(33)));
}

#[test]
fn oneshot_runs_every_exec_start_in_turn() {
    let mut s = service("Type=oneshot\nExecStart=/bin/a\nExecStart=/bin/b");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &["spawn main /bin/a", "dead -> start (success)"],
            ),
            (0, spawned(MAIN, 10), &[]),
            (1, exit(10, exited(0)), &["spawn main /bin/b"]),
            (1, spawned(MAIN, 11), &[]),
            (2, Event::CgroupEmpty, &[]),
            // Without RemainAfterExit= the service is stopped once done.
            (2, exit(11, exited(0)), &["start -> dead (success)"]),
        ],
    );

    let mut s = service("Type=oneshot\nRemainAfterExit=yes\nExecStart=/bin/a\nExecStop=/bin/z");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &["spawn main /bin/a", "dead -> start (success)"],
            ),
            (0, spawned(MAIN, 10), &[]),
            (1, Event::CgroupEmpty, &[]),
            (1, exit(10, exited(0)), &["start -> exited (success)"]),
            (
                3,
                Event::Stop,
                &[
                    "spawn stop /bin/z SERVICE_RESULT=success EXIT_CODE=exited EXIT_STATUS=0",
                    "arm stop @93",
                    "exited -> stop (success)",
                ],
            ),
            (3, spawned(control(ExecKind::Stop), 20), &[]),
            (4, Event::CgroupEmpty, &[]),
            (
                4,
                exit(20, exited(0)),
                &["disarm stop", "stop -> dead (success)"],
            ),
        ],
    );
}

#[test]
fn oneshot_stops_at_the_first_failing_exec_start() {
    let mut s = service("Type=oneshot\nExecStart=/bin/a\nExecStart=/bin/b");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    s.handle(0, Event::CgroupEmpty);
    let effects: Vec<_> = s
        .handle(1, exit(10, exited(1)))
        .iter()
        .filter_map(show)
        .collect();
    assert_eq!(effects, ["start -> failed (exit-code)"]);

    // With `-` the failure is ignored and the next command runs.
    let mut s = service("Type=oneshot\nExecStart=-/bin/a\nExecStart=/bin/b");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    let effects: Vec<_> = s
        .handle(1, exit(10, exited(1)))
        .iter()
        .filter_map(show)
        .collect();
    assert_eq!(effects, ["spawn main /bin/b"]);
}

#[test]
fn oneshot_without_exec_start_passes_through_start() {
    let mut s = service("Type=oneshot\nRemainAfterExit=yes\nExecStartPost=/bin/p");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "dead -> start (success)",
                    "spawn start-post /bin/p",
                    "start -> start-post (success)",
                ],
            ),
            (0, spawned(control(ExecKind::StartPost), 5), &[]),
            (0, Event::CgroupEmpty, &[]),
            // Nobody knows the main process: systemd looks for one in the cgroup.
            (1, exit(5, exited(0)), &["guess-main-pid"]),
            (
                1,
                Event::MainPidGuess(None),
                &["start-post -> exited (success)"],
            ),
        ],
    );
}

#[test]
fn notify_runs_after_ready_from_the_main_process() {
    let mut s = service("Type=notify\nExecStart=/bin/d");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn main /bin/d",
                    "arm start @90",
                    "dead -> start (success)",
                ],
            ),
            (0, spawned(MAIN, 10), &[]),
            // Only the main process may notify by default.
            (1, notify(11, "READY=1"), &[]),
            (1, notify(10, "STATUS=loading"), &[]),
            (
                2,
                notify(10, "READY=1\nSTATUS=serving"),
                &["start -> running (success)", "disarm start"],
            ),
        ],
    );
    assert_eq!(s.status_text(), Some("serving"));
}

#[test]
fn notify_that_exits_before_ready_breaks_the_protocol() {
    let mut s = service("Type=notify\nExecStart=/bin/d");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn main /bin/d",
                    "arm start @90",
                    "dead -> start (success)",
                ],
            ),
            (0, spawned(MAIN, 10), &[]),
            (1, Event::CgroupEmpty, &[]),
            (
                1,
                exit(10, exited(0)),
                &["disarm start", "start -> failed (protocol)"],
            ),
        ],
    );
}

#[test]
fn idle_and_dbus_run_like_simple() {
    for body in [
        "Type=idle\nExecStart=/bin/d",
        "Type=dbus\nBusName=org.example.D\nExecStart=/bin/d",
        "BusName=org.example.D\nExecStart=/bin/d",
    ] {
        let mut s = service(body);
        run(
            &mut s,
            &[(
                0,
                Event::Start,
                &["spawn main /bin/d", "dead -> running (success)"],
            )],
        );
    }
    // An idle service counts as active while it starts: it never delays other jobs.
    let mut s = service("Type=idle\nExecStartPre=/bin/p\nExecStart=/bin/d");
    s.handle(0, Event::Start);
    assert_eq!(s.state(), ServiceState::StartPre);
    assert_eq!(s.active_state(), ActiveState::Active);
    let mut s = service("ExecStartPre=/bin/p\nExecStart=/bin/d");
    s.handle(0, Event::Start);
    assert_eq!(s.active_state(), ActiveState::Activating);
}

// ---- control commands ----

#[test]
fn start_pre_and_post_run_in_sequence() {
    let mut s = service(
        "ExecStartPre=/bin/p1\nExecStartPre=/bin/p2\nExecStart=/bin/d\nExecStartPost=/bin/q",
    );
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn start-pre /bin/p1",
                    "arm start @90",
                    "dead -> start-pre (success)",
                ],
            ),
            (0, spawned(control(ExecKind::StartPre), 2), &[]),
            (
                1,
                exit(2, exited(0)),
                &["spawn start-pre /bin/p2", "arm start @91"],
            ),
            (1, spawned(control(ExecKind::StartPre), 3), &[]),
            (
                2,
                exit(3, exited(0)),
                &[
                    "spawn main /bin/d",
                    "disarm start",
                    "spawn start-post /bin/q",
                    "arm start @92",
                    "start-pre -> start-post (success)",
                ],
            ),
            (2, spawned(MAIN, 4), &[]),
            (2, spawned(control(ExecKind::StartPost), 5), &[]),
            (
                3,
                exit(5, exited(0)),
                &["start-post -> running (success)", "disarm start"],
            ),
        ],
    );
    assert_eq!((s.main_pid(), s.control_pid()), (Some(4), None));
}

#[test]
fn failing_start_pre_fails_the_start_unless_prefixed_with_dash() {
    let mut s = service("ExecStartPre=/bin/p\nExecStart=/bin/d");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn start-pre /bin/p",
                    "arm start @90",
                    "dead -> start-pre (success)",
                ],
            ),
            (0, spawned(control(ExecKind::StartPre), 2), &[]),
            (0, Event::CgroupEmpty, &[]),
            (
                1,
                exit(2, exited(1)),
                &["disarm start", "start-pre -> failed (exit-code)"],
            ),
        ],
    );
    let mut s = service("ExecStartPre=-/bin/p\nExecStart=/bin/d");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn start-pre /bin/p",
                    "arm start @90",
                    "dead -> start-pre (success)",
                ],
            ),
            (0, spawned(control(ExecKind::StartPre), 2), &[]),
            (
                1,
                exit(2, exited(1)),
                &[
                    "spawn main /bin/d",
                    "disarm start",
                    "start-pre -> running (success)",
                ],
            ),
        ],
    );
    // A setup failure (203/EXEC) is a failure like any other exit code.
    let mut s = service("ExecStartPre=/bin/nope\nExecStart=/bin/d");
    s.handle(0, Event::Start);
    s.handle(0, Event::CgroupEmpty);
    s.handle(
        0,
        Event::SpawnFailed {
            role: control(ExecKind::StartPre),
            exit_code: 203,
        },
    );
    assert_eq!(
        (s.state(), s.result()),
        (ServiceState::Failed, ServiceResult::ExitCode)
    );
}

#[test]
fn exec_condition_skips_the_start_without_failing() {
    // (exit, end state, result)
    let cases = [
        (exited(0), ServiceState::Running, ServiceResult::Success),
        (exited(1), ServiceState::Dead, ServiceResult::ExecCondition),
        (
            exited(254),
            ServiceState::Dead,
            ServiceResult::ExecCondition,
        ),
        (exited(255), ServiceState::Failed, ServiceResult::ExitCode),
        (killed(SIGTERM), ServiceState::Failed, ServiceResult::Signal),
    ];
    for (status, state, result) in cases {
        let mut s = service("ExecCondition=/bin/c\nExecStart=/bin/d\nRestart=always");
        s.handle(0, Event::Start);
        assert_eq!(s.state(), ServiceState::Condition);
        s.handle(0, spawned(control(ExecKind::Condition), 2));
        s.handle(0, Event::CgroupEmpty);
        s.handle(1, exit(2, status));
        let state_after = if state == ServiceState::Failed {
            // Restart=always restarts after a failure, never after a skip.
            ServiceState::AutoRestart
        } else {
            state
        };
        assert_eq!((s.state(), s.result()), (state_after, result), "{status:?}");
    }
}

#[test]
fn stop_commands_get_the_result_in_their_environment() {
    let mut s = service("ExecStart=/bin/d\nExecStop=/bin/stop\nExecStopPost=/bin/post");
    run(
        &mut s,
        &[
            (0, Event::Start, &["spawn main /bin/d", "dead -> running (success)"]),
            (0, spawned(MAIN, 10), &[]),
            (
                1,
                Event::Stop,
                &["spawn stop /bin/stop MAINPID=10 SERVICE_RESULT=success", "arm stop @91", "running -> stop (success)"],
            ),
            (1, spawned(control(ExecKind::Stop), 20), &[]),
            // The stop command failing does not stop the stop.
            (
                2,
                exit(20, exited(3)),
                &["kill cgroup SIGTERM", "arm stop @92", "stop -> stop-sigterm (exit-code)"],
            ),
            (
                3,
                exit(10, killed(SIGKILL)),
                &[
                    "spawn stop-post /bin/post SERVICE_RESULT=exit-code EXIT_CODE=killed EXIT_STATUS=KILL",
                    "arm stop @93",
                    "stop-sigterm -> stop-post (exit-code)",
                ],
            ),
            (3, spawned(control(ExecKind::StopPost), 21), &[]),
            (3, Event::CgroupEmpty, &[]),
            (4, exit(21, exited(0)), &["disarm stop", "stop-post -> failed (exit-code)"]),
        ],
    );
}

#[test]
fn main_exit_while_running_stops_the_service() {
    let mut s = service("ExecStart=/bin/d\nExecStopPost=/bin/post");
    run(
        &mut s,
        &[
            (0, Event::Start, &["spawn main /bin/d", "dead -> running (success)"]),
            (0, spawned(MAIN, 10), &[]),
            (5, Event::CgroupEmpty, &[]),
            (
                5,
                exit(10, exited(2)),
                &[
                    "spawn stop-post /bin/post SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=2",
                    "arm stop @95",
                    "running -> stop-post (exit-code)",
                ],
            ),
        ],
    );
}

#[test]
fn success_exit_status_counts_as_success() {
    let mut s = service("ExecStart=/bin/d\nSuccessExitStatus=42 SIGUSR1\nRestart=on-failure");
    for status in [exited(42), killed(10)] {
        s.handle(0, Event::ResetFailed);
        s.handle(0, Event::Start);
        s.handle(0, spawned(MAIN, 10));
        s.handle(0, Event::CgroupEmpty);
        s.handle(1, exit(10, status));
        assert_eq!(
            (s.state(), s.result()),
            (ServiceState::Dead, ServiceResult::Success)
        );
    }
}

// ---- reload ----

#[test]
fn reload_runs_exec_reload_and_keeps_running_when_it_fails() {
    let mut s = service("ExecStart=/bin/d\nExecReload=/bin/r");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &["spawn main /bin/d", "dead -> running (success)"],
            ),
            (0, spawned(MAIN, 10), &[]),
            (
                1,
                Event::Reload,
                &[
                    "spawn reload /bin/r MAINPID=10",
                    "arm start @91",
                    "running -> reload (success)",
                ],
            ),
            (1, spawned(control(ExecKind::Reload), 20), &[]),
            (
                2,
                exit(20, exited(1)),
                &["reload -> running (success)", "disarm start"],
            ),
        ],
    );
    assert_eq!(s.reload_result(), ServiceResult::ExitCode);
    assert_eq!(s.result(), ServiceResult::Success);

    // A reload that hangs is killed; the service goes on.
    s.handle(3, Event::Reload);
    s.handle(3, spawned(control(ExecKind::Reload), 21));
    let effects: Vec<_> = s
        .handle(93 * SEC, Event::Timer(TimerKind::Start))
        .iter()
        .filter_map(show)
        .collect();
    assert_eq!(
        effects,
        ["kill control SIGKILL", "reload -> running (success)"]
    );
    assert_eq!(s.reload_result(), ServiceResult::Timeout);
}

#[test]
fn notify_reloading_and_ready_frame_a_reload() {
    let mut s = service("Type=notify\nExecStart=/bin/d");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    s.handle(0, notify(10, "READY=1"));
    run(
        &mut s,
        &[
            (
                5,
                notify(10, "RELOADING=1"),
                &["arm start @95", "running -> reload (success)"],
            ),
            (
                6,
                notify(10, "READY=1"),
                &["reload -> running (success)", "disarm start"],
            ),
            // STOPPING=1 is like being sent SIGTERM: no signal, just wait.
            (
                7,
                notify(10, "STOPPING=1"),
                &["arm stop @97", "running -> stop-sigterm (success)"],
            ),
        ],
    );
}

// ---- timeouts and kill escalation ----

#[test]
fn start_timeout_escalates_from_sigterm_to_sigkill() {
    let mut s = service("Type=notify\nExecStart=/bin/d\nTimeoutStartSec=5\nTimeoutStopSec=3");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn main /bin/d",
                    "arm start @5",
                    "dead -> start (success)",
                ],
            ),
            (0, spawned(MAIN, 10), &[]),
            (
                5,
                Event::Timer(TimerKind::Start),
                &[
                    "kill cgroup SIGTERM",
                    "arm stop @8",
                    "start -> stop-sigterm (timeout)",
                ],
            ),
            (
                8,
                Event::Timer(TimerKind::Stop),
                &[
                    "kill cgroup SIGKILL",
                    "arm stop @11",
                    "stop-sigterm -> stop-sigkill (timeout)",
                ],
            ),
            (
                11,
                Event::Timer(TimerKind::Stop),
                &[
                    "kill cgroup SIGTERM",
                    "arm stop @14",
                    "stop-sigkill -> final-sigterm (timeout)",
                ],
            ),
            (
                14,
                Event::Timer(TimerKind::Stop),
                &[
                    "kill cgroup SIGKILL",
                    "arm stop @17",
                    "final-sigterm -> final-sigkill (timeout)",
                ],
            ),
            (
                17,
                Event::Timer(TimerKind::Stop),
                &["final-sigkill -> failed (timeout)"],
            ),
        ],
    );
}

#[test]
fn timeouts_in_each_phase_fail_with_timeout() {
    // (unit, the state the timer fires in)
    let cases = [
        (
            "ExecCondition=/bin/c\nExecStart=/bin/d",
            ServiceState::Condition,
        ),
        (
            "ExecStartPre=/bin/p\nExecStart=/bin/d",
            ServiceState::StartPre,
        ),
        ("Type=forking\nExecStart=/bin/d", ServiceState::Start),
        (
            "ExecStart=/bin/d\nExecStartPost=/bin/p",
            ServiceState::StartPost,
        ),
        ("ExecStart=/bin/d\nRuntimeMaxSec=5", ServiceState::Running),
    ];
    for (body, phase) in cases {
        let mut s = service(body);
        s.handle(0, Event::Start);
        assert_eq!(s.state(), phase, "{body}");
        let (kind, at) = s.rt.timer.unwrap();
        s.handle(at, Event::Timer(kind));
        assert!(
            s.state().active_state(false) == ActiveState::Deactivating,
            "{body}"
        );
        settle(&mut s);
        assert_eq!(
            (s.state(), s.result()),
            (ServiceState::Failed, ServiceResult::Timeout),
            "{body}"
        );
    }
}

#[test]
fn stop_timeout_in_exec_stop_signals_the_rest() {
    let mut s = service("ExecStart=/bin/d\nExecStop=/bin/stop\nTimeoutStopSec=2");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    s.handle(1, Event::Stop);
    s.handle(1, spawned(control(ExecKind::Stop), 11));
    run(
        &mut s,
        &[(
            3,
            Event::Timer(TimerKind::Stop),
            &[
                "kill cgroup SIGTERM",
                "arm stop @5",
                "stop -> stop-sigterm (timeout)",
            ],
        )],
    );
}

#[test]
fn send_sigkill_no_stops_at_sigterm() {
    let mut s = service("ExecStart=/bin/d\nSendSIGKILL=no\nTimeoutStopSec=2");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    run(
        &mut s,
        &[
            (
                1,
                Event::Stop,
                &[
                    "kill cgroup SIGTERM",
                    "arm stop @3",
                    "running -> stop-sigterm (success)",
                ],
            ),
            (
                3,
                Event::Timer(TimerKind::Stop),
                &[
                    "kill cgroup SIGTERM",
                    "arm stop @5",
                    "stop-sigterm -> final-sigterm (timeout)",
                ],
            ),
            (
                5,
                Event::Timer(TimerKind::Stop),
                &["final-sigterm -> failed (timeout)"],
            ),
        ],
    );
}

#[test]
fn kill_mode_decides_who_gets_the_signals() {
    // (KillMode=, SendSIGHUP=, effects of a stop, effects of the stop timeout)
    let cases: [(&str, &[&str], &[&str]); 5] = [
        (
            "KillMode=control-group",
            &[
                "kill cgroup SIGTERM",
                "arm stop @91",
                "running -> stop-sigterm (success)",
            ],
            &[
                "kill cgroup SIGKILL",
                "arm stop @181",
                "stop-sigterm -> stop-sigkill (timeout)",
            ],
        ),
        (
            "KillMode=mixed",
            &[
                "kill main SIGTERM",
                "arm stop @91",
                "running -> stop-sigterm (success)",
            ],
            &[
                "kill cgroup SIGKILL",
                "arm stop @181",
                "stop-sigterm -> stop-sigkill (timeout)",
            ],
        ),
        (
            "KillMode=process",
            &[
                "kill main SIGTERM",
                "arm stop @91",
                "running -> stop-sigterm (success)",
            ],
            &[
                "kill main SIGKILL",
                "arm stop @181",
                "stop-sigterm -> stop-sigkill (timeout)",
            ],
        ),
        (
            "KillMode=control-group\nSendSIGHUP=yes",
            &[
                "kill cgroup SIGTERM",
                "kill cgroup SIGHUP",
                "arm stop @91",
                "running -> stop-sigterm (success)",
            ],
            &[
                "kill cgroup SIGKILL",
                "arm stop @181",
                "stop-sigterm -> stop-sigkill (timeout)",
            ],
        ),
        (
            "KillSignal=SIGINT\nFinalKillSignal=SIGQUIT",
            &[
                "kill cgroup SIGINT",
                "arm stop @91",
                "running -> stop-sigterm (success)",
            ],
            &[
                "kill cgroup SIGQUIT",
                "arm stop @181",
                "stop-sigterm -> stop-sigkill (timeout)",
            ],
        ),
    ];
    for (setting, on_stop, on_timeout) in cases {
        let mut s = service(&format!("ExecStart=/bin/d\n{setting}"));
        s.handle(0, Event::Start);
        s.handle(0, spawned(MAIN, 10));
        let stop: Vec<_> = s.handle(SEC, Event::Stop).iter().filter_map(show).collect();
        assert_eq!(stop, on_stop, "{setting}");
        let timeout: Vec<_> = s
            .handle(91 * SEC, Event::Timer(TimerKind::Stop))
            .iter()
            .filter_map(show)
            .collect();
        assert_eq!(timeout, on_timeout, "{setting}");
    }

    // KillMode=none sends nothing and waits for nothing.
    let mut s = service("ExecStart=/bin/d\nKillMode=none");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    let stop: Vec<_> = s.handle(SEC, Event::Stop).iter().filter_map(show).collect();
    assert_eq!(stop, ["running -> dead (success)"]);
}

#[test]
fn timeout_failure_mode_abort_sends_the_watchdog_signal() {
    let mut s = service(
        "Type=notify\nExecStart=/bin/d\nTimeoutStartSec=5\nTimeoutStartFailureMode=abort\nTimeoutAbortSec=2",
    );
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    run(
        &mut s,
        &[
            (
                5,
                Event::Timer(TimerKind::Start),
                &[
                    "kill cgroup SIGABRT",
                    "arm abort @7",
                    "start -> stop-watchdog (timeout)",
                ],
            ),
            (
                7,
                Event::Timer(TimerKind::Abort),
                &[
                    "kill cgroup SIGKILL",
                    "arm stop @97",
                    "stop-watchdog -> stop-sigkill (timeout)",
                ],
            ),
        ],
    );
}

#[test]
fn stale_timers_are_ignored() {
    let mut s = service("ExecStartPre=/bin/p1\nExecStartPre=/bin/p2\nExecStart=/bin/d");
    s.handle(0, Event::Start);
    s.handle(0, spawned(control(ExecKind::StartPre), 2));
    s.handle(10 * SEC, exit(2, exited(0)));
    // The first command's timeout (@90) was replaced by the second's (@100).
    assert!(s
        .handle(90 * SEC, Event::Timer(TimerKind::Start))
        .is_empty());
    assert!(s
        .handle(100 * SEC, Event::Timer(TimerKind::Stop))
        .is_empty());
    assert_eq!(s.state(), ServiceState::StartPre);
}

// ---- Restart= ----

/// How a running simple service ends.
#[derive(Debug, Clone, Copy)]
enum Cause {
    CleanExit,
    CleanSignal,
    UncleanExit,
    UncleanSignal,
    CoreDump,
    Timeout,
    Watchdog,
}

/// Runs `ExecStart=/bin/d` with `settings` until `cause` ends it; returns the settled state.
fn end_by(settings: &str, cause: Cause) -> Service {
    let mut s = service(&format!(
        "ExecStart=/bin/d\nRuntimeMaxSec=100\nWatchdogSec=50\n{settings}"
    ));
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    assert_eq!(s.state(), ServiceState::Running);
    let status = match cause {
        Cause::CleanExit => Some(exited(0)),
        Cause::CleanSignal => Some(killed(SIGTERM)),
        Cause::UncleanExit => Some(exited(1)),
        Cause::UncleanSignal => Some(killed(SIGKILL)),
        Cause::CoreDump => Some(ExitStatus::Killed {
            signal: 11,
            core_dumped: true,
        }),
        Cause::Timeout => {
            s.handle(40 * SEC, notify(10, "WATCHDOG=1"));
            s.handle(100 * SEC, Event::Timer(TimerKind::RuntimeMax));
            Some(killed(SIGTERM))
        }
        Cause::Watchdog => {
            s.handle(50 * SEC, Event::Timer(TimerKind::Watchdog));
            Some(killed(SIGABRT))
        }
    };
    if let Some(status) = status {
        s.handle(s.now + 1, Event::CgroupEmpty);
        s.handle(s.now + 1, exit(10, status));
    }
    settle(&mut s);
    s
}

#[test]
fn restart_follows_the_table_of_systemd_service_5() {
    use Cause::*;
    let modes = [
        "no",
        "always",
        "on-success",
        "on-failure",
        "on-abnormal",
        "on-abort",
        "on-watchdog",
    ];
    // One row per cause, one column per mode above: restarted (X) or not (-).
    let table = [
        (CleanExit, "-XX----", ServiceResult::Success),
        (CleanSignal, "-XX----", ServiceResult::Success),
        (UncleanExit, "-X-X---", ServiceResult::ExitCode),
        (UncleanSignal, "-X-XXX-", ServiceResult::Signal),
        (CoreDump, "-X-XXX-", ServiceResult::CoreDump),
        (Timeout, "-X-XX--", ServiceResult::Timeout),
        (Watchdog, "-X-XX-X", ServiceResult::Watchdog),
    ];
    for (cause, row, result) in table {
        for (mode, mark) in modes.iter().zip(row.chars()) {
            let s = end_by(&format!("Restart={mode}"), cause);
            let expected = match (mark, result) {
                ('X', _) => ServiceState::AutoRestart,
                (_, ServiceResult::Success) => ServiceState::Dead,
                _ => ServiceState::Failed,
            };
            assert_eq!(s.state(), expected, "Restart={mode} after {cause:?}");
            assert_eq!(s.result(), result, "Restart={mode} after {cause:?}");
        }
    }
}

#[test]
fn restart_prevent_and_force_lists_override_restart() {
    use Cause::*;
    // (settings, cause, restarted)
    let cases = [
        (
            "Restart=always\nRestartPreventExitStatus=1",
            UncleanExit,
            false,
        ),
        (
            "Restart=always\nRestartPreventExitStatus=SIGKILL",
            UncleanSignal,
            false,
        ),
        (
            "Restart=always\nRestartPreventExitStatus=2",
            UncleanExit,
            true,
        ),
        ("Restart=no\nRestartForceExitStatus=1", UncleanExit, true),
        ("Restart=no\nRestartForceExitStatus=0", CleanExit, true),
        (
            "Restart=no\nRestartForceExitStatus=SIGTERM",
            CleanSignal,
            true,
        ),
        (
            "Restart=on-success\nRestartForceExitStatus=3",
            UncleanExit,
            false,
        ),
        // Prevent wins over force.
        (
            "RestartPreventExitStatus=1\nRestartForceExitStatus=1",
            UncleanExit,
            false,
        ),
    ];
    for (settings, cause, restarted) in cases {
        let s = end_by(settings, cause);
        assert_eq!(
            s.state() == ServiceState::AutoRestart,
            restarted,
            "{settings} {cause:?}"
        );
    }
}

#[test]
fn auto_restart_starts_again_after_restart_sec() {
    let mut s = service("ExecStart=/bin/d\nRestart=on-failure\nRestartSec=2");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    s.handle(1, Event::CgroupEmpty);
    run(
        &mut s,
        &[
            (
                1,
                exit(10, exited(1)),
                &[
                    "running -> failed (exit-code)",
                    "arm restart @3",
                    "failed -> auto-restart (exit-code)",
                ],
            ),
            // Too early: stale.
            (2, Event::Timer(TimerKind::Restart), &[]),
            (3, Event::Timer(TimerKind::Restart), &["schedule-restart"]),
            // The restart job: its stop part ends auto-restart, its start part starts.
            (3, Event::Stop, &["auto-restart -> dead (exit-code)"]),
            (
                3,
                Event::Start,
                &["spawn main /bin/d", "dead -> running (success)"],
            ),
        ],
    );
    assert_eq!(s.restart_count(), 1);
    assert_eq!(s.active_state(), ActiveState::Active);
}

#[test]
fn a_refused_restart_job_fails_the_service_with_resources() {
    let mut s = end_by("Restart=always\nRestartSec=1", Cause::UncleanExit);
    let (kind, at) = s.rt.timer.unwrap();
    let effects: Vec<_> = s
        .handle(at, Event::Timer(kind))
        .iter()
        .filter_map(show)
        .collect();
    assert_eq!(effects, ["schedule-restart"]);
    assert_eq!(s.state(), ServiceState::AutoRestart);
    let effects: Vec<_> = s
        .handle(at, Event::RestartRefused)
        .iter()
        .filter_map(show)
        .collect();
    assert_eq!(effects, ["auto-restart -> failed (exit-code)"]);
    // Not a restart any more: a late refusal changes nothing.
    assert!(s.handle(at, Event::RestartRefused).is_empty());
}

#[test]
fn stop_cancels_a_pending_restart() {
    let mut s = end_by("Restart=always\nRestartSec=5", Cause::UncleanExit);
    assert_eq!(s.state(), ServiceState::AutoRestart);
    let now = s.now;
    run(
        &mut s,
        &[(
            now / SEC,
            Event::Stop,
            &["disarm restart", "auto-restart -> dead (exit-code)"],
        )],
    );
    assert!(s
        .handle(now + 5 * SEC, Event::Timer(TimerKind::Restart))
        .is_empty());
    assert_eq!(s.state(), ServiceState::Dead);

    // A stop while running never leads to a restart, whatever the exit.
    let mut s = service("ExecStart=/bin/d\nRestart=always");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    s.handle(1, Event::Stop);
    s.handle(1, Event::CgroupEmpty);
    s.handle(1, exit(10, killed(SIGKILL)));
    settle(&mut s);
    assert_eq!(
        (s.state(), s.result()),
        (ServiceState::Failed, ServiceResult::Signal)
    );

    // A start while waiting to restart is told to wait.
    let mut s = end_by("Restart=always", Cause::UncleanExit);
    let effects: Vec<_> = s
        .handle(s.now, Event::Start)
        .iter()
        .filter_map(show)
        .collect();
    assert!(effects.is_empty());
    assert_eq!(s.state(), ServiceState::AutoRestart);
}

#[test]
fn start_limit_stops_restart_loops() {
    let mut s = service(
        "ExecStart=/bin/d\nRestart=always\nRestartSec=1\n[Unit]\nStartLimitBurst=3\nStartLimitIntervalSec=60",
    );
    s.handle(0, Event::Start);
    for pid in 10..13 {
        s.handle(s.now, spawned(MAIN, pid));
        s.handle(s.now, Event::CgroupEmpty);
        s.handle(s.now, exit(pid, exited(1)));
        assert_eq!(s.state(), ServiceState::AutoRestart);
        let (kind, at) = s.rt.timer.unwrap();
        s.handle(at, Event::Timer(kind));
        s.handle(at, Event::Stop);
        s.handle(at, Event::Start);
    }
    // The fourth start within the interval is refused; like systemd, the result of the
    // last run stays, as it is not success.
    assert_eq!(
        (s.state(), s.result()),
        (ServiceState::Failed, ServiceResult::ExitCode)
    );
    assert_eq!(s.restart_count(), 3);

    // reset-failed forgets the limit.
    s.handle(s.now, Event::ResetFailed);
    assert_eq!(
        (s.state(), s.result()),
        (ServiceState::Dead, ServiceResult::Success)
    );
    s.handle(s.now, Event::Start);
    assert_eq!(s.state(), ServiceState::Running);
    assert_eq!(s.restart_count(), 0);
}

#[test]
fn start_limit_applies_to_manual_starts() {
    let mut s = service(
        "Type=oneshot\nExecStart=/bin/t\n[Unit]\nStartLimitBurst=2\nStartLimitIntervalSec=10",
    );
    for (pid, secs) in [(10, 0), (11, 1)] {
        s.handle(secs * SEC, Event::Start);
        s.handle(secs * SEC, spawned(MAIN, pid));
        s.handle(secs * SEC, Event::CgroupEmpty);
        s.handle(secs * SEC, exit(pid, exited(0)));
        assert_eq!(s.state(), ServiceState::Dead);
    }
    run(
        &mut s,
        &[(2, Event::Start, &["dead -> failed (start-limit-hit)"])],
    );
    // After the interval the count starts over.
    s.handle(12 * SEC, Event::Start);
    assert_eq!(s.state(), ServiceState::Start);
}

// ---- sd_notify ----

#[test]
fn notify_access_decides_who_is_heard() {
    // (NotifyAccess=, sender, heard)
    let main = 10;
    let ctl = 20;
    let other = 30;
    let cases = [
        ("none", main, false),
        ("main", main, true),
        ("main", ctl, false),
        ("main", other, false),
        ("exec", main, true),
        ("exec", ctl, true),
        ("exec", other, false),
        ("all", other, true),
    ];
    for (access, sender, heard) in cases {
        let mut s = service(&format!(
            "ExecStart=/bin/d\nExecStartPost=/bin/p\nNotifyAccess={access}"
        ));
        s.handle(0, Event::Start);
        s.handle(0, spawned(MAIN, main));
        s.handle(0, spawned(control(ExecKind::StartPost), ctl));
        s.handle(1, notify(sender, "STATUS=hello\nERRNO=5"));
        assert_eq!(s.status_text().is_some(), heard, "{access} from {sender}");
        assert_eq!(s.status_errno().is_some(), heard, "{access} from {sender}");
    }
}

#[test]
fn notify_main_pid_moves_the_main_process() {
    let mut s = service("Type=notify\nExecStart=/bin/d");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    s.handle(1, notify(10, "MAINPID=42\nREADY=1"));
    assert_eq!((s.state(), s.main_pid()), (ServiceState::Running, Some(42)));
    // The old main process no longer counts; the new one does.
    s.handle(2, exit(10, exited(1)));
    assert_eq!(s.state(), ServiceState::Running);
    // Only the main process may move it, and never to pid 1.
    s.handle(3, notify(10, "MAINPID=43"));
    s.handle(3, notify(42, "MAINPID=1"));
    assert_eq!(s.main_pid(), Some(42));
}

#[test]
fn notify_extend_timeout_pushes_the_deadline() {
    let mut s = service("Type=notify\nExecStart=/bin/d\nTimeoutStartSec=10");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    run(
        &mut s,
        &[
            (
                8,
                notify(10, "EXTEND_TIMEOUT_USEC=5000000"),
                &["arm start @13"],
            ),
            // An extension that ends before the current deadline changes nothing.
            (9, notify(10, "EXTEND_TIMEOUT_USEC=1000000"), &[]),
            (10, Event::Timer(TimerKind::Start), &[]),
        ],
    );
    assert_eq!(s.state(), ServiceState::Start);
}

#[test]
fn watchdog_is_rearmed_by_keep_alives_and_fires_without_them() {
    let mut s = service("Type=notify\nExecStart=/bin/d\nWatchdogSec=10");
    run(
        &mut s,
        &[
            (
                0,
                Event::Start,
                &[
                    "spawn main /bin/d",
                    "arm start @90",
                    "dead -> start (success)",
                ],
            ),
            (0, spawned(MAIN, 10), &[]),
            (
                1,
                notify(10, "READY=1"),
                &[
                    "arm watchdog @11",
                    "start -> running (success)",
                    "disarm start",
                ],
            ),
            (8, notify(10, "WATCHDOG=1"), &["arm watchdog @18"]),
            (11, Event::Timer(TimerKind::Watchdog), &[]),
            (
                18,
                Event::Timer(TimerKind::Watchdog),
                &[
                    "kill cgroup SIGABRT",
                    "arm abort @108",
                    "running -> stop-watchdog (watchdog)",
                ],
            ),
        ],
    );
    assert_eq!(s.watchdog_usec(), Some(10 * SEC));
}

#[test]
fn watchdog_usec_and_trigger() {
    let mut s = service("Type=notify\nExecStart=/bin/d\nWatchdogSec=10");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    s.handle(1, notify(10, "READY=1"));
    run(
        &mut s,
        &[
            (2, notify(10, "WATCHDOG_USEC=3000000"), &["arm watchdog @5"]),
            (
                3,
                notify(10, "STATUS=stuck\nWATCHDOG=trigger"),
                &[
                    "disarm watchdog",
                    "kill cgroup SIGABRT",
                    "arm abort @93",
                    "running -> stop-watchdog (watchdog)",
                ],
            ),
        ],
    );
    assert_eq!(s.watchdog_usec(), Some(3 * SEC));
}

#[test]
fn the_last_of_ready_reloading_stopping_wins() {
    let mut s = service("Type=notify\nExecStart=/bin/d");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    s.handle(1, notify(10, "RELOADING=1\nREADY=1"));
    assert_eq!(s.state(), ServiceState::Running);
    s.handle(2, notify(10, "READY=1\nRELOADING=1"));
    assert_eq!(s.state(), ServiceState::Reload);
}

#[test]
fn status_text_is_cleared_by_an_empty_status() {
    let mut s = service("Type=notify\nExecStart=/bin/d");
    s.handle(0, Event::Start);
    s.handle(0, spawned(MAIN, 10));
    s.handle(1, notify(10, "STATUS=one"));
    assert_eq!(s.status_text(), Some("one"));
    s.handle(1, notify(10, "STATUS="));
    assert_eq!(s.status_text(), None);
    // A new start forgets the old status.
    s.handle(1, notify(10, "STATUS=two"));
    s.handle(2, Event::Stop);
    s.handle(2, Event::CgroupEmpty);
    s.handle(2, exit(10, exited(0)));
    s.handle(3, Event::Start);
    assert_eq!(s.status_text(), None);
}

// ---- properties ----

fn any_status() -> impl Strategy<Value = ExitStatus> {
    prop_oneof![
        (0i32..4).prop_map(ExitStatus::Exited),
        Just(ExitStatus::Exited(203)),
        Just(ExitStatus::Exited(255)),
        (
            prop_oneof![Just(1), Just(9), Just(11), Just(15)],
            any::<bool>()
        )
            .prop_map(|(signal, core_dumped)| ExitStatus::Killed {
                signal,
                core_dumped
            }),
    ]
}

fn any_role() -> impl Strategy<Value = Role> {
    prop_oneof![
        Just(Role::Main),
        Just(Role::Control(ExecKind::Condition)),
        Just(Role::Control(ExecKind::StartPre)),
        Just(Role::Control(ExecKind::Start)),
        Just(Role::Control(ExecKind::StartPost)),
        Just(Role::Control(ExecKind::Reload)),
        Just(Role::Control(ExecKind::Stop)),
        Just(Role::Control(ExecKind::StopPost)),
    ]
}

fn any_timer() -> impl Strategy<Value = TimerKind> {
    prop_oneof![
        Just(TimerKind::Start),
        Just(TimerKind::Stop),
        Just(TimerKind::Abort),
        Just(TimerKind::Watchdog),
        Just(TimerKind::RuntimeMax),
        Just(TimerKind::Restart),
    ]
}

fn any_message() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("READY=1".to_string()),
        Just("RELOADING=1".to_string()),
        Just("STOPPING=1".to_string()),
        Just("WATCHDOG=1".to_string()),
        Just("WATCHDOG=trigger".to_string()),
        Just("WATCHDOG_USEC=1000".to_string()),
        Just("EXTEND_TIMEOUT_USEC=5000000".to_string()),
        (0u32..6).prop_map(|pid| format!("MAINPID={pid}")),
        ".{0,40}",
    ]
}

/// Pids 0..6 so that events often hit the tracked processes.
fn any_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::Start),
        Just(Event::Stop),
        Just(Event::Reload),
        (any_role(), 0u32..6).prop_map(|(role, pid)| Event::Spawned { role, pid }),
        (any_role(), 200i32..220)
            .prop_map(|(role, exit_code)| Event::SpawnFailed { role, exit_code }),
        (0u32..6, any_status()).prop_map(|(pid, status)| Event::Exited { pid, status }),
        any_timer().prop_map(Event::Timer),
        (0u32..6, any_message()).prop_map(|(pid, message)| Event::Notify { pid, message }),
        Just(Event::CgroupEmpty),
        proptest::option::of(0u32..6).prop_map(Event::PidFile),
        proptest::option::of(0u32..6).prop_map(Event::MainPidGuess),
        Just(Event::MainExecuted),
        Just(Event::ResetFailed),
    ]
}

fn any_unit() -> impl Strategy<Value = String> {
    let types = prop_oneof![
        Just("simple"),
        Just("exec"),
        Just("forking"),
        Just("oneshot"),
        Just("notify"),
        Just("idle"),
    ];
    let restarts = prop_oneof![
        Just("no"),
        Just("always"),
        Just("on-failure"),
        Just("on-abort")
    ];
    let kill_modes = prop_oneof![
        Just("control-group"),
        Just("mixed"),
        Just("process"),
        Just("none")
    ];
    (
        types,
        restarts,
        kill_modes,
        proptest::collection::vec(any::<bool>(), 10),
    )
        .prop_map(|(t, restart, kill_mode, flags)| {
            let flag = |i: usize| flags.get(i).copied().unwrap_or(false);
            let mut unit = format!(
                "Type={t}\nKillMode={kill_mode}\nExecStart=/bin/d\nRestartSec=1\nTimeoutSec=5\n"
            );
            if restart != "always" || t != "oneshot" {
                unit.push_str(&format!("Restart={restart}\n"));
            }
            if t == "oneshot" && flag(0) {
                unit.push_str("ExecStart=-/bin/d2\n");
            }
            let optional = [
                "ExecCondition=/bin/c\n",
                "ExecStartPre=-/bin/p\nExecStartPre=/bin/p2\n",
                "ExecStartPost=/bin/q\n",
                "ExecReload=/bin/r\n",
                "ExecStop=/bin/s\n",
                "ExecStopPost=/bin/sp\n",
                "PIDFile=/run/d.pid\n",
                "WatchdogSec=2\nNotifyAccess=all\n",
                "RemainAfterExit=yes\nSendSIGKILL=no\n",
            ];
            for (i, line) in optional.iter().enumerate() {
                if flag(i + 1) {
                    unit.push_str(line);
                }
            }
            unit
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random event sequences never panic, never spawn a main process while one is
    /// tracked, and report every state change from the state last reported.
    #[test]
    fn random_events_keep_the_invariants(
        unit in any_unit(),
        events in proptest::collection::vec((0u64..3_000_000, any_event()), 0..60),
    ) {
        let mut s = service(&unit);
        let mut now = 0;
        let mut reported = s.state();
        for (step, event) in events {
            now += step;
            // A main process tracked before the event, unless the event is its end.
            let main_before = s.rt.main;
            let ends_main = match (&event, main_before) {
                (Event::Exited { pid, .. }, Some(Proc::Running(main))) => *pid == main,
                (Event::SpawnFailed { role: Role::Main, .. }, Some(_)) => true,
                _ => false,
            };
            let mut main_tracked = main_before.is_some() && !ends_main;
            let effects = s.handle(now, event.clone());
            for effect in &effects {
                match effect {
                    Effect::Spawn { role: Role::Main, .. } => {
                        prop_assert!(!main_tracked, "{unit}: main spawned twice on {event:?}");
                        main_tracked = true;
                    }
                    Effect::StateChanged { from, to, .. } => {
                        prop_assert_eq!(*from, reported);
                        reported = *to;
                    }
                    _ => {}
                }
            }
            prop_assert_eq!(reported, s.state());
            // Settled states track no process and arm no step timeout.
            if matches!(s.state(), ServiceState::Dead | ServiceState::Failed) {
                prop_assert!(s.rt.main.is_none() && s.rt.control.is_none() && s.rt.timer.is_none());
                prop_assert!(s.rt.watchdog_at.is_none());
            }
        }
    }
}

/// A snapshot taken at any point and restored (through JSON, as the manager stores it)
/// behaves exactly like the original from then on.
#[test]
fn a_restored_service_continues_where_the_snapshot_was_taken() {
    let settings =
        "Type=notify\nExecStart=/bin/d\nWatchdogSec=10\nRestart=on-failure\nRestartSec=3";
    let mut original = service(settings);
    original.handle(0, Event::Start);
    original.handle(0, spawned(MAIN, 10));
    original.handle(
        SEC,
        Event::Notify {
            pid: 10,
            message: "READY=1\nSTATUS=serving".into(),
        },
    );
    assert_eq!(original.state(), ServiceState::Running);
    let json = serde_json::to_string(&original.snapshot()).unwrap();
    let snap: ServiceSnapshot = serde_json::from_str(&json).unwrap();
    let (mut restored, effects) = Service::restore(original.config().clone(), snap);
    let effects: Vec<_> = effects.iter().filter_map(show).collect();
    assert_eq!(effects, ["arm watchdog @11"]);
    assert_eq!(restored.snapshot(), original.snapshot());
    assert_eq!(restored.status_text(), Some("serving"));
    // The same exit leads both through the same effects.
    for s in [&mut original, &mut restored] {
        s.handle(2 * SEC, Event::CgroupEmpty);
    }
    let a: Vec<_> = original
        .handle(2 * SEC, exit(10, exited(1)))
        .iter()
        .filter_map(show)
        .collect();
    let b: Vec<_> = restored
        .handle(2 * SEC, exit(10, exited(1)))
        .iter()
        .filter_map(show)
        .collect();
    assert_eq!(a, b);
    assert_eq!(restored.state(), ServiceState::AutoRestart);
}

#[test]
fn a_restored_lookup_is_asked_again_and_pending_spawns_are_named() {
    let mut s = service("Type=forking\nExecStart=/bin/d\nPIDFile=/run/d.pid");
    s.handle(0, Event::Start);
    assert_eq!(s.pending_roles(), [Role::Control(ExecKind::Start)]);
    s.handle(0, spawned(Role::Control(ExecKind::Start), 10));
    assert!(s.pending_roles().is_empty());
    let effects: Vec<_> = s
        .handle(0, exit(10, exited(0)))
        .iter()
        .filter_map(show)
        .collect();
    assert!(
        effects.contains(&"read-pid-file /run/d.pid".to_string()),
        "{effects:?}"
    );
    let (_, effects) = Service::restore(s.config().clone(), s.snapshot());
    let effects: Vec<_> = effects.iter().filter_map(show).collect();
    assert!(
        effects.contains(&"read-pid-file /run/d.pid".to_string()),
        "{effects:?}"
    );
}
