//! A queue's effective settings: its own `x-` arguments combined with the
//! policy and operator policy that apply to it, key by key, as the queue
//! types do it (`process_args_policy/1` in `rabbit_amqqueue_process.erl`
//! for classic queues, `gather_policy_config/2` and
//! `dead_letter_handler/2` in `rabbit_quorum_queue.erl`, both through
//! `rabbit_queue_type_util:args_policy_lookup/3`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::audit::deployment::NotModelled;
use crate::audit::error::ReadError;
use crate::audit::origin::Origin;
use crate::audit::rabbitmq::definitions::{DefinitionsFile, QueueDef};
use crate::audit::rabbitmq::policy::{self, Entity, Kind, Policy, PolicyValue};
use crate::audit::tags::Place;

/// The version the queue defaults come from.
pub(crate) const RABBITMQ: &str = "RabbitMQ 4.0";
/// The protocol's own defaults (`queue.declare`'s `durable`).
pub(crate) const AMQP: &str = "AMQP 0-9-1";

/// How a queue argument and a policy value of one key combine.
#[derive(Clone, Copy)]
enum Resolve {
    /// `res_min`/`fun min/2`: the lesser.
    Min,
    /// `res_arg`/`queue_arg_has_precedence`: the argument.
    Argument,
    /// The argument for classic queues (`res_arg`), the policy for quorum
    /// queues (`policy_has_precedence`): `overflow`.
    Overflow,
    /// `resolve_delivery_limit/2`: the greater if either is negative (no
    /// limit), else the lesser.
    DeliveryLimit,
    /// A policy key only (classic mirrored queues, RabbitMQ 3.13).
    PolicyOnly,
}

/// The keys the model has: the policy key, the queue argument, the rule.
const KEYS: &[(&str, &str, Resolve)] = &[
    ("max-length", "x-max-length", Resolve::Min),
    ("max-length-bytes", "x-max-length-bytes", Resolve::Min),
    ("overflow", "x-overflow", Resolve::Overflow),
    ("message-ttl", "x-message-ttl", Resolve::Min),
    ("expires", "x-expires", Resolve::Min),
    (
        "dead-letter-exchange",
        "x-dead-letter-exchange",
        Resolve::Argument,
    ),
    (
        "dead-letter-routing-key",
        "x-dead-letter-routing-key",
        Resolve::Argument,
    ),
    (
        "dead-letter-strategy",
        "x-dead-letter-strategy",
        Resolve::Argument,
    ),
    ("delivery-limit", "x-delivery-limit", Resolve::DeliveryLimit),
    ("ha-mode", "", Resolve::PolicyOnly),
    ("ha-params", "", Resolve::PolicyOnly),
    ("ha-sync-mode", "", Resolve::PolicyOnly),
    ("ha-promote-on-failure", "", Resolve::PolicyOnly),
    ("ha-promote-on-shutdown", "", Resolve::PolicyOnly),
];

/// One effective setting, with the key as the file names it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Setting {
    pub(crate) shown: String,
    pub(crate) value: Value,
    pub(crate) origin: Origin,
    pub(crate) place: Place,
}

/// The type of a queue declared without `x-queue-type`
/// (`rabbit_amqqueue:declare/7`): its vhost's `default_queue_type`, else
/// the node's (`default_queue_type` in `rabbitmq.conf`), else classic.
#[derive(Clone, Debug)]
pub(crate) struct DefaultType {
    pub(crate) name: String,
    pub(crate) origin: Origin,
    pub(crate) place: Place,
}

/// A queue as it runs.
#[derive(Clone, Debug)]
pub(crate) struct QueueView {
    pub(crate) name: String,
    pub(crate) vhost: String,
    pub(crate) kind: Kind,
    /// `x-queue-type` and `durable`, then the keys of [`KEYS`] set, under
    /// their policy names, and `x-quorum-initial-group-size`.
    pub(crate) settings: BTreeMap<String, Setting>,
}

/// The queue's type, its own `x-queue-type` or `default`: `None` for a
/// stream, which the model does not have.
pub(crate) fn kind(
    file: &DefinitionsFile,
    q: &QueueDef,
    default: &DefaultType,
) -> Result<Option<Kind>, ReadError> {
    let given = q.arguments.get("x-queue-type");
    let name = match given {
        None => default.name.as_str(),
        Some(v) => v.as_str().unwrap_or(""),
    };
    match name {
        "classic" | "rabbit_classic_queue" => Ok(Some(Kind::Classic)),
        "quorum" | "rabbit_quorum_queue" => Ok(Some(Kind::Quorum)),
        "stream" | "rabbit_stream_queue" => Ok(None),
        _ if given.is_none() => Err(ReadError {
            path: default.place.path.clone(),
            line: default.place.line,
            key: Some("default_queue_type".into()),
            message: format!(
                "`default_queue_type` = `{name}` is refused by RabbitMQ: it must be classic, \
                 quorum or stream"
            ),
        }),
        _ => Err(file.error(
            "queues",
            &q.name,
            "x-queue-type",
            format!(
                "`x-queue-type` = {} is refused by RabbitMQ: it must be classic, quorum or stream",
                given.map_or_else(String::new, |v| v.to_string())
            ),
        )),
    }
}

