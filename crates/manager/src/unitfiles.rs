//! Unit-file installation state and changes, as `systemctl` does them over the unit search
//! path: `is-enabled`/`list-unit-files` states, `enable`, `disable`, `mask`, `unmask`,
//! `set-default` and `get-default` (systemctl(1), systemd.unit(5) "[Install] Section
//! Options"). The module only looks at and changes symlinks in directories; it knows nothing
//! of loaded units, so the manager reloads its view after a change, as `systemctl` asks for a
//! `daemon-reload` after one.
//!
//! Changes are written to one *configuration directory* ([`Paths::config`]): systemd's
//! `/etc/systemd/system` on the default search path, or the first `--unit-path` directory
//! when the manager runs with its own search path (so that tests run isolated). A change is
//! planned completely before anything is written: a refused `enable` or `mask` leaves the
//! directory as it was.
//!
//! The state of a name (systemctl(1), `is-enabled`), decided in this order:
//! - `masked` (`masked-runtime` below `/run/`): the highest-priority entry is a symlink to
//!   `/dev/null` or an empty file;
//! - `alias`: the name is a symlink to a unit file of another name;
//! - `enabled` (`enabled-runtime`): a `.wants/`, `.requires/` or `.upholds/` directory of a
//!   persistent (runtime) configuration directory links the name, or an `Alias=` name links
//!   to it there; for a template, the `DefaultInstance=` instance counts as its name;
//!   `static` when only a vendor directory enables an instance;
//! - `linked` (`linked-runtime`): a same-name symlink in a configuration directory is all;
//! - `indirect`: another name links to it from a configuration directory (an instance other
//!   than `DefaultInstance=`, an alias that `Alias=` does not list), or its `[Install]` has
//!   only `Also=`;
//! - `disabled`: `[Install]` has `WantedBy=`, `RequiredBy=`, `UpheldBy=` or `Alias=`;
//! - `static`: no `[Install]` rules at all;
//! - `bad`: the file cannot be read or the name leads nowhere (dangling alias, alias loop).
//!
//! Left out: `generated` and `transient` (the manager has neither generators nor transient
//! units yet), presets, `link`, `--runtime` changes and `--force`.

use std::collections::{BTreeSet, VecDeque};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use unitfile::lookup::SYSTEM_UNIT_PATH;
use unitfile::name::{UnitName, UnitType};
use unitfile::specifier::{self, HostFacts, SpecifierContext};

/// Where `enable` & co. write on the default search path, as systemctl does.
pub const DEFAULT_CONFIG_DIR: &str = "/etc/systemd/system";
/// The other persistent configuration directory of the default search path.
const SYSMASTER_CONFIG_DIR: &str = "/etc/sysmaster/system";
/// Alias chains longer than this are loops.
const MAX_HOPS: usize = 16;
/// `disable` walks the configuration directory again after removing a symlink that others
/// may point at; this bounds the walks.
const MAX_REMOVAL_PASSES: usize = 64;

/// The search path and the directories changes go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Highest priority first.
    pub search: Vec<PathBuf>,
    /// Where symlinks are created and removed.
    pub config: PathBuf,
    /// Directories whose symlinks make a unit `enabled` rather than merely wanted by the
    /// vendor: the configuration directory, plus `/etc/sysmaster/system` on the default path.
    persistent: Vec<PathBuf>,
    /// Directories whose symlinks and masks last until reboot (`enabled-runtime`,
    /// `masked-runtime`): those below `/run`.
    runtime: Vec<PathBuf>,
}

impl Paths {
    /// The paths of a manager with this search path: on the default path the configuration
    /// directory is `/etc/systemd/system` (where systemctl writes), otherwise (`--unit-path`)
    /// it is the first directory of the path.
    pub fn for_search_path(search: &[PathBuf]) -> Paths {
        let default = search.len() == SYSTEM_UNIT_PATH.len()
            && search
                .iter()
                .zip(SYSTEM_UNIT_PATH)
                .all(|(a, b)| a == Path::new(b));
        let (config, persistent) = match search.first() {
            Some(first) if !default => (first.clone(), vec![first.clone()]),
            _ => (
                PathBuf::from(DEFAULT_CONFIG_DIR),
                vec![
                    PathBuf::from(SYSMASTER_CONFIG_DIR),
                    PathBuf::from(DEFAULT_CONFIG_DIR),
                ],
            ),
        };
        let runtime = search
            .iter()
            .filter(|d| d.starts_with("/run") && !persistent.contains(d))
            .cloned()
            .collect();
        Paths {
            search: search.to_vec(),
            config,
            persistent,
            runtime,
        }
    }

    fn is_persistent(&self, dir: &Path) -> bool {
        self.persistent.iter().any(|p| p == dir)
    }

    fn is_runtime(&self, path: &Path) -> bool {
        self.runtime.iter().any(|r| path.starts_with(r))
    }
}

/// systemctl's unit-file states (the ones this module can produce).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    Enabled,
    EnabledRuntime,
    Linked,
    LinkedRuntime,
    Alias,
    Masked,
    MaskedRuntime,
    Static,
    Indirect,
    Disabled,
    Bad,
}

impl FileState {
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Enabled => "enabled",
            FileState::EnabledRuntime => "enabled-runtime",
            FileState::Linked => "linked",
            FileState::LinkedRuntime => "linked-runtime",
            FileState::Alias => "alias",
            FileState::Masked => "masked",
            FileState::MaskedRuntime => "masked-runtime",
            FileState::Static => "static",
            FileState::Indirect => "indirect",
            FileState::Disabled => "disabled",
            FileState::Bad => "bad",
        }
    }
}

/// One change made, as systemctl reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// "Created symlink PATH → TARGET."
    Symlink { path: PathBuf, target: PathBuf },
    /// "Removed \"PATH\"."
    Unlink { path: PathBuf },
    /// "Unit PATH is masked, ignoring." (`disable` of a masked unit)
    Masked { path: PathBuf },
}

impl Change {
    /// The `(kind, path, target)` triple of `proto::Answer::Changes`.
    pub fn to_wire(&self) -> (String, String, String) {
        match self {
            Change::Symlink { path, target } => (
                "created".into(),
                path.display().to_string(),
                target.display().to_string(),
            ),
            Change::Unlink { path } => {
                ("removed".into(), path.display().to_string(), String::new())
            }
            Change::Masked { path } => ("masked".into(), path.display().to_string(), String::new()),
        }
    }
}

