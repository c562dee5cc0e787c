#!/usr/bin/env bash
# The voice example's recognizer runs on trusted CPython with pocketsphinx
# (a native extension, which carries its US English model and dictionary
# in the wheel) from a virtual environment: examples/voice/.venv. Idempotent;
# scripts/setup.sh runs it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/examples/voice/.venv"
python=${PYO3_PYTHON:-python3}
version=5.1.1

if [[ -x $venv/bin/python ]] && "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('pocketsphinx') != '$version')" 2>/dev/null; then
    exit 0
fi
echo "making $venv with pocketsphinx $version" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet "pocketsphinx==$version"
