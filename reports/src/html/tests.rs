//! The page as a whole: escaped, self-contained, deterministic, and
//! complete about what was lost.

use broker_model::{Event, EventKind, HostRole, MsgId};

use super::render;
use crate::document::{
    Bucket, Counts, FaultSpan, Host, LostMessage, Phase, Report, ScenarioReport, SeedReport,
    Series, Verdict,
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

fn seed(seed: u64, lost_count: u32, leader: &str) -> SeedReport {
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
        lost,
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
    let mut totals = Counts::default();
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
    ScenarioReport {
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
        verdict,
        matches: verdict == expect,
        totals,
        seeds_with_loss,
        seeds,
        replay: format!("cargo run --release --bin mqsim -- run scenarios/{name}.toml --seed 1"),
    }
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
