//! libFuzzer's entry for `cases/value_roundtrip.rs`, which the host's tests also
//! run over this target's corpus (`host/tests/fuzz_corpus.rs`).
#![no_main]

#[path = "../cases/value_roundtrip.rs"]
mod case;

libfuzzer_sys::fuzz_target!(|data: &[u8]| case::run(data));
