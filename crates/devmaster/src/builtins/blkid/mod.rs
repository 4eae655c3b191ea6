//! The `blkid` builtin: file system and partition table probing in pure Rust. To be written.
