//! The class of a scenario's faults: what a column of the page's matrix
//! groups scenarios by.

use std::time::Duration;

use broker_model::Workload;

use crate::fault::random::RandomNemesis;
use crate::fault::Fault;

/// What the workload alone does to consumers: they start late
/// (`consumer_start`), are given poison messages they cannot process, or
/// together process fewer messages a second than the producers send, so a
/// backlog waits on the broker. These are the conditions a retention,
/// length, TTL or delivery-limit policy turns into losses.
///
/// A backlog behind slow consumers is also the usual backdrop of a fault
/// scenario (it is what gives a crash something to lose), so it names the
/// class only when no fault does.
fn workload_classes(w: &Workload, faulted: bool) -> Vec<String> {
    let mut out = Vec::new();
    if w.consumer_start > Duration::ZERO {
        out.push("late consumer".to_string());
    }
    let capacity = match w.processing_time.as_secs_f64() {
        t if t > 0.0 => f64::from(w.consumers) / t,
        _ => f64::INFINITY,
    };
    if w.poison > 0.0 {
        out.push("poison messages".to_string());
    }
    if capacity < w.rate && !faulted {
        out.push("slow consumer".to_string());
    }
    out
}

/// A random nemesis draws a different schedule per seed, so its class is
/// the kinds it draws from, not the faults any one seed got.
fn nemesis_class(n: &RandomNemesis) -> String {
    let kinds: Vec<&str> = n.kinds.iter().map(|k| k.name()).collect();
    format!("random nemesis ({})", kinds.join(", "))
}

/// The fault class of a whole scenario: what its workload does to
/// consumers, then its random nemesis, then the classes of its faults in
/// the order they fire, each once, joined by `→`; `no faults` for none.
pub(crate) fn schedule_class(
    faults: &[Fault],
    nemesis: Option<&RandomNemesis>,
    workload: &Workload,
) -> String {
    let mut ordered: Vec<&Fault> = faults.iter().collect();
    ordered.sort_by_key(|f| f.at);
    let mut faulted: Vec<String> = nemesis.map(nemesis_class).into_iter().collect();
    faulted.extend(ordered.into_iter().filter_map(Fault::class));
    let mut classes = workload_classes(workload, !faulted.is_empty());
    for class in faulted {
        if !classes.contains(&class) {
            classes.push(class);
        }
    }
    if classes.is_empty() {
        "no faults".into()
    } else {
        classes.join(" → ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::{Action, Selector, Target};

    #[test]
    fn a_schedule_is_classed_by_its_faults_in_firing_order() {
        let w = Workload::default();
        let sel = |t: Target| Selector {
            targets: vec![t],
            dest: "p0".into(),
        };
        let crash = Fault {
            at: Duration::from_millis(2400),
            trigger: None,
            action: Action::Crash {
                target: sel(Target::Leader),
                restart_after: None,
            },
        };
        let partition = Fault {
            at: Duration::from_secs(2),
            trigger: None,
            action: Action::Partition {
                target: sel(Target::Leader),
                peer: Some(sel(Target::Followers)),
                duration: None,
            },
        };
        let heal = Fault {
            at: Duration::from_secs(3),
            trigger: None,
            action: Action::Heal,
        };
        assert_eq!(
            schedule_class(
                &[crash, partition.clone(), heal.clone(), partition],
                None,
                &w
            ),
            "partition (leader | followers) → process crash of leader"
        );
        assert_eq!(schedule_class(&[heal], None, &w), "no faults");
        let power = Fault {
            at: Duration::ZERO,
            trigger: None,
            action: Action::PowerLoss {
                target: sel(Target::Brokers),
                restart_after: None,
            },
        };
        assert_eq!(
            schedule_class(&[power], None, &w),
            "power loss of all brokers"
        );
    }

    #[test]
    fn consumers_that_start_late_or_process_slower_than_producers_send_are_a_class() {
        let mut w = Workload {
            rate: 100.0,
            consumers: 1,
            processing_time: Duration::from_millis(5),
            ..Workload::default()
        };
        assert_eq!(schedule_class(&[], None, &w), "no faults");
        w.processing_time = Duration::from_millis(50);
        assert_eq!(schedule_class(&[], None, &w), "slow consumer");
        w.consumers = 10;
        assert_eq!(schedule_class(&[], None, &w), "no faults");
        w.consumer_start = Duration::from_secs(3);
        assert_eq!(schedule_class(&[], None, &w), "late consumer");
        w.poison = 0.05;
        assert_eq!(
            schedule_class(&[], None, &w),
            "late consumer → poison messages"
        );
    }

    #[test]
    fn a_slow_consumer_names_the_class_only_when_no_fault_does() {
        let w = Workload {
            rate: 100.0,
            processing_time: Duration::from_millis(50),
            ..Workload::default()
        };
        let crash = Fault {
            at: Duration::from_secs(1),
            trigger: None,
            action: Action::Crash {
                target: Selector {
                    targets: vec![Target::Consumer],
                    dest: "q0".into(),
                },
                restart_after: None,
            },
        };
        assert_eq!(
            schedule_class(&[crash], None, &w),
            "process crash of consumer"
        );
    }

    #[test]
    fn a_random_nemesis_is_its_own_class_named_by_its_kinds() {
        use crate::fault::random::Kind;
        let w = Workload::default();
        let nemesis = RandomNemesis {
            kinds: vec![Kind::Crash, Kind::Partition],
            interval: Duration::from_secs(1),
            max_concurrent: 1,
            targets: vec![Target::AnyBroker],
            dest: "p0".into(),
            min_duration: Duration::from_millis(200),
            max_duration: Duration::from_secs(1),
            start: Duration::ZERO,
            stop: None,
            rate: 0.5,
            latency: Duration::from_millis(100),
            cluster: Vec::new(),
        };
        assert_eq!(
            schedule_class(&[], Some(&nemesis), &w),
            "random nemesis (crash, partition)"
        );
        let crash = Fault {
            at: Duration::from_secs(1),
            trigger: None,
            action: Action::Crash {
                target: Selector {
                    targets: vec![Target::Consumer],
                    dest: "p0".into(),
                },
                restart_after: None,
            },
        };
        assert_eq!(
            schedule_class(&[crash], Some(&nemesis), &w),
            "random nemesis (crash, partition) → process crash of consumer"
        );
    }
}
