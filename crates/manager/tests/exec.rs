//! The exec context of real unit files, applied to real processes: each case loads a unit
//! with `unitfile`, plans its `ExecStart=` and spawns it, then checks what the process saw.
//! Runs as root (the test command does), since it switches users.

// Test helpers fail the test by panicking; the no-panic rule is for shipped code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use manager::exec::{plan, Paths, PlanError, Request};
use std::fs;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use sys::process::{wait_for, Exit};
use sys::spawn::{spawn, Step};
use unitfile::load::load;
use unitfile::lookup::Lookup;
use unitfile::model::Kind;
use unitfile::name::UnitName;
use unitfile::specifier::HostFacts;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn paths(&self) -> Paths {
        let p = self.dir.path();
        // The test's own user database, when a test wrote one; the host's otherwise.
        let root = if p.join("root/etc/passwd").exists() {
            p.join("root")
        } else {
            "/".into()
        };
        Paths {
            root,
            runtime: p.join("run"),
            state: p.join("lib"),
            cache: p.join("cache"),
            logs: p.join("log"),
            configuration: p.join("etc"),
        }
    }

    /// Loads `text` as t.service and plans its first ExecStart=.
    fn plan(&self, text: &str) -> Result<sys::spawn::Plan, PlanError> {
        self.plan_with_log(text, None)
    }

    fn plan_with_log(
        &self,
        text: &str,
        log: Option<std::os::fd::BorrowedFd>,
    ) -> Result<sys::spawn::Plan, PlanError> {
        let units = self.dir.path().join("units");
        fs::create_dir_all(&units).unwrap();
        fs::write(units.join("t.service"), text).unwrap();
        let unit = load(
            &Lookup::new(vec![units]),
            &UnitName::parse("t.service").unwrap(),
            &HostFacts::default(),
        );
        assert!(!unit.has_errors(), "{:?}", unit.diagnostics);
        let Kind::Service(s) = &unit.config.kind else {
            panic!("not a service")
        };
        plan(
            Request {
                command: &s.exec_start[0],
                context: &s.exec,
                manager_set: &[("INVOCATION_ID".into(), "0123abcd".into())],
                manager_env: &[("FROM_MANAGER".into(), "passed".into())],
                log,
                cgroup_procs: None,
                fds: vec![],
                idle_wait: None,
            },
            &self.paths(),
        )
    }

    /// Plans and runs the unit with output captured; returns (exit, output).
    fn run(&self, text: &str) -> (Exit, String) {
        let (mut reader, writer) = UnixStream::pair().unwrap();
        let plan = self.plan_with_log(text, Some(writer.as_fd())).unwrap();
        drop(writer);
        let child = spawn(&plan).unwrap();
        drop(plan);
        let pid = child.pid;
        let _ = child.wait_exec();
        let exit = wait_for(pid).unwrap();
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        (exit, out)
    }
}

#[test]
fn environment_in_systemd_order_and_expansion() {
    let f = Fixture::new();
    let envfile = f.dir.path().join("env");
    fs::write(&envfile, "C=from-file\nB=overridden-by-file\n# comment\n").unwrap();
    let unit = format!(
        "[Service]\n\
         Environment=\"A=1\" \"B=two words\" X=gone\n\
         EnvironmentFile=-/nonexistent/env\n\
         EnvironmentFile={}\n\
         PassEnvironment=FROM_MANAGER\n\
         UnsetEnvironment=X\n\
         ExecStart=/usr/bin/printf %%s| $A ${{B}} $B $C $INVOCATION_ID $FROM_MANAGER ${{X}}\n",
        envfile.display()
    );
    let (exit, out) = f.run(&unit);
    assert_eq!(exit, Exit::Exited(0));
    // ${B} is one word, $B is split on whitespace; X was unset.
    assert_eq!(
        out,
        "1|overridden-by-file|overridden-by-file|from-file|0123abcd|passed||"
    );
}

#[test]
fn user_switch_sets_the_user_variables() {
    let f = Fixture::new();
    let (exit, out) = f
        .run("[Service]\nUser=nobody\nExecStart=/bin/sh -c 'echo $(id -u):$(id -g) $USER $HOME'\n");
    assert_eq!(exit, Exit::Exited(0));
    assert_eq!(out, "65534:65534 nobody /nonexistent\n");
    // The `+` prefix runs the command with full privileges anyway.
    let (_, out) = f.run("[Service]\nUser=nobody\nExecStart=+/usr/bin/id -u\n");
    assert_eq!(out, "0\n");
}

#[test]
fn setup_failures_name_the_step() {
    let f = Fixture::new();
    let cases = [
        ("User=no-such-user-here\nExecStart=/bin/true", Step::User),
        ("Group=no-such-group-here\nExecStart=/bin/true", Step::Group),
        ("ExecStart=no-such-command-here", Step::Exec),
    ];
    for (body, want) in cases {
        match f.plan(&format!("[Service]\n{body}\n")) {
            Err(PlanError::Step { step, .. }) => assert_eq!(step, want, "{body}"),
            other => panic!("{body}: {other:?}"),
        }
    }
    assert!(matches!(
        f.plan("[Service]\nEnvironmentFile=/nonexistent/env\nExecStart=/bin/true\n"),
        Err(PlanError::Resources(_))
    ));
}

