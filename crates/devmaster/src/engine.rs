//! The rule engine: parsed rules applied to one event as udevd (systemd 252, udev(7))
//! applies them, with every effect returned as data in an [`Outcome`].
//!
//! Pure: programs, files, the database, the kernel command line, builtins, sysctl reads,
//! `TEST` and user/group names are reached through the caller's [`Host`]; nothing here
//! spawns, reads or writes.
//!
//! Behaviour followed (udevd's `udev_rules_apply_to_event`):
//! - files in order, lines in order; a line's tokens in udev's evaluation order (the parser
//!   sorts them); the first failing match ends the line; a line that only matches (no
//!   assignment, no GOTO, no PROGRAM/IMPORT) is skipped without evaluation;
//! - `OPTIONS+="string_escape=..."` holds for the rest of its line only;
//! - `KERNELS`/`SUBSYSTEMS`/`DRIVERS`/`ATTRS`/`TAGS` of a line are tried on the device, then
//!   on each parent upwards; all of them must match the same device, which becomes the
//!   "matched parent" (`%b`, `$driver`, the `%s{}` fallback) until the next parent walk;
//! - a GOTO of a line whose tokens all matched jumps to its label, later in the same file;
//! - `ATTR{}` of a missing attribute fails the match whatever the operator; `SYSCTL{}` and
//!   `ENV{}` of a missing value compare as "";
//! - `PROGRAM` clears the previous result; a failing program fails `==` (matches `!=`); its
//!   output loses trailing newlines and characters outside udev's allowed set;
//! - `IMPORT{...}` behaves as a match on success; run-once builtins (`net_id`,
//!   `net_setup_link`, `path_id`, `usb_id`) run at most once per event and later IMPORTs of
//!   them repeat the first result;
//! - `NAME` applies only to devices with an `IFINDEX`; `SYMLINK` only to devices with a
//!   device number; `:=` makes NAME, SYMLINK, OWNER, GROUP, MODE, RUN and watch final;
//! - `TAG` names must be `[A-Za-z0-9_-]` (an empty one is kept, as udevd does); `TAG=`
//!   clears the tags first;
//! - `RUN` commands are kept once each (udev keys them by command line).

use std::collections::{BTreeMap, BTreeSet};

use crate::rules::pattern::{self, Pattern};
use crate::rules::subst::{self, Device, Event, StringEscape, Sysfs};
use crate::rules::syntax::{
    AssignOp, AttrName, Builtin, ConstKey, Id, ImportKind, MatchKey, MatchOp, Mode, NameKind,
    RuleLine, RuleOption, RulesFile, RunKind, Token,
};

/// What the engine needs from the world, implemented by the worker (and by fakes in tests).
pub trait Host {
    /// Other devices, for `[subsystem/sysname]attr`.
    fn sysfs(&self) -> &dyn Sysfs;
    /// The syspath (`/sys/...`) of the device `subsystem`/`sysname`.
    fn syspath_of(&self, subsystem: &str, sysname: &str) -> Option<String>;
    /// Runs a command line (udev's program lookup and timeout are the host's) and returns
    /// its standard output; `Err` with a reason when it fails, times out or exits non-zero.
    fn run_program(&self, command: &str) -> Result<String, String>;
    /// [`Host::run_program`] for the event device as the rules left it so far: udev gives
    /// the program the device's current properties as its environment.
    fn run_program_for(&self, command: &str, device: &dyn Device) -> Result<String, String> {
        let _ = device;
        self.run_program(command)
    }
    /// Contents of a file (`IMPORT{file}`), `None` when it cannot be read.
    fn read_file(&self, path: &str) -> Option<String>;
    /// A property from the event device's database entry (`IMPORT{db}`).
    fn db_property(&self, key: &str) -> Option<String>;
    /// The kernel command line (`IMPORT{cmdline}`).
    fn cmdline(&self) -> Option<String>;
    /// Runs a builtin on `device` (current properties visible); returns the properties it
    /// sets (`None` removes), or `Err` when it fails.
    fn builtin(
        &self,
        builtin: Builtin,
        command: &str,
        device: &dyn Device,
    ) -> Result<PropertyChanges, String>;
    /// A sysctl value (`SYSCTL{}==`), by its `/`-separated name below `/proc/sys`.
    fn sysctl(&self, name: &str) -> Option<String>;
    /// The `st_mode` of a path (`TEST`, following symlinks), `None` when it does not exist.
    fn file_mode(&self, path: &str) -> Option<u32>;
    /// The names in a directory (for `/*/` in `TEST` and `ATTR{}` paths), `None` when it
    /// cannot be read.
    fn read_dir(&self, path: &str) -> Option<Vec<String>>;
    /// `CONST{arch}` / `CONST{virt}`.
    fn const_value(&self, key: ConstKey) -> String;
    /// A user name to its uid.
    fn user(&self, name: &str) -> Option<u32>;
    /// A group name to its gid.
    fn group(&self, name: &str) -> Option<u32>;
    /// Carries out an `ATTR{}=` (a `/sys/...` path) or `SYSCTL{}=` (a `/proc/sys/...`
    /// path) assignment as the rule runs: udevd writes at once, so later rules, programs
    /// and builtins of the same event see the new value. A host reports its own failures;
    /// the default does nothing (dry runs such as `devctl test`).
    fn write(&self, path: &str, value: &str) {
        let _ = (path, value);
    }
}

