#!/usr/bin/env bash
# Runs the three fuzz targets (fuzz/) with libFuzzer, each for SECONDS
# (default 60), starting from its corpus; new inputs go to a scratch
# directory, so the checked-in corpus only grows by hand. Installs
# cargo-fuzz the first time. The ordinary tests run the same checks over
# the corpus (host/tests/fuzz_corpus.rs); this searches for new failures.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(manifest value_roundtrip hostile_outputs)

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for name in "${targets[@]}"; do
    mkdir -p "$scratch/$name"
    # -s none: no sanitizer, so stable Rust builds it.
    cargo fuzz run -s none "$name" "$scratch/$name" "corpus/$name" -- -max_total_time="$seconds"
done
