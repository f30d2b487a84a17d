//! The replicated key-value store: the commands that go through the log,
//! and the state machine that applies them.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use synod_node::StateMachine;

/// A write, as it travels through the log (postcard-encoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Sets `key` to `value`.
    Put {
        /// The key.
        key: String,
        /// Its new value.
        value: String,
    },
    /// Removes `key`.
    Delete {
        /// The key.
        key: String,
    },
    /// Sets `key` to `new` (`None`: removes it) if it holds `expect`
    /// (`None`: absent).
    Cas {
        /// The key.
        key: String,
        /// The value it must hold.
        expect: Option<String>,
        /// The value to set.
        new: Option<String>,
    },
}

impl Command {
    /// The command as log bytes.
    #[must_use]
    pub fn encode(&self) -> Bytes {
        // Strings and enums always serialize.
        Bytes::from(postcard::to_allocvec(self).unwrap_or_default())
    }
}

/// What a write returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// False for a compare-and-set that did not match, or a command that
    /// did not decode.
    pub ok: bool,
    /// The value before the command.
    pub previous: Option<String>,
    /// The log index it was applied at.
    pub index: u64,
}

/// The map every replica holds.
#[derive(Debug, Default)]
pub struct KvStore {
    map: BTreeMap<String, String>,
}

impl StateMachine for KvStore {
    type Response = Applied;
    type Query = String;
    type Answer = Option<String>;

    fn apply(&mut self, index: u64, command: &Bytes) -> Applied {
        let Ok(command) = postcard::from_bytes::<Command>(command) else {
            // Every replica skips the same undecodable bytes the same way.
            return Applied {
                ok: false,
                previous: None,
                index,
            };
        };
        match command {
            Command::Put { key, value } => Applied {
                ok: true,
                previous: self.map.insert(key, value),
                index,
            },
            Command::Delete { key } => Applied {
                ok: true,
                previous: self.map.remove(&key),
                index,
            },
            Command::Cas { key, expect, new } => {
                let current = self.map.get(&key).cloned();
                let ok = current == expect;
                if ok {
                    match new {
                        Some(v) => self.map.insert(key, v),
                        None => self.map.remove(&key),
                    };
                }
                Applied {
                    ok,
                    previous: current,
                    index,
                }
            }
        }
    }

    fn query(&self, key: &String) -> Option<String> {
        self.map.get(key).cloned()
    }

    fn snapshot(&self) -> Bytes {
        Bytes::from(postcard::to_allocvec(&self.map).unwrap_or_default())
    }

    fn restore(&mut self, snapshot: &Bytes) -> Result<(), String> {
        self.map = postcard::from_bytes(snapshot).map_err(|e| e.to_string())?;
        Ok(())
    }
}
