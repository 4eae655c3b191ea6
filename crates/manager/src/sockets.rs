//! Socket units: opening the listening sockets of `ListenStream=`/`ListenDatagram=` and
//! what the daemon keeps of a socket unit ([`SocketRuntime`]). The state machine is
//! `units::socket`; the daemon runs its effects (see `Daemon::socket_event`).
//!
//! Supported: `ListenStream=` and `ListenDatagram=` on a file-system `AF_UNIX` path, a port,
//! or an address and port; `SocketMode=`, `DirectoryMode=`, `RemoveOnStop=`,
//! `FileDescriptorName=`, `Service=`; `Accept=no`. Anything else is refused at start with a
//! message naming it (the unit fails), rather than half-done.

use std::net::{TcpListener, UdpSocket};
use std::os::fd::OwnedFd;
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::path::Path;
use unitfile::model::types::{Listen, SocketAddress};

/// A socket unit's live part.
#[derive(Debug, Default)]
pub struct SocketRuntime {
    pub machine: units::socket::Socket,
    /// The listening sockets, in `Listen*=` order.
    pub fds: Vec<OwnedFd>,
    /// Whether the manager polls them (`listening`) or the service owns them (`running`).
    pub watching: bool,
}

fn describe(listen: &Listen) -> String {
    match listen {
        Listen::Stream(a) => format!("ListenStream={}", address(a)),
        Listen::Datagram(a) => format!("ListenDatagram={}", address(a)),
        Listen::SequentialPacket(a) => format!("ListenSequentialPacket={}", address(a)),
        Listen::Fifo(p) => format!("ListenFIFO={p}"),
        Listen::Special(p) => format!("ListenSpecial={p}"),
        Listen::Netlink { family, group } => format!("ListenNetlink={family} {group}"),
        Listen::MessageQueue(p) => format!("ListenMessageQueue={p}"),
        Listen::UsbFunction(p) => format!("ListenUSBFunction={p}"),
    }
}

/// The address as written in a unit file.
pub fn address(a: &SocketAddress) -> String {
    match a {
        SocketAddress::Unix(p) => p.clone(),
        SocketAddress::Abstract(n) => format!("@{n}"),
        SocketAddress::Port(p) => p.to_string(),
        SocketAddress::Inet(s) => s.to_string(),
        SocketAddress::Vsock { cid, port } => match cid {
            Some(c) => format!("vsock:{c}:{port}"),
            None => format!("vsock::{port}"),
        },
    }
}

/// Makes the parent directories of a socket path (`DirectoryMode=`, default 0755) and
/// removes a stale socket file left behind.
fn prepare_path(path: &str, directory_mode: u32) -> Result<(), String> {
    let p = Path::new(path);
    if let Some(parent) = p.parent() {
        if !parent.exists() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(directory_mode)
                .create(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
    }
    match std::fs::symlink_metadata(p) {
        Ok(m) if std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()) => {
            std::fs::remove_file(p).map_err(|e| format!("cannot remove stale {path}: {e}"))
        }
        _ => Ok(()),
    }
}

fn chmod(path: &str, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot chmod {path}: {e}"))
}

