//! A seeded random fault schedule, like Jepsen's nemesis or FoundationDB's
//! swizzle: each seed draws its own sequence of faults from the kinds,
//! targets and timings a scenario's `[nemesis]` allows. The run still ends
//! with the usual heal and drain.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Action, Fault, Selector, Target};

/// The kinds of fault a random nemesis may inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A process crash of one target.
    Crash,
    /// A power loss of one target.
    PowerLoss,
    /// The cluster (brokers and controller) split in two at random.
    Partition,
    /// One target cut off from every other host.
    Isolate,
    /// Datagrams between one target and everyone else dropped at `rate`.
    Drop,
    /// Datagrams between one target and everyone else delayed by `latency`.
    Delay,
    /// Datagrams between one target and everyone else held.
    Hold,
}

/// Every kind's name, for error messages.
pub(crate) const KIND_NAMES: &[&str] = &[
    "crash",
    "power_loss",
    "partition",
    "isolate",
    "drop",
    "delay",
    "hold",
];

impl Kind {
    /// The name scenario files give it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Crash => "crash",
            Kind::PowerLoss => "power_loss",
            Kind::Partition => "partition",
            Kind::Isolate => "isolate",
            Kind::Drop => "drop",
            Kind::Delay => "delay",
            Kind::Hold => "hold",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "crash" => Kind::Crash,
            "power_loss" | "power-loss" => Kind::PowerLoss,
            "partition" => Kind::Partition,
            "isolate" => Kind::Isolate,
            "drop" => Kind::Drop,
            "delay" => Kind::Delay,
            "hold" => Kind::Hold,
            other => {
                return Err(format!(
                    "unknown fault kind `{other}`; allowed: {}",
                    KIND_NAMES.join(", ")
                ))
            }
        })
    }
}

/// A scenario's `[nemesis]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomNemesis {
    /// The kinds to draw from.
    pub kinds: Vec<Kind>,
    /// Mean time between fault starts (exponentially distributed).
    pub interval: Duration,
    /// At most this many faults at once.
    pub max_concurrent: u32,
    /// Whom a crash, power loss, isolation or link fault hits (one is drawn
    /// per fault).
    pub targets: Vec<Target>,
    /// The destination role targets refer to.
    pub dest: String,
    /// Each fault lasts between these (uniform).
    pub min_duration: Duration,
    /// See `min_duration`.
    pub max_duration: Duration,
    /// No fault starts before this.
    pub start: Duration,
    /// No fault starts after this (`None`: the scenario's duration).
    pub stop: Option<Duration>,
    /// Drop probability for `drop` faults.
    pub rate: f64,
    /// Latency for `delay` faults.
    pub latency: Duration,
    /// The hosts a `partition` splits: the cluster's servers.
    pub cluster: Vec<String>,
}

impl RandomNemesis {
    /// The faults seed `seed` draws, within a run of `duration`.
    pub(crate) fn generate(&self, seed: u64, duration: Duration) -> Vec<Fault> {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x7377_697a_7a6c_6521);
        let stop = self.stop.unwrap_or(duration).min(duration);
        let mut faults = Vec::new();
        let mut active: Vec<Duration> = Vec::new();
        let mut t = self.start;
        loop {
            let u: f64 = rng.random_range(f64::EPSILON..1.0);
            t += self.interval.mul_f64(-u.ln());
            if t >= stop {
                break;
            }
            active.retain(|end| *end > t);
            if active.len() as u32 >= self.max_concurrent {
                continue;
            }
            let span = self.max_duration.saturating_sub(self.min_duration);
            let lasting = self.min_duration + span.mul_f64(rng.random_range(0.0..=1.0));
            let kind = self.kinds[rng.random_range(0..self.kinds.len())];
            let target = Selector {
                targets: vec![self.targets[rng.random_range(0..self.targets.len())].clone()],
                dest: self.dest.clone(),
            };
            let duration = Some(lasting);
            let action = match kind {
                Kind::Crash => Action::Crash {
                    target,
                    restart_after: duration,
                },
                Kind::PowerLoss => Action::PowerLoss {
                    target,
                    restart_after: duration,
                },
                Kind::Isolate => Action::Partition {
                    target,
                    peer: None,
                    duration,
                },
                Kind::Partition => {
                    let (a, b) = self.split(&mut rng);
                    Action::Partition {
                        target: a,
                        peer: Some(b),
                        duration,
                    }
                }
                Kind::Drop => Action::Drop {
                    target,
                    peer: None,
                    rate: self.rate,
                    duration,
                },
                Kind::Delay => Action::Delay {
                    target,
                    peer: None,
                    latency: self.latency,
                    duration,
                },
                Kind::Hold => Action::Hold {
                    target,
                    peer: None,
                    duration,
                },
            };
            active.push(t + lasting);
            faults.push(Fault {
                at: Duration::from_millis(t.as_millis() as u64),
                trigger: None,
                action,
            });
        }
        faults
    }

    /// A random split of the cluster into two non-empty sides.
    fn split(&self, rng: &mut StdRng) -> (Selector, Selector) {
        let n = self.cluster.len();
        let mut side: Vec<bool> = (0..n).map(|_| rng.random_bool(0.5)).collect();
        if side.iter().all(|s| *s) || side.iter().all(|s| !*s) {
            let i = rng.random_range(0..n);
            side[i] = !side[i];
        }
        let pick = |want: bool| Selector {
            targets: self
                .cluster
                .iter()
                .zip(&side)
                .filter(|(_, s)| **s == want)
                .map(|(h, _)| Target::Host(h.clone()))
                .collect(),
            dest: self.dest.clone(),
        };
        (pick(true), pick(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nemesis() -> RandomNemesis {
        RandomNemesis {
            kinds: vec![Kind::Crash, Kind::Partition, Kind::Drop],
            interval: Duration::from_millis(500),
            max_concurrent: 1,
            targets: vec![Target::AnyBroker, Target::Leader],
            dest: "p0".into(),
            min_duration: Duration::from_millis(100),
            max_duration: Duration::from_millis(800),
            start: Duration::from_secs(1),
            stop: None,
            rate: 0.5,
            latency: Duration::from_millis(50),
            cluster: vec!["controller".into(), "broker-1".into(), "broker-2".into()],
        }
    }

    #[test]
    fn each_seed_draws_its_own_schedule_and_always_the_same_one() {
        let n = nemesis();
        let a = n.generate(1, Duration::from_secs(10));
        assert_eq!(a, n.generate(1, Duration::from_secs(10)));
        assert_ne!(a, n.generate(2, Duration::from_secs(10)));
        assert!(!a.is_empty());
    }

    #[test]
    fn faults_stay_in_the_window_and_never_overlap_beyond_the_limit() {
        let n = nemesis();
        for seed in 0..50 {
            let faults = n.generate(seed, Duration::from_secs(10));
            let mut last_end = Duration::ZERO;
            for f in &faults {
                assert!(f.at >= Duration::from_secs(1) && f.at < Duration::from_secs(10));
                let lasting = f.action.duration().expect("a drawn fault ends");
                assert!(
                    f.at + Duration::from_millis(1) >= last_end,
                    "seed {seed}: overlap"
                );
                last_end = f.at + lasting;
            }
        }
    }

    #[test]
    fn a_random_partition_splits_the_cluster_into_two_non_empty_sides() {
        let n = nemesis();
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..20 {
            let (a, b) = n.split(&mut rng);
            assert!(!a.targets.is_empty() && !b.targets.is_empty());
            assert_eq!(a.targets.len() + b.targets.len(), 3);
        }
    }
}
