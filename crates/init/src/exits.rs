//! The exit buffer: every reaped process that is not the manager, numbered by an
//! increasing `seq`, kept until the manager acknowledges it (`AckExits`) and replayed to
//! each new manager. It is bounded: when full, the oldest record is dropped and counted,
//! because PID 1's memory must not grow with a process storm while no manager listens.

use proto::init::{ExitKind, ToManager};
use std::collections::VecDeque;

/// One exited process, as relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitRecord {
    pub seq: u64,
    pub pid: u32,
    pub start_time: u64,
    pub kind: ExitKind,
    pub status: i32,
}

impl ExitRecord {
    pub fn message(&self) -> ToManager {
        ToManager::Exit {
            seq: self.seq,
            pid: self.pid,
            start_time: self.start_time,
            kind: self.kind,
            status: self.status,
        }
    }

    pub fn from_message(m: &ToManager) -> Option<ExitRecord> {
        match *m {
            ToManager::Exit {
                seq,
                pid,
                start_time,
                kind,
                status,
            } => Some(ExitRecord {
                seq,
                pid,
                start_time,
                kind,
                status,
            }),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct ExitBuffer {
    records: VecDeque<ExitRecord>,
    last_seq: u64,
    dropped: u64,
    cap: usize,
}

impl ExitBuffer {
    pub fn new(cap: usize) -> ExitBuffer {
        ExitBuffer {
            records: VecDeque::new(),
            last_seq: 0,
            dropped: 0,
            cap: cap.max(1),
        }
    }

    /// A buffer continued from a previous PID 1 image; records are kept in `seq` order.
    pub fn restore(cap: usize, last_seq: u64, dropped: u64, records: Vec<ExitRecord>) -> Self {
        let mut b = ExitBuffer::new(cap);
        b.dropped = dropped;
        for r in records {
            if r.seq > b.last_seq {
                b.last_seq = r.seq;
                b.add(r);
            }
        }
        b.last_seq = b.last_seq.max(last_seq);
        b
    }

    fn add(&mut self, record: ExitRecord) -> bool {
        let full = self.records.len() >= self.cap;
        if full {
            self.records.pop_front();
            self.dropped += 1;
        }
        self.records.push_back(record);
        full
    }

    /// Records an exit under the next `seq`; true when the oldest record was dropped.
    pub fn push(&mut self, pid: u32, start_time: u64, kind: ExitKind, status: i32) -> bool {
        self.last_seq += 1;
        let seq = self.last_seq;
        self.add(ExitRecord {
            seq,
            pid,
            start_time,
            kind,
            status,
        })
    }

    /// Forgets every record with `seq <= upto`.
    pub fn ack(&mut self, upto: u64) {
        while self.records.front().is_some_and(|r| r.seq <= upto) {
            self.records.pop_front();
        }
    }

    /// The oldest kept record with a `seq` above `seq`.
    pub fn next_after(&self, seq: u64) -> Option<&ExitRecord> {
        let i = self.records.partition_point(|r| r.seq <= seq);
        self.records.get(i)
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Records dropped since boot because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn records(&self) -> impl Iterator<Item = &ExitRecord> {
        self.records.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(b: &ExitBuffer) -> Vec<u64> {
        b.records().map(|r| r.seq).collect()
    }

    #[test]
    fn records_are_numbered_kept_until_acked_and_bounded() {
        let mut b = ExitBuffer::new(3);
        for pid in 10..14 {
            let dropped = b.push(pid, 100 + u64::from(pid), ExitKind::Exited, 0);
            assert_eq!(dropped, pid == 13);
        }
        assert_eq!((seqs(&b), b.dropped(), b.last_seq()), (vec![2, 3, 4], 1, 4));
        assert_eq!(b.next_after(0).map(|r| r.pid), Some(11));
        assert_eq!(b.next_after(2).map(|r| r.seq), Some(3));
        assert_eq!(b.next_after(4), None);
        b.ack(3);
        assert_eq!(seqs(&b), vec![4]);
        b.ack(1);
        assert_eq!(seqs(&b), vec![4]);
        b.push(1, 1, ExitKind::Killed, 9);
        assert_eq!(seqs(&b), vec![4, 5]);
        b.ack(99);
        assert_eq!((seqs(&b), b.last_seq()), (vec![], 5));
    }

    #[test]
    fn restore_keeps_order_numbering_and_the_bound() {
        let r = |seq| ExitRecord {
            seq,
            pid: 1,
            start_time: 2,
            kind: ExitKind::Dumped,
            status: 11,
        };
        let b = ExitBuffer::restore(2, 9, 4, vec![r(5), r(7), r(6), r(8)]);
        assert_eq!((seqs(&b), b.dropped(), b.last_seq()), (vec![7, 8], 5, 9));
        assert_eq!(ExitRecord::from_message(&r(3).message()), Some(r(3)));
        assert_eq!(ExitRecord::from_message(&ToManager::HelloDone), None);
    }
}
