//! `mqsim`: run message-queue fault scenarios and check for lost messages.

mod audit;
mod authoring;
mod interrupt;
mod merge;
mod output;
mod real;
mod run;
mod scenarios;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harness::logging;
use harness::shard::Shard;

use run::{Outputs, SeedChoice};

#[derive(Parser)]
#[command(
    name = "mqsim",
    version,
    about = "Find acknowledged messages that a broker configuration loses under faults"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where reports go, shared by `run` and `merge`.
#[derive(clap::Args)]
struct ReportArgs {
    /// Write the report into this folder: `index.html`, the page to open,
    /// `report.json`, the full data, and (`run`) `seeds.jsonl`, every seed's
    /// row streamed as it finished.
    #[arg(long, default_value = "report")]
    out: PathBuf,
    /// Also write the full report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write JUnit XML to this file: one test case per scenario and
    /// its batch of seeds.
    #[arg(long)]
    junit: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios and compare each verdict with its `expect`.
    Run {
        /// Scenario files or folders of them.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// Run only this seed (replay), and show the trail of every lost
        /// message.
        #[arg(long, conflicts_with = "seeds")]
        seed: Option<u64>,
        /// Run seeds 1..=N instead of the seeds each file lists.
        #[arg(long)]
        seeds: Option<u64>,
        /// Run only shard k of n (`k/n`): every n-th seed of each scenario.
        /// Combine the shards' reports with `mqsim merge`.
        #[arg(long)]
        shard: Option<Shard>,
        #[command(flatten)]
        report: ReportArgs,
        /// Write each run's history (JSON lines) into this folder.
        #[arg(long)]
        history: Option<PathBuf>,
        /// Do not shrink losing runs to minimal reproducers.
        #[arg(long)]
        no_shrink: bool,
        /// Where shrunk reproducers are written (default: the report
        /// folder's `shrunk/`).
        #[arg(long)]
        shrunk: Option<PathBuf>,
        /// The most runs shrinking one scenario may take.
        #[arg(long, default_value_t = 64)]
        shrink_budget: usize,
    },
    /// Audit a deployment's own configuration files: which fault classes
    /// lose an acknowledged message, and which single setting changes cure
    /// each, verified. Exit 0: nothing loses; 1: something does; 2: bad
    /// input.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Run queue scenarios on real broker nodes and hold each verdict to
    /// the model's: `real vs model: N of M scenarios agree`.
    #[command(subcommand)]
    Real(real::RealCommand),
    /// One client process of a run on real nodes (started by `mqsim real`).
    #[command(hide = true)]
    RealClient(real::ClientCommand),
    /// Check scenario files without running them.
    Check {
        /// Scenario files or folders of them.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
    /// Merge the JSON reports of several runs (CI shards) into one report.
    Merge {
        /// `report.json` or `seeds.jsonl` files written by `mqsim run` (the
        /// latter also rebuilds the report of a run that crashed).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Print a JSON Schema of scenario files, for editors.
    Schema,
    /// Write a commented starter scenario.
    New {
        /// The system to model.
        #[arg(long, default_value = "log")]
        system: String,
        /// The file to write; printed when left out.
        path: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    logging::init();
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths } => scenarios::check(&paths),
        Command::Audit(command) => audit::audit(&command),
        Command::Real(command) => real::real(&command),
        Command::RealClient(command) => real::client(&command),
        Command::Run {
            paths,
            seed,
            seeds,
            shard,
            report,
            history,
            no_shrink,
            shrunk,
            shrink_budget,
        } => {
            let choice = match (seed, seeds) {
                (Some(n), _) => SeedChoice::Replay(n),
                (None, Some(n)) => SeedChoice::Sweep(n),
                (None, None) => SeedChoice::FromFile,
            };
            let outputs = Outputs {
                shrunk: (!no_shrink).then(|| {
                    let dir = shrunk.unwrap_or_else(|| report.out.join("shrunk"));
                    (dir, shrink_budget)
                }),
                dir: report.out,
                json: report.json,
                junit: report.junit,
                history,
            };
            run::run(&paths, choice, shard, &outputs)
        }
        Command::Merge { inputs, report } => {
            let outputs = Outputs {
                dir: report.out,
                json: report.json,
                junit: report.junit,
                history: None,
                shrunk: None,
            };
            merge::merge(&inputs, &outputs)
        }
        Command::Schema => authoring::print_schema(),
        Command::New { system, path } => authoring::new(&system, path.as_deref()),
    }
}
