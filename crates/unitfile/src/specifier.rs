//! Specifiers: the `%x` expansions of systemd.unit(5) "SPECIFIERS", resolved as the *system*
//! manager of systemd 252 resolves them.
//!
//! Expansion follows systemd's rules exactly: `%%` is a percent sign; `%` followed by an ASCII
//! letter or digit that is no known specifier is an error; `%` followed by anything else, and a
//! `%` at the very end, are kept literally. Facts about the running system (machine ID, boot ID,
//! host names, os-release, kernel, architecture) come from a [`HostFacts`] gathered once by the
//! caller, so expanding a string does no I/O except resolving symlinks of the fragment path for
//! `%y`/`%Y`. Settings naming units (`Wants=`, `Requires=`, ...) accept only a subset of the
//! specifiers, see [`expand_name`].

use crate::diag::ValueError;
use crate::name::{self, UnitName};
use std::path::{Path, PathBuf};

/// Facts about the running system that the host specifiers expand to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// `%m`: 32 lowercase hex digits from `/etc/machine-id`; `None` when it is missing, empty,
    /// `uninitialized`, all zeros or malformed (systemd refuses to expand `%m` then).
    pub machine_id: Option<String>,
    /// `%b`: 32 lowercase hex digits (no dashes) from `/proc/sys/kernel/random/boot_id`.
    pub boot_id: Option<String>,
    /// `%H`: the kernel's host name; `None` when unset (empty or `(none)`), in which case
    /// os-release `DEFAULT_HOSTNAME=` or `localhost` is used, as systemd does.
    pub hostname: Option<String>,
    /// `%q`: `PRETTY_HOSTNAME=` of `/etc/machine-info`; when unset or empty `%q` gives `%l`.
    pub pretty_hostname: Option<String>,
    /// `%v`: `uname -r`.
    pub kernel_release: Option<String>,
    /// `%a`: the architecture in systemd's names (`x86-64`, `arm64`, `ppc64-le`, ...).
    pub architecture: String,
    /// The assignments of `/etc/os-release` (or `/usr/lib/os-release`) in file order, quotes
    /// removed; `None` when neither file exists. A missing field expands to the empty string,
    /// a missing file is an error, as in systemd.
    pub os_release: Option<Vec<(String, String)>>,
    /// `%s`: root's shell. systemd 252 (Debian) hard-codes `/bin/bash` when that exists and
    /// `/bin/sh` otherwise; it never consults `/etc/passwd` for root.
    pub root_shell: String,
}

impl Default for HostFacts {
    /// Nothing known, except the architecture this program was built for and `/bin/sh`.
    fn default() -> HostFacts {
        HostFacts {
            machine_id: None,
            boot_id: None,
            hostname: None,
            pretty_hostname: None,
            kernel_release: None,
            architecture: compiled_architecture(),
            os_release: None,
            root_shell: "/bin/sh".to_string(),
        }
    }
}

impl HostFacts {
    /// Reads the facts of the running system. Anything unreadable is left unknown.
    pub fn from_system() -> HostFacts {
        HostFacts::from_root(Path::new("/"))
    }

    /// Reads the same files as [`HostFacts::from_system`], but below `root` (`ROOT/etc/...`,
    /// `ROOT/proc/...`). Symlinks inside the tree are followed as the host sees them.
    pub fn from_root(root: &Path) -> HostFacts {
        let read = |rel: &str| -> Option<String> {
            std::fs::read(root.join(rel))
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        let first_line = |text: String| -> Option<String> {
            let line = text.lines().next().unwrap_or("").trim().to_string();
            (!line.is_empty()).then_some(line)
        };
        let machine_id = read("etc/machine-id").and_then(|s| parse_id128(&s, false));
        let boot_id = read("proc/sys/kernel/random/boot_id").and_then(|s| parse_id128(&s, true));
        // The kernel's name is what systemd uses; /etc/hostname only stands in when there is
        // no /proc below the root (an image rather than a running system).
        let hostname = match read("proc/sys/kernel/hostname") {
            Some(s) => first_line(s).filter(|h| h != "(none)"),
            None => read("etc/hostname").and_then(|s| {
                s.lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string)
            }),
        };
        let pretty_hostname = read("etc/machine-info")
            .and_then(|s| lookup(&parse_env_file(&s), "PRETTY_HOSTNAME").map(str::to_string));
        let kernel_release = read("proc/sys/kernel/osrelease").and_then(first_line);
        let architecture = read("proc/sys/kernel/arch")
            .and_then(first_line)
            .map(|m| architecture_name(&m))
            .unwrap_or_else(compiled_architecture);
        let os_release = read("etc/os-release")
            .or_else(|| read("usr/lib/os-release"))
            .map(|s| parse_env_file(&s));
        let root_shell = if root.join("bin/bash").exists() {
            "/bin/bash"
        } else {
            "/bin/sh"
        };
        HostFacts {
            machine_id,
            boot_id,
            hostname,
            pretty_hostname,
            kernel_release,
            architecture,
            os_release,
            root_shell: root_shell.to_string(),
        }
    }

