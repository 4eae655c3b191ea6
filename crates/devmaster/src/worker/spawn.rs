//! Programs of `PROGRAM`, `IMPORT{program}` and `RUN`, started as udevd 252 starts them
//! (`udev_event_spawn`): the command line split into words with quotes grouping and
//! removed and backslashes kept as they are; a name that is not absolute looked up in
//! udev's program directory; the device's properties (plus `UDEV_DATABASE_VERSION=1`) as
//! the whole environment; stdin `/dev/null`; stdout captured up to a limit (udev's 16 KiB
//! line buffer, the rest read and dropped); stderr read and dropped; the program killed
//! with SIGKILL when the timeout passes, which fails it. The wait ends when the program
//! exits, even if something it started still holds its stdout.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// udev's program directories, tried in order for a name that is not absolute (Debian's
/// udev uses `/lib/udev`, merged-/usr systems `/usr/lib/udev`).
pub const PROGRAM_DIRS: [&str; 2] = ["/usr/lib/udev", "/lib/udev"];

/// udev's result buffer (`UDEV_LINE_SIZE`): at most one byte less is kept.
pub const RESULT_MAX: usize = 16 * 1024;

/// Splits a command line as udev does (`EXTRACT_UNQUOTE | EXTRACT_RELAX |
/// EXTRACT_RETAIN_ESCAPE`): words separated by runs of space, tab, CR, LF; `'...'` and
/// `"..."` group (also within a word, `a"b c"d` is `ab cd`) and are removed; a quote left
/// open runs to the end; `\` is an ordinary character.
pub fn split(command: &str) -> Vec<String> {
    let sep = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.get_or_insert_with(String::new).push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                cur.get_or_insert_with(String::new);
            }
            None if sep(c) => words.extend(cur.take()),
            None => cur.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(cur);
    words
}

/// Where a program name points: absolute names as they are, others in the first of
/// [`PROGRAM_DIRS`] that has them (the first directory when none does).
pub fn resolve(name: &str) -> PathBuf {
    if name.starts_with('/') {
        return PathBuf::from(name);
    }
    PROGRAM_DIRS
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| Path::new(PROGRAM_DIRS[0]).join(name))
}

