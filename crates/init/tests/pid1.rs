//! `sysmaster-init` as PID 1 of a fresh PID + mount namespace (`unshare --pid --fork
//! --mount --mount-proc --kill-child`), with this same executable as its manager: when
//! `FAKE_MANAGER` names a scenario, `main` plays the manager instead of running tests. The
//! fake speaks the init link, writes everything it receives to `$FAKE_DIR/log` (one line
//! each: `START msg JSON`, `START fd NAME DEV INO CONTENT`, `START note TEXT`) and acts out
//! its scenario; the tests read that log and the init's own output. Needs root (skipped
//! otherwise). Every wait is bounded and fails with what it waited for.

// Test helpers fail the test by panicking; the no-panic rule is for shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing)]

use proto::init::{ExitKind, FinalAction, InitRequest, ToManager};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const INIT: &str = env!("CARGO_BIN_EXE_sysmaster-init");
const BOUND: Duration = Duration::from_secs(20);

/// Ends as asked once it is an orphan (its parent is PID 1), after recording
/// `pid start_time mode` in `$FAKE_DIR/orphans`. Modes: an exit status, `kill` (SIGKILL
/// itself), `late:PID` (exit 5 once PID is gone), `stubborn` (ignore SIGTERM, run on).
const ORPHAN_SH: &str = r#"
while [ "$(cut -d' ' -f4 /proc/$$/stat)" != 1 ]; do sleep 0.01; done
set -- "$1" $(cat /proc/$$/stat)
echo "$2 ${23} $1" >> "$FAKE_DIR/orphans"
case "$1" in
kill) kill -9 $$ ;;
late:*) while kill -0 "${1#late:}" 2>/dev/null; do sleep 0.02; done; exit 5 ;;
stubborn) trap '' TERM; while :; do sleep 1; done ;;
sleep) exec sleep 1000 ;;
*) exit "$1" ;;
esac
"#;

/// The emergency shell of the tests: says it ran, waits for `$FAKE_DIR/go` (20 s at most).
const SHELL_SH: &str = r#"#!/bin/sh
echo ran >> "$FAKE_DIR/shell-ran"
i=0
while [ ! -e "$FAKE_DIR/go" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
"#;

fn main() {
    if let Ok(scenario) = std::env::var("FAKE_MANAGER") {
        fake::run(&scenario);
        return;
    }
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        println!("pid1 tests skipped: they need root (unshare --pid --mount)");
        return;
    }
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let tests: &[(&str, fn())] = &[
        (
            "orphans_are_relayed_buffered_and_replayed_until_acked",
            orphans,
        ),
        ("a_full_exit_buffer_drops_the_oldest_and_counts", dropped),
        ("signals_become_requests", signals),
        (
            "final_exit_kills_everything_and_exits_with_the_status",
            final_exit,
        ),
        ("final_poweroff_exits_0", final_poweroff),
        (
            "immediate_reboot_signal_ends_the_namespace_by_sighup",
            immediate_reboot,
        ),
        ("a_crashing_manager_is_restarted_with_backoff", crashes),
        (
            "a_crash_loop_runs_the_emergency_shell_and_keeps_requests",
            emergency_shell,
        ),
        ("a_hung_manager_is_aborted_killed_and_restarted", hung),
        (
            "pid1_finishes_a_shutdown_the_manager_cannot",
            shutdown_without_manager,
        ),
        ("the_fd_store_survives_a_manager_restart", fd_store),
        ("reexec_keeps_the_manager_the_fd_store_and_relaying", reexec),
    ];
    let chosen: Vec<_> = tests
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f)))
        .collect();
    println!("\nrunning {} PID 1 tests", chosen.len());
    // Each test has its own namespace: they run in parallel.
    let handles: Vec<_> = chosen
        .iter()
        .map(|&&(name, f)| (name, std::thread::spawn(f)))
        .collect();
    let mut failed = Vec::new();
    for (name, h) in handles {
        let ok = h.join().is_ok();
        println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
        if !ok {
            failed.push(name);
        }
    }
    // Empty once every test cleaned up after itself.
    let _ = std::fs::remove_dir(test_dir("x").parent().unwrap());
    if !failed.is_empty() {
        println!("failed: {failed:?}");
        std::process::exit(101);
    }
    println!("test result: ok. {} passed", chosen.len());
}

