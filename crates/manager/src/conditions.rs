//! `Condition*=` and `Assert*=` checks (systemd.unit(5), "Conditions and Asserts").
//!
//! All non-triggering checks must hold, and if there are triggering (`|`) ones, at least one
//! of those must hold too; `!` negates a single check. A failed condition skips the start
//! (the job succeeds, the unit stays inactive); a failed assert fails the job.
//!
//! Facts about the host come from [`Host`], read once from the running system, so tests can
//! supply their own. Checks that need a subsystem sysmaster does not have yet (credentials,
//! pressure stall information, encrypted block devices, firmware tables) are reported as
//! unsupported and treated as holding, so they never keep a service from starting; the
//! caller shows them in `sctl status`.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use unitfile::model::Condition;

/// What the checks of one start attempt concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The first failed condition (`ConditionPathExists=/x`), if the start is skipped.
    pub condition_failed: Option<String>,
    /// The first failed assert, if the start fails.
    pub assert_failed: Option<String>,
    /// Checks that were treated as holding because sysmaster cannot evaluate them yet.
    pub unsupported: Vec<String>,
}

/// Facts about the running system that checks compare against.
#[derive(Debug, Clone, Default)]
pub struct Host {
    /// systemd's architecture name, e.g. `x86-64`.
    pub architecture: String,
    /// `None` on bare metal, else the technology (`kvm`, `qemu`, `docker`, `lxc` ...).
    pub virtualization: Option<String>,
    pub container: bool,
    pub hostname: String,
    pub machine_id: Option<String>,
    pub kernel_release: String,
    pub kernel_cmdline: String,
    pub os_release: Vec<(String, String)>,
    /// The manager's environment, for `ConditionEnvironment=`.
    pub environment: Vec<(String, String)>,
    pub uid: u32,
    pub gids: Vec<u32>,
    pub memory_bytes: u64,
    pub cpus: u64,
    pub cpu_flags: Vec<String>,
    /// The capability bounding set as a bit mask.
    pub capabilities: u64,
    pub cgroup_controllers: Vec<String>,
    /// Security frameworks present (`selinux`, `apparmor`, `smack`, `ima`, `audit` ...).
    pub security: Vec<String>,
    /// `/sys/class/power_supply` says the system runs on mains power (or has no supply
    /// information at all, which systemd counts as on mains).
    pub on_ac_power: bool,
    pub first_boot: bool,
}

impl Host {
    /// Reads the facts from the running system; anything unreadable stays at its default.
    pub fn detect() -> Host {
        let read = |p: &str| fs::read_to_string(p).unwrap_or_default();
        let status = read("/proc/self/status");
        let status_field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or("")
                .to_string()
        };
        let cpuinfo = read("/proc/cpuinfo");
        let cpu_flags: Vec<String> = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("flags").and_then(|r| r.split_once(':')))
            .map(|(_, f)| f.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        let (virtualization, container) = detect_virtualization(&cpu_flags);
        let machine_id = Some(read("/etc/machine-id").trim().to_string())
            .filter(|m| m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit()));
        Host {
            architecture: unitfile::specifier::HostFacts::from_system().architecture,
            virtualization,
            container,
            hostname: read("/proc/sys/kernel/hostname").trim().to_string(),
            first_boot: machine_id.is_none(),
            machine_id,
            kernel_release: read("/proc/sys/kernel/osrelease").trim().to_string(),
            kernel_cmdline: read("/proc/cmdline").trim().to_string(),
            os_release: {
                let text = fs::read_to_string("/etc/os-release")
                    .or_else(|_| fs::read_to_string("/usr/lib/os-release"))
                    .unwrap_or_default();
                unitfile::env::parse_env_file(&text).0
            },
            environment: std::env::vars().collect(),
            uid: status_field("Uid:")
                .split_whitespace()
                .next()
                .and_then(|u| u.parse().ok())
                .unwrap_or(0),
            gids: std::iter::once(status_field("Gid:"))
                .flat_map(|g| g.split_whitespace().next().map(str::to_string))
                .chain(
                    status_field("Groups:")
                        .split_whitespace()
                        .map(str::to_string),
                )
                .filter_map(|g| g.parse().ok())
                .collect(),
            memory_bytes: read("/proc/meminfo")
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
            cpu_flags,
            capabilities: u64::from_str_radix(&status_field("CapBnd:"), 16).unwrap_or(0),
            cgroup_controllers: sys::cgroup::find_cgroup2()
                .and_then(|root| fs::read_to_string(root.join("cgroup.controllers")).ok())
                .map(|c| c.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            security: [
                ("selinux", "/sys/fs/selinux"),
                ("apparmor", "/sys/kernel/security/apparmor"),
                ("smack", "/sys/fs/smackfs"),
                ("ima", "/sys/kernel/security/ima"),
                ("tomoyo", "/sys/kernel/security/tomoyo"),
                ("audit", "/proc/self/loginuid"),
            ]
            .iter()
            .filter(|(_, p)| Path::new(p).exists())
            .map(|(n, _)| n.to_string())
            .collect(),
            on_ac_power: detect_ac_power(),
        }
    }
}

