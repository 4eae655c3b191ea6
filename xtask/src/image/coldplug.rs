//! `cargo xtask bench-coldplug [--runs N]`: devmaster's coldplug against Debian's
//! systemd-udevd 252 in the same VM, with the same rules (Debian's, unchanged) and the same
//! devices. The e2e image (which carries Debian's `udevadm`; `systemd-udevd` is the same
//! binary under another name) gets [`SCRIPT`] as `coldplug-bench.service`, run under
//! `sysmaster.coldplug`. Each run, alternating the two daemons from a clean `/run/udev`:
//! start the daemon, time `trigger --type=subsystems` + `trigger --type=devices` +
//! `settle` (the whole coldplug as systemd-udev-trigger.service and
//! systemd-udev-settle.service do it), read the daemon's RSS, stop it. The guest prints
//! `COLDPLUG ...` lines; the host takes the medians and writes `docs/coldplug.md`.

use super::{Cpio, DIR, EXEC, FILE, LINK};
use crate::{step, Result};
use std::collections::BTreeMap;

/// The measuring script; `@RUNS@` is replaced by the number of runs.
pub const SCRIPT: &str = r#"#!/bin/sh
# devmaster against systemd-udevd: see xtask/src/image/coldplug.rs.
exec > /dev/console 2>&1
wait_for() {
    n=$(($1 * 10)); shift
    until "$@"; do
        n=$((n - 1)); [ $n -gt 0 ] || return 1
        sleep 0.1
    done
}
# Seconds since boot with 10 ms resolution, as an integer of centiseconds.
cs() { t=$(cut -d' ' -f1 /proc/uptime); echo "${t%.*}${t#*.}"; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$1/status; }
clean() { rm -rf /run/udev/data /run/udev/links /run/udev/tags /run/udev/watch; }
# The daemon: the systemd-udevd process whose parent is not one (workers are its children).
udevd_pid() {
    for d in /proc/[0-9]*; do
        [ "$(cat $d/comm 2>/dev/null)" = systemd-udevd ] || continue
        set -- $(cat $d/stat)
        [ "$(cat /proc/$4/comm 2>/dev/null)" = systemd-udevd ] || { echo "${d#/proc/}"; return; }
    done
}
devices=$(ls /sys/dev/block /sys/dev/char | wc -l)
sctl stop devmaster.service
i=0
while [ $i -lt @RUNS@ ]; do
    i=$((i + 1))
    clean
    /usr/lib/systemd/systemd-udevd --daemon
    wait_for 10 udevadm control --ping
    t0=$(cs)
    udevadm trigger --type=subsystems --action=add
    udevadm trigger --type=devices --action=add
    udevadm settle --timeout=120
    t1=$(cs)
    upid=$(udevd_pid)
    urss=$(rss $upid)
    udevadm control --exit
    n=100
    while [ -e /proc/$upid ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
    clean
    sctl start devmaster.service
    t2=$(cs)
    devctl trigger --type=subsystems --action=add
    devctl trigger --type=devices --action=add
    devctl settle --timeout=120
    t3=$(cs)
    drss=$(rss $(sctl show -p MainPID --value devmaster.service))
    sctl stop devmaster.service
    echo "COLDPLUG run=$i devices=$devices udevd_cs=$((t1 - t0)) devmaster_cs=$((t3 - t2)) udevd_rss_kb=$urss devmaster_rss_kb=$drss"
done
echo "COLDPLUG done"
sctl --no-block poweroff
"#;

const UNIT: &str = "[Unit]\nDescription=Coldplug benchmark\nConditionKernelCommandLine=sysmaster.coldplug\nAfter=multi-user.target\n[Service]\nType=oneshot\nExecStart=/usr/lib/sysmaster/coldplug.sh\n[Install]\nWantedBy=multi-user.target\n";

/// The overlay that adds the script, its unit and `systemd-udevd` (Debian's udevadm runs
/// as the daemon under that name; the e2e overlay brings udevadm and its libraries).
pub fn overlay(runs: usize) -> Vec<u8> {
    let mut c = Cpio::new();
    for d in [
        "usr",
        "usr/lib",
        "usr/lib/systemd",
        "usr/lib/sysmaster",
        "usr/lib/sysmaster/system",
        "usr/lib/sysmaster/system/multi-user.target.wants",
    ] {
        c.add(d, DIR, &[]);
    }
    c.add(
        "usr/lib/sysmaster/coldplug.sh",
        EXEC,
        SCRIPT.replace("@RUNS@", &runs.to_string()).as_bytes(),
    );
    c.add(
        "usr/lib/sysmaster/system/coldplug-bench.service",
        FILE,
        UNIT.as_bytes(),
    );
    c.add(
        "usr/lib/sysmaster/system/multi-user.target.wants/coldplug-bench.service",
        LINK,
        b"../coldplug-bench.service",
    );
    c.add("usr/lib/systemd/systemd-udevd", LINK, b"/usr/bin/udevadm");
    c.finish()
}

/// The `key=value` pairs of each `COLDPLUG run=...` line.
fn parse(console: &str) -> Vec<BTreeMap<String, f64>> {
    console
        .lines()
        .filter_map(|l| l.trim_end().strip_prefix("COLDPLUG run="))
        .map(|rest| {
            std::iter::once(("run", rest.split_whitespace().next().unwrap_or("")))
                .chain(
                    rest.split_whitespace()
                        .skip(1)
                        .filter_map(|kv| kv.split_once('=')),
                )
                .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
                .collect()
        })
        .collect()
}

/// `num / den` of each run that has both, in run order.
fn paired_ratios(rows: &[BTreeMap<String, f64>], num: &str, den: &str) -> Vec<f64> {
    rows.iter()
        .filter_map(|r| Some(r.get(num)? / r.get(den).filter(|d| **d > 0.0)?))
        .collect()
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return None;
    }
    let mid = v.get(n / 2).copied()?;
    if n % 2 == 1 {
        Some(mid)
    } else {
        Some((v.get(n / 2 - 1).copied()? + mid) / 2.0)
    }
}

