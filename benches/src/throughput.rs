//! The report's `throughput/` group: the corpus chain Double -> Add(10) ->
//! Format over many integers, JSON lines out to a pipe, each run as a whole
//! process (start-up included), next to the plain CPython script that does
//! the same work (`examples/throughput/plain_chain.py`) measured in the
//! same run. Per configuration: wall time (median of the runs), items per
//! second, CPU per item (user + system, from `wait4`), and context switches
//! per item (voluntary and involuntary: the thread wake-ups and hand-overs
//! the pipeline costs). Each run is followed by one of a single item, whose
//! wall time is the configuration's start-up: the throughput with it taken
//! out compares the per-item work alone (on this machine the Python
//! interpreter starts with a site hook that imports `certifi`, which a
//! whole-process figure would count against the plain script).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nodehost::Runtime;
use serde::{Deserialize, Serialize};

use crate::example;

/// Items per run when the report is not told otherwise.
pub const ITEMS: u64 = 200_000;

/// Measured runs per configuration (the median counts).
pub const RUNS: usize = 5;

/// Items of the runs that measure a configuration's start-up.
const STARTUP_ITEMS: u64 = 1;

/// One way to run the chain.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// The row's name.
    pub name: &'static str,
    /// The manifest under `examples/throughput/` (`None`: the plain script).
    manifest: Option<&'static str>,
    python: Runtime,
    rust: Runtime,
    /// Python nodes as `runtime = "auto"` (`python` is where the choice
    /// is expected to land, for availability).
    auto: bool,
}

/// Every configuration, the plain CPython script first (the reference).
pub const CONFIGS: [Config; 10] = [
    Config { name: "plain CPython script", manifest: None, python: Runtime::Cpython, rust: Runtime::Native, auto: false },
    Config { name: "native-rust", manifest: Some("chain_rust.toml"), python: Runtime::Wasm, rust: Runtime::Native, auto: false },
    Config { name: "wasm-rust", manifest: Some("chain_rust.toml"), python: Runtime::Wasm, rust: Runtime::Wasm, auto: false },
    Config { name: "native-rustpython", manifest: Some("chain_python.toml"), python: Runtime::NativeRustpython, rust: Runtime::Native, auto: false },
    Config { name: "wasm-rustpython", manifest: Some("chain_python.toml"), python: Runtime::Wasm, rust: Runtime::Wasm, auto: false },
    Config { name: "cpython", manifest: Some("chain_python.toml"), python: Runtime::Cpython, rust: Runtime::Native, auto: false },
    Config { name: "wasm-cpython", manifest: Some("chain_python.toml"), python: Runtime::WasmCpython, rust: Runtime::Wasm, auto: false },
    Config { name: "auto", manifest: Some("chain_python.toml"), python: Runtime::Wasm, rust: Runtime::Wasm, auto: true },
    Config { name: "mixed: native Rust + wasm-rustpython", manifest: Some("chain_mixed.toml"), python: Runtime::Wasm, rust: Runtime::Native, auto: false },
    Config { name: "mixed: all sandboxed", manifest: Some("chain_mixed.toml"), python: Runtime::Wasm, rust: Runtime::Wasm, auto: false },
];

/// One configuration, measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThroughputRow {
    pub config: String,
    pub items: u64,
    /// Median wall time of a whole run.
    #[serde(with = "crate::report::nanos", rename = "wall_ns")]
    pub wall: Duration,
    pub items_per_s: f64,
    #[serde(with = "crate::report::nanos", rename = "cpu_per_item_ns")]
    pub cpu_per_item: Duration,
    pub context_switches_per_item: f64,
    /// Throughput over the plain script's in the same run.
    pub vs_plain: Option<f64>,
    /// Median wall time of a run of one item: start-up and shut-down.
    #[serde(default, with = "crate::report::nanos", rename = "startup_ns")]
    pub startup: Duration,
    /// Throughput with each side's start-up taken out (`items - 1` items
    /// over the wall time less the start-up), over the plain script's.
    #[serde(default)]
    pub vs_plain_after_startup: Option<f64>,
    pub error: Option<String>,
}

