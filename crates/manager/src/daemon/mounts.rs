//! Mount units in the daemon: carrying out the effects of `units::mount`, spawning
//! mount(8)/umount(8) through the exec path, and watching `/proc/self/mountinfo`, whose
//! changes the kernel signals with `POLLPRI`. The table is read only then (and when mount
//! units are loaded, and before the exit of a mount's control process is judged), and
//! compared with the loaded mount units' `Where=`.

use super::{invocation_id, Daemon, SIGCONT, SIGKILL};
use crate::registry::Runtime;
use std::collections::{HashSet, VecDeque};
use std::os::fd::AsFd;
use units::mount::{Effect, Event, MountState};
use units::service::{Event as ServiceEvent, ExecKind, Role};
use units::{ActiveState, UnitId};

const MOUNTINFO: &str = "/proc/self/mountinfo";

/// The mount points of the table, or `None` when it cannot be read.
fn mount_points() -> Option<HashSet<String>> {
    match std::fs::read_to_string(MOUNTINFO) {
        Ok(text) => {
            let (entries, errors) = units::mount::mountinfo::parse(&text);
            for (line, e) in errors {
                eprintln!("sysmaster: {MOUNTINFO}:{line}: {e}, ignoring");
            }
            Some(entries.into_iter().map(|e| e.mount_point).collect())
        }
        Err(e) => {
            eprintln!("sysmaster: cannot read {MOUNTINFO}: {e}");
            None
        }
    }
}

/// The first of `/usr/bin/NAME`, `/bin/NAME`, `/usr/sbin/NAME`, `/sbin/NAME` that exists.
fn program(name: &str) -> String {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .map(|d| format!("{d}/{name}"))
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or_else(|| format!("/usr/bin/{name}"))
}

