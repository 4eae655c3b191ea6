//! Which rules files apply and in what order (udev's `conf_files_list_strv` over the rules
//! directories), plus the one function here that touches the file system.
//!
//! Every `*.rules` file of every directory is collected by file name; a name found in an
//! earlier directory hides the same name in later ones; names starting with `.` are
//! ignored; the winners are applied in lexical (byte) order of their names, whatever their
//! directory. A winner that is empty or a character device (a symlink to `/dev/null`) is a
//! mask: it contributes no rules, as udevd skips such files.

use std::path::{Path, PathBuf};

use super::syntax::{self, Diagnostic, Level, RulesFile};

/// udev's rules directories, highest priority first.
pub const RULES_DIRS: [&str; 5] = [
    "/etc/udev/rules.d",
    "/run/udev/rules.d",
    "/usr/local/lib/udev/rules.d",
    "/usr/lib/udev/rules.d",
    "/lib/udev/rules.d",
];

/// The pure part: `dirs` lists, in priority order, each directory's file names. Returns
/// `(directory index, name)` of the files to read, in application order.
pub fn order<S: AsRef<str>>(dirs: &[Vec<S>]) -> Vec<(usize, String)> {
    let mut chosen: std::collections::BTreeMap<&[u8], (usize, &str)> =
        std::collections::BTreeMap::new();
    for (d, names) in dirs.iter().enumerate() {
        for name in names {
            let name = name.as_ref();
            if !name.ends_with(".rules") || name.starts_with('.') {
                continue;
            }
            chosen.entry(name.as_bytes()).or_insert((d, name));
        }
    }
    chosen
        .into_values()
        .map(|(d, n)| (d, n.to_string()))
        .collect()
}

/// All rules, in application order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// The files that contributed (masked files are absent).
    pub files: Vec<RulesFile>,
    /// Problems reading files (parse diagnostics stay with each file).
    pub diagnostics: Vec<Diagnostic>,
}

impl Rules {
    /// Every diagnostic: reading problems, then each file's.
    pub fn all_diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .chain(self.files.iter().flat_map(|f| f.diagnostics.iter()))
    }
}

/// Reads the rules from `dirs` (highest priority first; [`RULES_DIRS`] on a real system).
/// A missing directory is skipped; a file that cannot be read gets an error diagnostic and
/// contributes nothing.
pub fn read<P: AsRef<Path>>(dirs: &[P]) -> Rules {
    let mut rules = Rules::default();
    let listing: Vec<Vec<String>> = dirs
        .iter()
        .map(|d| match std::fs::read_dir(d.as_ref()) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect(),
            Err(_) => Vec::new(),
        })
        .collect();
    for (d, name) in order(&listing) {
        let Some(dir) = dirs.get(d) else { continue };
        let path: PathBuf = dir.as_ref().join(&name);
        let shown = path.to_string_lossy().into_owned();
        let problem = |message: String| Diagnostic {
            file: shown.clone(),
            line: 0,
            level: Level::Error,
            message,
        };
        match std::fs::metadata(&path) {
            Ok(m) => {
                use std::os::unix::fs::FileTypeExt;
                if m.file_type().is_char_device() || (m.is_file() && m.len() == 0) {
                    continue;
                }
            }
            Err(e) => {
                rules
                    .diagnostics
                    .push(problem(format!("Failed to open rules file: {e}")));
                continue;
            }
        }
        match std::fs::read(&path) {
            Ok(bytes) => rules.files.push(syntax::parse(&shown, &bytes)),
            Err(e) => rules
                .diagnostics
                .push(problem(format!("Failed to read rules file: {e}"))),
        }
    }
    rules
}
