//! Values as configuration labels show them.

use toml::Value;

/// A setting's value as configuration labels show it: strings bare.
pub(super) fn label_value(value: Option<Value>) -> String {
    match value {
        Some(Value::String(s)) => s,
        Some(v) => v.to_string(),
        None => "unset".into(),
    }
}
