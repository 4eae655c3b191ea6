//! sd-device's enumerator (systemd 252), for `trigger`, `info --export-db` and `info
//! --tree`: which devices exist, which pass the matches, and in what order.
//!
//! Devices are found as sd-device finds them: under `bus/*/devices/` and `class/*/` (with
//! every ancestor that is a device and passes the matches, so root buses such as
//! `/devices/pci0000:00` come too), or through `/run/udev/tags/<tag>/` when a tag match is
//! set, or by walking below the parent devices when a parent match is set; "subsystems"
//! are `module/*`, `bus/*` and `bus/*/drivers/*`. Matches: subsystem and sysname globs
//! (with exclusions), attribute values (or existence), properties (any one matching),
//! every tag, parents, and whether udev has initialized the device. Order: the
//! prioritized subsystems' devices with their ancestors first (each group sorted), then
//! the rest, sorted by devpath component by component, `md`/`dm-` block devices last.
//! sd-device's sound-card rule is a no-op in 252 (it compares the wrong strings) and is
//! left out.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::sdev::{path_below, Dev};
use super::util::path_components;
use super::Env;
use crate::rules::pattern::glob;

/// Which devices `match_initialized` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Initialized {
    /// Every device.
    #[default]
    All,
    /// sd-device's default: initialized ones, and those with neither a node nor an
    /// interface (udev never writes a database entry for them).
    Compat,
    /// Only initialized ones.
    Yes,
    /// Only not initialized ones.
    No,
}

/// What to scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// Devices.
    Devices,
    /// Modules, buses and drivers.
    Subsystems,
    /// Both.
    All,
}

/// The matches of an enumeration.
#[derive(Debug, Clone, Default)]
pub struct Enumerator {
    match_subsystem: Vec<String>,
    nomatch_subsystem: Vec<String>,
    match_sysattr: Vec<(String, Vec<String>)>,
    nomatch_sysattr: Vec<(String, Vec<String>)>,
    match_property: Vec<(String, Vec<String>)>,
    match_sysname: Vec<String>,
    match_tag: Vec<String>,
    match_parent: Vec<String>,
    /// Which devices pass as initialized or not.
    pub initialized: Initialized,
    prioritized: Vec<String>,
}

fn any_glob(patterns: &[String], s: &str) -> bool {
    patterns.iter().any(|p| glob(p, s, false))
}

/// systemd's `set_fnmatch`: not excluded, and included when there are inclusions.
fn set_fnmatch(include: &[String], exclude: &[String], s: &str) -> bool {
    !any_glob(exclude, s) && (include.is_empty() || any_glob(include, s))
}

