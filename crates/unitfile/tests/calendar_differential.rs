//! Differential test of `unitfile::calendar` against systemd 252 itself: every input below
//! is given to `systemd-analyze calendar` (under `TZ=UTC`, with a fixed `--base-time=` and
//! `--iterations=`), and the parser must agree on acceptance, on the "Normalized form" and
//! on the printed elapses (systemd prints them to the second).
//!
//! The test needs `/usr/bin/systemd-analyze`; without it, it fails rather than pass
//! silently.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::Command;

use unitfile::calendar::parse_calendar;

const ANALYZE: &str = "/usr/bin/systemd-analyze";
const ITERATIONS: usize = 4;

/// Inputs evaluated from one base time, given in seconds since the epoch with an optional
/// fraction (as `--base-time=@...` takes it).
struct Batch {
    base: &'static str,
    inputs: &'static [&'static str],
}

const BATCHES: &[Batch] = &[
    // 2024-01-01 21:00:00 UTC, a Monday: syntax, normal forms, rejections.
    Batch {
        base: "1704142800",
        inputs: &[
            "Sat,Thu,Mon..Wed,Sat..Sun",
            "Mon,Sun 12-*-* 2,1:23",
            "Wed *-1",
            "Wed..Wed,Wed *-1",
            "Wed, 17:48",
            "Wed..Sat,Tue 12-10-15 1:2:3",
            "*-*-7 0:0:0",
            "10-15",
            "monday *-12-* 17:00",
            "Mon,Fri *-*-3,1,2 *:30:45",
            "12,14,13,12:20,10,30",
            "12..14:10,20,30",
            "mon,fri *-1/2-1,3 *:30:45",
            "03-05 08:05:40",
            "Sat,Sun 12-05 08:05:40",
            "05:40:23.4200004/3.1700005",
            "2003-02..04-05",
            "2003-03-05 05:40 UTC",
            "*:2/3",
            "minutely",
            "hourly",
            "daily",
            "DAILY",
            "daily UTC",
            "weekly utc",
            "monthly",
            "weekly",
            "yearly",
            "annually",
            "anually",
            "quarterly",
            "semiannually",
            "semi-annually",
            "biannually",
            "bi-annually",
            "Mon",
            "Mon,",
            "Mon ",
            "Mon-Wed",
            "Mon..Sun",
            "Friday..Sunday 23:59:59",
            "2003-03-05 ",
            "0/5:00",
            "1..8/3:00",
            "3..3:00",
            "1..5/10:00",
            "*-*-1..5/10",
            "1,1,1:00",
            "*:*:*",
            "*:*:0/1,5",
            "*:*:1..3",
            "*:*:10.5..11/0.25",
            "*:*:5.1234565",
            "00-01-01",
            "69-1-1",
            "70-1-1",
            "2199-12-31",
            "*-*-* 0/23:00",
            "*-*-1/30",
            "*-02~1..3",
            "*-*~28",
            "2024-01~5",
            "@1700000000",
            "@ 5",
            "@+5",
            "@-0",
            "@7258118399",
            "Mon @0",
            "@5 Europe/Berlin",
            "12:00 Etc/GMT+5",
            "weekly Pacific/Auckland",
            // Rejected by systemd.
            "*",
            "*,5",
            " Mon",
            "Mo",
            "Mond",
            "Sun..Mon",
            "Mon..",
            "Mon..Wed-Fri",
            "now",
            "today",
            "midnight",
            "UTC",
            "daily  UTC",
            "12:00 ",
            "12:00 europe/berlin",
            "12:00 Europe//Berlin",
            "12:00 Europe/Berlin/",
            "12",
            "12:00:00:00",
            "*-*-~1",
            "*-*~29",
            "*-*-5..3",
            "*:*:10.5..11",
            "*:*:5.",
            "*:*:59.9999996",
            "*-*-* 12:00:60",
            "12:00:00.5/0",
            "*-*-* 0/24:00",
            "*-*-31/1",
            "*-*-2/30",
            "*-13-01",
            "100-1-1",
            "2200-01-01",
            "12.5:00",
            "@-1",
            "@5.5",
            "@7258118400",
        ],
    },
    // 2024-01-31 21:00:00 UTC: month ends and overflow into the next month.
    Batch {
        base: "1706734800",
        inputs: &[
            "0/5:00",
            "*:0/13",
            "*-*~1",
            "*-*~1..3/2",
            "*-02~03",
            "Fri *-*~07/1 18:00",
            "Mon *-05~07/1",
            "*-*-29,30,31",
            "*-02-29",
            "*-*-31 12:00",
            "Sat *-*-13",
        ],
    },
    // 2024-12-20 23:53:00 UTC: overflow into the next year.
    Batch {
        base: "1734738780",
        inputs: &[
            "*-*-1/16",
            "*-1/5-01",
            "*:0/13",
            "*-12-31 23:59:59",
            "Wed..Fri 0/7:0/29",
        ],
    },
    // 2024-01-01 12:00:59.6 UTC: fractions of seconds.
    Batch {
        base: "1704110459.6",
        inputs: &["*:*:0/0.7", "*:*:0/0.1", "*:*:59.5", "12:01:00.25,30.75"],
    },
    // 2024-10-27 00:00:00 UTC: clocks go back in Europe (02:00 CEST is 00:00 UTC).
    Batch {
        base: "1729987200",
        inputs: &[
            "*-*-* 02:30 Europe/Berlin",
            "*-*-* *:30 Europe/Berlin",
            "*-*-* 2:*:00 Europe/Berlin",
            "*-*-* 02:30 Europe/London",
            "*-11-03 01:30 America/New_York",
            "daily Australia/Sydney",
        ],
    },
    // 2024-10-27 01:15:00 UTC: inside the second pass of the repeated hour in Berlin.
    Batch {
        base: "1729991700",
        inputs: &["*-*-* *:30 Europe/Berlin", "*-*-* 2:20:00 Europe/Berlin"],
    },
    // 2024-03-30 23:00:00 UTC: clocks go forward in Europe.
    Batch {
        base: "1711839600",
        inputs: &[
            "*-*-* 02:30 Europe/Berlin",
            "*-*-* *:30 Europe/Berlin",
            "*-*-* 02:00 Europe/Berlin",
            "*-*-* *:*:00 Europe/Berlin",
        ],
    },
    // 2050-03-20 00:00:00 UTC: beyond the transition table, from the zone's rule string.
    Batch {
        base: "2531347200",
        inputs: &[
            "*-*-* 02:30 Europe/Berlin",
            "Sun *-03~07/1 *:30 Europe/Berlin",
            "*-*-* 02:30 America/New_York",
            "daily Australia/Lord_Howe",
        ],
    },
    // 2025-03-29 22:00:00 UTC: Ireland's "negative DST" ends (Debian's systemd 252 carries
    // the fix for the repeated elapses this used to cause).
    Batch {
        base: "1743285600",
        inputs: &["hourly Europe/Dublin", "*-*-* 01:30 Europe/Dublin"],
    },
    // 2025-09-27 13:59:59 UTC: one second before Chatham's clocks jump from 02:45 to 03:45.
    Batch {
        base: "1758981599",
        inputs: &[
            "1..4:*:* Pacific/Chatham",
            "*:0/15 Pacific/Chatham",
            "2:45 Pacific/Chatham",
        ],
    },
    // 2052-12-31 23:53:59 UTC: systemd's search gives up (EDEADLK) for the first input.
    Batch {
        base: "2619302039",
        inputs: &["Tue *-*-3/12 America/New_York", "Tue *-*-3/12"],
    },
    // 2196-03-01 00:00:00 UTC: the end of the calendar.
    Batch {
        base: "7200518400",
        inputs: &["*-02-29", "yearly", "*-12-31 23:59:59", "Mon *-02-29"],
    },
];

