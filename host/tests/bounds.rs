//! The host's own bounds outside the sandbox's: wall-clock deadlines on the
//! un-sandboxed Python runtimes (a call past its deadline is interrupted
//! with a traceback, and the node goes on), channels between nodes bounded
//! by bytes as well as items, and the largest component the engine
//! compiles.

use std::time::{Duration, Instant};

use crate::common::*;
use nodehost::manifest::{InputSpec, OnError, PipelineNode, Upstream};
use nodehost::{
    EngineConfig, Error, NodeFailure, NodeSpec, Pipeline, Runtime, SandboxPolicy, Stage, Value, WasmEngine, on_node_thread,
};

/// The un-sandboxed Python runtimes.
const UNSANDBOXED: [Runtime; 2] = [Runtime::Cpython, Runtime::NativeRustpython];

const SPINNER: &str = r#"
from nodehost import DeadlineExceeded


class Spin:
    def process(self, item):
        if item == "spin":
            while True:
                pass
        if item == "late":
            try:
                while True:
                    pass
            except DeadlineExceeded:
                return "caught it"
        return item * 2

    def flush(self):
        n = 0
        while True:
            n += 1
"#;

fn spinner(runtime: Runtime, policy: SandboxPolicy) -> NodeSpec {
    NodeSpec::python("spin", "/nodes/spin.py", SPINNER, "Spin", runtime).with_policy(policy)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The failure of a call stopped at `deadline`, with the error the node
/// raised there.
fn interrupted(result: &Result<Vec<Value>, NodeFailure>, deadline: Duration) -> &nodehost::GuestError {
    match result {
        Err(NodeFailure::TimeoutInterrupted { after, error }) if *after == deadline => error,
        other => panic!("expected an interrupted timeout after {deadline:?}, got {other:?}"),
    }
}

#[test]
fn an_unsandboxed_call_past_its_deadline_is_interrupted_where_it_runs_and_the_node_goes_on() {
    let policy = SandboxPolicy { timeout: ms(200), ..Default::default() };
    for runtime in UNSANDBOXED {
        let started = Instant::now();
        let inputs = vec![Value::Int(1), "spin".into(), Value::Int(2), "late".into(), Value::Int(3)];
        let run = run_node(&spinner(runtime, policy.clone()), inputs).unwrap_or_else(|e| panic!("{runtime}: {e}"));
        let elapsed = started.elapsed();
        assert_eq!(run.items[0].as_ref().unwrap(), &[Value::Int(2)], "{runtime}");
        let error = interrupted(&run.items[1], policy.timeout);
        let traceback = error.traceback.as_deref().unwrap_or_default();
        assert!(
            traceback.contains("spin.py") && traceback.contains("in process") && traceback.contains("DeadlineExceeded"),
            "{runtime}: the traceback does not show where the call was:\n{traceback}"
        );
        assert!(error.message.contains("deadline"), "{runtime}: {}", error.message);
        assert!(run.items[1].as_ref().unwrap_err().is_timeout() && !run.items[1].as_ref().unwrap_err().is_fatal());
        // The node kept its state and takes the next item at once.
        assert_eq!(run.items[2].as_ref().unwrap(), &[Value::Int(4)], "{runtime}");
        // Catching the exception and returning late is still a timeout.
        interrupted(&run.items[3], policy.timeout);
        assert_eq!(run.items[4].as_ref().unwrap(), &[Value::Int(6)], "{runtime}");
        // flush has the same deadline.
        let flushed = interrupted(&run.flushed, policy.timeout);
        assert!(flushed.traceback.as_deref().unwrap_or_default().contains("in flush"), "{runtime}: {flushed:?}");
        // Three calls of 200 ms; generous for a loaded machine.
        assert!(elapsed < Duration::from_secs(5), "{runtime}: took {elapsed:?}");
    }
}

#[test]
fn creating_an_unsandboxed_node_has_the_init_deadline() {
    let policy = SandboxPolicy { init_timeout: ms(300), ..Default::default() };
    let top_level = "while True:\n    pass\n\nclass Never:\n    def process(self, x):\n        return x\n";
    let init = "class Slow:\n    def __init__(self):\n        while True:\n            pass\n\n    def process(self, x):\n        return x\n";
    for runtime in UNSANDBOXED {
        for (source, class, where_) in [(top_level, "Never", "<module>"), (init, "Slow", "in __init__")] {
            let spec = NodeSpec::python("slow", "/nodes/slow.py", source, class, runtime).with_policy(policy.clone());
            let started = Instant::now();
            let error = on_node_thread(|| spec.create(&engine()).err()).expect("created a node that never finishes");
            let Error::Node { stage: Stage::Create, failure: NodeFailure::TimeoutInterrupted { after, error }, .. } =
                &error
            else {
                panic!("{runtime}: {error:?}")
            };
            assert_eq!(*after, policy.init_timeout);
            let traceback = error.traceback.as_deref().unwrap_or_default();
            assert!(traceback.contains("slow.py") && traceback.contains(where_), "{runtime}: {traceback}");
            assert!(started.elapsed() < Duration::from_secs(10), "{runtime}: took {:?}", started.elapsed());
        }
    }
}

#[test]
fn an_unsandboxed_cleanup_has_the_call_deadline() {
    let source = "class Stuck:\n    def process(self, x):\n        return x\n\n    def cleanup(self):\n        while True:\n            pass\n";
    let policy = SandboxPolicy { timeout: ms(200), ..Default::default() };
    for runtime in UNSANDBOXED {
        let spec = NodeSpec::python("stuck", "/nodes/stuck.py", source, "Stuck", runtime).with_policy(policy.clone());
        let started = Instant::now();
        // Creates the node, calls it once, flushes and drops it.
        let run = run_node(&spec, vec![Value::Int(1)]).unwrap_or_else(|e| panic!("{runtime}: {e}"));
        assert_eq!(run.outputs(), [Value::Int(1)]);
        assert!(started.elapsed() < Duration::from_secs(8), "{runtime}: took {:?}", started.elapsed());
    }
}

#[test]
fn several_native_rustpython_nodes_spinning_at_once_are_all_interrupted() {
    // RustPython's signal flag is shared by every interpreter in the
    // process, and the first to see it clears it: the watchdog must keep
    // asking until its own node has taken the interruption.
    let policy = SandboxPolicy { timeout: ms(200), ..Default::default() };
    let spec = spinner(Runtime::NativeRustpython, policy.clone());
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let spec = spec.clone();
                scope.spawn(move || {
                    let started = Instant::now();
                    let run = run_node(&spec, vec!["spin".into(), Value::Int(5)]).expect("create");
                    (run, started.elapsed())
                })
            })
            .collect();
        for run in runs {
            let (run, elapsed) = run.join().expect("node thread");
            interrupted(&run.items[0], policy.timeout);
            assert_eq!(run.items[1].as_ref().unwrap(), &[Value::Int(10)]);
            assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
        }
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pipeline_skips_an_interrupted_item_and_keeps_the_node() {
    let policy = SandboxPolicy { timeout: ms(200), ..Default::default() };
    let pipeline = Pipeline {
        name: "deadline".into(),
        nodes: vec![PipelineNode {
            spec: spinner(Runtime::Cpython, policy),
            inputs: vec![Upstream::Input],
            on_error: OnError::Skip,
            thread: Default::default(),
            auto: None,
        }],
        input: InputSpec::Values(vec![]),
        output: Default::default(),
        fuse: Default::default(),
    };
    let inputs = vec![Value::Int(1), "spin".into(), Value::Int(2)];
    let (outputs, report) = nodehost::run_with_report(&pipeline, engine(), inputs).await.expect("run");
    // flush spins too: its failure is skipped like the item's.
    let values: Vec<Value> = outputs.into_iter().map(|o| o.value).collect();
    assert_eq!(values, [Value::Int(2), Value::Int(4)]);
    assert_eq!(report.failures.len(), 2, "{:?}", report.failures);
    assert!(report.failures.iter().all(|e| e.node_failure().is_some_and(NodeFailure::is_timeout)));
    assert_eq!(report.nodes[0].restarts, 0, "the node was not lost");
}

