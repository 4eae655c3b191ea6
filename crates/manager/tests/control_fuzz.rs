//! The control socket under attack: a property test that throws hostile input at a real
//! running manager and checks after every case that it still serves everyone and has lost
//! nothing. The cases are
//!
//! - random byte streams, with and without NUL terminators, in random chunks;
//! - valid requests cut short (with and without a terminator), and messages longer than
//!   `proto::MAX_MESSAGE`;
//! - valid JSON of the wrong shape (missing, mistyped and unknown fields and methods),
//!   which must be answered with an error naming the field;
//! - well-formed requests with hostile values: empty, huge, templated, path-like and
//!   control-character unit names, 10,000 units in one call, invalid signals, unknown
//!   job ids, long glob patterns full of `*`, other protocol versions;
//! - hundreds of connections left open with half a message, beyond the client limit.
//!
//! After each case a fresh connection must get its `Ping` answered, and `list-units` must
//! show exactly the units it showed before. A second test runs a client as `nobody`
//! (`setpriv`), which may read but not change anything. The tests need root (cgroups, and
//! changing to another user).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use proto::frame::{self, Decoder};
use proto::{
    Answer, Call, ErrorKind, JobMode, JobVerb, KillWhom, Reply, ReplyResult, Request, ShutdownKind,
    UnitFileChange, UnitInfo,
};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

const SLEEPER: &str = "[Unit]\nDescription=Sleeper\n[Service]\nExecStart=/bin/sleep 1000\n\
                       [Install]\nWantedBy=multi-user.target\nAlias=nap.service\n";
const FAILING: &str = "[Unit]\nDescription=Fails\n[Service]\nType=oneshot\n\
                       ExecStart=/bin/sh -c 'exit 3'\n";
const SLOW: &str = "[Unit]\nDescription=Slow\n[Service]\nType=oneshot\nExecStart=/bin/sleep 30\n";

/// Names the hostile requests must not hit: acting on them would change what `list-units`
/// shows for good reasons, not because of a bug.
const KNOWN: &[&str] = &[
    "sleeper.service",
    "nap.service",
    "fail.service",
    "sysinit.target",
    "basic.target",
    "shutdown.target",
    "multi-user.target",
    "system.slice",
    "-.slice",
    "systemd-journald.socket",
];

/// How long a reply may take before the manager counts as stuck.
const PATIENCE: Duration = Duration::from_secs(10);

/// Everything the manager sent on a connection until it closed it, or until `PATIENCE`.
fn read_all(stream: &mut UnixStream) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + PATIENCE;
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (got, false);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (got, false)
            }
            // The manager may drop a client that broke the protocol before it read
            // everything; what it sent before is still read above.
            Err(_) => return (got, true),
        }
    }
}

/// Splits what a connection received into replies.
fn replies(bytes: &[u8]) -> Result<Vec<Reply>, String> {
    let mut d = Decoder::new();
    d.push(bytes);
    let mut out = Vec::new();
    while let Some(m) = d.next_message::<Reply>() {
        out.push(m.map_err(|e| format!("unreadable reply: {e}"))?);
    }
    if d.pending() > 0 {
        return Err(format!(
            "{} bytes of a reply left unterminated",
            d.pending()
        ));
    }
    Ok(out)
}

/// Sends `chunks` on a fresh connection, closes the writing side and returns the replies
/// and whether the manager closed the connection in time.
fn exchange(control: &Path, chunks: &[Vec<u8>]) -> Result<(Vec<Reply>, bool), String> {
    let mut s = UnixStream::connect(control).map_err(|e| format!("connect: {e}"))?;
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    for c in chunks {
        // A manager that gave up on the stream (oversized message) stops reading: the
        // rest of the write may fail, which is its right.
        if s.write_all(c).is_err() {
            break;
        }
    }
    let _ = s.shutdown(Shutdown::Write);
    let (bytes, closed) = read_all(&mut s);
    Ok((replies(&bytes)?, closed))
}

/// One request on a fresh connection, and its reply.
fn call(control: &Path, call: Call) -> Result<Reply, String> {
    let bytes = frame::encode(&Request::new(call)).map_err(|e| e.to_string())?;
    let (mut r, _) = exchange(control, &[bytes])?;
    if r.len() != 1 {
        return Err(format!("{} replies to one request", r.len()));
    }
    Ok(r.remove(0))
}

