//! The guest side of the WIT boundary (built for `wasm32` only): the
//! wit-bindgen bindings, the adapter from a [`Component`] to the generated
//! `Guest` traits, and the conversion between [`Value`] and the flat WIT
//! value table.

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::{
    ArrayData, AudioFrame, Component, DynNode, ErrorKind, Map, NodeError, NodeTypeInfo, NumArray, ParamInfo, Settings,
    Value, MAX_DEPTH,
};

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

use bindings::exports::nodehost::node::runtime as wit_rt;
use bindings::nodehost::node::types as wit;

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
    SETTINGS.with(|s| s.get())
}

impl<C: Component> wit_rt::Guest for Exports<C> {
    type Node = NodeHandle;

    fn configure(settings: wit::Settings) {
        let settings = Settings { max_outputs: settings.max_outputs, interruptible: settings.interruptible };
        SETTINGS.with(|s| s.set(settings));
        C::configure(&settings);
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
        let params = value_from_wit(params).map_err(error_to_wit)?;
        let node = C::create(&type_name, params).map_err(error_to_wit)?;
        Ok(wit_rt::Node::new(NodeHandle { node: RefCell::new(node), out: RefCell::new(Vec::new()) }))
    }
}

impl wit_rt::GuestNode for NodeHandle {
    fn process(&self, input: wit::Value) -> Result<wit::Outputs, wit::NodeError> {
        let input = value_from_wit(input).map_err(error_to_wit)?;
        let mut out = self.out.borrow_mut();
        out.clear();
        let result = self.node.borrow_mut().process(input, &mut out);
        finish(result, &mut out)
    }

    fn flush(&self) -> Result<wit::Outputs, wit::NodeError> {
        let mut out = self.out.borrow_mut();
        out.clear();
        let result = self.node.borrow_mut().flush(&mut out);
        finish(result, &mut out)
    }
}

fn finish(result: Result<(), NodeError>, out: &mut Vec<Value>) -> Result<wit::Outputs, wit::NodeError> {
    result.map_err(error_to_wit)?;
    let max = settings().max_outputs as usize;
    if out.len() > max {
        let n = out.len();
        out.clear();
        return Err(error_to_wit(NodeError::new(
            ErrorKind::LimitExceeded,
            format!("the node gave {n} outputs for one input; the limit is {max}"),
        )));
    }
    let outputs = match out.len() {
        0 => wit::Outputs::None,
        1 => wit::Outputs::One(value_to_wit(out.pop().expect("one output")).map_err(error_to_wit)?),
        _ => wit::Outputs::Many(out.drain(..).map(value_to_wit).collect::<Result<_, _>>().map_err(error_to_wit)?),
    };
    Ok(outputs)
}

fn error_to_wit(e: NodeError) -> wit::NodeError {
    wit::NodeError {
        kind: match e.kind {
            ErrorKind::InvalidParams => wit::ErrorKind::InvalidParams,
            ErrorKind::InvalidInput => wit::ErrorKind::InvalidInput,
            ErrorKind::UnsupportedValue => wit::ErrorKind::UnsupportedValue,
            ErrorKind::Raised => wit::ErrorKind::Raised,
            ErrorKind::UnknownType => wit::ErrorKind::UnknownType,
            ErrorKind::Load => wit::ErrorKind::Load,
            ErrorKind::Unsupported => wit::ErrorKind::Unsupported,
            ErrorKind::Internal => wit::ErrorKind::Internal,
            ErrorKind::LimitExceeded => wit::ErrorKind::LimitExceeded,
            ErrorKind::Interrupted => wit::ErrorKind::Interrupted,
        },
        message: e.message,
        exception_type: e.exception_type,
        traceback: e.traceback,
    }
}

fn type_info_to_wit(info: NodeTypeInfo) -> wit::NodeTypeInfo {
    wit::NodeTypeInfo {
        name: info.name,
        description: info.description,
        params: info.params.into_iter().map(param_to_wit).collect(),
        streaming: info.streaming,
    }
}

fn param_to_wit(p: ParamInfo) -> wit::ParamInfo {
    wit::ParamInfo {
        name: p.name,
        required: p.required,
        // A default that cannot be encoded is dropped from the description
        // rather than failing the whole listing.
        default: p.default.and_then(|d| value_to_wit(d).ok()),
        description: p.description,
    }
}

