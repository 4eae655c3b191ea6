//! The corpus test: the unit files shipped by real Debian 12 packages must all load with
//! zero errors (warnings are listed, for the record), and `sctl verify` over the unit
//! directories of Debian's systemd and udev packages must report no error.
//!
//! The packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x` into
//! `$SYSMASTER_CACHE/corpus` (default `~/.cache/sysmaster/corpus`), outside the repository;
//! later runs reuse them. `cargo xtask test` makes sure apt's package lists exist.

// Test helpers fail the test by panicking; the no-panic rule is for shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use unitfile::load::{self, LoadState};
use unitfile::lookup::Lookup;
use unitfile::name::UnitName;
use unitfile::specifier::HostFacts;

/// Packages whose unit files make the corpus: the ones `../shared/reference/directives.md`
/// counted, and a few more with unusual units.
const PACKAGES: &[&str] = &[
    "openssh-server",
    "nginx-common",
    "cron",
    "rsyslog",
    "dbus-daemon",
    "dbus-system-bus-common",
    "systemd",
    "udev",
    "util-linux",
    "apache2",
    "postgresql-common",
    "docker.io",
    "containerd",
    "cups-daemon",
    "network-manager",
    "avahi-daemon",
    "chrony",
    "lvm2",
    "mdadm",
    "mariadb-server",
    "redis-server",
    "haproxy",
    "fail2ban",
    "ifupdown",
    "e2fsprogs",
    "logrotate",
    "man-db",
    "apt",
    "exim4-base",
    "smartmontools",
    "nfs-common",
    "rpcbind",
];

fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SYSMASTER_CACHE") {
        return PathBuf::from(dir).join("corpus");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    PathBuf::from(home).join(".cache/sysmaster/corpus")
}

/// The root directory of an unpacked package of the corpus.
fn fetch(package: &str) -> PathBuf {
    fetch_all();
    cache_dir().join(package)
}

/// Downloads (in one `apt-get download`) and unpacks every package not cached yet. The
/// tests of this file run in parallel threads; the `OnceLock` makes the first one do the
/// work while the others wait, so no two threads unpack into the same directory.
fn fetch_all() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let missing: Vec<&str> = PACKAGES
            .iter()
            .copied()
            .filter(|p| !cache_dir().join(p).join(".unpacked").exists())
            .collect();
        if missing.is_empty() {
            return;
        }
        let download = cache_dir().join(".download");
        let _ = fs::remove_dir_all(&download);
        fs::create_dir_all(&download).unwrap();
        let out = Command::new("apt-get")
            .args(["download", "-q"])
            .args(&missing)
            .current_dir(&download)
            .output()
            .expect("apt-get must be installed (Debian)");
        assert!(
            out.status.success(),
            "apt-get download {} failed: {}\nRun `apt-get update` first (`cargo xtask test` does).",
            missing.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        for package in missing {
            // Debian names the file PACKAGE_VERSION_ARCH.deb.
            let prefix = format!("{package}_");
            let deb = fs::read_dir(&download)
                .unwrap()
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .find(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
                })
                .unwrap_or_else(|| panic!("apt-get download {package} produced no .deb"));
            let root = cache_dir().join(package);
            let _ = fs::remove_dir_all(&root);
            fs::create_dir_all(&root).unwrap();
            let status = Command::new("dpkg-deb")
                .arg("-x")
                .arg(&deb)
                .arg(&root)
                .status()
                .expect("dpkg-deb must be installed (Debian)");
            assert!(status.success(), "dpkg-deb -x {} failed", deb.display());
            fs::write(root.join(".unpacked"), "").unwrap();
        }
        let _ = fs::remove_dir_all(&download);
    });
}

/// The system unit directories inside an unpacked package.
fn unit_dirs(root: &Path) -> Vec<PathBuf> {
    ["lib/systemd/system", "usr/lib/systemd/system"]
        .iter()
        .map(|d| root.join(d))
        .filter(|d| d.is_dir())
        .collect()
}

/// Every unit name in a directory (files and symlinks; not `.d`/`.wants` directories).
fn unit_names(dirs: &[PathBuf]) -> Vec<String> {
    let mut names: Vec<String> = dirs
        .iter()
        .filter_map(|d| fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| !e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| UnitName::parse(n).is_ok())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Where the warning listing is written: `target/corpus-warnings.txt`.
fn report_path() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|t| t.join("corpus-warnings.txt"))
        .unwrap()
}

#[test]
fn debian_unit_files_load_without_errors() {
    let host = HostFacts::from_system();
    let mut units = 0;
    let mut packages_with_units = 0;
    let mut errors = Vec::new();
    let mut warnings: BTreeMap<String, usize> = BTreeMap::new();
    for package in PACKAGES {
        let dirs = unit_dirs(&fetch(package));
        let names = unit_names(&dirs);
        if names.is_empty() {
            continue;
        }
        packages_with_units += 1;
        let lookup = Lookup::new(dirs);
        for name in names {
            let name = load::name_for_verify(&UnitName::parse(&name).unwrap());
            let unit = load::load(&lookup, &name, &host);
            units += 1;
            for d in &unit.diagnostics {
                if d.is_error() {
                    errors.push(format!("{package}: {d}"));
                } else {
                    *warnings.entry(d.message.clone()).or_default() += 1;
                }
            }
            if !matches!(unit.load_state, LoadState::Loaded | LoadState::Masked) {
                errors.push(format!("{package}: {name}: load state {}", unit.load_state));
            }
        }
    }
    // The listing goes to a file too, since cargo test hides the output of passing tests;
    // `cargo xtask test` prints it.
    let mut report = format!("corpus: {units} units from {packages_with_units} packages\n");
    report.push_str("warnings (count × message):\n");
    for (message, count) in &warnings {
        report.push_str(&format!("  {count:4} × {message}\n"));
    }
    print!("{report}");
    fs::write(report_path(), &report).unwrap();
    assert!(
        packages_with_units >= 20,
        "only {packages_with_units} packages had unit files"
    );
    assert!(units >= 250, "only {units} units in the corpus");
    assert!(
        errors.is_empty(),
        "{} errors:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn sctl_verify_accepts_debian_systemd_and_udev_units() {
    for package in ["systemd", "udev"] {
        let dirs = unit_dirs(&fetch(package));
        let names = unit_names(&dirs);
        assert!(names.len() >= 5, "{package}: only {} units", names.len());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sctl"));
        for d in &dirs {
            cmd.arg("--unit-path").arg(d);
        }
        let out = cmd.arg("verify").args(&names).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "sctl verify over {package}'s {} units failed:\n{stdout}",
            names.len()
        );
        assert!(!stdout.contains(": error: "), "{stdout}");
    }
}
