use super::*;

#[test]
fn roles_and_hosts_parse_and_print() {
    assert_eq!("leader".parse::<Target>(), Ok(Target::Leader));
    assert_eq!("all-brokers".parse::<Target>(), Ok(Target::Brokers));
    assert_eq!(
        "broker-2".parse::<Target>(),
        Ok(Target::Host("broker-2".into()))
    );
    assert!("leeder".parse::<Target>().unwrap_err().contains("leader"));
    let fault = Fault {
        at: Duration::from_secs(2),
        trigger: None,
        action: Action::Crash {
            target: Selector {
                targets: vec![Target::Leader],
                dest: "p0".into(),
            },
            restart_after: Some(Duration::from_millis(1500)),
        },
    };
    assert_eq!(
        fault.to_string(),
        "at 2s: crash leader of p0, restart after 1500ms"
    );
}

#[test]
fn a_schedule_is_classed_by_its_faults_in_firing_order() {
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
        schedule_class(&[crash, partition.clone(), heal.clone(), partition]),
        "partition (leader | followers) → process crash of leader"
    );
    assert_eq!(schedule_class(&[heal]), "no faults");
    let power = Fault {
        at: Duration::ZERO,
        trigger: None,
        action: Action::PowerLoss {
            target: sel(Target::Brokers),
            restart_after: None,
        },
    };
    assert_eq!(schedule_class(&[power]), "power loss of all brokers");
}

#[test]
fn an_unbind_is_classed_as_a_missing_binding_and_printed_with_its_binding() {
    let fault = Fault {
        at: Duration::ZERO,
        trigger: None,
        action: Action::Unbind {
            binding: Binding {
                exchange: "orders".into(),
                queue: 1,
                routing_key: "eu.*".into(),
            },
            duration: Some(Duration::from_secs(2)),
        },
    };
    assert_eq!(fault.class().as_deref(), Some("missing binding"));
    assert_eq!(
        fault.to_string(),
        "at 0s: unbind orders -> q1 key \"eu.*\", bound again after 2s"
    );
    assert_eq!(fault.action.duration(), Some(Duration::from_secs(2)));
}