pub fn bench_coldplug(args: &[String]) -> Result<()> {
    let mut runs = 3usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => {
                runs = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--runs needs a positive number")?
            }
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: cargo xtask bench-coldplug [--runs N]"
                ))
            }
        }
    }
    let (kernel, image) = super::prepare_vm()?;
    let mut bytes = std::fs::read(&image).map_err(|e| format!("{}: {e}", image.display()))?;
    bytes.extend_from_slice(&super::e2e::overlay(&kernel)?);
    bytes.extend_from_slice(&overlay(runs));
    let path = image.with_file_name("initramfs-coldplug.cpio");
    std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    step(&format!("{runs} coldplug runs of each daemon"));
    let (_, console, _) = super::run_vm_for(&kernel, &path, "sysmaster.coldplug", 600)?;
    let kept = path.with_file_name("coldplug-console.txt");
    let _ = std::fs::write(&kept, &console);
    eprintln!("the guest's console: {}", kept.display());
    let rows = parse(&console);
    if rows.len() != runs {
        return Err(format!(
            "expected {runs} COLDPLUG lines, got {}\n--- console ---\n{console}",
            rows.len()
        ));
    }
    let col = |k: &str| median(rows.iter().filter_map(|r| r.get(k).copied()).collect());
    let (Some(devices), Some(u), Some(d), Some(ur), Some(dr)) = (
        col("devices"),
        col("udevd_cs"),
        col("devmaster_cs"),
        col("udevd_rss_kb"),
        col("devmaster_rss_kb"),
    ) else {
        return Err(format!(
            "incomplete COLDPLUG lines\n--- console ---\n{console}"
        ));
    };
    let (u, d) = (u / 100.0, d / 100.0);
    let (ur, dr) = (ur / 1024.0, dr / 1024.0);
    // The two daemons of a run are measured back to back, so the ratio of each run is
    // less disturbed by this VM's slow and fast spells than the ratio of the medians.
    let ratios = paired_ratios(&rows, "devmaster_cs", "udevd_cs");
    let (Some(rm), Some(lo), Some(hi)) = (
        median(ratios.clone()),
        ratios.iter().copied().reduce(f64::min),
        ratios.iter().copied().reduce(f64::max),
    ) else {
        return Err(format!("no paired runs\n--- console ---\n{console}"));
    };
    let met = |ok: bool| if ok { "yes" } else { "**no**" };
    let table = format!(
        "| measure | systemd-udevd 252 | devmaster | devmaster / udevd | target | met |\n\
         |---|---|---|---|---|---|\n\
         | coldplug: trigger subsystems + devices, settle ({devices:.0} device nodes), medians | {u:.2} s | {d:.2} s | {:.2} | ≤ 0.5 | {} |\n\
         | the same, median of each run's ratio (range {lo:.2}–{hi:.2}) | | | {rm:.2} | ≤ 0.5 | {} |\n\
         | daemon RSS after the coldplug | {ur:.2} MiB | {dr:.2} MiB | {:.2} | ≤ 1.0 | {} |\n",
        d / u,
        met(d <= 0.5 * u),
        met(rm <= 0.5),
        dr / ur,
        met(dr <= ur),
    );
    println!("\n{table}");
    let page = format!(
        "# Coldplug: devmaster against systemd-udevd\n\n\
         Measured with `cargo xtask bench-coldplug --runs {runs}` (medians of {runs} runs; the\n\
         two daemons alternate in one boot of the test VM: QEMU TCG, 1 vCPU, Debian's cloud\n\
         kernel; Debian's 252 udev rules unchanged; no hwdb.bin in the image for either).\n\
         Each run starts the daemon on an empty `/run/udev`, then times\n\
         `trigger --type=subsystems --action=add`, `trigger --type=devices --action=add` and\n\
         `settle` (udevadm for udevd, devctl for devmaster); RSS is the daemon's main process\n\
         after the coldplug (workers not counted, for either).\n\n{table}"
    );
    let doc = crate::root().join("docs/coldplug.md");
    // Sections written by hand (from the first "## " heading on) are kept.
    let old = std::fs::read_to_string(&doc).unwrap_or_default();
    let kept = old.find("\n## ").and_then(|i| old.get(i..)).unwrap_or("");
    let page = format!("{page}{kept}");
    std::fs::write(&doc, page).map_err(|e| format!("{}: {e}", doc.display()))?;
    eprintln!("wrote {}", doc.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_medians() {
        let console = "noise\nCOLDPLUG run=1 devices=10 udevd_cs=120 devmaster_cs=40 udevd_rss_kb=4000 devmaster_rss_kb=2000\r\nCOLDPLUG run=2 devices=10 udevd_cs=100 devmaster_cs=60 udevd_rss_kb=4100 devmaster_rss_kb=2100\nCOLDPLUG done\n";
        let rows = parse(console);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].get("udevd_cs"), Some(&100.0));
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
        assert_eq!(
            paired_ratios(&rows, "devmaster_cs", "udevd_cs"),
            vec![40.0 / 120.0, 0.6]
        );
    }

    #[test]
    fn the_overlay_carries_the_script() {
        let text = String::from_utf8_lossy(&overlay(2)).into_owned();
        assert!(text.contains("usr/lib/sysmaster/coldplug.sh\0"));
        assert!(text.contains("while [ $i -lt 2 ]"));
        assert!(text.contains("usr/lib/systemd/systemd-udevd\0"));
    }
}
