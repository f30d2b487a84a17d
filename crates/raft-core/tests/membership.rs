//! Membership changes: learners (add, promote, remove), single-server
//! changes, joint consensus with automatic leave (Raft §6), and step-down
//! of a removed leader.

use crate::common;

use ConfChangeKind::*;
use common::Cluster;
use synod_raft_core::*;

fn changes(list: &[(ConfChangeKind, NodeId)]) -> ConfChange {
    ConfChange {
        changes: list
            .iter()
            .map(|&(kind, node)| ConfChangeSingle { kind, node })
            .collect(),
    }
}

/// Starts nodes 4 and 5, adds them as learners, and returns the change
/// that swaps the two followers of `leader` for them (two voters at once:
/// a joint configuration).
fn learners_4_5_and_swap(c: &mut Cluster, leader: NodeId) -> ConfChange {
    let gone: Vec<NodeId> = (1..=3).filter(|&id| id != leader).collect();
    c.add_joining_node(4);
    c.add_joining_node(5);
    c.change(changes(&[(AddLearner, 4), (AddLearner, 5)]))
        .unwrap();
    changes(&[
        (AddVoter, 4),
        (AddVoter, 5),
        (Remove, gone[0]),
        (Remove, gone[1]),
    ])
}

/// Hands each message to its addressee at once, in order, bypassing the
/// network (and its cuts), and runs the addressee's ready loop.
fn step_now(c: &mut Cluster, messages: impl IntoIterator<Item = Message>) {
    for m in messages {
        let to = m.to;
        c.node_mut(to).step(m).unwrap();
        c.process(to);
    }
}

fn voters(c: &Cluster, id: NodeId) -> Vec<NodeId> {
    c.node(id).conf_state().voters
}

#[test]
fn a_learner_joins_catches_up_and_is_promoted() {
    let mut c = Cluster::bootstrapped(3, 51);
    c.run_ticks(30);
    for i in 0..5u8 {
        c.propose(&[i]).unwrap();
    }
    c.add_joining_node(4);
    c.change(ConfChange::single(AddLearner, 4)).unwrap();
    c.run_ticks(5);
    assert_eq!(c.node(4).conf_state().learners, vec![4]);
    assert_eq!(
        c.applied[&4].len(),
        5,
        "the learner received and applied the log"
    );
    let leader = c.leader().unwrap();
    assert_ne!(leader, 4);

    // A learner does not count: with both other voters cut off, the
    // leader commits nothing even though the learner acknowledges.
    let others: Vec<NodeId> = (1..=3).filter(|&id| id != leader).collect();
    for &o in &others {
        c.cut.insert((leader, o));
    }
    let before = c.node(leader).log().committed();
    c.node_mut(leader).propose(b"x".to_vec()).unwrap();
    c.deliver(10_000);
    assert_eq!(c.node(leader).log().committed(), before);
    c.heal();
    c.run_ticks(3);

    c.change(ConfChange::single(AddVoter, 4)).unwrap();
    for id in 1..=4 {
        assert_eq!(voters(&c, id), vec![1, 2, 3, 4], "node {id}");
        assert!(c.node(id).conf_state().learners.is_empty());
    }
    c.check_applied_prefixes();
}

// Raft §6: a leader removed from the configuration steps down once the
// change commits, and the remaining voters elect a leader among them.
#[test]
fn a_removed_leader_steps_down() {
    let mut c = Cluster::bootstrapped(3, 52);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    c.change(ConfChange::single(Remove, leader)).unwrap();
    assert_ne!(c.node(leader).role(), Role::Leader);
    c.run_ticks(40);
    let new = c.leader().expect("the remaining voters elect one");
    assert_ne!(new, leader);
    assert!(!voters(&c, new).contains(&leader));
    c.propose(b"after").unwrap();
    c.run_ticks(3);
    let rest: Vec<NodeId> = (1..=3).filter(|&id| id != leader).collect();
    for id in rest {
        assert_eq!(
            c.applied[&id].last().map(|e| e.1.clone()),
            Some(b"after".to_vec())
        );
    }
    c.run_ticks(50);
    assert_ne!(
        c.node(leader).role(),
        Role::Leader,
        "a removed node never campaigns"
    );
}

