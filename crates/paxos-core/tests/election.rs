//! Leader election rule by rule, on one node fed beats by hand: what its
//! own beats report, a take-over only while quorum-connected, and the
//! one-timeout deferral to a connected peer of higher priority.

use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_paxos_core::*;

type Node = PaxosNode<MemStorage, StdRng>;

fn node(id: NodeId, voters: &[NodeId]) -> Node {
    PaxosNode::new(
        Config::new(id),
        MemStorage::bootstrap(voters),
        StdRng::seed_from_u64(id),
    )
    .unwrap()
}

fn b(round: u64, node: NodeId) -> Ballot {
    Ballot::new(round, node).unwrap()
}

/// A beat from `from` to `to` reporting `leader`.
fn beat(from: NodeId, to: NodeId, leader: Ballot, leader_alive: bool, priority: u32) -> Message {
    Message {
        from,
        to,
        ballot: leader,
        body: Body::Beat {
            leader,
            connected: true,
            leader_alive,
            priority,
        },
    }
}

/// The `leader_alive` of the beats `n` sends `to` in what it hands out.
fn reported_alive(n: &mut Node, to: NodeId) -> Vec<bool> {
    let mut seen = Vec::new();
    while n.has_ready() {
        let ready = n.ready().unwrap();
        n.storage_mut().apply_write(ready.write.clone()).unwrap();
        let written = ready.after_write.written();
        n.on_written(written.receipt);
        for m in ready.messages.iter().chain(&written.messages) {
            if let Body::Beat { leader_alive, .. } = m.body
                && m.to == to
            {
                seen.push(leader_alive);
            }
        }
    }
    seen
}

// A follower that heard its leader lead says so in its own beats, so a
// peer that cannot hear the leader directly keeps following it (the
// relay of quorum-connected election); once the leader has been silent
// for an election timeout it says the leader is lost.
#[test]
fn a_followers_beats_relay_whether_it_hears_the_leader() {
    let mut n = node(2, &[1, 2, 3]);
    let leader = b(1, 1);
    n.step(beat(1, 2, leader, true, 0)).unwrap();
    n.tick();
    assert_eq!(reported_alive(&mut n, 3), [true], "heard a tick ago");
    let window = u64::from(Config::new(2).election_timeout_ticks);
    for _ in 1..window {
        // Node 3 keeps the follower connected; the leader is silent.
        n.step(beat(3, 2, leader, false, 0)).unwrap();
        n.tick();
    }
    let alive = reported_alive(&mut n, 3);
    assert_eq!(alive.first(), Some(&true), "within the timeout: {alive:?}");
    assert_eq!(alive.last(), Some(&false), "a timeout on: {alive:?}");
}

// A leader's hand-over (TakeOver) is taken up only by a quorum-connected
// voter: one that hears a quorum campaigns at once, one that does not
// waits until it does (its prepares could not reach a quorum anyway).
#[test]
fn a_take_over_waits_until_the_node_hears_a_quorum() {
    let mut n = node(2, &[1, 2, 3, 4, 5]);
    let leader = b(1, 1);
    n.step(beat(1, 2, leader, true, 0)).unwrap();
    let take_over = Message {
        from: 1,
        to: 2,
        ballot: leader,
        body: Body::TakeOver,
    };
    n.step(take_over).unwrap();
    n.tick();
    assert_eq!(n.role(), Role::Follower, "hears 2 of 5 (itself and 1)");
    n.step(beat(3, 2, leader, true, 0)).unwrap();
    n.tick();
    assert_eq!(n.role(), Role::Candidate, "hears 3 of 5: takes over");
}

/// The tick at which node 2, hearing no leader, campaigns while node 3
/// (connected, of `priority`) keeps reporting that it lost the leader too.
fn campaign_tick(priority: u32) -> u64 {
    let mut n = node(2, &[1, 2, 3]);
    for tick in 1..=1_000 {
        n.step(beat(3, 2, Ballot::ZERO, false, priority)).unwrap();
        n.tick();
        if n.role() == Role::Candidate {
            return tick;
        }
    }
    panic!("node 2 never campaigned");
}

// Leader priority: a node whose election timeout ran out gives a
// connected voter of higher priority that also lost the leader exactly
// one more election timeout to campaign first, and then campaigns itself
// (the other may be unable to win). A peer of equal priority gets no such
// head start.
#[test]
fn a_higher_priority_peer_gets_one_timeout_of_head_start_and_no_more() {
    let window = u64::from(Config::new(2).election_timeout_ticks);
    let alone = campaign_tick(0);
    assert_eq!(campaign_tick(5), alone + window);
}
