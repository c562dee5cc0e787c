//! Running a [`Pipeline`]: every node on its own thread (created there, so
//! runtimes that are not `Send` work), connected by bounded tokio channels
//! (backpressure); the input is fed and the outputs written by async tasks.
//! At end of stream every node is flushed, upstream before downstream. The
//! first node to fail stops the run, and the error names the node, the item
//! and the failure.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nodehost_sdk::Value;
use tokio::io::AsyncBufReadExt;
use tokio::sync::{mpsc, oneshot};

use crate::engine::WasmEngine;
use crate::error::{Error, Stage};
use crate::manifest::{FrameSize, InputSpec, OnError, OutputFormat, OutputSpec, Pipeline, Upstream};
use crate::error::NodeFailure;
use crate::node::{NODE_THREAD_STACK, Node, NodeSpec};
use crate::stats::{LatencyHistogram, NodeStats, RunReport};

/// How many items wait in each channel between nodes.
pub const CHANNEL_CAPACITY: usize = 32;

/// One item leaving the pipeline: which sink node gave it, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub node: String,
    pub value: Value,
}

/// Shared by the node threads of one run: the first error, and whether the
/// run is stopping.
#[derive(Default)]
struct RunState {
    failed: AtomicBool,
    first_error: Mutex<Option<Error>>,
    /// Items that failed without stopping the run.
    skipped: Mutex<Vec<Error>>,
}

impl RunState {
    fn fail(&self, e: Error) {
        let mut first = self.first_error.lock().expect("error lock");
        if first.is_none() {
            *first = Some(e);
        }
        self.failed.store(true, Ordering::SeqCst);
    }
}

/// Run `pipeline` with inputs from `inputs` and outputs into `outputs`.
/// Returns when every node has finished (or the first one failed).
pub async fn run(
    pipeline: &Pipeline,
    engine: Arc<WasmEngine>,
    mut inputs: mpsc::Receiver<Result<Value, Error>>,
    outputs: mpsc::Sender<Output>,
) -> Result<RunReport, Error> {
    let started = Instant::now();
    let n = pipeline.nodes.len();
    let state = Arc::new(RunState::default());
    let sinks = pipeline.sinks();

    // One input channel per node; each upstream gets a sender to it.
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..n).map(|_| mpsc::channel::<Value>(CHANNEL_CAPACITY)).unzip();
    let mut source_targets = Vec::new();
    let mut downstream: Vec<Vec<mpsc::Sender<Value>>> = vec![Vec::new(); n];
    for (i, node) in pipeline.nodes.iter().enumerate() {
        for up in &node.inputs {
            match *up {
                Upstream::Input => source_targets.push(senders[i].clone()),
                Upstream::Node(j) => downstream[j].push(senders[i].clone()),
            }
        }
    }
    drop(senders);

    let mut readiness = Vec::with_capacity(n);
    let mut threads = Vec::with_capacity(n);
    for ((i, node), rx) in pipeline.nodes.iter().enumerate().zip(receivers) {
        let (ready_tx, ready_rx) = oneshot::channel();
        readiness.push(ready_rx);
        let worker = NodeWorker {
            spec: node.spec.clone(),
            engine: Arc::clone(&engine),
            input: rx,
            downstream: std::mem::take(&mut downstream[i]),
            sink: sinks.contains(&i).then(|| outputs.clone()),
            state: Arc::clone(&state),
            on_error: node.on_error,
        };
        let handle = std::thread::Builder::new()
            .name(format!("node-{}", node.spec.id))
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

    let mut fed = 0u64;
    if all_ready {
        'feed: while let Some(item) = inputs.recv().await {
            let value = match item {
                Ok(v) => v,
                Err(e) => {
                    state.fail(e);
                    break;
                }
            };
            fed += 1;
            if let Some((last, rest)) = source_targets.split_last() {
                for tx in rest {
                    if tx.send(value.clone()).await.is_err() {
                        break 'feed;
                    }
                }
                if last.send(value).await.is_err() {
                    break;
                }
            }
            if state.failed.load(Ordering::Relaxed) {
                break;
            }
        }
    }
    drop(source_targets);

    let joined = tokio::task::spawn_blocking(move || threads.into_iter().map(|t| t.join()).collect::<Vec<_>>())
        .await
        .map_err(|e| Error::io("joining node threads", std::io::Error::other(e.to_string())))?;
    if let Some(e) = state.first_error.lock().expect("error lock").take() {
        return Err(e);
    }
    let mut nodes = Vec::with_capacity(n);
    for (node, result) in pipeline.nodes.iter().zip(joined) {
        match result {
            Ok(stats) => nodes.push(stats),
            Err(panic) => {
                let message = panic.downcast_ref::<String>().cloned().unwrap_or_else(|| "node thread panicked".into());
                return Err(Error::Node {
                    node: node.spec.id.clone(),
                    stage: Stage::Create,
                    failure: crate::NodeFailure::Host(message),
                });
            }
        }
    }
    let failures = std::mem::take(&mut *state.skipped.lock().expect("failures lock"));
    Ok(RunReport { nodes, failures, inputs: fed, outputs: 0, startup, first_output: None, elapsed: started.elapsed() })
}

