//! The built-in Rust nodes. Each node is one file implementing
//! [`nodehost_sdk::Node`]; the last line of this file lists them all, which
//! makes this crate a Wasm component (for `wasm32-wasip2`) and gives the host
//! [`node_registry`] to link them natively.

mod accumulator;
mod calculator;
mod filter;
mod gain;
mod json;
mod pass_through;
mod resample;
mod rms;
mod text;

pub use accumulator::Accumulator;
pub use calculator::Calculator;
pub use filter::Filter;
pub use gain::Gain;
pub use json::JsonLine;
pub use pass_through::PassThrough;
pub use resample::Resample;
pub use rms::Rms;
pub use text::Text;

nodehost_sdk::export_nodes!(PassThrough, Calculator, Filter, Accumulator, Gain, Rms, Text, Resample, JsonLine);
