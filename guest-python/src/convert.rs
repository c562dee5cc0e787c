//! Converting between [`Value`] and Python objects, directly: no text, no
//! JSON. Audio frames and arrays become the `nodehost.AudioFrame` and
//! `nodehost.Array` classes with `array.array` buffers.

use num_traits::ToPrimitive;
use nodehost_sdk::{ArrayData, AudioFrame, Map, NodeError, NumArray, Value, MAX_DEPTH};
use rustpython_vm::{
    AsObject, PyObjectRef, PyResult, VirtualMachine,
    builtins::{PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyStr, PyTuple},
};

/// Python objects the conversions need, looked up once per interpreter.
pub(crate) struct Classes {
    pub audio_frame: PyObjectRef,
    pub array: PyObjectRef,
    /// `array.array`
    pub buffer: PyObjectRef,
}

/// What went wrong converting a Python object: either the object cannot be
/// carried, or Python raised while we looked at it.
pub(crate) enum FromPyError {
    Unsupported(String),
    Raised(rustpython_vm::builtins::PyBaseExceptionRef),
}

impl From<rustpython_vm::builtins::PyBaseExceptionRef> for FromPyError {
    fn from(e: rustpython_vm::builtins::PyBaseExceptionRef) -> Self {
        FromPyError::Raised(e)
    }
}

const SUPPORTED: &str = "None, bool, int, float, str, bytes, list, tuple, dict with str keys, AudioFrame, Array";

