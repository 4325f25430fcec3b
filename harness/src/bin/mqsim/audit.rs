//! `mqsim audit`: reads a deployment's own files, runs every fault class
//! that applies against each topic or queue, and prints each finding with
//! its verified cures; writes the page, and JSON and JUnit when asked.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use harness::audit::read::{self, KafkaArgs, RabbitmqArgs};
use harness::audit::{json, junit, AuditOptions, AuditReport, Deployment, Progress};
use harness::guarantees::FaultClass;
use harness::scenario::System;
use indicatif::{ProgressBar, ProgressStyle};
use reports::audit::percent;
use reports::Verdict;

use crate::output::out;

/// What every audit writes, and how long it runs.
#[derive(clap::Args)]
pub struct AuditOutputs {
    /// Run every probe with seeds 1..=N.
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// Write the page (`index.html`), the full result (`audit.json`) and
    /// the shrunk reproducers (`reproducers/`) into this folder.
    #[arg(long, default_value = "audit")]
    out: PathBuf,
    /// Also write the findings as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write JUnit XML to this file: one test case per target and
    /// fault class.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Run only this fault class (repeat for several; default: every class
    /// that applies), by its name with dashes: `broker-crash`,
    /// `consumer-crash-before-ack`, ...
    #[arg(long = "class")]
    classes: Vec<FaultClass>,
}

/// The systems `mqsim audit` reads.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Audit a Kafka deployment's properties files.
    Kafka {
        #[command(flatten)]
        files: KafkaArgs,
        #[command(flatten)]
        outputs: AuditOutputs,
    },
    /// Audit a RabbitMQ deployment's definitions and configuration.
    Rabbitmq {
        #[command(flatten)]
        files: RabbitmqArgs,
        #[command(flatten)]
        outputs: AuditOutputs,
    },
}

/// `mqsim audit`: exit 0 when nothing loses, 1 when a fault class loses an
/// acknowledged message, 2 for files that cannot be read.
pub fn audit(command: &AuditCommand) -> ExitCode {
    let (read, outputs) = match command {
        AuditCommand::Kafka { files, outputs } => (read::kafka(files), outputs),
        AuditCommand::Rabbitmq { files, outputs } => (read::rabbitmq(files), outputs),
    };
    let deployment = match read {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    run(&deployment, outputs)
}

fn run(d: &Deployment, outputs: &AuditOutputs) -> ExitCode {
    for t in &d.targets {
        let checked = match &t.system {
            System::Log(c) => c.validate(),
            System::Queue(c) => c.validate(),
        };
        if let Err(e) = checked {
            eprintln!("error: {}: key `{}`: {}", t.name, e.key, e.message);
            return ExitCode::from(2);
        }
    }
    let mut options = AuditOptions {
        seeds: outputs.seeds,
        reproducers: Some(outputs.out.join("reproducers")),
        ..AuditOptions::default()
    };
    if !outputs.classes.is_empty() {
        options.classes = outputs.classes.clone();
    }
    for n in &d.not_modelled {
        out!("not modelled: {}:{}: {}", n.path.display(), n.line, n.key);
    }
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs {elapsed} (eta {eta})")
            .expect("a valid progress template"),
    );
    let result = harness::audit::audit(d, &options, &|p| match p {
        Progress::Planned(n) => bar.inc_length(n),
        Progress::Ran(n) => bar.inc(n),
    });
    bar.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    print(&report);
    if let Err(e) = write(&report, outputs) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    if report.loses() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// One line per finding, then one per cure; one line per target that
/// loses nothing.
fn print(report: &AuditReport) {
    for t in &report.targets {
        let lossy: Vec<_> = t
            .classes
            .iter()
            .filter(|c| c.verdict == Verdict::Loss)
            .collect();
        if lossy.is_empty() {
            out!(
                "ok    {}: {} fault classes, no acknowledged message lost",
                t.name,
                t.classes.len()
            );
        }
        for c in &t.classes {
            if c.verdict == Verdict::Inconclusive {
                out!(
                    "?     {}: {}: inconclusive, {} acknowledged messages not yet consumed",
                    t.name,
                    c.fault_class,
                    c.counts.unconsumed
                );
            }
        }
        for c in lossy {
            let replay = c
                .reproducer
                .as_ref()
                .map(|r| format!("; reproduce: {}", r.replay))
                .unwrap_or_default();
            out!(
                "LOSS  {}: {}: {} of {} acknowledged messages lost over {} runs{replay}",
                t.name,
                c.fault_class,
                c.counts.lost,
                c.counts.acknowledged,
                c.runs
            );
            for k in &c.cures {
                let mark = if k.verified { "cures" } else { "does not cure" };
                out!(
                    "      {} {} -> {}: {mark} (throughput {}, median latency {}, {} refused, {} unknown)",
                    k.setting,
                    k.from,
                    k.to,
                    percent(k.throughput_change),
                    percent(k.latency_change),
                    k.cost.refused,
                    k.cost.unknown
                );
            }
        }
    }
}

fn write(report: &AuditReport, outputs: &AuditOutputs) -> Result<(), String> {
    let put = |path: &Path, text: String| {
        reports::files::write_atomically(path, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let page = outputs.out.join("index.html");
    put(&page, reports::html::audit::render(report))?;
    let full = serde_json::to_string(report).expect("plain data always serializes");
    put(&outputs.out.join("audit.json"), full)?;
    if let Some(file) = &outputs.json {
        put(file, json::to_json(report))?;
        out!("json:   {}", file.display());
    }
    if let Some(file) = &outputs.junit {
        put(file, junit::to_junit(report))?;
        out!("junit:  {}", file.display());
    }
    out!("report: {}", page.display());
    Ok(())
}
