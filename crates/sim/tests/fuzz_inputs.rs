//! The `history_check` fuzz interpreter on seeded random inputs and on
//! every committed corpus file (fuzz/corpus/history_check), so the normal
//! test run replays what the fuzzer found.

#[path = "fuzzing/history.rs"]
pub(crate) mod history;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

#[test]
fn seeded_inputs() {
    let mut rng = StdRng::seed_from_u64(17);
    for _ in 0..3000 {
        let len = rng.random_range(0..48);
        let mut data: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        // Mostly the built histories: random text rarely imports.
        if let Some(mode) = data.first_mut() {
            *mode = 2 + *mode % 2;
        }
        history::run(&data);
    }
}

#[test]
fn imported_text() {
    let jepsen = "\
INFO  jepsen.util - 0\t:invoke\t:write\t1
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 0\t:ok\t:write\t1
INFO  jepsen.util - 1\t:ok\t:read\t2
";
    let porcupine = "\
{:process 0, :type :invoke, :f :append, :key \"a\", :value \"x\"}
{:process 1, :type :invoke, :f :get, :key \"a\", :value nil}
{:process 0, :type :ok, :f :append, :key \"a\", :value \"x\"}
{:process 1, :type :ok, :f :get, :key \"a\", :value \"xx\"}
";
    for (mode, text) in [(0u8, jepsen), (1, porcupine)] {
        let mut data = vec![mode];
        data.extend_from_slice(text.as_bytes());
        history::run(&data);
        // Every prefix too: cut lines, half an event.
        for end in 0..data.len() {
            history::run(&data[..end]);
        }
    }
}

#[test]
fn the_committed_corpus() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/history_check"
    );
    // A missing corpus must fail, not pass with nothing run.
    let files = std::fs::read_dir(dir).expect("the committed corpus");
    let mut ran = 0;
    for file in files {
        let path = file.unwrap().path();
        history::run(&std::fs::read(&path).unwrap());
        ran += 1;
    }
    assert!(ran > 50, "only {ran} corpus inputs");
}
