//! The typed model end to end: unit files and drop-ins are written to a throw-away search
//! path, loaded with `unitfile::load`, and the resulting configuration, diagnostics and load
//! state are compared with what systemd 252 makes of the same files (systemd.unit(5),
//! systemd.service(5), systemd.exec(5), systemd.kill(5), systemd.socket(5), systemd.timer(5),
//! systemd.resource-control(5)). Where a comment says "oracle", the case was run through
//! `systemd-analyze verify --man=no ./UNIT` of systemd 252 on Debian 12 and the expectation is
//! what it printed.

// Test helpers fail the test by panicking; the no-panic rule is for shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use unitfile::load::{load, LoadState, LoadedUnit};
use unitfile::lookup::Lookup;
use unitfile::model::exec::{CgroupContext, ExecContext, KillContext};
use unitfile::model::service::{Service, ServiceType};
use unitfile::model::types::{Listen, Mount, PathUnit, Socket, SocketAddress, Timer};
use unitfile::model::{Kind, UnitDep};
use unitfile::name::UnitName;
use unitfile::specifier::HostFacts;
use unitfile::Severity;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Writes `files` (paths relative to one search directory, e.g. `a.service` or
/// `a.service.d/10-x.conf`) and loads `name` from there with a host that knows nothing.
/// Diagnostic file names are made relative to the search directory so tests can name them.
fn load_files(files: &[(&str, &str)], name: &str) -> LoadedUnit {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let path = dir.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
    }
    let lookup = Lookup::new(vec![dir.path().to_path_buf()]);
    let name = UnitName::parse(name).unwrap();
    let mut unit = load(&lookup, &name, &HostFacts::default());
    for d in &mut unit.diagnostics {
        if let Ok(rel) = d.file.strip_prefix(dir.path()) {
            d.file = rel.to_path_buf();
        }
    }
    unit
}

/// Loads a single unit file named `name`.
fn load_one(name: &str, text: &str) -> LoadedUnit {
    load_files(&[(name, text)], name)
}

/// The diagnostics as `"error FILE:LINE"` / `"warning FILE:LINE"`, in order.
fn diag_places(u: &LoadedUnit) -> Vec<String> {
    u.diagnostics
        .iter()
        .map(|d| {
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            format!("{level} {}:{}", d.file.display(), d.line)
        })
        .collect()
}

/// Fails with the full diagnostics when the unit did not load cleanly.
fn assert_clean(u: &LoadedUnit, what: &str) {
    assert!(
        u.diagnostics.is_empty() && u.load_state == LoadState::Loaded,
        "{what}: expected a clean load, got {:?} with {:#?}",
        u.load_state,
        u.diagnostics
    );
}

fn service(u: &LoadedUnit) -> &Service {
    match &u.config.kind {
        Kind::Service(s) => s,
        other => panic!("not a service: {other:?}"),
    }
}

fn socket(u: &LoadedUnit) -> &Socket {
    match &u.config.kind {
        Kind::Socket(s) => s,
        other => panic!("not a socket: {other:?}"),
    }
}

fn timer(u: &LoadedUnit) -> &Timer {
    match &u.config.kind {
        Kind::Timer(s) => s,
        other => panic!("not a timer: {other:?}"),
    }
}

fn path_unit(u: &LoadedUnit) -> &PathUnit {
    match &u.config.kind {
        Kind::Path(s) => s,
        other => panic!("not a path unit: {other:?}"),
    }
}

fn mount(u: &LoadedUnit) -> &Mount {
    match &u.config.kind {
        Kind::Mount(s) => s,
        other => panic!("not a mount: {other:?}"),
    }
}

/// The exec, kill and cgroup contexts of a unit type that has them.
fn contexts(u: &LoadedUnit) -> (&ExecContext, &KillContext, &CgroupContext) {
    match &u.config.kind {
        Kind::Service(s) => (&s.exec, &s.kill, &s.cgroup),
        Kind::Socket(s) => (&s.exec, &s.kill, &s.cgroup),
        Kind::Mount(s) => (&s.exec, &s.kill, &s.cgroup),
        other => panic!("no exec context: {other:?}"),
    }
}

fn exec_ctx(u: &LoadedUnit) -> &ExecContext {
    contexts(u).0
}

/// The argv of every command of an `Exec*=` list, each as one space-joined string.
fn argvs(cmds: &[unitfile::exec::ExecCommand]) -> Vec<String> {
    cmds.iter().map(|c| c.argv.join(" ")).collect()
}

fn env(u: &LoadedUnit) -> Vec<String> {
    exec_ctx(u)
        .environment
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

const SEC: u64 = 1_000_000;

// ---------------------------------------------------------------------------------------------
// 1. Lists append across lines and files; an empty assignment resets; drop-ins override
// ---------------------------------------------------------------------------------------------

/// What a list test reads from the loaded unit.
type ListOf = fn(&LoadedUnit) -> Vec<String>;

/// `(what, files, unit to load, list read, expected list)`.
type ListCase<'a> = (
    &'a str,
    &'a [(&'a str, &'a str)],
    &'a str,
    ListOf,
    &'a [&'a str],
);

