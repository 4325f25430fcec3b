//! Splitting seeds across CI jobs: `--shard k/n` runs every n-th seed of
//! each scenario, starting with the k-th, so n jobs together run them all
//! once and `mqsim merge` puts their reports back together.

use std::fmt;
use std::str::FromStr;

/// One of `count` shards, numbered from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 1..=count.
    pub index: u32,
    /// How many shards there are.
    pub count: u32,
}

impl Shard {
    /// The seeds this shard runs: every `count`-th by position.
    pub fn select(&self, seeds: &[u64]) -> Vec<u64> {
        seeds
            .iter()
            .enumerate()
            .filter(|(i, _)| *i as u32 % self.count == self.index - 1)
            .map(|(_, s)| *s)
            .collect()
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a shard: write k/n with 1 <= k <= n, e.g. 2/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_seed_once() {
        let seeds: Vec<u64> = (1..=10).collect();
        let mut all: Vec<u64> = (1..=3)
            .flat_map(|k| Shard { index: k, count: 3 }.select(&seeds))
            .collect();
        all.sort();
        assert_eq!(all, seeds);
        assert_eq!(Shard { index: 2, count: 3 }.select(&seeds), vec![2, 5, 8]);
    }

    #[test]
    fn shard_syntax_is_checked() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        assert!("0/4".parse::<Shard>().is_err());
        assert!("5/4".parse::<Shard>().is_err());
        assert!("2-4".parse::<Shard>().is_err());
    }
}
