//! What each machine's kernel holds dirty in its page cache.
//!
//! A write lands in the page cache and is durable only once written back.
//! An fsync writes a file back at once; otherwise Linux's flusher threads do
//! it on their own: they wake every `vm.dirty_writeback_centisecs` and write
//! back every inode that has been dirty for longer than
//! `vm.dirty_expire_centisecs` (the kernel's `dirtied_when` of the inode),
//! all of its dirty pages at once. A power loss takes whatever is still
//! dirty; a process crash takes nothing, since the kernel and its page cache
//! survive it.
//!
//! The page cache belongs to the machine, not to the process: it is kept
//! here, outside every host's software, so that a process restart finds it
//! as it was, and the harness forgets a machine's dirty files when it cuts
//! its power. Nothing here does I/O; [`super::writeback`] is the flusher
//! that acts on it.
//!
//! It also holds the bytes appended to a journal since they were last handed
//! to turmoil's disk. Turmoil keeps every unsynced write of a machine in one
//! list and walks that list at each write to find the file's length, so a
//! journal appended thousands of times between writebacks costs time
//! quadratic in its appends. Held here, the appends reach turmoil as one
//! write just before they are fsynced, written back or read; a power loss
//! drops them here as turmoil drops its unsynced writes. What turmoil makes
//! durable, and what a restarted process reads, is the same either way, with
//! turmoil's file system as the runner builds it: no random syncs, I/O
//! errors or torn writes, which turmoil draws and applies per write.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::Notify;

/// Linux's writeback settings, as the model scales them: ten times shorter
/// than the kernel's defaults (5 s and 30 s), like the model's other times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Writeback {
    /// `vm.dirty_writeback_centisecs`: how often the flusher wakes; zero
    /// turns periodic writeback off, as it does in Linux.
    pub interval: Duration,
    /// `vm.dirty_expire_centisecs`: how long data may stay dirty before the
    /// flusher writes it back.
    pub expire: Duration,
}

impl Default for Writeback {
    fn default() -> Self {
        Writeback {
            interval: Duration::from_millis(500),
            expire: Duration::from_secs(3),
        }
    }
}

/// A file with dirty pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dirty {
    /// When it was first dirtied since it was last clean.
    since: Duration,
    /// Journal entries written since then.
    entries: u64,
}

/// Bytes appended to a file and not yet handed to turmoil's disk.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unwritten {
    /// The file offset of the first byte.
    pub(crate) at: u64,
    pub(crate) bytes: Vec<u8>,
}

/// One file as the page cache knows it.
#[derive(Debug, Default)]
struct FileCache {
    dirty: Option<Dirty>,
    /// How many times the file has gone from dirty to clean (or lost its
    /// dirty pages): a reader that counted something "while dirty" knows
    /// from a new generation that it is durable, or gone.
    generation: u64,
    unwritten: Option<Unwritten>,
}

impl FileCache {
    /// Counts `entries` more dirty, dirty since `now` if it was clean.
    fn dirtied(&mut self, now: Duration, entries: u64) {
        let dirty = self.dirty.get_or_insert(Dirty {
            since: now,
            entries: 0,
        });
        dirty.entries += entries;
    }
}

/// One machine's page cache.
#[derive(Default)]
struct Machine {
    files: BTreeMap<String, FileCache>,
    /// Woken after each writeback that cleaned something, so that the
    /// machine's software can publish its disk state again.
    written_back: Rc<Notify>,
}

/// The page caches of every machine of a run.
#[derive(Clone, Default)]
pub struct PageCache {
    machines: Rc<RefCell<BTreeMap<String, Machine>>>,
}

/// Where appended bytes went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub(crate) enum Appended {
    /// Held in the page cache, after the bytes already held.
    Held,
    /// Not held, and nothing noted: they do not follow the bytes already
    /// held, which must reach turmoil's disk first.
    NotContiguous,
}

/// What a file's dirty state became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cleaning {
    /// It had dirty entries, now durable.
    WroteBack {
        /// How many.
        entries: u64,
    },
    /// It had nothing dirty.
    AlreadyClean,
}

impl PageCache {
    /// Page caches with nothing dirty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Changes `path` on `host`, adding either on first sight. Every
    /// journal append passes here, so a known file costs no allocation.
    fn with_file<T>(&self, host: &str, path: &str, f: impl FnOnce(&mut FileCache) -> T) -> T {
        let mut machines = self.machines.borrow_mut();
        if !machines.contains_key(host) {
            machines.insert(host.to_string(), Machine::default());
        }
        let machine = machines.get_mut(host).expect("inserted above");
        if !machine.files.contains_key(path) {
            machine.files.insert(path.to_string(), FileCache::default());
        }
        f(machine.files.get_mut(path).expect("inserted above"))
    }

