//! End-to-end tests: the real `sysmaster` binary driven by the real `sctl` binary, the way a
//! user runs them, checking exit statuses and the lines systemctl would print. Each test runs
//! its own manager on a temporary runtime directory and the search path `etc` + `units`:
//! `etc` comes first, so it is where `enable`, `mask` and `set-default` write (the manager's
//! configuration directory is the first `--unit-path` directory).
//!
//! `sctl` belongs to another package, so cargo does not build it for these tests. The test
//! uses `target/<profile>/sctl` when it is newer than every source file of `sctl`, `proto`
//! and `unitfile`; otherwise (missing, or stale under a bare `cargo test -p manager`) it
//! builds one with `cargo build -p sctl --bin sctl` into `target/e2e-sctl`, a target
//! directory of its own so that it does not wait for the lock of the build running the
//! tests. They need root (cgroups, and `SO_PEERCRED` uid 0 for calls that change state).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

const SLEEPER: &str = "[Unit]\nDescription=Sleeper\n[Service]\nExecStart=/bin/sleep 1000\n\
                       [Install]\nWantedBy=multi-user.target\nAlias=nap.service\n";
const FAILING: &str = "[Unit]\nDescription=Fails\n[Service]\nType=oneshot\n\
                       ExecStart=/bin/sh -c 'echo boom; exit 3'\n";
const SLOW: &str = "[Unit]\nDescription=Slow\n[Service]\nType=oneshot\nExecStart=/bin/sleep 30\n";
/// A service that says so when it is reloaded (`SIGHUP`), and keeps its pid.
const RELOADER: &str = "[Unit]\nDescription=Reloader\n[Service]\n\
                        ExecStart=/bin/sh -c 'trap \"echo reloaded\" HUP; echo ready; while true; do sleep 1 & wait; done'\n\
                        ExecReload=/bin/kill -HUP $MAINPID\n";
const RESCUE: &str = "[Unit]\nDescription=Rescue Mode\nAllowIsolate=yes\n";

/// The `sctl` binary to run: `target/<profile>/sctl` when it is up to date with its
/// sources, else one built for these tests (see the module comment and
/// `common::workspace_binary`).
fn sctl_binary() -> PathBuf {
    common::workspace_binary("sctl")
}

/// A running manager driven through the `sctl` binary.
struct Manager(common::Process);

impl std::ops::Deref for Manager {
    type Target = common::Process;
    fn deref(&self) -> &common::Process {
        &self.0
    }
}

