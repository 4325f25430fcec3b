//! What a target's queues are read against: the definitions, the client,
//! the cluster's settings and the policies.

use crate::audit::origin::Origin;
use crate::audit::rabbitmq::client::ClientFile;
use crate::audit::rabbitmq::definitions::DefinitionsFile;
use crate::audit::rabbitmq::policy::Policy;
use crate::audit::tags::Place;
use crate::scenario::queue_config::RawPartitionHandling;

/// A value of the cluster, with where it came from.
pub(crate) struct Valued<T> {
    pub(crate) value: T,
    pub(crate) text: String,
    pub(crate) origin: Origin,
    pub(crate) place: Place,
}

/// The cluster's settings, from `rabbitmq.conf` and the command line.
pub(crate) struct Cluster {
    pub(crate) nodes: Valued<u32>,
    pub(crate) partition_handling: Valued<RawPartitionHandling>,
    /// The server's `heartbeat`, in scaled milliseconds.
    pub(crate) heartbeat_ms: Valued<u64>,
}

/// What the group's queues are read against.
pub(crate) struct Context<'a> {
    pub(crate) file: &'a DefinitionsFile,
    pub(crate) client: &'a ClientFile,
    pub(crate) cluster: &'a Cluster,
    pub(crate) policies: &'a [Policy],
}
