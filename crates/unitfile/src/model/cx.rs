//! The setters every section uses: each parses one assignment into a typed slot, expands
//! specifiers where systemd does, resets on an empty value where systemd does (lists,
//! strings, paths and a few numbers; an empty boolean, time span or enum is an error), and
//! reports a bad value as an error naming the file and line while leaving the slot as it was.

use crate::diag::{Diagnostic, ValueError};
use crate::specifier::{self, SpecifierContext};
use crate::syntax::Assignment;
use crate::value::{self, TimeUnit, Usec};
use crate::words::{self, ExtractFlags};

pub(crate) struct Cx<'a> {
    spec: &'a SpecifierContext<'a>,
    diags: Vec<Diagnostic>,
    /// Set when a value is bad in a way systemd refuses the whole unit for.
    fatal: bool,
}

impl<'a> Cx<'a> {
    pub fn new(spec: &'a SpecifierContext<'a>) -> Self {
        Cx {
            spec,
            diags: Vec::new(),
            fatal: false,
        }
    }

    /// The diagnostics, and whether one of them makes the unit unusable.
    pub fn finish(self) -> (Vec<Diagnostic>, bool) {
        (self.diags, self.fatal)
    }

    pub fn warn(&mut self, a: &Assignment, message: String) {
        self.diags
            .push(Diagnostic::warning(&a.file, a.line, message));
    }

    pub fn error(&mut self, a: &Assignment, message: String) {
        self.diags.push(Diagnostic::error(&a.file, a.line, message));
    }

    fn bad(&mut self, a: &Assignment, e: ValueError) {
        self.error(a, format!("invalid {}={}: {e}; ignoring", a.key, a.value));
    }

    /// Expands specifiers in the whole value; reports and returns `None` on failure.
    pub fn expand(&mut self, a: &Assignment) -> Option<String> {
        self.expand_text(a, &a.value, specifier::expand)
    }

