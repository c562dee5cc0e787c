//! [`RustPythonNode`]: a Python node on RustPython linked into the host, the
//! `native-rustpython` baseline. The same interpreter and node code as the
//! Python guest component, without the sandbox; each node has its own
//! interpreter.

use std::path::Path;
use std::time::{Duration, Instant};

use nodehost_python::{PythonNode, PythonRuntime};
use nodehost_sdk::{DynNode, Value};

use crate::error::NodeFailure;
use crate::node::Node;
use crate::policy::SandboxPolicy;

/// A Python node on native RustPython. Outside the sandbox only the soft
/// deadline applies (when the policy makes the node interruptible): nothing
/// stops code that ignores it, and memory is not limited.
pub struct RustPythonNode {
    node: PythonNode,
    soft: Option<Duration>,
}

impl RustPythonNode {
    /// Start an interpreter, load `file`'s `source` and create `class` with `params`.
    pub fn new(file: &Path, source: &str, class: &str, params: Value, policy: &SandboxPolicy) -> Result<Self, NodeFailure> {
        let runtime = PythonRuntime::new()?;
        runtime.set_max_outputs(policy.max_outputs as usize);
        runtime.set_interruptible(policy.interruptible)?;
        runtime.load_module(&file.display().to_string(), source)?;
        let soft = policy.interruptible.then(|| policy.soft_deadline());
        Ok(RustPythonNode { node: runtime.create(class, params)?, soft })
    }

    fn call(&mut self, f: impl FnOnce(&mut PythonNode) -> Result<(), nodehost_sdk::NodeError>) -> Result<(), NodeFailure> {
        nodehost_sdk::interrupt::set_thread_deadline(self.soft.map(|s| Instant::now() + s));
        let result = f(&mut self.node);
        nodehost_sdk::interrupt::set_thread_deadline(None);
        result.map_err(|e| NodeFailure::from_guest(e, self.soft.unwrap_or_default()))
    }
}

impl Node for RustPythonNode {
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        self.call(|node| node.process(input, out))
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        self.call(|node| node.flush(out))
    }
}