/// Properties to set (`Some`) or remove (`None`), in order.
pub type PropertyChanges = Vec<(String, Option<String>)>;

/// A write the worker is to perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// `/sys/...` for `ATTR{}`, `/proc/sys/...` for `SYSCTL{}`.
    pub path: String,
    /// The value.
    pub value: String,
}

/// A `RUN` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Program or builtin.
    pub kind: RunKind,
    /// The expanded command line.
    pub command: String,
}

/// What one rule line did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLine {
    /// The rules file.
    pub file: String,
    /// Its line.
    pub line: usize,
    /// Whether all tokens matched (its assignments applied).
    pub matched: bool,
    /// What happened, one note per token that did something or went wrong.
    pub notes: Vec<String>,
}

/// The result of applying the rules to one event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The device's properties after the rules.
    pub properties: BTreeMap<String, String>,
    /// The current tags.
    pub tags: BTreeSet<String>,
    /// `NAME=` (network interface rename), if any.
    pub name: Option<String>,
    /// A `TAG=` assignment ran: as in udevd, it also drops the tags the device had from
    /// earlier events, so `TAGS` then holds only this event's.
    pub tags_reset: bool,
    /// Symlinks (absolute, under `/dev`).
    pub devlinks: BTreeSet<String>,
    /// `OPTIONS+="link_priority=N"`.
    pub link_priority: i32,
    /// Node owner.
    pub owner: Option<u32>,
    /// Node group.
    pub group: Option<u32>,
    /// Node mode.
    pub mode: Option<u32>,
    /// `SECLABEL{module}` values.
    pub seclabels: Vec<(String, String)>,
    /// `ATTR{}=` writes, in rule order (done through [`Host::write`] as the rules ran).
    pub attr_writes: Vec<Write>,
    /// `SYSCTL{}=` writes, in rule order.
    pub sysctl_writes: Vec<Write>,
    /// `RUN` list, in order.
    pub run: Vec<Run>,
    /// `OPTIONS+="watch"` / `"nowatch"`.
    pub watch: Option<bool>,
    /// `OPTIONS+="db_persist"`.
    pub db_persist: bool,
    /// `OPTIONS+="log_level=..."`: `Some(None)` is `reset`.
    pub log_level: Option<Option<u8>>,
    /// The event device's driver when it was read from its `driver` link (the uevent
    /// named none) and so added to the properties: as sd-device's, such a `DRIVER` is no
    /// property of the database.
    pub driver_read: Option<String>,
    /// What each evaluated line did (lines that failed a plain match are not listed).
    pub trace: Vec<TraceLine>,
}

const RUN_ONCE: [Builtin; 4] = [
    Builtin::NetId,
    Builtin::NetSetupLink,
    Builtin::PathId,
    Builtin::UsbId,
];

/// The event device as rules see it: the sysfs facts with the event's current properties
/// and links.
struct View<'a> {
    base: &'a dyn Device,
    props: &'a BTreeMap<String, String>,
    links: &'a BTreeSet<String>,
    tags: &'a BTreeSet<String>,
}

impl Device for View<'_> {
    fn sysname(&self) -> String {
        self.base.sysname()
    }
    fn sysnum(&self) -> Option<String> {
        self.base.sysnum()
    }
    fn devpath(&self) -> String {
        self.base.devpath()
    }
    fn subsystem(&self) -> Option<String> {
        self.base.subsystem()
    }
    fn driver(&self) -> Option<String> {
        self.base.driver()
    }
    fn devnode(&self) -> Option<String> {
        self.props
            .get("DEVNAME")
            .cloned()
            .or_else(|| self.base.devnode())
    }
    fn devnum(&self) -> Option<(u32, u32)> {
        self.base.devnum()
    }
    fn property(&self, key: &str) -> Option<String> {
        self.props.get(key).cloned()
    }
    fn sysattr(&self, attr: &str) -> Option<String> {
        self.base.sysattr(attr)
    }
    fn parent(&self) -> Option<&dyn Device> {
        self.base.parent()
    }
    fn devlinks(&self) -> Vec<String> {
        self.links.iter().cloned().collect()
    }
    fn properties(&self) -> BTreeMap<String, String> {
        self.props.clone()
    }
    fn tags(&self) -> Vec<String> {
        self.tags.iter().cloned().collect()
    }
}

struct State<'a> {
    dev: &'a dyn Device,
    host: &'a dyn Host,
    out: Outcome,
    esc: StringEscape,
    /// The matched parent: 0 is the device itself.
    parent_depth: Option<usize>,
    program_result: Option<String>,
    name_final: bool,
    devlink_final: bool,
    owner_final: bool,
    group_final: bool,
    mode_final: bool,
    run_final: bool,
    watch_final: bool,
    builtin_run: BTreeSet<&'static str>,
    builtin_failed: BTreeSet<&'static str>,
    notes: Vec<String>,
    tracing: bool,
    /// Facts of the event device that every line consults, read once (udevd reads them
    /// from the device, not from properties rules may have changed).
    fixed: Fixed,
}

