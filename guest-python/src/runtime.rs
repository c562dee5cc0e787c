//! [`PythonRuntime`] (one interpreter with the modules loaded into it) and
//! [`PythonNode`] (one instance of a node class), driven through the SDK's
//! [`DynNode`] like any other node.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use nodehost_sdk::batch::PackedBatch;
use nodehost_sdk::python::{self, Call, Failure};
use nodehost_sdk::{DynNode, ErrorKind, NodeError, NodeTypeInfo, ParamInfo, Value};
use rustpython_vm::{AsObject, Interpreter, PyObjectRef, VirtualMachine, builtins::PyBaseExceptionRef};

use crate::convert::{self, Classes, RustPy};

/// Most outputs one call may give: a generator that never stops fails with a
/// clear error instead of exhausting memory.
pub const DEFAULT_MAX_OUTPUTS: usize = 100_000;

/// A RustPython interpreter prepared for nodes, with the node modules loaded
/// into it. Cheap to share: nodes hold an `Rc` to it.
pub struct PythonRuntime {
    interp: Interpreter,
    /// Where other threads send what the interpreter's thread must run at
    /// its next instruction (see [`Interrupter`]).
    #[cfg(not(target_arch = "wasm32"))]
    signals: rustpython_vm::signal::UserSignalSender,
    helpers: Helpers,
    modules: RefCell<Vec<LoadedModule>>,
    max_outputs: std::cell::Cell<usize>,
    interruptible: std::cell::Cell<bool>,
}

/// A node module and the node types it defines.
struct LoadedModule {
    name: String,
    module: PyObjectRef,
    types: Vec<NodeTypeInfo>,
}

/// The `nodehost` helper module's functions and classes.
struct Helpers {
    classes: Classes,
    load: PyObjectRef,
    create: PyObjectRef,
    flush_io: PyObjectRef,
    unknown_type: PyObjectRef,
    invalid_params: PyObjectRef,
    deadline_exceeded: PyObjectRef,
    /// `sys.monitoring`-based interruption (native builds; the component
    /// uses RustPython's checkpoint).
    #[cfg(not(target_arch = "wasm32"))]
    set_interruptible: PyObjectRef,
    #[cfg(not(target_arch = "wasm32"))]
    tick: PyObjectRef,
}

impl PythonRuntime {
    /// Start an interpreter and import the helper module.
    pub fn new() -> Result<Rc<Self>, NodeError> {
        #[cfg(not(target_arch = "wasm32"))]
        let (interp, signals) = crate::interp::new_interpreter();
        #[cfg(target_arch = "wasm32")]
        let interp = crate::interp::new_interpreter();
        let helpers = interp.enter(|vm| {
            let setup = || -> Result<Helpers, PyBaseExceptionRef> {
                let nodehost = vm.import("nodehost", 0)?;
                let array = vm.import("array", 0)?;
                let get = |name: &'static str| nodehost.get_attr(name, vm);
                Ok(Helpers {
                    classes: Classes {
                        audio_frame: get("AudioFrame")?,
                        array: get("Array")?,
                        buffer: array.get_attr("array", vm)?,
                    },
                    load: get("_load")?,
                    create: get("_create")?,
                    flush_io: get("_flush_io")?,
                    unknown_type: get("_UnknownNodeType")?,
                    invalid_params: get("_InvalidParams")?,
                    deadline_exceeded: get("DeadlineExceeded")?,
                    #[cfg(not(target_arch = "wasm32"))]
                    set_interruptible: get("_set_interruptible")?,
                    #[cfg(not(target_arch = "wasm32"))]
                    tick: vm.import("_nodehost", 0)?.get_attr("tick", vm)?,
                })
            };
            setup().map_err(|e| exception_to_error(vm, ErrorKind::Internal, e))
        })?;
        Ok(Rc::new(PythonRuntime {
            interp,
            #[cfg(not(target_arch = "wasm32"))]
            signals,
            helpers,
            modules: RefCell::new(Vec::new()),
            max_outputs: std::cell::Cell::new(DEFAULT_MAX_OUTPUTS),
            interruptible: std::cell::Cell::new(false),
        }))
    }

    /// Limit how many outputs one call may give.
    pub fn set_max_outputs(&self, n: usize) {
        self.max_outputs.set(n);
    }