    /// Reads `path` on `host` as it stands; a file never written is clean.
    fn read_file<T>(&self, host: &str, path: &str, f: impl FnOnce(&FileCache) -> T) -> T {
        let machines = self.machines.borrow();
        match machines.get(host).and_then(|m| m.files.get(path)) {
            Some(file) => f(file),
            None => f(&FileCache::default()),
        }
    }

    /// Appends `entries` journal entries, `bytes` at file offset `at`, to
    /// `path` on `host` at `now`. The bytes wait here for
    /// [`PageCache::take_unwritten`].
    pub(crate) fn append(
        &self,
        (host, path): (&str, &str),
        now: Duration,
        at: u64,
        bytes: &[u8],
        entries: u64,
    ) -> Appended {
        self.with_file(host, path, |file| {
            match &mut file.unwritten {
                Some(held) if held.at + held.bytes.len() as u64 == at => {
                    held.bytes.extend_from_slice(bytes);
                }
                Some(_) => return Appended::NotContiguous,
                None => {
                    file.unwritten = Some(Unwritten {
                        at,
                        bytes: bytes.to_vec(),
                    });
                }
            }
            file.dirtied(now, entries);
            Appended::Held
        })
    }

    /// Notes `entries` journal entries written to `path` on `host` at `now`.
    #[cfg(test)]
    fn dirtied(&self, host: &str, path: &str, now: Duration, entries: u64) {
        self.with_file(host, path, |file| file.dirtied(now, entries));
    }

    /// Takes the bytes of `path` on `host` not yet handed to turmoil's disk.
    pub(crate) fn take_unwritten(&self, host: &str, path: &str) -> Option<Unwritten> {
        let mut machines = self.machines.borrow_mut();
        machines
            .get_mut(host)
            .and_then(|m| m.files.get_mut(path))
            .and_then(|file| file.unwritten.take())
    }

    /// Holds again bytes [`PageCache::take_unwritten`] gave out that did not
    /// reach turmoil's disk, ahead of any held since.
    pub(crate) fn hold_again(&self, host: &str, path: &str, mut unwritten: Unwritten) {
        self.with_file(host, path, |file| {
            if let Some(later) = file.unwritten.take() {
                unwritten.bytes.extend_from_slice(&later.bytes);
            }
            file.unwritten = Some(unwritten);
        });
    }

    /// Notes that `path` on `host` was written back (by an fsync or the
    /// flusher).
    pub(crate) fn cleaned(&self, host: &str, path: &str) -> Cleaning {
        self.with_file(host, path, |file| match file.dirty.take() {
            Some(dirty) => {
                file.generation += 1;
                Cleaning::WroteBack {
                    entries: dirty.entries,
                }
            }
            None => Cleaning::AlreadyClean,
        })
    }

    /// Journal entries of `path` on `host` not yet written back.
    pub(crate) fn dirty_entries(&self, host: &str, path: &str) -> u64 {
        self.read_file(host, path, |f| f.dirty.map_or(0, |d| d.entries))
    }

    /// How many times `path` on `host` has been cleaned or lost its dirty
    /// pages.
    pub(crate) fn generation(&self, host: &str, path: &str) -> u64 {
        self.read_file(host, path, |f| f.generation)
    }

    /// The files of `host` dirty since `now - expire` or earlier: those the
    /// flusher writes back when it wakes at `now`.
    pub(crate) fn expired(&self, host: &str, now: Duration, expire: Duration) -> Vec<String> {
        let machines = self.machines.borrow();
        let Some(machine) = machines.get(host) else {
            return Vec::new();
        };
        machine
            .files
            .iter()
            .filter(|(_, f)| f.dirty.is_some_and(|d| d.since + expire <= now))
            .map(|(path, _)| path.clone())
            .collect()
    }

    /// The notification `host`'s flusher gives after a writeback.
    pub(crate) fn written_back(&self, host: &str) -> Rc<Notify> {
        let mut machines = self.machines.borrow_mut();
        Rc::clone(&machines.entry(host.to_string()).or_default().written_back)
    }

    /// Calls `publish` after each of `host`'s writebacks, for as long as the
    /// caller's task runs: the machine's software shows its disk again once
    /// the kernel has made more of it durable.
    pub(crate) async fn after_each_writeback(&self, host: &str, publish: impl Fn()) {
        let written_back = self.written_back(host);
        loop {
            written_back.notified().await;
            publish();
        }
    }