/// A WIT value as a [`Value`], checking what a careless or hostile host
/// could get wrong (see [`table_from_wit`]).
pub fn value_from_wit(value: wit::Value) -> Result<Value, NodeError> {
    Ok(match value {
        wit::Value::Null => Value::Null,
        wit::Value::Boolean(b) => Value::Bool(b),
        wit::Value::Integer(x) => Value::Int(x),
        wit::Value::Float(x) => Value::Float(x),
        wit::Value::Text(s) => Value::Str(s),
        wit::Value::Bytes(b) => Value::Bytes(b),
        wit::Value::Audio(a) => audio_from_wit(a)?,
        wit::Value::Array(a) => array_from_wit(a)?,
        wit::Value::Nested(nodes) => table_from_wit(nodes)?,
    })
}

fn audio_from_wit(a: wit::AudioFrame) -> Result<Value, NodeError> {
    let frame = AudioFrame { samples: a.samples, sample_rate: a.sample_rate, channels: a.channels };
    frame.check().map_err(NodeError::unsupported_value)?;
    Ok(Value::Audio(frame))
}

fn array_from_wit(a: wit::NumArray) -> Result<Value, NodeError> {
    let data = match a.data {
        wit::ArrayData::F32(v) => ArrayData::F32(v),
        wit::ArrayData::F64(v) => ArrayData::F64(v),
        wit::ArrayData::I64(v) => ArrayData::I64(v),
    };
    let array = NumArray { data, shape: a.shape };
    array.check().map_err(NodeError::unsupported_value)?;
    Ok(Value::Array(array))
}

/// Decode a nested value's table, checking that every index points forward
/// and within the table, every entry is used exactly once, nesting stays
/// within [`MAX_DEPTH`], map keys are unique and typed buffers consistent.
pub fn table_from_wit(mut nodes: Vec<wit::ValueNode>) -> Result<Value, NodeError> {
    let n = nodes.len();
    if n == 0 {
        return Err(NodeError::unsupported_value("empty value table"));
    }
    // Children always have larger indices than their parents, so building
    // from the last entry to the first finds every child already decoded.
    let mut slots: Vec<Option<(Value, usize)>> = Vec::with_capacity(n);
    slots.resize_with(n, || None);
    let take = |slots: &mut Vec<Option<(Value, usize)>>, parent: usize, child: u32| {
        let child = child as usize;
        if child <= parent || child >= n {
            return Err(NodeError::unsupported_value(format!(
                "value table entry {parent} refers to entry {child}: children must come after their parent and within the table"
            )));
        }
        slots[child]
            .take()
            .ok_or_else(|| NodeError::unsupported_value(format!("value table entry {child} is used twice")))
    };
    for i in (0..n).rev() {
        let node = nodes.pop().expect("one entry per index");
        let (value, depth) = match node {
            wit::ValueNode::Null => (Value::Null, 1),
            wit::ValueNode::Boolean(b) => (Value::Bool(b), 1),
            wit::ValueNode::Integer(x) => (Value::Int(x), 1),
            wit::ValueNode::Float(x) => (Value::Float(x), 1),
            wit::ValueNode::Text(s) => (Value::Str(s), 1),
            wit::ValueNode::Bytes(b) => (Value::Bytes(b), 1),
            wit::ValueNode::Audio(a) => (audio_from_wit(a)?, 1),
            wit::ValueNode::Array(a) => (array_from_wit(a)?, 1),
            wit::ValueNode::IntList(v) => (Value::List(v.into_iter().map(Value::Int).collect()), 2),
            wit::ValueNode::FloatList(v) => (Value::List(v.into_iter().map(Value::Float).collect()), 2),
            wit::ValueNode::List(children) => {
                let mut items = Vec::with_capacity(children.len());
                let mut depth = 0;
                for c in children {
                    let (v, d) = take(&mut slots, i, c)?;
                    depth = depth.max(d);
                    items.push(v);
                }
                (Value::List(items), depth + 1)
            }
            wit::ValueNode::Map(entries) => {
                let mut items = Vec::with_capacity(entries.len());
                let mut depth = 0;
                for e in entries {
                    let (v, d) = take(&mut slots, i, e.value)?;
                    depth = depth.max(d);
                    items.push((e.key, v));
                }
                let map = Map::from_unique_entries(items).map_err(NodeError::unsupported_value)?;
                (Value::Map(map), depth + 1)
            }
        };
        if depth > MAX_DEPTH {
            return Err(NodeError::unsupported_value(format!("value nested deeper than {MAX_DEPTH} levels")));
        }
        slots[i] = Some((value, depth));
    }
    if let Some(unused) = slots.iter().skip(1).position(Option::is_some) {
        return Err(NodeError::unsupported_value(format!(
            "value table entry {} is not part of the value",
            unused + 1
        )));
    }
    Ok(slots[0].take().expect("root decoded").0)
}

