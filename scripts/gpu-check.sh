#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU and no Swift toolchain. It exits 0 only when every
# part ran and every result was right.
#
# On the development machine, build the bundle (self-contained ks + conformance cases):
#   scripts/build-gpu-bundle.sh            -> gpu-bundle/ (ignored by git; carry it with the tree)
# On the GPU machine, from the repository root:
#   scripts/gpu-check.sh [quick|conformance|bench|all]      (default: all; about 2-4 minutes)
#
# 0. preflight: one small reduction on backend="GPU". Without a usable GPU (no driver, no device,
#    no NVRTC for the driver) the check prints one line, "gpu-check: FAIL: no usable GPU: <why>",
#    and exits 1.
# 1. quick: GPU_1D, GPU_2D and GPU against backend="reference" (float32 and float64; Sum,
#    LogSumExp, axis=0, Min, ArgMin, ArgKMin, dense and with ranges=), and a large-M GPU_1D case
#    (several launches).
# 2. conformance: every conformance case of gpu-bundle/conformance with backend="GPU_1D", then
#    with backend="GPU_2D".
# 3. bench: `ks bench --gpu`: the Gaussian sum at N = 1e4, 1e5, 1e6 (D=3, float32 and float64,
#    GPU_1D and GPU_2D), each result checked, and a table beside KeOps' published GPU times.
# Every ks call runs under `timeout`; the whole check keeps to GPU_CHECK_BUDGET seconds (default
# 360): a part that would start after that fails as "not run (time budget spent)".
#
# Exit status: 0 all passed; 1 a wrong result, a failed or timed-out call, or no usable GPU (the
# failing cases are named, and listed again on the last line); 2 usage, or no ks binary.
# Environment: KS (a ks binary instead of gpu-bundle/ks.gz), GPU_BUNDLE (default gpu-bundle),
# NVRTC_LIBRARY (a libnvrtc to use), GPU_CHECK_BUDGET (seconds).
set -u
cd "$(dirname "$0")/.."
what=${1:-all}
case "$what" in
  quick | conformance | bench | all) ;;
  *)
    echo "usage: scripts/gpu-check.sh [quick|conformance|bench|all]" >&2
    exit 2
    ;;
esac
bundle=${GPU_BUNDLE:-gpu-bundle}
budget=${GPU_CHECK_BUDGET:-360}
start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/ks-gpu-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
export KS_CACHE_DIR=${KS_CACHE_DIR:-$work/cache}  # a fresh cache: every kernel is compiled here

if [ -z "${KS:-}" ]; then
  if [ -f "$bundle/ks.gz" ]; then
    gzip -dc "$bundle/ks.gz" >"$work/ks" && chmod +x "$work/ks" && KS=$work/ks
  elif [ -x .build/release/ks ]; then
    KS=.build/release/ks
  fi
fi
if [ -z "${KS:-}" ] || [ ! -x "$KS" ]; then
  echo "gpu-check: FAIL: no ks binary (no $bundle/ks.gz: build it with scripts/build-gpu-bundle.sh, or set KS)" >&2
  exit 2
fi
KS="$(cd "$(dirname "$KS")" && pwd)/$(basename "$KS")"

failures=()
failed() {
  failures+=("$1")
  printf 'FAIL: %s\n' "$1"
}
section() { printf '\n== %s\n' "$*"; }
left() { echo $((budget - ($(date +%s) - start))); }
# kst SECONDS ARGS...: ks under timeout (at most the budget left; 124/137 mean it ran out).
kst() {
  local t=$1 l
  shift
  l=$(left)
  [ "$l" -lt "$t" ] && t=$l
  [ "$t" -lt 1 ] && return 124
  timeout -k 5 "$t" "$KS" "$@"
}
why() { case $1 in 124 | 137) echo "timed out" ;; *) echo "exit $1" ;; esac; }
# The message of the first `error:` line in a ks output, else the last line.
first_error() { grep -m1 'error:' | sed 's/^[^ ]*:[0-9]*:[0-9]*: error: //' || true; }

# --- 0. Preflight: can ks use a GPU at all? ----------------------------------------------------
cat >"$work/preflight.ks" <<'EOF'
import numpy as np
g = Genred("SqDist(x,y)", ["x = Vi(1)", "y = Vj(1)"], axis=1)
print("gpu ok", g(np.ones((3, 1)), np.zeros((2, 1)), backend="GPU").ravel().tolist())
EOF
out=$(kst 60 run "$work/preflight.ks" 2>&1)
rc=$?
if [ $rc != 0 ]; then
  msg=$(printf '%s\n' "$out" | first_error)
  echo "gpu-check: FAIL: no usable GPU: ${msg:-ks $(why $rc)}"
  exit 1