/// See [`State::fixed`].
struct Fixed {
    remove: bool,
    has_devnum: bool,
    has_ifindex: bool,
    sysname: String,
    devpath: String,
    /// What `ACTION` and `SUBSYSTEM` match: the device's action and subsystem, as udev
    /// reads them (`sd_device_get_action`/`_subsystem`), not the properties that
    /// `ENV{ACTION}=`/`ENV{SUBSYSTEM}=` can change. Read once: most lines test one.
    action: Option<String>,
    subsystem: Option<String>,
}

fn nth_parent(dev: &dyn Device, depth: usize) -> Option<&dyn Device> {
    let mut d = dev;
    for _ in 0..depth {
        d = d.parent()?;
    }
    Some(d)
}

fn matches(pattern: &Pattern, op: MatchOp, value: Option<&str>) -> bool {
    pattern.matches(value.unwrap_or("")) == (op == MatchOp::Match)
}

/// udev's `sysctl_normalize`: when the first separator is a `.`, dots and slashes swap.
fn sysctl_normalize(name: &str) -> String {
    let name = name.trim_start_matches('/');
    match name.find(['.', '/']) {
        Some(i) if name.as_bytes().get(i) == Some(&b'.') => name
            .chars()
            .map(|c| match c {
                '.' => '/',
                '/' => '.',
                c => c,
            })
            .collect(),
        _ => name.to_string(),
    }
}

/// udev's parsing of imported lines: `KEY=VALUE` with optional matching quotes around the
/// value. `Ok(None)` for blank and comment lines; no key or no value is an error (the line
/// is ignored).
fn property_assignment(line: &str) -> Result<Option<(String, String)>, ()> {
    let line = line.trim_start();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (key, val) = line.split_once('=').ok_or(())?;
    let key = key.trim();
    if key.is_empty() {
        return Err(());
    }
    let val = val.trim();
    if val.is_empty() {
        return Err(());
    }
    let val = match val.chars().next() {
        Some(q @ ('"' | '\'')) => {
            if val.len() == 1 || !val.ends_with(q) {
                return Err(());
            }
            val.get(1..val.len() - 1).unwrap_or_default()
        }
        _ => val,
    };
    Ok(Some((key.to_string(), val.to_string())))
}

/// The words of the kernel command line, with double quotes grouping (and removed), as
/// the kernel splits it.
pub(crate) fn cmdline_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// udev's line types: which lines are worth evaluating for an event.
struct LineKind {
    name: bool,
    devlink: bool,
    update: bool,
}

fn line_kind(line: &RuleLine) -> LineKind {
    let mut k = LineKind {
        name: false,
        devlink: false,
        update: false,
    };
    for t in &line.tokens {
        match t {
            Token::Name { .. } => k.name = true,
            Token::Symlink { .. }
            | Token::Owner { .. }
            | Token::Group { .. }
            | Token::Mode { .. } => k.devlink = true,
            Token::Options {
                option: RuleOption::StaticNode(_),
                ..
            }
            | Token::Match { .. }
            | Token::Test { .. } => {}
            _ => k.update = true,
        }
    }
    k
}

fn is_parent_token(t: &Token) -> bool {
    matches!(
        t,
        Token::Match {
            key: MatchKey::Kernels
                | MatchKey::Subsystems
                | MatchKey::Drivers
                | MatchKey::Attrs(_)
                | MatchKey::Tags,
            ..
        }
    )
}