// ---------------------------------------------------------------- the namespace side

struct Ns {
    name: String,
    dir: PathBuf,
    unshare: Child,
    status: Option<ExitStatus>,
}

#[derive(Debug, Clone)]
struct Entry {
    start: u64,
    kind: String,
    rest: String,
}

fn test_dir(name: &str) -> PathBuf {
    std::env::temp_dir()
        .join(format!("sysmaster-init-tests-{}", std::process::id()))
        .join(name)
}

impl Ns {
    /// Starts our init in a new namespace with the fake manager playing `scenario`;
    /// `conf` becomes its init.conf.
    fn start(name: &str, scenario: &str, conf: &str, args: &[&str]) -> Ns {
        let dir = test_dir(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("init.conf"), conf).unwrap();
        std::fs::write(dir.join("orphan.sh"), ORPHAN_SH).unwrap();
        let shell = dir.join("shell.sh");
        std::fs::write(&shell, SHELL_SH).unwrap();
        std::fs::set_permissions(&shell, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = std::fs::File::create(dir.join("init.out")).unwrap();
        let unshare = Command::new("unshare")
            .args(["--pid", "--fork", "--mount", "--mount-proc", "--kill-child"])
            .arg(INIT)
            .arg("--container")
            .arg("--manager")
            .arg(std::env::current_exe().unwrap())
            .arg("--config")
            .arg(dir.join("init.conf"))
            .args(args)
            .env("FAKE_MANAGER", scenario)
            .env("FAKE_DIR", &dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Ns {
            name: name.to_string(),
            dir,
            unshare,
            status: None,
        }
    }

    fn init_output(&self) -> String {
        std::fs::read_to_string(self.dir.join("init.out")).unwrap_or_default()
    }

    fn entries(&self) -> Vec<Entry> {
        let text = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let (start, rest) = l.split_once(' ')?;
                let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
                Some(Entry {
                    start: start.parse().ok()?,
                    kind: kind.to_string(),
                    rest: rest.to_string(),
                })
            })
            .collect()
    }

    /// The messages manager number `start` received, in order.
    fn messages(&self, start: u64) -> Vec<ToManager> {
        self.entries()
            .into_iter()
            .filter(|e| e.start == start && e.kind == "msg")
            .map(|e| proto::init::decode(e.rest.as_bytes()).unwrap())
            .collect()
    }

    /// What came between `Hello` and `HelloDone` for manager number `start`.
    fn replay(&self, start: u64) -> Vec<ToManager> {
        let m = self.messages(start);
        let end = m.iter().position(|m| *m == ToManager::HelloDone).unwrap();
        m[1..end].to_vec()
    }

