//! A JSON Schema of scenario files, for editors: with it, an editor's TOML
//! support completes keys, shows what each means and flags unknown ones.
//!
//! The schema is built from the same lists the parser uses (settings,
//! actions and their keys, roles, conditions, nemesis kinds), so the two
//! cannot drift apart.

use broker_model::log::LogConfig;
use serde_json::{json, Map, Value};

use super::raw::RawAction;
use super::Setting;
use super::{log_config, queue_config};
use crate::fault::random::KIND_NAMES;
use crate::fault::trigger::CONDITION_NAMES;
use crate::fault::ROLE_NAMES;

fn duration() -> Value {
    json!({
        "description": "A simulated duration: \"500ms\", \"2s\", \"1.5s\", \"1m\", or an integer of milliseconds.",
        "anyOf": [
            {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?(us|µs|ms|s|m|min)$"},
            {"type": "integer", "minimum": 0}
        ]
    })
}

fn targets() -> Value {
    let one = json!({
        "type": "string",
        "description": format!("A host name (broker-1, controller, producer-1, …) or a role: {}.", ROLE_NAMES.join(", ")),
    });
    json!({"anyOf": [one, {"type": "array", "items": one, "minItems": 1}]})
}

/// The schema of one setting, from its default.
fn setting(key: &str, default: &Option<toml::Value>) -> Value {
    match (key, default) {
        ("acks", _) => json!({"enum": [0, 1, -1, "0", "1", "all", "-1"], "description": "acks"}),
        ("auto.offset.reset", _) => json!({"enum": ["earliest", "latest"]}),
        ("queue_type", _) => json!({"enum": ["classic", "mirrored", "quorum"]}),
        ("publish_mode", _) => json!({"enum": ["fire-and-forget", "transaction", "confirm"]}),
        ("ack", _) => json!({"enum": ["auto", "manual"]}),
        ("cluster_partition_handling", _) => {
            json!({"enum": ["ignore", "autoheal", "pause_minority"]})
        }
        ("ha-mode", _) => json!({"enum": ["all", "exactly"]}),
        ("ha-sync-mode", _) => json!({"enum": ["manual", "automatic"]}),
        ("ha-promote-on-failure" | "ha-promote-on-shutdown", _) => {
            json!({"enum": ["always", "when-synced"]})
        }
        (_, Some(toml::Value::Boolean(_))) => json!({"type": "boolean"}),
        (_, Some(toml::Value::String(_))) => json!({"type": "string"}),
        _ => json!({"type": "integer", "minimum": 0}),
    }
}

fn config(settings: Vec<Setting>) -> Value {
    let mut properties = Map::new();
    for (key, default) in &settings {
        let mut schema = setting(key, default);
        let default_text = match default {
            Some(v) => format!("Default: {v}."),
            None => "Default: unset.".to_string(),
        };
        schema["description"] = Value::String(format!("`{key}`. {default_text}"));
        properties.insert(key.to_string(), schema);
    }
    json!({"type": "object", "additionalProperties": false, "properties": properties})
}

fn fault() -> Value {
    let actions: Vec<&str> = RawAction::ALL.iter().map(|a| a.name()).collect();
    let needs: Vec<Value> = RawAction::ALL
        .iter()
        .map(|a| {
            let (required, _) = a.keys();
            json!({
                "if": {"properties": {"action": {"const": a.name()}}},
                "then": {"required": required}
            })
        })
        .collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["action"],
        "properties": {
            "at": duration(),
            "when": {"enum": CONDITION_NAMES, "description": "Fire when this condition holds instead of at a time."},
            "after": duration(),
            "times": {"type": "integer", "minimum": 1},
            "action": {"enum": actions},
            "target": targets(),
            "peer": targets(),
            "partition": {"type": "integer", "minimum": 0, "description": "The partition (or queue) roles refer to."},
            "duration": duration(),
            "restart_after": duration(),
            "rate": {"type": "number", "minimum": 0, "maximum": 1},
            "latency": duration()
        },
        "anyOf": [{"required": ["at"]}, {"required": ["when"]}],
        "allOf": needs
    })
}

fn nemesis() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["kinds"],
        "properties": {
            "kinds": {"type": "array", "minItems": 1, "items": {"enum": KIND_NAMES}},
            "interval": duration(),
            "max_concurrent": {"type": "integer", "minimum": 1},
            "targets": targets(),
            "partition": {"type": "integer", "minimum": 0},
            "min_duration": duration(),
            "max_duration": duration(),
            "start": duration(),
            "stop": duration(),
            "rate": {"type": "number", "minimum": 0, "maximum": 1},
            "latency": duration()
        }
    })
}

/// The JSON Schema of scenario files.
pub fn schema() -> Value {
    let systems = json!([
        {
            "if": {"properties": {"system": {"const": "log"}}},
            "then": {"properties": {"config": config(log_config::describe(&LogConfig::default()))}}
        },
        {
            "if": {"properties": {"system": {"const": "queue"}}},
            "then": {"properties": {"config": config(queue_config::every_setting())}}
        }
    ]);
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "mqsim scenario",
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "system", "expect"],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "system": {"enum": super::SYSTEMS},
            "expect": {"enum": ["loss", "no-loss"], "description": "Compared with the verdict, never used to reach it."},
            "seeds": {"anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 10000},
                {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0}}
            ]},
            "duration": duration(),
            "drain": duration(),
            "network": {
                "type": "object",
                "additionalProperties": false,
                "properties": {"min_latency": duration(), "max_latency": duration()}
            },
            "workload": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "producers": {"type": "integer", "minimum": 1, "maximum": 64},
                    "consumers": {"type": "integer", "minimum": 1, "maximum": 64},
                    "messages": {"type": "integer", "minimum": 1},
                    "rate": {"type": "number", "exclusiveMinimum": 0},
                    "processing_time": duration()
                }
            },
            "config": {"type": "object"},
            "faults": {"type": "array", "items": fault()},
            "nemesis": nemesis()
        },
        "allOf": systems
    })
}

#[cfg(test)]
mod tests;
