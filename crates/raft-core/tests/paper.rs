//! One test per rule of Raft §5 (and the §6-related behaviour not covered
//! elsewhere), in the spirit of etcd raft's paper tests. Each cites the
//! rule it checks.

use crate::common;

use common::{Cluster, drain, msg};
use rand::SeedableRng;
use rand::rngs::StdRng;
use synod_raft_core::*;

fn node(id: NodeId, voters: &[NodeId], pre_vote: bool) -> common::Node {
    let config = Config {
        pre_vote,
        ..Config::new(id)
    };
    RaftNode::new(
        config,
        MemStorage::with_voters(voters),
        StdRng::seed_from_u64(id),
    )
    .unwrap()
}

// §5.1: "If one server's current term is smaller than the other's, then it
// updates its current term to the larger value. If a candidate or leader
// discovers that its term is out of date, it immediately reverts to
// follower state."
#[test]
fn s5_1_a_larger_term_is_adopted_and_demotes() {
    for role in ["follower", "candidate", "leader"] {
        let mut n = node(1, &[1, 2, 3], false);
        match role {
            "candidate" => n.campaign(),
            "leader" => {
                n.campaign();
                drain(&mut n);
                n.step(msg(
                    2,
                    1,
                    1,
                    MessageBody::VoteResponse {
                        pre_vote: false,
                        granted: true,
                    },
                ))
                .unwrap();
            }
            _ => {}
        }
        n.step(msg(
            2,
            1,
            9,
            MessageBody::AppendResponse(AppendResult::Accepted { match_index: 0 }),
        ))
        .unwrap();
        assert_eq!((n.term(), n.role()), (9, Role::Follower), "{role}");
    }
}

// §5.1: "If a server receives a request with a stale term number, it
// rejects the request."
#[test]
fn s5_1_stale_requests_are_rejected() {
    let mut n = node(1, &[1, 2, 3], false);
    n.step(msg(
        2,
        1,
        5,
        MessageBody::Heartbeat {
            commit: 0,
            read_round: 0,
            sent_at_tick: 0,
        },
    ))
    .unwrap();
    drain(&mut n);
    let stale = MessageBody::Append {
        prev_index: 0,
        prev_term: 0,
        entries: vec![Entry {
            index: 1,
            term: 3,
            payload: Payload::Noop,
        }],
        commit: 0,
    };
    n.step(msg(3, 1, 3, stale)).unwrap();
    assert_eq!(
        n.log().last_index(),
        Ok(0),
        "nothing appended from a stale leader"
    );
    let sent = drain(&mut n);
    assert_eq!(
        sent.last().map(|m| m.term),
        Some(5),
        "the stale leader hears the newer term"
    );
    n.step(msg(
        3,
        1,
        4,
        MessageBody::VoteRequest {
            pre_vote: false,
            last_index: 9,
            last_term: 4,
            transfer: false,
        },
    ))
    .unwrap();
    assert_eq!(n.status().vote, None, "no vote for a stale candidate");
}

// §5.2: "Each server will vote for at most one candidate in a given term,
// on a first-come-first-served basis." A voter that voted and knows no
// leader yet still refuses a second candidate of that term, and grants
// the same candidate again (its answer may have been lost).
#[test]
fn s5_2_at_most_one_vote_per_term_first_come_first_served() {
    let request = MessageBody::VoteRequest {
        pre_vote: false,
        last_index: 0,
        last_term: 0,
        transfer: false,
    };
    let granted = |sent: &[Message], to: NodeId| {
        sent.iter().any(|m| {
            m.to == to
                && m.body
                    == MessageBody::VoteResponse {
                        pre_vote: false,
                        granted: true,
                    }
        })
    };
    let mut n = node(2, &[1, 2, 3], false);
    n.step(msg(1, 2, 1, request.clone())).unwrap();
    assert!(granted(&drain(&mut n), 1));
    assert_eq!((n.status().vote, n.status().leader), (Some(1), None));
    n.step(msg(3, 2, 1, request.clone())).unwrap();
    assert!(!granted(&drain(&mut n), 3), "a second vote in term 1");
    assert_eq!(n.status().vote, Some(1));
    n.step(msg(1, 2, 1, request.clone())).unwrap();
    assert!(granted(&drain(&mut n), 1), "the same candidate again");
    // A new term frees the vote.
    n.step(msg(3, 2, 2, request)).unwrap();
    assert!(granted(&drain(&mut n), 3));
}

