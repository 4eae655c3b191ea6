//! `cargo xtask bench [--units 0,100,1000] [--runs K] [--init both|systemd|sysmaster]`:
//! sysmaster against Debian's systemd 252, each as PID 1 of the same VM image.
//!
//! The image is the cached Debian minbase tree (`rootfs::debian_rootfs`) packed once into
//! a newc archive (`<target>/bench/<tree>.cpio`, docs, man pages, locales and apt lists
//! left out), followed per N by a small overlay archive (later files win): our static musl
//! binaries at their installed paths, N generated services (`bench_write_units`, the unit
//! set of `bench-manager`), `bench-boot.target` and the measuring unit. The kernel unpacks
//! both into its root tmpfs and runs `rdinit=/lib/systemd/systemd` or
//! `rdinit=/usr/lib/sysmaster/init`, with `systemd.unit=bench-boot.target` for both.
//!
//! `bench-boot.target` wants `bench.target` (which wants the N units and is ordered after
//! them) and `bench-report.service`, ordered after `bench.target`. The boot target is not
//! `bench.target` itself so that starting `bench.target` again from the CLI does not run the
//! report again. The report (a shell script, [`REPORT`]) prints `BENCH key=value` lines on
//! the console, which the host parses ([`parse_bench_lines`]), then powers off; the host
//! times the power-off from the marker line to QEMU's exit. See [`METRICS`] for what is
//! measured and how, and `docs/benchmarks.md` (written here) for the figures.

use crate::image::{cpio_node, find_kernel, Cpio, DIR, EXEC, FILE};
use crate::{bench_build, bench_write_units, ensure_apt, median, root, step, Libc, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Guest memory: the archive is unpacked into RAM.
const GUEST_MIB: &str = "2048";

/// Kernel command line shared by both inits (`rdinit=` is added per init).
const CMDLINE: &str = "console=ttyS0 quiet panic=-1 log_buf_len=8M systemd.unit=bench-boot.target";

/// The two inits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Init {
    Systemd,
    Sysmaster,
}

impl Init {
    fn name(self) -> &'static str {
        match self {
            Init::Systemd => "systemd",
            Init::Sysmaster => "sysmaster",
        }
    }

    fn rdinit(self) -> &'static str {
        match self {
            Init::Systemd => "/lib/systemd/systemd",
            Init::Sysmaster => "/usr/lib/sysmaster/init",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    units: Vec<usize>,
    runs: usize,
    inits: Vec<Init>,
}

fn parse_args(args: &[String]) -> Result<Options> {
    let mut o = Options {
        units: vec![0, 100, 1000],
        runs: 3,
        inits: vec![Init::Systemd, Init::Sysmaster],
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |what: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{what} needs a value"))
        };
        match a.as_str() {
            "--units" => {
                let v = value("--units")?;
                o.units = v
                    .split(',')
                    .map(|n| n.trim().parse::<usize>())
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|_| format!("--units takes numbers separated by commas, not {v}"))?;
                if o.units.is_empty() {
                    return Err("--units needs at least one number".into());
                }
            }
            "--runs" => {
                o.runs = value("--runs")?
                    .parse()
                    .ok()
                    .filter(|&n: &usize| n > 0)
                    .ok_or("--runs needs a positive number")?;
            }
            "--init" => {
                o.inits = match value("--init")?.as_str() {
                    "both" => vec![Init::Systemd, Init::Sysmaster],
                    "systemd" => vec![Init::Systemd],
                    "sysmaster" => vec![Init::Sysmaster],
                    other => {
                        return Err(format!("--init takes both|systemd|sysmaster, not {other}"))
                    }
                }
            }
            other => return Err(format!("bench: unknown argument {other}")),
        }
    }
    Ok(o)
}

/// One measure of the table.
struct Metric {
    key: &'static str,
    title: &'static str,
    unit: &'static str,
    /// The target ratio sysmaster/systemd (at most), if there is one.
    target: Option<f64>,
    /// The target applies only at this N.
    target_at: Option<usize>,
}

/// What is measured, in table order. Guest-side times are differences of `date +%s.%N`
/// taken by the report script around one CLI call; the boot time is a difference of two
/// kernel log timestamps (the same clock).
const METRICS: &[Metric] = &[
    Metric {
        key: "boot",
        title: "init exec → bench.target reached",
        unit: "s",
        target: Some(0.2),
        target_at: Some(1000),
    },
    Metric {
        key: "rss",
        title: "PID 1 + manager RSS after boot",
        unit: "MiB",
        target: Some(0.25),
        target_at: None,
    },
    Metric {
        key: "cpu",
        title: "PID 1 + manager CPU time, boot to target (profile)",
        unit: "s",
        target: None,
        target_at: None,
    },
    Metric {
        key: "stop",
        title: "stop N units (CLI)",
        unit: "s",
        target: Some(0.3),
        target_at: None,
    },
    Metric {
        key: "start",
        title: "start N units (CLI)",
        unit: "s",
        target: Some(0.3),
        target_at: None,
    },
    Metric {
        key: "reload",
        title: "daemon-reload",
        unit: "s",
        target: Some(0.2),
        target_at: None,
    },
    Metric {
        key: "shutdown",
        title: "poweroff → QEMU exit",
        unit: "s",
        target: Some(0.3),
        target_at: None,
    },
    Metric {
        key: "recovery",
        title: "recovery after manager SIGKILL (ours only)",
        unit: "s",
        target: None,
        target_at: None,
    },
    Metric {
        key: "floor",
        title: "a shell spawning the same processes, same guest (floor)",
        unit: "s",
        target: None,
        target_at: None,
    },
];