/// What `systemd-analyze calendar` printed for one accepted input.
#[derive(Debug, PartialEq)]
struct Outcome {
    normalized: String,
    /// "Www YYYY-MM-DD HH:MM:SS UTC" per iteration; empty for "never".
    elapses: Vec<String>,
}

fn systemd_analyze(base: &str, inputs: &[&str]) -> (Vec<(String, Outcome)>, String) {
    assert!(
        Path::new(ANALYZE).exists(),
        "{ANALYZE} is missing: this test compares against systemd 252; \
         install it with `apt-get install systemd`"
    );
    let output = Command::new(ANALYZE)
        .arg("calendar")
        .arg(format!("--base-time=@{base}"))
        .arg(format!("--iterations={ITERATIONS}"))
        .arg("--no-pager")
        .args(inputs)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .env("SYSTEMD_COLORS", "0")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {ANALYZE}: {e}"));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    // Each accepted input starts a block with "Original form" or, when the input is
    // already normalised, directly with "Normalized form".
    let mut blocks: Vec<(String, Outcome)> = Vec::new();
    for line in stdout.lines() {
        let line = line.trim_start();
        if let Some(original) = line.strip_prefix("Original form: ") {
            let outcome = Outcome {
                normalized: String::new(),
                elapses: Vec::new(),
            };
            blocks.push((original.to_string(), outcome));
        } else if let Some(form) = line.strip_prefix("Normalized form: ") {
            match blocks.last_mut() {
                Some((_, outcome)) if outcome.normalized.is_empty() => {
                    outcome.normalized = form.to_string();
                }
                _ => {
                    let outcome = Outcome {
                        normalized: form.to_string(),
                        elapses: Vec::new(),
                    };
                    blocks.push((form.to_string(), outcome));
                }
            }
        } else if let Some((_, outcome)) = blocks.last_mut() {
            if let Some(next) = line.strip_prefix("Next elapse: ") {
                if next != "never" {
                    outcome.elapses.push(next.to_string());
                }
            } else if let Some(rest) = line.strip_prefix("Iter. #") {
                let (_, next) = rest.split_once(": ").unwrap();
                outcome.elapses.push(next.to_string());
            }
        }
    }
    (blocks, stderr)
}