    /// Let the host interrupt running code (or stop letting it): with this
    /// on, loop iterations and function starts poll
    /// [`nodehost_sdk::interrupt::requested`] now and then, and the running
    /// code gets a `nodehost.DeadlineExceeded` exception once it says yes.
    /// In the component this is RustPython's interruption checkpoint (see
    /// `interp::checkpoint`), which costs little; natively it is a
    /// `sys.monitoring` hook, which costs speed on loop-heavy code (native
    /// nodes are interrupted at their hard deadline through the user-signal
    /// channel anyway).
    pub fn set_interruptible(&self, on: bool) -> Result<(), NodeError> {
        if self.interruptible.replace(on) == on {
            return Ok(());
        }
        #[cfg(target_arch = "wasm32")]
        {
            crate::interp::checkpoint::arm(on);
            Ok(())
        }
        #[cfg(not(target_arch = "wasm32"))]
        self.interp.enter(|vm| {
            self.helpers
                .set_interruptible
                .call((on, self.helpers.tick.clone()), vm)
                .map(drop)
                .map_err(|e| exception_to_error(vm, ErrorKind::Internal, e))
        })
    }

    /// A handle through which another thread can interrupt the Python code
    /// this runtime runs (native builds).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn interrupter(&self) -> Interrupter {
        Interrupter(self.signals.clone())
    }

    /// Import `modules` now (before a snapshot is taken), then flush what
    /// printing left in line buffers and collect garbage, so the snapshot
    /// holds no half-written output.
    pub fn prepare(&self, modules: &[String]) -> Result<(), NodeError> {
        self.interp.enter(|vm| {
            for name in modules {
                let name = vm.ctx.new_str(name.as_str());
                vm.import(&name, 0).map_err(|e| exception_to_error(vm, ErrorKind::Load, e))?;
            }
            self.flush_io(vm);
            if let Ok(gc) = vm.import("gc", 0) {
                let _ = vm.call_method(&gc, "collect", ());
            }
            Ok(())
        })
    }

    /// Give the `random` module fresh state from the host's entropy (an
    /// instance made from a snapshot starts with the snapshot's).
    pub fn reseed(&self) -> Result<(), NodeError> {
        self.interp.enter(|vm| {
            vm.import("nodehost", 0)
                .and_then(|m| m.get_attr("_reseed", vm))
                .and_then(|reseed| reseed.call((), vm))
                .map(drop)
                .map_err(|e| exception_to_error(vm, ErrorKind::Internal, e))
        })
    }

    /// Run a node module's source and describe the node classes it defines.
    /// The module is named after the file (`nodes/vad.py` is `vad`), and
    /// tracebacks show `filename`.
    pub fn load_module(&self, filename: &str, source: &str) -> Result<Vec<NodeTypeInfo>, NodeError> {
        let name = module_name(filename);
        let name = name.as_str();
        // A bundle (several modules, see `nodehost.py`) remembers each
        // module's source as it runs it.
        if !source.starts_with(BUNDLE_HEADER) {
            remember_source(filename, source);
        }
        self.interp.enter(|vm| {
            let result = self
                .helpers
                .load
                .call((name, source, filename), vm)
                .map_err(|e| exception_to_error(vm, ErrorKind::Load, e))?;
            let internal = |e| exception_to_error(vm, ErrorKind::Internal, e);
            let items = convert::tuple_items(vm, &result, 2).map_err(internal)?;
            let module = items[0].clone();
            let infos: Vec<PyObjectRef> = items[1].try_to_value(vm).map_err(internal)?;
            let infos = infos
                .iter()
                .map(|info| self.describe(vm, info))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| exception_to_error(vm, ErrorKind::Internal, e))?;
            let mut modules = self.modules.borrow_mut();
            modules.retain(|m| m.name != name);
            modules.push(LoadedModule { name: name.to_owned(), module, types: infos.clone() });
            Ok(infos)
        })
    }

    fn describe(&self, vm: &VirtualMachine, info: &PyObjectRef) -> Result<NodeTypeInfo, PyBaseExceptionRef> {
        let info = convert::tuple_items(vm, info, 4)?;
        let name: String = info[0].try_to_value(vm)?;
        let description: String = info[1].try_to_value(vm)?;
        let params: Vec<PyObjectRef> = info[2].try_to_value(vm)?;
        let streaming = info[3].clone().try_to_bool(vm)?;
        let params = params
            .iter()
            .map(|p| {
                let p = convert::tuple_items(vm, p, 3)?;
                let name: String = p[0].try_to_value(vm)?;
                let required = p[1].clone().try_to_bool(vm)?;
                let default = &p[2];
                let py = RustPy { vm, classes: &self.helpers.classes };
                let default = if required { None } else { python::to_value(&py, default).ok() };
                Ok(ParamInfo { name, required, default, description: String::new() })
            })
            .collect::<Result<Vec<_>, PyBaseExceptionRef>>()?;
        Ok(NodeTypeInfo { name, description, params, streaming })
    }

    /// Descriptions of the node classes of every loaded module.
    pub fn node_types(&self) -> Vec<NodeTypeInfo> {
        self.modules.borrow().iter().flat_map(|m| m.types.iter().cloned()).collect()
    }

    /// Create an instance of node class `class_name` (from the most recently
    /// loaded module that has it) with keyword parameters from `params`.
    pub fn create(self: &Rc<Self>, class_name: &str, params: Value) -> Result<PythonNode, NodeError> {
        let params = python::keyword_params(params)?;
        let module = self
            .modules
            .borrow()
            .last()
            .map(|m| m.module.clone())
            .ok_or_else(|| NodeError::new(ErrorKind::UnknownType, "no Python module is loaded"))?;
        self.interp.enter(|vm| {
            let kwargs = convert::to_py(vm, &self.helpers.classes, Value::Map(params))
                .map_err(|e| exception_to_error(vm, ErrorKind::Internal, e))?;
            let instance = self.helpers.create.call((module, class_name, kwargs), vm).map_err(|e| {
                let is = |class: &PyObjectRef| e.as_object().is_instance(class, vm).unwrap_or(false);
                if is(&self.helpers.unknown_type) || is(&self.helpers.invalid_params) {
                    // The host's own checks: the message says it all.
                    let kind = if is(&self.helpers.unknown_type) { ErrorKind::UnknownType } else { ErrorKind::InvalidParams };
                    let message = e.as_object().str(vm).map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    return NodeError::new(kind, message);
                }
                exception_to_error(vm, ErrorKind::Raised, e)
            })?;
            let method = |name: &'static str| -> Result<Option<PyObjectRef>, NodeError> {
                // What `getattr(instance, name, None)` does (written so it
                // reads the same on RustPython 0.5 and 0.6).
                match instance.get_attr(name, vm) {
                    Ok(method) => Ok(Some(method)),
                    Err(e) if e.fast_isinstance(vm.ctx.exceptions.attribute_error) => Ok(None),
                    Err(e) => Err(exception_to_error(vm, ErrorKind::Raised, e)),
                }
            };
            let process = method("process")?.ok_or_else(|| NodeError::invalid_input("node has no process()"))?;
            let process = Process::new(process, vm);
            Ok(PythonNode {
                runtime: Rc::clone(self),
                class_name: instance.class().name().to_string(),
                process,
                flush: method("flush")?,
                cleanup: method("cleanup")?,
            })
        })
    }

    /// Flush what `print` left in the line buffers of sys.stdout/stderr.
    fn flush_io(&self, vm: &VirtualMachine) {
        let _ = self.helpers.flush_io.call((), vm);
    }
}

