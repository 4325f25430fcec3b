//! Checking what a file's faults and random nemesis say against the
//! scenario they belong to: each action's keys, every named host, the
//! destination index, and the ranges of rates and durations.

use std::time::Duration;

use super::error::{ErrAt, ScenarioError};
use super::one_or_many::OneOrMany;
use super::raw::{RawAction, RawFault};
use super::raw_nemesis::RawNemesis;
use super::spanned::Spanned;
use crate::duration::SimDuration;
use crate::fault::random::{Kind, RandomNemesis, KIND_NAMES};
use crate::fault::trigger::{Condition, Trigger};
use crate::fault::{Action, Fault, Selector, Target};
use broker_model::queue::{queue_name, Binding};

/// A fault as the file gives it, checked and resolved against the
/// scenario's hosts and destinations.
pub(crate) fn fault(
    f: &Spanned<RawFault>,
    hosts: &[String],
    dests: &[String],
    bindings: &[Binding],
    err: &ErrAt,
) -> Result<Fault, ScenarioError> {
    let r = f.get_ref();
    let action = *r.action.get_ref();
    let trigger = match &r.when {
        Some(when) => {
            let condition: Condition = when
                .get_ref()
                .parse()
                .map_err(|m: String| err(Some(when.span()), Some("when"), m))?;
            let times = match &r.times {
                Some(t) if *t.get_ref() == 0 => {
                    return Err(err(
                        Some(t.span()),
                        Some("times"),
                        "`times` must be at least 1".into(),
                    ))
                }
                Some(t) => *t.get_ref(),
                None => 1,
            };
            Some((condition, times))
        }
        None => {
            if let Some((key, span)) = r.trigger_keys().into_iter().next() {
                return Err(err(
                    Some(span),
                    Some(key),
                    format!("`{key}` only applies to a fault with `when`"),
                ));
            }
            if r.at.is_none() {
                return Err(err(
                    Some(r.action.span()),
                    Some("at"),
                    "a fault needs `at` (a time) or `when` (a condition)".into(),
                ));
            }
            None
        }
    };
    let (required, optional) = action.keys();
    for (key, span) in r.present() {
        if !required.contains(&key) && !optional.contains(&key) {
            let takes: Vec<&str> = ["at", "when", "after", "times", "action"]
                .iter()
                .chain(required)
                .chain(optional)
                .copied()
                .collect();
            return Err(err(
                Some(span),
                Some(key),
                format!(
                    "`{key}` does not apply to action `{}`; it takes: {}",
                    action.name(),
                    takes.join(", ")
                ),
            ));
        }
    }
    let present: Vec<&str> = r.present().iter().map(|(k, _)| *k).collect();
    for key in required {
        if !present.contains(key) {
            return Err(err(
                Some(r.action.span()),
                Some(key),
                format!("action `{}` needs `{key}`", action.name()),
            ));
        }
    }
    let dest = match &r.partition {
        Some(p) => dests.get(*p.get_ref() as usize).ok_or_else(|| {
            err(
                Some(p.span()),
                Some("partition"),
                format!(
                    "`partition` must be below {} (the number of destinations)",
                    dests.len()
                ),
            )
        })?,
        None => &dests[0],
    };
    let target = selector(r.target.as_ref(), "target", hosts, dest, err)?;
    let peer = selector(r.peer.as_ref(), "peer", hosts, dest, err)?;
    let dur = |v: &Option<Spanned<SimDuration>>| v.as_ref().map(|d| d.get_ref().0);
    let duration = dur(&r.duration);
    let need = |t: Option<Selector>| t.expect("required keys were checked");
    let action = match action {
        RawAction::Partition => Action::Partition {
            target: need(target),
            peer,
            duration,
        },
        RawAction::Isolate => Action::Partition {
            target: need(target),
            peer: None,
            duration,
        },
        RawAction::Drop => {
            let rate = r.rate.as_ref().expect("required keys were checked");
            let v = *rate.get_ref();
            if !(0.0..=1.0).contains(&v) {
                return Err(err(
                    Some(rate.span()),
                    Some("rate"),
                    "`rate` is a probability: between 0.0 and 1.0".into(),
                ));
            }
            Action::Drop {
                target: need(target),
                peer,
                rate: v,
                duration,
            }
        }
        RawAction::Delay => Action::Delay {
            target: need(target),
            peer,
            latency: dur(&r.latency).expect("required keys were checked"),
            duration,
        },
        RawAction::Hold => Action::Hold {
            target: need(target),
            peer,
            duration,
        },
        RawAction::Crash => Action::Crash {
            target: need(target),
            restart_after: dur(&r.restart_after),
        },
        RawAction::PowerLoss => Action::PowerLoss {
            target: need(target),
            restart_after: dur(&r.restart_after),
        },
        RawAction::StopApp => {
            let target = need(target);
            if let Some(h) = hosts_meant(&target).find(|h| !h.starts_with("node-")) {
                return Err(err(
                    r.target.as_ref().map(Spanned::span),
                    Some("target"),
                    format!(
                        "`stop_app` is `rabbitmqctl stop_app`: it stops a queue node's \
                         application, and `{h}` is not a queue node (node-1, node-2, … or a \
                         role such as leader)"
                    ),
                ));
            }
            Action::StopApp {
                target,
                restart_after: dur(&r.restart_after),
            }
        }
        RawAction::Heal => Action::Heal,
        RawAction::Unbind => Action::Unbind {
            binding: binding(r, bindings, err)?,
            duration,
        },
    };
    let trigger = trigger.map(|(condition, times)| Trigger {
        condition,
        dest: dest.clone(),
        after: dur(&r.after).unwrap_or_default(),
        times,
    });
    Ok(Fault {
        at: dur(&r.at).unwrap_or_default(),
        trigger,
        action,
    })
}

