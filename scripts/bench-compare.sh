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
echo "== reductions, ks vs PyKeOps alternating (float32; ratio = PyKeOps time / ks time)"
for w in ${KS_WORKLOADS:-min3 knn3 knn64 lse3 ssmw3 gauss3 gauss64 rows100 laplace3 cauchy3}; do
  ks_t=() ko_t=()
  for rep in 1 2 3; do
    ko_t+=("$("$PY" scripts/bench-pykeops.py --workload "$w" --repeats 1 | awk '/^workload/ {print $4}')")
    line=$(.build/release/ks bench --workload "$w" --repeats 1)
    ks_t+=("$(echo "$line" | awk '{ for (k = 1; k <= NF; k++) if ($k ~ /^(s|ms|us)$/) { v = $(k-1); u = $k } } END { print (u == "ms" ? v / 1e3 : (u == "us" ? v / 1e6 : v)) }')")
  done
  python3 - "$w" "${ks_t[@]}" "${ko_t[@]}" <<'PY'
import statistics, sys
w, vals = sys.argv[1], [float(v) for v in sys.argv[2:]]
ks, ko = vals[:len(vals) // 2], vals[len(vals) // 2:]
print(f"{w:6s} ks {statistics.median(ks):8.4f} s   PyKeOps {statistics.median(ko):8.4f} s   ratio {statistics.median(ko) / statistics.median(ks):5.1f}x")
PY
done
