//! Writes a scenario back out as a scenario file: how a shrunk reproducer
//! becomes something a person can read, edit and run.

use std::fmt::Write as _;
use std::time::Duration;

use broker_model::queue::queue_name;
use broker_model::PoisonAction;
use toml::Value;

use super::model::{dest_names, Drain, Network, Scenario};
use crate::duration::format_duration;
use crate::fault::random::RandomNemesis;
use crate::fault::{Action, Fault, Selector, Target};

fn string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

fn duration(d: Duration) -> String {
    string(&format_duration(d))
}

fn key(k: &str) -> String {
    if k.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        string(k)
    }
}

fn targets(targets: &[Target]) -> String {
    if let [one] = targets {
        return string(&one.to_string());
    }
    let all: Vec<String> = targets.iter().map(|t| string(&t.to_string())).collect();
    format!("[{}]", all.join(", "))
}

/// The scenario as the text of a scenario file that reads back as the same
/// scenario.
pub fn write(s: &Scenario) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "name = {}", string(&s.name));
    if !s.description.is_empty() {
        let _ = writeln!(w, "description = {}", string(&s.description));
    }
    let _ = writeln!(w, "system = {}", string(s.system.name()));
    let _ = writeln!(w, "expect = {}", string(s.expect.name()));
    let seeds: Vec<String> = s.seeds.iter().map(u64::to_string).collect();
    let _ = writeln!(w, "seeds = [{}]", seeds.join(", "));
    let _ = writeln!(w, "duration = {}", duration(s.duration));
    let drain = match s.drain {
        Drain::Fixed(deadline) => duration(deadline),
        Drain::FollowBacklog => string("auto"),
    };
    let _ = writeln!(w, "drain = {drain}");
    if s.network != Network::default() {
        let _ = writeln!(w, "\n[network]");
        let _ = writeln!(w, "min_latency = {}", duration(s.network.min_latency));
        let _ = writeln!(w, "max_latency = {}", duration(s.network.max_latency));
    }
    let wl = &s.workload;
    let _ = writeln!(w, "\n[workload]");
    let _ = writeln!(w, "producers = {}", wl.producers);
    let _ = writeln!(w, "consumers = {}", wl.consumers);
    let _ = writeln!(w, "messages = {}", wl.messages);
    let _ = writeln!(w, "rate = {}", Value::Float(wl.rate));
    let _ = writeln!(w, "processing_time = {}", duration(wl.processing_time));
    let _ = writeln!(w, "message_bytes = {}", wl.message_bytes);
    if !wl.consumer_start.is_zero() {
        let _ = writeln!(w, "consumer_start = {}", duration(wl.consumer_start));
    }
    if wl.poison > 0.0 {
        let _ = writeln!(w, "poison = {}", Value::Float(wl.poison));
    }
    if wl.poison_action == PoisonAction::Crash {
        let _ = writeln!(w, "poison_action = \"crash\"");
    }
    let _ = writeln!(w, "\n[config]");
    for (k, v) in s.settings() {
        if let Some(v) = v {
            let _ = writeln!(w, "{} = {v}", key(k));
        }
    }
    let dests = dest_names(&s.system);
    for f in &s.faults {
        write_fault(w, f, &dests);
    }
    if let Some(n) = &s.nemesis {
        write_nemesis(w, n, &dests);
    }
    out
}

fn partition_of(dests: &[String], dest: &str) -> usize {
    dests.iter().position(|d| d == dest).unwrap_or(0)
}

fn write_fault(w: &mut String, f: &Fault, dests: &[String]) {
    let _ = writeln!(w, "\n[[faults]]");
    if f.trigger.is_none() || !f.at.is_zero() {
        let _ = writeln!(w, "at = {}", duration(f.at));
    }
    let mut dest = None;
    if let Some(t) = &f.trigger {
        let _ = writeln!(w, "when = {}", string(t.condition.name()));
        if !t.after.is_zero() {
            let _ = writeln!(w, "after = {}", duration(t.after));
        }
        if t.times != 1 {
            let _ = writeln!(w, "times = {}", t.times);
        }
        dest = Some(t.dest.clone());
    }
    let _ = writeln!(w, "action = {}", string(f.action.name()));
    let mut side = |name: &str, sel: &Selector| {
        let _ = writeln!(w, "{name} = {}", targets(&sel.targets));
        dest.get_or_insert_with(|| sel.dest.clone());
    };
    let mut extra: Vec<String> = Vec::new();
    match &f.action {
        Action::Partition {
            target,
            peer,
            duration: d,
        }
        | Action::Hold {
            target,
            peer,
            duration: d,
        } => {
            side("target", target);
            if let Some(p) = peer {
                side("peer", p);
            }
            extra.extend(d.map(|d| format!("duration = {}", duration(d))));
        }
        Action::Drop {
            target,
            peer,
            rate,
            duration: d,
        } => {
            side("target", target);
            if let Some(p) = peer {
                side("peer", p);
            }
            extra.push(format!("rate = {}", Value::Float(*rate)));
            extra.extend(d.map(|d| format!("duration = {}", duration(d))));
        }
        Action::Delay {
            target,
            peer,
            latency,
            duration: d,
        } => {
            side("target", target);
            if let Some(p) = peer {
                side("peer", p);
            }
            extra.push(format!("latency = {}", duration(*latency)));
            extra.extend(d.map(|d| format!("duration = {}", duration(d))));
        }
        Action::Crash {
            target,
            restart_after,
        }
        | Action::PowerLoss {
            target,
            restart_after,
        }
        | Action::StopApp {
            target,
            restart_after,
        } => {
            side("target", target);
            extra.extend(restart_after.map(|d| format!("restart_after = {}", duration(d))));
        }
        Action::Unbind {
            binding,
            duration: d,
        } => {
            extra.push(format!("exchange = {}", string(&binding.exchange)));
            extra.push(format!("queue = {}", string(&queue_name(binding.queue))));
            extra.push(format!("routing_key = {}", string(&binding.routing_key)));
            extra.extend(d.map(|d| format!("duration = {}", duration(d))));
        }
        Action::Heal => {}
    }
    if let Some(d) = dest {
        let i = partition_of(dests, &d);
        if i != 0 {
            let _ = writeln!(w, "partition = {i}");
        }
    }
    for line in extra {
        let _ = writeln!(w, "{line}");
    }
}

