//! `[nemesis]` as written: a seeded random fault schedule, with the source
//! span of every value.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;

use super::one_or_many::OneOrMany;
use super::spanned::Spanned;
use crate::duration::SimDuration;
use crate::fault::random::KIND_NAMES;

/// A nemesis kind, for the schema: one of the names the parser accepts.
struct KindName;

impl JsonSchema for KindName {
    fn schema_name() -> Cow<'static, str> {
        "NemesisKind".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "enum": KIND_NAMES})
    }
}

/// `[nemesis]`: a seeded random fault schedule.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNemesis {
    /// The kinds of fault to draw from.
    #[schemars(with = "Vec<KindName>", length(min = 1))]
    pub kinds: Spanned<Vec<String>>,
    /// Simulated time between draws (default 1s).
    pub interval: Option<Spanned<SimDuration>>,
    /// The most faults active at once (default 1).
    #[schemars(range(min = 1))]
    pub max_concurrent: Option<Spanned<u32>>,
    /// The hosts or roles faults may hit (default any-broker).
    pub targets: Option<Spanned<OneOrMany>>,
    /// The partition (or queue) that roles refer to (default 0).
    pub partition: Option<Spanned<u32>>,
    /// The shortest a drawn fault lasts (default 200ms).
    pub min_duration: Option<Spanned<SimDuration>>,
    /// The longest a drawn fault lasts (default 2s).
    pub max_duration: Option<Spanned<SimDuration>>,
    /// When the first draw happens (default 1s).
    pub start: Option<Spanned<SimDuration>>,
    /// When draws stop (default: at the end of `duration`).
    pub stop: Option<Spanned<SimDuration>>,
    /// The probability a `drop` fault drops a datagram (default 0.3).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub rate: Option<Spanned<f64>>,
    /// The latency a `delay` fault adds (default 200ms).
    pub latency: Option<Spanned<SimDuration>>,
}