/// What `list-units` shows, as (name, load, active, sub).
fn units_shown(control: &Path) -> Result<Vec<(String, String, String, String)>, String> {
    let reply = call(
        control,
        Call::ListUnits {
            patterns: vec![],
            all: false,
            states: vec![],
            types: vec![],
        },
    )?;
    match reply.result {
        ReplyResult::Ok(Answer::Units(list)) => Ok(list
            .into_iter()
            .map(|u: UnitInfo| (u.name, u.load_state, u.active_state, u.sub_state))
            .collect()),
        other => Err(format!("list-units answered {other:?}")),
    }
}

fn error_of(reply: &Reply) -> Option<&proto::Error> {
    match &reply.result {
        ReplyResult::Error(e) => Some(e),
        ReplyResult::Ok(_) => None,
    }
}

/// One hostile thing done to the manager.
#[derive(Debug, Clone)]
enum Case {
    /// Random bytes in random chunks; `None` terminator means no NUL anywhere.
    Bytes(Vec<Vec<u8>>),
    /// A valid request cut before its end, with or without a NUL after the cut.
    Truncated { cut: usize, nul: bool },
    /// A message of this many bytes beyond the limit, never terminated.
    Oversized(usize),
    /// JSON of the wrong shape, and the field the error must name.
    WrongShape(String, &'static str),
    /// A well-formed request with hostile values.
    Hostile(Request),
    /// Connections left open, each with half a message.
    HalfOpen(usize, Vec<u8>),
}

fn hostile_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("../../etc/passwd".to_string()),
        Just("../x.service".to_string()),
        Just("/etc/passwd".to_string()),
        Just("a/b.service".to_string()),
        Just("x@.service".to_string()),
        Just(".service".to_string()),
        Just("nul\0.service".to_string()),
        Just(format!("{}.service", "a".repeat(300))),
        Just("x".repeat(5000)),
        "[a-z]{1,8}\\.(service|target|socket|timer|bogus)",
        "[\\x01-\\x1f]{1,5}\\.service",
        "\\PC{0,40}",
        "[a-z\\-\\\\@:.*?\\[\\]]{0,30}",
    ]
    .prop_filter("a unit the test relies on", |n| {
        !KNOWN.contains(&n.as_str())
    })
}

fn hostile_names() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        8 => proptest::collection::vec(hostile_name(), 0..6),
        1 => Just((0..10_000).map(|i| format!("bulk{i}.service")).collect()),
        1 => proptest::collection::vec("[a-z]{1,10}\\.service", 100..200),
    ]
}

fn hostile_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile_name(),
        Just("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b".repeat(20)),
        Just("*".repeat(1024)),
        Just("[".repeat(2000)),
        "[*?\\[\\]!^a-z-]{0,60}",
    ]
}

