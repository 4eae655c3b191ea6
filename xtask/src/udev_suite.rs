//! `cargo xtask udev-suite [--systemd PATH] [--rev REV] [TEST...]`: systemd's own
//! rule-engine test suite (`test/udev-test.pl` with the sysfs tree of
//! `test/sys-script.py`, systemd 252) run against `devmaster test-rule-runner`.
//!
//! The suite is not part of this repository: PATH is a systemd source tree or a (bare) git
//! repository of systemd, read at REV (default `v252.31`); without `--systemd`,
//! `$SYSTEMD_SRC`, `~/.cache/sysmaster/systemd`, then the suite's files from Debian's
//! systemd source package (fetched once from the Debian mirror by `cargo xtask test`,
//! [`fetch_debian_source`]) are tried; with none of them it fetches that package. The suite runs as root in a
//! private mount namespace (`unshare -m`; it mounts a tmpfs), in a scratch directory under
//! the target directory, with a `./test-udev` wrapper that enters `test/` and runs our
//! runner. Prints udev-test.pl's output, then the failing tests; fails when any test did.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{have, is_root, root, step, Result};

fn source_file(src: &Path, rev: &str, file: &str) -> Result<Vec<u8>> {
    let direct = src.join(file);
    if direct.is_file() {
        return std::fs::read(&direct).map_err(|e| format!("{}: {e}", direct.display()));
    }
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(if src.join(".git").exists() {
            src.join(".git")
        } else {
            src.to_path_buf()
        })
        .args(["show", &format!("{rev}:{file}")])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{file} at {rev} not found in {}: {}",
            src.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

fn find_source(given: Option<PathBuf>) -> Option<PathBuf> {
    given
        .or_else(|| std::env::var_os("SYSTEMD_SRC").map(PathBuf::from))
        .or_else(|| {
            let home = std::env::var_os("HOME")?;
            let p = Path::new(&home).join(".cache/sysmaster/systemd");
            p.exists().then_some(p)
        })
        .or_else(|| {
            let p = PathBuf::from(DEBIAN_SOURCE);
            p.join(SUITE).is_file().then_some(p)
        })
}

/// Where the suite's two files from Debian's systemd source package are kept.
const DEBIAN_SOURCE: &str = "/var/cache/sysmaster-xtask/systemd-source";
const SUITE: &str = "test/udev-test.pl";

/// Fetches Debian 12's systemd source package from the Debian mirror (apt's deb-src, with
/// a private package list so the machine's apt configuration stays as it is) and keeps
/// `test/udev-test.pl` and `test/sys-script.py` of it in [`DEBIAN_SOURCE`].
pub fn fetch_debian_source() -> Result<PathBuf> {
    let dest = PathBuf::from(DEBIAN_SOURCE);
    if dest.join(SUITE).is_file() {
        return Ok(dest);
    }
    step("fetching Debian's systemd 252 source package (for udev-test.pl)");
    let work = dest.with_extension("partial");
    let _ = std::fs::remove_dir_all(&work);
    let lists = work.join("lists");
    std::fs::create_dir_all(lists.join("partial"))
        .map_err(|e| format!("{}: {e}", work.display()))?;
    let sources = work.join("sources.list");
    std::fs::write(
        &sources,
        "deb-src http://deb.debian.org/debian bookworm main\n\
         deb-src http://deb.debian.org/debian bookworm-updates main\n\
         deb-src http://deb.debian.org/debian-security bookworm-security main\n",
    )
    .map_err(|e| e.to_string())?;
    let apt = |args: &[&str]| -> Result<()> {
        let status = Command::new("apt-get")
            .arg("-q")
            .arg(format!("-oDir::Etc::sourcelist={}", sources.display()))
            .arg("-oDir::Etc::sourceparts=-")
            .arg(format!("-oDir::State::Lists={}", lists.display()))
            .args(args)
            .current_dir(&work)
            .status()
            .map_err(|e| format!("cannot run apt-get: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("apt-get {} failed", args.join(" ")))
        }
    };
    apt(&["update"])?;
    apt(&["source", "--download-only", "systemd"])?;
    let orig = std::fs::read_dir(&work)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("systemd_") && n.contains(".orig.tar"))
        })
        .ok_or("apt-get source systemd left no .orig.tar")?;
    let ok = Command::new("tar")
        .arg("-xf")
        .arg(&orig)
        .args([
            "--strip-components=1",
            "--wildcards",
            "*/test/udev-test.pl",
            "*/test/sys-script.py",
        ])
        .current_dir(&work)
        .status()
        .is_ok_and(|s| s.success());
    if !ok || !work.join(SUITE).is_file() {
        return Err(format!("cannot unpack the suite from {}", orig.display()));
    }
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir_all(dest.join("test")).map_err(|e| e.to_string())?;
    for f in [SUITE, "test/sys-script.py"] {
        std::fs::rename(work.join(f), dest.join(f)).map_err(|e| format!("{f}: {e}"))?;
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(dest)
}