/// The effective settings of queue `q` of type `kind`; keys the model does
/// not use go to `not_modelled`.
pub(crate) fn queue(
    file: &DefinitionsFile,
    q: &QueueDef,
    kind: Kind,
    default: &DefaultType,
    policies: &[Policy],
    operator: &[Policy],
    not_modelled: &mut Vec<NotModelled>,
) -> Result<QueueView, ReadError> {
    let p = policy::matching(policies, &q.vhost, &q.name, Entity::Queue(kind));
    let op = policy::matching(operator, &q.vhost, &q.name, Entity::Queue(kind));
    let policy = policy::effective(p, op);
    let arg_origin = || Origin::QueueArgument {
        path: file.path.clone(),
        queue: q.name.clone(),
    };
    let arg_line = |key: &str| file.line_of("queues", Some(&q.name), Some(key));
    let here = |line: u32| Place {
        path: file.path.clone(),
        line: Some(line),
    };
    let mut settings = BTreeMap::new();
    let (type_origin, type_place) = match q.arguments.get("x-queue-type") {
        Some(_) => (arg_origin(), here(arg_line("x-queue-type"))),
        None => (default.origin.clone(), default.place.clone()),
    };
    let type_name = match kind {
        Kind::Classic => "classic",
        Kind::Quorum => "quorum",
    };
    settings.insert(
        "x-queue-type".to_string(),
        setting("x-queue-type", type_name.into(), type_origin, type_place),
    );
    let durable = match q.durable {
        Some(d) => setting("durable", d.into(), arg_origin(), here(arg_line("durable"))),
        None => setting(
            "durable",
            false.into(),
            Origin::Default(AMQP),
            here(arg_line("name")),
        ),
    };
    settings.insert("durable".to_string(), durable);
    if let Some(v) = q.arguments.get("x-quorum-initial-group-size") {
        let key = "x-quorum-initial-group-size";
        check(key, v).map_err(|m| file.error("queues", &q.name, key, m))?;
        settings.insert(
            key.to_string(),
            setting(key, v.clone(), arg_origin(), here(arg_line(key))),
        );
    }

    for &(key, arg, rule) in KEYS {
        let from_arg = (!arg.is_empty()).then(|| q.arguments.get(arg)).flatten();
        if let Some(v) = from_arg {
            check(key, v).map_err(|m| file.error("queues", &q.name, arg, m))?;
        }
        let from_policy = policy.get(key);
        if let Some(pv) = from_policy {
            check(key, &pv.value).map_err(|m| policy_error(file, pv, key, m))?;
        }
        let arg_wins = match (from_arg, from_policy) {
            (None, None) => continue,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(a), Some(pv)) => match rule {
                Resolve::Min => a.as_i64() <= pv.value.as_i64(),
                Resolve::Argument => true,
                Resolve::Overflow => kind == Kind::Classic,
                Resolve::DeliveryLimit => {
                    let (a, p) = (a.as_i64(), pv.value.as_i64());
                    if a < Some(0) || p < Some(0) {
                        a >= p
                    } else {
                        a <= p
                    }
                }
                Resolve::PolicyOnly => false,
            },
        };
        let s = match (arg_wins, from_arg, from_policy) {
            (true, Some(v), _) => setting(arg, v.clone(), arg_origin(), here(arg_line(arg))),
            (_, _, Some(pv)) => setting(
                key,
                pv.value.clone(),
                pv.from.clone(),
                here(policy_line(file, pv, key)),
            ),
            _ => continue,
        };
        settings.insert(key.to_string(), s);
    }

    let modelled_arg = |a: &str| {
        matches!(a, "x-queue-type" | "x-quorum-initial-group-size") || KEYS.iter().any(|k| k.1 == a)
    };
    for a in q.arguments.keys().filter(|a| !modelled_arg(a)) {
        note(not_modelled, file, a, arg_line(a));
    }
    if q.auto_delete {
        note(not_modelled, file, "auto_delete", arg_line("auto_delete"));
    }
    for (k, pv) in &policy {
        if !KEYS.iter().any(|m| m.0 == k) {
            note(not_modelled, file, k, policy_line(file, pv, k));
        }
    }
    Ok(QueueView {
        name: q.name.clone(),
        vhost: q.vhost.clone(),
        kind,
        settings,
    })
}

fn setting(shown: &str, value: Value, origin: Origin, place: Place) -> Setting {
    Setting {
        shown: shown.to_string(),
        value,
        origin,
        place,
    }
}

fn policy_line(file: &DefinitionsFile, pv: &PolicyValue, key: &str) -> u32 {
    let section = if pv.operator {
        "operator_policies"
    } else {
        "policies"
    };
    file.line_of(section, Some(&pv.policy), Some(key))
}

fn policy_error(file: &DefinitionsFile, pv: &PolicyValue, key: &str, m: String) -> ReadError {
    let line = policy_line(file, pv, key);
    crate::audit::error::ReadError::at(&file.path, line, key, m)
}

/// Lists `key` as not modelled, once.
pub(crate) fn note(out: &mut Vec<NotModelled>, file: &DefinitionsFile, key: &str, line: u32) {
    if !out.iter().any(|n| n.key == key && n.path == file.path) {
        out.push(NotModelled {
            path: file.path.clone(),
            line,
            key: key.to_string(),
        });
    }
}

/// The values RabbitMQ's validators accept (`rabbit_policies:
/// validate_policy0/2`; the same for `x-` arguments at `queue.declare`).
fn check(key: &str, v: &Value) -> Result<(), String> {
    let int = |min: i64| match v.as_i64() {
        Some(n) if n >= min => Ok(()),
        _ => Err(format!(
            "`{key}` = {v} is refused by RabbitMQ: it must be a whole number of at least {min}"
        )),
    };
    match key {
        "max-length" | "max-length-bytes" | "message-ttl" => int(0),
        // `ha-mode = nodes` takes a list of nodes, which the model has not.
        "ha-params" if v.is_array() => Ok(()),
        "expires" | "x-quorum-initial-group-size" | "ha-params" => int(1),
        "delivery-limit" => int(i64::MIN),
        _ if v.is_string() => Ok(()),
        _ => Err(format!(
            "`{key}` = {v} is refused by RabbitMQ: it must be a string"
        )),
    }
}
