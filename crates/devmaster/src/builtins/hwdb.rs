//! The `hwdb` builtin. To be written.
