//! Unit names exactly as systemd 252 has them: validation, type by suffix, templates and
//! instances, the escaping of systemd-escape(1) (plain, `--path`, `--unescape`,
//! `--template`), and the mapping between paths and unit names that mount, automount, swap
//! and device units use, including the hashed names of overlong paths.
//!
//! A unit name is `PREFIX[@INSTANCE].TYPE`. A *template* has an `@` and an empty instance
//! (`getty@.service`); an *instance* has a non-empty one (`getty@tty1.service`). Everything
//! here works on bytes the way systemd does, so non-ASCII text is escaped byte by byte.

use crate::diag::ValueError;
use std::fmt;

/// The longest valid unit name in bytes (systemd's `UNIT_NAME_MAX` less the NUL byte).
pub const UNIT_NAME_MAX: usize = 255;

/// Paths of this many bytes or more are refused, as the kernel's `PATH_MAX` counts the NUL.
const PATH_MAX: usize = 4096;

/// The longest single path component in bytes.
const NAME_MAX: usize = 255;

/// The number of hex digits in the hash that replaces the tail of an overlong name.
const HASH_CHARS: usize = 16;

/// The SipHash key systemd uses for hashing overlong unit names, as two little-endian words.
const HASH_KEY: (u64, u64) = (
    u64::from_le_bytes([0xec, 0xf2, 0x37, 0xfb, 0x58, 0x32, 0x4a, 0x32]),
    u64::from_le_bytes([0x84, 0x9f, 0x06, 0x9b, 0x0d, 0x21, 0xeb, 0x9a]),
);

/// Every unit type systemd knows, with its file-name suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnitType {
    Service,
    Socket,
    Target,
    Device,
    Mount,
    Automount,
    Swap,
    Timer,
    Path,
    Slice,
    Scope,
}

impl UnitType {
    pub const ALL: [UnitType; 11] = [
        UnitType::Service,
        UnitType::Socket,
        UnitType::Target,
        UnitType::Device,
        UnitType::Mount,
        UnitType::Automount,
        UnitType::Swap,
        UnitType::Timer,
        UnitType::Path,
        UnitType::Slice,
        UnitType::Scope,
    ];

    /// The suffix without the dot, e.g. `"service"`.
    pub fn suffix(self) -> &'static str {
        match self {
            UnitType::Service => "service",
            UnitType::Socket => "socket",
            UnitType::Target => "target",
            UnitType::Device => "device",
            UnitType::Mount => "mount",
            UnitType::Automount => "automount",
            UnitType::Swap => "swap",
            UnitType::Timer => "timer",
            UnitType::Path => "path",
            UnitType::Slice => "slice",
            UnitType::Scope => "scope",
        }
    }

    /// Parses a suffix without the dot (case matters: `Service` is not a type).
    pub fn from_suffix(s: &str) -> Option<UnitType> {
        UnitType::ALL.into_iter().find(|t| t.suffix() == s)
    }

    /// Whether units of this type may be templates and instances. Every type has valid
    /// template *names*, but systemd only loads templates of these five types.
    pub fn may_template(self) -> bool {
        matches!(
            self,
            UnitType::Service
                | UnitType::Socket
                | UnitType::Target
                | UnitType::Timer
                | UnitType::Path
        )
    }

    /// Whether units of this type may have aliases (symlinks or `Alias=`). The other
    /// types are named after what they manage, so another name would be meaningless.
    pub fn may_alias(self) -> bool {
        self.may_template() || self == UnitType::Device
    }
}

impl fmt::Display for UnitType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.suffix())
    }
}

/// A validated unit name, split into its parts.
///
/// The manager keeps one per loaded unit, so the name is stored as one string, the name
/// without its type suffix, and the position of the `@` that ends the prefix; the parts
/// are slices of it. Names compare by prefix, then instance (a plain name first), then
/// type.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UnitName {
    /// The prefix, then `@` and the instance for a template or an instance.
    stem: Box<str>,
    /// Where the `@` is in `stem`: `None` for a plain name. A name is at most 255 bytes.
    at: Option<u8>,
    unit_type: UnitType,
}

impl PartialOrd for UnitName {
    fn partial_cmp(&self, other: &UnitName) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for UnitName {
    fn cmp(&self, other: &UnitName) -> std::cmp::Ordering {
        (self.prefix(), self.instance(), self.unit_type).cmp(&(
            other.prefix(),
            other.instance(),
            other.unit_type,
        ))
    }
}

/// The parts, as a struct of them would print.
impl fmt::Debug for UnitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnitName")
            .field("prefix", &self.prefix())
            .field("instance", &self.instance())
            .field("unit_type", &self.unit_type)
            .finish()
    }
}

