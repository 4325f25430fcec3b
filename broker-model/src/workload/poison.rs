//! Poison messages: the share of the workload a consumer's application
//! cannot process. Which messages are poison follows from the message id
//! alone, not from the run's random numbers, so that turning poison on
//! leaves every other message's history as it was.

use crate::history::MsgId;

/// What a consumer's application does with a poison message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PoisonAction {
    /// It fails cleanly: the consumer hands the message back with
    /// `basic.reject` and `requeue = true`.
    #[default]
    Reject,
    /// It crashes: the consumer process exits holding the message (and
    /// whatever else it had not acknowledged) and is started again at
    /// once, as a supervisor restarts it; the broker requeues what the
    /// dead connection held.
    Crash,
}

/// Parts per million, the resolution of the poison share.
const MILLION: u64 = 1_000_000;

/// Whether `msg` is poison when a share `fraction` (0 to 1) of the
/// messages is.
pub fn is_poison(fraction: f64, msg: MsgId) -> bool {
    if fraction <= 0.0 {
        return false;
    }
    let threshold = (fraction * MILLION as f64).round() as u64;
    mix((u64::from(msg.producer) << 32) | u64::from(msg.seq)) % MILLION < threshold
}

/// SplitMix64's finaliser: neighbouring ids land far apart.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D1_0499_1133_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poisoned(fraction: f64) -> usize {
        (0..10_000)
            .filter(|seq| is_poison(fraction, MsgId::new(1, *seq)))
            .count()
    }

    #[test]
    fn no_message_is_poison_without_a_share() {
        assert_eq!(poisoned(0.0), 0);
    }

    #[test]
    fn the_poison_share_is_close_to_the_fraction_asked_for() {
        let n = poisoned(0.02);
        assert!((150..=250).contains(&n), "{n} of 10000");
        assert_eq!(poisoned(1.0), 10_000);
    }

    #[test]
    fn a_message_is_poison_or_not_whatever_else_happens() {
        let id = MsgId::new(2, 17);
        assert_eq!(is_poison(0.5, id), is_poison(0.5, id));
    }
}