    /// The value of an os-release field: `Ok("")` when the field is missing, an error when
    /// there is no os-release file at all.
    pub fn os_release_field(&self, key: &str) -> Result<&str, ValueError> {
        match &self.os_release {
            Some(vars) => Ok(lookup(vars, key).unwrap_or("")),
            None => Err(ValueError::new(
                "neither /etc/os-release nor /usr/lib/os-release exists",
            )),
        }
    }

    /// `%H`: the host name, falling back to os-release `DEFAULT_HOSTNAME=` (when it is a valid
    /// host name) and then `localhost`, like systemd's own fallback.
    pub fn effective_hostname(&self) -> String {
        if let Some(h) = self.hostname.as_deref().filter(|h| !h.is_empty()) {
            return h.to_string();
        }
        self.os_release
            .as_deref()
            .and_then(|vars| lookup(vars, "DEFAULT_HOSTNAME"))
            .filter(|h| is_valid_hostname(h))
            .unwrap_or("localhost")
            .to_string()
    }

    /// `%l`: the host name up to its first dot.
    pub fn short_hostname(&self) -> String {
        let h = self.effective_hostname();
        match h.split_once('.') {
            Some((short, _)) => short.to_string(),
            None => h,
        }
    }
}

/// What a specifier expansion needs: the unit, its fragment file and the host facts.
#[derive(Debug, Clone, Copy)]
pub struct SpecifierContext<'a> {
    pub unit: &'a UnitName,
    /// The unit file (`%y`, `%Y`); symlinks are resolved when expanding, as systemd does.
    pub fragment_path: Option<&'a Path>,
    pub host: &'a HostFacts,
}

/// Which specifier table applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    /// Most settings: everything in systemd.unit(5).
    Full,
    /// Settings whose values are unit names: systemd 252 resolves only these there.
    Name,
}

/// The specifiers systemd 252 resolves in unit names (`Wants=x-%i.service`); verified with
/// `systemd-analyze verify`, which rejects e.g. `%I`, `%f`, `%t`, `%h` there ("Invalid slot").
const NAME_SPECIFIERS: &str = "nNpijaAbBHlqmMovwWgGuU";

/// Every specifier of systemd.unit(5) for systemd 252.
const FULL_SPECIFIERS: &str = "aAbBCdEfgGhHiIjJlLmMnNopPqsStTuUvVwWyY";

/// Expands every specifier in `s` for a setting of unit `ctx.unit`.
pub fn expand(s: &str, ctx: &SpecifierContext) -> Result<String, ValueError> {
    expand_with(s, ctx, Table::Full)
}

/// Expands `s` where the result is a unit name (dependencies such as `Wants=`, `Requires=`,
/// `Unit=`): only `%n %N %p %i %j`, the host specifiers `%a %A %b %B %H %l %q %m %M %o %v %w
/// %W` and `%g %G %u %U` are allowed, as in systemd 252.
pub fn expand_name(s: &str, ctx: &SpecifierContext) -> Result<String, ValueError> {
    expand_with(s, ctx, Table::Name)
}

/// [`expand`] over a list of values; the first failure is returned.
pub fn expand_all(values: &[String], ctx: &SpecifierContext) -> Result<Vec<String>, ValueError> {
    values.iter().map(|v| expand(v, ctx)).collect()
}

fn expand_with(s: &str, ctx: &SpecifierContext, table: Table) -> Result<String, ValueError> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // A stray `%` at the end is kept, as systemd does.
            None => out.push('%'),
            Some('%') => out.push('%'),
            Some(x) if x.is_ascii_alphanumeric() => out.push_str(&resolve(x, ctx, table)?),
            // Only letters and digits can be specifiers; `%-`, `%/`, `% ` stay as they are.
            Some(x) => {
                out.push('%');
                out.push(x);
            }
        }
    }
    Ok(out)
}

