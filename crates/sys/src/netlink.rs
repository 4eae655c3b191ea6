//! Netlink sockets: kernel uevents, the udev multicast group, rtnetlink link changes.
//! To be written.
