//! End-to-end tests: the real `sysmaster` binary driven by the real `sctl` binary, the way a
//! user runs them, checking exit statuses and the lines systemctl would print. Each test runs
//! its own manager on a temporary runtime directory and the search path `etc` + `units`:
//! `etc` comes first, so it is where `enable`, `mask` and `set-default` write (the manager's
//! configuration directory is the first `--unit-path` directory).
//!
//! `sctl` belongs to another package, so cargo does not build it for these tests: the test
//! looks for it next to this test's executable (`target/<profile>/sctl`) and fails with a
//! message when it is missing. `cargo xtask test` builds every binary before the tests run.
//! They need root (cgroups, and `SO_PEERCRED` uid 0 for calls that change state).

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

/// The `sctl` binary of the same build as this test.
fn sctl_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/sctl_e2e-<hash> → target/<profile>/sctl
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let sctl = profile_dir.join("sctl");
    assert!(
        sctl.is_file(),
        "{} is missing: build it first (`cargo build -p sctl`, or run `cargo xtask test`, \
         which builds every binary before testing)",
        sctl.display()
    );
    sctl
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
