//! The kernel's uevent datagrams (`add@/devices/...\0ACTION=add\0DEVPATH=...\0...`).
//! To be written (the signatures below are the interface).

use std::collections::BTreeMap;

/// One uevent: the kernel's, libudev's re-broadcast or a synthesised one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uevent {
    /// `ACTION`.
    pub action: String,
    /// `DEVPATH` (`/devices/...`).
    pub devpath: String,
    /// Every `KEY=VALUE`, `ACTION`, `DEVPATH`, `SUBSYSTEM` and `SEQNUM` included.
    pub properties: BTreeMap<String, String>,
}

impl Uevent {
    /// `SEQNUM`, when present and a number.
    pub fn seqnum(&self) -> Option<u64> {
        self.properties.get("SEQNUM")?.parse().ok()
    }
}

/// Parses a kernel uevent datagram; the error says what is wrong with it.
pub fn parse(datagram: &[u8]) -> Result<Uevent, String> {
    let _ = datagram;
    Err("uevent parsing is not available yet".into())
}
