//! The shapes a network partition can take (Jepsen's nemeses, as a menu).

use std::collections::BTreeSet;

use rand::rngs::StdRng;
use rand::{Rng as _, RngExt};

/// One way to split the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PartitionKind {
    /// Each node lands on a random side.
    RandomHalves,
    /// One random node is cut off both ways.
    IsolateNode,
    /// The current leader is cut off both ways.
    IsolateLeader,
    /// The leader and a minority on one side, the majority on the other.
    LeaderInMinority,
    /// Two halves that cannot talk, and one node that talks to both.
    Bridge,
    /// One node can receive but its messages are lost (asymmetric).
    OneWay,
    /// Nodes are clogged one at a time, then unclogged in reverse order
    /// (a slowly spreading, slowly healing partition).
    Swizzle,
}

impl PartitionKind {
    /// Every kind.
    pub const ALL: [PartitionKind; 7] = [
        Self::RandomHalves,
        Self::IsolateNode,
        Self::IsolateLeader,
        Self::LeaderInMinority,
        Self::Bridge,
        Self::OneWay,
        Self::Swizzle,
    ];
}

/// Directed links cut between `a` (one side) and `b` (the other).
fn between(a: &[u64], b: &[u64], cuts: &mut BTreeSet<(u64, u64)>) {
    for &x in a {
        for &y in b {
            cuts.insert((x, y));
            cuts.insert((y, x));
        }
    }
}

/// The links a static partition of `kind` cuts. (Swizzle is driven step by
/// step by the simulator with [`clog`].)
pub(crate) fn cuts(
    kind: PartitionKind,
    ids: &[u64],
    leader: Option<u64>,
    rng: &mut StdRng,
) -> BTreeSet<(u64, u64)> {
    let mut cuts = BTreeSet::new();
    let pick = |rng: &mut StdRng| ids[(rng.next_u64() % ids.len() as u64) as usize];
    match kind {
        PartitionKind::RandomHalves => {
            let (a, b): (Vec<u64>, Vec<u64>) = ids.iter().partition(|_| rng.random_bool(0.5));
            between(&a, &b, &mut cuts);
        }
        PartitionKind::IsolateNode | PartitionKind::IsolateLeader | PartitionKind::Swizzle => {
            let lonely = match (kind, leader) {
                (PartitionKind::IsolateLeader, Some(l)) => l,
                _ => pick(rng),
            };
            clog(lonely, ids, &mut cuts);
        }
        PartitionKind::LeaderInMinority => {
            let leader = leader.unwrap_or_else(|| pick(rng));
            let mut others: Vec<u64> = ids.iter().copied().filter(|&id| id != leader).collect();
            // A deterministic shuffle of the others.
            for i in (1..others.len()).rev() {
                others.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
            }
            // A minority of n, the leader included, has (n - 1) / 2 nodes.
            let minority_extra = ((ids.len() - 1) / 2).saturating_sub(1);
            let mut minority = vec![leader];
            minority.extend(others.drain(..minority_extra.min(others.len())));
            between(&minority, &others, &mut cuts);
        }
        PartitionKind::Bridge => {
            let bridge = pick(rng);
            let rest: Vec<u64> = ids.iter().copied().filter(|&id| id != bridge).collect();
            let a: Vec<u64> = rest.iter().copied().step_by(2).collect();
            let b: Vec<u64> = rest.iter().copied().skip(1).step_by(2).collect();
            between(&a, &b, &mut cuts);
        }
        PartitionKind::OneWay => {
            let lonely = pick(rng);
            for &other in ids {
                if other != lonely {
                    cuts.insert((lonely, other));
                }
            }
        }
    }
    cuts
}

/// Cuts every link of `node`, both ways.
pub(crate) fn clog(node: u64, ids: &[u64], cuts: &mut BTreeSet<(u64, u64)>) {
    for &other in ids {
        if other != node {
            cuts.insert((node, other));
            cuts.insert((other, node));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn can_talk(cuts: &BTreeSet<(u64, u64)>, a: u64, b: u64) -> bool {
        !cuts.contains(&(a, b)) && !cuts.contains(&(b, a))
    }

    #[test]
    fn shapes() {
        let ids = [1, 2, 3, 4, 5];
        let mut rng = StdRng::seed_from_u64(1);
        let c = cuts(PartitionKind::IsolateLeader, &ids, Some(3), &mut rng);
        assert!((1..=5).filter(|&x| x != 3).all(|x| !can_talk(&c, 3, x)));
        assert!(can_talk(&c, 1, 2));

        let c = cuts(PartitionKind::LeaderInMinority, &ids, Some(2), &mut rng);
        let with_leader = ids.iter().filter(|&&x| can_talk(&c, 2, x)).count(); // includes itself
        assert_eq!(with_leader, 2, "leader plus one: a minority of five");

        let c = cuts(PartitionKind::Bridge, &ids, None, &mut rng);
        let bridge = *ids
            .iter()
            .find(|&&x| ids.iter().all(|&y| can_talk(&c, x, y)))
            .expect("a bridge node");
        let cut_pairs = ids
            .iter()
            .flat_map(|&a| ids.iter().map(move |&b| (a, b)))
            .filter(|&(a, b)| a != b && !can_talk(&c, a, b))
            .count();
        assert!(cut_pairs > 0 && ids.contains(&bridge));

        let c = cuts(PartitionKind::OneWay, &ids, None, &mut rng);
        let (from, to) = *c.iter().next().unwrap();
        assert!(!c.contains(&(to, from)), "only one direction is cut");
    }
}
