//! `devctl trigger` (udevadm 252's `trigger`): ask the kernel to replay events by writing
//! an action to each enumerated device's `uevent` file.
//!
//! Devices come from the enumerator ([`super::enumerate`]) with udevadm's options:
//! `--type=devices|subsystems|all`, subsystem, attribute, property, tag, sysname, parent
//! (`--parent-match`, `--name-match`, positional devices) and initialized matches, and
//! `--prioritized-subsystem`. `--verbose` lists each syspath, `--dry-run` writes nothing,
//! `--uuid` writes `ACTION UUID` (the kernel passes it on as `SYNTH_UUID`) and prints the
//! UUID. `--settle` listens on the udev netlink group before writing, writes with a UUID
//! (plain action when the kernel refuses it), and returns once udevd has sent every
//! triggered device back with its UUID. `--wait-daemon[=SECONDS]` first pings the control
//! socket. Write errors are reported as udevadm reports them: a missing `uevent` file
//! quietly, `ENODEV` as a warning, others as errors that set the exit status, a read-only
//! sysfs ends the run.

use std::collections::BTreeMap;
use std::io::Write;

use super::ctrl::{Client, Message};
use super::enumerate::{Enumerator, Initialized, Scan};
use super::getopt::{long, Arg, Item, Long};
use super::sdev::Dev;
use super::util::{find_device, parse_action, parse_sec, strerror};
use super::{Env, Io};

const ARG_NAME: u32 = 0x100;
const ARG_PING: u32 = 0x101;
const ARG_UUID: u32 = 0x102;
const ARG_PRIORITIZED: u32 = 0x103;
const ARG_INIT_MATCH: u32 = 0x104;
const ARG_INIT_NOMATCH: u32 = 0x105;

const LONGS: [Long; 22] = [
    long("verbose", Arg::No, 'v' as u32),
    long("dry-run", Arg::No, 'n' as u32),
    long("quiet", Arg::No, 'q' as u32),
    long("type", Arg::Required, 't' as u32),
    long("action", Arg::Required, 'c' as u32),
    long("subsystem-match", Arg::Required, 's' as u32),
    long("subsystem-nomatch", Arg::Required, 'S' as u32),
    long("attr-match", Arg::Required, 'a' as u32),
    long("attr-nomatch", Arg::Required, 'A' as u32),
    long("property-match", Arg::Required, 'p' as u32),
    long("tag-match", Arg::Required, 'g' as u32),
    long("sysname-match", Arg::Required, 'y' as u32),
    long("name-match", Arg::Required, ARG_NAME),
    long("parent-match", Arg::Required, 'b' as u32),
    long("initialized-match", Arg::No, ARG_INIT_MATCH),
    long("initialized-nomatch", Arg::No, ARG_INIT_NOMATCH),
    long("settle", Arg::No, 'w' as u32),
    long("wait-daemon", Arg::Optional, ARG_PING),
    long("version", Arg::No, 'V' as u32),
    long("help", Arg::No, 'h' as u32),
    long("uuid", Arg::No, ARG_UUID),
    long("prioritized-subsystem", Arg::Required, ARG_PRIORITIZED),
];

const HELP: &str = "devctl trigger [OPTIONS] DEVPATH

Request events from the kernel.

  -h --help                         Show this help
  -V --version                      Show package version
  -v --verbose                      Print the list of devices while running
  -n --dry-run                      Do not actually trigger the events
  -q --quiet                        Suppress error logging in triggering events
  -t --type=                        Type of events to trigger
          devices                     sysfs devices (default)
          subsystems                  sysfs subsystems and drivers
  -c --action=ACTION|help           Event action value, default is \"change\"
  -s --subsystem-match=SUBSYSTEM    Trigger devices from a matching subsystem
  -S --subsystem-nomatch=SUBSYSTEM  Exclude devices from a matching subsystem
  -a --attr-match=FILE[=VALUE]      Trigger devices with a matching attribute
  -A --attr-nomatch=FILE[=VALUE]    Exclude devices with a matching attribute
  -p --property-match=KEY=VALUE     Trigger devices with a matching property
  -g --tag-match=TAG                Trigger devices with a matching tag
  -y --sysname-match=NAME           Trigger devices with this /sys path
     --name-match=NAME              Trigger devices with this /dev name
  -b --parent-match=NAME            Trigger devices with that parent device
     --initialized-match            Trigger devices that are already initialized
     --initialized-nomatch          Trigger devices that are not initialized yet
  -w --settle                       Wait for the triggered events to complete
     --wait-daemon[=SECONDS]        Wait for udevd daemon to be initialized
                                    before triggering uevents
     --uuid                         Print synthetic uevent UUID
     --prioritized-subsystem=SUBSYSTEM[,SUBSYSTEM…]
                                    Trigger devices from a matching subsystem first
";

