//! The guest side of the WIT boundary (built for `wasm32` only): the
//! wit-bindgen bindings, the adapter from a [`Component`] to the generated
//! `Guest` traits, and the [`codec`] between [`Value`] and the WIT types
//! (the shared [`wit_codec!`](crate::wit_codec) expanded on this side's
//! bindings).

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::batch::{check_output_count, PackedBatch};
use crate::{Component, DynNode, ErrorKind, NodeError, Settings, Value};

pub use wit_bindgen;

/// The generated bindings of the `node-component` world.
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "node-component",
        pub_export_macro: true,
        export_macro_name: "__export_node_component",
        runtime_path: "::nodehost_sdk::component::wit_bindgen::rt",
    });
}

/// [`Value`] and the other SDK types to and from this side's WIT types: the
/// one codec the host also uses, on wit-bindgen's types.
pub mod codec {
    crate::wit_codec!(super::bindings::nodehost::node::types);
}

use bindings::exports::nodehost::node::runtime as wit_rt;
use bindings::nodehost::node::types as wit;
use codec::{error_to_wit, type_info_to_wit};

/// The generated `Guest` traits implemented for any [`Component`]; the
/// [`export_component!`](crate::export_component) macro names this type.
pub struct Exports<C>(PhantomData<C>);

/// A live node behind a WIT resource handle.
pub struct NodeHandle {
    node: RefCell<Box<dyn DynNode>>,
    out: RefCell<Vec<Value>>,
}

thread_local! {
    static SETTINGS: std::cell::Cell<Settings> = std::cell::Cell::new(Settings::default());
}

/// The settings the host gave this component.
pub fn settings() -> Settings {
    SETTINGS.with(std::cell::Cell::get)
}

impl<C: Component> wit_rt::Guest for Exports<C> {
    type Node = NodeHandle;

    fn configure(settings: wit::Settings) -> wit::ValueForms {
        let settings = codec::settings_from_wit(settings);
        SETTINGS.with(|s| s.set(settings));
        C::configure(&settings);
        // Rust reads the plain forms fastest: lists of numbers and buffers
        // are one copy either way. Batches cross packed: a block of bytes
        // each way instead of a lift and a lower per value.
        codec::value_forms_to_wit(crate::codec::ValueForms { packed_batches: true, ..Default::default() })
    }

    fn prepare(modules: Vec<String>) -> Result<(), wit::NodeError> {
        C::prepare(modules).map_err(error_to_wit)
    }

    fn node_types() -> Vec<wit::NodeTypeInfo> {
        C::node_types().into_iter().map(type_info_to_wit).collect()
    }

    fn load_module(name: String, source: String) -> Result<Vec<wit::NodeTypeInfo>, wit::NodeError> {
        C::load_module(name, source)
            .map(|infos| infos.into_iter().map(type_info_to_wit).collect())
            .map_err(error_to_wit)
    }

    fn create(type_name: String, params: wit::Value) -> Result<wit_rt::Node, wit::NodeError> {
        let params = codec::from_wit(params).map_err(error_to_wit)?;
        let node = C::create(&type_name, params).map_err(error_to_wit)?;
        Ok(wit_rt::Node::new(NodeHandle { node: RefCell::new(node), out: RefCell::new(Vec::new()) }))
    }
}

impl wit_rt::GuestNode for NodeHandle {
    fn process(&self, input: wit::Value) -> Result<wit::Outputs, wit::NodeError> {
        let input = codec::from_wit(input).map_err(error_to_wit)?;
        let mut out = self.out.borrow_mut();
        out.clear();
        let result = self.node.borrow_mut().process(input, &mut out);
        finish(result, &mut out)
    }

    fn process_many(&self, first: wit::Value) {
        let mut input = first;
        loop {
            let answer = wit_rt::GuestNode::process(self, input);
            match bindings::nodehost::node::host::next_input(answer.as_ref()) {
                Some(next) => input = next,
                None => return,
            }
        }
    }

    fn process_batch(&self, inputs: Vec<wit::Value>) -> Vec<Result<wit::Outputs, wit::NodeError>> {
        let mut answers = Vec::with_capacity(inputs.len());
        for input in inputs {
            let answer = wit_rt::GuestNode::process(self, input);
            let failed = answer.is_err();
            answers.push(answer);
            if failed {
                break;
            }
        }
        answers
    }

    fn process_packed(&self, inputs: Vec<u8>) -> wit::PackedAnswers {
        let mut out = self.out.borrow_mut();
        let mut batch = PackedBatch::new(&inputs, &mut out, max_outputs());
        let failure = self.node.borrow_mut().process_packed(&mut batch).err().map(error_to_wit);
        wit::PackedAnswers { passed: wit::PackedBytes::Raw(batch.into_passed()), failure }
    }

    fn close(&self) {
        // Dropping the node runs its clean-up (a Python node's cleanup()).
        drop(std::mem::replace(&mut *self.node.borrow_mut(), Box::new(Closed)));
    }

    fn flush(&self) -> Result<wit::Outputs, wit::NodeError> {
        let mut out = self.out.borrow_mut();
        out.clear();
        let result = self.node.borrow_mut().flush(&mut out);
        finish(result, &mut out)
    }
}

/// What is left of a node after `close`: calls fail (the host makes none).
struct Closed;

impl DynNode for Closed {
    fn process(&mut self, _input: Value, _out: &mut Vec<Value>) -> Result<(), NodeError> {
        Err(NodeError::new(ErrorKind::Internal, "the node was closed".to_owned()))
    }

    fn flush(&mut self, _out: &mut Vec<Value>) -> Result<(), NodeError> {
        Err(NodeError::new(ErrorKind::Internal, "the node was closed".to_owned()))
    }
}

fn finish(result: Result<(), NodeError>, out: &mut Vec<Value>) -> Result<wit::Outputs, wit::NodeError> {
    result.map_err(error_to_wit)?;
    check_count(out).map_err(error_to_wit)?;
    codec::outputs_to_wit(out).map_err(error_to_wit)
}

/// The most outputs the host takes for one input.
fn max_outputs() -> usize {
    usize::try_from(settings().max_outputs).unwrap_or(usize::MAX)
}

/// Fail a call that gave more outputs than the host's limit.
fn check_count(out: &mut Vec<Value>) -> Result<(), NodeError> {
    check_output_count(out, max_outputs())
}

