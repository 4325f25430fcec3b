//! The report document.

use broker_model::Event;
use serde::{Deserialize, Serialize};

/// How a run's messages fared, as the checker counts them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Messages a producer started sending.
    pub sent: u64,
    /// Messages a producer was told are stored.
    pub acknowledged: u64,
    /// Messages a producer was told are not stored.
    pub failed: u64,
    /// Messages whose fate the producer never learned.
    pub unknown: u64,
    /// Distinct messages some consumer finished processing.
    pub processed: u64,
    /// Acknowledged messages nobody ever processed.
    pub lost: u64,
    /// Messages processed more than once.
    pub duplicated: u64,
    /// Failed or unknown messages that were processed anyway.
    pub recovered: u64,
    /// Processed messages nobody sent.
    pub unexpected: u64,
}

impl Counts {
    /// Adds another run's counts.
    pub fn add(&mut self, other: &Counts) {
        self.sent += other.sent;
        self.acknowledged += other.acknowledged;
        self.failed += other.failed;
        self.unknown += other.unknown;
        self.processed += other.processed;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.recovered += other.recovered;
        self.unexpected += other.unexpected;
    }
}

/// What the checker concluded about a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Some seed lost an acknowledged message.
    Loss,
    /// No seed lost an acknowledged message.
    NoLoss,
}

impl Verdict {
    /// The name scenario files use for the same outcome in `expect`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Loss => "loss",
            Verdict::NoLoss => "no-loss",
        }
    }
}

/// One lost message and every event that mentions it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LostMessage {
    /// The message id.
    pub id: String,
    /// Its trail through the cluster, in time order.
    pub trail: Vec<Event>,
}

/// One seed's run of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// The counts.
    pub counts: Counts,
    /// Simulated time the run took, in milliseconds.
    pub simulated_ms: u64,
    /// Whether the final drain finished before its deadline.
    pub drained: bool,
    /// Acknowledged messages nobody processed, with their trails.
    pub lost: Vec<LostMessage>,
    /// Messages processed more than once, with how often.
    pub duplicated: Vec<(String, u32)>,
    /// Messages that failed or were unknown yet were processed.
    pub recovered: Vec<String>,
    /// Messages processed but never sent.
    pub unexpected: Vec<String>,
    /// What the fault injector did, in order.
    pub faults: Vec<Event>,
}

/// One scenario over all its seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// What it shows.
    pub description: String,
    /// `log` or `queue`.
    pub system: String,
    /// The configuration, as `key = value` lines of the file's `[config]`
    /// with defaults filled in.
    pub config: Vec<(String, String)>,
    /// The fault schedule, one line per fault.
    pub schedule: Vec<String>,
    /// What the author expected.
    pub expect: Verdict,
    /// What the checker found.
    pub verdict: Verdict,
    /// Whether the two agree.
    pub matches: bool,
    /// Counts summed over seeds.
    pub totals: Counts,
    /// Seeds that lost at least one acknowledged message.
    pub seeds_with_loss: Vec<u64>,
    /// Every seed's run.
    pub seeds: Vec<SeedReport>,
    /// The command that replays one seed (the first lossy one, if any).
    pub replay: String,
}

/// Everything one `mqsim run` produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The tool and version that wrote the report.
    pub generator: String,
    /// The scenarios, in the order they ran.
    pub scenarios: Vec<ScenarioReport>,
}

impl Report {
    /// A report with no scenarios yet.
    pub fn new() -> Self {
        Report {
            generator: format!("mqsim {}", env!("CARGO_PKG_VERSION")),
            scenarios: Vec::new(),
        }
    }

    /// Whether every scenario's verdict matches its expectation.
    pub fn all_match(&self) -> bool {
        self.scenarios.iter().all(|s| s.matches)
    }
}
