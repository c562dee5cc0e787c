//! [`CPythonNode`]: a Python node on CPython through PyO3, the `cpython`
//! baseline. It runs the same node files through the same helper module
//! (`guest-python/python/nodehost.py`) and the same conversion rules as the
//! RustPython runtimes (`nodehost_sdk::python`, which [`CPy`] answers for
//! PyO3), so outputs and errors can be compared one to one. All CPython
//! nodes share the process's interpreter and its GIL.
//!
//! Every call has a wall-clock deadline (`timeout`; `init_timeout` for the
//! module's top level, `__init__` and `initialize()`): past it the
//! [`Watchdog`] raises `nodehost.DeadlineExceeded` in the node's thread with
//! `PyThreadState_SetAsyncExc`, which the interpreter checks between
//! bytecodes. The exception is set holding the GIL and only while the call
//! is armed; the call is disarmed, and any exception still pending cleared,
//! under the GIL too, so it never reaches another call. Code inside one C
//! call that does not return to the interpreter (a long regular-expression
//! match, `time.sleep`, a C extension's loop) sees it only when it returns.

use std::ffi::{CString, c_long};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::collections::VecDeque;
use std::time::Duration;

use nodehost_sdk::python::{self, Call, Failure, Int, Interpreter, NumberBuffer, Text};
use nodehost_sdk::{ErrorKind, NodeError, Value};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::error::NodeFailure;
use crate::node::{ItemAnswer, Node, answer_each};
use crate::policy::SandboxPolicy;
use crate::runtime::watchdog::{self, Slot, Watchdog};

const HELPER_SOURCE: &str = include_str!("../../../guest-python/python/nodehost.py");

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
    /// `nodehost.DeadlineExceeded` with a message when raised with none,
    /// as an asynchronous exception is.
    deadline_exceeded: Py<PyAny>,
}

/// Defines the exception the watchdog raises (`PyThreadState_SetAsyncExc`
/// raises a class, called without arguments).
const DEADLINE_SOURCE: &std::ffi::CStr = c"from nodehost import DeadlineExceeded as _Base

class DeadlineExceeded(_Base):
    __module__ = 'nodehost'
    __doc__ = _Base.__doc__

    def __init__(self, *args):
        super().__init__(*(args or ('the call ran past its deadline and was interrupted here',)))
";

/// The version of the Python this host embeds, as (major, minor).
pub(crate) fn python_version() -> (u8, u8) {
    Python::attach(|py| {
        let v = py.version_info();
        (v.major, v.minor)
    })
}

/// Put `dir` (a site-packages directory) on the interpreter's path with its
/// `.pth` files, once.
fn add_site_dir(py: Python<'_>, dir: &Path) -> Result<(), NodeError> {
    let added = || -> PyResult<()> {
        let path = dir.to_string_lossy();
        let sys_path = py.import("sys")?.getattr("path")?;
        if !sys_path.contains(path.as_ref())? {
            py.import("site")?.call_method1("addsitedir", (path.as_ref(),))?;
        }
        Ok(())
    };
    added().map_err(|e| {
        NodeError::new(ErrorKind::Load, format!("adding {} to the interpreter's path: {e}", dir.display()))
    })
}

/// log(level, target, message): the native half of the helper module.
#[pyfunction]
#[pyo3(name = "log")]
fn host_log(level: i32, target: &str, message: &str) {
    nodehost_sdk::log::log(nodehost_sdk::log::Level::from_number(level), target, message);
}

