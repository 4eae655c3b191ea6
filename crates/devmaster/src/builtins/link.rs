//! The `link` builtin. To be written.