/// The first line of a node bundle (`host/src/package`, `nodehost.py`).
const BUNDLE_HEADER: &str = "# nodehost-bundle 1\n";

/// A module name from a file name: `nodes/vad.py` -> `vad`.
fn module_name(file: &str) -> String {
    let stem = file.rsplit(['/', '\\']).next().unwrap_or(file);
    stem.strip_suffix(".py").unwrap_or(stem).to_owned()
}

/// A node's `process`, as it is called for each input.
enum Process {
    /// A method bound to the instance, as the function and the instance:
    /// `function(instance, x)` is what calling the bound method does, less
    /// the copy of the arguments it makes to put the instance first (about
    /// a tenth of a cheap node's call).
    Unbound { function: PyObjectRef, instance: PyObjectRef },
    /// Any other callable, called as it is.
    Callable(PyObjectRef),
}

impl Process {
    fn new(process: PyObjectRef, vm: &VirtualMachine) -> Self {
        if process.class().is(vm.ctx.types.bound_method_type) {
            let part = |name: &'static str| process.get_attr(name, vm).ok();
            if let (Some(function), Some(instance)) = (part("__func__"), part("__self__")) {
                return Process::Unbound { function, instance };
            }
        }
        Process::Callable(process)
    }

    fn call(&self, arg: PyObjectRef, vm: &VirtualMachine) -> Result<PyObjectRef, PyBaseExceptionRef> {
        match self {
            // RustPython 0.6 (the sandbox) can bind the two arguments
            // straight into the frame (`nodehost_call`, patched in).
            #[cfg(target_arch = "wasm32")]
            Process::Unbound { function, instance } => {
                rustpython_vm::nodehost_call::call_positional(function, vec![instance.clone(), arg], vm)
            }
            #[cfg(not(target_arch = "wasm32"))]
            Process::Unbound { function, instance } => function.call((instance.clone(), arg), vm),
            Process::Callable(process) => process.call((arg,), vm),
        }
    }
}