/// The guest side: run by `bench-report.service` once `bench.target` is reached; prints
/// `BENCH key=value` lines on the console, then powers off.
const REPORT: &str = r#"#!/bin/sh
# cargo xtask bench: the guest side. Runs once bench.target is reached.
echo "BENCH-MARK target reached" > /dev/kmsg
exec > /dev/console 2>&1
if [ "$(readlink /proc/1/exe)" = /usr/lib/sysmaster/init ]; then ctl=sctl; else ctl=systemctl; fi
klog() { dmesg | sed -n "s/^\[ *\([0-9][0-9.]*\)\] $1\$/\1/p" | head -n 1; }
now() { date +%s.%N; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$1/status"; }
active() {
    $ctl list-units --no-legend --state=active --type=service 2>/dev/null |
        grep -c 'b[0-9][0-9][0-9][0-9][0-9]\.service'
}
echo "BENCH init=$ctl"
echo "BENCH init_exec=$(klog 'Run .* as init process')"
echo "BENCH target=$(klog 'BENCH-MARK target reached')"
echo "BENCH rss_pid1_kb=$(rss 1)"
m=$(pgrep -x sysmaster | head -n 1)
echo "BENCH rss_manager_kb=$([ -n "$m" ] && rss "$m" || echo 0)"
# CPU time (utime + stime, in clock ticks) PID 1 and the manager used up to here. PID 1's
# includes the kernel's unpacking of the initramfs before it execs init (about 0.9 s
# under TCG, the same for both inits).
ticks() { s=$(cat "/proc/$1/stat"); s=${s##*) }; set -- $s; echo $((${12} + ${13})); }
echo "BENCH cpu_pid1_ticks=$(ticks 1)"
echo "BENCH cpu_manager_ticks=$([ -n "$m" ] && ticks "$m" || echo 0)"
echo "BENCH clk_tck=$(getconf CLK_TCK)"
echo "BENCH active_boot=$(active)"
units=$(cat /etc/bench/units)
t0=$(now); $ctl stop bench.target $units || echo "BENCH error=stop"; t1=$(now)
echo "BENCH stop_begin=$t0"; echo "BENCH stop_end=$t1"
echo "BENCH active_stopped=$(active)"
t0=$(now); $ctl start bench.target || echo "BENCH error=start"; t1=$(now)
echo "BENCH start_begin=$t0"; echo "BENCH start_end=$t1"
echo "BENCH active_started=$(active)"
t0=$(now); $ctl daemon-reload || echo "BENCH error=reload"; t1=$(now)
echo "BENCH reload_begin=$t0"; echo "BENCH reload_end=$t1"
if [ "$ctl" = sctl ]; then
    m=$(pgrep -x sysmaster | head -n 1)
    i=0
    t0=$(now); kill -9 "$m"
    until sctl list-jobs > /dev/null 2>&1; do
        i=$((i + 1)); if [ "$i" -gt 5000 ]; then echo "BENCH error=recovery"; break; fi
    done
    t1=$(now)
    echo "BENCH recovery_begin=$t0"; echo "BENCH recovery_end=$t1"
    echo "BENCH active_recovered=$(active)"
fi
# The floor: this shell spawning the same processes as the N units (N/2 /bin/true run
# one after the other, N/2 `sleep infinity` left running), with no manager involved.
half=$(($(echo $units | wc -w) / 2))
t0=$(now)
i=0; while [ $i -lt $half ]; do /bin/true; i=$((i + 1)); done
pids=; i=0; while [ $i -lt $half ]; do sleep infinity & pids="$pids $!"; i=$((i + 1)); done
t1=$(now)
[ -n "$pids" ] && kill $pids
echo "BENCH floor_begin=$t0"; echo "BENCH floor_end=$t1"
echo "BENCH poweroff=1"
$ctl --no-block poweroff || echo "BENCH error=poweroff"
"#;

const BOOT_TARGET: &str = "[Unit]\nDescription=bench boot\nDefaultDependencies=no\nWants=bench.target bench-report.service\n";

const REPORT_UNIT: &str = "[Unit]\nDescription=bench report\nDefaultDependencies=no\nAfter=bench.target\n[Service]\nType=oneshot\nTimeoutStartSec=infinity\nStandardOutput=tty\nStandardError=tty\nExecStart=/etc/bench/report.sh\n";

/// The `BENCH key=value` lines of a console log whose value is a number (a line may be
/// preceded by other output on the same console line). The last value of a key wins.
fn parse_bench_lines(console: &str) -> BTreeMap<String, f64> {
    let mut map = BTreeMap::new();
    for line in console.lines() {
        let Some((_, rest)) = line.split_once("BENCH ") else {
            continue;
        };
        let Some((key, value)) = rest.trim().split_once('=') else {
            continue;
        };
        if let Ok(v) = value.trim().parse::<f64>() {
            map.insert(key.to_string(), v);
        }
    }
    map
}

/// The errors the report printed (`BENCH error=what`).
fn bench_errors(console: &str) -> Vec<String> {
    console
        .lines()
        .filter_map(|l| {
            l.split_once("BENCH error=")
                .map(|(_, e)| e.trim().to_string())
        })
        .collect()
}

/// The measures of one boot from its `BENCH` values and the host-side shutdown time;
/// checks that the units really were up and down when they should be.
fn run_metrics(
    v: &BTreeMap<String, f64>,
    n: usize,
    shutdown: Option<f64>,
) -> Result<BTreeMap<&'static str, f64>> {
    let get = |k: &str| v.get(k).copied().ok_or(format!("no BENCH {k}= line"));
    let n = n as f64;
    for (key, want) in [
        ("active_boot", n),
        ("active_stopped", 0.0),
        ("active_started", n),
    ] {
        let got = get(key)?;
        if got != want {
            return Err(format!(
                "{key}: {got} bench services active, expected {want}"
            ));
        }
    }
    let mut m = BTreeMap::new();
    m.insert("boot", get("target")? - get("init_exec")?);
    m.insert(
        "rss",
        (get("rss_pid1_kb")? + get("rss_manager_kb").unwrap_or(0.0)) / 1024.0,
    );
    if let (Ok(p), Ok(hz)) = (get("cpu_pid1_ticks"), get("clk_tck")) {
        if hz > 0.0 {
            m.insert("cpu", (p + get("cpu_manager_ticks").unwrap_or(0.0)) / hz);
        }
    }
    for key in ["stop", "start", "reload", "recovery", "floor"] {
        let (b, e) = (v.get(&format!("{key}_begin")), v.get(&format!("{key}_end")));
        if let (Some(b), Some(e)) = (b, e) {
            m.insert(key, e - b);
        }
    }
    if let Some(s) = shutdown {
        m.insert("shutdown", s);
    }
    Ok(m)
}

/// All runs of one init at one N.
type Runs = Vec<BTreeMap<&'static str, f64>>;

/// The median of a metric over runs that have it, and how many did.
fn metric_median(runs: &Runs, key: &str) -> Option<(f64, usize)> {
    let v: Vec<f64> = runs.iter().filter_map(|r| r.get(key).copied()).collect();
    (!v.is_empty())
        .then(|| (v.len(), median(v)))
        .map(|(n, m)| (m, n))
}

/// One row of the result: a metric at one N, both medians and the ratio.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    n: usize,
    key: &'static str,
    title: &'static str,
    unit: &'static str,
    systemd: Option<(f64, usize)>,
    ours: Option<(f64, usize)>,
    target: Option<f64>,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        match (self.ours, self.systemd) {
            (Some((o, _)), Some((s, _))) if s > 0.0 => Some(o / s),
            _ => None,
        }
    }

    /// `Some(true)` when the row has a target and the ratio meets it.
    fn met(&self) -> Option<bool> {
        Some(self.ratio()? <= self.target?)
    }
}