// Raft §6: replacing two voters at once enters C_old,new, which the leader
// leaves automatically; every node ends in C_new.
#[test]
fn joint_consensus_enters_and_leaves_automatically() {
    let mut c = Cluster::bootstrapped(3, 53);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let replace = learners_4_5_and_swap(&mut c, leader);
    c.change(replace).unwrap();
    c.run_ticks(5);
    let mut expected = vec![leader, 4, 5];
    expected.sort_unstable();
    for id in [leader, 4, 5] {
        let cs = c.node(id).conf_state();
        assert_eq!(cs.voters, expected, "node {id}");
        assert!(
            cs.voters_outgoing.is_empty(),
            "node {id} left the joint configuration"
        );
    }
    c.propose(b"new config").unwrap();
    c.run_ticks(3);
    for id in [4, 5] {
        assert_eq!(
            c.applied[&id].last().map(|e| e.1.clone()),
            Some(b"new config".to_vec())
        );
    }
    c.check_applied_prefixes();
}

// In C_old,new both halves must agree (Raft §6): with the new half lacking
// a quorum, neither the leave entry nor anything else commits, and the
// configuration stays joint until the new half is back.
#[test]
fn joint_leave_waits_when_one_half_lacks_a_quorum() {
    let mut c = Cluster::bootstrapped(3, 54);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let replace = learners_4_5_and_swap(&mut c, leader);
    // Cut the leader from 4 and 5 before entering the joint configuration:
    // the old half {1,2,3} can commit the entering entry, the new half
    // {leader,4,5} cannot commit the leave.
    c.cut.insert((leader, 4));
    c.cut.insert((leader, 5));
    let leader_node = c.node_mut(leader);
    leader_node.propose_conf_change(replace).unwrap();
    c.deliver(10_000);
    c.run_ticks(3);
    let cs = c.node(leader).conf_state();
    assert!(
        !cs.voters_outgoing.is_empty(),
        "joint: the leave cannot commit"
    );
    let committed = c.node(leader).log().committed();
    let _ = c.node_mut(leader).propose(b"stuck".to_vec());
    c.deliver(10_000);
    assert_eq!(
        c.node(leader).log().committed(),
        committed,
        "nothing commits without the new half"
    );
    assert_eq!(
        c.node_mut(leader)
            .propose_conf_change(ConfChange::single(AddLearner, 9)),
        Err(Error::InvalidConfChange("another change is in progress"))
    );
    c.heal();
    c.run_ticks(5);
    let leader = c.leader().unwrap();
    let cs = c.node(leader).conf_state();
    assert!(
        cs.voters_outgoing.is_empty(),
        "left once the new half is back"
    );
    assert_eq!(cs.voters.len(), 3);
    c.check_applied_prefixes();
}

#[test]
fn invalid_changes_get_typed_errors() {
    let mut c = Cluster::bootstrapped(3, 55);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    let n = c.node_mut(leader);
    assert_eq!(
        n.propose_conf_change(ConfChange::default()),
        Err(Error::InvalidConfChange("no changes"))
    );
    assert!(matches!(
        n.propose_conf_change(ConfChange::single(AddVoter, 0)),
        Err(Error::InvalidConfChange(_))
    ));
    let dup = ConfChange {
        changes: vec![
            ConfChangeSingle {
                kind: AddVoter,
                node: 7,
            },
            ConfChangeSingle {
                kind: Remove,
                node: 7,
            },
        ],
    };
    assert!(matches!(
        n.propose_conf_change(dup),
        Err(Error::InvalidConfChange(_))
    ));
    let all = ConfChange {
        changes: (1..=3)
            .map(|node| ConfChangeSingle { kind: Remove, node })
            .collect(),
    };
    assert!(matches!(
        n.propose_conf_change(all),
        Err(Error::InvalidConfChange(_))
    ));
    assert!(matches!(
        n.propose_conf_change(ConfChange::single(AddLearner, follower)),
        Err(Error::InvalidConfChange(_))
    ));
    n.propose_conf_change(ConfChange::single(AddLearner, 8))
        .unwrap();
    assert_eq!(
        n.propose_conf_change(ConfChange::single(AddLearner, 9)),
        Err(Error::InvalidConfChange("another change is in progress"))
    );
    assert!(matches!(
        c.node_mut(follower)
            .propose_conf_change(ConfChange::single(AddLearner, 9)),
        Err(Error::ProposalDropped(_))
    ));
}

