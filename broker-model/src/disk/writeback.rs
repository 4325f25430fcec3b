//! The kernel's flusher: wakes every `vm.dirty_writeback_centisecs` and
//! writes back every file dirty for longer than `vm.dirty_expire_centisecs`.
//!
//! It runs on every server machine beside the broker's process, started at
//! each boot before the process, so that it keeps writing back while the
//! process is down after a crash. Its wake-ups fall on multiples of the
//! interval in simulated time, so a restart does not move them.

use std::io;
use std::os::unix::fs::FileExt;
use std::time::Duration;

use turmoil::fs::shim::std::fs::{File, OpenOptions};

use super::page_cache::{Cleaning, PageCache, Writeback};
use crate::clock::now;
use crate::history::{EventKind, History};

/// Runs `host`'s flusher until the machine goes down.
pub(crate) async fn flusher(
    page_cache: PageCache,
    host: String,
    settings: Writeback,
    history: History,
) {
    if settings.interval.is_zero() {
        return;
    }
    let period = settings.interval.as_nanos();
    loop {
        let at = now();
        let next = (at.as_nanos() / period + 1) * period;
        let wait = u64::try_from(next - at.as_nanos()).unwrap_or(u64::MAX);
        tokio::time::sleep(Duration::from_nanos(wait)).await;
        let entries = write_back_expired(&page_cache, &host, settings.expire);
        if entries > 0 {
            history.record(&host, EventKind::Writeback { entries });
            page_cache.written_back(&host).notify_waiters();
        }
    }
}

/// Writes back `host`'s files dirty for `expire` or longer; returns how many
/// journal entries that made durable.
fn write_back_expired(page_cache: &PageCache, host: &str, expire: Duration) -> u64 {
    let mut entries = 0;
    for path in page_cache.expired(host, now(), expire) {
        let synced = OpenOptions::new().write(true).open(&path).and_then(|file| {
            write_out(page_cache, host, &path, &file)?;
            file.sync_data()
        });
        // A file gone from the disk has nothing left to write back.
        let cleaning = page_cache.cleaned(host, &path);
        if let (Ok(()), Cleaning::WroteBack { entries: n }) = (synced, cleaning) {
            entries += n;
        }
    }
    entries
}

/// Hands the bytes `page_cache` holds for `path` on `host` to turmoil's disk
/// in one write, where they stay unsynced until an fsync or a writeback:
/// done just before either, and before the file is read.
pub(super) fn write_out(
    page_cache: &PageCache,
    host: &str,
    path: &str,
    file: &File,
) -> io::Result<()> {
    let Some(unwritten) = page_cache.take_unwritten(host, path) else {
        return Ok(());
    };
    let written = file.write_all_at(&unwritten.bytes, unwritten.at);
    if written.is_err() {
        // Still only in the page cache, as they were.
        page_cache.hold_again(host, path, unwritten);
    }
    written
}
