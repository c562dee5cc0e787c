//! [`NativeRustNode`]: a built-in Rust node linked into the host, the
//! `native` baseline. Same code as the sandboxed component, no sandbox: a
//! panic is caught and reported as a trap, but memory and time are not
//! limited.

use nodehost_sdk::{DynNode, Value};

use crate::error::NodeFailure;
use crate::node::{Node, catch_panic};

/// A built-in Rust node called directly.
pub struct NativeRustNode {
    node: Box<dyn DynNode>,
    poisoned: bool,
}

impl NativeRustNode {
    /// Create built-in node type `node_type` with `params`.
    pub fn new(node_type: &str, params: Value) -> Result<Self, NodeFailure> {
        let node = catch_panic(|| nodehost_rust_nodes::node_registry().create(node_type, params).map_err(NodeFailure::Guest))?;
        Ok(NativeRustNode { node, poisoned: false })
    }

    fn call(&mut self, f: impl FnOnce(&mut dyn DynNode) -> Result<(), nodehost_sdk::NodeError>) -> Result<(), NodeFailure> {
        if self.poisoned {
            return Err(NodeFailure::Poisoned);
        }
        let node = &mut *self.node;
        let result = catch_panic(|| f(node).map_err(NodeFailure::Guest));
        self.poisoned = matches!(result, Err(NodeFailure::Panicked(_)));
        result
    }
}

impl Node for NativeRustNode {
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        self.call(|node| node.process(input, out))
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        self.call(|node| node.flush(out))
    }
}
