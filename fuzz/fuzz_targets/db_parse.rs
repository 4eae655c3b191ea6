//! A database entry of arbitrary bytes (`/run/udev/data/*` is readable by anyone who can
//! write there): reading must never panic, and what the writer makes of the entry read
//! must read back to the same entry.
#![no_main]

use devproto::db::{parse, to_bytes};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let entry = parse(data);
    if let Some(bytes) = to_bytes(&entry, true, true) {
        let again = parse(&bytes);
        assert_eq!(to_bytes(&again, true, true), Some(bytes));
    }
});
