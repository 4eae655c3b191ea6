//! `cargo xtask container-test`: our PID 1 in a container over Debian's own root filesystem,
//! running Debian's unchanged `ssh.service` and `cron.service` (issue 5, the container
//! scenario).
//!
//! What the harness does, as a container manager would:
//! - a throwaway writable view of the cached tree ([`crate::rootfs`]): an overlayfs with
//!   the tree as its lower layer and an upper layer in a scratch directory, so the cached
//!   tree is never written to;
//! - in that upper layer: our static (musl) binaries at their installed paths
//!   (`/usr/lib/sysmaster/{init,sysmaster}`, `/usr/bin/sctl`, DESIGN.md §4), the boot
//!   target `container-test.target` (wants exactly `ssh.service` and `cron.service`), and,
//!   in `/etc/sysmaster/system`, masks for what Debian's `sysinit.target.wants/` pulls in:
//!   those are pieces of systemd itself (journald, tmpfiles, udev-less mounts, TPM
//!   barriers...) which need unit types we do not have yet (mount, automount, path) or
//!   systemd's own internals, and a container does not run them under systemd either
//!   (most are conditioned away there). Debian's unit files are used as they are;
//! - `unshare --pid --fork --mount --net --uts --ipc --cgroup`: a fresh network namespace,
//!   so that sshd's port 22 is the container's own; the harness brings `lo` up (with the
//!   tree's `ip`), as nspawn or docker do for a private network. The overlay, `/proc`,
//!   `/sys` (read-only), a cgroup2 mount of the cgroup namespace, tmpfs `/run`, `/tmp` and
//!   `/dev` (with the host's null, zero, full, random, urandom and tty bound in, and a
//!   private devpts) are mounted inside the container's mount namespace only, so they
//!   vanish with it; then `pivot_root` into the tree and exec `sysmaster-init --container`
//!   as PID 1, whose manager is started with `--start container-test.target`;
//! - the container lives in a cgroup of its own in the host's cgroup2 hierarchy (the root
//!   of its cgroup namespace), which tells whether any of its processes is left and is
//!   removed at the end.
//!
//! Then it waits (bounded) until the container's own `sctl` shows both services
//! active/running, reads sshd's `SSH-2.0-OpenSSH` banner on 127.0.0.1:22 inside the
//! container's network namespace and keeps that connection open (its sshd process is not
//! the main process, so with `KillMode=process` the stop of `ssh.service` leaves it to PID
//! 1's final step), checks that cron's main process is `cron`, sends SIGTERM to the
//! container's PID 1 and checks that it exits with status 0 with every process of the
//! container gone and nothing of it left in the host (cgroups, mounts). Binaries are the
//! static musl build because it is what we ship and needs nothing from the tree's libc;
//! `cargo xtask test` has built it already for the VM image.

use crate::{bench_build, ensure_apt, is_root, rootfs, step, Libc, Result};
use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The boot target of the container: Debian's two daemons and nothing else.
const TARGET: &str = "container-test.target";
const TARGET_UNIT: &str = "[Unit]\nDescription=Container test: Debian's ssh and cron\n\
Wants=ssh.service cron.service\nAfter=ssh.service cron.service\n";

/// Bounds of the waits; generous, for a busy 2-core machine.
const BOOT_LIMIT: Duration = Duration::from_secs(90);
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(90);

/// Runs inside the new namespaces as their first process, then becomes our PID 1.
/// Arguments: lower, upper, work, merged, use-cgroup2 (0/1), then the command of PID 1.
const SETUP: &str = r#"set -e
L=$1 U=$2 W=$3 M=$4 CG=$5; shift 5
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=$L,upperdir=$U,workdir=$W" "$M"
mount -t proc -o nosuid,nodev,noexec proc "$M/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$M/sys"
if [ "$CG" = 1 ]; then
    mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$M/sys/fs/cgroup"
fi
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$M/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$M/tmp"
mount -t tmpfs -o mode=755,nosuid tmpfs "$M/dev"
for d in null zero full random urandom tty; do
    touch "$M/dev/$d"
    mount --bind "/dev/$d" "$M/dev/$d"
done
mkdir "$M/dev/pts" "$M/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$M/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$M/dev/shm"
ln -s pts/ptmx "$M/dev/ptmx"
ln -s /proc/self/fd "$M/dev/fd"
cd "$M"
mkdir -p .oldroot
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot
/usr/sbin/ip link set lo up
exec "$@"
"#;

