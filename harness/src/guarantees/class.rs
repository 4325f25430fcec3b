//! The classes of faults (and of consumer behaviour) the matrix's columns
//! stand for.

/// A class of faults a configuration may claim to survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultClass {
    /// Process crashes of brokers, one at a time, each restarted.
    BrokerCrash,
    /// The leader crashes while it holds records no follower has fetched.
    LeaderCrashBeforeSync,
    /// Network partitions cutting off one broker, the controller, or the
    /// leader from its followers, one at a time.
    Partition,
    /// Datagrams dropped at random on some links for a while.
    MessageDrop,
    /// Every broker loses power at once.
    PowerLossAll,
    /// A consumer crashes while it holds messages it has not processed.
    ConsumerCrash,
    /// A replica is crashed and restarted, and the leader (master) crashes
    /// while that replica is still out of sync.
    LeaderCrashWhileReplicaOutOfSync,
    /// The followers are cut off until the controller fences them, so the
    /// leader is the last replica in sync; then it loses power and comes
    /// back before they do (KIP-966's "last replica standing").
    LastReplicaPowerLoss,
    /// Two consumers share a group's partitions, and one crashes while it
    /// holds records it has not processed: the group rebalances its
    /// partitions to the other, which resumes from the committed offset.
    ConsumerCrashWithRebalance,
    /// The binding the publishers' messages route by is removed for a
    /// while and declared again, as by a redeploy that declares its
    /// bindings late.
    MissingBinding,
    /// No fault: 2 to 5% of the messages are poison, which the consumer's
    /// application cannot process and rejects with `requeue = true` every
    /// time it is given one.
    PoisonMessage,
    /// No fault: consumers process slower than producers send, so a
    /// backlog builds up and waits, as it does behind a consumer after a
    /// deploy or a slow downstream. A policy that bounds how long or how
    /// much a broker keeps (retention, `max-length`, `message-ttl`) drops it.
    SlowConsumer,
    /// No fault: consumers start seconds after producers, as a new consumer
    /// group or a consumer deployed after its producer does. Where it starts
    /// reading (`auto.offset.reset`) and what the broker kept meanwhile
    /// decide what it never sees.
    LateConsumer,
}

impl FaultClass {
    /// Every class, in matrix column order.
    pub const ALL: [FaultClass; 13] = [
        FaultClass::BrokerCrash,
        FaultClass::LeaderCrashBeforeSync,
        FaultClass::LeaderCrashWhileReplicaOutOfSync,
        FaultClass::Partition,
        FaultClass::MessageDrop,
        FaultClass::PowerLossAll,
        FaultClass::LastReplicaPowerLoss,
        FaultClass::ConsumerCrash,
        FaultClass::ConsumerCrashWithRebalance,
        FaultClass::MissingBinding,
        FaultClass::PoisonMessage,
        FaultClass::SlowConsumer,
        FaultClass::LateConsumer,
    ];

    /// A short name for tables and test names.
    pub fn name(self) -> &'static str {
        match self {
            FaultClass::BrokerCrash => "broker crash",
            FaultClass::LeaderCrashBeforeSync => "leader crash before sync",
            FaultClass::Partition => "partition",
            FaultClass::MessageDrop => "message drop",
            FaultClass::PowerLossAll => "power loss of all brokers",
            FaultClass::ConsumerCrash => "consumer crash before ack",
            FaultClass::LeaderCrashWhileReplicaOutOfSync => {
                "leader crash while a replica is out of sync"
            }
            FaultClass::LastReplicaPowerLoss => "power loss of the last replica in sync",
            FaultClass::ConsumerCrashWithRebalance => "consumer crash with rebalance",
            FaultClass::MissingBinding => "missing binding",
            FaultClass::PoisonMessage => "poison message",
            FaultClass::SlowConsumer => "slow consumer",
            FaultClass::LateConsumer => "late consumer",
        }
    }
}

impl std::str::FromStr for FaultClass {
    type Err = String;

    /// A class by its name, with spaces or dashes: `broker crash`,
    /// `consumer-crash-before-ack`.
    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim().replace('-', " ");
        FaultClass::ALL
            .into_iter()
            .find(|c| c.name() == wanted)
            .ok_or_else(|| {
                let all: Vec<String> = FaultClass::ALL
                    .iter()
                    .map(|c| c.name().replace(' ', "-"))
                    .collect();
                format!("unknown fault class `{s}`; allowed: {}", all.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::FaultClass;

    #[test]
    fn a_class_is_found_by_its_name_with_spaces_or_dashes() {
        for c in FaultClass::ALL {
            assert_eq!(c.name().parse::<FaultClass>(), Ok(c));
            assert_eq!(c.name().replace(' ', "-").parse::<FaultClass>(), Ok(c));
        }
        let e = "leader-crash".parse::<FaultClass>().unwrap_err();
        assert!(e.contains("allowed: broker-crash"), "{e}");
    }
}
