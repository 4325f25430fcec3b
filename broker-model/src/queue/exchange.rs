//! Exchanges and bindings: where a published message goes.
//!
//! A publisher publishes to an exchange with a routing key; the exchange
//! picks the queues whose bindings match the key ("direct": equal keys,
//! "fanout": every bound queue, "topic": RabbitMQ's patterns, where `*`
//! stands for one word and `#` for zero or more words, words being split
//! at `.`). A message no binding matches goes to the exchange's
//! `alternate-exchange`, if it has one; a message that routes to no queue
//! at all is unroutable. The default exchange (named `""`) routes a key to
//! the queue of that name, and takes no bindings.
//!
//! Bindings are cluster metadata: RabbitMQ keeps them in Mnesia,
//! replicated to every node, so every node routes by the same table. The
//! model keeps one table that every node reads (the configured bindings,
//! less those an operator removed, [`Unbound`]): routing never waits for a
//! node to learn of a change.
//!
//! Kept free of I/O so the routing rules can be tested on their own.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use crate::queue::names::queue_name;
use crate::queue::protocol::QueueId;

/// How an exchange matches routing keys against its bindings (`type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExchangeType {
    /// The binding key equals the routing key.
    Direct,
    /// Every bound queue, whatever the key.
    Fanout,
    /// The binding key is a pattern of `.`-separated words, `*` matching
    /// one word and `#` zero or more.
    Topic,
}

/// A declared exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Its name.
    pub name: String,
    /// `type`.
    pub kind: ExchangeType,
    /// `alternate-exchange`: where messages that match no binding go.
    pub alternate_exchange: Option<String>,
}

/// A binding of a queue to an exchange with a key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Binding {
    /// The exchange.
    pub exchange: String,
    /// The queue (`q0`, `q1`, …).
    pub queue: u32,
    /// The binding key (ignored by a fanout exchange).
    pub routing_key: String,
}

/// The exchanges and bindings of a cluster, and where its publishers
/// publish.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    /// Declared exchanges, besides the default exchange.
    pub exchanges: Vec<Exchange>,
    /// Bindings, in declaration order.
    pub bindings: Vec<Binding>,
    /// The exchange publishers publish to; `None` is the default exchange,
    /// with each message's queue name as its routing key.
    pub exchange: Option<String>,
    /// The routing keys publishers use in turn on a named exchange; empty
    /// is the queue names `q0..` in turn.
    pub routing_keys: Vec<String>,
    /// `mandatory` on `basic.publish`: the broker returns a message that
    /// routes to no queue (`basic.return`) before confirming it.
    pub mandatory: bool,
}

/// Where the exchanges sent a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Routed {
    /// To these queues, each once, in index order.
    Queues(Vec<QueueId>),
    /// To no queue.
    Unroutable,
}

impl Topology {
    /// The exchange named `name`, if declared.
    pub fn exchange(&self, name: &str) -> Option<&Exchange> {
        self.exchanges.iter().find(|e| e.name == name)
    }

    /// The routing key of the `n`th message (0-based) a publisher sends to
    /// a named exchange, with `queues` queues in the cluster.
    pub fn routing_key(&self, n: u64, queues: u32) -> String {
        if self.routing_keys.is_empty() {
            queue_name((n % u64::from(queues)) as u32)
        } else {
            self.routing_keys[(n % self.routing_keys.len() as u64) as usize].clone()
        }
    }

