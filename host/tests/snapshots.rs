//! Fast start and many nodes: Python nodes from the pre-initialized
//! snapshot, baked components (`nodehost bake`), hundreds of sandboxed
//! Python instances alive at once, and nodes running on many threads at once.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use crate::common::*;
use nodehost::sandbox::PRELOADED_MODULES;
use nodehost::{EngineConfig, NodeSpec, Runtime, SandboxPolicy, Value, WasmEngine, on_node_thread};

/// The engine these tests run on: snapshots on whatever `NODEHOST_SNAPSHOTS`
/// says (they are what is tested here), with a disk cache to keep them in
/// (a scratch one if `NODEHOST_CACHE_DIR=off`).
fn snapshot_engine() -> Arc<WasmEngine> {
    static ENGINE: OnceLock<Arc<WasmEngine>> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        let default = EngineConfig::default();
        let cache_dir = default.cache_dir.clone().or_else(|| Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nodehost-cache")));
        WasmEngine::new(EngineConfig { snapshots: true, cache_dir, ..default }).expect("engine")
    });
    Arc::clone(engine)
}

fn run_node(spec: &NodeSpec, inputs: Vec<Value>) -> Result<Run, nodehost::Error> {
    run_node_on(&snapshot_engine(), spec, inputs)
}

const RANDOM_NODE: &str = r#"
import random

class Draw:
    def process(self, data):
        return random.random()
"#;

fn inline_python(id: &str, source: &str, class: &str) -> NodeSpec {
    NodeSpec::python(id, format!("{id}.py"), source, class, Runtime::Wasm)
}

/// Which of the preloaded modules a node finds already imported when it is
/// created (its own module imports only `sys`).
const PROBE_NODE: &str = r#"
import sys

class Probe:
    def __init__(self, modules):
        self.loaded = [m for m in modules if m in sys.modules]

    def process(self, data):
        return self.loaded
"#;

/// Python nodes start from the pre-initialized snapshot: the engine gives
/// it for a plain policy, and a node made from it finds every preloaded
/// module imported before its own code ran. A node granted an environment
/// variable starts from the plain component, where they are not.
#[test]
fn python_nodes_start_from_the_snapshot() {
    let engine = snapshot_engine();
    let granted = SandboxPolicy { env: vec!["NODEHOST_TEST_NOT_SET".into()], ..SandboxPolicy::default() };
    let snapshot = engine.python(&SandboxPolicy::default()).unwrap();
    let plain = engine.python(&granted).unwrap();
    assert_eq!(snapshot.name(), "python (pre-initialized)");
    assert_eq!(plain.name(), nodehost_artifacts::PYTHON.name);

    let modules = Value::List(PRELOADED_MODULES.iter().map(|m| Value::from(*m)).collect());
    let mut params = nodehost::Map::new();
    params.insert("modules", modules.clone());
    let probe = inline_python("probe", PROBE_NODE, "Probe").with_params(Value::Map(params));
    let loaded = run_node(&probe, vec![Value::Null]).unwrap().outputs();
    assert_eq!(loaded, [modules], "a node from the snapshot lacks preloaded modules");

    let probe = probe.with_policy(granted);
    let loaded = run_node(&probe, vec![Value::Null]).unwrap().outputs();
    let loaded = loaded[0].as_list().unwrap();
    assert!(!loaded.contains(&Value::from("statistics")), "the plain component had statistics imported: {loaded:?}");
}

#[test]
fn instances_from_the_snapshot_do_not_share_random_state() {
    let spec = inline_python("draw", RANDOM_NODE, "Draw");
    let a = run_node(&spec, vec![Value::Null, Value::Null]).unwrap().outputs();
    let b = run_node(&spec, vec![Value::Null, Value::Null]).unwrap().outputs();
    assert_eq!(a.len(), 2);
    assert_ne!(a, b, "two instances drew the same random numbers");
}

#[test]
fn instances_from_the_snapshot_draw_fresh_entropy() {
    let source = "import os, secrets, uuid\n\nclass Draw:\n    def process(self, data):\n        return [os.urandom(16).hex(), secrets.token_hex(16), str(uuid.uuid4())]\n";
    let spec = inline_python("entropy", source, "Draw");
    let a = run_node(&spec, vec![Value::Null]).unwrap().outputs();
    let b = run_node(&spec, vec![Value::Null]).unwrap().outputs();
    let (a, b) = (a[0].as_list().unwrap(), b[0].as_list().unwrap());
    for (x, y) in a.iter().zip(b) {
        assert_ne!(x, y, "two instances drew the same bytes");
    }
}

