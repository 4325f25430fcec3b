//! The journal on turmoil's disk: a process restart keeps the page cache, a
//! power loss keeps only what was fsynced or written back.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use super::{flusher, Disk, Journal, PageCache, Writeback};
use crate::history::{EventKind, History};
use crate::process::ProcessTable;

/// How the machine goes down.
#[derive(Clone, Copy)]
enum Down {
    ProcessCrash,
    PowerLoss,
}

const SETTINGS: Writeback = Writeback {
    interval: Duration::from_millis(500),
    expire: Duration::from_secs(3),
};

/// Writes `a` and fsyncs, then writes `b` without fsync, lets `wait` of
/// simulated time pass, takes the machine down, and returns what each start
/// read back, with the history.
fn scenario(down: Down, wait: Duration) -> (Vec<Vec<String>>, History) {
    let seen: Rc<RefCell<Vec<Vec<String>>>> = Rc::default();
    let processes = ProcessTable::new();
    let page_cache = PageCache::new();
    let history = History::default();
    let mut sim = turmoil::Builder::new().build();
    let (s, p, c, h) = (
        Rc::clone(&seen),
        processes.clone(),
        page_cache.clone(),
        history.clone(),
    );
    sim.host("node", move || {
        let (seen, p, c, h) = (Rc::clone(&s), p.clone(), c.clone(), h.clone());
        async move {
            tokio::task::spawn_local(flusher(c.clone(), "node".into(), SETTINGS, h));
            p.wait_until_started("node").await;
            let disk = Disk::new("node", &c);
            let (mut journal, entries) = Journal::<String>::open(&disk, "j")?;
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
    while sim.elapsed() < wait {
        sim.step().unwrap();
    }
    match down {
        Down::PowerLoss => {
            page_cache.power_loss("node");
            sim.crash("node");
        }
        Down::ProcessCrash => {
            processes.stop("node");
            sim.bounce("node");
            processes.start("node");
        }
    }
    sim.bounce("node");
    for _ in 0..5 {
        sim.step().unwrap();
    }
    let out = seen.borrow().clone();
    (out, history)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_process_crash_keeps_unsynced_writes() {
    let (seen, _) = scenario(Down::ProcessCrash, Duration::ZERO);
    assert_eq!(seen, vec![vec![], strings(&["a", "b"])]);
}

#[test]
fn a_power_loss_before_writeback_keeps_only_synced_writes() {
    let (seen, history) = scenario(Down::PowerLoss, Duration::from_millis(2900));
    assert_eq!(seen, vec![vec![], strings(&["a"])]);
    assert!(!history
        .snapshot()
        .iter()
        .any(|e| matches!(e.kind, EventKind::Writeback { .. })));
}

#[test]
fn a_power_loss_after_the_writeback_interval_keeps_what_was_written_back() {
    let (seen, history) = scenario(Down::PowerLoss, Duration::from_millis(3600));
    assert_eq!(seen, vec![vec![], strings(&["a", "b"])]);
    let writebacks: Vec<_> = history
        .snapshot()
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::Writeback { .. }))
        .collect();
    assert_eq!(writebacks.len(), 1);
    assert_eq!(writebacks[0].kind, EventKind::Writeback { entries: 1 });
    // `b` was written at 0 s: dirty for the 3 s expiry at the flusher's
    // wake-up at 3 s.
    assert_eq!(writebacks[0].at_us, 3_000_000);
}

#[test]
fn an_entry_cut_short_ends_what_the_journal_reads_back() {
    let mut sim = turmoil::Builder::new().build();
    sim.client("node", async {
        let disk = Disk::new("node", &PageCache::new());
        let (mut journal, _) = Journal::<String>::open(&disk, "j")?;
        journal.append(&"a".to_string())?;
        journal.append(&"b".to_string())?;
        journal.sync()?;
        // Each entry is a 4-byte length and 2 bytes of postcard: lose the
        // last byte of the second.
        let path = format!("{}/j", super::DATA_DIR);
        let file = turmoil::fs::shim::std::fs::OpenOptions::new()
            .write(true)
            .open(&path)?;
        file.set_len(11)?;
        let (_, entries) = Journal::<String>::open(&disk, "j")?;
        assert_eq!(entries, strings(&["a"]));
        Ok(())
    });
    sim.run().unwrap();
}

#[test]
fn appends_that_do_not_fit_on_the_disk_stay_in_the_page_cache() {
    let mut builder = turmoil::Builder::new();
    builder.fs().capacity(8);
    let mut sim = builder.build();
    sim.client("node", async {
        let page_cache = PageCache::new();
        let disk = Disk::new("node", &page_cache);
        let (mut journal, _) = Journal::<String>::open(&disk, "j")?;
        journal.append(&"a long entry".to_string())?;
        assert!(journal.sync().is_err(), "the disk holds 8 bytes");
        assert_eq!(journal.unsynced(), 1);
        let path = format!("{}/j", super::DATA_DIR);
        let held = page_cache.take_unwritten("node", &path);
        assert_eq!(held.map(|u| (u.at, u.bytes.len())), Some((0, 4 + 13)));
        Ok(())
    });
    sim.run().unwrap();
}
