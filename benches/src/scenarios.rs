//! Every scenario of the benchmark plan, once, for both the criterion suite
//! (`cargo bench`) and the report (`nodehost-bench`): what runs, on which
//! runtimes, and how many items one iteration handles.
//!
//! A [`Scenario`] makes a [`Case`] for one runtime; a case's `run` does one
//! iteration and returns what to count (its own wall time, or for pipelines
//! the time after every node was ready, with the slowest node's latency
//! quantiles).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nodehost::{NodeSpec, Pipeline, Runtime, SandboxPolicy, Value, WasmEngine};

use crate::{create, example, python_node, rust_node};

/// A runtime column of the report; in JSON, its [`id`](Rt::id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rt {
    Cpython,
    NativeRustpython,
    WasmRustpython,
    WasmCpython,
    NativeRust,
    WasmRust,
}

impl Rt {
    /// The Python runtimes, CPython first (the reference).
    pub const PYTHON: [Rt; 4] = [Rt::Cpython, Rt::NativeRustpython, Rt::WasmRustpython, Rt::WasmCpython];
    /// The Rust runtimes.
    pub const RUST: [Rt; 2] = [Rt::NativeRust, Rt::WasmRust];
    /// Every column, in report order.
    pub const ALL: [Rt; 6] = [Rt::Cpython, Rt::NativeRustpython, Rt::WasmRustpython, Rt::WasmCpython, Rt::NativeRust, Rt::WasmRust];

    /// The id used in criterion's `BenchmarkId`s and in the report.
    pub fn id(self) -> &'static str {
        match self {
            Rt::Cpython => "cpython",
            Rt::NativeRustpython => "native-rustpython",
            Rt::WasmRustpython => "wasm-rustpython",
            Rt::WasmCpython => "wasm-cpython",
            Rt::NativeRust => "native-rust",
            Rt::WasmRust => "wasm-rust",
        }
    }

    /// The host runtime that runs this column's nodes.
    pub fn runtime(self) -> Runtime {
        match self {
            Rt::Cpython => Runtime::Cpython,
            Rt::NativeRustpython => Runtime::NativeRustpython,
            Rt::WasmRustpython | Rt::WasmRust => Runtime::Wasm,
            Rt::WasmCpython => Runtime::WasmCpython,
            Rt::NativeRust => Runtime::Native,
        }
    }

    /// Whether nodes of this column run in the sandbox.
    pub fn sandboxed(self) -> bool {
        matches!(self, Rt::WasmRustpython | Rt::WasmCpython | Rt::WasmRust)
    }

    /// Whether this build and machine can run the column (`wasm-cpython`
    /// needs the componentize-py component).
    pub fn available(self) -> bool {
        self.runtime().is_available()
    }

    /// The Rust column that goes with a Python column in mixed pipelines.
    fn rust_partner(self) -> Runtime {
        if self.sandboxed() { Runtime::Wasm } else { Runtime::Native }
    }
}

/// What one iteration measured.
pub struct Sample {
    /// The time to count for the iteration.
    pub time: Duration,
    /// For pipelines: p50/p95/p99 call latency of the slowest node.
    pub quantiles: Option<[Duration; 3]>,
}

/// One scenario on one runtime, ready to run.
pub struct Case {
    /// Items one iteration handles (for throughput).
    pub items: u64,
    /// `n` iterations in a row; the sample's time covers all of them.
    pub run: Box<dyn FnMut(u64) -> Sample>,
}

impl Case {
    fn timed(items: u64, mut f: impl FnMut() + 'static) -> Case {
        Case {
            items,
            run: Box::new(move |n| {
                let t = Instant::now();
                for _ in 0..n {
                    f();
                }
                Sample { time: t.elapsed(), quantiles: None }
            }),
        }
    }
}

/// A scenario of the plan.
pub struct Scenario {
    /// `group/name`, e.g. `marshal/list_100`.
    pub name: String,
    /// What it measures, for the report.
    pub about: &'static str,
    pub runtimes: Vec<Rt>,
    /// Heavy scenarios: the criterion suite takes fewer samples of them.
    pub slow: bool,
    make: Arc<dyn Fn(Rt) -> Case + Send + Sync>,
}

