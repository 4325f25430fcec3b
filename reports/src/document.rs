//! The report document.

use broker_model::{Event, HostRole};
use serde::{Deserialize, Serialize};

use crate::latency::AckLatency;
use crate::partial::Partial;

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
    /// Acknowledged messages nobody processed in a run whose drain ended
    /// with messages still readable: not known to be lost.
    #[serde(default)]
    pub unconsumed: u64,
    /// Acknowledged messages processed only from a dead-letter queue (they
    /// carried `x-death`): not lost, but not processed from their queue.
    /// Absent from reports that had none, and from older reports.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dead_lettered: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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
        self.unconsumed += other.unconsumed;
        self.dead_lettered += other.dead_lettered;
    }
}

/// What the checker concluded about a scenario, or about one seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Some seed lost an acknowledged message.
    Loss,
    /// No seed lost an acknowledged message.
    NoLoss,
    /// No seed lost an acknowledged message for certain, but some seed's
    /// drain ended while consumers could still read messages, so whether
    /// its unprocessed acknowledged messages are lost is unknown (Jepsen's
    /// `:valid? :unknown`). Never what a scenario expects.
    Inconclusive,
}

impl Verdict {
    /// The name scenario files use for the same outcome in `expect`, and
    /// `inconclusive`, which no file may expect.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Loss => "loss",
            Verdict::NoLoss => "no-loss",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// Whether the checker could judge every acknowledged message of a run.
///
/// A message nobody processed is lost only when nothing is left to read:
/// the run drained, or the messages are gone from every replica. A run cut
/// off by its drain deadline while consumers were still behind proves
/// nothing about the messages they had not reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Outcome {
    /// Every acknowledged message nobody processed is lost. Reports
    /// written before runs could be inconclusive read as this.
    #[default]
    Conclusive,
    /// The drain ended with messages still readable: acknowledged messages
    /// nobody processed are unconsumed, not lost.
    Inconclusive {
        /// Messages consumers could still read as the drain ended.
        readable: u64,
    },
}

/// One lost message and its lifecycle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LostMessage {
    /// The message id.
    pub id: String,
    /// Its lifecycle, in time order: every event that mentions it, plus the
    /// events that explain what became of it although they do not name it
    /// (elections and fencings meanwhile, the fsync after an append, a
    /// restart that no longer holds it, a consumer commit past it). Empty
    /// beyond the first lost messages of a seed, whose trails a report
    /// keeps.
    pub trail: Vec<Event>,
}

/// How much of a seed's run its report keeps.
///
/// A sweep of thousands of seeds keeps every seed's counts, but the lists,
/// trails and series only of its first seeds and its first losing ones: the
/// rest tell the same story, and keeping them all would make memory and
/// reports grow with the sweep. `mqsim run --seed N` replays any seed in
/// full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detail {
    /// Everything below. Reports written before sweeps were bounded read
    /// as this.
    #[default]
    Full,
    /// The counts, times and outcome only; the lists are empty.
    CountsOnly,
}

impl Detail {
    fn is_full(&self) -> bool {
        *self == Detail::Full
    }
}

/// One seed's run of a scenario.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// The counts.
    pub counts: Counts,
    /// Simulated time the run took, in milliseconds.
    pub simulated_ms: u64,
    /// Whether the final drain finished before its deadline.
    pub drained: bool,
    /// Whether the checker could judge every acknowledged message.
    #[serde(default)]
    pub outcome: Outcome,
    /// Whether the lists below were kept; absent when they were.
    #[serde(default, skip_serializing_if = "Detail::is_full")]
    pub detail: Detail,
    /// Acknowledged messages nobody processed, with their trails.
    pub lost: Vec<LostMessage>,
    /// In an inconclusive run, the acknowledged messages nobody processed
    /// (not yet consumed, not known lost).
    #[serde(default)]
    pub unconsumed: Vec<String>,
    /// Acknowledged messages processed only from a dead-letter queue, with
    /// their trails (which end where a consumer of that queue processed
    /// them). Absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dead_lettered: Vec<LostMessage>,
    /// Messages processed more than once, with how often.
    pub duplicated: Vec<(String, u32)>,
    /// Messages that failed or were unknown yet were processed.
    pub recovered: Vec<String>,
    /// Messages processed but never sent.
    pub unexpected: Vec<String>,
    /// What the fault injector did, in order.
    pub faults: Vec<Event>,
    /// Each fault from its start to its end: the bands of the timelines and
    /// plots.
    #[serde(default)]
    pub fault_spans: Vec<FaultSpan>,
    /// When each phase of the run (`faults`, `heal`, `drain`, `end`) began.
    #[serde(default)]
    pub phases: Vec<Phase>,
    /// The clients' throughput and latency over simulated time.
    #[serde(default)]
    pub series: Series,
}

