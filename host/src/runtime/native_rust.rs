//! [`NativeRustNode`]: a built-in Rust node linked into the host, the
//! `native` baseline. Same code as the sandboxed component, no sandbox: a
//! panic is caught and reported as a trap, but memory and time are not
//! limited.

use std::collections::VecDeque;
use std::time::Duration;

use nodehost_sdk::{DynNode, Value};

use crate::error::NodeFailure;
use crate::node::{ItemAnswer, Node, answer_each, catch_panic};

/// A built-in Rust node called directly.
pub struct NativeRustNode {
    node: Box<dyn DynNode>,
    /// A call panicked: the node's state may be broken, so it answers
    /// nothing more.
    poisoned: bool,
}

impl NativeRustNode {
    /// Create built-in node type `node_type` with `params`.
    pub fn new(node_type: &str, params: Value) -> Result<Self, NodeFailure> {
        let node = catch_panic(|| nodehost_rust_nodes::node_registry().create(node_type, params).map_err(NodeFailure::Guest))?;
        Ok(Self::from_node(node))
    }

    fn from_node(node: Box<dyn DynNode>) -> Self {
        NativeRustNode { node, poisoned: false }
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

    /// The batch under one panic guard instead of one per input (on a
    /// chain of cheap nodes the guard per input was a tenth of the work).
    /// The input that panics fails with [`NodeFailure::Panicked`] and
    /// leaves no outputs; the answers before it stand.
    fn process_many(&mut self, inputs: &mut VecDeque<Value>, budget: Duration, out: &mut Vec<Value>, answers: &mut Vec<ItemAnswer>) {
        if self.poisoned {
            if inputs.pop_front().is_some() {
                answers.push(ItemAnswer::failed(NodeFailure::Poisoned));
            }
            return;
        }
        let (answers_before, out_before) = (answers.len(), out.len());
        let node = &mut *self.node;
        let guarded = catch_panic(|| {
            answer_each(inputs, budget, out, answers, |input, out| node.process(input, out).map_err(NodeFailure::Guest));
            Ok(())
        });
        if let Err(failure) = guarded {
            self.poisoned = true;
            let answered: usize = answers[answers_before..].iter().map(|a| a.outputs).sum();
            out.truncate(out_before + answered);
            answers.push(ItemAnswer::failed(failure));
        }
    }
}

#[cfg(test)]
mod tests {
    use nodehost_sdk::NodeError;

    use super::*;

    /// Gives each int twice; refuses 7; panics on 13, after one output.
    struct Picky;

    impl DynNode for Picky {
        fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
            match input {
                Value::Int(13) => {
                    out.push(Value::Int(13));
                    panic!("thirteen")
                }
                Value::Int(7) => Err(NodeError::raised("seven")),
                Value::Int(n) => {
                    out.push(Value::Int(n));
                    out.push(Value::Int(n));
                    Ok(())
                }
                other => Err(NodeError::expected("an int", &other)),
            }
        }
        fn flush(&mut self, _: &mut Vec<Value>) -> Result<(), NodeError> {
            Ok(())
        }
    }

    fn ints(values: &[i64]) -> VecDeque<Value> {
        values.iter().copied().map(Value::Int).collect()
    }

    #[test]
    fn a_batch_stops_after_a_failed_input_and_keeps_the_rest() {
        let mut node = NativeRustNode::from_node(Box::new(Picky));
        let (mut inputs, mut out, mut answers) = (ints(&[1, 7, 2]), Vec::new(), Vec::new());
        node.process_many(&mut inputs, Duration::from_secs(60), &mut out, &mut answers);
        assert_eq!(out, vec![Value::Int(1), Value::Int(1)]);
        assert_eq!(answers.len(), 2);
        assert!(answers[0].result.is_ok() && answers[0].outputs == 2);
        assert!(matches!(answers[1].failure(), Some(NodeFailure::Guest(_))), "{:?}", answers[1]);
        assert_eq!(inputs, ints(&[2]), "the inputs after the failure wait for the next call");
        // A raised error leaves the node usable.
        node.process_many(&mut inputs, Duration::from_secs(60), &mut out, &mut answers);
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn a_panic_fails_its_input_alone_and_poisons_the_node() {
        let mut node = NativeRustNode::from_node(Box::new(Picky));
        let (mut inputs, mut out, mut answers) = (ints(&[1, 2, 13, 3]), Vec::new(), Vec::new());
        node.process_many(&mut inputs, Duration::from_secs(60), &mut out, &mut answers);
        assert_eq!(out, ints(&[1, 1, 2, 2]).into_iter().collect::<Vec<_>>(), "the outputs before the panic stand");
        assert_eq!(answers.len(), 3);
        match answers[2].failure() {
            Some(NodeFailure::Panicked(message)) => assert_eq!(message, "thirteen"),
            other => panic!("{other:?}"),
        }
        assert_eq!(answers[2].outputs, 0);
        assert_eq!(inputs, ints(&[3]));
        // Poisoned: the next input fails at once, and so does a lone call.
        answers.clear();
        node.process_many(&mut inputs, Duration::from_secs(60), &mut out, &mut answers);
        assert_eq!(answers.len(), 1);
        assert!(matches!(answers[0].failure(), Some(NodeFailure::Poisoned)));
        assert!(inputs.is_empty());
        assert!(matches!(node.process(Value::Int(1), &mut out), Err(NodeFailure::Poisoned)));
    }
}
