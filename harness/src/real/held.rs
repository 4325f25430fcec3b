//! What each consumer process holds: deliveries it received and has not
//! yet processed or handed back. A crash, injected or of the application,
//! ends the process and everything it held.

use std::collections::BTreeMap;

use broker_model::{Event, EventKind};

/// Deliveries held per consumer host, read from the history in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Held(BTreeMap<String, u64>);

impl Held {
    /// Takes `e` into account.
    pub(crate) fn read(&mut self, e: &Event) {
        match &e.kind {
            EventKind::Receive { .. } => *self.0.entry(e.host.clone()).or_default() += 1,
            EventKind::Processed { .. } | EventKind::Reject { .. } => {
                if let Some(n) = self.0.get_mut(&e.host) {
                    *n = n.saturating_sub(1);
                }
            }
            EventKind::Crash { .. } => {
                self.0.remove(&e.host);
            }
            EventKind::Fault { action, hosts, .. } if action == "crash" => {
                for host in hosts {
                    self.0.remove(host);
                }
            }
            _ => {}
        }
    }

    /// The held deliveries of every history event of `events`.
    pub(crate) fn of(events: &[Event]) -> Self {
        let mut held = Held::default();
        for e in events {
            held.read(e);
        }
        held
    }

    /// Deliveries held by every consumer together.
    pub(crate) fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_model::MsgId;

    fn at(host: &str, kind: EventKind) -> Event {
        Event {
            at_us: 0,
            host: host.into(),
            kind,
        }
    }

    fn receive(n: u32) -> EventKind {
        EventKind::Receive {
            msg: MsgId::new(1, n),
            dest: "q0".into(),
            offset: None,
            redelivered: false,
        }
    }

    #[test]
    fn a_consumer_holds_what_it_received_and_did_not_process() {
        let held = Held::of(&[
            at("consumer-1", receive(0)),
            at("consumer-1", receive(1)),
            at(
                "consumer-1",
                EventKind::Processed {
                    msg: MsgId::new(1, 0),
                    dead_lettered: false,
                },
            ),
        ]);
        assert_eq!(held.total(), 1);
    }

    #[test]
    fn a_crash_empties_the_consumers_buffer() {
        let injected = Held::of(&[
            at("consumer-1", receive(0)),
            at(
                "nemesis",
                EventKind::Fault {
                    action: "crash".into(),
                    hosts: vec!["consumer-1".into()],
                    detail: String::new(),
                },
            ),
        ]);
        assert_eq!(injected.total(), 0);
        let poisoned = Held::of(&[
            at("consumer-1", receive(0)),
            at("consumer-1", receive(1)),
            at(
                "consumer-1",
                EventKind::Crash {
                    msg: MsgId::new(1, 0),
                },
            ),
        ]);
        assert_eq!(poisoned.total(), 0);
    }
}
