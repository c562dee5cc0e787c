//! The `python-marshal` value form: a list or map as CPython's `marshal`
//! data (format versions 2 to 4), which CPython reads and writes in one C
//! call (`marshal.loads` / `marshal.dumps`) where a `nested` table costs
//! it a Python object per entry.
//!
//! [`encode`] writes a [`Value`] as CPython reads it (format 4's short string
//! forms, no references);
//! [`decode`] reads what a CPython guest wrote, as hostile input: every
//! length is checked against what is left, nesting stops at [`MAX_DEPTH`],
//! a reference must point to an object already finished (one that points
//! into a container still being read is a list that contains itself), and
//! the value's size once decoded, shared parts counted each time they are
//! used, must stay within a budget. Well-formed data that the Python rules
//! refuse (a set, a dict with an int key, a lone surrogate) is
//! [`MarshalError::Refused`] with the rules' own words
//! ([`crate::python`]), so a refusal reads the same on every runtime.
//!
//! Only these type codes are read: `N T F i l g s u t a A z Z ( ) [ {`
//! and `r`, each possibly with the reference flag (0x80). `< > x y . S c :`
//! (set, frozenset, complex, Ellipsis, StopIteration, code, slice) are
//! refused by type name; anything else is malformed.

use num_bigint::{BigInt, BigUint, Sign};

use crate::python::{lone_surrogates, too_deep, unsupported_type};
use crate::{Map, NodeError, Value, MAX_DEPTH};

/// Why `python-marshal` data did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarshalError {
    /// Not data a CPython guest writes: truncated, an unknown type code, a
    /// bad length or reference. The text says what and where.
    Malformed(String),
    /// Well formed, but the Python rules refuse the value; the text is the
    /// rules' reason ("type 'set' (supported: ...)").
    Refused(String),
    /// Decoded, it would take more than `limit` bytes (shared parts counted
    /// each time they are used).
    TooLarge {
        /// The budget it went past.
        limit: u64,
    },
}

impl MarshalError {
    /// The error as a node error of kind `unsupported-value`.
    pub fn into_node_error(self) -> NodeError {
        match self {
            MarshalError::Malformed(why) => NodeError::unsupported_value(format!("python-marshal data: {why}")),
            MarshalError::Refused(why) => NodeError::unsupported_value(why),
            MarshalError::TooLarge { limit } => {
                NodeError::unsupported_value(format!("python-marshal data decodes to more than {limit} bytes"))
            }
        }
    }
}

/// What one decoded value counts against the budget: its slot, plus its
/// payload's bytes (the unit the host's output limit uses).
const SLOT: u64 = size_of::<Value>() as u64;

const FLAG_REF: u8 = 0x80;

/// `value` as marshal data, or `None` when it holds an audio frame or an
/// array (kinds marshal has not; send those as a table).
///
/// # Errors
/// A value nested deeper than [`MAX_DEPTH`], or a string or list too long
/// for the format's 32-bit lengths.
pub fn encode(value: &Value) -> Result<Option<Vec<u8>>, NodeError> {
    let mut out = Vec::with_capacity(size_hint(value));
    if write(value, 1, &mut out)? {
        Ok(Some(out))
    } else {
        Ok(None)
    }
}

/// About how many bytes `value` takes as marshal data, looking one level
/// deep (a list's items as small ints): the buffer starts that large rather
/// than growing from nothing through a run of reallocations.
fn size_hint(value: &Value) -> usize {
    match value {
        Value::Str(s) => 5 + s.len(),
        Value::Bytes(b) => 5 + b.len(),
        Value::List(items) => 5 + 5 * items.len(),
        Value::Map(map) => 1 + 16 * map.len(),
        _ => 16,
    }
}

fn length(n: usize) -> Result<[u8; 4], NodeError> {
    i32::try_from(n)
        .map(i32::to_le_bytes)
        .map_err(|_| NodeError::unsupported_value("a string, bytes or list too long for python-marshal data"))
}

