//! Synod's replicated key-value store beside etcd, as separate processes
//! with fsync'd logs on the same file system, under the same load in one
//! run; and the load generator itself, for any endpoint of either kind.
//!
//! ```sh
//! bash examples/kv_bench.sh                 # installs etcd-server if missing, then `compare`
//! cargo run --release --example kv_bench -- compare --seconds 10 --chart docs/kv-bench.png
//! cargo run --release --example kv_bench -- load --kind synod --url http://127.0.0.1:8080 --clients 64
//! ```
//! `compare` starts three Synod kv replicas (this binary, `node`) and
//! three etcd 3.4 members on loopback, measures the disk's own
//! write+fdatasync latency, then drives each system's leader with 1, 16,
//! 64 and 256 clients, 100% writes and 90% reads / 10% writes, 256-byte
//! values over 1,000 keys: Synod through `PUT /kv/KEY` and linearizable
//! `GET /kv/KEY`, etcd through its JSON gateway (`/v3/kv/put`,
//! `/v3/kv/range`, linearizable by default, base64 keys and values). It
//! prints a table (and JSON with `--json`), draws throughput against p99
//! (`--chart`), and stops every process it started, on failure and on
//! Ctrl-C too.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::json;
use synod_examples::etcd::EtcdCluster;
use synod_examples::kvstore::cli;
use synod_examples::kvstore::cluster::Cluster;
use synod_examples::load::{
    Endpoint, HEADER, Kind, LoadArgs, Outcome, drive, fsync_floor, preload,
};

#[derive(Debug, Parser)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Drive one endpoint and report.
    Load {
        /// What serves it.
        #[arg(long, value_enum)]
        kind: Kind,
        /// Its base URL (the leader's, for the numbers to mean anything).
        #[arg(long)]
        url: String,
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        #[command(flatten)]
        load: LoadArgs,
        /// Percent of operations that write (the rest read).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(0..=100))]
        writes: u8,
    },
    /// Start both systems and run the whole comparison.
    Compare {
        #[command(flatten)]
        load: LoadArgs,
        /// Client counts to run.
        #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
        clients: Vec<usize>,
        /// The etcd binary.
        #[arg(long, default_value = "/usr/bin/etcd")]
        etcd: String,
        /// Synod's consensus protocol.
        #[arg(long, default_value = "raft", value_parser = ["raft", "paxos"])]
        protocol: String,
        /// Where the data directories go (a fresh temporary one by default).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Write every result as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Draw throughput against p99 here (PNG).
        #[arg(long)]
        chart: Option<PathBuf>,
        /// A TrueType font for the chart's text.
        #[arg(
            long,
            default_value = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
        )]
        font: String,
    },
}

