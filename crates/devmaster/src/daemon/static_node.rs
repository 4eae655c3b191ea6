//! `OPTIONS+="static_node=NAME"`, as udevd 252 applies it once at start: device nodes that
//! exist before their driver is loaded (made by `kmod static-nodes`, such as `/dev/kvm`,
//! `/dev/fuse`, `/dev/snd/seq`) get the `OWNER`, `GROUP`, `MODE` and `TAG`s of the rule
//! line naming them, whatever the line's matches say, so that the first open (which loads
//! the module) already sees the right permissions; each tag also gets a link
//! `/run/udev/static_node-tags/TAG/NAME` (escaped) to the node, which logind reads for
//! `uaccess`. Only values known at load count, as in udevd: numbers, and user and group
//! names without substitutions (udevd resolves names when it loads the rules). Left out:
//! udevd also touches the node's timestamps.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use crate::rules::syntax::{AssignOp, Id, Mode, RuleOption, RulesFile, Token};

/// What one `static_node=` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticNode {
    /// The node below `/dev` (`kvm`, `snd/seq`).
    pub node: String,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub mode: Option<u32>,
    pub tags: Vec<String>,
}

/// Every `static_node=` of the rules with what the tokens before it on its line set
/// (tokens are in udev's order, where `OWNER`/`GROUP`/`MODE`/`TAG` come first).
pub fn collect(
    files: &[RulesFile],
    user: impl Fn(&str) -> Option<u32>,
    group: impl Fn(&str) -> Option<u32>,
) -> Vec<StaticNode> {
    let known = |v: &str| !v.contains(['$', '%']);
    let mut out = Vec::new();
    for line in files.iter().flat_map(|f| &f.lines) {
        let (mut uid, mut gid, mut mode, mut tags) = (None, None, None, Vec::new());
        for t in &line.tokens {
            match t {
                Token::Owner { value, .. } => match value {
                    Id::Number(n) => uid = Some(*n),
                    Id::Name(n) if known(n) => uid = user(n).or(uid),
                    Id::Name(_) => {}
                },
                Token::Group { value, .. } => match value {
                    Id::Number(n) => gid = Some(*n),
                    Id::Name(n) if known(n) => gid = group(n).or(gid),
                    Id::Name(_) => {}
                },
                Token::Mode {
                    value: Mode::Number(m),
                    ..
                } => mode = Some(*m),
                Token::Tag { op, value } if *op != AssignOp::Remove && known(value) => {
                    tags.push(value.clone())
                }
                Token::Options {
                    option: RuleOption::StaticNode(node),
                    ..
                } => out.push(StaticNode {
                    node: node.clone(),
                    uid,
                    gid,
                    mode,
                    tags: tags.clone(),
                }),
                _ => {}
            }
        }
    }
    out
}

/// `/` and `.` (and what udev's `xescape` always escapes) as `\xNN`: a node path as one
/// file name.
pub fn escape(node: &str) -> String {
    let mut s = String::new();
    for b in node.bytes() {
        if !(b' '..127).contains(&b) || matches!(b, b'\\' | b'/' | b'.') {
            s.push_str(&format!("\\x{b:02x}"));
        } else {
            s.push(char::from(b));
        }
    }
    s
}

