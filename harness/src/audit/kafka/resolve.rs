//! Where each setting's value comes from: the first of its keys the files
//! set (a topic-level key before the broker's `log.*` default, as Kafka
//! resolves them), else Kafka's own default; and the value parsed as
//! Kafka's `ConfigDef` parses it (trimmed; booleans in any case).

use crate::audit::error::ReadError;
use crate::audit::kafka::files::PropFile;
use crate::audit::origin::Origin;
use crate::audit::tags::{Place, Tags};
use crate::audit::time_scale::scaled_ms;
use crate::scenario::spanned::Spanned;

/// The version the defaults come from.
pub(crate) const KAFKA: &str = "Kafka 3.9";

/// Which file a key is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// `server.properties`.
    Broker,
    /// The topic's configuration (`kafka-configs`/`kafka-topics --config`).
    Topic,
    /// The producer's properties.
    Producer,
    /// The consumer's properties.
    Consumer,
}

/// The deployment's files, by role.
pub(crate) struct Sources<'a> {
    pub(crate) broker: &'a PropFile,
    pub(crate) topic: Option<&'a PropFile>,
    pub(crate) producer: Option<&'a PropFile>,
    pub(crate) consumer: Option<&'a PropFile>,
}

impl<'a> Sources<'a> {
    fn file(&self, role: Role) -> Option<&'a PropFile> {
        match role {
            Role::Broker => Some(self.broker),
            Role::Topic => self.topic,
            Role::Producer => self.producer,
            Role::Consumer => self.consumer,
        }
    }

    /// The first of `keys` a file sets: its file, line, key and value.
    pub(crate) fn find(&self, keys: &[(Role, &'static str)]) -> Option<Found<'a>> {
        keys.iter().find_map(|&(role, key)| {
            let file = self.file(role)?;
            let entry = file.get(key)?;
            Some(Found {
                file,
                line: entry.line,
                key,
                value: entry.value.trim(),
            })
        })
    }
}

/// A key a file sets.
pub(crate) struct Found<'a> {
    pub(crate) file: &'a PropFile,
    pub(crate) line: u32,
    pub(crate) key: &'static str,
    pub(crate) value: &'a str,
}

impl Found<'_> {
    /// An error about this key.
    pub(crate) fn error(&self, message: String) -> ReadError {
        ReadError::at(&self.file.path, self.line, self.key, message)
    }
}

/// A default: the key it is documented under and its value as text.
pub(crate) type Default = (Role, &'static str, &'static str);

/// Resolves settings into tagged raw values.
pub(crate) struct Resolver<'a> {
    pub(crate) sources: Sources<'a>,
    pub(crate) tags: Tags,
}

impl Resolver<'_> {
    /// The value of the first of `keys` the files set, else `default`,
    /// parsed by `parse(key, value)`; recorded with its origin.
    pub(crate) fn value<T>(
        &mut self,
        keys: &[(Role, &'static str)],
        default: Default,
        parse: impl Fn(&str, &str) -> Result<T, String>,
    ) -> Result<Spanned<T>, ReadError> {
        match self.sources.find(keys) {
            Some(found) => {
                let raw = parse(found.key, found.value).map_err(|m| found.error(m))?;
                Ok(self.read_from(&found, raw))
            }
            None => {
                let (role, key, value) = default;
                let raw = parse(key, value).expect("Kafka's defaults parse");
                Ok(self.defaulted(role, key, value, raw))
            }
        }
    }

    /// `raw`, read from `found`.
    pub(crate) fn read_from<T>(&mut self, found: &Found, raw: T) -> Spanned<T> {
        self.tags
            .tag_in_file(found.key, found.value, &found.file.path, found.line, raw)
    }

    /// `raw`, Kafka's default for `key` (`value` as text).
    pub(crate) fn defaulted<T>(
        &mut self,
        role: Role,
        key: &str,
        value: &str,
        raw: T,
    ) -> Spanned<T> {
        let file = self.sources.file(role).unwrap_or(self.sources.broker);
        let place = Place {
            path: file.path.clone(),
            line: None,
        };
        self.tags
            .tag(key, value, Origin::Default(KAFKA), place, raw)
    }
}

/// A whole number of type `T`.
pub(crate) fn number<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| {
        format!("`{key}` = `{v}` is not a number Kafka takes here: it expects a whole number")
    })
}

/// At least `min`.
pub(crate) fn at_least(key: &str, v: &str, min: i64) -> Result<i64, String> {
    let n: i64 = number(key, v)?;
    if n < min {
        return Err(format!(
            "`{key}` = {n} is refused by Kafka: it must be at least {min}"
        ));
    }
    Ok(n)
}

/// A count of at least 1.
pub(crate) fn positive_u32(key: &str, v: &str) -> Result<u32, String> {
    let n = at_least(key, v, 1)?;
    u32::try_from(n).map_err(|_| format!("`{key}` = {n} is larger than Kafka's int"))
}

/// `true` or `false`, in any case.
pub(crate) fn boolean(key: &str, v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!(
            "`{key}` = `{v}` is refused by Kafka: it expects true or false"
        )),
    }
}

/// Milliseconds (at least 0), scaled to simulated time.
pub(crate) fn millis(key: &str, v: &str) -> Result<u64, String> {
    let n = at_least(key, v, 0)?;
    Ok(scaled_ms(n as u64))
}

/// A time in `key`'s unit (`*.ms`, `*.minutes`, `*.hours`) in scaled
/// milliseconds; -1 stays -1 (no limit).
pub(crate) fn time_or_unlimited(key: &str, v: &str) -> Result<i64, String> {
    let n = at_least(key, v, -1)?;
    if n == -1 {
        return Ok(-1);
    }
    let unit: i64 = if key.ends_with(".hours") {
        3_600_000
    } else if key.ends_with(".minutes") {
        60_000
    } else {
        1
    };
    let ms = n.saturating_mul(unit) as u64;
    Ok(scaled_ms(ms).min(i64::MAX as u64) as i64)
}

/// Kafka's `Long.MAX_VALUE`, the "never" of its flush settings.
pub(crate) const LONG_MAX: &str = "9223372036854775807";

/// A flush interval: `None` for Kafka's `Long.MAX_VALUE` (never).
pub(crate) fn flush_interval(key: &str, v: &str, scale: bool) -> Result<Option<u64>, String> {
    let n = at_least(key, v, 1)?;
    if v == LONG_MAX || n == i64::MAX {
        return Ok(None);
    }
    Ok(Some(if scale { scaled_ms(n as u64) } else { n as u64 }))
}
