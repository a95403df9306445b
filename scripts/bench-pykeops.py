#!/usr/bin/env python3
"""Times PyKeOps 2.3 (CPU backend) on the cases of `ks bench`, for side-by-side ratios.

Run it with a Python that has pykeops installed (a scratch venv; never the project's tests):
    python3 -m venv /tmp/keops-venv && /tmp/keops-venv/bin/pip install pykeops==2.3 numpy
    /tmp/keops-venv/bin/python scripts/bench-pykeops.py [--sizes 10000 100000] [--repeats 3]
Prints the first-call time (code generation + compilation) and the median of later calls.
"""
import argparse, statistics, time
import numpy as np
from pykeops.numpy import Genred

def case(formula, aliases, M, N, dims, dtype, repeats):
    rng = np.random.default_rng(0)
    args = []
    for a, d in zip(aliases, dims):
        rows = M if "Vi" in a else N
        args.append(rng.random((rows, d)).astype(dtype))
    op = Genred(formula, aliases, reduction_op="Sum", axis=1)
    t0 = time.perf_counter(); op(*args, backend="CPU"); first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); op(*args, backend="CPU"); times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"{formula:28s} D={dims[0]:<3d} M=N={M:<7d} {dtype:8s} first {first:7.2f} s  median {med:8.3f} s  {M*N/med:9.3g} pairs/s", flush=True)

ap = argparse.ArgumentParser()
ap.add_argument("--sizes", type=int, nargs="*", default=[10000, 100000])
ap.add_argument("--repeats", type=int, default=1)
a = ap.parse_args()
for n in a.sizes:
    for dt in ["float32", "float64"]:
        case("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], n, n, [3, 3, 1], dt, a.repeats)
