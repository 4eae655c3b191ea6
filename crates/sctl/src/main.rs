//! `sctl`, the command-line client of sysmaster, shaped like `systemctl`: the verbs that
//! ask the running manager over its control socket (`online`), and the offline commands
//! `verify` and `cat` that read unit files directly and need no manager (`offline`).
//!
//! `cat` stays offline even when a manager runs: it prints what is on disk now, which is
//! what an administrator editing units wants, and it works before boot and in chroots.
//!
//! Options may come before or after the verb, as with systemctl. `$SCTL_TIMEOUT`
//! (seconds) overrides the 25 s deadline of calls that should answer at once.

mod client;
mod format;
mod names;
mod offline;
mod online;

use clap::{Parser, Subcommand};
use client::Client;
use online::{Ctl, Options, Stop, Term, EXIT_FAILURE, EXIT_NOT_RUNNING};
use proto::{Call, JobVerb, KillWhom, ShutdownKind, UnitFileChange};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "sctl",
    version,
    about = "Control the sysmaster service manager"
)]
struct Cli {
    /// Unit directory to search instead of the default search path (repeatable; the first
    /// has the highest priority). Used by the offline commands.
    #[arg(long = "unit-path", value_name = "DIR", global = true)]
    unit_path: Vec<PathBuf>,

    /// The manager's runtime directory; its `control` socket is used. Default:
    /// $SYSMASTER_RUNTIME_DIR, else /run/sysmaster.
    #[arg(long = "runtime-dir", value_name = "DIR", global = true)]
    runtime_dir: Option<PathBuf>,

    /// Do not wait for queued jobs to finish.
    #[arg(long = "no-block", global = true)]
    no_block: bool,

    /// How a new job treats queued ones: replace, fail, isolate, ignore-dependencies,
    /// ignore-requirements, flush, replace-irreversibly, triggering.
    #[arg(long = "job-mode", value_name = "MODE", global = true)]
    job_mode: Option<String>,

    /// Accepted for systemctl compatibility; sctl never pages.
    #[arg(long = "no-pager", global = true)]
    no_pager: bool,

    /// Print less: no states for is-active/is-failed/is-enabled, no symlink changes, no
    /// job failure explanations.
    #[arg(short = 'q', long = "quiet", global = true)]
    quiet: bool,

    /// Leave out table headers and summary lines.
    #[arg(long = "no-legend", global = true)]
    no_legend: bool,

    /// list-units: include inactive units; show: include properties without a value.
    #[arg(short = 'a', long = "all", global = true)]
    all: bool,

