//! `cargo xtask`: the project's set-up and automation commands. Each command installs what
//! it needs (apt packages, rustup components) and says clearly what failed.
//!
//! - `cargo xtask test`: the whole test suite, exactly what CI runs (`.ci/run`).
//! - `cargo xtask demo`: the main job until the VM boot exists: verifies the example unit
//!   directory and Debian's own unit files with `sctl verify`, and shows `sctl cat`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo(),
        _ => Err("usage: cargo xtask <test|demo>\n  test  run the whole test suite (what CI runs)\n  demo  verify unit files with sctl".to_string()),
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
    if let Ok(report) = std::fs::read_to_string(root().join("target/corpus-warnings.txt")) {
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
    Ok(())
}
