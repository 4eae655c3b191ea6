//! `cargo xtask`: the project's set-up and automation commands. Each command installs what
//! it needs (apt packages, rustup components) and says clearly what failed.
//!
//! - `cargo xtask test`: the whole test suite, exactly what CI runs (`.ci/run`).
//! - `cargo xtask container-test`: our PID 1 in a container over a Debian minbase tree,
//!   running Debian's own `ssh.service` and `cron.service`, then stopped by SIGTERM
//!   (see [`container`]).
//! - `cargo xtask demo`: the main job until the VM boot exists: verifies the example unit
//!   directory and Debian's own unit files with `sctl verify`, shows `sctl cat`, then runs
//!   the manager on the examples and shows `sctl start`/`list-units`/`status`/`logs`.
//! - `cargo xtask bench [--units 0,100,1000] [--runs K] [--init both|systemd|sysmaster]`:
//!   sysmaster against Debian's systemd 252 as PID 1 of the same VM image; writes
//!   `docs/benchmarks.md` and `docs/benchmarks.svg` (see [`bench`]).
//! - `cargo xtask bench-manager [--units N] [--runs K] [--musl | --compare]`: the release
//!   manager's memory and start/stop/reload times with N generated units, against the cost
//!   of spawning the same processes directly, built against glibc, static musl, or both
//!   (see [`bench_manager`]).
//! - `cargo xtask bench-coldplug [--runs K]`: devmaster's coldplug against Debian's
//!   systemd-udevd in the same VM, same rules; writes `docs/coldplug.md`.
//! - `cargo xtask udev-suite [--systemd PATH] [--rev REV] [TEST...]`: systemd 252's
//!   rule-engine suite against `devmaster test-rule-runner` (see [`udev_suite`]).
//! - `cargo xtask fuzz [TARGET...] [--seconds N]`: libFuzzer over devmaster's rules parser
//!   and udev database reader (see [`fuzz`]).

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

type Result<T> = std::result::Result<T, String>;

