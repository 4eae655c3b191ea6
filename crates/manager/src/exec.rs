//! Turning a unit's `Exec*=` command and its exec context (systemd.exec(5)) into a resolved
//! [`Plan`] for `sys::spawn`: users and groups to numbers, the environment assembled in
//! systemd's order, `$VAR` expansion, `PATH` lookup, standard input/output opened, limits
//! and priorities translated, and the runtime/state/cache/logs/configuration directories
//! created with their modes and owner.
//!
//! Everything that can fail here fails before a process exists; the error names systemd's
//! step (and so the exit code the unit reports: 217 USER, 216 GROUP, 203 EXEC ...) or is a
//! resources problem (an environment file missing), and says why.

use crate::users::{Db, User};
use std::ffi::CString;
use std::fs;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use sys::spawn::{Credentials, Plan, Step};
use unitfile::exec::ExecCommand;
use unitfile::model::exec::{ExecContext, Input, StdInput, StdOutput};

/// systemd's default `PATH` for services on Debian 12.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where the directories of systemd.exec(5) live; tests point them into a temp dir.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The root whose `/etc/passwd` and `/etc/group` name users.
    pub root: PathBuf,
    pub runtime: PathBuf,
    pub state: PathBuf,
    pub cache: PathBuf,
    pub logs: PathBuf,
    pub configuration: PathBuf,
}

impl Default for Paths {
    fn default() -> Paths {
        Paths {
            root: "/".into(),
            runtime: "/run".into(),
            state: "/var/lib".into(),
            cache: "/var/cache".into(),
            logs: "/var/log".into(),
            configuration: "/etc".into(),
        }
    }
}

/// One command to plan.
pub struct Request<'a> {
    pub command: &'a ExecCommand,
    pub context: &'a ExecContext,
    /// Variables the manager sets for this process (`INVOCATION_ID`, `NOTIFY_SOCKET`,
    /// `MAINPID`, `SERVICE_RESULT` ...), before the unit's own `Environment=`.
    pub manager_set: &'a [(String, String)],
    /// The manager's own environment, for `PassEnvironment=`.
    pub manager_env: &'a [(String, String)],
    /// Where `journal`, `kmsg`, `syslog` and `inherit` output goes: the unit's log pipe.
    pub log: Option<BorrowedFd<'a>>,
    pub cgroup_procs: Option<OwnedFd>,
    /// Descriptors passed as 3, 4, ... (socket activation).
    pub fds: Vec<OwnedFd>,
    /// `Type=idle`: the pipe end the child waits on before it runs, and the raw number of
    /// the manager's write end for the child to close (see `sys::spawn`).
    pub idle_wait: Option<(OwnedFd, i32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// A set-up step failed; the unit reports that step's exit code.
    Step { step: Step, message: String },
    /// Something the process needs is missing (systemd's result `resources`).
    Resources(String),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::Step { step, message } => {
                write!(
                    f,
                    "{message} (step {}, exit code {})",
                    step.name(),
                    step.exit_code()
                )
            }
            PlanError::Resources(m) => write!(f, "{m} (result 'resources')"),
        }
    }
}

fn step(step: Step, message: String) -> PlanError {
    PlanError::Step { step, message }
}