// Thesis §9.6 (pre-vote), at the voter, with check-quorum off so that the
// vote rule alone decides: a pre-vote for a later term is refused while
// the leader is heard and granted once no leader is known; one for the
// voter's own term is refused when its vote there went to another. A
// refusal is answered in the voter's own term (a grant in the candidate's
// future term), so a refused pre-candidate's term never moves.
#[test]
fn s9_6_a_pre_vote_needs_a_later_term_and_a_silent_leader() {
    let config = Config {
        pre_vote: true,
        check_quorum: false,
        ..Config::new(2)
    };
    let storage = MemStorage::with_voters(&[1, 2, 3]);
    let mut n = RaftNode::new(config, storage, StdRng::seed_from_u64(2)).unwrap();
    let request = |pre_vote| MessageBody::VoteRequest {
        pre_vote,
        last_index: 0,
        last_term: 0,
        transfer: false,
    };
    let answer = |sent: &[Message], to: NodeId| {
        let found = sent.iter().find_map(|m| match m.body {
            MessageBody::VoteResponse { granted, .. } if m.to == to => Some((m.term, granted)),
            _ => None,
        });
        found.unwrap_or_else(|| panic!("no answer to {to}: {sent:?}"))
    };
    let heartbeat = MessageBody::Heartbeat {
        commit: 0,
        read_round: 0,
        sent_at_tick: 0,
    };
    n.step(msg(1, 2, 1, heartbeat)).unwrap();
    drain(&mut n);
    assert_eq!((n.term(), n.leader()), (1, Some(1)));
    n.step(msg(3, 2, 2, request(true))).unwrap();
    assert_eq!(answer(&drain(&mut n), 3), (1, false), "the leader is heard");
    assert_eq!(n.term(), 1);

    // Term 2 begins with a vote for 1; no leader is known in it.
    n.step(msg(1, 2, 2, request(false))).unwrap();
    assert_eq!(answer(&drain(&mut n), 1), (2, true));
    assert_eq!((n.status().vote, n.leader()), (Some(1), None));
    n.step(msg(3, 2, 2, request(true))).unwrap();
    assert_eq!(
        answer(&drain(&mut n), 3),
        (2, false),
        "its vote in 2 is spoken for"
    );
    n.step(msg(3, 2, 3, request(true))).unwrap();
    assert_eq!(
        answer(&drain(&mut n), 3),
        (3, true),
        "a later term, no leader"
    );
    assert_eq!((n.term(), n.status().vote), (2, Some(1)));
}

// §5.2: "If a follower receives no communication over a period of time
// called the election timeout, then it ... begins an election": it
// increments its term, votes for itself and asks every other voter.
#[test]
fn s5_2_a_follower_times_out_and_campaigns() {
    let mut n = node(1, &[1, 2, 3], false);
    for _ in 0..20 {
        n.tick();
    }
    assert_eq!(
        (n.role(), n.term(), n.status().vote),
        (Role::Candidate, 1, Some(1))
    );
    let sent = drain(&mut n);
    let mut asked: Vec<NodeId> = sent
        .iter()
        .filter(|m| matches!(m.body, MessageBody::VoteRequest { .. }))
        .map(|m| m.to)
        .collect();
    asked.sort_unstable();
    assert_eq!(asked, vec![2, 3]);
}

// §5.2: election timeouts are "chosen randomly from a fixed interval" so
// that split votes are rare: different seeds give different timeouts,
// always within [T, 2T).
#[test]
fn s5_2_timeouts_are_randomized_within_bounds() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..50 {
        let config = Config {
            pre_vote: false,
            ..Config::new(1)
        };
        let mut n = RaftNode::new(
            config,
            MemStorage::with_voters(&[1, 2, 3]),
            StdRng::seed_from_u64(seed),
        )
        .unwrap();
        let mut ticks = 0;
        while n.role() == Role::Follower {
            n.tick();
            ticks += 1;
        }
        assert!(
            (10..20).contains(&ticks),
            "timeout {ticks} outside [10, 20)"
        );
        seen.insert(ticks);
    }
    assert!(seen.len() > 5, "timeouts vary: {seen:?}");
}

