//! The fstab generator (systemd-fstab-generator(8)): `/etc/fstab` → mount units, written
//! to `<runtime-dir>/generator/` at start-up and on `daemon-reload`. That directory sits
//! in the search path below `/etc/systemd/system` and `/run/systemd/system`, so a unit
//! file of the same name there wins over the generated one, as with systemd's
//! `/run/systemd/generator`.
//!
//! For each line `WHAT WHERE [TYPE [OPTIONS [FREQ [PASSNO]]]]` the generator writes
//! `WHERE`'s escaped name `.mount` with `What=`/`Where=`/`Type=`/`Options=`,
//! `SourcePath=/etc/fstab`, the manual pages as `Documentation=`, and links it into
//! `local-fs.target.requires/` (`remote-fs.target` for `_netdev` and network file
//! systems; `.wants/` and no `Before=` with `nofail`; no link with `noauto`). The
//! `x-systemd.requires=`, `x-systemd.after=`, `x-systemd.before=`,
//! `x-systemd.requires-mounts-for=` and `x-systemd.mount-timeout=` options become the
//! matching settings; `x-systemd.device-timeout=` becomes a drop-in
//! `<device unit>.d/50-device-timeout.conf` with `JobRunningTimeoutSec=` for the device
//! the line mounts (how long its start waits for udev to report it). Swap lines and the
//! root file system are skipped (sysmaster has no swap units, and `/` is mounted before
//! the manager runs). A malformed line is reported as `/etc/fstab:LINE` and skipped; the
//! other lines still apply.
//!
//! [`generate`] is pure; [`run`] reads and writes the files.

use std::path::Path;
use unitfile::name::{self, UnitType};

pub const DOCUMENTATION: &str = "man:fstab(5) man:systemd-fstab-generator(8)";

/// One line of the fstab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub what: String,
    pub where_: String,
    pub fs_type: String,
    pub options: String,
}

/// What the generator produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generated {
    /// `(unit name, unit file text)`.
    pub units: Vec<(String, String)>,
    /// `(directory such as local-fs.target.requires, unit name)`.
    pub links: Vec<(String, String)>,
    /// Drop-ins: `(directory such as dev-sda1.device.d, file name, text)`.
    pub dropins: Vec<(String, String, String)>,
    /// Log lines: skipped lines, ignored options, errors naming `file:line`.
    pub messages: Vec<String>,
}

/// Undoes the octal escapes of fstab(5) fields (`\040` for a space).
fn unescape(field: &str) -> String {
    units::mount::mountinfo::unescape(field)
}

/// Parses one non-comment line.
pub fn parse_line(line: &str) -> Result<Entry, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 2 {
        return Err("expected at least a source and a mount point".into());
    }
    if fields.len() > 6 {
        return Err(format!("expected at most 6 fields, found {}", fields.len()));
    }
    let field = |i: usize, default: &str| {
        fields
            .get(i)
            .map_or_else(|| default.to_string(), |f| unescape(f))
    };
    for (i, what) in [(4, "dump frequency"), (5, "fsck pass number")] {
        if let Some(f) = fields.get(i) {
            if f.parse::<u32>().is_err() {
                return Err(format!("invalid {what} {f}"));
            }
        }
    }
    let entry = Entry {
        what: field(0, ""),
        where_: field(1, ""),
        fs_type: field(2, "auto"),
        options: field(3, "defaults"),
    };
    for (what, value) in [
        ("source", &entry.what),
        ("mount point", &entry.where_),
        ("type", &entry.fs_type),
        ("options", &entry.options),
    ] {
        if value.contains(['\n', '\0']) {
            return Err(format!("the {what} contains a newline or NUL"));
        }
    }
    Ok(entry)
}

/// `UUID=`, `LABEL=`, `PARTUUID=`, `PARTLABEL=` as the udev symlink they name.
fn node(what: &str) -> String {
    for (tag, dir) in [
        ("UUID=", "by-uuid"),
        ("LABEL=", "by-label"),
        ("PARTUUID=", "by-partuuid"),
        ("PARTLABEL=", "by-partlabel"),
    ] {
        if let Some(v) = what.strip_prefix(tag) {
            let v = v.trim_matches('"').replace('/', "\\x2f");
            return format!("/dev/disk/{dir}/{v}");
        }
    }
    what.to_string()
}

