//! `cargo xtask fuzz [TARGET...] [--seconds N]`: the coverage-guided fuzz targets of
//! `fuzz/` (libFuzzer through `libfuzzer-sys`), on stable Rust.
//!
//! The sanitizer-coverage instrumentation libFuzzer feeds on is LLVM's `sancov-module` pass
//! with inline 8-bit counters, a PC table and compare tracing, enabled by RUSTFLAGS; with
//! an explicit `--target` cargo applies RUSTFLAGS to the fuzzed code only, not to build
//! scripts. Each target runs for N seconds (default 30) over a corpus kept in
//! `target/fuzz-corpus/<target>` between runs, seeded with Debian's udev rules (rules
//! parser) and database entries written here (database reader). A crash fails the command
//! and names the input libFuzzer saved.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{ensure_apt, root, step, Result};

const TARGETS: [&str; 2] = ["rules_parse", "db_parse"];
const TRIPLE: &str = "x86_64-unknown-linux-gnu";
const SANCOV: &str = "-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares \
    -Cdebug-assertions -Coverflow-checks";

/// Database entries in udev's format, as seeds.
const DB_SEEDS: [&str; 3] = [
    "S:disk/by-id/ata-QEMU_HARDDISK_QM00001\nS:disk/by-path/pci-0000:00:01.1-ata-1\nL:0\nW:3\nI:1234567\nE:ID_TYPE=disk\nE:ID_BUS=ata\nG:systemd\nQ:systemd\nV:1\n",
    "I:99\nE:ID_NET_NAME_PATH=enp0s3\nE:SYSTEMD_ALIAS=/sys/subsystem/net/devices/eth0\nG:systemd\nV:1\n",
    "",
];

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn seed(corpus: &Path, target: &str) -> Result<()> {
    std::fs::create_dir_all(corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(corpus.join(name), bytes)
            .map_err(|e| format!("{}: {e}", corpus.join(name).display()))
    };
    match target {
        "rules_parse" => {
            let dir = Path::new("/usr/lib/udev/rules.d");
            let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Ok(bytes) = std::fs::read(e.path()) {
                    write(&format!("debian-{name}"), &bytes)?;
                }
            }
        }
        _ => {
            for (i, s) in DB_SEEDS.iter().enumerate() {
                write(&format!("seed-{i}"), s.as_bytes())?;
            }
        }
    }
    Ok(())
}

pub fn fuzz(args: &[String]) -> Result<()> {
    let mut seconds = 30u64;
    let mut targets: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--seconds needs a positive number")?
            }
            t => match TARGETS.iter().find(|k| **k == t) {
                Some(k) => targets.push(k),
                None => {
                    return Err(format!(
                        "unknown fuzz target {t}; the targets: {}",
                        TARGETS.join(", ")
                    ))
                }
            },
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    // libfuzzer-sys compiles libFuzzer's C++ sources; udev's rules are the rules seeds.
    ensure_apt(&[("g++", "g++"), ("test -d /usr/lib/udev/rules.d", "udev")])?;
    let build_dir = target_dir().join("fuzz");
    step("building the fuzz targets (sanitizer coverage)");
    let manifest = root().join("fuzz/Cargo.toml");
    let status = Command::new("cargo")
        .args(["build", "--release", "--target", TRIPLE, "--manifest-path"])
        .arg(&manifest)
        .env("RUSTFLAGS", SANCOV)
        .env("CARGO_TARGET_DIR", &build_dir)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building {} failed ({status})", manifest.display()));
    }
    for t in targets {
        let corpus = target_dir().join("fuzz-corpus").join(t);
        seed(&corpus, t)?;
        let artifacts = target_dir().join("fuzz-artifacts").join(t);
        std::fs::create_dir_all(&artifacts).map_err(|e| format!("{}: {e}", artifacts.display()))?;
        step(&format!("fuzzing {t} for {seconds} s"));
        let bin = build_dir.join(TRIPLE).join("release").join(t);
        let status = Command::new(&bin)
            .arg(&corpus)
            .arg(format!("-max_total_time={seconds}"))
            .arg("-max_len=65536")
            .arg("-rss_limit_mb=2048")
            .arg("-print_final_stats=1")
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .status()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        if !status.success() {
            return Err(format!(
                "fuzz target {t} failed ({status}); the input is in {}",
                artifacts.display()
            ));
        }
    }
    Ok(())
}