    fn expand_text(&mut self, a: &Assignment, text: &str, expander: Expander) -> Option<String> {
        match expander(text, self.spec) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(
                    a,
                    format!(
                        "cannot resolve specifiers in {}={}: {e}; ignoring",
                        a.key, a.value
                    ),
                );
                None
            }
        }
    }

    /// Warns that a directive is an old spelling of another.
    pub fn deprecated(&mut self, a: &Assignment, instead: &str) {
        self.warn(
            a,
            format!("{}= is deprecated, use {instead}= instead", a.key),
        );
    }

    /// An empty value where systemd 252 does not accept one (booleans, time spans, enums,
    /// modes, signals, limits ...): an error like any other invalid value.
    fn empty_value(&mut self, a: &Assignment) {
        self.error(a, format!("empty value for {}=; ignoring", a.key));
    }

    /// A scalar parsed by `parse` without specifier expansion; an empty value is an error.
    pub fn scalar<T>(
        &mut self,
        slot: &mut Option<T>,
        a: &Assignment,
        parse: impl Fn(&str) -> Result<T, ValueError>,
    ) {
        if a.value.is_empty() {
            return self.empty_value(a);
        }
        match parse(&a.value) {
            Ok(v) => *slot = Some(v),
            Err(e) => self.bad(a, e),
        }
    }

    /// A scalar that an empty value resets to its default, as systemd does for strings,
    /// paths and a few numbers (`Nice=`, `MemoryMax=`, `CPUWeight=` ...).
    pub fn resettable<T>(
        &mut self,
        slot: &mut Option<T>,
        a: &Assignment,
        parse: impl Fn(&str) -> Result<T, ValueError>,
    ) {
        if a.value.is_empty() {
            *slot = None;
            return;
        }
        self.scalar(slot, a, parse)
    }

    /// Like [`resettable`](Self::resettable), with specifiers expanded.
    pub fn resettable_expanded<T>(
        &mut self,
        slot: &mut Option<T>,
        a: &Assignment,
        parse: impl Fn(&str) -> Result<T, ValueError>,
    ) {
        if a.value.is_empty() {
            *slot = None;
            return;
        }
        self.scalar_expanded(slot, a, parse)
    }

    /// A scalar whose value may contain specifiers; an empty value is an error.
    pub fn scalar_expanded<T>(
        &mut self,
        slot: &mut Option<T>,
        a: &Assignment,
        parse: impl Fn(&str) -> Result<T, ValueError>,
    ) {
        if a.value.is_empty() {
            return self.empty_value(a);
        }
        let Some(v) = self.expand(a) else { return };
        match parse(&v) {
            Ok(v) => *slot = Some(v),
            Err(e) => self.bad(a, e),
        }
    }

    /// Like [`scalar_expanded`](Self::scalar_expanded), but when `fatal` is set a value that
    /// cannot be used makes systemd refuse the whole unit (a relative `RootDirectory=`, or a
    /// `WorkingDirectory=` without the `-` prefix), instead of being ignored.
    pub fn scalar_expanded_fatal<T>(
        &mut self,
        slot: &mut Option<T>,
        a: &Assignment,
        fatal: bool,
        parse: impl Fn(&str) -> Result<T, ValueError>,
    ) {
        if a.value.is_empty() {
            *slot = None;
            return;
        }
        match specifier::expand(&a.value, self.spec).and_then(|v| parse(&v)) {
            Ok(v) => *slot = Some(v),
            Err(e) if fatal => {
                self.error(
                    a,
                    format!(
                        "invalid {}={}: {e}; the unit cannot be used",
                        a.key, a.value
                    ),
                );
                self.fatal = true;
            }
            Err(e) => self.bad(a, e),
        }
    }

    pub fn bool(&mut self, slot: &mut Option<bool>, a: &Assignment) {
        self.scalar(slot, a, value::parse_bool)
    }

    /// A time span whose bare numbers are seconds.
    pub fn secs(&mut self, slot: &mut Option<Usec>, a: &Assignment) {
        self.scalar(slot, a, |s| value::parse_timespan(s, TimeUnit::Sec))
    }

    /// A string with specifiers expanded; empty resets.
    pub fn string(&mut self, slot: &mut Option<String>, a: &Assignment) {
        self.resettable_expanded(slot, a, |s| Ok(s.to_string()))
    }

    /// An absolute path with specifiers expanded, normalised (`//` and trailing `/` removed).
    pub fn path(&mut self, slot: &mut Option<String>, a: &Assignment) {
        self.resettable_expanded(slot, a, absolute_path)
    }

    /// One of a fixed set of words.
    pub fn choice<T: Copy>(&mut self, slot: &mut Option<T>, a: &Assignment, table: &[(&str, T)]) {
        self.scalar(slot, a, |s| lookup_choice(s, table))
    }

    /// A whitespace-separated list (quotes allowed), specifiers expanded in each word,
    /// appended to the slot; empty resets it.
    pub fn words(&mut self, slot: &mut Vec<String>, a: &Assignment) {
        self.words_checked(slot, a, |w| Ok(w.to_string()))
    }

    /// Like [`words`](Self::words), checking each word; a bad word is reported and skipped,
    /// the rest of the line still applies (as systemd does for lists).
    pub fn words_checked(
        &mut self,
        slot: &mut Vec<String>,
        a: &Assignment,
        check: impl Fn(&str) -> Result<String, ValueError>,
    ) {
        self.split_expand_check(slot, a, specifier::expand, check)
    }

    /// Splits the value into words (quotes removed, escapes kept), then expands specifiers
    /// in each word, as systemd does, and checks it.
    fn split_expand_check(
        &mut self,
        slot: &mut Vec<String>,
        a: &Assignment,
        expander: Expander,
        check: impl Fn(&str) -> Result<String, ValueError>,
    ) {
        if a.value.is_empty() {
            slot.clear();
            return;
        }
        let flags = ExtractFlags::UNQUOTE | ExtractFlags::RETAIN_ESCAPE;
        let list = match words::split_words(&a.value, words::WHITESPACE, flags) {
            Ok(l) => l,
            Err(e) => return self.bad(a, e),
        };
        for w in list {
            let Some(w) = self.expand_text(a, &w, expander) else {
                continue;
            };
            match check(&w) {
                Ok(v) => slot.push(v),
                Err(e) => self.error(
                    a,
                    format!("invalid word '{w}' in {}=: {e}; ignoring it", a.key),
                ),
            }
        }
        // The manager keeps every loaded unit's lists: no room to spare in them.
        slot.shrink_to_fit();
    }

    /// A list of unit names; only the specifiers systemd allows in unit names apply.
    pub fn units(&mut self, slot: &mut Vec<String>, a: &Assignment) {
        self.split_expand_check(slot, a, specifier::expand_name, |w| {
            crate::name::UnitName::parse(w).map(|_| w.to_string())
        })
    }

    /// A dependency list (`Wants=`, `After=`, ...). Unlike other lists it cannot be reset:
    /// systemd.unit(5) says dependencies can only be added in drop-ins, and systemd 252
    /// ignores an empty assignment (`Requires=x.service` then `Requires=` still requires
    /// x.service in `systemd-analyze verify`).
    pub fn dependencies(&mut self, slot: &mut Vec<String>, a: &Assignment) {
        if !a.value.is_empty() {
            self.units(slot, a);
        }
    }

    /// Unit names in `[Install]`: checked, but a bad one is only a warning.
    pub fn install_units(&mut self, slot: &mut Vec<String>, a: &Assignment) {
        let before = self.diags.len();
        self.units(slot, a);
        for d in self.diags.iter_mut().skip(before) {
            d.severity = crate::diag::Severity::Warning;
        }
    }

    /// A list of absolute paths.
    pub fn paths(&mut self, slot: &mut Vec<String>, a: &Assignment) {
        self.words_checked(slot, a, absolute_path)
    }

    /// A repeatable assignment kept whole (e.g. `Documentation=` lines or a `Listen*=`
    /// address), specifiers expanded, one entry per line.
    pub fn push_expanded<T>(
        &mut self,
        slot: &mut Vec<T>,
        a: &Assignment,
        parse: impl Fn(&str) -> Result<T, ValueError>,
    ) {
        if a.value.is_empty() {
            slot.clear();
            return;
        }
        let Some(v) = self.expand(a) else { return };
        match parse(&v) {
            Ok(v) => {
                slot.push(v);
                slot.shrink_to_fit();
            }
            Err(e) => self.bad(a, e),
        }
    }

    /// `Exec*=` lines, split into commands first and then specifiers expanded in each word,
    /// as systemd does; appended. The commands before a syntax error are kept.
    pub fn exec(&mut self, slot: &mut Vec<crate::exec::ExecCommand>, a: &Assignment) {
        if a.value.is_empty() {
            slot.clear();
            return;
        }
        let line = crate::exec::parse_exec_line(&a.value);
        for w in &line.warnings {
            self.warn(a, format!("{}=: {w}", a.key));
        }
        for mut cmd in line.commands {
            // systemd appends each command as soon as it is complete, so the commands before
            // one with an unresolvable specifier stay. That one ends the line: it makes the
            // unit unusable, unless the command has the `-` prefix (then it is a warning).
            let expanded = specifier::expand(&cmd.path, self.spec).and_then(|path| {
                let argv = cmd
                    .argv
                    .iter()
                    .map(|w| specifier::expand(w, self.spec))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((path, argv))
            });
            match expanded {
                Ok((path, argv)) => {
                    cmd.path = path.into_boxed_str();
                    cmd.argv = crate::exec::Argv::new(argv);
                    slot.push(cmd);
                    slot.shrink_to_fit();
                }
                Err(e) => {
                    let message =
                        format!("cannot resolve specifiers in {}={}: {e}", a.key, a.value);
                    if cmd.flags.ignore_failure {
                        self.warn(a, format!("{message}; ignoring the rest of the line"));
                    } else {
                        self.error(a, format!("{message}; the unit cannot be used"));
                        self.fatal = true;
                    }
                    return;
                }
            }
        }
        if let Some(e) = line.error {
            self.fatal |= line.fatal;
            let consequence = if line.fatal {
                "the unit cannot be used"
            } else {
                "ignoring the rest of the line"
            };
            self.error(
                a,
                format!("invalid {}={}: {e}; {consequence}", a.key, a.value),
            );
        }
    }

    /// `Environment=` assignments, specifiers expanded in each; invalid words are reported
    /// and skipped, and a syntax error drops the rest of the line.
    pub fn environment(&mut self, slot: &mut Vec<(String, String)>, a: &Assignment) {
        if a.value.is_empty() {
            slot.clear();
            return;
        }
        let line = crate::env::parse_environment_line(&a.value);
        for (k, v) in line.assignments {
            let Some(v) = self.expand_text(a, &v, specifier::expand) else {
                continue;
            };
            crate::env::env_assign(slot, k, v);
        }
        for w in line.rejected {
            self.error(
                a,
                format!("invalid environment assignment '{w}', ignoring it"),
            );
        }
        if let Some(e) = line.error {
            self.error(
                a,
                format!("invalid {}={}: {e}; ignoring the rest", a.key, a.value),
            );
        }
    }
}