/// A [`Value`] as a new Python object.
pub(crate) fn to_py(vm: &VirtualMachine, classes: &Classes, value: Value) -> PyResult {
    Ok(match value {
        Value::Null => vm.ctx.none(),
        Value::Bool(b) => vm.ctx.new_bool(b).into(),
        Value::Int(i) => vm.ctx.new_int(i).into(),
        Value::Float(f) => vm.ctx.new_float(f).into(),
        Value::Str(s) => vm.ctx.new_str(s).into(),
        Value::Bytes(b) => vm.ctx.new_bytes(b).into(),
        Value::List(items) => {
            let items = items.into_iter().map(|v| to_py(vm, classes, v)).collect::<PyResult<Vec<_>>>()?;
            vm.ctx.new_list(items).into()
        }
        Value::Map(map) => {
            let dict = vm.ctx.new_dict();
            for (k, v) in map {
                dict.set_item(k.as_str(), to_py(vm, classes, v)?, vm)?;
            }
            dict.into()
        }
        Value::Audio(frame) => {
            let bytes: Vec<u8> = frame.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
            let samples = classes.buffer.call(("f", vm.ctx.new_bytes(bytes)), vm)?;
            classes.audio_frame.call((samples, frame.sample_rate, frame.channels), vm)?
        }
        Value::Array(a) => {
            let (code, bytes): (&str, Vec<u8>) = match &a.data {
                ArrayData::F32(v) => ("f", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
                ArrayData::F64(v) => ("d", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
                ArrayData::I64(v) => ("q", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            };
            let data = classes.buffer.call((code, vm.ctx.new_bytes(bytes)), vm)?;
            let shape: Vec<PyObjectRef> = a.shape.iter().map(|&d| vm.ctx.new_int(d).into()).collect();
            classes.array.call((data, vm.ctx.new_tuple(shape)), vm)?
        }
    })
}

/// A Python object as a [`Value`].
pub(crate) fn from_py(vm: &VirtualMachine, classes: &Classes, obj: &PyObjectRef) -> Result<Value, FromPyError> {
    convert(vm, classes, obj, 1)
}

fn convert(vm: &VirtualMachine, classes: &Classes, obj: &PyObjectRef, depth: usize) -> Result<Value, FromPyError> {
    if depth > MAX_DEPTH {
        return Err(FromPyError::Unsupported(format!(
            "value nested deeper than {MAX_DEPTH} levels (a list or dict that contains itself?)"
        )));
    }
    if vm.is_none(obj) {
        return Ok(Value::Null);
    }
    let class = obj.class();
    if class.is(vm.ctx.types.bool_type) {
        return Ok(Value::Bool(obj.is(&vm.ctx.true_value)));
    }
    if let Some(i) = obj.downcast_ref::<PyInt>() {
        return i.as_bigint().to_i64().map(Value::Int).ok_or_else(|| {
            FromPyError::Unsupported(format!(
                "int of {} bits does not fit in 64 bits",
                i.as_bigint().bits()
            ))
        });
    }
    if let Some(f) = obj.downcast_ref::<PyFloat>() {
        return Ok(Value::Float(f.to_f64()));
    }
    if let Some(s) = obj.downcast_ref::<PyStr>() {
        return s
            .to_str()
            .map(|s| Value::Str(s.to_owned()))
            .ok_or_else(|| FromPyError::Unsupported("str with lone surrogates is not valid UTF-8".into()));
    }
    if let Some(b) = obj.downcast_ref::<PyBytes>() {
        return Ok(Value::Bytes(b.as_bytes().to_vec()));
    }
    if let Some(b) = obj.downcast_ref::<PyByteArray>() {
        return Ok(Value::Bytes(b.borrow_buf().to_vec()));
    }
    if let Some(list) = obj.downcast_ref::<PyList>() {
        let items: Vec<PyObjectRef> = list.borrow_vec().to_vec();
        return items
            .iter()
            .map(|item| convert(vm, classes, item, depth + 1))
            .collect::<Result<_, _>>()
            .map(Value::List);
    }
    if let Some(tuple) = obj.downcast_ref::<PyTuple>() {
        return tuple
            .as_slice()
            .iter()
            .map(|item| convert(vm, classes, item, depth + 1))
            .collect::<Result<_, _>>()
            .map(Value::List);
    }
    if let Some(dict) = obj.downcast_ref::<PyDict>() {
        let mut map = Map::with_capacity(dict.__len__());
        for (k, v) in dict {
            let Some(key) = k.downcast_ref::<PyStr>() else {
                return Err(FromPyError::Unsupported(format!(
                    "dict key of type '{}' (keys must be str)",
                    k.class().name()
                )));
            };
            let key = key
                .to_str()
                .ok_or_else(|| FromPyError::Unsupported("dict key with lone surrogates".into()))?;
            map.push(key.to_owned(), convert(vm, classes, &v, depth + 1)?);
        }
        return Ok(Value::Map(map));
    }
    if obj.is_instance(&classes.audio_frame, vm)? {
        return audio_from_py(vm, obj);
    }
    if obj.is_instance(&classes.array, vm)? {
        return array_from_py(vm, obj);
    }
    Err(FromPyError::Unsupported(format!("type '{}' (supported: {SUPPORTED})", class.name())))
}

fn audio_from_py(vm: &VirtualMachine, obj: &PyObjectRef) -> Result<Value, FromPyError> {
    let samples = match numbers_from_py(vm, &obj.get_attr("samples", vm)?)? {
        ArrayData::F32(v) => v,
        ArrayData::F64(v) => v.into_iter().map(|x| x as f32).collect(),
        ArrayData::I64(v) => v.into_iter().map(|x| x as f32).collect(),
    };
    let sample_rate = small_int(vm, obj, "sample_rate")?;
    let channels = small_int(vm, obj, "channels")?;
    let channels = u16::try_from(channels)
        .map_err(|_| FromPyError::Unsupported(format!("AudioFrame.channels {channels} is out of range")))?;
    let frame = AudioFrame { samples, sample_rate, channels };
    frame.check().map_err(FromPyError::Unsupported)?;
    Ok(Value::Audio(frame))
}

fn array_from_py(vm: &VirtualMachine, obj: &PyObjectRef) -> Result<Value, FromPyError> {
    let data = numbers_from_py(vm, &obj.get_attr("data", vm)?)?;
    let shape_obj = obj.get_attr("shape", vm)?;
    let dims: Vec<PyObjectRef> = shape_obj.try_to_value(vm)?;
    let shape = dims
        .iter()
        .map(|d| {
            d.downcast_ref::<PyInt>()
                .and_then(|i| i.as_bigint().to_u32())
                .ok_or_else(|| FromPyError::Unsupported("Array.shape must hold ints in 0..2**32".into()))
        })
        .collect::<Result<Vec<u32>, _>>()?;
    let array = NumArray { data, shape };
    array.check().map_err(FromPyError::Unsupported)?;
    Ok(Value::Array(array))
}

fn small_int(vm: &VirtualMachine, obj: &PyObjectRef, attr: &'static str) -> Result<u32, FromPyError> {
    let v = obj.get_attr(attr, vm)?;
    v.downcast_ref::<PyInt>()
        .and_then(|i| i.as_bigint().to_u32())
        .ok_or_else(|| FromPyError::Unsupported(format!("AudioFrame.{attr} must be an int in 0..2**32")))
}

/// Numbers from an `array.array` ('f', 'd', 'q' and the other integer codes)
/// or from a list or tuple of ints and floats.
fn numbers_from_py(vm: &VirtualMachine, obj: &PyObjectRef) -> Result<ArrayData, FromPyError> {
    if let Some(code) = vm.get_attribute_opt(obj.clone(), "typecode")? {
        let code = code.str(vm)?.to_string();
        let bytes = vm.call_method(obj, "tobytes", ())?;
        let bytes = bytes
            .downcast_ref::<PyBytes>()
            .ok_or_else(|| FromPyError::Unsupported("tobytes() did not return bytes".into()))?
            .as_bytes();
        fn chunks<const N: usize, T>(b: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
            b.chunks_exact(N).map(|c| f(c.try_into().expect("exact chunk"))).collect()
        }
        return Ok(match code.as_str() {
            "f" => ArrayData::F32(chunks(bytes, f32::from_le_bytes)),
            "d" => ArrayData::F64(chunks(bytes, f64::from_le_bytes)),
            "q" => ArrayData::I64(chunks(bytes, i64::from_le_bytes)),
            "l" if std::mem::size_of::<std::ffi::c_long>() == 8 => ArrayData::I64(chunks(bytes, i64::from_le_bytes)),
            "l" | "i" => ArrayData::I64(chunks(bytes, |b: [u8; 4]| i32::from_le_bytes(b) as i64)),
            "h" => ArrayData::I64(chunks(bytes, |b: [u8; 2]| i16::from_le_bytes(b) as i64)),
            "b" => ArrayData::I64(bytes.iter().map(|&b| b as i8 as i64).collect()),
            "B" => ArrayData::I64(bytes.iter().map(|&b| b as i64).collect()),
            other => {
                return Err(FromPyError::Unsupported(format!(
                    "array of typecode '{other}' (use 'f', 'd' or 'q')"
                )));
            }
        });
    }
    let items: Vec<PyObjectRef> = if let Some(list) = obj.downcast_ref::<PyList>() {
        list.borrow_vec().to_vec()
    } else if let Some(tuple) = obj.downcast_ref::<PyTuple>() {
        tuple.as_slice().to_vec()
    } else {
        return Err(FromPyError::Unsupported(format!(
            "numbers must be an array.array, list or tuple, not '{}'",
            obj.class().name()
        )));
    };
    let all_ints = items.iter().all(|x| x.downcast_ref::<PyInt>().is_some() && !x.class().is(vm.ctx.types.bool_type));
    if all_ints && !items.is_empty() {
        let ints = items
            .iter()
            .map(|x| {
                x.downcast_ref::<PyInt>()
                    .and_then(|i| i.as_bigint().to_i64())
                    .ok_or_else(|| FromPyError::Unsupported("array element does not fit in 64 bits".into()))
            })
            .collect::<Result<_, _>>()?;
        return Ok(ArrayData::I64(ints));
    }
    items
        .iter()
        .map(|x| {
            if let Some(f) = x.downcast_ref::<PyFloat>() {
                Ok(f.to_f64())
            } else if let Some(i) = x.downcast_ref::<PyInt>() {
                Ok(i.as_bigint().to_f64().unwrap_or(f64::NAN))
            } else {
                Err(FromPyError::Unsupported(format!("array element of type '{}' is not a number", x.class().name())))
            }
        })
        .collect::<Result<_, _>>()
        .map(ArrayData::F64)
}

/// The items of a Python tuple of exactly `n` items.
pub(crate) fn tuple_items(vm: &VirtualMachine, obj: &PyObjectRef, n: usize) -> PyResult<Vec<PyObjectRef>> {
    match obj.downcast_ref::<PyTuple>() {
        Some(t) if t.len() == n => Ok(t.as_slice().to_vec()),
        _ => Err(vm.new_type_error(format!("expected a tuple of {n} items"))),
    }
}

/// A conversion failure as a [`NodeError`] (the caller turns a Python
/// exception into a traceback).
pub(crate) fn unsupported(what: &str, why: String) -> NodeError {
    NodeError::unsupported_value(format!("{what}: cannot carry {why}"))
}
