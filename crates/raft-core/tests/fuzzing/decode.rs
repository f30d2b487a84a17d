//! Fuzz interpreter: arbitrary bytes decoded as every wire and disk type
//! (postcard). Whatever decodes must re-encode and decode to itself, and
//! nothing may panic. Shared by `fuzz/fuzz_targets/raft_decode.rs` and the
//! crate's `fuzz_inputs` test.
#![allow(dead_code, unreachable_pub)]

use serde::Serialize;
use serde::de::DeserializeOwned;
use synod_raft_core::{Entry, HardState, Message, Snapshot};

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(value) = postcard::from_bytes::<T>(data) {
        let bytes = postcard::to_allocvec(&value).expect("a decoded value encodes");
        let again: T = postcard::from_bytes(&bytes).expect("re-encoded bytes decode");
        assert_eq!(value, again, "round trip changed the value");
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    round_trip::<Message>(data);
    round_trip::<Entry>(data);
    round_trip::<Snapshot>(data);
    round_trip::<HardState>(data);
}
