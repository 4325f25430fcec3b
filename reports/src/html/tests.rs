//! The page as a whole: escaped, self-contained, deterministic, and
//! complete about what was lost.

use broker_model::{Event, EventKind, HostRole, MsgId};

use super::render;
use crate::document::{
    Bucket, Counts, Detail, FaultSpan, Host, LostMessage, Outcome, Phase, Report, ScenarioReport,
    SeedReport, Series, Verdict,
};

pub(super) fn ev(at_ms: u64, host: &str, kind: EventKind) -> Event {
    Event {
        at_us: at_ms * 1000,
        host: host.into(),
        kind,
    }
}

/// A message lost as under `acks=1`: appended on `leader` alone,
/// acknowledged, another broker elected, truncated on `leader`.
pub(super) fn lost(seq: u32, leader: &str) -> LostMessage {
    let msg = MsgId::new(1, seq);
    LostMessage {
        id: msg.to_string(),
        trail: vec![
            ev(
                2000,
                "producer-1",
                EventKind::Send {
                    msg,
                    dest: "p0".into(),
                },
            ),
            ev(
                2002,
                leader,
                EventKind::Append {
                    dest: "p0".into(),
                    offset: seq.into(),
                    epoch: 1,
                    msgs: vec![msg],
                },
            ),
            ev(
                2005,
                "producer-1",
                EventKind::SendOk {
                    msg,
                    offset: Some(seq.into()),
                },
            ),
            ev(
                3000,
                "controller",
                EventKind::Elect {
                    dest: "p0".into(),
                    leader: Some("broker-2".into()),
                    epoch: 2,
                    isr: vec!["broker-2".into()],
                    unclean: false,
                    elr: Vec::new(),
                    from: None,
                },
            ),
            ev(
                4405,
                leader,
                EventKind::Truncate {
                    dest: "p0".into(),
                    to: 0,
                    msgs: vec![msg],
                },
            ),
        ],
    }
}

pub(super) fn seed(seed: u64, lost_count: u32, leader: &str) -> SeedReport {
    let lost: Vec<LostMessage> = (0..lost_count).map(|i| lost(i, leader)).collect();
    SeedReport {
        seed,
        counts: Counts {
            sent: 20,
            acknowledged: 20,
            processed: 20 - u64::from(lost_count),
            lost: u64::from(lost_count),
            ..Counts::default()
        },
        simulated_ms: 6000,
        drained: true,
        outcome: Outcome::Conclusive,
        detail: Detail::Full,
        lost,
        unconsumed: Vec::new(),
        dead_lettered: Vec::new(),
        duplicated: Vec::new(),
        recovered: Vec::new(),
        unexpected: Vec::new(),
        faults: Vec::new(),
        fault_spans: vec![FaultSpan {
            start_us: 2_400_000,
            end_us: 4_400_000,
            action: "crash".into(),
            hosts: vec![leader.into()],
            detail: "at 2400ms: crash leader of p0 </svg><script>x()</script>".into(),
        }],
        phases: vec![
            Phase {
                name: "heal".into(),
                at_us: 5_000_000,
            },
            Phase {
                name: "end".into(),
                at_us: 6_000_000,
            },
        ],
        series: Series {
            bucket_ms: 100,
            buckets: (0..60)
                .map(|i| Bucket {
                    sent: 1,
                    acked: 1,
                    processed: u32::from(i % 2 == 0),
                    latency_p50_us: Some(2000),
                    latency_max_us: Some(5000 + i * 1000),
                    backlog: Some(i % 7),
                    ..Bucket::default()
                })
                .collect(),
        },
    }
}

/// The hosts of a small log cluster, in deployment order.
pub(super) fn hosts() -> Vec<Host> {
    [
        ("controller", HostRole::Controller),
        ("broker-1", HostRole::Broker),
        ("broker-2", HostRole::Broker),
        ("producer-1", HostRole::Producer),
        ("consumer-1", HostRole::Consumer),
    ]
    .into_iter()
    .map(|(name, role)| Host {
        name: name.into(),
        role,
    })
    .collect()
}

pub(super) fn scenario(
    name: &str,
    configuration: &str,
    seeds: Vec<SeedReport>,
    expect: Verdict,
) -> ScenarioReport {
    let mut s = ScenarioReport {
        name: name.into(),
        file: format!("scenarios/{name}.toml"),
        description:
            "Shows \"what\" happens\nwhen <img src=x onerror=alert(1)> & co.\n\nSecond paragraph."
                .into(),
        system: "log".into(),
        config: vec![("acks".into(), "1 <b>".into())],
        configuration: configuration.into(),
        schedule: vec!["at 2400ms: crash leader of p0 & more".into()],
        fault_class: "process crash of leader".into(),
        hosts: hosts(),
        duration_ms: 5000,
        expect,
        verdict: Verdict::NoLoss,
        matches: false,
        totals: Counts::default(),
        seeds_with_loss: Vec::new(),
        seeds_inconclusive: Vec::new(),
        seeds,
        replay: format!("cargo run --release --bin mqsim -- run scenarios/{name}.toml --seed 1"),
        ack_latency_us: Default::default(),
        real: None,
    };
    s.recompute();
    s
}