    /// Routes a message published to `exchange` with `key`, among
    /// `queues` queues, by the bindings for which `bound` holds: through
    /// the exchange, then its alternate exchanges while nothing matched
    /// (each at most once, so a cycle of alternates ends).
    pub(crate) fn route(
        &self,
        exchange: &str,
        key: &str,
        queues: u32,
        bound: impl Fn(&Binding) -> bool,
    ) -> Routed {
        let mut visited = BTreeSet::new();
        let mut name = exchange;
        while visited.insert(name) {
            let matched: BTreeSet<QueueId> = if name.is_empty() {
                (0..queues).filter(|q| queue_name(*q) == key).collect()
            } else {
                let Some(x) = self.exchange(name) else {
                    return Routed::Unroutable;
                };
                self.bindings
                    .iter()
                    .filter(|b| {
                        b.exchange == name && bound(b) && matches(x.kind, &b.routing_key, key)
                    })
                    .map(|b| b.queue)
                    .collect()
            };
            if !matched.is_empty() {
                return Routed::Queues(matched.into_iter().collect());
            }
            match self
                .exchange(name)
                .and_then(|x| x.alternate_exchange.as_deref())
            {
                Some(alternate) => name = alternate,
                None => break,
            }
        }
        Routed::Unroutable
    }
}

/// Whether binding key `binding` of an exchange of type `kind` matches
/// routing key `key`.
fn matches(kind: ExchangeType, binding: &str, key: &str) -> bool {
    match kind {
        ExchangeType::Direct => binding == key,
        ExchangeType::Fanout => true,
        ExchangeType::Topic => topic_matches(binding, key),
    }
}

/// RabbitMQ's topic matching: `pattern` and `key` are words split at `.`;
/// `*` in the pattern matches exactly one word, `#` zero or more.
pub(crate) fn topic_matches(pattern: &str, key: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('.').collect();
    let key: Vec<&str> = key.split('.').collect();
    words_match(&pattern, &key)
}

fn words_match(pattern: &[&str], key: &[&str]) -> bool {
    match pattern.split_first() {
        None => key.is_empty(),
        Some((&"#", rest)) => (0..=key.len()).any(|skip| words_match(rest, &key[skip..])),
        Some((word, rest)) => match key.split_first() {
            Some((k, krest)) => (*word == "*" || word == k) && words_match(rest, krest),
            None => false,
        },
    }
}

/// The bindings an operator removed (`queue.unbind`) and has not put back
/// yet, shared by every node of the cluster and by whoever removes them.
/// Removals are counted, so that two overlapping removals of one binding
/// leave it removed until both are undone.
#[derive(Clone, Debug, Default)]
pub struct Unbound(Rc<RefCell<BTreeMap<Binding, u32>>>);

impl Unbound {
    /// Removes `binding` from the table.
    pub fn unbind(&self, binding: &Binding) {
        *self.0.borrow_mut().entry(binding.clone()).or_default() += 1;
    }

    /// Puts `binding` back, once every removal of it is undone.
    pub fn rebind(&self, binding: &Binding) {
        let mut removed = self.0.borrow_mut();
        if let Some(n) = removed.get_mut(binding) {
            *n -= 1;
            if *n == 0 {
                removed.remove(binding);
            }
        }
    }

