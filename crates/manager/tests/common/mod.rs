//! A real `sysmaster` process for integration tests: its own temporary unit directories
//! and runtime directory (so tests run in parallel), its log in a file, and SIGTERM (then
//! SIGKILL) when the test is done.

// Each test crate uses a different part of this module.
#![allow(dead_code)]

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Targets every service's default dependencies name, and the usual boot target.
pub const BASE_UNITS: &[(&str, &str)] = &[
    (
        "sysinit.target",
        "[Unit]\nDescription=System Initialization\n",
    ),
    ("basic.target", "[Unit]\nDescription=Basic System\n"),
    (
        "shutdown.target",
        "[Unit]\nDescription=System Shutdown\nDefaultDependencies=no\n",
    ),
    (
        "multi-user.target",
        "[Unit]\nDescription=Multi-User System\n",
    ),
];

pub struct Process {
    pub child: Child,
    pub dir: tempfile::TempDir,
    unit_dirs: Vec<String>,
}

impl Process {
    /// Starts a manager whose search path is `unit_dirs` (directories below the test
    /// directory, highest priority first); [`BASE_UNITS`] and `files` go into the last one,
    /// with `@DIR@` replaced by the test directory. Returns once the control socket answers.
    pub fn start(unit_dirs: &[&str], files: &[(&str, &str)]) -> Process {
        let dir = tempfile::tempdir().unwrap();
        for d in unit_dirs {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let units = dir.path().join(unit_dirs.last().unwrap());
        for (name, text) in BASE_UNITS.iter().chain(files) {
            let text = text.replace("@DIR@", dir.path().to_str().unwrap());
            std::fs::write(units.join(name), text).unwrap();
        }
        let unit_dirs: Vec<String> = unit_dirs.iter().map(|d| d.to_string()).collect();
        let child = Process::spawn(&dir, &unit_dirs);
        let p = Process {
            child,
            dir,
            unit_dirs,
        };
        p.wait_for_socket();
        p
    }

    fn spawn(dir: &tempfile::TempDir, unit_dirs: &[String]) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sysmaster"));
        for d in unit_dirs {
            command.arg("--unit-path").arg(dir.path().join(d));
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("manager.log"))
            .unwrap();
        command
            .arg("--runtime-dir")
            .arg(dir.path().join("run"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    fn wait_for_socket(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(self.control()).is_err() {
            assert!(
                Instant::now() < deadline,
                "no control socket\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILLs the manager and starts a new one on the same directories, as PID 1 would;
    /// returns once the new one answers.
    pub fn crash_and_restart(&mut self) {
        sys::process::kill(self.pid(), 9).unwrap();
        self.child.wait().unwrap();
        let _ = std::fs::remove_file(self.control());
        self.child = Process::spawn(&self.dir, &self.unit_dirs);
        self.wait_for_socket();
    }

    pub fn runtime(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    pub fn control(&self) -> PathBuf {
        self.runtime().join("control")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("manager.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, and the exit status once the manager is gone.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        sys::process::kill(self.pid(), 15).unwrap();
        self.wait_exit()
    }

    /// The exit status once the manager is gone (at most 15 s).
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "manager did not exit\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = sys::process::kill(self.pid(), 15);
            let deadline = Instant::now() + Duration::from_secs(10);
            while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
