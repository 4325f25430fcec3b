//! Which policy applies to a queue or an exchange, and how an operator
//! policy combines with it, as `rabbit_policy.erl` and `rabbit_policies.erl`
//! (rabbitmq/rabbitmq-server) do it.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use crate::audit::error::ReadError;
use crate::audit::origin::Origin;
use crate::audit::rabbitmq::definitions::{DefinitionsFile, PolicyDef};

/// A queue's type, as policies see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Classic,
    Quorum,
}

impl Kind {
    /// The type's `policy_apply_to_name()`.
    fn apply_to_name(self) -> &'static str {
        match self {
            Kind::Classic => "classic_queues",
            Kind::Quorum => "quorum_queues",
        }
    }

    /// The type's `unsupported_policies` (its `capabilities()`): a policy
    /// holding any of them does not apply to a queue of the type at all
    /// (`rabbit_queue_type:is_policy_applicable/2`).
    fn unsupported(self) -> &'static [&'static str] {
        match self {
            Kind::Classic => &[
                "max-age",
                "stream-max-segment-size-bytes",
                "initial-cluster-size",
                "delivery-limit",
                "dead-letter-strategy",
                "max-in-memory-length",
                "max-in-memory-bytes",
                "target-group-size",
            ],
            Kind::Quorum => &[
                "max-priority",
                "queue-mode",
                "ha-mode",
                "ha-params",
                "ha-sync-mode",
                "ha-promote-on-shutdown",
                "ha-promote-on-failure",
                "queue-master-locator",
                "max-age",
                "stream-max-segment-size-bytes",
                "initial-cluster-size",
            ],
        }
    }
}

/// What a policy is matched against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entity {
    Queue(Kind),
    Exchange,
}

/// The keys an operator policy may set (`operator_policy_validator`s
/// registered by `rabbit_policies:register/0`).
const OPERATOR_KEYS: &[&str] = &[
    "expires",
    "message-ttl",
    "max-length",
    "max-length-bytes",
    "max-in-memory-length",
    "max-in-memory-bytes",
    "delivery-limit",
    "queue-version",
    "overflow",
];

/// The `apply-to` values `rabbit_policy:apply_to_validation/2` accepts.
const APPLY_TO: &[&str] = &[
    "all",
    "queues",
    "exchanges",
    "classic_queues",
    "quorum_queues",
    "streams",
];

/// A policy with its pattern compiled.
pub(crate) struct Policy {
    pub(crate) def: PolicyDef,
    pub(crate) operator: bool,
    regex: Regex,
}

impl Policy {
    /// Where a value of this policy came from.
    pub(crate) fn origin(&self) -> Origin {
        if self.operator {
            Origin::OperatorPolicy(self.def.name.clone())
        } else {
            Origin::Policy(self.def.name.clone())
        }
    }

    /// `rabbit_policy:matches/3`: the vhost, the `apply-to`, every key
    /// applicable to the queue's type, and the pattern found anywhere in
    /// the name (`re:run`, unanchored unless the pattern anchors it).
    fn matches(&self, vhost: &str, name: &str, entity: Entity) -> bool {
        let apply_to = self.def.apply_to.as_str();
        let kind_ok = match entity {
            Entity::Exchange => matches!(apply_to, "all" | "exchanges"),
            Entity::Queue(kind) => {
                (matches!(apply_to, "all" | "queues") || apply_to == kind.apply_to_name())
                    && !self
                        .def
                        .definition
                        .keys()
                        .any(|k| kind.unsupported().contains(&k.as_str()))
            }
        };
        kind_ok && self.def.vhost == vhost && self.regex.is_match(name)
    }
}