/// Resolves `req` into a plan. The command's `+` prefix skips the user switch and the
/// other privilege restrictions, as in systemd.
pub fn plan(req: Request, paths: &Paths) -> Result<Plan, PlanError> {
    let ctx = req.context;
    let privileged = req.command.flags.privileged;
    // Reading /etc/passwd and /etc/group costs two opens and parses per spawn; most
    // services run as root with no group settings and need neither.
    let needs_db = !privileged
        && (ctx.user.is_some() || ctx.group.is_some() || !ctx.supplementary_groups.is_empty());
    let db = if needs_db {
        Db::load(&paths.root)
    } else {
        Db::default()
    };
    let user = match (&ctx.user, privileged) {
        (Some(name), false) => Some(
            db.user(name)
                .ok_or_else(|| step(Step::User, format!("unknown user '{name}'")))?,
        ),
        _ => None,
    };
    let credentials = credentials(&db, ctx, user.as_ref(), privileged)?;
    let directories = prepare_directories(ctx, paths, credentials.as_ref())?;

    let env = environment(&req, user.as_ref(), &directories)?;
    let lookup = |name: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let argv = if req.command.flags.no_env_expand {
        req.command.argv.clone()
    } else {
        unitfile::exec::expand_env(&req.command.argv, &lookup)
    };
    let path = resolve_path(&req.command.path, &lookup("PATH").unwrap_or_default())?;

    let cwd = match &ctx.working_directory {
        Some(w) if w.home => Some((
            cstring(user.as_ref().map_or("/root", |u| u.home.as_str()))?,
            w.missing_ok,
        )),
        Some(w) => Some((cstring(&w.path)?, w.missing_ok)),
        None => Some((cstring("/")?, false)),
    };
    let stdio = stdio(ctx, req.log)?;
    Ok(Plan {
        path: cstring(&path)?,
        argv: argv.iter().map(|a| cstring(a)).collect::<Result<_, _>>()?,
        env: env
            .iter()
            .map(|(k, v)| cstring(&format!("{k}={v}")))
            .collect::<Result<_, _>>()?,
        stdio,
        fds: req.fds,
        cwd,
        umask: Some(ctx.umask.unwrap_or(0o022)),
        rlimits: rlimits(ctx),
        nice: ctx.nice,
        oom_score_adjust: ctx.oom_score_adjust,
        ioprio: ctx
            .io_scheduling_class
            .map(|class| (class, ctx.io_scheduling_priority.unwrap_or(4))),
        sched: ctx.cpu_scheduling_policy.map(|policy| {
            (
                policy,
                ctx.cpu_scheduling_priority.unwrap_or(0),
                ctx.cpu_scheduling_reset_on_fork.unwrap_or(false),
            )
        }),
        credentials,
        setsid: true,
        // StandardInput=tty* makes the terminal the session's controlling one;
        // tty-force takes it from whoever holds it.
        controlling_tty: match &ctx.standard_input {
            Some(Input::Kind(StdInput::Tty | StdInput::TtyFail)) => Some(false),
            Some(Input::Kind(StdInput::TtyForce)) => Some(true),
            _ => None,
        },
        tty_reset: ctx.tty_reset.unwrap_or(false),
        ignore_sigpipe: ctx.ignore_sigpipe.unwrap_or(true),
        no_new_privileges: !privileged && ctx.sandbox.no_new_privileges.unwrap_or(false),
        cgroup_procs: req.cgroup_procs,
        idle_close: req.idle_wait.as_ref().map(|(_, w)| *w),
        idle_wait: req.idle_wait.map(|(r, _)| r),
        gate: false,
    })
}

fn cstring(s: &str) -> Result<CString, PlanError> {
    CString::new(s).map_err(|_| step(Step::Exec, format!("'{s}' contains a NUL byte")))
}

/// `User=`, `Group=` and `SupplementaryGroups=` as numbers; the user's own group memberships
/// come along, as initgroups(3) gives them.
fn credentials(
    db: &Db,
    ctx: &ExecContext,
    user: Option<&User>,
    privileged: bool,
) -> Result<Option<Credentials>, PlanError> {
    if privileged || (user.is_none() && ctx.group.is_none() && ctx.supplementary_groups.is_empty())
    {
        return Ok(None);
    }
    let gid = match &ctx.group {
        Some(g) => db
            .group(g)
            .ok_or_else(|| step(Step::Group, format!("unknown group '{g}'")))?,
        None => user.map_or(0, |u| u.gid),
    };
    let mut groups = user.map(|u| db.member_of(&u.name)).unwrap_or_default();
    for g in &ctx.supplementary_groups {
        groups.push(
            db.group(g)
                .ok_or_else(|| step(Step::Group, format!("unknown group '{g}'")))?,
        );
    }
    groups.sort_unstable();
    groups.dedup();
    Ok(Some(Credentials {
        uid: user.map_or(0, |u| u.uid),
        gid,
        groups,
    }))
}

/// Creates `RuntimeDirectory=` and friends (mode from `*DirectoryMode=`, default 0755,
/// owned by the service's user) and returns the variables naming them.
fn prepare_directories(
    ctx: &ExecContext,
    paths: &Paths,
    owner: Option<&Credentials>,
) -> Result<Vec<(String, String)>, PlanError> {
    let kinds = [
        (
            "RUNTIME_DIRECTORY",
            &ctx.runtime_directory,
            &paths.runtime,
            ctx.runtime_directory_mode,
        ),
        (
            "STATE_DIRECTORY",
            &ctx.state_directory,
            &paths.state,
            ctx.state_directory_mode,
        ),
        (
            "CACHE_DIRECTORY",
            &ctx.cache_directory,
            &paths.cache,
            ctx.cache_directory_mode,
        ),
        (
            "LOGS_DIRECTORY",
            &ctx.logs_directory,
            &paths.logs,
            ctx.logs_directory_mode,
        ),
        (
            "CONFIGURATION_DIRECTORY",
            &ctx.configuration_directory,
            &paths.configuration,
            ctx.configuration_directory_mode,
        ),
    ];
    let mut vars = Vec::new();
    for (var, dirs, base, mode) in kinds {
        if dirs.is_empty() {
            continue;
        }
        let mut created = Vec::new();
        for d in dirs {
            // `NAME:SYMLINK` asks for a symlink too; only the directory is made for now.
            let rel = d.split(':').next().unwrap_or(d);
            let dir = base.join(rel);
            fs::create_dir_all(&dir).map_err(|e| {
                PlanError::Resources(format!("cannot create {}: {e}", dir.display()))
            })?;
            let mode = mode.unwrap_or(0o755);
            fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).map_err(|e| {
                PlanError::Resources(format!("cannot set mode of {}: {e}", dir.display()))
            })?;
            if let Some(c) = owner {
                std::os::unix::fs::chown(&dir, Some(c.uid), Some(c.gid)).map_err(|e| {
                    PlanError::Resources(format!("cannot chown {}: {e}", dir.display()))
                })?;
            }
            created.push(dir.display().to_string());
        }
        vars.push((var.to_string(), created.join(":")));
    }
    Ok(vars)
}