const BIG: usize = 4 << 20;

const PRODUCER_AND_CONSUMER: &str = r#"
import time


class Big:
    def process(self, n):
        return bytes(4 << 20)


class Slow:
    def process(self, data):
        time.sleep(0.03)
        return len(data)
"#;

#[tokio::test(flavor = "multi_thread")]
async fn big_values_wait_for_a_slow_consumer_within_the_byte_budget() {
    // 40 values of 4 MiB from a fast node to a slow one: by items alone the
    // channel would hold all 40 of them (160 MiB); by bytes it holds 64 MiB.
    let node = |id: &str, class: &str, inputs| PipelineNode {
        spec: NodeSpec::python(id, "/nodes/big.py", PRODUCER_AND_CONSUMER, class, Runtime::Wasm),
        inputs,
        on_error: OnError::Fail,
        thread: Default::default(),
        auto: None,
    };
    // Not fused: the two nodes on their own threads, a channel between them.
    let pipeline = Pipeline {
        name: "backpressure".into(),
        nodes: vec![node("big", "Big", vec![Upstream::Input]), node("slow", "Slow", vec![Upstream::Node(0)])],
        input: InputSpec::Values(vec![]),
        output: Default::default(),
        fuse: nodehost::manifest::Fuse::Never,
    };
    let inputs: Vec<Value> = (0..40).map(Value::Int).collect();
    let (outputs, report) = nodehost::run_with_report(&pipeline, engine(), inputs).await.expect("run");
    assert_eq!(outputs.len(), 40);
    assert!(outputs.iter().all(|o| o.value == Value::Int(BIG as i64)));
    let item = nodehost::pipeline::host_size(&Value::Bytes(vec![0; BIG]));
    let peak = report.nodes[1].input_peak_bytes;
    assert!(peak <= nodehost::pipeline::CHANNEL_BYTES + item, "{peak} bytes waited for the slow node");
    // It did fill up: the producer was held back by bytes, not by items.
    assert!(peak >= nodehost::pipeline::CHANNEL_BYTES - item, "only {peak} bytes waited; was the consumer slow?");
}

