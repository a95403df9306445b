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

# The reduction workloads of `ks bench` (CPUBenchmark.reductionWorkloads): float32, M = N = size,
# standard normal points (D = 64 scaled by sqrt(3/64)), Genred's defaults.
A3, A64 = ["x = Vi(3)", "y = Vj(3)"], ["x = Vi(64)", "y = Vj(64)"]
WORKLOADS = {
    "min3": dict(formula="SqDist(x,y)", aliases=A3, red="Min", size=30000),
    "knn3": dict(formula="SqDist(x,y)", aliases=A3, red="ArgKMin", opt_arg=10, size=30000),
    "knn64": dict(formula="SqDist(x,y)", aliases=A64, red="ArgKMin", opt_arg=10, size=20000, scale=(3 / 64) ** 0.5),
    "lse3": dict(formula="-SqDist(x,y)", aliases=A3, red="LogSumExp", size=30000),
    "ssmw3": dict(formula="-SqDist(x,y)", aliases=A3 + ["b = Vj(1)"], red="SumSoftMaxWeight", formula2="b", size=30000),
    "gauss3": dict(formula="Exp(-SqDist(x,y)/2)*b", aliases=A3 + ["b = Vj(1)"], red="Sum", size=30000),
    "gauss64": dict(formula="Exp(-SqDist(x,y)/2)*b", aliases=A64 + ["b = Vj(1)"], red="Sum", size=20000, scale=(3 / 64) ** 0.5),
    "rows100": dict(formula="Exp(-SqDist(x,y)/2)*b", aliases=A3 + ["b = Vj(1)"], red="Sum", size=1000000, rows=100),
    "laplace3": dict(formula="Exp(-Sqrt(SqDist(x,y)))*b", aliases=A3 + ["b = Vj(1)"], red="Sum", size=30000),
    "cauchy3": dict(formula="Inv(IntCst(1)+SqDist(x,y))*b", aliases=A3 + ["b = Vj(1)"], red="Sum", size=30000),
}

def workload(key, repeats):
    w = WORKLOADS[key]
    rng = np.random.default_rng(1)
    n = w["size"]
    args = []
    m = w.get("rows", n)
    for al in w["aliases"]:
        d = int(al.split("(")[1].rstrip(")"))
        a = rng.standard_normal((m if "Vi" in al else n, d))
        if not al.startswith("b"):
            a = a * w.get("scale", 1.0)
        args.append(a.astype("float32"))
    kw = dict(reduction_op=w["red"], axis=1)
    if "opt_arg" in w: kw["opt_arg"] = w["opt_arg"]
    if "formula2" in w: kw["formula2"] = w["formula2"]
    op = Genred(w["formula"], w["aliases"], **kw)
    op(*[a[:64] for a in args], backend="CPU")
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); op(*args, backend="CPU"); times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"workload {key} median {med:.6f} s  {m * n / med:9.3g} pairs/s", flush=True)

ap = argparse.ArgumentParser()
ap.add_argument("--sizes", type=int, nargs="*", default=[10000, 100000])
ap.add_argument("--repeats", type=int, default=1)
ap.add_argument("--workload", action="append", default=[], help="time only this reduction workload (repeatable)")
a = ap.parse_args()
if a.workload:
    for key in a.workload:
        workload(key, a.repeats)
    raise SystemExit(0)
for n in a.sizes:
    for dt in ["float32", "float64"]:
        case("Exp(-SqDist(x,y))*b", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)"], n, n, [3, 3, 1], dt, a.repeats)
