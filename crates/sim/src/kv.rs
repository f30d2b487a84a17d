//! The key-value state machine the simulated clients drive, and how its
//! commands are encoded in log entries.

use std::collections::BTreeMap;

use crate::history::{Input, Key, Output, Value};

/// A client command as carried in a log entry: who sent it (so the server
/// that proposed it can answer), and what it asks. The workload's wire and
/// log format, for harnesses that drive their own transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command {
    /// The client.
    pub client: u64,
    /// The client's request number (unique per client).
    pub request: u64,
    /// The key.
    pub key: Key,
    /// What it asks.
    pub input: Input,
}

impl Command {
    /// A fixed little-endian layout: client, request, key, tag, a, b.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let (tag, a, b) = match self.input {
            Input::Put(v) => (0u8, v, 0),
            Input::Get => (1, 0, 0),
            Input::Cas { expect, new } => match expect {
                None => (2, 0, new),
                Some(e) => (3, e, new),
            },
        };
        let mut out = Vec::with_capacity(41);
        for x in [self.client, self.request, self.key] {
            out.extend_from_slice(&x.to_le_bytes());
        }
        out.push(tag);
        out.extend_from_slice(&a.to_le_bytes());
        out.extend_from_slice(&b.to_le_bytes());
        out
    }

    /// Decodes [`Command::encode`]'s bytes; `None` for anything else.
    #[must_use]
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 41 {
            return None;
        }
        let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        let (a, b) = (word(25), word(33));
        let input = match bytes[24] {
            0 => Input::Put(a),
            1 => Input::Get,
            2 => Input::Cas {
                expect: None,
                new: b,
            },
            3 => Input::Cas {
                expect: Some(a),
                new: b,
            },
            _ => return None,
        };
        Some(Self {
            client: word(0),
            request: word(8),
            key: word(16),
            input,
        })
    }
}

/// The replicated map the workload drives, with client sessions.
///
/// A request can reach the log twice (the network duplicated it, or a
/// client's retry crossed the original); applying it twice would take
/// effect at two points in time, which no single operation may do. So, as
/// Raft §6.3 prescribes, each client's requests are applied once: a repeat
/// of the last request returns its recorded answer, an older one is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kv {
    map: BTreeMap<Key, Value>,
    /// Per client: the last request applied and its answer.
    sessions: BTreeMap<u64, (u64, Output)>,
}

impl Kv {
    /// Applies a client's command at most once; `None` for a request older
    /// than the client's last (an answer to it is no longer awaited).
    pub fn apply_command(&mut self, cmd: &Command) -> Option<Output> {
        match self.sessions.get(&cmd.client) {
            Some(&(last, output)) if last == cmd.request => return Some(output),
            Some(&(last, _)) if last > cmd.request => return None,
            _ => {}
        }
        let output = self.apply(cmd.key, cmd.input);
        self.sessions.insert(cmd.client, (cmd.request, output));
        Some(output)
    }

    /// The state as bytes, for a snapshot: entries, then sessions, as
    /// little-endian words.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut word = |x: u64| out.extend_from_slice(&x.to_le_bytes());
        word(self.map.len() as u64);
        for (&k, &v) in &self.map {
            word(k);
            word(v);
        }
        word(self.sessions.len() as u64);
        for (&client, &(request, output)) in &self.sessions {
            word(client);
            word(request);
            let (tag, value) = match output {
                Output::Ok => (0, 0),
                Output::Value(None) => (1, 0),
                Output::Value(Some(v)) => (2, v),
                Output::Cas(b) => (3, u64::from(b)),
            };
            word(tag);
            word(value);
        }
        out
    }

    /// Restores [`Kv::encode`]'s bytes; `None` for anything malformed.
    #[must_use]
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut words = bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")));
        if !bytes.len().is_multiple_of(8) {
            return None;
        }
        let mut kv = Self::default();
        for _ in 0..words.next()? {
            let (k, v) = (words.next()?, words.next()?);
            kv.map.insert(k, v);
        }
        for _ in 0..words.next()? {
            let (client, request, tag, value) =
                (words.next()?, words.next()?, words.next()?, words.next()?);
            let output = match tag {
                0 => Output::Ok,
                1 => Output::Value(None),
                2 => Output::Value(Some(value)),
                3 => Output::Cas(value == 1),
                _ => return None,
            };
            kv.sessions.insert(client, (request, output));
        }
        words.next().is_none().then_some(kv)
    }

    /// The value `key` holds: a read that changes nothing, for serving
    /// linearizable reads outside the log.
    #[must_use]
    pub fn get(&self, key: Key) -> Option<Value> {
        self.map.get(&key).copied()
    }

    /// Applies one operation and returns its answer (no session check).
    pub fn apply(&mut self, key: Key, input: Input) -> Output {
        match input {
            Input::Put(v) => {
                self.map.insert(key, v);
                Output::Ok
            }
            Input::Get => Output::Value(self.map.get(&key).copied()),
            Input::Cas { expect, new } => {
                let applies = self.map.get(&key).copied() == expect;
                if applies {
                    self.map.insert(key, new);
                }
                Output::Cas(applies)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_requests_apply_once() {
        let mut kv = Kv::default();
        let put = |request, v| Command {
            client: 1,
            request,
            key: 0,
            input: Input::Put(v),
        };
        assert_eq!(kv.apply_command(&put(1, 5)), Some(Output::Ok));
        assert_eq!(kv.apply_command(&put(2, 6)), Some(Output::Ok));
        assert_eq!(
            kv.apply_command(&put(1, 5)),
            None,
            "an older request is ignored"
        );
        assert_eq!(
            kv.apply_command(&put(2, 6)),
            Some(Output::Ok),
            "a repeat gets the same answer"
        );
        assert_eq!(kv.apply(0, Input::Get), Output::Value(Some(6)));
    }

    #[test]
    fn state_round_trips_through_snapshot_bytes() {
        let mut kv = Kv::default();
        kv.apply_command(&Command {
            client: 1,
            request: 3,
            key: 2,
            input: Input::Put(9),
        });
        kv.apply_command(&Command {
            client: 2,
            request: 1,
            key: 2,
            input: Input::Cas {
                expect: Some(9),
                new: 4,
            },
        });
        assert_eq!(Kv::decode(&kv.encode()), Some(kv.clone()));
        assert_eq!(Kv::decode(&[1, 2, 3]), None);
        assert_eq!(Kv::decode(&9u64.to_le_bytes()), None);
    }

    #[test]
    fn commands_round_trip() {
        for input in [
            Input::Put(7),
            Input::Get,
            Input::Cas {
                expect: None,
                new: 3,
            },
            Input::Cas {
                expect: Some(1),
                new: 2,
            },
        ] {
            let c = Command {
                client: 1,
                request: 2,
                key: 3,
                input,
            };
            assert_eq!(Command::decode(&c.encode()), Some(c));
        }
        assert_eq!(Command::decode(b"short"), None);
    }
}