impl<'a> State<'a> {
    fn with_event<R>(&self, f: impl FnOnce(&Event<'_>) -> R) -> R {
        let view = View {
            base: self.dev,
            props: &self.out.properties,
            links: &self.out.devlinks,
            tags: &self.out.tags,
        };
        let parent = self.parent_depth.and_then(|d| nth_parent(self.dev, d));
        let ev = Event {
            device: &view,
            matched_parent: parent,
            name: self.out.name.as_deref(),
            program_result: self.program_result.as_deref(),
            sysfs: self.host.sysfs(),
        };
        f(&ev)
    }

    /// Records what a token did, when tracing.
    fn note(&mut self, f: impl FnOnce() -> String) {
        if self.tracing {
            self.notes.push(f());
        }
    }

    fn note_error(&mut self, e: subst::Expanded) -> String {
        if let Some(err) = e.error {
            self.note(|| err);
        }
        e.value
    }

    fn expand(&mut self, template: &str) -> String {
        let e = self.with_event(|ev| subst::apply(template, ev, false));
        self.note_error(e)
    }

    fn syspath(&self) -> String {
        format!("/sys{}", self.dev.devpath())
    }

    fn set_property(&mut self, key: &str, value: Option<String>) {
        match value {
            Some(v) => {
                self.note(|| format!("ENV{{{key}}}=\"{v}\""));
                self.out.properties.insert(key.to_string(), v);
            }
            None => {
                self.note(|| format!("ENV{{{key}}} removed"));
                self.out.properties.remove(key);
            }
        }
    }

    fn import_lines(&mut self, text: &str) {
        for line in text.lines() {
            match property_assignment(line) {
                Ok(Some((k, v))) => self.set_property(&k, Some(v)),
                Ok(None) => {}
                Err(()) => {
                    self.note(|| format!("Failed to parse key and value from '{line}', ignoring"))
                }
            }
        }
    }

    /// `ATTR{}`/`ATTRS{}` on `dev`.
    fn match_attr(&mut self, dev: &dyn Device, attr: &AttrName, p: &Pattern, op: MatchOp) -> bool {
        let value = match attr.kind {
            NameKind::Plain => dev.sysattr(&attr.name),
            NameKind::Format => {
                let name = self.expand(&attr.name);
                dev.sysattr(&name)
            }
            NameKind::SubsystemKernel => subst::split_subsys_attr(&attr.name)
                .filter(|(_, _, a)| !a.is_empty())
                .and_then(|(s, n, a)| self.host.sysfs().subsystem_sysattr(s, n, a)),
        };
        let Some(mut value) = value else {
            return false;
        };
        if attr.trim_value {
            let n = value.trim_end_matches([' ', '\t', '\n', '\r']).len();
            value.truncate(n);
        }
        matches(p, op, Some(&value))
    }

    /// A parent token on the device `depth` levels up (0: the event device).
    fn match_parent_token(&mut self, t: &Token, depth: usize) -> bool {
        let Token::Match { key, op, pattern } = t else {
            return false;
        };
        self.match_parent_key(key, *op, pattern, depth)
    }

    fn match_parent_key(&mut self, key: &MatchKey, op: MatchOp, p: &Pattern, depth: usize) -> bool {
        let Some(dev) = nth_parent(self.dev, depth) else {
            return false;
        };
        match key {
            MatchKey::Kernels => matches(p, op, Some(&dev.sysname())),
            MatchKey::Subsystems => matches(p, op, dev.subsystem().as_deref()),
            MatchKey::Drivers if depth == 0 => {
                let driver = self.event_driver();
                matches(p, op, driver.as_deref())
            }
            MatchKey::Drivers => matches(p, op, dev.driver().as_deref()),
            MatchKey::Attrs(a) => self.match_attr(dev, a, p, op),
            MatchKey::Tags => {
                let any = if depth == 0 {
                    self.out.tags.iter().any(|t| p.matches(t))
                } else {
                    dev.tags().iter().any(|t| p.matches(t))
                };
                any == (op == MatchOp::Match)
            }
            _ => false,
        }
    }

    /// udev's parent walk for the consecutive parent tokens `ts`.
    fn parent_walk(&mut self, ts: &[Token]) -> bool {
        let mut depth = 0;
        loop {
            if nth_parent(self.dev, depth).is_none() {
                self.parent_depth = None;
                return false;
            }
            self.parent_depth = Some(depth);
            if ts.iter().all(|t| self.match_parent_token(t, depth)) {
                return true;
            }
            depth += 1;
        }
    }

    fn device_match(&mut self, key: &MatchKey, op: MatchOp, p: &Pattern) -> bool {
        let dev = self.dev;
        match key {
            MatchKey::Action => matches(p, op, self.fixed.action.as_deref()),
            MatchKey::Devpath => matches(p, op, Some(&self.fixed.devpath)),
            MatchKey::Kernel => matches(p, op, Some(&self.fixed.sysname)),
            MatchKey::Symlink => {
                let any = self
                    .out
                    .devlinks
                    .iter()
                    .any(|l| p.matches(l.strip_prefix("/dev/").unwrap_or("")));
                any == (op == MatchOp::Match)
            }
            MatchKey::Name => matches(p, op, self.out.name.as_deref()),
            MatchKey::Env(k) => matches(p, op, self.out.properties.get(k).map(|s| &**s)),
            MatchKey::Const(c) => matches(p, op, Some(&self.host.const_value(*c))),
            MatchKey::Tag => {
                let any = self.out.tags.iter().any(|t| p.matches(t));
                any == (op == MatchOp::Match)
            }
            MatchKey::Subsystem => matches(p, op, self.fixed.subsystem.as_deref()),
            MatchKey::Driver => {
                let driver = self.event_driver();
                matches(p, op, driver.as_deref())
            }
            MatchKey::Attr(a) => self.match_attr(dev, a, p, op),
            MatchKey::Sysctl(name) => {
                let name = self.expand(name);
                let v = self.host.sysctl(&sysctl_normalize(&name));
                matches(p, op, v.as_deref().map(str::trim))
            }
            MatchKey::Result => matches(p, op, self.program_result.as_deref()),
            MatchKey::Kernels
            | MatchKey::Subsystems
            | MatchKey::Drivers
            | MatchKey::Attrs(_)
            | MatchKey::Tags => self.match_parent_key(key, op, p, 0),
        }
    }

    /// The event device's driver. sd-device reads the `driver` link of a device whose
    /// uevent named none when first asked, and from then on lists `DRIVER` among its
    /// properties (so the database, `RUN` programs and listeners see it).
    fn event_driver(&mut self) -> Option<String> {
        let driver = self.dev.driver();
        if let Some(d) = &driver {
            if !self.out.properties.contains_key("DRIVER") {
                self.out.properties.insert("DRIVER".into(), d.clone());
                self.out.driver_read = Some(d.clone());
            }
        }
        driver
    }

    fn resolve_path(&self, path: &str) -> String {
        if path.starts_with('/') {
            return path.to_string();
        }
        if let Some((s, n, a)) = subst::split_subsys_attr(path) {
            if let Some(sp) = self.host.syspath_of(s, n) {
                return if a.is_empty() {
                    sp
                } else {
                    format!("{sp}/{a}")
                };
            }
        }
        format!("{}/{}", self.syspath(), path)
    }

    /// udev's `attr_subst_subdir`: the first `/*/` of a path stands for the first entry of
    /// that directory (not starting with `.`, in name order here) under which the rest
    /// exists. `None` when there is none.
    fn subst_subdir(&self, path: &str) -> Option<String> {
        let Some(i) = path.find("/*/") else {
            return Some(path.to_string());
        };
        let dir = path.get(..=i)?;
        let tail = path.get(i + 2..)?;
        let mut names = self.host.read_dir(dir)?;
        names.sort();
        names
            .into_iter()
            .filter(|n| !n.starts_with('.'))
            .map(|n| format!("{dir}{n}{tail}"))
            .find(|p| self.host.file_mode(p).is_some())
    }

    fn import(&mut self, kind: ImportKind, op: MatchOp, value: &str) -> bool {
        let ok = op == MatchOp::Match;
        match kind {
            ImportKind::File => {
                let path = self.expand(value);
                let Some(text) = self.host.read_file(&path) else {
                    self.note(|| format!("IMPORT{{file}} '{path}': cannot read"));
                    return !ok;
                };
                self.note(|| format!("IMPORT{{file}} '{path}'"));
                self.import_lines(&text);
                ok
            }
            ImportKind::Program => {
                let cmd = self.expand(value);
                let view = View {
                    base: self.dev,
                    props: &self.out.properties,
                    links: &self.out.devlinks,
                    tags: &self.out.tags,
                };
                match self.host.run_program_for(&cmd, &view) {
                    Ok(out) => {
                        self.note(|| format!("IMPORT{{program}} '{cmd}'"));
                        self.import_lines(&out);
                        ok
                    }
                    Err(e) => {
                        self.note(|| format!("IMPORT{{program}} '{cmd}' failed: {e}"));
                        !ok
                    }
                }
            }
            ImportKind::Builtin(b) => {
                let once = RUN_ONCE.contains(&b);
                if once && self.builtin_run.contains(b.name()) {
                    self.note(|| format!("Skipping builtin '{}', already run", b.name()));
                    return self.builtin_failed.contains(b.name()) != ok;
                }
                if once {
                    self.builtin_run.insert(b.name());
                }
                let cmd = self.expand(value);
                let view = View {
                    base: self.dev,
                    props: &self.out.properties,
                    links: &self.out.devlinks,
                    tags: &self.out.tags,
                };
                let r = self.host.builtin(b, &cmd, &view);
                match r {
                    Ok(props) => {
                        self.note(|| format!("IMPORT{{builtin}} '{cmd}'"));
                        for (k, v) in props {
                            self.set_property(&k, v);
                        }
                        ok
                    }
                    Err(e) => {
                        self.builtin_failed.insert(b.name());
                        self.note(|| format!("IMPORT{{builtin}} '{cmd}' failed: {e}"));
                        !ok
                    }
                }
            }
            ImportKind::Db => {
                let key = self.expand(value);
                match self.host.db_property(&key) {
                    Some(v) => {
                        self.set_property(&key, Some(v));
                        ok
                    }
                    None => !ok,
                }
            }
            ImportKind::Cmdline => {
                let key = self.expand(value);
                let line = self.host.cmdline().unwrap_or_default();
                let mut found = None;
                // As proc_cmdline_get_key: '-' and '_' are the same in the key, a key without
                // a value reads as "1", the last occurrence wins.
                let norm = |s: &str| s.replace('-', "_");
                let want = norm(&key);
                for w in cmdline_words(&line) {
                    let (k, v) = match w.split_once('=') {
                        Some((k, v)) => (k, v.to_string()),
                        None => (w.as_str(), "1".to_string()),
                    };
                    if norm(k) == want {
                        found = Some(v);
                    }
                }
                match found {
                    Some(v) => {
                        self.set_property(&key, Some(v));
                        ok
                    }
                    None => !ok,
                }
            }
            ImportKind::Parent => {
                let filter = self.expand(value);
                let Some(parent) = self.dev.parent() else {
                    return !ok;
                };
                // A filter without glob characters names one property: no need to copy
                // all of the parent's (Debian's IMPORT{parent}="ID_SEAT" runs for nearly
                // every event).
                if !filter.contains(['*', '?', '[', '\\']) {
                    if let Some(v) = parent.property(&filter) {
                        self.set_property(&filter, Some(v));
                    }
                    return ok;
                }
                for (k, v) in parent.properties() {
                    if pattern::glob(&filter, &k, false) {
                        self.set_property(&k, Some(v));
                    }
                }
                ok
            }
        }
    }

    fn set_id(&mut self, is_owner: bool, op: AssignOp, value: &Id) {
        let (fin, what) = if is_owner {
            (&mut self.owner_final, "OWNER")
        } else {
            (&mut self.group_final, "GROUP")
        };
        if *fin {
            return;
        }
        if op == AssignOp::AssignFinal {
            *fin = true;
        }
        let id = match value {
            Id::Number(n) => Some(*n),
            Id::Name(t) => {
                let name = self.expand(t);
                let id = if is_owner {
                    self.host.user(&name)
                } else {
                    self.host.group(&name)
                };
                if id.is_none() {
                    self.note(|| format!("Unknown {what} '{name}', ignoring"));
                }
                id
            }
        };
        if let Some(id) = id {
            self.note(|| format!("{what}={id}"));
            if is_owner {
                self.out.owner = Some(id);
            } else {
                self.out.group = Some(id);
            }
        }
    }

    fn assign(&mut self, t: &Token) {
        match t {
            Token::Options { op, option } => match option {
                RuleOption::StringEscapeNone => self.esc = StringEscape::None,
                RuleOption::StringEscapeReplace => self.esc = StringEscape::Replace,
                RuleOption::DbPersist => self.out.db_persist = true,
                RuleOption::Watch(w) => {
                    if !self.watch_final {
                        self.watch_final = *op == AssignOp::AssignFinal;
                        self.out.watch = Some(*w);
                    }
                }
                RuleOption::LinkPriority(p) => self.out.link_priority = *p,
                RuleOption::LogLevel(l) => self.out.log_level = Some(*l),
                RuleOption::StaticNode(_) => {}
            },
            Token::Owner { op, value } => self.set_id(true, *op, value),
            Token::Group { op, value } => self.set_id(false, *op, value),
            Token::Mode { op, value } => {
                if self.mode_final {
                    return;
                }
                if *op == AssignOp::AssignFinal {
                    self.mode_final = true;
                }
                let mode = match value {
                    Mode::Number(m) => Some(*m),
                    Mode::Template(t) => {
                        let s = self.expand(t);
                        let m = u32::from_str_radix(s.trim(), 8)
                            .ok()
                            .filter(|m| *m <= 0o7777);
                        if m.is_none() {
                            self.note(|| format!("Failed to parse mode '{s}', ignoring"));
                        }
                        m
                    }
                };
                if let Some(m) = mode {
                    self.note(|| format!("MODE={m:#o}"));
                    self.out.mode = Some(m);
                }
            }
            Token::Tag { op, value } => {
                let tag = self.expand(value);
                if *op == AssignOp::Assign {
                    self.out.tags.clear();
                    self.out.tags_reset = true;
                }
                // As udevd 252: an empty name passes this check and becomes an empty tag
                // (which `TAGS=="|foo"` matches); it is never written to the database.
                if !tag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    self.note(|| format!("Invalid tag name '{tag}', ignoring"));
                    return;
                }
                if *op == AssignOp::Remove {
                    self.out.tags.remove(&tag);
                    self.note(|| format!("TAG-=\"{tag}\""));
                } else {
                    self.note(|| format!("TAG+=\"{tag}\""));
                    self.out.tags.insert(tag);
                }
            }
            Token::Seclabel { module, op, value } => {
                let mut label = self.expand(value);
                if label.is_empty() {
                    label = value.clone();
                }
                if *op == AssignOp::Assign {
                    self.out.seclabels.clear();
                }
                self.out.seclabels.retain(|(m, _)| m != module);
                self.out.seclabels.push((module.clone(), label));
            }
            Token::Env { key, op, value } => {
                if value.is_empty() {
                    if *op != AssignOp::Add {
                        self.set_property(key, None);
                    }
                    return;
                }
                let esc = self.esc;
                let e = self.with_event(|ev| subst::expand_env(value, ev, esc));
                let new = self.note_error(e);
                let v = match (op, self.out.properties.get(key)) {
                    (AssignOp::Add, Some(old)) => format!("{old} {new}"),
                    _ => new,
                };
                self.set_property(key, Some(v));
            }
            Token::Name { op, value } => {
                if self.name_final {
                    return;
                }
                if *op == AssignOp::AssignFinal {
                    self.name_final = true;
                }
                if !self.out.properties.contains_key("IFINDEX") {
                    self.note(|| {
                        format!("Only network interfaces can be renamed, ignoring NAME=\"{value}\"")
                    });
                    return;
                }
                let esc = self.esc;
                let e = self.with_event(|ev| subst::expand_name(value, ev, esc));
                let name = self.note_error(e);
                self.note(|| format!("NAME=\"{name}\""));
                self.out.name = Some(name);
            }
            Token::Symlink { op, value } => {
                if self.devlink_final || self.dev.devnum().is_none() {
                    return;
                }
                if *op == AssignOp::AssignFinal {
                    self.devlink_final = true;
                }
                if matches!(op, AssignOp::Assign | AssignOp::AssignFinal) {
                    self.out.devlinks.clear();
                }
                let esc = self.esc;
                let e = self.with_event(|ev| subst::expand_symlink(value, ev, esc));
                let links = self.note_error(e);
                for word in links.split(' ').filter(|w| !w.is_empty()) {
                    let path = normalize_link(word);
                    if *op == AssignOp::Remove {
                        self.note(|| format!("SYMLINK-=\"{path}\""));
                        self.out.devlinks.remove(&path);
                    } else {
                        self.note(|| format!("SYMLINK+=\"{path}\""));
                        self.out.devlinks.insert(path);
                    }
                }
            }
            Token::Attr { attr, value, .. } => {
                let path = match subst::split_subsys_attr(attr)
                    .and_then(|(s, n, a)| Some((self.host.syspath_of(s, n)?, a)))
                {
                    Some((sp, "")) => sp,
                    Some((sp, a)) => format!("{sp}/{a}"),
                    None => format!("{}/{}", self.syspath(), attr),
                };
                let Some(path) = self.subst_subdir(&path) else {
                    self.note(|| format!("Could not find file matches '{path}', ignoring"));
                    return;
                };
                let value = self.expand(value);
                self.note(|| format!("ATTR '{path}' <- \"{value}\""));
                self.host.write(&path, &value);
                self.out.attr_writes.push(Write { path, value });
            }
            Token::Sysctl { attr, value, .. } => {
                let name = self.expand(attr);
                let value = self.expand(value);
                let path = format!("/proc/sys/{}", sysctl_normalize(&name));
                self.note(|| format!("SYSCTL '{path}' <- \"{value}\""));
                self.host.write(&path, &value);
                self.out.sysctl_writes.push(Write { path, value });
            }
            Token::Run { kind, op, value } => {
                if self.run_final {
                    return;
                }
                if *op == AssignOp::AssignFinal {
                    self.run_final = true;
                }
                if matches!(op, AssignOp::Assign | AssignOp::AssignFinal) {
                    self.out.run.clear();
                }
                let command = self.expand(value);
                self.note(|| format!("RUN \"{command}\""));
                if !self
                    .out
                    .run
                    .iter()
                    .any(|r| r.command == command && r.kind == *kind)
                {
                    self.out.run.push(Run {
                        kind: *kind,
                        command,
                    });
                }
            }
            Token::Match { .. }
            | Token::Test { .. }
            | Token::Program { .. }
            | Token::Import { .. } => {}
        }
    }

