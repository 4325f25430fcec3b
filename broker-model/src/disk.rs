//! An append-only journal on turmoil's simulated disk.
//!
//! Each broker keeps one journal file of JSON lines. Writes land in the
//! simulated page cache; only [`Journal::sync`] (fsync) makes them survive a
//! power loss, which turmoil models by discarding unsynced writes when a host
//! is crashed. A process crash keeps the page cache, so a restarted process
//! reads back everything it wrote. One file per broker, rather than one per
//! partition, keeps turmoil's pending-write bookkeeping cheap.

use std::io;
use std::marker::PhantomData;
use std::os::unix::fs::FileExt;

use serde::de::DeserializeOwned;
use serde::Serialize;
use turmoil::fs::shim::std::fs::{create_dir_all, read, sync_dir, File, OpenOptions};

/// The directory every model host keeps its data in.
pub(crate) const DATA_DIR: &str = "/data";

/// A journal of entries of type `T`.
pub struct Journal<T> {
    file: File,
    end: u64,
    unsynced: u64,
    _entries: PhantomData<T>,
}

impl<T: Serialize + DeserializeOwned> Journal<T> {
    /// Opens (creating if needed) the journal `name` in `DATA_DIR` and reads
    /// back every complete entry it holds.
    ///
    /// A new file and its directory entry are fsynced at once, so that an
    /// empty journal survives a power loss as an empty journal.
    pub fn open(name: &str) -> io::Result<(Self, Vec<T>)> {
        let path = format!("{DATA_DIR}/{name}");
        create_dir_all(DATA_DIR)?;
        sync_dir("/")?;
        let existing = read(&path).ok();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .open(&path)?;
        let mut entries = Vec::new();
        let mut end = 0u64;
        match existing {
            Some(bytes) => {
                for line in bytes.split_inclusive(|b| *b == b'\n') {
                    // A line without its newline is a write cut short: stop.
                    if !line.ends_with(b"\n") {
                        break;
                    }
                    match serde_json::from_slice(&line[..line.len() - 1]) {
                        Ok(e) => entries.push(e),
                        Err(_) => break,
                    }
                    end += line.len() as u64;
                }
            }
            None => {
                file.sync_all()?;
                sync_dir(DATA_DIR)?;
            }
        }
        Ok((
            Journal {
                file,
                end,
                unsynced: 0,
                _entries: PhantomData,
            },
            entries,
        ))
    }

    /// Appends an entry to the page cache.
    pub fn append(&mut self, entry: &T) -> io::Result<()> {
        let mut line = serde_json::to_vec(entry).expect("journal entries always serialize");
        line.push(b'\n');
        self.file.write_all_at(&line, self.end)?;
        self.end += line.len() as u64;
        self.unsynced += 1;
        Ok(())
    }

    /// Makes everything appended so far durable; returns how many entries
    /// that covered.
    pub fn sync(&mut self) -> io::Result<u64> {
        self.file.sync_all()?;
        Ok(std::mem::take(&mut self.unsynced))
    }

    /// Entries appended since the last sync.
    pub(crate) fn unsynced(&self) -> u64 {
        self.unsynced
    }
}

/// A small document rewritten whole and fsynced on every change: the
/// controller's metadata, which (like ZooKeeper's or KRaft's) is always
/// durable before it is acted on.
pub(crate) struct Document<T> {
    path: String,
    _doc: PhantomData<T>,
}

impl<T: Serialize + DeserializeOwned> Document<T> {
    /// Opens the document `name` in `DATA_DIR`, returning its last durable
    /// contents if any.
    pub(crate) fn open(name: &str) -> io::Result<(Self, Option<T>)> {
        let path = format!("{DATA_DIR}/{name}");
        create_dir_all(DATA_DIR)?;
        sync_dir("/")?;
        let current = read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        Ok((
            Document {
                path,
                _doc: PhantomData,
            },
            current,
        ))
    }

    /// Replaces the document and fsyncs it.
    pub(crate) fn store(&self, doc: &T) -> io::Result<()> {
        let bytes = serde_json::to_vec(doc).expect("documents always serialize");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.path)?;
        file.write_all_at(&bytes, 0)?;
        file.sync_all()?;
        sync_dir(DATA_DIR)?;
        Ok(())
    }
}

/// The journal on turmoil's disk: a process restart keeps the page cache,
/// a power loss keeps only what was fsynced.
#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::Journal;
    use crate::process::ProcessTable;

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
}
