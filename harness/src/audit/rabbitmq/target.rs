//! Queues with one effective configuration into one target: the raw
//! `[config]` of a queue scenario, filled from the queues' settings, the
//! client and the cluster, and checked by the scenario parser.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::audit::deployment::{NotModelled, Target};
use crate::audit::error::ReadError;
use crate::audit::origin::Origin;
use crate::audit::rabbitmq::client_settings;
use crate::audit::rabbitmq::context::{Context, Valued};
use crate::audit::rabbitmq::effective::{QueueView, Setting, RABBITMQ};
use crate::audit::rabbitmq::policy::Kind;
use crate::audit::rabbitmq::topology;
use crate::audit::tags::{Place, Tags};
use crate::audit::time_scale::scaled_ms;
use crate::scenario::queue_config::{self, RawQueueConfig, RawQueueType};
use crate::scenario::spanned::Spanned;
use crate::scenario::System;

/// The default `delivery-limit` of quorum queues since RabbitMQ 4.0
/// (`?DEFAULT_DELIVERY_LIMIT` in `rabbit_quorum_queue.erl`).
const DEFAULT_DELIVERY_LIMIT: u32 = 20;
/// The default initial group size of quorum queues (`quorum_cluster_size`).
const DEFAULT_QUORUM_SIZE: u32 = 3;

/// The target of `group`, queues of one effective configuration.
pub(crate) fn target(
    cx: &Context,
    group: &[QueueView],
    not_modelled: &mut Vec<NotModelled>,
) -> Result<Target, ReadError> {
    let first = &group[0];
    let mut tags = Tags::new(&cx.file.path);
    let mut raw = RawQueueConfig {
        nodes: Some(valued(&mut tags, "nodes", &cx.cluster.nodes)),
        queues: Some(tags.whole(group.len() as u32)),
        ..RawQueueConfig::default()
    };
    queue_settings(cx, &mut tags, &mut raw, first)?;
    client_settings::client(cx.client, cx.cluster, &mut tags, &mut raw);
    raw.cluster_partition_handling = Some(valued(
        &mut tags,
        "cluster_partition_handling",
        &cx.cluster.partition_handling,
    ));
    topology::topology(cx, group, &mut tags, &mut raw, not_modelled)?;

    let message_bytes = cx.client.workload.message_bytes;
    let whole = tags.whole(raw);
    let config = queue_config::convert(Some(&whole), message_bytes, &Tags::scenario_error)
        .map_err(|e| tags.audit_error(e))?;
    let name = group
        .iter()
        .map(display_name)
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Target {
        name,
        system: System::Queue(config),
        workload: cx.client.workload.clone(),
        settings: tags.settings,
    })
}

fn display_name(q: &QueueView) -> String {
    if q.vhost == "/" {
        q.name.clone()
    } else {
        format!("{}/{}", q.vhost, q.name)
    }
}

/// `v` tagged as setting `key`.
pub(crate) fn valued<T: Clone>(tags: &mut Tags, key: &str, v: &Valued<T>) -> Spanned<T> {
    tags.tag(
        key,
        &v.text,
        v.origin.clone(),
        v.place.clone(),
        v.value.clone(),
    )
}

