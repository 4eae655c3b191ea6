//! `sctl verify` and `sctl cat` as a user runs them: exit statuses, the `file:line:`
//! diagnostic format and the `systemctl cat` layout.

// Test helpers fail the test by panicking; the no-panic rule is for shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output};

fn dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = d.path().join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    d
}

fn sctl(unit_path: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sctl"))
        .arg("--unit-path")
        .arg(unit_path)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const GOOD: &str = "[Unit]\nDescription=ok\n[Service]\nExecStart=/bin/true\n";

#[test]
fn verify_clean_units_prints_nothing_and_succeeds() {
    let d = dir(&[
        ("a.service", GOOD),
        ("b.target", "[Unit]\nWants=a.service\n"),
    ]);
    let o = sctl(d.path(), &["verify", "a.service", "b.target"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn verify_reports_errors_with_file_and_line_and_fails() {
    let d = dir(&[(
        "a.service",
        "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\nTimeoutSec=forever\n",
    )]);
    let o = sctl(d.path(), &["verify", "a.service"]);
    assert_eq!(o.status.code(), Some(1));
    let file = d.path().join("a.service");
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!(
            "{}:5: error: invalid TimeoutSec=forever",
            file.display()
        )),
        "{out}"
    );
}

#[test]
fn verify_with_only_warnings_succeeds() {
    let d = dir(&[(
        "a.service",
        "[Unit]\nDescripton=typo\n[Service]\nExecStart=/bin/true\n",
    )]);
    let o = sctl(d.path(), &["verify", "a.service"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.contains(":2: warning: unknown key 'Descripton' in section [Unit]"),
        "{out}"
    );
}

#[test]
fn verify_refused_unit_fails() {
    let d = dir(&[("a.service", "[Unit]\nDescription=no command\n")]);
    let o = sctl(d.path(), &["verify", "a.service"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("has no ExecStart="), "{}", stdout(&o));
}

#[test]
fn verify_missing_unit_and_bad_name_fail() {
    let d = dir(&[]);
    let o = sctl(d.path(), &["verify", "nope.service"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("unit nope.service not found"),
        "{}",
        stdout(&o)
    );
    let o = sctl(d.path(), &["verify", "nope.frobnicate"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("unknown type"), "{}", stdout(&o));
}

#[test]
fn verify_accepts_file_paths_and_templates() {
    let d = dir(&[(
        "web@.service",
        "[Unit]\nDescription=web %i\n[Service]\nExecStart=/bin/echo %i\n",
    )]);
    let path = d.path().join("web@.service");
    let o = sctl(
        d.path(),
        &["verify", path.to_str().unwrap(), "web@.service"],
    );
    assert!(o.status.success(), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn cat_prints_fragment_and_dropins_like_systemctl() {
    let d = dir(&[
        ("web@.service", "[Service]\nExecStart=/bin/true\n"),
        ("web@.service.d/10-a.conf", "[Service]\nNice=5\n"),
        ("web@blue.service.d/20-b.conf", "[Unit]\nDescription=blue"),
    ]);
    let o = sctl(d.path(), &["cat", "web@blue.service"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = |n: &str| d.path().join(n).display().to_string();
    let want = format!(
        "# {}\n[Service]\nExecStart=/bin/true\n\n# {}\n[Service]\nNice=5\n\n# {}\n[Unit]\nDescription=blue\n",
        p("web@.service"),
        p("web@.service.d/10-a.conf"),
        p("web@blue.service.d/20-b.conf"),
    );
    assert_eq!(stdout(&o), want);
}

#[test]
fn cat_of_missing_or_masked_units() {
    let d = dir(&[]);
    symlink("/dev/null", d.path().join("m.service")).unwrap();
    let o = sctl(d.path(), &["cat", "nope.service"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "No files found for nope.service.\n");
    let o = sctl(d.path(), &["cat", "m.service"]);
    assert!(
        stderr(&o).contains("Unit m.service is masked."),
        "{}",
        stderr(&o)
    );
}

#[test]
fn examples_verify_cleanly() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/units");
    let o = sctl(
        &examples,
        &[
            "verify",
            "demo.target",
            "hello.service",
            "web@blue.service",
            "web@.service",
            "ticker.timer",
            "ticker.service",
            "echo.socket",
            "echo.service",
        ],
    );
    assert!(o.status.success(), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
}
