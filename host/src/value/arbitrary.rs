//! Proptest strategies for [`Value`]s, shared by the tests of every
//! boundary a value crosses (the WIT codec, JSON).

use nodehost_sdk::{AudioFrame, BigInt, Value};
use proptest::prelude::*;

/// A scalar, string, byte string, big int or audio frame (no NaN, so
/// values compare equal to themselves).
pub(crate) fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        big_int(),
        any::<f64>().prop_filter("NaN is not equal to itself", |f| !f.is_nan()).prop_map(Value::Float),
        ".{0,8}".prop_map(Value::Str),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
        (proptest::collection::vec(-1.0f32..1.0, 0..4), 1u32..96_000)
            .prop_map(|(s, r)| { Value::Audio(AudioFrame { samples: s, sample_rate: r, channels: 1 }) }),
    ]
}

/// An int beyond (or near) 64 bits, normalized as a decoder gives it.
pub(crate) fn big_int() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i128>().prop_map(Value::from),
        (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..48)).prop_map(|(negative, magnitude)| {
            let sign =
                if negative { nodehost_sdk::num_bigint::Sign::Minus } else { nodehost_sdk::num_bigint::Sign::Plus };
            Value::from(BigInt::from_bytes_le(sign, &magnitude))
        }),
    ]
}

/// Any value, nested up to 6 deep.
pub(crate) fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            // Ints, some big: a list a big int keeps from being packed.
            proptest::collection::vec(prop_oneof![any::<i64>().prop_map(Value::Int), big_int()], 2..6)
                .prop_map(Value::List),
            // Keys now and then a `$` form's name: a one-key map of one
            // must still read back from JSON as a map.
            proptest::collection::btree_map(prop_oneof![4 => "[a-z]{0,4}", 1 => "\\$(bytes|int|float|audio|array|map|oid)"], inner, 0..6)
                .prop_map(|m| Value::Map(m.into_iter().collect())),
        ]
    })
}
