//! A history as one self-contained HTML page (in the manner of
//! Porcupine's): each client a row, each operation a bar from its
//! invocation to its return on a shared time axis (open-ended and dashed
//! when the outcome is unknown, with a mark where the client gave up), the longest linearization found numbered
//! in green, the failing window in red, and every bar's details on hover.

use std::fmt::Write as _;

use crate::model::{Model, ModelOp, ModelReport, Outcome};

/// Escapes text for HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page for `history` (with `report`'s linearization and window when
/// it failed).
#[must_use]
pub fn history_html<M: Model>(
    model: &M,
    history: &[ModelOp<M::Input, M::Output>],
    report: Option<&ModelReport>,
    title: &str,
) -> String {
    let mut clients: Vec<u64> = history.iter().map(|op| op.client).collect();
    clients.sort_unstable();
    clients.dedup();
    let end = (history.iter())
        .map(|op| match op.outcome {
            Outcome::Returned { time, .. }
            | Outcome::Unknown {
                gave_up: Some(time),
            } => time.max(op.invoked),
            _ => op.invoked,
        })
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    let (width, row, left, top) = (1_000.0_f64, 28.0_f64, 90.0_f64, 30.0_f64);
    let x = |t: u64| left + width * (t.min(end) as f64) / (end as f64);
    let height = top + row * clients.len() as f64 + 20.0;
    let order: std::collections::BTreeMap<usize, usize> = report
        .map(|r| {
            r.linearized
                .iter()
                .enumerate()
                .map(|(n, &i)| (i, n + 1))
                .collect()
        })
        .unwrap_or_default();
    let window: std::collections::BTreeSet<usize> = report
        .map(|r| r.window.iter().copied().collect())
        .unwrap_or_default();
    let mut svg = String::new();
    for (k, c) in clients.iter().enumerate() {
        let y = top + row * k as f64;
        let _ = write!(
            svg,
            r#"<text x="4" y="{:.1}" class="client">client {c}</text>"#,
            y + row * 0.6
        );
    }
    for (i, op) in history.iter().enumerate() {
        let k = clients.binary_search(&op.client).unwrap_or(0);
        let y = top + row * k as f64 + 4.0;
        let (returned, output, class) = match &op.outcome {
            Outcome::Returned { time, output } => (*time, Some(output), "op"),
            Outcome::Unknown { .. } => (end, None, "op unknown"),
            Outcome::Failed => (op.invoked.saturating_add(1), None, "op failed"),
        };
        let class = if order.contains_key(&i) {
            format!("{class} placed")
        } else if window.contains(&i) {
            format!("{class} stuck")
        } else {
            class.to_string()
        };
        let class = if report.is_some_and(|r| r.culprit == i) {
            format!("{class} culprit")
        } else {
            class
        };
        let (x0, x1) = (x(op.invoked), x(returned.max(op.invoked)));
        let detail = match &op.outcome {
            Outcome::Failed => format!("#{i} {:?} (failed: did not take effect)", op.input),
            _ => format!("#{i} {}", model.describe(&op.input, output)),
        };
        let span = op.span();
        let _ = write!(
            svg,
            r#"<g class="{class}"><title>{} {span}</title><rect x="{x0:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" rx="3"/>"#,
            escape(&detail),
            (x1 - x0).max(3.0),
            row - 8.0
        );
        if let Outcome::Unknown {
            gave_up: Some(time),
        } = op.outcome
        {
            // Where the client stopped waiting; the bar goes on, since the
            // operation may still take effect.
            let _ = write!(
                svg,
                r#"<line class="gaveup" x1="{g:.1}" x2="{g:.1}" y1="{:.1}" y2="{:.1}"/>"#,
                y - 2.0,
                y + row - 6.0,
                g = x(time.max(op.invoked)),
            );
        }
        if let Some(n) = order.get(&i) {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" class="n">{n}</text>"#,
                x0 + 3.0,
                y + row * 0.5
            );
        }
        svg.push_str("</g>");
    }
    if let Some(r) = report {
        // The cut: up to here the history already has no linearization.
        let _ = write!(
            svg,
            r#"<line class="cut" x1="{c:.1}" x2="{c:.1}" y1="{:.1}" y2="{:.1}"/>"#,
            top - 10.0,
            height - 10.0,
            c = x(r.failed_at),
        );
    }
    let summary = match report {
        None => "linearizable (or not checked)".to_string(),
        Some(r) => format!(
            "NOT linearizable in part {}, {}, when #{} (thick outline) completes: {} operation(s) placed (green, numbered), {} concurrent with it unplaced (red){}",
            r.part,
            if r.failed_at == u64::MAX {
                "only at the end".to_string()
            } else {
                format!("from time {} on", r.failed_at)
            },
            r.culprit,
            r.linearized.len(),
            r.window
                .iter()
                .filter(|i| !r.linearized.contains(i))
                .count(),
            if r.narrowed {
                ""
            } else {
                " (the budget ran out before earlier cuts were decided: the window may not be the smallest)"
            }
        ),
    };
    format!(
        r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 16px; }}
