//! How Python objects and [`Value`]s convert into each other: the one set of
//! rules every Python runtime follows (RustPython in the sandbox, RustPython
//! linked natively, CPython through PyO3), with every error text.
//!
//! A runtime implements [`Interpreter`] (small questions about one object,
//! such as "is it an int, and does it fit in 64 bits?", and constructors
//! for new objects) over its own API, and calls [`to_value`], [`to_python`]
//! and [`collect_outputs`]. What is checked, in which order, and what each
//! refusal says is decided here alone, so the runtimes cannot drift apart.
//!
//! # Python to `Value`
//!
//! The first rule that matches wins:
//!
//! | Python                                   | `Value`                                    |
//! |------------------------------------------|--------------------------------------------|
//! | `None`                                   | `Null`                                     |
//! | `bool`                                   | `Bool` (a bool is never an `Int`)          |
//! | `int` and subclasses (`IntEnum`)         | `Int` when it fits in a signed 64-bit int, else `BigInt` (exact, any size) |
//! | `float` and subclasses                   | `Float`                                    |
//! | `str` and subclasses                     | `Str`; a lone surrogate is refused         |
//! | `bytes`, `bytearray`                     | `Bytes`                                    |
//! | `list`, `tuple` and subclasses           | `List` (tuples become lists)               |
//! | `dict` and subclasses                    | `Map`, in order; every key must be a `str` |
//! | `nodehost.AudioFrame`                    | `Audio`                                    |
//! | `nodehost.Array`                         | `Array`                                    |
//! | anything else                            | refused, naming its type                   |
//!
//! The object returned is at level 1 and the items of a list or dict one
//! level below their container; an object below level [`MAX_DEPTH`] is
//! refused, so a list that contains itself is an error, not a crash.
//!
//! **Numeric data** (`AudioFrame.samples`, `Array.data`) is an
//! `array.array` or a list or tuple of numbers. An `array.array` becomes,
//! by typecode ([`decode_numbers`]):
//!
//! | typecode                         | elements                                   |
//! |----------------------------------|--------------------------------------------|
//! | `'f'`                            | f32                                        |
//! | `'d'`                            | f64                                        |
//! | `'b' 'h' 'i' 'l' 'q'` (signed)   | i64                                        |
//! | `'B' 'H' 'I' 'L' 'Q'` (unsigned) | i64; an element above 2**63-1 is refused   |
//! | `'u'`, `'w'`, anything else      | refused                                    |
//!
//! Integer items are read at the array's own `itemsize`, never at a width
//! guessed from the typecode's name: `'l'` is 8 bytes on 64-bit Linux and 4
//! on wasm32, and the same Python array gives the same values on both.
//! A list or tuple becomes i64 when it is non-empty and holds only ints,
//! and f64 otherwise (a bool there counts as 0.0 or 1.0, never as an int);
//! an int beyond 64 bits is refused in either case: numeric data is i64 or
//! floats, and a list that must carry big ints is a plain `list`. Audio samples are then
//! converted to f32. `AudioFrame.sample_rate` must be an int (not a bool)
//! in 0..2**32, `AudioFrame.channels` one in 0..2**16, `Array.shape` a
//! tuple or list of such ints in 0..2**32; the frame or array must then
//! pass [`AudioFrame::check`] or [`NumArray::check`].
//!
//! # `Value` to Python
//!
//! Each kind becomes the type it came from (`Int` and `BigInt` an `int`),
//! `Map` a `dict` and `List` a `list`; `Audio` becomes `nodehost.AudioFrame(array('f'), sample_rate,
//! channels)` and `Array` becomes `nodehost.Array(array(t), shape)` with
//! `t` `'f'`, `'d'` or `'q'` for f32, f64 and i64 data ([`encode_numbers`]).
//!
//! # Outputs
//!
//! A method's result ([`collect_outputs`]): `None` is no output; a
//! generator gives each item it yields, skipping `None`, and is closed
//! (its `finally` blocks run) when it is stopped early, by the
//! `max_outputs` limit or by an item that cannot be carried; anything else
//! is one output.

use num_bigint::BigInt;

use crate::{ArrayData, AudioFrame, ErrorKind, Map, NodeError, NumArray, Value, MAX_DEPTH};

