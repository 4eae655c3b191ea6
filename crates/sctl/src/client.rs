//! The control-protocol client: finds the manager's socket, sends one [`proto::Request`]
//! per connection and reads back one [`proto::Reply`].
//!
//! One connection per call keeps the client independent of whether the manager serves
//! several requests on a connection, and a manager that restarts between two calls of one
//! `sctl` run (DESIGN.md §1: it may be upgraded at any moment) is simply reconnected to.
//! Every read has a deadline except for the calls that legitimately take long
//! (`WaitJobs`, `daemon-reload`), so a wedged manager makes `sctl` fail instead of hang.

use proto::frame::{self, Decoder, FrameError};
use proto::{Answer, Call, Reply, ReplyResult, Request};
use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The manager's runtime directory when neither `--runtime-dir` nor the environment says.
pub const DEFAULT_RUNTIME_DIR: &str = "/run/sysmaster";
/// The environment variable naming the runtime directory (DESIGN.md §4).
pub const ENV_RUNTIME_DIR: &str = "SYSMASTER_RUNTIME_DIR";
/// The environment variable overriding the reply deadline, in seconds.
pub const ENV_TIMEOUT: &str = "SCTL_TIMEOUT";
/// The socket's name inside the runtime directory.
pub const SOCKET_NAME: &str = "control";
/// How long a call may take by default; systemctl's D-Bus calls have the same 25 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25);

/// The control socket: `--runtime-dir`, else `$SYSMASTER_RUNTIME_DIR` (when not empty),
/// else [`DEFAULT_RUNTIME_DIR`], joined with [`SOCKET_NAME`].
pub fn socket_path(flag: Option<&Path>, env: Option<OsString>) -> PathBuf {
    let dir = match (flag, env) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(env)) if !env.is_empty() => PathBuf::from(env),
        _ => PathBuf::from(DEFAULT_RUNTIME_DIR),
    };
    dir.join(SOCKET_NAME)
}

