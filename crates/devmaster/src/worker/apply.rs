//! Carries out a [`plan`](super::plan) on the file system under the worker's [`Paths`], as
//! udev-node and sd-device do it:
//!
//! - links through the claim index: the link's directory under `links/` locked with
//!   `flock` on its `.lock` file (so concurrent workers claiming one link serialise), the
//!   device's claim symlink written or removed, the other claims read (those whose node is
//!   gone are skipped, in name order), [`db::pick_owner`] decides, the link is pointed at
//!   the winner or removed (with its emptied parent directories up to `/dev`);
//! - a link is created as a relative symlink under a temporary name and renamed over the
//!   old one; a file or directory in its place is left alone (an error);
//! - permissions only on a node of the right type and number, and only where they differ;
//!   SELinux/SMACK labels and the node's timestamp are not touched.
//!
//! Every operation reports its failure; the caller decides what fails the event.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use devproto::db::{self, Claim};

use super::host::map_path;
use super::plan::Op;
use super::Paths;

/// The relative path from the directory of `link` to `target`, both absolute.
pub fn relative_target(link: &str, target: &str) -> String {
    let comps = |p: &str| -> Vec<String> {
        Path::new(p)
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect()
    };
    let mut from = comps(link);
    from.pop();
    let to = comps(target);
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(to.into_iter().skip(common));
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

fn tmp_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    path.with_file_name(format!(".#{name}{:x}{nanos:x}", std::process::id()))
}

/// Points `link` (udev's namespace) at `devnode`, relative, atomically: a link that does
/// not exist yet is created in place (that is atomic already), one pointing elsewhere is
/// replaced by renaming a new one over it, one pointing right is left alone, and
/// anything else at that path is an error.
fn node_symlink(paths: &Paths, link: &str, devnode: &str) -> io::Result<()> {
    let path = map_path(paths, link);
    let target = relative_target(link, devnode);
    let dir = path.parent().unwrap_or(&paths.dev);
    match db::in_dir(dir, || std::os::unix::fs::symlink(&target, &path)) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        other => return other,
    }
    match fs::read_link(&path) {
        Ok(t) if t == Path::new(&target) => return Ok(()),
        Ok(_) => {}
        // Gone meanwhile: replaced below all the same.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("conflicting inode '{link}', symlink to '{devnode}' not created"),
            ))
        }
    }
    let tmp = tmp_name(&path);
    db::in_dir(dir, || std::os::unix::fs::symlink(&target, &tmp))?;
    fs::rename(&tmp, &path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// Removes empty directories above `path` up to `root` (not `root` itself).
fn remove_empty_parents(path: &Path, root: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

fn remove_link(paths: &Paths, link: &str) -> io::Result<()> {
    let path = map_path(paths, link);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => {
            remove_empty_parents(&path, &paths.dev);
            Ok(())
        }
    }
}

/// udev's `link_update`: updates the device's claim on `link` and points the link at the
/// winner among all claims.
pub fn link_update(paths: &Paths, link: &str, id: &str, claim: Option<&Claim>) -> io::Result<()> {
    let dir = db::link_dir(&paths.run, link)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("bad link '{link}'")))?;
    let lock = db::in_dir(&dir, || {
        fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(dir.join(".lock"))
    })?;
    sys::namespace::lock_exclusive(&lock)?;
    let own = dir.join(id);
    match claim {
        Some(c) => {
            let target = db::claim_target(c.priority, &c.devnode);
            if fs::read_link(&own).ok().as_deref() != Some(Path::new(&target)) {
                let _ = fs::remove_file(&own);
                std::os::unix::fs::symlink(&target, &own)?;
            }
        }
        None => match fs::remove_file(&own) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        },
    }
    let mut names: Vec<String> = fs::read_dir(&dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && n != id)
        .collect();
    names.sort();
    let others: Vec<Claim> = names
        .iter()
        .filter_map(|n| fs::read_link(dir.join(n)).ok())
        .filter_map(|t| db::parse_claim(&t.to_string_lossy()))
        .filter(|c| fs::symlink_metadata(map_path(paths, &c.devnode)).is_ok())
        .collect();
    let result = match db::pick_owner(claim, &others) {
        Some(winner) => node_symlink(paths, link, &winner.devnode),
        None => remove_link(paths, link),
    };
    drop(lock);
    result
}

/// Linux's encoding of a device number in `st_rdev`.
fn split_rdev(rdev: u64) -> (u32, u32) {
    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
    (major as u32, minor as u32)
}