#[test]
fn lists_append_and_empty_resets_all_but_dependencies() {
    let cases: &[ListCase] = &[
        (
            "Wants= appends across lines, words and drop-ins",
            &[
                (
                    "a.service",
                    "[Unit]\nWants=b.service\nWants=c.service d.service\n[Service]\nExecStart=/bin/true\n",
                ),
                ("a.service.d/10-x.conf", "[Unit]\nWants=e.service\n"),
            ],
            "a.service",
            |u| u.config.unit.deps.list(UnitDep::Wants),
            &["b.service", "c.service", "d.service", "e.service"],
        ),
        (
            // Dependencies cannot be reset (systemd.unit(5), drop-in section). Oracle:
            // `Requires=nonexist.service` then `Requires=` still fails verify with
            // "Unit nonexist.service not found".
            "an empty Wants= does not reset dependencies",
            &[
                (
                    "a.service",
                    "[Unit]\nWants=b.service\nWants=\n[Service]\nExecStart=/bin/true\n",
                ),
                ("a.service.d/10-x.conf", "[Unit]\nWants=\nWants=c.service\n"),
            ],
            "a.service",
            |u| u.config.unit.deps.list(UnitDep::Wants),
            &["b.service", "c.service"],
        ),
        (
            "After= appends from drop-ins and is not reset by an empty one",
            &[
                (
                    "a.service",
                    "[Unit]\nAfter=network.target\n[Service]\nExecStart=/bin/true\n",
                ),
                (
                    "a.service.d/20-y.conf",
                    "[Unit]\nAfter=\nAfter=local-fs.target\n",
                ),
                ("a.service.d/10-x.conf", "[Unit]\nAfter=dbus.socket\n"),
            ],
            "a.service",
            // Dependency names are kept sorted (`UnitDeps`), not in the order of the lines.
            |u| u.config.unit.deps.list(UnitDep::After),
            &["dbus.socket", "local-fs.target", "network.target"],
        ),
        (
            "Documentation= appends and an empty one resets",
            &[
                (
                    "a.service",
                    "[Unit]\nDocumentation=man:a(8)\nDocumentation=\nDocumentation=man:b(8) https://x.org\n[Service]\nExecStart=/bin/true\n",
                ),
            ],
            "a.service",
            |u| u.config.unit.rare.documentation.clone(),
            &["man:b(8)", "https://x.org"],
        ),
        (
            "Environment= appends, a later value of a name replaces it in place",
            &[
                (
                    "a.service",
                    "[Service]\nExecStart=/bin/true\nEnvironment=A=1 \"B=2 3\"\nEnvironment=C=4 A=5\n",
                ),
            ],
            "a.service",
            env,
            &["A=5", "B=2 3", "C=4"],
        ),
        (
            "an empty Environment= in a drop-in resets the fragment's",
            &[
                (
                    "a.service",
                    "[Service]\nExecStart=/bin/true\nEnvironment=A=1 B=2\n",
                ),
                (
                    "a.service.d/10-x.conf",
                    "[Service]\nEnvironment=\nEnvironment=C=3\n",
                ),
            ],
            "a.service",
            env,
            &["C=3"],
        ),
        (
            "ExecStartPre= appends across files; empty resets",
            &[
                (
                    "a.service",
                    "[Service]\nExecStart=/bin/true\nExecStartPre=/bin/a 1\nExecStartPre=-/bin/b\n",
                ),
                ("a.service.d/10-x.conf", "[Service]\nExecStartPre=/bin/c\n"),
            ],
            "a.service",
            |u| argvs(&service(u).rare.exec_start_pre),
            &["/bin/a 1", "/bin/b", "/bin/c"],
        ),
        (
            "ExecStartPre= reset in a drop-in",
            &[
                (
                    "a.service",
                    "[Service]\nExecStart=/bin/true\nExecStartPre=/bin/a\nExecStartPre=/bin/b\n",
                ),
                (
                    "a.service.d/10-x.conf",
                    "[Service]\nExecStartPre=\nExecStartPre=/bin/c\n",
                ),
            ],
            "a.service",
            |u| argvs(&service(u).rare.exec_start_pre),
            &["/bin/c"],
        ),
        (
            "ExecStart= reset in a drop-in replaces the command (the usual override)",
            &[
                ("a.service", "[Service]\nExecStart=/bin/old\n"),
                (
                    "a.service.d/override.conf",
                    "[Service]\nExecStart=\nExecStart=/bin/new --flag\n",
                ),
            ],
            "a.service",
            |u| argvs(&service(u).exec_start),
            &["/bin/new --flag"],
        ),
        (
            "Listen*= append; an empty one resets listeners of every kind",
            &[
                (
                    "a.socket",
                    "[Socket]\nListenStream=/run/a.sock\nListenDatagram=/run/b.sock\nListenStream=\nListenStream=80\n",
                ),
                ("a.socket.d/10-x.conf", "[Socket]\nListenStream=[::1]:631\n"),
            ],
            "a.socket",
            |u| {
                socket(u)
                    .listen
                    .iter()
                    .map(|l| format!("{l:?}"))
                    .collect()
            },
            &[
                "Stream(Port(80))",
                "Stream(Inet([::1]:631))",
            ],
        ),
        (
            // systemd.unit(5): an empty Condition…= resets all conditions, of every kind;
            // asserts are a separate list.
            "an empty condition resets all conditions but not the asserts",
            &[
                (
                    "a.service",
                    "[Unit]\nConditionPathExists=/etc/a\nConditionVirtualization=!container\nAssertPathExists=/etc/c\nConditionACPower=\nConditionPathIsDirectory=|/etc/b\n[Service]\nExecStart=/bin/true\n",
                ),
            ],
            "a.service",
            |u| {
                let c = &u.config.unit;
                c.conditions
                    .iter()
                    .map(|c| format!("C {} {} {} {}", c.kind, c.trigger, c.negate, c.value))
                    .chain(
                        c.asserts
                            .iter()
                            .map(|c| format!("A {} {} {} {}", c.kind, c.trigger, c.negate, c.value)),
                    )
                    .collect()
            },
            &[
                "C PathIsDirectory true false /etc/b",
                "A PathExists false false /etc/c",
            ],
        ),
        (
            "conditions keep their kind, trigger and negation, from drop-ins too",
            &[
                (
                    "a.service",
                    "[Unit]\nConditionPathExists=!/etc/ssh/sshd_not_to_be_run\n[Service]\nExecStart=/bin/true\n",
                ),
                (
                    "a.service.d/10-x.conf",
                    "[Unit]\nConditionVirtualization=|!container\n",
                ),
            ],
            "a.service",
            |u| {
                u.config
                    .unit
                    .conditions
                    .iter()
                    .map(|c| format!("{} {} {} {}", c.kind, c.trigger, c.negate, c.value))
                    .collect()
            },
            &[
                "PathExists false true /etc/ssh/sshd_not_to_be_run",
                "Virtualization true true container",
            ],
        ),
        (
            // systemd.timer(5): an empty On…= resets every trigger, calendar and monotonic.
            // Oracle: `OnCalendar=daily` then `OnCalendar=` gives "Timer unit lacks value
            // setting. Refusing."
            "an empty OnActiveSec= resets calendar and monotonic triggers alike",
            &[
                (
                    "a.timer",
                    "[Timer]\nOnCalendar=daily\nOnBootSec=5min\nOnActiveSec=\nOnCalendar=weekly\nOnUnitActiveSec=1h\n",
                ),
                ("a.timer.d/10-x.conf", "[Timer]\nOnStartupSec=30\n"),
            ],
            "a.timer",
            |u| {
                let t = timer(u);
                t.calendar
                    .iter()
                    .map(|c| c.to_string())
                    .chain(t.monotonic.iter().map(|(b, v)| format!("{b:?} {v}")))
                    .collect()
            },
            &[
                "Mon *-*-* 00:00:00",
                "UnitActive 3600000000",
                "Startup 30000000",
            ],
        ),
        (
            "an empty OnCalendar= in a drop-in resets the monotonic triggers too",
            &[
                ("a.timer", "[Timer]\nOnBootSec=5min\nOnCalendar=daily\n"),
                (
                    "a.timer.d/10-x.conf",
                    "[Timer]\nOnCalendar=\nOnCalendar=*-*-* 06:00\n",
                ),
            ],
            "a.timer",
            |u| {
                let t = timer(u);
                t.calendar
                    .iter()
                    .map(|c| c.to_string())
                    .chain(t.monotonic.iter().map(|(b, v)| format!("{b:?} {v}")))
                    .collect()
            },
            &["*-*-* 06:00:00"],
        ),
        (
            "DeviceAllow= appends; empty resets",
            &[
                (
                    "a.service",
                    "[Service]\nExecStart=/bin/true\nDeviceAllow=/dev/null rw\nDeviceAllow=\nDeviceAllow=/dev/zero r\nDeviceAllow=char-pts rw\n",
                ),
            ],
            "a.service",
            |u| contexts(u).2.device_allow.clone(),
            &["/dev/zero r", "char-pts rw"],
        ),
        (
            // [Install] is read by `systemctl enable` with plain string lists, where an empty
            // assignment does reset.
            "WantedBy= appends and an empty one resets",
            &[
                (
                    "a.service",
                    "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=a.target\nWantedBy=\nWantedBy=multi-user.target graphical.target\n",
                ),
            ],
            "a.service",
            |u| u.config.install.wanted_by.clone(),
            &["multi-user.target", "graphical.target"],
        ),
    ];
    for (what, files, name, get, want) in cases {
        let u = load_files(files, name);
        assert_clean(&u, what);
        assert_eq!(get(&u), *want, "{what}");
    }
}

#[test]
fn dropins_override_scalars_in_lexical_order() {
    let files: &[(&str, &str)] = &[
        (
            "a.service",
            "[Unit]\nDescription=from the fragment\n[Service]\nType=simple\nExecStart=/bin/true\nTimeoutStopSec=5\n",
        ),
        // Written out of order on purpose: 20-b applies after 10-a whatever the directory
        // listing order is.
        (
            "a.service.d/20-b.conf",
            "[Unit]\nDescription=from 20-b\n[Service]\nTimeoutStopSec=1min\n",
        ),
        (
            "a.service.d/10-a.conf",
            "[Unit]\nDescription=from 10-a\n[Service]\nType=notify\nTimeoutStopSec=30s\n",
        ),
    ];
    let u = load_files(files, "a.service");
    assert_clean(&u, "drop-in order");
    let names: Vec<String> = u
        .dropins
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["10-a.conf", "20-b.conf"]);
    assert_eq!(u.config.unit.description.as_deref(), Some("from 20-b"));
    assert_eq!(service(&u).service_type, Some(ServiceType::Notify));
    assert_eq!(service(&u).rare.timeout_stop_sec, Some(60 * SEC));
    // The fragment's own value survives where no drop-in touches it.
    assert_eq!(argvs(&service(&u).exec_start), ["/bin/true"]);
}

// ---------------------------------------------------------------------------------------------
// 2. Invalid values: an error at the right file:line, the unit loads, the old value stays
// ---------------------------------------------------------------------------------------------

/// What an invalid-value test checks on the loaded unit: the field, formatted.
type FieldOf = fn(&LoadedUnit) -> String;

/// `(what, files (the first is loaded), expected diagnostics, field read, expected value)`.
type ValueCase<'a> = (
    &'a str,
    &'a [(&'a str, &'a str)],
    &'a [&'a str],
    FieldOf,
    &'a str,
);

/// `(what, text of a.service, expected diagnostics, load state, field read, expected value)`.
type StateCase<'a> = (&'a str, &'a str, &'a [&'a str], LoadState, FieldOf, &'a str);

