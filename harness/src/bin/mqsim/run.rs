//! `mqsim run`: runs scenarios over their seeds, prints the summary,
//! shrinks losing runs and writes the report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use harness::scenario::{self, Scenario};
use harness::shard::Shard;
use harness::suite::{SweepEnd, SweepHooks};
use harness::{junit, shrink, suite};
use indicatif::{ProgressBar, ProgressStyle};
use reports::stream::{SeedLine, SeedStream};
use reports::{CutScenario, Partial, Report, ScenarioReport};

use crate::interrupt;
use crate::output::{out, print_header, print_line, print_trails};
use crate::scenarios::load_all;

/// Which seeds `run` uses.
#[derive(Clone, Copy)]
pub enum SeedChoice {
    /// Each file's own `seeds`.
    FromFile,
    /// One seed, with the trail of every lost message printed.
    Replay(u64),
    /// Seeds 1..=N.
    Sweep(u64),
}

/// Where `run` writes what it found.
pub struct Outputs {
    /// The report folder: `index.html`, `report.json` and (from `run`)
    /// `seeds.jsonl`.
    pub dir: PathBuf,
    /// An extra copy of the JSON report.
    pub json: Option<PathBuf>,
    /// A JUnit XML file for CI.
    pub junit: Option<PathBuf>,
    /// A folder for each run's history.
    pub history: Option<PathBuf>,
    /// Where to write shrunk reproducers, and the run budget for shrinking.
    pub shrunk: Option<(PathBuf, usize)>,
}

/// A report file that could not be written.
#[derive(Debug)]
pub struct CannotWrite {
    path: PathBuf,
    source: std::io::Error,
}

impl std::fmt::Display for CannotWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write {}: {}", self.path.display(), self.source)
    }
}

/// Writes the report folder (and the extra JSON copy and the JUnit file,
/// if asked for), each file atomically; returns the path of the page.
pub fn write_report(report: &Report, outputs: &Outputs) -> Result<PathBuf, CannotWrite> {
    let cannot = |p: &Path, source: std::io::Error| CannotWrite {
        path: p.to_path_buf(),
        source,
    };
    if let Some(extra) = &outputs.json {
        reports::json::write(report, extra).map_err(|e| cannot(extra, e))?;
        out!("json:   {}", extra.display());
    }
    if let Some(file) = &outputs.junit {
        let xml = junit::to_junit(report);
        reports::files::write_atomically(file, xml.as_bytes()).map_err(|e| cannot(file, e))?;
        out!("junit:  {}", file.display());
    }
    refresh_report(report, &outputs.dir)
}

/// Writes `report.json` and `index.html` into `dir`, atomically, saying
/// nothing: the report of a run still going, refreshed as each scenario
/// ends; returns the path of the page.
fn refresh_report(report: &Report, dir: &Path) -> Result<PathBuf, CannotWrite> {
    let cannot = |p: &Path, source: std::io::Error| CannotWrite {
        path: p.to_path_buf(),
        source,
    };
    let json = dir.join("report.json");
    reports::json::write(report, &json).map_err(|e| cannot(&json, e))?;
    let html = dir.join("index.html");
    reports::html::write(report, &html).map_err(|e| cannot(&html, e))?;
    Ok(html)
}

/// Where a run streams its seeds as they finish, in the report folder.
pub const SEEDS_FILE: &str = "seeds.jsonl";

