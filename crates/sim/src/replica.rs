//! The protocol-agnostic side of the simulator: what a replicated log
//! protocol must offer so [`run_with`](crate::run_with) can drive it.
//!
//! The simulator owns everything outside the protocol: the network, every
//! node's disk (what survives a crash), the key-value state machine and its
//! clients, the faults and the checks. A protocol supplies the node (tick,
//! step, propose, ready, acknowledge) and a few views the checkers need: who
//! leads in which term, and which (index, term) pairs each log holds. Terms
//! are whatever totally ordered leadership epoch the protocol has: a Raft
//! term, a Paxos ballot.

use std::fmt::Debug;

use rand::rngs::StdRng;

use crate::config::SimConfig;

/// One replica of a replicated-log protocol, as the simulator drives it.
///
/// The simulator calls [`Replica::ready`] until [`Replica::has_ready`] is
/// false after every tick, step and proposal; it sends
/// [`Ready::send`] at once, keeps [`Ready::write`] as unsynced until the
/// disk syncs, then calls [`Replica::on_synced`] with the receipt and sends
/// [`Ready::after_sync`]. A crash drops the node and every unsynced write;
/// a restart calls [`Replica::start`] with what the disk holds.
pub trait Replica: Sized + Debug {
    /// The protocol's name, as the runner's `--protocol` spells it.
    const NAME: &'static str;
    /// Whether it takes [`MembershipChange::StopSign`]: the simulator
    /// proposes stop-signs (a share [`SimConfig::stop_signs`] of its
    /// changes) only to protocols that do.
    ///
    /// [`SimConfig::stop_signs`]: crate::SimConfig::stop_signs
    const STOP_SIGNS: bool = false;
    /// A message between replicas.
    type Message: Clone + Debug;
    /// What survives a crash: the node's disk.
    type Disk: Clone + Debug;
    /// One write handed to the disk and not yet synced.
    type Write: Clone + Debug;
    /// Acknowledges that writes up to some point are durable.
    type Receipt: Debug;
    /// A committed entry's contents, compared across nodes by the
    /// state-machine safety check.
    type Payload: Clone + PartialEq + Debug;
    /// The protocol's own options, carried in
    /// [`SimConfig::protocol`](crate::SimConfig::protocol).
    type Options: Clone + Debug;

    /// A fresh disk for a cluster of `voters`.
    fn bootstrap(voters: &[u64]) -> Self::Disk;

    /// Starts (or restarts) node `id` from `disk`, drawing every random
    /// choice from `rng`. Returns the node and the state-machine snapshot
    /// the disk holds (`None` for an empty state machine).
    ///
    /// # Errors
    /// A description when the disk cannot be read: a protocol bug.
    fn start(
        id: u64,
        disk: &Self::Disk,
        cfg: &SimConfig<Self::Options>,
        rng: StdRng,
    ) -> Result<(Self, Option<Vec<u8>>), String>;

    /// One unit of logical time passes.
    fn tick(&mut self);
    /// A message from another replica arrives. Bad messages are the
    /// protocol's to ignore.
    fn step(&mut self, msg: Self::Message);
    /// The message's addressee.
    fn addressee(msg: &Self::Message) -> u64;
    /// The message's term (mixed into the trace hash).
    fn message_term(msg: &Self::Message) -> u64;
    /// One short line describing the message, for the event trace.
    fn describe(msg: &Self::Message) -> String;

    /// A client command arrives at this node.
    fn propose(&mut self, command: Vec<u8>) -> Proposed;
    /// A linearizable read arrives at this node: start confirming it
    /// (ReadIndex, a lease). Its id comes back in [`Ready::reads`] with the
    /// index to serve it at. Protocols without such reads keep the
    /// default, and reads go through the log.
    fn read(&mut self) -> ReadStarted {
        ReadStarted::Unsupported
    }
    /// Whether [`Replica::ready`] has anything.
    fn has_ready(&self) -> bool;
    /// Everything the node wants done now. The node has already applied
    /// `write` to its own view of its disk.
    ///
    /// # Errors
    /// A description when the node's own disk refused the write: a
    /// protocol bug.
    fn ready(&mut self) -> Result<Ready<Self>, String>;
    /// The writes the receipt covers are durable.
    fn on_synced(&mut self, receipt: Self::Receipt);
    /// The state machine applied everything up to `index`.
    fn on_applied(&mut self, index: u64);

    /// Makes `write` durable on `disk`.
    ///
    /// # Errors
    /// A description when the write is impossible (a gap, an older
    /// snapshot): a protocol bug.
    fn write(disk: &mut Self::Disk, write: &Self::Write) -> Result<(), String>;
    /// Whether `write` changes the vote `disk` holds: the crash nemesis
    /// aims at these fsync windows.
    fn changes_vote(disk: &Self::Disk, write: &Self::Write) -> bool;
    /// Log entries in `pending`, the units a torn write keeps a prefix of.
    fn torn_units(pending: &[Self::Write]) -> usize;
    /// Writes the first `keep` entries of `pending` (not their vote or
    /// other metadata) to `disk`: a torn write. Returns whether it landed.
    fn tear(disk: &mut Self::Disk, pending: &[Self::Write], keep: usize) -> bool;