impl UnitName {
    /// Parses and validates a full unit name such as `getty@tty1.service`, with the rules of
    /// systemd's `unit_name_is_valid`: at most 255 bytes; the type is what follows the last
    /// `.`; before it only ASCII letters, digits and `:-_.\` plus `@`; the first `@` splits
    /// prefix from instance (so an instance may contain further `@` and `.`), and the
    /// prefix must not be empty.
    pub fn parse(name: &str) -> Result<UnitName, ValueError> {
        if name.is_empty() {
            return Err(ValueError::new("unit name is empty"));
        }
        if name.len() > UNIT_NAME_MAX {
            return Err(ValueError::new(format!(
                "unit name '{name}' is {} bytes long, the maximum is {UNIT_NAME_MAX}",
                name.len()
            )));
        }
        let (stem, suffix) = name
            .rsplit_once('.')
            .ok_or_else(|| ValueError::new(format!("unit name '{name}' has no type suffix")))?;
        if stem.is_empty() {
            return Err(ValueError::new(format!(
                "unit name '{name}' has an empty prefix"
            )));
        }
        let unit_type = UnitType::from_suffix(suffix).ok_or_else(|| {
            ValueError::new(format!(
                "unit name '{name}' has an unknown type '.{suffix}'"
            ))
        })?;
        if let Some(c) = stem.chars().find(|&c| c != '@' && !is_name_char(c)) {
            return Err(ValueError::new(format!(
                "unit name '{name}' contains the invalid character {c:?}; only ASCII letters, \
                 digits, ':', '-', '_', '.', '\\' and '@' are allowed"
            )));
        }
        let at = match stem.find('@') {
            Some(0) => {
                return Err(ValueError::new(format!(
                    "unit name '{name}' has an empty prefix before '@'"
                )))
            }
            // Always fits: the whole name is at most UNIT_NAME_MAX (255) bytes.
            Some(i) => Some(u8::try_from(i).map_err(|_| ValueError::new("unit name too long"))?),
            None => None,
        };
        Ok(UnitName {
            stem: stem.into(),
            at,
            unit_type,
        })
    }

    /// Whether `name` is a valid unit name of any kind (plain, template or instance).
    pub fn is_valid(name: &str) -> bool {
        UnitName::parse(name).is_ok()
    }

    pub fn unit_type(&self) -> UnitType {
        self.unit_type
    }

    /// The (escaped) prefix, `%p`: `getty` for `getty@tty1.service`, `dev-sda1` for
    /// `dev-sda1.device`.
    pub fn prefix(&self) -> &str {
        match self.at {
            Some(at) => self.stem.get(..usize::from(at)).unwrap_or_default(),
            None => &self.stem,
        }
    }

    /// The instance, `%i`: `Some("tty1")` for `getty@tty1.service`, `Some("")` for a
    /// template, `None` for a plain name.
    pub fn instance(&self) -> Option<&str> {
        self.at
            .map(|at| self.stem.get(usize::from(at) + 1..).unwrap_or_default())
    }

    pub fn is_template(&self) -> bool {
        self.instance() == Some("")
    }

    pub fn is_instance(&self) -> bool {
        matches!(self.instance(), Some(i) if !i.is_empty())
    }

    /// The template an instance is made from (`getty@.service` for `getty@tty1.service`);
    /// a template is its own template; `None` for a plain name.
    pub fn template(&self) -> Option<UnitName> {
        self.at.map(|at| UnitName {
            stem: format!("{}@", self.prefix()).into(),
            at: Some(at),
            unit_type: self.unit_type,
        })
    }

    /// The same template with another (already escaped) instance, as systemd's
    /// `unit_name_replace_instance`: only templates and instances have one to replace, the
    /// new instance must be non-empty and made of valid characters, and the result must
    /// still fit in 255 bytes.
    pub fn with_instance(&self, instance: &str) -> Result<UnitName, ValueError> {
        if self.at.is_none() {
            return Err(ValueError::new(format!(
                "unit name '{self}' is neither a template nor an instance, so it takes no \
                 instance"
            )));
        }
        if instance.is_empty() {
            return Err(ValueError::new(format!(
                "empty instance for template '{self}'"
            )));
        }
        if let Some(c) = instance.chars().find(|&c| c != '@' && !is_name_char(c)) {
            return Err(ValueError::new(format!(
                "instance '{instance}' contains the invalid character {c:?}; escape it with \
                 systemd-escape"
            )));
        }
        UnitName::parse(&format!("{}@{instance}.{}", self.prefix(), self.unit_type))
    }