/// The expansion of one specifier letter.
fn resolve(c: char, ctx: &SpecifierContext, table: Table) -> Result<String, ValueError> {
    let fail = |what: &str| ValueError::new(format!("%{c}: {what}"));
    if table == Table::Name && !NAME_SPECIFIERS.contains(c) {
        return Err(if FULL_SPECIFIERS.contains(c) {
            fail("specifier cannot be used in a unit name")
        } else {
            fail("unknown specifier")
        });
    }
    let unit = ctx.unit;
    let host = ctx.host;
    let fixed = |s: &str| Ok(s.to_string());
    let os = |key: &str| {
        host.os_release_field(key)
            .map(str::to_string)
            .map_err(|e| fail(&e.0))
    };
    match c {
        'n' => Ok(unit.to_string()),
        'N' => Ok(match unit.instance() {
            Some(i) => format!("{}@{i}", unit.prefix()),
            None => unit.prefix().to_string(),
        }),
        'p' => fixed(unit.prefix()),
        'P' => unit.prefix_unescaped().map_err(|e| fail(&e.0)),
        'i' => fixed(unit.instance().unwrap_or("")),
        'I' => unit
            .instance_unescaped()
            .unwrap_or_else(|| Ok(String::new()))
            .map_err(|e| fail(&e.0)),
        'j' => fixed(unit.prefix_final_component()),
        // systemd 252 aborts on `%J` when the prefix ends in `-`; an empty result is the only
        // sensible answer there.
        'J' => unit
            .prefix_final_component_unescaped()
            .map_err(|e| fail(&e.0)),
        // An instance is unescaped as a path even for a template (empty instance, an error),
        // otherwise the prefix is.
        'f' => match unit.instance() {
            Some(instance) => name::unescape_path(instance),
            None => name::unit_name_to_path(unit),
        }
        .map_err(|e| fail(&e.0)),
        'y' => path_string(&fragment(ctx).map_err(|e| fail(&e))?).map_err(|e| fail(&e)),
        'Y' => {
            let path = fragment(ctx).map_err(|e| fail(&e))?;
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .ok_or_else(|| fail(&format!("'{}' has no directory", path.display())))?;
            path_string(dir).map_err(|e| fail(&e))
        }
        'C' => fixed("/var/cache"),
        'd' => Ok(format!("/run/credentials/{unit}")),
        'E' => fixed("/etc"),
        'L' => fixed("/var/log"),
        'S' => fixed("/var/lib"),
        't' => fixed("/run"),
        'T' => fixed("/tmp"),
        'V' => fixed("/var/tmp"),
        'h' => fixed("/root"),
        's' => fixed(&host.root_shell),
        'u' | 'g' => fixed("root"),
        'U' | 'G' => fixed("0"),
        'a' => fixed(&host.architecture),
        'b' => host
            .boot_id
            .clone()
            .ok_or_else(|| fail("/proc/sys/kernel/random/boot_id is missing or invalid")),
        'm' => host
            .machine_id
            .clone()
            .ok_or_else(|| fail("/etc/machine-id is missing or invalid")),
        'H' => Ok(host.effective_hostname()),
        'l' => Ok(host.short_hostname()),
        'q' => Ok(host
            .pretty_hostname
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| host.short_hostname())),
        'v' => host
            .kernel_release
            .clone()
            .ok_or_else(|| fail("the kernel release (/proc/sys/kernel/osrelease) is unknown")),
        'o' => os("ID"),
        'w' => os("VERSION_ID"),
        'W' => os("VARIANT_ID"),
        'B' => os("BUILD_ID"),
        'M' => os("IMAGE_ID"),
        'A' => os("IMAGE_VERSION"),
        // systemd 252 still expands these with a deprecation warning, but their values depend
        // on the unit's Slice= and on systemd's cgroup layout.
        'c' | 'r' | 'R' => Err(fail(
            "deprecated cgroup specifier, not supported by sysmaster",
        )),
        _ => Err(fail("unknown specifier")),
    }
}

/// The fragment path with symlinks resolved (systemd uses the real path, so a linked unit
/// file reports where it really lives). A path that cannot be resolved is used as given.
fn fragment(ctx: &SpecifierContext) -> Result<PathBuf, String> {
    let path = ctx
        .fragment_path
        .ok_or_else(|| format!("unit {} has no fragment file", ctx.unit))?;
    Ok(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

fn path_string(path: &Path) -> Result<String, String> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| format!("path '{}' is not valid UTF-8", path.display()))
}

