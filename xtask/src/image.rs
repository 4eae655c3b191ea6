//! `cargo xtask image`: an initramfs that boots with sysmaster as PID 1 — busybox-static
//! for the shell and tools, our static (musl) binaries at their installed paths
//! (DESIGN.md §4), and a base unit set under `/usr/lib/sysmaster/system`. The image is
//! written to `<target>/image/initramfs.cpio` (newc format, written here: no cpio tool).
//!
//! `cargo xtask boot` boots it under QEMU; `cargo xtask boot-test` (in `cargo xtask test`)
//! boots it twice and checks the console: the demo boot, and the [`e2e`] checks.

use crate::{bench_build, ensure_apt, step, Libc, Result};
use std::path::{Path, PathBuf};

mod coldplug;
mod e2e;

pub use coldplug::bench_coldplug;

/// The base units: what a minimal system needs to reach multi-user.target and to go down.
const UNITS: &[(&str, &str)] = &[
    (
        "sysinit.target",
        "[Unit]\nDescription=System Initialization\nDefaultDependencies=no\nWants=hostname.service local-fs.target devmaster.service devmaster-trigger.service\nAfter=hostname.service local-fs.target\n",
    ),
    (
        "basic.target",
        "[Unit]\nDescription=Basic System\nDefaultDependencies=no\nRequires=sysinit.target\nAfter=sysinit.target\n",
    ),
    (
        "multi-user.target",
        "[Unit]\nDescription=Multi-User System\nRequires=basic.target\nAfter=basic.target\nConflicts=rescue.target\nAllowIsolate=yes\n",
    ),
    (
        "rescue.target",
        "[Unit]\nDescription=Rescue Mode\nRequires=basic.target\nAfter=basic.target\nAllowIsolate=yes\n",
    ),
    (
        "emergency.target",
        "[Unit]\nDescription=Emergency Mode\nDefaultDependencies=no\nAllowIsolate=yes\n",
    ),
    (
        "shutdown.target",
        "[Unit]\nDescription=System Shutdown\nDefaultDependencies=no\nRefuseManualStart=yes\nWants=umount.target\n",
    ),
    // File systems: the fstab generator's units are required (or wanted) by
    // local-fs.target; mount units conflict with umount.target, which going down starts.
    (
        "local-fs-pre.target",
        "[Unit]\nDescription=Preparation for Local File Systems\nDefaultDependencies=no\nRefuseManualStart=yes\n",
    ),
    (
        "local-fs.target",
        "[Unit]\nDescription=Local File Systems\nDefaultDependencies=no\nAfter=local-fs-pre.target\nConflicts=shutdown.target\n",
    ),
    (
        "remote-fs.target",
        "[Unit]\nDescription=Remote File Systems\nDefaultDependencies=no\nConflicts=shutdown.target\n",
    ),
    (
        "umount.target",
        "[Unit]\nDescription=Unmount All Filesystems\nDefaultDependencies=no\nRefuseManualStart=yes\n",
    ),
    (
        "poweroff.target",
        "[Unit]\nDescription=System Power Off\nDefaultDependencies=no\nRequires=shutdown.target\nAfter=shutdown.target\nAllowIsolate=yes\n",
    ),
    (
        "reboot.target",
        "[Unit]\nDescription=System Reboot\nDefaultDependencies=no\nRequires=shutdown.target\nAfter=shutdown.target\nAllowIsolate=yes\n",
    ),
    (
        "halt.target",
        "[Unit]\nDescription=System Halt\nDefaultDependencies=no\nRequires=shutdown.target\nAfter=shutdown.target\nAllowIsolate=yes\n",
    ),
    // Devices: devmaster (udevd's role) from the start, then every device present at boot
    // replayed to it ("coldplug"), as systemd-udevd.service and systemd-udev-trigger.service.
    (
        "devmaster.service",
        "[Unit]\nDescription=Device manager (devmaster)\nDefaultDependencies=no\nBefore=sysinit.target\n[Service]\nType=notify\nExecStart=/usr/lib/sysmaster/devmaster\nRestart=always\nRestartSec=0\nKillMode=mixed\n",
    ),
    (
        "devmaster-trigger.service",
        "[Unit]\nDescription=Coldplug all devices\nDefaultDependencies=no\nWants=devmaster.service\nAfter=devmaster.service\nBefore=sysinit.target\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/usr/bin/devctl trigger --type=subsystems --action=add\nExecStart=/usr/bin/devctl trigger --type=devices --action=add\n",
    ),
    (
        "hostname.service",
        "[Unit]\nDescription=Set the host name\nDefaultDependencies=no\nBefore=sysinit.target\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'hostname -F /etc/hostname'\n",
    ),
    (
        "hello.service",
        "[Unit]\nDescription=Say hello once at boot\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/echo hello from sysmaster\n[Install]\nWantedBy=multi-user.target\n",
    ),
    (
        "ticker.service",
        "[Unit]\nDescription=A long-running demo service\n[Service]\nExecStart=/bin/sh -c 'while :; do echo tick; sleep 10; done'\n[Install]\nWantedBy=multi-user.target\n",
    ),
    // `cargo xtask boot`: show the manager at work on the console, then power off.
    (
        "demo-report.service",
        "[Unit]\nDescription=Show the running system, then power off\nConditionKernelCommandLine=sysmaster.demo\nAfter=multi-user.target\n[Service]\nType=oneshot\nExecStart=/bin/sh -c 'exec > /dev/console 2>&1; echo; echo \"# sctl list-units\"; sctl list-units; echo; echo \"# sctl status ticker.service\"; sctl status ticker.service; echo; echo \"# sctl poweroff\"; sctl --no-block poweroff'\n[Install]\nWantedBy=multi-user.target\n",
    ),
    // `cargo xtask boot --shell`: a shell on the serial console.
    (
        "console-shell.service",
        "[Unit]\nDescription=Shell on the serial console\nConditionKernelCommandLine=sysmaster.shell\nAfter=multi-user.target\n[Service]\nExecStart=/bin/sh -c 'exec setsid -c /bin/sh -l < /dev/console > /dev/console 2>&1'\nRestart=always\n[Install]\nWantedBy=multi-user.target\n",
    ),
];

