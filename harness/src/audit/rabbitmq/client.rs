//! `client.toml`: what no broker file records (how the application
//! publishes and consumes), with the keys of a queue scenario's
//! `[config]` and its `[workload]`, read by the scenario parser's own
//! types.

use std::path::{Path, PathBuf};

use broker_model::Workload;
use serde::Deserialize;

use crate::audit::error::ReadError;
use crate::scenario::error::ScenarioError;
use crate::scenario::parse::workload;
use crate::scenario::queue_config::{RawAck, RawPublishMode};
use crate::scenario::spanned::Spanned;
use crate::scenario::workload::RawWorkload;

/// The client's settings. Times are the application's real ones, scaled
/// like the brokers'; `[workload]` is the audit's test load, in simulated
/// time as in scenario files.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClient {
    /// `delivery_mode = 2` on every publish.
    pub(crate) persistent: Option<Spanned<bool>>,
    /// "fire-and-forget", "transaction" or "confirm".
    pub(crate) publish_mode: Option<Spanned<RawPublishMode>>,
    /// How long the publisher waits for a confirm or a commit.
    pub(crate) confirm_timeout_ms: Option<Spanned<u64>>,
    /// Extra attempts after a nack, a refusal or a timeout.
    pub(crate) retries: Option<Spanned<u32>>,
    /// The pause between attempts.
    pub(crate) retry_backoff_ms: Option<Spanned<u64>>,
    /// Publishes awaiting their confirm at once.
    pub(crate) max_outstanding_confirms: Option<Spanned<u32>>,
    /// "manual" or "auto" (`no-ack`).
    pub(crate) ack: Option<Spanned<RawAck>>,
    /// `basic.qos` `prefetch_count`.
    pub(crate) prefetch: Option<Spanned<u32>>,
    /// The heartbeat the client asks for.
    pub(crate) heartbeat_ms: Option<Spanned<u64>>,
    /// The exchange the application publishes to (default: the default
    /// exchange, to each queue by name).
    pub(crate) exchange: Option<Spanned<String>>,
    /// The routing keys it publishes with, in turn.
    pub(crate) routing_keys: Option<Spanned<Vec<String>>>,
    /// `mandatory` on `basic.publish`.
    pub(crate) mandatory: Option<Spanned<bool>>,
    /// The test load.
    pub(crate) workload: Option<Spanned<RawWorkload>>,
}

/// `client.toml`, read.
pub(crate) struct ClientFile {
    pub(crate) path: PathBuf,
    text: String,
    pub(crate) raw: RawClient,
    pub(crate) workload: Workload,
}

impl ClientFile {
    /// Reads `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, ReadError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ReadError::file(path, format!("cannot read: {e}")))?;
        Self::parse(path, text)
    }

    /// No client file: every client setting is the protocol's default.
    pub(crate) fn absent(path: &Path) -> Self {
        ClientFile {
            path: path.to_path_buf(),
            text: String::new(),
            raw: RawClient::default(),
            workload: Workload::default(),
        }
    }

    /// Parses `text`.
    pub(crate) fn parse(path: &Path, text: String) -> Result<Self, ReadError> {
        let raw: RawClient = toml::from_str(&text).map_err(|e| {
            let message = e.message().trim().replace('\n', " ");
            ScenarioError::at(path, &text, e.span(), None, message)
        })?;
        let err =
            |span, key: Option<&str>, msg: String| ScenarioError::at(path, &text, span, key, msg);
        let workload = workload(raw.workload.as_ref(), &err)?;
        Ok(ClientFile {
            path: path.to_path_buf(),
            text,
            raw,
            workload,
        })
    }

    /// The line of a value read from the file.
    pub(crate) fn line<T>(&self, v: &Spanned<T>) -> u32 {
        let start = v.span().start.min(self.text.len());
        self.text[..start].matches('\n').count() as u32 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_file_takes_the_scenario_keys_and_its_workload() {
        let text = "publish_mode = \"confirm\"\nack = \"manual\"\nprefetch = 10\n\n[workload]\nmessages = 300\n";
        let c = ClientFile::parse(Path::new("client.toml"), text.into()).unwrap();
        assert_eq!(c.workload.messages, 300);
        assert_eq!(c.line(c.raw.prefetch.as_ref().unwrap()), 3);
    }

    #[test]
    fn a_broker_key_in_the_client_file_is_refused_at_its_line() {
        let e = ClientFile::parse(
            Path::new("client.toml"),
            "ack = \"auto\"\ndurable = true\n".into(),
        )
        .err()
        .unwrap();
        assert_eq!((e.line, e.key.as_deref()), (Some(2), Some("durable")));
    }
}