impl ThroughputRow {
    /// Items per second with the start-up taken out, when the run measured
    /// it (and the work took longer than the start-up alone).
    fn items_per_s_after_startup(&self) -> Option<f64> {
        let work = self.wall.checked_sub(self.startup).filter(|w| !self.startup.is_zero() && !w.is_zero())?;
        Some((self.items.saturating_sub(STARTUP_ITEMS)) as f64 / work.as_secs_f64())
    }
}

/// What one process did.
pub(crate) struct ProcessRun {
    pub wall: Duration,
    pub cpu: Duration,
    pub switches: u64,
    pub bytes: u64,
    /// Peak resident memory, in bytes.
    pub peak_rss: u64,
}

/// Run `command` with its standard output read (and dropped) through a
/// pipe; its wall time and, from `wait4`, its CPU time and context
/// switches.
pub(crate) fn run_process(command: Command) -> Result<ProcessRun, String> {
    run_process_with(command, None, |_| {})
}

/// Writes a child's standard input, on a thread of its own.
pub(crate) type Feeder = Box<dyn FnOnce(std::process::ChildStdin) + Send>;

/// [`run_process`], with `feed` writing the child's standard input (none
/// without it), and each piece of its standard output handed to `output`
/// as it arrives.
pub(crate) fn run_process_with(
    mut command: Command,
    feed: Option<Feeder>,
    mut output: impl FnMut(&[u8]),
) -> Result<ProcessRun, String> {
    let started = Instant::now();
    command.stdin(if feed.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
    let feeding = feed.zip(child.stdin.take()).map(|(feed, stdin)| std::thread::spawn(move || feed(stdin)));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    while let Ok(n) = stdout.read(&mut buf) {
        if n == 0 {
            break;
        }
        bytes += n as u64;
        output(&buf[..n]);
    }
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    let pid = child.id() as libc::pid_t;
    // SAFETY: wait4 reaps our own child and fills the status and usage given.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()) };
    let wall = started.elapsed();
    if let Some(feeding) = feeding {
        let _ = feeding.join();
    }
    if reaped != pid {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: filled by the successful wait4.
    let usage = unsafe { usage.assume_init() };
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let text = errors.join().unwrap_or_default();
        return Err(format!("exit status {status}: {}", text.lines().last().unwrap_or_default()));
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(ProcessRun {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        switches: (usage.ru_nvcsw + usage.ru_nivcsw) as u64,
        bytes,
        peak_rss: usage.ru_maxrss as u64 * 1024,
    })
}

/// The Python interpreter itself, not a launcher in front of it (a pyenv
/// shim, for one, is a shell script that costs ~80 ms per start here, which
/// would count against the plain script).
pub(crate) fn python_interpreter() -> std::path::PathBuf {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .map(|path| path.trim().into())
            .filter(|path: &std::path::PathBuf| path.is_file())
            .unwrap_or_else(|| "python3".into())
    })
    .clone()
}

/// The command that runs `config` over `items` items: the plain script, or
/// this program as a child running the manifest through `nodehost`'s
/// pipeline (what `nodehost run` does).
fn command(config: &Config, items: u64) -> Command {
    match config.manifest {
        None => {
            let mut c = Command::new(python_interpreter());
            c.arg(example("throughput/plain_chain.py")).arg(items.to_string());
            // Buffered output, as a Python program writing to a pipe has it
            // (nodehost buffers its own): a PYTHONUNBUFFERED=1 inherited from
            // the environment would cost the script a write per line.
            c.env_remove("PYTHONUNBUFFERED");
            c
        }
        Some(_) => {
            let mut c = Command::new(std::env::current_exe().expect("the bench's own path"));
            c.arg("--child").arg(format!("throughput:{}:{items}", config.name));
            c
        }
    }
}

