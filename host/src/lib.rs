//! The node host: runs pipeline nodes written in Python or Rust, each in
//! its own WebAssembly sandbox (a component under wasmtime), or natively as
//! a baseline.
//!
//! - [`Node`] is the one trait every runtime implements; [`NodeSpec`] says
//!   what to create a node from and [`Runtime`] where it runs;
//! - [`WasmEngine`] compiles components once and caches the code;
//! - [`SandboxPolicy`] is what a node may use;
//! - [`Error`] and [`NodeFailure`] say what went wrong, one variant per kind.

pub mod bindings;
pub mod cache;
pub mod compat;
#[cfg(feature = "cpython")]
pub mod cpython;
pub mod describe;
pub mod engine;
pub mod error;
pub mod guest_log;
pub mod json;
pub mod manifest;
pub mod native;
pub mod node;
pub mod pipeline;
pub mod policy;
#[cfg(feature = "native-rustpython")]
pub mod rustpython;
pub mod snapshot;
pub mod stats;
pub mod value_table;
pub mod wasm;
pub mod wav;

pub use engine::{EngineConfig, WasmEngine};
pub use error::{Error, GuestError, GuestErrorKind, NodeFailure, Stage};
pub use manifest::Pipeline;
pub use node::{NODE_THREAD_STACK, Node, NodeSource, NodeSpec, Runtime, on_node_thread};
pub use pipeline::{Output, run_collect, run_pipeline, run_with_report};
pub use stats::{NodeStats, RunReport};
pub use nodehost_sdk::{ArrayData, AudioFrame, Map, NumArray, Value};
pub use policy::SandboxPolicy;