fn hostile_call() -> impl Strategy<Value = Call> {
    let verb = prop_oneof![
        Just(JobVerb::Start),
        Just(JobVerb::Stop),
        Just(JobVerb::Reload),
        Just(JobVerb::Restart),
        Just(JobVerb::TryRestart),
        Just(JobVerb::ReloadOrRestart),
        Just(JobVerb::TryReloadOrRestart),
        Just(JobVerb::Isolate),
        Just(JobVerb::VerifyActive),
    ];
    let mode = prop_oneof![
        Just(JobMode::Replace),
        Just(JobMode::Fail),
        Just(JobMode::Isolate),
        Just(JobMode::Flush),
        Just(JobMode::IgnoreDependencies),
        Just(JobMode::Triggering),
    ];
    let whom = prop_oneof![
        Just(KillWhom::Main),
        Just(KillWhom::Control),
        Just(KillWhom::All)
    ];
    let change = prop_oneof![
        Just(UnitFileChange::Enable),
        Just(UnitFileChange::Disable),
        Just(UnitFileChange::Mask),
        Just(UnitFileChange::Unmask),
    ];
    // Job ids that exist neither queued nor in the history of finished jobs.
    let jobs = || proptest::collection::vec(100_000u32.., 1..5);
    let words = || proptest::collection::vec(hostile_pattern(), 0..4);
    prop_oneof![
        // Job names never end in .slice: a slice needs no file and would start for real.
        (
            verb,
            hostile_names()
                .prop_map(|v| v.into_iter().filter(|n| !n.ends_with(".slice")).collect()),
            mode
        )
            .prop_map(|(verb, units, mode)| Call::Job { verb, units, mode }),
        (hostile_names(), whom, any::<i32>()).prop_map(|(units, whom, signal)| Call::Kill {
            units,
            whom,
            signal
        }),
        proptest::collection::vec(hostile_name(), 1..4)
            .prop_map(|units| Call::ResetFailed { units }),
        (words(), any::<bool>(), words(), words()).prop_map(|(patterns, all, states, types)| {
            Call::ListUnits {
                patterns,
                all,
                states,
                types,
            }
        }),
        words().prop_map(|patterns| Call::ListUnitFiles { patterns }),
        jobs().prop_map(|jobs| Call::WaitJobs { jobs }),
        jobs().prop_map(|jobs| Call::CancelJobs { jobs }),
        hostile_names().prop_map(|units| Call::Status { units }),
        (hostile_names(), words(), any::<bool>()).prop_map(|(units, properties, all)| {
            Call::Show {
                units,
                properties,
                all,
            }
        }),
        hostile_names().prop_map(|units| Call::Files { units }),
        (hostile_name(), any::<Option<u32>>()).prop_map(|(unit, lines)| Call::Logs { unit, lines }),
        (change, hostile_names())
            .prop_map(|(change, units)| Call::UnitFileChange { change, units }),
        hostile_name().prop_map(|unit| Call::SetDefault { unit }),
        Just(Call::DaemonReload),
        Just(Call::SystemStatus),
        Just(Call::ListJobs),
        Just(Call::GetDefault),
    ]
}

