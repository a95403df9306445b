#!/usr/bin/env bash
# The MPI check (CI runs it after the tests): ks under `mpirun --oversubscribe -np 2` and `-np 3`
# (uneven row blocks) against one process.
#   1. every conformance case: the saved results of each Genred are the one-process bytes, exactly;
#      KernelSolve results agree to 1000 ulps (OpenBLAS's thread count, which follows the cores a
#      rank is bound to, changes the dense steps' rounding), and all still match PyKeOps' outputs;
#   2. docs/examples/distributed.ks (Gaussian Genred, ArgKMin, KernelSolve) prints exactly what one
#      process prints, under mpirun unchanged; the solver summary says "on N ranks";
#   3. --verbose: every rank reports its own rows;
#   4. ranks that diverge (different data, one rank failing alone, one finishing early) stop with
#      a clear error and a non-zero status, within a timeout (no hang); a killed rank stops the job.
# Usage: scripts/mpi-check.sh [KS]   (default .build/release/ks, else .build/debug/ks)
set -euo pipefail
cd "$(dirname "$0")/.."
ks=${1:-}
if [ -z "$ks" ]; then
  if [ -x .build/release/ks ]; then ks=.build/release/ks; else ks=.build/debug/ks; fi
fi
ks=$(realpath "$ks")
if ! command -v mpirun >/dev/null; then
  echo "mpi-check: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)" >&2
  exit 1
