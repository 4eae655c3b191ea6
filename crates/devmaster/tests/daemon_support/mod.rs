//! A real `devmaster` daemon for integration tests: run as root in its own mount and
//! network namespace (`unshare --mount --net`), so that its netlink broadcasts stay in
//! the test and, with `Setup::udev_run`, a private tmpfs on /run/udev lets Debian's
//! unmodified `udevadm` (which only knows /run/udev/control) talk to it. Uevents come
//! from the test through `--events-from`, never from the host's kernel. Its standard
//! error (daemon and workers, `--debug`) goes to a log file the tests read.

// Each test crate uses a different part of this module.
#![allow(dead_code)]

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// How long any wait may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct Setup {
    /// Extra daemon options.
    pub args: Vec<String>,
    /// Rules files (name, text) in the only rules directory.
    pub rules: Vec<(String, String)>,
    /// Mount a tmpfs on /run/udev in the namespace and use the default run directory.
    pub udev_run: bool,
    /// Extra environment of the daemon.
    pub env: Vec<(String, String)>,
    /// Character device nodes (path below the dev directory, mode) made before the start.
    pub char_nodes: Vec<(String, u32)>,
}

pub struct Daemon {
    pub child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub events: PathBuf,
    pub log: PathBuf,
    /// The run directory as this process sees it.
    pub run: PathBuf,
    pub sys: PathBuf,
    pub dev: PathBuf,
    pub rules: PathBuf,
    pub pid: u32,
}

/// Whether the tools the tests need are here (root, unshare, nsenter).
pub fn usable() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    let have = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    if !(root && have("unshare") && have("nsenter")) {
        eprintln!("skipped: needs root, unshare and nsenter");
        return false;
    }
    true
}