/// Parses a 128-bit ID file: 32 hex digits, or (for `uuid`) also the dashed UUID form, with at
/// most one trailing newline. All zeros is invalid. Returns lowercase hex without dashes.
fn parse_id128(text: &str, uuid: bool) -> Option<String> {
    let t = text.strip_suffix('\n').unwrap_or(text);
    let dashes_ok = || {
        t.len() == 36
            && t.char_indices()
                .all(|(i, ch)| (ch == '-') == matches!(i, 8 | 13 | 18 | 23))
    };
    let hex: String = if t.len() == 32 {
        t.to_string()
    } else if uuid && dashes_ok() {
        t.chars().filter(|&ch| ch != '-').collect()
    } else {
        return None;
    };
    if !hex.chars().all(|ch| ch.is_ascii_hexdigit()) || hex.chars().all(|ch| ch == '0') {
        return None;
    }
    Some(hex.to_ascii_lowercase())
}

/// The last value of `key` (later assignments override earlier ones).
fn lookup<'v>(vars: &'v [(String, String)], key: &str) -> Option<&'v str> {
    vars.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// os-release(5) and machine-info(5) are environment files, read by systemd with the same
/// parser as `EnvironmentFile=`; problems in them are not ours to report.
fn parse_env_file(text: &str) -> Vec<(String, String)> {
    crate::env::parse_env_file(text).0
}

