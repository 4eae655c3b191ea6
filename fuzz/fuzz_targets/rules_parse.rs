//! A rules file of arbitrary bytes: the parser must give lines and diagnostics, never
//! panic, and every diagnostic must name the file and a line of it (lines end, as udev
//! reads them, at `\n`, `\r` or NUL; one more for a file cut off as too long).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let file = devmaster::rules::syntax::parse("fuzz.rules", data);
    let lines = data
        .iter()
        .filter(|&&b| matches!(b, b'\n' | b'\r' | 0))
        .count()
        + 2;
    for d in &file.diagnostics {
        assert_eq!(d.file, "fuzz.rules");
        assert!(d.line <= lines, "line {} of {lines}", d.line);
        let _ = d.to_string();
    }
});
