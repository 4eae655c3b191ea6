//! `devctl hwdb` (udevadm 252's deprecated `hwdb` verb): `--update` compiles the `hwdb.d`
//! sources (`/etc/udev/hwdb.d`, `/usr/lib/udev/hwdb.d`, `/lib/udev/hwdb.d`, one file per
//! name, below `--root`) into `/etc/udev/hwdb.bin` (`--usr`: `/usr/lib/udev/hwdb.bin`),
//! written to a temporary file and renamed into place; with no sources the compiled file is
//! removed. `--strict` fails on any source problem. `--test=MODALIAS` looks the modalias up
//! in the compiled database udevd would use and prints `KEY=VALUE` lines.
//!
//! Difference: udevadm writes the older value-entry format without file names and line
//! numbers; we write systemd-hwdb's (which every sd-hwdb reader takes).

use std::path::{Path, PathBuf};

use super::getopt::{long, Arg, Item, Long};
use super::util::strerror;
use super::{Env, Io};
use crate::builtins::hwdb::{compile, source_files, Hwdb, BIN_PATHS, SOURCE_DIRS};
use crate::builtins::real::RealSystem;
use crate::builtins::System;

const ARG_USR: u32 = 0x100;

const LONGS: [Long; 7] = [
    long("update", Arg::No, 'u' as u32),
    long("usr", Arg::No, ARG_USR),
    long("strict", Arg::No, 's' as u32),
    long("test", Arg::Required, 't' as u32),
    long("root", Arg::Required, 'r' as u32),
    long("version", Arg::No, 'V' as u32),
    long("help", Arg::No, 'h' as u32),
];

const HELP: &str = "devctl hwdb [OPTIONS]

  -h --help            Print this message
  -V --version         Print version of the program
  -u --update          Update the hardware database
  -s --strict          When updating, return non-zero exit value on any parsing error
     --usr             Generate in /usr/lib/udev instead of /etc/udev
  -t --test=MODALIAS   Query database and print result
  -r --root=PATH       Alternative root path in the filesystem

NOTE:
The sub-command 'hwdb' is deprecated, and is left for backwards compatibility.
Please use systemd-hwdb instead.
";

fn errno(e: &std::io::Error) -> String {
    strerror(e.raw_os_error().unwrap_or(5))
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("bin.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// `--update`: 0 on success.
pub fn update(root: &Path, usr: bool, strict: bool, io: &mut Io) -> i32 {
    let bin: PathBuf = root.join(if usr {
        "usr/lib/udev/hwdb.bin"
    } else {
        "etc/udev/hwdb.bin"
    });
    let system = RealSystem::new(root);
    let files: Vec<(String, Vec<u8>)> = source_files(&system, &SOURCE_DIRS)
        .into_iter()
        .filter_map(|p| system.read(&p).map(|b| (p, b)))
        .collect();
    if files.is_empty() {
        match std::fs::remove_file(&bin) {
            Ok(()) => io.log(format!(
                "No hwdb files found, compiled hwdb database {} removed.",
                bin.display()
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                io.log("No hwdb files found, skipping.")
            }
            Err(e) => {
                return io.fail(format!(
                    "Failed to remove compiled hwdb database {}: {}",
                    bin.display(),
                    errno(&e)
                ))
            }
        }
        return 0;
    }
    let (bytes, diagnostics) = compile(&files);
    for d in &diagnostics {
        io.log(d);
    }
    if let Err(e) = write_atomic(&bin, &bytes) {
        return io.fail(format!(
            "Failed to write database {}: {}",
            bin.display(),
            errno(&e)
        ));
    }
    i32::from(strict && !diagnostics.is_empty())
}

/// `--test`: the properties of `modalias` in the first compiled database found below
/// `root`, as `KEY=VALUE` lines; `None` when there is no usable database.
pub fn query(root: &Path, modalias: &str) -> Option<String> {
    let system = RealSystem::new(root);
    let bytes = BIN_PATHS.iter().find_map(|p| system.read(p))?;
    let db = Hwdb::from_bytes(bytes).ok()?;
    Some(
        db.lookup(modalias)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect(),
    )
}

/// Entry point of `devctl hwdb`.
pub fn main(env: &Env, args: &[String], io: &mut Io) -> i32 {
    let p = super::getopt::parse("hwdb", args, "ust:r:Vh", &LONGS, false);
    let (mut upd, mut usr, mut strict) = (false, false, false);
    let (mut test, mut root) = (None::<String>, None::<String>);
    for item in p.items {
        let (c, a) = match item {
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
            Item::Error(e) => return io.fail(e),
        };
        match c {
            ARG_USR => usr = true,
            c => match char::from_u32(c).unwrap_or('?') {
                'u' => upd = true,
                's' => strict = true,
                't' => test = Some(a),
                'r' => root = Some(a),
                'V' => {
                    let _ = writeln!(io.out, "{}", super::VERSION);
                    return 0;
                }
                _ => {
                    let _ = io.out.write_all(HELP.as_bytes());
                    return 0;
                }
            },
        }
    }
    if !upd && test.is_none() {
        return io.fail("Either --update or --test must be used.");
    }
    if upd {
        let r = root
            .as_ref()
            .map(PathBuf::from)
            .unwrap_or_else(|| env.root.clone());
        let code = update(&r, usr, strict, io);
        if code != 0 {
            return code;
        }
    }
    if let Some(m) = test {
        // As udevadm, the query ignores --root: it reads the database udevd would use.
        return match query(&env.root, &m) {
            Some(text) => {
                let _ = io.out.write_all(text.as_bytes());
                0
            }
            None => 1,
        };
    }
    0
}