fn rows(results: &BTreeMap<(usize, Init), Runs>, units: &[usize]) -> Vec<Row> {
    let mut out = Vec::new();
    for &n in units {
        for m in METRICS {
            let get = |init| {
                results
                    .get(&(n, init))
                    .and_then(|r| metric_median(r, m.key))
            };
            let row = Row {
                n,
                key: m.key,
                title: m.title,
                unit: m.unit,
                systemd: get(Init::Systemd),
                ours: get(Init::Sysmaster),
                target: m.target.filter(|_| m.target_at.is_none_or(|at| at == n)),
            };
            if row.systemd.is_some() || row.ours.is_some() {
                out.push(row);
            }
        }
    }
    out
}

fn fmt_value(v: f64, unit: &str) -> String {
    if unit == "s" && v < 1.0 {
        format!("{:.0} ms", v * 1000.0)
    } else if v < 10.0 {
        format!("{v:.2} {unit}")
    } else {
        format!("{v:.1} {unit}")
    }
}

fn markdown_table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| N | measure | systemd 252 | sysmaster | sysmaster / systemd | target | met |\n|---|---|---|---|---|---|---|\n",
    );
    let cell = |v: Option<(f64, usize)>, unit: &str| match v {
        Some((m, runs)) => format!("{} ({runs})", fmt_value(m, unit)),
        None => "—".to_string(),
    };
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.n,
            r.title,
            cell(r.systemd, r.unit),
            cell(r.ours, r.unit),
            r.ratio().map_or("—".into(), |x| format!("{x:.2}")),
            r.target.map_or("—".into(), |t| format!("≤ {t}")),
            match r.met() {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            }
        );
    }
    s
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart of the rows that have a ratio: per row a grey bar for systemd
/// (1.0, the unit of the scale) and a blue one for sysmaster (its ratio), with the target
/// as a red tick.
fn svg_chart(rows: &[Row]) -> String {
    let rows: Vec<&Row> = rows.iter().filter(|r| r.ratio().is_some()).collect();
    let (label_w, bar_w, bar_h, gap) = (330.0, 420.0, 11.0, 12.0);
    let row_h = 2.0 * bar_h + gap;
    let top = 40.0;
    let max = rows.iter().filter_map(|r| r.ratio()).fold(1.0f64, f64::max) * 1.05;
    let x = |ratio: f64| label_w + bar_w * ratio / max;
    let height = top + row_h * rows.len() as f64 + 30.0;
    let width = label_w + bar_w + 90.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<text x="10" y="18" font-size="14">sysmaster / systemd 252 (medians; systemd = 1; shorter is better; red: target)</text>"#
    );
    let _ = writeln!(
        s,
        r##"<rect x="{label_w}" y="26" width="10" height="10" fill="#999"/><text x="{}" y="35">systemd</text><rect x="{}" y="26" width="10" height="10" fill="#2b6cb0"/><text x="{}" y="35">sysmaster</text>"##,
        label_w + 14.0,
        label_w + 80.0,
        label_w + 94.0
    );
    for (i, r) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let ratio = r.ratio().unwrap_or(0.0);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            y + bar_h + 4.0,
            xml_escape(&format!("N={}: {}", r.n, r.title))
        );
        let _ = writeln!(
            s,
            r##"<rect class="bar systemd" x="{label_w}" y="{y}" width="{:.1}" height="{bar_h}" fill="#999"/>"##,
            x(1.0) - label_w
        );
        let _ = writeln!(
            s,
            r##"<rect class="bar sysmaster" x="{label_w}" y="{}" width="{:.1}" height="{bar_h}" fill="#2b6cb0"/>"##,
            y + bar_h,
            x(ratio) - label_w
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}">{ratio:.2}</text>"#,
            x(ratio) + 4.0,
            y + 2.0 * bar_h - 1.0
        );
        if let Some(t) = r.target {
            let _ = writeln!(
                s,
                r#"<line x1="{:.1}" y1="{}" x2="{:.1}" y2="{}" stroke="red" stroke-width="2"/>"#,
                x(t),
                y - 2.0,
                x(t),
                y + 2.0 * bar_h + 2.0
            );
        }
    }
    let axis_y = top + row_h * rows.len() as f64;
    let _ = writeln!(
        s,
        r#"<line x1="{label_w}" y1="{}" x2="{label_w}" y2="{axis_y}" stroke="black"/>"#,
        top - 4.0
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">1 (systemd)</text>"#,
        x(1.0),
        axis_y + 16.0
    );
    s.push_str("</svg>\n");
    s
}

