//! `KvState`, the key-value model's state: equal contents are equal
//! states (the search's memo depends on it), however they were reached.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use synod_sim::Model;
use synod_sim::models::{KeyValue, KvInput, KvOutput, KvState};

fn hash(s: &KvState) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

#[test]
fn equal_contents_are_equal_states_whatever_the_path() {
    let mut a = KvState::default();
    a.insert("x", Arc::from("1"));
    a.insert("y", Arc::from("2"));
    a.remove("y");
    let b: KvState = [("x", "1")].into_iter().collect();
    assert_eq!(a, b);
    assert_eq!(hash(&a), hash(&b));
    assert_eq!(a.len(), 1);

    let mut c = KvState::default();
    c.insert("y", Arc::from("2"));
    c.insert("x", Arc::from("0"));
    c.insert("x", Arc::from("1"));
    let d: KvState = [("x", "1"), ("y", "2")].into_iter().collect();
    assert_eq!(c, d);
    assert_eq!(hash(&c), hash(&d));
    assert_eq!(c.iter().collect::<Vec<_>>(), [("x", "1"), ("y", "2")]);
    assert_eq!(format!("{c:?}"), r#"{"x": "1", "y": "2"}"#);

    c.remove("x");
    c.remove("y");
    c.remove("absent");
    assert!(c.is_empty());
    assert_eq!(c, KvState::default());
}

#[test]
fn a_clone_is_not_changed_by_the_original() {
    let mut a: KvState = [("x", "1"), ("y", "2"), ("z", "3")].into_iter().collect();
    let before = a.clone();
    a.insert("x", Arc::from("9"));
    a.remove("z");
    assert_eq!(before.get("x"), Some("1"));
    assert_eq!(before.get("z"), Some("3"));
    assert_eq!(a.get("x"), Some("9"));
    assert_eq!(a.get("z"), None);
}

#[test]
fn the_model_steps_through_puts_appends_deletes_and_reads() {
    let m = KeyValue;
    let s = m.init();
    let ok = Some(&KvOutput::Ok);
    let s = m
        .step(&s, &KvInput::Append("k".into(), "a".into()), ok)
        .unwrap();
    let s = m
        .step(&s, &KvInput::Append("k".into(), "b".into()), ok)
        .unwrap();
    let seen = |v: &str| KvOutput::Value(Some(v.into()));
    assert!(
        m.step(&s, &KvInput::Get("k".into()), Some(&seen("ab")))
            .is_some()
    );
    assert!(
        m.step(&s, &KvInput::Get("k".into()), Some(&seen("a")))
            .is_none()
    );
    let s = m
        .step(&s, &KvInput::Put("j".into(), "1".into()), ok)
        .unwrap();
    let s = m.step(&s, &KvInput::Delete("k".into()), ok).unwrap();
    let absent = KvOutput::Value(None);
    assert!(
        m.step(&s, &KvInput::Get("k".into()), Some(&absent))
            .is_some()
    );
    assert_eq!(s, [("j", "1")].into_iter().collect());
    // A write that answered something else is not a write.
    assert!(
        m.step(&s, &KvInput::Delete("j".into()), Some(&absent))
            .is_none()
    );
}

// A value reached by appends (whose hash is extended piece by piece) is
// the same state, hashing alike, as the same text put whole; with one key
// and with several.
#[test]
fn appended_values_equal_the_same_text_put_whole() {
    let m = KeyValue;
    let ok = KvOutput::Ok;
    let step = |s: &KvState, input: KvInput| m.step(s, &input, Some(&ok)).expect("accepted");
    let append = |k: &str, v: &str| KvInput::Append(k.into(), v.into());
    let put = |k: &str, v: &str| KvInput::Put(k.into(), v.into());

    let appended = step(&step(&m.init(), append("k", "ab")), append("k", "cd"));
    let whole = step(&m.init(), put("k", "abcd"));
    assert_eq!(appended, whole);
    assert_eq!(hash(&appended), hash(&whole));
    let other = step(&m.init(), put("k", "abdc"));
    assert_ne!(appended, other);

    let many_appended = step(&step(&appended, put("j", "1")), append("j", "2"));
    let many_whole: KvState = [("j", "12"), ("k", "abcd")].into_iter().collect();
    assert_eq!(many_appended, many_whole);
    assert_eq!(hash(&many_appended), hash(&many_whole));
    let read = KvOutput::Value(Some("abcd".into()));
    assert!(
        m.step(&many_appended, &KvInput::Get("k".into()), Some(&read))
            .is_some()
    );
}
