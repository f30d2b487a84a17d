//! Naive reference implementations and shared helpers for the integration
//! tests. Each reference follows the documented definition with linear
//! scans and no cleverness, so the fast code can be checked against it.
#![allow(dead_code, unreachable_pub)]

use synod_hashring::{NodeId, mix64};

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The i-th SplitMix64 output from state `h` (the crate's point/probe rule).
pub fn derive(h: u64, i: u64) -> u64 {
    mix64(h.wrapping_add(i.wrapping_add(1).wrapping_mul(GAMMA)))
}

/// Sorted copy of `(node, weight)` pairs: the rank order every algorithm
/// but jump uses for indexes.
pub fn sorted<N: Ord + Clone>(nodes: &[(N, f64)]) -> Vec<(N, f64)> {
    let mut v = nodes.to_vec();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Ring: the first point at or after the key, wrapping; points ordered by
/// (hash, node rank).
pub fn ring_owner<N: NodeId + Ord + Clone>(
    nodes: &[(N, f64)],
    ppw: u32,
    key: u64,
) -> Option<usize> {
    let nodes = sorted(nodes);
    let mut points = Vec::new();
    for (rank, (node, weight)) in nodes.iter().enumerate() {
        let count = (weight * f64::from(ppw)).round().max(1.0) as u64;
        for i in 0..count {
            points.push((derive(node.id_hash(), i), rank));
        }
    }
    let after = points.iter().filter(|p| p.0 >= key).min();
    after.or_else(|| points.iter().min()).map(|p| p.1)
}

/// Rendezvous: highest `-w / ln(u)`, computed with the platform's `ln` and
/// a division (the crate uses its own `ln` and a multiply by `1/w`, so this
/// is an independent check). Ties go to the lower rank.
pub fn hrw_owner<N: NodeId + Ord + Clone>(nodes: &[(N, f64)], key: u64) -> Option<usize> {
    let nodes = sorted(nodes);
    let mut best: Option<(f64, usize)> = None;
    for (rank, (node, weight)) in nodes.iter().enumerate() {
        let bits = mix64(key ^ node.id_hash()) >> 11;
        let u = (bits as f64 + 0.5) / (1u64 << 53) as f64;
        let score = -weight / u.ln();
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, rank));
        }
    }
    best.map(|b| b.1)
}

/// Multi-probe: for each probe the node at the smallest clockwise distance
/// (ties: lower rank); across probes the smallest distance (ties: earlier
/// probe).
pub fn multiprobe_owner<N: NodeId + Ord + Clone>(
    nodes: &[N],
    probes: u32,
    key: u64,
) -> Option<usize> {
    let mut nodes = nodes.to_vec();
    nodes.sort();
    let mut best: Option<(u64, usize)> = None;
    for j in 0..probes {
        let probe = derive(key, u64::from(j));
        let closest = nodes
            .iter()
            .enumerate()
            .map(|(rank, n)| (n.id_hash().wrapping_sub(probe), rank))
            .min()?;
        if best.is_none_or(|(d, _)| closest.0 < d) {
            best = Some(closest);
        }
    }
    best.map(|b| b.1)
}

/// Maglev's table, built straight from the paper: explicit permutations,
/// weighted turns of `floor(round * w / w_max)`.
pub fn maglev_table<N: NodeId + Ord + Clone>(nodes: &[(N, f64)], m: u32) -> Vec<usize> {
    let nodes = sorted(nodes);
    let m = m as usize;
    let perms: Vec<Vec<usize>> = nodes
        .iter()
        .map(|(node, _)| {
            let h = node.id_hash();
            let offset = (derive(h, 0) % m as u64) as usize;
            let skip = (derive(h, 1) % (m as u64 - 1)) as usize + 1;
            (0..m).map(|j| (offset + j * skip) % m).collect()
        })
        .collect();
    let w_max = nodes.iter().map(|n| n.1).fold(0.0, f64::max);
    let mut table = vec![usize::MAX; m];
    let mut next = vec![0usize; nodes.len()];
    let mut taken = vec![0u64; nodes.len()];
    let mut filled = 0;
    let mut round = 0u64;
    while filled < m {
        round += 1;
        for i in 0..nodes.len() {
            if filled == m {
                break;
            }
            if (round as f64 * (nodes[i].1 / w_max)) as u64 <= taken[i] {
                continue;
            }
            taken[i] += 1;
            while table[perms[i][next[i]]] != usize::MAX {
                next[i] += 1;
            }
            table[perms[i][next[i]]] = i;
            next[i] += 1;
            filled += 1;
        }
    }
    table
}

/// The table entry a key reads: `floor(key * m / 2^64)`.
pub fn maglev_entry(key: u64, m: u32) -> usize {
    ((u128::from(key) * u128::from(m)) >> 64) as usize
}

/// Node names `node-0` .. `node-{n-1}`.
pub fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("node-{i}")).collect()
}

/// `(name, 1.0)` pairs.
pub fn unit(names: &[String]) -> Vec<(String, f64)> {
    names.iter().map(|n| (n.clone(), 1.0)).collect()
}
