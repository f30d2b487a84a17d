//! A user-defined service run through the simulator and checked with a
//! user-defined model: a ticket dispenser (every `Take` gets the next
//! number, `Peek` reads it). The checks must pass on the correct service
//! and catch planted mistakes in it.

use rand::Rng as _;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use synod_sim::{
    Model, ModelVerdict, Outcome, RaftReplica, Service, ServiceRunReport, SimConfig, Violation,
    run_service,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Ask {
    Take,
    Peek,
}

/// The dispenser. `lose_on_snapshot` plants a bug: the counter is left
/// out of snapshots, so a node restored from one hands out used numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Dispenser {
    #[serde(serialize_with = "counter")]
    next: (u64, bool),
}

fn counter<S: serde::Serializer>(next: &(u64, bool), s: S) -> Result<S::Ok, S::Error> {
    let (n, lose) = *next;
    (if lose { 0 } else { n }, lose).serialize(s)
}

impl Dispenser {
    fn new(lose_on_snapshot: bool) -> Self {
        Self {
            next: (0, lose_on_snapshot),
        }
    }
}

impl Service for Dispenser {
    type Model = Tickets;

    fn apply(&mut self, ask: &Ask) -> u64 {
        let n = self.next.0;
        if *ask == Ask::Take {
            self.next.0 += 1;
        }
        n
    }

    fn read(&self, ask: &Ask) -> Option<u64> {
        (*ask == Ask::Peek).then_some(self.next.0)
    }
}

/// The specification: one counter.
#[derive(Debug, Clone, Copy)]
struct Tickets;

impl Model for Tickets {
    type State = u64;
    type Input = Ask;
    type Output = u64;

    fn init(&self) -> u64 {
        0
    }

    fn step(&self, next: &u64, ask: &Ask, answer: Option<&u64>) -> Option<u64> {
        if answer.is_some_and(|a| a != next) {
            return None;
        }
        Some(if *ask == Ask::Take { next + 1 } else { *next })
    }
}

fn asks(_client: u64, rng: &mut StdRng) -> Ask {
    if rng.next_u64().is_multiple_of(3) {
        Ask::Peek
    } else {
        Ask::Take
    }
}

type Report = ServiceRunReport<Ask, u64>;

fn raft(seed: u64, service: Dispenser) -> Report {
    let cfg = SimConfig::safety(seed);
    run_service::<RaftReplica, _>(&cfg, service, &Tickets, asks).expect("valid config")
}

#[test]
fn the_correct_service_checks() {
    let (mut done, mut snapshots, mut reads) = (0, 0, 0);
    for seed in 0..40 {
        let r = raft(seed, Dispenser::new(false));
        assert_eq!(r.violation, None, "seed {seed}");
        assert_eq!(r.verdict, Some(ModelVerdict::Linearizable), "seed {seed}");
        done += r.summary.ops.0;
        snapshots += r.summary.snapshots.0 + r.summary.snapshots.1;
        reads += r.summary.reads_served;
    }
    // The runs exercised what the planted bugs need: answers, snapshots
    // and reads outside the log.
    assert!(done > 3_000, "{done} operations completed");
    assert!(snapshots > 100, "{snapshots} snapshots");
    assert!(reads > 500, "{reads} reads served by the protocol");
}

// Clients that send an overdue request again instead of giving up leave
// unknown only what is still unanswered at the end (at most one per
// client), and each request still takes effect once: no ticket twice.
#[test]
fn clients_that_retry_leave_few_unknowns_and_apply_once() {
    let mut completed = 0;
    for seed in 0..20 {
        let mut cfg = SimConfig::safety(seed);
        cfg.retry_until_answered = true;
        let r = run_service::<RaftReplica, _>(&cfg, Dispenser::new(false), &Tickets, asks)
            .expect("valid config");
        assert_eq!(r.violation, None, "seed {seed}");
        assert_eq!(r.verdict, Some(ModelVerdict::Linearizable), "seed {seed}");
        assert!(
            r.summary.ops.1 <= cfg.clients,
            "seed {seed}: {:?}",
            r.summary.ops
        );
        completed += r.summary.ops.0;
        let gave_up = (r.history.iter())
            .filter(|op| matches!(op.outcome, Outcome::Unknown { gave_up: Some(_) }))
            .count();
        assert_eq!(gave_up, 0, "seed {seed}: nobody gives up");
    }
    // About 2,800 when measured: the faults slow clients, never stop them.
    assert!(completed > 2_000, "{completed}");
}

