//! The host side of the WIT value encoding: [`Value`] to and from WIT
//! values, whose lists and maps travel as a flat node table (`wit/node.wit`
//! explains the table). Decoding checks what a
//! hostile guest could get wrong: indices that point backwards or out of
//! range, entries used twice or not at all, nesting past [`MAX_DEPTH`],
//! repeated map keys and inconsistent audio or array buffers.

use nodehost_sdk::{ArrayData, AudioFrame, ErrorKind, Map, NodeError, NumArray, Value, MAX_DEPTH};

use crate::bindings::types as wit;

/// A value as a WIT value: scalars and buffers directly, lists and maps as
/// a table, root first.
pub fn to_wit(value: Value) -> Result<wit::Value, NodeError> {
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
    };
    nodes.push(node);
    Ok(())
}

fn index(i: usize) -> Result<u32, NodeError> {
    u32::try_from(i).map_err(|_| NodeError::unsupported_value("value has more than 2^32 parts"))
}

/// A WIT value from a guest as a [`Value`].
pub fn from_wit(value: wit::Value) -> Result<Value, NodeError> {
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

/// Everything one call gave, appended to `out`.
pub fn outputs_from_wit(outputs: wit::Outputs, out: &mut Vec<Value>) -> Result<(), NodeError> {
    match outputs {
        wit::Outputs::None => {}
        wit::Outputs::One(v) => out.push(from_wit(v)?),
        wit::Outputs::Many(vs) => {
            out.reserve(vs.len());
            for v in vs {
                out.push(from_wit(v)?);
            }
        }
    }
    Ok(())
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

/// Decode a nested value's table.
pub fn table_from_wit(mut nodes: Vec<wit::ValueNode>) -> Result<Value, NodeError> {
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
                (Value::Map(Map::from_unique_entries(items).map_err(NodeError::unsupported_value)?), depth + 1)
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
            wit::ErrorKind::LimitExceeded => ErrorKind::LimitExceeded,
            wit::ErrorKind::Interrupted => ErrorKind::Interrupted,
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


/// A list of two or more integers, or of two or more floats, as one packed
/// table entry (one block of memory at the boundary instead of an entry per
/// item).
fn pack(items: &[Value]) -> Option<wit::ValueNode> {
    nodehost_sdk::PackedNumbers::pack(items).map(|p| match p {
        nodehost_sdk::PackedNumbers::Ints(v) => wit::ValueNode::IntList(v),
        nodehost_sdk::PackedNumbers::Floats(v) => wit::ValueNode::FloatList(v),
    })
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
            let _ = table_from_wit(nodes);
        }
    }

    #[test]
    fn lists_of_numbers_travel_packed_and_come_back_the_same() {
        let ints = Value::List((0..100).map(Value::Int).collect());
        let wit::Value::Nested(nodes) = to_wit(ints.clone()).unwrap() else { panic!() };
        assert!(matches!(&nodes[..], [wit::ValueNode::IntList(v)] if v.len() == 100));
        assert_eq!(from_wit(wit::Value::Nested(nodes)).unwrap(), ints);
        let floats = Value::Map([("xs", Value::List(vec![Value::Float(1.5), Value::Float(-0.0)]))].into_iter().collect());
        let wit::Value::Nested(nodes) = to_wit(floats.clone()).unwrap() else { panic!() };
        assert!(matches!(nodes[1], wit::ValueNode::FloatList(_)));
        assert_eq!(from_wit(wit::Value::Nested(nodes)).unwrap(), floats);
        // Mixed lists (and bools, which are not ints) stay unpacked.
        for mixed in [vec![Value::Int(1), Value::Float(2.0)], vec![Value::Bool(true), Value::Int(1)], vec![Value::Int(1)]] {
            let wit::Value::Nested(nodes) = to_wit(Value::List(mixed.clone())).unwrap() else { panic!() };
            assert!(matches!(nodes[0], wit::ValueNode::List(_)));
            assert_eq!(from_wit(wit::Value::Nested(nodes)).unwrap(), Value::List(mixed));
        }
    }

    #[test]
    fn packed_lists_keep_to_the_depth_limit() {
        let nest = |levels: usize| (0..levels).fold(Value::List(vec![Value::Int(1), Value::Int(2)]), |v, _| Value::List(vec![v]));
        // A list of numbers is two levels deep: at 128 in all it passes...
        let deepest = nest(MAX_DEPTH - 2);
        assert_eq!(from_wit(to_wit(deepest.clone()).unwrap()).unwrap(), deepest);
        // ...and one level more is refused when encoding, as unpacked.
        assert!(to_wit(nest(MAX_DEPTH - 1)).unwrap_err().message.contains("nested deeper"));
    }

    #[test]
    fn hostile_tables_are_refused_with_reasons() {
        let cycle = vec![wit::ValueNode::List(vec![0])];
        assert!(table_from_wit(cycle).unwrap_err().message.contains("children must come after"));
        let shared = vec![wit::ValueNode::List(vec![1, 1]), wit::ValueNode::Null];
        assert!(table_from_wit(shared).unwrap_err().message.contains("used twice"));
        let stray = vec![wit::ValueNode::Null, wit::ValueNode::Null];
        assert!(table_from_wit(stray).unwrap_err().message.contains("not part of the value"));
        let dup = vec![
            wit::ValueNode::Map(vec![
                wit::MapEntry { key: "a".into(), value: 1 },
                wit::MapEntry { key: "a".into(), value: 2 },
            ]),
            wit::ValueNode::Null,
            wit::ValueNode::Null,
        ];
        assert!(table_from_wit(dup).unwrap_err().message.contains("appears twice"));
        let deep: Vec<_> = (0..200u32).map(|i| wit::ValueNode::List(if i < 199 { vec![i + 1] } else { vec![] })).collect();
        assert!(table_from_wit(deep).unwrap_err().message.contains("nested deeper"));
        let bad_audio = wit::Value::Audio(wit::AudioFrame { samples: vec![0.0; 3], sample_rate: 8000, channels: 2 });
        assert!(from_wit(bad_audio).unwrap_err().message.contains("channels"));
    }
}
