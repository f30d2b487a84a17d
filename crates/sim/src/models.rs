//! The built-in [`Model`]s: a register, a compare-and-set register, a
//! counter, a set, a FIFO queue, a key-value map with string keys and
//! values (get / put / append / delete, partitioned by key), and a mutex
//! with fencing tokens.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use crate::kv_value::Value;
use crate::model::Model;

/// A register of `u64` values, initially empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct Register;

/// What a register operation asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RegisterInput {
    /// Read the value.
    Read,
    /// Write a value.
    Write(u64),
}

/// What a register (or compare-and-set register) operation answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RegisterOutput {
    /// A write was done.
    Ok,
    /// A read saw this (`None`: never written).
    Value(Option<u64>),
    /// A compare-and-set applied (`true`) or not.
    Cas(bool),
}

impl Model for Register {
    type State = Option<u64>;
    type Input = RegisterInput;
    type Output = RegisterOutput;

    fn init(&self) -> Option<u64> {
        None
    }

    fn step(
        &self,
        state: &Option<u64>,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Option<Option<u64>> {
        match (input, output) {
            (RegisterInput::Write(v), None | Some(RegisterOutput::Ok)) => Some(Some(*v)),
            (RegisterInput::Read, None) => Some(*state),
            (RegisterInput::Read, Some(RegisterOutput::Value(v))) if v == state => Some(*state),
            _ => None,
        }
    }
}

/// A register with compare-and-set.
#[derive(Debug, Clone, Copy, Default)]
pub struct CasRegister;

/// What a compare-and-set register operation asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CasInput {
    /// Read the value.
    Read,
    /// Write a value.
    Write(u64),
    /// Set `new` if the value is `expect`.
    Cas {
        /// The value expected (`None`: never written).
        expect: Option<u64>,
        /// The value to set.
        new: u64,
    },
}

impl Model for CasRegister {
    type State = Option<u64>;
    type Input = CasInput;
    type Output = RegisterOutput;

    fn init(&self) -> Option<u64> {
        None
    }

    fn step(
        &self,
        state: &Option<u64>,
        input: &CasInput,
        output: Option<&RegisterOutput>,
    ) -> Option<Option<u64>> {
        match *input {
            CasInput::Read => Register.step(state, &RegisterInput::Read, output),
            CasInput::Write(v) => Register.step(state, &RegisterInput::Write(v), output),
            CasInput::Cas { expect, new } => {
                let applies = *state == expect;
                match output {
                    None => Some(if applies { Some(new) } else { *state }),
                    Some(RegisterOutput::Cas(true)) if applies => Some(Some(new)),
                    Some(RegisterOutput::Cas(false)) if !applies => Some(*state),
                    Some(_) => None,
                }
            }
        }
    }
}

/// A counter from 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counter;

/// What a counter operation asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CounterInput {
    /// Add (wrapping).
    Add(i64),
    /// Read the count.
    Read,
}

/// What a counter, set or queue operation answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CollectionOutput {
    /// Done.
    Ok,
    /// A count read.
    Count(i64),
    /// Whether a member was there.
    Bool(bool),
    /// The whole set read.
    All(BTreeSet<u64>),
    /// The item dequeued (`None`: the queue was empty).
    Item(Option<u64>),
}

impl Model for Counter {
    type State = i64;
    type Input = CounterInput;
    type Output = CollectionOutput;

    fn init(&self) -> i64 {
        0
    }

    fn step(
        &self,
        state: &i64,
        input: &CounterInput,
        output: Option<&CollectionOutput>,
    ) -> Option<i64> {
        match (input, output) {
            (CounterInput::Add(d), None | Some(CollectionOutput::Ok)) => {
                Some(state.wrapping_add(*d))
            }
            (CounterInput::Read, None) => Some(*state),
            (CounterInput::Read, Some(CollectionOutput::Count(c))) if c == state => Some(*state),
            _ => None,
        }
    }
}

/// A set of `u64`, initially empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct Set;

/// What a set operation asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SetInput {
    /// Add a member (answers whether it was new).
    Add(u64),
    /// Remove a member (answers whether it was there).
    Remove(u64),
    /// Whether a member is there.
    Contains(u64),
    /// Read every member.
    ReadAll,
}

impl Model for Set {
    type State = BTreeSet<u64>;
    type Input = SetInput;
    type Output = CollectionOutput;

    fn init(&self) -> BTreeSet<u64> {
        BTreeSet::new()
    }

    fn step(
        &self,
        state: &BTreeSet<u64>,
        input: &SetInput,
        output: Option<&CollectionOutput>,
    ) -> Option<BTreeSet<u64>> {
        let answer = |b: bool| output.is_none_or(|o| *o == CollectionOutput::Bool(b));
        match *input {
            SetInput::Add(x) if answer(!state.contains(&x)) => {
                let mut next = state.clone();
                next.insert(x);
                Some(next)
            }
            SetInput::Remove(x) if answer(state.contains(&x)) => {
                let mut next = state.clone();
                next.remove(&x);
                Some(next)
            }
            SetInput::Contains(x) if answer(state.contains(&x)) => Some(state.clone()),
            SetInput::ReadAll
                if output
                    .is_none_or(|o| matches!(o, CollectionOutput::All(all) if all == state)) =>
            {
                Some(state.clone())
            }
            _ => None,
        }
    }
}

