//! A device as libudev's sd-device (systemd 252) sees it, for `devctl`'s output to match
//! `udevadm`'s line for line.
//!
//! sd-device fills a device lazily and keeps its properties in insertion order, and udevadm
//! prints them in that order, so the order of the reads matters: `DEVPATH` comes first (set
//! when the device is made), `SUBSYSTEM` when the subsystem is first asked for, the `uevent`
//! file's entries when a uevent field is first asked for (`MAJOR`/`MINOR` after the others),
//! the database's `I:`/`E:` lines when it is first read, `DRIVER` when the driver is first
//! asked for, and `DEVLINKS`, `TAGS`, `CURRENT_TAGS` when the properties are listed. A
//! property set again keeps its place. [`Dev`] reproduces that: each getter performs the
//! read sd-device's getter performs.
//!
//! Finding a device follows `sd_device_new_from_path`: a path below `/dev` by its device
//! number (`/dev/block/M:m` and `/dev/char/M:m` directly), anything else by resolving
//! symlinks and requiring a directory below the sysfs root, with a `uevent` file when it is
//! below `devices/`. The parent is the nearest ancestor that is such a device. Paths shown
//! are in udev's namespace (`/sys/...`) whatever the root is.
//!
//! The database is read by one private function ([`read_db`]) that keeps the file's order;
//! it is the place to switch to `devproto::db` once that reader keeps the order too.
//! Left out: sd-device's check that the tree is really sysfs (`SYSTEMD_DEVICE_VERIFY_SYSFS`),
//! and the sets' hash order (devlinks and tags come in file order here, which is also the
//! order udevd wrote them in).

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{Env, Errno};

/// An errno value, as sd-device returns them.
pub const ENOENT: Errno = 2;
/// `ENXIO`.
pub const ENXIO: Errno = 6;
/// `EACCES`.
pub const EACCES: Errno = 13;
/// `EPERM`.
pub const EPERM: Errno = 1;
/// `ENODEV`.
pub const ENODEV: Errno = 19;
/// `EISDIR`.
pub const EISDIR: Errno = 21;
/// `EINVAL`.
pub const EINVAL: Errno = 22;
/// `ENOTTY`.
pub const ENOTTY: Errno = 25;

fn errno_of(e: &std::io::Error) -> Errno {
    e.raw_os_error().unwrap_or(EINVAL)
}

/// Properties in insertion order; setting an existing key keeps its place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Props(pub Vec<(String, String)>);

impl Props {
    /// Sets (`Some`) or removes (`None`) a property.
    pub fn set(&mut self, key: &str, value: Option<&str>) {
        let at = self.0.iter().position(|(k, _)| k == key);
        match (at, value) {
            (Some(i), Some(v)) => {
                if let Some(e) = self.0.get_mut(i) {
                    e.1 = v.to_string();
                }
            }
            (None, Some(v)) => self.0.push((key.to_string(), v.to_string())),
            (Some(i), None) => {
                self.0.remove(i);
            }
            (None, None) => {}
        }
    }

    /// A property's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What a database file says, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbEntry {
    /// `S:` links, absolute (`/dev/...`), each once.
    pub devlinks: Vec<String>,
    /// `L:`.
    pub link_priority: i32,
    /// `I:`.
    pub usec_initialized: Option<u64>,
    /// `E:` in file order (an empty value removes the key, as sd-device does), with
    /// `I:` as `USEC_INITIALIZED` where it came, as sd-device inserts them.
    pub properties: Vec<(String, Option<String>)>,
    /// `G:`, each once.
    pub tags: Vec<String>,
    /// `Q:`, each once.
    pub current_tags: Vec<String>,
    /// `V:`.
    pub version: u32,
}

