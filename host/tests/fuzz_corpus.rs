//! The fuzz targets' checks (`fuzz/cases/`), run in the ordinary tests: every
//! input of each target's corpus (`fuzz/corpus/<target>/`, which keeps the
//! seeds and any input that once failed), then random inputs from proptest.
//! libFuzzer runs the same checks for as long as one wants
//! (`scripts/fuzz.sh`).

use std::path::Path;

use proptest::prelude::*;

#[path = "../../fuzz/cases/hostile_outputs.rs"]
mod hostile_outputs;
#[path = "../../fuzz/cases/manifest.rs"]
mod manifest;
#[path = "../../fuzz/cases/value_roundtrip.rs"]
mod value_roundtrip;

/// Runs `check` on every file of `fuzz/corpus/<target>`, naming the file that
/// fails; returns how many there were.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .collect();
    files.sort();
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if let Err(panic) = std::panic::catch_unwind(|| check(&data)) {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            panic!("{target} failed on {}: {message}", file.display());
        }
    }
    files.len()
}

#[test]
fn every_corpus_input_passes_its_fuzz_target() {
    assert!(replay("manifest", manifest::run) > 0);
    assert!(replay("value_roundtrip", value_roundtrip::run) > 0);
    assert!(replay("hostile_outputs", hostile_outputs::run) > 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_manifests_are_parsed_or_refused(text in ".{0,400}") {
        manifest::run(text.as_bytes());
    }

    #[test]
    fn random_values_cross_the_boundary_unchanged(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        value_roundtrip::run(&data);
    }

    #[test]
    fn random_scripts_of_a_hostile_node_fail_alone(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        hostile_outputs::run(&data);
    }
}