fn permissions(
    paths: &Paths,
    devnode: &str,
    devnum: (u32, u32),
    block: bool,
    uid: Option<u32>,
    gid: Option<u32>,
    mode: Option<u32>,
) -> io::Result<()> {
    let path = map_path(paths, devnode);
    let meta = match fs::symlink_metadata(&path) {
        // A node that is gone is no error: the device went away meanwhile.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    let ft = meta.file_type();
    let right_kind = if block {
        ft.is_block_device()
    } else {
        ft.is_char_device()
    };
    if !right_kind || split_rdev(meta.rdev()) != devnum {
        return Err(io::Error::other(format!(
            "'{devnode}' is not the node of device {}:{}",
            devnum.0, devnum.1
        )));
    }
    let now = meta.mode() & 0o7777;
    let want = mode.map(|m| m & 0o7777);
    let uid = uid.filter(|u| *u != meta.uid());
    let gid = gid.filter(|g| *g != meta.gid());
    let chown = uid.is_some() || gid.is_some();
    let chmod = |m: u32| fs::set_permissions(&path, fs::Permissions::from_mode(m));
    if chown {
        // As systemd's fchmod_and_chown: first only take away what the new mode does not
        // grant (so the new owner never sees the old, wider access), then the owner.
        if let Some(m) = want.filter(|m| m & now != now) {
            chmod(m & now)?;
        }
        std::os::unix::fs::lchown(&path, uid, gid)?;
    }
    // Then the mode; chown clears set-id bits, so after one a mode with them is set again.
    if let Some(m) = want.filter(|m| *m != now || (chown && m & 0o6000 != 0)) {
        chmod(m)?;
    }
    Ok(())
}

fn write_value(paths: &Paths, path: &str, value: &str) -> io::Result<()> {
    use std::io::Write as _;
    let sysctl = path.starts_with("/proc/sys/");
    let data = if sysctl {
        format!("{value}\n")
    } else {
        value.to_string()
    };
    let real = map_path(paths, path);
    let result = fs::OpenOptions::new()
        .write(true)
        .open(&real)
        .and_then(|mut f| f.write_all(data.as_bytes()));
    match result {
        // As udev: a failed write of the value the file already has is no failure.
        Err(e) => match fs::read_to_string(&real) {
            Ok(now) if now.trim_end_matches('\n') == value.trim_end_matches('\n') => Ok(()),
            _ => Err(e),
        },
        ok => ok,
    }
}

/// Carries out one operation.
pub fn apply(paths: &Paths, op: &Op) -> io::Result<()> {
    match op {
        Op::Write { path, value } => write_value(paths, path, value),
        Op::SaveDb {
            id,
            entry,
            has_devnum,
            has_ifindex,
            persist,
        } => db::write(&paths.run, id, entry, *has_devnum, *has_ifindex, *persist),
        Op::DeleteDb { id } => db::delete(&paths.run, id),
        Op::Rename { ifindex, to, .. } => sys::netlink::rename_link(*ifindex, to),
        Op::Permissions {
            devnode,
            devnum,
            block,
            uid,
            gid,
            mode,
        } => permissions(paths, devnode, *devnum, *block, *uid, *gid, *mode),
        Op::Link { link, id, claim } => link_update(paths, link, id, claim.as_ref()),
        Op::NodeLink { link, devnode } => node_symlink(paths, link, devnode),
        Op::RemoveNodeLink { link } => remove_link(paths, link),
        Op::Tag { tag, id, add } => db::set_tag(&paths.run, tag, id, *add),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_targets() {
        // udev's links as found under /dev (see devproto's db tests): ../../loop0, loop0.
        let cases = [
            ("/dev/disk/by-id/x", "/dev/sda", "../../sda"),
            ("/dev/bar", "/dev/loop0", "loop0"),
            ("/dev/block/8:0", "/dev/sda", "../sda"),
            ("/dev/snd/by-id/x", "/dev/snd/controlC0", "../controlC0"),
            ("/dev/x", "/dev/a/b/c", "a/b/c"),
        ];
        for (link, target, want) in cases {
            assert_eq!(relative_target(link, target), want, "{link}");
        }
    }

    #[test]
    fn device_numbers() {
        // makedev(8, 1), makedev(259, 131072) as glibc encodes them.
        assert_eq!(split_rdev(0x801), (8, 1));
        assert_eq!(split_rdev(0x2001_0300), (259, 131072));
    }
}
