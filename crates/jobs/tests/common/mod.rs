//! A fake unit registry and a small world (graph + units + engine) described by a
//! one-line spec, shared by the integration tests.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use jobs::{Engine, EnqueueError, Enqueued, JobId, JobMode, JobType, LoadState, Units};
use units::{ActiveState, Dependency, Graph, UnitId};

#[derive(Debug, Clone, Default)]
pub struct Fake {
    pub names: Vec<String>,
    pub state: BTreeMap<UnitId, ActiveState>,
    pub allow_isolate: BTreeSet<UnitId>,
    pub ignore_on_isolate: BTreeSet<UnitId>,
    pub refuse_start: BTreeSet<UnitId>,
    pub refuse_stop: BTreeSet<UnitId>,
    pub no_reload: BTreeSet<UnitId>,
    pub no_stop: BTreeSet<UnitId>,
    pub timeout: BTreeMap<UnitId, u64>,
    pub running_timeout: BTreeMap<UnitId, u64>,
    pub load: BTreeMap<UnitId, LoadState>,
}

impl Units for Fake {
    fn active_state(&self, u: UnitId) -> ActiveState {
        self.state.get(&u).copied().unwrap_or(ActiveState::Inactive)
    }
    fn name(&self, u: UnitId) -> String {
        self.names
            .get(u.0 as usize)
            .cloned()
            .unwrap_or_else(|| format!("#{}", u.0))
    }
    fn allow_isolate(&self, u: UnitId) -> bool {
        self.allow_isolate.contains(&u)
    }
    fn ignore_on_isolate(&self, u: UnitId) -> bool {
        self.ignore_on_isolate.contains(&u)
    }
    fn refuse_manual_start(&self, u: UnitId) -> bool {
        self.refuse_start.contains(&u)
    }
    fn refuse_manual_stop(&self, u: UnitId) -> bool {
        self.refuse_stop.contains(&u)
    }
    fn can_reload(&self, u: UnitId) -> bool {
        !self.no_reload.contains(&u)
    }
    fn job_timeout(&self, u: UnitId) -> Option<u64> {
        self.timeout.get(&u).copied()
    }
    fn job_running_timeout(&self, u: UnitId) -> Option<u64> {
        self.running_timeout.get(&u).copied()
    }
    fn all(&self) -> Vec<UnitId> {
        (0..self.names.len() as u32).map(UnitId).collect()
    }
    fn load_state(&self, u: UnitId) -> LoadState {
        self.load.get(&u).copied().unwrap_or(LoadState::Loaded)
    }
    fn can_stop(&self, u: UnitId) -> bool {
        !self.no_stop.contains(&u)
    }
}

pub struct World {
    pub graph: Graph,
    pub units: Fake,
    pub engine: Engine,
    pub now: u64,
}

pub fn dependency(s: &str) -> Option<Dependency> {
    use Dependency::*;
    Some(match s {
        "Requires" => Requires,
        "Requisite" => Requisite,
        "Wants" => Wants,
        "BindsTo" => BindsTo,
        "PartOf" => PartOf,
        "Upholds" => Upholds,
        "Conflicts" => Conflicts,
        "Before" => Before,
        "After" => After,
        "Triggers" => Triggers,
        "PropagatesReloadTo" => PropagatesReloadTo,
        "PropagatesStopTo" => PropagatesStopTo,
        _ => return None,
    })
}

pub fn job_type(s: &str) -> JobType {
    use JobType::*;
    match s {
        "start" => Start,
        "verify-active" => VerifyActive,
        "stop" => Stop,
        "reload" => Reload,
        "restart" => Restart,
        "try-restart" => TryRestart,
        "try-reload" => TryReload,
        "reload-or-start" => ReloadOrStart,
        "nop" => Nop,
        other => panic!("job type {other}"),
    }
}

pub fn job_mode(s: &str) -> JobMode {
    use JobMode::*;
    match s {
        "fail" => Fail,
        "replace" => Replace,
        "replace-irreversibly" => ReplaceIrreversibly,
        "isolate" => Isolate,
        "flush" => Flush,
        "ignore-dependencies" => IgnoreDependencies,
        "ignore-requirements" => IgnoreRequirements,
        "triggering" => Triggering,
        other => panic!("job mode {other}"),
    }
}

