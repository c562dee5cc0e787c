//! Helpers shared by the integration tests: real components under the real
//! engine, called on threads with enough stack for sandboxed calls.
#![allow(dead_code)]

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use nodehost::{Error, NodeSource, NodeSpec, Runtime, SandboxPolicy, Value, WasmEngine, on_node_thread};
use sha2::{Digest, Sha256};

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
    run_node_on(&engine(), spec, inputs)
}

/// [`run_node`] on a given engine.
pub fn run_node_on(engine: &WasmEngine, spec: &NodeSpec, inputs: Vec<Value>) -> Result<Run, Error> {
    on_node_thread(move || {
        let mut node = spec.create(engine)?;
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
    nodehost::value::json::from_json(serde_json::from_str(text).expect("test JSON")).expect("test value")
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

/// Run `f` with the host's log captured (on the calling thread): all of
/// `nodehost`'s records, and other crates' from `info` up (wasmtime-wasi
/// traces every import call, a million lines for a node that prints a lot).
pub fn capture_logs<T>(f: impl FnOnce() -> T) -> (T, String) {
    let buf = SharedBuf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("info,nodehost=trace"))
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    (result, buf.text())
}

/// A file named `name` holding `bytes` (a component for a `component = ...`
/// node), written once per process and atomically.
///
/// The file lives in the target directory's `tmp/` (this workspace's and
/// this user's), in a directory named by the SHA-256 of its bytes, so a
/// path always means the same contents: tests (threads of one process, or
/// several test binaries at once) that ask for the same file share it, and
/// runs after the first find it in place with the same file stamp, so the
/// compiled-code cache knows it. A file is published by writing a unique
/// temporary file in that directory and linking it into place only if no
/// file is there yet, so no reader ever sees a half-written file. A file
/// that is there with other contents (damaged by hand) is replaced, again
/// atomically.
pub fn component_file(name: &str, bytes: &[u8]) -> PathBuf {
    static WRITTEN: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let digest = hex::encode(&Sha256::digest(bytes)[..12]);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nodehost-tests").join(digest);
    let path = dir.join(name);
    // Held while writing: other threads of this process wait for the file.
    let mut written = WRITTEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let written = written.get_or_insert_with(HashSet::new);
    if written.contains(&path) {
        return path;
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    if std::fs::read(&path).ok().as_deref() != Some(bytes) {
        let mut temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .tempfile_in(&dir)
            .unwrap_or_else(|e| panic!("a temporary file in {}: {e}", dir.display()));
        temp.write_all(bytes).unwrap_or_else(|e| panic!("writing {}: {e}", temp.path().display()));
        match temp.persist_noclobber(&path) {
            Ok(_) => {}
            // Another process published it first: keep theirs if it is right.
            Err(e) if std::fs::read(&path).ok().as_deref() == Some(bytes) => drop(e),
            Err(e) => {
                e.file.persist(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    }
    written.insert(path.clone());
    path
}

/// The hostile Rust component (`guest-rust/hostile`) as a file.
pub fn hostile_component() -> PathBuf {
    component_file("hostile_nodes.wasm", nodehost_artifacts::HOSTILE_NODES.bytes)
}

/// The hostile Rust node of type `kind`.
pub fn hostile_rust(kind: &str) -> NodeSource {
    NodeSource::Component { path: hostile_component(), node_type: kind.into() }
}

/// The hostile Python node in `tests/hostile/<file>` (one class per file).
pub fn hostile_python(file: &str) -> NodeSource {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hostile").join(file);
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    NodeSource::Python { file: path, source: source.into(), class: String::new(), venv: None }
}

/// A sandboxed node `id` made of `source`, without parameters.
pub fn sandboxed(id: &str, source: NodeSource, policy: SandboxPolicy) -> NodeSpec {
    NodeSpec { id: id.into(), source, runtime: Runtime::Wasm, params: Value::Null, policy }
}

/// A fresh empty directory for one test, removed when dropped.
pub fn scratch_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("nodehost-{name}-"))
        .tempdir()
        .unwrap_or_else(|e| panic!("a scratch directory: {e}"))
}

/// For a test that needs a process of its own (environment variables, or
/// a resident-memory measurement no other test may blur): in the test's
/// own process, runs the test `test` of module `module` (pass
/// `module_path!()`) again in a child process of this test binary, alone,
/// with `env` set, checks that it ran there and passed, and returns
/// `false`; in that child, returns `true` and the test does its work.
///
/// Why not `std::env::set_var`: the harness runs tests on parallel
/// threads, and the host, tokio and wasmtime read the environment on
/// theirs (`NODEHOST_*`, granted variables); `setenv` while another thread
/// calls `getenv` is undefined behaviour, which is why `set_var` is
/// `unsafe`. A child gets its environment from `Command::env`, set up by
/// the kernel before any of its threads exist.
pub fn in_child_process(module: &str, test: &str, env: &[(&str, &str)]) -> bool {
    const MARKER: &str = "NODEHOST_TEST_CHILD";
    // The harness names tests by their path below the crate root.
    let module = module.split_once("::").map_or("", |(_, below_crate)| below_crate);
    let test = &format!("{module}::{test}");
    if std::env::var_os(MARKER).is_some_and(|v| v == test.as_str()) {
        return true;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(exe)
        .args([test, "--exact", "--test-threads=1", "--nocapture"])
        .env(MARKER, test)
        .envs(env.iter().copied())
        .output()
        .expect("re-running the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "`{test}` failed in its child process:\n{stdout}\n{stderr}");
    // A filter that matched nothing passes too: make sure the test ran.
    assert!(stdout.contains("test result: ok. 1 passed;"), "`{test}` did not run in the child process:\n{stdout}\n{stderr}");
    // What the child reported (measurements), for `--nocapture`.
    eprint!("{stderr}");
    false
}