/// Carries out `n` on the node under `dev` (links to it named under `run`); a node that
/// does not exist, or is no device node, is left alone.
pub fn apply(dev: &Path, run: &Path, n: &StaticNode) -> Result<(), String> {
    let perms = n.uid.is_some() || n.gid.is_some() || n.mode.is_some();
    if !perms && n.tags.is_empty() {
        return Ok(());
    }
    if n.node.split('/').any(|c| c == ".." || c.is_empty()) {
        return Err(format!("static_node={}: not a node below /dev", n.node));
    }
    let path = dev.join(&n.node);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if !(meta.file_type().is_char_device() || meta.file_type().is_block_device()) {
        return Ok(());
    }
    for tag in &n.tags {
        let dir = run.join("static_node-tags").join(tag);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let link = dir.join(escape(&n.node));
        match std::os::unix::fs::symlink(&path, &link) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(format!("{}: {e}", link.display()))
            }
            _ => {}
        }
    }
    if !perms {
        return Ok(());
    }
    use std::os::unix::fs::MetadataExt;
    let mode = n
        .mode
        .unwrap_or(if n.gid.is_some() { 0o660 } else { 0o600 });
    let (uid, gid) = (n.uid.unwrap_or(0), n.gid.unwrap_or(0));
    if meta.mode() & 0o777 != mode & 0o777 {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o7777))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if meta.uid() != uid || meta.gid() != gid {
        std::os::unix::fs::lchown(&path, Some(uid), Some(gid))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::syntax::parse;

    #[test]
    fn what_each_static_node_gets() {
        let rules = parse(
            "t.rules",
            b"KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0666\", OPTIONS+=\"static_node=kvm\"\n\
              SUBSYSTEM==\"misc\", KERNEL==\"kvm\", TAG+=\"uaccess\", OPTIONS+=\"static_node=kvm\"\n\
              KERNEL==\"fuse\", OWNER=\"$env{X}\", OPTIONS+=\"static_node=fuse\"\n\
              KERNEL==\"seq\", OWNER=\"7\", GROUP=\"nobody-here\", OPTIONS+=\"static_node=snd/seq\"\n\
              KERNEL==\"kvm\", GROUP=\"kvm\"\n",
        );
        let group = |n: &str| (n == "kvm").then_some(104);
        let got = collect(&[rules], |_| None, group);
        let node = |node: &str, uid, gid, mode, tags: &[&str]| StaticNode {
            node: node.into(),
            uid,
            gid,
            mode,
            tags: tags.iter().map(|t| t.to_string()).collect(),
        };
        assert_eq!(
            got,
            [
                node("kvm", None, Some(104), Some(0o666), &[]),
                node("kvm", None, None, None, &["uaccess"]),
                // A substitution is not known at load: nothing to apply.
                node("fuse", None, None, None, &[]),
                // An unknown group name is no group.
                node("snd/seq", Some(7), None, None, &[]),
            ]
        );
    }

    #[test]
    fn escaping_as_udev_names_the_tag_links() {
        assert_eq!(escape("kvm"), "kvm");
        assert_eq!(escape("snd/seq"), "snd\\x2fseq");
        assert_eq!(escape("a.b\\c"), "a\\x2eb\\x5cc");
    }

    #[test]
    fn nodes_get_permissions_and_tag_links() {
        if !nix_root() {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let (dev, run) = (d.path().join("dev"), d.path().join("run"));
        std::fs::create_dir_all(dev.join("snd")).unwrap();
        for n in ["kvm", "snd/seq"] {
            let st = std::process::Command::new("mknod")
                .args(["-m", "0600", dev.join(n).to_str().unwrap(), "c", "1", "3"])
                .status()
                .unwrap();
            assert!(st.success());
        }
        std::fs::write(dev.join("plain"), b"").unwrap();
        std::fs::set_permissions(dev.join("plain"), std::fs::Permissions::from_mode(0o640))
            .unwrap();
        let mode = |p: &str| {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::metadata(dev.join(p)).unwrap();
            (m.mode() & 0o7777, m.uid(), m.gid())
        };
        let kvm = StaticNode {
            node: "kvm".into(),
            uid: None,
            gid: Some(104),
            mode: None,
            tags: vec!["uaccess".into(), "seat".into()],
        };
        apply(&dev, &run, &kvm).unwrap();
        // A group without a mode: 0660, owner root.
        assert_eq!(mode("kvm"), (0o660, 0, 104));
        for t in ["uaccess", "seat"] {
            let link = run.join("static_node-tags").join(t).join("kvm");
            assert_eq!(std::fs::read_link(link).unwrap(), dev.join("kvm"));
        }
        // Tags only: the permissions stay; a second run is no error.
        let seq = StaticNode {
            node: "snd/seq".into(),
            uid: None,
            gid: None,
            mode: None,
            tags: vec!["uaccess".into()],
        };
        apply(&dev, &run, &seq).unwrap();
        apply(&dev, &run, &seq).unwrap();
        assert_eq!(mode("snd/seq"), (0o600, 0, 0));
        assert!(run
            .join("static_node-tags/uaccess/snd\\x2fseq")
            .symlink_metadata()
            .is_ok());
        // Not a device node, or absent: left alone.
        let plain = StaticNode {
            node: "plain".into(),
            mode: Some(0o666),
            ..seq.clone()
        };
        apply(&dev, &run, &plain).unwrap();
        assert_eq!(mode("plain").0, 0o640);
        let absent = StaticNode {
            node: "nothere".into(),
            ..plain
        };
        assert_eq!(apply(&dev, &run, &absent), Ok(()));
        let bad = StaticNode {
            node: "../etc".into(),
            ..seq
        };
        assert!(apply(&dev, &run, &bad).is_err());
    }

    fn nix_root() -> bool {
        std::fs::read_to_string("/proc/self/status")
            .map(|s| {
                s.lines()
                    .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
            })
            .unwrap_or(false)
    }
}