/// Simplifies an absolute path (`//` and `.` dropped, no trailing `/`).
fn simplify(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// `%` is a specifier in unit files.
fn value(s: &str) -> String {
    s.replace('%', "%%")
}

/// A unit's name and text, and its install link (directory, name) unless `noauto`.
type Synthesized = (
    String,
    String,
    Option<(String, String)>,
    Option<(String, String, String)>,
);

/// The unit (name, text) and its link for one entry, or why it is skipped; `messages`
/// gets notes on ignored options.
fn unit_for(
    entry: &Entry,
    source: &str,
    at: &str,
    messages: &mut Vec<String>,
) -> Result<Option<Synthesized>, String> {
    if entry.fs_type == "swap" {
        messages.push(format!(
            "{at}: swap {} skipped: sysmaster has no swap units",
            entry.what
        ));
        return Ok(None);
    }
    if !entry.where_.starts_with('/') {
        return Err(format!(
            "mount point {} is not an absolute path",
            entry.where_
        ));
    }
    let where_ = simplify(&entry.where_);
    if where_ == "/" {
        messages.push(format!(
            "{at}: the root file system is skipped: it is mounted before the manager runs"
        ));
        return Ok(None);
    }
    let unit = name::path_to_unit_name(&where_, UnitType::Mount)
        .map_err(|e| format!("mount point {where_}: {e}"))?;
    let mut options = Vec::new();
    let mut requires = Vec::new();
    let mut after = Vec::new();
    let mut before = Vec::new();
    let mut mounts_for = Vec::new();
    let mut timeout = None;
    let mut device_timeout = None;
    let (mut nofail, mut noauto, mut netdev) = (false, false, false);
    for o in entry.options.split(',').filter(|o| !o.is_empty()) {
        let (key, arg) = match o.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (o, None),
        };
        match (key, arg) {
            ("x-systemd.requires", Some(v)) => requires.push(v.to_string()),
            ("x-systemd.after", Some(v)) => after.push(v.to_string()),
            ("x-systemd.before", Some(v)) => before.push(v.to_string()),
            ("x-systemd.requires-mounts-for", Some(v)) => mounts_for.push(v.to_string()),
            ("x-systemd.mount-timeout", Some(v)) => {
                match unitfile::value::parse_timespan(v, unitfile::value::TimeUnit::Sec) {
                    Ok(_) => timeout = Some(v.to_string()),
                    Err(e) => {
                        messages.push(format!("{at}: ignoring x-systemd.mount-timeout={v}: {e}"))
                    }
                }
            }
            ("x-systemd.device-timeout", Some(v)) => {
                match unitfile::value::parse_timespan(v, unitfile::value::TimeUnit::Sec) {
                    Ok(_) => device_timeout = Some(v.to_string()),
                    Err(e) => {
                        messages.push(format!("{at}: ignoring x-systemd.device-timeout={v}: {e}"))
                    }
                }
            }
            _ if key.starts_with("x-systemd.") => messages.push(format!(
                "{at}: option {o} is not supported by sysmaster's fstab generator, ignored"
            )),
            _ => {
                match key {
                    "nofail" => nofail = true,
                    "fail" => nofail = false,
                    "noauto" => noauto = true,
                    "auto" => noauto = false,
                    "_netdev" => netdev = true,
                    _ => {}
                }
                options.push(o);
            }
        }
    }
    let target = if netdev || units::deps::is_network_fs(&entry.fs_type) {
        "remote-fs.target"
    } else {
        "local-fs.target"
    };
    let mut text = format!(
        "# Automatically generated by sysmaster's fstab generator\n\n[Unit]\n\
         Documentation={DOCUMENTATION}\nSourcePath={}\n",
        value(source)
    );
    if !nofail {
        text.push_str(&format!("Before={target}\n"));
    }
    for r in &requires {
        // A path is a mount requirement; a name a unit (systemd does the same).
        if r.starts_with('/') {
            text.push_str(&format!("RequiresMountsFor={}\n", value(r)));
        } else {
            text.push_str(&format!("Requires={}\nAfter={}\n", value(r), value(r)));
        }
    }
    for a in &after {
        text.push_str(&format!("After={}\n", value(a)));
    }
    for b in &before {
        text.push_str(&format!("Before={}\n", value(b)));
    }
    for m in &mounts_for {
        text.push_str(&format!("RequiresMountsFor={}\n", value(m)));
    }
    text.push_str(&format!(
        "\n[Mount]\nWhat={}\nWhere={}\n",
        value(&node(&entry.what)),
        value(&where_)
    ));
    if !entry.fs_type.is_empty() && entry.fs_type != "auto" {
        text.push_str(&format!("Type={}\n", value(&entry.fs_type)));
    }
    let options = options.join(",");
    if !options.is_empty() && options != "defaults" {
        text.push_str(&format!("Options={}\n", value(&options)));
    }
    if let Some(t) = timeout {
        text.push_str(&format!("TimeoutSec={t}\n"));
    }
    let link = (!noauto).then(|| {
        let kind = if nofail { "wants" } else { "requires" };
        (format!("{target}.{kind}"), unit.clone())
    });
    let what = node(&entry.what);
    let dropin = match device_timeout {
        Some(t) if what.starts_with("/dev/") => {
            let device = name::path_to_unit_name(&simplify(&what), UnitType::Device)
                .map_err(|e| format!("device {what}: {e}"))?;
            Some((
                format!("{device}.d"),
                "50-device-timeout.conf".to_string(),
                format!(
                    "# Automatically generated by sysmaster's fstab generator\n\n\
                     [Unit]\nJobRunningTimeoutSec={t}\n"
                ),
            ))
        }
        Some(_) => {
            messages.push(format!(
                "{at}: x-systemd.device-timeout= ignored: {what} is not a device node"
            ));
            None
        }
        None => None,
    };
    Ok(Some((unit, text, link, dropin)))
}

