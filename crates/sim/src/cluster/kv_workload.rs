//! The built-in workload: registers per key (put, get, compare-and-set)
//! on the [`Kv`] store, in [`Command`]'s fixed log layout.

use rand::Rng as _;
use rand::rngs::StdRng;

use super::workload::{Request, Workload};
use crate::history::{Input, Key, Output};
use crate::kv::{Command, Kv};

/// Clients draw a key below `keys`, then put, get or compare-and-set
/// values below 5 with equal odds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KvWorkload {
    pub(crate) keys: u64,
}

fn command(r: &Request<(Key, Input)>) -> Command {
    Command {
        client: r.client,
        request: r.request,
        key: r.input.0,
        input: r.input.1,
    }
}

impl Workload for KvWorkload {
    type Input = (Key, Input);
    type Output = Output;
    type State = Kv;

    fn initial(&self) -> Kv {
        Kv::default()
    }

    fn next_input(&mut self, _client: u64, rng: &mut StdRng) -> (Key, Input) {
        let key = rng.next_u64() % self.keys;
        let input = match rng.next_u64() % 3 {
            0 => Input::Put(rng.next_u64() % 5),
            1 => Input::Get,
            _ => {
                let expect = rng.next_u64().is_multiple_of(2).then(|| rng.next_u64() % 5);
                Input::Cas {
                    expect,
                    new: rng.next_u64() % 5,
                }
            }
        };
        (key, input)
    }

    fn encode(&self, request: &Request<(Key, Input)>) -> Result<Vec<u8>, String> {
        Ok(command(request).encode())
    }

    fn decode(&self, bytes: &[u8]) -> Option<Request<(Key, Input)>> {
        let c = Command::decode(bytes)?;
        Some(Request {
            client: c.client,
            request: c.request,
            input: (c.key, c.input),
        })
    }

    fn apply(&self, state: &mut Kv, request: &Request<(Key, Input)>) -> Option<Output> {
        state.apply_command(&command(request))
    }

    fn is_read(&self, input: &(Key, Input)) -> bool {
        input.1 == Input::Get
    }

    fn query(&self, state: &Kv, &(key, input): &(Key, Input)) -> Option<Output> {
        (input == Input::Get).then(|| Output::Value(state.get(key)))
    }

    fn snapshot(&self, state: &Kv) -> Result<Vec<u8>, String> {
        Ok(state.encode())
    }

    fn restore(&self, bytes: &[u8]) -> Option<Kv> {
        Kv::decode(bytes)
    }
}
