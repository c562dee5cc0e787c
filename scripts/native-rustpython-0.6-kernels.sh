#!/usr/bin/env bash
# Times the report's pure-Python kernels on RustPython 0.6 linked natively
# (guest-python/component/examples/kernels.rs): the like-for-like baseline
# for the sandbox, which runs 0.6 while the main workspace's
# `native-rustpython` runtime is 0.5 (README, "Versions"). Builds with the
# same flags as the sandbox's guest build, in target/native-rustpython-0.6.
# Usage: scripts/native-rustpython-0.6-kernels.sh [seconds per kernel] [kernel]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/guest-python/component"
# The guest's rustpython-vm (with nodehost's interruption checkpoint, which
# a native build compiles in but never sets) is written by the host's build.
if [ ! -f patched/rustpython-vm/Cargo.toml ]; then
    echo "guest-python/component/patched/ is missing: build the host first (cargo build)" >&2
    exit 1
fi
RUSTC_BOOTSTRAP=1 \
RUSTFLAGS="-Zcrate-attr=feature(assert_matches)" \
CARGO_TARGET_DIR="$root/target/native-rustpython-0.6" \
    cargo run --release --ignore-rust-version --example kernels -- "${1:-1}" ${2:+"$2"}