/// Why a request was refused; the text is systemd's D-Bus error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallError(pub String);

impl std::fmt::Display for InstallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(message: String) -> Result<T, InstallError> {
    Err(InstallError(message))
}

fn parse_name(name: &str) -> Result<UnitName, InstallError> {
    UnitName::parse(name).map_err(|_| InstallError(format!("\"{name}\" is not a valid unit name.")))
}

/// The `[Install]` lines of a unit file, specifiers expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Install {
    wanted_by: Vec<String>,
    required_by: Vec<String>,
    upheld_by: Vec<String>,
    alias: Vec<String>,
    also: Vec<String>,
    default_instance: Option<String>,
}

impl Install {
    fn has_rules(&self) -> bool {
        !(self.wanted_by.is_empty()
            && self.required_by.is_empty()
            && self.upheld_by.is_empty()
            && self.alias.is_empty())
    }
}

/// A unit file found for a name.
#[derive(Debug, Clone)]
struct Info {
    /// The unit's own name: aliases followed, an instance kept.
    name: UnitName,
    /// The file (or same-name symlink) on the search path that provides it.
    path: PathBuf,
    install: Install,
}

#[derive(Debug, Clone)]
enum Found {
    /// Masked by this symlink or empty file.
    Masked(PathBuf),
    Regular(Info),
}

/// The highest-priority entry (file or symlink, dangling or not) named `name`.
fn entry(paths: &Paths, name: &str) -> Option<PathBuf> {
    paths
        .search
        .iter()
        .map(|d| d.join(name))
        .find(|p| fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink() || m.is_file()))
}

/// A symlink to `/dev/null` (or another path of the null device) or an empty file.
fn null_or_empty(path: &Path) -> bool {
    if fs::read_link(path).is_ok_and(|t| t == Path::new("/dev/null")) {
        return true;
    }
    match fs::metadata(path) {
        Ok(m) => {
            use std::os::unix::fs::FileTypeExt;
            m.file_type().is_char_device() || (m.is_file() && m.len() == 0)
        }
        Err(_) => false,
    }
}

/// Removes `.` and `..` lexically (symlink targets are compared as text, as systemd does
/// after making them absolute).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Where a symlink points, made absolute.
fn link_target(link: &Path) -> Option<PathBuf> {
    let t = fs::read_link(link).ok()?;
    if t.is_absolute() {
        return Some(normalize(&t));
    }
    let parent = link.parent().unwrap_or(Path::new("/"));
    Some(normalize(&parent.join(t)))
}