/// The environment in systemd's order: defaults, then what the manager sets, the user's
/// variables, the directories, `PassEnvironment=`, `Environment=`, `EnvironmentFile=`, and
/// finally `UnsetEnvironment=`. Later assignments of a name replace earlier ones.
fn environment(
    req: &Request,
    user: Option<&User>,
    directories: &[(String, String)],
) -> Result<Vec<(String, String)>, PlanError> {
    let ctx = req.context;
    let mut env: Vec<(String, String)> = vec![("PATH".into(), DEFAULT_PATH.into())];
    let set = |env: &mut Vec<(String, String)>, k: &str, v: &str| {
        unitfile::env::env_assign(env, k.to_string(), v.to_string())
    };
    for (k, v) in req.manager_set {
        set(&mut env, k, v);
    }
    if let Some(u) = user {
        set(&mut env, "USER", &u.name);
        set(&mut env, "LOGNAME", &u.name);
        set(&mut env, "HOME", &u.home);
        set(&mut env, "SHELL", &u.shell);
    }
    for (k, v) in directories {
        set(&mut env, k, v);
    }
    for name in &ctx.pass_environment {
        if let Some((_, v)) = req.manager_env.iter().find(|(k, _)| k == name) {
            set(&mut env, name, v);
        }
    }
    for (k, v) in &ctx.environment {
        set(&mut env, k, v);
    }
    for file in &ctx.environment_files {
        match fs::read_to_string(&file.path) {
            Ok(text) => {
                for (k, v) in unitfile::env::parse_env_file(&text).0 {
                    set(&mut env, &k, &v);
                }
            }
            Err(_) if file.optional => {}
            Err(e) => {
                return Err(PlanError::Resources(format!(
                    "cannot read environment file {}: {e}",
                    file.path
                )))
            }
        }
    }
    for entry in &ctx.unset_environment {
        match entry.split_once('=') {
            Some((k, v)) => env.retain(|(ek, ev)| !(ek == k && ev == v)),
            None => env.retain(|(ek, _)| ek != entry),
        }
    }
    Ok(env)
}

/// Finds a bare command name in `PATH`, as systemd does at spawn time.
fn resolve_path(command: &str, search: &str) -> Result<String, PlanError> {
    if command.starts_with('/') {
        return Ok(command.to_string());
    }
    let search = if search.is_empty() {
        DEFAULT_PATH
    } else {
        search
    };
    search
        .split(':')
        .map(|dir| Path::new(dir).join(command))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
        .map(|p| p.display().to_string())
        .ok_or_else(|| {
            step(
                Step::Exec,
                format!("command '{command}' not found in {search}"),
            )
        })
}

/// `Limit*=` by resource name to setrlimit(2) resources.
fn rlimits(ctx: &ExecContext) -> Vec<(i32, u64, u64)> {
    let mut limits = configured_rlimits(ctx);
    // systemd's DefaultLimitNOFILE=1024:…: the manager raises its own soft limit, and
    // services must not inherit it (select(2) breaks above 1024). The hard limit stays the
    // manager's.
    if !ctx.limits.contains_key("NOFILE") {
        if let Ok((_, hard)) = sys::process::nofile_limit() {
            limits.push((libc_resource::NOFILE, 1024.min(hard), hard));
        }
    }
    limits
}

