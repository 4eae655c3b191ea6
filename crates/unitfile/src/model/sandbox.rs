//! The sandboxing settings of systemd.exec(5): private namespaces, `Protect*=`, path lists,
//! `Restrict*=`, the system call filter and capabilities. They are parsed and kept here so
//! the manager can apply or refuse them later. Values are checked as systemd 252 checks
//! them when it loads a unit, so `sctl verify` catches a misspelt system call, group,
//! architecture, address family or namespace, and never refuses a value systemd accepts.
//!
//! systemd handles each of these lines its own way: most lists drop only a bad word and keep
//! the others, `RestrictNamespaces=` drops the whole line, capabilities are never checked at
//! all. None of them expands specifiers, and only some remove quotes. The cases in the tests
//! below say what `systemd-analyze verify` printed for each.

use super::cx::{absolute_path, lookup_choice, Cx};
use super::syscalls;
use crate::diag::ValueError;
use crate::syntax::Assignment;
use crate::value;
use crate::words::{self, ExtractFlags};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectSystem {
    No,
    Yes,
    Full,
    Strict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectHome {
    No,
    Yes,
    ReadOnly,
    Tmpfs,
}

/// Parses "boolean or one of these words", as several sandboxing directives accept.
pub(super) fn bool_or<T: Copy>(
    s: &str,
    yes: T,
    no: T,
    words: &[(&str, T)],
) -> Result<T, ValueError> {
    match value::parse_bool(s) {
        Ok(true) => Ok(yes),
        Ok(false) => Ok(no),
        Err(_) => lookup_choice(s, words),
    }
}

/// Sandboxing settings: kept as given, enforced by the manager when it supports them.
///
/// The lists that a leading `~` turns into a deny list (`SystemCallFilter=`,
/// `RestrictAddressFamilies=`, `RestrictNamespaces=`, the capability sets) keep that `~` on
/// the first word stored from its line, or as a word of its own when no word of the line was
/// valid, so dropping a bad word never turns a deny list into an allow list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sandbox {
    pub private_tmp: Option<bool>,
    pub private_devices: Option<bool>,
    pub private_network: Option<bool>,
    pub private_users: Option<bool>,
    pub private_mounts: Option<bool>,
    pub private_ipc: Option<bool>,
    pub protect_system: Option<ProtectSystem>,
    pub protect_home: Option<ProtectHome>,
    pub protect_hostname: Option<bool>,
    pub protect_clock: Option<bool>,
    pub protect_kernel_tunables: Option<bool>,
    pub protect_kernel_modules: Option<bool>,
    pub protect_kernel_logs: Option<bool>,
    pub protect_control_groups: Option<bool>,
    pub protect_proc: Option<String>,
    pub proc_subset: Option<String>,
    pub read_write_paths: Vec<String>,
    pub read_only_paths: Vec<String>,
    pub inaccessible_paths: Vec<String>,
    pub exec_paths: Vec<String>,
    pub no_exec_paths: Vec<String>,
    /// A boolean word alone, or namespace names.
    pub restrict_namespaces: Vec<String>,
    pub restrict_realtime: Option<bool>,
    pub restrict_suid_sgid: Option<bool>,
    /// `none` alone, or `AF_*` names.
    pub restrict_address_families: Vec<String>,
    pub lock_personality: Option<bool>,
    pub memory_deny_write_execute: Option<bool>,
    /// System call names and `@groups`, each possibly with `:ERRNO`.
    pub system_call_filter: Vec<String>,
    pub system_call_architectures: Vec<String>,
    /// An errno name or number, or `kill`.
    pub system_call_error_number: Option<String>,
    pub capability_bounding_set: Vec<String>,
    pub ambient_capabilities: Vec<String>,
    pub no_new_privileges: Option<bool>,
    pub remove_ipc: Option<bool>,
    pub dynamic_user: Option<bool>,
}

/// A path list entry of `ReadWritePaths=` and friends may be prefixed with `-` (ignore if
/// missing) and `+` (relative to the root directory).
fn parse_prefixed_path(s: &str) -> Result<String, ValueError> {
    let rest = s.trim_start_matches(['-', '+']);
    absolute_path(rest)?;
    Ok(s.to_string())
}

