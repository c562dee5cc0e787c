//! [`Value`]: the one data type that flows between nodes.
//!
//! A value is a tree: scalars, byte strings, lists and string-keyed maps
//! nested to any depth up to [`MAX_DEPTH`], plus the typed buffers media nodes
//! need ([`AudioFrame`], [`NumArray`]). On the Wasm boundary a value travels as
//! a flat node table (see `wit/node.wit`); in Rust it is this enum.

use std::fmt;

use num_bigint::BigInt;

/// How deeply lists and maps may nest in one value. Deeper values are refused
/// at the boundary with [`crate::ErrorKind::UnsupportedValue`], so no
/// conversion ever recurses without bound.
pub const MAX_DEPTH: usize = 128;

/// A value passed into or out of a node.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// No value.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// An exact integer outside the range of [`Value::Int`]. Every integer
    /// that fits in an `i64` is an `Int`: [`Value::from`] and the boundary
    /// codec normalize, so build one with `Value::from(big)` (or call
    /// [`Value::normalized`]) rather than naming the variant.
    BigInt(BigInt),
    /// A 64-bit float.
    Float(f64),
    /// A UTF-8 string.
    Str(String),
    /// A byte string.
    Bytes(Vec<u8>),
    /// An ordered list of values.
    List(Vec<Value>),
    /// A string-keyed map that keeps insertion order.
    Map(Map),
    /// A frame of audio samples.
    Audio(AudioFrame),
    /// An n-dimensional numeric array.
    Array(NumArray),
}

/// A frame of interleaved f32 audio samples.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AudioFrame {
    /// The samples, interleaved by channel.
    pub samples: Vec<f32>,
    /// Samples per second, per channel.
    pub sample_rate: u32,
    /// Number of channels.
    pub channels: u16,
}

impl AudioFrame {
    /// Check that the frame is well formed: at least one channel and a whole
    /// number of samples per channel.
    pub fn check(&self) -> Result<(), String> {
        if self.channels == 0 {
            return Err("audio frame with 0 channels".into());
        }
        if !self.samples.len().is_multiple_of(usize::from(self.channels)) {
            return Err(format!(
                "audio frame of {} samples does not divide into {} channels",
                self.samples.len(),
                self.channels
            ));
        }
        Ok(())
    }
}

/// The elements of a [`NumArray`], row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    /// 32-bit float elements.
    F32(Vec<f32>),
    /// 64-bit float elements.
    F64(Vec<f64>),
    /// 64-bit signed integer elements.
    I64(Vec<i64>),
}

impl ArrayData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
            ArrayData::I64(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type's name: `f32`, `f64` or `i64`.
    pub fn dtype(&self) -> &'static str {
        match self {
            ArrayData::F32(_) => "f32",
            ArrayData::F64(_) => "f64",
            ArrayData::I64(_) => "i64",
        }
    }
}

/// An n-dimensional numeric array.
#[derive(Debug, Clone, PartialEq)]
pub struct NumArray {
    /// The elements, row-major.
    pub data: ArrayData,
    /// The size of each dimension.
    pub shape: Vec<u32>,
}

impl NumArray {
    /// True when the shape's product equals the number of elements.
    pub fn is_consistent(&self) -> bool {
        self.shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d as usize))
            .is_some_and(|n| n == self.data.len())
    }

    /// Check that the shape matches the data, with a message saying how not.
    pub fn check(&self) -> Result<(), String> {
        if self.is_consistent() {
            Ok(())
        } else {
            Err(format!(
                "array of {} elements does not have shape {:?}",
                self.data.len(),
                self.shape
            ))
        }
    }
}

/// A string-keyed map that keeps insertion order (as Python dicts do).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map(Vec<(String, Value)>);

impl Map {
    /// An empty map.
    pub fn new() -> Self {
        Map(Vec::new())
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Map(Vec::with_capacity(n))
    }

