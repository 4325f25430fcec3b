//! `mqsim real rabbitmq`: queue scenarios on real RabbitMQ nodes, each
//! verdict beside the model's; and `mqsim real-client`, one client process
//! of such a run.

use std::path::PathBuf;
use std::process::ExitCode;

use broker_model::to_json_lines;
use clap::{Args, Subcommand, ValueEnum};
use harness::real::client::{run_client, ClientArgs, Role};
use harness::real::compare::{summary_line, Agreement};
use harness::real::{available, broker_version, side_by_side, RealOptions, RealOutcome};
use reports::Report;

use crate::output::out;
use crate::run::{write_report, Outputs};
use crate::scenarios::load_all;

/// The real brokers `mqsim real` can run.
#[derive(Subcommand)]
pub enum RealCommand {
    /// Local RabbitMQ nodes from the `rabbitmq-server` package (run as
    /// root). Exit 0 when every scenario that ran agrees with the model, 1
    /// when one differs, 2 when the nodes cannot run.
    Rabbitmq {
        /// Scenario files or folders of them.
        #[arg(default_value = "scenarios/real")]
        paths: Vec<PathBuf>,
        /// Write the report (the model's verdicts with the real ones
        /// beside them) into this folder.
        #[arg(long, default_value = "report-real")]
        out: PathBuf,
        /// Write each real run's history (JSON lines) into this folder.
        #[arg(long)]
        history: Option<PathBuf>,
        /// A folder for the nodes' data and the clients' logs (emptied
        /// first).
        #[arg(long, default_value = "/tmp/mqsim-real")]
        work_dir: PathBuf,
    },
}

/// `mqsim real rabbitmq`.
pub fn real(command: &RealCommand) -> ExitCode {
    let RealCommand::Rabbitmq {
        paths,
        out: dir,
        history,
        work_dir,
    } = command;
    let scenarios = match load_all(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Err(why) = available() {
        eprintln!("error: cannot run real RabbitMQ nodes here: {why}");
        return ExitCode::from(2);
    }
    let client_exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot find the mqsim executable: {e}");
            return ExitCode::from(2);
        }
    };
    let options = RealOptions {
        client_exe,
        work_dir: work_dir.clone(),
    };
    let broker = broker_version();
    out!("real broker: {broker}");
    out!(
        "       {:<44} {:>8} {:>8} {:>6}  {:<12} {:<12}",
        "scenario",
        "acked",
        "lost",
        "dup",
        "real",
        "model"
    );
    let outputs = Outputs {
        dir: dir.clone(),
        json: None,
        junit: None,
        history: None,
        shrunk: None,
    };
    let mut report = Report::new();
    let mut agreements = Vec::new();
    for s in &scenarios {
        let side = match side_by_side(s, &options, &broker) {
            Ok(side) => side,
            Err(e) => {
                eprintln!("error: {}: {e}", s.name);
                return ExitCode::from(2);
            }
        };
        match &side.real {
            RealOutcome::Skipped(why) => {
                out!("skip   {:<44} {why}", side.name());
            }
            RealOutcome::Ran(run) => {
                if let Some(dir) = history {
                    let path = dir.join(format!("{}.jsonl", side.name()));
                    let written = std::fs::create_dir_all(dir)
                        .and_then(|()| std::fs::write(&path, to_json_lines(&run.events)));
                    if let Err(e) = written {
                        eprintln!("error: cannot write {}: {e}", path.display());
                        return ExitCode::from(2);
                    }
                }
                let real = side.real_verdict().expect("a real run has its report");
                let agreement = Agreement::of(side.model(), real);
                let mark = if agreement.agrees() { "ok" } else { "DIFF" };
                let c = &run.analysis.counts;
                out!(
                    "{mark:<6} {:<44} {:>8} {:>8} {:>6}  {:<12} {:<12}",
                    side.name(),
                    c.acknowledged,
                    c.lost,
                    c.duplicated,
                    real.name(),
                    side.model().name()
                );
                agreements.push(agreement);
            }
        }
        report.scenarios.push(side.report);
        // The report is rewritten after every scenario: a run stopped
        // half-way leaves the scenarios it finished.
        if let Err(e) = write_report(&report, &outputs) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    out!("report: {}", dir.join("index.html").display());
    out!("{}", summary_line(&agreements));
    if agreements.iter().all(Agreement::agrees) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The kind of client a `real-client` process is.
#[derive(Clone, Copy, ValueEnum)]
pub enum ClientKind {
    /// A publisher.
    Producer,
    /// A consumer.
    Consumer,
}

/// `mqsim real-client`: one client process of a real run.
#[derive(Args)]
pub struct ClientCommand {
    /// The scenario file.
    scenario: PathBuf,
    #[arg(long)]
    role: ClientKind,
    /// 1-based.
    #[arg(long)]
    index: u32,
    /// The nodes' AMQP ports, comma-separated, node 1 first.
    #[arg(long, value_delimiter = ',')]
    ports: Vec<u16>,
    /// When the run began, in microseconds since the Unix epoch.
    #[arg(long)]
    epoch_us: u64,
    /// A restarted producer's first message.
    #[arg(long, default_value_t = 0)]
    from: u32,
}

/// Runs one client process.
pub fn client(command: &ClientCommand) -> ExitCode {
    let role = match command.role {
        ClientKind::Producer => Role::Producer(command.index),
        ClientKind::Consumer => Role::Consumer(command.index),
    };
    let args = ClientArgs {
        scenario: command.scenario.clone(),
        role,
        ports: command.ports.clone(),
        epoch_us: command.epoch_us,
        from: command.from,
    };
    match run_client(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
