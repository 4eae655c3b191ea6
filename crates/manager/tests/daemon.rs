//! Integration tests of the `sysmaster` binary: each test runs a real manager with its own
//! unit directory and runtime directory (so tests run in parallel) and talks to it over the
//! control socket with `proto`. They need root (spawning into cgroups, SO_PEERCRED uid 0).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proto::frame::{decode, encode};
use proto::{Answer, Call, ErrorKind, JobInfo, JobMode, JobVerb, Reply, ReplyResult, Request};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

/// A running manager and the control-socket calls the tests make.
struct Manager(common::Process);

impl std::ops::Deref for Manager {
    type Target = common::Process;
    fn deref(&self) -> &common::Process {
        &self.0
    }
}

impl std::ops::DerefMut for Manager {
    fn deref_mut(&mut self) -> &mut common::Process {
        &mut self.0
    }
}

impl Manager {
    fn start(files: &[(&str, &str)]) -> Manager {
        Manager(common::Process::start(&["units"], files))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn connect(&self) -> UnixStream {
        let s = UnixStream::connect(self.control()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }

    fn call(&self, call: Call) -> Reply {
        let mut s = self.connect();
        send(&mut s, &Request::new(call));
        receive(&mut s).unwrap_or_else(|| panic!("no reply\n{}", self.log()))
    }

    fn ok(&self, call: Call) -> Answer {
        match self.call(call.clone()).result {
            ReplyResult::Ok(a) => a,
            ReplyResult::Error(e) => panic!("{call:?} failed: {e:?}\n{}", self.log()),
        }
    }

    fn job(&self, verb: JobVerb, unit: &str) -> u32 {
        match self.ok(Call::Job {
            verb,
            units: vec![unit.into()],
            mode: JobMode::Replace,
        }) {
            Answer::Jobs(jobs) => jobs[0].id,
            other => panic!("{other:?}"),
        }
    }

    fn wait(&self, job: u32) -> JobInfo {
        match self.ok(Call::WaitJobs { jobs: vec![job] }) {
            Answer::Jobs(mut jobs) => jobs.remove(0),
            other => panic!("{other:?}"),
        }
    }

    /// Runs a job to its end and returns its result.
    fn run(&self, verb: JobVerb, unit: &str) -> String {
        let id = self.job(verb, unit);
        self.wait(id).state
    }

    fn status(&self, unit: &str) -> proto::UnitStatus {
        match self.ok(Call::Status {
            units: vec![unit.into()],
        }) {
            Answer::Status(mut s) => s.remove(0),
            other => panic!("{other:?}"),
        }
    }

    fn states(&self, unit: &str) -> (String, String) {
        let s = self.status(unit);
        (s.unit.active_state, s.unit.sub_state)
    }

    fn logs(&self, unit: &str) -> Vec<String> {
        match self.ok(Call::Logs {
            unit: unit.into(),
            lines: None,
        }) {
            Answer::Logs(l) => l,
            other => panic!("{other:?}"),
        }
    }

    fn wait_until(&self, what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(
                Instant::now() < deadline,
                "timed out: {what}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn send(s: &mut UnixStream, req: &Request) {
    s.write_all(&encode(req).unwrap()).unwrap();
}

/// Reads one reply; `None` when the connection closes first.
fn receive(s: &mut UnixStream) -> Option<Reply> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match s.read(&mut byte) {
            Ok(0) | Err(_) => return None,
            Ok(_) if byte[0] == 0 => break,
            Ok(_) => buf.push(byte[0]),
        }
    }
    Some(decode(&buf).unwrap())
}

/// Alive and not a zombie.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

fn script(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn simple_service_starts_runs_and_stops() {
    let m = Manager::start(&[(
        "a.service",
        "[Unit]\nDescription=Sleeper\n[Service]\nExecStart=/bin/sleep 1000\n",
    )]);
    assert_eq!(m.run(JobVerb::Start, "a.service"), "done");
    // The main pid is known from the fork; wait for the exec to see its command line.
    m.wait_until("sleep runs", || {
        m.status("a.service")
            .processes
            .iter()
            .any(|(_, cmd)| cmd.contains("sleep 1000"))
    });
    let s = m.status("a.service");
    assert_eq!(
        (s.unit.active_state.as_str(), s.unit.sub_state.as_str()),
        ("active", "running")
    );
    assert_eq!(s.unit.description, "Sleeper");
    let pid = s.main_pid.expect("main pid");
    assert!(alive(pid));
    assert!(
        s.processes
            .iter()
            .any(|(p, cmd)| *p == pid && cmd.contains("sleep 1000")),
        "{:?}",
        s.processes
    );
    assert!(s.fragment.unwrap().ends_with("units/a.service"));

    // It is listed, and so is the slice it runs in.
    let Answer::Units(list) = m.ok(Call::ListUnits {
        patterns: vec![],
        all: false,
        states: vec![],
        types: vec![],
    }) else {
        panic!()
    };
    let names: Vec<&str> = list.iter().map(|u| u.name.as_str()).collect();
    assert!(
        names.contains(&"a.service") && names.contains(&"system.slice"),
        "{names:?}"
    );

    assert_eq!(m.run(JobVerb::Stop, "a.service"), "done");
    assert_eq!(m.states("a.service"), ("inactive".into(), "dead".into()));
    assert!(!alive(pid), "the main process is gone");
    assert!(
        m.log().contains("a.service: Stopped Sleeper."),
        "{}",
        m.log()
    );
}

#[test]
fn oneshot_with_remain_after_exit_stays_active() {
    let m = Manager::start(&[(
        "o.service",
        "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",
    )]);
    assert_eq!(m.run(JobVerb::Start, "o.service"), "done");
    assert_eq!(m.states("o.service"), ("active".into(), "exited".into()));
    assert_eq!(m.status("o.service").main_pid, None);
}

#[test]
fn a_command_that_cannot_be_executed_fails_the_unit_with_203() {
    let m = Manager::start(&[("bad.service", "[Service]\nExecStart=/nonexistent/program\n")]);
    assert_eq!(m.run(JobVerb::Start, "bad.service"), "done");
    // A simple service is started once forked; the exec failure arrives as its exit.
    m.wait_until("bad.service failed", || {
        m.states("bad.service") == ("failed".into(), "failed".into())
    });
    let logs = m.logs("bad.service").join("\n");
    assert!(logs.contains("status=203"), "{logs}");
    assert!(logs.contains("Failed with result 'exit-code'"), "{logs}");

    // Type=exec waits for the execve: there the start job itself fails.
    let m = Manager::start(&[(
        "bad.service",
        "[Service]\nType=exec\nExecStart=/nonexistent/program\n",
    )]);
    assert_eq!(m.run(JobVerb::Start, "bad.service"), "failed");
    assert_eq!(m.states("bad.service"), ("failed".into(), "failed".into()));
}

#[test]
fn restart_on_failure_runs_the_service_again() {
    let m = Manager::start(&[(
        "r.service",
        "[Service]\nRestart=on-failure\nRestartSec=50ms\nExecStart=/bin/sh @DIR@/count.sh\n",
    )]);
    // Fails twice, succeeds the third time.
    script(
        &m.path("count.sh"),
        &format!(
            "echo run >> {0}/counter\n[ \"$(wc -l < {0}/counter)\" -ge 3 ]\n",
            m.dir.path().display()
        ),
    );
    assert_eq!(m.run(JobVerb::Start, "r.service"), "done");
    m.wait_until("three runs and a clean end", || {
        std::fs::read_to_string(m.path("counter")).is_ok_and(|c| c.lines().count() == 3)
            && m.states("r.service") == ("inactive".into(), "dead".into())
    });
    std::thread::sleep(Duration::from_millis(200));
    let runs = std::fs::read_to_string(m.path("counter")).unwrap();
    assert_eq!(runs.lines().count(), 3, "no restart after success");
    assert!(m.log().contains("restart counter is at 2"), "{}", m.log());
}

#[test]
fn a_target_starts_what_it_wants() {
    let m = Manager::start(&[
        ("t.target", "[Unit]\nWants=a.service b.service\n"),
        ("a.service", "[Service]\nExecStart=/bin/sleep 1000\n"),
        (
            "b.service",
            "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",
        ),
    ]);
    assert_eq!(m.run(JobVerb::Start, "t.target"), "done");
    assert_eq!(m.states("t.target"), ("active".into(), "active".into()));
    assert_eq!(m.states("a.service"), ("active".into(), "running".into()));
    assert_eq!(m.states("b.service"), ("active".into(), "exited".into()));
    // Stopping the target leaves what it wanted running (Wants= does not propagate stops).
    assert_eq!(m.run(JobVerb::Stop, "t.target"), "done");
    assert_eq!(m.states("t.target"), ("inactive".into(), "dead".into()));
    assert_eq!(m.states("a.service").0, "active");
}

#[test]
fn notify_service_is_started_by_ready() {
    let m = Manager::start(&[(
        "n.service",
        "[Service]\nType=notify\nNotifyAccess=all\nExecStart=/bin/sh @DIR@/notify.sh\n",
    )]);
    script(
        &m.path("notify.sh"),
        "sleep 0.3\nsystemd-notify --ready --status=serving\nexec sleep 1000\n",
    );
    let job = m.job(JobVerb::Start, "n.service");
    assert_eq!(m.states("n.service"), ("activating".into(), "start".into()));
    assert_eq!(m.wait(job).state, "done");
    let s = m.status("n.service");
    assert_eq!(s.unit.active_state, "active");
    assert_eq!(s.unit.sub_state, "running");
    assert_eq!(s.status_text.as_deref(), Some("serving"));
}

#[test]
fn output_is_captured() {
    let m = Manager::start(&[(
        "echo.service",
        "[Service]\nType=oneshot\nExecStart=/bin/sh -c \"echo hello-out; echo hello-err >&2\"\n",
    )]);
    assert_eq!(m.run(JobVerb::Start, "echo.service"), "done");
    let logs = m.logs("echo.service");
    assert!(logs.contains(&"hello-out".to_string()), "{logs:?}");
    assert!(logs.contains(&"hello-err".to_string()), "{logs:?}");
    let status = m.status("echo.service");
    assert!(
        status.log.contains(&"hello-out".to_string()),
        "{:?}",
        status.log
    );
}

#[test]
fn bad_requests_get_errors_and_the_manager_keeps_answering() {
    let m = Manager::start(&[]);
    let mut s = m.connect();
    let error_kind = |r: Option<Reply>| match r.map(|r| r.result) {
        Some(ReplyResult::Error(e)) => Some(e.kind),
        _ => None,
    };
    for bad in [
        &b"garbage\0"[..],
        b"{\"version\":1,\"method\":\"frobnicate\"}\0",
        b"{\"version\":1,\"method\":\"job\",\"params\":{}}\0",
        b"\xff\xfe\0",
    ] {
        s.write_all(bad).unwrap();
        assert_eq!(error_kind(receive(&mut s)), Some(ErrorKind::BadRequest));
    }
    s.write_all(b"{\"version\":99,\"method\":\"ping\"}\0")
        .unwrap();
    assert_eq!(error_kind(receive(&mut s)), Some(ErrorKind::Version));
    // The same connection still works.
    send(&mut s, &Request::new(Call::Ping));
    assert!(matches!(
        receive(&mut s).unwrap().result,
        ReplyResult::Ok(Answer::Pong { .. })
    ));
    // Unknown units and jobs.
    let r = m.call(Call::Job {
        verb: JobVerb::Start,
        units: vec!["nope.service".into()],
        mode: JobMode::Replace,
    });
    assert_eq!(error_kind(Some(r)), Some(ErrorKind::NoSuchUnit));
    let r = m.call(Call::WaitJobs { jobs: vec![4242] });
    assert_eq!(error_kind(Some(r)), Some(ErrorKind::NoSuchJob));
    // No default.target in the unit directory.
    let r = m.call(Call::GetDefault);
    assert_eq!(error_kind(Some(r)), Some(ErrorKind::Failed));

    // An oversized message closes that connection only.
    let mut big = m.connect();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..(proto::MAX_MESSAGE / chunk.len() + 1) {
        if big.write_all(&chunk).is_err() {
            break;
        }
    }
    let mut rest = Vec::new();
    let _ = big.read_to_end(&mut rest);
    // Many clients at once, one of them idle and half-sent.
    let mut idle = m.connect();
    idle.write_all(b"{\"version\":1,").unwrap();
    let clients: Vec<UnixStream> = (0..50)
        .map(|_| {
            let mut c = m.connect();
            send(&mut c, &Request::new(Call::Ping));
            c
        })
        .collect();
    for mut c in clients {
        assert!(matches!(
            receive(&mut c).unwrap().result,
            ReplyResult::Ok(Answer::Pong { .. })
        ));
    }
    assert!(matches!(m.ok(Call::Ping), Answer::Pong { .. }));
}

#[test]
fn unsupported_unit_types_refuse_to_start_with_a_clear_message() {
    let m = Manager::start(&[("k.path", "[Path]\nPathExists=@DIR@\n")]);
    match m
        .call(Call::Job {
            verb: JobVerb::Start,
            units: vec!["k.path".into()],
            mode: JobMode::Replace,
        })
        .result
    {
        ReplyResult::Error(e) => {
            assert_eq!(e.kind, ErrorKind::JobFailed);
            assert_eq!(e.message, "unit type path is not supported yet");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn dbus_services_run_as_simple_with_a_warning() {
    let m = Manager::start(&[(
        "bus.service",
        "[Service]\nType=dbus\nBusName=org.example.Demo\nExecStart=/bin/sleep 60\n",
    )]);
    // Loading is enough for the warning; starting needs dbus.socket (an implicit
    // Requires= of Type=dbus), which the test does not provide.
    let _ = m.status("bus.service");
    assert!(
        m.log()
            .contains("bus.service: Type=dbus is run as Type=simple"),
        "{}",
        m.log()
    );
}

#[test]
fn an_idle_service_waits_for_the_other_jobs() {
    let m = Manager::start(&[
        (
            "slow.service",
            "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'sleep 0.5; echo slow-done > @DIR@/mark'\n",
        ),
        (
            "late.service",
            "[Service]\nType=idle\nExecStart=/bin/sh -c 'cat @DIR@/mark > @DIR@/seen; sleep 60'\n",
        ),
        (
            "both.target",
            "[Unit]\nWants=slow.service late.service\n",
        ),
    ]);
    assert_eq!(m.run(JobVerb::Start, "both.target"), "done");
    // The shell creates the file before cat writes into it: wait for the content.
    m.wait_until("late.service to run", || {
        std::fs::read_to_string(m.path("seen")).is_ok_and(|t| t.ends_with('\n'))
    });
    // The idle service ran only after the oneshot's job was over.
    assert_eq!(
        std::fs::read_to_string(m.path("seen")).unwrap(),
        "slow-done\n"
    );
}

#[test]
fn daemon_reload_gives_a_running_service_its_new_settings() {
    let m = Manager::start(&[("r.service", "[Service]\nExecStart=/bin/sleep 60\n")]);
    assert_eq!(m.run(JobVerb::Start, "r.service"), "done");
    let pid = m.status("r.service").main_pid;
    assert!(pid.is_some());
    std::fs::write(
        m.path("units/r.service"),
        format!(
            "[Service]\nExecStart=/bin/sleep 60\nExecStop=/bin/sh -c 'echo new-stop > {}'\n",
            m.path("stopped").display()
        ),
    )
    .unwrap();
    m.ok(Call::DaemonReload);
    // The process is untouched by the reload ...
    assert_eq!(m.status("r.service").main_pid, pid);
    // ... and the new ExecStop= is what stops it.
    assert_eq!(m.run(JobVerb::Stop, "r.service"), "done");
    assert_eq!(
        std::fs::read_to_string(m.path("stopped")).unwrap(),
        "new-stop\n"
    );
}

#[test]
fn a_missing_environment_file_fails_with_result_resources() {
    let m = Manager::start(&[
        (
            "env.service",
            "[Service]\nEnvironmentFile=/nonexistent/env\nExecStart=/bin/sleep 60\n",
        ),
        (
            "pre.service",
            "[Service]\nEnvironmentFile=/nonexistent/env\nExecStartPre=-/bin/true\n\
             ExecStart=/bin/sleep 60\n",
        ),
    ]);
    for unit in ["env.service", "pre.service"] {
        m.run(JobVerb::Start, unit);
        assert_eq!(m.states(unit).0, "failed", "{unit}");
        // The '-' prefix does not excuse a process that could not even be prepared.
        assert_eq!(
            m.status(unit).result.as_deref(),
            Some("resources"),
            "{unit}"
        );
    }
}

#[test]
fn an_unknown_user_fails_with_217_without_a_process() {
    let m = Manager::start(&[(
        "u.service",
        "[Service]\nUser=no-such-user-here\nExecStart=/bin/sleep 60\n",
    )]);
    m.run(JobVerb::Start, "u.service");
    assert_eq!(m.states("u.service").0, "failed");
    assert_eq!(m.status("u.service").result.as_deref(), Some("exit-code"));
    assert!(m.log().contains("status=217"), "{}", m.log());
}

#[test]
fn on_failure_starts_the_handler() {
    let m = Manager::start(&[
        (
            "f.service",
            "[Unit]\nOnFailure=h.service\n[Service]\nType=oneshot\nExecStart=/bin/false\n",
        ),
        (
            "h.service",
            "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",
        ),
    ]);
    assert_eq!(m.run(JobVerb::Start, "f.service"), "failed");
    m.wait_until("handler ran", || m.states("h.service").0 == "active");
    // reset-failed forgets the failure.
    m.ok(Call::ResetFailed {
        units: vec!["f.service".into()],
    });
    assert_eq!(m.states("f.service"), ("inactive".into(), "dead".into()));
}

#[test]
fn daemon_reload_picks_up_changed_files() {
    let mut m = Manager::start(&[(
        "c.service",
        "[Unit]\nDescription=Old\n[Service]\nExecStart=/bin/sleep 1000\n",
    )]);
    assert_eq!(m.status("c.service").unit.description, "Old");
    std::fs::write(
        m.path("units/c.service"),
        "[Unit]\nDescription=New\n[Service]\nExecStart=/bin/sleep 1000\n",
    )
    .unwrap();
    m.ok(Call::DaemonReload);
    assert_eq!(m.status("c.service").unit.description, "New");
    assert_eq!(m.run(JobVerb::Start, "c.service"), "done");
    // Stopping right after the fork: the new process is signalled even before it joined
    // its cgroup.
    assert!(m.terminate().success());
}

#[test]
fn sigterm_stops_every_service_and_exits() {
    let mut m = Manager::start(&[
        ("a.service", "[Service]\nExecStart=/bin/sleep 1000\n"),
        (
            "b.service",
            "[Service]\nExecStart=/bin/sh -c \"sleep 1001 & exec sleep 1002\"\n",
        ),
    ]);
    assert_eq!(m.run(JobVerb::Start, "a.service"), "done");
    assert_eq!(m.run(JobVerb::Start, "b.service"), "done");
    let mut pids = Vec::new();
    m.wait_until("b's processes", || {
        m.status("b.service").processes.len() == 2
            || (m.status("b.service").main_pid.is_some() && m.log().contains("by pid"))
    });
    for unit in ["a.service", "b.service"] {
        for (pid, _) in m.status(unit).processes {
            pids.push(pid);
        }
    }
    assert!(pids.len() >= 2, "{pids:?}");
    assert!(pids.iter().all(|&p| alive(p)));
    let status = m.terminate();
    assert!(status.success(), "{status:?}\n{}", m.log());
    for pid in pids {
        assert!(!alive(pid), "{pid} survived\n{}", m.log());
    }
    assert!(!m.control().exists(), "control socket removed");
}

#[test]
fn only_root_may_change_state() {
    let m = Manager::start(&[("a.service", "[Service]\nExecStart=/bin/sleep 1000\n")]);
    let (python, setpriv) = ("/usr/bin/python3", "/usr/bin/setpriv");
    if !Path::new(python).exists() || !Path::new(setpriv).exists() {
        eprintln!("skipped: needs {python} and {setpriv}");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(m.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // An unprivileged client: reads are answered, a start is refused.
    let client = r#"
import socket, sys
def call(text):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(text.encode() + b"\0")
    reply = b""
    while not reply.endswith(b"\0"):
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
    print(reply.rstrip(b"\0").decode())
call('{"version":1,"method":"ping"}')
call('{"version":1,"method":"job","params":{"verb":"start","units":["a.service"]}}')
"#;
    let out = Command::new(setpriv)
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            python,
            "-c",
        ])
        .arg(client)
        .arg(m.control())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(lines[0].contains("\"pong\""), "{text}");
    assert!(lines[1].contains("\"permission-denied\""), "{text}");
    assert_eq!(m.states("a.service"), ("inactive".into(), "dead".into()));
}

#[test]
fn forking_service_is_tracked_through_its_pid_file() {
    let m = Manager::start(&[(
        "fork.service",
        "[Service]\nType=forking\nPIDFile=@DIR@/fork.pid\nExecStart=/bin/sh @DIR@/fork.sh\n",
    )]);
    script(
        &m.path("fork.sh"),
        &format!(
            "sleep 1000 </dev/null >/dev/null 2>&1 &\necho $! > {}/fork.pid\n",
            m.dir.path().display()
        ),
    );
    assert_eq!(m.run(JobVerb::Start, "fork.service"), "done");
    let pid: u32 = std::fs::read_to_string(m.path("fork.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let s = m.status("fork.service");
    assert_eq!(
        (s.unit.active_state.as_str(), s.unit.sub_state.as_str()),
        ("active", "running")
    );
    assert_eq!(s.main_pid, Some(pid));
    // The daemon's death is seen although the manager did not fork it directly.
    sys::process::kill(pid, 9).unwrap();
    m.wait_until("fork.service failed", || {
        m.states("fork.service") == ("failed".into(), "failed".into())
    });
    assert!(!alive(pid));
}

#[test]
fn conditions_skip_and_asserts_fail_the_start() {
    let m = Manager::start(&[
        (
            "c.service",
            "[Unit]\nConditionPathExists=/nonexistent/file\n[Service]\nExecStart=/bin/sleep 1000\n",
        ),
        (
            "a.service",
            "[Unit]\nAssertPathExists=/nonexistent/file\n[Service]\nExecStart=/bin/sleep 1000\n",
        ),
    ]);
    assert_eq!(m.run(JobVerb::Start, "c.service"), "done");
    assert_eq!(m.states("c.service"), ("inactive".into(), "dead".into()));
    assert_eq!(m.run(JobVerb::Start, "a.service"), "failed");
    assert_eq!(m.states("a.service"), ("inactive".into(), "dead".into()));
    assert!(m.logs("c.service").join("\n").contains("skipped"));
}

#[test]
fn an_automatic_restart_restarts_the_units_bound_to_the_service() {
    let m = Manager::start(&[
        (
            "a.service",
            "[Service]\nRestart=always\nRestartSec=100ms\nExecStart=/bin/sleep 1000\n",
        ),
        (
            "b.service",
            "[Unit]\nBindsTo=a.service\nAfter=a.service\n[Service]\nExecStart=/bin/sleep 1001\n",
        ),
    ]);
    assert_eq!(m.run(JobVerb::Start, "b.service"), "done");
    let a1 = m.status("a.service").main_pid.unwrap();
    let b1 = m.status("b.service").main_pid.unwrap();
    sys::process::kill(a1, 9).unwrap();
    m.wait_until("a restarted", || {
        let s = m.status("a.service");
        s.main_pid.is_some_and(|p| p != a1) && s.unit.active_state == "active"
    });
    // The restart job of a propagates to b as try-restart (BindsTo= → BoundBy=).
    m.wait_until("b restarted with it", || {
        let s = m.status("b.service");
        s.main_pid.is_some_and(|p| p != b1) && s.unit.active_state == "active"
    });
    assert!(!alive(b1), "b's old process is gone");
    assert!(
        m.log()
            .contains("a.service: Scheduled restart job, restart counter is at 1."),
        "{}",
        m.log()
    );
}

#[test]
fn a_stop_job_wins_over_a_pending_restart() {
    let m = Manager::start(&[(
        "a.service",
        "[Service]\nRestart=always\nRestartSec=300ms\nExecStart=/bin/sleep 1000\n",
    )]);
    assert_eq!(m.run(JobVerb::Start, "a.service"), "done");
    let a1 = m.status("a.service").main_pid.unwrap();
    sys::process::kill(a1, 9).unwrap();
    m.wait_until("auto-restart", || m.states("a.service").1 == "auto-restart");
    assert_eq!(m.run(JobVerb::Stop, "a.service"), "done");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(m.states("a.service").0, "inactive", "{}", m.log());
    assert_eq!(m.status("a.service").main_pid, None);
}

#[test]
fn success_action_exit_ends_the_manager_with_the_given_status() {
    let mut m = Manager::start(&[
        (
            "done.service",
            "[Unit]\nSuccessAction=exit\nSuccessActionExitStatus=7\n[Service]\nType=oneshot\nExecStart=/bin/true\n",
        ),
        ("other.service", "[Service]\nExecStart=/bin/sleep 1000\n"),
    ]);
    assert_eq!(m.run(JobVerb::Start, "other.service"), "done");
    let other = m.status("other.service").main_pid.unwrap();
    m.job(JobVerb::Start, "done.service");
    let status = m.wait_exit();
    assert_eq!(status.code(), Some(7), "{}", m.log());
    assert!(!alive(other), "every unit is stopped first");
    assert!(
        m.log().contains("done.service unit succeeded, exiting."),
        "{}",
        m.log()
    );
}

#[test]
fn failure_action_poweroff_starts_poweroff_target_then_stops_the_rest() {
    let mut m = Manager::start(&[
        (
            "bad.service",
            "[Unit]\nFailureAction=poweroff\n[Service]\nExecStart=/bin/false\n",
        ),
        // A stand-in for the real target: it records that it was reached.
        (
            "poweroff.target",
            "[Unit]\nDescription=Power-Off\nWants=mark.service\nAfter=mark.service\n",
        ),
        (
            "mark.service",
            "[Unit]\nDefaultDependencies=no\n[Service]\nType=oneshot\nExecStart=/bin/touch @DIR@/reached\n",
        ),
        ("other.service", "[Service]\nExecStart=/bin/sleep 1000\n"),
    ]);
    assert_eq!(m.run(JobVerb::Start, "other.service"), "done");
    let other = m.status("other.service").main_pid.unwrap();
    m.job(JobVerb::Start, "bad.service");
    let status = m.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", m.log());
    assert!(m.path("reached").exists(), "{}", m.log());
    assert!(!alive(other));
    let log = m.log();
    assert!(
        log.contains("bad.service unit failed, powering off."),
        "{log}"
    );
    assert!(log.contains("Power-Off"), "{log}");
}

/// A socket that cannot listen fails its start job every time, not only the first: a
/// failed unit that fails again changes no state, yet its job must end (Debian's
/// `systemd-journald-audit.socket`, pulled in again by each restart of journald, kept a
/// start job running forever and with it the manager's shutdown).
#[test]
fn a_failed_socket_that_cannot_listen_again_fails_its_next_start_job() {
    // `units/bad.socket` is a regular file, so nothing can be bound below it.
    let m = Manager::start(&[(
        "bad.socket",
        "[Socket]\nListenStream=@DIR@/units/bad.socket/sock\n",
    )]);
    for _ in 0..2 {
        assert_eq!(m.run(JobVerb::Start, "bad.socket"), "failed", "{}", m.log());
        assert_eq!(m.states("bad.socket").0, "failed");
    }
}

/// Debian's `poweroff.target` requires `systemd-poweroff.service`, a service without a
/// command whose `SuccessAction=poweroff-force` ends the shutdown: the manager must leave
/// then, although the target's start job makes `poweroff.target` active right after.
#[test]
fn a_forced_action_ends_the_shutdown_once_no_process_is_left() {
    let mut m = Manager::start(&[
        (
            "bad.service",
            "[Unit]\nFailureAction=poweroff\n[Service]\nExecStart=/bin/false\n",
        ),
        (
            "poweroff.target",
            "[Unit]\nDescription=System Power Off\nDefaultDependencies=no\nRequires=systemd-poweroff.service\nAfter=systemd-poweroff.service\nAllowIsolate=yes\nJobTimeoutSec=30min\nJobTimeoutAction=poweroff-force\n",
        ),
        (
            "systemd-poweroff.service",
            "[Unit]\nDescription=System Power Off\nDefaultDependencies=no\nRequires=shutdown.target\nAfter=shutdown.target\nSuccessAction=poweroff-force\n",
        ),
        ("other.service", "[Service]\nExecStart=/bin/sleep 1000\n"),
    ]);
    assert_eq!(m.run(JobVerb::Start, "other.service"), "done");
    let other = m.status("other.service").main_pid.unwrap();
    m.job(JobVerb::Start, "bad.service");
    let status = m.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", m.log());
    assert!(!alive(other), "{}", m.log());
    let log = m.log();
    assert!(
        log.contains("systemd-poweroff.service unit succeeded: already powering off"),
        "{log}"
    );
    assert!(log.contains("no unit has a process left"), "{log}");
}

#[test]
fn a_job_timeout_runs_job_timeout_action() {
    let mut m = Manager::start(&[(
        "slow.service",
        "[Unit]\nJobTimeoutSec=300ms\nJobTimeoutAction=exit-force\n[Service]\nType=oneshot\nExecStart=/bin/sleep 1000\n",
    )]);
    m.job(JobVerb::Start, "slow.service");
    let status = m.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", m.log());
    let log = m.log();
    assert!(log.contains("Job slow.service/start timed out."), "{log}");
    assert!(
        log.contains("slow.service job timed out, exiting."),
        "{log}"
    );
}

/// Without PID 1: a SIGKILLed manager's successor takes over from the saved state.
#[test]
fn a_restarted_manager_takes_over_running_services_from_the_saved_state() {
    let mut m = Manager::start(&[
        ("long.service", "[Service]\nExecStart=/bin/sleep 1000\n"),
        (
            "once.service",
            "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'echo run >> @DIR@/once'\n",
        ),
        (
            "flaky.service",
            "[Service]\nRestart=on-failure\nRestartSec=100ms\nExecStart=/bin/sleep 1001\n",
        ),
        (
            "both.target",
            "[Unit]\nWants=long.service once.service flaky.service\n",
        ),
    ]);
    assert_eq!(m.run(JobVerb::Start, "both.target"), "done");
    let long = m.status("long.service").main_pid.unwrap();
    let flaky = m.status("flaky.service").main_pid.unwrap();
    let last_job = m.job(JobVerb::Start, "both.target");

    m.crash_and_restart();
    // The first answer comes after recovery.
    m.states("long.service");
    assert!(
        m.log()
            .contains("recovered the state of the previous manager"),
        "{}",
        m.log()
    );
    // Same processes, same states; nothing ran twice.
    assert_eq!(m.status("long.service").main_pid, Some(long));
    assert_eq!(
        m.states("long.service"),
        ("active".into(), "running".into())
    );
    assert_eq!(m.states("once.service"), ("active".into(), "exited".into()));
    assert_eq!(m.states("both.target").0, "active");
    assert_eq!(
        std::fs::read_to_string(m.path("once")).unwrap(),
        "run\n",
        "the oneshot ran once"
    );
    assert!(alive(long));
    // Job ids continue after the old ones.
    assert!(m.job(JobVerb::Start, "both.target") > last_job);

    // An adopted process that dies is noticed, and Restart= applies.
    sys::process::kill(flaky, 9).unwrap();
    m.wait_until("flaky restarted", || {
        let s = m.status("flaky.service");
        s.main_pid.is_some_and(|p| p != flaky) && s.unit.active_state == "active"
    });
    // And an adopted service still stops cleanly.
    assert_eq!(m.run(JobVerb::Stop, "long.service"), "done");
    m.wait_until("long's process gone", || !alive(long));
}

/// Without PID 1, `daemon-reexec` re-executes the manager in place: same pid, its children
/// stay its children, and the new image takes the state over.
#[test]
fn daemon_reexec_without_pid1_keeps_the_manager_pid_and_the_services() {
    let m = Manager::start(&[("long.service", "[Service]\nExecStart=/bin/sleep 1000\n")]);
    assert_eq!(m.run(JobVerb::Start, "long.service"), "done");
    let long = m.status("long.service").main_pid.unwrap();
    assert!(matches!(m.ok(Call::DaemonReexec), Answer::Done));
    m.wait_until("the re-executed manager answers", || {
        m.log()
            .contains("recovered the state of the previous manager")
            && UnixStream::connect(m.control()).is_ok()
    });
    assert_eq!(m.status("long.service").main_pid, Some(long));
    assert_eq!(
        m.states("long.service"),
        ("active".into(), "running".into())
    );
    assert!(alive(m.pid()), "the same process");
    // Its exit still reaches the manager directly: it is still our child.
    sys::process::kill(long, 9).unwrap();
    m.wait_until("the exit is seen", || {
        m.states("long.service").0 == "failed"
    });
}

/// An `Accept=no` socket unit: the first connection starts the service, which gets the
/// listening socket as fd 3 with `LISTEN_PID`/`LISTEN_FDS`/`LISTEN_FDNAMES`; when the
/// service ends, the manager listens again.
#[test]
fn socket_activation_passes_the_listener_and_listens_again_after_the_service() {
    let m = Manager::start(&[
        (
            "echo.socket",
            "[Socket]\nListenStream=@DIR@/run/echo.sock\nFileDescriptorName=greet\nSocketMode=0600\n",
        ),
        (
            "echo.service",
            "[Service]\nExecStart=/usr/bin/python3 @DIR@/echo.py\n",
        ),
    ]);
    std::fs::write(
        m.path("echo.py"),
        "import os, socket\n\
         assert os.environ['LISTEN_PID'] == str(os.getpid())\n\
         s = socket.socket(fileno=3)\n\
         c, _ = s.accept()\n\
         c.sendall(('%s %s\\n' % (os.environ['LISTEN_FDS'], os.environ['LISTEN_FDNAMES'])).encode())\n\
         c.close()\n",
    )
    .unwrap();
    assert_eq!(m.run(JobVerb::Start, "echo.socket"), "done");
    assert_eq!(
        m.states("echo.socket"),
        ("active".into(), "listening".into())
    );
    assert_eq!(m.states("echo.service").0, "inactive");
    let path = m.path("run/echo.sock");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let ask = || {
        let mut c = UnixStream::connect(&path).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        answer
    };
    assert_eq!(ask(), "1 greet\n", "{}", m.log());
    // The service served one client and exited: the socket listens again, and the next
    // connection starts it once more.
    m.wait_until("listening again", || {
        m.states("echo.socket").1 == "listening" && m.states("echo.service").0 == "inactive"
    });
    assert_eq!(ask(), "1 greet\n", "{}", m.log());
    assert!(m.log().contains("echo.socket: Listening on echo.socket."));
    // The service holds the listener (fd 3) until it exits: only then does closing the
    // socket unit's copy leave nobody listening.
    m.wait_until("the service exited", || {
        m.states("echo.service").0 == "inactive"
    });
    assert_eq!(m.run(JobVerb::Stop, "echo.socket"), "done");
    assert!(UnixStream::connect(&path).is_err(), "closed");
}

#[test]
fn a_socket_that_cannot_listen_fails_with_the_reason() {
    let m = Manager::start(&[
        ("bad.socket", "[Socket]\nListenFIFO=@DIR@/fifo\n"),
        ("bad.service", "[Service]\nExecStart=/bin/true\n"),
    ]);
    assert_eq!(m.run(JobVerb::Start, "bad.socket"), "failed");
    assert_eq!(m.states("bad.socket"), ("failed".into(), "failed".into()));
    assert!(
        m.log().contains("Failed to listen: ListenFIFO=")
            && m.log().contains("is not supported yet"),
        "{}",
        m.log()
    );
}

/// Writes (or, with `None`, removes) a udev database entry tagged `systemd` for the device
/// id `id` in the test's udev directory.
fn udev_device(m: &Manager, id: &str, data: Option<&str>) {
    let udev = m.path("udev");
    std::fs::create_dir_all(udev.join("tags/systemd")).unwrap();
    std::fs::create_dir_all(udev.join("data")).unwrap();
    match data {
        Some(text) => {
            std::fs::write(udev.join("data").join(id), text).unwrap();
            std::fs::write(udev.join("tags/systemd").join(id), "").unwrap();
        }
        None => {
            let _ = std::fs::remove_file(udev.join("data").join(id));
            let _ = std::fs::remove_file(udev.join("tags/systemd").join(id));
        }
    }
}

/// Device units follow udev's database: a start job waits until the device is plugged,
/// a unit bound to it starts then and stops when it goes away, its node and symlinks are
/// units too. (`lo` and `/dev/null` are real devices of every machine; the database is the
/// test's own.)
#[test]
fn device_units_follow_the_udev_database() {
    let mut m = Manager::start(&[
        (
            "w.service",
            "[Unit]\nBindsTo=sys-devices-virtual-net-lo.device\nAfter=sys-devices-virtual-net-lo.device\n\
             [Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",
        ),
        (
            "n.service",
            "[Unit]\nRequires=dev-my\\x2dnull.device\nAfter=dev-my\\x2dnull.device\n\
             [Service]\nExecStart=/bin/sleep 1000\n",
        ),
    ]);
    let lo = "sys-devices-virtual-net-lo.device";
    assert_eq!(m.states(lo), ("inactive".into(), "dead".into()));
    // No device yet: the start waits (for at most 90 s).
    let job = m.job(JobVerb::Start, "w.service");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(m.states("w.service").0, "inactive");

    udev_device(
        &m,
        "n1",
        Some("E:INTERFACE=lo\nE:ID_MODEL=Loopback\nG:systemd\nQ:systemd\nV:1\n"),
    );
    m.ok(Call::DaemonReload);
    assert_eq!(m.wait(job).state, "done");
    assert_eq!(m.states(lo), ("active".into(), "plugged".into()));
    assert_eq!(m.states("w.service"), ("active".into(), "exited".into()));
    assert_eq!(m.status(lo).unit.description, "Loopback");

    // A device whose node and symlink are units too; SYSTEMD_READY=0 hides it.
    udev_device(
        &m,
        "c1:3",
        Some("S:my-null\nE:DEVNAME=/dev/null\nE:SYSTEMD_READY=0\nG:systemd\nQ:systemd\n"),
    );
    m.ok(Call::DaemonReload);
    assert_eq!(m.states("dev-null.device").0, "inactive");
    udev_device(
        &m,
        "c1:3",
        Some("S:my-null\nE:DEVNAME=/dev/null\nG:systemd\nQ:systemd\n"),
    );
    m.ok(Call::DaemonReload);
    for unit in [
        "dev-null.device",
        "dev-my\\x2dnull.device",
        "sys-devices-virtual-mem-null.device",
    ] {
        assert_eq!(
            m.states(unit),
            ("active".into(), "plugged".into()),
            "{unit}"
        );
    }
    assert_eq!(m.run(JobVerb::Start, "n.service"), "done");

    // Tagged but without the current tag: not a device unit (any more).
    udev_device(&m, "n1", Some("E:INTERFACE=lo\nG:systemd\nV:1\n"));
    m.ok(Call::DaemonReload);
    assert_eq!(m.states(lo), ("inactive".into(), "dead".into()));
    // The unit bound to it is stopped with it; the other one stays.
    m.wait_until("w.service stops with its device", || {
        m.states("w.service").0 == "inactive"
    });
    assert_eq!(m.states("n.service").0, "active");
    // Stopping a device unit does nothing to the device.
    assert_eq!(m.run(JobVerb::Stop, "dev-null.device"), "done");
    // A plugged device does not hold the manager's exit.
    assert_eq!(m.states("dev-null.device").1, "plugged");
    let status = m.terminate();
    assert!(status.success(), "{status:?}\n{}", m.log());
}