type Expander = fn(&str, &SpecifierContext) -> Result<String, ValueError>;

/// Accepts an absolute path and normalises it as systemd does (`path_simplify`).
pub(crate) fn absolute_path(s: &str) -> Result<String, ValueError> {
    if !s.starts_with('/') {
        return Err(ValueError::new(format!("'{s}' is not an absolute path")));
    }
    // systemd refuses paths that are not normalized rather than guess what `..` means.
    if s.split('/').any(|p| p == "..") {
        return Err(ValueError::new(format!(
            "'{s}' is not normalized (contains '..')"
        )));
    }
    let mut out = String::with_capacity(s.len());
    for part in s.split('/').filter(|p| !p.is_empty() && *p != ".") {
        out.push('/');
        out.push_str(part);
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

pub(crate) fn lookup_choice<T: Copy>(s: &str, table: &[(&str, T)]) -> Result<T, ValueError> {
    table
        .iter()
        .find(|(name, _)| *name == s)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            ValueError::new(format!("expected one of: {}", names.join(", ")))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths() {
        for (input, want) in [
            ("/a/b", Some("/a/b")),
            ("//a//b/", Some("/a/b")),
            ("/a/./b", Some("/a/b")),
            ("/", Some("/")),
            ("a/b", None),
            ("/a/../b", None),
            ("/..", None),
            ("", None),
        ] {
            assert_eq!(absolute_path(input).ok().as_deref(), want, "{input}");
        }
    }
}
