//! A Debian bookworm root filesystem built with `debootstrap --variant=minbase`, cached
//! outside the repository (`/var/cache/sysmaster-xtask`), shared by the container scenario
//! (Debian's own `ssh.service` and `cron.service` under our PID 1) and the benchmark
//! against Debian's systemd (the same tree booted with either init).
//!
//! The tree is built into a temporary directory and renamed into place only when
//! debootstrap succeeded, so an interrupted build is never mistaken for a cached one. The
//! cache key names the package list: changing it builds a new tree.

use crate::{ensure_apt, step, Result};
use std::path::PathBuf;

/// Packages added to minbase: Debian's init (the benchmark's reference), the two daemons
/// of the container scenario, and the tools both harnesses read the system with.
pub const PACKAGES: &[&str] = &[
    "systemd",
    "systemd-sysv",
    "openssh-server",
    "cron",
    "procps",
    "iproute2",
];

/// Where cached trees live.
pub const CACHE: &str = "/var/cache/sysmaster-xtask";

/// The cached root filesystem, built (about 3–4 minutes, needs the Debian mirror) when it
/// is not there yet.
pub fn debian_rootfs() -> Result<PathBuf> {
    let dir = PathBuf::from(CACHE).join(format!("bookworm-minbase-{}", cache_key()));
    if dir.join("etc/debian_version").is_file() {
        return Ok(dir);
    }
    ensure_apt(&[("debootstrap", "debootstrap")])?;
    std::fs::create_dir_all(CACHE).map_err(|e| format!("{CACHE}: {e}"))?;
    // Two test runs on one machine must not build into the same directory: the second
    // waits for the first and then finds its tree.
    let lock_path = dir.with_extension("lock");
    let lock =
        std::fs::File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    if dir.join("etc/debian_version").is_file() {
        return Ok(dir);
    }
    let tmp = dir.with_extension("partial");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)
            .map_err(|e| format!("cannot remove the stale {}: {e}", tmp.display()))?;
    }
    step(&format!(
        "debootstrap --variant=minbase bookworm with {} (cached in {})",
        PACKAGES.join(","),
        dir.display()
    ));
    let include = format!("--include={}", PACKAGES.join(","));
    let tmp_arg = tmp.to_string_lossy().into_owned();
    crate::run(
        "debootstrap",
        &[
            "--variant=minbase",
            &include,
            "bookworm",
            &tmp_arg,
            "http://deb.debian.org/debian",
        ],
    )
    .map_err(|e| format!("building the Debian root filesystem failed: {e}"))?;
    // The downloaded packages are not needed any more and would only make images bigger.
    if let Ok(entries) = std::fs::read_dir(tmp.join("var/cache/apt/archives")) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "deb") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    std::fs::rename(&tmp, &dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// A short, stable name for the package list (FNV-1a).
fn cache_key() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in PACKAGES.join(",").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_key_names_the_package_list() {
        let k = cache_key();
        assert_eq!(k.len(), 8);
        assert!(k.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(k, cache_key());
    }
}