/// The units for the fstab text read from `source` (the path named in messages and in
/// `SourcePath=`).
pub fn generate(text: &str, source: &str) -> Generated {
    let mut g = Generated::default();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let at = format!("{source}:{}", i + 1);
        let result = parse_line(trimmed).and_then(|e| unit_for(&e, source, &at, &mut g.messages));
        match result {
            Ok(Some((unit, text, link, dropin))) => {
                if g.units.iter().any(|(n, _)| *n == unit) {
                    g.messages.push(format!(
                        "{at}: error: a mount unit {unit} was already generated from an earlier line, line skipped"
                    ));
                    continue;
                }
                g.units.push((unit, text));
                g.links.extend(link);
                g.dropins.extend(dropin);
            }
            Ok(None) => {}
            Err(e) => g.messages.push(format!("{at}: error: {e}, line skipped")),
        }
    }
    g
}

/// Reads `fstab` (a missing file generates nothing) and replaces the contents of `out`
/// with the generated units and links. Returns the log lines.
pub fn run(fstab: &Path, out: &Path) -> Vec<String> {
    let source = fstab.display().to_string();
    let mut g = match std::fs::read(fstab) {
        Ok(bytes) => generate(&String::from_utf8_lossy(&bytes), &source),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Generated::default(),
        Err(e) => Generated {
            messages: vec![format!("cannot read {source}: {e}")],
            ..Generated::default()
        },
    };
    if let Err(e) = write(&g, out) {
        g.messages.push(format!(
            "cannot write generated units to {}: {e}",
            out.display()
        ));
    }
    g.messages
}