    /// Whether `binding` is in the table now.
    pub(crate) fn is_bound(&self, binding: &Binding) -> bool {
        !self.0.borrow().contains_key(binding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(name: &str, kind: ExchangeType, alternate: Option<&str>) -> Exchange {
        Exchange {
            name: name.into(),
            kind,
            alternate_exchange: alternate.map(Into::into),
        }
    }

    fn bind(exchange: &str, queue: u32, key: &str) -> Binding {
        Binding {
            exchange: exchange.into(),
            queue,
            routing_key: key.into(),
        }
    }

    fn topology(exchanges: Vec<Exchange>, bindings: Vec<Binding>) -> Topology {
        Topology {
            exchanges,
            bindings,
            ..Topology::default()
        }
    }

    #[test]
    fn a_star_matches_exactly_one_word_and_a_hash_zero_or_more() {
        assert!(topic_matches("orders.*", "orders.eu"));
        assert!(!topic_matches("orders.*", "orders"));
        assert!(!topic_matches("orders.*", "orders.eu.paid"));
        assert!(topic_matches("orders.#", "orders"));
        assert!(topic_matches("orders.#", "orders.eu.paid"));
        assert!(topic_matches("#.paid", "paid"));
        assert!(topic_matches("#.paid", "orders.eu.paid"));
        assert!(topic_matches("*.eu.#", "orders.eu"));
        assert!(!topic_matches("*.eu.#", "eu"));
        assert!(topic_matches("#", ""));
        assert!(topic_matches("a.#.b.#.c", "a.x.b.y.z.c"));
        assert!(!topic_matches("orders.eu", "orders.us"));
    }

    #[test]
    fn a_direct_exchange_routes_to_queues_bound_with_the_same_key() {
        let t = topology(
            vec![exchange("orders", ExchangeType::Direct, None)],
            vec![
                bind("orders", 0, "q0"),
                bind("orders", 1, "q0"),
                bind("orders", 2, "q2"),
            ],
        );
        assert_eq!(
            t.route("orders", "q0", 3, |_| true),
            Routed::Queues(vec![0, 1])
        );
        assert_eq!(t.route("orders", "q1", 3, |_| true), Routed::Unroutable);
    }

    #[test]
    fn a_fanout_exchange_routes_to_every_bound_queue_whatever_the_key() {
        let t = topology(
            vec![exchange("all", ExchangeType::Fanout, None)],
            vec![bind("all", 2, "x"), bind("all", 0, "")],
        );
        assert_eq!(
            t.route("all", "anything", 3, |_| true),
            Routed::Queues(vec![0, 2])
        );
    }

    #[test]
    fn the_default_exchange_routes_a_key_to_the_queue_of_that_name() {
        let t = Topology::default();
        assert_eq!(t.route("", "q1", 2, |_| true), Routed::Queues(vec![1]));
        assert_eq!(t.route("", "q2", 2, |_| true), Routed::Unroutable);
    }

    #[test]
    fn a_message_no_binding_matches_goes_to_the_alternate_exchange() {
        let t = topology(
            vec![
                exchange("orders", ExchangeType::Direct, Some("unrouted")),
                exchange("unrouted", ExchangeType::Fanout, None),
            ],
            vec![bind("orders", 0, "q0"), bind("unrouted", 1, "")],
        );
        assert_eq!(
            t.route("orders", "q0", 2, |_| true),
            Routed::Queues(vec![0])
        );
        assert_eq!(
            t.route("orders", "q5", 2, |_| true),
            Routed::Queues(vec![1])
        );
    }

    #[test]
    fn a_cycle_of_alternate_exchanges_ends_unroutable() {
        let t = topology(
            vec![
                exchange("a", ExchangeType::Direct, Some("b")),
                exchange("b", ExchangeType::Direct, Some("a")),
            ],
            vec![],
        );
        assert_eq!(t.route("a", "k", 1, |_| true), Routed::Unroutable);
    }

    #[test]
    fn a_removed_binding_routes_nothing_until_it_is_put_back() {
        let t = topology(
            vec![exchange("orders", ExchangeType::Direct, None)],
            vec![bind("orders", 0, "q0")],
        );
        let unbound = Unbound::default();
        let binding = bind("orders", 0, "q0");
        unbound.unbind(&binding);
        unbound.unbind(&binding);
        assert_eq!(
            t.route("orders", "q0", 1, |b| unbound.is_bound(b)),
            Routed::Unroutable
        );
        unbound.rebind(&binding);
        assert!(!unbound.is_bound(&binding), "one removal is still in force");
        unbound.rebind(&binding);
        assert_eq!(
            t.route("orders", "q0", 1, |b| unbound.is_bound(b)),
            Routed::Queues(vec![0])
        );
    }

    #[test]
    fn publishers_use_the_queue_names_in_turn_unless_given_keys() {
        let mut t = Topology::default();
        assert_eq!(t.routing_key(3, 2), "q1");
        t.routing_keys = vec!["a".into(), "b".into()];
        assert_eq!(t.routing_key(2, 2), "a");
    }
}
