#!/usr/bin/env bash
# ks bench and PyKeOps 2.3 (CPU) on the same machine, one after the other, for side-by-side ratios.
# Needs a Python with pykeops: python3 -m venv /tmp/keops-venv && /tmp/keops-venv/bin/pip install pykeops==2.3 numpy
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${KEOPS_PYTHON:-/tmp/keops-venv/bin/python}
swift build -c release >/dev/null
echo "== ks bench ($(date -u +%FT%TZ), $(nproc) cores)"
.build/release/ks bench "$@"
echo "== PyKeOps 2.3, backend=CPU"
"$PY" scripts/bench-pykeops.py --sizes 10000 100000 --repeats 1
