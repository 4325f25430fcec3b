//! The page of `mqsim audit`: each audited configuration as read, with the
//! origin of every setting; each fault class run against it; for each class
//! that loses, the lost messages' lifecycle timelines, the reproducer and
//! the cures with their cost; the keys not modelled. Drawn with the same
//! timelines, plots and styles as the run report.

use askama::Template;

use super::format::{latency, slug};
use super::marks::KeyItem;
use super::runs::TimelineView;
use super::{plot, timeline, TIMELINES_PER_SEED};
use crate::audit::{percent, AuditReport, ClassAudit, CureAudit, NotModelledKey, OriginSetting};
use crate::document::Verdict;

/// One cure's row.
pub(crate) struct CureRow {
    pub(crate) setting: String,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) verified: bool,
    pub(crate) lost: u64,
    pub(crate) throughput: String,
    pub(crate) latency: String,
    pub(crate) refused: String,
}

impl CureRow {
    fn of(k: &CureAudit, base: &ClassAudit) -> CureRow {
        CureRow {
            setting: k.setting.clone(),
            from: k.from.clone(),
            to: k.to.clone(),
            verified: k.verified,
            lost: k.counts.lost,
            throughput: format!(
                "{:.0}/s ({})",
                k.cost.throughput,
                percent(k.throughput_change)
            ),
            latency: format!(
                "{} ({})",
                k.cost.latency_p50_us.map_or("n/a".into(), latency),
                percent(k.latency_change)
            ),
            refused: format!(
                "{} refused, {} unknown (was {}, {})",
                k.cost.refused, k.cost.unknown, base.cost.refused, base.cost.unknown
            ),
        }
    }
}

/// One fault class against one target.
pub(crate) struct ClassView {
    pub(crate) anchor: String,
    pub(crate) name: String,
    pub(crate) why: String,
    pub(crate) probes: Vec<String>,
    pub(crate) runs: usize,
    pub(crate) acknowledged: u64,
    pub(crate) lost: u64,
    pub(crate) unconsumed: u64,
    pub(crate) verdict: Verdict,
    pub(crate) throughput: String,
    pub(crate) latency: String,
    pub(crate) verified: Vec<String>,
    pub(crate) cures: Vec<CureRow>,
    pub(crate) reproducer: Option<(String, String)>,
    pub(crate) evidence_seed: Option<u64>,
    pub(crate) timelines: Vec<TimelineView>,
    pub(crate) plot: Option<String>,
}

impl ClassView {
    /// `loss`, `ok` or `unknown`, for CSS.
    pub(crate) fn verdict_class(&self) -> &'static str {
        match self.verdict {
            Verdict::Loss => "loss",
            Verdict::NoLoss => "ok",
            Verdict::Inconclusive => "unknown",
        }
    }
}

/// One audited topic or queue.
pub(crate) struct TargetView {
    pub(crate) anchor: String,
    pub(crate) name: String,
    pub(crate) system: String,
    pub(crate) label: Vec<String>,
    pub(crate) settings: Vec<OriginSetting>,
    pub(crate) classes: Vec<ClassView>,
    pub(crate) not_run: Vec<(String, String)>,
}

impl TargetView {
    /// The classes that lose.
    pub(crate) fn findings(&self) -> Vec<&ClassView> {
        self.classes
            .iter()
            .filter(|c| c.verdict == Verdict::Loss)
            .collect()
    }
}

/// The page.
#[derive(Template)]
#[template(path = "audit.html")]
pub(crate) struct AuditPage {
    pub(crate) generator: String,
    pub(crate) time_scale: String,
    pub(crate) seeds: usize,
    pub(crate) findings: usize,
    pub(crate) targets: Vec<TargetView>,
    pub(crate) not_modelled: Vec<NotModelledKey>,
    pub(crate) timeline_key: Vec<KeyItem>,
    pub(crate) plot_key: Vec<KeyItem>,
}

fn class_view(c: &ClassAudit, anchor: String) -> ClassView {
    let seed = c
        .evidence
        .as_ref()
        .and_then(|e| e.seeds.iter().find(|s| !s.lost.is_empty()).map(|s| (e, s)));
    let timelines = seed.map_or(Vec::new(), |(e, s)| {
        s.lost
            .iter()
            .take(TIMELINES_PER_SEED)
            .map(|l| TimelineView {
                id: l.id.clone(),
                anchor: format!("{anchor}-{}", slug(&l.id)),
                timeline: timeline::render(l, &s.fault_spans, &e.hosts),
            })
            .collect()
    });
    let plot = seed.map(|(e, s)| {
        plot::render(
            &s.series,
            &s.fault_spans,
            &s.phases,
            &format!("Throughput and latency of {} seed {}", e.name, s.seed),
        )
    });
    ClassView {
        name: c.fault_class.clone(),
        why: c.why.clone(),
        probes: c.probes.clone(),
        runs: c.runs,
        acknowledged: c.counts.acknowledged,
        lost: c.counts.lost,
        unconsumed: c.counts.unconsumed,
        verdict: c.verdict,
        throughput: format!("{:.0}/s", c.cost.throughput),
        latency: c.cost.latency_p50_us.map_or("n/a".into(), latency),
        verified: c
            .cures
            .iter()
            .filter(|k| k.verified)
            .map(|k| format!("{} = {}", k.setting, k.to))
            .collect(),
        cures: c.cures.iter().map(|k| CureRow::of(k, c)).collect(),
        reproducer: c.reproducer.as_ref().map(|r| {
            let what = format!(
                "{} fault(s), {} messages, losing {} with seed {}",
                r.faults, r.messages, r.lost, r.seed
            );
            (what, r.replay.clone())
        }),
        evidence_seed: seed.map(|(_, s)| s.seed),
        timelines,
        plot,
        anchor,
    }
}

