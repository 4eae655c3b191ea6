//! Running installed jobs: which jobs are runnable (ordering), how results propagate to the
//! jobs that required them, restart turning into start, cancel, timeouts, `begin` deciding
//! from the unit's state, and jobs reacting to unit state changes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::World;
use jobs::{Action, Begin, JobResult, JobState};
use units::ActiveState;

/// Enqueues the requests, then repeatedly lists the runnable jobs and finishes them all
/// `Done`, returning the runnable set of each round.
fn rounds(spec: &str, requests: &[&str]) -> Vec<String> {
    let mut w = World::new(spec);
    for r in requests {
        w.ok(r);
    }
    let mut out = Vec::new();
    for _ in 0..20 {
        let ids = w.engine.runnable(&w.graph);
        if ids.is_empty() {
            break;
        }
        out.push(w.runnable());
        for id in ids {
            w.engine.set_running(&w.units, id, 0);
            w.engine.finish(&w.graph, &w.units, id, JobResult::Done);
        }
    }
    assert_eq!(w.jobs(), "", "every job finished");
    out
}

#[test]
fn runnable_follows_ordering() {
    let table: &[(&str, &str, &[&str], &[&str])] = &[
        (
            "independent jobs run in parallel",
            "a Wants b; a Wants c",
            &["a start"],
            &["a/start b/start c/start"],
        ),
        (
            "starts run in After= order",
            "a Requires b; a After b; b Requires c; b After c",
            &["a start"],
            &["c/start", "b/start", "a/start"],
        ),
        (
            "Before= orders the same way as the inverse After=",
            "a Requires b; b Before a",
            &["a start"],
            &["b/start", "a/start"],
        ),
        (
            "stops run in reverse order",
            "a Requires b; a After b; a active; b active",
            &["b stop"],
            &["a/stop", "b/stop"],
        ),
        (
            "a stop goes before a start when the stopped unit is ordered after",
            "a After b; a active",
            &["a stop", "b start"],
            &["a/stop", "b/start"],
        ),
        (
            "a stop goes before a start when the stopped unit is ordered before",
            "a Before b; a active",
            &["a stop", "b start"],
            &["a/stop", "b/start"],
        ),
        (
            "conflicting units: the stop runs first",
            "a Conflicts b; a After b; b active",
            &["a start"],
            &["b/stop", "a/start"],
        ),
        (
            "ordering without a job on the other side does not hold a job back",
            "a After b",
            &["a start"],
            &["a/start"],
        ),
        (
            "a restart stops in reverse order, then starts in order",
            "a Requires b; a After b; a active; b active",
            &["b restart"],
            &["a/restart", "b/restart", "b/start", "a/start"],
        ),
        (
            "nop jobs are always runnable",
            "a After b",
            &["b start", "a try-restart"],
            &["a/nop b/start"],
        ),
    ];
    for (name, spec, requests, want) in table {
        assert_eq!(rounds(spec, requests), *want, "{name}");
    }
}