/// The file's policies (`operator` for its `operator_policies`), checked
/// as `rabbit_policy:policy_validation/0` and
/// `operator_policy_validation/0` check them.
pub(crate) fn compile(
    file: &DefinitionsFile,
    defs: &[PolicyDef],
    operator: bool,
) -> Result<Vec<Policy>, ReadError> {
    let section = if operator {
        "operator_policies"
    } else {
        "policies"
    };
    let mut out = Vec::new();
    for def in defs {
        let refuse = |key: &str, m: String| Err(file.error(section, &def.name, key, m));
        if !APPLY_TO.contains(&def.apply_to.as_str()) {
            return refuse(
                "apply-to",
                format!(
                    "`apply-to` = `{}` is refused by RabbitMQ: it must be one of {}",
                    def.apply_to,
                    APPLY_TO.join(", ")
                ),
            );
        }
        if def.definition.is_empty() {
            return refuse(
                "definition",
                "RabbitMQ refuses a policy with an empty definition".into(),
            );
        }
        if operator {
            if let Some(k) = def
                .definition
                .keys()
                .find(|k| !OPERATOR_KEYS.contains(&k.as_str()))
            {
                return refuse(
                    k,
                    format!(
                        "`{k}` is refused in an operator policy by RabbitMQ: it may set only {}",
                        OPERATOR_KEYS.join(", ")
                    ),
                );
            }
        }
        let regex = match Regex::new(&def.pattern) {
            Ok(r) => r,
            Err(e) => {
                return refuse(
                    "pattern",
                    format!(
                        "`pattern` = `{}` is not a regular expression: {e}",
                        def.pattern
                    ),
                )
            }
        };
        out.push(Policy {
            def: def.clone(),
            operator,
            regex,
        });
    }
    Ok(out)
}

/// `rabbit_policy:match/2`: of the policies matching, the one of highest
/// priority. Ties keep the order RabbitMQ lists its runtime parameters in
/// (`lists:sort/2` is stable), which it does not specify: here, the first
/// in the file.
pub(crate) fn matching<'a>(
    policies: &'a [Policy],
    vhost: &str,
    name: &str,
    entity: Entity,
) -> Option<&'a Policy> {
    let mut best: Option<&Policy> = None;
    for p in policies.iter().filter(|p| p.matches(vhost, name, entity)) {
        if best.is_none_or(|b| p.def.priority > b.def.priority) {
            best = Some(p);
        }
    }
    best
}

/// One key of an effective policy: its value and which policy gave it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PolicyValue {
    pub(crate) value: Value,
    pub(crate) from: Origin,
    /// The policy's name, to find its line.
    pub(crate) policy: String,
    pub(crate) operator: bool,
}

/// `rabbit_policy:merge_operator_definitions/2`: every key of either, and
/// for a key both set, `rabbit_policies:merge_policy_value/3`.
pub(crate) fn effective(
    policy: Option<&Policy>,
    operator: Option<&Policy>,
) -> BTreeMap<String, PolicyValue> {
    let mut out = BTreeMap::new();
    let value = |p: &Policy, v: &Value| PolicyValue {
        value: v.clone(),
        from: p.origin(),
        policy: p.def.name.clone(),
        operator: p.operator,
    };
    if let Some(p) = policy {
        for (k, v) in &p.def.definition {
            out.insert(k.clone(), value(p, v));
        }
    }
    if let Some(op) = operator {
        for (k, op_v) in &op.def.definition {
            let merged = match out.get(k) {
                Some(user) if !operator_wins(k, &user.value, op_v) => user.clone(),
                _ => value(op, op_v),
            };
            out.insert(k.clone(), merged);
        }
    }
    out
}

