//! `sctl` against a fake manager: a thread listens on `<tmp>/control`, records every
//! request it decodes and answers from a script of canned replies. Each test pins which
//! requests a command line sends, what sctl prints and the exit status.

// Test helpers fail the test by panicking; the no-panic rule is for shipped code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proto::frame::{self, Decoder};
use proto::{
    Answer, Call, CgroupNode, ErrorKind, JobInfo, JobMode, JobVerb, KillWhom, Reply, Request,
    ShutdownKind, SystemStatus, UnitFileChange, UnitFileInfo, UnitInfo, UnitStatus,
};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the fake manager does with one connection.
#[derive(Clone)]
enum Act {
    Reply(Reply),
    /// Close the connection without answering.
    Hang,
    /// Keep the connection open and never answer.
    Silent,
}

struct Fake {
    dir: tempfile::TempDir,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Call>>>,
}

impl Fake {
    /// Starts a manager that answers the n-th connection with `script[n]`, repeating the
    /// last act once the script is used up.
    fn start(script: Vec<Act>) -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(dir.path().join("control")).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || serve(listener, script, flag));
        Fake {
            dir,
            stop,
            thread: Some(thread),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the manager and returns the calls it received, in order.
    fn calls(mut self) -> Vec<Call> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

fn serve(listener: UnixListener, script: Vec<Act>, stop: Arc<AtomicBool>) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut held = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        let mut stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let request = read_request(&mut stream);
        calls.push(request.call);
        let act = script
            .get(calls.len() - 1)
            .or(script.last())
            .cloned()
            .unwrap_or(Act::Hang);
        match act {
            Act::Reply(reply) => {
                let _ = stream.write_all(&frame::encode(&reply).unwrap());
            }
            Act::Hang => {}
            Act::Silent => held.push(stream),
        }
    }
    calls
}

fn read_request(stream: &mut UnixStream) -> Request {
    let mut d = Decoder::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(m) = d.next_message::<Request>() {
            return m.unwrap();
        }
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "client closed before sending a request");
        d.push(&buf[..n]);
    }
}

fn sctl_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sctl"));
    c.arg("--runtime-dir")
        .arg(dir)
        .args(args)
        .env_remove("SYSMASTER_RUNTIME_DIR")
        .env_remove("SCTL_TIMEOUT");
    c
}

/// Runs sctl against a fake manager with `script`; returns its output and the calls.
fn exchange(args: &[&str], script: Vec<Act>) -> (Output, Vec<Call>) {
    let fake = Fake::start(script);
    let out = sctl_cmd(fake.path(), args).output().unwrap();
    (out, fake.calls())
}

fn ok(answer: Answer) -> Act {
    Act::Reply(Reply::ok(answer))
}

