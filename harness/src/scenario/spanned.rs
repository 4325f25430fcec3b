//! Values read together with the span of their source text, so that a check
//! made after reading can still point at the line and column at fault.
//!
//! A thin wrapper over toml's `Spanned`: it reads exactly the same way, and
//! its JSON Schema is that of the value it holds, so the schema derived from
//! the raw types describes what a file contains, not how the parser keeps it.

use std::borrow::Cow;
use std::ops::Range;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer};

/// A value and the byte range of the text it was read from.
pub(crate) struct Spanned<T>(toml::Spanned<T>);

impl<T> Spanned<T> {
    /// A value read from elsewhere than a scenario file, with `span`
    /// standing for where it came from.
    pub(crate) fn new(span: Range<usize>, value: T) -> Self {
        Spanned(toml::Spanned::new(span, value))
    }

    /// The byte range of the value in the file.
    pub(crate) fn span(&self) -> Range<usize> {
        self.0.span()
    }

    /// The value.
    pub(crate) fn get_ref(&self) -> &T {
        self.0.get_ref()
    }

    /// The value, without its span.
    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        toml::Spanned::deserialize(d).map(Spanned)
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A `*.ms` setting's value as a duration.
pub(crate) fn ms(v: &Option<Spanned<u64>>) -> Option<Duration> {
    v.as_ref().map(|s| Duration::from_millis(*s.get_ref()))
}

/// A setting's value without its span.
pub(crate) fn val<T: Copy>(v: &Option<Spanned<T>>) -> Option<T> {
    v.as_ref().map(|s| *s.get_ref())
}