    /// A map from entries whose keys must be unique (what a decoder receives
    /// from outside); a repeated key is an error naming it.
    pub fn from_unique_entries(entries: Vec<(String, Value)>) -> Result<Self, String> {
        let duplicate = if entries.len() <= 16 {
            entries
                .iter()
                .enumerate()
                .find(|(i, (k, _))| entries[..*i].iter().any(|(other, _)| other == k))
                .map(|(_, (k, _))| k)
        } else {
            let mut seen = std::collections::HashSet::with_capacity(entries.len());
            entries.iter().map(|(k, _)| k).find(|k| !seen.insert(k.as_str()))
        };
        match duplicate {
            Some(k) => Err(format!("map key {k:?} appears twice")),
            None => Ok(Map(entries)),
        }
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Set `key` to `value`, replacing an existing entry in place.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// Append an entry without looking for an existing key (for decoders that
    /// know keys are unique).
    pub fn push(&mut self, key: String, value: Value) {
        self.0.push((key, value));
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The entries, by value.
    pub fn into_entries(self) -> Vec<(String, Value)> {
        self.0
    }

    /// The entries, borrowed.
    pub fn entries(&self) -> &[(String, Value)] {
        &self.0
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Map {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        let mut map = Map::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The items of a list of numbers, packed: how such a list crosses the
/// component boundary (`int-list` / `float-list` in the WIT).
#[derive(Debug, Clone, PartialEq)]
pub enum PackedNumbers {
    /// A list of ints.
    Ints(Vec<i64>),
    /// A list of floats.
    Floats(Vec<f64>),
}

impl PackedNumbers {
    /// `items` packed, when there are two or more and they are all ints or
    /// all floats (bools are not ints here).
    pub fn pack(items: &[Value]) -> Option<Self> {
        if items.len() < 2 {
            return None;
        }
        match items[0] {
            Value::Int(_) => items
                .iter()
                .map(|v| if let Value::Int(x) = v { Some(*x) } else { None })
                .collect::<Option<Vec<i64>>>()
                .map(PackedNumbers::Ints),
            Value::Float(_) => items
                .iter()
                .map(|v| if let Value::Float(x) = v { Some(*x) } else { None })
                .collect::<Option<Vec<f64>>>()
                .map(PackedNumbers::Floats),
            _ => None,
        }
    }
}

impl Value {
    /// The name of this value's kind, as error messages show it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Audio(_) => "audio",
            Value::Array(_) => "array",
        }
    }

    /// A number as f64 (ints convert, big ones to the nearest f64 or to an
    /// infinity; bools do not).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::BigInt(i) => {
                Some(num_traits::ToPrimitive::to_f64(i).unwrap_or(if i.sign() == num_bigint::Sign::Minus {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }))
            }
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// An int that fits in an `i64` (a [`Value::BigInt`] that fits too).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::BigInt(i) => i64::try_from(i).ok(),
            _ => None,
        }
    }

