//! The page of `mqsim real`: each real verdict beside the model's, in the
//! scenario table, the matrix and each scenario's section; and nothing of
//! it on the page of an ordinary run.

use super::render;
use super::tests::{scenario, seed};
use crate::document::{RealRun, Report, ScenarioReport, Verdict};

const BROKER: &str = "RabbitMQ 3.10.8";

/// A real run of `name` that lost `lost` acknowledged messages, as
/// `mqsim real` records it: one run, seed 0.
fn ran(name: &str, lost: u32) -> RealRun {
    let runs = vec![seed(0, lost, "rabbit-1")];
    let mut real = scenario(name, "queue · quorum", runs, Verdict::Loss);
    real.replay = format!("cargo run --release --bin mqsim -- real rabbitmq scenarios/{name}.toml");
    RealRun {
        broker: BROKER.into(),
        skipped: None,
        report: Some(Box::new(real)),
    }
}

fn skipped(why: &str) -> RealRun {
    RealRun {
        broker: BROKER.into(),
        skipped: Some(why.into()),
        report: None,
    }
}

fn with_real(mut s: ScenarioReport, real: RealRun) -> ScenarioReport {
    s.real = Some(real);
    s
}

/// Three queue scenarios: one that loses in the model and on the real
/// broker, one the model finds safe but the real broker loses (in its own
/// matrix cell), and one skipped on real nodes.
fn real_report() -> Report {
    let mut r = Report::new();
    r.scenarios.push(with_real(
        scenario(
            "autoack-crash",
            "queue · classic · autoack",
            vec![seed(1, 2, "broker-1")],
            Verdict::Loss,
        ),
        ran("autoack-crash", 3),
    ));
    let mut durable = scenario(
        "durable-crash",
        "queue · quorum",
        vec![seed(1, 0, "broker-1")],
        Verdict::NoLoss,
    );
    durable.fault_class = "process crash of a node".into();
    r.scenarios
        .push(with_real(durable, ran("durable-crash", 1)));
    let mut isolate = scenario(
        "isolate-leader",
        "queue · quorum",
        vec![seed(1, 0, "broker-1")],
        Verdict::NoLoss,
    );
    isolate.fault_class = "partition".into();
    r.scenarios.push(with_real(
        isolate,
        skipped("`isolate`: a partition needs <network> namespaces on one machine"),
    ));
    r
}

fn matrix(html: &str) -> &str {
    let m = &html[html.find("id=\"guarantee-matrix\"").unwrap()..];
    &m[..m.find("</table>").unwrap()]
}

fn overview(html: &str) -> &str {
    let t = &html[html.find("<table class=\"overview\">").unwrap()..];
    &t[..t.find("</table>").unwrap()]
}

fn section<'a>(html: &'a str, anchor: &str) -> &'a str {
    let s = &html[html.find(&format!("id=\"{anchor}\"")).unwrap()..];
    &s[..s.find("</section>").unwrap()]
}

#[test]
fn the_scenario_table_has_a_column_of_real_verdicts_marked_same_or_differs() {
    let html = render(&real_report());
    let table = overview(&html);
    assert!(table.contains("<th scope=\"col\">real RabbitMQ 3.10.8</th>"));
    assert_eq!(table.matches("<td class=\"real-cell\">").count(), 3);
    assert!(table.contains(
        "<a href=\"#scenario-autoack-crash-real\"><span class=\"badge badge-loss\">loss</span> <span class=\"real-same\">= same</span></a>"
    ));
    assert!(table.contains(
        "<a href=\"#scenario-durable-crash-real\"><span class=\"badge badge-loss\">loss</span> <span class=\"real-mismatch\">≠ differs</span></a>"
    ));
}

#[test]
fn the_top_of_the_page_counts_the_scenarios_on_which_real_and_model_agree() {
    let html = render(&real_report());
    let top = &html[..html.find("<main").unwrap()];
    assert!(
        top.contains("real vs model: 1 of 2 scenarios agree (1 skipped on real nodes)"),
        "the skipped scenario counts apart"
    );
    assert!(top.contains("pill pill-mismatch real-tally"));
}