fn detect_virtualization(cpu_flags: &[String]) -> (Option<String>, bool) {
    let container = fs::read_to_string("/run/systemd/container")
        .ok()
        .map(|c| c.trim().to_string())
        .or_else(|| {
            let environ = fs::read("/proc/1/environ").ok()?;
            environ
                .split(|&b| b == 0)
                .find_map(|e| e.strip_prefix(b"container="))
                .map(|v| String::from_utf8_lossy(v).into_owned())
        })
        .or_else(|| {
            Path::new("/.dockerenv")
                .exists()
                .then(|| "docker".to_string())
        });
    if let Some(c) = container {
        return (Some(c), true);
    }
    let vendor = fs::read_to_string("/sys/class/dmi/id/sys_vendor").unwrap_or_default();
    let product = fs::read_to_string("/sys/class/dmi/id/product_name").unwrap_or_default();
    let vm = [
        ("QEMU", "qemu"),
        ("KVM", "kvm"),
        ("VMware", "vmware"),
        ("innotek GmbH", "oracle"),
        ("Microsoft Corporation", "microsoft"),
        ("Xen", "xen"),
        ("Amazon EC2", "amazon"),
        ("Google", "google"),
    ]
    .iter()
    .find(|(needle, _)| vendor.contains(needle) || product.contains(needle))
    .map(|(_, id)| id.to_string())
    .or_else(|| {
        cpu_flags
            .iter()
            .any(|f| f == "hypervisor")
            .then(|| "vm-other".to_string())
    });
    (vm, false)
}

fn detect_ac_power() -> bool {
    let Ok(entries) = fs::read_dir("/sys/class/power_supply") else {
        return true;
    };
    let mains: Vec<_> = entries
        .filter_map(|e| e.ok())
        .filter(|e| fs::read_to_string(e.path().join("type")).is_ok_and(|t| t.trim() == "Mains"))
        .collect();
    mains.is_empty()
        || mains
            .iter()
            .any(|e| fs::read_to_string(e.path().join("online")).is_ok_and(|o| o.trim() == "1"))
}

/// Checks the conditions and asserts of a unit.
pub fn check(conditions: &[Condition], asserts: &[Condition], host: &Host) -> Verdict {
    let mut unsupported = Vec::new();
    let condition_failed = first_failure("Condition", conditions, host, &mut unsupported);
    let assert_failed = first_failure("Assert", asserts, host, &mut unsupported);
    Verdict {
        condition_failed,
        assert_failed,
        unsupported,
    }
}

/// systemd's rule: all plain checks hold, and at least one triggering check if any exist.
fn first_failure(
    prefix: &str,
    list: &[Condition],
    host: &Host,
    unsupported: &mut Vec<String>,
) -> Option<String> {
    let describe = |c: &Condition| {
        format!(
            "{prefix}{}={}{}{}",
            c.kind,
            if c.trigger { "|" } else { "" },
            if c.negate { "!" } else { "" },
            c.value
        )
    };
    let mut holds = |c: &Condition| match evaluate(&c.kind, &c.value, host) {
        Some(r) => r != c.negate,
        None => {
            unsupported.push(describe(c));
            true
        }
    };
    let mut first_trigger = None;
    let mut any_trigger_held = false;
    for c in list {
        let ok = holds(c);
        if c.trigger {
            any_trigger_held |= ok;
            first_trigger.get_or_insert_with(|| describe(c));
        } else if !ok {
            return Some(describe(c));
        }
    }
    match first_trigger {
        Some(first) if !any_trigger_held => Some(first),
        _ => None,
    }
}

