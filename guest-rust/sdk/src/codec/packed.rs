//! The packed form of values: many [`Value`]s as one block of bytes, the
//! form `process-packed` batches cross the boundary in (`wit/node.wit`).
//!
//! A WIT `list<value>` costs a lift and a lower per value and per variant
//! level on each side; a `list<u8>` crosses as one copy. Both sides use
//! this one encoder and this one validating decoder.
//!
//! Each value is a tag byte and its payload, numbers little-endian:
//!
//! | tag | value | payload |
//! | ---: | --- | --- |
//! | 0 | null | |
//! | 1, 2 | false, true | |
//! | 3 | int | i64 |
//! | 4 | float | f64 |
//! | 5 | str | u32 length, UTF-8 |
//! | 6 | bytes | u32 length, bytes |
//! | 7 | list | u32 count, the items |
//! | 8 | map | u32 count, then per entry: u32 key length, key (UTF-8), value |
//! | 9 | big int | u8 sign (1: below zero), u32 length, magnitude (base 256, least significant first) |
//! | 10 | audio frame | u32 sample rate, u16 channels, u32 count, f32 samples |
//! | 11 | array | u8 kind (0: f32, 1: f64, 2: i64), u32 dimensions, u32 each, u32 count, the elements |
//!
//! An integer that fits in an `i64` is always `int`; a `big int` that fits
//! decodes to one. Nesting is bounded by [`MAX_DEPTH`] on both sides.
//!
//! The decoder refuses, saying at which byte, what a careless or hostile
//! peer could send: an unknown tag, a length past the end, text that is not
//! UTF-8, a repeated map key, nesting past [`MAX_DEPTH`], an audio frame or
//! array that does not fit its shape. It holds a value to a budget of bytes
//! once decoded (every value its slot, every payload its length), and never
//! reserves more than the bytes left could fill, so garbage cannot make it
//! allocate past a small multiple of its input.

use crate::codec::{DecodeError, NumberKind, PackedNumber, int_to_wire, int_from_wire, too_deep, WireInt};
use crate::{ArrayData, AudioFrame, Map, NodeError, NumArray, Value, MAX_DEPTH};

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STR: u8 = 5;
const BYTES: u8 = 6;
const LIST: u8 = 7;
const MAP: u8 = 8;
const BIG_INT: u8 = 9;
const AUDIO: u8 = 10;
const ARRAY: u8 = 11;

/// One decoded value's slot, as the budget counts it.
const SLOT: u64 = size_of::<Value>() as u64;

/// Append `value` to `out` in the packed form.
///
/// # Errors
/// A value nested deeper than [`MAX_DEPTH`], or with a part longer than
/// 2^32 - 1 (items, bytes); `out` then holds part of it, and the caller
/// truncates it.
#[inline]
pub fn encode(value: &Value, out: &mut Vec<u8>) -> Result<(), NodeError> {
    // Ints and floats, most values, without the general encoder's frame.
    match value {
        Value::Int(i) => put_int(*i, out),
        Value::Float(f) => put_eight(FLOAT, f.to_le_bytes(), out),
        _ => return encode_at(value, out, 1),
    }
    Ok(())
}

