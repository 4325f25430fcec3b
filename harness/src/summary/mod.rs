//! Turns runs into the report document: per seed, per scenario, verdict.
//!
//! Everything here is computed from a run's history (plus the scenario it
//! ran), so a report says nothing the history does not.

mod lifecycle;
mod series;
mod spans;

use broker_model::{Event, EventKind, MsgId};
use reports::{Host, LostMessage, ScenarioReport, SeedReport, Verdict};

use lifecycle::lifecycle;
use series::{bucket_ms_for, series};
use spans::{fault_spans, phases};

use crate::runner::RunOutput;
use crate::scenario::{Expect, Scenario};

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
        seed: run.seed,
        counts: a.counts,
        simulated_ms: run.simulated.as_millis() as u64,
        drained: run.drained,
        outcome: a.outcome,
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
    }
}

/// The command that replays one seed of a scenario file.
fn replay_command(scenario: &Scenario, seed: u64) -> String {
    format!(
        "cargo run --release --bin mqsim -- run {} --seed {seed}",
        scenario.file.display()
    )
}

/// The report of a scenario over all the seeds it ran.
pub(crate) fn scenario_report(scenario: &Scenario, runs: &[RunOutput]) -> ScenarioReport {
    let expect = match scenario.expect {
        Expect::Loss => Verdict::Loss,
        Expect::NoLoss => Verdict::NoLoss,
    };
    let mut report = ScenarioReport {
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
        hosts: runs
            .first()
            .map(|r| {
                r.hosts
                    .iter()
                    .map(|(name, role)| Host {
                        name: name.clone(),
                        role: *role,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        duration_ms: scenario.duration.as_millis() as u64,
        expect,
        verdict: Verdict::NoLoss,
        matches: false,
        totals: reports::Counts::default(),
        seeds_with_loss: Vec::new(),
        seeds_inconclusive: Vec::new(),
        seeds: runs.iter().map(seed_report).collect(),
        replay: String::new(),
    };
    report.recompute();
    let replay_seed = report
        .seeds_with_loss
        .first()
        .or(report.seeds_inconclusive.first())
        .copied()
        .or_else(|| report.seeds.first().map(|s| s.seed))
        .unwrap_or(1);
    report.replay = replay_command(scenario, replay_seed);
    report
}
