//! One rules file: bytes → rule lines with typed tokens, following systemd 252's
//! `udev-rules.c` (line reading, continuations, key/operator/value splitting, the operators
//! each key takes, value checks) and udev(7).
//!
//! A line that udev refuses gets an error diagnostic and is dropped; the rest of the file
//! still applies. Where udev only warns (a tolerated operator, a deprecated form, a bad
//! substitution in a value) the token is kept, with a diagnostic. Nothing here panics on any
//! input.

use std::fmt;

use super::pattern::Pattern;
use super::subst;

/// udev's longest logical line (`UDEV_LINE_SIZE`).
pub const LINE_MAX: usize = 16384;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// udev logs an error; the token or line is dropped (except for value checks, where udev
    /// keeps the token: see the message).
    Error,
    /// udev warns; the line still applies.
    Warning,
}

/// A message about a place in a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as given to [`parse`].
    pub file: String,
    /// 1-based line; for a continued line, the last physical line (as udev counts); 0 when
    /// the problem concerns the whole file (it could not be read).
    pub line: usize,
    /// Error or warning.
    pub level: Level,
    /// udev's wording where it has one.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, level, self.message
        )
    }
}

/// `==` or `!=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `==`
    Match,
    /// `!=`
    NoMatch,
}

/// `=`, `+=`, `-=` or `:=` (after udev's substitutions of tolerated operators).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    /// `=`
    Assign,
    /// `+=`
    Add,
    /// `-=`
    Remove,
    /// `:=`
    AssignFinal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Match,
    NoMatch,
    Add,
    Remove,
    Assign,
    AssignFinal,
}

impl Op {
    fn is_match(self) -> bool {
        matches!(self, Op::Match | Op::NoMatch)
    }
    fn match_op(self) -> MatchOp {
        if self == Op::NoMatch {
            MatchOp::NoMatch
        } else {
            MatchOp::Match
        }
    }
    fn assign_op(self) -> AssignOp {
        match self {
            Op::Add => AssignOp::Add,
            Op::Remove => AssignOp::Remove,
            Op::AssignFinal => AssignOp::AssignFinal,
            _ => AssignOp::Assign,
        }
    }
}

/// How an attribute name in `ATTR{}`/`ATTRS{}` is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A plain attribute name.
    Plain,
    /// Holds `%` or `$`: substitute first.
    Format,
    /// `[subsystem/sysname]attribute`: an attribute of another device.
    SubsystemKernel,
}

/// The attribute of an `ATTR{}`/`ATTRS{}` match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrName {
    /// The name between the braces.
    pub name: String,
    /// How to read it.
    pub kind: NameKind,
    /// Trailing whitespace of the attribute value is ignored (the match value does not end
    /// in whitespace).
    pub trim_value: bool,
}

impl AttrName {
    fn new(name: &str, value: &str) -> Self {
        let kind = if name.starts_with('[') {
            NameKind::SubsystemKernel
        } else if name.contains(['%', '$']) {
            NameKind::Format
        } else {
            NameKind::Plain
        };
        let trim_value = value.bytes().last().is_some_and(|b| !is_c_space(b));
        AttrName {
            name: name.to_string(),
            kind,
            trim_value,
        }
    }
}

/// `CONST{}` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstKey {
    /// `CONST{arch}`
    Arch,
    /// `CONST{virt}`
    Virt,
}

/// The string-valued match keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchKey {
    /// `ACTION`
    Action,
    /// `DEVPATH`
    Devpath,
    /// `KERNEL`
    Kernel,
    /// `SYMLINK==`
    Symlink,
    /// `NAME==`
    Name,
    /// `ENV{key}==`
    Env(String),
    /// `CONST{arch|virt}`
    Const(ConstKey),
    /// `TAG==`
    Tag,
    /// `SUBSYSTEM`
    Subsystem,
    /// `DRIVER`
    Driver,
    /// `ATTR{file}==`
    Attr(AttrName),
    /// `SYSCTL{parameter}==`
    Sysctl(String),
    /// `KERNELS`
    Kernels,
    /// `SUBSYSTEMS`
    Subsystems,
    /// `DRIVERS`
    Drivers,
    /// `ATTRS{file}`
    Attrs(AttrName),
    /// `TAGS`
    Tags,
    /// `RESULT`
    Result,
}

/// udev's built-in commands (systemd 252's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `blkid`
    Blkid,
    /// `btrfs`
    Btrfs,
    /// `hwdb`
    Hwdb,
    /// `input_id`
    InputId,
    /// `keyboard`
    Keyboard,
    /// `kmod`
    Kmod,
    /// `net_id`
    NetId,
    /// `net_setup_link`
    NetSetupLink,
    /// `path_id`
    PathId,
    /// `usb_id`
    UsbId,
    /// `uaccess`
    Uaccess,
}

impl Builtin {
    /// Every builtin, in udev's lookup order.
    pub const ALL: [Builtin; 11] = [
        Builtin::Blkid,
        Builtin::Btrfs,
        Builtin::Hwdb,
        Builtin::InputId,
        Builtin::Keyboard,
        Builtin::Kmod,
        Builtin::NetId,
        Builtin::NetSetupLink,
        Builtin::PathId,
        Builtin::UsbId,
        Builtin::Uaccess,
    ];

