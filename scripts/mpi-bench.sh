#!/usr/bin/env bash
# 1 process against mpirun -np 2 (and more: scripts/mpi-bench.sh KS 2 4) on this machine, side by
# side: the Gaussian Genred at N = 10^5 and a plain-CG KernelSolve at N = 10^4 (scripts/mpi-bench.ks).
# The checksums must agree (bitwise: the same digits).
set -euo pipefail
cd "$(dirname "$0")/.."
ks=$(realpath "${1:-.build/release/ks}")
shift || true
counts=("${@:-2}")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %s\n' "ranks" "result"
"$ks" run scripts/mpi-bench.ks 2>&1 | sed 's/^/1        /'
for n in "${counts[@]}"; do
  mpirun --oversubscribe -np "$n" "$ks" run scripts/mpi-bench.ks 2>&1 | sed "s/^/$n        /"
done