// A stranger is heard as a leader (a joining node learns of the cluster
// that way) or as a candidate whose log is at least as up to date as ours
// (a voter that missed the change adding it must still be able to elect
// it); a stranger whose log is behind is ignored, and its term is not
// adopted, so a removed node that missed its removal cannot disrupt.
#[test]
fn strangers_may_lead_and_may_ask_for_votes_only_with_a_newer_log() {
    let mut c = Cluster::bootstrapped(3, 56);
    let term = c.node(1).term();
    let last = c.node(1).log().last_index().unwrap();
    let last_term = c.node(1).log().last_term().unwrap();
    let ask = |term, last_index, last_term| Message {
        from: 9,
        to: 1,
        term,
        body: MessageBody::VoteRequest {
            pre_vote: false,
            last_index,
            last_term,
            transfer: false,
        },
    };
    // Behind by one entry in the same term, then by a term.
    for (index, log_term) in [(last - 1, last_term), (last + 5, last_term - 1)] {
        assert_eq!(
            c.node_mut(1).step(ask(term + 4, index, log_term)),
            Err(Error::UnknownPeer(9))
        );
        assert_eq!(
            c.node(1).term(),
            term,
            "the stranger's term was not adopted"
        );
        assert!(common::drain(c.node_mut(1)).is_empty(), "no answer");
    }
    // As up to date as ours: heard, and granted (no leader is known).
    assert_eq!(c.node_mut(1).step(ask(term + 4, last, last_term)), Ok(()));
    assert_eq!(c.node(1).term(), term + 4);
    let answers = common::drain(c.node_mut(1));
    assert!(
        answers.iter().any(|m| m.to == 9
            && m.body
                == MessageBody::VoteResponse {
                    pre_vote: false,
                    granted: true
                }),
        "{answers:?}"
    );
    // A stranger's vote request of an older term is ignored even with a
    // newer log.
    assert_eq!(
        c.node_mut(1).step(ask(term + 3, last + 9, term + 3)),
        Err(Error::UnknownPeer(9))
    );
}

// A leadership transfer to a node that is removed meanwhile is abandoned.
#[test]
fn removing_the_transfer_target_abandons_the_transfer() {
    let mut c = Cluster::bootstrapped(3, 57);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let target = (1..=3).find(|&id| id != leader).unwrap();
    // Keep the target behind so the transfer cannot finish at once.
    c.cut.insert((leader, target));
    let index = c
        .node_mut(leader)
        .propose_conf_change(ConfChange::single(Remove, target))
        .unwrap();
    c.node_mut(leader).transfer_leader(target).unwrap();
    assert_eq!(c.node(leader).status().transferee, Some(target));
    c.deliver(10_000);
    c.run_ticks(2);
    assert!(c.node(leader).log().committed() >= index);
    assert_eq!(c.node(leader).status().transferee, None);
    assert_eq!(c.leader(), Some(leader));
    assert!(!voters(&c, leader).contains(&target));
}

// A voter that missed the change adding a node still grants that node its
// vote when the node's log is ahead: otherwise a cluster whose removed
// leader holds the longest log can be left with no electable node although
// a majority of the new configuration is up and connected.
#[test]
fn a_lagging_voter_elects_a_node_added_behind_its_back() {
    let mut c = Cluster::bootstrapped(3, 58);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let others: Vec<NodeId> = (1..=3).filter(|&id| id != leader).collect();
    let (steady, lagging) = (others[0], others[1]);
    c.add_joining_node(4);
    c.isolate(lagging);
    c.change(ConfChange::single(AddVoter, 4)).unwrap();
    c.change(ConfChange::single(Remove, leader)).unwrap();
    c.run_ticks(5);
    assert_eq!(voters(&c, 4), {
        let mut v = vec![steady, lagging, 4];
        v.sort_unstable();
        v
    });
    assert!(
        !voters(&c, lagging).contains(&4),
        "the lagging voter has not heard of node 4"
    );
    // The one voter that knows both others goes down; the lagging voter
    // and node 4 are a majority of the new configuration.
    c.heal();
    c.isolate(steady);
    c.run_ticks(300);
    let now = c.leader().expect("a majority of the configuration is up");
    assert!(now == 4 || now == lagging, "leader {now}");
    assert!(
        voters(&c, lagging).contains(&4),
        "the lagging voter caught up"
    );
    assert!(c.propose(b"after").is_some());
    c.run_ticks(3);
    c.check_applied_prefixes();
}

