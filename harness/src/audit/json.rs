//! `mqsim audit --json FILE`: the findings for machines, in a fixed shape
//! a CI step can read: `{"findings": [...], "not_modelled": [...]}`.

use reports::audit::{AuditReport, NotModelledKey};
use serde::Serialize;

#[derive(Serialize)]
struct Findings<'a> {
    findings: Vec<Finding<'a>>,
    not_modelled: &'a [NotModelledKey],
}

#[derive(Serialize)]
struct Finding<'a> {
    fault_class: &'a str,
    target: &'a str,
    acknowledged: u64,
    lost: u64,
    reproducer: Option<&'a str>,
    cures: Vec<Cure<'a>>,
}

#[derive(Serialize)]
struct Cure<'a> {
    setting: &'a str,
    from: &'a str,
    to: &'a str,
    verified: bool,
    throughput_change: Option<f64>,
    latency_change: Option<f64>,
}

/// The findings of `report` as JSON: one entry per target and fault class
/// that loses an acknowledged message, with every cure tried (`verified`
/// only when the runs with it lost nothing) and its cost as relative
/// changes (`-0.1`: 10% less throughput, or 10% lower median latency).
pub fn to_json(report: &AuditReport) -> String {
    let findings = report
        .findings()
        .map(|(t, c)| Finding {
            fault_class: &c.fault_class,
            target: &t.name,
            acknowledged: c.counts.acknowledged,
            lost: c.counts.lost,
            reproducer: c.reproducer.as_ref().map(|r| r.file.as_str()),
            cures: c
                .cures
                .iter()
                .map(|k| Cure {
                    setting: &k.setting,
                    from: &k.from,
                    to: &k.to,
                    verified: k.verified,
                    throughput_change: k.throughput_change,
                    latency_change: k.latency_change,
                })
                .collect(),
        })
        .collect();
    let doc = Findings {
        findings,
        not_modelled: &report.not_modelled,
    };
    serde_json::to_string_pretty(&doc).expect("plain data always serializes")
}