fn push_once(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// Parses a database file's bytes as sd-device does: byte by byte, a one-character key and
/// `:`, the value up to the next newline (a line without `:` after its key is skipped; a
/// last line without newline is dropped; unknown keys are ignored).
pub fn parse_db(bytes: &[u8]) -> DbEntry {
    let mut e = DbEntry::default();
    let mut handle = |key: u8, value: &[u8]| {
        let value = String::from_utf8_lossy(value).into_owned();
        match key {
            b'G' | b'Q' => {
                if value.contains([':', ' ']) {
                    return;
                }
                if key == b'Q' {
                    push_once(&mut e.current_tags, value.clone());
                }
                push_once(&mut e.tags, value);
            }
            b'S' => push_once(&mut e.devlinks, format!("/dev/{value}")),
            b'E' => {
                if let Some((k, v)) = value.split_once('=') {
                    let v = (!v.is_empty()).then(|| v.to_string());
                    e.properties.push((k.to_string(), v));
                }
            }
            b'I' => {
                if let Ok(t) = value.parse::<u64>() {
                    e.usec_initialized = Some(t);
                    e.properties
                        .push(("USEC_INITIALIZED".to_string(), Some(t.to_string())));
                }
            }
            b'L' => {
                if let Ok(p) = value.parse::<i32>() {
                    e.link_priority = p;
                }
            }
            b'V' => {
                if let Ok(v) = value.parse::<u32>() {
                    e.version = v;
                }
            }
            _ => {}
        }
    };
    #[derive(PartialEq)]
    enum St {
        PreKey,
        Key,
        PreValue,
        Value,
        Invalid,
    }
    let mut st = St::PreKey;
    let (mut key, mut start) = (0u8, 0usize);
    for (i, &b) in bytes.iter().enumerate() {
        let nl = b == b'\n' || b == b'\r';
        match st {
            St::PreKey => {
                if !nl {
                    key = b;
                    st = St::Key;
                }
            }
            St::Key => st = if b == b':' { St::PreValue } else { St::Invalid },
            // The value starts at the byte after ':', whatever it is (as in sd-device).
            St::PreValue => {
                start = i;
                st = St::Value;
            }
            St::Invalid => {
                if nl {
                    st = St::PreKey;
                }
            }
            St::Value => {
                if nl {
                    handle(key, bytes.get(start..i).unwrap_or_default());
                    st = St::PreKey;
                }
            }
        }
    }
    e
}

/// The database entry of device `id` under udev's runtime directory: `Ok(None)` when there
/// is none. The one place that reads the database (see the module comment).
fn read_db(run: &Path, id: &str) -> Result<Option<DbEntry>, Errno> {
    match std::fs::read(run.join("data").join(id)) {
        Ok(bytes) => Ok(Some(parse_db(&bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(errno_of(&e)),
    }
}

/// `major:minor` of a `dev_t` as glibc splits it.
pub fn split_dev(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (
        u32::try_from(major).unwrap_or(u32::MAX),
        u32::try_from(minor).unwrap_or(u32::MAX),
    )
}

/// One device.
#[derive(Debug, Clone)]
pub struct Dev {
    sys: PathBuf,
    run: PathBuf,
    /// `/sys` + devpath.
    pub syspath: String,
    /// `/devices/...`.
    pub devpath: String,
    props: Props,
    subsystem: Option<Option<String>>,
    driver_subsystem: Option<String>,
    driver: Option<Option<String>>,
    uevent_loaded: bool,
    devtype: Option<String>,
    devname: Option<String>,
    devnum: Option<(u32, u32)>,
    ifindex: Option<u32>,
    diskseq: Option<u64>,
    db_loaded: bool,
    initialized: bool,
    devlinks: Vec<String>,
    tags: Vec<String>,
    current_tags: Vec<String>,
    link_priority: i32,
    db_version: u32,
    devlinks_outdated: bool,
    tags_outdated: bool,
    sealed: bool,
}

/// Whether `path` is `prefix` or below it, component-wise (systemd's `path_startswith`).
/// The canonical path of the sysfs root `sys`, resolved once per process (a tool
/// enumerating devices asks for it for every one).
fn real_root(sys: &Path) -> Result<PathBuf, Errno> {
    static LAST: std::sync::Mutex<Option<(PathBuf, PathBuf)>> = std::sync::Mutex::new(None);
    let mut last = LAST.lock().map_err(|_| EINVAL)?;
    if let Some((given, real)) = last.as_ref() {
        if given == sys {
            return Ok(real.clone());
        }
    }
    let real = std::fs::canonicalize(sys).map_err(|e| errno_of(&e))?;
    *last = Some((sys.to_path_buf(), real.clone()));
    Ok(real)
}

pub fn path_below<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let mut p = path;
    for comp in prefix.split('/').filter(|c| !c.is_empty()) {
        p = p.trim_start_matches('/');
        let rest = p.strip_prefix(comp)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        p = rest;
    }
    if !prefix.starts_with('/') && path.starts_with('/') {
        return None;
    }
    Some(p.trim_start_matches('/'))
}

impl Dev {
    fn blank(env: &Env, devpath: String) -> Dev {
        let mut props = Props::default();
        props.set("DEVPATH", Some(&devpath));
        Dev {
            sys: env.sys.clone(),
            run: env.run.clone(),
            syspath: format!("/sys{devpath}"),
            devpath,
            props,
            subsystem: None,
            driver_subsystem: None,
            driver: None,
            uevent_loaded: false,
            devtype: None,
            devname: None,
            devnum: None,
            ifindex: None,
            diskseq: None,
            db_loaded: false,
            initialized: false,
            devlinks: Vec::new(),
            tags: Vec::new(),
            current_tags: Vec::new(),
            link_priority: 0,
            db_version: 0,
            devlinks_outdated: false,
            tags_outdated: false,
            sealed: false,
        }
    }

    /// The directory of the device in the tree.
    pub fn dir(&self) -> PathBuf {
        self.sys.join(self.devpath.trim_start_matches('/'))
    }

    /// `sd_device_new_from_syspath` (and the non-strict form behind `new_from_path`): a
    /// path in udev's namespace (`/sys/...`) or a relative one, symlinks resolved.
    pub fn from_syspath(env: &Env, path: &str) -> Result<Dev, Errno> {
        let host = match path_below(path, "/sys") {
            Some(rest) if path.starts_with('/') => env.sys.join(rest),
            _ => PathBuf::from(path),
        };
        // A device is a directory: resolved with one open + readlink instead of a
        // readlink per path component; anything else takes realpath's way for its errors.
        let real = match sys::fd::real_dir_path(&host) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ENODEV),
            Err(_) => match std::fs::canonicalize(&host) {
                Ok(r) => r,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ENODEV),
                Err(e) => return Err(errno_of(&e)),
            },
        };
        let root = real_root(&env.sys)?;
        let rel = real.strip_prefix(&root).map_err(|_| ENODEV)?;
        let rel = rel.to_string_lossy();
        if rel.is_empty() {
            return Err(ENODEV);
        }
        Dev::from_devpath(env, format!("/{rel}"), &real)
    }

    /// The device at the canonical `devpath` (`real` is its directory on the host): below
    /// `/devices` a directory with a `uevent` file, elsewhere any directory.
    fn from_devpath(env: &Env, devpath: String, real: &Path) -> Result<Dev, Errno> {
        if path_below(&devpath, "/devices").is_some() {
            match std::fs::symlink_metadata(real.join("uevent")) {
                Ok(_) => {}
                Err(e) if matches!(errno_of(&e), ENOENT | 20) => return Err(ENODEV),
                Err(e) => return Err(errno_of(&e)),
            }
        } else if !real.is_dir() {
            return Err(ENODEV);
        }
        Ok(Dev::blank(env, devpath))
    }

    /// `sd_device_new_from_devnum`: `block` or `char` and the number.
    pub fn from_devnum(env: &Env, block: bool, major: u32, minor: u32) -> Result<Dev, Errno> {
        if major == 0 {
            return Err(ENODEV);
        }
        let kind = if block { "block" } else { "char" };
        let mut d = Dev::from_syspath(env, &format!("/sys/dev/{kind}/{major}:{minor}"))?;
        if d.devnum() != Some((major, minor)) {
            return Err(ENXIO);
        }
        if (d.subsystem().as_deref() == Some("block")) != block {
            return Err(ENXIO);
        }
        Ok(d)
    }

    /// `sd_device_new_from_devname`: a node or symlink below `/dev` (in `env.dev`).
    pub fn from_devname(env: &Env, name: &str) -> Result<Dev, Errno> {
        let rest = match path_below(name, "/dev") {
            Some(r) if !r.is_empty() => r,
            _ => return Err(EINVAL),
        };
        for (prefix, block) in [("block/", true), ("char/", false)] {
            if let Some((ma, mi)) = rest.strip_prefix(prefix).and_then(|n| n.split_once(':')) {
                if let (Ok(ma), Ok(mi)) = (ma.parse(), mi.parse()) {
                    return Dev::from_devnum(env, block, ma, mi);
                }
            }
        }
        let meta = match std::fs::metadata(env.dev.join(rest)) {
            Ok(m) => m,
            Err(e) if matches!(errno_of(&e), ENOENT | ENXIO | ENODEV) => return Err(ENODEV),
            Err(e) => return Err(errno_of(&e)),
        };
        let ft = meta.file_type();
        if !ft.is_block_device() && !ft.is_char_device() {
            return Err(ENOTTY);
        }
        let (ma, mi) = split_dev(meta.rdev());
        Dev::from_devnum(env, ft.is_block_device(), ma, mi)
    }

    /// `sd_device_new_from_path`.
    pub fn from_path(env: &Env, path: &str) -> Result<Dev, Errno> {
        if path_below(path, "/dev").is_some() && path.starts_with('/') {
            Dev::from_devname(env, path)
        } else {
            Dev::from_syspath(env, path)
        }
    }

    /// `sd_device_new_from_subsystem_sysname`.
    pub fn from_subsystem_sysname(env: &Env, subsystem: &str, sysname: &str) -> Result<Dev, Errno> {
        let normal = |s: &str| !s.is_empty() && !s.split('/').any(|c| c == ".." || c == ".");
        if !normal(subsystem) || !normal(sysname) {
            return Err(EINVAL);
        }
        let name = sysname.replace('/', "!");
        let mut candidates = Vec::new();
        match subsystem {
            "subsystem" => {
                candidates.push(format!("/sys/bus/{name}"));
                candidates.push(format!("/sys/class/{name}"));
            }
            "module" => candidates.push(format!("/sys/module/{name}")),
            "drivers" => {
                if let Some((sub, drv)) = name.split_once(':').filter(|(_, d)| !d.is_empty()) {
                    if drv == "drivers" {
                        candidates.push(format!("/sys/bus/{sub}/drivers"));
                    } else {
                        candidates.push(format!("/sys/bus/{sub}/drivers/{drv}"));
                    }
                }
            }
            _ => {}
        }
        candidates.push(format!("/sys/bus/{subsystem}/devices/{name}"));
        candidates.push(format!("/sys/class/{subsystem}/{name}"));
        candidates.push(format!("/sys/firmware/{subsystem}/{name}"));
        for c in candidates {
            let host = env.sys.join(c.trim_start_matches("/sys/"));
            if std::fs::symlink_metadata(&host).is_ok() {
                return Dev::from_syspath(env, &c);
            }
        }
        Err(ENODEV)
    }

    /// `sd_device_new_from_ifindex`: through `/sys/class/net`, the interface whose
    /// `ifindex` is `ifindex`.
    pub fn from_ifindex(env: &Env, ifindex: u32) -> Result<Dev, Errno> {
        let net = env.sys.join("class/net");
        let names = std::fs::read_dir(&net).map_err(|_| ENODEV)?;
        for e in names.flatten() {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            let index = std::fs::read_to_string(e.path().join("ifindex")).unwrap_or_default();
            if index.trim().parse() == Ok(ifindex) {
                let mut d = Dev::from_syspath(env, &format!("/sys/class/net/{name}"))?;
                return if d.ifindex() == Some(ifindex) {
                    Ok(d)
                } else {
                    Err(ENXIO)
                };
            }
        }
        Err(ENODEV)
    }

    /// `sd_device_new_from_device_id` (`b8:0`, `c1:3`, `n2`, `+subsystem:sysname`).
    pub fn from_device_id(env: &Env, id: &str) -> Result<Dev, Errno> {
        let num = |s: &str| -> Result<(u32, u32), Errno> {
            let (a, b) = s.split_once(':').ok_or(EINVAL)?;
            Ok((
                a.parse().map_err(|_| EINVAL)?,
                b.parse().map_err(|_| EINVAL)?,
            ))
        };
        if let Some(rest) = id.strip_prefix('b') {
            let (a, b) = num(rest)?;
            Dev::from_devnum(env, true, a, b)
        } else if let Some(rest) = id.strip_prefix('c') {
            let (a, b) = num(rest)?;
            Dev::from_devnum(env, false, a, b)
        } else if let Some(rest) = id.strip_prefix('n') {
            let i: u32 = rest.parse().map_err(|_| EINVAL)?;
            if i == 0 {
                return Err(EINVAL);
            }
            Dev::from_ifindex(env, i)
        } else if let Some(rest) = id.strip_prefix('+') {
            let (sub, name) = rest.split_once(':').ok_or(EINVAL)?;
            Dev::from_subsystem_sysname(env, sub, name)
        } else {
            Err(EINVAL)
        }
    }

    /// A device made from an event's properties (`sd-device`'s `device_new_from_nulstr`):
    /// `props` in message order; sealed (nothing more is read from sysfs or the database).
    pub fn from_event(env: &Env, props: &[(String, String)]) -> Dev {
        let mut d = Dev::blank(env, String::new());
        d.props = Props::default();
        d.uevent_loaded = true;
        d.db_loaded = true;
        d.sealed = true;
        d.subsystem = Some(None);
        let (mut major, mut minor) = (None, None);
        for (k, v) in props {
            match k.as_str() {
                "MAJOR" => major = Some(v.clone()),
                "MINOR" => minor = Some(v.clone()),
                "DEVPATH" => {
                    d.devpath = v.clone();
                    d.syspath = format!("/sys{v}");
                    d.props.set(k, Some(v));
                }
                "SUBSYSTEM" => {
                    d.subsystem = Some(Some(v.clone()));
                    d.props.set(k, Some(v));
                }
                "DRIVER" => {
                    d.driver = Some(Some(v.clone()));
                    d.props.set(k, Some(v));
                }
                "DEVNAME" => {
                    let n = if v.starts_with('/') {
                        v.clone()
                    } else {
                        format!("/dev/{v}")
                    };
                    d.props.set(k, Some(&n));
                    d.devname = Some(n);
                }
                "DEVTYPE" => {
                    d.devtype = Some(v.clone());
                    d.props.set(k, Some(v));
                }
                "IFINDEX" => {
                    d.ifindex = v.parse().ok().filter(|&i| i > 0);
                    d.props.set(k, Some(v));
                }
                "DEVLINKS" => {
                    for l in v.split_ascii_whitespace() {
                        push_once(&mut d.devlinks, l.to_string());
                        d.devlinks_outdated = true;
                    }
                }
                "TAGS" | "CURRENT_TAGS" => {
                    for t in v.split(':').filter(|t| !t.is_empty()) {
                        if k == "CURRENT_TAGS" {
                            push_once(&mut d.current_tags, t.to_string());
                        }
                        push_once(&mut d.tags, t.to_string());
                        d.tags_outdated = true;
                    }
                }
                "UDEV_DATABASE_VERSION" => d.db_version = v.parse().unwrap_or(0),
                _ => d.props.set(k, Some(v)),
            }
        }
        if let Some(ma) = major {
            d.set_devnum(&ma, minor.as_deref());
        }
        d
    }

    /// The event's action, as an event device carries it.
    pub fn set_action(&mut self, action: &str) {
        self.props.set("ACTION", Some(action));
    }

    /// Adds or replaces a property (`device_add_property`).
    pub fn set_property(&mut self, key: &str, value: Option<&str>) {
        self.props.set(key, value);
    }

    /// Stops further reads of the database (`device_seal`, as `udevadm test` does).
    pub fn seal(&mut self) {
        self.sealed = true;
    }

    /// Sysname: the last devpath element, `!` read as `/`.
    pub fn sysname(&self) -> String {
        self.devpath
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .replace('!', "/")
    }

    /// Trailing digits of the sysname (never the whole name).
    pub fn sysnum(&self) -> Option<String> {
        let name = self.sysname();
        let n = name.bytes().rev().take_while(u8::is_ascii_digit).count();
        (n > 0 && n < name.len())
            .then(|| name.get(name.len() - n..).unwrap_or_default().to_string())
    }

    fn set_subsystem(&mut self, s: Option<String>) {
        self.props.set("SUBSYSTEM", s.as_deref());
        self.subsystem = Some(s);
    }

    /// The subsystem: the `subsystem` link, else implied by the path (`module`, `drivers`,
    /// `subsystem` for `/bus/*` and `/class/*`).
    pub fn subsystem(&mut self) -> Option<String> {
        if self.subsystem.is_none() {
            let link = std::fs::read_link(self.dir().join("subsystem"))
                .ok()
                .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()));
            let dp = self.devpath.clone();
            let nonempty_below = |p: &str| path_below(&dp, p).is_some_and(|r| !r.is_empty());
            if link.is_some() {
                self.set_subsystem(link);
            } else if nonempty_below("/module") {
                self.set_subsystem(Some("module".into()));
            } else if dp.contains("/drivers/") || dp.ends_with("/drivers") {
                // The real subsystem is the element before "drivers".
                let before = match dp.find("/drivers/") {
                    Some(i) => dp.get(..i),
                    None => dp.strip_suffix("/drivers"),
                };
                match before
                    .and_then(|b| b.rsplit('/').next())
                    .filter(|s| !s.is_empty())
                {
                    Some(sub) => {
                        self.driver_subsystem = Some(sub.to_string());
                        self.set_subsystem(Some("drivers".into()));
                    }
                    None => self.subsystem = Some(None),
                }
            } else if nonempty_below("/class") || nonempty_below("/bus") {
                self.set_subsystem(Some("subsystem".into()));
            } else {
                self.subsystem = Some(None);
            }
        }
        self.subsystem.clone().flatten()
    }

    /// The driver (the `driver` link's last element); sets `DRIVER`.
    pub fn driver(&mut self) -> Option<String> {
        if self.driver.is_none() {
            let d = std::fs::read_link(self.dir().join("driver"))
                .ok()
                .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()));
            self.props.set("DRIVER", d.as_deref());
            self.driver = Some(d);
        }
        self.driver.clone().flatten()
    }

    fn set_devnum(&mut self, major: &str, minor: Option<&str>) {
        let Ok(ma) = major.parse::<u32>() else { return };
        if ma == 0 {
            return;
        }
        let mi = match minor.map(str::parse::<u32>) {
            Some(Ok(m)) => m,
            Some(Err(_)) => return,
            None => 0,
        };
        self.props.set("MAJOR", Some(major));
        if let Some(m) = minor {
            self.props.set("MINOR", Some(m));
        }
        self.devnum = Some((ma, mi));
    }

    /// Reads the `uevent` file once (`device_read_uevent_file`).
    pub fn read_uevent(&mut self) {
        if self.uevent_loaded || self.sealed {
            return;
        }
        self.uevent_loaded = true;
        let Ok(bytes) = std::fs::read(self.dir().join("uevent")) else {
            return;
        };
        let (mut major, mut minor) = (None, None);
        let text = String::from_utf8_lossy(&bytes);
        // A last line without newline is dropped, as sd-device's parser drops it.
        let complete = match text.rfind(['\n', '\r']) {
            Some(i) => text.get(..i).unwrap_or_default(),
            None => "",
        };
        for line in complete.split(['\n', '\r']) {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            if k.is_empty() {
                continue;
            }
            match k {
                "DEVTYPE" => {
                    self.devtype = Some(v.to_string());
                    self.props.set(k, Some(v));
                }
                "IFINDEX" => {
                    if let Ok(i) = v.parse::<u32>() {
                        if i > 0 {
                            self.ifindex = Some(i);
                            self.props.set(k, Some(v));
                        }
                    }
                }
                "DEVNAME" => {
                    let n = if v.starts_with('/') {
                        v.to_string()
                    } else {
                        format!("/dev/{v}")
                    };
                    self.props.set(k, Some(&n));
                    self.devname = Some(n);
                }
                "DEVMODE" => {
                    if v.parse::<u32>().is_ok_and(|m| m <= 0o7777) {
                        self.props.set(k, Some(v));
                    }
                }
                "DISKSEQ" => {
                    if let Ok(s) = v.parse::<u64>() {
                        if s > 0 {
                            self.diskseq = Some(s);
                            self.props.set(k, Some(v));
                        }
                    }
                }
                "MAJOR" => major = Some(v.to_string()),
                "MINOR" => minor = Some(v.to_string()),
                _ => self.props.set(k, Some(v)),
            }
        }
        if let Some(ma) = major {
            self.set_devnum(&ma, minor.as_deref());
        }
    }

    /// `DEVTYPE`.
    pub fn devtype(&mut self) -> Option<String> {
        self.read_uevent();
        self.devtype.clone()
    }

    /// The device number (major > 0).
    pub fn devnum(&mut self) -> Option<(u32, u32)> {
        self.read_uevent();
        self.devnum
    }

    /// The interface index.
    pub fn ifindex(&mut self) -> Option<u32> {
        self.read_uevent();
        self.ifindex
    }

    /// The device node (`/dev/...`).
    pub fn devname(&mut self) -> Option<String> {
        self.read_uevent();
        self.devname.clone()
    }

    /// `DISKSEQ`.
    pub fn diskseq(&mut self) -> Option<u64> {
        self.read_uevent();
        self.diskseq
    }

    /// udev's device id (the database file name): `b8:0`, `c1:3`, `n2`,
    /// `+subsystem:sysname` (`+drivers:bus:name`).
    pub fn device_id(&mut self) -> Result<String, Errno> {
        let sub = self.subsystem().ok_or(ENOENT)?;
        let id = if let Some((ma, mi)) = self.devnum() {
            format!("{}{ma}:{mi}", if sub == "block" { 'b' } else { 'c' })
        } else if let Some(i) = self.ifindex() {
            format!("n{i}")
        } else {
            let raw = self
                .devpath
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            if sub == "drivers" {
                format!(
                    "+drivers:{}:{raw}",
                    self.driver_subsystem.clone().unwrap_or_default()
                )
            } else {
                format!("+{sub}:{raw}")
            }
        };
        if id.contains('/') || id == "." || id == ".." {
            return Err(EINVAL);
        }
        Ok(id)
    }

    /// Reads the database once (`device_read_db`); an error when the device has no id.
    pub fn read_db(&mut self) -> Result<(), Errno> {
        if self.db_loaded || self.sealed {
            return Ok(());
        }
        let id = self.device_id()?;
        let Some(e) = read_db(&self.run, &id)? else {
            return Ok(());
        };
        self.initialized = true;
        self.db_loaded = true;
        for t in &e.tags {
            push_once(&mut self.tags, t.clone());
            self.tags_outdated = true;
        }
        for t in &e.current_tags {
            push_once(&mut self.current_tags, t.clone());
        }
        for l in &e.devlinks {
            push_once(&mut self.devlinks, l.clone());
            self.devlinks_outdated = true;
        }
        for (k, v) in &e.properties {
            self.props.set(k, v.as_deref());
        }
        self.link_priority = e.link_priority;
        self.db_version = e.version;
        Ok(())
    }

    /// Whether udev has processed the device (it has a database entry).
    pub fn is_initialized(&mut self) -> bool {
        self.read_db().is_ok() && self.initialized
    }

    /// `L:` of the database.
    pub fn link_priority(&mut self) -> i32 {
        let _ = self.read_db();
        self.link_priority
    }

    /// The symlinks (`/dev/...`).
    pub fn devlinks(&mut self) -> Vec<String> {
        let _ = self.read_db();
        self.devlinks.clone()
    }

    /// Every tag the device had.
    pub fn tags(&mut self) -> Vec<String> {
        let _ = self.read_db();
        self.tags.clone()
    }

    /// The current tags (all tags for a database of version 0).
    pub fn current_tags(&mut self) -> Vec<String> {
        let _ = self.read_db();
        if self.db_version >= 1 || self.sealed {
            self.current_tags.clone()
        } else {
            self.tags.clone()
        }
    }

    /// All properties, as `FOREACH_DEVICE_PROPERTY` lists them; empty when the uevent file
    /// or the database cannot be read (sd-device lists nothing then).
    pub fn properties(&mut self) -> Vec<(String, String)> {
        self.read_uevent();
        if self.read_db().is_err() {
            return Vec::new();
        }
        if self.devlinks_outdated {
            if !self.devlinks.is_empty() {
                let v = self.devlinks.join(" ");
                self.props.set("DEVLINKS", Some(&v));
            }
            self.devlinks_outdated = false;
        }
        if self.tags_outdated {
            if !self.tags.is_empty() {
                let v = format!(":{}:", self.tags.join(":"));
                self.props.set("TAGS", Some(&v));
            }
            if !self.current_tags.is_empty() {
                let v = format!(":{}:", self.current_tags.join(":"));
                self.props.set("CURRENT_TAGS", Some(&v));
            }
            self.tags_outdated = false;
        }
        self.props.0.clone()
    }

    /// A property's value after [`Dev::properties`]' reads.
    pub fn property(&mut self, key: &str) -> Option<String> {
        self.properties();
        self.props.get(key).map(str::to_string)
    }

    /// The parent device: the nearest ancestor directory that is a device.
    pub fn parent(&self, env: &Env) -> Option<Dev> {
        let mut p = self.devpath.as_str();
        while let Some((head, _)) = p.rsplit_once('/') {
            if head.is_empty() {
                return None;
            }
            // The ancestors of a canonical path are canonical: nothing to resolve.
            let real = real_root(&env.sys).ok()?.join(head.trim_start_matches('/'));
            match Dev::from_devpath(env, head.to_string(), &real) {
                Ok(d) => return Some(d),
                Err(ENODEV) => p = head,
                Err(_) => return None,
            }
        }
        None
    }

    /// An attribute's value (`sd_device_get_sysattr_value`): a readable file's bytes with
    /// trailing newlines dropped; `driver`, `subsystem` and `module` links as their target's
    /// name; errors as sd-device returns them (`EISDIR`, `EPERM` for a file without the
    /// owner's read bit, `EINVAL` for other links, the read's own errno).
    pub fn sysattr(&self, name: &str) -> Result<Vec<u8>, Errno> {
        if name.split('/').any(|c| c == "..") {
            return Err(EINVAL);
        }
        let path = self.dir().join(name);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| errno_of(&e))?;
        if meta.file_type().is_symlink() {
            if matches!(name, "driver" | "subsystem" | "module") {
                let t = std::fs::read_link(&path).map_err(|e| errno_of(&e))?;
                return Ok(t
                    .file_name()
                    .map(|n| n.as_encoded_bytes().to_vec())
                    .unwrap_or_default());
            }
            return Err(EINVAL);
        }
        if meta.is_dir() {
            return Err(EISDIR);
        }
        if meta.permissions().mode() & 0o400 == 0 {
            return Err(EPERM);
        }
        let mut v = std::fs::read(&path).map_err(|e| errno_of(&e))?;
        while v.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
            v.pop();
        }
        Ok(v)
    }

    /// The attribute names of the device (`FOREACH_DEVICE_SYSATTR`), sorted: files and
    /// symlinks with the owner's read or write bit, in subdirectories too unless a
    /// subdirectory is a device of its own (has a `uevent` file).
    pub fn sysattr_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut stack = vec![String::new()];
        let dir = self.dir();
        while let Some(sub) = stack.pop() {
            let d = if sub.is_empty() {
                dir.clone()
            } else {
                dir.join(&sub)
            };
            if !sub.is_empty() && std::fs::symlink_metadata(d.join("uevent")).is_ok() {
                continue;
            }
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let Ok(name) = e.file_name().into_string() else {
                    continue;
                };
                let Ok(ft) = e.file_type() else { continue };
                let rel = if sub.is_empty() {
                    name
                } else {
                    format!("{sub}/{name}")
                };
                if ft.is_dir() {
                    // sysfs has no directory cycles, but a fake tree might: stay shallow.
                    if rel.matches('/').count() < 16 {
                        stack.push(rel);
                    }
                    continue;
                }
                if !ft.is_file() && !ft.is_symlink() {
                    continue;
                }
                let Ok(m) = std::fs::symlink_metadata(e.path()) else {
                    continue;
                };
                if m.permissions().mode() & 0o600 == 0 {
                    continue;
                }
                names.push(rel);
            }
        }
        names.sort();
        names
    }
}

#[cfg(test)]
#[path = "sdev_tests.rs"]
mod tests;
