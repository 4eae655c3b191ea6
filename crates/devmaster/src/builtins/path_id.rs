//! The `path_id` builtin. To be written.