    /// An int that fits in a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(i) => u64::try_from(*i).ok(),
            Value::BigInt(i) => u64::try_from(i).ok(),
            _ => None,
        }
    }

    /// An int that fits in an `i128`.
    pub fn as_i128(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(i128::from(*i)),
            Value::BigInt(i) => i128::try_from(i).ok(),
            _ => None,
        }
    }

    /// An int that fits in a `u128`.
    pub fn as_u128(&self) -> Option<u128> {
        match self {
            Value::Int(i) => u128::try_from(*i).ok(),
            Value::BigInt(i) => u128::try_from(i).ok(),
            _ => None,
        }
    }

    /// Any int, exactly, as a [`BigInt`].
    pub fn to_bigint(&self) -> Option<BigInt> {
        match self {
            Value::Int(i) => Some(BigInt::from(*i)),
            Value::BigInt(i) => Some(i.clone()),
            _ => None,
        }
    }

    /// This value with a [`Value::BigInt`] that fits in an `i64` made an
    /// [`Value::Int`], at every level: the one form each integer has on
    /// the boundary (the codec does the same as it encodes).
    pub fn normalized(self) -> Value {
        match self {
            Value::BigInt(i) => Value::from(i),
            Value::List(items) => Value::List(items.into_iter().map(Value::normalized).collect()),
            Value::Map(map) => Value::Map(Map(map.0.into_iter().map(|(k, v)| (k, v.normalized())).collect())),
            other => other,
        }
    }

    /// A bool.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// A string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// A list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The entry `key` of a map value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// How deeply lists and maps nest in this value (a scalar is depth 1).
    /// Stops counting at `limit + 1`, so it is cheap on hostile values.
    pub fn depth_up_to(&self, limit: usize) -> usize {
        fn go(v: &Value, here: usize, limit: usize) -> usize {
            if here > limit {
                return here;
            }
            match v {
                Value::List(l) => l.iter().map(|c| go(c, here + 1, limit)).max().unwrap_or(here),
                Value::Map(m) => m.0.iter().map(|(_, c)| go(c, here + 1, limit)).max().unwrap_or(here),
                _ => here,
            }
        }
        go(self, 1, limit)
    }
}

impl fmt::Display for Value {
    /// A compact, Python-like rendering used in error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("None"),
            Value::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::BigInt(i) => write_big(f, i),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "<{} bytes>", b.len()),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if i == 8 {
                        return write!(f, "... {} more]", l.len() - 8);
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if i == 8 {
                        return write!(f, "... {} more}}", m.len() - 8);
                    }
                    write!(f, "{k:?}: {v}")?;
                }
                f.write_str("}")
            }
            Value::Audio(a) => write!(
                f,
                "<audio {} samples, {} Hz, {} ch>",
                a.samples.len(),
                a.sample_rate,
                a.channels
            ),
            Value::Array(a) => write!(f, "<array {} {:?}>", a.data.dtype(), a.shape),
        }
    }
}

/// A big int in an error message: in full when short, else its size and
/// its last digits (decimal conversion of a huge int is slow, and the
/// message would be useless anyway).
fn write_big(f: &mut fmt::Formatter<'_>, i: &BigInt) -> fmt::Result {
    if i.bits() <= 256 {
        return write!(f, "{i}");
    }
    let last = (i % BigInt::from(1_000_000u32)).magnitude().to_string();
    let sign = if i.sign() == num_bigint::Sign::Minus { "-" } else { "" };
    write!(f, "<int of {} bits: {sign}...{last:0>6}>", i.bits())
}

macro_rules! from_impls {
    ($($t:ty => $variant:ident $(as $cast:ty)?),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(v $(as $cast)?)
            }
        })*
    };
}

from_impls! {
    bool => Bool,
    i64 => Int,
    i32 => Int as i64,
    u32 => Int as i64,
    f64 => Float,
    f32 => Float as f64,
    String => Str,
    Vec<u8> => Bytes,
    Vec<Value> => List,
    Map => Map,
    AudioFrame => Audio,
    NumArray => Array,
}

impl From<BigInt> for Value {
    /// An `Int` when it fits in an `i64`, else a `BigInt`.
    fn from(v: BigInt) -> Self {
        match i64::try_from(&v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::BigInt(v),
        }
    }
}

macro_rules! from_wide_ints {
    ($($t:ty),*) => {
        $(impl From<$t> for Value {
            /// An `Int` when it fits in an `i64`, else an exact `BigInt`.
            fn from(v: $t) -> Self {
                match i64::try_from(v) {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::BigInt(BigInt::from(v)),
                }
            }
        })*
    };
}

