//! Faults fired by what the simulation is doing rather than by the clock.
//!
//! A trigger names a condition over what hosts publish (`observe`); the
//! harness evaluates it between simulation steps and, when it holds, fires
//! its fault (after an optional delay). The condition decides only *when*
//! turmoil crashes or cuts a host; whether a message is then lost is still
//! up to the protocol.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use broker_model::Observations;
use broker_model::{Deployment, HostRole};

use crate::duration::format_duration;

/// A condition a fault can wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// The leader of the fault's destination holds records it has not sent
    /// to any follower (with `acks=1`, acknowledged ones).
    LeaderAheadOfFollowers,
    /// A consumer holds a delivered message it has not yet processed and
    /// acknowledged or committed.
    ConsumerReceivedUnacked,
    /// A producer has just received an acknowledgement.
    AfterProducerAck,
    /// A node holds acknowledged data that is not yet fsynced.
    BeforeFsync,
    /// A replica of the fault's destination is out of sync (a follower out
    /// of the ISR, an unsynchronised mirror).
    MirrorUnsynced,
}

/// Every condition's name, for error messages.
pub(crate) const CONDITION_NAMES: &[&str] = &[
    "leader_ahead_of_followers",
    "consumer_received_unacked",
    "after_producer_ack",
    "before_fsync",
    "mirror_unsynced",
];

impl Condition {
    /// The name scenario files use.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Condition::LeaderAheadOfFollowers => CONDITION_NAMES[0],
            Condition::ConsumerReceivedUnacked => CONDITION_NAMES[1],
            Condition::AfterProducerAck => CONDITION_NAMES[2],
            Condition::BeforeFsync => CONDITION_NAMES[3],
            Condition::MirrorUnsynced => CONDITION_NAMES[4],
        }
    }

    /// Whether the condition is about one destination (its `partition`).
    pub(crate) fn per_dest(self) -> bool {
        matches!(
            self,
            Condition::LeaderAheadOfFollowers | Condition::MirrorUnsynced
        )
    }
}

impl FromStr for Condition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let all = [
            Condition::LeaderAheadOfFollowers,
            Condition::ConsumerReceivedUnacked,
            Condition::AfterProducerAck,
            Condition::BeforeFsync,
            Condition::MirrorUnsynced,
        ];
        all.into_iter().find(|c| c.name() == s).ok_or_else(|| {
            format!(
                "unknown condition `{s}`; allowed: {}",
                CONDITION_NAMES.join(", ")
            )
        })
    }
}

/// When a triggered fault fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    /// The condition.
    pub condition: Condition,
    /// The destination per-destination conditions watch.
    pub dest: String,
    /// How long after the condition is seen the fault fires.
    pub after: Duration,
    /// How many times at most the fault fires; each firing waits for the
    /// condition to stop holding and hold again.
    pub times: u32,
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "when {}", self.condition.name())?;
        if self.condition.per_dest() {
            write!(f, " of {}", self.dest)?;
        }
        if !self.after.is_zero() {
            write!(f, " + {}", format_duration(self.after))?;
        }
        if self.times != 1 {
            write!(f, " (up to {} times)", self.times)?;
        }
        Ok(())
    }
}

/// The hosts for which `condition` holds now: the leader that is ahead,
/// the consumers holding messages, and so on. Empty when it does not hold.
///
/// `acked_before` carries each producer's acknowledgement count from the
/// previous evaluation, for [`Condition::AfterProducerAck`].
pub(crate) fn witnesses(
    condition: Condition,
    dest: &str,
    obs: &Observations,
    deployment: &Deployment,
    acked_before: &mut BTreeMap<String, u64>,
) -> Vec<String> {
    let role = |host: &String, r: HostRole| deployment.role_of(host) == Some(r);
    match condition {
        Condition::LeaderAheadOfFollowers => {
            let Some(leader) = obs.leader_of(dest) else {
                return Vec::new();
            };
            if obs.replicas[dest][&leader].unreplicated > 0 {
                vec![leader]
            } else {
                Vec::new()
            }
        }
        Condition::MirrorUnsynced => {
            let Some(views) = obs.replicas.get(dest) else {
                return Vec::new();
            };
            if obs.leader_of(dest).is_none() {
                return Vec::new();
            }
            views
                .iter()
                .filter(|(_, v)| !v.leader && !v.in_sync)
                .map(|(h, _)| h.clone())
                .collect()
        }
        Condition::ConsumerReceivedUnacked => obs
            .clients
            .iter()
            .filter(|(h, v)| role(h, HostRole::Consumer) && v.holding > 0)
            .map(|(h, _)| h.clone())
            .collect(),
        Condition::AfterProducerAck => {
            let mut hit = Vec::new();
            for (h, v) in &obs.clients {
                if !role(h, HostRole::Producer) {
                    continue;
                }
                let before = acked_before.insert(h.clone(), v.acked).unwrap_or(0);
                if v.acked > before {
                    hit.push(h.clone());
                }
            }
            hit
        }
        Condition::BeforeFsync => obs
            .disks
            .iter()
            .filter(|(_, d)| d.acked_unsynced > 0)
            .map(|(h, _)| h.clone())
            .collect(),
    }
}

/// The firing state of one triggered fault during a run.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    fired: u32,
    /// Set after a firing until the condition is seen not holding.
    spent: bool,
    due: Option<(Duration, Vec<String>)>,
    acked_before: BTreeMap<String, u64>,
}