/// Whether the operator policy's value of `key` is the one
/// `merge_policy_value/3` keeps: the lesser of two limits (for
/// `delivery-limit`, the greater when either is negative, which is no
/// limit), and the operator's for `overflow`, `queue-version` and booleans.
fn operator_wins(key: &str, user: &Value, op: &Value) -> bool {
    let (u, o) = (user.as_i64(), op.as_i64());
    match key {
        "message-ttl"
        | "max-length"
        | "max-length-bytes"
        | "max-in-memory-length"
        | "max-in-memory-bytes"
        | "expires" => match (u, o) {
            (Some(u), Some(o)) => o < u,
            _ => true,
        },
        "delivery-limit" => match (u, o) {
            (Some(u), Some(o)) if u < 0 || o < 0 => o > u,
            (Some(u), Some(o)) => o < u,
            _ => true,
        },
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn policies(json: &str) -> Vec<Policy> {
        let text = format!("{{\"policies\": {json}}}");
        let file = DefinitionsFile::parse(Path::new("d.json"), text).unwrap();
        let defs = file.definitions.policies.clone();
        compile(&file, &defs, false).unwrap()
    }

    fn name(p: Option<&Policy>) -> Option<&str> {
        p.map(|p| p.def.name.as_str())
    }

    const CLASSIC: Entity = Entity::Queue(Kind::Classic);
    const QUORUM: Entity = Entity::Queue(Kind::Quorum);

    #[test]
    fn the_highest_priority_matching_policy_applies() {
        let ps = policies(
            r#"[{"name":"low","pattern":".*","definition":{"max-length":10},"priority":1},
                {"name":"high","pattern":"^orders","definition":{"max-length":5},"priority":7},
                {"name":"other","pattern":"^billing$","definition":{"max-length":1},"priority":9}]"#,
        );
        assert_eq!(name(matching(&ps, "/", "orders.eu", CLASSIC)), Some("high"));
        assert_eq!(name(matching(&ps, "/", "audit", CLASSIC)), Some("low"));
        assert_eq!(name(matching(&ps, "/other", "orders", CLASSIC)), None);
    }

    #[test]
    fn a_pattern_matches_anywhere_in_the_name_unless_anchored() {
        let ps = policies(r#"[{"name":"p","pattern":"ders","definition":{"expires":1}}]"#);
        assert_eq!(name(matching(&ps, "/", "orders", CLASSIC)), Some("p"));
    }

    #[test]
    fn equal_priorities_go_to_the_first_in_the_file() {
        let ps = policies(
            r#"[{"name":"a","pattern":".","definition":{"max-length":1}},
                {"name":"b","pattern":".","definition":{"max-length":2}}]"#,
        );
        assert_eq!(name(matching(&ps, "/", "q", CLASSIC)), Some("a"));
    }

    #[test]
    fn apply_to_limits_a_policy_to_exchanges_queues_or_one_queue_type() {
        let ps = policies(
            r#"[{"name":"x","pattern":".","apply-to":"exchanges","definition":{"alternate-exchange":"ae"},"priority":9},
                {"name":"qq","pattern":".","apply-to":"quorum_queues","definition":{"max-length":1},"priority":5},
                {"name":"all","pattern":".","definition":{"max-length":2}}]"#,
        );
        assert_eq!(name(matching(&ps, "/", "q", QUORUM)), Some("qq"));
        assert_eq!(name(matching(&ps, "/", "q", CLASSIC)), Some("all"));
        assert_eq!(name(matching(&ps, "/", "q", Entity::Exchange)), Some("x"));
    }

    #[test]
    fn a_policy_with_a_key_the_queue_type_does_not_support_does_not_apply_to_it() {
        let ps = policies(
            r#"[{"name":"ha","pattern":".","definition":{"ha-mode":"all","max-length":1},"priority":9},
                {"name":"base","pattern":".","definition":{"max-length":2}}]"#,
        );
        assert_eq!(name(matching(&ps, "/", "q", QUORUM)), Some("base"));
        assert_eq!(name(matching(&ps, "/", "q", CLASSIC)), Some("ha"));
    }

    #[test]
    fn an_operator_policy_lowers_limits_and_sets_its_own_keys() {
        let user = policies(
            r#"[{"name":"user","pattern":".","definition":{"max-length":100,"message-ttl":1000,"dead-letter-exchange":"dlx"}}]"#,
        );
        let text = r#"{"operator_policies":[{"name":"ops","pattern":".","definition":{"max-length":50,"message-ttl":5000,"overflow":"reject-publish"}}]}"#;
        let file = DefinitionsFile::parse(Path::new("d.json"), text.into()).unwrap();
        let ops = compile(&file, &file.definitions.operator_policies.clone(), true).unwrap();
        let e = effective(user.first(), ops.first());
        assert_eq!(e["max-length"].value, 50);
        assert_eq!(e["max-length"].from, Origin::OperatorPolicy("ops".into()));
        assert_eq!(e["message-ttl"].value, 1000);
        assert_eq!(e["message-ttl"].from, Origin::Policy("user".into()));
        assert_eq!(e["overflow"].value, "reject-publish");
        assert_eq!(e["dead-letter-exchange"].value, "dlx");
    }

    #[test]
    fn a_negative_delivery_limit_is_no_limit_and_loses_to_any_limit() {
        assert!(operator_wins(
            "delivery-limit",
            &Value::from(-1),
            &Value::from(5)
        ));
        assert!(!operator_wins(
            "delivery-limit",
            &Value::from(3),
            &Value::from(-1)
        ));
        assert!(operator_wins(
            "delivery-limit",
            &Value::from(10),
            &Value::from(4)
        ));
    }

    #[test]
    fn an_operator_policy_may_not_set_a_dead_letter_exchange() {
        let text = r#"{"operator_policies":[
  {"name":"ops","pattern":".","definition":{"dead-letter-exchange":"x"}}]}"#;
        let file = DefinitionsFile::parse(Path::new("d.json"), text.into()).unwrap();
        let e = compile(&file, &file.definitions.operator_policies.clone(), true)
            .err()
            .unwrap();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(2), Some("dead-letter-exchange"))
        );
    }
}
