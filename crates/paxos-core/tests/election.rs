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

/// Hands out every ready (written and reported durable at once) and
/// returns the messages sent.
fn hand_out(n: &mut Node) -> Vec<Message> {
    let mut sent = Vec::new();
    while n.has_ready() {
        let ready = n.ready().unwrap();
        n.storage_mut().apply_write(ready.write.clone()).unwrap();
        let written = ready.after_write.written();
        n.on_written(written.receipt);
        sent.extend(ready.messages);
        sent.extend(written.messages);
    }
    sent
}

/// What the beats `n` hands out to `to` say: (leader alive, connected).
fn beats_to(n: &mut Node, to: NodeId) -> Vec<(bool, bool)> {
    hand_out(n)
        .into_iter()
        .filter_map(|m| match m.body {
            Body::Beat {
                leader_alive,
                connected,
                ..
            } if m.to == to => Some((leader_alive, connected)),
            _ => None,
        })
        .collect()
}

/// The `leader_alive` of the beats `n` hands out to `to`.
fn reported_alive(n: &mut Node, to: NodeId) -> Vec<bool> {
    beats_to(n, to)
        .into_iter()
        .map(|(alive, _)| alive)
        .collect()
}

/// Node 1, a candidate, leads on node 2's promise (a quorum of 1-3).
fn lead_on_node_2s_promise(n: &mut Node) {
    hand_out(n);
    let promise = Body::Promise {
        decided: 0,
        last_term: 1,
        last_index: 1,
        suffix: Suffix::default(),
        pieces: None,
    };
    let ballot = n.promised();
    n.step(Message {
        from: 2,
        to: 1,
        ballot,
        body: promise,
    })
    .unwrap();
    assert_eq!(n.role(), Role::Leader);
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

/// The tick at which node 2 of 1-5, hearing no leader, campaigns while
/// nodes 4 and 5 keep it connected and node 3 (connected, of `priority`)
/// reports that it lost the leader too, for its first `node_3_beats`
/// ticks.
fn campaign_tick(priority: u32, node_3_beats: u64) -> u64 {
    let mut n = node(2, &[1, 2, 3, 4, 5]);
    for tick in 1..=1_000 {
        if tick <= node_3_beats {
            n.step(beat(3, 2, Ballot::ZERO, false, priority)).unwrap();
        }
        for from in [4, 5] {
            n.step(beat(from, 2, Ballot::ZERO, false, 0)).unwrap();
        }
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
    let alone = campaign_tick(0, u64::MAX);
    assert_eq!(campaign_tick(5, u64::MAX), alone + window);
    // Node 3 heard last on the tick node 2's own timeout ran out: it waits
    // for node 3 until that beat is an election timeout old.
    assert_eq!(campaign_tick(5, alone), alone + window - 1);
}

// Quorum-connected election's relay: a follower that cannot hear the
// leader keeps following it while a connected peer reports hearing it,
// and campaigns exactly an election timeout after that report stopped.
#[test]
fn a_relayed_leader_is_followed_until_the_relay_is_a_timeout_old() {
    let window = u64::from(Config::new(3).election_timeout_ticks);
    let mut n = node(3, &[1, 2, 3, 4, 5]);
    let leader = b(1, 1);
    n.step(beat(1, 3, leader, true, 0)).unwrap();
    let others = |n: &mut Node| {
        for from in [4, 5] {
            n.step(beat(from, 3, leader, false, 0)).unwrap();
        }
    };
    for _ in 0..5 * window {
        n.step(beat(2, 3, leader, true, 0)).unwrap();
        others(&mut n);
        n.tick();
        assert_eq!(n.role(), Role::Follower, "node 2 relays the leader");
    }
    let mut ticks = 0;
    while n.role() == Role::Follower && ticks < 5 * window {
        others(&mut n);
        n.tick();
        ticks += 1;
    }
    assert_eq!(n.role(), Role::Candidate);
    assert_eq!(ticks, window - 1, "the relay heard {window} ticks before");
}

// A hand-over request stays good for two election timeouts: a voter that
// becomes quorum-connected within them still takes over (here 1.5
// timeouts on), though its leader is alive.
#[test]
fn a_take_over_stays_asked_for_two_timeouts() {
    let window = u64::from(Config::new(2).election_timeout_ticks);
    let taken_over_after = |ticks: u64| {
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
        for _ in 0..ticks {
            n.step(beat(1, 2, leader, true, 0)).unwrap();
            n.tick();
            assert_eq!(n.role(), Role::Follower, "not connected yet");
        }
        n.step(beat(3, 2, leader, true, 0)).unwrap();
        n.tick();
        n.role() == Role::Candidate
    };
    assert!(taken_over_after(window + window / 2));
    assert!(!taken_over_after(2 * window), "asked two timeouts ago");
}

/// Node 1 of 1-3, after `idle` ticks alone, campaigns and leads on node
/// 2's promise; returns the ticks after that until it steps down, cut
/// off from both.
fn ticks_a_cut_off_leader_leads(idle: u64) -> u64 {
    let mut n = node(1, &[1, 2, 3]);
    for _ in 0..idle {
        n.tick();
    }
    n.campaign();
    lead_on_node_2s_promise(&mut n);
    let mut ticks = 0;
    while n.role() == Role::Leader {
        n.tick();
        ticks += 1;
        assert!(ticks < 1_000, "never stepped down");
    }
    ticks
}

// A leader that hears no quorum gives way an election timeout after it
// began leading at the earliest, however long the node ran before.
#[test]
fn a_cut_off_leader_gives_way_a_timeout_after_it_began_leading() {
    assert_eq!(
        ticks_a_cut_off_leader_leads(100),
        ticks_a_cut_off_leader_leads(0)
    );
}

// A candidate still waiting for promises says in its beats that no
// leader is alive (its followers may campaign over it if it stalls);
// only one holding a quorum's promises while it catches up counts as
// alive.
#[test]
fn a_candidate_without_promises_reports_no_live_leader() {
    let mut n = node(1, &[1, 2, 3]);
    n.step(beat(2, 1, Ballot::ZERO, false, 0)).unwrap();
    n.tick();
    n.campaign();
    assert_eq!(n.role(), Role::Candidate);
    reported_alive(&mut n, 2);
    n.step(beat(2, 1, Ballot::ZERO, false, 0)).unwrap();
    n.tick();
    assert_eq!(n.role(), Role::Candidate);
    assert_eq!(reported_alive(&mut n, 2), [false], "connected, no promises");
}

// A node that gave up campaigning follows again the highest leader a
// connected peer heard within an election timeout reported, at its next
// tick, without waiting for that peer's next beat.
#[test]
fn a_node_that_gives_up_follows_the_leader_a_connected_peer_reported() {
    let mut n = node(1, &[1, 2, 3, 4, 5]);
    let theirs = b(3, 3);
    n.step(beat(2, 1, theirs, true, 0)).unwrap();
    assert_eq!(n.leader_ballot(), theirs, "followed at once");
    n.campaign();
    assert_eq!(n.role(), Role::Candidate);
    // Hearing only node 2 (2 of 5), the candidate gives way.
    let mut ticks = 0;
    while n.role() == Role::Candidate {
        n.step(beat(2, 1, theirs, true, 0)).unwrap();
        n.tick();
        ticks += 1;
        assert!(ticks < 1_000, "never gave up");
    }
    assert_eq!(n.leader_ballot(), Ballot::ZERO, "its own ballot dropped");
    n.tick();
    assert_eq!(n.leader_ballot(), theirs, "node 2's, heard a tick ago");
}

// In a joint configuration a node is connected only if it also hears a
// majority of the outgoing voters: here 2 of the 4 (itself and node 2)
// is not one, though it is a quorum of the incoming {1, 2, 3}.
#[test]
fn connectivity_in_a_joint_configuration_needs_a_majority_of_the_outgoing_half() {
    let mut storage = MemStorage::bootstrap(&[1, 2, 3]);
    storage.set_conf_state(ConfState {
        voters: vec![1, 2, 3],
        voters_outgoing: vec![1, 2, 3, 4],
        learners: vec![],
    });
    let mut n = PaxosNode::new(Config::new(1), storage, StdRng::seed_from_u64(1)).unwrap();
    assert_eq!(n.voters_outgoing(), [1, 2, 3, 4]);
    // A beat reports what the tick before it found, so two ticks each.
    let hearing = |n: &mut Node, from: &[NodeId]| {
        for _ in 0..2 {
            for &id in from {
                n.step(beat(id, 1, Ballot::ZERO, false, 0)).unwrap();
            }
            n.tick();
        }
        beats_to(n, 2).last().map(|&(_, connected)| connected)
    };
    assert_eq!(hearing(&mut n, &[2]), Some(false));
    assert_eq!(hearing(&mut n, &[2, 4]), Some(true), "3 of the 4");
}

fn from_1(body: Body) -> Message {
    Message {
        from: 1,
        to: 2,
        ballot: b(1, 1),
        body,
    }
}

fn accept() -> Body {
    Body::Accept {
        prev_index: 0,
        entries: vec![],
        decided: 0,
    }
}

/// Node 2 of 1-3, promised node 1's ballot (1, 1).
fn promised_to_node_1() -> Node {
    let mut n = node(2, &[1, 2, 3]);
    let prepare = Body::Prepare {
        decided: 0,
        last_term: 0,
        last_index: 0,
    };
    n.step(from_1(prepare)).unwrap();
    reported_alive(&mut n, 3);
    n
}

// A follower that hears its leader's phase-2 messages but not its beats
// (lost) still knows the leader leads, and says so in its own beats.
#[test]
fn a_leaders_accepts_count_as_hearing_it_lead() {
    let mut n = promised_to_node_1();
    n.tick();
    assert_eq!(reported_alive(&mut n, 3), [false], "only promised");
    n.step(from_1(accept())).unwrap();
    n.tick();
    assert_eq!(reported_alive(&mut n, 3), [true], "an accept heard");
}

// An accept of the ballot it promised never takes a follower back from a
// newer leader that connected peers report (it follows the newest one).
#[test]
fn an_accept_of_an_older_ballot_does_not_move_the_leader_back() {
    let mut n = promised_to_node_1();
    let newer = b(2, 3);
    n.step(beat(3, 2, newer, true, 0)).unwrap();
    assert_eq!(n.leader_ballot(), newer);
    n.step(from_1(accept())).unwrap();
    assert_eq!(n.leader_ballot(), newer);
}

// Only the leader a node follows can hand leadership over to it: a
// TakeOver in an older ballot (a deposed leader's) is ignored.
#[test]
fn a_take_over_from_a_deposed_leader_is_ignored() {
    let mut n = node(2, &[1, 2, 3]);
    let current = b(2, 3);
    n.step(beat(3, 2, current, true, 0)).unwrap();
    let stale = Message {
        from: 1,
        to: 2,
        ballot: b(1, 1),
        body: Body::TakeOver,
    };
    n.step(stale).unwrap();
    n.step(beat(3, 2, current, true, 0)).unwrap();
    n.tick();
    assert_eq!(
        (n.role(), n.leader_ballot()),
        (Role::Follower, current),
        "campaigned on a deposed leader's word"
    );
}

// A candidate or leader that hears a connected peer follow a newer
// ballot gives way and follows it.
#[test]
fn a_candidate_or_leader_follows_a_newer_ballot_a_connected_peer_reports() {
    for lead in [false, true] {
        let mut n = node(1, &[1, 2, 3]);
        n.campaign();
        if lead {
            lead_on_node_2s_promise(&mut n);
        }
        let newer = b(n.promised().round() + 1, 3);
        n.step(beat(3, 1, newer, true, 0)).unwrap();
        assert_eq!(
            (n.role(), n.leader_ballot()),
            (Role::Follower, newer),
            "leading: {lead}"
        );
    }
}

// A peer heard counts toward connectivity for less than an election
// timeout: a node that heard node 2 at tick 0 and nothing since is
// connected at ticks 1 to timeout - 1 and not at the timeout (each beat
// reports what the tick before it found).
#[test]
fn a_peer_counts_toward_connectivity_for_less_than_a_timeout() {
    let window = Config::new(1).election_timeout_ticks as usize;
    let mut n = node(1, &[1, 2, 3]);
    n.step(beat(2, 1, Ballot::ZERO, false, 0)).unwrap();
    let mut reported = Vec::new();
    for _ in 0..=window {
        n.tick();
        reported.extend(beats_to(&mut n, 2).iter().map(|&(_, connected)| connected));
    }
    let mut want = vec![true; window + 1];
    (want[0], want[window]) = (false, false);
    assert_eq!(reported, want);
}

// A node that cannot transfer leadership or take a proposal names the
// leader it follows,
// never itself (a candidate owns its ballot but leads nothing) and never
// node 0 (no leader known).
#[test]
fn a_refused_transfer_names_only_another_nodes_leadership() {
    let mut n = node(1, &[1, 2, 3]);
    let no_leader = Err(ProposeError::NotLeader { leader: None });
    let x = || bytes::Bytes::from_static(b"x");
    assert_eq!(n.transfer_leadership(2), no_leader, "no leader known");
    assert_eq!(n.propose(x()).map(|_| ()), no_leader);
    n.campaign();
    assert_eq!(n.transfer_leadership(2), no_leader, "a candidate");
    assert_eq!(n.propose(x()).map(|_| ()), no_leader);
    n.step(beat(3, 1, b(n.promised().round() + 1, 3), true, 0))
        .unwrap();
    let follower = Err(ProposeError::NotLeader { leader: Some(3) });
    assert_eq!(n.transfer_leadership(2), follower);
    assert_eq!(n.propose(x()).map(|_| ()), follower);
}

/// The first tick after its campaign at which leader 1 asks node 2 (of
/// priority 5, connected, acknowledging the leader's whole log when
/// `caught_up`) to take over, within three election timeouts.
fn hand_over_tick(caught_up: bool) -> Option<u64> {
    let window = u64::from(Config::new(1).election_timeout_ticks);
    let mut n = node(1, &[1, 2, 3]);
    n.campaign();
    lead_on_node_2s_promise(&mut n);
    let ballot = n.promised();
    for tick in 1..=3 * window {
        n.step(beat(2, 1, ballot, true, 5)).unwrap();
        if caught_up {
            let last_index = n.storage().last_index().unwrap();
            let accepted = Body::Accepted { last_index };
            n.step(Message {
                from: 2,
                to: 1,
                ballot,
                body: accepted,
            })
            .unwrap();
        }
        n.tick();
        let asked = hand_out(&mut n)
            .iter()
            .any(|m| m.to == 2 && m.body == Body::TakeOver);
        if asked {
            return Some(tick);
        }
    }
    None
}

// Priority's hand-over: a working leader asks a connected peer of higher
// priority to take over once it has led for an election timeout and only
// if that peer holds its whole log.
#[test]
fn a_leader_hands_over_to_a_higher_priority_peer_after_a_timeout_once_caught_up() {
    let window = u64::from(Config::new(1).election_timeout_ticks);
    assert_eq!(hand_over_tick(true), Some(window));
    assert_eq!(hand_over_tick(false), None, "node 2 lacks the log");
}

// A second transfer to another voter replaces the first: proposals are
// held for the new target, and the TakeOver goes to it.
#[test]
fn a_transfer_to_another_voter_replaces_the_first() {
    let mut n = node(1, &[1, 2, 3]);
    n.campaign();
    lead_on_node_2s_promise(&mut n);
    n.transfer_leadership(2).unwrap();
    n.transfer_leadership(3).unwrap();
    assert_eq!(
        n.propose(bytes::Bytes::from_static(b"x")),
        Err(ProposeError::Transferring { to: 3 })
    );
}

// Only a leader answers an acceptor's Resync (with a prepare of its own
// ballot); a follower that gets one sends nothing.
#[test]
fn a_follower_ignores_a_resync() {
    let mut n = promised_to_node_1();
    let resync = Message {
        from: 3,
        to: 2,
        ballot: b(1, 1),
        body: Body::Resync,
    };
    let _ = n.step(resync);
    assert_eq!(hand_out(&mut n), vec![]);
}
