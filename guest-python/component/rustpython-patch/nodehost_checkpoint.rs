//! Added to RustPython by nodehost's build (`host/artifacts/rustpython_patch.rs`):
//! a checkpoint the interpreter passes at every backward jump (each loop
//! iteration) and every function start, where an embedder's hook may raise
//! an exception in the running code.
//!
//! Why: on wasm32, RustPython 0.6 leaves out its eval breaker (signals and
//! the user-signal channel are never checked), so a sandboxed node stuck in
//! a loop could only be stopped by a trap that loses its instance, or
//! interrupted through `sys.monitoring` events, whose dispatch costs up to
//! 3x on loop-heavy code. A checkpoint costs a load and a branch when no
//! hook is set, and a plain call when one is.

use crate::{PyResult, VirtualMachine};

/// What runs at each checkpoint: `Err` raises the exception where the code is.
pub type Hook = fn(&VirtualMachine) -> PyResult<()>;

static HOOK: std::sync::OnceLock<Hook> = std::sync::OnceLock::new();

/// Set the hook (once per process; later calls are ignored and return false).
pub fn set_hook(hook: Hook) -> bool {
    HOOK.set(hook).is_ok()
}

/// Called by the interpreter at each checkpoint.
#[inline(always)]
pub(crate) fn reached(vm: &VirtualMachine) -> PyResult<()> {
    match HOOK.get() {
        Some(hook) => hook(vm),
        None => Ok(()),
    }
}
