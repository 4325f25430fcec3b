//! A message's identity, unique across a run.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A message's identity: which producer sent it and its sequence number there.
///
/// Identities are unique across a run, which is what lets the checker tell a
/// duplicate from a new message.
///
/// It travels as its text, `p<producer>-<seq>`, written and read in place:
/// every produced record, fetch reply and history event carries one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MsgId {
    /// 1-based index of the producer host that created the message.
    pub producer: u32,
    /// 0-based position of the message in that producer's workload.
    pub seq: u32,
}

impl MsgId {
    /// The message `seq` of producer `producer`.
    pub fn new(producer: u32, seq: u32) -> Self {
        Self { producer, seq }
    }
}

impl fmt::Display for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}-{}", self.producer, self.seq)
    }
}

impl From<MsgId> for String {
    fn from(id: MsgId) -> String {
        id.to_string()
    }
}

impl FromStr for MsgId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a message id (expected p<producer>-<seq>)");
        let rest = s.strip_prefix('p').ok_or_else(bad)?;
        let (p, q) = rest.split_once('-').ok_or_else(bad)?;
        Ok(MsgId {
            producer: p.parse().map_err(|_| bad())?,
            seq: q.parse().map_err(|_| bad())?,
        })
    }
}

impl TryFrom<String> for MsgId {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl Serialize for MsgId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MsgId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(MsgIdVisitor)
    }
}

struct MsgIdVisitor;

impl Visitor<'_> for MsgIdVisitor {
    type Value = MsgId;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message id, p<producer>-<seq>")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<MsgId, E> {
        s.parse().map_err(E::custom)
    }
}
