//! The host side of the WIT value encoding: [`Value`](nodehost_sdk::Value)
//! to and from the `bindgen!` types, lists and maps as a flat node table
//! (`wit/node.wit` explains the table). The codec itself is the SDK's, the
//! one the guest component uses too ([`nodehost_sdk::codec`]): this module
//! expands it on the host's bindings and tests it there. Decoding checks what
//! a hostile guest could get wrong: indices that point backwards or out of
//! range, entries used twice or not at all, nesting past
//! [`MAX_DEPTH`](nodehost_sdk::MAX_DEPTH), repeated map keys and inconsistent
//! audio or array buffers.

nodehost_sdk::wit_codec!(crate::sandbox::bindings::types);

#[cfg(test)]
mod tests {
    use super::*;
    use nodehost_sdk::{MAX_DEPTH, Value};
    use proptest::prelude::*;

    use crate::value::arbitrary::value;

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
