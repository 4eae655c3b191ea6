//! The installed jobs and their life cycle.
//!
//! Each unit has at most one installed job, plus at most one `Nop` job in a slot of its own
//! (as in systemd). A job's life:
//!
//! ```text
//!  enqueue ──▶ Waiting ──(runnable: ordering met)──▶ Running ──finish(result)──▶ gone
//!                 ▲  │                                   │
//!                 │  └──── finish / cancel / timeout ────┼──────────────────────▶ gone
//!                 └── restart's stop half Done: becomes a start job ◀┘
//!                 └── a non-superset job merged into a running job: re-run ◀┘
//! ```
//!
//! A job is *runnable* when no installed job of a unit it is ordered against must go first
//! (starts follow `After=`, stops run in reverse, a stop goes before a start either way);
//! every runnable job may run at the same time. When a start or verify-active job does not
//! end `Done`, the start/verify-active jobs of units that `Requires=`, `Requisite=` or
//! `BindsTo=` it end with `Dependency`, recursively; when a stop job fails, so do the start
//! jobs of units that `Conflicts=` it. A start or reload that ends `Done` while the unit is
//! not active fails the jobs of units that `Requisite=` it.

use std::collections::BTreeMap;

use units::{ActiveState, Dependency, Graph, UnitId};

use crate::transaction::{self, Planned};
use crate::types::{
    collapse, is_conflicting, is_superset, merge_and_collapse, order, Finished, Job, JobId,
    JobMode, JobResult, JobState, JobType,
};
use crate::{EnqueueError, LoadState, TransactionError, Units};

/// What an accepted request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    /// The job for the requested unit (possibly an already queued job it merged into).
    pub anchor: JobId,
    /// Every job the transaction installed or merged into, anchor included.
    pub installed: Vec<JobId>,
    /// Jobs this transaction replaced (conflicting type), flushed or isolated away; all
    /// `Canceled`.
    pub finished: Vec<Finished>,
    /// Notable lines logged while building the transaction, e.g. a broken ordering cycle.
    pub log: Vec<String>,
}

/// What the manager must ask a unit to do for a running job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    /// Also the first half of a restart.
    Stop,
    Reload,
}

/// The outcome of [`Engine::begin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The job is running: perform this on the unit, then report with
    /// [`Engine::finish`] or [`Engine::unit_state_changed`].
    Perform(Action),
    /// The job stays waiting: its ordering is not met, or the unit's state says "not yet"
    /// (verify-active of an activating unit, reload of a reloading unit). Try again when a
    /// unit changes state.
    Wait,
    /// The job ended without the unit doing anything (start of an active unit, stop of an
    /// inactive one, verify-active, nop, reload of an inactive unit). Empty when a restart
    /// job's stop half was already done: it is now a waiting start job.
    Finished(Vec<Finished>),
}

/// The outcome of [`Engine::unit_state_changed`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateChange {
    pub finished: Vec<Finished>,
    /// The new state contradicts the unit's running job (systemd then does not
    /// retroactively start or stop dependencies).
    pub unexpected: bool,
}

/// The installed jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    jobs: BTreeMap<JobId, Job>,
    by_unit: BTreeMap<UnitId, JobId>,
    nop_by_unit: BTreeMap<UnitId, JobId>,
    next_id: u32,
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new()
    }
}

impl Engine {
    pub fn new() -> Engine {
        Engine {
            jobs: BTreeMap::new(),
            by_unit: BTreeMap::new(),
            nop_by_unit: BTreeMap::new(),
            next_id: 1,
        }
    }

    /// Rebuilds the engine from persisted jobs (after a manager restart). A job whose id or
    /// unit slot is already taken is skipped; ids continue after the largest one.
    pub fn restore(jobs: impl IntoIterator<Item = Job>) -> Engine {
        let mut e = Engine::new();
        for job in jobs {
            if e.jobs.contains_key(&job.id) {
                continue;
            }
            let slot = if job.job_type == JobType::Nop {
                &mut e.nop_by_unit
            } else {
                &mut e.by_unit
            };
            if slot.contains_key(&job.unit) {
                continue;
            }
            slot.insert(job.unit, job.id);
            e.next_id = e.next_id.max(job.id.0.saturating_add(1));
            e.jobs.insert(job.id, job);
        }
        e
    }

