#!/usr/bin/env python3
"""Turns the conformance cases into self-checking ks scripts for the GPU machine.

  make-gpu-cases.py RUNNER OUT          (RUNNER: shared/conformance/run; its cases/ are read)

The GPU machine has no Swift toolchain and maybe no numpy: each case becomes a folder
OUT/<name>/ with its input arrays (generated ones materialized here, as the runner does, and
stored once in OUT/_data/), the expected arrays, and case.ks, which runs the case's statements exactly as RUNNER writes them,
with backend="@BACKEND@" (scripts/gpu-check.sh substitutes GPU_1D or GPU_2D), then compares the
outputs with the expectations as RUNNER does (shape, dtype, then exact / allclose / solve) and
raises an AssertionError naming the case and the first difference, so `ks run` exits 1.
"""
import hashlib, importlib.machinery, importlib.util, json, os, shutil, sys

CHECK = '''
def ks_case_check(k, o, e, check, rtol, atol):
    label = ("output %d: " % k) if ks_case_outputs > 1 else ""
    if o.shape != e.shape:
        return label + "shape %s, expected %s" % (o.shape, e.shape)
    if o.dtype != e.dtype:
        return label + "dtype %s, expected %s" % (o.dtype, e.dtype)
    o = o.astype("float64").ravel()
    e = e.astype("float64").ravel()
    if check == "exact":
        bad = np.nonzero(o != e)[0]
        if len(bad) == 0:
            return None
        i = int(bad[0])
        return label + "%d entries differ, first at %d: %r vs %r" % (len(bad), i, float(o[i]), float(e[i]))
    if check == "solve":
        rel = float(np.linalg.norm(o - e)) / max(float(np.linalg.norm(e)), 1e-300)
        return None if rel <= rtol else label + "relative error to the exact solution %.3g > %.3g" % (rel, rtol)
    if not bool(np.all(np.isfinite(o) == np.isfinite(e))):
        return label + "non-finite entries differ"
    ok = np.isclose(o, e, rtol=rtol, atol=atol, equal_nan=True)
    if bool(ok.all()):
        return None
    bad = np.nonzero(~ok)[0]
    i = int(bad[0])
    return label + "%d entries off (rtol %g, atol %g), first at %d: %r vs %r" % (len(bad), rtol, atol, i, float(o[i]), float(e[i]))

for ks_k in range(ks_case_outputs):
    ks_err = ks_case_check(ks_k, ks_outs[ks_k], load(ks_expected[ks_k]), ks_check, ks_rtol, ks_atol)
    if ks_err is not None:
        raise AssertionError(ks_case_name + " (@BACKEND@): " + ks_err)
print("PASS", ks_case_name)
'''


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    runner, out = sys.argv[1], sys.argv[2]
    loader = importlib.machinery.SourceFileLoader("ks_conformance_run", runner)
    spec = importlib.util.spec_from_loader("ks_conformance_run", loader)
    run = importlib.util.module_from_spec(spec)
    loader.exec_module(run)
    cases = os.path.join(os.path.dirname(os.path.abspath(runner)), "cases")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    count = 0
    for name in sorted(os.listdir(cases)):
        folder = os.path.join(cases, name)
        if not os.path.exists(os.path.join(folder, "case.json")):
            continue
        case = json.load(open(os.path.join(folder, "case.json")))
        dest = os.path.join(out, case["name"])
        os.makedirs(dest)
        args = []
        for spec, path in zip(case["args"], run.materialize(case, folder, dest)):
            if isinstance(spec, str):
                shutil.copy(path, os.path.join(dest, spec))
                args.append(spec)
            else:
                # Generated arrays go to _data/, once per content (cases share seeds and shapes).
                digest = hashlib.sha256(open(path, "rb").read()).hexdigest()[:16]
                os.makedirs(os.path.join(out, "_data"), exist_ok=True)
                shared = os.path.join(out, "_data", digest + ".npy")
                if os.path.exists(shared):
                    os.remove(path)
                else:
                    os.replace(path, shared)
                args.append("../_data/" + digest + ".npy")
        for e in case["expected"]:
            shutil.copy(os.path.join(folder, e), os.path.join(dest, e))
        outs = ["out%d.npy" % k for k in range(len(case["expected"]))]
        lines = run.script_for(case, args, outs, "@BACKEND@").splitlines()
        body = [l for l in lines if not l.startswith("save(")]
        n = len(case["expected"])
        text = "\n".join(["import numpy as np"] + body) + "\n"
        text += "ks_outs = [out]\n" if n == 1 else "ks_outs = [out[%s]]\n" % "], out[".join(str(k) for k in range(n))
        text += "ks_case_name = %s\n" % json.dumps(case["name"])
        text += "ks_case_outputs = %d\n" % n
        text += "ks_expected = %s\n" % json.dumps(list(case["expected"]))
        text += "ks_check = %s\n" % json.dumps(case["check"])
        text += "ks_rtol = %r\n" % float(case.get("rtol") or 0.0)
        text += "ks_atol = %r\n" % float(case.get("atol") or 0.0)
        text += CHECK
        open(os.path.join(dest, "case.ks"), "w").write(text)
        count += 1
    print("%d conformance cases written to %s" % (count, out))


if __name__ == "__main__":
    main()