impl Sandbox {
    /// Applies one assignment if it is a sandboxing directive; false when it is not one.
    pub(crate) fn apply(&mut self, a: &Assignment, cx: &mut Cx) -> bool {
        match a.key.as_str() {
            "NoNewPrivileges" => cx.bool(&mut self.no_new_privileges, a),
            "DynamicUser" => cx.bool(&mut self.dynamic_user, a),
            "RemoveIPC" => cx.bool(&mut self.remove_ipc, a),
            "PrivateTmp" => cx.bool(&mut self.private_tmp, a),
            "PrivateDevices" => cx.bool(&mut self.private_devices, a),
            "PrivateNetwork" => cx.bool(&mut self.private_network, a),
            "PrivateUsers" => cx.bool(&mut self.private_users, a),
            "PrivateMounts" => cx.bool(&mut self.private_mounts, a),
            "PrivateIPC" => cx.bool(&mut self.private_ipc, a),
            "ProtectSystem" => cx.scalar(&mut self.protect_system, a, |s| {
                bool_or(
                    s,
                    ProtectSystem::Yes,
                    ProtectSystem::No,
                    &[
                        ("full", ProtectSystem::Full),
                        ("strict", ProtectSystem::Strict),
                    ],
                )
            }),
            "ProtectHome" => cx.scalar(&mut self.protect_home, a, |s| {
                bool_or(
                    s,
                    ProtectHome::Yes,
                    ProtectHome::No,
                    &[
                        ("read-only", ProtectHome::ReadOnly),
                        ("tmpfs", ProtectHome::Tmpfs),
                    ],
                )
            }),
            "ProtectHostname" => cx.bool(&mut self.protect_hostname, a),
            "ProtectClock" => cx.bool(&mut self.protect_clock, a),
            "ProtectKernelTunables" => cx.bool(&mut self.protect_kernel_tunables, a),
            "ProtectKernelModules" => cx.bool(&mut self.protect_kernel_modules, a),
            "ProtectKernelLogs" => cx.bool(&mut self.protect_kernel_logs, a),
            "ProtectControlGroups" => cx.bool(&mut self.protect_control_groups, a),
            "ProtectProc" => cx.scalar(&mut self.protect_proc, a, |s| {
                lookup_choice(
                    s,
                    &[
                        ("noaccess", ()),
                        ("invisible", ()),
                        ("ptraceable", ()),
                        ("default", ()),
                    ],
                )
                .map(|()| s.to_string())
            }),
            "ProcSubset" => cx.scalar(&mut self.proc_subset, a, |s| {
                lookup_choice(s, &[("all", ()), ("pid", ())]).map(|()| s.to_string())
            }),
            // The old `*Directories=` spellings are accepted silently by systemd 252.
            "ReadWritePaths" | "ReadWriteDirectories" => {
                cx.words_checked(&mut self.read_write_paths, a, parse_prefixed_path)
            }
            "ReadOnlyPaths" | "ReadOnlyDirectories" => {
                cx.words_checked(&mut self.read_only_paths, a, parse_prefixed_path)
            }
            "InaccessiblePaths" | "InaccessibleDirectories" => {
                cx.words_checked(&mut self.inaccessible_paths, a, parse_prefixed_path)
            }
            "ExecPaths" => cx.words_checked(&mut self.exec_paths, a, parse_prefixed_path),
            "NoExecPaths" => cx.words_checked(&mut self.no_exec_paths, a, parse_prefixed_path),
            "RestrictNamespaces" => restrict_namespaces(&mut self.restrict_namespaces, a, cx),
            "RestrictRealtime" => cx.bool(&mut self.restrict_realtime, a),
            "RestrictSUIDSGID" => cx.bool(&mut self.restrict_suid_sgid, a),
            // `none` alone is an empty allow list; as one word among others it is invalid.
            "RestrictAddressFamilies" if a.value == "none" => {
                self.restrict_address_families = vec![a.value.clone()];
            }
            "RestrictAddressFamilies" => checked_list(
                &mut self.restrict_address_families,
                a,
                cx,
                List::Invertible(ExtractFlags::UNQUOTE),
                |w, _| check_address_family(w),
            ),
            "LockPersonality" => cx.bool(&mut self.lock_personality, a),
            "MemoryDenyWriteExecute" => cx.bool(&mut self.memory_deny_write_execute, a),
            "SystemCallFilter" => checked_list(
                &mut self.system_call_filter,
                a,
                cx,
                List::Invertible(ExtractFlags::NONE),
                check_syscall_filter_word,
            ),
            "SystemCallArchitectures" => checked_list(
                &mut self.system_call_architectures,
                a,
                cx,
                List::Plain(ExtractFlags::UNQUOTE),
                |w, _| check_architecture(w),
            ),
            "SystemCallErrorNumber" => cx.resettable(&mut self.system_call_error_number, a, |s| {
                parse_error_number(s).map(|()| s.to_string())
            }),
            "CapabilityBoundingSet" => capabilities(&mut self.capability_bounding_set, a),
            "AmbientCapabilities" => capabilities(&mut self.ambient_capabilities, a),
            _ => return false,
        }
        true
    }
}

