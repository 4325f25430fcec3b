//! The client's settings into the raw `[config]`: those `client.toml`
//! sets, with their lines, the protocol's defaults for the others, and the
//! heartbeat the client and the server negotiate.

use crate::audit::origin::Origin;
use crate::audit::rabbitmq::client::ClientFile;
use crate::audit::rabbitmq::context::Cluster;
use crate::audit::rabbitmq::effective::AMQP;
use crate::audit::tags::{Place, Tags};
use crate::audit::time_scale::scaled_ms;
use crate::scenario::queue_config::{RawAck, RawPublishMode, RawQueueConfig};
use crate::scenario::spanned::Spanned;

/// Fills `raw` with the client's settings.
pub(crate) fn client(c: &ClientFile, cluster: &Cluster, tags: &mut Tags, raw: &mut RawQueueConfig) {
    let r = &c.raw;
    macro_rules! copy {
        ($field:ident, $key:literal, $text:expr, $map:expr) => {
            if let Some(v) = &r.$field {
                let text = $text(v.get_ref());
                let raw_value = $map(v.get_ref());
                raw.$field = Some(tags.tag_in_file($key, &text, &c.path, c.line(v), raw_value));
            }
        };
    }
    let shown = |v: &dyn std::fmt::Display| v.to_string();
    copy!(persistent, "persistent", |v: &bool| shown(v), |v: &bool| *v);
    copy!(
        publish_mode,
        "publish_mode",
        |v: &RawPublishMode| publish_mode(*v).to_string(),
        |v: &RawPublishMode| *v
    );
    copy!(
        ack,
        "ack",
        |v: &RawAck| ack(*v).to_string(),
        |v: &RawAck| *v
    );
    copy!(prefetch, "prefetch", |v: &u32| shown(v), |v: &u32| *v);
    copy!(retries, "retries", |v: &u32| shown(v), |v: &u32| *v);
    copy!(
        max_outstanding_confirms,
        "max_outstanding_confirms",
        |v: &u32| shown(v),
        |v: &u32| *v
    );
    copy!(
        confirm_timeout_ms,
        "confirm_timeout_ms",
        |v: &u64| shown(v),
        |v: &u64| scaled_ms(*v)
    );
    copy!(
        retry_backoff_ms,
        "retry_backoff_ms",
        |v: &u64| shown(v),
        |v: &u64| scaled_ms(*v)
    );
    copy!(
        exchange,
        "exchange",
        |v: &String| v.clone(),
        |v: &String| v.clone()
    );
    copy!(
        routing_keys,
        "routing_keys",
        |v: &Vec<String>| v.join(", "),
        |v: &Vec<String>| v.clone()
    );
    copy!(mandatory, "mandatory", |v: &bool| shown(v), |v: &bool| *v);
    if raw
        .exchange
        .as_ref()
        .is_some_and(|e| e.get_ref().is_empty())
    {
        // "" is the default exchange, which publishing without `exchange` uses.
        raw.exchange = None;
    }

    let protocol_defaults: [(&str, &str, bool); 4] = [
        (
            "persistent",
            "false (delivery_mode 1)",
            r.persistent.is_none(),
        ),
        (
            "publish_mode",
            "fire-and-forget (no confirm.select)",
            r.publish_mode.is_none(),
        ),
        ("ack", "manual (no-ack false)", r.ack.is_none()),
        ("prefetch", "0 (unlimited)", r.prefetch.is_none()),
    ];
    for (key, text, absent) in protocol_defaults {
        if absent {
            let place = Place {
                path: c.path.clone(),
                line: None,
            };
            tags.tag(key, text, Origin::Default(AMQP), place, ());
        }
    }
    raw.heartbeat_ms = Some(heartbeat(c, cluster, tags));
}

/// The heartbeat the client and the server agree on: the lesser of the
/// two, or the one that is not 0 (what the RabbitMQ clients' negotiation
/// does).
fn heartbeat(c: &ClientFile, cluster: &Cluster, tags: &mut Tags) -> Spanned<u64> {
    let server = &cluster.heartbeat_ms;
    let client = c.raw.heartbeat_ms.as_ref();
    let client_ms = client.map(|v| scaled_ms(*v.get_ref()));
    match (client, client_ms) {
        (Some(v), Some(ms)) if (ms < server.value && ms > 0) || server.value == 0 => {
            let value = v.get_ref().to_string();
            tags.tag_in_file("heartbeat_ms", &value, &c.path, c.line(v), ms)
        }
        _ => tags.tag(
            "heartbeat",
            &server.text,
            server.origin.clone(),
            server.place.clone(),
            server.value,
        ),
    }
}

fn publish_mode(m: RawPublishMode) -> &'static str {
    match m {
        RawPublishMode::FireAndForget => "fire-and-forget",
        RawPublishMode::Transaction => "transaction",
        RawPublishMode::Confirm => "confirm",
    }
}

fn ack(a: RawAck) -> &'static str {
    match a {
        RawAck::Auto => "auto",
        RawAck::Manual => "manual",
    }
}