/// One check without negation; `None` when sysmaster cannot evaluate it.
fn evaluate(kind: &str, value: &str, host: &Host) -> Option<bool> {
    let meta = || fs::metadata(value);
    Some(match kind {
        "PathExists" => fs::symlink_metadata(value).is_ok(),
        "PathExistsGlob" => glob_exists(value),
        "PathIsDirectory" => meta().is_ok_and(|m| m.is_dir()),
        "PathIsSymbolicLink" => {
            fs::symlink_metadata(value).is_ok_and(|m| m.file_type().is_symlink())
        }
        "PathIsMountPoint" => is_mount_point(value),
        "PathIsReadWrite" => is_read_write(value),
        "DirectoryNotEmpty" => fs::read_dir(value).is_ok_and(|mut d| d.next().is_some()),
        "FileNotEmpty" => meta().is_ok_and(|m| m.is_file() && m.len() > 0),
        "FileIsExecutable" => {
            meta().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        "Architecture" => {
            value == host.architecture || (value == "native" && !host.architecture.is_empty())
        }
        "Virtualization" => virtualization_matches(value, host),
        "Host" => {
            fnmatch(value, &host.hostname)
                || host
                    .machine_id
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(value))
        }
        "KernelCommandLine" => host.kernel_cmdline.split_whitespace().any(|w| {
            if value.contains('=') {
                w == value
            } else {
                w == value || w.split_once('=').is_some_and(|(k, _)| k == value)
            }
        }),
        "KernelVersion" => terms(value)
            .iter()
            .all(|term| compare_term(term, &host.kernel_release, true)),
        "Environment" => match value.split_once('=') {
            Some(_) => host
                .environment
                .iter()
                .any(|(k, v)| format!("{k}={v}") == value),
            None => host.environment.iter().any(|(k, _)| k == value),
        },
        "User" => user_matches(value, host),
        "Group" => value
            .parse::<u32>()
            .ok()
            .or_else(|| lookup_id("/etc/group", value))
            .is_some_and(|g| host.gids.contains(&g)),
        "Capability" => {
            capability_bit(value).is_some_and(|bit| host.capabilities & (1 << bit) != 0)
        }
        "ACPower" => unitfile::value::parse_bool(value).ok()? == host.on_ac_power,
        "FirstBoot" => unitfile::value::parse_bool(value).ok()? == host.first_boot,
        "Security" => host.security.iter().any(|s| s == value),
        "ControlGroupController" => value.split_whitespace().all(|c| match c {
            "v2" => true,
            "v1" => false,
            c => host.cgroup_controllers.iter().any(|h| h == c),
        }),
        "Memory" => compare_number(value, host.memory_bytes)?,
        "CPUs" => compare_number(value, host.cpus)?,
        "CPUFeature" => host
            .cpu_flags
            .iter()
            .any(|f| f == &value.to_ascii_lowercase()),
        "OSRelease" => value
            .split_whitespace()
            .all(|term| os_release_matches(term, host)),
        "NeedsUpdate" => needs_update(value),
        _ => return None,
    })
}

fn virtualization_matches(value: &str, host: &Host) -> bool {
    if let Ok(b) = unitfile::value::parse_bool(value) {
        return b == host.virtualization.is_some();
    }
    match value {
        "vm" => host.virtualization.is_some() && !host.container,
        "container" => host.container,
        other => host.virtualization.as_deref() == Some(other),
    }
}

fn user_matches(value: &str, host: &Host) -> bool {
    match value {
        // systemd.unit(5): "@system" means a system user (uid below 1000) runs the manager.
        "@system" => host.uid < 1000,
        v => {
            v.parse::<u32>()
                .ok()
                .or_else(|| lookup_id("/etc/passwd", v))
                == Some(host.uid)
        }
    }
}

