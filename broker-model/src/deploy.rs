//! What the harness needs to know about a deployed cluster, whatever the
//! system: which hosts exist, what each one is, and where each destination
//! (partition or queue) is replicated; and the [`Installer`] both models
//! register their hosts with.

use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::disk::{flusher, PageCache, Writeback};
use crate::history::History;
use crate::observe::Observer;
use crate::process::ProcessTable;
use crate::queue::exchange::Unbound;
use crate::workload::pace::Source;
use crate::workload::{consumer_host, producer_host, Workload};

/// The harness's instruments, handed to every host of a run.
#[derive(Clone, Default)]
pub struct Instruments {
    /// Where every host records events.
    pub history: History,
    /// Where every host publishes its state.
    pub observer: Observer,
    /// Which processes the harness has stopped.
    pub processes: ProcessTable,
    /// What every machine's kernel holds dirty; the harness cuts it with the
    /// power.
    pub page_cache: PageCache,
    /// The bindings an operator removed from a queue cluster's metadata.
    pub unbound: Unbound,
}

/// What every host of a cluster is given: the system's configuration `C`,
/// the workload and the harness's instruments.
pub struct HostContext<C> {
    /// The cluster and client settings.
    pub config: Rc<C>,
    /// What the clients do.
    pub workload: Rc<Workload>,
    /// Where events go.
    pub history: History,
    /// Where hosts publish their state.
    pub observer: Observer,
    /// Which processes are stopped.
    pub processes: ProcessTable,
    /// The machines' page caches.
    pub page_cache: PageCache,
    /// The bindings removed from the cluster's metadata.
    pub unbound: Unbound,
}

impl<C> HostContext<C> {
    /// The context of a cluster configured by `config` running `workload`.
    pub(crate) fn new(config: &C, workload: &Workload, instruments: &Instruments) -> Self
    where
        C: Clone,
    {
        HostContext {
            config: Rc::new(config.clone()),
            workload: Rc::new(workload.clone()),
            history: instruments.history.clone(),
            observer: instruments.observer.clone(),
            processes: instruments.processes.clone(),
            page_cache: instruments.page_cache.clone(),
            unbound: instruments.unbound.clone(),
        }
    }
}

// A derived `Clone` would require `C: Clone`; the context only clones `Rc`s.
impl<C> Clone for HostContext<C> {
    fn clone(&self) -> Self {
        HostContext {
            config: Rc::clone(&self.config),
            workload: Rc::clone(&self.workload),
            history: self.history.clone(),
            observer: self.observer.clone(),
            processes: self.processes.clone(),
            page_cache: self.page_cache.clone(),
            unbound: self.unbound.clone(),
        }
    }
}

/// What a host is for. Reports name it in lower case (`broker`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostRole {
    /// Stores messages.
    Broker,
    /// Runs elections (log systems).
    Controller,
    /// Sends messages.
    Producer,
    /// Receives and processes messages.
    Consumer,
}

/// The hosts of a deployed cluster.
#[derive(Clone, Debug, Default)]
pub struct Deployment {
    /// Every host with its role, in registration order.
    pub hosts: Vec<(String, HostRole)>,
    /// Every destination with the hosts that hold its replicas.
    pub dests: BTreeMap<String, Vec<String>>,
}

impl Deployment {
    /// Adds a host.
    pub fn add(&mut self, host: &str, role: HostRole) {
        self.hosts.push((host.to_string(), role));
    }

    /// The hosts with `role`.
    pub fn with_role(&self, role: HostRole) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|(_, r)| *r == role)
            .map(|(h, _)| h.clone())
            .collect()
    }

    /// Every host name.
    pub fn names(&self) -> Vec<String> {
        self.hosts.iter().map(|(h, _)| h.clone()).collect()
    }

    /// The role of `host`, if it exists.
    pub fn role_of(&self, host: &str) -> Option<HostRole> {
        self.hosts.iter().find(|(h, _)| h == host).map(|(_, r)| *r)
    }
}

/// Registers a cluster's hosts in `sim` as [`Deployment`] lists them: the
/// system's own hosts first, then the workload's producers and consumers
/// (turmoil steps hosts in registration order).
pub(crate) struct Installer<'s, 'a, C> {
    sim: &'s mut turmoil::Sim<'a>,
    ctx: HostContext<C>,
    writeback: Writeback,
    deployment: Deployment,
}

impl<'s, 'a, C: Clone + 'static> Installer<'s, 'a, C> {
    /// An installer for a cluster configured by `config` running
    /// `workload`, whose servers' kernels write back dirty pages as
    /// `writeback` says.
    pub(crate) fn new(
        sim: &'s mut turmoil::Sim<'a>,
        config: &C,
        workload: &Workload,
        instruments: &Instruments,
        writeback: Writeback,
    ) -> Self {
        Installer {
            sim,
            ctx: HostContext::new(config, workload, instruments),
            writeback,
            deployment: Deployment::default(),
        }
    }

    /// Registers host `name` with `role`, running `software` at every
    /// (re)start. A server (broker or controller) boots its kernel's
    /// flusher first, which runs whether or not the process does.
    pub(crate) fn spawn<F, Fut>(&mut self, name: &str, role: HostRole, software: F)
    where
        F: Fn(HostContext<C>) -> Fut + 'static,
        Fut: Future<Output = turmoil::Result> + 'static,
    {
        let ctx = self.ctx.clone();
        let server = matches!(role, HostRole::Broker | HostRole::Controller);
        let (host, writeback) = (name.to_string(), self.writeback);
        self.sim.host(name, move || {
            let kernel = server.then(|| {
                let (page_cache, history) = (ctx.page_cache.clone(), ctx.history.clone());
                flusher(page_cache, host.clone(), writeback, history)
            });
            let process = software(ctx.clone());
            async move {
                if let Some(kernel) = kernel {
                    tokio::task::spawn_local(kernel);
                }
                process.await
            }
        });
        self.deployment.add(name, role);
    }

    /// Registers the workload's producers running `producer`, then its
    /// consumers running `consumer`, and returns the deployment with
    /// `dests`: each destination with the hosts of its replicas. A
    /// producer's [`Source`] is made here, once, so that it outlives the
    /// producer's restarts.
    pub(crate) fn finish<P, PFut, K, KFut>(
        mut self,
        producer: P,
        consumer: K,
        dests: impl IntoIterator<Item = (String, Vec<String>)>,
    ) -> Deployment
    where
        P: Fn(HostContext<C>, u32, Source) -> PFut + Copy + 'static,
        PFut: Future<Output = turmoil::Result> + 'static,
        K: Fn(HostContext<C>, u32) -> KFut + Copy + 'static,
        KFut: Future<Output = turmoil::Result> + 'static,
    {
        for index in 1..=self.ctx.workload.producers {
            let source = Source::default();
            self.spawn(&producer_host(index), HostRole::Producer, move |c| {
                producer(c, index, source.clone())
            });
        }
        for index in 1..=self.ctx.workload.consumers {
            self.spawn(&consumer_host(index), HostRole::Consumer, move |c| {
                let start = c.workload.consumer_start;
                async move {
                    // A restart after the start time does not wait again.
                    tokio::time::sleep(start.saturating_sub(crate::clock::now())).await;
                    consumer(c, index).await
                }
            });
        }
        self.deployment.dests.extend(dests);
        self.deployment
    }
}