fn helpers(py: Python<'_>) -> Result<&'static Helpers, NodeError> {
    // A GIL-aware once-cell: a thread waiting for another's initialization
    // releases the GIL, which that initialization may need.
    static HELPERS: PyOnceLock<Result<Helpers, NodeError>> = PyOnceLock::new();
    HELPERS
        .get_or_init(py, || {
            let setup = || -> PyResult<Helpers> {
                let native = PyModule::new(py, "_nodehost")?;
                native.add_function(wrap_pyfunction!(host_log, &native)?)?;
                py.import("sys")?.getattr("modules")?.set_item("_nodehost", &native)?;
                let code = CString::new(HELPER_SOURCE).expect("no NUL in helper source");
                let m = PyModule::from_code(py, &code, c"nodehost.py", c"nodehost")?;
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
                    deadline_exceeded: PyModule::from_code(py, DEADLINE_SOURCE, c"nodehost_deadline.py", c"_nodehost_deadline")?
                        .getattr("DeadlineExceeded")?
                        .unbind(),
                })
            };
            setup().map_err(|e| NodeError::new(ErrorKind::Internal, format!("starting CPython's node helpers: {e}")))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The watchdog of CPython calls (one thread per process). It takes the
/// GIL before it interrupts a call, as calls hold it when they start and end.
fn watchdog() -> &'static Watchdog {
    static DOG: OnceLock<&'static Watchdog> = OnceLock::new();
    DOG.get_or_init(|| Watchdog::start("nodehost-cpython-watchdog", |fire| Python::attach(|_| fire())))
}

/// Where a node's calls keep their deadline, and the thread they run on.
#[derive(Clone)]
struct Deadline {
    slot: Arc<Slot>,
    /// The running call's thread, as `threading.get_ident()` gives it.
    thread: Arc<AtomicI64>,
}

impl Deadline {
    fn new() -> Self {
        let thread = Arc::new(AtomicI64::new(0));
        let running_on = Arc::clone(&thread);
        let interrupt = Box::new(move || {
            // Runs on the watchdog's thread, which holds the GIL here (its
            // gate); `attach` only borrows it.
            Python::attach(|py| {
                if let Ok(h) = helpers(py) {
                    let thread = running_on.load(Ordering::Relaxed) as c_long;
                    // SAFETY: the GIL is held, and the call whose thread this
                    // is still runs (the watchdog checked its deadline under
                    // the GIL, and calls start and end holding it); the
                    // exception is a class that lives as long as the process.
                    unsafe { pyo3::ffi::PyThreadState_SetAsyncExc(thread, h.deadline_exceeded.as_ptr()) };
                }
            });
        });
        Deadline { slot: watchdog().register(interrupt, None), thread }
    }

    /// Run `f`, which calls Python code on this thread, with a deadline of
    /// `timeout`. Called holding the GIL (`_py`): the call starts and ends
    /// under it.
    fn run<T>(&self, _py: Python<'_>, timeout: Duration, f: impl FnOnce() -> Result<T, NodeError>) -> Result<T, NodeFailure> {
        // SAFETY: a plain query of the calling thread's id; no state is touched.
        let thread = unsafe { pyo3::ffi::PyThread_get_thread_ident() } as c_long;
        self.thread.store(thread as i64, Ordering::Relaxed);
        self.slot.start(timeout);
        let result = f();
        let interrupted = self.slot.finish();
        if interrupted {
            // SAFETY: the GIL is held (`_py`); a null exception clears what
            // is still pending for this thread, so it cannot reach a later
            // call.
            unsafe { pyo3::ffi::PyThreadState_SetAsyncExc(thread, std::ptr::null_mut()) };
        }
        watchdog::outcome(result, interrupted, timeout, Duration::ZERO)
    }
}

/// A Python node on CPython.
pub struct CPythonNode {
    class_name: String,
    process: Py<PyAny>,
    flush: Option<Py<PyAny>>,
    cleanup: Option<Py<PyAny>>,
    max_outputs: usize,
    timeout: Duration,
    deadline: Deadline,
}

impl CPythonNode {
    /// Load `file`'s `source` as a module and create `class` with `params`.
    /// `site_packages`, when given, is added to the interpreter's path
    /// first (with its `.pth` files, as `site.addsitedir` does): a virtual
    /// environment's packages, for this node and every other `cpython`
    /// node of the process.
    pub fn new(
        file: &Path,
        source: &str,
        class: &str,
        params: Value,
        policy: &SandboxPolicy,
        site_packages: Option<&Path>,
    ) -> Result<Self, NodeFailure> {
        let params = Value::Map(python::keyword_params(params)?);
        Python::attach(|py| {
            if let Some(dir) = site_packages {
                add_site_dir(py, dir)?;
            }
            let deadline = Deadline::new();
            deadline.run(py, policy.init_timeout, || Self::create(py, file, source, class, params, policy, deadline.clone()))
        })
    }

    fn create(
        py: Python<'_>,
        file: &Path,
        source: &str,
        class: &str,
        params: Value,
        policy: &SandboxPolicy,
        deadline: Deadline,
    ) -> Result<Self, NodeError> {
        let h = helpers(py)?;
        let filename = file.display().to_string();
        let name = file.file_stem().map_or_else(|| "node".into(), |s| s.to_string_lossy().into_owned());
        let loaded = h
            .load
            .call1(py, (name, source, &filename))
            .map_err(|e| exception_to_error(py, h, ErrorKind::Load, e))?;
        let module = loaded.bind(py).get_item(0).map_err(|e| exception_to_error(py, h, ErrorKind::Internal, e))?;
        let kwargs = python::to_python(&CPy { py, h }, params).map_err(|e| exception_to_error(py, h, ErrorKind::Internal, e))?;
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
            timeout: policy.timeout,
            deadline,
        })
    }

    /// Gather a call's result as outputs by the SDK's rules
    /// ([`python::collect_outputs`]).
    fn call_and_collect<'py>(
        &self,
        py: Python<'py>,
        h: &Helpers,
        result: PyResult<Bound<'py, PyAny>>,
        method: &str,
        out: &mut Vec<Value>,
    ) -> Result<(), NodeError> {
        let raised = |e| exception_to_error(py, h, ErrorKind::Raised, e);
        let result = result.map_err(raised)?;
        let call = Call { class: &self.class_name, method };
        python::collect_outputs(&CPy { py, h }, &result, call, self.max_outputs, out).map_err(|e| match e {
            Failure::Node(e) => e,
            Failure::Raised(e) => raised(e),
        })
    }
}

