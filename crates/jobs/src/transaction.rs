//! One transaction: the jobs a request needs, before they are installed.
//!
//! Building follows systemd's `transaction_add_job_and_dependencies`: the anchor job is
//! added, then, recursively and once per (unit, type), the jobs its dependencies ask for:
//!
//! | job | dependency | pulls in | essential |
//! |---|---|---|---|
//! | start, restart | `Requires=`, `BindsTo=` | start | yes |
//! | start, restart | `Wants=`, `Upholds=` | start | no (errors ignored) |
//! | start, restart | `Requisite=` | verify-active | yes |
//! | start, restart | `Conflicts=` | stop (marked "conflicts") | yes |
//! | start, restart | `ConflictedBy=` | stop | no |
//! | stop | `RequiredBy=`, `RequisiteOf=`, `BoundBy=`, `ConsistsOf=`, `PropagatesStopTo=` | stop | yes |
//! | restart | `RequiredBy=`, `RequisiteOf=`, `BoundBy=`, `ConsistsOf=` | try-restart (collapsed) | yes |
//! | reload | `PropagatesReloadTo=` | try-reload (collapsed) | no |
//!
//! Each pulled-in job is linked to the job that pulled it in ("subject needs object"),
//! flagged *matters* when essential. Activation then reduces the transaction in systemd's
//! order: mark the jobs that matter to the anchor (reachable over essential links);
//! in mode `fail`, drop non-essential jobs that would stop a running unit or change a
//! queued job; drop units whose jobs are all redundant for the unit's state; collect
//! jobs nothing needs any more; find ordering cycles and break each by deleting the jobs
//! of one unit on the cycle that does not matter to the anchor (fail if there is none);
//! merge the jobs of each unit (deleting a non-essential side of an unmergeable pair, fail
//! if both sides are essential); drop redundant jobs again; refuse to replace queued jobs
//! in mode `fail` or when they are irreversible. The result is one job per unit.
//!
//! Deviation: systemd decides which units isolate keeps while it is adding the isolate stop
//! jobs, so the outcome depends on hash order; here the set of kept units is the
//! transaction as it stood before isolate jobs were added.

use std::collections::{BTreeMap, BTreeSet};

use units::{ActiveState, Dependency, Graph, UnitId};

use crate::engine::Engine;
use crate::types::{
    collapse, is_active_or_activating, is_conflicting, is_redundant, merge, merge_and_collapse,
    order, JobId, JobMode, JobType,
};
use crate::{EnqueueError, LoadState, TransactionError, Units};

/// One job of an activated transaction, ready to be installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    pub unit: UnitId,
    pub job_type: JobType,
    pub irreversible: bool,
    pub ignore_order: bool,
    pub is_anchor: bool,
}

/// An activated transaction: one job per unit, and what was logged on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub jobs: Vec<Planned>,
    pub log: Vec<String>,
}

#[derive(Debug, Clone)]
struct TJob {
    unit: UnitId,
    ty: JobType,
    matters_to_anchor: bool,
    irreversible: bool,
    ignore_order: bool,
    alive: bool,
    /// Links in which this job is the one that needs another.
    subjects: Vec<usize>,
    /// Links in which another job needs this one.
    objects: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Link {
    subject: usize,
    object: usize,
    matters: bool,
    conflicts: bool,
    alive: bool,
}

/// A job as the ordering check sees it: one of the transaction, or an installed job of a
/// unit the transaction has no job for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Planned(usize),
    Installed(JobId),
}

enum OrderCheck {
    /// A job was deleted to break a cycle; check again.
    Again,
    Cyclic,
}

struct Tr<'a> {
    graph: &'a Graph,
    units: &'a dyn Units,
    installed: &'a Engine,
    jobs: Vec<TJob>,
    links: Vec<Link>,
    /// The jobs of each unit, most recently added first (systemd prepends).
    per_unit: BTreeMap<UnitId, Vec<usize>>,
    anchor: Option<usize>,
    irreversible: bool,
    log: Vec<String>,
}

