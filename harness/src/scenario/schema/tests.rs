//! The schema checked against the parser: every bundled scenario and every
//! starter file conform, files the parser refuses for an unknown key or
//! value do not, and every key and value the schema lists is one the parser
//! reads.

use std::path::Path;

use regex_automata::dfa::regex::Regex;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::schema;
use crate::fault::random::Kind;
use crate::fault::trigger::Condition;
use crate::scenario::log_config::RawLogConfig;
use crate::scenario::queue_config::RawQueueConfig;
use crate::scenario::raw::{RawAction, RawExpect};
use crate::scenario::settings::{log_defaults, queue_defaults};

/// Whether `schema` accepts `value`.
fn passes(schema: &Value, value: &Value, root: &Value) -> bool {
    let mut e = Vec::new();
    errors(schema, value, "$", root, &mut e);
    e.is_empty()
}

/// A small validator for the parts of JSON Schema the scenario schema uses.
fn errors(schema: &Value, value: &Value, path: &str, root: &Value, out: &mut Vec<String>) {
    let fail = |out: &mut Vec<String>, what: String| out.push(format!("{path}: {what}"));
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let of_type = |t: &&str| match *t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => false,
    };
    if !types.is_empty() && !types.iter().any(of_type) {
        return fail(out, format!("expected {types:?}, found {value}"));
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            fail(out, format!("{value} is not one of {options:?}"));
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            fail(out, format!("{value} is not {c}"));
        }
    }
    let bound = |key| schema.get(key).and_then(Value::as_f64);
    if let Some(n) = value.as_f64() {
        if bound("minimum").is_some_and(|min| n < min) {
            fail(out, format!("{n} is below the minimum"));
        }
        if bound("exclusiveMinimum").is_some_and(|min| n <= min) {
            fail(out, format!("{n} is not above the minimum"));
        }
        if bound("maximum").is_some_and(|max| n > max) {
            fail(out, format!("{n} is above the maximum"));
        }
    }
    if let (Some(pattern), Some(text)) = (
        schema.get("pattern").and_then(Value::as_str),
        value.as_str(),
    ) {
        if !Regex::new(pattern).unwrap().is_match(text) {
            fail(out, format!("{text:?} does not match {pattern}"));
        }
    }
    if let (Some(min), Some(text)) = (bound("minLength"), value.as_str()) {
        if (text.chars().count() as f64) < min {
            fail(out, format!("{text:?} is too short"));
        }
    }
    if let (Some(min), Some(arr)) = (bound("minItems"), value.as_array()) {
        if (arr.len() as f64) < min {
            fail(out, "too few items".into());
        }
    }
    if let Some(obj) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !obj.contains_key(key.as_str().unwrap_or_default()) {
                fail(out, format!("missing {key}"));
            }
        }
        for (k, v) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => errors(s, v, &format!("{path}.{k}"), root, out),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    fail(out, format!("unknown key {k}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            errors(items, v, &format!("{path}[{i}]"), root, out);
        }
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        if !any.iter().any(|s| passes(s, value, root)) {
            fail(out, "matches none of anyOf".into());
        }
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = one.iter().filter(|s| passes(s, value, root)).count();
        if matching != 1 {
            fail(out, format!("matches {matching} of oneOf, not 1"));
        }
    }
    if let Some(cond) = schema.get("if") {
        let branch = if passes(cond, value, root) {
            schema.get("then")
        } else {
            schema.get("else")
        };
        if let Some(branch) = branch {
            errors(branch, value, path, root, out);
        }
    }
    for s in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        errors(s, value, path, root, out);
    }
}

fn check(text: &str) -> Vec<String> {
    let toml: toml::Value = toml::from_str(text).unwrap();
    let json = serde_json::to_value(toml).unwrap();
    let schema = schema();
    let mut out = Vec::new();
    errors(&schema, &json, "$", &schema, &mut out);
    out
}

/// The values a property's schema enumerates, from `enum` or `oneOf`
/// constants.
fn enumerated(property: &Value) -> Vec<Value> {
    let mut values: Vec<Value> = property
        .get("enum")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for option in property
        .get("oneOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        values.extend(option.get("const").cloned());
    }
    values
}