    /// The command name.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Blkid => "blkid",
            Builtin::Btrfs => "btrfs",
            Builtin::Hwdb => "hwdb",
            Builtin::InputId => "input_id",
            Builtin::Keyboard => "keyboard",
            Builtin::Kmod => "kmod",
            Builtin::NetId => "net_id",
            Builtin::NetSetupLink => "net_setup_link",
            Builtin::PathId => "path_id",
            Builtin::UsbId => "usb_id",
            Builtin::Uaccess => "uaccess",
        }
    }

    /// udev's `udev_builtin_lookup`: the first word of `command` names the builtin. Like
    /// udev, the word only has to be a prefix of the name (so an empty command finds
    /// `blkid`).
    pub fn lookup(command: &str) -> Option<Builtin> {
        let word = command
            .trim_start_matches(WS)
            .split(WS)
            .next()
            .unwrap_or("");
        Builtin::ALL
            .into_iter()
            .find(|b| b.name().starts_with(word))
    }
}

/// `IMPORT{...}` types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// `IMPORT{file}`
    File,
    /// `IMPORT{program}` (one whose first word names no builtin)
    Program,
    /// `IMPORT{builtin}`, or `IMPORT{program}` naming a builtin
    Builtin(Builtin),
    /// `IMPORT{db}`
    Db,
    /// `IMPORT{cmdline}`
    Cmdline,
    /// `IMPORT{parent}`
    Parent,
}

/// `RUN{...}` types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// `RUN` / `RUN{program}`
    Program,
    /// `RUN{builtin}`
    Builtin(Builtin),
}

/// An `OPTIONS` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOption {
    /// `string_escape=none`
    StringEscapeNone,
    /// `string_escape=replace`
    StringEscapeReplace,
    /// `db_persist`
    DbPersist,
    /// `watch` (true) / `nowatch` (false)
    Watch(bool),
    /// `link_priority=N`
    LinkPriority(i32),
    /// `log_level=LEVEL` (0..=7), `None` for `reset`
    LogLevel(Option<u8>),
    /// `static_node=NAME`
    StaticNode(String),
}

/// A user or group: a number, or a name (possibly with substitutions) resolved later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Id {
    /// Numeric id.
    Number(u32),
    /// Name or template.
    Name(String),
}

/// A `MODE` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Octal mode parsed at load time.
    Number(u32),
    /// A template expanded per event.
    Template(String),
}

/// One key-operator-value of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A string match against a device fact.
    Match {
        /// What is matched.
        key: MatchKey,
        /// `==` or `!=` (`KEY=="?*"` is stored as `KEY!=""`, as udev does).
        op: MatchOp,
        /// The compiled value.
        pattern: Pattern,
    },
    /// `TEST{mode}=="path"`.
    Test {
        /// Octal mode mask, if given.
        mode: Option<u32>,
        /// `==` or `!=`.
        op: MatchOp,
        /// The path (template).
        path: String,
    },
    /// `PROGRAM` (any assignment operator means `==`).
    Program {
        /// `==` or `!=`.
        op: MatchOp,
        /// Command line (template).
        command: String,
    },
    /// `IMPORT{kind}` (any assignment operator means `==`).
    Import {
        /// What is imported.
        kind: ImportKind,
        /// `==` or `!=`.
        op: MatchOp,
        /// Command, file, key or filter (template).
        value: String,
    },
    /// `OPTIONS`.
    Options {
        /// `=` or `:=` (`+=` is stored as `=`).
        op: AssignOp,
        /// The option.
        option: RuleOption,
    },
    /// `OWNER`.
    Owner {
        /// Operator.
        op: AssignOp,
        /// User.
        value: Id,
    },
    /// `GROUP`.
    Group {
        /// Operator.
        op: AssignOp,
        /// Group.
        value: Id,
    },
    /// `MODE`.
    Mode {
        /// Operator.
        op: AssignOp,
        /// Mode.
        value: Mode,
    },
    /// `TAG` assignment.
    Tag {
        /// Operator.
        op: AssignOp,
        /// Tag (template).
        value: String,
    },
    /// `SECLABEL{module}`.
    Seclabel {
        /// Security module.
        module: String,
        /// Operator.
        op: AssignOp,
        /// Label (template).
        value: String,
    },
    /// `ENV{key}` assignment.
    Env {
        /// Property name.
        key: String,
        /// Operator.
        op: AssignOp,
        /// Value (template).
        value: String,
    },
    /// `NAME` assignment.
    Name {
        /// Operator.
        op: AssignOp,
        /// Name (template).
        value: String,
    },
    /// `SYMLINK` assignment.
    Symlink {
        /// Operator.
        op: AssignOp,
        /// Space-separated links (template).
        value: String,
    },
    /// `ATTR{file}` assignment.
    Attr {
        /// Attribute (template, or `[subsystem/sysname]attr`).
        attr: String,
        /// Operator.
        op: AssignOp,
        /// Value (template).
        value: String,
    },
    /// `SYSCTL{parameter}` assignment.
    Sysctl {
        /// Parameter (template).
        attr: String,
        /// Operator.
        op: AssignOp,
        /// Value (template).
        value: String,
    },
    /// `RUN{kind}`.
    Run {
        /// Program or builtin.
        kind: RunKind,
        /// Operator.
        op: AssignOp,
        /// Command line (template).
        value: String,
    },
}

