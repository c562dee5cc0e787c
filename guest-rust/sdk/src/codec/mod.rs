//! The value codec of the WIT boundary, the one copy both sides use.
//!
//! `wit/node.wit` sends a [`Value`] as a WIT `value`: scalars and typed
//! buffers as they are, lists and maps as a flat table of `value-node`s whose
//! entry 0 is the root and whose `%list` / `%map` entries refer to their
//! children by a greater index. The host (wasmtime's `bindgen!`) and the
//! guest component (wit-bindgen's `generate!`) each get their own Rust types
//! for that WIT, with the same names: the [`wit_codec!`](crate::wit_codec)
//! macro expands the conversions for a given generated `types` module, and
//! both sides invoke it, so there is one encoder and one validating decoder.
//!
//! What does not depend on the generated types lives here as plain code:
//! the decoder's bookkeeping ([`decode_table`], [`TableDecoder`]), the checks
//! on audio frames and arrays, the index conversion and the error messages.
//! Decoding refuses, with a message saying where, what a careless or hostile
//! peer could send: an empty table, an index that points backwards or out of
//! the table, an entry used twice or not at all, nesting past [`MAX_DEPTH`],
//! a repeated map key, an audio frame whose samples do not fit its channels
//! and an array whose shape does not fit its data. It never panics and never
//! recurses, whatever the table.
//!
//! Integers have one encoding each: `integer` for every one that fits in an
//! `i64`, `big-integer` (sign and little-endian magnitude) for the rest.
//! The encoder sends a [`Value::BigInt`] that fits as an `integer`; the
//! decoder turns a `big-integer` that fits back into a [`Value::Int`] (and
//! takes a magnitude with trailing zero bytes, which changes nothing).
//!
//! Some components read other forms faster and ask for them ([`ValueForms`]):
//! a list or map as CPython `marshal` data ([`python_marshal`], which does
//! recurse, to at most [`MAX_DEPTH`] levels), audio and arrays as packed
//! little-endian bytes ([`pack`], [`unpack`]), raw or as Latin-1 text
//! ([`latin1_bytes`]).

use num_bigint::{BigInt, BigUint, Sign};

use crate::{ArrayData, AudioFrame, Map, NodeError, NumArray, Value, MAX_DEPTH};

pub mod packed;
pub mod python_marshal;

pub use python_marshal::MarshalError;

/// Most bytes a parameter's default may take once decoded: a node type's
/// description comes from the guest, and marshal data can grow by its
/// references.
pub const MAX_DEFAULT_BYTES: u64 = 1 << 20;

/// The value forms a component asks to be sent (the WIT `value-forms` it
/// answers `configure` with). Plain forms are always understood; these
/// are faster for some guests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValueForms {
    /// Lists and maps as CPython `marshal` data (`python-marshal`).
    pub python_marshal: bool,
    /// Audio frames and arrays with their numbers as one block of bytes
    /// (`packed-audio`, `packed-array`).
    pub packed_buffers: bool,
    /// The component sends the packed bytes of its outputs through its
    /// stdout (`staged`); the host resolves them before decoding.
    pub staged_bytes: bool,
    /// Batches of inputs and their answers as blocks of [`packed`] values
    /// (`process-packed`) rather than WIT lists of values
    /// (`process-batch`).
    pub packed_batches: bool,
}

/// Why a value from the other side did not decode.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodeError {
    /// It is malformed (a bad table, buffer or marshal data); the error says
    /// where.
    Invalid(NodeError),
    /// It is well formed but the Python rules refuse it; the text is their
    /// reason (only `python-marshal` data can say this: a table cannot hold
    /// a set).
    Refused(String),
    /// Decoded, it would take more than `limit` bytes.
    TooLarge {
        /// The budget it went past.
        limit: u64,
    },
}

impl DecodeError {
    /// The error as one node error of kind `unsupported-value`.
    pub fn into_node_error(self) -> NodeError {
        match self {
            DecodeError::Invalid(e) => e,
            DecodeError::Refused(why) => NodeError::unsupported_value(why),
            DecodeError::TooLarge { limit } => MarshalError::TooLarge { limit }.into_node_error(),
        }
    }
}

impl From<NodeError> for DecodeError {
    fn from(e: NodeError) -> Self {
        DecodeError::Invalid(e)
    }
}

impl From<MarshalError> for DecodeError {
    fn from(e: MarshalError) -> Self {
        match e {
            MarshalError::Refused(why) => DecodeError::Refused(why),
            MarshalError::TooLarge { limit } => DecodeError::TooLarge { limit },
            malformed @ MarshalError::Malformed(_) => DecodeError::Invalid(malformed.into_node_error()),
        }
    }
}

/// Numbers as little-endian bytes (the packed forms).
pub fn pack<T: PackedNumber>(numbers: &[T]) -> Vec<u8> {
    // Each number into its own place: 4.5 times faster than appending them
    // one by one (48,000 f32s in 9 µs rather than 40).
    let mut out = vec![0; numbers.len() * T::SIZE];
    for (place, n) in out.chunks_exact_mut(T::SIZE).zip(numbers) {
        n.put(place);
    }
    out
}

/// Numbers back from little-endian bytes; `what` names the buffer in the
/// error when the length is not a whole number of them.
///
/// # Errors
/// A length that is not a multiple of the element size.
pub fn unpack<T: PackedNumber>(bytes: &[u8], what: &str) -> Result<Vec<T>, NodeError> {
    if !bytes.len().is_multiple_of(T::SIZE) {
        return Err(NodeError::unsupported_value(format!(
            "packed {what} of {} bytes is not a whole number of {}-byte {}",
            bytes.len(),
            T::SIZE,
            T::NAME
        )));
    }
    Ok(bytes.chunks_exact(T::SIZE).map(T::get).collect())
}