/// The numeric id of a name in a passwd- or group-style file.
fn lookup_id(file: &str, name: &str) -> Option<u32> {
    fs::read_to_string(file).ok()?.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        f.nth(1)?.parse().ok()
    })
}

/// Linux capability names to bit numbers (linux/capability.h).
fn capability_bit(name: &str) -> Option<u32> {
    const CAPS: &[&str] = &[
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
    ];
    CAPS.iter()
        .position(|c| c.eq_ignore_ascii_case(name))
        .and_then(|i| u32::try_from(i).ok())
}

/// Splits a value into comparison terms; an operator standing alone as a word belongs to
/// the word after it (`>= 6.1 < 6.2` is two terms).
fn terms(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending = String::new();
    for word in value.split_whitespace() {
        if matches!(word, "<" | "<=" | "=" | "!=" | ">=" | ">") {
            pending = word.to_string();
        } else {
            out.push(format!("{pending}{word}"));
            pending.clear();
        }
    }
    out
}

/// An operator prefix (`<`, `<=`, `=`, `!=`, `>=`, `>`) and the rest; none means `=`.
fn split_operator(term: &str) -> (&str, &str) {
    for op in ["<=", ">=", "!=", "<", ">", "="] {
        if let Some(rest) = term.strip_prefix(op) {
            return (op, rest.trim_start());
        }
    }
    ("=", term)
}

fn apply(op: &str, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        "<" => ord == Less,
        "<=" => ord != Greater,
        "!=" => ord != Equal,
        ">=" => ord != Less,
        ">" => ord == Greater,
        _ => ord == Equal,
    }
}

/// `ConditionKernelVersion=`: with an operator, a version comparison; without, a glob.
fn compare_term(term: &str, actual: &str, glob_without_operator: bool) -> bool {
    let (op, want) = split_operator(term);
    if glob_without_operator && !term.starts_with(['<', '>', '=', '!']) {
        return fnmatch(term, actual);
    }
    apply(op, version_cmp(actual, want))
}

/// `ConditionMemory=`/`ConditionCPUs=`: a number (sizes with K/M/G/T) and an operator.
fn compare_number(term: &str, actual: u64) -> Option<bool> {
    let (op, want) = split_operator(term.trim());
    let want = unitfile::value::parse_size(want, 1024).ok()?;
    Some(apply(op, actual.cmp(&want)))
}

/// `ConditionOSRelease=KEY=VALUE`, or with `!=`, `<`, ... (version comparison).
fn os_release_matches(term: &str, host: &Host) -> bool {
    let Some(pos) = term.find(['=', '!', '<', '>']) else {
        return false;
    };
    let (key, rest) = term.split_at(pos);
    let (op, want) = split_operator(rest);
    let actual = host
        .os_release
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str());
    match op {
        "=" => fnmatch(want, actual),
        "!=" => !fnmatch(want, actual),
        op => apply(op, version_cmp(actual, want)),
    }
}

/// Compares versions the way people read them: runs of digits numerically, the rest
/// character by character (`5.10` > `5.9`, `6.1.0-rc1` < `6.1.0-rc2`).
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            let digit = c.is_ascii_digit();
            let end = rest
                .find(|ch: char| ch.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            let (chunk, after) = rest.split_at(end);
            out.push((digit, chunk));
            rest = after;
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for ((da, xa), (db, xb)) in ca.iter().zip(cb.iter()) {
        let ord = if *da && *db {
            let (na, nb) = (xa.trim_start_matches('0'), xb.trim_start_matches('0'));
            na.len().cmp(&nb.len()).then_with(|| na.cmp(nb))
        } else {
            xa.cmp(xb)
        };
        if ord.is_ne() {
            return ord;
        }
    }
    ca.len().cmp(&cb.len())
}

/// `ConditionNeedsUpdate=/etc`: `/usr` is newer than the directory's `.updated` stamp.
fn needs_update(dir: &str) -> bool {
    let usr = fs::metadata("/usr").map(|m| m.mtime()).unwrap_or(0);
    match fs::metadata(Path::new(dir).join(".updated")) {
        Ok(stamp) => usr > stamp.mtime(),
        Err(_) => true,
    }
}

