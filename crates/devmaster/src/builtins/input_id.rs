//! The `input_id` builtin. To be written.
