//! Ballots: `(round, node)` pairs, totally ordered, packed into one `u64`
//! so they serve as the protocol-neutral epoch (`Term`) the log stores with
//! every entry and the hard state stores as the promise.

use synod_protocol::{NodeId, Term};

/// Bits of a ballot that hold the node id.
const NODE_BITS: u32 = 24;

/// The largest node id a Multi-Paxos cluster may use (ids share the ballot's
/// 64 bits with the round).
pub const MAX_NODE_ID: NodeId = (1 << NODE_BITS) - 1;

/// The largest round: a node that reaches it can no longer campaign.
pub const MAX_ROUND: u64 = u64::MAX >> NODE_BITS;

/// A ballot: the round, then the node that owns it. Two nodes never own
/// the same ballot, and a node never reuses one (its promise is persisted
/// before it campaigns with a ballot, and each campaign takes a round above
/// every round it has seen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Ballot(pub Term);

impl Ballot {
    /// No ballot: below every real one.
    pub const ZERO: Ballot = Ballot(0);

    /// The ballot of `round` owned by `node`, if both fit.
    #[must_use]
    pub fn new(round: u64, node: NodeId) -> Option<Self> {
        (round <= MAX_ROUND && node <= MAX_NODE_ID).then_some(Self((round << NODE_BITS) | node))
    }

    /// Its round.
    #[must_use]
    pub fn round(self) -> u64 {
        self.0 >> NODE_BITS
    }

    /// The node that owns it (0 for [`Ballot::ZERO`]).
    #[must_use]
    pub fn node(self) -> NodeId {
        self.0 & MAX_NODE_ID
    }
}

impl std::fmt::Display for Ballot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.round(), self.node())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_order_by_round_then_node() {
        let a = Ballot::new(3, 9).unwrap();
        let b = Ballot::new(4, 1).unwrap();
        let c = Ballot::new(4, 2).unwrap();
        assert!(Ballot::ZERO < a && a < b && b < c);
        assert_eq!((c.round(), c.node()), (4, 2));
        assert_eq!(
            (c.to_string(), Ballot::ZERO.to_string()),
            ("4.2".into(), "0.0".into())
        );
        assert_eq!(Ballot::new(MAX_ROUND + 1, 1), None);
        assert_eq!(Ballot::new(1, MAX_NODE_ID + 1), None);
        let top = Ballot::new(MAX_ROUND, MAX_NODE_ID).unwrap();
        assert_eq!(top.0, u64::MAX);
    }
}