impl CPythonNode {
    /// `process(input)`, holding the GIL; nothing is left on `out` when it
    /// fails.
    fn process_one(&self, py: Python<'_>, h: &Helpers, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        let before = out.len();
        let result = self.deadline.run(py, self.timeout, || {
            let arg = python::to_python(&CPy { py, h }, input).map_err(|e| exception_to_error(py, h, ErrorKind::Internal, e))?;
            let result = self.process.bind(py).call1((arg,));
            self.call_and_collect(py, h, result, "process", out)
        });
        if result.is_err() {
            out.truncate(before);
        }
        result
    }
}

impl Node for CPythonNode {
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        Python::attach(|py| {
            let h = helpers(py).map_err(NodeFailure::from)?;
            self.process_one(py, h, input, out)
        })
    }

    /// The batch under one hold of the GIL (taking it costs more than a
    /// trivial node's call); each input still has its own deadline, and
    /// other threads get the GIL as they do while Python code runs.
    fn process_many(&mut self, inputs: &mut VecDeque<Value>, budget: Duration, out: &mut Vec<Value>, answers: &mut Vec<ItemAnswer>) {
        Python::attach(|py| {
            let h = match helpers(py) {
                Ok(h) => h,
                Err(e) => {
                    if inputs.pop_front().is_some() {
                        answers.push(ItemAnswer::failed(NodeFailure::from(e)));
                    }
                    return;
                }
            };
            answer_each(inputs, budget, out, answers, |input, out| self.process_one(py, h, input, out));
        });
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeFailure> {
        let before = out.len();
        let result = Python::attach(|py| {
            let h = helpers(py).map_err(NodeFailure::from)?;
            let result = match &self.flush {
                Some(flush) => self.deadline.run(py, self.timeout, || {
                    let r = flush.bind(py).call0();
                    self.call_and_collect(py, h, r, "flush", out)
                }),
                None => Ok(()),
            };
            let _ = h.flush_io.call0(py);
            result
        });
        if result.is_err() {
            out.truncate(before);
        }
        result
    }
}