/// Follows symlinks from `path` to the first path that is not one (which may not exist).
fn chase(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_HOPS * 2 {
        match link_target(&current) {
            Some(next) => current = next,
            None => break,
        }
    }
    current
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads the `[Install]` section of `path` for unit `name`. Specifiers are expanded with the
/// unit-name table; a word whose expansion fails is left out, as systemd leaves out a word
/// it cannot resolve.
fn read_install(path: &Path, name: &UnitName, host: &HostFacts) -> io::Result<Install> {
    let bytes = fs::read(path)?;
    let parsed = unitfile::syntax::parse(&bytes, path, &["Install"]);
    let ctx = SpecifierContext {
        unit: name,
        fragment_path: Some(path),
        host,
    };
    let mut install = Install::default();
    for a in parsed.assignments.iter().filter(|a| a.section == "Install") {
        let slot = match a.key.as_str() {
            "WantedBy" => &mut install.wanted_by,
            "RequiredBy" => &mut install.required_by,
            "UpheldBy" => &mut install.upheld_by,
            "Alias" => &mut install.alias,
            "Also" => &mut install.also,
            "DefaultInstance" => {
                install.default_instance = specifier::expand(&a.value, &ctx)
                    .ok()
                    .filter(|v| !v.is_empty());
                continue;
            }
            _ => continue,
        };
        // An empty assignment resets the list, as for every list setting.
        if a.value.trim().is_empty() {
            slot.clear();
            continue;
        }
        for word in a.value.split_ascii_whitespace() {
            if let Ok(w) = specifier::expand_name(word, &ctx) {
                if !slot.contains(&w) {
                    slot.push(w);
                }
            }
        }
    }
    Ok(install)
}

/// What `name` leads to on the search path: aliases are followed by name (falling back to
/// the symlink's target file when no entry of that name exists), an instance without a file
/// of its own uses its template's.
fn discover(paths: &Paths, name: &str, host: &HostFacts) -> Result<Found, InstallError> {
    let missing = || InstallError(format!("Unit file {name} does not exist."));
    let mut current = parse_name(name)?;
    for _ in 0..MAX_HOPS {
        let text = current.to_string();
        let path = match entry(paths, &text) {
            Some(p) => p,
            None => {
                let template = current
                    .template()
                    .filter(|_| current.is_instance())
                    .ok_or_else(missing)?;
                entry(paths, &template.to_string()).ok_or_else(missing)?
            }
        };
        if null_or_empty(&path) {
            return Ok(Found::Masked(path));
        }
        if let Some(target) = link_target(&path) {
            let base = file_name(&target);
            if base != file_name(&path) {
                let Ok(mut next) = UnitName::parse(&base) else {
                    return err(format!("{name} is an unresolvable alias."));
                };
                if let (Some(i), true) = (current.instance(), next.is_template()) {
                    if !i.is_empty() {
                        next = next
                            .with_instance(i)
                            .map_err(|e| InstallError(e.to_string()))?;
                    }
                }
                let by_name = entry(paths, &next.to_string()).is_some()
                    || next
                        .template()
                        .filter(|_| next.is_instance())
                        .is_some_and(|t| entry(paths, &t.to_string()).is_some());
                if by_name {
                    current = next;
                    continue;
                }
                // The alias points out of the search path: the target file is the unit.
                let file = chase(&path);
                if !fs::metadata(&file).is_ok_and(|m| m.is_file()) {
                    return err(format!("{name} is an unresolvable alias."));
                }
                if null_or_empty(&file) {
                    return Ok(Found::Masked(path));
                }
                let install = read_install(&file, &next, host)
                    .map_err(|e| InstallError(format!("Cannot read {}: {e}", file.display())))?;
                return Ok(Found::Regular(Info {
                    name: next,
                    path: file,
                    install,
                }));
            }
            if fs::metadata(&path).is_err() {
                return err(format!("{name} is an unresolvable alias."));
            }
        }
        let install = read_install(&path, &current, host)
            .map_err(|e| InstallError(format!("Cannot read {}: {e}", path.display())))?;
        return Ok(Found::Regular(Info {
            name: current,
            path,
            install,
        }));
    }
    err(format!("{name} is an unresolvable alias."))
}

/// Whether a symlink named `link` is one of the names `enable` would create for `info`.
fn is_known_name(info: &Info, link: &str) -> bool {
    if link == info.name.to_string() || info.install.alias.iter().any(|a| a == link) {
        return true;
    }
    match (&info.install.default_instance, info.name.is_template()) {
        (Some(i), true) => info
            .name
            .with_instance(i)
            .is_ok_and(|n| n.to_string() == link),
        _ => false,
    }
}

/// Sorted entry names of a directory; a missing or unreadable one is empty.
fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A symlink in a search directory or in one of its `.wants/`, `.requires/` or `.upholds/`
/// directories.
#[derive(Debug, Clone)]
struct LinkEntry {
    /// The directory holding it.
    dir: PathBuf,
    /// It is in a dependency directory (only its name matters there).
    in_dependency_dir: bool,
    name: String,
    /// Where it points, made absolute (`None` when unreadable).
    target: Option<PathBuf>,
}

/// Every symlink of the search path, per search directory: first those of the dependency
/// directories, then those at the top, each group sorted. Scanned once per request, since
/// the state of every file of `list-unit-files` looks at all of them.
#[derive(Debug, Clone)]
struct Links {
    per_dir: Vec<(PathBuf, Vec<LinkEntry>)>,
}

impl Links {
    fn scan(paths: &Paths) -> Links {
        let symlinks = |dir: &Path, in_dependency_dir: bool| -> Vec<LinkEntry> {
            dir_names(dir)
                .into_iter()
                .filter(|n| {
                    fs::symlink_metadata(dir.join(n)).is_ok_and(|m| m.file_type().is_symlink())
                })
                .map(|name| LinkEntry {
                    dir: dir.to_path_buf(),
                    in_dependency_dir,
                    target: link_target(&dir.join(&name)),
                    name,
                })
                .collect()
        };
        let per_dir = paths
            .search
            .iter()
            .map(|dir| {
                let mut entries = Vec::new();
                for sub in dir_names(dir) {
                    let is_dep_dir = [".wants", ".requires", ".upholds"]
                        .iter()
                        .any(|s| sub.ends_with(s));
                    let path = dir.join(&sub);
                    if is_dep_dir && path.is_dir() {
                        entries.extend(symlinks(&path, true));
                    }
                }
                entries.extend(symlinks(dir, false));
                (dir.clone(), entries)
            })
            .collect();
        Links { per_dir }
    }
}

/// Whether `entries` (one search directory's) hold a symlink that refers to `info`
/// (systemd's `find_symlinks`): in a dependency directory by the unit's name, or for a
/// template by an instance; at the top of the directory by pointing at the unit's name.
/// `same_name` is set when a hit is only the unit's own linked file in the configuration
/// directory. With `match_name`, only the names `enable` would create count.
fn links_refer_to(
    paths: &Paths,
    entries: &[LinkEntry],
    info: &Info,
    match_name: bool,
    ignore_same_name: bool,
    same_name: &mut bool,
) -> bool {
    let own = info.name.to_string();
    for e in entries {
        let mut found_dest = false;
        if !e.in_dependency_dir {
            match &e.target {
                Some(t) => found_dest = file_name(t) == own,
                None => continue,
            }
        }
        let found_path = (e.in_dependency_dir || !ignore_same_name) && e.name == own;
        if !found_path && e.in_dependency_dir {
            found_dest = UnitName::parse(&e.name)
                .ok()
                .and_then(|n| n.template())
                .is_some_and(|t| t.to_string() == own);
        }
        if found_path && found_dest && e.dir.join(&e.name) == paths.config.join(&own) {
            *same_name = true;
        } else if (found_path || found_dest) && (!match_name || is_known_name(info, &e.name)) {
            return true;
        }
    }
    false
}

/// systemd's `find_symlinks_in_scope`: the state symlinks on the search path give `info`.
fn state_from_links(
    paths: &Paths,
    links: &Links,
    info: &Info,
    match_name: bool,
) -> Option<FileState> {
    let (mut same_config, mut same_runtime) = (false, false);
    let (mut in_runtime, mut elsewhere) = (false, false);
    let mut ignore_same_name = false;
    for (dir, entries) in &links.per_dir {
        let mut same_name = false;
        if links_refer_to(
            paths,
            entries,
            info,
            match_name,
            ignore_same_name,
            &mut same_name,
        ) {
            if paths.is_persistent(dir) {
                return Some(FileState::Enabled);
            }
            if paths.is_runtime(dir) {
                in_runtime = true;
            } else {
                elsewhere = true;
            }
        } else if same_name {
            if paths.is_persistent(dir) {
                same_config = true;
            } else if paths.is_runtime(dir) {
                same_runtime = true;
            }
        }
        // Same-name links in directories below the unit file's own are shadowed by it.
        if info.path.starts_with(dir) {
            ignore_same_name = true;
        }
    }
    if in_runtime {
        Some(FileState::EnabledRuntime)
    } else if elsewhere && info.name.is_instance() {
        // An instance that a vendor directory pulls in is part of the system as shipped.
        Some(FileState::Static)
    } else if same_config {
        Some(FileState::Linked)
    } else if same_runtime {
        Some(FileState::LinkedRuntime)
    } else {
        None
    }
}

/// The unit-file state of `name` (`is-enabled`).
pub fn state(paths: &Paths, name: &str, host: &HostFacts) -> Result<FileState, InstallError> {
    state_with(paths, &Links::scan(paths), name, host)
}

fn state_with(
    paths: &Paths,
    links: &Links,
    name: &str,
    host: &HostFacts,
) -> Result<FileState, InstallError> {
    let info = match discover(paths, name, host)? {
        Found::Masked(p) if paths.is_runtime(&p) => return Ok(FileState::MaskedRuntime),
        Found::Masked(_) => return Ok(FileState::Masked),
        Found::Regular(info) => info,
    };
    if file_name(&info.path) != name && !info.name.is_instance() {
        return Ok(FileState::Alias);
    }
    if let Some(s) = state_from_links(paths, links, &info, true) {
        return Ok(s);
    }
    if state_from_links(paths, links, &info, false).is_some() {
        return Ok(FileState::Indirect);
    }
    Ok(if info.install.has_rules() {
        FileState::Disabled
    } else if !info.install.also.is_empty() {
        FileState::Indirect
    } else {
        FileState::Static
    })
}

/// Every unit file and symlink at the top of the search directories (the first of each
/// name), with its state, sorted by name (`list-unit-files`). `matches` filters by name.
pub fn list(
    paths: &Paths,
    host: &HostFacts,
    matches: impl Fn(&str) -> bool,
) -> Vec<(String, FileState)> {
    let mut seen = BTreeSet::new();
    for dir in &paths.search {
        for name in dir_names(dir) {
            if seen.contains(&name) || !UnitName::is_valid(&name) || !matches(&name) {
                continue;
            }
            let is_unit_entry = fs::symlink_metadata(dir.join(&name))
                .is_ok_and(|m| m.file_type().is_symlink() || m.is_file());
            if is_unit_entry {
                seen.insert(name);
            }
        }
    }
    let links = Links::scan(paths);
    seen.into_iter()
        .map(|n| {
            let s = state_with(paths, &links, &n, host).unwrap_or(FileState::Bad);
            (n, s)
        })
        .collect()
}

/// A symlink to create.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    path: PathBuf,
    target: PathBuf,
    /// Replace a symlink that points elsewhere (dependency links and `set-default` do;
    /// `Alias=` links and masks refuse, unless the old link is dangling).
    force: bool,
}

