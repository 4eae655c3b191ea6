//! udev's device database (`/run/udev/data/<id>`), device ids, tags and link indexes.
//! To be written.
