//! Loading a unit: find its files along the search path, parse the fragment and drop-ins,
//! apply them to the typed model, add the `.wants/`-style dependencies and run the checks
//! systemd makes before it accepts a unit. The load states are systemd's.

use crate::diag::Diagnostic;
use crate::lookup::Lookup;
use crate::model::{self, UnitConfig, UnitDep};
use crate::name::{UnitName, UnitType};
use crate::specifier::{HostFacts, SpecifierContext};
use crate::syntax::{self, Assignment};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadState {
    Loaded,
    NotFound,
    /// A setting makes the unit unusable (e.g. a service without a command).
    BadSetting,
    /// A file could not be read or is invalid as a whole.
    Error,
    Masked,
}

impl fmt::Display for LoadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LoadState::Loaded => "loaded",
            LoadState::NotFound => "not-found",
            LoadState::BadSetting => "bad-setting",
            LoadState::Error => "error",
            LoadState::Masked => "masked",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadedUnit {
    pub id: UnitName,
    /// The id first, then the aliases.
    pub names: Vec<String>,
    pub fragment: Option<PathBuf>,
    pub dropins: Vec<PathBuf>,
    pub load_state: LoadState,
    pub config: UnitConfig,
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadedUnit {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Whether a unit of this type needs a unit file; the others can exist from drop-ins or
/// from nothing (e.g. `system.slice`, or a mount that appears in the mount table).
fn fragment_optional(t: UnitType) -> bool {
    matches!(
        t,
        UnitType::Device | UnitType::Mount | UnitType::Swap | UnitType::Slice | UnitType::Scope
    )
}

/// The instance a template is checked with: a template itself is never a unit, and its
/// `%i` must expand to something. (`systemd-analyze verify` of systemd 252 uses `i`; later
/// versions use `test_instance`, which reads better in messages.)
pub const VERIFY_INSTANCE: &str = "test_instance";

/// The name to check a unit by: templates get [`VERIFY_INSTANCE`].
pub fn name_for_verify(name: &UnitName) -> UnitName {
    if name.is_template() {
        name.with_instance(VERIFY_INSTANCE)
            .unwrap_or_else(|_| name.clone())
    } else {
        name.clone()
    }
}

/// Loads a unit by name from the search path.
pub fn load(lookup: &Lookup, name: &UnitName, host: &HostFacts) -> LoadedUnit {
    let resolved = lookup.resolve(name);
    build(
        lookup,
        resolved.id,
        resolved.names,
        resolved.fragment,
        resolved.masked,
        host,
    )
}

/// Loads a unit from a file given by path (`sctl verify ./foo.service`): the file is the
/// fragment; drop-ins and `.wants/` directories still come from the search path. A
/// template file is checked as an instance ([`name_for_verify`]). A file whose name is not
/// a unit name cannot be loaded at all.
pub fn load_file(lookup: &Lookup, path: &Path, host: &HostFacts) -> Result<LoadedUnit, Diagnostic> {
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let id = UnitName::parse(file_name)
        .map(|n| name_for_verify(&n))
        .map_err(|e| Diagnostic::error(path, 0, format!("invalid unit file name: {e}")))?;
    let masked = fs::metadata(path).is_ok_and(|m| m.len() == 0)
        || fs::read_link(path).is_ok_and(|t| t == Path::new("/dev/null"));
    Ok(build(
        lookup,
        id.clone(),
        vec![id.to_string()],
        Some(path.to_path_buf()),
        masked,
        host,
    ))
}

fn build(
    lookup: &Lookup,
    id: UnitName,
    names: Vec<String>,
    fragment: Option<PathBuf>,
    masked: bool,
    host: &HostFacts,
) -> LoadedUnit {
    let t = id.unit_type();
    let mut unit = LoadedUnit {
        id,
        names,
        fragment,
        dropins: Vec::new(),
        load_state: LoadState::Loaded,
        config: UnitConfig::new(t),
        diagnostics: Vec::new(),
    };
    if masked {
        unit.load_state = LoadState::Masked;
        return unit;
    }
    if unit.id.instance().is_some() && !t.may_template() {
        // systemd.unit(5): only services, sockets, targets, timers and paths have templates.
        let file = unit.fragment.clone().unwrap_or_default();
        unit.diagnostics.push(Diagnostic::error(
            &file,
            0,
            format!("{} units cannot be templates or instances", t),
        ));
        unit.load_state = LoadState::Error;
        return unit;
    }
    unit.dropins = lookup.dropins(&unit.names);
    if unit.fragment.is_none() && !fragment_optional(t) {
        unit.load_state = LoadState::NotFound;
        return unit;
    }

    let sections = model::sections(t);
    let mut assignments: Vec<Assignment> = Vec::new();
    let files: Vec<PathBuf> = unit
        .fragment
        .iter()
        .chain(unit.dropins.iter())
        .cloned()
        .collect();
    for file in &files {
        match fs::read(file) {
            Ok(bytes) => {
                let parsed = syntax::parse(&bytes, file, &sections);
                unit.diagnostics.extend(parsed.diagnostics);
                if parsed.invalid {
                    unit.load_state = LoadState::Error;
                }
                assignments.extend(parsed.assignments);
            }
            Err(e) => {
                unit.diagnostics
                    .push(Diagnostic::error(file, 0, format!("cannot read: {e}")));
                unit.load_state = LoadState::Error;
            }
        }
    }
    if unit.load_state == LoadState::Error {
        return unit;
    }

    let spec = SpecifierContext {
        unit: &unit.id,
        fragment_path: unit.fragment.as_deref(),
        host,
    };
    let (diags, fatal) = unit.config.apply(&assignments, &spec);
    unit.diagnostics.extend(diags);
    if fatal {
        unit.load_state = LoadState::BadSetting;
    }

    for (suffix, kind) in [
        (".wants", UnitDep::Wants),
        (".requires", UnitDep::Requires),
        (".upholds", UnitDep::Upholds),
    ] {
        for (dep, _) in lookup.dependency_dir_entries(&unit.names, suffix) {
            unit.config.unit.deps.add(kind, &dep);
        }
    }
    unit.config.unit.deps.shrink_to_fit();

    // A template is a pattern, not a unit: its settings are checked, not its completeness,
    // since instances may get the missing parts from instance drop-ins.
    if unit.load_state == LoadState::Loaded && unit.fragment.is_some() && !unit.id.is_template() {
        if let Some(problem) = unit.config.verify(&unit.id) {
            let file = unit.fragment.clone().unwrap_or_default();
            unit.diagnostics.push(Diagnostic::error(
                &file,
                0,
                format!("{problem}; the unit cannot be used"),
            ));
            unit.load_state = LoadState::BadSetting;
        }
    }
    unit
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        crate::testutil::write_tree(d.path(), files);
        d
    }

    fn load_in(d: &tempfile::TempDir, name: &str) -> LoadedUnit {
        let lookup = Lookup::new(vec![d.path().to_path_buf()]);
        load(
            &lookup,
            &UnitName::parse(name).unwrap(),
            &HostFacts::default(),
        )
    }

    const GOOD: &str = "[Service]\nExecStart=/bin/true\n";

    #[test]
    fn load_states() {
        let d = dir(&[
            ("ok.service", GOOD),
            ("broken.service", "[Service\nExecStart=/bin/true\n"),
            ("empty.service", "[Unit]\nDescription=nothing to run\n"),
            ("relative.service", "[Service]\nExecStart=bin/true\n"),
            ("x@.mount", "[Mount]\nWhat=/dev/sda1\n"),
            ("drop-only.slice.d/10.conf", "[Slice]\nMemoryMax=1G\n"),
        ]);
        symlink("/dev/null", d.path().join("masked.service")).unwrap();
        for (name, want) in [
            ("ok.service", LoadState::Loaded),
            ("missing.service", LoadState::NotFound),
            ("masked.service", LoadState::Masked),
            ("broken.service", LoadState::Error),
            ("empty.service", LoadState::BadSetting),
            ("relative.service", LoadState::BadSetting),
            ("x@y.mount", LoadState::Error),
            // Slices need no unit file: drop-ins alone configure them.
            ("drop-only.slice", LoadState::Loaded),
            ("system.slice", LoadState::Loaded),
        ] {
            assert_eq!(load_in(&d, name).load_state, want, "{name}");
        }
    }

    #[test]
    fn dependency_directories_add_to_the_unit_section() {
        let d = dir(&[
            ("t.target", "[Unit]\nWants=a.service\n"),
            ("a.service", GOOD),
            ("b.service", GOOD),
            ("c.service", GOOD),
        ]);
        fs::create_dir_all(d.path().join("t.target.wants")).unwrap();
        fs::create_dir_all(d.path().join("t.target.requires")).unwrap();
        symlink("../a.service", d.path().join("t.target.wants/a.service")).unwrap();
        symlink("../b.service", d.path().join("t.target.wants/b.service")).unwrap();
        symlink("../c.service", d.path().join("t.target.requires/c.service")).unwrap();
        let u = load_in(&d, "t.target");
        assert_eq!(
            u.config.unit.deps.list(UnitDep::Wants),
            vec!["a.service", "b.service"]
        );
        assert_eq!(
            u.config.unit.deps.list(UnitDep::Requires),
            vec!["c.service"]
        );
    }

    #[test]
    fn verify_names_instantiate_templates() {
        let t = UnitName::parse("getty@.service").unwrap();
        assert_eq!(
            name_for_verify(&t).to_string(),
            "getty@test_instance.service"
        );
        let plain = UnitName::parse("a.service").unwrap();
        assert_eq!(name_for_verify(&plain), plain);
    }
}