/// A FIFO queue of `u64`, initially empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct Queue;

/// What a queue operation asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum QueueInput {
    /// Append an item.
    Enqueue(u64),
    /// Take the oldest item.
    Dequeue,
}

impl Model for Queue {
    type State = VecDeque<u64>;
    type Input = QueueInput;
    type Output = CollectionOutput;

    fn init(&self) -> VecDeque<u64> {
        VecDeque::new()
    }

    fn step(
        &self,
        state: &VecDeque<u64>,
        input: &QueueInput,
        output: Option<&CollectionOutput>,
    ) -> Option<VecDeque<u64>> {
        match (input, output) {
            (QueueInput::Enqueue(x), None | Some(CollectionOutput::Ok)) => {
                let mut next = state.clone();
                next.push_back(*x);
                Some(next)
            }
            (QueueInput::Dequeue, out) => {
                let head = state.front().copied();
                if out.is_some_and(|o| *o != CollectionOutput::Item(head)) {
                    return None;
                }
                let mut next = state.clone();
                next.pop_front();
                Some(next)
            }
            _ => None,
        }
    }
}

/// A map of string keys to string values, checked per key.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyValue;

/// What a key-value operation asks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum KvInput {
    /// Read a key.
    Get(String),
    /// Set a key.
    Put(String, String),
    /// Append to a key's value (an absent key is empty).
    Append(String, String),
    /// Remove a key.
    Delete(String),
}

/// What a key-value operation answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum KvOutput {
    /// A write was done.
    Ok,
    /// A read saw this (`None`: absent).
    Value(Option<String>),
}

impl KvInput {
    fn key(&self) -> &str {
        match self {
            Self::Get(k) | Self::Put(k, _) | Self::Append(k, _) | Self::Delete(k) => k,
        }
    }
}

/// The state of a [`KeyValue`] part: its keys and their values.
///
/// Cheap to clone, because the search clones a state at nearly every
/// step: keys and values are shared (`Arc<str>`), and a part with one key
/// (the common case: parts are keys, unless two keys' hashes meet) keeps
/// it inline with no map to allocate. Cheap to hash and compare too: each
/// value carries the hash of its text, which an append extends rather
/// than recomputes.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct KvState(Keys);

/// Invariant: `One` for exactly one key, `Many` for two or more, so equal
/// contents are equal values (and hash alike).
#[derive(Clone, Default, PartialEq, Eq)]
enum Keys {
    #[default]
    Empty,
    One(Arc<str>, Value),
    Many(Arc<BTreeMap<Arc<str>, Value>>),
}

/// Hashes the values alone, each by the hash it carries: equal states
/// have equal values in the same key order, so they hash alike, and the
/// keys (one per part, nearly always) would add nothing but time.
impl Hash for Keys {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Keys::Empty => state.write_u8(0),
            Keys::One(_, v) => v.hash(state),
            Keys::Many(map) => {
                state.write_usize(map.len());
                map.values().for_each(|v| v.hash(state));
            }
        }
    }
}

impl KvState {
    /// The value of `key`, if set.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.value(key).map(Value::text)
    }

    fn value(&self, key: &str) -> Option<&Value> {
        match &self.0 {
            Keys::Empty => None,
            Keys::One(k, v) => (**k == *key).then_some(v),
            Keys::Many(map) => map.get(key),
        }
    }

    /// The keys and values, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let (one, many) = match &self.0 {
            Keys::Empty => (None, None),
            Keys::One(k, v) => (Some((&**k, v.text())), None),
            Keys::Many(map) => (None, Some(map.iter().map(|(k, v)| (&**k, v.text())))),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// The number of keys set.
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.0 {
            Keys::Empty => 0,
            Keys::One(..) => 1,
            Keys::Many(map) => map.len(),
        }
    }

    /// Whether no key is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        matches!(self.0, Keys::Empty)
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: &str, value: Arc<str>) {
        self.set(key, Value::new(value));
    }

    /// This state with `key` set to `value`, sharing the rest: for the
    /// common one-key part, one new reference to the key and nothing else
    /// (no clone of the old value to drop again).
    fn with(&self, key: &str, value: Value) -> Self {
        match &self.0 {
            Keys::One(k, _) if **k == *key => Self(Keys::One(Arc::clone(k), value)),
            _ => {
                let mut next = self.clone();
                next.set(key, value);
                next
            }
        }
    }

    fn set(&mut self, key: &str, value: Value) {
        self.0 = match std::mem::take(&mut self.0) {
            Keys::Empty => Keys::One(Arc::from(key), value),
            Keys::One(k, _) if *k == *key => Keys::One(k, value),
            Keys::One(k, v) => {
                let map = BTreeMap::from([(k, v), (Arc::from(key), value)]);
                Keys::Many(Arc::new(map))
            }
            Keys::Many(mut map) => {
                let m = Arc::make_mut(&mut map);
                match m.get_mut(key) {
                    Some(v) => *v = value,
                    None => {
                        m.insert(Arc::from(key), value);
                    }
                }
                Keys::Many(map)
            }
        };
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        self.0 = match std::mem::take(&mut self.0) {
            Keys::One(k, _) if *k == *key => Keys::Empty,
            Keys::Many(mut map) if map.contains_key(key) => {
                let m = Arc::make_mut(&mut map);
                m.remove(key);
                if m.len() > 1 {
                    Keys::Many(map)
                } else {
                    // One key left: kept inline, as the invariant says.
                    match m.pop_first() {
                        Some((k, v)) => Keys::One(k, v),
                        None => Keys::Empty,
                    }
                }
            }
            other => other,
        };
    }
}

