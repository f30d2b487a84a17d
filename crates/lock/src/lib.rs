//! # synod-lock
//!
//! A lock service as a deterministic replicated state machine
//! ([`LockMachine`], a `synod_node::StateMachine`): clients open sessions
//! with a time-to-live and keep them alive; a session acquires exclusive
//! locks, each grant carrying a **fencing token** that is globally
//! monotonic (kept across snapshots and leader changes), so a resource
//! that remembers the highest token it has seen ([`Fence`]) refuses a
//! holder whose lock was taken over while it was paused. Without that
//! check any lock is advisory: a client can always stall between being
//! granted a lock and using it.
//!
//! The key design decision: **no clock is read here**. Time is log time:
//! the leader proposes [`Command::Clock`] stamps, and the machine's time is
//! the highest stamp applied, so it never goes backwards. When a stamp
//! comes from a later leader term, every live session is extended to at
//! least one time-to-live from then: a failover may extend a lease, never
//! shorten it.
//!
//! Rules (each tested in `tests/rules.rs`):
//! - Exactly-once: every command carries its client's id and a sequence
//!   number (Raft dissertation §6.3); a retry returns the first answer.
//! - Waiters queue FIFO per lock; a release grants the next waiter only,
//!   and only if its session is still alive at grant time (the etcd 3.4.3
//!   bug Jepsen found: a queued acquire returned after its session had
//!   expired).
//! - A waiter may give up at a deadline in log time, or cancel.
//! - An expired session releases everything it held and leaves every
//!   queue.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod client;
mod command;
mod due;
mod error;
mod fence;
mod guard;
mod locks;
mod machine;
#[cfg(feature = "mutations")]
pub mod mutation;
#[cfg(not(feature = "mutations"))]
mod mutation;
mod service;
mod sessions;
mod stamp;

pub use client::{Acquired, ClientError, ClientOptions, LockClient, SessionState, Sleep};
pub use command::{
    ClientId, Command, Event, LockName, Mode, Reentrancy, Request, Response, SessionId, Token,
    Write,
};
pub use error::LockError;
pub use fence::{Fence, StaleToken};
pub use guard::Guard;
pub use machine::{Limits, LockMachine, Query, QueryAnswer, Standing};
pub use service::Service;
pub use stamp::stamp_clock;
pub use synod_protocol::Index;
