//! One factor for every time setting of the deployment's files.
//!
//! The models see many failure detections in a few simulated seconds
//! because their times are a hundredth of the real systems' (a consumer
//! group's 45 s session is 450 ms). Real times as they are would need
//! runs of many simulated minutes for one ISR shrink (30 s) or one missed
//! auto-commit (5 s), so the audit scales every time setting of the files,
//! and every default, by the same factor: the ratios between them, which
//! decide what happens first, stay those of the deployment.

use crate::audit::deployment::TimeScale;

/// Simulated time = real time × 0.01.
pub(crate) const SCALE: TimeScale = TimeScale { factor: 0.01 };

/// `ms` real milliseconds in simulated milliseconds; a time above zero
/// stays above zero.
pub(crate) fn scaled_ms(ms: u64) -> u64 {
    if ms == 0 {
        return 0;
    }
    let scaled = (ms as f64 * SCALE.factor).round();
    if scaled >= u64::MAX as f64 {
        u64::MAX
    } else {
        (scaled as u64).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_scaled_a_hundred_times_down_and_never_to_zero() {
        assert_eq!(scaled_ms(30_000), 300);
        assert_eq!(scaled_ms(45_000), 450);
        assert_eq!(scaled_ms(40), 1);
        assert_eq!(scaled_ms(0), 0);
        assert!(scaled_ms(u64::MAX) > 1 << 56);
    }
}
