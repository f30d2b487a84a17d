//! Runnable demos of the Synod crates; see the `examples` in this package.
//! Run one with `cargo run --release --example <name>` from the workspace
//! root.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bank;
pub mod etcd;
pub mod kvstore;
pub mod load;
pub mod lockservice;
pub mod seeds;
