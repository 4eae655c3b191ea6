//! Building transactions: the requirement closure of every job type, every job mode,
//! merging, conflicts, ordering cycles and the manual-request checks, as systemd 252 does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::World;

/// One request against a world: `before` requests are enqueued first (mode as written),
/// then `request`; `want` is the installed jobs afterwards, or `Err(message)`.
struct Case {
    name: &'static str,
    spec: &'static str,
    before: &'static [&'static str],
    request: &'static str,
    want: Result<&'static str, &'static str>,
}

fn check(cases: &[Case]) {
    for c in cases {
        let mut w = World::new(c.spec);
        for b in c.before {
            w.ok(b);
        }
        let before = w.jobs();
        let got = w.enqueue(c.request);
        match (&got, c.want) {
            (Ok(_), Ok(jobs)) => assert_eq!(w.jobs(), jobs, "{}", c.name),
            (Err(e), Err(msg)) => {
                assert_eq!(e.to_string(), msg, "{}", c.name);
                assert_eq!(
                    w.jobs(),
                    before,
                    "{}: a refused transaction changes nothing",
                    c.name
                );
            }
            (Ok(_), Err(msg)) => panic!("{}: accepted, wanted {msg}; jobs {}", c.name, w.jobs()),
            (Err(e), Ok(_)) => panic!("{}: refused: {e} {:?}", c.name, e.log),
        }
    }
}

#[test]
fn requirement_closure_per_job_type() {
    check(&[
        Case {
            name: "start pulls Requires= and Wants=",
            spec: "a Requires b; a Wants c",
            before: &[],
            request: "a start",
            want: Ok("a/start b/start c/start"),
        },
        Case {
            name: "start pulls BindsTo= and Upholds=",
            spec: "a BindsTo b; a Upholds c",
            before: &[],
            request: "a start",
            want: Ok("a/start b/start c/start"),
        },
        Case {
            name: "Requisite= pulls verify-active",
            spec: "a Requisite b",
            before: &[],
            request: "a start",
            want: Ok("a/start b/verify-active"),
        },
        Case {
            name: "dependencies are followed transitively",
            spec: "a Requires b; b Wants c; c Requires d",
            before: &[],
            request: "a start",
            want: Ok("a/start b/start c/start d/start"),
        },
        Case {
            name: "requirement loops terminate",
            spec: "a Requires b; b Requires a",
            before: &[],
            request: "a start",
            want: Ok("a/start b/start"),
        },
        Case {
            name: "start jobs of active dependencies are redundant and dropped",
            spec: "a Requires b; a Requisite c; b active; c active",
            before: &[],
            request: "a start",
            want: Ok("a/start"),
        },
        Case {
            name: "the anchor is kept even when redundant",
            spec: "a active",
            before: &[],
            request: "a start",
            want: Ok("a/start"),
        },
        Case {
            name: "Conflicts= stops the other unit",
            spec: "a Conflicts b; b active",
            before: &[],
            request: "a start",
            want: Ok("a/start b/stop"),
        },
        Case {
            name: "a stop of an inactive conflicting unit is redundant",
            spec: "a Conflicts b",
            before: &[],
            request: "a start",
            want: Ok("a/start"),
        },
        Case {
            name: "ConflictedBy= stops the other unit too",
            spec: "b Conflicts a; b active",
            before: &[],
            request: "a start",
            want: Ok("a/start b/stop"),
        },
        Case {
            name:
                "stop propagates to RequiredBy, BoundBy, ConsistsOf, RequisiteOf, PropagatesStopTo",
            spec: "b Requires a; c BindsTo a; d PartOf a; e Requisite a; a PropagatesStopTo f; \
                   a active; b active; c active; d active; e active; f active",
            before: &[],
            request: "a stop",
            want: Ok("a/stop b/stop c/stop d/stop e/stop f/stop"),
        },
        Case {
            name: "stop propagates transitively",
            spec: "b Requires a; c Requires b; a active; b active; c active",
            before: &[],
            request: "a stop",
            want: Ok("a/stop b/stop c/stop"),
        },
        Case {
            name: "stop does not propagate to WantedBy",
            spec: "b Wants a; a active; b active",
            before: &[],
            request: "a stop",
            want: Ok("a/stop"),
        },
        Case {
            name: "stop jobs of inactive dependents are dropped",
            spec: "b Requires a; a active",
            before: &[],
            request: "a stop",
            want: Ok("a/stop"),
        },
        Case {
            name: "restart propagates as try-restart: only running dependents restart",
            spec: "b Requires a; c PartOf a; d Requires a; a active; b active; c activating",
            before: &[],
            request: "a restart",
            want: Ok("a/restart b/restart c/restart"),
        },
        Case {
            name: "restart merges with the start its requirements pull in",
            spec: "a Requires b; b PartOf a; a active; b active",
            before: &[],
            request: "a restart",
            want: Ok("a/restart b/restart"),
        },
        Case {
            name: "try-restart of an inactive unit is a nop",
            spec: "a Requires b",
            before: &[],
            request: "a try-restart",
            want: Ok("a/nop"),
        },
        Case {
            name: "try-restart of an active unit is a restart",
            spec: "a active",
            before: &[],
            request: "a try-restart",
            want: Ok("a/restart"),
        },
        Case {
            name: "try-reload of an inactive unit is a nop",
            spec: "a",
            before: &[],
            request: "a try-reload",
            want: Ok("a/nop"),
        },
        Case {
            name: "try-reload of an active unit is a reload",
            spec: "a active",
            before: &[],
            request: "a try-reload",
            want: Ok("a/reload"),
        },
        Case {
            name: "reload-or-start of an inactive unit starts it with its requirements",
            spec: "a Requires b",
            before: &[],
            request: "a reload-or-start",
            want: Ok("a/start b/start"),
        },
        Case {
            name: "reload-or-start of an active unit reloads it",
            spec: "a Requires b; a active",
            before: &[],
            request: "a reload-or-start",
            want: Ok("a/reload"),
        },
        Case {
            name: "reload propagates to active PropagatesReloadTo= units only",
            spec: "a PropagatesReloadTo b; a PropagatesReloadTo c; a active; b active",
            before: &[],
            request: "a reload",
            want: Ok("a/reload b/reload"),
        },
        Case {
            name: "reload of an inactive unit is queued (it ends 'invalid' when run)",
            spec: "a",
            before: &[],
            request: "a reload",
            want: Ok("a/reload"),
        },
        Case {
            name: "verify-active can be requested directly",
            spec: "a",
            before: &[],
            request: "a verify-active",
            want: Ok("a/verify-active"),
        },
        Case {
            name: "nop can be requested directly",
            spec: "a",
            before: &[],
            request: "a nop",
            want: Ok("a/nop"),
        },
    ]);
}