    /// Evaluates a non-parent token; `false` ends the line.
    fn token(&mut self, t: &Token) -> bool {
        match t {
            Token::Match { key, op, pattern } => self.device_match(key, *op, pattern),
            Token::Test { mode, op, path } => {
                let p = self.expand(path);
                let p = self.resolve_path(&p);
                let Some(p) = self.subst_subdir(&p) else {
                    return *op == MatchOp::NoMatch;
                };
                let found = match self.host.file_mode(&p) {
                    Some(m) => mode.is_none_or(|want| m & want != 0),
                    None => false,
                };
                found == (*op == MatchOp::Match)
            }
            Token::Program { op, command } => {
                self.program_result = None;
                let cmd = self.expand(command);
                let view = View {
                    base: self.dev,
                    props: &self.out.properties,
                    links: &self.out.devlinks,
                    tags: &self.out.tags,
                };
                match self.host.run_program_for(&cmd, &view) {
                    Ok(out) => {
                        let out = out.trim_end_matches('\n');
                        let (out, _) = subst::replace_chars(out, subst::ALLOWED_CHARS_INPUT);
                        self.note(|| format!("PROGRAM '{cmd}' -> \"{out}\""));
                        self.program_result = Some(out);
                        *op == MatchOp::Match
                    }
                    Err(e) => {
                        self.note(|| format!("PROGRAM '{cmd}' failed: {e}"));
                        *op == MatchOp::NoMatch
                    }
                }
            }
            Token::Import { kind, op, value } => self.import(*kind, *op, value),
            other => {
                self.assign(other);
                true
            }
        }
    }

