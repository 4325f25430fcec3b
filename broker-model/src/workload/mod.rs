//! What the clients do: how many messages, how fast, how slow to process;
//! and the parts of a client that are the same in both models: start-up
//! ([`start`]), the paced sending of a producer ([`pace`]) and the
//! application behind a consumer ([`application`]).

pub(crate) mod application;
pub(crate) mod pace;
pub(crate) mod poison;

use std::io;
use std::rc::Rc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::process::ProcessTable;
use crate::wire::{Endpoint, Incoming};
pub use poison::{is_poison, PoisonAction};

/// The client workload of a run, shared by every system model.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// Producer hosts (`producer-1..`).
    pub producers: u32,
    /// Consumer hosts (`consumer-1..`).
    pub consumers: u32,
    /// Messages sent in total, split evenly across producers.
    pub messages: u32,
    /// Messages per simulated second, summed over producers.
    pub rate: f64,
    /// Simulated time a consumer spends processing one message, so that a
    /// crash can land between receiving a message and acknowledging it.
    pub processing_time: Duration,
    /// The size of one message, which size limits count.
    pub message_bytes: u32,
    /// When the consumers first start, in simulated time from the start of
    /// the run: a consumer group that joins after the producers began.
    pub consumer_start: Duration,
    /// The share of messages (0 to 1) a consumer's application cannot
    /// process: poison messages, which it rejects with `requeue = true`.
    pub poison: f64,
    /// What the application does with a poison message.
    pub poison_action: PoisonAction,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            producers: 1,
            consumers: 1,
            messages: 200,
            rate: 100.0,
            processing_time: Duration::from_millis(5),
            message_bytes: 100,
            consumer_start: Duration::ZERO,
            poison: 0.0,
            poison_action: PoisonAction::Reject,
        }
    }
}

impl Workload {
    /// How many messages producer `index` (1-based) sends.
    pub(crate) fn messages_for(&self, index: u32) -> u32 {
        let base = self.messages / self.producers;
        let extra = u32::from(index <= self.messages % self.producers);
        base + extra
    }

    /// Gap between two sends of one producer.
    pub(crate) fn send_interval(&self) -> Duration {
        Duration::from_secs_f64(self.producers as f64 / self.rate)
    }
}

/// Starts client `host`'s process: waits while the harness holds it
/// stopped, then binds its socket.
pub(crate) async fn start<Q, R>(
    processes: &ProcessTable,
    host: &str,
) -> io::Result<(Rc<Endpoint<Q, R>>, UnboundedReceiver<Incoming<Q>>)>
where
    Q: Serialize + DeserializeOwned + 'static,
    R: Serialize + DeserializeOwned + 'static,
{
    processes.wait_until_started(host).await;
    Endpoint::bind().await
}

/// Host name of producer `index` (1-based).
pub fn producer_host(index: u32) -> String {
    format!("producer-{index}")
}

/// Host name of consumer `index` (1-based).
pub fn consumer_host(index: u32) -> String {
    format!("consumer-{index}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_split_evenly_with_remainder_first() {
        let w = Workload {
            producers: 3,
            messages: 10,
            ..Workload::default()
        };
        let split: Vec<u32> = (1..=3).map(|i| w.messages_for(i)).collect();
        assert_eq!(split, vec![4, 3, 3]);
        assert_eq!(w.send_interval(), Duration::from_millis(30));
    }
}
