//! The end-to-end checks that run inside the VM (`cargo xtask boot-test`, part of
//! `cargo xtask test`). `sysmaster.e2e` on the kernel command line lets `e2e.service` run
//! [`SCRIPT`] once multi-user.target is reached; the script prints one line per check on
//! the console (`E2E ok NAME` or `E2E fail NAME: why`), `E2E done` at its end, and reboots
//! the machine with `sctl reboot` (QEMU runs with `-no-reboot`, so the guest's reboot ends
//! it). The host then looks for every name of [`CHECKS`] in the console.
//!
//! The script, its units and their `.wants` link are an overlay appended to the base
//! image (the kernel unpacks concatenated cpio archives in order), so that the image
//! `cargo xtask boot` shows stays as it is.

use super::{Cpio, DIR, EXEC, FILE, LINK};
use crate::Result;
use std::path::{Path, PathBuf};

/// The UUID and label of the ext4 image the device checks attach to a loop device.
const FS_UUID: &str = "5e1f0e2e-0000-4000-8000-00000000e2e0";

/// What the script checks, in its order; each one prints `E2E ok NAME` when it holds.
pub const CHECKS: &[&str] = &[
    // cgroup2 is mounted at /sys/fs/cgroup (by PID 1).
    "cgroup2-mounted",
    // ticker.service, e2e.service and e2e-forker.service each run in
    // /system.slice/NAME, as systemd places system services.
    "service-cgroups",
    // `sctl stop` of a service whose processes forked (one double-forked into its own
    // session, so not the main process's child) leaves none of them and an empty group.
    "stop-kills-all",
    // `kill -9` of the manager: PID 1 starts a new one, sctl answers again.
    "manager-restarted",
    // ... and ticker.service kept its main process (same pid and start time), nothing failed.
    "services-untouched",
    // The new manager controls what it adopted: `sctl stop ticker.service` ends its process.
    "adopted-service-stops",
    // devmaster runs, the coldplug finished, devices have database entries, and the
    // serial console is a plugged device unit (Debian's 99-systemd.rules tags it).
    "devmaster-coldplug",
    // A loop device with an ext4 file system gets its /dev/disk/by-uuid link (Debian's
    // 60-persistent-storage.rules + our blkid) and the link is a plugged device unit.
    "loop-by-uuid",
    // Debian's unmodified `udevadm info` reads our database of that device.
    "udevadm-info",
    // A dummy network interface gets the name a rule gives it (NAME=, rtnetlink).
    "net-rename",
    // Debian's unmodified `udevadm monitor --udev` sees our event for it.
    "udevadm-monitor",
];

