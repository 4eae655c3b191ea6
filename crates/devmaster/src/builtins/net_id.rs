//! The `net_id` builtin. To be written.