/// `mqsim run`; with `shard`, only that shard's share of each scenario's
/// seeds.
///
/// Each seed's row is appended to `seeds.jsonl` as it finishes, and the
/// report folder is rewritten as each scenario ends, so a run stopped by
/// Ctrl-C, a crash or a timeout leaves a report of what ran (`mqsim merge
/// seeds.jsonl` rebuilds one after a crash).
pub fn run(
    paths: &[PathBuf],
    choice: SeedChoice,
    shard: Option<Shard>,
    outputs: &Outputs,
) -> ExitCode {
    let scenarios = match load_all(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let seeds_of = |s: &Scenario| -> Vec<u64> {
        let all: Vec<u64> = match choice {
            SeedChoice::FromFile => s.seeds.clone(),
            SeedChoice::Replay(n) => vec![n],
            SeedChoice::Sweep(n) => (1..=n).collect(),
        };
        shard.map_or(all.clone(), |shard| shard.select(&all))
    };
    let planned: Vec<(&Scenario, Vec<u64>)> = scenarios
        .iter()
        .map(|s| (s, seeds_of(s)))
        .filter(|(_, seeds)| !seeds.is_empty())
        .collect();
    let total: usize = planned.iter().map(|(_, seeds)| seeds.len()).sum();
    let progress = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs {elapsed} (eta {eta})")
            .expect("a valid progress template"),
    );
    let mut report = Report::new();
    let stream_path = outputs.dir.join(SEEDS_FILE);
    let mut stream = match SeedStream::create(&stream_path, &report.generator, planned.len() as u64)
    {
        Ok(s) => s,
        Err(e) => return cannot_write(&stream_path, &e),
    };
    let stop = interrupt::stop_flag();
    print_header();
    for (done, (s, seeds)) in planned.iter().enumerate() {
        if let Err(e) = stream.scenario(&suite::header(s), seeds.len() as u64) {
            return cannot_write(&stream_path, &e);
        }
        let history_error = Mutex::new(None);
        let on_run = |run: &harness::runner::RunOutput| {
            progress.inc(1);
            if let Some(dir) = &outputs.history {
                let file = dir.join(format!("{}-seed{}.jsonl", s.name, run.seed));
                let text = broker_model::to_json_lines(&run.events);
                if let Err(e) =
                    std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&file, text))
                {
                    let mut first = history_error.lock().expect("no writer panics");
                    first.get_or_insert((file, e));
                }
            }
        };
        let mut stream_error = None;
        let mut on_seed = |seed: SeedLine<'_>| {
            if stream_error.is_none() {
                stream_error = stream.seed(seed).err();
            }
        };
        let hooks = SweepHooks {
            on_run: &on_run,
            on_seed: &mut on_seed,
            stop,
        };
        let (r, end) = match suite::sweep(s, seeds, hooks) {
            Ok(out) => out,
            Err(e) => {
                progress.finish_and_clear();
                eprintln!("error: {}: {e}", s.file.display());
                return ExitCode::from(2);
            }
        };
        if let Some((file, e)) = history_error.into_inner().expect("no writer panics") {
            progress.finish_and_clear();
            return cannot_write(&file, &e);
        }
        if let Some(e) = stream_error {
            progress.finish_and_clear();
            return cannot_write(&stream_path, &e);
        }
        if end == SweepEnd::Stopped {
            progress.finish_and_clear();
            return interrupted(report, r, (done, planned.len()), seeds.len(), outputs);
        }
        progress.suspend(|| print_line(&r));
        if matches!(choice, SeedChoice::Replay(_)) {
            print_trails(&r);
        } else if r.verdict != reports::Verdict::NoLoss {
            progress.suspend(|| out!("       replay: {}", r.replay));
        }
        if let (Some((dir, budget)), Some(seed)) = (&outputs.shrunk, r.seeds_with_loss.first()) {
            if let Err(code) = progress.suspend(|| shrink_and_write(s, *seed, dir, *budget)) {
                return code;
            }
        }
        report.scenarios.push(r);
        if done + 1 < planned.len() {
            report.partial = Some(Partial {
                scenarios_done: done as u64 + 1,
                scenarios_planned: planned.len() as u64,
                cut: None,
            });
            if let Err(e) = refresh_report(&report, &outputs.dir) {
                progress.finish_and_clear();
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    progress.finish_and_clear();
    report.partial = None;
    match write_report(&report, outputs) {
        Ok(page) => out!("report: {}", page.display()),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    conclude(&report)
}

/// Prints why `path` could not be written; exit code 2.
fn cannot_write(path: &Path, e: &std::io::Error) -> ExitCode {
    eprintln!("error: cannot write {}: {e}", path.display());
    ExitCode::from(2)
}

/// Writes the report of a run stopped in the middle of scenario `cut` (the
/// scenarios before it complete) and says how far it got; exit code 130,
/// as a shell reports a command ended by Ctrl-C.
fn interrupted(
    mut report: Report,
    cut: ScenarioReport,
    (scenarios_done, scenarios_planned): (usize, usize),
    seeds_planned: usize,
    outputs: &Outputs,
) -> ExitCode {
    let partial = Partial {
        scenarios_done: scenarios_done as u64,
        scenarios_planned: scenarios_planned as u64,
        cut: Some(CutScenario {
            name: cut.name.clone(),
            seeds_done: cut.seeds.len() as u64,
            seeds_planned: seeds_planned as u64,
        }),
    };
    print_line(&cut);
    report.scenarios.push(cut);
    out!("{}", partial.describe());
    report.partial = Some(partial);
    match write_report(&report, outputs) {
        Ok(page) => out!("report: {}", page.display()),
        Err(e) => eprintln!("error: {e}"),
    }
    ExitCode::from(130)
}

/// The closing line, and the exit code: 0 only when every scenario matches
/// its expectation, which an inconclusive one never does.
pub fn conclude(report: &Report) -> ExitCode {
    let mismatches = report.scenarios.iter().filter(|s| !s.matches).count();
    let inconclusive = report
        .scenarios
        .iter()
        .filter(|s| s.verdict == reports::Verdict::Inconclusive)
        .count();
    if mismatches == 0 {
        out!(
            "all {} scenarios match their expectation",
            report.scenarios.len()
        );
        return ExitCode::SUCCESS;
    }
    let undecided = match inconclusive {
        0 => String::new(),
        n => format!(" ({n} inconclusive: a drain ended with messages still readable)"),
    };
    out!(
        "{mismatches} of {} scenarios do not match their expectation{undecided}",
        report.scenarios.len()
    );
    ExitCode::from(1)
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
