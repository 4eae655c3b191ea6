//! Property-based fuzzing of the whole loading pipeline: random unit files built from
//! every directive systemd knows, with random and hostile values, random drop-ins and
//! random names, must load without a panic, and every diagnostic must name a real line.
//! `PROPTEST_CASES` raises the number of cases for a longer run.

// Test helpers fail the test by panicking; the no-panic rule is for shipped code.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::fs;
use unitfile::load;
use unitfile::lookup::Lookup;
use unitfile::model::known::KNOWN;
use unitfile::name::{UnitName, UnitType};
use unitfile::specifier::HostFacts;

fn directive() -> impl Strategy<Value = (String, String)> {
    let pairs: Vec<(String, String)> = KNOWN
        .iter()
        .flat_map(|(s, keys)| {
            keys.split_whitespace()
                .map(move |k| (s.to_string(), k.to_string()))
        })
        .collect();
    proptest::sample::select(pairs)
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        // Plausible values of every kind.
        proptest::sample::select(vec![
            "",
            "yes",
            "no",
            "0",
            "1",
            "-1",
            "infinity",
            "90s",
            "1min 30s",
            "5ms",
            "10%",
            "4G",
            "0755",
            "SIGTERM",
            "RTMIN+3",
            "/bin/true",
            "-/bin/false a b",
            "@/bin/sh sh -c 'x'",
            "!!/bin/x",
            "+:/bin/y $A ${B}",
            "a.service b.target",
            "foo@%i.service",
            "%n %N %p %m",
            "%",
            "%Z",
            "\"unterminated",
            "A=1 \"B=2 3\"",
            "daily",
            "Mon..Fri 9:00",
            "*-*-* *:*:00",
            "/run/x.sock",
            "127.0.0.1:80",
            "[::1]:631",
            "vsock:2:80",
            "|!/etc/x",
            "soft:hard",
            "1024:4096",
            "~CAP_SYS_ADMIN",
            "@system-service",
            "\\x41\\u00e9\\",
            "\t",
        ])
        .prop_map(str::to_string),
        // Anything at all.
        "\\PC{0,40}",
        "[ -~]{0,40}",
    ]
}

fn unit_text() -> impl Strategy<Value = String> {
    proptest::collection::vec((directive(), value(), any::<u8>()), 0..25).prop_map(|lines| {
        let mut text = String::new();
        let mut section = String::new();
        for ((s, k), v, noise) in lines {
            if s != section {
                text.push_str(&format!("[{s}]\n"));
                section = s;
            }
            match noise % 16 {
                0 => text.push_str(&format!("{k}={v} \\\n# comment\n more\n")),
                1 => text.push_str(&format!("{k}\n")),
                2 => text.push_str(&format!("[{k}\n")),
                3 => text.push_str(&format!("X-{k}={v}\n")),
                _ => text.push_str(&format!("{k}={v}\n")),
            }
        }
        text
    })
}

fn unit_name() -> impl Strategy<Value = String> {
    let types: Vec<&str> = UnitType::ALL.iter().map(|t| t.suffix()).collect();
    (
        proptest::sample::select(vec!["a", "a-b-c", "x@", "x@inst", "x@a\\x2db", "-"]),
        proptest::sample::select(types),
    )
        .prop_map(|(stem, t)| format!("{stem}.{t}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn loading_never_panics(
        name in unit_name(),
        fragment in unit_text(),
        dropins in proptest::collection::vec(unit_text(), 0..3),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        fs::write(dir.join(&name), &fragment).unwrap();
        let d = dir.join(format!("{name}.d"));
        fs::create_dir_all(&d).unwrap();
        for (i, text) in dropins.iter().enumerate() {
            fs::write(d.join(format!("{i:02}.conf")), text).unwrap();
        }
        let lookup = Lookup::new(vec![dir.to_path_buf()]);
        let unit = load::load(&lookup, &UnitName::parse(&name).unwrap(), &HostFacts::default());
        for diag in &unit.diagnostics {
            let lines = fs::read_to_string(&diag.file).map(|t| t.lines().count()).unwrap_or(0);
            // A line continued at the end of the file is numbered one past the last line,
            // as systemd does.
            prop_assert!(diag.line <= lines + 1, "{diag} points past the end of the file");
        }
    }
}
