//! [`CPythonNode`]: a Python node on CPython through PyO3, the `cpython`
//! baseline. It runs the same node files through the same helper module
//! (`guest-python/python/nodehost.py`) and the same conversion rules as the
//! RustPython runtimes, so outputs can be compared one to one. All CPython
//! nodes share the process's interpreter and its GIL.

use std::ffi::CString;
use std::path::Path;

use nodehost_sdk::{ArrayData, AudioFrame, ErrorKind, Map, NodeError, NumArray, Value, MAX_DEPTH};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::error::NodeFailure;
use crate::node::Node;
use crate::policy::SandboxPolicy;

const HELPER_SOURCE: &str = include_str!("../../guest-python/python/nodehost.py");
const SUPPORTED: &str = "None, bool, int, float, str, bytes, list, tuple, dict with str keys, AudioFrame, Array";

/// The helper module's functions and classes, imported once per process.
struct Helpers {
    load: Py<PyAny>,
    create: Py<PyAny>,
    flush_io: Py<PyAny>,
    audio_frame: Py<PyAny>,
    array: Py<PyAny>,
    buffer: Py<PyAny>,
    generator: Py<PyAny>,
    unknown_type: Py<PyAny>,
    invalid_params: Py<PyAny>,
    format_exception: Py<PyAny>,
}

/// log(level, target, message): the native half of the helper module.
#[pyfunction]
#[pyo3(name = "log")]
fn host_log(level: i32, target: &str, message: &str) {
    use nodehost_sdk::log::Level;
    let level = match level {
        i32::MIN..=0 => Level::Trace,
        1 => Level::Debug,
        2 => Level::Info,
        3 => Level::Warn,
        _ => Level::Error,
    };
    nodehost_sdk::log::log(level, target, message);
}