    fn notes(&self, start: u64) -> Vec<String> {
        self.entries()
            .into_iter()
            .filter(|e| e.start == start && e.kind == "note")
            .map(|e| e.rest)
            .collect()
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "[{}] {what}\n--- init output:\n{}--- fake manager log:\n{}",
            self.name,
            self.init_output(),
            std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
        )
    }

    fn wait_for(&mut self, what: &str, mut f: impl FnMut(&Ns) -> bool) {
        let start = Instant::now();
        while !f(self) {
            if start.elapsed() > BOUND {
                self.fail(&format!("timed out waiting for {what}"));
            }
            if self.status.is_none() {
                self.status = self.unshare.try_wait().unwrap();
                if let Some(s) = self.status {
                    if !f(self) {
                        self.fail(&format!("init ended ({s}) while waiting for {what}"));
                    }
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.status.or_else(|| self.unshare.try_wait().unwrap()) {
                self.status = Some(s);
                return s;
            }
            if start.elapsed() > BOUND {
                self.fail("timed out waiting for init to exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Our init's pid as this (the parent) namespace sees it.
    fn init_pid(&mut self) -> u32 {
        let path = format!("/proc/{0}/task/{0}/children", self.unshare.id());
        let mut pid = 0;
        self.wait_for("the init process", |_| {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            pid = text
                .split_whitespace()
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            pid != 0
        });
        pid
    }

    fn signal(&mut self, signal: i32) {
        let pid = self.init_pid();
        sys::process::kill(pid, signal).unwrap();
    }

    /// Every process of the namespace, as (pid, start time) seen from here.
    fn processes(&mut self) -> Vec<(u32, u64)> {
        let pid = self.init_pid();
        let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|p| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok() == Some(ns.clone()))
            .filter_map(|p| Some((p, sys::process::start_time(p).ok()?)))
            .collect()
    }

    fn orphans(&self) -> Vec<(u32, u64, String)> {
        let text = std::fs::read_to_string(self.dir.join("orphans")).unwrap_or_default();
        text.lines()
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                (
                    f[0].parse().unwrap(),
                    f[1].parse().unwrap(),
                    f[2].to_string(),
                )
            })
            .collect()
    }

    fn has_hello(&self, start: u64) -> bool {
        self.messages(start).contains(&ToManager::HelloDone)
    }

    fn expect_output(&self, text: &str) {
        if !self.init_output().contains(text) {
            self.fail(&format!("init never said '{text}'"));
        }
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.unshare.kill();
            let _ = self.unshare.wait();
        }
        // KEEP_TEST_DIRS=1 keeps the logs for a look.
        if !std::thread::panicking() && std::env::var_os("KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn exits_of(messages: &[ToManager]) -> Vec<(u64, u32, u64, ExitKind, i32)> {
    messages
        .iter()
        .filter_map(|m| match *m {
            ToManager::Exit {
                seq,
                pid,
                start_time,
                kind,
                status,
            } => Some((seq, pid, start_time, kind, status)),
            _ => None,
        })
        .collect()
}

fn hello_of(m: &ToManager) -> (u64, bool, u64, bool) {
    match *m {
        ToManager::Hello {
            manager_starts,
            planned,
            dropped_exits,
            container,
            ..
        } => (manager_starts, planned, dropped_exits, container),
        ref other => panic!("expected Hello, got {other:?}"),
    }
}

// ---------------------------------------------------------------- the tests

fn orphans() {
    let mut ns = Ns::start("orphans", "orphans", "", &["--heartbeat-sec", "0.2"]);
    ns.wait_for("manager 3", |ns| ns.has_hello(3));
    let orphans = ns.orphans();
    assert_eq!(orphans.len(), 3, "{orphans:?}");
    let find = |mode: &str| {
        orphans
            .iter()
            .find(|o| o.2.starts_with(mode))
            .unwrap()
            .clone()
    };
    let (a, b, c) = (find("3"), find("kill"), find("late"));
    let first = exits_of(&ns.messages(1));
    let exit_a = first.iter().find(|e| e.1 == a.0).copied();
    let exit_b = first.iter().find(|e| e.1 == b.0).copied();
    let (Some(exit_a), Some(exit_b)) = (exit_a, exit_b) else {
        ns.fail("manager 1 did not get both exits");
    };
    // The right status, kind and start time (read while the orphan was a zombie).
    assert_eq!((exit_a.2, exit_a.3, exit_a.4), (a.1, ExitKind::Exited, 3));
    assert_eq!((exit_b.2, exit_b.3, exit_b.4), (b.1, ExitKind::Killed, 9));
    // Manager 1 never acknowledged: manager 2 gets both again, with the same seq.
    let replay2 = exits_of(&ns.replay(2));
    assert!(
        replay2.contains(&exit_a) && replay2.contains(&exit_b),
        "{replay2:?}"
    );
    // The orphan that ended after manager 1 did reached manager 2, replayed or live.
    let second = exits_of(&ns.messages(2));
    let exit_c = second.iter().find(|e| e.1 == c.0).copied().unwrap();
    assert_eq!((exit_c.2, exit_c.3, exit_c.4), (c.1, ExitKind::Exited, 5));
    assert!(exit_c.0 > exit_b.0.max(exit_a.0));
    assert_eq!(hello_of(&ns.messages(2)[0]), (2, false, 0, true));
    // Manager 2 acknowledged everything up to exit_c: manager 3 gets nothing of it.
    let replay3 = exits_of(&ns.replay(3));
    assert!(replay3.iter().all(|e| e.0 > exit_c.0), "{replay3:?}");
}

fn dropped() {
    let mut ns = Ns::start("dropped", "dropped", "max_buffered_exits=3\n", &[]);
    ns.wait_for("manager 2", |ns| ns.has_hello(2));
    let hello = ns.messages(2)[0].clone();
    assert_eq!(hello_of(&hello), (2, false, 2, true));
    let replay = exits_of(&ns.replay(2));
    let seqs: Vec<u64> = replay.iter().map(|e| e.0).collect();
    assert_eq!(seqs, [3, 4, 5]);
    let pids: Vec<u32> = ns.orphans().iter().map(|o| o.0).collect();
    assert!(
        replay.iter().all(|e| pids.contains(&e.1)),
        "{replay:?} {pids:?}"
    );
}

fn signals() {
    use sys::signal::*;
    let mut ns = Ns::start("signals", "record", "", &[]);
    ns.wait_for("manager 1", |ns| ns.has_hello(1));
    let table = [
        (SIGHUP, None),
        (SIGPIPE, None),
        (SIGINT, Some(InitRequest::CtrlAltDel)),
        (SIGWINCH, Some(InitRequest::KbRequest)),
        (SIGPWR, Some(InitRequest::PowerFailure)),
        (SIGRTMIN + 3, Some(InitRequest::Halt)),
        (SIGRTMIN + 4, Some(InitRequest::Poweroff)),
        (SIGRTMIN + 5, Some(InitRequest::Reboot)),
        (SIGRTMIN + 6, Some(InitRequest::Kexec)),
        (SIGUSR1, Some(InitRequest::Halt)),
        (SIGUSR2, Some(InitRequest::Poweroff)),
        (SIGTERM, Some(InitRequest::Poweroff)),
    ];
    let requests = |ns: &Ns| -> Vec<InitRequest> {
        ns.messages(1)
            .iter()
            .filter_map(|m| match m {
                ToManager::Request { request } => Some(*request),
                _ => None,
            })
            .collect()
    };
    let mut expected = Vec::new();
    for (signal, request) in table {
        ns.signal(signal);
        // A signal that means nothing is followed by one that does: the count shows it
        // added no request.
        if let Some(r) = request {
            expected.push(r);
            let want = expected.clone();
            ns.wait_for(&format!("the request for signal {signal}"), |ns| {
                requests(ns).len() >= want.len()
            });
            assert_eq!(requests(&ns), expected, "after signal {signal}");
        }
    }
    // Still alive and well: PID 1 of a container ignores SIGHUP and SIGPIPE.
    assert!(ns.unshare.try_wait().unwrap().is_none());
}

fn final_with(name: &str, scenario: &str) -> (Ns, ExitStatus) {
    let mut ns = Ns::start(name, scenario, "", &["--final-timeout-sec", "1"]);
    ns.wait_for("the leftovers", |ns| {
        ns.notes(1).contains(&"ready".to_string())
    });
    let before = ns.processes();
    // init, the fake manager, a stubborn shell (and its sleep), a sleeper.
    assert!(before.len() >= 4, "{before:?}");
    std::fs::write(ns.dir.join("go"), "").unwrap();
    let status = ns.wait_exit();
    // No process of the namespace is left (same pid and start time).
    let left: Vec<_> = before
        .iter()
        .filter(|(pid, start)| sys::process::start_time(*pid).ok() == Some(*start))
        .collect();
    assert!(left.is_empty(), "left: {left:?}");
    ns.expect_output("sending SIGTERM to all processes");
    // The stubborn one ignores SIGTERM.
    ns.expect_output("sending SIGKILL");
    (ns, status)
}

fn final_exit() {
    let (ns, status) = final_with("final-exit", "final-exit-7");
    assert_eq!(status.code(), Some(7), "{status}");
    ns.expect_output("exiting with status 7");
}

fn final_poweroff() {
    let (ns, status) = final_with("final-poweroff", "final-poweroff");
    assert_eq!(status.code(), Some(0), "{status}");
    ns.expect_output("final step: Poweroff");
}

fn immediate_reboot() {
    use std::os::unix::process::ExitStatusExt;
    let mut ns = Ns::start("immediate", "record", "", &["--final-timeout-sec", "1"]);
    ns.wait_for("manager 1", |ns| ns.has_hello(1));
    ns.signal(sys::signal::SIGRTMIN + 15);
    let status = ns.wait_exit();
    // reboot(2) in a PID namespace: the kernel reports its init "killed by SIGHUP", and
    // unshare passes that on.
    assert_eq!(status.signal(), Some(sys::signal::SIGHUP), "{status}");
    ns.expect_output("Reboot at once, without the manager");
    assert!(!ns
        .messages(1)
        .iter()
        .any(|m| matches!(m, ToManager::Request { .. })));
}

fn crashes() {
    let mut ns = Ns::start("crashes", "crash", "", &[]);
    ns.wait_for("manager 5", |ns| ns.has_hello(5));
    for start in 1..=5 {
        let hello = hello_of(&ns.messages(start)[0]);
        // Manager 5 follows manager 4's Restarting: planned.
        assert_eq!(hello, (start, start == 5, 0, true), "start {start}");
    }
    for delay in ["100 ms", "200 ms", "400 ms"] {
        ns.expect_output(&format!("starting it again in {delay}"));
    }
    ns.expect_output("starting the manager again at once, as it asked");
}

fn emergency_shell() {
    let script = test_dir("shell").join("shell.sh");
    let args = ["--shell", script.to_str().unwrap()];
    let mut ns = Ns::start("shell", "crash-5", "", &args);
    ns.wait_for("the emergency shell", |ns| {
        ns.dir.join("shell-ran").exists()
    });
    ns.expect_output("the manager keeps failing: emergency shell");
    // No manager now: the request waits for the next one.
    ns.signal(sys::signal::SIGWINCH);
    ns.wait_for("the request kept", |ns| {
        ns.init_output()
            .contains("KbRequest kept for the next manager")
    });
    std::fs::write(ns.dir.join("go"), "").unwrap();
    ns.wait_for("manager 6", |ns| ns.has_hello(6));
    // The failures start from zero after the shell; the request follows HelloDone.
    let m = ns.messages(6);
    assert_eq!(hello_of(&m[0]), (6, false, 0, true));
    ns.wait_for("the request", |ns| ns.messages(6).len() >= 3);
    let m = ns.messages(6);
    assert_eq!(
        m[1..3],
        [
            ToManager::HelloDone,
            ToManager::Request {
                request: InitRequest::KbRequest
            }
        ]
    );
}

fn shutdown_without_manager() {
    let args = ["--emergency-shell=no", "--final-timeout-sec", "1"];
    let mut ns = Ns::start("shutdown", "crash-always", "", &args);
    ns.wait_for("manager 1", |ns| ns.has_hello(1));
    ns.signal(sys::signal::SIGRTMIN + 4);
    let status = ns.wait_exit();
    assert_eq!(status.code(), Some(0), "{status}");
    ns.expect_output("the manager keeps failing while a shutdown was asked for");
    ns.expect_output("final step: Poweroff");
}

fn hung() {
    let args = ["--heartbeat-timeout-sec", "1", "--kill-grace-sec", "0.5"];
    let mut ns = Ns::start("hung", "hang", "heartbeat_sec=0.2\n", &args);
    ns.wait_for("manager 2", |ns| ns.has_hello(2));
    ns.expect_output("did not answer for");
    ns.expect_output("sending SIGABRT");
    // SIGABRT is blocked by the fake: only SIGKILL ends it.
    ns.expect_output("is still there: sending SIGKILL");
    ns.expect_output("was killed by signal 9");
    assert!(ns.notes(1).contains(&"hanging".to_string()));
    // Manager 2 answers.
    ns.wait_for("pings to manager 2", |ns| {
        ns.messages(2)
            .iter()
            .filter(|m| matches!(m, ToManager::Ping { .. }))
            .count()
            >= 5
    });
}

fn fd_store() {
    let mut ns = Ns::start("fdstore", "fdstore", "", &["--heartbeat-sec", "0.2"]);
    ns.wait_for("manager 2", |ns| ns.has_hello(2));
    let stored: Vec<String> = ns
        .entries()
        .iter()
        .filter(|e| e.start == 2 && e.kind == "fd")
        .map(|e| e.rest.clone())
        .collect();
    let notes = ns.notes(1);
    let ino = |name: &str| {
        notes
            .iter()
            .find_map(|n| n.strip_prefix(name))
            .unwrap()
            .to_string()
    };
    assert_eq!(
        stored,
        [
            format!("dup{} -", ino("dup")),
            format!("file{} -", ino("file")),
            format!("pipe{} hello", ino("pipe")),
        ]
    );
    let replay = ns.replay(2);
    assert_eq!(replay.len(), 3, "{replay:?}");
}

fn reexec() {
    let mut ns = Ns::start("reexec", "reexec", "", &["--heartbeat-sec", "0.2"]);
    ns.wait_for("manager 2", |ns| ns.has_hello(2));
    ns.expect_output("re-executing");
    ns.expect_output("re-executed: the manager");
    let notes = ns.notes(1);
    let ids: Vec<&String> = notes.iter().filter(|n| n.starts_with("ids ")).collect();
    assert_eq!(ids.len(), 2, "{notes:?}");
    assert_eq!(ids[0], ids[1], "pid and parent changed across the re-exec");
    assert!(ids[0].ends_with(" 1"), "{ids:?}");
    // The orphan that ended after the re-exec was relayed to the same manager.
    let orphan = ns.orphans()[0].clone();
    let first = exits_of(&ns.messages(1));
    let exit = first.iter().find(|e| e.1 == orphan.0).unwrap();
    assert_eq!((exit.2, exit.3, exit.4), (orphan.1, ExitKind::Exited, 9));
    // The stored fd came back to manager 2: the same file.
    let ino = notes.iter().find_map(|n| n.strip_prefix("file")).unwrap();
    let fds: Vec<String> = ns
        .entries()
        .iter()
        .filter(|e| e.start == 2 && e.kind == "fd")
        .map(|e| e.rest.clone())
        .collect();
    assert_eq!(fds, [format!("file{ino} -")]);
}

// ---------------------------------------------------------------- the fake manager

mod fake {
    use super::*;
    use proto::init::{decode, encode, ToInit, INIT_FD_ENV};
    use std::io::{Read, Write};
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
    use sys::event::{poll, PollFd, READABLE};

    pub struct Fake {
        link: OwnedFd,
        pub dir: PathBuf,
        pub start: u64,
        pub pong: bool,
        pub pings: u64,
        pub exits: Vec<(u64, u32)>,
        log: std::fs::File,
    }

    pub fn run(scenario: &str) {
        let mut f = Fake::connect();
        match scenario {
            "record" => f.idle(),
            "orphans" => orphans(f),
            "dropped" => dropped(f),
            "final-exit-7" => final_step(f, FinalAction::Exit { status: 7 }),
            "final-poweroff" => final_step(f, FinalAction::Poweroff),
            "crash" => crash(f, 3, true),
            "crash-5" => crash(f, 5, false),
            "crash-always" => crash(f, u64::MAX, false),
            "hang" => hang(f),
            "fdstore" => fd_store(f),
            "reexec" => reexec(f),
            other => f.quit(&format!("unknown scenario {other}")),
        }
    }

    impl Fake {
        fn connect() -> Fake {
            let fd: i32 = std::env::var(INIT_FD_ENV).unwrap().parse().unwrap();
            let dir = PathBuf::from(std::env::var("FAKE_DIR").unwrap());
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("log"))
                .unwrap();
            let mut f = Fake {
                link: sys::fd::adopt_inherited(fd).unwrap(),
                dir,
                start: 0,
                pong: true,
                pings: 0,
                exits: Vec::new(),
                log,
            };
            match f.next(BOUND) {
                Some(ToManager::Hello { manager_starts, .. }) => f.start = manager_starts,
                other => f.quit(&format!("expected Hello, got {other:?}")),
            }
            f.wait("HelloDone", |m| *m == ToManager::HelloDone);
            f
        }

        fn line(&mut self, kind: &str, text: &str) {
            let text = format!("{} {kind} {text}\n", self.start);
            self.log.write_all(text.as_bytes()).unwrap();
        }

        pub fn note(&mut self, text: &str) {
            self.line("note", text);
        }

        pub fn quit(&mut self, why: &str) -> ! {
            self.note(&format!("quitting: {why}"));
            std::process::exit(99)
        }

        /// The next message within `bound`; answers pings, logs everything.
        pub fn next(&mut self, bound: Duration) -> Option<ToManager> {
            let mut fds = [PollFd::new(self.link.as_raw_fd(), READABLE)];
            poll(&mut fds, Some(bound.as_millis() as u32)).unwrap();
            if !fds[0].readable() {
                return None;
            }
            let mut buf = vec![0u8; proto::init::MAX_PACKET];
            let p = sys::seqpacket::recv(self.link.as_fd(), &mut buf).unwrap()?;
            if p.len == 0 {
                // PID 1 is gone (the final step).
                std::process::exit(0);
            }
            let text = String::from_utf8_lossy(&buf[..p.len]).into_owned();
            let m: ToManager = decode(&buf[..p.len]).unwrap();
            if let ToManager::Hello { manager_starts, .. } = m {
                self.start = manager_starts;
            }
            self.line("msg", &text);
            match &m {
                ToManager::Ping { seq } => {
                    self.pings += 1;
                    if self.pong {
                        self.send(ToInit::Pong { seq: *seq }, None);
                    }
                }
                ToManager::Exit { seq, pid, .. } => self.exits.push((*seq, *pid)),
                ToManager::StoredFd { name } => {
                    let mut file = std::fs::File::from(p.fd.unwrap());
                    let meta = file.metadata().unwrap();
                    let mut content = String::new();
                    if name == "pipe" {
                        file.read_to_string(&mut content).unwrap();
                    } else {
                        content.push('-');
                    }
                    let text = format!("{name} {} {} {content}", meta.dev(), meta.ino());
                    self.line("fd", &text);
                }
                _ => {}
            }
            Some(m)
        }

        /// Reads until a message satisfies `f`.
        pub fn wait(&mut self, what: &str, mut f: impl FnMut(&ToManager) -> bool) {
            let start = Instant::now();
            while start.elapsed() < BOUND {
                if self.next(Duration::from_millis(100)).is_some_and(|m| f(&m)) {
                    return;
                }
            }
            self.quit(&format!("timed out waiting for {what}"));
        }

        /// Reads (and answers) until `f` holds of our own state.
        pub fn until(&mut self, what: &str, mut f: impl FnMut(&Fake) -> bool) {
            let start = Instant::now();
            while !f(self) {
                if start.elapsed() > BOUND {
                    self.quit(&format!("timed out waiting for {what}"));
                }
                self.next(Duration::from_millis(50));
            }
        }

        /// A few pings after a message we sent prove that PID 1 has read it.
        pub fn settle(&mut self) {
            let target = self.pings + 3;
            self.until("pings", |f| f.pings >= target);
        }

        pub fn send(&self, m: ToInit, fd: Option<BorrowedFd>) {
            sys::seqpacket::send(self.link.as_fd(), &encode(&m).unwrap(), fd).unwrap();
        }

        pub fn orphan(&self, mode: &str) {
            let script = self.dir.join("orphan.sh");
            let command = format!("sh {} {mode} &", script.display());
            let status = Command::new("sh")
                .args(["-c", &command])
                .stdin(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
        }

        pub fn orphans(&self) -> Vec<(u32, u64, String)> {
            let text = std::fs::read_to_string(self.dir.join("orphans")).unwrap_or_default();
            text.lines()
                .map(|l| {
                    let f: Vec<&str> = l.split(' ').collect();
                    (
                        f[0].parse().unwrap(),
                        f[1].parse().unwrap(),
                        f[2].to_string(),
                    )
                })
                .collect()
        }

        pub fn idle(&mut self) -> ! {
            loop {
                self.next(Duration::from_secs(1));
            }
        }
    }

    fn orphans(mut f: Fake) {
        match f.start {
            1 => {
                f.orphan("3");
                f.orphan("kill");
                f.orphan(&format!("late:{}", std::process::id()));
                f.until("two exits", |f| f.exits.len() >= 2);
                f.note("crashing");
                std::process::exit(1);
            }
            2 => {
                f.until("the late orphan", |f| {
                    let late = f.orphans().into_iter().find(|o| o.2.starts_with("late"));
                    late.is_some_and(|l| f.exits.iter().any(|e| e.1 == l.0))
                });
                let upto = f.exits.iter().map(|e| e.0).max().unwrap();
                f.send(ToInit::AckExits { upto }, None);
                f.settle();
                std::process::exit(1);
            }
            _ => f.idle(),
        }
    }

    fn dropped(mut f: Fake) {
        if f.start > 1 {
            f.idle();
        }
        for _ in 0..5 {
            f.orphan("0");
        }
        // Each orphan is reaped (its /proc entry gone) before this manager leaves.
        f.until("five orphans reaped", |f| {
            let o = f.orphans();
            o.len() == 5
                && o.iter()
                    .all(|o| !Path::new(&format!("/proc/{}", o.0)).exists())
        });
        std::process::exit(1);
    }

    fn final_step(mut f: Fake, action: FinalAction) {
        f.orphan("stubborn");
        f.orphan("sleep");
        f.until("the leftovers", |f| f.orphans().len() == 2);
        f.note("ready");
        let go = f.dir.join("go");
        f.until("go", |_| go.exists());
        f.send(ToInit::Final { action }, None);
        f.idle();
    }

    fn crash(mut f: Fake, crashes: u64, then_restart: bool) {
        if f.start <= crashes {
            std::process::exit(1);
        }
        if then_restart && f.start == crashes + 1 {
            f.send(ToInit::Restarting, None);
            std::process::exit(0);
        }
        f.idle();
    }

    fn hang(mut f: Fake) {
        if f.start > 1 {
            f.idle();
        }
        // Blocked, SIGABRT stays pending: only SIGKILL can end this manager.
        let _abort = sys::event::SignalFd::new(&[sys::signal::SIGABRT]).unwrap();
        f.note("hanging");
        std::thread::sleep(BOUND);
        f.quit("was never killed");
    }

    fn fd_store(mut f: Fake) {
        if f.start > 1 {
            f.idle();
        }
        let (reader, mut writer) = std::io::pipe().unwrap();
        writer.write_all(b"hello").unwrap();
        drop(writer);
        let data = f.dir.join("data");
        std::fs::write(&data, "data").unwrap();
        let data2 = f.dir.join("data2");
        std::fs::write(&data2, "data2").unwrap();
        let file = std::fs::File::open(&data).unwrap();
        let null = std::fs::File::open("/dev/null").unwrap();
        let file2 = std::fs::File::open(&data2).unwrap();
        let ino = |f: &std::fs::File| {
            let m = f.metadata().unwrap();
            format!(" {} {}", m.dev(), m.ino())
        };
        let store = |f: &Fake, name: &str, fd: BorrowedFd| {
            f.send(ToInit::StoreFd { name: name.into() }, Some(fd));
        };
        store(&f, "pipe", reader.as_fd());
        let pipe_ino = {
            let m = std::fs::metadata(format!("/proc/self/fd/{}", reader.as_raw_fd())).unwrap();
            format!(" {} {}", m.dev(), m.ino())
        };
        store(&f, "file", file.as_fd());
        store(&f, "gone", null.as_fd());
        store(&f, "dup", null.as_fd());
        store(&f, "dup", file2.as_fd());
        f.send(
            ToInit::RemoveFd {
                name: "gone".into(),
            },
            None,
        );
        // Garbage on the way is ignored.
        sys::seqpacket::send(f.link.as_fd(), b"{\"type\":\"nonsense\"}", None).unwrap();
        f.send(
            ToInit::StoreFd {
                name: "no-fd".into(),
            },
            None,
        );
        f.note(&format!("pipe{pipe_ino}"));
        f.note(&format!("file{}", ino(&file)));
        f.note(&format!("dup{}", ino(&file2)));
        f.settle();
        std::process::exit(1);
    }

    fn ids() -> String {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let ppid = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .nth(1)
            .unwrap();
        format!("ids {} {ppid}", std::process::id())
    }

    fn reexec(mut f: Fake) {
        if f.start > 1 {
            f.idle();
        }
        let data = f.dir.join("data");
        std::fs::write(&data, "data").unwrap();
        let file = std::fs::File::open(&data).unwrap();
        f.send(
            ToInit::StoreFd {
                name: "file".into(),
            },
            Some(file.as_fd()),
        );
        let m = file.metadata().unwrap();
        f.note(&format!("file {} {}", m.dev(), m.ino()));
        f.settle();
        f.note(&ids());
        f.send(ToInit::ReexecInit, None);
        f.until("the re-executed init", |_| {
            let cmdline = std::fs::read("/proc/1/cmdline").unwrap_or_default();
            String::from_utf8_lossy(&cmdline).contains("--deserialize")
        });
        // Heartbeats go on with the new image.
        f.settle();
        f.orphan("9");
        f.until("the orphan's exit", |f| !f.exits.is_empty());
        f.note(&ids());
        std::process::exit(1);
    }
}
