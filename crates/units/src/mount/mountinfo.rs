//! `/proc/self/mountinfo` (proc(5)): one line per mount of the reading process's mount
//! namespace,
//!
//! ```text
//! 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//! (1)(2)(3)   (4)   (5)      (6)      (7...)  -  (8)    (9)        (10)
//! ```
//!
//! mount id, parent id, `major:minor`, the root of the mount in its file system, the
//! mount point, the per-mount options, optional tagged fields ended by a lone `-`, the
//! file system type, the source and the super-block options. The kernel escapes space,
//! tab, newline and backslash in the path fields as three-digit octal (`\040`, `\011`,
//! `\012`, `\134`). Pure: the manager reads the file and hands the text over.

/// One mount of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_id: u32,
    pub parent_id: u32,
    /// The root of the mount within its file system (`/` unless a bind mount of a part).
    pub root: String,
    /// Where it is mounted, unescaped.
    pub mount_point: String,
    /// The per-mount options (`rw,nosuid,relatime`).
    pub options: String,
    pub fs_type: String,
    /// The source (`/dev/sda1`, `tmpfs`, `none`), unescaped.
    pub source: String,
    pub super_options: String,
}

/// Undoes the kernel's octal escapes (`\ooo`); a backslash not followed by three octal
/// digits stays as it is.
pub fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' {
            let digits = bytes.get(i + 1..i + 4);
            if let Some(d) = digits.filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c))) {
                let value = d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                if let Ok(byte) = u8::try_from(value) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses one line; the error says which field is missing or wrong.
pub fn parse_line(line: &str) -> Result<MountEntry, String> {
    let mut fields = line.split(' ');
    let mut next = |what: &str| {
        fields
            .next()
            .filter(|f| !f.is_empty())
            .ok_or_else(|| format!("missing {what}"))
    };
    let mount_id = next("mount id")?
        .parse()
        .map_err(|_| "invalid mount id".to_string())?;
    let parent_id = next("parent id")?
        .parse()
        .map_err(|_| "invalid parent id".to_string())?;
    let dev = next("device number")?;
    if !dev.contains(':') {
        return Err(format!("invalid device number {dev}"));
    }
    let root = unescape(next("root")?);
    let mount_point = unescape(next("mount point")?);
    let options = next("mount options")?.to_string();
    // Optional fields (`shared:1`, `master:2` ...) until the separator.
    loop {
        if next("separator")? == "-" {
            break;
        }
    }
    let fs_type = unescape(next("file system type")?);
    let source = unescape(next("source")?);
    // Some file systems show no super options; an empty field is allowed.
    let super_options = fields.next().unwrap_or_default().to_string();
    Ok(MountEntry {
        mount_id,
        parent_id,
        root,
        mount_point,
        options,
        fs_type,
        source,
        super_options,
    })
}

/// Parses the whole table; lines that do not parse are returned as `(line number,
/// error)` and skipped.
pub fn parse(text: &str) -> (Vec<MountEntry>, Vec<(usize, String)>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok(e) => entries.push(e),
            Err(e) => errors.push((i + 1, e)),
        }
    }
    (entries, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(line: &str, expected: Result<(&str, &str, &str, &str), &str>) {
        let got = parse_line(line).map(|e| (e.mount_point, e.fs_type, e.source, e.options));
        let want = expected
            .map(|(p, t, s, o)| (p.to_string(), t.to_string(), s.to_string(), o.to_string()))
            .map_err(|e| e.to_string());
        assert_eq!(got, want, "{line}");
    }

    #[test]
    fn lines_of_the_table() {
        check(
            "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
            Ok(("/mnt2", "ext3", "/dev/root", "rw,noatime")),
        );
        check(
            "22 1 0:21 / /tmp rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,mode=1777",
            Ok(("/tmp", "tmpfs", "tmpfs", "rw,nosuid,nodev")),
        );
        // No optional field at all.
        check(
            "1 0 8:1 / / rw - ext4 /dev/sda1 rw",
            Ok(("/", "ext4", "/dev/sda1", "rw")),
        );
        // Several optional fields.
        check(
            "5 1 0:5 / /dev rw shared:2 master:7 propagate_from:1 - devtmpfs udev rw",
            Ok(("/dev", "devtmpfs", "udev", "rw")),
        );
        // Octal escapes in the mount point and the source.
        check(
            r"40 22 0:40 / /tmp/with\040space\011tab\134slash rw - tmpfs my\040src rw",
            Ok(("/tmp/with space\ttab\\slash", "tmpfs", "my src", "rw")),
        );
        check(
            r"40 22 0:40 / /a\012b rw - tmpfs x rw",
            Ok(("/a\nb", "tmpfs", "x", "rw")),
        );
        // An empty super-options field.
        check(
            "41 22 0:41 / /x rw - fuse.sshfs host:/ ",
            Ok(("/x", "fuse.sshfs", "host:/", "rw")),
        );
        check("", Err("missing mount id"));
        check("x 1 0:1 / / rw - a b c", Err("invalid mount id"));
        check("1 1 01 / / rw - a b c", Err("invalid device number 01"));
        check("1 1 0:1 / / rw shared:1", Err("missing separator"));
        check("1 1 0:1 / / rw -", Err("missing file system type"));
        check("1 1 0:1 / / rw - tmpfs", Err("missing source"));
    }

    #[test]
    fn escapes() {
        for (raw, want) in [
            (r"\040", " "),
            (r"a\134b", "a\\b"),
            (r"\0", "\\0"),
            (r"\08", "\\08"),
            (r"trailing\", "trailing\\"),
            (r"\777", "\\777"),
            (r"\101\102", "AB"),
        ] {
            assert_eq!(unescape(raw), want, "{raw}");
        }
    }

    #[test]
    fn a_table_skips_bad_lines_and_keeps_the_rest() {
        let text =
            "1 0 8:1 / / rw - ext4 /dev/sda1 rw\ngarbage\n\n2 1 0:2 / /run rw - tmpfs tmpfs rw\n";
        let (entries, errors) = parse(text);
        let points: Vec<&str> = entries.iter().map(|e| e.mount_point.as_str()).collect();
        assert_eq!(points, ["/", "/run"]);
        assert_eq!(errors, vec![(2, "invalid mount id".to_string())]);
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = parse(&text);
        }

        #[test]
        fn escaped_mount_points_round_trip(point in "/[ -~\t\n]{0,40}") {
            let escaped: String = point
                .chars()
                .map(|c| match c {
                    ' ' | '\t' | '\n' | '\\' => format!("\\{:03o}", c as u32),
                    c => c.to_string(),
                })
                .collect();
            let line = format!("7 1 0:7 / {escaped} rw shared:1 - tmpfs tmpfs rw");
            let e = parse_line(&line).unwrap();
            prop_assert_eq!(e.mount_point, point);
        }
    }
}
