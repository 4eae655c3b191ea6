//! Spawning real processes: every set-up step, its failure exit code, and that nothing of
//! the parent leaks into the child. Needs root for the credential cases, as the test
//! command runs.

// Test helpers fail the test by panicking; the no-panic rule is for shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Setting up pipes and dispositions for the test is itself raw syscalls; `sys` may.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use sys::process::{wait_for, Exit};
use sys::spawn::{spawn, Credentials, Plan, SpawnFailure, Step};

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn sh(script: &str) -> Plan {
    Plan {
        path: c("/bin/sh"),
        argv: vec![c("sh"), c("-c"), c(script)],
        env: vec![c("PATH=/usr/bin:/bin")],
        ..Plan::default()
    }
}

fn pipe() -> (File, OwnedFd) {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    unsafe { (File::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Runs the plan with stdout captured; returns (exec result, exit, output).
fn run(mut plan: Plan) -> (Result<u32, SpawnFailure>, Exit, String) {
    let (mut out, w) = pipe();
    plan.stdio[1] = Some(w);
    let child = spawn(&plan).unwrap();
    drop(plan);
    let pid = child.pid;
    let exec = child.wait_exec();
    let exit = wait_for(pid).unwrap();
    let mut text = String::new();
    out.read_to_string(&mut text).unwrap();
    (exec, exit, text)
}

#[test]
fn runs_a_program_with_its_environment() {
    let mut plan = sh("echo \"$GREETING\"; exit 7");
    plan.env.push(c("GREETING=hello world"));
    let (exec, exit, out) = run(plan);
    assert!(exec.is_ok());
    assert_eq!(exit, Exit::Exited(7));
    assert_eq!(out, "hello world\n");
}

#[test]
fn exec_failure_is_reported_with_code_203() {
    let plan = Plan {
        path: c("/nonexistent/program"),
        argv: vec![c("program")],
        ..Plan::default()
    };
    let (exec, exit, _) = run(plan);
    assert_eq!(
        exec,
        Err(SpawnFailure {
            step: Step::Exec,
            errno: libc::ENOENT
        })
    );
    assert_eq!(exit, Exit::Exited(203));
}

#[test]
fn working_directory() {
    let mut plan = sh("pwd");
    plan.cwd = Some((c("/usr"), false));
    assert_eq!(run(plan).2, "/usr\n");

    let mut plan = sh("pwd");
    plan.cwd = Some((c("/nonexistent"), false));
    let (exec, exit, _) = run(plan);
    assert_eq!(exec.unwrap_err().step, Step::Chdir);
    assert_eq!(exit, Exit::Exited(200));

    // `WorkingDirectory=-/nonexistent`: a missing directory is not fatal.
    let mut plan = sh("true");
    plan.cwd = Some((c("/nonexistent"), true));
    let (exec, exit, _) = run(plan);
    assert!(exec.is_ok());
    assert_eq!(exit, Exit::Exited(0));
}

#[test]
fn only_the_planned_fds_reach_the_child() {
    // A descriptor of the parent without CLOEXEC must not leak either.
    let leaked = unsafe { libc::open(c("/etc/hostname").as_ptr(), libc::O_RDONLY) };
    assert!(leaked >= 0);
    let (_keep_r, keep_w) = pipe();
    // No pipeline: the shell's own pipes would show up among its descriptors.
    let mut plan = sh("ls /proc/$$/fd");
    plan.fds = vec![keep_w];
    let (exec, _, out) = run(plan);
    unsafe { libc::close(leaked) };
    assert!(exec.is_ok());
    let mut fds: Vec<u32> = out.lines().map(|l| l.parse().unwrap()).collect();
    fds.sort();
    assert_eq!(fds, vec![0, 1, 2, 3]);
}

#[test]
fn limits_umask_nice_and_oom_score() {
    let mut plan = sh("ulimit -n; umask; cat /proc/self/oom_score_adj; nice");
    plan.rlimits = vec![(libc::RLIMIT_NOFILE as i32, 1234, 1234)];
    plan.umask = Some(0o027);
    plan.oom_score_adjust = Some(500);
    plan.nice = Some(5);
    let (exec, exit, out) = run(plan);
    assert!(exec.is_ok(), "{exec:?}");
    assert_eq!(exit, Exit::Exited(0));
    assert_eq!(out, "1234\n0027\n500\n5\n");
}

/// `CPUSchedulingPolicy=batch`: field 41 of /proc/PID/stat is the policy (3 = SCHED_BATCH).
/// musl's sched_setscheduler(3) wrapper only answers ENOSYS: the child makes the raw call.
#[test]
fn scheduling_policy() {
    let mut plan = sh("read -r s < /proc/self/stat; s=${s##*) }; set -- $s; echo ${39}");
    plan.sched = Some((libc::SCHED_BATCH, 0, false));
    let (exec, exit, out) = run(plan);
    assert!(exec.is_ok(), "{exec:?}");
    assert_eq!(exit, Exit::Exited(0));
    assert_eq!(out, "3\n");
}

#[test]
fn user_and_group() {
    if unsafe { libc::geteuid() } != 0 {
        panic!("this test needs root (cargo xtask test runs as root)");
    }
    let mut plan = sh("id -u; id -g; id -G");
    plan.credentials = Some(Credentials {
        uid: 65534,
        gid: 65534,
        groups: vec![65534, 100],
    });
    let (exec, exit, out) = run(plan);
    assert!(exec.is_ok());
    assert_eq!(exit, Exit::Exited(0));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "65534");
    assert_eq!(lines[1], "65534");
    let mut groups: Vec<&str> = lines[2].split(' ').collect();
    groups.sort();
    assert_eq!(groups, vec!["100", "65534"]);
}

#[test]
fn a_new_session_and_default_signals() {
    let mut plan = sh("ps -o sid= -p $$ | tr -d ' '; echo $$; grep SigIgn /proc/self/status");
    plan.setsid = true;
    unsafe { libc::signal(libc::SIGUSR2, libc::SIG_IGN) };
    let (exec, _, out) = run(plan);
    unsafe { libc::signal(libc::SIGUSR2, libc::SIG_DFL) };
    assert!(exec.is_ok());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], lines[1], "the child leads its own session");
    assert_eq!(
        lines[2], "SigIgn:\t0000000000000000",
        "no signal stays ignored"
    );
}