/// The numbers and descriptions of the tests that reported errors.
fn failing(log: &str) -> Vec<String> {
    let mut current = String::new();
    let mut out = Vec::new();
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("TEST ") {
            if let Some((num, tail)) = rest.split_once(": ") {
                if let Some(errs) = tail.strip_prefix("errors: ") {
                    if !errs.starts_with("0 ") {
                        out.push(current.clone());
                    }
                } else if num.bytes().all(|b| b.is_ascii_digit()) {
                    current = format!("{num}: {tail}");
                }
            }
        }
    }
    out
}

pub fn udev_suite(args: &[String]) -> Result<()> {
    let mut src = None;
    let mut rev = "v252.31".to_string();
    let mut tests = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--systemd" => src = it.next().map(PathBuf::from),
            "--rev" => rev = it.next().cloned().unwrap_or(rev),
            t => tests.push(t.to_string()),
        }
    }
    let src = match find_source(src) {
        Some(src) => src,
        None => fetch_debian_source()?,
    };
    if !is_root() {
        return Err("udev-suite needs root (mknod, mount namespaces)".into());
    }
    for tool in ["perl", "python3", "unshare"] {
        if !have(tool) {
            return Err(format!("udev-suite needs {tool}"));
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    step("building devmaster");
    crate::run("cargo", &["build", "-p", "devmaster"])?;
    let devmaster = target.join("debug/devmaster");
    let scratch = target.join("udev-suite");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(scratch.join("test")).map_err(|e| e.to_string())?;
    let write = |name: &str, bytes: &[u8], mode: u32| -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let p = scratch.join(name);
        std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
            .map_err(|e| e.to_string())
    };
    write(
        "udev-test.pl",
        &source_file(&src, &rev, "test/udev-test.pl")?,
        0o755,
    )?;
    write(
        "sys-script.py",
        &source_file(&src, &rev, "test/sys-script.py")?,
        0o755,
    )?;
    write(
        "test-udev",
        format!(
            "#!/bin/sh\ncd test && exec '{}' test-rule-runner \"$@\"\n",
            devmaster.display()
        )
        .as_bytes(),
        0o755,
    )?;
    step("generating the suite's sysfs tree");
    let ok = Command::new("python3")
        .args(["sys-script.py", "test"])
        .current_dir(&scratch)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return Err("sys-script.py failed".into());
    }
    let from = if src.join(SUITE).is_file() {
        src.display().to_string()
    } else {
        format!("{} at {rev}", src.display())
    };
    step(&format!(
        "udev-test.pl ({from}) against devmaster test-rule-runner"
    ));
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "perl", "udev-test.pl"])
        .args(&tests)
        .current_dir(&scratch)
        .output()
        .map_err(|e| format!("cannot run udev-test.pl: {e}"))?;
    let log = String::from_utf8_lossy(&out.stdout);
    print!("{log}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    let failed = failing(&log);
    let summary = log
        .lines()
        .rfind(|l| l.contains("good results"))
        .unwrap_or("no summary")
        .to_string();
    println!("\nudev-suite: {summary}");
    for f in &failed {
        println!("udev-suite: failed TEST {f}");
    }
    if out.status.success() && failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} test(s) failed", failed.len()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn failing_tests_from_the_log() {
        let log = "TEST 1: no rules\nadd x: ok\nTEST 1: errors: 0 good: 4/4\n\n\
                   TEST 2: multi matches 6\nsymlink found: error\nTEST 2: errors: 1 good: 5/6\n";
        assert_eq!(super::failing(log), vec!["2: multi matches 6".to_string()]);
    }
}