#[test]
fn failures_propagate_to_the_jobs_that_required_the_unit() {
    // (name, spec, requests, unit to finish, result, finished, jobs left)
    type Row = (
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static str,
        JobResult,
        &'static str,
        &'static str,
    );
    let table: &[Row] = &[
        (
            "Requires= fails the requiring start, recursively",
            "a Requires b; c Requires a; a After b; c After a",
            &["c start"],
            "b",
            JobResult::Failed,
            "b/start=failed a/start=dependency c/start=dependency",
            "",
        ),
        (
            "BindsTo= and Requisite= fail the dependent start",
            "a BindsTo b; c Requisite b",
            &["b start", "a start", "c start"],
            "b",
            JobResult::Timeout,
            "b/start=timeout c/start=dependency a/start=dependency",
            "",
        ),
        (
            "Wants= does not propagate failure",
            "a Wants b",
            &["a start"],
            "b",
            JobResult::Failed,
            "b/start=failed",
            "a/start",
        ),
        (
            "a failed verify-active fails the requisite start",
            "a Requisite b",
            &["a start"],
            "b",
            JobResult::Skipped,
            "b/verify-active=skipped a/start=dependency",
            "",
        ),
        (
            "a failed stop fails the start of the unit that conflicts with it",
            "a Conflicts b; b active",
            &["a start"],
            "b",
            JobResult::Failed,
            "b/stop=failed a/start=dependency",
            "",
        ),
        (
            "a failed stop does not fail the units that required it",
            "a Requires b; a active; b active",
            &["b stop"],
            "b",
            JobResult::Failed,
            "b/stop=failed",
            "a/stop",
        ),
        (
            "a failed start does not fail stop jobs of requiring units",
            "a Requires b; a active",
            &["a stop", "b start"],
            "b",
            JobResult::Failed,
            "b/start=failed",
            "a/stop",
        ),
        (
            "a canceled start fails the requiring start",
            "a Requires b",
            &["a start"],
            "b",
            JobResult::Canceled,
            "b/start=canceled a/start=dependency",
            "",
        ),
    ];
    for (name, spec, reqs, unit, result, finished, left) in table {
        let mut w = World::new(spec);
        for r in *reqs {
            w.ok(r);
        }
        assert_eq!(w.finish(unit, *result), *finished, "{name}");
        assert_eq!(w.jobs(), *left, "{name}");
    }
}

#[test]
fn a_start_done_while_the_unit_is_inactive_fails_requisite_dependents() {
    // b's queued start absorbs a's verify-active; a condition-skipped start ends Done with
    // b inactive, which must still fail a (systemd's PROPAGATE_INACTIVE_START_AS_FAILURE).
    let mut w = World::new("a Requisite b; a After b");
    w.ok("b start");
    w.ok("a start");
    assert_eq!(w.jobs(), "a/start b/start");
    assert_eq!(
        w.finish("b", JobResult::Done),
        "b/start=done a/start=dependency"
    );
    // The same with b active leaves a alone.
    let mut w = World::new("a Requisite b; a After b");
    w.ok("b start");
    w.ok("a start");
    w.state("b", "active");
    assert_eq!(w.finish("b", JobResult::Done), "b/start=done");
    assert_eq!(w.runnable(), "a/start");
}

#[test]
fn a_restart_becomes_a_start_after_its_stop_half() {
    let mut w = World::new("a active");
    let e = w.ok("a restart");
    w.engine.set_running(&w.units, e.anchor, 0);
    assert_eq!(w.finish("a", JobResult::Done), "");
    let j = w.engine.job(e.anchor).unwrap();
    assert_eq!(
        (j.job_type, j.state),
        (jobs::JobType::Start, JobState::Waiting)
    );
    assert_eq!(w.finish("a", JobResult::Done), "a/start=done");
    // A failed stop half ends the restart.
    let mut w = World::new("a active");
    w.ok("a restart");
    assert_eq!(w.finish("a", JobResult::Failed), "a/restart=failed");
}

#[test]
fn cancel_fails_the_jobs_that_required_the_canceled_one() {
    let mut w = World::new("a Requires b; a Wants c");
    w.ok("a start");
    let b = w.id("b");
    let f = w.engine.cancel(&w.graph, &w.units, b);
    assert_eq!(w.finished(&f), "b/start=canceled a/start=dependency");
    assert_eq!(w.jobs(), "c/start");
}

#[test]
fn job_timeout_counts_from_installation() {
    let mut w = World::new("a Requires b; a timeout=100; b running-timeout=30");
    w.now = 10;
    w.ok("a start");
    let (a, b) = (w.id("a"), w.id("b"));
    assert_eq!(w.engine.job(a).unwrap().deadline, Some(110));
    assert_eq!(w.engine.job(b).unwrap().deadline, None);
    // JobRunningTimeoutSec= counts from the start of running.
    w.engine.set_running(&w.units, b, 50);
    assert_eq!(w.engine.job(b).unwrap().deadline, Some(80));
    assert_eq!(w.engine.next_deadline(), Some(80));
    assert_eq!(w.engine.expired(79), vec![]);
    assert_eq!(w.engine.expired(80), vec![b]);
    let f = w.engine.expire(&w.graph, &w.units, 80);
    assert_eq!(w.finished(&f), "b/start=timeout a/start=dependency");
    assert!(w.engine.is_empty());
}