/// busybox applets linked into /bin.
const APPLETS: &[&str] = &[
    "sh", "ash", "cat", "echo", "ls", "mkdir", "mount", "umount", "sleep", "true", "false", "ps",
    "hostname", "touch", "rm", "ln", "grep", "dmesg", "poweroff", "reboot", "kill", "uname",
    "free", "head", "tail", "wc", "sed", "cut", "env", "id", "stty", "clear", "setsid", "more",
    "test", "readlink", "insmod", "losetup", "ip",
];

/// One cpio "newc" entry.
fn cpio_entry(out: &mut Vec<u8>, ino: u32, name: &str, mode: u32, data: &[u8]) {
    cpio_node(out, ino, name, mode, data, (0, 0));
}

/// An entry with a device number (`rdev` major, minor) for character devices.
pub(crate) fn cpio_node(
    out: &mut Vec<u8>,
    ino: u32,
    name: &str,
    mode: u32,
    data: &[u8],
    rdev: (u32, u32),
) {
    let namesize = name.len() + 1;
    let header = format!(
        "070701{ino:08X}{mode:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{namesize:08X}{:08X}",
        0, 0, 1, 0, data.len(), 0, 0, rdev.0, rdev.1, 0
    );
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    out.resize(out.len().next_multiple_of(4), 0);
    out.extend_from_slice(data);
    out.resize(out.len().next_multiple_of(4), 0);
}

pub(crate) const DIR: u32 = 0o040755;
pub(crate) const FILE: u32 = 0o100644;
pub(crate) const EXEC: u32 = 0o100755;
pub(crate) const LINK: u32 = 0o120777;

pub(crate) struct Cpio {
    bytes: Vec<u8>,
    ino: u32,
}

impl Cpio {
    pub(crate) fn new() -> Cpio {
        Cpio {
            bytes: Vec::new(),
            ino: 0,
        }
    }

    pub(crate) fn add(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.ino += 1;
        cpio_entry(&mut self.bytes, self.ino, name, mode, data);
    }

    pub(crate) fn file(&mut self, name: &str, mode: u32, source: &Path) -> Result<()> {
        let data = std::fs::read(source).map_err(|e| format!("{}: {e}", source.display()))?;
        self.add(name, mode, &data);
        Ok(())
    }

    /// A character device node (`rdev` major, minor).
    pub(crate) fn char_device(&mut self, name: &str, rdev: (u32, u32)) {
        self.ino += 1;
        cpio_node(&mut self.bytes, self.ino, name, 0o020600, &[], rdev);
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        cpio_entry(&mut self.bytes, 0, "TRAILER!!!", 0, &[]);
        self.bytes
    }
}