impl Drop for CPythonNode {
    fn drop(&mut self) {
        Python::attach(|py| {
            let Ok(h) = helpers(py) else { return };
            if let Some(cleanup) = &self.cleanup
                && let Err(e) = self.deadline.run(py, self.timeout, || {
                    cleanup.call0(py).map(drop).map_err(|e| exception_to_error(py, h, ErrorKind::Raised, e))
                })
            {
                nodehost_sdk::log::warn("nodehost", &format!("{}.cleanup() failed: {e}", self.class_name));
            }
            let _ = h.flush_io.call0(py);
        });
    }
}

fn exception_to_error(py: Python<'_>, h: &Helpers, kind: ErrorKind, e: PyErr) -> NodeError {
    let value = e.value(py);
    let exception_type = value.get_type().name().map_or_else(|_| "Exception".into(), |n| n.to_string());
    let text = value.to_string();
    let traceback = h
        .format_exception
        .call1(py, (e.get_type(py), value, e.traceback(py)))
        .and_then(|lines| lines.extract::<Vec<String>>(py))
        .map(|lines| lines.concat())
        .unwrap_or_default();
    python::exception(kind, exception_type, &text, &traceback)
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map_or_else(|_| "?".into(), |n| n.to_string())
}

/// The SDK's [`Interpreter`] over PyO3: CPython's answers to the questions
/// the shared conversion rules ask.
struct CPy<'a, 'py> {
    py: Python<'py>,
    h: &'a Helpers,
}