#[test]
fn a_matrix_cell_whose_real_verdict_differs_is_marked_as_a_mismatch() {
    let html = render(&real_report());
    let m = matrix(&html);
    assert!(m.contains("loss <span class=\"real-verdict\">· real: loss</span>"));
    assert!(m.contains(
        "no loss <span class=\"real-verdict real-mismatch\">· real: loss ✗ differs</span>"
    ));
    assert_eq!(m.matches("cell-real-mismatch").count(), 1, "{m}");
    assert!(m.contains("<td class=\"cell cell-ok cell-real-mismatch\">"));
    // A differing real verdict is not the model's surprise: the model's
    // verdict and expectation stay as they were.
    assert!(!m.contains("cell-loss cell-real-mismatch"));
}

#[test]
fn a_skipped_scenario_says_why_in_the_table_the_matrix_and_its_section() {
    let html = render(&real_report());
    let why = "`isolate`: a partition needs &#60;network&#62; namespaces on one machine";
    let table = overview(&html);
    assert!(
        table.contains(&format!(
            "<span class=\"badge badge-skipped\" title=\"{why}\">skipped</span>"
        )),
        "{table}"
    );
    assert!(matrix(&html).contains(&format!(
        "title=\"skipped on real nodes: {why}\">· real: skipped</span>"
    )));
    let real = section(&html, "scenario-isolate-leader-real");
    assert!(real.contains("<h3>On real RabbitMQ 3.10.8</h3>"));
    assert!(real.contains(&format!("Not run on real RabbitMQ 3.10.8 nodes: {why}.")));
    assert!(
        !real.contains("<div class=\"stats\">"),
        "no counts without a run"
    );
    assert!(!html.contains("<network>"), "the reason is escaped");
}

#[test]
fn the_real_run_is_drawn_by_the_model_s_timeline_and_plot_in_time_since_start() {
    let html = render(&real_report());
    let real = section(&html, "scenario-autoack-crash-real");
    assert!(real.contains("✓ same as the model (loss)"));
    assert!(real.contains("<span class=\"n\">3</span><span class=\"l\">lost</span>"));
    assert!(real.contains("<span class=\"l\">acknowledged</span>"));
    assert!(real.contains("<span class=\"l\">duplicated</span>"));
    assert!(real.contains(
        "<code>cargo run --release --bin mqsim -- real rabbitmq scenarios/autoack-crash.toml</code>"
    ));
    for seq in 0..3 {
        assert!(real.contains(&format!("<code>p1-{seq}</code>")));
        assert!(real.contains(&format!(
            "<figure class=\"timeline-fig\" id=\"scenario-autoack-crash-real-seed-0-p1-{seq}\">"
        )));
    }
    assert_eq!(
        real.matches("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\"")
            .count(),
        3
    );
    assert!(real.contains("<h4>Throughput and latency over time since start</h4>"));
    assert!(real.contains(
        "aria-label=\"Throughput and latency of autoack-crash seed 0 over time since start\""
    ));
    assert_eq!(real.matches("class=\"plot\" viewBox").count(), 1);
    let differs = section(&html, "scenario-durable-crash-real");
    assert!(differs
        .contains("badge big badge-mismatch real-mismatch\">✗ differs from the model (no-loss)"));
}

#[test]
fn a_report_without_real_runs_shows_nothing_of_them() {
    let mut r = real_report();
    for s in &mut r.scenarios {
        s.real = None;
    }
    let html = render(&r);
    for needle in [
        "real RabbitMQ",
        "real vs model",
        "real-cell",
        "real-verdict",
        "real-mismatch",
        "On real",
        "time since start",
        "-real\"",
    ] {
        assert!(!html.contains(needle), "the page shows `{needle}`");
    }
    assert_eq!(
        overview(&html).matches("<th scope=\"col\"").count(),
        10,
        "no column added"
    );
    assert_eq!(
        overview(&render(&real_report()))
            .matches("<th scope=\"col\"")
            .count(),
        11
    );
}

#[test]
fn a_page_with_real_runs_renders_to_the_same_bytes_twice() {
    assert_eq!(render(&real_report()), render(&real_report()));
}
