//! `devctl info`: udevadm 252's `info` verb, byte for byte.
//!
//! - the record (`P:` devpath, `M:` sysname, `R:` sysnum, `U:` subsystem, `T:` devtype,
//!   `D:` `b`/`c` and the number, `I:` ifindex, `N:` node, `L:` link priority and `S:` links
//!   (only for a device with a node), `Q:` diskseq, `V:` driver, then `E:` properties in
//!   sd-device's order), with udevadm's colours on a terminal;
//! - `--query=name|symlink|path|property|all` (`env` is `property`), `--property=`,
//!   `--value`, `--export`, `--export-prefix=`, `--root`;
//! - `--attribute-walk`: the device and every parent with `KERNEL(S)`, `SUBSYSTEM(S)`,
//!   `DRIVER(S)` and each readable attribute whose value is printable and not a path,
//!   sorted by name (`(not readable)` for one the read bits refuse);
//! - `--export-db` (every device's record), `--cleanup-db` (the database, link and tag
//!   indexes, keeping `db_persist` entries), `--device-id-of-file=`, `--tree`,
//!   `--wait-for-initialization[=SECONDS]`.
//!
//! Devices are named by `/sys/...`, `/dev/...`, a path relative to the working directory or
//! a `.device` unit name; `--path`/`--name` put `/sys/`/`/dev/` in front when missing.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::enumerate::{Enumerator, Scan};
use super::getopt::{long, Arg, Item, Long};
use super::sdev::{path_below, split_dev, Dev, EACCES, EINVAL, ENOENT, EPERM};
use super::util::{find_device, parse_sec, strerror, USEC_INFINITY};
use super::{Env, Io};

const ARG_PROPERTY: u32 = 0x100;
const ARG_VALUE: u32 = 0x101;
const ARG_NO_PAGER: u32 = 0x102;

const LONGS: [Long; 17] = [
    long("attribute-walk", Arg::No, 'a' as u32),
    long("tree", Arg::No, 't' as u32),
    long("cleanup-db", Arg::No, 'c' as u32),
    long("device-id-of-file", Arg::Required, 'd' as u32),
    long("export", Arg::No, 'x' as u32),
    long("export-db", Arg::No, 'e' as u32),
    long("export-prefix", Arg::Required, 'P' as u32),
    long("help", Arg::No, 'h' as u32),
    long("name", Arg::Required, 'n' as u32),
    long("path", Arg::Required, 'p' as u32),
    long("property", Arg::Required, ARG_PROPERTY),
    long("query", Arg::Required, 'q' as u32),
    long("root", Arg::No, 'r' as u32),
    long("value", Arg::No, ARG_VALUE),
    long("version", Arg::No, 'V' as u32),
    long("wait-for-initialization", Arg::Optional, 'w' as u32),
    long("no-pager", Arg::No, ARG_NO_PAGER),
];

const HELP: &str = "devctl info [OPTIONS] [DEVPATH|FILE]

Query sysfs or the udev database.

  -h --help                   Print this message
  -V --version                Print version of the program
  -q --query=TYPE             Query device information:
       name                     Name of device node
       symlink                  Pointing to node
       path                     sysfs device path
       property                 The device properties
       all                      All values
     --property=NAME          Show only properties by this name
     --value                  When showing properties, print only their values
  -p --path=SYSPATH           sysfs device path used for query or attribute walk
  -n --name=NAME              Node or symlink name used for query or attribute walk
  -r --root                   Prepend dev directory to path names
  -a --attribute-walk         Print all key matches walking along the chain
                              of parent devices
  -t --tree                   Show tree of devices
  -d --device-id-of-file=FILE Print major:minor of device containing this file
  -x --export                 Export key/value pairs
  -P --export-prefix          Export the key name with a prefix
  -e --export-db              Export the content of the udev database
  -c --cleanup-db             Clean up the udev database
  -w --wait-for-initialization[=SECONDS]
                              Wait for device to be initialized
     --no-pager               Do not pipe output into a pager
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Query,
    AttributeWalk,
    DeviceIdFile,
    Tree,
}

/// What to print for `--query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// The node.
    Name,
    /// The devpath.
    Path,
    /// The links.
    Symlink,
    /// The properties.
    Property,
    /// The whole record.
    All,
}

/// Output settings of the query forms.
#[derive(Debug, Clone, Default)]
pub struct Style {
    /// `--root`: paths with `/dev/`.
    pub root: bool,
    /// `--export`.
    pub export: bool,
    /// `--export-prefix=`.
    pub export_prefix: Option<String>,
    /// `--value`.
    pub value: bool,
    /// `--property=` names (`Some(empty)`: show none).
    pub properties: Option<Vec<String>>,
    /// Colours.
    pub colors: bool,
}

