//! The storage contract, defined once in synod-protocol for every
//! protocol, and re-exported here.

pub use synod_protocol::{MemStorage, Storage, check_continues};
