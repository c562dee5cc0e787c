//! Python nodes on RustPython.
//!
//! [`PythonRuntime`] is a RustPython interpreter with the frozen standard
//! library and the `nodehost` helper module; it loads node modules from
//! source and creates [`PythonNode`]s, which a host drives through
//! [`nodehost_sdk::DynNode`]. Built for `wasm32-wasip2` this crate is the
//! Python guest component (see `component`); built natively it is the
//! `native-rustpython` runtime the host links directly. Both run the same
//! code, so the two can be compared fairly.

mod convert;
mod interp;
mod runtime;
#[cfg(any(test, all(target_arch = "wasm32", not(target_feature = "atomics"))))]
mod small_blocks;

#[cfg(target_arch = "wasm32")]
mod component;

/// The guest's allocator: talc instead of wasi-libc's dlmalloc. With it
/// the allocation-heavy kernels ran 5-6% faster in the sandbox (fannkuch,
/// json), the others within 2%; in a chain of trivial nodes it takes about
/// the share dlmalloc did (8-9%, perf with wasmtime's perf map). It takes
/// memory with `memory.grow` like dlmalloc, so the policy's memory limit
/// bounds it the same way. Small blocks are kept on free lists in front of
/// it ([`small_blocks`]).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: small_blocks::SmallBlocks<talc::wasm::WasmDynamicTalc> =
    small_blocks::SmallBlocks::new(talc::wasm::new_wasm_dynamic_allocator());

#[cfg(not(target_arch = "wasm32"))]
pub use runtime::Interrupter;
pub use runtime::{DEFAULT_MAX_OUTPUTS, PythonNode, PythonRuntime};