impl<'py> Interpreter for CPy<'_, 'py> {
    type Object = Bound<'py, PyAny>;
    type Error = PyErr;

    fn is_none(&self, obj: &Bound<'py, PyAny>) -> bool {
        obj.is_none()
    }

    fn as_bool(&self, obj: &Bound<'py, PyAny>) -> Option<bool> {
        obj.cast::<PyBool>().ok().map(PyBoolMethods::is_true)
    }

    fn as_int(&self, obj: &Bound<'py, PyAny>) -> Option<Int> {
        if !obj.is_instance_of::<PyInt>() {
            return None;
        }
        if let Ok(i) = obj.extract::<i64>() {
            return Some(Int::Fits(i));
        }
        // Beyond 64 bits: `int.to_bytes(obj, n, "little", signed=True)`, the
        // unbound methods so a subclass's overrides do not count; bytes,
        // never decimal text (CPython caps int <-> str at 4300 digits).
        let int = self.py.get_type::<PyInt>();
        let wide = || -> PyResult<nodehost_sdk::BigInt> {
            let bits: u64 = int.call_method1("bit_length", (obj,))?.extract()?;
            let kwargs = PyDict::new(self.py);
            kwargs.set_item("signed", true)?;
            let bytes = int.call_method("to_bytes", (obj, bits / 8 + 1, "little"), Some(&kwargs))?;
            Ok(nodehost_sdk::BigInt::from_signed_bytes_le(bytes.cast::<PyBytes>()?.as_bytes()))
        };
        wide().ok().map(Int::Wide)
    }

    fn as_float(&self, obj: &Bound<'py, PyAny>) -> Option<f64> {
        obj.cast::<PyFloat>().ok().map(PyFloatMethods::value)
    }

    fn as_str(&self, obj: &Bound<'py, PyAny>) -> Option<Text> {
        let s = obj.cast::<PyString>().ok()?;
        Some(s.to_str().map_or(Text::LoneSurrogates, |s| Text::Utf8(s.to_owned())))
    }

    fn as_bytes(&self, obj: &Bound<'py, PyAny>) -> Option<Vec<u8>> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Some(b.as_bytes().to_vec());
        }
        obj.cast::<PyByteArray>().ok().map(PyByteArrayMethods::to_vec)
    }

    fn as_sequence(&self, obj: &Bound<'py, PyAny>) -> Option<Vec<Bound<'py, PyAny>>> {
        if let Ok(list) = obj.cast::<PyList>() {
            return Some(list.iter().collect());
        }
        obj.cast::<PyTuple>().ok().map(|t| t.iter().collect())
    }

    fn as_dict(&self, obj: &Bound<'py, PyAny>) -> Option<Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
        obj.cast::<PyDict>().ok().map(|d| d.iter().collect())
    }

    fn is_audio_frame(&self, obj: &Bound<'py, PyAny>) -> PyResult<bool> {
        obj.is_instance(self.h.audio_frame.bind(self.py))
    }

    fn is_array(&self, obj: &Bound<'py, PyAny>) -> PyResult<bool> {
        obj.is_instance(self.h.array.bind(self.py))
    }

    fn as_number_buffer(&self, obj: &Bound<'py, PyAny>) -> PyResult<Option<NumberBuffer>> {
        if !obj.is_instance(self.h.buffer.bind(self.py))? {
            return Ok(None);
        }
        let typecode: String = obj.getattr("typecode")?.extract()?;
        let itemsize: usize = obj.getattr("itemsize")?.extract()?;
        let bytes = obj.call_method0("tobytes")?;
        let bytes = bytes
            .cast::<PyBytes>()
            .map_err(|_| PyTypeError::new_err("array.tobytes() did not return bytes"))?
            .as_bytes()
            .to_vec();
        Ok(Some(NumberBuffer { typecode, itemsize, bytes }))
    }

    fn attr(&self, obj: &Bound<'py, PyAny>, name: &'static str) -> PyResult<Bound<'py, PyAny>> {
        obj.getattr(name)
    }

    fn type_name(&self, obj: &Bound<'py, PyAny>) -> String {
        type_name(obj)
    }

    fn is_generator(&self, obj: &Bound<'py, PyAny>) -> bool {
        obj.is_instance(self.h.generator.bind(self.py)).unwrap_or(false)
    }

    fn next_item(&self, generator: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
        generator.try_iter()?.next().transpose()
    }

    fn close(&self, generator: &Bound<'py, PyAny>) {
        let _ = generator.call_method0("close");
    }

    fn new_none(&self) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.py.None().into_bound(self.py))
    }

    fn new_bool(&self, b: bool) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyBool::new(self.py, b).to_owned().into_any())
    }

    fn new_int(&self, i: i64) -> PyResult<Bound<'py, PyAny>> {
        Ok(i.into_pyobject(self.py)?.into_any())
    }

    fn new_big_int(&self, i: &nodehost_sdk::BigInt) -> PyResult<Bound<'py, PyAny>> {
        // `int.from_bytes(b, "little", signed=True)`: exact, at any size.
        let kwargs = PyDict::new(self.py);
        kwargs.set_item("signed", true)?;
        let bytes = PyBytes::new(self.py, &i.to_signed_bytes_le());
        self.py.get_type::<PyInt>().call_method("from_bytes", (bytes, "little"), Some(&kwargs))
    }

    fn new_float(&self, f: f64) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyFloat::new(self.py, f).into_any())
    }

    fn new_str(&self, s: &str) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(self.py, s).into_any())
    }

    fn new_bytes(&self, b: Vec<u8>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyBytes::new(self.py, &b).into_any())
    }

    fn new_list(&self, items: Vec<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyList::new(self.py, items)?.into_any())
    }

    fn new_dict(&self, entries: Vec<(String, Bound<'py, PyAny>)>) -> PyResult<Bound<'py, PyAny>> {
        let dict = PyDict::new(self.py);
        for (k, v) in entries {
            dict.set_item(k, v)?;
        }
        Ok(dict.into_any())
    }

    fn new_number_buffer(&self, typecode: &str, bytes: Vec<u8>) -> PyResult<Bound<'py, PyAny>> {
        self.h.buffer.bind(self.py).call1((typecode, PyBytes::new(self.py, &bytes)))
    }

    fn new_audio_frame(&self, samples: Bound<'py, PyAny>, sample_rate: u32, channels: u16) -> PyResult<Bound<'py, PyAny>> {
        self.h.audio_frame.bind(self.py).call1((samples, sample_rate, channels))
    }

    fn new_array(&self, data: Bound<'py, PyAny>, shape: &[u32]) -> PyResult<Bound<'py, PyAny>> {
        let shape = PyTuple::new(self.py, shape.iter().copied())?;
        self.h.array.bind(self.py).call1((data, shape))
    }
}
