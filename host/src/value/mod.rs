//! Values in the formats a pipeline reads and writes: JSON lines
//! ([`json`]), WAV audio ([`wav`]) and raw PCM ([`pcm`]); and guest text
//! made safe for a terminal ([`text`]).

#[cfg(test)]
pub(crate) mod arbitrary;
pub mod json;
pub mod pcm;
pub mod text;
pub mod wav;
