//! `devctl control`, `settle` and `trigger --wait-daemon` against a stand-in for udevd's
//! control socket (a `SOCK_SEQPACKET` listener in a temporary runtime directory, speaking
//! systemd 252's `udev-ctrl.c` protocol): which packets arrive, in which order, and what the
//! client does when the daemon closes the connection, never answers, or is absent. Error
//! texts are udevadm 252's (the absent-daemon one as Debian's udevadm prints it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::os::fd::AsFd;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use devmaster::devctl::ctrl::{decode, Message};
use devmaster::devctl::{run, Env, Io};

fn env(dir: &Path) -> Env {
    Env {
        sys: "/sys".into(),
        dev: "/dev".into(),
        run: dir.to_path_buf(),
        root: "/".into(),
        colors: false,
        utf8: true,
    }
}

fn devctl(env: &Env, args: &[&str]) -> (String, String, i32) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(
        env,
        &args,
        &mut Io {
            out: &mut out,
            err: &mut err,
        },
    );
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
        code,
    )
}

/// A daemon that accepts one connection and records its packets: until "end of messages"
/// or "exit" (then it closes the connection), or, when `answer` is false, until the client
/// goes away (it never closes first).
fn daemon(dir: &Path, answer: bool) -> JoinHandle<Vec<(String, Message)>> {
    let listener = sys::seqpacket::listen(&dir.join("control")).unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        let conn = loop {
            if let Some(c) = sys::seqpacket::accept(listener.as_fd()).unwrap() {
                break c;
            }
            assert!(Instant::now() < deadline, "no client connected");
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        while Instant::now() < deadline {
            match sys::seqpacket::recv(conn.as_fd(), &mut buf) {
                Ok(Some(p)) if p.len == 0 => break,
                Ok(Some(p)) => {
                    assert_eq!(p.len, 280, "udev-ctrl packets are 280 bytes");
                    let version = String::from_utf8_lossy(&buf[..16])
                        .trim_end_matches('\0')
                        .to_string();
                    let m = decode(&buf[..p.len]).unwrap();
                    let last = matches!(m, Message::EndMessages | Message::Exit);
                    got.push((version, m));
                    if last && answer {
                        break;
                    }
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => break,
            }
        }
        got
    })
}

fn messages(got: Vec<(String, Message)>) -> Vec<Message> {
    assert!(got.iter().all(|(v, _)| v == "udev-252"), "{got:?}");
    got.into_iter().map(|(_, m)| m).collect()
}

#[test]
fn control_sends_udevadms_packets_in_udevadms_order() {
    let t = tempfile::tempdir().unwrap();
    let d = daemon(t.path(), true);
    let r = devctl(
        &env(t.path()),
        &[
            "control", "--ping", "-m", "3", "-p", "A=b", "--env=C=", "-R", "-s", "-S", "-l",
            "debug",
        ],
    );
    assert_eq!(r, (String::new(), String::new(), 0));
    assert_eq!(
        messages(d.join().unwrap()),
        [
            Message::SetLogLevel(7),
            Message::StartExecQueue,
            Message::Reload,
            Message::SetEnv("A=b".into()),
            Message::SetEnv("C=".into()),
            Message::SetChildrenMax(3),
            Message::Ping,
            Message::EndMessages,
        ]
    );
}

#[test]
fn exit_is_sent_alone_and_not_waited_for() {
    let t = tempfile::tempdir().unwrap();
    let d = daemon(t.path(), false);
    let r = devctl(&env(t.path()), &["control", "--reload", "--exit"]);
    assert_eq!(r.2, 0);
    assert_eq!(messages(d.join().unwrap()), [Message::Exit]);
}

#[test]
fn a_daemon_that_never_answers_times_out() {
    let t = tempfile::tempdir().unwrap();
    let d = daemon(t.path(), false);
    let r = devctl(&env(t.path()), &["control", "--ping", "--timeout=0.2"]);
    assert_eq!(
        r,
        (
            String::new(),
            "Failed to wait for daemon to reply: Connection timed out\n".into(),
            1
        )
    );
    assert_eq!(
        messages(d.join().unwrap()),
        [Message::Ping, Message::EndMessages]
    );
}

#[test]
fn no_daemon() {
    let t = tempfile::tempdir().unwrap();
    let e = env(t.path());
    // Debian's `udevadm control --ping` without udevd.
    assert_eq!(
        devctl(&e, &["control", "--ping"]),
        (
            String::new(),
            "Failed to send a ping message: No such file or directory\n".into(),
            1
        )
    );
    assert_eq!(
        devctl(&e, &["trigger", "--wait-daemon=1", "-n", "-s", "nothing"]),
        (
            String::new(),
            "Failed to connect to udev daemon: No such file or directory\n".into(),
            1
        )
    );
    // settle as root: no daemon, nothing to wait for.
    assert_eq!(devctl(&e, &["settle"]), (String::new(), String::new(), 0));
    // Only a timeout: nothing is sent, nothing is waited for.
    assert_eq!(
        devctl(&e, &["control", "-t", "1"]),
        (String::new(), String::new(), 0)
    );
}

#[test]
fn settle_pings_then_waits_for_the_queue() {
    let t = tempfile::tempdir().unwrap();
    let e = env(t.path());
    let d = daemon(t.path(), true);
    assert_eq!(devctl(&e, &["settle"]), (String::new(), String::new(), 0));
    assert_eq!(
        messages(d.join().unwrap()),
        [Message::Ping, Message::EndMessages]
    );

    std::fs::write(t.path().join("queue"), "").unwrap();
    let d = daemon(t.path(), true);
    assert_eq!(
        devctl(&e, &["settle", "-t", "0.2"]),
        (
            String::new(),
            "Timed out for waiting the udev queue being empty.\n".into(),
            1
        )
    );
    d.join().unwrap();

    let d = daemon(t.path(), true);
    let exists = t.path().join("queue").display().to_string();
    assert_eq!(
        devctl(&e, &["settle", "-E", &exists]),
        (String::new(), String::new(), 0)
    );
    d.join().unwrap();

    // The queue goes away while settle waits.
    let d = daemon(t.path(), true);
    let q = t.path().join("queue");
    let remover = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        std::fs::remove_file(q).unwrap();
    });
    assert_eq!(
        devctl(&e, &["settle", "-t", "10"]),
        (String::new(), String::new(), 0)
    );
    remover.join().unwrap();
    d.join().unwrap();
}

#[test]
fn trigger_waits_for_the_daemon_first() {
    let t = tempfile::tempdir().unwrap();
    let d = daemon(t.path(), true);
    let r = devctl(
        &env(t.path()),
        &[
            "trigger",
            "--wait-daemon",
            "-n",
            "-v",
            "-y",
            "null",
            "-s",
            "mem",
        ],
    );
    assert_eq!(
        r,
        ("/sys/devices/virtual/mem/null\n".into(), String::new(), 0)
    );
    assert_eq!(
        messages(d.join().unwrap()),
        [Message::Ping, Message::EndMessages]
    );
}