    /// One line; returns where to jump.
    fn line(&mut self, file: &RulesFile, line: &RuleLine) -> Option<usize> {
        // Like udevd, skip lines that cannot change anything for this event: NAME only
        // counts for network interfaces, SYMLINK/OWNER/GROUP/MODE only for device nodes,
        // and neither on "remove".
        let kind = line_kind(line);
        let f = &self.fixed;
        let applies = line.goto.is_some()
            || kind.update
            || (kind.devlink && !f.remove && f.has_devnum)
            || (kind.name && !f.remove && f.has_ifindex);
        if !applies {
            return None;
        }
        self.esc = StringEscape::Unset;
        let mut matched = true;
        let mut i = 0;
        while let Some(t) = line.tokens.get(i) {
            if is_parent_token(t) {
                let n = line
                    .tokens
                    .iter()
                    .skip(i)
                    .take_while(|t| is_parent_token(t))
                    .count();
                let group = line.tokens.get(i..i + n).unwrap_or_default();
                if !self.parent_walk(group) {
                    matched = false;
                    break;
                }
                if self.tracing {
                    let on = self
                        .parent_depth
                        .and_then(|d| nth_parent(self.dev, d))
                        .map(|p| p.devpath())
                        .unwrap_or_default();
                    for t in group {
                        let d = describe_match(t);
                        self.note(|| format!("{d} (on {on})"));
                    }
                }
                i += n;
                continue;
            }
            if !self.token(t) {
                matched = false;
                break;
            }
            if self.tracing && matches!(t, Token::Match { .. } | Token::Test { .. }) {
                let d = describe_match(t);
                self.note(|| d);
            }
            i += 1;
        }
        let notes = std::mem::take(&mut self.notes);
        if self.tracing && (matched || !notes.is_empty()) {
            self.out.trace.push(TraceLine {
                file: file.path.clone(),
                line: line.line,
                matched,
                notes,
            });
        }
        if matched {
            line.goto.as_ref().map(|g| g.target)
        } else {
            None
        }
    }
}