/// Whether an existing symlink to `existing` already does what a link to `target` would:
/// the same path, or the same unit name inside the search path.
fn equivalent(paths: &Paths, existing: &Path, target: &Path) -> bool {
    existing == target
        || (file_name(existing) == file_name(target)
            && existing
                .parent()
                .is_some_and(|p| paths.search.iter().any(|d| d == p)))
}

/// Checks every link first, then creates them: nothing is written when one is refused.
fn apply_links(paths: &Paths, plan: Vec<Link>) -> Result<Vec<Change>, InstallError> {
    let mut todo: Vec<(Link, bool)> = Vec::new();
    for link in plan {
        if todo.iter().any(|(l, _)| l.path == link.path) {
            continue;
        }
        match fs::symlink_metadata(&link.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => todo.push((link, false)),
            Err(e) => return err(format!("Cannot access {}: {e}", link.path.display())),
            Ok(m) if m.file_type().is_symlink() => {
                let existing = link_target(&link.path).unwrap_or_default();
                if equivalent(paths, &existing, &link.target) {
                    continue;
                }
                let dangling = fs::metadata(&link.path).is_err();
                if !link.force && !dangling {
                    return err(format!(
                        "File {} already exists and is a symlink to {}.",
                        link.path.display(),
                        existing.display()
                    ));
                }
                todo.push((link, true));
            }
            Ok(_) => return err(format!("File {} already exists.", link.path.display())),
        }
    }
    let mut changes = Vec::new();
    for (link, replace) in todo {
        if let Some(parent) = link.path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| InstallError(format!("Cannot create {}: {e}", parent.display())))?;
        }
        if replace {
            fs::remove_file(&link.path)
                .map_err(|e| InstallError(format!("Cannot remove {}: {e}", link.path.display())))?;
            changes.push(Change::Unlink {
                path: link.path.clone(),
            });
        }
        std::os::unix::fs::symlink(&link.target, &link.path).map_err(|e| {
            InstallError(format!(
                "Cannot create symlink {}: {e}",
                link.path.display()
            ))
        })?;
        changes.push(Change::Symlink {
            path: link.path,
            target: link.target,
        });
    }
    Ok(changes)
}

/// The name an `Alias=` entry gives `unit` (systemd's alias rules): the same type, a type
/// that may have aliases, templates alias templates and instances alias instances of the
/// same instance; a template alias of an instance takes its instance. `None` for the unit's
/// own name, which is quietly skipped.
fn alias_name(unit: &UnitName, alias: &str) -> Result<Option<UnitName>, InstallError> {
    let refuse = || InstallError(format!("Cannot alias {unit} as {alias}."));
    let mut a = parse_name(alias)?;
    if let (Some(i), true) = (unit.instance().filter(|i| !i.is_empty()), a.is_template()) {
        a = a.with_instance(i).map_err(|_| refuse())?;
    }
    if a == *unit {
        return Ok(None);
    }
    let t = unit.unit_type();
    let same_kind = a.is_template() == unit.is_template()
        && a.instance().is_some() == unit.instance().is_some()
        && (!unit.is_instance() || a.instance() == unit.instance());
    if a.unit_type() != t || !t.may_alias() || !same_kind {
        return Err(refuse());
    }
    Ok(Some(a))
}