/// The way systemd prints a timestamp in UTC, to the second.
fn format_utc(usec: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let secs = usec / 1_000_000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (mut year, mut left) = (1970u64, days);
    loop {
        let len = if is_leap(year) { 366 } else { 365 };
        if left < len {
            break;
        }
        left -= len;
        year += 1;
    }
    let mut month = 1;
    loop {
        let len = match month {
            2 if is_leap(year) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if left < len {
            break;
        }
        left -= len;
        month += 1;
    }
    format!(
        "{} {year:04}-{month:02}-{:02} {:02}:{:02}:{:02} UTC",
        DAYS[(days % 7) as usize],
        left + 1,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn is_leap(y: u64) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400))
}

fn base_usec(base: &str) -> u64 {
    let (whole, fraction) = base.split_once('.').unwrap_or((base, ""));
    let fraction = format!("{fraction:0<6}");
    whole.parse::<u64>().unwrap() * 1_000_000 + fraction.parse::<u64>().unwrap()
}

fn ours(input: &str, base: u64) -> Option<Outcome> {
    let spec = parse_calendar(input).ok()?;
    let mut elapses = Vec::new();
    let mut at = base;
    while elapses.len() < ITERATIONS {
        let Some(next) = spec.next_elapse(at) else {
            break;
        };
        elapses.push(format_utc(next));
        at = next;
    }
    Some(Outcome {
        normalized: spec.to_string(),
        elapses,
    })
}

#[test]
fn calendar_matches_systemd_analyze() {
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut with_elapses = 0;
    for batch in BATCHES {
        let (blocks, stderr) = systemd_analyze(batch.base, batch.inputs);
        let mut blocks = blocks.into_iter().peekable();
        for &input in batch.inputs {
            compared += 1;
            let mine = ours(input, base_usec(batch.base));
            let theirs = match blocks.peek() {
                // The table systemd prints drops trailing blanks.
                Some((original, _)) if original == input.trim_end() => {
                    blocks.next().map(|(_, o)| o)
                }
                _ if stderr.contains(&format!("Failed to determine next elapse for '{input}'")) => {
                    // systemd gave up searching at some iteration and printed nothing else
                    // for this input; so must the search here, at the latest by then.
                    if mine.as_ref().is_none_or(|o| o.elapses.len() >= ITERATIONS) {
                        failures.push(format!("{input:?}: systemd gives up, ours: {mine:?}"));
                    }
                    continue;
                }
                _ => {
                    let refusal = format!("Failed to parse calendar specification '{input}'");
                    assert!(
                        stderr.contains(&refusal),
                        "systemd-analyze printed neither a result nor a refusal for {input:?}:\n{stderr}"
                    );
                    None
                }
            };
            with_elapses += usize::from(theirs.as_ref().is_some_and(|o| !o.elapses.is_empty()));
            if mine != theirs {
                failures.push(format!(
                    "{input:?} (base @{}):\n  systemd: {theirs:?}\n  ours:    {mine:?}",
                    batch.base
                ));
            }
        }
        assert!(
            blocks.next().is_none(),
            "unmatched systemd-analyze output in batch @{}",
            batch.base
        );
    }
    assert!(compared >= 80, "only {compared} inputs compared");
    assert!(
        with_elapses >= 60,
        "only {with_elapses} inputs with elapses compared"
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
