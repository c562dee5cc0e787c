//! The host's integration tests, as one test binary: real guest components
//! under the real engine, real interpreters, the real CLI.
//!
//! One binary instead of one per file: each links wasmtime, cranelift,
//! RustPython, PyO3 and the embedded guests (about 150 MB), so a binary
//! per file cost CI gigabytes of disk and minutes of linking. Tests that
//! need a process of their own (environment variables, resident-memory
//! measurements) run again in a child process of this binary, alone
//! (`common::in_child_process`).
//!
//! Run one file's tests with its module name as the filter, for example
//! `cargo test -p nodehost --test integration snapshots::`.

mod common;

mod auto;
mod batches;
mod bounds;
mod corpus;
mod fuzz_corpus;
mod hardening;
mod hostile;
mod packages;
mod pipelines;
mod policy;
mod python_conversion;
mod python_nodes;
mod real_python;
mod recycling;
mod rust_nodes;
mod snapshots;
mod soak;
mod stdlib;
mod venv;
mod voice;
mod wasm_cpython;
