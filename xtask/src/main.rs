//! `cargo xtask`: the project's set-up and automation commands. Each command installs what
//! it needs (apt packages, rustup components) and says clearly what failed.
//!
//! - `cargo xtask test`: the whole test suite, exactly what CI runs (`.ci/run`).
//! - `cargo xtask demo`: the main job until the VM boot exists: verifies the example unit
//!   directory and Debian's own unit files with `sctl verify`, shows `sctl cat`, then runs
//!   the manager on the examples and shows `sctl start`/`list-units`/`status`/`logs`.
//! - `cargo xtask bench-manager [--units N] [--runs K]`: the release manager's memory
//!   and start/stop/reload times with N generated units, against the cost of spawning the
//!   same processes directly (see [`bench_manager`]).

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo(),
        Some("bench-manager") => bench_manager(args.get(1..).unwrap_or_default()),
        _ => Err("usage: cargo xtask <test|demo|bench-manager>\n  test  run the whole test suite (what CI runs)\n  demo  verify unit files with sctl\n  bench-manager [--units N] [--runs K]  the manager's memory and start/stop times".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn step(title: &str) {
    eprintln!("\n==> {title}");
}

/// Runs a command in the repository root; fails with the command line in the message.
fn run(program: &str, args: &[&str]) -> Result<()> {
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs Debian packages that provide the given commands, when any is missing.
fn ensure_apt(needs: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = needs
        .iter()
        .filter(|(cmd, _)| !have(cmd))
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "missing Debian packages {missing:?}; run as root or `apt-get install {}`",
            missing.join(" ")
        ));
    }
    step(&format!("installing {}", missing.join(" ")));
    run("apt-get", &["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(missing.iter().copied());
    let status = Command::new("apt-get")
        .args(&args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if !status.success() {
        return Err(format!("apt-get install {} failed", missing.join(" ")));
    }
    Ok(())
}

/// The corpus test downloads Debian packages, which needs apt's package lists; a fresh
/// container has none.
fn ensure_apt_lists() -> Result<()> {
    let has_lists = std::fs::read_dir("/var/lib/apt/lists").is_ok_and(|entries| {
        entries
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().contains("_Packages"))
    });
    if has_lists {
        return Ok(());
    }
    if !is_root() {
        return Err("apt has no package lists; run `apt-get update` as root".to_string());
    }
    step("apt-get update (package lists for the corpus test)");
    run("apt-get", &["update", "-q"])
}

fn ensure_rustup_components() -> Result<()> {
    let have_fmt = Command::new("cargo")
        .args(["fmt", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let have_clippy = Command::new("cargo")
        .args(["clippy", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if have_fmt && have_clippy {
        return Ok(());
    }
    step("installing rustfmt and clippy");
    run("rustup", &["component", "add", "rustfmt", "clippy"])
}

/// The whole test suite: formatting, lints, then every test (unit, differential against
/// Debian's systemd tools, the Debian unit-file corpus and the property-based fuzzing).
fn test() -> Result<()> {
    ensure_rustup_components()?;
    // systemd-escape and systemd-analyze are the oracles of the differential tests;
    // apt-get and dpkg-deb fetch and unpack the corpus of Debian unit files.
    ensure_apt(&[
        ("systemd-escape", "systemd"),
        ("systemd-analyze", "systemd"),
        ("dpkg-deb", "dpkg"),
    ])?;
    ensure_apt_lists()?;
    step("cargo fmt --check");
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    step("cargo clippy --all-targets -- -D warnings");
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // The manager's end-to-end tests run the `sctl` binary, which cargo builds only for
    // sctl's own tests; building every binary first makes sure it is there and current.
    step("cargo build --workspace --bins");
    run("cargo", &["build", "--workspace", "--bins"])?;
    step("cargo test");
    run("cargo", &["test", "--workspace", "--no-fail-fast"])?;
    // The corpus test's listing of warnings, which cargo test does not show when it passes.
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    if let Ok(report) = std::fs::read_to_string(target.join("corpus-warnings.txt")) {
        step("Debian unit-file corpus");
        eprint!("{report}");
    }
    step("all tests passed");
    Ok(())
}

/// Verifies the example units and the systemd units installed on this machine.
fn demo() -> Result<()> {
    ensure_apt(&[("systemd-analyze", "systemd")])?;
    step("building sctl");
    run(
        "cargo",
        &["build", "--quiet", "--release", "--package", "sctl"],
    )?;
    let sctl = root().join("target/release/sctl");
    let sctl = sctl.to_str().ok_or("non-UTF-8 path")?;
    let examples = root().join("examples/units");
    let examples = examples.to_str().ok_or("non-UTF-8 path")?;

    step("sctl cat --unit-path examples/units web@blue.service   (template + drop-ins)");
    run(sctl, &["--unit-path", examples, "cat", "web@blue.service"])?;

    let names: Vec<String> = std::fs::read_dir(examples)
        .map_err(|e| format!("{examples}: {e}"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| !n.ends_with(".d") && !n.ends_with(".wants") && !n.contains("@."))
        .collect();
    step(&format!(
        "sctl verify --unit-path examples/units {}",
        names.join(" ")
    ));
    let mut args = vec!["--unit-path", examples, "verify"];
    args.extend(names.iter().map(String::as_str));
    run(sctl, &args)?;
    eprintln!("no errors");

    for dir in ["/lib/systemd/system", "/usr/lib/systemd/system"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut units: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.contains('.') && !n.ends_with(".d") && !n.ends_with(".wants"))
            .collect();
        units.sort();
        step(&format!(
            "sctl verify --unit-path {dir} <all {} units of Debian's systemd>",
            units.len()
        ));
        let mut args = vec!["--unit-path", dir, "verify"];
        args.extend(units.iter().map(String::as_str));
        let output = Command::new(sctl)
            .args(&args)
            .output()
            .map_err(|e| format!("cannot run sctl: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        let errors = text
            .lines()
            .filter(|l| l.contains(": error: ") || l.starts_with("error: "))
            .count();
        let warnings = text.lines().filter(|l| l.contains(": warning: ")).count();
        for line in text.lines().take(15) {
            eprintln!("  {line}");
        }
        eprintln!(
            "{} units: {errors} errors, {warnings} warnings (first lines above)",
            units.len()
        );
        if !output.status.success() {
            return Err(format!("sctl verify found errors in {dir}"));
        }
        break;
    }
    run_manager_demo(sctl, examples)
}

/// Runs the release manager on the example units in a scratch runtime directory, starts
/// the demo target and shows what sctl sees, then stops everything with SIGTERM.
fn run_manager_demo(sctl: &str, examples: &str) -> Result<()> {
    step("building sysmaster");
    run(
        "cargo",
        &["build", "--quiet", "--release", "--package", "manager"],
    )?;
    let runtime = std::env::temp_dir().join(format!("sysmaster-demo-{}", std::process::id()));
    let runtime_str = runtime.to_str().ok_or("non-UTF-8 path")?.to_string();
    step(&format!(
        "sysmaster --unit-path examples/units --runtime-dir {runtime_str} &"
    ));
    let mut manager = Command::new(root().join("target/release/sysmaster"))
        .args(["--unit-path", examples, "--runtime-dir", &runtime_str])
        .spawn()
        .map_err(|e| format!("cannot start sysmaster: {e}"))?;
    let control = runtime.join("control");
    for _ in 0..200 {
        if control.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let sctl_run = |args: &[&str]| -> Result<()> {
        step(&format!("sctl {}", args.join(" ")));
        let mut all = vec!["--runtime-dir", runtime_str.as_str()];
        all.extend_from_slice(args);
        // Output only: status exits 3 for an inactive unit, which is not a demo failure.
        Command::new(sctl)
            .args(&all)
            .status()
            .map(|_| ())
            .map_err(|e| format!("cannot run sctl: {e}"))
    };
    let result = (|| {
        sctl_run(&["start", "demo.target"])?;
        sctl_run(&["list-units"])?;
        sctl_run(&["status", "web@blue.service"])?;
        sctl_run(&["logs", "hello.service"])?;
        sctl_run(&["stop", "web@blue.service"])?;
        sctl_run(&["list-units", "--all", "--state=inactive"])
    })();
    step("stopping sysmaster (SIGTERM)");
    let _ = Command::new("kill")
        .args(["-TERM", &manager.id().to_string()])
        .status();
    let _ = manager.wait();
    let _ = std::fs::remove_dir_all(&runtime);
    result
}

// ---- bench-manager ----

/// The measurements of one benchmark run; times in seconds, sizes in MiB.
#[derive(Debug, Clone, Copy, Default)]
struct BenchRun {
    rss_idle: f64,
    rss_loaded: f64,
    rss_started: f64,
    rss_reloaded: f64,
    rss_stopped: f64,
    load: f64,
    start: f64,
    reload: f64,
    stop: f64,
    exit: f64,
    spawn_floor: f64,
    kill_floor: f64,
}

/// `cargo xtask bench-manager [--units N] [--runs K]`: builds the release `sysmaster` and
/// `sctl`, generates N services (every even one `Type=oneshot` running `/bin/true` with
/// `RemainAfterExit=yes`, every odd one running `sleep infinity`; unit i > 0 wants, or for
/// every third one requires, and is ordered after unit i/2, so the graph is a binary tree
/// of depth log2 N; all are wanted by `bench.target`, which is ordered after them all, so
/// that its start job, the one `sctl start` waits for, ends when every unit is up; no
/// default dependencies), and per run
/// starts a fresh manager on them and measures:
///
/// - RSS (`VmRSS`) idle, after `sctl status bench.target` loaded the closure, after
///   `sctl start bench.target` (every unit active), after `sctl daemon-reload`, and after
///   `sctl stop` of every unit;
/// - the wall time of those `sctl` calls, and of the manager's exit on SIGTERM;
/// - the floor: spawning the same N processes directly and reaping the `true`s
///   (`spawn floor`), then killing and reaping the `sleep`s (`kill floor`).
///
/// Prints medians over K runs and the ratios of start and stop to their floors.
fn bench_manager(args: &[String]) -> Result<()> {
    let mut units = 1000usize;
    let mut runs = 3usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |what: &str| -> Result<usize> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|&n: &usize| n > 0)
                .ok_or_else(|| format!("{what} needs a positive number"))
        };
        match a.as_str() {
            "--units" => units = number("--units")?,
            "--runs" => runs = number("--runs")?,
            other => return Err(format!("bench-manager: unknown argument {other}")),
        }
    }
    step("building the release sysmaster and sctl");
    run(
        "cargo",
        &[
            "build",
            "--quiet",
            "--release",
            "-p",
            "manager",
            "-p",
            "sctl",
        ],
    )?;
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let bins = target.join("release");
    let base = env::temp_dir().join(format!("sysmaster-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let unit_dir = base.join("units");
    std::fs::create_dir_all(&unit_dir).map_err(|e| format!("{}: {e}", unit_dir.display()))?;
    let names = bench_write_units(&unit_dir, units)?;
    step(&format!(
        "{runs} run(s) with {units} units ({} oneshot + {} simple)",
        units.div_ceil(2),
        units / 2
    ));
    let mut results = Vec::new();
    for i in 0..runs {
        let r = bench_one(&bins, &base.join(format!("run{i}")), &unit_dir, &names);
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&base);
                return Err(e);
            }
        };
        eprintln!("run {}: {r:?}", i + 1);
        results.push(r);
    }
    let _ = std::fs::remove_dir_all(&base);
    bench_print(units, &results);
    Ok(())
}

/// Writes the unit graph; returns the service names.
fn bench_write_units(dir: &Path, n: usize) -> Result<Vec<String>> {
    let names: Vec<String> = (0..n).map(|i| format!("b{i:05}.service")).collect();
    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))
    };
    for (i, name) in names.iter().enumerate() {
        let mut text = format!("[Unit]\nDescription=bench unit {i}\nDefaultDependencies=no\n");
        if let Some(parent) = names.get(i / 2).filter(|_| i > 0) {
            let dep = if i % 3 == 0 { "Requires" } else { "Wants" };
            text.push_str(&format!("{dep}={parent}\nAfter={parent}\n"));
        }
        if i % 2 == 0 {
            text.push_str("[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n");
        } else {
            text.push_str("[Service]\nExecStart=/bin/sleep infinity\n");
        }
        write(name, text)?;
    }
    let mut target = String::from("[Unit]\nDescription=bench\nDefaultDependencies=no\n");
    for chunk in names.chunks(50) {
        let list = chunk.join(" ");
        target.push_str(&format!("Wants={list}\nAfter={list}\n"));
    }
    write("bench.target", target)?;
    Ok(names)
}

/// `VmRSS` of a process in MiB.
fn rss_mib(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .ok_or_else(|| format!("no VmRSS in /proc/{pid}/status"))
}

/// Runs `sctl` against the bench manager; returns the wall time. `ok_codes` are the exit
/// codes that mean success for this verb.
fn bench_sctl(bins: &Path, runtime: &Path, args: &[&str], ok_codes: &[i32]) -> Result<f64> {
    let started = std::time::Instant::now();
    let out = Command::new(bins.join("sctl"))
        .arg("--runtime-dir")
        .arg(runtime)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run sctl: {e}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    let code = out.status.code().unwrap_or(-1);
    if !ok_codes.contains(&code) {
        return Err(format!(
            "sctl {} exited with {code}: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(elapsed)
}

/// Kills a manager left running by a failed run.
struct Manager(std::process::Child);

impl Drop for Manager {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn bench_one(bins: &Path, dir: &Path, unit_dir: &Path, names: &[String]) -> Result<BenchRun> {
    let mut r = BenchRun::default();
    let runtime = dir.join("run");
    std::fs::create_dir_all(&runtime).map_err(|e| format!("{}: {e}", runtime.display()))?;
    let log = std::fs::File::create(dir.join("manager.log")).map_err(|e| e.to_string())?;
    let child = Command::new(bins.join("sysmaster"))
        .arg("--unit-path")
        .arg(unit_dir)
        .arg("--runtime-dir")
        .arg(&runtime)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start sysmaster: {e}"))?;
    let mut manager = Manager(child);
    let pid = manager.0.id();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while bench_sctl(bins, &runtime, &["list-jobs"], &[0]).is_err() {
        if std::time::Instant::now() > deadline {
            return Err("the manager did not come up in 10 s".to_string());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    r.rss_idle = rss_mib(pid)?;
    // `status` exits 3 for an inactive unit; loading is what is measured here.
    r.load = bench_sctl(bins, &runtime, &["status", "bench.target"], &[0, 3])?;
    r.rss_loaded = rss_mib(pid)?;
    r.start = bench_sctl(bins, &runtime, &["start", "bench.target"], &[0])?;
    r.rss_started = rss_mib(pid)?;
    let listing = Command::new(bins.join("sctl"))
        .arg("--runtime-dir")
        .arg(&runtime)
        .args([
            "list-units",
            "--no-legend",
            "--state=active",
            "--type=service",
        ])
        .output()
        .map_err(|e| format!("cannot run sctl: {e}"))?;
    let active = String::from_utf8_lossy(&listing.stdout).lines().count();
    if active != names.len() {
        return Err(format!(
            "{active} of {} services are active after the start",
            names.len()
        ));
    }
    r.reload = bench_sctl(bins, &runtime, &["daemon-reload"], &[0])?;
    r.rss_reloaded = rss_mib(pid)?;
    let mut stop: Vec<&str> = vec!["stop", "bench.target"];
    stop.extend(names.iter().map(String::as_str));
    r.stop = bench_sctl(bins, &runtime, &stop, &[0])?;
    r.rss_stopped = rss_mib(pid)?;
    let started = std::time::Instant::now();
    run("kill", &["-TERM", &pid.to_string()])?;
    let status = manager
        .0
        .wait()
        .map_err(|e| format!("waiting for sysmaster: {e}"))?;
    r.exit = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("sysmaster exited with {status}"));
    }
    let (spawn, kill) = bench_floor(names.len())?;
    r.spawn_floor = spawn;
    r.kill_floor = kill;
    Ok(r)
}

/// Spawns the bench's processes directly: the time to spawn them all and reap the `true`s,
/// then the time to kill and reap the `sleep`s.
fn bench_floor(n: usize) -> Result<(f64, f64)> {
    use std::process::Stdio;
    let started = std::time::Instant::now();
    let mut trues = Vec::new();
    let mut sleeps = Vec::new();
    for i in 0..n {
        let mut c = if i % 2 == 0 {
            Command::new("/bin/true")
        } else {
            let mut c = Command::new("/bin/sleep");
            c.arg("infinity");
            c
        };
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = c.spawn().map_err(|e| format!("spawn: {e}"))?;
        if i % 2 == 0 {
            trues.push(child);
        } else {
            sleeps.push(child);
        }
    }
    for mut c in trues {
        c.wait().map_err(|e| format!("wait: {e}"))?;
    }
    let spawn = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    for c in &mut sleeps {
        c.kill().map_err(|e| format!("kill: {e}"))?;
    }
    for mut c in sleeps {
        c.wait().map_err(|e| format!("wait: {e}"))?;
    }
    Ok((spawn, started.elapsed().as_secs_f64()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match (v.get(n / 2), n % 2) {
        (Some(&m), 1) => m,
        (Some(&hi), _) => v.get(n / 2 - 1).map_or(hi, |&lo| (lo + hi) / 2.0),
        (None, _) => 0.0,
    }
}

/// A table row: title, the measure, its unit, the floor it is compared to.
type BenchRow = (
    &'static str,
    fn(&BenchRun) -> f64,
    &'static str,
    Option<f64>,
);

fn bench_print(units: usize, results: &[BenchRun]) {
    let col = |f: fn(&BenchRun) -> f64| results.iter().map(f).collect::<Vec<f64>>();
    let stat = |f: fn(&BenchRun) -> f64| {
        let v = col(f);
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (median(v), min, max)
    };
    let spawn_floor = stat(|r| r.spawn_floor).0;
    let kill_floor = stat(|r| r.kill_floor).0;
    println!(
        "\nsysmaster with {units} units, {} run(s): median (min..max)",
        results.len()
    );
    println!("{:<34} {:>22} {:>9}", "measure", "value", "vs floor");
    let rows: [BenchRow; 12] = [
        ("RSS idle", |r| r.rss_idle, "MiB", None),
        ("RSS after loading", |r| r.rss_loaded, "MiB", None),
        ("RSS after start", |r| r.rss_started, "MiB", None),
        ("RSS after daemon-reload", |r| r.rss_reloaded, "MiB", None),
        ("RSS after stop", |r| r.rss_stopped, "MiB", None),
        ("load (sctl status bench.target)", |r| r.load, "s", None),
        (
            "sctl start bench.target",
            |r| r.start,
            "s",
            Some(spawn_floor),
        ),
        ("sctl daemon-reload", |r| r.reload, "s", None),
        ("sctl stop (every unit)", |r| r.stop, "s", Some(kill_floor)),
        ("exit on SIGTERM (all stopped)", |r| r.exit, "s", None),
        (
            "floor: spawn N, reap the trues",
            |r| r.spawn_floor,
            "s",
            None,
        ),
        (
            "floor: kill and reap the sleeps",
            |r| r.kill_floor,
            "s",
            None,
        ),
    ];
    for (name, f, unit, floor) in rows {
        let (m, lo, hi) = stat(f);
        let ratio = floor
            .filter(|&fl| fl > 0.0)
            .map_or_else(String::new, |fl| format!("{:.2}x", m / fl));
        let value = format!("{m:.3} ({lo:.3}..{hi:.3}) {unit}");
        println!("{name:<34} {value:>22} {ratio:>9}");
    }
}
