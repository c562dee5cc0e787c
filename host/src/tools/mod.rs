//! Commands built on the layers below: the standard-library compatibility
//! matrix ([`compat`]), listing node types ([`types`]), baking a node
//! into a pre-initialized component ([`bake`]) and locking a Python node's
//! dependencies ([`lock`]).

pub mod bake;
pub mod compat;
pub mod lock;
pub mod types;
