//! The audit itself: every applicable fault class's probes over the seeds,
//! then for each class that loses an acknowledged message its shrunk
//! reproducer and every known cure re-run against the same probes; when no
//! single change cures a class, the changes that lowered its losses are
//! re-run together.
//!
//! Every run is one seed of one scenario on one thread, collected in plan
//! order, so the report is the same whatever the number of threads.

use std::path::PathBuf;
use std::time::Duration;

use rayon::prelude::*;
use reports::audit::{
    AuditReport, AuditTarget, ClassAudit, CureAudit, NotModelledKey, OriginSetting,
};
use reports::{Counts, Outcome, ScenarioReport, Verdict};

use crate::audit::combine::combined;
use crate::audit::cost::{cost, Sample};
use crate::audit::cure::{cures, Change};
use crate::audit::deployment::{Deployment, Target};
use crate::audit::failure::AuditError;
use crate::audit::plan::{plan, ClassPlan};
use crate::audit::reproducer::reproduce;
use crate::duration::format_duration;
use crate::guarantees::FaultClass;
use crate::runner::{self, RunError, RunOutput};
use crate::scenario::Scenario;
use crate::summary;

/// How an audit runs.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditOptions {
    /// Every probe runs seeds 1..=`seeds`.
    pub seeds: u64,
    /// The fault classes to run (those that apply to a target).
    pub classes: Vec<FaultClass>,
    /// The most runs shrinking one finding's reproducer may take.
    pub shrink_budget: usize,
    /// Where reproducers are written; `None` writes none.
    pub reproducers: Option<PathBuf>,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            seeds: 5,
            classes: FaultClass::ALL.to_vec(),
            shrink_budget: 32,
            reproducers: None,
        }
    }
}

/// How far an audit has come, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// This many more runs are planned.
    Planned(u64),
    /// This many runs are done.
    Ran(u64),
}

/// Cure settings whose values are times: the model holds them scaled by
/// the deployment's time scale, the user's files do not.
const TIMES: &[&str] = &[
    "retention.ms",
    "log.retention.ms",
    "x-message-ttl",
    "message-ttl",
];

/// A time the model holds, in milliseconds, as the user's files write it.
fn in_file_units(model_ms: &str, factor: f64) -> String {
    match model_ms.parse::<f64>() {
        Ok(ms) if factor > 0.0 => format!("{}", (ms / factor).round() as u64),
        _ => model_ms.to_string(),
    }
}

/// Runs every (scenario, seed) of `plans`, in parallel, results in plan
/// order.
fn run_all<T: Send>(
    plans: &[ClassPlan],
    progress: &(dyn Fn(Progress) + Sync),
    keep: impl Fn(RunOutput) -> T + Sync,
) -> Result<Vec<T>, RunError> {
    let jobs: Vec<(&Scenario, u64)> = plans.iter().flat_map(ClassPlan::jobs).collect();
    progress(Progress::Planned(jobs.len() as u64));
    jobs.par_iter()
        .map(|(s, seed)| {
            let run = runner::run(s, *seed).map(&keep);
            progress(Progress::Ran(1));
            run
        })
        .collect()
}

/// A probe in one line: its faults, or for a workload class what the
/// clients do.
fn describe(s: &Scenario) -> String {
    if s.faults.is_empty() {
        let w = &s.workload;
        let mut text = format!(
            "{} messages at {}/s, {} consumer(s) taking {} each",
            w.messages,
            w.rate,
            w.consumers,
            format_duration(w.processing_time)
        );
        if w.consumer_start > Duration::ZERO {
            text.push_str(&format!(
                ", starting at {}",
                format_duration(w.consumer_start)
            ));
        }
        if w.poison > 0.0 {
            text.push_str(&format!(", {}% poison", w.poison * 100.0));
        }
        return text;
    }
    let faults: Vec<String> = s.faults.iter().map(ToString::to_string).collect();
    faults.join("; ")
}

/// The class's verdict over its probes' reports.
fn verdict(reports: &[ScenarioReport]) -> Verdict {
    if reports.iter().any(|r| r.verdict == Verdict::Loss) {
        Verdict::Loss
    } else if reports.iter().any(|r| r.verdict == Verdict::Inconclusive) {
        Verdict::Inconclusive
    } else {
        Verdict::NoLoss
    }
}

/// One class's runs, judged: its audit entry without cures, and the first
/// losing (scenario, seed).
fn judge(p: &ClassPlan, runs: Vec<RunOutput>) -> (ClassAudit, Option<(Scenario, u64)>) {
    let seeds = p.scenarios.first().map_or(0, |s| s.seeds.len()).max(1);
    let samples: Vec<Sample> = runs.iter().map(Sample::of).collect();
    let reports: Vec<ScenarioReport> = p
        .scenarios
        .iter()
        .zip(runs.chunks(seeds))
        .map(|(s, chunk)| summary::scenario_report(s, chunk))
        .collect();
    let mut counts = Counts::default();
    reports.iter().for_each(|r| counts.add(&r.totals));
    let losing = p
        .scenarios
        .iter()
        .zip(&reports)
        .find_map(|(s, r)| r.seeds_with_loss.first().map(|seed| (s.clone(), *seed)));
    let audit = ClassAudit {
        fault_class: p.class.name().to_string(),
        why: p.why.clone(),
        probes: p.scenarios.iter().map(describe).collect(),
        runs: runs.len(),
        counts,
        verdict: verdict(&reports),
        cost: cost(&samples),
        evidence: reports.into_iter().find(|r| r.verdict == Verdict::Loss),
        reproducer: None,
        cures: Vec::new(),
    };
    (audit, losing)
}

/// What one cure run keeps.
struct CureRun {
    counts: Counts,
    conclusive: bool,
    sample: Sample,
}

