//! What PID 1 hands to its next image when it re-executes: a text file (in a memfd) of
//! `KEY VALUE` lines, messages as the init link's own JSON. The descriptors it names
//! (the link, the stored fds) are inherited under the same numbers. Unknown lines are
//! reported and skipped, so that an older or newer image can still read it.

use crate::exits::ExitRecord;
use proto::init::{decode, encode, InitRequest, ToManager};

const HEADER: &str = "sysmaster-init-state 1";

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Saved {
    pub container: bool,
    pub starts: u64,
    pub ping_seq: u64,
    pub last_seq: u64,
    pub dropped: u64,
    pub exits: Vec<ExitRecord>,
    /// (descriptor number, name).
    pub fds: Vec<(i32, String)>,
    pub pending: Option<InitRequest>,
    pub shutdown: Option<InitRequest>,
    /// The running manager's pid, and whether it announced `Restarting`.
    pub manager: Option<u32>,
    pub restarting: bool,
    /// Its link's descriptor, the highest exit `seq` sent on it, and the messages not
    /// sent yet (each with its barrier, see `link`).
    pub link: Option<i32>,
    pub sent_upto: u64,
    pub queue: Vec<(u64, ToManager)>,
}

fn json(m: &ToManager) -> String {
    encode(m)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

fn request(r: InitRequest) -> String {
    json(&ToManager::Request { request: r })
}

pub fn encode_state(s: &Saved) -> String {
    let mut out = format!("{HEADER}\ncontainer {}\n", u8::from(s.container));
    out += &format!("starts {}\nping_seq {}\n", s.starts, s.ping_seq);
    out += &format!("exits {} {}\n", s.last_seq, s.dropped);
    for r in &s.exits {
        out += &format!("exit {}\n", json(&r.message()));
    }
    for (fd, name) in &s.fds {
        out += &format!(
            "fd {fd} {}\n",
            json(&ToManager::StoredFd { name: name.clone() })
        );
    }
    if let Some(r) = s.pending {
        out += &format!("pending {}\n", request(r));
    }
    if let Some(r) = s.shutdown {
        out += &format!("shutdown {}\n", request(r));
    }
    if let Some(pid) = s.manager {
        out += &format!("manager {pid} {}\n", u8::from(s.restarting));
    }
    if let Some(fd) = s.link {
        out += &format!("link {fd} {}\n", s.sent_upto);
    }
    for (after, msg) in &s.queue {
        out += &format!("queue {after} {}\n", json(msg));
    }
    out
}

/// Reads the state back; the error names the first line that made no sense, which is
/// then skipped.
pub fn decode_state(text: &str) -> (Option<Saved>, Vec<String>) {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return (None, vec!["saved state has no known header".to_string()]);
    }
    let (mut s, mut warnings) = (Saved::default(), Vec::new());
    for line in lines {
        if decode_line(&mut s, line).is_none() {
            warnings.push(format!("saved state: bad line '{line}' skipped"));
        }
    }
    (Some(s), warnings)
}

fn decode_line(s: &mut Saved, line: &str) -> Option<()> {
    let (key, rest) = line.split_once(' ')?;
    let number = |t: &str| t.parse::<u64>().ok();
    let two = || {
        let (a, b) = rest.split_once(' ')?;
        Some((a, b))
    };
    let req = |t: &str| match decode::<ToManager>(t.as_bytes()).ok()? {
        ToManager::Request { request } => Some(request),
        _ => None,
    };
    match key {
        "container" => s.container = rest == "1",
        "starts" => s.starts = number(rest)?,
        "ping_seq" => s.ping_seq = number(rest)?,
        "exits" => {
            let (a, b) = two()?;
            (s.last_seq, s.dropped) = (number(a)?, number(b)?);
        }
        "exit" => s
            .exits
            .push(ExitRecord::from_message(&decode(rest.as_bytes()).ok()?)?),
        "fd" => {
            let (fd, m) = two()?;
            let ToManager::StoredFd { name } = decode(m.as_bytes()).ok()? else {
                return None;
            };
            s.fds.push((fd.parse().ok()?, name));
        }
        "pending" => s.pending = Some(req(rest)?),
        "shutdown" => s.shutdown = Some(req(rest)?),
        "manager" => {
            let (pid, restarting) = two()?;
            (s.manager, s.restarting) = (Some(pid.parse().ok()?), restarting == "1");
        }
        "link" => {
            let (fd, sent) = two()?;
            (s.link, s.sent_upto) = (Some(fd.parse().ok()?), number(sent)?);
        }
        "queue" => {
            let (after, m) = two()?;
            s.queue.push((number(after)?, decode(m.as_bytes()).ok()?));
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::init::ExitKind;

    #[test]
    fn state_round_trips_and_bad_lines_are_skipped() {
        let s = Saved {
            container: true,
            starts: 3,
            ping_seq: 17,
            last_seq: 9,
            dropped: 2,
            exits: vec![ExitRecord {
                seq: 8,
                pid: 44,
                start_time: 123,
                kind: ExitKind::Killed,
                status: 9,
            }],
            fds: vec![(7, "a name with spaces\nand a newline".into())],
            pending: Some(InitRequest::KbRequest),
            shutdown: Some(InitRequest::Reboot),
            manager: Some(12),
            restarting: true,
            link: Some(5),
            sent_upto: 7,
            queue: vec![(9, ToManager::HelloDone), (9, ToManager::Ping { seq: 17 })],
        };
        let text = encode_state(&s);
        assert_eq!(decode_state(&text), (Some(s.clone()), vec![]));
        let (got, warnings) = decode_state(&format!("{text}future thing\nstarts x\n"));
        assert_eq!(got, Some(s));
        assert_eq!(warnings.len(), 2);
        assert_eq!(decode_state("garbage\n").0, None);
    }
}
