#!/usr/bin/env bash
# Set up emurl on a fresh machine: .venv with everything installed, and the Atari ROMs
# that ale-py bundles imported. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip
# torch first and exactly this version: the CPU build on these machines. Anything that
# lets pip pick torch itself pulls gigabytes of CUDA packages.
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e ".[test,ray]"
.venv/bin/emurl roms import --from ale-py >/dev/null
echo "emurl is set up: $(.venv/bin/emurl games list --playable | wc -l) games playable"
