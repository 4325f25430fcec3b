//! `rabbitmq.conf`, the sysctl-like format cuttlefish reads: one
//! `key = value` a line, `#` starting a comment.

use std::path::{Path, PathBuf};

use crate::audit::deployment::NotModelled;
use crate::audit::error::ReadError;

/// The prefix of the nodes of a cluster formed from a fixed list
/// (`cluster_formation.classic_config.nodes.1 = rabbit@a`).
const NODES: &str = "cluster_formation.classic_config.nodes.";
/// The keys the audit reads.
const KNOWN: &[&str] = &[
    "cluster_partition_handling",
    "heartbeat",
    "default_queue_type",
];

/// One `key = value` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConfEntry {
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) line: u32,
}

/// The file, read.
pub(crate) struct Conf {
    pub(crate) path: PathBuf,
    entries: Vec<ConfEntry>,
}

impl Conf {
    /// Reads `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, ReadError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ReadError::file(path, format!("cannot read: {e}")))?;
        Self::parse(path, &text)
    }

    /// Parses `text`; a line that is neither a comment nor `key = value`
    /// is refused, as cuttlefish refuses it.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Self, ReadError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i as u32 + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let Some((key, value)) = content.split_once('=') else {
                return Err(ReadError {
                    path: path.to_path_buf(),
                    line: Some(line),
                    key: None,
                    message: format!(
                        "`{content}` is not a setting: RabbitMQ expects `key = value`"
                    ),
                });
            };
            entries.push(ConfEntry {
                key: key.trim().to_string(),
                value: value.trim().to_string(),
                line,
            });
        }
        Ok(Conf {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The entry of `key`, the last if given twice.
    pub(crate) fn get(&self, key: &str) -> Option<&ConfEntry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// The nodes of the cluster's fixed list, in file order.
    pub(crate) fn nodes(&self) -> Vec<&ConfEntry> {
        self.entries
            .iter()
            .filter(|e| e.key.starts_with(NODES))
            .collect()
    }

    /// The keys the audit does not read, each once.
    pub(crate) fn not_modelled(&self) -> Vec<NotModelled> {
        let mut out: Vec<NotModelled> = Vec::new();
        for e in &self.entries {
            let known = KNOWN.contains(&e.key.as_str()) || e.key.starts_with(NODES);
            if !known && !out.iter().any(|n| n.key == e.key) {
                out.push(NotModelled {
                    path: self.path.clone(),
                    line: e.line,
                    key: e.key.clone(),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_comments_and_the_node_list_are_read() {
        let text = "# cluster\ncluster_partition_handling = pause_minority\n\
                    cluster_formation.classic_config.nodes.1 = rabbit@a\n\
                    cluster_formation.classic_config.nodes.2 = rabbit@b # second\n\
                    listeners.tcp.default = 5672\n";
        let c = Conf::parse(Path::new("rabbitmq.conf"), text).unwrap();
        assert_eq!(
            c.get("cluster_partition_handling").unwrap().value,
            "pause_minority"
        );
        assert_eq!(c.nodes().len(), 2);
        assert_eq!(c.nodes()[1].value, "rabbit@b");
        let nm = c.not_modelled();
        assert_eq!(nm.len(), 1);
        assert_eq!(
            (nm[0].key.as_str(), nm[0].line),
            ("listeners.tcp.default", 5)
        );
    }

    #[test]
    fn a_line_without_equals_is_refused_at_its_line() {
        let e = Conf::parse(Path::new("rabbitmq.conf"), "a = 1\nnonsense\n")
            .err()
            .unwrap();
        assert_eq!(e.line, Some(2));
    }
}
