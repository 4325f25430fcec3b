//! One row of the matrix: a configuration and its claims.

use crate::guarantees::class::FaultClass;
use crate::scenario::System;

/// One row of the matrix.
#[derive(Clone, Debug)]
pub struct Guarantee {
    /// A short identifier.
    pub name: &'static str,
    /// The configuration in words.
    pub summary: &'static str,
    /// The system and its configuration.
    pub system: System,
    /// Classes it claims to survive.
    pub survives: Vec<FaultClass>,
    /// Classes it does not survive.
    pub loses_under: Vec<FaultClass>,
}
