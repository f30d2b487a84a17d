//! Runs the discrete-event simulation for every picker, prints a
//! markdown table and draws the latency distributions as a PNG.
//!
//! ```text
//! cargo run --release -p synod-lb-bench --bin lb_report -- [--seed N] [--png docs/lb-latency.png] [--font PATH]
//! ```

use std::process::ExitCode;

use plotters::prelude::*;
use synod_lb_bench::{Report, Scenario, run_all};

fn main() -> ExitCode {
    let mut seed = 1;
    let mut png = None;
    let mut font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next();
        match (flag.as_str(), value) {
            ("--seed", Some(v)) => seed = v.parse().unwrap_or(1),
            ("--png", Some(v)) => png = Some(v),
            ("--font", Some(v)) => font = v,
            (other, _) => {
                eprintln!("unknown or incomplete flag {other}");
                return ExitCode::from(2);
            }
        }
    }
    let scenario = Scenario::standard(seed);
    let reports = run_all(&scenario);
    print_table(&scenario, &reports);
    if let Some(path) = png {
        if let Err(e) = draw(&path, &font, &reports) {
            eprintln!("could not draw {path}: {e}");
            return ExitCode::FAILURE;
        }
        println!("\nwrote {path}");
    }
    ExitCode::SUCCESS
}

fn print_table(s: &Scenario, reports: &[Report]) {
    println!(
        "{} servers, {} workers each, {:.0} req/s for {} s, seed {}; server {} turns {}x slower at {} s, server {} fails {:.0} %\n",
        s.service_ms.len(),
        s.workers,
        s.arrivals_per_s,
        s.duration.as_secs(),
        s.seed,
        s.slow_server,
        s.slow_factor,
        s.slow_from.as_secs(),
        s.failing_server,
        s.failure_rate * 100.0
    );
    println!(
        "| picker | p50 ms | p99 ms | p99.9 ms | errors | slow server's share after slowdown | failing server's share |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in reports {
        println!(
            "| {} | {:.2} | {:.1} | {:.1} | {:.2} % | {:.2} % | {:.2} % |",
            r.name,
            r.quantile_ms(0.5),
            r.quantile_ms(0.99),
            r.quantile_ms(0.999),
            r.error_rate() * 100.0,
            r.share_after_slowdown(s.slow_server) * 100.0,
            r.share(s.failing_server) * 100.0,
        );
    }
}

/// The complementary CDF of latency (log-log): the share of requests
/// slower than x, per picker.
fn draw(path: &str, font_path: &str, reports: &[Report]) -> Result<(), Box<dyn std::error::Error>> {
    let bytes: &'static [u8] = Box::leak(std::fs::read(font_path)?.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| "not a font file")?;
    let root = BitMapBackend::new(path, (1200, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let max_ms = reports
        .iter()
        .map(|r| r.quantile_ms(1.0))
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "synod-lb: latency tail per picker (20 servers, one 10x slower midway, one failing 30 %)",
            ("sans-serif", 22),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d((0.5f64..max_ms * 1.2).log_scale(), (1e-5f64..1.0).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("latency (ms)")
        .y_desc("share of requests slower")
        .label_style(("sans-serif", 16))
        .draw()?;
    let shown = [
        "round robin",
        "weighted random",
        "EDF WRR",
        "least request (P2C)",
        "least request (exact)",
        "peak-EWMA P2C",
        "Maglev + bounded 1.25",
    ];
    for (k, r) in reports
        .iter()
        .filter(|r| shown.contains(&r.name.as_str()))
        .enumerate()
    {
        let color = Palette99::pick(k).stroke_width(3);
        let n = r.latencies_ns.len() as f64;
        // 400 points spaced evenly in log(share slower).
        let points: Vec<(f64, f64)> = (0..400)
            .map(|i| {
                let slower = 10f64.powf(-5.0 * i as f64 / 399.0);
                let q = 1.0 - slower;
                (r.quantile_ms(q).max(0.5), slower.max(1.0 / n))
            })
            .collect();
        chart
            .draw_series(LineSeries::new(points, color))?
            .label(&r.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 25, y)], color));
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 18))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}
