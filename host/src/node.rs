//! [`Node`]: the one trait every runtime implements, and [`NodeSpec`]: what
//! to create a node from (its source, runtime, parameters and policy).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use nodehost_sdk::Value;
use serde::Deserialize;

use crate::engine::WasmEngine;
use crate::error::{Error, NodeFailure, Stage};
use crate::guest_log::GuestLog;
use crate::policy::SandboxPolicy;

/// A live node, whatever runs it. Outputs are pushed onto `out`.
///
/// Nodes are created and called on one thread (native RustPython is not
/// `Send`); the pipeline gives each node its own thread with
/// [`NODE_THREAD_STACK`] bytes of stack, which sandboxed calls need.
pub trait Node {
    /// Take one input and push zero or more outputs.
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure>;
    /// End of stream: push whatever is left.
    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeFailure>;
}

/// Stack size of the threads that run nodes: above the engine's largest
/// `max_wasm_stack`, with room for the host's own frames.
pub const NODE_THREAD_STACK: usize = 32 << 20;

/// Where a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    /// Inside a Wasm component under wasmtime, in the sandbox (the default).
    #[default]
    Wasm,
    /// Python on RustPython linked into the host: no sandbox.
    NativeRustpython,
    /// Python on CPython through PyO3: no sandbox.
    Cpython,
    /// A Rust node linked into the host: no sandbox.
    Native,
    /// Python on CPython in a component built with componentize-py (a peer
    /// of the RustPython guest, for comparison), in the sandbox. The
    /// component is built by `scripts/build-wasm-cpython.sh`; its path is
    /// `$NODEHOST_WASM_CPYTHON`.
    WasmCpython,
}

impl Runtime {
    /// The name used in manifests and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Wasm => "wasm",
            Runtime::NativeRustpython => "native-rustpython",
            Runtime::Cpython => "cpython",
            Runtime::Native => "native",
            Runtime::WasmCpython => "wasm-cpython",
        }
    }

    /// Whether this build can run nodes on this runtime.
    pub fn is_available(self) -> bool {
        match self {
            Runtime::Wasm | Runtime::Native => true,
            Runtime::NativeRustpython => cfg!(feature = "native-rustpython"),
            Runtime::Cpython => cfg!(feature = "cpython"),
            Runtime::WasmCpython => wasm_cpython_component().is_some_and(|p| p.is_file()),
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Runtime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "wasm" => Runtime::Wasm,
            "native-rustpython" => Runtime::NativeRustpython,
            "cpython" => Runtime::Cpython,
            "native" => Runtime::Native,
            "wasm-cpython" => Runtime::WasmCpython,
            other => return Err(format!("unknown runtime '{other}' (wasm, native-rustpython, cpython, native, wasm-cpython)")),
        })
    }
}

/// The componentize-py CPython component for the `wasm-cpython` runtime:
/// `$NODEHOST_WASM_CPYTHON`.
pub fn wasm_cpython_component() -> Option<PathBuf> {
    std::env::var_os("NODEHOST_WASM_CPYTHON").filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// What a node is made of.
#[derive(Debug, Clone)]
pub enum NodeSource {
    /// A Python node class, with its module's source.
    Python { file: PathBuf, source: Arc<str>, class: String },
    /// One of the built-in Rust nodes (`gain`, `calculator`, ...).
    Builtin { node_type: String },
    /// A node type from a component file (a Rust node built by a user).
    Component { path: PathBuf, node_type: String },
}

/// Everything needed to create one node. `Send`, so a pipeline can create
/// each node on the thread that runs it.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub id: String,
    pub source: NodeSource,
    pub runtime: Runtime,
    pub params: Value,
    pub policy: SandboxPolicy,
}

impl NodeSpec {
    /// A Python node from a file's source.
    pub fn python(id: &str, file: impl Into<PathBuf>, source: &str, class: &str, runtime: Runtime) -> Self {
        NodeSpec {
            id: id.to_owned(),
            source: NodeSource::Python { file: file.into(), source: source.into(), class: class.to_owned() },
            runtime,
            params: Value::Null,
            policy: SandboxPolicy::default(),
        }
    }

    /// A built-in Rust node.
    pub fn builtin(id: &str, node_type: &str, runtime: Runtime) -> Self {
        NodeSpec {
            id: id.to_owned(),
            source: NodeSource::Builtin { node_type: node_type.to_owned() },
            runtime,
            params: Value::Null,
            policy: SandboxPolicy::default(),
        }
    }

    /// The same spec with parameters.
    pub fn with_params(mut self, params: Value) -> Self {
        self.params = params;
        self
    }

