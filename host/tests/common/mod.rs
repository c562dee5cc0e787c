//! Helpers shared by the integration tests: real components under the real
//! engine, called on threads with enough stack for sandboxed calls.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use nodehost::{Error, NodeSpec, Runtime, Value, WasmEngine, on_node_thread};

/// The three Python runtimes.
pub const PYTHON_RUNTIMES: [Runtime; 3] = [Runtime::Wasm, Runtime::NativeRustpython, Runtime::Cpython];

/// The process-wide engine (compiled components are cached on disk, so only
/// the first test run on a machine compiles the Python component).
pub fn engine() -> Arc<WasmEngine> {
    WasmEngine::shared().expect("engine")
}

/// A path under the repository's `examples/`.
pub fn example(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples").join(path)
}

/// A path under this crate's `tests/python/`.
pub fn test_python(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(path)
}

/// A Python node spec from a file.
pub fn python(file: PathBuf, class: &str, params: Value, runtime: Runtime) -> NodeSpec {
    let source = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let id = file.file_stem().unwrap().to_string_lossy().into_owned();
    NodeSpec::python(&id, file, &source, class, runtime).with_params(params)
}

/// What a node gave: one list of outputs (or the error) per input, then the
/// flush outputs (or error).
#[derive(Debug)]
pub struct Run {
    pub items: Vec<Result<Vec<Value>, nodehost::NodeFailure>>,
    pub flushed: Result<Vec<Value>, nodehost::NodeFailure>,
}

impl Run {
    /// Every output in order, panicking on any failure.
    pub fn outputs(&self) -> Vec<Value> {
        let mut all = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            match item {
                Ok(v) => all.extend(v.iter().cloned()),
                Err(e) => panic!("item {} failed: {e}", i + 1),
            }
        }
        all.extend(self.flushed.as_ref().expect("flush").iter().cloned());
        all
    }
}

/// Create the node on a node thread, feed it `inputs`, flush it.
pub fn run_node(spec: &NodeSpec, inputs: Vec<Value>) -> Result<Run, Error> {
    let engine = engine();
    on_node_thread(move || {
        let mut node = spec.create(&engine)?;
        let items = inputs
            .into_iter()
            .map(|input| {
                let mut out = Vec::new();
                node.process(input, &mut out).map(|()| out)
            })
            .collect();
        let mut out = Vec::new();
        let flushed = node.flush(&mut out).map(|()| out);
        Ok(Run { items, flushed })
    })
}

/// A value from JSON text (test tables are easier to read that way).
pub fn json(text: &str) -> Value {
    nodehost::json::from_json(serde_json::from_str(text).expect("test JSON")).expect("test value")
}

/// Values from a JSON array.
pub fn jsons(text: &str) -> Vec<Value> {
    match json(text) {
        Value::List(items) => items,
        other => panic!("expected a JSON array, got {other}"),
    }
}

#[derive(Clone, Default)]
pub struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Run `f` with the host's log captured (on the calling thread).
pub fn capture_logs<T>(f: impl FnOnce() -> T) -> (T, String) {
    let buf = SharedBuf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    (result, buf.text())
}