/// A host name systemd would accept from os-release `DEFAULT_HOSTNAME=`: dot-separated
/// labels of letters, digits, `-` and `_`, at most 64 characters.
fn is_valid_hostname(h: &str) -> bool {
    h.len() <= 64
        && h.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// systemd's name for a kernel machine name (`uname -m`); unknown names pass through.
fn architecture_name(machine: &str) -> String {
    let little = cfg!(target_endian = "little");
    let name = match machine {
        "x86_64" => "x86-64",
        "i386" | "i486" | "i586" | "i686" | "x86" => "x86",
        "aarch64" => "arm64",
        "aarch64_be" => "arm64-be",
        m if m.starts_with("armv") && m.ends_with('b') => "arm-be",
        m if m.starts_with("armv") || m == "arm" => "arm",
        "ppc64le" => "ppc64-le",
        "ppc64" | "powerpc64" if little => "ppc64-le",
        "ppc64" | "powerpc64" => "ppc64",
        "ppcle" => "ppc-le",
        "ppc" | "powerpc" if little => "ppc-le",
        "ppc" | "powerpc" => "ppc",
        "mips64" if little => "mips64-le",
        "mips" if little => "mips-le",
        "riscv" if cfg!(target_pointer_width = "64") => "riscv64",
        "riscv" => "riscv32",
        "arceb" => "arc-be",
        "crisv32" => "cris",
        "sh5" => "sh64",
        m if m.starts_with("sh") && m != "sh64" => "sh",
        m => m,
    };
    name.to_string()
}

/// The architecture this program was compiled for, used when the kernel does not say.
fn compiled_architecture() -> String {
    let arch = std::env::consts::ARCH;
    if arch == "aarch64" && cfg!(target_endian = "big") {
        return "arm64-be".to_string();
    }
    architecture_name(arch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn host() -> HostFacts {
        HostFacts {
            machine_id: Some("3d1219c7c4c5404aaa1f6d2a48adfda4".into()),
            boot_id: Some("6dd9e12ffde346dbb560fdfc33b214ba".into()),
            hostname: Some("vm.example.com".into()),
            pretty_hostname: None,
            kernel_release: Some("6.1.0-18-amd64".into()),
            architecture: "x86-64".into(),
            os_release: Some(vec![
                ("ID".into(), "debian".into()),
                ("VERSION_ID".into(), "12".into()),
            ]),
            root_shell: "/bin/bash".into(),
        }
    }

    fn expand_for(
        unit: &str,
        fragment: Option<&str>,
        host: &HostFacts,
        s: &str,
    ) -> Result<String, ValueError> {
        let unit = UnitName::parse(unit).unwrap();
        let ctx = SpecifierContext {
            unit: &unit,
            fragment_path: fragment.map(Path::new),
            host,
        };
        expand(s, &ctx)
    }

    /// `input` expanded for `unit` (fragment `/nonexistent-dir/<unit>`) with [`host`] gives
    /// `expected`.
    fn check(unit: &str, input: &str, expected: &str) {
        let fragment = format!("/nonexistent-dir/{unit}");
        let got = expand_for(unit, Some(&fragment), &host(), input);
        assert_eq!(got.as_deref(), Ok(expected), "{unit}: {input}");
    }

    /// `input` fails for `unit` with an error mentioning `needle`.
    fn check_err(unit: &str, fragment: Option<&str>, host: &HostFacts, input: &str, needle: &str) {
        match expand_for(unit, fragment, host, input) {
            Ok(v) => panic!("{unit}: {input}: expected an error, got '{v}'"),
            Err(e) => assert!(
                e.0.contains(needle),
                "{unit}: {input}: '{}' lacks '{needle}'",
                e.0
            ),
        }
    }

    #[test]
    fn unit_specifiers() {
        // Cases marked "verify" were checked with systemd 252: `systemd-analyze verify` of a
        // unit with `ExecStart=/nonexistent/n=%n:N=%N:...` prints the expanded command line.
        let cases: &[(&str, &str, &str)] = &[
            // verify: foo-bar@a\x2db.service
            ("foo-bar@a\\x2db.service", "%n", "foo-bar@a\\x2db.service"),
            ("foo-bar@a\\x2db.service", "%N", "foo-bar@a\\x2db"),
            ("foo-bar@a\\x2db.service", "%p", "foo-bar"),
            ("foo-bar@a\\x2db.service", "%P", "foo/bar"),
            ("foo-bar@a\\x2db.service", "%i", "a\\x2db"),
            ("foo-bar@a\\x2db.service", "%I", "a-b"),
            ("foo-bar@a\\x2db.service", "%j", "bar"),
            ("foo-bar@a\\x2db.service", "%J", "bar"),
            ("foo-bar@a\\x2db.service", "%f", "/a-b"),
            (
                "foo-bar@a\\x2db.service",
                "%d",
                "/run/credentials/foo-bar@a\\x2db.service",
            ),
            // verify: dev-sda1.service (a plain unit: %f unescapes the prefix as a path)
            ("dev-sda1.service", "%N", "dev-sda1"),
            ("dev-sda1.service", "%p", "dev-sda1"),
            ("dev-sda1.service", "%P", "dev/sda1"),
            ("dev-sda1.service", "%i", ""),
            ("dev-sda1.service", "%I", ""),
            ("dev-sda1.service", "%j", "sda1"),
            ("dev-sda1.service", "%f", "/dev/sda1"),
            ("dev-sda1.device", "%f", "/dev/sda1"),
            // verify: -.service (the root path)
            ("-.mount", "%N", "-"),
            ("-.mount", "%P", "/"),
            ("-.mount", "%j", ""),
            ("-.mount", "%J", ""),
            ("-.mount", "%f", "/"),
            // verify: foo@bar-baz\x2dq.service, foo@-.service, foo@a\x2fb.service,
            // foo@a\x2d\x2e.service, x\x2dy-z\x2dw@i.service
            ("foo@bar-baz\\x2dq.service", "%I", "bar/baz-q"),
            ("foo@bar-baz\\x2dq.service", "%f", "/bar/baz-q"),
            ("foo@bar-baz\\x2dq.service", "%j", "foo"),
            ("foo@-.service", "%I", "/"),
            ("foo@-.service", "%f", "/"),
            ("foo@a\\x2fb.service", "%I", "a/b"),
            ("foo@a\\x2fb.service", "%f", "/a/b"),
            ("foo@a\\x2d\\x2e.service", "%f", "/a-."),
            ("x\\x2dy-z\\x2dw@i.service", "%P", "x-y/z-w"),
            ("x\\x2dy-z\\x2dw@i.service", "%j", "z\\x2dw"),
            ("x\\x2dy-z\\x2dw@i.service", "%J", "z-w"),
            // Templates (from the man page: %i is empty for non-instantiated units).
            ("getty@.service", "%i", ""),
            ("getty@.service", "%N", "getty@"),
            ("getty@.service", "%p", "getty"),
            ("a-b-c.service", "%j", "c"),
        ];
        for (unit, input, expected) in cases {
            check(unit, input, expected);
        }
    }

    #[test]
    fn system_specifiers() {
        // verify (as root, with an empty environment): the system manager's fixed values and
        // the host facts of this machine.
        let u = "foo.service";
        let cases: &[(&str, &str)] = &[
            ("%a", "x86-64"),
            ("%b", "6dd9e12ffde346dbb560fdfc33b214ba"),
            ("%C", "/var/cache"),
            ("%E", "/etc"),
            ("%g", "root"),
            ("%G", "0"),
            ("%h", "/root"),
            ("%H", "vm.example.com"),
            ("%l", "vm"),
            ("%L", "/var/log"),
            ("%m", "3d1219c7c4c5404aaa1f6d2a48adfda4"),
            ("%o", "debian"),
            ("%q", "vm"),
            ("%s", "/bin/bash"),
            ("%S", "/var/lib"),
            ("%t", "/run"),
            ("%T", "/tmp"),
            ("%u", "root"),
            ("%U", "0"),
            ("%v", "6.1.0-18-amd64"),
            ("%V", "/var/tmp"),
            ("%w", "12"),
            // Missing os-release fields are empty (man page; verify shows `W=` and `A=`).
            ("%W", ""),
            ("%B", ""),
            ("%M", ""),
            ("%A", ""),
            ("%d", "/run/credentials/foo.service"),
            ("%y", "/nonexistent-dir/foo.service"),
            ("%Y", "/nonexistent-dir"),
        ];
        for (input, expected) in cases {
            check(u, input, expected);
        }
    }

    #[test]
    fn percent_handling() {
        // verify: `x%` -> `x%`, `x%%` -> `x%`, `x%%%` -> `x%%`, `%-x`, `%/`, `%.` and `%é`
        // are kept, `% x` keeps `% x`.
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("plain", "plain"),
            ("100%%", "100%"),
            ("x%", "x%"),
            ("x%%", "x%"),
            ("x%%%", "x%%"),
            ("%-x", "%-x"),
            ("%/", "%/"),
            ("%.", "%."),
            ("%é", "%é"),
            ("% x", "% x"),
            ("%n-%i.%%", "foo@x.service-x.%"),
            ("é%iü", "éxü"),
        ];
        for (input, expected) in cases {
            check("foo@x.service", input, expected);
        }
    }

    #[test]
    fn errors() {
        let h = host();
        let frag = Some("/nonexistent-dir/foo.service");
        // verify: "Invalid slot" for %Z, %1 and %D (%D only exists from systemd 253).
        check_err("foo.service", frag, &h, "a%Zb", "%Z: unknown specifier");
        check_err("foo.service", frag, &h, "%1", "%1: unknown specifier");
        check_err("foo.service", frag, &h, "%D", "%D: unknown specifier");
        check_err("foo.service", frag, &h, "%c", "%c: deprecated");
        check_err(
            "foo.service",
            None,
            &h,
            "%y",
            "%y: unit foo.service has no fragment file",
        );
        check_err(
            "foo.service",
            None,
            &h,
            "%Y",
            "%Y: unit foo.service has no fragment file",
        );
        // verify: "Invalid argument" for these instances under %f.
        for unit in [
            "foo@a--b.service",
            "foo@a-.service",
            "foo@-a.service",
            "foo@\\x2e.service",
            "foo@a-\\x2e-b.service",
            "a\\x2f-b.service",
        ] {
            check_err(unit, frag, &h, "%f", "%f: ");
        }
        // A template has an empty instance, which is no path.
        check_err("getty@.service", frag, &h, "%f", "%f: ");
        // Broken escapes cannot be unescaped.
        check_err("foo@a\\x2.service", frag, &h, "%I", "%I: ");
        check_err("foo@a\\y20.service", frag, &h, "%I", "%I: ");
        // An escaped NUL ends the string, as in C.
        check("foo\\x00.service", "%P", "foo");

        let none = HostFacts::default();
        check_err(
            "foo.service",
            frag,
            &none,
            "%m",
            "%m: /etc/machine-id is missing or invalid",
        );
        check_err(
            "foo.service",
            frag,
            &none,
            "%b",
            "%b: /proc/sys/kernel/random/boot_id",
        );
        check_err("foo.service", frag, &none, "%v", "%v: the kernel release");
        for spec in ["%o", "%w", "%W", "%B", "%M", "%A"] {
            check_err(
                "foo.service",
                frag,
                &none,
                spec,
                "neither /etc/os-release nor /usr/lib/os-release",
            );
        }
        // An empty os-release is fine: its fields are just empty.
        let empty = HostFacts {
            os_release: Some(Vec::new()),
            ..HostFacts::default()
        };
        assert_eq!(
            expand_for("foo.service", frag, &empty, "[%o%w]"),
            Ok("[]".to_string())
        );
    }

    #[test]
    fn hostname_fallbacks() {
        // verify with the host name set to "(none)": %H %l %q are "localhost", or os-release
        // DEFAULT_HOSTNAME= when given; an empty PRETTY_HOSTNAME= falls back to %l.
        let mut h = HostFacts::default();
        let get = |h: &HostFacts, s: &str| expand_for("foo.service", None, h, s);
        assert_eq!(
            get(&h, "%H %l %q"),
            Ok("localhost localhost localhost".into())
        );
        h.os_release = Some(vec![("DEFAULT_HOSTNAME".into(), "dflt.lan".into())]);
        assert_eq!(get(&h, "%H %l %q"), Ok("dflt.lan dflt dflt".into()));
        h.os_release = Some(vec![("DEFAULT_HOSTNAME".into(), "bad name".into())]);
        assert_eq!(get(&h, "%H"), Ok("localhost".into()));
        h.hostname = Some("foo.example.com".into());
        assert_eq!(get(&h, "%H %l %q"), Ok("foo.example.com foo foo".into()));
        h.pretty_hostname = Some(String::new());
        assert_eq!(get(&h, "%q"), Ok("foo".into()));
        h.pretty_hostname = Some("My Box".into());
        assert_eq!(get(&h, "%q"), Ok("My Box".into()));
    }

    #[test]
    fn name_table() {
        // verify: in `Wants=x-%X.service` systemd 252 accepts %a %j %u %g %m %H %q %o %w and
        // rejects %I %J %P %f %h %T %d %y %t ("Invalid slot").
        let unit = UnitName::parse("foo-bar@inst.service").unwrap();
        let h = host();
        let ctx = SpecifierContext {
            unit: &unit,
            fragment_path: None,
            host: &h,
        };
        assert_eq!(
            expand_name("x-%p-%i-%j-%u-%o.service", &ctx),
            Ok("x-foo-bar-inst-bar-root-debian.service".into())
        );
        for bad in ["%I", "%J", "%P", "%f", "%h", "%T", "%d", "%y", "%t"] {
            let e = expand_name(&format!("x-{bad}.service"), &ctx).unwrap_err();
            assert!(e.0.contains("cannot be used in a unit name"), "{bad}: {e}");
        }
        assert!(expand_name("%Z", &ctx).unwrap_err().0.contains("unknown"));
        assert_eq!(
            expand_all(&["%i".to_string(), "%p".to_string()], &ctx),
            Ok(vec!["inst".to_string(), "foo-bar".to_string()])
        );
        assert!(expand_all(&["%i".to_string(), "%Z".to_string()], &ctx).is_err());
    }

    fn write(root: &Path, rel: &str, content: &str) {
        crate::testutil::write_tree(root, &[(rel, content)]);
    }

    #[test]
    fn from_root_reads_the_files() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(root, "etc/machine-id", "3D1219C7C4C5404AAA1F6D2A48ADFDA4\n");
        write(
            root,
            "proc/sys/kernel/random/boot_id",
            "6dd9e12f-fde3-46db-b560-fdfc33b214ba\n",
        );
        write(root, "proc/sys/kernel/hostname", "box.example.org\n");
        write(root, "proc/sys/kernel/osrelease", "6.18.44\n");
        write(root, "proc/sys/kernel/arch", "aarch64\n");
        write(
            root,
            "etc/machine-info",
            "# comment\nPRETTY_HOSTNAME=\"Lab \\\"Box\\\"\"\n",
        );
        // verify (with these os-release lines): %o=bar %w=1.2 %W=x y %B=b1 %M=im"g %A=v$1.
        write(
            root,
            "usr/lib/os-release",
            "ID=foo\nID=bar\nVERSION_ID=\"1.2\"\nVARIANT_ID='x y'\nBUILD_ID= b1 \n\
             IMAGE_ID=\"im\\\"g\"\nIMAGE_VERSION=v\\$1\n",
        );
        fs::create_dir_all(root.join("bin")).unwrap();
        write(root, "bin/bash", "");
        let h = HostFacts::from_root(root);
        assert_eq!(
            h.machine_id.as_deref(),
            Some("3d1219c7c4c5404aaa1f6d2a48adfda4")
        );
        assert_eq!(
            h.boot_id.as_deref(),
            Some("6dd9e12ffde346dbb560fdfc33b214ba")
        );
        assert_eq!(h.hostname.as_deref(), Some("box.example.org"));
        assert_eq!(h.pretty_hostname.as_deref(), Some("Lab \"Box\""));
        assert_eq!(h.kernel_release.as_deref(), Some("6.18.44"));
        assert_eq!(h.architecture, "arm64");
        assert_eq!(h.root_shell, "/bin/bash");
        assert_eq!(
            expand_for("foo.service", None, &h, "%o|%w|%W|%B|%M|%A|%l|%q"),
            Ok("bar|1.2|x y|b1|im\"g|v$1|box|Lab \"Box\"".into())
        );
        // /etc/os-release wins over /usr/lib/os-release.
        write(root, "etc/os-release", "ID=etc\n");
        assert_eq!(
            expand_for("foo.service", None, &HostFacts::from_root(root), "%o"),
            Ok("etc".into())
        );
    }

    #[test]
    fn from_root_with_files_missing() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(root, "etc/hostname", "# name\nimage-host\n");
        let h = HostFacts::from_root(root);
        assert_eq!(h.machine_id, None);
        assert_eq!(h.boot_id, None);
        assert_eq!(h.hostname.as_deref(), Some("image-host"));
        assert_eq!(h.pretty_hostname, None);
        assert_eq!(h.kernel_release, None);
        assert_eq!(h.os_release, None);
        assert_eq!(h.root_shell, "/bin/sh");
        assert_eq!(h.architecture, compiled_architecture());
        check_err(
            "foo.service",
            None,
            &h,
            "%m",
            "%m: /etc/machine-id is missing or invalid",
        );
        check_err("foo.service", None, &h, "%o", "%o: neither");
        // The kernel's "(none)" means no host name.
        write(root, "proc/sys/kernel/hostname", "(none)\n");
        assert_eq!(HostFacts::from_root(root).hostname, None);
    }

    #[test]
    fn machine_id_formats() {
        // verify with /etc/machine-id replaced: upper case is accepted and printed in lower
        // case; "uninitialized", empty, all zeros and the dashed UUID form are refused.
        let cases: &[(&str, Option<&str>)] = &[
            (
                "3d1219c7c4c5404aaa1f6d2a48adfda4\n",
                Some("3d1219c7c4c5404aaa1f6d2a48adfda4"),
            ),
            (
                "3D1219C7C4C5404AAA1F6D2A48ADFDA4",
                Some("3d1219c7c4c5404aaa1f6d2a48adfda4"),
            ),
            ("uninitialized\n", None),
            ("", None),
            ("00000000000000000000000000000000\n", None),
            ("3d1219c7-c4c5-404a-aa1f-6d2a48adfda4\n", None),
            ("3d1219c7c4c5404aaa1f6d2a48adfdag\n", None),
            (" 3d1219c7c4c5404aaa1f6d2a48adfda4\n", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_id128(text, false).as_deref(), *expected, "{text:?}");
        }
        assert_eq!(
            parse_id128("6dd9e12f-fde3-46db-b560-fdfc33b214ba\n", true).as_deref(),
            Some("6dd9e12ffde346dbb560fdfc33b214ba")
        );
        assert_eq!(
            parse_id128("6dd9e12f-fde3-46db-b560fdfc-33b214ba\n", true),
            None
        );
    }

    #[test]
    fn env_file_syntax() {
        let text = "  # c\n; c\nA=1\n B = two words  \nC=\"q \\\"x\\\" \\n\"\nD='s \\ q'\n\
                    E=a\\\nb\nF=\"multi\nline\"\nnoequals\nG=x\"y z\"w\n=bad\nH=\n";
        let vars = parse_env_file(text);
        let expected: Vec<(String, String)> = [
            ("A", "1"),
            ("B", "two words"),
            ("C", "q \"x\" \\n"),
            ("D", "s \\ q"),
            ("E", "ab"),
            ("F", "multi\nline"),
            // Quotes only count at the start of a value (systemd's load_env_file).
            ("G", "x\"y z\"w"),
            ("H", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(vars, expected);
    }

    #[test]
    fn architecture_names() {
        let cases: &[(&str, &str)] = &[
            ("x86_64", "x86-64"),
            ("i686", "x86"),
            ("aarch64", "arm64"),
            ("aarch64_be", "arm64-be"),
            ("armv7l", "arm"),
            ("armv7b", "arm-be"),
            ("ppc64le", "ppc64-le"),
            ("s390x", "s390x"),
            ("riscv64", "riscv64"),
            ("loongarch64", "loongarch64"),
            ("sparc64", "sparc64"),
            ("sh4a", "sh"),
        ];
        for (machine, expected) in cases {
            assert_eq!(architecture_name(machine), *expected, "{machine}");
        }
    }

    #[test]
    fn fragment_symlinks_are_resolved() {
        // verify: a unit loaded through a symlink d/link.service -> t.service reports %y as
        // the target and %Y as its directory.
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(root, "real/link.service", "[Service]\n");
        fs::create_dir_all(root.join("units")).unwrap();
        std::os::unix::fs::symlink(
            root.join("real/link.service"),
            root.join("units/link.service"),
        )
        .unwrap();
        let real = fs::canonicalize(root.join("real/link.service")).unwrap();
        let link = root.join("units/link.service");
        let h = host();
        assert_eq!(
            expand_for("link.service", Some(link.to_str().unwrap()), &h, "%y"),
            Ok(real.to_str().unwrap().to_string())
        );
        assert_eq!(
            expand_for("link.service", Some(link.to_str().unwrap()), &h, "%Y"),
            Ok(real.parent().unwrap().to_str().unwrap().to_string())
        );
    }

    #[test]
    fn real_system_does_not_panic() {
        let h = HostFacts::from_system();
        assert!(!h.architecture.is_empty());
        let _ = expand_for("foo.service", None, &h, "%m %b %H %l %q %v %o %a %s");
    }
}
