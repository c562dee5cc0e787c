//! Commands built on the layers below: the standard-library compatibility
//! matrix ([`compat`]), listing node types ([`types`]) and baking a node
//! into a pre-initialized component ([`bake`]).

pub mod bake;
pub mod compat;
pub mod types;
