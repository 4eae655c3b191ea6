//! `devctl verify`: a syntax check of udev rules files, shaped like `udevadm verify` (new
//! in systemd 254; Debian 12's 252 has none). Without arguments it checks the rules udev
//! would load (every `*.rules` name of the rules directories, the first directory holding a
//! name winning, `--root` put in front of them); with arguments, those files, and the
//! `*.rules` files of those directories. Each problem is printed as `FILE:LINE: LEVEL:
//! MESSAGE` from devmaster's parser ([`crate::rules::syntax`]); a file with an error or a
//! warning gets `FILE: udev rules check failed.`; an empty file (or a mask) passes. Then
//! udevadm's summary, unless `--no-summary`; exit status 1 when a file failed. udevadm's
//! style notices (`--no-style`) have no counterpart in our parser: the option is accepted.

use std::path::{Path, PathBuf};

use super::getopt::{long, Arg, Item, Long};
use super::util::strerror;
use super::{Env, Io};
use crate::rules::load::{order, RULES_DIRS};
use crate::rules::syntax;

const ARG_ROOT: u32 = 0x100;
const ARG_NO_SUMMARY: u32 = 0x101;
const ARG_NO_STYLE: u32 = 0x102;

const LONGS: [Long; 6] = [
    long("help", Arg::No, 'h' as u32),
    long("version", Arg::No, 'V' as u32),
    long("resolve-names", Arg::Required, 'N' as u32),
    long("root", Arg::Required, ARG_ROOT),
    long("no-summary", Arg::No, ARG_NO_SUMMARY),
    long("no-style", Arg::No, ARG_NO_STYLE),
];

const HELP: &str = "devctl verify [OPTIONS] [FILE...]

Verify udev rules files.

  -h --help                            Show this help
  -V --version                         Show package version
  -N --resolve-names=early|never       When to resolve names
     --root=PATH                       Operate on an alternate filesystem root
     --no-summary                      Do not show summary
     --no-style                        Ignore style issues
";

fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The `*.rules` files of `dirs` as udev orders them.
fn rules_files(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let listing: Vec<Vec<String>> = dirs.iter().map(|d| names_in(d)).collect();
    order(&listing)
        .into_iter()
        .filter_map(|(i, name)| dirs.get(i).map(|d| d.join(name)))
        .collect()
}

/// Checks one file; `true` when it passes.
fn verify_file(path: &Path, io: &mut Io) -> bool {
    let shown = path.to_string_lossy().into_owned();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            io.log(format!(
                "Failed to parse rules file {shown}: {}",
                strerror(e.raw_os_error().unwrap_or(5))
            ));
            return false;
        }
    };
    let parsed = syntax::parse(&shown, &bytes);
    for d in &parsed.diagnostics {
        io.log(d);
    }
    if parsed.diagnostics.is_empty() {
        return true;
    }
    io.log(format!("{shown}: udev rules check failed."));
    false
}

/// Entry point of `devctl verify`.
pub fn main(env: &Env, args: &[String], io: &mut Io) -> i32 {
    let p = super::getopt::parse("verify", args, "hVN:", &LONGS, false);
    let (mut root, mut summary) = (None::<String>, true);
    for item in p.items {
        let (c, a) = match item {
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
            Item::Error(e) => return io.fail(e),
        };
        match c {
            ARG_ROOT => root = Some(a),
            ARG_NO_SUMMARY => summary = false,
            ARG_NO_STYLE => {}
            c if c == 'N' as u32 => {
                if !matches!(a.as_str(), "early" | "late" | "never") {
                    return io.fail("--resolve-names= takes \"early\" or \"never\"");
                }
            }
            c if c == 'V' as u32 => {
                let _ = writeln!(io.out, "{}", super::VERSION);
                return 0;
            }
            _ => {
                let _ = io.out.write_all(HELP.as_bytes());
                return 0;
            }
        }
    }
    if root.is_some() && !p.args.is_empty() {
        return io.fail("Combination of --root= and FILEs is not supported.");
    }
    let files: Vec<PathBuf> = if p.args.is_empty() {
        let base = root
            .as_ref()
            .map(PathBuf::from)
            .unwrap_or_else(|| env.root.clone());
        let dirs: Vec<PathBuf> = RULES_DIRS
            .iter()
            .map(|d| base.join(d.trim_start_matches('/')))
            .collect();
        let files = rules_files(&dirs);
        if let Some(r) = &root {
            if files.is_empty() {
                return io.fail(format!("No rules files found in {r}."));
            }
        }
        files
    } else {
        let mut v = Vec::new();
        for a in &p.args {
            let path = PathBuf::from(a);
            if path.is_dir() {
                v.extend(rules_files(std::slice::from_ref(&path)));
            } else {
                v.push(path);
            }
        }
        v
    };
    let mut fails = 0usize;
    for f in &files {
        if !verify_file(f, io) {
            fails += 1;
        }
    }
    if summary {
        let (hi, red, normal) = if env.colors {
            ("\x1B[0;1;39m", "\x1B[0;1;31m", "\x1B[0m")
        } else {
            ("", "", "")
        };
        let (fr, fn_) = if fails > 0 { (red, normal) } else { ("", "") };
        let _ = write!(
            io.out,
            "\n{hi}{} udev rules files have been checked.{normal}\n  Success: {}\n{fr}  Fail:    {fails}{fn_}\n",
            files.len(),
            files.len() - fails
        );
    }
    i32::from(fails > 0)
}
