//! A JSON Schema of scenario files, for editors: with it, an editor's TOML
//! support completes keys, shows what each means and flags unknown ones.
//!
//! The schema is derived with schemars from the types the parser reads a
//! file into (`raw`, `log_config`, `queue_config`), so it lists the same keys
//! and the same values as the parser, and their doc comments are its
//! descriptions. Two things derivation cannot see are added here: which
//! `[config]` table goes with which `system` (the parser's second pass), and
//! each setting's default, from the table the reports print.

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::transform::{RecursiveTransform, Transform};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Value};

use super::log_config::RawLogConfig;
use super::model::Setting;
use super::queue_config::RawQueueConfig;
use super::raw::RawScenario;
use super::settings::{log_defaults, queue_defaults};

/// `[config]` among the keys every system shares: a table whose keys
/// `system` decides.
struct SystemConfig;

impl JsonSchema for SystemConfig {
    fn schema_name() -> Cow<'static, str> {
        "Config".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "object"})
    }
}

/// The JSON Schema of scenario files (draft 2020-12).
pub fn schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut root = generator.root_schema_for::<RawScenario<SystemConfig>>();
    root.insert("title".into(), "mqsim scenario".into());
    let log = generator.subschema_for::<RawLogConfig>();
    let queue = generator.subschema_for::<RawQueueConfig>();
    let branches = [
        ("log", with_defaults(log, log_defaults())),
        ("queue", with_defaults(queue, queue_defaults())),
    ]
    .into_iter()
    .map(|(system, config)| {
        json!({
            "if": {"properties": {"system": {"const": system}}, "required": ["system"]},
            "then": {"properties": {"config": config}}
        })
    })
    .collect();
    root.insert("allOf".into(), Value::Array(branches));
    RecursiveTransform(without_null).transform(&mut root);
    RecursiveTransform(unwrapped_description).transform(&mut root);
    root.to_value()
}

/// A `[config]` schema with each setting's default, as the reports show it.
fn with_defaults(mut config: Schema, defaults: Vec<Setting>) -> Schema {
    if let Some(Value::Object(properties)) = config.get_mut("properties") {
        for (key, value) in defaults {
            if let (Some(Value::Object(property)), Some(value)) = (properties.get_mut(key), value) {
                let value = serde_json::to_value(value).expect("a setting converts to JSON");
                property.insert("default".into(), value);
            }
        }
    }
    config
}

/// Drops the `null` schemars allows for every `Option` field: TOML has no
/// null, so a file leaves an optional key out instead.
fn without_null(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            object.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(values)) = object.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    if let Some(Value::Array(options)) = object.get_mut("anyOf") {
        options.retain(|o| *o != json!({"type": "null"}));
        if let [Value::Object(_)] = options.as_slice() {
            let Some(Value::Object(only)) = options.pop() else {
                return;
            };
            object.remove("anyOf");
            for (key, value) in only {
                object.entry(key).or_insert(value);
            }
        }
    }
}

/// Joins the lines of a description that come from a wrapped doc comment,
/// so that editors wrap it to their own width; blank lines still part
/// paragraphs.
fn unwrapped_description(schema: &mut Schema) {
    if let Some(Value::String(text)) = schema.get_mut("description") {
        *text = text
            .split("\n\n")
            .map(|paragraph| paragraph.replace('\n', " "))
            .collect::<Vec<_>>()
            .join("\n\n");
    }
}

#[cfg(test)]
mod tests;
