//! RustPython's side of the conversion between [`Value`] and Python objects:
//! [`RustPy`] answers the questions of [`nodehost_sdk::python::Interpreter`]
//! with RustPython's API, and the SDK's rules (shared with the CPython
//! runtime) do the rest. Directly, object to value: no text, no JSON.

use nodehost_sdk::num_bigint::{self, BigInt};
use nodehost_sdk::python::{self, Int, Interpreter, NumberBuffer, Text};
use nodehost_sdk::Value;
use num_traits::ToPrimitive;
use rustpython_vm::{
    AsObject, PyObjectRef, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyByteArray, PyBytes, PyDict, PyFloat, PyGenerator, PyInt, PyList, PyStr, PyTuple},
    protocol::PyIterReturn,
};

/// Python objects the conversions need, looked up once per interpreter.
pub(crate) struct Classes {
    pub audio_frame: PyObjectRef,
    pub array: PyObjectRef,
    /// `array.array`
    pub buffer: PyObjectRef,
}

/// The SDK's [`Interpreter`] over a RustPython VM.
pub(crate) struct RustPy<'a> {
    pub vm: &'a VirtualMachine,
    pub classes: &'a Classes,
}

impl Interpreter for RustPy<'_> {
    type Object = PyObjectRef;
    type Error = PyBaseExceptionRef;

    fn is_none(&self, obj: &PyObjectRef) -> bool {
        self.vm.is_none(obj)
    }

    fn as_bool(&self, obj: &PyObjectRef) -> Option<bool> {
        obj.class().is(self.vm.ctx.types.bool_type).then(|| obj.is(&self.vm.ctx.true_value))
    }

    fn as_int(&self, obj: &PyObjectRef) -> Option<Int> {
        let i = obj.downcast_ref::<PyInt>()?.as_bigint();
        Some(i.to_i64().map_or_else(|| Int::Wide(from_malachite(i)), Int::Fits))
    }

    fn as_float(&self, obj: &PyObjectRef) -> Option<f64> {
        obj.downcast_ref::<PyFloat>().map(|f| f.to_f64())
    }

    fn as_str(&self, obj: &PyObjectRef) -> Option<Text> {
        let s = obj.downcast_ref::<PyStr>()?;
        Some(s.to_str().map_or(Text::LoneSurrogates, |s| Text::Utf8(s.to_owned())))
    }

    fn as_bytes(&self, obj: &PyObjectRef) -> Option<Vec<u8>> {
        if let Some(b) = obj.downcast_ref::<PyBytes>() {
            return Some(b.as_bytes().to_vec());
        }
        obj.downcast_ref::<PyByteArray>().map(|b| b.borrow_buf().to_vec())
    }

    fn as_sequence(&self, obj: &PyObjectRef) -> Option<Vec<PyObjectRef>> {
        if let Some(list) = obj.downcast_ref::<PyList>() {
            return Some(list.borrow_vec().to_vec());
        }
        obj.downcast_ref::<PyTuple>().map(|t| t.as_slice().to_vec())
    }

    fn as_dict(&self, obj: &PyObjectRef) -> Option<Vec<(PyObjectRef, PyObjectRef)>> {
        obj.downcast_ref::<PyDict>().map(|d| d.into_iter().collect())
    }

    fn is_audio_frame(&self, obj: &PyObjectRef) -> PyResult<bool> {
        obj.is_instance(&self.classes.audio_frame, self.vm)
    }

    fn is_array(&self, obj: &PyObjectRef) -> PyResult<bool> {
        obj.is_instance(&self.classes.array, self.vm)
    }

    fn as_number_buffer(&self, obj: &PyObjectRef) -> PyResult<Option<NumberBuffer>> {
        let vm = self.vm;
        if !obj.is_instance(&self.classes.buffer, vm)? {
            return Ok(None);
        }
        let typecode: String = obj.get_attr("typecode", vm)?.try_to_value(vm)?;
        let itemsize: usize = obj.get_attr("itemsize", vm)?.try_to_value(vm)?;
        let bytes = vm.call_method(obj, "tobytes", ())?;
        let bytes = bytes
            .downcast_ref::<PyBytes>()
            .ok_or_else(|| vm.new_type_error("array.tobytes() did not return bytes"))?
            .as_bytes()
            .to_vec();
        Ok(Some(NumberBuffer { typecode, itemsize, bytes }))
    }

    fn attr(&self, obj: &PyObjectRef, name: &'static str) -> PyResult {
        obj.get_attr(name, self.vm)
    }

    fn type_name(&self, obj: &PyObjectRef) -> String {
        obj.class().name().to_string()
    }

    fn is_generator(&self, obj: &PyObjectRef) -> bool {
        obj.downcast_ref::<PyGenerator>().is_some()
    }

    fn next_item(&self, generator: &PyObjectRef) -> PyResult<Option<PyObjectRef>> {
        Ok(match generator.get_iter(self.vm)?.next(self.vm)? {
            PyIterReturn::Return(item) => Some(item),
            PyIterReturn::StopIteration(_) => None,
        })
    }

    fn close(&self, generator: &PyObjectRef) {
        let _ = self.vm.call_method(generator, "close", ());
    }

    fn new_none(&self) -> PyResult {
        Ok(self.vm.ctx.none())
    }

    fn new_bool(&self, b: bool) -> PyResult {
        Ok(self.vm.ctx.new_bool(b).into())
    }

    fn new_int(&self, i: i64) -> PyResult {
        Ok(self.vm.ctx.new_int(i).into())
    }

    fn new_big_int(&self, i: &BigInt) -> PyResult {
        Ok(self.vm.ctx.new_int(to_malachite(i)).into())
    }

    fn new_float(&self, f: f64) -> PyResult {
        Ok(self.vm.ctx.new_float(f).into())
    }

    fn new_str(&self, s: &str) -> PyResult {
        Ok(self.vm.ctx.new_str(s).into())
    }

    fn new_bytes(&self, b: Vec<u8>) -> PyResult {
        Ok(self.vm.ctx.new_bytes(b).into())
    }

    fn new_list(&self, items: Vec<PyObjectRef>) -> PyResult {
        Ok(self.vm.ctx.new_list(items).into())
    }

    fn new_dict(&self, entries: Vec<(String, PyObjectRef)>) -> PyResult {
        let dict = self.vm.ctx.new_dict();
        for (k, v) in entries {
            dict.set_item(k.as_str(), v, self.vm)?;
        }
        Ok(dict.into())
    }

    fn new_number_buffer(&self, typecode: &str, bytes: Vec<u8>) -> PyResult {
        self.classes.buffer.call((typecode, self.vm.ctx.new_bytes(bytes)), self.vm)
    }

    fn new_audio_frame(&self, samples: PyObjectRef, sample_rate: u32, channels: u16) -> PyResult {
        self.classes.audio_frame.call((samples, sample_rate, channels), self.vm)
    }

    fn new_array(&self, data: PyObjectRef, shape: &[u32]) -> PyResult {
        let shape: Vec<PyObjectRef> = shape.iter().map(|&d| self.vm.ctx.new_int(d).into()).collect();
        self.classes.array.call((data, self.vm.ctx.new_tuple(shape)), self.vm)
    }
}