    /// Cuts `host`'s power: its dirty pages are gone. Called by whoever
    /// crashes the machine in turmoil, which discards the same writes.
    pub fn power_loss(&self, host: &str) {
        if let Some(machine) = self.machines.borrow_mut().get_mut(host) {
            for file in machine.files.values_mut() {
                file.unwritten = None;
                if file.dirty.take().is_some() {
                    file.generation += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_file_expires_once_its_first_dirtying_write_is_older_than_the_expiry() {
        let cache = PageCache::new();
        cache.dirtied("b", "/data/log", 100 * MS, 1);
        cache.dirtied("b", "/data/log", 900 * MS, 1);
        let expire = 1000 * MS;
        assert!(cache.expired("b", 1099 * MS, expire).is_empty());
        assert_eq!(cache.expired("b", 1100 * MS, expire), vec!["/data/log"]);
    }

    #[test]
    fn cleaning_a_file_reports_its_entries_and_starts_a_new_generation() {
        let cache = PageCache::new();
        cache.dirtied("b", "/data/log", MS, 2);
        cache.dirtied("b", "/data/log", 2 * MS, 1);
        assert_eq!(cache.dirty_entries("b", "/data/log"), 3);
        assert_eq!(
            cache.cleaned("b", "/data/log"),
            Cleaning::WroteBack { entries: 3 }
        );
        assert_eq!(cache.cleaned("b", "/data/log"), Cleaning::AlreadyClean);
        assert_eq!(cache.dirty_entries("b", "/data/log"), 0);
        assert_eq!(cache.generation("b", "/data/log"), 1);
    }

    #[test]
    fn a_write_after_a_cleaning_is_dirty_from_its_own_time() {
        let cache = PageCache::new();
        cache.dirtied("b", "/data/log", MS, 1);
        cache.cleaned("b", "/data/log");
        cache.dirtied("b", "/data/log", 50 * MS, 1);
        assert!(cache.expired("b", 59 * MS, 10 * MS).is_empty());
        assert_eq!(cache.expired("b", 60 * MS, 10 * MS).len(), 1);
    }

    #[test]
    fn appended_bytes_are_held_until_taken_and_counted_dirty() {
        let cache = PageCache::new();
        let file = ("b", "/data/log");
        assert_eq!(cache.append(file, MS, 10, b"ab", 1), Appended::Held);
        assert_eq!(cache.append(file, 2 * MS, 12, b"cd", 1), Appended::Held);
        assert_eq!(cache.dirty_entries("b", "/data/log"), 2);
        assert_eq!(
            cache.take_unwritten("b", "/data/log"),
            Some(Unwritten {
                at: 10,
                bytes: b"abcd".to_vec()
            })
        );
        assert_eq!(cache.take_unwritten("b", "/data/log"), None);
        assert_eq!(cache.dirty_entries("b", "/data/log"), 2);
    }

    #[test]
    fn bytes_that_do_not_follow_the_held_ones_are_refused_and_not_counted() {
        let cache = PageCache::new();
        let file = ("b", "/data/log");
        assert_eq!(cache.append(file, MS, 0, b"ab", 1), Appended::Held);
        assert_eq!(cache.append(file, MS, 5, b"cd", 1), Appended::NotContiguous);
        assert_eq!(cache.dirty_entries("b", "/data/log"), 1);
        assert_eq!(
            cache.take_unwritten("b", "/data/log").map(|u| u.bytes),
            Some(b"ab".to_vec())
        );
    }

    #[test]
    fn bytes_held_again_come_before_those_held_since() {
        let cache = PageCache::new();
        let file = ("b", "/data/log");
        assert_eq!(cache.append(file, MS, 0, b"ab", 1), Appended::Held);
        let taken = cache.take_unwritten("b", "/data/log").unwrap();
        assert_eq!(cache.append(file, MS, 2, b"cd", 1), Appended::Held);
        cache.hold_again("b", "/data/log", taken);
        assert_eq!(
            cache.take_unwritten("b", "/data/log"),
            Some(Unwritten {
                at: 0,
                bytes: b"abcd".to_vec()
            })
        );
    }

    #[test]
    fn a_power_loss_drops_the_held_bytes() {
        let cache = PageCache::new();
        assert_eq!(
            cache.append(("b", "/data/log"), MS, 0, b"ab", 1),
            Appended::Held
        );
        cache.power_loss("b");
        assert_eq!(cache.take_unwritten("b", "/data/log"), None);
    }

    #[test]
    fn a_power_loss_forgets_only_that_machines_dirty_files() {
        let cache = PageCache::new();
        cache.dirtied("b1", "/data/log", MS, 1);
        cache.dirtied("b2", "/data/log", MS, 1);
        cache.power_loss("b1");
        assert_eq!(cache.dirty_entries("b1", "/data/log"), 0);
        assert_eq!(cache.generation("b1", "/data/log"), 1);
        assert_eq!(cache.dirty_entries("b2", "/data/log"), 1);
    }
}