mod bench;
mod container;
mod fuzz;
mod image;
mod recovery;
mod rootfs;
mod udev_suite;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo(),
        Some("bench-manager") => bench_manager(args.get(1..).unwrap_or_default()),
        Some("bench") => bench::bench(args.get(1..).unwrap_or_default()),
        Some("bench-recovery") => recovery::bench_recovery(args.get(1..).unwrap_or_default()),
        Some("image") => image::build_image().map(|_| ()),
        Some("boot") => image::boot(args.get(1..).unwrap_or_default()),
        Some("boot-test") => image::boot_test(),
        Some("bench-coldplug") => image::bench_coldplug(args.get(1..).unwrap_or_default()),
        Some("container-test") => container::container_test(),
        Some("rootfs") => rootfs::debian_rootfs().map(|p| println!("{}", p.display())),
        Some("udev-suite") => udev_suite::udev_suite(args.get(1..).unwrap_or_default()),
        Some("fuzz") => fuzz::fuzz(args.get(1..).unwrap_or_default()),
        _ => Err("usage: cargo xtask <boot|test|demo|image|boot-test|container-test|rootfs|bench|bench-manager|bench-recovery|bench-coldplug|udev-suite|fuzz>\n  boot [--shell] [--verbose]  boot a QEMU VM with sysmaster as PID 1 (the main job)\n  test  run the whole test suite (what CI runs)\n  demo  the manager on examples/units, without a VM\n  image  build the initramfs\n  boot-test  the end-to-end VM tests alone (two boots)\n  container-test  our PID 1 in a container over Debian's root filesystem, with Debian's ssh.service and cron.service\n  rootfs  build (or find) the cached Debian root filesystem and print its path\n  bench [--units 0,100,1000] [--runs K] [--init both|systemd|sysmaster]  sysmaster against Debian's systemd as PID 1 of the same VM; writes docs/benchmarks.md\n  bench-manager [--units N] [--runs K] [--musl | --compare]  the manager's memory and start/stop times (glibc, static musl, or both)\n  bench-recovery [--units N] [--kills K] [--musl]  time from a manager SIGKILL until the next one answers, under our PID 1\n  bench-coldplug [--runs K]  devmaster's coldplug against systemd-udevd in the same VM; writes docs/coldplug.md\n  udev-suite [--systemd PATH] [TEST...]  systemd 252's udev-test.pl against devmaster test-rule-runner\n  fuzz [TARGET...] [--seconds N]  coverage-guided fuzzing of devmaster's rules parser and database reader".to_string()),
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
        // A program name, or an absolute path to a file the package installs.
        .filter(|(cmd, _)| {
            if cmd.starts_with('/') {
                !Path::new(cmd).exists()
            } else {
                !have(cmd)
            }
        })
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
    // apt-get and dpkg-deb fetch and unpack the corpus of Debian unit files; the manager's
    // tests run services made of python3 (socket activation), systemd-notify, and put our
    // PID 1 in a namespace with unshare (setpriv: a non-root client).
    ensure_apt(&[
        ("systemd-escape", "systemd"),
        ("systemd-analyze", "systemd"),
        ("systemd-notify", "systemd"),
        ("dpkg-deb", "dpkg"),
        ("python3", "python3-minimal"),
        ("unshare", "util-linux"),
        ("setpriv", "util-linux"),
        // devmaster's oracles: Debian's udevadm (monitor, info, test-builtin) and ip(8)
        // for network interfaces in throw-away namespaces.
        ("udevadm", "udev"),
        ("ip", "iproute2"),
        // The blkid builtin is checked against util-linux's blkid/partx on images these
        // tools make, and against udevadm test-builtin on loop devices.
        ("mkfs.ext4", "e2fsprogs"),
        ("mkfs.xfs", "xfsprogs"),
        ("mkfs.btrfs", "btrfs-progs"),
        ("mkfs.f2fs", "f2fs-tools"),
        ("mkfs.vfat", "dosfstools"),
        ("mkfs.exfat", "exfatprogs"),
        ("mkfs.ntfs", "ntfs-3g"),
        ("mksquashfs", "squashfs-tools"),
        ("genisoimage", "genisoimage"),
        ("xorriso", "xorriso"),
        ("cryptsetup", "cryptsetup-bin"),
        ("sfdisk", "fdisk"),
        ("sgdisk", "gdisk"),
        ("losetup", "mount"),
        // input-event-codes.h: the key names of the keyboard builtin are checked against it.
        (
            "test -e /usr/include/linux/input-event-codes.h",
            "linux-libc-dev",
        ),
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
    // systemd's own rule-engine suite against devmaster's test-rule-runner.
    ensure_apt(&[("perl", "perl-base"), ("tar", "tar")])?;
    udev_suite::udev_suite(&[])?;
    // Coverage-guided fuzzing of the two parsers of untrusted files, briefly: a regression
    // check that also grows the corpus kept in target/ between runs.
    fuzz::fuzz(&["--seconds".to_string(), "20".to_string()])?;
    // The corpus test's listing of warnings, which cargo test does not show when it passes.
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    if let Ok(report) = std::fs::read_to_string(target.join("corpus-warnings.txt")) {
        step("Debian unit-file corpus");
        eprint!("{report}");
    }
    // The binaries we ship are static musl builds: the syscall layer is tested there too
    // (musl's libc wrappers differ, e.g. sched_setscheduler(3) is a stub).
    ensure_rust_target("x86_64-unknown-linux-musl")?;
    step("cargo test -p sys (static musl)");
    run(
        "cargo",
        &[
            "test",
            "--package",
            "sys",
            "--target",
            "x86_64-unknown-linux-musl",
        ],
    )?;
    image::boot_test()?;
    container::container_test()?;
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

/// The Rust target of the static musl build (`bench-manager --musl`).
const MUSL: &str = "x86_64-unknown-linux-musl";

/// The C library the benchmarked binaries are built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Libc {
    /// The host target, dynamically linked against glibc.
    Glibc,
    /// [`MUSL`]: static binaries with musl's libc and its malloc (mallocng).
    Musl,
}

impl Libc {
    fn name(self) -> &'static str {
        match self {
            Libc::Glibc => "glibc",
            Libc::Musl => "musl",
        }
    }
}

/// Where a process's resident memory lies, in MiB (from `/proc/PID/smaps`).
#[derive(Debug, Clone, Copy, Default)]
struct RssMap {
    /// Pages of the executable itself (code, read-only data, its data and bss).
    binary: f64,
    /// Pages of shared libraries and the dynamic loader (none for a static binary).
    libs: f64,
    /// The `brk` heap.
    heap: f64,
    /// Anonymous mappings: `mmap`ed allocations and malloc arenas.
    anon: f64,
    stack: f64,
    /// `[vdso]`, `[vvar]` and any other file mapping.
    other: f64,
}

/// The measurements of one benchmark run; times in seconds, sizes in MiB.
#[derive(Debug, Clone, Copy, Default)]
struct BenchRun {
    rss_idle: f64,
    rss_loaded: f64,
    rss_started: f64,
    rss_reloaded: f64,
    rss_stopped: f64,
    /// Where the RSS after loading lies.
    loaded_map: RssMap,
    load: f64,
    start: f64,
    reload: f64,
    stop: f64,
    exit: f64,
    spawn_floor: f64,
    kill_floor: f64,
}

