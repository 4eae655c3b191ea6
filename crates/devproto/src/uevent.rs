//! The kernel's uevent datagrams (`add@/devices/...\0ACTION=add\0...`). To be written.
