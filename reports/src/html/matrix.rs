//! The guarantee matrix: configurations down, fault classes across, each
//! cell what the scenarios with that configuration and fault lost.
//!
//! One look answers the question mqsim exists for: which configuration
//! loses an acknowledged message under which fault. A cell pools every
//! scenario that shares its row and column (usually one).

use crate::describe::count;
use crate::document::{RealRun, Report, Verdict};

/// One scenario in a cell, with the anchor of its section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CellScenario {
    /// The scenario's name.
    pub(crate) name: String,
    /// The `id` of its section on the page.
    pub(crate) anchor: String,
}

/// What the scenarios of one configuration under one fault class found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cell {
    /// Acknowledged messages lost, over every seed of every scenario here.
    pub(crate) lost: u64,
    /// Acknowledged messages, likewise.
    pub(crate) acknowledged: u64,
    /// Seeds that lost at least one acknowledged message.
    pub(crate) lossy_seeds: usize,
    /// Seeds whose drain ended with messages still readable.
    pub(crate) inconclusive_seeds: usize,
    /// Messages still readable as those seeds' drains ended.
    pub(crate) readable: u64,
    /// Acknowledged messages processed only from a dead-letter queue.
    pub(crate) dead_lettered: u64,
    /// Seeds run.
    pub(crate) seeds: usize,
    /// `loss` when any scenario here lost a message, else `inconclusive`
    /// when any scenario here was.
    pub(crate) verdict: Verdict,
    /// Whether every scenario here matches its `expect`.
    pub(crate) matches: bool,
    /// What the scenarios that do not match expected, for the cell's note.
    pub(crate) expected: Option<Verdict>,
    /// The scenarios pooled here.
    pub(crate) scenarios: Vec<CellScenario>,
    /// What a real broker gave for them, when `mqsim real` ran any of
    /// them.
    pub(crate) real: Option<RealMark>,
}

/// What a real broker gave for the scenarios of a cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RealMark {
    /// The real verdicts pooled as the model's are; `None` when every
    /// scenario here was skipped.
    pub(crate) verdict: Option<Verdict>,
    /// Whether some scenario's real verdict is not its model verdict.
    pub(crate) differs: bool,
    /// Why scenarios here were skipped on real nodes.
    pub(crate) skipped: Vec<String>,
}

impl RealMark {
    fn add(&mut self, real: &RealRun, model: Verdict) {
        if let Some(v) = real.verdict() {
            self.verdict = Some(self.verdict.map_or(v, |pooled| pool(pooled, v)));
        }
        if real.agrees_with(model) == Some(false) {
            self.differs = true;
        }
        if let Some(why) = &real.skipped {
            self.skipped.push(why.clone());
        }
    }

    /// `real: loss`, `real: no loss`, … or `real: skipped`.
    pub(crate) fn text(&self) -> String {
        let verdict = match self.verdict {
            Some(v) => verdict_words(v),
            None => "skipped",
        };
        if self.differs {
            format!("real: {verdict} ✗ differs")
        } else {
            format!("real: {verdict}")
        }
    }

