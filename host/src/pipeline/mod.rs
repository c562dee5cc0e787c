//! Running a [`Pipeline`]: its nodes on threads (each node created on the
//! thread that runs it, so runtimes that are not `Send` work), a linear
//! chain of nodes fused onto one thread ([`groups`]), the threads connected
//! by channels that carry batches and are bounded by items and by bytes
//! (backpressure). The input is fed by an async task; the outputs are
//! written by the sink nodes' own threads ([`output`]), flushed whenever
//! the thread that wrote has nothing more queued.
//! At end of stream every node is flushed, upstream before downstream. The
//! first node to fail stops the run, and the error names the node, the item
//! and the failure.

mod channel;
mod groups;
mod input;
mod output;
pub mod stats;
mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use nodehost_sdk::Value;
use tokio::sync::{mpsc, oneshot};

pub use self::channel::{CHANNEL_BYTES, host_size};
pub use self::input::{InputBatch, spawn_input};
use self::input::Source;
pub use self::output::{format_output, write_output};
use self::output::{OutputWriter, Written};
use self::stats::{NodeStats, RunReport};
use self::worker::{GroupWorker, Member};
use crate::error::{Error, NodeFailure, Stage};
use crate::manifest::{InputSpec, OutputSpec, Pipeline, Upstream};
use crate::node::NODE_THREAD_STACK;
use crate::sandbox::WasmEngine;

/// How many failed items a run keeps for its report (the rest are counted).
pub const MAX_KEPT_FAILURES: usize = 1000;

/// How many items wait in each channel between nodes (and at most
/// [`CHANNEL_BYTES`] of them).
pub const CHANNEL_CAPACITY: usize = 4096;

/// The largest batch a thread takes from its channel at once, and the
/// largest batch the input is read in. Larger batches did not move items
/// faster, and buffers of more than about 64 KiB made the allocator hand
/// memory back to the system and fault it in again (a tenth of a cheap
/// sandboxed chain's time, at 4096).
pub const BATCH_ITEMS: usize = 1024;

/// How many batches of outputs wait for [`run_collect`]'s collector (which
/// keeps every output anyway: the bound only paces the sink threads).
const COLLECTED_BATCHES: usize = 256;

/// One item leaving the pipeline: which sink node gave it, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The id of the sink node that gave the value (shared by all its
    /// outputs).
    pub node: Arc<str>,
    /// The value.
    pub value: Value,
}

/// Where the sink nodes' outputs go.
#[derive(Clone)]
pub(crate) enum Sink {
    /// In batches, to whoever holds the receiver ([`run`]).
    Channel(mpsc::Sender<Vec<Output>>),
    /// Written as lines by the sink nodes' threads ([`run_pipeline`]).
    Writer(Arc<OutputWriter>),
}

/// Shared by the node threads of one run: the first error, and whether the
/// run is stopping.
#[derive(Default)]
pub(crate) struct RunState {
    pub(crate) failed: AtomicBool,
    pub(crate) first_error: Mutex<Option<Error>>,
    /// Items that failed without stopping the run: the first
    /// [`MAX_KEPT_FAILURES`]...
    pub(crate) skipped: Mutex<Vec<Error>>,
    /// ...and how many more there were.
    pub(crate) not_kept: std::sync::atomic::AtomicU64,
}