impl Scenario {
    fn new(name: impl Into<String>, about: &'static str, runtimes: &[Rt], make: impl Fn(Rt) -> Case + Send + Sync + 'static) -> Self {
        Scenario { name: name.into(), about, runtimes: runtimes.to_vec(), slow: false, make: Arc::new(make) }
    }

    fn slow(mut self) -> Self {
        self.slow = true;
        self
    }

    /// Make the case for `rt` (creates nodes; call on a node thread).
    pub fn case(&self, rt: Rt) -> Case {
        (self.make)(rt)
    }
}

/// A case calling one node with a copy of `input` per iteration.
fn node_case(spec: NodeSpec, input: Value) -> Case {
    let mut node = create(&spec);
    let mut out = Vec::new();
    Case::timed(1, move || {
        out.clear();
        node.process(input.clone(), &mut out).unwrap();
    })
}

/// A file deleted when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// New instances of the Python snapshot or the Rust nodes component;
/// `configure` also makes the first call into the guest.
fn instance_case(rt: Rt, configure: bool) -> Case {
    let engine = WasmEngine::shared().expect("engine");
    let policy = SandboxPolicy::default();
    let component = if rt == Rt::WasmRust {
        engine.builtin(&nodehost_artifacts::RUST_NODES, engine.default_kind())
    } else {
        engine.python(&policy)
    }
    .expect("component");
    Case::timed(1, move || component.instantiate_once(&policy, configure).expect("instance"))
}

/// The same node on Python runtimes (`file`, `class`) and Rust runtimes (`rust`).
fn py_or_rust(rt: Rt, file: &str, class: &str, py_params: &[(&str, Value)], rust: &str, rust_params: &[(&str, Value)]) -> NodeSpec {
    if Rt::PYTHON.contains(&rt) {
        python_node(file, class, py_params, rt.runtime())
    } else {
        rust_node(rust, rust_params, rt.runtime())
    }
}

fn both() -> Vec<Rt> {
    Rt::ALL.to_vec()
}

/// The values of the marshalling scenarios.
pub fn marshal_values() -> Vec<(&'static str, Value)> {
    let ints = |n: i64| Value::List((0..n).map(Value::Int).collect());
    let flat: Value = Value::Map((0..10).map(|i| (format!("key{i}"), Value::Int(i))).collect());
    let nested = Value::Map(
        [
            ("id", Value::Int(7)),
            ("name", Value::from("sensor-7")),
            ("tags", Value::List(vec![Value::from("a"), Value::from("b")])),
            ("reading", Value::Map([("value", Value::Float(21.5)), ("unit", Value::from("C"))].into_iter().collect())),
            ("history", Value::List((0..5).map(|i| Value::Map([("t", Value::Int(i)), ("v", Value::Float(i as f64))].into_iter().collect())).collect())),
        ]
        .into_iter()
        .collect(),
    );
    let audio = audio_frame;
    vec![
        ("int", Value::Int(42)),
        ("float", Value::Float(3.25)),
        ("str_short", Value::from("hello, node")),
        ("str_10k", Value::from("x".repeat(10 * 1024))),
        ("bytes_1k", Value::Bytes(vec![7; 1024])),
        ("bytes_1m", Value::Bytes(vec![7; 1 << 20])),
        ("list_5", ints(5)),
        ("list_100", ints(100)),
        ("list_10k", ints(10_000)),
        ("dict_flat", flat),
        ("dict_nested", nested),
        ("audio_480", audio(480)),
        ("audio_48k", audio(48_000)),
    ]
}

/// A record of every kind of value (the mixed data types scenario).
pub fn mixed_value() -> Value {
    Value::Map(
        [
            ("null", Value::Null),
            ("flag", Value::Bool(true)),
            ("count", Value::Int(12)),
            ("ratio", Value::Float(0.25)),
            ("name", Value::from("mixed")),
            ("raw", Value::Bytes(vec![1, 2, 3, 4])),
            ("items", Value::List(vec![Value::Int(1), Value::Float(2.5), Value::from("three")])),
            ("inner", Value::Map([("a", Value::Int(1))].into_iter().collect())),
        ]
        .into_iter()
        .collect(),
    )
}

