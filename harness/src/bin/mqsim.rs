//! `mqsim`: run message-queue fault scenarios and check for lost messages.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harness::scenario::{self, Scenario};
use harness::{logging, shrink, suite};
use indicatif::{ProgressBar, ProgressStyle};
use reports::{Report, ScenarioReport};

/// Prints a line to stdout, ignoring a closed pipe (`mqsim run | head`).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

/// Lost messages whose trail a replay prints; the JSON report has them all.
const TRAILS_SHOWN: usize = 10;

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
        /// Write the report into this folder: `index.html`, the page to open,
        /// and `report.json`, the full data.
        #[arg(long, default_value = "report")]
        out: PathBuf,
        /// Also write the full report as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
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
    /// Check scenario files without running them.
    Check {
        /// Scenario files or folders of them.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    logging::init();
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths } => check(&paths),
        Command::Run {
            paths,
            seed,
            seeds,
            out,
            json,
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
                shrunk: (!no_shrink)
                    .then(|| (shrunk.unwrap_or_else(|| out.join("shrunk")), shrink_budget)),
                dir: out,
                json,
                history,
            };
            run(&paths, choice, &outputs)
        }
    }
}

fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, ExitCode> {
    let files = scenario::discover(paths).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })?;
    if files.is_empty() {
        eprintln!("error: no scenario files (*.toml) found");
        return Err(ExitCode::from(2));
    }
    let mut scenarios = Vec::new();
    let mut failed = false;
    for f in files {
        match scenario::load(&f) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    if failed {
        Err(ExitCode::from(2))
    } else {
        Ok(scenarios)
    }
}