from_wide_ints!(u64, i128, u128);

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_owned())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_insert_replaces_in_place() {
        let mut m = Map::new();
        m.insert("a", 1);
        m.insert("b", 2);
        m.insert("a", 3);
        let keys: Vec<_> = m.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(m.get("a"), Some(&Value::Int(3)));
    }

    #[test]
    fn unique_entries_are_checked() {
        let ok = Map::from_unique_entries(vec![("a".into(), Value::Null), ("b".into(), Value::Null)]);
        assert!(ok.is_ok());
        let dup = Map::from_unique_entries(vec![("a".into(), Value::Null), ("a".into(), Value::Null)]);
        assert_eq!(dup.unwrap_err(), "map key \"a\" appears twice");
        let mut many: Vec<(String, Value)> = (0..100).map(|i| (i.to_string(), Value::Null)).collect();
        assert!(Map::from_unique_entries(many.clone()).is_ok());
        many.push(("42".into(), Value::Null));
        assert!(Map::from_unique_entries(many).is_err());
    }

    #[test]
    fn depth_counts_nesting() {
        let mut v = Value::Int(1);
        for _ in 0..10 {
            v = Value::List(vec![v]);
        }
        assert_eq!(v.depth_up_to(100), 11);
        assert_eq!(v.depth_up_to(3), 4);
    }

    #[test]
    fn ints_beyond_64_bits_are_big_ints_and_only_those() {
        assert_eq!(Value::from(i64::MAX as u64), Value::Int(i64::MAX));
        assert!(matches!(Value::from(i64::MAX as u64 + 1), Value::BigInt(_)));
        assert_eq!(Value::from(i128::from(i64::MIN)), Value::Int(i64::MIN));
        assert!(matches!(Value::from(i128::from(i64::MIN) - 1), Value::BigInt(_)));
        assert_eq!(Value::from(5u128), Value::Int(5));
        assert_eq!(Value::from(BigInt::from(-7)), Value::Int(-7));
        let big = Value::from(u128::MAX);
        assert_eq!(big.as_u128(), Some(u128::MAX));
        assert_eq!(big.as_i128(), None);
        assert_eq!(big.as_u64(), None);
        assert_eq!(big.as_f64(), Some(u128::MAX as f64));
        assert_eq!(big.to_bigint(), Some(BigInt::from(u128::MAX)));
        assert_eq!(big.type_name(), "int");
        assert_eq!(Value::from(BigInt::from(10).pow(400)).as_f64(), Some(f64::INFINITY));
        assert_eq!(Value::from(-BigInt::from(10).pow(400)).as_f64(), Some(f64::NEG_INFINITY));
        let unnormal = Value::List(vec![
            Value::BigInt(BigInt::from(1)),
            Value::Map([("k", Value::BigInt(BigInt::from(2)))].into_iter().collect()),
        ]);
        assert_eq!(
            unnormal.normalized(),
            Value::List(vec![Value::Int(1), Value::Map([("k", Value::Int(2))].into_iter().collect())])
        );
        // A big int does not make values bigger.
        assert!(size_of::<Value>() <= 64, "{}", size_of::<Value>());
    }

    #[test]
    fn big_ints_display_in_full_or_briefly() {
        assert_eq!(Value::from(u64::MAX).to_string(), "18446744073709551615");
        assert_eq!(Value::from(-(BigInt::from(1) << 100u32)).to_string(), "-1267650600228229401496703205376");
        let huge = Value::from(BigInt::from(10).pow(4000) + 42);
        assert_eq!(huge.to_string(), "<int of 13288 bits: ...000042>");
    }

    #[test]
    fn array_consistency() {
        let a = NumArray { data: ArrayData::F32(vec![0.0; 6]), shape: vec![2, 3] };
        assert!(a.is_consistent());
        let b = NumArray { data: ArrayData::F32(vec![0.0; 5]), shape: vec![2, 3] };
        assert!(!b.is_consistent());
        let c = NumArray { data: ArrayData::I64(vec![]), shape: vec![u32::MAX, u32::MAX, u32::MAX] };
        assert!(!c.is_consistent());
    }
}