fn encode_at(value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), NodeError> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Int(i) => put_int(*i, out),
        Value::BigInt(big) => match int_to_wire(big) {
            WireInt::Small(i) => put_int(i, out),
            WireInt::Big { negative, magnitude } => {
                out.push(BIG_INT);
                out.push(u8::from(negative));
                put_bytes(&magnitude, out)?;
            }
        },
        Value::Float(f) => put_eight(FLOAT, f.to_le_bytes(), out),
        Value::Str(s) => put_str(s, out)?,
        Value::Bytes(b) => {
            out.push(BYTES);
            put_bytes(b, out)?;
        }
        Value::List(items) => {
            out.push(LIST);
            put_len(items.len(), out)?;
            for item in items {
                encode_at(item, out, depth + 1)?;
            }
        }
        Value::Map(map) => {
            out.push(MAP);
            put_len(map.len(), out)?;
            for (key, item) in map.iter() {
                put_bytes(key.as_bytes(), out)?;
                encode_at(item, out, depth + 1)?;
            }
        }
        Value::Audio(frame) => {
            out.push(AUDIO);
            out.extend_from_slice(&frame.sample_rate.to_le_bytes());
            out.extend_from_slice(&frame.channels.to_le_bytes());
            put_numbers(&frame.samples, out)?;
        }
        Value::Array(array) => {
            out.push(ARRAY);
            let kind = match array.data {
                ArrayData::F32(_) => NumberKind::F32,
                ArrayData::F64(_) => NumberKind::F64,
                ArrayData::I64(_) => NumberKind::I64,
            };
            out.push(kind_byte(kind));
            put_len(array.shape.len(), out)?;
            for d in &array.shape {
                out.extend_from_slice(&d.to_le_bytes());
            }
            match &array.data {
                ArrayData::F32(v) => put_numbers(v, out)?,
                ArrayData::F64(v) => put_numbers(v, out)?,
                ArrayData::I64(v) => put_numbers(v, out)?,
            }
        }
    }
    Ok(())
}

/// Append one answer of a batch to `out`, as `process-packed` frames it
/// (the WIT `packed-answers`): the number of `values` (u32), their length
/// in bytes (u32), then each value. On an error `out` is left as it was.
///
/// # Errors
/// A value [`encode`] refuses, or more than 4 GiB of them.
#[inline]
pub fn encode_answer(values: &[Value], out: &mut Vec<u8>) -> Result<(), NodeError> {
    frame_answer(values.len(), out, |out| values.iter().try_for_each(|value| encode(value, out)))
}

/// Append an answer of `count` values that `write` appends, framed as
/// [`encode_answer`] frames it; on an error `out` is left as it was.
#[inline]
fn frame_answer(
    count: usize,
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), NodeError>,
) -> Result<(), NodeError> {
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    if let Err(e) = write(out) {
        out.truncate(start);
        return Err(e);
    }
    let (Ok(count), Ok(length)) = (u32::try_from(count), u32::try_from(out.len() - start - 8)) else {
        out.truncate(start);
        return Err(NodeError::unsupported_value("one input's outputs take more than 4 GiB packed"));
    };
    out[start..start + 4].copy_from_slice(&count.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&length.to_le_bytes());
    Ok(())
}

/// Append the answer [`encode_answer`] gives for the one value
/// `Value::Int(i)`, written in place.
#[inline]
pub fn encode_int_answer(i: i64, out: &mut Vec<u8>) {
    let mut raw = [0u8; 17];
    raw[..4].copy_from_slice(&1u32.to_le_bytes());
    raw[4..8].copy_from_slice(&9u32.to_le_bytes());
    raw[8] = INT;
    raw[9..].copy_from_slice(&i.to_le_bytes());
    out.extend_from_slice(&raw);
}

/// Append the answer [`encode_answer`] gives for the one value
/// `Value::Str(s)`, written from `s` in place.
///
/// # Errors
/// A string of 4 GiB or more.
#[inline]
pub fn encode_str_answer(s: &str, out: &mut Vec<u8>) -> Result<(), NodeError> {
    frame_answer(1, out, |out| put_str(s, out))
}

/// A tagged string.
fn put_str(s: &str, out: &mut Vec<u8>) -> Result<(), NodeError> {
    out.push(STR);
    put_bytes(s.as_bytes(), out)
}

#[inline]
fn put_int(i: i64, out: &mut Vec<u8>) {
    put_eight(INT, i.to_le_bytes(), out);
}

/// A tag and eight bytes, in one write.
#[inline]
fn put_eight(tag: u8, payload: [u8; 8], out: &mut Vec<u8>) {
    let mut raw = [tag; 9];
    raw[1..].copy_from_slice(&payload);
    out.extend_from_slice(&raw);
}

