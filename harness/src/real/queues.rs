//! What the broker says of its queues (`rabbitmqctl list_queues`): where
//! each one's master or leader runs, its members, which mirrors are
//! synchronised, and how many messages it holds (ready and
//! unacknowledged).

use super::error::RealError;
use super::nodes::{ctl, Cluster};
use broker_model::queue::queue_name;

/// One queue as the broker reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct QueueInfo {
    pub(crate) name: String,
    /// The node of its master (classic, mirrored) or leader (quorum).
    pub(crate) leader: Option<u32>,
    /// A quorum queue's members.
    pub(crate) members: Vec<u32>,
    /// A mirrored queue's mirrors.
    pub(crate) mirrors: Vec<u32>,
    /// The mirrors that hold every message of the queue.
    pub(crate) synced: Vec<u32>,
    /// `messages`: ready plus unacknowledged; `None` when the broker could
    /// not say (the queue's node is down).
    pub(crate) messages: Option<u64>,
}

const COLUMNS: &[&str] = &[
    "name",
    "type",
    "pid",
    "leader",
    "members",
    "slave_pids",
    "synchronised_slave_pids",
    "messages",
];

/// Every queue, as node `node` reports them.
pub(crate) fn list(node: &str) -> Result<Vec<QueueInfo>, RealError> {
    let mut args = vec!["list_queues", "--no-table-headers"];
    args.extend(COLUMNS);
    let out = ctl(node, &args)?;
    Ok(parse(&out))
}

/// Every queue, as the first running node that answers reports them;
/// `None` when none does (every application stopped, say).
pub(crate) fn list_any(cluster: &mut Cluster) -> Option<Vec<QueueInfo>> {
    let names: Vec<String> = cluster
        .nodes
        .iter_mut()
        .filter_map(|n| n.running().then(|| n.name()))
        .collect();
    names.iter().find_map(|name| list(name).ok())
}

/// Messages the queues hold, when every queue of the cluster could be
/// read with its count; `None` when a node is down or a queue's line
/// does not say, since its messages may still be there.
pub(crate) fn stored(cluster: &mut Cluster, queues: u32) -> Option<u64> {
    if !cluster.all_running() {
        return None;
    }
    let listed = list_any(cluster)?;
    let mut total = 0;
    for q in 0..queues {
        let info = listed.iter().find(|i| i.name == queue_name(q))?;
        total += info.messages?;
    }
    Some(total)
}

/// Reads `list_queues` output, one tab-separated line per queue in the
/// order of [`COLUMNS`]. (Its JSON formatter writes pids without their
/// node, which is what a fault's target needs.)
pub(crate) fn parse(text: &str) -> Vec<QueueInfo> {
    text.lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let [name, kind, pid, leader, members, mirrors, synced, messages] = cols[..] else {
                return None;
            };
            let quorum = kind == "quorum";
            Some(QueueInfo {
                name: name.to_string(),
                leader: nodes(if quorum { leader } else { pid }).first().copied(),
                members: if quorum { nodes(members) } else { Vec::new() },
                mirrors: nodes(mirrors),
                synced: nodes(synced),
                messages: messages.trim().parse().ok(),
            })
        })
        .collect()
}

/// The node numbers named in `text` (a node name, a pid such as
/// `<mqsim2@localhost.1.2.3>`, or a list of them), in order.
fn nodes(text: &str) -> Vec<u32> {
    let mut found = Vec::new();
    let mut push = |s: &str| {
        let mut rest = s;
        while let Some(i) = rest.find("mqsim") {
            rest = &rest[i + "mqsim".len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let (Ok(n), true) = (digits.parse(), rest[digits.len()..].starts_with('@')) {
                found.push(n);
            }
        }
    };
    push(text);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_classic_queue_is_led_by_the_node_of_its_pid() {
        let text = "q0\tclassic\t<mqsim2@localhost.1795.724.0>\t\t\t\
            [<mqsim3@localhost.1.2.0>, <mqsim1@localhost.1.3.0>]\t[<mqsim1@localhost.1.3.0>]\t7\n";
        let q = &parse(text)[0];
        assert_eq!(q.leader, Some(2));
        assert_eq!(q.mirrors, vec![3, 1]);
        assert_eq!(q.synced, vec![1]);
        assert_eq!(q.messages, Some(7));
    }

    #[test]
    fn a_quorum_queue_is_led_by_its_leader() {
        let text = "qq\tquorum\t<mqsim1@localhost.1795.754.0>\tmqsim3@localhost\t\
            [mqsim1@localhost, mqsim2@localhost, mqsim3@localhost]\t\t\t0\n";
        let q = &parse(text)[0];
        assert_eq!(q.leader, Some(3));
        assert_eq!(q.members, vec![1, 2, 3]);
    }
}