fn color(on: bool, code: &str) -> (&str, &str) {
    if on {
        (code, "\x1B[0m")
    } else {
        ("", "")
    }
}

const WHITE: &str = "\x1B[0;1;37m";
const GREEN: &str = "\x1B[0;1;32m";
const CYAN: &str = "\x1B[0;1;36m";
const MAGENTA: &str = "\x1B[0;1;35m";
const YELLOW4: &str = "\x1B[0;1;38;5;100m";

fn strip_dev(p: &str) -> &str {
    p.strip_prefix("/dev/").unwrap_or(p)
}

/// udevadm's record of a device, each line after `prefix`; a blank line ends it when the
/// prefix is empty.
pub fn print_record(d: &mut Dev, prefix: &str, colors: bool, out: &mut dyn Write) {
    let mut s = String::new();
    let line = |s: &mut String, tag: &str, code: &str, v: &str| {
        let (a, b) = color(colors, code);
        s.push_str(&format!("{prefix}{tag}: {a}{v}{b}\n"));
    };
    line(&mut s, "P", WHITE, &d.devpath.clone());
    line(&mut s, "M", WHITE, &d.sysname());
    if let Some(n) = d.sysnum() {
        line(&mut s, "R", WHITE, &n);
    }
    let sub = d.subsystem();
    if let Some(sub) = &sub {
        line(&mut s, "U", GREEN, sub);
    }
    if let Some(t) = d.devtype() {
        line(&mut s, "T", GREEN, &t);
    }
    if let Some((ma, mi)) = d.devnum() {
        let k = if sub.as_deref() == Some("block") {
            'b'
        } else {
            'c'
        };
        line(&mut s, "D", CYAN, &format!("{k} {ma}:{mi}"));
    }
    if let Some(i) = d.ifindex() {
        line(&mut s, "I", CYAN, &i.to_string());
    }
    if let Some(n) = d.devname() {
        line(&mut s, "N", CYAN, strip_dev(&n));
        let p = d.link_priority();
        line(&mut s, "L", CYAN, &p.to_string());
        for l in d.devlinks() {
            line(&mut s, "S", CYAN, strip_dev(&l));
        }
    }
    if let Some(q) = d.diskseq() {
        line(&mut s, "Q", MAGENTA, &q.to_string());
    }
    if let Some(v) = d.driver() {
        line(&mut s, "V", YELLOW4, &v);
    }
    for (k, v) in d.properties() {
        s.push_str(&format!("{prefix}E: {k}={v}\n"));
    }
    if prefix.is_empty() {
        s.push('\n');
    }
    let _ = out.write_all(s.as_bytes());
}

/// Prints what `--query` asks for; an error message when there is nothing to print.
pub fn query_device(d: &mut Dev, q: Query, st: &Style, out: &mut dyn Write) -> Result<(), String> {
    match q {
        Query::Name => {
            let node = d
                .devname()
                .ok_or_else(|| format!("No device node found: {}", strerror(ENOENT)))?;
            let node = if st.root {
                node.as_str()
            } else {
                strip_dev(&node)
            };
            let _ = writeln!(out, "{node}");
        }
        Query::Symlink => {
            let links: Vec<String> = d
                .devlinks()
                .iter()
                .map(|l| {
                    if st.root {
                        l.clone()
                    } else {
                        strip_dev(l).to_string()
                    }
                })
                .collect();
            let _ = writeln!(out, "{}", links.join(" "));
        }
        Query::Path => {
            let _ = writeln!(out, "{}", d.devpath);
        }
        Query::Property => {
            let mut s = String::new();
            for (k, v) in d.properties() {
                if st
                    .properties
                    .as_ref()
                    .is_some_and(|names| !names.contains(&k))
                {
                    continue;
                }
                if st.export {
                    s.push_str(&format!(
                        "{}{k}='{v}'\n",
                        st.export_prefix.as_deref().unwrap_or("")
                    ));
                } else if st.value {
                    s.push_str(&format!("{v}\n"));
                } else {
                    s.push_str(&format!("{k}={v}\n"));
                }
            }
            let _ = out.write_all(s.as_bytes());
        }
        Query::All => print_record(d, "", st.colors, out),
    }
    Ok(())
}

/// The attributes `--attribute-walk` never shows (shown otherwise, or meaningless).
fn skip_attribute(name: &str) -> bool {
    matches!(
        name,
        "uevent" | "dev" | "modalias" | "resource" | "driver" | "subsystem" | "module"
    )
}

