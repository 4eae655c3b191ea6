//! The manager's timers: each unit may arm one timer per kind (the service machine's state
//! timer, watchdog, restart ...). They live in a min-heap ordered by deadline; re-arming or
//! disarming leaves the old heap entry in place and it is skipped when it surfaces, since
//! the map of armed deadlines is the truth.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use units::service::TimerKind;
use units::UnitId;

#[derive(Debug, Default)]
pub struct Timers {
    armed: HashMap<(UnitId, TimerKind), u64>,
    heap: BinaryHeap<Reverse<(u64, u32, u8)>>,
}

fn kind_index(kind: TimerKind) -> u8 {
    match kind {
        TimerKind::Start => 0,
        TimerKind::Stop => 1,
        TimerKind::Abort => 2,
        TimerKind::Watchdog => 3,
        TimerKind::RuntimeMax => 4,
        TimerKind::Restart => 5,
    }
}

fn kind_of(index: u8) -> Option<TimerKind> {
    Some(match index {
        0 => TimerKind::Start,
        1 => TimerKind::Stop,
        2 => TimerKind::Abort,
        3 => TimerKind::Watchdog,
        4 => TimerKind::RuntimeMax,
        5 => TimerKind::Restart,
        _ => return None,
    })
}

impl Timers {
    pub fn new() -> Timers {
        Timers::default()
    }

    /// Arms (or re-arms) the timer `kind` of `unit` for `at` (µs, CLOCK_MONOTONIC).
    pub fn arm(&mut self, unit: UnitId, kind: TimerKind, at: u64) {
        self.armed.insert((unit, kind), at);
        self.heap.push(Reverse((at, unit.0, kind_index(kind))));
    }

    pub fn disarm(&mut self, unit: UnitId, kind: TimerKind) {
        self.armed.remove(&(unit, kind));
    }

    /// Forgets every timer of a unit.
    pub fn disarm_all(&mut self, unit: UnitId) {
        self.armed.retain(|(u, _), _| *u != unit);
    }

    /// The earliest armed deadline.
    pub fn next_deadline(&mut self) -> Option<u64> {
        while let Some(Reverse((at, u, k))) = self.heap.peek().copied() {
            let current = kind_of(k).and_then(|kind| self.armed.get(&(UnitId(u), kind)));
            if current == Some(&at) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }

    /// Removes and returns every timer due at `now`, earliest first.
    pub fn expired(&mut self, now: u64) -> Vec<(UnitId, TimerKind)> {
        let mut out = Vec::new();
        while let Some(at) = self.next_deadline() {
            if at > now {
                break;
            }
            if let Some(Reverse((_, u, k))) = self.heap.pop() {
                if let Some(kind) = kind_of(k) {
                    self.armed.remove(&(UnitId(u), kind));
                    out.push((UnitId(u), kind));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_fire_in_order_and_rearming_replaces() {
        let mut t = Timers::new();
        let (a, b) = (UnitId(1), UnitId(2));
        t.arm(a, TimerKind::Start, 100);
        t.arm(b, TimerKind::Stop, 50);
        t.arm(a, TimerKind::Restart, 70);
        t.arm(a, TimerKind::Start, 200); // replaces 100
        assert_eq!(t.next_deadline(), Some(50));
        assert_eq!(
            t.expired(150),
            vec![(b, TimerKind::Stop), (a, TimerKind::Restart)]
        );
        assert_eq!(t.next_deadline(), Some(200));
        t.disarm(a, TimerKind::Start);
        assert_eq!(t.next_deadline(), None);
        assert!(t.expired(u64::MAX).is_empty());
    }

    #[test]
    fn disarm_all_forgets_a_unit() {
        let mut t = Timers::new();
        t.arm(UnitId(1), TimerKind::Start, 10);
        t.arm(UnitId(1), TimerKind::Watchdog, 20);
        t.arm(UnitId(2), TimerKind::Start, 30);
        t.disarm_all(UnitId(1));
        assert_eq!(t.expired(100), vec![(UnitId(2), TimerKind::Start)]);
    }
}
