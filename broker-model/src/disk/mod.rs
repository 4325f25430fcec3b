//! A machine's disk: turmoil's simulated file system, and the page cache
//! that decides which of its writes a power loss takes.
//!
//! Each broker keeps one journal file of entries, each a little-endian
//! `u32` length and the entry in postcard, Kafka's way of framing records
//! in a segment (a length, then the bytes). Writes land in the
//! page cache; an fsync ([`Journal::sync`]), or the kernel's flusher once
//! they have been dirty long enough ([`writeback`]), makes them survive a
//! power loss, which turmoil models by discarding unsynced writes when a host
//! is crashed. A process crash keeps the page cache, so a restarted process
//! reads back everything it wrote. Appends wait in the page cache and reach
//! turmoil in one write before an fsync, a writeback or a read (see
//! [`page_cache`] for why).

mod page_cache;
mod writeback;

pub use page_cache::{PageCache, Writeback};
pub(crate) use writeback::flusher;
use writeback::write_out;

use std::io;
use std::marker::PhantomData;
use std::os::unix::fs::FileExt;

use serde::de::DeserializeOwned;
use serde::Serialize;
use turmoil::fs::shim::std::fs::{create_dir_all, exists, read, sync_dir, File, OpenOptions};

use crate::clock::now;
use crate::encode;
use page_cache::{Appended, Cleaning};

/// The directory every model host keeps its data in.
pub(crate) const DATA_DIR: &str = "/data";

/// One machine's disk as its software writes to it.
#[derive(Clone)]
pub(crate) struct Disk {
    host: String,
    page_cache: PageCache,
}

impl Disk {
    /// The disk of `host`, whose dirty pages `page_cache` keeps.
    pub(crate) fn new(host: &str, page_cache: &PageCache) -> Self {
        Disk {
            host: host.to_string(),
            page_cache: page_cache.clone(),
        }
    }
}

/// A journal of entries of type `T`.
pub struct Journal<T> {
    disk: Disk,
    path: String,
    file: File,
    end: u64,
    /// Entries appended since this journal's own last fsync, whatever the
    /// kernel wrote back meanwhile.
    since_sync: u64,
    /// The buffer each entry is framed in, kept between appends.
    framed: Vec<u8>,
    _entries: PhantomData<T>,
}

impl<T: Serialize + DeserializeOwned> Journal<T> {
    /// Opens (creating if needed) the journal `name` in `DATA_DIR` and reads
    /// back every complete entry it holds.
    ///
    /// A new file and its directory entry are fsynced at once, so that an
    /// empty journal survives a power loss as an empty journal.
    pub(crate) fn open(disk: &Disk, name: &str) -> io::Result<(Self, Vec<T>)> {
        let path = format!("{DATA_DIR}/{name}");
        create_dir_all(DATA_DIR)?;
        sync_dir("/")?;
        let existed = exists(&path);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .open(&path)?;
        let mut entries = Vec::new();
        let mut end = 0u64;
        if existed {
            write_out(&disk.page_cache, &disk.host, &path, &file)?;
            let bytes = read(&path)?;
            let mut rest = bytes.as_slice();
            // An entry shorter than its length says is a write cut short:
            // stop there.
            while let Some((len, body)) = rest.split_first_chunk::<4>() {
                let len = u32::from_le_bytes(*len) as usize;
                let Some(entry) = body.get(..len) else {
                    break;
                };
                match postcard::from_bytes(entry) {
                    Ok(e) => entries.push(e),
                    Err(_) => break,
                }
                end += (4 + len) as u64;
                rest = &body[len..];
            }
        } else {
            file.sync_all()?;
            sync_dir(DATA_DIR)?;
        }
        Ok((
            Journal {
                disk: disk.clone(),
                path,
                file,
                end,
                since_sync: 0,
                framed: Vec::new(),
                _entries: PhantomData,
            },
            entries,
        ))
    }

    /// Appends an entry to the page cache.
    pub fn append(&mut self, entry: &T) -> io::Result<()> {
        let framed = &mut self.framed;
        framed.clear();
        framed.extend_from_slice(&[0; 4]);
        encode::append(entry, framed).expect("journal entries always serialize");
        let len = u32::try_from(framed.len() - 4).expect("a journal entry fits a u32 length");
        framed[..4].copy_from_slice(&len.to_le_bytes());
        let framed = &self.framed;
        let Disk { host, page_cache } = &self.disk;
        let file = (host.as_str(), self.path.as_str());
        if page_cache.append(file, now(), self.end, framed, 1) == Appended::NotContiguous {
            write_out(page_cache, host, &self.path, &self.file)?;
            let held = page_cache.append(file, now(), self.end, framed, 1);
            assert_eq!(held, Appended::Held, "nothing is held after a write-out");
        }
        self.end += framed.len() as u64;
        self.since_sync += 1;
        Ok(())
    }

    /// Makes everything appended so far durable; returns how many entries
    /// that covered (none if the flusher wrote them back first).
    pub fn sync(&mut self) -> io::Result<u64> {
        let Disk { host, page_cache } = &self.disk;
        write_out(page_cache, host, &self.path, &self.file)?;
        self.file.sync_all()?;
        self.since_sync = 0;
        Ok(match page_cache.cleaned(host, &self.path) {
            Cleaning::WroteBack { entries } => entries,
            Cleaning::AlreadyClean => 0,
        })
    }

    /// Entries appended since the last fsync: what a flush policy counts,
    /// as Kafka counts messages since its own last flush.
    pub(crate) fn since_sync(&self) -> u64 {
        self.since_sync
    }

    /// Entries appended and not yet written back.
    pub(crate) fn unsynced(&self) -> u64 {
        self.disk
            .page_cache
            .dirty_entries(&self.disk.host, &self.path)
    }

    /// Changes each time the journal's dirty entries become durable (or are
    /// lost): what was counted while they were dirty no longer is.
    pub(crate) fn generation(&self) -> u64 {
        self.disk.page_cache.generation(&self.disk.host, &self.path)
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

#[cfg(test)]
mod tests;