/// A tokio runtime for the pipeline scenarios, with a worker per core.
fn tokio_runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime"))
}

/// A pipeline from manifest text, with its Python and Rust nodes on the
/// runtimes `rt` implies.
fn pipeline(text: &str, python: Runtime, rust: Runtime) -> Pipeline {
    let mut p = nodehost::manifest::parse(text, &example("corpus/bench.toml")).expect("bench manifest");
    p.set_python_runtime(python);
    p.set_rust_runtime(rust);
    p
}

/// Run `copies` copies of a pipeline at once over `items` inputs each (the
/// integers from 0, or copies of `input` when given). Timing starts once
/// one warm-up item has come out of every copy (so every node is ready) and
/// ends when every copy has finished.
fn pipeline_case(text: &str, python: Runtime, rust: Runtime, items: u64, copies: usize, input: impl Into<Option<Value>>) -> Case {
    use tokio::sync::mpsc;
    let input: Option<Value> = input.into();
    let p = Arc::new(pipeline(text, python, rust));
    let engine = WasmEngine::shared().expect("engine");
    let inputs: Arc<Vec<Value>> = Arc::new(match &input {
        Some(v) => vec![v.clone(); items as usize],
        None => (0..items as i64).map(Value::Int).collect(),
    });
    let run_once = move || {
        tokio_runtime().block_on(async {
            let mut runs = Vec::new();
            let mut feeds = Vec::new();
            let mut outs = Vec::new();
            for _ in 0..copies {
                let (in_tx, in_rx) = mpsc::channel(64);
                let (out_tx, out_rx) = mpsc::channel(64);
                let (p, engine) = (p.clone(), engine.clone());
                runs.push(tokio::spawn(async move { nodehost::pipeline::run(&p, engine, in_rx, out_tx).await }));
                feeds.push(in_tx);
                outs.push(out_rx);
            }
            for (tx, rx) in feeds.iter().zip(outs.iter_mut()) {
                tx.send(vec![Ok(inputs[0].clone())]).await.expect("warm-up item");
                rx.recv().await.expect("warm-up output");
            }
            let started = Instant::now();
            let mut tasks = Vec::new();
            for (tx, mut rx) in feeds.into_iter().zip(outs) {
                let inputs = inputs.clone();
                tokio::spawn(async move {
                    for v in inputs.iter() {
                        tx.send(vec![Ok(v.clone())]).await.expect("input");
                    }
                });
                tasks.push(tokio::spawn(async move {
                    let mut n = 0u64;
                    while let Some(batch) = rx.recv().await {
                        n += batch.len() as u64;
                    }
                    n
                }));
            }
            for t in tasks {
                assert!(t.await.expect("feeder") > 0, "a pipeline gave no outputs");
            }
            let time = started.elapsed();
            let mut slowest: Option<nodehost::NodeStats> = None;
            for r in runs {
                let report = r.await.expect("pipeline task").expect("pipeline run");
                for node in report.nodes {
                    if slowest.as_ref().is_none_or(|s| node.latency.mean() > s.latency.mean()) {
                        slowest = Some(node);
                    }
                }
            }
            let quantiles = slowest.map(|n| [n.latency.quantile(0.5), n.latency.quantile(0.95), n.latency.quantile(0.99)]);
            Sample { time, quantiles }
        })
    };
    Case {
        items: items * copies as u64,
        run: Box::new(move |n| {
            let mut total = Sample { time: Duration::ZERO, quantiles: None };
            for _ in 0..n {
                let s = run_once();
                total.time += s.time;
                total.quantiles = s.quantiles;
            }
            total
        }),
    }
}

// The nodes of the three-node pipelines, one manifest entry each: double,
// add 10, format, in Python (the corpus chain) and in Rust.
const PY_DOUBLE: &str = "[[node]]\nid = \"double\"\npython = \"chain.py\"\nclass = \"Double\"\n";
const PY_ADD: &str = "[[node]]\nid = \"add\"\npython = \"chain.py\"\nclass = \"Add\"\nparams = { amount = 10 }\n";
const PY_FORMAT: &str = "[[node]]\nid = \"format\"\npython = \"chain.py\"\nclass = \"Format\"\n";
const RUST_DOUBLE: &str = "[[node]]\nid = \"double\"\nrust = \"calculator\"\nparams = { operation = \"multiply\", operand = 2 }\n";
const RUST_ADD: &str = "[[node]]\nid = \"add\"\nrust = \"calculator\"\nparams = { operation = \"add\", operand = 10 }\n";
const RUST_FORMAT: &str =
    "[[node]]\nid = \"format\"\nrust = \"text\"\nparams = { operation = \"format\", template = \"Result: {}\" }\n";