/// The hosts a selector names outright, and the role names it uses (which
/// mean a broker or a client, never both).
fn hosts_meant(selector: &Selector) -> impl Iterator<Item = &str> {
    selector.targets.iter().filter_map(|t| match t {
        Target::Host(h) => Some(h.as_str()),
        Target::Producer | Target::Producers => Some("producer"),
        Target::Consumer | Target::Consumers => Some("consumer"),
        Target::Controller => Some("controller"),
        _ => None,
    })
}

/// The configured binding an `unbind` fault names.
fn binding(r: &RawFault, bindings: &[Binding], err: &ErrAt) -> Result<Binding, ScenarioError> {
    let (Some(exchange), Some(queue)) = (&r.exchange, &r.queue) else {
        unreachable!("required keys were checked")
    };
    let key = r.routing_key.as_ref().map_or("", |k| k.get_ref().as_str());
    let found = bindings.iter().find(|b| {
        b.exchange == *exchange.get_ref()
            && queue_name(b.queue) == *queue.get_ref()
            && b.routing_key == key
    });
    found.cloned().ok_or_else(|| {
        let all: Vec<String> = bindings
            .iter()
            .map(|b| {
                format!(
                    "{} -> {} key {:?}",
                    b.exchange,
                    queue_name(b.queue),
                    b.routing_key
                )
            })
            .collect();
        let known = if all.is_empty() {
            "the scenario declares none in [[config.bindings]]".to_string()
        } else {
            format!("declared: {}", all.join("; "))
        };
        err(
            Some(exchange.span()),
            Some("exchange"),
            format!(
                "`unbind` needs a declared binding, and none binds {} to {} with key {key:?} \
                 ({known})",
                queue.get_ref(),
                exchange.get_ref()
            ),
        )
    })
}

