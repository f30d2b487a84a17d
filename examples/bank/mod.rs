//! A bank, replicated: a user-defined service run in synod-sim and
//! checked against a user-defined model (`docs/testing.md`, "Your own
//! service in the simulator").
//!
//! The workload is Jepsen's bank test with deposits: clients move money
//! between accounts (refused when the source cannot cover it), deposit,
//! read every balance, and read the bank's total. The service keeps the
//! total as a running sum so `Total` is cheap; [`Bug`] plants the mistakes
//! the simulator must catch.

use rand::Rng as _;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use synod_sim::{Model, Service};

/// What a client asks the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BankInput {
    /// Move `amount` from one account to another, if `from` holds it.
    Transfer {
        /// The account debited.
        from: u8,
        /// The account credited.
        to: u8,
        /// How much.
        amount: u64,
    },
    /// Add `amount` to an account.
    Deposit {
        /// The account.
        account: u8,
        /// How much.
        amount: u64,
    },
    /// Read every balance (read-only).
    Balances,
    /// Read the sum of all balances (read-only).
    Total,
}

/// What the bank answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BankOutput {
    /// The transfer or deposit was applied.
    Done,
    /// The source account could not cover the transfer: nothing changed.
    Insufficient,
    /// Every balance, by account.
    Balances(Vec<u64>),
    /// The sum of all balances.
    Total(u64),
}

/// A mistake planted in the service, for proving the checks catch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Bug {
    /// None: the correct bank.
    #[default]
    None,
    /// The snapshot leaves out the running total ("it is derived, it can
    /// be rebuilt"), and nothing rebuilds it: a node restored from a
    /// snapshot answers `Total` wrong.
    SnapshotDropsTotal,
    /// A transfer does not check the balance; the source saturates at
    /// zero, creating money.
    NoOverdraftCheck,
}

/// The service: balances, the running total, and the planted bug.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bank {
    balances: Vec<u64>,
    #[serde(serialize_with = "total_as_snapshot")]
    total: Total,
    bug: Bug,
}

/// The running total, with the bug it is serialized under (so the
/// `SnapshotDropsTotal` bank can write it as zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Total {
    sum: u64,
    dropped_by_snapshot: bool,
}

fn total_as_snapshot<S: serde::Serializer>(t: &Total, s: S) -> Result<S::Ok, S::Error> {
    let sum = if t.dropped_by_snapshot { 0 } else { t.sum };
    Total { sum, ..*t }.serialize(s)
}

impl Bank {
    /// `accounts` accounts holding `each`, with `bug` planted.
    #[must_use]
    pub fn new(accounts: u8, each: u64, bug: Bug) -> Self {
        let balances = vec![each; usize::from(accounts)];
        let sum = balances.iter().sum();
        Self {
            balances,
            total: Total {
                sum,
                dropped_by_snapshot: bug == Bug::SnapshotDropsTotal,
            },
            bug,
        }
    }

    /// The model of this bank, before any operation.
    #[must_use]
    pub fn model(&self) -> BankModel {
        BankModel {
            initial: self.balances.clone(),
        }
    }
}

impl Service for Bank {
    type Model = BankModel;

    fn apply(&mut self, input: &BankInput) -> BankOutput {
        match *input {
            BankInput::Transfer { from, to, amount } => {
                let (from, to) = (usize::from(from), usize::from(to));
                let (Some(&have), true) = (self.balances.get(from), to < self.balances.len())
                else {
                    return BankOutput::Insufficient;
                };
                if have < amount && self.bug != Bug::NoOverdraftCheck {
                    return BankOutput::Insufficient;
                }
                let taken = have.min(amount);
                self.balances[from] -= taken;
                self.balances[to] = self.balances[to].saturating_add(amount);
                self.total.sum = self.total.sum.saturating_add(amount - taken);
                BankOutput::Done
            }
            BankInput::Deposit { account, amount } => {
                if let Some(b) = self.balances.get_mut(usize::from(account)) {
                    *b = b.saturating_add(amount);
                    self.total.sum = self.total.sum.saturating_add(amount);
                }
                BankOutput::Done
            }
            BankInput::Balances | BankInput::Total => self.read(input).unwrap_or(BankOutput::Done),
        }
    }

    fn read(&self, input: &BankInput) -> Option<BankOutput> {
        match input {
            BankInput::Balances => Some(BankOutput::Balances(self.balances.clone())),
            BankInput::Total => Some(BankOutput::Total(self.total.sum)),
            _ => None,
        }
    }
}

/// The specification: one bank, every operation in some order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankModel {
    initial: Vec<u64>,
}

impl Model for BankModel {
    type State = Vec<u64>;
    type Input = BankInput;
    type Output = BankOutput;

    fn init(&self) -> Vec<u64> {
        self.initial.clone()
    }

    fn step(
        &self,
        state: &Vec<u64>,
        input: &BankInput,
        output: Option<&BankOutput>,
    ) -> Option<Vec<u64>> {
        let mut next = state.clone();
        let answer = match *input {
            BankInput::Transfer { from, to, amount } => {
                let (from, to) = (usize::from(from), usize::from(to));
                match state.get(from) {
                    Some(&have) if have >= amount && to < state.len() => {
                        next[from] -= amount;
                        next[to] = next[to].saturating_add(amount);
                        BankOutput::Done
                    }
                    _ => BankOutput::Insufficient,
                }
            }
            BankInput::Deposit { account, amount } => {
                if let Some(b) = next.get_mut(usize::from(account)) {
                    *b = b.saturating_add(amount);
                }
                BankOutput::Done
            }
            BankInput::Balances => BankOutput::Balances(state.clone()),
            BankInput::Total => BankOutput::Total(state.iter().sum()),
        };
        match output {
            Some(o) if *o != answer => None,
            _ => Some(next),
        }
    }

    fn describe(&self, input: &BankInput, output: Option<&BankOutput>) -> String {
        let asked = match *input {
            BankInput::Transfer { from, to, amount } => format!("transfer {amount} {from}->{to}"),
            BankInput::Deposit { account, amount } => format!("deposit {amount} to {account}"),
            BankInput::Balances => "balances".to_string(),
            BankInput::Total => "total".to_string(),
        };
        match output {
            Some(BankOutput::Balances(b)) => format!("{asked} -> {b:?}"),
            Some(BankOutput::Total(t)) => format!("{asked} -> {t}"),
            Some(o) => format!("{asked} -> {o:?}"),
            None => format!("{asked} -> ?"),
        }
    }
}

/// The clients' workload over `accounts` accounts: transfers of up to 5
/// (half of them), deposits of up to 3, balance reads and total reads.
pub fn next_input(accounts: u8) -> impl FnMut(u64, &mut StdRng) -> BankInput {
    move |_client, rng| {
        let account = |rng: &mut StdRng| (rng.next_u64() % u64::from(accounts.max(1))) as u8;
        match rng.next_u64() % 8 {
            0..4 => BankInput::Transfer {
                from: account(rng),
                to: account(rng),
                amount: 1 + rng.next_u64() % 5,
            },
            4 => BankInput::Deposit {
                account: account(rng),
                amount: 1 + rng.next_u64() % 3,
            },
            5 | 6 => BankInput::Balances,
            _ => BankInput::Total,
        }
    }
}