const PYTHON_5: &str = r#"
[[node]]
id = "pass"
python = "pass_through.py"
[[node]]
id = "square"
python = "transform.py"
params = { operation = "square" }
[[node]]
id = "add"
python = "calculator.py"
params = { operation = "add", operand = 1 }
[[node]]
id = "window"
python = "accumulator.py"
params = { window_size = 5 }
[[node]]
id = "count"
python = "counter.py"
"#;

const RUST_5: &str = r#"
[[node]]
id = "pass"
rust = "pass-through"
[[node]]
id = "square"
rust = "calculator"
params = { operation = "multiply", operand = 3 }
[[node]]
id = "add"
rust = "calculator"
params = { operation = "add", operand = 1 }
[[node]]
id = "window"
rust = "accumulator"
params = { window = 5 }
[[node]]
id = "keep"
rust = "filter"
params = { min = 0, field = "sum" }
"#;

/// Items per pipeline run.
pub const PIPELINE_ITEMS: u64 = 2000;

/// Items per pipeline in the concurrency scenarios.
pub const CONCURRENCY_ITEMS: u64 = 100;

const FLOAT_1: &str = r#"
[[node]]
id = "float"
python = "../kernels/float_points.py"
"#;

const RMS_1: &str = r#"
[[node]]
id = "rms"
rust = "rms"
"#;

/// A mono audio frame of `n` samples.
pub fn audio_frame(n: usize) -> Value {
    Value::Audio(nodehost::AudioFrame { samples: (0..n).map(|i| (i as f32 * 0.01).sin()).collect(), sample_rate: 48_000, channels: 1 })
}

/// The pipeline copies of the concurrency scenario.
pub const CONCURRENCY: [usize; 4] = [1, 2, 4, 10];

