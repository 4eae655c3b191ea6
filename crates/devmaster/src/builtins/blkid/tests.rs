//! Unit tests of the blkid builtin.