fi
if [ "$out" != "gpu ok [2.0, 2.0, 2.0]" ]; then
  echo "gpu-check: FAIL: the first GPU reduction is wrong: $(printf '%s' "$out" | tr '\n' ' ')"
  exit 1
fi

section "machine"
uname -srm
if command -v nvidia-smi >/dev/null 2>&1; then
  timeout 20 nvidia-smi --query-gpu=index,name,driver_version,compute_cap,memory.total,clocks.max.sm --format=csv
else
  echo "nvidia-smi: not found"
fi
echo "ks: $KS ($(stat -c %s "$KS") bytes)"
ldd "$KS" 2>/dev/null | sed 's/^/  /'
ldconfig -p 2>/dev/null | grep -E 'libcuda\.so\.1|libnvrtc' | sed 's/^/  /' || true
echo "NVRTC_LIBRARY=${NVRTC_LIBRARY:-<unset>}"

# --- 1. Quick check: GPU_1D, GPU_2D and GPU against the reference engine. ----------------------
quick_check() {
  section "quick check (GPU_1D, GPU_2D, GPU vs reference; large-M GPU_1D)"
  cat >"$work/quick.ks" <<'EOF'
import numpy as np
np.random.seed(3)
fails = []
# Returns [label] when not ok (ks' lists do not propagate appends made inside a function).
def report(label, ok, detail):
    print(label, detail, "ok" if ok else "FAIL")
    return [] if ok else [label]
for dtype in ["float32", "float64"]:
    x = np.random.rand(1000, 3).astype(dtype)
    y = np.random.rand(3001, 3).astype(dtype)
    b = np.random.rand(3001, 2).astype(dtype)
    tol = 1e-4 if dtype == "float32" else 1e-10
    cases = [
        ("Sum", Genred("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"], axis=1)),
        ("LogSumExp", Genred("-SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"], reduction_op="LogSumExp", formula2="b", axis=1)),
        ("Sum axis=0", Genred("Exp(-SqDist(x,y))*b", ["x = Vj(3)", "y = Vi(3)", "b = Vi(2)"], axis=0)),
        ("Min", Genred("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"], reduction_op="Min", axis=1)),
    ]
    for name, g in cases:
        ref = g(x, y, b, backend="reference")
        for be in ["GPU_1D", "GPU_2D", "GPU"]:
            out = g(x, y, b, backend=be)
            err = float((np.abs(out - ref) / (np.abs(ref) + 1e-3)).max())
            fails = fails + report("quick " + dtype + " " + name + " " + be, err < tol, "max rel err %.3g" % err)
    for op in ["ArgMin", "ArgKMin"]:
        kw = {"opt_arg": 5} if op == "ArgKMin" else {}
        g = Genred("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"], reduction_op=op, axis=1, **kw)
        ref = g(x, y, backend="reference")
        for be in ["GPU_1D", "GPU_2D"]:
            same = bool((g(x, y, backend=be) == ref).all())
            fails = fails + report("quick " + dtype + " " + op + " " + be, same, "identical to reference" if same else "differs")
    # ranges= (block-sparse, ks_reduce_ranges): blocks of rows, overlapping and empty intervals,
    # an empty block, rows of no block (the initial value); GPU_2D must run it too (as 1D).
    rng = (np.array([[0, 300], [350, 900], [900, 900]], dtype="int64"), np.array([2, 4, 4], dtype="int64"),
           np.array([[0, 1500], [1000, 3001], [2000, 2000], [2000, 2500]], dtype="int64"),
           np.array([[0, 700]], dtype="int64"), np.array([1], dtype="int64"), np.array([[100, 2500]], dtype="int64"))
    for name, g in cases:
        ref = g(x, y, b, backend="reference", ranges=rng)
        for be in ["GPU_1D", "GPU_2D", "GPU"]:
            out = g(x, y, b, backend=be, ranges=rng)
            fin = np.isfinite(ref)
            same_inf = bool((np.isfinite(out) == fin).all())
            err = float((np.abs(out[fin] - ref[fin]) / (np.abs(ref[fin]) + 1e-3)).max())
            fails = fails + report("ranges " + dtype + " " + name + " " + be, same_inf and err < tol, "max rel err %.3g" % err)
    g = Genred("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"], reduction_op="ArgKMin", axis=1, opt_arg=5)
    ref = g(x, y, backend="reference", ranges=rng)
    for be in ["GPU_1D", "GPU_2D"]:
        same = bool((g(x, y, backend=be, ranges=rng) == ref).all())
        fails = fails + report("ranges " + dtype + " ArgKMin " + be, same, "identical to reference" if same else "differs")
