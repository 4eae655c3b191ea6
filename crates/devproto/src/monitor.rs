//! libudev's netlink message format (the "udev" multicast group). To be written.
