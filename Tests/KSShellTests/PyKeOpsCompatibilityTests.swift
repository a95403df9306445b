import KSDiagnostics
import KSShell
import ShellRuntime
import Testing

// ks-script versions of the checks in PyKeOps' own numpy tests (test_numpy.py,
// test_contiguous_numpy.py, test_lazytensor_gaussian_numpy_inplace.py), written from what those
// tests check. Each script asserts with `assert`, so a wrong number fails the script with an
// AssertionError naming the check.

/// Runs a script named `check.ks` in a fresh session.
private func run(_ text: String) -> ScriptRun { runScript(text, name: "check.ks") }

@Suite("PyKeOps' numpy tests, in ks")
struct PyKeOpsCompatibilityTests {
  /// The data of test_numpy.py: M=10, N=6, D=E=3, and batched arrays.
  static let setup = """
    import numpy as np
    import pykeops
    import pykeops.config
    from pykeops.numpy import Genred, LazyTensor
    from pykeops.numpy.utils import squared_distances, log_sum_exp
    np.random.seed(1234)
    A, B, M, N, D, E = 4, 6, 10, 6, 3, 3
    x = np.random.rand(M, D)
    a = np.random.rand(M, E)
    f = np.random.rand(M, 1)
    y = np.random.rand(N, D)
    b = np.random.rand(N, E)
    g = np.random.rand(N, 1)
    sigma = np.array([0.4])
    X = np.random.rand(A, 1, M, D)
    L = np.random.rand(1, B, M, 1)
    Y = np.random.rand(1, B, N, D)
    S = np.random.rand(A, B, 1) + 1
    backends = ["auto", "GPU_1D", "GPU_2D", "GPU"] if pykeops.config.gpu_available else ["auto"]
    aliases = ["p=Pm(0,1)", "a=Vj(1,1)", "x=Vi(2,3)", "y=Vj(3,3)"]

    """

  @Test func genericSyntaxSum() {
    let r = run(
      Self.setup + """
        for backend in backends:
            for t in ["float32", "float64"]:
                conv = Genred("Square(p-a)*Exp(x+y)", aliases, reduction_op="Sum", axis=1)
                ks = conv(sigma.astype(t), g.astype(t), x.astype(t), y.astype(t), backend=backend)
                ref = np.sum((sigma - g) ** 2 * np.exp(y.T[:, :, np.newaxis] + x.T[:, np.newaxis, :]), axis=1).T
                assert ks.shape == ref.shape, "shape"
                assert np.allclose(ks, ref, atol=1e-6), "sum " + t
                print("sum", t, "ok")
        """)
    #expect(r.errors == "")
    #expect(r.output == "sum float32 ok\nsum float64 ok\n")
  }

  @Test func genericSyntaxLogSumExpAndSoftMax() {
    let r = run(
      Self.setup + """
        def np_softmax(v, w):
            v = v - np.max(v, axis=1)[:, None]
            return np.exp(v) @ w / np.sum(np.exp(v), axis=1)[:, None]
        for backend in backends:
            for t in ["float32", "float64"]:
                lse = Genred("Square(p-a)*Exp(-SqNorm2(x-y))", aliases, reduction_op="LogSumExp", axis=1)
                ks = lse(sigma.astype(t), g.astype(t), x.astype(t), y.astype(t), backend=backend)
                ref = log_sum_exp((sigma - g.T) ** 2 * np.exp(-squared_distances(x, y)), axis=1)
                assert np.allclose(ks.ravel(), ref, atol=1e-6), "lse " + t
                sm = Genred("Square(p-a)*Exp(-SqNorm2(x-y))", aliases, reduction_op="SumSoftMaxWeight", axis=1, formula2="y")
                ks = sm(sigma.astype(t), g.astype(t), x.astype(t), y.astype(t), backend=backend)
                ref = np_softmax((sigma - g.T) ** 2 * np.exp(-squared_distances(x, y)), y)
                assert np.allclose(ks.ravel(), ref.ravel(), atol=1e-6), "softmax " + t
                print("lse and softmax", t, "ok")
        """)
    #expect(r.errors == "")
    #expect(r.output == "lse and softmax float32 ok\nlse and softmax float64 ok\n")
  }