/// The reply deadline from `$SCTL_TIMEOUT` (seconds, fractions allowed); anything that
/// is not a positive finite number leaves the default.
pub fn timeout_from_env(env: Option<OsString>) -> Duration {
    env.and_then(|v| v.into_string().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// Whether a call may wait for its reply without a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// The client's timeout applies.
    Bounded,
    /// The call finishes when the manager's work does (waiting for jobs, reloading).
    Unbounded,
}

/// Why a call produced no reply. The remote side's refusals are not errors here: they
/// are the `Err` half of [`Client::call`]'s inner result.
#[derive(Debug)]
pub enum ClientError {
    Connect {
        path: PathBuf,
        source: io::Error,
    },
    Io {
        path: PathBuf,
        source: io::Error,
    },
    Timeout {
        path: PathBuf,
        after: Duration,
    },
    /// The manager closed the connection without replying.
    Closed {
        path: PathBuf,
    },
    Protocol {
        path: PathBuf,
        source: FrameError,
    },
}

/// An I/O error as a sentence: the OS's text without Rust's " (os error N)" tail.
fn describe(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" (os error ") {
        Some((head, _)) => head.to_string(),
        None => text,
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Connect { path, source } => write!(
                f,
                "Failed to connect to the manager at {}: {}\n\
                 Is sysmaster running? Point at another instance with --runtime-dir or ${ENV_RUNTIME_DIR}.",
                path.display(),
                describe(source)
            ),
            ClientError::Io { path, source } => {
                write!(
                    f,
                    "Failed to talk to the manager at {}: {}",
                    path.display(),
                    describe(source)
                )
            }
            ClientError::Timeout { path, after } => write!(
                f,
                "The manager at {} did not answer within {} s.",
                path.display(),
                after.as_secs_f64()
            ),
            ClientError::Closed { path } => write!(
                f,
                "The manager at {} closed the connection without answering.",
                path.display()
            ),
            ClientError::Protocol { path, source } => write!(
                f,
                "The manager at {} sent an invalid reply: {source}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ClientError {}

/// What one call produced: the manager's answer or its refusal.
pub type Outcome = Result<Answer, proto::Error>;

#[derive(Debug, Clone)]
pub struct Client {
    path: PathBuf,
    timeout: Duration,
}

impl Client {
    pub fn new(path: PathBuf, timeout: Duration) -> Client {
        Client { path, timeout }
    }

    /// Sends `call` on a fresh connection and waits (at most the timeout) for the reply.
    pub fn call(&self, call: Call) -> Result<Outcome, ClientError> {
        self.call_with(call, Deadline::Bounded)
    }

    pub fn call_with(&self, call: Call, deadline: Deadline) -> Result<Outcome, ClientError> {
        let mut stream =
            UnixStream::connect(&self.path).map_err(|source| ClientError::Connect {
                path: self.path.clone(),
                source,
            })?;
        let bytes = frame::encode(&Request::new(call)).map_err(|source| self.protocol(source))?;
        stream
            .set_write_timeout(Some(self.timeout))
            .map_err(|e| self.io(e))?;
        stream.write_all(&bytes).map_err(|e| self.io(e))?;
        let reply = self.read_reply(&mut stream, deadline)?;
        Ok(match reply.result {
            ReplyResult::Ok(answer) => Ok(answer),
            ReplyResult::Error(error) => Err(error),
        })
    }

    fn read_reply(
        &self,
        stream: &mut UnixStream,
        deadline: Deadline,
    ) -> Result<Reply, ClientError> {
        let end = match deadline {
            Deadline::Bounded => Some(Instant::now() + self.timeout),
            Deadline::Unbounded => None,
        };
        let mut decoder = Decoder::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if let Some(message) = decoder.next_message::<Reply>() {
                return message.map_err(|source| self.protocol(source));
            }
            let left = match end {
                Some(end) => match end.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Err(self.timed_out()),
                },
                None => None,
            };
            stream.set_read_timeout(left).map_err(|e| self.io(e))?;
            match stream.read(&mut buf) {
                Ok(0) => {
                    return Err(ClientError::Closed {
                        path: self.path.clone(),
                    })
                }
                Ok(n) => decoder.push(buf.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(self.timed_out())
                }
                // A manager that goes away mid-reply (re-exec, shutdown) looks closed.
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(ClientError::Closed {
                        path: self.path.clone(),
                    })
                }
                Err(e) => return Err(self.io(e)),
            }
        }
    }

    fn io(&self, source: io::Error) -> ClientError {
        ClientError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn protocol(&self, source: FrameError) -> ClientError {
        ClientError::Protocol {
            path: self.path.clone(),
            source,
        }
    }

    fn timed_out(&self) -> ClientError {
        ClientError::Timeout {
            path: self.path.clone(),
            after: self.timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_path_prefers_flag_then_environment_then_default() {
        let cases: [(Option<&str>, Option<&str>, &str); 4] = [
            (Some("/tmp/a"), Some("/tmp/b"), "/tmp/a/control"),
            (None, Some("/tmp/b"), "/tmp/b/control"),
            (None, Some(""), "/run/sysmaster/control"),
            (None, None, "/run/sysmaster/control"),
        ];
        for (flag, env, want) in cases {
            assert_eq!(
                socket_path(flag.map(Path::new), env.map(OsString::from)),
                PathBuf::from(want),
                "{flag:?} {env:?}"
            );
        }
    }

    #[test]
    fn timeout_from_env_accepts_positive_seconds_only() {
        let cases: [(Option<&str>, Duration); 6] = [
            (None, DEFAULT_TIMEOUT),
            (Some("2"), Duration::from_secs(2)),
            (Some("0.5"), Duration::from_millis(500)),
            (Some("0"), DEFAULT_TIMEOUT),
            (Some("-3"), DEFAULT_TIMEOUT),
            (Some("soon"), DEFAULT_TIMEOUT),
        ];
        for (env, want) in cases {
            assert_eq!(timeout_from_env(env.map(OsString::from)), want, "{env:?}");
        }
    }

    #[test]
    fn unreachable_socket_names_the_path() {
        let dir = std::env::temp_dir().join("sctl-client-test-does-not-exist");
        let client = Client::new(dir.join(SOCKET_NAME), Duration::from_secs(1));
        let err = client.call(Call::Ping).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "Failed to connect to the manager at {}/control: ",
                dir.display()
            )),
            "{text}"
        );
    }
}
