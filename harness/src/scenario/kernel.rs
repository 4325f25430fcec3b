//! The kernel settings both systems' `[config]` accept: Linux's writeback
//! sysctls, under their own names, for every server machine.

use std::time::Duration;

use broker_model::Writeback;

use super::spanned::{val, Spanned};

/// `vm.dirty_writeback_centisecs`.
pub(crate) const WRITEBACK_KEY: &str = "vm.dirty_writeback_centisecs";
/// `vm.dirty_expire_centisecs`.
pub(crate) const EXPIRE_KEY: &str = "vm.dirty_expire_centisecs";

/// The writeback settings a file gives, defaults filled in.
pub(crate) fn writeback(
    interval: &Option<Spanned<u64>>,
    expire: &Option<Spanned<u64>>,
) -> Writeback {
    let d = Writeback::default();
    let centisecs = |v: u64| Duration::from_millis(v.saturating_mul(10));
    Writeback {
        interval: val(interval).map_or(d.interval, centisecs),
        expire: val(expire).map_or(d.expire, centisecs),
    }
}

/// The writeback settings as scenario files write them.
pub(crate) fn settings(w: &Writeback) -> [(&'static str, u64); 2] {
    let centisecs = |d: Duration| (d.as_millis() / 10) as u64;
    [
        (WRITEBACK_KEY, centisecs(w.interval)),
        (EXPIRE_KEY, centisecs(w.expire)),
    ]
}