/// Role and host names as a selector, every host checked to exist.
fn selector(
    v: Option<&Spanned<OneOrMany>>,
    key: &str,
    hosts: &[String],
    dest: &str,
    err: &ErrAt,
) -> Result<Option<Selector>, ScenarioError> {
    let Some(v) = v else {
        return Ok(None);
    };
    let mut targets = Vec::new();
    for name in &v.get_ref().0 {
        let t: Target = name
            .parse()
            .map_err(|m: String| err(Some(v.span()), Some(key), m))?;
        if let Target::Host(h) = &t {
            if !hosts.contains(h) {
                return Err(err(
                    Some(v.span()),
                    Some(key),
                    format!(
                        "no host `{h}` in this scenario; hosts: {}",
                        hosts.join(", ")
                    ),
                ));
            }
        }
        targets.push(t);
    }
    Ok(Some(Selector {
        targets,
        dest: dest.to_string(),
    }))
}

/// The `[nemesis]` table, checked, with its defaults filled in.
pub(crate) fn random_nemesis(
    raw: &Spanned<RawNemesis>,
    hosts: &[String],
    dests: &[String],
    err: &ErrAt,
) -> Result<RandomNemesis, ScenarioError> {
    let r = raw.get_ref();
    let mut kinds = Vec::new();
    for k in r.kinds.get_ref() {
        kinds.push(
            k.parse::<Kind>()
                .map_err(|m| err(Some(r.kinds.span()), Some("kinds"), m))?,
        );
    }
    if kinds.is_empty() {
        return Err(err(
            Some(r.kinds.span()),
            Some("kinds"),
            format!("`kinds` is empty; allowed: {}", KIND_NAMES.join(", ")),
        ));
    }
    let dest = match &r.partition {
        Some(p) => dests.get(*p.get_ref() as usize).ok_or_else(|| {
            err(
                Some(p.span()),
                Some("partition"),
                format!("`partition` must be below {}", dests.len()),
            )
        })?,
        None => &dests[0],
    };
    let targets = selector(r.targets.as_ref(), "targets", hosts, dest, err)?
        .map_or_else(|| vec![Target::AnyBroker], |s| s.targets);
    let d = |v: &Option<Spanned<SimDuration>>, default: u64| {
        v.as_ref()
            .map_or(Duration::from_millis(default), |s| s.get_ref().0)
    };
    let interval = d(&r.interval, 1000);
    if interval.is_zero() {
        let span = r.interval.as_ref().map(Spanned::span);
        return Err(err(
            span,
            Some("interval"),
            "`interval` must be above 0".into(),
        ));
    }
    let max_concurrent = r.max_concurrent.as_ref().map_or(1, |m| *m.get_ref());
    if max_concurrent == 0 {
        let span = r.max_concurrent.as_ref().map(Spanned::span);
        return Err(err(
            span,
            Some("max_concurrent"),
            "`max_concurrent` must be at least 1".into(),
        ));
    }
    let (min_duration, max_duration) = (d(&r.min_duration, 200), d(&r.max_duration, 2000));
    if max_duration < min_duration {
        let span = r
            .max_duration
            .as_ref()
            .or(r.min_duration.as_ref())
            .map(Spanned::span);
        return Err(err(
            span,
            Some("max_duration"),
            "`max_duration` must not be below `min_duration`".into(),
        ));
    }
    let rate = r.rate.as_ref().map_or(0.3, |v| *v.get_ref());
    if !(0.0..=1.0).contains(&rate) {
        let span = r.rate.as_ref().map(Spanned::span);
        return Err(err(
            span,
            Some("rate"),
            "`rate` is a probability: between 0.0 and 1.0".into(),
        ));
    }
    let cluster = hosts
        .iter()
        .filter(|h| !h.starts_with("producer-") && !h.starts_with("consumer-"))
        .cloned()
        .collect();
    Ok(RandomNemesis {
        kinds,
        interval,
        max_concurrent,
        targets,
        dest: dest.clone(),
        min_duration,
        max_duration,
        start: d(&r.start, 1000),
        stop: r.stop.as_ref().map(|s| s.get_ref().0),
        rate,
        latency: d(&r.latency, 200),
        cluster,
    })
}
