//! The page: what each part of the report shows, gathered into view models
//! that the `page.html` template lays out.
//!
//! The template is compiled into the binary by askama, checked against
//! these structs at build time and HTML-escaped by default; the drawings
//! are inserted as finished SVG markup, escaped by [`super::svg`].

use askama::Template;

use super::aggregate::{self, Aggregate};
use super::format::{secs, slug, verdict_class};
use super::marks::KeyItem;
use super::matrix::{self, Matrix};
use super::real::{self, RealView, Tally};
use super::runs::{self, Clock, LostSeed, PlotView};
use super::{plot, timeline, TIMELINES_PER_SEED};
use crate::describe::count;
use crate::document::{Counts, Report, ScenarioReport, SeedReport, Verdict};

/// Unconsumed messages of an inconclusive seed listed by id on the page;
/// `report.json` lists them all.
const UNCONSUMED_LISTED: usize = 100;

/// Seed rows a scenario's table lists. A scenario with more seeds lists its
/// losing and inconclusive seeds first, up to this many, and leaves the
/// rest to the aggregate panel: `report.json` has every row.
pub(crate) const SEED_ROWS_LISTED: usize = 50;

/// One `key = value` setting.
pub(crate) struct Setting {
    /// The scenario-file name of the setting.
    pub(crate) key: String,
    /// Its value, defaults filled in.
    pub(crate) value: String,
}

/// One seed's row of a scenario's table.
pub(crate) struct SeedRow {
    /// The seed.
    pub(crate) seed: u64,
    /// Its counts.
    pub(crate) counts: Counts,
    /// Simulated time the run took.
    pub(crate) simulated: String,
    /// Whether the drain finished.
    pub(crate) drained: bool,
    /// The seed's own verdict.
    pub(crate) verdict: Verdict,
    /// Messages still readable as an inconclusive seed's drain ended.
    pub(crate) readable: u64,
}

impl SeedRow {
    /// How the drain ended, in words.
    pub(crate) fn drain_text(&self) -> String {
        match (self.drained, self.verdict) {
            (true, _) => "finished".into(),
            (false, Verdict::Inconclusive) => {
                format!("did not drain: {} readable", count(self.readable))
            }
            (false, _) => "hit the deadline, nothing left to read".into(),
        }
    }
}

/// An inconclusive seed: its drain ended with messages still readable, so
/// the acknowledged messages nobody processed are not known lost.
pub(crate) struct UnconsumedSeed {
    /// The seed.
    pub(crate) seed: u64,
    /// What the `<summary>` says.
    pub(crate) summary: String,
    /// The first unconsumed message ids.
    pub(crate) ids: Vec<String>,
    /// How many more are in `report.json` only.
    pub(crate) more: usize,
}

impl UnconsumedSeed {
    fn of(seed: &SeedReport) -> Self {
        UnconsumedSeed {
            seed: seed.seed,
            summary: format!(
                "did not drain: {} still readable; {} acknowledged messages not yet consumed",
                count(seed.readable()),
                count(seed.counts.unconsumed)
            ),
            ids: seed
                .unconsumed
                .iter()
                .take(UNCONSUMED_LISTED)
                .cloned()
                .collect(),
            more: seed.unconsumed.len().saturating_sub(UNCONSUMED_LISTED),
        }
    }
}