    /// Why scenarios here were skipped, for the tooltip; empty when none
    /// was.
    pub(crate) fn title(&self) -> String {
        self.skipped
            .iter()
            .map(|why| format!("skipped on real nodes: {why}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Two verdicts pooled: a loss outweighs an inconclusive run, which
/// outweighs no loss.
fn pool(a: Verdict, b: Verdict) -> Verdict {
    match (a, b) {
        (Verdict::Loss, _) | (_, Verdict::Loss) => Verdict::Loss,
        (Verdict::Inconclusive, _) | (_, Verdict::Inconclusive) => Verdict::Inconclusive,
        _ => Verdict::NoLoss,
    }
}

fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Loss => "loss",
        Verdict::NoLoss => "no loss",
        Verdict::Inconclusive => "? inconclusive",
    }
}

impl Cell {
    /// The CSS classes of the cell: its verdict, and whether it surprised.
    pub(crate) fn class(&self) -> String {
        let verdict = match self.verdict {
            Verdict::Loss => "cell-loss",
            Verdict::NoLoss => "cell-ok",
            Verdict::Inconclusive => "cell-unknown",
        };
        let mut class = verdict.to_string();
        if !self.matches {
            class.push_str(" cell-mismatch");
        }
        if self.real.as_ref().is_some_and(|r| r.differs) {
            class.push_str(" cell-real-mismatch");
        }
        class
    }

    /// The verdict in words.
    pub(crate) fn verdict_text(&self) -> &'static str {
        verdict_words(self.verdict)
    }

    /// The note on seeds that did not drain, when some did not.
    pub(crate) fn undrained_text(&self) -> Option<String> {
        (self.inconclusive_seeds > 0).then(|| {
            format!(
                "{} of {} seeds did not drain: {} still readable",
                self.inconclusive_seeds,
                self.seeds,
                count(self.readable)
            )
        })
    }

    /// The note on expectation: a check mark, or what was expected instead.
    pub(crate) fn expect_text(&self) -> String {
        match (self.matches, self.expected) {
            (true, _) => "✓ as expected".into(),
            (false, Some(v)) => format!("✗ expected {}", v.name()),
            (false, None) => "✗ not as expected".into(),
        }
    }
}

/// One configuration's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Row {
    /// The configuration label, split into its settings.
    pub(crate) settings: Vec<String>,
    /// One cell per column; `None` where no scenario ran.
    pub(crate) cells: Vec<Option<Cell>>,
}

/// The whole matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Matrix {
    /// The fault classes, in the order scenarios first use them.
    pub(crate) columns: Vec<String>,
    /// The configurations, in the order scenarios first use them.
    pub(crate) rows: Vec<Row>,
}

/// The label of a scenario's configuration, or a stand-in for reports
/// written before configurations were labelled.
fn configuration(s: &crate::document::ScenarioReport) -> String {
    if s.configuration.is_empty() {
        s.system.clone()
    } else {
        s.configuration.clone()
    }
}

fn fault_class(s: &crate::document::ScenarioReport) -> String {
    if s.fault_class.is_empty() {
        s.schedule.join("; ")
    } else {
        s.fault_class.clone()
    }
}

/// Builds the matrix of `report`; `anchors[i]` is the section id of
/// scenario `i`.
pub(crate) fn build(report: &Report, anchors: &[String]) -> Matrix {
    let mut columns: Vec<String> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    for s in &report.scenarios {
        let (c, r) = (fault_class(s), configuration(s));
        if !columns.contains(&c) {
            columns.push(c);
        }
        if !labels.contains(&r) {
            labels.push(r);
        }
    }
    let mut rows: Vec<Row> = labels
        .iter()
        .map(|l| Row {
            settings: l.split(" · ").map(str::to_string).collect(),
            cells: vec![None; columns.len()],
        })
        .collect();
    for (i, s) in report.scenarios.iter().enumerate() {
        let r = labels
            .iter()
            .position(|l| *l == configuration(s))
            .unwrap_or(0);
        let c = columns
            .iter()
            .position(|l| *l == fault_class(s))
            .unwrap_or(0);
        let cell = rows[r].cells[c].get_or_insert_with(|| Cell {
            lost: 0,
            acknowledged: 0,
            lossy_seeds: 0,
            inconclusive_seeds: 0,
            readable: 0,
            dead_lettered: 0,
            seeds: 0,
            verdict: Verdict::NoLoss,
            matches: true,
            expected: None,
            scenarios: Vec::new(),
            real: None,
        });
        cell.lost += s.totals.lost;
        cell.acknowledged += s.totals.acknowledged;
        cell.lossy_seeds += s.seeds_with_loss.len();
        cell.inconclusive_seeds += s.seeds_inconclusive.len();
        cell.readable += s.readable();
        cell.dead_lettered += s.totals.dead_lettered;
        cell.seeds += s.seeds.len();
        cell.verdict = pool(cell.verdict, s.verdict);
        if let Some(real) = &s.real {
            cell.real
                .get_or_insert_with(|| RealMark {
                    verdict: None,
                    differs: false,
                    skipped: Vec::new(),
                })
                .add(real, s.verdict);
        }
        if !s.matches {
            cell.matches = false;
            cell.expected = Some(s.expect);
        }
        cell.scenarios.push(CellScenario {
            name: s.name.clone(),
            anchor: anchors.get(i).cloned().unwrap_or_default(),
        });
    }
    Matrix { columns, rows }
}
