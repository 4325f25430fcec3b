//! The drawings of a scenario's runs: a throughput and latency plot per
//! run kept in full, and the lifecycle timelines of its lost and
//! dead-lettered messages.
//!
//! A model seed and a run on a real broker are drawn by the same code: the
//! real run is a scenario report of one run, and only the clock its times
//! were read from differs.

use super::format::slug;
use super::timeline::{self, Timeline};
use super::{plot, TIMELINES_PER_SEED};
use crate::document::{Detail, LostMessage, ScenarioReport, SeedReport, Verdict};

/// The clock a run's times were read from, for the words around its
/// drawings (the axes are seconds either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clock {
    /// The model's simulated time.
    Simulated,
    /// Wall-clock time since a real run started.
    SinceStart,
}

impl Clock {
    /// The time axis in words.
    pub(crate) fn words(self) -> &'static str {
        match self {
            Clock::Simulated => "simulated time",
            Clock::SinceStart => "time since start",
        }
    }
}

/// One seed's throughput and latency plot.
pub(crate) struct PlotView {
    /// The seed.
    pub(crate) seed: u64,
    /// A one-line summary for the `<summary>` of its `<details>`.
    pub(crate) summary: String,
    /// The SVG.
    pub(crate) svg: String,
    /// Whether it starts expanded.
    pub(crate) open: bool,
}

/// One lost message's timeline.
pub(crate) struct TimelineView {
    /// The message id.
    pub(crate) id: String,
    /// The `id` of its figure on the page.
    pub(crate) anchor: String,
    /// The drawing, facts and events.
    pub(crate) timeline: Timeline,
}

/// The lost messages of one seed.
pub(crate) struct LostSeed {
    /// The seed.
    pub(crate) seed: u64,
    /// Every lost message id.
    pub(crate) ids: Vec<String>,
    /// Timelines of the first few.
    pub(crate) timelines: Vec<TimelineView>,
    /// How many lost messages have no timeline here.
    pub(crate) more: usize,
    /// Whether it starts expanded.
    pub(crate) open: bool,
}

/// The index of the first seed that lost a message.
fn first_lossy(s: &ScenarioReport) -> Option<usize> {
    s.seeds.iter().position(|seed| !seed.lost.is_empty())
}

fn plot_summary(seed: &SeedReport) -> String {
    match seed.verdict() {
        Verdict::Inconclusive => format!(
            "{} acknowledged, {} not yet consumed (did not drain: {} still readable), {} duplicated, {} refused or unknown",
            seed.counts.acknowledged,
            seed.counts.unconsumed,
            seed.readable(),
            seed.counts.duplicated,
            seed.counts.failed + seed.counts.unknown
        ),
        _ => format!(
            "{} acknowledged, {} lost, {} duplicated, {} refused or unknown",
            seed.counts.acknowledged,
            seed.counts.lost,
            seed.counts.duplicated,
            seed.counts.failed + seed.counts.unknown
        ),
    }
}

/// The plots of the seeds of `s` kept in full; the first losing seed's
/// (else the first inconclusive one's, else the first) starts expanded.
pub(crate) fn plots(s: &ScenarioReport, clock: Clock) -> Vec<PlotView> {
    let first_plot = first_lossy(s)
        .or_else(|| {
            s.seeds
                .iter()
                .position(|seed| seed.verdict() == Verdict::Inconclusive)
        })
        .unwrap_or(0);
    s.seeds
        .iter()
        .enumerate()
        .filter(|(_, seed)| seed.detail == Detail::Full)
        .map(|(i, seed)| PlotView {
            seed: seed.seed,
            summary: plot_summary(seed),
            svg: plot::render(
                &seed.series,
                &seed.fault_spans,
                &seed.phases,
                &format!(
                    "Throughput and latency of {} seed {} over {}",
                    s.name,
                    seed.seed,
                    clock.words()
                ),
            ),
            open: i == first_plot,
        })
        .collect()
}

fn by_seed(
    s: &ScenarioReport,
    anchor: &str,
    pick: fn(&SeedReport) -> &[LostMessage],
    first: Option<usize>,
) -> Vec<LostSeed> {
    s.seeds
        .iter()
        .enumerate()
        .filter(|(_, seed)| !pick(seed).is_empty())
        .map(|(i, seed)| LostSeed {
            seed: seed.seed,
            ids: pick(seed).iter().map(|l| l.id.clone()).collect(),
            timelines: pick(seed)
                .iter()
                .take(TIMELINES_PER_SEED)
                .map(|l| TimelineView {
                    id: l.id.clone(),
                    anchor: format!("{anchor}-seed-{}-{}", seed.seed, slug(&l.id)),
                    timeline: timeline::render(l, &seed.fault_spans, &s.hosts),
                })
                .collect(),
            more: pick(seed).len().saturating_sub(TIMELINES_PER_SEED),
            open: Some(i) == first,
        })
        .collect()
}

/// The lost messages of `s`, per seed, with the timelines of the first of
/// each; their figures' ids start with `anchor`. The first losing seed
/// starts expanded.
pub(crate) fn lost(s: &ScenarioReport, anchor: &str) -> Vec<LostSeed> {
    by_seed(s, anchor, |seed| &seed.lost, first_lossy(s))
}

/// The dead-lettered messages of `s`, drawn as the lost ones are.
pub(crate) fn dead_lettered(s: &ScenarioReport, anchor: &str) -> Vec<LostSeed> {
    by_seed(s, anchor, |seed| &seed.dead_lettered, None)
}
