//! Crash-loop accounting for the manager: each unplanned exit is a failure; the delay
//! before the next start doubles from 100 ms with every failure of the last minute, up to
//! 10 s, and five failures within that minute count as a crash loop (the emergency shell,
//! or the final step when a shutdown was asked for).

use std::collections::VecDeque;

pub const FIRST_DELAY_USEC: u64 = 100_000;
pub const MAX_DELAY_USEC: u64 = 10_000_000;
pub const WINDOW_USEC: u64 = 60_000_000;
pub const BURST: usize = 5;

#[derive(Debug, Default)]
pub struct CrashLoop {
    failures: VecDeque<u64>,
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub delay_usec: u64,
    /// Failures within the window, this one included.
    pub failures: usize,
    pub crash_loop: bool,
}

impl CrashLoop {
    /// Counts a failure at `now` (monotonic microseconds).
    pub fn failed(&mut self, now: u64) -> Verdict {
        while self
            .failures
            .front()
            .is_some_and(|&t| now.saturating_sub(t) >= WINDOW_USEC)
        {
            self.failures.pop_front();
        }
        // Older failures than the last few cannot change the verdict: keep it small.
        if self.failures.len() >= 64 {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        let n = self.failures.len();
        let shift = u32::try_from(n.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(20);
        Verdict {
            delay_usec: (FIRST_DELAY_USEC << shift).min(MAX_DELAY_USEC),
            failures: n,
            crash_loop: n >= BURST,
        }
    }

    /// Forgets every failure (after the emergency shell, a person has looked).
    pub fn reset(&mut self) {
        self.failures.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_to_the_cap_and_old_failures_expire() {
        let mut c = CrashLoop::default();
        let delays: Vec<(u64, bool)> = (0..9)
            .map(|i| c.failed(i * 1_000_000))
            .map(|v| (v.delay_usec / 1000, v.crash_loop))
            .collect();
        assert_eq!(
            delays,
            [
                (100, false),
                (200, false),
                (400, false),
                (800, false),
                (1600, true),
                (3200, true),
                (6400, true),
                (10_000, true),
                (10_000, true)
            ]
        );
        // A minute after the last failure the count starts again.
        let v = c.failed(8_000_000 + WINDOW_USEC);
        assert_eq!(
            (v.delay_usec, v.failures, v.crash_loop),
            (100_000, 1, false)
        );
        c.reset();
        assert_eq!(c.failed(0).failures, 1);
    }
}
