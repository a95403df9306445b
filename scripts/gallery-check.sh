#!/usr/bin/env bash
# Runs KeOps' numpy gallery examples and tutorials in ks as they are written, matplotlib lines
# included (ks has a matplotlib.pyplot subset): the scripts come from the pykeops 2.3 source
# package on PyPI (nothing of KeOps is kept in this repository) and run with `ks run`. Their
# plt.show() calls print a line saying where to save (stdout is not a terminal here).
#
#   scripts/gallery-check.sh [--strip-plotting] [path/to/ks]
#
# --strip-plotting first removes the matplotlib lines with scripts/strip-plotting.py (what a user
# had to do before ks could plot).
#
# Every example must exit 0, except the parts listed in KNOWN below (with the reason); a listed
# example that starts to pass is reported too, so the list stays true. Exit code: 0 when all is
# as expected, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
strip=0
if [ "${1:-}" = "--strip-plotting" ]; then
  strip=1
  shift
fi
KS=${1:-.build/release/ks}
KS=$(cd "$(dirname "$KS")" && pwd)/$(basename "$KS")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! python3 -m pip download --quiet --no-deps --no-binary :all: -d "$work" pykeops==2.3 >/dev/null 2>&1; then
  echo "gallery-check: could not download pykeops 2.3 from PyPI" >&2
  exit 1
fi
tar xzf "$work"/pykeops-2.3.tar.gz -C "$work"
src="$work/pykeops-2.3/pykeops"

# Examples that cannot run yet, and why (docs/gallery.md says the same).
declare -A KNOWN=(
  [plot_test_invkernel_numpy_helper]="its numpy comparison builds the system with scipy.sparse.diags"
  [plot_scipy]="wraps a LazyTensor in scipy.sparse.linalg.aslinearoperator and eigsh"
)

pass=0
fail=0
for f in "$src"/examples/numpy/*.py "$src"/tutorials/{interpolation,kmeans,knn}/*numpy*.py "$src"/tutorials/backends/plot_scipy.py; do
  [ -f "$f" ] || continue
  name=$(basename "$f" .py)
  if [ $strip = 1 ]; then
    python3 scripts/strip-plotting.py "$f" > "$work/$name.py"
  else
    cp "$f" "$work/$name.py"
  fi
  start=$(date +%s)
  (cd "$work" && timeout 900 "$KS" run --quiet-values "$name.py" > "$work/$name.out" 2>&1)
  rc=$?
  seconds=$(($(date +%s) - start))
  if [ -n "${KNOWN[$name]:-}" ]; then
    if [ $rc -eq 0 ]; then
      echo "UNEXPECTED PASS $name (${seconds} s): remove it from KNOWN in $0"
      fail=$((fail + 1))
    else
      echo "known     $name: ${KNOWN[$name]}"
    fi
  elif [ $rc -eq 0 ]; then
    echo "ok        $name (${seconds} s)"
    pass=$((pass + 1))
  else
    echo "FAILED    $name (exit $rc):"
    grep -m 3 -A 3 "error" "$work/$name.out" | sed 's/^/    /'
    fail=$((fail + 1))
  fi
done
echo "gallery ($([ $strip = 1 ] && echo "plotting stripped" || echo "plotting kept")): $pass passed, $fail failed"
[ $fail -eq 0 ]