#[test]
fn preloaded_modules_are_there_and_work() {
    let source = r#"
import json, re, statistics, collections, datetime

class Use:
    def process(self, data):
        c = collections.Counter(re.findall(r"\w+", data))
        return json.dumps({"top": c.most_common(1)[0][0], "mean": statistics.mean([1, 2, 3, 4]),
                           "year": datetime.date(2024, 5, 1).year})
"#;
    let spec = inline_python("use", source, "Use");
    let out = run_node(&spec, vec![Value::from("a b a c a")]).unwrap().outputs();
    assert_eq!(out, vec![Value::from(r#"{"top": "a", "mean": 2.5, "year": 2024}"#)]);
}

/// `nodehost bake` writes a component with the module loaded; a manifest
/// names it with `component` and `type`, and it gives what the plain Python
/// node gives.
#[test]
fn a_baked_component_runs_in_a_pipeline_like_its_source() {
    let scratch = scratch_dir("bake");
    let dir = scratch.path();
    let baked = dir.join("calculator.wasm");
    let status = Command::new(env!("CARGO_BIN_EXE_nodehost"))
        .arg("bake")
        .arg(example("corpus/calculator.py"))
        .arg("-o")
        .arg(&baked)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::metadata(&baked).unwrap().len() > 1 << 20);

    let manifest = |node: &str| {
        format!(
            "[input]\nvalues = [1, 2, 3]\n\n[[node]]\nid = \"calc\"\n{node}\nparams = {{ operation = \"multiply\", operand = 7 }}\n"
        )
    };
    let run = |text: String, name: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_nodehost")).arg("run").arg(&path).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let from_bake = run(manifest("component = \"calculator.wasm\"\ntype = \"Calculator\""), "baked.toml");
    let source = example("corpus/calculator.py");
    let from_source = run(manifest(&format!("python = {:?}\nclass = \"Calculator\"", source.display().to_string())), "plain.toml");
    assert_eq!(from_bake, from_source);
    assert_eq!(from_bake.lines().collect::<Vec<_>>(), ["7", "14", "21"]);

    // A baked component changed on disk is compiled afresh, not served
    // from the cache under its old stamp.
    let other = Command::new(env!("CARGO_BIN_EXE_nodehost"))
        .arg("bake")
        .arg(example("corpus/counter.py"))
        .arg("-o")
        .arg(&baked)
        .status()
        .unwrap();
    assert!(other.success());
    let from_rebake = run(
        "[input]\nvalues = [5, 6]\n\n[[node]]\nid = \"count\"\ncomponent = \"calculator.wasm\"\ntype = \"Counter\"\n".into(),
        "counter.toml",
    );
    let outputs: Vec<Value> = from_rebake.lines().map(json).collect();
    let expected = r#"[{"count": 1, "total": 5, "value": 5}, {"count": 2, "total": 11, "value": 6},
                       {"final_count": 2, "final_total": 11}]"#;
    assert_eq!(outputs, jsons(expected), "{from_rebake}");
}

/// Three hundred sandboxed Python nodes alive at once, each with its own
/// state, all giving the right answers.
#[test]
fn hundreds_of_python_instances_live_side_by_side() {
    let engine = snapshot_engine();
    let spec = python(example("corpus/counter.py"), "Counter", Value::Null, Runtime::Wasm);
    on_node_thread(move || {
        let mut nodes: Vec<_> = (0..300).map(|i| spec.create(&engine).unwrap_or_else(|e| panic!("node {i}: {e}"))).collect();
        for round in 1..=3i64 {
            for (i, node) in nodes.iter_mut().enumerate() {
                // Node i gets i+1 inputs per round: its count must be its own.
                for _ in 0..=i % 4 {
                    let mut out = Vec::new();
                    node.process(Value::Int(round), &mut out).unwrap();
                }
            }
        }
        for (i, node) in nodes.iter_mut().enumerate() {
            let mut out = Vec::new();
            node.process(Value::Int(0), &mut out).unwrap();
            let count = match &out[0] {
                Value::Map(m) => m.get("count").cloned(),
                other => panic!("node {i} gave {other:?}"),
            };
            assert_eq!(count, Some(Value::Int(3 * (i as i64 % 4 + 1) + 1)), "node {i}");
        }
    });
}

/// Python nodes on eight threads at once: no global lock, no shared state.
#[test]
fn python_nodes_run_on_many_threads_at_once() {
    let engine = snapshot_engine();
    let threads: Vec<_> = (0..8i64)
        .map(|t| {
            let engine = engine.clone();
            std::thread::Builder::new()
                .stack_size(nodehost::NODE_THREAD_STACK)
                .spawn(move || {
                    let params = json(&format!(r#"{{"operation": "add", "operand": {t}}}"#));
                    let spec = python(example("corpus/calculator.py"), "Calculator", params, Runtime::Wasm);
                    let mut node = spec.create(&engine).unwrap();
                    (0..200i64)
                        .map(|i| {
                            let mut out = Vec::new();
                            node.process(Value::Int(i), &mut out).unwrap();
                            assert_eq!(out, vec![Value::Int(i + t)]);
                        })
                        .count()
                })
                .unwrap()
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
}

/// Nodes granted environment variables start from the plain component (the
/// snapshot froze the environment it was taken in) and see their grant.
#[test]
fn granted_environment_is_seen_despite_snapshots() {
    // The variable is set in a child process of this test binary, which
    // runs this test alone (see `in_child_process` for why not `set_var`).
    if !in_child_process(module_path!(), "granted_environment_is_seen_despite_snapshots", &[("NODEHOST_TEST_GRANT", "yes")]) {
        return;
    }
    let source = "import os\nclass Env:\n    def process(self, data):\n        return str(os.environ.get(data))\n";
    let mut spec = inline_python("env", source, "Env");
    spec.policy = SandboxPolicy { env: vec!["NODEHOST_TEST_GRANT".into()], ..SandboxPolicy::default() };
    let out = run_node(&spec, vec![Value::from("NODEHOST_TEST_GRANT")]).unwrap().outputs();
    assert_eq!(out, vec![Value::from("yes")]);
    let plain = inline_python("env", source, "Env");
    let out = run_node(&plain, vec![Value::from("NODEHOST_TEST_GRANT")]).unwrap().outputs();
    assert_eq!(out, vec![Value::from("None")]);
}
