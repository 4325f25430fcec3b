//! Exchanges, bindings, `unbind` faults and dead-lettering as scenario
//! files state them.

use super::queue_tests::{error, parse_str, queue_config, GOOD};
use super::*;
use broker_model::queue::DeadLetterStrategy;

const ROUTED: &str = r#"
name = "routed"
system = "queue"
expect = "loss"

[config]
queues = 2
publish_mode = "confirm"
exchange = "orders"
mandatory = true
exchanges = [
  { name = "orders", type = "direct", alternate-exchange = "unrouted" },
  { name = "unrouted", type = "fanout" },
]
bindings = [
  { exchange = "orders", queue = "q0", routing_key = "q0" },
  { exchange = "unrouted", queue = "q1" },
]

[[faults]]
at = "0s"
action = "unbind"
exchange = "orders"
queue = "q0"
routing_key = "q0"
duration = "1s"
"#;

#[test]
fn exchanges_bindings_and_an_unbind_fault_read_and_write_back() {
    let s = parse_str(ROUTED).unwrap();
    let System::Queue(c) = &s.system else {
        panic!("a queue scenario")
    };
    let t = &c.topology;
    assert_eq!(t.exchange.as_deref(), Some("orders"));
    assert!(t.mandatory);
    assert_eq!(
        t.exchanges[0].alternate_exchange.as_deref(),
        Some("unrouted")
    );
    assert_eq!(t.bindings[1].queue, 1);
    assert_eq!(t.bindings[1].routing_key, "");
    assert_eq!(
        s.faults[0].to_string(),
        "at 0s: unbind orders -> q0 key \"q0\", bound again after 1s"
    );
    let again = parse_str(&writer::write(&s)).unwrap();
    assert_eq!(again.system, s.system);
    assert_eq!(again.faults, s.faults);
}

#[test]
fn bindings_and_alternates_must_name_declared_exchanges_and_queues() {
    let e = error(&ROUTED.replace(
        "{ exchange = \"unrouted\", queue",
        "{ exchange = \"unrouteed\", queue",
    ));
    assert_eq!((e.line, e.column), (17, 16), "{e:?}");
    assert_eq!(e.key.as_deref(), Some("exchange"));
    assert!(
        e.message.contains("declared: orders, unrouted"),
        "{}",
        e.message
    );
    let e = error(&ROUTED.replace("queue = \"q1\"", "queue = \"q2\""));
    assert_eq!((e.line, e.key.as_deref()), (17, Some("queue")), "{e:?}");
    assert!(e.message.contains("q0 to q1"), "{}", e.message);
    let e = error(&ROUTED.replace(
        "alternate-exchange = \"unrouted\"",
        "alternate-exchange = \"ae\"",
    ));
    assert_eq!((e.line, e.key.as_deref()), (12, Some("alternate-exchange")));
    let e = error(&ROUTED.replace("type = \"fanout\"", "type = \"headers\""));
    assert_eq!(e.line, 13);
    assert!(e.message.contains("`topic`"), "{}", e.message);
    let e = error(&ROUTED.replace(
        "exchange = \"orders\"\nmandatory",
        "exchange = \"order\"\nmandatory",
    ));
    assert_eq!((e.line, e.key.as_deref()), (9, Some("exchange")));
    let e = error(&ROUTED.replace("name = \"unrouted\"", "name = \"amq.direct\""));
    assert!(e.message.contains("reserves"), "{}", e.message);
}

#[test]
fn mandatory_needs_a_publisher_that_waits_and_applies_to_the_default_exchange_too() {
    let e = error(&ROUTED.replace(
        "publish_mode = \"confirm\"",
        "publish_mode = \"fire-and-forget\"",
    ));
    assert_eq!((e.line, e.key.as_deref()), (10, Some("mandatory")));
    assert!(e.message.contains("basic.return"), "{}", e.message);
    let plain = GOOD.replace(
        "publish_mode = \"confirm\"",
        "publish_mode = \"confirm\"\nmandatory = true",
    );
    let c = queue_config(&plain);
    assert!(c.topology.exchange.is_none() && c.topology.mandatory);
    let s = parse_str(&plain).unwrap();
    assert_eq!(parse_str(&writer::write(&s)).unwrap().system, s.system);
    let e = error(&plain.replace(
        "publish_mode = \"confirm\"",
        "publish_mode = \"fire-and-forget\"",
    ));
    assert_eq!(e.key.as_deref(), Some("mandatory"));
    let e = error(&GOOD.replace("nodes = 3", "nodes = 3\nrouting_keys = [\"a\"]"));
    assert_eq!(e.key.as_deref(), Some("routing_keys"));
}

#[test]
fn an_unbind_fault_must_name_a_declared_binding() {
    let e = error(&ROUTED.replace(
        "routing_key = \"q0\"\nduration",
        "routing_key = \"q9\"\nduration",
    ));
    assert_eq!((e.line, e.key.as_deref()), (23, Some("exchange")), "{e:?}");
    assert!(
        e.message.contains("orders -> q0 key \"q0\""),
        "{}",
        e.message
    );
    let e = error(&ROUTED.replace("queue = \"q0\"\nrouting_key = \"q0\"\nduration", "duration"));
    assert_eq!(e.key.as_deref(), Some("queue"));
}

#[test]
fn dead_lettering_is_checked_as_rabbitmq_checks_it() {
    let dlx = |extra: &str| ROUTED.replace("mandatory = true", extra);
    let e = error(&dlx(
        "dead-letter-exchange = \"orders\"\ndead-letter-strategy = \"at-least-once\"",
    ));
    assert_eq!(
        (e.line, e.column, e.key.as_deref()),
        (11, 24, Some("dead-letter-strategy"))
    );
    assert!(e.message.contains("quorum queues only"), "{}", e.message);
    let quorum = |extra: &str| dlx(&format!("queue_type = \"quorum\"\nmax-length = 5\n{extra}"));
    let e = error(&quorum(
        "dead-letter-exchange = \"\"\ndead-letter-strategy = \"at-least-once\"",
    ));
    assert!(e.message.contains("reject-publish"), "{}", e.message);
    let at_least_once = quorum(
        "overflow = \"reject-publish\"\ndead-letter-exchange = \"\"\ndead-letter-strategy = \"at-least-once\"",
    );
    let c = queue_config(&at_least_once);
    assert_eq!(c.dead_lettering.strategy, DeadLetterStrategy::AtLeastOnce);
    assert_eq!(c.dead_lettering.exchange.as_deref(), Some(""));
    let e = error(&quorum("overflow = \"reject-publish-dlx\""));
    assert_eq!((e.line, e.key.as_deref()), (12, Some("overflow")));
    let e = error(&dlx("dead-letter-exchange = \"dead\""));
    assert_eq!(
        (e.line, e.key.as_deref()),
        (10, Some("dead-letter-exchange"))
    );
    let e = error(&dlx("dead-letter-routing-key = \"q1\""));
    assert_eq!(e.key.as_deref(), Some("dead-letter-routing-key"));
    // RabbitMQ takes reject-publish-dlx without a dead-letter exchange:
    // refused messages are then just dropped.
    let c = queue_config(&dlx("max-length = 5\noverflow = \"reject-publish-dlx\""));
    assert_eq!(c.dead_lettering.exchange, None);
}
