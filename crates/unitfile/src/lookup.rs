//! Finding the files of a unit along the search path (systemd.unit(5) "UNIT FILE LOAD PATH").
//!
//! - The search path is ordered, highest priority first; the first directory holding a file
//!   of a given name provides the unit's *fragment*.
//! - A symlink whose target has another name is an *alias*; one to `/dev/null`, or an empty
//!   file, *masks* the name. A symlink with the same name as its target is a linked unit file.
//! - An instance (`getty@tty1.service`) without a file of its own uses its template's.
//! - Drop-ins `*.conf` are collected from `NAME.d/` for the unit's name and aliases, its
//!   template, its dash-truncated prefixes (`a-b-c.service` → `a-b-.service.d`,
//!   `a-.service.d`) and finally the type (`service.d`), in every search directory. A file
//!   name seen first (higher-priority directory, then more specific name) overrides the same
//!   name seen later; the survivors are applied in lexical order of their file names.
//! - `.wants/`, `.requires/` and `.upholds/` directories are collected the same way.
//!
//! Where sysmaster differs from systemd: a name that no file or symlink provides is also
//! resolved through the `[Install] Alias=` lines of the unit files on the path, because an
//! image assembled without `systemctl enable` has no alias symlinks.

use crate::name::UnitName;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The default system search path of DESIGN.md §4, highest priority first.
pub const SYSTEM_UNIT_PATH: &[&str] = &[
    "/etc/sysmaster/system",
    "/run/sysmaster/system",
    "/usr/lib/sysmaster/system",
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// How deep alias chains may go before we call them a loop (systemd allows a few hops too).
const MAX_ALIAS_HOPS: usize = 16;

/// What one name is in the search path. The file is `dirs[dir]/NAME`: the index is kept
/// instead of the path, since the manager keeps the index of the whole search path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// A unit file (or a symlink to one of the same name).
    Fragment { dir: u16 },
    /// A symlink to `/dev/null` or an empty file.
    Masked { dir: u16 },
    /// A symlink to a unit of another name.
    Alias(Box<str>),
}

/// Every name found on the search path with what it is, sorted by name.
///
/// A sorted vector rather than a hash map: it is built once per scan and then only
/// searched, and it takes a third of the memory (no empty buckets, no hashes).
#[derive(Debug, Clone, Default)]
struct Entries(Vec<(Box<str>, Entry)>);

impl Entries {
    fn get(&self, name: &str) -> Option<&Entry> {
        self.0
            .binary_search_by(|(n, _)| (**n).cmp(name))
            .ok()
            .and_then(|i| self.0.get(i))
            .map(|(_, e)| e)
    }

    fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> + '_ {
        self.0.iter().map(|(n, e)| (&**n, e))
    }

    /// Adds the entries of one directory, whose names are not present yet.
    fn extend(&mut self, found: Vec<(Box<str>, Entry)>) {
        self.0.extend(found);
        self.0.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.0.shrink_to_fit();
    }
}

/// A problem met while scanning the search path; never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupWarning {
    pub path: PathBuf,
    pub message: String,
}

/// Where a unit name leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The canonical name: the fragment's own name (with the instance, for an instance).
    pub id: UnitName,
    /// The unit file; `None` when only drop-ins (or nothing) exist for the name.
    pub fragment: Option<PathBuf>,
    /// The name is masked; `fragment` then points at the masking file or symlink.
    pub masked: bool,
    /// All names of the unit: the id first, then the aliases, sorted.
    pub names: Vec<String>,
}

/// An index of the search path, built once by scanning its directories.
#[derive(Debug, Clone)]
pub struct Lookup {
    dirs: Vec<PathBuf>,
    entries: Entries,
    /// Names provided only through `[Install] Alias=`: alias → unit.
    install_aliases: HashMap<String, String>,
    /// Every alias by the name it finally leads to, built once: asking each entry where it
    /// leads on every load made loading N units cost N² steps.
    aliases_of: HashMap<String, Vec<String>>,
    warnings: Vec<LookupWarning>,
}

impl Lookup {
    /// Scans `dirs` (highest priority first). Missing directories are fine.
    pub fn new(dirs: Vec<PathBuf>) -> Lookup {
        let mut lookup = Lookup {
            dirs,
            entries: Entries::default(),
            install_aliases: HashMap::new(),
            aliases_of: HashMap::new(),
            warnings: Vec::new(),
        };
        for (i, dir) in lookup.dirs.clone().iter().enumerate() {
            // More directories than a u16 counts cannot be a search path; ignore the rest.
            let Ok(i) = u16::try_from(i) else { break };
            lookup.scan_dir(dir, i);
        }
        lookup.collect_install_aliases();
        lookup.index_aliases();
        lookup
    }

