//! `definitions.json` as `rabbitmqctl export_definitions` (or the
//! management UI's export) writes it: the sections the audit reads, and
//! the lines of the objects in it, for errors and for the keys not
//! modelled.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::audit::error::ReadError;

/// The sections of the file the audit reads; the others (users, vhosts,
/// permissions, parameters, ...) are listed as not modelled.
#[derive(Deserialize)]
pub(crate) struct Definitions {
    #[serde(default)]
    pub(crate) vhosts: Vec<VhostDef>,
    #[serde(default)]
    pub(crate) queues: Vec<QueueDef>,
    #[serde(default)]
    pub(crate) exchanges: Vec<ExchangeDef>,
    #[serde(default)]
    pub(crate) bindings: Vec<BindingDef>,
    #[serde(default)]
    pub(crate) policies: Vec<PolicyDef>,
    #[serde(default)]
    pub(crate) operator_policies: Vec<PolicyDef>,
    #[serde(flatten)]
    pub(crate) other: Map<String, Value>,
}

/// A virtual host, for its `default_queue_type` (in its `metadata` since
/// RabbitMQ 3.11, beside it in older exports).
#[derive(Deserialize, Clone)]
pub(crate) struct VhostDef {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) default_queue_type: Option<String>,
    #[serde(default)]
    pub(crate) metadata: Map<String, Value>,
}

impl VhostDef {
    /// Its `default_queue_type`, if it has one.
    pub(crate) fn default_queue_type(&self) -> Option<&str> {
        let from_metadata = self
            .metadata
            .get("default_queue_type")
            .and_then(Value::as_str);
        from_metadata.or(self.default_queue_type.as_deref())
    }
}

/// A queue as `queue.declare` made it.
#[derive(Deserialize, Clone)]
pub(crate) struct QueueDef {
    pub(crate) name: String,
    #[serde(default = "root")]
    pub(crate) vhost: String,
    #[serde(default)]
    pub(crate) durable: Option<bool>,
    #[serde(default)]
    pub(crate) auto_delete: bool,
    #[serde(default)]
    pub(crate) arguments: Map<String, Value>,
}

/// An exchange as `exchange.declare` made it.
#[derive(Deserialize, Clone)]
pub(crate) struct ExchangeDef {
    pub(crate) name: String,
    #[serde(default = "root")]
    pub(crate) vhost: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) arguments: Map<String, Value>,
}

/// A binding as `queue.bind` (or `exchange.bind`) made it.
#[derive(Deserialize, Clone)]
pub(crate) struct BindingDef {
    pub(crate) source: String,
    #[serde(default = "root")]
    pub(crate) vhost: String,
    pub(crate) destination: String,
    pub(crate) destination_type: String,
    #[serde(default)]
    pub(crate) routing_key: String,
}

/// A policy or an operator policy.
#[derive(Deserialize, Clone)]
pub(crate) struct PolicyDef {
    pub(crate) name: String,
    #[serde(default = "root")]
    pub(crate) vhost: String,
    pub(crate) pattern: String,
    /// "all" when the file leaves it out, as `rabbitmqctl set_policy` does.
    #[serde(rename = "apply-to", default = "all")]
    pub(crate) apply_to: String,
    pub(crate) definition: Map<String, Value>,
    #[serde(default)]
    pub(crate) priority: i64,
}

fn root() -> String {
    "/".to_string()
}

fn all() -> String {
    "all".to_string()
}

/// The file, read, with its text to find lines in.
pub(crate) struct DefinitionsFile {
    pub(crate) path: PathBuf,
    pub(crate) text: String,
    pub(crate) definitions: Definitions,
}

impl DefinitionsFile {
    /// Reads `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, ReadError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ReadError::file(path, format!("cannot read: {e}")))?;
        Self::parse(path, text)
    }

    /// Parses `text`; a syntax error or a missing field names its line.
    pub(crate) fn parse(path: &Path, text: String) -> Result<Self, ReadError> {
        let definitions = serde_json::from_str(&text).map_err(|e| ReadError {
            path: path.to_path_buf(),
            line: u32::try_from(e.line()).ok().filter(|&l| l > 0),
            key: None,
            message: format!("not a definitions file: {e}"),
        })?;
        Ok(DefinitionsFile {
            path: path.to_path_buf(),
            text,
            definitions,
        })
    }

    /// The line of `key` (a top-level section, or with `within`, a key of
    /// the object of `section` whose name is `within`), as near as a
    /// search of the text finds it: serde_json keeps no positions of
    /// values.
    pub(crate) fn line_of(&self, section: &str, within: Option<&str>, key: Option<&str>) -> u32 {
        let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut at = self.text.find(&quoted(section)).unwrap_or(0);
        if let Some(name) = within {
            let named = quoted(name);
            if let Some(i) = self.text[at..].find(&named) {
                at += i;
            }
        }
        if let Some(key) = key {
            if let Some(i) = self.text[at..].find(&quoted(key)) {
                at += i;
            }
        }
        self.text[..at].matches('\n').count() as u32 + 1
    }

    /// An error about `key` of the `section` object named `within`.
    pub(crate) fn error(
        &self,
        section: &str,
        within: &str,
        key: &str,
        message: String,
    ) -> ReadError {
        let line = self.line_of(section, Some(within), Some(key));
        ReadError::at(&self.path, line, key, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_names_its_line() {
        let e = DefinitionsFile::parse(Path::new("d.json"), "{\n\"queues\": [\n}".into())
            .err()
            .unwrap();
        assert_eq!(e.line, Some(3));
    }

    #[test]
    fn a_key_is_found_on_the_line_of_its_object() {
        let text = "{\n \"queues\": [\n  {\"name\": \"a\",\n   \"arguments\": {}},\n  {\"name\": \"b\",\n   \"arguments\": {\"x-max-length\": -1}}\n ]\n}";
        let f = DefinitionsFile::parse(Path::new("d.json"), text.into()).unwrap();
        assert_eq!(f.line_of("queues", Some("b"), Some("x-max-length")), 6);
        assert_eq!(f.definitions.queues[1].vhost, "/");
    }
}
