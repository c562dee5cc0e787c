#!/usr/bin/env bash
# Installs what building and testing nodehost needs beyond cargo itself:
# the wasm32-wasip2 standard library (the guest components), and checks that
# CPython 3 with its shared library is there (the `cpython` baseline links it).
set -euo pipefail

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi

python=${PYO3_PYTHON:-python3}
if ! "$python" -c 'import sysconfig, sys; sys.exit(0 if sysconfig.get_config_var("Py_ENABLE_SHARED") else 1)'; then
    echo "error: $python has no shared libpython; install one (e.g. Debian's libpython3-dev)," >&2
    echo "       or build without the CPython baseline: cargo test --workspace --no-default-features --features native-rustpython" >&2
    exit 1
fi

# The voice example's recognizer: pocketsphinx in examples/voice/.venv.
"$(dirname "$0")/setup-voice.sh"
