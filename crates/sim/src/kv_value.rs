//! A key-value model's value: shared text with its hash computed once.
//!
//! The search hashes and compares a state at nearly every step (Lowe's
//! memo), and an appended-to value grows with the history: hundreds of
//! bytes on Porcupine's key-value histories, where hashing the text at
//! every step was the largest cost of the check. The hash here is a
//! polynomial over the bytes, so an append extends the old value's hash
//! by the new bytes alone.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The polynomial's start (so leading zero bytes count) and base (odd).
const SEED: u64 = 0x243F_6A88_85A3_08D3;
const BASE: u64 = 0x0000_0100_0000_01B3;

/// Extends `hash` (of some text) to the hash of that text followed by
/// `more`.
fn extend(mut hash: u64, more: &str) -> u64 {
    for &b in more.as_bytes() {
        hash = hash.wrapping_mul(BASE).wrapping_add(u64::from(b));
    }
    hash
}

/// A value: its text (shared by the states that hold it) and the text's
/// hash. Equal texts have equal hashes, so `Hash` writes the hash alone
/// and `Eq` compares texts only when the hashes agree.
#[derive(Clone)]
pub(crate) struct Value {
    text: Arc<str>,
    hash: u64,
}

thread_local! {
    /// Where an append joins its text before the one allocation that
    /// keeps it.
    static JOIN: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

impl Value {
    /// The value `text`.
    pub(crate) fn new(text: Arc<str>) -> Self {
        let hash = extend(SEED, &text);
        Self { text, hash }
    }

    /// `old` (absent: empty) followed by `more`.
    pub(crate) fn appended(old: Option<&Value>, more: &str) -> Self {
        let (old_text, old_hash) = old.map_or(("", SEED), |v| (&*v.text, v.hash));
        let text = JOIN.with_borrow_mut(|join| {
            join.clear();
            join.push_str(old_text);
            join.push_str(more);
            Arc::from(join.as_str())
        });
        Self {
            text,
            hash: extend(old_hash, more),
        }
    }

    /// The text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && (Arc::ptr_eq(&self.text, &other.text) || self.text == other.text)
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_appended_value_equals_and_hashes_as_the_same_text_made_whole() {
        let whole = Value::new(Arc::from("x 1 0 yx 2 0 y"));
        let first = Value::appended(None, "x 1 0 y");
        let joined = Value::appended(Some(&first), "x 2 0 y");
        assert!(joined == whole);
        assert_eq!(joined.hash, whole.hash);
        assert_eq!(joined.text(), "x 1 0 yx 2 0 y");
        assert!(joined != first);
        assert!(Value::appended(None, "") == Value::new(Arc::from("")));
    }

    #[test]
    fn texts_that_differ_by_leading_zero_bytes_hash_apart() {
        let a = Value::new(Arc::from("a"));
        let b = Value::new(Arc::from("\0a"));
        assert_ne!(a.hash, b.hash);
        assert!(a != b);
    }

    #[test]
    fn equal_hashes_still_compare_the_texts() {
        // A planted collision: the same hash over different texts must not
        // make them equal (the memo would merge different states).
        let a = Value::new(Arc::from("a"));
        let forged = Value {
            text: Arc::from("b"),
            hash: a.hash,
        };
        assert!(a != forged);
    }
}
