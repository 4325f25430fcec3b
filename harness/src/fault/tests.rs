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