/// A number the packed forms carry (f32, f64, i64).
pub trait PackedNumber: Copy {
    /// Bytes per number.
    const SIZE: usize;
    /// Its name in messages.
    const NAME: &'static str;
    /// Write it into exactly [`Self::SIZE`] bytes, little-endian.
    fn put(&self, into: &mut [u8]);
    /// Read it from exactly [`Self::SIZE`] little-endian bytes.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! packed_number {
    ($t:ty, $name:literal) => {
        impl PackedNumber for $t {
            const SIZE: usize = size_of::<$t>();
            const NAME: &'static str = $name;
            #[inline]
            fn put(&self, into: &mut [u8]) {
                into.copy_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn get(bytes: &[u8]) -> Self {
                let mut raw = [0u8; size_of::<$t>()];
                raw.copy_from_slice(bytes);
                <$t>::from_le_bytes(raw)
            }
        }
    };
}

packed_number!(f32, "f32");
packed_number!(f64, "f64");
packed_number!(i64, "i64");

/// The bytes of a WIT `packed-bytes` sent as `latin1` text: each char one
/// byte.
///
/// # Errors
/// A char above U+00FF.
pub fn latin1_bytes(text: &str) -> Result<Vec<u8>, NodeError> {
    if text.is_ascii() {
        return Ok(text.as_bytes().to_vec());
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let byte = u8::try_from(u32::from(c))
            .map_err(|_| NodeError::unsupported_value("latin1 packed bytes with a char above U+00FF"))?;
        out.push(byte);
    }
    Ok(out)
}

/// [`latin1_bytes`] of a string that is given away: ASCII text (the usual
/// case) keeps its buffer, with no copy.
///
/// # Errors
/// A char above U+00FF.
pub fn latin1_into_bytes(text: String) -> Result<Vec<u8>, NodeError> {
    if text.is_ascii() {
        return Ok(text.into_bytes());
    }
    latin1_bytes(&text)
}

/// Array data from packed bytes of a kind (0: f32, 1: f64, 2: i64).
///
/// # Errors
/// A length that is not a whole number of elements.
pub fn unpack_array(kind: NumberKind, bytes: &[u8]) -> Result<ArrayData, NodeError> {
    Ok(match kind {
        NumberKind::F32 => ArrayData::F32(unpack(bytes, "array data")?),
        NumberKind::F64 => ArrayData::F64(unpack(bytes, "array data")?),
        NumberKind::I64 => ArrayData::I64(unpack(bytes, "array data")?),
    })
}

/// Array data as its kind and packed bytes.
pub fn pack_array(data: &ArrayData) -> (NumberKind, Vec<u8>) {
    match data {
        ArrayData::F32(v) => (NumberKind::F32, pack(v)),
        ArrayData::F64(v) => (NumberKind::F64, pack(v)),
        ArrayData::I64(v) => (NumberKind::I64, pack(v)),
    }
}

/// The element type of packed array data (the WIT `number-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// 4-byte floats.
    F32,
    /// 8-byte floats.
    F64,
    /// 8-byte signed ints.
    I64,
}

/// An integer as the wire carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireInt {
    /// It fits in an `i64`: the WIT `integer`.
    Small(i64),
    /// It does not: the WIT `big-int`, sign and magnitude (little-endian,
    /// no trailing zero bytes).
    Big {
        /// Below zero.
        negative: bool,
        /// The absolute value's bytes, least significant first.
        magnitude: Vec<u8>,
    },
}

/// `i` in its one wire form.
pub fn int_to_wire(i: &BigInt) -> WireInt {
    match i64::try_from(i) {
        Ok(small) => WireInt::Small(small),
        Err(_) => {
            let (sign, magnitude) = i.to_bytes_le();
            WireInt::Big { negative: sign == Sign::Minus, magnitude }
        }
    }
}

/// The integer a WIT `big-int` stands for, as a [`Value::Int`] when it fits
/// in an `i64` (so `-0` and short magnitudes are plain ints).
pub fn int_from_wire(negative: bool, magnitude: &[u8]) -> Value {
    let sign = if negative { Sign::Minus } else { Sign::Plus };
    Value::from(BigInt::from_biguint(sign, BigUint::from_bytes_le(magnitude)))
}

/// The error for a value nested deeper than [`MAX_DEPTH`].
pub fn too_deep() -> NodeError {
    NodeError::unsupported_value(format!("value nested deeper than {MAX_DEPTH} levels"))
}

/// A table position as the `u32` the WIT carries; a value with more parts
/// than that is refused rather than truncated.
pub fn index(position: usize) -> Result<u32, NodeError> {
    u32::try_from(position).map_err(|_| NodeError::unsupported_value("value has more than 2^32 parts"))
}

/// An audio frame from the wire, checked (at least one channel, a whole
/// number of samples per channel).
pub fn audio_value(samples: Vec<f32>, sample_rate: u32, channels: u16) -> Result<Value, NodeError> {
    let frame = AudioFrame { samples, sample_rate, channels };
    frame.check().map_err(NodeError::unsupported_value)?;
    Ok(Value::Audio(frame))
}

/// A numeric array from the wire, checked (the shape's product is the
/// number of elements).
pub fn array_value(data: ArrayData, shape: Vec<u32>) -> Result<Value, NodeError> {
    let array = NumArray { data, shape };
    array.check().map_err(NodeError::unsupported_value)?;
    Ok(Value::Array(array))
}

/// Decode a value table of any generated node type `N`: `decode` turns the
/// entry at an index into its value and depth (1 for a scalar or buffer),
/// taking the entry's children from the [`TableDecoder`]. Entries are
/// visited from the last to the first, so every child is ready before its
/// parent; the table is consumed, its strings and buffers moved, not copied.
pub fn decode_table<N>(
    mut nodes: Vec<N>,
    mut decode: impl FnMut(&mut TableDecoder, usize, N) -> Result<(Value, usize), NodeError>,
) -> Result<Value, NodeError> {
    let mut table = TableDecoder::new(nodes.len())?;
    for at in (0..nodes.len()).rev() {
        let Some(node) = nodes.pop() else { break };
        let (value, depth) = decode(&mut table, at, node)?;
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        table.slots[at] = Some((value, depth));
    }
    table.finish()
}

/// The entries of a value table decoded so far, each with its depth, and not
/// yet claimed by a parent.
pub struct TableDecoder {
    slots: Vec<Option<(Value, usize)>>,
}

impl TableDecoder {
    fn new(len: usize) -> Result<Self, NodeError> {
        if len == 0 {
            return Err(NodeError::unsupported_value("empty value table"));
        }
        let mut slots = Vec::with_capacity(len);
        slots.resize_with(len, || None);
        Ok(TableDecoder { slots })
    }

    /// Claim entry `child` for entry `parent`: it must come after the parent,
    /// lie within the table and not have been claimed before.
    pub fn take(&mut self, parent: usize, child: u32) -> Result<(Value, usize), NodeError> {
        let slot = usize::try_from(child).ok().filter(|&c| c > parent).and_then(|c| self.slots.get_mut(c));
        let Some(slot) = slot else {
            return Err(NodeError::unsupported_value(format!(
                "value table entry {parent} refers to entry {child}: children must come after their parent and within the table"
            )));
        };
        slot.take()
            .ok_or_else(|| NodeError::unsupported_value(format!("value table entry {child} is used twice")))
    }

    /// The list at entry `parent` with the items at `children`, and its depth.
    pub fn list(&mut self, parent: usize, children: Vec<u32>) -> Result<(Value, usize), NodeError> {
        let mut items = Vec::with_capacity(children.len());
        let mut depth = 0;
        for child in children {
            let (value, d) = self.take(parent, child)?;
            depth = depth.max(d);
            items.push(value);
        }
        Ok((Value::List(items), depth + 1))
    }