/// Measure every available configuration over `items` items: one
/// unmeasured run of each (it fills the compiled-code cache), then [`RUNS`]
/// rounds that run each configuration once, so a drift in this machine's
/// speed falls on all of them alike rather than on whichever ran then.
pub fn measure(items: u64, mut progress: impl FnMut(&str)) -> Vec<ThroughputRow> {
    let configs: Vec<&Config> = CONFIGS.iter().filter(|c| c.python.is_available() && c.rust.is_available()).collect();
    let mut runs: Vec<Result<Vec<(ProcessRun, ProcessRun)>, String>> = configs.iter().map(|_| Ok(Vec::new())).collect();
    for round in 0..=RUNS {
        for (config, result) in configs.iter().zip(&mut runs) {
            let Ok(done) = result else { continue };
            progress(&format!("{} (round {round} of {RUNS})", config.name));
            match run_process(command(config, items)).and_then(|run| Ok((run, run_process(command(config, STARTUP_ITEMS))?))) {
                Ok(pair) if round > 0 => done.push(pair),
                Ok(_) => {}
                Err(e) => *result = Err(e),
            }
        }
    }
    let mut rows: Vec<ThroughputRow> = Vec::new();
    let mut plain: Option<f64> = None;
    let mut plain_after_startup: Option<f64> = None;
    let mut expected_bytes = None;
    for (config, runs) in configs.into_iter().zip(runs) {
        let row = match runs {
            Ok(runs) => {
                let (mut runs, mut starts): (Vec<ProcessRun>, Vec<ProcessRun>) = runs.into_iter().unzip();
                runs.sort_by_key(|r| r.wall);
                starts.sort_by_key(|r| r.wall);
                let median = &runs[runs.len() / 2];
                let startup = starts[starts.len() / 2].wall;
                let bytes = *expected_bytes.get_or_insert(median.bytes);
                let per_item = |d: Duration| d.div_f64(items as f64);
                let items_per_s = items as f64 / median.wall.as_secs_f64();
                if config.manifest.is_none() {
                    plain = Some(items_per_s);
                }
                let mut row = ThroughputRow {
                    config: config.name.into(),
                    items,
                    wall: median.wall,
                    items_per_s,
                    cpu_per_item: per_item(median.cpu),
                    context_switches_per_item: median.switches as f64 / items as f64,
                    vs_plain: plain.map(|p| items_per_s / p),
                    startup,
                    vs_plain_after_startup: None,
                    error: (median.bytes != bytes)
                        .then(|| format!("wrote {} bytes of output, the plain script {bytes}", median.bytes)),
                };
                let after_startup = row.items_per_s_after_startup();
                if config.manifest.is_none() {
                    plain_after_startup = after_startup;
                }
                row.vs_plain_after_startup = after_startup.zip(plain_after_startup).map(|(r, p)| r / p);
                row
            }
            Err(e) => ThroughputRow {
                config: config.name.into(),
                items,
                wall: Duration::ZERO,
                items_per_s: 0.0,
                cpu_per_item: Duration::ZERO,
                context_switches_per_item: 0.0,
                vs_plain: None,
                startup: Duration::ZERO,
                vs_plain_after_startup: None,
                error: Some(e),
            },
        };
        rows.push(row);
    }
    rows
}

/// The child process of one configuration: `NAME:ITEMS`.
pub fn child(spec: &str) {
    let (name, items) = spec.rsplit_once(':').expect("throughput child: NAME:ITEMS");
    let items: u64 = items.parse().expect("throughput child: item count");
    let config = CONFIGS.iter().find(|c| c.name == name).expect("throughput child: unknown configuration");
    let manifest = example(&format!("throughput/{}", config.manifest.expect("a manifest configuration")));
    let permissions = nodehost::manifest::HostPermissions { allow_unsandboxed: true, ..Default::default() };
    let mut pipeline = nodehost::manifest::load_with(&manifest, &permissions).expect("throughput manifest");
    pipeline.set_rust_runtime(config.rust);
    pipeline.input = nodehost::manifest::InputSpec::Sequence { start: 1, count: items, step: 1 };
    let engine = nodehost::WasmEngine::shared().expect("engine");
    if config.auto {
        // As `runtime = "auto"` on every Python node: chosen, trial loads
        // included, before the run, as `nodehost run` does.
        let auto = nodehost::manifest::AutoRuntime { prefer_speed: false, prefer_sandbox: false, trusted: false };
        for node in &mut pipeline.nodes {
            if matches!(node.spec.source, nodehost::NodeSource::Python { .. }) {
                node.auto = Some(auto);
            }
        }
        nodehost::manifest::auto::choose_runtimes(&mut pipeline, &engine, &permissions).expect("auto's choice");
    } else {
        pipeline.set_python_runtime(config.python);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    rt.block_on(nodehost::run_pipeline(&pipeline, engine, &pipeline.output, false)).expect("throughput run");
}