fn is_mount_point(path: &str) -> bool {
    if path == "/" {
        return true;
    }
    let (Ok(me), Some(parent)) = (fs::metadata(path), Path::new(path).parent()) else {
        return false;
    };
    if fs::metadata(parent).is_ok_and(|p| p.dev() != me.dev()) {
        return true;
    }
    // A bind mount of the same file system keeps the device: ask the mount table.
    fs::read_to_string("/proc/self/mountinfo").is_ok_and(|m| {
        m.lines()
            .filter_map(|l| l.split_whitespace().nth(4))
            .any(|mp| mp == path)
    })
}

fn is_read_write(path: &str) -> bool {
    // The most specific mount containing the path decides.
    let Ok(mountinfo) = fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    mountinfo
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let mp = f.nth(4)?;
            let opts = f.next()?;
            let inside = path == mp || mp == "/" || path.starts_with(&format!("{mp}/"));
            inside.then_some((mp.len(), opts))
        })
        .max_by_key(|(len, _)| *len)
        .is_some_and(|(_, opts)| opts.split(',').any(|o| o == "rw"))
}

/// Whether any file matches a glob pattern, matching directory by directory.
fn glob_exists(pattern: &str) -> bool {
    fn walk(dir: &Path, parts: &[&str]) -> bool {
        let Some((first, rest)) = parts.split_first() else {
            return true;
        };
        if !first.contains(['*', '?', '[']) {
            let next = dir.join(first);
            return fs::symlink_metadata(&next).is_ok() && walk(&next, rest);
        }
        let Ok(entries) = fs::read_dir(dir) else {
            return false;
        };
        entries.filter_map(|e| e.ok()).any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !name.starts_with('.') && fnmatch(first, &name) && walk(&e.path(), rest)
        })
    }
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    walk(Path::new("/"), &parts)
}

/// fnmatch(3) without flags: `*`, `?`, `[...]` (with `!`/`^` and ranges) and `\` escapes.
pub fn fnmatch(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    matches_at(&p, &t)
}

fn matches_at(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => {
            (0..=t.len()).any(|i| t.get(i..).is_some_and(|tail| matches_at(rest, tail)))
        }
        Some(('?', rest)) => t.split_first().is_some_and(|(_, tt)| matches_at(rest, tt)),
        Some(('[', rest)) => {
            let Some((&c, tt)) = t.split_first() else {
                return false;
            };
            match class(rest, c) {
                Some((true, after)) => matches_at(after, tt),
                Some((false, _)) => false,
                // An unterminated class is a literal '['.
                None => c == '[' && matches_at(rest, tt),
            }
        }
        Some(('\\', rest)) if !rest.is_empty() => match (rest.split_first(), t.split_first()) {
            (Some((pc, pr)), Some((tc, tr))) => pc == tc && matches_at(pr, tr),
            _ => false,
        },
        Some((pc, rest)) => t
            .split_first()
            .is_some_and(|(tc, tr)| pc == tc && matches_at(rest, tr)),
    }
}