impl SeedReport {
    /// This seed's verdict: inconclusive when its outcome is, else loss
    /// when it lost an acknowledged message.
    pub fn verdict(&self) -> Verdict {
        match self.outcome {
            Outcome::Inconclusive { .. } => Verdict::Inconclusive,
            Outcome::Conclusive if self.counts.lost > 0 => Verdict::Loss,
            Outcome::Conclusive => Verdict::NoLoss,
        }
    }

    /// Messages still readable as an inconclusive run's drain ended; 0 for
    /// a conclusive one.
    pub fn readable(&self) -> u64 {
        match self.outcome {
            Outcome::Inconclusive { readable } => readable,
            Outcome::Conclusive => 0,
        }
    }

    /// This seed's row without its lists, trails and series: what a sweep
    /// keeps of a seed beyond the first few.
    pub fn counts_only(self) -> SeedReport {
        SeedReport {
            seed: self.seed,
            counts: self.counts,
            simulated_ms: self.simulated_ms,
            drained: self.drained,
            outcome: self.outcome,
            detail: Detail::CountsOnly,
            ..SeedReport::default()
        }
    }
}

/// A host of the simulated cluster; a timeline draws one lane per host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    /// The host name, as histories name it (`broker-1`).
    pub name: String,
    /// What it does.
    pub role: HostRole,
}

/// One injected fault from the moment it fired to the moment it was undone.
///
/// The history records a fault and its heal as separate events; a span pairs
/// them so that a reader (or a plot) need not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpan {
    /// When the fault fired, in simulated microseconds.
    pub start_us: u64,
    /// When it was undone: its own heal, else the final heal, else the end of
    /// the run.
    pub end_us: u64,
    /// The action, as scenario files name it (`partition`, `crash`, …).
    pub action: String,
    /// The hosts it hit.
    pub hosts: Vec<String>,
    /// The fault as the schedule describes it.
    pub detail: String,
}

/// The start of one phase of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    /// `faults`, `heal`, `drain` or `end`.
    pub name: String,
    /// When it began, in simulated microseconds.
    pub at_us: u64,
}

/// What the clients did over simulated time, in buckets of equal length:
/// the data of a run's throughput and latency plot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    /// The length of one bucket, in simulated milliseconds.
    pub bucket_ms: u64,
    /// The buckets, from the start of the run to its end, without gaps:
    /// bucket `i` covers `[i * bucket_ms, (i + 1) * bucket_ms)`.
    pub buckets: Vec<Bucket>,
}

