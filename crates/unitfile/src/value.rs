//! Scalar setting values of unit files, parsed exactly as systemd 252 parses them: booleans,
//! time spans (systemd.time(7)) and their normalised text, byte sizes and percentages, signals,
//! exit statuses, file modes, scheduling and priority settings and the `Limit*=` resource
//! limits of systemd.exec(5).
//!
//! systemd reads most integers with C's `strtoul()`/`strtol()` in base 0 after skipping
//! whitespace, and additionally understands `0b`/`0o` prefixes. So `Nice=0x5`, `Nice=05`,
//! `Nice=0b101` and `Nice=+5` all mean 5 while `Nice=08` is invalid. The private helpers at the
//! top of this file reproduce that, because unit files in the wild rely on it.
//!
//! Every parser takes the value as the caller found it after the `=`, already trimmed. An
//! empty value usually means "reset to the default" in a unit file; that is the caller's
//! business, and the parsers here reject it.

use crate::diag::ValueError;

/// The whitespace systemd skips between tokens (its `WHITESPACE`).
const WHITESPACE: &[char] = &[' ', '\t', '\n', '\r'];

/// Why a number was refused, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumError {
    Invalid,
    Range,
}

impl NumError {
    fn describe(self) -> &'static str {
        match self {
            NumError::Invalid => "not a number",
            NumError::Range => "out of range",
        }
    }
}

/// What C's `strtoul()`/`strtol()` saw at the start of a string.
struct CNumber {
    negative: bool,
    magnitude: u64,
    /// The digits did not fit into 64 bits (`errno == ERANGE`).
    overflow: bool,
    /// Bytes consumed; 0 when no digits were found (the end pointer stays at the start).
    end: usize,
}

