//! The manager under our own PID 1 (`sysmaster-init`) in a fresh PID + mount namespace:
//! the self-healing contract of DESIGN.md §2. The manager is killed (SIGKILL, SIGSEGV,
//! SIGABRT) or hung (SIGSTOP) and PID 1 starts a new one, which takes over from the saved
//! state with every service untouched, gets the exits it missed from PID 1, and runs no
//! oneshot twice. Needs root and `unshare` (util-linux).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proto::frame::{decode, encode};
use proto::{Answer, Call, JobMode, JobVerb, Reply, ReplyResult, Request, UnitStatus};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

const SIGKILL: i32 = 9;
const SIGSEGV: i32 = 11;
const SIGABRT: i32 = 6;
const SIGSTOP: i32 = 19;

struct Container {
    unshare: Child,
    dir: tempfile::TempDir,
}

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

impl Container {
    fn start(files: &[(&str, &str)], init_args: &[&str]) -> Container {
        let dir = tempfile::tempdir().unwrap();
        let units = dir.path().join("units");
        std::fs::create_dir_all(&units).unwrap();
        for (name, text) in common::BASE_UNITS.iter().chain(files) {
            let text = text.replace("@DIR@", dir.path().to_str().unwrap());
            std::fs::write(units.join(name), text).unwrap();
        }
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let unshare = Command::new("unshare")
            .args(["--pid", "--fork", "--mount", "--mount-proc", "--kill-child"])
            .arg(common::workspace_binary("sysmaster-init"))
            .args(["--container", "--config", "/dev/null", "--manager"])
            .arg(env!("CARGO_BIN_EXE_sysmaster"))
            .args(init_args)
            .arg("--")
            .arg("--unit-path")
            .arg(&units)
            .arg("--runtime-dir")
            .arg(dir.path().join("run"))
            .args(["--start", "t.target"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let c = Container { unshare, dir };
        c.wait_until("the manager answers", || c.try_call(Call::Ping).is_some());
        c
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn init_pid(&self) -> u32 {
        children(self.unshare.id())[0]
    }

    /// The running manager's pid (host view), waiting until there is one.
    fn manager_pid(&self) -> u32 {
        let manager = std::fs::canonicalize(env!("CARGO_BIN_EXE_sysmaster")).unwrap();
        let mut found = None;
        self.wait_until("a manager process", || {
            found = children(self.init_pid()).into_iter().find(|&p| {
                std::fs::read_link(format!("/proc/{p}/exe")).ok().as_deref()
                    == Some(manager.as_path())
                    && alive(p)
            });
            found.is_some()
        });
        found.unwrap()
    }

    fn try_call(&self, call: Call) -> Option<Reply> {
        let mut s = UnixStream::connect(self.dir.path().join("run/control")).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(&encode(&Request::new(call)).ok()?).ok()?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 65536];
        loop {
            let n = s.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.iter().position(|&b| b == 0) {
                return decode(&buf[..end]).ok();
            }
        }
    }

    fn ok(&self, call: Call) -> Answer {
        match self.try_call(call.clone()).map(|r| r.result) {
            Some(ReplyResult::Ok(a)) => a,
            other => panic!("{call:?}: {other:?}\n{}", self.log()),
        }
    }

    fn status(&self, unit: &str) -> UnitStatus {
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

    fn no_jobs(&self) -> bool {
        self.no_jobs_but(|_| false)
    }

    /// No job is left except for units `ignore` names (units that restart every second
    /// always have one now and then; on a loaded machine nearly always).
    fn no_jobs_but(&self, ignore: impl Fn(&str) -> bool) -> bool {
        matches!(self.try_call(Call::ListJobs).map(|r| r.result),
            Some(ReplyResult::Ok(Answer::Jobs(j))) if j.iter().all(|j| ignore(&j.unit)))
    }

    fn job(&self, verb: JobVerb, unit: &str) {
        self.ok(Call::Job {
            verb,
            units: vec![unit.into()],
            mode: JobMode::Replace,
        });
    }

    fn wait_until(&self, what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !cond() {
            assert!(
                Instant::now() < deadline,
                "timed out: {what}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills (or stops) the manager and waits until its successor answers.
    fn hit_manager(&self, signal: i32) {
        let old = self.manager_pid();
        sys::process::kill(old, signal).unwrap();
        self.wait_until("a new manager", || {
            !alive(old) && self.try_call(Call::Ping).is_some()
        });
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
        manager::daemon::discard_instance_cgroup(&self.dir.path().join("run"));
    }
}

fn base_units() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "t.target",
            "[Unit]\nWants=simple.service once.service notify.service trap.service\n",
        ),
        ("simple.service", "[Service]\nExecStart=/bin/sleep 1000\n"),
        (
            "once.service",
            "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'echo run >> @DIR@/once'\n",
        ),
        (
            "notify.service",
            "[Service]\nType=notify\nNotifyAccess=all\nExecStart=/bin/sh -c 'systemd-notify --ready --status=serving; exec sleep 1001'\n",
        ),
        (
            "trap.service",
            "[Service]\nExecStart=/bin/sh -c 'trap \"exit 3\" TERM; while :; do sleep 0.05; done'\n",
        ),
    ]
}

#[test]
fn a_crashed_or_hung_manager_is_replaced_and_services_keep_running() {
    let c = Container::start(
        &base_units(),
        &["--heartbeat-sec=0.2", "--heartbeat-timeout-sec=1"],
    );
    c.wait_until("all started", || {
        c.no_jobs() && c.states("notify.service").0 == "active"
    });
    let pids: Vec<(&str, Option<u32>)> = ["simple.service", "notify.service", "trap.service"]
        .into_iter()
        .map(|u| (u, c.status(u).main_pid))
        .collect();
    for signal in [SIGKILL, SIGSEGV, SIGABRT, SIGSTOP] {
        c.hit_manager(signal);
        for (unit, pid) in &pids {
            assert_eq!(
                &c.status(unit).main_pid,
                pid,
                "{unit} after signal {signal}"
            );
            assert_eq!(c.states(unit), ("active".into(), "running".into()));
        }
        assert_eq!(c.states("once.service"), ("active".into(), "exited".into()));
        assert_eq!(
            c.status("notify.service").status_text.as_deref(),
            Some("serving")
        );
    }
    assert_eq!(
        std::fs::read_to_string(c.path("once")).unwrap(),
        "run\n",
        "the oneshot ran once"
    );
    let log = c.log();
    assert!(
        log.contains("recovered the state of the previous manager"),
        "{log}"
    );
    assert!(
        log.contains("did not answer for"),
        "the hung manager was noticed\n{log}"
    );
}

#[test]
fn an_exit_while_no_manager_runs_reaches_the_next_manager() {
    let c = Container::start(&base_units(), &[]);
    c.wait_until("all started", || c.no_jobs());
    let trap = c.status("trap.service").main_pid.unwrap();
    let manager = c.manager_pid();
    // The manager cannot reap while stopped: the exit waits as a zombie, which PID 1 gets
    // once the manager is killed, and relays.
    sys::process::kill(manager, SIGSTOP).unwrap();
    // Host pid of the service: the namespace pid is not ours to signal.
    let host = children(manager)
        .into_iter()
        .find(|&p| {
            std::fs::read_to_string(format!("/proc/{p}/status"))
                .unwrap_or_default()
                .lines()
                .find(|l| l.starts_with("NSpid:"))
                .is_some_and(|l| l.split_whitespace().last() == Some(&trap.to_string()))
        })
        .expect("the service's host pid");
    sys::process::kill(host, 15).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    sys::process::kill(manager, SIGKILL).unwrap();
    c.wait_until("the exit is applied", || {
        c.try_call(Call::Ping).is_some() && c.states("trap.service").0 == "failed"
    });
    let s = c.status("trap.service");
    assert_eq!(s.result.as_deref(), Some("exit-code"), "{s:?}");
    assert!(
        c.log()
            .contains("trap.service: Main process exited, code=exited, status=3"),
        "{}",
        c.log()
    );
    // The other services are untouched.
    assert_eq!(
        c.states("simple.service"),
        ("active".into(), "running".into())
    );
}

/// Crash torture (issue 4): many units of every kind, the manager killed at random
/// instants during the boot and during start/stop churn. Afterwards every unit is where
/// it would be without crashes, and no oneshot ran twice.
#[test]
fn crash_torture() {
    const N: usize = 300;
    const KILLS: usize = 50;
    let mut files: Vec<(String, String)> = Vec::new();
    let mut wants = String::new();
    for i in 0..N {
        let (name, text) = match i % 5 {
            0 => (
                format!("once{i}.service"),
                format!("[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'echo {i} >> @DIR@/once'\n"),
            ),
            1 => (
                format!("simple{i}.service"),
                "[Service]\nExecStart=/bin/sleep 1000\n".to_string(),
            ),
            2 => (
                format!("notify{i}.service"),
                "[Service]\nType=notify\nNotifyAccess=all\nExecStart=/bin/sh -c 'systemd-notify --ready; exec sleep 1001'\n".to_string(),
            ),
            3 => (
                format!("forking{i}.service"),
                format!("[Service]\nType=forking\nPIDFile=@DIR@/f{i}.pid\nExecStart=/bin/sh -c 'sleep 1002 & echo $! > @DIR@/f{i}.pid'\n"),
            ),
            _ => (
                format!("restart{i}.service"),
                "[Unit]\nStartLimitIntervalSec=0\n[Service]\nRestart=always\nRestartSec=300ms\nExecStart=/bin/sh -c 'sleep 0.7; exit 1'\n".to_string(),
            ),
        };
        wants.push_str(&name);
        wants.push(' ');
        files.push((name, text));
    }
    files.push(("t.target".into(), format!("[Unit]\nWants={wants}\n")));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    // A short heartbeat, so that a hang (SIGSTOP) is noticed within seconds.
    let c = Container::start(
        &refs,
        &[
            "--heartbeat-sec=0.2",
            "--heartbeat-timeout-sec=1",
            "--kill-grace-sec=1",
        ],
    );

    // A small deterministic generator: the instants differ per kill, the run is repeatable.
    let mut seed: u64 = 0x5eed_1234_abcd_0042;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut recoveries = Vec::new();
    for k in 0..KILLS {
        if k >= KILLS / 2 {
            // Churn: stop and start some long-running units while the manager dies.
            let i = 1 + 5 * next((N / 5) as u64) as usize;
            let unit = format!("simple{i}.service");
            let verb = if k % 2 == 0 {
                JobVerb::Stop
            } else {
                JobVerb::Start
            };
            let _ = c.try_call(Call::Job {
                verb,
                units: vec![unit],
                mode: JobMode::Replace,
            });
        }
        std::thread::sleep(Duration::from_millis(next(300)));
        // Every tenth a hang, the rest crashes of each kind.
        let signal = if k % 10 == 9 {
            SIGSTOP
        } else {
            [SIGKILL, SIGSEGV, SIGABRT][k % 3]
        };
        let before = Instant::now();
        c.hit_manager(signal);
        recoveries.push(before.elapsed());
    }
    // Every churned unit ends started.
    for i in (1..N).step_by(5) {
        c.job(JobVerb::Start, &format!("simple{i}.service"));
    }
    c.wait_until("no jobs left", || {
        c.no_jobs_but(|unit| unit.starts_with("restart"))
    });
    for (name, _) in &files {
        let (active, sub) = c.states(name);
        let ok = if name.starts_with("once") {
            (active.as_str(), sub.as_str()) == ("active", "exited")
        } else if name.starts_with("restart") {
            active == "active" || active == "activating"
        } else {
            (active.as_str(), sub.as_str()) == ("active", "running")
                || (active.as_str(), sub.as_str()) == ("active", "active")
        };
        assert!(ok, "{name}: {active} ({sub})\n{}", c.log());
        // No exit was lost: a unit said to be running has its process.
        if sub == "running" {
            let s = c.status(name);
            assert!(
                !s.processes.is_empty() || s.main_pid.is_none(),
                "{name} is running without processes: its exit was lost\n{}",
                c.log()
            );
        }
    }
    let once = std::fs::read_to_string(c.path("once")).unwrap();
    let mut runs: Vec<usize> = once.lines().map(|l| l.parse().unwrap()).collect();
    runs.sort_unstable();
    let expected: Vec<usize> = (0..N).step_by(5).collect();
    assert_eq!(
        runs,
        expected,
        "every oneshot ran exactly once\n{}",
        c.log()
    );
    recoveries.sort_unstable();
    eprintln!(
        "recovery (kill → control API answering): median {:?}, max {:?}",
        recoveries[recoveries.len() / 2],
        recoveries[recoveries.len() - 1]
    );
}

#[test]
fn daemon_reexec_hands_over_to_a_new_manager_with_services_untouched() {
    let c = Container::start(&base_units(), &[]);
    c.wait_until("all started", || c.no_jobs());
    let simple = c.status("simple.service").main_pid;
    let old = c.manager_pid();
    assert!(matches!(c.ok(Call::DaemonReexec), Answer::Done));
    c.wait_until("a new manager", || {
        !alive(old) && c.try_call(Call::Ping).is_some()
    });
    assert_eq!(c.status("simple.service").main_pid, simple);
    assert_eq!(c.states("once.service"), ("active".into(), "exited".into()));
    let log = c.log();
    assert!(log.contains("manager start 2, planned"), "{log}");
    assert!(
        !log.contains("failed 1 times"),
        "a planned restart is no failure\n{log}"
    );
}

#[test]
fn poweroff_stops_every_unit_and_ends_the_container() {
    let mut c = Container::start(&base_units(), &[]);
    c.wait_until("all started", || c.no_jobs());
    assert!(matches!(
        c.ok(Call::Shutdown {
            kind: proto::ShutdownKind::Poweroff
        }),
        Answer::Done
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = c.unshare.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "still running\n{}", c.log());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "{}", c.log());
    let log = c.log();
    assert!(log.contains("Stopped simple.service."), "{log}");
    assert!(
        log.contains("handing over to PID 1 for the final step"),
        "{log}"
    );
    // Under PID 1 the manager shows systemd's boot status lines; in a container on its
    // standard error (coloured or not, as $TERM says).
    let ok = |text: &str| {
        log.lines()
            .any(|l| l.starts_with('[') && l.contains("  OK  ") && l.ends_with(text))
    };
    assert!(
        ok("] Reached target sysinit.target - System Initialization."),
        "{log}"
    );
    assert!(
        log.contains("\n         Starting once.service...\n"),
        "{log}"
    );
    assert!(ok("] Finished once.service."), "{log}");
    assert!(ok("] Stopped simple.service."), "{log}");
}

/// Hot upgrade with a socket-activated service that serves one client per start: while the
/// manager is re-executed (and once killed), a client connecting in a loop never fails —
/// connections wait in the listening socket PID 1 keeps, and the next manager starts the
/// service for them.
#[test]
fn a_socket_activated_service_never_refuses_a_client_across_manager_upgrades() {
    let mut files = base_units();
    files.push(("echo.socket", "[Socket]\nListenStream=@DIR@/echo.sock\n"));
    // One client per start: many starts, so no start limit.
    files.push((
        "echo.service",
        "[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=/usr/bin/python3 @DIR@/echo.py\n",
    ));
    let c = Container::start(&files, &[]);
    if std::env::var_os("KEEP_LOG").is_some() {
        eprintln!("log: {}", c.path("log").display());
    }
    std::fs::write(
        c.path("echo.py"),
        "import os, socket\ns = socket.socket(fileno=3)\nc, _ = s.accept()\nc.sendall(b'ok\\n')\nc.close()\n",
    )
    .unwrap();
    c.job(JobVerb::Start, "echo.socket");
    c.wait_until("listening", || c.states("echo.socket").1 == "listening");
    let path = c.path("echo.sock");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let client = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut ok, mut failed) = (0u32, Vec::new());
            let deadline = Instant::now() + Duration::from_secs(60);
            while (!stop.load(std::sync::atomic::Ordering::Relaxed) || ok < 20)
                && failed.len() < 5
                && Instant::now() < deadline
            {
                let answer = UnixStream::connect(&path).and_then(|mut s| {
                    s.set_read_timeout(Some(Duration::from_secs(20)))?;
                    let mut a = String::new();
                    s.read_to_string(&mut a)?;
                    Ok(a)
                });
                match answer {
                    Ok(a) if a == "ok\n" => ok += 1,
                    other => failed.push(format!("{other:?}")),
                }
            }
            (ok, failed)
        })
    };
    for k in 0..4 {
        std::thread::sleep(Duration::from_millis(300));
        if k == 2 {
            c.hit_manager(SIGKILL);
        } else {
            let old = c.manager_pid();
            c.ok(Call::DaemonReexec);
            c.wait_until("a new manager", || {
                !alive(old) && c.try_call(Call::Ping).is_some()
            });
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, failed) = client.join().unwrap();
    assert!(
        failed.is_empty(),
        "{} failed: {failed:?}\n{}",
        failed.len(),
        c.log()
    );
    assert!(ok >= 20, "{ok}");
    eprintln!("{ok} connections served across 3 re-execs and 1 crash, none failed");
}