fn report() -> Report {
    let mut r = Report::new();
    r.scenarios.push(scenario(
        "<script>alert('name')</script>",
        "log · acks=1 · RF=3",
        vec![seed(1, 7, "broker-1"), seed(2, 0, "broker-1")],
        Verdict::Loss,
    ));
    r.scenarios.push(scenario(
        "acks1-again",
        "log · acks=1 · RF=3",
        vec![seed(1, 1, "broker-<1>")],
        Verdict::NoLoss,
    ));
    r
}

#[test]
fn everything_from_scenarios_and_histories_is_escaped() {
    let html = render(&report());
    assert!(!html.contains("<script"), "a script tag got through");
    assert!(!html.contains("<img"), "an image tag got through");
    assert!(!html.contains("<b>"), "markup in a setting got through");
    assert!(
        !html.contains("broker-<1>"),
        "markup in a host name got through"
    );
    // The text itself survives, as entities.
    let text = unescape(&html);
    assert!(text.contains("<script>alert('name')</script>"));
    assert!(text.contains("<img src=x onerror=alert(1)> & co."));
    assert!(text.contains("</svg><script>x()</script>"));
}

/// `html` with the entities the page uses turned back into characters.
fn unescape(html: &str) -> String {
    [
        ("&lt;", "<"),
        ("&#60;", "<"),
        ("&gt;", ">"),
        ("&#62;", ">"),
        ("&quot;", "\""),
        ("&#34;", "\""),
        ("&#39;", "'"),
        ("&amp;", "&"),
        ("&#38;", "&"),
    ]
    .iter()
    .fold(html.to_string(), |s, (entity, c)| s.replace(entity, c))
}

#[test]
fn the_page_fetches_nothing() {
    let html = render(&report());
    for needle in [
        "<script", "<link", "<iframe", "<object", "@import", " src=\"",
    ] {
        assert!(!html.contains(needle), "the page contains `{needle}`");
    }
    for (i, _) in html.match_indices("href=\"") {
        let target = &html[i + 6..];
        assert!(
            target.starts_with('#'),
            "a link leaves the page: {}",
            &target[..40.min(target.len())]
        );
    }
    for (i, _) in html.match_indices("url(") {
        assert!(
            html[i..].starts_with("url(#"),
            "a style fetches: {}",
            &html[i..i + 30]
        );
    }
}

#[test]
fn the_same_report_renders_to_the_same_bytes() {
    assert_eq!(render(&report()), render(&report()));
}

#[test]
fn every_lost_message_is_listed_and_the_first_few_are_drawn() {
    let html = render(&report());
    for seq in 0..7 {
        assert!(
            html.contains(&format!("<code>p1-{seq}</code>")),
            "p1-{seq} is not listed"
        );
    }
    // Seed 1 of the first scenario lost 7: 5 drawn; the second lost 1.
    assert_eq!(
        html.matches("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\"")
            .count(),
        6
    );
    assert!(html.contains("2 more lost messages of this seed have no timeline here"));
    // One plot per seed.
    assert_eq!(html.matches("class=\"plot\" viewBox").count(), 3);
}

#[test]
fn scenarios_sharing_configuration_and_fault_share_a_matrix_cell() {
    let html = render(&report());
    let matrix = &html[html.find("id=\"guarantee-matrix\"").unwrap()..];
    let matrix = &matrix[..matrix.find("</table>").unwrap()];
    assert_eq!(matrix.matches("<td class=\"cell ").count(), 1);
    // 7 + 0 + 1 lost of 20 + 20 + 20 acknowledged, and the second scenario
    // expected no loss: the cell is marked as a surprise.
    assert!(matrix.contains("<strong>8</strong> / 60 lost"));
    assert!(matrix.contains("cell-loss cell-mismatch"));
    assert!(matrix.contains("✗ expected no-loss"));
}

/// A seed whose drain ended with 5,900 messages still readable and 5,912
/// acknowledged messages not yet processed.
fn undrained(n: u64) -> SeedReport {
    let mut s = seed(n, 0, "broker-1");
    s.drained = false;
    s.outcome = Outcome::Inconclusive { readable: 5900 };
    s.counts.acknowledged = 16000;
    s.counts.unconsumed = 5912;
    s.unconsumed = (0..5912)
        .map(|i| MsgId::new(1, 10_088 + i).to_string())
        .collect();
    s
}

fn inconclusive_report() -> Report {
    let mut r = Report::new();
    r.scenarios.push(scenario(
        "lagging-consumer",
        "log · acks=all · RF=3",
        vec![seed(1, 0, "broker-1"), undrained(2)],
        Verdict::NoLoss,
    ));
    r
}