/// Builds the image and returns its path.
/// Where Debian keeps udev's rules.
const UDEV_RULES: &str = "/usr/lib/udev/rules.d";

pub fn build_image() -> Result<PathBuf> {
    ensure_apt(&[("busybox", "busybox-static"), ("udevadm", "udev")])?;
    let busybox = Path::new("/bin/busybox");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"));
    let bins = bench_build(Libc::Musl, &target)?;
    step("writing the initramfs");
    let mut c = Cpio::new();
    for d in [
        "bin",
        "dev",
        "etc",
        "proc",
        "sys",
        "run",
        "tmp",
        "root",
        "usr",
        "usr/bin",
        "usr/lib",
        "usr/lib/sysmaster",
        "usr/lib/sysmaster/system",
        "usr/lib/sysmaster/system/multi-user.target.wants",
        "sbin",
    ] {
        c.add(d, DIR, &[]);
    }
    c.file("bin/busybox", EXEC, busybox)?;
    for a in APPLETS {
        c.add(&format!("bin/{a}"), LINK, b"busybox");
    }
    c.file("usr/lib/sysmaster/init", EXEC, &bins.join("sysmaster-init"))?;
    c.file("usr/lib/sysmaster/sysmaster", EXEC, &bins.join("sysmaster"))?;
    c.file("usr/lib/sysmaster/devmaster", EXEC, &bins.join("devmaster"))?;
    c.file("usr/bin/sctl", EXEC, &bins.join("sctl"))?;
    c.file("usr/bin/devctl", EXEC, &bins.join("devctl"))?;
    // Debian's udev rules (package udev, and systemd's own 99-systemd.rules), unchanged.
    for d in [
        "usr/lib/udev",
        "usr/lib/udev/rules.d",
        "etc/udev",
        "etc/udev/rules.d",
    ] {
        c.add(d, DIR, &[]);
    }
    let mut rules: Vec<PathBuf> = std::fs::read_dir(UDEV_RULES)
        .map_err(|e| format!("{UDEV_RULES}: {e} (package udev)"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .collect();
    rules.sort();
    for r in &rules {
        if let Some(name) = r.file_name().and_then(|n| n.to_str()) {
            c.file(&format!("usr/lib/udev/rules.d/{name}"), FILE, r)?;
        }
    }
    c.add("sbin/init", LINK, b"/usr/lib/sysmaster/init");
    for (name, text) in UNITS {
        c.add(
            &format!("usr/lib/sysmaster/system/{name}"),
            FILE,
            text.as_bytes(),
        );
    }
    c.add(
        "usr/lib/sysmaster/system/default.target",
        LINK,
        b"multi-user.target",
    );
    for w in [
        "hello.service",
        "ticker.service",
        "demo-report.service",
        "console-shell.service",
    ] {
        c.add(
            &format!("usr/lib/sysmaster/system/multi-user.target.wants/{w}"),
            LINK,
            format!("../{w}").as_bytes(),
        );
    }
    // The console the kernel opens for PID 1 before anything is mounted.
    c.char_device("dev/console", (5, 1));
    c.add("etc/hostname", FILE, b"sysmaster\n");
    c.add(
        "etc/fstab",
        FILE,
        b"# <file system> <mount point> <type> <options> <dump> <pass>\n\
          tmpfs /tmp tmpfs mode=1777,nosuid,nodev 0 0\n\
          tmpfs /run/scratch tmpfs size=1m,mode=0755,nofail 0 0\n",
    );
    c.add("etc/passwd", FILE, b"root:x:0:0:root:/root:/bin/sh\n");
    c.add("etc/group", FILE, b"root:x:0:\n");
    let out_dir = target.join("image");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let path = out_dir.join("initramfs.cpio");
    let bytes = c.finish();
    std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("{}: {} KiB", path.display(), bytes.len() / 1024);
    Ok(path)
}

/// `cargo xtask boot [--shell] [--verbose]`: boots the image under QEMU (TCG) with the
/// Debian cloud kernel. Without `--shell` the guest shows its boot status lines, then
/// `sctl list-units` and `sctl status` on its console, and powers off; the log lines of
/// sysmaster and sysmaster-init, which share the console with them (there is no log store
/// yet), are left out unless `--verbose` is given. With `--shell` the serial console is a
/// shell (power off with `sctl poweroff`) and everything is shown.
pub fn boot(args: &[String]) -> Result<()> {
    let mut shell = false;
    let mut verbose = false;
    for a in args {
        match a.as_str() {
            "--shell" => shell = true,
            "--verbose" => verbose = true,
            _ => return Err("usage: cargo xtask boot [--shell] [--verbose]".into()),
        }
    }
    let mode = if shell {
        "sysmaster.shell"
    } else {
        "sysmaster.demo"
    };
    let (kernel, image) = prepare_vm()?;
    let mut qemu = qemu_command(&kernel, &image, mode);
    if shell || verbose {
        let status = qemu
            .status()
            .map_err(|e| format!("cannot run qemu-system-x86_64: {e}"))?;
        if !status.success() {
            return Err(format!("qemu exited with {status}"));
        }
        return Ok(());
    }
    let mut child = qemu
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run qemu-system-x86_64: {e}"))?;
    let mut hidden = 0;
    if let Some(out) = child.stdout.take() {
        use std::io::{BufRead, Write};
        let mut stdout = std::io::stdout();
        // The demo's report is shown whole: `sctl status` quotes the manager's lines too.
        let mut report = false;
        for line in std::io::BufReader::new(out)
            .split(b'\n')
            .map_while(|l| l.ok())
        {
            if line.starts_with(b"# sctl list-units") {
                report = true;
            } else if line.starts_with(b"# sctl poweroff") {
                report = false;
            }
            let log = line.starts_with(b"sysmaster: ") || line.starts_with(b"sysmaster-init: ");
            if log && !report {
                hidden += 1;
                continue;
            }
            let _ = stdout.write_all(&line);
            let _ = stdout.write_all(b"\n");
            let _ = stdout.flush();
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    eprintln!(
        "({hidden} log lines of sysmaster and sysmaster-init not shown: --verbose shows them)"
    );
    if !status.success() {
        return Err(format!("qemu exited with {status}"));
    }
    Ok(())
}

/// Installs what is missing and builds the image: the guest kernel and the initramfs.
fn prepare_vm() -> Result<(PathBuf, PathBuf)> {
    ensure_apt(&[("qemu-system-x86_64", "qemu-system-x86")])?;
    let kernel = find_kernel()?;
    let image = build_image()?;
    Ok((kernel, image))
}

/// The QEMU command that boots `image` with sysmaster as PID 1; `mode` (`sysmaster.demo`,
/// `sysmaster.shell`, `sysmaster.e2e`) goes on the kernel command line and selects the
/// console unit. `-no-reboot`: a reboot of the guest ends QEMU.
fn qemu_command(kernel: &Path, image: &Path, mode: &str) -> std::process::Command {
    step(&format!(
        "booting {} with sysmaster as PID 1 ({mode})",
        kernel.display()
    ));
    let mut qemu = std::process::Command::new("qemu-system-x86_64");
    qemu.args(["-accel", "tcg", "-m", "512", "-smp", "1", "-no-reboot"])
        .args(["-display", "none", "-serial", "stdio", "-monitor", "none"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(image)
        .arg("-append")
        .arg(format!(
            "console=ttyS0 loglevel=4 panic=-1 rdinit=/usr/lib/sysmaster/init {mode}"
        ));
    qemu
}

/// One boot, its console read as it comes (so that QEMU never blocks on a full pipe) and
/// kept: QEMU's exit status (`None` when it was killed at the deadline), the console, and
/// the seconds it took.
fn run_vm(kernel: &Path, image: &Path, mode: &str) -> Result<(Option<bool>, String, f64)> {
    run_vm_for(kernel, image, mode, 180)
}

/// [`run_vm`] with its own deadline in seconds.
fn run_vm_for(
    kernel: &Path,
    image: &Path,
    mode: &str,
    deadline: u64,
) -> Result<(Option<bool>, String, f64)> {
    let mut child = qemu_command(kernel, image, mode)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run qemu-system-x86_64: {e}"))?;
    let reader = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            use std::io::Read;
            let mut bytes = Vec::new();
            let _ = out.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s.success());
        }
        if started.elapsed() > std::time::Duration::from_secs(deadline) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let console = reader.and_then(|r| r.join().ok()).unwrap_or_default();
    Ok((status, console, started.elapsed().as_secs_f64()))
}

/// The console text without its colours (ANSI escape sequences `ESC [ ... letter`).
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        if chars.next() == Some('[') {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        }
    }
    out
}

/// The end-to-end tests `cargo xtask test` runs, two boots of the same image under QEMU:
///
/// 1. the demo boot: the status lines show multi-user.target reached (in colour) and no
///    unit failed or had a failed dependency, `sctl` answers in the guest (the demo unit's
///    `list-units` and `status`), and `sctl poweroff` ends QEMU with status 0 through
///    PID 1's final step;
/// 2. the e2e boot ([`e2e`]): cgroups, stop of a forking service, the manager killed and
///    healed with its services untouched, then `sctl reboot` ends QEMU through PID 1.
///
/// Each boot has a time limit; on failure the whole console is printed.
pub fn boot_test() -> Result<()> {
    let (kernel, image) = prepare_vm()?;
    let (status, console, elapsed) = run_vm(&kernel, &image, "sysmaster.demo")?;
    let text = plain(&console);
    let before_poweroff = text.split("# sctl poweroff").next().unwrap_or_default();
    let checks: [(&str, bool); 7] = [
        (
            "multi-user.target reached",
            text.contains("[  OK  ] Reached target multi-user.target - Multi-User System."),
        ),
        (
            "status lines coloured on the console (TERM=linux)",
            console.contains("[\x1b[0;32m  OK  \x1b[0m] Reached target multi-user.target"),
        ),
        (
            "no unit failed before the power-off",
            !before_poweroff.contains("[FAILED]") && !before_poweroff.contains("[DEPEND]"),
        ),
        (
            "sctl list-units answered in the guest",
            text.lines().any(|l| {
                l.split_whitespace()
                    .take(4)
                    .eq(["ticker.service", "loaded", "active", "running"])
            }),
        ),
        (
            "sctl status answered in the guest",
            text.contains("Main PID:"),
        ),
        (
            "PID 1 performed the final step",
            text.contains("sysmaster-init: final step: Poweroff"),
        ),
        ("QEMU ended by the guest's power-off", status == Some(true)),
    ];
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(what, _)| *what)
        .collect();
    if !failed.is_empty() {
        return Err(format!(
            "boot test failed: {}\n--- console ---\n{console}",
            failed.join("; ")
        ));
    }
    eprintln!("demo boot: boot, checks and power-off in {elapsed:.1} s (QEMU, TCG)");

    let mut bytes = std::fs::read(&image).map_err(|e| format!("{}: {e}", image.display()))?;
    bytes.extend_from_slice(&e2e::overlay(&kernel)?);
    let e2e_image = image.with_file_name("initramfs-e2e.cpio");
    std::fs::write(&e2e_image, &bytes).map_err(|e| format!("{}: {e}", e2e_image.display()))?;
    let (status, console, elapsed) = run_vm(&kernel, &e2e_image, "sysmaster.e2e")?;
    let failures = e2e::failures(&plain(&console), status == Some(true));
    if !failures.is_empty() {
        return Err(format!(
            "e2e boot failed:\n  {}\n--- console ---\n{console}",
            failures.join("\n  ")
        ));
    }
    eprintln!(
        "e2e boot: {} checks passed, then reboot, in {elapsed:.1} s (QEMU, TCG)",
        e2e::CHECKS.len()
    );
    Ok(())
}

/// The newest Debian cloud kernel in /boot, installed with apt if there is none.
pub(crate) fn find_kernel() -> Result<PathBuf> {
    let newest = || {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/boot")
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                            n.starts_with("vmlinuz-") && n.ends_with("-cloud-amd64")
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found.pop()
    };
    if let Some(k) = newest() {
        return Ok(k);
    }
    step("installing linux-image-cloud-amd64 (the guest kernel)");
    crate::run(
        "apt-get",
        &["install", "-y", "-q", "linux-image-cloud-amd64"],
    )
    .map_err(|e| format!("cannot install the guest kernel: {e}"))?;
    newest().ok_or_else(|| "no /boot/vmlinuz-*-cloud-amd64 after installing it".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_entries_are_aligned_and_named() {
        let mut out = Vec::new();
        cpio_entry(&mut out, 1, "a", FILE, b"xyz");
        // 110-byte header + "a\0" padded to 4, then 3 data bytes padded to 4.
        assert_eq!(out.len(), 112 + 4);
        assert!(out.starts_with(b"070701"));
        assert_eq!(out.get(110..112), Some(&b"a\0"[..]));
        assert_eq!(out.get(112..115), Some(&b"xyz"[..]));
    }

    #[test]
    fn plain_drops_colours_only() {
        assert_eq!(
            plain("[\x1b[0;32m  OK  \x1b[0m] Started a.\r\n\x1b[0;1;31mx"),
            "[  OK  ] Started a.\r\nx"
        );
        assert_eq!(plain("no escapes [ here ]"), "no escapes [ here ]");
    }
}
