//! The host side of the WIT value encoding: [`Value`] to and from the flat
//! node table (`wit/node.wit` explains the table). Decoding checks what a
//! hostile guest could get wrong: indices that point backwards or out of
//! range, entries used twice or not at all, nesting past [`MAX_DEPTH`],
//! repeated map keys and inconsistent audio or array buffers.

use nodehost_sdk::{ArrayData, AudioFrame, ErrorKind, Map, NodeError, NumArray, Value, MAX_DEPTH};

use crate::bindings::types as wit;

/// Encode a value as a node table, root first.
pub fn to_wit(value: Value) -> Result<wit::Value, NodeError> {
    let mut nodes = Vec::with_capacity(1);
    encode(value, &mut nodes, 1)?;
    Ok(wit::Value { nodes })
}

fn too_deep() -> NodeError {
    NodeError::unsupported_value(format!("value nested deeper than {MAX_DEPTH} levels"))
}

fn encode(value: Value, nodes: &mut Vec<wit::ValueNode>, depth: usize) -> Result<(), NodeError> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    let node = match value {
        Value::Null => wit::ValueNode::Null,
        Value::Bool(b) => wit::ValueNode::Boolean(b),
        Value::Int(x) => wit::ValueNode::Integer(x),
        Value::Float(x) => wit::ValueNode::Float(x),
        Value::Str(s) => wit::ValueNode::Text(s),
        Value::Bytes(b) => wit::ValueNode::Bytes(b),
        Value::List(items) => {
            let at = nodes.len();
            nodes.push(wit::ValueNode::Null);
            let mut children = Vec::with_capacity(items.len());
            for item in items {
                children.push(index(nodes.len())?);
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
                entries.push(wit::MapEntry { key, value: index(nodes.len())? });
                encode(item, nodes, depth + 1)?;
            }
            nodes[at] = wit::ValueNode::Map(entries);
            return Ok(());
        }
        Value::Audio(a) => wit::ValueNode::Audio(wit::AudioFrame {
            samples: a.samples,
            sample_rate: a.sample_rate,
            channels: a.channels,
        }),
        Value::Array(a) => wit::ValueNode::Array(wit::NumArray {
            data: match a.data {
                ArrayData::F32(v) => wit::ArrayData::F32(v),
                ArrayData::F64(v) => wit::ArrayData::F64(v),
                ArrayData::I64(v) => wit::ArrayData::I64(v),
            },
            shape: a.shape,
        }),
    };
    nodes.push(node);
    Ok(())
}

fn index(i: usize) -> Result<u32, NodeError> {
    u32::try_from(i).map_err(|_| NodeError::unsupported_value("value has more than 2^32 parts"))
}