#[test]
fn load_state_and_applicability() {
    check(&[
        Case {
            name: "reload of a unit that cannot reload",
            spec: "a no-reload; a active",
            before: &[],
            request: "a reload",
            want: Err("Job type reload is not applicable for unit a."),
        },
        Case {
            name: "stop of a perpetual unit",
            spec: "a no-stop; a active",
            before: &[],
            request: "a stop",
            want: Err("Job type stop is not applicable for unit a."),
        },
        Case {
            name: "a perpetual unit is left running when a stop propagates to it",
            spec: "b Requires a; b no-stop; a active; b active",
            before: &[],
            request: "a stop",
            want: Ok("a/stop"),
        },
        Case {
            name: "Requires= on a masked unit fails the transaction",
            spec: "a Requires b; b masked",
            before: &[],
            request: "a start",
            want: Err("Unit b is masked."),
        },
        Case {
            name: "Requires= on a missing unit fails the transaction",
            spec: "a Requires b; b not-found",
            before: &[],
            request: "a start",
            want: Err("Unit b not found."),
        },
        Case {
            name: "Wants= on a missing or masked unit is ignored",
            spec: "a Wants b; a Wants c; b not-found; c masked",
            before: &[],
            request: "a start",
            want: Ok("a/start"),
        },
        Case {
            name: "a missing unit can still be stopped while it runs",
            spec: "a not-found; a active",
            before: &[],
            request: "a stop",
            want: Ok("a/stop"),
        },
        Case {
            name: "stopping a missing, inactive unit is refused",
            spec: "a not-found",
            before: &[],
            request: "a stop",
            want: Err("Unit a not loaded."),
        },
        Case {
            name: "RefuseManualStart= refuses a manual start",
            spec: "a refuse-start",
            before: &[],
            request: "a start",
            want: Err("Operation refused, unit a may be requested by dependency only (it is configured to refuse manual start/stop)."),
        },
        Case {
            name: "RefuseManualStop= refuses a manual restart",
            spec: "a refuse-stop; a active",
            before: &[],
            request: "a restart",
            want: Err("Operation refused, unit a may be requested by dependency only (it is configured to refuse manual start/stop)."),
        },
        Case {
            name: "RefuseManualStart= does not stop a dependency from being started",
            spec: "a Requires b; b refuse-start",
            before: &[],
            request: "a start",
            want: Ok("a/start b/start"),
        },
        Case {
            name: "RefuseManualStart= allows reload-or-start of an active unit",
            spec: "a refuse-start; a active",
            before: &[],
            request: "a reload-or-start",
            want: Ok("a/reload"),
        },
    ]);
}

