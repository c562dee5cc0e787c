//! The runtimes: each one implements [`Node`](crate::Node) for one way of
//! running a node, and none imports another.
//!
//! - [`wasm`]: a node in a component, in the sandbox;
//! - [`native_rust`]: a built-in Rust node linked into the host (baseline);
//! - `rustpython`: a Python node on RustPython linked into the host
//!   (baseline; feature `native-rustpython`);
//! - `cpython`: a Python node on CPython through PyO3 (baseline; feature
//!   `cpython`).
//!
//! The two un-sandboxed Python runtimes share `watchdog`, which raises an
//! exception in a call's Python code when the call passes its deadline.

#[cfg(feature = "cpython")]
pub(crate) mod cpython;
pub(crate) mod native_rust;
#[cfg(feature = "native-rustpython")]
pub(crate) mod rustpython;
pub(crate) mod wasm;
#[cfg(any(feature = "cpython", feature = "native-rustpython"))]
mod watchdog;