fn wrong_shape() -> impl Strategy<Value = (String, &'static str)> {
    let word = "[a-z]{0,8}";
    prop_oneof![
        word.prop_map(|w| (
            format!(r#"{{"version":1,"method":"job","params":{{"verb":"start","units":"{w}"}}}}"#),
            "params.units"
        )),
        any::<i64>().prop_map(|n| (
            format!(r#"{{"version":1,"method":"job","params":{{"verb":"start","units":["a",{n}]}}}}"#),
            "params.units[1]"
        )),
        word.prop_map(|w| (
            format!(r#"{{"version":1,"method":"job","params":{{"verb":"x{w}","units":[]}}}}"#),
            "params.verb"
        )),
        word.prop_map(|w| (
            format!(r#"{{"version":1,"method":"kill","params":{{"units":[],"signal":"{w}"}}}}"#),
            "params.signal"
        )),
        any::<u64>().prop_map(|n| (
            format!(r#"{{"version":1,"method":"wait-jobs","params":{{"jobs":[-{}]}}}}"#, u128::from(n) + 1),
            "params.jobs[0]"
        )),
        word.prop_map(|w| (
            format!(r#"{{"version":1,"method":"show","params":{{"units":[],"all":"{w}"}}}}"#),
            "params.all"
        )),
        word.prop_map(|w| (
            format!(r#"{{"version":1,"method":"job","params":{{"verb":"start","units":[],"mode":"x{w}"}}}}"#),
            "params.mode"
        )),
        Just((
            r#"{"version":1,"method":"job","params":{"verb":"start"}}"#.to_string(),
            "missing field `units`"
        )),
        word.prop_map(|w| (
            format!(r#"{{"version":1,"method":"frobnicate{w}"}}"#),
            "unknown variant `frobnicate"
        )),
        word.prop_map(|w| (format!(r#"{{"version":"{w}","method":"ping"}}"#), "version")),
        Just((r#"{"method":"ping"}"#.to_string(), "missing field `version`")),
        Just((r#"[1,2,3]"#.to_string(), "invalid")),
        Just((r#"{"version":1,"method":"status"}"#.to_string(), "missing field `params`")),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let chunk = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        proptest::collection::vec(1u8.., 0..512),
    ];
    prop_oneof![
        2 => proptest::collection::vec(chunk, 1..6).prop_map(Case::Bytes),
        1 => (0usize..60, any::<bool>()).prop_map(|(cut, nul)| Case::Truncated { cut, nul }),
        1 => (1usize..70_000).prop_map(Case::Oversized),
        2 => wrong_shape().prop_map(|(text, field)| Case::WrongShape(text, field)),
        8 => hostile_call().prop_map(|c| Case::Hostile(Request::new(c))),
        1 => (prop_oneof![Just(0u32), 2u32..]).prop_map(|v| Case::Hostile(Request {
            version: v,
            call: Call::Ping
        })),
        1 => (520usize..620, proptest::collection::vec(1u8.., 0..64))
            .prop_map(|(n, partial)| Case::HalfOpen(n, partial)),
    ]
}

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

/// Runs one case and checks the answers it got.
fn run_case(control: &Path, case: &Case) -> Result<(), TestCaseError> {
    match case {
        Case::Bytes(chunks) => {
            let frames = chunks.iter().flatten().filter(|&&b| b == 0).count();
            let (r, closed) = exchange(control, chunks).map_err(fail)?;
            prop_assert!(closed, "the manager kept the connection open after EOF");
            prop_assert_eq!(r.len(), frames, "one reply per terminated frame: {:?}", r);
            for reply in &r {
                let e =
                    error_of(reply).ok_or_else(|| fail(format!("garbage accepted: {reply:?}")))?;
                prop_assert!(
                    matches!(e.kind, ErrorKind::BadRequest | ErrorKind::Version),
                    "{:?}",
                    e
                );
            }
        }
        Case::Truncated { cut, nul } => {
            let whole = frame::encode(&Request::new(Call::Status {
                units: vec!["sleeper.service".into()],
            }))
            .unwrap();
            let body = &whole[..whole.len() - 1];
            let mut part = body[..(*cut).min(body.len() - 1)].to_vec();
            if *nul {
                part.push(0);
            }
            let (r, closed) = exchange(control, &[part]).map_err(fail)?;
            prop_assert!(closed);
            if *nul {
                prop_assert_eq!(r.len(), 1);
                let e = error_of(&r[0]).ok_or_else(|| fail("a cut request was accepted".into()))?;
                prop_assert_eq!(e.kind, ErrorKind::BadRequest);
                prop_assert!(
                    e.message.starts_with("malformed message: "),
                    "{}",
                    e.message
                );
            } else {
                prop_assert!(r.is_empty(), "a reply to half a request: {:?}", r);
            }
        }
        Case::Oversized(extra) => {
            let big = vec![b' '; proto::MAX_MESSAGE + extra];
            let (r, closed) = exchange(control, &[big]).map_err(fail)?;
            prop_assert!(closed);
            prop_assert_eq!(r.len(), 1, "{:?}", r);
            let e =
                error_of(&r[0]).ok_or_else(|| fail("an oversized message was accepted".into()))?;
            prop_assert_eq!(e.kind, ErrorKind::BadRequest);
            prop_assert_eq!(
                &e.message,
                &format!("message longer than {} bytes", proto::MAX_MESSAGE)
            );
        }
        Case::WrongShape(text, field) => {
            let mut bytes = text.clone().into_bytes();
            bytes.push(0);
            let (r, _) = exchange(control, &[bytes]).map_err(fail)?;
            prop_assert_eq!(r.len(), 1);
            let e = error_of(&r[0]).ok_or_else(|| fail(format!("{text} was accepted")))?;
            prop_assert_eq!(e.kind, ErrorKind::BadRequest);
            prop_assert!(e.message.contains(field), "{}: {}", text, e.message);
        }
        Case::Hostile(request) => {
            let Ok(bytes) = frame::encode(request) else {
                // Too long to send at all: nothing to test.
                return Ok(());
            };
            let (r, _) = exchange(control, &[bytes]).map_err(fail)?;
            prop_assert_eq!(r.len(), 1, "one reply to {:?}", request.call);
            if let Some(e) = error_of(&r[0]) {
                prop_assert!(!e.message.is_empty());
                if request.version != proto::VERSION {
                    prop_assert_eq!(e.kind, ErrorKind::Version);
                }
                prop_assert!(
                    !matches!(e.kind, ErrorKind::PermissionDenied),
                    "root was refused: {:?}",
                    e
                );
            }
            // Whatever was asked, nothing is left waiting.
        }
        Case::HalfOpen(n, partial) => {
            let mut held = Vec::new();
            for _ in 0..*n {
                let mut s =
                    UnixStream::connect(control).map_err(|e| fail(format!("connect: {e}")))?;
                let _ = s.write_all(partial);
                held.push(s);
            }
            // Checked while every one of them is still open.
            check_alive(control)?;
        }
    }
    Ok(())
}

/// A fresh connection gets its `Ping` answered.
fn check_alive(control: &Path) -> Result<(), TestCaseError> {
    let reply = call(control, Call::Ping).map_err(fail)?;
    prop_assert!(
        matches!(reply.result, ReplyResult::Ok(Answer::Pong { .. })),
        "{:?}",
        reply
    );
    Ok(())
}

#[test]
fn hostile_clients_neither_crash_nor_block_the_manager() {
    let mut m = common::Process::start(
        &["etc", "units"],
        &[("sleeper.service", SLEEPER), ("fail.service", FAILING)],
    );
    let control = m.control();
    for (verb, unit) in [
        (JobVerb::Start, "sleeper.service"),
        (JobVerb::Start, "fail.service"),
    ] {
        let reply = call(
            &control,
            Call::Job {
                verb,
                units: vec![unit.into()],
                mode: JobMode::Replace,
            },
        )
        .unwrap();
        assert!(error_of(&reply).is_none(), "{reply:?}");
    }
    // The oneshot fails at once; the sleeper runs.
    let deadline = Instant::now() + PATIENCE;
    let baseline = loop {
        let shown = units_shown(&control).unwrap();
        let state = |name: &str| {
            shown
                .iter()
                .find(|u| u.0 == name)
                .map(|u| u.2.clone())
                .unwrap_or_default()
        };
        if state("sleeper.service") == "active" && state("fail.service") == "failed" {
            break shown;
        }
        assert!(Instant::now() < deadline, "{shown:?}\n{}", m.log());
        std::thread::sleep(Duration::from_millis(20));
    };

    let config = Config {
        cases: 64,
        rng_seed: RngSeed::Fixed(0x5eed_c0de),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |case| {
        run_case(&control, &case)?;
        check_alive(&control)?;
        let now = units_shown(&control).map_err(fail)?;
        prop_assert_eq!(&now, &baseline, "list-units changed after {:?}", case);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}\nmanager log:\n{}", m.log());
    }
    assert!(
        m.child.try_wait().unwrap().is_none(),
        "the manager exited\n{}",
        m.log()
    );
    let status = m.terminate();
    assert!(status.success(), "{status:?}\n{}", m.log());
}

/// Set in the copy of this test that runs as `nobody`: the control socket to talk to, and
/// a job that keeps running meanwhile.
const CLIENT_SOCKET: &str = "SYSMASTER_FUZZ_CLIENT_SOCKET";
const CLIENT_JOB: &str = "SYSMASTER_FUZZ_CLIENT_JOB";

/// The calls the unprivileged client makes, and whether each changes state.
fn unprivileged_calls() -> Vec<(Call, bool)> {
    let units = || vec!["sleeper.service".to_string()];
    vec![
        (Call::Ping, false),
        (
            Call::ListUnits {
                patterns: vec![],
                all: true,
                states: vec![],
                types: vec![],
            },
            false,
        ),
        (Call::ListUnitFiles { patterns: vec![] }, false),
        (Call::ListJobs, false),
        (Call::Status { units: units() }, false),
        (
            Call::Show {
                units: units(),
                properties: vec![],
                all: true,
            },
            false,
        ),
        (Call::Files { units: units() }, false),
        (
            Call::Logs {
                unit: "sleeper.service".into(),
                lines: Some(5),
            },
            false,
        ),
        (Call::SystemStatus, false),
        (
            Call::Job {
                verb: JobVerb::Stop,
                units: units(),
                mode: JobMode::Replace,
            },
            true,
        ),
        (
            Call::Job {
                verb: JobVerb::Start,
                units: vec!["fail.service".into()],
                mode: JobMode::Replace,
            },
            true,
        ),
        (
            Call::Kill {
                units: units(),
                whom: KillWhom::All,
                signal: 9,
            },
            true,
        ),
        (Call::ResetFailed { units: vec![] }, true),
        (Call::CancelJobs { jobs: vec![] }, true),
        (
            Call::UnitFileChange {
                change: UnitFileChange::Mask,
                units: units(),
            },
            true,
        ),
        (
            Call::SetDefault {
                unit: "multi-user.target".into(),
            },
            true,
        ),
        (Call::DaemonReload, true),
        (Call::DaemonReexec, true),
        (
            Call::Shutdown {
                kind: ShutdownKind::Poweroff,
            },
            true,
        ),
    ]
}

/// The client side, in the copy of this test run as `nobody`: one line per call, `ok` or
/// the error's kind. Then it tries to take every client slot with connections waiting for
/// the job `job`, says `HELD`, and keeps them until its standard input closes.
fn unprivileged_client(socket: &Path, job: u32) {
    for (i, (c, _)) in unprivileged_calls().into_iter().enumerate() {
        let outcome = match call(socket, c) {
            Ok(reply) => match reply.result {
                ReplyResult::Ok(_) => "ok".to_string(),
                ReplyResult::Error(e) => kind_name(e.kind),
            },
            Err(e) => format!("broken:{e}"),
        };
        println!("RESULT {i} {outcome}");
    }
    let wait = frame::encode(&Request::new(Call::WaitJobs { jobs: vec![job] })).unwrap();
    let mut held = Vec::new();
    for _ in 0..600 {
        // Turned away or dropped connections are expected past the limit.
        if let Ok(mut s) = UnixStream::connect(socket) {
            let _ = s.write_all(&wait);
            held.push(s);
        }
    }
    println!("HELD {}", held.len());
    let _ = std::io::stdout().flush();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

fn kind_name(kind: ErrorKind) -> String {
    format!("{kind:?}")
}

#[test]
fn a_client_that_is_not_root_may_read_but_not_change() {
    if let Some(socket) = std::env::var_os(CLIENT_SOCKET) {
        let job = std::env::var(CLIENT_JOB).unwrap().parse().unwrap();
        unprivileged_client(Path::new(&socket), job);
        return;
    }
    let m = common::Process::start(
        &["etc", "units"],
        &[
            ("sleeper.service", SLEEPER),
            ("fail.service", FAILING),
            ("slow.service", SLOW),
        ],
    );
    let mut job = 0;
    for unit in ["sleeper.service", "slow.service"] {
        let reply = call(
            &m.control(),
            Call::Job {
                verb: JobVerb::Start,
                units: vec![unit.into()],
                mode: JobMode::Replace,
            },
        )
        .unwrap();
        match reply.result {
            ReplyResult::Ok(Answer::Jobs(jobs)) => job = jobs[0].id,
            other => panic!("{other:?}"),
        }
    }
    // `nobody` must reach the socket and run a copy of this test binary.
    std::fs::set_permissions(m.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = m.dir.path().join("client");
    std::fs::copy(std::env::current_exe().unwrap(), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&copy)
        .args([
            "--exact",
            "a_client_that_is_not_root_may_read_but_not_change",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CLIENT_SOCKET, m.control())
        .env(CLIENT_JOB, job.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("setpriv (util-linux) runs the client as nobody");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        stdout.push_str(&line);
        stdout.push('\n');
        if line.contains("HELD ") {
            break;
        }
    }
    // While nobody's clients wait in every slot they may have, root still gets in.
    assert!(stdout.contains("HELD "), "{stdout}\n{}", m.log());
    check_alive(&m.control()).unwrap();
    drop(child.stdin.take());
    for line in lines {
        stdout.push_str(&line.unwrap());
        stdout.push('\n');
    }
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{stdout}\n{stderr}");
    let results: Vec<(usize, String)> = stdout
        .lines()
        // libtest's "test NAME ... " may precede the first line.
        .filter_map(|l| l.split_once("RESULT ").map(|(_, rest)| rest))
        .map(|l| {
            let (i, outcome) = l.split_once(' ').unwrap();
            (i.parse().unwrap(), outcome.to_string())
        })
        .collect();
    let calls = unprivileged_calls();
    assert_eq!(results.len(), calls.len(), "{stdout}");
    for ((i, outcome), (c, changes)) in results.iter().zip(&calls) {
        if *changes {
            assert_eq!(outcome, "PermissionDenied", "{i}: {c:?}");
        } else {
            assert_eq!(outcome, "ok", "{i}: {c:?}");
        }
    }
    // Nothing changed: the service still runs, nothing was masked.
    let shown = units_shown(&m.control()).unwrap();
    assert!(
        shown
            .iter()
            .any(|u| u.0 == "sleeper.service" && u.2 == "active"),
        "{shown:?}"
    );
    assert!(!m.dir.path().join("etc/sleeper.service").exists());
}