/// A short description of the host: CPU model, cores, memory, kernel, QEMU.
fn machine(kernel: &Path) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown", |(_, m)| m.trim())
        .to_string();
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown".to_string(), |kb| {
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    let host_kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let qemu = Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "- host CPU: {model}, {cores} logical cores; {mem} RAM; host kernel {}; load average \
         at the end of the run {load} (other work on the host slows both inits alike, as runs \
         alternate)\n\
         - {qemu}, `-accel tcg` (no KVM here), 1 vCPU, {GUEST_MIB} MiB\n\
         - guest kernel: {} (Debian cloud kernel), root filesystem = the initramfs\n",
        host_kernel.trim(),
        kernel
            .file_name()
            .map_or(String::new(), |f| f.to_string_lossy().into_owned()),
    )
}

/// Packs the Debian tree into a newc archive once (cached next to the build).
fn base_archive(tree: &Path, out_dir: &Path) -> Result<PathBuf> {
    let name = tree
        .file_name()
        .map_or("debian".into(), |n| n.to_string_lossy().into_owned());
    let path = out_dir.join(format!("{name}.cpio"));
    if path.is_file() {
        return Ok(path);
    }
    step(&format!(
        "packing {} into {}",
        tree.display(),
        path.display()
    ));
    let partial = path.with_extension("partial");
    let file =
        std::fs::File::create(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    let mut w = std::io::BufWriter::new(file);
    let mut ino = 0u32;
    let mut buf = Vec::new();
    pack_dir(tree, "", &mut w, &mut ino, &mut buf)?;
    buf.clear();
    cpio_node(&mut buf, 0, "TRAILER!!!", 0, &[], (0, 0));
    w.write_all(&buf).map_err(|e| e.to_string())?;
    w.flush().map_err(|e| e.to_string())?;
    drop(w);
    std::fs::rename(&partial, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// What the benchmark image leaves out of the tree: documentation, translations and apt's
/// package lists, read by nothing at boot.
const SKIP: &[&str] = &[
    "usr/share/doc",
    "usr/share/man",
    "usr/share/locale",
    "usr/share/info",
    "var/lib/apt/lists",
    "var/cache/apt",
];

fn pack_dir(
    dir: &Path,
    rel: &str,
    w: &mut impl Write,
    ino: &mut u32,
    buf: &mut Vec<u8>,
) -> Result<()> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if SKIP.contains(&rel.as_str()) {
            continue;
        }
        let path = e.path();
        let meta =
            std::fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let ft = meta.file_type();
        *ino += 1;
        buf.clear();
        if ft.is_dir() {
            cpio_node(buf, *ino, &rel, meta.mode(), &[], (0, 0));
        } else if ft.is_symlink() {
            let target =
                std::fs::read_link(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let target = target.to_string_lossy().into_owned();
            cpio_node(buf, *ino, &rel, meta.mode(), target.as_bytes(), (0, 0));
        } else if ft.is_file() {
            let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            cpio_node(buf, *ino, &rel, meta.mode(), &data, (0, 0));
        } else if ft.is_char_device() {
            let rdev = meta.rdev();
            let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
            let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
            let (major, minor) = (
                u32::try_from(major).unwrap_or(0),
                u32::try_from(minor).unwrap_or(0),
            );
            cpio_node(buf, *ino, &rel, meta.mode(), &[], (major, minor));
        } else {
            continue;
        }
        w.write_all(buf).map_err(|e| e.to_string())?;
        if ft.is_dir() {
            pack_dir(&path, &rel, w, ino, buf)?;
        }
    }
    Ok(())
}

/// The per-N overlay: our binaries, the generated units, the boot target and the report.
fn overlay(bins: &Path, units_dir: &Path, n: usize) -> Result<Vec<u8>> {
    let _ = std::fs::remove_dir_all(units_dir);
    std::fs::create_dir_all(units_dir).map_err(|e| format!("{}: {e}", units_dir.display()))?;
    let names = bench_write_units(units_dir, n)?;
    let mut c = Cpio::new();
    c.add("usr/lib/sysmaster", DIR, &[]);
    c.add("etc/bench", DIR, &[]);
    c.file("usr/lib/sysmaster/init", EXEC, &bins.join("sysmaster-init"))?;
    c.file("usr/lib/sysmaster/sysmaster", EXEC, &bins.join("sysmaster"))?;
    c.file("usr/bin/sctl", EXEC, &bins.join("sctl"))?;
    c.add("etc/bench/report.sh", EXEC, REPORT.as_bytes());
    c.add(
        "etc/bench/units",
        FILE,
        format!("{}\n", names.join(" ")).as_bytes(),
    );
    let mut files: Vec<_> = std::fs::read_dir(units_dir)
        .map_err(|e| format!("{}: {e}", units_dir.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        c.file(&format!("etc/systemd/system/{name}"), FILE, &f)?;
    }
    c.add(
        "etc/systemd/system/bench-boot.target",
        FILE,
        BOOT_TARGET.as_bytes(),
    );
    c.add(
        "etc/systemd/system/bench-report.service",
        FILE,
        REPORT_UNIT.as_bytes(),
    );
    Ok(c.finish())
}

/// The result of one boot: the console, the `BENCH` values and the power-off time.
struct Boot {
    console: String,
    shutdown: Option<f64>,
    exited: bool,
}

/// Boots the image once; kills QEMU (the one started here) when it runs past `limit`.
fn boot_once(kernel: &Path, image: &Path, init: Init, limit: Duration, log: &Path) -> Result<Boot> {
    let mut log = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut child = Command::new("qemu-system-x86_64")
        .args(["-accel", "tcg", "-m", GUEST_MIB, "-smp", "1", "-no-reboot"])
        .args(["-display", "none", "-serial", "stdio", "-monitor", "none"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(image)
        .arg("-append")
        .arg(format!("{CMDLINE} rdinit={}", init.rdinit()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run qemu-system-x86_64: {e}"))?;
    let (tx, rx) = mpsc::channel::<(Instant, String)>();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut r = std::io::BufReader::new(out);
            let mut line = Vec::new();
            while r.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                let text = String::from_utf8_lossy(&line).into_owned();
                if tx.send((Instant::now(), text)).is_err() {
                    break;
                }
                line.clear();
            }
        });
    }
    let deadline = Instant::now() + limit;
    let mut console = String::new();
    let mut marker = None;
    let mut timed_out = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((at, line)) => {
                if marker.is_none() && line.contains("BENCH poweroff=") {
                    marker = Some(at);
                }
                // Written as it comes, to follow a slow boot with `tail -f`.
                let _ = log.write_all(line.as_bytes());
                console.push_str(&line);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = true;
                break;
            }
        }
    }
    // QEMU closed its output: it is exiting. Wait for it within the same deadline.
    let exited_at = loop {
        match child.try_wait() {
            Ok(Some(_)) => break Some(Instant::now()),
            Ok(None) if !timed_out && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    Ok(Boot {
        console,
        shutdown: marker
            .zip(exited_at)
            .map(|(m, e)| e.saturating_duration_since(m).as_secs_f64()),
        exited: exited_at.is_some(),
    })
}

/// `cargo xtask bench`.
pub fn bench(args: &[String]) -> Result<()> {
    let o = parse_args(args)?;
    ensure_apt(&[("qemu-system-x86_64", "qemu-system-x86")])?;
    let kernel = find_kernel()?;
    let tree = crate::rootfs::debian_rootfs()?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let bins = bench_build(Libc::Musl, &target)?;
    let out_dir = target.join("bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let base = base_archive(&tree, &out_dir)?;
    let mut results: BTreeMap<(usize, Init), Runs> = BTreeMap::new();
    let mut failures = Vec::new();
    for &n in &o.units {
        let image = out_dir.join(format!("image-{n}.cpio"));
        std::fs::copy(&base, &image).map_err(|e| format!("{}: {e}", image.display()))?;
        let extra = overlay(&bins, &out_dir.join(format!("units-{n}")), n)?;
        std::fs::OpenOptions::new()
            .append(true)
            .open(&image)
            .and_then(|mut f| f.write_all(&extra))
            .map_err(|e| format!("{}: {e}", image.display()))?;
        // systemd needs about 2 minutes per 1,000 units to boot under TCG, and as much
        // again to start them from the CLI.
        let limit = Duration::from_secs(300 + 3 * n as u64 / 5);
        for run in 1..=o.runs {
            for &init in &o.inits {
                step(&format!("N={n}, run {run}/{}: {}", o.runs, init.name()));
                let started = Instant::now();
                let log = out_dir.join(format!("console-{}-{n}-{run}.log", init.name()));
                let outcome = boot_once(&kernel, &image, init, limit, &log).and_then(|b| {
                    let errors = bench_errors(&b.console);
                    if !errors.is_empty() {
                        return Err(format!("the guest reported errors: {}", errors.join(", ")));
                    }
                    if !b.exited {
                        return Err(format!(
                            "QEMU still ran after {} s: killed",
                            limit.as_secs()
                        ));
                    }
                    run_metrics(&parse_bench_lines(&b.console), n, b.shutdown)
                });
                match outcome {
                    Ok(m) => {
                        eprintln!(
                            "{} in {:.0} s: {}",
                            init.name(),
                            started.elapsed().as_secs_f64(),
                            m.iter()
                                .map(|(k, v)| format!("{k}={v:.3}"))
                                .collect::<Vec<_>>()
                                .join(" ")
                        );
                        results.entry((n, init)).or_default().push(m);
                    }
                    Err(e) => {
                        let e = format!(
                            "{} N={n} run {run}: {e} (console: {})",
                            init.name(),
                            log.display()
                        );
                        eprintln!("{e}");
                        failures.push(e);
                    }
                }
            }
        }
        let _ = std::fs::remove_file(&image);
    }
    let rows = rows(&results, &o.units);
    let table = markdown_table(&rows);
    println!("\n{table}");
    let mut command = String::from("cargo xtask bench");
    for a in args {
        command.push(' ');
        command.push_str(a);
    }
    let docs = root().join("docs");
    std::fs::create_dir_all(&docs).map_err(|e| format!("{}: {e}", docs.display()))?;
    let md = benchmarks_md(&table, &machine(&kernel), &command, &o, &failures);
    std::fs::write(docs.join("benchmarks.md"), md)
        .map_err(|e| format!("docs/benchmarks.md: {e}"))?;
    std::fs::write(docs.join("benchmarks.svg"), svg_chart(&rows))
        .map_err(|e| format!("docs/benchmarks.svg: {e}"))?;
    eprintln!("wrote docs/benchmarks.md and docs/benchmarks.svg");
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} run(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        ))
    }
}

fn benchmarks_md(
    table: &str,
    machine: &str,
    command: &str,
    o: &Options,
    failures: &[String],
) -> String {
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut s = format!(
        "# Benchmarks: sysmaster against systemd 252\n\n\
         Written by `{command}` on {date}. Medians over the runs (the count is in parentheses); \
         the ratio is sysmaster's median over systemd's, and the target is the one issue 5 \
         sets for it (the boot target applies at N = 1,000).\n\n\
         ![sysmaster / systemd per measure](benchmarks.svg)\n\n{table}\n"
    );
    if !failures.is_empty() {
        s.push_str("\nRuns that failed (not in the medians):\n\n");
        for f in failures {
            let _ = writeln!(s, "- {f}");
        }
    }
    let _ = write!(
        s,
        "\n## Machine\n\n{machine}\n## Command\n\n```\n{command}\n```\n\n\
         Units: {:?}; runs per init and N: {}; inits: {}. One run is one boot of the VM.\n\n",
        o.units,
        o.runs,
        o.inits
            .iter()
            .map(|i| i.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    s.push_str(METHOD);
    s
}

const METHOD: &str = "## Method\n\n\
- **Image.** Debian bookworm minbase with `systemd systemd-sysv openssh-server cron procps \
iproute2` (`cargo xtask rootfs`), without documentation, translations and apt lists, packed \
into one cpio archive; per N a second archive appended to it adds our static musl binaries \
(`/usr/lib/sysmaster/init`, `/usr/lib/sysmaster/sysmaster`, `/usr/bin/sctl`) and the units \
in `/etc/systemd/system`. The kernel unpacks it into its root tmpfs (virtio-blk is a module \
of the cloud kernel) and runs `rdinit=/lib/systemd/systemd` or \
`rdinit=/usr/lib/sysmaster/init`; both get `systemd.unit=bench-boot.target` and `quiet`. \
The two inits boot the same bytes.\n\
- **Units.** N services, the set `cargo xtask bench-manager` uses: every even one \
`Type=oneshot`, `RemainAfterExit=yes`, `ExecStart=/bin/true`, every odd one `ExecStart=/bin/sleep \
infinity`; unit i > 0 wants (every third one requires) and is ordered after unit i/2; all are \
wanted by `bench.target`, which is ordered after them all; `DefaultDependencies=no` everywhere, \
so each init starts only this closure. `bench-boot.target` wants `bench.target` and \
`bench-report.service` (ordered after `bench.target`), the guest side of the benchmark; the \
boot target is not `bench.target` itself so that starting `bench.target` again does not run \
the report again.\n\
- **init exec → bench.target reached.** The kernel logs `Run /path as init process` just \
before it executes init; the report's first command writes a line to `/dev/kmsg`. The time \
is the difference of the two kernel log timestamps (one clock, microseconds). It includes \
starting the report's shell once the target is reached (the same for both).\n\
- **RSS.** `VmRSS` of PID 1, plus that of the `sysmaster` manager process for ours (systemd \
is one process), read right after the target is reached.\n\
- **stop / start N units.** `systemctl` or `sctl` `stop bench.target <the N services>`, then \
`start bench.target` (its start job ends when every service is up, through its ordering), \
timed in the guest with `date +%s.%N` around the one CLI call. The report checks that N \
services are active after boot and after the start, and none after the stop.\n\
- **daemon-reload.** The same, around `daemon-reload` with everything running.\n\
- **recovery (ours only).** `kill -9` of the manager, then `sctl list-jobs` in a loop until \
one is answered by the next manager (started by our PID 1, which holds the control socket).\n\
- **poweroff → QEMU exit.** The report prints a marker and runs `--no-block poweroff`; the \
host takes the time from reading the marker on the serial console to QEMU's exit \
(`-no-reboot`).\n\
- **N counts units**, half oneshot and half simple (the reference figures in the project's \
boot notes used N of each, 2N units: their N = 1,000 is this N = 2,000).\n\
- **Console.** Both run with `quiet`: both then show only failures on the console (the \
serial port, costly under TCG); systemd logs to its journal, our manager to \
`/run/sysmaster/log`.\n\
- **CPU time (profile).** utime + stime of PID 1 (and of our manager) read from \
`/proc/PID/stat` when the target is reached. PID 1's includes the kernel's unpacking of the \
initramfs before it executes init (about 0.9 s here, the same for both).\n\
- **floor (profile).** The report's shell runs N/2 `/bin/true` one after the other and \
starts N/2 `sleep infinity` in the background, timed like the CLI calls: what creating the \
same processes costs in this guest with no manager at all.\n\
- Guest-side times include one fork and exec of `date` (the same for both); the \
power-off time includes the serial console's latency (the same for both).\n\
- Everything runs under TCG (no KVM on this machine), about ten times slower than native \
for fork/exec-heavy work: compare ratios, not absolute times with native figures.\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn arguments_choose_units_runs_and_inits() {
        let o = parse_args(&[]).unwrap();
        assert_eq!(o.units, vec![0, 100, 1000]);
        assert_eq!(o.runs, 3);
        assert_eq!(o.inits, vec![Init::Systemd, Init::Sysmaster]);
        let o = parse_args(&args("--units 0,100 --runs 1 --init sysmaster")).unwrap();
        assert_eq!(o.units, vec![0, 100]);
        assert_eq!(o.runs, 1);
        assert_eq!(o.inits, vec![Init::Sysmaster]);
        assert!(parse_args(&args("--runs 0")).is_err());
        assert!(parse_args(&args("--units 1,x")).is_err());
        assert!(parse_args(&args("--init openrc")).is_err());
        assert!(parse_args(&args("--units")).is_err());
    }

    #[test]
    fn bench_lines_are_found_among_other_console_output() {
        let console = "[   1.2] random kernel line\r\n\
                       BENCH init_exec=1.234567\r\n\
                       sysmaster: b00001.service: Started.BENCH target=12.5\n\
                       BENCH init=sctl\n\
                       BENCH rss_pid1_kb=\n\
                       BENCH error=stop\n";
        let v = parse_bench_lines(console);
        assert_eq!(v.get("init_exec"), Some(&1.234567));
        assert_eq!(v.get("target"), Some(&12.5));
        // Not numbers: left out.
        assert!(!v.contains_key("init"));
        assert!(!v.contains_key("rss_pid1_kb"));
        assert_eq!(bench_errors(console), vec!["stop".to_string()]);
    }

    fn values(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn metrics_are_differences_and_sums() {
        let v = values(&[
            ("init_exec", 1.5),
            ("target", 4.0),
            ("rss_pid1_kb", 1024.0),
            ("rss_manager_kb", 3072.0),
            ("active_boot", 10.0),
            ("active_stopped", 0.0),
            ("active_started", 10.0),
            ("stop_begin", 100.0),
            ("stop_end", 100.25),
            ("start_begin", 101.0),
            ("start_end", 103.0),
            ("reload_begin", 104.0),
            ("reload_end", 104.5),
            ("cpu_pid1_ticks", 30.0),
            ("cpu_manager_ticks", 120.0),
            ("clk_tck", 100.0),
            ("floor_begin", 105.0),
            ("floor_end", 106.5),
        ]);
        let m = run_metrics(&v, 10, Some(0.7)).unwrap();
        assert_eq!(m.get("cpu"), Some(&1.5));
        assert_eq!(m.get("floor"), Some(&1.5));
        assert_eq!(m.get("boot"), Some(&2.5));
        assert_eq!(m.get("rss"), Some(&4.0));
        assert_eq!(m.get("stop"), Some(&0.25));
        assert_eq!(m.get("start"), Some(&2.0));
        assert_eq!(m.get("reload"), Some(&0.5));
        assert_eq!(m.get("shutdown"), Some(&0.7));
        assert!(!m.contains_key("recovery"));
        // A unit left running after the stop makes the run invalid.
        let mut bad = v.clone();
        bad.insert("active_stopped".into(), 1.0);
        assert!(run_metrics(&bad, 10, None).is_err());
        // So does a missing line.
        let mut bad = v;
        bad.remove("target");
        assert!(run_metrics(&bad, 10, None).is_err());
    }

    fn run(pairs: &[(&'static str, f64)]) -> BTreeMap<&'static str, f64> {
        pairs.iter().copied().collect()
    }

    fn sample() -> Vec<Row> {
        let mut results: BTreeMap<(usize, Init), Runs> = BTreeMap::new();
        results.insert(
            (1000, Init::Systemd),
            vec![
                run(&[("boot", 100.0), ("rss", 20.0)]),
                run(&[("boot", 110.0), ("rss", 22.0)]),
                run(&[("boot", 90.0), ("rss", 21.0)]),
            ],
        );
        results.insert(
            (1000, Init::Sysmaster),
            vec![
                run(&[("boot", 30.0), ("rss", 4.0), ("recovery", 0.1)]),
                run(&[("boot", 10.0), ("rss", 4.0), ("recovery", 0.3)]),
            ],
        );
        results.insert((0, Init::Systemd), vec![run(&[("boot", 1.0)])]);
        results.insert((0, Init::Sysmaster), vec![run(&[("boot", 0.5)])]);
        rows(&results, &[0, 1000])
    }

    #[test]
    fn rows_hold_medians_ratios_and_targets() {
        let rows = sample();
        let boot0 = rows.iter().find(|r| r.n == 0 && r.key == "boot").unwrap();
        assert_eq!(boot0.ratio(), Some(0.5));
        // The boot target applies only at N = 1,000.
        assert_eq!(boot0.target, None);
        assert_eq!(boot0.met(), None);
        let boot = rows
            .iter()
            .find(|r| r.n == 1000 && r.key == "boot")
            .unwrap();
        assert_eq!(boot.systemd, Some((100.0, 3)));
        assert_eq!(boot.ours, Some((20.0, 2)));
        assert_eq!(boot.ratio(), Some(0.2));
        assert_eq!(boot.met(), Some(true));
        let rss = rows.iter().find(|r| r.n == 1000 && r.key == "rss").unwrap();
        assert_eq!(rss.ratio(), Some(4.0 / 21.0));
        assert_eq!(rss.met(), Some(true));
        let rec = rows.iter().find(|r| r.key == "recovery").unwrap();
        assert_eq!(rec.ratio(), None);
        assert!((rec.ours.unwrap().0 - 0.2).abs() < 1e-12);
        // Measures nobody took are not rows.
        assert!(!rows.iter().any(|r| r.key == "reload"));
        let table = markdown_table(&rows);
        assert!(table.contains("| 1000 | init exec → bench.target reached | 100.0 s (3) | 20.0 s (2) | 0.20 | ≤ 0.2 | yes |"));
        assert_eq!(table.lines().count(), 2 + rows.len());
    }

    /// Checks that every tag is closed in order; returns the element names seen.
    fn well_formed(xml: &str) -> Vec<String> {
        let mut stack: Vec<String> = Vec::new();
        let mut seen = Vec::new();
        let mut rest = xml;
        while let Some(open) = rest.find('<') {
            let close = rest[open..].find('>').expect("unclosed tag") + open;
            let tag = &rest[open + 1..close];
            assert!(!tag.contains('<'), "'<' inside a tag: {tag}");
            // Attribute values are quoted and hold no raw '&' or '<'.
            assert_eq!(
                tag.matches('"').count() % 2,
                0,
                "unbalanced quotes in {tag}"
            );
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            } else {
                let name = tag.split_whitespace().next().unwrap().trim_end_matches('/');
                seen.push(name.to_string());
                if !tag.ends_with('/') {
                    stack.push(name.to_string());
                }
            }
            let text = &rest[..open];
            assert!(
                text.split('&')
                    .skip(1)
                    .all(|t| ["amp;", "lt;", "gt;", "quot;"]
                        .iter()
                        .any(|e| t.starts_with(e))),
                "raw '&' in text: {text}"
            );
            rest = &rest[close + 1..];
        }
        assert!(stack.is_empty(), "unclosed elements: {stack:?}");
        seen
    }

    #[test]
    fn the_chart_is_well_formed_with_one_bar_per_value() {
        let mut rows = sample();
        rows[0].title = "a <b> & c";
        let svg = svg_chart(&rows);
        let seen = well_formed(&svg);
        assert_eq!(seen.first().map(String::as_str), Some("svg"));
        let with_ratio = rows.iter().filter(|r| r.ratio().is_some()).count();
        assert_eq!(with_ratio, 3);
        assert_eq!(svg.matches("class=\"bar systemd\"").count(), with_ratio);
        assert_eq!(svg.matches("class=\"bar sysmaster\"").count(), with_ratio);
        // Targets: rss and boot at N = 1,000.
        assert_eq!(svg.matches("stroke=\"red\"").count(), 2);
        assert!(svg.contains("a &lt;b&gt; &amp; c"));
    }

    #[test]
    fn the_overlay_holds_units_binaries_and_report() {
        let dir = std::env::temp_dir().join(format!("bench-overlay-{}", std::process::id()));
        let bins = dir.join("bins");
        std::fs::create_dir_all(&bins).unwrap();
        for b in ["sysmaster-init", "sysmaster", "sctl"] {
            std::fs::write(bins.join(b), b).unwrap();
        }
        let bytes = overlay(&bins, &dir.join("units"), 4).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for name in [
            "usr/lib/sysmaster/init\0",
            "usr/bin/sctl\0",
            "etc/bench/report.sh\0",
            "etc/systemd/system/b00003.service\0",
            "etc/systemd/system/bench.target\0",
            "etc/systemd/system/bench-boot.target\0",
            "TRAILER!!!\0",
        ] {
            assert!(text.contains(name), "{name} missing");
        }
        assert!(!text.contains("b00004.service"));
        assert!(text.contains("b00000.service b00001.service b00002.service b00003.service\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
