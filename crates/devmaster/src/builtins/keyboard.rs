//! The `keyboard` builtin. To be written.