# Large M: the 1D scheme runs several launches (>= 4 waves each); rows from every part are checked.
m = 2000000
for dtype in ["float32", "float64"]:
    x = np.random.rand(m, 3).astype(dtype)
    y = np.random.rand(2000, 3).astype(dtype)
    b = np.random.rand(2000, 1).astype(dtype)
    g = Genred("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], axis=1)
    out = g(x, y, b, backend="GPU_1D")
    idx = np.concatenate([np.arange(64), np.arange(m // 3, m // 3 + 64), np.arange(m // 2, m // 2 + 64), np.arange(m - 64, m)])
    ref = g(x[idx], y, b, backend="reference")
    err = float((np.abs(out[idx] - ref) / np.abs(ref)).max())
    tol = 1e-5 if dtype == "float32" else 1e-12
    fails = fails + report("quick large-M " + dtype + " GPU_1D (M=2e6, N=2000)", out.shape == (m, 1) and err < tol, "max rel err %.3g" % err)
print("quick check:", "PASS" if len(fails) == 0 else "FAIL")
if len(fails) > 0:
    raise AssertionError("quick check failed: " + "; ".join(fails))
EOF
  kst 120 run "$work/quick.ks" >"$work/quick.out" 2>&1
  local rc=$?
  cat "$work/quick.out"
  if [ $rc != 0 ]; then
    local names
    names=$(grep ' FAIL$' "$work/quick.out" | grep -v '^quick check:' | sed 's/ max rel err.*//; s/ identical.*//; s/ differs.*//' | paste -sd ';' -)
    failed "quick check ($(why $rc)): ${names:-$(first_error <"$work/quick.out")}"
  fi
}

# --- 2. The conformance cases, on GPU_1D and on GPU_2D. -----------------------------------------
conformance() {
  local dir=$bundle/conformance
  if [ ! -d "$dir" ]; then
    section "conformance"
    failed "conformance: no cases at $dir (build the bundle with scripts/build-gpu-bundle.sh)"
    return
  fi
  local be
  for be in GPU_1D GPU_2D; do
    section "conformance, backend=\"$be\""
    local passed=0 failed_here=0 case name out rc
    for case in "$dir"/*/case.ks; do
      name=$(basename "$(dirname "$case")")
      if [ "$(left)" -lt 10 ]; then
        failed "conformance $be $name: not run (time budget spent)"
        failed_here=$((failed_here + 1))
        continue
      fi
      sed "s/@BACKEND@/$be/g" "$case" >"$(dirname "$case")/.run-$be.ks"
      out=$(cd "$(dirname "$case")" && kst 90 run ".run-$be.ks" 2>&1)
      rc=$?
      rm -f "$(dirname "$case")/.run-$be.ks"
      if [ $rc = 0 ]; then
        passed=$((passed + 1))
      else
        failed_here=$((failed_here + 1))
        local msg
        msg=$(printf '%s\n' "$out" | first_error)
        failed "conformance $be $name: ${msg:-$(why $rc)}"
      fi
    done
    echo "conformance $be: $passed passed, $failed_here failed"
  done
}

# --- 3. The Gaussian-sum benchmark, every result checked. ---------------------------------------
bench() {
  section "benchmark: Exp(-SqDist(x,y))*b, D=3, M=N (ks bench --gpu)"
  kst 240 bench --gpu >"$work/bench.out" 2>&1
  local rc=$?
  cat "$work/bench.out"
  if [ $rc != 0 ]; then
    local lines
    lines=$(grep -E 'FAIL|unavailable' "$work/bench.out" | grep -v '^gpu benchmark:' | sed 's/  */ /g' | paste -sd ';' -)
    failed "benchmark ($(why $rc)): ${lines:-see above}"
  fi
}

case "$what" in
  quick) quick_check ;;
  conformance) conformance ;;
  bench) bench ;;
  all)
    quick_check
    conformance
    bench
    ;;
esac

section "gpu-check: $(($(date +%s) - start)) s"
if [ ${#failures[@]} = 0 ]; then
  echo "gpu-check: PASS"
  exit 0
fi
echo "gpu-check: FAIL (${#failures[@]}): $(printf '%s; ' "${failures[@]}" | sed 's/; $//')"
exit 1