/// Append `value`; false when it holds something marshal cannot carry.
fn write(value: &Value, depth: usize, out: &mut Vec<u8>) -> Result<bool, NodeError> {
    if depth > MAX_DEPTH {
        return Err(super::too_deep());
    }
    match value {
        Value::Null => out.push(b'N'),
        Value::Bool(true) => out.push(b'T'),
        Value::Bool(false) => out.push(b'F'),
        Value::Int(i) => match i32::try_from(*i) {
            Ok(small) => {
                let [a, b, c, d] = small.to_le_bytes();
                out.extend_from_slice(&[b'i', a, b, c, d]);
            }
            Err(_) => write_long(&BigInt::from(*i), out)?,
        },
        Value::BigInt(i) => write_long(i, out)?,
        Value::Float(f) => {
            out.push(b'g');
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Str(s) => write_str(s, out)?,
        Value::Bytes(b) => {
            out.push(b's');
            out.extend_from_slice(&length(b.len())?);
            out.extend_from_slice(b);
        }
        Value::List(items) => {
            out.push(b'[');
            out.extend_from_slice(&length(items.len())?);
            // An int of 32 bits, the usual item, is written in place
            // (callgrind, 100 ints: 2,100 instructions, 6,200 through
            // `write` each).
            let leaf_ok = depth < MAX_DEPTH;
            for item in items {
                if let (true, Value::Int(i)) = (leaf_ok, item)
                    && let Ok(small) = i32::try_from(*i)
                {
                    let [a, b, c, d] = small.to_le_bytes();
                    out.extend_from_slice(&[b'i', a, b, c, d]);
                } else if !write(item, depth + 1, out)? {
                    return Ok(false);
                }
            }
        }
        Value::Map(map) => {
            out.push(b'{');
            for (key, item) in map.iter() {
                write_str(key, out)?;
                if !write(item, depth + 1, out)? {
                    return Ok(false);
                }
            }
            out.push(b'0');
        }
        Value::Audio(_) | Value::Array(_) => return Ok(false),
    }
    Ok(true)
}

fn write_str(s: &str, out: &mut Vec<u8>) -> Result<(), NodeError> {
    // ASCII forms spare CPython the UTF-8 decoding.
    match (s.is_ascii(), u8::try_from(s.len())) {
        (true, Ok(short)) => out.extend_from_slice(&[b'z', short]),
        (true, Err(_)) => {
            out.push(b'a');
            out.extend_from_slice(&length(s.len())?);
        }
        (false, _) => {
            out.push(b'u');
            out.extend_from_slice(&length(s.len())?);
        }
    }
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// An int as `l`: a signed count of 15-bit digits, least significant first.
fn write_long(i: &BigInt, out: &mut Vec<u8>) -> Result<(), NodeError> {
    let (sign, magnitude) = i.to_bytes_le();
    let mut digits: Vec<u16> = Vec::with_capacity(magnitude.len() * 8 / 15 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for byte in magnitude {
        acc |= u32::from(byte) << bits;
        bits += 8;
        while bits >= 15 {
            digits.push((acc & 0x7fff) as u16);
            acc >>= 15;
            bits -= 15;
        }
    }
    if bits > 0 {
        digits.push(acc as u16);
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    let count = i32::try_from(digits.len())
        .map_err(|_| NodeError::unsupported_value("an int too large for python-marshal data"))?;
    out.push(b'l');
    out.extend_from_slice(&(if sign == Sign::Minus { -count } else { count }).to_le_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_le_bytes());
    }
    Ok(())
}

/// Decode marshal data written by a CPython guest, within `max_bytes`
/// decoded (see the module's notes on what is checked).
///
/// # Errors
/// [`MarshalError`]: malformed data, a value the Python rules refuse, or one
/// past the budget.
pub fn decode(data: &[u8], max_bytes: u64) -> Result<Value, MarshalError> {
    let mut reader = Reader { data, at: 0, refs: Vec::new(), replaying: 0, used: 0, max_bytes };
    let value = reader.value(1)?;
    if reader.at != data.len() {
        return Err(reader.malformed(format!("{} bytes left over after the value", data.len() - reader.at)));
    }
    Ok(value)
}

/// An object marked with the reference flag: where it starts, and whether
/// it has been read to its end (a reference to it before then is a cycle).
#[derive(Clone, Copy)]
struct RefTarget {
    at: usize,
    finished: bool,
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
    refs: Vec<RefTarget>,
    /// Above zero while a referenced object is read again: its own flagged
    /// objects were numbered the first time.
    replaying: u32,
    used: u64,
    max_bytes: u64,
}

impl Reader<'_> {
    fn malformed(&self, why: impl std::fmt::Display) -> MarshalError {
        MarshalError::Malformed(format!("{why} (at byte {})", self.at))
    }

    fn take(&mut self, n: usize) -> Result<&[u8], MarshalError> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.data.len());
        let Some(end) = end else {
            return Err(self.malformed(format!("{n} bytes wanted, {} left", self.data.len() - self.at)));
        };
        let bytes = &self.data[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, MarshalError> {
        Ok(self.take(1)?[0])
    }

    fn i32(&mut self) -> Result<i32, MarshalError> {
        let b = self.take(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A 32-bit length, which must be non-negative.
    fn len32(&mut self) -> Result<usize, MarshalError> {
        let n = self.i32()?;
        usize::try_from(n).map_err(|_| self.malformed(format!("negative length {n}")))
    }

    /// Count `bytes` against the budget.
    fn spend(&mut self, bytes: u64) -> Result<(), MarshalError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.max_bytes {
            return Err(MarshalError::TooLarge { limit: self.max_bytes });
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Value, MarshalError> {
        if depth > MAX_DEPTH {
            return Err(MarshalError::Refused(too_deep()));
        }
        let start = self.at;
        let tagged = self.byte()?;
        let code = tagged & !FLAG_REF;
        if code == b'r' {
            return self.reference(depth);
        }
        let slot = (tagged & FLAG_REF != 0 && self.replaying == 0).then(|| {
            self.refs.push(RefTarget { at: start, finished: false });
            self.refs.len() - 1
        });
        self.spend(SLOT)?;
        let value = match code {
            b'N' => Value::Null,
            b'T' => Value::Bool(true),
            b'F' => Value::Bool(false),
            b'i' => Value::Int(i64::from(self.i32()?)),
            b'l' => self.long()?,
            b'g' => {
                let b = self.take(8)?;
                Value::Float(f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            }
            b's' => {
                let n = self.len32()?;
                self.spend(n as u64)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            b'u' | b't' | b'a' | b'A' | b'z' | b'Z' => Value::Str(self.string(code, "str")?),
            b'(' | b')' | b'[' => {
                let n = if code == b')' { usize::from(self.byte()?) } else { self.len32()? };
                // Each item takes at least one byte: a longer count is a lie.
                if n > self.data.len() - self.at {
                    return Err(self.malformed(format!("a list of {n} items in {} bytes", self.data.len() - self.at)));
                }
                let mut items = Vec::with_capacity(n);
                // Runs of ints of 32 bits without the reference flag (all of
                // them in the version 2 data guests write) are read in
                // place, a run at a time (callgrind, 100 ints: 2,700
                // instructions, 6,700 item by item).
                let leaf_ok = depth < MAX_DEPTH;
                let mut left = n;
                while left > 0 {
                    let ints = self.data[self.at..].chunks_exact(5).take(if leaf_ok { left } else { 0 });
                    let run = ints.clone().take_while(|item| item[0] == b'i').count();
                    self.spend(SLOT * run as u64)?;
                    items.extend(ints.take(run).map(|item| Value::Int(i64::from(i32::from_le_bytes([item[1], item[2], item[3], item[4]])))));
                    self.at += 5 * run;
                    left -= run;
                    if left > 0 {
                        items.push(self.value(depth + 1)?);
                        left -= 1;
                    }
                }
                Value::List(items)
            }
            b'{' => self.dict(depth)?,
            other => {
                return Err(match type_name(other) {
                    Some(name) => MarshalError::Refused(unsupported_type(name)),
                    None => self.malformed(format!("unknown type code 0x{tagged:02x}")),
                });
            }
        };
        if let Some(slot) = slot {
            self.refs[slot].finished = true;
        }
        Ok(value)
    }

    /// `r`: the object a reference names, read again where it starts.
    fn reference(&mut self, depth: usize) -> Result<Value, MarshalError> {
        let index = self.i32()?;
        let target = usize::try_from(index).ok().and_then(|i| self.refs.get(i)).copied();
        let Some(target) = target else {
            return Err(self.malformed(format!("reference {index} to no earlier object")));
        };
        if !target.finished {
            // Only a container is unfinished while something inside it is
            // read: the value contains itself.
            return Err(MarshalError::Refused(too_deep()));
        }
        let resume = self.at;
        self.at = target.at;
        self.replaying += 1;
        let value = self.value(depth);
        self.replaying -= 1;
        self.at = resume;
        value
    }

    fn string(&mut self, code: u8, what: &str) -> Result<String, MarshalError> {
        let n = if matches!(code, b'z' | b'Z') { usize::from(self.byte()?) } else { self.len32()? };
        self.spend(n as u64)?;
        let bytes = self.take(n)?;
        if matches!(code, b'a' | b'A' | b'z' | b'Z') && !bytes.is_ascii() {
            return Err(self.malformed("an ASCII string with a byte above 0x7f"));
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(MarshalError::Refused(lone_surrogates(what))),
        }
    }

    /// `l`: a signed count of 15-bit digits, least significant first, the
    /// top one not zero.
    fn long(&mut self) -> Result<Value, MarshalError> {
        let count = self.i32()?;
        let n = count.unsigned_abs() as usize;
        if n > (self.data.len() - self.at) / 2 {
            return Err(self.malformed(format!("an int of {n} digits in {} bytes", self.data.len() - self.at)));
        }
        self.spend(n as u64 * 2)?;
        let raw = self.take(n * 2)?;
        // 15-bit digits into bytes, in one pass.
        let mut bytes = Vec::with_capacity(n * 15 / 8 + 1);
        let (mut acc, mut bits, mut top) = (0u32, 0u32, 0u16);
        for pair in raw.chunks_exact(2) {
            let d = u16::from_le_bytes([pair[0], pair[1]]);
            if d >= 0x8000 {
                return Err(self.malformed("an int digit out of range"));
            }
            top = d;
            acc |= u32::from(d) << bits;
            bits += 15;
            while bits >= 8 {
                bytes.push(acc as u8);
                acc >>= 8;
                bits -= 8;
            }
        }
        if bits > 0 {
            bytes.push(acc as u8);
        }
        if n > 0 && top == 0 {
            return Err(self.malformed("an int with a leading zero digit"));
        }
        let magnitude = BigUint::from_bytes_le(&bytes);
        let sign = if count < 0 { Sign::Minus } else { Sign::Plus };
        Ok(Value::from(BigInt::from_biguint(sign, magnitude)))
    }

    /// `{`: keys and values until `0`; every key must be a str.
    fn dict(&mut self, depth: usize) -> Result<Value, MarshalError> {
        let mut entries = Vec::new();
        loop {
            let key_at = self.at;
            let tagged = self.byte()?;
            let code = tagged & !FLAG_REF;
            if code == b'0' {
                break;
            }
            let key_type = if code == b'r' {
                let index = self.i32()?;
                let target = usize::try_from(index).ok().and_then(|i| self.refs.get(i)).copied();
                let Some(target) = target else {
                    return Err(self.malformed(format!("reference {index} to no earlier object")));
                };
                self.data.get(target.at).map_or(0, |c| c & !FLAG_REF)
            } else {
                code
            };
            self.at = key_at;
            if !matches!(key_type, b'u' | b't' | b'a' | b'A' | b'z' | b'Z') {
                return Err(match type_name(key_type) {
                    Some(name) => MarshalError::Refused(format!("dict key of type '{name}' (keys must be str)")),
                    None => self.malformed(format!("unknown type code 0x{key_type:02x} for a dict key")),
                });
            }
            let key = match self.value(depth + 1) {
                Ok(Value::Str(key)) => key,
                Ok(_) => return Err(self.malformed("a dict key that is not a str")),
                Err(MarshalError::Refused(why)) if why == lone_surrogates("str") => {
                    return Err(MarshalError::Refused(lone_surrogates("dict key")));
                }
                Err(e) => return Err(e),
            };
            let value = self.value(depth + 1)?;
            entries.push((key, value));
        }
        Map::from_unique_entries(entries).map(Value::Map).map_err(|e| self.malformed(e))
    }
}

/// The name of the [`Value`] kind marshal data decodes to, from its first
/// byte (for messages about data not yet decoded; "list" when unknown).
pub fn value_type_name(first: Option<u8>) -> &'static str {
    match first.map(|c| c & !FLAG_REF) {
        Some(b'{') => "map",
        Some(b's') => "bytes",
        Some(b'u' | b't' | b'a' | b'A' | b'z' | b'Z') => "str",
        Some(b'i' | b'l') => "int",
        Some(b'g') => "float",
        Some(b'T' | b'F') => "bool",
        Some(b'N') => "null",
        _ => "list",
    }
}

/// The Python type name of a marshal type code (without the reference flag).
fn type_name(code: u8) -> Option<&'static str> {
    Some(match code {
        b'N' => "NoneType",
        b'T' | b'F' => "bool",
        b'i' | b'l' => "int",
        b'g' | b'f' => "float",
        b's' => "bytes",
        b'u' | b't' | b'a' | b'A' | b'z' | b'Z' => "str",
        b'(' | b')' => "tuple",
        b'[' => "list",
        b'{' => "dict",
        b'<' => "set",
        b'>' => "frozenset",
        b'x' | b'y' => "complex",
        b'.' => "ellipsis",
        b'S' => "type",
        b'c' => "code",
        b':' => "slice",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BigInt;
    use proptest::prelude::*;

    fn round_trip(v: &Value) -> Value {
        decode(&encode(v).unwrap().unwrap(), u64::MAX).unwrap()
    }

    #[test]
    fn values_come_back_the_same() {
        let mut map = Map::new();
        map.insert("ascii", "x".repeat(300));
        map.insert("ünï", Value::Str("ç€𝄞".into()));
        map.insert("ints", Value::List([0, 1, -1, i64::from(i32::MAX) + 1, i64::MIN, i64::MAX].map(Value::Int).to_vec()));
        map.insert("big", Value::from(-(BigInt::from(1) << 200u32)));
        map.insert("floats", Value::List(vec![Value::Float(-0.0), Value::Float(f64::INFINITY), Value::Float(1e-300)]));
        map.insert("bytes", Value::Bytes(vec![0, 255, 7]));
        map.insert("nothing", Value::List(vec![Value::Null, Value::Bool(true), Value::Bool(false), Value::Map(Map::new())]));
        let v = Value::List(vec![Value::Map(map), Value::List(vec![])]);
        assert_eq!(round_trip(&v), v);
    }

    #[test]
    fn audio_and_arrays_are_not_marshalled() {
        let audio = Value::Audio(crate::AudioFrame { samples: vec![0.0], sample_rate: 8000, channels: 1 });
        assert_eq!(encode(&Value::List(vec![Value::Int(1), audio])).unwrap(), None);
    }

    /// Bytes CPython 3.11's `marshal.dumps(obj, 4)` wrote for the objects
    /// named (from a real interpreter, references included).
    #[test]
    fn reads_what_cpython_writes() {
        let cases: [(&[u8], Value); 3] = [
            // [1, 1, 'ab', 'ab']: the small int and the str referenced.
            (
                b"[\x04\x00\x00\x00\xe9\x01\x00\x00\x00r\x00\x00\x00\x00\xda\x02abr\x01\x00\x00\x00",
                Value::List(vec![Value::Int(1), Value::Int(1), "ab".into(), "ab".into()]),
            ),
            // {'k': (2**100, -3.5)}
            (
                b"{\xda\x01k)\x02l\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\xe7\x00\x00\x00\x00\x00\x00\x0c\xc00",
                Value::Map(
                    [("k", Value::List(vec![Value::from(BigInt::from(1) << 100u32), Value::Float(-3.5)]))]
                        .into_iter()
                        .collect(),
                ),
            ),
            // a = [1, 2]; [a, a]
            (
                b"[\x02\x00\x00\x00\xdb\x02\x00\x00\x00\xe9\x01\x00\x00\x00\xe9\x02\x00\x00\x00r\x00\x00\x00\x00",
                Value::List(vec![Value::List(vec![Value::Int(1), Value::Int(2)]); 2]),
            ),
        ];
        for (data, want) in cases {
            assert_eq!(decode(data, u64::MAX).unwrap(), want);
        }
    }

    #[test]
    fn refusals_use_the_python_rules_words() {
        let refused = |data: &[u8]| match decode(data, u64::MAX) {
            Err(MarshalError::Refused(why)) => why,
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(b"[\x01\x00\x00\x00<\x00\x00\x00\x00"), unsupported_type("set"));
        assert_eq!(refused(b"{\xe9\x01\x00\x00\x00N0"), "dict key of type 'int' (keys must be str)");
        assert_eq!(refused(b"{)\x00N0"), "dict key of type 'tuple' (keys must be str)");
        assert_eq!(refused(b"[\x01\x00\x00\x00u\x03\x00\x00\x00\xed\xa0\x80"), lone_surrogates("str"));
        assert_eq!(refused(b"{u\x03\x00\x00\x00\xed\xa0\x80N0"), lone_surrogates("dict key"));
        // A list that contains itself: a reference into an unfinished list.
        assert_eq!(refused(b"\xdb\x01\x00\x00\x00r\x00\x00\x00\x00"), too_deep());
        let mut deep = b"[\x01\x00\x00\x00".repeat(MAX_DEPTH);
        deep.push(b'N');
        assert_eq!(refused(&deep), too_deep());
        let mut ok = b"[\x01\x00\x00\x00".repeat(MAX_DEPTH - 1);
        ok.push(b'N');
        assert!(decode(&ok, u64::MAX).is_ok());
    }

    #[test]
    fn malformed_data_is_refused_not_trusted() {
        for data in [
            &b""[..],
            b"[\x05\x00\x00\x00N",            // fewer items than counted
            b"[\xff\xff\xff\x7f",             // a huge count
            b"s\x10\x00\x00\x00ab",           // bytes past the end
            b"r\x00\x00\x00\x00",             // a reference to nothing
            b"l\x01\x00\x00\x00\x00\x80",     // a digit out of range
            b"l\x01\x00\x00\x00\x00\x00",     // a zero top digit
            b"z\x02\xc3\xa9",                 // non-ASCII in an ASCII string
            b"NN",                            // bytes left over
            b"?",                             // an unknown code
            b"{z\x01aNz\x01aN0",              // a key twice
        ] {
            assert!(matches!(decode(data, u64::MAX), Err(MarshalError::Malformed(_))), "{data:?}");
        }
    }

    #[test]
    fn shared_parts_count_each_time_they_are_used() {
        // [[x], r0, r0, ...]: a list of 1000 references to one 1000-byte str.
        let mut data = b"[\xe8\x03\x00\x00".to_vec();
        data.extend_from_slice(b"\xf5\xe8\x03\x00\x00");
        data.extend_from_slice(&[b'y'; 1000]);
        for _ in 1..1000 {
            data.extend_from_slice(b"r\x00\x00\x00\x00");
        }
        assert!(decode(&data, 2_000_000).is_ok());
        assert_eq!(decode(&data, 500_000), Err(MarshalError::TooLarge { limit: 500_000 }));
        // Doubling: each list holds the one before twice; 40 levels would be
        // 2**40 strs, and is stopped by the budget at once.
        let mut doubling = b"\xdb\x02\x00\x00\x00".repeat(40);
        doubling.extend_from_slice(b"NN");
        for level in (0..39u32).rev() {
            doubling.push(b'r');
            doubling.extend_from_slice(&(level + 1).to_le_bytes());
        }
        assert_eq!(decode(&doubling, 1 << 20), Err(MarshalError::TooLarge { limit: 1 << 20 }));
        // Within a budget it can meet, the same shape decodes: 2**10 Nones.
        let mut small = b"\xdb\x02\x00\x00\x00".repeat(10);
        small.extend_from_slice(b"NN");
        for level in (0..9u32).rev() {
            small.push(b'r');
            small.extend_from_slice(&(level + 1).to_le_bytes());
        }
        assert!(decode(&small, 1 << 20).is_ok());
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<i128>().prop_map(Value::from),
            any::<f64>().prop_filter("NaN is not equal to itself", |f| !f.is_nan()).prop_map(Value::Float),
            ".{0,300}".prop_map(Value::Str),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
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
        fn any_value_round_trips(v in value()) {
            prop_assert_eq!(round_trip(&v), v);
        }

        #[test]
        fn garbage_never_panics_and_stays_in_budget(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&data, 4096);
        }

        #[test]
        fn cut_data_is_malformed(v in value(), cut in any::<prop::sample::Index>()) {
            let data = encode(&v).unwrap().unwrap();
            let at = cut.index(data.len());
            prop_assert!(decode(&data[..at], u64::MAX).is_err());
        }
    }
}
