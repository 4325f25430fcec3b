//! Results as JSON lines, appended as seeds finish, so that a sweep stopped
//! half-way (Ctrl-C, a crash, a CI timeout) leaves every seed that finished
//! on disk, and a report can be rebuilt from them.
//!
//! One file per run: a `run` line, then per scenario a `scenario` line (the
//! scenario's report without seeds, and how many seeds it is to run)
//! followed by one `seed` line per finished seed, in seed order. Each line
//! is written whole and flushed; a reader ignores a last line cut short.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::document::{Host, Report, ScenarioReport, SeedReport};
use crate::latency::AckLatency;
use crate::partial::{CutScenario, Partial};

/// One line as written: borrows what it writes.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
enum LineOut<'a> {
    Run {
        generator: &'a str,
        scenarios_planned: u64,
    },
    Scenario {
        header: &'a ScenarioReport,
        seeds_planned: u64,
    },
    Seed(SeedLine<'a>),
}

/// One finished seed as streamed.
#[derive(Serialize)]
pub struct SeedLine<'a> {
    /// Its row, as the report keeps it.
    pub row: &'a SeedReport,
    /// Its acknowledged messages' latencies.
    pub ack_latency_us: &'a AckLatency,
    /// The cluster's hosts: with a scenario's first seed only, since the
    /// scenario line is written before any run has deployed the cluster.
    #[serde(skip_serializing_if = "<[Host]>::is_empty")]
    pub hosts: &'a [Host],
}

/// One line as read.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Line {
    Run {
        generator: String,
        scenarios_planned: u64,
    },
    Scenario {
        header: Box<ScenarioReport>,
        seeds_planned: u64,
    },
    Seed {
        row: Box<SeedReport>,
        ack_latency_us: AckLatency,
        #[serde(default)]
        hosts: Vec<Host>,
    },
}

/// The JSON-lines file of a run being written.
pub struct SeedStream {
    out: BufWriter<File>,
}

impl SeedStream {
    /// Starts the file at `path` (replacing any earlier one) for a run of
    /// `scenarios_planned` scenarios, creating parent folders.
    pub fn create(path: &Path, generator: &str, scenarios_planned: u64) -> io::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut stream = SeedStream {
            out: BufWriter::new(File::create(path)?),
        };
        stream.line(&LineOut::Run {
            generator,
            scenarios_planned,
        })?;
        Ok(stream)
    }

    /// Starts a scenario: `header` is its report before any seed.
    pub fn scenario(&mut self, header: &ScenarioReport, seeds_planned: u64) -> io::Result<()> {
        self.line(&LineOut::Scenario {
            header,
            seeds_planned,
        })
    }

    /// Appends the current scenario's next seed.
    pub fn seed(&mut self, seed: SeedLine<'_>) -> io::Result<()> {
        self.line(&LineOut::Seed(seed))
    }

    fn line(&mut self, line: &LineOut<'_>) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, line)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// A scenario being rebuilt.
struct Building {
    report: ScenarioReport,
    seeds_planned: u64,
}

/// Rebuilds the report of the run that wrote `path`, partial if the file
/// ends before every planned seed: a last line cut short is left out, any
/// other line that does not read is an error.
pub fn read(path: &Path) -> io::Result<Report> {
    parse(&std::fs::read_to_string(path)?)
}

fn invalid(line: usize, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("line {line}: {what}"))
}

fn parse(text: &str) -> io::Result<Report> {
    let mut report = Report::new();
    let mut scenarios_planned = 0;
    let mut building: Vec<Building> = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    for (i, text) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        if text.trim().is_empty() {
            continue;
        }
        let line: Line = match serde_json::from_str(text) {
            Ok(line) => line,
            // Cut short as it was written: the seeds before it stand.
            Err(_) if last => break,
            Err(e) => return Err(invalid(i + 1, e)),
        };
        match line {
            Line::Run {
                generator,
                scenarios_planned: n,
            } => {
                report.generator = generator;
                scenarios_planned = n;
            }
            Line::Scenario {
                header,
                seeds_planned,
            } => building.push(Building {
                report: *header,
                seeds_planned,
            }),
            Line::Seed {
                row,
                ack_latency_us,
                hosts,
            } => {
                let Some(b) = building.last_mut() else {
                    return Err(invalid(i + 1, "a seed before any scenario"));
                };
                if b.report.hosts.is_empty() {
                    b.report.hosts = hosts;
                }
                b.report.ack_latency_us.add(&ack_latency_us);
                b.report.seeds.push(*row);
            }
        }
    }
    let done = building
        .iter()
        .filter(|b| b.report.seeds.len() as u64 >= b.seeds_planned)
        .count() as u64;
    let cut = building
        .iter()
        .find(|b| (b.report.seeds.len() as u64) < b.seeds_planned)
        .map(|b| CutScenario {
            name: b.report.name.clone(),
            seeds_done: b.report.seeds.len() as u64,
            seeds_planned: b.seeds_planned,
        });
    if cut.is_some() || done < scenarios_planned {
        report.partial = Some(Partial {
            scenarios_done: done,
            scenarios_planned,
            cut,
        });
    }
    report.scenarios = building
        .into_iter()
        .map(|mut b| {
            b.report.recompute();
            b.report
        })
        .collect();
    Ok(report)
}

#[cfg(test)]
mod tests;