/// Decode a node table into a value.
pub fn from_wit(value: wit::Value) -> Result<Value, NodeError> {
    let mut nodes = value.nodes;
    let n = nodes.len();
    if n == 0 {
        return Err(NodeError::unsupported_value("empty value table"));
    }
    // Children have larger indices than their parents, so decoding from the
    // last entry to the first finds every child ready.
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
                (Value::Map(Map::from_unique_entries(items).map_err(NodeError::unsupported_value)?), depth + 1)
            }
            wit::ValueNode::Audio(a) => {
                let frame = AudioFrame { samples: a.samples, sample_rate: a.sample_rate, channels: a.channels };
                frame.check().map_err(NodeError::unsupported_value)?;
                (Value::Audio(frame), 1)
            }
            wit::ValueNode::Array(a) => {
                let data = match a.data {
                    wit::ArrayData::F32(v) => ArrayData::F32(v),
                    wit::ArrayData::F64(v) => ArrayData::F64(v),
                    wit::ArrayData::I64(v) => ArrayData::I64(v),
                };
                let array = NumArray { data, shape: a.shape };
                array.check().map_err(NodeError::unsupported_value)?;
                (Value::Array(array), 1)
            }
        };
        if depth > MAX_DEPTH {
            return Err(too_deep());
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

/// A guest's `node-error` in the SDK's terms.
pub fn error_from_wit(e: wit::NodeError) -> NodeError {
    NodeError {
        kind: match e.kind {
            wit::ErrorKind::InvalidParams => ErrorKind::InvalidParams,
            wit::ErrorKind::InvalidInput => ErrorKind::InvalidInput,
            wit::ErrorKind::UnsupportedValue => ErrorKind::UnsupportedValue,
            wit::ErrorKind::Raised => ErrorKind::Raised,
            wit::ErrorKind::UnknownType => ErrorKind::UnknownType,
            wit::ErrorKind::Load => ErrorKind::Load,
            wit::ErrorKind::Unsupported => ErrorKind::Unsupported,
            wit::ErrorKind::Internal => ErrorKind::Internal,
        },
        message: e.message,
        exception_type: e.exception_type,
        traceback: e.traceback,
    }
}

/// A node type description from a guest, in the SDK's terms.
pub fn type_info_from_wit(info: wit::NodeTypeInfo) -> nodehost_sdk::NodeTypeInfo {
    nodehost_sdk::NodeTypeInfo {
        name: info.name,
        description: info.description,
        params: info
            .params
            .into_iter()
            .map(|p| nodehost_sdk::ParamInfo {
                name: p.name,
                required: p.required,
                default: p.default.and_then(|d| from_wit(d).ok()),
                description: p.description,
            })
            .collect(),
        streaming: info.streaming,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>().prop_filter("NaN is not equal to itself", |f| !f.is_nan()).prop_map(Value::Float),
            ".{0,8}".prop_map(Value::Str),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
            (proptest::collection::vec(-1.0f32..1.0, 0..4), 1u32..96_000).prop_map(|(s, r)| Value::Audio(AudioFrame {
                samples: s,
                sample_rate: r,
                channels: 1
            })),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
                proptest::collection::btree_map("[a-z]{0,4}", inner, 0..6)
                    .prop_map(|m| Value::Map(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn round_trip(v in value()) {
            prop_assert_eq!(from_wit(to_wit(v.clone()).unwrap()).unwrap(), v);
        }

        #[test]
        fn garbage_tables_never_panic(nodes in proptest::collection::vec(
            prop_oneof![
                Just(wit::ValueNode::Null),
                proptest::collection::vec(0u32..12, 0..4).prop_map(wit::ValueNode::List),
                proptest::collection::vec(("[ab]", 0u32..12), 0..4)
                    .prop_map(|e| wit::ValueNode::Map(e.into_iter().map(|(key, value)| wit::MapEntry { key, value }).collect())),
            ],
            0..12,
        )) {
            let _ = from_wit(wit::Value { nodes });
        }
    }

    #[test]
    fn hostile_tables_are_refused_with_reasons() {
        let cycle = wit::Value { nodes: vec![wit::ValueNode::List(vec![0])] };
        assert!(from_wit(cycle).unwrap_err().message.contains("children must come after"));
        let shared = wit::Value { nodes: vec![wit::ValueNode::List(vec![1, 1]), wit::ValueNode::Null] };
        assert!(from_wit(shared).unwrap_err().message.contains("used twice"));
        let stray = wit::Value { nodes: vec![wit::ValueNode::Null, wit::ValueNode::Null] };
        assert!(from_wit(stray).unwrap_err().message.contains("not part of the value"));
        let dup = wit::Value {
            nodes: vec![
                wit::ValueNode::Map(vec![
                    wit::MapEntry { key: "a".into(), value: 1 },
                    wit::MapEntry { key: "a".into(), value: 2 },
                ]),
                wit::ValueNode::Null,
                wit::ValueNode::Null,
            ],
        };
        assert!(from_wit(dup).unwrap_err().message.contains("appears twice"));
        let deep = wit::Value {
            nodes: (0..200u32).map(|i| wit::ValueNode::List(if i < 199 { vec![i + 1] } else { vec![] })).collect(),
        };
        assert!(from_wit(deep).unwrap_err().message.contains("nested deeper"));
        let bad_audio = wit::Value {
            nodes: vec![wit::ValueNode::Audio(wit::AudioFrame { samples: vec![0.0; 3], sample_rate: 8000, channels: 2 })],
        };
        assert!(from_wit(bad_audio).unwrap_err().message.contains("channels"));
    }
}
