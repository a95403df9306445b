#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU and no Swift toolchain.
#
# Build the self-contained binary first (on the development machine):
#   swift build -c release --static-swift-stdlib
# and bring .build/release/ks along (or set KS=/path/to/ks). Then, from the repository root:
#   scripts/gpu-check.sh [quick|conformance|bench|all]      (default: all)
#
# It prints the GPU and the CUDA libraries the engine can find, runs a built-in correctness check
# (GPU_1D and GPU_2D against backend="reference", float32 and float64, several reductions), the
# conformance suite with backend="GPU" when shared/conformance is present, and the Gaussian-sum
# benchmark (N = 1e4, 1e5, 1e6, D = 3, float32 and float64, GPU_1D and GPU_2D) in pairs per second.
#
# Environment: KS (the ks binary), NVRTC_LIBRARY (a libnvrtc to use instead of the engine's
# search), GPU_CHECK_BACKENDS (conformance backends, default "GPU GPU_2D").
set -u
cd "$(dirname "$0")/.."
what=${1:-all}
KS=${KS:-.build/release/ks}
status=0

section() { printf '\n== %s\n' "$*"; }
secs() { date +%s.%N; }

if [ ! -x "$KS" ]; then
  echo "gpu-check: no ks binary at $KS (build it with: swift build -c release --static-swift-stdlib)" >&2
  exit 2
fi

section "machine"
uname -srm
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,driver_version,compute_cap,memory.total,clocks.max.sm --format=csv
  nvidia-smi | sed -n '1,12p'
else
  echo "nvidia-smi: not found"
fi
echo "ks: $KS ($(stat -c %s "$KS" 2>/dev/null || echo '?') bytes)"
ldd "$KS" 2>/dev/null | sed 's/^/  /'

section "CUDA libraries"
ldconfig -p 2>/dev/null | grep -E 'libcuda\.so\.1|libnvrtc' | sed 's/^/  /' || true
ls -1 /usr/local/cuda*/lib64/libnvrtc.so* 2>/dev/null | sed 's/^/  /' || true
if [ -z "${NVRTC_LIBRARY:-}" ] && ! ldconfig -p 2>/dev/null | grep -q libnvrtc; then
  # Not on the loader path: the engine also searches $CUDA_HOME, /usr/local/cuda and pip's
  # nvidia-cuda-nvrtc wheels; report what a python on this machine has.
  for py in python3 python; do
    command -v $py >/dev/null 2>&1 || continue
    $py - <<'EOF' 2>/dev/null
import glob, site, sys
paths = site.getsitepackages() + [site.getusersitepackages()]
for p in paths:
    for f in glob.glob(p + "/nvidia/*/lib/libnvrtc.so.*"):
        print("  pip wheel:", f)
EOF
    break
  done
fi
echo "NVRTC_LIBRARY=${NVRTC_LIBRARY:-<unset>}"

# --- A built-in correctness check: GPU_1D and GPU_2D against the reference engine. -----------
quick_check() {
  section "quick check (GPU_1D, GPU_2D vs reference)"
  local dir
  dir=$(mktemp -d)
  cat >"$dir/check.ks" <<'EOF'
import numpy as np
np.random.seed(3)
worst = 0.0
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
            worst = max(worst, err / tol)
            print(dtype, name, be, "max rel err", err, "ok" if err < tol else "FAIL")
    for name, op in [("ArgMin", "ArgMin"), ("ArgKMin", "ArgKMin")]:
        kw = {"opt_arg": 5} if op == "ArgKMin" else {}
        g = Genred("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"], reduction_op=op, axis=1, **kw)
        ref = g(x, y, backend="reference")
        for be in ["GPU_1D", "GPU_2D"]:
            same = bool((g(x, y, backend=be) == ref).all())
            worst = max(worst, 0.0 if same else 2.0)
            print(dtype, name, be, "identical" if same else "FAIL")
print("quick check:", "PASS" if worst < 1 else "FAIL")
EOF
  if ! "$KS" run "$dir/check.ks"; then status=1; fi
  rm -rf "$dir"
}

# --- The conformance suite on the GPU backends. ---------------------------------------------
conformance() {
  local shared=""
  for d in ../shared shared; do
    if [ -x "$d/conformance/run" ]; then shared=$d; break; fi
  done
  if [ -z "$shared" ]; then
    section "conformance: shared/conformance not present, skipped (the quick check stands in)"
    return
  fi
  for be in ${GPU_CHECK_BACKENDS:-GPU GPU_2D}; do
    section "conformance --backend $be"
    if ! python3 "$shared/conformance/run" --ks "$KS" --backend "$be"; then status=1; fi
  done
}

# --- The Gaussian-sum benchmark. ------------------------------------------------------------
bench() {
  section "benchmark: Exp(-SqDist(x,y))*b, D=3, M=N"
  if "$KS" bench --gpu 2>/dev/null; then return; fi
  # Without `ks bench --gpu` in this build: time scripts, (R+1 calls - 1 call) / R per call.
  echo "(ks bench --gpu is not in this build: timing ks scripts instead; times include the copies)"
  local dir reps=3
  dir=$(mktemp -d)
  for n in 10000 100000 1000000; do
    for dtype in float32 float64; do
      for be in GPU_1D GPU_2D; do
        for calls in 1 $((reps + 1)); do
          cat >"$dir/b$calls.ks" <<EOF
import numpy as np
np.random.seed(0)
x = np.random.rand($n, 3).astype("$dtype")
y = np.random.rand($n, 3).astype("$dtype")
b = np.random.rand($n, 1).astype("$dtype")
g = Genred("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], axis=1)
for r in range($calls):
    out = g(x, y, b, backend="$be")
EOF
        done
        "$KS" run "$dir/b1.ks" >/dev/null 2>&1  # compile once: the CUBIN cache is warm afterwards
        local t0 t1 t2
        t0=$(secs); "$KS" run "$dir/b1.ks" >/dev/null 2>"$dir/err" || { echo "N=$n $dtype $be failed: $(head -1 "$dir/err")"; status=1; continue; }
        t1=$(secs); "$KS" run "$dir/b$((reps + 1)).ks" >/dev/null 2>"$dir/err" || { echo "N=$n $dtype $be failed: $(head -1 "$dir/err")"; status=1; continue; }
        t2=$(secs)
        awk -v n="$n" -v d="$dtype" -v be="$be" -v a="$t0" -v b="$t1" -v c="$t2" -v r="$reps" 'BEGIN {
          t = ((c - b) - (b - a)) / r; if (t <= 0) t = 1e-9;
          printf "N=%-8d %-7s %-6s  %9.4f s/call  %.3e pairs/s\n", n, d, be, t, n * n / t }'
      done
    done
  done
  rm -rf "$dir"
}

case "$what" in
  quick) quick_check ;;
  conformance) conformance ;;
  bench) bench ;;
  all) quick_check; conformance; bench ;;
  *) echo "usage: scripts/gpu-check.sh [quick|conformance|bench|all]" >&2; exit 2 ;;
esac
section "gpu-check: $([ $status = 0 ] && echo PASS || echo FAIL)"
exit $status
