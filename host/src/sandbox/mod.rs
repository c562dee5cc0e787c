//! The sandbox: a thin layer that narrows wasmtime to what a node needs.
//!
//! - `engine`: the wasmtime engines (one per kind of compiled code), the
//!   linker of node imports, and compiled components kept in memory and in
//!   the sealed on-disk `cache`;
//! - `store`: the data of one node's store, its grants, memory limit and
//!   deadlines; `scratch`: its private, bounded `/tmp`;
//! - `imports`: what a node may import, one file per interface;
//! - `component`: a loaded component and how an instance of it is made;
//! - `snapshot`: pre-initialized Python components;
//! - `call`: one call's limits and how its answer is taken; `batch`: a
//!   `process-many` call, many inputs in one call but a crossing each (the
//!   whole-list `process-batch` and `process-packed` are the node's, in
//!   [`crate::runtime::wasm`]); `staging`: packed
//!   bytes a component sends through its stdout;
//! - `trap`: what a failed call failed with;
//! - `codec`: the WIT value table, host side (`bindings` are the types).

pub(crate) mod batch;
pub(crate) mod bindings;
pub(crate) mod cache;
pub(crate) mod call;
pub(crate) mod codec;
pub(crate) mod component;
pub(crate) mod engine;
pub(crate) mod imports;
pub(crate) mod scratch;
pub(crate) mod snapshot;
pub(crate) mod staging;
pub(crate) mod store;
pub(crate) mod trap;

pub use component::LoadedComponent;
pub use engine::{DEFAULT_MAX_COMPONENT_BYTES, EngineConfig, EngineKind, WasmEngine, default_cache_dir};
pub use snapshot::{PRELOADED_MODULES, snapshot_python, snapshot_python_within};
pub use store::EPOCH_TICK;
