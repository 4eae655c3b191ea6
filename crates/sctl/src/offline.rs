//! The commands that work on unit files directly, without a manager.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use unitfile::load::{self, LoadState, LoadedUnit};
use unitfile::lookup::Lookup;
use unitfile::model::Kind;
use unitfile::name::UnitName;
use unitfile::specifier::HostFacts;
use unitfile::Diagnostic;

pub fn lookup(unit_path: &[PathBuf]) -> Lookup {
    if unit_path.is_empty() {
        Lookup::system()
    } else {
        Lookup::new(unit_path.to_vec())
    }
}

/// Loads one argument: a path when it contains a `/`, else a unit name. Templates are
/// loaded as an instance when `instantiate` is set, as `systemd-analyze verify` does.
fn load_arg(
    lookup: &Lookup,
    arg: &str,
    host: &HostFacts,
    instantiate: bool,
) -> Result<LoadedUnit, Diagnostic> {
    if arg.contains('/') {
        return load::load_file(lookup, Path::new(arg), host);
    }
    let name = UnitName::parse(arg)
        .map_err(|e| Diagnostic::error(Path::new(""), 0, format!("{arg}: {e}")))?;
    let name = if instantiate {
        load::name_for_verify(&name)
    } else {
        name
    };
    Ok(load::load(lookup, &name, host))
}

/// `sctl verify`: prints every diagnostic; true when there was no error.
pub fn verify(lookup: &Lookup, args: &[String], out: &mut impl Write) -> io::Result<bool> {
    let host = HostFacts::from_system();
    let mut clean = true;
    for w in lookup.warnings() {
        writeln!(out, "{}: warning: {}", w.path.display(), w.message)?;
    }
    for arg in args {
        let unit = match load_arg(lookup, arg, &host, true) {
            Ok(u) => u,
            Err(d) => {
                writeln!(out, "{d}")?;
                clean = false;
                continue;
            }
        };
        let mut diags = unit.diagnostics.clone();
        match unit.load_state {
            LoadState::NotFound => diags.push(Diagnostic::error(
                Path::new(""),
                0,
                format!("unit {} not found in {}", unit.id, describe_path(lookup)),
            )),
            LoadState::Masked => diags.push(Diagnostic::warning(
                unit.fragment.as_deref().unwrap_or(Path::new("")),
                0,
                format!("unit {} is masked", unit.id),
            )),
            _ => {}
        }
        if unit.load_state == LoadState::Loaded {
            diags.extend(check_commands(&unit));
        }
        for d in &diags {
            writeln!(out, "{d}")?;
        }
        clean &= !diags.iter().any(Diagnostic::is_error);
    }
    Ok(clean)
}

fn describe_path(lookup: &Lookup) -> String {
    let dirs: Vec<String> = lookup
        .dirs()
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    dirs.join(":")
}

/// Warns about commands that do not exist or are not executable here. A warning, not an
/// error: units are often verified on another machine than the one that runs them.
fn check_commands(unit: &LoadedUnit) -> Vec<Diagnostic> {
    let file = unit.fragment.clone().unwrap_or_default();
    let commands: Vec<&unitfile::exec::ExecCommand> = match &unit.config.kind {
        Kind::Service(s) => [
            &s.rare.exec_condition,
            &s.rare.exec_start_pre,
            &s.exec_start,
            &s.rare.exec_start_post,
            &s.rare.exec_reload,
            &s.rare.exec_stop,
            &s.rare.exec_stop_post,
        ]
        .into_iter()
        .flatten()
        .collect(),
        Kind::Socket(s) => [
            &s.exec_start_pre,
            &s.exec_start_post,
            &s.exec_stop_pre,
            &s.exec_stop_post,
        ]
        .into_iter()
        .flatten()
        .collect(),
        _ => Vec::new(),
    };
    commands
        .into_iter()
        .filter(|c| c.path.starts_with('/'))
        .filter_map(|c| {
            let problem = match fs::metadata(&*c.path) {
                Err(e) => e.to_string(),
                Ok(m) if !m.is_file() || m.permissions().mode() & 0o111 == 0 => {
                    "not an executable file".to_string()
                }
                Ok(_) => return None,
            };
            Some(Diagnostic::warning(
                &file,
                0,
                format!("command {}: {problem}", c.path),
            ))
        })
        .collect()
}

/// `sctl cat`: the fragment and drop-ins, each after a `# path` line, as `systemctl cat`.
pub fn cat(lookup: &Lookup, args: &[String], out: &mut impl Write) -> io::Result<bool> {
    let host = HostFacts::default();
    let mut found_all = true;
    let mut first = true;
    for arg in args {
        let unit = match load_arg(lookup, arg, &host, false) {
            Ok(u) => u,
            Err(d) => {
                eprintln!("{d}");
                found_all = false;
                continue;
            }
        };
        if unit.load_state == LoadState::Masked {
            eprintln!("Unit {} is masked.", unit.id);
            continue;
        }
        if unit.fragment.is_none() && unit.dropins.is_empty() {
            eprintln!("No files found for {}.", unit.id);
            found_all = false;
            continue;
        }
        for path in unit.fragment.iter().chain(unit.dropins.iter()) {
            if !first {
                writeln!(out)?;
            }
            first = false;
            writeln!(out, "# {}", path.display())?;
            let text = fs::read(path)?;
            out.write_all(&text)?;
            if !text.ends_with(b"\n") && !text.is_empty() {
                writeln!(out)?;
            }
        }
    }
    Ok(found_all)
}
