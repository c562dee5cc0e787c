#!/usr/bin/env bash
# Builds the CPython guest (`wasm-cpython`): guest-cpython/app.py with the
# shared helper module guest-python/python/nodehost.py, as a component of the
# `node-component` world (wit/node.wit), with componentize-py.
#
#   scripts/build-wasm-cpython.sh          build when an input changed
#   scripts/build-wasm-cpython.sh --force  build anyway
#
# componentize-py is installed with pip into a venv under target/ the first
# time. The component is target/wasm-cpython/nodehost-cpython.wasm, or
# $WASM_CPYTHON_OUT when set.
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/target/componentize-py-venv"
out=${WASM_CPYTHON_OUT:-$root/target/wasm-cpython/nodehost-cpython.wasm}
python=${PYTHON:-python3}
force=0
[[ ${1:-} == --force ]] && force=1

# The inputs: the WIT package, the guest's Python files and the helper
# modules (not check.py, which only tests the component from outside).
inputs=("$root"/wit/*.wit "$root"/guest-cpython/*.py "$root"/guest-python/python/*.py "$0")

# componentize-py, pinned, in its own venv.
componentize="$venv/bin/componentize-py"
if ! { [[ -x $componentize ]] && "$componentize" --version 2>/dev/null | grep -qx "componentize-py $COMPONENTIZE_PY_VERSION"; }; then
    if [[ ! -x $venv/bin/python ]]; then
        if ! "$python" -m venv "$venv" 2>/dev/null; then
            rm -rf "$venv"
            echo "error: '$python -m venv' failed: install Python's venv module" >&2
            echo "       (Debian/Ubuntu: apt-get install python3-venv), or set PYTHON to a Python 3 that has it" >&2
            exit 1
        fi
    fi
    echo "installing componentize-py $COMPONENTIZE_PY_VERSION into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION"
fi

# The IANA tz database for `zoneinfo`, as the RustPython guest has it: the
# tzdata wheel pinned in guest-python/build_tzdata.rs (one pin for both),
# checked by SHA-256 ($NODEHOST_TZDATA_WHEEL names a local copy). Without it
# the build goes on and zoneinfo finds no zones.
tz_rs="$root/guest-python/build_tzdata.rs"
tz_url=$(sed -n 's/^const URL: &str = "\(.*\)";$/\1/p' "$tz_rs")
tz_sha=$(sed -n 's/^const SHA256: &str = "\(.*\)";$/\1/p' "$tz_rs")
tz_wheel="$(dirname "$out")/tzdata.whl"
tz_ok() { [[ -s $1 ]] && [[ $(sha256sum "$1" | cut -d' ' -f1) == "$tz_sha" ]]; }
mkdir -p "$(dirname "$out")"
if ! tz_ok "$tz_wheel"; then
    if [[ -n ${NODEHOST_TZDATA_WHEEL:-} ]] && tz_ok "$NODEHOST_TZDATA_WHEEL"; then
        cp "$NODEHOST_TZDATA_WHEEL" "$tz_wheel"
    elif curl --fail --silent --show-error --location --retry 2 --max-time 120 --output "$tz_wheel.download" "$tz_url" \
        && tz_ok "$tz_wheel.download"; then
        mv "$tz_wheel.download" "$tz_wheel"
    else
        rm -f "$tz_wheel.download"
        echo "warning: no tzdata wheel (zoneinfo in wasm-cpython will find no zones); set NODEHOST_TZDATA_WHEEL to a copy of $tz_url" >&2
    fi
fi
inputs+=("$tz_rs")
[[ -f $tz_wheel ]] && inputs+=("$tz_wheel")

# Up to date: the component is newer than every input (componentize-py too).
inputs+=("$venv/lib/python"*/site-packages/componentize_py/*.so)
if [[ $force == 0 && -f $out ]]; then
    stale=0
    for f in "${inputs[@]}"; do
        if [[ $f -nt $out ]]; then
            stale=1
            break
        fi
    done
    if [[ $stale == 0 ]]; then
        echo "$out is up to date"
        exit 0
    fi
fi

# Build from a staging copy of the guest's modules, so nothing else in
# guest-cpython/ (check.py, caches) is bundled into the component.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for f in "$root"/guest-cpython/*.py; do
    [[ $(basename "$f") == check.py ]] || cp "$f" "$stage/"
done
# Read into the snapshot at build time (_nodehost.tzdata_wheel).
if tz_ok "$tz_wheel"; then
    cp "$tz_wheel" "$stage/_nodehost_tzdata.whl"
fi
mkdir -p "$(dirname "$out")"

start=$(date +%s)
# Without VIRTUAL_ENV: componentize-py would add the venv's site-packages
# (componentize-py itself) to the app's path; the guest needs only these.
(
    cd "$stage"
    env -u VIRTUAL_ENV "$componentize" \
        -d "$root/wit" -w node-component \
        componentize app \
        -p "$stage" -p "$root/guest-python/python" \
        -o "$out.tmp"
)
mv "$out.tmp" "$out"
echo "built $out ($(stat -c %s "$out") bytes) in $(( $(date +%s) - start )) s"