/// A match token as written (`KERNEL=="sd*"`), for the trace.
fn describe_match(t: &Token) -> String {
    let op = |op: &MatchOp| if *op == MatchOp::Match { "==" } else { "!=" };
    match t {
        Token::Match {
            key,
            op: o,
            pattern,
        } => {
            let k = match key {
                MatchKey::Action => "ACTION".to_string(),
                MatchKey::Devpath => "DEVPATH".to_string(),
                MatchKey::Kernel => "KERNEL".to_string(),
                MatchKey::Symlink => "SYMLINK".to_string(),
                MatchKey::Name => "NAME".to_string(),
                MatchKey::Env(e) => format!("ENV{{{e}}}"),
                MatchKey::Const(ConstKey::Arch) => "CONST{arch}".to_string(),
                MatchKey::Const(ConstKey::Virt) => "CONST{virt}".to_string(),
                MatchKey::Tag => "TAG".to_string(),
                MatchKey::Subsystem => "SUBSYSTEM".to_string(),
                MatchKey::Driver => "DRIVER".to_string(),
                MatchKey::Attr(a) => format!("ATTR{{{}}}", a.name),
                MatchKey::Sysctl(s) => format!("SYSCTL{{{s}}}"),
                MatchKey::Kernels => "KERNELS".to_string(),
                MatchKey::Subsystems => "SUBSYSTEMS".to_string(),
                MatchKey::Drivers => "DRIVERS".to_string(),
                MatchKey::Attrs(a) => format!("ATTRS{{{}}}", a.name),
                MatchKey::Tags => "TAGS".to_string(),
                MatchKey::Result => "RESULT".to_string(),
            };
            format!("{k}{}\"{}\"", op(o), pattern.source)
        }
        Token::Test { mode, op: o, path } => match mode {
            Some(m) => format!("TEST{{{m:o}}}{}\"{path}\"", op(o)),
            None => format!("TEST{}\"{path}\"", op(o)),
        },
        _ => String::new(),
    }
}