/// `cargo xtask bench-manager [--units N] [--runs K] [--musl | --compare]`: builds the
/// release `sysmaster` and `sctl`, generates N services (every even one `Type=oneshot`
/// running `/bin/true` with `RemainAfterExit=yes`, every odd one running `sleep infinity`;
/// unit i > 0 wants, or for every third one requires, and is ordered after unit i/2, so the
/// graph is a binary tree of depth log2 N; all are wanted by `bench.target`, which is
/// ordered after them all, so that its start job, the one `sctl start` waits for, ends when
/// every unit is up; no default dependencies), and per run starts a fresh manager on them
/// and measures:
///
/// - RSS (`VmRSS`) idle, after `sctl status bench.target` loaded the closure (also split by
///   mapping: the executable, shared libraries, heap, anonymous mappings, stack), after
///   `sctl start bench.target` (every unit active), after `sctl daemon-reload`, and after
///   `sctl stop` of every unit;
/// - the wall time of those `sctl` calls, and of the manager's exit on SIGTERM;
/// - the floor: spawning the same N processes directly and reaping the `true`s
///   (`spawn floor`), then killing and reaping the `sleep`s (`kill floor`).
///
/// Prints medians over K runs and the ratios of start and stop to their floors.
///
/// `--musl` benchmarks static `x86_64-unknown-linux-musl` binaries instead of the host's
/// glibc ones, installing the Rust target with rustup when it is missing (no C code is
/// built, so no musl C toolchain is needed: rustc links with the target's own `libc.a`
/// and start files). `--compare` builds both and alternates them run by run, so that a
/// machine busy with other work weighs on both alike, then prints musl against glibc.
/// Binaries are taken from `CARGO_TARGET_DIR` when it is set.
fn bench_manager(args: &[String]) -> Result<()> {
    let mut units = 1000usize;
    let mut runs = 3usize;
    let mut libcs = vec![Libc::Glibc];
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
            "--musl" => libcs = vec![Libc::Musl],
            "--compare" => libcs = vec![Libc::Glibc, Libc::Musl],
            other => return Err(format!("bench-manager: unknown argument {other}")),
        }
    }
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let mut builds = Vec::new();
    for &libc in &libcs {
        builds.push((libc, bench_build(libc, &target)?));
    }
    let base = env::temp_dir().join(format!("sysmaster-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let unit_dir = base.join("units");
    std::fs::create_dir_all(&unit_dir).map_err(|e| format!("{}: {e}", unit_dir.display()))?;
    let names = bench_write_units(&unit_dir, units)?;
    step(&format!(
        "{runs} run(s) with {units} units ({} oneshot + {} simple), {}",
        units.div_ceil(2),
        units / 2,
        libcs
            .iter()
            .map(|l| l.name())
            .collect::<Vec<_>>()
            .join(" and ")
    ));
    let mut results: Vec<Vec<BenchRun>> = vec![Vec::new(); builds.len()];
    for i in 0..runs {
        for ((libc, bins), out) in builds.iter().zip(results.iter_mut()) {
            let dir = base.join(format!("run{i}-{}", libc.name()));
            let r = match bench_one(bins, &dir, &unit_dir, &names) {
                Ok(r) => r,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&base);
                    return Err(format!("{}: {e}", libc.name()));
                }
            };
            eprintln!("run {} ({}): {r:?}", i + 1, libc.name());
            out.push(r);
        }
    }
    let _ = std::fs::remove_dir_all(&base);
    for ((libc, _), r) in builds.iter().zip(&results) {
        bench_print(units, *libc, r);
    }
    if let [(Libc::Glibc, _), (Libc::Musl, _)] = builds.as_slice() {
        if let [glibc, musl] = results.as_slice() {
            bench_compare(units, glibc, musl);
        }
    }
    Ok(())
}