/// The queue's own settings: type, durability, mirroring, limits,
/// dead-lettering.
fn queue_settings(
    cx: &Context,
    tags: &mut Tags,
    raw: &mut RawQueueConfig,
    q: &QueueView,
) -> Result<(), ReadError> {
    let file = cx.file;
    let put = |key: &str| -> Option<(&Setting, Place)> {
        let s = q.settings.get(key)?;
        Some((s, s.place.clone()))
    };
    let mirrored = q.kind == Kind::Classic && q.settings.contains_key("ha-mode");
    if let Some((s, place)) = put("x-queue-type") {
        let (kind, text) = match (q.kind, mirrored) {
            (Kind::Quorum, _) => (RawQueueType::Quorum, "quorum".to_string()),
            (Kind::Classic, false) => (RawQueueType::Classic, "classic".to_string()),
            (Kind::Classic, true) => (
                RawQueueType::Mirrored,
                "classic, mirrored by its ha-mode policy".to_string(),
            ),
        };
        raw.queue_type = Some(tags.tag(&s.shown, &text, s.origin.clone(), place, kind));
    }
    if let Some((s, place)) = put("durable") {
        let d = s.value.as_bool().unwrap_or(false);
        raw.durable = Some(tags.tag(&s.shown, &d.to_string(), s.origin.clone(), place, d));
    }
    macro_rules! typed {
        ($field:ident, $key:literal) => {
            if let Some((s, place)) = put($key) {
                let v = from_value(s, &place)?;
                raw.$field = Some(tags.tag(&s.shown, &text(&s.value), s.origin.clone(), place, v));
            }
        };
    }
    typed!(ha_mode, "ha-mode");
    typed!(ha_params, "ha-params");
    typed!(ha_sync_mode, "ha-sync-mode");
    typed!(ha_promote_on_failure, "ha-promote-on-failure");
    typed!(ha_promote_on_shutdown, "ha-promote-on-shutdown");
    typed!(max_length, "max-length");
    typed!(max_length_bytes, "max-length-bytes");
    typed!(overflow, "overflow");
    typed!(dead_letter_exchange, "dead-letter-exchange");
    typed!(dead_letter_routing_key, "dead-letter-routing-key");
    typed!(dead_letter_strategy, "dead-letter-strategy");
    for (key, field) in [("message-ttl", 0), ("expires", 1)] {
        if let Some((s, place)) = put(key) {
            let ms = scaled_ms(s.value.as_u64().unwrap_or(0));
            let v = Some(tags.tag(&s.shown, &text(&s.value), s.origin.clone(), place, ms));
            if field == 0 {
                raw.message_ttl = v;
            } else {
                raw.expires = v;
            }
        }
    }
    let nodes = cx.cluster.nodes.value;
    let default_place = Place {
        path: file.path.clone(),
        line: None,
    };
    if q.kind == Kind::Quorum {
        // RabbitMQ places a quorum queue on every node when the cluster
        // has fewer than its initial group size.
        raw.quorum_group_size = Some(match put("x-quorum-initial-group-size") {
            Some((s, place)) => {
                let n = s.value.as_u64().unwrap_or(1).min(u64::from(nodes)) as u32;
                tags.tag(&s.shown, &text(&s.value), s.origin.clone(), place, n)
            }
            None => tags.tag(
                "x-quorum-initial-group-size",
                &DEFAULT_QUORUM_SIZE.to_string(),
                Origin::Default(RABBITMQ),
                default_place.clone(),
                DEFAULT_QUORUM_SIZE.min(nodes),
            ),
        });
        raw.delivery_limit = match put("delivery-limit") {
            Some((s, place)) => {
                // A negative limit is no limit (RabbitMQ 4.0).
                let limit = u32::try_from(s.value.as_i64().unwrap_or(-1)).ok();
                let tagged = tags.tag(&s.shown, &text(&s.value), s.origin.clone(), place, ());
                limit.map(|l| Spanned::new(tagged.span(), l))
            }
            None => Some(tags.tag(
                "delivery-limit",
                &DEFAULT_DELIVERY_LIMIT.to_string(),
                Origin::Default(RABBITMQ),
                default_place,
                DEFAULT_DELIVERY_LIMIT,
            )),
        };
    } else if let Some((s, place)) = put("delivery-limit") {
        let n = s.value.as_u64().unwrap_or(0) as u32;
        raw.delivery_limit = Some(tags.tag(&s.shown, &text(&s.value), s.origin.clone(), place, n));
    }
    Ok(())
}

/// A JSON value as the file wrote it, strings unquoted.
fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// The setting's value as one of the scenario parser's raw enums, which
/// spell RabbitMQ's values.
fn from_value<T: DeserializeOwned>(s: &Setting, place: &Place) -> Result<T, ReadError> {
    serde_json::from_value(s.value.clone()).map_err(|e| ReadError {
        path: place.path.clone(),
        line: place.line,
        key: Some(s.shown.clone()),
        message: format!("`{}` = {} cannot be audited: {e}", s.shown, s.value),
    })
}