    /// The id the next job will get.
    pub fn next_id(&self) -> u32 {
        self.next_id
    }

    /// Job ids continue from `next` at least (ids are never reused within a boot, also
    /// not across manager restarts, so that a client waiting for a job is never confused).
    pub fn continue_ids_from(&mut self, next: u32) {
        self.next_id = self.next_id.max(next);
    }

    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.values()
    }

    pub fn job(&self, id: JobId) -> Option<&Job> {
        self.jobs.get(&id)
    }

    /// The unit's installed job (not its `Nop` job).
    pub fn job_of(&self, u: UnitId) -> Option<&Job> {
        self.by_unit.get(&u).and_then(|id| self.jobs.get(id))
    }

    pub fn nop_job_of(&self, u: UnitId) -> Option<&Job> {
        self.nop_by_unit.get(&u).and_then(|id| self.jobs.get(id))
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Requests job `t` for `unit` in `mode`, as systemd's `manager_add_job` (and, when
    /// `manual`, the checks `systemctl` requests get: `RefuseManualStart=`/`Stop=`, stop of
    /// an unloaded unit). `t` may be any type; it is collapsed by the unit's state.
    #[allow(clippy::too_many_arguments)]
    pub fn enqueue(
        &mut self,
        graph: &Graph,
        units: &dyn Units,
        unit: UnitId,
        t: JobType,
        mode: JobMode,
        manual: bool,
        now: u64,
    ) -> Result<Enqueued, EnqueueError> {
        let refuse = |error| EnqueueError {
            error,
            log: Vec::new(),
        };
        let state = units.active_state(unit);
        if manual {
            let name = units.name(unit);
            if t == JobType::Stop
                && matches!(
                    units.load_state(unit),
                    LoadState::NotFound | LoadState::Error | LoadState::BadSetting
                )
                && state == ActiveState::Inactive
            {
                return Err(refuse(TransactionError::NotLoaded { unit: name }));
            }
            let (no_start, no_stop) = (
                units.refuse_manual_start(unit),
                units.refuse_manual_stop(unit),
            );
            let refused = match t {
                JobType::Start => no_start,
                JobType::Stop => no_stop,
                JobType::Restart | JobType::TryRestart => no_start || no_stop,
                JobType::ReloadOrStart => no_start && collapse(t, state) == JobType::Start,
                _ => false,
            };
            if refused {
                return Err(refuse(TransactionError::OnlyByDependency { unit: name }));
            }
        }
        if mode == JobMode::Isolate && t != JobType::Start {
            return Err(refuse(TransactionError::InvalidArgs(
                "Isolate is only valid for start.",
            )));
        }
        if mode == JobMode::Isolate && !units.allow_isolate(unit) {
            return Err(refuse(TransactionError::NoIsolation));
        }
        if mode == JobMode::Triggering && t != JobType::Stop {
            return Err(refuse(TransactionError::InvalidArgs(
                "--job-mode=triggering is only valid for stop.",
            )));
        }
        let t = collapse(t, state);
        let plan = transaction::build(graph, units, self, unit, t, mode)?;

        let mut finished = Vec::new();
        if matches!(mode, JobMode::Isolate | JobMode::Flush) {
            let planned_units: Vec<UnitId> = plan.jobs.iter().map(|p| p.unit).collect();
            let victims: Vec<JobId> = self
                .jobs
                .values()
                .filter(|j| !units.ignore_on_isolate(j.unit) && !planned_units.contains(&j.unit))
                .map(|j| j.id)
                .collect();
            for id in victims {
                finished.extend(self.finish_one(id, JobResult::Canceled));
            }
        }
        let mut anchor = None;
        let mut installed = Vec::new();
        for p in &plan.jobs {
            let id = self.install(units, p, now, &mut finished);
            if p.is_anchor {
                anchor = Some(id);
            }
            installed.push(id);
        }
        match anchor {
            Some(anchor) => Ok(Enqueued {
                anchor,
                installed,
                finished,
                log: plan.log,
            }),
            None => Err(EnqueueError {
                error: TransactionError::Internal("the transaction had no anchor job"),
                log: plan.log,
            }),
        }
    }

    /// Installs one planned job: replaces a queued job of a conflicting type (canceling
    /// it), or merges into a mergeable one (which is re-run if it is running and the new
    /// job asks for more, or is a reload: a running reload may have read the old
    /// configuration already).
    fn install(
        &mut self,
        units: &dyn Units,
        p: &Planned,
        now: u64,
        finished: &mut Vec<Finished>,
    ) -> JobId {
        let nop = p.job_type == JobType::Nop;
        let queued = if nop {
            self.nop_by_unit.get(&p.unit)
        } else {
            self.by_unit.get(&p.unit)
        }
        .copied();
        if let Some(qid) = queued {
            let conflicting = self
                .jobs
                .get(&qid)
                .is_some_and(|q| is_conflicting(q.job_type, p.job_type));
            if conflicting {
                finished.extend(self.finish_one(qid, JobResult::Canceled));
            } else if let Some(q) = self.jobs.get_mut(&qid) {
                let late_merge_ok =
                    p.job_type != JobType::Reload && is_superset(q.job_type, p.job_type);
                if q.job_type != JobType::Nop {
                    let state = units.active_state(p.unit);
                    if let Some(t) = merge_and_collapse(q.job_type, p.job_type, state) {
                        q.job_type = t;
                    }
                }
                q.irreversible |= p.irreversible;
                q.ignore_order |= p.ignore_order;
                if q.state == JobState::Running && !late_merge_ok {
                    q.state = JobState::Waiting;
                }
                return qid;
            }
        }
        let id = JobId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        let job = Job {
            id,
            unit: p.unit,
            job_type: p.job_type,
            state: JobState::Waiting,
            irreversible: p.irreversible,
            ignore_order: p.ignore_order,
            deadline: units.job_timeout(p.unit).map(|t| now.saturating_add(t)),
        };
        if nop {
            self.nop_by_unit.insert(p.unit, id);
        } else {
            self.by_unit.insert(p.unit, id);
        }
        self.jobs.insert(id, job);
        id
    }

    fn is_runnable(&self, graph: &Graph, j: &Job) -> bool {
        if j.ignore_order || j.job_type == JobType::Nop {
            return true;
        }
        let me = (j.job_type, j.ignore_order);
        for (dep, before) in [(Dependency::After, false), (Dependency::Before, true)] {
            for other in graph.get(j.unit, dep) {
                if let Some(o) = self.job_of(other) {
                    if order(me, (o.job_type, o.ignore_order), before)
                        == std::cmp::Ordering::Greater
                    {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Waiting jobs whose ordering constraints are met; all of them may run in parallel.
    pub fn runnable(&self, graph: &Graph) -> Vec<JobId> {
        self.jobs
            .values()
            .filter(|j| j.state == JobState::Waiting && self.is_runnable(graph, j))
            .map(|j| j.id)
            .collect()
    }

    /// Marks a job running and arms `JobRunningTimeoutSec=` if that ends earlier than the
    /// job's deadline.
    pub fn set_running(&mut self, units: &dyn Units, id: JobId, now: u64) {
        let Some(j) = self.jobs.get_mut(&id) else {
            return;
        };
        j.state = JobState::Running;
        if let Some(t) = units.job_running_timeout(j.unit) {
            let running_deadline = now.saturating_add(t);
            j.deadline = Some(
                j.deadline
                    .map_or(running_deadline, |d| d.min(running_deadline)),
            );
        }
    }

    /// Runs a waiting job if it is runnable (systemd's `job_run_and_invalidate`): decides
    /// from the unit's state whether the job is already satisfied, must wait, or needs the
    /// unit to act.
    pub fn begin(&mut self, graph: &Graph, units: &dyn Units, id: JobId, now: u64) -> Begin {
        let Some(j) = self.jobs.get(&id) else {
            return Begin::Finished(Vec::new());
        };
        if j.state != JobState::Waiting || !self.is_runnable(graph, j) {
            return Begin::Wait;
        }
        let (unit, t) = (j.unit, j.job_type);
        let state = units.active_state(unit);
        let done = |e: &mut Engine, r| Begin::Finished(e.finish(graph, units, id, r));
        match t {
            JobType::Nop => done(self, JobResult::Done),
            JobType::VerifyActive => {
                if state.is_active_or_reloading() {
                    done(self, JobResult::Done)
                } else if state == ActiveState::Activating {
                    Begin::Wait
                } else {
                    done(self, JobResult::Skipped)
                }
            }
            JobType::Start => {
                if state.is_active_or_reloading() {
                    done(self, JobResult::Done)
                } else {
                    self.set_running(units, id, now);
                    Begin::Perform(Action::Start)
                }
            }
            JobType::Stop | JobType::Restart => {
                if state.is_inactive_or_failed() {
                    done(self, JobResult::Done)
                } else {
                    self.set_running(units, id, now);
                    Begin::Perform(Action::Stop)
                }
            }
            JobType::Reload => {
                if state == ActiveState::Reloading {
                    Begin::Wait
                } else if state != ActiveState::Active {
                    done(self, JobResult::Invalid)
                } else {
                    self.set_running(units, id, now);
                    Begin::Perform(Action::Reload)
                }
            }
            // Never installed; finish rather than leave a job nothing can run.
            JobType::TryRestart | JobType::TryReload | JobType::ReloadOrStart => {
                done(self, JobResult::Invalid)
            }
        }
    }

    /// Ends job `id` with `result`, and with `Dependency` every job that needed it
    /// (systemd's `job_finish_and_invalidate` with `recursive`). A restart job ending
    /// `Done` is not finished: it becomes a waiting start job. Returns the job and the
    /// jobs that failed because of it, in the order they ended.
    pub fn finish(
        &mut self,
        graph: &Graph,
        units: &dyn Units,
        id: JobId,
        result: JobResult,
    ) -> Vec<Finished> {
        let mut out = Vec::new();
        let mut stack = vec![(id, result)];
        while let Some((id, result)) = stack.pop() {
            let Some(f) = self.finish_one(id, result) else {
                continue;
            };
            out.push(f);
            let mut dependents = Vec::new();
            if result != JobResult::Done {
                let (deps, types): (&[Dependency], _) = match f.job_type {
                    JobType::Start | JobType::VerifyActive => (
                        &[
                            Dependency::RequiredBy,
                            Dependency::RequisiteOf,
                            Dependency::BoundBy,
                        ],
                        true,
                    ),
                    JobType::Stop => (&[Dependency::ConflictedBy], true),
                    _ => (&[], false),
                };
                if types {
                    dependents.extend(self.start_jobs_of(graph, f.unit, deps));
                }
            }
            if result == JobResult::Done
                && matches!(f.job_type, JobType::Start | JobType::Reload)
                && !units.active_state(f.unit).is_active_or_reloading()
            {
                dependents.extend(self.start_jobs_of(graph, f.unit, &[Dependency::RequisiteOf]));
            }
            // Reverse so that the first dependent is finished first, as systemd's recursion.
            for d in dependents.into_iter().rev() {
                stack.push((d, JobResult::Dependency));
            }
        }
        out
    }

    /// The start and verify-active jobs of the units `u` has an edge of `deps` to.
    fn start_jobs_of(&self, graph: &Graph, u: UnitId, deps: &[Dependency]) -> Vec<JobId> {
        let mut ids = Vec::new();
        for &d in deps {
            for other in graph.get(u, d) {
                if let Some(j) = self.job_of(other) {
                    if matches!(j.job_type, JobType::Start | JobType::VerifyActive)
                        && !ids.contains(&j.id)
                    {
                        ids.push(j.id);
                    }
                }
            }
        }
        ids
    }

    /// Ends one job without touching others; `None` if it is unknown or a restart's stop
    /// half just completed.
    fn finish_one(&mut self, id: JobId, result: JobResult) -> Option<Finished> {
        let j = self.jobs.get_mut(&id)?;
        if result == JobResult::Done && j.job_type == JobType::Restart {
            j.job_type = JobType::Start;
            j.state = JobState::Waiting;
            return None;
        }
        let j = self.jobs.remove(&id)?;
        let slot = if j.job_type == JobType::Nop {
            &mut self.nop_by_unit
        } else {
            &mut self.by_unit
        };
        if slot.get(&j.unit) == Some(&id) {
            slot.remove(&j.unit);
        }
        Some(Finished {
            id,
            unit: j.unit,
            job_type: j.job_type,
            result,
        })
    }

    /// Cancels a job on request (`systemctl cancel`): like a failure, it fails the jobs that
    /// required it with `Dependency`.
    pub fn cancel(&mut self, graph: &Graph, units: &dyn Units, id: JobId) -> Vec<Finished> {
        self.finish(graph, units, id, JobResult::Canceled)
    }

    /// Jobs whose deadline has passed.
    pub fn expired(&self, now: u64) -> Vec<JobId> {
        self.jobs
            .values()
            .filter(|j| j.deadline.is_some_and(|d| d <= now))
            .map(|j| j.id)
            .collect()
    }

    /// The earliest deadline, for the manager's timer.
    pub fn next_deadline(&self) -> Option<u64> {
        self.jobs.values().filter_map(|j| j.deadline).min()
    }

    /// Finishes every expired job with `Timeout` (and their dependents with
    /// `Dependency`). The manager runs `JobTimeoutAction=` of the unit of each entry whose
    /// result is `Timeout`.
    pub fn expire(&mut self, graph: &Graph, units: &dyn Units, now: u64) -> Vec<Finished> {
        let mut out = Vec::new();
        for id in self.expired(now) {
            out.extend(self.finish(graph, units, id, JobResult::Timeout));
        }
        out
    }

    /// Lets the unit's job react to a new active state (systemd's `unit_process_job`):
    /// reaching the goal finishes it `Done`; a running job contradicted by the new state
    /// finishes `Failed` (or `Done` for a start that ended inactive without failing).
    /// `reload_failed` is the unit's report that a reload did not succeed.
    pub fn unit_state_changed(
        &mut self,
        graph: &Graph,
        units: &dyn Units,
        u: UnitId,
        new: ActiveState,
        reload_failed: bool,
    ) -> StateChange {
        let Some(j) = self.job_of(u) else {
            return StateChange::default();
        };
        let (id, running) = (j.id, j.state == JobState::Running);
        let mut unexpected = false;
        let result = match j.job_type {
            JobType::Start | JobType::VerifyActive => {
                if new.is_active_or_reloading() {
                    Some(JobResult::Done)
                } else if running && new != ActiveState::Activating {
                    unexpected = true;
                    match new {
                        ActiveState::Failed => Some(JobResult::Failed),
                        ActiveState::Inactive => Some(JobResult::Done),
                        _ => None,
                    }
                } else {
                    None
                }
            }
            JobType::Reload | JobType::ReloadOrStart | JobType::TryReload => {
                if !running {
                    None
                } else if new == ActiveState::Active {
                    Some(if reload_failed {
                        JobResult::Failed
                    } else {
                        JobResult::Done
                    })
                } else if !matches!(new, ActiveState::Activating | ActiveState::Reloading) {
                    unexpected = true;
                    match new {
                        ActiveState::Failed => Some(JobResult::Failed),
                        ActiveState::Inactive => Some(JobResult::Done),
                        _ => None,
                    }
                } else {
                    None
                }
            }
            JobType::Stop | JobType::Restart | JobType::TryRestart => {
                if new.is_inactive_or_failed() {
                    Some(JobResult::Done)
                } else if running && new != ActiveState::Deactivating {
                    unexpected = true;
                    Some(JobResult::Failed)
                } else {
                    None
                }
            }
            JobType::Nop => None,
        };
        let finished = match result {
            Some(r) => self.finish(graph, units, id, r),
            None => Vec::new(),
        };
        StateChange {
            finished,
            unexpected,
        }
    }
}
