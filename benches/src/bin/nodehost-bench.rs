//! `nodehost-bench`: runs a quick version of the whole benchmark suite
//! (every scenario on every runtime, plus start-up and memory) and writes
//! `results.json`, `report.md` and `chart.svg`. `cargo bench` runs the full
//! criterion suite instead.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use nodehost_benches::report::{self, Options};

#[derive(Parser)]
#[command(about = "Run the nodehost benchmark suite quickly and write a report")]
struct Cli {
    /// Seconds of measurement per scenario and runtime.
    #[arg(long, default_value_t = 0.3)]
    seconds: f64,
    /// A fixed number of iterations per case instead of a time budget.
    #[arg(long)]
    iterations: Option<u64>,
    /// Only scenarios whose name contains this (e.g. `marshal`).
    #[arg(long)]
    filter: Option<String>,
    /// Print detailed statistics for every case as it finishes.
    #[arg(long)]
    detailed: bool,
    /// Where to write results.json, report.md and chart.svg.
    #[arg(long, short, default_value = "target/bench-report")]
    out: PathBuf,
    /// Also put the headline table into this README (between its
    /// `<!-- bench:start -->` and `<!-- bench:end -->` markers).
    #[arg(long)]
    update_readme: Option<PathBuf>,
    /// Items per run of the throughput/ processes (0 leaves them out).
    #[arg(long, default_value_t = nodehost_benches::throughput::ITEMS)]
    throughput_items: u64,
    /// Leave out the voice/ group (the voice example over its test set;
    /// about two minutes, and it needs scripts/setup-voice.sh).
    #[arg(long)]
    no_voice: bool,
    /// Internal: the child process of the start-up measurements.
    #[arg(long, hide = true)]
    child: Option<String>,
    /// Internal: the child process that measures one case.
    #[arg(long, hide = true, requires = "child_runtime")]
    child_case: Option<String>,
    #[arg(long, hide = true)]
    child_runtime: Option<String>,
}

/// The allocator the `nodehost` program runs with (see its `main.rs`), so
/// the pipelines measured here, the throughput children included, allocate
/// as a `nodehost run` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(which) = cli.child {
        report::child(&which);
        return Ok(());
    }
    if let (Some(case), Some(runtime)) = (&cli.child_case, &cli.child_runtime) {
        let options = Options {
            time_per_case: Duration::from_secs_f64(cli.seconds),
            iterations: cli.iterations,
            filter: None,
            detailed: false,
            out: cli.out,
            throughput_items: 0,
            voice: false,
        };
        report::child_case(case, runtime, &options);
        return Ok(());
    }
    let options = Options {
        time_per_case: Duration::from_secs_f64(cli.seconds),
        iterations: cli.iterations,
        filter: cli.filter,
        detailed: cli.detailed,
        out: cli.out,
        throughput_items: cli.throughput_items,
        voice: !cli.no_voice,
    };
    let report = nodehost::on_node_thread(|| report::run(&options));
    report.write(&options.out)?;
    println!("{}", report.headline());
    eprintln!("wrote {}/results.json, report.md and chart.svg", options.out.display());
    if let Some(readme) = cli.update_readme {
        report::update_readme(&readme, &report.headline())?;
        eprintln!("updated {}", readme.display());
    }
    Ok(())
}
