//! The node host: runs pipeline nodes written in Python or Rust, each in
//! its own WebAssembly sandbox (a component under wasmtime), or natively as
//! a baseline.
//!
//! The crate is layered; each layer uses only those above it in this list:
//!
//! 1. [`Node`], [`error`], [`policy`], [`value`] and the node log: the trait
//!    every runtime implements, typed errors, what a node may use, and
//!    values in JSON and WAV; [`package`]: a Python node's modules and
//!    locked dependencies read into one bundle ahead of time;
//! 2. [`sandbox`]: wasmtime narrowed to what a node needs (engine and
//!    compiled-code cache, store and limits, host imports, components,
//!    snapshots, trap classification);
//! 3. the runtimes (sandboxed wasm, native Rust, native RustPython,
//!    CPython), each implementing [`Node`];
//! 4. [`factory`]: [`NodeSpec`] to a running node, and which [`Runtime`]
//!    accepts which source;
//! 5. [`manifest`] and [`pipeline`]: a checked graph of nodes, and running it;
//! 6. [`tools`]: compat, types, bake; the `nodehost` CLI sits on top.

#![warn(missing_docs)]

pub mod error;
pub mod factory;
mod log;
pub mod manifest;
mod node;
pub mod package;
pub mod pipeline;
pub mod policy;
mod runtime;
pub mod sandbox;
pub mod tools;
pub mod value;

pub use error::{Error, GuestError, GuestErrorKind, Limit, NodeFailure, SandboxSetup, Stage};
pub use factory::{NodeSource, NodeSpec, Runtime, SourceKind};
pub use manifest::Pipeline;
pub use node::{CancelHandle, ItemAnswer, NODE_THREAD_STACK, Node, on_node_thread};
pub use nodehost_sdk::{ArrayData, AudioFrame, BigInt, Map, NumArray, Value, num_bigint};
pub use pipeline::stats::{NodeStats, RunReport};
pub use pipeline::{Output, run_collect, run_pipeline, run_with_report};
pub use policy::SandboxPolicy;
pub use sandbox::{EngineConfig, WasmEngine};
