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

#[cfg(target_arch = "wasm32")]
mod component;

#[cfg(not(target_arch = "wasm32"))]
pub use runtime::Interrupter;
pub use runtime::{DEFAULT_MAX_OUTPUTS, PythonNode, PythonRuntime};