fn check(paths: &[PathBuf]) -> ExitCode {
    match load_all(paths) {
        Ok(scenarios) => {
            for s in &scenarios {
                out!(
                    "ok  {}  ({}, {} seeds, {} faults)",
                    s.file.display(),
                    s.system.name(),
                    s.seeds.len(),
                    s.faults.len()
                );
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// Which seeds `run` uses.
#[derive(Clone, Copy)]
enum SeedChoice {
    /// Each file's own `seeds`.
    FromFile,
    /// One seed, with the trail of every lost message printed.
    Replay(u64),
    /// Seeds 1..=N.
    Sweep(u64),
}

/// Where `run` writes what it found.
struct Outputs {
    /// The report folder: `index.html` and `report.json`.
    dir: PathBuf,
    /// An extra copy of the JSON report.
    json: Option<PathBuf>,
    /// A folder for each run's history.
    history: Option<PathBuf>,
    /// Where to write shrunk reproducers, and the run budget for shrinking.
    shrunk: Option<(PathBuf, usize)>,
}

/// Writes the report folder (and the extra JSON copy, if asked for);
/// returns the path of the page.
fn write_report(report: &Report, outputs: &Outputs) -> Result<PathBuf, String> {
    let cannot = |p: &Path, e: std::io::Error| format!("cannot write {}: {e}", p.display());
    let json = outputs.dir.join("report.json");
    reports::json::write(report, &json).map_err(|e| cannot(&json, e))?;
    if let Some(extra) = &outputs.json {
        reports::json::write(report, extra).map_err(|e| cannot(extra, e))?;
    }
    let html = outputs.dir.join("index.html");
    reports::html::write(report, &html).map_err(|e| cannot(&html, e))?;
    Ok(html)
}

fn run(paths: &[PathBuf], choice: SeedChoice, outputs: &Outputs) -> ExitCode {
    let scenarios = match load_all(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let seeds_of = |s: &Scenario| -> Vec<u64> {
        match choice {
            SeedChoice::FromFile => s.seeds.clone(),
            SeedChoice::Replay(n) => vec![n],
            SeedChoice::Sweep(n) => (1..=n).collect(),
        }
    };
    let total: usize = scenarios.iter().map(|s| seeds_of(s).len()).sum();
    let progress = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs {elapsed} (eta {eta})")
            .expect("a valid progress template"),
    );
    let mut report = Report::new();
    out!(
        "{:<6} {:<34} {:>5} {:>8} {:>6} {:>6}  {:<8} {:<8}",
        "",
        "scenario",
        "seeds",
        "acked",
        "lost",
        "dup",
        "verdict",
        "expect"
    );
    for s in &scenarios {
        let seeds = seeds_of(s);
        let (r, runs) = match suite::run_seeds_with(s, &seeds, || progress.inc(1)) {
            Ok(out) => out,
            Err(e) => {
                progress.finish_and_clear();
                eprintln!("error: {}: {e}", s.file.display());
                return ExitCode::from(2);
            }
        };
        progress.suspend(|| print_line(&r));
        if let Some(dir) = &outputs.history {
            for run in &runs {
                let file = dir.join(format!("{}-seed{}.jsonl", s.name, run.seed));
                let text = broker_model::history::to_json_lines(&run.events);
                if let Err(e) =
                    std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&file, text))
                {
                    eprintln!("error: cannot write {}: {e}", file.display());
                    return ExitCode::from(2);
                }
            }
        }
        if matches!(choice, SeedChoice::Replay(_)) {
            print_trails(&r);
        } else if r.verdict == reports::Verdict::Loss {
            progress.suspend(|| out!("       replay: {}", r.replay));
        }
        if let (Some((dir, budget)), Some(seed)) = (&outputs.shrunk, r.seeds_with_loss.first()) {
            if let Err(code) = progress.suspend(|| shrink_and_write(s, *seed, dir, *budget)) {
                return code;
            }
        }
        report.scenarios.push(r);
    }
    progress.finish_and_clear();
    match write_report(&report, outputs) {
        Ok(page) => {
            if let Some(extra) = &outputs.json {
                out!("json:   {}", extra.display());
            }
            out!("report: {}", page.display());
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let mismatches = report.scenarios.iter().filter(|s| !s.matches).count();
    if mismatches == 0 {
        out!(
            "all {} scenarios match their expectation",
            report.scenarios.len()
        );
        ExitCode::SUCCESS
    } else {
        out!(
            "{mismatches} of {} scenarios do not match their expectation",
            report.scenarios.len()
        );
        ExitCode::from(1)
    }
}

/// Shrinks a losing seed of `s` and writes the reproducer into `dir`.
fn shrink_and_write(s: &Scenario, seed: u64, dir: &Path, budget: usize) -> Result<(), ExitCode> {
    let shrunk = match shrink::shrink(s, seed, budget) {
        Ok(Some(shrunk)) => shrunk,
        Ok(None) => return Ok(()),
        Err(e) => {
            eprintln!("error: shrinking {}: {e}", s.file.display());
            return Err(ExitCode::from(2));
        }
    };
    let file = dir.join(format!("{}.toml", shrunk.scenario.name));
    let text = scenario::writer::write(&shrunk.scenario);
    if let Err(e) = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&file, text)) {
        eprintln!("error: cannot write {}: {e}", file.display());
        return Err(ExitCode::from(2));
    }
    out!(
        "       shrunk to {} fault(s), {} messages, losing {} ({} runs): {}",
        shrunk.scenario.faults.len(),
        shrunk.scenario.workload.messages,
        shrunk.lost,
        shrunk.runs,
        file.display()
    );
    out!(
        "       replay: cargo run --release --bin mqsim -- run {} --seed {seed}",
        file.display()
    );
    Ok(())
}

fn print_line(r: &ScenarioReport) {
    out!(
        "{:<6} {:<34} {:>5} {:>8} {:>6} {:>6}  {:<8} {:<8}",
        if r.matches { "ok" } else { "FAIL" },
        r.name,
        r.seeds.len(),
        r.totals.acknowledged,
        r.totals.lost,
        r.totals.duplicated,
        r.verdict.name(),
        r.expect.name(),
    );
}

fn print_trails(r: &ScenarioReport) {
    for seed in &r.seeds {
        if !seed.drained {
            out!("       seed {}: the final drain did not finish", seed.seed);
        }
        for f in &seed.faults {
            out!(
                "       {:>9.3}s  {:<12} {}",
                f.at().as_secs_f64(),
                f.host,
                reports::describe::event(&f.kind)
            );
        }
        for lost in seed.lost.iter().take(TRAILS_SHOWN) {
            out!("       lost {}:", lost.id);
            for e in &lost.trail {
                out!(
                    "         {:>9.3}s  {:<12} {}",
                    e.at().as_secs_f64(),
                    e.host,
                    reports::describe::event(&e.kind)
                );
            }
        }
        if seed.lost.len() > TRAILS_SHOWN {
            out!(
                "       … and {} more lost messages (report.json has them all)",
                seed.lost.len() - TRAILS_SHOWN
            );
        }
    }
}
