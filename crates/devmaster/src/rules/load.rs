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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn order_overrides_and_sorting() {
        let etc = vec![
            "90-local.rules",
            "60-block.rules",
            "README",
            ".hidden.rules",
            "x.rules~",
        ];
        let run = vec!["60-block.rules", "10-early.rules"];
        let usr = vec![
            "60-block.rules",
            "99-last.rules",
            "10-early.rules",
            "50-udev-default.rules",
            "60-block.rules.bak",
        ];
        let got = order(&[etc, run, usr]);
        assert_eq!(
            got,
            vec![
                (1, "10-early.rules".to_string()),
                (2, "50-udev-default.rules".to_string()),
                (0, "60-block.rules".to_string()),
                (0, "90-local.rules".to_string()),
                (2, "99-last.rules".to_string()),
            ]
        );
        // Byte order, not numeric or locale order.
        let got = order(&[vec!["a.rules", "B.rules", "10.rules", "9.rules"]]);
        let names: Vec<&str> = got.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, vec!["10.rules", "9.rules", "B.rules", "a.rules"]);
        assert!(order::<&str>(&[]).is_empty());
    }

    fn tags(r: &Rules) -> Vec<String> {
        r.files
            .iter()
            .flat_map(|f| f.lines.iter().flat_map(|l| l.tokens.iter()))
            .filter_map(|t| match t {
                crate::rules::syntax::Token::Tag { value, .. } => Some(value.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn reads_directories_with_overrides_and_masks() {
        let root = tempfile::tempdir().unwrap();
        let dirs: Vec<PathBuf> = ["etc", "run", "usr"]
            .iter()
            .map(|d| root.path().join(d))
            .collect();
        for d in &dirs {
            fs::create_dir(d).unwrap();
        }
        let [etc, run, usr] = [&dirs[0], &dirs[1], &dirs[2]];
        fs::write(usr.join("50-default.rules"), "TAG+=\"usr-default\"\n").unwrap();
        fs::write(usr.join("60-block.rules"), "TAG+=\"usr-block\"\n").unwrap();
        fs::write(run.join("60-block.rules"), "TAG+=\"run-block\"\n").unwrap();
        fs::write(usr.join("70-masked.rules"), "TAG+=\"masked\"\n").unwrap();
        std::os::unix::fs::symlink("/dev/null", etc.join("70-masked.rules")).unwrap();
        fs::write(usr.join("75-emptied.rules"), "TAG+=\"emptied\"\n").unwrap();
        fs::write(etc.join("75-emptied.rules"), "").unwrap();
        fs::write(
            etc.join("10-local.rules"),
            "TAG+=\"etc-local\"\nKERNEL=\"bad\", TAG+=\"x\"\n",
        )
        .unwrap();
        fs::write(etc.join("not-rules.conf"), "TAG+=\"ignored\"\n").unwrap();
        fs::write(run.join(".hidden.rules"), "TAG+=\"hidden\"\n").unwrap();
        // A missing directory is fine.
        let mut with_missing = dirs.clone();
        with_missing.insert(1, root.path().join("missing"));
        let rules = read(&with_missing);
        assert_eq!(tags(&rules), vec!["etc-local", "usr-default", "run-block"]);
        let files: Vec<String> = rules.files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(
            files,
            vec![
                etc.join("10-local.rules").to_string_lossy().into_owned(),
                usr.join("50-default.rules").to_string_lossy().into_owned(),
                run.join("60-block.rules").to_string_lossy().into_owned(),
            ]
        );
        let diags: Vec<String> = rules.all_diagnostics().map(ToString::to_string).collect();
        assert_eq!(
            diags,
            vec![format!(
                "{}:2: error: Invalid operator for KERNEL.",
                etc.join("10-local.rules").display()
            )]
        );
    }

    #[test]
    fn unreadable_entries_are_reported() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("rules.d");
        fs::create_dir(&d).unwrap();
        // A directory named like a rules file takes the name, as in udev, and yields nothing.
        fs::create_dir(d.join("20-dir.rules")).unwrap();
        std::os::unix::fs::symlink(root.path().join("nowhere"), d.join("30-dangling.rules"))
            .unwrap();
        fs::write(d.join("40-ok.rules"), "TAG+=\"ok\"").unwrap();
        let rules = read(&[&d]);
        assert_eq!(tags(&rules), vec!["ok"]);
        assert_eq!(rules.diagnostics.len(), 2);
        assert!(rules.diagnostics.iter().all(|x| x.level == Level::Error));
    }
}