fn cure_audit(change: &Change, runs: &[CureRun], base: &ClassAudit) -> CureAudit {
    let mut counts = Counts::default();
    runs.iter().for_each(|r| counts.add(&r.counts));
    let c = cost(runs.iter().map(|r| &r.sample));
    CureAudit {
        setting: change.setting.clone(),
        from: change.from.clone(),
        to: change.to.clone(),
        verified: counts.lost == 0 && runs.iter().all(|r| r.conclusive),
        counts,
        throughput_change: c.throughput_change(&base.cost),
        latency_change: c.latency_change(&base.cost),
        cost: c,
    }
}

fn target_report(t: &Target, not_run: &[(FaultClass, String)]) -> AuditTarget {
    AuditTarget {
        name: t.name.clone(),
        system: t.system.name().to_string(),
        configuration: Scenario::new(&t.name, t.system.clone()).configuration_label(),
        settings: t
            .settings
            .iter()
            .map(|s| OriginSetting {
                key: s.key.clone(),
                value: s.value.clone(),
                origin: s.origin.to_string(),
            })
            .collect(),
        classes: Vec::new(),
        not_run: not_run
            .iter()
            .map(|(c, why)| (c.name().to_string(), why.clone()))
            .collect(),
    }
}

/// Audits `d`: see the module's documentation.
pub fn audit(
    d: &Deployment,
    options: &AuditOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<AuditReport, AuditError> {
    let seeds: Vec<u64> = (1..=options.seeds).collect();
    let (plans, skipped) = plan(&d.targets, &options.classes, &seeds);
    let mut targets: Vec<AuditTarget> = d
        .targets
        .iter()
        .zip(&skipped)
        .map(|(t, s)| target_report(t, s))
        .collect();

    let mut runs = run_all(&plans, progress, |r| r)?.into_iter();
    let mut judged = Vec::new();
    for p in &plans {
        let n = p.jobs().count();
        judged.push(judge(p, runs.by_ref().take(n).collect()));
    }

    let mut cure_plans = Vec::new();
    let mut changes_of = Vec::new();
    for (p, (audit, losing)) in plans.iter().zip(&mut judged) {
        let Some((scenario, seed)) = losing else {
            changes_of.push(Vec::new());
            continue;
        };
        progress(Progress::Planned(options.shrink_budget as u64));
        audit.reproducer = reproduce(
            scenario,
            *seed,
            options.shrink_budget,
            options.reproducers.as_deref(),
        )?;
        progress(Progress::Ran(options.shrink_budget as u64));
        let target = &d.targets[p.target];
        let names: Vec<&str> = target.settings.iter().map(|s| s.key.as_str()).collect();
        let mut changes = cures(&target.system, &names);
        for change in &mut changes {
            if let Some(s) = target.settings.iter().find(|s| s.key == change.setting) {
                change.from = s.value.clone();
            } else if TIMES.contains(&change.setting.as_str()) {
                change.from = in_file_units(&change.from, d.time_scale.factor);
            }
            cure_plans.push(p.with_system(&change.system));
        }
        changes_of.push(changes);
    }
    let cure_runs = run_all(&cure_plans, progress, |r| CureRun {
        conclusive: r.analysis.outcome == Outcome::Conclusive,
        counts: r.analysis.counts,
        sample: Sample::of(&r),
    })?;
    let mut cure_runs = cure_runs.into_iter();
    let mut cure_plans = cure_plans.iter();
    let mut audits = Vec::new();
    let mut combined_plans = Vec::new();
    let mut combined_of = Vec::new();
    for ((p, (mut audit, _)), changes) in plans.iter().zip(judged).zip(changes_of) {
        for change in &changes {
            let n = cure_plans.next().map_or(0, |c| c.jobs().count());
            let runs: Vec<CureRun> = cure_runs.by_ref().take(n).collect();
            audit.cures.push(cure_audit(change, &runs, &audit));
        }
        let cured = audit.cures.iter().any(|c| c.verified);
        let lowered: Vec<&Change> = changes
            .iter()
            .zip(&audit.cures)
            .filter(|(_, c)| c.counts.lost < audit.counts.lost)
            .map(|(change, _)| change)
            .collect();
        let target = &d.targets[p.target];
        let names: Vec<&str> = target.settings.iter().map(|s| s.key.as_str()).collect();
        let together = (!cured)
            .then(|| combined(&target.system, &names, &lowered))
            .flatten();
        if let Some(change) = &together {
            combined_plans.push(p.with_system(&change.system));
        }
        combined_of.push(together);
        audits.push((p.target, audit));
    }
    let mut combined_runs = run_all(&combined_plans, progress, |r| CureRun {
        conclusive: r.analysis.outcome == Outcome::Conclusive,
        counts: r.analysis.counts,
        sample: Sample::of(&r),
    })?
    .into_iter();
    let mut combined_plans = combined_plans.iter();
    for ((target, mut audit), together) in audits.into_iter().zip(combined_of) {
        if let Some(change) = together {
            let n = combined_plans.next().map_or(0, |c| c.jobs().count());
            let runs: Vec<CureRun> = combined_runs.by_ref().take(n).collect();
            audit.cures.push(cure_audit(&change, &runs, &audit));
        }
        targets[target].classes.push(audit);
    }

    Ok(AuditReport {
        generator: format!("mqsim {}", env!("CARGO_PKG_VERSION")),
        time_scale: if d.time_scale.factor == 1.0 {
            "times as the files give them".into()
        } else {
            format!("every time setting × {}", d.time_scale.factor)
        },
        seeds,
        targets,
        not_modelled: d
            .not_modelled
            .iter()
            .map(|n| NotModelledKey {
                file: n.path.display().to_string(),
                line: n.line,
                key: n.key.clone(),
            })
            .collect(),
    })
}