    /// The map at entry `parent` with `entries` (each key with the index of
    /// its value), and its depth; a key that appears twice is refused.
    pub fn map(
        &mut self,
        parent: usize,
        entries: impl ExactSizeIterator<Item = (String, u32)>,
    ) -> Result<(Value, usize), NodeError> {
        let mut items = Vec::with_capacity(entries.len());
        let mut depth = 0;
        for (key, child) in entries {
            let (value, d) = self.take(parent, child)?;
            depth = depth.max(d);
            items.push((key, value));
        }
        let map = Map::from_unique_entries(items).map_err(NodeError::unsupported_value)?;
        Ok((Value::Map(map), depth + 1))
    }

    /// The root, once every other entry has been claimed by its parent.
    fn finish(mut self) -> Result<Value, NodeError> {
        if let Some(unused) = self.slots.iter().skip(1).position(Option::is_some) {
            return Err(NodeError::unsupported_value(format!(
                "value table entry {} is not part of the value",
                unused + 1
            )));
        }
        match self.slots.first_mut().and_then(Option::take) {
            Some((root, _)) => Ok(root),
            None => Err(NodeError::unsupported_value("value table has no root")),
        }
    }
}

/// Expand the conversions between the SDK's types and the types a bindings
/// generator made from `wit/node.wit`, given the path of the generated
/// `types` module (brought into scope as `wit`). The host invokes it on
/// wasmtime's bindings, the guest component on wit-bindgen's:
///
/// ```ignore
/// nodehost_sdk::wit_codec!(crate::bindings::types);
/// ```
///
/// It defines, in the invoking module:
///
/// - `to_wit(Value) -> Result<wit::Value, NodeError>` and
///   `from_wit(wit::Value) -> Result<Value, NodeError>`, and
///   `table_from_wit` for a bare table; lists of two or more ints (or
///   floats) travel packed as `int-list` (`float-list`), unless one of the
///   ints is a big one (the list is then a plain `%list`);
/// - `to_wit_as(Value, ValueForms)`: the same in the forms a component
///   asked for ([`ValueForms`]: `python-marshal` for a list or map without
///   audio or arrays, `packed-audio` / `packed-array`), and
///   `from_wit_within(wit::Value, max_bytes)`, which reads every form and
///   holds marshal data (which can grow by its references) to `max_bytes`
///   decoded, saying why it did not decode with a [`DecodeError`];
/// - `outputs_to_wit(&mut Vec<Value>)` (drains the vector) and
///   `outputs_from_wit(wit::Outputs, &mut Vec<Value>)` (appends), and
///   `outputs_from_wit_within` with a budget per value;
/// - `error_to_wit` / `error_from_wit`, `type_info_to_wit` /
///   `type_info_from_wit`, `settings_to_wit` / `settings_from_wit` and
///   `value_forms_to_wit` / `value_forms_from_wit`.
///
/// Each side uses what its direction needs; the rest is allowed to go
/// unused. The expansion also defines private helpers (`encode`,
/// `audio_to_wit`, ...), so invoke it in a module of its own.
#[macro_export]
macro_rules! wit_codec {
    ($types:path) => {
        use $types as wit;

        /// A value as a WIT value in the plain forms: scalars and buffers as
        /// they are, lists and maps as a table, root first.
        #[allow(dead_code)]
        pub fn to_wit(value: $crate::Value) -> ::std::result::Result<wit::Value, $crate::NodeError> {
            to_wit_as(value, $crate::codec::ValueForms::default())
        }

        /// A value as a WIT value in the forms a component asked for: a list
        /// or map as `python-marshal` data when it holds no audio or array,
        /// audio and arrays packed.
        #[allow(dead_code)]
        pub fn to_wit_as(
            value: $crate::Value,
            forms: $crate::codec::ValueForms,
        ) -> ::std::result::Result<wit::Value, $crate::NodeError> {
            use $crate::Value as V;
            Ok(match value {
                V::Null => wit::Value::Null,
                V::Bool(b) => wit::Value::Boolean(b),
                V::Int(x) => wit::Value::Integer(x),
                V::BigInt(x) => match $crate::codec::int_to_wire(&x) {
                    $crate::codec::WireInt::Small(x) => wit::Value::Integer(x),
                    $crate::codec::WireInt::Big { negative, magnitude } => {
                        wit::Value::BigInteger(wit::BigInt { negative, magnitude })
                    }
                },
                V::Float(x) => wit::Value::Float(x),
                V::Str(s) => wit::Value::Text(s),
                V::Bytes(b) => wit::Value::Bytes(b),
                V::Audio(a) if forms.packed_buffers => wit::Value::PackedAudio(packed_audio_to_wit(&a)),
                V::Array(a) if forms.packed_buffers => wit::Value::PackedArray(packed_array_to_wit(&a)),
                V::Audio(a) => wit::Value::Audio(audio_to_wit(a)),
                V::Array(a) => wit::Value::Array(array_to_wit(a)),
                nested @ (V::List(_) | V::Map(_)) => {
                    if forms.python_marshal
                        && let Some(data) = $crate::codec::python_marshal::encode(&nested)?
                    {
                        return Ok(wit::Value::PythonMarshalRaw(data));
                    }
                    let mut nodes = ::std::vec::Vec::new();
                    encode(nested, &mut nodes, 1, forms.packed_buffers)?;
                    wit::Value::Nested(nodes)
                }
            })
        }

        fn packed_audio_to_wit(a: &$crate::AudioFrame) -> wit::PackedAudioFrame {
            wit::PackedAudioFrame {
                samples: wit::PackedBytes::Raw($crate::codec::pack(&a.samples)),
                sample_rate: a.sample_rate,
                channels: a.channels,
            }
        }

        fn packed_array_to_wit(a: &$crate::NumArray) -> wit::PackedNumArray {
            let (kind, data) = $crate::codec::pack_array(&a.data);
            let kind = match kind {
                $crate::codec::NumberKind::F32 => wit::NumberKind::F32,
                $crate::codec::NumberKind::F64 => wit::NumberKind::F64,
                $crate::codec::NumberKind::I64 => wit::NumberKind::I64,
            };
            wit::PackedNumArray { kind, data: wit::PackedBytes::Raw(data), shape: a.shape.clone() }
        }

        /// The bytes of a WIT `packed-bytes`, whichever way they came.
        fn packed_bytes_from_wit(
            p: wit::PackedBytes,
        ) -> ::std::result::Result<::std::vec::Vec<u8>, $crate::NodeError> {
            match p {
                wit::PackedBytes::Raw(bytes) => Ok(bytes),
                wit::PackedBytes::Latin1(text) => $crate::codec::latin1_into_bytes(text),
                // The host replaces these by the bytes they name before it
                // decodes an answer; anywhere else they name nothing.
                wit::PackedBytes::Staged(range) => Err($crate::NodeError::unsupported_value(format!(
                    "staged bytes ({} at offset {}) where none can be: only a call's outputs may name what the component wrote to its stdout",
                    range.length, range.offset
                ))),
            }
        }

        fn packed_audio_from_wit(a: wit::PackedAudioFrame) -> ::std::result::Result<$crate::Value, $crate::NodeError> {
            let samples = $crate::codec::unpack(&packed_bytes_from_wit(a.samples)?, "audio samples")?;
            $crate::codec::audio_value(samples, a.sample_rate, a.channels)
        }

        fn packed_array_from_wit(a: wit::PackedNumArray) -> ::std::result::Result<$crate::Value, $crate::NodeError> {
            let kind = match a.kind {
                wit::NumberKind::F32 => $crate::codec::NumberKind::F32,
                wit::NumberKind::F64 => $crate::codec::NumberKind::F64,
                wit::NumberKind::I64 => $crate::codec::NumberKind::I64,
            };
            $crate::codec::array_value($crate::codec::unpack_array(kind, &packed_bytes_from_wit(a.data)?)?, a.shape)
        }

        /// The SDK's value forms as the WIT record.
        #[allow(dead_code)]
        pub fn value_forms_to_wit(forms: $crate::codec::ValueForms) -> wit::ValueForms {
            wit::ValueForms {
                python_marshal: forms.python_marshal,
                packed_buffers: forms.packed_buffers,
                staged_bytes: forms.staged_bytes,
                packed_batches: forms.packed_batches,
            }
        }

        /// The WIT record as the SDK's value forms.
        #[allow(dead_code)]
        pub fn value_forms_from_wit(forms: wit::ValueForms) -> $crate::codec::ValueForms {
            $crate::codec::ValueForms {
                python_marshal: forms.python_marshal,
                packed_buffers: forms.packed_buffers,
                staged_bytes: forms.staged_bytes,
                packed_batches: forms.packed_batches,
            }
        }

        fn audio_to_wit(a: $crate::AudioFrame) -> wit::AudioFrame {
            wit::AudioFrame { samples: a.samples, sample_rate: a.sample_rate, channels: a.channels }
        }

        fn array_to_wit(a: $crate::NumArray) -> wit::NumArray {
            use $crate::ArrayData as D;
            let data = match a.data {
                D::F32(v) => wit::ArrayData::F32(v),
                D::F64(v) => wit::ArrayData::F64(v),
                D::I64(v) => wit::ArrayData::I64(v),
            };
            wit::NumArray { data, shape: a.shape }
        }

        /// Append `value`, at nesting level `depth`, to the table: a list or
        /// map first, then each child (recursion is bounded by `MAX_DEPTH`).
        fn encode(
            value: $crate::Value,
            nodes: &mut ::std::vec::Vec<wit::ValueNode>,
            depth: usize,
            packed: bool,
        ) -> ::std::result::Result<(), $crate::NodeError> {
            use $crate::Value as V;
            if depth > $crate::MAX_DEPTH {
                return Err($crate::codec::too_deep());
            }
            let node = match value {
                V::Null => wit::ValueNode::Null,
                V::Bool(b) => wit::ValueNode::Boolean(b),
                V::Int(x) => wit::ValueNode::Integer(x),
                V::BigInt(x) => match $crate::codec::int_to_wire(&x) {
                    $crate::codec::WireInt::Small(x) => wit::ValueNode::Integer(x),
                    $crate::codec::WireInt::Big { negative, magnitude } => {
                        wit::ValueNode::BigInteger(wit::BigInt { negative, magnitude })
                    }
                },
                V::Float(x) => wit::ValueNode::Float(x),
                V::Str(s) => wit::ValueNode::Text(s),
                V::Bytes(b) => wit::ValueNode::Bytes(b),
                V::Audio(a) if packed => wit::ValueNode::PackedAudio(packed_audio_to_wit(&a)),
                V::Array(a) if packed => wit::ValueNode::PackedArray(packed_array_to_wit(&a)),
                V::Audio(a) => wit::ValueNode::Audio(audio_to_wit(a)),
                V::Array(a) => wit::ValueNode::Array(array_to_wit(a)),
                // Packed only where its items may still nest one level deeper.
                V::List(items) => match (depth < $crate::MAX_DEPTH).then(|| $crate::PackedNumbers::pack(&items)).flatten() {
                    Some($crate::PackedNumbers::Ints(v)) => wit::ValueNode::IntList(v),
                    Some($crate::PackedNumbers::Floats(v)) => wit::ValueNode::FloatList(v),
                    None => {
                        let at = nodes.len();
                        nodes.push(wit::ValueNode::Null);
                        let mut children = ::std::vec::Vec::with_capacity(items.len());
                        for item in items {
                            children.push($crate::codec::index(nodes.len())?);
                            encode(item, nodes, depth + 1, packed)?;
                        }
                        nodes[at] = wit::ValueNode::List(children);
                        return Ok(());
                    }
                },
                V::Map(map) => {
                    let at = nodes.len();
                    nodes.push(wit::ValueNode::Null);
                    let mut entries = ::std::vec::Vec::with_capacity(map.len());
                    for (key, item) in map {
                        entries.push(wit::MapEntry { key, value: $crate::codec::index(nodes.len())? });
                        encode(item, nodes, depth + 1, packed)?;
                    }
                    nodes[at] = wit::ValueNode::Map(entries);
                    return Ok(());
                }
            };
            nodes.push(node);
            Ok(())
        }

        /// A WIT value as a value, checked (see `table_from_wit`).
        #[allow(dead_code)]
        pub fn from_wit(value: wit::Value) -> ::std::result::Result<$crate::Value, $crate::NodeError> {
            from_wit_within(value, u64::MAX).map_err($crate::codec::DecodeError::into_node_error)
        }

        /// A WIT value as a value, checked, with `python-marshal` data held
        /// to `max_bytes` once decoded (its shared parts are copied; the
        /// other forms cannot grow, and a caller bounds them by their size).
        #[allow(dead_code)]
        pub fn from_wit_within(
            value: wit::Value,
            max_bytes: u64,
        ) -> ::std::result::Result<$crate::Value, $crate::codec::DecodeError> {
            use $crate::Value as V;
            Ok(match value {
                wit::Value::PythonMarshal(data) => {
                    $crate::codec::python_marshal::decode(&packed_bytes_from_wit(data)?, max_bytes)?
                }
                wit::Value::PythonMarshalRaw(data) => $crate::codec::python_marshal::decode(&data, max_bytes)?,
                wit::Value::PackedAudio(a) => packed_audio_from_wit(a)?,
                wit::Value::PackedArray(a) => packed_array_from_wit(a)?,
                wit::Value::Null => V::Null,
                wit::Value::Boolean(b) => V::Bool(b),
                wit::Value::Integer(x) => V::Int(x),
                wit::Value::BigInteger(b) => $crate::codec::int_from_wire(b.negative, &b.magnitude),
                wit::Value::Float(x) => V::Float(x),
                wit::Value::Text(s) => V::Str(s),
                wit::Value::Bytes(b) => V::Bytes(b),
                wit::Value::Audio(a) => $crate::codec::audio_value(a.samples, a.sample_rate, a.channels)?,
                wit::Value::Array(a) => array_from_wit(a)?,
                wit::Value::Nested(nodes) => table_from_wit(nodes)?,
            })
        }

        fn array_from_wit(a: wit::NumArray) -> ::std::result::Result<$crate::Value, $crate::NodeError> {
            use $crate::ArrayData as D;
            let data = match a.data {
                wit::ArrayData::F32(v) => D::F32(v),
                wit::ArrayData::F64(v) => D::F64(v),
                wit::ArrayData::I64(v) => D::I64(v),
            };
            $crate::codec::array_value(data, a.shape)
        }

        /// Decode a nested value's table, checking every index, every
        /// entry's use, the depth, map keys and buffers.
        #[allow(dead_code)]
        pub fn table_from_wit(
            nodes: ::std::vec::Vec<wit::ValueNode>,
        ) -> ::std::result::Result<$crate::Value, $crate::NodeError> {
            use $crate::Value as V;
            $crate::codec::decode_table(nodes, |table, at, node| {
                Ok(match node {
                    wit::ValueNode::Null => (V::Null, 1),
                    wit::ValueNode::Boolean(b) => (V::Bool(b), 1),
                    wit::ValueNode::Integer(x) => (V::Int(x), 1),
                    wit::ValueNode::BigInteger(b) => ($crate::codec::int_from_wire(b.negative, &b.magnitude), 1),
                    wit::ValueNode::Float(x) => (V::Float(x), 1),
                    wit::ValueNode::Text(s) => (V::Str(s), 1),
                    wit::ValueNode::Bytes(b) => (V::Bytes(b), 1),
                    wit::ValueNode::Audio(a) => ($crate::codec::audio_value(a.samples, a.sample_rate, a.channels)?, 1),
                    wit::ValueNode::Array(a) => (array_from_wit(a)?, 1),
                    wit::ValueNode::PackedAudio(a) => (packed_audio_from_wit(a)?, 1),
                    wit::ValueNode::PackedArray(a) => (packed_array_from_wit(a)?, 1),
                    wit::ValueNode::IntList(v) => (V::List(v.into_iter().map(V::Int).collect()), 2),
                    wit::ValueNode::FloatList(v) => (V::List(v.into_iter().map(V::Float).collect()), 2),
                    wit::ValueNode::List(children) => table.list(at, children)?,
                    wit::ValueNode::Map(entries) => table.map(at, entries.into_iter().map(|e| (e.key, e.value)))?,
                })
            })
        }

        /// What one call gave, as WIT outputs; drains `out`.
        #[allow(dead_code)]
        pub fn outputs_to_wit(
            out: &mut ::std::vec::Vec<$crate::Value>,
        ) -> ::std::result::Result<wit::Outputs, $crate::NodeError> {
            Ok(match out.len() {
                0 => wit::Outputs::None,
                1 => match out.pop() {
                    Some(value) => wit::Outputs::One(to_wit(value)?),
                    None => wit::Outputs::None,
                },
                _ => wit::Outputs::Many(out.drain(..).map(to_wit).collect::<::std::result::Result<_, _>>()?),
            })
        }

        /// Everything one call gave, appended to `out`.
        #[allow(dead_code)]
        pub fn outputs_from_wit(
            outputs: wit::Outputs,
            out: &mut ::std::vec::Vec<$crate::Value>,
        ) -> ::std::result::Result<(), $crate::NodeError> {
            outputs_from_wit_within(outputs, out, u64::MAX).map_err($crate::codec::DecodeError::into_node_error)
        }

        /// Everything one call gave, appended to `out`, each value held to
        /// `max_bytes` (see `from_wit_within`).
        #[allow(dead_code)]
        pub fn outputs_from_wit_within(
            outputs: wit::Outputs,
            out: &mut ::std::vec::Vec<$crate::Value>,
            max_bytes: u64,
        ) -> ::std::result::Result<(), $crate::codec::DecodeError> {
            match outputs {
                wit::Outputs::None => {}
                wit::Outputs::One(value) => out.push(from_wit_within(value, max_bytes)?),
                wit::Outputs::OnePythonMarshal(text) => {
                    let data = $crate::codec::latin1_into_bytes(text)?;
                    out.push($crate::codec::python_marshal::decode(&data, max_bytes)?);
                }
                wit::Outputs::Many(values) => {
                    out.reserve(values.len());
                    for value in values {
                        out.push(from_wit_within(value, max_bytes)?);
                    }
                }
            }
            Ok(())
        }

        /// A node's failure as the WIT `node-error`.
        #[allow(dead_code)]
        pub fn error_to_wit(e: $crate::NodeError) -> wit::NodeError {
            use $crate::ErrorKind as K;
            let kind = match e.kind {
                K::InvalidParams => wit::ErrorKind::InvalidParams,
                K::InvalidInput => wit::ErrorKind::InvalidInput,
                K::UnsupportedValue => wit::ErrorKind::UnsupportedValue,
                K::Raised => wit::ErrorKind::Raised,
                K::UnknownType => wit::ErrorKind::UnknownType,
                K::Load => wit::ErrorKind::Load,
                K::Unsupported => wit::ErrorKind::Unsupported,
                K::Internal => wit::ErrorKind::Internal,
                K::LimitExceeded => wit::ErrorKind::LimitExceeded,
                K::Interrupted => wit::ErrorKind::Interrupted,
            };
            wit::NodeError { kind, message: e.message, exception_type: e.exception_type, traceback: e.traceback }
        }

        /// A WIT `node-error` in the SDK's terms.
        #[allow(dead_code)]
        pub fn error_from_wit(e: wit::NodeError) -> $crate::NodeError {
            use $crate::ErrorKind as K;
            let kind = match e.kind {
                wit::ErrorKind::InvalidParams => K::InvalidParams,
                wit::ErrorKind::InvalidInput => K::InvalidInput,
                wit::ErrorKind::UnsupportedValue => K::UnsupportedValue,
                wit::ErrorKind::Raised => K::Raised,
                wit::ErrorKind::UnknownType => K::UnknownType,
                wit::ErrorKind::Load => K::Load,
                wit::ErrorKind::Unsupported => K::Unsupported,
                wit::ErrorKind::Internal => K::Internal,
                wit::ErrorKind::LimitExceeded => K::LimitExceeded,
                wit::ErrorKind::Interrupted => K::Interrupted,
            };
            $crate::NodeError { kind, message: e.message, exception_type: e.exception_type, traceback: e.traceback }
        }

        /// A node type description as the WIT `node-type-info`. A parameter
        /// default that cannot be encoded is left out rather than failing
        /// the whole listing.
        #[allow(dead_code)]
        pub fn type_info_to_wit(info: $crate::NodeTypeInfo) -> wit::NodeTypeInfo {
            let params = info
                .params
                .into_iter()
                .map(|p| wit::ParamInfo {
                    name: p.name,
                    required: p.required,
                    default: p.default.and_then(|d| to_wit(d).ok()),
                    description: p.description,
                })
                .collect();
            wit::NodeTypeInfo { name: info.name, description: info.description, params, streaming: info.streaming }
        }

        /// A WIT `node-type-info` in the SDK's terms (a default that does
        /// not decode, or would take more than
        /// [`MAX_DEFAULT_BYTES`](crate::codec::MAX_DEFAULT_BYTES) decoded,
        /// is left out).
        #[allow(dead_code)]
        pub fn type_info_from_wit(info: wit::NodeTypeInfo) -> $crate::NodeTypeInfo {
            let params = info
                .params
                .into_iter()
                .map(|p| $crate::ParamInfo {
                    name: p.name,
                    required: p.required,
                    default: p.default.and_then(|d| from_wit_within(d, $crate::codec::MAX_DEFAULT_BYTES).ok()),
                    description: p.description,
                })
                .collect();
            $crate::NodeTypeInfo { name: info.name, description: info.description, params, streaming: info.streaming }
        }

        /// The host's settings as the WIT `settings`.
        #[allow(dead_code)]
        pub fn settings_to_wit(s: $crate::Settings) -> wit::Settings {
            wit::Settings { max_outputs: s.max_outputs, interruptible: s.interruptible }
        }

        /// A WIT `settings` in the SDK's terms.
        #[allow(dead_code)]
        pub fn settings_from_wit(s: wit::Settings) -> $crate::Settings {
            $crate::Settings { max_outputs: s.max_outputs, interruptible: s.interruptible }
        }
    };
}