impl Token {
    /// udev's token order: a rule's tokens are evaluated in this order, not as written
    /// (device matches, parent matches, TEST, PROGRAM, IMPORTs, RESULT, then assignments).
    pub fn rank(&self) -> u8 {
        match self {
            Token::Match { key, .. } => match key {
                MatchKey::Action => 0,
                MatchKey::Devpath => 1,
                MatchKey::Kernel => 2,
                MatchKey::Symlink => 3,
                MatchKey::Name => 4,
                MatchKey::Env(_) => 5,
                MatchKey::Const(_) => 6,
                MatchKey::Tag => 7,
                MatchKey::Subsystem => 8,
                MatchKey::Driver => 9,
                MatchKey::Attr(_) => 10,
                MatchKey::Sysctl(_) => 11,
                MatchKey::Kernels => 12,
                MatchKey::Subsystems => 13,
                MatchKey::Drivers => 14,
                MatchKey::Attrs(_) => 15,
                MatchKey::Tags => 16,
                MatchKey::Result => 25,
            },
            Token::Test { .. } => 17,
            Token::Program { .. } => 18,
            Token::Import { kind, .. } => match kind {
                ImportKind::File => 19,
                ImportKind::Program => 20,
                ImportKind::Builtin(_) => 21,
                ImportKind::Db => 22,
                ImportKind::Cmdline => 23,
                ImportKind::Parent => 24,
            },
            Token::Options { option, .. } => match option {
                RuleOption::StringEscapeNone => 26,
                RuleOption::StringEscapeReplace => 27,
                RuleOption::DbPersist => 28,
                RuleOption::Watch(_) => 29,
                RuleOption::LinkPriority(_) => 30,
                RuleOption::LogLevel(_) => 31,
                RuleOption::StaticNode(_) => 39,
            },
            Token::Owner {
                value: Id::Name(_), ..
            } => 32,
            Token::Group {
                value: Id::Name(_), ..
            } => 33,
            Token::Mode {
                value: Mode::Template(_),
                ..
            } => 34,
            Token::Owner { .. } => 35,
            Token::Group { .. } => 36,
            Token::Mode { .. } => 37,
            Token::Tag { .. } => 38,
            Token::Seclabel { .. } => 40,
            Token::Env { .. } => 41,
            Token::Name { .. } => 42,
            Token::Symlink { .. } => 43,
            Token::Attr { .. } => 44,
            Token::Sysctl { .. } => 45,
            Token::Run {
                kind: RunKind::Builtin(_),
                ..
            } => 46,
            Token::Run { .. } => 47,
        }
    }
}

/// A `GOTO` resolved to its `LABEL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goto {
    /// The label.
    pub label: String,
    /// Index in [`RulesFile::lines`] of the first later line carrying the label.
    pub target: usize,
}

/// One rule (logical line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleLine {
    /// Line number (the last physical line of a continued line).
    pub line: usize,
    /// The tokens in udev's evaluation order ([`Token::rank`]; stable for equal ranks).
    pub tokens: Vec<Token>,
    /// `LABEL=` of this line.
    pub label: Option<String>,
    /// `GOTO=` of this line.
    pub goto: Option<Goto>,
}

/// A parsed rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesFile {
    /// The path given to [`parse`], used in diagnostics.
    pub path: String,
    /// The rules that apply.
    pub lines: Vec<RuleLine>,
    /// Errors and warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

const WS: [char; 4] = [' ', '\t', '\n', '\r'];

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Splits like systemd's `read_line`: `\n`, `\r`, NUL and their combinations (`\r\n`, `\n\r`,
/// each optionally followed by NUL) end a line. Returns the lines and whether reading stopped
/// at a line of [`LINE_MAX`] bytes or more (udev stops reading the file there).
fn physical_lines(b: &[u8]) -> (Vec<&[u8]>, bool) {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let start = pos;
        while let Some(&c) = b.get(pos) {
            if matches!(c, b'\n' | b'\r' | 0) {
                break;
            }
            pos += 1;
        }
        if pos - start >= LINE_MAX {
            return (out, true);
        }
        out.push(b.get(start..pos).unwrap_or_default());
        let mut seen = 0u8;
        while let Some(&c) = b.get(pos) {
            let bit = match c {
                b'\n' => 1,
                b'\r' => 2,
                0 => 4,
                _ => break,
            };
            if seen & 4 != 0 || seen & bit != 0 {
                break;
            }
            seen |= bit;
            pos += 1;
        }
    }
    (out, false)
}

/// A quoted value: the text and its prefix.
struct Value {
    text: String,
    case_insensitive: bool,
}