// A removed leader hands over before it stops leading. Here the voters
// hear of the removal but not that it committed, and the leader holds one
// entry more than they do: in their (old) configuration they need its
// vote, which its longer log refuses them, while removed it never
// campaigns. Stepping down at once left such clusters with no leader for
// good (simulator liveness seed 7100001394); the hand-over catches the
// best voter up and tells it to campaign.
#[test]
fn a_removed_leader_hands_over_to_voters_that_missed_the_commit() {
    let mut c = Cluster::bootstrapped(4, 59);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let others: Vec<NodeId> = (1..=4).filter(|&id| id != leader).collect();
    let (a, b, down) = (others[0], others[1], others[2]);
    c.isolate(down);
    let removal = c
        .node_mut(leader)
        .propose_conf_change(ConfChange::single(Remove, leader))
        .unwrap();
    c.process(leader);
    let appends: Vec<Message> = c.network.drain(..).collect();
    // One entry more, which no one receives.
    c.node_mut(leader).propose(b"extra".to_vec()).unwrap();
    c.process(leader);
    c.network.clear();
    step_now(
        &mut c,
        appends.into_iter().filter(|m| m.to == a || m.to == b),
    );
    // The acknowledgements reach the leader; nothing it sends arrives.
    c.cut.insert((leader, a));
    c.cut.insert((leader, b));
    c.deliver(100_000);
    assert!(c.node(leader).log().committed() >= removal);
    assert!(!voters(&c, leader).contains(&leader));
    for id in [a, b] {
        assert!(c.node(id).log().committed() < removal, "node {id}");
        assert!(voters(&c, id).contains(&leader), "node {id}");
    }
    c.heal();
    c.isolate(down);
    c.run_ticks(300);
    let now = c.leader().expect("the voters that missed the commit elect");
    assert!(now == a || now == b, "leader {now}");
    assert_ne!(c.node(leader).role(), Role::Leader);
    assert!(!voters(&c, now).contains(&leader));
    assert!(c.propose(b"after").is_some());
    c.run_ticks(3);
    let applied: Vec<&[u8]> = c.applied[&now].iter().map(|e| &e.1[..]).collect();
    assert!(applied.ends_with(&[b"extra", b"after"]), "{applied:?}");
    c.check_applied_prefixes();
}

// A voter that missed its own promotion (its log still says learner) must
// grant pre-votes once its leader has been silent for an election timeout:
// it never campaigns, so it never forgets that leader by itself. Granting
// a pre-vote only with no leader known left it refusing every candidate
// for good, and with one more voter down no one was electable (simulator
// liveness seeds 7200003108 and 7200012110).
#[test]
fn a_voter_that_missed_its_promotion_grants_pre_votes_once_its_leader_is_silent() {
    let mut c = Cluster::bootstrapped(3, 60);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    c.add_joining_node(4);
    c.change(ConfChange::single(AddLearner, 4)).unwrap();
    c.run_ticks(5);
    assert_eq!(c.node(4).status().leader, Some(leader));
    c.isolate(4);
    c.change(ConfChange::single(AddVoter, 4)).unwrap();
    c.change(ConfChange::single(Remove, leader)).unwrap();
    c.run_ticks(40);
    let next = c.leader().expect("the hand-over or an election");
    assert_ne!(next, leader);
    let other = (1..=3).find(|&id| id != leader && id != next).unwrap();
    let mut expected = vec![next, other, 4];
    expected.sort_unstable();
    assert_eq!(voters(&c, next), expected);
    assert!(!voters(&c, 4).contains(&4), "node 4 missed its promotion");
    // The new leader goes down: the other voter needs node 4's vote.
    c.heal();
    c.isolate(next);
    c.run_ticks(300);
    let now = c.leader().expect("node 4 and the other voter elect");
    assert!(now == other || now == 4, "leader {now}");
    assert!(voters(&c, 4).contains(&4), "node 4 caught up");
    assert!(c.propose(b"after").is_some());
    c.run_ticks(3);
    c.check_applied_prefixes();
}

