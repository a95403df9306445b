import KSDiagnostics
import KSShell
import ShellRuntime
import Testing

/// Runs a script named `complex.ks` in a fresh session.
private func run(_ text: String) -> ScriptRun { runScript(text, name: "complex.ks") }

/// ComplexLazyTensor: PyKeOps' test_complex_numpy.py in ks, and more complex LazyTensor
/// reductions checked against the same computation done densely in numpy.
@Suite("Complex LazyTensors")
struct ComplexLazyTensorTests {
  /// test_complex_numpy.py: the same computation, LazyTensor against numpy.
  @Test func pykeopsTestComplexNumpy() {
    let r = run(
      """
      import numpy as np
      from pykeops.numpy import LazyTensor, ComplexLazyTensor

      M, N, D = 1000, 1000, 3

      dtype = "float32"

      np.random.seed(0)
      x = np.random.rand(M, 1, D).astype(dtype) + 1j * np.random.rand(M, 1, D).astype(dtype)
      y = np.random.rand(1, N, D).astype(dtype) + 1j * np.random.rand(1, N, D).astype(dtype)


      def fun(x, y, backend):
          if backend == "keops":
              x = LazyTensor(x)
              y = LazyTensor(y)
          Kxy = ((x * y) * y.real + x + x.real).sum(axis=2)
          return Kxy.sum(axis=0)


      out = []
      for backend in ["numpy", "keops"]:
          out.append(fun(x, y, backend).squeeze())


      def test_complex_numpy():
          assert np.allclose(out[0], out[1])

      test_complex_numpy()
      assert out[1].dtype == np.complex64 and out[1].shape == (N,), (out[1].dtype, out[1].shape)
      print("ok")
      """)
    #expect(r.errors == "")
    #expect(r.output == "ok\n")
  }