/// The baked calculator component for `init/baked_node` (made once, kept
/// under `target/`).
pub fn baked_calculator() -> PathBuf {
    // Named after the Python component it was baked from, so a rebuilt
    // interpreter gets a fresh bake.
    let tag: String = nodehost_artifacts::PYTHON.sha256[..6].iter().map(|b| format!("{b:02x}")).collect();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../target/bench-baked/calculator-{tag}.wasm"));
    let source_path = example("corpus/calculator.py");
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .ok()
        .zip(std::fs::metadata(&source_path).and_then(|m| m.modified()).ok())
        .is_some_and(|(baked, source)| baked > source);
    if !fresh {
        let source = std::fs::read_to_string(&source_path).expect("calculator.py");
        let bytes = nodehost::sandbox::snapshot_python(nodehost_artifacts::PYTHON.bytes, Some((&source_path.display().to_string(), &source)))
            .expect("baking the calculator");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    path
}

/// Every scenario.
pub fn all() -> Vec<Scenario> {
    let py = Rt::PYTHON.to_vec();
    let rust = Rt::RUST.to_vec();
    let add5 = || [("operation", Value::from("add")), ("operand", Value::Int(5))];
    let mut all = vec![
        Scenario::new("call/calculator_add_5", "one call of a trivial node (add 5 to an int)", &both(), move |rt| {
            node_case(py_or_rust(rt, "corpus/calculator.py", "Calculator", &add5(), "calculator", &add5()), Value::Int(37))
        }),
        Scenario::new("call/stateful", "a node that keeps state (Python counter; Rust sliding-window accumulator)", &both(), |rt| {
            node_case(py_or_rust(rt, "corpus/counter.py", "Counter", &[], "accumulator", &[]), Value::Int(3))
        }),
        Scenario::new("call/recreate_node", "a new node for every call (create, one call, drop) against reuse in call/calculator_add_5", &both(), move |rt| {
            let spec = py_or_rust(rt, "corpus/calculator.py", "Calculator", &add5(), "calculator", &add5());
            let engine = WasmEngine::shared().expect("engine");
            let mut out = Vec::new();
            Case::timed(1, move || {
                let mut node = spec.create(&engine).expect("node");
                out.clear();
                node.process(Value::Int(37), &mut out).unwrap();
            })
        }),
        Scenario::new("init/new_node", "time to a ready node in a warm process (sandboxed Python: from the pre-initialized snapshot, loading the module; natively: a new interpreter)", &both(), move |rt| {
            let spec = py_or_rust(rt, "corpus/calculator.py", "Calculator", &add5(), "calculator", &add5());
            let engine = WasmEngine::shared().expect("engine");
            Case::timed(1, move || drop(spec.create(&engine).expect("node")))
        }),
        Scenario::new("init/new_node_plain", "a ready sandboxed Python node from the plain component (interpreter start-up, no snapshot)", &[Rt::WasmRustpython], move |_| {
            let engine = WasmEngine::new(nodehost::EngineConfig { snapshots: false, ..Default::default() }).expect("engine");
            let spec = python_node("corpus/calculator.py", "Calculator", &add5(), Runtime::Wasm);
            Case::timed(1, move || drop(spec.create(&engine).expect("node")))
        })
        .slow(),
        Scenario::new("init/baked_node", "a ready sandboxed Python node from a baked component (module already loaded)", &[Rt::WasmRustpython], move |_| {
            let path = baked_calculator();
            let spec = NodeSpec { source: nodehost::NodeSource::Component { path, node_type: "Calculator".into() }, ..rust_node("calculator", &add5(), Runtime::Wasm) };
            let engine = WasmEngine::shared().expect("engine");
            Case::timed(1, move || drop(spec.create(&engine).expect("node")))
        }),
        Scenario::new("init/instantiate", "a new instance from the pre-instantiated component (Python: the snapshot), no guest code run", &[Rt::WasmRustpython, Rt::WasmRust], |rt| instance_case(rt, false)),
        Scenario::new("init/instance_configured", "init/instantiate plus the first call into the guest (settings; Python: fresh random state)", &[Rt::WasmRustpython, Rt::WasmRust], |rt| instance_case(rt, true)),
        Scenario::new("init/load_precompiled", "loading compiled code from a file (mmap), as a cold process does from the cache", &[Rt::WasmRustpython, Rt::WasmRust], |rt| {
            let engine = WasmEngine::shared().expect("engine");
            let wt = engine.wasmtime_engine(engine.default_kind()).expect("engine");
            let bytes = if rt == Rt::WasmRust { nodehost_artifacts::RUST_NODES.bytes } else { nodehost_artifacts::PYTHON.bytes };
            let path = std::env::temp_dir().join(format!("nodehost-bench-{}-{}.cwasm", rt.id(), std::process::id()));
            std::fs::write(&path, wt.precompile_component(bytes).expect("compile")).unwrap();
            // Mapped into memory by each load: the file may go now.
            let file = TempFile(path);
            Case::timed(1, move || {
                // SAFETY: the file was written just now by this engine.
                drop(unsafe { wasmtime::component::Component::deserialize_file(&wt, &file.0) }.expect("load"));
            })
        }),
        Scenario::new("init/compile_cold", "compiling the component to native code (what the cache saves; once per machine)", &[Rt::WasmRustpython, Rt::WasmRust], |rt| {
            let engine = WasmEngine::shared().expect("engine");
            let wt = engine.wasmtime_engine(engine.default_kind()).expect("engine");
            let bytes = if rt == Rt::WasmRust { nodehost_artifacts::RUST_NODES.bytes } else { nodehost_artifacts::PYTHON.bytes };
            Case::timed(1, move || drop(wt.precompile_component(bytes).expect("compile")))
        })
        .slow(),
    ];
    for (name, value) in marshal_values() {
        all.push(Scenario::new(format!("marshal/{name}"), "a pass-through node given one value of this type (in and back out)", &both(), move |rt| {
            node_case(py_or_rust(rt, "corpus/pass_through.py", "PassThrough", &[], "pass-through", &[]), value.clone())
        }));
    }
    all.extend([
        Scenario::new("data/mixed_types", "a pass-through node given a record with every kind of value", &both(), |rt| {
            node_case(py_or_rust(rt, "corpus/pass_through.py", "PassThrough", &[], "pass-through", &[]), mixed_value())
        }),
        Scenario::new("data/complex_transform", "validate a record and add statistics and metadata (ComplexData)", &py, |rt| {
            let record = Value::Map(
                [
                    ("id", Value::Int(1)),
                    ("values", Value::List((1..=20).map(|i| Value::Float(i as f64 * 1.5)).collect())),
                    ("tags", Value::List(vec![Value::from("alpha"), Value::from("beta")])),
                ]
                .into_iter()
                .collect(),
            );
            node_case(python_node("corpus/complex_data.py", "ComplexData", &[], rt.runtime()), record)
        }),
        Scenario::new("data/list_processing", "statistics and squares over a list of 10,000 ints", &py, |rt| {
            let list = Value::List((0..10_000).map(Value::Int).collect());
            node_case(python_node("corpus/list_processing.py", "ListProcessing", &[("operation", Value::from("stats"))], rt.runtime()), list)
        }),
        Scenario::new("data/streaming", "a generator node yielding 5 outputs per input", &py, |rt| {
            node_case(python_node("corpus/streaming.py", "Streaming", &[("count", Value::Int(5))], rt.runtime()), Value::Int(9))
        }),
        Scenario::new("data/chain_3", "three nodes called in turn on one thread (double, add 10, format)", &both(), |rt| {
            let specs = if Rt::PYTHON.contains(&rt) {
                vec![
                    python_node("corpus/chain.py", "Double", &[], rt.runtime()),
                    python_node("corpus/chain.py", "Add", &[("amount", Value::Int(10))], rt.runtime()),
                    python_node("corpus/chain.py", "Format", &[], rt.runtime()),
                ]
            } else {
                vec![
                    rust_node("calculator", &[("operation", Value::from("multiply")), ("operand", Value::Int(2))], rt.runtime()),
                    rust_node("calculator", &[("operation", Value::from("add")), ("operand", Value::Int(10))], rt.runtime()),
                    rust_node("text", &[("operation", Value::from("format")), ("template", Value::from("Result: {}"))], rt.runtime()),
                ]
            };
            let mut nodes: Vec<_> = specs.iter().map(create).collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            Case::timed(1, move || {
                a.clear();
                a.push(Value::Int(5));
                for node in &mut nodes {
                    b.clear();
                    for v in a.drain(..) {
                        node.process(v, &mut b).unwrap();
                    }
                    std::mem::swap(&mut a, &mut b);
                }
            })
        }),
        Scenario::new("pipeline/5_nodes", "a 5-node pipeline on tokio, 2000 items, once every node is ready", &both(), |rt| {
            let text = if Rt::PYTHON.contains(&rt) { PYTHON_5 } else { RUST_5 };
            pipeline_case(text, rt.runtime(), rt.runtime(), PIPELINE_ITEMS, 1, None)
        }),
        Scenario::new("pipeline/all_python_3", "double -> add -> format, all Python", &py, |rt| {
            pipeline_case(&[PY_DOUBLE, PY_ADD, PY_FORMAT].concat(), rt.runtime(), rt.rust_partner(), PIPELINE_ITEMS, 1, None)
        }),
        Scenario::new("pipeline/mixed_3", "Rust double -> Python add -> Rust format (Rust nodes sandboxed when the Python node is)", &py, |rt| {
            pipeline_case(&[RUST_DOUBLE, PY_ADD, RUST_FORMAT].concat(), rt.runtime(), rt.rust_partner(), PIPELINE_ITEMS, 1, None)
        }),
        Scenario::new("pipeline/all_rust_3", "double -> add -> format, all Rust", &rust, |rt| {
            pipeline_case(&[RUST_DOUBLE, RUST_ADD, RUST_FORMAT].concat(), rt.runtime(), rt.runtime(), PIPELINE_ITEMS, 1, None)
        }),
    ]);
    for copies in CONCURRENCY {
        all.push(
            Scenario::new(
                format!("concurrency/pipelines_{copies}"),
                "this many one-node pipelines at once, each node CPU-bound (Python: the float kernel, size 20; Rust: a 1000-sample RMS); throughput over all of them",
                &both(),
                move |rt| {
                    if Rt::PYTHON.contains(&rt) {
                        pipeline_case(FLOAT_1, rt.runtime(), rt.rust_partner(), CONCURRENCY_ITEMS, copies, Value::Int(20))
                    } else {
                        pipeline_case(RMS_1, rt.runtime(), rt.runtime(), CONCURRENCY_ITEMS * 10, copies, audio_frame(1000))
                    }
                },
            )
            .slow(),
        );
    }
    for kernel in crate::kernels::KERNELS {
        all.push(
            Scenario::new(format!("kernel/{}", kernel.name), "a pure-Python kernel (pyperformance style, written here) as a node", &py, move |rt| {
                node_case(kernel.spec(rt.runtime()), kernel.input())
            })
            .slow(),
        );
    }
    // What Python-level interruption costs: the same kernels with it on and
    // a deadline far enough away never to fire, and in the RustPython
    // sandbox (where it is on by default) also with it off.
    let interruptible = [Rt::NativeRustpython, Rt::WasmRustpython, Rt::WasmCpython];
    for (group, on, runtimes, about) in [
        (
            "kernel_interruptible",
            true,
            &interruptible[..],
            "the kernel with `interruptible = true` (its deadline never reached): against kernel_uninterruptible/, or kernel/ where it is off by default, it is what interruption costs",
        ),
        (
            "kernel_uninterruptible",
            false,
            &[Rt::WasmRustpython][..],
            "the kernel with `interruptible = false`: against kernel/ (on by default in the RustPython sandbox) it is what the default interruption checkpoint costs",
        ),
    ] {
        for kernel in crate::kernels::KERNELS {
            all.push(
                Scenario::new(format!("{group}/{}", kernel.name), about, runtimes, move |rt| {
                    let policy = SandboxPolicy { interruptible: Some(on), timeout: Duration::from_secs(60), ..SandboxPolicy::default() };
                    node_case(kernel.spec(rt.runtime()).with_policy(policy), kernel.input())
                })
                .slow(),
            );
        }
    }
    all
}


/// The `pipeline/` scenarios with the Python pipeline that does their work
/// (the all-Rust and mixed chains do the Python chain's work), for the
/// single-thread CPython baseline.
pub fn plain_loop_baselines() -> [(&'static str, String); 4] {
    let chain = [PY_DOUBLE, PY_ADD, PY_FORMAT].concat();
    [
        ("pipeline/5_nodes", PYTHON_5.to_owned()),
        ("pipeline/all_python_3", chain.clone()),
        ("pipeline/mixed_3", chain.clone()),
        ("pipeline/all_rust_3", chain),
    ]
}

/// Items per second of `text`'s Python nodes called in sequence on one
/// thread by a plain CPython program (`benches/plain_loop.py`), over
/// [`PIPELINE_ITEMS`] items: the median of three runs.
pub fn plain_loop_items_per_s(text: &str) -> Result<f64, String> {
    let p = pipeline(text, Runtime::Cpython, Runtime::Native);
    let entries: Vec<serde_json::Value> = p
        .nodes
        .iter()
        .map(|n| match &n.spec.source {
            nodehost::NodeSource::Python { file, class, .. } => Ok(serde_json::json!({
                "file": file,
                "class": (!class.is_empty()).then_some(class),
                "params": nodehost::value::json::to_json(&n.spec.params),
            })),
            _ => Err(format!("{}: not a Python node", n.spec.id)),
        })
        .collect::<Result<_, _>>()?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let spec = dir.path().join("spec.json");
    std::fs::write(&spec, serde_json::Value::Array(entries).to_string()).map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    for _ in 0..3 {
        let out = std::process::Command::new(crate::throughput::python_interpreter())
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("plain_loop.py"))
            .arg(&spec)
            .arg(PIPELINE_ITEMS.to_string())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        runs.push(String::from_utf8_lossy(&out.stdout).trim().parse::<f64>().map_err(|e| e.to_string())?);
    }
    runs.sort_by(f64::total_cmp);
    Ok(runs[1])
}