/// What a node thread owns.
struct NodeWorker {
    spec: NodeSpec,
    engine: Arc<WasmEngine>,
    input: mpsc::Receiver<Value>,
    downstream: Vec<mpsc::Sender<Value>>,
    sink: Option<mpsc::Sender<Output>>,
    state: Arc<RunState>,
    on_error: OnError,
}

impl NodeWorker {
    fn run(mut self, ready: oneshot::Sender<bool>) -> NodeStats {
        let mut stats = NodeStats {
            id: self.spec.id.clone(),
            runtime: self.spec.runtime,
            create: Duration::ZERO,
            items_in: 0,
            items_out: 0,
            latency: LatencyHistogram::default(),
            failed: 0,
            restarts: 0,
        };
        let created = Instant::now();
        let mut node = match self.spec.create(&self.engine) {
            Ok(node) => node,
            Err(e) => {
                self.state.fail(e);
                let _ = ready.send(false);
                return stats;
            }
        };
        stats.create = created.elapsed();
        let _ = ready.send(true);

        let mut out = Vec::new();
        while let Some(item) = self.input.blocking_recv() {
            if self.state.failed.load(Ordering::Relaxed) {
                return stats;
            }
            stats.items_in += 1;
            let t = Instant::now();
            let result = node.process(item, &mut out);
            stats.latency.record(t.elapsed());
            if let Err(failure) = result {
                out.clear();
                match self.recover(&mut node, Stage::Item(stats.items_in), failure, &mut stats) {
                    Ok(()) => continue,
                    Err(()) => return stats,
                }
            }
            if !self.send(&mut out, &mut stats) {
                return stats;
            }
        }
        // End of stream, unless the run is stopping because a node failed.
        if self.state.failed.load(Ordering::Relaxed) {
            return stats;
        }
        match node.flush(&mut out) {
            Ok(()) => {
                self.send(&mut out, &mut stats);
            }
            Err(failure) => {
                let _ = self.recover(&mut node, Stage::Flush, failure, &mut stats);
            }
        }
        stats
    }

    /// Deal with a failed call as `on_error` says: stop the run (`Err`), or
    /// report the item and go on, with a fresh node when the old one was
    /// lost or the policy asks for it.
    fn recover(&self, node: &mut Box<dyn Node>, stage: Stage, failure: NodeFailure, stats: &mut NodeStats) -> Result<(), ()> {
        let restart = match self.on_error {
            OnError::Fail => {
                self.state.fail(Error::Node { node: self.spec.id.clone(), stage, failure });
                return Err(());
            }
            OnError::Skip => failure.is_fatal(),
            OnError::Restart => true,
        };
        stats.failed += 1;
        let error = Error::Node { node: self.spec.id.clone(), stage, failure };
        tracing::warn!(node = %self.spec.id, "skipped: {}", error.to_string().lines().next().unwrap_or_default());
        self.state.skipped.lock().expect("failures lock").push(error);
        if restart {
            // Drop the old instance first: its memory goes back before the
            // new one takes its own.
            *node = Box::new(Restarting);
            match self.spec.create(&self.engine) {
                Ok(fresh) => {
                    *node = fresh;
                    stats.restarts += 1;
                    tracing::warn!(node = %self.spec.id, "node created afresh; its state was reset");
                }
                Err(e) => {
                    self.state.fail(e);
                    return Err(());
                }
            }
        }
        Ok(())
    }

    /// Send outputs downstream; false when the run is stopping.
    fn send(&self, out: &mut Vec<Value>, stats: &mut NodeStats) -> bool {
        for value in out.drain(..) {
            stats.items_out += 1;
            if let Some(sink) = &self.sink {
                if sink.blocking_send(Output { node: self.spec.id.clone(), value: value.clone() }).is_err() {
                    return false;
                }
            }
            if let Some((last, rest)) = self.downstream.split_last() {
                for tx in rest {
                    if tx.blocking_send(value.clone()).is_err() {
                        return false;
                    }
                }
                if last.blocking_send(value).is_err() {
                    return false;
                }
            }
        }
        true
    }
}

/// Stands in for a node between dropping a lost instance and creating the next.
struct Restarting;

impl Node for Restarting {
    fn process(&mut self, _: Value, _: &mut Vec<Value>) -> Result<(), NodeFailure> {
        Err(NodeFailure::Poisoned)
    }
    fn flush(&mut self, _: &mut Vec<Value>) -> Result<(), NodeFailure> {
        Err(NodeFailure::Poisoned)
    }
}

