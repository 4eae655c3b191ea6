//! Command lines of `ExecStart=`, `ExecStartPre=`, `ExecStop=`, ... as systemd 252's
//! `config_parse_exec` reads them, the `$VAR`/`${VAR}` expansion systemd.service(5) applies
//! when the command is spawned, and a display form.
//!
//! A value holds one or more commands separated by a lone `;` (`\;` is a literal `;`
//! argument). Each command is `[PREFIXES]PATH [ARG]...`, where the prefixes `-` `@` `:` `+`
//! `!` `!!` may come in any order, each once; `+` excludes `!` and `!!`. PATH is absolute or,
//! since systemd 239, a bare file name searched at spawn time. Words are split as
//! [`extract_first_word_and_warn`] does with `UNQUOTE|CUNESCAPE`, so quotes group and C
//! escapes are decoded; unknown escapes are kept verbatim with a warning.
//!
//! Specifiers are expanded by the caller beforehand. systemd expands them per word, after
//! unquoting; expanding the whole value first differs only when a specifier's expansion
//! contains quotes, backslashes or whitespace.
//!
//! Errors follow systemd: a problem in a command prefixed with `-`, or in the first word of a
//! command, drops the rest of the line but keeps the unit loadable; any other problem makes
//! systemd refuse the unit (load state `bad-setting`). [`parse_exec_line`] reports which.

use crate::diag::ValueError;
use crate::env::is_valid_env_name;
use crate::words::{extract_first_word_and_warn, split_words, ExtractFlags, WHITESPACE};

/// The prefixes of a command's first word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExecFlags {
    /// `-`: a failure exit status (or a missing executable) is not a failure.
    pub ignore_failure: bool,
    /// `@`: the first word after the path is `argv[0]`, the path is not passed.
    pub argv0_override: bool,
    /// `:`: no `$VAR` expansion in the arguments.
    pub no_env_expand: bool,
    /// `+`: run with full privileges, no sandboxing, no user/group change.
    pub privileged: bool,
    /// `!`: sandboxing applies but not the `User=`/`Group=` change.
    pub no_setuid: bool,
    /// `!!`: like `!` unless ambient capabilities are available, in which case credentials
    /// are applied normally.
    pub ambient_fallback: bool,
}

/// One command of an `Exec*=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCommand {
    /// The executable: an absolute path, simplified (`//` and `/./` folded away), or a bare
    /// file name to look up at spawn time (see [`ExecCommand::needs_path_lookup`]).
    pub path: Box<str>,
    /// All arguments including `argv[0]`, which is the path as written (not simplified),
    /// or the word after the path with `@`. `$VAR` references are still unexpanded.
    pub argv: Argv,
    pub flags: ExecFlags,
}

/// The arguments of a command: one exactly sized allocation for the list and one per word.
///
/// The manager keeps the commands of every loaded unit, so no spare capacity (as a
/// `Vec<String>` has, in the list and in each word) is kept. A word never holds a NUL:
/// the arguments reach `execve(2)` as C strings, which end at their first NUL, so a word
/// is cut there when it is added, as systemd (which works on C strings throughout) would
/// see it.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Argv(Box<[Box<str>]>);

impl Argv {
    pub fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Argv {
        Argv(
            words
                .into_iter()
                .map(|w| w.as_ref().split('\0').next().unwrap_or_default().into())
                .collect(),
        )
    }

    /// The words, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Box<str>> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn first(&self) -> Option<&str> {
        self.0.first().map(|w| &**w)
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        self.0.get(i).map(|w| &**w)
    }

    /// The words joined by `sep`, like `[String]::join`.
    pub fn join(&self, sep: &str) -> String {
        self.0.join(sep)
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(|w| w.to_string()).collect()
    }
}

impl<'a> IntoIterator for &'a Argv {
    type Item = &'a Box<str>;
    type IntoIter = std::slice::Iter<'a, Box<str>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Argv {
    fn from_iter<I: IntoIterator<Item = S>>(words: I) -> Argv {
        Argv::new(words)
    }
}

