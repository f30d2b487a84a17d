//! The script format shared by raft-core's and paxos-core's script tests
//! (paxos-core includes this file by path): a command line, a line
//! `----`, then the expected output up to a blank line; `#` lines are
//! comments. `UPDATE_EXPECT=1` rewrites the files from what the driver
//! prints.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

/// A node id argument.
pub(crate) fn id(s: &str) -> u64 {
    s.parse().unwrap_or_else(|_| panic!("not a node id: {s}"))
}

/// The value of argument `key=VALUE`, if given.
pub(crate) fn kv<'a>(args: &[&'a str], key: &str) -> Option<&'a str> {
    args.iter()
        .find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
}

/// Runs every script in `dir` (sorted), each with a fresh driver from
/// `driver`; fails listing every mismatch, or rewrites the files.
pub(crate) fn run_dir<D: FnMut(&str) -> String>(dir: &Path, driver: impl Fn() -> D) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scripts in {}", dir.display());
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let (rewritten, mismatches) = run_script(&text, &mut driver());
        if update {
            std::fs::write(file, rewritten).unwrap();
        } else {
            for m in mismatches {
                failures.push(format!("{}: {m}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} script mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs a script through `run`; returns it with the actual outputs and
/// the mismatches.
pub(crate) fn run_script(
    text: &str,
    run: &mut impl FnMut(&str) -> String,
) -> (String, Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut mismatches = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim().is_empty() || line.starts_with('#') {
            out.push_str(line);
            out.push('\n');
            i += 1;
            continue;
        }
        assert_eq!(
            lines.get(i + 1).copied(),
            Some("----"),
            "line {}: `----` after a command",
            i + 2
        );
        i += 2;
        let mut expected = String::new();
        while i < lines.len() && !lines[i].is_empty() {
            expected.push_str(lines[i]);
            expected.push('\n');
            i += 1;
        }
        let actual = run(line);
        if actual != expected {
            mismatches.push(format!(
                "`{line}`\n--- expected\n{expected}--- actual\n{actual}"
            ));
        }
        let _ = write!(out, "{line}\n----\n{actual}");
        if i < lines.len() {
            out.push('\n');
            i += 1;
        }
    }
    (out, mismatches)
}
