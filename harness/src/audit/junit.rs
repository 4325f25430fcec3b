//! `mqsim audit --junit FILE`: one test case per audited target and fault
//! class, so a CI system lists what was checked. A class that loses an
//! acknowledged message fails (its message names the verified cures); an
//! inconclusive one is an error, as in `mqsim run`'s JUnit; a class that
//! does not apply to the configuration is skipped, with why.

use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use reports::audit::{AuditReport, ClassAudit};
use reports::Verdict;

fn summary(c: &ClassAudit) -> String {
    let verified: Vec<String> = c
        .cures
        .iter()
        .filter(|k| k.verified)
        .map(|k| format!("{} {} -> {}", k.setting, k.from, k.to))
        .collect();
    let cures = match verified.is_empty() {
        true => "no verified cure".to_string(),
        false => format!("verified cures: {}", verified.join(", ")),
    };
    let reproducer = c
        .reproducer
        .as_ref()
        .map(|r| format!("; reproducer: {}", r.replay))
        .unwrap_or_default();
    format!(
        "{} of {} acknowledged messages lost over {} runs; {cures}{reproducer}",
        c.counts.lost, c.counts.acknowledged, c.runs
    )
}

/// The audit as JUnit XML.
pub fn to_junit(report: &AuditReport) -> String {
    let mut junit = Junit::new("mqsim audit");
    for t in &report.targets {
        let mut suite = TestSuite::new(format!("{} ({})", t.name, t.system));
        for c in &t.classes {
            let status = match c.verdict {
                Verdict::Loss => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(summary(c));
                    s
                }
                Verdict::Inconclusive => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_type("inconclusive");
                    s.set_message(format!(
                        "inconclusive: a drain ended with messages still readable; {} acknowledged messages not yet consumed",
                        c.counts.unconsumed
                    ));
                    s
                }
                Verdict::NoLoss => TestCaseStatus::success(),
            };
            let mut case = TestCase::new(c.fault_class.clone(), status);
            case.set_classname(t.name.clone());
            case.set_system_out(format!("{}: {}", c.why, summary(c)));
            suite.add_test_case(case);
        }
        for (class, why) in &t.not_run {
            let mut s = TestCaseStatus::skipped();
            s.set_message(why.clone());
            let mut case = TestCase::new(class.clone(), s);
            case.set_classname(t.name.clone());
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .expect("a JUnit report of plain strings always serializes")
}