.client {{ font-size: 12px; fill: #333; }}
.op rect {{ fill: #c9d3e0; stroke: #6b7b8f; }}
.op.placed rect {{ fill: #a8e0a8; stroke: #2e7d32; }}
.op.stuck rect {{ fill: #f4a6a6; stroke: #c62828; stroke-width: 2; }}
.op.unknown rect {{ stroke-dasharray: 4 3; fill-opacity: 0.5; }}
.op.failed rect {{ fill: #eee; stroke: #bbb; }}
.gaveup {{ stroke: #000; stroke-width: 2; }}
.cut {{ stroke: #c62828; stroke-width: 1; stroke-dasharray: 6 4; }}
.op.culprit rect {{ stroke: #000; stroke-width: 3; }}
.op:hover rect {{ stroke: #000; stroke-width: 2; }}
.n {{ font-size: 11px; fill: #1b5e20; }}
</style></head>
<body><h3>{title}</h3><p>{summary}. Hover over an operation for its details; time runs left to right (0 to {end}).</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{:.0}" height="{height:.0}">{svg}</svg>
</body></html>
"#,
        left + width + 20.0,
        title = escape(title),
        summary = escape(&summary),
    )
}

impl crate::RunReport {
    /// The page of the key whose history is not linearizable (as
    /// [`history_html`] draws it, the failure narrowed and marked), or
    /// `None` when the history checks (or the check runs out of `budget`).
    #[must_use]
    pub fn history_html(&self, budget: u64) -> Option<String> {
        let crate::Verdict::NotLinearizable(r) = crate::check(&self.history, budget) else {
            return None;
        };
        let all = self.history.operations();
        let ids: Vec<usize> = (0..all.len()).filter(|&i| all[i].key == r.key).collect();
        let pos = |id: usize| ids.binary_search(&id).unwrap_or(0);
        let ops: Vec<ModelOp<crate::Input, crate::Output>> = (ids.iter())
            .map(|&i| {
                let op = &all[i];
                ModelOp {
                    client: op.client,
                    input: op.input,
                    invoked: op.invoked,
                    outcome: match op.completed {
                        Some((time, output)) => Outcome::Returned { time, output },
                        None => Outcome::UNKNOWN,
                    },
                }
            })
            .collect();
        let report = ModelReport {
            part: r.key,
            failed_at: r.failed_at,
            culprit: pos(r.culprit),
            linearized: r.linearized.iter().map(|&i| pos(i)).collect(),
            window: r.window.iter().map(|&i| pos(i)).collect(),
            narrowed: r.narrowed,
        };
        let title = format!(
            "seed {} ({}): key {}, operation numbers are this key's",
            self.seed, self.protocol, r.key
        );
        Some(history_html(
            &crate::linearizability::Register,
            &ops,
            Some(&report),
            &title,
        ))
    }
}