#[test]
fn a_component_above_the_compile_bound_is_refused_before_compiling() {
    let path = component_file("example_rust_node.wasm", nodehost_artifacts::EXAMPLE_RUST_NODE.bytes);
    let size = nodehost_artifacts::EXAMPLE_RUST_NODE.bytes.len() as u64;
    let config =
        EngineConfig { cache_dir: None, max_instances: 0, max_component_bytes: size - 1, ..EngineConfig::default() };
    let engine = WasmEngine::new(config).expect("engine");
    let kind = engine.default_kind();
    let error = engine.load_file(&path, kind).err().expect("a component above the bound was loaded");
    let Error::ComponentTooLarge { size: s, limit, .. } = &error else { panic!("{error:?}") };
    assert_eq!((*s, *limit), (size, size - 1));
    let bytes = nodehost_artifacts::EXAMPLE_RUST_NODE;
    let error = engine.load("example", bytes.bytes, bytes.sha256, kind).err().expect("loaded from bytes");
    assert!(matches!(error, Error::ComponentTooLarge { .. }), "{error:?}");
    // At the bound it compiles.
    let config =
        EngineConfig { cache_dir: None, max_instances: 0, max_component_bytes: size, ..EngineConfig::default() };
    let engine = WasmEngine::new(config).expect("engine");
    engine.load_file(&path, engine.default_kind()).expect("a component at the bound");
    assert!(nodehost::sandbox::DEFAULT_MAX_COMPONENT_BYTES >= 8 * nodehost_artifacts::PYTHON.bytes.len() as u64);
}
