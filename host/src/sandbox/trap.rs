//! Turning a wasmtime error from a call into the [`NodeFailure`] it is, by
//! the trap code and the store's own records (the memory limiter), never by
//! message text.

use std::time::Duration;

use wasmtime::component::ResourceTableError;
use wasmtime::{Store, Trap, WasmBacktrace};

use crate::error::{Limit, NodeFailure};
use crate::sandbox::scratch::TmpFull;
use crate::sandbox::store::{HostState, MAX_RESOURCES};

/// What a call failed with, given the call's hard deadline `timeout` and
/// fuel budget.
pub(crate) fn classify(store: &Store<HostState>, e: wasmtime::Error, timeout: Duration, fuel: Option<u64>) -> NodeFailure {
    let trace = e.downcast_ref::<WasmBacktrace>();
    let backtrace = trace.map(|bt| format!("{bt}"));
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) if store.data().cancel.is_cancelled() => NodeFailure::Cancelled,
        Some(Trap::Interrupt) => NodeFailure::Timeout(timeout),
        Some(Trap::StackOverflow) => NodeFailure::StackOverflow,
        Some(Trap::MemoryOutOfBounds) if trace.is_some_and(looks_like_runaway_recursion) => NodeFailure::StackOverflow,
        Some(Trap::OutOfFuel) => NodeFailure::OutOfFuel(fuel.unwrap_or(0)),
        _ if store.data().limiter.hit => NodeFailure::OutOfMemory { limit: store.data().limiter.limit },
        None if e.downcast_ref::<TmpFull>().is_some() => {
            NodeFailure::LimitExceeded(Limit::Tmp { limit: e.downcast_ref::<TmpFull>().map_or(0, |full| full.limit) })
        }
        None if matches!(e.downcast_ref::<ResourceTableError>(), Some(ResourceTableError::Full)) => NodeFailure::Trap {
            message: format!(
                "the node tried to hold more than {MAX_RESOURCES} host resources (pollables, streams, files) at once: {e:#}"
            ),
            backtrace,
        },
        Some(trap) => NodeFailure::Trap { message: explain(trap.to_string(), backtrace.as_deref()), backtrace },
        None => NodeFailure::Trap { message: explain(format!("{e:#}"), backtrace.as_deref()), backtrace },
    }
}

/// What instantiating failed with: a trap in the component's start code, or
/// (no trap at all) exports whose types are not this host's interface.
pub(crate) fn classify_instantiate(store: &Store<HostState>, e: wasmtime::Error, timeout: Duration, fuel: Option<u64>) -> NodeFailure {
    if e.downcast_ref::<Trap>().is_some() || store.data().limiter.hit {
        classify(store, e, timeout, fuel)
    } else {
        NodeFailure::InterfaceMismatch(e)
    }
}

/// Whether a trap's backtrace is one function calling itself over and over.
/// Compilers for wasm keep part of the stack in linear memory (below the
/// data, growing down), so a guest recursing without end usually runs that
/// stack out of memory (an out-of-bounds access) before the wasm stack
/// limit: a full backtrace dominated by one function is that case.
fn looks_like_runaway_recursion(trace: &WasmBacktrace) -> bool {
    let frames = trace.frames();
    if frames.len() < 16 {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for f in frames {
        *counts.entry(f.func_index()).or_insert(0usize) += 1;
    }
    counts.values().any(|&n| n * 2 >= frames.len())
}

/// A trap message with what the backtrace says about its cause, where it
/// says something a node author can act on.
fn explain(message: String, backtrace: Option<&str>) -> String {
    match backtrace {
        Some(bt) if bt.contains("refcount_overflow") => format!(
            "{message} (RustPython on wasm32 counts at most 32767 references to one object, so more than \
             32767 live objects of one type, or references to one object, abort the interpreter)"
        ),
        _ => message,
    }
}