impl Watch {
    /// Evaluates the trigger at `now` (the fault is armed from `armed_at`)
    /// and returns the witnesses if the fault should fire now.
    pub(crate) fn poll(
        &mut self,
        trigger: &Trigger,
        armed_at: Duration,
        now: Duration,
        obs: &Observations,
        deployment: &Deployment,
    ) -> Option<Vec<String>> {
        if now < armed_at || self.fired >= trigger.times {
            return None;
        }
        if let Some((at, hosts)) = &self.due {
            if *at <= now {
                let hosts = hosts.clone();
                self.due = None;
                self.fired += 1;
                return Some(hosts);
            }
            return None;
        }
        let hosts = witnesses(
            trigger.condition,
            &trigger.dest,
            obs,
            deployment,
            &mut self.acked_before,
        );
        if hosts.is_empty() {
            self.spent = false;
            return None;
        }
        if self.spent {
            return None;
        }
        self.spent = true;
        if trigger.after.is_zero() {
            self.fired += 1;
            return Some(hosts);
        }
        self.due = Some((now + trigger.after, hosts));
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_model::{ClientView, ReplicaView};

    fn deployment() -> Deployment {
        let mut d = Deployment::default();
        d.add("broker-1", HostRole::Broker);
        d.add("broker-2", HostRole::Broker);
        d.add("consumer-1", HostRole::Consumer);
        d.add("producer-1", HostRole::Producer);
        d
    }

    fn trigger(condition: Condition, after_ms: u64, times: u32) -> Trigger {
        Trigger {
            condition,
            dest: "p0".into(),
            after: Duration::from_millis(after_ms),
            times,
        }
    }

    #[test]
    fn a_leader_with_unsent_records_is_ahead() {
        let mut o = Observations::default();
        let view = |leader, log_end, unreplicated| ReplicaView {
            leader,
            epoch: 1,
            log_end,
            unreplicated,
            ..Default::default()
        };
        o.replicas
            .entry("p0".into())
            .or_default()
            .insert("broker-1".into(), view(true, 5, 0));
        o.replicas
            .entry("p0".into())
            .or_default()
            .insert("broker-2".into(), view(false, 5, 0));
        let d = deployment();
        let w = |o: &Observations| {
            witnesses(
                Condition::LeaderAheadOfFollowers,
                "p0",
                o,
                &d,
                &mut BTreeMap::new(),
            )
        };
        assert!(w(&o).is_empty());
        o.replicas
            .get_mut("p0")
            .unwrap()
            .get_mut("broker-1")
            .unwrap()
            .unreplicated = 1;
        assert_eq!(w(&o), vec!["broker-1".to_string()]);
    }

    #[test]
    fn a_trigger_fires_after_its_delay_and_rearms_only_once_the_condition_clears() {
        let d = deployment();
        let mut o = Observations::default();
        let holding = |n| ClientView {
            holding: n,
            ..Default::default()
        };
        let t = trigger(Condition::ConsumerReceivedUnacked, 10, 2);
        let mut w = Watch::default();
        let ms = Duration::from_millis;
        o.clients.insert("consumer-1".into(), holding(3));
        assert_eq!(w.poll(&t, ms(0), ms(1), &o, &d), None);
        assert_eq!(w.poll(&t, ms(0), ms(5), &o, &d), None);
        assert_eq!(
            w.poll(&t, ms(0), ms(11), &o, &d),
            Some(vec!["consumer-1".to_string()])
        );
        // Still holding: no second firing until the condition clears.
        assert_eq!(w.poll(&t, ms(0), ms(30), &o, &d), None);
        assert_eq!(w.poll(&t, ms(0), ms(50), &o, &d), None);
        o.clients.insert("consumer-1".into(), holding(0));
        assert_eq!(w.poll(&t, ms(0), ms(60), &o, &d), None);
        o.clients.insert("consumer-1".into(), holding(1));
        assert_eq!(w.poll(&t, ms(0), ms(61), &o, &d), None);
        assert!(w.poll(&t, ms(0), ms(71), &o, &d).is_some());
        // `times = 2` is used up.
        o.clients.insert("consumer-1".into(), holding(0));
        w.poll(&t, ms(0), ms(80), &o, &d);
        o.clients.insert("consumer-1".into(), holding(1));
        assert_eq!(w.poll(&t, ms(0), ms(81), &o, &d), None);
        assert_eq!(w.poll(&t, ms(0), ms(95), &o, &d), None);
    }

    #[test]
    fn a_producer_ack_is_seen_once() {
        let d = deployment();
        let mut o = Observations::default();
        let acked = |n| ClientView {
            acked: n,
            ..Default::default()
        };
        let mut before = BTreeMap::new();
        o.clients.insert("producer-1".into(), acked(0));
        assert!(witnesses(Condition::AfterProducerAck, "p0", &o, &d, &mut before).is_empty());
        o.clients.insert("producer-1".into(), acked(1));
        assert_eq!(
            witnesses(Condition::AfterProducerAck, "p0", &o, &d, &mut before),
            vec!["producer-1".to_string()]
        );
        assert!(witnesses(Condition::AfterProducerAck, "p0", &o, &d, &mut before).is_empty());
    }

    #[test]
    fn conditions_parse_by_name() {
        assert_eq!("before_fsync".parse(), Ok(Condition::BeforeFsync));
        assert!("soon"
            .parse::<Condition>()
            .unwrap_err()
            .contains("mirror_unsynced"));
    }
}