/// C's `isspace()` in the C locale, which `strtoul()` skips before the number.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Scans a number the way glibc's `strtoull()` does: leading spaces, an optional sign, and
/// in base 0 a `0x` (hex) or `0` (octal) prefix.
fn scan_c_number(s: &str, base: u32) -> CNumber {
    let bytes = s.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while is_c_space(at(i)) {
        i += 1;
    }
    let mut negative = false;
    if at(i) == b'+' || at(i) == b'-' {
        negative = at(i) == b'-';
        i += 1;
    }
    let mut base = base;
    if (base == 0 || base == 16)
        && at(i) == b'0'
        && (at(i + 1) | 0x20) == b'x'
        && (at(i + 2) as char).is_ascii_hexdigit()
    {
        base = 16;
        i += 2;
    } else if base == 0 {
        base = if at(i) == b'0' { 8 } else { 10 };
    }
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    let start = i;
    while let Some(d) = (at(i) as char).to_digit(base) {
        match magnitude
            .checked_mul(u64::from(base))
            .and_then(|m| m.checked_add(u64::from(d)))
        {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
        i += 1;
    }
    CNumber {
        negative,
        magnitude,
        overflow,
        end: if i == start { 0 } else { i },
    }
}

/// systemd's extra base prefixes, `0b` and `0o`, recognised before `strtoul()` runs in base 0.
fn mangle_base(s: &str) -> (&str, u32) {
    for (prefixes, base) in [(["0b", "0B"], 2), (["0o", "0O"], 8)] {
        for prefix in prefixes {
            if let Some(rest) = s.strip_prefix(prefix) {
                return (rest, base);
            }
        }
    }
    (s, 0)
}

/// systemd's `safe_atou64()` (with `base == None`: base 0 plus `0b`/`0o`) or
/// `safe_atou_full(s, base | SAFE_ATO_REFUSE_PLUS_MINUS)` when `refuse_sign` is set.
fn c_unsigned(s: &str, base: Option<u32>, refuse_sign: bool) -> Result<u64, NumError> {
    let s = s.trim_start_matches(WHITESPACE);
    if refuse_sign && (s.starts_with('+') || s.starts_with('-')) {
        return Err(NumError::Invalid);
    }
    let (s, base) = match base {
        Some(base) => (s, base),
        None => mangle_base(s),
    };
    let n = scan_c_number(s, base);
    if n.overflow {
        return Err(NumError::Range);
    }
    if n.end == 0 || n.end != s.len() {
        return Err(NumError::Invalid);
    }
    // strtoul() silently negates "-5"; systemd refuses it unless it is "-0".
    if n.magnitude != 0 && s.starts_with('-') {
        return Err(NumError::Range);
    }
    Ok(if n.negative {
        n.magnitude.wrapping_neg()
    } else {
        n.magnitude
    })
}

fn safe_atou64(s: &str) -> Result<u64, NumError> {
    c_unsigned(s, None, false)
}

fn safe_atou32(s: &str) -> Result<u32, NumError> {
    u32::try_from(safe_atou64(s)?).map_err(|_| NumError::Range)
}

/// systemd's `safe_atoi()`: `strtol()` in base 0 (plus `0b`/`0o`), result must fit an `int`.
fn safe_atoi(s: &str) -> Result<i32, NumError> {
    let (s, base) = mangle_base(s.trim_start_matches(WHITESPACE));
    let n = scan_c_number(s, base);
    if n.end == 0 || n.end != s.len() {
        return Err(NumError::Invalid);
    }
    let value = if n.negative {
        0i64.checked_sub_unsigned(n.magnitude)
    } else {
        i64::try_from(n.magnitude).ok()
    };
    match value {
        Some(v) if !n.overflow => i32::try_from(v).map_err(|_| NumError::Range),
        _ => Err(NumError::Range),
    }
}

/// The part of `s` from byte `n` on; empty if `n` is not a character boundary (never the case
/// for the ASCII positions this file computes).
fn tail(s: &str, n: usize) -> &str {
    s.get(n..).unwrap_or("")
}

/// The text up to the next whitespace, to quote in a message.
fn first_word(s: &str) -> &str {
    s.split(WHITESPACE).next().unwrap_or("")
}

fn invalid(what: &str, s: &str, why: &str) -> ValueError {
    ValueError::new(format!("invalid {what} '{s}': {why}"))
}

// ---------------------------------------------------------------------------------------------
// Booleans

/// Parses a boolean as systemd does: 1/yes/y/true/t/on or 0/no/n/false/f/off, any case.
pub fn parse_bool(s: &str) -> Result<bool, ValueError> {
    const TRUE: [&str; 6] = ["1", "yes", "y", "true", "t", "on"];
    const FALSE: [&str; 6] = ["0", "no", "n", "false", "f", "off"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(s)) {
        Ok(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(s)) {
        Ok(false)
    } else {
        Err(invalid(
            "boolean",
            s,
            "expected yes/no, true/false, on/off or 1/0",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Time spans

/// Microseconds, systemd's unit of time spans.
pub type Usec = u64;
/// The time span `infinity`.
pub const USEC_INFINITY: Usec = u64::MAX;

const USEC_PER_MSEC: u64 = 1_000;
const USEC_PER_SEC: u64 = 1_000_000;
const USEC_PER_MINUTE: u64 = 60 * USEC_PER_SEC;
const USEC_PER_HOUR: u64 = 60 * USEC_PER_MINUTE;
const USEC_PER_DAY: u64 = 24 * USEC_PER_HOUR;
const USEC_PER_WEEK: u64 = 7 * USEC_PER_DAY;
/// 30.44 days.
const USEC_PER_MONTH: u64 = 2_629_800 * USEC_PER_SEC;
/// 365.25 days.
const USEC_PER_YEAR: u64 = 31_557_600 * USEC_PER_SEC;

/// The unit of a number written without one: seconds for most `*Sec=` settings, microseconds
/// for a few (e.g. `LimitRTTIME=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Usec,
    Msec,
    Sec,
    Min,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl TimeUnit {
    /// The length of one unit in microseconds.
    pub fn usec(self) -> Usec {
        match self {
            TimeUnit::Usec => 1,
            TimeUnit::Msec => USEC_PER_MSEC,
            TimeUnit::Sec => USEC_PER_SEC,
            TimeUnit::Min => USEC_PER_MINUTE,
            TimeUnit::Hour => USEC_PER_HOUR,
            TimeUnit::Day => USEC_PER_DAY,
            TimeUnit::Week => USEC_PER_WEEK,
            TimeUnit::Month => USEC_PER_MONTH,
            TimeUnit::Year => USEC_PER_YEAR,
        }
    }
}

/// Unit spellings of systemd.time(7). systemd takes the first spelling that is a prefix of
/// the text, so longer spellings come before their prefixes ("msec" before "ms" before "m");
/// the unit may be followed directly by the next number (`1min30s`).
const TIME_UNITS: [(&str, u64); 30] = [
    ("seconds", USEC_PER_SEC),
    ("second", USEC_PER_SEC),
    ("sec", USEC_PER_SEC),
    ("s", USEC_PER_SEC),
    ("minutes", USEC_PER_MINUTE),
    ("minute", USEC_PER_MINUTE),
    ("min", USEC_PER_MINUTE),
    ("months", USEC_PER_MONTH),
    ("month", USEC_PER_MONTH),
    ("M", USEC_PER_MONTH),
    ("msec", USEC_PER_MSEC),
    ("ms", USEC_PER_MSEC),
    ("m", USEC_PER_MINUTE),
    ("hours", USEC_PER_HOUR),
    ("hour", USEC_PER_HOUR),
    ("hr", USEC_PER_HOUR),
    ("h", USEC_PER_HOUR),
    ("days", USEC_PER_DAY),
    ("day", USEC_PER_DAY),
    ("d", USEC_PER_DAY),
    ("weeks", USEC_PER_WEEK),
    ("week", USEC_PER_WEEK),
    ("w", USEC_PER_WEEK),
    ("years", USEC_PER_YEAR),
    ("year", USEC_PER_YEAR),
    ("y", USEC_PER_YEAR),
    ("usec", 1),
    ("us", 1),
    ("\u{3bc}s", 1), // GREEK SMALL LETTER MU
    ("\u{b5}s", 1),  // MICRO SIGN
];

/// Parses a time span per systemd.time(7): `infinity`, or one or more `NUMBER[UNIT]`
/// components (`1min 30s`, `1min30s`, `2h 5`), each number possibly fractional (`1.5s`,
/// `.5s`), with `default_unit` for numbers without a unit. Components add up; negative values
/// and totals of `USEC_INFINITY` or more are refused. Fractions below 1 µs are cut off.
pub fn parse_timespan(s: &str, default_unit: TimeUnit) -> Result<Usec, ValueError> {
    let err = |why: &str| invalid("time span", s, why);
    let range = || err("out of range");

    let mut p = s.trim_start_matches(WHITESPACE);
    if let Some(rest) = p.strip_prefix("infinity") {
        return if rest.trim_start_matches(WHITESPACE).is_empty() {
            Ok(USEC_INFINITY)
        } else {
            Err(err("trailing characters after 'infinity'"))
        };
    }

    let mut total: u64 = 0;
    let mut something = false;
    loop {
        p = p.trim_start_matches(WHITESPACE);
        if p.is_empty() {
            return if something {
                Ok(total)
            } else {
                Err(err("empty"))
            };
        }
        if p.starts_with('-') {
            return Err(err("negative time spans are not allowed"));
        }

        // The whole part, as strtoll() reads it (a leading '+' is accepted).
        let n = scan_c_number(p, 10);
        if n.overflow || n.magnitude > i64::MAX as u64 {
            return Err(range());
        }
        if n.negative && n.magnitude != 0 {
            return Err(err("negative time spans are not allowed"));
        }
        let whole = n.magnitude;
        let after_number = tail(p, n.end);

        // An optional fraction: ".5s" and "1.5s" are fine, "5.s" is not.
        let (fraction, after_fraction) = match after_number.strip_prefix('.') {
            Some(rest) => {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                (Some(rest.get(..digits).unwrap_or("")), tail(rest, digits))
            }
            None if n.end == 0 => {
                return Err(err(&format!("expected a number at '{}'", first_word(p))));
            }
            None => (None, after_number),
        };

        // The unit may be separated from its number by whitespace ("5 s").
        let spaced = after_fraction.trim_start_matches(WHITESPACE);
        let unit = TIME_UNITS.iter().find(|(name, _)| spaced.starts_with(name));
        let multiplier = match unit {
            Some((name, usec)) => {
                p = tail(spaced, name.len());
                *usec
            }
            None => {
                // Without a unit, a number must be followed by whitespace or the end:
                // "12.34.56" is refused, "12.34 .56" is two components.
                if spaced.len() == after_fraction.len() && !after_fraction.is_empty() {
                    return Err(err(&format!(
                        "unknown unit '{}'",
                        first_word(after_fraction)
                    )));
                }
                p = spaced;
                default_unit.usec()
            }
        };

        if whole >= USEC_INFINITY / multiplier {
            return Err(range());
        }
        let k = whole * multiplier;
        if k >= USEC_INFINITY - total {
            return Err(range());
        }
        total += k;
        something = true;

        if let Some(digits) = fraction {
            if digits.is_empty() {
                return Err(err("expected digits after '.'"));
            }
            let mut m = multiplier / 10;
            for d in digits.bytes() {
                let k = u64::from(d - b'0') * m;
                if k >= USEC_INFINITY - total {
                    return Err(range());
                }
                total += k;
                m /= 10;
            }
        }
    }
}

/// Formats a time span the way systemd does with an accuracy of 1 µs (what
/// `systemd-analyze timespan` prints as "Human:"): `0`, `infinity`, or components from
/// years down to microseconds such as `1min 30s`, where a remainder below one minute is
/// written as a decimal fraction (`1.500000s`, `1.500ms`).
pub fn format_timespan(usec: Usec) -> String {
    const TABLE: [(&str, u64); 9] = [
        ("y", USEC_PER_YEAR),
        ("month", USEC_PER_MONTH),
        ("w", USEC_PER_WEEK),
        ("d", USEC_PER_DAY),
        ("h", USEC_PER_HOUR),
        ("min", USEC_PER_MINUTE),
        ("s", USEC_PER_SEC),
        ("ms", USEC_PER_MSEC),
        ("us", 1),
    ];
    if usec == USEC_INFINITY {
        return "infinity".to_string();
    }
    if usec == 0 {
        return "0".to_string();
    }
    let mut out = String::new();
    let mut t = usec;
    for (suffix, unit) in TABLE {
        if t == 0 {
            break;
        }
        if t < unit {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let (whole, rest) = (t / unit, t % unit);
        // Below a minute the rest goes after a decimal point, with as many digits as the
        // unit has microseconds (6 for s, 3 for ms).
        let digits = unit.ilog10() as usize;
        if t < USEC_PER_MINUTE && rest > 0 && digits > 0 {
            out.push_str(&format!("{whole}.{rest:0digits$}{suffix}"));
            break;
        }
        out.push_str(&format!("{whole}{suffix}"));
        t = rest;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Sizes and percentages

/// Parses a size such as `512`, `1.5G`, `1G 512M` or `10K5` with the suffixes B, K, M, G, T,
/// P, E of `base` (1024 or 1000). Components must come in decreasing order of suffix; a
/// fraction is computed in floating point and truncated, exactly as systemd does.
pub fn parse_size(s: &str, base: u64) -> Result<u64, ValueError> {
    let err = |why: &str| invalid("size", s, why);
    let k = match base {
        1024 | 1000 => base,
        _ => return Err(err("the base must be 1000 or 1024")),
    };
    let table: [(&str, u64); 8] = [
        ("E", k * k * k * k * k * k),
        ("P", k * k * k * k * k),
        ("T", k * k * k * k),
        ("G", k * k * k),
        ("M", k * k),
        ("K", k),
        ("B", 1),
        ("", 1),
    ];

    let mut p = s;
    let mut total: u64 = 0;
    let mut start = 0;
    loop {
        p = p.trim_start_matches(WHITESPACE);
        let n = scan_c_number(p, 10);
        if n.overflow {
            return Err(err("out of range"));
        }
        if n.end == 0 {
            return Err(err("expected a number"));
        }
        if p.starts_with('-') {
            return Err(err("negative sizes are not allowed"));
        }
        let whole = if n.negative {
            n.magnitude.wrapping_neg()
        } else {
            n.magnitude
        };
        let mut e = tail(p, n.end);

        let mut frac = 0f64;
        if let Some(rest) = e.strip_prefix('.') {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                let f = scan_c_number(rest.get(..digits).unwrap_or(""), 10);
                if f.overflow {
                    return Err(err("out of range"));
                }
                // Dividing once per digit, not by a power of ten, gives systemd's rounding.
                frac = f.magnitude as f64;
                for _ in 0..digits {
                    frac /= 10.0;
                }
            }
            e = tail(rest, digits);
        }

        e = e.trim_start_matches(WHITESPACE);
        let Some(i) = (start..table.len()).find(|&i| {
            table
                .get(i)
                .is_some_and(|(suffix, _)| e.starts_with(suffix))
        }) else {
            return Err(err("unknown or misplaced suffix"));
        };
        let (suffix, factor) = table.get(i).copied().unwrap_or(("", 1));
        if whole.wrapping_add(u64::from(frac > 0.0)) > u64::MAX / factor {
            return Err(err("out of range"));
        }
        let part = whole
            .wrapping_mul(factor)
            .wrapping_add((frac * factor as f64) as u64);
        if part > u64::MAX - total {
            return Err(err("out of range"));
        }
        total += part;
        p = tail(e, suffix.len());
        start = i + 1;
        if p.is_empty() {
            return Ok(total);
        }
    }
}

/// A whole number directly followed by `symbol`.
fn parse_parts_whole(s: &str, symbol: &str) -> Result<u32, NumError> {
    let number = s.strip_suffix(symbol).ok_or(NumError::Invalid)?;
    u32::try_from(safe_atoi(number)?).map_err(|_| NumError::Range)
}

/// A number with at most `places` decimal places directly followed by `symbol`, scaled by
/// 10^places. systemd accepts exactly one or (for two places) two digits after a dot.
fn parse_parts_fraction(s: &str, symbol: &str, places: u32) -> Result<u32, NumError> {
    let body = s.strip_suffix(symbol).ok_or(NumError::Invalid)?;
    let (number, fraction) = match body.split_once('.') {
        Some((number, digits)) => {
            if digits.is_empty() || digits.len() > places as usize {
                return Err(NumError::Invalid);
            }
            let mut q = 0;
            for (i, d) in digits.bytes().enumerate() {
                if !d.is_ascii_digit() {
                    return Err(NumError::Invalid);
                }
                q += u32::from(d - b'0') * 10u32.pow(places - 1 - i as u32);
            }
            (number, q)
        }
        None => (body, 0),
    };
    let v = u32::try_from(safe_atoi(number)?).map_err(|_| NumError::Range)?;
    let scaled = v
        .checked_mul(10u32.pow(places))
        .and_then(|x| x.checked_add(fraction))
        .filter(|&x| x <= i32::MAX as u32)
        .ok_or(NumError::Range)?;
    Ok(scaled)
}

/// Parses a whole percentage `0%`..`100%`.
pub fn parse_percent(s: &str) -> Result<u32, ValueError> {
    match parse_parts_whole(s, "%") {
        Ok(v) if v <= 100 => Ok(v),
        Ok(_) => Err(invalid("percentage", s, "out of range")),
        Err(e) => Err(invalid("percentage", s, e.describe())),
    }
}

/// Parses a proportion in ten-thousandths: `N%` with up to two decimals (`12.34%`), `N‰` with
/// up to one (`5.5‰`) or a whole `N‱`; at most 100%.
pub fn parse_permyriad(s: &str) -> Result<u32, ValueError> {
    let value = if s.ends_with('‱') {
        parse_parts_whole(s, "‱")
    } else if s.ends_with('‰') {
        parse_parts_fraction(s, "‰", 1)
    } else {
        parse_parts_fraction(s, "%", 2)
    };
    match value {
        Ok(v) if v <= 10_000 => Ok(v),
        Ok(_) => Err(invalid("percentage", s, "above 100%")),
        Err(e) => Err(invalid("percentage", s, e.describe())),
    }
}

/// A memory limit such as `MemoryMax=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeLimit {
    Bytes(u64),
    /// A share of physical memory in ten-thousandths, from `%`, `‰` or `‱`.
    Permyriad(u32),
    Infinity,
}

/// Parses a memory limit as `MemoryMax=` and its siblings take it: `infinity`, a percentage
/// (see [`parse_permyriad`]) or a size with base 1024. `u64::MAX` bytes is refused.
/// systemd refuses a zero limit (`0`, `0%`) for `MemoryMax=`, `MemoryHigh=` and
/// `MemoryLimit=` but not for `MemorySwapMax=`, `MemoryMin=` and `MemoryLow=`; that check
/// is the caller's, since it depends on the directive.
pub fn parse_size_limit(s: &str) -> Result<SizeLimit, ValueError> {
    if s == "infinity" {
        return Ok(SizeLimit::Infinity);
    }
    if let Ok(p) = parse_permyriad(s) {
        return Ok(SizeLimit::Permyriad(p));
    }
    match parse_size(s, 1024) {
        Ok(u64::MAX) => Err(invalid("memory limit", s, "out of range")),
        Ok(bytes) => Ok(SizeLimit::Bytes(bytes)),
        Err(_) => Err(invalid(
            "memory limit",
            s,
            "expected a size, a percentage or 'infinity'",
        )),
    }
}

/// `TasksMax=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TasksMax {
    Count(u64),
    /// A share of the system's maximum number of tasks, in ten-thousandths.
    Permyriad(u32),
    Infinity,
}

/// Parses `TasksMax=`: `infinity`, a percentage (`0%` is allowed) or a count of at least 1.
pub fn parse_tasks_max(s: &str) -> Result<TasksMax, ValueError> {
    if s == "infinity" {
        return Ok(TasksMax::Infinity);
    }
    if let Ok(p) = parse_permyriad(s) {
        return Ok(TasksMax::Permyriad(p));
    }
    match safe_atou64(s) {
        Ok(0) | Ok(u64::MAX) => Err(invalid("maximum tasks value", s, "out of range")),
        Ok(n) => Ok(TasksMax::Count(n)),
        Err(e) => Err(invalid("maximum tasks value", s, e.describe())),
    }
}

// ---------------------------------------------------------------------------------------------
// Signals and exit statuses

/// The first real-time signal on Linux with glibc, which keeps 32 and 33 for itself.
const SIGRTMIN: i32 = 34;
const SIGRTMAX: i32 = 64;

/// Signal names of Linux x86_64 without the `SIG` prefix, indexed by number - 1.
const SIGNAL_NAMES: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// Parses a signal: a number 1..64 (in systemd's integer syntax), a name with or without
/// `SIG` (`SIGTERM`, `TERM`; case matters, aliases like `SIGIOT` are unknown), or a real-time
/// signal `RTMIN`, `RTMIN+n`, `RTMAX`, `RTMAX-n` (with or without `SIG`), 34..64.
pub fn parse_signal(s: &str) -> Result<i32, ValueError> {
    let err = |why: &str| invalid("signal", s, why);
    if let Ok(n) = safe_atoi(s) {
        return if (1..=SIGRTMAX).contains(&n) {
            Ok(n)
        } else {
            Err(err("out of range"))
        };
    }
    let name = s.strip_prefix("SIG").unwrap_or(s);
    if let Some(i) = SIGNAL_NAMES.iter().position(|n| *n == name) {
        return Ok(i as i32 + 1);
    }
    let span = SIGRTMAX - SIGRTMIN;
    if let Some(rest) = name.strip_prefix("RTMIN") {
        if rest.is_empty() {
            return Ok(SIGRTMIN);
        }
        if !rest.starts_with('+') {
            return Err(err("unknown signal name"));
        }
        return match safe_atoi(rest) {
            Ok(n) if (0..=span).contains(&n) => Ok(SIGRTMIN + n),
            Ok(_) => Err(err("out of range")),
            Err(e) => Err(err(e.describe())),
        };
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        if rest.is_empty() {
            return Ok(SIGRTMAX);
        }
        if !rest.starts_with('-') {
            return Err(err("unknown signal name"));
        }
        return match safe_atoi(rest) {
            Ok(n) if (-span..=0).contains(&n) => Ok(SIGRTMAX + n),
            Ok(_) => Err(err("out of range")),
            Err(e) => Err(err(e.describe())),
        };
    }
    Err(err("unknown signal name"))
}

/// The name systemd prints for a signal: `SIGTERM`, `SIGRTMIN+3` for real-time signals and
/// `SIG32`/`SIG33` for the two glibc keeps; `None` outside 1..64.
pub fn signal_name(sig: i32) -> Option<String> {
    if (SIGRTMIN..=SIGRTMAX).contains(&sig) {
        return Some(format!("SIGRTMIN+{}", sig - SIGRTMIN));
    }
    if !(1..=SIGRTMAX).contains(&sig) {
        return None;
    }
    let name = usize::try_from(sig - 1)
        .ok()
        .and_then(|i| SIGNAL_NAMES.get(i));
    Some(match name {
        Some(name) => format!("SIG{name}"),
        None => format!("SIG{sig}"),
    })
}

/// One entry of `SuccessExitStatus=`, `RestartPreventExitStatus=` or
/// `RestartForceExitStatus=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitStatusSpec {
    Code(u8),
    Signal(i32),
}

/// systemd's table of symbolic exit statuses (`systemd-analyze exit-status` lists it).
const EXIT_STATUS_NAMES: [(u8, &str); 67] = [
    (0, "SUCCESS"),
    (1, "FAILURE"),
    (2, "INVALIDARGUMENT"),
    (3, "NOTIMPLEMENTED"),
    (4, "NOPERMISSION"),
    (5, "NOTINSTALLED"),
    (6, "NOTCONFIGURED"),
    (7, "NOTRUNNING"),
    (64, "USAGE"),
    (65, "DATAERR"),
    (66, "NOINPUT"),
    (67, "NOUSER"),
    (68, "NOHOST"),
    (69, "UNAVAILABLE"),
    (70, "SOFTWARE"),
    (71, "OSERR"),
    (72, "OSFILE"),
    (73, "CANTCREAT"),
    (74, "IOERR"),
    (75, "TEMPFAIL"),
    (76, "PROTOCOL"),
    (77, "NOPERM"),
    (78, "CONFIG"),
    (200, "CHDIR"),
    (201, "NICE"),
    (202, "FDS"),
    (203, "EXEC"),
    (204, "MEMORY"),
    (205, "LIMITS"),
    (206, "OOM_ADJUST"),
    (207, "SIGNAL_MASK"),
    (208, "STDIN"),
    (209, "STDOUT"),
    (210, "CHROOT"),
    (211, "IOPRIO"),
    (212, "TIMERSLACK"),
    (213, "SECUREBITS"),
    (214, "SETSCHEDULER"),
    (215, "CPUAFFINITY"),
    (216, "GROUP"),
    (217, "USER"),
    (218, "CAPABILITIES"),
    (219, "CGROUP"),
    (220, "SETSID"),
    (221, "CONFIRM"),
    (222, "STDERR"),
    (224, "PAM"),
    (225, "NETWORK"),
    (226, "NAMESPACE"),
    (227, "NO_NEW_PRIVILEGES"),
    (228, "SECCOMP"),
    (229, "SELINUX_CONTEXT"),
    (230, "PERSONALITY"),
    (231, "APPARMOR"),
    (232, "ADDRESS_FAMILIES"),
    (233, "RUNTIME_DIRECTORY"),
    (235, "CHOWN"),
    (236, "SMACK_PROCESS_LABEL"),
    (237, "KEYRING"),
    (238, "STATE_DIRECTORY"),
    (239, "CACHE_DIRECTORY"),
    (240, "LOGS_DIRECTORY"),
    (241, "CONFIGURATION_DIRECTORY"),
    (242, "NUMA_POLICY"),
    (243, "CREDENTIALS"),
    (244, "BPF"),
    (255, "EXCEPTION"),
];

/// The symbolic name of an exit status, e.g. 203 → `EXEC`.
pub fn exit_status_name(code: u8) -> Option<&'static str> {
    EXIT_STATUS_NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// Parses one word of an exit status list: a symbolic exit status (`EXEC`, case matters), a
/// number 0..255 (an exit code, never a signal), or a signal (see [`parse_signal`]).
pub fn parse_exit_status(word: &str) -> Result<ExitStatusSpec, ValueError> {
    if let Some((code, _)) = EXIT_STATUS_NAMES.iter().find(|(_, name)| *name == word) {
        return Ok(ExitStatusSpec::Code(*code));
    }
    if let Ok(n) = safe_atou64(word) {
        if let Ok(code) = u8::try_from(n) {
            return Ok(ExitStatusSpec::Code(code));
        }
    }
    parse_signal(word).map(ExitStatusSpec::Signal).map_err(|_| {
        invalid(
            "exit status",
            word,
            "expected a number 0-255, an exit status name or a signal",
        )
    })
}

/// Parses a whitespace-separated exit status list. Like systemd, an invalid word is skipped
/// (with one error each, for the caller to report as a warning) and the rest still counts;
/// a backslash makes the next character literal. Duplicates are dropped, keeping the first.
/// An empty value, which resets the list in a unit file, is for the caller to detect.
pub fn parse_exit_status_list(s: &str) -> (Vec<ExitStatusSpec>, Vec<ValueError>) {
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| WHITESPACE.contains(c)).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut word = String::new();
        while let Some(c) = chars.next_if(|c| !WHITESPACE.contains(c)) {
            if c == '\\' {
                match chars.next() {
                    Some(escaped) => word.push(escaped),
                    None => {
                        // systemd stops at a dangling backslash, keeping what it had.
                        errors.push(invalid("exit status list", s, "trailing backslash"));
                        return (specs, errors);
                    }
                }
            } else {
                word.push(c);
            }
        }
        match parse_exit_status(&word) {
            Ok(spec) if !specs.contains(&spec) => specs.push(spec),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    (specs, errors)
}

// ---------------------------------------------------------------------------------------------
// Modes, priorities and scheduling

/// Parses a file mode or umask in octal (`0755`, `755`, `0`), at most `07777`; no sign.
pub fn parse_mode(s: &str) -> Result<u32, ValueError> {
    match c_unsigned(s, Some(8), true) {
        Ok(m) if m <= 0o7777 => Ok(m as u32),
        Ok(_) => Err(invalid("mode", s, "above 07777")),
        Err(e) => Err(invalid(
            "mode",
            s,
            &format!("{}, expected octal", e.describe()),
        )),
    }
}

/// Parses `UMask=`, which systemd reads like any other mode.
pub fn parse_umask(s: &str) -> Result<u32, ValueError> {
    parse_mode(s)
}

/// Parses an unsigned 32-bit integer the way systemd's `config_parse_unsigned` does.
pub fn parse_unsigned(s: &str) -> Result<u32, ValueError> {
    safe_atou32(s).map_err(|e| invalid("unsigned integer", s, e.describe()))
}

/// A signed integer within `range`, for the settings below.
fn int_in(s: &str, what: &str, range: std::ops::RangeInclusive<i32>) -> Result<i32, ValueError> {
    match safe_atoi(s) {
        Ok(n) if range.contains(&n) => Ok(n),
        Ok(_) => Err(invalid(
            what,
            s,
            &format!("out of range {}..{}", range.start(), range.end()),
        )),
        Err(e) => Err(invalid(what, s, e.describe())),
    }
}

/// Parses `Nice=`: -20..19.
pub fn parse_nice(s: &str) -> Result<i32, ValueError> {
    int_in(s, "nice priority", -20..=19)
}

/// Parses `OOMScoreAdjust=`: -1000..1000.
pub fn parse_oom_score_adjust(s: &str) -> Result<i32, ValueError> {
    int_in(s, "OOM score adjustment", -1000..=1000)
}

/// Parses `IOSchedulingClass=` into the kernel's class number: `none` 0, `realtime` 1,
/// `best-effort` 2, `idle` 3, or a number up to 8 (what systemd 252 lets through).
pub fn parse_ioprio_class(s: &str) -> Result<u8, ValueError> {
    const NAMES: [&str; 4] = ["none", "realtime", "best-effort", "idle"];
    if let Some(i) = NAMES.iter().position(|n| *n == s) {
        return Ok(i as u8);
    }
    match safe_atou32(s) {
        Ok(n) if n <= 8 => Ok(n as u8),
        _ => Err(invalid(
            "IO scheduling class",
            s,
            "expected none, realtime, best-effort, idle or a number 0-8",
        )),
    }
}

/// Parses `IOSchedulingPriority=`: 0..7.
pub fn parse_ioprio_priority(s: &str) -> Result<u8, ValueError> {
    int_in(s, "IO priority", 0..=7).map(|n| n as u8)
}

/// Parses `CPUSchedulingPolicy=` into the kernel's policy number: `other` 0, `fifo` 1, `rr`
/// 2, `batch` 3, `idle` 5, or any number up to `i32::MAX` (systemd passes it on unchecked).
pub fn parse_cpu_sched_policy(s: &str) -> Result<i32, ValueError> {
    const NAMES: [(&str, i32); 5] = [
        ("other", 0),
        ("fifo", 1),
        ("rr", 2),
        ("batch", 3),
        ("idle", 5),
    ];
    if let Some((_, n)) = NAMES.iter().find(|(name, _)| *name == s) {
        return Ok(*n);
    }
    match safe_atou32(s).map(i32::try_from) {
        Ok(Ok(n)) => Ok(n),
        _ => Err(invalid(
            "CPU scheduling policy",
            s,
            "expected other, batch, idle, fifo, rr or a number",
        )),
    }
}

/// Parses `CPUSchedulingPriority=`: 0..99, whatever the policy (systemd checks no more).
pub fn parse_cpu_sched_priority(s: &str) -> Result<i32, ValueError> {
    int_in(s, "CPU scheduling priority", 0..=99)
}

/// `CPUWeight=` and `StartupCPUWeight=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuWeight {
    /// `idle`: the cgroup's `cpu.idle` is set.
    Idle,
    Weight(u64),
}

/// Parses `CPUWeight=`: `idle` or 1..10000.
pub fn parse_cpu_weight(s: &str) -> Result<CpuWeight, ValueError> {
    if s == "idle" {
        return Ok(CpuWeight::Idle);
    }
    match safe_atou64(s) {
        Ok(n) if (1..=10_000).contains(&n) => Ok(CpuWeight::Weight(n)),
        Ok(_) => Err(invalid("CPU weight", s, "out of range 1..10000")),
        Err(e) => Err(invalid("CPU weight", s, e.describe())),
    }
}

// ---------------------------------------------------------------------------------------------
// Resource limits

/// A resource limit of `Limit*=`; `u64::MAX` is infinity (`RLIM_INFINITY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RLimit {
    pub soft: u64,
    pub hard: u64,
}

/// How the value of one `Limit*=` setting is written.
#[derive(Debug, Clone, Copy)]
enum RLimitKind {
    /// A time span in seconds, rounded up to whole seconds (`LimitCPU=`).
    Sec,
    /// A time span in microseconds (`LimitRTTIME=`).
    Usec,
    /// A size with base 1024 suffixes.
    Size,
    /// A plain number.
    Number,
    /// A raw value 0..40 or a nice level written `+N` (0..19) or `-N` (0..20).
    Nice,
}

fn rlimit_kind(directive: &str) -> Option<RLimitKind> {
    Some(match directive {
        "LimitCPU" => RLimitKind::Sec,
        "LimitRTTIME" => RLimitKind::Usec,
        "LimitFSIZE" | "LimitDATA" | "LimitSTACK" | "LimitCORE" | "LimitRSS" | "LimitMEMLOCK"
        | "LimitAS" | "LimitMSGQUEUE" => RLimitKind::Size,
        "LimitNPROC" | "LimitNOFILE" | "LimitLOCKS" | "LimitSIGPENDING" | "LimitRTPRIO" => {
            RLimitKind::Number
        }
        "LimitNICE" => RLimitKind::Nice,
        _ => return None,
    })
}

/// One side of a `soft:hard` pair; the error is only the reason.
fn parse_rlimit_value(kind: RLimitKind, s: &str) -> Result<u64, String> {
    // systemd 252 has no "infinity" for LimitNICE=.
    if s == "infinity" && !matches!(kind, RLimitKind::Nice) {
        return Ok(u64::MAX);
    }
    let below_infinity = |v: u64| {
        if v == u64::MAX {
            Err("out of range".to_string())
        } else {
            Ok(v)
        }
    };
    match kind {
        RLimitKind::Sec => match parse_timespan(s, TimeUnit::Sec).map_err(|e| e.0)? {
            USEC_INFINITY => Ok(u64::MAX),
            t => below_infinity(t.div_ceil(USEC_PER_SEC)),
        },
        RLimitKind::Usec => parse_timespan(s, TimeUnit::Usec).map_err(|e| e.0),
        RLimitKind::Size => below_infinity(parse_size(s, 1024).map_err(|e| e.0)?),
        RLimitKind::Number => below_infinity(safe_atou64(s).map_err(|e| e.describe().to_string())?),
        RLimitKind::Nice => {
            let number = |t: &str| safe_atou64(t).map_err(|e| e.describe().to_string());
            let range = || "out of range".to_string();
            if let Some(rest) = s.strip_prefix('+') {
                let n = number(rest)?;
                if n >= 20 {
                    return Err(range());
                }
                Ok(20 - n)
            } else if let Some(rest) = s.strip_prefix('-') {
                let n = number(rest)?;
                if n > 20 {
                    return Err(range());
                }
                Ok(20 + n)
            } else {
                let n = number(s)?;
                if n > 40 {
                    return Err(range());
                }
                Ok(n)
            }
        }
    }
}

/// Parses the value of `Limit*=` (`directive_name` like `LimitNOFILE`): one value for both
/// limits or `soft:hard`; each side `infinity` or a value whose syntax depends on the resource
/// as systemd.exec(5) documents. The soft limit may not exceed the hard one.
pub fn parse_rlimit(directive_name: &str, s: &str) -> Result<RLimit, ValueError> {
    let err = |why: &str| ValueError::new(format!("invalid {directive_name}= value '{s}': {why}"));
    let kind = rlimit_kind(directive_name).ok_or_else(|| err("unknown resource limit"))?;
    // systemd splits at ':' without trimming around it, and tolerates one trailing ':'
    // after the hard limit ("5:6:") but nothing beyond it.
    let (soft_text, hard_text) = match s.split_once(':') {
        None => (s, None),
        Some((soft, rest)) => {
            let hard = match rest.split_once(':') {
                None => rest,
                Some((hard, "")) => hard,
                Some(_) => return Err(err("more than two values")),
            };
            (soft, Some(hard))
        }
    };
    let soft = parse_rlimit_value(kind, soft_text).map_err(|why| err(&why))?;
    let hard = match hard_text {
        None => soft,
        Some(h) => parse_rlimit_value(kind, h).map_err(|why| err(&why))?,
    };
    if soft > hard {
        return Err(err("soft limit is higher than hard limit"));
    }
    Ok(RLimit { soft, hard })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        // systemd --test on RemainAfterExit= accepts these, any case.
        for s in ["1", "yes", "y", "true", "t", "on", "YES", "On", "True"] {
            assert_eq!(parse_bool(s), Ok(true), "{s}");
        }
        for s in ["0", "no", "n", "false", "f", "off", "NO", "Off"] {
            assert_eq!(parse_bool(s), Ok(false), "{s}");
        }
        // ...and refuses these.
        for s in ["", "2", "ja", "tru", "yess", "on "] {
            assert!(parse_bool(s).is_err(), "{s}");
        }
    }

    fn check_span(s: &str, unit: TimeUnit, expected: Option<u64>) {
        assert_eq!(
            parse_timespan(s, unit).ok(),
            expected,
            "parse_timespan({s:?})"
        );
    }

    #[test]
    fn timespans() {
        use TimeUnit::*;
        // Values and refusals as `systemd-analyze timespan` gives them.
        let table: &[(&str, Option<u64>)] = &[
            ("1min 30s", Some(90_000_000)),
            ("1min30s", Some(90_000_000)),
            ("2h 5", Some(7_205_000_000)),
            ("5 2h", Some(7_205_000_000)),
            ("1.5s", Some(1_500_000)),
            ("0.5min", Some(30_000_000)),
            (".5s", Some(500_000)),
            ("+5", Some(5_000_000)),
            ("5 s", Some(5_000_000)),
            ("1 .5s", Some(1_500_000)),
            ("1s.5", Some(1_500_000)),
            ("1s1", Some(2_000_000)),
            ("1d 1d", Some(172_800_000_000)),
            ("1w2d", Some(777_600_000_000)),
            ("1M", Some(2_629_800_000_000)),
            ("1y", Some(31_557_600_000_000)),
            ("1µs", Some(1)),
            ("1μs", Some(1)),
            ("1 us", Some(1)),
            ("1msec", Some(1_000)),
            ("1hr", Some(3_600_000_000)),
            ("2minutes", Some(120_000_000)),
            ("1m", Some(60_000_000)),
            ("0", Some(0)),
            ("00012s", Some(12_000_000)),
            ("0.0000001s", Some(0)),
            ("3.9999999us", Some(3)),
            ("1.123456789s", Some(1_123_456)),
            ("1.00000000000000000000001s", Some(1_000_000)),
            ("0.25d", Some(21_600_000_000)),
            ("584541y", Some(18_446_711_061_600_000_000)),
            ("infinity", Some(USEC_INFINITY)),
            (" infinity ", Some(USEC_INFINITY)),
            ("", None),
            ("   ", None),
            ("-5", None),
            ("-0", None),
            ("5s -1s", None),
            ("5s,", None),
            ("1.5.3s", None),
            ("5.s", None),
            ("1e3", None),
            ("1Min", None),
            ("1S", None),
            ("1mins", None),
            ("5ns", None),
            ("+.5", None),
            ("Infinity", None),
            ("infinityx", None),
            ("infinity5", None),
            ("5infinity", None),
            ("18446744073709551615us", None),
            ("9223372036854775808us", None),
            ("584542y", None),
        ];
        for (s, expected) in table {
            check_span(s, Sec, *expected);
        }
        // Bare numbers take the default unit, fractions of it included.
        check_span("1.5", Usec, Some(1));
        check_span("5", Msec, Some(5_000));
        check_span("5 1s", Usec, Some(1_000_005));
        check_span("9223372036854775807", Usec, Some(i64::MAX as u64));
    }

    #[test]
    fn timespan_errors_name_the_problem() {
        let e = parse_timespan("5fortnights", TimeUnit::Sec).unwrap_err();
        assert_eq!(
            e.0,
            "invalid time span '5fortnights': unknown unit 'fortnights'"
        );
        let e = parse_timespan("5 fortnights", TimeUnit::Sec).unwrap_err();
        assert_eq!(
            e.0,
            "invalid time span '5 fortnights': expected a number at 'fortnights'"
        );
        let e = parse_timespan("1e3", TimeUnit::Sec).unwrap_err();
        assert_eq!(e.0, "invalid time span '1e3': unknown unit 'e3'");
        let e = parse_timespan("-1s", TimeUnit::Sec).unwrap_err();
        assert_eq!(
            e.0,
            "invalid time span '-1s': negative time spans are not allowed"
        );
    }

    #[test]
    fn formatting_timespans() {
        // "Human:" lines of `systemd-analyze timespan`.
        let table: &[(u64, &str)] = &[
            (0, "0"),
            (USEC_INFINITY, "infinity"),
            (1, "1us"),
            (1_000, "1ms"),
            (1_500, "1.500ms"),
            (500_000, "500ms"),
            (1_500_000, "1.500000s"),
            (1_999_999, "1.999999s"),
            (59_999_999, "59.999999s"),
            (60_500_000, "1min 500ms"),
            (61_000_001, "1min 1.000001s"),
            (90_000_000, "1min 30s"),
            (7_205_000_000, "2h 5s"),
            (777_600_000_000, "1w 2d"),
            (2_629_800_000_000, "1month"),
            (3_944_700_000_000, "1month 2w 1d 5h 15min"),
            (3_155_760_000_000, "1month 6d 2h 6min"),
            (
                18_446_744_073_709_551,
                "584y 6month 2w 1d 8h 34min 33.709551s",
            ),
            (18_446_711_061_600_000_000, "584541y"),
        ];
        for (usec, expected) in table {
            assert_eq!(format_timespan(*usec), *expected, "{usec}");
        }
    }

    #[test]
    fn formatted_timespans_parse_back() {
        for usec in [
            1,
            999,
            1_001,
            59_000_001,
            3_600_000_001,
            123_456_789_012_345,
        ] {
            let text = format_timespan(usec);
            assert_eq!(parse_timespan(&text, TimeUnit::Sec), Ok(usec), "{text}");
        }
    }

    fn check_size(s: &str, expected: Option<u64>) {
        assert_eq!(parse_size(s, 1024).ok(), expected, "parse_size({s:?})");
    }

    #[test]
    fn sizes() {
        // systemd --test with LimitMEMLOCK= gives these values and refusals.
        let table: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("1K", Some(1024)),
            ("1.5K", Some(1536)),
            ("1B", Some(1)),
            ("1 K", Some(1024)),
            ("1.K", Some(1024)),
            ("1E", Some(1 << 60)),
            ("15E", Some(17_293_822_569_102_704_640)),
            ("18446744073709551615", Some(u64::MAX)),
            ("1G512M", Some(1_610_612_736)),
            ("1K5", Some(1029)),
            ("1B5", Some(6)),
            ("1K 2", Some(1026)),
            // A trailing space is an empty component; unit-file values arrive trimmed.
            ("1K ", None),
            ("+5", Some(5)),
            ("010", Some(10)),
            ("1.1K", Some(1126)),
            ("1.0000000000000000000001K", Some(1024)),
            ("1.5555555555G", Some(1_670_265_059)),
            ("3.3T", Some(3_628_388_371_660)),
            ("0.1E", Some(115_292_150_460_684_704)),
            ("", None),
            ("1KB", None),
            ("1k", None),
            (".5K", None),
            ("16E", None),
            ("512M1G", None),
            ("1 2", None),
            ("-5", None),
            ("0x10", None),
            ("1e3", None),
            ("1.99999999999999999999K", None),
            ("18446744073709551616", None),
        ];
        for (s, expected) in table {
            check_size(s, *expected);
        }
        assert_eq!(parse_size("1.5K", 1000), Ok(1500));
        assert_eq!(parse_size("2M", 1000), Ok(2_000_000));
        assert!(parse_size("1K", 512).is_err());
    }

    #[test]
    fn percentages() {
        let table: &[(&str, Option<u32>)] = &[
            ("0%", Some(0)),
            ("50%", Some(50)),
            ("100%", Some(100)),
            ("+5%", Some(5)),
            ("010%", Some(8)),
            ("101%", None),
            ("50.5%", None),
            ("50", None),
            ("50 %", None),
            ("-1%", None),
        ];
        for (s, expected) in table {
            assert_eq!(parse_percent(s).ok(), *expected, "{s}");
        }
    }

    #[test]
    fn permyriads() {
        // Accepted and refused like MemoryMax= under systemd --test (values relative to the
        // machine's memory there match these ten-thousandths).
        let table: &[(&str, Option<u32>)] = &[
            ("50%", Some(5000)),
            ("50.5%", Some(5050)),
            ("50.55%", Some(5055)),
            ("0%", Some(0)),
            ("100%", Some(10_000)),
            ("5‰", Some(50)),
            ("5.5‰", Some(55)),
            ("1‱", Some(1)),
            ("10000‱", Some(10_000)),
            ("010%", Some(800)),
            ("0x10%", Some(1600)),
            ("0b11%", Some(300)),
            ("+5%", Some(500)),
            ("-0%", Some(0)),
            ("50.555%", None),
            ("100.01%", None),
            ("101%", None),
            ("5.55‰", None),
            ("10001‱", None),
            ("50 %", None),
            ("50.%", None),
            (".5%", None),
            ("5%%", None),
            ("1..5%", None),
            ("5", None),
        ];
        for (s, expected) in table {
            assert_eq!(parse_permyriad(s).ok(), *expected, "{s}");
        }
    }

    #[test]
    fn size_limits() {
        use SizeLimit::*;
        // MemoryMax= under systemd --test.
        let table: &[(&str, Option<SizeLimit>)] = &[
            ("1G", Some(Bytes(1 << 30))),
            ("1", Some(Bytes(1))),
            ("0", Some(Bytes(0))),
            ("1.5G", Some(Bytes(1_610_612_736))),
            ("18446744073709551614", Some(Bytes(u64::MAX - 1))),
            ("50%", Some(Permyriad(5000))),
            ("5.5‰", Some(Permyriad(55))),
            ("infinity", Some(Infinity)),
            ("Infinity", None),
            ("18446744073709551615", None),
            ("101%", None),
            ("", None),
        ];
        for (s, expected) in table {
            assert_eq!(parse_size_limit(s).ok(), *expected, "{s}");
        }
    }

    #[test]
    fn tasks_max() {
        use TasksMax::*;
        // TasksMax= under systemd --test.
        let table: &[(&str, Option<TasksMax>)] = &[
            ("10", Some(Count(10))),
            ("1", Some(Count(1))),
            ("0x10", Some(Count(16))),
            ("010", Some(Count(8))),
            ("+5", Some(Count(5))),
            ("18446744073709551614", Some(Count(u64::MAX - 1))),
            ("10.55%", Some(Permyriad(1055))),
            ("0%", Some(Permyriad(0))),
            ("infinity", Some(Infinity)),
            ("0", None),
            ("18446744073709551615", None),
            ("-1", None),
            ("1K", None),
        ];
        for (s, expected) in table {
            assert_eq!(parse_tasks_max(s).ok(), *expected, "{s}");
        }
    }

    #[test]
    fn signals() {
        // KillSignal= under systemd --test.
        let table: &[(&str, Option<i32>)] = &[
            ("15", Some(15)),
            ("+15", Some(15)),
            ("0xf", Some(15)),
            ("017", Some(15)),
            ("SIGTERM", Some(15)),
            ("TERM", Some(15)),
            ("STKFLT", Some(16)),
            ("SIGPWR", Some(30)),
            ("SIGSYS", Some(31)),
            ("32", Some(32)),
            ("64", Some(64)),
            ("RTMIN", Some(34)),
            ("RTMIN+0", Some(34)),
            ("SIGRTMIN+3", Some(37)),
            ("RTMIN+03", Some(37)),
            ("RTMIN+0x3", Some(37)),
            ("RTMIN+30", Some(64)),
            ("RTMAX", Some(64)),
            ("RTMAX-0", Some(64)),
            ("SIGRTMAX-2", Some(62)),
            ("RTMAX-30", Some(34)),
            ("term", None),
            ("sigterm", None),
            ("SIG15", None),
            ("SIGIOT", None),
            ("SIGPOLL", None),
            ("SIGCLD", None),
            ("0", None),
            ("65", None),
            ("-1", None),
            ("RTMIN+31", None),
            ("RTMAX-31", None),
            ("RTMIN+ 3", None),
            ("RTMIN-1", None),
            ("RTMAX+1", None),
            ("RTMAX-+1", None),
            ("RTMIN+-1", None),
            ("SIGSIGTERM", None),
            ("", None),
        ];
        for (s, expected) in table {
            assert_eq!(parse_signal(s).ok(), *expected, "{s}");
        }
    }

    #[test]
    fn signal_names() {
        // As systemd --test prints KillSignal=.
        let table: &[(i32, Option<&str>)] = &[
            (1, Some("SIGHUP")),
            (9, Some("SIGKILL")),
            (15, Some("SIGTERM")),
            (31, Some("SIGSYS")),
            (32, Some("SIG32")),
            (33, Some("SIG33")),
            (34, Some("SIGRTMIN+0")),
            (37, Some("SIGRTMIN+3")),
            (64, Some("SIGRTMIN+30")),
            (0, None),
            (65, None),
            (-1, None),
        ];
        for (sig, expected) in table {
            assert_eq!(signal_name(*sig).as_deref(), *expected, "{sig}");
        }
        for sig in (1..=31).chain(34..=64) {
            let name = signal_name(sig).unwrap();
            assert_eq!(parse_signal(&name), Ok(sig), "{name}");
        }
    }

    #[test]
    fn exit_status_names() {
        // `systemd-analyze exit-status` lists these.
        let table: &[(u8, Option<&str>)] = &[
            (0, Some("SUCCESS")),
            (1, Some("FAILURE")),
            (2, Some("INVALIDARGUMENT")),
            (7, Some("NOTRUNNING")),
            (64, Some("USAGE")),
            (78, Some("CONFIG")),
            (200, Some("CHDIR")),
            (203, Some("EXEC")),
            (216, Some("GROUP")),
            (217, Some("USER")),
            (222, Some("STDERR")),
            (223, None),
            (231, Some("APPARMOR")),
            (234, None),
            (241, Some("CONFIGURATION_DIRECTORY")),
            (244, Some("BPF")),
            (245, None),
            (255, Some("EXCEPTION")),
            (8, None),
            (100, None),
        ];
        for (code, expected) in table {
            assert_eq!(exit_status_name(*code), *expected, "{code}");
        }
        for (code, name) in EXIT_STATUS_NAMES {
            assert_eq!(parse_exit_status(name), Ok(ExitStatusSpec::Code(code)));
        }
    }

    #[test]
    fn exit_statuses() {
        use ExitStatusSpec::*;
        // `systemd-analyze exit-status` reads the numbers the same way.
        let table: &[(&str, Option<ExitStatusSpec>)] = &[
            ("0", Some(Code(0))),
            ("255", Some(Code(255))),
            ("EXEC", Some(Code(203))),
            ("0x10", Some(Code(16))),
            ("010", Some(Code(8))),
            ("+5", Some(Code(5))),
            ("0b11", Some(Code(3))),
            ("0o7", Some(Code(7))),
            ("-0", Some(Code(0))),
            ("15", Some(Code(15))),
            ("SIGTERM", Some(Signal(15))),
            ("TERM", Some(Signal(15))),
            ("RTMIN+3", Some(Signal(37))),
            ("exec", None),
            ("256", None),
            ("-1", None),
            ("08", None),
            ("1.0", None),
            ("SIG15", None),
            ("", None),
        ];
        for (s, expected) in table {
            assert_eq!(parse_exit_status(s).ok(), *expected, "{s}");
        }
    }

    #[test]
    fn exit_status_lists() {
        use ExitStatusSpec::*;
        // systemd --test warns "Failed to parse value, ignoring" once per bad word and
        // keeps the rest.
        let table: &[(&str, &[ExitStatusSpec], usize)] = &[
            ("1 2", &[Code(1), Code(2)], 0),
            (
                "TERM SIGKILL 0x10 EXEC exec",
                &[Signal(15), Signal(9), Code(16), Code(203)],
                1,
            ),
            ("256 -1", &[], 2),
            ("\"2\" '2'", &[], 2),
            ("2\\ 3", &[], 1),
            ("2\\3", &[Code(23)], 0),
            ("RTMIN+3 65", &[Signal(37), Code(65)], 0),
            ("1,2", &[], 1),
            ("1 1\t 1", &[Code(1)], 0),
            ("5 \\", &[Code(5)], 1),
            ("", &[], 0),
        ];
        for (s, specs, errors) in table {
            let (got, errs) = parse_exit_status_list(s);
            assert_eq!(got, *specs, "{s:?}");
            assert_eq!(errs.len(), *errors, "{s:?}: {errs:?}");
        }
        let (_, errs) = parse_exit_status_list("1 foo");
        assert_eq!(
            errs[0].0,
            "invalid exit status 'foo': expected a number 0-255, an exit status name or a signal"
        );
    }

    #[test]
    fn modes() {
        // UMask= under systemd --test.
        let table: &[(&str, Option<u32>)] = &[
            ("0777", Some(0o777)),
            ("777", Some(0o777)),
            ("7777", Some(0o7777)),
            ("07777", Some(0o7777)),
            ("0", Some(0)),
            ("00000000000000000000022", Some(0o22)),
            ("10000", None),
            ("0o777", None),
            ("0x1ff", None),
            ("+777", None),
            ("-0", None),
            ("8", None),
            ("022a", None),
            ("", None),
        ];
        for (s, expected) in table {
            assert_eq!(parse_mode(s).ok(), *expected, "{s}");
            assert_eq!(parse_umask(s).ok(), *expected, "{s}");
        }
    }

    #[test]
    fn integers() {
        // Nice= and OOMScoreAdjust= under systemd --test.
        let nice: &[(&str, Option<i32>)] = &[
            ("-20", Some(-20)),
            ("19", Some(19)),
            ("+5", Some(5)),
            ("0x5", Some(5)),
            ("05", Some(5)),
            ("0b11", Some(3)),
            ("-0", Some(0)),
            ("20", None),
            ("-21", None),
            ("08", None),
            ("- 5", None),
            ("", None),
        ];
        for (s, expected) in nice {
            assert_eq!(parse_nice(s).ok(), *expected, "{s}");
        }
        let oom: &[(&str, Option<i32>)] = &[
            ("-1000", Some(-1000)),
            ("1000", Some(1000)),
            ("0x10", Some(16)),
            ("1001", None),
            ("-1001", None),
        ];
        for (s, expected) in oom {
            assert_eq!(parse_oom_score_adjust(s).ok(), *expected, "{s}");
        }
        let unsigned: &[(&str, Option<u32>)] = &[
            ("0", Some(0)),
            ("4294967295", Some(u32::MAX)),
            ("0x10", Some(16)),
            ("4294967296", None),
            ("-1", None),
            ("1K", None),
        ];
        for (s, expected) in unsigned {
            assert_eq!(parse_unsigned(s).ok(), *expected, "{s}");
        }
    }

    #[test]
    fn scheduling() {
        // IOSchedulingClass=, IOSchedulingPriority=, CPUSchedulingPolicy= and
        // CPUSchedulingPriority= under systemd --test.
        let class: &[(&str, Option<u8>)] = &[
            ("none", Some(0)),
            ("realtime", Some(1)),
            ("best-effort", Some(2)),
            ("idle", Some(3)),
            ("0x2", Some(2)),
            ("8", Some(8)),
            ("9", None),
            ("Idle", None),
            ("rt", None),
            ("-1", None),
        ];
        for (s, expected) in class {
            assert_eq!(parse_ioprio_class(s).ok(), *expected, "{s}");
        }
        let prio: &[(&str, Option<u8>)] = &[
            ("0", Some(0)),
            ("7", Some(7)),
            ("+3", Some(3)),
            ("8", None),
            ("-1", None),
        ];
        for (s, expected) in prio {
            assert_eq!(parse_ioprio_priority(s).ok(), *expected, "{s}");
        }
        let policy: &[(&str, Option<i32>)] = &[
            ("other", Some(0)),
            ("fifo", Some(1)),
            ("rr", Some(2)),
            ("batch", Some(3)),
            ("idle", Some(5)),
            ("4", Some(4)),
            ("0x3", Some(3)),
            ("2147483647", Some(i32::MAX)),
            ("2147483648", None),
            ("deadline", None),
            ("OTHER", None),
            ("-1", None),
        ];
        for (s, expected) in policy {
            assert_eq!(parse_cpu_sched_policy(s).ok(), *expected, "{s}");
        }
        let sched_prio: &[(&str, Option<i32>)] = &[
            ("0", Some(0)),
            ("99", Some(99)),
            ("0x10", Some(16)),
            ("100", None),
            ("-1", None),
        ];
        for (s, expected) in sched_prio {
            assert_eq!(parse_cpu_sched_priority(s).ok(), *expected, "{s}");
        }
    }

    #[test]
    fn cpu_weights() {
        use CpuWeight::*;
        // CPUWeight= under systemd --test ("idle" shows as 0).
        let table: &[(&str, Option<CpuWeight>)] = &[
            ("1", Some(Weight(1))),
            ("10000", Some(Weight(10_000))),
            ("idle", Some(Idle)),
            ("0x10", Some(Weight(16))),
            ("010", Some(Weight(8))),
            ("0", None),
            ("10001", None),
            ("Idle", None),
            ("100.0", None),
        ];
        for (s, expected) in table {
            assert_eq!(parse_cpu_weight(s).ok(), *expected, "{s}");
        }
    }

    fn check_rlimit(directive: &str, s: &str, expected: Option<(u64, u64)>) {
        let got = parse_rlimit(directive, s).ok().map(|r| (r.soft, r.hard));
        assert_eq!(got, expected, "{directive}={s}");
    }

    #[test]
    fn rlimits() {
        const INF: u64 = u64::MAX;
        // LimitX= and LimitXSoft= as systemd --test prints them, or its warning.
        type Case = (&'static str, &'static str, Option<(u64, u64)>);
        let table: &[Case] = &[
            ("LimitNOFILE", "5", Some((5, 5))),
            ("LimitNOFILE", "5:6", Some((5, 6))),
            ("LimitNOFILE", "5:6:", Some((5, 6))),
            ("LimitNOFILE", "5: 6", Some((5, 6))),
            ("LimitNOFILE", "infinity", Some((INF, INF))),
            ("LimitNOFILE", "5:infinity", Some((5, INF))),
            ("LimitNOFILE", "0x10", Some((16, 16))),
            ("LimitNOFILE", "010", Some((8, 8))),
            ("LimitNOFILE", "0b101", Some((5, 5))),
            ("LimitNOFILE", "-0", Some((0, 0))),
            (
                "LimitNOFILE",
                "18446744073709551614",
                Some((INF - 1, INF - 1)),
            ),
            ("LimitNOFILE", "5:", None),
            ("LimitNOFILE", "5::6", None),
            ("LimitNOFILE", "5:6:7", None),
            ("LimitNOFILE", ":5", None),
            ("LimitNOFILE", "6:5", None),
            ("LimitNOFILE", "infinity:5", None),
            ("LimitNOFILE", "5 :6", None),
            ("LimitNOFILE", "18446744073709551615", None),
            ("LimitNOFILE", "1K", None),
            ("LimitNOFILE", "5 6", None),
            ("LimitNOFILE", "", None),
            ("LimitCPU", "1", Some((1, 1))),
            ("LimitCPU", "1.5", Some((2, 2))),
            ("LimitCPU", "1us", Some((1, 1))),
            ("LimitCPU", "1min", Some((60, 60))),
            ("LimitCPU", "1s:2s", Some((1, 2))),
            ("LimitCPU", "1h:infinity", Some((3600, INF))),
            (
                "LimitCPU",
                "584541y",
                Some((18_446_711_061_600, 18_446_711_061_600)),
            ),
            ("LimitCPU", "18446744073709551614us", None),
            ("LimitRTTIME", "1", Some((1, 1))),
            ("LimitRTTIME", "1.5", Some((1, 1))),
            ("LimitRTTIME", "1s", Some((1_000_000, 1_000_000))),
            ("LimitRTTIME", "5ms", Some((5_000, 5_000))),
            ("LimitRTTIME", "1min:infinity", Some((60_000_000, INF))),
            ("LimitMEMLOCK", "64M:1G", Some((64 << 20, 1 << 30))),
            ("LimitMEMLOCK", "1.5K", Some((1536, 1536))),
            ("LimitMEMLOCK", "infinity", Some((INF, INF))),
            ("LimitMEMLOCK", "1G:64M", None),
            ("LimitMEMLOCK", "16E", None),
            ("LimitNICE", "0", Some((0, 0))),
            ("LimitNICE", "+0", Some((20, 20))),
            ("LimitNICE", "-0", Some((20, 20))),
            ("LimitNICE", "+19", Some((1, 1))),
            ("LimitNICE", "-20", Some((40, 40))),
            ("LimitNICE", "40", Some((40, 40))),
            ("LimitNICE", "+5:-5", Some((15, 25))),
            ("LimitNICE", "+ 5", Some((15, 15))),
            ("LimitNICE", "++5", Some((15, 15))),
            ("LimitNICE", "+20", None),
            ("LimitNICE", "-21", None),
            ("LimitNICE", "41", None),
            ("LimitNICE", "infinity", None),
            ("LimitNICE", "-5:+5", None),
            ("LimitNICE", "+-5", None),
            ("LimitRTPRIO", "99", Some((99, 99))),
            ("LimitFOO", "5", None),
            ("NOFILE", "5", None),
        ];
        for (directive, s, expected) in table {
            check_rlimit(directive, s, *expected);
        }
    }
}