/// How a checked list splits its words, and whether a leading `~` inverts it.
#[derive(Clone, Copy)]
enum List {
    Plain(ExtractFlags),
    Invertible(ExtractFlags),
}

/// A list whose bad words are reported and dropped while the others apply, as systemd does
/// for `SystemCallFilter=`, `SystemCallArchitectures=` and `RestrictAddressFamilies=`.
/// `check` gets each word and whether the line is a deny list. Specifiers are not expanded
/// (systemd 252 reports `%n` as an unknown name in all three). A syntax error drops the line.
fn checked_list(
    slot: &mut Vec<String>,
    a: &Assignment,
    cx: &mut Cx,
    kind: List,
    check: impl Fn(&str, bool) -> Result<(), ValueError>,
) {
    if a.value.is_empty() {
        slot.clear();
        return;
    }
    let (deny, rest, flags) = match kind {
        List::Plain(flags) => (false, a.value.as_str(), flags),
        List::Invertible(flags) => match a.value.strip_prefix('~') {
            Some(rest) => (true, rest, flags),
            None => (false, a.value.as_str(), flags),
        },
    };
    let list = match words::split_words(rest, words::WHITESPACE, flags) {
        Ok(list) => list,
        Err(e) => {
            return cx.error(a, format!("invalid {}={}: {e}; ignoring", a.key, a.value));
        }
    };
    let mut tilde_pending = deny;
    for w in list {
        match check(&w, deny) {
            Ok(()) if tilde_pending => {
                slot.push(format!("~{w}"));
                tilde_pending = false;
            }
            Ok(()) => slot.push(w),
            Err(e) => cx.error(
                a,
                format!("invalid word '{w}' in {}=: {e}; ignoring it", a.key),
            ),
        }
    }
    if tilde_pending {
        slot.push("~".to_string());
    }
}

/// `RestrictNamespaces=`: a boolean (which replaces what came before), or namespace names
/// with an optional leading `~`. systemd 252 ignores the whole line for one bad name.
fn restrict_namespaces(slot: &mut Vec<String>, a: &Assignment, cx: &mut Cx) {
    if a.value.is_empty() {
        slot.clear();
        return;
    }
    if value::parse_bool(&a.value).is_ok() {
        *slot = vec![a.value.clone()];
        return;
    }
    let (deny, rest) = match a.value.strip_prefix('~') {
        Some(rest) => (true, rest),
        None => (false, a.value.as_str()),
    };
    let checked = words::split_words(rest, words::WHITESPACE, ExtractFlags::NONE).and_then(|l| {
        match l.iter().find(|w| !NAMESPACES.contains(&w.as_str())) {
            Some(bad) => Err(ValueError::new(format!(
                "unknown namespace type '{bad}', expected {}",
                NAMESPACES.join(", ")
            ))),
            None => Ok(l),
        }
    });
    match checked {
        Ok(list) => {
            let mut list = list.into_iter();
            match (deny, list.next()) {
                (true, Some(first)) => slot.push(format!("~{first}")),
                (true, None) => slot.push("~".to_string()),
                (false, first) => slot.extend(first),
            }
            slot.extend(list);
        }
        Err(e) => cx.error(a, format!("invalid {}={}: {e}; ignoring", a.key, a.value)),
    }
}

/// `CapabilityBoundingSet=`/`AmbientCapabilities=`: systemd 252 silently skips a name it
/// does not know (`CAP_FOO`, `bogus`) and even an unbalanced quote, so nothing here is ever
/// reported. Quotes are removed; specifiers are not expanded.
fn capabilities(slot: &mut Vec<String>, a: &Assignment) {
    if a.value.is_empty() {
        slot.clear();
        return;
    }
    let flags = ExtractFlags::UNQUOTE | ExtractFlags::RELAX;
    if let Ok(list) = words::split_words(&a.value, words::WHITESPACE, flags) {
        slot.extend(list);
    }
}