/// The scratch directory, the container's cgroup and the processes started for it; all
/// removed or killed when dropped, whatever happened.
struct Scratch {
    dir: PathBuf,
    cgroup: Option<PathBuf>,
    container: Option<Child>,
    /// The container's PID 1, as the host sees it.
    pid1: Option<u32>,
    /// The client holding a connection to sshd.
    client: Option<Child>,
}

impl Scratch {
    fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }

    fn console(&self) -> PathBuf {
        self.dir.join("console.log")
    }

    /// The last lines of the container's console, for an error message.
    fn console_tail(&self) -> String {
        let text = std::fs::read_to_string(self.console()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(80);
        lines.get(from..).unwrap_or_default().join("\n")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(mut c) = self.client.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(mut c) = self.container.take() {
            if matches!(c.try_wait(), Ok(None)) {
                // SIGKILL to a namespace's PID 1 kills every process in it.
                if let Some(pid) = self.pid1 {
                    let _ = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                }
                let _ = c.kill();
                let deadline = Instant::now() + Duration::from_secs(10);
                while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            let _ = c.wait();
        }
        if let Some(cg) = self.cgroup.take() {
            if cgroup_populated(&cg) {
                // Whatever escaped the namespace's end (nothing should).
                let _ = std::fs::write(cg.join("cgroup.kill"), "1");
                let deadline = Instant::now() + Duration::from_secs(10);
                while cgroup_populated(&cg) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            if let Err(e) = remove_cgroup_tree(&cg) {
                eprintln!("xtask: cannot remove the cgroup {}: {e}", cg.display());
            }
        }
        // The mounts lived in the container's mount namespace only; nothing is mounted on
        // the scratch directory in ours, so removing it cannot reach into the cached tree.
        if mounted_below(&self.dir).is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!(
                "xtask: {} still has mounts in the host; left in place",
                self.dir.display()
            );
        }
    }
}

/// Mount points of this mount namespace at or below `dir`.
fn mounted_below(dir: &Path) -> Vec<String> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let prefix = dir.to_string_lossy().into_owned();
    table
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| *p == prefix || p.starts_with(&format!("{prefix}/")))
        .map(str::to_string)
        .collect()
}

/// The host's cgroup2 mount point, if any (`/sys/fs/cgroup` or, on a hybrid host,
/// `/sys/fs/cgroup/unified`).
fn host_cgroup2() -> Option<PathBuf> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    table.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        if right.split(' ').next() != Some("cgroup2") {
            return None;
        }
        left.split(' ').nth(4).map(PathBuf::from)
    })
}

/// This process's cgroup2 group, as a directory.
fn own_cgroup(mount: &Path) -> PathBuf {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let own = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or("/");
    mount.join(own.trim_start_matches('/'))
}

fn cgroup_populated(cg: &Path) -> bool {
    std::fs::read_to_string(cg.join("cgroup.events"))
        .is_ok_and(|t| t.lines().any(|l| l == "populated 1"))
}

/// Removes a cgroup and its descendants, deepest first.
fn remove_cgroup_tree(cg: &Path) -> std::io::Result<()> {
    if !cg.is_dir() {
        return Ok(());
    }
    for e in std::fs::read_dir(cg)?.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            remove_cgroup_tree(&e.path())?;
        }
    }
    std::fs::remove_dir(cg)
}

/// Every group at or below `cg`.
fn cgroup_tree(cg: &Path) -> Vec<PathBuf> {
    let mut all = vec![cg.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(cg) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                all.extend(cgroup_tree(&e.path()));
            }
        }
    }
    all
}

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Host pids of the processes in the PID namespace whose `ns/pid` link is `ns`.
fn processes_in_pid_ns(ns: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/ns/pid"))
                .is_ok_and(|l| l.to_string_lossy() == ns)
        })
        .collect()
}