/// Builds and activates the transaction for `t` (already collapsed) on `unit`.
pub(crate) fn build(
    graph: &Graph,
    units: &dyn Units,
    installed: &Engine,
    unit: UnitId,
    t: JobType,
    mode: JobMode,
) -> Result<Plan, EnqueueError> {
    let mut tr = Tr {
        graph,
        units,
        installed,
        jobs: Vec::new(),
        links: Vec::new(),
        per_unit: BTreeMap::new(),
        anchor: None,
        irreversible: mode == JobMode::ReplaceIrreversibly,
        log: Vec::new(),
    };
    let result = tr.build(unit, t, mode);
    match result {
        Ok(()) => Ok(Plan {
            jobs: tr.planned(),
            log: tr.log,
        }),
        Err(error) => Err(EnqueueError { error, log: tr.log }),
    }
}

impl Tr<'_> {
    fn build(&mut self, unit: UnitId, t: JobType, mode: JobMode) -> Result<(), TransactionError> {
        let ignore_requirements = matches!(
            mode,
            JobMode::IgnoreDependencies | JobMode::IgnoreRequirements
        );
        let ignore_order = mode == JobMode::IgnoreDependencies;
        self.add(
            t,
            unit,
            None,
            true,
            false,
            ignore_requirements,
            ignore_order,
        )?;
        if mode == JobMode::Isolate {
            self.add_isolate_jobs();
        }
        if mode == JobMode::Triggering {
            self.add_triggering_jobs(unit);
        }
        self.activate(mode)
    }

    fn name(&self, u: UnitId) -> String {
        self.units.name(u)
    }

    fn state(&self, u: UnitId) -> ActiveState {
        self.units.active_state(u)
    }

    fn ty(&self, j: usize) -> JobType {
        self.jobs.get(j).map_or(JobType::Nop, |j| j.ty)
    }

    fn unit_of(&self, j: usize) -> Option<UnitId> {
        self.jobs.get(j).map(|j| j.unit)
    }

    fn installed_type(&self, u: UnitId) -> Option<JobType> {
        self.installed.job_of(u).map(|j| j.job_type)
    }

    fn unit_jobs(&self, u: UnitId) -> Vec<usize> {
        self.per_unit.get(&u).cloned().unwrap_or_default()
    }

    // ---- building ----

    /// Systemd's applicability and load checks for one job.
    fn check(&self, t: JobType, u: UnitId) -> Result<(), TransactionError> {
        if t != JobType::Stop {
            let unit = self.name(u);
            match self.units.load_state(u) {
                LoadState::Loaded => {}
                LoadState::NotFound => return Err(TransactionError::NotFound { unit }),
                LoadState::Masked => return Err(TransactionError::Masked { unit }),
                LoadState::BadSetting => return Err(TransactionError::BadSetting { unit }),
                LoadState::Error => return Err(TransactionError::LoadFailed { unit }),
            }
        }
        let applicable = match t {
            JobType::Start | JobType::VerifyActive | JobType::Nop => true,
            JobType::Stop => self.units.can_stop(u),
            JobType::Restart | JobType::TryRestart => {
                self.units.can_stop(u) && self.units.can_start(u)
            }
            JobType::Reload | JobType::TryReload => self.units.can_reload(u),
            JobType::ReloadOrStart => self.units.can_reload(u) && self.units.can_start(u),
        };
        if applicable {
            Ok(())
        } else {
            Err(TransactionError::NotApplicable {
                job_type: t,
                unit: self.name(u),
            })
        }
    }

    /// Adds a job of type `t` for `u` (reusing one of the same type), links it to `by`, and,
    /// if new, the jobs its dependencies ask for.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        t: JobType,
        u: UnitId,
        by: Option<usize>,
        matters: bool,
        conflicts: bool,
        ignore_requirements: bool,
        ignore_order: bool,
    ) -> Result<(), TransactionError> {
        self.check(t, u)?;
        let existing = self
            .per_unit
            .get(&u)
            .and_then(|l| l.iter().copied().find(|&j| self.ty(j) == t));
        let (j, is_new) = match existing {
            Some(j) => (j, false),
            None => {
                let j = self.jobs.len();
                self.jobs.push(TJob {
                    unit: u,
                    ty: t,
                    matters_to_anchor: false,
                    irreversible: self.irreversible,
                    ignore_order: false,
                    alive: true,
                    subjects: Vec::new(),
                    objects: Vec::new(),
                });
                self.per_unit.entry(u).or_default().insert(0, j);
                (j, true)
            }
        };
        if let Some(job) = self.jobs.get_mut(j) {
            job.ignore_order |= ignore_order;
        }
        match by {
            Some(subject) => self.link(subject, j, matters, conflicts),
            None => self.anchor = Some(j),
        }
        if !is_new || ignore_requirements || t == JobType::Nop {
            return Ok(());
        }

        if matches!(t, JobType::Start | JobType::Restart) {
            use Dependency::*;
            self.pull(
                j,
                u,
                &[Requires, BindsTo],
                JobType::Start,
                true,
                false,
                ignore_order,
            )?;
            self.pull(
                j,
                u,
                &[Wants, Upholds],
                JobType::Start,
                false,
                false,
                ignore_order,
            )?;
            self.pull(
                j,
                u,
                &[Requisite],
                JobType::VerifyActive,
                true,
                false,
                ignore_order,
            )?;
            self.pull(j, u, &[Conflicts], JobType::Stop, true, true, ignore_order)?;
            self.pull(
                j,
                u,
                &[ConflictedBy],
                JobType::Stop,
                false,
                false,
                ignore_order,
            )?;
        }
        if matches!(t, JobType::Stop | JobType::Restart) {
            use Dependency::*;
            // Restart propagates only as try-restart, so it starts nothing that was not
            // running.
            let (deps, pt): (&[Dependency], JobType) = if t == JobType::Restart {
                (
                    &[RequiredBy, RequisiteOf, BoundBy, ConsistsOf],
                    JobType::TryRestart,
                )
            } else {
                (
                    &[
                        RequiredBy,
                        RequisiteOf,
                        BoundBy,
                        ConsistsOf,
                        PropagatesStopTo,
                    ],
                    JobType::Stop,
                )
            };
            for other in self.targets(u, deps) {
                let nt = collapse(pt, self.state(other));
                if nt == JobType::Nop {
                    continue;
                }
                match self.add(nt, other, Some(j), true, false, false, ignore_order) {
                    Ok(()) | Err(TransactionError::NotApplicable { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if t == JobType::Reload {
            for other in self.targets(u, &[Dependency::PropagatesReloadTo]) {
                let nt = collapse(JobType::TryReload, self.state(other));
                if nt == JobType::Nop {
                    continue;
                }
                if let Err(e) = self.add(nt, other, Some(j), false, false, false, ignore_order) {
                    let name = self.name(other);
                    self.log.push(format!(
                        "{name}: Cannot add dependency reload job, ignoring: {e}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The units `u` has an edge of any of `deps` to, each once, in a stable order.
    fn targets(&self, u: UnitId, deps: &[Dependency]) -> Vec<UnitId> {
        let set: BTreeSet<UnitId> = deps.iter().flat_map(|&d| self.graph.get(u, d)).collect();
        set.into_iter().collect()
    }

    /// Pulls in `t` jobs for the units `deps` point to. Essential pulls fail the transaction
    /// on any error but "not applicable"; non-essential ones log and go on.
    #[allow(clippy::too_many_arguments)]
    fn pull(
        &mut self,
        by: usize,
        u: UnitId,
        deps: &[Dependency],
        t: JobType,
        essential: bool,
        conflicts: bool,
        ignore_order: bool,
    ) -> Result<(), TransactionError> {
        for other in self.targets(u, deps) {
            match self.add(
                t,
                other,
                Some(by),
                essential,
                conflicts,
                false,
                ignore_order,
            ) {
                Ok(()) => {}
                Err(TransactionError::NotApplicable { .. }) if essential => {}
                Err(e) if essential => return Err(e),
                Err(e) => {
                    if !e.is_quiet_for_wants() {
                        let name = self.name(other);
                        self.log
                            .push(format!("{name}: Cannot add dependency job, ignoring: {e}"));
                    }
                }
            }
        }
        Ok(())
    }

    fn link(&mut self, subject: usize, object: usize, matters: bool, conflicts: bool) {
        let l = self.links.len();
        self.links.push(Link {
            subject,
            object,
            matters,
            conflicts,
            alive: true,
        });
        if let Some(s) = self.jobs.get_mut(subject) {
            s.subjects.push(l);
        }
        if let Some(o) = self.jobs.get_mut(object) {
            o.objects.push(l);
        }
    }

    /// Isolate: stop every unit that runs or has a job, unless the transaction already has
    /// a job for it, it has `IgnoreOnIsolate=`, or it is triggered by a unit that is kept.
    fn add_isolate_jobs(&mut self) {
        let Some(anchor) = self.anchor else {
            return;
        };
        let in_transaction: BTreeSet<UnitId> = self.per_unit.keys().copied().collect();
        let kept = |u: UnitId| self.units.ignore_on_isolate(u) || in_transaction.contains(&u);
        let mut to_stop = Vec::new();
        let mut all = self.units.all();
        all.sort();
        all.dedup();
        for u in all {
            if self.state(u).is_inactive_or_failed() && self.installed.job_of(u).is_none() {
                continue;
            }
            if kept(u) {
                continue;
            }
            if self.graph.get(u, Dependency::TriggeredBy).any(kept) {
                continue;
            }
            to_stop.push(u);
        }
        for u in to_stop {
            if self.per_unit.contains_key(&u) {
                // Already stopped through a dependency of an earlier isolate job.
                continue;
            }
            if let Err(e) = self.add(JobType::Stop, u, Some(anchor), true, false, false, false) {
                let name = self.name(u);
                self.log
                    .push(format!("{name}: Cannot add isolate job, ignoring: {e}"));
            }
        }
    }

    /// Triggering: also stop the running units that trigger this one.
    fn add_triggering_jobs(&mut self, unit: UnitId) {
        let Some(anchor) = self.anchor else {
            return;
        };
        let triggers: Vec<UnitId> = self.graph.get(unit, Dependency::TriggeredBy).collect();
        for t in triggers {
            if self.state(t).is_inactive_or_failed() && self.installed.job_of(t).is_none() {
                continue;
            }
            if self.per_unit.contains_key(&t) {
                continue;
            }
            if let Err(e) = self.add(JobType::Stop, t, Some(anchor), true, false, false, false) {
                let name = self.name(unit);
                self.log.push(format!(
                    "{name}: Cannot add triggered by job, ignoring: {e}"
                ));
            }
        }
    }

    // ---- deleting ----

    fn alive_links(&self, ls: &[usize]) -> Vec<usize> {
        ls.iter()
            .copied()
            .filter(|&l| self.links.get(l).is_some_and(|l| l.alive))
            .collect()
    }

    /// Removes job `j`; with `delete_dependencies`, also every job that needed it
    /// essentially, recursively.
    fn delete_job(&mut self, j: usize, delete_dependencies: bool) {
        let Some(job) = self.jobs.get_mut(j) else {
            return;
        };
        if !job.alive {
            return;
        }
        job.alive = false;
        let unit = job.unit;
        let subjects = std::mem::take(&mut job.subjects);
        let objects = std::mem::take(&mut job.objects);
        if let Some(list) = self.per_unit.get_mut(&unit) {
            list.retain(|&k| k != j);
            if list.is_empty() {
                self.per_unit.remove(&unit);
            }
        }
        for l in subjects {
            if let Some(link) = self.links.get_mut(l) {
                link.alive = false;
            }
        }
        for l in objects {
            let Some(link) = self.links.get_mut(l) else {
                continue;
            };
            if !link.alive {
                continue;
            }
            link.alive = false;
            let (needer, matters) = (link.subject, link.matters);
            if matters && delete_dependencies {
                self.delete_job(needer, true);
            }
        }
    }

    fn delete_unit(&mut self, u: UnitId) {
        for j in self.unit_jobs(u) {
            self.delete_job(j, true);
        }
    }

    // ---- activation ----

    fn activate(&mut self, mode: JobMode) -> Result<(), TransactionError> {
        self.mark_jobs_that_matter();
        if mode == JobMode::Fail {
            self.minimize_impact();
        }
        self.drop_redundant();
        // Merging can change a job's type (start + restart = restart), so the order is
        // checked again on the merged transaction; a job deleted then means merging again.
        loop {
            loop {
                if mode != JobMode::Isolate {
                    self.collect_garbage();
                }
                match self.verify_order() {
                    Ok(()) => break,
                    Err(OrderCheck::Again) => continue,
                    Err(OrderCheck::Cyclic) => return Err(self.unfixable_cycle()),
                }
            }
            loop {
                match self.merge_jobs() {
                    Ok(true) => break,
                    Ok(false) => {
                        if mode != JobMode::Isolate {
                            self.collect_garbage();
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            match self.verify_order() {
                Ok(()) => break,
                Err(OrderCheck::Again) => continue,
                Err(OrderCheck::Cyclic) => return Err(self.unfixable_cycle()),
            }
        }
        self.drop_redundant();
        self.check_destructive(mode)?;
        match self.anchor {
            Some(a) if self.jobs.get(a).is_some_and(|j| j.alive) => Ok(()),
            _ => Err(TransactionError::Internal("the anchor job was deleted")),
        }
    }

    fn unfixable_cycle(&mut self) -> TransactionError {
        self.log.push(format!(
            "Requested transaction contains an unfixable cyclic ordering dependency: {}",
            TransactionError::OrderIsCyclic
        ));
        TransactionError::OrderIsCyclic
    }

    /// Marks every job reachable from the anchor over essential links.
    fn mark_jobs_that_matter(&mut self) {
        let mut stack: Vec<usize> = self.anchor.into_iter().collect();
        while let Some(j) = stack.pop() {
            let Some(job) = self.jobs.get_mut(j) else {
                continue;
            };
            if job.matters_to_anchor {
                continue;
            }
            job.matters_to_anchor = true;
            let subjects = job.subjects.clone();
            for l in subjects {
                if let Some(link) = self.links.get(l) {
                    if link.alive && link.matters {
                        stack.push(link.object);
                    }
                }
            }
        }
    }

    /// Mode `fail`: drop non-essential jobs that would stop a running unit or change a
    /// queued job.
    fn minimize_impact(&mut self) {
        loop {
            let victim = self.per_unit.values().flatten().copied().find(|&j| {
                let Some(job) = self.jobs.get(j) else {
                    return false;
                };
                if job.matters_to_anchor {
                    return false;
                }
                let stops_running =
                    job.ty == JobType::Stop && is_active_or_activating(self.state(job.unit));
                let changes_queued = self
                    .installed_type(job.unit)
                    .is_some_and(|q| is_conflicting(job.ty, q));
                stops_running || changes_queued
            });
            let Some(j) = victim else {
                return;
            };
            if let Some(u) = self.unit_of(j) {
                let (name, ty) = (self.name(u), self.ty(j));
                self.log
                    .push(format!("{name}: Deleting {name}/{ty} to minimize impact."));
            }
            self.delete_job(j, true);
        }
    }

    /// Drops every unit whose jobs would all change nothing, unless one is the anchor or
    /// would replace a conflicting queued job.
    fn drop_redundant(&mut self) {
        let units: Vec<UnitId> = self.per_unit.keys().copied().collect();
        for u in units {
            let jobs = self.unit_jobs(u);
            let state = self.state(u);
            let queued = self.installed_type(u);
            let keep = jobs.iter().any(|&j| {
                let t = self.ty(j);
                Some(j) == self.anchor
                    || !is_redundant(t, state)
                    || queued.is_some_and(|q| is_conflicting(t, q))
            });
            if !keep {
                for j in jobs {
                    self.delete_job(j, false);
                }
            }
        }
    }

    /// Drops jobs nothing needs any more.
    fn collect_garbage(&mut self) {
        loop {
            let orphan = self.per_unit.values().flatten().copied().find(|&j| {
                Some(j) != self.anchor
                    && self
                        .jobs
                        .get(j)
                        .is_some_and(|job| self.alive_links(&job.objects).is_empty())
            });
            match orphan {
                Some(j) => self.delete_job(j, true),
                None => return,
            }
        }
    }

    fn unit_matters_to_anchor(&self, u: UnitId) -> bool {
        self.per_unit.get(&u).is_some_and(|l| {
            l.iter()
                .any(|&j| self.jobs.get(j).is_some_and(|j| j.matters_to_anchor))
        })
    }

    fn node_info(&self, n: Node) -> Option<(UnitId, JobType, bool)> {
        match n {
            Node::Planned(j) => self.jobs.get(j).map(|j| (j.unit, j.ty, j.ignore_order)),
            Node::Installed(id) => self
                .installed
                .job(id)
                .map(|j| (j.unit, j.job_type, j.ignore_order)),
        }
    }

    /// The job the ordering check looks at for `u`: the transaction's newest job for it,
    /// else the installed one.
    fn node_of(&self, u: UnitId) -> Option<Node> {
        if let Some(&j) = self.per_unit.get(&u).and_then(|l| l.first()) {
            return Some(Node::Planned(j));
        }
        self.installed.job_of(u).map(|j| Node::Installed(j.id))
    }

    /// The type the ordering check uses for a job: what it will be once installed (merged
    /// with the unit's queued job), and, in the `after_restarts` pass, restart jobs as the
    /// start jobs they turn into.
    fn order_type(&self, n: Node, after_restarts: bool) -> Option<(UnitId, JobType, bool)> {
        let (unit, mut ty, ignore) = self.node_info(n)?;
        if let Node::Planned(_) = n {
            if let Some(q) = self.installed_type(unit) {
                if let Some(m) = merge_and_collapse(q, ty, self.state(unit)) {
                    ty = m;
                }
            }
        }
        if after_restarts && ty == JobType::Restart {
            ty = JobType::Start;
        }
        Some((unit, ty, ignore))
    }

    /// Looks for ordering cycles twice: with restart jobs ordered as stops (as they run
    /// first), and as the starts they become. A stop never waits for a start, so every
    /// cycle the jobs can ever wait in is made of stops only or of starts only, and is
    /// found by one of the two passes. (systemd checks only the first, so a restart whose
    /// start half closes a cycle waits forever there.)
    fn verify_order(&mut self) -> Result<(), OrderCheck> {
        for after_restarts in [false, true] {
            let mut marks: BTreeMap<Node, Option<Node>> = BTreeMap::new();
            let heads: Vec<Node> = self
                .per_unit
                .values()
                .filter_map(|l| l.first().copied())
                .map(Node::Planned)
                .collect();
            for n in heads {
                self.verify_order_from(n, None, after_restarts, &mut marks)?;
            }
        }
        Ok(())
    }

    /// Depth-first walk along "must run before" edges between jobs. `marks` holds, for each
    /// visited job, the job it was reached from while it is on the current path, and
    /// `None` once everything behind it is known to be acyclic.
    fn verify_order_from(
        &mut self,
        j: Node,
        from: Option<Node>,
        after_restarts: bool,
        marks: &mut BTreeMap<Node, Option<Node>>,
    ) -> Result<(), OrderCheck> {
        if let Some(mark) = marks.get(&j) {
            if mark.is_none() {
                return Ok(());
            }
            return Err(self.break_cycle(j, from, marks));
        }
        let Some((unit, ty, ignore)) = self.order_type(j, after_restarts) else {
            return Ok(());
        };
        marks.insert(j, Some(from.unwrap_or(j)));
        for (dep, before) in [(Dependency::Before, true), (Dependency::After, false)] {
            let others: Vec<UnitId> = self.graph.get(unit, dep).collect();
            for u in others {
                let Some(o) = self.node_of(u) else {
                    continue;
                };
                let Some((_, oty, oignore)) = self.order_type(o, after_restarts) else {
                    continue;
                };
                if order((ty, ignore), (oty, oignore), before) != std::cmp::Ordering::Less {
                    continue;
                }
                self.verify_order_from(o, Some(j), after_restarts, marks)?;
            }
        }
        marks.insert(j, None);
        Ok(())
    }

    /// `j` was reached again from `from` while still on the path: walk the path back to `j`,
    /// log the cycle, and delete the first unit on it whose jobs do not matter to the anchor.
    fn break_cycle(
        &mut self,
        j: Node,
        from: Option<Node>,
        marks: &BTreeMap<Node, Option<Node>>,
    ) -> OrderCheck {
        let mut cycle = Vec::new();
        let mut delete = None;
        let mut k = from;
        while let Some(kn) = k {
            if cycle.contains(&kn) {
                break;
            }
            cycle.push(kn);
            if delete.is_none() {
                if let Node::Planned(idx) = kn {
                    if let Some(u) = self.unit_of(idx) {
                        if self.per_unit.contains_key(&u) && !self.unit_matters_to_anchor(u) {
                            delete = Some(kn);
                        }
                    }
                }
            }
            if kn == j {
                break;
            }
            k = match marks.get(&kn) {
                Some(Some(m)) if *m != kn => Some(*m),
                _ => None,
            };
        }
        let describe = |n: Node| self.describe(n);
        let start = describe(j);
        let prefix = self
            .node_info(j)
            .map(|(u, _, _)| self.name(u))
            .unwrap_or_default();
        let mut lines = Vec::new();
        for (i, n) in cycle.iter().enumerate() {
            let what = if i == 0 {
                "ordering cycle"
            } else {
                "dependency"
            };
            lines.push(format!("{prefix}: Found {what} on {}", describe(*n)));
        }
        let victim = delete.map(describe);
        self.log.extend(lines);
        match delete {
            Some(d) => {
                let victim = victim.unwrap_or_default();
                self.log.push(format!(
                    "{prefix}: Job {victim} deleted to break ordering cycle starting with {start}"
                ));
                if let Some(u) = self.node_info(d).map(|(u, _, _)| u) {
                    self.delete_unit(u);
                }
                OrderCheck::Again
            }
            None => {
                self.log.push(format!(
                    "{prefix}: Unable to break cycle starting with {start}"
                ));
                OrderCheck::Cyclic
            }
        }
    }

    fn describe(&self, n: Node) -> String {
        match self.node_info(n) {
            Some((u, t, _)) => format!("{}/{}", self.name(u), t),
            None => String::from("?"),
        }
    }

    fn conflicted_by(&self, j: usize) -> bool {
        self.jobs.get(j).is_some_and(|job| {
            job.objects
                .iter()
                .any(|&l| self.links.get(l).is_some_and(|l| l.alive && l.conflicts))
        })
    }

    fn matters(&self, j: usize) -> bool {
        self.jobs.get(j).is_some_and(|j| j.matters_to_anchor)
    }

    /// Merges the jobs of every unit into one. `Ok(false)`: a job was deleted to resolve
    /// a conflict, call again after collecting garbage.
    fn merge_jobs(&mut self) -> Result<bool, TransactionError> {
        let units: Vec<UnitId> = self.per_unit.keys().copied().collect();
        for &u in &units {
            let jobs = self.unit_jobs(u);
            let state = self.state(u);
            let Some((&first, rest)) = jobs.split_first() else {
                continue;
            };
            let mut t = self.ty(first);
            for &k in rest {
                match merge_and_collapse(t, self.ty(k), state) {
                    Some(m) => t = m,
                    None => {
                        if self.delete_one_unmergeable(&jobs) {
                            return Ok(false);
                        }
                        return Err(TransactionError::ConflictingJobs {
                            a: t,
                            b: self.ty(k),
                            unit: self.name(u),
                        });
                    }
                }
            }
        }
        for &u in &units {
            let jobs = self.unit_jobs(u);
            if jobs.len() < 2 {
                continue;
            }
            let state = self.state(u);
            let mut t = JobType::Nop;
            for (i, &k) in jobs.iter().enumerate() {
                t = if i == 0 {
                    self.ty(k)
                } else {
                    match merge_and_collapse(t, self.ty(k), state) {
                        Some(m) => m,
                        None => return Err(TransactionError::Internal("unmergeable after check")),
                    }
                };
            }
            let survivor = match self.anchor {
                Some(a) if jobs.contains(&a) => a,
                _ => jobs.first().copied().unwrap_or_default(),
            };
            for other in jobs {
                if other != survivor {
                    self.merge_into(survivor, other, t);
                }
            }
        }
        Ok(true)
    }

    /// Deletes one side of the first unmergeable pair among `jobs`, preferring jobs that
    /// do not matter to the anchor and, between two such, keeping starts over stops
    /// unless the stop comes from a `Conflicts=`. False if both sides matter.
    fn delete_one_unmergeable(&mut self, jobs: &[usize]) -> bool {
        for (i, &j) in jobs.iter().enumerate() {
            for &k in jobs.iter().skip(i + 1) {
                if merge(self.ty(j), self.ty(k)).is_some() {
                    continue;
                }
                let (mj, mk) = (self.matters(j), self.matters(k));
                let d = if !mj && !mk {
                    if self.ty(j) == JobType::Stop {
                        if self.conflicted_by(j) {
                            k
                        } else {
                            j
                        }
                    } else if self.ty(k) == JobType::Stop {
                        if self.conflicted_by(k) {
                            j
                        } else {
                            k
                        }
                    } else {
                        j
                    }
                } else if !mj {
                    j
                } else if !mk {
                    k
                } else {
                    return false;
                };
                if let Some(u) = self.unit_of(d) {
                    let name = self.name(u);
                    self.log.push(format!(
                        "{name}: Fixing conflicting jobs {name}/{},{name}/{} by deleting job {name}/{}",
                        self.ty(j),
                        self.ty(k),
                        self.ty(d)
                    ));
                }
                self.delete_job(d, true);
                return true;
            }
        }
        false
    }

    /// Merges `other` into `j` as type `t`: `j` takes over all of `other`'s links.
    fn merge_into(&mut self, j: usize, other: usize, t: JobType) {
        let Some(o) = self.jobs.get_mut(other) else {
            return;
        };
        let subjects = std::mem::take(&mut o.subjects);
        let objects = std::mem::take(&mut o.objects);
        let (irreversible, matters) = (o.irreversible, o.matters_to_anchor);
        for &l in &subjects {
            if let Some(link) = self.links.get_mut(l) {
                link.subject = j;
            }
        }
        for &l in &objects {
            if let Some(link) = self.links.get_mut(l) {
                link.object = j;
            }
        }
        if let Some(job) = self.jobs.get_mut(j) {
            job.ty = t;
            job.irreversible |= irreversible;
            job.matters_to_anchor |= matters;
            job.subjects.extend(subjects);
            job.objects.extend(objects);
        }
        self.delete_job(other, true);
    }

    /// Refuses to replace a queued job of a conflicting type in mode `fail`, or an
    /// irreversible one in any mode.
    fn check_destructive(&self, mode: JobMode) -> Result<(), TransactionError> {
        for &j in self.per_unit.values().flatten() {
            let (u, t) = match self.jobs.get(j) {
                Some(job) => (job.unit, job.ty),
                None => continue,
            };
            let Some(queued) = self.installed.job_of(u) else {
                continue;
            };
            if (mode == JobMode::Fail || queued.irreversible) && is_conflicting(queued.job_type, t)
            {
                let (anchor_unit, anchor_type) = match self.anchor.and_then(|a| self.jobs.get(a)) {
                    Some(a) => (self.name(a.unit), a.ty),
                    None => (String::new(), JobType::Nop),
                };
                return Err(TransactionError::Destructive {
                    anchor_unit,
                    anchor_type,
                    unit: self.name(u),
                    queued: queued.job_type,
                    included: t,
                });
            }
        }
        Ok(())
    }

    fn planned(&self) -> Vec<Planned> {
        self.per_unit
            .values()
            .flatten()
            .filter_map(|&j| {
                self.jobs.get(j).map(|job| Planned {
                    unit: job.unit,
                    job_type: job.ty,
                    irreversible: job.irreversible,
                    ignore_order: job.ignore_order,
                    is_anchor: Some(j) == self.anchor,
                })
            })
            .collect()
    }
}