async fn each_load(ep: &Endpoint, clients: &[usize], load: &LoadArgs) -> Vec<Outcome> {
    let mut out = Vec::new();
    for writes in [100, 10] {
        for &c in clients {
            let ep = ep.for_clients(c);
            let o = drive(&ep, c, writes, load).await;
            eprintln!("{}", o.row());
            out.push(o);
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn compare(
    load: &LoadArgs,
    clients: &[usize],
    etcd: &str,
    protocol: &str,
    dir: &Path,
    json_out: Option<&Path>,
    chart: Option<&Path>,
    font: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let floor = fsync_floor(dir)?;
    let disk = format!(
        "the disk, 256-byte write+fdatasync: appending {:.0}/s, p50 {:.3} ms; preallocated {:.0}/s, p50 {:.3} ms",
        floor.append_per_sec,
        floor.append_p50_ms,
        floor.preallocated_per_sec,
        floor.preallocated_p50_ms
    );
    eprintln!("{disk}");
    let mut results = Vec::new();

    // Synod: three replicas as processes of this binary.
    let exe = std::env::current_exe()?;
    let synod_dir = dir.join("synod");
    std::fs::create_dir_all(&synod_dir)?;
    let mut cluster = Cluster::start(&exe, &["node", "--protocol", protocol], &synod_dir, 3)?;
    let leader = (cluster.leader(None, Duration::from_secs(20)).await).ok_or("no Synod leader")?;
    let url = format!("http://{}", cluster.http_addr(leader).ok_or("no address")?);
    let ep = Endpoint::new(Kind::Synod, &url, 16)?;
    preload(&ep, load).await?;
    results.extend(each_load(&ep, clients, load).await);
    cluster.stop_all();

    // etcd: three members of Debian's etcd-server.
    let etcd_dir = dir.join("etcd");
    std::fs::create_dir_all(&etcd_dir)?;
    let mut members = EtcdCluster::start(etcd, &etcd_dir)
        .map_err(|e| format!("{etcd} does not start (apt-get install etcd-server): {e}"))?;
    let http = reqwest::Client::new();
    members.ready(&http).await?;
    let url = members.leader(&http).await?;
    let ep = Endpoint::new(Kind::Etcd, &url, 16)?;
    preload(&ep, load).await?;
    results.extend(each_load(&ep, clients, load).await);
    members.stop();

    println!("{disk}\n");
    println!("{HEADER}");
    for r in &results {
        println!("{}", r.row());
    }
    if let Some(path) = json_out {
        let doc = json!({ "disk": floor, "runs": results });
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)?;
    }
    if let Some(path) = chart {
        draw(path, font, &results)?;
        println!("\nchart: {}", path.display());
    }
    Ok(())
}

/// Throughput against p99 for each system and mix, a point per client
/// count.
fn draw(path: &Path, font: &str, results: &[Outcome]) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let bytes: &'static [u8] = Box::leak(std::fs::read(font)?.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| "not a font file")?;
    let root = BitMapBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    for (panel, writes) in panels.iter().zip([100u8, 10]) {
        let mine: Vec<&Outcome> = results
            .iter()
            .filter(|o| o.writes_percent == writes)
            .collect();
        let x_max = mine.iter().map(|o| o.ops_per_sec).fold(1.0, f64::max) * 1.1;
        let y_max = mine.iter().map(|o| o.p99_ms).fold(1.0, f64::max) * 1.1;
        let title = if writes == 100 {
            "100% writes"
        } else {
            "90% reads, 10% writes"
        };
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{title}, 256-byte values"), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc("operations per second")
            .y_desc("p99 latency, ms")
            .label_style(("sans-serif", 13))
            .draw()?;
        for (system, color) in [("Synod", BLUE), ("etcd 3.4", RED)] {
            let points: Vec<(f64, f64, usize)> = (mine.iter())
                .filter(|o| o.system == system)
                .map(|o| (o.ops_per_sec, o.p99_ms, o.clients))
                .collect();
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|&(x, y, _)| (x, y)),
                    color.stroke_width(2),
                ))?
                .label(system)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
            chart.draw_series(points.iter().map(|&(x, y, c)| {
                EmptyElement::at((x, y))
                    + Circle::new((0, 0), 4, color.filled())
                    + Text::new(format!("{c}"), (6, -14), ("sans-serif", 12))
            }))?;
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .label_font(("sans-serif", 14))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let words: Vec<String> = std::env::args().skip(1).collect();
    if words.first().map(String::as_str) == Some("node") {
        return cli::run_node(words.into_iter().skip(1));
    }
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match args.command {
            Cmd::Load {
                kind,
                url,
                clients,
                load,
                writes,
            } => {
                let ep = Endpoint::new(kind, &url, clients)?;
                let o = drive(&ep, clients, writes, &load).await;
                println!("{HEADER}\n{}", o.row());
                println!("{}", serde_json::to_string(&o)?);
                Ok(())
            }
            Cmd::Compare {
                load,
                clients,
                etcd,
                protocol,
                dir,
                json,
                chart,
                font,
            } => {
                let temp = tempfile::tempdir()?;
                let dir = dir.unwrap_or_else(|| temp.path().to_path_buf());
                eprintln!("data directories under {}", dir.display());
                // Ctrl-C ends the run the ordinary way, so every process
                // it started is stopped (the clusters stop when dropped).
                tokio::select! {
                    r = compare(&load, &clients, &etcd, &protocol, &dir, json.as_deref(), chart.as_deref(), &font) => r,
                    _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
                }
            }
        }
    })
}