/// The namespace types of `RestrictNamespaces=`; systemd 252 also knows `time`.
const NAMESPACES: &[&str] = &["cgroup", "ipc", "net", "mnt", "pid", "user", "uts", "time"];

/// The architectures `SystemCallArchitectures=` accepts in systemd 252 (libseccomp's).
const ARCHITECTURES: &[&str] = &[
    "native",
    "x86",
    "x86-64",
    "x32",
    "arm",
    "arm64",
    "mips",
    "mips64",
    "mips64-n32",
    "mips-le",
    "mips64-le",
    "mips64-le-n32",
    "ppc",
    "ppc64",
    "ppc64-le",
    "s390",
    "s390x",
    "riscv64",
    "parisc",
    "parisc64",
];

/// The `AF_*` names of `<sys/socket.h>` that systemd 252 knows (all but `AF_UNSPEC` and
/// `AF_MAX`, including the aliases `AF_FILE`, `AF_LOCAL` and `AF_ROUTE`).
const ADDRESS_FAMILIES: &str = "AF_ALG AF_APPLETALK AF_ASH AF_ATMPVC AF_ATMSVC AF_AX25 \
    AF_BLUETOOTH AF_BRIDGE AF_CAIF AF_CAN AF_ECONET AF_FILE AF_IB AF_IEEE802154 AF_INET \
    AF_INET6 AF_IPX AF_IRDA AF_ISDN AF_IUCV AF_KCM AF_KEY AF_LLC AF_LOCAL AF_MCTP AF_MPLS \
    AF_NETBEUI AF_NETLINK AF_NETROM AF_NFC AF_PACKET AF_PHONET AF_PPPOX AF_QIPCRTR AF_RDS \
    AF_ROSE AF_ROUTE AF_RXRPC AF_SECURITY AF_SMC AF_SNA AF_TIPC AF_UNIX AF_VSOCK AF_WANPIPE \
    AF_X25 AF_XDP";

/// The largest error number systemd accepts.
const ERRNO_MAX: u32 = 4095;

/// True when libseccomp (and so systemd 252) knows `name` as a system call of some
/// architecture.
pub fn is_syscall(name: &str) -> bool {
    syscalls::NAMES.split_ascii_whitespace().any(|n| n == name)
}

/// The members of a system call group such as `@mount` (with its `@`), which may include
/// other groups; `None` for a group systemd 252 does not know.
pub fn syscall_group(name: &str) -> Option<&'static str> {
    syscalls::GROUPS
        .iter()
        .find(|(g, _)| *g == name)
        .map(|(_, members)| *members)
}

/// Checks an errno name (any case, as systemd) or a number in `0..=4095`, or `kill`.
fn check_errno_or_kill(s: &str) -> Result<(), ValueError> {
    if s == "kill"
        || syscalls::ERRNO_NAMES
            .split_ascii_whitespace()
            .any(|e| e.eq_ignore_ascii_case(s))
    {
        return Ok(());
    }
    // systemd reads the number like any integer (`0x10`, `+5` and `-0` are fine).
    match value::parse_unsigned(s) {
        Ok(n) if n <= ERRNO_MAX => Ok(()),
        _ => Err(ValueError::new(format!(
            "'{s}' is not an errno name (EPERM ...), a number in 0..{ERRNO_MAX} or kill"
        ))),
    }
}

/// Checks one word of `SystemCallFilter=`: a system call or `@group`, with `:ERRNO` only in a
/// deny list (`deny`).
fn check_syscall_filter_word(word: &str, deny: bool) -> Result<(), ValueError> {
    let name = match word.split_once(':') {
        Some((name, errno)) => {
            if name.is_empty() {
                return Err(ValueError::new("expected NAME:ERRNO"));
            }
            check_errno_or_kill(errno)?;
            if !deny {
                return Err(ValueError::new(
                    "an allow list (without ~) cannot take an error number",
                ));
            }
            name
        }
        None => word,
    };
    if name.starts_with('@') {
        if syscall_group(name).is_none() {
            return Err(ValueError::new(format!(
                "unknown system call group '{name}'"
            )));
        }
    } else if !is_syscall(name) {
        return Err(ValueError::new(format!("unknown system call '{name}'")));
    }
    Ok(())
}