/// Builds the release `sysmaster` and `sctl` for `libc`; returns their directory.
fn bench_build(libc: Libc, target: &Path) -> Result<PathBuf> {
    let mut args = vec![
        "build",
        "--quiet",
        "--release",
        "-p",
        "manager",
        "-p",
        "sctl",
        "-p",
        "init",
        "-p",
        "devmaster",
    ];
    let bins = match libc {
        Libc::Glibc => target.join("release"),
        Libc::Musl => {
            ensure_rust_target(MUSL)?;
            args.extend(["--target", MUSL]);
            target.join(MUSL).join("release")
        }
    };
    step(&format!(
        "building the release sysmaster and sctl ({})",
        libc.name()
    ));
    run("cargo", &args).map_err(|e| format!("the {} build failed: {e}", libc.name()))?;
    for bin in ["sysmaster", "sctl", "devmaster", "devctl"] {
        let path = bins.join(bin);
        let size = std::fs::metadata(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        let linking = match elf_interpreter(&path)? {
            Some(interp) => format!("dynamic, {interp}"),
            None => "static".to_string(),
        };
        if libc == Libc::Musl && linking != "static" {
            return Err(format!(
                "{} is not static ({linking}); the musl build must be",
                path.display()
            ));
        }
        eprintln!(
            "{}: {:.0} KiB, {linking}",
            path.display(),
            size as f64 / 1024.0
        );
    }
    Ok(bins)
}

/// Makes sure the standard library of a Rust target is installed, with rustup if not.
fn ensure_rust_target(triple: &str) -> Result<()> {
    // The sysroot of the toolchain cargo uses here (a rust-toolchain file included).
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot
        .join("lib/rustlib")
        .join(triple)
        .join("lib")
        .is_dir()
    {
        return Ok(());
    }
    if !have("rustup") {
        return Err(format!(
            "the Rust target {triple} is not installed in {} and there is no rustup to add \
             it; install the toolchain's standard library for {triple}",
            sysroot.display()
        ));
    }
    step(&format!("installing the Rust target {triple}"));
    run("rustup", &["target", "add", triple]).map_err(|e| {
        format!("{e}: cannot install the Rust target {triple}, which the musl build needs")
    })
}

/// The program interpreter (dynamic loader) an ELF executable names, or `None` for a
/// static executable (no `PT_INTERP` program header).
fn elf_interpreter(path: &Path) -> Result<Option<String>> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let not_elf = || format!("{} is not a 64-bit little-endian ELF file", path.display());
    if bytes.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
        return Err(not_elf());
    }
    let uint = |at: usize, len: usize| -> Option<usize> {
        let field = bytes.get(at..at.checked_add(len)?)?;
        let value = field
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        usize::try_from(value).ok()
    };
    const PT_INTERP: usize = 3;
    let (phoff, phentsize, phnum) = (uint(0x20, 8), uint(0x36, 2), uint(0x38, 2));
    let (Some(phoff), Some(phentsize), Some(phnum)) = (phoff, phentsize, phnum) else {
        return Err(not_elf());
    };
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if uint(ph, 4) != Some(PT_INTERP) {
            continue;
        }
        let (Some(offset), Some(size)) = (uint(ph + 8, 8), uint(ph + 32, 8)) else {
            return Err(not_elf());
        };
        let name = bytes
            .get(offset..offset + size)
            .ok_or_else(not_elf)?
            .split(|&b| b == 0)
            .next()
            .unwrap_or_default();
        return Ok(Some(String::from_utf8_lossy(name).into_owned()));
    }
    Ok(None)
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

/// Where the resident pages of a process lie, from `/proc/PID/smaps`.
fn rss_map(pid: u32) -> Result<RssMap> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps"))
        .map_err(|e| format!("/proc/{pid}/smaps: {e}"))?;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut map = RssMap::default();
    // The mapping the following `Rss:` line belongs to; set by each header line
    // (`start-end perms offset dev inode [path]`).
    let mut current: Option<fn(&mut RssMap) -> &mut f64> = None;
    for line in smaps.lines() {
        if let Some(kb) = line.strip_prefix("Rss:") {
            let kb: f64 = kb
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .unwrap_or(0.0);
            if let Some(field) = current {
                *field(&mut map) += kb / 1024.0;
            }
            continue;
        }
        let mut words = line.split_whitespace();
        let is_header = words.next().is_some_and(|range| {
            range.contains('-') && range.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        });
        if !is_header {
            continue;
        }
        let path = words.skip(4).collect::<Vec<_>>().join(" ");
        let path = path.trim_end_matches(" (deleted)");
        current = Some(match path {
            "" => |m| &mut m.anon,
            "[heap]" => |m| &mut m.heap,
            "[stack]" => |m| &mut m.stack,
            p if !exe.is_empty() && p == exe.trim_end_matches(" (deleted)") => |m| &mut m.binary,
            p if p.contains(".so") => |m| &mut m.libs,
            _ => |m| &mut m.other,
        });
    }
    Ok(map)
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
    r.loaded_map = rss_map(pid)?;
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

/// A table row: title, the measure, its unit, which floor it is compared to.
type BenchRow = (&'static str, fn(&BenchRun) -> f64, &'static str, Floor);