  @Test func transposedInputsAndExplicitVarAndArgKMin() {
    let r = run(
      Self.setup + """
        t = "float32"
        routine = Genred("Square(p-a)*Exp(-SqNorm2(y-x))", aliases, reduction_op="Sum", axis=1)
        g1 = routine(sigma.astype(t), g.astype(t), x.astype(t), y.astype(t), backend="auto")
        y_t = np.ascontiguousarray(y.T).T
        g2 = routine(sigma.astype(t), g.astype(t), x.astype(t), y_t.astype(t))
        assert np.allclose(g1, g2), "transposed copy"
        conv = Genred("Square(p-Var(3,1,1))*Exp(-SqNorm2(y-x))", ["p=Pm(0,1)", "x=Vi(1,3)", "y=Vj(2,3)"], reduction_op="Sum", axis=1)
        ks = conv(sigma.astype(t), x.astype(t), y.astype(t), g.astype(t), backend="auto")
        ref = np.sum((sigma - g.T) ** 2 * np.exp(-squared_distances(x, y)), axis=1)
        assert np.allclose(ks.ravel(), ref, atol=1e-6), "Var(3,1,1)"
        knn = Genred("SqDist(x,y)", ["x = Vi(3)", "y = Vj(3)"], reduction_op="ArgKMin", axis=1, opt_arg=3)
        c = knn(x, y, backend="auto").astype(int)
        ref = np.argsort(np.sum((x[:, np.newaxis, :] - y[np.newaxis, :, :]) ** 2, axis=2), axis=1)[:, :3]
        assert np.allclose(c.ravel(), ref.ravel()), "argkmin"
        print("ok")
        """)
    #expect(r.errors == "")
    #expect(r.output == "ok\n")
  }

  /// test_formula_simplification: the second derivative of a formula linear in x is zero.
  @Test func secondDerivativeOfALinearFormulaIsZero() {
    let r = run(
      Self.setup + """
        t = "float32"
        conv = Genred("Grad(Grad(x + Var(1,3,1), x, Var(2,3,0)),x, Var(3,3,0))", ["x=Vi(0,3)"], reduction_op="Sum", axis=1)
        ks = conv(x.astype(t), y.astype(t), x.astype(t), x.astype(t), backend="auto")
        assert ks.shape == x.shape, "shape"
        assert np.allclose(ks, np.zeros_like(x), atol=1e-6), "zero"
        print("ok")
        """)
    #expect(r.errors == "")
    #expect(r.output == "ok\n")
  }

  @Test func lazyTensorSumWithTwoBatchDimensions() {
    let r = run(
      Self.setup + """
        for t in ["float32", "float64"]:
            results = []
            for use_keops in [True, False]:
                x_i = X.astype(t)[:, :, :, None, :]
                l_i = L.astype(t)[:, :, :, None, :]
                y_j = Y.astype(t)[:, :, None, :, :]
                s_p = S.astype(t)[:, :, None, None, :]
                if use_keops:
                    x_i, l_i, y_j, s_p = LazyTensor(x_i), LazyTensor(l_i), LazyTensor(y_j), LazyTensor(s_p)
                D_ij = ((l_i + x_i * y_j) ** 2 + s_p).sum(-1)
                K_ij = 1 / (1 + D_ij).exp() if use_keops else 1 / np.exp(1 + D_ij)
                a_i = K_ij.sum(3)
                if use_keops:
                    a_i = a_i.squeeze(-1)
                results.append(a_i)
            assert results[0].shape == results[1].shape == (A, B, M), "shape"
            assert np.allclose(results[0], results[1], atol=1e-3), "values " + t
            print(t, results[0].shape)
        """)
    #expect(r.errors == "")
    #expect(r.output == "float32 (4, 6, 10)\nfloat64 (4, 6, 10)\n")
  }

  /// test_contiguous_numpy.py: a batched LazyTensor gives the same product from a C-ordered array
  /// and from the same values reached through transposes.
  @Test func contiguousAndTransposedBatchedInputsAgree() {
    let r = run(
      """
      from pykeops.numpy import LazyTensor
      import numpy as np
      np.random.seed(7)
      a1 = np.random.rand(2, 1000, 5)
      a2 = np.ascontiguousarray(a1.transpose(2, 0, 1)).transpose(1, 2, 0)
      b = np.random.rand(2, 1000, 5)
      c = np.random.rand(2, 1000, 5)
      b_j = LazyTensor(b[:, None])
      d1 = LazyTensor(a1[:, :, None]).sqdist(b_j).exp() @ c
      d2 = LazyTensor(a2[:, :, None]).sqdist(b_j).exp() @ c
      dense = np.exp(((a1[:, :, None, :] - b[:, None, :, :]) ** 2).sum(-1)) @ c
      assert d1.shape == (2, 1000, 5)
      assert np.allclose(d2, d1)
      assert np.allclose(d1, dense, rtol=1e-10)
      print("ok")
      """)
    #expect(r.errors == "")
    #expect(r.output == "ok\n")
  }