impl Daemon {
    pub fn start(setup: Setup) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let (sys, dev, rules) = (p.join("sys"), p.join("dev"), p.join("rules"));
        for d in [&sys, &dev, &rules, &p.join("run")] {
            std::fs::create_dir_all(d).unwrap();
        }
        for (node, mode) in &setup.char_nodes {
            let path = dev.join(node);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            // The numbers of /dev/null: a node that exists on every machine.
            let st = Command::new("mknod")
                .args([
                    "-m",
                    &format!("{mode:o}"),
                    path.to_str().unwrap(),
                    "c",
                    "1",
                    "3",
                ])
                .status()
                .unwrap();
            assert!(st.success(), "mknod {}", path.display());
        }
        for (name, text) in &setup.rules {
            std::fs::write(rules.join(name), text.replace("@DIR@", p.to_str().unwrap())).unwrap();
        }
        let events = p.join("events");
        let log = p.join("log");
        let bin = env!("CARGO_BIN_EXE_devmaster");
        let mut args: Vec<String> = vec![
            "--debug".into(),
            format!("--sys-dir={}", sys.display()),
            format!("--dev-dir={}", dev.display()),
            format!("--rules-dir={}", rules.display()),
            format!("--events-from={}", events.display()),
        ];
        if !setup.udev_run {
            args.push(format!("--run-dir={}", p.join("run").display()));
        }
        args.extend(setup.args.iter().cloned());
        let script = if setup.udev_run {
            "mkdir -p /run/udev && mount -t tmpfs tmpfs /run/udev && exec \"$@\""
        } else {
            "exec \"$@\""
        };
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--net", "--", "sh", "-c", script, "sh", bin])
            .args(&args)
            .stdin(Stdio::null());
        // Standard output and error append to the same file.
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        cmd.stdout(out.try_clone().unwrap()).stderr(out);
        for (k, v) in &setup.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let pid = child.id();
        let run = if setup.udev_run {
            PathBuf::from(format!("/proc/{pid}/root/run/udev"))
        } else {
            p.join("run")
        };
        let d = Daemon {
            child: Some(child),
            events,
            log,
            run,
            sys,
            dev,
            rules,
            pid,
            dir,
        };
        d.wait_for(
            || d.events.exists() && d.run.join("control").exists(),
            "the daemon's sockets",
        );
        d
    }

    /// Polls `ready` every 20 ms until it holds; fails the test after [`DEADLINE`].
    pub fn wait_for(&self, ready: impl Fn() -> bool, what: &str) {
        let start = Instant::now();
        while !ready() {
            if start.elapsed() > DEADLINE {
                panic!(
                    "timed out waiting for {what}\n--- log ---\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log has a line containing `needle`; returns the log.
    pub fn wait_log(&self, needle: &str) -> String {
        self.wait_for(|| self.log_text().contains(needle), needle);
        self.log_text()
    }

    /// Sends a uevent in the kernel's format with the given properties (ACTION, DEVPATH,
    /// SUBSYSTEM=test and SEQNUM are filled in unless given).
    pub fn send(&self, seqnum: u64, devpath: &str, props: &[(&str, &str)]) {
        let mut all: Vec<(String, String)> = vec![
            ("ACTION".into(), "add".into()),
            ("DEVPATH".into(), devpath.into()),
            ("SUBSYSTEM".into(), "test".into()),
            ("SEQNUM".into(), seqnum.to_string()),
        ];
        for (k, v) in props {
            all.retain(|(key, _)| key != k);
            all.push((k.to_string(), v.to_string()));
        }
        let action = all.iter().find(|(k, _)| k == "ACTION").unwrap().1.clone();
        let mut msg = format!("{action}@{devpath}\0").into_bytes();
        for (k, v) in all {
            msg.extend_from_slice(format!("{k}={v}\0").as_bytes());
        }
        UnixDatagram::unbound()
            .unwrap()
            .send_to(&msg, &self.events)
            .unwrap();
    }

    /// Creates a fake sysfs device directory with an `uevent` file and a subsystem link.
    pub fn add_device(&self, devpath: &str, subsystem: &str, uevent: &str) {
        let d = self.sys.join(devpath.trim_start_matches('/'));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("uevent"), uevent).unwrap();
        let class = self.sys.join("class").join(subsystem);
        std::fs::create_dir_all(&class).unwrap();
        let _ = std::os::unix::fs::symlink(&class, d.join("subsystem"));
    }

    /// Runs Debian's `udevadm` in the daemon's mount namespace.
    pub fn udevadm(&self, args: &[&str]) -> Output {
        Command::new("nsenter")
            .args(["-t", &self.pid.to_string(), "-m", "udevadm"])
            .args(args)
            .output()
            .unwrap()
    }

    /// Starts Debian's `udevadm monitor ARGS` in the daemon's network namespace and
    /// returns once it listens; its standard output arrives line by line on the channel.
    pub fn monitor(&self, args: &[&str]) -> Monitor {
        let mut child = Command::new("nsenter")
            .args(["-t", &self.pid.to_string(), "-n", "udevadm", "monitor"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let m = Monitor { child, rx };
        m.wait_line(|l| l.starts_with("UDEV - the event"));
        m
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([format!("-{sig}"), self.pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    /// Waits for the daemon to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            if start.elapsed() > DEADLINE {
                panic!("the daemon did not exit\n--- log ---\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The pids of the workers the daemon started, from its log.
    pub fn worker_pids(&self) -> Vec<u32> {
        self.log_text()
            .lines()
            .filter_map(|l| l.strip_prefix("devmaster: Worker ["))
            .filter_map(|l| l.strip_suffix("] started"))
            .filter_map(|p| p.parse().ok())
            .collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let Some(mut c) = self.child.take() else {
            return;
        };
        // Workers get SIGTERM when the daemon dies, but one made to hang never reads it:
        // take the daemon's children as they are now, and kill them after it.
        let children = children_of(self.pid);
        let _ = c.kill();
        let _ = c.wait();
        for pid in children {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

/// A running `udevadm monitor`.
pub struct Monitor {
    child: Child,
    rx: std::sync::mpsc::Receiver<String>,
}

impl Monitor {
    /// Reads lines until one satisfies `pred`; fails after [`DEADLINE`].
    pub fn wait_line(&self, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let left = DEADLINE.saturating_sub(start.elapsed());
            match self.rx.recv_timeout(left) {
                Ok(l) if pred(&l) => return l,
                Ok(_) => {}
                Err(e) => panic!("udevadm monitor: no such line ({e})"),
            }
        }
    }

    /// The next `--property` block (the lines after a `UDEV  [...]` header, up to an
    /// empty line) whose properties satisfy `pred`, as KEY=VALUE pairs.
    pub fn wait_block(&self, pred: impl Fn(&[(String, String)]) -> bool) -> Vec<(String, String)> {
        loop {
            self.wait_line(|l| l.starts_with("UDEV "));
            let mut block = Vec::new();
            loop {
                let l = self.wait_line(|_| true);
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once('=') {
                    block.push((k.to_string(), v.to_string()));
                }
            }
            if pred(&block) {
                return block;
            }
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The index of the first log line containing every one of `parts`.
pub fn line_of(log: &str, parts: &[&str]) -> Option<usize> {
    log.lines()
        .position(|l| parts.iter().all(|p| l.contains(p)))
}

/// Whether a process `pid` exists (a zombie included).
pub fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The current children of `pid`.
pub fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}