#[test]
fn refuse_manual_start_applies_to_manual_requests_only() {
    let mut w = World::new("a refuse-start");
    assert!(w.enqueue_ex("a", "start", "replace", false).is_ok());
    assert_eq!(w.jobs(), "a/start");
}

#[test]
fn job_modes() {
    check(&[
        Case {
            name: "ignore-requirements does not follow requirements",
            spec: "a Requires b; a Conflicts c; c active",
            before: &[],
            request: "a start ignore-requirements",
            want: Ok("a/start"),
        },
        Case {
            name: "ignore-dependencies does not follow requirements",
            spec: "a Requires b",
            before: &[],
            request: "a start ignore-dependencies",
            want: Ok("a/start"),
        },
        Case {
            name: "isolate starts the closure and stops every other running unit",
            spec: "t allow-isolate; t Requires x; y active; z active; z ignore-on-isolate; w",
            before: &[],
            request: "t start isolate",
            want: Ok("t/start x/start y/stop"),
        },
        Case {
            name: "isolate keeps units needed by the target running",
            spec: "t allow-isolate; t Wants x; x active; y active",
            before: &[],
            request: "t start isolate",
            want: Ok("t/start y/stop"),
        },
        Case {
            name: "isolate keeps units triggered by kept units",
            spec: "t allow-isolate; t Requires s; s Triggers v; s active; v active; y Triggers q; q active",
            before: &[],
            request: "t start isolate",
            want: Ok("q/stop t/start"),
        },
        Case {
            name: "isolate stops units that only have a job queued",
            spec: "t allow-isolate; y",
            before: &["y start"],
            request: "t start isolate",
            want: Ok("t/start y/stop"),
        },
        Case {
            name: "isolate needs AllowIsolate=",
            spec: "t",
            before: &[],
            request: "t start isolate",
            want: Err("Operation refused, unit may not be isolated."),
        },
        Case {
            name: "isolate is only for start",
            spec: "t allow-isolate; t active",
            before: &[],
            request: "t stop isolate",
            want: Err("Isolate is only valid for start."),
        },
        Case {
            name: "triggering also stops the running units that trigger this one",
            spec: "s Triggers a; p Triggers a; a active; s active",
            before: &[],
            request: "a stop triggering",
            want: Ok("a/stop s/stop"),
        },
        Case {
            name: "without triggering the trigger keeps running",
            spec: "s Triggers a; a active; s active",
            before: &[],
            request: "a stop replace",
            want: Ok("a/stop"),
        },
        Case {
            name: "triggering is only for stop",
            spec: "a",
            before: &[],
            request: "a start triggering",
            want: Err("--job-mode=triggering is only valid for stop."),
        },
        Case {
            name: "replace replaces a queued job of a conflicting type",
            spec: "a active",
            before: &["a stop"],
            request: "a start replace",
            want: Ok("a/start"),
        },
        Case {
            name: "fail refuses to replace a queued job of a conflicting type",
            spec: "a active",
            before: &["a stop"],
            request: "a start fail",
            want: Err("Transaction for a/start is destructive (a has 'stop' job queued, but 'start' is included in transaction)."),
        },
        Case {
            name: "fail merges with a queued job of a compatible type",
            spec: "a",
            before: &["a start"],
            request: "a verify-active fail",
            want: Ok("a/start"),
        },
        Case {
            name: "fail refuses when a required dependency has a conflicting job queued",
            spec: "a Requires b; b active",
            before: &["b stop"],
            request: "a start fail",
            want: Err("Transaction for a/start is destructive (b has 'stop' job queued, but 'start' is included in transaction)."),
        },
        Case {
            name: "fail drops a wanted start that would change a queued stop",
            spec: "a Wants b; b active",
            before: &["b stop"],
            request: "a start fail",
            want: Ok("a/start b/stop"),
        },
        Case {
            name: "replace keeps a redundant start that replaces a queued stop",
            spec: "a Wants b; b active",
            before: &["b stop"],
            request: "a start replace",
            want: Ok("a/start b/start"),
        },
        Case {
            name: "fail does not stop running units it need not stop",
            spec: "b Conflicts a; b active",
            before: &[],
            request: "a start fail",
            want: Ok("a/start"),
        },
        Case {
            name: "fail still stops units the anchor conflicts with",
            spec: "a Conflicts b; b active",
            before: &[],
            request: "a start fail",
            want: Ok("a/start b/stop"),
        },
        Case {
            name: "replace-irreversibly jobs cannot be replaced",
            spec: "a active",
            before: &["a stop replace-irreversibly"],
            request: "a start replace",
            want: Err("Transaction for a/start is destructive (a has 'stop' job queued, but 'start' is included in transaction)."),
        },
        Case {
            name: "replace-irreversibly jobs can be merged with",
            spec: "a active",
            before: &["a stop replace-irreversibly"],
            request: "a stop replace",
            want: Ok("a/stop"),
        },
        Case {
            name: "flush cancels all other queued jobs",
            spec: "a; x; y ignore-on-isolate",
            before: &["x start", "y start"],
            request: "a start flush",
            want: Ok("a/start y/start"),
        },
    ]);
}