fn put_len(n: usize, out: &mut Vec<u8>) -> Result<(), NodeError> {
    let n = crate::codec::index(n)?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

fn put_bytes(bytes: &[u8], out: &mut Vec<u8>) -> Result<(), NodeError> {
    put_len(bytes.len(), out)?;
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_numbers<T: PackedNumber>(numbers: &[T], out: &mut Vec<u8>) -> Result<(), NodeError> {
    put_len(numbers.len(), out)?;
    let start = out.len();
    out.resize(start + numbers.len() * T::SIZE, 0);
    for (place, n) in out[start..].chunks_exact_mut(T::SIZE).zip(numbers) {
        n.put(place);
    }
    Ok(())
}

fn kind_byte(kind: NumberKind) -> u8 {
    match kind {
        NumberKind::F32 => 0,
        NumberKind::F64 => 1,
        NumberKind::I64 => 2,
    }
}

/// The type a packed value's tag names, for messages about a value that
/// did not fit a limit ("str", "list", ...; the names the host's other
/// messages use); "value" for an unknown tag or none.
pub fn tag_type_name(tag: Option<u8>) -> &'static str {
    match tag {
        Some(NULL) => "null",
        Some(FALSE | TRUE) => "bool",
        Some(INT | BIG_INT) => "int",
        Some(FLOAT) => "float",
        Some(STR) => "str",
        Some(BYTES) => "bytes",
        Some(LIST) => "list",
        Some(MAP) => "map",
        Some(AUDIO) => "audio",
        Some(ARRAY) => "array",
        _ => "value",
    }
}

/// Reads packed values one after another from a block of bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// The decoded-size budget of one value.
struct Budget {
    left: u64,
    limit: u64,
}

impl Budget {
    /// How many values' slots are left: what may be reserved ahead.
    fn slots(&self) -> usize {
        usize::try_from(self.left / SLOT).unwrap_or(usize::MAX)
    }

    #[inline]
    fn spend(&mut self, bytes: u64) -> Result<(), Fault> {
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(Box::new(DecodeError::TooLarge { limit: self.limit })),
        }
    }
}