// A hand-over whose target goes silent is retried with another voter: the
// removed leader keeps the others following it (and, with check-quorum,
// deaf to other candidates), so picking the silent one again would stall
// the cluster for as long as that node is away.
#[test]
fn a_removed_leader_retries_the_hand_over_with_a_voter_that_answers() {
    let mut c = Cluster::bootstrapped(4, 61);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let others: Vec<NodeId> = (1..=4).filter(|&id| id != leader).collect();
    // Equal logs: the hand-over goes to the lowest id, which goes silent.
    let silent = others[0];
    c.node_mut(leader)
        .propose_conf_change(ConfChange::single(Remove, leader))
        .unwrap();
    c.process(leader);
    let appends: Vec<Message> = c.network.drain(..).collect();
    step_now(&mut c, appends);
    // Its acknowledgement still arrives; nothing reaches it any more.
    c.cut.insert((leader, silent));
    c.deliver(100_000);
    assert_eq!(c.node(leader).status().transferee, Some(silent));
    c.run_ticks(100);
    let now = c.leader().expect("another voter took over");
    assert!(now != leader && now != silent, "leader {now}");
    assert!(!voters(&c, now).contains(&leader));
    assert!(c.propose(b"after").is_some());
}

/// Node 4 after a crash that kept its log but lost its commit index: its
/// voters are {3, 4, 5} (applied), and its log holds the change that
/// swaps 3 for 2 and the entry that leaves the joint configuration, not
/// applied. Under the swapped voters a leader may have committed entries
/// node 4 lacks, so the old voters alone must not elect it (found by the
/// bank simulation, seed 326287642201035: node 3, removed, and node 4 made
/// a leader without entry 43).
fn node_4_with_an_unapplied_swap() -> RaftNode<MemStorage, rand::rngs::StdRng> {
    use rand::SeedableRng;
    let mut storage = MemStorage::bootstrap(&[3, 4, 5]);
    let swap = changes(&[(AddVoter, 2), (Remove, 3)]);
    let leave = ConfChange { changes: vec![] };
    storage
        .append(vec![
            Entry {
                term: 1,
                index: 2,
                payload: Payload::ConfChange(swap),
            },
            Entry {
                term: 1,
                index: 3,
                payload: Payload::ConfChange(leave),
            },
        ])
        .unwrap();
    RaftNode::new(
        Config {
            pre_vote: false,
            ..Config::new(4)
        },
        storage,
        rand::rngs::StdRng::seed_from_u64(4),
    )
    .unwrap()
}

fn vote_from(from: NodeId, term: Term) -> Message {
    Message {
        from,
        to: 4,
        term,
        body: MessageBody::VoteResponse {
            pre_vote: false,
            granted: true,
        },
    }
}

#[test]
fn a_candidate_with_an_unapplied_change_in_its_log_must_win_its_new_voters_too() {
    let mut n = node_4_with_an_unapplied_swap();
    assert_eq!(
        n.conf_state().voters,
        vec![3, 4, 5],
        "the swap is not applied"
    );
    n.campaign();
    let term = n.term();
    let ready = n.ready().unwrap();
    let mut sent = ready.messages;
    let persisted = ready.persist.after.persisted();
    sent.extend(persisted.messages);
    n.on_persisted(persisted.receipt);
    let asked: Vec<NodeId> = (sent.iter())
        .filter(|m| matches!(m.body, MessageBody::VoteRequest { .. }))
        .map(|m| m.to)
        .collect();
    assert!(asked.contains(&2), "the new voter is asked too: {asked:?}");
    // The removed voter's vote and its own: a majority of {3, 4, 5} only.
    n.step(vote_from(3, term)).unwrap();
    assert_ne!(n.role(), Role::Leader, "elected by the old voters alone");
    // With the new voter's, a majority of {3, 4, 5} and of {2, 4, 5}.
    n.step(vote_from(2, term)).unwrap();
    assert_eq!(n.role(), Role::Leader);
}