#[test]
fn a_terminal_becomes_the_controlling_tty() {
    let (mut master, mut slave) = (0, 0);
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(r, 0);
    let master = unsafe { File::from_raw_fd(master) };
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    let mut plan = sh("tty; ps -o tty= -p $$; stty -a | grep -o ' icanon'");
    plan.stdio[0] = Some(slave);
    plan.setsid = true;
    plan.controlling_tty = Some(false);
    plan.tty_reset = true;
    let (exec, exit, out) = run(plan);
    drop(master);
    assert!(exec.is_ok());
    assert_eq!(exit, Exit::Exited(0));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("/dev/pts/"), "{out}");
    assert_eq!(format!("/dev/{}", lines[1].trim()), lines[0], "{out}");
    assert_eq!(lines[2], " icanon");
}

/// A gated child runs nothing until it is released; one whose parent lets go of it
/// unreleased (as when the parent dies) exits with GATE_EXIT without running anything.
#[test]
fn a_gated_child_waits_for_its_release() {
    let mark = std::env::temp_dir().join(format!("sys-gate-test-{}", std::process::id()));
    let _ = std::fs::remove_file(&mark);
    let script = format!("touch {}", mark.display());

    let mut plan = sh(&script);
    plan.gate = true;
    let mut child = spawn(&plan).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!mark.exists(), "the gated child ran before its release");
    child.release();
    let pid = child.pid;
    assert!(child.wait_exec().is_ok());
    assert_eq!(wait_for(pid).unwrap(), Exit::Exited(0));
    assert!(mark.exists());

    std::fs::remove_file(&mark).unwrap();
    let mut plan = sh(&script);
    plan.gate = true;
    let child = spawn(&plan).unwrap();
    let pid = child.pid;
    drop(child);
    assert_eq!(wait_for(pid).unwrap(), Exit::Exited(sys::spawn::GATE_EXIT));
    assert!(!mark.exists(), "an unreleased child ran");
}
