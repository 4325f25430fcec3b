//! Simulated durations as scenario files write them: `"500ms"`, `"2s"`,
//! `"1.5s"`, `"1m"`, or a bare integer of milliseconds.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A duration read from a scenario file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SimDuration(pub(crate) Duration);

/// The units a duration may be written in, with their length in seconds.
const UNITS: &[(&str, f64)] = &[
    ("us", 1e-6),
    ("µs", 1e-6),
    ("ms", 1e-3),
    ("s", 1.0),
    ("m", 60.0),
    ("min", 60.0),
];

/// Parses `"250ms"`, `"2s"`, `"1.5s"`, `"3m"`, `"40us"`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = || {
        format!("`{text}` is not a duration: write a number and a unit, e.g. \"500ms\", \"2s\", \"1.5s\", \"1m\"")
    };
    let value: f64 = number.parse().map_err(|_| bad())?;
    let Some(&(_, scale)) = UNITS.iter().find(|(u, _)| *u == unit.trim()) else {
        return Err(bad());
    };
    let secs = value * scale;
    if !secs.is_finite() || !(0.0..=1e7).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Writes a duration the way scenario files do.
pub(crate) fn format_duration(d: Duration) -> String {
    let us = d.as_micros();
    if us.is_multiple_of(1_000_000) {
        format!("{}s", us / 1_000_000)
    } else if us.is_multiple_of(1_000) {
        format!("{}ms", us / 1_000)
    } else {
        format!("{us}us")
    }
}

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SimDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"500ms\" or \"2s\", or an integer of milliseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SimDuration, E> {
                parse_duration(v).map(SimDuration).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SimDuration, E> {
                u64::try_from(v)
                    .map(|ms| SimDuration(Duration::from_millis(ms)))
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for SimDuration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let units: Vec<&str> = UNITS.iter().map(|(u, _)| *u).collect();
        json_schema!({
            "anyOf": [
                {
                    "type": "string",
                    "description": "A number and a unit: \"500ms\", \"2s\", \"1.5s\", \"1m\".",
                    "pattern": format!("^[0-9]+(\\.[0-9]+)?({})$", units.join("|"))
                },
                {
                    "type": "integer",
                    "description": "Milliseconds.",
                    "minimum": 0
                }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_understood() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("40us"), Ok(Duration::from_micros(40)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn formatting_round_trips() {
        for text in ["2s", "250ms", "40us"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }
}
