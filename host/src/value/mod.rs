//! Values in the formats a pipeline reads and writes: JSON lines
//! ([`json`]) and WAV audio ([`wav`]); and guest text made safe for a
//! terminal ([`text`]).

#[cfg(test)]
pub(crate) mod arbitrary;
pub mod json;
pub mod text;
pub mod wav;
