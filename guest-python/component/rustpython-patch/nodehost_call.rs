//! nodehost: calling a node's `process` function with its positional
//! arguments as the interpreter's own specialized call sites do.
//!
//! `PyObject::call` builds a `FuncArgs` (a vector and a keyword map) and
//! binds it to the function's parameters one rule at a time. A plain
//! function (no `*args`, `**kwargs` or keyword-only parameters) given
//! exactly as many arguments as it has parameters needs none of that: the
//! arguments go straight into the new frame's locals
//! (`Py<PyFunction>::invoke_exact_args`, what the bytecode's
//! `CALL_PY_EXACT_ARGS` uses). That binding was about a sixth of a cheap
//! node's call in the sandbox (perf, wasmtime's perf map: a node returning
//! `data + self.amount`). Anything else, and any call while a trace or
//! profile function is set (which needs the frame object the general path
//! makes), takes the general path.

use crate::builtins::PyFunction;
use crate::{PyObject, PyObjectRef, PyResult, VirtualMachine};

/// `callable(*args)`.
pub fn call_positional(callable: &PyObject, args: Vec<PyObjectRef>, vm: &VirtualMachine) -> PyResult {
    if let Some(function) = callable.downcast_ref::<PyFunction>()
        && !vm.use_tracing.get()
        && !function.is_jitted()
        && u32::try_from(args.len()).is_ok_and(|n| function.can_specialize_call(n))
    {
        return function.invoke_exact_args(args, vm);
    }
    callable.call(args, vm)
}
