//! Differential test of time spans against systemd 252 itself: `systemd-analyze timespan`
//! parses each input with the same parser unit files use (bare numbers are seconds) and
//! prints the value in microseconds and its normalised text. For every input systemd
//! accepts, `parse_timespan` must give the same microseconds and `format_timespan` the same
//! text; every input systemd refuses, `parse_timespan` must refuse too. The inputs are a
//! fixed list of tricky cases plus proptest-generated ones.
//!
//! systemd-analyze is a hard requirement: without it this test fails rather than skips, so a
//! machine that cannot check the behaviour never reports it as checked.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use std::path::Path;
use std::process::Command;
use unitfile::value::{format_timespan, parse_timespan, TimeUnit, Usec};

const SYSTEMD_ANALYZE: &str = "/usr/bin/systemd-analyze";

/// What systemd made of one input: its microseconds and "Human:" text, or `None` if it
/// refused the input.
type Verdict = Option<(Usec, String)>;

/// Runs `systemd-analyze timespan` on all inputs, as few times as possible. It prints one
/// block per input and stops at the first input it refuses, so after a refusal the run
/// continues with the inputs that follow.
fn systemd_verdicts(inputs: &[String]) -> Vec<Verdict> {
    assert!(
        Path::new(SYSTEMD_ANALYZE).exists(),
        "{SYSTEMD_ANALYZE} is missing. This test compares time spans against systemd 252 \
         and cannot pass without it: install it with `apt-get install systemd`."
    );
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(inputs.len());
    while verdicts.len() < inputs.len() {
        let rest = &inputs[verdicts.len()..];
        let out = Command::new(SYSTEMD_ANALYZE)
            .args(["timespan", "--"])
            .args(rest)
            .env("LC_ALL", "C.UTF-8")
            .env("SYSTEMD_COLORS", "0")
            .output()
            .expect("running systemd-analyze");
        let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let blocks = parse_blocks(&stdout);
        assert!(
            blocks.len() <= rest.len(),
            "more blocks than inputs:\n{stdout}"
        );
        for ((original, usec, human), input) in blocks.iter().zip(rest) {
            // systemd echoes the input; it may drop trailing whitespace of the last line.
            assert_eq!(original.trim_end(), input.trim_end(), "blocks out of step");
            verdicts.push(Some((*usec, human.clone())));
        }
        if out.status.success() {
            assert_eq!(blocks.len(), rest.len(), "missing blocks:\n{stdout}");
        } else {
            let refused = &rest[blocks.len()];
            assert!(
                stderr.contains(&format!("Failed to parse time span '{refused}'")),
                "systemd-analyze failed for another reason than refusing {refused:?}: {stderr}"
            );
            verdicts.push(None);
        }
    }
    verdicts
}

/// Splits the output into (Original, μs, Human) triples.
fn parse_blocks(stdout: &str) -> Vec<(String, Usec, String)> {
    let mut blocks = Vec::new();
    let mut lines = stdout.lines();
    while let Some(line) = lines.next() {
        let Some(original) = line.strip_prefix("Original: ") else {
            continue;
        };
        let usec = lines.next().expect("μs line");
        let (label, usec) = usec.trim_start().split_once(": ").expect("μs: N");
        assert!(label == "μs" || label == "us", "unexpected line {usec:?}");
        let human = lines.next().expect("Human line");
        let human = human
            .trim_start()
            .strip_prefix("Human: ")
            .expect("Human: text");
        blocks.push((
            original.to_string(),
            usec.parse().expect("a number of μs"),
            human.to_string(),
        ));
    }
    blocks
}

/// Compares our parser and formatter with systemd's verdicts; returns the disagreements.
fn disagreements(inputs: &[String]) -> Vec<String> {
    let verdicts = systemd_verdicts(inputs);
    let mut problems = Vec::new();
    for (input, verdict) in inputs.iter().zip(verdicts) {
        let ours = parse_timespan(input, TimeUnit::Sec);
        match verdict {
            Some((usec, human)) => {
                if ours != Ok(usec) {
                    problems.push(format!("{input:?}: systemd {usec}, we {ours:?}"));
                }
                let text = format_timespan(usec);
                if text != human {
                    problems.push(format!("{usec}: systemd {human:?}, we {text:?}"));
                }
            }
            None => {
                if let Ok(v) = ours {
                    problems.push(format!("{input:?}: systemd refuses, we give {v}"));
                }
            }
        }
    }
    problems
}