/// The page of `report`.
pub(crate) fn page(report: &AuditReport) -> AuditPage {
    let targets = report
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let anchor = format!("target-{}-{}", i + 1, slug(&t.name));
            TargetView {
                name: t.name.clone(),
                system: t.system.clone(),
                label: t.configuration.split(" · ").map(str::to_string).collect(),
                settings: t.settings.clone(),
                classes: t
                    .classes
                    .iter()
                    .map(|c| class_view(c, format!("{anchor}-{}", slug(&c.fault_class))))
                    .collect(),
                not_run: t.not_run.clone(),
                anchor,
            }
        })
        .collect();
    AuditPage {
        generator: report.generator.clone(),
        time_scale: report.time_scale.clone(),
        seeds: report.seeds.len(),
        findings: report.findings().count(),
        targets,
        not_modelled: report.not_modelled.clone(),
        timeline_key: timeline::key(),
        plot_key: plot::key(),
    }
}

/// The page of `report` as HTML.
pub fn render(report: &AuditReport) -> String {
    page(report)
        .render()
        .expect("the audit template renders every report")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditTarget, Cost, Reproducer};
    use crate::document::{Counts, LostMessage, ScenarioReport, SeedReport};

    fn report() -> AuditReport {
        let seed: SeedReport = serde_json::from_str(
            r#"{"seed":2,"counts":{"sent":1,"acknowledged":1,"failed":0,"unknown":0,"processed":0,"lost":1,"duplicated":0,"recovered":0,"unexpected":0},
                "simulated_ms":10,"drained":true,"lost":[],"duplicated":[],"recovered":[],"unexpected":[],"faults":[]}"#,
        )
        .unwrap();
        let mut seed = seed;
        seed.lost.push(LostMessage {
            id: "p1-7".into(),
            trail: Vec::new(),
        });
        let evidence = ScenarioReport {
            name: "audit-orders-leader-crash-before-sync-a".into(),
            file: String::new(),
            description: String::new(),
            system: "log".into(),
            config: Vec::new(),
            configuration: String::new(),
            schedule: Vec::new(),
            fault_class: String::new(),
            hosts: Vec::new(),
            duration_ms: 10,
            expect: Verdict::NoLoss,
            verdict: Verdict::Loss,
            matches: false,
            totals: seed.counts,
            seeds_with_loss: vec![2],
            seeds_inconclusive: Vec::new(),
            seeds: vec![seed],
            replay: String::new(),
            ack_latency_us: Default::default(),
            real: None,
        };
        let counts = Counts {
            acknowledged: 800,
            lost: 4,
            ..Counts::default()
        };
        let base = Cost {
            throughput: 200.0,
            latency_p50_us: Some(1500),
            ..Cost::default()
        };
        AuditReport {
            generator: "mqsim test".into(),
            time_scale: "times as the files give them".into(),
            seeds: vec![1, 2],
            targets: vec![AuditTarget {
                name: "orders".into(),
                system: "log".into(),
                configuration: "log · acks=1".into(),
                settings: vec![OriginSetting {
                    key: "acks".into(),
                    value: "1".into(),
                    origin: "producer.properties:3".into(),
                }],
                classes: vec![ClassAudit {
                    fault_class: "leader crash before sync".into(),
                    why: "the partition has followers".into(),
                    probes: vec!["when leader_ahead_of_followers: crash leader".into()],
                    runs: 4,
                    counts,
                    verdict: Verdict::Loss,
                    cost: base,
                    evidence: Some(evidence),
                    reproducer: Some(Reproducer {
                        file: "out/r.toml".into(),
                        seed: 2,
                        faults: 1,
                        messages: 100,
                        lost: 2,
                        replay: "mqsim run out/r.toml --seed 2".into(),
                    }),
                    cures: vec![CureAudit {
                        setting: "acks".into(),
                        from: "1".into(),
                        to: "all".into(),
                        verified: true,
                        counts: Counts::default(),
                        cost: Cost {
                            throughput: 180.0,
                            latency_p50_us: Some(3000),
                            ..Cost::default()
                        },
                        throughput_change: Some(-0.1),
                        latency_change: Some(1.0),
                    }],
                }],
                not_run: vec![("missing binding".into(), "a topic has no bindings".into())],
            }],
            not_modelled: vec![NotModelledKey {
                file: "server.properties".into(),
                line: 12,
                key: "num.network.threads".into(),
            }],
        }
    }

    #[test]
    fn the_page_shows_origins_findings_cures_timelines_and_keys_not_modelled() {
        let html = render(&report());
        for needle in [
            "producer.properties:3",
            "4 of 800 acknowledged messages lost",
            "✓ verified",
            "-10.0%",
            "+100.0%",
            "mqsim run out/r.toml --seed 2",
            "Lifecycle of lost message p1-7",
            "server.properties:12",
            "num.network.threads",
            "not run: a topic has no bindings",
        ] {
            assert!(html.contains(needle), "{needle} missing");
        }
    }

    #[test]
    fn a_clean_audit_says_so() {
        let mut r = report();
        r.targets[0].classes[0].verdict = Verdict::NoLoss;
        let html = render(&r);
        assert!(html.contains("no fault class loses an acknowledged message"));
    }
}