/// Reads what a non-blocking pipe has now into `out` (up to `cap` bytes kept, the rest
/// dropped); returns false once the pipe is at its end or broken.
fn drain(fd: &OwnedFd, out: &mut Vec<u8>, cap: usize) -> bool {
    let mut buf = [0u8; 4096];
    // Bounded: a program that writes without pause must not keep us here forever.
    for _ in 0..256 {
        match sys::event::read(fd.as_fd(), &mut buf) {
            Ok(0) => return false,
            Ok(n) => {
                let chunk = buf.get(..n).unwrap_or_default();
                let room = cap.saturating_sub(out.len());
                out.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

/// Text of program output: every byte that is not part of valid UTF-8 becomes `_`, as
/// udev's character check of program results replaces it.
pub fn underscore_invalid(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(chunk.invalid().iter().map(|_| '_'));
    }
    out
}

/// Runs `command` with `env` as its environment and returns its standard output (at most
/// `cap` bytes). `Err` says why it failed: it could not be started, it timed out (it is
/// killed), it was killed by a signal or exited non-zero.
pub fn run(
    command: &str,
    env: &BTreeMap<String, String>,
    timeout: Duration,
    cap: usize,
) -> Result<String, String> {
    let argv = split(command);
    let Some(name) = argv.first().filter(|a| !a.is_empty()) else {
        return Err(format!("Invalid command '{command}'"));
    };
    let program = resolve(name);
    let pipe = || sys::event::pipe_nonblocking_read().map_err(|e| format!("pipe: {e}"));
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let mut cmd = Command::new(&program);
    cmd.args(argv.iter().skip(1))
        .env_clear()
        .env("UDEV_DATABASE_VERSION", "1")
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out_w))
        .stderr(Stdio::from(err_w));
    let spawned = cmd.spawn();
    // The Command holds the write ends: drop it so that the pipes end with the program.
    drop(cmd);
    let mut child =
        spawned.map_err(|e| format!("Failed to execute '{}': {e}", program.display()))?;
    let pidfd = sys::process::pidfd_open(child.id()).ok();
    let deadline = Instant::now() + timeout;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let (mut out_open, mut err_open) = (true, true);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "Spawned process '{command}' [{}] timed out after {}s, killed",
                child.id(),
                timeout.as_secs_f64()
            ));
        }
        let left = deadline - now;
        let mut wait_ms = u32::try_from(left.as_millis().saturating_add(1)).unwrap_or(u32::MAX);
        let mut fds = Vec::new();
        match &pidfd {
            Some(p) => fds.push(sys::event::PollFd::new(p.as_raw_fd(), sys::event::READABLE)),
            // Without pidfds (Linux < 5.3), look at the child now and then.
            None => wait_ms = wait_ms.min(20),
        }
        if out_open {
            fds.push(sys::event::PollFd::new(
                out_r.as_raw_fd(),
                sys::event::READABLE,
            ));
        }
        if err_open {
            fds.push(sys::event::PollFd::new(
                err_r.as_raw_fd(),
                sys::event::READABLE,
            ));
        }
        if fds.is_empty() {
            wait_ms = wait_ms.min(20);
        }
        sys::event::poll(&mut fds, Some(wait_ms)).map_err(|e| format!("poll: {e}"))?;
        if out_open {
            out_open = drain(&out_r, &mut stdout, cap);
        }
        if err_open {
            err_open = drain(&err_r, &mut stderr, 512);
        }
    };
    if out_open {
        drain(&out_r, &mut stdout, cap);
    }
    if err_open {
        drain(&err_r, &mut stderr, 512);
    }
    match status.code() {
        Some(0) => Ok(underscore_invalid(&stdout)),
        Some(code) => {
            let err = String::from_utf8_lossy(&stderr);
            let err = err.trim_end();
            Err(if err.is_empty() {
                format!("Process '{command}' failed with exit code {code}.")
            } else {
                format!("Process '{command}' failed with exit code {code}: {err}")
            })
        }
        None => {
            use std::os::unix::process::ExitStatusExt;
            Err(format!(
                "Process '{command}' terminated by signal {}.",
                status.signal().unwrap_or(0)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_as_udev() {
        // Expected values follow systemd's extract_first_word with udev's flags; the
        // quoted cases are those of udev-test.pl's PROGRAM tests.
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   ", &[]),
            ("/bin/echo -n foo", &["/bin/echo", "-n", "foo"]),
            ("  a \t b\n", &["a", "b"]),
            (
                "/bin/echo -n 'foo3 foo4'   'foo5   foo6   foo7 foo8'",
                &["/bin/echo", "-n", "foo3 foo4", "foo5   foo6   foo7 foo8"],
            ),
            (
                "/bin/sh -c 'printf %s \"foo1 foo2\" | grep \"foo1 foo2\"'",
                &[
                    "/bin/sh",
                    "-c",
                    "printf %s \"foo1 foo2\" | grep \"foo1 foo2\"",
                ],
            ),
            ("a\"b c\"d", &["ab cd"]),
            ("''", &[""]),
            ("x '' y", &["x", "", "y"]),
            ("'open to the end", &["open to the end"]),
            // Backslashes are kept, and do not escape quotes.
            ("/bin/echo -e \\101", &["/bin/echo", "-e", "\\101"]),
            ("a\\ b", &["a\\", "b"]),
            ("'a\\'b", &["a\\b"]),
        ];
        for (line, want) in cases {
            assert_eq!(split(line), *want, "{line:?}");
        }
    }

    #[test]
    fn invalid_utf8_becomes_underscores() {
        // udev-test.pl "untrusted string sanitize": \xef\xe8garbage -> __garbage.
        assert_eq!(underscore_invalid(b"\xef\xe8garbage"), "__garbage");
        assert_eq!(underscore_invalid("\u{fc}ber".as_bytes()), "\u{fc}ber");
        assert_eq!(underscore_invalid(b"a\xe2\x82x\xff"), "a__x_");
    }

    #[test]
    fn program_lookup() {
        assert_eq!(resolve("/bin/true"), PathBuf::from("/bin/true"));
        assert_eq!(
            resolve("no-such-udev-helper"),
            PathBuf::from("/usr/lib/udev/no-such-udev-helper")
        );
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const T: Duration = Duration::from_secs(30);

    #[test]
    fn output_environment_and_exit_codes() {
        assert_eq!(
            run("/bin/echo -n a  b", &env(&[]), T, RESULT_MAX).unwrap(),
            "a b"
        );
        // The environment is exactly the properties plus the database version.
        let out = run(
            "/usr/bin/env",
            &env(&[("DEVNAME", "/dev/sda"), ("ID_X", "a b")]),
            T,
            RESULT_MAX,
        )
        .unwrap();
        let mut lines: Vec<&str> = out.lines().collect();
        lines.sort();
        assert_eq!(
            lines,
            ["DEVNAME=/dev/sda", "ID_X=a b", "UDEV_DATABASE_VERSION=1"]
        );
        let e = run(
            "/bin/sh -c 'echo oops >&2; exit 3'",
            &env(&[]),
            T,
            RESULT_MAX,
        )
        .unwrap_err();
        assert!(e.contains("exit code 3: oops"), "{e}");
        let e = run("/bin/sh -c 'kill -9 $$'", &env(&[]), T, RESULT_MAX).unwrap_err();
        assert!(e.contains("signal 9"), "{e}");
        let e = run("/nonexistent/prog", &env(&[]), T, RESULT_MAX).unwrap_err();
        assert!(e.contains("Failed to execute '/nonexistent/prog'"), "{e}");
        assert!(run("''", &env(&[]), T, RESULT_MAX).is_err());
    }

    #[test]
    fn output_is_bounded() {
        let out = run("/bin/sh -c 'yes | head -c 100000'", &env(&[]), T, 1000).unwrap();
        assert_eq!(out.len(), 1000);
        assert!(out.starts_with("y\ny\n"));
    }

    #[test]
    fn hanging_program_is_killed() {
        let e = run(
            "/bin/sleep 1000",
            &env(&[]),
            Duration::from_millis(200),
            100,
        )
        .unwrap_err();
        assert!(e.contains("timed out"), "{e}");
    }

    #[test]
    fn a_background_child_holding_stdout_does_not_block() {
        // The shell exits at once; its background child keeps the pipe open. Waiting for
        // the pipe's end would run into the timeout.
        let out = run(
            "/bin/sh -c 'sleep 1000 & echo $!'",
            &env(&[]),
            Duration::from_secs(10),
            100,
        )
        .unwrap();
        let pid: u32 = out.trim().parse().unwrap();
        sys::process::kill(pid, 9).unwrap();
    }
}
