//! Which seeds a report keeps in full.

use crate::document::{Detail, SeedReport, Verdict};

/// Seeds whose lists, trails and series a report keeps in full: the first
/// this many seeds of a scenario (so a short run reads as it always did),
/// and the first this many that lost a message or were inconclusive (so a
/// long sweep shows its losses). Every other seed keeps its counts;
/// `mqsim run --seed N` replays it in full.
pub const DETAILED_SEEDS: usize = 5;

/// Decides, seed after seed in seed order, which seeds stay in full.
///
/// Shards of a sweep each keep their own first seeds, a superset of what
/// one run of the whole sweep keeps among their seeds (a seed among the
/// first few of the sweep is among the first few of its shard), so
/// applying the rule again after a merge gives what one run would.
#[derive(Clone, Debug, Default)]
pub struct Retention {
    /// Seeds seen so far.
    seen: usize,
    /// Losing or inconclusive seeds kept in full so far.
    notable_kept: usize,
}

impl Retention {
    /// Whether the next seed, `row`, stays in full: never when it already
    /// lost its lists.
    pub fn keep(&mut self, row: &SeedReport) -> Detail {
        let notable = row.verdict() != Verdict::NoLoss;
        let first = self.seen < DETAILED_SEEDS;
        self.seen += 1;
        if row.detail == Detail::CountsOnly {
            return Detail::CountsOnly;
        }
        if notable && self.notable_kept < DETAILED_SEEDS {
            self.notable_kept += 1;
            return Detail::Full;
        }
        if first {
            Detail::Full
        } else {
            Detail::CountsOnly
        }
    }

    /// Whether a losing or inconclusive seed to come may still be kept in
    /// full.
    pub fn may_keep_losing(&self) -> bool {
        self.notable_kept < DETAILED_SEEDS
    }

    /// Applies the rule to `seeds`, in seed order.
    pub(crate) fn apply(seeds: &mut Vec<SeedReport>) {
        let mut retention = Retention::default();
        *seeds = std::mem::take(seeds)
            .into_iter()
            .map(|s| match retention.keep(&s) {
                Detail::Full => s,
                Detail::CountsOnly => s.counts_only(),
            })
            .collect();
    }
}
