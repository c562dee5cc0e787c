//! The guest components, built by this crate's build script for
//! `wasm32-wasip2` in release mode (a nested `cargo rustc` with its own
//! target directory) and embedded here, so `cargo build`, `cargo test` and
//! `cargo bench` of the host need no extra step. `WASM_CPYTHON` is the path
//! of the componentize-py component the build script made (not embedded), or
//! why it could not.

/// A guest component embedded in the host.
#[derive(Debug, Clone, Copy)]
pub struct GuestComponent {
    /// A short name: `python`, `rust-nodes`, `example-rust-node`.
    pub name: &'static str,
    /// The component's bytes.
    pub bytes: &'static [u8],
    /// SHA-256 of `bytes`, computed at build time (the compiled-code cache key).
    pub sha256: [u8; 32],
}

// The components are statics, not constants: a constant's bytes would be
// copied into every crate that names it (the Python guest is 33 MB), and
// the test binaries, examples and programs grew by about 100 MB each.
include!(concat!(env!("OUT_DIR"), "/guests.rs"));