    /// list-units, list-unit-files: only units in these states (comma-separated).
    #[arg(
        long = "state",
        value_name = "STATE",
        value_delimiter = ',',
        global = true
    )]
    state: Vec<String>,

    /// Same as --state=failed.
    #[arg(long = "failed", global = true)]
    failed: bool,

    /// list-units, list-unit-files: only units of these types (comma-separated).
    #[arg(
        short = 't',
        long = "type",
        value_name = "TYPE",
        value_delimiter = ',',
        global = true
    )]
    types: Vec<String>,

    /// show: only these properties (comma-separated, repeatable).
    #[arg(
        short = 'p',
        long = "property",
        value_name = "NAME",
        value_delimiter = ',',
        global = true
    )]
    property: Vec<String>,

    /// show: print only the values.
    #[arg(long = "value", global = true)]
    value: bool,

    /// kill: which processes: main, control or all.
    #[arg(
        long = "kill-whom",
        alias = "kill-who",
        value_name = "WHOM",
        global = true
    )]
    kill_whom: Option<String>,

    /// kill: the signal, by name (TERM, SIGKILL) or number.
    #[arg(short = 's', long = "signal", value_name = "SIGNAL", global = true)]
    signal: Option<String>,

    /// logs: how many of the last lines to show.
    #[arg(short = 'n', long = "lines", value_name = "N", global = true)]
    lines: Option<u32>,

    /// logs: keep printing new lines as they arrive.
    #[arg(short = 'f', long = "follow", global = true)]
    follow: bool,

    /// enable: also start the units; disable, mask: also stop them.
    #[arg(long = "now", global = true)]
    now: bool,

    /// Without a verb, sctl runs list-units.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Load units with their drop-ins and report every problem as `file:line: message`.
    /// Exits with 1 when there is an error, 0 when there are only warnings.
    Verify {
        /// Unit names (looked up in the search path) or unit files (paths with a `/`).
        #[arg(required = true, value_name = "UNIT|FILE")]
        units: Vec<String>,
    },
    /// Print the unit file and the drop-ins of units from disk, as `systemctl cat` does.
    Cat {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Start units.
    Start {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Stop units.
    Stop {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Restart units, starting those that are not running.
    Restart {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Ask units to reload their configuration.
    Reload {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Restart units that are running.
    #[command(alias = "condrestart")]
    TryRestart {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Reload units that support it, restart the others.
    ReloadOrRestart {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Reload or restart units that are running.
    #[command(alias = "force-reload")]
    TryReloadOrRestart {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Start a unit and stop everything it does not need.
    Isolate {
        #[arg(value_name = "UNIT")]
        unit: String,
    },
    /// Send a signal to processes of units.
    Kill {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Forget the failed state of units (all units when none is named).
    ResetFailed {
        #[arg(value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Show the state, processes and recent output of units; without a unit, an overview
    /// of the manager.
    Status {
        #[arg(value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Show properties of units (of the manager when none is named).
    Show {
        #[arg(value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Exit 0 when a unit is active; print the states.
    IsActive {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Exit 0 when a unit failed; print the states.
    IsFailed {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Exit 0 when a unit is enabled; print the unit-file states.
    IsEnabled {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// List loaded units.
    ListUnits {
        #[arg(value_name = "PATTERN")]
        patterns: Vec<String>,
    },
    /// List installed unit files and their states.
    ListUnitFiles {
        #[arg(value_name = "PATTERN")]
        patterns: Vec<String>,
    },
    /// List queued jobs.
    ListJobs {
        #[arg(value_name = "PATTERN")]
        patterns: Vec<String>,
    },
    /// Cancel jobs (all when none is named).
    Cancel {
        #[arg(value_name = "JOB")]
        jobs: Vec<String>,
    },
    /// Enable units as their [Install] section says.
    Enable {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Disable units.
    Disable {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Make units impossible to start.
    Mask {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Undo mask.
    Unmask {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
    /// Set the target started at boot.
    SetDefault {
        #[arg(value_name = "TARGET")]
        unit: String,
    },
    /// Print the target started at boot.
    GetDefault,
    /// Reload unit files and the manager configuration.
    DaemonReload,
    /// Re-execute the manager, keeping its state (with --init: PID 1, keeping everything).
    DaemonReexec {
        /// Re-execute sysmaster-init (PID 1) instead of the manager.
        #[arg(long)]
        init: bool,
    },
    /// Shut down and power off.
    Poweroff,
    /// Shut down and reboot.
    Reboot,
    /// Shut down and halt.
    Halt,
    /// Shut down and boot into a new kernel loaded with kexec.
    Kexec,
    /// Print the captured output of a unit.
    Logs {
        #[arg(value_name = "UNIT")]
        unit: String,
    },
}

/// Checks and converts the options the verbs share; a bad value is reported here the way
/// systemctl reports it, with exit status 1.
fn options(cli: &Cli) -> Result<Options, String> {
    let job_mode = match &cli.job_mode {
        None => proto::JobMode::default(),
        Some(m) => online::parse_job_mode(m).ok_or_else(|| format!("Unknown job mode: {m}"))?,
    };
    let whom = match &cli.kill_whom {
        None => KillWhom::All,
        Some(w) => online::parse_kill_whom(w).ok_or_else(|| format!("Unknown kill whom: {w}"))?,
    };
    let signal = match &cli.signal {
        None => 15,
        Some(s) => {
            online::parse_signal(s).ok_or_else(|| format!("Failed to parse signal string {s}."))?
        }
    };
    let mut states = cli.state.clone();
    if cli.failed && !states.iter().any(|s| s == "failed") {
        states.push("failed".to_string());
    }
    Ok(Options {
        quiet: cli.quiet,
        no_block: cli.no_block,
        job_mode,
        legend: !cli.no_legend,
        all: cli.all,
        states,
        types: cli.types.clone(),
        properties: cli.property.clone(),
        value: cli.value,
        whom,
        signal,
        lines: cli.lines,
        follow: cli.follow,
        now: cli.now,
    })
}

fn offline_exit(result: std::io::Result<bool>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("sctl: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = cli.no_pager;
    let default = Command::ListUnits {
        patterns: Vec::new(),
    };
    let command = cli.command.as_ref().unwrap_or(&default);
    match command {
        Command::Verify { units } => {
            let lookup = offline::lookup(&cli.unit_path);
            let mut out = std::io::stdout().lock();
            return offline_exit(offline::verify(&lookup, units, &mut out));
        }
        Command::Cat { units } => {
            let lookup = offline::lookup(&cli.unit_path);
            // `sctl cat sshd` means sshd.service, as with systemctl; paths stay paths.
            let names: Vec<String> = units.iter().map(|u| names::mangle(u, "service")).collect();
            let mut out = std::io::stdout().lock();
            return offline_exit(offline::cat(&lookup, &names, &mut out));
        }
        _ => {}
    }
    let opts = match options(&cli) {
        Ok(o) => o,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let path = client::socket_path(
        cli.runtime_dir.as_deref(),
        std::env::var_os(client::ENV_RUNTIME_DIR),
    );
    let timeout = client::timeout_from_env(std::env::var_os(client::ENV_TIMEOUT));
    let mut ctl = Ctl {
        client: Client::new(path, timeout),
        opts,
        term: Term::new(Box::new(std::io::stdout()), Box::new(std::io::stderr())),
    };
    let result = run(&mut ctl, command);
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Stop::Exit(code)) => ExitCode::from(code),
        Err(Stop::Client(e)) => {
            ctl.term.err(&format!("{e}\n"));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn run(ctl: &mut Ctl, command: &Command) -> online::Res<u8> {
    match command {
        // Handled before a client exists.
        Command::Verify { .. } | Command::Cat { .. } => Ok(0),
        Command::Start { units } => ctl.job(JobVerb::Start, units),
        Command::Stop { units } => ctl.job(JobVerb::Stop, units),
        Command::Restart { units } => ctl.job(JobVerb::Restart, units),
        Command::Reload { units } => ctl.job(JobVerb::Reload, units),
        Command::TryRestart { units } => ctl.job(JobVerb::TryRestart, units),
        Command::ReloadOrRestart { units } => ctl.job(JobVerb::ReloadOrRestart, units),
        Command::TryReloadOrRestart { units } => ctl.job(JobVerb::TryReloadOrRestart, units),
        Command::Isolate { unit } => ctl.job(JobVerb::Isolate, std::slice::from_ref(unit)),
        Command::Kill { units } => ctl.kill(units),
        Command::ResetFailed { units } => ctl.reset_failed(units),
        Command::Status { units } => ctl.status(units),
        Command::Show { units } => ctl.show(units),
        Command::IsActive { units } => {
            ctl.check_state(units, &["active", "reloading"], EXIT_NOT_RUNNING)
        }
        Command::IsFailed { units } => ctl.check_state(units, &["failed"], EXIT_FAILURE),
        Command::IsEnabled { units } => ctl.is_enabled(units),
        Command::ListUnits { patterns } => ctl.list_units(patterns),
        Command::ListUnitFiles { patterns } => ctl.list_unit_files(patterns),
        Command::ListJobs { patterns } => ctl.list_jobs(patterns),
        Command::Cancel { jobs } => ctl.cancel(jobs),
        Command::Enable { units } => ctl.unit_file_change(UnitFileChange::Enable, units),
        Command::Disable { units } => ctl.unit_file_change(UnitFileChange::Disable, units),
        Command::Mask { units } => ctl.unit_file_change(UnitFileChange::Mask, units),
        Command::Unmask { units } => ctl.unit_file_change(UnitFileChange::Unmask, units),
        Command::SetDefault { unit } => ctl.set_default(unit),
        Command::GetDefault => ctl.get_default(),
        Command::DaemonReload => ctl.manager_call(Call::DaemonReload),
        Command::DaemonReexec { init: false } => ctl.manager_call(Call::DaemonReexec),
        Command::DaemonReexec { init: true } => ctl.manager_call(Call::ReexecInit),
        Command::Poweroff => ctl.manager_call(Call::Shutdown {
            kind: ShutdownKind::Poweroff,
        }),
        Command::Reboot => ctl.manager_call(Call::Shutdown {
            kind: ShutdownKind::Reboot,
        }),
        Command::Halt => ctl.manager_call(Call::Shutdown {
            kind: ShutdownKind::Halt,
        }),
        Command::Kexec => ctl.manager_call(Call::Shutdown {
            kind: ShutdownKind::Kexec,
        }),
        Command::Logs { unit } => ctl.logs(unit),
    }
}