#[test]
fn merging_and_conflicts() {
    check(&[
        Case {
            name: "start and verify-active for one unit merge into start",
            spec: "a Requires b; a Requisite b",
            before: &[],
            request: "a start",
            want: Ok("a/start b/start"),
        },
        Case {
            // b's stop propagates to a (RequiredBy), so a is the first unit found with both.
            name: "essential start and stop of one unit conflict",
            spec: "a Requires b; a Conflicts b",
            before: &[],
            request: "a start",
            want: Err("Transaction contains conflicting jobs 'stop' and 'start' for a. Probably contradicting requirement dependencies configured."),
        },
        Case {
            name: "a wanted start yields to an essential stop",
            spec: "a Wants b; a Conflicts b; b active",
            before: &[],
            request: "a start",
            want: Ok("a/start b/stop"),
        },
        Case {
            name: "between two non-essential jobs, a stop from Conflicts= wins",
            spec: "a Wants b; a Wants c; c Conflicts b; b active",
            before: &[],
            request: "a start",
            want: Ok("a/start b/stop c/start"),
        },
        Case {
            // x's start pulls y's stop through Conflicts=, y's start pulls x's stop through
            // ConflictedBy=: x keeps its start, y its stop.
            name: "between two non-essential jobs, a start wins over a plain stop",
            spec: "a Wants x; a Wants y; x Conflicts y; y active",
            before: &[],
            request: "a start",
            want: Ok("a/start x/start y/stop"),
        },
        Case {
            name: "a dropped start takes the jobs that required it along",
            spec: "a Wants b; b Requires d; a Conflicts d; d active",
            before: &[],
            request: "a start",
            want: Ok("a/start d/stop"),
        },
    ]);
}

#[test]
fn ordering_cycles() {
    check(&[
        Case {
            name: "a cycle through a wanted unit is broken by dropping it",
            spec: "a Wants b; a After b; b After a",
            before: &[],
            request: "a start",
            want: Ok("a/start"),
        },
        Case {
            name: "a cycle of required units cannot be broken",
            spec: "a Requires b; a After b; b After a",
            before: &[],
            request: "a start",
            want: Err("Transaction order is cyclic. See system logs for details."),
        },
        Case {
            name: "ordering without jobs on both ends is no cycle",
            spec: "a After b; b After a",
            before: &[],
            request: "a start",
            want: Ok("a/start"),
        },
        Case {
            name: "a start and a stop ordered both ways is no cycle",
            spec: "a Conflicts b; a After b; b After a; b active",
            before: &[],
            request: "a start",
            want: Ok("a/start b/stop"),
        },
        Case {
            name: "a longer cycle is broken at a unit that does not matter",
            spec: "a Requires b; b Wants c; a After b; b After c; c After a",
            before: &[],
            request: "a start",
            want: Ok("a/start b/start"),
        },
        Case {
            name: "a cycle closed by the start half of a restart is found",
            spec: "a BindsTo b; b After a; a After b; a active",
            before: &[],
            request: "a restart",
            want: Err("Transaction order is cyclic. See system logs for details."),
        },
        Case {
            name: "a cycle closed by the start half of a restart is broken when it can be",
            spec: "a Wants b; b After a; a After b; a active",
            before: &[],
            request: "a restart",
            want: Ok("a/restart"),
        },
        Case {
            name: "a cycle with a queued job is detected",
            spec: "a Requires b; a After b; b After a",
            before: &["b start"],
            request: "a start",
            want: Err("Transaction order is cyclic. See system logs for details."),
        },
    ]);
}