    /// The term this node leads, if it believes it is the leader.
    fn leader_term(&self) -> Option<u64>;
    /// The node's current term (ballot, epoch): never below the term of
    /// any entry it knows to be committed. The leader-completeness check
    /// uses it to date when an entry was committed.
    fn term(&self) -> u64;
    /// Every (index, term) pair the node's log holds, in index order.
    fn log_terms(&self) -> Vec<(u64, u64)>;
    /// The lowest index the log still holds (earlier ones are compacted).
    fn first_index(&self) -> u64;
    /// Whether the log holds `index` with `term`.
    fn holds(&self, index: u64, term: u64) -> bool;
    /// The state-machine command inside a payload (`None` for protocol
    /// entries such as no-ops and membership changes).
    fn command(payload: &Self::Payload) -> Option<&[u8]>;

    /// The current voters, as this node knows them.
    fn voters(&self) -> Vec<u64>;
    /// As a leader whose view of the configuration is settled (it has
    /// committed an entry of its own term and applied everything
    /// committed), every node its configuration counts: voters, outgoing
    /// voters of a joint configuration, learners; sorted. `None`
    /// otherwise, and by default: [`SimConfig::retire_removed`]
    /// (crate::SimConfig::retire_removed) then never stops a node.
    fn settled_members(&self) -> Option<Vec<u64>> {
        None
    }
    /// The node's applied index and every node its applied configuration
    /// counts (voters, outgoing voters, learners; sorted): a committed
    /// configuration, though perhaps not the latest. `None` by default.
    fn applied_members(&self) -> Option<(u64, Vec<u64>)> {
        None
    }
    /// As leader, proposes a membership change; returns whether it was
    /// accepted for replication.
    fn propose_membership(&mut self, change: MembershipChange) -> bool;
    /// Snapshots the state machine at the applied index and compacts the
    /// log, on the node's view and on `durable`. `state` encodes the state
    /// machine; it is called only when a snapshot is taken. Returns whether
    /// one was.
    fn compact(&mut self, durable: &mut Self::Disk, state: impl FnOnce() -> Vec<u8>) -> bool;
}

/// What a node answers a client's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proposed {
    /// Appended to the leader's log: the answer comes when it applies.
    Appended,
    /// Not appended here; the client should try `leader` (or anyone).
    Rejected {
        /// The leader this node knows, if any.
        leader: Option<u64>,
    },
}

/// What became of a read handed to [`Replica::read`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStarted {
    /// Being confirmed under this id.
    Started(u64),
    /// Not here; the client should try `leader` (or anyone).
    Rejected {
        /// The leader this node knows, if any.
        leader: Option<u64>,
    },
    /// The protocol has no such reads: send the read through the log.
    Unsupported,
}

/// A membership change the simulator injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipChange {
    /// Adds a node as a voter.
    Add(u64),
    /// Removes a node.
    Remove(u64),
    /// Removes voter `remove` and adds `add` as a voter in one change (two
    /// voters changed at once: a joint configuration).
    Replace {
        /// The voter removed.
        remove: u64,
        /// The node made a voter.
        add: u64,
    },
    /// A stop-sign naming the next configuration whole: its voters are
    /// the nodes whose bit is set in `voters` (bit `i - 1` for node `i`,
    /// nodes 1 to 64), which may share none with the voters in force; the
    /// learners in force that it does not make voters stay learners.
    StopSign {
        /// The next voters, as a bit set.
        voters: u64,
    },
}

/// An entry to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied<P> {
    /// Its index.
    pub index: u64,
    /// The term it was appended in.
    pub term: u64,
    /// What it holds.
    pub payload: P,
}

/// Everything a node wants done, as plain data.
#[derive(Debug)]
pub struct Ready<R: Replica> {
    /// Messages to send now.
    pub send: Vec<R::Message>,
    /// What to hand to the disk (durable only once it syncs).
    pub write: R::Write,
    /// Messages that may leave only once `write` is durable.
    pub after_sync: Vec<R::Message>,
    /// Given back through [`Replica::on_synced`] once `write` is durable.
    pub receipt: R::Receipt,
    /// A leader's snapshot replaced the state machine with these bytes.
    pub restored: Option<Vec<u8>>,
    /// Committed entries to apply, in index order.
    pub committed: Vec<Applied<R::Payload>>,
    /// Reads confirmed: (id, index); serve each once `index` is applied.
    pub reads: Vec<(u64, u64)>,
}