fn mkdirs(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

fn chmod(path: &Path, mode: u32) -> Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The names in a `.wants/` directory of the tree.
fn wants_of(tree: &Path, dir: &str) -> Vec<String> {
    std::fs::read_dir(tree.join(dir))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Fills the overlay's upper layer: our binaries, the target, the masks.
fn prepare_upper(upper: &Path, tree: &Path, bins: &Path) -> Result<Vec<String>> {
    for d in [
        "usr",
        "usr/lib",
        "usr/lib/sysmaster",
        "usr/bin",
        "etc",
        "etc/sysmaster",
        "etc/sysmaster/system",
    ] {
        let p = upper.join(d);
        mkdirs(&p)?;
        chmod(&p, 0o755)?;
    }
    for (bin, to) in [
        ("sysmaster-init", "usr/lib/sysmaster/init"),
        ("sysmaster", "usr/lib/sysmaster/sysmaster"),
        ("sctl", "usr/bin/sctl"),
    ] {
        let dest = upper.join(to);
        std::fs::copy(bins.join(bin), &dest).map_err(|e| format!("{bin}: {e}"))?;
        chmod(&dest, 0o755)?;
    }
    let units = upper.join("etc/sysmaster/system");
    let target = units.join(TARGET);
    std::fs::write(&target, TARGET_UNIT).map_err(|e| format!("{}: {e}", target.display()))?;
    chmod(&target, 0o644)?;
    let mut masked: Vec<String> = wants_of(tree, "lib/systemd/system/sysinit.target.wants")
        .into_iter()
        .chain(wants_of(tree, "etc/systemd/system/sysinit.target.wants"))
        .collect();
    masked.sort();
    masked.dedup();
    for name in &masked {
        std::os::unix::fs::symlink("/dev/null", units.join(name))
            .map_err(|e| format!("masking {name}: {e}"))?;
    }
    Ok(masked)
}

/// Runs the container's own `sctl` inside its mount and PID namespaces.
fn sctl_in(pid1: u32, args: &[&str]) -> Result<String> {
    let out = Command::new("nsenter")
        .args(["-t", &pid1.to_string(), "-m", "-p", "--", "/usr/bin/sctl"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run nsenter: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "sctl {} exited with {}: {}{}",
            args.join(" "),
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// `KEY=VALUE` blocks of `sctl show -p ...`, one per unit, in order.
fn show(pid1: u32, units: &[&str], props: &[&str]) -> Result<Vec<Vec<(String, String)>>> {
    let mut args = vec!["show"];
    for p in props {
        args.extend(["-p", p]);
    }
    args.extend_from_slice(units);
    let text = sctl_in(pid1, &args)?;
    Ok(text
        .split("\n\n")
        .map(|block| {
            block
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        })
        .filter(|b| !b.is_empty())
        .collect())
}

fn prop<'a>(block: &'a [(String, String)], key: &str) -> &'a str {
    block
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// Polls `cond` until it holds or `limit` passed; the error says what was waited for.
fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + limit;
    while !cond() {
        if Instant::now() > deadline {
            return Err(format!(
                "timed out after {} s waiting for {what}",
                limit.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

pub fn container_test() -> Result<()> {
    if !is_root() {
        return Err("container-test needs root (namespaces, mounts, cgroups)".to_string());
    }
    ensure_apt(&[
        ("unshare", "util-linux"),
        ("nsenter", "util-linux"),
        ("pivot_root", "util-linux"),
        ("bash", "bash"),
        ("timeout", "coreutils"),
    ])?;
    let tree = rootfs::debian_rootfs()?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"));
    let bins = bench_build(Libc::Musl, &target)?;
    let dir = std::env::temp_dir().join(format!("sysmaster-container-{}", std::process::id()));
    if dir.exists() && mounted_below(&dir).is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let mut s = Scratch {
        dir,
        cgroup: None,
        container: None,
        pid1: None,
        client: None,
    };
    for d in ["upper", "work", "merged"] {
        mkdirs(&s.dir.join(d))?;
    }
    chmod(&s.upper(), 0o755)?;
    let masked = prepare_upper(&s.upper(), &tree, &bins)?;
    let setup = s.dir.join("setup.sh");
    std::fs::write(&setup, SETUP).map_err(|e| format!("{}: {e}", setup.display()))?;
    let cgroup = host_cgroup2()
        .map(|m| own_cgroup(&m).join(format!("sysmaster-container-test-{}", std::process::id())));
    if let Some(cg) = &cgroup {
        mkdirs(cg)?;
        s.cgroup = Some(cg.clone());
    }
    step(&format!(
        "container: {} over {} ({} units of sysinit.target.wants masked)",
        TARGET,
        tree.display(),
        masked.len()
    ));
    let result = run_container(&mut s, &tree);
    let summary = result.map_err(|e| {
        format!(
            "container-test: {e}\n--- the container's console (last lines) ---\n{}",
            s.console_tail()
        )
    })?;
    drop(s);
    if let Some(cg) = &cgroup {
        if cg.exists() {
            return Err(format!("the cgroup {} is left in the host", cg.display()));
        }
    }
    println!("{summary}");
    Ok(())
}

/// Boots, checks, shuts down; returns the summary.
fn run_container(s: &mut Scratch, tree: &Path) -> Result<String> {
    let console = std::fs::File::create(s.console()).map_err(|e| e.to_string())?;
    let console2 = console.try_clone().map_err(|e| e.to_string())?;
    let path = |p: PathBuf| p.to_string_lossy().into_owned();
    let mut unshare = vec![
        "unshare", "--pid", "--fork", "--mount", "--net", "--uts", "--ipc",
    ];
    if s.cgroup.is_some() {
        unshare.push("--cgroup");
    }
    // The first process joins the container's cgroup, then becomes unshare, whose forked
    // child runs the set-up and then execs our PID 1.
    let join = match &s.cgroup {
        Some(cg) => format!("echo $$ > '{}'/cgroup.procs && ", cg.display()),
        None => String::new(),
    };
    let script = format!("{join}exec \"$@\"");
    let started = Instant::now();
    let child = Command::new("sh")
        .args(["-c", &script, "sh"])
        .args(&unshare)
        .args(["sh", &path(s.dir.join("setup.sh"))])
        .arg(tree)
        .args([
            path(s.upper()),
            path(s.dir.join("work")),
            path(s.dir.join("merged")),
        ])
        .arg(if s.cgroup.is_some() { "1" } else { "0" })
        .args([
            "/usr/lib/sysmaster/init",
            "--container",
            "--config",
            "/dev/null",
            "--",
            "--start",
            TARGET,
        ])
        .stdin(Stdio::null())
        .stdout(console)
        .stderr(console2)
        .spawn()
        .map_err(|e| format!("cannot run unshare: {e}"))?;
    let unshare_pid = child.id();
    s.container = Some(child);

    // Our PID 1: unshare's child, once it has exec'd init.
    let mut pid1 = 0;
    let mut ended = None;
    wait_until("the container's PID 1", BOOT_LIMIT, || {
        ended = s
            .container
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten());
        pid1 = children(unshare_pid).first().copied().unwrap_or(0);
        ended.is_some()
            || (pid1 != 0
                && std::fs::read_to_string(format!("/proc/{pid1}/cmdline"))
                    .is_ok_and(|c| c.starts_with("/usr/lib/sysmaster/init\0")))
    })?;
    if let Some(status) = ended {
        return Err(format!(
            "the container ended before its PID 1 ran ({status})"
        ));
    }
    s.pid1 = Some(pid1);
    let pid_ns = std::fs::read_link(format!("/proc/{pid1}/ns/pid"))
        .map_err(|e| format!("/proc/{pid1}/ns/pid: {e}"))?
        .to_string_lossy()
        .into_owned();
    eprintln!("PID 1 of the container is host pid {pid1} ({pid_ns})");

    let units = ["ssh.service", "cron.service"];
    let props = ["ActiveState", "SubState", "MainPID"];
    let mut last = String::new();
    let up = wait_until(
        "ssh.service and cron.service active/running",
        BOOT_LIMIT,
        || {
            if matches!(s.container.as_mut().map(Child::try_wait), Some(Ok(Some(_)))) {
                return true;
            }
            match show(pid1, &units, &props) {
                Ok(blocks) => {
                    last = format!("{blocks:?}");
                    blocks.len() == 2
                        && blocks.iter().all(|b| {
                            prop(b, "ActiveState") == "active" && prop(b, "SubState") == "running"
                        })
                }
                Err(e) => {
                    last = e;
                    false
                }
            }
        },
    );
    up.map_err(|e| format!("{e}; last answer: {last}"))?;
    if let Some(Ok(Some(status))) = s.container.as_mut().map(Child::try_wait) {
        return Err(format!("the container ended early ({status})"));
    }
    let boot_time = started.elapsed();
    eprintln!(
        "ssh.service and cron.service active/running after {:.2} s",
        boot_time.as_secs_f64()
    );
    eprint!("{}", sctl_in(pid1, &["list-units"])?);

    let blocks = show(pid1, &units, &props)?;
    let comm = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid1}/root/proc/{pid}/comm"))
            .map(|c| c.trim().to_string())
            .unwrap_or_default()
    };
    let (ssh_pid, cron_pid) = match blocks.as_slice() {
        [ssh, cron] => (
            prop(ssh, "MainPID").to_string(),
            prop(cron, "MainPID").to_string(),
        ),
        _ => return Err(format!("unexpected sctl show output: {blocks:?}")),
    };
    if comm(&cron_pid) != "cron" {
        return Err(format!(
            "cron.service's main pid {cron_pid} is {:?}, not cron",
            comm(&cron_pid)
        ));
    }
    if comm(&ssh_pid) != "sshd" {
        return Err(format!(
            "ssh.service's main pid {ssh_pid} is {:?}, not sshd",
            comm(&ssh_pid)
        ));
    }
    eprintln!("cron runs as pid {cron_pid}, sshd as pid {ssh_pid} (in the container)");
    // RuntimeDirectory=sshd with RuntimeDirectoryMode=0755: sshd refuses to start without
    // it, and the mode is Debian's.
    let run_sshd = PathBuf::from(format!("/proc/{pid1}/root/run/sshd"));
    let mode = std::fs::metadata(&run_sshd)
        .map_err(|e| format!("/run/sshd in the container: {e}"))?
        .permissions()
        .mode();
    if !run_sshd.is_dir() || mode & 0o7777 != 0o755 {
        return Err(format!(
            "/run/sshd in the container has mode {mode:o}, not a 0755 directory"
        ));
    }

    // A client in the container's network namespace reads the banner and keeps the
    // connection open until sshd closes it; bounded by `timeout` in any case.
    let mut client = Command::new("timeout")
        .args(["120", "nsenter", "-t", &pid1.to_string(), "-n", "--"])
        .args([
            "bash",
            "-c",
            "exec 3<>/dev/tcp/127.0.0.1/22 || exit 1; IFS= read -r line <&3; \
             printf '%s\\n' \"$line\"; cat <&3 >/dev/null",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run nsenter: {e}"))?;
    let out = client.stdout.take();
    s.client = Some(client);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        if let Some(out) = out {
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        let _ = tx.send(line);
    });
    let banner = rx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| "no answer from 127.0.0.1:22 in the container within 30 s".to_string())?;
    let banner = banner.trim_end().to_string();
    if !banner.starts_with("SSH-2.0-OpenSSH") {
        return Err(format!(
            "127.0.0.1:22 answered {banner:?}, not SSH-2.0-OpenSSH"
        ));
    }
    eprintln!("127.0.0.1:22 in the container: {banner}");
    // The connection's own sshd process: not the main one, so KillMode=process leaves it.
    let sshds = || {
        std::fs::read_dir(format!("/proc/{pid1}/root/proc"))
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|p| p.parse::<u32>().is_ok() && comm(p) == "sshd")
                    .count()
            })
            .unwrap_or(0)
    };
    wait_until("sshd's process for the open connection", BOOT_LIMIT, || {
        sshds() >= 2
    })?;
    let before = processes_in_pid_ns(&pid_ns).len();
    eprintln!(
        "{before} processes in the container, of them {} sshd",
        sshds()
    );

    step("SIGTERM to the container's PID 1");
    let t0 = Instant::now();
    crate::run("kill", &["-TERM", &pid1.to_string()])?;
    let mut status = None;
    wait_until("the container's PID 1 to exit", SHUTDOWN_LIMIT, || {
        status = s
            .container
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten());
        status.is_some()
    })?;
    let shutdown_time = t0.elapsed();
    let status = status.ok_or("no exit status")?;
    if status.code() != Some(0) {
        return Err(format!("the container's PID 1 ended with {status}, not 0"));
    }
    let left = processes_in_pid_ns(&pid_ns);
    if !left.is_empty() {
        return Err(format!("processes of the container are left: {left:?}"));
    }
    if let Some(cg) = &s.cgroup {
        if cgroup_populated(cg) {
            return Err(format!("the cgroup {} still has processes", cg.display()));
        }
    }
    // The sshd connection process is gone too: the client saw the end of the stream.
    let mut client_status = None;
    wait_until(
        "the ssh client to see the connection closed",
        Duration::from_secs(30),
        || {
            client_status = s.client.as_mut().and_then(|c| c.try_wait().ok().flatten());
            client_status.is_some()
        },
    )?;
    let groups = s.cgroup.as_deref().map(cgroup_tree).unwrap_or_default();
    let mounts = mounted_below(&s.dir);
    if !mounts.is_empty() {
        return Err(format!("mounts are left in the host: {mounts:?}"));
    }
    step("the container's console");
    eprint!(
        "{}",
        std::fs::read_to_string(s.console()).unwrap_or_default()
    );
    Ok(format!(
        "container-test: Debian's ssh.service and cron.service active/running {:.2} s after \
         unshare; sshd answered {banner:?}; SIGTERM to PID 1 → exit status 0 in {:.2} s, \
         all {before} processes gone, {} cgroup(s) removed, no mounts left",
        boot_time.as_secs_f64(),
        shutdown_time.as_secs_f64(),
        groups.len()
    ))
}