/// The client events of one bucket of simulated time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Messages whose first send started in this bucket.
    pub sent: u32,
    /// Messages first acknowledged in this bucket.
    pub acked: u32,
    /// Sends refused in this bucket.
    pub failed: u32,
    /// Sends given up on, outcome unknown, in this bucket.
    pub unknown: u32,
    /// Messages a consumer finished processing in this bucket (a duplicate
    /// counts again).
    pub processed: u32,
    /// The median send-to-acknowledgement latency, in microseconds, of the
    /// acknowledged messages whose send started in this bucket (as Jepsen
    /// plots an operation's latency at its invocation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p50_us: Option<u64>,
    /// The largest such latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_max_us: Option<u64>,
    /// Messages consumers could still read (their lag and what they hold,
    /// plus the queues' ready messages), as last sampled in or before this
    /// bucket; none before the first sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backlog: Option<u64>,
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
    /// The configuration in one line: the system and the settings that
    /// decide what survives a fault (a row of the guarantee matrix).
    #[serde(default)]
    pub configuration: String,
    /// The fault schedule, one line per fault.
    pub schedule: Vec<String>,
    /// What kind of fault the schedule injects, in one line (a column of the
    /// guarantee matrix).
    #[serde(default)]
    pub fault_class: String,
    /// Every host of the cluster, controller first, then brokers, producers
    /// and consumers.
    #[serde(default)]
    pub hosts: Vec<Host>,
    /// Simulated milliseconds of workload and faults before the final heal.
    #[serde(default)]
    pub duration_ms: u64,
    /// What the author expected: `loss` or `no-loss`.
    pub expect: Verdict,
    /// What the checker found: `loss` when any seed lost an acknowledged
    /// message, else `inconclusive` when any seed was, else `no-loss`.
    pub verdict: Verdict,
    /// Whether the two agree; never for an inconclusive verdict.
    pub matches: bool,
    /// Counts summed over seeds.
    pub totals: Counts,
    /// Seeds that lost at least one acknowledged message.
    pub seeds_with_loss: Vec<u64>,
    /// Seeds whose drain ended with messages still readable.
    #[serde(default)]
    pub seeds_inconclusive: Vec<u64>,
    /// Every seed's run.
    pub seeds: Vec<SeedReport>,
    /// The command that replays one seed (the first lossy one, if any).
    pub replay: String,
    /// The send-to-acknowledgement latencies of every seed's acknowledged
    /// messages, pooled. Empty in reports written before it was recorded.
    #[serde(default)]
    pub ack_latency_us: AckLatency,
    /// The same scenario on a real broker (`mqsim real`), when it ran
    /// there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real: Option<RealRun>,
}

impl ScenarioReport {
    /// Messages still readable as the drains of the inconclusive seeds
    /// ended, summed over those seeds.
    pub fn readable(&self) -> u64 {
        self.seeds.iter().map(SeedReport::readable).sum()
    }
}

/// Everything one `mqsim run` produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The tool and version that wrote the report.
    pub generator: String,
    /// The scenarios, in the order they ran.
    pub scenarios: Vec<ScenarioReport>,
    /// How far an interrupted or unfinished run got; absent when it ran
    /// everything it was asked to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<Partial>,
}

impl Report {
    /// A report with no scenarios yet.
    pub fn new() -> Self {
        Report {
            generator: format!("mqsim {}", env!("CARGO_PKG_VERSION")),
            scenarios: Vec::new(),
            partial: None,
        }
    }

    /// Whether every scenario's verdict matches its expectation (an
    /// inconclusive one never does).
    pub fn all_match(&self) -> bool {
        self.scenarios.iter().all(|s| s.matches)
    }
}

/// What a real broker gave for a scenario (`mqsim real`): the same checker
/// read the real history, so the real run is itself a scenario report of
/// one run, with its counts, lost messages and lifecycle timelines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RealRun {
    /// The broker and its version, as its own tools report it.
    pub broker: String,
    /// Why the scenario did not run on the real broker: a fault one
    /// machine cannot inflict, never faked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The real run, judged by the same checker: one run, seed 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Box<ScenarioReport>>,
}

impl RealRun {
    /// The real verdict; `None` when the scenario was skipped.
    pub fn verdict(&self) -> Option<Verdict> {
        self.report.as_ref().map(|r| r.verdict)
    }

    /// Whether the real verdict equals the model's `model`; `None` when
    /// the scenario was skipped.
    pub fn agrees_with(&self, model: Verdict) -> Option<bool> {
        self.verdict().map(|v| v == model)
    }
}
