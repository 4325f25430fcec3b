//! Which scenarios a cluster of local nodes can run for real, and why the
//! others are skipped. A fault that one machine cannot inflict (a network
//! partition or a lossy link without network namespaces, a power cut) is
//! never faked: the scenario is reported as skipped, with the reason.

use crate::fault::{Action, Condition, Fault, Target};
use crate::scenario::{Scenario, System};

/// Why a scenario cannot run on real nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped(pub String);

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks that every part of `scenario` can run on real nodes.
pub fn check(scenario: &Scenario) -> Result<(), Skipped> {
    let skip = |why: String| Err(Skipped(why));
    let System::Queue(config) = &scenario.system else {
        return skip("a log scenario: only queue scenarios run on real RabbitMQ nodes".into());
    };
    if scenario.nemesis.is_some() {
        return skip("a random nemesis draws partitions and power cuts: not run for real".into());
    }
    if config.topology.mandatory
        && config.publish_mode == broker_model::queue::PublishMode::Transaction
    {
        return skip("`mandatory` with transactions is not run for real yet".into());
    }
    if scenario.network != crate::scenario::Network::default() {
        return skip("network latencies other than the default need network namespaces".into());
    }
    for fault in &scenario.faults {
        check_fault(fault)?;
    }
    Ok(())
}

fn check_fault(fault: &Fault) -> Result<(), Skipped> {
    let skip = |why: &str| Err(Skipped(format!("`{}`: {why}", fault.action.name())));
    match &fault.action {
        Action::Partition { .. } | Action::Hold { .. } => {
            return skip("a partition needs network namespaces on one machine")
        }
        Action::Drop { .. } | Action::Delay { .. } => {
            return skip("TCP never loses a frame: a lossy link needs network namespaces and tc")
        }
        Action::PowerLoss { .. } => return skip("a power cut cannot be made on this machine"),
        Action::Crash { target, .. } => {
            for t in &target.targets {
                if matches!(t, Target::Controller) {
                    return skip("a queue cluster has no controller");
                }
            }
        }
        Action::StopApp { .. } | Action::Heal | Action::Unbind { .. } => {}
    }
    if let Some(trigger) = &fault.trigger {
        if !trigger.after.is_zero() || trigger.times != 1 {
            return skip("a trigger's `after` and `times` are not run for real yet");
        }
        if trigger.condition == Condition::BeforeFsync {
            return skip("`before_fsync`: a real node's unsynced writes cannot be observed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario(text: &str) -> Scenario {
        crate::scenario::parse(Path::new("t.toml"), text).expect("a valid scenario")
    }

    const BASE: &str = "name = \"t\"\nsystem = \"queue\"\nexpect = \"no-loss\"\n\
        [config]\nnodes = 3\npublish_mode = \"confirm\"\n";

    #[test]
    fn a_node_crash_runs_for_real() {
        let s = scenario(&format!(
            "{BASE}[[faults]]\nat = \"1s\"\naction = \"crash\"\ntarget = \"leader\"\n"
        ));
        assert_eq!(check(&s), Ok(()));
    }

    #[test]
    fn a_partition_is_skipped_with_its_reason() {
        let s = scenario(&format!(
            "{BASE}[[faults]]\nat = \"1s\"\naction = \"isolate\"\ntarget = \"leader\"\n"
        ));
        let Err(Skipped(why)) = check(&s) else {
            panic!("a partition was accepted")
        };
        assert!(why.contains("network namespaces"), "{why}");
    }

    #[test]
    fn a_power_loss_is_skipped() {
        let s = scenario(&format!(
            "{BASE}[[faults]]\nat = \"1s\"\naction = \"power_loss\"\ntarget = \"leader\"\n"
        ));
        assert!(check(&s).is_err());
    }
}
