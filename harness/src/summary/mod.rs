//! Turns runs into the report document: per seed, per scenario, verdict.
//!
//! Everything here is computed from a run's history (plus the scenario it
//! ran), so a report says nothing the history does not.

mod fold;
mod latency;
mod lifecycle;
mod series;
mod spans;

use broker_model::{Event, EventKind, MsgId};
use reports::{AckLatency, Host, LostMessage, ScenarioReport, SeedReport, Verdict};

use lifecycle::lifecycle;
use series::{bucket_ms_for, series};
use spans::{fault_spans, phases};

use crate::runner::RunOutput;
use crate::scenario::{Expect, Scenario};

pub(crate) use fold::Fold;

/// Lost messages per seed whose lifecycle a report keeps; beyond them only
/// the ids are listed (the run's `--history` has everything). Trails of one
/// seed's losses mostly tell the same story, and each may repeat large
/// batch events, so keeping them all would make reports of big losses huge.
const TRAILS_KEPT: usize = 25;

/// `ids`, each with its trail through the history, the first
/// [`TRAILS_KEPT`] of them only.
fn with_trails(events: &[Event], ids: &[MsgId]) -> Vec<LostMessage> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| LostMessage {
            id: id.to_string(),
            trail: if i < TRAILS_KEPT {
                lifecycle(events, *id)
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// The report of one seed's run.
fn seed_report(run: &RunOutput) -> SeedReport {
    let a = &run.analysis;
    SeedReport {
        lost: with_trails(&run.events, &a.lost),
        unconsumed: a.unconsumed.iter().map(ToString::to_string).collect(),
        dead_lettered: with_trails(&run.events, &a.dead_lettered),
        duplicated: a
            .duplicated
            .iter()
            .map(|(id, n)| (id.to_string(), *n))
            .collect(),
        recovered: a.recovered.iter().map(ToString::to_string).collect(),
        unexpected: a.unexpected.iter().map(ToString::to_string).collect(),
        faults: run
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Fault { .. } | EventKind::Heal { .. }))
            .cloned()
            .collect(),
        fault_spans: fault_spans(&run.events),
        phases: phases(&run.events),
        series: {
            let end_us = run.simulated.as_micros() as u64;
            series(&run.events, end_us, bucket_ms_for(end_us))
        },
        ..seed_report_counts(run)
    }
}

/// What a sweep keeps of one finished run, made on the thread that ran it
/// so that the run's history can be dropped at once.
pub(crate) struct Finished {
    /// The seed's row: in full when `full` was asked for or the seed lost
    /// or was inconclusive, else its counts only.
    pub(crate) row: SeedReport,
    /// Its acknowledged messages' latencies.
    pub(crate) ack_latency: AckLatency,
    /// The hosts of the cluster.
    pub(crate) hosts: Vec<Host>,
}

/// Which seeds' runs a worker reduces in full: the fold would drop the
/// lists of the others anyway, and a row's trails and series cost as much
/// as reading the history again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// This seed in full, whatever its verdict (one of the first seeds).
    Full,
    /// In full if it lost or was inconclusive (the fold may still keep
    /// such seeds).
    IfNotable,
    /// Its counts only.
    CountsOnly,
}

impl Finished {
    /// Reduces `run` as `wanted` says.
    pub(crate) fn of(run: &RunOutput, wanted: Wanted) -> Finished {
        let mut row = seed_report_counts(run);
        let notable = row.verdict() != Verdict::NoLoss;
        if wanted == Wanted::Full || (wanted == Wanted::IfNotable && notable) {
            row = seed_report(run);
        }
        Finished {
            row,
            ack_latency: latency::ack_latency(&run.events),
            hosts: run
                .hosts
                .iter()
                .map(|(name, role)| Host {
                    name: name.clone(),
                    role: *role,
                })
                .collect(),
        }
    }
}

/// A seed's counts, times and outcome, without reading the history again.
fn seed_report_counts(run: &RunOutput) -> SeedReport {
    let a = &run.analysis;
    SeedReport {
        seed: run.seed,
        counts: a.counts,
        simulated_ms: run.simulated.as_millis() as u64,
        drained: run.drained,
        outcome: a.outcome,
        ..SeedReport::default()
    }
}

/// A scenario's report before any seed: what it is, what it expects.
pub(crate) fn scenario_header(scenario: &Scenario) -> ScenarioReport {
    let expect = match scenario.expect {
        Expect::Loss => Verdict::Loss,
        Expect::NoLoss => Verdict::NoLoss,
    };
    ScenarioReport {
        name: scenario.name.clone(),
        file: scenario.file.display().to_string(),
        description: scenario.description.clone(),
        system: scenario.system.name().to_string(),
        config: scenario.config_lines(),
        configuration: scenario.configuration_label(),
        schedule: scenario.faults.iter().map(ToString::to_string).collect(),
        fault_class: crate::fault::class::schedule_class(
            &scenario.faults,
            scenario.nemesis.as_ref(),
            &scenario.workload,
        ),
        hosts: Vec::new(),
        duration_ms: scenario.duration.as_millis() as u64,
        expect,
        verdict: Verdict::NoLoss,
        matches: false,
        totals: reports::Counts::default(),
        seeds_with_loss: Vec::new(),
        seeds_inconclusive: Vec::new(),
        seeds: Vec::new(),
        replay: String::new(),
        ack_latency_us: AckLatency::default(),
        real: None,
    }
}

/// The report of a scenario over all the seeds it ran, kept as a sweep
/// keeps it (see [`Fold`]).
pub(crate) fn scenario_report(scenario: &Scenario, runs: &[RunOutput]) -> ScenarioReport {
    let mut fold = Fold::new(scenario_header(scenario));
    for (i, run) in runs.iter().enumerate() {
        fold.add(Finished::of(run, fold.wanted(i)));
    }
    fold.finish()
}