/// The codec on the guest's own generated types, built natively: the host's
/// tests (`host/src/sandbox/codec.rs`) run the same macro on wasmtime's.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    #[allow(missing_docs, clippy::all, unused_qualifications)]
    mod bindings {
        wit_bindgen::generate!({ path: "../../wit", world: "node-component" });
    }

    mod guest {
        crate::wit_codec!(super::bindings::nodehost::node::types);
    }

    use guest::{from_wit, from_wit_within, outputs_from_wit, outputs_from_wit_within, outputs_to_wit, table_from_wit, to_wit, to_wit_as};
    use bindings::nodehost::node::types as wit;

    use crate::{ArrayData, AudioFrame, BigInt, ErrorKind, Map, NumArray, Value, MAX_DEPTH};
    use proptest::prelude::*;

    fn sample() -> Value {
        let mut inner = Map::new();
        inner.insert("ints", Value::List((0..5).map(Value::Int).collect()));
        inner.insert("floats", Value::List(vec![Value::Float(0.5), Value::Float(-1.0)]));
        inner.insert("mixed", Value::List(vec![Value::Int(1), Value::Str("a".into()), Value::Null]));
        inner.insert("bytes", Value::Bytes(vec![0, 255]));
        inner.insert(
            "audio",
            Value::Audio(AudioFrame { samples: vec![0.0, 0.25, -0.5, 1.0], sample_rate: 8000, channels: 2 }),
        );
        inner.insert("array", Value::Array(NumArray { data: ArrayData::I64(vec![1, 2, 3, 4, 5, 6]), shape: vec![2, 3] }));
        inner.insert("big", Value::from(u64::MAX));
        inner.insert("bigs", Value::List(vec![Value::Int(1), Value::from(-(BigInt::from(1) << 100u32)), Value::Int(2)]));
        Value::List(vec![Value::Map(inner), Value::Bool(true), Value::List(vec![]), Value::Map(Map::new())])
    }

    #[test]
    fn values_come_back_the_same() {
        for v in [Value::Null, Value::Int(-3), Value::Str("x".into()), sample()] {
            assert_eq!(from_wit(to_wit(v.clone()).unwrap()).unwrap(), v);
        }
    }

    #[test]
    fn the_fast_forms_come_back_the_same() {
        let all = super::ValueForms { python_marshal: true, packed_buffers: true, staged_bytes: false, packed_batches: false };
        let buffers = super::ValueForms { python_marshal: false, packed_buffers: true, staged_bytes: false, packed_batches: false };
        for forms in [all, buffers] {
            for v in [sample(), Value::List((0..100).map(Value::Int).collect()), Value::Map(Map::new())] {
                assert_eq!(from_wit(to_wit_as(v.clone(), forms).unwrap()).unwrap(), v, "{forms:?}");
            }
        }
        // A list or map without audio or arrays is marshal data; with one
        // it is a table whose buffers are packed.
        let ints = Value::List((0..3).map(Value::Int).collect());
        assert!(matches!(to_wit_as(ints, all).unwrap(), wit::Value::PythonMarshalRaw(_)));
        let wit::Value::Nested(nodes) = to_wit_as(sample(), all).unwrap() else { panic!("a table") };
        assert!(nodes.iter().any(|n| matches!(n, wit::ValueNode::PackedAudio(_))));
        assert!(nodes.iter().any(|n| matches!(n, wit::ValueNode::PackedArray(_))));
        // Latin-1 text carries the same bytes; a char above U+00FF is refused.
        let frame = |samples| wit::Value::PackedAudio(wit::PackedAudioFrame { samples, sample_rate: 8000, channels: 1 });
        let bytes = [0.5f32, -1.0].iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        let want = Value::Audio(AudioFrame { samples: vec![0.5, -1.0], sample_rate: 8000, channels: 1 });
        assert_eq!(from_wit(frame(wit::PackedBytes::Latin1(text))).unwrap(), want);
        assert!(from_wit(frame(wit::PackedBytes::Latin1("\u{100}xyz".into()))).unwrap_err().message.contains("U+00FF"));
        assert!(from_wit(frame(wit::PackedBytes::Raw(vec![0; 6]))).unwrap_err().message.contains("whole number"));
        // Marshal data is held to the budget it is given.
        let big = to_wit_as(Value::List(vec![Value::Str("x".repeat(1000))]), all).unwrap();
        assert_eq!(from_wit_within(big, 100), Err(super::DecodeError::TooLarge { limit: 100 }));
    }

    /// A parameter default is the guest's word too: marshal data that would
    /// copy out past the bound is left out, not decoded.
    #[test]
    fn a_default_that_grows_past_its_bound_is_left_out() {
        let mut bomb = b"\xdb\x02\x00\x00\x00".repeat(40);
        bomb.extend_from_slice(b"NN");
        for level in (0..39u32).rev() {
            bomb.push(b'r');
            bomb.extend_from_slice(&(level + 1).to_le_bytes());
        }
        let param = |default| wit::ParamInfo { name: "p".into(), required: false, default: Some(default), description: String::new() };
        let info = wit::NodeTypeInfo {
            name: "N".into(),
            description: String::new(),
            params: vec![param(wit::Value::PythonMarshal(wit::PackedBytes::Raw(bomb))), param(wit::Value::Integer(3))],
            streaming: false,
        };
        let info = guest::type_info_from_wit(info);
        assert_eq!(info.params[0].default, None);
        assert_eq!(info.params[1].default, Some(Value::Int(3)));
    }

    #[test]
    fn outputs_cross_in_one_piece_or_many() {
        let mut out = vec![Value::Int(1)];
        let one = outputs_to_wit(&mut out).unwrap();
        assert!(matches!(one, wit::Outputs::One(wit::Value::Integer(1))) && out.is_empty());
        let mut out = vec![sample(), Value::Null];
        let many = outputs_to_wit(&mut out).unwrap();
        let mut back = Vec::new();
        outputs_from_wit(many, &mut back).unwrap();
        assert_eq!(back, [sample(), Value::Null]);
        assert!(matches!(outputs_to_wit(&mut Vec::new()).unwrap(), wit::Outputs::None));
    }

    /// `one-python-marshal` is `one(python-marshal(latin1(..)))` in short:
    /// the same value, the same refusals, the same budget.
    #[test]
    fn the_short_marshal_answer_reads_as_the_long_one() {
        let v = Value::List(vec![Value::Int(1), Value::Str("é".into()), Value::Float(0.5)]);
        let data = super::python_marshal::encode(&v).unwrap().unwrap();
        let text: String = data.iter().map(|&b| char::from(b)).collect();
        assert!(!text.is_ascii());
        let long = wit::Outputs::One(wit::Value::PythonMarshal(wit::PackedBytes::Latin1(text.clone())));
        for outputs in [wit::Outputs::OnePythonMarshal(text.clone()), long] {
            let mut out = Vec::new();
            outputs_from_wit(outputs, &mut out).unwrap();
            assert_eq!(out, std::slice::from_ref(&v));
        }
        let mut out = Vec::new();
        let past = outputs_from_wit_within(wit::Outputs::OnePythonMarshal(text), &mut out, 10);
        assert_eq!(past, Err(super::DecodeError::TooLarge { limit: 10 }));
        let wide = outputs_from_wit(wit::Outputs::OnePythonMarshal("[\u{100}".into()), &mut out).unwrap_err();
        assert!(wide.message.contains("U+00FF"), "{}", wide.message);
        let cut = outputs_from_wit(wit::Outputs::OnePythonMarshal("[\u{2}\0\0\0i".into()), &mut out).unwrap_err();
        assert!(cut.message.contains("a list of 2 items in 1 bytes"), "{}", cut.message);
        assert!(out.is_empty());
    }

    #[test]
    fn lists_of_numbers_travel_packed() {
        let wit::Value::Nested(nodes) = to_wit(Value::List((0..100).map(Value::Int).collect())).unwrap() else {
            panic!("a list is a table")
        };
        assert!(matches!(&nodes[..], [wit::ValueNode::IntList(v)] if v.len() == 100));
        let nest = |levels: usize| {
            (0..levels).fold(Value::List(vec![Value::Float(1.0), Value::Float(2.0)]), |v, _| Value::List(vec![v]))
        };
        let deepest = nest(MAX_DEPTH - 2);
        assert_eq!(from_wit(to_wit(deepest.clone()).unwrap()).unwrap(), deepest);
        assert!(to_wit(nest(MAX_DEPTH - 1)).unwrap_err().message.contains("nested deeper"));
    }

    #[test]
    fn hostile_tables_are_refused_with_reasons() {
        let refused = |nodes: Vec<wit::ValueNode>, why: &str| {
            let e = table_from_wit(nodes).unwrap_err();
            assert_eq!(e.kind, ErrorKind::UnsupportedValue);
            assert!(e.message.contains(why), "{} does not say {why}", e.message);
        };
        refused(vec![], "empty value table");
        refused(vec![wit::ValueNode::List(vec![0])], "children must come after");
        refused(vec![wit::ValueNode::List(vec![u32::MAX])], "children must come after");
        refused(vec![wit::ValueNode::List(vec![1, 1]), wit::ValueNode::Null], "used twice");
        refused(vec![wit::ValueNode::Null, wit::ValueNode::Null], "not part of the value");
        let entry = |key: &str, value| wit::MapEntry { key: key.into(), value };
        refused(
            vec![wit::ValueNode::Map(vec![entry("a", 1), entry("a", 2)]), wit::ValueNode::Null, wit::ValueNode::Null],
            "appears twice",
        );
        let deep = (0..200u32).map(|i| wit::ValueNode::List(if i < 199 { vec![i + 1] } else { vec![] })).collect();
        refused(deep, "nested deeper");
        let bad_audio = wit::AudioFrame { samples: vec![0.0; 3], sample_rate: 8000, channels: 2 };
        refused(vec![wit::ValueNode::Audio(bad_audio)], "channels");
        let bad_array = wit::NumArray { data: wit::ArrayData::F32(vec![0.0; 5]), shape: vec![2, 3] };
        assert!(from_wit(wit::Value::Array(bad_array)).unwrap_err().message.contains("shape"));
    }

    fn big(negative: bool, magnitude: &[u8]) -> wit::BigInt {
        wit::BigInt { negative, magnitude: magnitude.to_vec() }
    }

    #[test]
    fn big_ints_travel_as_sign_and_minimal_magnitude() {
        let cases: [(Value, bool, Vec<u8>); 4] = [
            (Value::from(u64::MAX), false, vec![0xff; 8]),
            (Value::from(1u64 << 63), false, vec![0, 0, 0, 0, 0, 0, 0, 0x80]),
            (Value::from(i128::from(i64::MIN) - 1), true, vec![1, 0, 0, 0, 0, 0, 0, 0x80]),
            (Value::from(-(BigInt::from(1) << 100u32)), true, [vec![0; 12], vec![0x10]].concat()),
        ];
        for (value, negative, magnitude) in cases {
            assert!(matches!(value, Value::BigInt(_)), "{value:?} is beyond i64");
            let wire = to_wit(value.clone()).unwrap();
            assert!(
                matches!(&wire, wit::Value::BigInteger(b) if b.negative == negative && b.magnitude == magnitude),
                "{value}: {wire:?}"
            );
            assert_eq!(from_wit(wire).unwrap(), value);
            // The same inside a table.
            let list = Value::List(vec![value.clone(), Value::Int(1)]);
            let wit::Value::Nested(nodes) = to_wit(list.clone()).unwrap() else { panic!("a table") };
            assert!(matches!(&nodes[1], wit::ValueNode::BigInteger(b) if b.magnitude == magnitude));
            assert_eq!(table_from_wit(nodes).unwrap(), list);
        }
        // The extremes of u64 and i128 come back exactly.
        for v in [Value::from(u64::MAX), Value::from(i128::MIN), Value::from(i128::MAX), Value::from(u128::MAX)] {
            assert_eq!(from_wit(to_wit(v.clone()).unwrap()).unwrap(), v);
        }
        assert_eq!(Value::from(u128::MAX).as_u128(), Some(u128::MAX));
        assert_eq!(Value::from(i128::MIN).as_i128(), Some(i128::MIN));
        assert_eq!(Value::from(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(Value::from(u64::MAX).as_i64(), None);
    }

    #[test]
    fn big_ints_that_fit_in_64_bits_are_plain_integers() {
        // Encoding: a BigInt variant holding a small value goes out as `integer`.
        assert!(matches!(to_wit(Value::BigInt(BigInt::from(-5))).unwrap(), wit::Value::Integer(-5)));
        let wit::Value::Nested(nodes) =
            to_wit(Value::List(vec![Value::BigInt(BigInt::from(7)), Value::Int(8)])).unwrap()
        else {
            panic!("a table")
        };
        assert!(matches!(nodes[1], wit::ValueNode::Integer(7)), "{nodes:?}");
        assert_eq!(from_wit(wit::Value::Nested(nodes)).unwrap(), Value::List(vec![Value::Int(7), Value::Int(8)]));
        assert_eq!(Value::from(BigInt::from(i64::MIN)), Value::Int(i64::MIN));
        assert_eq!(Value::from(u64::try_from(i64::MAX).unwrap()), Value::Int(i64::MAX));
        assert_eq!(Value::BigInt(BigInt::from(3)).normalized(), Value::Int(3));
        // Decoding: a short, padded or negative-zero magnitude is an `Int`.
        assert_eq!(from_wit(wit::Value::BigInteger(big(false, &[5]))).unwrap(), Value::Int(5));
        assert_eq!(
            from_wit(wit::Value::BigInteger(big(true, &[0, 0, 0, 0, 0, 0, 0, 0x80]))).unwrap(),
            Value::Int(i64::MIN)
        );
        assert_eq!(from_wit(wit::Value::BigInteger(big(true, &[]))).unwrap(), Value::Int(0));
        assert_eq!(from_wit(wit::Value::BigInteger(big(true, &[0, 0, 0]))).unwrap(), Value::Int(0));
        let padded = [vec![0xff; 8], vec![0; 30]].concat();
        assert_eq!(from_wit(wit::Value::BigInteger(big(false, &padded))).unwrap(), Value::from(u64::MAX));
        let nodes = vec![wit::ValueNode::List(vec![1]), wit::ValueNode::BigInteger(big(false, &[1, 2]))];
        assert_eq!(table_from_wit(nodes).unwrap(), Value::List(vec![Value::Int(0x201)]));
    }

    #[test]
    fn a_list_holding_a_big_int_is_not_packed() {
        let list = Value::List(vec![Value::Int(1), Value::from(u64::MAX), Value::Int(3)]);
        let wit::Value::Nested(nodes) = to_wit(list.clone()).unwrap() else { panic!("a table") };
        assert!(
            matches!(&nodes[..], [wit::ValueNode::List(c), wit::ValueNode::Integer(1), wit::ValueNode::BigInteger(_), wit::ValueNode::Integer(3)] if c == &[1, 2, 3])
        );
        assert_eq!(from_wit(wit::Value::Nested(nodes)).unwrap(), list);
    }

    /// Any integer, normalized: small ones as `Int`, the rest as `BigInt`
    /// with magnitudes of up to 64 bytes.
    fn int() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::Int),
            any::<u64>().prop_map(Value::from),
            any::<i128>().prop_map(Value::from),
            (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64)).prop_map(|(negative, magnitude)| {
                let sign = if negative { num_bigint::Sign::Minus } else { num_bigint::Sign::Plus };
                Value::from(BigInt::from_bytes_le(sign, &magnitude))
            }),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            int(),
            any::<f64>().prop_filter("NaN is not equal to itself", |f| !f.is_nan()).prop_map(Value::Float),
            ".{0,8}".prop_map(Value::Str),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
        ];
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
                proptest::collection::vec(int(), 2..6).prop_map(Value::List),
                proptest::collection::btree_map("[a-z]{0,4}", inner, 0..6)
                    .prop_map(|m| Value::Map(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn values_with_big_ints_round_trip(v in value()) {
            prop_assert_eq!(from_wit(to_wit(v.clone()).unwrap()).unwrap(), v);
        }

        #[test]
        fn big_ints_are_exact_and_minimal_on_the_wire(negative: bool, magnitude in proptest::collection::vec(any::<u8>(), 0..80)) {
            let sign = if negative { num_bigint::Sign::Minus } else { num_bigint::Sign::Plus };
            let n = BigInt::from_bytes_le(sign, &magnitude);
            // Unnormalized on purpose: the encoder normalizes.
            match to_wit(Value::BigInt(n.clone())).unwrap() {
                wit::Value::Integer(i) => prop_assert_eq!(BigInt::from(i), n.clone()),
                wit::Value::BigInteger(b) => {
                    prop_assert!(i64::try_from(&n).is_err());
                    prop_assert!(b.magnitude.last().is_some_and(|&top| top != 0), "not minimal: {:?}", b.magnitude);
                    prop_assert_eq!(b.negative, n.sign() == num_bigint::Sign::Minus);
                }
                other => prop_assert!(false, "{:?}", other),
            }
            prop_assert_eq!(from_wit(to_wit(Value::BigInt(n.clone())).unwrap()).unwrap().to_bigint(), Some(n));
        }
    }
}