/// One scenario's section.
pub(crate) struct ScenarioView {
    /// The `id` of the section.
    pub(crate) anchor: String,
    /// The scenario's name.
    pub(crate) name: String,
    /// Its file.
    pub(crate) file: String,
    /// What it shows, in paragraphs.
    pub(crate) description: Vec<String>,
    /// The configuration label, split into settings.
    pub(crate) label: Vec<String>,
    /// Every setting.
    pub(crate) config: Vec<Setting>,
    /// The fault schedule, one line per fault.
    pub(crate) schedule: Vec<String>,
    /// The fault class.
    pub(crate) fault_class: String,
    /// The verdict.
    pub(crate) verdict: Verdict,
    /// The expectation.
    pub(crate) expect: Verdict,
    /// Whether they agree.
    pub(crate) matches: bool,
    /// Counts over seeds.
    pub(crate) totals: Counts,
    /// Seeds run.
    pub(crate) seed_count: usize,
    /// Per-seed rows: every seed, or in a long sweep the losing and
    /// inconclusive ones first.
    pub(crate) seeds: Vec<SeedRow>,
    /// Seeds run but not listed in the table.
    pub(crate) rows_not_listed: usize,
    /// The scenario over all its seeds.
    pub(crate) aggregate: Aggregate,
    /// The replay command.
    pub(crate) replay: String,
    /// Per-seed plots, of the seeds the report keeps in full.
    pub(crate) plots: Vec<PlotView>,
    /// Seeds kept by their counts only: no plot, no timelines.
    pub(crate) counts_only: usize,
    /// Per-seed lost messages.
    pub(crate) lost: Vec<LostSeed>,
    /// Per-seed dead-lettered messages, drawn as the lost ones are.
    pub(crate) dead_lettered: Vec<LostSeed>,
    /// Seeds that did not drain while messages were still readable.
    pub(crate) unconsumed: Vec<UnconsumedSeed>,
    /// Messages still readable as those seeds' drains ended.
    pub(crate) readable: u64,
    /// The scenario on a real broker, when `mqsim real` ran it there.
    pub(crate) real: Option<RealView>,
}

impl ScenarioView {
    /// `loss`, `ok` or `unknown`, for CSS.
    pub(crate) fn verdict_class(&self) -> &'static str {
        verdict_class(self.verdict)
    }

    /// Seeds not listed in the table, as a grouped number.
    pub(crate) fn rows_not_listed_text(&self) -> String {
        count(self.rows_not_listed as u64)
    }

    /// The verdict in words.
    pub(crate) fn verdict_text(&self) -> String {
        match self.verdict {
            Verdict::Loss => "loses acknowledged messages".into(),
            Verdict::NoLoss => "no acknowledged message lost".into(),
            Verdict::Inconclusive => format!(
                "? inconclusive: did not drain, {} still readable",
                count(self.readable)
            ),
        }
    }
}

/// The whole page.
#[derive(Template)]
#[template(path = "page.html")]
pub(crate) struct Page {
    /// The tool that wrote the report.
    pub(crate) generator: String,
    /// Scenarios run.
    pub(crate) scenario_count: usize,
    /// Runs (scenario × seed) made.
    pub(crate) run_count: usize,
    /// Scenarios that lost an acknowledged message.
    pub(crate) lossy_count: usize,
    /// Scenarios whose verdict is inconclusive.
    pub(crate) inconclusive_count: usize,
    /// Scenarios whose verdict differs from their expectation.
    pub(crate) mismatch_count: usize,
    /// The guarantee matrix.
    pub(crate) matrix: Matrix,
    /// One section per scenario.
    pub(crate) scenarios: Vec<ScenarioView>,
    /// The key of the timelines.
    pub(crate) timeline_key: Vec<KeyItem>,
    /// The key of the plots.
    pub(crate) plot_key: Vec<KeyItem>,
    /// The bound on timelines per seed, for the page's notes.
    pub(crate) timelines_per_seed: usize,
    /// How far a run that did not finish got.
    pub(crate) partial: Option<String>,
    /// Seeds a report keeps in full, first and losing, for the notes.
    pub(crate) detailed_seeds: usize,
    /// The header of the scenario table's real column, when some scenario
    /// ran on a real broker.
    pub(crate) real_column: Option<String>,
    /// How many scenarios the real broker and the model agree on.
    pub(crate) real_tally: Option<Tally>,
}

/// Text as scenario files write it, in paragraphs: a blank line separates
/// paragraphs, other line breaks are only where the author wrapped.
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// Section anchors, one per scenario, unique even if names collide.
fn anchors(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in &report.scenarios {
        let base = format!("scenario-{}", slug(&s.name));
        let mut candidate = base.clone();
        let mut n = 2;
        while out.contains(&candidate) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        out.push(candidate);
    }
    out
}

