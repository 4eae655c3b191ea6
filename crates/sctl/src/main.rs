//! `sctl`, the command-line client of sysmaster, shaped like `systemctl`. For now it has
//! the offline commands that need no running manager: `verify` and `cat`.

mod offline;

use clap::{Parser, Subcommand};
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
    /// has the highest priority).
    #[arg(long = "unit-path", value_name = "DIR", global = true)]
    unit_path: Vec<PathBuf>,

    #[command(subcommand)]
    command: Command,
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
    /// Print the unit file and the drop-ins of units, as `systemctl cat` does.
    Cat {
        #[arg(required = true, value_name = "UNIT")]
        units: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let lookup = offline::lookup(&cli.unit_path);
    let mut out = std::io::stdout().lock();
    let ok = match &cli.command {
        Command::Verify { units } => offline::verify(&lookup, units, &mut out),
        Command::Cat { units } => offline::cat(&lookup, units, &mut out),
    };
    match ok {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("sctl: {e}");
            ExitCode::FAILURE
        }
    }
}