/// Read the pipeline's input as described by `spec` into a channel.
pub fn spawn_input(spec: &InputSpec) -> mpsc::Receiver<Result<Value, Error>> {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    let spec = spec.clone();
    tokio::spawn(async move {
        let send_all = |values: Vec<Result<Value, Error>>| {
            let tx = tx.clone();
            async move {
                for v in values {
                    if tx.send(v).await.is_err() {
                        break;
                    }
                }
            }
        };
        match spec {
            InputSpec::Values(values) => send_all(values.into_iter().map(Ok).collect()).await,
            InputSpec::Sequence { start, count, step } => {
                for k in 0..count as i64 {
                    let v = k.checked_mul(step).and_then(|x| x.checked_add(start));
                    let item = v.map(Value::Int).ok_or_else(|| Error::Input("sequence overflows 64-bit ints".into()));
                    if tx.send(item).await.is_err() {
                        break;
                    }
                }
            }
            InputSpec::Wav { path, frame } => {
                let frames = tokio::fs::read(&path)
                    .await
                    .map_err(|e| Error::io(format!("reading {}", path.display()), e))
                    .and_then(|bytes| crate::wav::decode(&bytes).map_err(|e| Error::Input(format!("{}: {e}", path.display()))))
                    .map(|wav| {
                        let n = match frame {
                            FrameSize::Samples(n) => n,
                            FrameSize::Millis(ms) => ((wav.sample_rate as f64 * ms / 1000.0).round() as usize).max(1),
                        };
                        wav.frames(n).map(|f| Ok(Value::Audio(f))).collect::<Vec<_>>()
                    });
                match frames {
                    Ok(frames) => send_all(frames).await,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                    }
                }
            }
            InputSpec::JsonLines(path) => match tokio::fs::File::open(&path).await {
                Ok(file) => read_json_lines(tokio::io::BufReader::new(file), &path.display().to_string(), &tx).await,
                Err(e) => {
                    let _ = tx.send(Err(Error::io(format!("opening {}", path.display()), e))).await;
                }
            },
            InputSpec::Stdin => read_json_lines(tokio::io::BufReader::new(tokio::io::stdin()), "stdin", &tx).await,
        }
    });
    rx
}

async fn read_json_lines<R: tokio::io::AsyncBufRead + Unpin>(
    reader: R,
    name: &str,
    tx: &mpsc::Sender<Result<Value, Error>>,
) {
    let mut lines = reader.lines();
    let mut number = 0u64;
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Err(Error::io(format!("reading {name}"), e))).await;
                break;
            }
        };
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let item = serde_json::from_str(&line)
            .map_err(|e| e.to_string())
            .and_then(crate::json::from_json)
            .map_err(|e| Error::Input(format!("{name} line {number}: {e}")));
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            break;
        }
    }
}

/// Format one output line.
pub fn format_output(output: &Output, format: OutputFormat, tag: bool) -> String {
    let body = match (&output.value, format) {
        (Value::Str(s), OutputFormat::Text) => s.clone(),
        (v, _) => crate::json::to_json(v).to_string(),
    };
    if tag {
        match format {
            OutputFormat::Text => format!("{}: {body}", output.node),
            OutputFormat::Jsonl => format!(
                "{{\"node\":{},\"value\":{body}}}",
                serde_json::Value::String(output.node.clone())
            ),
        }
    } else {
        body
    }
}

/// Run a pipeline with the input and output its manifest names. Outputs are
/// tagged with their node when the pipeline has several sinks.
pub async fn run_pipeline(pipeline: &Pipeline, engine: Arc<WasmEngine>, output: &OutputSpec) -> Result<RunReport, Error> {
    let started = Instant::now();
    let inputs = spawn_input(&pipeline.input);
    let (tx, mut rx) = mpsc::channel::<Output>(CHANNEL_CAPACITY);
    let tag = pipeline.sinks().len() > 1;
    let format = output.format;
    let path = output.file.clone();
    let writer = tokio::task::spawn_blocking(move || -> Result<(u64, Option<Duration>), Error> {
        let mut sink: Box<dyn std::io::Write> = match &path {
            Some(p) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(p).map_err(|e| Error::io(format!("creating {}", p.display()), e))?,
            )),
            None => Box::new(std::io::LineWriter::new(std::io::stdout().lock())),
        };
        let (mut count, mut first) = (0u64, None);
        while let Some(out) = rx.blocking_recv() {
            first.get_or_insert_with(|| started.elapsed());
            count += 1;
            writeln!(sink, "{}", format_output(&out, format, tag)).map_err(|e| Error::io("writing output", e))?;
        }
        sink.flush().map_err(|e| Error::io("writing output", e))?;
        Ok((count, first))
    });
    let result = run(pipeline, engine, inputs, tx).await;
    let written = writer.await.map_err(|e| Error::io("output writer", std::io::Error::other(e.to_string())))?;
    let mut report = result?;
    let (count, first) = written?;
    report.outputs = count;
    report.first_output = first;
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
    let (in_tx, in_rx) = mpsc::channel(CHANNEL_CAPACITY);
    tokio::spawn(async move {
        for v in inputs {
            if in_tx.send(Ok(v)).await.is_err() {
                break;
            }
        }
    });
    let (tx, mut rx) = mpsc::channel(CHANNEL_CAPACITY);
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(o) = rx.recv().await {
            all.push(o);
        }
        all
    });
    let mut report = run(pipeline, engine, in_rx, tx).await?;
    let outputs = collector.await.map_err(|e| Error::io("collecting outputs", std::io::Error::other(e.to_string())))?;
    report.outputs = outputs.len() as u64;
    Ok((outputs, report))
}