    /// The unescaped prefix, `%P`.
    pub fn prefix_unescaped(&self) -> Result<String, ValueError> {
        unescape(self.prefix())
    }

    /// The unescaped instance, `%I`; `None` for a plain name (where `%I` is empty).
    pub fn instance_unescaped(&self) -> Option<Result<String, ValueError>> {
        self.instance().map(unescape)
    }

    /// The final component of the prefix, `%j`: what follows the last `-` of the prefix,
    /// or the whole prefix when it has no `-`.
    pub fn prefix_final_component(&self) -> &str {
        let prefix = self.prefix();
        match prefix.rsplit_once('-') {
            Some((_, last)) => last,
            None => prefix,
        }
    }

    /// The unescaped final component of the prefix, `%J`.
    pub fn prefix_final_component_unescaped(&self) -> Result<String, ValueError> {
        unescape(self.prefix_final_component())
    }
}

impl fmt::Display for UnitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.stem, self.unit_type)
    }
}

/// The characters of a unit name other than `@`.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.' | '\\')
}

/// Escapes a string for use in a unit name, as `systemd-escape STRING`: `/` becomes `-`;
/// every byte that is not an ASCII letter, digit, `:`, `_` or `.` becomes `\xNN` (so do
/// `-` and `\`, to keep the escaping reversible); a leading `.` is escaped too, so no unit
/// name starts with one.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, b) in s.bytes().enumerate() {
        let plain = b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'.');
        if b == b'/' {
            out.push('-');
        } else if plain && !(i == 0 && b == b'.') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Undoes [`escape`], as `systemd-escape --unescape`: `-` becomes `/` and `\xNN` (either
/// case of hex digit) the byte NN; any other `\` is an error. As in systemd, the result
/// ends at an escaped NUL byte (`\x00`). Bytes that do not form UTF-8 are refused here,
/// where systemd would pass them through.
pub fn unescape(s: &str) -> Result<String, ValueError> {
    let bytes = unescape_bytes(s)?;
    String::from_utf8(bytes)
        .map_err(|_| ValueError::new(format!("'{s}' unescapes to bytes that are not UTF-8")))
}

/// The bytes `s` unescapes to, cut at the first NUL byte (systemd's result is a C string).
fn unescape_bytes(s: &str) -> Result<Vec<u8>, ValueError> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'-' => out.push(b'/'),
            b'\\' => {
                let x = bytes.next();
                let hi = bytes.next().and_then(hex_value);
                let lo = bytes.next().and_then(hex_value);
                match (x, hi, lo) {
                    (Some(b'x'), Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => {
                        return Err(ValueError::new(format!(
                            "invalid escape in '{s}': '\\' must be followed by 'x' and two hex \
                             digits"
                        )))
                    }
                }
            }
            _ => out.push(b),
        }
    }
    if let Some(nul) = out.iter().position(|&b| b == 0) {
        out.truncate(nul);
    }
    Ok(out)
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Escapes a path, as `systemd-escape --path PATH`: the path is simplified first (repeated
/// and trailing `/` and `.` components dropped), the root (or an empty string) becomes
/// `-`, otherwise the leading `/` is dropped and the rest escaped. Refused: paths with a
/// `..` component, a component over 255 bytes, 4096 bytes or more after simplification, or
/// nothing but `.` (relative paths are accepted, as systemd does).
pub fn escape_path(p: &str) -> Result<String, ValueError> {
    if p.is_empty() {
        return Ok("-".to_string());
    }
    let components: Vec<&str> = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if components.iter().any(|c| c.len() > NAME_MAX) {
        return Err(ValueError::new(format!(
            "path '{p}' has a component longer than {NAME_MAX} bytes"
        )));
    }
    if components.is_empty() {
        return if p.starts_with('/') {
            Ok("-".to_string())
        } else {
            Err(ValueError::new(format!(
                "path '{p}' names only the current directory '.'"
            )))
        };
    }
    if components.contains(&"..") {
        return Err(ValueError::new(format!(
            "path '{p}' is not normalized: it contains a '..' component"
        )));
    }
    let relative = components.join("/");
    // The length limit applies to the simplified path, including its leading slash.
    let simplified_len = relative.len() + usize::from(p.starts_with('/'));
    if simplified_len >= PATH_MAX {
        return Err(ValueError::new(format!(
            "path '{p}' is {simplified_len} bytes long, the maximum is {}",
            PATH_MAX - 1
        )));
    }
    Ok(escape(&relative))
}

/// Undoes [`escape_path`], as `systemd-escape --unescape --path`: `-` is the root,
/// anything else is unescaped and must name a normalized path below the root (no leading,
/// trailing or doubled `/`, no `.` or `..` components). Returns the absolute path.
pub fn unescape_path(s: &str) -> Result<String, ValueError> {
    if s.is_empty() {
        return Err(ValueError::new("empty string is not an escaped path"));
    }
    if s == "-" {
        return Ok("/".to_string());
    }
    let bytes = unescape_bytes(s)?;
    if bytes.first() == Some(&b'/') || bytes.last() == Some(&b'/') {
        return Err(ValueError::new(format!(
            "'{s}' unescapes to a path with a leading or trailing '/'"
        )));
    }
    let mut path = Vec::with_capacity(bytes.len() + 1);
    path.push(b'/');
    path.extend_from_slice(&bytes);
    if let Err(why) = check_normalized(&path) {
        return Err(ValueError::new(format!(
            "'{s}' does not unescape to a normalized absolute path: {why}"
        )));
    }
    String::from_utf8(path)
        .map_err(|_| ValueError::new(format!("'{s}' unescapes to bytes that are not UTF-8")))
}

/// Checks what systemd's `path_is_normalized` checks of an absolute path, saying what is
/// wrong: under 4096 bytes, components of at most 255 bytes, none of them `.` or `..`, no
/// doubled `/` (a single trailing one is allowed).
fn check_normalized(path: &[u8]) -> Result<(), &'static str> {
    if path.len() >= PATH_MAX {
        return Err("it is too long");
    }
    let mut components = path.split(|&b| b == b'/').skip(1).peekable();
    while let Some(component) = components.next() {
        match component {
            b".." => return Err("it has a '..' component"),
            b"." => return Err("it has a '.' component"),
            b"" if components.peek().is_some() => return Err("it has a doubled '/'"),
            c if c.len() > NAME_MAX => return Err("a component is too long"),
            _ => {}
        }
    }
    Ok(())
}