/// A decoding failure, boxed: the decoder's results go by value on its hot
/// path, and failures are rare.
type Fault = Box<DecodeError>;

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    /// True once every byte has been read.
    #[inline]
    pub fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// Where the reader is, in bytes from the start.
    #[inline]
    pub fn position(&self) -> usize {
        self.at
    }

    /// The next byte, not consumed.
    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// The next value, held to `max_bytes` once decoded.
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] for malformed bytes, saying at which byte;
    /// [`DecodeError::TooLarge`] past the budget. The reader's position is
    /// then somewhere inside the value.
    #[inline]
    pub fn value(&mut self, max_bytes: u64) -> Result<Value, DecodeError> {
        if let Some(value) = self.scalar(max_bytes) {
            return Ok(value);
        }
        let mut budget = Budget { left: max_bytes, limit: max_bytes };
        self.read(1, &mut budget).map_err(|fault| *fault)
    }

    /// [`value`](Self::value), pushed onto `out` (nothing pushed on an
    /// error). A scalar is read inline and built in `out`'s place: through
    /// `value`'s returned `Result` it was written in parts and read back
    /// whole, a stall that cost more than decoding it.
    ///
    /// # Errors
    /// As [`value`](Self::value).
    #[inline]
    pub fn value_into(&mut self, max_bytes: u64, out: &mut Vec<Value>) -> Result<(), DecodeError> {
        match self.scalar(max_bytes) {
            Some(value) => out.push(value),
            None => out.push(self.value(max_bytes)?),
        }
        Ok(())
    }

    /// The next value when it is a whole null, bool, int or float that
    /// `max_bytes` holds (most values), read in place rather than through
    /// [`read`](Self::read)'s frame and result (whose copies cost more
    /// than the value); `None`, nothing read, for any other.
    #[inline(always)]
    fn scalar(&mut self, max_bytes: u64) -> Option<Value> {
        if max_bytes < SLOT {
            return None;
        }
        let value = match *self.bytes.get(self.at)? {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            tag @ (INT | FLOAT) => {
                let payload: [u8; 8] = self.bytes.get(self.at + 1..self.at + 9)?.try_into().ok()?;
                self.at += 8;
                match tag {
                    INT => Value::Int(i64::from_le_bytes(payload)),
                    _ => Value::Float(f64::from_le_bytes(payload)),
                }
            }
            _ => return None,
        };
        self.at += 1;
        Some(value)
    }

    /// The next answer framed by [`encode_answer`]: its number of values
    /// and their bytes, to be read with a reader of their own.
    ///
    /// # Errors
    /// Bytes that do not frame an answer: nothing after them can be read.
    #[inline]
    pub fn answer(&mut self) -> Result<(u32, &'a [u8]), NodeError> {
        let framed = (|| {
            let count = self.four()?;
            let length = self.four()?;
            Ok((count, self.take(length as usize)?))
        })();
        framed.map_err(|fault: Fault| fault.into_node_error())
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], Fault> {
        match self.bytes.get(self.at..self.at.saturating_add(n)) {
            Some(taken) => {
                self.at += n;
                Ok(taken)
            }
            None => Err(self.short(n)),
        }
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, Fault> {
        match self.bytes.get(self.at) {
            Some(&b) => {
                self.at += 1;
                Ok(b)
            }
            None => Err(self.short(1)),
        }
    }

    #[inline]
    fn four(&mut self) -> Result<u32, Fault> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    #[inline]
    fn eight(&mut self) -> Result<[u8; 8], Fault> {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(self.take(8)?);
        Ok(raw)
    }

    /// A count of parts that each take at least `min_bytes`: refused when
    /// the bytes left could not hold them, so it bounds what is reserved.
    #[inline]
    fn count(&mut self, min_bytes: usize) -> Result<usize, Fault> {
        let at = self.at;
        let n = self.four()? as usize;
        let left = self.bytes.len() - self.at;
        if n.checked_mul(min_bytes).is_none_or(|need| need > left) {
            return Err(self.malformed_at(at, format!("a count of {n} parts does not fit in the {left} bytes left")));
        }
        Ok(n)
    }

    fn text(&mut self) -> Result<String, Fault> {
        let n = self.count(1)?;
        let at = self.at;
        let bytes = self.take(n)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(self.malformed_at(at, "text that is not UTF-8".into())),
        }
    }

    fn numbers<T: PackedNumber>(&mut self) -> Result<Vec<T>, Fault> {
        let n = self.count(T::SIZE)?;
        Ok(self.take(n * T::SIZE)?.chunks_exact(T::SIZE).map(T::get).collect())
    }

    fn read(&mut self, depth: usize, budget: &mut Budget) -> Result<Value, Fault> {
        let at = self.at;
        if depth > MAX_DEPTH {
            return Err(self.malformed_at(at, too_deep().message));
        }
        budget.spend(SLOT)?;
        let tag = self.u8()?;
        Ok(match tag {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT => Value::Int(i64::from_le_bytes(self.eight()?)),
            FLOAT => Value::Float(f64::from_le_bytes(self.eight()?)),
            STR => {
                let s = self.text()?;
                budget.spend(s.len() as u64)?;
                Value::Str(s)
            }
            BYTES => {
                let n = self.count(1)?;
                budget.spend(n as u64)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            BIG_INT => {
                let negative = match self.u8()? {
                    0 => false,
                    1 => true,
                    other => return Err(self.malformed_at(at, format!("a big int with sign byte {other}"))),
                };
                let n = self.count(1)?;
                budget.spend(n as u64)?;
                int_from_wire(negative, self.take(n)?)
            }
            LIST => {
                let n = self.count(1)?;
                let mut items = Vec::with_capacity(n.min(budget.slots()));
                for _ in 0..n {
                    items.push(self.read(depth + 1, budget)?);
                }
                Value::List(items)
            }
            MAP => {
                // A key's length and the value's tag at least.
                let n = self.count(5)?;
                let mut entries = Vec::with_capacity(n.min(budget.slots()));
                for _ in 0..n {
                    let key = self.text()?;
                    budget.spend(size_of::<String>() as u64 + key.len() as u64)?;
                    let item = self.read(depth + 1, budget)?;
                    entries.push((key, item));
                }
                let map = Map::from_unique_entries(entries).map_err(|why| self.malformed_at(at, why))?;
                Value::Map(map)
            }
            AUDIO => {
                let sample_rate = self.four()?;
                let channels = u16::from_le_bytes([self.u8()?, self.u8()?]);
                let samples: Vec<f32> = self.numbers()?;
                budget.spend(4 * samples.len() as u64)?;
                let frame = AudioFrame { samples, sample_rate, channels };
                frame.check().map_err(|why| self.malformed_at(at, why))?;
                Value::Audio(frame)
            }
            ARRAY => {
                let data_kind = self.u8()?;
                let dims = self.count(4)?;
                let mut shape = Vec::with_capacity(dims);
                for _ in 0..dims {
                    shape.push(self.four()?);
                }
                budget.spend(4 * dims as u64)?;
                let data = match data_kind {
                    0 => ArrayData::F32(self.numbers()?),
                    1 => ArrayData::F64(self.numbers()?),
                    2 => ArrayData::I64(self.numbers()?),
                    other => return Err(self.malformed_at(at, format!("an array of element kind {other}"))),
                };
                let size = match &data {
                    ArrayData::F32(v) => 4 * v.len(),
                    ArrayData::F64(v) => 8 * v.len(),
                    ArrayData::I64(v) => 8 * v.len(),
                };
                budget.spend(size as u64)?;
                let array = NumArray { data, shape };
                array.check().map_err(|why| self.malformed_at(at, why))?;
                Value::Array(array)
            }
            other => return Err(self.malformed_at(at, format!("unknown tag {other}"))),
        })
    }

    #[cold]
    fn short(&self, n: usize) -> Fault {
        self.malformed_at(self.at, format!("{n} bytes wanted, {} left", self.bytes.len() - self.at))
    }

    #[cold]
    fn malformed_at(&self, at: usize, why: String) -> Fault {
        let message = format!("packed values malformed at byte {at} of {}: {why}", self.bytes.len());
        Box::new(DecodeError::Invalid(NodeError::unsupported_value(message)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use proptest::prelude::*;

    fn round_trip(v: &Value) -> Value {
        let mut bytes = Vec::new();
        encode(v, &mut bytes).unwrap();
        let mut reader = Reader::new(&bytes);
        let back = reader.value(u64::MAX).unwrap();
        assert!(reader.is_done(), "bytes left after {v:?}");
        back
    }

    #[test]
    fn every_kind_of_value_round_trips() {
        let mut map = Map::new();
        map.insert("a", Value::Int(1));
        map.insert("b", Value::List(vec![Value::Null, Value::Bool(true), Value::Bool(false)]));
        let values = [
            Value::Null,
            Value::Int(i64::MIN),
            Value::Float(-0.5),
            Value::from("héllo"),
            Value::Bytes(vec![0, 255]),
            Value::Map(map),
            Value::from(BigInt::from(u64::MAX) * BigInt::from(7)),
            Value::from(-(BigInt::from(u64::MAX) * BigInt::from(7))),
            Value::Audio(AudioFrame { samples: vec![0.25, -1.0, 0.5, 1.0], sample_rate: 16000, channels: 2 }),
            Value::Array(NumArray { data: ArrayData::I64(vec![1, 2, 3, 4, 5, 6]), shape: vec![2, 3] }),
            Value::Array(NumArray { data: ArrayData::F32(vec![1.5]), shape: vec![1] }),
            Value::Array(NumArray { data: ArrayData::F64(vec![]), shape: vec![0, 4] }),
        ];
        for v in values {
            assert_eq!(round_trip(&v), v);
        }
    }

    #[test]
    fn a_big_int_that_fits_travels_as_an_int() {
        let mut bytes = Vec::new();
        encode(&Value::BigInt(BigInt::from(-5)), &mut bytes).unwrap();
        assert_eq!(bytes[0], INT);
        // And one sent unnormalized decodes to an int.
        let unnormalized = [BIG_INT, 1, 2, 0, 0, 0, 5, 0];
        assert_eq!(Reader::new(&unnormalized).value(u64::MAX).unwrap(), Value::Int(-5));
    }

    #[test]
    fn nesting_is_bounded_on_both_sides() {
        let mut deep = Value::List(vec![]);
        for _ in 1..MAX_DEPTH {
            deep = Value::List(vec![deep]);
        }
        assert_eq!(round_trip(&deep), deep);
        let too_deep_value = Value::List(vec![deep]);
        assert!(encode(&too_deep_value, &mut Vec::new()).unwrap_err().message.contains("deeper than"));
        // Crafted by hand: MAX_DEPTH + 1 lists of one item each.
        let mut bytes = Vec::new();
        for _ in 0..=MAX_DEPTH {
            bytes.extend_from_slice(&[LIST, 1, 0, 0, 0]);
        }
        bytes.extend_from_slice(&[LIST, 0, 0, 0, 0]);
        let err = Reader::new(&bytes).value(u64::MAX).unwrap_err();
        assert!(matches!(&err, DecodeError::Invalid(e) if e.message.contains("deeper than")), "{err:?}");
    }

    #[test]
    fn malformed_bytes_are_refused_saying_where() {
        let cases: [(&[u8], &str); 8] = [
            (&[42], "unknown tag 42"),
            (&[INT, 1, 2], "8 bytes wanted, 2 left"),
            (&[STR, 9, 0, 0, 0, b'a'], "count of 9 parts does not fit"),
            (&[STR, 1, 0, 0, 0, 0xff], "not UTF-8"),
            (&[LIST, 255, 255, 255, 255], "does not fit"),
            (&[MAP, 2, 0, 0, 0, 1, 0, 0, 0, b'k', NULL, 1, 0, 0, 0, b'k', NULL], "k"),
            (&[AUDIO, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], "0 channels"),
            (&[ARRAY, 2, 1, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "does not have shape"),
        ];
        for (bytes, want) in cases {
            match Reader::new(bytes).value(u64::MAX) {
                Err(DecodeError::Invalid(e)) => {
                    assert!(e.message.contains(want), "{bytes:?}: {}", e.message);
                    assert!(e.message.starts_with("packed values malformed at byte "), "{}", e.message);
                }
                other => panic!("{bytes:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn answers_are_framed_and_read_back() {
        let mut bytes = Vec::new();
        encode_answer(&[Value::Int(1), Value::from("two")], &mut bytes).unwrap();
        encode_answer(&[], &mut bytes).unwrap();
        let mut reader = Reader::new(&bytes);
        let (count, values) = reader.answer().unwrap();
        assert_eq!(count, 2);
        let mut values = Reader::new(values);
        assert_eq!(values.value(u64::MAX).unwrap(), Value::Int(1));
        assert_eq!(values.value(u64::MAX).unwrap(), Value::from("two"));
        assert!(values.is_done());
        assert_eq!(reader.answer().unwrap(), (0, &[][..]));
        assert!(reader.is_done());
        assert!(reader.answer().unwrap_err().message.contains("4 bytes wanted, 0 left"));
        // A value that cannot be sent leaves what was there.
        let mut deep = Value::Null;
        for _ in 0..=MAX_DEPTH {
            deep = Value::List(vec![deep]);
        }
        assert!(encode_answer(&[Value::Int(3), deep], &mut bytes).is_err());
        assert_eq!(Reader::new(&bytes).answer().unwrap().0, 2, "the earlier answers are intact");
        assert_eq!(bytes.len(), 8 + 9 + 1 + 4 + 3 + 8);
    }

    #[test]
    fn the_budget_holds_a_value_to_its_decoded_size() {
        let v = Value::List(vec![Value::from("x".repeat(1000)); 10]);
        let mut bytes = Vec::new();
        encode(&v, &mut bytes).unwrap();
        assert_eq!(Reader::new(&bytes).value(20_000).unwrap(), v);
        assert_eq!(Reader::new(&bytes).value(5_000).unwrap_err(), DecodeError::TooLarge { limit: 5_000 });
    }

    fn int() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::Int),
            (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(negative, magnitude)| {
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
            (proptest::collection::vec(-1.0f32..1.0, 0..4), 1u16..3).prop_map(|(mut samples, channels)| {
                samples.truncate(samples.len() / usize::from(channels) * usize::from(channels));
                Value::Audio(AudioFrame { samples, sample_rate: 8000, channels })
            }),
            proptest::collection::vec(any::<i64>(), 0..6)
                .prop_map(|v| { let n = v.len() as u32; Value::Array(NumArray { data: ArrayData::I64(v), shape: vec![n] }) }),
        ];
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
                proptest::collection::btree_map(".{0,4}", inner, 0..6).prop_map(|m| Value::Map(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_values_round_trip_one_after_another(vs in proptest::collection::vec(value(), 0..4)) {
            let mut bytes = Vec::new();
            for v in &vs {
                encode(v, &mut bytes).unwrap();
            }
            let mut reader = Reader::new(&bytes);
            for v in &vs {
                prop_assert_eq!(&reader.value(u64::MAX).unwrap(), v);
            }
            prop_assert!(reader.is_done());
        }

        #[test]
        fn the_scalar_paths_read_as_the_general_reader_does(
            data in proptest::collection::vec(any::<u8>(), 0..24),
            tag in 0u8..12,
            budget in prop_oneof![Just(u64::MAX), 0u64..80],
        ) {
            // Mostly the tags the fast paths take, with what follows them
            // whole, cut short or garbage.
            let data: Vec<u8> = std::iter::once(tag).chain(data).collect();
            let general = {
                let mut reader = Reader::new(&data);
                let mut left = Budget { left: budget, limit: budget };
                let read = reader.read(1, &mut left).map_err(|fault| format!("{:?}", *fault));
                (read, reader.position())
            };
            let mut reader = Reader::new(&data);
            let direct = (reader.value(budget).map_err(|e| format!("{e:?}")), reader.position());
            let mut reader = Reader::new(&data);
            let mut out = vec![Value::Null];
            let into = reader.value_into(budget, &mut out).map(|()| out.pop().unwrap()).map_err(|e| format!("{e:?}"));
            prop_assert_eq!(out.len(), 1, "value_into pushes exactly one value, and only when it succeeds");
            match &general.0 {
                Ok(_) => {
                    prop_assert_eq!(&direct, &general);
                    prop_assert_eq!(&(into, reader.position()), &general);
                }
                Err(e) => {
                    prop_assert_eq!(direct.0.as_ref().unwrap_err(), e);
                    prop_assert_eq!(into.as_ref().unwrap_err(), e);
                }
            }
        }

        #[test]
        fn garbage_never_panics_and_stays_in_budget(data in proptest::collection::vec(any::<u8>(), 0..96), budget in 0u64..4096) {
            let mut reader = Reader::new(&data);
            while !reader.is_done() {
                let before = reader.position();
                match reader.value(budget) {
                    Ok(v) => prop_assert!(reader.position() > before && v.depth_up_to(MAX_DEPTH + 1) <= MAX_DEPTH),
                    Err(_) => break,
                }
            }
        }
    }
}
