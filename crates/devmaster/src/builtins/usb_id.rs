//! The `usb_id` builtin. To be written.
