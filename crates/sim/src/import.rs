//! Histories recorded elsewhere: an ordered list of calls and completions
//! (no timestamps needed), and Jepsen's register and cas-register
//! histories, as EDN maps (`{:type :invoke, :f :cas, :value [1 4],
//! :process 2}`) or as `jepsen.util` log lines (`INFO  jepsen.util - 2
//! :invoke :cas [1 4]`, the form Porcupine's etcd test data uses).

use std::collections::BTreeMap;

use crate::model::{ModelOp, Outcome};
use crate::models::{CasInput, KvInput, KvOutput, RegisterOutput};

/// One entry of an ordered history: times are positions in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum HistoryEvent<I, O> {
    /// Operation `id` is invoked.
    Call {
        /// The operation (unique per call).
        id: u64,
        /// Who invoked it.
        client: u64,
        /// What it asks.
        input: I,
    },
    /// Operation `id` returned `output`.
    Return {
        /// The operation.
        id: u64,
        /// What it answered.
        output: O,
    },
    /// Operation `id` definitely did not take effect.
    Fail {
        /// The operation.
        id: u64,
    },
    /// Operation `id`'s outcome is unknown (as if it never returned); the
    /// client gave up on it here.
    Info {
        /// The operation.
        id: u64,
    },
}

/// Why a history could not be read.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// A completion of an operation never invoked (or already completed).
    #[error("entry {at}: operation {id} completes without a pending invocation")]
    NoInvocation {
        /// The entry (0-based; the line for text).
        at: usize,
        /// The operation.
        id: u64,
    },
    /// An invocation of an operation (or process) still pending.
    #[error("entry {at}: operation {id} is invoked again before it completed")]
    InvokedTwice {
        /// The entry.
        at: usize,
        /// The operation (the process, for Jepsen histories).
        id: u64,
    },
    /// A line that is not a history entry of the workload.
    #[error("line {line}: {reason}")]
    Malformed {
        /// The line (1-based).
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// The operations of an ordered history, each invoked and completed at
/// its entry's position (an `Info` is the give-up time of an unknown
/// outcome); those still pending at the end are unknown, with no give-up
/// time.
///
/// # Errors
/// [`ImportError::NoInvocation`], [`ImportError::InvokedTwice`].
pub fn history_from_events<I, O>(
    events: Vec<HistoryEvent<I, O>>,
) -> Result<Vec<ModelOp<I, O>>, ImportError> {
    let mut ops: Vec<ModelOp<I, O>> = Vec::new();
    let mut pending: BTreeMap<u64, usize> = BTreeMap::new();
    for (at, event) in events.into_iter().enumerate() {
        let time = at as u64;
        let (id, outcome) = match event {
            HistoryEvent::Call { id, client, input } => {
                if pending.insert(id, ops.len()).is_some() {
                    return Err(ImportError::InvokedTwice { at, id });
                }
                ops.push(ModelOp {
                    client,
                    input,
                    invoked: time,
                    outcome: Outcome::UNKNOWN,
                });
                continue;
            }
            HistoryEvent::Return { id, output } => (id, Outcome::Returned { time, output }),
            HistoryEvent::Fail { id } => (id, Outcome::Failed),
            HistoryEvent::Info { id } => (
                id,
                Outcome::Unknown {
                    gave_up: Some(time),
                },
            ),
        };
        let Some(k) = pending.remove(&id) else {
            return Err(ImportError::NoInvocation { at, id });
        };
        ops[k].outcome = outcome;
    }
    Ok(ops)
}

/// A Jepsen register or cas-register history (`:read`, `:write`, `:cas`
/// with `:invoke`, `:ok`, `:fail`, `:info`), one entry per line in either
/// form (blank lines and other log lines are skipped), as operations on
/// [`CasRegister`](crate::models::CasRegister). A process has one
/// operation pending at a time; `:fail` of a `:cas` is its answer "did not
/// match", `:fail` of a read or write means it did not take effect,
/// `:info` (and an operation still pending at the end) that its outcome
/// is unknown.
///
/// # Errors
/// [`ImportError`] naming the line.
pub fn jepsen_register_history(
    text: &str,
) -> Result<Vec<ModelOp<CasInput, RegisterOutput>>, ImportError> {
    let mut events = Vec::new();
    // The pending operation per process: its id and its input.
    let mut pending: BTreeMap<u64, (u64, CasInput)> = BTreeMap::new();
    let mut lines_of_events = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let Some(entry) = parse_line(line) else {
            continue;
        };
        let bad = |reason: String| ImportError::Malformed {
            line: line_no,
            reason,
        };
        let (process, kind, f, value) = entry.map_err(bad)?;
        let at = events.len();
        lines_of_events.push(line_no);
        if kind == "invoke" {
            let input = match (f, value) {
                ("read", _) => CasInput::Read,
                ("write", Value::Int(v)) => CasInput::Write(v),
                ("cas", Value::Pair(a, b)) => CasInput::Cas {
                    expect: Some(a),
                    new: b,
                },
                _ => return Err(bad(format!("cannot invoke :{f} with that value"))),
            };
            let id = at as u64;
            if pending.insert(process, (id, input)).is_some() {
                return Err(ImportError::InvokedTwice {
                    at: line_no,
                    id: process,
                });
            }
            events.push(HistoryEvent::Call {
                id,
                client: process,
                input,
            });
            continue;
        }
        let Some((id, input)) = pending.remove(&process) else {
            return Err(ImportError::NoInvocation {
                at: line_no,
                id: process,
            });
        };
        events.push(match kind {
            // A failed compare-and-set is an answer: the value did not
            // match (Jepsen's cas-register, and Porcupine's reading).
            "fail" if matches!(input, CasInput::Cas { .. }) => HistoryEvent::Return {
                id,
                output: RegisterOutput::Cas(false),
            },
            "fail" => HistoryEvent::Fail { id },
            "info" => HistoryEvent::Info { id },
            _ => {
                let output = match (input, value) {
                    (CasInput::Read, Value::Nil) => RegisterOutput::Value(None),
                    (CasInput::Read, Value::Int(v)) => RegisterOutput::Value(Some(v)),
                    (CasInput::Write(_), _) => RegisterOutput::Ok,
                    (CasInput::Cas { .. }, _) => RegisterOutput::Cas(true),
                    _ => return Err(bad("a read returned no number".to_string())),
                };
                HistoryEvent::Return { id, output }
            }
        });
    }
    history_from_events(events).map_err(|e| match e {
        // Positions back to lines (cannot happen after the checks above,
        // but a line number is what a user can look up).
        ImportError::NoInvocation { at, id } => ImportError::NoInvocation {
            at: lines_of_events.get(at).copied().unwrap_or(at),
            id,
        },
        other => other,
    })
}