    /// The same spec with a policy.
    pub fn with_policy(mut self, policy: SandboxPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Create the node. Call this on the thread that will call the node.
    pub fn create(&self, engine: &WasmEngine) -> Result<Box<dyn Node>, Error> {
        let fail = |failure: NodeFailure| Error::Node { node: self.id.clone(), stage: Stage::Create, failure };
        self.policy.check().map_err(|message| fail(NodeFailure::Host(format!("invalid policy: {message}"))))?;
        let log = GuestLog::new(&self.id, self.policy.max_log_bytes);
        match (&self.source, self.runtime) {
            (NodeSource::Python { file, source, class }, Runtime::Wasm) => {
                let component = engine.python(&self.policy)?;
                let filename = file.display().to_string();
                let source = crate::wasm::WasmSource::Python { filename: &filename, source, class };
                Ok(Box::new(
                    crate::wasm::WasmNode::new(&component, &self.id, source, self.params.clone(), &self.policy)
                        .map_err(fail)?,
                ))
            }
            (NodeSource::Python { file, source, class }, Runtime::WasmCpython) => {
                let path = wasm_cpython_component().ok_or_else(|| Error::Load {
                    what: "the wasm-cpython component".into(),
                    message: "set NODEHOST_WASM_CPYTHON to the component scripts/build-wasm-cpython.sh builds".into(),
                })?;
                let component = engine.load_file(&path, engine.kind_for(&self.policy))?;
                let filename = file.display().to_string();
                let source = crate::wasm::WasmSource::Python { filename: &filename, source, class };
                Ok(Box::new(
                    crate::wasm::WasmNode::new(&component, &self.id, source, self.params.clone(), &self.policy)
                        .map_err(fail)?,
                ))
            }
            (NodeSource::Builtin { node_type }, Runtime::Wasm) => {
                let component = engine.builtin(&nodehost_artifacts::RUST_NODES, engine.kind_for(&self.policy))?;
                let source = crate::wasm::WasmSource::NodeType(node_type);
                Ok(Box::new(
                    crate::wasm::WasmNode::new(&component, &self.id, source, self.params.clone(), &self.policy)
                        .map_err(fail)?,
                ))
            }
            (NodeSource::Component { path, node_type }, Runtime::Wasm) => {
                let component = engine.load_file(path, engine.kind_for(&self.policy))?;
                let source = crate::wasm::WasmSource::NodeType(node_type);
                Ok(Box::new(
                    crate::wasm::WasmNode::new(&component, &self.id, source, self.params.clone(), &self.policy)
                        .map_err(fail)?,
                ))
            }
            (NodeSource::Builtin { node_type }, Runtime::Native) => {
                crate::guest_log::route_native_logs(log);
                Ok(Box::new(crate::native::NativeRustNode::new(node_type, self.params.clone()).map_err(fail)?))
            }
            (NodeSource::Python { file, source, class }, Runtime::NativeRustpython) => {
                #[cfg(feature = "native-rustpython")]
                {
                    crate::guest_log::route_native_logs(log);
                    let node = crate::rustpython::RustPythonNode::new(file, source, class, self.params.clone(), &self.policy)
                        .map_err(fail)?;
                    Ok(Box::new(node))
                }
                #[cfg(not(feature = "native-rustpython"))]
                {
                    let _ = (file, source, class, log);
                    Err(Error::RuntimeUnavailable("native-rustpython"))
                }
            }
            (NodeSource::Python { file, source, class }, Runtime::Cpython) => {
                #[cfg(feature = "cpython")]
                {
                    crate::guest_log::route_native_logs(log);
                    let node = crate::cpython::CPythonNode::new(file, source, class, self.params.clone(), &self.policy)
                        .map_err(fail)?;
                    Ok(Box::new(node))
                }
                #[cfg(not(feature = "cpython"))]
                {
                    let _ = (file, source, class, log);
                    Err(Error::RuntimeUnavailable("cpython"))
                }
            }
            (NodeSource::Python { .. }, Runtime::Native) => Err(fail(NodeFailure::Host(
                "a Python node cannot run on the 'native' runtime (use wasm, native-rustpython or cpython)".into(),
            ))),
            (NodeSource::Builtin { .. } | NodeSource::Component { .. }, runtime) => Err(fail(NodeFailure::Host(format!(
                "a Rust node cannot run on the '{runtime}' runtime (use wasm or native)"
            )))),
        }
    }
}

/// Run `f` on a fresh thread with [`NODE_THREAD_STACK`] bytes of stack and
/// wait for it: the way to call sandboxed nodes from a thread whose own
/// stack is small (test harness threads have 2 MiB).
pub fn on_node_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("nodehost-node".into())
            .stack_size(NODE_THREAD_STACK)
            .spawn_scoped(scope, f)
            .expect("spawn a node thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
