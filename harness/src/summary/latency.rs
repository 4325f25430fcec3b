//! A run's send-to-acknowledgement latencies, for the scenario's pooled
//! percentiles.

use std::collections::BTreeMap;

use broker_model::{Event, EventKind, MsgId};
use reports::AckLatency;

/// The latency of every acknowledged message of `events`, from its first
/// send to its first acknowledgement (as the series plots it).
pub(super) fn ack_latency(events: &[Event]) -> AckLatency {
    let mut sent: BTreeMap<MsgId, Option<u64>> = BTreeMap::new();
    let mut out = AckLatency::default();
    for e in events {
        match &e.kind {
            EventKind::Send { msg, .. } => {
                sent.entry(*msg).or_insert(Some(e.at_us));
            }
            EventKind::SendOk { msg, .. } => {
                if let Some(at) = sent.get_mut(msg).and_then(Option::take) {
                    out.record(e.at_us - at);
                }
            }
            _ => {}
        }
    }
    out
}