impl Daemon {
    /// Opens `/proc/self/mountinfo` for watching.
    pub(super) fn open_mountinfo() -> Option<std::fs::File> {
        match std::fs::File::open(MOUNTINFO) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("sysmaster: cannot watch {MOUNTINFO}: {e}; mounts made by others are not followed");
                None
            }
        }
    }

    /// Loaded mount units and their `Where=`.
    fn mount_units(&self) -> Vec<(UnitId, String)> {
        self.reg
            .units()
            .filter(|u| u.loaded.load_state == unitfile::load::LoadState::Loaded)
            .filter_map(|u| Some((u.id, u.mount()?.config().where_.clone())))
            .collect()
    }

    /// Tells `units` (or every mount unit) what the table says now.
    pub(super) fn sync_mounts(&mut self, only: Option<&[UnitId]>) {
        let units: Vec<(UnitId, String)> = self
            .mount_units()
            .into_iter()
            .filter(|(u, _)| only.is_none_or(|o| o.contains(u)))
            .collect();
        if units.is_empty() {
            return;
        }
        let Some(points) = mount_points() else {
            return;
        };
        for (u, where_) in units {
            self.mount_event(u, Event::Mountinfo(points.contains(&where_)));
        }
    }

    /// Mount units loaded since the last call learn the table (a unit loaded while its
    /// file system is mounted is active at once).
    pub(super) fn sync_new_mount_units(&mut self) {
        let n = self.reg.units().count();
        if n == self.units_synced {
            return;
        }
        let fresh: Vec<UnitId> = self.reg.ids().into_iter().skip(self.units_synced).collect();
        self.units_synced = n;
        self.sync_mounts(Some(&fresh));
    }

    /// After recovery: the table may have changed while no manager ran, and a control
    /// process spawned but never recorded is lost (never run twice).
    pub(super) fn mounts_after_recovery(&mut self) {
        self.units_synced = self.reg.units().count();
        self.sync_mounts(None);
        let pending: Vec<UnitId> = self
            .reg
            .units()
            .filter(|u| u.mount().is_some_and(|m| m.control_pending()))
            .map(|u| u.id)
            .collect();
        for u in pending {
            self.log_unit(
                u,
                "A mount process being spawned was lost with the previous manager.",
            );
            self.mount_event(u, Event::SpawnResources);
        }
    }

    /// The events the daemon's common paths (exits, timers, spawns) produce as service
    /// events, for a mount unit. An exit is judged against a fresh table.
    pub(super) fn mount_service_event(&mut self, u: UnitId, event: ServiceEvent) {
        if self.reg.unit(u).and_then(|x| x.mount()).is_none() {
            return;
        }
        let event = match event {
            ServiceEvent::Exited { pid, status } => {
                self.sync_mounts(Some(&[u]));
                Event::Exited { pid, status }
            }
            ServiceEvent::Timer(_) => Event::Timer,
            ServiceEvent::Spawned { pid, .. } => Event::Spawned { pid },
            ServiceEvent::SpawnFailed { exit_code, .. } => Event::SpawnFailed { exit_code },
            ServiceEvent::SpawnResources { .. } => Event::SpawnResources,
            ServiceEvent::ResetFailed => Event::ResetFailed,
            _ => return,
        };
        self.mount_event(u, event);
    }

    /// A job's action for a mount unit.
    pub(super) fn perform_mount(&mut self, u: UnitId, id: jobs::JobId, action: jobs::Action) {
        match action {
            jobs::Action::Start => {
                if let Some(unit) = self.reg.unit_mut(u) {
                    unit.invocation_id = invocation_id();
                }
                self.mount_event(u, Event::Start);
            }
            jobs::Action::Stop => self.mount_event(u, Event::Stop),
            jobs::Action::Reload => {
                // Remounting is not implemented: the reload is done at once.
                self.log_unit(u, "Remounting is not supported yet; nothing was done.");
                let list =
                    self.engine
                        .finish(&self.reg.graph, &self.reg, id, jobs::JobResult::Done);
                self.jobs_finished(list);
            }
        }
    }

    /// Feeds an event to a mount unit and carries out its effects.
    pub(super) fn mount_event(&mut self, u: UnitId, event: Event) {
        let mut queue = VecDeque::from([event]);
        while let Some(event) = queue.pop_front() {
            let now = Daemon::now();
            let effects = match self.reg.unit_mut(u).map(|x| &mut x.runtime) {
                Some(Runtime::Mount(m)) => m.handle(now, event),
                _ => return,
            };
            self.dirty.insert(u);
            for effect in effects {
                match effect {
                    Effect::CreateDirectory { path, mode } => create_directory(&path, mode)
                        .unwrap_or_else(|e| {
                            self.log_unit(u, &format!("Failed to make directory {path}: {e}"))
                        }),
                    Effect::Spawn { argv, .. } => {
                        if let Some(e) = self.spawn_mount_command(u, &argv) {
                            queue.push_back(e);
                        }
                    }
                    Effect::Kill { signal } => self.kill_mount(u, signal),
                    Effect::ArmTimer { at } => {
                        self.timers.arm(u, units::service::TimerKind::Start, at)
                    }
                    Effect::DisarmTimer => self.timers.disarm(u, units::service::TimerKind::Start),
                    Effect::NewInvocation => {
                        if let Some(unit) = self.reg.unit_mut(u) {
                            unit.invocation_id = invocation_id();
                        }
                    }
                    Effect::StateChanged { from, to, result } => {
                        self.mount_state_changed(u, from, to, result)
                    }
                    Effect::Log(m) => self.log_unit(u, &m),
                }
            }
        }
    }

    fn mount_state_changed(
        &mut self,
        u: UnitId,
        from: MountState,
        to: MountState,
        result: units::mount::MountResult,
    ) {
        let where_ = self
            .reg
            .unit(u)
            .and_then(|x| x.mount())
            .map(|m| m.config().where_.clone())
            .unwrap_or_default();
        match (from, to) {
            (MountState::Dead | MountState::Failed, MountState::Mounting) => {
                self.log_unit(u, &format!("Mounting {where_}..."))
            }
            (_, MountState::Mounted) if from != MountState::Mounted => {
                self.log_unit(u, &format!("Mounted {where_}."))
            }
            (MountState::Mounted, MountState::Unmounting) => {
                self.log_unit(u, &format!("Unmounting {where_}..."))
            }
            (_, MountState::Dead) if from != MountState::Dead => {
                self.log_unit(u, &format!("Unmounted {where_}."))
            }
            (_, MountState::Failed) => self.log_unit(u, &format!("Failed with result '{result}'.")),
            _ => {}
        }
        if matches!(
            to,
            MountState::Dead | MountState::Failed | MountState::Mounted
        ) {
            self.timers.disarm_all(u);
        }
        self.set_active(u, to.active_state(), false);
        if to == MountState::Failed && from != MountState::Failed {
            self.trigger(u, units::Dependency::OnFailure);
        }
        if to.active_state() == ActiveState::Inactive {
            self.remove_cgroup_if_empty(u);
        }
    }

    /// Spawns mount(8)/umount(8) (found in `/usr/bin`, then `/bin` ...) with the unit's
    /// exec context; returns the event to feed back when it did not start.
    fn spawn_mount_command(&mut self, u: UnitId, argv: &[String]) -> Option<Event> {
        let first = argv.first()?;
        let path = program(first);
        let command = unitfile::exec::ExecCommand {
            path: path.as_str().into(),
            argv: unitfile::exec::Argv::new(argv),
            flags: unitfile::exec::ExecFlags {
                no_env_expand: true,
                ..Default::default()
            },
        };
        self.prepare_unit(u);
        let unit = self.reg.unit(u)?;
        let unitfile::model::Kind::Mount(section) = &unit.loaded.config.kind else {
            return Some(Event::SpawnResources);
        };
        let env = vec![("INVOCATION_ID".to_string(), unit.invocation_id.clone())];
        let request = crate::exec::Request {
            command: &command,
            context: &section.exec,
            manager_set: &env,
            manager_env: &self.manager_env,
            log: unit.log_pipe.as_ref().map(|(_, w)| w.as_fd()),
            cgroup_procs: unit
                .cgroup
                .as_ref()
                .and_then(|cg| cg.procs_for_writing().ok()),
            fds: Vec::new(),
            idle_wait: None,
        };
        let mut plan = match crate::exec::plan(request, &self.paths) {
            Ok(plan) => plan,
            Err(e) => {
                self.log_unit(u, &format!("Failed to set up {path}: {e}"));
                return Some(match &e {
                    crate::exec::PlanError::Step { step, .. } => Event::SpawnFailed {
                        exit_code: step.exit_code(),
                    },
                    crate::exec::PlanError::Resources(_) => Event::SpawnResources,
                });
            }
        };
        // Released once the state journal records the process (`Daemon::persist`).
        plan.gate = true;
        match sys::spawn::spawn(&plan) {
            Ok(child) => {
                let pid = self.track_spawned(u, Role::Control(ExecKind::Start), child);
                Some(Event::Spawned { pid })
            }
            Err(e) => {
                self.log_unit(u, &format!("Failed to fork {path}: {e}"));
                Some(Event::SpawnFailed {
                    exit_code: sys::spawn::Step::Exec.exit_code(),
                })
            }
        }
    }

    /// Signals the control process and the unit's cgroup (`KillMode=control-group`).
    fn kill_mount(&mut self, u: UnitId, signal: i32) {
        let Some(unit) = self.reg.unit(u) else {
            return;
        };
        if let Some(pid) = unit.mount().and_then(|m| m.control_pid()) {
            let _ = sys::process::kill(pid, signal);
            if signal != SIGKILL {
                let _ = sys::process::kill(pid, SIGCONT);
            }
        }
        if let Some(cg) = &unit.cgroup {
            let r = if signal == SIGKILL {
                cg.kill_all()
            } else {
                cg.signal_all(signal).and_then(|()| cg.signal_all(SIGCONT))
            };
            if let Err(e) = r {
                eprintln!("sysmaster: {}: cannot signal cgroup: {e}", unit.name);
            }
        }
    }
}

/// `mkdir -p PATH` with `mode` for the directories it creates; an existing path (even a
/// file: mounting over a file is allowed) is fine.
fn create_directory(path: &str, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if std::path::Path::new(path).exists() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
}

impl Daemon {
    /// `reset-failed` of a mount unit.
    pub(crate) fn mount_reset_failed(&mut self, u: UnitId) {
        self.mount_event(u, Event::ResetFailed);
    }
}
