//! Turns runs into the report document: per seed, per scenario, verdict.

use broker_model::{Event, EventKind, MsgId};
use reports::{LostMessage, ScenarioReport, SeedReport, Verdict};

use crate::checker;
use crate::runner::RunOutput;
use crate::scenario::{Expect, Scenario};

/// The report of one seed's run.
pub fn seed_report(run: &RunOutput) -> SeedReport {
    let a = &run.analysis;
    SeedReport {
        seed: run.seed,
        counts: a.counts,
        simulated_ms: run.simulated.as_millis() as u64,
        drained: run.drained,
        lost: a
            .lost
            .iter()
            .map(|id| LostMessage {
                id: id.to_string(),
                trail: lifecycle(&run.events, *id),
            })
            .collect(),
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
    }
}

/// A lost message's trail (every event that mentions it) together with the
/// elections, fencings, promotions and partition handling that happened
/// along the way, which is usually what explains the loss.
pub fn lifecycle(events: &[Event], id: MsgId) -> Vec<Event> {
    let mentions = checker::trail(events, id);
    let (Some(first), Some(last)) = (mentions.first(), mentions.last()) else {
        return mentions;
    };
    let (start, end) = (first.at_us, last.at_us);
    let dest = mentions.iter().find_map(|e| match &e.kind {
        EventKind::Send { dest, .. } => Some(dest.clone()),
        _ => None,
    });
    let context = |e: &Event| match &e.kind {
        EventKind::Elect { dest: d, .. } | EventKind::Promote { dest: d, .. } => {
            Some(d) == dest.as_ref()
        }
        EventKind::Fence { .. } | EventKind::Pause { .. } | EventKind::Autoheal { .. } => true,
        _ => false,
    };
    events
        .iter()
        .filter(|e| e.kind.mentions(id) || (context(e) && (start..=end).contains(&e.at_us)))
        .cloned()
        .collect()
}

/// The command that replays one seed of a scenario file.
pub fn replay_command(scenario: &Scenario, seed: u64) -> String {
    format!(
        "cargo run --release --bin mqsim -- run {} --seed {seed}",
        scenario.file.display()
    )
}

/// The report of a scenario over all the seeds it ran.
pub fn scenario_report(scenario: &Scenario, runs: &[RunOutput]) -> ScenarioReport {
    let seeds: Vec<SeedReport> = runs.iter().map(seed_report).collect();
    let mut totals = reports::Counts::default();
    for s in &seeds {
        totals.add(&s.counts);
    }
    let seeds_with_loss: Vec<u64> = seeds
        .iter()
        .filter(|s| s.counts.lost > 0)
        .map(|s| s.seed)
        .collect();
    let verdict = if seeds_with_loss.is_empty() {
        Verdict::NoLoss
    } else {
        Verdict::Loss
    };
    let expect = match scenario.expect {
        Expect::Loss => Verdict::Loss,
        Expect::NoLoss => Verdict::NoLoss,
    };
    let replay_seed = seeds_with_loss
        .first()
        .copied()
        .or_else(|| seeds.first().map(|s| s.seed))
        .unwrap_or(1);
    ScenarioReport {
        name: scenario.name.clone(),
        file: scenario.file.display().to_string(),
        description: scenario.description.clone(),
        system: scenario.system.name().to_string(),
        config: scenario.config_lines(),
        schedule: scenario.faults.iter().map(ToString::to_string).collect(),
        expect,
        verdict,
        matches: verdict == expect,
        totals,
        seeds_with_loss,
        seeds,
        replay: replay_command(scenario, replay_seed),
    }
}