/// C escapes of `e"..."` (systemd's `cunescape` without flags): `\a \b \f \n \r \t \v \\ \"
/// \' \s \xHH \uHHHH \UHHHHHHHH \OOO`; NUL and anything else is an error.
fn cunescape(s: &[u8]) -> Option<Vec<u8>> {
    let hex = |b: Option<&u8>| b.and_then(|&c| (c as char).to_digit(16));
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = *s.get(i + 1)?;
        let simple = match e {
            b'a' => Some(7),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'\\' => Some(b'\\'),
            b'"' => Some(b'"'),
            b'\'' => Some(b'\''),
            b's' => Some(b' '),
            _ => None,
        };
        if let Some(v) = simple {
            out.push(v);
            i += 2;
            continue;
        }
        match e {
            b'x' => {
                let v = hex(s.get(i + 2))? * 16 + hex(s.get(i + 3))?;
                if v == 0 {
                    return None;
                }
                out.push(v as u8);
                i += 4;
            }
            b'u' | b'U' => {
                let n = if e == b'u' { 4 } else { 8 };
                let mut v: u32 = 0;
                for k in 0..n {
                    v = v.checked_mul(16)?.checked_add(hex(s.get(i + 2 + k))?)?;
                }
                let ch = char::from_u32(v).filter(|&c| c != '\0')?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                i += 2 + n;
            }
            b'0'..=b'7' => {
                let oct = |b: Option<&u8>| {
                    b.filter(|c| (b'0'..=b'7').contains(*c))
                        .map(|c| u32::from(c - b'0'))
                };
                let v = (oct(s.get(i + 1))? << 6) | (oct(s.get(i + 2))? << 3) | oct(s.get(i + 3))?;
                if v == 0 || v > 255 {
                    return None;
                }
                out.push(v as u8);
                i += 4;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// udev's `udev_rule_parse_value` at `pos` (plus the `i"..."` prefix): returns the value and
/// the position after the closing quote.
fn parse_value(line: &str, pos: usize) -> Option<(Value, usize)> {
    let b = line.as_bytes();
    let (escaped, ci, start) = match b.get(pos) {
        Some(b'e') => (true, false, pos + 1),
        Some(b'i') => (false, true, pos + 1),
        _ => (false, false, pos),
    };
    if b.get(start) != Some(&b'"') {
        return None;
    }
    let mut i = start + 1;
    let bytes = if !escaped {
        let mut out = Vec::new();
        loop {
            match b.get(i) {
                None => return None,
                Some(b'"') => break,
                Some(b'\\') if b.get(i + 1) == Some(&b'"') => {
                    out.push(b'"');
                    i += 2;
                }
                Some(&c) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        out
    } else {
        loop {
            match b.get(i) {
                None => return None,
                Some(b'"') => break,
                Some(b'\\') => {
                    b.get(i + 1)?;
                    i += 2;
                }
                Some(_) => i += 1,
            }
        }
        cunescape(b.get(start + 1..i)?)?
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Some((
        Value {
            text,
            case_insensitive: ci,
        },
        i + 1,
    ))
}

struct Pair<'a> {
    key: &'a str,
    attr: Option<&'a str>,
    op: Op,
    value: Value,
}

/// udev's `parse_line`: the next `KEY{attr}OP"value"` at `*pos`; `Ok(None)` at the end.
fn next_pair<'a>(line: &'a str, pos: &mut usize) -> Result<Option<Pair<'a>>, ()> {
    let b = line.as_bytes();
    let mut p = *pos;
    while b.get(p).is_some_and(|&c| is_ws(c) || c == b',') {
        p += 1;
    }
    if p >= b.len() {
        *pos = p;
        return Ok(None);
    }
    let key_begin = p;
    let mut key_end = p;
    loop {
        let Some(&c) = b.get(key_end) else {
            return Err(());
        };
        if is_ws(c) || c == b'=' || c == b'{' {
            break;
        }
        if matches!(c, b'+' | b'-' | b'!' | b':') && b.get(key_end + 1) == Some(&b'=') {
            break;
        }
        key_end += 1;
    }
    let (attr, mut t) = if b.get(key_end) == Some(&b'{') {
        let close = line
            .get(key_end + 1..)
            .and_then(|s| s.find('}'))
            .ok_or(())?;
        (
            line.get(key_end + 1..key_end + 1 + close),
            key_end + 1 + close + 1,
        )
    } else {
        (None, key_end)
    };
    while b.get(t).is_some_and(|&c| is_ws(c)) {
        t += 1;
    }
    let two = line.get(t..).unwrap_or("");
    let op = if two.starts_with("==") {
        Op::Match
    } else if two.starts_with("!=") {
        Op::NoMatch
    } else if two.starts_with("+=") {
        Op::Add
    } else if two.starts_with("-=") {
        Op::Remove
    } else if two.starts_with('=') {
        Op::Assign
    } else if two.starts_with(":=") {
        Op::AssignFinal
    } else {
        return Err(());
    };
    t += if op == Op::Assign { 1 } else { 2 };
    while b.get(t).is_some_and(|&c| is_ws(c)) {
        t += 1;
    }
    let (value, end) = parse_value(line, t).ok_or(())?;
    *pos = end;
    let key = line.get(key_begin..key_end).ok_or(())?;
    Ok(Some(Pair {
        key,
        attr,
        op,
        value,
    }))
}

const HAS_NAME: u8 = 1;
const HAS_DEVLINK: u8 = 2;
const HAS_STATIC_NODE: u8 = 4;
const HAS_GOTO: u8 = 8;
const HAS_LABEL: u8 = 16;
const UPDATES: u8 = 32;

struct Line {
    tokens: Vec<Token>,
    label: Option<String>,
    goto: Option<String>,
    flags: u8,
}

impl Line {
    fn push(&mut self, t: Token) {
        self.flags |= match &t {
            Token::Name { .. } => HAS_NAME,
            Token::Symlink { .. }
            | Token::Owner { .. }
            | Token::Group { .. }
            | Token::Mode { .. } => HAS_DEVLINK,
            Token::Options {
                option: RuleOption::StaticNode(_),
                ..
            } => HAS_STATIC_NODE,
            Token::Match { .. } | Token::Test { .. } => 0,
            _ => UPDATES,
        };
        self.tokens.push(t);
    }
}

struct Parser {
    path: String,
    line: usize,
    diagnostics: Vec<Diagnostic>,
}

/// Names of properties that `ENV{}=` may not set.
const READ_ONLY_ENV: [&str; 12] = [
    "ACTION",
    "DEVLINKS",
    "DEVNAME",
    "DEVPATH",
    "DEVTYPE",
    "DRIVER",
    "IFINDEX",
    "MAJOR",
    "MINOR",
    "SEQNUM",
    "SUBSYSTEM",
    "TAGS",
];

/// Keys whose value is a pattern (split at `|`).
fn is_pattern_key(key: &str) -> bool {
    matches!(
        key,
        "ACTION"
            | "DEVPATH"
            | "KERNEL"
            | "SYMLINK"
            | "NAME"
            | "ENV"
            | "CONST"
            | "TAG"
            | "SUBSYSTEM"
            | "DRIVER"
            | "ATTR"
            | "SYSCTL"
            | "KERNELS"
            | "SUBSYSTEMS"
            | "DRIVERS"
            | "ATTRS"
            | "TAGS"
            | "RESULT"
    )
}

/// systemd's `parse_mode`: octal, at most 07777, no sign.
fn parse_mode(s: &str) -> Option<u32> {
    let s = s.trim_start_matches(WS);
    if s.is_empty() || !s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    u32::from_str_radix(s, 8).ok().filter(|&m| m <= 0o7777)
}

/// systemd's `parse_uid`/`parse_gid`: decimal, not 65535 or 4294967295.
fn parse_id(s: &str) -> Option<u32> {
    let s = s.trim_start_matches(WS);
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>()
        .ok()
        .filter(|&v| v != 0xFFFF && v != u32::MAX)
}

/// systemd's `safe_atoi`: `strtol` with base 0 (decimal, `0x` hex, `0` octal), whole string.
fn parse_int(s: &str) -> Option<i32> {
    let s = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, h)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, s.get(1..)?)
    } else {
        (10, s)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    i32::try_from(if neg { -v } else { v }).ok()
}

/// Log levels by name (`log_level_from_string`), or a number up to 7.
fn parse_log_level(s: &str) -> Option<u8> {
    const NAMES: [&str; 8] = [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];
    if let Some(i) = NAMES.iter().position(|n| *n == s) {
        return u8::try_from(i).ok();
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u8>().ok().filter(|&l| l <= 7)
}

impl Parser {
    fn diag(&mut self, level: Level, message: String) {
        self.diagnostics.push(Diagnostic {
            file: self.path.clone(),
            line: self.line,
            level,
            message,
        });
    }
    fn error(&mut self, message: String) -> Result<(), ()> {
        self.diag(Level::Error, message);
        Err(())
    }
    fn warn(&mut self, message: String) {
        self.diag(Level::Warning, message);
    }
    fn invalid_op(&mut self, key: &str) -> Result<(), ()> {
        self.error(format!("Invalid operator for {key}."))
    }
    fn invalid_attr(&mut self, key: &str) -> Result<(), ()> {
        self.error(format!("Invalid attribute for {key}."))
    }
    /// udev's `check_value_format_and_warn`: logs, keeps the token.
    fn check_value(&mut self, key: &str, value: &str, nonempty: bool) {
        if nonempty && value.is_empty() {
            self.diag(
                Level::Error,
                format!("Invalid value \"{value}\" for {key} (char 0: empty value), ignoring."),
            );
        } else if let Err(e) = subst::check(value) {
            self.diag(
                Level::Error,
                format!("Invalid value \"{value}\" for {key} ({e}), ignoring."),
            );
        }
    }
    /// udev's `check_attr_format_and_warn`: a missing attribute drops the line, a bad
    /// substitution is only logged.
    fn check_attr(&mut self, key: &str, attr: Option<&str>) -> Result<(), ()> {
        match attr {
            None | Some("") => self.invalid_attr(key),
            Some(a) => {
                if let Err(e) = subst::check(a) {
                    self.diag(
                        Level::Error,
                        format!("Invalid attribute \"{a}\" for {key} ({e}), ignoring."),
                    );
                }
                Ok(())
            }
        }
    }

    fn match_token(&self, key: MatchKey, op: Op, value: &Value) -> Token {
        let subsystem = key == MatchKey::Subsystem;
        let mut op = op.match_op();
        let synonym = subsystem && matches!(value.text.as_str(), "subsystem" | "bus" | "class");
        let pattern = if !synonym && value.text == "?*" {
            // KEY=="?*" is KEY!="".
            op = if op == MatchOp::Match {
                MatchOp::NoMatch
            } else {
                MatchOp::Match
            };
            Pattern::new("", true, false, value.case_insensitive)
        } else {
            Pattern::new(&value.text, true, subsystem, value.case_insensitive)
        };
        Token::Match { key, op, pattern }
    }

    /// udev's `parse_token`. `Err` drops the line.
    fn token(
        &mut self,
        line: &mut Line,
        key: &str,
        attr: Option<&str>,
        op: Op,
        value: Value,
    ) -> Result<(), ()> {
        let is_match = op.is_match();
        let v = value.text.as_str();
        if value.case_insensitive && !(is_match && is_pattern_key(key)) {
            return self.error(format!(
                "Invalid prefix 'i' for {key}: only match values can be case-insensitive."
            ));
        }
        // Keys that only match, have no attribute and take the value as a pattern.
        let plain_match = match key {
            "ACTION" => Some(MatchKey::Action),
            "DEVPATH" => Some(MatchKey::Devpath),
            "KERNEL" => Some(MatchKey::Kernel),
            "SUBSYSTEM" => Some(MatchKey::Subsystem),
            "DRIVER" => Some(MatchKey::Driver),
            "KERNELS" => Some(MatchKey::Kernels),
            "SUBSYSTEMS" => Some(MatchKey::Subsystems),
            "DRIVERS" => Some(MatchKey::Drivers),
            "TAGS" => Some(MatchKey::Tags),
            "RESULT" => Some(MatchKey::Result),
            _ => None,
        };
        if let Some(mk) = plain_match {
            if attr.is_some() {
                return self.invalid_attr(key);
            }
            if !is_match {
                return self.invalid_op(key);
            }
            if mk == MatchKey::Subsystem && matches!(v, "bus" | "class") {
                self.warn(format!("\"{v}\" must be specified as \"subsystem\"."));
            }
            let t = self.match_token(mk, op, &value);
            line.push(t);
            return Ok(());
        }
        match key {
            "SYMLINK" => {
                if attr.is_some() {
                    return self.invalid_attr(key);
                }
                if op == Op::Remove {
                    return self.invalid_op(key);
                }
                if is_match {
                    let t = self.match_token(MatchKey::Symlink, op, &value);
                    line.push(t);
                } else {
                    self.check_value(key, v, false);
                    line.push(Token::Symlink {
                        op: op.assign_op(),
                        value: value.text,
                    });
                }
            }
            "NAME" => {
                if attr.is_some() {
                    return self.invalid_attr(key);
                }
                let mut op = op;
                if op == Op::Remove {
                    return self.invalid_op(key);
                }
                if op == Op::Add {
                    self.warn(format!(
                        "{key} key takes '==', '!=', '=', or ':=' operator, assuming '='."
                    ));
                    op = Op::Assign;
                }
                if is_match {
                    let t = self.match_token(MatchKey::Name, op, &value);
                    line.push(t);
                } else {
                    if v == "%k" {
                        return self
                            .error("Ignoring NAME=\"%k\", as it will take no effect.".to_string());
                    }
                    if v.is_empty() {
                        return self.error(
                            "Ignoring NAME=\"\", as udev will not delete any network interfaces."
                                .to_string(),
                        );
                    }
                    self.check_value(key, v, false);
                    line.push(Token::Name {
                        op: op.assign_op(),
                        value: value.text,
                    });
                }
            }
            "ENV" => {
                let Some(name) = attr.filter(|a| !a.is_empty()) else {
                    return self.invalid_attr(key);
                };
                let mut op = op;
                if op == Op::Remove {
                    return self.invalid_op(key);
                }
                if op == Op::AssignFinal {
                    self.warn(format!(
                        "{key} key takes '==', '!=', '=', or '+=' operator, assuming '='."
                    ));
                    op = Op::Assign;
                }
                if is_match {
                    let t = self.match_token(MatchKey::Env(name.to_string()), op, &value);
                    line.push(t);
                } else {
                    if READ_ONLY_ENV.contains(&name) {
                        return self
                            .error(format!("Invalid ENV attribute. '{name}' cannot be set."));
                    }
                    self.check_value(key, v, false);
                    line.push(Token::Env {
                        key: name.to_string(),
                        op: op.assign_op(),
                        value: value.text,
                    });
                }
            }
            "CONST" => {
                let ck = match attr {
                    Some("arch") => ConstKey::Arch,
                    Some("virt") => ConstKey::Virt,
                    _ => return self.invalid_attr(key),
                };
                if !is_match {
                    return self.invalid_op(key);
                }
                let t = self.match_token(MatchKey::Const(ck), op, &value);
                line.push(t);
            }
            "TAG" => {
                if attr.is_some() {
                    return self.invalid_attr(key);
                }
                let mut op = op;
                if op == Op::AssignFinal {
                    self.warn(format!(
                        "{key} key takes '==', '!=', '=', or '+=' operator, assuming '='."
                    ));
                    op = Op::Assign;
                }
                if is_match {
                    let t = self.match_token(MatchKey::Tag, op, &value);
                    line.push(t);
                } else {
                    self.check_value(key, v, true);
                    line.push(Token::Tag {
                        op: op.assign_op(),
                        value: value.text,
                    });
                }
            }
            "ATTR" | "SYSCTL" => {
                self.check_attr(key, attr)?;
                let name = attr.unwrap_or_default();
                let mut op = op;
                if op == Op::Remove {
                    return self.invalid_op(key);
                }
                if matches!(op, Op::Add | Op::AssignFinal) {
                    self.warn(format!(
                        "{key} key takes '==', '!=', or '=' operator, assuming '='."
                    ));
                    op = Op::Assign;
                }
                let sysctl = key == "SYSCTL";
                if is_match {
                    let mk = if sysctl {
                        MatchKey::Sysctl(name.to_string())
                    } else {
                        MatchKey::Attr(AttrName::new(name, v))
                    };
                    let t = self.match_token(mk, op, &value);
                    line.push(t);
                } else {
                    self.check_value(key, v, false);
                    let (attr, op, value) = (name.to_string(), op.assign_op(), value.text);
                    line.push(if sysctl {
                        Token::Sysctl { attr, op, value }
                    } else {
                        Token::Attr { attr, op, value }
                    });
                }
            }
            "ATTRS" => {
                self.check_attr(key, attr)?;
                let name = attr.unwrap_or_default();
                if !is_match {
                    return self.invalid_op(key);
                }
                if name.starts_with("device/") {
                    self.warn("'device' link may not be available in future kernels.".to_string());
                }
                if name.contains("../") {
                    self.warn(
                        "Direct reference to parent sysfs directory, may break in future kernels."
                            .to_string(),
                    );
                }
                let t = self.match_token(MatchKey::Attrs(AttrName::new(name, v)), op, &value);
                line.push(t);
            }
            "TEST" => {
                let mode = match attr {
                    Some(a) if !a.is_empty() => match parse_mode(a) {
                        Some(m) => Some(m),
                        None => return self.error(format!("Failed to parse mode '{a}'.")),
                    },
                    _ => None,
                };
                self.check_value(key, v, true);
                if !is_match {
                    return self.invalid_op(key);
                }
                line.push(Token::Test {
                    mode,
                    op: op.match_op(),
                    path: value.text,
                });
            }
            "PROGRAM" => {
                if attr.is_some() {
                    return self.invalid_attr(key);
                }
                self.check_value(key, v, true);
                if op == Op::Remove {
                    return self.invalid_op(key);
                }
                line.push(Token::Program {
                    op: op.match_op(),
                    command: value.text,
                });
            }
            "IMPORT" => {
                let Some(a) = attr.filter(|a| !a.is_empty()) else {
                    return self.invalid_attr(key);
                };
                self.check_value(key, v, true);
                if op == Op::Remove {
                    return self.invalid_op(key);
                }
                let kind = match a {
                    "file" => ImportKind::File,
                    "program" => {
                        Builtin::lookup(v).map_or(ImportKind::Program, ImportKind::Builtin)
                    }
                    "builtin" => match Builtin::lookup(v) {
                        Some(b) => ImportKind::Builtin(b),
                        None => return self.error(format!("Unknown builtin command: {v}")),
                    },
                    "db" => ImportKind::Db,
                    "cmdline" => ImportKind::Cmdline,
                    "parent" => ImportKind::Parent,
                    _ => return self.invalid_attr(key),
                };
                line.push(Token::Import {
                    kind,
                    op: op.match_op(),
                    value: value.text,
                });
            }
            "OPTIONS" => {
                if attr.is_some() {
                    return self.invalid_attr(key);
                }
                if is_match || op == Op::Remove {
                    return self.invalid_op(key);
                }
                let op = if op == Op::Add {
                    AssignOp::Assign
                } else {
                    op.assign_op()
                };
                let option = if v == "string_escape=none" {
                    RuleOption::StringEscapeNone
                } else if v == "string_escape=replace" {
                    RuleOption::StringEscapeReplace
                } else if v == "db_persist" {
                    RuleOption::DbPersist
                } else if v == "watch" {
                    RuleOption::Watch(true)
                } else if v == "nowatch" {
                    RuleOption::Watch(false)
                } else if let Some(n) = v.strip_prefix("static_node=") {
                    RuleOption::StaticNode(n.to_string())
                } else if let Some(p) = v.strip_prefix("link_priority=") {
                    match parse_int(p) {
                        Some(p) => RuleOption::LinkPriority(p),
                        None => return self.error(format!("Failed to parse link priority '{p}'.")),
                    }
                } else if let Some(l) = v.strip_prefix("log_level=") {
                    if l == "reset" {
                        RuleOption::LogLevel(None)
                    } else {
                        match parse_log_level(l) {
                            Some(l) => RuleOption::LogLevel(Some(l)),
                            None => return self.error(format!("Failed to parse log level '{l}'.")),
                        }
                    }
                } else {
                    self.warn(format!("Invalid value for OPTIONS key, ignoring: '{v}'"));
                    return Ok(());
                };
                line.push(Token::Options { op, option });
            }
            "OWNER" | "GROUP" | "MODE" => {
                if attr.is_some() {
                    return self.invalid_attr(key);
                }
                let mut op = op;
                if is_match || op == Op::Remove {
                    return self.invalid_op(key);
                }
                if op == Op::Add {
                    self.warn(format!(
                        "{key} key takes '=' or ':=' operator, assuming '='."
                    ));
                    op = Op::Assign;
                }
                let op = op.assign_op();
                if key == "MODE" {
                    let value = match parse_mode(v) {
                        Some(m) => Mode::Number(m),
                        None => {
                            self.check_value(key, v, true);
                            Mode::Template(value.text)
                        }
                    };
                    line.push(Token::Mode { op, value });
                } else {
                    let value = match parse_id(v) {
                        Some(id) => Id::Number(id),
                        None => {
                            self.check_value(key, v, true);
                            Id::Name(value.text)
                        }
                    };
                    line.push(if key == "OWNER" {
                        Token::Owner { op, value }
                    } else {
                        Token::Group { op, value }
                    });
                }
            }
            "SECLABEL" => {
                let Some(module) = attr.filter(|a| !a.is_empty()) else {
                    return self.invalid_attr(key);
                };
                self.check_value(key, v, true);
                let mut op = op;
                if is_match || op == Op::Remove {
                    return self.invalid_op(key);
                }
                if op == Op::AssignFinal {
                    self.warn(format!(
                        "{key} key takes '=' or '+=' operator, assuming '='."
                    ));
                    op = Op::Assign;
                }
                line.push(Token::Seclabel {
                    module: module.to_string(),
                    op: op.assign_op(),
                    value: value.text,
                });
            }
            "RUN" => {
                if is_match || op == Op::Remove {
                    return self.invalid_op(key);
                }
                self.check_value(key, v, true);
                let kind = match attr {
                    None | Some("program") => RunKind::Program,
                    Some("builtin") => match Builtin::lookup(v) {
                        Some(b) => RunKind::Builtin(b),
                        None => {
                            return self.error(format!("Unknown builtin command '{v}', ignoring"))
                        }
                    },
                    Some(_) => return self.invalid_attr(key),
                };
                line.push(Token::Run {
                    kind,
                    op: op.assign_op(),
                    value: value.text,
                });
            }
            "GOTO" => {
                if attr.is_some() {
                    return self.invalid_attr(key);
                }
                if op != Op::Assign {
                    return self.invalid_op(key);
                }
                if line.flags & HAS_GOTO != 0 {
                    self.warn(format!(
                        "Contains multiple GOTO keys, ignoring GOTO=\"{v}\"."
                    ));
                    return Ok(());
                }
                line.goto = Some(value.text);
                line.flags |= HAS_GOTO;
            }
            "LABEL" => {
                if attr.is_some() {
                    return self.invalid_attr(key);
                }
                if op != Op::Assign {
                    return self.invalid_op(key);
                }
                line.label = Some(value.text);
                line.flags |= HAS_LABEL;
            }
            _ => return self.error(format!("Invalid key '{key}'")),
        }
        Ok(())
    }

    /// udev's `rule_add_line`.
    fn rule_line(&mut self, text: &str) -> Option<Line> {
        let mut line = Line {
            tokens: Vec::new(),
            label: None,
            goto: None,
            flags: 0,
        };
        let mut pos = 0;
        loop {
            match next_pair(text, &mut pos) {
                Err(()) => {
                    self.diag(
                        Level::Error,
                        "Invalid key/value pair, ignoring.".to_string(),
                    );
                    return None;
                }
                Ok(None) => break,
                Ok(Some(p)) => self.token(&mut line, p.key, p.attr, p.op, p.value).ok()?,
            }
        }
        if line.flags == 0 {
            self.warn("The line takes no effect, ignoring.".to_string());
            return None;
        }
        line.tokens.sort_by_key(Token::rank);
        Some(line)
    }
}

/// Parses one rules file. `path` names it in diagnostics.
pub fn parse(path: &str, bytes: &[u8]) -> RulesFile {
    let mut p = Parser {
        path: path.to_string(),
        line: 0,
        diagnostics: Vec::new(),
    };
    let mut lines: Vec<(usize, Line)> = Vec::new();
    let (physical, too_long) = physical_lines(bytes);
    let mut continuation: Option<String> = None;
    let mut ignore_line = false;
    for raw in physical {
        p.line += 1;
        let raw = String::from_utf8_lossy(raw);
        let mut line: String = raw.trim_start_matches(WS).to_string();
        if line.starts_with('#') {
            continue;
        }
        if !ignore_line {
            if let Some(c) = continuation.as_mut() {
                if c.len() + line.len() >= LINE_MAX {
                    ignore_line = true;
                } else {
                    c.push_str(&line);
                    line = std::mem::take(c);
                }
            }
        }
        if line.ends_with('\\') {
            if ignore_line {
                continue;
            }
            line.pop();
            continuation = Some(line);
            continue;
        }
        if ignore_line {
            p.diag(Level::Error, "Line is too long, ignored".to_string());
        } else if !line.is_empty() {
            if let Some(l) = p.rule_line(&line) {
                lines.push((p.line, l));
            }
        }
        continuation = None;
        ignore_line = false;
    }
    if too_long {
        p.line += 1;
        p.diag(
            Level::Error,
            format!("Line is longer than {LINE_MAX} bytes, the rest of the file is ignored"),
        );
    }
    resolve_gotos(&mut p, lines)
}

/// udev's `rule_resolve_goto`: each GOTO jumps to the first later line with its LABEL; a GOTO
/// without one is an error and is dropped, and so is a line left with nothing to do.
fn resolve_gotos(p: &mut Parser, lines: Vec<(usize, Line)>) -> RulesFile {
    let mut targets: Vec<Option<usize>> = Vec::with_capacity(lines.len());
    let mut keep: Vec<bool> = Vec::with_capacity(lines.len());
    for (i, (nr, l)) in lines.iter().enumerate() {
        let Some(label) = &l.goto else {
            targets.push(None);
            keep.push(true);
            continue;
        };
        let t = lines
            .iter()
            .enumerate()
            .skip(i + 1)
            .find(|(_, (_, c))| c.label.as_ref() == Some(label))
            .map(|(j, _)| j);
        if t.is_none() {
            p.diagnostics.push(Diagnostic {
                file: p.path.clone(),
                line: *nr,
                level: Level::Error,
                message: format!("GOTO=\"{label}\" has no matching label, ignoring"),
            });
            if l.flags & !(HAS_GOTO | HAS_LABEL) == 0 {
                p.diagnostics.push(Diagnostic {
                    file: p.path.clone(),
                    line: *nr,
                    level: Level::Warning,
                    message: "The line takes no effect any more, dropping".to_string(),
                });
                // A line that still carries a LABEL stays (without tokens) as a jump target.
                keep.push(l.label.is_some());
                targets.push(None);
                continue;
            }
        }
        keep.push(true);
        targets.push(t);
    }
    // New indices after dropping lines (a target always carries a label, so it is kept).
    let mut new_index = Vec::with_capacity(lines.len());
    let mut n = 0;
    for k in &keep {
        new_index.push(n);
        if *k {
            n += 1;
        }
    }
    let mut out = Vec::with_capacity(n);
    for (i, (nr, l)) in lines.into_iter().enumerate() {
        if !keep.get(i).copied().unwrap_or(false) {
            continue;
        }
        let target = targets.get(i).copied().flatten();
        let had_goto = l.goto.is_some();
        let goto = match (l.goto, target) {
            (Some(label), Some(t)) => new_index.get(t).map(|&target| Goto { label, target }),
            _ => None,
        };
        let dead = had_goto && goto.is_none() && l.flags & !(HAS_GOTO | HAS_LABEL) == 0;
        out.push(RuleLine {
            line: nr,
            tokens: if dead { Vec::new() } else { l.tokens },
            label: l.label,
            goto,
        });
    }
    RulesFile {
        path: p.path.clone(),
        lines: out,
        diagnostics: std::mem::take(&mut p.diagnostics),
    }
}

#[cfg(test)]
#[path = "syntax_tests.rs"]
mod tests;