/// The `[config]` schema for `system`.
fn config_schema(system: &str) -> Value {
    let schema = schema();
    let branch = schema["allOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["if"]["properties"]["system"]["const"] == system)
        .unwrap_or_else(|| panic!("no branch for {system}"));
    branch["then"]["properties"]["config"].clone()
}

fn keys(object: &Value) -> Vec<String> {
    let mut keys: Vec<String> = object.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

/// `key = value` read as TOML into `T`, as the parser reads it.
fn reads_as<T: DeserializeOwned>(key: &str, value: &Value) -> Result<T, toml::de::Error> {
    let value = toml::Value::try_from(value).unwrap();
    toml::from_str(&format!("{key:?} = {value}"))
}

#[test]
fn every_bundled_scenario_and_starter_conforms() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    for file in crate::scenario::discover(&[dir]).unwrap() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(check(&text), Vec::<String>::new(), "{}", file.display());
    }
    for system in crate::scenario::SYSTEMS {
        let text = crate::scenario::starter(system).unwrap();
        assert_eq!(check(text), Vec::<String>::new(), "starter for {system}");
    }
}

#[test]
fn what_the_parser_refuses_the_schema_flags() {
    let log = crate::scenario::starter("log").unwrap();
    let queue = crate::scenario::starter("queue").unwrap();
    for (base, from, to, needle) in [
        (
            log,
            "acks = \"all\"",
            "ack = \"all\"",
            "$.config: unknown key ack",
        ),
        (
            log,
            "acks = \"all\"",
            "acks = 2",
            "$.config.acks: 2 is not one of",
        ),
        (
            log,
            "action = \"partition\"",
            "action = \"explode\"",
            "$.faults[0].action:",
        ),
        (
            log,
            "when = \"leader_ahead_of_followers\"",
            "when = \"soon\"",
            "$.faults[1].when: \"soon\" is not one of",
        ),
        (
            log,
            "expect = \"no-loss\"",
            "expect = \"maybe\"",
            "$.expect:",
        ),
        (
            log,
            "duration = \"8s\"",
            "durationn = \"8s\"",
            "$: unknown key durationn",
        ),
        (
            log,
            "duration = \"8s\"",
            "duration = \"8 seconds\"",
            "$.duration:",
        ),
        (log, "system = \"log\"", "system = \"pulsar\"", "$.system:"),
        (queue, "drain = \"auto\"", "drain = \"forever\"", "$.drain:"),
        (queue, "nodes = 3", "acks = 1", "$.config: unknown key acks"),
        (
            queue,
            "queue_type = \"mirrored\"",
            "queue_type = \"stream\"",
            "$.config.queue_type:",
        ),
    ] {
        let text = base.replacen(from, to, 1);
        assert_ne!(text, base, "{from} is in the starter");
        assert!(
            crate::scenario::parse(Path::new("x.toml"), &text).is_err(),
            "{to}"
        );
        let found = check(&text);
        assert!(
            found.iter().any(|e| e.starts_with(needle)),
            "{to}: {found:?}"
        );
    }
}

#[test]
fn the_config_keys_are_the_settings_the_reports_list() {
    let log: Vec<&str> = log_defaults().iter().map(|(k, _)| *k).collect();
    let mut log: Vec<String> = log.into_iter().map(String::from).collect();
    log.sort();
    assert_eq!(keys(&config_schema("log")["properties"]), log);

    // `ha-params` has no default: it goes with `ha-mode = "exactly"`.
    let mut queue: Vec<String> = queue_defaults()
        .iter()
        .map(|(k, _)| k.to_string())
        .collect();
    queue.push("ha-params".into());
    queue.sort();
    assert_eq!(keys(&config_schema("queue")["properties"]), queue);
}

#[test]
fn every_value_the_schema_lists_is_one_the_parser_reads() {
    for system in crate::scenario::SYSTEMS {
        let config = config_schema(system);
        for (key, property) in config["properties"].as_object().unwrap() {
            for value in enumerated(property) {
                let read = match *system {
                    "log" => reads_as::<RawLogConfig>(key, &value).err(),
                    _ => reads_as::<RawQueueConfig>(key, &value).err(),
                };
                assert!(read.is_none(), "{system} {key} = {value}: {read:?}");
            }
        }
    }
    let schema = schema();
    let fault = &schema["properties"]["faults"]["items"]["properties"];
    let actions = enumerated(&fault["action"]);
    assert_eq!(actions.len(), RawAction::ALL.len());
    for action in actions {
        reads_as::<std::collections::BTreeMap<String, RawAction>>("a", &action).unwrap();
    }
    for condition in enumerated(&fault["when"]) {
        condition.as_str().unwrap().parse::<Condition>().unwrap();
    }
    for kind in enumerated(&schema["properties"]["nemesis"]["properties"]["kinds"]["items"]) {
        kind.as_str().unwrap().parse::<Kind>().unwrap();
    }
    for expect in enumerated(&schema["properties"]["expect"]) {
        reads_as::<std::collections::BTreeMap<String, RawExpect>>("e", &expect).unwrap();
    }
}