fn print_all_attributes(d: &mut Dev, parent: bool, out: &mut String) {
    let (kernel, subsystem, driver, attr) = if parent {
        ("KERNELS", "SUBSYSTEMS", "DRIVERS", "ATTRS")
    } else {
        ("KERNEL", "SUBSYSTEM", "DRIVER", "ATTR")
    };
    out.push_str(&format!(
        "  looking at {}device '{}':\n",
        if parent { "parent " } else { "" },
        d.devpath
    ));
    out.push_str(&format!("    {kernel}==\"{}\"\n", d.sysname()));
    out.push_str(&format!(
        "    {subsystem}==\"{}\"\n",
        d.subsystem().unwrap_or_default()
    ));
    out.push_str(&format!(
        "    {driver}==\"{}\"\n",
        d.driver().unwrap_or_default()
    ));
    for name in d.sysattr_names() {
        if skip_attribute(&name) {
            continue;
        }
        let value = match d.sysattr(&name) {
            Ok(mut v) => {
                // A C string: the value ends at its first NUL.
                if let Some(nul) = v.iter().position(|&b| b == 0) {
                    v.truncate(nul);
                }
                if v.first() == Some(&b'/') || !v.iter().all(|b| (0x20..0x7f).contains(b)) {
                    continue;
                }
                String::from_utf8_lossy(&v).into_owned()
            }
            Err(EACCES) | Err(EPERM) => "(not readable)".to_string(),
            Err(_) => continue,
        };
        out.push_str(&format!("    {attr}{{{name}}}==\"{value}\"\n"));
    }
    out.push('\n');
}

/// `--attribute-walk`'s text for `d` and its parents.
pub fn attribute_walk(env: &Env, d: &mut Dev, out: &mut dyn Write) {
    let mut s = String::from(
        "\nUdevadm info starts with the device specified by the devpath and then\n\
         walks up the chain of parent devices. It prints for every device\n\
         found, all possible attributes in the udev rules key format.\n\
         A rule to match, can be composed by the attributes of the device\n\
         and the attributes from one single parent device.\n\n",
    );
    print_all_attributes(d, false, &mut s);
    let mut cur = d.parent(env);
    while let Some(mut p) = cur {
        print_all_attributes(&mut p, true, &mut s);
        cur = p.parent(env);
    }
    let _ = out.write_all(s.as_bytes());
}

fn glyphs(utf8: bool) -> [&'static str; 5] {
    // branch, right, vertical, space, dotted vertical
    if utf8 {
        ["├─", "└─", "│ ", "  ", "┆"]
    } else {
        ["|-", "`-", "| ", "  ", ":"]
    }
}

fn draw_tree(
    env: &Env,
    devs: &mut [Dev],
    parent: Option<&str>,
    prefix: &str,
    level: u32,
    out: &mut dyn Write,
    err: &mut dyn Write,
) {
    if devs.is_empty() {
        return;
    }
    if level > 64 {
        let _ = writeln!(
            err,
            "Eliding tree below '{}', too deep.",
            parent.unwrap_or("n/a")
        );
        return;
    }
    let [branch, right, vertical, space, dotted] = glyphs(env.utf8);
    let mut i = 0;
    while i < devs.len() {
        let path = devs.get(i).map(|d| d.devpath.clone()).unwrap_or_default();
        let mut more = false;
        let mut j = i + 1;
        while let Some(next) = devs.get(j) {
            if path_below(&next.devpath, &path).is_none() {
                more = parent.is_none_or(|pp| path_below(&next.devpath, pp).is_some());
                break;
            }
            j += 1;
        }
        let shown = match parent {
            Some(pp) => path_below(&path, pp).unwrap_or(&path).to_string(),
            None => path.clone(),
        };
        let _ = writeln!(out, "{prefix}{}{shown}", if more { branch } else { right });
        let sub = format!("{prefix}{}", if more { vertical } else { space });
        let subsub = format!("{sub}{dotted} ");
        let (head, tail) = devs.split_at_mut(i + 1);
        if let Some(d) = head.last_mut() {
            print_record(d, &subsub, env.colors, out);
        }
        let children = tail.get_mut(..j - i - 1).unwrap_or_default();
        draw_tree(env, children, Some(&path), &sub, level + 1, out, err);
        i = j;
    }
}