    /// The default system search path.
    pub fn system() -> Lookup {
        Lookup::new(SYSTEM_UNIT_PATH.iter().map(PathBuf::from).collect())
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Problems met while scanning (dangling symlinks, unreadable directories).
    pub fn warnings(&self) -> &[LookupWarning] {
        &self.warnings
    }

    /// Every unit name that has a file, symlink or `Alias=` on the path, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .entries
            .iter()
            .map(|(n, _)| n)
            .chain(self.install_aliases.keys().map(String::as_str))
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn scan_dir(&mut self, dir: &Path, index: u16) {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(e) => {
                self.warn(dir, format!("cannot read directory: {e}"));
                return;
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| UnitName::parse(n).is_ok())
            .collect();
        names.sort();
        let mut found = Vec::new();
        for name in names {
            // A directory of higher priority already provides the name.
            if self.entries.contains(&name) {
                continue;
            }
            let path = dir.join(&name);
            if let Some(entry) = self.classify(&name, &path, index) {
                found.push((name.into_boxed_str(), entry));
            }
        }
        self.entries.extend(found);
    }

    fn classify(&mut self, name: &str, path: &Path, dir: u16) -> Option<Entry> {
        let meta = fs::symlink_metadata(path).ok()?;
        if meta.file_type().is_symlink() {
            let target = fs::read_link(path).ok()?;
            if target == Path::new("/dev/null") {
                return Some(Entry::Masked { dir });
            }
            let target_name = target.file_name()?.to_str()?;
            if target_name != name && UnitName::parse(target_name).is_ok() {
                return Some(Entry::Alias(target_name.into()));
            }
            // A linked unit file: the symlink names the unit, the target holds it.
            return match fs::metadata(path) {
                Ok(m) if m.is_file() => Some(classify_file(dir, m.len())),
                Ok(_) => None,
                Err(_) => {
                    self.warn(path, format!("dangling symlink to {}", target.display()));
                    None
                }
            };
        }
        if meta.is_file() {
            return Some(classify_file(dir, meta.len()));
        }
        None
    }

    /// The file an entry named `name` stands for (`None` for an alias).
    fn path_of(&self, name: &str, entry: &Entry) -> Option<PathBuf> {
        match entry {
            Entry::Fragment { dir } | Entry::Masked { dir } => {
                self.dirs.get(usize::from(*dir)).map(|d| d.join(name))
            }
            Entry::Alias(_) => None,
        }
    }

    fn warn(&mut self, path: &Path, message: String) {
        self.warnings.push(LookupWarning {
            path: path.to_path_buf(),
            message,
        });
    }

    /// Reads the `[Install] Alias=` lines of every fragment. Only the lines are scanned here;
    /// the full parse happens when the unit is loaded.
    fn collect_install_aliases(&mut self) {
        // Sorted by name, as the entries are.
        let fragments: Vec<(String, PathBuf)> = self
            .entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Fragment { .. }))
            .filter_map(|(n, e)| Some((n.to_string(), self.path_of(n, e)?)))
            .collect();
        for (name, path) in fragments {
            let Ok(bytes) = fs::read(&path) else { continue };
            let parsed = crate::syntax::parse(&bytes, &path, &["Install"]);
            for a in parsed.assignments {
                if a.section != "Install" || a.key != "Alias" {
                    continue;
                }
                for alias in a.value.split_ascii_whitespace() {
                    if !self.entries.contains(alias) && UnitName::parse(alias).is_ok() {
                        self.install_aliases
                            .entry(alias.to_string())
                            .or_insert_with(|| name.clone());
                    }
                }
            }
        }
    }

    /// Follows aliases from `name` to the entry that provides it.
    fn follow(&self, name: &str) -> Option<(String, &Entry)> {
        let mut current = name.to_string();
        for _ in 0..MAX_ALIAS_HOPS {
            match self.entries.get(&current) {
                Some(Entry::Alias(target)) => current = target.to_string(),
                Some(entry) => return Some((current, entry)),
                None => match self.install_aliases.get(&current) {
                    Some(target) => current = target.clone(),
                    None => return None,
                },
            }
        }
        None
    }

    /// Resolves a unit name to its canonical name, fragment and aliases. A name nothing
    /// provides resolves to itself with no fragment (it may still have drop-ins).
    pub fn resolve(&self, name: &UnitName) -> Resolved {
        let text = name.to_string();
        // The canonical name, and the entry with the name it is stored under.
        let found = self
            .follow(&text)
            .map(|(id, entry)| (id.clone(), id, entry))
            .or_else(|| {
                // An instance without its own file uses the template's, keeping the
                // instance.
                let template = name.template().filter(|_| name.is_instance())?;
                let (key, entry) = self.follow(&template.to_string())?;
                let instance = name.instance().unwrap_or_default();
                let id = UnitName::parse(&key).ok()?.with_instance(instance).ok()?;
                Some((id.to_string(), key, entry))
            });
        let (id, fragment, masked) = match found {
            // `follow` never stops on an alias, so this is a fragment or a mask.
            Some((id, key, entry)) => (
                id,
                self.path_of(&key, entry),
                matches!(entry, Entry::Masked { .. }),
            ),
            None => (text, None, false),
        };
        let id = UnitName::parse(&id).unwrap_or_else(|_| name.clone());
        let names = self.names_of(&id);
        Resolved {
            id,
            fragment,
            masked,
            names,
        }
    }

    /// The id and every alias that leads to it; for an instance, the aliases of its template
    /// carry the same instance.
    fn names_of(&self, id: &UnitName) -> Vec<String> {
        let id_text = id.to_string();
        let (target, instance) = match (id.is_instance(), id.template()) {
            (true, Some(t)) => (t.to_string(), id.instance()),
            _ => (id_text.clone(), None),
        };
        let mut aliases: Vec<String> = self
            .aliases_of
            .get(&target)
            .into_iter()
            .flatten()
            .filter_map(|n| match instance {
                Some(i) => UnitName::parse(n)
                    .ok()?
                    .with_instance(i)
                    .ok()
                    .map(|u| u.to_string()),
                None => Some(n.clone()),
            })
            .filter(|n| *n != id_text)
            .collect();
        aliases.sort();
        aliases.dedup();
        let mut names = vec![id_text];
        names.extend(aliases);
        names
    }

    /// Fills `aliases_of` from the alias symlinks and `Alias=` lines.
    fn index_aliases(&mut self) {
        let mut index: HashMap<String, Vec<String>> = HashMap::new();
        let aliases = self
            .entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Alias(_)))
            .map(|(n, _)| n)
            .chain(self.install_aliases.keys().map(String::as_str));
        for name in aliases {
            if let Some((target, _)) = self.follow(name) {
                if target != name {
                    index.entry(target).or_default().push(name.to_string());
                }
            }
        }
        self.aliases_of = index;
    }

    /// The drop-in files of a unit with these names, in the order they apply.
    pub fn dropins(&self, names: &[String]) -> Vec<PathBuf> {
        let mut chosen: BTreeMap<String, Option<PathBuf>> = BTreeMap::new();
        for dir in self.dir_chain(names, ".d") {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            let mut files: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".conf"))
                .collect();
            files.sort();
            for file in files {
                if chosen.contains_key(&file) {
                    continue;
                }
                let path = dir.join(&file);
                // A drop-in that is empty or points at /dev/null masks lower ones.
                let entry = match fs::metadata(&path) {
                    Ok(m) if m.is_file() && m.len() > 0 && !links_to_dev_null(&path) => Some(path),
                    Ok(m) if m.is_file() || links_to_dev_null(&path) => None,
                    _ => continue,
                };
                chosen.insert(file, entry);
            }
        }
        chosen.into_values().flatten().collect()
    }

    /// Unit names listed in `NAME.wants/` (suffix `.wants`), `.requires/` or `.upholds/`
    /// directories, with the directory each came from. A template listed in a template's
    /// directory is instantiated with the unit's instance, as systemd does.
    pub fn dependency_dir_entries(&self, names: &[String], suffix: &str) -> Vec<(String, PathBuf)> {
        let instance = names
            .first()
            .and_then(|n| UnitName::parse(n).ok())
            .and_then(|u| u.instance().filter(|i| !i.is_empty()).map(str::to_string));
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for dir in self.dir_chain(names, suffix) {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            let mut files: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect();
            files.sort();
            for file in files {
                let Ok(unit) = UnitName::parse(&file) else {
                    continue;
                };
                let unit = match (&instance, unit.is_template()) {
                    (Some(i), true) => unit.with_instance(i).unwrap_or(unit),
                    _ => unit,
                };
                let unit = unit.to_string();
                if seen.insert(unit.clone()) {
                    out.push((unit, dir.clone()));
                }
            }
        }
        out
    }

    /// The directories `NAME<suffix>` that exist, in priority order: for each name, in each
    /// search directory, the name, its template and its dash prefixes; the type-level
    /// directory of every search directory comes last, being the most generic.
    fn dir_chain(&self, names: &[String], suffix: &str) -> Vec<PathBuf> {
        let mut candidates = Vec::new();
        for name in names {
            for dir in &self.dirs {
                for n in name_chain(name) {
                    candidates.push(dir.join(format!("{n}{suffix}")));
                }
            }
        }
        if let Some(t) = names.first().and_then(|n| UnitName::parse(n).ok()) {
            for dir in &self.dirs {
                candidates.push(dir.join(format!("{}{suffix}", t.unit_type())));
            }
        }
        let mut seen = HashSet::new();
        candidates
            .into_iter()
            .filter(|p| p.is_dir() && seen.insert(p.clone()))
            .collect()
    }
}