/// One live instance of a Python node class.
pub struct PythonNode {
    runtime: Rc<PythonRuntime>,
    class_name: String,
    process: Process,
    flush: Option<PyObjectRef>,
    cleanup: Option<PyObjectRef>,
}

impl PythonNode {
    /// The node's class name.
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// Call `f` and gather its result as outputs by the SDK's rules
    /// ([`python::collect_outputs`]).
    fn call_and_collect(
        &self,
        vm: &VirtualMachine,
        call: impl FnOnce() -> Result<PyObjectRef, PyBaseExceptionRef>,
        method: &str,
        out: &mut Vec<Value>,
    ) -> Result<(), NodeError> {
        let result = call().map_err(|e| self.raised(vm, e))?;
        self.collect(vm, &result, method, out)
    }

    /// `result` of `method` as outputs, by the SDK's rules
    /// ([`python::collect_outputs`]).
    fn collect(&self, vm: &VirtualMachine, result: &PyObjectRef, method: &str, out: &mut Vec<Value>) -> Result<(), NodeError> {
        let rt = &*self.runtime;
        let py = RustPy { vm, classes: &rt.helpers.classes };
        let call = Call { class: &self.class_name, method };
        python::collect_outputs(&py, result, call, rt.max_outputs.get(), out).map_err(|e| match e {
            Failure::Node(e) => e,
            Failure::Raised(e) => self.raised(vm, e),
        })
    }

    /// The node's error for an exception its code raised: `interrupted` for
    /// the deadline's `DeadlineExceeded`, `raised` for any other.
    fn raised(&self, vm: &VirtualMachine, e: PyBaseExceptionRef) -> NodeError {
        let kind = if e.as_object().is_instance(&self.runtime.helpers.deadline_exceeded, vm).unwrap_or(false) {
            ErrorKind::Interrupted
        } else {
            ErrorKind::Raised
        };
        exception_to_error(vm, kind, e)
    }

    /// `process(input)`'s result.
    fn call_process(&self, vm: &VirtualMachine, input: Value) -> Result<PyObjectRef, NodeError> {
        let arg = convert::to_py(vm, &self.runtime.helpers.classes, input)
            .map_err(|e| exception_to_error(vm, ErrorKind::Internal, e))?;
        self.process.call(arg, vm).map_err(|e| self.raised(vm, e))
    }
}

impl DynNode for PythonNode {
    fn process(&mut self, input: Value, out: &mut Vec<Value>) -> Result<(), NodeError> {
        self.runtime.interp.enter(|vm| {
            let result = self.call_process(vm, input)?;
            self.collect(vm, &result, "process", out)
        })
    }

    /// The batch's inputs in one entry into the interpreter; a result that
    /// is a plain `int` or `str` is answered without building its value.
    fn process_packed(&mut self, batch: &mut PackedBatch<'_>) -> Result<(), NodeError> {
        self.runtime.interp.enter(|vm| {
            while let Some(input) = batch.next_input()? {
                let result = self.call_process(vm, input)?;
                if let Some(i) = exact_int(vm, &result) {
                    batch.pass_int(i)?;
                } else if let Some(s) = exact_utf8_str(vm, &result) {
                    batch.pass_str(s)?;
                } else {
                    self.collect(vm, &result, "process", batch.outputs())?;
                    batch.pass()?;
                }
            }
            Ok(())
        })
    }

    fn flush(&mut self, out: &mut Vec<Value>) -> Result<(), NodeError> {
        let rt = &*self.runtime;
        rt.interp.enter(|vm| {
            let result = match &self.flush {
                Some(flush) => self.call_and_collect(vm, || flush.call((), vm), "flush", out),
                None => Ok(()),
            };
            rt.flush_io(vm);
            result
        })
    }
}