fn open_one(listen: &Listen, socket: &unitfile::model::Socket) -> Result<OwnedFd, String> {
    let what = describe(listen);
    let socket_mode = socket.socket_mode.unwrap_or(0o666);
    let directory_mode = socket.directory_mode.unwrap_or(0o755);
    let fail = |e: std::io::Error| format!("{what}: {e}");
    match listen {
        Listen::Stream(SocketAddress::Unix(p)) => {
            prepare_path(p, directory_mode)?;
            let l = UnixListener::bind(p).map_err(fail)?;
            chmod(p, socket_mode)?;
            Ok(l.into())
        }
        Listen::Datagram(SocketAddress::Unix(p)) => {
            prepare_path(p, directory_mode)?;
            let l = UnixDatagram::bind(p).map_err(fail)?;
            chmod(p, socket_mode)?;
            Ok(l.into())
        }
        // Every address: IPv6 with IPv4 mapped where the kernel allows, else IPv4 alone.
        Listen::Stream(SocketAddress::Port(port)) => TcpListener::bind(("::", *port))
            .or_else(|_| TcpListener::bind(("0.0.0.0", *port)))
            .map(Into::into)
            .map_err(fail),
        Listen::Stream(SocketAddress::Inet(a)) => {
            TcpListener::bind(a).map(Into::into).map_err(fail)
        }
        Listen::Datagram(SocketAddress::Port(port)) => UdpSocket::bind(("::", *port))
            .or_else(|_| UdpSocket::bind(("0.0.0.0", *port)))
            .map(Into::into)
            .map_err(fail),
        Listen::Datagram(SocketAddress::Inet(a)) => {
            UdpSocket::bind(a).map(Into::into).map_err(fail)
        }
        _ => Err(format!("{what} is not supported yet")),
    }
}

/// Opens every listening socket of the unit, all or none.
pub fn open_listeners(socket: &unitfile::model::Socket) -> Result<Vec<OwnedFd>, String> {
    if socket.accept == Some(true) {
        return Err("Accept=yes is not supported yet".into());
    }
    if socket.listen.is_empty() {
        return Err("no Listen*= setting".into());
    }
    socket.listen.iter().map(|l| open_one(l, socket)).collect()
}

/// `RemoveOnStop=yes`: the socket files go when the unit stops.
pub fn remove_files(socket: &unitfile::model::Socket) {
    if socket.remove_on_stop != Some(true) {
        return;
    }
    for l in &socket.listen {
        if let Listen::Stream(SocketAddress::Unix(p)) | Listen::Datagram(SocketAddress::Unix(p)) = l
        {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// `FileDescriptorName=`, by default the socket unit's name.
pub fn fd_name(socket: &unitfile::model::Socket, unit: &str) -> String {
    socket
        .file_descriptor_name
        .clone()
        .unwrap_or_else(|| unit.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(listen: Vec<Listen>) -> unitfile::model::Socket {
        unitfile::model::Socket {
            listen,
            ..Default::default()
        }
    }

    #[test]
    fn unix_stream_sockets_are_made_with_their_mode_and_directory() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("sub/s.sock").display().to_string();
        let mut s = socket(vec![Listen::Stream(SocketAddress::Unix(path.clone()))]);
        s.socket_mode = Some(0o600);
        let fds = open_listeners(&s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fds.len(), 1);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600);
        // A client can connect although nobody accepts yet.
        assert!(std::os::unix::net::UnixStream::connect(&path).is_ok());
        // A stale file from an earlier run does not stop the next bind.
        drop(fds);
        assert!(open_listeners(&s).is_ok());
        s.remove_on_stop = Some(true);
        remove_files(&s);
        assert!(!Path::new(&path).exists());
    }

    #[test]
    fn unsupported_settings_are_refused_by_name() {
        let mut s = socket(vec![Listen::Fifo("/run/f".into())]);
        assert_eq!(
            open_listeners(&s).err().as_deref(),
            Some("ListenFIFO=/run/f is not supported yet")
        );
        s.accept = Some(true);
        assert_eq!(
            open_listeners(&s).err().as_deref(),
            Some("Accept=yes is not supported yet")
        );
        assert_eq!(
            open_listeners(&socket(vec![])).err().as_deref(),
            Some("no Listen*= setting")
        );
        assert_eq!(fd_name(&socket(vec![]), "a.socket"), "a.socket");
    }

    #[test]
    fn a_port_in_use_is_an_error_naming_the_setting() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let addr = taken.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let s = socket(vec![Listen::Stream(SocketAddress::Inet(addr))]);
        let e = open_listeners(&s).err().unwrap_or_default();
        assert!(e.starts_with(&format!("ListenStream={addr}: ")), "{e}");
    }
}