fn scenario_view(s: &ScenarioReport, anchor: String) -> ScenarioView {
    let plots = runs::plots(s, Clock::Simulated);
    let lost = runs::lost(s, &anchor);
    let dead_lettered = runs::dead_lettered(s, &anchor);
    let label = if s.configuration.is_empty() {
        vec![s.system.clone()]
    } else {
        s.configuration.split(" · ").map(str::to_string).collect()
    };
    ScenarioView {
        name: s.name.clone(),
        file: s.file.clone(),
        description: paragraphs(&s.description),
        label,
        config: s
            .config
            .iter()
            .map(|(k, v)| Setting {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
        schedule: s.schedule.clone(),
        fault_class: s.fault_class.clone(),
        verdict: s.verdict,
        expect: s.expect,
        matches: s.matches,
        totals: s.totals,
        seed_count: s.seeds.len(),
        seeds: listed_rows(s),
        rows_not_listed: s.seeds.len().saturating_sub(SEED_ROWS_LISTED),
        aggregate: aggregate::aggregate(s),
        replay: s.replay.clone(),
        counts_only: s.seeds.len() - plots.len(),
        plots,
        lost,
        dead_lettered,
        unconsumed: s
            .seeds
            .iter()
            .filter(|seed| seed.verdict() == Verdict::Inconclusive)
            .map(UnconsumedSeed::of)
            .collect(),
        readable: s.readable(),
        real: s.real.as_ref().map(|r| RealView::of(r, s.verdict, &anchor)),
        anchor,
    }
}

/// The seeds a scenario's table lists: all of them when they fit, else the
/// losing and inconclusive ones first, up to [`SEED_ROWS_LISTED`] rows.
fn listed(s: &ScenarioReport) -> Vec<&SeedReport> {
    if s.seeds.len() <= SEED_ROWS_LISTED {
        return s.seeds.iter().collect();
    }
    let (notable, rest): (Vec<&SeedReport>, Vec<&SeedReport>) = s
        .seeds
        .iter()
        .partition(|seed| seed.verdict() != Verdict::NoLoss);
    notable
        .into_iter()
        .chain(rest)
        .take(SEED_ROWS_LISTED)
        .collect()
}

fn listed_rows(s: &ScenarioReport) -> Vec<SeedRow> {
    listed(s)
        .into_iter()
        .map(|seed| SeedRow {
            seed: seed.seed,
            counts: seed.counts,
            simulated: secs(seed.simulated_ms * 1000),
            drained: seed.drained,
            verdict: seed.verdict(),
            readable: seed.readable(),
        })
        .collect()
}

/// The page of `report`.
pub(crate) fn page(report: &Report) -> Page {
    let anchors = anchors(report);
    Page {
        generator: report.generator.clone(),
        scenario_count: report.scenarios.len(),
        run_count: report.scenarios.iter().map(|s| s.seeds.len()).sum(),
        lossy_count: report
            .scenarios
            .iter()
            .filter(|s| s.verdict == Verdict::Loss)
            .count(),
        inconclusive_count: report
            .scenarios
            .iter()
            .filter(|s| s.verdict == Verdict::Inconclusive)
            .count(),
        mismatch_count: report.scenarios.iter().filter(|s| !s.matches).count(),
        matrix: matrix::build(report, &anchors),
        scenarios: report
            .scenarios
            .iter()
            .zip(anchors)
            .map(|(s, a)| scenario_view(s, a))
            .collect(),
        timeline_key: timeline::key(),
        plot_key: plot::key(),
        timelines_per_seed: TIMELINES_PER_SEED,
        partial: report.partial.as_ref().map(|p| p.describe()),
        detailed_seeds: crate::retention::DETAILED_SEEDS,
        real_column: real::column(report),
        real_tally: real::tally(report),
    }
}
