//! `mqsim run`: runs scenarios over their seeds, prints the summary,
//! shrinks losing runs and writes the report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use harness::scenario::{self, Scenario};
use harness::shard::Shard;
use harness::{junit, shrink, suite};
use indicatif::{ProgressBar, ProgressStyle};
use reports::Report;

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
    /// The report folder: `index.html` and `report.json`.
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
/// if asked for); returns the path of the page.
pub fn write_report(report: &Report, outputs: &Outputs) -> Result<PathBuf, CannotWrite> {
    let cannot = |p: &Path, source: std::io::Error| CannotWrite {
        path: p.to_path_buf(),
        source,
    };
    let json = outputs.dir.join("report.json");
    reports::json::write(report, &json).map_err(|e| cannot(&json, e))?;
    if let Some(extra) = &outputs.json {
        reports::json::write(report, extra).map_err(|e| cannot(extra, e))?;
        out!("json:   {}", extra.display());
    }
    if let Some(file) = &outputs.junit {
        let xml = junit::to_junit(report);
        let parent = file.parent().filter(|p| !p.as_os_str().is_empty());
        parent
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(file, xml))
            .map_err(|e| cannot(file, e))?;
        out!("junit:  {}", file.display());
    }
    let html = outputs.dir.join("index.html");
    reports::html::write(report, &html).map_err(|e| cannot(&html, e))?;
    Ok(html)
}

/// `mqsim run`; with `shard`, only that shard's share of each scenario's
/// seeds.
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
    let total: usize = scenarios.iter().map(|s| seeds_of(s).len()).sum();
    let progress = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs {elapsed} (eta {eta})")
            .expect("a valid progress template"),
    );
    let mut report = Report::new();
    print_header();
    for s in &scenarios {
        let seeds = seeds_of(s);
        if seeds.is_empty() {
            continue;
        }
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
                let text = broker_model::to_json_lines(&run.events);
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
        } else if r.verdict != reports::Verdict::NoLoss {
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
        Ok(page) => out!("report: {}", page.display()),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    conclude(&report)
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