/// The script `e2e.service` runs, as `/usr/lib/sysmaster/e2e.sh`. Every wait is bounded;
/// a step that cannot go on prints `E2E fail` and the script still reaches its end.
pub const SCRIPT: &str = r#"#!/bin/sh
# End-to-end checks inside the VM: see xtask/src/image/e2e.rs.
exec > /dev/console 2>&1
ok() { echo "E2E ok $1"; }
# The details on one line: unquoted (without globbing), their words are joined by spaces.
fail() { set -f; echo "E2E fail $1:" $2; set +f; }
# wait_for SECONDS COMMAND...: COMMAND every 0.1 s until it succeeds, false at the deadline.
wait_for() {
    n=$(($1 * 10)); shift
    until "$@"; do
        n=$((n - 1)); [ $n -gt 0 ] || return 1
        sleep 0.1
    done
}
mainpid() { sctl show -p MainPID --value "$1"; }
# The start time of a process (field 22 of /proc/PID/stat), empty when it is gone.
starttime() {
    s=$(cat /proc/$1/stat 2>/dev/null) || return 0
    s=${s##*) }; set -- $s; echo "${20}"
}
# The pids of processes named $1 (busybox here has no pidof).
pids_of() {
    for d in /proc/[0-9]*; do
        [ "$(cat $d/comm 2>/dev/null)" = "$1" ] && echo "${d#/proc/}"
    done
}
gone() { for p in "$@"; do [ -e /proc/$p ] && return 1; done; return 0; }

echo "E2E begin"

# --- cgroup2 mounted ---------------------------------------------------------------------
found=
while read -r dev mnt type rest; do
    [ "$mnt" = /sys/fs/cgroup ] && [ "$type" = cgroup2 ] && found=yes
done < /proc/mounts
if [ -n "$found" ]; then ok cgroup2-mounted
else fail cgroup2-mounted "$(grep cgroup /proc/mounts)"; fi

# --- each service in its own group -------------------------------------------------------
sctl start e2e-forker.service
procs=/sys/fs/cgroup/system.slice/e2e-forker.service/cgroup.procs
three_sleeps() {
    set -- $(cat $procs 2>/dev/null)
    [ $# -eq 3 ] || return 1
    for p in "$@"; do [ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] || return 1; done
}
wait_for 10 three_sleeps || fail stop-kills-all "e2e-forker.service has not 3 sleeps: $(cat $procs)"
forked=$(cat $procs 2>/dev/null)
bad=
for u in ticker.service e2e-forker.service; do
    p=$(mainpid $u)
    got=$(cat /proc/$p/cgroup 2>/dev/null)
    [ "$got" = "0::/system.slice/$u" ] || bad="$bad $u(pid $p): '$got';"
done
got=$(cat /proc/self/cgroup)
[ "$got" = "0::/system.slice/e2e.service" ] || bad="$bad e2e.service: '$got';"
if [ -z "$bad" ]; then ok service-cgroups; else fail service-cgroups "$bad"; fi

# --- stop kills every process of the service ---------------------------------------------
main=$(mainpid e2e-forker.service)
outside=
for p in $forked; do
    ppid=$(s=$(cat /proc/$p/stat 2>/dev/null); s=${s##*) }; set -- $s; echo "$2")
    [ "$p" != "$main" ] && [ "$ppid" != "$main" ] && outside=$p
done
sctl stop e2e-forker.service
if [ -z "$forked" ]; then :
elif [ -z "$outside" ]; then fail stop-kills-all "no process outside the main process's children: $forked"
elif ! wait_for 10 gone $forked; then fail stop-kills-all "still running after the stop: $forked"
elif [ -s $procs ]; then fail stop-kills-all "cgroup.procs not empty: $(cat $procs)"
else ok stop-kills-all; fi

# --- the manager is killed and healed ----------------------------------------------------
tpid=$(mainpid ticker.service)
tstart=$(starttime $tpid)
old=$(pids_of sysmaster)
kill -9 $old
new_manager() {
    m=$(pids_of sysmaster)
    [ -n "$m" ] && [ "$m" != "$old" ] && sctl list-units > /dev/null 2>&1
}
if wait_for 30 new_manager; then
    ok manager-restarted
    now=$(mainpid ticker.service)
    failed=$(sctl list-units --failed --no-legend)
    if [ "$now" != "$tpid" ]; then fail services-untouched "ticker.service MainPID $tpid became $now"
    elif [ -z "$tstart" ] || [ "$(starttime $tpid)" != "$tstart" ]; then
        fail services-untouched "ticker.service pid $tpid is not the process it was"
    elif [ -n "$failed" ]; then fail services-untouched "failed units: $failed"
    else ok services-untouched; fi
    sctl stop ticker.service
    if wait_for 10 gone $tpid && [ "$(sctl is-active ticker.service)" = inactive ]; then
        ok adopted-service-stops
    else fail adopted-service-stops "pid $tpid: $(cat /proc/$tpid/stat 2>&1)"; fi
else
    fail manager-restarted "no new manager answers (old pid $old, now '$(pids_of sysmaster)')"
fi

# --- devices ------------------------------------------------------------------------------
uuid=@FS_UUID@
if wait_for 60 sh -c '[ "$(sctl is-active devmaster-trigger.service)" = active ]' \
    && [ "$(sctl is-active devmaster.service)" = active ] \
    && wait_for 60 devctl settle \
    && [ -n "$(ls /run/udev/data)" ] \
    && wait_for 10 sh -c '[ "$(sctl show -p SubState --value dev-ttyS0.device)" = plugged ]'; then
    ok devmaster-coldplug
else
    fail devmaster-coldplug "devmaster $(sctl is-active devmaster.service), trigger $(sctl is-active devmaster-trigger.service), dev-ttyS0.device $(sctl show -p SubState --value dev-ttyS0.device), $(ls /run/udev/data | wc -l) db entries"
fi
insmod /lib/modules/e2e/loop.ko
wait_for 10 test -b /dev/loop0
losetup /dev/loop0 /var/lib/e2e/fs.img
unit="dev-disk-by\x2duuid-$(echo $uuid | sed 's/-/\\x2d/g').device"
if wait_for 30 test -L /dev/disk/by-uuid/$uuid \
    && [ "$(readlink /dev/disk/by-uuid/$uuid)" = ../../loop0 ] \
    && wait_for 10 sh -c "[ \"\$(sctl show -p SubState --value '$unit')\" = plugged ]"; then
    ok loop-by-uuid
else
    fail loop-by-uuid "link: $(ls -l /dev/disk/by-uuid/ 2>&1), $unit: $(sctl show -p SubState --value "$unit")"
fi
info=$(udevadm info /dev/loop0 2>&1)
if echo "$info" | grep -q "^E: ID_FS_UUID=$uuid\$" && echo "$info" | grep -q "^S: disk/by-uuid/$uuid\$"; then
    ok udevadm-info
else
    fail udevadm-info "$info"
fi
insmod /lib/modules/e2e/dummy.ko
if wait_for 30 ip link show e2enet0 > /dev/null 2>&1; then ok net-rename
else fail net-rename "$(ip link 2>&1)"; fi
udevadm monitor --udev --property > /tmp/monitor 2>&1 &
mon=$!
sleep 1
echo change > /sys/class/net/e2enet0/uevent
if wait_for 20 grep -q '^INTERFACE=e2enet0' /tmp/monitor && grep -q '^ACTION=change' /tmp/monitor; then
    ok udevadm-monitor
else
    fail udevadm-monitor "$(cat /tmp/monitor)"
fi
kill $mon

echo "E2E done"
sctl --no-block reboot
"#;

/// Renames the dummy interface, as an administrator's rule would.
const RULES: &str = "SUBSYSTEM==\"net\", ACTION==\"add\", KERNEL==\"dummy0\", NAME=\"e2enet0\"\n";

/// The units of the checks: the one that runs the script, and the service whose processes
/// fork (one of them into its own session, so that only its cgroup finds it).
const UNITS: &[(&str, &str)] = &[
    (
        "e2e.service",
        "[Unit]\nDescription=End-to-end checks\nConditionKernelCommandLine=sysmaster.e2e\nAfter=multi-user.target\n[Service]\nType=oneshot\nExecStart=/usr/lib/sysmaster/e2e.sh\n[Install]\nWantedBy=multi-user.target\n",
    ),
    (
        "e2e-forker.service",
        "[Unit]\nDescription=A service whose processes fork\n[Service]\nExecStart=/bin/sh -c 'setsid /bin/sh -c \"sleep 1001 &\"; sleep 1002 & exec sleep 1003'\n",
    ),
];

/// The modules the device checks load (`loop`, `dummy`) from the guest kernel's tree.
fn module(kernel: &Path, name: &str) -> Result<PathBuf> {
    let version = kernel
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("vmlinuz-"))
        .ok_or_else(|| format!("{}: not a vmlinuz-VERSION file", kernel.display()))?;
    let dir = Path::new("/lib/modules").join(version).join("kernel");
    let path = ["drivers/block", "drivers/net"]
        .iter()
        .map(|d| dir.join(d).join(format!("{name}.ko")))
        .find(|p| p.exists())
        .ok_or_else(|| format!("no {name}.ko below {}", dir.display()))?;
    Ok(path)
}

/// A small ext4 image with a known UUID (mkfs.ext4, package e2fsprogs).
fn fs_image() -> Result<Vec<u8>> {
    crate::ensure_apt(&[("mkfs.ext4", "e2fsprogs")])?;
    let dir = std::env::temp_dir().join(format!("sysmaster-e2e-fs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let img = dir.join("fs.img");
    let made = std::process::Command::new("mkfs.ext4")
        .args(["-q", "-F", "-O", "^has_journal", "-U", FS_UUID, "-L", "e2e"])
        .arg(&img)
        .arg("2M")
        .status()
        .map_err(|e| format!("cannot run mkfs.ext4: {e}"))?;
    let bytes = std::fs::read(&img).map_err(|e| format!("{}: {e}", img.display()));
    let _ = std::fs::remove_dir_all(&dir);
    if !made.success() {
        return Err("mkfs.ext4 failed".into());
    }
    bytes
}

/// Debian's `udevadm` and the shared libraries it loads (from `ldd`), at their paths.
fn udevadm_files() -> Result<Vec<PathBuf>> {
    let udevadm = PathBuf::from("/usr/bin/udevadm");
    let out = std::process::Command::new("ldd")
        .arg(&udevadm)
        .output()
        .map_err(|e| format!("cannot run ldd: {e}"))?;
    let mut files = vec![udevadm];
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux... (0x...)"
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            files.push(PathBuf::from(p));
        }
    }
    Ok(files)
}

/// Every directory above `path` (relative, without a leading `/`), outermost first.
fn parents(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = String::new();
    let parts: Vec<&str> = path.split('/').collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        if !at.is_empty() {
            at.push('/');
        }
        at.push_str(part);
        out.push(at.clone());
    }
    out
}

/// The overlay archive: the script, the units and `e2e.service`'s `.wants` link, and for
/// the device checks the guest kernel's `loop` and `dummy` modules, an ext4 image, a rule
/// and Debian's `udevadm` with its libraries.
pub fn overlay(kernel: &Path) -> Result<Vec<u8>> {
    let mut c = Cpio {
        bytes: Vec::new(),
        ino: 0,
    };
    // Directories the base has too: unpacking an existing one changes nothing.
    for d in [
        "usr",
        "usr/lib",
        "usr/lib/sysmaster",
        "usr/lib/sysmaster/system",
        "usr/lib/sysmaster/system/multi-user.target.wants",
    ] {
        c.add(d, DIR, &[]);
    }
    c.add(
        "usr/lib/sysmaster/e2e.sh",
        EXEC,
        SCRIPT.replace("@FS_UUID@", FS_UUID).as_bytes(),
    );
    for d in [
        "lib",
        "lib/modules",
        "lib/modules/e2e",
        "var",
        "var/lib",
        "var/lib/e2e",
    ] {
        c.add(d, DIR, &[]);
    }
    for m in ["loop", "dummy"] {
        c.file(
            &format!("lib/modules/e2e/{m}.ko"),
            FILE,
            &module(kernel, m)?,
        )?;
    }
    c.add("var/lib/e2e/fs.img", FILE, &fs_image()?);
    c.add("etc/udev/rules.d/10-e2e.rules", FILE, RULES.as_bytes());
    let mut made: Vec<String> = Vec::new();
    for f in udevadm_files()? {
        let rel = f.to_string_lossy().trim_start_matches('/').to_string();
        for d in parents(&rel) {
            if !made.contains(&d) {
                c.add(&d, DIR, &[]);
                made.push(d);
            }
        }
        c.file(&rel, EXEC, &f)?;
    }
    for (name, text) in UNITS {
        c.add(
            &format!("usr/lib/sysmaster/system/{name}"),
            FILE,
            text.as_bytes(),
        );
    }
    c.add(
        "usr/lib/sysmaster/system/multi-user.target.wants/e2e.service",
        LINK,
        b"../e2e.service",
    );
    Ok(c.finish())
}

/// What is wrong with an e2e boot's console (`plain`: without colours); empty when all
/// checks passed, the script ended and PID 1 rebooted the machine.
pub fn failures(plain: &str, qemu_ok: bool) -> Vec<String> {
    let mut out = Vec::new();
    for line in plain.lines().filter(|l| l.starts_with("E2E fail ")) {
        out.push(line.trim_end().to_string());
    }
    for name in CHECKS {
        let want = format!("E2E ok {name}");
        if !plain.lines().any(|l| l.trim_end() == want) {
            out.push(format!("no '{want}'"));
        }
    }
    let checked = plain.split("E2E done").next().unwrap_or_default();
    for line in checked.lines() {
        if line.starts_with("[FAILED]") || line.starts_with("[DEPEND]") {
            out.push(format!("a unit failed: {}", line.trim_end()));
        }
    }
    if !plain.lines().any(|l| l.trim_end() == "E2E done") {
        out.push("the script did not reach its end".into());
    }
    if !plain.contains("[  OK  ] Finished e2e.service - End-to-end checks.")
        && !plain.contains("Starting e2e.service - End-to-end checks...")
    {
        out.push("no status line for e2e.service".into());
    }
    if !plain.contains("sysmaster-init: final step: Reboot") {
        out.push("PID 1 did not take the final step Reboot".into());
    }
    if !qemu_ok {
        out.push("QEMU did not end by the guest's reboot".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passing_console() -> String {
        let mut c =
            String::from("         Starting e2e.service - End-to-end checks...\r\nE2E begin\r\n");
        for name in CHECKS {
            c.push_str(&format!("E2E ok {name}\r\n"));
        }
        c.push_str("E2E done\r\nsysmaster-init: final step: Reboot\r\n");
        c
    }

    #[test]
    fn a_console_with_every_check_passes() {
        assert_eq!(failures(&passing_console(), true), Vec::<String>::new());
    }

    #[test]
    fn a_failed_or_missing_check_is_reported() {
        let c = passing_console().replace(
            "E2E ok stop-kills-all\r\n",
            "E2E fail stop-kills-all: still running after the stop: 90 91\r\n",
        );
        assert_eq!(
            failures(&c, true),
            [
                "E2E fail stop-kills-all: still running after the stop: 90 91",
                "no 'E2E ok stop-kills-all'"
            ]
        );
        let c = passing_console().replace("E2E done\r\n", "");
        assert_eq!(failures(&c, true), ["the script did not reach its end"]);
        let c = passing_console().replace(
            "E2E begin\r\n",
            "E2E begin\r\n[FAILED] Failed to start x.service.\r\n",
        );
        assert_eq!(
            failures(&c, true),
            ["a unit failed: [FAILED] Failed to start x.service."]
        );
        let c = passing_console().replace("final step: Reboot", "final step: Poweroff");
        assert_eq!(
            failures(&c, false),
            [
                "PID 1 did not take the final step Reboot",
                "QEMU did not end by the guest's reboot"
            ]
        );
    }

    #[test]
    fn every_check_is_printed_by_the_script() {
        for name in CHECKS {
            assert!(SCRIPT.contains(&format!("ok {name}")), "{name}");
        }
    }

    #[test]
    fn the_overlay_holds_the_script_and_the_link() {
        let kernel = super::super::find_kernel().unwrap();
        let bytes = overlay(&kernel).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("usr/lib/sysmaster/e2e.sh\0"));
        for f in [
            "lib/modules/e2e/loop.ko\0",
            "var/lib/e2e/fs.img\0",
            "usr/bin/udevadm\0",
        ] {
            assert!(text.contains(f), "{f}");
        }
        assert!(text.contains(FS_UUID) && !text.contains("@FS_UUID@"));
        assert!(text.contains("multi-user.target.wants/e2e.service\0"));
        assert!(text.contains("TRAILER!!!"));
    }
}