/// The unit name for a path, as systemd's `unit_name_from_path`: `/home/foo` with
/// [`UnitType::Mount`] gives `home-foo.mount`, `/` gives `-.mount`. When the name would
/// exceed 255 bytes, its tail is replaced by `_` and a hash of the whole name, as systemd
/// 252 does for overlong mount points.
pub fn path_to_unit_name(path: &str, t: UnitType) -> Result<String, ValueError> {
    let name = format!("{}.{t}", escape_path(path)?);
    if name.len() <= UNIT_NAME_MAX {
        return Ok(name);
    }
    let keep = UNIT_NAME_MAX - t.suffix().len() - HASH_CHARS - 2;
    // systemd hashes the name as a C string, terminating NUL included.
    let mut bytes = name.clone().into_bytes();
    bytes.push(0);
    let hash = siphash24(&bytes, HASH_KEY.0, HASH_KEY.1);
    let hex: String = hash
        .to_le_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // Escaped names are ASCII, so any byte offset is a character boundary.
    let head = name.get(..keep).unwrap_or(&name);
    Ok(format!("{head}_{hex}.{t}"))
}

/// The path a unit is named after, as systemd's `unit_name_to_path`: the prefix unescaped
/// as a path (`-.mount` gives `/`). Hashed names of overlong paths are refused, since the
/// path cannot be recovered from them.
pub fn unit_name_to_path(name: &UnitName) -> Result<String, ValueError> {
    if is_hashed(name) {
        return Err(ValueError::new(format!(
            "unit name '{name}' is the hashed name of an overlong path, which cannot be \
             recovered from it"
        )));
    }
    unescape_path(name.prefix())
}