fn write(g: &Generated, out: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(out) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(out)?;
    for (name, text) in &g.units {
        std::fs::write(out.join(name), text)?;
    }
    for (dir, unit) in &g.links {
        let d = out.join(dir);
        std::fs::create_dir_all(&d)?;
        std::os::unix::fs::symlink(format!("../{unit}"), d.join(unit))?;
    }
    for (dir, file, text) in &g.dropins {
        let d = out.join(dir);
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join(file), text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unit<'a>(g: &'a Generated, name: &str) -> &'a str {
        g.units
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("no {name} in {g:?}"))
    }

    #[test]
    fn a_tmpfs_line_becomes_a_unit_required_by_local_fs() {
        let g = generate(
            "# comment\n\n  tmpfs /tmp tmpfs mode=1777,nosuid,nodev 0 0\n",
            "/etc/fstab",
        );
        assert_eq!(
            unit(&g, "tmp.mount"),
            "# Automatically generated by sysmaster's fstab generator\n\n[Unit]\n\
             Documentation=man:fstab(5) man:systemd-fstab-generator(8)\n\
             SourcePath=/etc/fstab\nBefore=local-fs.target\n\n[Mount]\nWhat=tmpfs\n\
             Where=/tmp\nType=tmpfs\nOptions=mode=1777,nosuid,nodev\n"
        );
        assert_eq!(
            g.links,
            vec![("local-fs.target.requires".into(), "tmp.mount".into())]
        );
        assert!(g.messages.is_empty(), "{:?}", g.messages);
    }

    /// (line, unit, lines the unit must have, lines it must not have, link)
    #[test]
    fn options_become_settings() {
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a [&'a str],
            &'a [&'a str],
            Option<&'a str>,
        );
        let cases: &[Case] = &[
            (
                "/dev/vdb /srv/data ext4 nofail",
                "srv-data.mount",
                &["Options=nofail", "What=/dev/vdb"],
                &["Before="],
                Some("local-fs.target.wants"),
            ),
            (
                "/dev/vdc /opt auto noauto",
                "opt.mount",
                &["Before=local-fs.target", "Options=noauto"],
                &["Type="],
                None,
            ),
            (
                "server:/export /mnt/nfs nfs defaults",
                "mnt-nfs.mount",
                &["Before=remote-fs.target", "Type=nfs"],
                &["Options="],
                Some("remote-fs.target.requires"),
            ),
            (
                "/dev/vdd /mnt/n ext4 _netdev,nofail",
                "mnt-n.mount",
                &["Options=_netdev,nofail"],
                &["Before="],
                Some("remote-fs.target.wants"),
            ),
            (
                "UUID=1234-ab /boot/efi vfat x-systemd.requires=a.service,x-systemd.after=b.service,x-systemd.before=c.service,x-systemd.mount-timeout=5s,x-systemd.requires=/var",
                "boot-efi.mount",
                &[
                    "What=/dev/disk/by-uuid/1234-ab",
                    "Requires=a.service",
                    "After=a.service",
                    "After=b.service",
                    "Before=c.service",
                    "RequiresMountsFor=/var",
                    "TimeoutSec=5s",
                ],
                &["Options=", "x-systemd"],
                Some("local-fs.target.requires"),
            ),
            (
                r"LABEL=my\040disk /mnt/my\040data ext4 defaults,fail,nofail,fail",
                r"mnt-my\x20data.mount",
                &["What=/dev/disk/by-label/my disk", "Where=/mnt/my data", "Before=local-fs.target"],
                &[],
                Some("local-fs.target.requires"),
            ),
            (
                "/dev/x //var//./tmp/ tmpfs size=10%",
                "var-tmp.mount",
                &["Where=/var/tmp", "Options=size=10%%"],
                &[],
                Some("local-fs.target.requires"),
            ),
            (
                "/dev/sdz /mnt/two",
                "mnt-two.mount",
                &["What=/dev/sdz"],
                &["Type=", "Options="],
                Some("local-fs.target.requires"),
            ),
        ];
        for (line, name, has, lacks, link) in cases {
            let g = generate(line, "/etc/fstab");
            let text = unit(&g, name);
            let lines: Vec<&str> = text.lines().collect();
            for h in *has {
                assert!(lines.contains(h), "{line}: no {h} in\n{text}");
            }
            for l in *lacks {
                assert!(!text.contains(l), "{line}: {l} in\n{text}");
            }
            let got = g.links.first().map(|(d, _)| d.as_str());
            assert_eq!(got, *link, "{line}");
        }
    }

    #[test]
    fn skipped_and_malformed_lines_are_reported_and_the_rest_applies() {
        let g = generate(
            "/dev/sda1 / ext4 defaults 0 1\n\
             /dev/sda2 none swap sw 0 0\n\
             justonefield\n\
             tmpfs relative tmpfs defaults\n\
             tmpfs /a tmpfs defaults 0 x\n\
             a b c d e f g\n\
             /dev/vdb /data ext4 x-systemd.device-timeout=3s,x-systemd.mount-timeout=never\n\
             tmpfs /data tmpfs defaults\n\
             tmpfs /tmp tmpfs defaults\n",
            "/etc/fstab",
        );
        let names: Vec<&str> = g.units.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["data.mount", "tmp.mount"]);
        let expected = [
            "/etc/fstab:1: the root file system is skipped",
            "/etc/fstab:2: swap /dev/sda2 skipped",
            "/etc/fstab:3: error: expected at least a source and a mount point, line skipped",
            "/etc/fstab:4: error: mount point relative is not an absolute path, line skipped",
            "/etc/fstab:5: error: invalid fsck pass number x, line skipped",
            "/etc/fstab:6: error: expected at most 6 fields, found 7, line skipped",
            "/etc/fstab:7: ignoring x-systemd.mount-timeout=never",
            "/etc/fstab:8: error: a mount unit data.mount was already generated",
        ];
        assert_eq!(g.messages.len(), expected.len(), "{:#?}", g.messages);
        for (m, e) in g.messages.iter().zip(expected) {
            assert!(m.starts_with(e), "{m} does not start with {e}");
        }
        assert_eq!(g.dropins.len(), 1);
    }

    #[test]
    fn device_timeout_becomes_a_drop_in_of_the_device_unit() {
        let g = generate(
            "UUID=0a1b-2c3d /boot/efi vfat x-systemd.device-timeout=5s 0 2
             server:/srv /srv nfs x-systemd.device-timeout=5s
             /dev/vdb /data ext4 x-systemd.device-timeout=soon
",
            "/etc/fstab",
        );
        // Name and text as systemd-fstab-generator's (systemd-escape --path for the name).
        assert_eq!(
            g.dropins,
            [(
                "dev-disk-by\\x2duuid-0a1b\\x2d2c3d.device.d".to_string(),
                "50-device-timeout.conf".to_string(),
                "# Automatically generated by sysmaster's fstab generator\n\n\
                 [Unit]\nJobRunningTimeoutSec=5s\n"
                    .to_string()
            )]
        );
        assert_eq!(g.units.len(), 3);
        assert_eq!(g.messages.len(), 2, "{:#?}", g.messages);
        assert!(g.messages[0].starts_with(
            "/etc/fstab:2: x-systemd.device-timeout= ignored: server:/srv is not a device node"
        ));
        assert!(g.messages[1].starts_with("/etc/fstab:3: ignoring x-systemd.device-timeout=soon"));
    }

    #[test]
    fn run_replaces_the_output_directory() {
        let d = tempfile::tempdir().unwrap();
        let fstab = d.path().join("fstab");
        let out = d.path().join("generator");
        std::fs::write(
            &fstab,
            "tmpfs /tmp tmpfs defaults\n/dev/x /y ext4 nofail,x-systemd.device-timeout=1min\n",
        )
        .unwrap();
        assert!(run(&fstab, &out).is_empty());
        assert!(out.join("tmp.mount").is_file());
        let dropin = std::fs::read_to_string(out.join("dev-x.device.d/50-device-timeout.conf"));
        assert!(dropin
            .unwrap()
            .ends_with("[Unit]\nJobRunningTimeoutSec=1min\n"));
        // The device unit exists from the drop-in alone and carries the timeout.
        let lookup = unitfile::lookup::Lookup::new(vec![out.clone()]);
        let name = unitfile::name::UnitName::parse("dev-x.device").unwrap();
        let loaded =
            unitfile::load::load(&lookup, &name, &unitfile::specifier::HostFacts::default());
        assert_eq!(loaded.load_state, unitfile::load::LoadState::Loaded);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        assert_eq!(
            loaded.config.unit.rare.job_running_timeout_sec,
            Some(60_000_000)
        );
        let link = out.join("local-fs.target.requires/tmp.mount");
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            Path::new("../tmp.mount")
        );
        assert!(link.is_file(), "the link resolves");
        assert!(out.join("local-fs.target.wants/y.mount").is_file());
        std::fs::write(&fstab, "tmpfs /tmp tmpfs defaults\n").unwrap();
        run(&fstab, &out);
        assert!(
            !out.join("y.mount").exists(),
            "a removed line's unit is gone"
        );
        std::fs::remove_file(&fstab).unwrap();
        assert!(run(&fstab, &out).is_empty());
        assert!(!out.join("tmp.mount").exists());
    }

    proptest! {
        #[test]
        fn arbitrary_fstabs_never_panic(text in "\\PC{0,400}") {
            let g = generate(&text, "/etc/fstab");
            // Every generated unit is a valid mount unit name.
            for (n, _) in &g.units {
                prop_assert!(unitfile::name::UnitName::parse(n).is_ok(), "{}", n);
            }
        }

        #[test]
        fn generated_units_load_without_errors(
            what in "[a-z/]{1,12}",
            where_ in "/[a-z]{1,8}(/[a-z]{1,8}){0,2}",
            opts in "(defaults|nofail|noauto|ro|mode=0755|x-systemd\\.after=a\\.service)(,(nofail|ro|size=1%))*",
        ) {
            let g = generate(&format!("{what} {where_} tmpfs {opts} 0 0"), "/etc/fstab");
            prop_assert_eq!(g.units.len(), 1);
            let d = tempfile::tempdir().unwrap();
            for (n, t) in &g.units {
                std::fs::write(d.path().join(n), t).unwrap();
            }
            let lookup = unitfile::lookup::Lookup::new(vec![d.path().to_path_buf()]);
            let (n, _) = &g.units[0];
            let name = unitfile::name::UnitName::parse(n).unwrap();
            let loaded = unitfile::load::load(&lookup, &name, &unitfile::specifier::HostFacts::default());
            prop_assert_eq!(loaded.load_state, unitfile::load::LoadState::Loaded);
            prop_assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        }
    }
}