#[test]
fn running_timeout_only_shortens_the_deadline() {
    let mut w = World::new("a timeout=100; a running-timeout=200");
    w.ok("a start");
    let a = w.id("a");
    w.engine.set_running(&w.units, a, 50);
    assert_eq!(w.engine.job(a).unwrap().deadline, Some(100));
    let f = w.engine.expire(&w.graph, &w.units, 100);
    assert_eq!(w.finished(&f), "a/start=timeout");
}

#[test]
fn a_merged_job_keeps_its_deadline() {
    let mut w = World::new("a timeout=100");
    w.ok("a start");
    w.now = 60;
    w.ok("a verify-active");
    let a = w.id("a");
    assert_eq!(w.engine.job(a).unwrap().deadline, Some(100));
}

#[test]
fn begin_decides_from_the_units_state() {
    use ActiveState::*;
    // (request, state at begin, outcome, jobs left)
    let table: &[(&str, ActiveState, Result<Action, &str>, &str)] = &[
        ("start", Inactive, Ok(Action::Start), "a/start"),
        ("start", Failed, Ok(Action::Start), "a/start"),
        ("start", Active, Err("a/start=done"), ""),
        ("stop", Active, Ok(Action::Stop), "a/stop"),
        ("stop", Deactivating, Ok(Action::Stop), "a/stop"),
        ("stop", Inactive, Err("a/stop=done"), ""),
        ("restart", Active, Ok(Action::Stop), "a/restart"),
        ("restart", Inactive, Err(""), "a/start"),
        ("reload", Active, Ok(Action::Reload), "a/reload"),
        ("reload", Inactive, Err("a/reload=invalid"), ""),
        ("reload", Reloading, Err("wait"), "a/reload"),
        ("verify-active", Active, Err("a/verify-active=done"), ""),
        ("verify-active", Activating, Err("wait"), "a/verify-active"),
        (
            "verify-active",
            Inactive,
            Err("a/verify-active=skipped"),
            "",
        ),
        ("nop", Inactive, Err("a/nop=done"), ""),
    ];
    for (req, state, want, left) in table {
        let mut w = World::new("a active");
        w.ok(&format!("a {req}"));
        let u = w.u("a");
        w.units.state.insert(u, *state);
        let id = w.id("a");
        let got = w.engine.begin(&w.graph, &w.units, id, 0);
        match (got, want) {
            (Begin::Perform(a), Ok(want)) => {
                assert_eq!(a, *want, "{req} on {state}");
                assert_eq!(w.engine.job(id).unwrap().state, JobState::Running);
            }
            (Begin::Wait, Err("wait")) => {
                assert_eq!(w.engine.job(id).unwrap().state, JobState::Waiting)
            }
            (Begin::Finished(f), Err(want)) => {
                assert_eq!(w.finished(&f), *want, "{req} on {state}")
            }
            (got, want) => panic!("{req} on {state}: got {got:?}, want {want:?}"),
        }
        assert_eq!(w.jobs(), *left, "{req} on {state}");
    }
}

#[test]
fn begin_waits_for_ordering() {
    let mut w = World::new("a Requires b; a After b");
    w.ok("a start");
    let a = w.id("a");
    assert_eq!(w.engine.begin(&w.graph, &w.units, a, 0), Begin::Wait);
    let b = w.id("b");
    assert_eq!(
        w.engine.begin(&w.graph, &w.units, b, 0),
        Begin::Perform(Action::Start)
    );
    // A running job is not begun twice.
    assert_eq!(w.engine.begin(&w.graph, &w.units, b, 0), Begin::Wait);
}