fn print_tree(env: &Env, below: Option<&Dev>, io: &mut Io) -> i32 {
    let mut e = Enumerator::default();
    let mut devs = match below {
        Some(b) => {
            e.set_match_parent(&b.syspath);
            e.scan_with_parents_of(env, Scan::All, b)
        }
        None => e.scan(env, Scan::All),
    };
    if devs.is_empty() {
        io.log("No items.");
        return 0;
    }
    draw_tree(env, &mut devs, None, "", 0, io.out, io.err);
    let _ = write!(io.out, "\n{} items shown.\n", devs.len());
    0
}

/// `--export-db`: every device's record, in enumeration order.
pub fn export_devices(env: &Env, out: &mut dyn Write) {
    for mut d in Enumerator::default().scan(env, Scan::Devices) {
        print_record(&mut d, "", env.colors, out);
    }
}

fn cleanup_dir(dir: &Path, skip_mode: u32, depth: u32) {
    if depth == 0 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let Ok(m) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if m.permissions().mode() & skip_mode != 0 {
            continue;
        }
        if m.is_dir() {
            cleanup_dir(&e.path(), skip_mode, depth - 1);
            let _ = std::fs::remove_dir(e.path());
        } else {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Empties an index (`links/`, `tags/`): in each subdirectory, the entries whose database
/// file is gone, then the subdirectory if that emptied it.
fn cleanup_index(dir: &Path, data: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let Ok(m) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if !m.is_dir() {
            let _ = std::fs::remove_file(e.path());
            continue;
        }
        if let Ok(sub) = std::fs::read_dir(e.path()) {
            for s in sub.flatten() {
                if std::fs::symlink_metadata(data.join(s.file_name())).is_err() {
                    let _ = std::fs::remove_file(s.path());
                }
            }
        }
        let _ = std::fs::remove_dir(e.path());
    }
}

/// `--cleanup-db`: removes the database, except entries kept with `db_persist` (sticky
/// bit), and the link and tag index entries of removed entries; `watch/` stays.
pub fn cleanup_db(run: &Path) {
    let data = run.join("data");
    cleanup_dir(&data, 0o1000, 1);
    cleanup_index(&run.join("links"), &data);
    cleanup_index(&run.join("tags"), &data);
    cleanup_dir(&run.join("static_node-tags"), 0, 2);
}

/// `device_wait_for_initialization`: `d` itself when it has a database entry (checked
/// again once the monitor listens), else the device of the first udev event (not a
/// "remove") for its sysname, as that event carries it; `Err` with the message after
/// `timeout` µs.
fn wait_for_initialization(env: &Env, mut d: Dev, timeout: u64) -> Result<Dev, String> {
    use std::os::fd::AsRawFd;
    if d.is_initialized() {
        return Ok(d);
    }
    let failed = |what: &str, e: std::io::Error| {
        format!("{what}: {}", strerror(e.raw_os_error().unwrap_or(5)))
    };
    let monitor = sys::netlink::UeventSocket::open(sys::netlink::Group::Udev)
        .map_err(|e| failed("Failed to acquire monitor", e))?;
    let mut filter = devproto::monitor::Filter::new();
    if let Some(sub) = d.subsystem() {
        filter.match_subsystem(&sub, None);
    }
    if d.is_initialized() {
        return Ok(d);
    }
    let sysname = d.sysname();
    let deadline = super::wait::Deadline::after(timeout);
    let mut buf = Vec::new();
    loop {
        while let Ok(Some(sender)) = monitor.recv(&mut buf) {
            if sender.uid != 0 || !matches!(filter.accept(&buf), Ok(Some(_))) {
                continue;
            }
            let Some(props) = super::monitor::ordered_properties(&buf) else {
                continue;
            };
            let ev = Dev::from_event(env, &props);
            let action = props
                .iter()
                .find(|(k, _)| k == "ACTION")
                .map(|(_, v)| v.as_str());
            if action != Some("remove") && ev.sysname() == sysname {
                return Ok(ev);
            }
        }
        if deadline.passed() {
            return Err(format!(
                "Failed to wait for device to be initialized: {}",
                strerror(110)
            ));
        }
        let mut fds = [sys::event::PollFd::new(
            monitor.as_raw_fd(),
            sys::event::READABLE,
        )];
        let ms = if deadline.infinite() {
            None
        } else {
            Some(deadline.ms_left(u32::MAX))
        };
        let _ = sys::event::poll(&mut fds, ms);
    }
}

/// Entry point of `devctl info`.
pub fn main(env: &Env, args: &[String], io: &mut Io) -> i32 {
    let p = super::getopt::parse("info", args, "atced:n:p:q:rxP:w::Vh", &LONGS, false);
    let mut devices: Vec<String> = Vec::new();
    let mut action = Action::Query;
    let mut query = Query::All;
    let mut st = Style {
        colors: env.colors,
        ..Style::default()
    };
    let mut id_file = None;
    let mut wait = 0u64;
    for item in p.items {
        let (c, arg) = match item {
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
            Item::Error(e) => return io.fail(e),
        };
        match c {
            ARG_PROPERTY => {
                let names = st.properties.get_or_insert_with(Vec::new);
                names.extend(arg.split(',').filter(|s| !s.is_empty()).map(str::to_string));
            }
            ARG_VALUE => st.value = true,
            ARG_NO_PAGER => {}
            _ => match char::from_u32(c).unwrap_or('?') {
                'n' | 'p' => {
                    let prefix = if c == 'n' as u32 { "/dev" } else { "/sys" };
                    devices.push(
                        if path_below(&arg, prefix).is_some() && arg.starts_with('/') {
                            arg
                        } else {
                            format!("{prefix}/{}", arg.trim_start_matches('/'))
                        },
                    );
                }
                'q' => {
                    action = Action::Query;
                    query = match arg.as_str() {
                        "property" | "env" => Query::Property,
                        "name" => Query::Name,
                        "symlink" => Query::Symlink,
                        "path" => Query::Path,
                        "all" => Query::All,
                        _ => return io.fail("unknown query type"),
                    };
                }
                'r' => st.root = true,
                'd' => {
                    action = Action::DeviceIdFile;
                    id_file = Some(arg);
                }
                'a' => action = Action::AttributeWalk,
                't' => action = Action::Tree,
                'e' => {
                    export_devices(env, io.out);
                    return 0;
                }
                'c' => {
                    cleanup_db(&env.run);
                    return 0;
                }
                'x' => st.export = true,
                'P' => {
                    st.export = true;
                    st.export_prefix = Some(arg);
                }
                'w' => {
                    wait = if arg.is_empty() {
                        USEC_INFINITY
                    } else {
                        match parse_sec(&arg) {
                            Some(t) => t,
                            None => {
                                return io.fail(format!(
                                    "Failed to parse timeout value: {}",
                                    strerror(EINVAL)
                                ))
                            }
                        }
                    };
                }
                'V' => {
                    let _ = writeln!(io.out, "{}", super::VERSION);
                    return 0;
                }
                _ => {
                    let _ = io.out.write_all(HELP.as_bytes());
                    return 0;
                }
            },
        }
    }
    if action == Action::DeviceIdFile {
        if !p.args.is_empty() {
            return io.fail("Positional arguments are not allowed with -d/--device-id-of-file.");
        }
        let name = id_file.unwrap_or_default();
        let Ok(m) = std::fs::metadata(&name) else {
            return 1;
        };
        let (ma, mi) = split_dev(m.dev());
        if st.export {
            let pre = st.export_prefix.as_deref().unwrap_or("INFO_");
            let _ = write!(io.out, "{pre}MAJOR={ma}\n{pre}MINOR={mi}\n");
        } else {
            let _ = writeln!(io.out, "{ma}:{mi}");
        }
        return 0;
    }
    devices.extend(p.args);
    if action != Action::Tree && devices.is_empty() {
        return io.fail("A device name or path is required");
    }
    if matches!(action, Action::AttributeWalk | Action::Tree) && devices.len() > 1 {
        return io.fail("Only one device may be specified with -a/--attribute-walk and -t/--tree");
    }
    if st.export && st.value {
        return io.fail("-x/--export or -P/--export-prefix cannot be used with --value");
    }
    if devices.is_empty() {
        return print_tree(env, None, io);
    }
    let mut ret = 0;
    for name in &devices {
        let mut d = match find_device(env, name, None) {
            Ok(d) => d,
            Err(EINVAL) => {
                io.log(format!(
                    "Bad argument \"{name}\", expected an absolute path in /dev/ or /sys/ or a unit name: {}",
                    strerror(EINVAL)
                ));
                ret = 1;
                continue;
            }
            Err(e) => {
                io.log(format!("Unknown device \"{name}\": {}", strerror(e)));
                ret = 1;
                continue;
            }
        };
        if wait > 0 {
            match wait_for_initialization(env, d, wait) {
                Ok(w) => d = w,
                Err(e) => return io.fail(e),
            }
        }
        match action {
            Action::Query => {
                if let Err(e) = query_device(&mut d, query, &st, io.out) {
                    return io.fail(e);
                }
            }
            Action::AttributeWalk => attribute_walk(env, &mut d, io.out),
            _ => {
                let below = d.clone();
                print_tree(env, Some(&below), io);
            }
        }
    }
    ret
}
