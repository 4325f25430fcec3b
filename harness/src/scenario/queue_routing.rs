//! The exchanges and bindings of `system = "queue"` scenarios
//! (`[[config.exchanges]]`, `[[config.bindings]]`) and where publishers
//! publish (`exchange`, `routing_keys`, `mandatory`), read into the
//! model's [`Topology`] and checked as RabbitMQ checks `exchange.declare`,
//! `queue.bind` and `basic.publish`.

use std::ops::Range;

use broker_model::queue::{Binding, Exchange, ExchangeType, PublishMode, Topology};
use schemars::JsonSchema;
use serde::Deserialize;

use super::error::{ErrAt, ScenarioError};
use super::spanned::{val, Spanned};

/// `[[config.exchanges]]`: an exchange declared with `exchange.declare`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExchange {
    /// Its name (not empty: that is the default exchange; not `amq.`…,
    /// which RabbitMQ reserves).
    pub name: Spanned<String>,
    /// How it matches routing keys against its bindings.
    #[serde(rename = "type")]
    pub kind: Spanned<RawExchangeType>,
    /// Where messages that match no binding go: another declared exchange.
    #[serde(rename = "alternate-exchange")]
    pub alternate_exchange: Option<Spanned<String>>,
}

/// An exchange's `type`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawExchangeType {
    /// To the queues bound with a key equal to the routing key.
    Direct,
    /// To every bound queue, whatever the routing key.
    Fanout,
    /// To the queues whose binding pattern matches the routing key: words
    /// split at `.`, `*` matching one word and `#` zero or more.
    Topic,
}

/// `[[config.bindings]]`: a binding made with `queue.bind`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBinding {
    /// The exchange, one of `[[config.exchanges]]`.
    pub exchange: Spanned<String>,
    /// The queue: `q0`, `q1`, … below `queues`.
    pub queue: Spanned<String>,
    /// The binding key (default ""; a fanout exchange ignores it).
    pub routing_key: Option<Spanned<String>>,
}

/// The index of queue `name` (`q0`, `q1`, …) among `queues` queues.
pub(crate) fn queue_index(name: &str, queues: u32) -> Result<u32, String> {
    name.strip_prefix('q')
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n < queues && name == format!("q{n}"))
        .ok_or_else(|| {
            format!(
                "`{name}` is not a queue: the queues are q0 to q{}",
                queues - 1
            )
        })
}

/// A `[config]`'s exchange, binding and publishing keys, as read.
pub(crate) struct RoutingKeys<'a> {
    pub(crate) exchanges: &'a [Spanned<RawExchange>],
    pub(crate) bindings: &'a [Spanned<RawBinding>],
    pub(crate) exchange: &'a Option<Spanned<String>>,
    pub(crate) routing_keys: &'a Option<Spanned<Vec<String>>>,
    pub(crate) mandatory: &'a Option<Spanned<bool>>,
}

/// The topology a file's `[config]` describes, for `queues` queues and
/// publishers in `publish_mode`.
pub(crate) fn topology(
    r: &RoutingKeys<'_>,
    queues: u32,
    publish_mode: PublishMode,
    at: impl Fn(&str) -> Option<Range<usize>>,
    err: &ErrAt,
) -> Result<Topology, ScenarioError> {
    let mut exchanges: Vec<Exchange> = Vec::new();
    for x in r.exchanges {
        let x = x.get_ref();
        let name = x.name.get_ref();
        let refuse = |m: String| Err(err(Some(x.name.span()), Some("name"), m));
        if name.is_empty() {
            return refuse(
                "an exchange needs a name: \"\" is the default exchange, which is \
                 predeclared"
                    .into(),
            );
        }
        if name.starts_with("amq.") {
            return refuse(format!(
                "`{name}`: RabbitMQ reserves exchange names starting with `amq.`"
            ));
        }
        if exchanges.iter().any(|e| e.name == *name) {
            return refuse(format!("exchange `{name}` is declared twice"));
        }
        exchanges.push(Exchange {
            name: name.clone(),
            kind: match x.kind.get_ref() {
                RawExchangeType::Direct => ExchangeType::Direct,
                RawExchangeType::Fanout => ExchangeType::Fanout,
                RawExchangeType::Topic => ExchangeType::Topic,
            },
            alternate_exchange: x.alternate_exchange.as_ref().map(|a| a.get_ref().clone()),
        });
    }
    let declared = |name: &str| exchanges.iter().any(|e| e.name == name);
    let names = || {
        let all: Vec<&str> = exchanges.iter().map(|e| e.name.as_str()).collect();
        if all.is_empty() {
            "none is declared in [[config.exchanges]]".to_string()
        } else {
            format!("declared: {}", all.join(", "))
        }
    };
    for x in r.exchanges {
        if let Some(a) = &x.get_ref().alternate_exchange {
            if !declared(a.get_ref()) {
                return Err(err(
                    Some(a.span()),
                    Some("alternate-exchange"),
                    format!(
                        "`alternate-exchange` names no declared exchange `{}` ({}): RabbitMQ \
                         would drop every message it should take as unroutable",
                        a.get_ref(),
                        names()
                    ),
                ));
            }
        }
    }
    let mut bindings = Vec::new();
    for b in r.bindings {
        let b = b.get_ref();
        let exchange = b.exchange.get_ref();
        if !declared(exchange) {
            let why = if exchange.is_empty() {
                "RabbitMQ refuses bindings to the default exchange".to_string()
            } else {
                format!("no exchange `{exchange}` ({})", names())
            };
            return Err(err(
                Some(b.exchange.span()),
                Some("exchange"),
                format!("a binding needs a declared exchange: {why}"),
            ));
        }
        let queue = queue_index(b.queue.get_ref(), queues)
            .map_err(|m| err(Some(b.queue.span()), Some("queue"), m))?;
        bindings.push(Binding {
            exchange: exchange.clone(),
            queue,
            routing_key: b
                .routing_key
                .as_ref()
                .map_or_else(String::new, |k| k.get_ref().clone()),
        });
    }
    let exchange = r.exchange.as_ref().map(|e| e.get_ref().clone());
    if let (Some(e), Some(name)) = (&r.exchange, &exchange) {
        if !declared(name) {
            return Err(err(
                Some(e.span()),
                Some("exchange"),
                format!(
                    "publishers would publish to no exchange `{name}` ({}); leave `exchange` \
                     unset for the default exchange",
                    names()
                ),
            ));
        }
    }
    let routing_keys = match &r.routing_keys {
        Some(keys) if exchange.is_none() => {
            return Err(err(
                Some(keys.span()),
                Some("routing_keys"),
                "`routing_keys` applies only with `exchange`: through the default exchange \
                 the routing key is the queue's name"
                    .into(),
            ))
        }
        Some(keys) if keys.get_ref().is_empty() => {
            return Err(err(
                Some(keys.span()),
                Some("routing_keys"),
                "`routing_keys` must list at least one key".into(),
            ))
        }
        Some(keys) => keys.get_ref().clone(),
        None => Vec::new(),
    };
    let mandatory = val(r.mandatory).unwrap_or(false);
    if r.mandatory.is_some() && publish_mode == PublishMode::FireAndForget {
        return Err(err(
            at("mandatory"),
            Some("mandatory"),
            "`mandatory` needs `publish_mode = \"confirm\"` or `\"transaction\"`: a \
             fire-and-forget publisher counts a message sent before any `basic.return` could \
             reach it"
                .into(),
        ));
    }
    Ok(Topology {
        exchanges,
        bindings,
        exchange,
        routing_keys,
        mandatory,
    })
}
