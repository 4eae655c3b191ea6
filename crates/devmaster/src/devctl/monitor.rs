//! `devctl monitor` (udevadm 252's `monitor`): print kernel uevents (netlink group 1, only
//! from the kernel) and udev's re-broadcasts (group 2, only from root) as they arrive.
//!
//! Each event is one line as udevadm prints it, `%-6s[%lu.%06lu] %-8s %s (%s)`: the group
//! (`UDEV`/`KERNEL`), the monotonic time of printing, the action, the devpath and the
//! subsystem; with `--property` the event's properties follow in sd-device's order (the
//! message's, `MAJOR`/`MINOR` after the others, then `DEVLINKS`, `TAGS`, `CURRENT_TAGS`,
//! `DEVNAME` made absolute, `UDEV_DATABASE_VERSION` left out) and a blank line.
//! `--subsystem-match=SUBSYSTEM[/DEVTYPE]` and `--tag-match=TAG` filter as sd-device
//! does ([`devproto::monitor::Filter`]). SIGINT and SIGTERM end it with status 0.

use std::collections::BTreeMap;
use std::os::fd::AsRawFd;

use devproto::monitor::Filter;
use sys::netlink::{Group, UeventSocket};

use super::getopt::{long, Arg, Item, Long};
use super::sdev::Dev;
use super::util::strerror;
use super::{Env, Io};

const LONGS: [Long; 8] = [
    long("property", Arg::No, 'p' as u32),
    long("environment", Arg::No, 'e' as u32),
    long("kernel", Arg::No, 'k' as u32),
    long("udev", Arg::No, 'u' as u32),
    long("subsystem-match", Arg::Required, 's' as u32),
    long("tag-match", Arg::Required, 't' as u32),
    long("version", Arg::No, 'V' as u32),
    long("help", Arg::No, 'h' as u32),
];

const HELP: &str = "devctl monitor [OPTIONS]

Listen to kernel and udev events.

  -h --help                                Show this help
  -V --version                             Show package version
  -p --property                            Print the event properties
  -k --kernel                              Print kernel uevents
  -u --udev                                Print udev events
  -s --subsystem-match=SUBSYSTEM[/DEVTYPE] Filter events by subsystem
  -t --tag-match=TAG                       Filter events by tag
";

/// The properties of a message in the order they were sent: a libudev message's property
/// buffer, or a kernel datagram after its `ACTION@DEVPATH` header. Each entry is cut at its
/// first newline, as sd-device cuts it. `None` for what sd-device would not read.
pub fn ordered_properties(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    let body = match devproto::monitor::header(bytes).ok()? {
        Some(h) => {
            let off = usize::try_from(h.properties_off).ok()?;
            let len = usize::try_from(h.properties_len).ok()?;
            bytes.get(off..off.checked_add(len)?)?
        }
        None => {
            let nul = bytes.iter().position(|&b| b == 0)?;
            let head = bytes.get(..nul)?;
            if nul < 4 || !head.windows(2).any(|w| w == b"@/") {
                return None;
            }
            bytes.get(nul + 1..)?
        }
    };
    let mut out = Vec::new();
    for entry in body.split(|&b| b == 0) {
        if entry.is_empty() {
            continue;
        }
        let entry = String::from_utf8_lossy(entry);
        let entry = entry.split('\n').next().unwrap_or_default();
        let (k, v) = entry.split_once('=')?;
        out.push((k.to_string(), v.to_string()));
    }
    Some(out)
}