/// The floor a time is compared to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Floor {
    None,
    Spawn,
    Kill,
}

const BENCH_ROWS: &[BenchRow] = &[
    ("RSS idle", |r| r.rss_idle, "MiB", Floor::None),
    ("RSS after loading", |r| r.rss_loaded, "MiB", Floor::None),
    (
        "  of it: executable",
        |r| r.loaded_map.binary,
        "MiB",
        Floor::None,
    ),
    (
        "  of it: shared libraries",
        |r| r.loaded_map.libs,
        "MiB",
        Floor::None,
    ),
    ("  of it: [heap]", |r| r.loaded_map.heap, "MiB", Floor::None),
    (
        "  of it: anonymous",
        |r| r.loaded_map.anon,
        "MiB",
        Floor::None,
    ),
    (
        "  of it: [stack]",
        |r| r.loaded_map.stack,
        "MiB",
        Floor::None,
    ),
    ("  of it: other", |r| r.loaded_map.other, "MiB", Floor::None),
    ("RSS after start", |r| r.rss_started, "MiB", Floor::None),
    (
        "RSS after daemon-reload",
        |r| r.rss_reloaded,
        "MiB",
        Floor::None,
    ),
    ("RSS after stop", |r| r.rss_stopped, "MiB", Floor::None),
    (
        "load (sctl status bench.target)",
        |r| r.load,
        "s",
        Floor::None,
    ),
    ("sctl start bench.target", |r| r.start, "s", Floor::Spawn),
    ("sctl daemon-reload", |r| r.reload, "s", Floor::None),
    ("sctl stop (every unit)", |r| r.stop, "s", Floor::Kill),
    (
        "exit on SIGTERM (all stopped)",
        |r| r.exit,
        "s",
        Floor::None,
    ),
    (
        "floor: spawn N, reap the trues",
        |r| r.spawn_floor,
        "s",
        Floor::None,
    ),
    (
        "floor: kill and reap the sleeps",
        |r| r.kill_floor,
        "s",
        Floor::None,
    ),
];

/// Median, minimum and maximum of one measure over the runs.
fn bench_stat(results: &[BenchRun], f: fn(&BenchRun) -> f64) -> (f64, f64, f64) {
    let v: Vec<f64> = results.iter().map(f).collect();
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (median(v), min, max)
}

/// The median of a row's measure divided by the median of its floor, if it has one.
fn bench_vs_floor(results: &[BenchRun], row: &BenchRow) -> Option<f64> {
    let floor = match row.3 {
        Floor::None => return None,
        Floor::Spawn => bench_stat(results, |r| r.spawn_floor).0,
        Floor::Kill => bench_stat(results, |r| r.kill_floor).0,
    };
    (floor > 0.0).then(|| bench_stat(results, row.1).0 / floor)
}

fn bench_print(units: usize, libc: Libc, results: &[BenchRun]) {
    println!(
        "\nsysmaster ({}) with {units} units, {} run(s): median (min..max)",
        libc.name(),
        results.len()
    );
    println!("{:<34} {:>22} {:>9}", "measure", "value", "vs floor");
    for row in BENCH_ROWS {
        let (name, f, unit, _) = *row;
        let (m, lo, hi) = bench_stat(results, f);
        let ratio = bench_vs_floor(results, row).map_or_else(String::new, |x| format!("{x:.2}x"));
        let value = format!("{m:.3} ({lo:.3}..{hi:.3}) {unit}");
        println!("{name:<34} {value:>22} {ratio:>9}");
    }
}

/// musl against glibc, median against median; times also as their ratio to the floor
/// measured in the same runs, which is what stays comparable on a busy machine.
fn bench_compare(units: usize, glibc: &[BenchRun], musl: &[BenchRun]) {
    println!("\nmusl against glibc with {units} units: medians (vs floor)");
    println!(
        "{:<34} {:>17} {:>17} {:>10}",
        "measure", "glibc", "musl", "musl/glibc"
    );
    for row in BENCH_ROWS {
        let (name, f, unit, _) = *row;
        let cell = |results: &[BenchRun]| {
            let m = bench_stat(results, f).0;
            match bench_vs_floor(results, row) {
                Some(x) => format!("{m:.3} {unit} ({x:.2}x)"),
                None => format!("{m:.3} {unit}"),
            }
        };
        let g = bench_stat(glibc, f).0;
        let m = bench_stat(musl, f).0;
        let ratio = if g > 0.0 {
            format!("{:.2}", m / g)
        } else {
            String::new()
        };
        println!(
            "{name:<34} {:>17} {:>17} {ratio:>10}",
            cell(glibc),
            cell(musl)
        );
    }
}