fn push_once(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// `update_match_strv`: a value adds a pattern; no value means "exists" (for attributes
/// it replaces the patterns, for properties it adds nothing, so such a match never passes).
fn update(
    map: &mut Vec<(String, Vec<String>)>,
    key: &str,
    value: Option<&str>,
    clear_on_none: bool,
) {
    match map.iter_mut().find(|(k, _)| k == key) {
        Some((_, pats)) => match value {
            Some(v) => push_once(pats, v),
            None if clear_on_none => pats.clear(),
            None => {}
        },
        None => map.push((
            key.to_string(),
            value.map(str::to_string).into_iter().collect(),
        )),
    }
}

impl Enumerator {
    /// A subsystem glob to include (`true`) or exclude.
    pub fn add_match_subsystem(&mut self, s: &str, include: bool) {
        let v = if include {
            &mut self.match_subsystem
        } else {
            &mut self.nomatch_subsystem
        };
        push_once(v, s);
    }

    /// An attribute that must (or must not) exist, or have (or not have) a value matching.
    pub fn add_match_sysattr(&mut self, attr: &str, value: Option<&str>, include: bool) {
        let m = if include {
            &mut self.match_sysattr
        } else {
            &mut self.nomatch_sysattr
        };
        update(m, attr, value, true);
    }

    /// A property name glob and value glob.
    pub fn add_match_property(&mut self, key: &str, value: Option<&str>) {
        update(&mut self.match_property, key, value, false);
    }

    /// A sysname glob.
    pub fn add_match_sysname(&mut self, s: &str) {
        push_once(&mut self.match_sysname, s);
    }

    /// A tag every device must have.
    pub fn add_match_tag(&mut self, t: &str) {
        push_once(&mut self.match_tag, t);
    }

    /// A parent (its syspath) the devices must be at or below.
    pub fn add_match_parent(&mut self, syspath: &str) {
        push_once(&mut self.match_parent, syspath);
    }

    /// Only the given parent (`sd_device_enumerator_add_match_parent`).
    pub fn set_match_parent(&mut self, syspath: &str) {
        self.match_parent.clear();
        self.add_match_parent(syspath);
    }

    /// A subsystem whose devices come first.
    pub fn add_prioritized_subsystem(&mut self, s: &str) {
        push_once(&mut self.prioritized, s);
    }

    fn match_subsystem(&self, s: &str) -> bool {
        set_fnmatch(&self.match_subsystem, &self.nomatch_subsystem, s)
    }

    fn match_sysname(&self, s: &str) -> bool {
        set_fnmatch(&self.match_sysname, &[], s)
    }

    fn match_sysattr(&self, d: &Dev) -> bool {
        let value = |a: &str| {
            d.sysattr(a)
                .ok()
                .map(|v| String::from_utf8_lossy(&v).into_owned())
        };
        let passes = |a: &str, pats: &[String]| {
            value(a).is_some_and(|v| pats.is_empty() || any_glob(pats, &v))
        };
        self.match_sysattr.iter().all(|(a, p)| passes(a, p))
            && !self.nomatch_sysattr.iter().any(|(a, p)| passes(a, p))
    }

    fn match_property(&self, d: &mut Dev) -> bool {
        if self.match_property.is_empty() {
            return true;
        }
        let props = d.properties();
        self.match_property.iter().any(|(kp, vps)| {
            props
                .iter()
                .any(|(k, v)| glob(kp, k, false) && any_glob(vps, v))
        })
    }

    fn match_parent(&self, d: &Dev) -> bool {
        self.match_parent.is_empty()
            || self
                .match_parent
                .iter()
                .any(|p| path_below(&d.syspath, p).is_some())
    }

    fn match_initialized(&self, d: &mut Dev) -> Option<bool> {
        if self.initialized == Initialized::All {
            return Some(true);
        }
        // A device without an id (no subsystem) makes sd-device fail the test.
        d.read_db().ok()?;
        let init = d.is_initialized();
        Some(match self.initialized {
            Initialized::All => true,
            Initialized::Compat => init || (d.devnum().is_none() && d.ifindex().is_none()),
            Initialized::Yes => init,
            Initialized::No => !init,
        })
    }

    fn test(&self, d: &mut Dev, sysname: bool, subsystem: bool, parent: bool, tag: bool) -> bool {
        if sysname && !self.match_sysname(&d.sysname()) {
            return false;
        }
        if subsystem && !d.subsystem().is_some_and(|s| self.match_subsystem(&s)) {
            return false;
        }
        if parent && !self.match_parent(d) {
            return false;
        }
        if tag && !self.match_tag.is_empty() {
            let tags = d.tags();
            if !self.match_tag.iter().all(|t| tags.contains(t)) {
                return false;
            }
        }
        self.match_initialized(d) == Some(true) && self.match_property(d) && self.match_sysattr(d)
    }

    fn entries(dir: &Path) -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut v: Vec<String> = rd
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir() || t.is_symlink()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        v.sort();
        v
    }

    fn add(found: &mut HashMap<String, Dev>, d: Dev) -> bool {
        match found.entry(d.syspath.clone()) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(d);
                true
            }
        }
    }

    /// Adds the ancestors of `d` that pass the matches. In a scan (`walked` given) the
    /// walk ends at the first ancestor whose own ancestors were walked already (every
    /// device found, and every ancestor looked at), before reading anything of it.
    fn add_parents(
        &self,
        env: &Env,
        found: &mut HashMap<String, Dev>,
        d: &Dev,
        mut walked: Option<&mut HashSet<String>>,
    ) {
        let parent = walked.is_some();
        let mut cur = d.clone();
        loop {
            let seen = |w: &Option<&mut HashSet<String>>, syspath: &str| {
                w.as_ref().is_some_and(|w| w.contains(syspath))
            };
            if cur
                .syspath
                .rsplit_once('/')
                .is_some_and(|(up, _)| seen(&walked, up))
            {
                break;
            }
            let Some(mut p) = cur.parent(env) else { break };
            if seen(&walked, &p.syspath) {
                break;
            }
            if let Some(w) = walked.as_deref_mut() {
                w.insert(p.syspath.clone());
            }
            if self.test(&mut p, true, true, parent, true) && !Enumerator::add(found, p.clone()) {
                break;
            }
            cur = p;
        }
    }

    /// `bus/*/devices/*` style: the entries of `rel` (below the sysfs root).
    fn scan_dir_and_add(
        &self,
        env: &Env,
        found: &mut HashMap<String, Dev>,
        walked: &mut HashSet<String>,
        rel: &str,
    ) {
        for name in Enumerator::entries(&env.sys.join(rel)) {
            if !self.match_sysname(&name) {
                continue;
            }
            let Ok(mut d) = Dev::from_syspath(env, &format!("/sys/{rel}/{name}")) else {
                continue;
            };
            if !self.test(&mut d, false, true, true, true) {
                continue;
            }
            let dc = d.clone();
            walked.insert(d.syspath.clone());
            Enumerator::add(found, d);
            self.add_parents(env, found, &dc, Some(walked));
        }
    }

    fn scan_dir(
        &self,
        env: &Env,
        found: &mut HashMap<String, Dev>,
        walked: &mut HashSet<String>,
        base: &str,
        sub: Option<&str>,
        subsystem: Option<&str>,
    ) {
        for name in Enumerator::entries(&env.sys.join(base)) {
            if !self.match_subsystem(subsystem.unwrap_or(&name)) {
                continue;
            }
            let rel = match sub {
                Some(s) => format!("{base}/{name}/{s}"),
                None => format!("{base}/{name}"),
            };
            self.scan_dir_and_add(env, found, walked, &rel);
        }
    }

    fn scan_tags(&self, env: &Env, found: &mut HashMap<String, Dev>) {
        for tag in &self.match_tag {
            let Ok(rd) = std::fs::read_dir(env.run.join("tags").join(tag)) else {
                continue;
            };
            let mut ids: Vec<String> = rd
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect();
            ids.sort();
            for id in ids.iter().filter(|i| !i.starts_with('.')) {
                let Ok(mut d) = Dev::from_device_id(env, id) else {
                    continue;
                };
                if self.test(&mut d, true, true, true, false) {
                    Enumerator::add(found, d);
                }
            }
        }
    }

    fn scan_children(&self, env: &Env, found: &mut HashMap<String, Dev>) {
        let mut stack: Vec<String> = Vec::new();
        let add_child = |found: &mut HashMap<String, Dev>, path: &str, sysname: bool| {
            if let Ok(mut d) = Dev::from_syspath(env, path) {
                if self.test(&mut d, sysname, true, false, true) {
                    Enumerator::add(found, d);
                }
            }
        };
        let crawl = |found: &mut HashMap<String, Dev>, stack: &mut Vec<String>, path: &str| {
            let host = env.sys.join(path_below(path, "/sys").unwrap_or_default());
            let Ok(rd) = std::fs::read_dir(host) else {
                return;
            };
            let mut names: Vec<String> = rd
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.'))
                .collect();
            names.sort();
            for n in names {
                let child = format!("{path}/{n}");
                if self.match_sysname(&n) {
                    add_child(found, &child, false);
                }
                stack.push(child);
            }
        };
        for p in &self.match_parent {
            add_child(found, p, true);
            crawl(found, &mut stack, p);
        }
        while let Some(p) = stack.pop() {
            crawl(found, &mut stack, &p);
        }
    }

    fn scan_subsystems(
        &self,
        env: &Env,
        found: &mut HashMap<String, Dev>,
        walked: &mut HashSet<String>,
    ) {
        if self.match_subsystem("module") {
            self.scan_dir_and_add(env, found, walked, "module");
        }
        if self.match_subsystem("subsystem") {
            self.scan_dir_and_add(env, found, walked, "bus");
        }
        if self.match_subsystem("drivers") {
            self.scan_dir(env, found, walked, "bus", Some("drivers"), Some("drivers"));
        }
    }

    /// Scans and returns the devices in sd-device's order.
    pub fn scan(&self, env: &Env, what: Scan) -> Vec<Dev> {
        let mut found = HashMap::new();
        let mut walked = HashSet::new();
        let devices = matches!(what, Scan::Devices | Scan::All);
        if devices && !self.match_tag.is_empty() {
            self.scan_tags(env, &mut found);
        } else if devices && !self.match_parent.is_empty() {
            self.scan_children(env, &mut found);
        } else {
            if devices {
                self.scan_dir(env, &mut found, &mut walked, "bus", Some("devices"), None);
                self.scan_dir(env, &mut found, &mut walked, "class", None, None);
            }
            if matches!(what, Scan::Subsystems | Scan::All) {
                self.scan_subsystems(env, &mut found, &mut walked);
            }
        }
        self.sorted(found)
    }

    /// [`Enumerator::scan`] of devices, plus the ancestors of `below` that pass the matches
    /// other than the parent match (`device_enumerator_add_parent_devices`, for `--tree`).
    pub fn scan_with_parents_of(&self, env: &Env, what: Scan, below: &Dev) -> Vec<Dev> {
        let mut found: HashMap<String, Dev> = self
            .scan(env, what)
            .into_iter()
            .map(|d| (d.syspath.clone(), d))
            .collect();
        self.add_parents(env, &mut found, below, None);
        self.sorted(found)
    }

    fn sorted(&self, mut found: HashMap<String, Dev>) -> Vec<Dev> {
        let late = |d: &Dev| d.devpath.contains("/block/md") || d.devpath.contains("/block/dm-");
        // The key of each device made once, not per comparison: md/dm last, then
        // `path_compare` of the devpaths (all absolute: their components decide).
        let sort = |v: &mut Vec<Dev>| {
            let mut keyed: Vec<(bool, Vec<String>, Dev)> = v
                .drain(..)
                .map(|d| {
                    let parts = path_components(&d.devpath).map(str::to_string).collect();
                    (late(&d), parts, d)
                })
                .collect();
            keyed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            v.extend(keyed.into_iter().map(|(_, _, d)| d));
        };
        // (The devices found are keyed by hash: their order is made here alone.)
        let mut out = Vec::new();
        for sub in &self.prioritized {
            let mut group = Vec::new();
            let keys: Vec<String> = found.keys().cloned().collect();
            for k in keys {
                let Some(d) = found.get_mut(&k) else { continue };
                if d.subsystem().as_deref() != Some(sub.as_str()) {
                    continue;
                }
                // The device and its ancestors that were found.
                let mut path = k.clone();
                loop {
                    if let Some(d) = found.remove(&path) {
                        group.push(d);
                    }
                    match path.rsplit_once('/') {
                        Some((head, _)) if !head.is_empty() => path = head.to_string(),
                        _ => break,
                    }
                }
            }
            sort(&mut group);
            out.extend(group);
        }
        let mut rest: Vec<Dev> = found.into_values().collect();
        sort(&mut rest);
        out.extend(rest);
        out
    }
}
