//! The journal on turmoil's disk: a process restart keeps the page cache, a
//! power loss keeps only what was fsynced.

use std::cell::RefCell;
use std::rc::Rc;

use broker_model::disk::Journal;
use broker_model::ProcessTable;

/// Writes `a` and fsyncs, then writes `b` without fsync, then records what
/// each later start reads back.
fn scenario(power_loss: bool) -> Vec<Vec<String>> {
    let seen: Rc<RefCell<Vec<Vec<String>>>> = Rc::default();
    let processes = ProcessTable::new();
    let mut sim = turmoil::Builder::new().build();
    let (s, p) = (Rc::clone(&seen), processes.clone());
    sim.host("node", move || {
        let (seen, p) = (Rc::clone(&s), p.clone());
        async move {
            p.wait_until_started("node").await;
            let (mut journal, entries) = Journal::<String>::open("j")?;
            let first_start = seen.borrow().is_empty();
            seen.borrow_mut().push(entries);
            if first_start {
                journal.append(&"a".to_string())?;
                journal.sync()?;
                journal.append(&"b".to_string())?;
            }
            std::future::pending::<()>().await;
            Ok(())
        }
    });
    sim.step().unwrap();
    if power_loss {
        sim.crash("node");
    } else {
        processes.stop("node");
        sim.bounce("node");
        processes.start("node");
    }
    sim.bounce("node");
    for _ in 0..5 {
        sim.step().unwrap();
    }
    let out = seen.borrow().clone();
    out
}

#[test]
fn a_process_crash_keeps_unsynced_writes() {
    assert_eq!(
        scenario(false),
        vec![vec![], vec!["a".to_string(), "b".to_string()]]
    );
}

#[test]
fn a_power_loss_keeps_only_synced_writes() {
    assert_eq!(scenario(true), vec![vec![], vec!["a".to_string()]]);
}