/// udevadm's text for one received event: the line and, with `properties`, the
/// properties and a blank line.
pub fn format_event(
    env: &Env,
    group: Group,
    now_usec: u64,
    props: &[(String, String)],
    properties: bool,
) -> String {
    let mut d = Dev::from_event(env, props);
    let all = d.properties();
    let get = |k: &str| {
        all.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let mut s = format!(
        "{:<6}[{}.{:06}] {:<8} {} ({})\n",
        if group == Group::Udev {
            "UDEV"
        } else {
            "KERNEL"
        },
        now_usec / 1_000_000,
        now_usec % 1_000_000,
        get("ACTION").unwrap_or("n/a"),
        d.devpath,
        get("SUBSYSTEM").unwrap_or("(null)"),
    );
    if properties {
        for (k, v) in &all {
            s.push_str(&format!("{k}={v}\n"));
        }
        s.push('\n');
    }
    s
}

/// Entry point of `devctl monitor`.
pub fn main(env: &Env, args: &[String], io: &mut Io) -> i32 {
    let p = super::getopt::parse("monitor", args, "pekus:t:Vh", &LONGS, false);
    let (mut props, mut kernel, mut udev) = (false, false, false);
    let mut filter = Filter::new();
    let mut subsystems: BTreeMap<String, Option<String>> = BTreeMap::new();
    for item in p.items {
        let (c, a) = match item {
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
            Item::Error(e) => return io.fail(e),
        };
        match char::from_u32(c).unwrap_or('?') {
            'p' | 'e' => props = true,
            'k' => kernel = true,
            'u' => udev = true,
            's' => {
                let (s, d) = match a.split_once('/') {
                    Some((s, d)) => (s.to_string(), Some(d.to_string())),
                    None => (a.clone(), None),
                };
                // udevadm keeps one devtype per subsystem and fails (silently) on a second.
                if let Some(old) = subsystems.get(&s) {
                    if old.is_some() || d.is_some() {
                        return 1;
                    }
                }
                filter.match_subsystem(&s, d.as_deref());
                subsystems.insert(s, d);
            }
            't' => filter.match_tag(&a),
            'V' => {
                let _ = writeln!(io.out, "{}", super::VERSION);
                return 0;
            }
            _ => {
                let _ = io.out.write_all(HELP.as_bytes());
                return 0;
            }
        }
    }
    if !kernel && !udev {
        kernel = true;
        udev = true;
    }
    if super::util::running_in_chroot() {
        io.log("Running in chroot, ignoring request.");
        return 0;
    }
    // SIGINT and SIGTERM end the loop rather than the process, as in udevadm.
    let signals = sys::event::SignalFd::new(&[2, 15]).ok();
    let _ = writeln!(io.out, "monitor will print the received events for:");
    let mut sockets = Vec::new();
    for (on, group, text) in [
        (
            udev,
            Group::Udev,
            "UDEV - the event which udev sends out after rule processing",
        ),
        (kernel, Group::Kernel, "KERNEL - the kernel uevent"),
    ] {
        if !on {
            continue;
        }
        match UeventSocket::open(group) {
            Ok(s) => sockets.push((group, s)),
            Err(e) => {
                return io.fail(format!(
                    "Failed to create netlink socket: {}",
                    strerror(e.raw_os_error().unwrap_or(5))
                ))
            }
        }
        let _ = writeln!(io.out, "{text}");
    }
    let _ = writeln!(io.out);
    let _ = io.out.flush();
    let mut buf = Vec::new();
    loop {
        let mut fds: Vec<sys::event::PollFd> = sockets
            .iter()
            .map(|(_, s)| sys::event::PollFd::new(s.as_raw_fd(), sys::event::READABLE))
            .collect();
        if let Some(sfd) = &signals {
            fds.push(sys::event::PollFd::new(
                sfd.as_raw_fd(),
                sys::event::READABLE,
            ));
        }
        if let Err(e) = sys::event::poll(&mut fds, None) {
            return io.fail(format!(
                "Failed to run event loop: {}",
                strerror(e.raw_os_error().unwrap_or(5))
            ));
        }
        if let Some(sfd) = &signals {
            if let Ok(Some(_)) = sfd.read() {
                return 0;
            }
        }
        for (group, s) in &sockets {
            loop {
                let sender = match s.recv(&mut buf) {
                    Ok(Some(sender)) => sender,
                    Ok(None) => break,
                    Err(_) => continue,
                };
                let trusted = match group {
                    Group::Kernel => sender.portid == 0,
                    _ => sender.uid == 0,
                };
                if !trusted || !matches!(filter.accept(&buf), Ok(Some(_))) {
                    continue;
                }
                let Some(list) = ordered_properties(&buf) else {
                    continue;
                };
                let text = format_event(env, *group, sys::event::monotonic_usec(), &list, props);
                let _ = io.out.write_all(text.as_bytes());
                let _ = io.out.flush();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_properties_of_both_formats() {
        let k = b"add@/devices/virtual/net/d0\0ACTION=add\0DEVPATH=/devices/virtual/net/d0\0SUBSYSTEM=net\0INTERFACE=d0\nx\0SEQNUM=5\0";
        let p = ordered_properties(k).unwrap();
        assert_eq!(p[3], ("INTERFACE".to_string(), "d0".to_string()));
        assert_eq!(p.len(), 5);
        let mut m = BTreeMap::new();
        for (a, b) in [
            ("ACTION", "add"),
            ("DEVPATH", "/devices/x"),
            ("SUBSYSTEM", "net"),
            ("SEQNUM", "1"),
        ] {
            m.insert(a.to_string(), b.to_string());
        }
        let bytes = devproto::monitor::encode(&m);
        let p = ordered_properties(&bytes).unwrap();
        assert_eq!(p[0].0, "UDEV_DATABASE_VERSION");
        assert!(ordered_properties(b"junk\0A=b\0").is_none());
    }

    proptest::proptest! {
        #[test]
        fn ordered_properties_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = ordered_properties(&bytes);
        }
    }
}