/// `enable`: the symlinks the `[Install]` sections of `names` (and their `Also=` units) ask
/// for, in the configuration directory.
pub fn enable(
    paths: &Paths,
    names: &[String],
    host: &HostFacts,
) -> Result<Vec<Change>, InstallError> {
    let mut queue: VecDeque<String> = names
        .iter()
        .map(|n| unit_of_argument(paths, n))
        .collect::<Result<_, _>>()?;
    let mut done = BTreeSet::new();
    let mut plan = Vec::new();
    while let Some(name) = queue.pop_front() {
        if !done.insert(name.clone()) {
            continue;
        }
        let info = match discover(paths, &name, host)? {
            Found::Masked(p) => return err(format!("Unit file {} is masked.", p.display())),
            Found::Regular(info) => info,
        };
        queue.extend(info.install.also.iter().cloned());
        for alias in &info.install.alias {
            if let Some(a) = alias_name(&info.name, alias)? {
                plan.push(Link {
                    path: paths.config.join(a.to_string()),
                    target: info.path.clone(),
                    force: false,
                });
            }
        }
        // A template is enabled as its DefaultInstance=, or else only into templates.
        let mut only_templates = false;
        let link_name = if !info.name.is_template() {
            info.name.to_string()
        } else if let Some(i) = &info.install.default_instance {
            let instance = info
                .name
                .with_instance(i)
                .map_err(|e| InstallError(e.to_string()))?
                .to_string();
            if let Found::Masked(p) = discover(paths, &instance, host)? {
                return err(format!("Unit file {} is masked.", p.display()));
            }
            instance
        } else {
            only_templates = true;
            info.name.to_string()
        };
        let lists = [
            (&info.install.wanted_by, ".wants"),
            (&info.install.required_by, ".requires"),
            (&info.install.upheld_by, ".upholds"),
        ];
        for (list, suffix) in lists {
            for target in list {
                let t = parse_name(target)?;
                if only_templates && t.instance().is_none() {
                    return err(format!("Destination unit {target} is a non-template unit."));
                }
                plan.push(Link {
                    path: paths
                        .config
                        .join(format!("{target}{suffix}"))
                        .join(&link_name),
                    target: info.path.clone(),
                    force: true,
                });
            }
        }
    }
    apply_links(paths, plan)
}

/// A unit given by name, or by the path of its file when that file lies in a directory of
/// the search path (`enable /etc/systemd/system/a.service`). Linking files from elsewhere
/// (`systemctl link`) is not supported.
fn unit_of_argument(paths: &Paths, arg: &str) -> Result<String, InstallError> {
    if !arg.contains('/') {
        return Ok(arg.to_string());
    }
    let path = Path::new(arg);
    let name = file_name(path);
    let in_search = path
        .parent()
        .is_some_and(|p| paths.search.iter().any(|d| d == p));
    if in_search {
        Ok(name)
    } else {
        err(format!(
            "{arg} is not in the unit search path; linking unit files is not supported, copy it into {} instead.",
            paths.config.display()
        ))
    }
}

/// Removes, below the configuration directory, every symlink named after a marked name (or
/// an instance of a marked template) or pointing at a marked name or path. A removed
/// symlink's path is marked in turn, so links to it go too (systemd's
/// `remove_marked_symlinks`).
fn remove_marked(
    paths: &Paths,
    mut marked: BTreeSet<String>,
    changes: &mut Vec<Change>,
) -> Result<(), InstallError> {
    for _ in 0..MAX_REMOVAL_PASSES {
        let before = marked.len();
        remove_marked_in(paths, &paths.config, &mut marked, changes)?;
        if marked.len() == before {
            break;
        }
    }
    Ok(())
}

/// One sorted, depth-first walk of `dir` for [`remove_marked`].
fn remove_marked_in(
    paths: &Paths,
    dir: &Path,
    marked: &mut BTreeSet<String>,
    changes: &mut Vec<Change>,
) -> Result<(), InstallError> {
    for entry in dir_names(dir) {
        let path = dir.join(&entry);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            remove_marked_in(paths, &path, marked, changes)?;
            continue;
        }
        if !meta.file_type().is_symlink() || !UnitName::is_valid(&entry) {
            continue;
        }
        let template = UnitName::parse(&entry)
            .ok()
            .and_then(|n| n.template())
            .map(|t| t.to_string());
        let dest = chase(&path);
        let found = marked.contains(&entry)
            || template.is_some_and(|t| marked.contains(&t))
            || marked.contains(&dest.display().to_string())
            || marked.contains(&file_name(&dest));
        if !found {
            continue;
        }
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return err(format!("Cannot remove {}: {e}", path.display())),
        }
        changes.push(Change::Unlink { path: path.clone() });
        remove_empty_parents(&path, &paths.config);
        marked.insert(path.display().to_string());
    }
    Ok(())
}

/// Removes the directories between `path` and `top` that became empty (an emptied
/// `.wants/` directory goes, as with systemctl).
fn remove_empty_parents(path: &Path, top: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == top || !d.starts_with(top) || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// `disable`: removes every symlink to the units (and their `Also=` units) in the
/// configuration directory. A masked unit is reported and left alone.
pub fn disable(
    paths: &Paths,
    names: &[String],
    host: &HostFacts,
) -> Result<Vec<Change>, InstallError> {
    let mut queue: VecDeque<String> = VecDeque::new();
    for n in names {
        let name = unit_of_argument(paths, n)?;
        parse_name(&name)?;
        queue.push_back(name);
    }
    let mut done = BTreeSet::new();
    let mut marked = BTreeSet::new();
    let mut changes = Vec::new();
    while let Some(name) = queue.pop_front() {
        if !done.insert(name.clone()) {
            continue;
        }
        match discover(paths, &name, host) {
            Ok(Found::Masked(path)) => changes.push(Change::Masked { path }),
            Ok(Found::Regular(info)) => {
                queue.extend(info.install.also.iter().cloned());
                marked.insert(info.name.to_string());
            }
            // A unit whose file is gone may still have symlinks left over.
            Err(_) => {
                marked.insert(name);
            }
        }
    }
    remove_marked(paths, marked, &mut changes)?;
    Ok(changes)
}

/// `mask`: `<config>/NAME → /dev/null`; a file or a symlink elsewhere of that name is
/// refused.
pub fn mask(paths: &Paths, names: &[String]) -> Result<Vec<Change>, InstallError> {
    let mut plan = Vec::new();
    for n in names {
        let name = unit_of_argument(paths, n)?;
        parse_name(&name)?;
        plan.push(Link {
            path: paths.config.join(&name),
            target: PathBuf::from("/dev/null"),
            force: false,
        });
    }
    apply_links(paths, plan)
}

/// `unmask`: removes a mask (`/dev/null` symlink or empty file) of the names from the
/// configuration directory, and the symlinks that pointed at it.
pub fn unmask(paths: &Paths, names: &[String]) -> Result<Vec<Change>, InstallError> {
    let mut todo = Vec::new();
    for n in names {
        let name = unit_of_argument(paths, n)?;
        parse_name(&name)?;
        let path = paths.config.join(&name);
        if null_or_empty(&path) && !todo.contains(&path) {
            todo.push(path);
        }
    }
    let mut changes = Vec::new();
    let mut marked = BTreeSet::new();
    for path in todo {
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return err(format!("Cannot remove {}: {e}", path.display())),
        }
        marked.insert(path.display().to_string());
        changes.push(Change::Unlink { path });
    }
    remove_marked(paths, marked, &mut changes)?;
    Ok(changes)
}