impl Drop for PythonNode {
    fn drop(&mut self) {
        let rt = &*self.runtime;
        rt.interp.enter(|vm| {
            if let Some(cleanup) = &self.cleanup
                && let Err(e) = cleanup.call((), vm)
            {
                let e = exception_to_error(vm, ErrorKind::Raised, e);
                nodehost_sdk::log::warn(
                    "nodehost",
                    &format!("{}.cleanup() failed: {}\n{}", self.class_name, e.message, e.traceback.unwrap_or_default()),
                );
            }
            rt.flush_io(vm);
        });
    }
}

/// `obj`'s text when it is a `str` (not a subclass) without lone
/// surrogates: the output [`python::collect_outputs`] would give for it is
/// `Value::Str` of that.
fn exact_utf8_str<'a>(vm: &VirtualMachine, obj: &'a PyObjectRef) -> Option<&'a str> {
    obj.downcast_ref_if_exact::<rustpython_vm::builtins::PyStr>(vm)?.to_str()
}

/// `obj`'s value when it is an `int` (not a subclass, so not a `bool`)
/// that fits in 64 bits: the output [`python::collect_outputs`] would give
/// for it is `Value::Int` of that.
fn exact_int(vm: &VirtualMachine, obj: &PyObjectRef) -> Option<i64> {
    use num_traits::ToPrimitive;
    obj.downcast_ref_if_exact::<rustpython_vm::builtins::PyInt>(vm)?.as_bigint().to_i64()
}

/// A Python exception as a [`NodeError`] with its type and full traceback.
pub(crate) fn exception_to_error(vm: &VirtualMachine, kind: ErrorKind, exc: PyBaseExceptionRef) -> NodeError {
    let exception_type = exc.class().name().to_string();
    let text = match exc.as_object().str(vm) {
        Ok(s) => match python::cut_exception_text(&s.to_string_lossy()) {
            // Too long to format (again) in the node's memory: the
            // exception carries the cut text from here on, so its
            // traceback's last line is short too.
            Some(cut) => {
                let args = vm.ctx.new_tuple(vec![vm.ctx.new_str(cut.as_str()).into()]);
                let _ = exc.as_object().set_attr("args", args, vm);
                cut
            }
            None => s.to_string_lossy().into_owned(),
        },
        Err(_) => String::new(),
    };
    // RustPython's RecursionError has a trailing space, or no text where it
    // found its native stack short; CPython's has neither.
    let text = if exc.class().fast_issubclass(vm.ctx.exceptions.recursion_error) {
        let trimmed = text.trim_end();
        if trimmed.is_empty() { "maximum recursion depth exceeded".to_owned() } else { trimmed.to_owned() }
    } else {
        text
    };
    // CPython's text (`nodehost._traceback_text`), else, where that fails
    // (a SyntaxError, which the interpreter's writer shows with its line and
    // caret; or the node's memory or deadline spent), the interpreter's own.
    let syntax = exc.class().fast_issubclass(vm.ctx.exceptions.syntax_error);
    let python_text = (!syntax)
        .then(|| {
            vm.import("nodehost", 0)
                .and_then(|m| m.get_attr("_traceback_text", vm))
                // The text already read (and cut) above, so `str(exc)` is not
                // asked twice (none when empty: `str` may have failed, which
                // the helper words as CPython does).
                .and_then(|f| {
                    let known: PyObjectRef =
                        if text.is_empty() { vm.ctx.none() } else { vm.ctx.new_str(text.as_str()).into() };
                    f.call((exc.clone(), known), vm)
                })
                .ok()
                .and_then(|text| text.str(vm).ok())
                .map(|text| text.to_string_lossy().into_owned())
        })
        .flatten();
    let traceback = python_text.unwrap_or_else(|| {
        let mut traceback = String::new();
        let _ = vm.write_exception(&mut traceback, &exc);
        traceback
    });
    let traceback = with_source_lines(&traceback);
    python::exception(kind, exception_type, &text, &traceback)
}

thread_local! {
    /// The node modules' sources by file name, for tracebacks: the
    /// interpreter's own printer reads source lines from files, which the
    /// sandbox does not have.
    static SOURCES: RefCell<HashMap<String, Rc<[String]>>> = RefCell::new(HashMap::new());
}

