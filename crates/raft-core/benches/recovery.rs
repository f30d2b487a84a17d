//! Draws docs/paxos-recovery.png: ticks from the cut until a proposal made
//! after it commits, per partial-connectivity scenario, Multi-Paxos beside
//! raft-core (the scenarios of crates/paxos-core/tests/partial_connectivity.rs,
//! included here unchanged), and prints the table.
//!
//! ```text
//! cargo run --release -p synod-raft-core-bench --bin paxos_recovery -- [--png docs/paxos-recovery.png] [--font PATH]
//! ```

use std::process::ExitCode;

use plotters::prelude::*;

#[allow(dead_code)]
#[path = "../../paxos-core/tests/partial_connectivity.rs"]
mod scenarios;

use scenarios::{
    BUDGET, Paxos, Raft, chained, constrained_election, paxos_options, quorum_loss, raft_options,
};

/// Median of the outcomes, `None` (stuck) counted as past the budget.
fn median(outcomes: &[Option<u64>]) -> Option<u64> {
    let mut v: Vec<u64> = outcomes.iter().map(|o| o.unwrap_or(u64::MAX)).collect();
    v.sort_unstable();
    let m = v[v.len() / 2];
    (m != u64::MAX).then_some(m)
}

fn main() -> ExitCode {
    let mut png = None;
    let mut font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--png", Some(v)) => png = Some(v),
            ("--font", Some(v)) => font = v,
            (other, _) => {
                eprintln!("unknown or incomplete flag {other}");
                return ExitCode::from(2);
            }
        }
    }
    let seeds = 1..=5u64;
    let rows: Vec<Row<'_>> = vec![
        (
            "quorum loss",
            seeds
                .clone()
                .map(|s| quorum_loss::<Paxos>(&paxos_options(), s))
                .collect(),
            seeds
                .clone()
                .map(|s| quorum_loss::<Raft>(&raft_options(), s))
                .collect(),
        ),
        (
            "constrained election",
            seeds
                .clone()
                .map(|s| constrained_election::<Paxos>(&paxos_options(), s))
                .collect(),
            seeds
                .clone()
                .map(|s| constrained_election::<Raft>(&raft_options(), s))
                .collect(),
        ),
        (
            "chained",
            seeds
                .clone()
                .map(|s| chained::<Paxos>(&paxos_options(), s))
                .collect(),
            seeds
                .clone()
                .map(|s| chained::<Raft>(&raft_options(), s))
                .collect(),
        ),
    ];
    println!("| scenario | Multi-Paxos (median ticks) | raft-core (median ticks) |");
    println!("|---|---:|---:|");
    let show = |m: Option<u64>| m.map_or_else(|| "stuck".to_string(), |t| t.to_string());
    for (name, p, r) in &rows {
        println!("| {name} | {} | {} |", show(median(p)), show(median(r)));
    }
    if let Some(path) = png {
        if let Err(e) = draw(&path, &font, &rows) {
            eprintln!("could not draw {path}: {e}");
            return ExitCode::FAILURE;
        }
        println!("\nwrote {path}");
    }
    ExitCode::SUCCESS
}

/// A scenario, then each protocol's outcomes over the seeds.
type Row<'a> = (&'a str, Vec<Option<u64>>, Vec<Option<u64>>);
type Rows<'a> = [Row<'a>];

fn draw(path: &str, font_path: &str, rows: &Rows<'_>) -> Result<(), Box<dyn std::error::Error>> {
    let bytes: &'static [u8] = Box::leak(std::fs::read(font_path)?.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| "not a font file")?;
    let root = BitMapBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = BUDGET as f64 * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Recovery after partial connectivity: ticks until a new proposal commits (median of 5 seeds)",
            ("sans-serif", 20),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..rows.len() as f64, 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(rows.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let k = x.floor() as usize;
            if (x - x.floor() - 0.5).abs() < 0.01 {
                rows.get(k).map_or(String::new(), |r| r.0.to_string())
            } else {
                String::new()
            }
        })
        .y_desc("ticks (election timeout: 10)")
        .label_style(("sans-serif", 16))
        .draw()?;
    let paxos = RGBColor(31, 119, 180);
    let raft = RGBColor(214, 39, 40);
    for (k, (_, p, r)) in rows.iter().enumerate() {
        let x = k as f64;
        for (offset, outcomes, color) in [(0.15, p, paxos), (0.5, r, raft)] {
            let m = median(outcomes);
            let h = m.map_or(BUDGET as f64, |t| t as f64);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x + offset, 0.0), (x + offset + 0.3, h)],
                color.filled(),
            )))?;
            let label = m.map_or_else(|| "stuck".to_string(), |t| t.to_string());
            chart.draw_series(std::iter::once(Text::new(
                label,
                (x + offset + 0.05, h + top * 0.02),
                ("sans-serif", 16),
            )))?;
        }
    }
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(0.0, 0.0), (0.0, 0.0)],
            paxos.filled(),
        )))?
        .label("synod-paxos-core")
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], paxos.filled()));
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(0.0, 0.0), (0.0, 0.0)],
            raft.filled(),
        )))?
        .label("synod-raft-core (pre-vote, check-quorum)")
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], raft.filled()));
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}