/// The Python types a value may be made of, as refusals list them.
pub const SUPPORTED: &str = "None, bool, int, float, str, bytes, list, tuple, dict with str keys, AudioFrame, Array";

/// Lines kept at each end of a long Python traceback.
pub const TRACEBACK_LINES: usize = 60;

/// Most bytes of an exception's text a runtime formats into its error (the
/// host keeps no more either): a node raising a 50 MB message must still
/// report its exception type, not run out of memory formatting it.
pub const MAX_EXCEPTION_TEXT: usize = 64 << 10;

/// `text` cut to [`MAX_EXCEPTION_TEXT`] bytes (at a character boundary) with
/// a note of its full length, or `None` when it fits.
pub fn cut_exception_text(text: &str) -> Option<String> {
    if text.len() <= MAX_EXCEPTION_TEXT {
        return None;
    }
    let mut end = MAX_EXCEPTION_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(format!("{} [... cut: {} bytes in all]", &text[..end], text.len()))
}

/// A Python `int`, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Int {
    /// It fits in a signed 64-bit int.
    Fits(i64),
    /// It does not: its exact value (read through the interpreter's bytes
    /// or digits, never through decimal text).
    Wide(BigInt),
}

/// A Python `str`, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// Valid Unicode, as UTF-8.
    Utf8(String),
    /// It holds a lone surrogate, which UTF-8 cannot encode.
    LoneSurrogates,
}

/// The contents of an `array.array`: its typecode, its `itemsize` and its
/// `tobytes()` (native byte order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberBuffer {
    /// The array's typecode, such as `'d'` or `'q'`.
    pub typecode: String,
    /// The size of one item in bytes.
    pub itemsize: usize,
    /// The items' raw bytes, in native byte order.
    pub bytes: Vec<u8>,
}

/// What the rules need from a Python interpreter. Each runtime implements
/// it over its API; the methods answer plain questions and decide nothing.
///
/// The type tests may be asked in any order and must not overlap except
/// where noted (a bool is also an int to Python: [`to_value`] asks
/// [`as_bool`](Self::as_bool) first).
pub trait Interpreter {
    /// A reference to a Python object.
    type Object;
    /// A Python exception.
    type Error;

