//! A scenario's configuration as the reports show it: every `[config]`
//! setting under the name scenario files use, defaults included.

mod label;
mod log;
mod queue;

use super::model::{Scenario, Setting, System};

pub(crate) use log::log_defaults;
use log::{log_label, log_settings};
pub(crate) use queue::queue_defaults;
use queue::{queue_label, queue_settings};

impl Scenario {
    /// Every `[config]` setting, defaults included.
    pub(crate) fn settings(&self) -> Vec<Setting> {
        match &self.system {
            System::Log(c) => log_settings(c),
            System::Queue(c) => queue_settings(c),
        }
    }

    /// The configuration as `key = value` text pairs, for reports.
    pub(crate) fn config_lines(&self) -> Vec<(String, String)> {
        self.settings()
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    Some(toml::Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => "unset".into(),
                };
                (k.to_string(), text)
            })
            .collect()
    }

    /// The configuration in one line: the system and the settings that
    /// decide what survives a fault, then any other non-default setting.
    pub(crate) fn configuration_label(&self) -> String {
        match &self.system {
            System::Log(c) => log_label(c),
            System::Queue(c) => queue_label(c),
        }
    }
}