fn write_nemesis(w: &mut String, n: &RandomNemesis, dests: &[String]) {
    let kinds: Vec<String> = n.kinds.iter().map(|k| string(k.name())).collect();
    let _ = writeln!(w, "\n[nemesis]");
    let _ = writeln!(w, "kinds = [{}]", kinds.join(", "));
    let _ = writeln!(w, "interval = {}", duration(n.interval));
    let _ = writeln!(w, "max_concurrent = {}", n.max_concurrent);
    let _ = writeln!(w, "targets = {}", targets(&n.targets));
    let i = partition_of(dests, &n.dest);
    if i != 0 {
        let _ = writeln!(w, "partition = {i}");
    }
    let _ = writeln!(w, "min_duration = {}", duration(n.min_duration));
    let _ = writeln!(w, "max_duration = {}", duration(n.max_duration));
    let _ = writeln!(w, "start = {}", duration(n.start));
    if let Some(stop) = n.stop {
        let _ = writeln!(w, "stop = {}", duration(stop));
    }
    let _ = writeln!(w, "rate = {}", Value::Float(n.rate));
    let _ = writeln!(w, "latency = {}", duration(n.latency));
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::parse;

    #[test]
    fn every_bundled_scenario_survives_a_round_trip() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let files = crate::scenario::discover(&[dir]).unwrap();
        assert!(!files.is_empty());
        for file in files {
            let original = crate::scenario::load(&file).unwrap();
            let text = write(&original);
            let again = parse(&file, &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(again, original, "{}:\n{text}", file.display());
        }
    }

    #[test]
    fn a_scenario_with_a_nemesis_and_every_action_round_trips() {
        let text = r#"
name = "all"
system = "log"
expect = "no-loss"
seeds = [4]
drain = "45s"
[network]
min_latency = "2ms"
max_latency = "9ms"
[config]
partitions = 2
"log.flush.interval.ms" = 50
[[faults]]
at = "1s"
action = "partition"
target = ["broker-1", "controller"]
peer = "brokers"
duration = "1s"
[[faults]]
at = "1s"
action = "isolate"
target = "leader"
partition = 1
[[faults]]
at = "2s"
action = "drop"
target = "producers"
rate = 0.25
[[faults]]
at = "2s"
action = "delay"
target = "any-broker"
latency = "40ms"
duration = "300ms"
[[faults]]
at = "2s"
action = "hold"
target = "follower"
duration = "300ms"
[[faults]]
at = "3s"
when = "after_producer_ack"
after = "10ms"
times = 3
action = "power_loss"
target = "brokers"
restart_after = "1s"
[[faults]]
at = "9s"
action = "heal"
[nemesis]
kinds = ["crash", "delay"]
interval = "700ms"
targets = ["leader", "controller"]
partition = 1
stop = "5s"
"#;
        let original = parse(Path::new("x.toml"), text).unwrap();
        assert_eq!(original.drain, Drain::Fixed(Duration::from_secs(45)));
        let again = parse(Path::new("x.toml"), &write(&original)).unwrap();
        assert_eq!(again, original);
    }

    #[test]
    fn a_drain_that_follows_the_backlog_round_trips_as_auto() {
        let mut s = crate::scenario::Scenario::new(
            "auto",
            crate::scenario::System::Log(Default::default()),
        );
        s.duration = Duration::from_secs(3);
        let text = write(&s);
        assert!(text.contains("drain = \"auto\"\n"), "{text}");
        let again = parse(Path::new("auto.toml"), &text).unwrap();
        assert_eq!(again.drain, Drain::FollowBacklog);
        assert_eq!(again.drain.cap(again.duration), Duration::from_secs(30));
    }
}