/// Elects `n` (from `node_4_with_an_unapplied_swap`) with the votes of 3
/// and 2, a majority of both configurations, and returns the messages its
/// first ready sends, after persisting it.
fn elect_node_4(n: &mut RaftNode<MemStorage, rand::rngs::StdRng>) -> Vec<Message> {
    n.campaign();
    let term = n.term();
    let ready = n.ready().unwrap();
    let persisted = ready.persist.after.persisted();
    n.on_persisted(persisted.receipt);
    n.step(vote_from(3, term)).unwrap();
    n.step(vote_from(2, term)).unwrap();
    assert_eq!(n.role(), Role::Leader);
    let ready = n.ready().unwrap();
    let mut sent = ready.messages;
    n.storage_mut()
        .append(ready.persist.entries.to_vec())
        .unwrap();
    let persisted = ready.persist.after.persisted();
    sent.extend(persisted.messages);
    n.on_persisted(persisted.receipt);
    sent
}

fn append_ack(from: NodeId, term: Term, match_index: Index) -> Message {
    Message {
        from,
        to: 4,
        term,
        body: MessageBody::AppendResponse(AppendResult::Accepted { match_index }),
    }
}

// Elected while the swap is in its log but not applied, node 4 leads with
// other nodes already counting {2, 4, 5}. Its first entry must not commit
// on the old voters' acknowledgements alone: nodes 2 and 5 could then
// elect a leader without it.
#[test]
fn a_leader_with_an_unapplied_change_commits_only_with_a_quorum_of_each_configuration() {
    let mut n = node_4_with_an_unapplied_swap();
    let sent = elect_node_4(&mut n);
    let term = n.term();
    let appended_to: Vec<NodeId> = (sent.iter())
        .filter(|m| matches!(m.body, MessageBody::Append { .. }))
        .map(|m| m.to)
        .collect();
    assert!(
        appended_to.contains(&2),
        "the new voter is replicated to: {appended_to:?}"
    );
    let noop = n.log().last_index().unwrap();
    assert_eq!(noop, 4);
    n.step(append_ack(3, term, noop)).unwrap();
    assert!(
        n.log().committed() < noop,
        "committed on {{3, 4}}, a quorum of the applied voters only"
    );
    n.step(append_ack(2, term, noop)).unwrap();
    assert_eq!(n.log().committed(), noop);
    // Handing the changes out applies them: {2, 4, 5} from now on.
    let ready = n.ready().unwrap();
    let handed: Vec<Index> = ready.committed_entries.iter().map(|e| e.index).collect();
    assert_eq!(handed, [2, 3, 4]);
    assert_eq!(n.conf_state().voters, vec![2, 4, 5]);
}

// Check-quorum, too: node 3 alone answering keeps a quorum of the applied
// voters {3, 4, 5} but not of {2, 4, 5}, so the leader steps down.
#[test]
fn a_leader_with_an_unapplied_change_steps_down_without_a_quorum_of_each_configuration() {
    let mut n = node_4_with_an_unapplied_swap();
    elect_node_4(&mut n);
    let term = n.term();
    let timeout = Config::new(4).election_timeout_ticks;
    for _ in 0..3 * timeout {
        n.step(Message {
            from: 3,
            to: 4,
            term,
            body: MessageBody::HeartbeatResponse {
                read_round: 0,
                sent_at_tick: 0,
            },
        })
        .unwrap();
        n.tick();
    }
    assert_ne!(n.role(), Role::Leader);
}

/// Two voters, one removed: once the removal is applied the leader is a
/// quorum alone, so what it proposes after commits without the removed
/// node's acknowledgement.
#[test]
fn after_a_removal_applies_the_smaller_quorum_commits() {
    let mut c = Cluster::new(2, 21);
    c.run_ticks(30);
    let leader = c.leader().unwrap();
    let removed = if leader == 1 { 2 } else { 1 };
    let at = c
        .node_mut(leader)
        .propose_conf_change(ConfChange::single(ConfChangeKind::Remove, removed))
        .unwrap();
    c.deliver(10_000);
    assert!(c.node(leader).log().committed() >= at);
    assert_eq!(c.node(leader).conf_state().voters, vec![leader]);
    c.isolate(removed);
    let Proposal::Appended { index, .. } = c.node_mut(leader).propose(b"after".to_vec()).unwrap()
    else {
        panic!("the leader appends")
    };
    c.process(leader);
    c.run_ticks(5);
    assert!(c.node(leader).log().committed() >= index);
}