#[test]
fn an_inconclusive_scenario_is_marked_as_such_and_lists_nothing_as_lost() {
    let html = render(&inconclusive_report());
    assert!(
        html.contains("badge big badge-unknown"),
        "no inconclusive badge"
    );
    assert!(html.contains("? inconclusive: did not drain, 5,900 still readable"));
    assert!(html.contains("pill pill-unknown"));
    assert!(html.contains("class=\"toc-unknown\""));
    assert!(
        html.contains(
            "seed 2: did not drain: 5,900 still readable; 5,912 acknowledged messages not yet consumed"
        ),
        "the seed's section does not say it did not drain"
    );
    assert!(!html.contains("acknowledged messages lost</summary>"));
    assert!(!html.contains("<h3>Lost messages</h3>"));
    assert!(!html.contains("badge-loss\"") && !html.contains("badge-ok\""));
    // The first 100 unconsumed ids are listed, the rest counted.
    assert!(html.contains("<code>p1-10088</code>"));
    assert!(!html.contains("<code>p1-10188</code>"));
    assert!(html.contains("… and 5812 more in <code>report.json</code>"));
    // An inconclusive verdict never matches, whatever was expected.
    assert!(html.contains("badge big badge-mismatch"));
}

#[test]
fn the_matrix_marks_an_inconclusive_cell_apart_from_loss_and_no_loss() {
    let html = render(&inconclusive_report());
    let matrix = &html[html.find("id=\"guarantee-matrix\"").unwrap()..];
    let matrix = &matrix[..matrix.find("</table>").unwrap()];
    assert!(
        matrix.contains("cell cell-unknown cell-mismatch"),
        "{matrix}"
    );
    assert!(matrix.contains("? inconclusive"));
    assert!(matrix.contains("1 of 2 seeds did not drain: 5,900 still readable"));
    assert!(matrix.contains("<strong>0</strong> / 16020 lost"));

    // A loss in the same cell outweighs the inconclusive seed.
    let mut r = inconclusive_report();
    r.scenarios.push(scenario(
        "lagging-and-losing",
        "log · acks=all · RF=3",
        vec![seed(3, 2, "broker-1")],
        Verdict::Loss,
    ));
    let html = render(&r);
    let matrix = &html[html.find("id=\"guarantee-matrix\"").unwrap()..];
    let matrix = &matrix[..matrix.find("</table>").unwrap()];
    assert!(matrix.contains("cell cell-loss cell-mismatch"), "{matrix}");
}

#[test]
fn every_plot_draws_the_backlog() {
    let html = render(&report());
    let drawn = html
        .split("<path ")
        .skip(1)
        .filter(|p| p.split("/>").next().unwrap_or("").contains("s-backlog"))
        .count();
    assert_eq!(drawn, 3, "one backlog line per plot");
    assert!(html.contains("backlog: messages consumers could still read"));
}

#[test]
fn dead_lettered_messages_are_counted_apart_from_the_lost_in_the_tables_and_the_matrix() {
    let mut with_dlq = seed(1, 0, "broker-1");
    with_dlq.counts.dead_lettered = 3;
    with_dlq.counts.processed -= 3;
    let mut r = Report::new();
    r.scenarios.push(scenario(
        "dead-letter",
        "queue · quorum",
        vec![with_dlq, seed(2, 0, "broker-1")],
        Verdict::NoLoss,
    ));
    let html = render(&r);
    assert!(html.contains("3 dead-lettered (processed from a dead-letter queue)"));
    assert!(html.contains("dead-lettered (processed only from a dead-letter queue)"));
    assert!(html.contains("+ 3 dead-lettered"));
    let plain = render(&report());
    assert!(
        !plain.contains("dead-lettered"),
        "shown only when there are any"
    );
}

#[test]
fn a_dead_lettered_message_is_drawn_with_its_trail_ending_where_it_was_processed() {
    let mut with_dlq = seed(1, 0, "broker-1");
    with_dlq.counts.dead_lettered = 1;
    let msg = MsgId::new(1, 7);
    with_dlq.dead_lettered = vec![LostMessage {
        id: msg.to_string(),
        trail: vec![
            ev(
                100,
                "producer-1",
                EventKind::Send {
                    msg,
                    dest: "q0".into(),
                },
            ),
            ev(104, "producer-1", EventKind::SendOk { msg, offset: None }),
            ev(
                900,
                "consumer-2",
                EventKind::Processed {
                    msg,
                    dead_lettered: true,
                },
            ),
        ],
    }];
    let mut r = Report::new();
    r.scenarios.push(scenario(
        "dead-letter",
        "queue · quorum",
        vec![with_dlq],
        Verdict::NoLoss,
    ));
    let html = render(&r);
    assert!(html.contains("<h3>Dead-lettered messages</h3>"));
    assert!(html.contains("1 acknowledged messages dead-lettered"));
    assert!(html.contains("on consumer-2: processed from a dead-letter queue"));
    assert!(!html.contains("<h3>Lost messages</h3>"));
}