#[test]
fn jobs_react_to_unit_state_changes() {
    use ActiveState::*;
    // (request, running?, new state, reload failed, finished, unexpected)
    let table: &[(&str, bool, ActiveState, bool, &str, bool)] = &[
        ("start", true, Activating, false, "", false),
        ("start", true, Active, false, "a/start=done", false),
        ("start", false, Active, false, "a/start=done", false),
        ("start", true, Failed, false, "a/start=failed", true),
        ("start", true, Inactive, false, "a/start=done", true),
        ("start", false, Failed, false, "", false),
        ("stop", true, Deactivating, false, "", false),
        ("stop", true, Inactive, false, "a/stop=done", false),
        ("stop", true, Failed, false, "a/stop=done", false),
        ("stop", true, Active, false, "a/stop=failed", true),
        ("stop", false, Active, false, "", false),
        ("reload", true, Reloading, false, "", false),
        ("reload", true, Active, false, "a/reload=done", false),
        ("reload", true, Active, true, "a/reload=failed", false),
        ("reload", true, Failed, false, "a/reload=failed", true),
        ("reload", false, Active, false, "", false),
        ("restart", true, Inactive, false, "", false),
    ];
    for (req, running, new, reload_failed, want, unexpected) in table {
        let mut w = World::new("a active");
        w.ok(&format!("a {req}"));
        let id = w.id("a");
        if *running {
            w.engine.set_running(&w.units, id, 0);
        }
        let u = w.u("a");
        w.units.state.insert(u, *new);
        let c = w
            .engine
            .unit_state_changed(&w.graph, &w.units, u, *new, *reload_failed);
        let what = format!("{req} running={running} -> {new}");
        assert_eq!(w.finished(&c.finished), *want, "{what}");
        assert_eq!(c.unexpected, *unexpected, "{what}");
    }
}

#[test]
fn merging_into_a_running_job() {
    // A start merged into a running start needs nothing more: it keeps running.
    let mut w = World::new("a");
    w.ok("a start");
    let a = w.id("a");
    w.engine.set_running(&w.units, a, 0);
    w.ok("a start");
    assert_eq!(w.engine.job(a).unwrap().state, JobState::Running);
    // A reload merged into a running reload must run again: the daemon may have read its
    // configuration already.
    let mut w = World::new("a active");
    w.ok("a reload");
    let a = w.id("a");
    w.engine.set_running(&w.units, a, 0);
    let e = w.ok("a reload");
    assert_eq!(e.anchor, a);
    assert_eq!(w.engine.job(a).unwrap().state, JobState::Waiting);
    // A restart merged into a running start re-runs it as a restart.
    let mut w = World::new("a activating");
    w.ok("a start");
    let a = w.id("a");
    w.engine.set_running(&w.units, a, 0);
    w.ok("a restart");
    let j = w.engine.job(a).unwrap();
    assert_eq!(
        (j.job_type, j.state),
        (jobs::JobType::Restart, JobState::Waiting)
    );
}

#[test]
fn restore_rebuilds_the_engine_from_persisted_jobs() {
    let mut w = World::new("a Requires b; a After b");
    w.ok("a start");
    let saved: Vec<jobs::Job> = w.engine.jobs().cloned().collect();
    let restored = jobs::Engine::restore(saved.clone());
    assert_eq!(restored.jobs().cloned().collect::<Vec<_>>(), saved);
    assert_eq!(restored.runnable(&w.graph), w.engine.runnable(&w.graph));
    // New ids continue after the restored ones.
    let mut r = restored;
    let c = w.u("c");
    let e = r
        .enqueue(
            &w.graph,
            &w.units,
            c,
            jobs::JobType::Start,
            jobs::JobMode::Replace,
            true,
            0,
        )
        .unwrap();
    assert!(saved.iter().all(|j| j.id < e.anchor));
}