/// A learner promoted to voter counts and can lead (here by a transfer).
#[test]
fn a_promoted_learner_can_lead() {
    let mut c = Cluster::bootstrapped(3, 23);
    c.run_ticks(30);
    c.add_joining_node(4);
    c.change(ConfChange::single(ConfChangeKind::AddLearner, 4))
        .unwrap();
    c.run_ticks(10);
    c.change(ConfChange::single(ConfChangeKind::AddVoter, 4))
        .unwrap();
    c.run_ticks(10);
    let leader = c.leader().unwrap();
    assert!(c.node(leader).conf_state().voters.contains(&4));
    c.node_mut(leader).transfer_leader(4).unwrap();
    c.deliver(10_000);
    c.run_ticks(3);
    assert_eq!(c.leader(), Some(4));
    c.check_applied_prefixes();
}

/// Raft §5.3: a leader starts a node it has just added at nextIndex =
/// its last index + 1, so the first append probes with an empty batch
/// after its last entry rather than resending entries the node may hold.
#[test]
fn a_node_added_is_probed_from_past_the_leaders_last_entry() {
    let mut n = RaftNode::new(
        Config::new(1),
        MemStorage::bootstrap(&[1]),
        <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1),
    )
    .unwrap();
    n.campaign();
    common::drain(&mut n);
    assert_eq!(n.role(), Role::Leader);
    let at = n
        .propose_conf_change(ConfChange::single(AddLearner, 2))
        .unwrap();
    let sent = common::drain(&mut n);
    assert_eq!(n.conf_state().learners, vec![2], "applied");
    let last = n.log().last_index().unwrap();
    assert_eq!(last, at);
    let first = sent
        .iter()
        .find_map(|m| match &m.body {
            MessageBody::Append {
                prev_index,
                entries,
                ..
            } if m.to == 2 => Some((*prev_index, entries.len())),
            _ => None,
        })
        .expect("an append to the new node");
    assert_eq!(first, (last, 0));
}

/// A compacted log whose snapshot storage cannot hand out at the moment
/// (being rebuilt, say: "temporarily unavailable" is a legal answer).
#[derive(Debug)]
struct SnapshotBeingRebuilt(MemStorage);

impl Storage for SnapshotBeingRebuilt {
    fn initial_state(&self) -> Result<InitialState, StorageError> {
        self.0.initial_state()
    }
    fn entries(&self, lo: Index, hi: Index, max_bytes: u64) -> Result<Vec<Entry>, StorageError> {
        self.0.entries(lo, hi, max_bytes)
    }
    fn term(&self, index: Index) -> Result<Term, StorageError> {
        self.0.term(index)
    }
    fn first_index(&self) -> Result<Index, StorageError> {
        self.0.first_index()
    }
    fn last_index(&self) -> Result<Index, StorageError> {
        self.0.last_index()
    }
    fn snapshot(&self, _: Index) -> Result<Snapshot, StorageError> {
        Err(StorageError::SnapshotTemporarilyUnavailable)
    }
}

/// A node that joins learns the configuration from the snapshot of a
/// compacted log: the storage contract says compacted entries are
/// covered by one, so a leader over a compacted log takes a change that
/// adds a node even while its storage cannot hand the snapshot out yet.
#[test]
fn a_compacted_log_lets_nodes_join_while_its_snapshot_is_unavailable() {
    let mut inner = MemStorage::with_voters(&[1]);
    inner
        .append(
            (1..=3)
                .map(|index| common::noop(index, 1))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    inner.set_hard_state(HardState {
        term: 1,
        vote: None,
        commit: 3,
    });
    inner
        .create_snapshot(3, inner.initial_state().unwrap().conf_state, vec![7])
        .unwrap();
    inner.compact(3).unwrap();
    let mut n = RaftNode::new(
        Config::new(1),
        SnapshotBeingRebuilt(inner),
        <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1),
    )
    .unwrap();
    n.campaign();
    while n.has_ready() {
        let ready = n.ready().unwrap();
        let persist = ready.persist;
        n.storage_mut().0.append(&*persist.entries).unwrap();
        if let Some(hs) = persist.hard_state {
            n.storage_mut().0.set_hard_state(hs);
        }
        n.on_persisted(persist.persisted().receipt);
    }
    assert_eq!(n.role(), Role::Leader);
    assert!(
        n.propose_conf_change(ConfChange::single(AddLearner, 2))
            .is_ok()
    );
}