impl World {
    /// `spec` is a `;`-separated list of `X Dep Y` edges and `X property` facts:
    /// a state (`active`, `activating`, `reloading`, `deactivating`, `failed`), `allow-isolate`,
    /// `ignore-on-isolate`, `refuse-start`, `refuse-stop`, `no-reload`, `no-stop`,
    /// `timeout=N`, `running-timeout=N`, `masked`, `not-found`, or just `X` to declare it.
    pub fn new(spec: &str) -> World {
        let mut w = World {
            graph: Graph::new(),
            units: Fake::default(),
            engine: Engine::new(),
            now: 0,
        };
        for clause in spec.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            let words: Vec<&str> = clause.split_whitespace().collect();
            match words.as_slice() {
                [a, dep, b] => {
                    let d = dependency(dep).unwrap_or_else(|| panic!("dependency {dep}"));
                    let (a, b) = (w.u(a), w.u(b));
                    w.graph.add(a, d, b);
                }
                [a, prop] => {
                    let a = w.u(a);
                    w.set(a, prop);
                }
                [a] => {
                    w.u(a);
                }
                _ => panic!("bad clause {clause}"),
            }
        }
        w
    }

    fn set(&mut self, a: UnitId, prop: &str) {
        let f = &mut self.units;
        match prop {
            "active" => {
                f.state.insert(a, ActiveState::Active);
            }
            "activating" => {
                f.state.insert(a, ActiveState::Activating);
            }
            "reloading" => {
                f.state.insert(a, ActiveState::Reloading);
            }
            "deactivating" => {
                f.state.insert(a, ActiveState::Deactivating);
            }
            "failed" => {
                f.state.insert(a, ActiveState::Failed);
            }
            "inactive" => {
                f.state.insert(a, ActiveState::Inactive);
            }
            "allow-isolate" => {
                f.allow_isolate.insert(a);
            }
            "ignore-on-isolate" => {
                f.ignore_on_isolate.insert(a);
            }
            "refuse-start" => {
                f.refuse_start.insert(a);
            }
            "refuse-stop" => {
                f.refuse_stop.insert(a);
            }
            "no-reload" => {
                f.no_reload.insert(a);
            }
            "no-stop" => {
                f.no_stop.insert(a);
            }
            "masked" => {
                f.load.insert(a, LoadState::Masked);
            }
            "not-found" => {
                f.load.insert(a, LoadState::NotFound);
            }
            p if p.starts_with("timeout=") => {
                f.timeout.insert(a, p["timeout=".len()..].parse().unwrap());
            }
            p if p.starts_with("running-timeout=") => {
                f.running_timeout
                    .insert(a, p["running-timeout=".len()..].parse().unwrap());
            }
            p => panic!("property {p}"),
        }
    }

    /// The unit named `name`, declared on first use.
    pub fn u(&mut self, name: &str) -> UnitId {
        if let Some(i) = self.units.names.iter().position(|n| n == name) {
            return UnitId(i as u32);
        }
        self.units.names.push(name.to_string());
        UnitId(self.units.names.len() as u32 - 1)
    }

    pub fn state(&mut self, name: &str, s: &str) {
        let u = self.u(name);
        self.set(u, s);
    }

    pub fn enqueue_ex(
        &mut self,
        name: &str,
        t: &str,
        mode: &str,
        manual: bool,
    ) -> Result<Enqueued, EnqueueError> {
        let u = self.u(name);
        self.engine.enqueue(
            &self.graph,
            &self.units,
            u,
            job_type(t),
            job_mode(mode),
            manual,
            self.now,
        )
    }

    /// `"a start replace"`: a manual request.
    pub fn enqueue(&mut self, req: &str) -> Result<Enqueued, EnqueueError> {
        let w: Vec<&str> = req.split_whitespace().collect();
        self.enqueue_ex(w[0], w[1], w.get(2).copied().unwrap_or("replace"), true)
    }

    pub fn ok(&mut self, req: &str) -> Enqueued {
        self.enqueue(req)
            .unwrap_or_else(|e| panic!("{req}: {e} {:?}", e.log))
    }

    pub fn describe(&self, id: JobId) -> String {
        let j = self.engine.job(id).expect("job");
        format!("{}/{}", self.units.name(j.unit), j.job_type)
    }

    /// The installed jobs as `unit/type`, sorted by unit name, `Nop` jobs included.
    pub fn jobs(&self) -> String {
        let mut v: Vec<String> = self.engine.jobs().map(|j| self.describe(j.id)).collect();
        v.sort();
        v.join(" ")
    }

    pub fn runnable(&self) -> String {
        let mut v: Vec<String> = self
            .engine
            .runnable(&self.graph)
            .into_iter()
            .map(|id| self.describe(id))
            .collect();
        v.sort();
        v.join(" ")
    }

    pub fn id(&mut self, name: &str) -> JobId {
        let u = self.u(name);
        self.engine
            .job_of(u)
            .map(|j| j.id)
            .or_else(|| self.engine.nop_job_of(u).map(|j| j.id))
            .expect("job of unit")
    }

    pub fn finished(&self, f: &[jobs::Finished]) -> String {
        f.iter()
            .map(|f| format!("{}/{}={}", self.units.name(f.unit), f.job_type, f.result))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Finishes the job of unit `name` and returns the finished jobs as `unit/type=result`.
    pub fn finish(&mut self, name: &str, r: jobs::JobResult) -> String {
        let id = self.id(name);
        let f = self.engine.finish(&self.graph, &self.units, id, r);
        self.finished(&f)
    }
}
