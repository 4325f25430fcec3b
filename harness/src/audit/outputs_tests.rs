//! The machine outputs of an audit: the JSON findings and the JUnit XML.

use reports::audit::AuditReport;

use super::json::to_json;
use super::junit::to_junit;

const COUNTS: &str = r#"{"sent":800,"acknowledged":800,"failed":0,"unknown":0,"processed":796,"lost":4,"duplicated":0,"recovered":0,"unexpected":0}"#;
const NONE: &str = r#"{"sent":800,"acknowledged":800,"failed":0,"unknown":0,"processed":800,"lost":0,"duplicated":0,"recovered":0,"unexpected":0}"#;
const COST: &str = r#"{"throughput":200.0,"latency_p50_us":1500,"refused":0,"unknown":0}"#;

fn report() -> AuditReport {
    let text = format!(
        r#"{{"generator":"mqsim test","time_scale":"times as the files give them","seeds":[1,2],
        "targets":[{{"name":"orders","system":"log","configuration":"log","settings":[],
          "classes":[
            {{"fault_class":"leader crash before sync","why":"followers","probes":[],"runs":4,
              "counts":{COUNTS},"verdict":"loss","cost":{COST},"evidence":null,
              "reproducer":{{"file":"out/r.toml","seed":2,"faults":1,"messages":100,"lost":2,"replay":"mqsim run out/r.toml --seed 2"}},
              "cures":[
                {{"setting":"acks","from":"1","to":"all","verified":true,"counts":{NONE},"cost":{COST},"throughput_change":-0.1,"latency_change":1.0}},
                {{"setting":"enable.idempotence","from":"false","to":"true","verified":false,"counts":{COUNTS},"cost":{COST},"throughput_change":0.0,"latency_change":null}}]}},
            {{"fault_class":"broker crash","why":"always","probes":[],"runs":4,
              "counts":{NONE},"verdict":"no-loss","cost":{COST},"evidence":null,"reproducer":null,"cures":[]}}],
          "not_run":[["missing binding","a topic has no bindings"]]}}],
        "not_modelled":[{{"file":"server.properties","line":12,"key":"num.network.threads"}}]}}"#
    );
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_json_holds_exactly_the_findings_and_the_keys_not_modelled() {
    let json: serde_json::Value = serde_json::from_str(&to_json(&report())).unwrap();
    let expected = serde_json::json!({
        "findings": [{
            "fault_class": "leader crash before sync",
            "target": "orders",
            "acknowledged": 800,
            "lost": 4,
            "reproducer": "out/r.toml",
            "cures": [
                {"setting": "acks", "from": "1", "to": "all", "verified": true,
                 "throughput_change": -0.1, "latency_change": 1.0},
                {"setting": "enable.idempotence", "from": "false", "to": "true", "verified": false,
                 "throughput_change": 0.0, "latency_change": null}
            ]
        }],
        "not_modelled": [{"file": "server.properties", "line": 12, "key": "num.network.threads"}]
    });
    assert_eq!(json, expected);
}

#[test]
fn junit_has_a_case_per_target_and_class_failing_where_a_class_loses() {
    let xml = to_junit(&report());
    assert!(
        xml.contains(r#"tests="3" skipped="1" failures="1" errors="0""#),
        "{xml}"
    );
    assert!(xml.contains("verified cures: acks 1 -&gt; all"), "{xml}");
    assert!(xml.contains(r#"classname="orders""#), "{xml}");
    assert!(xml.contains("a topic has no bindings"), "{xml}");
}