/// Inputs chosen to hit every rule of systemd's parser and formatter.
const FIXED: &[&str] = &[
    // Units and their spellings.
    "1us",
    "1usec",
    "1µs",
    "1μs",
    "1 μs",
    "1ms",
    "1msec",
    "1s",
    "1sec",
    "1second",
    "1seconds",
    "1m",
    "1min",
    "1minute",
    "1minutes",
    "1h",
    "1hr",
    "1hour",
    "1hours",
    "1d",
    "1day",
    "1days",
    "1w",
    "1week",
    "1weeks",
    "1M",
    "1month",
    "1months",
    "1y",
    "1year",
    "1years",
    // Spellings systemd does not know, or only as a prefix.
    "1mins",
    "1secs",
    "1hrs",
    "1Min",
    "1S",
    "1H",
    "5ns",
    "1nsec",
    "1mo",
    "1yr",
    // Components, separators and bare numbers.
    "1min 30s",
    "1min30s",
    "2h 5",
    "5 2h",
    "5 s",
    "1  5",
    "1\t5",
    "\t5s",
    "5s\t",
    "1d 1d",
    "1y1M1w1d1h1m1s1ms1us",
    "1 minute 30 seconds",
    "1hours2",
    "5sec5min",
    "1s1",
    "1s 1 1",
    "0",
    "00012s",
    "010",
    "+5",
    "+5s 1",
    "++5",
    "+-5",
    "- 5",
    "-5",
    "-0",
    "5-",
    "5 -",
    "5s,",
    "1,5s",
    "1_000",
    "0x10",
    "1e3",
    "",
    "   ",
    // Fractions.
    "1.5s",
    "0.5min",
    ".5s",
    "1.5",
    "0.5",
    "1 .5s",
    "1s.5",
    "1.5 s",
    "1.5.3s",
    "5.s",
    ".",
    ".s",
    ".0",
    "3.9999999us",
    "1.123456789s",
    "0.0000001s",
    "0.000001s",
    "1.0001ms",
    "0.5ms",
    "1.00000000000000000000001s",
    "0.99999999999999999999999s",
    "1.5M",
    "0.1y",
    "0.25d",
    "1.5h",
    "3.141592653589793238s",
    "1.5e",
    "59.999999s",
    "60.5s",
    "1min 0.5s",
    "61000001us",
    "1500us",
    // infinity.
    "infinity",
    " infinity ",
    "infinity s",
    "Infinity",
    "infinityx",
    "infinity5",
    "5infinity",
    "1 infinity",
    // Overflow.
    "9223372036854775807us",
    "9223372036854775808us",
    "9223372036854775807",
    "18446744073709551615us",
    "18446744073709s",
    "18446744073709.551614s",
    "18446744073709.551615s",
    "584541y",
    "584542y",
    "213503d 23h 34min 33s 709551us",
    "12345678901234567890",
    "9223372036854775807us 9223372036854775807us",
];

#[test]
fn fixed_inputs_agree_with_systemd() {
    let inputs: Vec<String> = FIXED.iter().map(|s| s.to_string()).collect();
    let problems = disagreements(&inputs);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// One component: a number, possibly fractional or signed, possibly followed by a unit.
fn component() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        6 => "[0-9]{1,4}",
        3 => "[0-9]{1,3}\\.[0-9]{1,8}",
        1 => "\\.[0-9]{1,3}",
        1 => "[0-9]{1,2}\\.",
        1 => "[0-9]{15,20}",
        1 => "[+-][0-9]{1,3}",
    ];
    let space = prop_oneof![4 => Just(""), 2 => Just(" "), 1 => Just("\t")];
    let unit = prop_oneof![
        4 => Just(""),
        20 => prop::sample::select(vec![
            "us", "usec", "µs", "μs", "ms", "msec", "s", "sec", "second", "seconds", "m",
            "min", "minute", "minutes", "h", "hr", "hour", "hours", "d", "day", "days", "w",
            "week", "weeks", "M", "month", "months", "y", "year", "years",
        ]),
        2 => prop::sample::select(vec!["x", "mins", "Min", "S", "ns", "secs", ".", ",", "-"]),
    ];
    (number, space, unit).prop_map(|(n, s, u)| format!("{n}{s}{u}"))
}

/// A whole input: 1-4 components joined by nothing, spaces or tabs, or `infinity`.
fn timespan_text() -> impl Strategy<Value = String> {
    let joined = prop::collection::vec(
        (
            component(),
            prop_oneof![Just(""), Just(" "), Just("  "), Just("\t")],
        ),
        1..=4,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(c, sep)| format!("{c}{sep}"))
            .collect::<String>()
    });
    prop_oneof![
        20 => joined,
        1 => "[ ]?infinity[ s]?",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    // Each case is a batch, so one systemd-analyze run checks many inputs.
    #[test]
    fn generated_inputs_agree_with_systemd(
        inputs in prop::collection::vec(timespan_text(), 64)
    ) {
        let problems = disagreements(&inputs);
        prop_assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    // Formatting any value and parsing the text gives the value back, and systemd formats
    // it the same way.
    #[test]
    fn generated_values_format_like_systemd(
        values in prop::collection::vec(
            // systemd reads "Nus" with strtoll(), so values stop at i64::MAX.
            prop_oneof![0u64..120_000_000, 0u64..1_000_000_000_000, 0u64..=i64::MAX as u64],
            64,
        )
    ) {
        let inputs: Vec<String> = values.iter().map(|v| format!("{v}us")).collect();
        let problems = disagreements(&inputs);
        prop_assert!(problems.is_empty(), "{}", problems.join("\n"));
        for v in values {
            prop_assert_eq!(parse_timespan(&format_timespan(v), TimeUnit::Sec), Ok(v));
        }
    }
}
