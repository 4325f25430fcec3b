//! JUnit XML for CI systems: one test case per scenario and the batch of
//! seeds it ran, failing when the verdict does not match `expect`. An
//! inconclusive scenario is an error rather than a failure: the test could
//! not decide, as when a test errors before its assertion.

use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use reports::describe::{count, undrained};
use reports::{Report, ScenarioReport, Verdict};

fn seeds_label(s: &ScenarioReport) -> String {
    let seeds: Vec<u64> = s.seeds.iter().map(|s| s.seed).collect();
    match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if seeds.len() > 2 && (b - a + 1) as usize == seeds.len() => {
            format!("seeds {a}..={b}")
        }
        _ => format!(
            "seeds {}",
            seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// The report as JUnit XML.
pub fn to_junit(report: &Report) -> String {
    let mut junit = Junit::new("mqsim");
    let mut suite = TestSuite::new("scenarios");
    for s in &report.scenarios {
        let name = format!("{} [{}]", s.name, seeds_label(s));
        let dead_lettered = match s.totals.dead_lettered {
            0 => String::new(),
            n => format!(", {n} dead-lettered"),
        };
        let summary = format!(
            "verdict {}, expected {}: {} acknowledged, {} lost, {} duplicated, {} recovered{dead_lettered} over {} seeds; replay: {}",
            s.verdict.name(),
            s.expect.name(),
            s.totals.acknowledged,
            s.totals.lost,
            s.totals.duplicated,
            s.totals.recovered,
            s.seeds.len(),
            s.replay
        );
        let status = if s.verdict == Verdict::Inconclusive {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_type("inconclusive");
            status.set_message(format!(
                "inconclusive: {}; {} acknowledged messages not yet consumed",
                undrained(s),
                count(s.totals.unconsumed)
            ));
            status
        } else if s.matches {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(summary.clone());
            status
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(s.file.clone());
        case.set_system_out(summary);
        suite.add_test_case(case);
    }
    junit.add_test_suite(suite);
    junit
        .to_string()
        .expect("a JUnit report of plain strings always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mismatch_is_a_failure_and_a_match_a_success() {
        let text = r#"{"generator":"t","scenarios":[
          {"name":"a","file":"a.toml","description":"","system":"log","config":[],"schedule":[],
           "expect":"loss","verdict":"loss","matches":true,"totals":{"sent":1,"acknowledged":1,"failed":0,"unknown":0,"processed":0,"lost":1,"duplicated":0,"recovered":0,"unexpected":0},
           "seeds_with_loss":[1],"seeds":[],"replay":"r"},
          {"name":"b","file":"b.toml","description":"","system":"log","config":[],"schedule":[],
           "expect":"no-loss","verdict":"loss","matches":false,"totals":{"sent":1,"acknowledged":1,"failed":0,"unknown":0,"processed":0,"lost":1,"duplicated":0,"recovered":0,"unexpected":0},
           "seeds_with_loss":[1],"seeds":[],"replay":"r"}]}"#;
        let report: Report = serde_json::from_str(text).unwrap();
        let xml = to_junit(&report);
        assert!(
            xml.contains(r#"tests="2" skipped="0" failures="1""#),
            "{xml}"
        );
        assert!(xml.contains("verdict loss, expected no-loss"), "{xml}");
        assert!(xml.contains(r#"classname="b.toml""#), "{xml}");
    }

    #[test]
    fn an_inconclusive_scenario_is_an_error_not_a_failure() {
        let seed = |n: u64, readable: u64| {
            format!(
                r#"{{"seed":{n},"counts":{{"sent":9,"acknowledged":9,"failed":0,"unknown":0,"processed":4,"lost":0,"duplicated":0,"recovered":0,"unexpected":0,"unconsumed":5}},
                 "simulated_ms":1,"drained":false,"outcome":{{"kind":"inconclusive","readable":{readable}}},
                 "lost":[],"unconsumed":["p1-4"],"duplicated":[],"recovered":[],"unexpected":[],"faults":[]}}"#
            )
        };
        let text = format!(
            r#"{{"generator":"t","scenarios":[
              {{"name":"lag","file":"lag.toml","description":"","system":"log","config":[],"schedule":[],
               "expect":"no-loss","verdict":"no-loss","matches":true,"totals":{{"sent":0,"acknowledged":0,"failed":0,"unknown":0,"processed":0,"lost":0,"duplicated":0,"recovered":0,"unexpected":0}},
               "seeds_with_loss":[],"seeds":[{},{}],"replay":"r"}}]}}"#,
            seed(1, 2500),
            seed(2, 3400)
        );
        let mut report: Report = serde_json::from_str(&text).unwrap();
        report.scenarios[0].recompute();
        let xml = to_junit(&report);
        assert!(
            xml.contains(r#"tests="1" skipped="0" failures="0" errors="1""#),
            "{xml}"
        );
        assert!(xml.contains(r#"type="inconclusive""#), "{xml}");
        assert!(
            xml.contains(
                "inconclusive: seeds 1, 2 did not drain; 5,900 messages still readable; 10 acknowledged messages not yet consumed"
            ),
            "{xml}"
        );
    }
}
