//! `nodehost`: run pipelines of sandboxed Python and Rust nodes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use nodehost::manifest::{AudioSource, FrameSize, Fuse, HostPermissions, InputSpec, OutputFormat};
use nodehost::{Runtime, SourceKind, WasmEngine};

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
        /// Run every Python node on this runtime.
        #[arg(long, help = python_runtime_help())]
        python_runtime: Option<Runtime>,
        /// Run every built-in Rust node on this runtime.
        #[arg(long, help = rust_runtime_help())]
        rust_runtime: Option<Runtime>,
        /// Write outputs to this file instead of where the manifest says.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Output format: jsonl or text (overrides the manifest).
        #[arg(long, value_parser = parse_format)]
        format: Option<OutputFormat>,
        /// Read JSON lines from standard input instead of the manifest's input.
        #[arg(long, conflicts_with_all = ["wav", "pcm"])]
        stdin: bool,
        /// Read this WAV file (`-`: a WAV stream on standard input) instead
        /// of the manifest's input, in the manifest's audio frames (20 ms
        /// when it has none).
        #[arg(long, value_name = "FILE", conflicts_with = "pcm")]
        wav: Option<PathBuf>,
        /// Read raw PCM from this file (`-`: standard input, e.g. from
        /// `arecord -t raw`) instead of the manifest's input; give its
        /// --sample-rate, and --channels and --encoding when not 1 and s16le.
        #[arg(long, value_name = "FILE", requires = "sample_rate")]
        pcm: Option<PathBuf>,
        /// Sample rate of --pcm input, in Hz.
        #[arg(long, value_name = "HZ", requires = "pcm")]
        sample_rate: Option<u32>,
        /// Channels of --pcm input (default 1).
        #[arg(long, requires = "pcm")]
        channels: Option<u16>,
        /// Sample encoding of --pcm input: s16le (the default) or f32le.
        #[arg(long, requires = "pcm")]
        encoding: Option<String>,
        /// Print per-node statistics to stderr at the end.
        #[arg(long)]
        stats: bool,
        /// Flush the output after every line (for watching it live through
        /// a program that waits for whole lines). Without it, output is
        /// buffered and flushed whenever the pipeline has no newer output
        /// ready, and at the end.
        #[arg(long)]
        line_buffered: bool,
        /// Which chains of nodes share a thread: auto, always or never
        /// (overrides the manifest's `fuse`).
        #[arg(long, value_parser = parse_fuse)]
        fuse: Option<Fuse>,
        /// Let nodes run without the sandbox: nodes the manifest marks
        /// `trusted = true` on the cpython, native-rustpython or native
        /// runtimes, and the --python-runtime / --rust-runtime overrides to
        /// those runtimes. Their code runs with your full rights.
        #[arg(long)]
        allow_unsandboxed: bool,
        /// Let the manifest grant this directory (and everything under it)
        /// to nodes, or write its output there, though it is outside the
        /// manifest's own directory. Repeatable.
        #[arg(long = "allow-dir", value_name = "DIR")]
        allow_dirs: Vec<PathBuf>,
    },
    /// Say where each node of a manifest would run, and why: how
    /// `runtime = "auto"` chooses (trial loads included), without running.
    Plan {
        /// The pipeline manifest (TOML).
        manifest: PathBuf,
        /// As for `run`: lets `auto` choose the un-sandboxed cpython runtime
        /// for trusted nodes no sandbox can run.
        #[arg(long)]
        allow_unsandboxed: bool,
        /// As for `run`. Repeatable.
        #[arg(long = "allow-dir", value_name = "DIR")]
        allow_dirs: Vec<PathBuf>,
    },
    /// Snapshot the Python component with a node module already loaded: a
    /// component that starts ready to create that module's nodes
    /// (name it in a manifest with `component = ...` and `type = "Class"`).
    Bake {
        /// The Python node file or package directory.
        file: PathBuf,
        /// Where to write the component.
        #[arg(long, short)]
        output: PathBuf,
        /// Which sandbox's interpreter to bake: wasm (RustPython) or
        /// wasm-cpython (CPython).
        #[arg(long, default_value = "wasm")]
        runtime: Runtime,
    },
    /// Resolve a Python node's pyproject.toml dependencies with pip into
    /// nodehost.lock (wheels with their SHA-256, kept in .nodehost/wheels),
    /// and check that each imports in the sandbox.
    Lock {
        /// The node's package or project directory (or a node file beside its pyproject.toml).
        path: PathBuf,
        /// Look for wheels here too (pip --find-links). Repeatable.
        #[arg(long = "find-links", value_name = "DIR_OR_URL")]
        find_links: Vec<String>,
        /// Use only --find-links, not the package index.
        #[arg(long)]
        no_index: bool,
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

fn python_runtime_help() -> String {
    format!("Run every Python node on this runtime: {}", Runtime::names_accepting(SourceKind::Python))
}

fn rust_runtime_help() -> String {
    format!("Run every built-in Rust node on this runtime: {}", Runtime::names_accepting(SourceKind::Builtin))
}

fn parse_format(s: &str) -> Result<OutputFormat, String> {
    match s {
        "jsonl" => Ok(OutputFormat::Jsonl),
        "text" => Ok(OutputFormat::Text),
        other => Err(format!("unknown format '{other}' (jsonl, text)")),
    }
}

fn parse_fuse(s: &str) -> Result<Fuse, String> {
    match s {
        "auto" => Ok(Fuse::Auto),
        "always" => Ok(Fuse::Always),
        "never" => Ok(Fuse::Never),
        other => Err(format!("unknown fuse '{other}' (auto, always, never)")),
    }
}

/// mimalloc rather than glibc's malloc: a pipeline allocates an item's
/// values on one thread and frees them on another, and glibc's cross-thread
/// frees cost more per item than the built-in nodes' own work (measured in
/// `docs/bench/`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = cli
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".into());
    // Native Rust nodes log through the `log` facade to the node's log
    // (tagged with the node, within its budget): the SDK's logger must own
    // the facade, so tracing's own `log` bridge is left out (try_init).
    nodehost_sdk::log::install();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .compact()
        .try_init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", nodehost::value::text::escape_controls(&format!("{e:#}"), true));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            manifest,
            python_runtime,
            rust_runtime,
            output,
            format,
            stdin,
            wav,
            pcm,
            sample_rate,
            channels,
            encoding,
            stats,
            line_buffered,
            fuse,
            allow_unsandboxed,
            allow_dirs,
        } => {
            let permissions = HostPermissions { allow_unsandboxed, allowed_dirs: allow_dirs };
            let mut pipeline = nodehost::manifest::load_with(&manifest, &permissions)?;
            for (flag, runtime, kind) in
                [("--python-runtime", python_runtime, SourceKind::Python), ("--rust-runtime", rust_runtime, SourceKind::Builtin)]
            {
                let Some(runtime) = runtime else { continue };
                if !runtime.accepts(kind) {
                    anyhow::bail!("{flag} {runtime}: that runtime cannot run {} (use one of: {})", kind.describe(), Runtime::names_accepting(kind));
                }
                if !runtime.is_sandboxed() && !allow_unsandboxed {
                    anyhow::bail!("{flag} {runtime} runs nodes without the sandbox, with your full rights; add --allow-unsandboxed to mean it");
                }
            }
            if let Some(r) = python_runtime {
                pipeline.set_python_runtime(r);
            }
            if let Some(r) = rust_runtime {
                pipeline.set_rust_runtime(r);
            }
            if stdin {
                pipeline.input = InputSpec::Stdin;
            }
            let frame = match pipeline.input {
                InputSpec::Audio { frame, .. } => frame,
                _ => FrameSize::Millis(20.0),
            };
            let stdin_or = |path: PathBuf| (path.as_os_str() != "-").then_some(path);
            if let Some(path) = wav {
                let source = stdin_or(path).map_or(AudioSource::WavStdin, AudioSource::WavFile);
                pipeline.input = InputSpec::Audio { source, frame };
            }
            if let Some(path) = pcm {
                let format = nodehost::manifest::PcmFormat::new(sample_rate, channels, encoding.as_deref()).context("--pcm")?;
                pipeline.input = InputSpec::Audio { source: AudioSource::Pcm { path: stdin_or(path), format }, frame };
            }
            if let Some(fuse) = fuse {
                pipeline.fuse = fuse;
            }
            let mut out = pipeline.output.clone();
            if let Some(path) = output {
                out.file = Some(path);
            }
            if let Some(f) = format {
                out.format = f;
            }
            let engine = WasmEngine::shared()?;
            for choice in nodehost::manifest::auto::choose_runtimes(&mut pipeline, &engine, &permissions)? {
                if choice.auto {
                    tracing::info!(node = %choice.node, "runs on '{}': {}", choice.runtime, choice.reason);
                }
            }
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let report =
                runtime.block_on(async { nodehost::pipeline::run_pipeline(&pipeline, engine, &out, line_buffered).await })?;
            if stats {
                eprint!("{report}");
            }
            Ok(())
        }
        Command::Plan { manifest, allow_unsandboxed, allow_dirs } => {
            let permissions = HostPermissions { allow_unsandboxed, allowed_dirs: allow_dirs };
            let mut pipeline = nodehost::manifest::load_with(&manifest, &permissions)?;
            let engine = WasmEngine::shared()?;
            let choices = nodehost::manifest::auto::choose_runtimes(&mut pipeline, &engine, &permissions)?;
            let width = choices.iter().map(|c| c.node.len()).max().unwrap_or(0).max(4);
            println!("{:width$}  {:17}  why", "node", "runtime");
            for c in choices {
                println!("{:width$}  {:17}  {}", c.node, c.runtime.as_str(), c.reason);
            }
            Ok(())
        }
        Command::Bake { file, output, runtime } => {
            let started = std::time::Instant::now();
            let engine = WasmEngine::shared()?;
            anyhow::ensure!(
                runtime.is_sandboxed(),
                "--runtime {runtime}: bake makes a sandboxed component; use wasm (RustPython) or wasm-cpython (CPython)"
            );
            let size = nodehost::tools::bake::bake_for(&engine, runtime, &file, &output)?;
            eprintln!(
                "baked {} into {} ({} MB) in {:.1} s",
                file.display(),
                output.display(),
                size >> 20,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Lock { path, find_links, no_index } => {
            let engine = WasmEngine::shared()?;
            let options = nodehost::package::lock::LockOptions { find_links, no_index };
            let report = nodehost::tools::lock::lock(&engine, &path, &options)?;
            for wheel in &report.lock.wheels {
                let note = if wheel.pure { "" } else { " (native: not for the sandbox)" };
                eprintln!("locked {} {} sha256:{}{note}", wheel.name, wheel.version, wheel.sha256);
            }
            for refused in &report.refused {
                eprintln!("refused for the sandbox: {refused}");
            }
            eprintln!(
                "bundle: {} modules, {} KiB (what the node carries into the sandbox, in memory)",
                report.bundle_modules,
                report.bundle_bytes.div_ceil(1024)
            );
            let root = if path.is_dir() { path.as_path() } else { path.parent().unwrap_or(std::path::Path::new(".")) };
            eprintln!("wrote {}", root.join(nodehost::package::lock::LOCK_FILE).display());
            Ok(())
        }
        Command::Compat { out } => {
            let engine = WasmEngine::shared()?;
            let runtimes: Vec<Runtime> =
                Runtime::ALL.into_iter().filter(|r| r.accepts(SourceKind::Python) && r.is_available()).collect();
            let matrix = nodehost::on_node_thread(|| nodehost::tools::compat::run(&engine, &runtimes))?;
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            std::fs::write(out.join("compat.md"), matrix.markdown())?;
            std::fs::write(out.join("compat.json"), serde_json::to_string_pretty(&matrix.json())?)?;
            print!("{}", matrix.markdown());
            eprintln!("wrote {0}/compat.md and {0}/compat.json", out.display());
            Ok(())
        }
        Command::Types { file } => {
            let engine = WasmEngine::shared()?;
            let types = nodehost::tools::types::node_types(&engine, file.as_deref())
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
