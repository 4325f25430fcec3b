//! The kernel settings both systems' `[config]` accept: Linux's writeback
//! sysctls, under their own names, for every server machine.

use std::time::Duration;

use broker_model::Writeback;

use super::error::{ErrAt, ScenarioError};
use super::spanned::{val, Spanned};

/// The largest value Linux takes for either sysctl, an `int`.
const MAX_CENTISECS: u64 = i32::MAX as u64;

/// `vm.dirty_writeback_centisecs`.
pub(crate) const WRITEBACK_KEY: &str = "vm.dirty_writeback_centisecs";
/// `vm.dirty_expire_centisecs`.
pub(crate) const EXPIRE_KEY: &str = "vm.dirty_expire_centisecs";

/// The writeback settings a file gives, defaults filled in; a value Linux
/// would refuse is an error at its place in the file.
pub(crate) fn writeback(
    interval: &Option<Spanned<u64>>,
    expire: &Option<Spanned<u64>>,
    err: &ErrAt,
) -> Result<Writeback, ScenarioError> {
    for (key, value) in [(WRITEBACK_KEY, interval), (EXPIRE_KEY, expire)] {
        if let Some(v) = value.as_ref().filter(|v| *v.get_ref() > MAX_CENTISECS) {
            return Err(err(
                Some(v.span()),
                Some(key),
                format!("`{key}` must be between 0 and {MAX_CENTISECS} (a Linux int)"),
            ));
        }
    }
    let d = Writeback::default();
    let centisecs = |v: u64| Duration::from_millis(v.saturating_mul(10));
    Ok(Writeback {
        interval: val(interval).map_or(d.interval, centisecs),
        expire: val(expire).map_or(d.expire, centisecs),
    })
}

/// The writeback settings as scenario files write them.
pub(crate) fn settings(w: &Writeback) -> [(&'static str, u64); 2] {
    let centisecs = |d: Duration| (d.as_millis() / 10) as u64;
    [
        (WRITEBACK_KEY, centisecs(w.interval)),
        (EXPIRE_KEY, centisecs(w.expire)),
    ]
}