/// Keep `source` to show its lines in tracebacks that pass through `filename`.
pub(crate) fn remember_source(filename: &str, source: &str) {
    let lines: Rc<[String]> = source.lines().map(str::to_owned).collect();
    SOURCES.with(|s| s.borrow_mut().insert(filename.to_owned(), lines));
}

/// `traceback` with the source line under each `File "...", line N` entry
/// of a node module that has none (as CPython prints them).
fn with_source_lines(traceback: &str) -> String {
    SOURCES.with(|sources| {
        let sources = sources.borrow();
        let mut out = String::with_capacity(traceback.len() + 256);
        let mut lines = traceback.lines().peekable();
        while let Some(line) = lines.next() {
            out.push_str(line);
            out.push('\n');
            let source_line = frame_location(line)
                .and_then(|(file, n)| sources.get(file).and_then(|src| src.get(n.checked_sub(1)?).cloned()));
            let already_shown = lines.peek().is_some_and(|next| next.starts_with("    "));
            if let Some(text) = source_line.filter(|t| !t.trim().is_empty() && !already_shown) {
                out.push_str("    ");
                out.push_str(text.trim());
                out.push('\n');
            }
        }
        out
    })
}

/// The file and line number of a traceback entry line,
/// `  File "node.py", line 18, in process`.
fn frame_location(line: &str) -> Option<(&str, usize)> {
    let rest = line.strip_prefix("  File \"")?;
    let (file, rest) = rest.split_once("\", line ")?;
    let number = rest.split(',').next()?;
    Some((file, number.parse().ok()?))
}

/// Makes the Python code a native [`PythonRuntime`] runs raise
/// `nodehost.DeadlineExceeded`, from any thread. It costs the code nothing
/// until it is used: RustPython checks for pending signals at every bytecode
/// instruction whether or not anyone sends one. Code inside one native call
/// that does not return to the interpreter (a long regular-expression
/// match, a sleep) sees the exception when it returns.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone)]
pub struct Interrupter(rustpython_vm::signal::UserSignalSender);

#[cfg(not(target_arch = "wasm32"))]
impl Interrupter {
    /// Raise `DeadlineExceeded(message)` in the running code at its next
    /// instruction, if `wanted` is still true then; raising takes it (sets
    /// it to false). The caller clears `wanted` when the call it meant has
    /// ended, so a request that arrives late does nothing. Returns false
    /// when the interpreter is gone.
    ///
    /// The signal flag RustPython checks is shared by every interpreter in
    /// the process, and the first interpreter to see it clears it, so a
    /// request can be missed while other interpreters run: send it again
    /// (with the same `wanted`) until `wanted` is taken or no longer needed.
    pub fn interrupt(&self, message: &str, wanted: std::sync::Arc<std::sync::atomic::AtomicBool>) -> bool {
        let message = message.to_owned();
        self.0
            .send(Box::new(move |vm| {
                if !wanted.swap(false, std::sync::atomic::Ordering::AcqRel) {
                    return Ok(());
                }
                let exception = vm
                    .import("nodehost", 0)
                    .and_then(|m| m.get_attr("DeadlineExceeded", vm))
                    .and_then(|class| class.call((message,), vm))?;
                Err(exception.downcast().map_err(|_| vm.new_type_error("DeadlineExceeded() did not give an exception"))?)
            }))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_lines_go_under_the_entries_of_known_files_only() {
        remember_source("node.py", "class A:\n    def process(self, x):\n        return 1 / x\n");
        let printed = "Traceback (most recent call last):\n  File \"node.py\", line 3, in process\n  File \"other.py\", line 1, in f\nZeroDivisionError: division by zero\n";
        assert_eq!(
            with_source_lines(printed),
            "Traceback (most recent call last):\n  File \"node.py\", line 3, in process\n    return 1 / x\n  File \"other.py\", line 1, in f\nZeroDivisionError: division by zero\n"
        );
        // Already shown (natively the printer reads the file): not twice.
        let shown = "  File \"node.py\", line 3, in process\n    return 1 / x\n";
        assert_eq!(with_source_lines(shown), shown);
        // A line number past the end, or garbage, is left alone.
        let odd = "  File \"node.py\", line 99, in process\n  File \"node.py\", line x, in y\n";
        assert_eq!(with_source_lines(odd), odd);
    }
}