/// A [`Value`] as a WIT value: lists and maps as a table, root first.
pub fn value_to_wit(value: Value) -> Result<wit::Value, NodeError> {
    Ok(match value {
        Value::Null => wit::Value::Null,
        Value::Bool(b) => wit::Value::Boolean(b),
        Value::Int(x) => wit::Value::Integer(x),
        Value::Float(x) => wit::Value::Float(x),
        Value::Str(s) => wit::Value::Text(s),
        Value::Bytes(b) => wit::Value::Bytes(b),
        Value::Audio(a) => wit::Value::Audio(audio_to_wit(a)),
        Value::Array(a) => wit::Value::Array(array_to_wit(a)),
        nested @ (Value::List(_) | Value::Map(_)) => {
            let mut nodes = Vec::new();
            encode(nested, &mut nodes, 1)?;
            wit::Value::Nested(nodes)
        }
    })
}

fn audio_to_wit(a: AudioFrame) -> wit::AudioFrame {
    wit::AudioFrame { samples: a.samples, sample_rate: a.sample_rate, channels: a.channels }
}

fn array_to_wit(a: NumArray) -> wit::NumArray {
    wit::NumArray {
        data: match a.data {
            ArrayData::F32(v) => wit::ArrayData::F32(v),
            ArrayData::F64(v) => wit::ArrayData::F64(v),
            ArrayData::I64(v) => wit::ArrayData::I64(v),
        },
        shape: a.shape,
    }
}

fn encode(value: Value, nodes: &mut Vec<wit::ValueNode>, depth: usize) -> Result<(), NodeError> {
    if depth > MAX_DEPTH {
        return Err(NodeError::unsupported_value(format!("value nested deeper than {MAX_DEPTH} levels")));
    }
    let node = match value {
        Value::Null => wit::ValueNode::Null,
        Value::Bool(b) => wit::ValueNode::Boolean(b),
        Value::Int(x) => wit::ValueNode::Integer(x),
        Value::Float(x) => wit::ValueNode::Float(x),
        Value::Str(s) => wit::ValueNode::Text(s),
        Value::Bytes(b) => wit::ValueNode::Bytes(b),
        Value::Audio(a) => wit::ValueNode::Audio(audio_to_wit(a)),
        Value::Array(a) => wit::ValueNode::Array(array_to_wit(a)),
        Value::List(items) => {
            // Packed only where its items may still nest one level deeper.
            if let Some(packed) = if depth < MAX_DEPTH { pack(&items) } else { None } {
                nodes.push(packed);
                return Ok(());
            }
            let at = nodes.len();
            nodes.push(wit::ValueNode::Null);
            let mut children = Vec::with_capacity(items.len());
            for item in items {
                children.push(nodes.len() as u32);
                encode(item, nodes, depth + 1)?;
            }
            nodes[at] = wit::ValueNode::List(children);
            return Ok(());
        }
        Value::Map(map) => {
            let at = nodes.len();
            nodes.push(wit::ValueNode::Null);
            let mut entries = Vec::with_capacity(map.len());
            for (key, item) in map {
                entries.push(wit::MapEntry { key, value: nodes.len() as u32 });
                encode(item, nodes, depth + 1)?;
            }
            nodes[at] = wit::ValueNode::Map(entries);
            return Ok(());
        }
    };
    nodes.push(node);
    Ok(())
}

/// A list of two or more integers, or of two or more floats, as one packed
/// table entry (one block of memory at the boundary instead of an entry per
/// item).
fn pack(items: &[Value]) -> Option<wit::ValueNode> {
    crate::PackedNumbers::pack(items).map(|p| match p {
        crate::PackedNumbers::Ints(v) => wit::ValueNode::IntList(v),
        crate::PackedNumbers::Floats(v) => wit::ValueNode::FloatList(v),
    })
}