fn helpers(py: Python<'_>) -> Result<&'static Helpers, NodeError> {
    // A GIL-aware once-cell: a thread waiting for another's initialization
    // releases the GIL, which that initialization may need.
    static HELPERS: PyOnceLock<Result<Helpers, NodeError>> = PyOnceLock::new();
    HELPERS
        .get_or_init(py, || {
            let setup = || -> PyResult<Helpers> {
                let native = pyo3::types::PyModule::new(py, "_nodehost")?;
                native.add_function(wrap_pyfunction!(host_log, &native)?)?;
                py.import("sys")?.getattr("modules")?.set_item("_nodehost", &native)?;
                let code = CString::new(HELPER_SOURCE).expect("no NUL in helper source");
                let m = pyo3::types::PyModule::from_code(py, &code, c"nodehost.py", c"nodehost")?;
                let get = |name: &str| m.getattr(name).map(Bound::unbind);
                Ok(Helpers {
                    load: get("_load")?,
                    create: get("_create")?,
                    flush_io: get("_flush_io")?,
                    audio_frame: get("AudioFrame")?,
                    array: get("Array")?,
                    buffer: py.import("array")?.getattr("array")?.unbind(),
                    generator: py.import("types")?.getattr("GeneratorType")?.unbind(),
                    unknown_type: get("_UnknownNodeType")?,
                    invalid_params: get("_InvalidParams")?,
                    format_exception: py.import("traceback")?.getattr("format_exception")?.unbind(),
                })
            };
            setup().map_err(|e| NodeError::new(ErrorKind::Internal, format!("starting CPython's node helpers: {e}")))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A Python node on CPython.
pub struct CPythonNode {
    class_name: String,
    process: Py<PyAny>,
    flush: Option<Py<PyAny>>,
    cleanup: Option<Py<PyAny>>,
    max_outputs: usize,
}

impl CPythonNode {
    /// Load `file`'s `source` as a module and create `class` with `params`.
    pub fn new(file: &Path, source: &str, class: &str, params: Value, policy: &SandboxPolicy) -> Result<Self, NodeFailure> {
        let params = match params {
            Value::Null => Value::Map(Map::new()),
            Value::Map(m) => Value::Map(m),
            other => {
                return Err(NodeFailure::Guest(NodeError::invalid_params(format!(
                    "parameters must be a map, got {}",
                    other.type_name()
                ))));
            }
        };
        Python::attach(|py| {
            let h = helpers(py)?;
            let filename = file.display().to_string();
            let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "node".into());
            let loaded = h
                .load
                .call1(py, (name, source, &filename))
                .map_err(|e| exception_to_error(py, h, ErrorKind::Load, e))?;
            let module = loaded.bind(py).get_item(0).map_err(|e| exception_to_error(py, h, ErrorKind::Internal, e))?;
            let kwargs = to_py(py, h, params).map_err(|e| exception_to_error(py, h, ErrorKind::Internal, e))?;
            let instance = h.create.call1(py, (module, class, kwargs)).map_err(|e| {
                let value = e.value(py);
                for (class, kind) in [(&h.unknown_type, ErrorKind::UnknownType), (&h.invalid_params, ErrorKind::InvalidParams)] {
                    if value.is_instance(class.bind(py)).unwrap_or(false) {
                        return NodeError::new(kind, value.to_string());
                    }
                }
                exception_to_error(py, h, ErrorKind::Raised, e)
            })?;
            let instance = instance.bind(py);
            let method = |name: &str| -> Option<Py<PyAny>> { instance.getattr(name).ok().map(Bound::unbind) };
            Ok(CPythonNode {
                class_name: type_name(instance),
                process: method("process").ok_or_else(|| NodeError::invalid_input("node has no process()"))?,
                flush: method("flush"),
                cleanup: method("cleanup"),
                max_outputs: policy.max_outputs as usize,
            })
        })
        .map_err(NodeFailure::Guest)
    }

    fn call_and_collect(
        &self,
        py: Python<'_>,
        h: &Helpers,
        result: PyResult<Bound<'_, PyAny>>,
        what: &str,
        out: &mut Vec<Value>,
    ) -> Result<(), NodeError> {
        let raised = |e| exception_to_error(py, h, ErrorKind::Raised, e);
        let result = result.map_err(raised)?;
        if result.is_none() {
            return Ok(());
        }
        if result.is_instance(h.generator.bind(py)).unwrap_or(false) {
            let mut count = 0usize;
            for item in result.try_iter().map_err(raised)? {
                let item = item.map_err(raised)?;
                if item.is_none() {
                    continue;
                }
                count += 1;
                if count > self.max_outputs {
                    let _ = result.call_method0("close");
                    return Err(NodeError::new(ErrorKind::LimitExceeded, format!(
                        "{}.{what}() yielded more than {} outputs for one input",
                        self.class_name, self.max_outputs
                    )));
                }
                out.push(self.from_py(py, h, &item, what)?);
            }
            return Ok(());
        }
        out.push(self.from_py(py, h, &result, what)?);
        Ok(())
    }

    fn from_py(&self, py: Python<'_>, h: &Helpers, obj: &Bound<'_, PyAny>, what: &str) -> Result<Value, NodeError> {
        from_py(py, h, obj, 1).map_err(|e| match e {
            FromPyError::Unsupported(why) => NodeError::unsupported_value(format!(
                "{}.{what}() returned a value the pipeline cannot carry: {why}",
                self.class_name
            )),
            FromPyError::Raised(e) => exception_to_error(py, h, ErrorKind::Raised, e),
        })
    }
}

impl Node for CPythonNode {
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        Python::attach(|py| {
            let h = helpers(py)?;
            let arg = to_py(py, h, input).map_err(|e| exception_to_error(py, h, ErrorKind::Internal, e))?;
            let result = self.process.bind(py).call1((arg,));
            self.call_and_collect(py, h, result, "process", out)
        })
        .map_err(NodeFailure::Guest)
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        Python::attach(|py| {
            let h = helpers(py)?;
            let result = match &self.flush {
                Some(flush) => {
                    let r = flush.bind(py).call0();
                    self.call_and_collect(py, h, r, "flush", out)
                }
                None => Ok(()),
            };
            let _ = h.flush_io.call0(py);
            result
        })
        .map_err(NodeFailure::Guest)
    }
}

impl Drop for CPythonNode {
    fn drop(&mut self) {
        Python::attach(|py| {
            let Ok(h) = helpers(py) else { return };
            if let Some(cleanup) = &self.cleanup {
                if let Err(e) = cleanup.call0(py) {
                    let e = exception_to_error(py, h, ErrorKind::Raised, e);
                    nodehost_sdk::log::warn(
                        "nodehost",
                        &format!("{}.cleanup() failed: {}\n{}", self.class_name, e.message, e.traceback.unwrap_or_default()),
                    );
                }
            }
            let _ = h.flush_io.call0(py);
        });
    }
}

fn exception_to_error(py: Python<'_>, h: &Helpers, kind: ErrorKind, e: PyErr) -> NodeError {
    let value = e.value(py);
    let exception_type = value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
    let text = value.to_string();
    let message = if text.is_empty() { exception_type.clone() } else { format!("{exception_type}: {text}") };
    let traceback = h
        .format_exception
        .call1(py, (e.get_type(py), value, e.traceback(py)))
        .and_then(|lines| lines.extract::<Vec<String>>(py))
        .map(|lines| nodehost_sdk::error::shorten_traceback(&lines.concat(), 60))
        .unwrap_or_default();
    NodeError { kind, message, exception_type: Some(exception_type), traceback: Some(traceback) }
}

fn to_py<'py>(py: Python<'py>, h: &Helpers, value: Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, f).into_any(),
        Value::Str(s) => PyString::new(py, &s).into_any(),
        Value::Bytes(b) => PyBytes::new(py, &b).into_any(),
        Value::List(items) => {
            let items = items.into_iter().map(|v| to_py(py, h, v)).collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Map(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, h, v)?)?;
            }
            dict.into_any()
        }
        Value::Audio(frame) => {
            let bytes: Vec<u8> = frame.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
            let samples = h.buffer.bind(py).call1(("f", PyBytes::new(py, &bytes)))?;
            h.audio_frame.bind(py).call1((samples, frame.sample_rate, frame.channels))?
        }
        Value::Array(a) => {
            let (code, bytes): (&str, Vec<u8>) = match &a.data {
                ArrayData::F32(v) => ("f", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
                ArrayData::F64(v) => ("d", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
                ArrayData::I64(v) => ("q", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            };
            let data = h.buffer.bind(py).call1((code, PyBytes::new(py, &bytes)))?;
            let shape = PyTuple::new(py, a.shape.iter().copied())?;
            h.array.bind(py).call1((data, shape))?
        }
    })
}