/// RustPython's int (malachite's `BigInt`) as the SDK's (num-bigint's), by
/// sign and little-endian magnitude bytes.
fn from_malachite(i: &malachite_bigint::BigInt) -> BigInt {
    let (sign, magnitude) = i.to_bytes_le();
    let sign = match sign {
        malachite_bigint::Sign::Minus => num_bigint::Sign::Minus,
        malachite_bigint::Sign::NoSign => num_bigint::Sign::NoSign,
        malachite_bigint::Sign::Plus => num_bigint::Sign::Plus,
    };
    BigInt::from_bytes_le(sign, &magnitude)
}

/// The SDK's int as RustPython's, the same way back.
fn to_malachite(i: &BigInt) -> malachite_bigint::BigInt {
    let (sign, magnitude) = i.to_bytes_le();
    let sign = match sign {
        num_bigint::Sign::Minus => malachite_bigint::Sign::Minus,
        num_bigint::Sign::NoSign => malachite_bigint::Sign::NoSign,
        num_bigint::Sign::Plus => malachite_bigint::Sign::Plus,
    };
    malachite_bigint::BigInt::from_bytes_le(sign, &magnitude)
}

/// A [`Value`] as a new Python object.
pub(crate) fn to_py(vm: &VirtualMachine, classes: &Classes, value: Value) -> PyResult {
    python::to_python(&RustPy { vm, classes }, value)
}

/// The items of a Python tuple of exactly `n` items.
pub(crate) fn tuple_items(vm: &VirtualMachine, obj: &PyObjectRef, n: usize) -> PyResult<Vec<PyObjectRef>> {
    match obj.downcast_ref::<PyTuple>() {
        Some(t) if t.len() == n => Ok(t.as_slice().to_vec()),
        _ => Err(vm.new_type_error(format!("expected a tuple of {n} items"))),
    }
}
