//! Shared fixtures for the benchmarks: node specs for the same node on every
//! runtime, built from the files under `examples/`.

pub mod kernels;
pub mod report;
pub mod scenarios;
pub mod throughput;
pub mod voice;

use std::path::PathBuf;

use nodehost::{Node, NodeSpec, Runtime, Value, WasmEngine};

/// A path under the repository's `examples/`.
pub fn example(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples").join(path)
}

/// A Python node from `examples/<file>` with params given as `(key, value)`.
pub fn python_node(file: &str, class: &str, params: &[(&str, Value)], runtime: Runtime) -> NodeSpec {
    let path = example(file);
    let source = std::fs::read_to_string(&path).expect("example file");
    NodeSpec::python(class, path, &source, class, runtime).with_params(map(params))
}

/// A built-in Rust node.
pub fn rust_node(node_type: &str, params: &[(&str, Value)], runtime: Runtime) -> NodeSpec {
    NodeSpec::builtin(node_type, node_type, runtime).with_params(map(params))
}

pub fn map(params: &[(&str, Value)]) -> Value {
    Value::Map(params.iter().map(|(k, v)| (*k, v.clone())).collect())
}

/// Create a node (panicking with the error: a benchmark cannot go on without it).
pub fn create(spec: &NodeSpec) -> Box<dyn Node> {
    let engine = WasmEngine::shared().expect("engine");
    spec.create(&engine).unwrap_or_else(|e| panic!("creating {}: {e}", spec.id))
}
