//! `devctl`, devmaster's `udevadm`: the same verbs, options, output and exit codes as
//! systemd 252's `udevadm` (Debian 12), so scripts, rules and people can use either.
//!
//! | verb | module | what it does |
//! |---|---|---|
//! | `info` | [`info`] | the `P: N: L: S: E:` record, queries, `--attribute-walk`, `--export-db`, `--cleanup-db`, `--tree` |
//! | `trigger` | [`trigger`] | enumerate as sd-device does ([`enumerate`]), write actions to `uevent`, `--settle` on the udev group |
//! | `settle`, `control` | [`control`] | udevd's control socket ([`ctrl`]) and `/run/udev/queue` |
//! | `monitor` | [`monitor`] | kernel and udev netlink groups, udevadm's line format |
//! | `test`, `test-builtin` | [`test`] | a dry run of the rules or of one builtin |
//! | `verify` | [`verify`] | rules syntax check (`udevadm verify` of systemd 254) |
//! | `wait` | [`wait`] | wait for devices to be initialized, added or removed |
//! | `hwdb` | [`hwdb`] | compile `hwdb.d`, query a modalias |
//!
//! Options are parsed as glibc's `getopt_long` parses udevadm's ([`getopt`]); every error
//! is udevadm's message on standard error and exit status 1. Devices are read as sd-device
//! reads them ([`sdev`]), from a sysfs tree, a `/dev` and a udev runtime directory that an
//! [`Env`] names (the real ones by default), so tests run against fake trees. Left out:
//! `lock`, the pager, D-Bus lookups of `.device` unit names (udevadm's fallback without
//! systemd is used: the unit name read as a path).

use std::io::Write;
use std::path::PathBuf;

pub mod control;
pub mod ctrl;
pub mod enumerate;
pub mod getopt;
pub mod hwdb;
pub mod info;
pub mod monitor;
pub mod sdev;
pub mod test;
pub mod trigger;
pub mod util;
pub mod verify;
pub mod wait;

/// An errno value.
pub type Errno = i32;

/// The version `--version` prints: the udevadm we stand in for (tools such as dracut parse
/// it as one integer).
pub const VERSION: &str = "252";

/// Where `devctl` finds the system: the real one is [`Env::system`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    /// sysfs (`/sys`).
    pub sys: PathBuf,
    /// Device nodes (`/dev`).
    pub dev: PathBuf,
    /// udev's runtime directory (`/run/udev`): `data/`, `tags/`, `queue`, `control`.
    pub run: PathBuf,
    /// The root for configuration (rules, hwdb, `.link` files): `/`.
    pub root: PathBuf,
    /// Colours in output.
    pub colors: bool,
    /// Unicode tree glyphs.
    pub utf8: bool,
}

impl Env {
    /// The running system.
    pub fn system() -> Env {
        Env {
            sys: PathBuf::from("/sys"),
            dev: PathBuf::from("/dev"),
            run: PathBuf::from("/run/udev"),
            root: PathBuf::from("/"),
            colors: util::colors_enabled(),
            utf8: util::locale_utf8(),
        }
    }

    /// udevd's control socket.
    pub fn control(&self) -> PathBuf {
        self.run.join("control")
    }
}

/// Standard output and error.
pub struct Io<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
}

impl Io<'_> {
    /// Writes a log line to standard error and returns udevadm's failure status (1).
    pub fn fail(&mut self, msg: impl std::fmt::Display) -> i32 {
        let _ = writeln!(self.err, "{msg}");
        1
    }

    /// Writes a log line to standard error.
    pub fn log(&mut self, msg: impl std::fmt::Display) {
        let _ = writeln!(self.err, "{msg}");
    }
}

fn help(io: &mut Io) -> i32 {
    let verbs = [
        ("info", "Query sysfs or the udev database"),
        ("trigger", "Request events from the kernel"),
        ("settle", "Wait for pending udev events"),
        ("control", "Control the udev daemon"),
        ("monitor", "Listen to kernel and udev events"),
        ("test", "Test an event run"),
        ("test-builtin", "Test a built-in command"),
        ("verify", "Verify udev rules files"),
        ("wait", "Wait for device or device symlink"),
        ("hwdb", "Compile or query the hardware database"),
    ];
    let mut s = String::from(
        "devctl [--help] [--version] [--debug] COMMAND [COMMAND OPTIONS]\n\n\
         Send control commands or test the device manager.\n\nCommands:\n",
    );
    for (v, d) in verbs {
        s.push_str(&format!("  {v:<12}  {d}\n"));
    }
    s.push_str("\nSee the udevadm(8) man page for details.\n");
    let _ = io.out.write_all(s.as_bytes());
    0
}

/// Runs `devctl` with `args` (without the program name) against `env`.
pub fn run(env: &Env, args: &[String], io: &mut Io) -> i32 {
    use getopt::{long, Arg, Item};
    const LONGS: [getopt::Long; 3] = [
        long("debug", Arg::No, 'd' as u32),
        long("help", Arg::No, 'h' as u32),
        long("version", Arg::No, 'V' as u32),
    ];
    let p = getopt::parse("devctl", args, "dhV", &LONGS, true);
    for item in p.items {
        match item {
            Item::Opt(c, _) if c == 'h' as u32 => return help(io),
            Item::Opt(c, _) if c == 'V' as u32 => {
                let _ = writeln!(io.out, "{VERSION}");
                return 0;
            }
            Item::Opt(_, _) => {}
            Item::Error(e) => return io.fail(e),
        }
    }
    let Some((verb, rest)) = p.args.split_first() else {
        return io.fail("Command verb required.");
    };
    match verb.as_str() {
        "info" => info::main(env, rest, io),
        "trigger" => trigger::main(env, rest, io),
        "settle" => control::settle_main(env, rest, io),
        "control" => control::main(env, rest, io),
        "monitor" => monitor::main(env, rest, io),
        "hwdb" => hwdb::main(env, rest, io),
        "test" => test::main(env, rest, io),
        "test-builtin" => test::builtin_main(env, rest, io),
        "verify" => verify::main(env, rest, io),
        "wait" => wait::main(env, rest, io),
        "version" => {
            let _ = writeln!(io.out, "{VERSION}");
            0
        }
        "help" => help(io),
        "lock" => io.fail("devctl lock is not supported."),
        other => io.fail(format!("Unknown command verb {other}.")),
    }
}

/// The binary's entry point: the real system, standard output and error.
pub fn main(args: &[String]) -> i32 {
    let env = Env::system();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let code = run(
        &env,
        args,
        &mut Io {
            out: &mut out,
            err: &mut err,
        },
    );
    let _ = out.flush();
    code
}