    /// Is it `None`?
    fn is_none(&self, obj: &Self::Object) -> bool;
    /// Its value if it is a `bool`.
    fn as_bool(&self, obj: &Self::Object) -> Option<bool>;
    /// Its value if it is an `int` or an instance of a subclass (bools
    /// included): `int.__index__` semantics, so a subclass's overrides do
    /// not count. `None` for anything else, and also when the interpreter
    /// failed to read an int's digits (the caller then refuses it by type).
    fn as_int(&self, obj: &Self::Object) -> Option<Int>;
    /// Its value if it is a `float` or an instance of a subclass.
    fn as_float(&self, obj: &Self::Object) -> Option<f64>;
    /// Its text if it is a `str` or an instance of a subclass.
    fn as_str(&self, obj: &Self::Object) -> Option<Text>;
    /// Its contents if it is a `bytes` or a `bytearray` (or a subclass).
    fn as_bytes(&self, obj: &Self::Object) -> Option<Vec<u8>>;
    /// Its items if it is a `list` or a `tuple` (or a subclass).
    fn as_sequence(&self, obj: &Self::Object) -> Option<Vec<Self::Object>>;
    /// Its entries, in order, if it is a `dict` (or a subclass).
    fn as_dict(&self, obj: &Self::Object) -> Option<Vec<(Self::Object, Self::Object)>>;
    /// Is it a `nodehost.AudioFrame` (`isinstance`)?
    fn is_audio_frame(&self, obj: &Self::Object) -> Result<bool, Self::Error>;
    /// Is it a `nodehost.Array` (`isinstance`)?
    fn is_array(&self, obj: &Self::Object) -> Result<bool, Self::Error>;
    /// Its typecode, itemsize and bytes if it is an `array.array`
    /// (`isinstance`).
    fn as_number_buffer(&self, obj: &Self::Object) -> Result<Option<NumberBuffer>, Self::Error>;
    /// `getattr(obj, name)`.
    fn attr(&self, obj: &Self::Object, name: &'static str) -> Result<Self::Object, Self::Error>;
    /// `type(obj).__name__`.
    fn type_name(&self, obj: &Self::Object) -> String;

    /// Is it a generator?
    fn is_generator(&self, obj: &Self::Object) -> bool;
    /// The generator's next item, or `None` when it is done.
    fn next_item(&self, generator: &Self::Object) -> Result<Option<Self::Object>, Self::Error>;
    /// `generator.close()`, ignoring what it raises.
    fn close(&self, generator: &Self::Object);

    /// `None`.
    fn new_none(&self) -> Result<Self::Object, Self::Error>;
    /// A `bool`.
    fn new_bool(&self, b: bool) -> Result<Self::Object, Self::Error>;
    /// An `int`.
    fn new_int(&self, i: i64) -> Result<Self::Object, Self::Error>;
    /// An `int` outside the `i64` range, exactly (never through decimal
    /// text: CPython limits `int(str)` to 4300 digits).
    fn new_big_int(&self, i: &BigInt) -> Result<Self::Object, Self::Error>;
    /// A `float`.
    fn new_float(&self, f: f64) -> Result<Self::Object, Self::Error>;
    /// A `str`.
    fn new_str(&self, s: &str) -> Result<Self::Object, Self::Error>;
    /// A `bytes`.
    fn new_bytes(&self, b: Vec<u8>) -> Result<Self::Object, Self::Error>;
    /// A `list`.
    fn new_list(&self, items: Vec<Self::Object>) -> Result<Self::Object, Self::Error>;
    /// A `dict` with these entries, in order.
    fn new_dict(&self, entries: Vec<(String, Self::Object)>) -> Result<Self::Object, Self::Error>;
    /// `array.array(typecode, bytes)`.
    fn new_number_buffer(&self, typecode: &str, bytes: Vec<u8>) -> Result<Self::Object, Self::Error>;
    /// `nodehost.AudioFrame(samples, sample_rate, channels)`.
    fn new_audio_frame(&self, samples: Self::Object, sample_rate: u32, channels: u16) -> Result<Self::Object, Self::Error>;
    /// `nodehost.Array(data, shape)`, `shape` a tuple.
    fn new_array(&self, data: Self::Object, shape: &[u32]) -> Result<Self::Object, Self::Error>;
}

/// Why an object did not become a [`Value`].
#[derive(Debug)]
pub enum Refusal<E> {
    /// The rules refuse it; the text says why ("type 'set' (supported: ...)").
    Unsupported(String),
    /// Python raised while the object was looked at (a property, say).
    Raised(E),
}

impl<E> From<E> for Refusal<E> {
    fn from(e: E) -> Self {
        Refusal::Raised(e)
    }
}

/// Why a call's outputs could not all be collected.
#[derive(Debug)]
pub enum Failure<E> {
    /// A refusal or a limit, as the node's error.
    Node(NodeError),
    /// Python raised (in the call, the generator, or while an output was
    /// looked at); the runtime turns it into an error with a traceback.
    Raised(E),
}

/// The node method whose result is being collected, as messages name it.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The node's class name.
    pub class: &'a str,
    /// `process` or `flush`.
    pub method: &'a str,
}

/// The error for a result the rules refuse.
pub fn unsupported_output(call: Call<'_>, why: &str) -> NodeError {
    NodeError::unsupported_value(format!(
        "{}.{}() returned a value the pipeline cannot carry: {why}",
        call.class, call.method
    ))
}

/// The error for a generator that yields more than `max` outputs.
pub fn too_many_outputs(call: Call<'_>, max: usize) -> NodeError {
    NodeError::new(
        ErrorKind::LimitExceeded,
        format!("{}.{}() yielded more than {max} outputs for one input", call.class, call.method),
    )
}

/// The error for a Python exception: `message` is "Type: text" (or just
/// the type when the text is empty) and the traceback is shortened to
/// [`TRACEBACK_LINES`] at each end.
pub fn exception(kind: ErrorKind, exception_type: String, text: &str, traceback: &str) -> NodeError {
    let message = if text.is_empty() { exception_type.clone() } else { format!("{exception_type}: {text}") };
    let traceback = crate::error::shorten_traceback(traceback, TRACEBACK_LINES);
    NodeError { kind, message, exception_type: Some(exception_type), traceback: Some(traceback) }
}

