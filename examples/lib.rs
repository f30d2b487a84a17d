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

/// Whether `error` is (or wraps) an "address already in use" I/O error:
/// what binding a port found free a moment earlier gets when something
/// else took it in between. Starters that pick free ports retry on it.
pub fn is_addr_in_use(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut at = Some(error);
    while let Some(e) = at {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse)
        {
            return true;
        }
        at = e.source();
    }
    false
}
