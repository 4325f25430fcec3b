//! The exchanges and bindings a target's queues need: the bindings to its
//! queues, the exchanges they bind from, the exchange the client publishes
//! to, the dead-letter exchange, and their alternate exchanges. The model
//! names its queues `q0..` in the target's order, so bindings and a
//! dead-letter routing key naming one of them are renamed.

use crate::audit::deployment::NotModelled;
use crate::audit::error::ReadError;
use crate::audit::rabbitmq::context::Context;
use crate::audit::rabbitmq::definitions::ExchangeDef;
use crate::audit::rabbitmq::effective::{note, QueueView};
use crate::audit::rabbitmq::policy::{self, Entity};
use crate::audit::tags::{Place, Tags};
use crate::scenario::queue_config::RawQueueConfig;
use crate::scenario::queue_routing::{RawBinding, RawExchange, RawExchangeType};
use crate::scenario::spanned::Spanned;

/// Fills `raw`'s exchanges and bindings for the queues of `group`.
pub(crate) fn topology(
    cx: &Context,
    group: &[QueueView],
    tags: &mut Tags,
    raw: &mut RawQueueConfig,
    not_modelled: &mut Vec<NotModelled>,
) -> Result<(), ReadError> {
    let file = cx.file;
    let defs = &file.definitions;
    let vhost = &group[0].vhost;
    let index = |name: &str| group.iter().position(|q| q.name == name);
    let bindings_line = file.line_of("bindings", None, None);
    let place = |line: u32| Place {
        path: file.path.clone(),
        line: Some(line),
    };
    let mut needed: Vec<String> = Vec::new();
    for b in defs.bindings.iter().filter(|b| b.vhost == *vhost) {
        if b.destination_type != "queue" {
            note(
                not_modelled,
                file,
                "exchange-to-exchange bindings",
                bindings_line,
            );
            continue;
        }
        let Some(i) = index(&b.destination) else {
            continue;
        };
        if b.source.starts_with("amq.") {
            note(
                not_modelled,
                file,
                &format!("bindings from {}", b.source),
                bindings_line,
            );
            continue;
        }
        let line = file.line_of("bindings", Some(&b.destination), None);
        let binding = RawBinding {
            exchange: tags.mark("source", place(line), b.source.clone()),
            queue: tags.mark("destination", place(line), format!("q{i}")),
            routing_key: Some(tags.mark("routing_key", place(line), b.routing_key.clone())),
        };
        raw.bindings
            .push(tags.mark("bindings", place(line), binding));
        needed.push(b.source.clone());
    }
    needed.extend(raw.exchange.as_ref().map(|e| e.get_ref().clone()));
    if let Some(dlx) = &raw.dead_letter_exchange {
        if dlx.get_ref().is_empty() {
            rename_dead_letter_key(raw, group);
        } else {
            needed.push(dlx.get_ref().clone());
        }
    }

    let mut declared: Vec<String> = Vec::new();
    while let Some(name) = needed.pop() {
        if declared.contains(&name) {
            continue;
        }
        let Some(x) = defs
            .exchanges
            .iter()
            .find(|x| x.name == name && x.vhost == *vhost)
        else {
            continue;
        };
        declared.push(name);
        let exchange = exchange(cx, x, tags)?;
        needed.extend(
            exchange
                .alternate_exchange
                .as_ref()
                .map(|a| a.get_ref().clone()),
        );
        let line = file.line_of("exchanges", Some(&x.name), None);
        raw.exchanges
            .push(tags.mark("exchanges", place(line), exchange));
    }
    Ok(())
}

/// One exchange; its `alternate-exchange` from its arguments, else from the
/// policy that applies to it (`rabbit_policy:get_arg/3`: the argument
/// first).
fn exchange(cx: &Context, x: &ExchangeDef, tags: &mut Tags) -> Result<RawExchange, ReadError> {
    let file = cx.file;
    let line = |key: &str| file.line_of("exchanges", Some(&x.name), Some(key));
    let place = |line: u32| Place {
        path: file.path.clone(),
        line: Some(line),
    };
    let kind = match x.kind.as_str() {
        "direct" => RawExchangeType::Direct,
        "fanout" => RawExchangeType::Fanout,
        "topic" => RawExchangeType::Topic,
        other => {
            return Err(file.error(
                "exchanges",
                &x.name,
                "type",
                format!(
                    "exchange `{}` of type `{other}` cannot be audited: the model has direct, \
                     fanout and topic exchanges",
                    x.name
                ),
            ))
        }
    };
    let alternate: Option<Spanned<String>> = match x.arguments.get("alternate-exchange") {
        Some(v) => v.as_str().map(|a| {
            tags.mark(
                "alternate-exchange",
                place(line("alternate-exchange")),
                a.to_string(),
            )
        }),
        None => policy::matching(cx.policies, &x.vhost, &x.name, Entity::Exchange).and_then(|p| {
            let a = p.def.definition.get("alternate-exchange")?.as_str()?;
            let l = file.line_of("policies", Some(&p.def.name), Some("alternate-exchange"));
            Some(tags.mark("alternate-exchange", place(l), a.to_string()))
        }),
    };
    Ok(RawExchange {
        name: tags.mark("name", place(line("name")), x.name.clone()),
        kind: tags.mark("type", place(line("type")), kind),
        alternate_exchange: alternate,
    })
}

/// Through the default exchange, a dead-letter routing key names a queue:
/// one of the target's is renamed as the model names it.
fn rename_dead_letter_key(raw: &mut RawQueueConfig, group: &[QueueView]) {
    if let Some(key) = &raw.dead_letter_routing_key {
        if let Some(i) = group.iter().position(|q| q.name == *key.get_ref()) {
            raw.dead_letter_routing_key = Some(Spanned::new(key.span(), format!("q{i}")));
        }
    }
}
