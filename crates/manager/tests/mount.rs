//! Mount units against the real kernel: the manager runs as root in a private mount
//! namespace (held by a `sleep` started with `unshare --mount --propagation private`, so
//! that a restarted manager finds the same mounts, and nothing reaches the host's
//! table). A tmpfs is mounted and unmounted by start and stop, mounts made and removed by
//! hand flip the unit, the fstab generator's units mount with `local-fs.target`, and a
//! restarted manager keeps the state.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Namespace {
    holder: Child,
    manager: Option<Child>,
    dir: tempfile::TempDir,
}

impl Namespace {
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn start_manager(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("manager.log"))
            .unwrap();
        let child = Command::new("nsenter")
            .arg("-t")
            .arg(self.holder.id().to_string())
            .arg("-m")
            .arg(env!("CARGO_BIN_EXE_sysmaster"))
            .arg("--unit-path")
            .arg(self.path("units"))
            .arg("--runtime-dir")
            .arg(self.path("run"))
            .arg("--fstab")
            .arg(self.path("fstab"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.manager = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(self.path("run/control")).is_err() {
            assert!(
                Instant::now() < deadline,
                "no control socket\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn kill_manager(&mut self) {
        if let Some(mut m) = self.manager.take() {
            let _ = m.kill();
            let _ = m.wait();
        }
        let _ = std::fs::remove_file(self.path("run/control"));
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("manager.log")).unwrap_or_default()
    }

    /// Runs a command inside the namespace; its exit status.
    fn inside(&self, args: &[&str]) -> bool {
        Command::new("nsenter")
            .arg("-t")
            .arg(self.holder.id().to_string())
            .arg("-m")
            .args(args)
            .stdin(Stdio::null())
            .status()
            .unwrap()
            .success()
    }

    fn mounted_inside(&self, point: &Path) -> bool {
        let out = Command::new("nsenter")
            .arg("-t")
            .arg(self.holder.id().to_string())
            .arg("-m")
            .args(["cat", "/proc/self/mountinfo"])
            .output()
            .unwrap();
        in_table(&String::from_utf8_lossy(&out.stdout), point)
    }

    fn sctl(&self, args: &[&str]) -> (i32, String) {
        let o = Command::new(common::workspace_binary("sctl"))
            .arg("--runtime-dir")
            .arg(self.path("run"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    }

    fn expect(&self, args: &[&str], code: i32) -> String {
        let (c, out) = self.sctl(args);
        assert_eq!(
            c,
            code,
            "sctl {}: {out}\nmanager log:\n{}",
            args.join(" "),
            self.log()
        );
        out
    }

    fn property(&self, unit: &str, name: &str) -> String {
        self.expect(&["show", "-p", name, "--value", unit], 0)
            .trim_end()
            .to_string()
    }

    fn states(&self, unit: &str) -> (String, String) {
        (
            self.property(unit, "ActiveState"),
            self.property(unit, "SubState"),
        )
    }

    fn wait_for_states(&self, unit: &str, active: &str, sub: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = self.states(unit);
            if s == (active.to_string(), sub.to_string()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{unit} stays {s:?}, expected {active}/{sub}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        self.kill_manager();
        // The namespace, and every mount in it, ends with its last process.
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        manager::daemon::discard_instance_cgroup(&self.path("run"));
    }
}

fn in_table(mountinfo: &str, point: &Path) -> bool {
    let (entries, _) = units::mount::mountinfo::parse(mountinfo);
    entries.iter().any(|e| Path::new(&e.mount_point) == point)
}

fn host_table() -> String {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap()
}

/// A private mount namespace with a manager in it, or `None` when `unshare` is missing.
/// Needs root, as the other manager tests.
fn setup(units: &[(&str, &str)], fstab: &str) -> Option<Namespace> {
    let dir = tempfile::tempdir().unwrap();
    let holder = match Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sleep", "infinity"])
        .stdin(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("skipped: no unshare: {e}");
            return None;
        }
    };
    // Wait until the holder runs in its own namespace.
    let own = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_link(format!("/proc/{}/ns/mnt", holder.id())).ok() == Some(own.clone())
        || std::fs::read_to_string(format!("/proc/{}/comm", holder.id()))
            .is_ok_and(|c| c.trim() != "sleep")
    {
        assert!(
            Instant::now() < deadline,
            "unshare did not set up the namespace"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::create_dir_all(dir.path().join("units")).unwrap();
    let base = [
        (
            "local-fs-pre.target",
            "[Unit]\nDescription=Preparation for Local File Systems\n",
        ),
        (
            "local-fs.target",
            "[Unit]\nDescription=Local File Systems\nDefaultDependencies=no\n",
        ),
        (
            "umount.target",
            "[Unit]\nDescription=Unmount All Filesystems\nDefaultDependencies=no\n",
        ),
        ("swap.target", "[Unit]\nDescription=Swaps\n"),
    ];
    for (name, text) in common::BASE_UNITS.iter().chain(base.iter()).chain(units) {
        let text = text.replace("@DIR@", dir.path().to_str().unwrap());
        std::fs::write(dir.path().join("units").join(name), text).unwrap();
    }
    std::fs::write(
        dir.path().join("fstab"),
        fstab.replace("@DIR@", dir.path().to_str().unwrap()),
    )
    .unwrap();
    let mut ns = Namespace {
        holder,
        manager: None,
        dir,
    };
    ns.start_manager();
    Some(ns)
}

fn mount_name(path: &Path) -> String {
    unitfile::name::path_to_unit_name(path.to_str().unwrap(), unitfile::name::UnitType::Mount)
        .unwrap()
}

#[test]
fn mount_units_mount_unmount_and_follow_the_table() {
    let Some(mut ns) = setup(
        &[("placeholder.service", "[Service]\nExecStart=/bin/true\n")],
        "# the generator's input\n\
         tmpfs @DIR@/gen tmpfs size=1m,mode=0700 0 0\n\
         tmpfs @DIR@/opt tmpfs size=1m,nofail,noauto 0 0\n\
         broken-line\n",
    ) else {
        return;
    };
    let point = ns.path("point");
    let unit = mount_name(&point);
    std::fs::write(
        ns.path("units").join(&unit),
        format!(
            "[Unit]\nDescription=Test tmpfs\n[Mount]\nWhat=tmpfs\nWhere={}\nType=tmpfs\nOptions=size=1m,mode=0711\n",
            point.display()
        ),
    )
    .unwrap();
    ns.expect(&["daemon-reload"], 0);

    // start mounts (creating the directory), stop unmounts.
    ns.expect(&["start", &unit], 0);
    assert!(point.is_dir(), "Where= was created");
    assert!(ns.mounted_inside(&point), "{}", ns.log());
    assert!(
        !in_table(&host_table(), &point),
        "the mount leaked into the host"
    );
    assert_eq!(ns.states(&unit), ("active".into(), "mounted".into()));
    assert_eq!(ns.property(&unit, "Where"), point.display().to_string());
    assert_eq!(ns.property(&unit, "Result"), "success");
    ns.expect(&["stop", &unit], 0);
    assert!(!ns.mounted_inside(&point));
    assert_eq!(ns.states(&unit), ("inactive".into(), "dead".into()));

    // Mounted and unmounted by hand: the unit follows.
    assert!(ns.inside(&["mount", "-t", "tmpfs", "tmpfs", point.to_str().unwrap()]));
    ns.wait_for_states(&unit, "active", "mounted");
    assert!(ns.inside(&["umount", point.to_str().unwrap()]));
    ns.wait_for_states(&unit, "inactive", "dead");

    // The fstab generator's units: gen is required by local-fs.target, opt (noauto) not.
    let gen = mount_name(&ns.path("gen"));
    let opt = mount_name(&ns.path("opt"));
    ns.expect(&["start", "local-fs.target"], 0);
    assert_eq!(ns.states(&gen), ("active".into(), "mounted".into()));
    assert!(ns.mounted_inside(&ns.path("gen")));
    assert_eq!(ns.states(&opt).0, "inactive");
    assert_eq!(
        ns.property(&gen, "SourcePath"),
        ns.path("fstab").display().to_string()
    );
    assert!(
        ns.log()
            .contains(&format!("{}:4: error:", ns.path("fstab").display())),
        "the malformed line is reported\n{}",
        ns.log()
    );

    // A restarted manager keeps the mounted unit without mounting again.
    ns.expect(&["start", &unit], 0);
    ns.kill_manager();
    ns.start_manager();
    assert_eq!(ns.states(&unit), ("active".into(), "mounted".into()));
    assert_eq!(ns.states(&gen), ("active".into(), "mounted".into()));
    assert!(ns.log().contains("recovered the state"), "{}", ns.log());
    let mountinfo = Command::new("nsenter")
        .args([
            "-t",
            &ns.holder.id().to_string(),
            "-m",
            "cat",
            "/proc/self/mountinfo",
        ])
        .output()
        .unwrap();
    let (entries, _) = units::mount::mountinfo::parse(&String::from_utf8_lossy(&mountinfo.stdout));
    let count = entries
        .iter()
        .filter(|e| Path::new(&e.mount_point) == point)
        .count();
    assert_eq!(count, 1, "mounted once");
    ns.expect(&["stop", &unit], 0);
    assert!(!ns.mounted_inside(&point));
}

#[test]
fn a_failing_mount_fails_the_unit_with_its_exit_code() {
    let Some(ns) = setup(&[], "") else {
        return;
    };
    let point = ns.path("bad");
    let unit = mount_name(&point);
    std::fs::write(
        ns.path("units").join(&unit),
        format!(
            "[Mount]\nWhat={}\nWhere={}\nType=ext4\n",
            ns.path("no-such-device").display(),
            point.display()
        ),
    )
    .unwrap();
    ns.expect(&["daemon-reload"], 0);
    let (code, _) = ns.sctl(&["start", &unit]);
    assert_ne!(code, 0);
    assert_eq!(ns.states(&unit), ("failed".into(), "failed".into()));
    assert_eq!(ns.property(&unit, "Result"), "exit-code");
}
