//! The log's data types. They are defined once in synod-protocol, shared
//! with every protocol and log implementation, and re-exported here.

#[cfg(feature = "arbitrary")]
pub(crate) use synod_protocol::arbitrary_bytes;
pub use synod_protocol::{
    ConfChange, ConfChangeKind, ConfChangeSingle, ConfState, Entry, HardState, Index, InitialState,
    NO_NODE, NodeId, Payload, ReadId, ReadState, Snapshot, SnapshotMeta, SnapshotPiece, Term,
};

/// [`Entry::size_bytes`], with a command's size worked out here: the
/// protocol crate's function is not inlined across the crate boundary,
/// and this runs several times per entry on every node (the size limits
/// of appends, of the kept run, of the apply batch).
#[inline]
pub(crate) fn entry_bytes(e: &Entry) -> u64 {
    16 + payload_bytes(&e.payload)
}

/// [`Payload::size_bytes`], inlined here for commands (see
/// [`entry_bytes`]).
#[inline]
pub(crate) fn payload_bytes(p: &Payload) -> u64 {
    match p {
        Payload::Command(data) => data.len() as u64,
        other => other.size_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_bytes_is_the_protocols_size_for_every_payload() {
        let payloads = [
            Payload::Noop,
            Payload::Command(bytes::Bytes::from_static(b"")),
            Payload::Command(bytes::Bytes::from(vec![7u8; 1000])),
            Payload::ConfChange(ConfChange::default()),
        ];
        for payload in payloads {
            let e = Entry {
                term: 3,
                index: 9,
                payload,
            };
            assert_eq!(entry_bytes(&e), e.size_bytes(), "{e:?}");
            assert_eq!(payload_bytes(&e.payload), e.payload.size_bytes());
        }
    }
}
