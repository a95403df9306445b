import KSDiagnostics
import KSShell
import ShellRuntime
import Testing

/// Runs a script named `check.ks` in a fresh session.
private func run(_ text: String) -> ScriptRun { runScript(text, name: "check.ks") }

/// Symbolic derivatives from the shell: Genred with Grad (PyKeOps' test_formula_simplification and
/// a gradient against dense numpy) and LazyTensor.grad. Each script asserts its checks.
@Suite struct DerivativeScriptTests {
  static let setup = """
    import numpy as np
    np.random.seed(7)
    M, N = 9, 11
    x = np.random.rand(M, 3)
    y = np.random.rand(N, 3)
    b = np.random.rand(N, 1)
    e = np.random.rand(M, 1)

    """

  @Test func formulaSimplificationGivesZeros() {
    let r = run(
      Self.setup + """
        formula = "Grad(Grad(x + Var(1,3,1), x, Var(2,3,0)), x, Var(3,3,0))"
        for backend in ["reference", "CPU"]:
            res = Genred(formula, ["x = Vi(0, 3)"], reduction_op="Sum", axis=1)(x, y, x, x, backend=backend)
            assert res.shape == (M, 3), res.shape
            assert np.all(res == 0), res
        print("ok")
        """)
    #expect(r.status == 0, "\(r.errors)")
    #expect(r.output == "ok\n")
  }

  @Test func gaussianGradientAgreesWithDenseNumpy() {
    let r = run(
      Self.setup + """
        aliases = ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)", "e = Vi(1)"]
        d = x[:, None, :] - y[None, :, :]
        k = np.exp(-(d ** 2).sum(-1))
        dense_x = -2 * e * (k[:, :, None] * b[None, :, :] * d).sum(1)
        dense_y = 2 * ((e * k)[:, :, None] * b[None, :, :] * d).sum(0)
        for backend in ["reference", "CPU"]:
            gx = Genred("Grad(Exp(-SqDist(x,y))*b, x, e)", aliases, reduction_op="Sum", axis=1)(x, y, b, e, backend=backend)
            gy = Genred("Grad(Exp(-SqDist(x,y))*b, y, e)", aliases, reduction_op="Sum", axis=0)(x, y, b, e, backend=backend)
            assert np.allclose(gx, dense_x, rtol=1e-12, atol=1e-14), np.abs(gx - dense_x).max()
            assert np.allclose(gy, dense_y, rtol=1e-12, atol=1e-14), np.abs(gy - dense_y).max()
        print("ok")
        """)
    #expect(r.status == 0, "\(r.errors)")
    #expect(r.output == "ok\n")
  }

  @Test func lazyTensorGradIsTheGradFormula() {
    let r = run(
      Self.setup + """
        from pykeops.numpy import LazyTensor
        xi, yj, bj, ei = LazyTensor(x[:, None, :]), LazyTensor(y[None, :, :]), LazyTensor(b[None, :, :]), LazyTensor(e[:, None, :])
        K = (-((xi - yj) ** 2).sum(-1)).exp() * bj
        G = K.grad(xi, ei)
        assert G.ndim == 3
        g = G.sum(axis=1)
        ref = Genred("Grad(Exp(-SqDist(x,y))*b, x, e)", ["x = Vi(3)", "y = Vj(3)", "b = Vj(1)", "e = Vi(1)"], reduction_op="Sum", axis=1)(x, y, b, e)
        assert np.allclose(g, ref, rtol=1e-13), np.abs(g - ref).max()
        print("ok")
        """)
    #expect(r.status == 0, "\(r.errors)")
    #expect(r.output == "ok\n")
  }

  @Test func errorsPointIntoTheFormula() {
    let r = run(
      Self.setup + """
        Genred("Grad(Exp(-SqDist(x,y)), z, e)", ["x = Vi(3)", "y = Vj(3)", "z = Vj(3)", "e = Vi(1)"], reduction_op="Sum", axis=1)
        """)
    #expect(r.status != 0)
    #expect(r.errors.contains("Grad is taken with respect to 'z', which does not appear in the formula"), "\(r.errors)")
    #expect(r.errors.contains("^"), "\(r.errors)")
  }
}