impl From<Vec<String>> for Argv {
    fn from(words: Vec<String>) -> Argv {
        Argv::new(words)
    }
}

/// Prints the words as a list, as a `Vec<String>` would.
impl std::fmt::Debug for Argv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for Argv {
    fn eq(&self, other: &[S]) -> bool {
        self.iter()
            .map(|w| &**w)
            .eq(other.iter().map(AsRef::as_ref))
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for Argv {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for Argv {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == other[..]
    }
}

impl ExecCommand {
    /// Whether `path` is a bare file name that must be searched at spawn time, in
    /// `ExecSearchPath=` or else the default `PATH` (`/usr/local/sbin:/usr/local/bin:
    /// /usr/sbin:/usr/bin:/sbin:/bin` for systemd 252), not the manager's `$PATH`.
    pub fn needs_path_lookup(&self) -> bool {
        !self.path.starts_with('/')
    }
}

/// Everything systemd makes of one `Exec*=` value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecLine {
    /// The commands systemd keeps: those completed before any error.
    pub commands: Vec<ExecCommand>,
    /// Input that was understood in a lenient way (unknown escapes kept verbatim).
    pub warnings: Vec<ValueError>,
    /// Why parsing stopped early; the rest of the value is dropped.
    pub error: Option<ValueError>,
    /// Whether `error` makes systemd refuse to load the unit.
    pub fatal: bool,
}

/// The word flags `config_parse_exec` uses.
const EXEC_WORD_FLAGS: ExtractFlags = ExtractFlags::UNQUOTE.union(ExtractFlags::CUNESCAPE);

/// Longest file name (component) Linux accepts.
const NAME_MAX: usize = 255;
/// Longest path, counting a terminating NUL.
const PATH_MAX: usize = 4096;

/// Parses an `Exec*=` value the strict way: the commands, or the first problem found (fatal
/// to the unit or not). An empty value gives no commands; the caller treats it as a reset.
/// Use [`parse_exec_line`] to get systemd's exact handling of errors and warnings.
pub fn parse_exec(s: &str) -> Result<Vec<ExecCommand>, ValueError> {
    let line = parse_exec_line(s);
    match line.error {
        Some(e) => Err(e),
        None => Ok(line.commands),
    }
}

/// Parses an `Exec*=` value exactly as systemd 252 does, see [`ExecLine`].
pub fn parse_exec_line(s: &str) -> ExecLine {
    let mut out = ExecLine::default();
    let mut p = s;
    loop {
        let first =
            match extract_first_word_and_warn(p, WHITESPACE, EXEC_WORD_FLAGS, &mut out.warnings) {
                Ok(Some((word, rest))) => {
                    p = rest;
                    word
                }
                Ok(None) => return out,
                // systemd logs this and ignores the rest of the line, but loads the unit.
                Err(e) => {
                    out.error = Some(e);
                    return out;
                }
            };
        // A lone ";" where a command should start is just a separator.
        if first == ";" {
            continue;
        }

        let (flags, path) = split_prefixes(&first);
        let ignore = flags.ignore_failure;
        let fail = |out: &mut ExecLine, message: String| {
            out.error = Some(ValueError::new(message));
            out.fatal = !ignore;
        };
        if let Err(message) = check_path(path, s) {
            fail(&mut out, message);
            return out;
        }

        let mut argv = Vec::new();
        if !flags.argv0_override {
            argv.push(path.to_string());
        }
        let mut semicolon = false;
        while !p.is_empty() {
            // An unquoted ";" word separates commands; "\;" alone is a literal ";" argument.
            // Both are recognised on the raw text, since quoting would hide the difference.
            if let Some(after) = lone_word(p, ";") {
                p = after;
                semicolon = true;
                break;
            }
            if let Some(after) = lone_word(p, "\\;") {
                p = after;
                argv.push(";".to_string());
                continue;
            }
            match extract_first_word_and_warn(p, WHITESPACE, EXEC_WORD_FLAGS, &mut out.warnings) {
                Ok(Some((word, rest))) => {
                    argv.push(word);
                    p = rest;
                }
                Ok(None) => break,
                Err(e) => {
                    fail(&mut out, e.0);
                    return out;
                }
            }
        }
        if argv.is_empty() {
            fail(
                &mut out,
                format!("empty executable name or zeroeth argument (after '@'): '{s}'"),
            );
            return out;
        }
        out.commands.push(ExecCommand {
            path: simplify_path(path).into_boxed_str(),
            argv: Argv::new(argv),
            flags,
        });
        if !semicolon {
            return out;
        }
    }
}

/// When `p` starts with the word `word` followed by whitespace or the end, the text after
/// it and the whitespace.
fn lone_word<'a>(p: &'a str, word: &str) -> Option<&'a str> {
    let after = p.strip_prefix(word)?;
    match after.chars().next() {
        None => Some(after),
        Some(c) if WHITESPACE.contains(c) => {
            Some(after.trim_start_matches(|c| WHITESPACE.contains(c)))
        }
        Some(_) => None,
    }
}

