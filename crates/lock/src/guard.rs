//! A held lock that lets go when dropped.

use futures::channel::mpsc::UnboundedSender;

use crate::command::{LockName, Mode, SessionId, Token};

/// A release a dropped guard asks for: (session, lock, token).
pub(crate) type Release = (SessionId, LockName, Token);

/// A held lock. Pass [`Guard::token`] with every write to what the lock
/// guards (see `Fence`). Dropping the guard releases the lock (through the
/// client's background task, or its next call); [`LockClient::unlock`]
/// releases it and waits for the answer.
///
/// [`LockClient::unlock`]: crate::LockClient::unlock
#[must_use = "dropping a guard releases the lock"]
pub struct Guard {
    /// The lock.
    pub lock: LockName,
    /// How it is held.
    pub mode: Mode,
    /// The fencing token.
    pub token: Token,
    pub(crate) session: SessionId,
    /// Where a drop sends its release; `None` once released.
    pub(crate) release: Option<UnboundedSender<Release>>,
}

impl Guard {
    /// The fencing token.
    #[must_use]
    pub fn token(&self) -> Token {
        self.token
    }

    /// The session that holds it.
    #[must_use]
    pub fn session(&self) -> SessionId {
        self.session
    }

    /// Keeps the lock held past this guard (no release on drop): for a
    /// holder that hands the token on and releases by other means.
    pub fn forget(mut self) -> (LockName, Token) {
        self.release = None;
        (std::mem::take(&mut self.lock), self.token)
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("lock", &self.lock)
            .field("mode", &self.mode)
            .field("token", &self.token)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(tx) = self.release.take() {
            // The client may be gone: then so is its session, and the
            // service releases the lock when the session expires.
            let _ = tx.unbounded_send((self.session, std::mem::take(&mut self.lock), self.token));
        }
    }
}