const DEFAULT_TARGET: &str = "default.target";

/// `set-default`: `<config>/default.target → the target's file`, replacing the old link.
pub fn set_default(
    paths: &Paths,
    name: &str,
    host: &HostFacts,
) -> Result<Vec<Change>, InstallError> {
    let unit = parse_name(name)?;
    if unit.unit_type() != UnitType::Target || name == DEFAULT_TARGET {
        return err(format!(
            "Invalid default target {name}: a target other than {DEFAULT_TARGET} is needed."
        ));
    }
    let info = match discover(paths, name, host)? {
        Found::Masked(p) => return err(format!("Unit file {} is masked.", p.display())),
        Found::Regular(info) => info,
    };
    apply_links(
        paths,
        vec![Link {
            path: paths.config.join(DEFAULT_TARGET),
            target: info.path,
            force: true,
        }],
    )
}

/// `get-default`: the unit `default.target` leads to.
pub fn get_default(paths: &Paths, host: &HostFacts) -> Result<String, InstallError> {
    match discover(paths, DEFAULT_TARGET, host)? {
        Found::Masked(p) => err(format!("Unit file {} is masked.", p.display())),
        Found::Regular(info) => Ok(info.name.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A search path of `etc` (the configuration directory), `run` and `lib` in a
    /// temporary directory; paths in results are shown relative to it.
    struct Tree {
        root: tempfile::TempDir,
    }

    impl Tree {
        fn new() -> Tree {
            let t = Tree {
                root: tempfile::tempdir().unwrap(),
            };
            for d in ["etc", "run", "lib"] {
                fs::create_dir_all(t.root.path().join(d)).unwrap();
            }
            t
        }
        fn file(&self, rel: &str, text: &str) -> &Self {
            let p = self.root.path().join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
            self
        }
        fn link(&self, rel: &str, target: &str) -> &Self {
            let p = self.root.path().join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            let target = if target.starts_with('/') && !target.starts_with("/dev/") {
                self.root.path().join(target.trim_start_matches('/'))
            } else {
                PathBuf::from(target)
            };
            symlink(target, p).unwrap();
            self
        }
        fn paths(&self) -> Paths {
            let mut p = Paths::for_search_path(
                &["etc", "run", "lib"]
                    .iter()
                    .map(|d| self.root.path().join(d))
                    .collect::<Vec<_>>(),
            );
            p.runtime = vec![self.root.path().join("run")];
            p
        }
        fn rel(&self, p: &Path) -> String {
            match p.strip_prefix(self.root.path()) {
                Ok(r) => format!("/{}", r.display()),
                Err(_) => p.display().to_string(),
            }
        }
        fn state(&self, name: &str) -> String {
            match state(&self.paths(), name, &HostFacts::default()) {
                Ok(s) => s.as_str().to_string(),
                Err(e) => format!("error: {e}"),
            }
        }
        fn show(&self, r: Result<Vec<Change>, InstallError>) -> Vec<String> {
            match r {
                Ok(changes) => changes
                    .iter()
                    .map(|c| match c {
                        Change::Symlink { path, target } => {
                            format!("+{} -> {}", self.rel(path), self.rel(target))
                        }
                        Change::Unlink { path } => format!("-{}", self.rel(path)),
                        Change::Masked { path } => format!("masked {}", self.rel(path)),
                    })
                    .collect(),
                Err(e) => vec![format!(
                    "error: {}",
                    e.0.replace(self.root.path().to_str().unwrap(), "")
                )],
            }
        }
        fn enable(&self, names: &[&str]) -> Vec<String> {
            let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            self.show(enable(&self.paths(), &names, &HostFacts::default()))
        }
        fn disable(&self, names: &[&str]) -> Vec<String> {
            let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            self.show(disable(&self.paths(), &names, &HostFacts::default()))
        }
        fn mask(&self, names: &[&str]) -> Vec<String> {
            let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            self.show(mask(&self.paths(), &names))
        }
        fn unmask(&self, names: &[&str]) -> Vec<String> {
            let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            self.show(unmask(&self.paths(), &names))
        }
    }

    const WANTED: &str = "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n";

    #[test]
    fn the_configuration_directory_is_the_first_unit_path_or_etc_systemd() {
        let custom = Paths::for_search_path(&[PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(custom.config, PathBuf::from("/a"));
        let default: Vec<PathBuf> = SYSTEM_UNIT_PATH.iter().map(PathBuf::from).collect();
        assert_eq!(
            Paths::for_search_path(&default).config,
            PathBuf::from(DEFAULT_CONFIG_DIR)
        );
        assert_eq!(
            Paths::for_search_path(&[]).config,
            PathBuf::from(DEFAULT_CONFIG_DIR)
        );
    }

    #[test]
    fn states_follow_the_is_enabled_table() {
        let t = Tree::new();
        t.file("lib/static.service", "[Service]\nExecStart=/x\n")
            .file("lib/disabled.service", WANTED)
            .file("lib/on.service", WANTED)
            .link("etc/multi-user.target.wants/on.service", "/lib/on.service")
            .file("lib/rt.service", WANTED)
            .link("run/multi-user.target.wants/rt.service", "/lib/rt.service")
            .file("lib/vendor.service", WANTED)
            .link(
                "lib/multi-user.target.wants/vendor.service",
                "/lib/vendor.service",
            )
            .file("lib/masked.service", WANTED)
            .link("etc/masked.service", "/dev/null")
            .link("run/masked-rt.service", "/dev/null")
            .file("lib/empty.service", "")
            .file(
                "lib/real.service",
                "[Service]\nExecStart=/x\n[Install]\nAlias=nick.service\n",
            )
            .link("etc/nick.service", "/lib/real.service")
            .file("lib/other.service", "[Service]\nExecStart=/x\n")
            .link("etc/unlisted.service", "/lib/other.service")
            .file(
                "lib/also.service",
                "[Service]\nExecStart=/x\n[Install]\nAlso=on.service\n",
            )
            .file(
                "lib/reset.service",
                "[Service]\nExecStart=/x\n[Install]\nWantedBy=a.target\nWantedBy=\n",
            )
            .file(
                "lib/getty@.service",
                "[Service]\nExecStart=/x\n[Install]\nWantedBy=getty.target\nDefaultInstance=tty1\n",
            )
            .link(
                "etc/getty.target.wants/getty@tty1.service",
                "/lib/getty@.service",
            )
            .file(
                "lib/serial@.service",
                "[Service]\nExecStart=/x\n[Install]\nWantedBy=getty.target\n",
            )
            .link(
                "etc/getty.target.wants/serial@ttyS0.service",
                "/lib/serial@.service",
            )
            .file("lib/vend@.service", "[Service]\nExecStart=/x\n")
            .link("lib/x.target.wants/vend@a.service", "/lib/vend@.service")
            .file("elsewhere/linked.service", WANTED)
            .link("etc/linked.service", "/elsewhere/linked.service");
        let cases = [
            ("static.service", "static"),
            ("disabled.service", "disabled"),
            ("on.service", "enabled"),
            ("rt.service", "enabled-runtime"),
            // A vendor .wants/ link does not make a unit enabled.
            ("vendor.service", "disabled"),
            ("masked.service", "masked"),
            ("masked-rt.service", "masked-runtime"),
            ("empty.service", "masked"),
            ("real.service", "enabled"),
            ("nick.service", "alias"),
            ("other.service", "indirect"),
            ("unlisted.service", "alias"),
            ("also.service", "indirect"),
            ("reset.service", "static"),
            ("getty@.service", "enabled"),
            ("getty@tty1.service", "enabled"),
            ("getty@tty2.service", "disabled"),
            ("serial@.service", "indirect"),
            ("serial@ttyS0.service", "enabled"),
            ("vend@a.service", "static"),
            ("linked.service", "linked"),
            (
                "nope.service",
                "error: Unit file nope.service does not exist.",
            ),
            (
                "not a name",
                "error: \"not a name\" is not a valid unit name.",
            ),
        ];
        for (name, want) in cases {
            assert_eq!(t.state(name), want, "{name}");
        }
    }

    #[test]
    fn list_names_each_file_once_with_its_state() {
        let t = Tree::new();
        t.file("lib/a.service", WANTED)
            .file("etc/a.service", "[Service]\nExecStart=/x\n")
            .link("etc/b.service", "/dev/null")
            .link("etc/dangling.service", "/nowhere/gone.service")
            .file("lib/notes.txt", "x")
            .file("lib/c.target", "");
        let all = list(&t.paths(), &HostFacts::default(), |_| true);
        let got: Vec<(&str, &str)> = all.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("a.service", "static"),
                ("b.service", "masked"),
                ("c.target", "masked"),
                ("dangling.service", "bad"),
            ]
        );
        let some = list(&t.paths(), &HostFacts::default(), |n| {
            n.ends_with(".target")
        });
        assert_eq!(some.len(), 1);
    }

    #[test]
    fn enable_creates_the_install_symlinks_and_is_idempotent() {
        let t = Tree::new();
        t.file(
            "lib/a.service",
            "[Service]\nExecStart=/x\n[Install]\nWantedBy=multi-user.target\nRequiredBy=b.target\nAlias=aa.service\nAlso=h.service\n",
        )
        .file("lib/h.service", "[Service]\nExecStart=/x\n[Install]\nUpheldBy=u.target\n");
        assert_eq!(
            t.enable(&["a.service"]),
            vec![
                "+/etc/aa.service -> /lib/a.service",
                "+/etc/multi-user.target.wants/a.service -> /lib/a.service",
                "+/etc/b.target.requires/a.service -> /lib/a.service",
                "+/etc/u.target.upholds/h.service -> /lib/h.service",
            ]
        );
        assert_eq!(t.state("a.service"), "enabled");
        assert_eq!(t.state("aa.service"), "alias");
        assert_eq!(t.state("h.service"), "enabled");
        assert!(t.enable(&["a.service"]).is_empty(), "nothing left to do");
    }

    #[test]
    fn enable_refusals_change_nothing() {
        let t = Tree::new();
        t.file(
            "lib/a.service",
            "[Service]\nExecStart=/x\n[Install]\nWantedBy=m.target\nAlias=taken.service\n",
        )
        .link("etc/taken.service", "/lib/other.service")
        .file("lib/other.service", "[Service]\nExecStart=/x\n")
        .file("lib/m.service", WANTED)
        .link("etc/m.service", "/dev/null")
        .file(
            "lib/t@.service",
            "[Service]\nExecStart=/x\n[Install]\nWantedBy=multi-user.target\n",
        )
        .file(
            "lib/bad.service",
            "[Service]\nExecStart=/x\n[Install]\nAlias=bad.socket\n",
        );
        let cases: [(&str, &str); 5] = [
            ("a.service", "error: File /etc/taken.service already exists and is a symlink to /lib/other.service."),
            ("m.service", "error: Unit file /etc/m.service is masked."),
            ("t@.service", "error: Destination unit multi-user.target is a non-template unit."),
            ("bad.service", "error: Cannot alias bad.service as bad.socket."),
            ("nope.service", "error: Unit file nope.service does not exist."),
        ];
        for (name, want) in cases {
            assert_eq!(t.enable(&[name]), vec![want], "{name}");
        }
        assert!(!t.root.path().join("etc/m.target.wants").exists());
    }

    #[test]
    fn templates_enable_their_default_instance_or_a_named_one() {
        let t = Tree::new();
        t.file(
            "lib/getty@.service",
            "[Service]\nExecStart=/x\n[Install]\nWantedBy=getty.target\nDefaultInstance=tty1\nAlias=console@.service\n",
        );
        assert_eq!(
            t.enable(&["getty@.service"]),
            vec![
                "+/etc/console@.service -> /lib/getty@.service",
                "+/etc/getty.target.wants/getty@tty1.service -> /lib/getty@.service",
            ]
        );
        assert_eq!(
            t.enable(&["getty@tty5.service"]),
            vec![
                "+/etc/console@tty5.service -> /lib/getty@.service",
                "+/etc/getty.target.wants/getty@tty5.service -> /lib/getty@.service",
            ]
        );
        assert_eq!(t.state("getty@tty5.service"), "enabled");
        assert_eq!(
            t.disable(&["getty@tty5.service"]),
            vec!["-/etc/getty.target.wants/getty@tty5.service"],
            "as systemd, the instance's alias stays until the template is disabled"
        );
        assert_eq!(t.state("getty@.service"), "enabled");
    }

    #[test]
    fn dependency_links_pointing_elsewhere_are_replaced() {
        let t = Tree::new();
        t.file("lib/a.service", WANTED)
            .file("run/a.service", WANTED)
            .link(
                "etc/multi-user.target.wants/a.service",
                "/somewhere/a.service",
            );
        assert_eq!(
            t.enable(&["a.service"]),
            vec![
                "-/etc/multi-user.target.wants/a.service",
                "+/etc/multi-user.target.wants/a.service -> /run/a.service",
            ]
        );
    }

    #[test]
    fn disable_removes_every_link_to_the_unit_and_empty_directories() {
        let t = Tree::new();
        t.file(
            "lib/a.service",
            "[Service]\nExecStart=/x\n[Install]\nWantedBy=m.target\nAlias=aa.service\n",
        )
        .link("etc/m.target.wants/a.service", "/lib/a.service")
        .link("etc/x.target.requires/a.service", "/lib/a.service")
        .link("etc/aa.service", "/lib/a.service")
        .link("etc/bb.service", "/etc/aa.service")
        .file("lib/keep.service", WANTED)
        .link("etc/m.target.wants/keep.service", "/lib/keep.service");
        assert_eq!(
            t.disable(&["aa.service"]),
            vec![
                "-/etc/aa.service",
                "-/etc/bb.service",
                "-/etc/m.target.wants/a.service",
                "-/etc/x.target.requires/a.service",
            ]
        );
        assert!(!t.root.path().join("etc/x.target.requires").exists());
        assert_eq!(t.state("a.service"), "disabled");
        assert_eq!(t.state("keep.service"), "enabled");
        assert!(t.disable(&["a.service"]).is_empty());
        // The links of a unit whose file is gone still go.
        t.link("etc/m.target.wants/gone.service", "/lib/gone.service");
        assert_eq!(
            t.disable(&["gone.service"]),
            vec!["-/etc/m.target.wants/gone.service"]
        );
    }

    #[test]
    fn disable_leaves_a_masked_unit_alone() {
        let t = Tree::new();
        t.file("lib/a.service", WANTED)
            .link("etc/a.service", "/dev/null")
            .link("etc/multi-user.target.wants/a.service", "/lib/a.service");
        assert_eq!(t.disable(&["a.service"]), vec!["masked /etc/a.service"]);
    }

    #[test]
    fn mask_and_unmask() {
        let t = Tree::new();
        t.file("lib/a.service", WANTED)
            .file("etc/local.service", "[Service]\nExecStart=/x\n");
        assert_eq!(t.mask(&["a.service"]), vec!["+/etc/a.service -> /dev/null"]);
        assert_eq!(t.state("a.service"), "masked");
        assert!(
            t.mask(&["a.service"]).is_empty(),
            "masking twice is a no-op"
        );
        assert_eq!(
            t.mask(&["local.service"]),
            vec!["error: File /etc/local.service already exists."]
        );
        assert_eq!(
            t.mask(&["x"]),
            vec!["error: \"x\" is not a valid unit name."]
        );
        // A mask of a unit that has no file at all is fine.
        assert_eq!(
            t.mask(&["ghost.service"]),
            vec!["+/etc/ghost.service -> /dev/null"]
        );
        assert_eq!(
            t.unmask(&["a.service", "ghost.service", "local.service"]),
            vec!["-/etc/a.service", "-/etc/ghost.service"]
        );
        assert_eq!(t.state("a.service"), "disabled");
        assert!(t.unmask(&["a.service"]).is_empty());
        assert!(t.root.path().join("etc/local.service").exists());
    }

    #[test]
    fn default_target() {
        let t = Tree::new();
        t.file("lib/multi-user.target", "[Unit]\n")
            .file("lib/graphical.target", "[Unit]\n");
        assert_eq!(
            get_default(&t.paths(), &HostFacts::default()),
            Err(InstallError(
                "Unit file default.target does not exist.".into()
            ))
        );
        let set = |n: &str| t.show(set_default(&t.paths(), n, &HostFacts::default()));
        assert_eq!(
            set("multi-user.target"),
            vec!["+/etc/default.target -> /lib/multi-user.target"]
        );
        assert_eq!(
            get_default(&t.paths(), &HostFacts::default()).unwrap(),
            "multi-user.target"
        );
        assert!(set("multi-user.target").is_empty());
        assert_eq!(
            set("graphical.target"),
            vec![
                "-/etc/default.target",
                "+/etc/default.target -> /lib/graphical.target"
            ]
        );
        assert_eq!(
            get_default(&t.paths(), &HostFacts::default()).unwrap(),
            "graphical.target"
        );
        assert_eq!(
            set("nope.target"),
            vec!["error: Unit file nope.target does not exist."]
        );
        assert_eq!(set("a.service").len(), 1);
        assert!(set("a.service")[0].starts_with("error: Invalid default target"));
    }

    #[test]
    fn specifiers_in_install_are_expanded() {
        let t = Tree::new();
        t.file(
            "lib/web@.service",
            "[Service]\nExecStart=/x\n[Install]\nWantedBy=%p.target\nAlias=site-%i.service\n",
        );
        // An instance's alias must be an instance (of the same instance).
        assert_eq!(
            t.enable(&["web@a.service"]),
            vec!["error: Cannot alias web@a.service as site-a.service."]
        );
        t.file(
            "lib/api.service",
            "[Service]\nExecStart=/x\n[Install]\nWantedBy=%N-ready.target\n",
        );
        assert_eq!(
            t.enable(&["api.service"]),
            vec!["+/etc/api-ready.target.wants/api.service -> /lib/api.service"]
        );
    }
}