#[test]
fn a_seed_replays_bit_for_bit() {
    let (a, b) = (
        raft(7, Dispenser::new(false)),
        raft(7, Dispenser::new(false)),
    );
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.history, b.history);
    assert_ne!(a.trace_hash, raft(8, Dispenser::new(false)).trace_hash);
}

#[test]
fn the_history_records_answers_and_give_ups() {
    let r = raft(3, Dispenser::new(false));
    let taken: Vec<u64> = (r.history.iter())
        .filter(|op| op.input == Ask::Take)
        .filter_map(|op| match op.outcome {
            Outcome::Returned { output, .. } => Some(output),
            _ => None,
        })
        .collect();
    let mut unique = taken.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), taken.len(), "each ticket handed out once");
    assert!(
        (r.history.iter()).any(
            |op| matches!(op.outcome, Outcome::Unknown { gave_up: Some(t) } if t > op.invoked)
        ),
        "clients time out under faults and the history says when"
    );
}

#[test]
fn a_counter_left_out_of_snapshots_is_caught() {
    let caught: Vec<u64> = (0..40)
        .filter(|&seed| {
            let r = raft(seed, Dispenser::new(true));
            matches!(r.violation, Some(Violation::NotLinearizable(_)))
        })
        .collect();
    assert!(
        caught.len() >= 3,
        "the planted snapshot bug was caught on seeds {caught:?} only"
    );
    let r = raft(caught[0], Dispenser::new(true));
    let Some(ModelVerdict::NotLinearizable(report)) = &r.verdict else {
        panic!("the verdict names the failure: {:?}", r.verdict);
    };
    let page = r.history_html(&Tickets).expect("a page for a failure");
    assert!(page.contains("NOT linearizable"));
    assert!(report.window.contains(&report.culprit));
}

/// An input whose serializer refuses: the run reports a codec violation
/// instead of losing the request silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
struct Unencodable;

impl Serialize for Unencodable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refused"))
    }
}

#[derive(Debug, Clone, Copy)]
struct Anything;

impl Model for Anything {
    type State = ();
    type Input = Unencodable;
    type Output = ();

    fn init(&self) {}

    fn step(&self, (): &(), _: &Unencodable, _: Option<&()>) -> Option<()> {
        Some(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Refuser;

impl Service for Refuser {
    type Model = Anything;

    fn apply(&mut self, _: &Unencodable) {}
}

#[test]
fn an_input_that_does_not_encode_is_a_codec_violation() {
    let r = run_service::<RaftReplica, _>(&SimConfig::safety(1), Refuser, &Anything, |_, _| {
        Unencodable
    })
    .expect("valid config");
    assert!(
        matches!(&r.violation, Some(Violation::Codec { error, .. }) if error.contains("input does not encode")),
        "{:?}",
        r.violation
    );
    assert_eq!(r.verdict, None, "no check after another violation");
}

#[test]
fn a_check_out_of_budget_is_unknown_not_linearizable() {
    let mut cfg = SimConfig::safety(2);
    cfg.check_budget = 1;
    let r = run_service::<RaftReplica, _>(&cfg, Dispenser::new(false), &Tickets, asks)
        .expect("valid config");
    assert_eq!(r.violation, None);
    assert!(
        matches!(r.verdict, Some(ModelVerdict::Unknown { .. })),
        "{:?}",
        r.verdict
    );
}

#[test]
fn an_invalid_config_is_an_error() {
    let mut cfg = SimConfig::safety(1);
    cfg.nodes = 0;
    assert!(run_service::<RaftReplica, _>(&cfg, Dispenser::new(false), &Tickets, asks).is_err());
}