  /// test_lazytensor_gaussian_numpy_inplace.py: `K.__matmul__(b, out=a)` against numpy.
  @Test func gaussianMatmulIntoAnOutputArray() {
    let r = run(
      """
      import math
      import numpy as np
      from pykeops.numpy import LazyTensor
      np.random.seed(3)
      M, N, D, DV = 3000, 2000, 3, 1
      dtype = np.float32
      x = np.random.rand(M, 1, D).astype(dtype) / math.sqrt(D)
      y = np.random.rand(1, N, D).astype(dtype) / math.sqrt(D)
      b = np.random.randn(N, DV).astype(dtype)
      a = np.zeros((M, DV), dtype=dtype)
      def fun(x, y, b, backend, out=None):
          if "keops" in backend:
              x = LazyTensor(x)
              y = LazyTensor(y)
          Dxy = (x - y).sum(axis=2)
          if backend == "keops":
              out = (-Dxy).exp().__matmul__(b, out=out)
          else:
              out = np.exp(-Dxy) @ b
          return out
      out = [fun(x, y, b, backend, out=a).squeeze() for backend in ["keops", "numpy"]]
      assert np.allclose(out[0], out[1])
      K = (-(LazyTensor(x) - LazyTensor(y)).sum(axis=2)).exp()
      r = K.sum(1, out=a)
      assert np.allclose(a, r)
      print("ok", out[0].shape, a.dtype)
      """)
    #expect(r.errors == "")
    #expect(r.output == "ok (3000,) float32\n")
  }
}