/// What one `sctl` run gave.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Manager {
    /// `etc` comes first on the search path, so it is where enable/mask/set-default
    /// write; the test's units go into `units`.
    fn start(files: &[(&str, &str)]) -> Manager {
        Manager(common::Process::start(&["etc", "units"], files))
    }

    /// `etc` or `units` below the test directory, as text.
    fn dir(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn sctl(&self, args: &[&str]) -> Out {
        let o = Command::new(sctl_binary())
            .arg("--runtime-dir")
            .arg(self.runtime())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Runs `sctl`, checks its exit status and returns its output.
    fn expect(&self, args: &[&str], code: i32) -> Out {
        let out = self.sctl(args);
        assert_eq!(
            out.code,
            code,
            "sctl {}: {out:?}\nmanager log:\n{}",
            args.join(" "),
            self.log()
        );
        out
    }

    /// `show -p NAME UNIT --value`.
    fn property(&self, unit: &str, name: &str) -> String {
        let out = self.expect(&["show", "-p", name, "--value", unit], 0);
        out.stdout.trim_end_matches('\n').to_string()
    }

    fn wait_for(&self, what: &str, mut cond: impl FnMut() -> bool) {
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

#[test]
fn start_stop_restart_and_the_state_queries() {
    let m = Manager::start(&[("sleeper.service", SLEEPER)]);
    let o = m.expect(&["is-active", "sleeper"], 3);
    assert_eq!(o.stdout, "inactive\n");
    m.expect(&["start", "sleeper"], 0);
    assert_eq!(m.expect(&["is-active", "sleeper"], 0).stdout, "active\n");
    assert_eq!(m.expect(&["is-failed", "sleeper"], 1).stdout, "active\n");
    let pid = m.property("sleeper.service", "MainPID");
    assert!(pid.parse::<u32>().unwrap() > 0, "{pid}");

    // Type=simple is running as soon as it is forked, so the process may still carry the
    // manager's name for a moment before its exec; wait for the command name.
    let mut status = m.expect(&["status", "sleeper"], 0).stdout;
    for _ in 0..100 {
        if status.contains("(sleep)") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        status = m.expect(&["status", "sleeper"], 0).stdout;
    }
    assert!(
        status.starts_with("● sleeper.service - Sleeper\n"),
        "{status}"
    );
    assert!(
        status.contains("Active: active (running) since "),
        "{status}"
    );
    assert!(
        status.contains(&format!("Main PID: {pid} (sleep)")),
        "{status}"
    );

    let units = m.expect(&["list-units", "--no-legend"], 0).stdout;
    let line = units
        .lines()
        .find(|l| l.contains("sleeper.service"))
        .unwrap_or_else(|| panic!("{units}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        words,
        ["sleeper.service", "loaded", "active", "running", "Sleeper"]
    );

    m.expect(&["restart", "sleeper"], 0);
    let new_pid = m.property("sleeper.service", "MainPID");
    assert_ne!(new_pid, pid, "restart runs a new process");
    assert_eq!(m.property("sleeper.service", "ActiveState"), "active");

    m.expect(&["stop", "sleeper"], 0);
    assert_eq!(m.expect(&["is-active", "sleeper"], 3).stdout, "inactive\n");
    assert_eq!(m.property("sleeper.service", "MainPID"), "0");
    // The status of a unit that is not running exits 3, of an unknown one 4.
    m.expect(&["status", "sleeper"], 3);
    let o = m.expect(&["status", "nope"], 4);
    assert_eq!(o.stderr, "Unit nope.service could not be found.\n");
}

#[test]
fn show_prints_systemctl_properties() {
    let m = Manager::start(&[("sleeper.service", SLEEPER)]);
    m.expect(&["start", "sleeper"], 0);
    let o = m.expect(
        &[
            "show",
            "-p",
            "Id,Names,Result,LoadState,ActiveState,SubState,UnitFileState,Type,Restart,NRestarts,StatusText",
            "sleeper",
        ],
        0,
    );
    // systemd's order (the service's own properties first), not the order asked for; an
    // empty property is shown when asked for by name.
    assert_eq!(
        o.stdout,
        "Type=simple\nRestart=no\nStatusText=\nResult=success\nNRestarts=0\n\
         Id=sleeper.service\nNames=sleeper.service nap.service\nLoadState=loaded\n\
         ActiveState=active\nSubState=running\nUnitFileState=disabled\n"
    );
    let fragment = m.property("sleeper", "FragmentPath");
    assert_eq!(fragment, format!("{}/sleeper.service", m.dir("units")));
    let since = m.property("sleeper", "ActiveEnterTimestamp");
    // `Sun 2026-11-22 01:52:52 UTC`
    let words: Vec<&str> = since.split(' ').collect();
    assert_eq!(words.len(), 4, "{since}");
    assert_eq!(words[1].len(), 10, "{since}");
    assert_eq!(words[3], "UTC", "{since}");
    assert_eq!(m.property("sleeper", "InvocationID").len(), 32);
    let requires = m.property("sleeper", "Requires");
    assert!(requires.contains("sysinit.target"), "{requires}");
    let after = m.property("sleeper", "After");
    assert!(after.contains("basic.target"), "{after}");
    // Without -p, empty values are left out.
    let all = m.expect(&["show", "sleeper"], 0).stdout;
    assert!(all.contains("\nId=sleeper.service\n"), "{all}");
    assert!(!all.contains("StatusText="), "{all}");
    // An unknown unit is shown as not found, as systemctl does.
    assert_eq!(m.property("nope.service", "LoadState"), "not-found");
    // The manager's own properties.
    let manager = m
        .expect(&["show", "-p", "SystemState,NFailedUnits"], 0)
        .stdout;
    assert_eq!(manager, "NFailedUnits=0\nSystemState=running\n");
}

#[test]
fn a_failed_start_reports_its_result_and_reset_failed_forgets_it() {
    let m = Manager::start(&[("fail.service", FAILING)]);
    let o = m.expect(&["start", "fail"], 1);
    assert_eq!(
        o.stderr,
        "Job for fail.service failed because the control process exited with error code.\n\
         See \"sctl status fail.service\" and \"sctl logs fail.service\" for details.\n"
    );
    assert_eq!(m.expect(&["is-failed", "fail"], 0).stdout, "failed\n");
    assert_eq!(m.expect(&["is-active", "fail"], 3).stdout, "failed\n");
    assert_eq!(m.property("fail", "Result"), "exit-code");
    assert_eq!(m.property("fail", "ExecMainCode"), "1");
    assert_eq!(m.property("fail", "ExecMainStatus"), "3");
    let status = m.expect(&["status", "fail"], 3).stdout;
    assert!(
        status.contains("Active: failed (Result: exit-code) since "),
        "{status}"
    );
    let failed = m
        .expect(&["list-units", "--failed", "--no-legend"], 0)
        .stdout;
    assert!(failed.contains("fail.service"), "{failed}");
    let logs = m.expect(&["logs", "fail"], 0).stdout;
    assert!(logs.lines().any(|l| l == "boom"), "{logs}");
    let last = m.expect(&["logs", "-n", "1", "fail"], 0).stdout;
    assert_eq!(last.lines().count(), 1, "{last}");

    m.expect(&["reset-failed", "fail"], 0);
    assert_eq!(m.expect(&["is-failed", "fail"], 1).stdout, "inactive\n");
    assert_eq!(m.property("fail", "Result"), "success");
    let o = m.expect(&["start", "nope"], 5);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
}

#[test]
fn kill_signals_the_service() {
    let m = Manager::start(&[("sleeper.service", SLEEPER)]);
    m.expect(&["start", "sleeper"], 0);
    m.expect(&["kill", "-s", "KILL", "sleeper"], 0);
    m.wait_for("sleeper fails after SIGKILL", || {
        m.sctl(&["is-failed", "sleeper"]).code == 0
    });
    assert_eq!(m.property("sleeper", "Result"), "signal");
    assert_eq!(m.property("sleeper", "ExecMainCode"), "2");
    assert_eq!(m.property("sleeper", "ExecMainStatus"), "9");
    // Nothing left to kill.
    let o = m.expect(&["kill", "sleeper"], 1);
    assert!(
        o.stderr.starts_with("Failed to kill unit sleeper.service"),
        "{}",
        o.stderr
    );
}

#[test]
fn enable_disable_and_is_enabled() {
    let m = Manager::start(&[("sleeper.service", SLEEPER), ("fail.service", FAILING)]);
    let (etc, units) = (m.dir("etc"), m.dir("units"));
    assert_eq!(m.expect(&["is-enabled", "sleeper"], 1).stdout, "disabled\n");
    assert_eq!(m.expect(&["is-enabled", "fail"], 0).stdout, "static\n");
    let o = m.expect(&["is-enabled", "nope"], 1);
    assert_eq!(
        o.stderr,
        "Failed to get unit file state for nope.service: No such file or directory\n"
    );

    let o = m.expect(&["enable", "sleeper"], 0);
    assert_eq!(
        o.stderr,
        format!(
            "Created symlink {etc}/nap.service → {units}/sleeper.service.\n\
             Created symlink {etc}/multi-user.target.wants/sleeper.service → {units}/sleeper.service.\n"
        )
    );
    assert_eq!(
        m.expect(&["is-enabled", "sleeper", "nap"], 0).stdout,
        "enabled\nalias\n"
    );
    // The manager reloaded: the target now wants the service.
    let wants = m.property("multi-user.target", "Wants");
    assert!(wants.contains("sleeper.service"), "{wants}");
    assert_eq!(m.property("sleeper", "UnitFileState"), "enabled");
    assert_eq!(
        m.expect(&["enable", "sleeper"], 0).stderr,
        "",
        "already enabled"
    );

    let list = m.expect(&["list-unit-files", "--no-legend"], 0).stdout;
    let rows: Vec<Vec<&str>> = list
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    for want in [
        ["sleeper.service", "enabled"],
        ["nap.service", "alias"],
        ["fail.service", "static"],
        ["multi-user.target", "static"],
    ] {
        assert!(rows.iter().any(|r| r == &want), "{want:?} in\n{list}");
    }
    let only = m
        .expect(&["list-unit-files", "--no-legend", "*.target"], 0)
        .stdout;
    assert!(only.lines().all(|l| l.contains(".target")), "{only}");

    let o = m.expect(&["disable", "sleeper"], 0);
    assert_eq!(
        o.stderr,
        format!(
            "Removed \"{etc}/multi-user.target.wants/sleeper.service\".\n\
             Removed \"{etc}/nap.service\".\n"
        )
    );
    assert_eq!(m.expect(&["is-enabled", "sleeper"], 1).stdout, "disabled\n");
    assert!(!Path::new(&etc).join("multi-user.target.wants").exists());

    let o = m.expect(&["enable", "nope"], 1);
    assert_eq!(
        o.stderr,
        "Failed to enable unit: Unit file nope.service does not exist.\n"
    );
    // --now starts what it enables.
    m.expect(&["enable", "--now", "sleeper"], 0);
    assert_eq!(m.expect(&["is-active", "sleeper"], 0).stdout, "active\n");
}

#[test]
fn mask_and_unmask() {
    let m = Manager::start(&[("sleeper.service", SLEEPER)]);
    let etc = m.dir("etc");
    let o = m.expect(&["mask", "sleeper"], 0);
    assert_eq!(
        o.stderr,
        format!("Created symlink {etc}/sleeper.service → /dev/null.\n")
    );
    assert_eq!(m.expect(&["is-enabled", "sleeper"], 1).stdout, "masked\n");
    assert_eq!(m.property("sleeper", "LoadState"), "masked");
    let o = m.sctl(&["start", "sleeper"]);
    assert_ne!(o.code, 0, "a masked unit does not start: {o:?}");
    assert!(o.stderr.contains("masked"), "{}", o.stderr);

    let o = m.expect(&["unmask", "sleeper"], 0);
    assert_eq!(o.stderr, format!("Removed \"{etc}/sleeper.service\".\n"));
    assert_eq!(m.expect(&["is-enabled", "sleeper"], 1).stdout, "disabled\n");
    m.expect(&["start", "sleeper"], 0);
    assert_eq!(m.expect(&["unmask", "sleeper"], 0).stderr, "");

    // A real unit file in the configuration directory is never replaced by a mask.
    std::fs::write(
        Path::new(&etc).join("local.service"),
        "[Service]\nExecStart=/bin/true\n",
    )
    .unwrap();
    let o = m.expect(&["mask", "local"], 1);
    assert_eq!(
        o.stderr,
        format!("Failed to mask unit: File {etc}/local.service already exists.\n")
    );
}

#[test]
fn set_default_and_get_default() {
    let m = Manager::start(&[]);
    let (etc, units) = (m.dir("etc"), m.dir("units"));
    let o = m.expect(&["get-default"], 1);
    assert_eq!(
        o.stderr,
        "Failed to get default target: Unit file default.target does not exist.\n"
    );
    let o = m.expect(&["set-default", "multi-user"], 0);
    assert_eq!(
        o.stderr,
        format!("Created symlink {etc}/default.target → {units}/multi-user.target.\n")
    );
    assert_eq!(m.expect(&["get-default"], 0).stdout, "multi-user.target\n");
    let o = m.expect(&["set-default", "basic.target"], 0);
    assert_eq!(
        o.stderr,
        format!(
            "Removed \"{etc}/default.target\".\n\
             Created symlink {etc}/default.target → {units}/basic.target.\n"
        )
    );
    assert_eq!(m.expect(&["get-default"], 0).stdout, "basic.target\n");
    let o = m.expect(&["set-default", "nope.target"], 1);
    assert_eq!(
        o.stderr,
        "Failed to set default target: Unit file nope.target does not exist.\n"
    );
}

#[test]
fn list_jobs_and_cancel() {
    let m = Manager::start(&[("slow.service", SLOW)]);
    assert_eq!(m.expect(&["list-jobs"], 0).stdout, "No jobs running.\n");
    m.expect(&["start", "--no-block", "slow"], 0);
    let jobs = m.expect(&["list-jobs", "--no-legend"], 0).stdout;
    let row: Vec<&str> = jobs
        .lines()
        .find(|l| l.contains("slow.service"))
        .unwrap_or_else(|| panic!("{jobs}"))
        .split_whitespace()
        .collect();
    assert_eq!(&row[1..], ["slow.service", "start", "running"], "{jobs}");
    assert_eq!(m.expect(&["is-active", "slow"], 3).stdout, "activating\n");
    m.expect(&["cancel", row[0]], 0);
    m.wait_for("the cancelled job is gone", || {
        !m.sctl(&["list-jobs"]).stdout.contains("slow.service")
    });
    assert_eq!(m.expect(&["list-jobs"], 0).stdout, "No jobs running.\n");
    let o = m.expect(&["cancel", "999999"], 1);
    assert!(o.stderr.contains("999999"), "{}", o.stderr);
}

#[test]
fn daemon_reload_picks_up_edited_files() {
    let m = Manager::start(&[("sleeper.service", SLEEPER)]);
    assert_eq!(m.property("sleeper", "Description"), "Sleeper");
    std::fs::write(
        Path::new(&m.dir("units")).join("sleeper.service"),
        SLEEPER.replace("Description=Sleeper", "Description=Renamed"),
    )
    .unwrap();
    assert_eq!(m.property("sleeper", "Description"), "Sleeper");
    m.expect(&["daemon-reload"], 0);
    assert_eq!(m.property("sleeper", "Description"), "Renamed");
}

/// The host name `sctl status` shows, as the kernel has it.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

/// The unit names of a `list-units --no-legend` table (the `●` marker column left out).
fn listed(table: &str) -> Vec<String> {
    table
        .lines()
        .filter_map(|l| l.split_whitespace().find(|w| *w != "●"))
        .map(str::to_string)
        .collect()
}

#[test]
fn reload_and_the_conditional_restarts() {
    let m = Manager::start(&[("rel.service", RELOADER), ("sleeper.service", SLEEPER)]);
    // A reload job of a unit that is not running ends `invalid`.
    let o = m.expect(&["reload", "rel"], 1);
    assert_eq!(o.stderr, "rel.service is not active, cannot reload.\n");
    // A unit without ExecReload= cannot take a reload job at all: exit 3, and no hint.
    m.expect(&["start", "sleeper"], 0);
    let o = m.expect(&["reload", "sleeper"], 3);
    assert_eq!(
        o.stderr,
        "Failed to reload sleeper.service: Job type reload is not applicable for unit sleeper.service.\n"
    );
    // The try- verbs leave a unit that is not running alone.
    m.expect(&["try-restart", "rel"], 0);
    m.expect(&["try-reload-or-restart", "rel"], 0);
    m.expect(&["condrestart", "rel"], 0);
    assert_eq!(m.expect(&["is-active", "rel"], 3).stdout, "inactive\n");

    m.expect(&["start", "rel"], 0);
    m.wait_for("the shell set its trap", || {
        m.sctl(&["logs", "rel"]).stdout.contains("ready")
    });
    let pid = m.property("rel", "MainPID");
    // reload runs ExecReload= and keeps the main process.
    m.expect(&["reload", "rel"], 0);
    m.wait_for("the service saw SIGHUP", || {
        m.sctl(&["logs", "rel"]).stdout.contains("reloaded")
    });
    assert_eq!(m.property("rel", "MainPID"), pid);
    // reload-or-restart and try-reload-or-restart reload what can reload ...
    m.expect(&["reload-or-restart", "rel"], 0);
    m.expect(&["try-reload-or-restart", "rel"], 0);
    assert_eq!(m.property("rel", "MainPID"), pid);
    // ... and restart what cannot.
    let sleeper_pid = m.property("sleeper", "MainPID");
    m.expect(&["reload-or-restart", "sleeper"], 0);
    let restarted = m.property("sleeper", "MainPID");
    assert_ne!(restarted, sleeper_pid);
    m.expect(&["try-reload-or-restart", "sleeper"], 0);
    assert_ne!(m.property("sleeper", "MainPID"), restarted);
    // try-restart restarts a running unit.
    m.expect(&["try-restart", "rel"], 0);
    assert_ne!(m.property("rel", "MainPID"), pid);
    assert_eq!(m.property("rel", "ActiveState"), "active");
}

#[test]
fn isolate_stops_what_the_target_does_not_pull_in() {
    let m = Manager::start(&[("sleeper.service", SLEEPER), ("rescue.target", RESCUE)]);
    m.expect(&["start", "sleeper"], 0);
    let o = m.expect(&["isolate", "multi-user"], 4);
    assert_eq!(
        o.stderr,
        "Failed to start multi-user.target: Operation refused, unit may not be isolated.\n\
         See system logs and 'sctl status multi-user.target' for details.\n"
    );
    assert_eq!(m.expect(&["is-active", "sleeper"], 0).stdout, "active\n");
    // `isolate rescue` completes the name as a target. Like systemctl, it waits for the
    // target's job; the stop of what the target does not pull in is not ordered against
    // it and may still be under way.
    m.expect(&["isolate", "rescue"], 0);
    m.wait_for("the sleeper stopped", || {
        m.sctl(&["is-active", "sleeper"]).stdout == "inactive\n"
    });
    assert_eq!(
        m.expect(&["is-active", "rescue.target", "sleeper"], 0)
            .stdout,
        "active\ninactive\n"
    );
    let o = m.expect(&["isolate", "nope"], 5);
    assert_eq!(
        o.stderr,
        "Failed to start nope.target: Unit nope.target not found.\n"
    );
}

#[test]
fn refused_jobs_exit_as_systemctl() {
    let refusing = "[Unit]\nRefuseManualStart=yes\n[Service]\nExecStart=/bin/sleep 1000\n";
    let m = Manager::start(&[("sleeper.service", SLEEPER), ("manual.service", refusing)]);
    let o = m.expect(&["start", "manual"], 4);
    assert_eq!(
        o.stderr,
        "Failed to start manual.service: Operation refused, unit manual.service may be requested by dependency only (it is configured to refuse manual start/stop).\n\
         See system logs and 'sctl status manual.service' for details.\n"
    );
    let o = m.expect(&["stop", "nope"], 5);
    assert_eq!(
        o.stderr,
        "Failed to stop nope.service: Unit nope.service not loaded.\n"
    );
    let o = m.expect(&["restart", "nope"], 5);
    assert_eq!(
        o.stderr,
        "Failed to restart nope.service: Unit nope.service not found.\n"
    );
    m.expect(&["mask", "sleeper"], 0);
    let o = m.expect(&["start", "sleeper"], 1);
    assert_eq!(
        o.stderr,
        "Failed to start sleeper.service: Unit sleeper.service is masked.\n"
    );
    let o = m.expect(&["start", "--job-mode=bogus", "sleeper"], 1);
    assert_eq!(o.stderr, "Unknown job mode: bogus\n");
}

#[test]
fn kill_picks_whom_and_signal() {
    let m = Manager::start(&[("rel.service", RELOADER)]);
    let o = m.expect(&["kill", "-s", "BOGUS", "rel"], 1);
    assert_eq!(o.stderr, "Failed to parse signal string BOGUS.\n");
    let o = m.expect(&["kill", "--kill-whom=nobody", "rel"], 1);
    assert_eq!(o.stderr, "Unknown kill whom: nobody\n");
    let o = m.expect(&["kill", "rel"], 1);
    assert_eq!(
        o.stderr,
        "Failed to kill unit rel.service: No process of rel.service to kill.\n"
    );
    m.expect(&["start", "rel"], 0);
    m.wait_for("the shell set its trap", || {
        m.sctl(&["logs", "rel"]).stdout.contains("ready")
    });
    // SIGHUP to the main process only: the shell's trap answers, the service keeps running.
    m.expect(&["kill", "--kill-whom=main", "--signal=SIGHUP", "rel"], 0);
    m.wait_for("the trap ran", || {
        m.sctl(&["logs", "rel"]).stdout.contains("reloaded")
    });
    assert_eq!(m.property("rel", "ActiveState"), "active");
    let o = m.expect(&["kill", "--kill-whom=control", "rel"], 1);
    assert!(
        o.stderr.starts_with("Failed to kill unit rel.service: "),
        "{}",
        o.stderr
    );
    m.expect(&["kill", "-s", "TERM", "rel"], 0);
    m.wait_for("the service ends on SIGTERM", || {
        m.sctl(&["is-active", "rel"]).code != 0
    });
}

#[test]
fn status_without_a_unit_is_the_overview() {
    let m = Manager::start(&[("sleeper.service", SLEEPER), ("fail.service", FAILING)]);
    m.expect(&["start", "sleeper"], 0);
    let mut o = m.expect(&["status"], 0).stdout;
    // The service's process may still carry the manager's name for a moment after fork.
    for _ in 0..100 {
        if o.contains(" /bin/sleep 1000\n") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        o = m.expect(&["status"], 0).stdout;
    }
    let lines: Vec<&str> = o.lines().collect();
    assert_eq!(lines[0], format!("● {}", hostname()), "{o}");
    assert_eq!(lines[1], "    State: running", "{o}");
    assert!(
        lines[2].starts_with("    Units: ") && lines[2].ends_with(" loaded (incl. loaded aliases)"),
        "{o}"
    );
    assert_eq!(lines[3], "     Jobs: 0 queued", "{o}");
    assert_eq!(lines[4], "   Failed: 0 units", "{o}");
    assert!(
        lines[5].starts_with("    Since: ") && lines[5].contains(" UTC; "),
        "{o}"
    );
    assert!(lines[6].starts_with("sysmaster: "), "{o}");
    assert!(lines[7].starts_with("   CGroup: /"), "{o}");
    let pid = m.property("sleeper", "MainPID");
    let tree = lines[8..].join("\n");
    assert!(
        tree.contains("└─system.slice\n")
            && tree.contains("└─sleeper.service\n")
            && tree.contains(&format!("└─{pid} /bin/sleep 1000")),
        "{o}"
    );

    m.expect(&["start", "fail"], 1);
    let o = m.expect(&["status"], 0).stdout;
    assert!(o.contains("\n    State: degraded\n"), "{o}");
    assert!(o.contains("\n   Failed: 1 units\n"), "{o}");
}

#[test]
fn show_selects_formats_and_prints_empty_properties_on_request() {
    let m = Manager::start(&[("sleeper.service", SLEEPER)]);
    m.expect(&["start", "sleeper"], 0);
    let pid = m.property("sleeper", "MainPID");
    // -p A,B and -p C combine; systemd's order, not the order asked for.
    let o = m.expect(
        &[
            "show",
            "sleeper",
            "-p",
            "SubState,MainPID",
            "-p",
            "Id",
            "-p",
            "NoSuchProperty",
        ],
        0,
    );
    assert_eq!(
        o.stdout,
        format!("MainPID={pid}\nId=sleeper.service\nSubState=running\n")
    );
    let o = m.expect(&["show", "sleeper", "-p", "Id,ActiveState", "--value"], 0);
    assert_eq!(o.stdout, "sleeper.service\nactive\n");
    // ExecStart= as systemctl prints it, the main process's pid in it.
    assert_eq!(
        m.property("sleeper", "ExecStart"),
        format!(
            "{{ path=/bin/sleep ; argv[]=/bin/sleep 1000 ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid={pid} ; code=(null) ; status=0/0 }}"
        )
    );
    for (name, want) in [
        ("TimeoutStartUSec", "1min 30s"),
        ("RestartUSec", "100ms"),
        ("KillMode", "control-group"),
        ("KillSignal", "15"),
        ("SendSIGKILL", "yes"),
        ("Slice", "system.slice"),
        ("UMask", "0022"),
        ("CanStart", "yes"),
        ("CanReload", "no"),
        ("UID", "[not set]"),
        ("ActiveExitTimestampMonotonic", "0"),
        ("LoadError", ""),
    ] {
        assert_eq!(m.property("sleeper", name), want, "{name}");
    }
    let cgroup = m.property("sleeper", "ControlGroup");
    assert!(
        cgroup.starts_with('/') && cgroup.ends_with("/system.slice/sleeper.service"),
        "{cgroup}"
    );
    let mono: u64 = m
        .property("sleeper", "ActiveEnterTimestampMonotonic")
        .parse()
        .unwrap();
    assert!(mono > 0);
    // Without -p and --all, empty values are left out; --all shows them.
    let plain = m.expect(&["show", "sleeper"], 0).stdout;
    assert!(!plain.contains("\nActiveExitTimestamp=\n"), "{plain}");
    assert!(
        plain.contains("\nActiveExitTimestampMonotonic=0\n"),
        "{plain}"
    );
    let all = m.expect(&["show", "--all", "sleeper"], 0).stdout;
    for line in [
        "\nActiveExitTimestamp=\n",
        "\nStatusText=\n",
        "\nWantedBy=\n",
        "\nJob=\n",
    ] {
        assert!(all.contains(line), "{line:?} in\n{all}");
    }
    // Several units: blocks separated by an empty line.
    let o = m.expect(&["show", "-p", "Id", "sleeper", "multi-user.target"], 0);
    assert_eq!(o.stdout, "Id=sleeper.service\n\nId=multi-user.target\n");
    // A unit that does not exist is shown, with its load error.
    let o = m.expect(&["show", "-p", "LoadState,LoadError", "nope"], 0);
    assert_eq!(
        o.stdout,
        "LoadState=not-found\nLoadError=org.freedesktop.systemd1.NoSuchUnit \"Unit nope.service not found.\"\n"
    );
    // The manager's own properties.
    assert_eq!(
        m.expect(&["show", "-p", "NJobs,SystemState", "--value"], 0)
            .stdout,
        "0\nrunning\n"
    );
    // A target has only the unit part.
    let target = m.expect(&["show", "multi-user.target"], 0).stdout;
    assert!(target.starts_with("Id=multi-user.target\n"), "{target}");
}

#[test]
fn cat_prints_the_files_from_disk() {
    let m = Manager::start(&[("sleeper.service", SLEEPER)]);
    let (etc, units) = (m.dir("etc"), m.dir("units"));
    let path_args = ["--unit-path", &etc, "--unit-path", &units];
    let o = m.expect(&[&path_args[..], &["cat", "sleeper"]].concat(), 0);
    assert_eq!(o.stdout, format!("# {units}/sleeper.service\n{SLEEPER}"));
    let o = m.expect(&[&path_args[..], &["cat", "nope"]].concat(), 1);
    assert_eq!(o.stderr, "No files found for nope.service.\n");
}

#[test]
fn list_units_filters_by_all_state_type_and_pattern() {
    let m = Manager::start(&[("sleeper.service", SLEEPER), ("fail.service", FAILING)]);
    m.expect(&["start", "sleeper"], 0);
    m.expect(&["start", "fail"], 1);
    // By default: what is active or failed, not what is inactive.
    let default = listed(&m.expect(&["list-units", "--no-legend"], 0).stdout);
    assert!(
        default.contains(&"sleeper.service".to_string()),
        "{default:?}"
    );
    assert!(default.contains(&"fail.service".to_string()), "{default:?}");
    assert!(
        !default.contains(&"basic.target".to_string()),
        "{default:?}"
    );
    let all = listed(&m.expect(&["list-units", "--all", "--no-legend"], 0).stdout);
    assert!(all.contains(&"basic.target".to_string()), "{all:?}");
    let inactive = listed(
        &m.expect(&["list-units", "--state=inactive", "--no-legend"], 0)
            .stdout,
    );
    assert!(
        inactive.contains(&"basic.target".to_string()),
        "{inactive:?}"
    );
    assert!(
        !inactive.contains(&"sleeper.service".to_string()),
        "{inactive:?}"
    );
    let failed = listed(
        &m.expect(&["list-units", "--failed", "--no-legend"], 0)
            .stdout,
    );
    assert_eq!(failed, ["fail.service"]);
    let targets = listed(
        &m.expect(&["list-units", "--all", "--type=target", "--no-legend"], 0)
            .stdout,
    );
    assert!(
        !targets.is_empty() && targets.iter().all(|n| n.ends_with(".target")),
        "{targets:?}"
    );
    let pattern = listed(
        &m.expect(&["list-units", "--all", "--no-legend", "s*"], 0)
            .stdout,
    );
    assert!(
        !pattern.is_empty() && pattern.iter().all(|n| n.starts_with('s')),
        "{pattern:?}"
    );
    // The legend: the marker, the columns, the count and the hint about --all.
    let table = m.expect(&["list-units", "--failed"], 0).stdout;
    assert!(
        table.starts_with("  UNIT         LOAD   ACTIVE SUB    DESCRIPTION\n● fail.service loaded failed failed Fails\n"),
        "{table}"
    );
    assert!(table.ends_with("\n1 loaded units listed.\n"), "{table}");
    let table = m.expect(&["list-units"], 0).stdout;
    assert!(
        table.ends_with(
            " loaded units listed. Pass --all to see loaded but inactive units, too.\n\
             To show all installed unit files use 'sctl list-unit-files'.\n"
        ),
        "{table}"
    );
    // reset-failed without a unit forgets every failure.
    m.expect(&["reset-failed"], 0);
    assert_eq!(
        m.expect(&["list-units", "--failed", "--no-legend"], 0)
            .stdout,
        ""
    );
}

#[test]
fn cancel_without_a_job_cancels_all_and_no_block_returns_at_once() {
    let m = Manager::start(&[("slow.service", SLOW), ("sleeper.service", SLEEPER)]);
    // The first run may build sctl; time only the verb.
    assert_eq!(m.expect(&["list-jobs"], 0).stdout, "No jobs running.\n");
    let started = Instant::now();
    m.expect(&["start", "--no-block", "slow"], 0);
    assert!(started.elapsed() < Duration::from_secs(10));
    let jobs = m.expect(&["list-jobs", "--no-legend"], 0).stdout;
    assert!(jobs.contains("slow.service start running"), "{jobs}");
    let o = m.expect(&["list-jobs"], 0).stdout;
    assert!(o.starts_with("JOB UNIT         TYPE  STATE\n"), "{o}");
    assert!(o.ends_with("\n1 jobs listed.\n"), "{o}");
    m.expect(&["cancel"], 0);
    m.wait_for("every job is gone", || {
        m.sctl(&["list-jobs"]).stdout == "No jobs running.\n"
    });
    let o = m.expect(&["cancel", "x"], 1);
    assert_eq!(o.stderr, "Failed to parse job id \"x\": Invalid argument\n");
    // --no-block on stop: sctl returns, the unit stops on its own.
    m.expect(&["start", "sleeper"], 0);
    m.expect(&["stop", "--no-block", "sleeper"], 0);
    m.wait_for("sleeper stops", || {
        m.sctl(&["is-active", "sleeper"]).stdout == "inactive\n"
    });
}