/// A parsed `:value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    Nil,
    Int(u64),
    Pair(u64, u64),
}

type Entry<'a> = (u64, &'a str, &'a str, Value);

/// `None` for a line that is not an entry; `Some(Err)` for one that
/// starts like an entry and is broken.
fn parse_line(line: &str) -> Option<Result<Entry<'_>, String>> {
    let line = line.trim();
    if line.starts_with('{') {
        return Some(parse_edn(line));
    }
    // jepsen.util log lines: "... jepsen.util - PROCESS\t:TYPE\t:F\tVALUE".
    let (_, rest) = line.split_once("jepsen.util - ")?;
    let mut fields = rest.split_whitespace();
    let process = fields.next()?;
    let kind = fields.next()?.strip_prefix(':')?;
    let f = fields.next()?.strip_prefix(':')?;
    let value: Vec<&str> = fields.collect();
    Some((|| {
        let process = process
            .parse()
            .map_err(|_| format!("process {process:?} is not a number"))?;
        let kind = known_kind(kind)?;
        Ok((process, kind, f, parse_value(&value.join(" "))?))
    })())
}

fn known_kind(kind: &str) -> Result<&str, String> {
    match kind {
        "invoke" | "ok" | "fail" | "info" => Ok(kind),
        other => Err(format!("unknown type :{other}")),
    }
}

/// An EDN map's keys and values, as text: keywords, numbers, `nil`,
/// strings (kept with their quotes) and vectors `[..]` kept whole.
fn edn_fields(line: &str) -> Result<BTreeMap<&str, &str>, String> {
    let inner = line
        .strip_prefix('{')
        .and_then(|l| l.strip_suffix('}'))
        .ok_or("an unclosed map")?;
    let mut tokens = Vec::new();
    let mut rest = inner;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.is_empty() {
            break;
        }
        let end = if rest.starts_with('[') {
            rest.find(']').map(|e| e + 1).ok_or("an unclosed vector")?
        } else if let Some(body) = rest.strip_prefix('"') {
            // Up to the next unescaped quote.
            let mut escaped = false;
            let close = body
                .char_indices()
                .find(|&(_, c)| {
                    let done = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    done
                })
                .map(|(k, _)| k)
                .ok_or("an unclosed string")?;
            close + 2
        } else {
            rest.find(|c: char| c.is_whitespace() || c == ',')
                .unwrap_or(rest.len())
        };
        tokens.push(&rest[..end]);
        rest = &rest[end..];
    }
    if tokens.len() % 2 != 0 {
        return Err("a key without a value".to_string());
    }
    Ok(tokens.chunks(2).map(|pair| (pair[0], pair[1])).collect())
}