@Suite("LazyTensor")
struct LazyTensorTests {
  @Test func printsItsFormulaAndShape() {
    let r = run(
      """
      x = np.random.rand(100, 3)
      y = np.random.rand(200, 3)
      x_i = LazyTensor(x[:, None, :])
      y_j = LazyTensor(y[None, :, :])
      K = (-((x_i - y_j) ** 2).sum(-1)).exp()
      K
      print(K.shape, x_i.shape, (x_i | y_j).shape, x_i.T.shape, (2 * x_i + 1.5).ndim)
      """)
    #expect(r.errors == "")
    #expect(
      r.output == """
        KeOps LazyTensor
            formula: Exp(Minus(Sum(Square((Var(0,3,0) - Var(1,3,1))))))
            shape: (100, 200)
        (100, 200) (100, 1, 3) (100, 200) (1, 100, 3) 3

        """)
  }

  @Test func reductionsAgreeWithDenseNumpy() {
    let r = run(
      """
      from pykeops.numpy import LazyTensor, Vi, Vj, Pm
      np.random.seed(0)
      x = np.random.rand(50, 2)
      y = np.random.rand(80, 2)
      w = np.random.rand(80, 3)
      D = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
      D_ij = Vi(x).sqdist(Vj(y))
      assert np.allclose(D_ij.sum(axis=1)[:, 0], D.sum(1))
      assert np.allclose(D_ij.min(dim=0)[:, 0], D.min(0))
      assert (D_ij.argmin(axis=1)[:, 0] == D.argmin(1)).all()
      assert (D_ij.argKmin(4, dim=1) == np.argsort(D, axis=1)[:, :4]).all()
      vals, idx = D_ij.Kmin_argKmin(3, axis=1)
      assert np.allclose(vals, np.sort(D, axis=1)[:, :3]) and (idx == np.argsort(D, axis=1)[:, :3]).all()
      assert np.allclose((-D_ij).logsumexp(axis=1)[:, 0], np.log(np.exp(-D).sum(1)))
      soft = (-D_ij).sumsoftmaxweight(Vj(w), axis=1)
      assert np.allclose(soft, (np.exp(-D) @ w) / np.exp(-D).sum(1)[:, None])
      K = (-D_ij / Pm(np.array([0.5]))).exp()
      assert np.allclose(K @ w, np.exp(-D / 0.5) @ w)
      assert np.allclose(K.T @ np.ones(50), np.exp(-D / 0.5).T @ np.ones(50))
      assert np.allclose((Vi(x)[0] * Vj(y)[1]).sum(1)[:, 0], x[:, 0] * y[:, 1].sum())
      assert np.allclose(((Vi(x) - Vj(y)).abs().clamp(0.1, 0.5)).sum(-1).max(axis=1)[:, 0],
                         np.clip(np.abs(x[:, None, :] - y[None, :, :]), 0.1, 0.5).sum(-1).max(1))
      print("ok")
      """)
    #expect(r.errors == "")
    #expect(r.output == "ok\n")
  }

  @Test func solveAgreesWithADenseSolve() {
    let r = run(
      """
      np.random.seed(5)
      x = np.random.rand(300, 3)
      b = np.random.rand(300, 2)
      K = (-LazyTensor(x[:, None, :]).sqdist(LazyTensor(x[None, :, :])) * 4).exp()
      a = K.solve(b, alpha=0.5, eps=1e-10)
      dense = np.exp(-4 * ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)) + 0.5 * np.eye(300)
      assert np.allclose(a, np.linalg.solve(dense, b), atol=1e-8)
      v = K.solve(b[:, 0], alpha=0.5)
      print(a.shape, v.shape)
      """)
    #expect(r.errors == "", "\(r.errors)")
    #expect(r.output == "(300, 2) (300,)\n")
  }

  @Test func symbolicVariablesMakeACallableReduction() {
    let r = run(
      """
      from pykeops.numpy import Vi, Vj
      x_i = Vi(0, 3)
      y_j = Vj(1, 3)
      gauss = (-(x_i.sqdist(y_j))).exp().sum(axis=1)
      x = np.random.rand(20, 3)
      y = np.random.rand(30, 3)
      assert np.allclose(gauss(x, y)[:, 0], np.exp(-((x[:, None] - y[None]) ** 2).sum(-1)).sum(1))
      print("ok")
      """)
    #expect(r.errors == "")
    #expect(r.output == "ok\n")
  }

  @Test(arguments: [
    ("LazyTensor(np.ones((3, 2)))", "when 'x' is a 2D array, LazyTensor expects an explicit 'axis' value in {0,1}: LazyTensor(x, axis=0) or Vi(x)"),
    ("LazyTensor(np.ones((3, 2, 2)))", "if 'x' is a 3D+ array, its shape should be one of (..,M,1,D), (..,1,N,D) or (..,1,1,D); got (3, 2, 2)"),
    ("LazyTensor(np.ones((3, 1, 2))) + LazyTensor(np.ones((1, 4, 3)))", "operation + expects inputs of the same dimension or dimension 1; received 2 and 3"),
    ("LazyTensor(np.ones((3, 1, 2))) - LazyTensor(np.ones((4, 1, 2)))", "incompatible LazyTensor sizes: M = 3 and 4 (the operands index different numbers of points)"),
    ("LazyTensor(np.ones((3, 1, 2), dtype=np.float32)) * LazyTensor(np.ones((1, 4, 2)))", "incompatible LazyTensor dtypes: float32 and float64; KeOps does not convert types, make both arrays the same dtype"),
    ("LazyTensor(np.ones((3, 1, 2))).sum(axis=4)", "reductions must be called with 'axis' (or 'dim') equal to 0 (over i) or 1 (over j); got 4"),
    ("LazyTensor(np.ones((3, 1, 2)))[5]", "index i=5 is out of bounds [0,D) = [0,2)"),
    ("LazyTensor(np.ones((3, 1, 2), dtype=np.int64))", "LazyTensor needs a float16, float32, float64, complex64 or complex128 array, not int64; convert it with .astype(np.float32) or .astype(np.float64)"),
    ("LazyTensor(np.ones((3, 1, 2))) @ np.ones(3)", "the 'K @ v' syntax is only supported for LazyTensors K whose trailing dimension is 1; here K.shape = (3, 1, 2)"),
  ])
  func badLazyTensorsGiveOneClearError(_ statement: String, _ message: String) {
    let r = run(statement + "\n")
    #expect(r.status == 1)
    #expect(r.errors.contains("error: " + message + "\n"), "\(r.errors)")
  }
}