fi
# Containers often run as root; Open MPI refuses that without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() { local n=$1; shift; timeout 300 mpirun --oversubscribe -np "$n" "$@"; }
work=$(mktemp -d /tmp/ks-mpi-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0

echo "== 1. conformance cases: 1 process, then mpirun -np 2 and -np 3"
conformance=../shared/conformance
if [ -d "$conformance" ]; then
  for n in 1 2 3; do
    if [ "$n" = 1 ]; then cmd="$ks"; else cmd="timeout 300 mpirun --oversubscribe -np $n $ks"; fi
    log=$work/conformance-$n.log
    if ! "$conformance/run" --ks "$cmd" --cases "$conformance/cases" --keep > "$log" 2>&1; then
      echo "conformance with $n process(es) failed:"; tail -20 "$log"; fail=1
    fi
    tail -2 "$log" | sed "s/^/  np=$n: /"
    # --keep prints where the outputs are; move them aside under a fixed name.
    dir=$(sed -n 's/^scripts and outputs kept in //p' "$log")
    mv "$dir" "$work/out-$n"
  done
  python3 - "$work" "$conformance/cases" <<'PY' || fail=1
import json, os, sys
import numpy as np
work, cases = sys.argv[1], sys.argv[2]
kinds = {}
for name in os.listdir(cases):
    p = os.path.join(cases, name, "case.json")
    if os.path.exists(p):
        c = json.load(open(p))
        kinds[c["name"]] = c
bad = 0
counted = {"genred": 0, "solve": 0}
worst = [0.0]
for f in sorted(os.listdir(os.path.join(work, "out-1"))):
    if not f.endswith(".npy") or ".out" not in f:
        continue
    case = kinds[f.split(".out")[0]]
    one = np.load(os.path.join(work, "out-1", f))
    for n in (2, 3):
        other = np.load(os.path.join(work, "out-%d" % n, f))
        if case["kind"] == "genred":
            same = one.dtype == other.dtype and one.shape == other.shape and one.tobytes() == other.tobytes()
            why = "not bitwise equal"
        else:
            # The iterates are the same on every rank count (the operator is bitwise equal), but the
            # dense steps (Nystrom factor, Cholesky) go through OpenBLAS, whose thread count follows
            # the cores each rank is bound to: allow 1000 ulps of relative difference.
            tol = 1000 * np.finfo(one.dtype).eps
            rel = np.linalg.norm(other.astype(float) - one.astype(float)) / max(np.linalg.norm(one.astype(float)), 1e-300)
            worst[0] = max(worst[0], rel)
            same = one.shape == other.shape and rel <= tol
            why = "relative difference %.3g > %.3g" % (rel, tol)
        if not same:
            print("  DIFFER %s np=%d: %s" % (f, n, why))
            bad += 1
    counted["genred" if case["kind"] == "genred" else "solve"] += 1
print("  %d Genred outputs bitwise equal, %d KernelSolve outputs within 1000 eps (largest relative difference %.2g), at np=2 and np=3; %d differ"
      % (counted["genred"], counted["solve"], worst[0], bad))
sys.exit(1 if bad else 0)
PY
else
  echo "  (no $conformance: skipped)"
fi

echo "== 2. docs/examples/distributed.ks: 1 process against mpirun -np 2 and -np 3"
example=docs/examples/distributed.ks
"$ks" run "$example" > "$work/ex-1.out" 2> "$work/ex-1.err"
for n in 2 3; do
  mpi "$n" "$ks" run "$example" > "$work/ex-$n.out" 2> "$work/ex-$n.err"
  if cmp -s "$work/ex-1.out" "$work/ex-$n.out"; then
    echo "  np=$n: stdout identical ($(wc -l < "$work/ex-1.out") lines)"
  else
    echo "  np=$n: stdout DIFFERS:"; diff "$work/ex-1.out" "$work/ex-$n.out" | head -20; fail=1
  fi
  if ! grep -q "converged in .* on $n ranks" "$work/ex-$n.err"; then
    echo "  np=$n: no 'on $n ranks' in the solver summary:"; cat "$work/ex-$n.err"; fail=1
  fi
done

echo "== 3. --verbose: each rank reports its rows"
mpi 3 "$ks" run "$example" --verbose > /dev/null 2> "$work/verbose.err"
for r in 0 1 2; do
  if ! grep -q "^ks: rank $r of 3, .*rows .* of 2000 " "$work/verbose.err"; then
    echo "  rank $r did not report its rows:"; cat "$work/verbose.err"; fail=1
  fi
done
grep "reduction of Mult(Exp(Minus(SqDist(x,y))),b) (docs/examples/distributed.ks:11)" "$work/verbose.err" | sort | sed 's/, [0-9.]* s$//; s/^/  /'

echo "== 4. diverging ranks stop with a clear error (mpirun MPMD: rank 1 runs another script)"
cat > "$work/a.ks" <<'KS'
import numpy as np
x = np.random.randn(100, 3)
g = Genred("SqDist(x, y)", ["x = Vi(3)", "y = Vj(3)"], reduction_op="Min", axis=1)
print(g(x, x).sum())
KS
sed 's/randn(100, 3)$/randn(100, 3) * 2/' "$work/a.ks" > "$work/data.ks"
sed 's/^x = np.random.randn(100, 3)$/x = np.load("no-such-file.npy")/' "$work/a.ks" > "$work/fail.ks"
head -2 "$work/a.ks" > "$work/short.ks"
expect() {  # name, pattern
  local out=$work/div-$1.err rc=0
  (cd "$work" && timeout 60 mpirun --oversubscribe -np 1 "$ks" run a.ks : -np 1 "$ks" run "$1.ks") > /dev/null 2> "$out" || rc=$?
  if [ "$rc" = 0 ] || [ "$rc" = 124 ] || ! grep -q "$2" "$out"; then
    echo "  $1: expected a non-zero exit (not a timeout) and '$2'; got status $rc:"; cat "$out"; fail=1
  else
    echo "  $1: status $rc; $(grep -m1 "$2" "$out")"
  fi
}
expect data "rank 1's 'x' (argument 0) of Min reduction of SqDist(x,y) (a.ks:4) differs from rank 0's"
expect fail "rank 1 stopped on an error at fail.ks:2 (its error follows)"
expect short "rank 1 finished the script while rank 0 is at Min reduction"
grep -q "^ks: rank 1: fail.ks:2:13: error: cannot open 'no-such-file.npy'" "$work/div-fail.err" \
  || { echo "  fail: rank 1 did not print its own error"; fail=1; }

# A rank killed in the middle of a loop of reductions: mpirun stops the job (no hang).
cat > "$work/long.ks" <<'KS'
import numpy as np
x = np.random.randn(3000, 3)
g = Genred("SqDist(x, y)", ["x = Vi(3)", "y = Vj(3)"], reduction_op="Min", axis=1)
for k in range(1000000):
    s = g(x, x).sum()
KS
rc=0
start=$(date +%s)
(cd "$work" && timeout 120 mpirun --oversubscribe -np 1 "$ks" run long.ks : -np 1 timeout -s KILL 3 "$ks" run long.ks) \
  > /dev/null 2> "$work/dead.err" || rc=$?
if [ "$rc" = 0 ] || [ "$rc" = 124 ] || ! grep -q "exited on signal 9" "$work/dead.err"; then
  echo "  killed rank: expected mpirun to stop the job; got status $rc:"; cat "$work/dead.err"; fail=1
else
  echo "  killed rank: status $rc after $(( $(date +%s) - start )) s (rank 1 killed at 3 s); $(grep -m1 "exited on signal 9" "$work/dead.err")"
fi

if [ "$fail" != 0 ]; then echo "mpi-check: FAILED"; exit 1; fi
echo "mpi-check: all passed"
