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
            // A udev database of the test's own (empty unless the test writes one).
            .arg("--udev-dir")
            .arg(dir.path().join("udev"))
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
        manager::daemon::discard_instance_cgroup(&self.runtime());
    }
}

/// Newest modification time of any file below `dir`.
fn newest_below(dir: &std::path::Path) -> std::time::SystemTime {
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return newest;
    };
    for e in entries.flatten() {
        let p = e.path();
        let t = if p.is_dir() {
            newest_below(&p)
        } else {
            e.metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::SystemTime::UNIX_EPOCH)
        };
        newest = newest.max(t);
    }
    newest
}

/// A binary of another workspace package (`cargo test` builds only this package's): the
/// one in `target/<profile>/` when it is newer than the sources of `crates` (the package
/// and what it depends on), else one built for the tests into `target/e2e-<package>` (a
/// separate target directory, so that the outer cargo's lock is not waited for).
pub fn workspace_binary_of(package: &str, binary: &str, crates: &[&str]) -> PathBuf {
    use std::path::Path;
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test>-<hash> → target/<profile>
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let target_dir = profile_dir.parent().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let sources = crates
        .iter()
        .map(|c| newest_below(&root.join(c)))
        .max()
        .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
    let beside = profile_dir.join(binary);
    let modified = std::fs::metadata(&beside).and_then(|m| m.modified()).ok();
    if modified.is_some_and(|m| m >= sources) {
        return beside;
    }
    let own_target = target_dir.join(format!("e2e-{package}"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(&cargo);
    build
        .args(["build", "--quiet", "-p", package, "--bin", binary])
        .arg("--manifest-path")
        .arg(root.parent().unwrap().join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &own_target)
        .stdin(Stdio::null());
    if release {
        build.arg("--release");
    }
    let out = build.output().unwrap_or_else(|e| {
        panic!(
            "{} is missing or stale, and running cargo to build it failed: {e}",
            beside.display()
        )
    });
    assert!(
        out.status.success(),
        "{} is missing or stale, and `cargo build -p {package} --bin {binary}` \
         (CARGO_TARGET_DIR={}) failed:\n{}",
        beside.display(),
        own_target.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let built = own_target
        .join(if release { "release" } else { "debug" })
        .join(binary);
    assert!(built.is_file(), "cargo built no {}", built.display());
    built
}

/// [`workspace_binary_of`] for the binaries these tests run.
pub fn workspace_binary(binary: &str) -> PathBuf {
    static CACHE: std::sync::Mutex<Vec<(String, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap();
    if let Some((_, p)) = cache.iter().find(|(b, _)| b == binary) {
        return p.clone();
    }
    let path = match binary {
        "sysmaster-init" => workspace_binary_of("init", binary, &["init", "sys", "proto"]),
        "sctl" => workspace_binary_of("sctl", binary, &["sctl", "proto", "unitfile"]),
        other => panic!("unknown binary {other}"),
    };
    cache.push((binary.to_string(), path.clone()));
    path
}
