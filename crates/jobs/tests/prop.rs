//! Random graphs (acyclic or not) and random request sequences: the engine never panics,
//! keeps one job per unit slot, and — finishing runnable jobs in random order with random
//! results — always has a runnable job while jobs remain (no deadlock) and drains.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::World;
use jobs::{JobMode, JobResult, JobState, JobType};
use proptest::prelude::*;
use units::{ActiveState, Dependency, UnitId};

const DEPS: [Dependency; 13] = [
    Dependency::Requires,
    Dependency::Wants,
    Dependency::BindsTo,
    Dependency::Requisite,
    Dependency::Upholds,
    Dependency::PartOf,
    Dependency::Conflicts,
    Dependency::After,
    Dependency::Before,
    Dependency::Triggers,
    Dependency::PropagatesReloadTo,
    Dependency::PropagatesStopTo,
    Dependency::After,
];
const TYPES: [JobType; 9] = [
    JobType::Start,
    JobType::VerifyActive,
    JobType::Stop,
    JobType::Reload,
    JobType::Restart,
    JobType::TryRestart,
    JobType::TryReload,
    JobType::ReloadOrStart,
    JobType::Nop,
];
const MODES: [JobMode; 8] = [
    JobMode::Fail,
    JobMode::Replace,
    JobMode::ReplaceIrreversibly,
    JobMode::Isolate,
    JobMode::Flush,
    JobMode::IgnoreDependencies,
    JobMode::IgnoreRequirements,
    JobMode::Triggering,
];
const STATES: [ActiveState; 6] = [
    ActiveState::Inactive,
    ActiveState::Activating,
    ActiveState::Active,
    ActiveState::Reloading,
    ActiveState::Deactivating,
    ActiveState::Failed,
];
const RESULTS: [JobResult; 7] = [
    JobResult::Done,
    JobResult::Done,
    JobResult::Done,
    JobResult::Failed,
    JobResult::Timeout,
    JobResult::Canceled,
    JobResult::Skipped,
];

#[derive(Debug, Clone)]
struct Scenario {
    n: u32,
    edges: Vec<(u32, usize, u32)>,
    states: Vec<usize>,
    isolate_ok: Vec<bool>,
    requests: Vec<(u32, usize, usize)>,
    picks: Vec<(usize, usize)>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (2u32..8).prop_flat_map(|n| {
        (
            prop::collection::vec((0..n, 0..DEPS.len(), 0..n), 0..20),
            prop::collection::vec(0..STATES.len(), n as usize),
            prop::collection::vec(any::<bool>(), n as usize),
            prop::collection::vec((0..n, 0..TYPES.len(), 0..MODES.len()), 1..6),
            prop::collection::vec((any::<usize>(), 0..RESULTS.len()), 200),
        )
            .prop_map(
                move |(edges, states, isolate_ok, requests, picks)| Scenario {
                    n,
                    edges,
                    states,
                    isolate_ok,
                    requests,
                    picks,
                },
            )
    })
}

fn check_slots(w: &World) {
    let mut seen = std::collections::BTreeSet::new();
    for j in w.engine.jobs() {
        assert!(
            seen.insert((j.unit, j.job_type == JobType::Nop)),
            "two jobs in one slot of {}",
            j.unit
        );
        assert!(
            matches!(
                j.job_type,
                JobType::Start
                    | JobType::VerifyActive
                    | JobType::Stop
                    | JobType::Reload
                    | JobType::Restart
                    | JobType::Nop
            ),
            "installed {}",
            j.job_type
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_requests_never_deadlock(s in scenario()) {
        let mut w = World::new("");
        for i in 0..s.n {
            w.u(&format!("u{i}"));
        }
        for &(a, d, b) in &s.edges {
            w.graph.add(UnitId(a), DEPS[d], UnitId(b));
        }
        for (i, &st) in s.states.iter().enumerate() {
            w.units.state.insert(UnitId(i as u32), STATES[st]);
            if s.isolate_ok[i] {
                w.units.allow_isolate.insert(UnitId(i as u32));
            }
        }
        for &(u, t, m) in &s.requests {
            let r = w.engine.enqueue(&w.graph, &w.units, UnitId(u), TYPES[t], MODES[m], true, 0);
            if let Ok(e) = &r {
                prop_assert!(w.engine.job(e.anchor).is_some(), "the anchor is installed");
                for id in &e.installed {
                    prop_assert!(w.engine.job(*id).is_some());
                }
                for f in &e.finished {
                    prop_assert!(w.engine.job(f.id).is_none());
                }
            }
            check_slots(&w);
        }
        let mut picks = s.picks.iter().cycle();
        let mut steps = 0;
        while !w.engine.is_empty() {
            steps += 1;
            prop_assert!(steps < 1000, "jobs never drain: {}", w.jobs());
            let runnable = w.engine.runnable(&w.graph);
            let running: Vec<_> = w.engine.jobs().filter(|j| j.state == JobState::Running).map(|j| j.id).collect();
            prop_assert!(
                !runnable.is_empty() || !running.is_empty(),
                "deadlock: nothing runnable among {}",
                w.jobs()
            );
            let &(pick, res) = picks.next().unwrap();
            let all: Vec<_> = runnable.iter().chain(running.iter()).copied().collect();
            let id = all[pick % all.len()];
            if w.engine.job(id).unwrap().state == JobState::Waiting {
                w.engine.set_running(&w.units, id, 0);
            } else {
                let f = w.engine.finish(&w.graph, &w.units, id, RESULTS[res]);
                for f in f {
                    prop_assert!(w.engine.job(f.id).is_none());
                }
            }
            check_slots(&w);
        }
    }

    #[test]
    fn begin_and_state_changes_never_panic(s in scenario()) {
        let mut w = World::new("");
        for i in 0..s.n {
            w.u(&format!("u{i}"));
        }
        for &(a, d, b) in &s.edges {
            w.graph.add(UnitId(a), DEPS[d], UnitId(b));
        }
        for (i, &st) in s.states.iter().enumerate() {
            w.units.state.insert(UnitId(i as u32), STATES[st]);
        }
        for &(u, t, m) in &s.requests {
            let _ = w.engine.enqueue(&w.graph, &w.units, UnitId(u), TYPES[t], MODES[m], false, 0);
        }
        for &(pick, res) in s.picks.iter().take(50) {
            let ids: Vec<_> = w.engine.jobs().map(|j| j.id).collect();
            if ids.is_empty() {
                break;
            }
            let id = ids[pick % ids.len()];
            let _ = w.engine.begin(&w.graph, &w.units, id, 0);
            let u = UnitId((pick % s.n as usize) as u32);
            let new = STATES[res % STATES.len()];
            w.units.state.insert(u, new);
            let _ = w.engine.unit_state_changed(&w.graph, &w.units, u, new, res % 2 == 0);
            check_slots(&w);
        }
    }
}