#[test]
fn a_broken_cycle_is_logged_naming_its_units_and_the_deleted_job() {
    let mut w = World::new("a Wants b; a After b; b After a");
    let e = w.ok("a start");
    assert_eq!(
        e.log,
        vec![
            "a: Found ordering cycle on b/start",
            "a: Found dependency on a/start",
            "a: Job b/start deleted to break ordering cycle starting with a/start",
        ]
    );
}

#[test]
fn an_unbreakable_cycle_is_logged() {
    let mut w = World::new("a Requires b; a After b; b After a");
    let e = w.enqueue("a start").unwrap_err();
    assert_eq!(
        e.log,
        vec![
            "a: Found ordering cycle on b/start",
            "a: Found dependency on a/start",
            "a: Unable to break cycle starting with a/start",
            "Requested transaction contains an unfixable cyclic ordering dependency: Transaction order is cyclic. See system logs for details.",
        ]
    );
}

#[test]
fn enqueued_reports_anchor_installed_and_replaced_jobs() {
    let mut w = World::new("a Requires b; a active; b active; c");
    let stop = w.ok("a stop");
    assert_eq!(w.jobs(), "a/stop");
    let c = w.ok("c start");
    let e = w.ok("a start replace");
    assert_eq!(w.describe(e.anchor), "a/start");
    assert_eq!(e.installed, vec![e.anchor]);
    assert_eq!(w.finished(&e.finished), "a/stop=canceled");
    assert_eq!(e.finished[0].id, stop.anchor);
    // A flush cancels c's start.
    let f = w.ok("b restart flush");
    assert_eq!(w.finished(&f.finished), "c/start=canceled");
    assert!(w.engine.job(c.anchor).is_none());
    assert_eq!(w.jobs(), "a/restart b/restart");
}

#[test]
fn a_job_merged_into_a_queued_job_keeps_its_id() {
    let mut w = World::new("a Requires b");
    let b = w.ok("b start");
    let a = w.ok("a start");
    assert_eq!(a.installed.len(), 2);
    assert!(a.installed.contains(&b.anchor));
    assert_eq!(w.jobs(), "a/start b/start");
    // Merging a restart into the queued start turns it into a restart.
    let r = w.ok("b restart");
    assert_eq!(r.anchor, b.anchor);
    assert_eq!(w.jobs(), "a/start b/restart");
}

#[test]
fn replace_irreversibly_marks_the_whole_transaction() {
    let mut w = World::new("a Requires b");
    w.ok("a start replace-irreversibly");
    assert!(w.engine.jobs().all(|j| j.irreversible));
    // The stop of b propagates to a, whose start is found first.
    let e = w.enqueue("b stop replace").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Transaction for b/stop is destructive (a has 'start' job queued, but 'stop' is included in transaction)."
    );
    assert_eq!(w.jobs(), "a/start b/start");
}

#[test]
fn ignore_dependencies_marks_the_job_to_ignore_ordering() {
    let mut w = World::new("a After b");
    w.ok("b start");
    w.ok("a start ignore-dependencies");
    assert_eq!(w.runnable(), "a/start b/start");
}

#[test]
fn a_resolved_conflict_is_logged() {
    let mut w = World::new("a Wants b; a Conflicts b; b active");
    let e = w.ok("a start");
    // b's wanted start pulls a non-essential stop of a (ConflictedBy=), which yields to
    // the anchor; b's wanted start yields to the essential stop from Conflicts=.
    assert_eq!(
        e.log,
        vec![
            "a: Fixing conflicting jobs a/stop,a/start by deleting job a/stop",
            "b: Fixing conflicting jobs b/stop,b/start by deleting job b/start",
        ]
    );
    assert_eq!(w.jobs(), "a/start b/stop");
}