enum FromPyError {
    Unsupported(String),
    Raised(PyErr),
}

impl From<PyErr> for FromPyError {
    fn from(e: PyErr) -> Self {
        FromPyError::Raised(e)
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

fn from_py(py: Python<'_>, h: &Helpers, obj: &Bound<'_, PyAny>, depth: usize) -> Result<Value, FromPyError> {
    if depth > MAX_DEPTH {
        return Err(FromPyError::Unsupported(format!(
            "value nested deeper than {MAX_DEPTH} levels (a list or dict that contains itself?)"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract::<i64>().map(Value::Int).map_err(|_| {
            let bits = obj.call_method0("bit_length").and_then(|b| b.extract::<u64>()).unwrap_or(0);
            FromPyError::Unsupported(format!("int of {bits} bits does not fit in 64 bits"))
        });
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Value::Float(f.value()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return s
            .to_str()
            .map(|s| Value::Str(s.to_owned()))
            .map_err(|_| FromPyError::Unsupported("str with lone surrogates is not valid UTF-8".into()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Value::Bytes(b.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Value::Bytes(b.to_vec()));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list.iter().map(|item| from_py(py, h, &item, depth + 1)).collect::<Result<_, _>>().map(Value::List);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple.iter().map(|item| from_py(py, h, &item, depth + 1)).collect::<Result<_, _>>().map(Value::List);
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let Ok(key) = k.cast::<PyString>() else {
                return Err(FromPyError::Unsupported(format!("dict key of type '{}' (keys must be str)", type_name(&k))));
            };
            let key = key.to_str().map_err(|_| FromPyError::Unsupported("dict key with lone surrogates".into()))?;
            map.push(key.to_owned(), from_py(py, h, &v, depth + 1)?);
        }
        return Ok(Value::Map(map));
    }
    if obj.is_instance(h.audio_frame.bind(py))? {
        let samples = match numbers_from_py(&obj.getattr("samples")?)? {
            ArrayData::F32(v) => v,
            ArrayData::F64(v) => v.into_iter().map(|x| x as f32).collect(),
            ArrayData::I64(v) => v.into_iter().map(|x| x as f32).collect(),
        };
        let sample_rate: u32 = obj
            .getattr("sample_rate")?
            .extract()
            .map_err(|_| FromPyError::Unsupported("AudioFrame.sample_rate must be an int in 0..2**32".into()))?;
        let channels: u16 = obj
            .getattr("channels")?
            .extract()
            .map_err(|_| FromPyError::Unsupported("AudioFrame.channels must be an int in 0..65536".into()))?;
        let frame = AudioFrame { samples, sample_rate, channels };
        frame.check().map_err(FromPyError::Unsupported)?;
        return Ok(Value::Audio(frame));
    }
    if obj.is_instance(h.array.bind(py))? {
        let data = numbers_from_py(&obj.getattr("data")?)?;
        let shape: Vec<u32> = obj
            .getattr("shape")?
            .extract()
            .map_err(|_| FromPyError::Unsupported("Array.shape must hold ints in 0..2**32".into()))?;
        let array = NumArray { data, shape };
        array.check().map_err(FromPyError::Unsupported)?;
        return Ok(Value::Array(array));
    }
    Err(FromPyError::Unsupported(format!("type '{}' (supported: {SUPPORTED})", type_name(obj))))
}

/// Numbers from an `array.array` or a list/tuple of ints and floats, by the
/// same rules as the RustPython runtimes.
fn numbers_from_py(obj: &Bound<'_, PyAny>) -> Result<ArrayData, FromPyError> {
    if let Ok(code) = obj.getattr("typecode") {
        let code: String = code.extract()?;
        let bytes = obj.call_method0("tobytes")?;
        let bytes = bytes
            .cast::<PyBytes>()
            .map_err(|_| FromPyError::Unsupported("tobytes() did not return bytes".into()))?
            .as_bytes();
        fn chunks<const N: usize, T>(b: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
            b.chunks_exact(N).map(|c| f(c.try_into().expect("exact chunk"))).collect()
        }
        return Ok(match code.as_str() {
            "f" => ArrayData::F32(chunks(bytes, f32::from_le_bytes)),
            "d" => ArrayData::F64(chunks(bytes, f64::from_le_bytes)),
            "q" | "l" => ArrayData::I64(chunks(bytes, i64::from_le_bytes)),
            "i" => ArrayData::I64(chunks(bytes, |b: [u8; 4]| i32::from_le_bytes(b) as i64)),
            "h" => ArrayData::I64(chunks(bytes, |b: [u8; 2]| i16::from_le_bytes(b) as i64)),
            "b" => ArrayData::I64(bytes.iter().map(|&b| b as i8 as i64).collect()),
            "B" => ArrayData::I64(bytes.iter().map(|&b| b as i64).collect()),
            other => {
                return Err(FromPyError::Unsupported(format!("array of typecode '{other}' (use 'f', 'd' or 'q')")));
            }
        });
    }
    let items: Vec<Bound<'_, PyAny>> = if let Ok(list) = obj.cast::<PyList>() {
        list.iter().collect()
    } else if let Ok(tuple) = obj.cast::<PyTuple>() {
        tuple.iter().collect()
    } else {
        return Err(FromPyError::Unsupported(format!(
            "numbers must be an array.array, list or tuple, not '{}'",
            type_name(obj)
        )));
    };
    let all_ints = !items.is_empty() && items.iter().all(|x| x.is_instance_of::<PyInt>() && !x.is_instance_of::<PyBool>());
    if all_ints {
        return items
            .iter()
            .map(|x| x.extract::<i64>().map_err(|_| FromPyError::Unsupported("array element does not fit in 64 bits".into())))
            .collect::<Result<_, _>>()
            .map(ArrayData::I64);
    }
    items
        .iter()
        .map(|x| {
            if let Ok(f) = x.cast::<PyFloat>() {
                Ok(f.value())
            } else if x.is_instance_of::<PyInt>() {
                Ok(x.extract::<f64>().unwrap_or(f64::NAN))
            } else {
                Err(FromPyError::Unsupported(format!("array element of type '{}' is not a number", type_name(x))))
            }
        })
        .collect::<Result<_, _>>()
        .map(ArrayData::F64)
}