/// `sctl daemon-reexec --init`: PID 1 re-executes itself; the manager, every service and
/// their states stay as they were, and exits are still relayed afterwards.
#[test]
fn pid1_reexec_keeps_the_manager_and_every_service() {
    let c = Container::start(&base_units(), &[]);
    c.wait_until("all started", || c.no_jobs());
    let init = c.init_pid();
    let manager = c.manager_pid();
    let pids: Vec<Option<u32>> = ["simple.service", "notify.service", "trap.service"]
        .iter()
        .map(|u| c.status(u).main_pid)
        .collect();
    let out = Command::new(common::workspace_binary("sctl"))
        .arg("--runtime-dir")
        .arg(c.path("run"))
        .args(["daemon-reexec", "--init"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    c.wait_until("PID 1 re-executed", || c.log().contains("re-executing"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(c.init_pid(), init, "PID 1 is the same process");
    assert_eq!(c.manager_pid(), manager, "the manager was not restarted");
    let after: Vec<Option<u32>> = ["simple.service", "notify.service", "trap.service"]
        .iter()
        .map(|u| c.status(u).main_pid)
        .collect();
    assert_eq!(after, pids);
    // A crash after the re-exec is healed by the new PID 1 image as before.
    c.hit_manager(SIGKILL);
    assert_eq!(
        c.states("simple.service"),
        ("active".into(), "running".into())
    );
    assert_eq!(c.status("simple.service").main_pid, pids[0]);
}

/// Signals to PID 1 become jobs of the manager: SIGINT starts ctrl-alt-del.target,
/// SIGRTMIN+4 powers off (the container ends with status 0 after every unit stopped).
#[test]
fn signals_to_pid1_start_the_matching_targets() {
    let mut files = base_units();
    files.push(("ctrl-alt-del.target", "[Unit]\nWants=cad.service\n"));
    files.push((
        "cad.service",
        "[Service]\nType=oneshot\nExecStart=/bin/touch @DIR@/cad\n",
    ));
    let mut c = Container::start(&files, &[]);
    c.wait_until("all started", || c.no_jobs());
    let init = c.init_pid();
    sys::process::kill(init, 2).unwrap();
    c.wait_until("ctrl-alt-del.target ran", || c.path("cad").exists());
    assert_eq!(
        c.states("simple.service").0,
        "active",
        "nothing else stopped"
    );
    const SIGRTMIN: i32 = 34;
    sys::process::kill(init, SIGRTMIN + 4).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = c.unshare.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "still running\n{}", c.log());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "{}", c.log());
    assert!(
        c.log().contains("power-off requested, powering off."),
        "{}",
        c.log()
    );
}