#[test]
fn working_directory_failure_is_exit_200() {
    let f = Fixture::new();
    let (exit, _) = f.run("[Service]\nWorkingDirectory=/nonexistent\nExecStart=/bin/pwd\n");
    assert_eq!(exit, Exit::Exited(200));
    let (exit, out) = f.run("[Service]\nWorkingDirectory=-/nonexistent\nExecStart=/bin/pwd\n");
    assert_eq!((exit, out.as_str()), (Exit::Exited(0), "/\n"));
    let (_, out) = f.run("[Service]\nWorkingDirectory=/usr\nExecStart=/bin/pwd\n");
    assert_eq!(out, "/usr\n");
}

#[test]
fn runtime_directory_mode_owner_and_variable() {
    let f = Fixture::new();
    let (exit, out) = f.run(
        "[Service]\nUser=nobody\nRuntimeDirectory=demo\nRuntimeDirectoryMode=0750\n\
         ExecStart=/bin/sh -c 'echo $RUNTIME_DIRECTORY; touch $RUNTIME_DIRECTORY/ok'\n",
    );
    assert_eq!(exit, Exit::Exited(0));
    let dir = f.dir.path().join("run/demo");
    assert_eq!(out.trim(), dir.display().to_string());
    let meta = fs::metadata(&dir).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o750);
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    assert!(
        dir.join("ok").exists(),
        "the service can write its directory"
    );
}

#[test]
fn standard_output_targets_and_limits() {
    let f = Fixture::new();
    let file = f.dir.path().join("out.txt");
    fs::write(&file, "old\n").unwrap();
    let append = format!(
        "[Service]\nStandardOutput=append:{}\nExecStart=/bin/echo appended\n",
        file.display()
    );
    f.run(&append);
    assert_eq!(fs::read_to_string(&file).unwrap(), "old\nappended\n");
    let truncate = format!(
        "[Service]\nStandardOutput=truncate:{}\nExecStart=/bin/echo fresh\n",
        file.display()
    );
    f.run(&truncate);
    assert_eq!(fs::read_to_string(&file).unwrap(), "fresh\n");
    let (_, out) = f.run("[Service]\nStandardOutput=null\nExecStart=/bin/echo hidden\n");
    assert_eq!(out, "");
    // Errors go where output goes unless told otherwise.
    let (_, out) = f.run("[Service]\nExecStart=/bin/sh -c 'echo to-stderr >&2'\n");
    assert_eq!(out, "to-stderr\n");
    let (_, out) = f.run(
        "[Service]\nLimitNOFILE=100:200\nUMask=0077\nNice=3\n\
         ExecStart=/bin/sh -c 'ulimit -Sn; ulimit -Hn; umask; nice'\n",
    );
    assert_eq!(out, "100\n200\n0077\n3\n");
}

#[test]
fn services_get_1024_open_files_unless_configured() {
    let f = Fixture::new();
    let hard = sys::process::nofile_limit().unwrap().1;
    let (_, out) = f.run("[Service]\nExecStart=/bin/sh -c 'ulimit -Sn; ulimit -Hn'\n");
    assert_eq!(out, format!("{}\n{}\n", 1024.min(hard), hard));
}

/// The test makes its own users (in a private passwd/group the manager reads instead of
/// the host's), so the case does not depend on who exists on the machine.
#[test]
fn users_and_groups_the_test_creates() {
    let f = Fixture::new();
    let etc = f.dir.path().join("root/etc");
    fs::create_dir_all(&etc).unwrap();
    fs::write(
        etc.join("passwd"),
        "root:x:0:0:root:/root:/bin/sh
svc:x:4242:4242:test service:/srv/svc:/bin/sh
",
    )
    .unwrap();
    fs::write(
        etc.join("group"),
        "root:x:0:
svc:x:4242:
logs:x:4300:svc
extra:x:4301:
",
    )
    .unwrap();
    let (exit, out) = f.run(
        "[Service]\nUser=svc\nSupplementaryGroups=extra\n\
         ExecStart=/bin/sh -c 'id -u; id -g; id -G; echo $USER $HOME'\n",
    );
    assert_eq!(exit, Exit::Exited(0));
    assert_eq!(out, "4242\n4242\n4242 4300 4301\nsvc /srv/svc\n");
    // Group= overrides the primary group; an unknown one is 216/GROUP before any spawn.
    let (_, out) = f.run("[Service]\nUser=svc\nGroup=logs\nExecStart=/usr/bin/id -g\n");
    assert_eq!(out, "4300\n");
    assert!(matches!(
        f.plan("[Service]\nUser=svc\nGroup=nogroup-here\nExecStart=/bin/true\n"),
        Err(PlanError::Step {
            step: Step::Group,
            ..
        })
    ));
}