fn refuse(kind: ErrorKind, message: &str) -> Act {
    Act::Reply(Reply::error(kind, message))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn job(id: u32, unit: &str, job_type: &str, state: &str) -> JobInfo {
    JobInfo {
        id,
        unit: unit.into(),
        job_type: job_type.into(),
        state: state.into(),
    }
}

fn unit(name: &str, active: &str, sub: &str) -> UnitInfo {
    UnitInfo {
        name: name.into(),
        load_state: "loaded".into(),
        active_state: active.into(),
        sub_state: sub.into(),
        description: format!("Unit {name}"),
        job: None,
    }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn list_all() -> Call {
    Call::ListUnits {
        patterns: vec![],
        all: true,
        states: vec![],
        types: vec![],
    }
}

#[test]
fn job_verbs_queue_a_job_and_wait_for_it() {
    let cases: [(&[&str], JobVerb, &str, JobMode, &str); 10] = [
        (
            &["start", "a"],
            JobVerb::Start,
            "a.service",
            JobMode::Replace,
            "start",
        ),
        (
            &["stop", "a.service"],
            JobVerb::Stop,
            "a.service",
            JobMode::Replace,
            "stop",
        ),
        (
            &["restart", "a"],
            JobVerb::Restart,
            "a.service",
            JobMode::Replace,
            "restart",
        ),
        (
            &["reload", "a"],
            JobVerb::Reload,
            "a.service",
            JobMode::Replace,
            "reload",
        ),
        (
            &["try-restart", "a"],
            JobVerb::TryRestart,
            "a.service",
            JobMode::Replace,
            "try-restart",
        ),
        (
            &["condrestart", "a"],
            JobVerb::TryRestart,
            "a.service",
            JobMode::Replace,
            "try-restart",
        ),
        (
            &["reload-or-restart", "a"],
            JobVerb::ReloadOrRestart,
            "a.service",
            JobMode::Replace,
            "restart",
        ),
        (
            &["force-reload", "a"],
            JobVerb::TryReloadOrRestart,
            "a.service",
            JobMode::Replace,
            "restart",
        ),
        (
            &["isolate", "rescue"],
            JobVerb::Isolate,
            "rescue.target",
            JobMode::Isolate,
            "start",
        ),
        (
            &["--job-mode=fail", "start", "b.socket"],
            JobVerb::Start,
            "b.socket",
            JobMode::Fail,
            "start",
        ),
    ];
    for (args, verb, name, mode, job_type) in cases {
        let (out, calls) = exchange(
            args,
            vec![
                // The manager may report other jobs of the transaction; only the named
                // unit's job is waited for.
                ok(Answer::Jobs(vec![
                    job(7, name, job_type, "waiting"),
                    job(8, "dep.service", "start", "waiting"),
                ])),
                ok(Answer::Jobs(vec![job(7, name, job_type, "done")])),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{args:?}");
        assert_eq!(stderr(&out), "", "{args:?}");
        assert_eq!(
            calls,
            vec![
                Call::Job {
                    verb,
                    units: vec![name.into()],
                    mode
                },
                Call::WaitJobs { jobs: vec![7] },
            ],
            "{args:?}"
        );
    }
}

#[test]
fn several_units_get_one_job_call_each_and_one_wait() {
    let (out, calls) = exchange(
        &["start", "a", "b"],
        vec![
            ok(Answer::Jobs(vec![job(1, "a.service", "start", "waiting")])),
            ok(Answer::Jobs(vec![job(2, "b.service", "start", "waiting")])),
            ok(Answer::Jobs(vec![
                job(1, "a.service", "start", "done"),
                job(2, "b.service", "start", "done"),
            ])),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[2], Call::WaitJobs { jobs: vec![1, 2] });
}

#[test]
fn no_block_does_not_wait() {
    let (out, calls) = exchange(
        &["--no-block", "restart", "a"],
        vec![ok(Answer::Jobs(vec![job(
            3,
            "a.service",
            "restart",
            "waiting",
        )]))],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        calls,
        vec![Call::Job {
            verb: JobVerb::Restart,
            units: vec!["a.service".into()],
            mode: JobMode::Replace
        }]
    );
}

#[test]
fn a_failed_job_is_explained_with_the_service_result() {
    let (out, calls) = exchange(
        &["start", "a"],
        vec![
            ok(Answer::Jobs(vec![job(4, "a.service", "start", "waiting")])),
            ok(Answer::Jobs(vec![job(4, "a.service", "start", "failed")])),
            ok(Answer::Properties(vec![vec![(
                "Result".into(),
                "exit-code".into(),
            )]])),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Job for a.service failed because the control process exited with error code.\n\
         See \"sctl status a.service\" and \"sctl logs a.service\" for details.\n"
    );
    assert_eq!(
        calls[2],
        Call::Show {
            units: vec!["a.service".into()],
            properties: vec!["Result".into()],
            all: false,
        }
    );
}

#[test]
fn a_failed_job_without_a_known_result_and_other_results() {
    let cases: [(&str, Act, &str); 3] = [
        (
            "failed",
            refuse(ErrorKind::Unsupported, "no properties"),
            "Job for a.service failed.\nSee \"sctl status a.service\" and \"sctl logs a.service\" for details.\n",
        ),
        ("canceled", Act::Hang, "Job for a.service canceled.\n"),
        (
            "dependency",
            Act::Hang,
            "A dependency job for a.service failed. See 'sctl list-units --failed' for details.\n",
        ),
    ];
    for (result, show, want) in cases {
        let (out, calls) = exchange(
            &["start", "a"],
            vec![
                ok(Answer::Jobs(vec![job(4, "a.service", "start", "waiting")])),
                ok(Answer::Jobs(vec![job(4, "a.service", "start", result)])),
                show,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{result}");
        assert_eq!(stderr(&out), want, "{result}");
        // Only a plain failure asks for the service's Result.
        assert_eq!(
            calls.len(),
            if result == "failed" { 3 } else { 2 },
            "{result}"
        );
    }
}

#[test]
fn quiet_keeps_the_exit_status_but_not_the_explanation() {
    let (out, calls) = exchange(
        &["-q", "start", "a"],
        vec![
            ok(Answer::Jobs(vec![job(4, "a.service", "start", "waiting")])),
            ok(Answer::Jobs(vec![job(4, "a.service", "start", "failed")])),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "");
    assert_eq!(calls.len(), 2);
}

#[test]
fn refused_jobs_use_systemctls_messages_and_exit_codes() {
    let cases: [(ErrorKind, &str, &str, i32); 4] = [
        (
            ErrorKind::NoSuchUnit,
            "Unit nope.service not found.",
            "Failed to start nope.service: Unit nope.service not found.\n",
            5,
        ),
        (
            ErrorKind::PermissionDenied,
            "Access denied",
            "Failed to start nope.service: Access denied\nSee system logs and 'sctl status nope.service' for details.\n",
            4,
        ),
        (
            ErrorKind::Unsupported,
            "Job type reload is not applicable for unit nope.service.",
            "Failed to start nope.service: Job type reload is not applicable for unit nope.service.\n",
            3,
        ),
        (
            ErrorKind::JobFailed,
            "Transaction for nope.service/start is destructive.",
            "Failed to start nope.service: Transaction for nope.service/start is destructive.\nSee system logs and 'sctl status nope.service' for details.\n",
            1,
        ),
    ];
    for (kind, message, want, code) in cases {
        let (out, calls) = exchange(&["start", "nope"], vec![refuse(kind, message)]);
        assert_eq!(out.status.code(), Some(code), "{kind:?}");
        assert_eq!(stderr(&out), want, "{kind:?}");
        assert_eq!(calls.len(), 1, "no wait after a refusal");
    }
}

#[test]
fn globs_expand_to_loaded_units() {
    let (out, calls) = exchange(
        &["--no-block", "stop", "web-*"],
        vec![
            ok(Answer::Units(vec![
                unit("web-a.service", "active", "running"),
                unit("web-b.service", "active", "running"),
            ])),
            ok(Answer::Done),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        calls,
        vec![
            Call::ListUnits {
                patterns: s(&["web-*"]),
                all: true,
                states: vec![],
                types: vec![]
            },
            Call::Job {
                verb: JobVerb::Stop,
                units: s(&["web-a.service"]),
                mode: JobMode::Replace
            },
            Call::Job {
                verb: JobVerb::Stop,
                units: s(&["web-b.service"]),
                mode: JobMode::Replace
            },
        ]
    );
}

#[test]
fn kill_sends_whom_and_signal() {
    let cases: [(&[&str], KillWhom, i32); 4] = [
        (&["kill", "a"], KillWhom::All, 15),
        (
            &["kill", "--kill-whom=main", "-s", "KILL", "a"],
            KillWhom::Main,
            9,
        ),
        (
            &["kill", "--kill-whom", "control", "--signal=SIGHUP", "a"],
            KillWhom::Control,
            1,
        ),
        (&["kill", "-s", "10", "a"], KillWhom::All, 10),
    ];
    for (args, whom, signal) in cases {
        let (out, calls) = exchange(args, vec![ok(Answer::Done)]);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(
            calls,
            vec![Call::Kill {
                units: s(&["a.service"]),
                whom,
                signal
            }],
            "{args:?}"
        );
    }
    let (out, calls) = exchange(&["kill", "-s", "BOGUS", "a"], vec![]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "Failed to parse signal string BOGUS.\n");
    assert!(calls.is_empty());
    let (out, _) = exchange(
        &["kill", "a"],
        vec![refuse(ErrorKind::NoSuchUnit, "Unit a.service not loaded.")],
    );
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        stderr(&out),
        "Failed to kill unit a.service: Unit a.service not loaded.\n"
    );
}

#[test]
fn reset_failed_all_or_per_unit() {
    let (out, calls) = exchange(&["reset-failed"], vec![ok(Answer::Done)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(calls, vec![Call::ResetFailed { units: vec![] }]);
    let (out, calls) = exchange(&["reset-failed", "a", "b.socket"], vec![ok(Answer::Done)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        calls,
        vec![
            Call::ResetFailed {
                units: s(&["a.service"])
            },
            Call::ResetFailed {
                units: s(&["b.socket"])
            }
        ]
    );
}

fn status_answer(active: &str, sub: &str) -> Answer {
    Answer::Status(vec![UnitStatus {
        unit: UnitInfo {
            description: "Alpha".into(),
            ..unit("a.service", active, sub)
        },
        fragment: Some("/etc/sysmaster/system/a.service".into()),
        dropins: vec![],
        unit_file_state: "enabled".into(),
        state_change_usec: None,
        main_pid: Some(42),
        status_text: Some("Serving".into()),
        result: None,
        processes: vec![(42, "/usr/bin/alpha -d".into())],
        log: vec!["hello".into()],
    }])
}

#[test]
fn status_prints_like_systemctl_and_exits_by_state() {
    let (out, calls) = exchange(
        &["status", "a"],
        vec![ok(status_answer("active", "running"))],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "● a.service - Alpha\n\
         \x20    Loaded: loaded (/etc/sysmaster/system/a.service; enabled)\n\
         \x20    Active: active (running)\n\
         \x20  Main PID: 42 (alpha)\n\
         \x20    Status: \"Serving\"\n\
         \x20 Processes: 1\n\
         \x20            └─42 /usr/bin/alpha -d\n\
         \n\
         hello\n"
    );
    assert_eq!(
        calls,
        vec![Call::Status {
            units: s(&["a.service"])
        }]
    );
    let (out, _) = exchange(
        &["status", "a"],
        vec![ok(status_answer("inactive", "dead"))],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).starts_with("○ a.service - Alpha\n"));
    let (out, _) = exchange(
        &["status", "a"],
        vec![ok(status_answer("failed", "failed"))],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).starts_with("× a.service - Alpha\n"));
}

#[test]
fn status_of_an_unknown_unit_exits_4() {
    let (out, _) = exchange(
        &["status", "x"],
        vec![refuse(ErrorKind::NoSuchUnit, "Unit x.service not found.")],
    );
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(stderr(&out), "Unit x.service could not be found.\n");
    assert_eq!(stdout(&out), "");
    // A not-found unit the manager reports as inactive counts as unknown too; the first
    // non-zero status wins across units.
    let mut missing = status_answer("inactive", "dead");
    if let Answer::Status(v) = &mut missing {
        v[0].unit.load_state = "not-found".into();
    }
    let (out, calls) = exchange(
        &["status", "x", "a"],
        vec![ok(missing), ok(status_answer("active", "running"))],
    );
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(stderr(&out), "Unit x.service could not be found.\n");
    assert!(stdout(&out).starts_with("● a.service - Alpha\n"));
    assert_eq!(calls.len(), 2);
}

#[test]
fn status_without_a_unit_prints_the_overview_and_exits_0() {
    let overview = SystemStatus {
        host: "box".into(),
        state: "running".into(),
        names: 7,
        jobs: 1,
        failed_units: 0,
        since_usec: None,
        version: "0.1.0".into(),
        cgroup: Some(CgroupNode {
            name: "/".into(),
            processes: vec![(1, "/sbin/init".into())],
            children: vec![],
        }),
    };
    let (out, calls) = exchange(
        &["status"],
        vec![ok(Answer::SystemStatus(Box::new(overview)))],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(calls, vec![Call::SystemStatus]);
    assert_eq!(
        stdout(&out),
        "● box\n    State: running\n    Units: 7 loaded (incl. loaded aliases)\n     Jobs: 1 queued\n   Failed: 0 units\n    Since: n/a\nsysmaster: 0.1.0\n   CGroup: /\n           └─1 /sbin/init\n"
    );
    let (out, _) = exchange(&["status"], vec![refuse(ErrorKind::Failed, "no cgroups")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "Failed to read server status: no cgroups\n");
}

#[test]
fn show_all_asks_for_empty_properties_too() {
    let (out, calls) = exchange(
        &["show", "--all", "a"],
        vec![ok(Answer::Properties(vec![vec![(
            "StatusText".into(),
            String::new(),
        )]]))],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "StatusText=\n");
    assert_eq!(
        calls,
        vec![Call::Show {
            units: s(&["a.service"]),
            properties: vec![],
            all: true,
        }]
    );
}

#[test]
fn show_passes_properties_and_prints_values() {
    let props = Answer::Properties(vec![vec![
        ("Id".into(), "a.service".into()),
        ("ActiveState".into(), "active".into()),
    ]]);
    let (out, calls) = exchange(
        &["show", "-p", "Id,ActiveState", "a"],
        vec![ok(props.clone())],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "Id=a.service\nActiveState=active\n");
    assert_eq!(
        calls,
        vec![Call::Show {
            units: s(&["a.service"]),
            properties: s(&["Id", "ActiveState"]),
            all: false,
        }]
    );
    let (out, calls) = exchange(
        &["show", "a", "-p", "Id", "-p", "ActiveState", "--value"],
        vec![ok(props)],
    );
    assert_eq!(stdout(&out), "a.service\nactive\n");
    assert_eq!(
        calls,
        vec![Call::Show {
            units: s(&["a.service"]),
            properties: s(&["Id", "ActiveState"]),
            all: false,
        }]
    );
}

#[test]
fn is_active_and_is_failed_exit_codes() {
    let loaded = || {
        ok(Answer::Units(vec![
            unit("a.service", "active", "running"),
            unit("f.service", "failed", "failed"),
        ]))
    };
    let cases: [(&[&str], &str, i32); 7] = [
        (&["is-active", "a"], "active\n", 0),
        (&["is-active", "f"], "failed\n", 3),
        (&["is-active", "gone"], "inactive\n", 3),
        (&["is-active", "gone", "a"], "inactive\nactive\n", 0),
        (&["is-active", "-q", "a"], "", 0),
        (&["is-failed", "f"], "failed\n", 0),
        (&["is-failed", "a"], "active\n", 1),
    ];
    for (args, want, code) in cases {
        let (out, calls) = exchange(args, vec![loaded()]);
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        assert_eq!(stdout(&out), want, "{args:?}");
        assert_eq!(calls, vec![list_all()], "{args:?}");
    }
}

#[test]
fn is_enabled_reports_unit_file_states() {
    let files = || {
        ok(Answer::UnitFiles(vec![
            UnitFileInfo {
                name: "a.service".into(),
                state: "enabled".into(),
            },
            UnitFileInfo {
                name: "b.service".into(),
                state: "disabled".into(),
            },
            UnitFileInfo {
                name: "getty@.service".into(),
                state: "static".into(),
            },
        ]))
    };
    let cases: [(&[&str], &str, &str, i32); 5] = [
        (&["is-enabled", "a"], "enabled\n", "", 0),
        (&["is-enabled", "b"], "disabled\n", "", 1),
        (&["is-enabled", "getty@tty1"], "static\n", "", 0),
        (&["is-enabled", "-q", "b", "a"], "", "", 0),
        (
            &["is-enabled", "nope"],
            "",
            "Failed to get unit file state for nope.service: No such file or directory\n",
            1,
        ),
    ];
    for (args, want_out, want_err, code) in cases {
        let (out, calls) = exchange(args, vec![files()]);
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        assert_eq!(stdout(&out), want_out, "{args:?}");
        assert_eq!(stderr(&out), want_err, "{args:?}");
        assert_eq!(calls, vec![Call::ListUnitFiles { patterns: vec![] }]);
    }
}

#[test]
fn list_units_table_and_request() {
    let answer = || {
        ok(Answer::Units(vec![
            unit("b.socket", "active", "listening"),
            unit("zz.service", "failed", "failed"),
            unit("a.service", "active", "running"),
        ]))
    };
    let (out, calls) = exchange(&["list-units"], vec![answer()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "  UNIT       LOAD   ACTIVE SUB       DESCRIPTION\n\
         \x20 a.service  loaded active running   Unit a.service\n\
         ● zz.service loaded failed failed    Unit zz.service\n\
         \x20 b.socket   loaded active listening Unit b.socket\n\
         \n\
         LOAD   = Reflects whether the unit definition was properly loaded.\n\
         ACTIVE = The high-level unit activation state, i.e. generalization of SUB.\n\
         SUB    = The low-level unit activation state, values depend on unit type.\n\
         3 loaded units listed. Pass --all to see loaded but inactive units, too.\n\
         To show all installed unit files use 'sctl list-unit-files'.\n"
    );
    assert_eq!(
        calls,
        vec![Call::ListUnits {
            patterns: vec![],
            all: false,
            states: vec![],
            types: vec![]
        }]
    );
    // No verb means list-units.
    let (out2, _) = exchange(&[], vec![answer()]);
    assert_eq!(stdout(&out2), stdout(&out));

    let (out, calls) = exchange(
        &[
            "list-units",
            "--all",
            "--state=failed,active",
            "-t",
            "service",
            "--no-legend",
            "*.service",
        ],
        vec![answer()],
    );
    assert_eq!(
        stdout(&out),
        "  a.service  loaded active running Unit a.service\n● zz.service loaded failed failed  Unit zz.service\n"
    );
    assert_eq!(
        calls,
        vec![Call::ListUnits {
            patterns: s(&["*.service"]),
            all: true,
            states: s(&["failed", "active"]),
            types: s(&["service"])
        }]
    );
    let (out, calls) = exchange(&["list-units", "--failed"], vec![ok(Answer::Units(vec![]))]);
    assert_eq!(
        stdout(&out),
        "  UNIT LOAD ACTIVE SUB DESCRIPTION\n0 loaded units listed.\n"
    );
    assert_eq!(
        calls,
        vec![Call::ListUnits {
            patterns: vec![],
            all: false,
            states: s(&["failed"]),
            types: vec![]
        }]
    );
}

#[test]
fn list_unit_files_and_jobs() {
    let (out, calls) = exchange(
        &["list-unit-files", "--state=enabled"],
        vec![ok(Answer::UnitFiles(vec![
            UnitFileInfo {
                name: "b.service".into(),
                state: "enabled".into(),
            },
            UnitFileInfo {
                name: "c.service".into(),
                state: "disabled".into(),
            },
            UnitFileInfo {
                name: "a.target".into(),
                state: "enabled".into(),
            },
        ]))],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "UNIT FILE STATE\nb.service enabled\na.target  enabled\n\n2 unit files listed.\n"
    );
    assert_eq!(calls, vec![Call::ListUnitFiles { patterns: vec![] }]);

    let (out, calls) = exchange(
        &["list-jobs"],
        vec![ok(Answer::Jobs(vec![
            job(12, "b.service", "start", "waiting"),
            job(3, "a.service", "stop", "running"),
        ]))],
    );
    assert_eq!(
        stdout(&out),
        "JOB UNIT      TYPE  STATE\n3   a.service stop  running\n12  b.service start waiting\n\n2 jobs listed.\n"
    );
    assert_eq!(calls, vec![Call::ListJobs]);
    let (out, _) = exchange(&["list-jobs"], vec![ok(Answer::Jobs(vec![]))]);
    assert_eq!(stdout(&out), "No jobs running.\n");
}

#[test]
fn cancel_jobs() {
    let (out, calls) = exchange(&["cancel", "3", "4"], vec![ok(Answer::Done)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(calls, vec![Call::CancelJobs { jobs: vec![3, 4] }]);
    let (out, calls) = exchange(&["cancel"], vec![ok(Answer::Done)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(calls, vec![Call::CancelJobs { jobs: vec![] }]);
    let (out, calls) = exchange(&["cancel", "x"], vec![]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Failed to parse job id \"x\": Invalid argument\n"
    );
    assert!(calls.is_empty());
    let (out, _) = exchange(
        &["cancel", "9"],
        vec![refuse(ErrorKind::NoSuchJob, "Job 9 does not exist.")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Failed to cancel job: Job 9 does not exist.\n"
    );
}

#[test]
fn unit_file_changes_print_what_changed() {
    let created = || {
        ok(Answer::Changes(vec![(
            "created".into(),
            "/etc/sysmaster/system/multi-user.target.wants/a.service".into(),
            "/usr/lib/sysmaster/system/a.service".into(),
        )]))
    };
    let cases: [(&str, UnitFileChange); 4] = [
        ("enable", UnitFileChange::Enable),
        ("disable", UnitFileChange::Disable),
        ("mask", UnitFileChange::Mask),
        ("unmask", UnitFileChange::Unmask),
    ];
    for (verb, change) in cases {
        let (out, calls) = exchange(&[verb, "a"], vec![created()]);
        assert_eq!(out.status.code(), Some(0), "{verb}");
        assert_eq!(
            stderr(&out),
            "Created symlink /etc/sysmaster/system/multi-user.target.wants/a.service → /usr/lib/sysmaster/system/a.service.\n",
            "{verb}"
        );
        assert_eq!(
            calls,
            vec![Call::UnitFileChange {
                change,
                units: s(&["a.service"])
            }],
            "{verb}"
        );
    }
    let (out, _) = exchange(&["-q", "enable", "a"], vec![created()]);
    assert_eq!(stderr(&out), "");
    // --now starts what was enabled and waits for it.
    let (out, calls) = exchange(
        &["enable", "--now", "a"],
        vec![
            created(),
            ok(Answer::Jobs(vec![job(5, "a.service", "start", "waiting")])),
            ok(Answer::Jobs(vec![job(5, "a.service", "start", "done")])),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        &calls[1..],
        &[
            Call::Job {
                verb: JobVerb::Start,
                units: s(&["a.service"]),
                mode: JobMode::Replace
            },
            Call::WaitJobs { jobs: vec![5] }
        ]
    );
    let (out, _) = exchange(
        &["enable", "nope"],
        vec![refuse(
            ErrorKind::NoSuchUnit,
            "Unit file nope.service does not exist.",
        )],
    );
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        stderr(&out),
        "Failed to enable unit: Unit file nope.service does not exist.\n"
    );
}

#[test]
fn default_target() {
    let (out, calls) = exchange(&["set-default", "rescue"], vec![ok(Answer::Done)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        calls,
        vec![Call::SetDefault {
            unit: "rescue.target".into()
        }]
    );
    let (out, calls) = exchange(
        &["get-default"],
        vec![ok(Answer::Default("multi-user.target".into()))],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "multi-user.target\n");
    assert_eq!(calls, vec![Call::GetDefault]);
}

#[test]
fn manager_verbs() {
    let cases: [(&str, Call); 6] = [
        ("daemon-reload", Call::DaemonReload),
        ("daemon-reexec", Call::DaemonReexec),
        (
            "poweroff",
            Call::Shutdown {
                kind: ShutdownKind::Poweroff,
            },
        ),
        (
            "reboot",
            Call::Shutdown {
                kind: ShutdownKind::Reboot,
            },
        ),
        (
            "halt",
            Call::Shutdown {
                kind: ShutdownKind::Halt,
            },
        ),
        (
            "kexec",
            Call::Shutdown {
                kind: ShutdownKind::Kexec,
            },
        ),
    ];
    for (verb, call) in cases {
        let (out, calls) = exchange(&[verb], vec![ok(Answer::Done)]);
        assert_eq!(out.status.code(), Some(0), "{verb}: {}", stderr(&out));
        assert_eq!(calls, vec![call], "{verb}");
    }
    // A manager that re-executes or shuts down may drop the connection unanswered.
    let (out, _) = exchange(&["daemon-reexec"], vec![Act::Hang]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (out, _) = exchange(&["reboot"], vec![Act::Hang]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // daemon-reload must be answered.
    let (out, _) = exchange(&["daemon-reload"], vec![Act::Hang]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("closed the connection without answering"),
        "{}",
        stderr(&out)
    );
    let (out, _) = exchange(
        &["poweroff"],
        vec![refuse(ErrorKind::PermissionDenied, "Access denied")],
    );
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(stderr(&out), "Failed to power off system: Access denied\n");
}

#[test]
fn logs_prints_the_lines() {
    let (out, calls) = exchange(
        &["logs", "a", "-n", "2"],
        vec![ok(Answer::Logs(s(&["two", "three"])))],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "two\nthree\n");
    assert_eq!(
        calls,
        vec![Call::Logs {
            unit: "a.service".into(),
            lines: Some(2)
        }]
    );
    let (_, calls) = exchange(&["logs", "a.socket"], vec![ok(Answer::Logs(vec![]))]);
    assert_eq!(
        calls,
        vec![Call::Logs {
            unit: "a.socket".into(),
            lines: None
        }]
    );
}

#[test]
fn logs_follow_prints_new_lines_as_they_come() {
    let fake = Fake::start(vec![
        ok(Answer::Logs(s(&["one", "two", "three"]))),
        ok(Answer::Logs(s(&["one", "two", "three"]))),
        ok(Answer::Logs(s(&["two", "three", "four"]))),
        ok(Answer::Logs(s(&["two", "three", "four", "five"]))),
    ]);
    let mut child = sctl_cmd(fake.path(), &["logs", "-f", "-n", "2", "a"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut got = Vec::new();
    while got.len() < 4 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        got.push(line.trim_end().to_string());
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(got, s(&["two", "three", "four", "five"]));
    let calls = fake.calls();
    assert!(calls.len() >= 4);
    assert!(calls.iter().all(|c| *c
        == Call::Logs {
            unit: "a.service".into(),
            lines: Some(1000)
        }));
}

#[test]
fn unreachable_manager_names_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let out = sctl_cmd(dir.path(), &["start", "a"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let want = format!(
        "Failed to connect to the manager at {}/control: ",
        dir.path().display()
    );
    assert_eq!(
        stderr(&out),
        format!(
            "{want}No such file or directory\n\
             Is sysmaster running? Point at another instance with --runtime-dir or $SYSMASTER_RUNTIME_DIR.\n"
        )
    );
}

#[test]
fn runtime_dir_comes_from_the_environment() {
    let fake = Fake::start(vec![ok(Answer::Default("graphical.target".into()))]);
    let out = Command::new(env!("CARGO_BIN_EXE_sctl"))
        .arg("get-default")
        .env("SYSMASTER_RUNTIME_DIR", fake.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "graphical.target\n");
    assert_eq!(fake.calls(), vec![Call::GetDefault]);
}

#[test]
fn a_silent_manager_times_out() {
    let fake = Fake::start(vec![Act::Silent]);
    let start = Instant::now();
    let out = sctl_cmd(fake.path(), &["get-default"])
        .env("SCTL_TIMEOUT", "0.3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(
        stderr(&out).contains("did not answer within 0.3 s"),
        "{}",
        stderr(&out)
    );
    fake.calls();
}

#[test]
fn protocol_errors_are_reported() {
    let (out, _) = exchange(
        &["get-default"],
        vec![refuse(
            ErrorKind::Version,
            "protocol version 1 is not supported",
        )],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Failed to get default target: protocol version 1 is not supported\n"
    );
    // An answer of the wrong kind is an error, not a silent success.
    let (out, _) = exchange(&["get-default"], vec![ok(Answer::Done)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Unexpected answer from the manager to get-default: done\n"
    );
}

#[test]
fn bad_job_mode_is_refused_before_connecting() {
    let (out, calls) = exchange(&["--job-mode=sometimes", "start", "a"], vec![]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "Unknown job mode: sometimes\n");
    assert!(calls.is_empty());
}
