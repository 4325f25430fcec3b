//! A sweep in bounded memory reports what keeping every run would, whatever
//! the number of threads.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use harness::scenario;
use harness::suite::{self, SweepEnd, SweepHooks};
use reports::Detail;

#[test]
fn a_sweep_reports_what_run_seeds_does_whatever_the_thread_count() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/log-acks1-leader-crash.toml");
    let s = scenario::load(&file).unwrap();
    let seeds: Vec<u64> = (1..=9).collect();
    let (kept, _) = suite::run_seeds(&s, &seeds).unwrap();
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let histories = Mutex::new(0);
        let mut streamed = Vec::new();
        let stop = AtomicBool::new(false);
        let (swept, end) = pool
            .install(|| {
                suite::sweep(
                    &s,
                    &seeds,
                    SweepHooks {
                        on_run: &|run| *histories.lock().unwrap() += run.events.len(),
                        on_seed: &mut |line| streamed.push(line.row.seed),
                        stop: &stop,
                    },
                )
            })
            .unwrap();
        assert_eq!(end, SweepEnd::Complete);
        assert!(swept == kept, "{threads} threads: the sweep differs");
        assert_eq!(streamed, seeds, "seeds streamed out of order");
        assert!(*histories.lock().unwrap() > 9 * 1_000);
    }
    let full = kept
        .seeds
        .iter()
        .filter(|s| s.detail == Detail::Full)
        .count();
    assert!(full < seeds.len(), "every seed kept in full");
    assert_eq!(kept.ack_latency_us.len(), kept.totals.acknowledged);
}

#[test]
fn a_stopped_sweep_reports_no_seed() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/log-acks1-leader-crash.toml");
    let s = scenario::load(&file).unwrap();
    let stop = AtomicBool::new(true);
    let (r, end) = suite::sweep(
        &s,
        &[1, 2, 3],
        SweepHooks {
            on_run: &|_| {},
            on_seed: &mut |_| {},
            stop: &stop,
        },
    )
    .unwrap();
    assert_eq!((end, r.seeds.len()), (SweepEnd::Stopped, 0));
}