/// Matches `c` against a bracket expression starting after `[`; returns whether it matched
/// and the pattern after `]`, or `None` if there is no closing `]`.
fn class(p: &[char], c: char) -> Option<(bool, &[char])> {
    let (negate, mut rest) = match p.split_first() {
        Some(('!' | '^', r)) => (true, r),
        _ => (false, p),
    };
    let mut matched = false;
    let mut first = true;
    loop {
        let (&x, r) = rest.split_first()?;
        if x == ']' && !first {
            return Some((matched != negate, r));
        }
        first = false;
        match r {
            ['-', hi, after @ ..] if *hi != ']' => {
                matched |= x <= c && c <= *hi;
                rest = after;
            }
            _ => {
                matched |= x == c;
                rest = r;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(kind: &str, value: &str) -> Condition {
        Condition {
            kind: kind.into(),
            trigger: false,
            negate: false,
            value: value.into(),
        }
    }

    fn host() -> Host {
        Host {
            architecture: "x86-64".into(),
            virtualization: Some("kvm".into()),
            hostname: "web-01".into(),
            machine_id: Some("0123456789abcdef0123456789abcdef".into()),
            kernel_release: "6.1.0-13-amd64".into(),
            kernel_cmdline: "BOOT_IMAGE=/vmlinuz root=/dev/vda1 quiet rd.debug".into(),
            os_release: vec![
                ("ID".into(), "debian".into()),
                ("VERSION_ID".into(), "12".into()),
            ],
            environment: vec![("LANG".into(), "C.UTF-8".into())],
            uid: 0,
            gids: vec![0, 4],
            memory_bytes: 2 << 30,
            cpus: 2,
            cpu_flags: vec!["sse4_2".into(), "avx2".into()],
            capabilities: (1 << 21) | (1 << 12),
            cgroup_controllers: vec!["cpu".into(), "memory".into()],
            security: vec!["apparmor".into()],
            on_ac_power: true,
            ..Host::default()
        }
    }

    #[test]
    fn host_facts() {
        let h = host();
        let cases: &[(&str, &str, bool)] = &[
            ("Architecture", "x86-64", true),
            ("Architecture", "arm64", false),
            ("Virtualization", "yes", true),
            ("Virtualization", "vm", true),
            ("Virtualization", "container", false),
            ("Virtualization", "kvm", true),
            ("Virtualization", "qemu", false),
            ("Host", "web-*", true),
            ("Host", "0123456789ABCDEF0123456789ABCDEF", true),
            ("Host", "db-*", false),
            ("KernelCommandLine", "quiet", true),
            ("KernelCommandLine", "root", true),
            ("KernelCommandLine", "root=/dev/vda1", true),
            ("KernelCommandLine", "root=/dev/sda1", false),
            ("KernelCommandLine", "rd", false),
            ("KernelVersion", ">=5.10", true),
            ("KernelVersion", "<6.1.0-2", false),
            ("KernelVersion", ">= 6.1 < 6.2", true),
            ("KernelVersion", "6.1.*", true),
            ("Environment", "LANG", true),
            ("Environment", "LANG=C.UTF-8", true),
            ("Environment", "LANG=C", false),
            ("User", "0", true),
            ("User", "root", true),
            ("User", "@system", true),
            ("Group", "4", true),
            ("Group", "27", false),
            ("Capability", "CAP_SYS_ADMIN", true),
            ("Capability", "CAP_NET_ADMIN", true),
            ("Capability", "CAP_SYS_BOOT", false),
            ("ACPower", "true", true),
            ("ACPower", "false", false),
            ("Security", "apparmor", true),
            ("Security", "selinux", false),
            ("ControlGroupController", "cpu memory", true),
            ("ControlGroupController", "io", false),
            ("ControlGroupController", "v2", true),
            ("Memory", ">=1G", true),
            ("Memory", "<1G", false),
            ("CPUs", ">1", true),
            ("CPUs", "=4", false),
            ("CPUFeature", "avx2", true),
            ("CPUFeature", "avx512f", false),
            ("OSRelease", "ID=debian", true),
            ("OSRelease", "ID!=fedora", true),
            ("OSRelease", "VERSION_ID>=11", true),
            ("OSRelease", "VERSION_ID<12", false),
        ];
        for (kind, value, want) in cases {
            let v = check(&[cond(kind, value)], &[], &h);
            assert_eq!(
                v.condition_failed.is_none(),
                *want,
                "Condition{kind}={value}"
            );
            assert!(v.unsupported.is_empty());
        }
    }

    #[test]
    fn paths() {
        let d = tempfile::tempdir().unwrap();
        let p = |s: &str| d.path().join(s).display().to_string();
        fs::write(p("empty"), "").unwrap();
        fs::write(p("full"), "x").unwrap();
        fs::write(p("tool"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(p("tool"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::create_dir(p("dir")).unwrap();
        fs::create_dir(p("emptydir")).unwrap();
        fs::write(p("dir/a.conf"), "x").unwrap();
        std::os::unix::fs::symlink("/nonexistent", p("dangling")).unwrap();
        let h = host();
        let cases = [
            ("PathExists", p("full"), true),
            ("PathExists", p("nope"), false),
            ("PathExists", p("dangling"), true),
            ("PathExistsGlob", p("dir/*.conf"), true),
            ("PathExistsGlob", p("dir/*.txt"), false),
            ("PathExistsGlob", p("d[i]r/?.conf"), true),
            ("PathIsDirectory", p("dir"), true),
            ("PathIsDirectory", p("full"), false),
            ("PathIsSymbolicLink", p("dangling"), true),
            ("PathIsMountPoint", "/proc".to_string(), true),
            ("PathIsMountPoint", p("dir"), false),
            ("PathIsReadWrite", p("dir"), true),
            ("DirectoryNotEmpty", p("dir"), true),
            ("DirectoryNotEmpty", p("emptydir"), false),
            ("FileNotEmpty", p("full"), true),
            ("FileNotEmpty", p("empty"), false),
            ("FileIsExecutable", p("tool"), true),
            ("FileIsExecutable", p("full"), false),
        ];
        for (kind, value, want) in cases {
            let v = check(&[cond(kind, &value)], &[], &h);
            assert_eq!(
                v.condition_failed.is_none(),
                want,
                "Condition{kind}={value}"
            );
        }
    }

    #[test]
    fn triggers_negation_and_asserts() {
        let h = host();
        let with = |kind: &str, value: &str, trigger: bool, negate: bool| Condition {
            trigger,
            negate,
            ..cond(kind, value)
        };
        // All plain conditions must hold.
        let v = check(
            &[
                with("Architecture", "x86-64", false, false),
                with("Host", "db", false, false),
            ],
            &[],
            &h,
        );
        assert_eq!(v.condition_failed.as_deref(), Some("ConditionHost=db"));
        // Negation.
        let v = check(&[with("Host", "db", false, true)], &[], &h);
        assert_eq!(v.condition_failed, None);
        // One triggering condition is enough; none holding fails with the first of them.
        let v = check(
            &[
                with("Host", "db", true, false),
                with("Host", "web-01", true, false),
            ],
            &[],
            &h,
        );
        assert_eq!(v.condition_failed, None);
        let v = check(
            &[
                with("Host", "db", true, false),
                with("Host", "mail", true, true),
                with("Host", "x", true, false),
            ],
            &[],
            &h,
        );
        assert_eq!(v.condition_failed, None, "!mail holds");
        let v = check(
            &[
                with("Host", "db", true, false),
                with("Host", "x", true, false),
            ],
            &[],
            &h,
        );
        assert_eq!(v.condition_failed.as_deref(), Some("ConditionHost=|db"));
        // Asserts are reported separately.
        let v = check(&[], &[with("Architecture", "arm64", false, false)], &h);
        assert_eq!(v.assert_failed.as_deref(), Some("AssertArchitecture=arm64"));
        assert_eq!(v.condition_failed, None);
    }

    #[test]
    fn unsupported_checks_hold_and_are_reported() {
        let v = check(
            &[cond("Credential", "secret"), cond("MemoryPressure", "20%")],
            &[],
            &host(),
        );
        assert_eq!(v.condition_failed, None);
        assert_eq!(
            v.unsupported,
            vec!["ConditionCredential=secret", "ConditionMemoryPressure=20%"]
        );
    }

    #[test]
    fn glob_matching() {
        for (pattern, text, want) in [
            ("*", "", true),
            ("a*c", "abbbc", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("[a-c]x", "bx", true),
            ("[!a-c]x", "bx", false),
            ("[^a-c]x", "dx", true),
            ("[]]", "]", true),
            ("\\*", "*", true),
            ("\\*", "a", false),
            ("[abc", "[abc", true),
            ("*.service", "a.service", true),
        ] {
            assert_eq!(fnmatch(pattern, text), want, "{pattern} ~ {text}");
        }
    }

    #[test]
    fn versions() {
        use std::cmp::Ordering::*;
        for (a, b, want) in [
            ("5.10", "5.9", Greater),
            ("6.1.0", "6.1.0", Equal),
            ("6.1.0-13-amd64", "6.1.0-2", Greater),
            ("6.1", "6.1.0", Less),
            ("007", "7", Equal),
        ] {
            assert_eq!(version_cmp(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn detecting_the_real_host_does_not_fail() {
        let h = Host::detect();
        assert!(!h.kernel_release.is_empty());
        assert!(h.cpus >= 1);
        assert!(h.memory_bytes > 0);
    }
}
