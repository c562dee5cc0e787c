//! libFuzzer's entry for `cases/manifest.rs`, which the host's tests also
//! run over this target's corpus (`host/tests/fuzz_corpus.rs`).
#![no_main]

#[path = "../cases/manifest.rs"]
mod case;

libfuzzer_sys::fuzz_target!(|data: &[u8]| case::run(data));