/// `SystemCallErrorNumber=`: like `:ERRNO` of a filter word, but 0 is refused.
fn parse_error_number(s: &str) -> Result<(), ValueError> {
    check_errno_or_kill(s)?;
    match value::parse_unsigned(s) {
        Ok(0) => Err(ValueError::new("error number 0 is not allowed")),
        _ => Ok(()),
    }
}

fn check_architecture(w: &str) -> Result<(), ValueError> {
    if ARCHITECTURES.contains(&w) {
        Ok(())
    } else {
        Err(ValueError::new(format!(
            "unknown system call architecture, expected one of: {}",
            ARCHITECTURES.join(", ")
        )))
    }
}

/// An `AF_*` name, in any case (systemd 252 accepts `af_inet`).
fn check_address_family(w: &str) -> Result<(), ValueError> {
    if ADDRESS_FAMILIES
        .split_ascii_whitespace()
        .any(|f| f.eq_ignore_ascii_case(w))
    {
        Ok(())
    } else {
        Err(ValueError::new(
            "unknown address family (AF_INET, AF_UNIX ...)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Severity;
    use crate::name::UnitName;
    use crate::specifier::{HostFacts, SpecifierContext};
    use std::path::Path;
    use std::sync::Arc;

    /// Applies `Key=value` lines in order to a fresh sandbox; returns it and, per diagnostic,
    /// its severity and line.
    fn run(lines: &[(&str, &str)]) -> (Sandbox, Vec<(Severity, usize)>) {
        let unit = UnitName::parse("a.service").unwrap();
        let host = HostFacts::default();
        let spec = SpecifierContext {
            unit: &unit,
            fragment_path: None,
            host: &host,
        };
        let mut cx = Cx::new(&spec);
        let mut sb = Sandbox::default();
        let file: Arc<Path> = Arc::from(Path::new("/a.service"));
        for (i, (key, value)) in lines.iter().enumerate() {
            let a = Assignment {
                section: "Service".into(),
                key: key.to_string(),
                value: value.to_string(),
                file: file.clone(),
                line: i + 1,
            };
            assert!(sb.apply(&a, &mut cx), "{key}= not handled");
        }
        let (diags, fatal) = cx.finish();
        assert!(!fatal);
        (sb, diags.iter().map(|d| (d.severity, d.line)).collect())
    }

    /// One line: what is stored, and how many errors it gives (0 when systemd is silent).
    fn check(key: &str, value: &str, stored: &[&str], errors: usize) {
        let (sb, diags) = run(&[(key, value)]);
        let slot = match key {
            "SystemCallFilter" => &sb.system_call_filter,
            "SystemCallArchitectures" => &sb.system_call_architectures,
            "RestrictAddressFamilies" => &sb.restrict_address_families,
            "RestrictNamespaces" => &sb.restrict_namespaces,
            "CapabilityBoundingSet" => &sb.capability_bounding_set,
            "AmbientCapabilities" => &sb.ambient_capabilities,
            _ => unreachable!("{key}"),
        };
        assert_eq!(slot, stored, "{key}={value}");
        assert_eq!(diags, vec![(Severity::Error, 1); errors], "{key}={value}");
    }

    #[test]
    fn system_call_filter() {
        let f = "SystemCallFilter";
        // Accepted silently by `systemd-analyze verify`.
        check(f, "@system-service", &["@system-service"], 0);
        check(f, "~@mount @clock", &["~@mount", "@clock"], 0);
        check(f, "~ read", &["~read"], 0);
        check(f, "~", &["~"], 0);
        check(f, "@known", &["@known"], 0);
        // Other architectures' calls that libseccomp knows are fine on x86-64.
        check(
            f,
            "arm_fadvise64_64 breakpoint",
            &["arm_fadvise64_64", "breakpoint"],
            0,
        );
        // The escape is removed (`re\ad` is `read`), like systemd's plain splitting.
        check(f, "re\\ad", &["read"], 0);
        // `:ERRNO` in a deny list: a name in any case, a number 0..4095 read like C, `kill`.
        for ok in [
            "read:EPERM",
            "read:eperm",
            "read:ePeRm",
            "read:EWOULDBLOCK",
            "read:kill",
            "read:0",
            "read:-0",
            "read:+5",
            "read:4095",
            "read:0xfff",
            "read:010",
            "read:0b11",
            "read:0o7",
            "@obsolete:EPERM",
        ] {
            check(f, &format!("~{ok}"), &[&format!("~{ok}")], 0);
        }
        // "Unknown system call group, ignoring: @bogus"; the other words stay.
        check(f, "@bogus read", &["read"], 1);
        check(f, "~@Mount", &["~"], 1);
        check(f, "~@", &["~"], 1);
        // "Failed to parse system call, ignoring: notasyscall" (also READ, 123, a quoted
        // word, `%n` which is not expanded, a `~` after the first word, and names in
        // `@known` that libseccomp 2.5.4 cannot resolve).
        for bad in [
            "notasyscall",
            "READ",
            "123",
            "\"read\"",
            "%n",
            "osf_stat",
            "uretprobe",
        ] {
            check(f, bad, &[], 1);
        }
        check(f, "~write ~read", &["~write"], 1);
        check(f, "~bogus read", &["~read"], 1);
        // "Failed to parse syscall:errno, ignoring: ..."
        for bad in [
            "read:",
            ":EPERM",
            "read:EBOGUS",
            "read:-1",
            "read:4096",
            "read:0x1000",
            "read:08",
            "read:log",
            "read:KILL",
            "read:EPERM:x",
            "@mount:",
            "@bogus:EBOGUS",
        ] {
            check(f, &format!("~{bad}"), &["~"], 1);
        }
        // "Allow-listed system calls cannot take error number, ignoring: read:EPERM"
        for bad in ["read:EPERM", "read:kill", "@mount:EPERM", "bogus:EPERM"] {
            check(f, bad, &[], 1);
        }
        // An empty value resets.
        let (sb, diags) = run(&[(f, "read"), (f, ""), (f, "write")]);
        assert_eq!(sb.system_call_filter, ["write"]);
        assert!(diags.is_empty());
    }

    #[test]
    fn system_call_error_number() {
        let check = |value: &str, ok: bool| {
            let (sb, diags) = run(&[("SystemCallErrorNumber", value)]);
            let want = ok.then(|| value.to_string());
            assert_eq!(sb.system_call_error_number, want, "{value}");
            assert_eq!(diags.is_empty(), ok, "{value}");
        };
        // Accepted silently by `systemd-analyze verify`.
        for ok in [
            "EPERM", "eperm", "Eperm", "EACCES", "ENOTSUP", "kill", "1", "0x1", "+1",
        ] {
            check(ok, true);
        }
        check("4095", true);
        // "Failed to parse error number, ignoring: ..." (no quotes removed, no specifiers).
        for bad in [
            "EBOGUS",
            "log",
            "KILL",
            "4096",
            "-1",
            "EPERM EACCES",
            "%n",
            "\"EPERM\"",
        ] {
            check(bad, false);
        }
        // "Invalid error number, ignoring: 0" (also -0).
        check("0", false);
        check("-0", false);
        // An empty value resets silently.
        let (sb, diags) = run(&[
            ("SystemCallErrorNumber", "EPERM"),
            ("SystemCallErrorNumber", ""),
        ]);
        assert_eq!(sb.system_call_error_number, None);
        assert!(diags.is_empty());
    }

    #[test]
    fn system_call_architectures() {
        let f = "SystemCallArchitectures";
        // Accepted silently by `systemd-analyze verify`, quotes and escapes removed.
        check(
            f,
            "native x86-64 x86 x32",
            &["native", "x86-64", "x86", "x32"],
            0,
        );
        check(
            f,
            "arm arm64 mips64-le-n32 ppc64-le s390x riscv64 parisc64",
            &[
                "arm",
                "arm64",
                "mips64-le-n32",
                "ppc64-le",
                "s390x",
                "riscv64",
                "parisc64",
            ],
            0,
        );
        check(f, "\"x86\" x8\\6", &["x86", "x86"], 0);
        // "Failed to parse system call architecture "x86_64", ignoring"; per word.
        check(f, "x86_64 native", &["native"], 1);
        for bad in [
            "aarch64",
            "loongarch64",
            "alpha",
            "NATIVE",
            "~x86",
            "%a",
            "mips-n32",
        ] {
            check(f, bad, &[], 1);
        }
        // "Invalid syntax, ignoring: "x86": the line is dropped.
        check(f, "\"x86", &[], 1);
    }

    #[test]
    fn restrict_address_families() {
        let f = "RestrictAddressFamilies";
        // Accepted silently by `systemd-analyze verify`: any case, quotes removed, aliases.
        check(
            f,
            "AF_UNIX AF_INET AF_INET6",
            &["AF_UNIX", "AF_INET", "AF_INET6"],
            0,
        );
        check(f, "~AF_PACKET af_netlink", &["~AF_PACKET", "af_netlink"], 0);
        check(f, "\"AF_INET\" AF_\\UNIX", &["AF_INET", "AF_UNIX"], 0);
        check(
            f,
            "AF_FILE AF_LOCAL AF_ROUTE AF_XDP AF_MCTP",
            &["AF_FILE", "AF_LOCAL", "AF_ROUTE", "AF_XDP", "AF_MCTP"],
            0,
        );
        check(f, "none", &["none"], 0);
        check(f, "~", &["~"], 0);
        // "Failed to parse address family, ignoring: AF_BOGUS"; per word.
        check(f, "AF_INET AF_BOGUS AF_UNIX", &["AF_INET", "AF_UNIX"], 1);
        check(f, "~AF_INET ~AF_UNIX", &["~AF_INET"], 1);
        for bad in ["AF_UNSPEC", "AF_MAX", "2", "None", "%n"] {
            check(f, bad, &[], 1);
        }
        check(f, "none AF_INET", &["AF_INET"], 1);
        check(f, "~none", &["~"], 1);
        // "Invalid syntax, ignoring: AF_INET "AF_UNIX".
        check(f, "AF_INET \"AF_UNIX", &[], 1);
        // `none` replaces what came before.
        let (sb, _) = run(&[(f, "AF_INET"), (f, "none")]);
        assert_eq!(sb.restrict_address_families, ["none"]);
    }

    #[test]
    fn restrict_namespaces() {
        let f = "RestrictNamespaces";
        // Accepted silently by `systemd-analyze verify`.
        check(f, "yes", &["yes"], 0);
        check(f, "off", &["off"], 0);
        check(f, "YES", &["YES"], 0);
        check(
            f,
            "cgroup ipc net mnt pid user uts time",
            &["cgroup", "ipc", "net", "mnt", "pid", "user", "uts", "time"],
            0,
        );
        check(f, "~cgroup ipc", &["~cgroup", "ipc"], 0);
        check(f, "~ net", &["~net"], 0);
        check(f, "~", &["~"], 0);
        check(f, "n\\et", &["net"], 0);
        // "Failed to parse namespace type string, ignoring: cgroup bogus net": the whole
        // line goes.
        for bad in [
            "bogus",
            "cgroup bogus net",
            "\"net\"",
            "NET",
            "mount",
            "network",
            "net ~ipc",
            "~yes",
            "~bogus",
            "%n",
        ] {
            check(f, bad, &[], 1);
        }
        // A boolean replaces the list; an empty value resets it.
        let (sb, _) = run(&[(f, "net"), (f, "no")]);
        assert_eq!(sb.restrict_namespaces, ["no"]);
        let (sb, _) = run(&[(f, "net"), (f, "")]);
        assert!(sb.restrict_namespaces.is_empty());
    }

    #[test]
    fn capabilities_are_never_reported() {
        // systemd 252 is silent about all of these: unknown names are skipped.
        check("CapabilityBoundingSet", "CAP_FOO", &["CAP_FOO"], 0);
        check(
            "CapabilityBoundingSet",
            "~CAP_SYS_ADMIN bogus",
            &["~CAP_SYS_ADMIN", "bogus"],
            0,
        );
        check(
            "CapabilityBoundingSet",
            "\"CAP_SYS_ADMIN",
            &["CAP_SYS_ADMIN"],
            0,
        );
        check(
            "AmbientCapabilities",
            "CAP_BOGUS cap_net_raw",
            &["CAP_BOGUS", "cap_net_raw"],
            0,
        );
        check("AmbientCapabilities", "%n", &["%n"], 0);
    }

    #[test]
    fn tables() {
        // Every group that a group names exists, and the tables answer lookups.
        for (group, members) in syscalls::GROUPS {
            assert!(group.starts_with('@'));
            for m in members.split_ascii_whitespace() {
                if let Some(g) = m.strip_prefix('@') {
                    assert!(syscall_group(&format!("@{g}")).is_some(), "{m}");
                }
            }
        }
        assert!(is_syscall("openat") && is_syscall("_llseek") && !is_syscall("@mount"));
        assert!(syscall_group("@mount").is_some_and(|m| m.contains("umount2")));
        assert_eq!(syscalls::GROUPS.len(), 29);
    }
}