/// A field that must be a keyword, without its colon.
fn keyword<'a>(fields: &BTreeMap<&str, &'a str>, key: &str) -> Result<&'a str, String> {
    let v = fields.get(key).ok_or_else(|| format!("no {key}"))?;
    v.strip_prefix(':')
        .ok_or_else(|| format!("{key} {v:?} is not a keyword"))
}

fn process(fields: &BTreeMap<&str, &str>) -> Result<u64, String> {
    let p = fields.get(":process").ok_or("no :process")?;
    p.parse()
        .map_err(|_| format!("process {p:?} is not a number"))
}

fn parse_edn(line: &str) -> Result<Entry<'_>, String> {
    let fields = edn_fields(line)?;
    let kind = known_kind(keyword(&fields, ":type")?)?;
    let f = keyword(&fields, ":f")?;
    let value = parse_value(fields.get(":value").copied().unwrap_or("nil"))?;
    Ok((process(&fields)?, kind, f, value))
}

/// A quoted string's contents (`\"` and `\\` unescaped), or `None` for
/// `nil`.
fn edn_string(v: &str) -> Result<Option<String>, String> {
    if v == "nil" {
        return Ok(None);
    }
    let body = v
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or_else(|| format!("{v:?} is not a string"))?;
    Ok(Some(body.replace("\\\"", "\"").replace("\\\\", "\\")))
}

/// Porcupine's key-value histories (`{:process 0, :type :invoke, :f
/// :append, :key "4", :value "x 0 1 y"}`, with `:get`, `:put`, `:append`;
/// `:ok`, `:fail`, `:info`), as operations on
/// [`KeyValue`](crate::models::KeyValue). A read of `""` is a read of an
/// absent key, as Porcupine's model has it.
///
/// # Errors
/// [`ImportError`] naming the line.
pub fn porcupine_kv_history(text: &str) -> Result<Vec<ModelOp<KvInput, KvOutput>>, ImportError> {
    let mut events = Vec::new();
    let mut pending: BTreeMap<u64, u64> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = line.trim();
        if !line.starts_with('{') {
            continue;
        }
        let bad = |reason: String| ImportError::Malformed {
            line: line_no,
            reason,
        };
        let fields = edn_fields(line).map_err(bad)?;
        let kind = keyword(&fields, ":type")
            .and_then(known_kind)
            .map_err(bad)?;
        let f = keyword(&fields, ":f").map_err(bad)?;
        let process = process(&fields).map_err(bad)?;
        let key = edn_string(fields.get(":key").copied().unwrap_or("nil"))
            .map_err(bad)?
            .ok_or_else(|| bad("no :key".to_string()))?;
        let value = edn_string(fields.get(":value").copied().unwrap_or("nil")).map_err(bad)?;
        let at = events.len() as u64;
        if kind == "invoke" {
            let input = match (f, value) {
                ("get", _) => KvInput::Get(key),
                ("put", Some(v)) => KvInput::Put(key, v),
                ("append", Some(v)) => KvInput::Append(key, v),
                _ => return Err(bad(format!("cannot invoke :{f} with that value"))),
            };
            if pending.insert(process, at).is_some() {
                return Err(ImportError::InvokedTwice {
                    at: line_no,
                    id: process,
                });
            }
            events.push(HistoryEvent::Call {
                id: at,
                client: process,
                input,
            });
            continue;
        }
        let Some(id) = pending.remove(&process) else {
            return Err(ImportError::NoInvocation {
                at: line_no,
                id: process,
            });
        };
        events.push(match (kind, f) {
            ("fail", _) => HistoryEvent::Fail { id },
            ("info", _) => HistoryEvent::Info { id },
            ("ok", "get") => HistoryEvent::Return {
                id,
                output: KvOutput::Value(value.filter(|v| !v.is_empty())),
            },
            _ => HistoryEvent::Return {
                id,
                output: KvOutput::Ok,
            },
        });
    }
    history_from_events(events)
}

fn parse_value(v: &str) -> Result<Value, String> {
    let v = v.trim();
    // A keyword (`:timed-out`) carries no value.
    if v.is_empty() || v == "nil" || v.starts_with(':') {
        return Ok(Value::Nil);
    }
    let int = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("{s:?} is not a number"))
    };
    if let Some(inner) = v.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        let parts: Vec<&str> = inner.split_whitespace().collect();
        return match parts.as_slice() {
            [a, b] => Ok(Value::Pair(int(a)?, int(b)?)),
            _ => Err(format!("{v:?} is not a pair")),
        };
    }
    int(v).map(Value::Int)
}
