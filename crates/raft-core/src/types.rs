//! The log's data types. They are defined once in synod-protocol, shared
//! with every protocol and log implementation, and re-exported here.

#[cfg(feature = "arbitrary")]
pub(crate) use synod_protocol::arbitrary_bytes;
pub use synod_protocol::{
    ConfChange, ConfChangeKind, ConfChangeSingle, ConfState, Entry, HardState, Index, InitialState,
    NO_NODE, NodeId, Payload, ReadId, ReadState, Snapshot, SnapshotMeta, SnapshotPiece, Term,
};
