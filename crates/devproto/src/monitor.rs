//! libudev's netlink message format (the "udev" multicast group, group 2).
//! To be written (the signatures below are the interface).

use std::collections::BTreeMap;

use crate::uevent::Uevent;

/// Encodes a processed device's properties (`ACTION`, `DEVPATH`, `SUBSYSTEM`, `SEQNUM`,
/// `DEVTYPE`, `TAGS`, ... included) as libudev sends them to the udev group.
pub fn encode(properties: &BTreeMap<String, String>) -> Vec<u8> {
    let _ = properties;
    Vec::new()
}

/// Decodes a libudev message (or, as libudev also accepts, a kernel datagram).
pub fn decode(bytes: &[u8]) -> Result<Uevent, String> {
    let _ = bytes;
    Err("libudev message decoding is not available yet".into())
}
