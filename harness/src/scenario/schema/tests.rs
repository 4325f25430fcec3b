//! The schema checked against the parser: every bundled scenario and every
//! starter file conform, and files the parser refuses for an unknown key or
//! value do not.

use std::path::Path;

use serde_json::Value;

use super::schema;

/// A small validator for the parts of JSON Schema the scenario schema uses.
fn errors(schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    let fail = |out: &mut Vec<String>, what: String| out.push(format!("{path}: {what}"));
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => false,
        };
        if !ok {
            return fail(out, format!("expected {t}, found {value}"));
        }
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
    if let (Some(min), Some(n)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) {
        if n < min {
            fail(out, format!("{n} is below {min}"));
        }
    }
    if let (Some(max), Some(n)) = (
        schema.get("maximum").and_then(Value::as_f64),
        value.as_f64(),
    ) {
        if n > max {
            fail(out, format!("{n} is above {max}"));
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
                Some(s) => errors(s, v, &format!("{path}.{k}"), out),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    fail(out, format!("unknown key {k}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            errors(items, v, &format!("{path}[{i}]"), out);
        }
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        let passes = any.iter().any(|s| {
            let mut e = Vec::new();
            errors(s, value, path, &mut e);
            e.is_empty()
        });
        if !passes {
            fail(out, "matches none of anyOf".into());
        }
    }
    for s in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(cond) = s.get("if") {
            let mut e = Vec::new();
            errors(cond, value, path, &mut e);
            if e.is_empty() {
                if let Some(then) = s.get("then") {
                    errors(then, value, path, out);
                }
            }
        } else {
            errors(s, value, path, out);
        }
    }
}

fn check(text: &str) -> Vec<String> {
    let toml: toml::Value = toml::from_str(text).unwrap();
    let json = serde_json::to_value(toml).unwrap();
    let mut out = Vec::new();
    errors(&schema(), &json, "$", &mut out);
    out
}

#[test]
fn every_bundled_scenario_and_starter_conforms() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    for file in crate::scenario::discover(&[dir]).unwrap() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(check(&text), Vec::<String>::new(), "{}", file.display());
    }
    for system in crate::scenario::starter::SYSTEMS {
        let text = crate::scenario::starter::starter(system).unwrap();
        assert_eq!(check(text), Vec::<String>::new(), "starter for {system}");
    }
}

#[test]
fn what_the_parser_refuses_the_schema_flags() {
    let base = crate::scenario::starter::starter("log").unwrap();
    for (from, to, needle) in [
        ("acks = \"all\"", "ack = \"all\"", "unknown key ack"),
        ("acks = \"all\"", "acks = 2", "is not one of"),
        (
            "action = \"partition\"",
            "action = \"explode\"",
            "is not one of",
        ),
        (
            "when = \"leader_ahead_of_followers\"",
            "when = \"soon\"",
            "is not one of",
        ),
        (
            "expect = \"no-loss\"",
            "expect = \"maybe\"",
            "is not one of",
        ),
        (
            "duration = \"8s\"",
            "durationn = \"8s\"",
            "unknown key durationn",
        ),
    ] {
        let text = base.replacen(from, to, 1);
        assert!(crate::scenario::parse(Path::new("x.toml"), &text).is_err());
        let found = check(&text);
        assert!(found.iter().any(|e| e.contains(needle)), "{to}: {found:?}");
    }
}
