//! Histories of client operations on a key-value register store: what was
//! asked, when, and what came back (or that nothing did).

use crate::error::SimError;

/// A key.
pub type Key = u64;
/// A value.
pub type Value = u64;
/// Identifies an operation within its history.
pub type OpId = usize;

/// What a client asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Input {
    /// Set the key.
    Put(Value),
    /// Read the key.
    Get,
    /// Set the key to `new` if it holds `expect` (`None`: unset).
    Cas {
        /// The value the key must hold.
        expect: Option<Value>,
        /// The value to set.
        new: Value,
    },
}

/// What came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Output {
    /// A put was applied.
    Ok,
    /// A get's answer.
    Value(Option<Value>),
    /// Whether a compare-and-set applied.
    Cas(bool),
}

/// One operation: its invocation and, if it completed, its completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The client that issued it.
    pub client: u64,
    /// The key it touched.
    pub key: Key,
    /// What was asked.
    pub input: Input,
    /// When it was invoked.
    pub invoked: u64,
    /// When it completed and with what; `None` when the client gave up
    /// (timed out): it may or may not have taken effect.
    pub completed: Option<(u64, Output)>,
}

/// A history: every operation, in invocation order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    ops: Vec<Operation>,
}

impl History {
    /// An empty history.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an invocation; returns its id.
    pub fn invoke(&mut self, client: u64, key: Key, input: Input, time: u64) -> OpId {
        self.ops.push(Operation {
            client,
            key,
            input,
            invoked: time,
            completed: None,
        });
        self.ops.len() - 1
    }

    /// Records a completion.
    ///
    /// # Errors
    /// [`SimError::CompletionBeforeInvocation`], or [`SimError::BadCompletion`]
    /// for an unknown or already completed id.
    pub fn complete(&mut self, op: OpId, time: u64, output: Output) -> Result<(), SimError> {
        let Some(o) = self.ops.get_mut(op) else {
            return Err(SimError::BadCompletion { op });
        };
        if o.completed.is_some() {
            return Err(SimError::BadCompletion { op });
        }
        if time < o.invoked {
            return Err(SimError::CompletionBeforeInvocation {
                op,
                invoked: o.invoked,
                completed: time,
            });
        }
        o.completed = Some((time, output));
        Ok(())
    }

    /// The operations.
    #[must_use]
    pub fn operations(&self) -> &[Operation] {
        &self.ops
    }

    /// Counts of operations that completed and that are indeterminate.
    #[must_use]
    pub fn outcome_counts(&self) -> (usize, usize) {
        let done = self.ops.iter().filter(|o| o.completed.is_some()).count();
        (done, self.ops.len() - done)
    }
}