  /// Complex LazyTensors become PyKeOps' formulas, with its shapes and dtypes.
  @Test func formulasShapesAndTypes() {
    let r = run(
      """
      import numpy as np
      from pykeops.numpy import LazyTensor, ComplexLazyTensor, Vi, Vj
      x = np.ones((5, 1, 3)) + 2j
      y = np.ones((1, 4, 3), dtype=np.float32) * (1 - 1j)
      X = LazyTensor(x)
      print(type(X).__name__ if False else X.dtype, X.shape, X.formula)
      print(Vj(y[0]).shape, Vj(y[0]).dtype, Vi(np.ones((5, 1)) * 1j).shape)
      R = LazyTensor(np.ones((1, 4, 1)))
      print((X * R).formula)
      print((R * X).formula)
      print((X * LazyTensor(np.ones((1, 4, 3)))).formula)
      print((X + 1).formula, (X - 1j).formula)
      print((2 / X).formula)
      print(X.real.formula, X.imag.formula, X.conj().formula, X.angle().formula, abs(X).formula, X.exp().formula)
      print(R.exp1j().formula, R.real2complex().formula, R.imag2complex().formula, X.sum(axis=2).formula, X.sum(-1).shape)
      print((X ** 3).formula)
      print(ComplexLazyTensor(np.ones((2, 1, 2))).dtype, LazyTensor(np.ones((1, 2, 2)), is_complex=True).dtype)
      print(ComplexLazyTensor)
      """)
    #expect(r.errors == "")
    #expect(
      r.output == """
        complex128 (5, 1, 3) Var(0,6,0)
        (1, 4, 3) complex64 (5, 1)
        ComplexRealScal(Var(0,1,1),Var(1,6,0))
        ComplexRealScal(Var(0,1,1),Var(1,6,0))
        ComplexMult(Var(0,6,0),Real2Complex(Var(1,3,1)))
        ComplexAdd(Var(0,6,0),Real2Complex(IntCst(1))) ComplexSubtract(Var(0,6,0),Var(1,2,2))
        ComplexDivide(Real2Complex(IntCst(2)),Var(0,6,0))
        ComplexReal(Var(0,6,0)) ComplexImag(Var(0,6,0)) Conj(Var(0,6,0)) ComplexAngle(Var(0,6,0)) ComplexAbs(Var(0,6,0)) ComplexExp(Var(0,6,0))
        ComplexExp1j(Var(0,1,1)) Real2Complex(Var(0,1,1)) Imag2Complex(Var(0,1,1)) ComplexSum(Var(0,6,0)) (5, 1)
        ComplexMult(Var(0,6,0),ComplexMult(Var(0,6,0),Var(0,6,0)))
        complex128 complex128
        <class 'pykeops.numpy.ComplexLazyTensor'>

        """)
  }

  /// Reductions of complex formulas agree with numpy's dense computation, in float32 and
  /// float64, on the reference and CPU engines, over i and over j.
  @Test func reductionsAgreeWithDenseNumpy() {
    let r = run(
      """
      import numpy as np
      from pykeops.numpy import LazyTensor
      np.random.seed(7)
      M, N, D = 40, 30, 2
      for t, c, tol in [("float32", np.complex64, 1e-4), ("float64", np.complex128, 1e-10)]:
          x = (np.random.randn(M, 1, D) + 1j * np.random.randn(M, 1, D)).astype(c)
          y = (np.random.randn(1, N, D) + 1j * np.random.randn(1, N, D)).astype(c)
          w = np.random.rand(1, N, 1).astype(t)
          s = np.random.randn(1, N, D).astype(t)
          for backend in ["reference", "CPU"]:
              X, Y, W, S = LazyTensor(x), LazyTensor(y), LazyTensor(w), LazyTensor(s)
              checks = [
                  ("product", (X * Y).sum(axis=1, backend=backend), (x * y).sum(axis=1)),
                  ("quotient", (X / Y).sum(axis=0, backend=backend), (x / y).sum(axis=0)),
                  ("difference", (X - Y.conj()).sum(axis=1, backend=backend), (x - np.conj(y)).sum(axis=1)),
                  ("exp", (X * Y).exp().sum(axis=1, backend=backend), np.exp(x * y).sum(axis=1)),
                  ("real scale", (W * X).sum(axis=1, backend=backend), (w * x).sum(axis=1)),
                  ("real vector", (X * S + S).sum(axis=1, backend=backend), (x * s + s).sum(axis=1)),
                  ("scalar", ((2 - 0.5j) * X + 1j * Y).sum(axis=1, backend=backend), ((2 - 0.5j) * x + 1j * y).sum(axis=1)),
                  ("kernel", ((X - Y) * (X - Y).conj()).real.exp1j().sum(axis=1, backend=backend), np.exp(1j * np.abs(x - y) ** 2).sum(axis=1)),
                  ("abs", abs(X - Y).sum(axis=1, backend=backend), np.abs(x - y).sum(axis=1)),
                  ("angle", (X * Y).angle().sum(axis=0, backend=backend), np.angle(x * y).sum(axis=0)),
                  ("parts", (X.imag * Y.real).sum(axis=1, backend=backend), (x.imag * y.real).sum(axis=1)),
                  ("vector sum", ((X * Y).sum(axis=2) * W).sum(axis=1, backend=backend), ((x * y).sum(axis=2)[:, :, None] * w).sum(axis=1)),
                  ("imag2complex", (S.imag2complex() * X).sum(axis=1, backend=backend), (1j * s * x).sum(axis=1)),
                  ("power", (X ** 2 - Y).sum(axis=1, backend=backend), (x ** 2 - y).sum(axis=1)),
              ]
              for name, ks, ref in checks:
                  assert ks.shape == ref.shape, (name, ks.shape, ref.shape)
                  assert ks.dtype == ref.dtype, (name, ks.dtype, ref.dtype)
                  assert np.allclose(ks, ref, rtol=tol, atol=tol), (name, t, backend)
      print("ok")
      """)
    #expect(r.errors == "")
    #expect(r.output == "ok\n")
  }

  @Test(arguments: [
    ("LazyTensor(np.ones((3, 1, 2)) * 1j).min(axis=0)", "the min reduction is not available for complex LazyTensors (only sum); reduce .real, .imag or abs(...) instead"),
    ("LazyTensor(np.ones((3, 1, 2)) * 1j).logsumexp(axis=0)", "the logsumexp reduction is not available for complex LazyTensors (only sum); reduce .real, .imag or abs(...) instead"),
    ("LazyTensor(np.ones((3, 1, 2)) * 1j).sqrt()", "'sqrt' is not available for complex LazyTensors (they have real, imag, conj(), angle(), abs, exp(), sum() and +, -, *, /)"),
    ("LazyTensor(np.ones((3, 1, 2)) * 1j).exp1j()", "exp1j cannot be applied to a complex LazyTensor."),
    ("LazyTensor(np.ones((3, 1, 2)) * 1j) ** 0.5", "complex LazyTensors support only positive integer powers (z ** n), not 0.5"),
    ("LazyTensor(np.ones((3, 1, 2)) * 1j) < 1", "complex LazyTensors cannot be compared with <"),
    ("LazyTensor(np.ones((3, 1, 2)) * 1j) + LazyTensor(np.ones((1, 4, 3)) * 1j)", "complex operation + expects operands with the same number of complex entries, or one complex scalar; received 2 and 3"),
    ("LazyTensor(np.ones((3, 1, 2)) * 1j)[0]", "indexing a complex LazyTensor is not supported (KeOps has no complex Elem)"),
  ])
  func badComplexLazyTensorsGiveOneClearError(_ statement: String, _ message: String) {
    let r = run("import numpy as np\nfrom pykeops.numpy import LazyTensor\n" + statement + "\n")
    #expect(r.status == 1)
    #expect(r.errors.contains("error: " + message + "\n"), "\(r.errors)")
  }
}