// §5.2: "While waiting for votes, a candidate may receive an AppendEntries
// RPC from another server claiming to be leader. If the leader's term ...
// is at least as large as the candidate's current term, then the candidate
// ... returns to follower state."
#[test]
fn s5_2_a_candidate_yields_to_a_leader_of_its_term() {
    let mut n = node(1, &[1, 2, 3], false);
    n.campaign();
    drain(&mut n);
    n.step(msg(
        2,
        1,
        1,
        MessageBody::Heartbeat {
            commit: 0,
            read_round: 0,
            sent_at_tick: 0,
        },
    ))
    .unwrap();
    assert_eq!(
        (n.role(), n.leader(), n.term()),
        (Role::Follower, Some(2), 1)
    );
}

// §5.2: a candidate that neither wins nor loses (a split vote) times out
// and starts a new election in a new term.
#[test]
fn s5_2_a_split_vote_leads_to_a_new_election() {
    let mut n = node(1, &[1, 2, 3, 4], false);
    n.campaign();
    drain(&mut n);
    n.step(msg(
        2,
        1,
        1,
        MessageBody::VoteResponse {
            pre_vote: false,
            granted: true,
        },
    ))
    .unwrap();
    n.step(msg(
        3,
        1,
        1,
        MessageBody::VoteResponse {
            pre_vote: false,
            granted: false,
        },
    ))
    .unwrap();
    assert_eq!(n.role(), Role::Candidate, "2 of 4 is no majority");
    for _ in 0..20 {
        n.tick();
    }
    assert_eq!((n.role(), n.term()), (Role::Candidate, 2));
}

// §5.2: a candidate that a majority rejects becomes a follower.
#[test]
fn s5_2_a_rejected_candidate_steps_back() {
    let mut n = node(1, &[1, 2, 3], false);
    n.campaign();
    drain(&mut n);
    n.step(msg(
        2,
        1,
        1,
        MessageBody::VoteResponse {
            pre_vote: false,
            granted: false,
        },
    ))
    .unwrap();
    n.step(msg(
        3,
        1,
        1,
        MessageBody::VoteResponse {
            pre_vote: false,
            granted: false,
        },
    ))
    .unwrap();
    assert_eq!(n.role(), Role::Follower);
}

// §5.3: "a leader never overwrites or deletes entries in its own log; it
// only appends new entries", and an entry is committed "once the leader
// that created the entry has replicated it on a majority of the servers".
#[test]
fn s5_3_the_leader_only_appends_and_commits_on_a_majority() {
    let mut c = Cluster::new(5, 71);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let before: Vec<Entry> = {
        let log = c.node(leader).log();
        log.slice(1, log.last_index().unwrap() + 1, u64::MAX)
            .unwrap()
    };
    // Reach only one follower: 2 of 5 hold the entry, not committed.
    let others: Vec<NodeId> = (1..=5).filter(|&id| id != leader).collect();
    for &o in &others[1..] {
        c.cut.insert((leader, o));
    }
    let index = match c.node_mut(leader).propose(b"e".to_vec()).unwrap() {
        Proposal::Appended { index, .. } => index,
        other => panic!("{other:?}"),
    };
    c.deliver(10_000);
    assert!(c.node(leader).log().committed() < index);
    // A third holder makes a majority.
    c.cut.remove(&(leader, others[1]));
    c.run_ticks(2);
    assert!(c.node(leader).log().committed() >= index);
    let log = c.node(leader).log();
    let after = log.slice(1, before.len() as Index + 1, u64::MAX).unwrap();
    assert_eq!(after, before, "existing entries untouched");
}

// §5.3: followers apply committed entries in log order, and the leader
// tells them the commit index on later appends and heartbeats.
#[test]
fn s5_3_followers_learn_the_commit_index_and_apply_in_order() {
    let mut c = Cluster::new(3, 72);
    c.run_ticks(30);
    for i in 0..10u8 {
        c.propose(&[b'a' + i]).unwrap();
    }
    c.run_ticks(2);
    for id in 1..=3 {
        let data: Vec<u8> = c.applied[&id].iter().map(|(_, d)| d[0]).collect();
        assert_eq!(
            data,
            (0..10u8).map(|i| b'a' + i).collect::<Vec<_>>(),
            "node {id}"
        );
    }
}