impl RunState {
    /// Keep an item's failure for the report, up to [`MAX_KEPT_FAILURES`];
    /// past that only count it, so a run that fails every item keeps
    /// bounded memory.
    pub(crate) fn skip(&self, e: Error) {
        let mut skipped = self.skipped.lock().expect("failures lock");
        if skipped.len() < MAX_KEPT_FAILURES {
            skipped.push(e);
        } else {
            self.not_kept.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn fail(&self, e: Error) {
        let mut first = self.first_error.lock().expect("error lock");
        if first.is_none() {
            *first = Some(e);
        }
        self.failed.store(true, Ordering::SeqCst);
    }
}

/// Run `pipeline` with inputs from `inputs` (in batches, as [`spawn_input`]
/// reads them) and outputs, in batches, into `outputs`. Returns when every
/// node has finished (or the first one failed).
pub async fn run(
    pipeline: &Pipeline,
    engine: Arc<WasmEngine>,
    inputs: mpsc::Receiver<InputBatch>,
    outputs: mpsc::Sender<Vec<Output>>,
) -> Result<RunReport, Error> {
    run_into(pipeline, engine, Source::Read(inputs), Sink::Channel(outputs)).await
}

/// [`run`], with the outputs going to `outputs`.
async fn run_into(
    pipeline: &Pipeline,
    engine: Arc<WasmEngine>,
    inputs: Source,
    outputs: Sink,
) -> Result<RunReport, Error> {
    let started = Instant::now();
    let n = pipeline.nodes.len();
    let state = Arc::new(RunState::default());
    let sinks = pipeline.sinks();
    let groups = groups::thread_groups(pipeline);
    announce_rights(pipeline);

    // One input channel per thread, into its first node; each upstream of
    // that node gets a sender to it.
    let (senders, receivers): (Vec<_>, Vec<_>) =
        groups.iter().map(|_| channel::channel(CHANNEL_CAPACITY, BATCH_ITEMS, CHANNEL_BYTES)).unzip();
    let mut source_targets = Vec::new();
    let mut downstream: Vec<Vec<channel::Sender>> = (0..n).map(|_| Vec::new()).collect();
    for (g, group) in groups.iter().enumerate() {
        for up in &pipeline.nodes[group[0]].inputs {
            match *up {
                Upstream::Input => source_targets.push(senders[g].clone()),
                Upstream::Node(j) => downstream[j].push(senders[g].clone()),
            }
        }
    }
    drop(senders);

    let mut readiness = Vec::with_capacity(groups.len());
    let mut threads = Vec::with_capacity(groups.len());
    for (g, (group, rx)) in groups.iter().zip(receivers).enumerate() {
        let (ready_tx, ready_rx) = oneshot::channel();
        readiness.push(ready_rx);
        let last = group[group.len() - 1];
        let worker = GroupWorker {
            members: group
                .iter()
                .map(|&i| Member { spec: pipeline.nodes[i].spec.clone(), on_error: pipeline.nodes[i].on_error })
                .collect(),
            thread: g,
            engine: Arc::clone(&engine),
            input: rx,
            downstream: std::mem::take(&mut downstream[last]),
            sink: sinks.contains(&last).then(|| outputs.clone()),
            state: Arc::clone(&state),
        };
        let handle = std::thread::Builder::new()
            .name(format!("node-{}", pipeline.nodes[group[0]].spec.id))
            .stack_size(NODE_THREAD_STACK)
            .spawn(move || worker.run(ready_tx))
            .map_err(|e| Error::io("starting a node thread", e))?;
        threads.push(handle);
    }
    drop(outputs);

    // Wait until every node is created before feeding any input.
    let mut all_ready = true;
    for ready in readiness {
        all_ready &= ready.await.unwrap_or(false);
    }
    let startup = started.elapsed();

    let fed = if all_ready { feed(inputs, &source_targets, &state).await } else { 0 };
    // The end of the stream (or no stream at all, when a node could not be
    // created): the first nodes see it.
    drop(source_targets);

    let joined = tokio::task::spawn_blocking(move || threads.into_iter().map(std::thread::JoinHandle::join).collect::<Vec<_>>())
        .await
        .map_err(|e| Error::io("joining node threads", std::io::Error::other(e.to_string())))?;
    if let Some(e) = state.first_error.lock().expect("error lock").take() {
        return Err(e);
    }
    let mut by_node: Vec<Option<NodeStats>> = (0..n).map(|_| None).collect();
    for (group, result) in groups.iter().zip(joined) {
        match result {
            Ok(stats) => {
                for (&i, s) in group.iter().zip(stats) {
                    by_node[i] = Some(s);
                }
            }
            Err(panic) => {
                let message = panic.downcast_ref::<String>().cloned().unwrap_or_else(|| "node thread panicked".into());
                return Err(Error::Node {
                    node: pipeline.nodes[group[0]].spec.id.clone(),
                    stage: Stage::Create,
                    failure: NodeFailure::Panicked(message),
                });
            }
        }
    }
    let nodes = by_node.into_iter().map(|s| s.expect("every node is in one thread group")).collect();
    let failures = std::mem::take(&mut *state.skipped.lock().expect("failures lock"));
    Ok(RunReport {
        nodes,
        failures,
        failures_not_kept: state.not_kept.load(Ordering::Relaxed),
        inputs: fed,
        outputs: 0,
        startup,
        first_output: None,
        elapsed: started.elapsed(),
    })
}

/// Feed the pipeline's input to the threads its first nodes run on: what
/// is ready goes as one batch. Returns how many inputs were fed.
async fn feed(mut source: Source, targets: &[channel::Sender], state: &RunState) -> u64 {
    let mut fed = 0u64;
    let mut batch: Vec<Value> = Vec::new();
    let mut end = false;
    while !end {
        end = source.fill(&mut batch, state).await;
        if batch.is_empty() {
            break;
        }
        fed += batch.len() as u64;
        if let Some((last, rest)) = targets.split_last() {
            for tx in rest {
                if tx.send_batch_async(&mut batch.clone()).await.is_err() {
                    return fed;
                }
            }
            if last.send_batch_async(&mut batch).await.is_err() {
                return fed;
            }
        }
        batch.clear();
        if state.failed.load(Ordering::Relaxed) {
            break;
        }
    }
    fed
}

/// Run a pipeline with the input and output its manifest names. Outputs are
/// tagged with their node when the pipeline has several sinks. The sink
/// nodes' threads write them, through one buffer, flushed whenever the
/// thread that wrote has no more input queued (so a line appears as soon
/// as that node has nothing newer to do), or after every line when
/// `line_buffered`.
pub async fn run_pipeline(
    pipeline: &Pipeline,
    engine: Arc<WasmEngine>,
    output: &OutputSpec,
    line_buffered: bool,
) -> Result<RunReport, Error> {
    let started = Instant::now();
    let sink: Box<dyn std::io::Write + Send> = match &output.file {
        Some(p) => Box::new(std::fs::File::create(p).map_err(|e| Error::io(format!("creating {}", p.display()), e))?),
        None => {
            output::widen_stdout_pipe();
            Box::new(std::io::stdout())
        }
    };
    let tag = pipeline.sinks().len() > 1;
    let writer = Arc::new(OutputWriter::new(sink, output.format, tag, line_buffered, started));
    let inputs = Source::of(pipeline.input.clone());
    let result = run_into(pipeline, engine, inputs, Sink::Writer(Arc::clone(&writer))).await;
    // Every node thread has ended (and dropped its handle) by now, unless
    // the run could not start them all; then it failed, and that is the
    // error to give.
    let written = Arc::try_unwrap(writer).map_or_else(|_| Ok(Written::default()), OutputWriter::finish);
    let mut report = result?;
    let written = written?;
    report.outputs = written.count;
    report.first_output = written.first;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Run a pipeline on in-memory inputs and collect its outputs (for tests
/// and embedding).
pub async fn run_collect(pipeline: &Pipeline, engine: Arc<WasmEngine>, inputs: Vec<Value>) -> Result<Vec<Output>, Error> {
    run_with_report(pipeline, engine, inputs).await.map(|(outputs, _)| outputs)
}

/// Like [`run_collect`], with the run's report (statistics, and the items
/// that failed without stopping the run).
pub async fn run_with_report(
    pipeline: &Pipeline,
    engine: Arc<WasmEngine>,
    inputs: Vec<Value>,
) -> Result<(Vec<Output>, RunReport), Error> {
    let input = Source::of(InputSpec::Values(inputs));
    let (tx, mut rx) = mpsc::channel::<Vec<Output>>(COLLECTED_BATCHES);
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(batch) = rx.recv().await {
            all.extend(batch);
        }
        all
    });
    let mut report = run_into(pipeline, engine, input, Sink::Channel(tx)).await?;
    let outputs = collector.await.map_err(|e| Error::io("collecting outputs", std::io::Error::other(e.to_string())))?;
    report.outputs = outputs.len() as u64;
    Ok((outputs, report))
}

/// Say at the start of a run what each node may do beyond the sandbox's
/// defaults: run without it, read or write host directories, read
/// environment variables.
fn announce_rights(pipeline: &Pipeline) {
    for node in &pipeline.nodes {
        let spec = &node.spec;
        if !spec.runtime.is_sandboxed() {
            tracing::warn!(node = %spec.id, "runs on the '{}' runtime, WITHOUT the sandbox: its code has your full rights", spec.runtime);
        }
        for dir in &spec.policy.dirs {
            let access = if dir.writable { "read and write" } else { "read" };
            tracing::info!(node = %spec.id, "may {access} {} (as {})", dir.host.display(), dir.guest);
        }
        if !spec.policy.env.is_empty() {
            tracing::info!(node = %spec.id, "may read the environment variables {}", spec.policy.env.join(", "));
        }
    }
}
