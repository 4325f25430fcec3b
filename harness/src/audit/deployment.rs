//! A deployment as read from its files: what the audit runs.

use std::path::PathBuf;

use broker_model::Workload;

use crate::audit::origin::Origin;
use crate::scenario::System;

/// One effective setting of a target, named as the user's file names it
/// (`acks`, `min.insync.replicas`, `x-max-length`, `ha-mode`), with its
/// value as text and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetSetting {
    /// The key, as the real system spells it.
    pub key: String,
    /// The effective value.
    pub value: String,
    /// Where it came from.
    pub origin: Origin,
}

/// One topic or queue (or several with the same effective configuration),
/// as the model runs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The topic or queue name (names joined with `, ` when several share
    /// one configuration).
    pub name: String,
    /// The model's configuration of it.
    pub system: System,
    /// The clients, from the producer, consumer or client files.
    pub workload: Workload,
    /// Every setting the model uses, with its origin.
    pub settings: Vec<TargetSetting>,
}

/// A key of the user's files the model does not use (listeners, threads,
/// serializers, TLS, ...): listed once, never an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotModelled {
    /// The file.
    pub path: PathBuf,
    /// Its line, from 1.
    pub line: u32,
    /// The key.
    pub key: String,
}

/// How the real times of the files (a 30 s replica lag, 45 s sessions,
/// 5 s auto-commits) map onto simulated time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeScale {
    /// Simulated time = real time × this factor (1.0: as they are).
    pub factor: f64,
}

/// A deployment read from its files.
#[derive(Clone, Debug, PartialEq)]
pub struct Deployment {
    /// One entry per topic or queue (or per distinct configuration).
    pub targets: Vec<Target>,
    /// Keys read and not modelled, in file order.
    pub not_modelled: Vec<NotModelled>,
    /// How times were scaled.
    pub time_scale: TimeScale,
}