/// What `devctl trigger` was asked to do.
#[derive(Debug, Clone)]
pub struct Request {
    /// The enumeration.
    pub enumerator: Enumerator,
    /// `--type`.
    pub scan: Scan,
    /// `--action`.
    pub action: &'static str,
    /// `--verbose`.
    pub verbose: bool,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--quiet`.
    pub quiet: bool,
    /// `--uuid`.
    pub uuid: bool,
    /// `--settle`.
    pub settle: bool,
    /// `--wait-daemon` timeout in µs.
    pub ping: Option<u64>,
}

fn keyval(s: &str) -> (&str, Option<&str>) {
    match s.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (s, None),
    }
}

/// Parses `devctl trigger`'s arguments: the request, or the exit status to return now.
pub fn parse(env: &Env, args: &[String], io: &mut Io) -> Result<Request, i32> {
    let p = super::getopt::parse("trigger", args, "vnqt:c:s:S:a:A:p:g:y:b:wVh", &LONGS, false);
    let mut r = Request {
        enumerator: Enumerator::default(),
        scan: Scan::Devices,
        action: "change",
        verbose: false,
        dry_run: false,
        quiet: false,
        uuid: false,
        settle: false,
        ping: None,
    };
    let e = &mut r.enumerator;
    for item in p.items {
        let (c, a) = match item {
            Item::Opt(c, a) => (c, a),
            Item::Error(msg) => return Err(io.fail(msg)),
        };
        let arg = a.clone().unwrap_or_default();
        match c {
            ARG_NAME => match find_device(env, &arg, Some("/dev")) {
                Ok(d) => e.add_match_parent(&d.syspath),
                Err(err) => {
                    return Err(io.fail(format!(
                        "Failed to open the device '{arg}': {}",
                        strerror(err)
                    )))
                }
            },
            ARG_PING => {
                let mut t = 5_000_000;
                if let Some(v) = &a {
                    match parse_sec(v) {
                        Some(s) => t = s,
                        None => io.log(format!(
                            "Failed to parse timeout value '{v}', ignoring: {}",
                            strerror(22)
                        )),
                    }
                }
                r.ping = Some(t);
            }
            ARG_UUID => r.uuid = true,
            ARG_PRIORITIZED => {
                for s in arg.split(',').filter(|s| !s.is_empty()) {
                    e.add_prioritized_subsystem(s);
                }
            }
            ARG_INIT_MATCH => e.initialized = Initialized::Yes,
            ARG_INIT_NOMATCH => e.initialized = Initialized::No,
            _ => match char::from_u32(c).unwrap_or('?') {
                'v' => r.verbose = true,
                'n' => r.dry_run = true,
                'q' => r.quiet = true,
                't' => {
                    r.scan = match arg.as_str() {
                        "devices" => Scan::Devices,
                        "subsystems" => Scan::Subsystems,
                        "all" => Scan::All,
                        _ => return Err(io.fail(format!("Unknown type --type={arg}"))),
                    }
                }
                'c' => match parse_action(&arg, io.out) {
                    Ok(Some(act)) => r.action = act,
                    Ok(None) => return Err(0),
                    Err(_) => return Err(io.fail(format!("Unknown action '{arg}'"))),
                },
                's' => e.add_match_subsystem(&arg, true),
                'S' => e.add_match_subsystem(&arg, false),
                'a' | 'A' => {
                    let (k, v) = keyval(&arg);
                    e.add_match_sysattr(k, v, c == 'a' as u32);
                }
                'p' => {
                    let (k, v) = keyval(&arg);
                    e.add_match_property(k, v);
                }
                'g' => e.add_match_tag(&arg),
                'y' => e.add_match_sysname(&arg),
                'b' => match find_device(env, &arg, Some("/sys")) {
                    Ok(d) => e.add_match_parent(&d.syspath),
                    Err(err) => {
                        return Err(io.fail(format!(
                            "Failed to open the device '{arg}': {}",
                            strerror(err)
                        )))
                    }
                },
                'w' => r.settle = true,
                'V' => {
                    let _ = writeln!(io.out, "{}", super::VERSION);
                    return Err(0);
                }
                _ => {
                    let _ = io.out.write_all(HELP.as_bytes());
                    return Err(0);
                }
            },
        }
    }
    for a in &p.args {
        match find_device(env, a, None) {
            Ok(d) => r.enumerator.add_match_parent(&d.syspath),
            Err(err) => {
                return Err(io.fail(format!(
                    "Failed to open the device '{a}': {}",
                    strerror(err)
                )))
            }
        }
    }
    Ok(r)
}

/// A random (version 4) UUID, as `sd_id128_randomize` makes them.
fn random_uuid() -> Option<String> {
    use std::io::Read;
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .ok()?
        .read_exact(&mut b)
        .ok()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8)?,
        h.get(8..12)?,
        h.get(12..16)?,
        h.get(16..20)?,
        h.get(20..32)?
    ))
}

fn write_uevent(env: &Env, d: &Dev, value: &str) -> Result<(), i32> {
    let path = d.dir().join("uevent");
    let _ = env;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| e.raw_os_error().unwrap_or(5))?;
    f.write_all(value.as_bytes())
        .map_err(|e| e.raw_os_error().unwrap_or(5))
}

/// The devices to trigger, in order.
pub fn devices(env: &Env, r: &Request) -> Vec<Dev> {
    r.enumerator.scan(env, r.scan)
}

/// Entry point of `devctl trigger`.
pub fn main(env: &Env, args: &[String], io: &mut Io) -> i32 {
    if super::util::running_in_chroot() {
        io.log("Running in chroot, ignoring request.");
        return 0;
    }
    let r = match parse(env, args, io) {
        Ok(r) => r,
        Err(code) => return code,
    };
    if let Some(timeout) = r.ping {
        let mut c = Client::new(&env.control());
        if let Err(e) = c.send(&Message::Ping) {
            return io.fail(format!(
                "Failed to connect to udev daemon: {}",
                strerror(e.raw_os_error().unwrap_or(5))
            ));
        }
        if let Err(e) = c.wait(timeout) {
            return io.fail(format!(
                "Failed to wait for daemon to reply: {}",
                strerror(e.raw_os_error().unwrap_or(5))
            ));
        }
    }
    let monitor = if r.settle {
        match sys::netlink::UeventSocket::open(sys::netlink::Group::Udev) {
            Ok(m) => Some(m),
            Err(e) => {
                return io.fail(format!(
                    "Failed to create device monitor object: {}",
                    strerror(e.raw_os_error().unwrap_or(5))
                ))
            }
        }
    } else {
        None
    };
    // syspath → the UUID written (None: the kernel took no UUID).
    let mut pending: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut skip_uuid = false;
    let mut ret = 0;
    for d in devices(env, &r) {
        if r.verbose {
            let _ = writeln!(io.out, "{}", d.syspath);
        }
        if r.dry_run {
            continue;
        }
        let want_uuid = (r.uuid || r.settle) && !skip_uuid;
        let uuid = if want_uuid { random_uuid() } else { None };
        let mut result = match &uuid {
            Some(u) => write_uevent(env, &d, &format!("{} {u}", r.action)),
            None => write_uevent(env, &d, r.action),
        };
        let mut used_uuid = uuid.clone();
        if result == Err(22) && !r.uuid && r.settle && uuid.is_some() {
            // A kernel before 4.13 knows no UUIDs: try the plain action.
            result = write_uevent(env, &d, r.action);
            if result != Err(22) {
                skip_uuid = true;
            }
            used_uuid = None;
        }
        if let Err(errno) = result {
            let ignore = matches!(errno, 2 | 19);
            let shown = !r.quiet && errno != 2;
            if shown {
                io.log(format!(
                    "{}: Failed to write '{}' to '{}/uevent'{}: {}",
                    d.sysname(),
                    r.action,
                    d.syspath,
                    if ignore { ", ignoring" } else { "" },
                    strerror(errno)
                ));
            }
            if errno == 30 {
                return 1;
            }
            if !ignore {
                ret = 1;
            }
            continue;
        }
        if r.uuid {
            if let Some(u) = &used_uuid {
                let _ = writeln!(io.out, "{u}");
            }
        }
        if r.settle {
            pending.insert(d.syspath.clone(), used_uuid);
        }
    }
    if let Some(m) = monitor {
        settle(&m, &mut pending, &r, io);
    }
    ret
}

/// Waits for udevd's broadcast of every pending device (with the UUID written, when one
/// was), as udevadm's monitor handler does.
fn settle(
    m: &sys::netlink::UeventSocket,
    pending: &mut BTreeMap<String, Option<String>>,
    r: &Request,
    io: &mut Io,
) {
    use std::os::fd::AsRawFd;
    let mut buf = Vec::new();
    while !pending.is_empty() {
        let mut fds = [sys::event::PollFd::new(m.as_raw_fd(), sys::event::READABLE)];
        if sys::event::poll(&mut fds, None).is_err() {
            return;
        }
        while let Ok(Some(sender)) = m.recv(&mut buf) {
            if sender.uid != 0 {
                continue;
            }
            let Ok(ev) = devproto::monitor::decode(&buf) else {
                continue;
            };
            let syspath = format!("/sys{}", ev.devpath);
            let Some(want) = pending.get(&syspath) else {
                continue;
            };
            if let Some(u) = want {
                if ev.property("SYNTH_UUID") != Some(u.as_str()) {
                    continue;
                }
            }
            if r.verbose {
                let _ = writeln!(io.out, "settle {syspath}");
            }
            if r.uuid {
                let _ = writeln!(
                    io.out,
                    "settle {}",
                    want.clone()
                        .unwrap_or_else(|| "00000000-0000-0000-0000-000000000000".into())
                );
            }
            pending.remove(&syspath);
        }
    }
}
