//! The page of a long sweep: its size does not grow with the seeds, losing
//! seeds come first, the rest are an aggregate.

use super::render;
use super::tests::{scenario, seed};
use crate::document::{Report, SeedReport, Verdict};
use crate::latency::AckLatency;
use crate::retention::Retention;
use crate::CutScenario;
use crate::Partial;

/// A sweep of `n` seeds where every 9th seed loses, kept as a run keeps it.
fn sweep(n: u64) -> Report {
    let mut retention = Retention::default();
    let seeds: Vec<SeedReport> = (1..=n)
        .map(|i| {
            let s = seed(i, if i % 9 == 0 { 3 } else { 0 }, "broker-1");
            match retention.keep(&s) {
                crate::Detail::Full => s,
                crate::Detail::CountsOnly => s.counts_only(),
            }
        })
        .collect();
    let mut s = scenario("sweep", "log · acks=1 · RF=3", seeds, Verdict::Loss);
    let mut latency = AckLatency::default();
    for us in 1..=1_000 {
        latency.record(us * 10);
    }
    s.ack_latency_us = latency;
    let mut r = Report::new();
    r.scenarios.push(s);
    r
}

#[test]
fn the_page_of_a_long_sweep_is_no_bigger_than_one_of_a_few_hundred_seeds() {
    let short = render(&sweep(300)).len();
    let long = render(&sweep(3_000)).len();
    assert!(
        long < short + 20_000,
        "3,000 seeds: {long} bytes; 300 seeds: {short} bytes"
    );
}

#[test]
fn a_long_sweep_lists_its_losing_seeds_first_and_counts_the_rest() {
    let html = render(&sweep(2_000));
    let rows_start = html.find("<table class=\"seeds\">").unwrap();
    let rows = &html[rows_start..html[rows_start..].find("</table>").unwrap() + rows_start];
    assert!(rows.contains("<tr><td>9</td>") && rows.contains("<tr><td>18</td>"));
    assert!(
        !rows.contains("<tr><td>1</td>"),
        "a seed without loss is listed"
    );
    assert!(html.contains("1,950 more seeds are counted"));
    assert!(html.contains("222 of 2,000 seeds lost acknowledged messages"));
    assert_eq!(html.matches("<details class=\"plot\"").count(), 10);
    assert!(html.contains("<th scope=\"row\">p50</th><td>5 ms</td>"));
    assert!(html.contains("<td class=\"bad\">2–3</td><td class=\"num\">222</td>"));
    assert!(html.contains("<td>0</td><td class=\"num\">1,778</td>"));
}

#[test]
fn a_partial_report_says_how_far_it_got() {
    let mut r = sweep(10);
    r.partial = Some(Partial {
        scenarios_done: 0,
        scenarios_planned: 3,
        cut: Some(CutScenario {
            name: "sweep".into(),
            seeds_done: 10,
            seeds_planned: 2_000,
        }),
    });
    let html = render(&r);
    assert!(html.contains(
        "partial: 10 of 2000 seeds of scenario sweep; 0 of 3 scenarios complete: this report holds only the seeds that finished"
    ));
    assert!(!render(&sweep(10)).contains("class=\"partial\""));
}
