//! Arbitrary add / remove / lookup / replica / assign / release programs
//! over every synod-hashring algorithm, checked against a plain model. The
//! interpreter is shared with the `ops` proptest in crates/hashring/tests,
//! so a crash found here replays there as a pinned program.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/hashring/tests/common/ops.rs"]
mod ops;

fuzz_target!(|data: &[u8]| ops::run(data));
