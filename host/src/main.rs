//! `nodehost`: run pipelines of sandboxed Python and Rust nodes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use nodehost::manifest::OutputFormat;
use nodehost::{Runtime, WasmEngine};

#[derive(Parser)]
#[command(name = "nodehost", version, about = "Run pipelines of Python and Rust nodes, each in its own WebAssembly sandbox")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log filter (tracing syntax, e.g. `info` or `nodehost=debug`); `RUST_LOG` also works.
    #[arg(long, global = true)]
    log: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the pipeline a manifest describes.
    Run {
        /// The pipeline manifest (TOML).
        manifest: PathBuf,
        /// Run every Python node on this runtime: wasm, native-rustpython or cpython.
        #[arg(long)]
        python_runtime: Option<Runtime>,
        /// Run every built-in Rust node on this runtime: wasm or native.
        #[arg(long)]
        rust_runtime: Option<Runtime>,
        /// Write outputs to this file instead of where the manifest says.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Output format: jsonl or text (overrides the manifest).
        #[arg(long, value_parser = parse_format)]
        format: Option<OutputFormat>,
        /// Read JSON lines from standard input instead of the manifest's input.
        #[arg(long)]
        stdin: bool,
        /// Print per-node statistics to stderr at the end.
        #[arg(long)]
        stats: bool,
    },
    /// Snapshot the Python component with a node module already loaded: a
    /// component that starts ready to create that module's nodes
    /// (name it in a manifest with `component = ...` and `type = "Class"`).
    Bake {
        /// The Python node file.
        file: PathBuf,
        /// Where to write the component.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Check which standard-library modules import and behave on each
    /// Python runtime; writes compat.md and compat.json.
    Compat {
        /// Where to write compat.md and compat.json.
        #[arg(long, short, default_value = "target/compat")]
        out: PathBuf,
    },
    /// List the node types of a Python file, a component, or the built-in Rust nodes.
    Types {
        /// A Python node file or a component (.wasm); the built-in Rust nodes if left out.
        file: Option<PathBuf>,
    },
}

fn parse_format(s: &str) -> Result<OutputFormat, String> {
    match s {
        "jsonl" => Ok(OutputFormat::Jsonl),
        "text" => Ok(OutputFormat::Text),
        other => Err(format!("unknown format '{other}' (jsonl, text)")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = cli
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .compact()
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run { manifest, python_runtime, rust_runtime, output, format, stdin, stats } => {
            let mut pipeline = nodehost::manifest::load(&manifest)?;
            if let Some(r) = python_runtime {
                pipeline.set_python_runtime(r);
            }
            if let Some(r) = rust_runtime {
                pipeline.set_rust_runtime(r);
            }
            if stdin {
                pipeline.input = nodehost::manifest::InputSpec::Stdin;
            }
            let mut out = pipeline.output.clone();
            if let Some(path) = output {
                out.file = Some(path);
            }
            if let Some(f) = format {
                out.format = f;
            }
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let report = runtime.block_on(async {
                let engine = WasmEngine::shared()?;
                nodehost::pipeline::run_pipeline(&pipeline, engine, &out).await
            })?;
            if stats {
                eprint!("{report}");
            }
            Ok(())
        }
        Command::Bake { file, output } => {
            let source = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let name = file.display().to_string();
            let started = std::time::Instant::now();
            let baked = nodehost::on_node_thread(|| nodehost::snapshot::snapshot_python(nodehost_artifacts::PYTHON.bytes, Some((&name, &source))))?;
            std::fs::write(&output, &baked).with_context(|| format!("writing {}", output.display()))?;
            eprintln!("baked {} into {} ({} MB) in {:.1} s", file.display(), output.display(), baked.len() >> 20, started.elapsed().as_secs_f64());
            // Compile it now, so the first run that uses it starts at once.
            let engine = WasmEngine::shared()?;
            engine.load_file(&output, engine.default_kind())?;
            Ok(())
        }
        Command::Compat { out } => {
            let engine = WasmEngine::shared()?;
            let runtimes: Vec<Runtime> =
                [Runtime::Wasm, Runtime::WasmCpython, Runtime::NativeRustpython, Runtime::Cpython].into_iter().filter(|r| r.is_available()).collect();
            let matrix = nodehost::on_node_thread(|| nodehost::compat::run(&engine, &runtimes))?;
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            std::fs::write(out.join("compat.md"), matrix.markdown())?;
            std::fs::write(out.join("compat.json"), serde_json::to_string_pretty(&matrix.json())?)?;
            print!("{}", matrix.markdown());
            eprintln!("wrote {0}/compat.md and {0}/compat.json", out.display());
            Ok(())
        }
        Command::Types { file } => {
            let engine = WasmEngine::shared()?;
            let types = nodehost::describe::node_types(&engine, file.as_deref())
                .with_context(|| format!("listing node types of {}", file.as_deref().map_or("the built-in Rust nodes".into(), |p| p.display().to_string())))?;
            for t in types {
                let flags = if t.streaming { " (streaming)" } else { "" };
                println!("{}{flags}: {}", t.name, t.description);
                for p in &t.params {
                    let default = match &p.default {
                        Some(d) => format!(" = {d}"),
                        None if p.required => " (required)".into(),
                        None => String::new(),
                    };
                    let about = if p.description.is_empty() { String::new() } else { format!(": {}", p.description) };
                    println!("    {}{default}{about}", p.name);
                }
            }
            Ok(())
        }
    }
}