/// A node's creation parameters as keyword arguments: a map, or nothing.
pub fn keyword_params(params: Value) -> Result<Map, NodeError> {
    match params {
        Value::Null => Ok(Map::new()),
        Value::Map(m) => Ok(m),
        other => Err(NodeError::invalid_params(format!("parameters must be a map, got {}", other.type_name()))),
    }
}

/// A Python object as a [`Value`], by the rules above.
pub fn to_value<I: Interpreter + ?Sized>(py: &I, obj: &I::Object) -> Result<Value, Refusal<I::Error>> {
    convert(py, obj, 1)
}

/// A method's result as an output, with the error naming the call.
pub fn output<I: Interpreter + ?Sized>(py: &I, obj: &I::Object, call: Call<'_>) -> Result<Value, Failure<I::Error>> {
    to_value(py, obj).map_err(|e| match e {
        Refusal::Unsupported(why) => Failure::Node(unsupported_output(call, &why)),
        Refusal::Raised(e) => Failure::Raised(e),
    })
}

/// Gather a method's `result` into `out`: nothing for `None`; each item a
/// generator yields except `None` (at most `max_outputs`; the generator is
/// closed when stopped early); otherwise the one value.
pub fn collect_outputs<I: Interpreter + ?Sized>(
    py: &I,
    result: &I::Object,
    call: Call<'_>,
    max_outputs: usize,
    out: &mut Vec<Value>,
) -> Result<(), Failure<I::Error>> {
    if py.is_none(result) {
        return Ok(());
    }
    if !py.is_generator(result) {
        out.push(output(py, result, call)?);
        return Ok(());
    }
    let mut count = 0usize;
    while let Some(item) = py.next_item(result).map_err(Failure::Raised)? {
        if py.is_none(&item) {
            continue;
        }
        count += 1;
        let value = if count > max_outputs {
            Err(Failure::Node(too_many_outputs(call, max_outputs)))
        } else {
            output(py, &item, call)
        };
        match value {
            Ok(v) => out.push(v),
            Err(e) => {
                py.close(result);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// A [`Value`] as a new Python object, by the rules above.
pub fn to_python<I: Interpreter + ?Sized>(py: &I, value: Value) -> Result<I::Object, I::Error> {
    match value {
        Value::Null => py.new_none(),
        Value::Bool(b) => py.new_bool(b),
        Value::Int(i) => py.new_int(i),
        Value::BigInt(i) => match i64::try_from(&i) {
            Ok(i) => py.new_int(i),
            Err(_) => py.new_big_int(&i),
        },
        Value::Float(f) => py.new_float(f),
        Value::Str(s) => py.new_str(&s),
        Value::Bytes(b) => py.new_bytes(b),
        Value::List(items) => {
            let items = items.into_iter().map(|v| to_python(py, v)).collect::<Result<Vec<_>, _>>()?;
            py.new_list(items)
        }
        Value::Map(map) => {
            let entries = map
                .into_iter()
                .map(|(k, v)| to_python(py, v).map(|v| (k, v)))
                .collect::<Result<Vec<_>, _>>()?;
            py.new_dict(entries)
        }
        Value::Audio(frame) => {
            let (typecode, bytes) = encode_numbers(&ArrayData::F32(frame.samples));
            let samples = py.new_number_buffer(typecode, bytes)?;
            py.new_audio_frame(samples, frame.sample_rate, frame.channels)
        }
        Value::Array(a) => {
            let (typecode, bytes) = encode_numbers(&a.data);
            let data = py.new_number_buffer(typecode, bytes)?;
            py.new_array(data, &a.shape)
        }
    }
}

/// The `array.array` typecode and bytes (native order) for numeric data:
/// `'f'` for f32, `'d'` for f64, `'q'` for i64.
pub fn encode_numbers(data: &ArrayData) -> (&'static str, Vec<u8>) {
    match data {
        ArrayData::F32(v) => ("f", v.iter().flat_map(|x| x.to_ne_bytes()).collect()),
        ArrayData::F64(v) => ("d", v.iter().flat_map(|x| x.to_ne_bytes()).collect()),
        ArrayData::I64(v) => ("q", v.iter().flat_map(|x| x.to_ne_bytes()).collect()),
    }
}

/// What an `array.array` typecode holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    F32,
    F64,
    Signed,
    Unsigned,
}

/// The typecode table: what each `array.array` typecode becomes.
fn element(typecode: &str) -> Option<Element> {
    Some(match typecode {
        "f" => Element::F32,
        "d" => Element::F64,
        "b" | "h" | "i" | "l" | "q" => Element::Signed,
        "B" | "H" | "I" | "L" | "Q" => Element::Unsigned,
        _ => return None,
    })
}

/// The numbers of an `array.array`, by the typecode table, reading integer
/// items at the buffer's own item size.
pub fn decode_numbers(buffer: &NumberBuffer) -> Result<ArrayData, String> {
    let NumberBuffer { typecode, itemsize, bytes } = buffer;
    let Some(element) = element(typecode) else {
        return Err(format!("array of typecode '{typecode}' (use 'f', 'd', 'q' or another integer typecode)"));
    };
    let wrong_size = || format!("array of typecode '{typecode}' with {itemsize}-byte items");
    if *itemsize == 0 || !bytes.len().is_multiple_of(*itemsize) {
        return Err(wrong_size());
    }
    let items = bytes.chunks_exact(*itemsize);
    Ok(match (element, *itemsize) {
        (Element::F32, 4) => ArrayData::F32(items.map(|c| f32::from_ne_bytes(c.try_into().expect("4 bytes"))).collect()),
        (Element::F64, 8) => ArrayData::F64(items.map(|c| f64::from_ne_bytes(c.try_into().expect("8 bytes"))).collect()),
        (Element::Signed, 1..=8) => ArrayData::I64(items.map(sign_extend).collect()),
        (Element::Unsigned, 1..=8) => ArrayData::I64(
            items
                .map(|c| {
                    let n = zero_extend(c);
                    i64::try_from(n).map_err(|_| element_too_wide(u64::from(64 - n.leading_zeros())))
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(wrong_size()),
    })
}

/// A native-order unsigned integer of 1 to 8 bytes.
fn zero_extend(item: &[u8]) -> u64 {
    let mut wide = [0u8; 8];
    if cfg!(target_endian = "little") {
        wide[..item.len()].copy_from_slice(item);
    } else {
        wide[8 - item.len()..].copy_from_slice(item);
    }
    u64::from_ne_bytes(wide)
}

/// A native-order signed integer of 1 to 8 bytes.
fn sign_extend(item: &[u8]) -> i64 {
    let shift = 64 - 8 * item.len() as u32;
    ((zero_extend(item) << shift) as i64) >> shift
}

// The reasons a value is refused, each written once.

pub(crate) fn too_deep() -> String {
    format!("value nested deeper than {MAX_DEPTH} levels (a list or dict that contains itself?)")
}

fn int_too_wide(bits: u64) -> String {
    format!("int of {bits} bits does not fit in a signed 64-bit int")
}

fn element_too_wide(bits: u64) -> String {
    format!("array element: {} (numeric data is i64 or floats; a plain list carries any int)", int_too_wide(bits))
}

pub(crate) fn lone_surrogates(what: &str) -> String {
    format!("{what} with lone surrogates is not valid UTF-8")
}

pub(crate) fn unsupported_type(type_name: &str) -> String {
    format!("type '{type_name}' (supported: {SUPPORTED})")
}

fn convert<I: Interpreter + ?Sized>(py: &I, obj: &I::Object, depth: usize) -> Result<Value, Refusal<I::Error>> {
    if depth > MAX_DEPTH {
        return Err(Refusal::Unsupported(too_deep()));
    }
    if py.is_none(obj) {
        return Ok(Value::Null);
    }
    if let Some(b) = py.as_bool(obj) {
        return Ok(Value::Bool(b));
    }
    if let Some(i) = py.as_int(obj) {
        return match i {
            Int::Fits(i) => Ok(Value::Int(i)),
            Int::Wide(i) => Ok(Value::from(i)),
        };
    }
    if let Some(f) = py.as_float(obj) {
        return Ok(Value::Float(f));
    }
    if let Some(s) = py.as_str(obj) {
        return match s {
            Text::Utf8(s) => Ok(Value::Str(s)),
            Text::LoneSurrogates => Err(Refusal::Unsupported(lone_surrogates("str"))),
        };
    }
    if let Some(b) = py.as_bytes(obj) {
        return Ok(Value::Bytes(b));
    }
    if let Some(items) = py.as_sequence(obj) {
        return items.iter().map(|item| convert(py, item, depth + 1)).collect::<Result<_, _>>().map(Value::List);
    }
    if let Some(entries) = py.as_dict(obj) {
        let mut map = Map::with_capacity(entries.len());
        for (k, v) in &entries {
            let key = match py.as_str(k) {
                Some(Text::Utf8(key)) => key,
                Some(Text::LoneSurrogates) => {
                    return Err(Refusal::Unsupported(lone_surrogates("dict key")));
                }
                None => {
                    return Err(Refusal::Unsupported(format!(
                        "dict key of type '{}' (keys must be str)",
                        py.type_name(k)
                    )));
                }
            };
            map.push(key, convert(py, v, depth + 1)?);
        }
        return Ok(Value::Map(map));
    }
    if py.is_audio_frame(obj)? {
        return audio_frame(py, obj).map(Value::Audio);
    }
    if py.is_array(obj)? {
        return array(py, obj).map(Value::Array);
    }
    Err(Refusal::Unsupported(unsupported_type(&py.type_name(obj))))
}

fn audio_frame<I: Interpreter + ?Sized>(py: &I, obj: &I::Object) -> Result<AudioFrame, Refusal<I::Error>> {
    let samples = match numbers(py, &py.attr(obj, "samples")?)? {
        ArrayData::F32(v) => v,
        ArrayData::F64(v) => v.into_iter().map(|x| x as f32).collect(),
        ArrayData::I64(v) => v.into_iter().map(|x| x as f32).collect(),
    };
    let sample_rate = bounded_int(py, &py.attr(obj, "sample_rate")?, "AudioFrame.sample_rate", 32)?;
    let channels = bounded_int(py, &py.attr(obj, "channels")?, "AudioFrame.channels", 16)?;
    let frame = AudioFrame {
        samples,
        sample_rate: u32::try_from(sample_rate).expect("checked bound"),
        channels: u16::try_from(channels).expect("checked bound"),
    };
    frame.check().map_err(Refusal::Unsupported)?;
    Ok(frame)
}

fn array<I: Interpreter + ?Sized>(py: &I, obj: &I::Object) -> Result<NumArray, Refusal<I::Error>> {
    let data = numbers(py, &py.attr(obj, "data")?)?;
    let shape = py.attr(obj, "shape")?;
    let Some(dims) = py.as_sequence(&shape) else {
        return Err(Refusal::Unsupported(format!(
            "Array.shape must be a tuple of ints, not '{}'",
            py.type_name(&shape)
        )));
    };
    let shape = dims
        .iter()
        .map(|d| bounded_int(py, d, "Array.shape item", 32).map(|d| u32::try_from(d).expect("checked bound")))
        .collect::<Result<Vec<u32>, _>>()?;
    let array = NumArray { data, shape };
    array.check().map_err(Refusal::Unsupported)?;
    Ok(array)
}

/// An int (not a bool) in `0..2**bits`.
fn bounded_int<I: Interpreter + ?Sized>(py: &I, obj: &I::Object, what: &str, bits: u32) -> Result<u64, Refusal<I::Error>> {
    let value = if py.as_bool(obj).is_some() { None } else { py.as_int(obj) };
    match value {
        Some(Int::Fits(n)) if n >= 0 && (n as u64) >> bits == 0 => Ok(n as u64),
        Some(Int::Fits(n)) => Err(Refusal::Unsupported(format!("{what} must be in 0..2**{bits}, not {n}"))),
        Some(Int::Wide(i)) => Err(Refusal::Unsupported(format!(
            "{what} must be in 0..2**{bits}, not an int of {} bits",
            i.bits()
        ))),
        None => Err(Refusal::Unsupported(format!("{what} must be an int in 0..2**{bits}, not '{}'", py.type_name(obj)))),
    }
}

/// Numeric data: an `array.array` by the typecode table, or a list or
/// tuple of numbers.
fn numbers<I: Interpreter + ?Sized>(py: &I, obj: &I::Object) -> Result<ArrayData, Refusal<I::Error>> {
    if let Some(buffer) = py.as_number_buffer(obj)? {
        return decode_numbers(&buffer).map_err(Refusal::Unsupported);
    }
    let Some(items) = py.as_sequence(obj) else {
        return Err(Refusal::Unsupported(format!(
            "numbers must be an array.array, list or tuple, not '{}'",
            py.type_name(obj)
        )));
    };
    /// One item: an int (bools are not), or a float (bools are 0.0 and 1.0).
    enum Number {
        Int(i64),
        Float(f64),
    }
    let numbers = items
        .iter()
        .map(|x| {
            if let Some(b) = py.as_bool(x) {
                return Ok(Number::Float(if b { 1.0 } else { 0.0 }));
            }
            match py.as_int(x) {
                Some(Int::Fits(i)) => return Ok(Number::Int(i)),
                Some(Int::Wide(i)) => return Err(Refusal::Unsupported(element_too_wide(i.bits()))),
                None => {}
            }
            py.as_float(x).map(Number::Float).ok_or_else(|| {
                Refusal::Unsupported(format!("array element of type '{}' is not a number", py.type_name(x)))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !numbers.is_empty() && numbers.iter().all(|n| matches!(n, Number::Int(_))) {
        return Ok(ArrayData::I64(numbers.into_iter().map(|n| if let Number::Int(i) = n { i } else { 0 }).collect()));
    }
    Ok(ArrayData::F64(
        numbers
            .into_iter()
            .map(|n| match n {
                Number::Int(i) => i as f64,
                Number::Float(f) => f,
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(typecode: &str, itemsize: usize, bytes: Vec<u8>) -> NumberBuffer {
        NumberBuffer { typecode: typecode.into(), itemsize, bytes }
    }

    #[test]
    fn integer_typecodes_are_read_at_their_item_size() {
        let values = [-3i64, 0, 7];
        let long_64 = buffer("l", 8, values.iter().flat_map(|v| v.to_ne_bytes()).collect());
        let long_32 = buffer("l", 4, values.iter().flat_map(|&v| (v as i32).to_ne_bytes()).collect());
        let short = buffer("h", 2, values.iter().flat_map(|&v| (v as i16).to_ne_bytes()).collect());
        let byte = buffer("b", 1, values.iter().map(|&v| v as i8 as u8).collect());
        for b in [long_64, long_32, short, byte] {
            assert_eq!(decode_numbers(&b), Ok(ArrayData::I64(values.to_vec())), "{b:?}");
        }
        let unsigned = buffer("H", 2, 65535u16.to_ne_bytes().to_vec());
        assert_eq!(decode_numbers(&unsigned), Ok(ArrayData::I64(vec![65535])));
    }

    #[test]
    fn refusals_say_why() {
        let too_big = buffer("Q", 8, u64::MAX.to_ne_bytes().to_vec());
        assert_eq!(
            decode_numbers(&too_big).unwrap_err(),
            "array element: int of 64 bits does not fit in a signed 64-bit int \
             (numeric data is i64 or floats; a plain list carries any int)"
        );
        assert_eq!(
            decode_numbers(&buffer("u", 4, vec![0; 4])).unwrap_err(),
            "array of typecode 'u' (use 'f', 'd', 'q' or another integer typecode)"
        );
        assert_eq!(
            decode_numbers(&buffer("f", 8, vec![0; 8])).unwrap_err(),
            "array of typecode 'f' with 8-byte items"
        );
    }

    #[test]
    fn encoding_and_decoding_agree() {
        for data in [ArrayData::F32(vec![0.5, -1.0]), ArrayData::F64(vec![1e300]), ArrayData::I64(vec![i64::MIN, i64::MAX])] {
            let (typecode, bytes) = encode_numbers(&data);
            let itemsize = if typecode == "f" { 4 } else { 8 };
            assert_eq!(decode_numbers(&buffer(typecode, itemsize, bytes)), Ok(data));
        }
    }

    #[test]
    fn parameters_must_be_a_map() {
        assert_eq!(keyword_params(Value::Null), Ok(Map::new()));
        let e = keyword_params(Value::Int(1)).unwrap_err();
        assert_eq!(e.message, "parameters must be a map, got int");
    }
}