fn classify_file(dir: u16, len: u64) -> Entry {
    if len == 0 {
        Entry::Masked { dir }
    } else {
        Entry::Fragment { dir }
    }
}

fn links_to_dev_null(path: &Path) -> bool {
    fs::read_link(path).is_ok_and(|t| t == Path::new("/dev/null"))
}

/// A name followed by its template (for an instance) and its dash-truncated prefixes:
/// `a-b-c@i.service` → `a-b-c@i.service`, `a-b-c@.service`, `a-b-@i.service`,
/// `a-b-@.service`, `a-@i.service`, `a-@.service`.
pub fn name_chain(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = UnitName::parse(name).ok();
    while let Some(unit) = current {
        out.push(unit.to_string());
        if unit.is_instance() {
            if let Some(t) = unit.template() {
                out.push(t.to_string());
            }
        }
        current = shorter_prefix(&unit);
    }
    out
}

/// `a-b-c` → `a-b-`, `a-b-` → `a-`; `None` when no dash is left (or only a leading one).
fn shorter_prefix(unit: &UnitName) -> Option<UnitName> {
    let prefix = unit.prefix();
    let stem = prefix.strip_suffix('-').unwrap_or(prefix);
    let cut = stem.rfind('-')?;
    if cut == 0 {
        return None;
    }
    let shorter = stem.get(..=cut)?;
    let text = match unit.instance() {
        Some(i) => format!("{shorter}@{i}.{}", unit.unit_type()),
        None => format!("{shorter}.{}", unit.unit_type()),
    };
    UnitName::parse(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A throw-away search path of three directories, `etc` having the highest priority.
    struct Tree {
        root: tempfile::TempDir,
    }

    impl Tree {
        fn new() -> Tree {
            Tree {
                root: tempfile::tempdir().unwrap(),
            }
        }
        fn file(&self, rel: &str, text: &str) -> &Self {
            crate::testutil::write_tree(self.root.path(), &[(rel, text)]);
            self
        }
        fn link(&self, rel: &str, target: &str) -> &Self {
            let p = self.root.path().join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            symlink(target, p).unwrap();
            self
        }
        fn lookup(&self) -> Lookup {
            Lookup::new(
                ["etc", "run", "lib"]
                    .iter()
                    .map(|d| self.root.path().join(d))
                    .collect(),
            )
        }
        fn rel(&self, p: &Path) -> String {
            p.strip_prefix(self.root.path())
                .unwrap()
                .display()
                .to_string()
        }
    }

    fn resolve(t: &Tree, name: &str) -> (String, Option<String>, bool, Vec<String>) {
        let r = t.lookup().resolve(&UnitName::parse(name).unwrap());
        (
            r.id.to_string(),
            r.fragment.map(|p| t.rel(&p)),
            r.masked,
            r.names,
        )
    }

    fn dropins(t: &Tree, name: &str) -> Vec<String> {
        let l = t.lookup();
        let r = l.resolve(&UnitName::parse(name).unwrap());
        l.dropins(&r.names).iter().map(|p| t.rel(p)).collect()
    }

    #[test]
    fn first_fragment_wins() {
        let t = Tree::new();
        t.file("lib/a.service", "[Service]\n")
            .file("etc/a.service", "[Service]\n");
        assert_eq!(
            resolve(&t, "a.service"),
            (
                "a.service".into(),
                Some("etc/a.service".into()),
                false,
                vec!["a.service".into()]
            )
        );
    }

    #[test]
    fn missing_unit_resolves_to_itself() {
        let t = Tree::new();
        assert_eq!(
            resolve(&t, "nope.service"),
            (
                "nope.service".into(),
                None,
                false,
                vec!["nope.service".into()]
            )
        );
    }

    #[test]
    fn symlink_aliases() {
        let t = Tree::new();
        t.file("lib/real.service", "[Service]\n")
            .link("etc/alias.service", "../lib/real.service")
            .link("lib/other.service", "real.service");
        let all = vec![
            "real.service".to_string(),
            "alias.service".into(),
            "other.service".into(),
        ];
        assert_eq!(
            resolve(&t, "alias.service"),
            (
                "real.service".into(),
                Some("lib/real.service".into()),
                false,
                all.clone()
            )
        );
        assert_eq!(resolve(&t, "real.service").3, all);
    }

    #[test]
    fn linked_unit_file_with_same_name() {
        let t = Tree::new();
        t.file("elsewhere/x.service", "[Service]\n")
            .link("etc/x.service", "../elsewhere/x.service");
        let (id, frag, masked, _) = resolve(&t, "x.service");
        assert_eq!(
            (id.as_str(), frag.as_deref(), masked),
            ("x.service", Some("etc/x.service"), false)
        );
    }

    #[test]
    fn install_alias_is_a_fallback_name() {
        let t = Tree::new();
        t.file(
            "lib/ssh.service",
            "[Service]\nExecStart=/x\n[Install]\nAlias=sshd.service\n",
        );
        assert_eq!(resolve(&t, "sshd.service").0, "ssh.service");
        assert_eq!(
            resolve(&t, "ssh.service").3,
            vec!["ssh.service".to_string(), "sshd.service".into()]
        );
    }

    #[test]
    fn masking() {
        let t = Tree::new();
        t.file("lib/a.service", "[Service]\n")
            .link("etc/a.service", "/dev/null")
            .file("lib/b.service", "[Service]\n")
            .file("run/b.service", "");
        assert!(resolve(&t, "a.service").2);
        assert_eq!(resolve(&t, "b.service").1.as_deref(), Some("run/b.service"));
        assert!(resolve(&t, "b.service").2);
    }

    #[test]
    fn alias_loops_do_not_hang() {
        let t = Tree::new();
        t.link("etc/a.service", "b.service")
            .link("etc/b.service", "a.service");
        let (_, frag, _, _) = resolve(&t, "a.service");
        assert_eq!(frag, None);
    }

    #[test]
    fn instances_use_the_template() {
        let t = Tree::new();
        t.file("lib/getty@.service", "[Service]\n")
            .file("lib/special@tty9.service", "[Service]\n")
            .file("lib/special@.service", "[Service]\n")
            .link("etc/serial@.service", "getty@.service");
        assert_eq!(
            resolve(&t, "getty@tty1.service"),
            (
                "getty@tty1.service".into(),
                Some("lib/getty@.service".into()),
                false,
                vec!["getty@tty1.service".into(), "serial@tty1.service".into()]
            )
        );
        assert_eq!(resolve(&t, "serial@ttyS0.service").0, "getty@ttyS0.service");
        assert_eq!(
            resolve(&t, "special@tty9.service").1.as_deref(),
            Some("lib/special@tty9.service")
        );
    }

    #[test]
    fn name_chains() {
        assert_eq!(name_chain("a.service"), vec!["a.service"]);
        assert_eq!(
            name_chain("a-b-c.service"),
            vec!["a-b-c.service", "a-b-.service", "a-.service"]
        );
        assert_eq!(
            name_chain("a-b@x.service"),
            vec![
                "a-b@x.service",
                "a-b@.service",
                "a-@x.service",
                "a-@.service"
            ]
        );
        // A trailing dash is chopped once; a leading dash ends the chain.
        assert_eq!(name_chain("a-b-.slice"), vec!["a-b-.slice", "a-.slice"]);
        assert_eq!(name_chain("-.mount"), vec!["-.mount"]);
        assert_eq!(name_chain("-a-b.mount"), vec!["-a-b.mount", "-a-.mount"]);
    }

    #[test]
    fn dropins_override_by_file_name_and_sort_lexically() {
        let t = Tree::new();
        t.file("lib/a.service", "[Service]\n")
            .file("lib/a.service.d/10-x.conf", "x")
            .file("etc/a.service.d/10-x.conf", "x")
            .file("run/a.service.d/05-y.conf", "y")
            .file("lib/a.service.d/20-z.conf", "z")
            .file("lib/a.service.d/ignored.txt", "z");
        assert_eq!(
            dropins(&t, "a.service"),
            vec![
                "run/a.service.d/05-y.conf",
                "etc/a.service.d/10-x.conf",
                "lib/a.service.d/20-z.conf"
            ]
        );
    }

    #[test]
    fn dropins_masked_by_empty_or_dev_null() {
        let t = Tree::new();
        t.file("lib/a.service", "[Service]\n")
            .file("lib/a.service.d/10-x.conf", "x")
            .file("lib/a.service.d/20-y.conf", "y")
            .link("etc/a.service.d/10-x.conf", "/dev/null")
            .file("run/a.service.d/20-y.conf", "");
        assert!(dropins(&t, "a.service").is_empty());
    }

    #[test]
    fn hierarchical_and_type_dropins() {
        // As TEST-15-DROPIN: within one directory the more specific name wins for the same
        // file name; the type-level directory is the most generic of all.
        let t = Tree::new();
        t.file("lib/a-b-c.service", "[Service]\n");
        for d in ["service.d", "a-.service.d", "a-b-.service.d"] {
            t.file(&format!("lib/{d}/override.conf"), d);
        }
        assert_eq!(
            dropins(&t, "a-b-c.service"),
            vec!["lib/a-b-.service.d/override.conf"]
        );
        t.file("lib/a-b-c.service.d/override.conf", "own");
        assert_eq!(
            dropins(&t, "a-b-c.service"),
            vec!["lib/a-b-c.service.d/override.conf"]
        );
        // A higher-priority directory beats a more specific name.
        t.file("etc/a-.service.d/override.conf", "etc");
        assert_eq!(
            dropins(&t, "a-b-c.service"),
            vec!["etc/a-.service.d/override.conf"]
        );
        // The type-level directory loses to every named directory, even from /etc.
        t.file("etc/service.d/override.conf", "etc-type");
        t.file("etc/service.d/99-type.conf", "etc-type");
        assert_eq!(
            dropins(&t, "a-b-c.service"),
            vec![
                "etc/service.d/99-type.conf",
                "etc/a-.service.d/override.conf"
            ]
        );
    }

    #[test]
    fn template_and_alias_dropins() {
        let t = Tree::new();
        t.file("lib/getty@.service", "[Service]\n")
            .file("lib/getty@.service.d/a.conf", "t")
            .file("etc/getty@tty1.service.d/b.conf", "i")
            .link("etc/console@.service", "getty@.service")
            .file("etc/console@tty1.service.d/c.conf", "alias");
        assert_eq!(
            dropins(&t, "getty@tty1.service"),
            vec![
                "lib/getty@.service.d/a.conf",
                "etc/getty@tty1.service.d/b.conf",
                "etc/console@tty1.service.d/c.conf"
            ]
        );
    }

    #[test]
    fn wants_directories() {
        let t = Tree::new();
        t.file("lib/multi-user.target", "[Unit]\n")
            .link("etc/multi-user.target.wants/a.service", "/lib/a.service")
            .link("lib/multi-user.target.wants/b.service", "../b.service")
            .link("lib/multi-user.target.wants/a.service", "../a.service")
            .file("lib/getty@.service", "[Unit]\n")
            .link(
                "lib/getty@.service.wants/helper@.service",
                "../helper@.service",
            )
            .link("lib/getty@.service.requires/x.socket", "../x.socket");
        let l = t.lookup();
        let names = |n: &str, s: &str| -> Vec<String> {
            let r = l.resolve(&UnitName::parse(n).unwrap());
            l.dependency_dir_entries(&r.names, s)
                .into_iter()
                .map(|(u, _)| u)
                .collect()
        };
        assert_eq!(
            names("multi-user.target", ".wants"),
            vec!["a.service", "b.service"]
        );
        assert_eq!(
            names("getty@tty1.service", ".wants"),
            vec!["helper@tty1.service"]
        );
        assert_eq!(names("getty@tty1.service", ".requires"), vec!["x.socket"]);
        assert!(names("getty@tty1.service", ".upholds").is_empty());
    }

    #[test]
    fn dangling_symlink_is_a_warning() {
        let t = Tree::new();
        t.link("etc/gone.service", "/nonexistent/gone.service");
        let l = t.lookup();
        assert_eq!(l.warnings().len(), 1);
        assert!(l.warnings()[0].message.contains("dangling"));
        assert_eq!(
            l.resolve(&UnitName::parse("gone.service").unwrap())
                .fragment,
            None
        );
    }
}