/// Takes the prefix characters off the first word. A character that would repeat a prefix,
/// or combine `+` with `!`, ends the prefixes and becomes part of the path (which then fails
/// the path checks unless it still is a valid file name, like `!x` from `!!!x`).
fn split_prefixes(word: &str) -> (ExecFlags, &str) {
    let mut f = ExecFlags::default();
    let mut rest = word;
    loop {
        let privilege_set = f.privileged || f.no_setuid || f.ambient_fallback;
        match rest.chars().next() {
            Some('-') if !f.ignore_failure => f.ignore_failure = true,
            Some('@') if !f.argv0_override => f.argv0_override = true,
            Some(':') if !f.no_env_expand => f.no_env_expand = true,
            Some('+') if !privilege_set => f.privileged = true,
            Some('!') if !privilege_set => f.no_setuid = true,
            // A second '!' upgrades '!' to '!!'.
            Some('!') if !f.privileged && !f.ambient_fallback => {
                f.no_setuid = false;
                f.ambient_fallback = true;
            }
            _ => return (f, rest),
        }
        rest = rest.get(1..).unwrap_or_default();
    }
}

/// The checks systemd applies to the executable; `line` is the whole value for messages.
fn check_path(path: &str, line: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err(format!("empty path in command line '{line}'"));
    }
    if !string_is_safe(path) {
        return Err(format!(
            "executable name contains special characters (quotes, backslashes or control \
             characters): '{path}'"
        ));
    }
    if path.ends_with('/') {
        return Err(format!("executable path specifies a directory: '{path}'"));
    }
    let valid = if path.starts_with('/') {
        path_is_valid(path)
    } else {
        filename_is_valid(path)
    };
    if !valid {
        return Err(format!(
            "neither a valid executable name nor an absolute path: '{path}'"
        ));
    }
    Ok(())
}

/// No control characters, no quotes, no backslash.
fn string_is_safe(s: &str) -> bool {
    !s.chars()
        .any(|c| c < ' ' || c == '\x7f' || c == '"' || c == '\'' || c == '\\')
}

fn filename_is_valid(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains('/') && s.len() <= NAME_MAX
}

fn path_is_valid(s: &str) -> bool {
    !s.is_empty() && s.len() < PATH_MAX && s.split('/').all(|c| c.len() <= NAME_MAX)
}