#[test]
fn invalid_values_are_errors_at_their_line_and_keep_the_previous_value() {
    let cases: &[ValueCase] = &[
        (
            // Oracle: "a.service:4: Failed to parse TimeoutSec= parameter, ignoring: foo".
            "TimeoutSec=foo after 90s",
            &[(
                "a.service",
                "[Service]\nExecStart=/bin/true\nTimeoutSec=90s\nTimeoutSec=foo\n",
            )],
            &["error a.service:4"],
            |u| {
                let s = service(u);
                format!("{:?} {:?}", s.rare.timeout_start_sec, s.rare.timeout_stop_sec)
            },
            "Some(90000000) Some(90000000)",
        ),
        (
            // Oracle: "Failed to parse service type, ignoring: bogus", reported at the
            // drop-in's own line.
            "a bad Type= in a drop-in names the drop-in",
            &[
                ("a.service", "[Service]\nType=notify\nExecStart=/bin/true\n"),
                (
                    "a.service.d/10-x.conf",
                    "# comment\n[Service]\nType=bogus\n",
                ),
            ],
            &["error a.service.d/10-x.conf:3"],
            |u| format!("{:?}", service(u).service_type),
            "Some(Notify)",
        ),
        (
            // Oracle: "Failed to parse service restart specifier, ignoring: sometimes".
            "Restart=sometimes",
            &[(
                "a.service",
                "[Service]\nExecStart=/bin/true\nRestart=always\nRestart=sometimes\n",
            )],
            &["error a.service:4"],
            |u| format!("{:?}", service(u).restart),
            "Some(Always)",
        ),
        (
            "Nice= out of range",
            &[(
                "a.service",
                "[Service]\nExecStart=/bin/true\nNice=5\nNice=40\n",
            )],
            &["error a.service:4"],
            |u| format!("{:?}", exec_ctx(u).nice),
            "Some(5)",
        ),
        (
            "RemainAfterExit=maybe",
            &[(
                "a.service",
                "[Service]\nExecStart=/bin/true\nRemainAfterExit=maybe\n",
            )],
            &["error a.service:3"],
            |u| format!("{:?}", service(u).remain_after_exit),
            "None",
        ),
        (
            "KillSignal=SIGFOO",
            &[(
                "a.service",
                "[Service]\nExecStart=/bin/true\nKillSignal=SIGINT\nKillSignal=SIGFOO\n",
            )],
            &["error a.service:4"],
            |u| format!("{:?}", contexts(u).1.kill_signal),
            "Some(2)",
        ),
        (
            // Oracle: "EnvironmentFile= path is not absolute, ignoring: etc/x".
            "a relative EnvironmentFile=",
            &[(
                "a.service",
                "[Service]\nExecStart=/bin/true\nEnvironmentFile=-/etc/default/a\nEnvironmentFile=etc/x\n",
            )],
            &["error a.service:4"],
            |u| format!("{}", exec_ctx(u).environment_files.len()),
            "1",
        ),
        (
            // Oracle: "Failed to add dependency on foo, ignoring: Invalid argument"; the
            // other words of the line still apply.
            "a bad word in Wants= is skipped, the rest kept",
            &[(
                "a.service",
                "[Unit]\nWants=a.target foo b.target\n[Service]\nExecStart=/bin/true\n",
            )],
            &["error a.service:2"],
            |u| u.config.unit.deps.list(UnitDep::Wants).join(" "),
            "a.target b.target",
        ),
        (
            "an address without a port in ListenStream=",
            &[(
                "a.socket",
                "[Socket]\nListenStream=/run/a.sock\nListenStream=127.0.0.1\n",
            )],
            &["error a.socket:3"],
            |u| format!("{:?}", socket(u).listen),
            "[Stream(Unix(\"/run/a.sock\"))]",
        ),
        (
            "a bad calendar spec in OnCalendar=",
            &[("a.timer", "[Timer]\nOnCalendar=daily\nOnCalendar=someday\n")],
            &["error a.timer:3"],
            |u| timer(u).calendar.len().to_string(),
            "1",
        ),
        (
            "a bad OnBootSec=",
            &[(
                "a.timer",
                "[Timer]\nOnCalendar=daily\nOnBootSec=5 parsecs\n",
            )],
            &["error a.timer:3"],
            |u| timer(u).monotonic.len().to_string(),
            "0",
        ),
        (
            "MemoryMax= with an unknown suffix",
            &[(
                "a.service",
                "[Service]\nExecStart=/bin/true\nMemoryMax=1G\nMemoryMax=1Q\n",
            )],
            &["error a.service:4"],
            |u| format!("{:?}", contexts(u).2.memory_max),
            "Some(Bytes(1073741824))",
        ),
        (
            "a relative ConditionPathExists=",
            &[(
                "a.service",
                "[Unit]\nConditionPathExists=etc/x\n[Service]\nExecStart=/bin/true\n",
            )],
            &["error a.service:2"],
            |u| u.config.unit.conditions.len().to_string(),
            "0",
        ),
    ];
    for (what, files, want_diags, get, want) in cases {
        let u = load_files(files, files[0].0);
        assert_eq!(
            u.load_state,
            LoadState::Loaded,
            "{what}: {:#?}",
            u.diagnostics
        );
        assert_eq!(diag_places(&u), *want_diags, "{what}: {:#?}", u.diagnostics);
        assert_eq!(get(&u), *want, "{what}");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Where assignments go: typed, extensions, unsupported, unknown
// ---------------------------------------------------------------------------------------------

#[test]
fn extensions_unsupported_and_unknown_buckets() {
    // Oracle (same file): no output for X-Foo= or [X-Bar]; "Unknown key 'Descripton' in
    // section [Unit], ignoring." at line 4; "Unknown section 'Foo'. Ignoring." at line 13.
    // LoadCredential= and IPAddressDeny= are systemd directives sysmaster does not
    // implement: systemd is silent, sysmaster warns that it ignores them.
    let text = "[Unit]\n\
                Description=x\n\
                X-Foo=kept\n\
                Descripton=typo\n\
                [Service]\n\
                ExecStart=/bin/true\n\
                X-Bar=also kept\n\
                IPAddressDeny=any\n\
                LoadCredential=key:/etc/hostname\n\
                [X-Section]\n\
                Anything=at all\n\
                Other=1\n\
                [Foo]\n\
                A=b\n";
    let u = load_one("a.service", text);
    assert_eq!(u.load_state, LoadState::Loaded);
    let ext: Vec<String> = u
        .config
        .extensions
        .iter()
        .map(|a| format!("[{}] {}={} @{}", a.section, a.key, a.value, a.line))
        .collect();
    assert_eq!(
        ext,
        [
            "[Unit] X-Foo=kept @3",
            "[Service] X-Bar=also kept @7",
            "[X-Section] Anything=at all @11",
            "[X-Section] Other=1 @12",
        ]
    );
    let unsupported: Vec<String> = u
        .config
        .unsupported
        .iter()
        .map(|a| format!("[{}] {}", a.section, a.key))
        .collect();
    assert_eq!(
        unsupported,
        ["[Service] IPAddressDeny", "[Service] LoadCredential"]
    );
    let unknown: Vec<String> = u
        .config
        .unknown
        .iter()
        .map(|a| format!("[{}] {}", a.section, a.key))
        .collect();
    assert_eq!(unknown, ["[Unit] Descripton"]);
    // Every diagnostic is a warning: nothing here is wrong enough to drop a setting that
    // sysmaster understands.
    let mut places = diag_places(&u);
    places.sort();
    assert_eq!(
        places,
        [
            "warning a.service:13",
            "warning a.service:4",
            "warning a.service:8",
            "warning a.service:9",
        ]
    );
    assert_eq!(u.config.unit.description.as_deref(), Some("x"));

    // A directive of another section, e.g. IPAddressDeny= in [Unit], is unknown there
    // (oracle: "Unknown key 'IPAddressDeny' in section [Unit], ignoring.").
    let u = load_one(
        "b.service",
        "[Unit]\nIPAddressDeny=any\n[Service]\nExecStart=/bin/true\n",
    );
    assert_eq!(u.config.unknown.len(), 1);
    assert!(u.config.unsupported.is_empty());
    assert_eq!(diag_places(&u), ["warning b.service:2"]);
}

// ---------------------------------------------------------------------------------------------
// 4. Specifiers
// ---------------------------------------------------------------------------------------------

#[test]
fn specifiers_in_descriptions_commands_environment_and_dependencies() {
    let template = "[Unit]\n\
                    Description=Getty on %I (%n, %p)\n\
                    Wants=foo@%i.service\n\
                    After=systemd-user-sessions.service %p-pre@%i.service\n\
                    [Service]\n\
                    ExecStart=-/sbin/agetty -o '-p -- \\\\u' --noclear %I \"$TERM x%i\"\n\
                    Environment=TTY=%I \"UNIT=%n x\"\n\
                    UtmpIdentifier=%I\n\
                    TTYPath=/dev/%I\n";
    let u = load_files(&[("getty@.service", template)], "getty@tty1.service");
    assert_clean(&u, "getty@tty1");
    assert_eq!(
        u.config.unit.description.as_deref(),
        Some("Getty on tty1 (getty@tty1.service, getty)")
    );
    assert_eq!(
        u.config.unit.deps.list(UnitDep::Wants),
        ["foo@tty1.service"]
    );
    assert_eq!(
        u.config.unit.deps.list(UnitDep::After),
        ["getty-pre@tty1.service", "systemd-user-sessions.service"]
    );
    let s = service(&u);
    assert_eq!(s.exec_start.len(), 1);
    assert_eq!(&*s.exec_start[0].path, "/sbin/agetty");
    assert_eq!(
        s.exec_start[0].argv,
        [
            "/sbin/agetty",
            "-o",
            "-p -- \\u",
            "--noclear",
            "tty1",
            "$TERM xtty1"
        ]
    );
    assert!(s.exec_start[0].flags.ignore_failure);
    assert_eq!(env(&u), ["TTY=tty1", "UNIT=getty@tty1.service x"]);
    assert_eq!(s.exec.utmp_identifier.as_deref(), Some("tty1"));
    assert_eq!(s.exec.tty_path.as_deref(), Some("/dev/tty1"));

    // Specifiers are expanded per word after unquoting: an instance that unescapes to
    // "a b" stays one argument and one assignment.
    let u = load_files(
        &[(
            "echo@.service",
            "[Service]\nExecStart=/bin/echo %I\nEnvironment=X=%I\n",
        )],
        "echo@a\\x20b.service",
    );
    assert_clean(&u, "echo@a\\x20b");
    assert_eq!(service(&u).exec_start[0].argv, ["/bin/echo", "a b"]);
    assert_eq!(env(&u), ["X=a b"]);
}

#[test]
fn unresolvable_specifiers_drop_the_setting() {
    let cases: &[StateCase] = &[
        (
            // Oracle: "Failed to resolve unit specifiers in 'x-%f.service', ignoring:
            // Invalid slot"; `%f` is not allowed in unit names, the other word stays.
            "%f in Wants=",
            "[Unit]\nWants=x-%f.service y.service\n[Service]\nExecStart=/bin/true\n",
            &["error a.service:2"],
            LoadState::Loaded,
            |u| u.config.unit.deps.list(UnitDep::Wants).join(" "),
            "y.service",
        ),
        (
            // Oracle: same message for `%I` (allowed in Description=, not in unit names).
            "%I in After=",
            "[Unit]\nAfter=x-%I.service\n[Service]\nExecStart=/bin/true\n",
            &["error a.service:2"],
            LoadState::Loaded,
            |u| u.config.unit.deps.list(UnitDep::After).join(" "),
            "",
        ),
        (
            // The fake host has no machine ID; systemd refuses `%m` without one. The
            // previous value stays.
            "%m without a machine ID",
            "[Unit]\nDescription=old\nDescription=on %m\n[Service]\nExecStart=/bin/true\n",
            &["error a.service:3"],
            LoadState::Loaded,
            |u| format!("{:?}", u.config.unit.description),
            "Some(\"old\")",
        ),
        (
            "%m in Environment=",
            "[Service]\nExecStart=/bin/true\nEnvironment=A=1 ID=%m B=2\n",
            &["error a.service:3"],
            LoadState::Loaded,
            |u| env(u).join(" "),
            "A=1 B=2",
        ),
        (
            // Oracle: "Failed to resolve unit specifiers in %Z: Invalid slot", then "Unit
            // configuration has fatal error, unit will not be started".
            "an unknown specifier in ExecStart= is fatal",
            "[Service]\nExecStart=/bin/true %Z\n",
            &["error a.service:2"],
            LoadState::BadSetting,
            |u| argvs(&service(u).exec_start).join(","),
            "",
        ),
        (
            // Oracle: with `-` it is only "…, ignoring: Invalid slot" and the unit loads.
            "an unknown specifier in a `-` command is a warning",
            "[Service]\nExecStart=/bin/true\nExecStartPre=-/bin/x %Z\nExecStartPre=/bin/y\n",
            &["warning a.service:3"],
            LoadState::Loaded,
            |u| argvs(&service(u).rare.exec_start_pre).join(","),
            "/bin/y",
        ),
        (
            // Oracle: the commands before the bad one on the same line are kept (verify
            // goes on to check /bin/a), the rest of the line is dropped.
            "commands before the unresolvable one stay",
            "[Service]\nType=oneshot\nExecStart=/bin/a ; -/bin/b %Z ; /bin/c\nExecStart=/bin/d\n",
            &["warning a.service:3"],
            LoadState::Loaded,
            |u| argvs(&service(u).exec_start).join(","),
            "/bin/a,/bin/d",
        ),
    ];
    for (what, text, want_diags, state, get, want) in cases {
        let u = load_one("a.service", text);
        assert_eq!(u.load_state, *state, "{what}: {:#?}", u.diagnostics);
        assert_eq!(diag_places(&u), *want_diags, "{what}: {:#?}", u.diagnostics);
        assert_eq!(get(&u), *want, "{what}");
    }
}

#[test]
fn paths_systemd_refuses_the_unit_for_or_completes() {
    let cases: &[StateCase] = &[
        (
            // Oracle: "WorkingDirectory= path is not absolute: var/lib", "Unit configuration
            // has fatal error, unit will not be started."
            "a relative WorkingDirectory= is fatal",
            "[Service]\nExecStart=/bin/true\nWorkingDirectory=var/lib\n",
            &["error a.service:3"],
            LoadState::BadSetting,
            |u| format!("{:?}", exec_ctx(u).working_directory),
            "None",
        ),
        (
            // Oracle: "WorkingDirectory= path is not absolute, ignoring: var"; loads.
            "with `-` it is only ignored",
            "[Service]\nExecStart=/bin/true\nWorkingDirectory=~\nWorkingDirectory=-var\n",
            &["error a.service:4"],
            LoadState::Loaded,
            |u| {
                let w = exec_ctx(u).working_directory.as_ref().unwrap();
                format!("{} {}", w.home, w.missing_ok)
            },
            "true false",
        ),
        (
            // Oracle: "RootDirectory= path is not absolute: x", fatal error.
            "a relative RootDirectory= is fatal",
            "[Service]\nExecStart=/bin/true\nRootDirectory=x\n",
            &["error a.service:3"],
            LoadState::BadSetting,
            |u| format!("{:?}", exec_ctx(u).root_directory),
            "None",
        ),
        (
            // systemd.service(5): a relative PIDFile= is prefixed with /run/. Oracle: no
            // message.
            "a relative PIDFile= is below /run",
            "[Service]\nType=forking\nExecStart=/bin/true\nPIDFile=nginx/nginx.pid\n",
            &[],
            LoadState::Loaded,
            |u| format!("{:?}", service(u).rare.pid_file),
            "Some(\"/run/nginx/nginx.pid\")",
        ),
    ];
    for (what, text, want_diags, state, get, want) in cases {
        let u = load_one("a.service", text);
        assert_eq!(u.load_state, *state, "{what}: {:#?}", u.diagnostics);
        assert_eq!(diag_places(&u), *want_diags, "{what}: {:#?}", u.diagnostics);
        assert_eq!(get(&u), *want, "{what}");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. The checks systemd makes once a unit is loaded
// ---------------------------------------------------------------------------------------------

/// Loads one unit and checks its load state: `None` for loaded without errors, or a piece of
/// the message of the fatal problem.
fn check_verify(name: &str, text: &str, problem: Option<&str>) {
    let u = load_one(name, text);
    match problem {
        None => assert!(
            u.load_state == LoadState::Loaded && !u.has_errors(),
            "{name} {text:?}: expected loaded, got {:?} {:#?}",
            u.load_state,
            u.diagnostics
        ),
        Some(p) => {
            assert_eq!(
                u.load_state,
                LoadState::BadSetting,
                "{name} {text:?}: {:#?}",
                u.diagnostics
            );
            assert!(
                u.diagnostics
                    .iter()
                    .any(|d| d.is_error() && d.message.contains(p)),
                "{name} {text:?}: no error containing {p:?} in {:#?}",
                u.diagnostics
            );
        }
    }
}

#[test]
fn service_checks_match_systemd_analyze_verify() {
    let no_cmd = "no ExecStart=, ExecStop= or SuccessAction=";
    let simple_no_start = "only allowed for Type=oneshot";
    let no_remain = "is not RemainAfterExit=yes";
    let many = "more than one ExecStart=";
    let oneshot_restart = "not allowed for Type=oneshot";
    // Each expectation is what the oracle printed for the same body, e.g. "Service has no
    // ExecStart=, ExecStop=, or SuccessAction=. Refusing." and "Unit … has a bad unit file
    // setting."
    let cases: &[(&str, Option<&str>)] = &[
        ("[Service]\nType=simple\n", Some(no_cmd)),
        ("[Unit]\nDescription=x\n", Some(no_cmd)),
        // SuccessAction=none counts as not set.
        (
            "[Unit]\nSuccessAction=none\n[Service]\nType=oneshot\n",
            Some(no_cmd),
        ),
        (
            "[Unit]\nSuccessAction=exit\n[Service]\nType=oneshot\n",
            None,
        ),
        (
            "[Service]\nType=simple\nExecStop=/bin/true\n",
            Some(simple_no_start),
        ),
        (
            "[Service]\nType=notify\nExecStop=/bin/true\nRemainAfterExit=yes\n",
            Some(simple_no_start),
        ),
        // Without Type= and ExecStart= the type is oneshot, so only RemainAfterExit= counts.
        ("[Service]\nExecStop=/bin/true\n", Some(no_remain)),
        (
            "[Service]\nType=oneshot\nExecStop=/bin/true\n",
            Some(no_remain),
        ),
        (
            "[Service]\nType=oneshot\nExecStop=/bin/true\nRemainAfterExit=yes\n",
            None,
        ),
        ("[Service]\nExecStop=/bin/true\nRemainAfterExit=yes\n", None),
        (
            "[Service]\nExecStart=/bin/true\nExecStart=/bin/false\n",
            Some(many),
        ),
        ("[Service]\nExecStart=/bin/true ; /bin/false\n", Some(many)),
        (
            "[Service]\nType=oneshot\nExecStart=/bin/true\nExecStart=/bin/false\n",
            None,
        ),
        (
            "[Service]\nType=oneshot\nExecStart=/bin/true\nRestart=always\n",
            Some(oneshot_restart),
        ),
        (
            "[Service]\nType=oneshot\nExecStart=/bin/true\nRestart=on-success\n",
            Some(oneshot_restart),
        ),
        (
            "[Service]\nType=oneshot\nExecStart=/bin/true\nRestart=on-failure\n",
            None,
        ),
        // Oracle: "Service has ExitType=cgroup set, which isn't allowed for Type=oneshot
        // services. Refusing." (checked after Restart=).
        (
            "[Service]\nType=oneshot\nExitType=cgroup\nExecStart=/bin/true\n",
            Some("ExitType=cgroup"),
        ),
        (
            "[Service]\nType=oneshot\nExitType=cgroup\nRestart=always\nExecStart=/bin/true\n",
            Some(oneshot_restart),
        ),
        (
            "[Service]\nType=dbus\nExecStart=/bin/true\n",
            Some("Type=dbus but has no BusName="),
        ),
        (
            "[Service]\nType=dbus\nBusName=org.example.A\nExecStart=/bin/true\n",
            None,
        ),
        // Oracle: "Service has PAM enabled. Kill mode must be set to 'control-group' or
        // 'mixed'. Refusing." (checked after Type=dbus).
        (
            "[Service]\nPAMName=login\nKillMode=process\nExecStart=/bin/true\n",
            Some("PAMName="),
        ),
        (
            "[Service]\nType=dbus\nPAMName=login\nKillMode=process\nExecStart=/bin/true\n",
            Some("BusName="),
        ),
        (
            "[Service]\nPAMName=login\nKillMode=mixed\nExecStart=/bin/true\n",
            None,
        ),
        ("[Service]\nPAMName=login\nExecStart=/bin/true\n", None),
        // Oracle: "Neither a valid executable name nor an absolute path: bin/true", "Unit
        // configuration has fatal error".
        ("[Service]\nExecStart=bin/true\n", Some("ExecStart=")),
        // With `-` the bad line is dropped, not fatal; what remains is then checked.
        ("[Service]\nExecStart=-bin/true\n", Some(no_cmd)),
        // A bare name is searched in PATH at start time (systemd ≥ 239).
        ("[Service]\nExecStart=true\n", None),
    ];
    for (text, problem) in cases {
        check_verify("a.service", text, *problem);
    }
}

#[test]
fn effective_service_type() {
    // systemd 252 service_add_extras(): dbus with a BusName=, else simple with an
    // ExecStart=, else oneshot; an explicit Type= wins.
    let cases: &[(&str, ServiceType)] = &[
        ("ExecStart=/bin/true\n", ServiceType::Simple),
        (
            "ExecStop=/bin/true\nRemainAfterExit=yes\n",
            ServiceType::Oneshot,
        ),
        (
            "BusName=org.example.A\nExecStart=/bin/true\n",
            ServiceType::Dbus,
        ),
        ("Type=forking\nExecStart=/bin/true\n", ServiceType::Forking),
        (
            "Type=notify\nBusName=org.example.A\nExecStart=/bin/true\n",
            ServiceType::Notify,
        ),
        ("Type=exec\nExecStart=/bin/true\n", ServiceType::Exec),
        ("Type=idle\nExecStart=/bin/true\n", ServiceType::Idle),
    ];
    for (body, want) in cases {
        let u = load_one("a.service", &format!("[Service]\n{body}"));
        assert_clean(&u, body);
        assert_eq!(service(&u).effective_type(), *want, "{body}");
    }
}

#[test]
fn other_unit_type_checks_match_systemd_analyze_verify() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        // Oracle: "Unit has no Listen setting (ListenStream=, ListenDatagram=, ListenFIFO=,
        // ...). Refusing."
        ("a.socket", "[Socket]\nAccept=no\n", Some("no Listen")),
        (
            "a.socket",
            "[Socket]\nListenStream=/run/a.sock\nListenStream=\n",
            Some("no Listen"),
        ),
        ("a.socket", "[Socket]\nListenStream=/run/a.sock\n", None),
        // Oracle: "Explicit service configuration for accepting socket units not
        // supported. Refusing."
        (
            "a.socket",
            "[Socket]\nListenStream=/run/a.sock\nAccept=yes\nService=foo.service\n",
            Some("Service="),
        ),
        // Oracle: "Unit configured for accepting sockets, but sockets are non-accepting."
        (
            "a.socket",
            "[Socket]\nListenDatagram=/run/a.sock\nAccept=yes\n",
            Some("Accept=yes"),
        ),
        ("a.socket", "[Socket]\nListenStream=22\nAccept=yes\n", None),
        (
            "a.socket",
            "[Socket]\nListenStream=/run/a.sock\nService=foo.service\n",
            None,
        ),
        // Oracle: "Timer unit lacks value setting. Refusing."
        (
            "a.timer",
            "[Timer]\nPersistent=yes\nUnit=foo.service\n",
            Some("no trigger"),
        ),
        (
            "a.timer",
            "[Timer]\nOnCalendar=daily\nOnCalendar=\n",
            Some("no trigger"),
        ),
        ("a.timer", "[Timer]\nOnBootSec=1min\n", None),
        ("a.timer", "[Timer]\nOnClockChange=yes\n", None),
        // Oracle: "Path unit lacks path setting. Refusing."
        ("a.path", "[Path]\nUnit=foo.service\n", Some("no Path")),
        ("a.path", "[Path]\nPathExists=/etc/x\n", None),
        // Oracle: "Where= setting doesn't match unit name. Refusing."
        (
            "mnt-x.mount",
            "[Mount]\nWhat=/dev/sda1\nWhere=/mnt/y\n",
            Some("does not match"),
        ),
        // Oracle: "What= setting is missing. Refusing."
        ("mnt-x.mount", "[Mount]\nWhere=/mnt/x\n", Some("no What=")),
        // Oracle: no output; Where= follows from the name when it is not set.
        ("mnt-x.mount", "[Mount]\nWhat=/dev/sda1\n", None),
        (
            "mnt-x.mount",
            "[Mount]\nWhat=/dev/sda1\nWhere=/mnt//x/\n",
            None,
        ),
    ];
    for (name, text, problem) in cases {
        check_verify(name, text, *problem);
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Every directive real packages use loads cleanly into a typed field
// ---------------------------------------------------------------------------------------------

/// `(unit type, section, directive, sample value)`: every directive in the tables of the
/// project's survey of Debian bookworm unit files (`directives.md`), with a value taken
/// from, or modelled on, a real unit. Oracle: each sample, written into the base unit of
/// its type (see [`coverage_unit`]), passes `systemd-analyze verify` without any message.
const COVERAGE: &[(&str, &str, &str, &str)] = &[
    // [Unit]
    (
        "service",
        "Unit",
        "Description",
        "OpenBSD Secure Shell server",
    ),
    (
        "service",
        "Unit",
        "Documentation",
        "man:sshd(8) man:sshd_config(5)",
    ),
    ("service", "Unit", "After", "network.target auditd.service"),
    ("service", "Unit", "Before", "shutdown.target"),
    ("service", "Unit", "Wants", "network-online.target"),
    ("service", "Unit", "Requires", "dbus.socket"),
    ("service", "Unit", "Requisite", "dbus.socket"),
    (
        "service",
        "Unit",
        "BindsTo",
        "sys-subsystem-net-devices-eth0.device",
    ),
    ("service", "Unit", "PartOf", "cups.service"),
    ("service", "Unit", "Upholds", "foo.service"),
    ("service", "Unit", "Conflicts", "shutdown.target"),
    ("service", "Unit", "OnFailure", "e2scrub_fail@%n.service"),
    ("service", "Unit", "OnSuccess", "foo.service"),
    (
        "service",
        "Unit",
        "RequiresMountsFor",
        "/var/lib/postgresql",
    ),
    ("service", "Unit", "DefaultDependencies", "no"),
    ("service", "Unit", "StopWhenUnneeded", "yes"),
    ("service", "Unit", "RefuseManualStart", "yes"),
    ("service", "Unit", "AllowIsolate", "yes"),
    ("service", "Unit", "IgnoreOnIsolate", "yes"),
    ("service", "Unit", "FailureAction", "reboot"),
    ("service", "Unit", "StartLimitIntervalSec", "10s"),
    ("service", "Unit", "StartLimitBurst", "5"),
    (
        "service",
        "Unit",
        "ConditionPathExists",
        "!/etc/ssh/sshd_not_to_be_run",
    ),
    (
        "service",
        "Unit",
        "ConditionFileIsExecutable",
        "/usr/sbin/sshd",
    ),
    ("service", "Unit", "ConditionVirtualization", "!container"),
    ("service", "Unit", "ConditionCapability", "CAP_SYS_TIME"),
    ("service", "Unit", "ConditionACPower", "true"),
    ("service", "Unit", "AssertPathExists", "/var/lib/postgresql"),
    // [Service]
    ("service", "Service", "Type", "notify"),
    (
        "service",
        "Service",
        "ExecStart",
        "/bin/sleep infinity $EXTRA_OPTS",
    ),
    (
        "service",
        "Service",
        "ExecStartPre",
        "-/sbin/modprobe overlay",
    ),
    (
        "service",
        "Service",
        "ExecStartPost",
        "/bin/sh -c 'echo started'",
    ),
    (
        "service",
        "Service",
        "ExecCondition",
        "/usr/bin/test -e /etc/foo",
    ),
    (
        "service",
        "Service",
        "ExecReload",
        "/bin/kill -HUP $MAINPID",
    ),
    (
        "service",
        "Service",
        "ExecStop",
        "-/sbin/start-stop-daemon --quiet --stop --retry QUIT/5",
    ),
    ("service", "Service", "RemainAfterExit", "yes"),
    ("service", "Service", "PIDFile", "/run/nginx.pid"),
    (
        "service",
        "Service",
        "BusName",
        "org.freedesktop.NetworkManager",
    ),
    ("service", "Service", "NotifyAccess", "main"),
    ("service", "Service", "Restart", "on-failure"),
    ("service", "Service", "RestartSec", "5"),
    ("service", "Service", "RestartPreventExitStatus", "255"),
    ("service", "Service", "SuccessExitStatus", "143 SIGTERM"),
    ("service", "Service", "TimeoutSec", "300"),
    ("service", "Service", "TimeoutStartSec", "0"),
    ("service", "Service", "TimeoutStopSec", "5"),
    ("service", "Service", "WatchdogSec", "3min"),
    ("service", "Service", "FileDescriptorStoreMax", "512"),
    (
        "service",
        "Service",
        "Sockets",
        "systemd-udevd-control.socket systemd-udevd-kernel.socket",
    ),
    // Exec context, in [Service].
    ("service", "Service", "User", "www-data"),
    ("service", "Service", "Group", "mysql"),
    ("service", "Service", "SupplementaryGroups", "adm disk"),
    ("service", "Service", "WorkingDirectory", "/var/lib/e2scrub"),
    ("service", "Service", "UMask", "007"),
    (
        "service",
        "Service",
        "Environment",
        "\"LANG=C\" MYSQLD_OPTS= _WSREP_NEW_CLUSTER=",
    ),
    ("service", "Service", "EnvironmentFile", "-/etc/default/ssh"),
    ("service", "Service", "StandardInput", "tty"),
    ("service", "Service", "StandardOutput", "null"),
    ("service", "Service", "SyslogIdentifier", "mariadbd"),
    ("service", "Service", "LimitNOFILE", "1048576"),
    ("service", "Service", "LimitNPROC", "infinity"),
    ("service", "Service", "LimitCORE", "infinity"),
    ("service", "Service", "LimitMEMLOCK", "524288"),
    ("service", "Service", "Nice", "19"),
    ("service", "Service", "OOMScoreAdjust", "-900"),
    ("service", "Service", "IOSchedulingClass", "idle"),
    ("service", "Service", "IOSchedulingPriority", "7"),
    ("service", "Service", "CPUSchedulingPolicy", "idle"),
    ("service", "Service", "RuntimeDirectory", "sshd"),
    ("service", "Service", "RuntimeDirectoryMode", "0755"),
    ("service", "Service", "StateDirectory", "chrony"),
    (
        "service",
        "Service",
        "CapabilityBoundingSet",
        "CAP_SYS_TIME CAP_NET_BIND_SERVICE",
    ),
    ("service", "Service", "AmbientCapabilities", "CAP_IPC_LOCK"),
    ("service", "Service", "NoNewPrivileges", "yes"),
    ("service", "Service", "PrivateTmp", "true"),
    ("service", "Service", "PrivateDevices", "yes"),
    ("service", "Service", "PrivateNetwork", "yes"),
    ("service", "Service", "PrivateUsers", "yes"),
    ("service", "Service", "ProtectSystem", "strict"),
    ("service", "Service", "ProtectHome", "read-only"),
    ("service", "Service", "ProtectHostname", "yes"),
    ("service", "Service", "ProtectClock", "yes"),
    ("service", "Service", "ProtectKernelTunables", "yes"),
    ("service", "Service", "ProtectKernelModules", "yes"),
    ("service", "Service", "ProtectKernelLogs", "yes"),
    ("service", "Service", "ProtectControlGroups", "yes"),
    ("service", "Service", "ProtectProc", "invisible"),
    ("service", "Service", "ProcSubset", "pid"),
    (
        "service",
        "Service",
        "ReadWritePaths",
        "-/var/lib/chrony -/run/chrony",
    ),
    (
        "service",
        "Service",
        "ExecPaths",
        "/usr/bin/redis-server /usr/lib /lib",
    ),
    ("service", "Service", "NoExecPaths", "/"),
    ("service", "Service", "RestrictNamespaces", "yes"),
    ("service", "Service", "RestrictRealtime", "yes"),
    ("service", "Service", "RestrictSUIDSGID", "yes"),
    (
        "service",
        "Service",
        "RestrictAddressFamilies",
        "AF_INET AF_INET6 AF_UNIX",
    ),
    ("service", "Service", "LockPersonality", "yes"),
    ("service", "Service", "MemoryDenyWriteExecute", "yes"),
    (
        "service",
        "Service",
        "SystemCallFilter",
        "~@cpu-emulation @debug @mount @obsolete",
    ),
    ("service", "Service", "SystemCallArchitectures", "native"),
    ("service", "Service", "SystemCallErrorNumber", "EPERM"),
    ("service", "Service", "RemoveIPC", "yes"),
    // Cgroup and kill context, in [Service].
    ("service", "Service", "Slice", "system-ifup.slice"),
    ("service", "Service", "Delegate", "yes"),
    ("service", "Service", "CPUWeight", "100"),
    ("service", "Service", "MemoryMax", "1G"),
    ("service", "Service", "TasksMax", "infinity"),
    ("service", "Service", "DevicePolicy", "closed"),
    ("service", "Service", "KillMode", "process"),
    ("service", "Service", "KillSignal", "SIGQUIT"),
    ("service", "Service", "SendSIGKILL", "no"),
    ("service", "Service", "SendSIGHUP", "yes"),
    // [Socket]
    (
        "socket",
        "Socket",
        "ListenStream",
        "/run/dbus/system_bus_socket",
    ),
    ("socket", "Socket", "ListenDatagram", "0.0.0.0:111"),
    ("socket", "Socket", "ListenFIFO", "/run/initctl"),
    ("socket", "Socket", "ListenNetlink", "kobject-uevent 1"),
    ("socket", "Socket", "Accept", "yes"),
    ("socket", "Socket", "Service", "foo.service"),
    ("socket", "Socket", "SocketUser", "root"),
    ("socket", "Socket", "SocketMode", "0660"),
    ("socket", "Socket", "MaxConnections", "64"),
    ("socket", "Socket", "RemoveOnStop", "yes"),
    ("socket", "Socket", "FileDescriptorName", "extra"),
    // [Timer]
    ("timer", "Timer", "OnCalendar", "*-*-* 6,18:00"),
    ("timer", "Timer", "OnActiveSec", "15min"),
    ("timer", "Timer", "OnBootSec", "1min"),
    ("timer", "Timer", "OnStartupSec", "5"),
    ("timer", "Timer", "OnUnitActiveSec", "1d"),
    ("timer", "Timer", "OnUnitInactiveSec", "1h"),
    ("timer", "Timer", "AccuracySec", "1h"),
    ("timer", "Timer", "RandomizedDelaySec", "12h"),
    ("timer", "Timer", "FixedRandomDelay", "true"),
    ("timer", "Timer", "Persistent", "true"),
    ("timer", "Timer", "Unit", "foo.service"),
    // [Path]
    ("path", "Path", "PathChanged", "/etc/cups"),
    ("path", "Path", "PathModified", "/etc/passwd"),
    ("path", "Path", "DirectoryNotEmpty", "/var/spool/cups/d"),
    ("path", "Path", "Unit", "foo.service"),
    // [Mount]
    ("mount", "Mount", "What", "rpc_pipefs"),
    ("mount", "Mount", "Where", "/mnt/data"),
    ("mount", "Mount", "Type", "ext4"),
    ("mount", "Mount", "Options", "noatime,nodev"),
    ("mount", "Mount", "TimeoutSec", "30"),
    // The legacy spellings the survey found in real files (docker.service has
    // `StartLimitInterval=60s` in [Service]).
    ("service", "Service", "StartLimitInterval", "60s"),
    ("service", "Service", "ReadWriteDirectories", "/var/lib/foo"),
    ("service", "Service", "MemoryLimit", "1G"),
    // [Install]
    ("service", "Install", "WantedBy", "multi-user.target"),
    ("service", "Install", "RequiredBy", "graphical.target"),
    ("service", "Install", "Alias", "sshd.service"),
    ("service", "Install", "Also", "foo.socket"),
    ("service", "Install", "DefaultInstance", "tty1"),
];

/// The unit a coverage sample is tested in: a minimal valid unit of the type, with the
/// sample line added to its section (the base line of the same directive is left out).
fn coverage_unit(kind: &str, section: &str, key: &str, value: &str) -> (String, String) {
    let (name, base_section, base): (&str, &str, &[(&str, &str)]) = match kind {
        "service" => ("test.service", "Service", &[("ExecStart", "/bin/true")]),
        "socket" => (
            "test.socket",
            "Socket",
            &[("ListenStream", "/run/test.sock")],
        ),
        "timer" => ("test.timer", "Timer", &[("OnCalendar", "daily")]),
        "path" => ("test.path", "Path", &[("PathExists", "/etc/hostname")]),
        "mount" => (
            "mnt-data.mount",
            "Mount",
            &[("What", "/dev/disk/by-label/data"), ("Where", "/mnt/data")],
        ),
        other => panic!("no base unit for {other}"),
    };
    let mut text = String::new();
    if section == "Unit" {
        text.push_str(&format!("[Unit]\n{key}={value}\n"));
    }
    text.push_str(&format!("[{base_section}]\n"));
    for (k, v) in base
        .iter()
        .filter(|(k, _)| *k != key || section != base_section)
    {
        text.push_str(&format!("{k}={v}\n"));
    }
    if section == base_section {
        text.push_str(&format!("{key}={value}\n"));
    }
    if section == "Install" {
        text.push_str(&format!("[Install]\n{key}={value}\n"));
    }
    (name.to_string(), text)
}

/// The legacy spellings of [`COVERAGE`] systemd 252 warns about; their only diagnostic must
/// be that warning. Oracle: "Unit uses MemoryLimit=; please use MemoryMax= instead."
const WARNED_LEGACY: &[&str] = &["MemoryLimit"];

#[test]
fn every_surveyed_directive_loads_cleanly_into_a_typed_field() {
    let mut failures = Vec::new();
    for (kind, section, key, value) in COVERAGE {
        let (name, text) = coverage_unit(kind, section, key, value);
        let mut u = load_one(&name, &text);
        if WARNED_LEGACY.contains(key) {
            let before = u.diagnostics.len();
            u.diagnostics
                .retain(|d| d.is_error() || !d.message.contains("deprecated"));
            if before - u.diagnostics.len() != 1 {
                failures.push(format!("[{section}] {key}= gave no deprecation warning"));
            }
        }
        let leftovers: Vec<&str> = u
            .config
            .unsupported
            .iter()
            .chain(u.config.unknown.iter())
            .map(|a| a.key.as_str())
            .collect();
        if u.load_state != LoadState::Loaded || !u.diagnostics.is_empty() || !leftovers.is_empty() {
            failures.push(format!(
                "[{section}] {key}={value} in {name}: {:?}, not typed: {leftovers:?}, {:?}",
                u.load_state,
                u.diagnostics
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
            ));
        }
        // The sample must also have changed the typed configuration, unless it repeats a
        // line of the base unit.
        let (_, base) = coverage_unit(kind, "Nowhere", "", "");
        let without = load_one(&name, &base);
        if without.config == u.config && !base.contains(&format!("\n{key}={value}\n")) {
            failures.push(format!("[{section}] {key}={value} changed nothing"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A few samples also checked for the exact typed value, so "typed" means "understood".
#[test]
fn surveyed_directives_have_the_right_typed_values() {
    let load_sample = |kind: &str, section: &str, key: &str, value: &str| {
        let (name, text) = coverage_unit(kind, section, key, value);
        load_one(&name, &text)
    };
    let u = load_sample("service", "Service", "LimitNOFILE", "1048576");
    let l = exec_ctx(&u).limits.get("NOFILE").unwrap();
    assert_eq!((l.soft, l.hard), (1_048_576, 1_048_576));
    let u = load_sample("service", "Service", "UMask", "007");
    assert_eq!(exec_ctx(&u).umask, Some(0o007));
    let u = load_sample("service", "Service", "OOMScoreAdjust", "-900");
    assert_eq!(exec_ctx(&u).oom_score_adjust, Some(-900));
    let u = load_sample("service", "Service", "TimeoutStartSec", "0");
    assert_eq!(service(&u).rare.timeout_start_sec, Some(0));
    let u = load_sample("service", "Service", "WatchdogSec", "3min");
    assert_eq!(service(&u).rare.watchdog_sec, Some(180 * SEC));
    let u = load_sample("service", "Service", "KillSignal", "SIGQUIT");
    assert_eq!(contexts(&u).1.kill_signal, Some(3));
    let u = load_sample("service", "Service", "Environment", "\"LANG=C\" A= B=");
    assert_eq!(env(&u), ["LANG=C", "A=", "B="]);
    let u = load_sample("service", "Service", "EnvironmentFile", "-/etc/default/ssh");
    let f = &exec_ctx(&u).environment_files;
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].path.as_str(), f[0].optional),
        ("/etc/default/ssh", true)
    );
    let u = load_sample("service", "Unit", "OnFailure", "e2scrub_fail@%n.service");
    assert_eq!(
        u.config.unit.deps.list(UnitDep::OnFailure),
        ["e2scrub_fail@test.service.service"]
    );
    let u = load_sample("socket", "Socket", "ListenDatagram", "0.0.0.0:111");
    assert_eq!(
        socket(&u).listen[1],
        Listen::Datagram(SocketAddress::Inet("0.0.0.0:111".parse().unwrap()))
    );
    let u = load_sample("timer", "Timer", "RandomizedDelaySec", "12h");
    assert_eq!(timer(&u).randomized_delay_sec, Some(12 * 3600 * SEC));
    let u = load_sample("path", "Path", "DirectoryNotEmpty", "/var/spool/cups/d");
    assert_eq!(path_unit(&u).paths.len(), 2);
    let u = load_sample("mount", "Mount", "Options", "noatime,nodev");
    assert_eq!(mount(&u).options.as_deref(), Some("noatime,nodev"));
    let u = load_sample("service", "Install", "Alias", "sshd.service");
    assert_eq!(u.config.install.alias, ["sshd.service"]);
}

// ---------------------------------------------------------------------------------------------
// 7. Legacy spellings
// ---------------------------------------------------------------------------------------------

#[test]
fn legacy_spellings_are_accepted_and_warned_about_only_where_systemd_warns() {
    let cases: &[(&str, &str, &[&str], FieldOf, &str)] = &[
        (
            // docker.service. Oracle: no message at all in [Service] (nor in [Unit]).
            "StartLimitInterval= in [Service]",
            "[Service]\nExecStart=/bin/true\nStartLimitInterval=60s\nStartLimitBurst=3\n",
            &[],
            |u| {
                let c = &u.config.unit;
                format!("{:?} {:?}", c.rare.start_limit_interval_sec, c.rare.start_limit_burst)
            },
            "Some(60000000) Some(3)",
        ),
        (
            "StartLimitInterval= in [Unit]",
            "[Unit]\nStartLimitInterval=10s\n[Service]\nExecStart=/bin/true\n",
            &[],
            |u| format!("{:?}", u.config.unit.rare.start_limit_interval_sec),
            "Some(10000000)",
        ),
        (
            // Oracle: no message; TimeoutSec= sets both timeouts, a later specific one wins.
            "TimeoutSec= sets start and stop timeouts",
            "[Service]\nExecStart=/bin/true\nTimeoutSec=300\nTimeoutStopSec=5\n",
            &[],
            |u| {
                let s = service(u);
                format!("{:?} {:?}", s.rare.timeout_start_sec, s.rare.timeout_stop_sec)
            },
            "Some(300000000) Some(5000000)",
        ),
        (
            // Oracle: no message.
            "BindTo=",
            "[Unit]\nBindTo=a.service\n[Service]\nExecStart=/bin/true\n",
            &[],
            |u| u.config.unit.deps.list(UnitDep::BindsTo).join(" "),
            "a.service",
        ),
        (
            // Oracle: "Unit uses MemoryLimit=; please use MemoryMax= instead. Support for
            // MemoryLimit= will be removed soon."
            "MemoryLimit=",
            "[Service]\nExecStart=/bin/true\nMemoryLimit=1G\n",
            &["warning a.service:3"],
            |u| format!("{:?}", contexts(u).2.memory_max),
            "Some(Bytes(1073741824))",
        ),
        (
            // Oracle: no message for any of the three `*Directories=`.
            "ReadWriteDirectories= and friends",
            "[Service]\nExecStart=/bin/true\nReadWriteDirectories=/var/lib/x\nReadOnlyDirectories=/etc\nInaccessibleDirectories=/home\n",
            &[],
            |u| {
                let s = &exec_ctx(u).sandbox;
                format!(
                    "{:?} {:?} {:?}",
                    s.read_write_paths, s.read_only_paths, s.inaccessible_paths
                )
            },
            "[\"/var/lib/x\"] [\"/etc\"] [\"/home\"]",
        ),
        (
            // Oracle: no message.
            "PermissionsStartOnly=",
            "[Service]\nExecStart=/bin/true\nPermissionsStartOnly=yes\n",
            &[],
            |u| format!("{:?}", service(u).permissions_start_only),
            "Some(true)",
        ),
        (
            // Oracle: "Unit dependency type RequiresOverridable= is obsolete, replacing by
            // Requires=, please update your unit file".
            "RequiresOverridable=",
            "[Unit]\nRequiresOverridable=a.service\nRequisiteOverridable=b.service\n[Service]\nExecStart=/bin/true\n",
            &["warning a.service:2", "warning a.service:3"],
            |u| {
                let c = &u.config.unit;
                format!(
                    "{:?} {:?}",
                    c.deps.list(UnitDep::Requires),
                    c.deps.list(UnitDep::Requisite)
                )
            },
            "[\"a.service\"] [\"b.service\"]",
        ),
        (
            // Oracle: "OnFailureIsolate is deprecated. Please use OnFailureJobMode= instead".
            "OnFailureIsolate=",
            "[Unit]\nOnFailureIsolate=yes\n[Service]\nExecStart=/bin/true\n",
            &["warning a.service:2"],
            |u| format!("{:?}", u.config.unit.on_failure_job_mode),
            "Some(Isolate)",
        ),
        (
            // Oracle: "Unit uses KillMode=none. This is unsafe, … Support for KillMode=none
            // is deprecated and will eventually be removed."
            "KillMode=none",
            "[Service]\nExecStart=/bin/true\nKillMode=none\n",
            &["warning a.service:3"],
            |u| format!("{:?}", contexts(u).1.kill_mode),
            "Some(None)",
        ),
        (
            "PropagateReloadTo=",
            "[Unit]\nPropagateReloadTo=a.service\nPropagateReloadFrom=b.service\n[Service]\nExecStart=/bin/true\n",
            &[],
            |u| {
                let c = &u.config.unit;
                format!(
                    "{:?} {:?}",
                    c.deps.list(UnitDep::PropagatesReloadTo),
                    c.deps.list(UnitDep::ReloadPropagatedFrom)
                )
            },
            "[\"a.service\"] [\"b.service\"]",
        ),
    ];
    for (what, text, want_diags, get, want) in cases {
        let u = load_one("a.service", text);
        assert_eq!(
            u.load_state,
            LoadState::Loaded,
            "{what}: {:#?}",
            u.diagnostics
        );
        assert!(
            u.config.unsupported.is_empty() && u.config.unknown.is_empty(),
            "{what}: not typed: {:?} {:?}",
            u.config.unsupported,
            u.config.unknown
        );
        // Deprecations are warnings, never errors.
        assert_eq!(diag_places(&u), *want_diags, "{what}: {:#?}", u.diagnostics);
        assert_eq!(get(&u), *want, "{what}");
    }
}

/// The manager keeps every loaded unit's model, so the groups of settings most units leave
/// alone take no memory until one of their settings is given, and give it back when a
/// later assignment resets them. Each case: the unit file, then whether `[Unit]`'s rare
/// group, its conditions, `[Service]`'s rare group and the directives kept aside are
/// allocated.
#[test]
fn rarely_set_groups_are_allocated_only_when_set() {
    let cases: &[(&str, &str, [bool; 4])] = &[
        (
            "a plain service",
            "[Unit]\nDescription=x\nWants=b.service\nAfter=b.service\n\
             [Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",
            [false, false, false, false],
        ),
        (
            "Documentation= is a rare [Unit] setting",
            "[Unit]\nDocumentation=man:x(1)\n[Service]\nExecStart=/bin/true\n",
            [true, false, false, false],
        ),
        (
            "a condition",
            "[Unit]\nConditionPathExists=/x\n[Service]\nExecStart=/bin/true\n",
            [false, true, false, false],
        ),
        (
            "a condition list reset to empty",
            "[Unit]\nConditionPathExists=/x\nConditionPathExists=\n\
             [Service]\nExecStart=/bin/true\n",
            [false, false, false, false],
        ),
        (
            "ExecReload= is a rare [Service] setting",
            "[Service]\nExecStart=/bin/true\nExecReload=/bin/kill -HUP $MAINPID\n",
            [false, false, true, false],
        ),
        (
            "TimeoutSec= set, then reset",
            "[Service]\nExecStart=/bin/true\nTimeoutSec=5\nTimeoutSec=\n",
            [false, false, false, false],
        ),
        (
            "an invalid rare value leaves the group unallocated",
            "[Service]\nExecStart=/bin/true\nRestartSec=soon\n",
            [false, false, false, false],
        ),
        (
            "an X- key is kept aside",
            "[Service]\nExecStart=/bin/true\nX-Thing=1\n",
            [false, false, false, true],
        ),
    ];
    for (what, text, [unit_rare, conditions, service_rare, aside]) in cases {
        let u = load_one("a.service", text);
        let c = &u.config;
        assert_eq!(c.unit.rare.is_set(), *unit_rare, "{what}: [Unit] rare");
        assert_eq!(
            c.unit.conditions.is_set(),
            *conditions,
            "{what}: conditions"
        );
        assert_eq!(
            service(&u).rare.is_set(),
            *service_rare,
            "{what}: [Service] rare"
        );
        assert_eq!(c.extensions.is_set(), *aside, "{what}: extensions");
        assert!(!c.unsupported.is_set() && !c.unknown.is_set(), "{what}");
    }
}

/// The dependency directives share one list: each name once, with the directives that
/// name it, sorted by name; a name listed twice, or by a drop-in again, is stored once.
#[test]
fn dependency_names_are_stored_once_with_their_directives() {
    let u = load_files(
        &[
            (
                "a.service",
                "[Unit]\nWants=c.service b.service\nAfter=b.service\nRequires=b.service\n\
                 Wants=c.service\n[Service]\nExecStart=/bin/true\n",
            ),
            ("a.service.d/x.conf", "[Unit]\nBefore=d.service c.service\n"),
        ],
        "a.service",
    );
    assert_clean(&u, "a.service");
    let deps = &u.config.unit.deps;
    assert_eq!(
        deps.iter().collect::<Vec<_>>(),
        [
            (UnitDep::Requires, "b.service"),
            (UnitDep::Wants, "b.service"),
            (UnitDep::Wants, "c.service"),
            (UnitDep::Before, "c.service"),
            (UnitDep::Before, "d.service"),
            (UnitDep::After, "b.service"),
        ]
    );
    assert!(deps.contains(UnitDep::After, "b.service"));
    assert!(!deps.contains(UnitDep::After, "c.service"));
    assert_eq!(
        format!("{deps:?}"),
        "{Requires: [\"b.service\"], Wants: [\"b.service\", \"c.service\"], \
         Before: [\"c.service\", \"d.service\"], After: [\"b.service\"]}"
    );
}