fn configured_rlimits(ctx: &ExecContext) -> Vec<(i32, u64, u64)> {
    ctx.limits
        .iter()
        .filter_map(|(name, l)| {
            let resource = match name.as_str() {
                "CPU" => libc_resource::CPU,
                "FSIZE" => libc_resource::FSIZE,
                "DATA" => libc_resource::DATA,
                "STACK" => libc_resource::STACK,
                "CORE" => libc_resource::CORE,
                "RSS" => libc_resource::RSS,
                "NOFILE" => libc_resource::NOFILE,
                "AS" => libc_resource::AS,
                "NPROC" => libc_resource::NPROC,
                "MEMLOCK" => libc_resource::MEMLOCK,
                "LOCKS" => libc_resource::LOCKS,
                "SIGPENDING" => libc_resource::SIGPENDING,
                "MSGQUEUE" => libc_resource::MSGQUEUE,
                "NICE" => libc_resource::NICE,
                "RTPRIO" => libc_resource::RTPRIO,
                "RTTIME" => libc_resource::RTTIME,
                _ => return None,
            };
            Some((resource, l.soft, l.hard))
        })
        .collect()
}

/// Linux's resource numbers (asm-generic/resource.h), the same on every architecture we
/// build for; written out so this crate needs no libc.
mod libc_resource {
    pub const CPU: i32 = 0;
    pub const FSIZE: i32 = 1;
    pub const DATA: i32 = 2;
    pub const STACK: i32 = 3;
    pub const CORE: i32 = 4;
    pub const RSS: i32 = 5;
    pub const NPROC: i32 = 6;
    pub const NOFILE: i32 = 7;
    pub const MEMLOCK: i32 = 8;
    pub const AS: i32 = 9;
    pub const LOCKS: i32 = 10;
    pub const SIGPENDING: i32 = 11;
    pub const MSGQUEUE: i32 = 12;
    pub const NICE: i32 = 13;
    pub const RTPRIO: i32 = 14;
    pub const RTTIME: i32 = 15;
}

/// Opens standard input, output and error. `StandardError=` defaults to where output
/// goes; `journal`, `kmsg`, `syslog` and `inherit` all mean the unit's log pipe here.
fn stdio(ctx: &ExecContext, log: Option<BorrowedFd>) -> Result<[Option<OwnedFd>; 3], PlanError> {
    let input = match &ctx.standard_input {
        None | Some(Input::Kind(StdInput::Null)) => Some(open_null()?),
        Some(Input::File(p)) => Some(open(p, fs::OpenOptions::new().read(true))?),
        Some(Input::Kind(StdInput::Tty | StdInput::TtyForce | StdInput::TtyFail)) => {
            let tty = ctx.tty_path.as_deref().unwrap_or("/dev/console");
            Some(open(tty, fs::OpenOptions::new().read(true).write(true))?)
        }
        Some(other) => {
            return Err(step(
                Step::Exec,
                format!("StandardInput={other:?} is not supported yet"),
            ))
        }
    };
    let stdout = output(ctx.standard_output.as_ref(), ctx, log)?;
    let error = match &ctx.standard_error {
        None | Some(StdOutput::Inherit) => match &stdout {
            Some(fd) => Some(
                fd.try_clone()
                    .map_err(|e| PlanError::Resources(format!("cannot dup output: {e}")))?,
            ),
            None => None,
        },
        Some(e) => output(Some(e), ctx, log)?,
    };
    Ok([input, stdout, error])
}

fn output(
    kind: Option<&StdOutput>,
    ctx: &ExecContext,
    log: Option<BorrowedFd>,
) -> Result<Option<OwnedFd>, PlanError> {
    let append = |p: &str| {
        open(
            p,
            fs::OpenOptions::new().append(true).create(true).mode(0o644),
        )
    };
    Ok(match kind {
        Some(StdOutput::Null) => Some(open_null()?),
        Some(StdOutput::File(p)) => Some(open(
            p,
            fs::OpenOptions::new().write(true).create(true).mode(0o644),
        )?),
        Some(StdOutput::Append(p)) => Some(append(p)?),
        Some(StdOutput::Truncate(p)) => Some(open(
            p,
            fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o644),
        )?),
        Some(StdOutput::Tty) => {
            let tty = ctx.tty_path.as_deref().unwrap_or("/dev/console");
            Some(open(tty, fs::OpenOptions::new().write(true))?)
        }
        // Everything else is the manager's log capture (or the manager's own output when
        // there is no capture, e.g. in tests).
        _ => match log {
            Some(fd) => Some(
                fd.try_clone_to_owned()
                    .map_err(|e| PlanError::Resources(format!("cannot dup log pipe: {e}")))?,
            ),
            None => None,
        },
    })
}

fn open(path: &str, options: &fs::OpenOptions) -> Result<OwnedFd, PlanError> {
    options
        .open(path)
        .map(OwnedFd::from)
        .map_err(|e| PlanError::Resources(format!("cannot open {path}: {e}")))
}

fn open_null() -> Result<OwnedFd, PlanError> {
    open("/dev/null", fs::OpenOptions::new().read(true).write(true))
}