/// Whether a plain name ends in `_` and 16 lowercase hex digits before its suffix, the
/// shape [`path_to_unit_name`] gives overlong names.
fn is_hashed(name: &UnitName) -> bool {
    if name.instance().is_some() {
        return false;
    }
    // The underscore may start the prefix: systemd only asks for the 17 bytes.
    let Some((_, hash)) = name.prefix().rsplit_once('_') else {
        return false;
    };
    hash.len() == HASH_CHARS && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// An instance of `template` for an unescaped string, as
/// `systemd-escape --template=TEMPLATE STRING`: `foo@.service` and `a b` give
/// `foo@a\x20b.service`. The string must not be empty and the result must fit in 255
/// bytes.
pub fn template_instance_escaped(
    template: &UnitName,
    raw_instance: &str,
) -> Result<UnitName, ValueError> {
    if !template.is_template() {
        return Err(ValueError::new(format!(
            "unit name '{template}' is not a template (like 'foo@.service')"
        )));
    }
    template.with_instance(&escape(raw_instance))
}

/// SipHash-2-4 of `data` with the key `(k0, k1)`, the hash systemd uses for overlong
/// unit names.
fn siphash24(data: &[u8], k0: u64, k1: u64) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    fn round(v: &mut [u64; 4]) {
        let [v0, v1, v2, v3] = v;
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13) ^ *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16) ^ *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21) ^ *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17) ^ *v2;
        *v2 = v2.rotate_left(32);
    }
    let compress = |v: &mut [u64; 4], m: u64| {
        let [_, _, _, v3] = v;
        *v3 ^= m;
        round(v);
        round(v);
        let [v0, _, _, _] = v;
        *v0 ^= m;
    };
    let word = |bytes: &[u8]| {
        bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| acc << 8 | u64::from(b))
    };
    let chunks = data.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        compress(&mut v, word(chunk));
    }
    // The last block holds the remaining bytes and the length's low byte at the top.
    let len_byte = u64::try_from(data.len() & 0xff).unwrap_or(0);
    compress(&mut v, len_byte << 56 | word(tail));
    let [_, _, v2, _] = &mut v;
    *v2 ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    let [v0, v1, v2, v3] = v;
    v0 ^ v1 ^ v2 ^ v3
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Some((prefix, instance))` for a valid name, `None` for an invalid one.
    type Parts<'a> = Option<(&'a str, Option<&'a str>)>;

    fn check_parse(name: &str, expected: Parts) {
        let got = UnitName::parse(name);
        match expected {
            Some((prefix, instance)) => {
                let n = got.unwrap_or_else(|e| panic!("{name:?} should be valid: {e}"));
                assert_eq!(n.prefix(), prefix, "{name:?}");
                assert_eq!(n.instance(), instance, "{name:?}");
                assert_eq!(n.to_string(), name);
                assert!(UnitName::is_valid(name));
            }
            None => {
                assert!(got.is_err(), "{name:?} should be invalid, got {got:?}");
                assert!(!UnitName::is_valid(name));
            }
        }
    }

    #[test]
    fn valid_names() {
        let cases: &[(&str, Parts)] = &[
            ("foo.service", Some(("foo", None))),
            ("getty@tty1.service", Some(("getty", Some("tty1")))),
            ("getty@.service", Some(("getty", Some("")))),
            ("-.mount", Some(("-", None))),
            ("-.slice", Some(("-", None))),
            ("a.b.c.target", Some(("a.b.c", None))),
            ("foo..service", Some(("foo.", None))),
            ("x\\x2d:y_z.socket", Some(("x\\x2d:y_z", None))),
            // The instance is everything between the first '@' and the last '.'.
            ("foo@bar@baz.service", Some(("foo", Some("bar@baz")))),
            ("foo@a.b.service", Some(("foo", Some("a.b")))),
            ("foo@@.service", Some(("foo", Some("@")))),
            ("dev-sda1.device", Some(("dev-sda1", None))),
            ("1.timer", Some(("1", None))),
        ];
        for &(name, expected) in cases {
            check_parse(name, expected);
        }
    }

    #[test]
    fn invalid_names() {
        for name in [
            "",
            "foo",
            ".service",
            "foo.",
            "foo.services",
            "foo.Service",
            "foo.serv ice",
            "@foo.service",
            "@.service",
            "foo bar.service",
            "foo/bar.service",
            "föö.service",
            "foo@b r.service",
            "foo*.service",
            "foo[1].service",
            "foo@tty1",
        ] {
            check_parse(name, None);
        }
    }

    #[test]
    fn every_type_has_plain_template_and_instance_names() {
        for t in UnitType::ALL {
            let s = t.suffix();
            assert_eq!(UnitType::from_suffix(s), Some(t));
            check_parse(&format!("foo.{s}"), Some(("foo", None)));
            check_parse(&format!("foo@.{s}"), Some(("foo", Some(""))));
            check_parse(&format!("foo@x-y.{s}"), Some(("foo", Some("x-y"))));
            check_parse(&format!("@x.{s}"), None);
            check_parse(&format!("foo@x.{}", s.to_uppercase()), None);
            assert_eq!(
                UnitName::parse(&format!("a.{s}")).map(|n| n.unit_type()),
                Ok(t)
            );
        }
        assert_eq!(UnitType::from_suffix("bogus"), None);
        let templatable: Vec<_> = UnitType::ALL
            .into_iter()
            .filter(|t| t.may_template())
            .collect();
        assert_eq!(
            templatable,
            [
                UnitType::Service,
                UnitType::Socket,
                UnitType::Target,
                UnitType::Timer,
                UnitType::Path
            ]
        );
        assert!(UnitType::Device.may_alias() && !UnitType::Mount.may_alias());
    }

    #[test]
    fn length_limit_is_255_bytes() {
        let ok = format!("{}.service", "a".repeat(UNIT_NAME_MAX - 8));
        assert_eq!(ok.len(), 255);
        assert!(UnitName::is_valid(&ok));
        let long = format!("{}.service", "a".repeat(UNIT_NAME_MAX - 7));
        let err = UnitName::parse(&long).unwrap_err();
        assert!(err.0.contains("256 bytes long"), "{err}");
    }

    #[test]
    fn error_messages_name_the_problem() {
        let msg = |n: &str| UnitName::parse(n).unwrap_err().0;
        assert_eq!(msg(""), "unit name is empty");
        assert_eq!(msg("foo"), "unit name 'foo' has no type suffix");
        assert_eq!(
            msg("foo.bar"),
            "unit name 'foo.bar' has an unknown type '.bar'"
        );
        assert_eq!(
            msg("@a.service"),
            "unit name '@a.service' has an empty prefix before '@'"
        );
        assert!(msg("a b.service").contains("invalid character ' '"));
    }

    #[test]
    fn templates_and_instances() {
        let inst = UnitName::parse("getty@tty1.service").unwrap();
        assert!(inst.is_instance() && !inst.is_template());
        let tmpl = inst.template().unwrap();
        assert_eq!(tmpl.to_string(), "getty@.service");
        assert!(tmpl.is_template() && !tmpl.is_instance());
        assert_eq!(tmpl.template(), Some(tmpl.clone()));
        assert_eq!(
            tmpl.with_instance("tty2").unwrap().to_string(),
            "getty@tty2.service"
        );
        assert_eq!(inst.with_instance("a@b").unwrap().instance(), Some("a@b"));
        assert!(tmpl.with_instance("").is_err());
        assert!(tmpl.with_instance("a b").is_err());
        assert!(tmpl.with_instance(&"x".repeat(241)).is_ok());
        assert!(tmpl.with_instance(&"x".repeat(242)).is_err());
        let plain = UnitName::parse("foo.service").unwrap();
        assert_eq!(plain.template(), None);
        assert!(plain.with_instance("x").is_err());
    }

    fn check_escape(raw: &str, escaped: &str) {
        assert_eq!(escape(raw), escaped, "escape({raw:?})");
        assert_eq!(
            unescape(escaped).as_deref(),
            Ok(raw),
            "unescape({escaped:?})"
        );
    }

    /// Names order by prefix, then instance (a plain name first), then type, whatever
    /// the characters between the parts; the parts print as fields.
    #[test]
    fn names_order_by_their_parts() {
        let sorted = [
            "a.service",
            "a.socket",
            "a@.service",
            "a@x.service",
            "a@x.socket",
            "a-b.service",
            "a-b@.service",
        ];
        let mut names: Vec<UnitName> = sorted
            .iter()
            .rev()
            .map(|n| UnitName::parse(n).unwrap())
            .collect();
        names.sort();
        let got: Vec<String> = names.iter().map(UnitName::to_string).collect();
        assert_eq!(got, sorted);
        assert_eq!(
            format!("{:?}", UnitName::parse("a@x.service").unwrap()),
            "UnitName { prefix: \"a\", instance: Some(\"x\"), unit_type: Service }"
        );
        assert_eq!(std::mem::size_of::<UnitName>(), 24);
    }

    #[test]
    fn escape_round_trips() {
        // Each expected value is what `systemd-escape RAW` prints.
        check_escape("", "");
        check_escape("foo", "foo");
        check_escape("a-b", "a\\x2db");
        check_escape("/a/b", "-a-b");
        check_escape("a b", "a\\x20b");
        check_escape("a\\b", "a\\x5cb");
        check_escape("a@b", "a\\x40b");
        check_escape(".hidden", "\\x2ehidden");
        check_escape("a.b:c_d", "a.b:c_d");
        check_escape("..", "\\x2e.");
        check_escape("tschüß", "tsch\\xc3\\xbc\\xc3\\x9f");
        check_escape("€", "\\xe2\\x82\\xac");
        check_escape("tab\there", "tab\\x09here");
        check_escape("~*?[]", "\\x7e\\x2a\\x3f\\x5b\\x5d");
    }

    fn check_unescape(escaped: &str, expected: Option<&str>) {
        assert_eq!(
            unescape(escaped).ok().as_deref(),
            expected,
            "unescape({escaped:?})"
        );
    }

    #[test]
    fn unescape_cases() {
        // systemd-escape --unescape gives these.
        check_unescape("A\\x4A\\x4a", Some("AJJ"));
        check_unescape("a-b--c", Some("a/b//c"));
        check_unescape("a b", Some("a b"));
        check_unescape("x\\x00y", Some("x"));
        check_unescape("\\x2e\\x2E", Some(".."));
        check_unescape("\\x", None);
        check_unescape("a\\x4", None);
        check_unescape("a\\xzz", None);
        check_unescape("a\\X41", None);
        check_unescape("a\\", None);
        check_unescape("a\\\\", None);
        // systemd prints the raw byte 0xff; a Rust string cannot hold it.
        check_unescape("\\xff", None);
        check_unescape("\\xc3\\xa9", Some("é"));
    }

    fn check_path(path: &str, expected: Option<&str>) {
        assert_eq!(
            escape_path(path).ok().as_deref(),
            expected,
            "escape_path({path:?})"
        );
    }

    #[test]
    fn escape_path_cases() {
        // systemd-escape --path gives these; None where it fails.
        check_path("/", Some("-"));
        check_path("", Some("-"));
        check_path("//", Some("-"));
        check_path("///.//", Some("-"));
        check_path("/home/foo", Some("home-foo"));
        check_path("/a/./b//c/", Some("a-b-c"));
        check_path("foo/bar", Some("foo-bar"));
        check_path("./a", Some("a"));
        check_path("/.a/.b", Some("\\x2ea-.b"));
        check_path("/...", Some("\\x2e.."));
        check_path("/-", Some("\\x2d"));
        check_path("/ a ", Some("\\x20a\\x20"));
        check_path(
            "/dev/disk/by-label/Ä b",
            Some("dev-disk-by\\x2dlabel-\\xc3\\x84\\x20b"),
        );
        check_path(".", None);
        check_path("./", None);
        check_path("..", None);
        check_path("/..", None);
        check_path("/a/../b", None);
        check_path("a/..", None);
        check_path(&format!("/{}", "x".repeat(255)), Some(&"x".repeat(255)));
        check_path(&format!("/{}", "x".repeat(256)), None);
        // The limit is on the simplified path: 4095 bytes pass, 4096 do not.
        let long = format!("/{}/{}", "a".repeat(200), "b/".repeat(1947));
        assert_eq!(long.trim_end_matches('/').len(), 4095);
        assert!(escape_path(&long).is_ok());
        assert!(escape_path(&format!("{long}//")).is_ok());
        assert!(escape_path(&format!("{}c", long.trim_end_matches('/'))).is_err());
    }

    fn check_unescape_path(escaped: &str, expected: Option<&str>) {
        assert_eq!(
            unescape_path(escaped).ok().as_deref(),
            expected,
            "unescape_path({escaped:?})"
        );
    }

    #[test]
    fn unescape_path_cases() {
        // systemd-escape --unescape --path gives these; None where it fails.
        check_unescape_path("-", Some("/"));
        check_unescape_path("home-foo", Some("/home/foo"));
        check_unescape_path("a\\x2fb", Some("/a/b"));
        check_unescape_path("\\x2ea-.b", Some("/.a/.b"));
        check_unescape_path("\\x00", Some("/"));
        check_unescape_path("", None);
        check_unescape_path("a--b", None);
        check_unescape_path("a-", None);
        check_unescape_path("-a", None);
        check_unescape_path("a-..-b", None);
        check_unescape_path("a-.-b", None);
        check_unescape_path(".", None);
        check_unescape_path("..", None);
        check_unescape_path("a\\x", None);
    }

    #[test]
    fn paths_and_unit_names() {
        let check = |path: &str, t: UnitType, name: &str| {
            assert_eq!(path_to_unit_name(path, t).as_deref(), Ok(name), "{path}");
        };
        check("/", UnitType::Mount, "-.mount");
        check("/home/foo", UnitType::Mount, "home-foo.mount");
        check("/dev/sda1", UnitType::Device, "dev-sda1.device");
        check("/swap file", UnitType::Swap, "swap\\x20file.swap");
        assert!(path_to_unit_name("/a/../b", UnitType::Mount).is_err());

        let back = |name: &str| unit_name_to_path(&UnitName::parse(name).unwrap());
        assert_eq!(back("-.mount").as_deref(), Ok("/"));
        assert_eq!(back("home-foo.mount").as_deref(), Ok("/home/foo"));
        assert_eq!(
            back("dev-disk-by\\x2dlabel-x.device").as_deref(),
            Ok("/dev/disk/by-label/x")
        );
        assert_eq!(
            back("systemd-fsck@dev-sda1.service").as_deref(),
            Ok("/systemd/fsck")
        );
        assert!(back("a--b.mount").is_err());
    }

    #[test]
    fn overlong_paths_get_hashed_names() {
        // systemd-fstab-generator names the mount unit of this path so.
        let path = format!("/mnt/{}", ["averyverylongdirectoryname"; 12].join("/"));
        let name = path_to_unit_name(&path, UnitType::Mount).unwrap();
        let expected = format!(
            "mnt-{}averyverylon_427341b2de1dfa9d.mount",
            "averyverylongdirectoryname-".repeat(8)
        );
        assert_eq!(name, expected);
        assert_eq!(name.len(), 255);
        let parsed = UnitName::parse(&name).unwrap();
        assert!(unit_name_to_path(&parsed).is_err());

        // The same for a path whose cut falls inside an escape sequence.
        let path = format!("/srv/{}", ["dätä dir-x"; 20].join("/"));
        let name = path_to_unit_name(&path, UnitType::Mount).unwrap();
        let part = "d\\xc3\\xa4t\\xc3\\xa4\\x20dir\\x2dx-";
        assert_eq!(
            name,
            format!(
                "srv-{}d\\xc3\\xa4t\\_4b9af803572b1aa4.mount",
                part.repeat(7)
            )
        );
    }

    #[test]
    fn siphash_reference_vectors() {
        // From the SipHash paper: key 00..0f, messages 00..(n-1).
        let k0 = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        let k1 = u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]);
        let msg: Vec<u8> = (0..15).collect();
        assert_eq!(siphash24(&[], k0, k1), 0x726f_db47_dd0e_0e31);
        assert_eq!(siphash24(&msg, k0, k1), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn templates_with_escaped_instances() {
        let t = UnitName::parse("foo@.service").unwrap();
        // systemd-escape --template=foo@.service 'a b' '/x-y' gives these.
        let inst = |raw: &str| template_instance_escaped(&t, raw).map(|n| n.to_string());
        assert_eq!(inst("a b").as_deref(), Ok("foo@a\\x20b.service"));
        assert_eq!(inst("/x-y").as_deref(), Ok("foo@-x\\x2dy.service"));
        assert!(inst("").is_err());
        assert!(inst(&"a".repeat(244)).is_err());
        assert!(inst(&"a".repeat(243)).is_ok());
        let not_template = UnitName::parse("foo@bar.service").unwrap();
        assert!(template_instance_escaped(&not_template, "x").is_err());
    }

    #[test]
    fn specifier_helpers() {
        let n = UnitName::parse("foo\\x2dbar-baz\\x20qux@a-b\\x20c.service").unwrap();
        assert_eq!(n.prefix_unescaped().as_deref(), Ok("foo-bar/baz qux"));
        assert_eq!(n.instance_unescaped(), Some(Ok("a/b c".to_string())));
        assert_eq!(n.prefix_final_component(), "baz\\x20qux");
        assert_eq!(
            n.prefix_final_component_unescaped().as_deref(),
            Ok("baz qux")
        );

        let plain = UnitName::parse("dev-sda1.device").unwrap();
        assert_eq!(plain.instance_unescaped(), None);
        assert_eq!(plain.prefix_final_component(), "sda1");
        assert_eq!(plain.prefix_unescaped().as_deref(), Ok("dev/sda1"));

        let no_dash = UnitName::parse("getty@.service").unwrap();
        assert_eq!(no_dash.prefix_final_component(), "getty");
        assert_eq!(no_dash.instance_unescaped(), Some(Ok(String::new())));
        let trailing = UnitName::parse("foo-.service").unwrap();
        assert_eq!(trailing.prefix_final_component(), "");
    }
}
