#!/bin/sh
# The documentation example (sessions/kernelsolve_doc_example.ks, unchanged) in ks, then numpy's
# dense solve of the same system (same x and b, saved by ks), one after the other; prints both
# times, their ratio, ks' mean residual and the relative difference from the dense solution.
# With REPS=n, runs the pair n times, alternating, each with the load average (`uptime`).
# Usage: [REPS=n] scripts/solve-vs-numpy.sh [path/to/ks]   (default .build/release/ks)
set -e
KS=${1:-.build/release/ks}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
ROOT=$(cd "$(dirname "$0")/.." && pwd)
{
  cat "$ROOT/sessions/kernelsolve_doc_example.ks" | sed 's/^a = K_inv(x, x, b, alpha = .1)$/import time\nt0 = time.time()\na = K_inv(x, x, b, alpha = .1)\nks_seconds = time.time() - t0/'
  echo "np.save('$DIR/x.npy', x)"
  echo "np.save('$DIR/b.npy', b)"
  echo "np.save('$DIR/a.npy', a)"
  echo "print('ks_seconds', ks_seconds)"
} > "$DIR/doc.ks"
for rep in $(seq "${REPS:-1}"); do
echo "run $rep: $(uptime)"
"$KS" "$DIR/doc.ks" > "$DIR/ks.out" 2> "$DIR/ks.err"
cat "$DIR/ks.err"
python3 - "$DIR" <<'PY'
import sys, time, numpy as np
d = sys.argv[1]
lines = open(d + "/ks.out").read().split("\n")
ks = float([l for l in lines if l.startswith("ks_seconds")][0].split()[1])
mean_residual = float(lines[1])
x, b, a = np.load(d + "/x.npy"), np.load(d + "/b.npy"), np.load(d + "/a.npy")
t = time.time()
sq = (x * x).sum(1)
K = np.exp(-np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0)))
K[np.diag_indices_from(K)] += .1
dense = np.linalg.solve(K, b)
npy = time.time() - t
print("ks KernelSolve      %.2f s" % ks)
print("numpy dense solve   %.2f s (kernel matrix + np.linalg.solve)" % npy)
print("speed-up            %.1fx" % (npy / ks))
print("ks mean residual    %.2e" % mean_residual)
print("max|a - dense| / max|dense| %.2e" % (np.abs(a - dense).max() / np.abs(dense).max()))
PY
done
