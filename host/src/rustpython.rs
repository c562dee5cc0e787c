//! [`RustPythonNode`]: a Python node on RustPython linked into the host, the
//! `native-rustpython` baseline. The same interpreter and node code as the
//! Python guest component, without the sandbox; each node has its own
//! interpreter.

use std::path::Path;

use nodehost_python::{PythonNode, PythonRuntime};
use nodehost_sdk::{DynNode, Value};

use crate::error::NodeFailure;
use crate::node::Node;
use crate::policy::SandboxPolicy;

/// A Python node on native RustPython.
pub struct RustPythonNode {
    node: PythonNode,
}

impl RustPythonNode {
    /// Start an interpreter, load `file`'s `source` and create `class` with `params`.
    pub fn new(file: &Path, source: &str, class: &str, params: Value, policy: &SandboxPolicy) -> Result<Self, NodeFailure> {
        let runtime = PythonRuntime::new()?;
        runtime.set_max_outputs(policy.max_outputs);
        runtime.load_module(&file.display().to_string(), source)?;
        Ok(RustPythonNode { node: runtime.create(class, params)? })
    }
}

impl Node for RustPythonNode {
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        self.node.process(input, out).map_err(NodeFailure::Guest)
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        self.node.flush(out).map_err(NodeFailure::Guest)
    }
}