/// `/dev/` + the link (as udevd builds it, even when the link starts with `/dev/`), with
/// repeated slashes, `.` elements and a trailing slash removed.
fn normalize_link(word: &str) -> String {
    let parts: Vec<&str> = word
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/dev/{}", parts.join("/"))
}

/// Applies `files` to the event on `device` (whose properties include the event's `ACTION`,
/// `SEQNUM`, ...). [`Outcome::trace`] stays empty: see [`apply_traced`].
pub fn apply(files: &[RulesFile], device: &dyn Device, host: &dyn Host) -> Outcome {
    run(files, device, host, false)
}

/// [`apply`], also recording in [`Outcome::trace`] what each rule line did (for
/// `devctl test`): the matches of each line that matched, the parent it matched on, every
/// assignment, program and import, and the problems met.
pub fn apply_traced(files: &[RulesFile], device: &dyn Device, host: &dyn Host) -> Outcome {
    run(files, device, host, true)
}

fn run(files: &[RulesFile], device: &dyn Device, host: &dyn Host, tracing: bool) -> Outcome {
    let mut st = State {
        dev: device,
        host,
        out: Outcome {
            properties: device.properties(),
            tags: device.tags().into_iter().collect(),
            devlinks: device.devlinks().into_iter().collect(),
            ..Outcome::default()
        },
        esc: StringEscape::Unset,
        parent_depth: None,
        program_result: None,
        name_final: false,
        devlink_final: false,
        owner_final: false,
        group_final: false,
        mode_final: false,
        run_final: false,
        watch_final: false,
        builtin_run: BTreeSet::new(),
        builtin_failed: BTreeSet::new(),
        notes: Vec::new(),
        tracing,
        fixed: Fixed {
            remove: false,
            has_devnum: device.devnum().is_some(),
            has_ifindex: false,
            sysname: device.sysname(),
            devpath: device.devpath(),
            action: None,
            subsystem: device.subsystem(),
        },
    };
    st.fixed.action = st.out.properties.get("ACTION").cloned();
    st.fixed.remove = st.fixed.action.as_deref() == Some("remove");
    st.fixed.has_ifindex = st.out.properties.contains_key("IFINDEX");
    for file in files {
        let mut i = 0;
        while let Some(line) = file.lines.get(i) {
            i = match st.line(file, line) {
                // GOTO targets are always later lines; anything else just moves on.
                Some(t) if t > i => t,
                _ => i + 1,
            };
        }
    }
    st.out
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