/// systemd's `path_simplify`: repeated slashes and `.` components go, `..` stays.
fn simplify_path(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let joined = parts.join("/");
    if path.starts_with('/') {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// Expands environment variables in `argv` as systemd 252 does when it spawns a command
/// (unless the command has the `:` prefix): a word that is `$NAME` as a whole becomes the
/// value split at whitespace (quotes in the value group words), zero words when unset or
/// empty; `${NAME}` inside a word is replaced by the value as is, nothing when unset; `$$`
/// is a `$`. Anything else after `$` stays literal.
pub fn expand_env(argv: &Argv, env: &dyn Fn(&str) -> Option<String>) -> Argv {
    let mut out = Vec::with_capacity(argv.len());
    for word in argv {
        let whole_variable = word
            .strip_prefix('$')
            .filter(|name| !name.starts_with('{') && !name.starts_with('$'));
        match whole_variable {
            // The whole rest is the name, so "$A/b" names a variable "A/b", which can never
            // be set: the word disappears, as it does in systemd.
            Some(name) => {
                let value = if is_valid_env_name(name) {
                    env(name)
                } else {
                    None
                };
                if let Some(value) = value {
                    let flags = ExtractFlags::RELAX | ExtractFlags::UNQUOTE;
                    match split_words(&value, WHITESPACE, flags) {
                        Ok(words) => out.extend(words),
                        Err(_) => out.extend(value.split_whitespace().map(str::to_string)),
                    }
                }
            }
            None => out.push(replace_braced(word, env)),
        }
    }
    Argv::new(out)
}

/// Replaces `${NAME}` and `$$` in one word. An unterminated `${` stays as written.
fn replace_braced(word: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some((before, after)) = rest.split_once('$') {
        out.push_str(before);
        if let Some(after_dollar) = after.strip_prefix('$') {
            out.push('$');
            rest = after_dollar;
        } else if let Some(inner) = after.strip_prefix('{') {
            match inner.split_once('}') {
                // systemd leaves `${A:-x}`-style expressions alone: the name may not have ':'.
                Some((name, tail)) if !name.contains(':') => {
                    if let Some(value) = env(name).filter(|_| is_valid_env_name(name)) {
                        out.push_str(&value);
                    }
                    rest = tail;
                }
                _ => {
                    out.push('$');
                    rest = after;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Renders `argv` as systemd's unit dump does (`Command Line:`): each argument as is when
/// that is shell-safe, else in double quotes with `"\`$` backslash-escaped and control
/// characters C-escaped; an empty argument is `""`.
pub fn quote_command_line(argv: &Argv) -> String {
    argv.iter()
        .map(|a| shell_maybe_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_maybe_quote(s: &str) -> String {
    const NEED_QUOTES: &str = " \t\n\r\"\\`$*?['()<>|&;!";
    const NEED_ESCAPE: &str = "\"\\`$";
    if s.is_empty() {
        return "\"\"".to_string();
    }
    let is_cc = |c: char| c < ' ' || c == '\x7f';
    if !s.chars().any(|c| is_cc(c) || NEED_QUOTES.contains(c)) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if is_cc(c) => out.push_str(&format!("\\{:03o}", c as u32)),
            c => {
                if NEED_ESCAPE.contains(c) {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out.push('"');
    out
}

/// A one-line description of a command in the style of `systemctl show` for `ExecStartEx=`:
/// `{ path=/usr/bin/env ; argv[]=env "a b" ; flags=ignore-failure }` (no `flags=` when there
/// are none).
pub fn format_exec(cmd: &ExecCommand) -> String {
    let f = &cmd.flags;
    let names: Vec<&str> = [
        (f.ignore_failure, "ignore-failure"),
        (f.privileged, "privileged"),
        (f.no_setuid, "no-setuid"),
        (f.ambient_fallback, "ambient"),
        (f.no_env_expand, "no-env-expand"),
    ]
    .iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| *name)
    .collect();
    let mut s = format!(
        "{{ path={} ; argv[]={}",
        cmd.path,
        quote_command_line(&cmd.argv)
    );
    if !names.is_empty() {
        s.push_str(" ; flags=");
        s.push_str(&names.join(" "));
    }
    s.push_str(" }");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn flags(spec: &str) -> ExecFlags {
        let mut f = ExecFlags::default();
        for name in spec.split(',').filter(|n| !n.is_empty()) {
            match name {
                "ignore" => f.ignore_failure = true,
                "argv0" => f.argv0_override = true,
                "noenv" => f.no_env_expand = true,
                "priv" => f.privileged = true,
                "nosetuid" => f.no_setuid = true,
                "ambient" => f.ambient_fallback = true,
                other => panic!("unknown flag name {other}"),
            }
        }
        f
    }

    /// A value that systemd accepts: expected commands as (path, argv, flags).
    fn ok(input: &str, expected: &[(&str, &[&str], &str)]) {
        let line = parse_exec_line(input);
        assert_eq!(line.error, None, "input {input:?}");
        let got: Vec<(String, Vec<String>, ExecFlags)> = line
            .commands
            .iter()
            .map(|c| (c.path.to_string(), c.argv.to_vec(), c.flags))
            .collect();
        let want: Vec<(String, Vec<String>, ExecFlags)> = expected
            .iter()
            .map(|(p, a, f)| {
                (
                    p.to_string(),
                    a.iter().map(|s| s.to_string()).collect(),
                    flags(f),
                )
            })
            .collect();
        assert_eq!(got, want, "input {input:?}");
    }

    /// A value with an error: how many commands survive and whether the unit is refused.
    fn bad(input: &str, kept: usize, fatal: bool) {
        let line = parse_exec_line(input);
        assert!(
            line.error.is_some(),
            "input {input:?} should fail: {line:?}"
        );
        assert_eq!(line.commands.len(), kept, "kept commands for {input:?}");
        assert_eq!(line.fatal, fatal, "fatal for {input:?}: {:?}", line.error);
        assert!(parse_exec(input).is_err());
    }

    fn warnings(input: &str) -> usize {
        parse_exec_line(input).warnings.len()
    }

    #[test]
    fn simple_commands() {
        ok("", &[]);
        ok("/bin/echo", &[("/bin/echo", &["/bin/echo"], "")]);
        ok(
            "/bin/echo a  b\tc",
            &[("/bin/echo", &["/bin/echo", "a", "b", "c"], "")],
        );
        // The systemd --test dump shows: /bin/echo "a bc" d A "\${FOO}" "\$BAR"
        ok(
            "/bin/echo \"a b\"c 'd' \\x41 ${FOO} $BAR",
            &[(
                "/bin/echo",
                &["/bin/echo", "a bc", "d", "A", "${FOO}", "$BAR"],
                "",
            )],
        );
        // Dump: /bin/x "ab cd" "x\"y"
        ok(
            "/bin/x a\"b c\"d 'x\"y'",
            &[("/bin/x", &["/bin/x", "ab cd", "x\"y"], "")],
        );
        // Dump: /bin/x "a\"b" "a'b"
        ok(
            "/bin/x \"a\\\"b\" 'a\\'b'",
            &[("/bin/x", &["/bin/x", "a\"b", "a'b"], "")],
        );
        // Dump: /bin/x " " "\\" "\n"
        ok(
            "/bin/x \\s \\\\ \\n",
            &[("/bin/x", &["/bin/x", " ", "\\", "\n"], "")],
        );
        ok("/bin/x \"\"", &[("/bin/x", &["/bin/x", ""], "")]);
        // Dump: /bin/echo é 😀 A "\177"
        ok(
            "/bin/echo \\u00e9 \\U0001F600 \\101 \\x7f",
            &[(
                "/bin/echo",
                &["/bin/echo", "\u{e9}", "\u{1F600}", "A", "\x7f"],
                "",
            )],
        );
    }

    #[test]
    fn quoted_and_odd_paths() {
        // Dump: "/bin/e cho" a
        ok(
            "'/bin/e cho' a",
            &[("/bin/e cho", &["/bin/e cho", "a"], "")],
        );
        // Dump: /bin/xy z
        ok("/bin/\"x\"y z", &[("/bin/xy", &["/bin/xy", "z"], "")]);
        // The path is simplified, argv[0] is kept as written (dump: /bin//echo a).
        ok("/bin//echo a", &[("/bin/echo", &["/bin//echo", "a"], "")]);
        ok("/bin/./echo", &[("/bin/echo", &["/bin/./echo"], "")]);
        ok(
            "/usr/../bin/x",
            &[("/usr/../bin/x", &["/usr/../bin/x"], "")],
        );
    }

    #[test]
    fn bare_names() {
        // Loaded even when no such program exists: the lookup happens at spawn time.
        ok(
            "nonexistentcmd",
            &[("nonexistentcmd", &["nonexistentcmd"], "")],
        );
        let cmd = &parse_exec("true --x").unwrap()[0];
        assert!(cmd.needs_path_lookup());
        assert!(!parse_exec("/bin/true").unwrap()[0].needs_path_lookup());
        bad("rel/x", 0, true);
        bad("./x", 0, true);
        bad("..", 0, true);
        bad(&"x".repeat(256), 0, true);
        ok(
            &"x".repeat(255),
            &[(&"x".repeat(255), &[&"x".repeat(255)], "")],
        );
    }

    #[test]
    fn prefixes() {
        ok("-/bin/a", &[("/bin/a", &["/bin/a"], "ignore")]);
        ok("@/bin/a zero one", &[("/bin/a", &["zero", "one"], "argv0")]);
        ok(":/bin/a $A", &[("/bin/a", &["/bin/a", "$A"], "noenv")]);
        ok("+/bin/a", &[("/bin/a", &["/bin/a"], "priv")]);
        ok("!/bin/a", &[("/bin/a", &["/bin/a"], "nosetuid")]);
        ok("!!/bin/a", &[("/bin/a", &["/bin/a"], "ambient")]);
        ok("!!true", &[("true", &["true"], "ambient")]);
        ok(
            "-@:+/bin/a z",
            &[("/bin/a", &["z"], "ignore,argv0,noenv,priv")],
        );
        ok(
            "+:@-/bin/a z",
            &[("/bin/a", &["z"], "ignore,argv0,noenv,priv")],
        );
        // Separated '!'s still count as "!!".
        ok("!-!/bin/x", &[("/bin/x", &["/bin/x"], "ignore,ambient")]);
        // Prefixes inside quotes work: unquoting happens first.
        ok(
            "\"-/bin/echo\" a",
            &[("/bin/echo", &["/bin/echo", "a"], "ignore")],
        );
        // A third '!' is part of the name; "!x" is a valid file name (dump: "!x").
        ok("!!!x", &[("!x", &["!x"], "ambient")]);
        // Repeated or conflicting prefixes leave a character in the path.
        bad("--/bin/x", 0, false);
        bad("@@/bin/x", 0, true);
        bad("::/bin/x", 0, true);
        bad("++/bin/x", 0, true);
        bad("+!/bin/x", 0, true);
        bad("!+/bin/x", 0, true);
        bad("!!+/bin/x", 0, true);
        bad("!!!/bin/x", 0, true);
    }

    #[test]
    fn path_errors() {
        // "-" alone: empty path, but ignorable; "@" alone is fatal.
        bad("-", 0, false);
        bad("@", 0, true);
        bad("-@", 0, false);
        bad("/bin/", 0, true);
        bad("-/bin/", 0, false);
        // \x01 decodes to a control character; \x5c (backslash) and quotes are refused too.
        bad("ec\\x01ho", 0, true);
        bad("/bin/a\\x27b", 0, true);
        bad("/bin/a\\\\b", 0, true);
        // Unknown escapes are kept with their backslash, which the path may not contain.
        bad("/bin/x\\ y z", 0, true);
        bad("/bin/a\\x00b", 0, true);
        // "@" with no argv[0].
        bad("@/bin/echo", 0, true);
        bad(&format!("/{}", "x".repeat(256)), 0, true);
        bad(&"/x".repeat(2048), 0, true);
    }

    #[test]
    fn quoting_errors() {
        // Unbalanced quoting in the first word is logged and the line ignored, not fatal.
        bad("\"/bin/x", 0, false);
        bad("'/bin/x a", 0, false);
        // In a later word it is fatal, unless the command has '-'.
        bad("/bin/x \"a", 0, true);
        bad("/bin/x a'b", 0, true);
        bad("-/bin/x \"a", 0, false);
        // '-' applies to its own command only.
        bad("-/bin/x a ; /bin/y \"b", 1, true);
        bad("/bin/a ; -rel/x ; /bin/c", 1, false);
        bad("/bin/a ; rel/x ; /bin/c", 1, true);
    }

    #[test]
    fn semicolons() {
        ok(
            "/bin/a x ; /bin/b y",
            &[
                ("/bin/a", &["/bin/a", "x"], ""),
                ("/bin/b", &["/bin/b", "y"], ""),
            ],
        );
        ok(
            "-/bin/a;x ;   @/bin/b b0",
            &[
                ("/bin/a;x", &["/bin/a;x"], "ignore"),
                ("/bin/b", &["b0"], "argv0"),
            ],
        );
        // Trailing, doubled and leading separators (dump: /bin/echo in each case).
        ok("/bin/echo ;", &[("/bin/echo", &["/bin/echo"], "")]);
        ok("/bin/echo ; ;", &[("/bin/echo", &["/bin/echo"], "")]);
        ok("; /bin/echo", &[("/bin/echo", &["/bin/echo"], "")]);
        ok("/bin/x \"\" ;", &[("/bin/x", &["/bin/x", ""], "")]);
        // Not separators: ";" glued to a word (dump: /bin/echo a ";/bin/x", /bin/echo "a;").
        ok(
            "/bin/echo a ;/bin/x",
            &[("/bin/echo", &["/bin/echo", "a", ";/bin/x"], "")],
        );
        ok("/bin/echo a;", &[("/bin/echo", &["/bin/echo", "a;"], "")]);
        // Dump: /bin/echo ";" ";" "\\;" "\\;" "x\\;" with two unknown-escape warnings.
        ok(
            "/bin/echo \\; \";\" \\\\; \"\\;\" x\\;",
            &[(
                "/bin/echo",
                &["/bin/echo", ";", ";", "\\;", "\\;", "x\\;"],
                "",
            )],
        );
        assert_eq!(warnings("/bin/echo \\; \";\" \\\\; \"\\;\" x\\;"), 2);
        // Dump: /bin/true ";" x
        ok(
            "-/bin/echo a ; /bin/true \\; x",
            &[
                ("/bin/echo", &["/bin/echo", "a"], "ignore"),
                ("/bin/true", &["/bin/true", ";", "x"], ""),
            ],
        );
    }

    #[test]
    fn unknown_escapes_warn() {
        // Dump: /bin/echo "\\e" "\\z"; systemd 252 knows no \e.
        ok(
            "/bin/echo \\e \\z",
            &[("/bin/echo", &["/bin/echo", "\\e", "\\z"], "")],
        );
        assert_eq!(warnings("/bin/echo \\e \\z"), 2);
        assert_eq!(warnings("/bin/echo \\t"), 0);
        // Dump: true "a\\;b"
        ok("!!true a\\;b", &[("true", &["true", "a\\;b"], "ambient")]);
    }

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn expand(argv: &[&str], expected: &[&str]) {
        const ENV: &[(&str, &str)] = &[
            ("ONE", "1"),
            ("TWO", "a b"),
            ("QUOTED", "'x y' z"),
            ("EMPTY", ""),
            ("SPACES", "   "),
        ];
        let argv = Argv::new(argv);
        assert_eq!(expand_env(&argv, &env_of(ENV)), *expected, "argv {argv:?}");
    }

    #[test]
    fn env_expansion() {
        expand(&["/bin/x", "$ONE"], &["/bin/x", "1"]);
        expand(&["/bin/x", "$TWO"], &["/bin/x", "a", "b"]);
        expand(&["/bin/x", "${TWO}"], &["/bin/x", "a b"]);
        expand(&["/bin/x", "pre${TWO}post"], &["/bin/x", "prea bpost"]);
        expand(&["/bin/x", "$QUOTED"], &["/bin/x", "x y", "z"]);
        expand(&["/bin/x", "$UNSET", "${UNSET}"], &["/bin/x", ""]);
        expand(&["/bin/x", "$EMPTY", "$SPACES", "end"], &["/bin/x", "end"]);
        expand(
            &["/bin/x", "$$ONE", "a$$b", "$${ONE}"],
            &["/bin/x", "$ONE", "a$b", "${ONE}"],
        );
        // '$' followed by a name inside a word is not expanded.
        expand(&["/bin/x", "a$ONE", "$ONE/x", "$"], &["/bin/x", "a$ONE"]);
        // Unsupported or unterminated braces stay.
        expand(
            &["${ONE:-d}", "${ONE", "x${}y"],
            &["${ONE:-d}", "${ONE", "xy"],
        );
        expand(&["${ONE}${TWO}$"], &["1a b$"]);
    }

    /// The packed words read back exactly, empty words and an empty list included; a word
    /// is cut at a NUL, where a C string would end.
    #[test]
    fn argv_packs_words_exactly() {
        let cases: &[(&[&str], &[&str])] = &[
            (&[], &[]),
            (&[""], &[""]),
            (&["", ""], &["", ""]),
            (&["/bin/a"], &["/bin/a"]),
            (&["a b", "", "c"], &["a b", "", "c"]),
            (&["x\0y", "z"], &["x", "z"]),
        ];
        for &(words, want) in cases {
            let a = Argv::new(words);
            assert_eq!(a, *want, "{words:?}");
            assert_eq!(a.len(), want.len(), "{words:?}");
            assert_eq!(a.is_empty(), want.is_empty(), "{words:?}");
            assert_eq!(a.first(), want.first().copied(), "{words:?}");
            assert_eq!(a.get(1), want.get(1).copied(), "{words:?}");
            assert_eq!(a.join(" "), want.join(" "), "{words:?}");
            assert_eq!(a.to_vec(), want.to_vec(), "{words:?}");
            assert_eq!(format!("{a:?}"), format!("{want:?}"), "{words:?}");
        }
        assert_ne!(Argv::new([""]), Argv::new(Vec::<String>::new()));
    }

    #[test]
    fn display() {
        // Oracle: systemd --test dump lines quoted above.
        let q = |a: &[&str]| quote_command_line(&Argv::new(a));
        assert_eq!(
            q(&["/bin/echo", "a bc", "d", "A", "${FOO}", "$BAR"]),
            "/bin/echo \"a bc\" d A \"\\${FOO}\" \"\\$BAR\""
        );
        assert_eq!(
            q(&["/bin/x", " ", "\\", "\n", ""]),
            "/bin/x \" \" \"\\\\\" \"\\n\" \"\""
        );
        assert_eq!(
            q(&["!x", "\x7f", "\u{e9}", "a;"]),
            "\"!x\" \"\\177\" \u{e9} \"a;\""
        );
        let cmd = &parse_exec("-!!/bin/a 'b c'").unwrap()[0];
        assert_eq!(
            format_exec(cmd),
            "{ path=/bin/a ; argv[]=/bin/a \"b c\" ; flags=ignore-failure ambient }"
        );
        let cmd = &parse_exec("@/bin/a z").unwrap()[0];
        assert_eq!(format_exec(cmd), "{ path=/bin/a ; argv[]=z }");
    }

    proptest! {
        #[test]
        fn parse_never_panics(input in "\\PC*") {
            let _ = parse_exec_line(&input);
        }

        #[test]
        fn parse_never_panics_on_syntax_soup(input in "[-@:+!;/a \\\\\"'$x0{}]{0,40}") {
            let line = parse_exec_line(&input);
            for c in &line.commands {
                prop_assert!(!c.argv.is_empty());
                prop_assert!(!c.path.is_empty());
            }
            if line.fatal {
                prop_assert!(line.error.is_some());
            }
        }

        #[test]
        fn expand_never_panics(words in proptest::collection::vec("[$a{}: ]{0,8}", 0..5)) {
            let env = |n: &str| (n == "a").then(|| "x y".to_string());
            let _ = expand_env(&Argv::new(&words), &env);
        }
    }
}