impl fmt::Debug for KvState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for KvState {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut state = Self::default();
        for (k, v) in iter {
            state.insert(k.as_ref(), Arc::from(v.as_ref()));
        }
        state
    }
}

impl Model for KeyValue {
    /// The part's keys (a part may hold several keys whose hashes meet).
    type State = KvState;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> KvState {
        KvState::default()
    }

    fn step(&self, state: &KvState, input: &KvInput, output: Option<&KvOutput>) -> Option<KvState> {
        if let KvInput::Get(k) = input {
            // Compared in place; the clone of an unchanged state shares
            // everything and allocates nothing.
            let fits = match output {
                None => true,
                Some(KvOutput::Value(v)) => v.as_deref() == state.get(k),
                Some(_) => false,
            };
            return fits.then(|| state.clone());
        }
        if output.is_some_and(|o| *o != KvOutput::Ok) {
            return None;
        }
        Some(match input {
            KvInput::Put(k, v) => state.with(k, Value::new(Arc::from(v.as_str()))),
            KvInput::Append(k, v) => state.with(k, Value::appended(state.value(k), v)),
            KvInput::Delete(k) => {
                let mut next = state.clone();
                next.remove(k);
                next
            }
            // Answered above; here so the match names every input.
            KvInput::Get(_) => state.clone(),
        })
    }

    fn partition(&self, input: &KvInput) -> u64 {
        // A fixed hasher (SipHash with zero keys): the same parts every run.
        let mut h = DefaultHasher::new();
        input.key().hash(&mut h);
        h.finish()
    }
}

/// A mutex whose grants carry fencing tokens that must rise: the model
/// of synod-lock's locks as their clients see them.
#[derive(Debug, Clone, Copy, Default)]
pub struct FencedMutex;

/// What a mutex operation asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MutexInput {
    /// `client` takes the lock.
    Acquire {
        /// The client.
        client: u64,
    },
    /// `client` lets it go.
    Release {
        /// The client.
        client: u64,
    },
}

/// What a mutex operation answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MutexOutput {
    /// Granted with this token.
    Granted(u64),
    /// Released.
    Released,
    /// Refused (held by another; or released by a non-holder).
    Refused,
}

/// The mutex's state: its holder and the last token granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MutexState {
    /// Who holds it.
    pub holder: Option<u64>,
    /// The last token granted (the next must be larger).
    pub last_token: u64,
}

impl Model for FencedMutex {
    type State = MutexState;
    type Input = MutexInput;
    type Output = MutexOutput;

    fn init(&self) -> MutexState {
        MutexState::default()
    }

    fn step(
        &self,
        state: &MutexState,
        input: &MutexInput,
        output: Option<&MutexOutput>,
    ) -> Option<MutexState> {
        match (*input, output) {
            (MutexInput::Acquire { client }, Some(MutexOutput::Granted(t))) => {
                (state.holder.is_none() && *t > state.last_token).then_some(MutexState {
                    holder: Some(client),
                    last_token: *t,
                })
            }
            (MutexInput::Acquire { client }, None) => Some(match state.holder {
                // Granted with some larger token, which nobody saw.
                None => MutexState {
                    holder: Some(client),
                    last_token: state.last_token.saturating_add(1),
                },
                Some(_) => *state,
            }),
            (MutexInput::Release { client }, None | Some(MutexOutput::Released))
                if state.holder == Some(client) =>
            {
                Some(MutexState {
                    holder: None,
                    ..*state
                })
            }
            (MutexInput::Release { client }, None) if state.holder != Some(client) => Some(*state),
            (MutexInput::Acquire { .. }, Some(MutexOutput::Refused)) if state.holder.is_some() => {
                Some(*state)
            }
            (MutexInput::Release { client }, Some(MutexOutput::Refused))
                if state.holder != Some(client) =>
            {
                Some(*state)
            }
            _ => None,
        }
    }
}
